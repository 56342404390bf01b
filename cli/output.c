/* output.c - the report tree and its three writers (text, YAML, JSON). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <yaml.h>

#include "cli/cli.h"
#include "cli/output.h"
#include "descriptor/banned.h"

struct out_node {
	enum out_kind kind;
	char *key;      /* set when the parent is a map */
	char *str;      /* OUT_STRING */
	uint64_t num;   /* OUT_UINT */
	bool flag;      /* OUT_BOOL */
	out_node *first, *last, *next;
};

static out_node *node_new(enum out_kind kind)
{
	out_node *node = xcalloc(1, sizeof(*node));

	node->kind = kind;
	return node;
}

out_node *out_new_map(void)
{
	return node_new(OUT_MAP);
}

out_node *out_new_list(void)
{
	return node_new(OUT_LIST);
}

void out_free(out_node *node)
{
	while (node != NULL) {
		out_node *next = node->next;

		out_free(node->first);
		free(node->key);
		free(node->str);
		free(node);
		node = next;
	}
}

/* Appends child to parent; a map child needs a key, a list child none. */
static out_node *attach(out_node *parent, const char *key, out_node *child)
{
	if (parent->kind == OUT_MAP) {
		child->key = xstrdup(key != NULL ? key : "");
	}
	if (parent->last != NULL)
		parent->last->next = child;
	else
		parent->first = child;
	parent->last = child;
	return child;
}

out_node *out_add_map(out_node *parent, const char *key)
{
	return attach(parent, key, node_new(OUT_MAP));
}

out_node *out_add_list(out_node *parent, const char *key)
{
	return attach(parent, key, node_new(OUT_LIST));
}

void out_add_str(out_node *parent, const char *key, const char *value)
{
	out_node *node;

	if (value == NULL) {
		out_add_null(parent, key);
		return;
	}
	node = node_new(OUT_STRING);
	node->str = xstrdup(value);
	attach(parent, key, node);
}

void out_add_strf(out_node *parent, const char *key, const char *fmt, ...)
{
	out_node *node = node_new(OUT_STRING);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&node->str, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fputs("vmdkit: out of memory\n", stderr);
		exit(EXIT_SYSTEM);
	}
	attach(parent, key, node);
}

void out_add_uint(out_node *parent, const char *key, uint64_t value)
{
	out_node *node = node_new(OUT_UINT);

	node->num = value;
	attach(parent, key, node);
}

void out_add_bool(out_node *parent, const char *key, bool value)
{
	out_node *node = node_new(OUT_BOOL);

	node->flag = value;
	attach(parent, key, node);
}

void out_add_null(out_node *parent, const char *key)
{
	attach(parent, key, node_new(OUT_NULL));
}

