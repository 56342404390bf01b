/*
 * edit.c - reading and editing a parsed descriptor: header keys (and the
 * CID, parentCID and parent hint they hold), extents, disk database keys.
 *
 * An edit changes only the lines it touches.  A value edit splices the
 * new value into the old line, keeping the writer's spacing around '=';
 * a path edit splices the new name between the old quotes; lines an edit
 * adds are written in the canonical template (FORMAT.md, "Write what
 * every consumer reads the same way").  Every edit reserves what it needs
 * first, so that one failing on allocation leaves the descriptor as it
 * was.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "descriptor/desc_private.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* Finding lines                                                       */
/* ------------------------------------------------------------------ */

ptrdiff_t vk_find_header(const desc_descriptor *desc, const char *key)
{
	ptrdiff_t fallback = -1;

	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];

		if (line->kind != LINE_HEADER)
			continue;
		if (strcmp(line->key, key) == 0)
			return (ptrdiff_t)i;
		if (fallback < 0 && strcasecmp(line->key, key) == 0)
			fallback = (ptrdiff_t)i;
	}
	return fallback;
}

ptrdiff_t vk_find_ddb(const desc_descriptor *desc, const char *key)
{
	return lines_find_last(&desc->lines, LINE_DDB, key);
}

/* The line of extent number `index`, or -1. */
static ptrdiff_t find_extent(const desc_descriptor *desc, size_t index)
{
	for (size_t i = 0; i < desc->lines.count; i++) {
		if (desc->lines.at[i].kind != LINE_EXTENT)
			continue;
		if (index-- == 0)
			return (ptrdiff_t)i;
	}
	return -1;
}

static ptrdiff_t last_of_kind(const desc_descriptor *desc, enum line_kind kind)
{
	for (size_t i = desc->lines.count; i > 0; i--)
		if (desc->lines.at[i - 1].kind == kind)
			return (ptrdiff_t)(i - 1);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Key-value edits                                                     */
/* ------------------------------------------------------------------ */

static bool key_valid(const char *key)
{
	if (key == NULL || !((key[0] >= 'A' && key[0] <= 'Z') ||
			     (key[0] >= 'a' && key[0] <= 'z') || key[0] == '_'))
		return false;
	for (const char *p = key; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == ':' || c == '-'))
			return false;
	}
	return true;
}

static bool bare_header_key(const char *key)
{
	return strcasecmp(key, "version") == 0 || strcasecmp(key, "CID") == 0 ||
	       strcasecmp(key, "parentCID") == 0;
}

static bool needs_quotes(const char *value)
{
	if (value[0] == '\0')
		return true;
	for (const char *p = value; *p != '\0'; p++)
		if (*p == ' ' || *p == '\t' || *p == '#' || *p == '=' ||
		    *p == '\'')
			return true;
	return false;
}

/* The replacement for an existing key-value line, into *line: the old
 * bytes with only the value swapped.  False on allocation failure. */
static bool rewrite_value(const struct line *old, const char *value,
			  bool quote, struct line *line)
{
	size_t vlen = strlen(value), q = quote ? 2 : 0;
	size_t len = old->value_off + vlen + q + (old->len - old->value_end);
	char *text = vk_malloc(len + 1), *p = text;
	char *key = vk_strdup(old->key), *copy = vk_strdup(value);

	if (text == NULL || key == NULL || copy == NULL) {
		vk_free(text);
		vk_free(key);
		vk_free(copy);
		return false;
	}
	memcpy(p, old->text, old->value_off);
	p += old->value_off;
	if (quote)
		*p++ = '"';
	memcpy(p, value, vlen);
	p += vlen;
	if (quote)
		*p++ = '"';
	memcpy(p, old->text + old->value_end, old->len - old->value_end);
	text[len] = '\0';
	line_init_edited(line, old->kind, text, len);
	line->key = key;
	line->key_off = old->key_off;
	line->key_end = old->key_end;
	line->value = copy;
	line->quoted = quote;
	line->value_off = old->value_off;
	line->value_end = old->value_off + vlen + q;
	return true;
}

/* A brand-new key-value line in canonical form, into *line.  `sep` is
 * "=" for the header and " = " for the DDB. */
static bool new_key_value(enum line_kind kind, const char *key,
			  const char *value, const char *sep, bool quote,
			  struct line *line)
{
	char *text = vk_asprintf("%s%s%s%s%s", key, sep, quote ? "\"" : "",
				 value, quote ? "\"" : "");
	size_t klen = strlen(key), slen = strlen(sep);

