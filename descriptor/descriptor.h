/*
 * descriptor.h - the text layer of libvmdkit.
 *
 * Two grammars live here:
 *   - the VMDK text descriptor (header, extent lines, disk database), and
 *   - the `key = "value"` dictionary shared by the DDB, .vmx and .vmsd files.
 *
 * Nothing in this layer touches the filesystem, prints or exits.  Every
 * function that can fail returns a desc_status and fills a caller-owned
 * desc_error (which may be NULL when the caller does not care).
 *
 * Ownership convention, used everywhere in libvmdkit:
 *   - A function named *_parse / *_new / *_load returning an object through an
 *     `**out` parameter gives the caller ownership; release with the matching
 *     *_free.  Every *_free(NULL) is a no-op.
 *   - `const char *` returned by an accessor is owned by the object and stays
 *     valid until the object is edited or freed.
 *   - Buffers returned through `char **out` are malloc'ed; release with free().
 *   - On failure nothing is returned through `out` (it is set to NULL) and no
 *     object passed in is modified.
 *
 * Threads: every function may run at the same time in several threads on
 * different objects; one object (desc_descriptor, desc_dict,
 * desc_findings) is used by one thread at a time, readers included, since
 * an edit invalidates the strings accessors returned.  The first parse
 * compiles the descriptor's patterns once, under a lock.
 * desc_test_fail_allocation is a process-wide hook for single-threaded
 * tests.
 */
#ifndef VMDKIT_DESCRIPTOR_H
#define VMDKIT_DESCRIPTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Status and errors                                                   */
/* ------------------------------------------------------------------ */

typedef enum desc_status {
	DESC_OK = 0,
	DESC_E_NOMEM,     /* allocation failed */
	DESC_E_SYNTAX,    /* text does not follow the grammar */
	DESC_E_INVALID,   /* grammatical but semantically impossible */
	DESC_E_TOO_LARGE, /* input over a size cap, or arithmetic overflow */
	DESC_E_NOT_FOUND, /* key, extent, file or parent does not exist */
	DESC_E_ARG,       /* caller passed an impossible argument */
	DESC_E_IO,        /* read/write/open failed; errnum is set */
	DESC_E_FORMAT,    /* binary file is not what it should be (sparse header...) */
	DESC_E_CHAIN,     /* parent link broken: CID mismatch, loop, depth */
	DESC_E_EXISTS,    /* target already exists */
	DESC_E_BUSY,      /* VM looks running (lock folder present) */
	DESC_E_REFUSED,   /* operation refused for safety; message says why */
} desc_status;

#define DESC_ERROR_FILE_MAX 1024
#define DESC_ERROR_MESSAGE_MAX 1024

/* Filled by a failing call.  `file` may be empty when no file is involved
 * (parsing a memory buffer with no name); `line`/`column` are 1-based, 0 when
 * not applicable; `errnum` is the errno of a failed system call, else 0. */
typedef struct desc_error {
	desc_status code;
	char file[DESC_ERROR_FILE_MAX];
	unsigned line;
	unsigned column;
	int errnum;
	char message[DESC_ERROR_MESSAGE_MAX];
} desc_error;

/* Clears *err to DESC_OK with empty strings.  err may be NULL. */
void desc_error_clear(desc_error *err);

/* Fills err (may be NULL) and returns code, so callers can write
 * `return desc_error_set(err, DESC_E_SYNTAX, file, line, "...", ...)`. */
