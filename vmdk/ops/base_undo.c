/*
 * base_undo.c - putting a master back when `vmdkit base` fails or is
 * killed: base_rollback undoes a failed step from what the job
 * remembers; the undo record (format below) written before the master
 * changes lets the next run undo an uncommitted base or finish a
 * committed one (base_recover).  A transaction module is to replace this
 * machinery, hence one file with one way in from base.c (base.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/base.h"
#include "vmdk/ops/ops.h"
#include "descriptor/private.h"

/* Best effort: puts the master back as it was.  When a step fails, the
 * staging folder stays, with its undo record: the next run retries. */
void base_rollback(struct base_job *job)
{
	desc_error ignored;
	bool whole = true;
	size_t i;

	for (i = 0; i < job->ndisks; i++) {
		struct base_disk *d = &job->disks[i];

		if (d->desc_renamed &&
		    fs_rename_noreplace(d->moved_path, d->path, &ignored) != DESC_OK)
			whole = false;
		if (d->area_edited && job->files[d->file].moved) {
			char *p = base_staged(job, d->name);
			int fd = -1;

			if (p != NULL && chmod(p, 0600) == 0 &&
			    (fd = open(p, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) >= 0 &&
			    fp_pwrite(fd, d->area_orig, d->area_len,
				      (off_t)d->area_offset) == (ssize_t)d->area_len &&
			    fp_fsync(fd) == 0) {
				/* restored */
			} else {
				whole = false;
			}
			if (fd >= 0)
				close(fd);
			vk_free(p);
		}
	}
	for (i = 0; i < job->nfiles; i++) {
		struct base_file *f = &job->files[i];
		char *p;

		if (!f->moved)
			continue;
		p = base_staged(job, f->name);
		if (p != NULL && chmod(p, f->mode) == 0 &&
		    fp_rename(p, f->src) == 0)
			f->moved = false;
		else
			whole = false;
		vk_free(p);
	}
	if (job->basedir_removed && fp_mkdir(job->basedir, 0755) != 0)
		whole = false;
	if (job->staging != NULL && whole)
		fs_remove_tree(job->staging, &ignored);
}

/* ------------------------------------------------------------------ */
/* undo record: what an unfinished base did to its master             */
/* ------------------------------------------------------------------ */

/*
 * Before the first change to the master (a monolithic file's descriptor
 * area, the modes its extents share with their hard links in the base,
 * the descriptors renamed to .vmdkit-moved), the staging folder gets an
 * undo record, UNDO_NAME, fsynced:
 *
 *   vmdkit-base-undo 1
 *   file HOW MODE DEV INO      one per base file (HOW 1: a hard link to
 *   name NAME                  the master's file, 2: a copy whose original
 *   path SRC                   goes after the commit, 0: a copy the master
 *                              keeps; MODE octal, before the base touched
 *                              it; DEV INO: the master's file)
 *   desc DEV INO               one per master text descriptor renamed
 *   path PATH                  (when moving)
 *   area FILE OFFSET LEN       one per embedded descriptor edited (FILE:
 *   orig HEX                   index of its "file" record), original and
 *   edit HEX                   edited bytes
 *   emptydir                   BASEDIR was an empty folder (removed
 *                              before the commit)
 *   end
 *
 * The staging folder is named by fs_make_staging_undo so that no other
 * command's cleanup removes it.  The commit renames it, record and all,
 * to BASEDIR: a record in a staging folder means "not committed: undo",
 * one in BASEDIR "committed: finish" (remove the master's names of the
 * base files, then the record).  A run killed anywhere is thus repaired
 * by the next `vmdkit base` with the same BASEDIR, from facts it checks
 * first (every master file still the same inode, a descriptor area still
 * holding exactly the bytes we wrote or the original ones); what it
 * cannot prove, it refuses, saying what to do by hand.
 */
#define UNDO_MAGIC "vmdkit-base-undo 1"

struct undo_file {
	bool linked;             /* a hard link to the master's file */
	bool remove;             /* the master's name goes after the commit */
	mode_t mode;
	uint64_t dev, ino;
	char *name;
	char *path;
};

struct undo_desc {
	uint64_t dev, ino;
	char *path;
};

struct undo_area {
	size_t file;
	uint64_t off;
	size_t len;
	char *orig;
	char *edit;
};

struct undo {
	struct undo_file *files;
	size_t nfiles;
	struct undo_desc *descs;
	size_t ndescs;
	struct undo_area *areas;
	size_t nareas;
	bool emptydir;
	bool complete;           /* "end" read: written in full */
};

static void undo_clear(struct undo *u)
{
	size_t i;

	for (i = 0; i < u->nfiles; i++) {
		vk_free(u->files[i].name);
		vk_free(u->files[i].path);
	}
	for (i = 0; i < u->ndescs; i++)
		vk_free(u->descs[i].path);
	for (i = 0; i < u->nareas; i++) {
		vk_free(u->areas[i].orig);
		vk_free(u->areas[i].edit);
	}
	vk_free(u->files);
	vk_free(u->descs);
	vk_free(u->areas);
	memset(u, 0, sizeof(*u));
}

/* Appends to a growing text; false on allocation failure. */
static bool text_add(char **text, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool text_add(char **text, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *piece, *grown;
	size_t n;

	va_start(ap, fmt);
	piece = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (piece == NULL)
		return false;
	n = strlen(piece);
	grown = vk_reallocarray(*text, *len + n + 1, 1);
	if (grown == NULL) {
		vk_free(piece);
		return false;
	}
	memcpy(grown + *len, piece, n + 1);
	*text = grown;
	*len += n;
	vk_free(piece);
	return true;
}

static bool text_add_hex(char **text, size_t *len, const char *key,
			 const unsigned char *p, size_t n)
{
	char *grown;
	size_t k = strlen(key);

	grown = vk_reallocarray(*text, *len + k + 2 * n + 3, 1);
	if (grown == NULL)
		return false;
	*text = grown;
	memcpy(*text + *len, key, k);
	*len += k;
	(*text)[(*len)++] = ' ';
	vk_hex_encode(p, n, *text + *len);
	*len += 2 * n;
	(*text)[(*len)++] = '\n';
	(*text)[*len] = '\0';
	return true;
}

desc_status base_write_undo(struct base_job *job)
{
	char *text = NULL, *path = NULL;
	size_t len = 0, i;
	desc_status st = DESC_OK;
	bool ok;

	/* The record is one value a line. */
	for (i = 0; i < job->nfiles; i++)
		if (strchr(job->files[i].src, '\n') != NULL)
			return desc_error_set(job->err, DESC_E_REFUSED,
					      job->files[i].src, 0,
					      "path holds a newline (expected a path without one)");
	for (i = 0; i < job->ndisks; i++)
		if (strchr(job->disks[i].path, '\n') != NULL)
			return desc_error_set(job->err, DESC_E_REFUSED,
					      job->disks[i].path, 0,
					      "path holds a newline (expected a path without one)");
	ok = text_add(&text, &len, "%s\n", UNDO_MAGIC);
	for (i = 0; ok && i < job->nfiles; i++) {
		const struct base_file *f = &job->files[i];

		/* 1: a link; 2: a copy whose original goes after the
		 * commit (another filesystem); 0: a copy the master keeps. */
		ok = text_add(&text, &len, "file %d %o %llu %llu\nname %s\npath %s\n",
			      f->moved ? 1 : f->copied ? 2 : 0,
			      (unsigned)f->mode, (unsigned long long)f->dev,
			      (unsigned long long)f->ino, f->name, f->src);
	}
	for (i = 0; ok && i < job->ndisks; i++) {
		const struct base_disk *d = &job->disks[i];

		if (!job->opt->copy && !d->embedded)
			ok = text_add(&text, &len, "desc %llu %llu\npath %s\n",
				      (unsigned long long)d->dev,
				      (unsigned long long)d->ino, d->path);
		if (ok && d->area_new != NULL)
			ok = text_add(&text, &len, "area %zu %llu %zu\n", d->file,
				      (unsigned long long)d->area_offset,
				      d->area_len) &&
			     text_add_hex(&text, &len, "orig",
					  (const unsigned char *)d->area_orig,
					  d->area_len) &&
			     text_add_hex(&text, &len, "edit",
					  (const unsigned char *)d->area_new,
					  d->area_len);
	}
	if (ok && job->basedir_empty)
		ok = text_add(&text, &len, "emptydir\n");
	if (ok)
		ok = text_add(&text, &len, "end\n");
	path = base_staged(job, UNDO_NAME);
	if (!ok || path == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	st = fs_write_new(path, text, len, 0400, true, job->err);
	if (st == DESC_OK)
		st = fs_sync_dir(job->staging, job->err);
out:
	vk_free(path);
	vk_free(text);
	return st;
}

/* Cursor helpers for the record: advance *p only on success. */

/* " NUMBER" in `base`, at most max. */
static bool cur_sp_number(const char **p, unsigned base, uint64_t max,
			  uint64_t *out)
{
	const char *q = *p;

	if (*q != ' ')
		return false;
	q++;
	if (desc_parse_number(&q, NULL, base, max, out) != DESC_NUMBER_OK)
		return false;
	*p = q;
	return true;
}

/* " NUMBER", decimal. */
static bool cur_sp_u64(const char **p, uint64_t *out)
{
	return cur_sp_number(p, 10, UINT64_MAX, out);
}

/* " MODE", octal as write_undo prints it, at most 07777. */
static bool cur_sp_mode(const char **p, mode_t *out)
{
	uint64_t v;

	if (!cur_sp_number(p, 8, 07777, &v))
		return false;
	*out = (mode_t)v;
	return true;
}

/* "KEY REST" -> REST, or NULL. */
static const char *line_value(const char *line, const char *key)
{
	size_t k = strlen(key);

	if (strncmp(line, key, k) != 0 || line[k] != ' ')
		return NULL;
	return line + k + 1;
}

/* Exactly 2*want lowercase hex digits (text_add_hex's), decoded into a
 * vk_malloc'ed buffer; NULL for anything else or on allocation failure. */
static char *hex_decode(const char *hex, size_t want)
{
	size_t len = strlen(hex);
	char *out;

	if (len != 2 * want || strspn(hex, "0123456789abcdef") != len)
		return NULL;
	out = vk_malloc(want ? want : 1);
	if (out != NULL && !vk_hex_decode(hex, len, out, want)) {
		vk_free(out);
		out = NULL;
	}
	return out;
}

/* Splits the record in place into lines (it is NUL-terminated). */
static desc_status undo_parse(char *text, const char *path, struct undo *u,
			      desc_error *err)
{
	char *lines[3] = { NULL, NULL, NULL };
	char *p = text, *nl;
	desc_status st = DESC_OK;
	size_t lineno = 0;

	memset(u, 0, sizeof(*u));
	nl = strchr(p, '\n');
	if (nl == NULL || (size_t)(nl - p) != strlen(UNDO_MAGIC) ||
	    strncmp(p, UNDO_MAGIC, strlen(UNDO_MAGIC)) != 0)
		return DESC_OK; /* cut short before its first line: empty */
	p = nl + 1;
	lineno = 1;
	while (*p != '\0') {
		const char *c;
		uint64_t a, b, m, l;
		mode_t mode;
		size_t need = 0, k;

		nl = strchr(p, '\n');
		if (nl == NULL)
			break; /* cut short: not complete */
		*nl = '\0';
		lineno++;
		if (strcmp(p, "end") == 0) {
			u->complete = true;
			break;
		}
		if (strcmp(p, "emptydir") == 0) {
			u->emptydir = true;
			p = nl + 1;
			continue;
		}
		if (strncmp(p, "file ", 5) == 0 || strncmp(p, "desc ", 5) == 0)
			need = p[0] == 'f' ? 3 : 2;
		else if (strncmp(p, "area ", 5) == 0)
			need = 3;
		else
			goto bad;
		lines[0] = p;
		for (k = 1; k < need; k++) {
			char *q = nl + 1, *e = strchr(q, '\n');

			if (e == NULL)
				goto out; /* cut short */
			*e = '\0';
			lines[k] = q;
			nl = e;
			lineno++;
		}
		if (need == 3 && lines[0][0] == 'f') {
			struct undo_file *grown, *f;
			const char *name = line_value(lines[1], "name");
			const char *src = line_value(lines[2], "path");

			c = lines[0] + 4;
			if (!cur_sp_u64(&c, &l) || l > 2 ||
			    !cur_sp_mode(&c, &mode) ||
			    !cur_sp_u64(&c, &a) || !cur_sp_u64(&c, &b) ||
			    *c != '\0' || name == NULL || src == NULL)
				goto bad;
			grown = vk_reallocarray(u->files, u->nfiles + 1,
						sizeof(*grown));
			if (grown == NULL)
				goto nomem;
			u->files = grown;
			f = &u->files[u->nfiles++];
			memset(f, 0, sizeof(*f));
			f->linked = l == 1;
			f->remove = l != 0;
			f->mode = mode;
			f->dev = a;
			f->ino = b;
			f->name = vk_strdup(name);
			f->path = vk_strdup(src);
			if (f->name == NULL || f->path == NULL)
				goto nomem;
		} else if (need == 2) {
			struct undo_desc *grown, *d;
			const char *dpath = line_value(lines[1], "path");

			c = lines[0] + 4;
			if (!cur_sp_u64(&c, &a) || !cur_sp_u64(&c, &b) ||
			    *c != '\0' || dpath == NULL)
				goto bad;
			grown = vk_reallocarray(u->descs, u->ndescs + 1,
						sizeof(*grown));
			if (grown == NULL)
				goto nomem;
			u->descs = grown;
			d = &u->descs[u->ndescs++];
			d->dev = a;
			d->ino = b;
			d->path = vk_strdup(dpath);
			if (d->path == NULL)
				goto nomem;
		} else {
			struct undo_area *grown, *ar;
			const char *o = line_value(lines[1], "orig");
			const char *e = line_value(lines[2], "edit");

			c = lines[0] + 4;
			if (!cur_sp_u64(&c, &a) || !cur_sp_u64(&c, &m) ||
			    !cur_sp_u64(&c, &l) || *c != '\0' ||
			    l > DESC_MAX_INPUT || o == NULL || e == NULL)
				goto bad;
			grown = vk_reallocarray(u->areas, u->nareas + 1,
						sizeof(*grown));
			if (grown == NULL)
				goto nomem;
			u->areas = grown;
			ar = &u->areas[u->nareas++];
			memset(ar, 0, sizeof(*ar));
			ar->file = (size_t)a;
			ar->off = m;
			ar->len = (size_t)l;
			ar->orig = hex_decode(o, ar->len);
			ar->edit = hex_decode(e, ar->len);
			if (ar->orig == NULL || ar->edit == NULL)
				goto bad;
			if (ar->file >= u->nfiles)
				goto bad;
		}
		p = nl + 1;
	}
out:
	return st;
nomem:
	undo_clear(u);
	return vk_nomem(err);
bad:
	undo_clear(u);
	return desc_error_set(err, DESC_E_FORMAT, path, (unsigned)lineno,
			      "unreadable undo record of an interrupted base (expected lines as vmdkit base writes them; restore the master by hand, then remove the folder)");
}

static desc_status undo_read(const char *path, struct undo *u, desc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	desc_status st;

	memset(u, 0, sizeof(*u));
	/* Two hex copies of an area of at most DESC_MAX_INPUT bytes. */
	st = fs_read_file(path, DESC_MAX_INPUT * 5, &text, &len, err);
	if (st == DESC_OK && strlen(text) != len)
		st = desc_error_set(err, DESC_E_FORMAT, path, 0,
				    "undo record holds a NUL byte");
	if (st == DESC_OK)
		st = undo_parse(text, path, u, err);
	vk_free(text);
	return st;
}

static bool same_file(const struct stat *sb, uint64_t dev, uint64_t ino)
{
	return S_ISREG(sb->st_mode) && (uint64_t)sb->st_dev == dev &&
	       (uint64_t)sb->st_ino == ino;
}

/* The refusal when a record cannot be applied safely. */
static desc_status undo_refuse(struct base_job *job, const char *where,
			       const char *why, const char *path)
{
	return desc_error_set(job->err, DESC_E_REFUSED, where, 0,
			      "interrupted base cannot be undone safely: %s '%s' (expected the master as that run left it; restore by hand: rename each NAME.vmdk%s back to NAME.vmdk, chmod u+w the master's extents, then remove '%s')",
			      why, path, MOVED_SUFFIX, where);
}

/* An existing empty folder (or one we cannot read: not empty). */
static bool dir_is_empty(const char *path)
{
	struct dirent *de;
	bool empty = true;
	DIR *d = opendir(path);

	if (d == NULL)
		return false;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 ||
			strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* What the kill left, checked before anything is changed. */
enum area_state { AREA_ORIG, AREA_EDITED };

static desc_status area_state(struct base_job *job, const char *where,
			      const struct undo_file *f,
			      const struct undo_area *ar, enum area_state *out)
{
	desc_status st = DESC_OK;
	char *buf = vk_malloc(ar->len ? ar->len : 1);
	size_t got = 0;
	int fd;

	if (buf == NULL)
		return vk_nomem(job->err);
	fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		st = fs_error(job->err, errno, f->path, "cannot open");
		goto out;
	}
	st = fs_pread_full(fd, buf, ar->len, ar->off, &got, f->path, job->err);
	close(fd);
	if (st != DESC_OK)
		goto out;
	if (got == ar->len && memcmp(buf, ar->orig, ar->len) == 0)
		*out = AREA_ORIG;
	else if (got == ar->len && memcmp(buf, ar->edit, ar->len) == 0)
		*out = AREA_EDITED;
	else
		st = undo_refuse(job, where,
				 "the embedded descriptor changed since in",
				 f->path);
out:
	vk_free(buf);
	return st;
}

static desc_status area_restore(struct base_job *job,
				const struct undo_file *f,
				const struct undo_area *ar)
{
	desc_status st = DESC_OK;
	struct stat sb;
	int fd;

	/* Its mode may be the base's 0444 by now (set back after this):
	 * chmod through a descriptor of the inode the record names. */
	fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fs_error(job->err, errno, f->path, "cannot open");
	if (fstat(fd, &sb) != 0 || !same_file(&sb, f->dev, f->ino))
		st = undo_refuse(job, job->basedir, "master extent replaced:",
				 f->path);
	else if (fchmod(fd, (f->mode | 0200) & 07777) != 0)
		st = fs_error(job->err, errno, f->path, "cannot chmod");
	close(fd);
	if (st != DESC_OK)
		return st;
	fd = open(f->path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fs_error(job->err, errno, f->path, "cannot open");
	if (fstat(fd, &sb) != 0 || !same_file(&sb, f->dev, f->ino))
		st = undo_refuse(job, job->basedir, "master extent replaced:",
				 f->path);
	else if (fp_pwrite(fd, ar->orig, ar->len, (off_t)ar->off) != (ssize_t)ar->len ||
		 fp_fsync(fd) != 0)
		st = fs_error(job->err, errno ? errno : EIO, f->path,
			      "cannot restore the descriptor of");
	close(fd);
	if (st == DESC_OK)
		base_report(job, "restore", f->path);
	return st;
}

/* chmod of a master file back to its mode, through a descriptor of the
 * very inode the record names (never a symlink put there since). */
static desc_status restore_mode(struct base_job *job, const struct undo_file *f)
{
	desc_status st = DESC_OK;
	struct stat sb;
	int fd;

	fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return fs_error(job->err, errno, f->path, "cannot open");
	if (fstat(fd, &sb) != 0 || !same_file(&sb, f->dev, f->ino))
		st = undo_refuse(job, job->basedir, "master extent replaced:",
				 f->path);
	else if (fchmod(fd, f->mode) != 0)
		st = fs_error(job->err, errno, f->path, "cannot chmod");
	else
		base_report(job, "chmod", f->path);
	close(fd);
	return st;
}

/* A killed run's staging folder `where`: checks the master against its
 * record, puts the master back, removes the folder. */
static desc_status undo_staging(struct base_job *job, const char *where)
{
	struct undo u = { 0 };
	enum area_state *areas = NULL;
	bool *renamed = NULL;
	char *rec = fs_join(where, UNDO_NAME), *moved = NULL;
	desc_status st = DESC_OK;
	struct stat sb;
	size_t i;

	if (rec == NULL)
		return vk_nomem(job->err);
	/* Only our own folder and record are trusted to say which files
	 * to chmod and rename (the parent folder may be shared). */
	if (lstat(where, &sb) != 0 || sb.st_uid != geteuid()) {
		st = undo_refuse(job, where, "not owned by this user:", where);
		goto out;
	}
	if (lstat(rec, &sb) == 0) {
		if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid()) {
			st = undo_refuse(job, where,
					 "not a regular file owned by this user:",
					 rec);
			goto out;
		}
		st = undo_read(rec, &u, job->err);
		if (st != DESC_OK)
			goto out;
	} else if (errno != ENOENT) {
		st = fs_error(job->err, errno, rec, "cannot stat");
		goto out;
	}
	/* No record, or one cut short: killed before the master was
	 * touched (the staging folder holds only links and copies). */
	if (!u.complete)
		goto remove;
	/* Committed by another run since: the .vmdkit-moved names are that
	 * base's, leave them. */
	if (lstat(job->basedir, &sb) == 0 && !dir_is_empty(job->basedir)) {
		st = undo_refuse(job, where, "the base folder exists and is not empty:",
				 job->basedir);
		goto out;
	}
	areas = vk_calloc(u.nareas + 1, sizeof(*areas));
	renamed = vk_calloc(u.ndescs + 1, sizeof(*renamed));
	if (areas == NULL || renamed == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	/* Check everything first: change nothing unless all is as the
	 * record says the kill could have left it. */
	for (i = 0; i < u.nfiles; i++) {
		const struct undo_file *f = &u.files[i];

		if (lstat(f->path, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (f->linked && !same_file(&sb, f->dev, f->ino))) {
			st = undo_refuse(job, where,
					 "missing or replaced master extent",
					 f->path);
			goto out;
		}
	}
	for (i = 0; i < u.ndescs; i++) {
		const struct undo_desc *d = &u.descs[i];
		struct stat ms;
		bool here = lstat(d->path, &sb) == 0;
		bool absent = !here && errno == ENOENT;
		bool gone;

		vk_free(moved);
		moved = vk_asprintf("%s%s", d->path, MOVED_SUFFIX);
		if (moved == NULL) {
			st = vk_nomem(job->err);
			goto out;
		}
		gone = lstat(moved, &ms) != 0;
		if (here && same_file(&sb, d->dev, d->ino) && gone)
			continue;
		if (absent && !gone &&
		    same_file(&ms, d->dev, d->ino)) {
			renamed[i] = true;
			continue;
		}
		st = undo_refuse(job, where,
				 "cannot tell which is the master descriptor:",
				 d->path);
		goto out;
	}
	for (i = 0; i < u.nareas && st == DESC_OK; i++)
		st = area_state(job, where, &u.files[u.areas[i].file],
				&u.areas[i], &areas[i]);
	if (st != DESC_OK)
		goto out;
	/* Put it back: descriptor bytes, modes, names, the empty folder. */
	for (i = 0; i < u.nareas && st == DESC_OK; i++)
		if (areas[i] == AREA_EDITED)
			st = area_restore(job, &u.files[u.areas[i].file],
					  &u.areas[i]);
	for (i = 0; i < u.nfiles && st == DESC_OK; i++) {
		const struct undo_file *f = &u.files[i];

		if (!f->linked || lstat(f->path, &sb) != 0 ||
		    (sb.st_mode & 07777) == f->mode)
			continue;
		st = restore_mode(job, f);
	}
	for (i = 0; i < u.ndescs && st == DESC_OK; i++) {
		char *dir;

		if (!renamed[i])
			continue;
		vk_free(moved);
		moved = vk_asprintf("%s%s", u.descs[i].path, MOVED_SUFFIX);
		if (moved == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		st = fs_rename_noreplace(moved, u.descs[i].path, job->err);
		if (st != DESC_OK)
			break;
		base_report2(job, "rename", moved, u.descs[i].path);
		dir = fs_dirname(u.descs[i].path);
		if (dir == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		st = fs_sync_dir(dir, job->err);
		vk_free(dir);
	}
	if (st == DESC_OK && u.emptydir && lstat(job->basedir, &sb) != 0 &&
	    errno == ENOENT && fp_mkdir(job->basedir, 0755) != 0)
		st = fs_error(job->err, errno, job->basedir, "cannot create folder");
	if (st != DESC_OK)
		goto out;
remove:
	st = fs_remove_tree(where, job->err);
	if (st == DESC_OK) {
		base_report(job, "remove", where);
		st = fs_sync_dir(job->parent, job->err);
	}
out:
	vk_free(areas);
	vk_free(renamed);
	vk_free(moved);
	vk_free(rec);
	undo_clear(&u);
	return st;
}

/* The master's name of a committed base file goes when it is provably the
 * base's: the same inode (a link), or a copy with the manifest's hash. */
static desc_status finish_file(struct base_job *job, const manifest *m,
			       int bfd, const struct undo_file *f)
{
	struct stat sb, bs;
	desc_status st = DESC_OK;
	char *dir = NULL, *name = NULL;
	int dfd = -1;

	if (lstat(f->path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return DESC_OK; /* gone already */
	if (fstatat(bfd, f->name, &bs, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(bs.st_mode))
		return DESC_OK; /* not in the base: keep the master's */
	if (!f->remove)
		return DESC_OK;
	if (f->linked) {
		if (sb.st_dev != bs.st_dev || sb.st_ino != bs.st_ino ||
		    !same_file(&sb, f->dev, f->ino))
			return DESC_OK;
	} else {
		const manifest_entry *e = manifest_find(m, f->name);
		unsigned char sum[32];
		uint64_t size = 0;

		if (e == NULL || !same_file(&sb, f->dev, f->ino))
			return DESC_OK;
		dir = fs_dirname(f->path);
		name = fs_basename(f->path);
		if (dir == NULL || name == NULL) {
			st = vk_nomem(job->err);
			goto out;
		}
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			st = fs_error(job->err, errno, dir, "cannot open folder");
			goto out;
		}
		st = manifest_hash_file(dfd, dir, name, &size, sum, job->err);
		if (st != DESC_OK || size != e->size ||
		    memcmp(sum, e->sha256, sizeof(sum)) != 0)
			goto out; /* keep what is not provably the base's */
	}
	if (fp_unlink(f->path) != 0)
		st = fs_error(job->err, errno, f->path,
			      "base made, but cannot remove the master's copy of");
	else
		base_report(job, "remove", f->path);
out:
	if (dfd >= 0)
		close(dfd);
	vk_free(dir);
	vk_free(name);
	return st;
}

/* A record in BASEDIR: the commit happened; finish what the run that was
 * killed would have done after it. */
static desc_status finish_committed(struct base_job *job, const char *rec)
{
	struct undo u = { 0 };
	manifest m = { 0 };
	char *mpath = NULL, *text = NULL;
	size_t len = 0, i;
	desc_status st;
	int bfd = -1;

	st = undo_read(rec, &u, job->err);
	if (st != DESC_OK)
		goto out;
	mpath = fs_join(job->basedir, VMDK_MANIFEST_NAME);
	if (mpath == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	st = fs_read_file(mpath, DESC_MAX_INPUT, &text, &len, job->err);
	if (st == DESC_OK)
		st = manifest_parse(text, len, mpath, &m, job->err);
	if (st != DESC_OK)
		goto out;
	bfd = open(job->basedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (bfd < 0) {
		st = fs_error(job->err, errno, job->basedir, "cannot open base folder");
		goto out;
	}
	for (i = 0; i < u.nfiles && st == DESC_OK && u.complete; i++)
		st = finish_file(job, &m, bfd, &u.files[i]);
	for (i = 0; i < u.nfiles && st == DESC_OK && u.complete; i++) {
		char *dir = fs_dirname(u.files[i].path);

		if (dir == NULL)
			st = vk_nomem(job->err);
		else
			st = fs_sync_dir(dir, job->err);
		vk_free(dir);
	}
	if (st != DESC_OK)
		goto out;
	if (fp_unlink(rec) != 0) {
		st = fs_error(job->err, errno, rec, "cannot remove");
		goto out;
	}
	base_report(job, "remove", rec);
	st = fs_sync_dir(job->basedir, job->err);
out:
	if (bfd >= 0)
		close(bfd);
	manifest_clear(&m);
	vk_free(text);
	vk_free(mpath);
	undo_clear(&u);
	return st;
}

/* Before anything else: what a killed earlier run into the same BASEDIR
 * left is finished (committed) or undone (not committed). */
desc_status base_recover(struct base_job *job)
{
	desc_status st = DESC_OK;
	struct dirent *de;
	struct stat sb;
	char *rec, *base;
	DIR *d;

	rec = fs_join(job->basedir, UNDO_NAME);
	if (rec == NULL)
		return vk_nomem(job->err);
	if (lstat(rec, &sb) == 0 && S_ISREG(sb.st_mode))
		st = finish_committed(job, rec);
	vk_free(rec);
	if (st != DESC_OK)
		return st;
	base = fs_basename(job->basedir);
	if (base == NULL)
		return vk_nomem(job->err);
	d = opendir(job->parent);
	if (d == NULL) {
		vk_free(base);
		/* No folder, no leftovers: check_basedir says what is wrong. */
		if (errno == ENOENT || errno == ENOTDIR)
			return DESC_OK;
		return fs_error(job->err, errno, job->parent, "cannot read folder");
	}
	while (st == DESC_OK && (de = readdir(d)) != NULL) {
		char *path;

		if (!fs_staging_undo_dead(de->d_name, base))
			continue;
		path = fs_join(job->parent, de->d_name);
		if (path == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			st = undo_staging(job, path);
			/* The listing changed under readdir: start again. */
			rewinddir(d);
		}
		vk_free(path);
	}
	closedir(d);
	vk_free(base);
	return st;
}
