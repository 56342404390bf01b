/*
 * sparse.c - the hosted sparse extent (KDMV): header decode/encode with
 * one precise error per inconsistency, grain directory and grain table
 * lookup with a small per-extent cache, and creation of empty extents.
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
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

#define HDR_MAGIC 0
#define HDR_VERSION 4
#define HDR_FLAGS 8
#define HDR_CAPACITY 12
#define HDR_GRAIN_SIZE 20
#define HDR_DESC_OFFSET 28
#define HDR_DESC_SIZE 36
#define HDR_NUM_GTES 44
#define HDR_RGD_OFFSET 48
#define HDR_GD_OFFSET 56
#define HDR_OVERHEAD 64
#define HDR_UNCLEAN 72
#define HDR_NEWLINES 73
#define HDR_COMPRESS 77

#define GTES_PER_GT 512u
#define MAX_GRAIN_SIZE (1u << 21) /* 1 GiB grains: beyond anything real */
#define MAX_DESC_SECTORS (DESC_MAX_INPUT / VMDK_SECTOR_SIZE)
/* Flags in the high half are "incompatible": a reader that does not know
 * one must refuse the file (open-vmdk). */
#define KNOWN_INCOMPAT_FLAGS (VMDK_SPARSE_FLAG_COMPRESSED | VMDK_SPARSE_FLAG_MARKERS)
#define NEW_GRAIN_SIZE 128u
/* 32-bit grain table entries address at most 2^32 sectors. */
#define MAX_EXTENT_SECTORS (UINT64_C(1) << 32)

static const uint8_t newline_bytes[4] = { '\n', ' ', '\r', '\n' };

static uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static desc_status bad(desc_error *err, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static desc_status bad(desc_error *err, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	desc_error_vset(err, DESC_E_FORMAT, name ? name : "", 0, fmt, ap);
	va_end(ap);
	return DESC_E_FORMAT;
}

/* Does [offset, offset + sectors) in sectors lie inside a file of size
 * bytes?  False also on overflow. */
static bool inside(uint64_t offset, uint64_t sectors, uint64_t size)
{
	unsigned long long end, bytes;

	if (!vk_add_u64(offset, sectors, &end) ||
	    !vk_mul_u64(end, VMDK_SECTOR_SIZE, &bytes))
		return false;
	return bytes <= size;
}

/* Number of grain tables (= grain directory entries) for a capacity. */
static bool table_counts(uint64_t capacity, uint64_t grain_size,
			 uint64_t gtes_per_gt, uint64_t *num_gts,
			 uint64_t *gd_sectors)
{
	uint64_t grains, coverage;

	if (grain_size == 0 || gtes_per_gt == 0)
		return false;
	grains = capacity / grain_size + (capacity % grain_size != 0);
	coverage = gtes_per_gt;
	*num_gts = grains / coverage + (grains % coverage != 0);
	/* 4 bytes per entry: cannot overflow after the divisions above. */
	*gd_sectors = (*num_gts * 4 + VMDK_SECTOR_SIZE - 1) / VMDK_SECTOR_SIZE;
	return true;
}

static desc_status check_grain_size(uint64_t g, const char *name,
				    desc_error *err)
{
	if (g == 0)
		return bad(err, name, "grainSize 0 in sparse header (expected a power of two, at least 8 sectors)");
	if ((g & (g - 1)) != 0)
		return bad(err, name, "grainSize %" PRIu64 " in sparse header is not a power of two", g);
	if (g < 8)
		return bad(err, name, "grainSize %" PRIu64 " in sparse header is too small (expected at least 8 sectors)", g);
	if (g > MAX_GRAIN_SIZE)
		return bad(err, name, "grainSize %" PRIu64 " in sparse header is too large (expected at most %u sectors)",
			   g, MAX_GRAIN_SIZE);
	return DESC_OK;
}

static desc_status check_tables(const vmdk_sparse_header *h,
				uint64_t file_size, const char *name,
				desc_error *err)
{
	uint64_t num_gts = 0, gd_sectors = 0;

	table_counts(h->capacity, h->grain_size, h->num_gtes_per_gt, &num_gts,
		     &gd_sectors);
	if (h->gd_offset == SPARSE_GD_AT_END) {
		if (!(h->flags & VMDK_SPARSE_FLAG_MARKERS))
			return bad(err, name, "gdOffset 0x%" PRIx64 " (at end, see footer) in sparse header without the markers flag 0x20000 (only streamOptimized files may put the grain directory at the end)",
				   h->gd_offset);
		return DESC_OK;
	}
	if (h->gd_offset == 0 && num_gts > 0)
		return bad(err, name, "gdOffset 0 in sparse header (expected the sector of the grain directory)");
	if (!inside(h->gd_offset, gd_sectors, file_size))
		return bad(err, name, "gdOffset %" PRIu64 " in sparse header: grain directory (%" PRIu64 " sectors) lies outside the file (%" PRIu64 " bytes)",
			   h->gd_offset, gd_sectors, file_size);
	if (h->flags & VMDK_SPARSE_FLAG_REDUNDANT_GT) {
		if (h->rgd_offset == 0 && num_gts > 0)
			return bad(err, name, "rgdOffset 0 in sparse header with the redundant grain table flag 0x2 set");
		if (!inside(h->rgd_offset, gd_sectors, file_size))
			return bad(err, name, "rgdOffset %" PRIu64 " in sparse header: redundant grain directory (%" PRIu64 " sectors) lies outside the file (%" PRIu64 " bytes)",
				   h->rgd_offset, gd_sectors, file_size);
	}
	return DESC_OK;
}

desc_status vmdk_sparse_header_decode(const uint8_t raw[512], uint64_t file_size,
				      const char *name, vmdk_sparse_header *out,
				      desc_error *err)
{
	vmdk_sparse_header h;
	unsigned long long bytes;
	uint32_t magic, incompat;
	desc_status rc;

	memset(out, 0, sizeof(*out));
	if (file_size < 512)
		return bad(err, name, "file too small for a sparse header (%" PRIu64 " bytes, expected at least 512)",
			   file_size);
	magic = get_le32(raw + HDR_MAGIC);
	if (magic != VMDK_SPARSE_MAGIC)
		return bad(err, name, "bad magic %02x %02x %02x %02x in sparse header (expected 4b 44 4d 56 'KDMV')",
			   raw[0], raw[1], raw[2], raw[3]);
	memset(&h, 0, sizeof(h));
	h.version = get_le32(raw + HDR_VERSION);
	h.flags = get_le32(raw + HDR_FLAGS);
	h.capacity = get_le64(raw + HDR_CAPACITY);
	h.grain_size = get_le64(raw + HDR_GRAIN_SIZE);
	h.descriptor_offset = get_le64(raw + HDR_DESC_OFFSET);
	h.descriptor_size = get_le64(raw + HDR_DESC_SIZE);
	h.num_gtes_per_gt = get_le32(raw + HDR_NUM_GTES);
	h.rgd_offset = get_le64(raw + HDR_RGD_OFFSET);
	h.gd_offset = get_le64(raw + HDR_GD_OFFSET);
	h.overhead = get_le64(raw + HDR_OVERHEAD);
	h.unclean_shutdown = raw[HDR_UNCLEAN];
	h.compress_algorithm = get_le16(raw + HDR_COMPRESS);

	if (h.version < 1 || h.version > 3)
		return bad(err, name, "unsupported version %" PRIu32 " in sparse header (expected 1, 2 or 3)",
			   h.version);
	incompat = h.flags & 0xffff0000u & ~KNOWN_INCOMPAT_FLAGS;
	if (incompat != 0)
		return bad(err, name, "unsupported flags 0x%" PRIx32 " in sparse header (known: 0x10000 compressed, 0x20000 markers)",
			   incompat);
	if ((h.flags & VMDK_SPARSE_FLAG_NEWLINE_TEST) &&
	    memcmp(raw + HDR_NEWLINES, newline_bytes, 4) != 0)
		return bad(err, name, "damaged newline-detection bytes %02x %02x %02x %02x in sparse header (expected 0a 20 0d 0a; was the file transferred in text mode?)",
			   raw[HDR_NEWLINES], raw[HDR_NEWLINES + 1],
			   raw[HDR_NEWLINES + 2], raw[HDR_NEWLINES + 3]);
	if (!vk_mul_u64(h.capacity, VMDK_SECTOR_SIZE, &bytes))
		return bad(err, name, "capacity %" PRIu64 " sectors in sparse header overflows a 64-bit byte count",
			   h.capacity);
	rc = check_grain_size(h.grain_size, name, err);
	if (rc != DESC_OK)
		return rc;
	if (h.num_gtes_per_gt != GTES_PER_GT)
		return bad(err, name, "numGTEsPerGT %" PRIu32 " in sparse header (expected 512)",
			   h.num_gtes_per_gt);
	if (h.compress_algorithm > 1)
		return bad(err, name, "compressAlgorithm %u in sparse header (expected 0 none or 1 deflate)",
			   (unsigned)h.compress_algorithm);
	if (h.descriptor_offset != 0) {
		if (h.descriptor_size == 0)
			return bad(err, name, "descriptorSize 0 in sparse header with descriptorOffset %" PRIu64,
				   h.descriptor_offset);
		if (h.descriptor_size > MAX_DESC_SECTORS)
			return bad(err, name, "descriptorSize %" PRIu64 " sectors in sparse header is too large (expected at most %u)",
				   h.descriptor_size, (unsigned)MAX_DESC_SECTORS);
		if (!inside(h.descriptor_offset, h.descriptor_size, file_size))
			return bad(err, name, "descriptorOffset %" PRIu64 " and descriptorSize %" PRIu64 " in sparse header: embedded descriptor lies outside the file (%" PRIu64 " bytes)",
				   h.descriptor_offset, h.descriptor_size,
				   file_size);
	}
	rc = check_tables(&h, file_size, name, err);
	if (rc != DESC_OK)
		return rc;
	if (!inside(h.overhead, 0, file_size) &&
	    h.gd_offset != SPARSE_GD_AT_END)
		return bad(err, name, "overHead %" PRIu64 " sectors in sparse header lies past the end of the file (%" PRIu64 " bytes)",
			   h.overhead, file_size);
	*out = h;
	return DESC_OK;
}

void vmdk_sparse_header_encode(const vmdk_sparse_header *h, uint8_t raw[512])
{
	memset(raw, 0, 512);
	put_le32(raw + HDR_MAGIC, VMDK_SPARSE_MAGIC);
	put_le32(raw + HDR_VERSION, h->version);
	put_le32(raw + HDR_FLAGS, h->flags);
	put_le64(raw + HDR_CAPACITY, h->capacity);
	put_le64(raw + HDR_GRAIN_SIZE, h->grain_size);
	put_le64(raw + HDR_DESC_OFFSET, h->descriptor_offset);
	put_le64(raw + HDR_DESC_SIZE, h->descriptor_size);
	put_le32(raw + HDR_NUM_GTES, h->num_gtes_per_gt);
	put_le64(raw + HDR_RGD_OFFSET, h->rgd_offset);
	put_le64(raw + HDR_GD_OFFSET, h->gd_offset);
	put_le64(raw + HDR_OVERHEAD, h->overhead);
	raw[HDR_UNCLEAN] = h->unclean_shutdown;
	memcpy(raw + HDR_NEWLINES, newline_bytes, 4);
	put_le16(raw + HDR_COMPRESS, h->compress_algorithm);
}

desc_status sparse_read_header(int fd, uint64_t size, const char *name,
			       vmdk_sparse_header *out, desc_error *err)
{
	uint8_t raw[512];
	desc_status rc;

	memset(raw, 0, sizeof(raw));
	if (size >= 512) {
		rc = fs_pread_exact(fd, raw, sizeof(raw), 0, name, "sparse header",
				 err);
		if (rc != DESC_OK)
			return rc;
	}
	return vmdk_sparse_header_decode(raw, size, name, out, err);
}

/* streamOptimized: the header says "at the end"; the real header is the
 * footer, two sectors before the end-of-stream marker. */
static desc_status read_footer(struct sparse_extent *sp, desc_error *err)
{
	uint8_t marker[512], raw[512];
	vmdk_sparse_header footer;
	desc_status rc;

	if (sp->file_size < 512 * 4 || sp->file_size % 512 != 0)
		return bad(err, sp->name, "streamOptimized file has no room for a footer (%" PRIu64 " bytes)",
			   sp->file_size);
	rc = fs_pread_exact(sp->fd, marker, sizeof(marker), sp->file_size - 1536,
			 sp->name, "footer marker", err);
	if (rc == DESC_OK)
		rc = fs_pread_exact(sp->fd, raw, sizeof(raw), sp->file_size - 1024,
				 sp->name, "footer", err);
	if (rc != DESC_OK)
		return rc;
	if (get_le32(marker + 8) != 0 || get_le32(marker + 12) != 3)
		return bad(err, sp->name, "no footer marker at byte %" PRIu64 " (expected metadata marker type 3)",
			   sp->file_size - 1536);
	rc = vmdk_sparse_header_decode(raw, sp->file_size, sp->name, &footer,
				       err);
	if (rc != DESC_OK)
		return rc;
	if (footer.gd_offset == SPARSE_GD_AT_END)
		return bad(err, sp->name, "footer gdOffset is also 'at end' (0x%" PRIx64 ")",
			   footer.gd_offset);
	sp->header = footer;
	return DESC_OK;
}

desc_status sparse_open(struct sparse_extent *sp, int fd, const char *name,
			desc_error *err)
{
	uint64_t gd_sectors = 0, i, gt_sectors;
	struct stat st;
	uint8_t *raw = NULL;
	desc_status rc;

	memset(sp, 0, sizeof(*sp));
	sp->fd = fd;
	sp->name = name;
	for (i = 0; i < SPARSE_GT_CACHE; i++)
		sp->cache[i].index = UINT64_MAX;
	if (fstat(fd, &st) < 0)
		return fs_error(err, errno, name, "cannot stat");
	sp->file_size = (uint64_t)st.st_size;
	rc = sparse_read_header(fd, sp->file_size, name, &sp->header, err);
	if (rc != DESC_OK)
		return rc;
	if (sp->header.gd_offset == SPARSE_GD_AT_END) {
		rc = read_footer(sp, err);
		if (rc != DESC_OK)
			return rc;
	}
	table_counts(sp->header.capacity, sp->header.grain_size,
		     sp->header.num_gtes_per_gt, &sp->gd_entries, &gd_sectors);
	if (sp->gd_entries == 0)
		return DESC_OK;
	/* gd_entries * 4 fits: the directory was checked to lie inside the
	 * file. */
	raw = vk_malloc((size_t)sp->gd_entries * 4);
	sp->gd = vk_calloc((size_t)sp->gd_entries, sizeof(*sp->gd));
	if (raw == NULL || sp->gd == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	rc = fs_pread_exact(fd, raw, (size_t)sp->gd_entries * 4,
			 sp->header.gd_offset * VMDK_SECTOR_SIZE, name,
			 "grain directory", err);
	if (rc != DESC_OK)
		goto out;
	gt_sectors = (uint64_t)sp->header.num_gtes_per_gt * 4 / VMDK_SECTOR_SIZE;
	for (i = 0; i < sp->gd_entries; i++) {
		sp->gd[i] = get_le32(raw + i * 4);
		if (sp->gd[i] != 0 && !inside(sp->gd[i], gt_sectors, sp->file_size)) {
			rc = bad(err, name, "grain directory entry %" PRIu64 ": grain table at sector %" PRIu32 " lies outside the file (%" PRIu64 " bytes)",
				 i, sp->gd[i], sp->file_size);
			goto out;
		}
	}
	/* The grain-table cache slots are allocated when first used: a
	 * 2 TiB split disk opens 1024 extents per chain link, most never
	 * looked into (16 KiB each up front made promote need 48 MiB). */
out:
	vk_free(raw);
	if (rc != DESC_OK)
		sparse_close(sp);
	return rc;
}

void sparse_close(struct sparse_extent *sp)
{
	size_t i;

	vk_free(sp->gd);
	sp->gd = NULL;
	for (i = 0; i < SPARSE_GT_CACHE; i++) {
		vk_free(sp->cache[i].entries);
		sp->cache[i].entries = NULL;
		sp->cache[i].index = UINT64_MAX;
	}
}

/* The grain table for directory entry gd_index, from the cache or read
 * into the least recently used slot. */
static desc_status load_gt(struct sparse_extent *sp, uint64_t gd_index,
			   const uint32_t **out, desc_error *err)
{
	struct sparse_gt_slot *victim = &sp->cache[0];
	uint8_t raw[GTES_PER_GT * 4];
	desc_status rc;
	size_t i;

	for (i = 0; i < SPARSE_GT_CACHE; i++) {
		struct sparse_gt_slot *s = &sp->cache[i];

		if (s->index == gd_index) {
			s->last_use = ++sp->clock;
			*out = s->entries;
			return DESC_OK;
		}
		if (s->index == UINT64_MAX || s->last_use < victim->last_use)
			victim = s;
		if (s->index == UINT64_MAX)
			break;
	}
	if (victim->entries == NULL) {
		victim->entries = vk_calloc(sp->header.num_gtes_per_gt,
					    sizeof(uint32_t));
		if (victim->entries == NULL)
			return vk_nomem(err);
	}
	rc = fs_pread_exact(sp->fd, raw, sizeof(raw),
			 (uint64_t)sp->gd[gd_index] * VMDK_SECTOR_SIZE, sp->name,
			 "grain table", err);
	if (rc != DESC_OK) {
		victim->index = UINT64_MAX;
		return rc;
	}
	for (i = 0; i < GTES_PER_GT; i++)
		victim->entries[i] = get_le32(raw + i * 4);
	victim->index = gd_index;
	victim->last_use = ++sp->clock;
	*out = victim->entries;
	return DESC_OK;
}

desc_status sparse_lookup(struct sparse_extent *sp, uint64_t sector,
			  enum sparse_grain_state *state, uint64_t *file_sector,
			  desc_error *err)
{
	const vmdk_sparse_header *h = &sp->header;
	uint64_t grain = sector / h->grain_size;
	uint64_t gd_index = grain / h->num_gtes_per_gt;
	const uint32_t *gt;
	uint32_t gte;
	desc_status rc;

	*state = SPARSE_GRAIN_UNALLOCATED;
	if (sector >= h->capacity || gd_index >= sp->gd_entries)
		return desc_error_set(err, DESC_E_ARG, sp->name, 0,
				      "sector %" PRIu64 " is past the extent's capacity (%" PRIu64 " sectors)",
				      sector, h->capacity);
	if (sp->gd[gd_index] == 0)
		return DESC_OK;
	rc = load_gt(sp, gd_index, &gt, err);
	if (rc != DESC_OK)
		return rc;
	gte = gt[grain % h->num_gtes_per_gt];
	if (gte == 0)
		return DESC_OK;
	if (gte == 1 && (h->flags & VMDK_SPARSE_FLAG_ZEROED_GTE)) {
		*state = SPARSE_GRAIN_ZERO;
		return DESC_OK;
	}
	if (!inside(gte, 1, sp->file_size))
		return bad(err, sp->name, "grain %" PRIu64 " at sector %" PRIu32 " lies outside the file (%" PRIu64 " bytes)",
			   grain, gte, sp->file_size);
	if (h->flags & VMDK_SPARSE_FLAG_COMPRESSED) {
		/* The entry names the grain's marker; stream.c inflates it. */
		*state = SPARSE_GRAIN_COMPRESSED;
		*file_sector = gte;
		return DESC_OK;
	}
	*state = SPARSE_GRAIN_DATA;
	*file_sector = (uint64_t)gte + sector % h->grain_size;
	return DESC_OK;
}

desc_status sparse_count_allocated(struct sparse_extent *sp, uint64_t *out,
				   desc_error *err)
{
	uint64_t i, n = 0, grains;
	desc_status rc;

	*out = 0;
	grains = sp->header.capacity / sp->header.grain_size +
		 (sp->header.capacity % sp->header.grain_size != 0);
	/* Read past the cache: counting touches every table once, and
	 * filling every extent's cache would keep 16 KiB an extent alive
	 * (16 MiB for the 1024 extents of a 2 TiB split disk). */
	for (i = 0; i < sp->gd_entries; i++) {
		uint8_t raw[GTES_PER_GT * 4];
		uint64_t j, count = sp->header.num_gtes_per_gt;

		if (sp->gd[i] == 0)
			continue;
		rc = fs_pread_exact(sp->fd, raw, sizeof(raw),
				 (uint64_t)sp->gd[i] * VMDK_SECTOR_SIZE,
				 sp->name, "grain table", err);
		if (rc != DESC_OK)
			return rc;
		if (count > grains - i * sp->header.num_gtes_per_gt)
			count = grains - i * sp->header.num_gtes_per_gt;
		if (count > GTES_PER_GT)
			count = GTES_PER_GT;
		for (j = 0; j < count; j++)
			if (get_le32(raw + j * 4) > 1)
				n++;
	}
	*out = n;
	return DESC_OK;
}

desc_status sparse_layout_compute(uint64_t capacity, uint64_t desc_sectors,
				  struct sparse_layout *out, desc_error *err)
{
	vmdk_sparse_header *h = &out->header;
	uint64_t gt_sectors, end, grains_end;

	memset(out, 0, sizeof(*out));
	if (capacity == 0 || capacity > MAX_EXTENT_SECTORS)
		return desc_error_set(err, DESC_E_TOO_LARGE, "", 0,
				      "sparse extent capacity %" PRIu64 " sectors is out of range (expected 1 to %" PRIu64 ")",
				      capacity, MAX_EXTENT_SECTORS);
	table_counts(capacity, NEW_GRAIN_SIZE, GTES_PER_GT, &out->num_gts,
		     &out->gd_sectors);
	gt_sectors = out->num_gts * (GTES_PER_GT * 4 / VMDK_SECTOR_SIZE);
	h->version = 1;
	h->flags = VMDK_SPARSE_FLAG_NEWLINE_TEST | VMDK_SPARSE_FLAG_REDUNDANT_GT;
	h->capacity = capacity;
	h->grain_size = NEW_GRAIN_SIZE;
	h->descriptor_offset = desc_sectors ? 1 : 0;
	h->descriptor_size = desc_sectors;
	h->num_gtes_per_gt = GTES_PER_GT;
	h->rgd_offset = 1 + desc_sectors;
	h->gd_offset = h->rgd_offset + out->gd_sectors + gt_sectors;
	end = h->gd_offset + out->gd_sectors + gt_sectors;
	h->overhead = (end + NEW_GRAIN_SIZE - 1) / NEW_GRAIN_SIZE * NEW_GRAIN_SIZE;
	/* Every grain must stay addressable by a 32-bit table entry. */
	grains_end = h->overhead +
		     (capacity + NEW_GRAIN_SIZE - 1) / NEW_GRAIN_SIZE * NEW_GRAIN_SIZE;
	if (grains_end > MAX_EXTENT_SECTORS)
		return desc_error_set(err, DESC_E_TOO_LARGE, "", 0,
				      "sparse extent capacity %" PRIu64 " sectors is too large for 32-bit grain tables (expected at most %" PRIu64 " sectors; use a split type)",
				      capacity, MAX_EXTENT_SECTORS - h->overhead);
	return DESC_OK;
}

desc_status sparse_create_file(const char *path,
			       const struct sparse_layout *layout,
			       const char *desc_text, size_t desc_len,
			       desc_error *err)
{
	const vmdk_sparse_header *h = &layout->header;
	uint64_t gt_sectors = GTES_PER_GT * 4 / VMDK_SECTOR_SIZE, i;
	size_t gd_bytes = (size_t)layout->num_gts * 4;
	uint8_t *buf = NULL, *gd;
	desc_status rc = DESC_OK;
	bool joined;
	int fd;

	if (desc_len > h->descriptor_size * VMDK_SECTOR_SIZE)
		return desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
				      "descriptor of %zu bytes does not fit the embedded area of %" PRIu64 " sectors",
				      desc_len, h->descriptor_size);
	/* The header and the redundant grain directory in one buffer: with
	 * no embedded descriptor they are adjacent (sector 0, sector 1) and
	 * go out in one write, one system call fewer per extent (a leaf
	 * over a split base makes several). */
	joined = desc_len == 0 && h->rgd_offset == 1;
	buf = vk_malloc(VMDK_SECTOR_SIZE + (gd_bytes ? gd_bytes : 1));
	if (buf == NULL)
		return vk_nomem(err);
	gd = buf + VMDK_SECTOR_SIZE;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0) {
		rc = fs_error(err, errno, path, "cannot create");
		vk_free(buf);
		return rc;
	}
	/* The grain tables are all zero: leave them as holes. */
	if (fp_ftruncate(fd, (off_t)(h->overhead * VMDK_SECTOR_SIZE)) < 0) {
		rc = fs_error(err, errno, path, "cannot extend");
		goto out;
	}
	vmdk_sparse_header_encode(h, buf);
	for (i = 0; i < layout->num_gts; i++)
		put_le32(gd + i * 4, (uint32_t)(h->rgd_offset + layout->gd_sectors +
						i * gt_sectors));
	if (fs_pwrite_full(fd, buf, VMDK_SECTOR_SIZE + (joined ? gd_bytes : 0),
		       0) < 0)
		goto io;
	/* Only the text: the NUL padding up to descriptorSize is a hole. */
	if (desc_len > 0 &&
	    fs_pwrite_full(fd, desc_text, desc_len,
		       h->descriptor_offset * VMDK_SECTOR_SIZE) < 0)
		goto io;
	if (!joined &&
	    fs_pwrite_full(fd, gd, gd_bytes, h->rgd_offset * VMDK_SECTOR_SIZE) < 0)
		goto io;
	for (i = 0; i < layout->num_gts; i++)
		put_le32(gd + i * 4, (uint32_t)(h->gd_offset + layout->gd_sectors +
						i * gt_sectors));
	if (fs_pwrite_full(fd, gd, gd_bytes, h->gd_offset * VMDK_SECTOR_SIZE) < 0)
		goto io;
	if (fs_sync_wanted() && fp_fsync(fd) < 0)
		goto io;
	if (close(fd) < 0) {
		fd = -1;
		goto io;
	}
	fd = -1;
	goto out;
io:
	rc = fs_error(err, errno, path, "cannot write");
out:
	if (fd >= 0)
		close(fd);
	if (rc != DESC_OK)
		fp_unlink(path);
	vk_free(buf);
	return rc;
}
