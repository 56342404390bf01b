/*
 * descriptor.c - the VMDK text descriptor: names, the grammar and its
 * parser, construction, copy and write.  The reader under the parser is
 * reader.c, the line model the descriptor is kept in is lines.c, and the
 * accessors and edits are edit.c.
 *
 * Grammar (one line at a time, after the reader has normalised the bytes):
 *
 *   descriptor := line*
 *   line       := blank | comment | key-value | extent
 *   blank      := [ \t]*
 *   comment    := [ \t]* '#' any*
 *   key-value  := [ \t]* KEY [ \t]* '=' [ \t]* value [ \t]*
 *   value      := '"' any* '"' | bare
 *   extent     := ACCESS ws SECTORS ws TYPE [ws NAME [ws OFFSET [ws extra]*]]
 *   NAME       := '"' [^"]* '"' | "'" [^']* "'"
 *
 * Which section a key-value line belongs to (header, change tracking or
 * disk database) follows the section comments and the "ddb." prefix.
 *
 * Every line is classified and kept (lines.h) with its original bytes and
 * its own line ending, so an unedited descriptor writes back byte for
 * byte and an edit (edit.c) regenerates only the line it touches.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8

#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "descriptor/desc_private.h"
#include "descriptor/reader.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* Names                                                               */
/* ------------------------------------------------------------------ */

static const char *const access_names[] = {
	[DESC_ACCESS_RW] = "RW",
	[DESC_ACCESS_RDONLY] = "RDONLY",
	[DESC_ACCESS_NOACCESS] = "NOACCESS",
};

static const char *const extent_type_names[] = {
	[DESC_EXTENT_FLAT] = "FLAT",
	[DESC_EXTENT_SPARSE] = "SPARSE",
	[DESC_EXTENT_ZERO] = "ZERO",
	[DESC_EXTENT_VMFS] = "VMFS",
	[DESC_EXTENT_VMFSSPARSE] = "VMFSSPARSE",
	[DESC_EXTENT_VMFSRDM] = "VMFSRDM",
	[DESC_EXTENT_VMFSRAW] = "VMFSRAW",
	[DESC_EXTENT_SESPARSE] = "SESPARSE",
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define EXPECTED_TYPES \
	"FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE"
#define EXPECTED_EXTENT "ACCESS SECTORS TYPE \"FILE\" [OFFSET]"

const char *desc_access_name(desc_access access)
{
	if ((size_t)access < ARRAY_SIZE(access_names))
		return access_names[access];
	return "?";
}

const char *desc_extent_type_name(desc_extent_type type)
{
	if ((size_t)type < ARRAY_SIZE(extent_type_names))
		return extent_type_names[type];
	return "?";
}

static bool name_lookup(const char *const *names, size_t count,
			const char *name, size_t len, int *out)
{
	for (size_t i = 0; i < count; i++) {
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0) {
			*out = (int)i;
			return true;
		}
	}
	return false;
}

bool desc_access_from_name(const char *name, desc_access *out)
{
	int v;

	if (name == NULL || !name_lookup(access_names, ARRAY_SIZE(access_names),
					 name, strlen(name), &v))
		return false;
	if (out != NULL)
		*out = (desc_access)v;
	return true;
}

bool desc_extent_type_from_name(const char *name, desc_extent_type *out)
{
	int v;

	if (name == NULL ||
	    !name_lookup(extent_type_names, ARRAY_SIZE(extent_type_names), name,
			 strlen(name), &v))
		return false;
	if (out != NULL)
		*out = (desc_extent_type)v;
	return true;
}

#define T(x) (1u << DESC_EXTENT_##x)
static const struct create_type_info create_types[] = {
	{ "monolithicSparse", T(SPARSE), true },
	{ "monolithicFlat", T(FLAT), true },
	{ "streamOptimized", T(SPARSE), true },
	{ "twoGbMaxExtentSparse", T(SPARSE), false },
	{ "twoGbMaxExtentFlat", T(FLAT), false },
	{ "2GbMaxExtentSparse", T(SPARSE), false },
	{ "2GbMaxExtentFlat", T(FLAT), false },
	{ "vmfs", T(VMFS), false },
	{ "vmfsPreallocated", T(VMFS), false },
	{ "vmfsEagerZeroedThick", T(VMFS), false },
	{ "vmfsThin", T(VMFS), false },
	{ "vmfsThick", T(VMFS), false },
	{ "vmfsSparse", T(VMFSSPARSE), false },
	{ "vmfsRDM", T(VMFSRDM) | T(VMFSRAW), false },
	{ "vmfsRawDeviceMap", T(VMFSRDM) | T(VMFSRAW), false },
	{ "vmfsRDMP", T(VMFSRDM) | T(VMFSRAW), false },
	{ "vmfsPassthroughRawDeviceMap", T(VMFSRDM) | T(VMFSRAW), false },
	{ "vmfsRaw", T(VMFSRDM) | T(VMFSRAW), false },
	{ "fullDevice", T(FLAT) | T(ZERO), false },
	{ "partitionedDevice", T(FLAT) | T(ZERO), false },
	{ "seSparse", T(SESPARSE), false },
	{ "vmfsSeSparse", T(SESPARSE), false },
	{ "custom", 0xffu, false },
};
#undef T

