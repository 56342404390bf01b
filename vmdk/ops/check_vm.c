/*
 * check_vm.c - the checks of .vmx and .vmsd files for vmdk_check_paths
 * (disks missing or outside the confinement, disks moved into a base),
 * and, once every path is seen, those across VMs: one uuid.bios or MAC
 * address in two VMs, one disk or parent opened by two.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/check.h"
#include "vmdk/ops/ops.h"
#include "vmdk/ops/scan.h"
#include "vmdk/fs/fs.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* .vmx and .vmsd                                                      */
/* ------------------------------------------------------------------ */

static desc_status load_dict(struct check_job *job, const char *path,
			     desc_dict **dict)
{
	desc_error e;
	char *text = NULL;
	size_t len = 0;
	desc_status st = DESC_OK;

	*dict = NULL;
	desc_error_clear(&e);
	if (fs_read_file(path, DESC_MAX_INPUT, &text, &len, &e) != DESC_OK ||
	    desc_dict_parse(text, len, path, dict, job->out, &e) != DESC_OK)
		st = check_add_error(job, path, &e);
	vk_free(text);
	return st;
}

/* "ethernet3.generatedAddress" -> true for MAC keys. */
static bool is_mac_key(const char *key)
{
	const char *p = key;
	size_t digits;

	if (strncasecmp(p, "ethernet", 8) != 0)
		return false;
	p += 8;
	digits = strspn(p, "0123456789");
	if (digits == 0)
		return false;
	p += digits;
	return strcasecmp(p, ".address") == 0 ||
	       strcasecmp(p, ".generatedAddress") == 0;
}

