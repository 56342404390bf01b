/*
 * check_leftovers.c - what interrupted vmdkit runs leave, as findings of
 * vmdk_check_paths: staging folders, base undo records, promote journals,
 * relocate records and fs_replace temporaries, each told apart by its
 * name and owner pid (still running: info; gone: a warning saying which
 * command to rerun).  Every record is read, never trusted to follow.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/check.h"
#include "vmdk/ops/ops.h"
#include "vmdk/ops/scan.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "descriptor/private.h"

/* fs_replace's temporaries (fs.c). */
#define REPLACE_INFIX ".vmdkit-new"
/* Only the first lines of a record are read (the paths come first in a
 * relocate record; an undo record names the master in its first
 * hundreds of lines). */
#define RECORD_READ_MAX (256u * 1024u)

/* ------------------------------------------------------------------ */
/* Leftovers of interrupted runs                                       */
/* ------------------------------------------------------------------ */

/* fs_replace's ".<name>.vmdkit-new-<pid>-XXXXXX": *target_len = the
 * length of <name> (after the leading dot). */
static bool replace_temp(const char *name, unsigned long long *pid,
			 bool *alive, size_t *target_len)
{
	size_t head, n = strlen(REPLACE_INFIX);
	bool undo;

	if (name[0] != '.' || !fs_name_owner(name, pid, &head, &undo, alive) ||
	    undo || head < n + 2 ||
	    memcmp(name + head - n, REPLACE_INFIX, n) != 0)
		return false;
	*target_len = head - n - 1;
	return true;
}

/* Hidden names worth a look: what vmdkit leaves when interrupted. */
bool check_is_leftover_name(const char *name)
{
	unsigned long long pid;
	size_t len;
	bool alive;

	return strncmp(name, VMDK_STAGING_PREFIX,
		       strlen(VMDK_STAGING_PREFIX)) == 0 ||
	       strncmp(name, RECORD_PREFIX, strlen(RECORD_PREFIX)) == 0 ||
	       strcmp(name, UNDO_NAME) == 0 ||
	       replace_temp(name, &pid, &alive, &len);
}

/* The first `cap` bytes of regular file `name` in folder `dir`, NUL-
 * terminated; neither the folder nor the file is followed through a
 * symlink.  NULL when it is not there, not a regular file or not
 * readable (job->oom on allocation failure). */
