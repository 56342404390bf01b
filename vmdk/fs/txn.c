/*
 * txn.c - the transaction module (see txn.h for the contract, the step
 * vocabulary, the journal format and what recovery refuses): begin, the
 * steps, commit and abort.  The journal's format is in txn_journal.c,
 * playback and recovery in txn_recover.c.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "vmdk/fs/txn_private.h"
#include "descriptor/private.h"

/* errno of a link(2) that the filesystem cannot do (FAT, some NFS and
 * SMB servers, another filesystem): copy or rename instead. */
static bool link_unsupported(int e)
{
	return e == EXDEV || e == EPERM || e == EMLINK || e == ENOTSUP ||
	       e == EOPNOTSUPP || e == ENOSYS;
}

/* ------------------------------------------------------------------ */
/* The transaction                                                     */
/* ------------------------------------------------------------------ */

static bool dry(const fs_txn *t)
{
	return (t->flags & FS_TXN_DRY_RUN) != 0;
}

void fs_txn_free(fs_txn *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (!t->finished) {
		desc_error ignored;

		(void)fs_txn_abort(t, &ignored);
	}
	if (t->jfd >= 0)
		close(t->jfd);
	for (i = 0; i < t->nblocked; i++) {
		vk_free(t->blocked[i].path);
		vk_free(t->blocked[i].why);
	}
	vk_free(t->blocked);
	txn_journal_clear(&t->j);
	vk_free(t);
}

