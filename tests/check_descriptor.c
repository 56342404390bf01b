/* check_descriptor.c - the VMDK text descriptor: parse, lossless write,
 * edits, bad input, validation and portability findings. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap + 1);
			ck_assert(buf != NULL);
		}
		got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Text part of a file: trailing NUL padding removed. */
static size_t text_length(const char *buf, size_t len)
{
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	return len;
}

static desc_descriptor *parse_ok(const char *text, desc_findings *warnings)
{
	desc_descriptor *desc = NULL;
	desc_error err;
	desc_status st;

	desc_error_clear(&err);
	st = desc_parse(text, strlen(text), "t.vmdk", &desc, warnings, &err);
	ck_assert_msg(st == DESC_OK, "parse failed: line %u: %s", err.line,
		      err.message);
	ck_assert(desc != NULL);
	return desc;
}

static char *write_ok(const desc_descriptor *desc)
{
	char *out = NULL;
	size_t len = 0;
	desc_error err;

	desc_error_clear(&err);
	ck_assert_int_eq(desc_write(desc, &out, &len, &err), DESC_OK);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

static void assert_text(const char *got, const char *want)
{
	ck_assert_msg(strcmp(got, want) == 0, "got:\n[%s]\nwant:\n[%s]", got,
		      want);
}

static const char sample[] =
	"# Disk DescriptorFile\n"
	"version=1\n"
	"encoding=\"UTF-8\"\n"
	"CID=8c808111\n"
	"parentCID=ffffffff\n"
	"createType=\"twoGbMaxExtentSparse\"\n"
	"\n"
	"# Extent description\n"
	"RW 4192256 SPARSE \"8.10 Core-s001.vmdk\"\n"
	"RW 20480 ZERO\n"
	"\n"
	"# The Disk Data Base \n"
	"#DDB\n"
	"\n"
	"ddb.virtualHWVersion = \"7\"\n"
	"ddb.uuid = \"60 00 C2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n"
	"ddb.geometry.cylinders = \"261\"\n"
	"ddb.geometry.heads = \"255\"\n"
	"ddb.geometry.sectors = \"63\"\n"
	"ddb.adapterType = \"lsilogic\"\n";

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

#define HDR \
	"# Disk DescriptorFile\n" \
	"version=1\n" \
	"CID=12345678\n" \
	"parentCID=ffffffff\n" \
	"createType=\"monolithicSparse\"\n" \
	"\n" \
	"# Extent description\n"
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
/* edits: each changes only the lines it touches                       */
/* ------------------------------------------------------------------ */

#define S_HEAD \
	"# Disk DescriptorFile\n" \
	"version=1\n" \
	"encoding=\"UTF-8\"\n" \
	"CID=8c808111\n" \
	"parentCID=ffffffff\n" \
	"createType=\"twoGbMaxExtentSparse\"\n"
#define S_EXTS \
	"\n" \
	"# Extent description\n" \
	"RW 4192256 SPARSE \"8.10 Core-s001.vmdk\"\n" \
	"RW 20480 ZERO\n"
#define S_DDB1 \
	"\n" \
	"# The Disk Data Base \n" \
	"#DDB\n" \
	"\n" \
	"ddb.virtualHWVersion = \"7\"\n" \
	"ddb.uuid = \"60 00 C2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n"
#define S_DDB2 \
	"ddb.geometry.cylinders = \"261\"\n" \
	"ddb.geometry.heads = \"255\"\n" \
	"ddb.geometry.sectors = \"63\"\n" \
	"ddb.adapterType = \"lsilogic\"\n"

enum edit_op {
	E_DDB_SET, E_DDB_UNSET, E_HEADER_SET, E_HEADER_UNSET, E_REPATH,
	E_ADD_SPARSE, E_ADD_ZERO, E_REMOVE, E_SET_CID, E_SET_PARENT_CID,
	E_SET_HINT,
};

struct edit_case {
	const char *name;
	const char *input;
	enum edit_op op;
	const char *key;  /* or the index for extent ops */
	const char *value;
	size_t result;    /* for unset: lines removed */
	const char *want;
};

static const struct edit_case edit_cases[] = {
	{ "ddb-set-existing", sample, E_DDB_SET, "ddb.virtualHWVersion", "19", 0,
	  S_HEAD S_EXTS "\n# The Disk Data Base \n#DDB\n\n"
	  "ddb.virtualHWVersion = \"19\"\n"
	  "ddb.uuid = \"60 00 C2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n" S_DDB2 },
	{ "ddb-set-case-insensitive", sample, E_DDB_SET, "DDB.ADAPTERTYPE", "pvscsi", 0,
	  S_HEAD S_EXTS S_DDB1
	  "ddb.geometry.cylinders = \"261\"\nddb.geometry.heads = \"255\"\n"
	  "ddb.geometry.sectors = \"63\"\nddb.adapterType = \"pvscsi\"\n" },
	{ "ddb-set-new", sample, E_DDB_SET, "ddb.toolsVersion", "12448", 0,
	  S_HEAD S_EXTS S_DDB1 S_DDB2 "ddb.toolsVersion = \"12448\"\n" },
	{ "ddb-unset", sample, E_DDB_UNSET, "ddb.uuid", NULL, 1,
	  S_HEAD S_EXTS "\n# The Disk Data Base \n#DDB\n\n"
	  "ddb.virtualHWVersion = \"7\"\n" S_DDB2 },
	{ "ddb-unset-missing", sample, E_DDB_UNSET, "ddb.nothing", NULL, 0, sample },
	{ "ddb-set-keeps-style", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.adapterType=\"ide\" \n",
	  E_DDB_SET, "ddb.adapterType", "lsilogic", 0,
	  HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.adapterType=\"lsilogic\" \n" },
	{ "ddb-set-without-section", HDR "RW 1 SPARSE \"d\"\n", E_DDB_SET,
	  "ddb.adapterType", "ide", 0,
	  HDR "RW 1 SPARSE \"d\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n" },
	{ "ddb-set-empty-section", HDR "RW 1 SPARSE \"d\"\n\n# The Disk Data Base\n#DDB\n\n",
	  E_DDB_SET, "ddb.adapterType", "ide", 0,
	  HDR "RW 1 SPARSE \"d\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n" },
	{ "ddb-set-no-final-newline", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"",
	  E_DDB_SET, "ddb.b", "2", 0,
	  HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"\nddb.b = \"2\"" },
	{ "ddb-unset-last-no-final-newline", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"\nddb.b = \"2\"",
	  E_DDB_UNSET, "ddb.b", NULL, 1,
	  HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"" },
	{ "ddb-unset-duplicates", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"\nddb.A = \"2\"\n",
	  E_DDB_UNSET, "ddb.a", NULL, 2, HDR "RW 1 SPARSE \"d\"\n#DDB\n" },
	{ "header-set-existing", sample, E_HEADER_SET, "encoding", "windows-1252", 0,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"windows-1252\"\nCID=8c808111\n"
	  "parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "header-set-new", sample, E_HEADER_SET, "isNativeSnapshot", "no", 0,
	  S_HEAD "isNativeSnapshot=\"no\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "header-set-keeps-spacing", "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType = \"vmfs\"\n# Extent description\nRW 1 VMFS \"f\"\n",
	  E_HEADER_SET, "createType", "vmfsThin", 0,
	  "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType = \"vmfsThin\"\n# Extent description\nRW 1 VMFS \"f\"\n" },
	{ "header-set-bare-stays-bare", "# Disk DescriptorFile\nversion=1\nencoding=UTF-8\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfs\n# Extent description\nRW 1 VMFS \"f\"\n",
	  E_HEADER_SET, "createType", "vmfsThin", 0,
	  "# Disk DescriptorFile\nversion=1\nencoding=UTF-8\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfsThin\n# Extent description\nRW 1 VMFS \"f\"\n" },
	{ "header-set-bare-needs-quotes", "# Disk DescriptorFile\nversion=1\nencoding=UTF-8\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfs\n# Extent description\nRW 1 VMFS \"f\"\n",
	  E_HEADER_SET, "encoding", "windows 1252", 0,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"windows 1252\"\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfs\n# Extent description\nRW 1 VMFS \"f\"\n" },
	{ "header-unset", sample, E_HEADER_UNSET, "encoding", NULL, 1,
	  "# Disk DescriptorFile\nversion=1\nCID=8c808111\n"
	  "parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "set-cid", sample, E_SET_CID, NULL, NULL, 0xdeadbeef,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=deadbeef\n"
	  "parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "set-parent-cid", sample, E_SET_PARENT_CID, NULL, NULL, 0x0000beef,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=8c808111\n"
	  "parentCID=0000beef\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "set-hint", sample, E_SET_HINT, NULL, "../base/8.10 Core.vmdk", 0,
	  S_HEAD "parentFileNameHint=\"../base/8.10 Core.vmdk\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "remove-hint", S_HEAD "parentFileNameHint=\"p.vmdk\"\n" S_EXTS S_DDB1 S_DDB2,
	  E_SET_HINT, NULL, NULL, 0, sample },
	{ "repath", sample, E_REPATH, "0", "../base/8.10 Core-s001.vmdk", 0,
	  S_HEAD "\n# Extent description\n"
	  "RW 4192256 SPARSE \"../base/8.10 Core-s001.vmdk\"\nRW 20480 ZERO\n" S_DDB1 S_DDB2 },
	{ "repath-keeps-offset-and-spacing", HDR "RW  100\tFLAT \"old\"  7 extra\n",
	  E_REPATH, "0", "new name", 0, HDR "RW  100\tFLAT \"new name\"  7 extra\n" },
	{ "repath-single-quoted", HDR "RW 100 SPARSE 'old.vmdk' \n", E_REPATH, "0",
	  "new.vmdk", 0, HDR "RW 100 SPARSE 'new.vmdk' \n" },
	{ "repath-single-quoted-apostrophe", HDR "RW 100 SPARSE 'old.vmdk' \n", E_REPATH, "0",
	  "it's.vmdk", 0, HDR "RW 100 SPARSE \"it's.vmdk\"\n" },
	{ "repath-zero-gets-name", sample, E_REPATH, "1", "z.vmdk", 0,
	  S_HEAD "\n# Extent description\n"
	  "RW 4192256 SPARSE \"8.10 Core-s001.vmdk\"\nRW 20480 ZERO \"z.vmdk\"\n" S_DDB1 S_DDB2 },
	{ "add-extent", sample, E_ADD_SPARSE, NULL, "8.10 Core-s002.vmdk", 0,
	  S_HEAD S_EXTS "RW 2048 SPARSE \"8.10 Core-s002.vmdk\"\n" S_DDB1 S_DDB2 },
	{ "add-zero-extent", sample, E_ADD_ZERO, NULL, NULL, 0,
	  S_HEAD S_EXTS "RW 2048 ZERO\n" S_DDB1 S_DDB2 },
	{ "add-extent-blank-before-first", "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=\"fullDevice\"\n\nRW 1 FLAT \"/dev/sda\" 0\n\n#DDB\n",
	  E_ADD_SPARSE, NULL, "s.vmdk", 0,
	  "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=\"fullDevice\"\n\nRW 1 FLAT \"/dev/sda\" 0\n"
	  "RW 2048 SPARSE \"s.vmdk\"\n\n#DDB\n" },
	{ "remove-extent", sample, E_REMOVE, "0", NULL, 0,
	  S_HEAD "\n# Extent description\nRW 20480 ZERO\n" S_DDB1 S_DDB2 },
	{ "crlf-edits-keep-crlf",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n# The Disk Data Base\r\n#DDB\r\n\r\n"
	  "ddb.a = \"1\"\r\n",
	  E_DDB_SET, "ddb.b", "2", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n# The Disk Data Base\r\n#DDB\r\n\r\n"
	  "ddb.a = \"1\"\r\nddb.b = \"2\"\r\n" },
	{ "crlf-add-extent",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n",
	  E_ADD_SPARSE, NULL, "e.vmdk", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\nRW 2048 SPARSE \"e.vmdk\"\r\n" },
	{ "crlf-set-hint-and-repath",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n",
	  E_SET_HINT, NULL, "p.vmdk", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\nparentFileNameHint=\"p.vmdk\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n" },
	{ "crlf-rewrite-existing-line",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n#DDB\r\nddb.a = \"1\"\r\nddb.z = \"9\"\r\n",
	  E_DDB_SET, "ddb.a", "2", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n#DDB\r\nddb.a = \"2\"\r\nddb.z = \"9\"\r\n" },
	{ "crlf-repath",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n#DDB\r\n",
	  E_REPATH, "0", "../base/d.vmdk", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"../base/d.vmdk\"\r\n\r\n#DDB\r\n" },
	{ "mixed-endings-line-keeps-its-own",
	  "# Disk DescriptorFile\nversion=1\nCID=12345678\r\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n# Extent description\nRW 1 SPARSE \"d\"\n",
	  E_SET_CID, NULL, NULL, 0xabcdef01,
	  "# Disk DescriptorFile\nversion=1\nCID=abcdef01\r\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n# Extent description\nRW 1 SPARSE \"d\"\n" },
	{ "bom-kept", "\xef\xbb\xbf" HDR "RW 1 SPARSE \"d\"\n", E_SET_CID, NULL, NULL, 1,
	  "\xef\xbb\xbf# Disk DescriptorFile\nversion=1\nCID=00000001\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n\n# Extent description\nRW 1 SPARSE \"d\"\n" },
};

START_TEST(test_edit)
{
	const struct edit_case *c = &edit_cases[_i];
	desc_descriptor *desc = parse_ok(c->input, NULL);
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 2048 };
	desc_error err;
	desc_status st = DESC_OK;
	size_t removed = 0;
	char *out;

	desc_error_clear(&err);
	switch (c->op) {
	case E_DDB_SET:
		st = desc_ddb_set(desc, c->key, c->value, &err);
		break;
	case E_DDB_UNSET:
		removed = desc_ddb_unset(desc, c->key);
		break;
	case E_HEADER_SET:
		st = desc_header_set(desc, c->key, c->value, &err);
		break;
	case E_HEADER_UNSET:
		removed = desc_header_unset(desc, c->key);
		break;
	case E_REPATH:
		st = desc_extent_set_path(desc, (size_t)strtoul(c->key, NULL, 10),
					  c->value, &err);
		break;
	case E_ADD_SPARSE:
		e.type = DESC_EXTENT_SPARSE;
		e.path = c->value;
		st = desc_extent_add(desc, &e, &err);
		break;
	case E_ADD_ZERO:
		e.type = DESC_EXTENT_ZERO;
		st = desc_extent_add(desc, &e, &err);
		break;
	case E_REMOVE:
		st = desc_extent_remove(desc, (size_t)strtoul(c->key, NULL, 10),
					&err);
		break;
	case E_SET_CID:
		st = desc_set_cid(desc, (uint32_t)c->result, &err);
		break;
	case E_SET_PARENT_CID:
		st = desc_set_parent_cid(desc, (uint32_t)c->result, &err);
		break;
	case E_SET_HINT:
		st = desc_set_parent_hint(desc, c->value, &err);
		break;
	}
	ck_assert_msg(st == DESC_OK, "%s: %s", c->name, err.message);
	if (c->op == E_DDB_UNSET || c->op == E_HEADER_UNSET)
		ck_assert_uint_eq(removed, c->result);
	out = write_ok(desc);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s:\ngot:\n[%s]\nwant:\n[%s]",
		      c->name, out, c->want);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_edit_accessors)
{
	desc_descriptor *desc = parse_ok(sample, NULL);
	desc_extent e = { .access = DESC_ACCESS_RDONLY, .sectors = 7,
			  .type = DESC_EXTENT_FLAT, .path = "f-flat.vmdk",
			  .has_offset = true, .offset = 9, .line = 42 };
	const desc_extent *got;
	uint32_t cid;

	ck_assert_int_eq(desc_extent_add(desc, &e, NULL), DESC_OK);
	got = desc_extent_at(desc, 2);
	ck_assert_int_eq(got->access, DESC_ACCESS_RDONLY);
	ck_assert_str_eq(got->path, "f-flat.vmdk");
	ck_assert_uint_eq(got->offset, 9);
	ck_assert_uint_eq(got->line, 0);
	ck_assert_int_eq(desc_extent_set_path(desc, 0, "x y.vmdk", NULL), DESC_OK);
	ck_assert_str_eq(desc_extent_at(desc, 0)->path, "x y.vmdk");
	ck_assert_uint_eq(desc_extent_at(desc, 0)->line, 0);
	ck_assert_uint_eq(desc_extent_at(desc, 0)->sectors, 4192256);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.uuid", "1 2", NULL), DESC_OK);
	ck_assert_str_eq(desc_ddb_get(desc, "ddb.uuid"), "1 2");
	ck_assert_int_eq(desc_set_cid(desc, 0xa, NULL), DESC_OK);
	ck_assert(desc_cid(desc, &cid));
	ck_assert_uint_eq(cid, 0xa);
	/* qemu writes CIDs without leading zeros. */
	ck_assert_int_eq(desc_header_set(desc, "CID", "abc", NULL), DESC_OK);
	ck_assert_str_eq(desc_header_get(desc, "CID"), "abc");
	ck_assert(desc_cid(desc, &cid));
	ck_assert_uint_eq(cid, 0xabc);
	ck_assert_int_eq(desc_header_set(desc, "CID", "123456789", NULL), DESC_OK);
	ck_assert(!desc_cid(desc, &cid)); /* more than 32 bits */
	ck_assert_uint_eq(desc_header_unset(desc, "CID"), 1);
	ck_assert(!desc_cid(desc, &cid));
	desc_free(desc);
}
END_TEST

