/*
 * check_hardening.c - regression tests for what the hardening work found
 * (fuzzing, failpoints, concurrency): each test failed before its fix.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "descriptor/descriptor.h"
#include "vmdk/fs/fs.h"

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

/* Concurrent clones: a staging folder of a live process is in use (the
 * cleanup of another clone used to delete it); one of a dead process, or
 * without a pid, is a leftover. */
START_TEST(staging_in_use)
{
	char name[128];

	snprintf(name, sizeof(name), ".vmdkit-tmp-leaf-%ld-AbC123",
		 (long)getpid());
	ck_assert(fs_staging_in_use(name));
	snprintf(name, sizeof(name), ".vmdkit-tmp-my-leaf-2-%ld-AbC123",
		 (long)getpid());
	ck_assert(fs_staging_in_use(name));
	/* pid_max is at most 2^22: this pid cannot be running. */
	ck_assert(!fs_staging_in_use(".vmdkit-tmp-leaf-99999999-AbC123"));
	ck_assert(!fs_staging_in_use(".vmdkit-tmp-leaf-AbC123"));
	ck_assert(!fs_staging_in_use(".vmdkit-tmp-leaf-0-AbC123"));
	ck_assert(!fs_staging_in_use(".vmdkit-tmp--AbC123"));
	ck_assert(!fs_staging_in_use("x"));
}
END_TEST

/* fs_make_staging puts our pid in the name, so the folder is in use. */
START_TEST(staging_name_has_pid)
{
	char dir[] = "/tmp/check_hardening.XXXXXX", *target, *staging = NULL;
	desc_error err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	target = fs_join(dir, "leaf");
	ck_assert_int_eq(fs_make_staging(target, &staging, &err), DESC_OK);
	ck_assert(fs_staging_in_use(strrchr(staging, '/') + 1));
	ck_assert_int_eq(fs_remove_tree(staging, &err), DESC_OK);
	ck_assert_int_eq(rmdir(dir), 0);
	free(staging);
	free(target);
}
END_TEST

/* Issue #8: a base's staging folder holds the record that undoes what
 * the base did to the master; no other command's cleanup may remove it,
 * and only a base into the same folder, once its owner is dead, takes it. */
START_TEST(staging_undo_names)
{
	char dir[] = "/tmp/check_hardening.XXXXXX", *target, *staging = NULL;
	const char *name;
	desc_error err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	target = fs_join(dir, "base");
	ck_assert_int_eq(fs_make_staging_undo(target, &staging, &err), DESC_OK);
	name = strrchr(staging, '/') + 1;
	ck_assert(fs_staging_in_use(name));
	ck_assert(!fs_staging_undo_dead(name, "base")); /* we live */
	ck_assert_int_eq(fs_remove_tree(staging, &err), DESC_OK);
	ck_assert_int_eq(rmdir(dir), 0);
	free(staging);
	free(target);

	name = ".vmdkit-tmp-base-99999999-undo-AbC123";
	ck_assert(fs_staging_in_use(name));
	ck_assert(fs_staging_undo_dead(name, "base"));
	ck_assert(!fs_staging_undo_dead(name, "bas"));
	ck_assert(!fs_staging_undo_dead(name, "base-99999999"));
	ck_assert(!fs_staging_undo_dead(".vmdkit-tmp-base-2-99999999-undo-AbC123",
					"base"));
	ck_assert(!fs_staging_undo_dead(".vmdkit-tmp-base-99999999-AbC123",
					"base"));
	ck_assert(!fs_staging_in_use(".vmdkit-tmp-base-99999999-AbC123"));
}
END_TEST

static void touch(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);
	FILE *f;

	ck_assert_ptr_nonnull(p);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs("x", f);
	fclose(f);
	free(p);
}

static bool present(const char *dir, const char *name)
{
	char *p = fs_join(dir, name);
	struct stat sb;
	bool yes = lstat(p, &sb) == 0;

	free(p);
	return yes;
}