const struct create_type_info *vk_create_type_info(const char *create_type)
{
	if (create_type == NULL)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(create_types); i++)
		if (strcmp(create_types[i].name, create_type) == 0)
			return &create_types[i];
	return NULL;
}

bool desc_create_type_known(const char *create_type)
{
	return vk_create_type_info(create_type) != NULL;
}

/* Header keys VMware, qemu, libvmdk and VirtualBox write. */
static const char *const header_keys[] = {
	"version", "encoding", "CID", "parentCID", "isNativeSnapshot",
	"createType", "parentFileNameHint",
};

const char *vk_canonical_header_key(const char *key, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(header_keys); i++)
		if (strlen(header_keys[i]) == len &&
		    strncasecmp(header_keys[i], key, len) == 0)
			return header_keys[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Line classification patterns (compiled once, shared)                */
/* ------------------------------------------------------------------ */

enum pattern_id {
	P_BLANK,
	P_COMMENT,
	P_KEY_VALUE,
	P_EXTENT_LIKE,
	P_SEC_SIGNATURE,
	P_SEC_EXTENT,
	P_SEC_CTK,
	P_SEC_DDB,
	P_COUNT
};

static const char *const pattern_text[P_COUNT] = {
	[P_BLANK] = "^[ \\t]*$",
	[P_COMMENT] = "^[ \\t]*#",
	[P_KEY_VALUE] = "^[ \\t]*([A-Za-z_][A-Za-z0-9_.:-]*)[ \\t]*=[ \\t]*(.*?)[ \\t]*$",
	[P_EXTENT_LIKE] = "^[ \\t]*[A-Za-z]+[ \\t]+[-+]?[0-9]",
	[P_SEC_SIGNATURE] = "^[ \\t]*#[ \\t]*Disk[ \\t]*Descriptor[ \\t]*File[ \\t]*$",
	[P_SEC_EXTENT] = "^[ \\t]*#[ \\t]*Extent[ \\t]+description[ \\t]*$",
	[P_SEC_CTK] = "^[ \\t]*#[ \\t]*Change[ \\t]+Tracking[ \\t]+File[ \\t]*$",
	[P_SEC_DDB] = "^[ \\t]*#[ \\t]*(The[ \\t]+Disk[ \\t]+Data[ \\t]+Base|DDB)[ \\t]*$",
};

static pthread_mutex_t pattern_lock = PTHREAD_MUTEX_INITIALIZER;
static pcre2_code *patterns[P_COUNT];
static pcre2_general_context *match_context;
static bool patterns_ready;

/* Match data is per parse and goes through vk_malloc, so the
 * allocation-failure tests reach it. */
static void *pcre_alloc(size_t size, void *data)
{
	(void)data;
	return vk_malloc(size);
}

static void pcre_release(void *ptr, void *data)
{
	(void)data;
	vk_free(ptr);
}

static desc_status patterns_init(desc_error *err)
{
	desc_status status = DESC_OK;

	pthread_mutex_lock(&pattern_lock);
	if (patterns_ready)
		goto out;
	for (size_t i = 0; i < P_COUNT; i++) {
		int code;
		PCRE2_SIZE offset;
		uint32_t options = PCRE2_CASELESS;

		if (patterns[i] != NULL)
			continue;
		if (i == P_KEY_VALUE || i == P_EXTENT_LIKE || i == P_BLANK ||
		    i == P_COMMENT)
			options = 0;
		patterns[i] = pcre2_compile((PCRE2_SPTR)pattern_text[i],
					    PCRE2_ZERO_TERMINATED,
					    options | PCRE2_DOLLAR_ENDONLY,
					    &code, &offset, NULL);
		if (patterns[i] == NULL) {
			status = desc_error_set(err, code == PCRE2_ERROR_NOMEMORY ?
						DESC_E_NOMEM : DESC_E_INVALID,
						NULL, 0,
						"cannot compile pattern %zu (pcre2 error %d)",
						i, code);
			goto out;
		}
		/* No JIT: lines are short, so the interpreter costs
		 * nothing measurable, and JIT-generated code makes
		 * valgrind report uninitialised reads that would drown
		 * real errors in the valgrind CI run. */
	}
	if (match_context == NULL) {
		match_context = pcre2_general_context_create(pcre_alloc,
							     pcre_release, NULL);
		if (match_context == NULL) {
			status = vk_nomem(err);
			goto out;
		}
	}
	patterns_ready = true;
out:
	pthread_mutex_unlock(&pattern_lock);
	return status;
}

/* 1 on a match, 0 on no match, the (negative) pcre2 error code when
 * matching itself failed. */
static int pattern_match(enum pattern_id id, const char *text, size_t len,
			 pcre2_match_data *md)
{
	int rc = pcre2_match(patterns[id], (PCRE2_SPTR)text, len, 0, 0, md,
			     NULL);

	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	return rc < 0 ? rc : -1;
}

/* Its frames come from vk_malloc, so out of memory is the failure to
 * expect; anything else is reported with pcre2's own words. */
static desc_status match_failed(desc_error *err, const char *name,
				unsigned line, int rc)
{
	PCRE2_UCHAR why[128];

	if (rc == PCRE2_ERROR_NOMEMORY)
		return vk_nomem_at(err, name, line);
	if (pcre2_get_error_message(rc, why, sizeof(why)) < 0)
		why[0] = '\0';
	return desc_error_set(err, DESC_E_INVALID, name, line,
			      "cannot classify the line: pcre2 error %d %s", rc,
			      (const char *)why);
}

static pcre2_match_data *match_data_new(void)
{
	return pcre2_match_data_create(8, match_context);
}

/* ------------------------------------------------------------------ */
/* Cursor helpers (bounded; advance only on success)                   */
/* ------------------------------------------------------------------ */

static void skip_blanks(const char **p, const char *end)
{
	while (*p < end && (**p == ' ' || **p == '\t'))
		(*p)++;
}

/* A run of non-blank bytes. */
static bool read_word(const char **p, const char *end, const char **word,
		      size_t *len)
{
	const char *s = *p;

	while (s < end && *s != ' ' && *s != '\t')
		s++;
	if (s == *p)
		return false;
	*word = *p;
	*len = (size_t)(s - *p);
	*p = s;
	return true;
}

enum number_result { NUM_OK, NUM_NOT_NUMBER, NUM_NEGATIVE, NUM_OVERFLOW };

/* A decimal u64 that must fill the whole word: an optional '+', then
 * digits.  A '-' before digits is told apart, to say "negative". */
static enum number_result parse_u64(const char *s, size_t len, uint64_t *out)
{
	const char *p = s, *end = s + len;
	uint64_t v;

	if (p < end && *p == '-') {
		p++;
		return desc_parse_number(&p, end, 10, UINT64_MAX, &v) ==
			       DESC_NUMBER_NONE ? NUM_NOT_NUMBER : NUM_NEGATIVE;
	}
	if (p < end && *p == '+')
		p++;
	switch (desc_parse_number(&p, end, 10, UINT64_MAX, &v)) {
	case DESC_NUMBER_OK:
		break;
	case DESC_NUMBER_OVERFLOW:
		return NUM_OVERFLOW;
	case DESC_NUMBER_NONE:
		return NUM_NOT_NUMBER;
	}
	if (p != end)
		return NUM_NOT_NUMBER;
	*out = v;
	return NUM_OK;
}

/* Copies a line into buf for a message: at most 72 bytes, control bytes
 * other than tab shown as '?', "..." when cut. */
static const char *quote_text(char *buf, size_t size, const char *text,
			      size_t len)
{
	size_t max = size - 4, n = 0;

	if (max > 72)
		max = 72;
	for (; n < len && n < max; n++) {
		unsigned char c = (unsigned char)text[n];

		buf[n] = ((c < 0x20 && c != '\t') || c == 0x7f) ? '?' : (char)c;
	}
	if (n < len) {
		/* Do not cut a UTF-8 sequence in half. */
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Parsing one line                                                    */
/* ------------------------------------------------------------------ */

/* Real descriptors have a few dozen lines; an 8 TiB disk split into
 * 2 GiB extents needs about 4100 (VirtualBox refuses more than 1100).
 * The cap keeps 4 MiB of newlines from becoming millions of line
 * objects and keeps per-line lookups cheap. */
#define MAX_LINES 16384u

/* How the descriptor's bytes are normalised (reader.h): embedded
 * descriptor areas and files qemu rewrote in place end in padding of
 * NULs and spaces, or in a few stale bytes after a NUL; a lone CR is a
 * byte of its line, and a BOM inside the text is left to the grammar,
 * which refuses it as an unrecognised line. */
static const struct reader_rules descriptor_rules = {
	.blank_padding = true,
	.stale_after_nul = true,
	.max_lines = MAX_LINES,
	.refuse_lone_cr = false,
	.refuse_inner_bom = false,
	.messages = READER_MESSAGES_DESCRIPTOR,
};

struct parser {
	struct reader r;
	desc_descriptor *desc;
	desc_findings *warnings;
	desc_error *err;
	pcre2_match_data *md;
	enum section section;
	bool seen_content;
	unsigned create_type_line;
};

static desc_status parser_note(struct parser *ps, desc_severity severity,
			       unsigned line, const char *code,
			       const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static desc_status parser_note(struct parser *ps, desc_severity severity,
			       unsigned line, const char *code,
			       const char *fmt, ...)
{
	char message[DESC_ERROR_MESSAGE_MAX];
	va_list ap;

	if (ps->warnings == NULL)
		return DESC_OK;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (desc_findings_add(ps->warnings, severity, code, ps->r.name, line,
			      "%s", message) != DESC_OK)
		return vk_nomem_at(ps->err, ps->r.name, line);
	return DESC_OK;
}

#define SYNTAX(ps, line, ...) \
	desc_error_set((ps)->err, DESC_E_SYNTAX, (ps)->r.name, (line), __VA_ARGS__)

/* Points err at the byte of the line where the problem starts. */
static desc_status at_column(desc_error *err, const struct line *line,
			     const char *pos, desc_status st)
{
	if (err != NULL)
		err->column = (unsigned)(pos - line->text) + 1;
	return st;
}

#define EXTENT_ERROR(pos, ...)                                               \
	at_column(err, line, (pos),                                          \
		  desc_error_set(err, DESC_E_SYNTAX, name, lineno, __VA_ARGS__))

desc_status vk_parse_extent_line(struct line *line, const char *name,
				 unsigned lineno, desc_error *err)
{
	const char *p = line->text, *end = line->text + line->len;
	const char *word, *q;
	size_t wlen;
	char shown[96], what[96];
	struct extent_line *x;
	desc_extent *e;
	uint64_t number;
	int v;

	x = line->extent = vk_calloc(1, sizeof(*line->extent));
	if (x == NULL)
		return vk_nomem_at(err, name, lineno);
	e = &x->fields;
	e->line = line->number;

	quote_text(shown, sizeof(shown), line->text, line->len);
	skip_blanks(&p, end);
	if (!read_word(&p, end, &word, &wlen))
		return EXTENT_ERROR(p,
				    "empty extent line (expected %s)",
				    EXPECTED_EXTENT);
	if (!name_lookup(access_names, ARRAY_SIZE(access_names), word, wlen, &v))
		return EXTENT_ERROR(word,
				    "unknown access mode '%s' (expected RW, RDONLY, NOACCESS)",
				    quote_text(what, sizeof(what), word, wlen));
	e->access = (desc_access)v;

	skip_blanks(&p, end);
	if (!read_word(&p, end, &word, &wlen))
		return EXTENT_ERROR(p,
				    "missing extent size in '%s' (expected %s)",
				    shown, EXPECTED_EXTENT);
	quote_text(what, sizeof(what), word, wlen);
	switch (parse_u64(word, wlen, &number)) {
	case NUM_OK:
		break;
	case NUM_NEGATIVE:
		return EXTENT_ERROR(word,
				    "extent size '%s' is negative (expected a number of sectors)",
				    what);
	case NUM_OVERFLOW:
		return EXTENT_ERROR(word,
				    "extent size '%s' is too large (expected at most %llu sectors)",
				    what, (unsigned long long)UINT64_MAX);
	case NUM_NOT_NUMBER:
		return EXTENT_ERROR(word,
				    "extent size '%s' is not a number in '%s' (expected %s)",
				    what, shown, EXPECTED_EXTENT);
	}
	e->sectors = number;

	skip_blanks(&p, end);
	if (!read_word(&p, end, &word, &wlen))
		return EXTENT_ERROR(p,
				    "missing extent type in '%s' (expected %s)",
				    shown, EXPECTED_TYPES);
	if (!name_lookup(extent_type_names, ARRAY_SIZE(extent_type_names), word,
			 wlen, &v))
		return EXTENT_ERROR(word,
				    "unknown extent type '%s' (expected %s)",
				    quote_text(what, sizeof(what), word, wlen),
				    EXPECTED_TYPES);
	e->type = (desc_extent_type)v;

	skip_blanks(&p, end);
	e->path = NULL;
	e->has_offset = false;
	e->offset = 0;
	if (p == end) {
		if (e->type == DESC_EXTENT_ZERO)
			return DESC_OK;
		return EXTENT_ERROR(p,
				    "missing file name in '%s' (expected %s)",
				    shown, EXPECTED_EXTENT);
	}
	if (*p != '"' && *p != '\'') {
		read_word(&p, end, &word, &wlen);
		return EXTENT_ERROR(word,
				    "extent file name '%s' is not quoted (expected %s)",
				    quote_text(what, sizeof(what), word, wlen),
				    EXPECTED_EXTENT);
	}
	/* The name runs to the matching closing quote: there is no escape
	 * mechanism, so a quote can never be part of a name. */
	q = memchr(p + 1, *p, (size_t)(end - p - 1));
	if (q == NULL)
		return EXTENT_ERROR(p,
				    "unterminated quote in extent line '%s' (expected %s)",
				    shown, EXPECTED_EXTENT);
	x->path_off = (size_t)(p + 1 - line->text);
	x->path_end = (size_t)(q - line->text);
	x->path = vk_strndup(p + 1, (size_t)(q - p - 1));
	if (x->path == NULL)
		return vk_nomem_at(err, name, lineno);
	e->path = x->path;
	p = q + 1;
	if (p < end && *p != ' ' && *p != '\t')
		goto trailing;
	skip_blanks(&p, end);
	if (p == end)
		return DESC_OK;
	read_word(&p, end, &word, &wlen);
	quote_text(what, sizeof(what), word, wlen);
	switch (parse_u64(word, wlen, &number)) {
	case NUM_OK:
		break;
	case NUM_NEGATIVE:
		return EXTENT_ERROR(word,
				    "extent offset '%s' is negative (expected a number of sectors)",
				    what);
	case NUM_OVERFLOW:
		return EXTENT_ERROR(word,
				    "extent offset '%s' is too large (expected at most %llu sectors)",
				    what, (unsigned long long)UINT64_MAX);
	case NUM_NOT_NUMBER:
		p = word;
		goto trailing;
	}
	/* qemu (iotests 059) rejects an offset after a VMFS extent, and
	 * VMware's own files never carry one. */
	if (e->type == DESC_EXTENT_VMFS)
		return EXTENT_ERROR(word,
				    "unexpected offset '%s' after a VMFS extent in '%s' (expected ACCESS SECTORS VMFS \"FILE\")",
				    what, shown);
	e->has_offset = true;
	e->offset = number;
	/* Anything after the offset (partition UUIDs, device ids written by
	 * some VMware Player versions) stays in the line's bytes. */
	return DESC_OK;

trailing:
	return EXTENT_ERROR(p,
			    "unexpected text '%s' after the extent file name (expected an offset in sectors)",
			    quote_text(what, sizeof(what), p, (size_t)(end - p)));
}

/* Splits a key-value line (already matched by P_KEY_VALUE) into key and
 * unquoted value. */
static desc_status parse_key_value(struct parser *ps, struct line *line)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ps->md);
	size_t key_off = ov[2], key_end = ov[3];
	size_t val_off = ov[4], val_end = ov[5];
	const char *v = line->text + val_off;
	size_t vlen = val_end - val_off;
	char shown[96];

	line->key = vk_strndup(line->text + key_off, key_end - key_off);
	if (line->key == NULL)
		return vk_nomem_at(ps->err, ps->r.name, line->number);
	line->key_off = key_off;
	line->key_end = key_end;
	line->value_off = val_off;
	line->value_end = val_end;
	if (vlen > 0 && v[0] == '"') {
		/* The value ends at the last quote: nothing may follow it
		 * but blanks, which the pattern already trimmed. */
		if (vlen < 2 || v[vlen - 1] != '"') {
			desc_status st = SYNTAX(ps, line->number,
				"unterminated quote in the value of '%s' (expected %s=\"VALUE\")",
				quote_text(shown, sizeof(shown), line->key,
					   strlen(line->key)),
				line->key);

			return at_column(ps->err, line, v, st);
		}
		line->quoted = true;
		v++;
		vlen -= 2;
	}
	line->value = vk_strndup(v, vlen);
	if (line->value == NULL)
		return vk_nomem_at(ps->err, ps->r.name, line->number);
	return DESC_OK;
}

bool vk_is_ddb_key(const char *key)
{
	return strncasecmp(key, "ddb.", 4) == 0;
}

static desc_status check_header_value(struct parser *ps, struct line *line)
{
	const char *canon = vk_canonical_header_key(line->key, strlen(line->key));
	char shown[96];

	if (canon == NULL)
		return parser_note(ps, DESC_SEV_WARNING, line->number,
				   "unknown-header-key",
				   "unknown header key '%s' (kept as written)",
				   line->key);
	if (strcmp(canon, line->key) != 0) {
		desc_status st = parser_note(ps, DESC_SEV_WARNING, line->number,
					     "header-key-case",
					     "header key '%s' should be written '%s' (qemu and VirtualBox match keys case-sensitively)",
					     line->key, canon);
		if (st != DESC_OK)
			return st;
	}
	if (strcmp(canon, "CID") == 0 || strcmp(canon, "parentCID") == 0) {
		if (!vk_all_hex_digits(line->value, strlen(line->value))) {
			desc_status st = SYNTAX(ps, line->number,
				"%s '%s' is not hexadecimal (expected 8 hex digits such as 8c808111)",
				canon,
				quote_text(shown, sizeof(shown), line->value,
					   strlen(line->value)));

			return at_column(ps->err, line, line->text +
					 line->value_off + line->quoted, st);
		}
	} else if (strcmp(canon, "createType") == 0) {
		if (ps->create_type_line != 0)
			return SYNTAX(ps, line->number,
				      "duplicate 'createType' (first on line %u)",
				      ps->create_type_line);
		ps->create_type_line = line->number;
		if (!desc_create_type_known(line->value))
			return parser_note(ps, DESC_SEV_WARNING, line->number,
					   "unknown-create-type",
					   "unknown createType '%s' (kept as written)",
					   quote_text(shown, sizeof(shown),
						      line->value,
						      strlen(line->value)));
	}
	return DESC_OK;
}

/* DDB keys written by VMware (Workstation, Fusion, ESXi), qemu, open-vmdk
 * and VirtualBox, without the "ddb." prefix. */
static const char *const ddb_keys[] = {
	"adapterType", "geometry.cylinders", "geometry.heads",
	"geometry.sectors", "geometry.biosCylinders", "geometry.biosHeads",
	"geometry.biosSectors", "virtualHWVersion", "uuid", "longContentID",
	"toolsVersion", "toolsInstallType", "thinProvisioned", "deletable",
	"encoding", "grain", "logicalSectorSize", "physicalSectorSize",
	"uuid.image", "uuid.modification", "uuid.parent",
	"uuid.parentmodification", "comment", "iofilters", "sidecars",
};

/* Unknown DDB keys are normal (every product adds its own), so they are
 * only noted. */
static desc_status check_ddb_key(struct parser *ps, const struct line *line)
{
	if (!vk_is_ddb_key(line->key))
		return parser_note(ps, DESC_SEV_WARNING, line->number,
				   "unknown-ddb-key",
				   "disk database key '%s' has no 'ddb.' prefix (kept as written)",
				   line->key);
	for (size_t i = 0; i < ARRAY_SIZE(ddb_keys); i++)
		if (strcasecmp(line->key + 4, ddb_keys[i]) == 0)
			return DESC_OK;
	return parser_note(ps, DESC_SEV_INFO, line->number, "unknown-ddb-key",
			   "unknown disk database key '%s' (kept as written)",
			   line->key);
}

/* A comment may open a section. */
static int classify_comment(struct parser *ps, struct line *line)
{
	static const struct {
		enum pattern_id id;
		enum section section;
	} markers[] = {
		{ P_SEC_EXTENT, SEC_EXTENT },
		{ P_SEC_CTK, SEC_CTK },
		{ P_SEC_DDB, SEC_DDB },
	};

	line->kind = LINE_COMMENT;
	for (size_t i = 0; i < ARRAY_SIZE(markers); i++) {
		int m = pattern_match(markers[i].id, line->text, line->len,
				      ps->md);

		if (m != 0) {
			if (m == 1)
				ps->section = markers[i].section;
			return m;
		}
	}
	return 0;
}

/* A key-value line belongs to the DDB by its "ddb." prefix or its place
 * after the DDB comments, to change tracking by its section, else to
 * the header (qemu finds header keys anywhere). */
static desc_status classify_key_value(struct parser *ps, struct line *line)
{
	desc_status st = parse_key_value(ps, line);

	if (st != DESC_OK)
		return st;
	if (vk_is_ddb_key(line->key)) {
		line->kind = LINE_DDB;
		ps->section = SEC_DDB;
		return check_ddb_key(ps, line);
	}
	if (ps->section == SEC_CTK || strcmp(line->key, "changeTrackPath") == 0) {
		line->kind = LINE_CTK;
		return DESC_OK;
	}
	if (ps->section == SEC_DDB &&
	    vk_canonical_header_key(line->key, strlen(line->key)) == NULL) {
		line->kind = LINE_DDB;
		return check_ddb_key(ps, line);
	}
	line->kind = LINE_HEADER;
	return check_header_value(ps, line);
}

static desc_status classify_line(struct parser *ps, struct line *line)
{
	char shown[96];
	int m;

	m = pattern_match(P_BLANK, line->text, line->len, ps->md);
	if (m == 1) {
		line->kind = LINE_BLANK;
		return DESC_OK;
	}
	if (m == 0)
		m = pattern_match(P_COMMENT, line->text, line->len, ps->md);
	if (m == 1) {
		m = classify_comment(ps, line);
		if (m < 0)
			goto match_error;
		return DESC_OK;
	}
	if (m == 0)
		m = pattern_match(P_KEY_VALUE, line->text, line->len, ps->md);
	if (m == 1)
		return classify_key_value(ps, line);
	if (m == 0)
		m = pattern_match(P_EXTENT_LIKE, line->text, line->len, ps->md);
	if (m < 0)
		goto match_error;
	/* Anything that starts like an extent, and anything at all among
	 * the extents, is parsed as one so the error names the bad field. */
	if (m == 1 || ps->section == SEC_EXTENT) {
		line->kind = LINE_EXTENT;
		ps->section = SEC_EXTENT;
		return vk_parse_extent_line(line, ps->r.name, line->number,
					    ps->err);
	}
	if (ps->section == SEC_DDB)
		return SYNTAX(ps, line->number,
			      "unrecognised line '%s' in the disk database (expected ddb.KEY = \"VALUE\")",
			      quote_text(shown, sizeof(shown), line->text,
					 line->len));
	return SYNTAX(ps, line->number,
		      "unrecognised line '%s' (expected KEY=VALUE, a comment or %s)",
		      quote_text(shown, sizeof(shown), line->text, line->len),
		      EXPECTED_EXTENT);

match_error:
	return match_failed(ps->err, ps->r.name, line->number, m);
}

static bool has_control_bytes(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return true;
	}
	return false;
}

/* The first line that is not blank tells a descriptor from a fragment
 * (a lone extent line) or a binary file. */
static desc_status check_first_content(struct parser *ps)
{
	const char *text = ps->r.line;
	size_t len = ps->r.line_len, probe = len < 4096 ? len : 4096;
	char shown[96];
	int m;

	if (has_control_bytes(text, probe))
		return SYNTAX(ps, ps->r.lineno,
			      "not a VMDK descriptor: binary data (expected '# Disk DescriptorFile')");
	if (len > DESC_MAX_LINE)
		return DESC_OK;
	m = pattern_match(P_COMMENT, text, len, ps->md);
	if (m == 0)
		m = pattern_match(P_KEY_VALUE, text, len, ps->md);
	if (m < 0)
		return match_failed(ps->err, ps->r.name, ps->r.lineno, m);
	if (m == 0)
		return SYNTAX(ps, ps->r.lineno,
			      "not a VMDK descriptor: '%s' comes before any '# Disk DescriptorFile' or header line (expected '# Disk DescriptorFile', then version=1)",
			      quote_text(shown, sizeof(shown), text, len));
	return DESC_OK;
}

static desc_status parse_all(struct parser *ps, bool complete)
{
	desc_descriptor *desc = ps->desc;
	size_t extents = 0;

	while (reader_next(&ps->r)) {
		struct line *line;
		desc_status st;

		if (!ps->seen_content) {
			int m = pattern_match(P_BLANK, ps->r.line,
					      ps->r.line_len, ps->md);

			if (m < 0)
				return match_failed(ps->err, ps->r.name,
						    ps->r.lineno, m);
			if (m == 0) {
				ps->seen_content = true;
				st = check_first_content(ps);
				if (st != DESC_OK)
					return st;
			}
		}
		/* Binary data is told apart above, before the caps
		 * would call it a NUL inside the text. */
		st = reader_check_line(&ps->r);
		if (st != DESC_OK)
			return st;
		if (!lines_reserve(&desc->lines, 1))
			return vk_nomem_at(ps->err, ps->r.name, ps->r.lineno);
		line = lines_add_read(&desc->lines, &ps->r);
		st = classify_line(ps, line);
		if (st != DESC_OK)
			return st;
		if (line->kind == LINE_EXTENT)
			extents++;
	}
	if (ps->r.stale > 0) {
		desc_status st = parser_note(ps, DESC_SEV_WARNING,
					     ps->r.stale_line, "stale-bytes-after-text",
					     "the text ends at a NUL byte; %zu bytes after it are ignored (left over when qemu rewrites the CID in place)",
					     ps->r.stale);
		if (st != DESC_OK)
			return st;
	}
	if (!complete)
		return DESC_OK;
	if (!ps->seen_content)
		return SYNTAX(ps, 0, "not a VMDK descriptor: empty input (expected '# Disk DescriptorFile')");
	if (ps->create_type_line == 0)
		return SYNTAX(ps, 0,
			      "not a VMDK descriptor: no 'createType' line (expected createType=\"TYPE\" in the header)");
	if (extents == 0)
		return SYNTAX(ps, 0,
			      "no extent lines (expected at least one line such as RW 2048 SPARSE \"disk-s001.vmdk\")");
	return DESC_OK;
}

static desc_status parse_text(const char *text, size_t len, const char *name,
			      bool complete, desc_descriptor **out,
			      desc_findings *warnings, desc_error *err)
{
	struct parser ps;
	desc_descriptor *desc = NULL;
	size_t warnings_before = warnings ? warnings->count : 0;
	desc_status st;

	memset(&ps, 0, sizeof(ps));
	if (out == NULL)
		return desc_error_set(err, DESC_E_ARG, name, 0,
				      "no place to store the descriptor");
	*out = NULL;
	st = patterns_init(err);
	if (st != DESC_OK)
		return st;
	st = reader_open(&ps.r, &descriptor_rules, text, len, name, err);
	if (st != DESC_OK)
		return st;
	desc = vk_calloc(1, sizeof(*desc));
	if (desc == NULL) {
		st = vk_nomem_at(err, name, 0);
		goto out;
	}
	desc->lines.keep_missing_newline = true;
	if (name != NULL && (desc->name = vk_strdup(name)) == NULL) {
		st = vk_nomem_at(err, name, 0);
		goto out;
	}
	ps.md = match_data_new();
	if (ps.md == NULL) {
		st = vk_nomem_at(err, name, 0);
		goto out;
	}
	ps.desc = desc;
	ps.warnings = warnings;
	ps.err = err;
	ps.section = SEC_HEADER;
	st = parse_all(&ps, complete);
	if (st == DESC_OK)
		lines_keep(&desc->lines, &ps.r);
out:
	pcre2_match_data_free(ps.md);
	reader_close(&ps.r);
	if (st != DESC_OK) {
		desc_free(desc);
		/* A failed parse leaves the caller's warning list as it was. */
		while (warnings != NULL && warnings->count > warnings_before) {
			warnings->count--;
			vk_free(warnings->items[warnings->count].file);
			vk_free(warnings->items[warnings->count].message);
		}
		return st;
	}
	*out = desc;
	return DESC_OK;
}

desc_status desc_parse(const char *text, size_t len, const char *name,
		       desc_descriptor **out, desc_findings *warnings,
		       desc_error *err)
{
	return parse_text(text, len, name, true, out, warnings, err);
}

ptrdiff_t vk_find_section_comment(const desc_descriptor *desc,
				  enum section section)
{
	enum pattern_id id = section == SEC_EXTENT ? P_SEC_EXTENT :
			     section == SEC_CTK ? P_SEC_CTK : P_SEC_DDB;
	pcre2_match_data *md = match_data_new();
	ptrdiff_t found = -1;

	if (md == NULL)
		return -2;
	for (size_t i = 0; i < desc->lines.count && found < 0; i++) {
		const struct line *line = &desc->lines.at[i];
		int m;

		if (line->kind != LINE_COMMENT)
			continue;
		m = pattern_match(id, line->text, line->len, md);
		if (m < 0)
			found = -2;
		else if (m == 1)
			found = (ptrdiff_t)i;
	}
	pcre2_match_data_free(md);
	return found;
}

/* ------------------------------------------------------------------ */
/* Construction, copy, write                                           */
/* ------------------------------------------------------------------ */

bool vk_value_writable(const char *value)
{
	for (const char *p = value; *p != '\0'; p++)
		if (*p == '"' || *p == '\n' || *p == '\r')
			return false;
	return true;
}

desc_status desc_new(const char *create_type, uint32_t cid, uint32_t parent_cid,
		     desc_descriptor **out, desc_error *err)
{
	char *text;
	desc_status st;

	if (out != NULL)
		*out = NULL;
	if (create_type == NULL || create_type[0] == '\0' ||
	    !vk_value_writable(create_type))
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "invalid createType '%s' (expected a name such as monolithicSparse)",
				      create_type ? create_type : "(null)");
	text = vk_asprintf("# Disk DescriptorFile\n"
			   "version=1\n"
			   "encoding=\"UTF-8\"\n"
			   "CID=%08x\n"
			   "parentCID=%08x\n"
			   "createType=\"%s\"\n"
			   "\n"
			   "# Extent description\n"
			   "\n"
			   "# The Disk Data Base\n"
			   "#DDB\n"
			   "\n",
			   (unsigned)cid, (unsigned)parent_cid, create_type);
	if (text == NULL)
		return vk_nomem(err);
	st = parse_text(text, strlen(text), NULL, false, out, NULL, err);
	vk_free(text);
	return st;
}

