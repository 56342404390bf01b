/*
 * relocate.c - vmdk_relocate: move a base folder and rewrite every path
 * that pointed into it, in the leaves' descriptor copies and deltas (and
 * in the base's own descriptors when they hold absolute paths).
 *
 * All or nothing: every edited descriptor is written in full as a
 * temporary file beside the one it replaces as soon as its new text is
 * known (nothing visible changes), then the base folder is renamed, then
 * every temporary file is renamed over its target, the old file being
 * kept first under another temporary name (a hard link, or a copy where
 * the filesystem has none).  A failure before the folder rename removes
 * the temporaries; one after it renames the kept old files and the folder
 * back.  So no text is held in memory past the descriptor being read:
 * memory does not grow with the number of leaves or of extents, only a
 * small record per edited file (names and the identity that tells a
 * file changed behind our back).  The temporaries carry the pid
 * ("<prefix>NAME-<pid>-XXXXXX"): after a kill, the next relocate removes
 * those of dead runs in every folder it scans (fs_temp_cleanup).  A kill
 * between the folder rename and the last leaf is finished by the next
 * run from the relocation record (below).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/scan.h"
#include "vmdk/disk/disk.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/ops.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

#define SCAN_DEPTH_MAX 32

struct edit {
	char *path;     /* the descriptor (before the move for base files) */
	char *name;     /* its basename */
	bool in_base;   /* lives in the base folder (moves with it) */
	mode_t mode;
	/* The file as read: a different one at commit time was changed
	 * behind our back, and our text would undo that change. */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	char *temp_name; /* basename of the staged file, NULL until written */
	char *keep_name; /* basename of the kept old file, NULL until commit */
	bool renamed;
};

struct reloc {
	const vmdk_relocate_options *opt;
	desc_error *err;
	char *base_abs;
	char *new_abs;
	char *basedir;  /* as given */
	char *newdir;
	struct cm_fileset base_files;
	struct cm_fileset seen;
	struct edit *edits;
	size_t nedits, edits_cap;
	bool moved;
	char *record;   /* our relocation record (see write_record) */
};

static void report(const struct reloc *r, const char *action,
		   const char *path)
{
	if (r->opt->report != NULL)
		r->opt->report(r->opt->report_ctx, action, path);
}

/* The new spelling of `name` (an extent path or parent hint of the
 * descriptor `desc_path`, which will live in `new_desc_dir`) when it
 * points into the base folder; NULL in *out when it does not. */
