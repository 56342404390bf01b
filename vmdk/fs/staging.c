/*
 * staging.c - staging folders and temporary names: making them (with the
 * owner's pid in the name), telling who owns a leftover and whether that
 * process still runs, and removing what killed runs left
 * (fs_staging_cleanup, fs_temp_cleanup): every command that stages next
 * to its target calls the cleanup before making a new folder there.  A
 * transaction's staging folder (txn.h) is left to fs_txn_recover.  OS
 * layer only.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "descriptor/private.h"

/* "<dir>/<prefix><base>-<pid><mark>-XXXXXX", made by mkdtemp. */
static desc_status make_staging(const char *target, const char *mark,
				char **out, desc_error *err)
{
	char *dir = fs_dirname(target), *base = fs_basename(target);
	char *tmpl = NULL;
	desc_status rc = DESC_OK;

	*out = NULL;
	if (dir == NULL || base == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	/* The creator's pid in the name lets vmdk_staging_cleanup tell a
	 * crashed run's leftover from a folder another process is still
	 * filling (fs_staging_in_use). */
	tmpl = vk_asprintf("%s/%s%s-%ld%s-XXXXXX", dir, FS_STAGING_PREFIX,
			   base, (long)getpid(), mark);
	if (tmpl == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	/* mkdtemp creates the folder 0700, exclusively. */
	if (fp_mkdtemp(tmpl) == NULL) {
		rc = fs_error(err, errno, tmpl, "cannot create folder");
		goto out;
	}
	*out = tmpl;
	tmpl = NULL;
out:
	vk_free(tmpl);
	vk_free(dir);
	vk_free(base);
	return rc;
}

desc_status fs_make_staging(const char *target, char **out, desc_error *err)
{
	return make_staging(target, "", out, err);
}

/* True for the characters mkdtemp/mkostemp put in place of XXXXXX (and
 * the hex digits relocate uses). */
static bool temp_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

bool fs_name_pid_before(const char *name, size_t end,
			unsigned long long *pid, size_t *head)
{
	uint64_t v;
	size_t i = end;

	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == end || i < 2 || name[i - 1] != '-' || end - i > 9 ||
	    !desc_parse_number_all(name + i, end - i, 10, UINT64_MAX, &v) ||
	    v == 0)
		return false;
	*pid = v;
	*head = i - 1;
	return true;
}

/* name[0..len) ends with "-XXXXXX" (mkdtemp's six characters). */
static bool temp_tail(const char *name, size_t len)
{
	size_t k;

	if (len < 8 || name[len - 7] != '-')
		return false;
	for (k = len - 6; k < len; k++)
		if (!temp_char(name[k]))
			return false;
	return true;
}

/* name ends with "-PID-XXXXXX". */
static bool pid_tail(const char *name, size_t len, unsigned long long *pid,
		     size_t *head)
{
	return temp_tail(name, len) && fs_name_pid_before(name, len - 7, pid, head);
}

static bool pid_alive(unsigned long long pid)
{
	/* EPERM: alive, owned by someone else. */
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

#define UNDO_MARK "-undo"

/* "<prefix><base>-<pid>-undo-XXXXXX" -> true, *pid, *head = the length of
 * "<prefix><base>". */
static bool undo_staging(const char *name, unsigned long long *pid,
			 size_t *head)
{
	size_t len = strlen(name), m = strlen(UNDO_MARK);

	if (!temp_tail(name, len) || len < m + 8 ||
	    memcmp(name + len - 7 - m, UNDO_MARK, m) != 0)
		return false;
	return fs_name_pid_before(name, len - 7 - m, pid, head);
}

desc_status fs_make_staging_undo(const char *target, char **out,
				 desc_error *err)
{
	return make_staging(target, UNDO_MARK, out, err);
}

bool fs_staging_in_use(const char *name)
{
	unsigned long long pid = 0;
	size_t head;

	/* A base's staging folder holds the record that undoes what the
	 * base did to the master: only vmdk_base_make may remove it, after
	 * applying it (fs_staging_undo_dead). */
	if (undo_staging(name, &pid, &head))
		return true;
	/* "<prefix><base>-<pid>-XXXXXX"; other forms (older runs) are never
	 * in use. */
	if (!pid_tail(name, strlen(name), &pid, &head))
		return false;
	return pid_alive(pid);
}

bool fs_name_owner_dead(const char *name)
{
	unsigned long long pid = 0;
	size_t head;

	return pid_tail(name, strlen(name), &pid, &head) && !pid_alive(pid);
}

bool fs_name_owner(const char *name, unsigned long long *pid, size_t *head,
		   bool *undo, bool *alive)
{
	unsigned long long p = 0;
	size_t h = 0;
	bool u = undo_staging(name, &p, &h);

	if (!u && !pid_tail(name, strlen(name), &p, &h))
		return false;
	*pid = p;
	*head = h;
	*undo = u;
	*alive = pid_alive(p);
	return true;
}

bool fs_staging_undo_dead(const char *name, const char *target_base)
{
	size_t prefix = strlen(FS_STAGING_PREFIX), head;
	unsigned long long pid = 0;

	if (strncmp(name, FS_STAGING_PREFIX, prefix) != 0 ||
	    !undo_staging(name, &pid, &head))
		return false;
	if (head != prefix + strlen(target_base) ||
	    memcmp(name + prefix, target_base, head - prefix) != 0)
		return false;
	return !pid_alive(pid);
}

/* A temporary file vmdkit makes beside the files it replaces, whose
 * owner is dead: relocate's "<prefix><name>-<pid>-XXXXXX" or fs_replace's
 * ".<name>.vmdkit-new-<pid>-XXXXXX". */
static bool dead_temp_file(const char *name)
{
	static const char infix[] = ".vmdkit-new";
	size_t len = strlen(name), head, n = sizeof(infix) - 1;
	unsigned long long pid;

	if (name[0] != '.' || !pid_tail(name, len, &pid, &head))
		return false;
	if (strncmp(name, FS_STAGING_PREFIX, strlen(FS_STAGING_PREFIX)) == 0) {
		if (head <= strlen(FS_STAGING_PREFIX))
			return false;
	} else if (head < n + 2 || memcmp(name + head - n, infix, n) != 0) {
		return false;
	}
	return !pid_alive(pid);
}

desc_status fs_temp_cleanup(const char *dir, size_t *removed, desc_error *err)
{
	desc_status st = DESC_OK;
	struct dirent *de;
	size_t count = 0;
	DIR *d;
	int dfd;

	if (removed != NULL)
		*removed = 0;
	st = fs_opendir(dir, &d, err);
	if (st != DESC_OK)
		return st;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (!dead_temp_file(de->d_name))
			continue;
		/* Only regular files: never a symlink or folder someone
		 * planted with our name. */
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (fp_unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT) {
			st = fs_error(err, errno, de->d_name,
				      "cannot remove leftover temporary file");
			break;
		}
		count++;
	}
	closedir(d);
	if (removed != NULL)
		*removed = count;
	return st;
}

/* Folder `name` of dfd holds a transaction journal, or its FS_TXN_DONE
 * form: a transaction's staging folder, whose pid says nothing about
 * what may go.  Undoing or finishing it is fs_txn_recover's, which
 * checks every file against the journal first; removing it by name
 * would lose the old content a rollback needs.  An entry we cannot
 * look at counts as one. */
static bool holds_journal(int dfd, const char *name)
{
	static const char *const journals[] = { FS_TXN_JOURNAL, FS_TXN_DONE };
	struct stat sb;
	bool found = false;
	size_t i;
	int fd;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false; /* fs_remove_tree cannot enter it either */
	for (i = 0; i < sizeof(journals) / sizeof(journals[0]) && !found; i++)
		found = fstatat(fd, journals[i], &sb, AT_SYMLINK_NOFOLLOW) == 0 ||
			errno != ENOENT;
	close(fd);
	return found;
}

desc_status fs_staging_cleanup(const char *dir, size_t *removed,
			       desc_error *err)
{
	size_t prefix = strlen(FS_STAGING_PREFIX), count = 0;
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d;
	int dfd;

	if (removed != NULL)
		*removed = 0;
	st = fs_opendir(dir, &d, err);
	if (st != DESC_OK)
		return st;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		char *path;

		if (strncmp(de->d_name, FS_STAGING_PREFIX, prefix) != 0)
			continue;
		/* Only real folders: never follow a symlink someone planted
		 * with our prefix. */
		if (fstatat(dfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(sb.st_mode))
			continue;
		/* A concurrent clone's folder in the making is not ours. */
		if (fs_staging_in_use(de->d_name))
			continue;
		if (holds_journal(dfd, de->d_name))
			continue;
		path = fs_join(dir, de->d_name);
		if (path == NULL) {
			st = vk_nomem(err);
			break;
		}
		st = fs_remove_tree(path, err);
		vk_free(path);
		if (st != DESC_OK)
			break;
		count++;
		/* The listing changed under readdir: start again. */
		rewinddir(d);
	}
	closedir(d);
	if (removed != NULL)
		*removed = count;
	return st;
}
