/*
 * dependents.c - which descriptor copies, deltas and .vmx files depend on a
 * base (vmdk_dependents), and what a VM is (vmdk_vm_describe).  Both only
 * read descriptors; extent files are never opened.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/scan.h"
#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

#define SCAN_DEPTH_MAX 32

const char *vmdk_dependent_kind_name(vmdk_dependent_kind kind)
{
	switch (kind) {
	case VMDK_DEPENDENT_DESCRIPTOR: return "descriptor";
	case VMDK_DEPENDENT_DELTA: return "delta";
	case VMDK_DEPENDENT_VMX: return "vmx";
	}
	return "unknown";
}

void vmdk_dependents_clear(vmdk_dependent_list *list)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++)
		vk_free(list->items[i].path);
	vk_free(list->items);
	memset(list, 0, sizeof(*list));
}

/* How many links separate the disk `path` from a file of `base`: 0 when
 * it is a base file, 1 when one of its extents is, n+1 when its parent is
 * n away; -1 when it does not reach the base (or is not a disk).
 * *direct tells whether the extents (not a parent) reached it. */
static desc_status distance(const struct cm_fileset *base, const char *path,
			    unsigned level, long *out, bool *direct,
			    desc_error *err)
{
	desc_descriptor *desc = NULL;
	desc_error ignored;
	const char *hint;
	desc_status st = DESC_OK;
	bool embedded, sub;
	char *parent = NULL;
	long up;

	*out = -1;
	*direct = false;
	if (cm_fileset_has_path(base, path)) {
		*out = 0;
		return DESC_OK;
	}
	if (level >= VMDK_CHAIN_MAX_DEPTH)
		return DESC_OK;
	desc_error_clear(&ignored);
	if (disk_load_descriptor(path, &desc, &embedded, &ignored) != DESC_OK)
		return ignored.code == DESC_E_NOMEM ? vk_nomem(err) : DESC_OK;
	for (size_t i = 0; i < desc_extent_count(desc); i++) {
		const desc_extent *x = desc_extent_at(desc, i);
		char *file;

		if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
			continue;
		file = cm_resolve(path, x->path);
		if (file == NULL) {
			st = vk_nomem(err);
			goto out;
		}
		if (cm_fileset_has_path(base, file)) {
			*out = 1;
			*direct = true;
		}
		vk_free(file);
		if (*direct)
			goto out;
	}
	hint = desc_parent_hint(desc);
	if (hint == NULL)
		goto out;
	parent = cm_resolve(path, hint);
	if (parent == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (!fs_exists(parent))
		goto out;
	st = distance(base, parent, level + 1, &up, &sub, err);
	if (st == DESC_OK && up >= 0)
		*out = up + 1;
out:
	vk_free(parent);
	desc_free(desc);
	return st;
}

struct dep_job {
	const struct cm_fileset *base;
	vmdk_dependent_list *out;
	desc_error *err;
};

static desc_status push(struct dep_job *job, const char *path,
			vmdk_dependent_kind kind, long depth)
{
	vmdk_dependent *items;

	items = vk_reallocarray(job->out->items, job->out->count + 1,
				sizeof(*items));
	if (items == NULL)
		return vk_nomem(job->err);
	job->out->items = items;
	items[job->out->count].path = vk_strdup(path);
	if (items[job->out->count].path == NULL)
		return vk_nomem(job->err);
	items[job->out->count].kind = kind;
	items[job->out->count].depth = (size_t)depth;
	job->out->count++;
	return DESC_OK;
}

static desc_status vmx_distance(struct dep_job *job, const char *path,
				long *best)
{
	vmdk_vmx_disk *disks = NULL;
	desc_dict *vmx = NULL;
	desc_error ignored;
	char *text = NULL;
	size_t len = 0, count = 0;
	desc_status st = DESC_OK;

	*best = -1;
	desc_error_clear(&ignored);
	if (fs_read_file(path, DESC_MAX_INPUT, &text, &len, &ignored) != DESC_OK ||
	    desc_dict_parse(text, len, path, &vmx, NULL, &ignored) != DESC_OK ||
	    vmdk_vmx_disks(vmx, &disks, &count, &ignored) != DESC_OK) {
		if (ignored.code == DESC_E_NOMEM)
			st = vk_nomem(job->err);
		goto out;
	}
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		char *file = cm_resolve(path, disks[i].file_name);
		bool direct;
		long d;

		if (file == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		if (fs_exists(file)) {
			st = distance(job->base, file, 0, &d, &direct, job->err);
			if (st == DESC_OK && d > 0 && (*best < 0 || d < *best))
				*best = d;
		}
		vk_free(file);
	}
out:
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	vk_free(text);
	return st;
}

static desc_status scan(struct dep_job *job, const char *dir, unsigned depth)
{
	desc_status st = DESC_OK;
	struct dirent *de;
	DIR *d;

	d = opendir(dir);
	if (d == NULL)
		return fs_error(job->err, errno, dir, "cannot open folder");
	while (st == DESC_OK && (de = readdir(d)) != NULL) {
		struct stat sb;
		char *path;
		bool direct;
		long dist;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		path = fs_join(dir, de->d_name);
		if (path == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		if (lstat(path, &sb) != 0 || cm_fileset_has_path(job->base, path)) {
			vk_free(path);
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (depth < SCAN_DEPTH_MAX &&
			    strncmp(de->d_name, VMDK_STAGING_PREFIX,
				    strlen(VMDK_STAGING_PREFIX)) != 0 &&
			    !cm_has_suffix(de->d_name, ".lck"))
				st = scan(job, path, depth + 1);
		} else if (S_ISREG(sb.st_mode) && cm_has_suffix(path, ".vmx")) {
			st = vmx_distance(job, path, &dist);
			if (st == DESC_OK && dist > 0)
				st = push(job, path, VMDK_DEPENDENT_VMX, dist);
		} else if (S_ISREG(sb.st_mode) && cm_has_suffix(path, ".vmdk") &&
			   cm_looks_like_descriptor(path)) {
			st = distance(job->base, path, 0, &dist, &direct,
				      job->err);
			if (st == DESC_OK && dist > 0)
				st = push(job, path,
					  direct ? VMDK_DEPENDENT_DESCRIPTOR :
						   VMDK_DEPENDENT_DELTA,
					  dist);
		}
		vk_free(path);
	}
	closedir(d);
	return st;
}

static int dep_cmp(const void *a, const void *b)
{
	return strcmp(((const vmdk_dependent *)a)->path,
		      ((const vmdk_dependent *)b)->path);
}

/* The files of a base: every regular file of a base folder, or a base
 * descriptor and its extents. */
static desc_status base_files(const char *base, struct cm_fileset *set,
			      desc_error *err)
{
	desc_descriptor *desc = NULL;
	desc_status st = DESC_OK;
	struct dirent *de;
	struct stat sb;
	bool embedded;
	DIR *d;

	if (stat(base, &sb) != 0)
		return fs_error(err, errno, base, "cannot open base");
	if (!S_ISDIR(sb.st_mode)) {
		if (!cm_fileset_add_path(set, base))
			return vk_nomem(err);
		st = disk_load_descriptor(base, &desc, &embedded, err);
		for (size_t i = 0; st == DESC_OK && i < desc_extent_count(desc); i++) {
			const desc_extent *x = desc_extent_at(desc, i);
			char *file;

			if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
				continue;
			file = cm_resolve(base, x->path);
			if (file == NULL || !cm_fileset_add_path(set, file))
				st = vk_nomem(err);
			vk_free(file);
		}
		desc_free(desc);
		return st;
	}
	d = opendir(base);
	if (d == NULL)
		return fs_error(err, errno, base, "cannot open base folder");
	while (st == DESC_OK && (de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.' &&
		    (de->d_name[1] == '\0' ||
		     (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		path = fs_join(base, de->d_name);
		if (path == NULL || (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) &&
				     !cm_fileset_add_path(set, path)))
			st = vk_nomem(err);
		vk_free(path);
	}
	closedir(d);
	return st;
}

desc_status vmdk_dependents(const char *base, const char *const *dirs,
			    size_t ndirs, vmdk_dependent_list *out,
			    desc_error *err)
{
	struct cm_fileset set = { 0 };
	struct dep_job job;
	desc_status st;

	desc_error_clear(err);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (base == NULL || out == NULL || (dirs == NULL && ndirs > 0))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_dependents: NULL argument");
	st = base_files(base, &set, err);
	job.base = &set;
	job.out = out;
	job.err = err;
	for (size_t i = 0; i < ndirs && st == DESC_OK; i++)
		st = scan(&job, dirs[i], 0);
	if (st == DESC_OK && out->count > 1)
		qsort(out->items, out->count, sizeof(*out->items), dep_cmp);
	/* The same file reached through two DIRs (nested) is listed once. */
	if (st == DESC_OK && out->count > 1) {
		size_t w = 1;

		for (size_t i = 1; i < out->count; i++) {
			if (strcmp(out->items[i].path, out->items[w - 1].path) == 0) {
				vk_free(out->items[i].path);
				continue;
			}
			out->items[w++] = out->items[i];
		}
		out->count = w;
	}
	if (st != DESC_OK)
		vmdk_dependents_clear(out);
	cm_fileset_clear(&set);
	return st;
}

/* ------------------------------------------------------------------ */
/* What a VM is                                                        */
/* ------------------------------------------------------------------ */

void vmdk_vm_description_clear(vmdk_vm_description *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->count; i++) {
		vk_free(d->disks[i].node);
		vk_free(d->disks[i].file);
		vk_free(d->disks[i].base);
		vk_free(d->disks[i].base_dir);
		vk_free(d->disks[i].chain_message);
	}
	vk_free(d->disks);
	vk_free(d->display_name);
	memset(d, 0, sizeof(*d));
}

/* Fills base / base_dir / linked from the last link of a walked chain. */
static desc_status describe_base(vmdk_vm_disk_info *info, const char *vmdir,
				 const vmdk_chain *chain, desc_error *err)
{
	const char *last = chain->links[chain->count - 1].path;
	desc_descriptor *desc = NULL;
	desc_error ignored;
	char *file = NULL, *dir = NULL, *a = NULL;
	desc_status st = DESC_OK;
	bool embedded;

	info->base = vk_strdup(last);
	if (info->base == NULL)
		return vk_nomem(err);
	desc_error_clear(&ignored);
	if (disk_load_descriptor(last, &desc, &embedded, &ignored) != DESC_OK)
		return ignored.code == DESC_E_NOMEM ? vk_nomem(err) : DESC_OK;
	for (size_t i = 0; i < desc_extent_count(desc); i++) {
		const desc_extent *x = desc_extent_at(desc, i);

		if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
			continue;
		file = cm_resolve(last, x->path);
		dir = file ? fs_dirname(file) : NULL;
		a = dir ? fs_absolute(dir) : NULL;
		if (a == NULL) {
			st = vk_nomem(err);
			goto out;
		}
		info->base_dir = a;
		a = NULL;
		info->linked = strcmp(info->base_dir, vmdir) != 0;
		break;
	}
out:
	vk_free(file);
	vk_free(dir);
	vk_free(a);
	desc_free(desc);
	return st;
}

desc_status vmdk_vm_describe(const char *vmx_path, vmdk_vm_description *out,
			     desc_error *err)
{
	vmdk_vmx_disk *disks = NULL;
	desc_dict *vmx = NULL;
	char *text = NULL, *dir = NULL, *vmdir = NULL;
	size_t len = 0, count = 0;
	const char *name;
	desc_status st;

	desc_error_clear(err);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (vmx_path == NULL || out == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_vm_describe: NULL argument");
	st = fs_read_file(vmx_path, DESC_MAX_INPUT, &text, &len, err);
	if (st == DESC_OK)
		st = desc_dict_parse(text, len, vmx_path, &vmx, NULL, err);
	if (st == DESC_OK)
		st = vmdk_vmx_disks(vmx, &disks, &count, err);
	if (st != DESC_OK)
		goto out;
	dir = fs_dirname(vmx_path);
	vmdir = dir ? fs_absolute(dir) : NULL;
	name = desc_dict_get(vmx, "displayName");
	if (vmdir == NULL || (name != NULL &&
			      (out->display_name = vk_strdup(name)) == NULL)) {
		st = vk_nomem(err);
		goto out;
	}
	if (count > 0) {
		out->disks = vk_calloc(count, sizeof(*out->disks));
		if (out->disks == NULL) {
			st = vk_nomem(err);
			goto out;
		}
	}
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		vmdk_vm_disk_info *info = &out->disks[out->count++];
		vmdk_chain chain;
		desc_error werr;
		char *file;

		info->node = vk_strdup(disks[i].node);
		info->file = vk_strdup(disks[i].file_name);
		file = cm_resolve(vmx_path, disks[i].file_name);
		if (info->node == NULL || info->file == NULL || file == NULL) {
			vk_free(file);
			st = vk_nomem(err);
			break;
		}
		desc_error_clear(&werr);
		if (vmdk_chain_walk(file, &chain, &werr) != DESC_OK) {
			vk_free(file);
			if (werr.code == DESC_E_NOMEM) {
				st = vk_nomem(err);
				break;
			}
			info->chain_status = werr.code;
			info->chain_message = vk_strdup(werr.message);
			if (info->chain_message == NULL)
				st = vk_nomem(err);
			continue;
		}
		vk_free(file);
		info->depth = chain.count;
		info->chain_status = chain.status;
		if (chain.status != DESC_OK &&
		    (info->chain_message = vk_strdup(chain.error.message)) == NULL)
			st = vk_nomem(err);
		if (st == DESC_OK && chain.count > 0)
			st = describe_base(info, vmdir, &chain, err);
		if (info->linked)
			out->linked_clone = true;
		vmdk_chain_clear(&chain);
	}
out:
	if (st != DESC_OK)
		vmdk_vm_description_clear(out);
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	vk_free(text);
	vk_free(dir);
	vk_free(vmdir);
	return st;
}