desc_status desc_error_set(desc_error *err, desc_status code, const char *file,
			   unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Formats "FILE:LINE: message" (or "FILE: message", or "message") into buf. */
void desc_error_format(const desc_error *err, char *buf, size_t size);

/* Short stable English name of a status ("syntax error", ...). */
const char *desc_status_name(desc_status code);

/* ------------------------------------------------------------------ */
/* Findings: non-fatal observations (warnings) and validation results  */
/* ------------------------------------------------------------------ */

typedef enum desc_severity {
	DESC_SEV_INFO = 0,
	DESC_SEV_WARNING = 1,
	DESC_SEV_ERROR = 2,
} desc_severity;

/* One observation.  `code` is a stable lowercase identifier such as
 * "unknown-ddb-key" or "cid-not-hex" (documented in README.md); scripts
 * match on it.  `file` and `message` are owned by the list. */
typedef struct desc_finding {
	desc_severity severity;
	const char *code; /* static string */
	char *file;       /* may be NULL */
	unsigned line;    /* 0 = whole file */
	char *message;
} desc_finding;

typedef struct desc_findings {
	desc_finding *items;
	size_t count;
	size_t capacity;
} desc_findings;

/* A zero-initialised desc_findings is an empty list. */
void desc_findings_init(desc_findings *list);
/* Frees all items; the list is empty and reusable afterwards. */
void desc_findings_clear(desc_findings *list);
/* Appends a finding (message is printf-formatted and copied). */
desc_status desc_findings_add(desc_findings *list, desc_severity severity,
			      const char *code, const char *file, unsigned line,
			      const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Highest severity present, or -1 when the list is empty. */
int desc_findings_max_severity(const desc_findings *list);
const char *desc_severity_name(desc_severity severity);

/* ------------------------------------------------------------------ */
/* Test hook: allocation failure                                       */
/* ------------------------------------------------------------------ */

/* Makes the Nth allocation made by libvmdkit from now on fail (1 = the next
 * one); 0 disables.  For tests that prove every constructor fails cleanly.
 * Returns the number of allocations counted since the last call. */
unsigned long desc_test_fail_allocation(unsigned long nth);

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

/* Largest text accepted for a descriptor, .vmx or .vmsd (bytes, before the
 * trailing NUL padding is removed from the count). */
#define DESC_MAX_INPUT (4u * 1024u * 1024u)
/* Longest single line accepted. */
#define DESC_MAX_LINE (64u * 1024u)

/* ------------------------------------------------------------------ */
/* key = "value" dictionaries (.vmx, .vmsd, and the DDB grammar)       */
/* ------------------------------------------------------------------ */

typedef struct desc_dict desc_dict;

/* Parses text as a dictionary.  Tolerates CRLF, a UTF-8 BOM, trailing NUL
 * padding, a missing final newline, comments (#...), blank lines and a
 * leading "#!" line.  `name` is used in error messages (may be NULL).
 * Keys are compared case-insensitively.  Values may be quoted ("...") or
 * bare.  Duplicate keys are kept; get() returns the last one and a finding
 * "duplicate-key" is added to `warnings` (may be NULL). */
desc_status desc_dict_parse(const char *text, size_t len, const char *name,
			    desc_dict **out, desc_findings *warnings,
			    desc_error *err);

/* A new empty dictionary (writes as nothing; set() appends lines). */
desc_status desc_dict_new(desc_dict **out, desc_error *err);
void desc_dict_free(desc_dict *dict);

/* Value of the last line with this key, decoded (VMware's |XX escapes
 * turned into bytes), or NULL. */
const char *desc_dict_get(const desc_dict *dict, const char *key);
/* Same, but the raw text between the quotes, undecoded. */
const char *desc_dict_get_raw(const desc_dict *dict, const char *key);

/* Sets key to value (encoded with |XX where needed).  An existing line keeps
 * its position and its key spelling; only that line is rewritten, in the
 * form `key = "value"`.  A new key is appended at the end. */
desc_status desc_dict_set(desc_dict *dict, const char *key, const char *value,
			  desc_error *err);
/* Removes every line with this key.  Returns the number removed. */
size_t desc_dict_unset(desc_dict *dict, const char *key);

/* Entries in file order (comments and blank lines are not entries). */
size_t desc_dict_count(const desc_dict *dict);
const char *desc_dict_key_at(const desc_dict *dict, size_t index);
const char *desc_dict_value_at(const desc_dict *dict, size_t index);
unsigned desc_dict_line_at(const desc_dict *dict, size_t index);

/* Writes the dictionary back.  Unedited lines are reproduced byte for byte
 * (line endings included); padding after the text is not reproduced. */
desc_status desc_dict_write(const desc_dict *dict, char **out, size_t *len,
			    desc_error *err);

/* Encodes a value the way VMware writes .vmx values ('"' -> |22, '|' ->
 * |7C, control bytes -> |XX).  Caller frees. */
desc_status desc_dict_encode_value(const char *value, char **out,
				   desc_error *err);

/* ------------------------------------------------------------------ */
/* VMDK text descriptors                                               */
/* ------------------------------------------------------------------ */

typedef enum desc_access {
	DESC_ACCESS_RW,
	DESC_ACCESS_RDONLY,
	DESC_ACCESS_NOACCESS,
} desc_access;

typedef enum desc_extent_type {
	DESC_EXTENT_FLAT,
	DESC_EXTENT_SPARSE,
	DESC_EXTENT_ZERO,
	DESC_EXTENT_VMFS,
	DESC_EXTENT_VMFSSPARSE,
	DESC_EXTENT_VMFSRDM,
	DESC_EXTENT_VMFSRAW,
	DESC_EXTENT_SESPARSE,
} desc_extent_type;

/* A parsed extent line.  `path` is NULL for a ZERO extent without a file;
 * it is the name exactly as written between the quotes. */
typedef struct desc_extent {
	desc_access access;
	uint64_t sectors;
	desc_extent_type type;
	const char *path;
	bool has_offset;
	uint64_t offset; /* sectors */
	unsigned line;   /* 0 for an extent added by an edit */
} desc_extent;

const char *desc_access_name(desc_access access);       /* "RW" */
const char *desc_extent_type_name(desc_extent_type type); /* "SPARSE" */
/* Parses "RW"/"RDONLY"/"NOACCESS" (exact case); false if unknown. */
bool desc_access_from_name(const char *name, desc_access *out);
bool desc_extent_type_from_name(const char *name, desc_extent_type *out);

/* createType values known to libvmdkit (VMware's specification plus what
 * real files use).  Returns true for a known value. */
bool desc_create_type_known(const char *create_type);

typedef struct desc_descriptor desc_descriptor;

/* Parses a descriptor.  Accepts CRLF, a UTF-8 BOM, NUL/space padding after
 * the text (as in embedded descriptors and files qemu rewrote in place), a
 * missing final newline; rejects input over DESC_MAX_INPUT and lines over
 * DESC_MAX_LINE.  Syntax errors fail with DESC_E_SYNTAX and a line number
 * (and a column for extent and header value errors); unknown header/DDB
 * keys, an unknown createType and the few stale bytes qemu can leave after
 * the NUL ending the text are kept or skipped and reported in `warnings`
 * (may be NULL; codes in descriptor/FINDINGS.md).  `name` is used in
 * messages (may be NULL). */
desc_status desc_parse(const char *text, size_t len, const char *name,
		       desc_descriptor **out, desc_findings *warnings,
		       desc_error *err);

/* A new descriptor in the canonical template (FORMAT.md, "Write what every
 * consumer reads the same way"): version=1, encoding="UTF-8", the given CID,
 * parentCID, createType, the three section comments, no extents, empty DDB.
 * Extents and DDB keys added later go into their sections. */
desc_status desc_new(const char *create_type, uint32_t cid, uint32_t parent_cid,
		     desc_descriptor **out, desc_error *err);

/* A deep copy. */
desc_status desc_clone(const desc_descriptor *desc, desc_descriptor **out,
		       desc_error *err);

void desc_free(desc_descriptor *desc);

/* The name given at parse time (may be NULL). */
const char *desc_name(const desc_descriptor *desc);

/* Writes the descriptor.  An unmodified parse is reproduced byte for byte
 * (padding excluded); an edited one differs only in the lines edited. */
desc_status desc_write(const desc_descriptor *desc, char **out, size_t *len,
		       desc_error *err);

/* Header.  Values are unquoted; NULL when the key is absent. */
const char *desc_header_get(const desc_descriptor *desc, const char *key);
/* Sets a header key; an existing line is rewritten in place, a new key is
 * inserted after the last header line, written `key="value"` (or unquoted
 * for version/CID/parentCID). */
desc_status desc_header_set(desc_descriptor *desc, const char *key,
			    const char *value, desc_error *err);
size_t desc_header_unset(desc_descriptor *desc, const char *key);

/* Convenience accessors.  *_cid return false when the key is missing or
 * not a hexadecimal number of 1 to 8 digits (VMware writes 8; qemu drops
 * leading zeros). */
bool desc_cid(const desc_descriptor *desc, uint32_t *out);
bool desc_parent_cid(const desc_descriptor *desc, uint32_t *out);
const char *desc_create_type(const desc_descriptor *desc);
const char *desc_parent_hint(const desc_descriptor *desc); /* NULL: none */
desc_status desc_set_cid(desc_descriptor *desc, uint32_t cid, desc_error *err);
desc_status desc_set_parent_cid(desc_descriptor *desc, uint32_t cid,
				desc_error *err);
/* hint NULL removes the line. */
desc_status desc_set_parent_hint(desc_descriptor *desc, const char *hint,
				 desc_error *err);

/* Extents, in order. */
size_t desc_extent_count(const desc_descriptor *desc);
const desc_extent *desc_extent_at(const desc_descriptor *desc, size_t index);
/* Sum of extent sizes, in sectors; false on overflow. */
bool desc_capacity(const desc_descriptor *desc, uint64_t *sectors);
desc_status desc_extent_set_path(desc_descriptor *desc, size_t index,
				 const char *path, desc_error *err);
/* Appends an extent line after the last extent (or under the extent
 * section comment).  extent->line is ignored. */
desc_status desc_extent_add(desc_descriptor *desc, const desc_extent *extent,
			    desc_error *err);
desc_status desc_extent_remove(desc_descriptor *desc, size_t index,
			       desc_error *err);

/* Disk database.  Keys include the "ddb." prefix. */
const char *desc_ddb_get(const desc_descriptor *desc, const char *key);
desc_status desc_ddb_set(desc_descriptor *desc, const char *key,
			 const char *value, desc_error *err);
size_t desc_ddb_unset(desc_descriptor *desc, const char *key);
size_t desc_ddb_count(const desc_descriptor *desc);
const char *desc_ddb_key_at(const desc_descriptor *desc, size_t index);
const char *desc_ddb_value_at(const desc_descriptor *desc, size_t index);

/* Semantic validation without touching files: CID/parentCID form, extent
 * sizes and their sum, createType vs extent types, geometry vs capacity,
 * duplicate header keys, adapterType.  Findings are appended to `out`
 * (file = desc_name()).  Returns DESC_E_NOMEM only on allocation failure. */
desc_status desc_validate(const desc_descriptor *desc, desc_findings *out);

/* Portability findings: forms that VMware, qemu, VirtualBox and libvmdk
 * read differently (FORMAT.md).  Appended to `out`. */
desc_status desc_check_portability(const desc_descriptor *desc,
				   desc_findings *out);

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/* What desc_parse_number found. */
typedef enum desc_number_status {
	DESC_NUMBER_OK = 0,
	DESC_NUMBER_NONE,	/* no digit of the base at the cursor */
	DESC_NUMBER_OVERFLOW	/* the digits' value is above `max` */
} desc_number_status;

/* The project's one number parser, a cursor helper: reads the digits of
 * `base` (8, 10 or 16; hex accepts both cases; no "0x" and no sign) starting
 * at *p and ending at the first non-digit or at `end` (NULL: at the NUL),
 * and stores their value in *out.  The value must be at most `max`;
 * overflow is checked digit by digit, so any number of digits is safe.
 * *p advances past the digits only on DESC_NUMBER_OK; on any other result
 * *p and *out are unchanged.  Thread-safe (no state). */
desc_number_status desc_parse_number(const char **p, const char *end,
				     unsigned base, uint64_t max,
				     uint64_t *out);

/* The whole of s[0..len) is one number of `base` no greater than `max`
 * (at least one digit, nothing else): true and *out set, else false and
 * *out unchanged.  len is strlen(s) when s is NUL-terminated. */
bool desc_parse_number_all(const char *s, size_t len, unsigned base,
			   uint64_t max, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif
