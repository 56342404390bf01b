/*
 * base.c - making a protected base from a master, and verifying it.
 *
 * vmdk_base_make(SOURCE, BASEDIR):
 *   1. collects the master's disks (a .vmx: every hard disk it names; a
 *      .vmdk: that disk) and refuses, before touching anything, a master
 *      that looks running (a *.lck entry beside its .vmx or a disk), a disk
 *      that is a delta (parentCID != ffffffff), a .vmx folder holding
 *      snapshot deltas (NAME-00000N.vmdk) or a .vmsd with snapshots, a
 *      streamOptimized disk, and a BASEDIR that exists and is not empty;
 *   0. first finishes or undoes what a killed earlier run into the same
 *      BASEDIR left (see "undo record" below), and is done at once when
 *      that base is already complete;
 *   2. stages the base in a sibling folder
 *      ".vmdkit-tmp-BASENAME-PID-undo-XXXXXX";
 *   3. moves the extents in (a hard link, the master's name removed after
 *      the commit; a copy when the master is on another filesystem, or
 *      with opt->copy), keeping each file's name, then writes the undo
 *      record before the master changes;
 *   4. writes each base descriptor under the master descriptor's own name
 *      (a clone of it: extent paths rewritten to bare file names, or to
 *      absolute BASEDIR paths with opt->absolute; ddb.uuid removed,
 *      ddb.longContentID too with opt->strip_long_content_id; CID
 *      unchanged, so nothing that already points at this content breaks).
 *      A monolithicSparse master has no separate descriptor: the base is
 *      that one file and its embedded descriptor is edited in place,
 *      within its descriptorSize sectors, NUL-padded;
 *   5. writes the manifest, makes every file 0444, fsyncs every file and
 *      the staging folder;
 *   6. when moving: renames each master text descriptor to
 *      "NAME.vmdk.vmdkit-moved" (see below);
 *   7. renames the staging folder to BASEDIR (no replace), fsyncs the
 *      folders involved, and only then removes master originals that had
 *      to be copied across filesystems.
 * A failure in 3-7 undoes everything done so far: moved extents go back
 * (with their modes, and a monolithic file's embedded descriptor bytes),
 * renamed descriptors get their names back, the staging folder is
 * removed.  A kill in 3-7 is undone the same way by the next run, from
 * the undo record; a kill after 7 is finished by it.
 *
 * The master after a move: its extents now live in the base and must
 * never be written again (a single write changes the CID and breaks every
 * leaf).  Pointing the master's descriptor at the base would leave a VM
 * that boots straight off the base, so instead the descriptor is renamed
 * to "NAME.vmdk.vmdkit-moved" (text unchanged, kept for the record): the
 * master's .vmx now names a missing disk and the hypervisor refuses to
 * power it on.  Use --copy to keep a bootable master.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/base.h"
#include "vmdk/ops/ops.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

#define MOVED_SUFFIX ".vmdkit-moved"
#define DIGITS "0123456789"

/* One file that ends up in the base folder. */
struct base_file {
	char *src;      /* where it is in the master */
	char *name;     /* its name in the base */
	mode_t mode;    /* its mode before we touched it */
	dev_t dev;      /* its identity in the master (the undo record) */
	ino_t ino;
	bool moved;     /* renamed into staging: rename back on failure */
	bool copied;    /* copied while moving (EXDEV): unlink src at the end */
};

struct base_disk {
	char *path;              /* master descriptor (or monolithic file) */
	char *name;              /* its base name, also its name in the base */
	char *dir;               /* its folder */
	desc_descriptor *desc;   /* the master's descriptor */
	bool embedded;
	size_t file;             /* embedded: index of its file in files[] */
	/* embedded + moved: the original descriptor area, for rollback */
	uint64_t area_offset;
	size_t area_len;
	char *area_orig;
	char *area_new;          /* the edited area; NULL: nothing to edit */
	bool area_edited;
	bool desc_renamed;       /* master descriptor renamed to .vmdkit-moved */
	dev_t dev;               /* the descriptor's identity (undo record) */
	ino_t ino;
	char *moved_path;
};

struct base_job {
	const char *source;
	const vmdk_base_options *opt;
	desc_error *err;
	char *basedir;           /* absolute */
	char *parent;            /* its folder */
	bool basedir_empty;      /* exists as an empty folder */
	bool basedir_removed;    /* we removed that empty folder */
	struct base_disk *disks;
	size_t ndisks;
	struct base_file *files;
	size_t nfiles;
	char *staging;
	char *undo_final;        /* the undo record's path after the commit */
};

void base_report(const struct base_job *job, const char *action,
		 const char *path)
{
	if (job->opt->report != NULL)
		job->opt->report(job->opt->report_ctx, action, path);
}

void base_report2(const struct base_job *job, const char *action,
		  const char *from, const char *to)
{
	char *s;

	if (job->opt->report == NULL)
		return;
	s = vk_asprintf("%s -> %s", from, to);
	base_report(job, action, s ? s : to);
	vk_free(s);
}

static bool ends_with(const char *s, const char *suffix, bool nocase)
{
	size_t n = strlen(s), m = strlen(suffix);

	if (n < m)
		return false;
	return nocase ? strcasecmp(s + n - m, suffix) == 0 :
			strcmp(s + n - m, suffix) == 0;
}

/* "NAME-000001.vmdk", "NAME-000012-s001.vmdk": the names VMware gives
 * snapshot deltas. */
static bool snapshot_delta_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	const char *p;

	if (dot == NULL || strcasecmp(dot, ".vmdk") != 0)
		return false;
	for (p = name; (p = strchr(p, '-')) != NULL; p++) {
		const char *q = p + 1;

		if (strspn(q, DIGITS) != 6)
			continue;
		q += 6;
		if (q == dot)
			return true;
		if (q[0] == '-' && q[1] == 's') {
			q += 2;
			q += strspn(q, DIGITS);
			if (q == dot)
				return true;
		}
	}
	return false;
}

