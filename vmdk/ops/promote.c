/*
 * promote.c - vmdk_promote: turning a linked clone into standalone disks.
 * Each disk of the leaf's .vmx (or the one disk named) is flattened into a
 * new disk (vmdk/disk/flatten.c).  With an output folder the new disks
 * are written there and the leaf is left alone.  In place they are staged
 * beside the leaf and renamed in, then the .vmx is rewritten to name them
 * (the commit point) and the old chain files and the .vmsd's snapshots
 * go; a journal lets the next promote of a leaf finish or undo a run that
 * was killed (see "The journal of an in-place promote").
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/disk/disk.h"
#include "vmdk/disk/flatten.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/ops.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* Promote                                                             */
/* ------------------------------------------------------------------ */

struct promoted {
	char *node;       /* vmx node, NULL for a bare disk */
	char *old_path;   /* the disk the node named (absolute) */
	char *new_name;   /* file name of the new disk */
	char *staged;     /* path in staging / output folder */
	vmdk_disk *disk;  /* chain */
};

struct promote_job {
	const vmdk_promote_options *opt;
	char *dir;          /* leaf folder (absolute) */
	char *shown;        /* the same as the caller named it */
	char *vmx_path;     /* NULL for a bare disk */
	desc_dict *vmx;
	char *vmx_text;
	size_t vmx_len;
	struct promoted *disks;
	size_t count;
	char **moved;       /* new files renamed into dir */
	size_t nmoved;
};

/* Steps name files as the caller named the leaf's folder. */
static void report(const struct promote_job *j, const char *action,
		   const char *path)
{
	size_t n = strlen(j->dir);
	char *shown = NULL;

	if (j->opt->report == NULL)
		return;
	if (j->shown != NULL && strncmp(path, j->dir, n) == 0 && path[n] == '/')
		shown = strcmp(j->shown, ".") == 0
				? vk_strdup(path + n + 1)
				: vk_asprintf("%s/%s", j->shown, path + n + 1);
	j->opt->report(j->opt->report_ctx, action, shown ? shown : path);
	vk_free(shown);
}

static void job_free(struct promote_job *j)
{
	size_t i;

	for (i = 0; i < j->count; i++) {
		vk_free(j->disks[i].node);
		vk_free(j->disks[i].old_path);
		vk_free(j->disks[i].new_name);
		vk_free(j->disks[i].staged);
		vmdk_disk_free(j->disks[i].disk);
	}
	vk_free(j->disks);
	for (i = 0; i < j->nmoved; i++)
		vk_free(j->moved[i]);
	vk_free(j->moved);
	desc_dict_free(j->vmx);
	vk_free(j->vmx_text);
	vk_free(j->vmx_path);
	vk_free(j->dir);
	vk_free(j->shown);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The one .vmx in folder `dir` (naming `disk` when it is not NULL). */
static desc_status find_vmx(const char *dir, const char *disk, char **out,
			    desc_error *err)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	desc_status rc = DESC_OK;
	size_t found = 0;

	*out = NULL;
	if (dh == NULL)
		return fs_error(err, errno, dir, "cannot open folder");
	while ((de = readdir(dh)) != NULL && rc == DESC_OK) {
		char *p, *text = NULL;
		desc_dict *vmx = NULL;
		vmdk_vmx_disk *disks = NULL;
		size_t n = 0, len = 0, i;
		bool names = disk == NULL;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".vmx"))
			continue;
		p = fs_join(dir, de->d_name);
		if (p == NULL) {
			rc = vk_nomem(err);
			break;
		}
		desc_error e;
		desc_status st = DESC_OK;

		if (disk != NULL) {
			st = fs_read_file(p, DESC_MAX_INPUT, &text, &len, &e);
			if (st == DESC_OK)
				st = desc_dict_parse(text, len, p, &vmx, NULL, &e);
			if (st == DESC_OK)
				st = vmdk_vmx_disks(vmx, &disks, &n, &e);
		}
		if (st == DESC_E_NOMEM) {
			/* Other problems just mean "not this .vmx". */
			rc = vk_nomem(err);
			desc_dict_free(vmx);
			vk_free(text);
			vk_free(p);
			break;
		}
		if (disk != NULL && st == DESC_OK) {
			for (i = 0; i < n && !names; i++) {
				char *dp = fs_join(dir, disks[i].file_name);

				names = dp != NULL && same_file(dp, disk);
				vk_free(dp);
			}
			vmdk_vmx_disks_free(disks, n);
		}
		desc_dict_free(vmx);
		vk_free(text);
		if (names) {
			found++;
			vk_free(*out);
			*out = p;
		} else {
			vk_free(p);
		}
	}
	closedir(dh);
	if (rc == DESC_OK && found > 1)
		rc = desc_error_set(err, DESC_E_ARG, disk ? disk : dir, 0,
				    "%zu .vmx files in '%s' name this disk (expected one; give the .vmx)",
				    found, dir);
	else if (rc == DESC_OK && found == 0)
		rc = desc_error_set(err, DESC_E_NOT_FOUND, disk ? disk : dir, 0,
				    "no .vmx in '%s' names this disk (give the .vmx, or an output folder)",
				    dir);
	if (rc != DESC_OK) {
		vk_free(*out);
		*out = NULL;
	}
	return rc;
}

