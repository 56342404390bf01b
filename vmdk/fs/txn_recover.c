/*
 * txn_recover.c - undoing and finishing journals, and finding them.
 *
 * One playback routine (txn_playback()) serves a live abort, the
 * recovery of a dead run's journal, a dry run's report of that recovery
 * and `check`'s description of it: it first checks every step against
 * the filesystem and only then, when nothing is refused, acts.  The scan
 * of a folder (txn_recover_into) decides, per staging folder, whether
 * playback may run at all.
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

/* ------------------------------------------------------------------ */
/* Playback: the one routine that undoes or finishes a journal          */
/* ------------------------------------------------------------------ */

struct pb {
	const struct journal *j;
	enum pb_mode mode;
	fs_txn_report_fn report;
	void *ctx;
	char *why;  /* first refusal */
	desc_error *err;
};

/* Where the entry a step creates (its path, or a copy's/rename's `to`)
 * is now: in place once its folder (or itself) left staging, else in
 * staging.  Caller frees. */
static char *entry_now(const struct journal *j, const struct step *s)
{
	const char *final = s->kind == K_COPY || s->kind == K_RENAME ? s->to
								     : s->path;
	char *in_place = txn_abs_in(j->root, final), *staged;
	long p = s->parent;

	if (in_place == NULL || s->staged == NULL || j->staging == NULL)
		return in_place;
	/* The outermost staged folder decides. */
	while (p >= 0 && j->steps[p].parent >= 0)
		p = j->steps[p].parent;
	if (p >= 0) {
		char *folder = txn_abs_in(j->root, j->steps[p].path);
		bool placed = folder != NULL &&
			      txn_is_recorded(folder, &j->steps[p].new_id, false);

		vk_free(folder);
		if (placed)
			return in_place;
	} else if (txn_is_recorded(in_place, &s->new_id, true)) {
		return in_place;
	}
	staged = fs_join(j->staging, s->staged);
	vk_free(in_place);
	return staged;
}

