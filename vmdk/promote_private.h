/*
 * promote_private.h - flattening a chain into a new standalone disk,
 * shared by promote.c and leaf.c's full clones (private, never installed).
 */
#ifndef VMDKIT_PROMOTE_PRIVATE_H
#define VMDKIT_PROMOTE_PRIVATE_H

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

#endif
