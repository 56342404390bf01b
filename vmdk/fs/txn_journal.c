/*
 * txn_journal.c - the transaction journal (format in txn.h): the
 * identities it records (of files, and of the process that owns it),
 * the records a live transaction appends, and the parser that reads
 * them back with desc_dict_parse.
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
#include "vmdk/fs/os.h"
#include "vmdk/fs/txn.h"
#include "vmdk/fs/txn_private.h"
#include "descriptor/private.h"

const char *const txn_kind_word[K_KINDS] = {
	[K_MKDIR] = "mkdir", [K_CREATE] = "create", [K_COPY] = "copy",
	[K_REPLACE] = "replace", [K_RENAME] = "rename", [K_WRITE] = "write",
	[K_CHMOD] = "chmod", [K_REMOVE] = "remove",
};

void txn_id_from_stat(struct txn_id *id, const struct stat *st)
{
	id->set = true;
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mode = (unsigned)st->st_mode;
}

/* Same device, inode and file type; and size when `size` (folders have
 * none worth comparing). */
bool txn_id_match(const struct txn_id *id, const struct stat *st, bool size)
{
	return id->set && id->dev == (uint64_t)st->st_dev &&
	       id->ino == (uint64_t)st->st_ino &&
	       (id->mode & S_IFMT) == ((unsigned)st->st_mode & S_IFMT) &&
	       (!size || S_ISDIR(st->st_mode) ||
		id->size == (uint64_t)st->st_size);
}

/* lstat, and whether the entry is the recorded one. */
bool txn_is_recorded(const char *path, const struct txn_id *id, bool size)
{
	struct stat st;

	return lstat(path, &st) == 0 && txn_id_match(id, &st, size);
}

bool txn_absent(const char *path)
{
	struct stat st;

	return lstat(path, &st) != 0 && errno == ENOENT;
}

void txn_sb_add(struct sbuf *b, const char *fmt, ...)
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
void txn_sb_kv(struct sbuf *b, const char *key, const char *value)
{
	char *enc = NULL;

	if (b->oom)
		return;
	if (desc_dict_encode_value(value, &enc, NULL) != DESC_OK) {
		b->oom = true;
		return;
	}
	txn_sb_add(b, "%s = \"%s\"\n", key, enc);
	vk_free(enc);
}

static void sb_id(struct sbuf *b, const char *key, const struct txn_id *id)
{
	char v[96];

	if (!id->set)
		return;
	snprintf(v, sizeof(v), "%" PRIu64 ":%" PRIu64 ":%" PRIu64 ":%o",
		 id->dev, id->ino, id->size, id->mode);
	txn_sb_kv(b, key, v);
}