/* Refused edits fail with the right status and change nothing. */
START_TEST(test_edit_refused)
{
	desc_descriptor *desc = parse_ok(sample, NULL);
	desc_extent zero_offset = { .type = DESC_EXTENT_ZERO, .sectors = 1,
				    .has_offset = true };
	desc_extent vmfs_offset = { .type = DESC_EXTENT_VMFS, .sectors = 1,
				    .path = "v", .has_offset = true };
	desc_extent no_path = { .type = DESC_EXTENT_SPARSE, .sectors = 1 };
	desc_extent quote = { .type = DESC_EXTENT_SPARSE, .sectors = 1,
			      .path = "a\"b" };
	desc_error err;
	char *out;

	desc_error_clear(&err);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.uuid", "a\"b", &err), DESC_E_ARG);
	ck_assert_str_eq(err.message,
			 "value for 'ddb.uuid' cannot contain a double quote or a line break");
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.x", "a\nb", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_ddb_set(desc, "bad key", "v", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.x", NULL, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_header_set(desc, "CID", "xyz", &err), DESC_E_ARG);
	ck_assert_str_eq(err.message,
			 "CID 'xyz' is not hexadecimal (expected 8 hex digits such as 8c808111)");
	ck_assert_int_eq(desc_header_set(desc, "ddb.uuid", "x", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_header_set(desc, "=", "x", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_set_parent_hint(desc, "", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_set_path(desc, 2, "x", &err), DESC_E_NOT_FOUND);
	ck_assert_str_eq(err.message, "no extent 2 (the descriptor has 2)");
	ck_assert_int_eq(desc_extent_set_path(desc, 0, NULL, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_set_path(desc, 0, "", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_remove(desc, 9, NULL), DESC_E_NOT_FOUND);
	ck_assert_int_eq(desc_extent_add(desc, &zero_offset, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, &vmfs_offset, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, &no_path, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, &quote, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, NULL, NULL), DESC_E_ARG);
	out = write_ok(desc);
	assert_text(out, sample);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_new_template)
{
	desc_descriptor *desc = NULL, *again;
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 8192,
			  .type = DESC_EXTENT_SPARSE };
	desc_error err;
	char *out;

	desc_error_clear(&err);
	ck_assert_int_eq(desc_new("monolithicSparse", 0x0a1b2c3d, 0xffffffff,
				  &desc, &err), DESC_OK);
	ck_assert_ptr_null(desc_name(desc));
	out = write_ok(desc);
	assert_text(out,
		    "# Disk DescriptorFile\n"
		    "version=1\n"
		    "encoding=\"UTF-8\"\n"
		    "CID=0a1b2c3d\n"
		    "parentCID=ffffffff\n"
		    "createType=\"monolithicSparse\"\n"
		    "\n"
		    "# Extent description\n"
		    "\n"
		    "# The Disk Data Base\n"
		    "#DDB\n"
		    "\n");
	free(out);
	ck_assert_uint_eq(desc_extent_count(desc), 0);
	ck_assert_str_eq(desc_create_type(desc), "monolithicSparse");

	ck_assert_int_eq(desc_ddb_set(desc, "ddb.virtualHWVersion", "4", NULL), DESC_OK);
	e.path = "leaf-s001.vmdk";
	ck_assert_int_eq(desc_extent_add(desc, &e, NULL), DESC_OK);
	e.path = "leaf-s002.vmdk";
	ck_assert_int_eq(desc_extent_add(desc, &e, NULL), DESC_OK);
	ck_assert_int_eq(desc_set_parent_hint(desc, "../base/base.vmdk", NULL), DESC_OK);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.adapterType", "lsilogic", NULL), DESC_OK);
	out = write_ok(desc);
	assert_text(out,
		    "# Disk DescriptorFile\n"
		    "version=1\n"
		    "encoding=\"UTF-8\"\n"
		    "CID=0a1b2c3d\n"
		    "parentCID=ffffffff\n"
		    "createType=\"monolithicSparse\"\n"
		    "parentFileNameHint=\"../base/base.vmdk\"\n"
		    "\n"
		    "# Extent description\n"
		    "RW 8192 SPARSE \"leaf-s001.vmdk\"\n"
		    "RW 8192 SPARSE \"leaf-s002.vmdk\"\n"
		    "\n"
		    "# The Disk Data Base\n"
		    "#DDB\n"
		    "\n"
		    "ddb.virtualHWVersion = \"4\"\n"
		    "ddb.adapterType = \"lsilogic\"\n");
	/* What we generate parses back to the same bytes. */
	again = parse_ok(out, NULL);
	free(out);
	out = write_ok(again);
	ck_assert_uint_eq(desc_extent_count(again), 2);
	ck_assert_str_eq(desc_parent_hint(again), "../base/base.vmdk");
	free(out);
	desc_free(again);
	desc_free(desc);

	ck_assert_int_eq(desc_new("bad\"type", 1, 2, &desc, &err), DESC_E_ARG);
	ck_assert_ptr_null(desc);
	ck_assert_int_eq(desc_new(NULL, 1, 2, &desc, NULL), DESC_E_ARG);
}
END_TEST

START_TEST(test_clone)
{
	desc_descriptor *desc = parse_ok(sample, NULL), *copy = NULL;
	char *a, *b;

	ck_assert_int_eq(desc_clone(desc, &copy, NULL), DESC_OK);
	ck_assert_str_eq(desc_name(copy), "t.vmdk");
	ck_assert_int_eq(desc_extent_set_path(copy, 0, "elsewhere.vmdk", NULL), DESC_OK);
	ck_assert_uint_eq(desc_ddb_unset(copy, "ddb.uuid"), 1);
	a = write_ok(desc);
	assert_text(a, sample);
	b = write_ok(copy);
	ck_assert_str_ne(a, b);
	ck_assert_str_eq(desc_extent_at(desc, 0)->path, "8.10 Core-s001.vmdk");
	ck_assert_str_eq(desc_extent_at(copy, 0)->path, "elsewhere.vmdk");
	ck_assert_ptr_null(desc_ddb_get(copy, "ddb.uuid"));
	ck_assert_ptr_nonnull(desc_ddb_get(desc, "ddb.uuid"));
	free(a);
	free(b);
	desc_free(copy);
	desc_free(desc);
	desc_free(NULL);
	ck_assert_int_eq(desc_clone(NULL, &copy, NULL), DESC_E_ARG);
	ck_assert_ptr_null(copy);
}
END_TEST

/* ------------------------------------------------------------------ */
/* validation and portability findings                                 */
/* ------------------------------------------------------------------ */

#define C_SIG "# Disk DescriptorFile\n"
#define C_VER "version=1\n"
#define C_ENC "encoding=\"UTF-8\"\n"
#define C_CID "CID=8c808111\n"
#define C_PCID "parentCID=ffffffff\n"
#define C_CT "createType=\"twoGbMaxExtentSparse\"\n"
#define C_EXTS "\n# Extent description\n"
#define C_E1 "RW 4192256 SPARSE \"a-s001.vmdk\"\n"
#define C_E2 "RW 4192256 SPARSE \"a-s002.vmdk\"\n"
#define C_DDBS "\n# The Disk Data Base\n#DDB\n\n"
#define C_ADAPTER "ddb.adapterType = \"lsilogic\"\n"
#define C_GEO "ddb.geometry.cylinders = \"521\"\nddb.geometry.heads = \"255\"\n" \
	"ddb.geometry.sectors = \"63\"\n"
#define C_LCID "ddb.longContentID = \"0123456789abcdef012345678c808111\"\n"
#define C_TAIL C_DDBS C_ADAPTER C_GEO C_LCID
#define CLEAN C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL

enum finding_edit { F_NONE, F_UNSET_HEADER, F_UNSET_DDB, F_REMOVE_EXTENTS };

struct finding_case {
	const char *name;
	const char *text;
	enum finding_edit edit;
	const char *edit_key;
	bool portability;      /* desc_check_portability, else desc_validate */
	const char *code;
	bool present;
	desc_severity severity;
	unsigned line;
	const char *message;   /* NULL: not checked */
};

static const struct finding_case finding_cases[] = {
	/* validate */
	{ "cid-format", C_SIG C_VER C_ENC "CID=18c808111\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "cid-format", true, DESC_SEV_ERROR, 4,
	  "CID '18c808111' is not 8 hex digits (expected e.g. 8c808111)" },
	{ "cid-unpadded", C_SIG C_VER C_ENC "CID=5ecb1ee\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS,
	  F_NONE, NULL, false, "cid-unpadded", true, DESC_SEV_INFO, 4,
	  "CID '5ecb1ee' has fewer than 8 digits (qemu drops leading zeros; VMware writes 05ecb1ee)" },
	{ "cid-unpadded-is-valid", C_SIG C_VER C_ENC "CID=5ecb1ee\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS,
	  F_NONE, NULL, false, "cid-format", false, 0, 0, NULL },
	{ "parent-cid-format", C_SIG C_VER C_ENC C_CID "parentCID=1ffffffff\n" C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "parent-cid-format", true, DESC_SEV_ERROR, 5, NULL },
	{ "cid-missing", CLEAN, F_UNSET_HEADER, "CID", false, "cid-missing", true,
	  DESC_SEV_ERROR, 0, "missing 'CID' (expected CID=8 hex digits)" },
	{ "parent-cid-missing", CLEAN, F_UNSET_HEADER, "parentCID", false,
	  "parent-cid-missing", true, DESC_SEV_ERROR, 0, NULL },
	{ "cid-initial", C_SIG C_VER C_ENC "CID=fffffffe\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS,
	  F_NONE, NULL, false, "cid-initial", true, DESC_SEV_INFO, 4, NULL },
	{ "delta-without-hint", C_SIG C_VER C_ENC C_CID "parentCID=12345678\n" C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "delta-without-hint", true, DESC_SEV_WARNING, 5,
	  "parentCID 12345678 names a parent but there is no parentFileNameHint (expected parentFileNameHint=\"PARENT.vmdk\")" },
	{ "delta-with-hint", C_SIG C_VER C_ENC C_CID "parentCID=12345678\n" C_CT
	  "parentFileNameHint=\"p.vmdk\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "delta-without-hint", false, 0, 0, NULL },
	{ "hint-without-parent", C_SIG C_VER C_ENC C_CID C_PCID C_CT
	  "parentFileNameHint=\"p.vmdk\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "hint-without-parent", true, DESC_SEV_WARNING, 7, NULL },
	{ "hint-empty", C_SIG C_VER C_ENC C_CID "parentCID=12345678\n" C_CT
	  "parentFileNameHint=\"\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "hint-empty", true, DESC_SEV_ERROR, 7, NULL },
	{ "long-content-id-mismatch", C_SIG C_VER C_ENC "CID=8c808112\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "long-content-id-mismatch", true, DESC_SEV_WARNING, 19, NULL },
	{ "extent-type-mismatch", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"vmfs\"\n" C_EXTS C_E1 C_DDBS,
	  F_NONE, NULL, false, "extent-type-mismatch", true, DESC_SEV_ERROR, 9,
	  "extent 1 is SPARSE but createType 'vmfs' expects VMFS" },
	{ "device-types", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"partitionedDevice\"\n" C_EXTS
	  "RW 63 FLAT \"pt-flat.vmdk\" 0\nRW 4192193 ZERO\nRW 4192256 FLAT \"/dev/sdb\" 0\n" C_TAIL,
	  F_NONE, NULL, false, "extent-type-mismatch", false, 0, 0, NULL },
	{ "rdm-types", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"vmfsPassthroughRawDeviceMap\"\n" C_EXTS
	  "RW 8384512 VMFSRDM \"a-rdmp.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, false, "extent-type-mismatch", false, 0, 0, NULL },
	{ "custom-anything", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"custom\"\n" C_EXTS
	  "RW 4192256 VMFSSPARSE \"a\"\nRW 4192256 SESPARSE \"b\"\n" C_TAIL,
	  F_NONE, NULL, false, "extent-type-mismatch", false, 0, 0, NULL },
	{ "monolithic-extent-count", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "monolithic-extent-count", true, DESC_SEV_ERROR, 6,
	  "createType 'monolithicSparse' has 2 extents (expected exactly one)" },
	{ "no-extents", CLEAN, F_REMOVE_EXTENTS, NULL, false, "no-extents", true,
	  DESC_SEV_ERROR, 0, NULL },
	{ "capacity-overflow", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS
	  "RW 18446744073709551615 SPARSE \"a\"\nRW 1 SPARSE \"b\"\n" C_DDBS,
	  F_NONE, NULL, false, "capacity-overflow", true, DESC_SEV_ERROR, 10,
	  "extent sizes add up to more than 18446744073709551615 sectors" },
	{ "extent-empty", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 "RW 0 SPARSE \"b\"\n" C_DDBS,
	  F_NONE, NULL, false, "extent-empty", true, DESC_SEV_WARNING, 10, NULL },
	{ "zero-extent-with-file", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"fullDevice\"\n" C_EXTS
	  "RW 100 ZERO \"/dev/sdc2\" 0\n" C_DDBS,
	  F_NONE, NULL, false, "zero-extent-with-file", true, DESC_SEV_INFO, 9, NULL },
	{ "geometry-not-number", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"521\"\nddb.geometry.heads = \"x\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-not-number", true, DESC_SEV_WARNING, 16,
	  "ddb.geometry.heads 'x' is not a positive number" },
	{ "geometry-zero", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"521\"\nddb.geometry.heads = \"0\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-not-number", true, DESC_SEV_WARNING, 16, NULL },
	{ "geometry-qemu-zero-cylinders", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 8192 SPARSE \"so.vmdk\"\n" C_DDBS
	  "ddb.geometry.cylinders = \"0\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-not-number", false, 0, 0, NULL },
	{ "geometry-zero-cylinders-big-disk", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"0\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", true, DESC_SEV_WARNING, 15, NULL },
	{ "geometry-incomplete", CLEAN, F_UNSET_DDB, "ddb.geometry.sectors", false,
	  "geometry-incomplete", true, DESC_SEV_WARNING, 0, NULL },
	{ "geometry-exceeds-capacity", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"600\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-exceeds-capacity", true, DESC_SEV_WARNING, 15,
	  "geometry 600/255/63 is larger than the capacity of 8384512 sectors" },
	{ "geometry-mismatch", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"100\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", true, DESC_SEV_WARNING, 15,
	  "ddb.geometry.cylinders is 100 but capacity / (heads x sectors) gives 521" },
	{ "geometry-ide-cap", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 16777216 SPARSE \"a\"\n" C_DDBS "ddb.adapterType = \"ide\"\n"
	  "ddb.geometry.cylinders = \"16383\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", false, 0, 0, NULL },
	{ "geometry-scsi-cap", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 2199023255552 SPARSE \"a\"\n" C_DDBS "ddb.adapterType = \"lsilogic\"\n"
	  "ddb.geometry.cylinders = \"65535\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", false, 0, 0, NULL },
	{ "geometry-ide-no-65535", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 2199023255552 SPARSE \"a\"\n" C_DDBS "ddb.adapterType = \"ide\"\n"
	  "ddb.geometry.cylinders = \"65535\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", true, DESC_SEV_WARNING, 15, NULL },
	{ "duplicate-header-key", C_SIG C_VER C_ENC C_CID C_PCID C_CT "Encoding=\"GBK\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "duplicate-header-key", true, DESC_SEV_ERROR, 7,
	  "duplicate header key 'Encoding' (first on line 3); readers disagree on which one counts" },
	{ "duplicate-ddb-key", CLEAN "ddb.ADAPTERTYPE = \"ide\"\n", F_NONE, NULL, false,
	  "duplicate-ddb-key", true, DESC_SEV_WARNING, 20, NULL },
	{ "adapter-type-unknown", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS "ddb.adapterType = \"scsi\"\n",
	  F_NONE, NULL, false, "adapter-type-unknown", true, DESC_SEV_WARNING, 15,
	  "unknown ddb.adapterType 'scsi' (expected ide, buslogic, lsilogic, legacyESX, pvscsi, lsisas1068, sata, nvme)" },
	{ "adapter-type-nvme", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS "ddb.adapterType = \"nvme\"\n",
	  F_NONE, NULL, false, "adapter-type-unknown", false, 0, 0, NULL },
	{ "unknown-create-type", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"fancy\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "unknown-create-type", true, DESC_SEV_WARNING, 6, NULL },
	{ "create-type-missing", CLEAN, F_UNSET_HEADER, "createType", false,
	  "create-type-missing", true, DESC_SEV_ERROR, 0, NULL },
	/* portability */
	{ "bom", "\xef\xbb\xbf" CLEAN, F_NONE, NULL, true, "portability-bom", true,
	  DESC_SEV_WARNING, 1, NULL },
	{ "first-line", "#Disk Descriptor File\n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-first-line", true, DESC_SEV_WARNING, 1, NULL },
	{ "version", C_SIG "version=2\n" C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-version", true, DESC_SEV_WARNING, 2,
	  "version 2: VirtualBox accepts only version=1" },
	{ "qemu-probe-blank", C_SIG "\n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-qemu-probe", true, DESC_SEV_WARNING, 2, NULL },
	{ "qemu-probe-spaces-line-ok", C_SIG "   \n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-qemu-probe", false, 0, 0, NULL },
	{ "qemu-probe-trailing-space", C_SIG "version=1 \n" C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-qemu-probe", true, DESC_SEV_WARNING, 2, NULL },
	{ "parent-cid-before-cid", C_SIG C_VER C_ENC C_PCID C_CID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-parent-cid-before-cid", true, DESC_SEV_WARNING, 4, NULL },
	{ "cid-text-above", C_SIG "# old CID=deadbeef\n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-cid-text-above-cid", true, DESC_SEV_WARNING, 2, NULL },
	{ "header-spacing", C_SIG C_VER C_ENC C_CID C_PCID "createType = \"twoGbMaxExtentSparse\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-header-spacing", true, DESC_SEV_WARNING, 6,
	  "spaces around '=' in header key 'createType': qemu misreads it (expected createType=VALUE)" },
	{ "section-comment-missing", C_SIG C_VER C_ENC C_CID C_PCID C_CT "\n" C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-section-comment", true, DESC_SEV_WARNING, 0,
	  "missing section comment '# Extent description': libvmdk needs it" },
	{ "section-comment-altered", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2
	  "\n# The disk Data Base \n#DDB\n\n" C_ADAPTER,
	  F_NONE, NULL, true, "portability-section-comment-altered", true, DESC_SEV_INFO, 12, NULL },
	{ "section-comment-trailing-space", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2
	  "\n# The Disk Data Base \n#DDB\n\n" C_ADAPTER,
	  F_NONE, NULL, true, "portability-section-comment-altered", false, 0, 0, NULL },
	{ "comment-in-extents", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 "#RW 1 SPARSE \"old\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-comment-in-extents", true, DESC_SEV_WARNING, 10, NULL },
	{ "blank-before-extent", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 "\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-blank-before-extent", true, DESC_SEV_WARNING, 11,
	  "blank line right before extent 2: qemu reads that extent 2 times and sees 12576768 sectors instead of 8384512 (expected no blank line between '# Extent description' and the extents)" },
	{ "extent-skipped-by-qemu", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RDONLY 4192256 SPARSE \"a-s002.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-skipped-by-qemu", true, DESC_SEV_WARNING, 10,
	  "qemu silently skips RDONLY SPARSE extent 2 and sees 4192256 sectors instead of 8384512" },
	{ "zero-skipped-by-qemu", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW 4192256 ZERO\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-skipped-by-qemu", true, DESC_SEV_WARNING, 10, NULL },
	{ "single-quoted-name", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW 4192256 SPARSE 'a-s002.vmdk'\n" C_TAIL,
	  F_NONE, NULL, true, "portability-single-quoted-name", true, DESC_SEV_WARNING, 10, NULL },
	{ "extent-spacing", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW  4192256\tSPARSE \"a-s002.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-spacing", true, DESC_SEV_WARNING, 10, NULL },
	{ "extent-spacing-inside-name-ok", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW 4192256 SPARSE \"a  b\tc.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-spacing", false, 0, 0, NULL },
	{ "flat-without-offset", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicFlat\"\n" C_EXTS
	  "RW 8384512 FLAT \"a-flat.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-flat-without-offset", true, DESC_SEV_WARNING, 9, NULL },
	{ "extent-folder", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS
	  "RW 4192256 SPARSE \"../base/a-s001.vmdk\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-extent-folder", true, DESC_SEV_INFO, 9, NULL },
	{ "encoding", C_SIG C_VER "encoding=\"windows-1252\"\n" C_CID C_PCID C_CT C_EXTS
	  "RW 4192256 SPARSE \"D\xc3\xadsk-s001.vmdk\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-encoding", true, DESC_SEV_WARNING, 9, NULL },
	{ "encoding-utf8-ok", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS
	  "RW 4192256 SPARSE \"D\xc3\xadsk-s001.vmdk\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-encoding", false, 0, 0, NULL },
};

static void apply_finding_edit(desc_descriptor *desc, const struct finding_case *c)
{
	switch (c->edit) {
	case F_NONE:
		break;
	case F_UNSET_HEADER:
		ck_assert_uint_eq(desc_header_unset(desc, c->edit_key), 1);
		break;
	case F_UNSET_DDB:
		ck_assert_uint_eq(desc_ddb_unset(desc, c->edit_key), 1);
		break;
	case F_REMOVE_EXTENTS:
		while (desc_extent_count(desc) > 0)
			ck_assert_int_eq(desc_extent_remove(desc, 0, NULL), DESC_OK);
		break;
	}
}

START_TEST(test_findings)
{
	const struct finding_case *c = &finding_cases[_i];
	desc_descriptor *desc = parse_ok(c->text, NULL);
	desc_findings f;
	const desc_finding *hit = NULL;
	size_t hits = 0;

	apply_finding_edit(desc, c);
	desc_findings_init(&f);
	if (c->portability)
		ck_assert_int_eq(desc_check_portability(desc, &f), DESC_OK);
	else
		ck_assert_int_eq(desc_validate(desc, &f), DESC_OK);
	for (size_t i = 0; i < f.count; i++) {
		ck_assert_str_eq(f.items[i].file, "t.vmdk");
		if (strcmp(f.items[i].code, c->code) == 0) {
			hits++;
			if (hit == NULL)
				hit = &f.items[i];
		}
	}
	if (!c->present) {
		ck_assert_msg(hits == 0, "%s: unexpected %s: %s", c->name,
			      c->code, hit->message);
	} else {
		ck_assert_msg(hits == 1, "%s: %zu findings with code %s", c->name,
			      hits, c->code);
		ck_assert_int_eq(hit->severity, c->severity);
		ck_assert_msg(hit->line == c->line, "%s: line %u want %u",
			      c->name, hit->line, c->line);
		if (c->message != NULL)
			ck_assert_msg(strcmp(hit->message, c->message) == 0,
				      "%s:\n  got [%s]\n want [%s]", c->name,
				      hit->message, c->message);
	}
	desc_findings_clear(&f);
	desc_free(desc);
}
END_TEST

/* The canonical form has nothing to report, and neither has what
 * desc_new builds. */
START_TEST(test_clean)
{
	desc_descriptor *desc = parse_ok(CLEAN, NULL), *fresh = NULL;
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 2048,
			  .type = DESC_EXTENT_SPARSE, .path = "leaf.vmdk" };
	desc_findings f;

	desc_findings_init(&f);
	ck_assert_int_eq(desc_validate(desc, &f), DESC_OK);
	ck_assert_int_eq(desc_check_portability(desc, &f), DESC_OK);
	ck_assert_msg(f.count == 0, "%zu findings, first %s: %s", f.count,
		      f.count ? f.items[0].code : "", f.count ? f.items[0].message : "");
	ck_assert_int_eq(desc_new("monolithicSparse", 0x12345678, 0x9abcdef0,
				  &fresh, NULL), DESC_OK);
	ck_assert_int_eq(desc_extent_add(fresh, &e, NULL), DESC_OK);
	ck_assert_int_eq(desc_set_parent_hint(fresh, "base.vmdk", NULL), DESC_OK);
	ck_assert_int_eq(desc_validate(fresh, &f), DESC_OK);
	ck_assert_int_eq(desc_check_portability(fresh, &f), DESC_OK);
	ck_assert_msg(f.count == 0, "%zu findings, first %s: %s", f.count,
		      f.count ? f.items[0].code : "", f.count ? f.items[0].message : "");
	ck_assert_int_eq(desc_validate(NULL, &f), DESC_E_ARG);
	ck_assert_int_eq(desc_check_portability(desc, NULL), DESC_E_ARG);
	desc_findings_clear(&f);
	desc_free(fresh);
	desc_free(desc);
}
END_TEST

/* Every code the library emits is documented in FINDINGS.md. */
START_TEST(test_codes_documented)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	char path[4096];
	size_t len;
	char *doc;

	static const char *const parse_codes[] = {
		"unknown-header-key", "header-key-case", "unknown-create-type",
		"unknown-ddb-key", "stale-bytes-after-text",
	};

	snprintf(path, sizeof(path), "%s/descriptor/FINDINGS.md", src ? src : ".");
	doc = read_file(path, &len);
	for (size_t i = 0; i < sizeof(parse_codes) / sizeof(parse_codes[0]); i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "| `%s` |", parse_codes[i]);
		ck_assert_msg(strstr(doc, needle) != NULL, "%s not in FINDINGS.md",
			      parse_codes[i]);
	}
	for (size_t i = 0; i < sizeof(finding_cases) / sizeof(finding_cases[0]); i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "| `%s` |", finding_cases[i].code);
		ck_assert_msg(strstr(doc, needle) != NULL, "%s not in FINDINGS.md",
			      finding_cases[i].code);
	}
	free(doc);
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

	for (int round = 0; round < 3000; round++) {
		char text[sizeof(sample) + 16];
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
	tc = tcase_create("edit");
	tcase_add_loop_test(tc, test_edit, 0,
			    (int)(sizeof(edit_cases) / sizeof(edit_cases[0])));
	tcase_add_test(tc, test_edit_accessors);
	tcase_add_test(tc, test_edit_refused);
	tcase_add_test(tc, test_new_template);
	tcase_add_test(tc, test_clone);
	suite_add_tcase(s, tc);
	tc = tcase_create("findings");
	tcase_add_loop_test(tc, test_findings, 0,
			    (int)(sizeof(finding_cases) / sizeof(finding_cases[0])));
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_codes_documented);
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