static void refuse(struct pb *pb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void refuse(struct pb *pb, const char *fmt, ...)
{
	va_list ap;

	if (pb->why != NULL)
		return;
	va_start(ap, fmt);
	pb->why = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (pb->why == NULL)
		pb->why = vk_strdup("out of memory");
}

/* Reports an action; true when it must also be done. */
static bool act(struct pb *pb, const char *action, const char *path,
		const char *to)
{
	if (pb->mode == PB_CHECK)
		return false;
	if (pb->report != NULL)
		pb->report(pb->ctx, action, path, to);
	return pb->mode == PB_DO;
}

static desc_status undo_write(const struct step *s, const char *path,
			      const char *saved, desc_error *err)
{
	char *old = NULL;
	size_t len = 0;
	desc_status st;
	struct stat sb;
	int fd;

	st = fs_read_file(saved, (size_t)s->length, &old, &len, err);
	if (st != DESC_OK)
		return st;
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		st = fs_error(err, errno, path, "cannot open");
		goto out;
	}
	if (fstat(fd, &sb) < 0 || !txn_id_match(&s->id, &sb, false)) {
		st = desc_error_set(err, DESC_E_REFUSED, path, 0,
				    "changed while being restored");
		goto close;
	}
	for (size_t done = 0; done < len;) {
		ssize_t n = fp_pwrite(fd, old + done, len - done,
				      (off_t)(s->offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = fs_error(err, errno, path, "cannot write");
			goto close;
		}
		done += (size_t)n;
	}
	if ((uint64_t)sb.st_size > s->id.size &&
	    fp_ftruncate(fd, (off_t)s->id.size) < 0) {
		st = fs_error(err, errno, path, "cannot truncate");
		goto close;
	}
	if (fp_fsync(fd) < 0)
		st = fs_error(err, errno, path, "cannot sync");
close:
	close(fd);
out:
	vk_free(old);
	return st;
}

/* Undoes step s if it was applied (rollback, newest first). */
static desc_status undo_step(struct pb *pb, const struct step *s)
{
	const struct journal *j = pb->j;
	char *path = NULL, *other = NULL;
	desc_status st = DESC_OK;
	struct stat sb;

	switch (s->kind) {
	case K_MKDIR:
	case K_CREATE:
	case K_COPY:
		/* Inside a staged folder it goes with the folder. */
		if (s->parent >= 0 || s->staged == NULL)
			break;
		path = txn_abs_in(j->root, s->kind == K_COPY ? s->to : s->path);
		other = fs_join(j->staging, s->staged);
		if (path == NULL || other == NULL)
			return vk_nomem(pb->err);
		if (!txn_is_recorded(path, &s->new_id, s->kind != K_MKDIR))
			break; /* never put in place, or not ours: leave it */
		if (act(pb, "remove", s->kind == K_COPY ? txn_shown_to(s) : txn_shown(s),
			NULL))
			st = fs_rename_noreplace(path, other, pb->err);
		break;
	case K_REPLACE:
		path = txn_abs_in(j->root, s->path);
		other = s->old ? fs_join(j->staging, s->old) : NULL;
		if (path == NULL || (s->old != NULL && other == NULL))
			return vk_nomem(pb->err);
		if (lstat(path, &sb) == 0 && txn_id_match(&s->id, &sb, true))
			break; /* not replaced yet */
		if (other == NULL || !txn_is_recorded(other, &s->id, true)) {
			if (lstat(path, &sb) == 0 && txn_id_match(&s->new_id, &sb, true))
				refuse(pb, "'%s' was replaced, but its old content is not in '%s' any more: restore '%s' by hand, then remove '%s'",
				       path, other ? other : j->staging, path,
				       j->staging);
			else if (lstat(path, &sb) == 0)
				refuse(pb, "'%s' is neither the file before nor the one after the step (something else changed it): check '%s' by hand, then remove '%s'",
				       path, path, j->staging);
			break;
		}
		if (lstat(path, &sb) == 0 && !txn_id_match(&s->new_id, &sb, true)) {
			refuse(pb, "'%s' is neither the file before nor the one after the step (something else changed it): compare it with its old content in '%s', then remove '%s' by hand",
			       path, other, j->staging);
			break;
		}
		if (act(pb, "restore", txn_shown(s), NULL))
			st = fp_rename(other, path) == 0 ? DESC_OK
				: fs_error(pb->err, errno, path, "cannot restore");
		break;
	case K_RENAME:
		path = txn_abs_in(j->root, s->path);
		other = entry_now(j, s);
		if (path == NULL || other == NULL)
			return vk_nomem(pb->err);
		if (txn_is_recorded(path, &s->id, true))
			break; /* not moved */
		if (!txn_is_recorded(other, &s->id, true) || !txn_absent(path)) {
			refuse(pb, "'%s' (moved to '%s') is not where the journal says: put it back by hand, then remove '%s'",
			       path, other, j->staging);
			break;
		}
		if (act(pb, "rename", txn_shown_to(s), txn_shown(s)))
			st = fs_rename_noreplace(other, path, pb->err);
		break;
	case K_WRITE:
		if (!s->new_id.set)
			break; /* old bytes never saved: never written */
		path = txn_abs_in(j->root, s->path);
		other = s->old ? fs_join(j->staging, s->old) : NULL;
		if (path == NULL || other == NULL)
			return vk_nomem(pb->err);
		if (!txn_is_recorded(path, &s->id, false) ||
		    !txn_is_recorded(other, &s->new_id, true)) {
			refuse(pb, "'%s' is no longer the file whose bytes %" PRIu64 "..%" PRIu64 " were saved in '%s': restore them by hand, then remove '%s'",
			       path, s->offset, s->offset + s->length, other,
			       j->staging);
			break;
		}
		if (act(pb, "restore", txn_shown(s), NULL))
			st = undo_write(s, path, other, pb->err);
		break;
	default:
		break; /* fix-ups are never done before the commit */
	}
	vk_free(path);
	vk_free(other);
	return st;
}

/* Does fix-up s (roll forward). */
static desc_status redo_step(struct pb *pb, const struct step *s)
{
	const struct journal *j = pb->j;
	desc_status st = DESC_OK;
	char *path;
	struct stat sb;

	if (s->kind != K_CHMOD && s->kind != K_REMOVE)
		return DESC_OK;
	path = txn_abs_in(j->root, s->path);
	if (path == NULL)
		return vk_nomem(pb->err);
	if (lstat(path, &sb) != 0) {
		if (s->kind == K_CHMOD || errno != ENOENT)
			refuse(pb, "'%s' is gone: it should get mode %o; nothing else is left to do, remove '%s' by hand",
			       path, s->mode, j->staging);
		goto out; /* removed already */
	}
	if (!txn_id_match(&s->id, &sb, s->kind == K_REMOVE)) {
		refuse(pb, "'%s' is no longer the file the journal recorded: %s it by hand if it should be, then remove '%s'",
		       path, s->kind == K_CHMOD ? "chmod" : "remove", j->staging);
		goto out;
	}
	if (!act(pb, txn_kind_word[s->kind], txn_shown(s), NULL))
		goto out;
	if (s->kind == K_CHMOD) {
		if (fchmodat(AT_FDCWD, path, (mode_t)s->mode, 0) != 0)
			st = fs_error(pb->err, errno, path, "cannot chmod");
	} else if ((S_ISDIR(sb.st_mode) ? fp_rmdir(path) : fp_unlink(path)) != 0) {
		st = fs_error(pb->err, errno, path, "cannot remove");
	}
out:
	vk_free(path);
	return st;
}

/* The end of every playback: the staging folder goes (all of it is the
 * transaction's own).  The journal is first renamed FS_TXN_DONE, so that
 * a run killed in the middle leaves a folder the next one only finishes
 * removing, and it goes last, so that the folder never holds files
 * without it. */
static desc_status drop_staging(struct pb *pb)
{
	const char *staging = pb->j->staging;
	char *journal = fs_join(staging, FS_TXN_JOURNAL);
	char *done = fs_join(staging, FS_TXN_DONE);
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d = NULL;

	if (journal == NULL || done == NULL) {
		st = vk_nomem(pb->err);
		goto out;
	}
	if (!act(pb, "remove", pb->j->shown_staging ? pb->j->shown_staging
						   : staging, NULL))
		goto out;
	if (!pb->j->finished && fp_rename(journal, done) != 0) {
		st = fs_error(pb->err, errno, journal, "cannot rename");
		goto out;
	}
	st = fs_opendir(staging, &d, pb->err);
	while (st == DESC_OK && (de = readdir(d)) != NULL) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, FS_TXN_DONE) == 0)
			continue;
		p = fs_join(staging, de->d_name);
		st = p ? fs_remove_tree(p, pb->err) : vk_nomem(pb->err);
		vk_free(p);
		rewinddir(d);
	}
	if (d != NULL)
		closedir(d);
	if (st == DESC_OK && fp_unlink(done) != 0)
		st = fs_error(pb->err, errno, done, "cannot remove");
	if (st == DESC_OK && fp_rmdir(staging) != 0)
		st = fs_error(pb->err, errno, staging, "cannot remove");
	if (st == DESC_OK)
		st = fs_sync_dir(pb->j->root, pb->err);
