/* check_dict.c - the key = "value" dictionary grammar (descriptor/dict.c). */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Parses s (length n) or fails the test with the error text. */
static desc_dict *parse_ok(const char *s, size_t n, desc_findings *warnings)
{
	desc_dict *dict = NULL;
	desc_error err;
	char msg[2048];

	desc_error_clear(&err);
	if (desc_dict_parse(s, n, "t.vmx", &dict, warnings, &err) != DESC_OK) {
		desc_error_format(&err, msg, sizeof(msg));
		ck_abort_msg("parse failed: %s", msg);
	}
	ck_assert_ptr_nonnull(dict);
	return dict;
}

/* Writes dict and compares with the expected bytes. */
static void assert_written(const desc_dict *dict, const char *want,
			   size_t want_len)
{
	char *out = NULL;
	size_t len = 0;
	desc_error err;

	ck_assert_int_eq(desc_dict_write(dict, &out, &len, &err), DESC_OK);
	ck_assert_msg(len == want_len && memcmp(out, want, len) == 0,
		      "written:\n[%.*s]\nexpected:\n[%.*s]", (int)len, out,
		      (int)want_len, want);
	free(out);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	ck_assert_int_ge(size, 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/* ------------------------------------------------------------------ */
/* Corpus round trip                                                   */
/* ------------------------------------------------------------------ */

static unsigned roundtrip_dir(const char *sub)
{
	const char *corpus = getenv("VMDKIT_CORPUS");
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	unsigned files = 0;
	DIR *d;

	if (corpus == NULL || corpus[0] == '\0')
		return 0;
	snprintf(dir, sizeof(dir), "%s/%s", corpus, sub);
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		desc_findings warnings;
		desc_dict *dict;
		char *text;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = read_all(path, &len);
		desc_findings_init(&warnings);
		dict = parse_ok(text, len, &warnings);
		/* Real files have no duplicate keys. */
		ck_assert_msg(warnings.count == 0, "%s: %s", de->d_name,
			      warnings.count ? warnings.items[0].message : "");
		assert_written(dict, text, len);
		if (len > 0)
			ck_assert_msg(desc_dict_count(dict) > 0, "%s: no entries",
				      de->d_name);
		desc_dict_free(dict);
		desc_findings_clear(&warnings);
		free(text);
		files++;
	}
	closedir(d);
	return files;
}

START_TEST(corpus_roundtrip)
{
	unsigned vmx = roundtrip_dir("vmx");
	unsigned vmsd = roundtrip_dir("vmsd");

	if (vmx + vmsd == 0) {
		fprintf(stderr, "SKIP corpus_roundtrip: no corpus at $VMDKIT_CORPUS\n");
		return;
	}
	ck_assert_uint_ge(vmx, 20);
	ck_assert_uint_ge(vmsd, 5);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Grammar: what is accepted, and the values it gives                  */
/* ------------------------------------------------------------------ */

static const struct accept_case {
	const char *text;
	const char *key;   /* looked up (any case) */
	const char *value; /* decoded; NULL = absent */
	const char *raw;
	size_t entries;
} accept_cases[] = {
	{ "a = \"1\"\n", "a", "1", "1", 1 },
	{ "a=\"1\"\n", "A", "1", "1", 1 },
	{ "  a\t=\t\"1\"  \n", "a", "1", "1", 1 },
	{ "virtualSSD = 0\n", "virtualssd", "0", "0", 1 },
	{ "a = \"1\" # trailing comment\n", "a", "1", "1", 1 },
	{ "a = bare# comment\n", "a", "bare", "bare", 1 },
	{ "a =\n", "a", "", "", 1 },
	{ "a = \"\"\n", "a", "", "", 1 },
	{ "a = \"x = |22y|22 # not a comment\"\n", "a",
	  "x = \"y\" # not a comment", "x = |22y|22 # not a comment", 1 },
	{ "#!/usr/bin/vmware\n.encoding = \"UTF-8\"\n", ".ENCODING", "UTF-8",
	  "UTF-8", 1 },
	{ "# comment\n\n   \n\t# indented comment\nk = \"v\"\n", "k", "v", "v", 1 },
	{ "displayName = \"say |22hi|22\"\n", "displayname", "say \"hi\"",
	  "say |22hi|22", 1 },
	{ "unity.customColor = \"|23C0C0C0\"\n", "unity.customColor",
	  "#C0C0C0", "|23C0C0C0", 1 },
	{ "a = \"|7c|7C|0A\"\n", "a", "||\n", "|7c|7C|0A", 1 },
	{ "a = \"|zz|2\"\n", "a", "|zz|2", "|zz|2", 1 },
	{ "a = \"end|\"\n", "a", "end|", "end|", 1 },
	{ "a = \"C:\\path\\x.iso\"\n", "a", "C:\\path\\x.iso",
	  "C:\\path\\x.iso", 1 },
	{ "a = \"caf\xc3\xa9\"\n", "a", "caf\xc3\xa9", "caf\xc3\xa9", 1 },
	{ "a = \"1\"\r\nb = \"2\"\r\n", "B", "2", "2", 2 },
	{ "\xef\xbb\xbf" "a = \"1\"\n", "a", "1", "1", 1 },
	{ "a = \"1\"", "a", "1", "1", 1 },
	{ "", "a", NULL, NULL, 0 },
	{ "a = \"1\"\nb = \"2\"\n", "c", NULL, NULL, 2 },
};

START_TEST(accept)
{
	const struct accept_case *c = &accept_cases[_i];
	desc_dict *dict;
	const char *v;

	dict = parse_ok(c->text, strlen(c->text), NULL);
	ck_assert_uint_eq(desc_dict_count(dict), c->entries);
	v = desc_dict_get(dict, c->key);
	if (c->value == NULL) {
		ck_assert_ptr_null(v);
		ck_assert_ptr_null(desc_dict_get_raw(dict, c->key));
	} else {
		ck_assert_ptr_nonnull(v);
		ck_assert_str_eq(v, c->value);
		ck_assert_str_eq(desc_dict_get_raw(dict, c->key), c->raw);
	}
	assert_written(dict, c->text, strlen(c->text));
	desc_dict_free(dict);
}
END_TEST

START_TEST(quoted_hash_is_not_comment)
{
	const char *text = "a = \"x # y\"   # real comment\n";
	desc_dict *dict = parse_ok(text, strlen(text), NULL);

	ck_assert_str_eq(desc_dict_get(dict, "a"), "x # y");
	desc_dict_free(dict);
}
END_TEST

START_TEST(accessors_in_file_order)
{
	const char *text = "#!/usr/bin/vmware\n"
			   "First.Key = \"1\"\n"
			   "\n"
			   "# note\n"
			   "second = \"two|22\"\n"
			   "third=3\n";
	desc_dict *dict = parse_ok(text, strlen(text), NULL);

	ck_assert_uint_eq(desc_dict_count(dict), 3);
	ck_assert_str_eq(desc_dict_key_at(dict, 0), "First.Key");
	ck_assert_str_eq(desc_dict_value_at(dict, 0), "1");
	ck_assert_uint_eq(desc_dict_line_at(dict, 0), 2);
	ck_assert_str_eq(desc_dict_key_at(dict, 1), "second");
	ck_assert_str_eq(desc_dict_value_at(dict, 1), "two\"");
	ck_assert_uint_eq(desc_dict_line_at(dict, 1), 5);
	ck_assert_str_eq(desc_dict_key_at(dict, 2), "third");
	ck_assert_uint_eq(desc_dict_line_at(dict, 2), 6);
	ck_assert_ptr_null(desc_dict_key_at(dict, 3));
	ck_assert_ptr_null(desc_dict_value_at(dict, 3));
	ck_assert_uint_eq(desc_dict_line_at(dict, 3), 0);
	ck_assert_str_eq(desc_dict_get(dict, "first.key"), "1");
	desc_dict_free(dict);
}
END_TEST

/* Padding is dropped; everything else comes back. */
static const struct pad_case {
	const char *text;
	size_t len;
	const char *written;
	size_t written_len;
	size_t entries;
} pad_cases[] = {
	{ "a = \"1\"\n\0\0\0\0", 12, "a = \"1\"\n", 8, 1 },
	{ "a = \"1\"\0\0", 9, "a = \"1\"", 7, 1 },
	{ "\0\0\0\0", 4, "", 0, 0 },
	{ "\xef\xbb\xbf" "a = \"1\"\r\n\0", 13, "\xef\xbb\xbf" "a = \"1\"\r\n", 12, 1 },
	{ "\xef\xbb\xbf", 3, "\xef\xbb\xbf", 3, 0 },
	{ "\n\n", 2, "\n\n", 2, 0 },
	/* The shared reader (reader.c) with the dictionary's rules: a last
	 * line of spaces is content here (a descriptor drops it). */
	{ "a = \"1\"\n   ", 11, "a = \"1\"\n   ", 11, 1 },
	{ "a = \"1\"\n \0\0", 11, "a = \"1\"\n ", 9, 1 },
	{ "\xef\xbb\xbf" "a = 1\r\nb = 2\0", 16, "\xef\xbb\xbf" "a = 1\r\nb = 2", 15, 2 },
};

START_TEST(padding)
{
	const struct pad_case *c = &pad_cases[_i];
	desc_dict *dict = parse_ok(c->text, c->len, NULL);

	ck_assert_uint_eq(desc_dict_count(dict), c->entries);
	assert_written(dict, c->written, c->written_len);
	desc_dict_free(dict);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bad input: exact status, line and message                           */
/* ------------------------------------------------------------------ */

#define EXPECTED "(expected key = \"value\", a # comment or a blank line)"

static const struct bad_case {
	const char *text;
	size_t len; /* 0 = strlen */
	desc_status code;
	unsigned line;
	unsigned column;
	const char *message;
} bad_cases[] = {
	{ "a = \"1\"\nb = \"unterminated\n", 0, DESC_E_SYNTAX, 2, 5,
	  "t.vmx:2: unterminated quoted value in 'b = \"unterminated' " EXPECTED },
	{ "novalue\n", 0, DESC_E_SYNTAX, 1, 8,
	  "t.vmx:1: missing '=' after the key in 'novalue' " EXPECTED },
	{ "# c\nkey \"v\"\n", 0, DESC_E_SYNTAX, 2, 5,
	  "t.vmx:2: missing '=' after the key in 'key \"v\"' " EXPECTED },
	{ " = \"x\"\n", 0, DESC_E_SYNTAX, 1, 2,
	  "t.vmx:1: missing key before '=' in ' = \"x\"' " EXPECTED },
	{ "a = \"1\" junk\n", 0, DESC_E_SYNTAX, 1, 9,
	  "t.vmx:1: unexpected text after the value in 'a = \"1\" junk' " EXPECTED },
	{ "a = two words\n", 0, DESC_E_SYNTAX, 1, 9,
	  "t.vmx:1: unexpected text after the value in 'a = two words' " EXPECTED },
	{ "a = \"1\"\nb = \"x\0y\"\n", 17, DESC_E_SYNTAX, 2, 7,
	  "t.vmx:2: nul byte inside the line in 'b = \"x' (expected text; NUL only as padding at the end)" },
	{ "a = \"1\"\rb = \"2\"\n", 0, DESC_E_SYNTAX, 1, 8,
	  "t.vmx:1: stray carriage return in 'a = \"1\"' (expected LF or CRLF line endings)" },
	/* fuzz_dict: a BOM starting line 2 became the first key's once
	 * line 1 was unset, and was read back as the file's BOM */
	{ "displayName =\n\xef\xbb\xbfi0 = \"t\"\n", 0, DESC_E_SYNTAX, 2, 1,
	  "t.vmx:2: byte order mark at the start of a line in '\xef\xbb\xbfi0 = \"t\"' (expected a BOM only at the start of the file)" },
	/* The shared reader with the dictionary's rules: no text words
	 * itself differently from a descriptor's, and a NUL starting a line
	 * is refused even when few bytes follow (a descriptor ends its text
	 * there, as qemu does) */
	{ NULL, 5, DESC_E_ARG, 0, 0, "t.vmx: missing text (expected a buffer)" },
	{ "a = 1\n\0b = 2\n", 13, DESC_E_SYNTAX, 2, 1,
	  "t.vmx:2: nul byte inside the line in '' (expected text; NUL only as padding at the end)" },
	{ "a = \"1\"\nb = \"this line is quoted back only up to sixty bytes, then dots\n",
	  0, DESC_E_SYNTAX, 2, 5,
	  "t.vmx:2: unterminated quoted value in 'b = \"this line is quoted back only up to sixty bytes, then d...' " EXPECTED },
};

START_TEST(bad_input)
{
	const struct bad_case *c = &bad_cases[_i];
	size_t len = c->len ? c->len : strlen(c->text);
	desc_findings warnings;
	desc_dict *dict = (desc_dict *)&warnings; /* must be reset to NULL */
	desc_error err;
	char msg[2048];

	desc_findings_init(&warnings);
	ck_assert_int_eq(desc_dict_parse(c->text, len, "t.vmx", &dict,
					 &warnings, &err), c->code);
	ck_assert_ptr_null(dict);
	ck_assert_uint_eq(err.line, c->line);
	ck_assert_uint_eq(err.column, c->column);
	ck_assert_int_eq(err.code, c->code);
	desc_error_format(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, c->message);
	ck_assert_uint_eq(warnings.count, 0);
	desc_findings_clear(&warnings);
}
END_TEST

START_TEST(line_too_long)
{
	size_t n = 200 * 1024;
	char *text = malloc(n + 16);
	desc_dict *dict;
	desc_error err;
	char msg[2048];

	ck_assert_ptr_nonnull(text);
	memcpy(text, "a = \"1\"\nb = \"", 13);
	memset(text + 13, 'x', n);
	memcpy(text + 13 + n, "\"\n", 2);
	ck_assert_int_eq(desc_dict_parse(text, n + 15, "big.vmx", &dict, NULL,
					 &err), DESC_E_TOO_LARGE);
	ck_assert_ptr_null(dict);
	desc_error_format(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, "big.vmx:2: line too long (204806 bytes, expected at most 65536)");

	/* Exactly DESC_MAX_LINE bytes is still fine. */
	memcpy(text, "k = \"", 5);
	memset(text + 5, 'y', DESC_MAX_LINE - 6);
	memcpy(text + DESC_MAX_LINE - 1, "\"\n", 2);
	dict = parse_ok(text, DESC_MAX_LINE + 1, NULL);
	ck_assert_uint_eq(strlen(desc_dict_get(dict, "k")), DESC_MAX_LINE - 6);
	desc_dict_free(dict);
	free(text);
}
END_TEST

/* The descriptor's line cap (16384) is not the dictionary's. */
START_TEST(no_line_cap)
{
	size_t blank = 20000;
	char *text = malloc(blank + 8);
	desc_dict *dict;

	ck_assert_ptr_nonnull(text);
	memset(text, '\n', blank);
	memcpy(text + blank, "a = 1\n", 6);
	dict = parse_ok(text, blank + 6, NULL);
	ck_assert_uint_eq(desc_dict_line_at(dict, 0), blank + 1);
	assert_written(dict, text, blank + 6);
	desc_dict_free(dict);
	free(text);
}
END_TEST

START_TEST(input_too_large)
{
	size_t n = DESC_MAX_INPUT + 1;
	char *text = malloc(n);
	desc_dict *dict;
	desc_error err;
	char msg[2048];

	ck_assert_ptr_nonnull(text);
	/* NUL padding still counts against the cap. */
	memset(text, 0, n);
	memcpy(text, "a = \"1\"\n", 8);
	ck_assert_int_eq(desc_dict_parse(text, n, "huge.vmx", &dict, NULL, &err),
			 DESC_E_TOO_LARGE);
	ck_assert_ptr_null(dict);
	ck_assert_uint_eq(err.line, 0);
	desc_error_format(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, "huge.vmx: input too large (4194305 bytes, expected at most 4194304)");
	dict = parse_ok(text, n - 1, NULL);
	ck_assert_str_eq(desc_dict_get(dict, "a"), "1");
	desc_dict_free(dict);
	free(text);
}
END_TEST

START_TEST(no_name_in_messages)
{
	desc_dict *dict;
	desc_error err;
	char msg[2048];

	ck_assert_int_eq(desc_dict_parse("x\n", 2, NULL, &dict, NULL, &err),
			 DESC_E_SYNTAX);
	desc_error_format(&err, msg, sizeof(msg));
	ck_assert_str_eq(msg, "missing '=' after the key in 'x' " EXPECTED);
	ck_assert_uint_eq(err.line, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Duplicate keys                                                      */
/* ------------------------------------------------------------------ */

START_TEST(duplicate_keys)
{
	const char *text = "a = \"1\"\nb = \"2\"\nA = \"3\"\nb = \"4\"\nc = \"5\"\n";
	desc_findings warnings;
	desc_dict *dict;

	desc_findings_init(&warnings);
	dict = parse_ok(text, strlen(text), &warnings);
	ck_assert_str_eq(desc_dict_get(dict, "a"), "3");
	ck_assert_str_eq(desc_dict_get(dict, "B"), "4");
	ck_assert_uint_eq(desc_dict_count(dict), 5);
	ck_assert_uint_eq(warnings.count, 2);
	ck_assert_int_eq(warnings.items[0].severity, DESC_SEV_WARNING);
	ck_assert_str_eq(warnings.items[0].code, "duplicate-key");
	ck_assert_str_eq(warnings.items[0].file, "t.vmx");
	ck_assert_uint_eq(warnings.items[0].line, 3);
	ck_assert_str_eq(warnings.items[0].message,
			 "duplicate key 'A' (also on line 1; the last one wins)");
	ck_assert_uint_eq(warnings.items[1].line, 4);
	ck_assert_str_eq(warnings.items[1].message,
			 "duplicate key 'b' (also on line 2; the last one wins)");
	/* Kept, so the file round-trips. */
	assert_written(dict, text, strlen(text));
	desc_dict_free(dict);
	desc_findings_clear(&warnings);
}
END_TEST

START_TEST(triple_key_reports_each_repeat)
{
	const char *text = "k = 1\nk = 2\nk = 3\n";
	desc_findings warnings;
	desc_dict *dict;

	desc_findings_init(&warnings);
	dict = parse_ok(text, strlen(text), &warnings);
	ck_assert_uint_eq(warnings.count, 2);
	ck_assert_str_eq(warnings.items[0].message,
			 "duplicate key 'k' (also on line 1; the last one wins)");
	ck_assert_str_eq(warnings.items[1].message,
			 "duplicate key 'k' (also on line 2; the last one wins)");
	ck_assert_str_eq(desc_dict_get(dict, "k"), "3");
	/* set() rewrites the line get() reads. */
	ck_assert_int_eq(desc_dict_set(dict, "K", "9", NULL), DESC_OK);
	assert_written(dict, "k = 1\nk = 2\nk = \"9\"\n", 20);
	ck_assert_uint_eq(desc_dict_unset(dict, "k"), 3);
	assert_written(dict, "", 0);
	desc_dict_free(dict);
	desc_findings_clear(&warnings);
}
END_TEST

/* A flood of repeats is summarised after the first hundred. */
START_TEST(duplicate_flood_is_capped)
{
	size_t n = 150, i, pos = 0;
	char *text = malloc(n * 8 + 1);
	desc_findings warnings;
	desc_dict *dict;

	ck_assert_ptr_nonnull(text);
	for (i = 0; i < n; i++)
		pos += (size_t)snprintf(text + pos, 9, "k = %03zu\n", i);
	desc_findings_init(&warnings);
	dict = parse_ok(text, pos, &warnings);
	ck_assert_str_eq(desc_dict_get(dict, "k"), "149");
	ck_assert_uint_eq(desc_dict_count(dict), n);
	ck_assert_uint_eq(warnings.count, 101);
	ck_assert_uint_eq(warnings.items[99].line, 101);
	ck_assert_uint_eq(warnings.items[100].line, 0);
	ck_assert_str_eq(warnings.items[100].code, "duplicate-key");
	ck_assert_str_eq(warnings.items[100].message,
			 "49 more duplicate keys not listed (first 100 listed)");
	desc_dict_free(dict);
	desc_findings_clear(&warnings);
	free(text);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Escapes                                                             */
/* ------------------------------------------------------------------ */

static const struct escape_case {
	const char *value;
	const char *encoded;
} escape_cases[] = {
	{ "plain", "plain" },
	{ "", "" },
	{ "say \"hi\"", "say |22hi|22" },
	{ "a|b", "a|7Cb" },
	{ "line1\nline2", "line1|0Aline2" },
	{ "cr\r", "cr|0D" },
	{ "tab\tstays", "tab\tstays" },
	{ "#C0C0C0", "#C0C0C0" },
	{ "del\x7f", "del|7F" },
	{ "\x01\x1f", "|01|1F" },
	{ "caf\xc3\xa9 \xe6\x97\xa5", "caf\xc3\xa9 \xe6\x97\xa5" },
	{ "C:\\Users\\x.iso", "C:\\Users\\x.iso" },
	{ "|22", "|7C22" },
};

START_TEST(escape_roundtrip)
{
	const struct escape_case *c = &escape_cases[_i];
	desc_dict *dict, *again;
	char *enc = NULL, *line, *out;
	size_t len;

	ck_assert_int_eq(desc_dict_encode_value(c->value, &enc, NULL), DESC_OK);
	ck_assert_str_eq(enc, c->encoded);
	free(enc);

	ck_assert_int_eq(desc_dict_new(&dict, NULL), DESC_OK);
	ck_assert_int_eq(desc_dict_set(dict, "k", c->value, NULL), DESC_OK);
	ck_assert_str_eq(desc_dict_get(dict, "k"), c->value);
	ck_assert_str_eq(desc_dict_get_raw(dict, "k"), c->encoded);
	line = malloc(strlen(c->encoded) + 16);
	ck_assert_ptr_nonnull(line);
	snprintf(line, strlen(c->encoded) + 16, "k = \"%s\"\n", c->encoded);
	assert_written(dict, line, strlen(line));
	/* What we write, we read back to the same value. */
	ck_assert_int_eq(desc_dict_write(dict, &out, &len, NULL), DESC_OK);
	again = parse_ok(out, len, NULL);
	ck_assert_str_eq(desc_dict_get(again, "k"), c->value);
	desc_dict_free(again);
	free(out);
	free(line);
	desc_dict_free(dict);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Edits touch only their lines                                        */
/* ------------------------------------------------------------------ */

enum op { SET, UNSET };

static const struct edit_case {
	const char *name;
	const char *text;
	enum op op;
	const char *key;
	const char *value;
	size_t removed; /* for UNSET */
	const char *want;
} edit_cases[] = {
	{ "set existing middle line",
	  "# head\na = \"1\"\nb = \"2\"\n\nc = \"3\"\n", SET, "b", "X", 0,
	  "# head\na = \"1\"\nb = \"X\"\n\nc = \"3\"\n" },
	{ "set keeps the key spelling of the file",
	  "scsi0:0.filename = \"a.vmdk\"\n", SET, "scsi0:0.fileName", "b.vmdk", 0,
	  "scsi0:0.filename = \"b.vmdk\"\n" },
	{ "set normalises only the edited line",
	  "x=1\na=1   # note\ny = 2\n", SET, "A", "two words", 0,
	  "x=1\na = \"two words\"\ny = 2\n" },
	{ "set escapes",
	  "displayName = \"old\"\n", SET, "displayName", "new \"one\" | x", 0,
	  "displayName = \"new |22one|22 |7C x\"\n" },
	{ "set new key appends",
	  "a = \"1\"\n", SET, "b", "2", 0, "a = \"1\"\nb = \"2\"\n" },
	{ "set new key after trailing comment and blank",
	  "a = \"1\"\n\n# end\n", SET, "b", "2", 0,
	  "a = \"1\"\n\n# end\nb = \"2\"\n" },
	{ "CRLF line keeps CRLF",
	  "a = \"1\"\r\nb = \"2\"\r\n", SET, "a", "9", 0,
	  "a = \"9\"\r\nb = \"2\"\r\n" },
	{ "CRLF file gets a CRLF new line",
	  "a = \"1\"\r\nb = \"2\"\r\n", SET, "c", "3", 0,
	  "a = \"1\"\r\nb = \"2\"\r\nc = \"3\"\r\n" },
	{ "mixed endings: the dominant one is used",
	  "a = 1\r\nb = 2\nc = 3\r\n", SET, "d", "4", 0,
	  "a = 1\r\nb = 2\nc = 3\r\nd = \"4\"\r\n" },
	{ "missing final newline is added before a new key",
	  "a = \"1\"", SET, "b", "2", 0, "a = \"1\"\nb = \"2\"\n" },
	{ "missing final newline, CRLF file",
	  "a = \"1\"\r\nb = \"2\"", SET, "c", "3", 0,
	  "a = \"1\"\r\nb = \"2\"\r\nc = \"3\"\r\n" },
	{ "missing final newline stays missing on rewrite",
	  "a = \"1\"\nb = \"2\"", SET, "b", "3", 0, "a = \"1\"\nb = \"3\"" },
	{ "BOM kept",
	  "\xef\xbb\xbf" "a = \"1\"\n", SET, "b", "2", 0,
	  "\xef\xbb\xbf" "a = \"1\"\nb = \"2\"\n" },
	{ "empty file gets a first line",
	  "", SET, ".encoding", "UTF-8", 0, ".encoding = \"UTF-8\"\n" },
	{ "shebang file",
	  "#!/usr/bin/vmware\nmemsize = \"512\"\n", SET, "MEMSIZE", "1024", 0,
	  "#!/usr/bin/vmware\nmemsize = \"1024\"\n" },
	{ "unset middle",
	  "a = \"1\"\nb = \"2\"\nc = \"3\"\n", UNSET, "B", NULL, 1,
	  "a = \"1\"\nc = \"3\"\n" },
	{ "unset every duplicate",
	  "a = 1\nb = 2\nA = 3\n", UNSET, "a", NULL, 2, "b = 2\n" },
	{ "unset missing key",
	  "a = 1\n", UNSET, "zz", NULL, 0, "a = 1\n" },
	{ "unset keeps comments and blank lines",
	  "# x\na = 1\n\n# y\n", UNSET, "a", NULL, 1, "# x\n\n# y\n" },
	{ "unset last line of a file without final newline",
	  "a = 1\r\nb = 2", UNSET, "b", NULL, 1, "a = 1\r\n" },
};

START_TEST(edit)
{
	const struct edit_case *c = &edit_cases[_i];
	desc_dict *dict = parse_ok(c->text, strlen(c->text), NULL);
	desc_error err;

	if (c->op == SET) {
		ck_assert_msg(desc_dict_set(dict, c->key, c->value, &err) == DESC_OK,
			      "%s: %s", c->name, err.message);
		ck_assert_str_eq(desc_dict_get(dict, c->key), c->value);
	} else {
		ck_assert_uint_eq(desc_dict_unset(dict, c->key), c->removed);
		ck_assert_ptr_null(desc_dict_get(dict, c->key));
	}
	assert_written(dict, c->want, strlen(c->want));
	desc_dict_free(dict);
}
END_TEST

START_TEST(new_dict)
{
	desc_dict *dict;

	ck_assert_int_eq(desc_dict_new(&dict, NULL), DESC_OK);
	assert_written(dict, "", 0);
	ck_assert_uint_eq(desc_dict_count(dict), 0);
	ck_assert_int_eq(desc_dict_set(dict, "a", "1", NULL), DESC_OK);
	ck_assert_int_eq(desc_dict_set(dict, "b", "", NULL), DESC_OK);
	ck_assert_int_eq(desc_dict_set(dict, "A", "3", NULL), DESC_OK);
	assert_written(dict, "a = \"3\"\nb = \"\"\n", 15);
	ck_assert_uint_eq(desc_dict_line_at(dict, 1), 2);
	desc_dict_free(dict);
	desc_dict_free(NULL);
}
END_TEST

static const char *const bad_keys[] = {
	"", "two words", "a=b", "a#b", "a\"b", "a\nb", "a\tb",
};

START_TEST(set_rejects_bad_keys)
{
	const char *text = "a = \"1\"\n";
	desc_dict *dict = parse_ok(text, strlen(text), NULL);
	desc_error err;

	ck_assert_int_eq(desc_dict_set(dict, bad_keys[_i], "v", &err), DESC_E_ARG);
	ck_assert_int_eq(desc_dict_set(dict, "a", NULL, &err), DESC_E_ARG);
	/* Nothing changed. */
	assert_written(dict, text, strlen(text));
	desc_dict_free(dict);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation failure: every call fails cleanly (run under ASan)       */
/* ------------------------------------------------------------------ */

START_TEST(allocation_failure)
{
	const char *text = "#!/usr/bin/vmware\r\n.encoding = \"UTF-8\"\r\n"
			   "a = \"1\"\r\nA = \"|22\"\r\n\r\nb = 2";
	unsigned long nth;
	int completed = 0;

	for (nth = 1; nth < 200 && !completed; nth++) {
		desc_findings warnings;
		desc_dict *dict = NULL;
		char *out = NULL;
		size_t len;
		desc_status st;

		desc_findings_init(&warnings);
		desc_test_fail_allocation(nth);
		st = desc_dict_parse(text, strlen(text), "f.vmx", &dict,
				     &warnings, NULL);
		if (st == DESC_OK)
			st = desc_dict_set(dict, "b", "new", NULL);
		if (st == DESC_OK)
			st = desc_dict_set(dict, "c", "x\"y", NULL);
		if (st == DESC_OK)
			st = desc_dict_write(dict, &out, &len, NULL);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			completed = 1;
			ck_assert_uint_eq(warnings.count, 1);
			ck_assert_str_eq(out, "#!/usr/bin/vmware\r\n.encoding = \"UTF-8\"\r\n"
					 "a = \"1\"\r\nA = \"|22\"\r\n\r\nb = \"new\"\r\nc = \"x|22y\"\r\n");
		} else {
			ck_assert_int_eq(st, DESC_E_NOMEM);
			if (dict == NULL)
				ck_assert_uint_eq(warnings.count, 0);
		}
		free(out);
		desc_dict_free(dict);
		desc_findings_clear(&warnings);
	}
	ck_assert_msg(completed, "never completed");
	ck_assert_uint_gt(nth, 5);
}
END_TEST

/* fuzz_dict: set() on a key that starts with a UTF-8 BOM, on the first
 * line, wrote a file whose BOM was then taken for the file's own and the
 * key lost; such a key is refused. */
START_TEST(dict_bom_key)
{
	static const char text[] = "\t\xef\xbb\xbf\t= x\n";
	desc_dict *d = NULL, *again = NULL, *empty = NULL;
	desc_error err;
	char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(desc_dict_parse(text, sizeof(text) - 1, "t", &d, NULL,
					 &err), DESC_OK);
	ck_assert_int_eq(desc_dict_set(d, desc_dict_key_at(d, 0), "v", &err),
			 DESC_E_ARG);
	/* Whatever set() accepts reads back. */
	ck_assert_int_eq(desc_dict_write(d, &out, &len, &err), DESC_OK);
	ck_assert_int_eq(desc_dict_parse(out, len, "t2", &again, NULL, &err),
			 DESC_OK);
	ck_assert_int_eq(desc_dict_new(&empty, &err), DESC_OK);
	ck_assert_int_eq(desc_dict_set(empty, "\xef\xbb\xbfk", "v", &err),
			 DESC_E_ARG);
	free(out);
	desc_dict_free(d);
	desc_dict_free(again);
	desc_dict_free(empty);
}
END_TEST

static Suite *dict_suite(void)
{
	Suite *s = suite_create("dict");
	TCase *tc = tcase_create("dict");

	tcase_add_test(tc, corpus_roundtrip);
	tcase_add_loop_test(tc, accept, 0, (int)LEN(accept_cases));
	tcase_add_test(tc, quoted_hash_is_not_comment);
	tcase_add_test(tc, accessors_in_file_order);
	tcase_add_loop_test(tc, padding, 0, (int)LEN(pad_cases));
	tcase_add_loop_test(tc, bad_input, 0, (int)LEN(bad_cases));
	tcase_add_test(tc, line_too_long);
	tcase_add_test(tc, no_line_cap);
	tcase_add_test(tc, input_too_large);
	tcase_add_test(tc, no_name_in_messages);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, triple_key_reports_each_repeat);
	tcase_add_test(tc, duplicate_flood_is_capped);
	tcase_add_loop_test(tc, escape_roundtrip, 0, (int)LEN(escape_cases));
	tcase_add_loop_test(tc, edit, 0, (int)LEN(edit_cases));
	tcase_add_test(tc, new_dict);
	tcase_add_loop_test(tc, set_rejects_bad_keys, 0, (int)LEN(bad_keys));
	tcase_add_test(tc, allocation_failure);
	tcase_add_test(tc, dict_bom_key);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dict_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
