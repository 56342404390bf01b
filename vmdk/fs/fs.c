/*
 * fs.c - the OS layer's filesystem helpers: whole-file reads, exclusive
 * creation, atomic replacement, hole-preserving copies, path arithmetic,
 * staging folders.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/os.h"
#include "descriptor/private.h"

#define COPY_BLOCK (1024u * 1024u)
/* The unit in which a plain copy looks for zeros to leave as holes: the
 * block size of most filesystems. */
#define HOLE_PIECE 4096u

desc_status fs_error(desc_error *err, int errnum, const char *path,
		     const char *what)
{
	desc_status code;

	switch (errnum) {
	case ENOENT:
		code = DESC_E_NOT_FOUND;
		break;
	case EEXIST:
		code = DESC_E_EXISTS;
		break;
	case ENOMEM:
		code = DESC_E_NOMEM;
		break;
	default:
		code = DESC_E_IO;
		break;
	}
	desc_error_set(err, code, "", 0, "%s '%s': %s", what,
		       path ? path : "", strerror(errnum));
	if (err != NULL)
		err->errnum = errnum;
	return code;
}

int fs_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = fp_write(fd, (const char *)buf + done, len - done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

int fs_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = fp_pwrite(fd, (const char *)buf + done, len - done,
				   (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

desc_status fs_read_file(const char *path, size_t cap, char **out, size_t *len,
			 desc_error *err)
{
	desc_status rc = DESC_OK;
	struct stat st;
	char *buf = NULL;
	size_t size = 0, alloc, limit;
	int fd;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fs_error(err, errno, path, "cannot open");
	if (fstat(fd, &st) < 0) {
		rc = fs_error(err, errno, path, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = desc_error_set(err, DESC_E_FORMAT, "", 0,
				    "'%s' is not a regular file", path);
		goto out;
	}
	/* Read one byte past the cap to tell "exactly cap" from "more";
	 * st_size is only a hint (the file may grow while we read). */
	limit = cap < SIZE_MAX - 2 ? cap + 2 : SIZE_MAX;
	alloc = 4096;
	if (st.st_size > 0 && (uint64_t)st.st_size < limit - 2)
		alloc = (size_t)st.st_size + 2;
	if (alloc > limit)
		alloc = limit;
	buf = vk_malloc(alloc);
	if (buf == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (size + 1 >= alloc) {
			size_t want = alloc > limit / 2 ? limit : alloc * 2;
			char *nbuf = vk_reallocarray(buf, want, 1);

			if (nbuf == NULL) {
				rc = vk_nomem(err);
				goto out;
			}
			buf = nbuf;
			alloc = want;
		}
		n = read(fd, buf + size, alloc - 1 - size);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = fs_error(err, errno, path, "cannot read");
			goto out;
		}
		if (n == 0)
			break;
		size += (size_t)n;
		if (size > cap) {
			rc = desc_error_set(err, DESC_E_TOO_LARGE, "", 0,
					    "file '%s' is larger than %zu bytes",
					    path, cap);
			goto out;
		}
	}
	buf[size] = '\0';
	*out = buf;
	buf = NULL;
	if (len != NULL)
		*len = size;
out:
	vk_free(buf);
	close(fd);
	return rc;
}

desc_status fs_write_new(const char *path, const void *buf, size_t len,
			 mode_t mode, bool sync, desc_error *err)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  mode);
	if (fd < 0)
		return fs_error(err, errno, path, "cannot create");
	if (fs_write_full(fd, buf, len) < 0) {
		fs_error(err, errno, path, "cannot write");
		goto fail;
	}
	if (sync && fp_fsync(fd) < 0) {
		fs_error(err, errno, path, "cannot sync");
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		fs_error(err, errno, path, "cannot close");
		goto fail;
	}
	return DESC_OK;
fail:
	if (fd >= 0)
		close(fd);
	fp_unlink(path);
	return err != NULL ? err->code : DESC_E_IO;
}

desc_status fs_replace(const char *path, const void *buf, size_t len,
		       desc_error *err)
{
	desc_status rc = DESC_OK;
	struct stat st;
	char *dir = NULL, *base = NULL, *tmp = NULL;
	int fd = -1;

	if (lstat(path, &st) < 0)
		return fs_error(err, errno, path, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return desc_error_set(err, DESC_E_REFUSED, "", 0,
				      "refusing to replace '%s': not a regular file",
				      path);
	dir = fs_dirname(path);
	base = fs_basename(path);
	if (dir == NULL || base == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	/* A killed earlier run's temporary files here are debris. */
	rc = fs_temp_cleanup(dir, NULL, err);
	if (rc != DESC_OK)
		goto out;
	/* The pid tells the next run's cleanup whether its owner lives. */
	tmp = vk_asprintf("%s/.%s.vmdkit-new-%ld-XXXXXX", dir, base,
			  (long)getpid());
	if (tmp == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = fs_error(err, errno, tmp, "cannot create");
		vk_free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, st.st_mode & 07777) < 0) {
		rc = fs_error(err, errno, tmp, "cannot set mode of");
		goto out;
	}
	if (fs_write_full(fd, buf, len) < 0) {
		rc = fs_error(err, errno, tmp, "cannot write");
		goto out;
	}
	if (fp_fsync(fd) < 0) {
		rc = fs_error(err, errno, tmp, "cannot sync");
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = fs_error(err, errno, tmp, "cannot close");
		goto out;
	}
	fd = -1;
	if (fp_rename(tmp, path) < 0) {
		rc = fs_error(err, errno, path, "cannot rename over");
		goto out;
	}
	vk_free(tmp);
	tmp = NULL;
	/* The new content is in place (and fsynced): a failing folder sync
	 * now must not read as "not replaced", or callers roll back around
	 * a file that already changed (promote left a .vmx naming a disk it
	 * had removed).  A lasting I/O error shows at the next sync. */
	{
		desc_error ignored;

		(void)fs_sync_dir(dir, &ignored);
	}
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		fp_unlink(tmp);
	vk_free(tmp);
	vk_free(dir);
	vk_free(base);
	return rc;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* Writes block[0..n) at off to fd but its all-zero HOLE_PIECEs, which
 * stay holes of the destination (already extended); runs of non-zero
 * pieces are written at once.  0 or -1. */
static int write_nonzero(int fd, const unsigned char *block, size_t n,
			 off_t off)
{
	size_t i = 0, start;

	while (i < n) {
		while (i < n && all_zero(block + i, n - i < HOLE_PIECE ?
						     n - i : HOLE_PIECE))
			i += HOLE_PIECE;
		start = i;
		while (i < n && !all_zero(block + i, n - i < HOLE_PIECE ?
						      n - i : HOLE_PIECE))
			i += HOLE_PIECE;
		if (i > n)
			i = n;
		if (i > start && fs_pwrite_full(fd, block + start, i - start,
					     (uint64_t)off + start) < 0)
			return -1;
	}
	return 0;
}

/* Copies [off, off+len) with pread/pwrite, leaving zero pieces as holes
 * (the destination was already extended with ftruncate). */
static desc_status copy_plain(int in, int outfd, off_t off, off_t len,
			      unsigned char *block, const char *src,
			      const char *dst, desc_error *err)
{
	while (len > 0) {
		size_t want = len > (off_t)COPY_BLOCK ? COPY_BLOCK : (size_t)len;
		ssize_t n = pread(in, block, want, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return fs_error(err, errno, src, "cannot read");
		}
		if (n == 0)
			return desc_error_set(err, DESC_E_IO, "", 0,
					      "file '%s' shrank while copying",
					      src);
		if (write_nonzero(outfd, block, (size_t)n, off) < 0)
			return fs_error(err, errno, dst, "cannot write");
		off += n;
		len -= n;
	}
	return DESC_OK;
}

/* Copies one data segment; *use_cfr is cleared when the kernel or the
 * filesystem pair cannot do copy_file_range, so later segments go plain. */
static desc_status copy_segment(int in, int outfd, off_t off, off_t len,
				bool *use_cfr, unsigned char **block,
				const char *src, const char *dst,
				desc_error *err)
{
	while (len > 0 && *use_cfr) {
		size_t want = len > (off_t)(1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = os_copy_range(in, off, outfd, off, want);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSYS || errno == EXDEV ||
			    errno == EINVAL || errno == EOPNOTSUPP ||
			    errno == EBADF) {
				*use_cfr = false;
				break;
			}
			return fs_error(err, errno, dst, "cannot copy to");
		}
		if (n == 0)
			return desc_error_set(err, DESC_E_IO, "", 0,
					      "file '%s' shrank while copying",
					      src);
		off += n;
		len -= n;
	}
	if (len == 0)
		return DESC_OK;
	if (*block == NULL) {
		*block = vk_malloc(COPY_BLOCK);
		if (*block == NULL)
			return vk_nomem(err);
	}
	return copy_plain(in, outfd, off, len, *block, src, dst, err);
}

desc_status fs_copy_file(const char *src, const char *dst, mode_t mode,
			 desc_error *err)
{
	desc_status rc = DESC_OK;
	unsigned char *block = NULL;
	bool use_cfr = true, created = false;
	struct stat st;
	off_t pos, size;
	int in, outfd = -1;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return fs_error(err, errno, src, "cannot open");
	if (fstat(in, &st) < 0) {
		rc = fs_error(err, errno, src, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = desc_error_set(err, DESC_E_FORMAT, "", 0,
				    "'%s' is not a regular file", src);
		goto out;
	}
	size = st.st_size;
	outfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     mode);
	if (outfd < 0) {
		rc = fs_error(err, errno, dst, "cannot create");
		goto out;
	}
	created = true;
	/* A reflink shares the blocks: instant, and holes stay holes. */
	if (os_clone_file(outfd, in) == 0)
		goto sync;
	if (fp_ftruncate(outfd, size) < 0) {
		rc = fs_error(err, errno, dst, "cannot extend");
		goto out;
	}
	pos = 0;
	while (pos < size) {
		off_t data, hole;

		if (os_next_data(in, pos, &data, &hole) < 0) {
			if (errno == ENXIO)
				break; /* only a hole remains */
			if (errno != EINVAL && errno != ENOSYS) {
				rc = fs_error(err, errno, src, "cannot seek in");
				goto out;
			}
			/* No SEEK_DATA here: treat the rest as data (copy_plain
			 * still leaves zero pieces as holes). */
			data = pos;
			hole = size;
		}
		if (hole < 0 || hole > size)
			hole = size;
		if (data >= size)
			break;
		rc = copy_segment(in, outfd, data, hole - data, &use_cfr,
				  &block, src, dst, err);
		if (rc != DESC_OK)
			goto out;
		pos = hole;
	}
sync:
	if (fp_fsync(outfd) < 0) {
		rc = fs_error(err, errno, dst, "cannot sync");
		goto out;
	}
	if (close(outfd) < 0) {
		outfd = -1;
		rc = fs_error(err, errno, dst, "cannot close");
		goto out;
	}
	outfd = -1;
out:
	if (outfd >= 0)
		close(outfd);
	if (rc != DESC_OK && created)
		fp_unlink(dst);
	close(in);
	vk_free(block);
	return rc;
}

/* Length of path without trailing slashes (but keeping a lone "/"). */
static size_t trimmed_len(const char *path)
{
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	return n;
}

char *fs_dirname(const char *path)
{
	size_t n = trimmed_len(path);

	while (n > 0 && path[n - 1] != '/')
		n--;
	if (n == 0)
		return vk_strdup(".");
	while (n > 1 && path[n - 1] == '/')
		n--;
	return vk_strndup(path, n);
}

char *fs_basename(const char *path)
{
	size_t end = trimmed_len(path), start = end;

	if (end == 1 && path[0] == '/')
		return vk_strdup("/");
	while (start > 0 && path[start - 1] != '/')
		start--;
	return vk_strndup(path + start, end - start);
}

char *fs_join(const char *dir, const char *name)
{
	size_t n;

	/* "./name" says nothing more than "name". */
	if (name[0] == '/' || dir == NULL || dir[0] == '\0' ||
	    strcmp(dir, ".") == 0)
		return vk_strdup(name);
	n = strlen(dir);
	if (dir[n - 1] == '/')
		return vk_asprintf("%s%s", dir, name);
	return vk_asprintf("%s/%s", dir, name);
}

/* Folds "." and ".." in an absolute path, in place.  The output never
 * overtakes the input: each output "/seg" comes from at least "/seg". */
static void normalise(char *path)
{
	const char *src = path;
	size_t out = 0;

	while (*src != '\0') {
		const char *seg;
		size_t len;

		while (*src == '/')
			src++;
		if (*src == '\0')
			break;
		seg = src;
		while (*src != '\0' && *src != '/')
			src++;
		len = (size_t)(src - seg);
		if (len == 1 && seg[0] == '.')
			continue;
		if (len == 2 && seg[0] == '.' && seg[1] == '.') {
			while (out > 0 && path[out - 1] != '/')
				out--;
			if (out > 0)
				out--;
			continue;
		}
		path[out++] = '/';
		memmove(path + out, seg, len);
		out += len;
	}
	if (out == 0)
		path[out++] = '/';
	path[out] = '\0';
}

char *fs_absolute(const char *path)
{
	char *res;

	if (path[0] == '/') {
		res = vk_strdup(path);
	} else {
		char *cwd = getcwd(NULL, 0);

		if (cwd == NULL)
			return NULL;
		res = vk_asprintf("%s/%s", cwd, path);
		free(cwd); /* allocated by libc */
	}
	if (res != NULL)
		normalise(res);
	return res;
}

char *fs_relative(const char *from_dir, const char *to_path)
{
	char *from = fs_absolute(from_dir), *to = fs_absolute(to_path);
	char *res = NULL, *p;
	size_t common = 0, i, ups = 0, need;
	const char *rest;

	if (from == NULL || to == NULL)
		goto out;
	/* Longest common prefix ending at a segment boundary. */
	for (i = 0;; i++) {
		bool fend = from[i] == '\0' || from[i] == '/';
		bool tend = to[i] == '\0' || to[i] == '/';

		if (fend && tend)
			common = i;
		if (from[i] != to[i] || from[i] == '\0')
			break;
	}
	/* Each '/' left in `from` starts one more segment to climb out of. */
	for (i = common; from[i] != '\0'; i++)
		if (from[i] == '/' && from[i + 1] != '\0')
			ups++;
	rest = to + common;
	while (*rest == '/')
		rest++;
	need = ups * 3 + strlen(rest) + 2;
	res = vk_malloc(need);
	if (res == NULL)
		goto out;
	p = res;
	for (i = 0; i < ups; i++) {
		memcpy(p, "../", 3);
		p += 3;
	}
	memcpy(p, rest, strlen(rest) + 1);
	p += strlen(rest);
	if (p == res) {
		res[0] = '.';
		res[1] = '\0';
	} else if (p[-1] == '/') {
		p[-1] = '\0'; /* "../" alone: the parent folder itself */
	}
out:
	vk_free(from);
	vk_free(to);
	return res;
}

bool fs_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

desc_status fs_opendir(const char *dir, DIR **out, desc_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return fs_error(err, errno, dir, "cannot open folder");
	*out = fdopendir(fd);
	if (*out == NULL) {
		desc_status rc = fs_error(err, errno, dir, "cannot read folder");

		close(fd);
		return rc;
	}
	return DESC_OK;
}

/* Empties the folder open as dirfd (which it takes over) recursively. */
static desc_status remove_contents(int dirfd, const char *path,
				   desc_error *err)
{
	desc_status rc = DESC_OK;
	struct dirent *de;
	DIR *d;

	d = fdopendir(dirfd);
	if (d == NULL) {
		rc = fs_error(err, errno, path, "cannot read folder");
		close(dirfd);
		return rc;
	}
	for (;;) {
		struct stat st;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = fs_error(err, errno, path,
					      "cannot read folder");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = fs_error(err, errno, de->d_name, "cannot stat");
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			char *sub = fs_join(path, de->d_name);
			int fd;

			if (sub == NULL) {
				rc = vk_nomem(err);
				break;
			}
			fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY |
				    O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0) {
				rc = fs_error(err, errno, sub, "cannot open");
				vk_free(sub);
				break;
			}
			rc = remove_contents(fd, sub, err);
			if (rc == DESC_OK &&
			    fp_unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
				rc = fs_error(err, errno, sub, "cannot remove");
			vk_free(sub);
			if (rc != DESC_OK)
				break;
			/* The listing changed under readdir: restart. */
			rewinddir(d);
		} else if (fp_unlinkat(dirfd, de->d_name, 0) < 0) {
			rc = fs_error(err, errno, de->d_name, "cannot remove");
			break;
		}
	}
	closedir(d);
	return rc;
}

desc_status fs_remove_tree(const char *path, desc_error *err)
{
	struct stat st;
	desc_status rc;
	int fd;

	if (lstat(path, &st) < 0)
		return fs_error(err, errno, path, "cannot stat");
	if (!S_ISDIR(st.st_mode)) {
		if (fp_unlink(path) < 0)
			return fs_error(err, errno, path, "cannot remove");
		return DESC_OK;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fs_error(err, errno, path, "cannot open");
	rc = remove_contents(fd, path, err);
	if (rc != DESC_OK)
		return rc;
	if (fp_rmdir(path) < 0)
		return fs_error(err, errno, path, "cannot remove");
	return DESC_OK;
}

desc_status fs_sync_dir(const char *dir, desc_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fs_error(err, errno, dir, "cannot open folder");
	/* Some filesystems cannot sync folders; that is not our failure. */
	if (fp_fsync(fd) < 0 && errno != EINVAL && errno != EROFS) {
		int e = errno;

		close(fd);
		return fs_error(err, e, dir, "cannot sync folder");
	}
	close(fd);
	return DESC_OK;
}

static _Thread_local unsigned sync_deferred;

void fs_sync_defer(bool on)
{
	if (on)
		sync_deferred++;
	else if (sync_deferred > 0)
		sync_deferred--;
}

bool fs_sync_wanted(void)
{
	return sync_deferred == 0;
}

/* An error about `name` in folder `path`, naming both when it can. */
static desc_status entry_error(desc_error *err, int errnum, const char *path,
			       const char *name, const char *what)
{
	char *full = fs_join(path, name);
	desc_status rc = fs_error(err, errnum, full ? full : name, what);

	vk_free(full);
	return rc;
}

/* fs_sync_fs without syncfs: an fsync of every regular file and folder
 * in the folder open as dirfd (which it takes over), each folder after
 * what it holds.  Symlinks are not followed, other filesystems (st_dev
 * other than dev) not entered, and what vanishes meanwhile or cannot be
 * opened for reading (so was not written by us) is skipped.  As in
 * fs_sync_dir, EINVAL and EROFS from fsync mean nothing to write. */
static desc_status sync_tree(int dirfd, const char *path, dev_t dev,
			     desc_error *err)
{
	desc_status rc = DESC_OK;
	struct dirent *de;
	DIR *d;

	d = fdopendir(dirfd);
	if (d == NULL) {
		rc = fs_error(err, errno, path, "cannot read folder");
		close(dirfd);
		return rc;
	}
	while (rc == DESC_OK) {
		struct stat st;
		int fd;

		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0)
				rc = fs_error(err, errno, path,
					      "cannot read folder");
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = entry_error(err, errno, path, de->d_name,
						 "cannot stat");
			continue;
		}
		if (st.st_dev != dev ||
		    (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)))
			continue;
		/* O_NONBLOCK: never hang on a FIFO put there meanwhile. */
		fd = openat(dirfd, de->d_name,
			    O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC |
			    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0) {
			if (errno != ENOENT && errno != EACCES &&
			    errno != ELOOP && errno != ENOTDIR)
				rc = entry_error(err, errno, path, de->d_name,
						 "cannot open");
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			char *sub = fs_join(path, de->d_name);

			if (sub == NULL) {
				close(fd);
				rc = vk_nomem(err);
				break;
			}
			rc = sync_tree(fd, sub, dev, err);
			vk_free(sub);
			continue;
		}
		if (fp_fsync(fd) < 0 && errno != EINVAL && errno != EROFS)
			rc = entry_error(err, errno, path, de->d_name,
					 "cannot sync");
		close(fd);
	}
	if (rc == DESC_OK && fp_fsync(dirfd) < 0 && errno != EINVAL &&
	    errno != EROFS)
		rc = fs_error(err, errno, path, "cannot sync folder");
	closedir(d);
	return rc;
}

