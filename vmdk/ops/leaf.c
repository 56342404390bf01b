/*
 * leaf.c - stamping leaves from a base, and vmdk_staging_cleanup (the
 * public face of fs_staging_cleanup, which removes leftover staging
 * folders).
 *
 * A leaf folder (DESIGN.md "What a leaf looks like"):
 *   NAME.vmx                 the master's .vmx made into this leaf's
 *                            (vmx_prepare_leaf), or a default one; every
 *                            disk node names its delta
 *   NAME.vmsd                one snapshot whose disks are the copies
 *   <base descriptor name>   a copy of each base descriptor, extent paths
 *                            relative to the leaf folder (absolute ones
 *                            kept), ddb.uuid removed, CID unchanged
 *   <stem>-000001.vmdk       each copy's empty delta (hint = the copy's
 *                            file name), plus its -s00N extents when split
 *
 * A monolithicSparse base has no separate descriptor: its descriptor is
 * embedded in the one base file and cannot be pointed elsewhere.  qemu
 * refuses a separate text descriptor whose createType is monolithicSparse
 * (FORMAT-NOTES.md 1.3), and libvmdk, qemu and VMware all read
 * twoGbMaxExtentSparse descriptors whose extents are hosted sparse files of
 * any size (Workstation writes 8323072-sector ones).  So the leaf's copy of
 * a monolithicSparse base is its embedded descriptor with createType
 * "twoGbMaxExtentSparse" and its one SPARSE extent pointing at the base
 * file; everything else (CID, DDB) is the base's.  qemu-img info
 * --backing-chain, qemu-io and vmdkinfo accept it (tests/integration/
 * leaf-e2e.sh), and the leaf still gets its own descriptor, so its lock
 * folder is its own.
 *
 * Durability (vmdk_clone_options.sync; measured in tests/bench/RESULTS.md):
 *   VMDK_SYNC_LEAF (default): every file of the leaf is fsynced, then the
 *     staging folder, then it is renamed into place (never over an
 *     existing folder) and the parent folder is fsynced.  The delta
 *     writer's own fsyncs are deferred (fs_sync_defer): this pass syncs
 *     its files anyway, and each extra fsync of a new file is one more
 *     journal commit.  Still ~9 fsyncs a leaf, so it costs milliseconds a
 *     leaf, which dominates stamping.
 *   VMDK_SYNC_BATCH: leaves are written with no sync and stay in their
 *     staging folders; vmdk_leaf_context_commit calls syncfs() once per
 *     parent folder (every staged file and folder is then on disk), renames
 *     the leaves into place and fsyncs each parent folder once.  The
 *     guarantee is the same as LEAF's for a crash (a leaf folder that
 *     exists is complete; staging folders are removed by the next run),
 *     but leaves become visible only at the commit, and the syncfs also
 *     writes out other programs' dirty data on that filesystem.
 *   VMDK_SYNC_NONE: no syncs; each leaf renamed into place at once.
 * On any failure the staging folder is removed; leaves made before are not
 * touched.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/disk/disk.h"
#include "vmdk/disk/flatten.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/ops.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

#define DEFAULT_DISK_NODE "scsi0:0"
#define LEAF_CREATE_TYPE_FOR_MONOLITHIC "twoGbMaxExtentSparse"

/* One disk of the leaf: a base descriptor and the node it hangs on. */
struct leaf_disk {
	char *base_path;        /* absolute base descriptor / monolithic file */
	char *copy_name;        /* name of the copy in the leaf */
	char *delta_name;       /* "<stem>-000001.vmdk" */
	char *node;             /* "scsi0:0" */
	desc_descriptor *desc;  /* the base's descriptor */
	bool embedded;
	bool in_base_folder;    /* beside a VMDK_MANIFEST_NAME (vmdkit base) */
	char **extent_abs;      /* resolved extent paths (NULL: no file) */
	bool *extent_absolute;  /* written absolute in the base */
};

/* A leaf staged under VMDK_SYNC_BATCH, waiting for the commit. */
struct staged_leaf {
	char *staging;
	char *leaf_dir;
	char *parent;
	char *folder;           /* as the caller named it (reports, errors) */
	unsigned line;
	size_t order;           /* position in the caller's list */
};

struct vmdk_leaf_context {
	struct staged_leaf *staged;
	size_t nstaged;
	struct leaf_disk *disks;
	size_t ndisks;
	char *vmx_path;         /* master .vmx, NULL = default .vmx */
	char *vmx_text;
	size_t vmx_len;
	vmdk_clone_options opt; /* pointers borrowed from the caller */
	/* Held by the workers of vmdk_leaf_context_create_many around the
	 * shared parts: the staged list and the report callback. */
	pthread_mutex_t lock;
};

