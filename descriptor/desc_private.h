/*
 * desc_private.h - what the descriptor's files share (never installed):
 * descriptor.c (names, grammar, parse, write), edit.c (accessors and
 * edits) and validate.c (findings).  The lines themselves are the
 * shared line model of lines.h.
 */
#ifndef VMDKIT_DESC_PRIVATE_H
#define VMDKIT_DESC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "descriptor/descriptor.h"
#include "descriptor/lines.h"

enum section { SEC_HEADER, SEC_EXTENT, SEC_CTK, SEC_DDB };

struct desc_descriptor {
	char *name;
	struct lines lines;  /* lines.bom: a UTF-8 BOM preceded the text */
};

/* What a createType allows: a mask of (1 << desc_extent_type). */
struct create_type_info {
	const char *name;
	unsigned extent_types;
	bool monolithic;     /* exactly one extent */
};

const struct create_type_info *vk_create_type_info(const char *create_type);

/* The header key key[0..len) spelled as the formats spell it ("CID"),
 * matched case-insensitively; NULL for a key that is not one of them. */
const char *vk_canonical_header_key(const char *key, size_t len);

/* "ddb." in any case starts the key. */
bool vk_is_ddb_key(const char *key);

/* The value can be written between double quotes on one line. */
bool vk_value_writable(const char *value);

/* Parses the extent line `line` (its text set, kind LINE_EXTENT) into a
 * new line->extent.  `name` and `lineno` are only for messages; `err`
 * may be NULL. */
desc_status vk_parse_extent_line(struct line *line, const char *name,
				 unsigned lineno, desc_error *err);

/* The first comment line that opens `section` (SEC_EXTENT, SEC_CTK or
 * SEC_DDB); -1 when there is none, -2 when matching failed (out of
 * memory). */
ptrdiff_t vk_find_section_comment(const desc_descriptor *desc,
				  enum section section);

/* The header line for key: an exact match first, else the first
 * case-insensitive one (qemu matches exactly, libvmdk does not).  -1
 * when absent. */
ptrdiff_t vk_find_header(const desc_descriptor *desc, const char *key);

/* The DDB line for key (case-insensitive; the last one wins, as in
 * VMware's own dictionary files).  -1 when absent. */
ptrdiff_t vk_find_ddb(const desc_descriptor *desc, const char *key);

#endif