/* A name "STEM.vmdk", "STEM_1.vmdk"... not used in dir nor by an earlier
 * disk of this job. */
static char *free_name(struct promote_job *j, const char *stem)
{
	unsigned k;
	size_t i;

	for (k = 0; k < 1000; k++) {
		char *name = k ? vk_asprintf("%s_%u.vmdk", stem, k)
			       : vk_asprintf("%s.vmdk", stem);
		char *p = name ? fs_join(j->dir, name) : NULL;
		bool used;

		if (p == NULL) {
			vk_free(name);
			return NULL;
		}
		used = fs_exists(p);
		for (i = 0; i < j->count && !used; i++)
			used = j->disks[i].new_name != NULL &&
			       strcmp(j->disks[i].new_name, name) == 0;
		vk_free(p);
		if (!used)
			return name;
		vk_free(name);
	}
	return NULL;
}

static desc_status add_disk(struct promote_job *j, const char *node,
			    const char *path, desc_error *err)
{
	struct promoted *p, *grown;
	desc_status rc;

	grown = vk_reallocarray(j->disks, j->count + 1, sizeof(*j->disks));
	if (grown == NULL)
		return vk_nomem(err);
	j->disks = grown;
	p = &j->disks[j->count];
	memset(p, 0, sizeof(*p));
	p->old_path = vk_strdup(path);
	p->node = node ? vk_strdup(node) : NULL;
	if (p->old_path == NULL || (node != NULL && p->node == NULL)) {
		vk_free(p->old_path);
		vk_free(p->node);
		return vk_nomem(err);
	}
	j->count++;
	rc = vmdk_disk_open(path, VMDK_OPEN_CHAIN, &p->disk, err);
	return rc;
}

static desc_status load_vmx(struct promote_job *j, desc_error *err)
{
	vmdk_vmx_disk *disks = NULL;
	size_t n = 0, i;
	desc_status rc;

	rc = fs_read_file(j->vmx_path, DESC_MAX_INPUT, &j->vmx_text,
			  &j->vmx_len, err);
	if (rc == DESC_OK)
		rc = desc_dict_parse(j->vmx_text, j->vmx_len, j->vmx_path,
				     &j->vmx, NULL, err);
	if (rc == DESC_OK)
		rc = vmdk_vmx_disks(j->vmx, &disks, &n, err);
	for (i = 0; i < n && rc == DESC_OK; i++) {
		char *p = fs_join(j->dir, disks[i].file_name);

		if (p == NULL) {
			rc = vk_nomem(err);
			break;
		}
		rc = add_disk(j, disks[i].node, p, err);
		vk_free(p);
		if (rc == DESC_OK &&
		    vmdk_disk_parent(j->disks[j->count - 1].disk) == NULL) {
			/* Already standalone: nothing to do for it. */
			struct promoted *last = &j->disks[--j->count];

			vk_free(last->node);
			vk_free(last->old_path);
			vmdk_disk_free(last->disk);
		}
	}
	vmdk_vmx_disks_free(disks, n);
	return rc;
}

/* Removes every snapshot from a .vmsd (keeps .encoding and lastUID, so
 * new snapshots get fresh uids, as VMware does after deleting all). */
static desc_status strip_vmsd(desc_dict *vmsd, desc_error *err)
{
	for (;;) {
		size_t i, n = desc_dict_count(vmsd);
		char *key = NULL;

		for (i = 0; i < n; i++) {
			const char *k = desc_dict_key_at(vmsd, i);

			if (strncasecmp(k, "snapshot", 8) == 0 &&
			    strcasecmp(k, "snapshot.lastUID") != 0) {
				key = vk_strdup(k);
				if (key == NULL)
					return vk_nomem(err);
				break;
			}
		}
		if (key == NULL)
			return DESC_OK;
		desc_dict_unset(vmsd, key);
		vk_free(key);
	}
}

static desc_status write_dict_over(const desc_dict *dict, const char *path,
				   desc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	desc_status rc = desc_dict_write(dict, &text, &len, err);

	if (rc == DESC_OK)
		rc = fs_replace(path, text, len, err);
	vk_free(text);
	return rc;
}

typedef desc_status (*old_file_fn)(struct promote_job *j, const char *path,
				   void *ctx);

/* Calls fn for each chain file of p inside the leaf folder (never a
 * parent elsewhere), extents before their descriptor; goes on after a
 * failure and returns the first. */
