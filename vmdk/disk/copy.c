/*
 * copy.c - a full clone's copy of its base disk (full_copy_disk): each
 * extent file copied beside a new descriptor (fs_copy_file: reflink, else
 * copy_file_range, holes kept) that has a new ddb.uuid; a chain or a disk
 * with compressed grains is flattened instead (flatten.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/disk/disk.h"
#include "vmdk/disk/flatten.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* Full clones                                                         */
/* ------------------------------------------------------------------ */

/* Writes desc (with a new ddb.uuid) over the embedded descriptor area of
 * the monolithic sparse file `path`, NUL-padded, when it fits. */
static desc_status rewrite_embedded(const char *path, desc_descriptor *desc,
				    desc_error *err)
{
	vmdk_sparse_header h;
	char *text = NULL, *area = NULL;
	size_t len = 0, cap;
	desc_status rc;
	struct stat st;
	int fd;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return fs_error(err, errno, path, "cannot open");
	if (fstat(fd, &st) < 0) {
		rc = fs_error(err, errno, path, "cannot stat");
		goto out;
	}
	rc = sparse_read_header(fd, (uint64_t)st.st_size, path, &h, err);
	if (rc == DESC_OK)
		rc = desc_write(desc, &text, &len, err);
	if (rc != DESC_OK)
		goto out;
	cap = (size_t)(h.descriptor_size * VMDK_SECTOR_SIZE);
	if (h.descriptor_offset == 0 || len > cap) {
		rc = desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
				    "descriptor of %zu bytes does not fit the embedded area of %zu bytes",
				    len, cap);
		goto out;
	}
	area = vk_calloc(1, cap);
	if (area == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	memcpy(area, text, len);
	rc = disk_pwrite_all(fd, area, cap, h.descriptor_offset * VMDK_SECTOR_SIZE,
			     path, err);
	if (rc == DESC_OK && fp_fsync(fd) < 0)
		rc = fs_error(err, errno, path, "cannot sync");
out:
	close(fd);
	vk_free(text);
	vk_free(area);
	return rc;
}

static desc_status has_compressed_extent(vmdk_disk *disk, bool *out,
					 desc_error *err)
{
	size_t i, n = desc_extent_count(vmdk_disk_descriptor(disk));

	*out = false;
	for (i = 0; i < n; i++) {
		vmdk_extent_info info;
		desc_status rc = vmdk_disk_extent_info(disk, i, &info, err);

		if (rc != DESC_OK)
			return rc;
		if (info.sparse &&
		    (info.header.flags & VMDK_SPARSE_FLAG_COMPRESSED))
			*out = true;
	}
	return DESC_OK;
}

static void report_in(vmdk_report_fn report, void *ctx, const char *shown,
		      const char *name)
{
	char *p;

	if (report == NULL)
		return;
	p = fs_join(shown, name);
	report(ctx, "write", p ? p : name);
	vk_free(p);
}

desc_status full_copy_disk(const char *base_path, const char *dir,
			   const char *copy_name, const char *shown,
			   vmdk_report_fn report, void *report_ctx,
			   struct flatten_progress *progress, desc_error *err)
{
	vmdk_disk *disk = NULL;
	desc_descriptor *copy = NULL;
	char *dst = NULL, *text = NULL, **made = NULL;
	size_t nmade = 0, i, n, len = 0;
	bool compressed = false;
	char uuid[48];
	desc_status rc;

	rc = vmdk_disk_open(base_path, VMDK_OPEN_CHAIN, &disk, err);
	if (rc != DESC_OK)
		return rc;
	dst = fs_join(dir, copy_name);
	if (dst == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	rc = has_compressed_extent(disk, &compressed, err);
	if (rc != DESC_OK)
		goto out;
	if (vmdk_disk_parent(disk) != NULL || compressed) {
		/* A chain or deflate grains: a copy of the files would not be
		 * a plain standalone disk. */
		rc = flatten_disk(disk, dst,
				  vmdk_disk_parent(disk) ? flatten_default_type(disk)
							 : VMDK_CREATE_MONOLITHIC_SPARSE,
				  progress, err);
		if (rc == DESC_OK)
			report_in(report, report_ctx, shown, copy_name);
		goto out;
	}
	rc = desc_clone(vmdk_disk_descriptor(disk), &copy, err);
	if (rc == DESC_OK)
		rc = disk_new_uuid(uuid, err);
	if (rc == DESC_OK)
		rc = desc_ddb_set(copy, "ddb.uuid", uuid, err);
	if (rc != DESC_OK)
		goto out;
	n = desc_extent_count(copy);
	made = vk_calloc(n + 1, sizeof(*made));
	if (made == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	if (vmdk_disk_embedded(disk)) {
		rc = fs_copy_file(base_path, dst, 0644, err);
		if (rc == DESC_OK)
			made[nmade++] = vk_strdup(dst);
		if (rc == DESC_OK)
			rc = rewrite_embedded(dst, copy, err);
		if (rc == DESC_OK)
			report_in(report, report_ctx, shown, copy_name);
		goto out;
	}
	for (i = 0; i < n && rc == DESC_OK; i++) {
		vmdk_extent_info info;
		char *name, *to;

		rc = vmdk_disk_extent_info(disk, i, &info, err);
		if (rc != DESC_OK || info.path == NULL)
			continue;
		name = fs_basename(info.path);
		to = name ? fs_join(dir, name) : NULL;
		if (to == NULL)
			rc = vk_nomem(err);
		else if (strcmp(name, copy_name) == 0)
			rc = desc_error_set(err, DESC_E_EXISTS, info.path, 0,
					    "extent has the descriptor's own name '%s'",
					    name);
		else
			rc = fs_copy_file(info.path, to, 0644, err);
		if (rc == DESC_OK) {
			made[nmade++] = to;
			to = NULL;
			rc = desc_extent_set_path(copy, i, name, err);
			report_in(report, report_ctx, shown, name);
			if (progress != NULL) {
				progress->done += desc_extent_at(copy, i)->sectors *
						  VMDK_SECTOR_SIZE;
				flatten_progress_tick(progress, 0);
			}
		}
		vk_free(name);
		vk_free(to);
	}
	if (rc == DESC_OK)
		rc = desc_write(copy, &text, &len, err);
	if (rc == DESC_OK)
		rc = fs_write_new(dst, text, len, 0644, true, err);
	if (rc == DESC_OK)
		report_in(report, report_ctx, shown, copy_name);
out:
	for (i = 0; i < nmade; i++) {
		if (rc != DESC_OK && made[i] != NULL)
			fp_unlink(made[i]);
		vk_free(made[i]);
	}
	vk_free(made);
	vk_free(text);
	vk_free(dst);
	desc_free(copy);
	vmdk_disk_free(disk);
	return rc;
}
