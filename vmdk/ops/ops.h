/*
 * ops.h - the operations layer (vmdk/ops/): one file per command (base,
 * verify, clone/leaf, promote, relocate, repair-cid, dependents, check;
 * base and check come in parts that share a private header, base.h and
 * check.h); this header holds what several commands share: the base
 * manifest.
 *
 * Layer rule: vmdk/ops/ is the policy; it uses vmdk/disk/, vmdk/vm/,
 * vmdk/fs/ and descriptor/, and nothing below it uses vmdk/ops/.
 * Private, never installed.
 */
#ifndef VMDKIT_OPS_H
#define VMDKIT_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "descriptor/descriptor.h"

/* ------------------------------------------------------------------ */
/* Base manifest (manifest.c)                                          */
/* ------------------------------------------------------------------ */

/* One file of a base: its name inside the base folder (no '/'), size in
 * bytes and SHA-256. */
typedef struct manifest_entry {
	char *name;
	uint64_t size;
	unsigned char sha256[32];
} manifest_entry;

typedef struct manifest {
	manifest_entry *entries;
	size_t count;
	size_t capacity;
} manifest;

void manifest_clear(manifest *m);

/* Hashes the regular file `name` inside folder `dir_fd` (opened
 * O_RDONLY|O_NOFOLLOW, read in 1 MiB chunks, holes read as zeros) and
 * appends it to m.  `dir_path` is only used in messages. */
desc_status manifest_add_file(manifest *m, int dir_fd, const char *dir_path,
			      const char *name, desc_error *err);

/* Hashes one file into size/sha256 (same reading rules). */
desc_status manifest_hash_file(int dir_fd, const char *dir_path,
			       const char *name, uint64_t *size,
			       unsigned char sha256[32], desc_error *err);

/* The manifest text: "# vmdkit base manifest v1\n" then, per entry,
 * "sha256 SIZE HEX  NAME\n".  Caller frees *out with vk_free. */
desc_status manifest_format(const manifest *m, char **out, size_t *len,
			    desc_error *err);

/* Parses manifest text (`path` for FILE:LINE messages). */
desc_status manifest_parse(const char *text, size_t len, const char *path,
			   manifest *out, desc_error *err);

/* Entry named `name`, or NULL. */
const manifest_entry *manifest_find(const manifest *m, const char *name);

/* ------------------------------------------------------------------ */
/* Names of what the commands leave behind (check reads them back)     */
/* ------------------------------------------------------------------ */

/* What `vmdkit base` renames a master's text descriptor NAME to:
 * NAME.vmdkit-moved. */
#define MOVED_SUFFIX ".vmdkit-moved"
/* base's undo record, in its staging folder, then in BASEDIR until the
 * run is done (base_undo.c). */
#define UNDO_NAME ".vmdkit-undo"
/* An in-place promote's journal, in its staging folder (promote.c). */
#define JOURNAL_NAME "promote-journal"
/* relocate's record, ".vmdkit-relocate-NEWNAME-<pid>-XXXXXX" beside NEWDIR
 * (relocate.c). */
#define RECORD_PREFIX ".vmdkit-relocate-"

#endif
