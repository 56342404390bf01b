/*
 * output.h - a small report tree that commands build and that is written
 * as human text, YAML (libyaml's emitter) or JSON (json-c).
 *
 * Maps keep insertion order.  Strings are copied.  Building never fails
 * (allocation failure exits through xmalloc); out_free() releases a tree.
 */
#ifndef VMDKIT_OUTPUT_H
#define VMDKIT_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_format {
	OUT_TEXT,
	OUT_YAML,
	OUT_JSON,
};

enum out_kind {
	OUT_MAP,
	OUT_LIST,
	OUT_STRING,
	OUT_UINT,
	OUT_BOOL,
	OUT_NULL,
};

typedef struct out_node out_node;

out_node *out_new_map(void);
out_node *out_new_list(void);
void out_free(out_node *node);

/* Adding to a map (key copied) or, with key NULL, to a list.  The
 * container functions return the new child to fill. */
out_node *out_add_map(out_node *parent, const char *key);
out_node *out_add_list(out_node *parent, const char *key);
/* value NULL adds a null. */
void out_add_str(out_node *parent, const char *key, const char *value);
void out_add_strf(out_node *parent, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void out_add_uint(out_node *parent, const char *key, uint64_t value);
void out_add_bool(out_node *parent, const char *key, bool value);
void out_add_null(out_node *parent, const char *key);

/* Walking a tree being built: the child of a map with this key (NULL
 * when none), the first child, the next sibling. */
out_node *out_find(const out_node *map, const char *key);
out_node *out_first(const out_node *node);
out_node *out_next(const out_node *node);

/* Writes the tree; returns false on a write error. */
bool out_emit(FILE *fp, const out_node *root, enum out_format format);

#endif