static desc_status each_old(struct promote_job *j, const struct promoted *p,
			    old_file_fn fn, void *ctx, desc_error *err)
{
	desc_status rc = DESC_OK, st;
	vmdk_disk *d;
	size_t i;

	for (d = p->disk; d != NULL; d = vmdk_disk_parent(d)) {
		const desc_descriptor *desc = vmdk_disk_descriptor(d);
		char *ddir = fs_dirname(vmdk_disk_path(d));
		char *adir = ddir ? fs_absolute(ddir) : NULL;
		bool inside = adir != NULL && strcmp(adir, j->dir) == 0;

		if (adir == NULL) {
			vk_free(ddir);
			return vk_nomem(err);
		}
		for (i = 0; inside && i < desc_extent_count(desc); i++) {
			const desc_extent *x = desc_extent_at(desc, i);
			char *ep, *edir, *aedir;

			if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
				continue;
			ep = fs_join(ddir, x->path);
			edir = ep ? fs_dirname(ep) : NULL;
			aedir = edir ? fs_absolute(edir) : NULL;
			if (aedir == NULL)
				st = vk_nomem(err);
			else if (strcmp(aedir, j->dir) == 0 &&
				 strcmp(ep, vmdk_disk_path(d)) != 0)
				st = fn(j, ep, ctx);
			else
				st = DESC_OK;
			if (rc == DESC_OK)
				rc = st;
			vk_free(ep);
			vk_free(edir);
			vk_free(aedir);
		}
		if (inside) {
			st = fn(j, vmdk_disk_path(d), ctx);
			if (rc == DESC_OK)
				rc = st;
		}
		vk_free(ddir);
		vk_free(adir);
	}
	return rc;
}

/* old_file_fn: reports and (unless a dry run) removes; ctx: desc_error. */
static desc_status remove_one(struct promote_job *j, const char *path,
			      void *ctx)
{
	report(j, "remove", path);
	if (!j->opt->dry_run && fp_unlink(path) < 0 && errno != ENOENT)
		return fs_error(ctx, errno, path, "cannot remove");
	return DESC_OK;
}

static desc_status remove_old(struct promote_job *j, const struct promoted *p,
			      desc_error *err)
{
	return each_old(j, p, remove_one, err, err);
}

/* Names of the files a flatten made (descriptor and extents), relative
 * to their folder. */
static desc_status staged_files(const char *path, char ***names, size_t *n,
				desc_error *err)
{
	desc_descriptor *d = NULL;
	bool embedded = false;
	desc_status rc;
	size_t i, k = 0, count;

	*names = NULL;
	*n = 0;
	rc = disk_load_descriptor(path, &d, &embedded, err);
	if (rc != DESC_OK)
		return rc;
	count = embedded ? 1 : desc_extent_count(d) + 1;
	*names = vk_calloc(count, sizeof(char *));
	if (*names == NULL) {
		desc_free(d);
		return vk_nomem(err);
	}
	for (i = 0; !embedded && i < desc_extent_count(d); i++)
		if (desc_extent_at(d, i)->path != NULL)
			(*names)[k++] = vk_strdup(desc_extent_at(d, i)->path);
	(*names)[k++] = fs_basename(path);
	*n = k;
	for (i = 0; i < k; i++)
		if ((*names)[i] == NULL)
			rc = vk_nomem(err);
	desc_free(d);
	return rc;
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		vk_free(names[i]);
	vk_free(names);
}

/* Moves the staged files of every disk into the leaf folder; the
 * descriptor of each disk goes last so it never names a missing extent. */
static desc_status move_in(struct promote_job *j, const char *staging,
			   desc_error *err)
{
	desc_status rc = DESC_OK;
	size_t i, k;

	for (i = 0; i < j->count && rc == DESC_OK; i++) {
		char **names = NULL;
		size_t n = 0;

		rc = staged_files(j->disks[i].staged, &names, &n, err);
		j->moved = rc == DESC_OK ? vk_reallocarray(j->moved,
					   j->nmoved + n, sizeof(char *)) : j->moved;
		if (rc == DESC_OK && j->moved == NULL)
			rc = vk_nomem(err);
		for (k = 0; k < n && rc == DESC_OK; k++) {
			char *from = fs_join(staging, names[k]);
			char *to = fs_join(j->dir, names[k]);

			if (from == NULL || to == NULL)
				rc = vk_nomem(err);
			else
				rc = fs_rename_noreplace(from, to, err);
			vk_free(from);
			if (rc == DESC_OK) {
				j->moved[j->nmoved++] = to;
				report(j, "rename", to);
			} else {
				vk_free(to);
			}
		}
		free_names(names, n);
	}
	return rc;
}

static void undo_moves(struct promote_job *j)
{
	size_t i;

	for (i = j->nmoved; i > 0; i--)
		fp_unlink(j->moved[i - 1]);
}