static char *read_record(struct check_job *job, const char *dir,
			 const char *name)
{
	size_t n = 0, cap = RECORD_READ_MAX;
	struct stat sb;
	char *buf;
	int dfd, fd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return NULL;
	}
	buf = vk_malloc(cap + 1);
	if (buf == NULL) {
		job->oom = true;
		close(fd);
		return NULL;
	}
	while (n < cap) {
		ssize_t got = read(fd, buf + n, cap - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* True when the entry `name` of `dir` exists as a regular file (lstat). */
static bool has_file(const char *dir, const char *name)
{
	struct stat sb;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	bool yes;

	if (dfd < 0)
		return false;
	yes = fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	      S_ISREG(sb.st_mode);
	close(dfd);
	return yes;
}

/* Decimal u64 at *p, up to a space or the end of the line; false on
 * anything else or overflow. */
static bool parse_u64(const char **p, uint64_t *v)
{
	const char *c = *p;
	uint64_t x;

	if (desc_parse_number(&c, NULL, 10, UINT64_MAX, &x) != DESC_NUMBER_OK ||
	    (*c != ' ' && *c != '\n' && *c != '\0'))
		return false;
	*v = x;
	*p = c;
	return true;
}

/* base_undo.c's undo record in `dir`: each "desc DEV INO" / "path PATH" pair
 * (a master descriptor renamed to .vmdkit-moved) is remembered for
 * report_moved; *master is the first such PATH, else the first file's
 * "path", else NULL (no record, or not readable). */
static desc_status read_undo(struct check_job *job, const char *dir,
			     const char *basedir, bool committed, bool alive,
			     unsigned long long pid, char **master)
{
	char *text = read_record(job, dir, UNDO_NAME), *file_path = NULL;
	const char *p = text;
	desc_status st = DESC_OK;
	bool desc = false, file = false;
	uint64_t dev = 0, ino = 0;

	*master = NULL;
	if (text == NULL)
		return job->oom ? vk_nomem(job->err) : DESC_OK;
	while (*p != '\0' && st == DESC_OK) {
		const char *c = p, *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (strncmp(c, "desc ", 5) == 0) {
			c += 5;
			desc = parse_u64(&c, &dev) && *c++ == ' ' &&
			       parse_u64(&c, &ino);
		} else if (strncmp(c, "file ", 5) == 0) {
			file = true;
		} else if (strncmp(c, "path ", 5) == 0 && len > 5) {
			char *path = vk_strndup(c + 5, len - 5);
			struct undo_rec *u;

			if (path == NULL) {
				st = vk_nomem(job->err);
				break;
			}
			if (file && file_path == NULL)
				file_path = vk_strdup(path);
			if (desc) {
				u = vk_reallocarray(job->undos, job->nundos + 1,
						    sizeof(*u));
				if (u == NULL) {
					vk_free(path);
					st = vk_nomem(job->err);
					break;
				}
				job->undos = u;
				u = &job->undos[job->nundos++];
				memset(u, 0, sizeof(*u));
				u->dev = dev;
				u->ino = ino;
				u->basedir = vk_strdup(basedir);
				u->pid = pid;
				u->committed = committed;
				u->alive = alive;
				if (u->basedir == NULL)
					st = vk_nomem(job->err);
				if (*master == NULL && st == DESC_OK)
					*master = vk_strdup(path);
			}
			desc = file = false;
			vk_free(path);
		} else if (strncmp(c, "end", 3) == 0) {
			break;
		}
		p = nl ? nl + 1 : p + len;
	}
	if (st == DESC_OK && *master == NULL && file_path != NULL) {
		*master = file_path;
		file_path = NULL;
	}
	vk_free(file_path);
	vk_free(text);
	if (st == DESC_OK && job->oom)
		st = vk_nomem(job->err);
	return st;
}

/* `vmdkit base` staging folder (uncommitted) or BASEDIR/.vmdkit-undo
 * (committed). */
static desc_status leftover_base(struct check_job *job, const char *where,
				 const char *record_dir, const char *basedir,
				 bool committed, bool alive,
				 unsigned long long pid)
{
	char *master = NULL, *hint = NULL;
	desc_status st;

	st = read_undo(job, record_dir, basedir, committed, alive, pid,
		       &master);
	if (st != DESC_OK)
		goto out;
	/* The record names the master's disks, not whether the run was
	 * given the .vmx or a disk: either recovers, but only the same
	 * one makes the same base afterwards. */
	hint = master ? vk_asprintf(" (MASTER: the .vmx or disk it was given; its disk '%s')",
				    master)
		      : vk_strdup(" (MASTER: the .vmx or disk it was given)");
	if (hint == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	if (committed)
		st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			       "undo record of a `vmdkit base` that committed base '%s' but was interrupted before removing the master's files: rerun `vmdkit base MASTER '%s'`%s to finish it",
			       basedir, basedir, hint);
	else if (alive)
		st = check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
			       "staging folder of `vmdkit base` into '%s', still running (process %llu)",
			       basedir, pid);
	else
		st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			       "staging folder of an interrupted `vmdkit base` into '%s' (process %llu is gone; the master may be half-moved): rerun `vmdkit base MASTER '%s'`%s to undo or finish it",
			       basedir, pid, basedir, hint);
out:
	vk_free(hint);
	vk_free(master);
	return st;
}

