/*
 * fs.h - the OS layer (vmdk/fs/): paths, exact reads, exclusive creation,
 * atomic replacement, hole-keeping copies, staging names, failpoints.
 *
 * Layer rule: vmdk/fs/ uses libc and descriptor/'s allocator and errors,
 * nothing else in vmdk/.  It is the only place that knows the operating
 * system; everything above calls these functions instead of the kernel's.
 * Only POSIX calls are made here; what Linux does faster (reflinks,
 * in-kernel copies, syncfs, ...) goes through os.h, whose fallbacks are
 * the POSIX code below.  Private, never installed.
 *
 * Paths are plain C strings; returned strings are vk_malloc'ed (vk_free).
 * Every creating call uses O_CREAT|O_EXCL|O_NOFOLLOW: it never replaces an
 * existing file and never writes through a symlink.
 */
#ifndef VMDKIT_FSUTIL_H
#define VMDKIT_FSUTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "descriptor/descriptor.h"

/* The reserved prefix of every temporary name vmdkit makes; the same
 * string as vmdk.h's public VMDK_STAGING_PREFIX (tests/check_disk.c
 * compares them), spelled here so this layer needs nothing above it. */
#define FS_STAGING_PREFIX ".vmdkit-tmp-"

/* Reads a whole regular file; more than `cap` bytes -> DESC_E_TOO_LARGE.
 * *out is NUL-terminated (not counted in *len). */
desc_status fs_read_file(const char *path, size_t cap, char **out, size_t *len,
			 desc_error *err);

/* Reads len bytes at byte offset off, retrying after EINTR and short
 * reads; stops early only at the end of the file.  *got = bytes read. */
desc_status fs_pread_full(int fd, void *buf, size_t len, uint64_t off,
			  size_t *got, const char *name, desc_error *err);
/* Exactly len bytes: a file that ends first is DESC_E_FORMAT "file ends
 * inside the WHAT (at byte N)". */
desc_status fs_pread_exact(int fd, void *buf, size_t len, uint64_t off,
			   const char *name, const char *what, desc_error *err);
/* Same, but what lies past the end of the file reads as zeros (flat
 * extents may be shorter than their extent line when made sparse). */
desc_status fs_pread_zero(int fd, void *buf, size_t len, uint64_t off,
			  const char *name, desc_error *err);

/* Writes all of buf at the file position (fs_write_full) or at byte off
 * (fs_pwrite_full), retrying after EINTR and short writes; 0, or -1 with
 * errno.  Each write counts as a failpoint (FP_WRITE). */
int fs_write_full(int fd, const void *buf, size_t len);
int fs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* Creates `path` (must not exist) with `mode`, writes buf, fsyncs when
 * `sync`; on any failure the partial file is removed. */
desc_status fs_write_new(const char *path, const void *buf, size_t len,
			 mode_t mode, bool sync, desc_error *err);

/* Replaces an existing file's content atomically: writes a temporary file
 * ".NAME.vmdkit-new-<pid>-XXXXXX" beside it (after removing the ones of
 * killed runs there: fs_temp_cleanup), fsyncs, renames over.  The mode of the old file is kept.
 * DESC_OK once renamed: a failing sync of the folder after that is not
 * reported (the file has changed; an error would invite a rollback). */
desc_status fs_replace(const char *path, const void *buf, size_t len,
		       desc_error *err);

/* Copies src to a new file dst (O_EXCL), preserving holes: a reflink
 * (os_clone_file) when the filesystem can, else an in-kernel copy
 * (os_copy_range) of the data segments os_next_data finds, else pread and
 * pwrite of them, leaving every all-zero 4 KiB piece as a hole; without
 * os_next_data the whole file is read.  On failure dst is removed. */
desc_status fs_copy_file(const char *src, const char *dst, mode_t mode,
			 desc_error *err);

/* String helpers (NULL on allocation failure). */
char *fs_dirname(const char *path);   /* "a/b" -> "a", "b" -> "." */
char *fs_basename(const char *path);  /* "a/b" -> "b" */
char *fs_join(const char *dir, const char *name); /* name absolute -> name */
/* Absolute, lexically normalised path ("." and ".." folded) of `path`
 * against the current directory; symlinks are not resolved. */
char *fs_absolute(const char *path);
/* Relative path from folder `from_dir` to `to_path` (both made absolute
 * with fs_absolute first). */
char *fs_relative(const char *from_dir, const char *to_path);

bool fs_exists(const char *path); /* lstat succeeds */

/* Creates a fresh staging folder beside `target` (same filesystem, so it
 * can be renamed into place): "<dirname>/.vmdkit-tmp-<basename>-<pid>-XXXXXX". */
/* Opens a folder for readdir (O_DIRECTORY, close-on-exec); "cannot open
 * folder" / "cannot read folder" errors name it. */
