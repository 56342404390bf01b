/*
 * dict.c - the `key = "value"` dictionary grammar of .vmx, .vmsd and the
 * VMDK disk database, parsed losslessly.
 *
 * The bytes come normalised from the shared reader (reader.c) and the
 * lines are kept in the shared line model (lines.c), so writing an
 * unedited dictionary gives the input back (trailing NUL padding
 * excepted) and an edit rewrites only the lines it touches.  What is the
 * dictionary's own: the grammar, VMware's |XX escapes, the index of
 * entries and the duplicate-key findings.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "descriptor/lines.h"
#include "descriptor/reader.h"
#include "descriptor/private.h"

struct desc_dict {
	struct lines lines;
	/* Indexes into lines.at[] of the entries, so the *_at accessors
	 * are O(1) and a scan over all entries stays linear. */
	size_t *entries;
	size_t nentries;
	size_t entries_capacity;
};

/* Duplicate-key findings listed one by one; a hostile file with a million
 * repeats gets one summary finding for the rest instead of a million. */
#define DUPLICATES_LISTED 100

static const char expected_line[] =
	"expected key = \"value\", a # comment or a blank line";

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

void desc_dict_free(desc_dict *dict)
{
	if (dict == NULL)
		return;
	lines_free(&dict->lines);
	vk_free(dict->entries);
	vk_free(dict);
}

desc_status desc_dict_new(desc_dict **out, desc_error *err)
{
	*out = vk_calloc(1, sizeof(**out));
	if (*out == NULL)
		return vk_nomem(err);
	return DESC_OK;
}

/* Room for one more entry index (so appending cannot fail later). */
static desc_status reserve_entry(desc_dict *dict, desc_error *err)
{
	size_t *grown;
	size_t capacity;

	if (dict->nentries < dict->entries_capacity)
		return DESC_OK;
	capacity = dict->entries_capacity ? dict->entries_capacity * 2 : 32;
	grown = vk_reallocarray(dict->entries, capacity, sizeof(*grown));
	if (grown == NULL)
		return vk_nomem(err);
	dict->entries = grown;
	dict->entries_capacity = capacity;
	return DESC_OK;
}

/* Rebuilds the entry index in place (entries never grow here). */
static void reindex(desc_dict *dict)
{
	dict->nentries = 0;
	for (size_t i = 0; i < dict->lines.count; i++)
		if (dict->lines.at[i].kind == LINE_ENTRY)
			dict->entries[dict->nentries++] = i;
}

/* ------------------------------------------------------------------ */
/* VMware's |XX escapes                                                */
/* ------------------------------------------------------------------ */

/* Decodes VMware's |XX escapes; NULL on allocation failure. */
static char *decode_value(const char *raw, size_t len)
{
	char *out = vk_malloc(len + 1);
	size_t i, o = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		int hi, lo;

		if (raw[i] == '|' && i + 2 < len) {
			hi = vk_hex_digit((unsigned char)raw[i + 1]);
			lo = vk_hex_digit((unsigned char)raw[i + 2]);
			if (hi >= 0 && lo >= 0) {
				out[o++] = (char)(hi * 16 + lo);
				i += 2;
				continue;
			}
		}
		out[o++] = raw[i];
	}
	out[o] = '\0';
	return out;
}

/*
 * Which bytes set() escapes: the set VMware's writer uses
 * (DictLL_MarshalLine in open-vm-tools): '"', '|', DEL and every control
 * byte except tab.  '#' is not escaped by VMware's writer (inside quotes it
 * is not a comment), although some values arrive pre-escaped (the corpus
 * has unity.customColor = "|23C0C0C0"); we follow the writer.  Bytes
 * 0x80-0xff stay as they are so UTF-8 and local code pages read normally.
 */
static bool needs_escape(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == '"' || c == '|' || c == 0x7f;
}