static void report(const vmdk_leaf_context *ctx, const char *action,
		   const char *path)
{
	/* The callback runs in one thread at a time (see
	 * vmdk_leaf_context_create_many). */
	if (ctx->opt.report != NULL) {
		pthread_mutex_lock((pthread_mutex_t *)&ctx->lock);
		ctx->opt.report(ctx->opt.report_ctx, action, path);
		pthread_mutex_unlock((pthread_mutex_t *)&ctx->lock);
	}
}

static void disk_clear(struct leaf_disk *d)
{
	size_t i, n = d->desc ? desc_extent_count(d->desc) : 0;

	if (d->extent_abs != NULL)
		for (i = 0; i < n; i++)
			vk_free(d->extent_abs[i]);
	vk_free(d->extent_abs);
	vk_free(d->extent_absolute);
	vk_free(d->base_path);
	vk_free(d->copy_name);
	vk_free(d->delta_name);
	vk_free(d->node);
	desc_free(d->desc);
}

static void staged_clear(struct staged_leaf *s, bool remove)
{
	if (remove && s->staging != NULL) {
		desc_error ignored;

		fs_remove_tree(s->staging, &ignored);
	}
	vk_free(s->staging);
	vk_free(s->leaf_dir);
	vk_free(s->parent);
	vk_free(s->folder);
	memset(s, 0, sizeof(*s));
}

void vmdk_leaf_context_free(vmdk_leaf_context *ctx)
{
	size_t i;

	if (ctx == NULL)
		return;
	for (i = 0; i < ctx->nstaged; i++)
		staged_clear(&ctx->staged[i], true);
	vk_free(ctx->staged);
	for (i = 0; i < ctx->ndisks; i++)
		disk_clear(&ctx->disks[i]);
	vk_free(ctx->disks);
	pthread_mutex_destroy(&ctx->lock);
	vk_free(ctx->vmx_path);
	vk_free(ctx->vmx_text);
	vk_free(ctx);
}

/* The file a leaf's disk node names: the delta, or for a full clone the
 * copy itself. */
static const char *node_file(const vmdk_leaf_context *ctx,
			     const struct leaf_disk *d)
{
	return ctx->opt.full ? d->copy_name : d->delta_name;
}

/* "8.10 Core.vmdk" -> "8.10 Core-000001.vmdk". */
static char *delta_name_for(const char *copy_name)
{
	size_t n = strlen(copy_name);

	if (n > 5 && strcasecmp(copy_name + n - 5, ".vmdk") == 0)
		return vk_asprintf("%.*s-000001%s", (int)(n - 5), copy_name,
				   copy_name + n - 5);
	return vk_asprintf("%s-000001.vmdk", copy_name);
}

/* Loads one base disk: its descriptor (read once for all leaves) and the
 * resolved paths of its extents. */
