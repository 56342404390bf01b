/*
 * os.h - the system calls of the OS layer that not every Unix has
 * (private, never installed).
 *
 * Each function is a fast path: the Linux call where configure found it,
 * else a stub that fails at once with errno ENOSYS and does nothing.  The
 * caller (fs.c, or a copy loop above it) then does the same work with
 * plain POSIX calls, code that is compiled and used in every build: on
 * Linux too, whenever the kernel or the filesystem refuses the fast path.
 * `./configure --disable-linux-apis` makes every function here the stub,
 * so the test suite can run the fallbacks on Linux.
 *
 * Like the fp_* wrappers, a fast path that is really called counts as a
 * failpoint of its kind (failpoint.h); a stub does not, since the fallback
 * that follows counts its own calls.
 */
#ifndef VMDKIT_OS_H
#define VMDKIT_OS_H

#include <stddef.h>
#include <sys/types.h>

/* Makes `out` share the blocks of `in` (FICLONE, a reflink); 0 or -1. */
int os_clone_file(int out, int in);

/* Copies up to len bytes from `in` at in_off to `out` at out_off inside
 * the kernel (copy_file_range): the bytes copied, 0 at the end of `in`,
 * or -1.  ENOSYS, EXDEV, EINVAL, EOPNOTSUPP, EBADF: copy with read and
 * write instead. */
ssize_t os_copy_range(int in, off_t in_off, int out, off_t out_off,
		      size_t len);

/* Where the first data at or after pos starts (lseek SEEK_DATA) and the
 * hole after it (SEEK_HOLE; -1 when the filesystem cannot tell): 0, or -1
 * with ENXIO when only a hole remains.  ENOSYS or EINVAL: the filesystem
 * cannot tell, so everything from pos on is data (and a copy finds the
 * holes by looking for zeros). */
int os_next_data(int fd, off_t pos, off_t *data, off_t *hole);

/* Renames `from` to `to`, failing with EEXIST when `to` exists, in one
 * atomic step (renameat2 RENAME_NOREPLACE).  ENOSYS or EINVAL (the
 * filesystem cannot): fs_rename_noreplace's link-based fallback. */
int os_rename_noreplace(const char *from, const char *to);

/* Writes out the whole filesystem holding the open file fd (syncfs). */
int os_sync_fs(int fd);

/* Fills buf with n random bytes from the kernel (getrandom); 0 or -1. */
int os_random(void *buf, size_t n);

/* Room for os_process_start's answer. */
#define OS_PROCESS_START_MAX 128

/* When process pid started, as "BOOTID:STARTTIME" (the boot it runs in
 * and its start time in clock ticks since that boot, from /proc), in
 * buf of size bytes: a pid reused by another process, or by one after a
 * reboot, gives another answer.  0, or -1: ENOSYS (the stub), or the
 * errno of reading /proc (ENOENT: no such process; ERANGE: buf too
 * small; EINVAL: a line /proc should not give).  The caller then knows
 * the pid alone.  Only reads, so it is no failpoint. */
int os_process_start(unsigned long long pid, char *buf, size_t size);

#endif