	if (text == NULL)
		return false;
	line_init_edited(line, kind, text, strlen(text));
	line->quoted = quote;
	line->key_end = klen;
	line->value_off = klen + slen;
	line->value_end = line->len;
	line->key = vk_strdup(key);
	line->value = vk_strdup(value);
	if (line->key == NULL || line->value == NULL) {
		line_clear(line);
		return false;
	}
	return true;
}

static desc_status check_value(const desc_descriptor *desc, const char *key,
			       const char *value, desc_error *err)
{
	if (!key_valid(key))
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "invalid key '%s' (expected letters, digits, '_', '.', ':' or '-')",
				      key ? key : "(null)");
	if (value == NULL || !vk_value_writable(value))
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "value for '%s' cannot contain a double quote or a line break",
				      key);
	return DESC_OK;
}

/* Where a new header key goes: after the last header line (before the
 * blank line that precedes "# Extent description"). */
static size_t header_insert_pos(const desc_descriptor *desc)
{
	ptrdiff_t last = last_of_kind(desc, LINE_HEADER);

	if (last >= 0)
		return (size_t)last + 1;
	if (desc->lines.count > 0 && desc->lines.at[0].kind == LINE_COMMENT)
		return 1;
	return 0;
}

const char *desc_header_get(const desc_descriptor *desc, const char *key)
{
	ptrdiff_t i;

	if (desc == NULL || key == NULL)
		return NULL;
	i = vk_find_header(desc, key);
	return i < 0 ? NULL : desc->lines.at[i].value;
}

desc_status desc_header_set(desc_descriptor *desc, const char *key,
			    const char *value, desc_error *err)
{
	desc_status st;
	ptrdiff_t i;
	struct line line;
	const char *canon;

	if (desc == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0, "no descriptor");
	st = check_value(desc, key, value, err);
	if (st != DESC_OK)
		return st;
	if (vk_is_ddb_key(key))
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "'%s' is a disk database key, not a header key",
				      key);
	canon = vk_canonical_header_key(key, strlen(key));
	if (canon != NULL && (strcmp(canon, "CID") == 0 ||
			      strcmp(canon, "parentCID") == 0) &&
	    !vk_all_hex_digits(value, strlen(value)))
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "%s '%s' is not hexadecimal (expected 8 hex digits such as 8c808111)",
				      canon, value);
	i = vk_find_header(desc, key);
	if (i >= 0) {
		const struct line *old = &desc->lines.at[i];
		bool quote = !bare_header_key(key) &&
			     (old->quoted || needs_quotes(value));

		if (!rewrite_value(old, value, quote, &line))
			return vk_nomem_at(err, desc->name, 0);
		lines_replace(&desc->lines, (size_t)i, &line);
		return DESC_OK;
	}
	if (!lines_reserve(&desc->lines, 1) ||
	    !new_key_value(LINE_HEADER, key, value, "=", !bare_header_key(key),
			   &line))
		return vk_nomem_at(err, desc->name, 0);
	lines_insert(&desc->lines, header_insert_pos(desc), &line);
	return DESC_OK;
}

size_t desc_header_unset(desc_descriptor *desc, const char *key)
{
	if (desc == NULL || key == NULL)
		return 0;
	return lines_remove_key(&desc->lines, LINE_HEADER, key);
}

/* 1 to 8 hex digits: qemu writes CIDs with %x, without leading zeros,
 * so one qemu disk in sixteen has a shorter CID. */
static bool cid_value(const char *value, uint32_t *out)
{
	uint64_t v;

	if (value == NULL || strlen(value) > 8 ||
	    !desc_parse_number_all(value, strlen(value), 16, UINT32_MAX, &v))
		return false;
	if (out != NULL)
		*out = (uint32_t)v;
	return true;
}

bool desc_cid(const desc_descriptor *desc, uint32_t *out)
{
	return cid_value(desc_header_get(desc, "CID"), out);
}

bool desc_parent_cid(const desc_descriptor *desc, uint32_t *out)
{
	return cid_value(desc_header_get(desc, "parentCID"), out);
}

const char *desc_create_type(const desc_descriptor *desc)
{
	return desc_header_get(desc, "createType");
}

const char *desc_parent_hint(const desc_descriptor *desc)
{
	return desc_header_get(desc, "parentFileNameHint");
}

desc_status desc_set_cid(desc_descriptor *desc, uint32_t cid, desc_error *err)
{
	char value[16];

	snprintf(value, sizeof(value), "%08x", (unsigned)cid);
	return desc_header_set(desc, "CID", value, err);
}

