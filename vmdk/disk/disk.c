/*
 * disk.c - opening a disk (descriptor file or monolithic sparse file),
 * its extents and optionally its parent chain, and reading virtual
 * sectors through the chain.  Every file is opened O_RDONLY.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

#define NO_PARENT_CID 0xffffffffu

struct disk_extent {
	desc_extent_type type;
	uint64_t sectors;
	uint64_t start;       /* first virtual sector */
	uint64_t flat_offset; /* sectors, FLAT/VMFS */
	char *path;           /* resolved; NULL for ZERO */
	int fd;
	bool opened;
	bool sparse;
	uint64_t file_size;
	uint64_t allocated_bytes;
	struct sparse_extent sp;
};

struct vmdk_disk {
	char *path;
	desc_descriptor *desc;
	bool embedded;
	bool extents_opened;
	uint64_t capacity;
	/* The descriptor names a parent (hint or parentCID): unallocated
	 * grains must not silently read as zeros when it was not opened. */
	bool is_delta;
	vmdk_disk *parent;
	struct disk_extent *extents;
	size_t count;
};

/* (st_dev, st_ino) of the links opened so far, to detect loops. */
struct visited {
	dev_t dev[VMDK_CHAIN_MAX_DEPTH + 1];
	ino_t ino[VMDK_CHAIN_MAX_DEPTH + 1];
	size_t count;
};

static desc_status load_embedded(int fd, uint64_t size, const char *path,
				 desc_descriptor **out, desc_error *err)
{
	vmdk_sparse_header h;
	desc_status rc;
	size_t len;
	char *text;

	rc = sparse_read_header(fd, size, path, &h, err);
	if (rc != DESC_OK)
		return rc;
	if (h.descriptor_offset == 0)
		return desc_error_set(err, DESC_E_FORMAT, path, 0,
				      "sparse extent has no embedded descriptor (descriptorOffset 0); open the disk's descriptor file instead");
	/* The decoder capped descriptorSize at DESC_MAX_INPUT bytes. */
	len = (size_t)(h.descriptor_size * VMDK_SECTOR_SIZE);
	text = vk_malloc(len + 1);
	if (text == NULL)
		return vk_nomem(err);
	rc = fs_pread_exact(fd, text, len, h.descriptor_offset * VMDK_SECTOR_SIZE,
			    path, "embedded descriptor", err);
	if (rc == DESC_OK) {
		text[len] = '\0';
		rc = desc_parse(text, len, path, out, NULL, err);
	}
	vk_free(text);
	return rc;
}

desc_status disk_load_descriptor(const char *path, desc_descriptor **out,
				 bool *embedded, desc_error *err)
{
	unsigned char magic[4] = { 0 };
	desc_status rc;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	*embedded = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fs_error(err, errno, path, "cannot open");
	if (fstat(fd, &st) < 0) {
		rc = fs_error(err, errno, path, "cannot stat");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = desc_error_set(err, DESC_E_FORMAT, path, 0,
				    "not a regular file (expected a descriptor or a monolithic sparse disk)");
		goto out;
	}
	do
		n = pread(fd, magic, sizeof(magic), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		rc = fs_error(err, errno, path, "cannot read");
		goto out;
	}
	if (n == 4 && memcmp(magic, "KDMV", 4) == 0) {
		*embedded = true;
		rc = load_embedded(fd, (uint64_t)st.st_size, path, out, err);
		goto out;
	}
	if (n == 4 && memcmp(magic, "COWD", 4) == 0) {
		rc = desc_error_set(err, DESC_E_FORMAT, path, 0,
				    "file is a VMFSSPARSE (COWD) extent, not a disk; open its descriptor file instead");
		goto out;
	}
	if ((uint64_t)st.st_size > DISK_DESCRIPTOR_CAP) {
		rc = desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
				    "file of %" PRIu64 " bytes is too large for a descriptor (at most %u; is it an extent?)",
				    (uint64_t)st.st_size, DISK_DESCRIPTOR_CAP);
		goto out;
	}
	rc = fs_read_file(path, DISK_DESCRIPTOR_CAP, &text, &len, err);
	if (rc == DESC_OK)
		rc = desc_parse(text, len, path, out, NULL, err);
