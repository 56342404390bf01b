/*
 * lines.c - the line model both grammars keep their text in (lines.h):
 * lines in order with their own endings, the edits that move them, and
 * the one writer loop.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "descriptor/lines.h"
#include "descriptor/private.h"

static const char utf8_bom[3] = { '\xef', '\xbb', '\xbf' };

static void extent_line_free(struct extent_line *extent)
{
	if (extent == NULL)
		return;
	vk_free(extent->path);
	vk_free(extent);
}

void line_clear(struct line *line)
{
	if (line->edited)
		vk_free(line->text);
	vk_free(line->key);
	vk_free(line->value);
	vk_free(line->raw);
	extent_line_free(line->extent);
	memset(line, 0, sizeof(*line));
}

void line_init_edited(struct line *line, enum line_kind kind, char *text,
		      size_t len)
{
	memset(line, 0, sizeof(*line));
	line->kind = kind;
	line->eol = EOL_LF;
	line->edited = true;
	line->text = text;
	line->len = len;
}

bool lines_reserve(struct lines *lines, size_t extra)
{
	size_t need = lines->count + extra, cap;
	struct line *at;

	if (need <= lines->capacity)
		return true;
	cap = lines->capacity ? lines->capacity * 2 : 32;
	while (cap < need)
		cap *= 2;
	at = vk_reallocarray(lines->at, cap, sizeof(*at));
	if (at == NULL)
		return false;
	lines->at = at;
	lines->capacity = cap;
	return true;
}

struct line *lines_add_read(struct lines *lines, const struct reader *r)
{
	struct line *line = &lines->at[lines->count++];

	memset(line, 0, sizeof(*line));
	/* The reader's copy is writable; the list owns it once kept. */
	line->text = r->copy + r->line_off;
	line->len = r->line_len;
	line->eol = r->eol;
	line->number = r->lineno;
	return line;
}

void lines_keep(struct lines *lines, struct reader *r)
{
	lines->kept_size = r->len + 1;
	lines->kept = reader_keep_copy(r);
	lines->bom = r->bom;
}

/* The ending most lines use; LF for a text without any. */
static enum line_end dominant_eol(const struct lines *lines)
{
	size_t lf = 0, crlf = 0;

	for (size_t i = 0; i < lines->count; i++) {
		if (lines->at[i].eol == EOL_LF)
			lf++;
		else if (lines->at[i].eol == EOL_CRLF)
			crlf++;
	}
	return crlf > lf ? EOL_CRLF : EOL_LF;
}

void lines_insert(struct lines *lines, size_t pos, struct line *line)
{
	enum line_end eol = dominant_eol(lines);

	line->eol = eol;
	if (pos == lines->count && pos > 0 &&
	    lines->at[pos - 1].eol == EOL_NONE) {
		struct line *last = &lines->at[pos - 1];

		/* A stray CR ending that line would pair with an LF and be
		 * read back as CRLF, shortening its value (found by fuzzing):
		 * end it with CRLF, which reads back to the same text. */
		last->eol = last->len > 0 && last->text[last->len - 1] == '\r' ?
				    EOL_CRLF : eol;
		if (lines->keep_missing_newline)
			line->eol = EOL_NONE;
	}
	memmove(&lines->at[pos + 1], &lines->at[pos],
		(lines->count - pos) * sizeof(*lines->at));
	lines->at[pos] = *line;
	lines->count++;
}

void lines_replace(struct lines *lines, size_t pos, struct line *line)
{
	line->eol = lines->at[pos].eol;
	line_clear(&lines->at[pos]);
	lines->at[pos] = *line;
}

void lines_remove(struct lines *lines, size_t pos)
{
	struct line *line = &lines->at[pos];

	if (lines->keep_missing_newline && pos + 1 == lines->count &&
	    pos > 0 && line->eol == EOL_NONE)
		lines->at[pos - 1].eol = EOL_NONE;
	line_clear(line);
	memmove(&lines->at[pos], &lines->at[pos + 1],
		(lines->count - pos - 1) * sizeof(*lines->at));
	lines->count--;
}

size_t lines_remove_key(struct lines *lines, enum line_kind kind,
			const char *key)
{
	size_t kept = 0, removed = 0;
	bool unterminated_end_removed = false;

	for (size_t i = 0; i < lines->count; i++) {
		struct line *line = &lines->at[i];

		if (line->kind == kind && strcasecmp(line->key, key) == 0) {
			if (i + 1 == lines->count && line->eol == EOL_NONE)
				unterminated_end_removed = true;
			line_clear(line);
			removed++;
			continue;
		}
		lines->at[kept++] = *line;
	}
	lines->count = kept;
	if (lines->keep_missing_newline && unterminated_end_removed && kept > 0)
		lines->at[kept - 1].eol = EOL_NONE;
	return removed;
}

