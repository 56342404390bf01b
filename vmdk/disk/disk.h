/*
 * disk.h - the formats layer (vmdk/disk/): sparse (KDMV) and
 * streamOptimized extents, opening a disk and its chain, reading sectors,
 * creating disks and empty deltas; flattening a chain and a full clone's
 * copy of a base are declared in flatten.h.
 *
 * Layer rule: vmdk/disk/ is mechanism, no policy; it uses vmdk/fs/ and
 * descriptor/ only (and implements its part of vmdk/vmdk.h).  Private,
 * never installed.
 */
#ifndef VMDKIT_DISK_PRIVATE_H
#define VMDKIT_DISK_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"

/* Largest descriptor file read (qemu reads at most 1 MiB too). */
#define DISK_DESCRIPTOR_CAP (1024u * 1024u)
/* gdOffset meaning "grain directory at the end, see the footer". */
#define SPARSE_GD_AT_END UINT64_MAX
/* Grain tables kept in memory per sparse extent. */
#define SPARSE_GT_CACHE 8

struct sparse_gt_slot {
	uint64_t index;    /* grain directory index; UINT64_MAX = empty */
	uint64_t last_use;
	uint32_t *entries; /* num_gtes_per_gt entries, host order */
};

/* An opened hosted sparse extent: the header, the grain directory, and a
 * small cache of grain tables (loaded on demand, so a 2 TiB extent does
 * not cost 2 TiB / 32 MiB * 2 KiB of memory up front). */
struct sparse_extent {
	int fd;
	const char *name;  /* for messages; owned by the caller */
	uint64_t file_size;
	vmdk_sparse_header header;
	uint64_t gd_entries;
	uint32_t *gd;      /* host order */
	uint64_t clock;
	struct sparse_gt_slot cache[SPARSE_GT_CACHE];
};

/* What a grain lookup found. */
enum sparse_grain_state {
	SPARSE_GRAIN_UNALLOCATED, /* read the parent (zeros at the base) */
	SPARSE_GRAIN_ZERO,        /* zeroed-grain entry */
	SPARSE_GRAIN_DATA,        /* at *sector in the file */
	SPARSE_GRAIN_COMPRESSED,  /* streamOptimized: grain marker at *sector */
};

/* Reads the 512-byte header at offset 0 of fd (a file of `size` bytes)
 * and decodes it. */
desc_status sparse_read_header(int fd, uint64_t size, const char *name,
			       vmdk_sparse_header *out, desc_error *err);

/* Opens the sparse structure of an already opened file (takes no
 * ownership of fd or name): header (footer for GD_AT_END), grain
 * directory. */
desc_status sparse_open(struct sparse_extent *sp, int fd, const char *name,
			desc_error *err);
void sparse_close(struct sparse_extent *sp);

/* Looks up the grain holding extent sector `sector`. */
desc_status sparse_lookup(struct sparse_extent *sp, uint64_t sector,
			  enum sparse_grain_state *state, uint64_t *file_sector,
			  desc_error *err);

/* Reads `count` sectors starting at extent sector `sector` from the
 * compressed grain whose marker is at `marker_sector` (vmdk/disk/stream.c). */
desc_status stream_read(struct sparse_extent *sp, uint64_t marker_sector,
			uint64_t sector, uint64_t count, uint8_t *buf,
			desc_error *err);

/* Counts grains with data (GTE > 1), reading every grain table once. */
desc_status sparse_count_allocated(struct sparse_extent *sp, uint64_t *out,
				   desc_error *err);

/* Layout of a new empty sparse extent. */
struct sparse_layout {
	vmdk_sparse_header header;
	uint64_t num_gts;
	uint64_t gd_sectors;
};

/* Computes the layout qemu and VMware use: header, optional embedded
 * descriptor area (desc_sectors at sector 1, 0 = none), redundant GD and
 * its GTs, GD and its GTs, overHead rounded up to a grain. */
desc_status sparse_layout_compute(uint64_t capacity, uint64_t desc_sectors,
				  struct sparse_layout *out, desc_error *err);

/* Creates a new empty sparse extent file at path (O_EXCL): writes the
 * header, the descriptor text (may be NULL) and both grain directories,
 * and extends the file with ftruncate so the zero grain tables stay
 * holes.  Removes the file on failure. */
desc_status sparse_create_file(const char *path,
			       const struct sparse_layout *layout,
			       const char *desc_text, size_t desc_len,
			       desc_error *err);

/* Reads the descriptor of a disk without opening extents: an embedded
 * one when the file starts with KDMV, else the whole text file (capped).
 * *embedded tells which.  The descriptor is parsed with `path` as name. */
desc_status disk_load_descriptor(const char *path, desc_descriptor **out,
				 bool *embedded, desc_error *err);

/* CID / parentCID of a descriptor.  Unlike desc_cid() this accepts 1 to
 * 8 hex digits: qemu writes "%x" (CID=16d1e43), so real files carry
 * fewer than 8 digits.  False when missing or not hex. */
bool disk_cid(const desc_descriptor *desc, uint32_t *out);
bool disk_parent_cid(const desc_descriptor *desc, uint32_t *out);

/* What vmdk_disk_create accepts as ddb.adapterType (ide, buslogic,
 * lsilogic, legacyESX, lsisas1068, pvscsi) and ddb.virtualHWVersion (one
 * to four digits); false for NULL.  flatten_disk keeps a source's values
 * only when they pass. */
bool disk_adapter_known(const char *adapter);
bool disk_hw_version_ok(const char *hw);

/* A new random ddb.uuid in VMware's form, "60 00 C2 9x xx xx xx xx-xx xx
 * xx xx xx xx xx xx" (47 characters and a NUL in out). */
desc_status disk_new_uuid(char out[48], desc_error *err);

/* vmdk_delta_create over a parent descriptor already in memory (a leaf
 * stamper has just written it: reading it back costs a leaf ten system
 * calls).  parent_path names the parent in messages and, when
 * parent_hint is NULL, gives the hint relative to the delta's folder. */
desc_status disk_delta_create_from(const char *delta_path,
				   const desc_descriptor *pdesc,
				   const char *parent_path,
				   const char *parent_hint, desc_error *err);

#endif