/* relocate's record ".vmdkit-relocate-NEW-<pid>-XXXXXX": "from OLD\nto NEW\n". */
static desc_status leftover_relocate(struct check_job *job, const char *dir,
				     const char *name, const char *where,
				     bool alive, unsigned long long pid)
{
	char *text = read_record(job, dir, name), *from = NULL, *to = NULL;
	const char *nl = NULL, *end = NULL;
	desc_status st;

	if (text == NULL && job->oom)
		return vk_nomem(job->err);
	if (text != NULL && strncmp(text, "from /", 6) == 0 &&
	    (nl = strchr(text, '\n')) != NULL &&
	    strncmp(nl + 1, "to /", 4) == 0 &&
	    (end = strchr(nl + 4, '\n')) != NULL) {
		from = vk_strndup(text + 5, (size_t)(nl - text - 5));
		to = vk_strndup(nl + 4, (size_t)(end - nl - 4));
		if (from == NULL || to == NULL) {
			st = vk_nomem(job->err);
			goto out;
		}
	}
	if (alive)
		st = check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
			       "record of `vmdkit relocate`, still running (process %llu)",
			       pid);
	else if (from != NULL)
		st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			       "record of an interrupted `vmdkit relocate` from '%s' to '%s' (process %llu is gone; leaves may still point into '%s'): rerun `vmdkit relocate '%s' '%s' --leaves LEAFDIR...` to finish it",
			       from, to, pid, from, from, to);
	else
		st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			       "incomplete record of an interrupted `vmdkit relocate` (process %llu is gone; nothing was moved): rerun that `vmdkit relocate`, which removes it",
			       pid);
out:
	vk_free(from);
	vk_free(to);
	vk_free(text);
	return st;
}

/* A staging folder of the transaction module, told by its own
 * description of its journal.  DESC_E_NOT_FOUND: no journal there. */
static desc_status leftover_txn(struct check_job *job, const char *dir,
				const char *where)
{
	fs_txn_info info;
	desc_error e;
	desc_status st;

	desc_error_clear(&e);
	st = fs_txn_describe(where, &info, &e);
	if (st == DESC_E_NOMEM || st == DESC_E_NOT_FOUND)
		return st;
	if (st != DESC_OK) {
		char *jpath = fs_join(where, FS_TXN_JOURNAL);
		bool there = jpath != NULL && fs_exists(jpath);

		vk_free(jpath);
		if (!there)
			return DESC_E_NOT_FOUND;
		return check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			   "journal that vmdkit cannot read (%s): left alone; look inside, then remove it by hand",
			   e.message);
	}
	if (!info.this_host)
		st = check_add(job, DESC_SEV_WARNING, "foreign-run", where, 0,
			 "transaction of `vmdkit %s` on host '%s' (process %llu), changing '%s': only a vmdkit run on '%s' recovers it (run `vmdkit check` there); remove it by hand only once that run is known to be gone",
			 info.command, info.host, info.pid, info.first_path,
			 info.host);
	else if (info.alive)
		st = check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
			 "transaction of `vmdkit %s` changing '%s', still running (process %llu)",
			 info.command, info.first_path, info.pid);
	else
		st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			 "transaction of an interrupted `vmdkit %s` (process %llu is gone; %s): %s; the next `vmdkit %s` in '%s' does it",
			 info.command, info.pid,
			 info.committed ? "committed" : "not committed",
			 info.plan, info.command, dir);
	fs_txn_info_clear(&info);
	return st;
}

/* `name` in folder `dir` starts with VMDK_STAGING_PREFIX. */
static desc_status leftover_staging(struct check_job *job, const char *dir,
				    const char *name, const char *where,
				    const struct stat *sb)
{
	size_t prefix = strlen(VMDK_STAGING_PREFIX), head;
	unsigned long long pid;
	bool undo, alive;
	char *stem = NULL, *target = NULL;
	desc_status st = DESC_OK;

	if (S_ISDIR(sb->st_mode))
		switch (leftover_txn(job, dir, where)) {
		case DESC_OK:
			return DESC_OK;
		case DESC_E_NOMEM:
			return vk_nomem(job->err);
		default:
			break; /* no journal: the older forms below */
		}
	if (!fs_name_owner(name, &pid, &head, &undo, &alive) ||
	    head <= prefix)
		return DESC_OK; /* not a name vmdkit makes */
	stem = vk_strndup(name + prefix, head - prefix);
	target = stem ? fs_join(dir, stem) : NULL;
	if (target == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	if (S_ISDIR(sb->st_mode) && undo) {
		st = leftover_base(job, where, where, target, false, alive,
				   pid);
	} else if (undo) {
		/* not a name vmdkit makes */
	} else if (S_ISREG(sb->st_mode)) {
		st = alive ? check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				       "new copy of '%s' being written by `vmdkit relocate`, still running (process %llu)",
				       target, pid)
			   : check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "new copy of '%s' left by an interrupted `vmdkit relocate` (process %llu is gone; '%s' is unchanged): rerun that `vmdkit relocate BASEDIR NEWDIR --leaves LEAFDIR...`, which removes it",
				       target, pid, target);
	} else if (!S_ISDIR(sb->st_mode)) {
		/* not ours */
	} else if (has_file(where, JOURNAL_NAME)) {
		st = alive ? check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				       "journal of `vmdkit promote` of '%s', still running (process %llu)",
				       target, pid)
			   : check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "journal of an interrupted `vmdkit promote` of '%s' (process %llu is gone; new disk files may be beside the old ones): rerun `vmdkit promote '%s'` to finish or undo it",
				       target, pid, target);
	} else if (cm_has_suffix(stem, ".vmx")) {
		st = alive ? check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				       "staging folder of `vmdkit promote` of '%s', still running (process %llu)",
				       target, pid)
			   : check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "staging folder of an interrupted `vmdkit promote` of '%s' (process %llu is gone; the leaf is unchanged): rerun `vmdkit promote '%s'`, which removes it",
				       target, pid, target);
	} else {
		st = alive ? check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				       "staging folder of `vmdkit clone` of leaf '%s', still running (process %llu)",
				       target, pid)
			   : check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "staging folder of an interrupted `vmdkit clone` of leaf '%s' (process %llu is gone; no leaf was made): rerun `vmdkit clone BASE '%s'` (any clone into '%s' removes it)",
				       target, pid, target, dir);
	}