out:
	vk_free(text);
	close(fd);
	return rc;
}

static bool cid_of(const char *v, uint32_t *out)
{
	uint64_t cid;

	/* 1..8 hex digits: more is not a CID even when the value fits */
	if (v == NULL || strlen(v) > 8 ||
	    !desc_parse_number_all(v, strlen(v), 16, UINT32_MAX, &cid))
		return false;
	*out = (uint32_t)cid;
	return true;
}

bool disk_cid(const desc_descriptor *desc, uint32_t *out)
{
	return cid_of(desc_header_get(desc, "CID"), out);
}

bool disk_parent_cid(const desc_descriptor *desc, uint32_t *out)
{
	return cid_of(desc_header_get(desc, "parentCID"), out);
}

static void close_extent(struct disk_extent *e)
{
	if (e->sparse)
		sparse_close(&e->sp);
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	vk_free(e->path);
	e->path = NULL;
}

void vmdk_disk_free(vmdk_disk *disk)
{
	size_t i;

	while (disk != NULL) {
		vmdk_disk *parent = disk->parent;

		for (i = 0; i < disk->count; i++)
			close_extent(&disk->extents[i]);
		vk_free(disk->extents);
		desc_free(disk->desc);
		vk_free(disk->path);
		vk_free(disk);
		disk = parent;
	}
}

static bool reads_as_flat(desc_extent_type type)
{
	/* A VMFS extent is a flat file on a datastore: same bytes. */
	return type == DESC_EXTENT_FLAT || type == DESC_EXTENT_VMFS;
}

static desc_status open_extent(vmdk_disk *disk, struct disk_extent *e,
			       desc_error *err)
{
	struct stat st;
	desc_status rc;

	if (e->type == DESC_EXTENT_ZERO)
		return DESC_OK;
	if (!reads_as_flat(e->type) && e->type != DESC_EXTENT_SPARSE) {
		/* Reported, not read: note what is there without opening
		 * devices or ESXi files. */
		if (stat(e->path, &st) == 0 && S_ISREG(st.st_mode)) {
			e->file_size = (uint64_t)st.st_size;
			e->allocated_bytes = (uint64_t)st.st_blocks * 512;
		}
		return DESC_OK;
	}
	e->fd = open(e->path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0)
		return fs_error(err, errno, e->path, "cannot open extent");
	if (fstat(e->fd, &st) < 0)
		return fs_error(err, errno, e->path, "cannot stat extent");
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return desc_error_set(err, DESC_E_FORMAT, e->path, 0,
				      "extent is not a regular file");
	e->opened = true;
	e->file_size = (uint64_t)st.st_size;
	e->allocated_bytes = (uint64_t)st.st_blocks * 512;
	if (e->type != DESC_EXTENT_SPARSE) {
		unsigned long long end, bytes;

		if (!vk_add_u64(e->flat_offset, e->sectors, &end) ||
		    !vk_mul_u64(end, VMDK_SECTOR_SIZE, &bytes) ||
		    bytes > INT64_MAX)
			return desc_error_set(err, DESC_E_TOO_LARGE, disk->path,
					      0, "extent '%s': offset %" PRIu64 " plus size %" PRIu64 " sectors overflows",
					      e->path, e->flat_offset,
					      e->sectors);
		return DESC_OK;
	}
	rc = sparse_open(&e->sp, e->fd, e->path, err);
	if (rc != DESC_OK)
		return rc;
	e->sparse = true;
	if (e->sp.header.capacity != e->sectors)
		return desc_error_set(err, DESC_E_FORMAT, e->path, 0,
				      "sparse extent capacity %" PRIu64 " sectors does not match its extent line in '%s' (%" PRIu64 " sectors)",
				      e->sp.header.capacity, disk->path,
				      e->sectors);
	return DESC_OK;
}

