/*
 * repair.c - vmdk_repair_cid: when a parent's CID changed but its data did
 * not (a hypervisor bumps the CID of a descriptor it opens read-write),
 * point the child's parentCID at the new CID again.  The data must be
 * proven unchanged by a vmdkit base manifest, or the caller must force.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/scan.h"
#include "vmdk/disk/disk.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/ops.h"
#include "descriptor/private.h"

static bool has_manifest(const char *dir)
{
	char *m = fs_join(dir, VMDK_MANIFEST_NAME);
	bool yes = m != NULL && fs_exists(m);

	vk_free(m);
	return yes;
}

/* True when the file `name` is listed in the manifest of folder `dir`. */
static desc_status in_manifest(const char *dir, const char *name, bool *yes,
			       desc_error *err)
{
	manifest m = { 0 };
	char *mpath = fs_join(dir, VMDK_MANIFEST_NAME), *text = NULL;
	size_t len = 0;
	desc_status st;

	*yes = false;
	if (mpath == NULL)
		return vk_nomem(err);
	st = fs_read_file(mpath, DESC_MAX_INPUT, &text, &len, err);
	if (st == DESC_OK)
		st = manifest_parse(text, len, mpath, &m, err);
	if (st == DESC_OK)
		*yes = manifest_find(&m, name) != NULL;
	manifest_clear(&m);
	vk_free(text);
	vk_free(mpath);
	return st;
}

/* Why the data of the disk `parent` cannot be shown unchanged, or NULL
 * (in *why, vk_free) when every extent is a file of an intact base.  A
 * reason that cannot be allocated is DESC_E_NOMEM, never "proven". */
static desc_status prove_unchanged(const char *parent, char **why,
				   desc_error *err)
{
	desc_descriptor *desc = NULL;
	desc_findings found;
	char *verified = NULL;
	bool embedded, listed, refused = false;
	size_t proven = 0;
	desc_status st;

	*why = NULL;
	desc_findings_init(&found);
	st = disk_load_descriptor(parent, &desc, &embedded, err);
	if (st != DESC_OK)
		return st;
	for (size_t i = 0; i < desc_extent_count(desc) && !refused &&
			   st == DESC_OK; i++) {
		const desc_extent *x = desc_extent_at(desc, i);
		char *file, *dir = NULL, *name = NULL;

		if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
			continue;
		file = cm_resolve(parent, x->path);
		if (file != NULL) {
			dir = fs_dirname(file);
			name = fs_basename(file);
		}
		if (file == NULL || dir == NULL || name == NULL) {
			st = vk_nomem(err);
		} else if (!has_manifest(dir)) {
			refused = true;
			*why = vk_asprintf("extent '%s' of '%s' is not in a vmdkit base folder (no %s beside it), so nothing proves its data unchanged",
					   x->path, parent, VMDK_MANIFEST_NAME);
		} else if ((st = in_manifest(dir, name, &listed, err)) !=
			   DESC_OK) {
			/* st carries the error out of the loop */
		} else if (!listed) {
			refused = true;
			*why = vk_asprintf("extent '%s' of '%s' is not listed in the manifest of '%s'",
					   x->path, parent, dir);
		} else if (verified == NULL || strcmp(verified, dir) != 0) {
			/* Each base folder is hashed once, not once per
			 * extent of a split disk. */
			vk_free(verified);
			verified = vk_strdup(dir);
			desc_findings_clear(&found);
			st = verified ? vmdk_base_verify(dir, &found, err) :
					vk_nomem(err);
			for (size_t j = 0; st == DESC_OK && j < found.count &&
					   !refused; j++)
				if (found.items[j].severity == DESC_SEV_ERROR) {
					refused = true;
					*why = vk_asprintf("the base '%s' does not match its manifest: %s",
							   dir, found.items[j].message);
				}
		}
		if (st == DESC_OK && !refused)
			proven++;
		vk_free(file);
		vk_free(dir);
		vk_free(name);
	}
	if (st == DESC_OK && !refused && proven == 0) {
		refused = true;
		*why = vk_asprintf("'%s' has no extent files to prove", parent);
	}
	if (st == DESC_OK && refused && *why == NULL)
		st = vk_nomem(err);
	if (st != DESC_OK) {
		vk_free(*why);
		*why = NULL;
	}
	vk_free(verified);
	desc_findings_clear(&found);
	desc_free(desc);
	return st;
}

/* Rewrites the embedded descriptor area of a monolithic sparse file in
 * place: the edit changes only digits, and the area keeps its size. */
