/*
 * plan.c - clone plans: a YAML file that lists the leaves to stamp.
 *
 * Grammar (every key optional unless marked; unknown keys are errors, not
 * ignored, so a typo never silently produces a leaf with defaults):
 *
 *   plan     := mapping { base: PATH, vmx: PATH, leaves: [leaf, ...] (required, non-empty) }
 *   leaf     := mapping { name: NAME (required), folder: PATH,
 *                         memory: POSITIVE (MiB, .vmx memsize),
 *                         cpus: POSITIVE (.vmx numvcpus),
 *                         vmx: mapping { KEY: SCALAR, ... } }
 *
 * base and vmx are relative to the plan file's folder; vmdk_plan_load
 * returns them already joined with that folder (absolute paths are kept).
 * folder is relative to the LEAFDIR given on the command line and is
 * returned as written; when absent it is "NAME.vmwarevm".  Leaf names and
 * folders must be unique.  One YAML document per file.
 *
 * Errors are FILE:LINE with libyaml's 0-based mark turned 1-based.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <yaml.h>

#include "vmdk/vmdk.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

#define PLAN_LEAF_KEYS "name, folder, memory, cpus, vmx"
#define PLAN_TOP_KEYS "base, vmx, leaves"

typedef struct plan_reader {
	const char *path;
	yaml_document_t *doc;
	desc_error *err;
} plan_reader;

static unsigned node_line(const yaml_node_t *node)
{
	return (unsigned)node->start_mark.line + 1;
}

static const char *node_kind(const yaml_node_t *node)
{
	switch (node->type) {
	case YAML_SCALAR_NODE: return "a scalar";
	case YAML_SEQUENCE_NODE: return "a sequence";
	case YAML_MAPPING_NODE: return "a mapping";
	default: return "empty";
	}
}

static desc_status plan_fail(plan_reader *r, desc_status code,
			     const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static desc_status plan_fail(plan_reader *r, desc_status code,
			     const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	desc_error_vset(r->err, code, r->path, node ? node_line(node) : 0, fmt,
			ap);
	va_end(ap);
	return code;
}

static const char *scalar(const yaml_node_t *node)
{
	return (const char *)node->data.scalar.value;
}

/* A scalar value as a new string; a NUL inside the scalar is refused
 * because every consumer of these strings is C. */
static desc_status scalar_dup(plan_reader *r, const yaml_node_t *key,
			      const yaml_node_t *value, char **out)
{
	if (value->type != YAML_SCALAR_NODE)
		return plan_fail(r, DESC_E_INVALID, value,
				 "'%s' is %s (expected a scalar)", scalar(key),
				 node_kind(value));
	if (strlen(scalar(value)) != value->data.scalar.length)
		return plan_fail(r, DESC_E_INVALID, value,
				 "'%s' contains a NUL byte", scalar(key));
	if (value->data.scalar.length == 0)
		return plan_fail(r, DESC_E_INVALID, value,
				 "'%s' is empty (expected a value)",
				 scalar(key));
	*out = vk_strdup(scalar(value));
	if (*out == NULL)
		return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
	return DESC_OK;
}

/* A positive whole number that fits in 32 bits, digits only. */
static bool positive_number(const char *s)
{
	uint64_t v;

	return desc_parse_number_all(s, strlen(s), 10, UINT32_MAX, &v) && v > 0;
}

/* .vmx keys are written unquoted, so anything outside this set would
 * corrupt the file or change its meaning. */