static desc_status record_vmx(struct check_job *job, const char *path,
			      const desc_dict *vmx)
{
	struct vmx_rec *v;
	const char *uuid = desc_dict_get(vmx, "uuid.bios");

	v = vk_reallocarray(job->vmx, job->nvmx + 1, sizeof(*v));
	if (v == NULL)
		return vk_nomem(job->err);
	job->vmx = v;
	v = &job->vmx[job->nvmx];
	memset(v, 0, sizeof(*v));
	v->path = vk_strdup(path);
	v->uuid_bios = uuid && uuid[0] ? vk_strdup(uuid) : NULL;
	job->nvmx++;
	if (v->path == NULL || (uuid && uuid[0] && v->uuid_bios == NULL))
		return vk_nomem(job->err);
	for (size_t i = 0; i < desc_dict_count(vmx); i++) {
		const char *key = desc_dict_key_at(vmx, i);
		const char *val = desc_dict_value_at(vmx, i);
		struct mac_rec *m;

		if (strcasecmp(key, "uuid.bios") == 0)
			v->uuid_line = desc_dict_line_at(vmx, i);
		if (!is_mac_key(key) || val == NULL || val[0] == '\0')
			continue;
		m = vk_reallocarray(job->macs, job->nmacs + 1, sizeof(*m));
		if (m == NULL)
			return vk_nomem(job->err);
		job->macs = m;
		m = &job->macs[job->nmacs];
		m->mac = vk_strdup(val);
		m->path = vk_strdup(path);
		m->key = vk_strdup(key);
		m->line = desc_dict_line_at(vmx, i);
		job->nmacs++;
		if (m->mac == NULL || m->path == NULL || m->key == NULL)
			return vk_nomem(job->err);
		for (char *c = m->mac; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	return DESC_OK;
}

static desc_status push_node(struct check_job *job, const char *vmx,
			     const vmdk_vmx_disk *d, const char *file,
			     size_t depth)
{
	struct node_rec *n;
	struct stat sb;

	if (stat(file, &sb) != 0)
		return DESC_OK;
	n = vk_reallocarray(job->nodes, job->nnodes + 1, sizeof(*n));
	if (n == NULL)
		return vk_nomem(job->err);
	job->nodes = n;
	n = &job->nodes[job->nnodes];
	n->dev = sb.st_dev;
	n->ino = sb.st_ino;
	n->depth = depth;
	n->file = vk_strdup(file);
	n->vmx = vk_strdup(vmx);
	n->node = vk_strdup(d->node);
	n->line = d->line;
	job->nnodes++;
	return n->vmx && n->node && n->file ? DESC_OK : vk_nomem(job->err);
}

/* The node's disk and, unless confined (a walk would follow paths before
 * they are checked), every parent descriptor of its chain. */
static desc_status record_node(struct check_job *job, const char *vmx,
			       const vmdk_vmx_disk *d, const char *file)
{
	vmdk_chain chain;
	desc_status st;
	desc_error e;

	st = push_node(job, vmx, d, file, 0);
	if (st != DESC_OK || job->nconfine > 0)
		return st;
	desc_error_clear(&e);
	if (vmdk_chain_walk(file, &chain, &e) != DESC_OK)
		return e.code == DESC_E_NOMEM ? vk_nomem(job->err) : DESC_OK;
	for (size_t i = 1; i < chain.count && st == DESC_OK; i++)
		st = push_node(job, vmx, d, chain.links[i].path, i);
	vmdk_chain_clear(&chain);
	return st;
}

/* A missing disk whose descriptor `vmdkit base` renamed: *moved, and
 * remembered for report_moved. */
static desc_status note_moved(struct check_job *job, const char *vmx,
			      const vmdk_vmx_disk *d, const char *file,
			      bool *moved)
{
	char *path = vk_asprintf("%s" MOVED_SUFFIX, file);
	struct moved_rec *m;
	struct stat sb;

	*moved = false;
	if (path == NULL)
		return vk_nomem(job->err);
	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		vk_free(path);
		return DESC_OK;
	}
	m = vk_reallocarray(job->moved, job->nmoved + 1, sizeof(*m));
	if (m == NULL) {
		vk_free(path);
		return vk_nomem(job->err);
	}
	job->moved = m;
	m = &job->moved[job->nmoved++];
	m->moved = path;
	m->vmx = vk_strdup(vmx);
	m->file_name = vk_strdup(d->file_name);
	m->node = vk_strdup(d->node);
	m->line = d->line;
	m->dev = sb.st_dev;
	m->ino = sb.st_ino;
	*moved = true;
	return m->vmx && m->file_name && m->node ? DESC_OK : vk_nomem(job->err);
}

desc_status check_vmx(struct check_job *job, const char *path,
		      bool explicit)
{
	desc_dict *vmx = NULL;
	vmdk_vmx_disk *disks = NULL;
	size_t count = 0;
	desc_status st;
	desc_error e;
	bool first;

	st = check_first_visit(job, path, &first);
	if (st != DESC_OK || !first)
		return st;
	st = load_dict(job, path, &vmx);
	if (st != DESC_OK || vmx == NULL)
		goto out;
	st = record_vmx(job, path, vmx);
	if (st != DESC_OK)
		goto out;
	desc_error_clear(&e);
	if (vmdk_vmx_disks(vmx, &disks, &count, &e) != DESC_OK) {
		st = check_add_error(job, path, &e);
		goto out;
	}
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		char *file = cm_resolve(path, disks[i].file_name);

		if (file == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		if (check_escapes(job, file))
			st = check_add(job, DESC_SEV_ERROR, "path-escapes-confine",
				       path, disks[i].line,
				       "disk '%s' of %s resolves to '%s', outside the confined folders (not followed)",
				       disks[i].file_name, disks[i].node, file);
		else if (!fs_exists(file)) {
			bool moved = false;

			st = note_moved(job, path, &disks[i], file, &moved);
			if (st == DESC_OK && !moved)
				st = check_add(job, DESC_SEV_WARNING,
					       "vmx-disk-missing", path,
					       disks[i].line,
					       "disk '%s' of %s not found",
					       disks[i].file_name, disks[i].node);
		} else {
			st = record_node(job, path, &disks[i], file);
			/* A .vmx given by itself brings its disks along. */
			if (st == DESC_OK && explicit)
				st = check_descriptor(job, file, false);
		}
		vk_free(file);
	}
	if (st == DESC_OK && explicit)
		st = check_lock(job, path);
out:
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	return st;
}

desc_status check_vmsd(struct check_job *job, const char *path)
{
	desc_dict *vmsd = NULL;
	vmsd_snapshot_disk *disks = NULL;
	size_t count = 0;
	desc_status st;
	desc_error e;
	bool first;

	st = check_first_visit(job, path, &first);
	if (st != DESC_OK || !first)
		return st;
	st = load_dict(job, path, &vmsd);
	if (st != DESC_OK || vmsd == NULL)
		goto out;
	desc_error_clear(&e);
	if (vmsd_snapshot_disks(vmsd, &disks, &count, &e) != DESC_OK) {
		st = check_add_error(job, path, &e);
		goto out;
	}
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		char *file;

		if (disks[i].file_name == NULL || disks[i].file_name[0] == '\0')
			continue;
		file = cm_resolve(path, disks[i].file_name);
		if (file == NULL) {
			st = vk_nomem(job->err);
			break;
		}
		if (check_escapes(job, file))
			st = check_add(job, DESC_SEV_ERROR, "path-escapes-confine",
				       path, disks[i].line,
				       "snapshot disk '%s' resolves to '%s', outside the confined folders (not followed)",
				       disks[i].file_name, file);
		else if (!fs_exists(file))
			st = check_add(job, DESC_SEV_WARNING, "vmsd-disk-missing", path,
				       disks[i].line,
				       "snapshot disk '%s' (snapshot%lu.disk%lu.fileName) not found",
				       disks[i].file_name, disks[i].snapshot,
				       disks[i].disk);
		vk_free(file);
	}
out:
	vmsd_snapshot_disks_free(disks, count);
	desc_dict_free(vmsd);
	return st;
}

