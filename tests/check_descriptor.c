/* check_descriptor.c - descriptor/descriptor.c, reader.c and lines.c:
 * parse, lossless write, bad input, normalisation, the corpus.  Edits are
 * in check_edit.c, findings in check_validate.c. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"
#include "tests/text_fixture.h"

/* ------------------------------------------------------------------ */
/* basic parse and accessors                                           */
/* ------------------------------------------------------------------ */

START_TEST(test_parse_sample)
{
	desc_descriptor *desc = parse_ok(sample, NULL);
	const desc_extent *e;
	uint32_t cid;
	uint64_t cap;
	char *out;

	ck_assert(desc_cid(desc, &cid));
	ck_assert_uint_eq(cid, 0x8c808111u);
	ck_assert(desc_parent_cid(desc, &cid));
	ck_assert_uint_eq(cid, 0xffffffffu);
	ck_assert_str_eq(desc_create_type(desc), "twoGbMaxExtentSparse");
	ck_assert_ptr_null(desc_parent_hint(desc));
	ck_assert_str_eq(desc_header_get(desc, "encoding"), "UTF-8");
	ck_assert_str_eq(desc_header_get(desc, "createtype"),
			 "twoGbMaxExtentSparse");
	ck_assert_str_eq(desc_name(desc), "t.vmdk");

	ck_assert_uint_eq(desc_extent_count(desc), 2);
	e = desc_extent_at(desc, 0);
	ck_assert_int_eq(e->access, DESC_ACCESS_RW);
	ck_assert_uint_eq(e->sectors, 4192256);
	ck_assert_int_eq(e->type, DESC_EXTENT_SPARSE);
	ck_assert_str_eq(e->path, "8.10 Core-s001.vmdk");
	ck_assert(!e->has_offset);
	ck_assert_uint_eq(e->line, 9);
	e = desc_extent_at(desc, 1);
	ck_assert_int_eq(e->type, DESC_EXTENT_ZERO);
	ck_assert_ptr_null(e->path);
	ck_assert_ptr_null(desc_extent_at(desc, 2));
	ck_assert(desc_capacity(desc, &cap));
	ck_assert_uint_eq(cap, 4192256 + 20480);

	ck_assert_uint_eq(desc_ddb_count(desc), 6);
	ck_assert_str_eq(desc_ddb_key_at(desc, 0), "ddb.virtualHWVersion");
	ck_assert_str_eq(desc_ddb_value_at(desc, 0), "7");
	ck_assert_str_eq(desc_ddb_get(desc, "DDB.ADAPTERTYPE"), "lsilogic");
	ck_assert_ptr_null(desc_ddb_get(desc, "ddb.nothing"));
	ck_assert_ptr_null(desc_ddb_key_at(desc, 6));

	out = write_ok(desc);
	assert_text(out, sample);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_names)
{
	desc_access a;
	desc_extent_type t;

	ck_assert_str_eq(desc_access_name(DESC_ACCESS_NOACCESS), "NOACCESS");
	ck_assert_str_eq(desc_extent_type_name(DESC_EXTENT_VMFSSPARSE),
			 "VMFSSPARSE");
	ck_assert(desc_access_from_name("RDONLY", &a));
	ck_assert_int_eq(a, DESC_ACCESS_RDONLY);
	ck_assert(!desc_access_from_name("rw", &a));
	ck_assert(desc_extent_type_from_name("SESPARSE", &t));
	ck_assert_int_eq(t, DESC_EXTENT_SESPARSE);
	ck_assert(!desc_extent_type_from_name("SPARES", &t));
	ck_assert(!desc_extent_type_from_name(NULL, &t));
	ck_assert(desc_create_type_known("vmfsPassthroughRawDeviceMap"));
	ck_assert(desc_create_type_known("streamOptimized"));
	ck_assert(!desc_create_type_known("monolithicsparse"));
	ck_assert(!desc_create_type_known(NULL));
}
END_TEST

/* ------------------------------------------------------------------ */
/* corpus                                                              */
/* ------------------------------------------------------------------ */

static char *corpus_dir(const char *sub)
{
	const char *root = getenv("VMDKIT_CORPUS");
	char *path;

	if (root == NULL || root[0] == '\0')
		return NULL;
	path = malloc(strlen(root) + strlen(sub) + 2);
	ck_assert(path != NULL);
	snprintf(path, strlen(root) + strlen(sub) + 2, "%s/%s", root, sub);
	return path;
}

/* Calls fn for every regular file in $VMDKIT_CORPUS/sub; returns the
 * count, or -1 when the corpus is absent. */
static int for_each_corpus_file(const char *sub,
				void (*fn)(const char *path, const char *name))
{
	char *dir = corpus_dir(sub);
	DIR *d;
	struct dirent *ent;
	int count = 0;

	if (dir == NULL || (d = opendir(dir)) == NULL) {
		free(dir);
		return -1;
	}
	while ((ent = readdir(d)) != NULL) {
		char path[4096];

		if (ent->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, ent->d_name);
		fn(path, ent->d_name);
		count++;
	}
	closedir(d);
	free(dir);
	return count;
}

