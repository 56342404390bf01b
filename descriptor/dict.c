/*
 * dict.c - the `key = "value"` dictionary grammar of .vmx, .vmsd and the
 * VMDK disk database, parsed losslessly.
 *
 * Every line of the input is kept as its own bytes plus its line ending, so
 * writing an unedited dictionary gives the input back (trailing NUL padding
 * excepted) and an edit rewrites only the lines it touches.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "descriptor/private.h"

/*
 * Grammar (VMware's own dictionary reader, open-vm-tools lib/dict/dictll.c,
 * accepts the same lines; it silently keeps the ones we call errors):
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
 * Bytes are kept as they are (the file's .encoding says how to read them);
 * a NUL or a lone CR inside a line, a line over DESC_MAX_LINE bytes and an
 * input over DESC_MAX_INPUT bytes are errors.  Inside values, '|' followed
 * by two hex digits stands for that byte (`|22` is '"'); get() decodes,
 * get_raw() does not.  A '|' not followed by two hex digits is kept as it
 * is, as VMware does.
 */

/* The values are the ending's length in bytes (desc_dict_write adds them). */
enum dict_eol {
	EOL_NONE = 0, /* last line without a final newline */
	EOL_LF = 1,
	EOL_CRLF = 2,
};

struct dict_line {
	char *text;  /* the line without its ending, NUL-terminated */
	size_t len;
	enum dict_eol eol;
	char *key;   /* NULL for comments and blank lines */
	char *raw;   /* the value as written (between the quotes) */
	char *value; /* raw with |XX escapes decoded */
};

struct desc_dict {
	bool bom;
	struct dict_line *lines;
	size_t count;
	size_t capacity;
	/* Indexes into lines[] of the key lines, so the *_at accessors are
	 * O(1) and a scan over all entries stays linear. */
	size_t *entries;
	size_t nentries;
	size_t entries_capacity;
};

#define UTF8_BOM "\xef\xbb\xbf"
/* Duplicate-key findings listed one by one; a hostile file with a million
 * repeats gets one summary finding for the rest instead of a million. */
#define DUPLICATES_LISTED 100
/* How much of an offending line an error message quotes. */
#define QUOTE_MAX 60

static const char expected_line[] =
	"expected key = \"value\", a # comment or a blank line";

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static void line_free(struct dict_line *line)
{
	vk_free(line->text);
	vk_free(line->key);
	vk_free(line->raw);
	vk_free(line->value);
	memset(line, 0, sizeof(*line));
}