static bool vmx_key_ok(const char *key)
{
	const char *p;

	if (*key == '\0')
		return false;
	for (p = key; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == ':' ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool node_is_key(const yaml_node_t *key, const char *name)
{
	return key->type == YAML_SCALAR_NODE && strcmp(scalar(key), name) == 0;
}

/* Every mapping key must be a scalar and appear once. */
static desc_status check_mapping_keys(plan_reader *r, const yaml_node_t *map)
{
	yaml_node_pair_t *a, *b;

	for (a = map->data.mapping.pairs.start; a < map->data.mapping.pairs.top;
	     a++) {
		yaml_node_t *ka = yaml_document_get_node(r->doc, a->key);

		if (ka->type != YAML_SCALAR_NODE)
			return plan_fail(r, DESC_E_INVALID, ka,
					 "key is %s (expected a scalar)",
					 node_kind(ka));
		for (b = map->data.mapping.pairs.start; b < a; b++) {
			yaml_node_t *kb = yaml_document_get_node(r->doc, b->key);

			if (strcmp(scalar(ka), scalar(kb)) == 0)
				return plan_fail(r, DESC_E_INVALID, ka,
						 "duplicate key '%s' (first at line %u)",
						 scalar(ka), node_line(kb));
		}
	}
	return DESC_OK;
}

static desc_status load_extra(plan_reader *r, const yaml_node_t *key,
			      const yaml_node_t *map, vmdk_leaf_spec *leaf)
{
	size_t n = (size_t)(map->data.mapping.pairs.top -
			    map->data.mapping.pairs.start);
	char **keys, **values;
	yaml_node_pair_t *pair;
	desc_status st;
	size_t i = 0;

	if (map->type != YAML_MAPPING_NODE)
		return plan_fail(r, DESC_E_INVALID, map,
				 "'%s' is %s (expected a mapping of .vmx keys)",
				 scalar(key), node_kind(map));
	st = check_mapping_keys(r, map);
	if (st != DESC_OK)
		return st;
	keys = vk_calloc(n, sizeof(*keys));
	values = vk_calloc(n, sizeof(*values));
	leaf->extra_keys = (const char *const *)keys;
	leaf->extra_values = (const char *const *)values;
	if (keys == NULL || values == NULL)
		return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++, i++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, pair->value);

		if (!vmx_key_ok(scalar(k)))
			return plan_fail(r, DESC_E_INVALID, k,
					 "bad .vmx key '%s' (expected letters, digits, '.', ':', '_', '-')",
					 scalar(k));
		keys[i] = vk_strdup(scalar(k));
		leaf->extra_count = i + 1;
		if (keys[i] == NULL)
			return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
		if (v->type != YAML_SCALAR_NODE)
			return plan_fail(r, DESC_E_INVALID, v,
					 "'%s' is %s (expected a scalar)",
					 scalar(k), node_kind(v));
		/* An empty value is allowed here: `key: ""` clears a key. */
		values[i] = vk_strdup(scalar(v));
		if (values[i] == NULL)
			return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
	}
	return DESC_OK;
}

static desc_status load_leaf(plan_reader *r, const yaml_node_t *node,
			     vmdk_leaf_spec *leaf)
{
	yaml_node_pair_t *pair;
	const yaml_node_t *name_node = NULL;
	const char *why;
	desc_status st;
	char *s;

	leaf->line = node_line(node);
	if (node->type != YAML_MAPPING_NODE)
		return plan_fail(r, DESC_E_INVALID, node,
				 "leaf is %s (expected a mapping with " PLAN_LEAF_KEYS ")",
				 node_kind(node));
	st = check_mapping_keys(r, node);
	if (st != DESC_OK)
		return st;
	for (pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, pair->value);

		if (node_is_key(k, "vmx")) {
			st = load_extra(r, k, v, leaf);
			if (st != DESC_OK)
				return st;
			continue;
		}
		if (!node_is_key(k, "name") && !node_is_key(k, "folder") &&
		    !node_is_key(k, "memory") && !node_is_key(k, "cpus"))
			return plan_fail(r, DESC_E_INVALID, k,
					 "unknown key '%s' (expected " PLAN_LEAF_KEYS ")",
					 scalar(k));
		st = scalar_dup(r, k, v, &s);
		if (st != DESC_OK)
			return st;
		if (node_is_key(k, "name")) {
			leaf->name = s;
			name_node = v;
			why = leaf_name_problem(s);
			if (why != NULL)
				return plan_fail(r, DESC_E_INVALID, v,
						 "bad leaf name '%s' (%s)", s,
						 why);
		} else if (node_is_key(k, "folder")) {
			leaf->folder = s;
			why = leaf_folder_problem(s);
			if (why != NULL)
				return plan_fail(r, DESC_E_INVALID, v,
						 "bad leaf folder '%s' (%s)", s,
						 why);
		} else if (node_is_key(k, "memory")) {
			leaf->memsize = s;
			if (!positive_number(s))
				return plan_fail(r, DESC_E_INVALID, v,
						 "bad memory '%s' (expected a positive whole number of MiB)",
						 s);
		} else {
			leaf->numvcpus = s;
			if (!positive_number(s))
				return plan_fail(r, DESC_E_INVALID, v,
						 "bad cpus '%s' (expected a positive whole number)",
						 s);
		}
	}
	if (name_node == NULL)
		return plan_fail(r, DESC_E_INVALID, node,
				 "leaf has no 'name' (expected " PLAN_LEAF_KEYS ")");
	if (leaf->folder == NULL) {
		char *folder = vk_asprintf("%s.vmwarevm", leaf->name);

		if (folder == NULL)
			return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
		leaf->folder = folder;
	}
	return DESC_OK;
}

/* Compares two relative folders component by component, skipping empty
 * and "." components, so "./a//b/" and "a/b" are the same folder. */