out:
	vk_free(stem);
	vk_free(target);
	return st;
}

/* fs_replace is used by many commands: the one that left a temporary
 * file is told by its pid on a staging folder of promote in the same
 * folder (its .vmx and .vmsd), or on a copy of relocate's.  NULL: not
 * known. */
static const char *replace_owner(struct check_job *job, const char *dir,
				 char *const *dots, size_t ndots,
				 unsigned long long pid, char **vmx)
{
	size_t prefix = strlen(VMDK_STAGING_PREFIX);

	*vmx = NULL;
	for (size_t i = 0; i < ndots; i++) {
		unsigned long long p;
		size_t head;
		bool undo, alive;
		struct stat sb;
		char *path;

		if (strncmp(dots[i], VMDK_STAGING_PREFIX, prefix) != 0 ||
		    !fs_name_owner(dots[i], &p, &head, &undo, &alive) ||
		    undo || p != pid || head <= prefix)
			continue;
		path = fs_join(dir, dots[i]);
		if (path == NULL)
			job->oom = true;
		if (path == NULL || lstat(path, &sb) != 0) {
			vk_free(path);
			continue;
		}
		vk_free(path);
		if (S_ISREG(sb.st_mode))
			return "relocate";
		if (S_ISDIR(sb.st_mode) && head - prefix > 4 &&
		    strncasecmp(dots[i] + head - 4, ".vmx", 4) == 0) {
			char *stem = vk_strndup(dots[i] + prefix, head - prefix);

			*vmx = stem ? fs_join(dir, stem) : NULL;
			vk_free(stem);
			if (*vmx == NULL)
				job->oom = true;
			return "promote";
		}
	}
	return NULL;
}

/* One hidden entry `name` of folder `dir` (is_leftover_name); `dots`
 * are all of them. */
