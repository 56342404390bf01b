/*
 * flatten.h - flattening a chain into a new standalone disk (flatten.c)
 * and a full clone's copy of its base (copy.c): mechanisms of the formats
 * layer, used by ops/promote.c and ops/leaf.c (private, never installed).
 */
#ifndef VMDKIT_DISK_FLATTEN_H
#define VMDKIT_DISK_FLATTEN_H

#include <stdint.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"

/* Progress over several flattens: done counts virtual bytes already
 * walked in earlier disks, total is the sum of every disk's capacity. */
struct flatten_progress {
	vmdk_progress_fn fn;
	void *ctx;
	uint64_t done;
	uint64_t total;
};

/* Reports p->done + bytes of p->total to the callback, if any. */
void flatten_progress_tick(struct flatten_progress *p, uint64_t bytes);

/* Writes len bytes of buf at byte offset off of fd, retrying after EINTR
 * and short writes; "cannot write '<path>'" on failure. */
desc_status disk_pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
			    const char *path, desc_error *err);

/* Writes a new standalone disk `path` (must not exist; its extents are
 * created beside it) of `type` with the virtual content of `top` (opened
 * with VMDK_OPEN_CHAIN).  Only allocated, non-zero data is written: holes
 * and zero grains stay holes.  adapter/hw version are taken from top's
 * DDB.  On failure every file created is removed. */
desc_status flatten_disk(vmdk_disk *top, const char *path,
			 vmdk_create_type type, struct flatten_progress *progress,
			 desc_error *err);

/* The layout a flatten of `top` gets by default: twoGbMaxExtentSparse
 * when the top disk is split in several extents, else monolithicSparse. */
vmdk_create_type flatten_default_type(const vmdk_disk *top);

/* Removes a disk created by flatten_disk: its extent files (those beside
 * it) and the descriptor. */
void flatten_remove(const char *path);

/* A full clone's copy of the base disk `base_path` in folder `dir`,
 * named `copy_name`: every extent file copied beside it (fs_copy_file:
 * reflink, else copy_file_range, holes kept), a descriptor with local
 * extent paths and a new ddb.uuid; a monolithic base is copied whole and
 * its embedded descriptor gets the new ddb.uuid.  A streamOptimized base
 * is inflated into a monolithicSparse disk instead.  `report` gets a
 * "write" step with folder `shown` for each file.  On failure the files
 * made are removed. */
desc_status full_copy_disk(const char *base_path, const char *dir,
			   const char *copy_name, const char *shown,
			   vmdk_report_fn report, void *report_ctx,
			   struct flatten_progress *progress, desc_error *err);

#endif