static const char *next_component(const char *p, size_t *len)
{
	for (;;) {
		while (*p == '/')
			p++;
		*len = strcspn(p, "/");
		if (*len == 1 && p[0] == '.') {
			p++;
			continue;
		}
		return p;
	}
}

static bool same_folder(const char *a, const char *b)
{
	size_t la, lb;

	for (;;) {
		a = next_component(a, &la);
		b = next_component(b, &lb);
		if (la != lb || memcmp(a, b, la) != 0)
			return false;
		if (la == 0)
			return true;
		a += la;
		b += lb;
	}
}

static desc_status load_leaves(plan_reader *r, const yaml_node_t *key,
			       const yaml_node_t *seq, vmdk_plan *plan)
{
	size_t n, i, j;
	yaml_node_item_t *item;
	desc_status st;

	if (seq->type != YAML_SEQUENCE_NODE)
		return plan_fail(r, DESC_E_INVALID, seq,
				 "'leaves' is %s (expected a sequence of leaves)",
				 node_kind(seq));
	n = (size_t)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
	if (n == 0)
		return plan_fail(r, DESC_E_INVALID, key,
				 "'leaves' is empty (expected at least one leaf)");
	plan->leaves = vk_calloc(n, sizeof(*plan->leaves));
	if (plan->leaves == NULL)
		return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
	for (i = 0, item = seq->data.sequence.items.start; i < n; i++, item++) {
		vmdk_leaf_spec *leaf = &plan->leaves[i];

		plan->count = i + 1;
		st = load_leaf(r, yaml_document_get_node(r->doc, *item), leaf);
		if (st != DESC_OK)
			return st;
		for (j = 0; j < i; j++) {
			const vmdk_leaf_spec *prev = &plan->leaves[j];

			if (strcmp(prev->name, leaf->name) == 0)
				return desc_error_set(r->err, DESC_E_INVALID,
						      r->path, leaf->line,
						      "duplicate leaf name '%s' (first at line %u)",
						      leaf->name, prev->line);
			if (same_folder(prev->folder, leaf->folder))
				return desc_error_set(r->err, DESC_E_INVALID,
						      r->path, leaf->line,
						      "duplicate leaf folder '%s' (first at line %u)",
						      leaf->folder, prev->line);
		}
	}
	return DESC_OK;
}

/* Joins a path from the plan with the plan file's folder. */
static desc_status plan_path(plan_reader *r, const char *value, char **out)
{
	const char *slash = strrchr(r->path, '/');

	if (value[0] == '/' || slash == NULL)
		*out = vk_strdup(value);
	else
		*out = vk_asprintf("%.*s/%s", (int)(slash - r->path), r->path,
				   value);
	if (*out == NULL)
		return plan_fail(r, DESC_E_NOMEM, NULL, "out of memory");
	return DESC_OK;
}

static desc_status load_plan(plan_reader *r, vmdk_plan *plan)
{
	yaml_node_t *root = yaml_document_get_root_node(r->doc);
	const yaml_node_t *leaves_key = NULL;
	yaml_node_pair_t *pair;
	desc_status st;
	char *s;

	if (root == NULL)
		return desc_error_set(r->err, DESC_E_INVALID, r->path, 0,
				      "empty plan (expected a mapping with 'leaves')");
	if (root->type != YAML_MAPPING_NODE)
		return plan_fail(r, DESC_E_INVALID, root,
				 "plan is %s (expected a mapping with " PLAN_TOP_KEYS ")",
				 node_kind(root));
	st = check_mapping_keys(r, root);
	if (st != DESC_OK)
		return st;
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = yaml_document_get_node(r->doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(r->doc, pair->value);

		if (node_is_key(k, "leaves")) {
			leaves_key = k;
			st = load_leaves(r, k, v, plan);
		} else if (node_is_key(k, "base") || node_is_key(k, "vmx")) {
			st = scalar_dup(r, k, v, &s);
			if (st != DESC_OK)
				return st;
			st = plan_path(r, s, node_is_key(k, "base") ?
					     &plan->base : &plan->vmx);
			vk_free(s);
		} else {
			return plan_fail(r, DESC_E_INVALID, k,
					 "unknown key '%s' (expected " PLAN_TOP_KEYS ")",
					 scalar(k));
		}
		if (st != DESC_OK)
			return st;
	}
	if (leaves_key == NULL)
		return plan_fail(r, DESC_E_INVALID, root,
				 "plan has no 'leaves' (expected a sequence of leaves)");
	return DESC_OK;
}

