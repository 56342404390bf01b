/*
 * lines.h - the one line model of descriptor/: a text kept as its lines,
 * in order, each with its own bytes and line ending, so writing an
 * unedited text gives the input back and an edit rewrites only the lines
 * it touches.  The descriptor (descriptor.c, edit.c, validate.c) and the
 * dictionary (dict.c) both keep their text this way.  Never installed.
 *
 * Ownership: a struct lines owns its array, its kept copy of the input
 * and everything each line points at, except that an unedited line's
 * text lives in `kept` (line.edited is false) rather than on its own.
 */
#ifndef VMDKIT_DESCRIPTOR_LINES_H
#define VMDKIT_DESCRIPTOR_LINES_H

#include <stdbool.h>
#include <stddef.h>

#include "descriptor/descriptor.h"
#include "descriptor/reader.h"

enum line_kind {
	LINE_BLANK,
	LINE_COMMENT,
	/* the descriptor's */
	LINE_HEADER, /* key=value before the disk database */
	LINE_EXTENT,
	LINE_CTK,    /* key=value in "# Change Tracking File" */
	LINE_DDB,    /* ddb.key = "value" */
	/* the dictionary's */
	LINE_ENTRY,  /* key = "value" */
};

/* What an extent line adds to a line (the descriptor's only). */
struct extent_line {
	desc_extent fields;     /* fields.path points at path */
	char *path;             /* NULL for a ZERO extent without a file */
	size_t path_off;        /* the name's span in the line's text, */
	size_t path_end;        /* quotes excluded */
};

struct line {
	enum line_kind kind;
	enum line_end eol;
	unsigned number;        /* 1-based line in the parsed text; 0 = made
				 * by an edit */
	bool edited;            /* text is the line's own; else it points
				 * into the list's kept input */
	char *text;             /* the bytes without the line ending,
				 * NUL-terminated */
	size_t len;
	/* key-value lines (HEADER, CTK, DDB, ENTRY); NULL and 0 otherwise */
	char *key;
	size_t key_off, key_end;     /* the key's span in text */
	char *value;            /* as the grammar reads it: unquoted (and,
				 * in the dictionary, |XX escapes decoded) */
	char *raw;              /* the dictionary's: the value as written */
	size_t value_off, value_end; /* the value's span in text, quotes
				      * included */
	bool quoted;
	struct extent_line *extent; /* LINE_EXTENT lines only */
};

struct lines {
	struct line *at;        /* at[0..count), in text order */
	size_t count;
	size_t capacity;
	char *kept;             /* the parsed input (reader_keep_copy) */
	size_t kept_size;       /* bytes in kept */
	bool bom;               /* a UTF-8 BOM came first; written back */
	/* A text that ended without a final newline still does after an
	 * edit adds or removes its last line (the descriptor).  Without
	 * it (the dictionary) a line appended after that last line ends
	 * it first, and removing it leaves the line above as it was. */
	bool keep_missing_newline;
};

/* Frees what the line owns (its text only when edited) and zeroes it. */
void line_clear(struct line *line);

/* A line an edit makes: takes over text[0..len) (malloc'ed through
 * vk_*, NUL-terminated), ending in LF until placed.  Cannot fail. */
void line_init_edited(struct line *line, enum line_kind kind, char *text,
		      size_t len);

/* Room for `extra` more lines, so that an edit can fail before it
 * changes anything.  False on allocation failure. */
bool lines_reserve(struct lines *lines, size_t extra);

/* Appends the reader's current line as read (room must be reserved) and
 * returns it.  Its text stays in the reader's copy: lines_keep must
 * follow before the reader is closed, or the list is freed unused. */
struct line *lines_add_read(struct lines *lines, const struct reader *r);

/* Takes over the reader's copy of the input (and its BOM) once every
 * line has been read. */
void lines_keep(struct lines *lines, struct reader *r);

/* Moves *line in at index pos (room must be reserved), ending in the
 * ending most lines use; see keep_missing_newline for the last line. */
void lines_insert(struct lines *lines, size_t pos, struct line *line);

/* Puts *line in place of line pos, which is freed; the new line keeps
 * the old one's ending. */
void lines_replace(struct lines *lines, size_t pos, struct line *line);

/* Removes and frees line pos. */
void lines_remove(struct lines *lines, size_t pos);

/* Removes every line of `kind` whose key is `key` (case-insensitive) in
 * one pass; returns how many. */
size_t lines_remove_key(struct lines *lines, enum line_kind kind,
			const char *key);

/* The index of the last line of `kind` whose key is `key`
 * (case-insensitive), or -1. */
ptrdiff_t lines_find_last(const struct lines *lines, enum line_kind kind,
			  const char *key);

/* The text: BOM, then every line and its ending, into a malloc'ed,
 * NUL-terminated buffer (*len without the NUL; len may be NULL).
 * DESC_OK, DESC_E_NOMEM or DESC_E_TOO_LARGE (err is the caller's to
 * word). */
desc_status lines_write(const struct lines *lines, char **out, size_t *len);

/* A deep copy into *copy (zeroed first); false on allocation failure
 * (nothing left to free). */
bool lines_copy(struct lines *copy, const struct lines *lines);

/* Frees every line, the array and the kept input; the list is empty. */
void lines_free(struct lines *lines);

#endif