static desc_status load_disk(struct leaf_disk *d, const char *path,
			     const char *node, desc_error *err)
{
	vmdk_disk *disk = NULL;
	char *dir = NULL;
	struct stat sb;
	uint32_t pcid;
	desc_status st;
	size_t i, n;

	d->base_path = fs_absolute(path);
	d->copy_name = fs_basename(path);
	d->node = vk_strdup(node);
	if (d->base_path == NULL || d->copy_name == NULL || d->node == NULL)
		return vk_nomem(err);
	d->delta_name = delta_name_for(d->copy_name);
	dir = fs_dirname(d->base_path);
	if (d->delta_name == NULL || dir == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	{
		char *mpath = fs_join(dir, VMDK_MANIFEST_NAME);

		if (mpath == NULL) {
			st = vk_nomem(err);
			goto out;
		}
		d->in_base_folder = fs_exists(mpath);
		vk_free(mpath);
	}
	st = vmdk_disk_open(d->base_path, VMDK_OPEN_DESCRIPTOR_ONLY, &disk, err);
	if (st != DESC_OK)
		goto out;
	st = desc_clone(vmdk_disk_descriptor(disk), &d->desc, err);
	if (st != DESC_OK)
		goto out;
	d->embedded = vmdk_disk_embedded(disk);
	if (desc_parent_cid(d->desc, &pcid) && pcid != 0xffffffffu) {
		st = desc_error_set(err, DESC_E_REFUSED, path, 0,
				    "base disk is itself a delta (parentCID=%08x; expected a base made by vmdkit base)",
				    pcid);
		goto out;
	}
	n = desc_extent_count(d->desc);
	if (n == 0 || (d->embedded && n != 1)) {
		st = desc_error_set(err, DESC_E_INVALID, path, 0,
				    "base disk has %zu extents (expected %s)", n,
				    d->embedded ? "1" : "at least 1");
		goto out;
	}
	d->extent_abs = vk_calloc(n, sizeof(*d->extent_abs));
	d->extent_absolute = vk_calloc(n, sizeof(*d->extent_absolute));
	if (d->extent_abs == NULL || d->extent_absolute == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		const desc_extent *e = desc_extent_at(d->desc, i);
		char *joined;

		if (e->path == NULL)
			continue;
		/* An embedded descriptor's extent is the file itself. */
		joined = d->embedded ? vk_strdup(d->base_path) :
				       fs_join(dir, e->path);
		d->extent_abs[i] = joined ? fs_absolute(joined) : NULL;
		vk_free(joined);
		d->extent_absolute[i] = !d->embedded && e->path[0] == '/';
		if (d->extent_abs[i] == NULL) {
			st = vk_nomem(err);
			goto out;
		}
		/* A leaf over a base with a missing extent would only fail
		 * at its first boot. */
		if (stat(d->extent_abs[i], &sb) != 0 || !S_ISREG(sb.st_mode)) {
			st = desc_error_set(err, DESC_E_NOT_FOUND, path, e->line,
					    "base extent '%s' is missing or not a file",
					    e->path);
			goto out;
		}
	}
out:
	vmdk_disk_free(disk);
	vk_free(dir);
	return st;
}

static struct leaf_disk *add_disk_slot(vmdk_leaf_context *ctx)
{
	struct leaf_disk *grown;

	grown = vk_reallocarray(ctx->disks, ctx->ndisks + 1, sizeof(*grown));
	if (grown == NULL)
		return NULL;
	ctx->disks = grown;
	memset(&ctx->disks[ctx->ndisks], 0, sizeof(*grown));
	return &ctx->disks[ctx->ndisks++];
}

/* Maps each hard disk of the master .vmx to a descriptor in the base
 * folder (same file name).  A master with one disk may use a base whose
 * descriptor has another name. */
static desc_status map_vmx_disks(vmdk_leaf_context *ctx,
				 const char *base_descriptor, desc_error *err)
{
	desc_dict *vmx = NULL;
	vmdk_vmx_disk *disks = NULL;
	size_t n = 0, i;
	char *base_dir = NULL, *base_name = NULL;
	bool base_used = false;
	desc_status st;

	st = fs_read_file(ctx->vmx_path, DESC_MAX_INPUT, &ctx->vmx_text,
			  &ctx->vmx_len, err);
	if (st != DESC_OK)
		return st;
	st = desc_dict_parse(ctx->vmx_text, ctx->vmx_len, ctx->vmx_path, &vmx,
			     NULL, err);
	if (st != DESC_OK)
		return st;
	st = vmdk_vmx_disks(vmx, &disks, &n, err);
	if (st != DESC_OK)
		goto out;
	base_dir = fs_dirname(base_descriptor);
	base_name = fs_basename(base_descriptor);
	if (base_dir == NULL || base_name == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (n == 0) {
		st = desc_error_set(err, DESC_E_INVALID, ctx->vmx_path, 0,
				    "no hard disk in the master .vmx (expected a NODE.fileName naming a .vmdk)");
		goto out;
	}
	for (i = 0; i < n; i++) {
		char *name = fs_basename(disks[i].file_name);
		char *path = name ? fs_join(base_dir, name) : NULL;
		struct leaf_disk *d;

		if (path == NULL) {
			vk_free(name);
			st = vk_nomem(err);
			goto out;
		}
		if (n == 1) {
			vk_free(path);
			path = vk_strdup(base_descriptor);
		} else if (!fs_exists(path)) {
			st = desc_error_set(err, DESC_E_REFUSED, ctx->vmx_path,
					    disks[i].line,
					    "disk '%s' of node %s is not in the base folder '%s' (expected every disk of the master in the base)",
					    name, disks[i].node, base_dir);
			vk_free(name);
			vk_free(path);
			goto out;
		}
		if (name != NULL && strcmp(name, base_name) == 0)
			base_used = true;
		vk_free(name);
		d = path ? add_disk_slot(ctx) : NULL;
		st = d ? load_disk(d, path, disks[i].node, err) : vk_nomem(err);
		vk_free(path);
		if (st != DESC_OK)
			goto out;
	}
	if (n > 1 && !base_used)
		st = desc_error_set(err, DESC_E_REFUSED, base_descriptor, 0,
				    "base descriptor '%s' is not a disk of the master .vmx '%s'",
				    base_name, ctx->vmx_path);
out:
	vk_free(base_dir);
	vk_free(base_name);
	vmdk_vmx_disks_free(disks, n);
	desc_dict_free(vmx);
	return st;
}

desc_status vmdk_leaf_context_new(const char *base_descriptor,
				  const vmdk_clone_options *opt,
				  vmdk_leaf_context **out, desc_error *err)
{
	vmdk_leaf_context *ctx;
	struct leaf_disk *d;
	desc_status st;

	desc_error_clear(err);
	if (out == NULL || base_descriptor == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_leaf_context_new: NULL argument");
	*out = NULL;
	ctx = vk_calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return vk_nomem(err);
	pthread_mutex_init(&ctx->lock, NULL);
	if (opt != NULL)
		ctx->opt = *opt;
	if (opt != NULL && opt->master_vmx != NULL) {
		ctx->vmx_path = vk_strdup(opt->master_vmx);
		if (ctx->vmx_path == NULL) {
			st = vk_nomem(err);
			goto out;
		}
		st = map_vmx_disks(ctx, base_descriptor, err);
	} else {
		d = add_disk_slot(ctx);
		st = d ? load_disk(d, base_descriptor, DEFAULT_DISK_NODE, err) :
			 vk_nomem(err);
	}
out:
	if (st != DESC_OK) {
		vmdk_leaf_context_free(ctx);
		return st;
	}
	*out = ctx;
	return DESC_OK;
}

/* The leaf's copy of one base descriptor, for a leaf at `leaf_dir`: its
 * text, and the copy itself for the delta to chain to. */
static desc_status copy_text(const struct leaf_disk *d, const char *leaf_dir,
			     desc_descriptor **out, char **text, size_t *len,
			     desc_error *err)
{
	desc_descriptor *copy = NULL;
	desc_status st;
	size_t i;

	*out = NULL;
	st = desc_clone(d->desc, &copy, err);
	if (st != DESC_OK)
		return st;
	if (d->embedded)
		st = desc_header_set(copy, "createType",
				     LEAF_CREATE_TYPE_FOR_MONOLITHIC, err);
	for (i = 0; i < desc_extent_count(copy) && st == DESC_OK; i++) {
		char *rel;

		if (d->extent_abs[i] == NULL || d->extent_absolute[i])
			continue;
		rel = fs_relative(leaf_dir, d->extent_abs[i]);
		if (rel == NULL)
			st = vk_nomem(err);
		else if (strchr(rel, '"') != NULL)
			st = desc_error_set(err, DESC_E_REFUSED, d->base_path, 0,
					    "extent path '%s' holds '\"' and cannot be written in a descriptor",
					    rel);
		else
			st = desc_extent_set_path(copy, i, rel, err);
		vk_free(rel);
	}
	if (st == DESC_OK) {
		desc_ddb_unset(copy, "ddb.uuid");
		st = desc_write(copy, text, len, err);
	}
	if (st == DESC_OK)
		*out = copy;
	else
		desc_free(copy);
	return st;
}

static desc_status write_dict(const desc_dict *dict, const char *path,
			      desc_error *err)
{
	char *text = NULL;
	size_t len = 0;
	desc_status st;

	st = desc_dict_write(dict, &text, &len, err);
	if (st == DESC_OK)
		st = fs_write_new(path, text, len, 0644, false, err);
	vk_free(text);
	return st;
}

static desc_status set_key(desc_dict *dict, const char *key, const char *value,
			   desc_error *err)
{
	if (value[0] == '\0') {
		desc_dict_unset(dict, key);
		return DESC_OK;
	}
	return desc_dict_set(dict, key, value, err);
}

static desc_status build_vmx(const vmdk_leaf_context *ctx,
			     const vmdk_leaf_spec *spec, desc_dict **out,
			     desc_error *err)
{
	const struct leaf_disk *first = &ctx->disks[0];
	desc_dict *vmx = NULL;
	desc_status st;
	size_t i;

	if (ctx->vmx_text != NULL) {
		st = desc_dict_parse(ctx->vmx_text, ctx->vmx_len, ctx->vmx_path,
				     &vmx, NULL, err);
		if (st == DESC_OK)
			st = vmx_prepare_leaf(vmx, spec->name, first->node,
					      node_file(ctx, first), err);
	} else {
		st = vmx_new_default(spec->name, first->node,
				     node_file(ctx, first), &vmx, err);
	}
	for (i = 1; i < ctx->ndisks && st == DESC_OK; i++)
		st = vmx_point_disk(vmx, ctx->disks[i].node,
				    node_file(ctx, &ctx->disks[i]), err);
	if (st == DESC_OK && spec->memsize != NULL)
		st = desc_dict_set(vmx, "memsize", spec->memsize, err);
	if (st == DESC_OK && spec->numvcpus != NULL)
		st = desc_dict_set(vmx, "numvcpus", spec->numvcpus, err);
	for (i = 0; i < spec->extra_count && st == DESC_OK; i++)
		st = set_key(vmx, spec->extra_keys[i], spec->extra_values[i],
			     err);
	if (st != DESC_OK) {
		desc_dict_free(vmx);
		return st;
	}
	*out = vmx;
	return DESC_OK;
}

static desc_status build_vmsd(const vmdk_leaf_context *ctx, desc_dict **out,
			      desc_error *err)
{
	const char **nodes, **files;
	struct timespec now;
	uint64_t us = 0;
	desc_status st;
	size_t i;

	if (ctx->opt.full) {
		/* A full clone depends on nothing: no snapshot to protect. */
		st = desc_dict_new(out, err);
		if (st == DESC_OK)
			st = desc_dict_set(*out, ".encoding", "UTF-8", err);
		if (st != DESC_OK) {
			desc_dict_free(*out);
			*out = NULL;
		}
		return st;
	}
	if (clock_gettime(CLOCK_REALTIME, &now) == 0 && now.tv_sec > 0)
		us = (uint64_t)now.tv_sec * 1000000u +
		     (uint64_t)now.tv_nsec / 1000u;
	nodes = vk_calloc(ctx->ndisks, sizeof(*nodes));
	files = vk_calloc(ctx->ndisks, sizeof(*files));
	if (nodes == NULL || files == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	/* The snapshot's disks are the copies: the delta's parent side. */
	for (i = 0; i < ctx->ndisks; i++) {
		nodes[i] = ctx->disks[i].node;
		files[i] = ctx->disks[i].copy_name;
	}
	st = vmsd_new_snapshot(ctx->opt.snapshot_name,
			       ctx->opt.snapshot_description, nodes, files,
			       ctx->ndisks, us, out, err);
out:
	vk_free(nodes);
	vk_free(files);
	return st;
}

/* A failure after the leaf was renamed into place: the leaf exists, and
 * the message must say so (a retry would meet "already exists"). */
static void created_but(desc_error *err, const char *folder)
{
	char what[DESC_ERROR_MESSAGE_MAX];
	int e;

	if (err == NULL)
		return;
	e = err->errnum;
	snprintf(what, sizeof(what), "%s", err->message);
	desc_error_set(err, err->code, "", 0, "leaf '%s' created, but %s",
		       folder, what);
	err->errnum = e;
}

/* fsync every file the leaf holds (the delta writer's files included). */
static desc_status sync_folder_files(const char *dir, desc_error *err)
{
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d;
	int dfd;

	st = fs_opendir(dir, &d, err);
	if (st != DESC_OK)
		return st;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL && st == DESC_OK) {
		int fd;

		if (de->d_name[0] == '.')
			continue;
		fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fp_fsync(fd) != 0)
			st = fs_error(err, errno, de->d_name, "cannot sync");
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	if (st == DESC_OK)
		st = fs_sync_dir(dir, err);
	return st;
}

static char *file_in(const char *dir, const char *name, const char *suffix)
{
	return vk_asprintf("%s/%s%s", dir, name, suffix);
}

/* Steps are reported with the leaf's final paths, as in a dry run. */
static void report_file(const vmdk_leaf_context *ctx, const char *folder,
			const char *name, const char *suffix)
{
	char *p;

	if (ctx->opt.report == NULL)
		return;
	p = file_in(folder, name, suffix);
	report(ctx, "write", p ? p : folder);
	vk_free(p);
}

static void dry_run(const vmdk_leaf_context *ctx, const vmdk_leaf_spec *spec)
{
	size_t i;
	char *p;

	report(ctx, "mkdir", spec->folder);
	for (i = 0; i < ctx->ndisks; i++) {
		p = file_in(spec->folder, ctx->disks[i].copy_name, "");
		report(ctx, "write", p ? p : spec->folder);
		vk_free(p);
		if (ctx->opt.full)
			continue;
		p = file_in(spec->folder, ctx->disks[i].delta_name, "");
		report(ctx, "write", p ? p : spec->folder);
		vk_free(p);
	}
	p = file_in(spec->folder, spec->name, ".vmx");
	report(ctx, "write", p ? p : spec->folder);
	vk_free(p);
	p = file_in(spec->folder, spec->name, ".vmsd");
	report(ctx, "write", p ? p : spec->folder);
	vk_free(p);
	report(ctx, "rename", spec->folder);
}

/* True when `path` lies in the folder holding `file` (or below it). */
static bool inside_folder_of(const char *file, const char *path)
{
	const char *slash = strrchr(file, '/');
	size_t n;

	if (slash == NULL)
		return false;
	n = (size_t)(slash - file);
	if (n == 0)
		return false; /* a base in "/" itself: nothing sensible to refuse */
	return strncmp(path, file, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static desc_status check_spec(const vmdk_leaf_spec *spec, desc_error *err)
{
	const char *why;
	size_t i;

	if (spec == NULL || spec->folder == NULL || spec->folder[0] == '\0')
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "leaf has no folder");
	why = leaf_name_problem(spec->name);
	if (why != NULL)
		return desc_error_set(err, DESC_E_INVALID, NULL, spec->line,
				      "bad leaf name '%s' (%s)",
				      spec->name ? spec->name : "", why);
	for (i = 0; i < spec->extra_count; i++)
		if (spec->extra_keys[i] == NULL || spec->extra_values[i] == NULL)
			return desc_error_set(err, DESC_E_ARG, NULL, spec->line,
					      "extra .vmx key %zu is NULL", i);
	return DESC_OK;
}

/* Keeps a written staging folder for vmdk_leaf_context_commit (takes the
 * strings on success). */
static desc_status stage_leaf(vmdk_leaf_context *ctx,
			      const vmdk_leaf_spec *spec, size_t order,
			      char **staging, char **leaf_dir, char **parent,
			      desc_error *err)
{
	struct staged_leaf *grown, *s;
	char *folder = vk_strdup(spec->folder);
	desc_status st = DESC_OK;

	if (folder == NULL)
		return vk_nomem(err);
	pthread_mutex_lock(&ctx->lock);
	grown = vk_reallocarray(ctx->staged, ctx->nstaged + 1, sizeof(*grown));
	if (grown == NULL) {
		st = vk_nomem(err);
		vk_free(folder);
		goto out;
	}
	ctx->staged = grown;
	s = &ctx->staged[ctx->nstaged];
	memset(s, 0, sizeof(*s));
	s->folder = folder;
	s->staging = *staging;
	s->leaf_dir = *leaf_dir;
	s->parent = *parent;
	s->line = spec->line;
	s->order = order;
	*staging = *leaf_dir = *parent = NULL;
	ctx->nstaged++;
out:
	pthread_mutex_unlock(&ctx->lock);
	return st;
}

desc_status vmdk_leaf_context_commit(vmdk_leaf_context *ctx, size_t *committed,
				     desc_error *err)
{
	desc_status st = DESC_OK;
	size_t i, done = 0;

	desc_error_clear(err);
	if (committed != NULL)
		*committed = 0;
	if (ctx == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_leaf_context_commit: NULL context");
	/* One syncfs per parent folder (usually one for the whole run) puts
	 * every staged file and folder on disk before any leaf appears. */
	for (i = 0; i < ctx->nstaged && st == DESC_OK; i++)
		if (i == 0 || strcmp(ctx->staged[i].parent,
				     ctx->staged[i - 1].parent) != 0)
			st = fs_sync_fs(ctx->staged[i].parent, err);
	for (i = 0; i < ctx->nstaged && st == DESC_OK; i++) {
		struct staged_leaf *s = &ctx->staged[i];

		st = fs_rename_noreplace(s->staging, s->leaf_dir, err);
		if (st == DESC_E_EXISTS)
			desc_error_set(err, DESC_E_EXISTS, s->folder, s->line,
				       "leaf folder '%s' already exists",
				       s->folder);
		if (st != DESC_OK)
			break;
		report(ctx, "rename", s->folder);
		vk_free(s->staging);
		s->staging = NULL;
		done++;
	}
	/* The renames themselves, once per parent folder. */
	for (i = 0; i < done; i++) {
		desc_error serr;
		desc_status sst;

		if (i > 0 && strcmp(ctx->staged[i].parent,
				    ctx->staged[i - 1].parent) == 0)
			continue;
		sst = fs_sync_dir(ctx->staged[i].parent, &serr);
		if (sst != DESC_OK && st == DESC_OK) {
			st = sst;
			if (err != NULL)
				*err = serr;
			created_but(err, ctx->staged[i].folder);
		}
	}
	for (i = 0; i < ctx->nstaged; i++)
		staged_clear(&ctx->staged[i], true);
	ctx->nstaged = 0;
	if (committed != NULL)
		*committed = done;
	return st;
}

/* One leaf; `order` is its place in a create_many list. */
static desc_status create_leaf(vmdk_leaf_context *ctx,
			       const vmdk_leaf_spec *spec, size_t order,
			       desc_error *err)
{
	char *staging = NULL, *leaf_dir = NULL, *parent = NULL, *path = NULL;
	char *text = NULL, *shown_parent = NULL;
	struct flatten_progress prog;
	struct stat sb;
	desc_dict *vmx = NULL, *vmsd = NULL;
	size_t len = 0, i;
	desc_status st;

	desc_error_clear(err);
	if (ctx == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_leaf_context_create: NULL context");
	st = check_spec(spec, err);
	if (st != DESC_OK)
		return st;
	if (fs_exists(spec->folder))
		return desc_error_set(err, DESC_E_EXISTS, spec->folder,
				      spec->line,
				      "leaf folder '%s' already exists",
				      spec->folder);
	leaf_dir = fs_absolute(spec->folder);
	parent = leaf_dir ? fs_dirname(leaf_dir) : NULL;
	shown_parent = fs_dirname(spec->folder);
	if (parent == NULL || shown_parent == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	/* A dry run may precede the folder's creation (the CLI makes it). */
	if (stat(parent, &sb) != 0 ? !(ctx->opt.dry_run && errno == ENOENT)
				   : !S_ISDIR(sb.st_mode)) {
		st = desc_error_set(err, DESC_E_NOT_FOUND, shown_parent, 0,
				    "folder does not exist (expected the folder that will hold the leaf)");
		goto out;
	}
	for (i = 0; i < ctx->ndisks; i++) {
		if (!ctx->disks[i].in_base_folder ||
		    !inside_folder_of(ctx->disks[i].base_path, leaf_dir))
			continue;
		/* The base folder is never written: a leaf there would
		 * change it (and its verify). */
		st = desc_error_set(err, DESC_E_REFUSED, spec->folder, spec->line,
				    "leaf folder is inside the base folder (expected a folder outside '%s')",
				    ctx->disks[i].base_path);
		goto out;
	}
	/* Build the small files first: a bad .vmx key fails before any disk
	 * work. */
	st = build_vmx(ctx, spec, &vmx, err);
	if (st == DESC_OK)
		st = build_vmsd(ctx, &vmsd, err);
	if (st != DESC_OK)
		goto out;
	if (ctx->opt.dry_run) {
		dry_run(ctx, spec);
		goto out;
	}
	st = fs_make_staging(leaf_dir, &staging, err);
	if (st != DESC_OK)
		goto out;
	report(ctx, "mkdir", spec->folder);
	memset(&prog, 0, sizeof(prog));
	prog.fn = ctx->opt.progress;
	prog.ctx = ctx->opt.progress_ctx;
	for (i = 0; i < ctx->ndisks; i++) {
		uint64_t cap = 0;

		if (desc_capacity(ctx->disks[i].desc, &cap))
			prog.total += cap * VMDK_SECTOR_SIZE;
	}
	for (i = 0; i < ctx->ndisks && st == DESC_OK; i++) {
		const struct leaf_disk *d = &ctx->disks[i];
		desc_descriptor *copy = NULL;
		char *delta;

		if (ctx->opt.full) {
			st = full_copy_disk(d->base_path, staging, d->copy_name,
					    spec->folder, ctx->opt.report,
					    ctx->opt.report_ctx, &prog, err);
			continue;
		}
		st = copy_text(d, leaf_dir, &copy, &text, &len, err);
		if (st != DESC_OK)
			break;
		path = fs_join(staging, d->copy_name);
		st = path ? fs_write_new(path, text, len, 0644, false, err) :
			    vk_nomem(err);
		vk_free(text);
		text = NULL;
		if (st != DESC_OK) {
			desc_free(copy);
			break;
		}
		report_file(ctx, spec->folder, d->copy_name, "");
		delta = fs_join(staging, d->delta_name);
		/* Synced below with the other files (or not at all).  The
		 * delta chains to the copy just written, still in memory. */
		fs_sync_defer(true);
		st = delta ? disk_delta_create_from(delta, copy, path,
						    d->copy_name, err) :
			     vk_nomem(err);
		fs_sync_defer(false);
		desc_free(copy);
		if (st == DESC_OK)
			report_file(ctx, spec->folder, d->delta_name, "");
		vk_free(delta);
		vk_free(path);
		path = NULL;
	}
	if (st != DESC_OK)
		goto out;
	path = file_in(staging, spec->name, ".vmx");
	st = path ? write_dict(vmx, path, err) : vk_nomem(err);
	if (st == DESC_OK)
		report_file(ctx, spec->folder, spec->name, ".vmx");
	vk_free(path);
	path = NULL;
	if (st != DESC_OK)
		goto out;
	path = file_in(staging, spec->name, ".vmsd");
	st = path ? write_dict(vmsd, path, err) : vk_nomem(err);
	if (st == DESC_OK)
		report_file(ctx, spec->folder, spec->name, ".vmsd");
	vk_free(path);
	path = NULL;
	if (st != DESC_OK)
		goto out;
	if (chmod(staging, 0755) != 0) {
		st = fs_error(err, errno, staging, "cannot chmod");
		goto out;
	}
	if (ctx->opt.sync == VMDK_SYNC_BATCH) {
		st = stage_leaf(ctx, spec, order, &staging, &leaf_dir, &parent,
				err);
		goto out;
	}
	if (ctx->opt.sync == VMDK_SYNC_LEAF)
		st = sync_folder_files(staging, err);
	if (st != DESC_OK)
		goto out;
	st = fs_rename_noreplace(staging, leaf_dir, err);
	if (st == DESC_E_EXISTS)
		desc_error_set(err, DESC_E_EXISTS, spec->folder, spec->line,
			       "leaf folder '%s' already exists", spec->folder);
	if (st != DESC_OK)
		goto out;
	report(ctx, "rename", spec->folder);
	vk_free(staging);
	staging = NULL;
	if (ctx->opt.sync == VMDK_SYNC_LEAF)
		st = fs_sync_dir(parent, err);
	if (st != DESC_OK)
		created_but(err, spec->folder);
out:
	if (staging != NULL) {
		desc_error ignored;

		fs_remove_tree(staging, &ignored);
	}
	desc_dict_free(vmx);
	desc_dict_free(vmsd);
	vk_free(text);
	vk_free(path);
	vk_free(staging);
	vk_free(leaf_dir);
	vk_free(parent);
	vk_free(shown_parent);
	return st;
}

desc_status vmdk_leaf_context_create(vmdk_leaf_context *ctx,
				     const vmdk_leaf_spec *spec,
				     desc_error *err)
{
	return create_leaf(ctx, spec, 0, err);
}

/* vmdk_leaf_context_create_many: workers take the next spec from a shared
 * counter; the first failure stops the handing out. */
struct stamp_run {
	vmdk_leaf_context *ctx;
	const vmdk_leaf_spec *specs;
	size_t count;
	pthread_mutex_t lock;
	size_t next;            /* next spec to hand out */
	size_t failed;          /* lowest failed spec, count if none */
	desc_status st;         /* its status and error */
	desc_error err;
};

static void *stamp_worker(void *arg)
{
	struct stamp_run *run = arg;

	for (;;) {
		desc_error err;
		desc_status st;
		size_t i;

		pthread_mutex_lock(&run->lock);
		i = run->next;
		if (i < run->count && run->failed == run->count)
			run->next++;
		else
			i = run->count;
		pthread_mutex_unlock(&run->lock);
		if (i == run->count)
			return NULL;
		st = create_leaf(run->ctx, &run->specs[i], i, &err);
		if (st == DESC_OK)
			continue;
		pthread_mutex_lock(&run->lock);
		if (i < run->failed) {
			run->failed = i;
			run->st = st;
			run->err = err;
		}
		pthread_mutex_unlock(&run->lock);
	}
}

static int staged_by_order(const void *a, const void *b)
{
	const struct staged_leaf *x = a, *y = b;

	return (x->order > y->order) - (x->order < y->order);
}

/* Threads only where they pay and nothing depends on the order of
 * events: batch stamping of empty deltas, with no failure injection (its
 * counts must be the same every run). */
static unsigned stamp_jobs(const vmdk_leaf_context *ctx, size_t count,
			   unsigned jobs)
{
	long cpus;

	if (ctx->opt.sync != VMDK_SYNC_BATCH || ctx->opt.dry_run ||
	    ctx->opt.full || getenv("VMDKIT_FAILPOINT") != NULL ||
	    vk_alloc_failure_armed() ||
	    count < 2)
		return 1;
	if (jobs == 0) {
		cpus = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = cpus < 1 ? 1 : cpus > VMDK_STAMP_JOBS_MAX ?
		       VMDK_STAMP_JOBS_MAX : (unsigned)cpus;
	}
	/* A caller may ask for more; threads[] holds VMDK_STAMP_JOBS_MAX. */
	if (jobs > VMDK_STAMP_JOBS_MAX)
		jobs = VMDK_STAMP_JOBS_MAX;
	if (jobs > count)
		jobs = (unsigned)count;
	return jobs;
}

desc_status vmdk_leaf_context_create_many(vmdk_leaf_context *ctx,
					  const vmdk_leaf_spec *specs,
					  size_t count, unsigned jobs,
					  size_t *created, desc_error *err)
{
	pthread_t threads[VMDK_STAMP_JOBS_MAX];
	struct stamp_run run;
	size_t before, i, keep;
	unsigned n, started = 0;

	desc_error_clear(err);
	if (created != NULL)
		*created = 0;
	if (ctx == NULL || (specs == NULL && count > 0))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_leaf_context_create_many: NULL argument");
	memset(&run, 0, sizeof(run));
	run.ctx = ctx;
	run.specs = specs;
	run.count = count;
	run.failed = count;
	run.st = DESC_OK;
	desc_error_clear(&run.err);
	pthread_mutex_init(&run.lock, NULL);
	before = ctx->nstaged;
	n = stamp_jobs(ctx, count, jobs);
	/* The calling thread is a worker too. */
	for (i = 1; i < n; i++) {
		if (pthread_create(&threads[started], NULL, stamp_worker,
				   &run) != 0)
			break; /* fewer workers, same result */
		started++;
	}
	stamp_worker(&run);
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&run.lock);
	/* Workers finish in any order: put this call's leaves back in the
	 * caller's order, and drop those after a failure, as a sequential
	 * run would never have made them. */
	if (ctx->nstaged > before) /* staged is NULL before the first */
		qsort(ctx->staged + before, ctx->nstaged - before,
		      sizeof(*ctx->staged), staged_by_order);
	keep = before;
	while (keep < ctx->nstaged && ctx->staged[keep].order < run.failed)
		keep++;
	for (i = keep; i < ctx->nstaged; i++)
		staged_clear(&ctx->staged[i], true);
	ctx->nstaged = keep;
	if (created != NULL)
		*created = run.failed;
	if (run.st != DESC_OK && err != NULL)
		*err = run.err;
	return run.st;
}

desc_status vmdk_leaf_create(const char *base_descriptor,
			     const vmdk_leaf_spec *spec,
			     const vmdk_clone_options *opt, desc_error *err)
{
	vmdk_leaf_context *ctx = NULL;
	desc_status st;

	st = vmdk_leaf_context_new(base_descriptor, opt, &ctx, err);
	if (st == DESC_OK)
		st = vmdk_leaf_context_create(ctx, spec, err);
	if (st == DESC_OK)
		st = vmdk_leaf_context_commit(ctx, NULL, err);
	vmdk_leaf_context_free(ctx);
	return st;
}

desc_status vmdk_staging_cleanup(const char *dir, size_t *removed,
				 desc_error *err)
{
	desc_error_clear(err);
	if (removed != NULL)
		*removed = 0;
	if (dir == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_staging_cleanup: NULL folder");
	return fs_staging_cleanup(dir, removed, err);
}
