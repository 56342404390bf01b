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
#include <string.h>
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

#ifdef HAVE_PROC_STAT
/* Reads the small file path into buf (NUL-terminated): its length, or
 * -1.  Not fs_read_file: fs.c calls into this file, and /proc files are
 * read into the caller's buffer without an allocation. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len + 1 >= size) {
		errno = ERANGE;
		return -1;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}
#endif

int os_process_start(unsigned long long pid, char *buf, size_t size)
{
#ifdef HAVE_PROC_STAT
	char path[64], boot[256], stat[4096];
	const char *p, *start;
	ssize_t len;
	size_t field;
	int n;

	snprintf(path, sizeof(path), "/proc/%llu/stat", pid);
	len = read_small("/proc/sys/kernel/random/boot_id", boot, sizeof(boot));
	if (len < 0 || read_small(path, stat, sizeof(stat)) < 0)
		return -1;
	while (len > 0 && (boot[len - 1] == '\n' || boot[len - 1] == ' '))
		boot[--len] = '\0';
	/* The command name may hold spaces and ')': fields count from the
	 * last ')'.  starttime is field 22; field 3 follows ") ". */
	p = strrchr(stat, ')');
	if (p == NULL) {
		errno = EINVAL;
		return -1;
	}
	p++;
	for (field = 2; field < 22 && *p != '\0'; field++) {
		while (*p == ' ')
			p++;
		if (field == 21)
			break;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	start = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p == start) {
		errno = EINVAL;
		return -1;
	}
	n = snprintf(buf, size, "%s:%.*s", boot, (int)(p - start), start);
	if (n < 0 || (size_t)n >= size) {
		errno = ERANGE;
		return -1;
	}
	return 0;
#else
	(void)pid;
	(void)buf;
	(void)size;
	return NO_FAST_PATH();
#endif
}