static void roundtrip_file(const char *path, const char *name)
{
	size_t len, text_len, out_len;
	char *buf = read_file(path, &len), *out = NULL;
	desc_descriptor *desc = NULL;
	desc_findings warnings;
	desc_error err;
	desc_status st;

	desc_findings_init(&warnings);
	desc_error_clear(&err);
	st = desc_parse(buf, len, name, &desc, &warnings, &err);
	ck_assert_msg(st == DESC_OK, "%s:%u: %s", name, err.line, err.message);
	ck_assert_int_eq(desc_write(desc, &out, &out_len, &err), DESC_OK);
	text_len = text_length(buf, len);
	ck_assert_msg(out_len == text_len && memcmp(out, buf, len < out_len ?
							      len : out_len) == 0,
		      "%s: write(parse(x)) != x (%zu vs %zu bytes)", name,
		      out_len, text_len);
	ck_assert_uint_gt(desc_extent_count(desc), 0);
	ck_assert_ptr_nonnull(desc_create_type(desc));
	free(out);
	desc_free(desc);
	desc_findings_clear(&warnings);
	free(buf);
}

START_TEST(test_corpus_roundtrip)
{
	int n = for_each_corpus_file("descriptors", roundtrip_file);

	if (n < 0) {
		fprintf(stderr, "SKIP corpus round trip: $VMDKIT_CORPUS/descriptors not found\n");
		return;
	}
	ck_assert_int_gt(n, 0);
}
END_TEST

static void rejected_file(const char *path, const char *name)
{
	size_t len;
	char *buf = read_file(path, &len);
	desc_descriptor *desc = NULL;
	desc_error err;
	desc_status st;

	desc_error_clear(&err);
	st = desc_parse(buf, len, name, &desc, NULL, &err);
	ck_assert_msg(st == DESC_E_SYNTAX, "%s: accepted (status %d)", name,
		      st);
	ck_assert_ptr_null(desc);
	ck_assert_msg(err.message[0] != '\0', "%s: no message", name);
	ck_assert_str_eq(err.file, name);
	free(buf);
}

