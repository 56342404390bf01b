/*
 * failpoint.h - failure injection for the filesystem calls of vmdk/
 * (private, never installed).
 *
 * Every write, rename, fsync, mkdir and unlink the library makes goes
 * through an fp_* wrapper.  They are compiled in always and cost one
 * branch: they do nothing unless the environment variable
 * VMDKIT_FAILPOINT was set when the program started:
 *
 *   VMDKIT_FAILPOINT=KIND:N   the Nth call of KIND fails (errno EIO; ENOMEM
 *                             for alloc); KIND is write, rename, fsync,
 *                             mkdir, unlink, alloc, or any (the Nth of
 *                             write, rename, fsync, mkdir, unlink together)
 *   VMDKIT_FAILPOINT=kill:N   SIGKILL the process just before the Nth of
 *                             those calls (a crash, enumerated)
 *   VMDKIT_FAILPOINT=list     count the calls and print them to stderr at
 *                             exit, one line:
 *                             "vmdkit-failpoints: write=W rename=R fsync=F
 *                             mkdir=M unlink=U any=A alloc=L"
 *
 * so that a test can run a command once with "list", then once for every
 * 1..N of every kind.  "write" covers write, pwrite, ftruncate and the
 * fast paths os_copy_range and os_clone_file (os.h); "rename" also covers
 * link and os_rename_noreplace; "fsync" also covers os_sync_fs; "unlink"
 * also covers unlinkat and rmdir; "mkdir" covers mkdtemp.  alloc uses
 * desc_test_fail_allocation.
 */
#ifndef VMDKIT_FAILPOINT_H
#define VMDKIT_FAILPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum fp_kind {
	FP_WRITE,
	FP_RENAME,
	FP_FSYNC,
	FP_MKDIR,
	FP_UNLINK,
	FP_KINDS
};

/* Counts one call of `kind`; true (errno set to EIO) when it must fail. */
bool fp_fail(enum fp_kind kind);

ssize_t fp_write(int fd, const void *buf, size_t len);
ssize_t fp_pwrite(int fd, const void *buf, size_t len, off_t off);
int fp_ftruncate(int fd, off_t len);
int fp_rename(const char *from, const char *to);
int fp_link(const char *from, const char *to);
int fp_fsync(int fd);
int fp_mkdir(const char *path, mode_t mode);
char *fp_mkdtemp(char *tmpl);
int fp_unlink(const char *path);
int fp_unlinkat(int dirfd, const char *path, int flags);
int fp_rmdir(const char *path);

#endif