static desc_status yaml_failure(plan_reader *r, const yaml_parser_t *parser)
{
	const yaml_mark_t *mark = &parser->problem_mark;
	desc_status code = DESC_E_SYNTAX;

	if (parser->error == YAML_MEMORY_ERROR)
		return desc_error_set(r->err, DESC_E_NOMEM, r->path, 0,
				      "out of memory");
	if (parser->error == YAML_READER_ERROR)
		return desc_error_set(r->err, DESC_E_SYNTAX, r->path, 0,
				      "%s at byte %zu",
				      parser->problem ? parser->problem :
							"cannot read",
				      parser->problem_offset);
	if (parser->context != NULL)
		return desc_error_set(r->err, code, r->path,
				      (unsigned)mark->line + 1, "%s (%s)",
				      parser->problem ? parser->problem :
							"bad YAML",
				      parser->context);
	return desc_error_set(r->err, code, r->path, (unsigned)mark->line + 1,
			      "%s", parser->problem ? parser->problem :
						      "bad YAML");
}

desc_status vmdk_plan_load(const char *path, vmdk_plan **out, desc_error *err)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	plan_reader r = { .path = path, .doc = &doc, .err = err };
	bool parser_ok = false, doc_ok = false;
	vmdk_plan *plan = NULL;
	desc_status st;
	FILE *f = NULL;

	if (out == NULL || path == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_plan_load: NULL argument");
	*out = NULL;
	f = fopen(path, "rbe");
	if (f == NULL) {
		int e = errno;

		st = desc_error_set(err, e == ENOENT ? DESC_E_NOT_FOUND :
						       DESC_E_IO,
				    path, 0, "cannot open plan: %s",
				    strerror(e));
		if (err != NULL)
			err->errnum = e;
		return st;
	}
	plan = vk_calloc(1, sizeof(*plan));
	if (plan == NULL || !yaml_parser_initialize(&parser)) {
		st = desc_error_set(err, DESC_E_NOMEM, path, 0, "out of memory");
		goto out;
	}
	parser_ok = true;
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		st = yaml_failure(&r, &parser);
		goto out;
	}
	doc_ok = true;
	st = load_plan(&r, plan);
	if (st != DESC_OK)
		goto out;
	/* A second document would be silently ignored by the loader. */
	if (!yaml_parser_load(&parser, &extra)) {
		st = yaml_failure(&r, &parser);
		goto out;
	}
	if (yaml_document_get_root_node(&extra) != NULL) {
		st = desc_error_set(err, DESC_E_INVALID, path,
				    node_line(yaml_document_get_root_node(&extra)),
				    "second YAML document (expected one plan per file)");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);
	*out = plan;
	plan = NULL;
out:
	if (doc_ok)
		yaml_document_delete(&doc);
	if (parser_ok)
		yaml_parser_delete(&parser);
	fclose(f);
	vmdk_plan_free(plan);
	return st;
}

void vmdk_plan_free(vmdk_plan *plan)
{
	size_t i, j;

	if (plan == NULL)
		return;
	for (i = 0; i < plan->count; i++) {
		vmdk_leaf_spec *leaf = &plan->leaves[i];

		vk_free((char *)leaf->name);
		vk_free((char *)leaf->folder);
		vk_free((char *)leaf->memsize);
		vk_free((char *)leaf->numvcpus);
		for (j = 0; j < leaf->extra_count; j++) {
			if (leaf->extra_keys != NULL)
				vk_free((char *)leaf->extra_keys[j]);
			if (leaf->extra_values != NULL)
				vk_free((char *)leaf->extra_values[j]);
		}
		vk_free((void *)leaf->extra_keys);
		vk_free((void *)leaf->extra_values);
	}
	vk_free(plan->leaves);
	vk_free(plan->base);
	vk_free(plan->vmx);
	vk_free(plan);
}

const char *leaf_name_problem(const char *name)
{
	const unsigned char *p;

	if (name == NULL || *name == '\0')
		return "empty";
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return "not a file name";
	if (strlen(name) > 200)
		return "longer than 200 bytes";
	for (p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p == '/')
			return "contains '/'";
		if (*p == '"')
			return "contains '\"'";
		if (*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

const char *leaf_folder_problem(const char *folder)
{
	const char *p = folder;

	if (folder == NULL || *folder == '\0')
		return "empty";
	if (*folder == '/')
		return "absolute (expected a path inside LEAFDIR)";
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 2 && p[0] == '.' && p[1] == '.')
			return "contains '..' (expected a path inside LEAFDIR)";
		p += n;
		while (*p == '/')
			p++;
	}
	for (p = folder; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			return "contains a control character";
	return NULL;
}
