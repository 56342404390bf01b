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

static Suite *descriptor_suite(void)
{
	Suite *s = suite_create("descriptor");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_parse_sample);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("corpus");
	tcase_add_test(tc, test_corpus_roundtrip);
	tcase_add_test(tc, test_corpus_bad_rejected);
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
