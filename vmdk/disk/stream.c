/*
 * stream.c - reading the deflate-compressed grains of a streamOptimized
 * sparse extent (as found in OVAs and made by `qemu-img convert -o
 * subformat=streamOptimized`).
 *
 * A grain table entry of a compressed extent names the sector of a grain
 * marker: u64 LBA (extent sector of the grain), u32 compressed size, then
 * that many bytes of zlib (RFC 1950) data that inflate to one grain.  Only
 * reading is supported: the base of a chain is never written.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "descriptor/private.h"

#define MARKER_BYTES 12u

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Inflates the grain whose marker is at marker_sector into out (grain
 * bytes; a short last grain is padded with zeros). */
static desc_status inflate_grain(struct sparse_extent *sp,
				 uint64_t marker_sector, uint64_t grain_start,
				 uint8_t *out, size_t grain_bytes,
				 desc_error *err)
{
	uint64_t off = marker_sector * VMDK_SECTOR_SIZE, lba;
	uint8_t marker[MARKER_BYTES], *in = NULL;
	desc_status rc;
	uint32_t size;
	z_stream z;
	int zrc;

	rc = fs_pread_exact(sp->fd, marker, sizeof(marker), off, sp->name,
			    "compressed grain", err);
	if (rc != DESC_OK)
		return rc;
	lba = (uint64_t)le32(marker) | (uint64_t)le32(marker + 4) << 32;
	size = le32(marker + 8);
	if (lba != grain_start)
		return desc_error_set(err, DESC_E_FORMAT, sp->name, 0,
				      "grain marker at sector %" PRIu64 " is for sector %" PRIu64 " (expected %" PRIu64 ")",
				      marker_sector, lba, grain_start);
	/* deflate never expands more than a few bytes per 16 KiB block. */
	if (size == 0 || size > grain_bytes + grain_bytes / 8 + 1024 ||
	    off + MARKER_BYTES + size > sp->file_size)
		return desc_error_set(err, DESC_E_FORMAT, sp->name, 0,
				      "grain marker at sector %" PRIu64 " has a bad compressed size %" PRIu32 " (grain of %zu bytes, file of %" PRIu64 " bytes)",
				      marker_sector, size, grain_bytes,
				      sp->file_size);
	in = vk_malloc(size);
	if (in == NULL)
		return vk_nomem(err);
	rc = fs_pread_exact(sp->fd, in, size, off + MARKER_BYTES, sp->name,
			    "compressed grain", err);
	if (rc != DESC_OK)
		goto out;
	memset(&z, 0, sizeof(z));
	if (inflateInit(&z) != Z_OK) {
		rc = vk_nomem(err);
		goto out;
	}
	z.next_in = in;
	z.avail_in = size;
	z.next_out = out;
	z.avail_out = (uInt)grain_bytes;
	zrc = inflate(&z, Z_FINISH);
	if (zrc == Z_STREAM_END) {
		memset(out + z.total_out, 0, grain_bytes - z.total_out);
	} else {
		rc = desc_error_set(err, DESC_E_FORMAT, sp->name, 0,
				    "compressed grain at sector %" PRIu64 " does not inflate to a grain of %zu bytes (zlib: %s)",
				    marker_sector, grain_bytes,
				    zrc == Z_BUF_ERROR ? "truncated, or more than a grain"
						       : z.msg ? z.msg : "corrupt data");
	}
	inflateEnd(&z);
out:
	vk_free(in);
	return rc;
}

desc_status stream_read(struct sparse_extent *sp, uint64_t marker_sector,
			uint64_t sector, uint64_t count, uint8_t *buf,
			desc_error *err)
{
	uint64_t grain = sp->header.grain_size;
	uint64_t in_grain = sector % grain;
	size_t grain_bytes = (size_t)(grain * VMDK_SECTOR_SIZE);
	uint8_t *tmp;
	desc_status rc;

	if (count > grain - in_grain)
		return desc_error_set(err, DESC_E_ARG, sp->name, 0,
				      "read of %" PRIu64 " sectors crosses a compressed grain",
				      count);
	tmp = vk_malloc(grain_bytes);
	if (tmp == NULL)
		return vk_nomem(err);
	rc = inflate_grain(sp, marker_sector, sector - in_grain, tmp,
			   grain_bytes, err);
	if (rc == DESC_OK)
		memcpy(buf, tmp + in_grain * VMDK_SECTOR_SIZE,
		       (size_t)(count * VMDK_SECTOR_SIZE));
	vk_free(tmp);
	return rc;
}