out:
	vk_free(journal);
	vk_free(done);
	return st;
}

/* Rolls j back (not committed) or forward (committed).  mode PB_DO or
 * PB_REPORT; a refusal (*why, caller frees) does nothing and returns
 * DESC_E_REFUSED with err saying why. */
desc_status txn_playback(const struct journal *j, enum pb_mode mode,
			 bool with_staging, fs_txn_report_fn report,
			 void *ctx, char **why, desc_error *err)
{
	struct pb pb = { j, PB_CHECK, NULL, NULL, NULL, err };
	desc_status st = DESC_OK;
	size_t i;
	int pass;

	if (why != NULL)
		*why = NULL;
	for (pass = 0; pass < 2 && st == DESC_OK; pass++) {
		pb.mode = pass == 0 ? PB_CHECK : mode;
		pb.report = report;
		pb.ctx = ctx;
		if (pass == 1 && report != NULL && with_staging)
			report(ctx, j->committed ? "rollforward" : "rollback",
			       j->shown_staging ? j->shown_staging : j->staging,
			       NULL);
		if (j->committed)
			for (i = 0; i < j->count && st == DESC_OK; i++)
				st = redo_step(&pb, &j->steps[i]);
		else
			for (i = j->count; i-- > 0 && st == DESC_OK;)
				st = undo_step(&pb, &j->steps[i]);
		if (pb.why != NULL) {
			st = desc_error_set(err, DESC_E_REFUSED, "", 0, "%s",
					    pb.why);
			break;
		}
	}
	if (st == DESC_OK && with_staging)
		st = drop_staging(&pb);
	if (why != NULL)
		*why = pb.why;
	else
		vk_free(pb.why);
	return st;
}

