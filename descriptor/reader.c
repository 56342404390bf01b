/*
 * reader.c - the one reader under the descriptor and dictionary
 * grammars: bytes normalised once (size cap, BOM, NUL padding, line
 * endings, a missing final newline, line caps), then handed out line by
 * line.  See reader.h for what each grammar's rules change.
 */
#include "config.h"

#include <string.h>

#include "descriptor/reader.h"
#include "descriptor/private.h"

#define UTF8_BOM "\xef\xbb\xbf"
/* How much of an offending line reader_line_error quotes. */
#define QUOTE_MAX 60

static bool dictionary_words(const struct reader *r)
{
	return r->rules->messages == READER_MESSAGES_DICTIONARY;
}

static desc_status reader_nomem(const struct reader *r)
{
	if (dictionary_words(r))
		return vk_nomem(r->err);
	return vk_nomem_at(r->err, r->name, 0);
}

/* A run of spaces and NULs on a last line of its own is padding (an
 * area filled by hand or by a tool); spaces that end a real line are
 * content. */
static size_t without_blank_padding(const char *text, size_t end)
{
	size_t trimmed = end;

	while (trimmed > 0 && (text[trimmed - 1] == ' ' || text[trimmed - 1] == '\0'))
		trimmed--;
	if (trimmed == 0 || text[trimmed - 1] == '\n')
		return trimmed;
	return end;
}

/* See reader_rules.stale_after_nul. */
static void cut_stale(struct reader *r)
{
	const char *nul = memchr(r->text, '\0', r->len);
	size_t at;

	if (nul == NULL)
		return;
	at = (size_t)(nul - r->text);
	if ((at > 0 && r->text[at - 1] != '\n') || r->len - at - 1 > READER_MAX_STALE)
		return;
	r->stale = r->len - at - 1;
	r->stale_line = 1;
	for (size_t i = 0; i < at; i++)
		if (r->text[i] == '\n')
			r->stale_line++;
	r->len = at;
}

desc_status reader_open(struct reader *r, const struct reader_rules *rules,
			const char *text, size_t len, const char *name,
			desc_error *err)
{
	size_t end;

	memset(r, 0, sizeof(*r));
	r->rules = rules;
	r->name = name;
	r->err = err;
	if (text == NULL && len != 0) {
		if (dictionary_words(r))
			return desc_error_set(err, DESC_E_ARG, name, 0,
					      "missing text (expected a buffer)");
		return desc_error_set(err, DESC_E_ARG, name, 0,
				      "no text to parse");
	}
	if (len > DESC_MAX_INPUT) {
		if (dictionary_words(r))
			return desc_error_set(err, DESC_E_TOO_LARGE, name, 0,
					      "input too large (%zu bytes, expected at most %u)",
					      len, DESC_MAX_INPUT);
		return desc_error_set(err, DESC_E_TOO_LARGE, name, 0,
				      "descriptor is larger than %u bytes (%zu bytes)",
				      DESC_MAX_INPUT, len);
	}
	if (len >= 3 && memcmp(text, UTF8_BOM, 3) == 0) {
		r->bom = true;
		text += 3;
		len -= 3;
	}
	end = len;
	while (end > 0 && text[end - 1] == '\0')
		end--;
	if (rules->blank_padding)
		end = without_blank_padding(text, end);
	r->text = text;
	r->len = end;
	if (rules->stale_after_nul)
		cut_stale(r);
	r->copy = vk_malloc(r->len + 1);
	if (r->copy == NULL)
		return reader_nomem(r);
	if (r->len > 0)
		memcpy(r->copy, r->text, r->len);
	r->copy[r->len] = '\0';
	return DESC_OK;
}

bool reader_next(struct reader *r)
{
	const char *start, *nl;
	size_t rest;

	if (r->pos >= r->len)
		return false;
	start = r->copy + r->pos;
	rest = r->len - r->pos;
	nl = memchr(start, '\n', rest);
	r->lineno++;
	r->line = start;
	r->line_off = r->pos;
	if (nl == NULL) {
		r->line_len = rest;
		r->eol = EOL_NONE;
		r->pos = r->len;
	} else {
		r->line_len = (size_t)(nl - start);
		r->eol = EOL_LF;
		if (r->line_len > 0 && start[r->line_len - 1] == '\r') {
			r->line_len--;
			r->eol = EOL_CRLF;
		}
		r->pos += (size_t)(nl - start) + 1;
	}
	r->copy[r->line_off + r->line_len] = '\0';
	return true;
}

desc_status reader_line_error(const struct reader *r, desc_status code,
			      size_t column, const char *problem, size_t shown,
			      const char *expected)
{
	int n = (int)(shown > QUOTE_MAX ? QUOTE_MAX : shown);

	desc_error_set(r->err, code, r->name, r->lineno, "%s in '%.*s%s' (%s)",
		       problem, n, r->line, shown > QUOTE_MAX ? "..." : "",
		       expected);
	if (r->err != NULL)
		r->err->column = column > 0xffffffffu ? 0 : (unsigned)column;
	return code;
}

desc_status reader_check_line(struct reader *r)
{
	const char *bad;

	if (r->rules->max_lines != 0 && r->lineno > r->rules->max_lines)
		return desc_error_set(r->err, DESC_E_TOO_LARGE, r->name,
				      r->lineno, "descriptor has more than %u lines",
				      r->rules->max_lines);
	if (r->line_len > DESC_MAX_LINE) {
		if (dictionary_words(r))
			return desc_error_set(r->err, DESC_E_TOO_LARGE, r->name,
					      r->lineno,
					      "line too long (%zu bytes, expected at most %u)",
					      r->line_len, DESC_MAX_LINE);
		return desc_error_set(r->err, DESC_E_SYNTAX, r->name, r->lineno,
				      "line is longer than %u bytes (%zu bytes)",
				      DESC_MAX_LINE, r->line_len);
	}
	bad = memchr(r->line, '\0', r->line_len);
	if (bad != NULL) {
		if (dictionary_words(r))
			return reader_line_error(r, DESC_E_SYNTAX,
						 (size_t)(bad - r->line) + 1,
						 "nul byte inside the line",
						 (size_t)(bad - r->line),
						 "expected text; NUL only as padding at the end");
		return desc_error_set(r->err, DESC_E_SYNTAX, r->name, r->lineno,
				      "NUL byte inside the text (expected text lines)");
	}
	bad = r->rules->refuse_lone_cr ? memchr(r->line, '\r', r->line_len) : NULL;
	if (bad != NULL)
		return reader_line_error(r, DESC_E_SYNTAX,
					 (size_t)(bad - r->line) + 1,
					 "stray carriage return",
					 (size_t)(bad - r->line),
					 "expected LF or CRLF line endings");
	/* A BOM after the start would become part of a key, and of the
	 * first key once the lines above it are removed: read back, that
	 * file loses it (found by fuzz_dict). */
	if (r->rules->refuse_inner_bom && r->line_len >= 3 &&
	    memcmp(r->line, UTF8_BOM, 3) == 0)
		return reader_line_error(r, DESC_E_SYNTAX, 1,
					 "byte order mark at the start of a line",
					 r->line_len,
					 "expected a BOM only at the start of the file");
	return DESC_OK;
}

char *reader_keep_copy(struct reader *r)
{
	char *copy = r->copy;

	r->copy = NULL;
	return copy;
}

void reader_close(struct reader *r)
{
	vk_free(r->copy);
	r->copy = NULL;
}