out_node *out_find(const out_node *map, const char *key)
{
	for (out_node *c = map->first; c != NULL; c = c->next)
		if (c->key != NULL && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

out_node *out_first(const out_node *node)
{
	return node != NULL ? node->first : NULL;
}

out_node *out_next(const out_node *node)
{
	return node->next;
}

static bool is_scalar(const out_node *node)
{
	return node->kind != OUT_MAP && node->kind != OUT_LIST;
}

/* ------------------------------------------------------------------ */
/* Text: aligned "key: value" lines, nested blocks indented by two.     */
/* ------------------------------------------------------------------ */

struct text_out {
	FILE *fp;
	bool dash; /* the next line opens a list item */
};

static void text_indent(struct text_out *t, int indent)
{
	if (t->dash) {
		fprintf(t->fp, "%*s- ", indent - 2, "");
		t->dash = false;
	} else {
		fprintf(t->fp, "%*s", indent, "");
	}
}

static void text_scalar(struct text_out *t, const out_node *node)
{
	switch (node->kind) {
	case OUT_STRING:
		fputs(node->str, t->fp);
		break;
	case OUT_UINT:
		fprintf(t->fp, "%llu", (unsigned long long)node->num);
		break;
	case OUT_BOOL:
		fputs(node->flag ? "yes" : "no", t->fp);
		break;
	case OUT_NULL:
		fputs("(none)", t->fp);
		break;
	case OUT_MAP:
	case OUT_LIST:
		fputs("(none)", t->fp); /* only empty containers get here */
		break;
	}
}

static void text_node(struct text_out *t, const out_node *node, int indent);

static void text_map(struct text_out *t, const out_node *map, int indent)
{
	int width = 0;

	for (const out_node *c = map->first; c != NULL; c = c->next) {
		int len = (int)strlen(c->key);

		if ((is_scalar(c) || c->first == NULL) && len > width)
			width = len;
	}
	for (const out_node *c = map->first; c != NULL; c = c->next) {
		text_indent(t, indent);
		if (is_scalar(c) || c->first == NULL) {
			fprintf(t->fp, "%s:%*s ", c->key,
				width - (int)strlen(c->key), "");
			text_scalar(t, c);
			fputc('\n', t->fp);
		} else {
			fprintf(t->fp, "%s:\n", c->key);
			text_node(t, c, indent + 2);
		}
	}
}

static void text_list(struct text_out *t, const out_node *list, int indent)
{
	for (const out_node *c = list->first; c != NULL; c = c->next) {
		if (is_scalar(c) || c->first == NULL) {
			text_indent(t, indent);
			fputs("- ", t->fp);
			text_scalar(t, c);
			fputc('\n', t->fp);
		} else {
			t->dash = true;
			text_node(t, c, indent + 2);
		}
	}
}

static void text_node(struct text_out *t, const out_node *node, int indent)
{
	if (node->kind == OUT_MAP) {
		text_map(t, node, indent);
	} else if (node->kind == OUT_LIST) {
		text_list(t, node, indent);
	} else {
		text_indent(t, indent);
		text_scalar(t, node);
		fputc('\n', t->fp);
	}
}

/* ------------------------------------------------------------------ */
/* UTF-8 repair: YAML and JSON must be valid UTF-8, descriptors need    */
/* not be (windows-1252, Shift_JIS headers).  Bad bytes become U+FFFD.  */
/* ------------------------------------------------------------------ */

static size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t need;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (avail < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return need;
}

/* Returns a valid UTF-8 copy of s (caller frees). */
static char *utf8_repair(const char *s)
{
	size_t len = strlen(s);
	char *out = xmalloc(len * 3 + 1);
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);

		if (n == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------------ */
/* YAML                                                                */
/* ------------------------------------------------------------------ */

/* A plain scalar a YAML reader would take for a number, bool or null
 * must be quoted to stay a string. */
static bool yaml_needs_quotes(const char *s)
{
	static const char *const special[] = {
		"~", "null", "true", "false", "yes", "no", "on", "off", "y",
		"n", ".inf", "-.inf", "+.inf", ".nan",
	};

	if (s[0] == '\0')
		return true;
	if ((s[0] >= '0' && s[0] <= '9') ||
	    ((s[0] == '-' || s[0] == '+' || s[0] == '.') && s[1] >= '0' &&
	     s[1] <= '9'))
		return true;
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (strcasecmp(s, special[i]) == 0)
			return true;
	return false;
}

static bool yaml_scalar(yaml_emitter_t *em, const char *value,
			yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)value,
					  (int)strlen(value), 1, 1, style))
		return false;
	return yaml_emitter_emit(em, &ev) != 0;
}

static bool yaml_string(yaml_emitter_t *em, const char *value)
{
	char *fixed = utf8_repair(value);
	bool ok = yaml_scalar(em, fixed,
			      yaml_needs_quotes(fixed) ?
				      YAML_DOUBLE_QUOTED_SCALAR_STYLE :
				      YAML_ANY_SCALAR_STYLE);

	free(fixed);
	return ok;
}