/* ------------------------------------------------------------------ */
/* Finding leftovers                                                   */
/* ------------------------------------------------------------------ */

/* "<prefix>LABEL-HOST-PID-XXXXXX": true with *pid when LABEL-HOST ends
 * in "-" + this host's label. */
static bool staging_name_ours(const char *name, const char *label,
			      unsigned long long *pid)
{
	size_t len = strlen(name), head, hl = strlen(label);
	unsigned long long v;

	if (len < strlen(FS_STAGING_PREFIX) + 10 || name[len - 7] != '-' ||
	    !fs_name_pid_before(name, len - 7, &v, &head))
		return false;
	if (head < hl + 1 || name[head - 1 - hl] != '-' ||
	    memcmp(name + head - hl, label, hl) != 0)
		return false;
	*pid = v;
	return true;
}

/* A folder holding nothing, or only an empty journal: a run killed while
 * it began, before its first record.  No byte can be lost by removing it. */
static bool staging_empty(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
	struct dirent *de;
	bool empty = true;
	DIR *d;

	if (fd < 0)
		return false;
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return false;
	}
	while ((de = readdir(d)) != NULL && empty) {
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		empty = strcmp(de->d_name, FS_TXN_JOURNAL) == 0 &&
			fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			S_ISREG(sb.st_mode) && sb.st_size == 0;
	}
	closedir(d);
	return empty;
}

bool fs_txn_legacy_temp(const char *name, char **target,
			unsigned long long *pid, bool *alive)
{
	static const char infix[] = ".vmdkit-new-";
	size_t len = strlen(name), pre = strlen(FS_STAGING_PREFIX), n = 0, h;
	const char *head;
	size_t head_len;
	unsigned long long v;

	*target = NULL;
	if (len > pre && strncmp(name, FS_STAGING_PREFIX, pre) == 0) {
		/* desc's ".vmdkit-tmp-NAME-PID-N", N of one or two digits */
		while (n < len && n < 3 && name[len - 1 - n] >= '0' &&
		       name[len - 1 - n] <= '9')
			n++;
		if (n == 0 || n > 2 || n == len || name[len - 1 - n] != '-' ||
		    !fs_name_pid_before(name, len - 1 - n, &v, &h) || h <= pre)
			return false;
		head = name + pre;
		head_len = h - pre;
	} else if (len > 1 && name[0] == '.') {
		/* fs_replace's ".NAME.vmdkit-new-PID-XXXXXX" */
		if (len < 8 + sizeof(infix) || name[len - 7] != '-' ||
		    !fs_name_pid_before(name, len - 7, &v, &h) ||
		    h < sizeof(infix) ||
		    memcmp(name + h + 1 - (sizeof(infix) - 1), infix,
			   sizeof(infix) - 1) != 0)
			return false;
		head = name + 1;
		head_len = h - (sizeof(infix) - 1);
		if (head_len == 0)
			return false;
	} else {
		return false;
	}
	*target = vk_strndup(head, head_len);
	if (*target == NULL)
		return false;
	*pid = v;
	*alive = txn_owner_alive(v, NULL);
	return true;
}