START_TEST(test_corpus_bad_rejected)
{
	int n = for_each_corpus_file("descriptors-bad", rejected_file);

	if (n < 0) {
		fprintf(stderr, "SKIP bad corpus: $VMDKIT_CORPUS/descriptors-bad not found\n");
		return;
	}
	ck_assert_int_gt(n, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* bad input: exact message and line                                   */
/* ------------------------------------------------------------------ */

#define DDB "\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n"
#define EXPECT_EXTENT "(expected ACCESS SECTORS TYPE \"FILE\" [OFFSET])"

struct bad_case {
	const char *name;
	const char *text;
	size_t len; /* 0: strlen(text) */
	desc_status status;
	unsigned line;
	const char *message;
	unsigned column; /* 0: not checked */
};

static const struct bad_case bad_cases[] = {
	{ "unterminated-quote", HDR "RW 100 SPARSE \"disk.vmdk\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "unterminated quote in extent line 'RW 100 SPARSE \"disk.vmdk' " EXPECT_EXTENT, 0 },
	{ "bad-access", HDR "RX 100 SPARSE \"disk.vmdk\"\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "unknown access mode 'RX' (expected RW, RDONLY, NOACCESS)", 1 },
	{ "lowercase-access", HDR "rw 100 SPARSE \"disk.vmdk\"\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "unknown access mode 'rw' (expected RW, RDONLY, NOACCESS)", 0 },
	{ "bad-type", HDR "RW 100 SPARES \"disk.vmdk\"\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "unknown extent type 'SPARES' (expected FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE)", 8 },
	{ "negative-size", HDR "RW -100 SPARSE \"disk.vmdk\"\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "extent size '-100' is negative (expected a number of sectors)", 4 },
	{ "overflowing-size", HDR "RW 18446744073709551616 SPARSE \"disk.vmdk\"\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "extent size '18446744073709551616' is too large (expected at most 18446744073709551615 sectors)", 0 },
	{ "size-not-number", HDR "RW 12k SPARSE \"disk.vmdk\"\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "extent size '12k' is not a number in 'RW 12k SPARSE \"disk.vmdk\"' " EXPECT_EXTENT, 0 },
	{ "missing-type", HDR "RW 1234567890\n" DDB, 0, DESC_E_SYNTAX, 8,
	  "missing extent type in 'RW 1234567890' (expected FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE)", 0 },
	{ "missing-size", HDR "RDONLY \"file.vmdk\"\n" DDB, 0, DESC_E_SYNTAX, 8,
	  "extent size '\"file.vmdk\"' is not a number in 'RDONLY \"file.vmdk\"' " EXPECT_EXTENT, 0 },
	{ "access-only", HDR "NOACCESS\n" DDB, 0, DESC_E_SYNTAX, 8,
	  "missing extent size in 'NOACCESS' " EXPECT_EXTENT, 0 },
	{ "missing-file", HDR "RW 100 SPARSE\n" DDB, 0, DESC_E_SYNTAX, 8,
	  "missing file name in 'RW 100 SPARSE' " EXPECT_EXTENT, 14 },
	{ "unquoted-file", HDR "RW 100 SPARSE disk.vmdk\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "extent file name 'disk.vmdk' is not quoted " EXPECT_EXTENT, 0 },
	{ "bad-offset", HDR "RW 100 FLAT \"disk.vmdk\" x1\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "unexpected text 'x1' after the extent file name (expected an offset in sectors)", 25 },
	{ "negative-offset", HDR "RW 100 FLAT \"disk.vmdk\" -1\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "extent offset '-1' is negative (expected a number of sectors)", 0 },
	{ "vmfs-offset", HDR "RW 100 VMFS \"disk.vmdk\" 1\n" DDB, 0,
	  DESC_E_SYNTAX, 8,
	  "unexpected offset '1' after a VMFS extent in 'RW 100 VMFS \"disk.vmdk\" 1' (expected ACCESS SECTORS VMFS \"FILE\")", 0 },
	{ "non-hex-cid",
	  "# Disk DescriptorFile\nversion=1\nCID=8c80811g\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n\n# Extent description\n"
	  "RW 100 SPARSE \"d.vmdk\"\n", 0, DESC_E_SYNTAX, 3,
	  "CID '8c80811g' is not hexadecimal (expected 8 hex digits such as 8c808111)", 5 },
	{ "non-hex-parent-cid",
	  "# Disk DescriptorFile\nversion=1\nCID=8c808111\nparentCID=\n"
	  "createType=\"monolithicSparse\"\n\n# Extent description\n"
	  "RW 100 SPARSE \"d.vmdk\"\n", 0, DESC_E_SYNTAX, 4,
	  "parentCID '' is not hexadecimal (expected 8 hex digits such as 8c808111)", 0 },
	{ "duplicate-create-type",
	  HDR "RW 100 SPARSE \"d.vmdk\"\ncreateType=\"vmfs\"\n", 0,
	  DESC_E_SYNTAX, 9, "duplicate 'createType' (first on line 5)", 0 },
	{ "no-extents", HDR DDB, 0, DESC_E_SYNTAX, 0,
	  "no extent lines (expected at least one line such as RW 2048 SPARSE \"disk-s001.vmdk\")", 0 },
	{ "no-create-type",
	  "# Disk DescriptorFile\nversion=1\nCID=8c808111\nparentCID=ffffffff\n"
	  "\n# Extent description\nRW 100 SPARSE \"d.vmdk\"\n", 0,
	  DESC_E_SYNTAX, 0,
	  "not a VMDK descriptor: no 'createType' line (expected createType=\"TYPE\" in the header)", 0 },
	{ "fragment", "RW 16777216 SPARSE \"test1.vmdk\"\n", 0, DESC_E_SYNTAX, 1,
	  "not a VMDK descriptor: 'RW 16777216 SPARSE \"test1.vmdk\"' comes before any '# Disk DescriptorFile' or header line (expected '# Disk DescriptorFile', then version=1)", 0 },
	{ "binary", "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0",
	  24, DESC_E_SYNTAX, 1,
	  "not a VMDK descriptor: binary data (expected '# Disk DescriptorFile')", 0 },
	{ "kdmv", "KDMV\x01\0\0\0\x03\0\0\0", 12, DESC_E_SYNTAX, 1,
	  "not a VMDK descriptor: binary data (expected '# Disk DescriptorFile')", 0 },
	{ "empty", "", 0, DESC_E_SYNTAX, 0,
	  "not a VMDK descriptor: empty input (expected '# Disk DescriptorFile')", 0 },
	{ "only-padding", "\0\0\0\0", 4, DESC_E_SYNTAX, 0,
	  "not a VMDK descriptor: empty input (expected '# Disk DescriptorFile')", 0 },
	{ "nul-in-name", HDR "RW 100 SPARSE \"a\0b.vmdk\"\n" DDB,
	  sizeof(HDR "RW 100 SPARSE \"a\0b.vmdk\"\n" DDB) - 1, DESC_E_SYNTAX, 8,
	  "NUL byte inside the text (expected text lines)", 0 },
	{ "nul-line-then-text", HDR "RW 100 SPARSE \"d.vmdk\"\n\0" DDB DDB DDB,
	  sizeof(HDR "RW 100 SPARSE \"d.vmdk\"\n\0" DDB DDB DDB) - 1, DESC_E_SYNTAX, 9,
	  "NUL byte inside the text (expected text lines)", 0 },
	{ "unterminated-header-quote",
	  "# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicSparse\n", 0,
	  DESC_E_SYNTAX, 3,
	  "unterminated quote in the value of 'createType' (expected createType=\"VALUE\")", 12 },
	{ "unrecognised-header-line",
	  "# Disk DescriptorFile\nversion=1\nhello world\n", 0, DESC_E_SYNTAX, 3,
	  "unrecognised line 'hello world' (expected KEY=VALUE, a comment or ACCESS SECTORS TYPE \"FILE\" [OFFSET])", 0 },
	{ "unrecognised-ddb-line", HDR "RW 100 SPARSE \"d.vmdk\"\n" DDB "oops\n", 0,
	  DESC_E_SYNTAX, 14,
	  "unrecognised line 'oops' in the disk database (expected ddb.KEY = \"VALUE\")", 0 },
	{ "unterminated-ddb-quote", HDR "RW 100 SPARSE \"d.vmdk\"\n" DDB "ddb.uuid = \"60 00\n", 0,
	  DESC_E_SYNTAX, 14,
	  "unterminated quote in the value of 'ddb.uuid' (expected ddb.uuid=\"VALUE\")", 0 },
	/* The shared reader (reader.c) with the descriptor's rules; the
	 * dictionary words these differently or accepts them
	 * (check_dict.c, bad_cases). */
	{ "reader-no-text", NULL, 5, DESC_E_ARG, 0, "no text to parse", 0 },
	{ "reader-nul-then-too-much", HDR "RW 100 SPARSE \"d.vmdk\"\n\0"
	  "1234567890123456789012345678901234567890123456789012345678901234\n",
	  sizeof(HDR "RW 100 SPARSE \"d.vmdk\"\n\0"
		 "1234567890123456789012345678901234567890123456789012345678901234\n") - 1,
	  DESC_E_SYNTAX, 9, "NUL byte inside the text (expected text lines)", 0 },
	/* A BOM inside the text is left to the grammar. */
	{ "reader-bom-in-header", "# Disk DescriptorFile\n\xef\xbb\xbfversion=1\n", 0,
	  DESC_E_SYNTAX, 2,
	  "unrecognised line '\xef\xbb\xbfversion=1' (expected KEY=VALUE, a comment or ACCESS SECTORS TYPE \"FILE\" [OFFSET])", 0 },
	{ "reader-bom-in-extents", HDR "RW 100 SPARSE \"d.vmdk\"\n\xef\xbb\xbf# c\n", 0,
	  DESC_E_SYNTAX, 9,
	  "unknown access mode '\xef\xbb\xbf#' (expected RW, RDONLY, NOACCESS)", 1 },
};

START_TEST(test_bad_input)
{
	const struct bad_case *c = &bad_cases[_i];
	desc_descriptor *desc = (desc_descriptor *)1;
	desc_findings warnings;
	desc_error err;
	desc_status st;

	desc_findings_init(&warnings);
	desc_error_clear(&err);
	st = desc_parse(c->text, c->len ? c->len : strlen(c->text), "bad.vmdk",
			&desc, &warnings, &err);
	ck_assert_msg(st == c->status, "%s: status %d, want %d (%s)", c->name,
		      st, c->status, err.message);
	ck_assert_ptr_null(desc);
	ck_assert_msg(err.line == c->line, "%s: line %u, want %u", c->name,
		      err.line, c->line);
	ck_assert_msg(strcmp(err.message, c->message) == 0,
		      "%s: message\n  got [%s]\n want [%s]", c->name,
		      err.message, c->message);
	ck_assert_str_eq(err.file, "bad.vmdk");
	ck_assert_int_eq(err.code, c->status);
	if (c->column != 0)
		ck_assert_msg(err.column == c->column, "%s: column %u, want %u",
			      c->name, err.column, c->column);
	/* A failed parse adds no findings. */
	ck_assert_uint_eq(warnings.count, 0);
	desc_findings_clear(&warnings);
}
END_TEST

static void parse_expect(const char *text, size_t len, desc_status status,
			 unsigned line, const char *message)
{
	desc_descriptor *desc = NULL;
	desc_error err;
	desc_status st;

	desc_error_clear(&err);
	st = desc_parse(text, len, "big.vmdk", &desc, NULL, &err);
	ck_assert_msg(st == status, "status %d, want %d (%s)", st, status,
		      err.message);
	ck_assert_uint_eq(err.line, line);
	ck_assert_str_eq(err.message, message);
	desc_free(desc);
}

START_TEST(test_long_line)
{
	size_t fill = 200 * 1024;
	size_t len = strlen(HDR) + 1 + fill + 1;
	char *text = malloc(len + 1);

	ck_assert(text != NULL);
	memcpy(text, HDR, strlen(HDR));
	text[strlen(HDR)] = '#';
	memset(text + strlen(HDR) + 1, 'a', fill);
	text[len - 1] = '\n';
	text[len] = '\0';
	parse_expect(text, len, DESC_E_SYNTAX, 8,
		     "line is longer than 65536 bytes (204801 bytes)");
	free(text);
}
END_TEST

START_TEST(test_line_cap)
{
	size_t len = strlen(sample) + 20000;
	char *text = malloc(len);

	ck_assert(text != NULL);
	memcpy(text, sample, strlen(sample));
	memset(text + strlen(sample), '\n', len - strlen(sample));
	parse_expect(text, len, DESC_E_TOO_LARGE, 16385,
		     "descriptor has more than 16384 lines");
	free(text);
}
END_TEST

/* qemu rewrites a CID in place as a C string; when the new CID is two
 * digits shorter, the old text's last byte survives after the NUL. */
START_TEST(test_stale_after_nul)
{
	static const char text[] = HDR "RW 100 SPARSE \"d.vmdk\"\n\0\n\0\0\0\0";
	desc_descriptor *desc = NULL;
	desc_findings w;
	char *out;

	desc_findings_init(&w);
	ck_assert_int_eq(desc_parse(text, sizeof(text) - 1, "q.vmdk", &desc, &w,
				    NULL), DESC_OK);
	out = write_ok(desc);
	assert_text(out, HDR "RW 100 SPARSE \"d.vmdk\"\n");
	ck_assert_uint_eq(w.count, 1);
	ck_assert_str_eq(w.items[0].code, "stale-bytes-after-text");
	ck_assert_uint_eq(w.items[0].line, 9);
	ck_assert_str_eq(w.items[0].message,
			 "the text ends at a NUL byte; 1 bytes after it are ignored (left over when qemu rewrites the CID in place)");
	free(out);
	desc_free(desc);
	desc_findings_clear(&w);
}
END_TEST

/* The disk layer hands over the whole embedded descriptor area:
 * descriptorSize sectors, the text then NULs. */
START_TEST(test_embedded_area)
{
	char area[20 * 512];
	desc_descriptor *desc = NULL;
	char *out;

	memset(area, 0, sizeof(area));
	memcpy(area, sample, strlen(sample));
	ck_assert_int_eq(desc_parse(area, sizeof(area), "disk.vmdk", &desc,
				    NULL, NULL), DESC_OK);
	out = write_ok(desc);
	assert_text(out, sample);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_input_cap)
{
	size_t len = DESC_MAX_INPUT + 1;
	char *text = malloc(len);
	desc_descriptor *desc = NULL;

	ck_assert(text != NULL);
	memset(text, '\n', len);
	memcpy(text, sample, strlen(sample));
	parse_expect(text, len, DESC_E_TOO_LARGE, 0,
		     "descriptor is larger than 4194304 bytes (4194305 bytes)");
	/* Padding counts against the cap, but a text exactly at the cap
	 * whose tail is NUL padding is accepted. */
	memset(text + strlen(sample), '\0', len - strlen(sample));
	parse_expect(text, len, DESC_E_TOO_LARGE, 0,
		     "descriptor is larger than 4194304 bytes (4194305 bytes)");
	ck_assert_int_eq(desc_parse(text, DESC_MAX_INPUT, NULL, &desc, NULL,
				    NULL), DESC_OK);
	ck_assert_uint_eq(desc_extent_count(desc), 2);
	desc_free(desc);
	free(text);
}
END_TEST

/* ------------------------------------------------------------------ */
/* byte normalisation: all reproduced except padding                   */
/* ------------------------------------------------------------------ */

struct lossless_case {
	const char *name;
	const char *text;
	size_t len;       /* 0: strlen */
	const char *want; /* NULL: same as text */
};

static const struct lossless_case lossless_cases[] = {
	{ "sample", sample, 0, NULL },
	{ "crlf",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicFlat\"\r\n\r\n# Extent description\r\n"
	  "RW 100 FLAT \"d-flat.vmdk\" 0\r\n", 0, NULL },
	{ "mixed-endings", HDR "RW 100 SPARSE \"d.vmdk\"\r\n" DDB, 0, NULL },
	{ "bom", "\xef\xbb\xbf" HDR "RW 100 SPARSE \"d.vmdk\"\n", 0, NULL },
	{ "no-final-newline", HDR "RW 100 SPARSE \"d.vmdk\"", 0, NULL },
	{ "nul-padding", HDR "RW 100 SPARSE \"d.vmdk\"\n\0\0\0\0\0\0\0\0",
	  sizeof(HDR "RW 100 SPARSE \"d.vmdk\"\n\0\0\0\0\0\0\0\0") - 1,
	  HDR "RW 100 SPARSE \"d.vmdk\"\n" },
	{ "space-nul-padding", HDR "RW 100 SPARSE \"d.vmdk\"\n  \0 \0\0",
	  sizeof(HDR "RW 100 SPARSE \"d.vmdk\"\n  \0 \0\0") - 1,
	  HDR "RW 100 SPARSE \"d.vmdk\"\n" },
	{ "trailing-space-is-content", HDR "RW 100 SPARSE \"d.vmdk\"\n# The Disk Data Base ",
	  0, NULL },
	{ "padding-after-unterminated-line", HDR "RW 100 SPARSE \"d.vmdk\"\0\0\0",
	  sizeof(HDR "RW 100 SPARSE \"d.vmdk\"\0\0\0") - 1,
	  HDR "RW 100 SPARSE \"d.vmdk\"" },
	{ "tabs-and-spaces", HDR "RW  100\tSPARSE   \"d.vmdk\"  \n" DDB, 0, NULL },
	{ "single-quoted-name", HDR "RW 100 SPARSE 'd.vmdk'\n", 0, NULL },
	{ "extra-fields", HDR "RW 100 FLAT \"\\\\.\\PhysicalDrive2\" 0 partitionUUID 2\n", 0, NULL },
	{ "zero-with-file", HDR "RW 100 ZERO \"/dev/sdc2\" 0\n", 0, NULL },
	{ "max-size", HDR "RW 18446744073709551615 FLAT \"d\" 18446744073709551615\n", 0, NULL },
	{ "header-spaces", "# Disk DescriptorFile\nversion = 1\nCID =12345678\nparentCID= ffffffff\n"
	  "createType = \"vmfs\"\n# Extent description\nRW 100 VMFS \"d-flat.vmdk\"\n", 0, NULL },
	{ "change-tracking", HDR "RW 100 SPARSE \"d.vmdk\"\n\n# Change Tracking File\n"
	  "changeTrackPath=\"d-ctk.vmdk\"\n" DDB, 0, NULL },
	{ "bare-ddb-values", HDR "RW 100 SPARSE \"d.vmdk\"\n" DDB "ddb.geometry.biosHeads=16\n", 0, NULL },
	/* The shared reader (reader.c) with the descriptor's rules. */
	{ "reader-lone-cr-is-a-byte", HDR "RW 100 SPARSE \"d.vmdk\"\n# a\rb\n" DDB, 0, NULL },
	{ "reader-all-at-once",
	  "\xef\xbb\xbf# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\n"
	  "parentCID=ffffffff\r\ncreateType=\"monolithicSparse\"\r\n"
	  "RW 100 SPARSE \"d.vmdk\" \0\0",
	  sizeof("\xef\xbb\xbf# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\n"
		 "parentCID=ffffffff\r\ncreateType=\"monolithicSparse\"\r\n"
		 "RW 100 SPARSE \"d.vmdk\" \0\0") - 1,
	  "\xef\xbb\xbf# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\n"
	  "parentCID=ffffffff\r\ncreateType=\"monolithicSparse\"\r\n"
	  "RW 100 SPARSE \"d.vmdk\" " },
	{ "reader-stale-at-the-limit", HDR "RW 100 SPARSE \"d.vmdk\"\n\0"
	  "1234567890123456789012345678901234567890123456789012345678901234",
	  sizeof(HDR "RW 100 SPARSE \"d.vmdk\"\n\0"
		 "1234567890123456789012345678901234567890123456789012345678901234") - 1,
	  HDR "RW 100 SPARSE \"d.vmdk\"\n" },
};

START_TEST(test_lossless)
{
	const struct lossless_case *c = &lossless_cases[_i];
	size_t len = c->len ? c->len : strlen(c->text);
	const char *want = c->want ? c->want : c->text;
	desc_descriptor *desc = NULL;
	desc_error err;
	char *out;
	size_t out_len;

	desc_error_clear(&err);
	ck_assert_msg(desc_parse(c->text, len, c->name, &desc, NULL, &err) ==
		      DESC_OK, "%s: line %u: %s", c->name, err.line,
		      err.message);
	ck_assert_int_eq(desc_write(desc, &out, &out_len, &err), DESC_OK);
	ck_assert_msg(out_len == strlen(want) && memcmp(out, want, out_len) == 0,
		      "%s: got [%s] want [%s]", c->name, out, want);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_parsed_fields)
{
	desc_descriptor *desc;
	const desc_extent *e;

	desc = parse_ok(HDR "RW 100 FLAT \"\\\\.\\PhysicalDrive2\" 0 partitionUUID 2\n"
			"RDONLY 5 ZERO \"/dev/sdc2\" 7\n"
			"NOACCESS 9 SESPARSE 'single quoted.vmdk'\n"
			"RW 18446744073709551615 VMFSSPARSE \"x\"\n", NULL);
	e = desc_extent_at(desc, 0);
	ck_assert_str_eq(e->path, "\\\\.\\PhysicalDrive2");
	ck_assert(e->has_offset);
	ck_assert_uint_eq(e->offset, 0);
	e = desc_extent_at(desc, 1);
	ck_assert_int_eq(e->access, DESC_ACCESS_RDONLY);
	ck_assert_int_eq(e->type, DESC_EXTENT_ZERO);
	ck_assert_str_eq(e->path, "/dev/sdc2");
	ck_assert_uint_eq(e->offset, 7);
	e = desc_extent_at(desc, 2);
	ck_assert_int_eq(e->access, DESC_ACCESS_NOACCESS);
	ck_assert_str_eq(e->path, "single quoted.vmdk");
	e = desc_extent_at(desc, 3);
	ck_assert_uint_eq(e->sectors, UINT64_MAX);
	ck_assert_uint_eq(e->line, 11);
	ck_assert(!desc_capacity(desc, NULL));
	desc_free(desc);
}
END_TEST

START_TEST(test_parse_warnings)
{
	desc_findings w;
	desc_descriptor *desc;

	desc_findings_init(&w);
	desc = parse_ok("# Disk DescriptorFile\nversion=1\nCID=12345678\n"
			"parentCID=ffffffff\nfavouriteColour=\"blue\"\n"
			"createType=\"myOwnType\"\nparentfilenamehint=\"p.vmdk\"\n"
			"\n# Extent description\nRW 1 FLAT \"f\" 0\n", &w);
	ck_assert_uint_eq(w.count, 3);
	ck_assert_str_eq(w.items[0].code, "unknown-header-key");
	ck_assert_uint_eq(w.items[0].line, 5);
	ck_assert_str_eq(w.items[0].message,
			 "unknown header key 'favouriteColour' (kept as written)");
	ck_assert_str_eq(w.items[0].file, "t.vmdk");
	ck_assert_int_eq(w.items[0].severity, DESC_SEV_WARNING);
	ck_assert_str_eq(w.items[1].code, "unknown-create-type");
	ck_assert_uint_eq(w.items[1].line, 6);
	ck_assert_str_eq(w.items[2].code, "header-key-case");
	ck_assert_str_eq(w.items[2].message,
			 "header key 'parentfilenamehint' should be written 'parentFileNameHint' (qemu and VirtualBox match keys case-sensitively)");
	ck_assert_str_eq(desc_header_get(desc, "favouriteColour"), "blue");
	ck_assert_str_eq(desc_parent_hint(desc), "p.vmdk");
	desc_free(desc);
	desc_findings_clear(&w);

	/* DDB: unknown ddb.* keys are only noted; a key without the
	 * prefix inside the DDB is a warning; known keys say nothing. */
	desc = parse_ok(HDR "RW 1 SPARSE \"d\"\n" DDB
			"ddb.UUID.Image = \"x\"\nddb.sidecars = \"\"\n"
			"ddb.fancyKey = \"1\"\ncolour = \"red\"\n", &w);
	ck_assert_uint_eq(w.count, 2);
	ck_assert_str_eq(w.items[0].code, "unknown-ddb-key");
	ck_assert_int_eq(w.items[0].severity, DESC_SEV_INFO);
	ck_assert_uint_eq(w.items[0].line, 16);
	ck_assert_str_eq(w.items[0].message,
			 "unknown disk database key 'ddb.fancyKey' (kept as written)");
	ck_assert_str_eq(w.items[1].code, "unknown-ddb-key");
	ck_assert_int_eq(w.items[1].severity, DESC_SEV_WARNING);
	ck_assert_str_eq(w.items[1].message,
			 "disk database key 'colour' has no 'ddb.' prefix (kept as written)");
	ck_assert_str_eq(desc_ddb_get(desc, "colour"), "red");
	ck_assert_uint_eq(desc_ddb_count(desc), 5);
	desc_free(desc);
	desc_findings_clear(&w);
}
END_TEST

/* ------------------------------------------------------------------ */
/* fixtures in tests/data/descriptor                                   */
/* ------------------------------------------------------------------ */

struct fixture_case {
	const char *file;
	desc_status status;
	unsigned line;      /* of the error, or the first extent */
	const char *text;   /* error message, or the first extent's path */
	size_t extents;
};

static const struct fixture_case fixture_cases[] = {
	{ "emoji-name.vmdk", DESC_OK, 9,
	  "\xf0\x9f\xa6\x8a \xf0\x9f\xa6\x8a \xf0\x9f\xa6\x8a.vmdk", 1 },
	{ "crlf.vmdk", DESC_OK, 10, "Windows 7 x64-s001.vmdk", 2 },
	{ "qemu-unpadded-cid.vmdk", DESC_OK, 8, "q9-s001.vmdk", 1 },
	{ "qemu-stale-after-cid.vmdk", DESC_OK, 8, "s-s001.vmdk", 1 },
	{ "quote-in-name.vmdk", DESC_E_SYNTAX, 8,
	  "unexpected text '\\' disk\xc3\xab\xc3\xa4\xc3\xb4:)\\\\\\'`\\foo.vmdk\" 123' after the extent file name (expected an offset in sectors)", 0 },
};

static char *fixture_path(const char *file)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	static char path[4096];

	snprintf(path, sizeof(path), "%s/tests/data/descriptor/%s",
		 src ? src : ".", file);
	return path;
}

START_TEST(test_fixtures)
{
	const struct fixture_case *c = &fixture_cases[_i];
	size_t len, out_len;
	char *buf = read_file(fixture_path(c->file), &len), *out;
	desc_descriptor *desc = NULL;
	desc_error err;
	desc_status st;

	desc_error_clear(&err);
	st = desc_parse(buf, len, c->file, &desc, NULL, &err);
	ck_assert_msg(st == c->status, "%s: status %d (%s)", c->file, st,
		      err.message);
	if (st != DESC_OK) {
		ck_assert_uint_eq(err.line, c->line);
		ck_assert_msg(strcmp(err.message, c->text) == 0,
			      "%s:\n  got [%s]\n want [%s]", c->file,
			      err.message, c->text);
		free(buf);
		return;
	}
	ck_assert_uint_eq(desc_extent_count(desc), c->extents);
	ck_assert_str_eq(desc_extent_at(desc, 0)->path, c->text);
	ck_assert_uint_eq(desc_extent_at(desc, 0)->line, c->line);
	ck_assert_int_eq(desc_write(desc, &out, &out_len, &err), DESC_OK);
	/* The text, up to the first NUL (padding and stale bytes after
	 * it are not written back). */
	ck_assert_uint_eq(out_len, strnlen(buf, len));
	ck_assert(memcmp(out, buf, out_len) == 0);
	/* Whatever qemu or VMware wrote, the CIDs read as numbers. */
	ck_assert(desc_cid(desc, NULL));
	ck_assert(desc_parent_cid(desc, NULL));
	free(out);
	desc_free(desc);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------ */
/* mutations: whatever parses writes back as itself                    */
/* ------------------------------------------------------------------ */

static uint32_t lcg(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

START_TEST(test_mutations)
{
	static const char alphabet[] = " \t\r\n\"'#=\0\x80\xff" "0129aZRWFLATSPARSEZEROddb.CID";
	uint32_t state = 20261125;
	size_t base_len = strlen(sample);
	unsigned accepted = 0;

	/* room for the sample and the few bytes a round may add */
	ck_assert_uint_le(base_len + 16, 1024);
	for (int round = 0; round < 3000; round++) {
		char text[1024];
		size_t len = base_len;
		int edits = 1 + (int)(lcg(&state) % 4);
		desc_descriptor *desc = NULL;
		desc_findings f;
		char *out = NULL;
		size_t out_len;

		memcpy(text, sample, base_len);
		for (int k = 0; k < edits; k++) {
			size_t at = lcg(&state) % len;
			char c = alphabet[lcg(&state) % (sizeof(alphabet) - 1)];

			switch (lcg(&state) % 3) {
			case 0: /* replace */
				text[at] = c;
				break;
			case 1: /* insert */
				if (len + 1 < sizeof(text)) {
					memmove(text + at + 1, text + at, len - at);
					text[at] = c;
					len++;
				}
				break;
			default: /* delete */
				memmove(text + at, text + at + 1, len - at - 1);
				len--;
				break;
			}
		}
		desc_findings_init(&f);
		if (desc_parse(text, len, "m.vmdk", &desc, &f, NULL) != DESC_OK) {
			desc_findings_clear(&f);
			continue;
		}
		accepted++;
		ck_assert_int_eq(desc_write(desc, &out, &out_len, NULL), DESC_OK);
		/* The output is the input minus trailing padding, or minus
		 * what follows a NUL ending the text (with a warning). */
		ck_assert_msg(out_len <= len && memcmp(out, text, out_len) == 0,
			      "round %d: output is not a prefix of the input", round);
		for (size_t i = out_len; i < len; i++)
			ck_assert_msg(text[i] == '\0' || text[i] == ' ' ||
				      (f.count > 0 && strcmp(f.items[f.count - 1].code,
							     "stale-bytes-after-text") == 0),
				      "round %d: byte %zu (%02x) dropped", round,
				      i, (unsigned char)text[i]);
		ck_assert_int_eq(desc_validate(desc, &f), DESC_OK);
		ck_assert_int_eq(desc_check_portability(desc, &f), DESC_OK);
		desc_findings_clear(&f);
		free(out);
		desc_free(desc);
	}
	/* The mutations must leave enough inputs valid to mean something. */
	ck_assert_uint_gt(accepted, 300);
}
END_TEST

/* What SOURCES.md says of each bad file: the fragments are rejected as
 * descriptors at line 1, but their extent line, put inside a whole
 * descriptor, is judged on its own (dissect parses the emoji name and
 * drops bad-1..3; the name with a quote inside cannot be represented). */
struct bad_corpus_case {
	const char *file;
	unsigned line;
	const char *message;      /* of the file as a whole; NULL: prefix only */
	const char *wrapped_path; /* NULL: the wrapped line is rejected */
	const char *wrapped_message;
};

static const struct bad_corpus_case bad_corpus_cases[] = {
	{ "libvmdk__tests-data__extent_values.1.txt", 1,
	  "not a VMDK descriptor: 'RW 16777216 SPARSE \"test1.vmdk\"' comes before any '# Disk DescriptorFile' or header line (expected '# Disk DescriptorFile', then version=1)",
	  "test1.vmdk", NULL },
	{ "dissect-hypervisor__test_vmdk-extent-line__emoji-four-parts.txt", 1, NULL,
	  "\xf0\x9f\xa6\x8a \xf0\x9f\xa6\x8a \xf0\x9f\xa6\x8a.vmdk", NULL },
	{ "dissect-hypervisor__test_vmdk-extent-line__bad-1.txt", 1,
	  "not a VMDK descriptor: 'RW 1234567890' comes before any '# Disk DescriptorFile' or header line (expected '# Disk DescriptorFile', then version=1)",
	  NULL, "missing extent type in 'RW 1234567890' (expected FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE)" },
	{ "dissect-hypervisor__test_vmdk-extent-line__bad-2.txt", 1, NULL,
	  NULL, "extent size '\"file.vmdk\"' is not a number in 'RDONLY \"file.vmdk\"' (expected ACCESS SECTORS TYPE \"FILE\" [OFFSET])" },
	{ "dissect-hypervisor__test_vmdk-extent-line__bad-3.txt", 1, NULL,
	  NULL, "missing extent size in 'NOACCESS' (expected ACCESS SECTORS TYPE \"FILE\" [OFFSET])" },
	{ "dissect-hypervisor__test_vmdk-extent-line__specials-five-parts.txt", 1, NULL,
	  NULL, "unexpected text '\\' disk\xc3\xab\xc3\xa4\xc3\xb4:)\\\\\\'`\\foo.vmdk\" 123' after the extent file name (expected an offset in sectors)" },
	{ "qemu__iotests-059__malformed-vmfs-extent.vmdk", 8,
	  "unexpected offset '1' after a VMFS extent in 'RW 12582912 VMFS \"dummy.vmdk\" 1' (expected ACCESS SECTORS VMFS \"FILE\")",
	  NULL, NULL },
};

START_TEST(test_corpus_bad_expected)
{
	const struct bad_corpus_case *c = &bad_corpus_cases[_i];
	char *dir = corpus_dir("descriptors-bad"), path[4096], *buf, *wrapped;
	desc_descriptor *desc = NULL;
	desc_error err;
	size_t len;
	FILE *probe;

	if (dir == NULL) {
		fprintf(stderr, "SKIP %s: $VMDKIT_CORPUS not set\n", c->file);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, c->file);
	free(dir);
	if ((probe = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "SKIP %s: not in the corpus\n", c->file);
		return;
	}
	fclose(probe);
	buf = read_file(path, &len);
	desc_error_clear(&err);
	ck_assert_int_eq(desc_parse(buf, len, c->file, &desc, NULL, &err),
			 DESC_E_SYNTAX);
	ck_assert_uint_eq(err.line, c->line);
	if (c->message != NULL)
		ck_assert_msg(strcmp(err.message, c->message) == 0,
			      "%s:\n  got [%s]\n want [%s]", c->file,
			      err.message, c->message);
	else
		ck_assert_msg(strncmp(err.message, "not a VMDK descriptor: ", 23) == 0,
			      "%s: %s", c->file, err.message);
	if (c->wrapped_path == NULL && c->wrapped_message == NULL) {
		free(buf);
		return;
	}
	/* The same line inside a whole descriptor: line 8 after HDR. */
	wrapped = malloc(strlen(HDR) + len + 1);
	ck_assert(wrapped != NULL);
	memcpy(wrapped, HDR, strlen(HDR));
	memcpy(wrapped + strlen(HDR), buf, len);
	desc_error_clear(&err);
	if (c->wrapped_path != NULL) {
		ck_assert_msg(desc_parse(wrapped, strlen(HDR) + len, c->file,
					 &desc, NULL, &err) == DESC_OK,
			      "%s wrapped: %s", c->file, err.message);
		ck_assert_str_eq(desc_extent_at(desc, 0)->path, c->wrapped_path);
		desc_free(desc);
	} else {
		ck_assert_int_eq(desc_parse(wrapped, strlen(HDR) + len, c->file,
					    &desc, NULL, &err), DESC_E_SYNTAX);
		ck_assert_uint_eq(err.line, 8);
		ck_assert_msg(strcmp(err.message, c->wrapped_message) == 0,
			      "%s wrapped:\n  got [%s]\n want [%s]", c->file,
			      err.message, c->wrapped_message);
	}
	free(wrapped);
	free(buf);
}
END_TEST

static Suite *descriptor_suite(void)
{
	Suite *s = suite_create("descriptor");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_sample);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_bad_input, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_long_line);
	tcase_add_test(tc, test_input_cap);
	tcase_add_test(tc, test_line_cap);
	tcase_add_test(tc, test_embedded_area);
	tcase_add_test(tc, test_stale_after_nul);
	tcase_add_loop_test(tc, test_lossless, 0,
			    (int)(sizeof(lossless_cases) / sizeof(lossless_cases[0])));
	tcase_add_test(tc, test_parsed_fields);
	tcase_add_test(tc, test_parse_warnings);
	tcase_add_loop_test(tc, test_fixtures, 0,
			    (int)(sizeof(fixture_cases) / sizeof(fixture_cases[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("mutations");
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);
	tc = tcase_create("corpus");
	tcase_add_test(tc, test_corpus_roundtrip);
	tcase_add_test(tc, test_corpus_bad_rejected);
	tcase_add_loop_test(tc, test_corpus_bad_expected, 0,
			    (int)(sizeof(bad_corpus_cases) / sizeof(bad_corpus_cases[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(descriptor_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