static desc_status open_extents(vmdk_disk *disk, bool open_files,
				desc_error *err)
{
	size_t i, n = desc_extent_count(disk->desc);
	uint64_t start = 0;
	desc_status rc;
	char *dir;

	if (n == 0)
		return desc_error_set(err, DESC_E_INVALID, disk->path, 0,
				      "descriptor has no extents");
	disk->extents = vk_calloc(n, sizeof(*disk->extents));
	dir = fs_dirname(disk->path);
	if (disk->extents == NULL || dir == NULL) {
		vk_free(dir);
		return vk_nomem(err);
	}
	for (i = 0; i < n; i++)
		disk->extents[i].fd = -1;
	disk->count = n;
	for (i = 0; i < n; i++) {
		const desc_extent *d = desc_extent_at(disk->desc, i);
		struct disk_extent *e = &disk->extents[i];

		e->type = d->type;
		e->sectors = d->sectors;
		e->start = start;
		e->flat_offset = d->has_offset ? d->offset : 0;
		start += d->sectors; /* desc_capacity checked the sum */
		if (i == 0 && disk->embedded) {
			/* An embedded descriptor describes the file holding
			 * it, whatever name it was renamed to (qemu and
			 * VMware read it so too). */
			e->path = vk_strdup(disk->path);
			if (e->path == NULL) {
				rc = vk_nomem(err);
				goto out;
			}
		} else if (d->path != NULL && d->type != DESC_EXTENT_ZERO) {
			e->path = fs_join(dir, d->path);
			if (e->path == NULL) {
				rc = vk_nomem(err);
				goto out;
			}
		}
		if (open_files) {
			rc = open_extent(disk, e, err);
			if (rc != DESC_OK)
				goto out;
		}
	}
	rc = DESC_OK;
out:
	vk_free(dir);
	return rc;
}

static desc_status disk_open_at(const char *path, unsigned flags,
				struct visited *seen, vmdk_disk **out,
				desc_error *err);

static desc_status open_parent(vmdk_disk *disk, unsigned flags,
			       struct visited *seen, desc_error *err)
{
	const char *hint = desc_parent_hint(disk->desc);
	uint32_t parent_cid, cid;
	char *dir, *ppath;
	desc_status rc;

	if (hint == NULL) {
		if (disk_parent_cid(disk->desc, &parent_cid) &&
		    parent_cid != NO_PARENT_CID)
			return desc_error_set(err, DESC_E_CHAIN, disk->path, 0,
					      "parentCID=%08" PRIx32 " names a parent but there is no parentFileNameHint",
					      parent_cid);
		return DESC_OK;
	}
	dir = fs_dirname(disk->path);
	ppath = dir ? fs_join(dir, hint) : NULL;
	vk_free(dir);
	if (ppath == NULL)
		return vk_nomem(err);
	if (!fs_exists(ppath)) {
		rc = desc_error_set(err, DESC_E_NOT_FOUND, disk->path, 0,
				    "parent '%s' not found (parentFileNameHint resolved to '%s')",
				    hint, ppath);
		vk_free(ppath);
		return rc;
	}
	rc = disk_open_at(ppath, flags, seen, &disk->parent, err);
	if (rc != DESC_OK) {
		vk_free(ppath);
		return rc;
	}
	if (!disk_parent_cid(disk->desc, &parent_cid)) {
		rc = desc_error_set(err, DESC_E_CHAIN, disk->path, 0,
				    "parentCID missing or not 8 hex digits in a delta of '%s'",
				    ppath);
	} else if (!disk_cid(disk->parent->desc, &cid)) {
		rc = desc_error_set(err, DESC_E_CHAIN, ppath, 0,
				    "CID missing or not 8 hex digits in the parent of '%s'",
				    disk->path);
	} else if (cid != parent_cid) {
		rc = desc_error_set(err, DESC_E_CHAIN, disk->path, 0,
				    "CID mismatch: parentCID=%08" PRIx32 " but parent '%s' has CID=%08" PRIx32 " (the parent was modified after this delta was made)",
				    parent_cid, ppath, cid);
	} else if (disk->parent->capacity != disk->capacity) {
		rc = desc_error_set(err, DESC_E_CHAIN, disk->path, 0,
				    "capacity mismatch: %" PRIu64 " sectors but parent '%s' has %" PRIu64 " sectors",
				    disk->capacity, ppath,
				    disk->parent->capacity);
	}
	vk_free(ppath);
	return rc;
}