desc_status fs_opendir(const char *dir, DIR **out, desc_error *err);
desc_status fs_make_staging(const char *target, char **out, desc_error *err);

/* Same, for vmdk_base_make: "<dirname>/.vmdkit-tmp-<basename>-<pid>-undo-XXXXXX".
 * Such a folder holds the record that undoes what an unfinished base did
 * to its master, so only the base's own recovery may remove it. */
desc_status fs_make_staging_undo(const char *target, char **out,
				 desc_error *err);

/* True when cleanup must leave a staging folder (name without folder
 * part): it carries the pid of a live process (another run is still
 * filling it), or it is a base's (fs_make_staging_undo). */
bool fs_staging_in_use(const char *name);

/* "-PID" ends at name[end] (PID: 1 to 9 digits, not 0): *pid, and in
 * *head the length of what comes before that "-PID".  false (nothing
 * set) otherwise.  The one reader of the pid in every temporary name. */
bool fs_name_pid_before(const char *name, size_t end,
			unsigned long long *pid, size_t *head);

/* True when `name` ends in "-<pid>-XXXXXX" and that pid is not a live
 * process. */
bool fs_name_owner_dead(const char *name);

/* Parses a name ending in "-<pid>-XXXXXX" (fs_make_staging, relocate's
 * and fs_replace's temporaries) or "-<pid>-undo-XXXXXX"
 * (fs_make_staging_undo): *pid, *head = the length of what precedes
 * "-<pid>", *undo for the second form, *alive when that process lives.
 * false (nothing set) for any other name.  For reporting leftovers. */
bool fs_name_owner(const char *name, unsigned long long *pid, size_t *head,
		   bool *undo, bool *alive);

/* True when `name` is a fs_make_staging_undo folder name for a target
 * named `target_base` whose owner process is dead. */
bool fs_staging_undo_dead(const char *name, const char *target_base);

/* Removes, in `dir`, the temporary files of killed runs: regular files
 * (never symlinks) named exactly as relocate's "<prefix><name>-<pid>-XXXXXX"
 * or fs_replace's ".<name>.vmdkit-new-<pid>-XXXXXX" whose pid is not a
 * live process.  *removed (may be NULL) counts them. */
desc_status fs_temp_cleanup(const char *dir, size_t *removed, desc_error *err);

/* Removes, in `dir`, the staging folders (fs_make_staging) of killed
 * runs: real folders, never symlinks, named FS_STAGING_PREFIX... that
 * fs_staging_in_use does not keep (a live run's, a base's undo folder)
 * and that hold no transaction journal (FS_TXN_JOURNAL or FS_TXN_DONE,
 * txn.h: only fs_txn_recover may undo or remove those).  *removed (may
 * be NULL) counts them. */
desc_status fs_staging_cleanup(const char *dir, size_t *removed,
			       desc_error *err);

/* Removes a folder tree created by us (does not follow symlinks). */
desc_status fs_remove_tree(const char *path, desc_error *err);

/* fsync a folder (makes renames/creations in it durable). */
desc_status fs_sync_dir(const char *dir, desc_error *err);

/* Deferred syncs: between fs_sync_defer(true) and fs_sync_defer(false)
 * (per thread, nestable) the writers that fsync their own files and
 * folders (vmdk_delta_create's) skip it, because the caller (leaf
 * stamping) syncs the whole folder or filesystem once afterwards. */
void fs_sync_defer(bool on);
bool fs_sync_wanted(void);

/* Every file and folder under `dir` is on disk when it returns.  With
 * syncfs (os_sync_fs) the whole filesystem holding `dir` is written out:
 * one journal commit instead of one per file.  Else each regular file and
 * folder of the tree is fsynced (same filesystem only, symlinks not
 * followed): the same guarantee for the tree, one fsync per file. */
desc_status fs_sync_fs(const char *dir, desc_error *err);

/* Renames `from` to `to`; fails with DESC_E_EXISTS if `to` exists.  One
 * atomic step where the system and filesystem can (os_rename_noreplace).
 * Else rename() after checking that nothing is at `to`: still atomic (a
 * crash leaves one of the two names), but what another process creates
 * at `to` between the check and the rename is replaced if it is a file
 * or an empty folder (rename() fails on a non-empty folder). */
desc_status fs_rename_noreplace(const char *from, const char *to,
				desc_error *err);

/* Fills buf with n cryptographically random bytes: os_random (getrandom),
 * else read from /dev/urandom. */
desc_status fs_random(void *buf, size_t n, desc_error *err);

/* Sets an errno-carrying error: "<what> '<path>': strerror(errno)". */
desc_status fs_error(desc_error *err, int errnum, const char *path,
		     const char *what);

#endif