/* ------------------------------------------------------------------ */
/* The journal of an in-place promote                                   */
/* ------------------------------------------------------------------ */

/*
 * Before the first new file is renamed into the leaf folder, promote
 * writes JOURNAL_NAME (synced) into its staging folder: NUL-terminated
 * records 'n'INODE/NAME (a new file renamed into the leaf folder),
 * 'd'NAME (a new descriptor the .vmx will name) and 'o'INODE/NAME (an
 * old chain file removed after the commit), names of files in the leaf
 * folder; a file is removed only while it has that inode.  The
 * staging folder goes last.  So a promote killed anywhere after its
 * renames leaves a journal, and the next promote of the leaf finishes it
 * when the .vmx already names a new descriptor (strips the .vmsd,
 * removes the old files) or else removes the new, unreferenced files and
 * starts over: no orphan NAME.vmdk stays beside the leaf.  (JOURNAL_NAME
 * is in ops.h: check reports a journal left behind.)
 */

struct journal {
	char *buf;
	size_t len, cap;
	desc_error *err; /* for journal_old */
};

/* Appends tag, prefix and the file name part of path, NUL-terminated. */
static desc_status journal_add(struct journal *jn, char tag,
			       const char *prefix, const char *path,
			       desc_error *err)
{
	const char *name = strrchr(path, '/');
	size_t n, m = strlen(prefix);

	name = name ? name + 1 : path;
	n = strlen(name);
	if (jn->len + m + n + 2 > jn->cap) {
		size_t cap = (jn->cap + m + n + 2) * 2;
		char *grown = vk_reallocarray(jn->buf, cap, 1);

		if (grown == NULL)
			return vk_nomem(err);
		jn->buf = grown;
		jn->cap = cap;
	}
	jn->buf[jn->len++] = tag;
	memcpy(jn->buf + jn->len, prefix, m);
	jn->len += m;
	memcpy(jn->buf + jn->len, name, n + 1);
	jn->len += n + 1;
	return DESC_OK;
}

/* A file record, "INODE/NAME": replaying removes the file only while it
 * is still that file (never one of the user's that took the name). */
static desc_status journal_add_file(struct journal *jn, char tag,
				    const char *path, desc_error *err)
{
	char ino[24];
	struct stat st;

	if (lstat(path, &st) != 0)
		return fs_error(err, errno, path, "cannot stat");
	snprintf(ino, sizeof(ino), "%ju/", (uintmax_t)st.st_ino);
	return journal_add(jn, tag, ino, path, err);
}

/* old_file_fn: an 'o' record; ctx: the journal. */
static desc_status journal_old(struct promote_job *j, const char *path,
			       void *ctx)
{
	struct journal *jn = ctx;

	(void)j;
	return journal_add_file(jn, 'o', path, jn->err);
}

static desc_status journal_write(struct promote_job *j, const char *staging,
				 desc_error *err)
{
	struct journal jn = { NULL, 0, 0, err };
	desc_status rc = DESC_OK;
	char *path = NULL;
	size_t i, k;

	for (i = 0; i < j->count && rc == DESC_OK; i++) {
		char **names = NULL;
		size_t n = 0;

		rc = staged_files(j->disks[i].staged, &names, &n, err);
		for (k = 0; k < n && rc == DESC_OK; k++) {
			char *p = fs_join(staging, names[k]);

			rc = p ? journal_add_file(&jn, 'n', p, err)
			       : vk_nomem(err);
			vk_free(p);
		}
		free_names(names, n);
		if (rc == DESC_OK)
			rc = journal_add(&jn, 'd', "", j->disks[i].new_name, err);
		if (rc == DESC_OK)
			rc = each_old(j, &j->disks[i], journal_old, &jn, err);
	}
	if (rc == DESC_OK) {
		path = fs_join(staging, JOURNAL_NAME);
		rc = path ? fs_write_new(path, jn.buf, jn.len, 0600, true, err)
			  : vk_nomem(err);
	}
	vk_free(path);
	vk_free(jn.buf);
	return rc;
}

/* *found: the .vmx (as it is on disk now) names file `name` of dir. */
static desc_status vmx_names(const struct promote_job *j,
			     const vmdk_vmx_disk *disks, size_t n,
			     const char *name, bool *found, desc_error *err)
{
	char *p = fs_join(j->dir, name);
	size_t i;

	*found = false;
	if (p == NULL)
		return vk_nomem(err);
	for (i = 0; i < n && !*found; i++) {
		char *q = fs_join(j->dir, disks[i].file_name);

		if (q == NULL) {
			vk_free(p);
			return vk_nomem(err);
		}
		*found = same_file(p, q);
		vk_free(q);
	}
	vk_free(p);
	return DESC_OK;
}