static desc_status disk_open_at(const char *path, unsigned flags,
				struct visited *seen, vmdk_disk **out,
				desc_error *err)
{
	vmdk_disk *disk = NULL;
	uint32_t parent_cid;
	struct stat st;
	desc_status rc;
	size_t i;

	*out = NULL;
	if (stat(path, &st) < 0)
		return fs_error(err, errno, path, "cannot open");
	for (i = 0; i < seen->count; i++)
		if (seen->dev[i] == st.st_dev && seen->ino[i] == st.st_ino)
			return desc_error_set(err, DESC_E_CHAIN, path, 0,
					      "loop in the parent chain: this file is already link %zu of the chain",
					      i);
	if (seen->count > VMDK_CHAIN_MAX_DEPTH)
		return desc_error_set(err, DESC_E_CHAIN, path, 0,
				      "parent chain deeper than %d links",
				      VMDK_CHAIN_MAX_DEPTH);
	seen->dev[seen->count] = st.st_dev;
	seen->ino[seen->count] = st.st_ino;
	seen->count++;

	disk = vk_calloc(1, sizeof(*disk));
	if (disk == NULL)
		return vk_nomem(err);
	disk->path = vk_strdup(path);
	if (disk->path == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	rc = disk_load_descriptor(path, &disk->desc, &disk->embedded, err);
	if (rc != DESC_OK)
		goto out;
	if (!desc_capacity(disk->desc, &disk->capacity)) {
		rc = desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
				    "sum of the extent sizes overflows");
		goto out;
	}
	disk->is_delta = desc_parent_hint(disk->desc) != NULL ||
			 (disk_parent_cid(disk->desc, &parent_cid) &&
			  parent_cid != NO_PARENT_CID);
	disk->extents_opened = !(flags & VMDK_OPEN_DESCRIPTOR_ONLY);
	rc = open_extents(disk, disk->extents_opened, err);
	if (rc != DESC_OK)
		goto out;
	if (flags & VMDK_OPEN_CHAIN)
		rc = open_parent(disk, flags, seen, err);
out:
	if (rc != DESC_OK) {
		vmdk_disk_free(disk);
		return rc;
	}
	*out = disk;
	return DESC_OK;
}

desc_status vmdk_disk_open(const char *path, unsigned flags, vmdk_disk **out,
			   desc_error *err)
{
	struct visited seen;

	seen.count = 0;
	if (out == NULL || path == NULL)
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "vmdk_disk_open needs a path and an out pointer");
	return disk_open_at(path, flags, &seen, out, err);
}

const char *vmdk_disk_path(const vmdk_disk *disk)
{
	return disk->path;
}

const desc_descriptor *vmdk_disk_descriptor(const vmdk_disk *disk)
{
	return disk->desc;
}

bool vmdk_disk_embedded(const vmdk_disk *disk)
{
	return disk->embedded;
}

uint64_t vmdk_disk_capacity(const vmdk_disk *disk)
{
	return disk->capacity;
}

vmdk_disk *vmdk_disk_parent(const vmdk_disk *disk)
{
	return disk->parent;
}

desc_status vmdk_disk_extent_info(vmdk_disk *disk, size_t index,
				  vmdk_extent_info *out, desc_error *err)
{
	struct disk_extent *e;
	desc_status rc;

	memset(out, 0, sizeof(*out));
	if (index >= disk->count)
		return desc_error_set(err, DESC_E_ARG, disk->path, 0,
				      "no extent %zu (the disk has %zu)", index,
				      disk->count);
	e = &disk->extents[index];
	out->path = e->path;
	out->opened = e->opened;
	out->file_size = e->file_size;
	out->allocated_bytes = e->allocated_bytes;
	if (!e->opened && e->path != NULL && e->file_size == 0) {
		struct stat st;

		if (stat(e->path, &st) == 0 && S_ISREG(st.st_mode)) {
			out->file_size = (uint64_t)st.st_size;
			out->allocated_bytes = (uint64_t)st.st_blocks * 512;
		}
	}
	if (e->sparse) {
		out->sparse = true;
		out->header = e->sp.header;
		rc = sparse_count_allocated(&e->sp, &out->allocated_grains, err);
		if (rc != DESC_OK)
			return rc;
	}
	return DESC_OK;
}