static desc_status write_embedded(const char *path, const char *text,
				  size_t len, desc_error *err)
{
	vmdk_sparse_header h;
	unsigned char *area = NULL;
	struct stat sb;
	desc_status st;
	size_t size;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fs_error(err, errno, path, "cannot open for writing");
	if (fstat(fd, &sb) != 0) {
		st = fs_error(err, errno, path, "cannot stat");
		goto out;
	}
	st = sparse_read_header(fd, (uint64_t)sb.st_size, path, &h, err);
	if (st != DESC_OK)
		goto out;
	if (h.descriptor_offset == 0 ||
	    h.descriptor_size > DISK_DESCRIPTOR_CAP / VMDK_SECTOR_SIZE ||
	    len > h.descriptor_size * VMDK_SECTOR_SIZE) {
		st = desc_error_set(err, DESC_E_REFUSED, path, 0,
				    "the edited descriptor (%zu bytes) does not fit the embedded descriptor area (%" PRIu64 " sectors)",
				    len, h.descriptor_size);
		goto out;
	}
	size = (size_t)h.descriptor_size * VMDK_SECTOR_SIZE;
	area = vk_calloc(1, size);
	if (area == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	memcpy(area, text, len);
	if (fp_pwrite(fd, area, size,
		   (off_t)(h.descriptor_offset * VMDK_SECTOR_SIZE)) !=
		    (ssize_t)size ||
	    fp_fsync(fd) != 0)
		st = fs_error(err, errno, path, "cannot write the descriptor of");
out:
	vk_free(area);
	close(fd);
	return st;
}

desc_status vmdk_repair_cid(const char *leaf, const vmdk_repair_options *opt,
			    vmdk_repair_result *result, desc_error *err)
{
	static const vmdk_repair_options defaults;
	vmdk_repair_result local;
	desc_descriptor *desc = NULL;
	const vmdk_chain_link *c, *p;
	vmdk_chain chain;
	char *why = NULL, *text = NULL, *cdir = NULL;
	size_t len = 0;
	bool embedded;
	desc_status st;

	desc_error_clear(err);
	if (leaf == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_repair_cid: NULL argument");
	if (opt == NULL)
		opt = &defaults;
	if (result == NULL)
		result = &local;
	memset(result, 0, sizeof(*result));
	st = vmdk_chain_walk(leaf, &chain, err);
	if (st != DESC_OK)
		return st;
	if (chain.status == DESC_OK)
		goto out; /* nothing to repair */
	if (chain.count < 2) {
		st = desc_error_set(err, DESC_E_REFUSED, chain.error.file,
				    chain.error.line,
				    "chain is broken, but not by a CID: %s",
				    chain.error.message);
		goto out;
	}
	c = &chain.links[chain.count - 2];
	p = &chain.links[chain.count - 1];
	if (!c->has_parent || !p->has_cid || c->parent_cid == p->cid) {
		st = desc_error_set(err, DESC_E_REFUSED, chain.error.file,
				    chain.error.line,
				    "chain is broken, but not by a CID: %s",
				    chain.error.message);
		goto out;
	}
	if (c->capacity != p->capacity) {
		st = desc_error_set(err, DESC_E_REFUSED, c->path, 0,
				    "parent '%s' has %" PRIu64 " sectors but the delta %" PRIu64 ": not the same disk, parentCID left alone",
				    p->path, p->capacity, c->capacity);
		goto out;
	}
	snprintf(result->child, sizeof(result->child), "%s", c->path);
	snprintf(result->parent, sizeof(result->parent), "%s", p->path);
	result->old_parent_cid = c->parent_cid;
	result->new_parent_cid = p->cid;
	cdir = fs_dirname(c->path);
	if (cdir == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (has_manifest(cdir)) {
		st = desc_error_set(err, DESC_E_REFUSED, c->path, 0,
				    "the delta to edit lies in a vmdkit base folder, which is never written");
		goto out;
	}
	st = prove_unchanged(p->path, &why, err);
	if (st != DESC_OK)
		goto out;
	if (why != NULL && !opt->force) {
		st = desc_error_set(err, DESC_E_REFUSED, p->path, 0,
				    "parent CID changed (%08" PRIx32 " -> %08" PRIx32 ") and its data cannot be proven unchanged: %s; parentCID of '%s' left alone (--force repairs anyway, at the risk of a corrupt disk)",
				    c->parent_cid, p->cid, why, c->path);
		goto out;
	}
	result->forced = why != NULL;
	st = disk_load_descriptor(c->path, &desc, &embedded, err);
	if (st != DESC_OK)
		goto out;
	st = desc_set_parent_cid(desc, p->cid, err);
	if (st == DESC_OK)
		st = desc_write(desc, &text, &len, err);
	if (st != DESC_OK)
		goto out;
	result->repaired = true;
	if (opt->report != NULL)
		opt->report(opt->report_ctx, "write", c->path);
	if (opt->dry_run)
		goto out;
	if (embedded)
		st = write_embedded(c->path, text, len, err);
	else
		st = fs_replace(c->path, text, len, err);
	if (st != DESC_OK)
		result->repaired = false;
out:
	vk_free(why);
	vk_free(cdir);
	vk_free(text);
	desc_free(desc);
	vmdk_chain_clear(&chain);
	return st;
}