/* Removes file `name` of the leaf folder while it is still inode `ino`
 * and the .vmx does not name it. */
static desc_status journal_unlink(struct promote_job *j,
				  const vmdk_vmx_disk *disks, size_t n,
				  const char *name, uint64_t ino,
				  desc_error *err)
{
	struct stat st;
	desc_status rc;
	bool named;
	char *p;

	rc = vmx_names(j, disks, n, name, &named, err);
	if (rc != DESC_OK || named)
		return rc;
	p = fs_join(j->dir, name);
	if (p == NULL)
		return vk_nomem(err);
	if (lstat(p, &st) == 0 && (uint64_t)st.st_ino == ino) {
		report(j, "remove", p);
		if (fp_unlink(p) < 0 && errno != ENOENT)
			rc = fs_error(err, errno, p, "cannot remove");
	}
	vk_free(p);
	return rc;
}

static desc_status finish_vmsd(struct promote_job *j, desc_error *err)
{
	char *path = vk_asprintf("%.*s.vmsd", (int)(strlen(j->vmx_path) - 4),
				 j->vmx_path);
	char *text = NULL;
	desc_dict *vmsd = NULL;
	size_t len = 0, before;
	desc_status rc = DESC_OK;

	if (path == NULL)
		return vk_nomem(err);
	if (!fs_exists(path))
		goto out;
	rc = fs_read_file(path, DESC_MAX_INPUT, &text, &len, err);
	if (rc == DESC_OK)
		rc = desc_dict_parse(text, len, path, &vmsd, NULL, err);
	if (rc != DESC_OK)
		goto out;
	before = desc_dict_count(vmsd);
	rc = strip_vmsd(vmsd, err);
	if (rc == DESC_OK && desc_dict_count(vmsd) != before) {
		rc = write_dict_over(vmsd, path, err);
		if (rc == DESC_OK)
			report(j, "write", path);
	}
out:
	desc_dict_free(vmsd);
	vk_free(text);
	vk_free(path);
	return rc;
}

/* Finishes or undoes the promote whose journal is `text`; *committed
 * tells which.  A journal without its final NUL was being written when
 * the run died, before any rename: nothing to undo. */
static desc_status journal_replay(struct promote_job *j, const char *text,
				  size_t len, bool *committed, desc_error *err)
{
	vmdk_vmx_disk *disks = NULL;
	desc_dict *vmx = NULL;
	char *vtext = NULL;
	size_t vlen = 0, n = 0, off;
	desc_status rc;
	char want;

	*committed = false;
	if (len == 0 || text[len - 1] != '\0')
		return DESC_OK;
	rc = fs_read_file(j->vmx_path, DESC_MAX_INPUT, &vtext, &vlen, err);
	if (rc == DESC_OK)
		rc = desc_dict_parse(vtext, vlen, j->vmx_path, &vmx, NULL, err);
	if (rc == DESC_OK)
		rc = vmdk_vmx_disks(vmx, &disks, &n, err);
	if (rc != DESC_OK)
		goto out;
	for (off = 0; off < len && !*committed && rc == DESC_OK;
	     off += strlen(text + off) + 1)
		if (text[off] == 'd' && text[off + 1] != '\0')
			rc = vmx_names(j, disks, n, text + off + 1, committed,
				       err);
	if (rc == DESC_OK && *committed)
		rc = finish_vmsd(j, err);
	want = *committed ? 'o' : 'n';
	for (off = 0; off < len && rc == DESC_OK; off += strlen(text + off) + 1) {
		const char *name = text + off + 1;
		uint64_t ino = 0;

		if (text[off] != want)
			continue;
		/* "INODE/NAME", a plain name of a file in the leaf folder
		 * (no digits: inode 0, which no file has). */
		if (desc_parse_number(&name, NULL, 10, UINT64_MAX, &ino) ==
			    DESC_NUMBER_OVERFLOW ||
		    *name++ != '/' || name[0] == '\0' ||
		    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
		    strcmp(name, "..") == 0)
			continue;
		rc = journal_unlink(j, disks, n, name, ino, err);
	}
	if (rc == DESC_OK)
		rc = fs_sync_dir(j->dir, err);
out:
	vmdk_vmx_disks_free(disks, n);
	desc_dict_free(vmx);
	vk_free(vtext);
	return rc;
}

/* Replays the journal of every crashed promote of this leaf and removes
 * its staging folders (those of live processes are left alone).
 * *finished: an earlier promote of this .vmx had passed its commit point
 * (journal) or had even removed its journal (a staging folder of ours
 * left without one): when nothing is linked any more, it is done. */