/* ------------------------------------------------------------------ */
/* Across VMs                                                          */
/* ------------------------------------------------------------------ */

/* ethernet0.address and ethernet0.generatedAddress of one .vmx are one
 * NIC (a static address with a stale generated one is no conflict). */
static bool same_nic(const struct mac_rec *a, const struct mac_rec *b)
{
	size_t n = strcspn(a->key, ".");

	return strcmp(a->path, b->path) == 0 && strcspn(b->key, ".") == n &&
	       strncasecmp(a->key, b->key, n) == 0;
}

desc_status check_across(struct check_job *job)
{
	desc_status st = DESC_OK;

	for (size_t i = 1; i < job->nvmx && st == DESC_OK; i++) {
		const struct vmx_rec *b = &job->vmx[i];

		if (b->uuid_bios == NULL)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct vmx_rec *a = &job->vmx[j];

			if (a->uuid_bios == NULL ||
			    strcasecmp(a->uuid_bios, b->uuid_bios) != 0)
				continue;
			st = check_add(job, DESC_SEV_ERROR, "duplicate-uuid-bios",
				       b->path, b->uuid_line,
				       "uuid.bios '%s' is also the uuid.bios of '%s' (two VMs with one identity: set uuid.action = \"create\" or remove uuid.bios)",
				       b->uuid_bios, a->path);
			break;
		}
	}
	for (size_t i = 1; i < job->nmacs && st == DESC_OK; i++) {
		const struct mac_rec *b = &job->macs[i];

		for (size_t j = 0; j < i; j++) {
			const struct mac_rec *a = &job->macs[j];

			if (strcmp(a->mac, b->mac) != 0 || same_nic(a, b))
				continue;
			if (strcmp(a->path, b->path) == 0)
				st = check_add(job, DESC_SEV_ERROR, "duplicate-mac",
					       b->path, b->line,
					       "MAC address %s (%s) is also used by %s of the same VM",
					       b->mac, b->key, a->key);
			else
				st = check_add(job, DESC_SEV_ERROR, "duplicate-mac",
					       b->path, b->line,
					       "MAC address %s (%s) is also used by '%s' (%s)",
					       b->mac, b->key, a->path, a->key);
			break;
		}
	}
	for (size_t i = 1; i < job->nnodes && st == DESC_OK; i++) {
		const struct node_rec *b = &job->nodes[i];

		for (size_t j = 0; j < i; j++) {
			const struct node_rec *a = &job->nodes[j];

			if (a->dev != b->dev || a->ino != b->ino)
				continue;
			if (a->depth == 0 && b->depth == 0) {
				st = check_add(job, DESC_SEV_ERROR, "shared-disk",
					       b->vmx, b->line,
					       "disk node %s names the same descriptor as %s of '%s' (they would share one lock; give each VM its own descriptor copy)",
					       b->node, a->node, a->vmx);
				break;
			}
			if (strcmp(a->vmx, b->vmx) == 0)
				continue; /* one VM's own chain */
			st = check_add(job, DESC_SEV_WARNING, "shared-parent", b->vmx,
				       b->line,
				       "the chain of %s reaches '%s', which the chain of %s of '%s' also opens (the VMs share its lock; a leaf should have its own copy of the base descriptor)",
				       b->node, b->depth ? b->file : a->file, a->node,
				       a->vmx);
			break;
		}
	}
	return st;
}
