/*
 * desc_private.h - the descriptor's internal line model, shared by
 * descriptor.c (parse, write, edit) and validate.c (findings).
 */
#ifndef VMDKIT_DESC_PRIVATE_H
#define VMDKIT_DESC_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "descriptor/descriptor.h"

enum line_kind {
	LINE_BLANK,
	LINE_COMMENT,
	LINE_HEADER,  /* key=value before the disk database */
	LINE_EXTENT,
	LINE_CTK,     /* key=value in "# Change Tracking File" */
	LINE_DDB,     /* ddb.key = "value" */
};

enum line_end { EOL_NONE, EOL_LF, EOL_CRLF };

enum section { SEC_HEADER, SEC_EXTENT, SEC_CTK, SEC_DDB };

/* One line, owning its original bytes (without the line ending). */
struct dline {
	enum line_kind kind;
	char *text;
	size_t len;
	enum line_end eol;
	unsigned number;     /* 1-based line in the parsed text; 0 = edited */
	/* key-value lines */
	char *key;
	char *value;         /* unquoted */
	bool quoted;
	size_t value_off;    /* value span in text, quotes included */
	size_t value_end;
	/* extent lines */
	desc_extent extent;  /* extent.path points at path */
	char *path;
	size_t path_off;     /* name span in text, quotes excluded */
	size_t path_end;
};

struct desc_descriptor {
	char *name;
	bool bom;            /* a UTF-8 BOM preceded the text */
	struct dline **lines;
	size_t count;
	size_t capacity;
};

/* What a createType allows: a mask of (1 << desc_extent_type). */
struct create_type_info {
	const char *name;
	unsigned extent_types;
	bool monolithic;     /* exactly one extent */
};

const struct create_type_info *vk_create_type_info(const char *create_type);

#endif