static desc_status journal_recover(struct promote_job *j, bool *finished,
				   desc_error *err)
{
	char *vmx_base = fs_basename(j->vmx_path);
	char *ours = vmx_base ? vk_asprintf("%s%s-", VMDK_STAGING_PREFIX,
					    vmx_base) : NULL;
	size_t prefix = strlen(VMDK_STAGING_PREFIX);
	desc_status rc = DESC_OK;
	struct dirent *de;
	DIR *dh = NULL;

	*finished = false;
	if (ours == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	dh = opendir(j->dir);
	if (dh == NULL) {
		rc = fs_error(err, errno, j->dir, "cannot open folder");
		goto out;
	}
	while (rc == DESC_OK && (de = readdir(dh)) != NULL) {
		char *sdir, *jpath, *text = NULL;
		struct stat sb;
		size_t len = 0;
		bool committed = false;

		if (strncmp(de->d_name, VMDK_STAGING_PREFIX, prefix) != 0 ||
		    fs_staging_in_use(de->d_name))
			continue;
		sdir = fs_join(j->dir, de->d_name);
		jpath = sdir ? fs_join(sdir, JOURNAL_NAME) : NULL;
		if (jpath == NULL) {
			rc = vk_nomem(err);
		} else if (lstat(sdir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			/* not a folder: not ours */
		} else if (lstat(jpath, &sb) == 0 && S_ISREG(sb.st_mode)) {
			rc = fs_read_file(jpath, DESC_MAX_INPUT, &text, &len, err);
			if (rc == DESC_OK)
				rc = journal_replay(j, text, len, &committed, err);
			if (rc == DESC_OK)
				rc = fs_remove_tree(sdir, err);
			if (rc == DESC_OK && committed)
				*finished = true;
		} else if (strncmp(de->d_name, ours, strlen(ours)) == 0) {
			rc = fs_remove_tree(sdir, err);
			if (rc == DESC_OK)
				*finished = true;
		}
		vk_free(text);
		vk_free(jpath);
		vk_free(sdir);
	}
out:
	if (dh != NULL)
		closedir(dh);
	vk_free(ours);
	vk_free(vmx_base);
	return rc;
}

static desc_status promote_in_place(struct promote_job *j,
				    struct flatten_progress *prog,
				    desc_error *err)
{
	const vmdk_promote_options *opt = j->opt;
	char *staging = NULL, *stem = NULL, *vmsd_path = NULL;
	char *vmsd_text = NULL;
	size_t vmsd_len = 0, i;
	desc_dict *vmsd = NULL;
	bool vmx_written = false, keep_staging = false;
	desc_status rc;
	size_t cleaned = 0;

	stem = fs_basename(j->vmx_path);
	if (stem == NULL)
		return vk_nomem(err);
	stem[strlen(stem) - 4] = '\0'; /* ".vmx": has_suffix checked */
	for (i = 0; i < j->count; i++) {
		j->disks[i].new_name = free_name(j, stem);
		if (j->disks[i].new_name == NULL) {
			rc = vk_nomem(err);
			goto out;
		}
	}
	vmsd_path = vk_asprintf("%.*s.vmsd", (int)(strlen(j->vmx_path) - 4),
				j->vmx_path);
	if (vmsd_path == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	if (fs_exists(vmsd_path)) {
		rc = fs_read_file(vmsd_path, DESC_MAX_INPUT, &vmsd_text,
				  &vmsd_len, err);
		if (rc == DESC_OK)
			rc = desc_dict_parse(vmsd_text, vmsd_len, vmsd_path,
					     &vmsd, NULL, err);
		if (rc == DESC_OK)
			rc = strip_vmsd(vmsd, err);
		if (rc != DESC_OK)
			goto out;
	}
	for (i = 0; i < j->count; i++) {
		char *key = vk_asprintf("%s.fileName", j->disks[i].node);

		rc = key ? desc_dict_set(j->vmx, key, j->disks[i].new_name, err)
			 : vk_nomem(err);
		vk_free(key);
		if (rc != DESC_OK)
			goto out;
	}
	if (opt->dry_run) {
		for (i = 0; i < j->count; i++) {
			char *p = fs_join(j->dir, j->disks[i].new_name);

			report(j, "write", p ? p : j->disks[i].new_name);
			vk_free(p);
		}
		report(j, "write", j->vmx_path);
		if (vmsd != NULL)
			report(j, "write", vmsd_path);
		for (i = 0; i < j->count && rc == DESC_OK; i++)
			rc = remove_old(j, &j->disks[i], err);
		goto out;
	}
	/* A crashed earlier run may have left a staging folder here. */
	rc = fs_staging_cleanup(j->dir, &cleaned, err);
	if (rc == DESC_OK)
		rc = fs_make_staging(j->vmx_path, &staging, err);
	if (rc != DESC_OK)
		goto out;
	for (i = 0; i < j->count && rc == DESC_OK; i++) {
		j->disks[i].staged = fs_join(staging, j->disks[i].new_name);
		rc = j->disks[i].staged
			     ? flatten_disk(j->disks[i].disk, j->disks[i].staged,
					    opt->type_set ? opt->type
							  : flatten_default_type(j->disks[i].disk),
					    prog, err)
			     : vk_nomem(err);
	}
	if (rc == DESC_OK)
		rc = journal_write(j, staging, err);
	if (rc == DESC_OK)
		rc = fs_sync_dir(staging, err);
	if (rc == DESC_OK)
		rc = move_in(j, staging, err);
	if (rc == DESC_OK)
		rc = fs_sync_dir(j->dir, err);
	if (rc != DESC_OK)
		goto out;
	/* The commit point: from here the .vmx names the new disks. */
	rc = write_dict_over(j->vmx, j->vmx_path, err);
	if (rc != DESC_OK)
		goto out;
	vmx_written = true;
	report(j, "write", j->vmx_path);
	if (vmsd != NULL) {
		rc = write_dict_over(vmsd, vmsd_path, err);
		if (rc == DESC_OK)
			report(j, "write", vmsd_path);
	}
	if (rc != DESC_OK) {
		desc_error ignored;

		/* Put the old .vmx back: the leaf is as it was. */
		if (fs_replace(j->vmx_path, j->vmx_text, j->vmx_len,
			       &ignored) == DESC_OK)
			vmx_written = false;
		goto out;
	}
	for (i = 0; i < j->count; i++) {
		desc_status st = remove_old(j, &j->disks[i], err);

		if (rc == DESC_OK)
			rc = st;
	}
	if (rc == DESC_OK)
		rc = fs_sync_dir(j->dir, err);
	/* Past the commit point: the leaf is promoted; say so. */
	if (rc != DESC_OK && err != NULL) {
		char what[DESC_ERROR_MESSAGE_MAX];
		int e = err->errnum;

		snprintf(what, sizeof(what), "%s", err->message);
		desc_error_set(err, rc, "", 0, "promoted, but %s", what);
		err->errnum = e;
	}
out:
	if (rc != DESC_OK && !vmx_written)
		undo_moves(j);
	/* Failed past the commit point (an old file or the .vmsd left):
	 * the journal stays, the next promote of the leaf finishes. */
	keep_staging = rc != DESC_OK && vmx_written;
	if (staging != NULL && !keep_staging) {
		desc_error ignored;

		fs_remove_tree(staging, &ignored);
	}
	vk_free(staging);
	vk_free(stem);
	vk_free(vmsd_path);
	vk_free(vmsd_text);
	desc_dict_free(vmsd);
	return rc;
}

static desc_status promote_to_dir(struct promote_job *j,
				  struct flatten_progress *prog,
				  desc_error *err)
{
	const vmdk_promote_options *opt = j->opt;
	desc_status rc = DESC_OK;
	size_t i, k;

	for (i = 0; i < j->count && rc == DESC_OK; i++) {
		char *name = NULL;

		if (j->vmx_path != NULL) {
			char *stem = fs_basename(j->vmx_path);

			if (stem != NULL) {
				stem[strlen(stem) - 4] = '\0';
				name = i ? vk_asprintf("%s_%zu.vmdk", stem, i)
					 : vk_asprintf("%s.vmdk", stem);
			}
			vk_free(stem);
		} else {
			name = fs_basename(j->disks[i].old_path);
		}
		j->disks[i].staged = name ? fs_join(opt->output_dir, name) : NULL;
		vk_free(name);
		if (j->disks[i].staged == NULL) {
			rc = vk_nomem(err);
			break;
		}
		report(j, "write", j->disks[i].staged);
		if (opt->dry_run)
			continue;
		if (fs_exists(j->disks[i].staged)) {
			rc = desc_error_set(err, DESC_E_EXISTS,
					    j->disks[i].staged, 0,
					    "file already exists (promote never replaces a file in the output folder)");
			break;
		}
		rc = flatten_disk(j->disks[i].disk, j->disks[i].staged,
				  opt->type_set ? opt->type
						: flatten_default_type(j->disks[i].disk),
				  prog, err);
		if (rc != DESC_OK)
			break;
	}
	if (rc != DESC_OK)
		for (k = 0; k < i && !opt->dry_run; k++)
			flatten_remove(j->disks[k].staged);
	if (rc == DESC_OK && !opt->dry_run)
		rc = fs_sync_dir(opt->output_dir, err);
	return rc;
}

/* Replays a crashed promote's journal unless the VM looks running (its
 * .vmx lock folder: check_not_running reports it, if anything is left to
 * promote). */
static desc_status recover_unless_running(struct promote_job *j,
					  bool *finished, desc_error *err)
{
	char *lck = vk_asprintf("%s.lck", j->vmx_path);
	desc_status rc = DESC_OK;

	*finished = false;
	if (lck == NULL)
		return vk_nomem(err);
	if (!fs_exists(lck))
		rc = journal_recover(j, finished, err);
	vk_free(lck);
	return rc;
}

/* A running VM holds NAME.vmx.lck and DISK.vmdk.lck folders: its disks
 * must not be replaced under it. */
static desc_status check_not_running(const struct promote_job *j,
				     desc_error *err)
{
	size_t i;

	for (i = 0; i <= j->count; i++) {
		const char *f = i == j->count ? j->vmx_path : j->disks[i].old_path;
		char *lck = vk_asprintf("%s.lck", f);
		bool busy;

		if (lck == NULL)
			return vk_nomem(err);
		busy = fs_exists(lck);
		vk_free(lck);
		if (busy)
			return desc_error_set(err, DESC_E_BUSY, f, 0,
					      "lock folder '%s.lck' present: the VM looks running (power it off first)",
					      f);
	}
	return DESC_OK;
}

desc_status vmdk_promote(const char *leaf, const vmdk_promote_options *opt,
			 desc_error *err)
{
	vmdk_promote_options defaults;
	struct flatten_progress prog;
	struct promote_job j;
	struct stat st;
	desc_status rc;
	char *abs = NULL;
	bool finished = false;
	size_t i;

	desc_error_clear(err);
	if (leaf == NULL)
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "vmdk_promote needs a leaf");
	if (opt == NULL) {
		memset(&defaults, 0, sizeof(defaults));
		opt = &defaults;
	}
	memset(&j, 0, sizeof(j));
	j.opt = opt;
	if (stat(leaf, &st) != 0)
		return fs_error(err, errno, leaf, "cannot open");
	if (opt->output_dir != NULL) {
		struct stat ost;

		if (stat(opt->output_dir, &ost) != 0 || !S_ISDIR(ost.st_mode))
			return desc_error_set(err, DESC_E_NOT_FOUND,
					      opt->output_dir, 0,
					      "output folder does not exist (expected an existing folder)");
	}
	abs = fs_absolute(leaf);
	j.shown = S_ISDIR(st.st_mode) ? vk_strdup(leaf) : fs_dirname(leaf);
	if (abs == NULL || j.shown == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		j.dir = abs;
		abs = NULL;
		rc = find_vmx(j.dir, NULL, &j.vmx_path, err);
	} else if (has_suffix(abs, ".vmx")) {
		j.vmx_path = abs;
		abs = NULL;
		j.dir = fs_dirname(j.vmx_path);
		rc = j.dir ? DESC_OK : vk_nomem(err);
	} else {
		j.dir = fs_dirname(abs);
		rc = j.dir ? DESC_OK : vk_nomem(err);
		if (rc == DESC_OK && opt->output_dir == NULL)
			rc = find_vmx(j.dir, abs, &j.vmx_path, err);
		else if (rc == DESC_OK)
			rc = add_disk(&j, NULL, abs, err);
	}
	if (rc == DESC_OK && j.vmx_path != NULL && opt->output_dir == NULL &&
	    !opt->dry_run)
		rc = recover_unless_running(&j, &finished, err);
	if (rc == DESC_OK && j.vmx_path != NULL)
		rc = load_vmx(&j, err);
	if (rc == DESC_OK && j.vmx_path != NULL && !S_ISDIR(st.st_mode) &&
	    !has_suffix(leaf, ".vmx")) {
		/* A disk named: promote only that one. */
		for (i = 0; i < j.count; i++) {
			if (!same_file(j.disks[i].old_path, abs)) {
				vk_free(j.disks[i].node);
				vk_free(j.disks[i].old_path);
				vmdk_disk_free(j.disks[i].disk);
				memmove(&j.disks[i], &j.disks[i + 1],
					(j.count - i - 1) * sizeof(*j.disks));
				j.count--;
				i--;
			}
		}
	}
	if (rc == DESC_OK && j.count == 0 && finished)
		goto out; /* an interrupted promote was finished: done */
	if (rc == DESC_OK && j.count == 0)
		rc = desc_error_set(err, DESC_E_NOT_FOUND, leaf, 0,
				    "nothing to promote: no disk here has a parent");
	if (rc != DESC_OK)
		goto out;
	if (opt->output_dir == NULL && j.vmx_path != NULL) {
		rc = check_not_running(&j, err);
		if (rc != DESC_OK)
			goto out;
	}
	memset(&prog, 0, sizeof(prog));
	prog.fn = opt->progress;
	prog.ctx = opt->progress_ctx;
	for (i = 0; i < j.count; i++)
		prog.total += vmdk_disk_capacity(j.disks[i].disk) *
			      VMDK_SECTOR_SIZE;
	if (opt->output_dir != NULL)
		rc = promote_to_dir(&j, &prog, err);
	else
		rc = promote_in_place(&j, &prog, err);
out:
	vk_free(abs);
	job_free(&j);
	return rc;
}