void desc_dict_free(desc_dict *dict)
{
	size_t i;

	if (dict == NULL)
		return;
	for (i = 0; i < dict->count; i++)
		line_free(&dict->lines[i]);
	vk_free(dict->lines);
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

static desc_status reserve_line(desc_dict *dict, desc_error *err)
{
	struct dict_line *grown;
	size_t capacity;

	if (dict->count < dict->capacity)
		return DESC_OK;
	capacity = dict->capacity ? dict->capacity * 2 : 32;
	grown = vk_reallocarray(dict->lines, capacity, sizeof(*grown));
	if (grown == NULL)
		return vk_nomem(err);
	dict->lines = grown;
	dict->capacity = capacity;
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
	size_t i;

	dict->nentries = 0;
	for (i = 0; i < dict->count; i++)
		if (dict->lines[i].key != NULL)
			dict->entries[dict->nentries++] = i;
}

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

/* Where the pieces of one classified line are (offsets into the line). */
struct line_parts {
	bool entry;
	size_t key_start, key_end;
	size_t value_start, value_end;
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
	if (i == n || s[i] == '#')
		return NULL; /* blank or comment */
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
	parts->entry = true;
	return NULL;
}

/* Error for line `lineno`, quoting the start of the line. */
static desc_status line_error(desc_error *err, desc_status code,
			      const char *name, unsigned lineno, size_t column,
			      const char *problem, const char *s, size_t n,
			      const char *expected)
{
	int shown = (int)(n > QUOTE_MAX ? QUOTE_MAX : n);

	desc_error_set(err, code, name, lineno, "%s in '%.*s%s' (%s)", problem,
		       shown, s, n > QUOTE_MAX ? "..." : "", expected);
	if (err != NULL)
		err->column = column > 0xffffffffu ? 0 : (unsigned)column;
	return code;
}

static desc_status add_line(desc_dict *dict, const char *s, size_t n,
			    enum dict_eol eol, const struct line_parts *parts,
			    desc_error *err)
{
	struct dict_line line;
	desc_status status;

	status = reserve_line(dict, err);
	if (status == DESC_OK && parts->entry)
		status = reserve_entry(dict, err);
	if (status != DESC_OK)
		return status;
	memset(&line, 0, sizeof(line));
	line.eol = eol;
	line.len = n;
	line.text = vk_malloc(n + 1);
	if (line.text == NULL)
		goto nomem;
	memcpy(line.text, s, n);
	line.text[n] = '\0';
	if (parts->entry) {
		line.key = vk_strndup(s + parts->key_start,
				      parts->key_end - parts->key_start);
		line.raw = vk_strndup(s + parts->value_start,
				      parts->value_end - parts->value_start);
		line.value = decode_value(s + parts->value_start,
					  parts->value_end - parts->value_start);
		if (line.key == NULL || line.raw == NULL || line.value == NULL)
			goto nomem;
	}
	if (parts->entry)
		dict->entries[dict->nentries++] = dict->count;
	dict->lines[dict->count++] = line;
	return DESC_OK;
nomem:
	line_free(&line);
	return vk_nomem(err);
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

	if (warnings == NULL || dict->count == 0)
		return DESC_OK;
	refs = vk_reallocarray(NULL, dict->count, sizeof(*refs));
	dups = vk_reallocarray(NULL, dict->count, sizeof(*dups));
	if (refs == NULL || dups == NULL) {
		status = vk_nomem(err);
		goto out;
	}
	for (i = 0; i < dict->count; i++) {
		if (dict->lines[i].key == NULL)
			continue;
		refs[n].key = dict->lines[i].key;
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
		const struct dict_line *line = &dict->lines[dups[i].index];

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
	desc_dict *dict = NULL;
	size_t pos = 0, end = len;
	unsigned lineno = 0;
	size_t first_warning = warnings ? warnings->count : 0;
	desc_status status;

	*out = NULL;
	if (text == NULL && len != 0)
		return desc_error_set(err, DESC_E_ARG, name, 0,
				      "missing text (expected a buffer)");
	if (len > DESC_MAX_INPUT)
		return desc_error_set(err, DESC_E_TOO_LARGE, name, 0,
				      "input too large (%zu bytes, expected at most %u)",
				      len, DESC_MAX_INPUT);
	/* Padding first, so the last real line keeps its (missing) ending. */
	while (end > 0 && text[end - 1] == '\0')
		end--;
	status = desc_dict_new(&dict, err);
	if (status != DESC_OK)
		return status;
	if (end >= 3 && memcmp(text, UTF8_BOM, 3) == 0) {
		dict->bom = true;
		pos = 3;
	}
	while (pos < end) {
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', end - pos);
		size_t n = nl ? (size_t)(nl - s) : end - pos;
		enum dict_eol eol = nl ? EOL_LF : EOL_NONE;
		struct line_parts parts;
		const char *problem, *bad;
		size_t column = 0;

		lineno++;
		pos += n + (nl ? 1 : 0);
		if (nl && n > 0 && s[n - 1] == '\r') {
			eol = EOL_CRLF;
			n--;
		}
		if (n > DESC_MAX_LINE) {
			status = desc_error_set(err, DESC_E_TOO_LARGE, name, lineno,
						"line too long (%zu bytes, expected at most %u)",
						n, DESC_MAX_LINE);
			goto fail;
		}
		bad = memchr(s, '\0', n);
		if (bad != NULL) {
			status = line_error(err, DESC_E_SYNTAX, name, lineno,
					    (size_t)(bad - s) + 1,
					    "nul byte inside the line", s,
					    (size_t)(bad - s),
					    "expected text; NUL only as padding at the end");
			goto fail;
		}
		bad = memchr(s, '\r', n);
		if (bad != NULL) {
			status = line_error(err, DESC_E_SYNTAX, name, lineno,
					    (size_t)(bad - s) + 1,
					    "stray carriage return", s,
					    (size_t)(bad - s),
					    "expected LF or CRLF line endings");
			goto fail;
		}
		/* A BOM after the start would become part of a key, and of
		 * the first key once the lines above it are removed: read
		 * back, that file loses it (found by fuzz_dict). */
		if (n >= 3 && memcmp(s, UTF8_BOM, 3) == 0) {
			status = line_error(err, DESC_E_SYNTAX, name, lineno, 1,
					    "byte order mark at the start of a line",
					    s, n,
					    "expected a BOM only at the start of the file");
			goto fail;
		}
		problem = classify_line(s, n, &parts, &column);
		if (problem != NULL) {
			status = line_error(err, DESC_E_SYNTAX, name, lineno,
					    column, problem, s, n, expected_line);
			goto fail;
		}
		status = add_line(dict, s, n, eol, &parts, err);
		if (status != DESC_OK)
			goto fail;
	}
	status = report_duplicates(dict, name, warnings, err);
	if (status != DESC_OK)
		goto fail;
	*out = dict;
	return DESC_OK;
fail:
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

/* Index of the last line with this key, or -1. */
static long find_last(const desc_dict *dict, const char *key)
{
	size_t i;

	if (dict == NULL || key == NULL)
		return -1;
	for (i = dict->count; i > 0; i--) {
		const struct dict_line *line = &dict->lines[i - 1];

		if (line->key != NULL && strcasecmp(line->key, key) == 0)
			return (long)(i - 1);
	}
	return -1;
}

const char *desc_dict_get(const desc_dict *dict, const char *key)
{
	long i = find_last(dict, key);

	return i < 0 ? NULL : dict->lines[i].value;
}

const char *desc_dict_get_raw(const desc_dict *dict, const char *key)
{
	long i = find_last(dict, key);

	return i < 0 ? NULL : dict->lines[i].raw;
}

/* The entry (key line) number `index`, or NULL. */
static const struct dict_line *entry_at(const desc_dict *dict, size_t index)
{
	if (dict == NULL || index >= dict->nentries)
		return NULL;
	return &dict->lines[dict->entries[index]];
}

size_t desc_dict_count(const desc_dict *dict)
{
	return dict ? dict->nentries : 0;
}

const char *desc_dict_key_at(const desc_dict *dict, size_t index)
{
	const struct dict_line *line = entry_at(dict, index);

	return line ? line->key : NULL;
}

const char *desc_dict_value_at(const desc_dict *dict, size_t index)
{
	const struct dict_line *line = entry_at(dict, index);

	return line ? line->value : NULL;
}

/* The line number in the text desc_dict_write would produce now (for an
 * unedited parse: the line number in the input). */
unsigned desc_dict_line_at(const desc_dict *dict, size_t index)
{
	const struct dict_line *line = entry_at(dict, index);

	return line ? (unsigned)(line - dict->lines) + 1 : 0;
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

/* The ending most lines use; LF for a file without any. */
static enum dict_eol dominant_eol(const desc_dict *dict)
{
	size_t i, lf = 0, crlf = 0;

	for (i = 0; i < dict->count; i++) {
		if (dict->lines[i].eol == EOL_LF)
			lf++;
		else if (dict->lines[i].eol == EOL_CRLF)
			crlf++;
	}
	return crlf > lf ? EOL_CRLF : EOL_LF;
}

desc_status desc_dict_set(desc_dict *dict, const char *key, const char *value,
			  desc_error *err)
{
	struct dict_line fresh;
	char *encoded = NULL;
	long found;
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
	memset(&fresh, 0, sizeof(fresh));
	found = find_last(dict, key);
	/* Rewritten lines keep the key as the file spells it. */
	fresh.key = vk_strdup(found >= 0 ? dict->lines[found].key : key);
	fresh.value = vk_strdup(value);
	if (fresh.key == NULL || fresh.value == NULL)
		goto nomem;
	fresh.text = vk_asprintf("%s = \"%s\"", fresh.key, encoded);
	if (fresh.text == NULL)
		goto nomem;
	fresh.len = strlen(fresh.text);
	fresh.raw = encoded;
	encoded = NULL;
	if (found >= 0) {
		fresh.eol = dict->lines[found].eol;
		line_free(&dict->lines[found]);
		dict->lines[found] = fresh;
		return DESC_OK;
	}
	status = reserve_line(dict, err);
	if (status == DESC_OK)
		status = reserve_entry(dict, err);
	if (status != DESC_OK) {
		line_free(&fresh);
		return status;
	}
	fresh.eol = dominant_eol(dict);
	/* A file without a final newline gets one before the new line. */
	if (dict->count > 0 && dict->lines[dict->count - 1].eol == EOL_NONE)
		dict->lines[dict->count - 1].eol = fresh.eol;
	dict->entries[dict->nentries++] = dict->count;
	dict->lines[dict->count++] = fresh;
	return DESC_OK;
nomem:
	vk_free(encoded);
	line_free(&fresh);
	return vk_nomem(err);
}

size_t desc_dict_unset(desc_dict *dict, const char *key)
{
	size_t i, kept = 0, removed = 0;

	if (dict == NULL || key == NULL)
		return 0;
	for (i = 0; i < dict->count; i++) {
		struct dict_line *line = &dict->lines[i];

		if (line->key != NULL && strcasecmp(line->key, key) == 0) {
			line_free(line);
			removed++;
			continue;
		}
		dict->lines[kept++] = *line;
	}
	dict->count = kept;
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
	unsigned long long total = 0;
	size_t i, pos = 0;
	char *buf;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	if (dict == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "missing dictionary");
	if (dict->bom)
		total = 3;
	for (i = 0; i < dict->count; i++) {
		const struct dict_line *line = &dict->lines[i];

		if (!vk_add_u64(total, line->len, &total) ||
		    !vk_add_u64(total, (unsigned long long)line->eol, &total))
			return desc_error_set(err, DESC_E_TOO_LARGE, NULL, 0,
					      "dictionary too large to write");
	}
	if (total >= (unsigned long long)SIZE_MAX)
		return desc_error_set(err, DESC_E_TOO_LARGE, NULL, 0,
				      "dictionary too large to write");
	buf = vk_malloc((size_t)total + 1);
	if (buf == NULL)
		return vk_nomem(err);
	if (dict->bom) {
		memcpy(buf, UTF8_BOM, 3);
		pos = 3;
	}
	for (i = 0; i < dict->count; i++) {
		const struct dict_line *line = &dict->lines[i];

		memcpy(buf + pos, line->text, line->len);
		pos += line->len;
		if (line->eol == EOL_CRLF)
			buf[pos++] = '\r';
		if (line->eol != EOL_NONE)
			buf[pos++] = '\n';
	}
	buf[pos] = '\0';
	*out = buf;
	if (len != NULL)
		*len = pos;
	return DESC_OK;
}
