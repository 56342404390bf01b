/*
 * scan.h - folder-scan helpers (scan.c) shared by check, dependents,
 * relocate and repair (private, never installed).
 */
#ifndef VMDKIT_OPS_SCAN_H
#define VMDKIT_OPS_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "descriptor/descriptor.h"

/* `name` (an extent path or parentFileNameHint) resolved against the
 * folder of the descriptor `desc_path`, as qemu and the disk layer do:
 * absolute names stay.  vk_free; NULL on allocation failure. */
char *cm_resolve(const char *desc_path, const char *name);

/* True when absolute normalised `path` is `dir` or lies below it (both
 * from fs_absolute; compared by component). */
bool cm_under(const char *dir, const char *path);

/* A set of files by device and inode. */
struct cm_fileset {
	dev_t *dev;
	ino_t *ino;
	size_t count;
	size_t capacity;
};

/* Adds path's file (stat, following symlinks).  false on allocation
 * failure; a missing file is not added and is not a failure. */
bool cm_fileset_add_path(struct cm_fileset *set, const char *path);
bool cm_fileset_has_path(const struct cm_fileset *set, const char *path);
void cm_fileset_clear(struct cm_fileset *set);

/* True when `name` ends in `suffix`, ASCII case-insensitively. */
bool cm_has_suffix(const char *name, const char *suffix);

/* True when the file at path looks like a descriptor: text that starts
 * like one, or a KDMV sparse file with an embedded descriptor (data
 * extents like -flat / -s001 are not). */
bool cm_looks_like_descriptor(const char *path);

#endif
