/*
 * txn.c - the transaction module (see txn.h for the contract, the step
 * vocabulary, the journal format and what recovery refuses).
 *
 * One playback routine (playback()) serves a live abort, the recovery of
 * a dead run's journal, a dry run's report of that recovery and `check`'s
 * description of it: it first checks every step against the filesystem
 * and only then, when nothing is refused, acts.
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
#include "descriptor/private.h"

/* A journal larger than this is not one of ours. */
#define JOURNAL_CAP (64u * 1024u * 1024u)
#define HOST_MAX 64

enum step_kind {
	K_MKDIR, K_CREATE, K_COPY, K_REPLACE, K_RENAME, K_WRITE, K_CHMOD,
	K_REMOVE, K_KINDS
};

static const char *const kind_word[K_KINDS] = {
	[K_MKDIR] = "mkdir", [K_CREATE] = "create", [K_COPY] = "copy",
	[K_REPLACE] = "replace", [K_RENAME] = "rename", [K_WRITE] = "write",
	[K_CHMOD] = "chmod", [K_REMOVE] = "remove",
};

/* Identity of a file: what recovery compares before touching it. */
struct txn_id {
	bool set;
	uint64_t dev, ino, size;
	unsigned mode;
};

struct step {
	enum step_kind kind;
	char *path;    /* relative to the root */
	char *to;      /* rename, copy */
	char *staged;  /* the new entry, relative to the staging folder */
	char *old;     /* replace: kept old file; write: old bytes */
	struct txn_id id, new_id;
	unsigned mode;
	uint64_t offset, length;
	long parent;   /* mkdir step whose folder holds the result, or -1 */
	char *shown, *shown_to; /* as the caller named them (reports) */
};

struct journal {
	char *root;    /* absolute */
	char *staging; /* absolute; NULL in a dry run */
	char *shown_staging; /* as found (reports); NULL: staging */
	char *host, *start, *command;
	unsigned long long pid;
	struct step *steps;
	size_t count;
	bool committed;
	bool finished; /* the journal is FS_TXN_DONE: only clean-up is left */
};

struct blocked {
	char *path; /* absolute */
	char *why;
};

