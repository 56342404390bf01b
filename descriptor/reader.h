/*
 * reader.h - the one reader under both text grammars of descriptor/ (the
 * VMDK descriptor and the key = "value" dictionary).  Never installed.
 *
 * The reader takes the input (a memory buffer: descriptor/ never touches
 * the filesystem; vmdk/fs reads files, capped at DESC_MAX_INPUT) and its
 * name, normalises the bytes once and hands out one line at a time:
 *
 *   - a size cap (DESC_MAX_INPUT, counted before padding is removed);
 *   - a UTF-8 byte order mark at the start, removed and remembered;
 *   - trailing NUL padding (embedded descriptors, files rewritten in
 *     place), removed and never written back;
 *   - LF or CRLF line endings, removed from the line and remembered;
 *   - a missing final newline, remembered (EOL_NONE);
 *   - line caps: DESC_MAX_LINE bytes, NUL bytes inside a line, and what
 *     the rules below add.
 *
 * The two grammars have always differed in a few of these details; the
 * differences are the fields of struct reader_rules, so each parser says
 * which it wants instead of carrying its own copy of the code.
 *
 * Lines are handed out as byte spans of the normalised text and as
 * NUL-terminated strings in the reader's copy of it; a parser that keeps
 * the lines keeps that copy (reader_keep_copy), so an unedited line costs
 * no allocation and writes back byte for byte.
 */
#ifndef VMDKIT_DESCRIPTOR_READER_H
#define VMDKIT_DESCRIPTOR_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "descriptor/descriptor.h"

/* How a line ended in the input. */
enum line_end {
	EOL_NONE, /* the last line, without a final newline */
	EOL_LF,
	EOL_CRLF,
};

/* Longest leftover accepted after a NUL that ends the text (see
 * reader_rules.stale_after_nul). */
#define READER_MAX_STALE 64

/* The two grammars' errors predate the shared reader and are pinned by
 * tests, golden files and scripts, so the reader words its refusals the
 * way the grammar always did. */
enum reader_messages {
	READER_MESSAGES_DESCRIPTOR,
	READER_MESSAGES_DICTIONARY,
};

/* Where the grammars differ.  Each parser keeps one static const set. */
struct reader_rules {
	/* Besides trailing NULs, a last line of nothing but spaces and NULs
	 * is padding too (descriptor areas padded either way).  Without
	 * it, such a line is content and writes back (.vmx). */
	bool blank_padding;
	/* qemu rewrites a descriptor's CID in place as a C string; a CID
	 * two or more digits shorter leaves the old text's tail after the
	 * new NUL.  Like qemu, end the text at a NUL that starts a line
	 * when at most READER_MAX_STALE bytes follow it; reader.stale
	 * says how many were dropped.  Any other NUL is still refused. */
	bool stale_after_nul;
	/* Refuse line max_lines + 1; 0: no cap.  Only the descriptor has
	 * one, and the message says "descriptor". */
	unsigned max_lines;
	/* Refuse a CR that is not followed by LF; without it such a CR is
	 * a byte of its line like any other. */
	bool refuse_lone_cr;
	/* Refuse a UTF-8 byte order mark at the start of a line (once the
	 * one the text may start with is removed). */
	bool refuse_inner_bom;
	enum reader_messages messages;
};

/* One input being read.  Everything is owned by the reader except
 * `rules`, `name`, `err` and the caller's input. */
struct reader {
	const struct reader_rules *rules;
	const char *name; /* for messages; may be NULL */
	desc_error *err;  /* may be NULL */
	/* the normalised text */
	const char *text; /* in the caller's input, after the BOM */
	size_t len;       /* padding and stale bytes removed */
	bool bom;
	size_t stale;        /* bytes dropped after the NUL ending the text */
	unsigned stale_line; /* the line of that NUL */
	/* text[0..len) copied, plus a NUL: each line handed out is
	 * NUL-terminated in place of its line ending */
	char *copy;
	size_t pos;
	/* the current line */
	unsigned lineno;  /* 1-based */
	const char *line; /* in copy, NUL-terminated */
	size_t line_off;  /* where it starts in the text (and in copy) */
	size_t line_len;  /* without the line ending */
	enum line_end eol;
};

/* Opens a reader on text[0..len) (text may be NULL when len is 0) and
 * normalises it.  On failure fills err with the grammar's wording
 * (DESC_E_ARG, DESC_E_TOO_LARGE, DESC_E_NOMEM) and leaves nothing to
 * close; on success reader_close must follow. */
desc_status reader_open(struct reader *r, const struct reader_rules *rules,
			const char *text, size_t len, const char *name,
			desc_error *err);

/* Advances to the next line; false at the end of the text. */
bool reader_next(struct reader *r);

/* The caps on the current line: the rules' line count, DESC_MAX_LINE,
 * NUL bytes, and a lone CR or an inner BOM when the rules refuse them.
 * DESC_OK, or the error for the first one broken.  Separate from
 * reader_next so that a parser can look at a line (is it text at all?)
 * before the caps speak. */
desc_status reader_check_line(struct reader *r);

/* Fills err with "PROBLEM in 'LINE' (EXPECTED)" for the current line,
 * quoting its first `shown` bytes (at most 60), with a 1-based column;
 * returns code.  The dictionary's form of a line error. */
desc_status reader_line_error(const struct reader *r, desc_status code,
			      size_t column, const char *problem, size_t shown,
			      const char *expected);

/* Hands the copy over to the caller (free with vk_free): the lines
 * handed out stay valid in it.  NULL after the first call. */
char *reader_keep_copy(struct reader *r);

/* Frees what the reader still owns.  Lines handed out are invalid
 * afterwards unless their copy was kept. */
void reader_close(struct reader *r);

#endif