ptrdiff_t lines_find_last(const struct lines *lines, enum line_kind kind,
			  const char *key)
{
	for (size_t i = lines->count; i > 0; i--) {
		const struct line *line = &lines->at[i - 1];

		if (line->kind == kind && strcasecmp(line->key, key) == 0)
			return (ptrdiff_t)(i - 1);
	}
	return -1;
}

static size_t eol_len(enum line_end eol)
{
	return eol == EOL_CRLF ? 2 : eol == EOL_LF ? 1 : 0;
}

desc_status lines_write(const struct lines *lines, char **out, size_t *len)
{
	unsigned long long total = lines->bom ? sizeof(utf8_bom) : 0;
	size_t pos = 0;
	char *buf;

	*out = NULL;
	if (len != NULL)
		*len = 0;
	for (size_t i = 0; i < lines->count; i++)
		if (!vk_add_u64(total, lines->at[i].len, &total) ||
		    !vk_add_u64(total, eol_len(lines->at[i].eol), &total))
			return DESC_E_TOO_LARGE;
	if (total >= (unsigned long long)SIZE_MAX)
		return DESC_E_TOO_LARGE;
	buf = vk_malloc((size_t)total + 1);
	if (buf == NULL)
		return DESC_E_NOMEM;
	if (lines->bom) {
		memcpy(buf, utf8_bom, sizeof(utf8_bom));
		pos = sizeof(utf8_bom);
	}
	for (size_t i = 0; i < lines->count; i++) {
		const struct line *line = &lines->at[i];

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

static bool copy_string(char **copy, const char *s)
{
	*copy = NULL;
	return s == NULL || (*copy = vk_strdup(s)) != NULL;
}

static bool extent_line_copy(struct extent_line **copy,
			     const struct extent_line *extent)
{
	*copy = NULL;
	if (extent == NULL)
		return true;
	*copy = vk_malloc(sizeof(**copy));
	if (*copy == NULL)
		return false;
	**copy = *extent;
	if (!copy_string(&(*copy)->path, extent->path)) {
		vk_free(*copy);
		*copy = NULL;
		return false;
	}
	(*copy)->fields.path = (*copy)->path;
	return true;
}

/* An unedited line's text moves to the same place in the copy's kept
 * input; an edited one is duplicated. */
static bool line_copy(struct line *copy, const struct line *line,
		      const struct lines *from, const struct lines *to)
{
	*copy = *line;
	copy->key = copy->value = copy->raw = NULL;
	copy->extent = NULL;
	copy->edited = false;
	if (line->edited) {
		copy->text = vk_malloc(line->len + 1);
		if (copy->text == NULL)
			return false;
		memcpy(copy->text, line->text, line->len + 1);
		copy->edited = true;
	} else {
		copy->text = to->kept + (line->text - from->kept);
	}
	if (!copy_string(&copy->key, line->key) ||
	    !copy_string(&copy->value, line->value) ||
	    !copy_string(&copy->raw, line->raw) ||
	    !extent_line_copy(&copy->extent, line->extent)) {
		line_clear(copy);
		return false;
	}
	return true;
}

bool lines_copy(struct lines *copy, const struct lines *lines)
{
	memset(copy, 0, sizeof(*copy));
	copy->bom = lines->bom;
	copy->keep_missing_newline = lines->keep_missing_newline;
	if (lines->kept != NULL) {
		copy->kept = vk_malloc(lines->kept_size);
		if (copy->kept == NULL)
			return false;
		memcpy(copy->kept, lines->kept, lines->kept_size);
		copy->kept_size = lines->kept_size;
	}
	if (!lines_reserve(copy, lines->count))
		goto fail;
	for (size_t i = 0; i < lines->count; i++) {
		if (!line_copy(&copy->at[i], &lines->at[i], lines, copy))
			goto fail;
		copy->count++;
	}
	return true;
fail:
	lines_free(copy);
	return false;
}

void lines_free(struct lines *lines)
{
	for (size_t i = 0; i < lines->count; i++)
		line_clear(&lines->at[i]);
	vk_free(lines->at);
	vk_free(lines->kept);
	lines->at = NULL;
	lines->kept = NULL;
	lines->count = lines->capacity = lines->kept_size = 0;
}