static desc_status block(fs_txn *t, const char *path, const char *why)
{
	struct blocked *b;

	if (t == NULL)
		return DESC_OK;
	b = vk_reallocarray(t->blocked, t->nblocked + 1, sizeof(*b));
	if (b == NULL)
		return DESC_E_NOMEM;
	t->blocked = b;
	b[t->nblocked].path = fs_absolute(path);
	b[t->nblocked].why = vk_strdup(why);
	if (b[t->nblocked].path == NULL || b[t->nblocked].why == NULL) {
		vk_free(b[t->nblocked].path);
		vk_free(b[t->nblocked].why);
		return DESC_E_NOMEM;
	}
	t->nblocked++;
	return DESC_OK;
}

desc_status txn_note(desc_findings *notes, desc_severity sev,
		     const char *code, const char *file, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	desc_status st;

	if (notes == NULL)
		return DESC_OK;
	va_start(ap, fmt);
	msg = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (msg == NULL)
		return DESC_E_NOMEM;
	st = desc_findings_add(notes, sev, code, file, 0, "%s", msg);
	vk_free(msg);
	return st;
}

/* Blocks every path a journal names. */
static desc_status block_journal(fs_txn *t, const struct journal *j,
				 const char *why)
{
	desc_status st = DESC_OK;
	size_t i;

	for (i = 0; i < j->count && st == DESC_OK; i++) {
		char *p = txn_abs_in(j->root, j->steps[i].path);
		char *q = j->steps[i].to ? txn_abs_in(j->root, j->steps[i].to) : NULL;

		if (p == NULL || (j->steps[i].to != NULL && q == NULL))
			st = DESC_E_NOMEM;
		if (st == DESC_OK)
			st = block(t, p, why);
		if (st == DESC_OK && q != NULL)
			st = block(t, q, why);
		vk_free(p);
		vk_free(q);
	}
	return st;
}

struct scan {
	fs_txn *t; /* blocks go here; may be NULL */
	unsigned flags;
	fs_txn_report_fn report;
	void *ctx;
	desc_findings *notes;
	const char *host, *label;
	desc_error *err;
};

/* One staging folder that holds a journal. */
static desc_status scan_journal(struct scan *sc, const char *where)
{
	struct journal j;
	desc_error e;
	desc_status st;
	char *why = NULL, *msg = NULL;

	desc_error_clear(&e);
	st = txn_journal_load(where, &j, &e);
	if (st == DESC_E_NOMEM)
		return vk_nomem(sc->err);
	if (st == DESC_OK && (j.shown_staging = vk_strdup(where)) == NULL) {
		txn_journal_clear(&j);
		return vk_nomem(sc->err);
	}
	if (st != DESC_OK) {
		char buf[DESC_ERROR_MESSAGE_MAX + DESC_ERROR_FILE_MAX + 8];

		desc_error_format(&e, buf, sizeof(buf));
		return txn_note(sc->notes, DESC_SEV_WARNING, "txn-unreadable", where,
			    "journal that vmdkit cannot read (%s): left alone; look inside, then remove '%s' by hand",
			    buf, where) == DESC_OK ? DESC_OK : vk_nomem(sc->err);
	}
	if (strcmp(j.host, sc->host) != 0) {
		msg = vk_asprintf("'%s' belongs to `vmdkit %s` on host '%s' (process %llu): only a vmdkit run on '%s' may recover it; left alone",
				  where, j.command, j.host, j.pid, j.host);
		st = msg ? txn_note(sc->notes, DESC_SEV_WARNING, "txn-foreign", where,
				"%s", msg) : DESC_E_NOMEM;
	} else if (txn_owner_alive(j.pid, j.start)) {
		msg = vk_asprintf("'%s' belongs to `vmdkit %s`, still running (process %llu)",
				  where, j.command, j.pid);
		st = msg ? txn_note(sc->notes, DESC_SEV_INFO, "txn-in-progress",
				where, "%s", msg) : DESC_E_NOMEM;
	} else {
		st = txn_playback(&j, sc->flags & FS_TXN_DRY_RUN ? PB_REPORT : PB_DO,
			      true, sc->report, sc->ctx, &why, &e);
		if (st == DESC_E_NOMEM)
			goto out;
		if (st != DESC_OK) {
			char buf[DESC_ERROR_MESSAGE_MAX + DESC_ERROR_FILE_MAX + 8];

			desc_error_format(&e, buf, sizeof(buf));
			msg = vk_asprintf("cannot recover the interrupted `vmdkit %s` (process %llu is gone): %s; nothing of it was %s",
					  j.command, j.pid, why ? why : buf,
					  j.committed ? "finished" : "undone");
			st = msg ? txn_note(sc->notes, DESC_SEV_WARNING, "txn-refused",
					where, "%s", msg) : DESC_E_NOMEM;
		} else {
			vk_free(msg);
			msg = NULL;
		}
	}
	if (st == DESC_OK && msg != NULL)
		st = block_journal(sc->t, &j, msg);
out:
	vk_free(why);
	vk_free(msg);
	txn_journal_clear(&j);
	return st == DESC_E_NOMEM ? vk_nomem(sc->err) : st;
}

