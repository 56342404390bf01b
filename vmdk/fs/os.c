/*
 * os.c - the fast paths of the OS layer (see os.h): the only file that
 * names a Linux header or a Linux-only call.  configure's HAVE_* macros
 * choose each one; without its macro a function is the ENOSYS stub and
 * its caller takes the POSIX way.  A port to another system adds its own
 * calls here (clonefile, renamex_np, ...) and nothing else changes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#ifdef HAVE_FICLONE
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/os.h"

/* The answer of every fast path this build does not have (a macro: a
 * static function would be unused in a build that has them all). */
#define NO_FAST_PATH() (errno = ENOSYS, -1)

int os_clone_file(int out, int in)
{
#ifdef HAVE_FICLONE
	return fp_fail(FP_WRITE) ? -1 : ioctl(out, FICLONE, in);
#else
	(void)out;
	(void)in;
	return NO_FAST_PATH();
#endif
}

ssize_t os_copy_range(int in, off_t in_off, int out, off_t out_off,
		      size_t len)
{
#ifdef HAVE_COPY_FILE_RANGE
	if (fp_fail(FP_WRITE))
		return -1;
	return copy_file_range(in, &in_off, out, &out_off, len, 0);
#else
	(void)in;
	(void)in_off;
	(void)out;
	(void)out_off;
	(void)len;
	return NO_FAST_PATH();
#endif
}

int os_next_data(int fd, off_t pos, off_t *data, off_t *hole)
{
#ifdef HAVE_SEEK_DATA
	*data = lseek(fd, pos, SEEK_DATA);
	if (*data < 0)
		return -1;
	*hole = lseek(fd, *data, SEEK_HOLE);
	return 0;
#else
	(void)fd;
	(void)pos;
	*data = *hole = -1;
	return NO_FAST_PATH();
#endif
}

int os_rename_noreplace(const char *from, const char *to)
{
#ifdef HAVE_RENAMEAT2
	if (fp_fail(FP_RENAME))
		return -1;
	return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
#else
	(void)from;
	(void)to;
	return NO_FAST_PATH();
#endif
}

int os_sync_fs(int fd)
{
#ifdef HAVE_SYNCFS
	return fp_fail(FP_FSYNC) ? -1 : syncfs(fd);
#else
	(void)fd;
	return NO_FAST_PATH();
#endif
}

int os_random(void *buf, size_t n)
{
#ifdef HAVE_GETRANDOM
	size_t done = 0;

	while (done < n) {
		ssize_t r = getrandom((char *)buf + done, n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
#else
	(void)buf;
	(void)n;
	return NO_FAST_PATH();
#endif
}