desc_status desc_set_parent_cid(desc_descriptor *desc, uint32_t cid,
				desc_error *err)
{
	char value[16];

	snprintf(value, sizeof(value), "%08x", (unsigned)cid);
	return desc_header_set(desc, "parentCID", value, err);
}

desc_status desc_set_parent_hint(desc_descriptor *desc, const char *hint,
				 desc_error *err)
{
	if (desc == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0, "no descriptor");
	if (hint == NULL) {
		desc_header_unset(desc, "parentFileNameHint");
		return DESC_OK;
	}
	if (hint[0] == '\0')
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "empty parentFileNameHint (expected the parent's path)");
	return desc_header_set(desc, "parentFileNameHint", hint, err);
}

/* ------------------------------------------------------------------ */
/* Extents                                                             */
/* ------------------------------------------------------------------ */

size_t desc_extent_count(const desc_descriptor *desc)
{
	size_t n = 0;

	if (desc == NULL)
		return 0;
	for (size_t i = 0; i < desc->lines.count; i++)
		if (desc->lines.at[i].kind == LINE_EXTENT)
			n++;
	return n;
}

const desc_extent *desc_extent_at(const desc_descriptor *desc, size_t index)
{
	ptrdiff_t i;

	if (desc == NULL)
		return NULL;
	i = find_extent(desc, index);
	return i < 0 ? NULL : &desc->lines.at[i].extent->fields;
}

bool desc_capacity(const desc_descriptor *desc, uint64_t *sectors)
{
	unsigned long long sum = 0;

	if (desc == NULL)
		return false;
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];

		if (line->kind == LINE_EXTENT &&
		    !vk_add_u64(sum, line->extent->fields.sectors, &sum))
			return false;
	}
	if (sectors != NULL)
		*sectors = sum;
	return true;
}

static desc_status check_extent(const desc_descriptor *desc,
				const desc_extent *e, desc_error *err)
{
	if ((unsigned)e->access > DESC_ACCESS_NOACCESS ||
	    (unsigned)e->type > DESC_EXTENT_SESPARSE)
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "invalid extent access or type");
	if (e->path == NULL && e->type != DESC_EXTENT_ZERO)
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "%s extent needs a file name",
				      desc_extent_type_name(e->type));
	if (e->path != NULL && (e->path[0] == '\0' || !vk_value_writable(e->path)))
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "extent file name '%s' is empty or contains a double quote or a line break",
				      e->path);
	if (e->has_offset && e->type == DESC_EXTENT_VMFS)
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "a VMFS extent takes no offset");
	if (e->has_offset && e->path == NULL)
		return desc_error_set(err, DESC_E_ARG, desc->name, 0,
				      "an extent without a file takes no offset");
	return DESC_OK;
}

/* Takes over text[0..len) as the extent line *line (kind, fields) by
 * reading it back the way a parse would.  Only memory can fail: the
 * callers checked the extent first.  On failure nothing is left. */
static desc_status extent_line_from_text(struct line *line, char *text,
					 size_t len, const char *name,
					 desc_error *err)
{
	desc_status st;

	line_init_edited(line, LINE_EXTENT, text, len);
	st = vk_parse_extent_line(line, NULL, 0, NULL);
	if (st == DESC_OK)
		return DESC_OK;
	line_clear(line);
	if (st == DESC_E_NOMEM)
		return vk_nomem_at(err, name, 0);
	return desc_error_set(err, DESC_E_ARG, name, 0,
			      "cannot write this extent as a descriptor line");
}

/* A canonical extent line: single spaces, double-quoted name. */
static desc_status new_extent_line(const desc_descriptor *desc,
				   const desc_extent *e, struct line *line,
				   desc_error *err)
{
	char offset[32] = "";
	char *text;

	if (e->has_offset)
		snprintf(offset, sizeof(offset), " %llu",
			 (unsigned long long)e->offset);
	if (e->path != NULL)
		text = vk_asprintf("%s %llu %s \"%s\"%s",
				   desc_access_name(e->access),
				   (unsigned long long)e->sectors,
				   desc_extent_type_name(e->type), e->path,
				   offset);
	else
		text = vk_asprintf("%s %llu %s", desc_access_name(e->access),
				   (unsigned long long)e->sectors,
				   desc_extent_type_name(e->type));
	if (text == NULL)
		return vk_nomem_at(err, desc->name, 0);
	return extent_line_from_text(line, text, strlen(text), desc->name, err);
}