static bool done_there(const char *staging)
{
	char *p = fs_join(staging, FS_TXN_DONE);
	struct stat sb;
	bool there = p != NULL && lstat(p, &sb) == 0 && S_ISREG(sb.st_mode);

	vk_free(p);
	return there;
}

static desc_status scan_entry(struct scan *sc, const char *dir, int dfd,
			      const char *name)
{
	char *where = fs_join(dir, name), *jpath = NULL, *target = NULL;
	unsigned long long pid;
	desc_status st = DESC_OK;
	struct stat sb, jb;
	bool alive;

	if (where == NULL)
		return vk_nomem(sc->err);
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		goto out;
	if (fs_txn_legacy_temp(name, &target, &pid, &alive) &&
	    S_ISREG(sb.st_mode)) {
		char *tpath = fs_join(dir, target);
		char *msg = tpath ? vk_asprintf("'%s' is a temporary file of %s vmdkit 0.1.0 edit of '%s' (process %llu%s), which keeps no journal: vmdkit does not remove it; compare it with '%s', keep the right content, then remove '%s' by hand",
						where, alive ? "a running" : "an interrupted",
						tpath, pid, alive ? " runs" : " is gone",
						tpath, where) : NULL;

		st = msg ? txn_note(sc->notes, DESC_SEV_WARNING, "legacy-temp", where,
				"%s", msg) : DESC_E_NOMEM;
		if (st == DESC_OK)
			st = block(sc->t, tpath, msg);
		vk_free(msg);
		vk_free(tpath);
		goto out;
	}
	if (strncmp(name, FS_STAGING_PREFIX, strlen(FS_STAGING_PREFIX)) != 0)
		goto out;
	if (S_ISDIR(sb.st_mode)) {
		jpath = fs_join(where, FS_TXN_JOURNAL);
		if (jpath == NULL) {
			st = DESC_E_NOMEM;
			goto out;
		}
		if (staging_empty(dfd, name) &&
		    staging_name_ours(name, sc->label, &pid) &&
		    !txn_owner_alive(pid, NULL)) {
			/* Killed while it began: nothing to undo. */
			if (sc->report != NULL)
				sc->report(sc->ctx, "remove", where, NULL);
			if (!(sc->flags & FS_TXN_DRY_RUN))
				st = fs_remove_tree(where, sc->err);
			goto out;
		}
		if ((lstat(jpath, &jb) == 0 && S_ISREG(jb.st_mode)) ||
		    done_there(where)) {
			st = scan_journal(sc, where);
			goto out;
		}
	}
	st = txn_note(sc->notes, DESC_SEV_INFO, "txn-lookalike", where,
		  "'%s' is named like a vmdkit staging %s but holds no journal: never removed by vmdkit",
		  where, S_ISDIR(sb.st_mode) ? "folder" : "file");
out:
	vk_free(target);
	vk_free(jpath);
	vk_free(where);
	return st == DESC_E_NOMEM ? vk_nomem(sc->err) : st;
}