desc_status check_leftover(struct check_job *job, const char *dir,
			   const char *name, char *const *dots,
			   size_t ndots)
{
	char *where = fs_join(dir, name), *target = NULL, *vmx = NULL;
	const char *cmd;
	unsigned long long pid;
	desc_status st = DESC_OK;
	size_t head, len;
	bool undo, alive;
	struct stat sb;

	if (where == NULL)
		return vk_nomem(job->err);
	if (lstat(where, &sb) != 0)
		goto out;
	if (strcmp(name, UNDO_NAME) == 0) {
		if (S_ISREG(sb.st_mode))
			st = leftover_base(job, where, dir, dir, true, false, 0);
	} else if (strncmp(name, VMDK_STAGING_PREFIX,
			   strlen(VMDK_STAGING_PREFIX)) == 0) {
		st = leftover_staging(job, dir, name, where, &sb);
	} else if (strncmp(name, RECORD_PREFIX, strlen(RECORD_PREFIX)) == 0) {
		if (S_ISREG(sb.st_mode) &&
		    fs_name_owner(name, &pid, &head, &undo, &alive) && !undo &&
		    head > strlen(RECORD_PREFIX))
			st = leftover_relocate(job, dir, name, where, alive,
					       pid);
	} else if (S_ISREG(sb.st_mode) &&
		   replace_temp(name, &pid, &alive, &len)) {
		char *base = vk_strndup(name + 1, len);

		target = base ? fs_join(dir, base) : NULL;
		vk_free(base);
		if (target == NULL) {
			st = vk_nomem(job->err);
			goto out;
		}
		cmd = replace_owner(job, dir, dots, ndots, pid, &vmx);
		if (job->oom) {
			st = vk_nomem(job->err);
			goto out;
		}
		if (alive)
			st = check_add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				       "new text of '%s' being written by %s%s%s, still running (process %llu)",
				       target, cmd ? "`vmdkit " : "a vmdkit command",
				       cmd ? cmd : "", cmd ? "`" : "", pid);
		else if (cmd != NULL && vmx != NULL)
			st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "new text of '%s' left by an interrupted `vmdkit promote` of '%s' (process %llu is gone; '%s' is unchanged): rerun `vmdkit promote '%s'`, which removes it",
				       target, vmx, pid, target, vmx);
		else if (cmd != NULL)
			st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "new text of '%s' left by an interrupted `vmdkit %s` (process %llu is gone; '%s' is unchanged): rerun that `vmdkit %s`, which removes it",
				       target, cmd, pid, target, cmd);
		else
			st = check_add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				       "new text of '%s' left by an interrupted vmdkit command (process %llu is gone; '%s' is unchanged): rerun that command (any vmdkit command that rewrites a file in this folder removes it)",
				       target, pid, target);
	}
out:
	vk_free(vmx);
	vk_free(target);
	vk_free(where);
	return st;
}

/* Masters' disks that `vmdkit base` moved (note_moved), told apart by
 * the undo records seen: a base in progress, one interrupted before or
 * after its commit, or done. */
desc_status check_report_moved(struct check_job *job)
{
	desc_status st = DESC_OK;

	for (size_t i = 0; i < job->nmoved && st == DESC_OK; i++) {
		const struct moved_rec *m = &job->moved[i];
		const struct undo_rec *u = NULL;

		for (size_t k = 0; k < job->nundos && u == NULL; k++)
			if (job->undos[k].dev == (uint64_t)m->dev &&
			    job->undos[k].ino == (uint64_t)m->ino)
				u = &job->undos[k];
		if (u == NULL)
			st = check_add(job, DESC_SEV_INFO, "vmx-disk-moved", m->vmx,
				       m->line,
				       "disk '%s' of %s was made into a base by `vmdkit base` (its descriptor is now '%s'): this VM no longer boots; clone a leaf from the base",
				       m->file_name, m->node, m->moved);
		else if (u->committed)
			st = check_add(job, DESC_SEV_WARNING, "vmx-disk-moved",
				       m->vmx, m->line,
				       "disk '%s' of %s was made into base '%s' (its descriptor is now '%s'), but `vmdkit base` was interrupted before removing the master's files: rerun `vmdkit base '%s' '%s'` (or with the disk, if it was given the disk) to finish it",
				       m->file_name, m->node, u->basedir, m->moved,
				       m->vmx, u->basedir);
		else if (u->alive)
			st = check_add(job, DESC_SEV_INFO, "vmx-disk-moved", m->vmx,
				       m->line,
				       "disk '%s' of %s is being made into base '%s' by `vmdkit base`, still running (process %llu; its descriptor is now '%s')",
				       m->file_name, m->node, u->basedir, u->pid,
				       m->moved);
		else
			st = check_add(job, DESC_SEV_WARNING, "vmx-disk-moved",
				       m->vmx, m->line,
				       "disk '%s' of %s not found: an interrupted `vmdkit base` into '%s' (process %llu is gone) renamed its descriptor to '%s': rerun `vmdkit base '%s' '%s'` (or with the disk, if it was given the disk) to undo or finish it",
				       m->file_name, m->node, u->basedir, u->pid,
				       m->moved, m->vmx, u->basedir);
	}
	return st;
}