desc_status desc_clone(const desc_descriptor *desc, desc_descriptor **out,
		       desc_error *err)
{
	desc_descriptor *copy;

	if (out == NULL || desc == NULL) {
		if (out != NULL)
			*out = NULL;
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "no descriptor to clone");
	}
	*out = NULL;
	copy = vk_calloc(1, sizeof(*copy));
	if (copy == NULL)
		goto nomem;
	if (desc->name != NULL && (copy->name = vk_strdup(desc->name)) == NULL)
		goto nomem;
	if (!lines_copy(&copy->lines, &desc->lines))
		goto nomem;
	*out = copy;
	return DESC_OK;
nomem:
	desc_free(copy);
	return vk_nomem_at(err, desc->name, 0);
}

void desc_free(desc_descriptor *desc)
{
	if (desc == NULL)
		return;
	lines_free(&desc->lines);
	vk_free(desc->name);
	vk_free(desc);
}

const char *desc_name(const desc_descriptor *desc)
{
	return desc ? desc->name : NULL;
}

desc_status desc_write(const desc_descriptor *desc, char **out, size_t *len,
		       desc_error *err)
{
	desc_status st;

	if (out == NULL || desc == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "no descriptor to write");
	st = lines_write(&desc->lines, out, len);
	if (st == DESC_E_NOMEM)
		return vk_nomem_at(err, desc->name, 0);
	if (st != DESC_OK)
		return desc_error_set(err, st, desc->name, 0,
				      "descriptor too large to write");
	return DESC_OK;
}