static desc_status read_unallocated(vmdk_disk *disk, uint64_t sector,
				    uint64_t count, uint8_t *buf,
				    desc_error *err)
{
	if (disk->parent != NULL)
		return vmdk_disk_read(disk->parent, sector, count, buf, err);
	if (disk->is_delta)
		return desc_error_set(err, DESC_E_ARG, disk->path, 0,
				      "unallocated grain at sector %" PRIu64 " of a delta whose parent is not open (open with VMDK_OPEN_CHAIN)",
				      sector);
	memset(buf, 0, count * VMDK_SECTOR_SIZE);
	return DESC_OK;
}

static desc_status read_sparse(vmdk_disk *disk, struct disk_extent *e,
			       uint64_t sector, uint64_t count, uint8_t *buf,
			       desc_error *err)
{
	uint64_t grain = e->sp.header.grain_size;

	while (count > 0) {
		uint64_t in_extent = sector - e->start;
		uint64_t n = grain - in_extent % grain, file_sector = 0;
		enum sparse_grain_state state;
		desc_status rc;

		if (n > count)
			n = count;
		rc = sparse_lookup(&e->sp, in_extent, &state, &file_sector,
				   err);
		if (rc != DESC_OK)
			return rc;
		switch (state) {
		case SPARSE_GRAIN_DATA:
			rc = fs_pread_zero(e->fd, buf, n * VMDK_SECTOR_SIZE,
					  file_sector * VMDK_SECTOR_SIZE,
					  e->path, err);
			break;
		case SPARSE_GRAIN_ZERO:
			memset(buf, 0, n * VMDK_SECTOR_SIZE);
			break;
		case SPARSE_GRAIN_UNALLOCATED:
			rc = read_unallocated(disk, sector, n, buf, err);
			break;
		case SPARSE_GRAIN_COMPRESSED:
			rc = stream_read(&e->sp, file_sector, in_extent, n, buf,
					 err);
			break;
		}
		if (rc != DESC_OK)
			return rc;
		sector += n;
		count -= n;
		buf += n * VMDK_SECTOR_SIZE;
	}
	return DESC_OK;
}

desc_status vmdk_disk_read(vmdk_disk *disk, uint64_t sector, uint64_t count,
			   void *buf, desc_error *err)
{
	unsigned long long end, bytes;
	uint8_t *p = buf;
	size_t i = 0;

	if (!vk_add_u64(sector, count, &end) || end > disk->capacity ||
	    !vk_mul_u64(count, VMDK_SECTOR_SIZE, &bytes) || bytes > SIZE_MAX)
		return desc_error_set(err, DESC_E_ARG, disk->path, 0,
				      "read of %" PRIu64 " sectors at sector %" PRIu64 " is outside the disk (%" PRIu64 " sectors)",
				      count, sector, disk->capacity);
	if (!disk->extents_opened)
		return desc_error_set(err, DESC_E_ARG, disk->path, 0,
				      "disk was opened without its extents (VMDK_OPEN_DESCRIPTOR_ONLY)");
	while (count > 0) {
		struct disk_extent *e;
		uint64_t n, in_extent;
		desc_status rc = DESC_OK;

		while (i < disk->count &&
		       sector >= disk->extents[i].start + disk->extents[i].sectors)
			i++;
		if (i == disk->count)
			break; /* cannot happen: end <= capacity */
		e = &disk->extents[i];
		in_extent = sector - e->start;
		n = e->sectors - in_extent;
		if (n > count)
			n = count;
		if (e->type == DESC_EXTENT_ZERO) {
			memset(p, 0, n * VMDK_SECTOR_SIZE);
		} else if (e->type == DESC_EXTENT_SPARSE) {
			rc = read_sparse(disk, e, sector, n, p, err);
		} else if (reads_as_flat(e->type)) {
			rc = fs_pread_zero(e->fd, p, n * VMDK_SECTOR_SIZE,
					  (e->flat_offset + in_extent) *
					  VMDK_SECTOR_SIZE, e->path, err);
		} else {
			rc = desc_error_set(err, DESC_E_FORMAT,
					    e->path ? e->path : disk->path, 0,
					    "reading %s extents is not supported",
					    desc_extent_type_name(e->type));
		}
		if (rc != DESC_OK)
			return rc;
		sector += n;
		count -= n;
		p += n * VMDK_SECTOR_SIZE;
	}
	return DESC_OK;
}