desc_status desc_dict_encode_value(const char *value, char **out,
				   desc_error *err)
{
	size_t i, n = 0, len;
	char *buf;

	*out = NULL;
	if (value == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing value (expected a string)");
	len = strlen(value);
	for (i = 0; i < len; i++)
		n += needs_escape((unsigned char)value[i]) ? 3 : 1;
	buf = vk_malloc(n + 1);
	if (buf == NULL)
		return vk_nomem(err);
	n = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		char hex[3];

		if (needs_escape(c)) {
			/* VMware writes the digits in uppercase. */
			vk_hex_encode_upper(&c, 1, hex);
			buf[n++] = '|';
			buf[n++] = hex[0];
			buf[n++] = hex[1];
		} else {
			buf[n++] = (char)c;
		}
	}
	buf[n] = '\0';
	*out = buf;
	return DESC_OK;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

/*
 * Grammar, one line at a time (VMware's own dictionary reader,
 * open-vm-tools lib/dict/dictll.c, accepts the same lines; it silently
 * keeps the ones we call errors):
 *
 *   file     := [BOM] line* [NUL padding]
 *   line     := ws* [ entry ws* ] [ comment ] EOL
 *   entry    := key ws* '=' ws* value
 *   key      := one or more bytes other than ws, '=', '#'
 *   value    := '"' qbyte* '"'        qbyte: any byte but '"'
 *             | bbyte*                bbyte: any byte but ws and '#'
 *                                     (empty: `key =` means "")
 *   comment  := '#' byte*             (so "#!/usr/bin/vmware" is one)
 *   ws       := ' ' | '\t'
 *   EOL      := "\n" | "\r\n" | end of input (missing final newline)
 *
 * The reader (dictionary_rules below) has already taken off the BOM, the
 * NUL padding and the line endings, and refused an input over
 * DESC_MAX_INPUT bytes, a line over DESC_MAX_LINE bytes, a NUL or a lone
 * CR inside a line, and a BOM starting any line.  What is left for the
 * parser, with its errors (quoting the line, with a column):
 *
 *   key missing before '='           "missing key before '='"
 *   no '=' after the key             "missing '=' after the key"
 *   '"' without its closing '"'      "unterminated quoted value"
 *   anything but ws or a comment
 *   after the value                  "unexpected text after the value"
 *
 * Bytes are kept as they are (the file's .encoding says how to read
 * them).  Inside values, '|' followed by two hex digits stands for that
 * byte (`|22` is '"'); get() decodes, get_raw() does not.  A '|' not
 * followed by two hex digits is kept as it is, as VMware does.
 */

/* A .vmx is the dictionary as VMware writes it: NULs only as padding at
 * the end, LF or CRLF endings, a BOM only at the very start (inside the
 * text it would become part of a key, and of the first key once the
 * lines above it are removed: read back, that file loses it).  A last
 * line of spaces is content. */
static const struct reader_rules dictionary_rules = {
	.blank_padding = false,
	.stale_after_nul = false,
	.max_lines = 0,
	.refuse_lone_cr = true,
	.refuse_inner_bom = true,
	.messages = READER_MESSAGES_DICTIONARY,
};

/* Where the pieces of one classified line are (offsets into the line). */
struct line_parts {
	enum line_kind kind;  /* LINE_BLANK, LINE_COMMENT or LINE_ENTRY */
	size_t key_start, key_end;
	size_t value_start, value_end; /* quotes excluded */
	bool quoted;
};

/*
 * Classifies one line (without its ending).  On a syntax error returns the
 * problem and sets *column (1-based) to where it was found.
 */
static const char *classify_line(const char *s, size_t n,
				 struct line_parts *parts, size_t *column)
{
	size_t i = 0;
	const char *quote;

	memset(parts, 0, sizeof(*parts));
	while (i < n && is_ws(s[i]))
		i++;
	if (i == n) {
		parts->kind = LINE_BLANK;
		return NULL;
	}
	if (s[i] == '#') {
		parts->kind = LINE_COMMENT;
		return NULL;
	}
	parts->key_start = i;
	while (i < n && !is_ws(s[i]) && s[i] != '=' && s[i] != '#')
		i++;
	parts->key_end = i;
	if (parts->key_start == parts->key_end) {
		*column = i + 1;
		return "missing key before '='";
	}
	while (i < n && is_ws(s[i]))
		i++;
	if (i == n || s[i] != '=') {
		*column = i + 1;
		return "missing '=' after the key";
	}
	i++;
	while (i < n && is_ws(s[i]))
		i++;
	if (i < n && s[i] == '"') {
		quote = memchr(s + i + 1, '"', n - i - 1);
		if (quote == NULL) {
			*column = i + 1;
			return "unterminated quoted value";
		}
		parts->quoted = true;
		parts->value_start = i + 1;
		parts->value_end = (size_t)(quote - s);
		i = parts->value_end + 1;
	} else {
		parts->value_start = i;
		while (i < n && !is_ws(s[i]) && s[i] != '#')
			i++;
		parts->value_end = i;
	}
	while (i < n && is_ws(s[i]))
		i++;
	if (i < n && s[i] != '#') {
		*column = i + 1;
		return "unexpected text after the value";
	}
	parts->kind = LINE_ENTRY;
	return NULL;
}

/* Keeps the reader's current line, classified as parts says. */
static desc_status add_line(desc_dict *dict, const struct reader *r,
			    const struct line_parts *parts, desc_error *err)
{
	const char *s = r->line;
	size_t value_len = parts->value_end - parts->value_start;
	struct line *line;

	if (!lines_reserve(&dict->lines, 1))
		return vk_nomem(err);
	if (parts->kind == LINE_ENTRY && reserve_entry(dict, err) != DESC_OK)
		return DESC_E_NOMEM;
	line = lines_add_read(&dict->lines, r);
	line->kind = parts->kind;
	if (parts->kind != LINE_ENTRY)
		return DESC_OK;
	line->key_off = parts->key_start;
	line->key_end = parts->key_end;
	line->value_off = parts->value_start - parts->quoted;
	line->value_end = parts->value_end + parts->quoted;
	line->quoted = parts->quoted;
	line->key = vk_strndup(s + parts->key_start,
			       parts->key_end - parts->key_start);
	line->raw = vk_strndup(s + parts->value_start, value_len);
	line->value = decode_value(s + parts->value_start, value_len);
	if (line->key == NULL || line->raw == NULL || line->value == NULL)
		return vk_nomem(err);
	dict->entries[dict->nentries++] = dict->lines.count - 1;
	return DESC_OK;
}

/* Sort helpers for finding duplicate keys in O(n log n). */
struct key_ref {
	const char *key;
	size_t index;
};

static int compare_key_ref(const void *a, const void *b)
{
	const struct key_ref *x = a, *y = b;
	int c = strcasecmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

struct dup_ref {
	size_t index;  /* the later line */
	size_t first;  /* the earlier line with the same key */
};

static int compare_dup_ref(const void *a, const void *b)
{
	const struct dup_ref *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static desc_status report_duplicates(const desc_dict *dict, const char *name,
				     desc_findings *warnings, desc_error *err)
{
	struct key_ref *refs = NULL;
	struct dup_ref *dups = NULL;
	size_t i, n = 0, ndup = 0;
	desc_status status = DESC_OK;

	if (warnings == NULL || dict->lines.count == 0)
		return DESC_OK;
	refs = vk_reallocarray(NULL, dict->lines.count, sizeof(*refs));
	dups = vk_reallocarray(NULL, dict->lines.count, sizeof(*dups));
	if (refs == NULL || dups == NULL) {
		status = vk_nomem(err);
		goto out;
	}
	for (i = 0; i < dict->lines.count; i++) {
		if (dict->lines.at[i].key == NULL)
			continue;
		refs[n].key = dict->lines.at[i].key;
		refs[n].index = i;
		n++;
	}
	qsort(refs, n, sizeof(*refs), compare_key_ref);
	for (i = 1; i < n; i++) {
		if (strcasecmp(refs[i - 1].key, refs[i].key) != 0)
			continue;
		dups[ndup].index = refs[i].index;
		dups[ndup].first = refs[i - 1].index;
		ndup++;
	}
	qsort(dups, ndup, sizeof(*dups), compare_dup_ref);
	for (i = 0; i < ndup && i < DUPLICATES_LISTED; i++) {
		const struct line *line = &dict->lines.at[dups[i].index];

		status = desc_findings_add(
			warnings, DESC_SEV_WARNING, "duplicate-key", name,
			(unsigned)(dups[i].index + 1),
			"duplicate key '%s' (also on line %zu; the last one wins)",
			line->key, dups[i].first + 1);
		if (status != DESC_OK) {
			vk_nomem(err);
			goto out;
		}
	}
	if (ndup > DUPLICATES_LISTED) {
		status = desc_findings_add(
			warnings, DESC_SEV_WARNING, "duplicate-key", name, 0,
			"%zu more duplicate keys not listed (first %u listed)",
			ndup - DUPLICATES_LISTED, DUPLICATES_LISTED);
		if (status != DESC_OK)
			vk_nomem(err);
	}
out:
	vk_free(refs);
	vk_free(dups);
	return status;
}

desc_status desc_dict_parse(const char *text, size_t len, const char *name,
			    desc_dict **out, desc_findings *warnings,
			    desc_error *err)
{
	struct reader r;
	desc_dict *dict = NULL;
	size_t first_warning = warnings ? warnings->count : 0;
	desc_status status;

	*out = NULL;
	status = reader_open(&r, &dictionary_rules, text, len, name, err);
	if (status != DESC_OK)
		return status;
	status = desc_dict_new(&dict, err);
	if (status != DESC_OK)
		goto fail;
	while (reader_next(&r)) {
		struct line_parts parts;
		const char *problem;
		size_t column = 0;

		status = reader_check_line(&r);
		if (status != DESC_OK)
			goto fail;
		problem = classify_line(r.line, r.line_len, &parts, &column);
		if (problem != NULL) {
			status = reader_line_error(&r, DESC_E_SYNTAX, column,
						   problem, r.line_len,
						   expected_line);
			goto fail;
		}
		status = add_line(dict, &r, &parts, err);
		if (status != DESC_OK)
			goto fail;
	}
	lines_keep(&dict->lines, &r);
	reader_close(&r);
	status = report_duplicates(dict, name, warnings, err);
	if (status != DESC_OK)
		goto fail;
	*out = dict;
	return DESC_OK;
fail:
	reader_close(&r);
	desc_dict_free(dict);
	/* Nothing half-done stays behind: drop warnings added by this call. */
	if (warnings != NULL) {
		while (warnings->count > first_warning) {
			desc_finding *f = &warnings->items[--warnings->count];

			vk_free(f->file);
			vk_free(f->message);
		}
	}
	return status;
}

/* ------------------------------------------------------------------ */
/* Lookup                                                              */
/* ------------------------------------------------------------------ */

/* The last line with this key, or NULL. */
static const struct line *find_last(const desc_dict *dict, const char *key)
{
	ptrdiff_t i;

	if (dict == NULL || key == NULL)
		return NULL;
	i = lines_find_last(&dict->lines, LINE_ENTRY, key);
	return i < 0 ? NULL : &dict->lines.at[i];
}

const char *desc_dict_get(const desc_dict *dict, const char *key)
{
	const struct line *line = find_last(dict, key);

	return line ? line->value : NULL;
}

const char *desc_dict_get_raw(const desc_dict *dict, const char *key)
{
	const struct line *line = find_last(dict, key);

	return line ? line->raw : NULL;
}

/* The entry (key line) number `index`, or NULL. */
static const struct line *entry_at(const desc_dict *dict, size_t index)
{
	if (dict == NULL || index >= dict->nentries)
		return NULL;
	return &dict->lines.at[dict->entries[index]];
}

size_t desc_dict_count(const desc_dict *dict)
{
	return dict ? dict->nentries : 0;
}

const char *desc_dict_key_at(const desc_dict *dict, size_t index)
{
	const struct line *line = entry_at(dict, index);

	return line ? line->key : NULL;
}

const char *desc_dict_value_at(const desc_dict *dict, size_t index)
{
	const struct line *line = entry_at(dict, index);

	return line ? line->value : NULL;
}

/* The line number in the text desc_dict_write would produce now (for an
 * unedited parse: the line number in the input). */
unsigned desc_dict_line_at(const desc_dict *dict, size_t index)
{
	const struct line *line = entry_at(dict, index);

	return line ? (unsigned)(line - dict->lines.at) + 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Editing                                                             */
/* ------------------------------------------------------------------ */

static bool key_valid(const char *key)
{
	const unsigned char *p = (const unsigned char *)key;

	if (*p == '\0')
		return false;
	/* Written first in a file, a key starting with a UTF-8 BOM would
	 * read back without it (found by fuzz_dict). */
	if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return false;
	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ' ' || *p == '=' ||
		    *p == '#' || *p == '"')
			return false;
	return true;
}

desc_status desc_dict_set(desc_dict *dict, const char *key, const char *value,
			  desc_error *err)
{
	struct line fresh;
	char *encoded = NULL, *spelling, *copy, *text;
	ptrdiff_t found;
	desc_status status;

	if (dict == NULL || key == NULL || value == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing dictionary, key or value");
	if (!key_valid(key))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "invalid key '%s' (expected no spaces, control bytes, '=', '#' or '\"')",
				      key);
	status = desc_dict_encode_value(value, &encoded, err);
	if (status != DESC_OK)
		return status;
	found = lines_find_last(&dict->lines, LINE_ENTRY, key);
	/* Rewritten lines keep the key as the file spells it. */
	spelling = vk_strdup(found >= 0 ? dict->lines.at[found].key : key);
	copy = vk_strdup(value);
	text = spelling ? vk_asprintf("%s = \"%s\"", spelling, encoded) : NULL;
	if (spelling == NULL || copy == NULL || text == NULL) {
		vk_free(encoded);
		vk_free(spelling);
		vk_free(copy);
		vk_free(text);
		return vk_nomem(err);
	}
	line_init_edited(&fresh, LINE_ENTRY, text, strlen(text));
	fresh.key = spelling;
	fresh.key_end = strlen(spelling);
	fresh.value = copy;
	fresh.raw = encoded;
	fresh.quoted = true;
	fresh.value_off = fresh.key_end + 3;
	fresh.value_end = fresh.len;
	if (found >= 0) {
		lines_replace(&dict->lines, (size_t)found, &fresh);
		return DESC_OK;
	}
	if (!lines_reserve(&dict->lines, 1) ||
	    reserve_entry(dict, err) != DESC_OK) {
		line_clear(&fresh);
		return vk_nomem(err);
	}
	dict->entries[dict->nentries++] = dict->lines.count;
	lines_insert(&dict->lines, dict->lines.count, &fresh);
	return DESC_OK;
}

size_t desc_dict_unset(desc_dict *dict, const char *key)
{
	size_t removed;

	if (dict == NULL || key == NULL)
		return 0;
	removed = lines_remove_key(&dict->lines, LINE_ENTRY, key);
	if (removed > 0)
		reindex(dict);
	return removed;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

desc_status desc_dict_write(const desc_dict *dict, char **out, size_t *len,
			    desc_error *err)
{
	desc_status status;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (dict == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing dictionary");
	status = lines_write(&dict->lines, out, len);
	if (status == DESC_E_NOMEM)
		return vk_nomem(err);
	if (status != DESC_OK)
		return desc_error_set(err, status, NULL, 0,
				      "dictionary too large to write");
	return DESC_OK;
}