desc_status fs_txn_begin(const char *root, const char *command, unsigned flags,
			 fs_txn_report_fn report, void *report_ctx,
			 desc_findings *notes, fs_txn **out, desc_error *err)
{
	char label[HOST_MAX + 1], *tmpl = NULL, *jpath = NULL;
	struct sbuf b = { NULL, 0, 0, false };
	desc_status st = DESC_OK;
	struct stat sb;
	fs_txn *t;
	char pid[32];

	*out = NULL;
	if ((flags & FS_TXN_BATCH) && (flags & FS_TXN_DRY_RUN))
		flags &= ~(unsigned)FS_TXN_BATCH;
	t = vk_calloc(1, sizeof(*t));
	if (t == NULL)
		return vk_nomem(err);
	t->jfd = -1;
	t->flags = flags;
	t->report = report;
	t->report_ctx = report_ctx;
	t->notes = notes;
	t->j.root = fs_absolute(root);
	t->j.host = txn_host_name();
	t->j.command = vk_strdup(command);
	t->j.pid = (unsigned long long)getpid();
	t->j.start = txn_process_start(t->j.pid);
	if (t->j.root == NULL || t->j.host == NULL || t->j.command == NULL ||
	    t->j.start == NULL) {
		st = vk_nomem(err);
		goto fail;
	}
	if (stat(t->j.root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		int e = errno;

		st = fs_error(err, fs_exists(t->j.root) ? ENOTDIR : e, root,
			      "cannot open folder");
		goto fail;
	}
	st = txn_recover_into(t, root, flags, report, report_ctx, notes, err);
	if (st != DESC_OK || dry(t))
		goto done;
	txn_host_label(t->j.host, label, sizeof(label));
	tmpl = vk_asprintf("%s/%s%s-%s-%llu-XXXXXX", t->j.root,
			   FS_STAGING_PREFIX, command, label, t->j.pid);
	if (tmpl == NULL) {
		st = vk_nomem(err);
		goto fail;
	}
	if (fp_mkdtemp(tmpl) == NULL) {
		st = fs_error(err, errno, root, "cannot create a staging folder in");
		goto fail;
	}
	t->j.staging = tmpl;
	tmpl = NULL;
	jpath = fs_join(t->j.staging, FS_TXN_JOURNAL);
	if (jpath == NULL) {
		st = vk_nomem(err);
		goto fail;
	}
	t->jfd = open(jpath, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
		      O_NOFOLLOW | O_CLOEXEC, 0600);
	if (t->jfd < 0) {
		st = fs_error(err, errno, jpath, "cannot create");
		goto fail;
	}
	snprintf(pid, sizeof(pid), "%llu", t->j.pid);
	txn_sb_add(&b, "# vmdkit transaction journal: see `vmdkit check`; do not edit\n");
	txn_sb_kv(&b, "version", FS_TXN_VERSION);
	txn_sb_kv(&b, "host", t->j.host);
	txn_sb_kv(&b, "pid", pid);
	txn_sb_kv(&b, "start", t->j.start);
	txn_sb_kv(&b, "command", command);
	st = txn_journal_append(t, &b, err);
	/* The staging folder's name must survive a crash for the journal
	 * to be found. */
	if (st == DESC_OK && txn_sync_each(t))
		st = fs_sync_dir(t->j.root, err);
	if (st != DESC_OK)
		goto fail;
done:
	vk_free(b.s);
	vk_free(jpath);
	*out = t;
	return st;
fail:
	vk_free(b.s);
	vk_free(jpath);
	vk_free(tmpl);
	if (t->jfd >= 0) {
		close(t->jfd);
		t->jfd = -1;
	}
	if (t->j.staging != NULL) {
		desc_error ignored;

		(void)fs_remove_tree(t->j.staging, &ignored);
	}
	t->finished = true;
	fs_txn_free(t);
	return st;
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */
/* ------------------------------------------------------------------ */

/* Index of the step that makes `rel` (mkdir, create, copy, a rename's
 * destination), or -1. */
static long created_by(const fs_txn *t, const char *rel)
{
	size_t i;

	for (i = 0; i < t->j.count; i++) {
		const struct step *s = &t->j.steps[i];
		const char *made = s->kind == K_COPY || s->kind == K_RENAME
					   ? s->to : s->path;

		if ((s->kind == K_MKDIR || s->kind == K_CREATE ||
		     s->kind == K_COPY || s->kind == K_RENAME) &&
		    strcmp(made, rel) == 0)
			return (long)i;
	}
	return -1;
}

/* A caller's path: root-relative form (*rel), absolute form (*abs), and
 * the checks every step makes (reserved name, blocked). */
static desc_status resolve(fs_txn *t, const char *path, char **rel,
			   char **abs, desc_error *err)
{
	char *base;
	size_t i;

	*rel = NULL;
	*abs = fs_absolute(path);
	base = fs_basename(path);
	if (*abs == NULL || base == NULL) {
		vk_free(base);
		vk_free(*abs);
		*abs = NULL;
		return vk_nomem(err);
	}
	if (strncmp(base, FS_STAGING_PREFIX, strlen(FS_STAGING_PREFIX)) == 0) {
		vk_free(base);
		vk_free(*abs);
		*abs = NULL;
		return desc_error_set(err, DESC_E_REFUSED, path, 0,
				      "names starting with '%s' are reserved for vmdkit's staging folders",
				      FS_STAGING_PREFIX);
	}
	vk_free(base);
	for (i = 0; i < t->nblocked; i++) {
		if (strcmp(t->blocked[i].path, *abs) == 0) {
			vk_free(*abs);
			*abs = NULL;
			return desc_error_set(err, DESC_E_REFUSED, path, 0,
					      "refusing to change it: %s",
					      t->blocked[i].why);
		}
	}
	*rel = fs_relative(t->j.root, *abs);
	if (*rel == NULL) {
		vk_free(*abs);
		*abs = NULL;
		return vk_nomem(err);
	}
	return DESC_OK;
}

/* A new step slot (zeroed, parent -1) at t->j.steps[t->j.count]; the
 * count grows only when the step is kept (step_keep). */
static struct step *step_new(fs_txn *t, enum step_kind kind, desc_error *err)
{
	struct step *grown = vk_reallocarray(t->j.steps, t->j.count + 1,
					     sizeof(*grown));

	if (grown == NULL) {
		vk_nomem(err);
		return NULL;
	}
	t->j.steps = grown;
	memset(&grown[t->j.count], 0, sizeof(*grown));
	grown[t->j.count].kind = kind;
	grown[t->j.count].parent = -1;
	return &grown[t->j.count];
}

/* Records (unless dry) and reports the step being built; on failure the
 * slot is cleared and not counted. */
static desc_status step_keep(fs_txn *t, struct step *s, desc_status st,
			     desc_error *err)
{
	if (st == DESC_OK && (s->shown == NULL ||
			      (s->to != NULL && s->shown_to == NULL)))
		st = vk_nomem(err);
	if (st == DESC_OK && !dry(t))
		st = txn_record_step(t, t->j.count, err);
	if (st != DESC_OK) {
		txn_step_clear(s);
		return st;
	}
	t->j.count++;
	if (t->report != NULL)
		t->report(t->report_ctx, txn_kind_word[s->kind], txn_shown(s),
			  txn_shown_to(s));
	return DESC_OK;
}

/* The staging name of the entry a new step creates at `rel`: inside its
 * staged folder, or a fresh number. */
static desc_status stage_name(fs_txn *t, struct step *s, const char *rel,
			      desc_error *err)
{
	char *dir = fs_dirname(rel), *base = fs_basename(rel);
	long p = dir ? created_by(t, dir) : -1;
	desc_status st = DESC_OK;

	if (dir == NULL || base == NULL) {
		st = vk_nomem(err);
	} else if (p >= 0 && t->j.steps[p].kind != K_MKDIR) {
		st = desc_error_set(err, DESC_E_ARG, "", 0,
				    "'%s' goes into '%s', which this change creates as a file",
				    rel, dir);
	} else if (p >= 0) {
		s->parent = p;
		s->staged = vk_asprintf("%s/%s", t->j.steps[p].staged, base);
	} else {
		s->staged = vk_asprintf("%zu", t->j.count + 1);
	}
	if (st == DESC_OK && s->staged == NULL)
		st = vk_nomem(err);
	vk_free(dir);
	vk_free(base);
	return st;
}

static char *staged_abs(const fs_txn *t, const char *name)
{
	return fs_join(t->j.staging, name);
}

/* A new entry's path: free now, and not already one of ours. */
static desc_status check_new(fs_txn *t, const char *shown_path,
			     const char *rel, const char *abs,
			     const char *what, desc_error *err)
{
	if (created_by(t, rel) >= 0 || !txn_absent(abs))
		return fs_error(err, EEXIST, shown_path, what);
	return DESC_OK;
}

/* An existing entry a step changes: there, and not one this change makes. */
static desc_status check_existing(fs_txn *t, const char *shown_path,
				  const char *rel, const char *abs,
				  struct stat *sb, bool regular,
				  desc_error *err)
{
	if (created_by(t, rel) >= 0)
		return desc_error_set(err, DESC_E_ARG, shown_path, 0,
				      "is created by this same change");
	if (lstat(abs, sb) != 0)
		return fs_error(err, errno, shown_path, "cannot stat");
	if (regular && !S_ISREG(sb->st_mode))
		return desc_error_set(err, DESC_E_REFUSED, shown_path, 0,
				      "not a regular file");
	return DESC_OK;
}

struct fill_buf {
	const void *buf;
	size_t len;
	mode_t mode;
	bool sync;
};

static desc_status fill_from_buffer(void *ctx, const char *staged,
				    desc_error *err)
{
	struct fill_buf *f = ctx;

	return fs_write_new(staged, f->buf, f->len, f->mode, f->sync, err);
}

static desc_status create_step(fs_txn *t, enum step_kind kind,
			       const char *path, const char *from,
			       fs_txn_fill_fn fill, void *fill_ctx,
			       mode_t mode, desc_error *err)
{
	char *rel = NULL, *abs = NULL, *staged = NULL;
	const char *what = kind == K_MKDIR ? "cannot create folder"
					   : "cannot create";
	desc_status st;
	struct stat sb;
	struct step *s;

	s = step_new(t, kind, err);
	if (s == NULL)
		return DESC_E_NOMEM;
	st = resolve(t, path, &rel, &abs, err);
	if (st == DESC_OK)
		st = check_new(t, path, rel, abs, what, err);
	if (st == DESC_OK && from != NULL) {
		char *frel = NULL, *fabs = NULL;

		st = resolve(t, from, &frel, &fabs, err);
		if (st == DESC_OK)
			st = check_existing(t, from, frel, fabs, &sb, true, err);
		if (st == DESC_OK)
			txn_id_from_stat(&s->id, &sb);
		/* A copy names FROM as its path, TO as its `to`. */
		s->path = frel;
		s->to = rel;
		s->shown = vk_strdup(from);
		s->shown_to = vk_strdup(path);
		rel = NULL;
		vk_free(fabs);
	} else {
		s->path = rel;
		s->shown = vk_strdup(path);
		rel = NULL;
	}
	s->mode = (unsigned)mode & 07777;
	if (st == DESC_OK)
		st = stage_name(t, s, s->to ? s->to : s->path, err);
	if (st != DESC_OK || dry(t))
		goto keep;
	staged = staged_abs(t, s->staged);
	if (staged == NULL) {
		st = vk_nomem(err);
		goto keep;
	}
	if (kind == K_MKDIR) {
		if (fp_mkdir(staged, mode) != 0)
			st = fs_error(err, errno, path, what);
	} else if (kind == K_COPY) {
		if (fp_link(from, staged) != 0)
			st = link_unsupported(errno)
				? fs_copy_file(from, staged,
					       (mode_t)(s->id.mode & 07777), err)
				: fs_error(err, errno, path, "cannot link");
	} else {
		st = fill(fill_ctx, staged, err);
	}
	if (st == DESC_OK && lstat(staged, &sb) != 0)
		st = fs_error(err, errno, staged, "cannot stat");
	if (st == DESC_OK)
		txn_id_from_stat(&s->new_id, &sb);
	if (st != DESC_OK && !txn_absent(staged)) {
		desc_error ignored;

		(void)fs_remove_tree(staged, &ignored);
	}
keep:
	vk_free(staged);
	vk_free(rel);
	vk_free(abs);
	return step_keep(t, s, st, err);
}

desc_status fs_txn_mkdir(fs_txn *t, const char *path, mode_t mode,
			 desc_error *err)
{
	return create_step(t, K_MKDIR, path, NULL, NULL, NULL, mode, err);
}

desc_status fs_txn_create(fs_txn *t, const char *path, const void *buf,
			  size_t len, mode_t mode, desc_error *err)
{
	struct fill_buf f = { buf, len, mode, txn_sync_each(t) };

	return create_step(t, K_CREATE, path, NULL, fill_from_buffer, &f, mode,
			   err);
}

desc_status fs_txn_create_with(fs_txn *t, const char *path,
			       fs_txn_fill_fn fill, void *fill_ctx,
			       desc_error *err)
{
	return create_step(t, K_CREATE, path, NULL, fill, fill_ctx, 0, err);
}

desc_status fs_txn_link_or_copy(fs_txn *t, const char *from, const char *to,
				desc_error *err)
{
	return create_step(t, K_COPY, to, from, NULL, NULL, 0, err);
}

/* Steps on existing entries: path resolved, existence checked, the
 * identity taken; *sb is its stat. */
static desc_status existing_step(fs_txn *t, struct step *s, const char *path,
				 bool regular, char **abs, struct stat *sb,
				 desc_error *err)
{
	char *rel = NULL;
	desc_status st = resolve(t, path, &rel, abs, err);

	if (st == DESC_OK)
		st = check_existing(t, path, rel, *abs, sb, regular, err);
	if (st == DESC_OK)
		txn_id_from_stat(&s->id, sb);
	s->path = rel;
	s->shown = vk_strdup(path);
	return st;
}

desc_status fs_txn_replace(fs_txn *t, const char *path, const void *buf,
			   size_t len, desc_error *err)
{
	char *abs = NULL, *staged = NULL;
	struct stat sb;
	desc_status st;
	struct step *s;

	s = step_new(t, K_REPLACE, err);
	if (s == NULL)
		return DESC_E_NOMEM;
	st = existing_step(t, s, path, true, &abs, &sb, err);
	if (st == DESC_OK) {
		s->staged = vk_asprintf("%zu", t->j.count + 1);
		s->old = vk_asprintf("old%zu", t->j.count + 1);
		if (s->staged == NULL || s->old == NULL)
			st = vk_nomem(err);
	}
	if (st != DESC_OK || dry(t))
		goto keep;
	staged = staged_abs(t, s->staged);
	if (staged == NULL) {
		st = vk_nomem(err);
		goto keep;
	}
	st = fs_write_new(staged, buf, len, 0600, txn_sync_each(t), err);
	if (st != DESC_OK)
		goto keep;
	/* The owner when we may (root editing a user's file), then the
	 * mode: the new file is the old one with new bytes. */
	if (lchown(staged, sb.st_uid, sb.st_gid) != 0 && errno != EPERM)
		st = fs_error(err, errno, staged, "cannot set the owner of");
	else if (chmod(staged, sb.st_mode & 07777) != 0)
		st = fs_error(err, errno, staged, "cannot set the mode of");
	else if (lstat(staged, &sb) != 0)
		st = fs_error(err, errno, staged, "cannot stat");
	else
		txn_id_from_stat(&s->new_id, &sb);
	if (st != DESC_OK)
		fp_unlink(staged);
keep:
	vk_free(staged);
	vk_free(abs);
	return step_keep(t, s, st, err);
}

desc_status fs_txn_rename(fs_txn *t, const char *from, const char *to,
			  desc_error *err)
{
	char *abs = NULL, *tabs = NULL, *trel = NULL, *dest = NULL, *dir;
	struct stat sb;
	desc_status st;
	struct step *s;

	s = step_new(t, K_RENAME, err);
	if (s == NULL)
		return DESC_E_NOMEM;
	st = existing_step(t, s, from, false, &abs, &sb, err);
	if (st == DESC_OK && (t->flags & FS_TXN_BATCH))
		st = desc_error_set(err, DESC_E_ARG, from, 0,
				    "a batched change cannot rename (a rename is done at once)");
	if (st == DESC_OK)
		st = resolve(t, to, &trel, &tabs, err);
	s->to = trel;
	s->shown_to = vk_strdup(to);
	if (st == DESC_OK)
		st = check_new(t, to, trel, tabs, "cannot rename to", err);
	if (st == DESC_OK) {
		dir = fs_dirname(trel);
		if (dir == NULL)
			st = vk_nomem(err);
		else if (created_by(t, dir) >= 0)
			st = stage_name(t, s, trel, err);
		vk_free(dir);
	}
	if (st != DESC_OK || dry(t)) {
		st = step_keep(t, s, st, err);
		goto out;
	}
	/* Before the commit the destination may be inside a staged folder. */
	dest = s->staged ? staged_abs(t, s->staged) : vk_strdup(tabs);
	if (dest == NULL || s->shown == NULL || s->shown_to == NULL) {
		st = step_keep(t, s, vk_nomem(err), err);
		goto out;
	}
	st = step_keep(t, s, DESC_OK, err);
	/* Recorded (and reported): playback finds it moved or not. */
	if (st == DESC_OK)
		st = fs_rename_noreplace(abs, dest, err);
out:
	vk_free(dest);
	vk_free(abs);
	vk_free(tabs);
	return st;
}

desc_status fs_txn_pwrite(fs_txn *t, const char *path, const void *buf,
			  size_t len, uint64_t offset, desc_error *err)
{
	char *abs = NULL, *saved = NULL, *old = NULL;
	desc_status st;
	struct stat sb;
	struct step *s;
	size_t got = 0;
	int fd = -1;

	s = step_new(t, K_WRITE, err);
	if (s == NULL)
		return DESC_E_NOMEM;
	s->offset = offset;
	s->length = len;
	if (t->flags & FS_TXN_BATCH) {
		s->shown = vk_strdup(path);
		st = desc_error_set(err, DESC_E_ARG, path, 0,
				    "a batched change cannot write in place");
		goto keep;
	}
	st = existing_step(t, s, path, true, &abs, &sb, err);
	if (st == DESC_OK && offset > (uint64_t)INT64_MAX - len)
		st = desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
				    "write at %" PRIu64 " overflows", offset);
	if (st == DESC_OK) {
		s->old = vk_asprintf("old%zu", t->j.count + 1);
		if (s->old == NULL)
			st = vk_nomem(err);
	}
	if (st != DESC_OK || dry(t))
		goto keep;
	fd = open(abs, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		st = fs_error(err, errno, path, "cannot open");
		goto keep;
	}
	old = vk_malloc(len ? len : 1);
	saved = staged_abs(t, s->old);
	if (old == NULL || saved == NULL) {
		st = vk_nomem(err);
		goto keep;
	}
	/* SQLite's rule: the old bytes are durable before the new ones go
	 * in. */
	st = fs_pread_full(fd, old, len, offset, &got, path, err);
	if (st == DESC_OK)
		st = fs_write_new(saved, old, got, 0600, true, err);
	if (st == DESC_OK && lstat(saved, &sb) != 0)
		st = fs_error(err, errno, saved, "cannot stat");
	if (st == DESC_OK) {
		txn_id_from_stat(&s->new_id, &sb);
		s->length = got;
		st = txn_record_step(t, t->j.count, err);
	}
	if (st != DESC_OK)
		goto keep;
	t->j.count++; /* recorded: from here playback knows it */
	for (size_t done = 0; done < len && st == DESC_OK;) {
		ssize_t n = fp_pwrite(fd, (const char *)buf + done, len - done,
				      (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			st = fs_error(err, errno, path, "cannot write");
		else
			done += (size_t)n;
	}
	if (st == DESC_OK && fp_fsync(fd) < 0)
		st = fs_error(err, errno, path, "cannot sync");
	if (st == DESC_OK && t->report != NULL)
		t->report(t->report_ctx, "write", path, NULL);
	close(fd);
	vk_free(old);
	vk_free(saved);
	vk_free(abs);
	return st;
keep:
	if (fd >= 0)
		close(fd);
	vk_free(old);
	vk_free(saved);
	vk_free(abs);
	return step_keep(t, s, st, err);
}

/* chmod and unlink: recorded now, done after the commit record.  A
 * chmod may name what this change makes (found in staging until the
 * commit); an unlink may not. */
static desc_status fixup_step(fs_txn *t, enum step_kind kind, const char *path,
			      mode_t mode, desc_error *err)
{
	char *rel = NULL, *abs = NULL, *where = NULL;
	desc_status st;
	struct stat sb;
	struct step *s;
	long made;

	s = step_new(t, kind, err);
	if (s == NULL)
		return DESC_E_NOMEM;
	s->mode = (unsigned)mode & 07777;
	st = resolve(t, path, &rel, &abs, err);
	s->path = rel;
	s->shown = vk_strdup(path);
	if (st != DESC_OK)
		goto keep;
	made = created_by(t, rel);
	if (made >= 0 && kind == K_REMOVE) {
		st = desc_error_set(err, DESC_E_ARG, path, 0,
				    "is created by this same change");
		goto keep;
	}
	if (made >= 0 && dry(t))
		goto keep; /* nothing staged to look at */
	if (made >= 0 && t->j.steps[made].staged != NULL)
		where = staged_abs(t, t->j.steps[made].staged);
	else
		where = vk_strdup(abs);
	if (where == NULL) {
		st = vk_nomem(err);
		goto keep;
	}
	if (lstat(where, &sb) != 0)
		st = fs_error(err, errno, path, "cannot stat");
	else
		txn_id_from_stat(&s->id, &sb);
keep:
	vk_free(where);
	vk_free(abs);
	return step_keep(t, s, st, err);
}

desc_status fs_txn_chmod(fs_txn *t, const char *path, mode_t mode,
			 desc_error *err)
{
	return fixup_step(t, K_CHMOD, path, mode, err);
}

desc_status fs_txn_unlink(fs_txn *t, const char *path, desc_error *err)
{
	return fixup_step(t, K_REMOVE, path, 0, err);
}

/* ------------------------------------------------------------------ */
/* Commit and abort                                                    */
/* ------------------------------------------------------------------ */

/* Puts step s's staged entry in place. */
static desc_status place(fs_txn *t, const struct step *s, desc_error *err)
{
	char *final = NULL, *staged = NULL, *old = NULL;
	desc_status st = DESC_OK;
	struct stat sb;

	if (s->staged == NULL || s->parent >= 0 || s->kind == K_RENAME)
		return DESC_OK;
	final = txn_abs_in(t->j.root, s->kind == K_COPY ? s->to : s->path);
	staged = staged_abs(t, s->staged);
	if (final == NULL || staged == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (s->kind != K_REPLACE) {
		st = fs_rename_noreplace(staged, final, err);
		goto out;
	}
	/* git's lockfile rule: the file is still the one we read. */
	if (lstat(final, &sb) != 0 || !txn_id_match(&s->id, &sb, true)) {
		st = desc_error_set(err, DESC_E_REFUSED, txn_shown(s), 0,
				    "changed while vmdkit was working on it; nothing was written");
		goto out;
	}
	old = staged_abs(t, s->old);
	if (old == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	/* Keep the old file: a hard link leaves the name in place all the
	 * time; where links do not work, a rename does it with a gap the
	 * journal covers. */
	if (fp_link(final, old) != 0) {
		if (!link_unsupported(errno) || fp_rename(final, old) != 0) {
			st = fs_error(err, errno, txn_shown(s), "cannot keep the old content of");
			goto out;
		}
	}
	if (fp_rename(staged, final) != 0)
		st = fs_error(err, errno, txn_shown(s), "cannot replace");
out:
	vk_free(final);
	vk_free(staged);
	vk_free(old);
	return st;
}

/* Adds `rel`'s folder (absolute) to dirs unless there. */
static desc_status add_dir(const fs_txn *t, const char *rel, char ***dirs,
			   size_t *n)
{
	char *abs = txn_abs_in(t->j.root, rel), *dir = abs ? fs_dirname(abs) : NULL;
	char **grown;
	size_t k;

	vk_free(abs);
	if (dir == NULL)
		return DESC_E_NOMEM;
	for (k = 0; k < *n; k++)
		if (strcmp((*dirs)[k], dir) == 0) {
			vk_free(dir);
			return DESC_OK;
		}
	grown = vk_reallocarray(*dirs, *n + 1, sizeof(**dirs));
	if (grown == NULL) {
		vk_free(dir);
		return DESC_E_NOMEM;
	}
	*dirs = grown;
	(*dirs)[(*n)++] = dir;
	return DESC_OK;
}

/* Syncs every folder an entry went into or left. */
static desc_status sync_targets(fs_txn *t, desc_error *err)
{
	desc_status st = DESC_OK;
	char **dirs = NULL;
	size_t n = 0, i, k;

	for (i = 0; i < t->j.count && st == DESC_OK; i++) {
		const struct step *s = &t->j.steps[i];

		if (s->parent >= 0)
			continue; /* moved with its folder */
		if (s->kind == K_RENAME) {
			st = add_dir(t, s->path, &dirs, &n);
			if (st == DESC_OK)
				st = add_dir(t, s->to, &dirs, &n);
		} else if (s->kind == K_COPY) {
			st = add_dir(t, s->to, &dirs, &n);
		} else if (s->kind == K_MKDIR || s->kind == K_CREATE ||
			   s->kind == K_REPLACE) {
			st = add_dir(t, s->path, &dirs, &n);
		}
	}
	if (st == DESC_E_NOMEM)
		st = vk_nomem(err);
	for (k = 0; k < n; k++) {
		if (st == DESC_OK)
			st = fs_sync_dir(dirs[k], err);
		vk_free(dirs[k]);
	}
	vk_free(dirs);
	return st;
}

desc_status fs_txn_commit(fs_txn *t, desc_error *err)
{
	struct sbuf b = { NULL, 0, 0, false };
	desc_status st = DESC_OK;
	char num[32];
	size_t i;

	if (t->finished)
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "transaction already finished");
	if (dry(t)) {
		t->finished = true;
		return DESC_OK;
	}
	/* The batch's one sync point: staged files and journal at once. */
	if (!txn_sync_each(t))
		st = fs_sync_fs(t->j.root, err);
	for (i = 0; i < t->j.count && st == DESC_OK; i++)
		st = place(t, &t->j.steps[i], err);
	if (st == DESC_OK)
		st = sync_targets(t, err);
	if (st == DESC_OK) {
		snprintf(num, sizeof(num), "%zu", t->j.count);
		txn_sb_kv(&b, "commit", num);
		if (!txn_sync_each(t))
			t->flags &= ~(unsigned)FS_TXN_BATCH; /* fsync this one */
		st = txn_journal_append(t, &b, err);
		vk_free(b.s);
	}
	if (st != DESC_OK) {
		desc_error ignored;

		(void)fs_txn_abort(t, &ignored);
		return st;
	}
	t->finished = true;
	t->j.committed = true;
	close(t->jfd);
	t->jfd = -1;
	{
		desc_error e;
		char *why = NULL;

		desc_error_clear(&e);
		/* The fix-ups, then the staging folder: done by the same
		 * playback that finishes a dead run's commit. */
		if (txn_playback(&t->j, PB_DO, true, NULL, NULL, &why, &e) != DESC_OK) {
			char buf[DESC_ERROR_MESSAGE_MAX + DESC_ERROR_FILE_MAX + 8];

			desc_error_format(&e, buf, sizeof(buf));
			if (txn_note(t->notes, DESC_SEV_WARNING, "txn-unfinished",
				 t->j.staging,
				 "the change is made, but finishing it failed (%s): the next vmdkit run in '%s' finishes it",
				 why ? why : buf, t->j.root) != DESC_OK) {
				vk_free(why);
				return vk_nomem(err);
			}
		}
		vk_free(why);
	}
	return DESC_OK;
}

desc_status fs_txn_abort(fs_txn *t, desc_error *err)
{
	desc_status st;
	char *why = NULL;

	if (t == NULL || t->finished)
		return DESC_OK;
	t->finished = true;
	if (dry(t) || t->j.staging == NULL)
		return DESC_OK;
	if (t->jfd >= 0) {
		close(t->jfd);
		t->jfd = -1;
	}
	st = txn_playback(&t->j, PB_DO, true, NULL, NULL, &why, err);
	if (st != DESC_OK && why != NULL)
		desc_error_set(err, st, "", 0,
			       "cannot undo the unfinished change (journal kept in '%s'): %s",
			       t->j.staging, why);
	vk_free(why);
	return st;
}