/* The old line with only the name between its quotes replaced. */
static desc_status splice_path(const desc_descriptor *desc,
			       const struct line *old, const char *path,
			       struct line *line, desc_error *err)
{
	const struct extent_line *x = old->extent;
	size_t plen = strlen(path);
	size_t len = x->path_off + plen + (old->len - x->path_end);
	char *text = vk_malloc(len + 1);

	if (text == NULL)
		return vk_nomem_at(err, desc->name, 0);
	memcpy(text, old->text, x->path_off);
	memcpy(text + x->path_off, path, plen);
	memcpy(text + x->path_off + plen, old->text + x->path_end,
	       old->len - x->path_end);
	text[len] = '\0';
	return extent_line_from_text(line, text, len, desc->name, err);
}

desc_status desc_extent_set_path(desc_descriptor *desc, size_t index,
				 const char *path, desc_error *err)
{
	const struct line *old;
	struct line line;
	desc_extent e;
	desc_status st;
	ptrdiff_t i;

	if (desc == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0, "no descriptor");
	i = find_extent(desc, index);
	if (i < 0)
		return desc_error_set(err, DESC_E_NOT_FOUND, desc->name, 0,
				      "no extent %zu (the descriptor has %zu)",
				      index, desc_extent_count(desc));
	old = &desc->lines.at[i];
	e = old->extent->fields;
	e.path = path;
	if (path == NULL)
		e.has_offset = false;
	st = check_extent(desc, &e, err);
	if (st != DESC_OK)
		return st;
	/* Keep every other byte of the line when the new name fits
	 * between the old quotes; otherwise write the canonical form. */
	if (old->extent->path != NULL && path != NULL &&
	    strchr(path, old->text[old->extent->path_off - 1]) == NULL)
		st = splice_path(desc, old, path, &line, err);
	else
		st = new_extent_line(desc, &e, &line, err);
	if (st != DESC_OK)
		return st;
	lines_replace(&desc->lines, (size_t)i, &line);
	return DESC_OK;
}

desc_status desc_extent_add(desc_descriptor *desc, const desc_extent *extent,
			    desc_error *err)
{
	desc_status st;
	struct line line;
	ptrdiff_t last;
	size_t pos;

	if (desc == NULL || extent == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "no descriptor or extent");
	st = check_extent(desc, extent, err);
	if (st != DESC_OK)
		return st;
	if (!lines_reserve(&desc->lines, 1))
		return vk_nomem_at(err, desc->name, 0);
	last = last_of_kind(desc, LINE_EXTENT);
	if (last >= 0) {
		pos = (size_t)last + 1;
	} else {
		ptrdiff_t section = vk_find_section_comment(desc, SEC_EXTENT);

		if (section == -2)
			return vk_nomem_at(err, desc->name, 0);
		pos = section >= 0 ? (size_t)section + 1 : header_insert_pos(desc);
	}
	st = new_extent_line(desc, extent, &line, err);
	if (st != DESC_OK)
		return st;
	/* Never leave a blank line right before an extent: qemu would
	 * count that extent twice. */
	while (pos > 0 && desc->lines.at[pos - 1].kind == LINE_BLANK)
		pos--;
	lines_insert(&desc->lines, pos, &line);
	return DESC_OK;
}

desc_status desc_extent_remove(desc_descriptor *desc, size_t index,
			       desc_error *err)
{
	ptrdiff_t i;

	if (desc == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0, "no descriptor");
	i = find_extent(desc, index);
	if (i < 0)
		return desc_error_set(err, DESC_E_NOT_FOUND, desc->name, 0,
				      "no extent %zu (the descriptor has %zu)",
				      index, desc_extent_count(desc));
	lines_remove(&desc->lines, (size_t)i);
	return DESC_OK;
}

/* ------------------------------------------------------------------ */
/* Disk database                                                       */
/* ------------------------------------------------------------------ */

const char *desc_ddb_get(const desc_descriptor *desc, const char *key)
{
	ptrdiff_t i;

	if (desc == NULL || key == NULL)
		return NULL;
	i = vk_find_ddb(desc, key);
	return i < 0 ? NULL : desc->lines.at[i].value;
}

/* Where a new DDB key goes; *add_section says whether the section
 * comments must be added first (the descriptor has none, or they are
 * not where a DDB line can go). */