desc_status fs_sync_fs(const char *dir, desc_error *err)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return fs_error(err, errno, dir, "cannot open folder");
	if (os_sync_fs(fd) == 0) {
		close(fd);
		return DESC_OK;
	}
	if (errno != ENOSYS) {
		int e = errno;

		close(fd);
		return fs_error(err, e, dir, "cannot sync the filesystem of");
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;

		close(fd);
		return fs_error(err, e, dir, "cannot stat");
	}
	return sync_tree(fd, dir, st.st_dev, err);
}

desc_status fs_rename_noreplace(const char *from, const char *to,
				desc_error *err)
{
	struct stat st;

	if (os_rename_noreplace(from, to) == 0)
		return DESC_OK;
	if (errno != ENOSYS && errno != EINVAL)
		return fs_error(err, errno, to, "cannot rename to");
	/* No atomic no-replace: check, then rename().  Not link() and
	 * unlink(), which never replace but leave both names after a crash
	 * between them, and callers need a rename to happen all or not at
	 * all.  The window between check and rename is in fs.h. */
	if (lstat(from, &st) < 0)
		return fs_error(err, errno, from, "cannot stat");
	if (lstat(to, &st) == 0)
		return fs_error(err, EEXIST, to, "cannot rename to");
	if (fp_rename(from, to) < 0)
		/* a non-empty folder at `to` */
		return fs_error(err, errno == ENOTEMPTY ? EEXIST : errno, to,
				"cannot rename to");
	return DESC_OK;
}