/* Refuses a folder holding a lock (running VM) or, when `deltas`, a
 * snapshot delta. */
static desc_status check_folder(struct base_job *job, const char *dir,
				bool deltas)
{
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return fs_error(job->err, errno, dir, "cannot read folder");
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (ends_with(de->d_name, ".lck", true)) {
			path = fs_join(dir, de->d_name);
			st = desc_error_set(job->err, DESC_E_BUSY, path ? path : dir, 0,
					    "'%s' exists: the master looks running; power it off first",
					    de->d_name);
			vk_free(path);
			break;
		}
		if (deltas && snapshot_delta_name(de->d_name)) {
			path = fs_join(dir, de->d_name);
			st = desc_error_set(job->err, DESC_E_REFUSED, path ? path : dir, 0,
					    "snapshot delta '%s' beside the master (expected a master without snapshots: delete or consolidate its snapshots first)",
					    de->d_name);
			vk_free(path);
			break;
		}
	}
	closedir(d);
	return st;
}

static desc_status check_vmsd(struct base_job *job, const char *vmx_path)
{
	char *vmsd_path = NULL, *text = NULL;
	const char *numsnap;
	desc_dict *vmsd = NULL;
	vmsd_snapshot_disk *sd = NULL;
	size_t len = 0, nsd = 0;
	desc_status st = DESC_OK;

	vmsd_path = vk_asprintf("%.*s.vmsd", (int)(strlen(vmx_path) - 4),
				vmx_path);
	if (vmsd_path == NULL)
		return vk_nomem(job->err);
	if (!fs_exists(vmsd_path))
		goto out;
	st = fs_read_file(vmsd_path, DESC_MAX_INPUT, &text, &len, job->err);
	if (st != DESC_OK)
		goto out;
	st = desc_dict_parse(text, len, vmsd_path, &vmsd, NULL, job->err);
	if (st != DESC_OK)
		goto out;
	st = vmsd_snapshot_disks(vmsd, &sd, &nsd, job->err);
	if (st != DESC_OK)
		goto out;
	numsnap = desc_dict_get(vmsd, "snapshot.numSnapshots");
	if (nsd > 0 || (numsnap != NULL && strcmp(numsnap, "0") != 0 &&
			numsnap[0] != '\0'))
		st = desc_error_set(job->err, DESC_E_REFUSED, vmsd_path, 0,
				    "the master has snapshots (expected none: delete or consolidate its snapshots first)");
out:
	vmsd_snapshot_disks_free(sd, nsd);
	desc_dict_free(vmsd);
	vk_free(text);
	vk_free(vmsd_path);
	return st;
}

/* Adds a file to the base, refusing two files with one name. */
static desc_status add_file(struct base_job *job, const char *src,
			    const char *name, size_t *index)
{
	struct base_file *grown, *f;
	struct stat sb;
	size_t i;

	if (strcmp(name, VMDK_MANIFEST_NAME) == 0 || name[0] == '.' ||
	    strchr(name, '\n') != NULL)
		return desc_error_set(job->err, DESC_E_REFUSED, src, 0,
				      "base file name '%s' is reserved or hidden (expected a plain disk file name)",
				      name);
	for (i = 0; i < job->nfiles; i++)
		if (strcmp(job->files[i].name, name) == 0)
			return desc_error_set(job->err, DESC_E_REFUSED, src, 0,
					      "two base files would be named '%s' (expected distinct disk file names)",
					      name);
	for (i = 0; i < job->ndisks; i++)
		if (!job->disks[i].embedded && job->disks[i].name != NULL &&
		    strcmp(job->disks[i].name, name) == 0)
			return desc_error_set(job->err, DESC_E_REFUSED, src, 0,
					      "two base files would be named '%s' (expected distinct disk file names)",
					      name);
	if (lstat(src, &sb) != 0)
		return fs_error(job->err, errno, src, "cannot find extent");
	if (!S_ISREG(sb.st_mode))
		return desc_error_set(job->err, DESC_E_REFUSED, src, 0,
				      "extent is not a regular file (expected a file, not a symlink or device)");
	grown = vk_reallocarray(job->files, job->nfiles + 1, sizeof(*grown));
	if (grown == NULL)
		return vk_nomem(job->err);
	job->files = grown;
	f = &job->files[job->nfiles];
	memset(f, 0, sizeof(*f));
	f->src = vk_strdup(src);
	f->name = vk_strdup(name);
	f->mode = sb.st_mode & 07777;
	f->dev = sb.st_dev;
	f->ino = sb.st_ino;
	job->nfiles++;
	if (f->src == NULL || f->name == NULL)
		return vk_nomem(job->err);
	if (index != NULL)
		*index = job->nfiles - 1;
	return DESC_OK;
}

