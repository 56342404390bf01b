/*
 * failpoint.c - VMDKIT_FAILPOINT failure injection (see failpoint.h).
 *
 * The variable is read once, by a constructor, so the wrappers cost one
 * branch on a static flag.  Printing the counts at exit is the only output
 * of the library, and only when a test asked for it with "list".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/fs/failpoint.h"
#include "descriptor/private.h"

static const char *const kind_names[FP_KINDS] = {
	[FP_WRITE] = "write",
	[FP_RENAME] = "rename",
	[FP_FSYNC] = "fsync",
	[FP_MKDIR] = "mkdir",
	[FP_UNLINK] = "unlink",
};

static bool fp_active;      /* counting at all */
static bool fp_list;        /* print counts at exit */
static int fp_kind_set = -1; /* kind that fails; FP_KINDS = any */
static bool fp_kill;        /* kill:N: SIGKILL ourselves instead of failing */
static unsigned long fp_at; /* which call of that kind fails */
static unsigned long fp_count[FP_KINDS + 1];

static void print_counts(void)
{
	unsigned long any = 0;
	int k;

	for (k = 0; k < FP_KINDS; k++)
		any += fp_count[k];
	fprintf(stderr, "vmdkit-failpoints:");
	for (k = 0; k < FP_KINDS; k++)
		fprintf(stderr, " %s=%lu", kind_names[k], fp_count[k]);
	fprintf(stderr, " any=%lu alloc=%lu\n", any,
		desc_test_fail_allocation(0));
}

/* Bounded decimal, no atoi (banned.h). */
static bool parse_count(const char *s, unsigned long *out)
{
	uint64_t v;

	if (!desc_parse_number_all(s, strlen(s), 10, ULONG_MAX, &v))
		return false;
	*out = (unsigned long)v;
	return v > 0;
}

__attribute__((constructor)) static void fp_init(void)
{
	const char *spec = getenv("VMDKIT_FAILPOINT");
	const char *colon;
	unsigned long n;
	size_t klen;
	int k;

	if (spec == NULL || *spec == '\0')
		return;
	if (strcmp(spec, "list") == 0) {
		fp_active = fp_list = true;
		desc_test_fail_allocation(0);
		atexit(print_counts);
		return;
	}
	colon = strchr(spec, ':');
	if (colon == NULL || !parse_count(colon + 1, &n))
		goto bad;
	klen = (size_t)(colon - spec);
	if (klen == 5 && strncmp(spec, "alloc", 5) == 0) {
		desc_test_fail_allocation(n);
		return;
	}
	if (klen == 4 && strncmp(spec, "kill", 4) == 0) {
		fp_kill = true;
		k = FP_KINDS;
	} else if (klen == 3 && strncmp(spec, "any", 3) == 0)
		k = FP_KINDS;
	else
		for (k = 0; k < FP_KINDS; k++)
			if (strlen(kind_names[k]) == klen &&
			    strncmp(spec, kind_names[k], klen) == 0)
				break;
	if (k == FP_KINDS && !fp_kill &&
	    !(klen == 3 && strncmp(spec, "any", 3) == 0))
		goto bad;
	fp_active = true;
	fp_kind_set = k;
	fp_at = n;
	return;
bad:
	/* A test that misspells its failpoint must not pass silently. */
	fprintf(stderr, "VMDKIT_FAILPOINT='%s': expected KIND:N (KIND write, rename, fsync, mkdir, unlink, alloc, any, kill; N >= 1) or list\n",
		spec);
	abort();
}

bool fp_fail(enum fp_kind kind)
{
	if (!fp_active)
		return false;
	fp_count[kind]++;
	fp_count[FP_KINDS]++;
	if (fp_list || fp_kind_set < 0)
		return false;
	if ((fp_kind_set == FP_KINDS && fp_count[FP_KINDS] == fp_at) ||
	    (fp_kind_set == (int)kind && fp_count[kind] == fp_at)) {
		/* A crash just before the operation: what kill -9 at a
		 * random moment may hit, enumerated. */
		if (fp_kill)
			kill(getpid(), SIGKILL);
		errno = EIO;
		return true;
	}
	return false;
}

ssize_t fp_write(int fd, const void *buf, size_t len)
{
	return fp_fail(FP_WRITE) ? -1 : write(fd, buf, len);
}

ssize_t fp_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return fp_fail(FP_WRITE) ? -1 : pwrite(fd, buf, len, off);
}

int fp_ftruncate(int fd, off_t len)
{
	return fp_fail(FP_WRITE) ? -1 : ftruncate(fd, len);
}

int fp_rename(const char *from, const char *to)
{
	return fp_fail(FP_RENAME) ? -1 : rename(from, to);
}

int fp_link(const char *from, const char *to)
{
	return fp_fail(FP_RENAME) ? -1 : link(from, to);
}

int fp_fsync(int fd)
{
	return fp_fail(FP_FSYNC) ? -1 : fsync(fd);
}

int fp_mkdir(const char *path, mode_t mode)
{
	return fp_fail(FP_MKDIR) ? -1 : mkdir(path, mode);
}

char *fp_mkdtemp(char *tmpl)
{
	return fp_fail(FP_MKDIR) ? NULL : mkdtemp(tmpl);
}

int fp_unlink(const char *path)
{
	return fp_fail(FP_UNLINK) ? -1 : unlink(path);
}

int fp_unlinkat(int dirfd, const char *path, int flags)
{
	return fp_fail(FP_UNLINK) ? -1 : unlinkat(dirfd, path, flags);
}

int fp_rmdir(const char *path)
{
	return fp_fail(FP_UNLINK) ? -1 : rmdir(path);
}