static size_t ddb_insert_pos(const desc_descriptor *desc, ptrdiff_t marker,
			     bool *add_section)
{
	ptrdiff_t last = last_of_kind(desc, LINE_DDB);
	size_t count = desc->lines.count;

	*add_section = false;
	if (last >= 0)
		return (size_t)last + 1;
	if (marker >= 0) {
		size_t pos = (size_t)marker + 1;

		/* "#DDB" usually follows "# The Disk Data Base", and a
		 * blank line follows "#DDB". */
		while (pos < count && desc->lines.at[pos].kind == LINE_COMMENT)
			pos++;
		if (pos < count && desc->lines.at[pos].kind == LINE_BLANK)
			pos++;
		/* Header or extent lines after the marker would be read
		 * back as disk database lines once a ddb line precedes
		 * them (found by fuzz_descriptor): go after them. */
		if (last_of_kind(desc, LINE_HEADER) >= (ptrdiff_t)pos ||
		    last_of_kind(desc, LINE_EXTENT) >= (ptrdiff_t)pos ||
		    last_of_kind(desc, LINE_CTK) >= (ptrdiff_t)pos) {
			*add_section = true;
			return count;
		}
		return pos;
	}
	*add_section = true;
	return count;
}

#define DDB_SECTION_LINES 4

/* The blank line and comments that open a disk database, into added[]. */
static bool new_ddb_section(struct line added[DDB_SECTION_LINES])
{
	static const char *const section[DDB_SECTION_LINES] = {
		"", "# The Disk Data Base", "#DDB", "",
	};

	for (size_t k = 0; k < DDB_SECTION_LINES; k++) {
		char *text = vk_strdup(section[k]);

		if (text == NULL) {
			for (size_t j = 0; j < k; j++)
				line_clear(&added[j]);
			return false;
		}
		line_init_edited(&added[k],
				 section[k][0] ? LINE_COMMENT : LINE_BLANK,
				 text, strlen(text));
	}
	return true;
}

desc_status desc_ddb_set(desc_descriptor *desc, const char *key,
			 const char *value, desc_error *err)
{
	struct line added[DDB_SECTION_LINES];
	struct line line;
	desc_status st;
	ptrdiff_t i, marker;
	size_t pos;
	bool add_section;

	if (desc == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0, "no descriptor");
	st = check_value(desc, key, value, err);
	if (st != DESC_OK)
		return st;
	i = vk_find_ddb(desc, key);
	if (i >= 0) {
		const struct line *old = &desc->lines.at[i];

		if (!rewrite_value(old, value, old->quoted || needs_quotes(value),
				   &line))
			return vk_nomem_at(err, desc->name, 0);
		lines_replace(&desc->lines, (size_t)i, &line);
		return DESC_OK;
	}
	marker = vk_find_section_comment(desc, SEC_DDB);
	if (marker == -2)
		return vk_nomem_at(err, desc->name, 0);
	pos = ddb_insert_pos(desc, marker, &add_section);
	if (!lines_reserve(&desc->lines,
			   1 + (add_section ? DDB_SECTION_LINES : 0)) ||
	    !new_key_value(LINE_DDB, key, value, " = ", true, &line))
		return vk_nomem_at(err, desc->name, 0);
	if (add_section) {
		if (!new_ddb_section(added)) {
			line_clear(&line);
			return vk_nomem_at(err, desc->name, 0);
		}
		for (size_t k = 0; k < DDB_SECTION_LINES; k++)
			lines_insert(&desc->lines, pos++, &added[k]);
	}
	lines_insert(&desc->lines, pos, &line);
	return DESC_OK;
}

size_t desc_ddb_unset(desc_descriptor *desc, const char *key)
{
	if (desc == NULL || key == NULL)
		return 0;
	return lines_remove_key(&desc->lines, LINE_DDB, key);
}

static const struct line *ddb_at(const desc_descriptor *desc, size_t index)
{
	if (desc == NULL)
		return NULL;
	for (size_t i = 0; i < desc->lines.count; i++) {
		if (desc->lines.at[i].kind != LINE_DDB)
			continue;
		if (index-- == 0)
			return &desc->lines.at[i];
	}
	return NULL;
}

size_t desc_ddb_count(const desc_descriptor *desc)
{
	size_t n = 0;

	if (desc == NULL)
		return 0;
	for (size_t i = 0; i < desc->lines.count; i++)
		if (desc->lines.at[i].kind == LINE_DDB)
			n++;
	return n;
}

const char *desc_ddb_key_at(const desc_descriptor *desc, size_t index)
{
	const struct line *line = ddb_at(desc, index);

	return line ? line->key : NULL;
}

const char *desc_ddb_value_at(const desc_descriptor *desc, size_t index)
{
	const struct line *line = ddb_at(desc, index);

	return line ? line->value : NULL;
}