static bool yaml_node(yaml_emitter_t *em, const out_node *node)
{
	yaml_event_t ev;
	char num[32];

	switch (node->kind) {
	case OUT_MAP:
		if (!yaml_mapping_start_event_initialize(
			    &ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return false;
		for (const out_node *c = node->first; c != NULL; c = c->next)
			if (!yaml_string(em, c->key) || !yaml_node(em, c))
				return false;
		return yaml_mapping_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	case OUT_LIST:
		if (!yaml_sequence_start_event_initialize(
			    &ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
		    !yaml_emitter_emit(em, &ev))
			return false;
		for (const out_node *c = node->first; c != NULL; c = c->next)
			if (!yaml_node(em, c))
				return false;
		return yaml_sequence_end_event_initialize(&ev) &&
		       yaml_emitter_emit(em, &ev);
	case OUT_STRING:
		return yaml_string(em, node->str);
	case OUT_UINT:
		snprintf(num, sizeof(num), "%llu",
			 (unsigned long long)node->num);
		return yaml_scalar(em, num, YAML_PLAIN_SCALAR_STYLE);
	case OUT_BOOL:
		return yaml_scalar(em, node->flag ? "true" : "false",
				   YAML_PLAIN_SCALAR_STYLE);
	case OUT_NULL:
		return yaml_scalar(em, "null", YAML_PLAIN_SCALAR_STYLE);
	}
	return false;
}

static bool yaml_emit(FILE *fp, const out_node *root)
{
	yaml_emitter_t em;
	yaml_event_t ev;
	bool ok = false;

	if (!yaml_emitter_initialize(&em))
		return false;
	yaml_emitter_set_output_file(&em, fp);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1); /* never fold long values */
	yaml_emitter_set_indent(&em, 2);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_node(&em, root))
		goto out;
	if (!yaml_document_end_event_initialize(&ev, 1) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	if (!yaml_stream_end_event_initialize(&ev) ||
	    !yaml_emitter_emit(&em, &ev))
		goto out;
	ok = yaml_emitter_flush(&em) != 0;
out:
	if (!ok && em.problem != NULL)
		cli_warn("cannot write YAML: %s", em.problem);
	yaml_emitter_delete(&em);
	return ok;
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static struct json_object *json_checked(struct json_object *obj)
{
	if (obj == NULL) {
		fputs("vmdkit: out of memory\n", stderr);
		exit(EXIT_SYSTEM);
	}
	return obj;
}

static struct json_object *json_node(const out_node *node)
{
	struct json_object *obj = NULL;
	char *fixed;

	switch (node->kind) {
	case OUT_MAP:
		obj = json_checked(json_object_new_object());
		for (const out_node *c = node->first; c != NULL; c = c->next) {
			fixed = utf8_repair(c->key);
			json_object_object_add(obj, fixed, json_node(c));
			free(fixed);
		}
		break;
	case OUT_LIST:
		obj = json_checked(json_object_new_array());
		for (const out_node *c = node->first; c != NULL; c = c->next)
			json_object_array_add(obj, json_node(c));
		break;
	case OUT_STRING:
		fixed = utf8_repair(node->str);
		obj = json_checked(json_object_new_string(fixed));
		free(fixed);
		break;
	case OUT_UINT:
		obj = json_checked(json_object_new_uint64(node->num));
		break;
	case OUT_BOOL:
		obj = json_checked(json_object_new_boolean(node->flag));
		break;
	case OUT_NULL:
		obj = NULL; /* json-c's null */
		break;
	}
	return obj;
}

static bool json_emit(FILE *fp, const out_node *root)
{
	struct json_object *obj = json_node(root);
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			     JSON_C_TO_STRING_NOSLASHESCAPE);
	bool ok = text != NULL && fputs(text, fp) != EOF &&
		  fputc('\n', fp) != EOF;

	json_object_put(obj);
	return ok;
}

bool out_emit(FILE *fp, const out_node *root, enum out_format format)
{
	struct text_out t = { fp, false };

	switch (format) {
	case OUT_TEXT:
		text_node(&t, root, 0);
		return !ferror(fp);
	case OUT_YAML:
		return yaml_emit(fp, root);
	case OUT_JSON:
		return json_emit(fp, root);
	}
	return false;
}

int cli_finish_output(out_node *root, enum out_format format, int rc)
{
	if ((root != NULL && !out_emit(stdout, root, format)) ||
	    fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
	out_free(root);
	return rc;
}