/* Issue #8: temporary files of killed runs (relocate's, fs_replace's)
 * stayed forever.  Only regular files named exactly so, whose pid is not
 * running, are removed. */
START_TEST(temp_cleanup_dead_only)
{
	char dir[] = "/tmp/check_hardening.XXXXXX", live[128], *p;
	desc_error err;
	size_t removed = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(live, sizeof(live), ".a.vmdk.vmdkit-new-%ld-AbC123",
		 (long)getpid());
	touch(dir, ".vmdkit-tmp-a.vmdk-99999999-abc123");
	touch(dir, ".a.vmdk.vmdkit-new-99999999-AbC123");
	touch(dir, live);
	touch(dir, ".a.vmdk.vmdkit-new-AbC123");   /* no pid: cannot tell */
	touch(dir, "a.vmdk.vmdkit-new-99999999-AbC123");
	touch(dir, ".vmdkit-tmp--99999999-abc123");
	touch(dir, ".a.vmdk.vmdkit-new-99999999-AbC12");
	p = fs_join(dir, ".vmdkit-tmp-b.vmdk-99999999-abc124");
	ck_assert_int_eq(symlink("/etc/passwd", p), 0);
	free(p);
	p = fs_join(dir, ".vmdkit-tmp-c-99999999-abc125");
	ck_assert_int_eq(mkdir(p, 0700), 0);
	free(p);

	ck_assert_int_eq(fs_temp_cleanup(dir, &removed, &err), DESC_OK);
	ck_assert_uint_eq(removed, 2);
	ck_assert(!present(dir, ".vmdkit-tmp-a.vmdk-99999999-abc123"));
	ck_assert(!present(dir, ".a.vmdk.vmdkit-new-99999999-AbC123"));
	ck_assert(present(dir, live));
	ck_assert(present(dir, ".a.vmdk.vmdkit-new-AbC123"));
	ck_assert(present(dir, "a.vmdk.vmdkit-new-99999999-AbC123"));
	ck_assert(present(dir, ".vmdkit-tmp--99999999-abc123"));
	ck_assert(present(dir, ".a.vmdk.vmdkit-new-99999999-AbC12"));
	ck_assert(present(dir, ".vmdkit-tmp-b.vmdk-99999999-abc124"));
	ck_assert(present(dir, ".vmdkit-tmp-c-99999999-abc125"));
	ck_assert(present("/etc", "passwd"));
	ck_assert_int_eq(fs_remove_tree(dir, &err), DESC_OK);
}
END_TEST

/* fs_replace removes the temporary files killed runs left beside the
 * file, and its own carries its pid. */
START_TEST(replace_cleans_dead_temp)
{
	char dir[] = "/tmp/check_hardening.XXXXXX", *path, *text = NULL;
	desc_error err;
	size_t len = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	touch(dir, "a.vmdk");
	touch(dir, ".a.vmdk.vmdkit-new-99999999-AbC123");
	path = fs_join(dir, "a.vmdk");
	ck_assert_int_eq(fs_replace(path, "new", 3, &err), DESC_OK);
	ck_assert_int_eq(fs_read_file(path, 100, &text, &len, &err), DESC_OK);
	ck_assert_str_eq(text, "new");
	ck_assert(!present(dir, ".a.vmdk.vmdkit-new-99999999-AbC123"));
	ck_assert_int_eq(fs_remove_tree(dir, &err), DESC_OK);
	free(text);
	free(path);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("hardening");
	TCase *tc = tcase_create("regressions");

	tcase_add_test(tc, descriptor_cr_before_append);
	tcase_add_test(tc, descriptor_ddb_after_header);
	tcase_add_test(tc, dict_bom_key);
	tcase_add_test(tc, staging_in_use);
	tcase_add_test(tc, staging_name_has_pid);
	tcase_add_test(tc, staging_undo_names);
	tcase_add_test(tc, temp_cleanup_dead_only);
	tcase_add_test(tc, replace_cleans_dead_temp);
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