struct fs_txn {
	struct journal j;
	unsigned flags;
	fs_txn_report_fn report;
	void *report_ctx;
	desc_findings *notes;
	struct blocked *blocked;
	size_t nblocked;
	int jfd;
	unsigned long seq;
	bool finished; /* committed or aborted */
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void id_from_stat(struct txn_id *id, const struct stat *st)
{
	id->set = true;
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mode = (unsigned)st->st_mode;
}

/* Same device, inode and file type; and size when `size` (folders have
 * none worth comparing). */
static bool id_match(const struct txn_id *id, const struct stat *st, bool size)
{
	return id->set && id->dev == (uint64_t)st->st_dev &&
	       id->ino == (uint64_t)st->st_ino &&
	       (id->mode & S_IFMT) == ((unsigned)st->st_mode & S_IFMT) &&
	       (!size || S_ISDIR(st->st_mode) ||
		id->size == (uint64_t)st->st_size);
}

/* lstat, and whether the entry is the recorded one. */
static bool is_recorded(const char *path, const struct txn_id *id, bool size)
{
	struct stat st;

	return lstat(path, &st) == 0 && id_match(id, &st, size);
}

static bool absent(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

/* errno of a link(2) that the filesystem cannot do (FAT, some NFS and
 * SMB servers, another filesystem): copy or rename instead. */
static bool link_unsupported(int e)
{
	return e == EXDEV || e == EPERM || e == EMLINK || e == ENOTSUP ||
	       e == EOPNOTSUPP || e == ENOSYS;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = fp_write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A growing text buffer; `oom` sticks. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char *piece;
	size_t n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	piece = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (piece == NULL) {
		b->oom = true;
		return;
	}
	n = strlen(piece);
	if (b->len + n + 1 > b->cap) {
		size_t want = (b->len + n + 1) * 2;
		char *s = vk_reallocarray(b->s, want, 1);

		if (s == NULL) {
			b->oom = true;
			vk_free(piece);
			return;
		}
		b->s = s;
		b->cap = want;
	}
	memcpy(b->s + b->len, piece, n + 1);
	b->len += n;
	vk_free(piece);
}

/* key = "value", the value encoded as the dictionary grammar wants. */
static void sb_kv(struct sbuf *b, const char *key, const char *value)
{
	char *enc = NULL;

	if (b->oom)
		return;
	if (desc_dict_encode_value(value, &enc, NULL) != DESC_OK) {
		b->oom = true;
		return;
	}
	sb_add(b, "%s = \"%s\"\n", key, enc);
	vk_free(enc);
}

static void sb_id(struct sbuf *b, const char *key, const struct txn_id *id)
{
	char v[96];

	if (!id->set)
		return;
	snprintf(v, sizeof(v), "%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%o",
		 id->dev, id->ino, id->size, id->mode);
	sb_kv(b, key, v);
}

/* A mode in octal, as ls and chmod write it (at most 8 digits). */
static bool parse_octal(const char *p, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;

	for (; *p != '\0'; p++, n++) {
		if (*p < '0' || *p > '7' || n == 8)
			return false;
		v = v * 8 + (unsigned)(*p - '0');
	}
	if (n == 0)
		return false;
	*out = v;
	return true;
}

/* "DEV:INO:SIZE:MODE", MODE in octal. */
static bool parse_id(const char *v, struct txn_id *id)
{
	const char *p = v;
	uint64_t n[3];
	unsigned mode;
	int i;

	for (i = 0; i < 3; i++) {
		if (desc_parse_number(&p, NULL, 10, UINT64_MAX, &n[i]) !=
			    DESC_NUMBER_OK || *p++ != ':')
			return false;
	}
	if (!parse_octal(p, &mode))
		return false;
	id->set = true;
	id->dev = n[0];
	id->ino = n[1];
	id->size = n[2];
	id->mode = (unsigned)mode;
	return true;
}

static char *abs_in(const char *root, const char *rel)
{
	char *joined = fs_join(root, rel), *res;

	if (joined == NULL)
		return NULL;
	res = fs_absolute(joined);
	vk_free(joined);
	return res;
}

/* ------------------------------------------------------------------ */
/* Owner: host, pid, process start                                     */
/* ------------------------------------------------------------------ */

static char *host_name(void)
{
	char buf[256];

	if (gethostname(buf, sizeof(buf)) != 0)
		return vk_strdup("localhost");
	buf[sizeof(buf) - 1] = '\0';
	return vk_strdup(buf);
}

/* The host as it may appear in a file name. */
static void host_label(const char *host, char *out, size_t size)
{
	size_t i;

	for (i = 0; host[i] != '\0' && i + 1 < size && i < HOST_MAX; i++) {
		char c = host[i];

		out[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_')
				 ? c : '_';
	}
	out[i] = '\0';
}

/* "BOOTID:STARTTIME" of process pid: when it started, so that a pid
 * reused by another process (or after a reboot) is told apart.  Linux
 * only; "" elsewhere or when /proc cannot say (the pid alone decides). */
static char *process_start(unsigned long long pid)
{
#ifdef __linux__
	char path[64], *boot = NULL, *stat = NULL, *res = NULL;
	const char *p, *start;
	size_t len, stat_len, field;

	snprintf(path, sizeof(path), "/proc/%llu/stat", pid);
	if (fs_read_file("/proc/sys/kernel/random/boot_id", 256, &boot, &len,
			 NULL) != DESC_OK ||
	    fs_read_file(path, 4096, &stat, &stat_len, NULL) != DESC_OK)
		goto out;
	while (len > 0 && (boot[len - 1] == '\n' || boot[len - 1] == ' '))
		boot[--len] = '\0';
	/* The command name may hold spaces and ')': fields count from the
	 * last ')'.  starttime is field 22; field 3 follows ") ". */
	p = strrchr(stat, ')');
	if (p == NULL)
		goto out;
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
	if (p == start)
		goto out;
	res = vk_asprintf("%s:%.*s", boot, (int)(p - start), start);
out:
	vk_free(boot);
	vk_free(stat);
	return res != NULL ? res : vk_strdup("");
#else
	(void)pid;
	return vk_strdup("");
#endif
}

/* The recorded owner still runs on this host.  A pid we may not signal
 * (EPERM) runs; a start identity that differs means the pid was reused. */
static bool owner_alive(unsigned long long pid, const char *start)
{
	char *now;
	bool alive = true;

	if (pid == 0 || pid > INT_MAX)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return false;
	if (start == NULL || start[0] == '\0')
		return true;
	now = process_start(pid);
	if (now != NULL && now[0] != '\0' && strcmp(now, start) != 0)
		alive = false;
	vk_free(now);
	return alive;
}

/* ------------------------------------------------------------------ */
/* Journals in memory                                                  */
/* ------------------------------------------------------------------ */

static void step_clear(struct step *s)
{
	vk_free(s->path);
	vk_free(s->to);
	vk_free(s->staged);
	vk_free(s->old);
	vk_free(s->shown);
	vk_free(s->shown_to);
}

static void journal_clear(struct journal *j)
{
	size_t i;

	for (i = 0; i < j->count; i++)
		step_clear(&j->steps[i]);
	vk_free(j->steps);
	vk_free(j->root);
	vk_free(j->staging);
	vk_free(j->shown_staging);
	vk_free(j->host);
	vk_free(j->start);
	vk_free(j->command);
	memset(j, 0, sizeof(*j));
}

static const char *shown(const struct step *s)
{
	return s->shown != NULL ? s->shown : s->path;
}

static const char *shown_to(const struct step *s)
{
	return s->shown_to != NULL ? s->shown_to : s->to;
}

/* Where the entry a step creates (its path, or a copy's/rename's `to`)
 * is now: in place once its folder (or itself) left staging, else in
 * staging.  Caller frees. */
static char *entry_now(const struct journal *j, const struct step *s)
{
	const char *final = s->kind == K_COPY || s->kind == K_RENAME ? s->to
								     : s->path;
	char *in_place = abs_in(j->root, final), *staged;
	long p = s->parent;

	if (in_place == NULL || s->staged == NULL || j->staging == NULL)
		return in_place;
	/* The outermost staged folder decides. */
	while (p >= 0 && j->steps[p].parent >= 0)
		p = j->steps[p].parent;
	if (p >= 0) {
		char *folder = abs_in(j->root, j->steps[p].path);
		bool placed = folder != NULL &&
			      is_recorded(folder, &j->steps[p].new_id, false);

		vk_free(folder);
		if (placed)
			return in_place;
	} else if (is_recorded(in_place, &s->new_id, true)) {
		return in_place;
	}
	staged = fs_join(j->staging, s->staged);
	vk_free(in_place);
	return staged;
}

/* Parses a journal's text: everything up to the last complete `end`
 * line. */
static desc_status journal_parse(const char *text, size_t len,
				 const char *name, struct journal *j,
				 desc_error *err)
{
	desc_dict *d = NULL;
	desc_status st;
	size_t cut = 0, i;
	const char *v;
	uint64_t n;

	for (i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t next = nl ? (size_t)(nl - text) + 1 : len;

		if (nl != NULL && next - i > 6 && memcmp(text + i, "end = ", 6) == 0)
			cut = next;
		i = next;
	}
	if (cut == 0)
		return desc_error_set(err, DESC_E_FORMAT, name, 0,
				      "journal has no complete record");
	st = desc_dict_parse(text, cut, name, &d, NULL, err);
	if (st != DESC_OK)
		return st;
	v = desc_dict_get(d, "version");
	if (v == NULL || strcmp(v, FS_TXN_VERSION) != 0) {
		st = desc_error_set(err, DESC_E_FORMAT, name, 0,
				    "journal version '%s' (expected %s)",
				    v ? v : "", FS_TXN_VERSION);
		goto out;
	}
	v = desc_dict_get(d, "pid");
	if (desc_dict_get(d, "host") == NULL || v == NULL ||
	    !desc_parse_number_all(v, strlen(v), 10, INT_MAX, &n) ||
	    desc_dict_get(d, "command") == NULL) {
		st = desc_error_set(err, DESC_E_FORMAT, name, 0,
				    "journal without host, pid or command");
		goto out;
	}
	j->pid = n;
	j->host = vk_strdup(desc_dict_get(d, "host"));
	j->command = vk_strdup(desc_dict_get(d, "command"));
	j->start = vk_strdup(desc_dict_get(d, "start") ? desc_dict_get(d, "start") : "");
	if (j->host == NULL || j->command == NULL || j->start == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	for (i = 1;; i++) {
		char key[64];
		struct step s, *grown;
		int k;

#define FIELD(f) (snprintf(key, sizeof(key), "step%zu." f, i), desc_dict_get(d, key))
		v = FIELD("action");
		if (v == NULL)
			break;
		memset(&s, 0, sizeof(s));
		s.parent = -1;
		for (k = 0; k < K_KINDS && strcmp(v, kind_word[k]) != 0; k++)
			;
		if (k == K_KINDS || FIELD("path") == NULL) {
			st = desc_error_set(err, DESC_E_FORMAT, name, 0,
					    "step %zu: unknown action '%s' or no path",
					    i, v);
			goto out;
		}
		s.kind = (enum step_kind)k;
		s.path = vk_strdup(FIELD("path"));
		if ((v = FIELD("to")) != NULL)
			s.to = vk_strdup(v);
		if ((v = FIELD("staged")) != NULL)
			s.staged = vk_strdup(v);
		if ((v = FIELD("old")) != NULL)
			s.old = vk_strdup(v);
		if (((v = FIELD("id")) != NULL && !parse_id(v, &s.id)) ||
		    ((v = FIELD("new")) != NULL && !parse_id(v, &s.new_id)) ||
		    ((v = FIELD("mode")) != NULL && !parse_octal(v, &s.mode))) {
			step_clear(&s);
			st = desc_error_set(err, DESC_E_FORMAT, name, 0,
					    "step %zu: bad identity or mode", i);
			goto out;
		}
		if ((v = FIELD("offset")) != NULL &&
		    desc_parse_number_all(v, strlen(v), 10, INT64_MAX, &n))
			s.offset = n;
		if ((v = FIELD("length")) != NULL &&
		    desc_parse_number_all(v, strlen(v), 10, SIZE_MAX, &n))
			s.length = n;
		if ((v = FIELD("parent")) != NULL &&
		    desc_parse_number_all(v, strlen(v), 10, i - 1, &n) && n > 0)
			s.parent = (long)n - 1;
#undef FIELD
		if (s.path == NULL || ((s.to == NULL) != (s.kind != K_RENAME &&
							    s.kind != K_COPY))) {
			bool oom = s.path == NULL;

			step_clear(&s);
			st = oom ? vk_nomem(err)
				 : desc_error_set(err, DESC_E_FORMAT, name, 0,
						  "step %zu: missing 'to'", i);
			goto out;
		}
		grown = vk_reallocarray(j->steps, j->count + 1, sizeof(*grown));
		if (grown == NULL) {
			step_clear(&s);
			st = vk_nomem(err);
			goto out;
		}
		j->steps = grown;
		j->steps[j->count++] = s;
	}
	v = desc_dict_get(d, "commit");
	j->committed = v != NULL &&
		       desc_parse_number_all(v, strlen(v), 10, SIZE_MAX, &n) &&
		       n == j->count;
out:
	desc_dict_free(d);
	return st;
}

/* Loads STAGING/FS_TXN_JOURNAL (or FS_TXN_DONE); root = STAGING's
 * parent. */
static desc_status journal_load(const char *staging, struct journal *j,
				desc_error *err)
{
	char *path = fs_join(staging, FS_TXN_JOURNAL), *text = NULL;
	desc_status st;
	size_t len;

	memset(j, 0, sizeof(*j));
	if (path == NULL)
		return vk_nomem(err);
	if (absent(path)) {
		vk_free(path);
		path = fs_join(staging, FS_TXN_DONE);
		if (path == NULL)
			return vk_nomem(err);
		j->finished = true;
	}
	st = fs_read_file(path, JOURNAL_CAP, &text, &len, err);
	if (st == DESC_OK)
		st = journal_parse(text, len, path, j, err);
	if (st == DESC_OK) {
		j->staging = fs_absolute(staging);
		j->root = j->staging ? fs_dirname(j->staging) : NULL;
		if (j->root == NULL)
			st = vk_nomem(err);
	}
	if (st != DESC_OK) {
		journal_clear(j);
	} else if (j->finished) {
		size_t i;

		/* Its steps are done: nothing of them may be replayed. */
		for (i = 0; i < j->count; i++)
			step_clear(&j->steps[i]);
		j->count = 0;
	}
	vk_free(text);
	vk_free(path);
	return st;
}

/* ------------------------------------------------------------------ */
/* Playback: the one routine that undoes or finishes a journal          */
/* ------------------------------------------------------------------ */

enum pb_mode {
	PB_CHECK,  /* find what would be refused; silent */
	PB_REPORT, /* report what would be done */
	PB_DO,     /* report and do */
};

struct pb {
	const struct journal *j;
	enum pb_mode mode;
	fs_txn_report_fn report;
	void *ctx;
	char *why;  /* first refusal */
	desc_error *err;
};

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
	if (fstat(fd, &sb) < 0 || !id_match(&s->id, &sb, false)) {
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
		path = abs_in(j->root, s->kind == K_COPY ? s->to : s->path);
		other = fs_join(j->staging, s->staged);
		if (path == NULL || other == NULL)
			return vk_nomem(pb->err);
		if (!is_recorded(path, &s->new_id, s->kind != K_MKDIR))
			break; /* never put in place, or not ours: leave it */
		if (act(pb, "remove", s->kind == K_COPY ? shown_to(s) : shown(s),
			NULL))
			st = fs_rename_noreplace(path, other, pb->err);
		break;
	case K_REPLACE:
		path = abs_in(j->root, s->path);
		other = s->old ? fs_join(j->staging, s->old) : NULL;
		if (path == NULL || (s->old != NULL && other == NULL))
			return vk_nomem(pb->err);
		if (lstat(path, &sb) == 0 && id_match(&s->id, &sb, true))
			break; /* not replaced yet */
		if (other == NULL || !is_recorded(other, &s->id, true)) {
			if (lstat(path, &sb) == 0 && id_match(&s->new_id, &sb, true))
				refuse(pb, "'%s' was replaced, but its old content is not in '%s' any more: restore '%s' by hand, then remove '%s'",
				       path, other ? other : j->staging, path,
				       j->staging);
			else if (lstat(path, &sb) == 0)
				refuse(pb, "'%s' is neither the file before nor the one after the step (something else changed it): check '%s' by hand, then remove '%s'",
				       path, path, j->staging);
			break;
		}
		if (lstat(path, &sb) == 0 && !id_match(&s->new_id, &sb, true)) {
			refuse(pb, "'%s' is neither the file before nor the one after the step (something else changed it): compare it with its old content in '%s', then remove '%s' by hand",
			       path, other, j->staging);
			break;
		}
		if (act(pb, "restore", shown(s), NULL))
			st = fp_rename(other, path) == 0 ? DESC_OK
				: fs_error(pb->err, errno, path, "cannot restore");
		break;
	case K_RENAME:
		path = abs_in(j->root, s->path);
		other = entry_now(j, s);
		if (path == NULL || other == NULL)
			return vk_nomem(pb->err);
		if (is_recorded(path, &s->id, true))
			break; /* not moved */
		if (!is_recorded(other, &s->id, true) || !absent(path)) {
			refuse(pb, "'%s' (moved to '%s') is not where the journal says: put it back by hand, then remove '%s'",
			       path, other, j->staging);
			break;
		}
		if (act(pb, "rename", shown_to(s), shown(s)))
			st = fs_rename_noreplace(other, path, pb->err);
		break;
	case K_WRITE:
		if (!s->new_id.set)
			break; /* old bytes never saved: never written */
		path = abs_in(j->root, s->path);
		other = s->old ? fs_join(j->staging, s->old) : NULL;
		if (path == NULL || other == NULL)
			return vk_nomem(pb->err);
		if (!is_recorded(path, &s->id, false) ||
		    !is_recorded(other, &s->new_id, true)) {
			refuse(pb, "'%s' is no longer the file whose bytes %" PRIu64 "..%" PRIu64 " were saved in '%s': restore them by hand, then remove '%s'",
			       path, s->offset, s->offset + s->length, other,
			       j->staging);
			break;
		}
		if (act(pb, "restore", shown(s), NULL))
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
	path = abs_in(j->root, s->path);
	if (path == NULL)
		return vk_nomem(pb->err);
	if (lstat(path, &sb) != 0) {
		if (s->kind == K_CHMOD || errno != ENOENT)
			refuse(pb, "'%s' is gone: it should get mode %o; nothing else is left to do, remove '%s' by hand",
			       path, s->mode, j->staging);
		goto out; /* removed already */
	}
	if (!id_match(&s->id, &sb, s->kind == K_REMOVE)) {
		refuse(pb, "'%s' is no longer the file the journal recorded: %s it by hand if it should be, then remove '%s'",
		       path, s->kind == K_CHMOD ? "chmod" : "remove", j->staging);
		goto out;
	}
	if (!act(pb, kind_word[s->kind], shown(s), NULL))
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
static desc_status playback(const struct journal *j, enum pb_mode mode,
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
	size_t len = strlen(name), i, hl = strlen(label);
	uint64_t v;

	if (len < strlen(FS_STAGING_PREFIX) + 10 || name[len - 7] != '-')
		return false;
	i = len - 7;
	while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
		i--;
	if (i == len - 7 || name[i - 1] != '-' ||
	    !desc_parse_number_all(name + i, len - 7 - i, 10, INT_MAX, &v))
		return false;
	if (i - 1 < hl + 1 || name[i - 2 - hl] != '-' ||
	    memcmp(name + i - 1 - hl, label, hl) != 0)
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
	size_t len = strlen(name), pre = strlen(FS_STAGING_PREFIX), i, end;
	const char *head;
	size_t head_len;
	uint64_t v;

	*target = NULL;
	if (len > pre && strncmp(name, FS_STAGING_PREFIX, pre) == 0) {
		/* desc's ".vmdkit-tmp-NAME-PID-N" */
		end = len;
		while (end > 0 && name[end - 1] >= '0' && name[end - 1] <= '9')
			end--;
		if (end == len || len - end > 2 || name[end - 1] != '-')
			return false;
		end--;
		i = end;
		while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
			i--;
		if (i == end || name[i - 1] != '-' || i - 1 <= pre)
			return false;
		head = name + pre;
		head_len = i - 1 - pre;
	} else if (len > 1 && name[0] == '.') {
		/* fs_replace's ".NAME.vmdkit-new-PID-XXXXXX" */
		if (len < 8 + sizeof(infix) || name[len - 7] != '-')
			return false;
		end = len - 7;
		i = end;
		while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9')
			i--;
		if (i == end || i < sizeof(infix) + 1 ||
		    memcmp(name + i - (sizeof(infix) - 1), infix,
			   sizeof(infix) - 1) != 0)
			return false;
		head = name + 1;
		head_len = i - (sizeof(infix) - 1) - 1;
		if (head_len == 0)
			return false;
	} else {
		return false;
	}
	if (!desc_parse_number_all(name + i, end - i, 10, INT_MAX, &v) ||
	    v == 0)
		return false;
	*target = vk_strndup(head, head_len);
	if (*target == NULL)
		return false;
	*pid = v;
	*alive = owner_alive(v, NULL);
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

static desc_status note(desc_findings *notes, desc_severity sev,
			const char *code, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static desc_status note(desc_findings *notes, desc_severity sev,
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
		char *p = abs_in(j->root, j->steps[i].path);
		char *q = j->steps[i].to ? abs_in(j->root, j->steps[i].to) : NULL;

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
	st = journal_load(where, &j, &e);
	if (st == DESC_E_NOMEM)
		return vk_nomem(sc->err);
	if (st == DESC_OK && (j.shown_staging = vk_strdup(where)) == NULL) {
		journal_clear(&j);
		return vk_nomem(sc->err);
	}
	if (st != DESC_OK) {
		char buf[DESC_ERROR_MESSAGE_MAX + DESC_ERROR_FILE_MAX + 8];

		desc_error_format(&e, buf, sizeof(buf));
		return note(sc->notes, DESC_SEV_WARNING, "txn-unreadable", where,
			    "journal that vmdkit cannot read (%s): left alone; look inside, then remove '%s' by hand",
			    buf, where) == DESC_OK ? DESC_OK : vk_nomem(sc->err);
	}
	if (strcmp(j.host, sc->host) != 0) {
		msg = vk_asprintf("'%s' belongs to `vmdkit %s` on host '%s' (process %llu): only a vmdkit run on '%s' may recover it; left alone",
				  where, j.command, j.host, j.pid, j.host);
		st = msg ? note(sc->notes, DESC_SEV_WARNING, "txn-foreign", where,
				"%s", msg) : DESC_E_NOMEM;
	} else if (owner_alive(j.pid, j.start)) {
		msg = vk_asprintf("'%s' belongs to `vmdkit %s`, still running (process %llu)",
				  where, j.command, j.pid);
		st = msg ? note(sc->notes, DESC_SEV_INFO, "txn-in-progress",
				where, "%s", msg) : DESC_E_NOMEM;
	} else {
		st = playback(&j, sc->flags & FS_TXN_DRY_RUN ? PB_REPORT : PB_DO,
			      true, sc->report, sc->ctx, &why, &e);
		if (st == DESC_E_NOMEM)
			goto out;
		if (st != DESC_OK) {
			char buf[DESC_ERROR_MESSAGE_MAX + DESC_ERROR_FILE_MAX + 8];

			desc_error_format(&e, buf, sizeof(buf));
			msg = vk_asprintf("cannot recover the interrupted `vmdkit %s` (process %llu is gone): %s; nothing of it was %s",
					  j.command, j.pid, why ? why : buf,
					  j.committed ? "finished" : "undone");
			st = msg ? note(sc->notes, DESC_SEV_WARNING, "txn-refused",
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
	journal_clear(&j);
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

		st = msg ? note(sc->notes, DESC_SEV_WARNING, "legacy-temp", where,
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
		    !owner_alive(pid, NULL)) {
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
	st = note(sc->notes, DESC_SEV_INFO, "txn-lookalike", where,
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

static desc_status recover_into(fs_txn *t, const char *dir, unsigned flags,
				fs_txn_report_fn report, void *ctx,
				desc_findings *notes, desc_error *err)
{
	char *host = host_name(), label[HOST_MAX + 1];
	struct scan sc = { t, flags, report, ctx, notes, NULL, NULL, err };
	desc_status st;

	if (host == NULL)
		return vk_nomem(err);
	host_label(host, label, sizeof(label));
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
	return recover_into(NULL, dir, flags, report, report_ctx, notes, err);
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
	sb_add(b, "%s%s '%s'", b->len && b->s[b->len - 1] != ' ' ? ", " : "",
	       action, path);
	if (to != NULL)
		sb_add(b, " to '%s'", to);
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
	st = journal_load(staging, &j, err);
	if (st != DESC_OK)
		return st;
	j.shown_staging = vk_strdup(staging);
	host = host_name();
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
	out->alive = out->this_host && owner_alive(j.pid, j.start);
	out->committed = j.committed;
	out->steps = j.count;
	desc_error_clear(&e);
	sb_add(&b, "%s", j.committed ? "roll forward: " : "roll back: ");
	st = playback(&j, PB_REPORT, true, plan_text, &b, &why, &e);
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
	journal_clear(&j);
	return st;
}

/* ------------------------------------------------------------------ */
/* The transaction                                                     */
/* ------------------------------------------------------------------ */

static bool dry(const fs_txn *t)
{
	return (t->flags & FS_TXN_DRY_RUN) != 0;
}

static bool sync_each(const fs_txn *t)
{
	return (t->flags & FS_TXN_BATCH) == 0;
}

/* Appends one record (and its end line) to the journal, fsynced unless
 * batched. */
static desc_status journal_append(fs_txn *t, struct sbuf *b, desc_error *err)
{
	const char *name = t->j.staging;

	sb_add(b, "end = \"%lu\"\n", t->seq++);
	if (b->oom)
		return vk_nomem(err);
	if (write_all(t->jfd, b->s, b->len) < 0)
		return fs_error(err, errno, name, "cannot write the journal in");
	if (sync_each(t) && fp_fsync(t->jfd) < 0)
		return fs_error(err, errno, name, "cannot sync the journal in");
	return DESC_OK;
}

static desc_status record_step(fs_txn *t, size_t i, desc_error *err)
{
	const struct step *s = &t->j.steps[i];
	struct sbuf b = { NULL, 0, 0, false };
	char key[64], num[32];
	desc_status st;

#define KEY(f) (snprintf(key, sizeof(key), "step%zu." f, i + 1), key)
	sb_kv(&b, KEY("action"), kind_word[s->kind]);
	sb_kv(&b, KEY("path"), s->path);
	if (s->to != NULL)
		sb_kv(&b, KEY("to"), s->to);
	if (s->staged != NULL)
		sb_kv(&b, KEY("staged"), s->staged);
	if (s->old != NULL)
		sb_kv(&b, KEY("old"), s->old);
	if (s->parent >= 0) {
		snprintf(num, sizeof(num), "%ld", s->parent + 1);
		sb_kv(&b, KEY("parent"), num);
	}
	sb_id(&b, KEY("id"), &s->id);
	sb_id(&b, KEY("new"), &s->new_id);
	if (s->kind == K_CHMOD || s->kind == K_MKDIR) {
		snprintf(num, sizeof(num), "%o", s->mode);
		sb_kv(&b, KEY("mode"), num);
	}
	if (s->kind == K_WRITE) {
		snprintf(num, sizeof(num), "%" PRIu64, s->offset);
		sb_kv(&b, KEY("offset"), num);
		snprintf(num, sizeof(num), "%" PRIu64, s->length);
		sb_kv(&b, KEY("length"), num);
	}
#undef KEY
	st = journal_append(t, &b, err);
	vk_free(b.s);
	return st;
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
	journal_clear(&t->j);
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
	t->j.host = host_name();
	t->j.command = vk_strdup(command);
	t->j.pid = (unsigned long long)getpid();
	t->j.start = process_start(t->j.pid);
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
	st = recover_into(t, root, flags, report, report_ctx, notes, err);
	if (st != DESC_OK || dry(t))
		goto done;
	host_label(t->j.host, label, sizeof(label));
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
	sb_add(&b, "# vmdkit transaction journal: see `vmdkit check`; do not edit\n");
	sb_kv(&b, "version", FS_TXN_VERSION);
	sb_kv(&b, "host", t->j.host);
	sb_kv(&b, "pid", pid);
	sb_kv(&b, "start", t->j.start);
	sb_kv(&b, "command", command);
	st = journal_append(t, &b, err);
	/* The staging folder's name must survive a crash for the journal
	 * to be found. */
	if (st == DESC_OK && sync_each(t))
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
		st = record_step(t, t->j.count, err);
	if (st != DESC_OK) {
		step_clear(s);
		return st;
	}
	t->j.count++;
	if (t->report != NULL)
		t->report(t->report_ctx, kind_word[s->kind], shown(s),
			  shown_to(s));
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
	if (created_by(t, rel) >= 0 || !absent(abs))
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
			id_from_stat(&s->id, &sb);
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
		id_from_stat(&s->new_id, &sb);
	if (st != DESC_OK && !absent(staged)) {
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
	struct fill_buf f = { buf, len, mode, sync_each(t) };

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
		id_from_stat(&s->id, sb);
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
	st = fs_write_new(staged, buf, len, 0600, sync_each(t), err);
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
		id_from_stat(&s->new_id, &sb);
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
		id_from_stat(&s->new_id, &sb);
		s->length = got;
		st = record_step(t, t->j.count, err);
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
		id_from_stat(&s->id, &sb);
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
	final = abs_in(t->j.root, s->kind == K_COPY ? s->to : s->path);
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
	if (lstat(final, &sb) != 0 || !id_match(&s->id, &sb, true)) {
		st = desc_error_set(err, DESC_E_REFUSED, shown(s), 0,
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
			st = fs_error(err, errno, shown(s), "cannot keep the old content of");
			goto out;
		}
	}
	if (fp_rename(staged, final) != 0)
		st = fs_error(err, errno, shown(s), "cannot replace");
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
	char *abs = abs_in(t->j.root, rel), *dir = abs ? fs_dirname(abs) : NULL;
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
	if (!sync_each(t))
		st = fs_sync_fs(t->j.root, err);
	for (i = 0; i < t->j.count && st == DESC_OK; i++)
		st = place(t, &t->j.steps[i], err);
	if (st == DESC_OK)
		st = sync_targets(t, err);
	if (st == DESC_OK) {
		snprintf(num, sizeof(num), "%zu", t->j.count);
		sb_kv(&b, "commit", num);
		if (!sync_each(t))
			t->flags &= ~(unsigned)FS_TXN_BATCH; /* fsync this one */
		st = journal_append(t, &b, err);
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
		if (playback(&t->j, PB_DO, true, NULL, NULL, &why, &e) != DESC_OK) {
			char buf[DESC_ERROR_MESSAGE_MAX + DESC_ERROR_FILE_MAX + 8];

			desc_error_format(&e, buf, sizeof(buf));
			if (note(t->notes, DESC_SEV_WARNING, "txn-unfinished",
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
	st = playback(&t->j, PB_DO, true, NULL, NULL, &why, err);
	if (st != DESC_OK && why != NULL)
		desc_error_set(err, st, "", 0,
			       "cannot undo the unfinished change (journal kept in '%s'): %s",
			       t->j.staging, why);
	vk_free(why);
	return st;
}
