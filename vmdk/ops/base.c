/*
 * base.c - making a protected base from a master (vmdk_base_make).  Putting
 * the master back after a failed or killed run is base_undo.c's;
 * verifying a base is verify.c's.
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

#define DIGITS "0123456789"

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