static desc_status add_disk(struct base_job *job, const char *path)
{
	struct base_disk *grown, *d;
	vmdk_disk *disk = NULL;
	char *dir = NULL;
	const char *ct;
	uint32_t pcid;
	desc_status st;
	size_t i, n;

	grown = vk_reallocarray(job->disks, job->ndisks + 1, sizeof(*grown));
	if (grown == NULL)
		return vk_nomem(job->err);
	job->disks = grown;
	d = &job->disks[job->ndisks++];
	memset(d, 0, sizeof(*d));
	d->path = fs_absolute(path);
	d->name = fs_basename(path);
	dir = fs_dirname(d->path ? d->path : path);
	d->dir = dir ? vk_strdup(dir) : NULL;
	if (d->path == NULL || d->name == NULL || d->dir == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	for (i = 0; i + 1 < job->ndisks; i++)
		if (strcmp(job->disks[i].path, d->path) == 0) {
			st = desc_error_set(job->err, DESC_E_INVALID, path, 0,
					    "disk named twice by the master");
			goto out;
		}
	st = check_folder(job, dir, false);
	if (st != DESC_OK)
		goto out;
	{
		struct stat sb;
		char *moved;

		if (lstat(d->path, &sb) == 0) {
			d->dev = sb.st_dev;
			d->ino = sb.st_ino;
		} else if (errno == ENOENT) {
			/* Say why it is missing: a base took it. */
			moved = vk_asprintf("%s%s", d->path, MOVED_SUFFIX);
			if (moved == NULL) {
				st = vk_nomem(job->err);
				goto out;
			}
			if (lstat(moved, &sb) == 0)
				st = desc_error_set(job->err, DESC_E_REFUSED, path, 0,
						    "disk was moved into a base by an earlier vmdkit base ('%s' exists; expected a master that still has its disk: a run that was interrupted is put back by vmdkit base into the same base folder, or rename it back by hand)",
						    moved);
			vk_free(moved);
			if (st != DESC_OK)
				goto out;
		}
	}
	st = vmdk_disk_open(d->path, VMDK_OPEN_DESCRIPTOR_ONLY, &disk, job->err);
	if (st != DESC_OK)
		goto out;
	st = desc_clone(vmdk_disk_descriptor(disk), &d->desc, job->err);
	if (st != DESC_OK)
		goto out;
	d->embedded = vmdk_disk_embedded(disk);
	if (!desc_parent_cid(d->desc, &pcid)) {
		st = desc_error_set(job->err, DESC_E_INVALID, path, 0,
				    "no valid parentCID (expected parentCID=ffffffff on a master disk)");
		goto out;
	}
	if (pcid != 0xffffffffu) {
		st = desc_error_set(job->err, DESC_E_REFUSED, path, 0,
				    "disk is a snapshot delta (parentCID=%08x; expected a disk without parent: consolidate the master's snapshots first)",
				    pcid);
		goto out;
	}
	ct = desc_create_type(d->desc);
	if (ct != NULL && strcasecmp(ct, "streamOptimized") == 0) {
		st = desc_error_set(job->err, DESC_E_REFUSED, path, 0,
				    "streamOptimized disk cannot serve as a base (expected a sparse or flat disk: convert it first)");
		goto out;
	}
	n = desc_extent_count(d->desc);
	if (n == 0) {
		st = desc_error_set(job->err, DESC_E_INVALID, path, 0,
				    "disk has no extents");
		goto out;
	}
	if (d->embedded) {
		if (n != 1) {
			st = desc_error_set(job->err, DESC_E_INVALID, path, 0,
					    "embedded descriptor lists %zu extents (expected 1)",
					    n);
			goto out;
		}
		st = add_file(job, d->path, d->name, &d->file);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const desc_extent *e = desc_extent_at(d->desc, i);
		char *src, *name;

		if (e->path == NULL)
			continue;
		if (e->type != DESC_EXTENT_FLAT && e->type != DESC_EXTENT_SPARSE &&
		    e->type != DESC_EXTENT_VMFS) {
			st = desc_error_set(job->err, DESC_E_REFUSED, path,
					    e->line,
					    "%s extent cannot be moved into a base (expected FLAT, SPARSE or VMFS)",
					    desc_extent_type_name(e->type));
			goto out;
		}
		src = fs_join(dir, e->path);
		name = fs_basename(e->path);
		if (src == NULL || name == NULL)
			st = vk_nomem(job->err);
		else if (strcmp(name, d->name) == 0)
			st = desc_error_set(job->err, DESC_E_INVALID, path,
					    e->line,
					    "extent '%s' has the descriptor's own name",
					    e->path);
		else
			st = add_file(job, src, name, NULL);
		vk_free(src);
		vk_free(name);
		if (st != DESC_OK)
			goto out;
	}
	/* The descriptor's own name is taken in the base too. */
	for (i = 0; i < job->nfiles; i++)
		if (strcmp(job->files[i].name, d->name) == 0) {
			st = desc_error_set(job->err, DESC_E_REFUSED, path, 0,
					    "two base files would be named '%s' (expected distinct disk file names)",
					    d->name);
			goto out;
		}
out:
	vmdk_disk_free(disk);
	vk_free(dir);
	return st;
}

static desc_status collect_vmx(struct base_job *job, const char *vmx_path)
{
	char *text = NULL, *dir = NULL;
	desc_dict *vmx = NULL;
	vmdk_vmx_disk *disks = NULL;
	size_t len = 0, n = 0, i;
	desc_status st;

	dir = fs_dirname(vmx_path);
	if (dir == NULL)
		return vk_nomem(job->err);
	st = check_folder(job, dir, true);
	if (st != DESC_OK)
		goto out;
	st = check_vmsd(job, vmx_path);
	if (st != DESC_OK)
		goto out;
	st = fs_read_file(vmx_path, DESC_MAX_INPUT, &text, &len, job->err);
	if (st != DESC_OK)
		goto out;
	st = desc_dict_parse(text, len, vmx_path, &vmx, NULL, job->err);
	if (st != DESC_OK)
		goto out;
	st = vmdk_vmx_disks(vmx, &disks, &n, job->err);
	if (st != DESC_OK)
		goto out;
	if (n == 0) {
		st = desc_error_set(job->err, DESC_E_INVALID, vmx_path, 0,
				    "no hard disk in the .vmx (expected a NODE.fileName naming a .vmdk)");
		goto out;
	}
	for (i = 0; i < n && st == DESC_OK; i++) {
		char *p = fs_join(dir, disks[i].file_name);

		if (p == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		st = add_disk(job, p);
		vk_free(p);
	}
out:
	vmdk_vmx_disks_free(disks, n);
	desc_dict_free(vmx);
	vk_free(text);
	vk_free(dir);
	return st;
}

static desc_status set_basedir(struct base_job *job, const char *basedir)
{
	job->basedir = fs_absolute(basedir);
	if (job->basedir == NULL)
		return vk_nomem(job->err);
	job->parent = fs_dirname(job->basedir);
	if (job->parent == NULL)
		return vk_nomem(job->err);
	return DESC_OK;
}

static desc_status check_basedir(struct base_job *job, const char *basedir)
{
	struct stat sb;
	struct dirent *de;
	DIR *d;

	if (stat(job->parent, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return desc_error_set(job->err, DESC_E_NOT_FOUND, job->parent, 0,
				      "folder does not exist (expected the folder that will hold the base)");
	if (lstat(job->basedir, &sb) != 0) {
		if (errno == ENOENT)
			return DESC_OK;
		return fs_error(job->err, errno, job->basedir, "cannot stat");
	}
	if (!S_ISDIR(sb.st_mode))
		return desc_error_set(job->err, DESC_E_EXISTS, basedir, 0,
				      "base folder exists and is not a folder");
	d = opendir(job->basedir);
	if (d == NULL)
		return fs_error(job->err, errno, basedir, "cannot read folder");
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			closedir(d);
			return desc_error_set(job->err, DESC_E_EXISTS, basedir, 0,
					      "base folder exists and is not empty");
		}
	}
	closedir(d);
	job->basedir_empty = true;
	return DESC_OK;
}

char *base_staged(const struct base_job *job, const char *name)
{
	return fs_join(job->staging, name);
}

static char *final(const struct base_job *job, const char *name)
{
	return fs_join(job->basedir, name);
}

static desc_status place_files(struct base_job *job)
{
	desc_status st = DESC_OK;
	size_t i;

	for (i = 0; i < job->nfiles; i++) {
		struct base_file *f = &job->files[i];
		char *dst = base_staged(job, f->name), *shown = final(job, f->name);

		if (dst == NULL || shown == NULL) {
			st = vk_nomem(job->err);
		} else if (!job->opt->copy && fp_link(f->src, dst) == 0) {
			/* A second name, not a rename: killed before the
			 * commit, the master still has all its extents (a
			 * later staging cleanup removes only the link); the
			 * master's name goes after the commit, like a copy's.
			 * Rollback's rename onto the same file is a no-op. */
			f->moved = true;
			f->copied = true;
			base_report2(job, "move", f->src, shown);
		} else if (!job->opt->copy && errno != EXDEV &&
			   errno != EPERM && errno != EOPNOTSUPP &&
			   errno != EMLINK) {
			st = fs_error(job->err, errno, f->src, "cannot move");
		} else {
			/* Another filesystem, or none with hard links: a
			 * copy, the original removed after the commit (the
			 * staging folder never holds the only copy). */
			st = fs_copy_file(f->src, dst, 0644, job->err);
			if (st == DESC_OK) {
				f->copied = !job->opt->copy;
				base_report2(job, "copy", f->src, shown);
			}
		}
		vk_free(dst);
		vk_free(shown);
		if (st != DESC_OK)
			return st;
	}
	return DESC_OK;
}

/* The per-disk identity a base must not hand on, and a leftover hint (on
 * a disk without parent it makes qemu look for a backing file).  A
 * ddb.longContentID that is kept is realigned with the CID: its last 8
 * digits are the CID in VMware's files, and qemu rewrites the CID on
 * every write without touching it, so a master written by qemu would
 * otherwise carry the mismatch into every leaf.  *changed (may be NULL)
 * counts the lines touched. */
static desc_status strip_identity(struct base_job *job, desc_descriptor *copy,
				  size_t *changed)
{
	const char *lcid = desc_ddb_get(copy, "ddb.longContentID");
	size_t n = 0;
	uint32_t cid;

	n += desc_ddb_unset(copy, "ddb.uuid");
	n += desc_header_unset(copy, "parentFileNameHint");
	if (job->opt->strip_long_content_id) {
		n += desc_ddb_unset(copy, "ddb.longContentID");
	} else if (lcid != NULL && strlen(lcid) == 32 && desc_cid(copy, &cid)) {
		char fixed[33], tail[9];

		snprintf(tail, sizeof(tail), "%08x", cid);
		if (strcasecmp(lcid + 24, tail) != 0) {
			memcpy(fixed, lcid, 24);
			memcpy(fixed + 24, tail, 9);
			desc_status st = desc_ddb_set(copy, "ddb.longContentID",
						      fixed, job->err);
			if (st != DESC_OK)
				return st;
			n++;
		}
	}
	if (changed != NULL)
		*changed = n;
	return DESC_OK;
}

static desc_status write_text_descriptor(struct base_job *job,
					 struct base_disk *d)
{
	desc_descriptor *copy = NULL;
	char *text = NULL, *dst = NULL, *shown = NULL;
	size_t len = 0, i;
	desc_status st;

	st = desc_clone(d->desc, &copy, job->err);
	if (st != DESC_OK)
		return st;
	for (i = 0; i < desc_extent_count(copy) && st == DESC_OK; i++) {
		const desc_extent *e = desc_extent_at(copy, i);
		char *name, *path;

		if (e->path == NULL)
			continue;
		name = fs_basename(e->path);
		path = name && job->opt->absolute ? final(job, name) : NULL;
		if (name == NULL || (job->opt->absolute && path == NULL))
			st = vk_nomem(job->err);
		else if (path != NULL && strchr(path, '"') != NULL)
			st = desc_error_set(job->err, DESC_E_REFUSED, path, 0,
					    "path holds '\"' and cannot be written in a descriptor");
		else
			st = desc_extent_set_path(copy, i,
						  path ? path : name, job->err);
		vk_free(name);
		vk_free(path);
	}
	if (st != DESC_OK)
		goto out;
	st = strip_identity(job, copy, NULL);
	if (st != DESC_OK)
		goto out;
	st = desc_write(copy, &text, &len, job->err);
	if (st != DESC_OK)
		goto out;
	dst = base_staged(job, d->name);
	shown = final(job, d->name);
	if (dst == NULL || shown == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	st = fs_write_new(dst, text, len, 0444, true, job->err);
	if (st == DESC_OK)
		base_report(job, "write", shown);
out:
	vk_free(dst);
	vk_free(shown);
	vk_free(text);
	desc_free(copy);
	return st;
}

/* Makes the embedded descriptor area of the staged monolithic file
 * without ddb.uuid, inside its own area (the text only shrinks), and keeps
 * the original bytes; apply_embedded writes it. */
static desc_status prepare_embedded(struct base_job *job, struct base_disk *d)
{
	desc_descriptor *copy = NULL;
	vmdk_sparse_header h;
	uint8_t raw[512];
	char *path = NULL, *text = NULL, *area = NULL;
	size_t len = 0, removed;
	uint64_t off, size;
	desc_status st;
	struct stat sb;
	int fd = -1;

	st = desc_clone(d->desc, &copy, job->err);
	if (st != DESC_OK)
		return st;
	st = strip_identity(job, copy, &removed);
	if (st != DESC_OK)
		goto out;
	if (removed == 0)
		goto out; /* nothing to change: leave the bytes alone */
	path = base_staged(job, d->name);
	if (path == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		st = fs_error(job->err, errno, path, "cannot open");
		goto out;
	}
	if (pread(fd, raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		st = desc_error_set(job->err, DESC_E_FORMAT, d->path, 0,
				    "cannot read the sparse header");
		goto out;
	}
	st = vmdk_sparse_header_decode(raw, (uint64_t)sb.st_size, d->path, &h,
				       job->err);
	if (st != DESC_OK)
		goto out;
	if (h.descriptor_offset == 0 || h.descriptor_size == 0 ||
	    h.descriptor_size > DESC_MAX_INPUT / 512) {
		st = desc_error_set(job->err, DESC_E_FORMAT, d->path, 0,
				    "no embedded descriptor area in the sparse header");
		goto out;
	}
	off = h.descriptor_offset * 512;
	size = h.descriptor_size * 512;
	st = desc_write(copy, &text, &len, job->err);
	if (st != DESC_OK)
		goto out;
	if (len > size) {
		st = desc_error_set(job->err, DESC_E_TOO_LARGE, d->path, 0,
				    "edited descriptor (%zu bytes) does not fit its %llu-byte area",
				    len, (unsigned long long)size);
		goto out;
	}
	area = vk_calloc(1, (size_t)size);
	d->area_orig = vk_malloc((size_t)size);
	if (area == NULL || d->area_orig == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	if (pread(fd, d->area_orig, (size_t)size, (off_t)off) != (ssize_t)size) {
		st = fs_error(job->err, errno ? errno : EIO, path,
			      "cannot read the descriptor area of");
		goto out;
	}
	d->area_offset = off;
	d->area_len = (size_t)size;
	memcpy(area, text, len);
	d->area_new = area;
	area = NULL;
out:
	if (fd >= 0)
		close(fd);
	vk_free(area);
	vk_free(path);
	vk_free(text);
	desc_free(copy);
	return st;
}

/* Writes the area prepare_embedded made.  The staged file is the master's
 * own (a hard link): the undo record must be on disk before this. */
static desc_status apply_embedded(struct base_job *job, struct base_disk *d)
{
	char *path;
	desc_status st = DESC_OK;
	int fd;

	if (d->area_new == NULL)
		return DESC_OK;
	path = base_staged(job, d->name);
	if (path == NULL)
		return vk_nomem(job->err);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		st = fs_error(job->err, errno, path, "cannot open");
		goto out;
	}
	d->area_edited = true;
	if (fp_pwrite(fd, d->area_new, d->area_len,
		      (off_t)d->area_offset) != (ssize_t)d->area_len ||
	    fp_fsync(fd) != 0)
		st = fs_error(job->err, errno ? errno : EIO, path, "cannot write");
	close(fd);
	if (st == DESC_OK && job->opt->report != NULL) {
		char *shown = final(job, d->name);

		base_report(job, "write", shown ? shown : d->name);
		vk_free(shown);
	}
out:
	vk_free(path);
	return st;
}

static desc_status write_manifest(struct base_job *job)
{
	manifest m = { 0 };
	char *text = NULL, *path = NULL, *shown = NULL;
	size_t len = 0, i;
	desc_status st = DESC_OK;
	int dfd;

	dfd = open(job->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fs_error(job->err, errno, job->staging, "cannot open");
	for (i = 0; i < job->ndisks && st == DESC_OK; i++)
		if (!job->disks[i].embedded)
			st = manifest_add_file(&m, dfd, job->staging,
					       job->disks[i].name, job->err);
	for (i = 0; i < job->nfiles && st == DESC_OK; i++)
		st = manifest_add_file(&m, dfd, job->staging,
				       job->files[i].name, job->err);
	close(dfd);
	if (st != DESC_OK)
		goto out;
	st = manifest_format(&m, &text, &len, job->err);
	if (st != DESC_OK)
		goto out;
	path = base_staged(job, VMDK_MANIFEST_NAME);
	shown = final(job, VMDK_MANIFEST_NAME);
	if (path == NULL || shown == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	st = fs_write_new(path, text, len, 0444, true, job->err);
	if (st == DESC_OK)
		base_report(job, "write", shown);
out:
	vk_free(text);
	vk_free(path);
	vk_free(shown);
	manifest_clear(&m);
	return st;
}

/* chmod 0444 and fsync one staged file. */
static desc_status protect(struct base_job *job, const char *name)
{
	char *path = base_staged(job, name), *shown = final(job, name);
	desc_status st = DESC_OK;
	int fd;

	if (path == NULL || shown == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		st = fs_error(job->err, errno, path, "cannot open");
		goto out;
	}
	if (fchmod(fd, 0444) != 0 || fp_fsync(fd) != 0)
		st = fs_error(job->err, errno, path, "cannot protect");
	close(fd);
	if (st == DESC_OK)
		base_report(job, "chmod", shown);
out:
	vk_free(path);
	vk_free(shown);
	return st;
}

static desc_status protect_all(struct base_job *job)
{
	desc_status st = DESC_OK;
	size_t i;

	for (i = 0; i < job->ndisks && st == DESC_OK; i++)
		if (!job->disks[i].embedded)
			st = protect(job, job->disks[i].name);
	for (i = 0; i < job->nfiles && st == DESC_OK; i++)
		st = protect(job, job->files[i].name);
	if (st == DESC_OK)
		st = protect(job, VMDK_MANIFEST_NAME);
	if (st == DESC_OK && chmod(job->staging, 0755) != 0)
		st = fs_error(job->err, errno, job->staging, "cannot chmod");
	if (st == DESC_OK)
		st = fs_sync_dir(job->staging, job->err);
	return st;
}

static desc_status rename_master_descriptors(struct base_job *job)
{
	desc_status st = DESC_OK;
	size_t i;

	for (i = 0; i < job->ndisks && st == DESC_OK; i++) {
		struct base_disk *d = &job->disks[i];

		if (d->embedded)
			continue;
		d->moved_path = vk_asprintf("%s%s", d->path, MOVED_SUFFIX);
		if (d->moved_path == NULL)
			return vk_nomem(job->err);
		st = fs_rename_noreplace(d->path, d->moved_path, job->err);
		if (st == DESC_OK) {
			d->desc_renamed = true;
			base_report2(job, "rename", d->path, d->moved_path);
		}
	}
	return st;
}

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
#define UNDO_NAME ".vmdkit-undo"
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

/* " NUMBER", decimal. */
static bool cur_sp_u64(const char **p, uint64_t *out)
{
	const char *q = *p;

	if (*q != ' ')
		return false;
	q++;
	if (desc_parse_number(&q, NULL, 10, UINT64_MAX, out) != DESC_NUMBER_OK)
		return false;
	*p = q;
	return true;
}

/* " MODE", octal as write_undo prints it, at most 07777.  The mode is the
 * one octal number vmdkit reads, and desc_parse_number has bases 10 and
 * 16 only. */
static bool cur_sp_mode(const char **p, mode_t *out)
{
	const char *q = *p;
	unsigned v = 0;
	size_t n, i;

	if (*q != ' ')
		return false;
	q++;
	n = strspn(q, "01234567");
	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		v = v * 8 + (unsigned)(q[i] - '0');
		if (v > 07777)
			return false;
	}
	*p = q + n;
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

static void dry_run(struct base_job *job)
{
	char *staging_shown;
	size_t i;

	staging_shown = vk_asprintf("%s/%s*", job->parent, VMDK_STAGING_PREFIX);
	base_report(job, "mkdir", staging_shown ? staging_shown : job->parent);
	vk_free(staging_shown);
	for (i = 0; i < job->nfiles; i++) {
		char *dst = final(job, job->files[i].name);

		if (dst != NULL)
			base_report2(job, job->opt->copy ? "copy" : "move",
				     job->files[i].src, dst);
		vk_free(dst);
	}
	for (i = 0; i < job->ndisks; i++) {
		char *dst = final(job, job->disks[i].name);

		if (dst != NULL)
			base_report(job, "write", dst);
		vk_free(dst);
	}
	{
		char *m = final(job, VMDK_MANIFEST_NAME);

		if (m != NULL)
			base_report(job, "write", m);
		vk_free(m);
	}
	for (i = 0; i < job->ndisks; i++) {
		char *dst = final(job, job->disks[i].name);

		if (dst != NULL && !job->disks[i].embedded)
			base_report(job, "chmod", dst);
		vk_free(dst);
	}
	for (i = 0; i < job->nfiles; i++) {
		char *dst = final(job, job->files[i].name);

		if (dst != NULL)
			base_report(job, "chmod", dst);
		vk_free(dst);
	}
	if (!job->opt->copy)
		for (i = 0; i < job->ndisks; i++)
			if (!job->disks[i].embedded) {
				char *m = vk_asprintf("%s%s",
						      job->disks[i].path,
						      MOVED_SUFFIX);

				if (m != NULL)
					base_report2(job, "rename",
						     job->disks[i].path, m);
				vk_free(m);
			}
	base_report(job, "rename", job->basedir);
}

static void job_free(struct base_job *job)
{
	size_t i;

	for (i = 0; i < job->ndisks; i++) {
		vk_free(job->disks[i].path);
		vk_free(job->disks[i].name);
		vk_free(job->disks[i].dir);
		vk_free(job->disks[i].moved_path);
		vk_free(job->disks[i].area_orig);
		vk_free(job->disks[i].area_new);
		desc_free(job->disks[i].desc);
	}
	for (i = 0; i < job->nfiles; i++) {
		vk_free(job->files[i].src);
		vk_free(job->files[i].name);
	}
	vk_free(job->disks);
	vk_free(job->files);
	vk_free(job->staging);
	vk_free(job->undo_final);
	vk_free(job->basedir);
	vk_free(job->parent);
}

/* A monolithic sparse file (its own descriptor embedded). */
static bool is_sparse_file(const char *path)
{
	char magic[4];
	bool yes;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return false;
	yes = pread(fd, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
	      memcmp(magic, "KDMV", 4) == 0;
	close(fd);
	return yes;
}

/* One disk of a master whose base was made: gone from the master
 * (renamed to NAME.vmdkit-moved; a monolithic file moved whole), and in
 * BASEDIR under its name. */
static desc_status disk_in_base(struct base_job *job, const char *disk,
				bool *yes)
{
	char *moved = NULL, *name = NULL, *in_base = NULL;
	desc_status st = DESC_OK;
	struct stat sb;

	*yes = false;
	if (lstat(disk, &sb) == 0 || errno != ENOENT)
		return DESC_OK;
	moved = vk_asprintf("%s%s", disk, MOVED_SUFFIX);
	name = fs_basename(disk);
	in_base = name ? final(job, name) : NULL;
	if (moved == NULL || in_base == NULL)
		st = vk_nomem(job->err);
	else if (lstat(in_base, &sb) == 0 && S_ISREG(sb.st_mode) &&
		 ((lstat(moved, &sb) == 0 && S_ISREG(sb.st_mode)) ||
		  is_sparse_file(in_base)))
		*yes = true;
	vk_free(moved);
	vk_free(name);
	vk_free(in_base);
	return st;
}

/* `vmdkit base SOURCE BASEDIR` again after it completed (perhaps finished
 * by base_recover()): BASEDIR holds a base with a manifest and every disk
 * of SOURCE is there and gone from the master.  Nothing to do.  Only running
 * out of memory is an error; a .vmx that cannot be read is "not made"
 * (collecting the master reports it). */
static desc_status already_made(struct base_job *job, const char *source,
				bool *made)
{
	char *mpath = final(job, VMDK_MANIFEST_NAME), *text = NULL, *dir = NULL;
	desc_dict *vmx = NULL;
	vmdk_vmx_disk *disks = NULL;
	size_t len = 0, n = 0, i;
	desc_status st = DESC_OK;
	desc_error e;
	struct stat sb;

	*made = false;
	desc_error_clear(&e);
	if (mpath == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	if (lstat(mpath, &sb) != 0 || !S_ISREG(sb.st_mode))
		goto out;
	if (!ends_with(source, ".vmx", true)) {
		st = disk_in_base(job, source, made);
		goto out;
	}
	dir = fs_dirname(source);
	if (dir == NULL) {
		st = vk_nomem(job->err);
		goto out;
	}
	if (fs_read_file(source, DESC_MAX_INPUT, &text, &len, &e) != DESC_OK ||
	    desc_dict_parse(text, len, source, &vmx, NULL, &e) != DESC_OK ||
	    vmdk_vmx_disks(vmx, &disks, &n, &e) != DESC_OK) {
		if (e.code == DESC_E_NOMEM)
			st = vk_nomem(job->err);
		goto out;
	}
	*made = n > 0;
	for (i = 0; i < n && *made && st == DESC_OK; i++) {
		char *p = fs_join(dir, disks[i].file_name);

		if (p == NULL)
			st = vk_nomem(job->err);
		else
			st = disk_in_base(job, p, made);
		vk_free(p);
	}
out:
	if (st != DESC_OK)
		*made = false;
	if (*made)
		base_report(job, "exists", job->basedir);
	vmdk_vmx_disks_free(disks, n);
	desc_dict_free(vmx);
	vk_free(text);
	vk_free(dir);
	vk_free(mpath);
	return st;
}

desc_status vmdk_base_make(const char *source, const char *basedir,
			   const vmdk_base_options *opt, desc_error *err)
{
	static const vmdk_base_options defaults;
	struct base_job job;
	desc_status st;
	size_t i;

	desc_error_clear(err);
	if (source == NULL || basedir == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_base_make: NULL argument");
	memset(&job, 0, sizeof(job));
	job.source = source;
	job.opt = opt ? opt : &defaults;
	job.err = err;
	st = set_basedir(&job, basedir);
	if (st != DESC_OK)
		goto out;
	/* A killed earlier run into this BASEDIR: finish it (committed) or
	 * put its master back (not committed), before looking at the
	 * master. */
	if (!job.opt->dry_run) {
		bool made = false;

		st = base_recover(&job);
		if (st == DESC_OK)
			st = already_made(&job, source, &made);
		if (st != DESC_OK || made)
			goto out;
	}
	if (ends_with(source, ".vmx", true))
		st = collect_vmx(&job, source);
	else
		st = add_disk(&job, source);
	if (st != DESC_OK)
		goto out;
	st = check_basedir(&job, basedir);
	if (st != DESC_OK)
		goto out;
	if (job.opt->dry_run) {
		dry_run(&job);
		goto out;
	}
	/* Other commands' leftover staging folders (only links and copies,
	 * never the last copy); a base's own are base_recover()'s. */
	st = fs_staging_cleanup(job.parent, NULL, err);
	if (st != DESC_OK)
		goto out;
	st = fs_make_staging_undo(job.basedir, &job.staging, err);
	if (st != DESC_OK)
		goto out;
	base_report(&job, "mkdir", job.staging);
	st = place_files(&job);
	for (i = 0; i < job.ndisks && st == DESC_OK; i++)
		if (job.disks[i].embedded)
			st = prepare_embedded(&job, &job.disks[i]);
	/* From here on the master changes (shared inodes, renames): the
	 * record that undoes it first. */
	if (st == DESC_OK)
		st = base_write_undo(&job);
	/* Allocated now: after the commit nothing may fail for memory. */
	if (st == DESC_OK && (job.undo_final = final(&job, UNDO_NAME)) == NULL)
		st = vk_nomem(err);
	for (i = 0; i < job.ndisks && st == DESC_OK; i++)
		st = job.disks[i].embedded ? apply_embedded(&job, &job.disks[i]) :
					     write_text_descriptor(&job, &job.disks[i]);
	if (st == DESC_OK)
		st = write_manifest(&job);
	if (st == DESC_OK)
		st = protect_all(&job);
	if (st == DESC_OK && !job.opt->copy)
		st = rename_master_descriptors(&job);
	if (st == DESC_OK && job.basedir_empty) {
		if (fp_rmdir(job.basedir) != 0)
			st = fs_error(err, errno, job.basedir, "cannot replace empty folder");
		else
			job.basedir_removed = true;
	}
	if (st == DESC_OK)
		st = fs_rename_noreplace(job.staging, job.basedir, err);
	if (st != DESC_OK) {
		base_rollback(&job);
		goto out;
	}
	base_report(&job, "rename", job.basedir);
	vk_free(job.staging);
	job.staging = NULL;
	/* The base is in place; make the renames durable.  Nothing from here
	 * on allocates, so only a real I/O error can still be reported. */
	st = fs_sync_dir(job.parent, err);
	for (i = 0; i < job.ndisks && st == DESC_OK && !job.opt->copy; i++)
		st = fs_sync_dir(job.disks[i].dir, err);
	/* Master originals copied across filesystems go only now that the
	 * base holds them for sure. */
	for (i = 0; i < job.nfiles; i++)
		if (job.files[i].copied && fp_unlink(job.files[i].src) != 0 &&
		    st == DESC_OK)
			st = fs_error(err, errno, job.files[i].src,
				      "cannot remove the master's copy of");
	/* Done: the record goes last (left behind, the next run finishes
	 * from it). */
	if (st == DESC_OK) {
		if (fp_unlink(job.undo_final) != 0)
			st = fs_error(err, errno, job.undo_final, "cannot remove");
		else
			st = fs_sync_dir(job.basedir, err);
	}
	/* The base exists now: say so, or a retry meets "exists" puzzled. */
	if (st != DESC_OK && err != NULL) {
		char what[DESC_ERROR_MESSAGE_MAX];
		int e = err->errnum;

		snprintf(what, sizeof(what), "%s", err->message);
		desc_error_set(err, st, "", 0, "base made, but %s", what);
		err->errnum = e;
	}
out:
	job_free(&job);
	return st;
}

/* ------------------------------------------------------------------ */
/* verify                                                              */
/* ------------------------------------------------------------------ */

static desc_status finding(desc_findings *out, desc_severity sev,
			   const char *code, const char *file, desc_error *err,
			   const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static desc_status finding(desc_findings *out, desc_severity sev,
			   const char *code, const char *file, desc_error *err,
			   const char *fmt, ...)
{
	va_list ap;
	char *msg;
	desc_status st;

	va_start(ap, fmt);
	msg = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (msg == NULL)
		return vk_nomem(err);
	st = desc_findings_add(out, sev, code, file, 0, "%s", msg);
	vk_free(msg);
	if (st != DESC_OK)
		return vk_nomem(err);
	return DESC_OK;
}

static desc_status verify_entry(int dfd, const char *basedir,
				const manifest_entry *e, desc_findings *out,
				desc_error *err)
{
	unsigned char sum[32];
	uint64_t size = 0;
	desc_error herr;
	char *path = fs_join(basedir, e->name);
	desc_status st = DESC_OK;
	struct stat sb;

	if (path == NULL)
		return vk_nomem(err);
	if (fstatat(dfd, e->name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		st = finding(out, DESC_SEV_ERROR, "base-missing", path, err,
			     "base file '%s' is missing", e->name);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = finding(out, DESC_SEV_ERROR, "base-modified", path, err,
			     "base file '%s' is no longer a regular file",
			     e->name);
		goto out;
	}
	if (sb.st_mode & 0222) {
		st = finding(out, DESC_SEV_ERROR, "base-writable", path, err,
			     "base file '%s' is writable (mode %04o; expected 0444: run chmod a-w)",
			     e->name, (unsigned)(sb.st_mode & 07777));
		if (st != DESC_OK)
			goto out;
	}
	if ((uint64_t)sb.st_size != e->size) {
		st = finding(out, DESC_SEV_ERROR, "base-size-changed", path, err,
			     "base file '%s' changed size (%llu bytes, manifest says %llu)",
			     e->name, (unsigned long long)sb.st_size,
			     (unsigned long long)e->size);
		goto out;
	}
	if (manifest_hash_file(dfd, basedir, e->name, &size, sum, &herr) != DESC_OK) {
		if (herr.code == DESC_E_NOMEM) {
			st = vk_nomem(err);
			goto out;
		}
		st = finding(out, DESC_SEV_ERROR, "base-unreadable", path, err,
			     "%s", herr.message);
		goto out;
	}
	if (size != e->size || memcmp(sum, e->sha256, sizeof(sum)) != 0)
		st = finding(out, DESC_SEV_ERROR, "base-modified", path, err,
			     "base file '%s' was modified (SHA-256 differs from the manifest)",
			     e->name);
out:
	vk_free(path);
	return st;
}

desc_status vmdk_base_verify(const char *basedir, desc_findings *out,
			     desc_error *err)
{
	manifest m = { 0 };
	char *mpath = NULL, *text = NULL;
	size_t len = 0, i;
	desc_status st;
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	int dfd = -1;

	desc_error_clear(err);
	if (basedir == NULL || out == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_base_verify: NULL argument");
	dfd = open(basedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fs_error(err, errno, basedir, "cannot open base folder");
	mpath = fs_join(basedir, VMDK_MANIFEST_NAME);
	if (mpath == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (fstatat(dfd, VMDK_MANIFEST_NAME, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		st = finding(out, DESC_SEV_ERROR, "base-no-manifest", mpath, err,
			     "no manifest '%s' (expected a folder made by vmdkit base)",
			     VMDK_MANIFEST_NAME);
		goto out;
	}
	st = fs_read_file(mpath, DESC_MAX_INPUT, &text, &len, err);
	if (st != DESC_OK)
		goto out;
	st = manifest_parse(text, len, mpath, &m, err);
	if (st != DESC_OK)
		goto out;
	if (sb.st_mode & 0222) {
		st = finding(out, DESC_SEV_ERROR, "base-writable", mpath, err,
			     "manifest '%s' is writable (expected 0444: run chmod a-w)",
			     VMDK_MANIFEST_NAME);
		if (st != DESC_OK)
			goto out;
	}
	for (i = 0; i < m.count && st == DESC_OK; i++)
		st = verify_entry(dfd, basedir, &m.entries[i], out, err);
	if (st != DESC_OK)
		goto out;
	d = opendir(basedir);
	if (d == NULL) {
		st = fs_error(err, errno, basedir, "cannot read folder");
		goto out;
	}
	while ((de = readdir(d)) != NULL && st == DESC_OK) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, VMDK_MANIFEST_NAME) == 0 ||
		    manifest_find(&m, de->d_name) != NULL)
			continue;
		p = fs_join(basedir, de->d_name);
		if (p == NULL) {
			st = vk_nomem(err);
			break;
		}
		st = finding(out, DESC_SEV_INFO, "base-extra-file", p, err,
			     "'%s' is not in the manifest", de->d_name);
		vk_free(p);
	}
out:
	if (d != NULL)
		closedir(d);
	close(dfd);
	manifest_clear(&m);
	vk_free(text);
	vk_free(mpath);
	return st;
}
