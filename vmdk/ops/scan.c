/*
 * scan.c - the folder-scan helpers of scan.h (resolving names against a
 * descriptor, path containment, sets of files by inode, telling a
 * descriptor from a data extent), shared by check, dependents, relocate
 * and repair.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/ops/scan.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"


char *cm_resolve(const char *desc_path, const char *name)
{
	char *dir, *p;

	if (name[0] == '/')
		return vk_strdup(name);
	dir = fs_dirname(desc_path);
	if (dir == NULL)
		return NULL;
	p = fs_join(dir, name);
	vk_free(dir);
	return p;
}

bool cm_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(dir, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool cm_fileset_add_path(struct cm_fileset *set, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return true;
	if (cm_fileset_has_path(set, path))
		return true;
	if (set->count == set->capacity) {
		size_t cap = set->capacity ? set->capacity * 2 : 16;
		dev_t *d = vk_reallocarray(set->dev, cap, sizeof(*d));
		ino_t *i;

		if (d == NULL)
			return false;
		set->dev = d;
		i = vk_reallocarray(set->ino, cap, sizeof(*i));
		if (i == NULL)
			return false;
		set->ino = i;
		set->capacity = cap;
	}
	set->dev[set->count] = st.st_dev;
	set->ino[set->count] = st.st_ino;
	set->count++;
	return true;
}

bool cm_fileset_has_path(const struct cm_fileset *set, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	for (size_t i = 0; i < set->count; i++)
		if (set->dev[i] == st.st_dev && set->ino[i] == st.st_ino)
			return true;
	return false;
}

void cm_fileset_clear(struct cm_fileset *set)
{
	vk_free(set->dev);
	vk_free(set->ino);
	memset(set, 0, sizeof(*set));
}

bool cm_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

bool cm_looks_like_descriptor(const char *path)
{
	unsigned char buf[64];
	ssize_t got;
	size_t n, i = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return false;
	got = read(fd, buf, sizeof(buf));
	if (got >= 36 && memcmp(buf, "KDMV", 4) == 0) {
		uint64_t off = le64(buf + 28); /* descriptorOffset */

		/* qemu's -s00N extents of a split disk reserve an area but
		 * leave it empty: only text there makes a descriptor. */
		got = off != 0 && off < (UINT64_MAX >> 9) ?
			      pread(fd, buf, 1, (off_t)(off * 512)) : 0;
		close(fd);
		return got == 1 && (buf[0] == '#' ||
				    (buf[0] >= 'A' && buf[0] <= 'z'));
	}
	close(fd);
	if (got <= 0)
		return false;
	n = (size_t)got;
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	if (i >= n || !(buf[i] == '#' || (buf[i] >= 'A' && buf[i] <= 'z')))
		return false;
	for (; i < n; i++)
		if (buf[i] == '\0')
			return false;
	return true;
}