static desc_status new_name(struct reloc *r, const char *desc_path,
			    const char *new_desc_dir, const char *name,
			    char **out)
{
	char *resolved = NULL, *abs = NULL, *moved = NULL;
	desc_status st = DESC_OK;

	*out = NULL;
	resolved = cm_resolve(desc_path, name);
	abs = resolved ? fs_absolute(resolved) : NULL;
	if (abs == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	if (!cm_under(r->base_abs, abs))
		goto out;
	moved = vk_asprintf("%s%s", r->new_abs, abs + strlen(r->base_abs));
	if (moved == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	if (name[0] == '/') {
		*out = moved;
		moved = NULL;
	} else {
		*out = fs_relative(new_desc_dir, moved);
		if (*out == NULL)
			st = vk_nomem(r->err);
	}
out:
	vk_free(resolved);
	vk_free(abs);
	vk_free(moved);
	return st;
}

static desc_status stage(struct reloc *r, struct edit *ed,
			 const char *text, size_t len);

/* Records an edit of `path` (as it was when read: `sb`) and, unless this
 * is a dry run, stages `new_text` at once, so that no text outlives the
 * file it belongs to. */
static desc_status add_edit(struct reloc *r, const char *path, bool in_base,
			    const struct stat *sb, mode_t mode,
			    const char *new_text, size_t new_len)
{
	struct edit *ed;

	if (r->nedits == r->edits_cap) {
		size_t cap = r->edits_cap ? 2 * r->edits_cap : 16;

		ed = vk_reallocarray(r->edits, cap, sizeof(*ed));
		if (ed == NULL)
			return vk_nomem(r->err);
		r->edits = ed;
		r->edits_cap = cap;
	}
	ed = &r->edits[r->nedits];
	memset(ed, 0, sizeof(*ed));
	r->nedits++;
	ed->path = vk_strdup(path);
	ed->name = fs_basename(path);
	ed->in_base = in_base;
	ed->mode = mode;
	ed->dev = sb->st_dev;
	ed->ino = sb->st_ino;
	ed->size = sb->st_size;
	ed->mtime = sb->st_mtim;
	if (ed->path == NULL || ed->name == NULL)
		return vk_nomem(r->err);
	if (r->opt->dry_run)
		return DESC_OK;
	return stage(r, ed, new_text, new_len);
}

/* Reads a text descriptor and, when any of its paths points into the
 * base folder, records the edit. */
static desc_status consider(struct reloc *r, const char *path, bool in_base)
{
	desc_descriptor *desc = NULL;
	char *text = NULL, *dir = NULL, *abs_dir = NULL, *new_dir = NULL;
	char *repl = NULL, *new_text = NULL;
	size_t len = 0, new_len = 0;
	bool changed = false;
	struct stat sb;
	desc_status st;
	desc_error e;

	if (cm_fileset_has_path(&r->seen, path))
		return DESC_OK;
	if (!cm_fileset_add_path(&r->seen, path))
		return vk_nomem(r->err);
	if (stat(path, &sb) != 0)
		return fs_error(r->err, errno, path, "cannot stat");
	desc_error_clear(&e);
	st = fs_read_file(path, DISK_DESCRIPTOR_CAP, &text, &len, &e);
	if (st == DESC_OK && len >= 4 && memcmp(text, "KDMV", 4) == 0) {
		/* Embedded: checked below only for paths into the base. */
		vk_free(text);
		text = NULL;
		st = disk_load_descriptor(path, &desc, &changed, &e);
		changed = false;
		if (st == DESC_OK) {
			const char *hint = desc_parent_hint(desc);

			dir = fs_dirname(path);
			abs_dir = dir ? fs_absolute(dir) : NULL;
			if (abs_dir == NULL) {
				st = vk_nomem(r->err);
				goto out;
			}
			if (hint != NULL) {
				st = new_name(r, path, abs_dir, hint, &repl);
				if (st == DESC_OK && repl != NULL)
					st = desc_error_set(r->err, DESC_E_REFUSED,
							    path, 0,
							    "parentFileNameHint '%s' points into the base, but the descriptor is embedded in a sparse file and cannot be rewritten atomically; nothing moved",
							    hint);
			}
		} else {
			st = DESC_OK; /* not a disk: nothing to relocate */
		}
		goto out;
	}
	if (st != DESC_OK) {
		if (e.code == DESC_E_NOMEM)
			st = vk_nomem(r->err);
		else
			st = DESC_OK; /* unreadable or huge: not a descriptor */
		goto out;
	}
	if (desc_parse(text, len, path, &desc, NULL, &e) != DESC_OK) {
		st = e.code == DESC_E_NOMEM ? vk_nomem(r->err) : DESC_OK;
		goto out;
	}
	dir = fs_dirname(path);
	abs_dir = dir ? fs_absolute(dir) : NULL;
	if (abs_dir == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	new_dir = in_base ? vk_asprintf("%s%s", r->new_abs,
					 abs_dir + strlen(r->base_abs)) :
			    vk_strdup(abs_dir);
	if (new_dir == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	for (size_t i = 0; i < desc_extent_count(desc) && st == DESC_OK; i++) {
		const desc_extent *x = desc_extent_at(desc, i);

		if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
			continue;
		/* A relative path inside the base stays right when the
		 * base moves as a whole. */
		if (in_base && x->path[0] != '/')
			continue;
		st = new_name(r, path, new_dir, x->path, &repl);
		if (st == DESC_OK && repl != NULL) {
			st = desc_extent_set_path(desc, i, repl, r->err);
			changed = true;
		}
		vk_free(repl);
		repl = NULL;
	}
	if (st == DESC_OK && desc_parent_hint(desc) != NULL &&
	    !(in_base && desc_parent_hint(desc)[0] != '/')) {
		st = new_name(r, path, new_dir, desc_parent_hint(desc), &repl);
		if (st == DESC_OK && repl != NULL) {
			st = desc_set_parent_hint(desc, repl, r->err);
			changed = true;
		}
		vk_free(repl);
		repl = NULL;
	}
	if (st != DESC_OK || !changed)
		goto out;
	/* Only the new text is staged: the commit keeps the old file
	 * itself for a rollback. */
	st = desc_write(desc, &new_text, &new_len, r->err);
	if (st == DESC_OK)
		st = add_edit(r, path, in_base, &sb, sb.st_mode & 07777,
			      new_text, new_len);
out:
	vk_free(repl);
	vk_free(new_text);
	vk_free(text);
	vk_free(dir);
	vk_free(abs_dir);
	vk_free(new_dir);
	desc_free(desc);
	return st;
}

/* A .vmx whose disk nodes, or a .vmsd whose snapshot disks, name a file
 * in the base folder (a VM opening the base descriptor directly). */
static desc_status consider_dict(struct reloc *r, const char *path)
{
	vmdk_vmx_disk *disks = NULL;
	vmsd_snapshot_disk *snaps = NULL;
	size_t ndisks = 0, nsnaps = 0, len = 0, out_len = 0;
	char *text = NULL, *dir = NULL, *abs_dir = NULL, *out = NULL;
	desc_dict *dict = NULL;
	bool vmx = cm_has_suffix(path, ".vmx"), changed = false;
	struct stat sb;
	desc_status st;
	desc_error e;

	if (cm_fileset_has_path(&r->seen, path))
		return DESC_OK;
	if (!cm_fileset_add_path(&r->seen, path))
		return vk_nomem(r->err);
	if (stat(path, &sb) != 0)
		return fs_error(r->err, errno, path, "cannot stat");
	desc_error_clear(&e);
	st = fs_read_file(path, DESC_MAX_INPUT, &text, &len, &e);
	if (st == DESC_OK)
		st = desc_dict_parse(text, len, path, &dict, NULL, &e);
	if (st == DESC_OK && vmx)
		st = vmdk_vmx_disks(dict, &disks, &ndisks, &e);
	else if (st == DESC_OK)
		st = vmsd_snapshot_disks(dict, &snaps, &nsnaps, &e);
	if (st != DESC_OK) {
		/* Not ours to judge here: `vmdkit check` reports it. */
		st = e.code == DESC_E_NOMEM ? vk_nomem(r->err) : DESC_OK;
		goto out;
	}
	dir = fs_dirname(path);
	abs_dir = dir ? fs_absolute(dir) : NULL;
	if (abs_dir == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	for (size_t i = 0; i < ndisks + nsnaps && st == DESC_OK; i++) {
		const char *value = i < ndisks ? disks[i].file_name :
						 snaps[i - ndisks].file_name;
		char *repl = NULL, *key;

		if (value == NULL || value[0] == '\0')
			continue;
		st = new_name(r, path, abs_dir, value, &repl);
		if (st != DESC_OK || repl == NULL)
			continue;
		key = i < ndisks ?
			      vk_asprintf("%s.fileName", disks[i].node) :
			      vk_asprintf("snapshot%lu.disk%lu.fileName",
					  snaps[i - ndisks].snapshot,
					  snaps[i - ndisks].disk);
		if (key == NULL)
			st = vk_nomem(r->err);
		else
			st = desc_dict_set(dict, key, repl, r->err);
		changed = true;
		vk_free(key);
		vk_free(repl);
	}
	if (st != DESC_OK || !changed)
		goto out;
	st = desc_dict_write(dict, &out, &out_len, r->err);
	if (st == DESC_OK)
		st = add_edit(r, path, false, &sb, sb.st_mode & 07777, out,
			      out_len);
out:
	vk_free(out);
	vmdk_vmx_disks_free(disks, ndisks);
	vmsd_snapshot_disks_free(snaps, nsnaps);
	desc_dict_free(dict);
	vk_free(text);
	vk_free(dir);
	vk_free(abs_dir);
	return st;
}

static desc_status scan(struct reloc *r, const char *dir, bool in_base,
			unsigned depth)
{
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d;

	/* A killed earlier relocate's temporary copies here are debris
	 * (a rerun or the reverse relocate writes its own). */
	if (!r->opt->dry_run) {
		st = fs_temp_cleanup(dir, NULL, r->err);
		if (st != DESC_OK)
			return st;
	}
	d = opendir(dir);
	if (d == NULL)
		return fs_error(r->err, errno, dir, "cannot open folder");
	while (st == DESC_OK && (de = readdir(d)) != NULL) {
		struct stat sb;
		char *path;

		if (de->d_name[0] == '.')
			continue; /* ".", "..", staging leftovers */
		path = fs_join(dir, de->d_name);
		if (path == NULL) {
			st = vk_nomem(r->err);
			break;
		}
		if (lstat(path, &sb) == 0) {
			if (S_ISDIR(sb.st_mode) && depth < SCAN_DEPTH_MAX &&
			    !cm_has_suffix(de->d_name, ".lck")) {
				char *abs = fs_absolute(path);

				if (abs == NULL)
					st = vk_nomem(r->err);
				else if (in_base || !cm_under(r->base_abs, abs))
					st = scan(r, path, in_base, depth + 1);
				vk_free(abs);
			} else if (S_ISREG(sb.st_mode) &&
				   cm_has_suffix(de->d_name, ".vmdk") &&
				   (in_base || !cm_fileset_has_path(&r->base_files, path)) &&
				   cm_looks_like_descriptor(path)) {
				st = consider(r, path, in_base);
			} else if (S_ISREG(sb.st_mode) && !in_base &&
				   (cm_has_suffix(de->d_name, ".vmx") ||
				    cm_has_suffix(de->d_name, ".vmsd"))) {
				st = consider_dict(r, path);
			}
		}
		vk_free(path);
	}
	closedir(d);
	return st;
}

/* Where an edit's file and its staged copy are now (after the move for
 * base files).  vk_free. */
static char *current_dir(const struct reloc *r, const struct edit *ed)
{
	char *dir = fs_dirname(ed->path), *abs, *p;

	if (dir == NULL)
		return NULL;
	if (!ed->in_base || !r->moved)
		return dir;
	abs = fs_absolute(dir);
	vk_free(dir);
	if (abs == NULL)
		return NULL;
	p = vk_asprintf("%s%s", r->new_abs, abs + strlen(r->base_abs));
	vk_free(abs);
	return p;
}

/* "<prefix>NAME-<pid>-XXXXXX": the pid lets a later run tell a killed
 * run's leftover from a live one's (fs_temp_cleanup). */
static desc_status temp_name(struct reloc *r, const struct edit *ed,
			     char **out)
{
	unsigned char rnd[3];
	desc_status st;

	*out = NULL;
	st = fs_random(rnd, sizeof(rnd), r->err);
	if (st != DESC_OK)
		return st;
	*out = vk_asprintf("%s%s-%ld-%02x%02x%02x", VMDK_STAGING_PREFIX,
			   ed->name, (long)getpid(), rnd[0], rnd[1], rnd[2]);
	return *out == NULL ? vk_nomem(r->err) : DESC_OK;
}

static desc_status stage(struct reloc *r, struct edit *ed, const char *text,
			 size_t len)
{
	char *dir = current_dir(r, ed), *tmp = NULL;
	desc_status st;

	if (dir == NULL)
		return vk_nomem(r->err);
	st = temp_name(r, ed, &ed->temp_name);
	if (st != DESC_OK)
		goto out;
	tmp = fs_join(dir, ed->temp_name);
	if (tmp == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	st = fs_write_new(tmp, text, len, ed->mode, true, r->err);
out:
	if (st != DESC_OK) {
		vk_free(ed->temp_name);
		ed->temp_name = NULL;
	}
	vk_free(tmp);
	vk_free(dir);
	return st;
}

/* Removes the temporary `*name` in the edit's folder (and forgets it). */
static void drop_temp(const struct reloc *r, const struct edit *ed,
		      char **name)
{
	char *dir, *tmp;

	if (*name == NULL)
		return;
	dir = current_dir(r, ed);
	tmp = dir ? fs_join(dir, *name) : NULL;
	if (tmp != NULL)
		fp_unlink(tmp);
	vk_free(tmp);
	vk_free(dir);
	vk_free(*name);
	*name = NULL;
}

static void unstage(const struct reloc *r, struct edit *ed)
{
	if (ed->renamed)
		return;
	drop_temp(r, ed, &ed->temp_name);
	drop_temp(r, ed, &ed->keep_name);
}

/* The file at `dst` is still the one read (same inode, size and
 * modification time): else someone wrote it since, and renaming our text
 * over it would silently undo that. */
static desc_status same_as_read(struct reloc *r, const struct edit *ed,
				const char *dst)
{
	struct stat sb;

	if (lstat(dst, &sb) != 0)
		return fs_error(r->err, errno, dst, "cannot stat");
	if (sb.st_dev == ed->dev && sb.st_ino == ed->ino &&
	    sb.st_size == ed->size && sb.st_mtim.tv_sec == ed->mtime.tv_sec &&
	    sb.st_mtim.tv_nsec == ed->mtime.tv_nsec)
		return DESC_OK;
	return desc_error_set(r->err, DESC_E_BUSY, dst, 0,
			      "changed by another program during the relocate (expected nobody writing the leaves: is a VM using them?); nothing moved");
}

/* Keeps the old file `dst` as `keep` for a rollback: a second name for
 * the same inode (mode, owner and bytes exactly as they were), or, on a
 * filesystem without hard links, a copy. */
static desc_status keep_old(struct reloc *r, const struct edit *ed,
			    const char *dst, const char *keep)
{
	char *text = NULL;
	size_t len = 0;
	desc_status st;

	if (fp_link(dst, keep) == 0)
		return DESC_OK;
	if (errno != EPERM && errno != EMLINK && errno != ENOSYS &&
	    errno != ENOTSUP && errno != EOPNOTSUPP)
		return fs_error(r->err, errno, dst, "cannot keep the old copy of");
	st = fs_read_file(dst, (size_t)ed->size + 1, &text, &len, r->err);
	if (st == DESC_OK)
		/* no fsync: a crash is recovered from the relocation
		 * record, never from this copy */
		st = fs_write_new(keep, text, len, ed->mode, false, r->err);
	vk_free(text);
	return st;
}

static desc_status commit_one(struct reloc *r, struct edit *ed)
{
	char *dir = current_dir(r, ed), *tmp = NULL, *dst = NULL, *keep = NULL;
	desc_status st;

	st = temp_name(r, ed, &ed->keep_name);
	if (st != DESC_OK)
		goto out;
	tmp = dir ? fs_join(dir, ed->temp_name) : NULL;
	dst = dir ? fs_join(dir, ed->name) : NULL;
	keep = dir ? fs_join(dir, ed->keep_name) : NULL;
	if (tmp == NULL || dst == NULL || keep == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	st = same_as_read(r, ed, dst);
	if (st == DESC_OK)
		st = keep_old(r, ed, dst, keep);
	if (st != DESC_OK) {
		vk_free(ed->keep_name);
		ed->keep_name = NULL;
		goto out;
	}
	if (fp_rename(tmp, dst) != 0)
		st = fs_error(r->err, errno, dst, "cannot rename the staged copy over");
	else
		ed->renamed = true;
out:
	vk_free(tmp);
	vk_free(dst);
	vk_free(keep);
	vk_free(dir);
	return st;
}

/* After a failure past the folder rename: old files back, folder back. */
static void roll_back(struct reloc *r)
{
	for (size_t i = 0; i < r->nedits; i++) {
		struct edit *ed = &r->edits[i];
		char *dir, *dst, *keep;

		if (!ed->renamed) {
			unstage(r, ed);
			continue;
		}
		dir = current_dir(r, ed);
		dst = dir ? fs_join(dir, ed->name) : NULL;
		keep = dir ? fs_join(dir, ed->keep_name) : NULL;
		if (dst != NULL && keep != NULL && fp_rename(keep, dst) == 0) {
			vk_free(ed->keep_name);
			ed->keep_name = NULL;
		}
		vk_free(keep);
		vk_free(dst);
		vk_free(dir);
		ed->renamed = false;
	}
	if (r->moved && fp_rename(r->newdir, r->basedir) == 0)
		r->moved = false;
}

/* The manifest entry of an edited base descriptor must follow the new
 * text, or verify would call the base modified. */
static desc_status restage_manifest(struct reloc *r)
{
	manifest m = { 0 };
	struct edit *ed;
	struct stat sb;
	char *mpath = NULL, *text = NULL, *new_text = NULL;
	size_t len = 0, new_len = 0;
	desc_status st = DESC_OK;
	bool any = false;
	int dfd = -1;

	for (size_t i = 0; i < r->nedits; i++)
		any = any || r->edits[i].in_base;
	if (!any)
		return DESC_OK;
	mpath = fs_join(r->basedir, VMDK_MANIFEST_NAME);
	if (mpath == NULL)
		return vk_nomem(r->err);
	if (!fs_exists(mpath))
		goto out; /* not a vmdkit base: no manifest to keep */
	st = fs_read_file(mpath, DESC_MAX_INPUT, &text, &len, r->err);
	if (st == DESC_OK)
		st = manifest_parse(text, len, mpath, &m, r->err);
	if (st != DESC_OK)
		goto out;
	dfd = open(r->basedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		st = fs_error(r->err, errno, r->basedir, "cannot open base folder");
		goto out;
	}
	for (size_t i = 0; i < r->nedits && st == DESC_OK; i++) {
		manifest_entry *e;

		ed = &r->edits[i];
		if (!ed->in_base)
			continue;
		e = (manifest_entry *)manifest_find(&m, ed->name);
		if (e == NULL)
			continue;
		st = manifest_hash_file(dfd, r->basedir, ed->temp_name,
					&e->size, e->sha256, r->err);
	}
	if (st != DESC_OK)
		goto out;
	if (stat(mpath, &sb) != 0) {
		st = fs_error(r->err, errno, mpath, "cannot stat");
		goto out;
	}
	st = manifest_format(&m, &new_text, &new_len, r->err);
	if (st == DESC_OK)
		st = add_edit(r, mpath, true, &sb, 0444, new_text, new_len);
out:
	if (dfd >= 0)
		close(dfd);
	manifest_clear(&m);
	vk_free(text);
	vk_free(new_text);
	vk_free(mpath);
	return st;
}

static void reloc_free(struct reloc *r)
{
	for (size_t i = 0; i < r->nedits; i++) {
		vk_free(r->edits[i].path);
		vk_free(r->edits[i].name);
		vk_free(r->edits[i].temp_name);
		vk_free(r->edits[i].keep_name);
	}
	vk_free(r->edits);
	vk_free(r->record);
	vk_free(r->base_abs);
	vk_free(r->new_abs);
	vk_free(r->basedir);
	vk_free(r->newdir);
	cm_fileset_clear(&r->base_files);
	cm_fileset_clear(&r->seen);
}

/*
 * The relocation record: a file ".vmdkit-relocate-NEWNAME-<pid>-XXXXXX"
 * beside NEWDIR, holding "from OLD\nto NEW\n" (absolute), written before
 * the folder is renamed and removed once every leaf is rewritten.  A
 * relocate killed in between leaves OLD missing, NEW present and some
 * leaves still pointing into OLD; the record of a dead run is the proof
 * that lets the next `relocate OLD NEW` finish it (the reverse relocate,
 * then this one) instead of refusing a missing OLD.  (RECORD_PREFIX is
 * in ops.h: check reports a record left behind.)
 */

static char *record_stem(const char *target_abs)
{
	char *dir = fs_dirname(target_abs), *base = fs_basename(target_abs);
	char *stem = NULL;

	if (dir != NULL && base != NULL)
		stem = vk_asprintf("%s/" RECORD_PREFIX "%s-", dir, base);
	vk_free(dir);
	vk_free(base);
	return stem;
}

static desc_status write_record(struct reloc *r)
{
	unsigned char rnd[3];
	char *stem = record_stem(r->new_abs), *text = NULL, *dir = NULL;
	desc_status st;

	if (stem == NULL)
		return vk_nomem(r->err);
	st = fs_random(rnd, sizeof(rnd), r->err);
	if (st != DESC_OK)
		goto out;
	r->record = vk_asprintf("%s%ld-%02x%02x%02x", stem, (long)getpid(),
				rnd[0], rnd[1], rnd[2]);
	text = vk_asprintf("from %s\nto %s\n", r->base_abs, r->new_abs);
	dir = fs_dirname(r->new_abs);
	if (r->record == NULL || text == NULL || dir == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	st = fs_write_new(r->record, text, strlen(text), 0600, true, r->err);
	if (st == DESC_OK)
		st = fs_sync_dir(dir, r->err);
	if (st != DESC_OK) {
		fp_unlink(r->record);
		vk_free(r->record);
		r->record = NULL;
	}
out:
	vk_free(stem);
	vk_free(text);
	vk_free(dir);
	return st;
}

static void drop_record(struct reloc *r)
{
	if (r->record != NULL)
		fp_unlink(r->record);
	vk_free(r->record);
	r->record = NULL;
}

/* "from A\nto B\n" in full: a record written to the end. */
static bool record_whole(const char *text)
{
	const char *nl;

	if (strncmp(text, "from /", 6) != 0 || (nl = strchr(text, '\n')) == NULL ||
	    strncmp(nl + 1, "to /", 4) != 0 || (nl = strchr(nl + 1, '\n')) == NULL)
		return false;
	return nl[1] == '\0';
}

/* Dead runs' records beside `target_abs` about OLD <-> NEW: *forward set
 * when one says OLD -> NEW (the proof for finishing it).  With `remove`,
 * they are removed (debris once the tree is consistent), and so are
 * records cut short (killed while writing it, before any move) and, with
 * `all`, every other dead one named for this target (it does not exist:
 * no relocation into it is left to finish). */
static desc_status scan_records(struct reloc *r, const char *target_abs,
				bool remove, bool all, bool *forward)
{
	char *stem = record_stem(target_abs), *dir = NULL, *want_fwd = NULL,
	     *want_back = NULL;
	desc_status st = DESC_OK;
	const char *base;
	struct dirent *de;
	size_t blen;
	DIR *d = NULL;

	want_fwd = vk_asprintf("from %s\nto %s\n", r->base_abs, r->new_abs);
	want_back = vk_asprintf("from %s\nto %s\n", r->new_abs, r->base_abs);
	dir = fs_dirname(target_abs);
	if (stem == NULL || want_fwd == NULL || want_back == NULL || dir == NULL) {
		st = vk_nomem(r->err);
		goto out;
	}
	base = strrchr(stem, '/') + 1;
	blen = strlen(base);
	d = opendir(dir);
	if (d == NULL)
		goto out; /* no folder, no records */
	while (st == DESC_OK && (de = readdir(d)) != NULL) {
		char *path, *text = NULL;
		struct stat sb;
		size_t len = 0;
		desc_error ignored;

		if (strncmp(de->d_name, base, blen) != 0 ||
		    !fs_name_owner_dead(de->d_name))
			continue;
		path = fs_join(dir, de->d_name);
		if (path == NULL) {
			st = vk_nomem(r->err);
			break;
		}
		if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    fs_read_file(path, 2 * PATH_MAX + 64, &text, &len,
				 &ignored) == DESC_OK) {
			bool fwd = strcmp(text, want_fwd) == 0;

			if (fwd)
				*forward = true;
			if (remove && (fwd || all || !record_whole(text) ||
				       strcmp(text, want_back) == 0))
				fp_unlink(path);
		}
		vk_free(text);
		vk_free(path);
	}
out:
	if (d != NULL)
		closedir(d);
	vk_free(stem);
	vk_free(dir);
	vk_free(want_fwd);
	vk_free(want_back);
	return st;
}

static desc_status check_args(struct reloc *r, const char *basedir,
			      const char *newdir)
{
	struct stat sb;
	char *parent;
	desc_status st = DESC_OK;

	if (stat(basedir, &sb) != 0)
		return fs_error(r->err, errno, basedir, "cannot open base folder");
	if (!S_ISDIR(sb.st_mode))
		return desc_error_set(r->err, DESC_E_ARG, basedir, 0,
				      "not a folder (expected the base folder)");
	if (lstat(newdir, &sb) == 0)
		return desc_error_set(r->err, DESC_E_EXISTS, newdir, 0,
				      "target exists (expected a new folder name)");
	r->basedir = vk_strdup(basedir);
	r->newdir = vk_strdup(newdir);
	r->base_abs = fs_absolute(basedir);
	r->new_abs = fs_absolute(newdir);
	if (!r->basedir || !r->newdir || !r->base_abs || !r->new_abs)
		return vk_nomem(r->err);
	if (strcmp(r->base_abs, "/") == 0 || cm_under(r->base_abs, r->new_abs))
		return desc_error_set(r->err, DESC_E_ARG, newdir, 0,
				      "new folder lies inside the base folder '%s'",
				      basedir);
	parent = fs_dirname(r->new_abs);
	if (parent == NULL)
		return vk_nomem(r->err);
	if (stat(parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
		st = desc_error_set(r->err, DESC_E_NOT_FOUND, newdir, 0,
				    "parent folder '%s' does not exist", parent);
	vk_free(parent);
	return st;
}

/* OLD missing, NEW present and a dead run's record "OLD -> NEW": that run
 * was killed after moving the folder.  The reverse relocate puts every
 * leaf back on OLD, then this one proceeds as usual.  Dead records about
 * OLD <-> NEW are removed once the tree is consistent again. */
static desc_status resume(struct reloc *r, const char *basedir,
			  const char *newdir, const char *const *leaf_dirs,
			  size_t nleaf_dirs)
{
	struct stat sb;
	desc_status st;
	bool forward = false, ignored = false;

	r->base_abs = fs_absolute(basedir);
	r->new_abs = fs_absolute(newdir);
	if (r->base_abs == NULL || r->new_abs == NULL)
		return vk_nomem(r->err);
	if (lstat(basedir, &sb) != 0 && errno == ENOENT &&
	    lstat(newdir, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		st = scan_records(r, r->new_abs, false, false, &forward);
		if (st != DESC_OK || !forward)
			goto out;
		st = vmdk_relocate(newdir, basedir, leaf_dirs, nleaf_dirs,
				   r->opt, r->err);
		if (st != DESC_OK)
			goto out;
	}
	/* OLD is in place (perhaps again): the records are debris. */
	if (lstat(basedir, &sb) == 0) {
		bool no_new = lstat(newdir, &sb) != 0 && errno == ENOENT;

		st = scan_records(r, r->new_abs, true, no_new, &ignored);
		if (st == DESC_OK)
			st = scan_records(r, r->base_abs, true, false, &ignored);
	} else {
		st = DESC_OK;
	}
out:
	vk_free(r->base_abs);
	vk_free(r->new_abs);
	r->base_abs = r->new_abs = NULL;
	return st;
}

desc_status vmdk_relocate(const char *basedir, const char *newdir,
			  const char *const *leaf_dirs, size_t nleaf_dirs,
			  const vmdk_relocate_options *opt, desc_error *err)
{
	static const vmdk_relocate_options defaults;
	struct reloc r;
	desc_status st;
	char *shown = NULL;

	desc_error_clear(err);
	if (basedir == NULL || newdir == NULL ||
	    (leaf_dirs == NULL && nleaf_dirs > 0))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_relocate: NULL argument");
	/* Moving a base without looking for its leaves breaks them all. */
	if (nleaf_dirs == 0)
		return desc_error_set(err, DESC_E_ARG, basedir, 0,
				      "no leaf folder given (expected the folders holding the leaves of this base; `vmdkit dependents` finds them)");
	memset(&r, 0, sizeof(r));
	r.opt = opt ? opt : &defaults;
	r.err = err;
	if (!r.opt->dry_run) {
		st = resume(&r, basedir, newdir, leaf_dirs, nleaf_dirs);
		if (st != DESC_OK)
			goto out;
	}
	st = check_args(&r, basedir, newdir);
	if (st != DESC_OK)
		goto out;
	/* The base's files, so a leaf folder that contains the base does
	 * not treat the base's own descriptors as leaves. */
	{
		DIR *d = opendir(basedir);
		struct dirent *de;

		if (d == NULL) {
			st = fs_error(err, errno, basedir, "cannot open base folder");
			goto out;
		}
		while (st == DESC_OK && (de = readdir(d)) != NULL) {
			char *p = fs_join(basedir, de->d_name);

			if (p == NULL || !cm_fileset_add_path(&r.base_files, p))
				st = vk_nomem(err);
			vk_free(p);
		}
		closedir(d);
	}
	if (st == DESC_OK)
		st = scan(&r, basedir, true, 0);
	for (size_t i = 0; i < nleaf_dirs && st == DESC_OK; i++)
		st = scan(&r, leaf_dirs[i], false, 0);
	if (st != DESC_OK)
		goto fail; /* the temporaries staged so far go */
	if (r.opt->dry_run) {
		for (size_t i = 0; i < r.nedits; i++)
			report(&r, "write", r.edits[i].path);
		shown = vk_asprintf("%s -> %s", basedir, newdir);
		report(&r, "rename", shown ? shown : basedir);
		goto out;
	}
	/* Every new text is staged already (add_edit); the manifest's
	 * hashes are those of the staged base descriptors. */
	st = restage_manifest(&r);
	if (st == DESC_OK)
		st = write_record(&r);
	if (st != DESC_OK)
		goto fail;
	st = fs_rename_noreplace(basedir, newdir, err);
	if (st != DESC_OK) {
		if (err != NULL && err->errnum == EXDEV)
			desc_error_set(err, DESC_E_REFUSED, newdir, 0,
				       "'%s' is on another filesystem than the base (expected a folder on the same filesystem; copy the base with `vmdkit base --copy` instead)",
				       newdir);
		goto fail;
	}
	r.moved = true;
	shown = vk_asprintf("%s -> %s", basedir, newdir);
	report(&r, "rename", shown ? shown : basedir);
	for (size_t i = 0; i < r.nedits && st == DESC_OK; i++) {
		st = commit_one(&r, &r.edits[i]);
		if (st == DESC_OK && !r.edits[i].in_base) {
			report(&r, "write", r.edits[i].path);
		} else if (st == DESC_OK) {
			/* base files are reported where they are now */
			char *dir = current_dir(&r, &r.edits[i]);
			char *now = dir ? fs_join(dir, r.edits[i].name) : NULL;

			report(&r, "write", now ? now : r.edits[i].path);
			vk_free(now);
			vk_free(dir);
		}
	}
	if (st != DESC_OK)
		goto fail;
	/* Durable: the leaves' folders and the parents of both names. */
	for (size_t i = 0; i < r.nedits; i++) {
		char *dir = current_dir(&r, &r.edits[i]);

		if (dir != NULL)
			fs_sync_dir(dir, NULL);
		vk_free(dir);
	}
	{
		char *a = fs_dirname(r.base_abs), *b = fs_dirname(r.new_abs);

		if (a != NULL)
			fs_sync_dir(a, NULL);
		if (b != NULL)
			fs_sync_dir(b, NULL);
		vk_free(a);
		vk_free(b);
	}
	/* Every leaf is rewritten: the kept old files go, then the record
	 * (a kill in between: the next run finishes from the record and
	 * removes what is left of both). */
	for (size_t i = 0; i < r.nedits; i++)
		drop_temp(&r, &r.edits[i], &r.edits[i].keep_name);
	drop_record(&r);
	goto out;
fail:
	roll_back(&r);
	/* Still moved (the rename back failed): the record is what lets
	 * the next run finish. */
	if (!r.moved)
		drop_record(&r);
out:
	vk_free(shown);
	reloc_free(&r);
	return st;
}