static desc_status scan_dir(struct scan *sc, const char *dir)
{
	char **names = NULL;
	size_t count = 0, i;
	desc_status st;
	struct dirent *de;
	DIR *d;

	st = fs_opendir(dir, &d, sc->err);
	if (st != DESC_OK)
		return st;
	/* Names first: recovery changes the folder under readdir. */
	while ((de = readdir(d)) != NULL) {
		char **grown;

		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		grown = vk_reallocarray(names, count + 1, sizeof(*names));
		if (grown == NULL || (grown[count] = vk_strdup(de->d_name)) == NULL) {
			if (grown != NULL)
				names = grown;
			st = vk_nomem(sc->err);
			break;
		}
		names = grown;
		count++;
	}
	for (i = 0; i < count && st == DESC_OK; i++)
		st = scan_entry(sc, dir, dirfd(d), names[i]);
	closedir(d);
	for (i = 0; i < count; i++)
		vk_free(names[i]);
	vk_free(names);
	return st;
}

desc_status txn_recover_into(fs_txn *t, const char *dir, unsigned flags,
			     fs_txn_report_fn report, void *ctx,
			     desc_findings *notes, desc_error *err)
{
	char *host = txn_host_name(), label[HOST_MAX + 1];
	struct scan sc = { t, flags, report, ctx, notes, NULL, NULL, err };
	desc_status st;

	if (host == NULL)
		return vk_nomem(err);
	txn_host_label(host, label, sizeof(label));
	sc.host = host;
	sc.label = label;
	st = scan_dir(&sc, dir);
	vk_free(host);
	return st;
}

desc_status fs_txn_recover(const char *dir, unsigned flags,
			   fs_txn_report_fn report, void *report_ctx,
			   desc_findings *notes, desc_error *err)
{
	return txn_recover_into(NULL, dir, flags, report, report_ctx, notes, err);
}

/* ------------------------------------------------------------------ */
/* Describing a journal (check)                                        */
/* ------------------------------------------------------------------ */

static void plan_text(void *ctx, const char *action, const char *path,
		      const char *to)
{
	struct sbuf *b = ctx;

	if (strcmp(action, "rollback") == 0 || strcmp(action, "rollforward") == 0)
		return;
	txn_sb_add(b, "%s%s '%s'", b->len && b->s[b->len - 1] != ' ' ? ", " : "",
	       action, path);
	if (to != NULL)
		txn_sb_add(b, " to '%s'", to);
}

void fs_txn_info_clear(fs_txn_info *info)
{
	if (info == NULL)
		return;
	vk_free(info->host);
	vk_free(info->command);
	vk_free(info->first_path);
	vk_free(info->plan);
	memset(info, 0, sizeof(*info));
}

desc_status fs_txn_describe(const char *staging, fs_txn_info *out,
			    desc_error *err)
{
	struct sbuf b = { NULL, 0, 0, false };
	struct journal j;
	desc_error e;
	char *host = NULL, *why = NULL;
	desc_status st;

	memset(out, 0, sizeof(*out));
	st = txn_journal_load(staging, &j, err);
	if (st != DESC_OK)
		return st;
	j.shown_staging = vk_strdup(staging);
	host = txn_host_name();
	out->host = vk_strdup(j.host);
	out->command = vk_strdup(j.command);
	out->first_path = vk_strdup(j.count ? j.steps[0].path : "");
	if (host == NULL || out->host == NULL || out->command == NULL ||
	    out->first_path == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	out->pid = j.pid;
	out->this_host = strcmp(host, j.host) == 0;
	out->alive = out->this_host && txn_owner_alive(j.pid, j.start);
	out->committed = j.committed;
	out->steps = j.count;
	desc_error_clear(&e);
	txn_sb_add(&b, "%s", j.committed ? "roll forward: " : "roll back: ");
	st = txn_playback(&j, PB_REPORT, true, plan_text, &b, &why, &e);
	if (st == DESC_E_NOMEM || b.oom) {
		st = vk_nomem(err);
		goto out;
	}
	if (st != DESC_OK) {
		out->refused = true;
		out->plan = vk_asprintf("refuses: %s", why ? why : e.message);
	} else {
		out->plan = b.s;
		b.s = NULL;
	}
	st = out->plan ? DESC_OK : vk_nomem(err);
out:
	if (st != DESC_OK)
		fs_txn_info_clear(out);
	vk_free(b.s);
	vk_free(why);
	vk_free(host);
	txn_journal_clear(&j);
	return st;
}
