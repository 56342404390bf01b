/*
 * check_text.c - round-trip regressions of the text layer (descriptor/):
 * an edit, then write, then parse again must give back what was set.
 * Each case was found by a fuzz harness (tests/fuzz/) and failed before
 * its fix.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"

/* fuzz_descriptor: a last line without a newline that ends in a stray CR,
 * followed by an appended line, came back one CR shorter after a
 * write/parse round trip. */
START_TEST(descriptor_cr_before_append)
{
	static const char text[] =
		"# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
		"parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
		"RW 8 SPARSE \"a.vmdk\"\n#DDB\nddb.x = \"1\"\nddb.odd =\r\r\r";
	desc_descriptor *d = NULL, *again = NULL;
	desc_error err;
	char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(desc_parse(text, sizeof(text) - 1, "t", &d, NULL, &err),
			 DESC_OK);
	ck_assert_int_eq(desc_ddb_set(d, "ddb.uuid", "60 00", &err), DESC_OK);
	ck_assert_int_eq(desc_write(d, &out, &len, &err), DESC_OK);
	ck_assert_int_eq(desc_parse(out, len, "t2", &again, NULL, &err),
			 DESC_OK);
	ck_assert_str_eq(desc_ddb_get(again, "ddb.odd"),
			 desc_ddb_get(d, "ddb.odd"));
	ck_assert_str_eq(desc_ddb_get(again, "ddb.uuid"), "60 00");
	free(out);
	desc_free(d);
	desc_free(again);
}
END_TEST

/* fuzz_descriptor: with a "#DDB" marker but header lines after it, a
 * new ddb line went before them, and they were read back as ddb lines. */
START_TEST(descriptor_ddb_after_header)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	char path[4096], text[4096];
	desc_descriptor *d = NULL, *again = NULL;
	desc_error err;
	char *out = NULL;
	size_t len = 0, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/fuzz_descriptor/regress-ddb-after-header.vmdk",
		 src ? src : ".");
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	ck_assert_int_eq(desc_parse(text, n, "t", &d, NULL, &err), DESC_OK);
	ck_assert_int_eq(desc_ddb_set(d, "ddb.uuid", "60 00", &err), DESC_OK);
	ck_assert_int_eq(desc_write(d, &out, &len, &err), DESC_OK);
	ck_assert_int_eq(desc_parse(out, len, "t2", &again, NULL, &err),
			 DESC_OK);
	ck_assert_uint_eq(desc_ddb_count(again), desc_ddb_count(d));
	ck_assert_uint_eq(desc_extent_count(again), desc_extent_count(d));
	ck_assert_str_eq(desc_ddb_get(again, "ddb.uuid"), "60 00");
	free(out);
	desc_free(d);
	desc_free(again);
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

static Suite *suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("round trip");

	tcase_add_test(tc, descriptor_cr_before_append);
	tcase_add_test(tc, descriptor_ddb_after_header);
	tcase_add_test(tc, dict_bom_key);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