desc_status fs_random(void *buf, size_t n, desc_error *err)
{
	static const char device[] = "/dev/urandom";
	size_t done = 0;
	int fd;

	if (os_random(buf, n) == 0)
		return DESC_OK;
	if (errno != ENOSYS)
		return fs_error(err, errno, "getrandom",
				"cannot read random bytes from");
	fd = open(device, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fs_error(err, errno, device, "cannot open");
	while (done < n) {
		ssize_t r = read(fd, (char *)buf + done, n - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;

			close(fd);
			return fs_error(err, e, device,
					"cannot read random bytes from");
		}
		done += (size_t)r;
	}
	close(fd);
	return DESC_OK;
}

desc_status fs_pread_full(int fd, void *buf, size_t len, uint64_t off,
			  size_t *got, const char *name, desc_error *err)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			*got = done;
			return fs_error(err, errno, name, "cannot read");
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	*got = done;
	return DESC_OK;
}

desc_status fs_pread_exact(int fd, void *buf, size_t len, uint64_t off,
			   const char *name, const char *what, desc_error *err)
{
	size_t got;
	desc_status st = fs_pread_full(fd, buf, len, off, &got, name, err);

	if (st == DESC_OK && got < len)
		return desc_error_set(err, DESC_E_FORMAT, name ? name : "", 0,
				      "file ends inside the %s (at byte %" PRIu64 ")",
				      what, off + got);
	return st;
}

desc_status fs_pread_zero(int fd, void *buf, size_t len, uint64_t off,
			  const char *name, desc_error *err)
{
	size_t got;
	desc_status st = fs_pread_full(fd, buf, len, off, &got, name, err);

	if (st == DESC_OK && got < len)
		memset((char *)buf + got, 0, len - got);
	return st;
}