/* A mode in octal, as ls and chmod write it (at most 8 digits). */
static bool parse_octal(const char *p, unsigned *out)
{
	size_t n = strlen(p);
	uint64_t v;

	if (n > 8 || !desc_parse_number_all(p, n, 8, UINT32_MAX, &v))
		return false;
	*out = (unsigned)v;
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

char *txn_abs_in(const char *root, const char *rel)
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

char *txn_host_name(void)
{
	char buf[256];

	if (gethostname(buf, sizeof(buf)) != 0)
		return vk_strdup("localhost");
	buf[sizeof(buf) - 1] = '\0';
	return vk_strdup(buf);
}

/* The host as it may appear in a file name. */
void txn_host_label(const char *host, char *out, size_t size)
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
 * reused by another process (or after a reboot) is told apart.  "" where
 * the OS layer cannot say (the pid alone decides). */
char *txn_process_start(unsigned long long pid)
{
	char buf[OS_PROCESS_START_MAX];

	if (os_process_start(pid, buf, sizeof(buf)) != 0)
		return vk_strdup("");
	return vk_strdup(buf);
}

/* The recorded owner still runs on this host.  A pid we may not signal
 * (EPERM) runs; a start identity that differs means the pid was reused. */
bool txn_owner_alive(unsigned long long pid, const char *start)
{
	char *now;
	bool alive = true;

	if (pid == 0 || pid > INT_MAX)
		return false;
	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return false;
	if (start == NULL || start[0] == '\0')
		return true;
	now = txn_process_start(pid);
	if (now != NULL && now[0] != '\0' && strcmp(now, start) != 0)
		alive = false;
	vk_free(now);
	return alive;
}

/* ------------------------------------------------------------------ */
/* Journals in memory                                                  */
/* ------------------------------------------------------------------ */

void txn_step_clear(struct step *s)
{
	vk_free(s->path);
	vk_free(s->to);
	vk_free(s->staged);
	vk_free(s->old);
	vk_free(s->shown);
	vk_free(s->shown_to);
}

void txn_journal_clear(struct journal *j)
{
	size_t i;

	for (i = 0; i < j->count; i++)
		txn_step_clear(&j->steps[i]);
	vk_free(j->steps);
	vk_free(j->root);
	vk_free(j->staging);
	vk_free(j->shown_staging);
	vk_free(j->host);
	vk_free(j->start);
	vk_free(j->command);
	memset(j, 0, sizeof(*j));
}

const char *txn_shown(const struct step *s)
{
	return s->shown != NULL ? s->shown : s->path;
}

const char *txn_shown_to(const struct step *s)
{
	return s->shown_to != NULL ? s->shown_to : s->to;
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
		for (k = 0; k < K_KINDS && strcmp(v, txn_kind_word[k]) != 0; k++)
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
			txn_step_clear(&s);
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

			txn_step_clear(&s);
			st = oom ? vk_nomem(err)
				 : desc_error_set(err, DESC_E_FORMAT, name, 0,
						  "step %zu: missing 'to'", i);
			goto out;
		}
		grown = vk_reallocarray(j->steps, j->count + 1, sizeof(*grown));
		if (grown == NULL) {
			txn_step_clear(&s);
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
desc_status txn_journal_load(const char *staging, struct journal *j,
			     desc_error *err)
{
	char *path = fs_join(staging, FS_TXN_JOURNAL), *text = NULL;
	desc_status st;
	size_t len;

	memset(j, 0, sizeof(*j));
	if (path == NULL)
		return vk_nomem(err);
	if (txn_absent(path)) {
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
		txn_journal_clear(j);
	} else if (j->finished) {
		size_t i;

		/* Its steps are done: nothing of them may be replayed. */
		for (i = 0; i < j->count; i++)
			txn_step_clear(&j->steps[i]);
		j->count = 0;
	}
	vk_free(text);
	vk_free(path);
	return st;
}

bool txn_sync_each(const fs_txn *t)
{
	return (t->flags & FS_TXN_BATCH) == 0;
}

/* Appends one record (and its end line) to the journal, fsynced unless
 * batched. */
desc_status txn_journal_append(fs_txn *t, struct sbuf *b, desc_error *err)
{
	const char *name = t->j.staging;

	txn_sb_add(b, "end = \"%lu\"\n", t->seq++);
	if (b->oom)
		return vk_nomem(err);
	if (fs_write_full(t->jfd, b->s, b->len) < 0)
		return fs_error(err, errno, name, "cannot write the journal in");
	if (txn_sync_each(t) && fp_fsync(t->jfd) < 0)
		return fs_error(err, errno, name, "cannot sync the journal in");
	return DESC_OK;
}

desc_status txn_record_step(fs_txn *t, size_t i, desc_error *err)
{
	const struct step *s = &t->j.steps[i];
	struct sbuf b = { NULL, 0, 0, false };
	char key[64], num[32];
	desc_status st;

#define KEY(f) (snprintf(key, sizeof(key), "step%zu." f, i + 1), key)
	txn_sb_kv(&b, KEY("action"), txn_kind_word[s->kind]);
	txn_sb_kv(&b, KEY("path"), s->path);
	if (s->to != NULL)
		txn_sb_kv(&b, KEY("to"), s->to);
	if (s->staged != NULL)
		txn_sb_kv(&b, KEY("staged"), s->staged);
	if (s->old != NULL)
		txn_sb_kv(&b, KEY("old"), s->old);
	if (s->parent >= 0) {
		snprintf(num, sizeof(num), "%ld", s->parent + 1);
		txn_sb_kv(&b, KEY("parent"), num);
	}
	sb_id(&b, KEY("id"), &s->id);
	sb_id(&b, KEY("new"), &s->new_id);
	if (s->kind == K_CHMOD || s->kind == K_MKDIR) {
		snprintf(num, sizeof(num), "%o", s->mode);
		txn_sb_kv(&b, KEY("mode"), num);
	}
	if (s->kind == K_WRITE) {
		snprintf(num, sizeof(num), "%" PRIu64, s->offset);
		txn_sb_kv(&b, KEY("offset"), num);
		snprintf(num, sizeof(num), "%" PRIu64, s->length);
		txn_sb_kv(&b, KEY("length"), num);
	}
#undef KEY
	st = txn_journal_append(t, &b, err);
	vk_free(b.s);
	return st;
}
