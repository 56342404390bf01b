/*
 * check_fs.c - unit tests for the OS layer, vmdk/fs/fs.c: path helpers,
 * exclusive writes, hole-keeping copies, renames without replace and
 * staging folders.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/fs/fs.h"
#include "vmdk/vmdk.h"
#include "descriptor/private.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_fs.XXXXXX",
		 base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	desc_error err;

	ck_assert_int_eq(fs_remove_tree(tmpdir, &err), DESC_OK);
}

static char *tmp_path(const char *name)
{
	char *p = fs_join(tmpdir, name);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* ---- path helpers -------------------------------------------------- */

static const struct {
	const char *from, *to, *want;
} relative_cases[] = {
	{ "/a/b", "/a/c/d.vmdk", "../c/d.vmdk" },
	{ "/a/b", "/a/b/d.vmdk", "d.vmdk" },
	{ "/a/b", "/a/bc/d.vmdk", "../bc/d.vmdk" },
	{ "/a/b/c", "/x/y.vmdk", "../../../x/y.vmdk" },
	{ "/", "/x/y.vmdk", "x/y.vmdk" },
	{ "/a/b", "/a/b", "." },
	{ "/a/./b/../b/", "/a/b/../c//d.vmdk", "../c/d.vmdk" },
	{ "/a/b", "/a", ".." },
	{ "/base dir/8.10 Core", "/base dir/leaf 1/x.vmdk", "../leaf 1/x.vmdk" },
};

START_TEST(test_relative)
{
	const char *from = relative_cases[_i].from;
	const char *to = relative_cases[_i].to;
	char *got = fs_relative(from, to);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, relative_cases[_i].want) == 0,
		      "fs_relative(%s, %s) = %s, want %s", from, to, got,
		      relative_cases[_i].want);
	vk_free(got);
}
END_TEST

START_TEST(test_relative_cwd)
{
	char *got;

	/* Both relative: resolved against the same cwd. */
	got = fs_relative("a/b", "a/c/d.vmdk");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "../c/d.vmdk");
	vk_free(got);
}
END_TEST

static const struct {
	const char *in, *want;
} absolute_cases[] = {
	{ "/", "/" },
	{ "/a/b/", "/a/b" },
	{ "//a//b", "/a/b" },
	{ "/a/./b/.", "/a/b" },
	{ "/a/../b", "/b" },
	{ "/../../a", "/a" },
	{ "/a/b/../../..", "/" },
	{ "/a/..b/c", "/a/..b/c" },
	{ "/a/.b/", "/a/.b" },
};

START_TEST(test_absolute)
{
	char *got = fs_absolute(absolute_cases[_i].in);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, absolute_cases[_i].want) == 0,
		      "fs_absolute(%s) = %s, want %s", absolute_cases[_i].in,
		      got, absolute_cases[_i].want);
	vk_free(got);
}
END_TEST

START_TEST(test_absolute_relative)
{
	char cwd[4096], want[4200];
	char *got;

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(want, sizeof(want), "%s/x/y", strcmp(cwd, "/") ? cwd : "");
	got = fs_absolute("./x/z/../y/");
	ck_assert_str_eq(got, want);
	vk_free(got);
}
END_TEST

static const struct {
	const char *in, *dir, *base;
} name_cases[] = {
	{ "a/b", "a", "b" },
	{ "b", ".", "b" },
	{ "/a", "/", "a" },
	{ "/a/b/", "/a", "b" },
	{ "a//b", "a", "b" },
	{ "/", "/", "/" },
	{ "8.10 Core/disk 1.vmdk", "8.10 Core", "disk 1.vmdk" },
};

START_TEST(test_dirname_basename)
{
	char *d = fs_dirname(name_cases[_i].in);
	char *b = fs_basename(name_cases[_i].in);

	ck_assert_str_eq(d, name_cases[_i].dir);
	ck_assert_str_eq(b, name_cases[_i].base);
	vk_free(d);
	vk_free(b);
}
END_TEST

START_TEST(test_join)
{
	char *p;

	p = fs_join("a", "b.vmdk");
	ck_assert_str_eq(p, "a/b.vmdk");
	vk_free(p);
	p = fs_join("a/", "b.vmdk");
	ck_assert_str_eq(p, "a/b.vmdk");
	vk_free(p);
	p = fs_join("a", "/abs/b.vmdk");
	ck_assert_str_eq(p, "/abs/b.vmdk");
	vk_free(p);
}
END_TEST

/* ---- files ---------------------------------------------------------- */

START_TEST(test_write_new_and_read)
{
	char *p, *buf = NULL;
	desc_error err;
	size_t len = 0;

	make_tmpdir();
	p = tmp_path("f.txt");
	ck_assert_int_eq(fs_write_new(p, "hello", 5, 0644, true, &err),
			 DESC_OK);
	ck_assert_int_eq(fs_write_new(p, "again", 5, 0644, false, &err),
			 DESC_E_EXISTS);
	ck_assert_int_eq(err.errnum, EEXIST);
	ck_assert_int_eq(fs_read_file(p, 100, &buf, &len, &err), DESC_OK);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(buf, "hello");
	vk_free(buf);
	/* Exactly at the cap is fine, one byte more is not. */
	ck_assert_int_eq(fs_read_file(p, 5, &buf, &len, &err), DESC_OK);
	vk_free(buf);
	ck_assert_int_eq(fs_read_file(p, 4, &buf, &len, &err),
			 DESC_E_TOO_LARGE);
	ck_assert_ptr_null(buf);
	ck_assert_int_eq(fs_replace(p, "replaced", 8, &err), DESC_OK);
	ck_assert_int_eq(fs_read_file(p, 100, &buf, &len, &err), DESC_OK);
	ck_assert_str_eq(buf, "replaced");
	vk_free(buf);
	vk_free(p);
	p = tmp_path("missing");
	ck_assert_int_eq(fs_read_file(p, 100, &buf, &len, &err),
			 DESC_E_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "missing"));
	vk_free(p);
	remove_tmpdir();
}
END_TEST

START_TEST(test_write_new_refuses_symlink)
{
	char *target, *link_path;
	desc_error err;

	make_tmpdir();
	target = tmp_path("target");
	link_path = tmp_path("link");
	ck_assert_int_eq(symlink(target, link_path), 0);
	ck_assert_int_ne(fs_write_new(link_path, "x", 1, 0644, false, &err),
			 DESC_OK);
	ck_assert(!fs_exists(target));
	vk_free(target);
	vk_free(link_path);
	remove_tmpdir();
}
END_TEST

START_TEST(test_copy_keeps_holes)
{
	char *src, *dst, *a = NULL, *b = NULL;
	static const char data[] = "some data in the middle";
	const off_t size = 64 * 1024 * 1024;
	struct stat ss, ds;
	desc_error err;
	size_t la, lb;
	int fd;

	make_tmpdir();
	src = tmp_path("src.vmdk");
	dst = tmp_path("dst copy.vmdk");
	fd = open(src, O_WRONLY | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, size), 0);
	ck_assert_int_eq(pwrite(fd, data, sizeof(data), 32 * 1024 * 1024),
			 (ssize_t)sizeof(data));
	ck_assert_int_eq(pwrite(fd, data, sizeof(data), 0),
			 (ssize_t)sizeof(data));
	close(fd);
	ck_assert_int_eq(fs_copy_file(src, dst, 0444, &err), DESC_OK);
	ck_assert_int_eq(stat(src, &ss), 0);
	ck_assert_int_eq(stat(dst, &ds), 0);
	ck_assert_int_eq(ds.st_size, size);
	ck_assert_int_eq(ds.st_mode & 0777, 0444);
	/* Holes kept: nowhere near the 64 MiB a dense copy would take. */
	ck_assert_int_le(ds.st_blocks, ss.st_blocks + 2048);
	ck_assert_int_lt(ds.st_blocks, 8 * 2048);
	ck_assert_int_eq(fs_read_file(src, (size_t)size, &a, &la, &err),
			 DESC_OK);
	ck_assert_int_eq(fs_read_file(dst, (size_t)size, &b, &lb, &err),
			 DESC_OK);
	ck_assert_uint_eq(la, lb);
	ck_assert(memcmp(a, b, la) == 0);
	vk_free(a);
	vk_free(b);
	/* Never over an existing file. */
	ck_assert_int_eq(fs_copy_file(src, dst, 0644, &err), DESC_E_EXISTS);
	vk_free(src);
	vk_free(dst);
	remove_tmpdir();
}
END_TEST

START_TEST(test_rename_noreplace)
{
	char *a, *b, *c, *buf = NULL;
	desc_error err;
	size_t len;

	make_tmpdir();
	a = tmp_path("a");
	b = tmp_path("b");
	c = tmp_path("c");
	ck_assert_int_eq(fs_write_new(a, "A", 1, 0644, false, &err), DESC_OK);
	ck_assert_int_eq(fs_write_new(b, "B", 1, 0644, false, &err), DESC_OK);
	ck_assert_int_eq(fs_rename_noreplace(a, b, &err), DESC_E_EXISTS);
	ck_assert_int_eq(fs_read_file(b, 10, &buf, &len, &err), DESC_OK);
	ck_assert_str_eq(buf, "B");
	vk_free(buf);
	ck_assert_int_eq(fs_rename_noreplace(a, c, &err), DESC_OK);
	ck_assert(!fs_exists(a));
	ck_assert(fs_exists(c));
	vk_free(a);
	vk_free(b);
	vk_free(c);
	remove_tmpdir();
}
END_TEST

START_TEST(test_staging)
{
	char *target, *staging = NULL, *inner, *prefix;
	struct stat st;
	desc_error err;

	make_tmpdir();
	target = tmp_path("leaf 1");
	ck_assert_int_eq(fs_make_staging(target, &staging, &err), DESC_OK);
	prefix = tmp_path(VMDK_STAGING_PREFIX "leaf 1-");
	ck_assert(strncmp(staging, prefix, strlen(prefix)) == 0);
	ck_assert_int_eq(stat(staging, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	inner = fs_join(staging, "sub");
	ck_assert_int_eq(mkdir(inner, 0755), 0);
	vk_free(inner);
	inner = fs_join(staging, "sub/f");
	ck_assert_int_eq(fs_write_new(inner, "x", 1, 0444, false, &err),
			 DESC_OK);
	vk_free(inner);
	ck_assert_int_eq(fs_rename_noreplace(staging, target, &err), DESC_OK);
	ck_assert_int_eq(fs_sync_dir(tmpdir, &err), DESC_OK);
	ck_assert_int_eq(fs_remove_tree(target, &err), DESC_OK);
	ck_assert(!fs_exists(target));
	vk_free(target);
	vk_free(prefix);
	vk_free(staging);
	remove_tmpdir();
}
END_TEST

START_TEST(test_random)
{
	unsigned char a[32], b[32];
	desc_error err;

	ck_assert_int_eq(fs_random(a, sizeof(a), &err), DESC_OK);
	ck_assert_int_eq(fs_random(b, sizeof(b), &err), DESC_OK);
	ck_assert(memcmp(a, b, sizeof(a)) != 0);
}
END_TEST


/* fs.h spells the reserved prefix again so the OS layer needs nothing
 * above it: the two must never drift apart. */
START_TEST(test_staging_prefix_same)
{
	ck_assert_str_eq(FS_STAGING_PREFIX, VMDK_STAGING_PREFIX);
}
END_TEST
static Suite *fsutil_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("paths");

	tcase_add_loop_test(tc, test_relative, 0,
			    sizeof(relative_cases) / sizeof(relative_cases[0]));
	tcase_add_test(tc, test_relative_cwd);
	tcase_add_loop_test(tc, test_absolute, 0,
			    sizeof(absolute_cases) / sizeof(absolute_cases[0]));
	tcase_add_test(tc, test_absolute_relative);
	tcase_add_loop_test(tc, test_dirname_basename, 0,
			    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, test_join);
	tcase_add_test(tc, test_staging_prefix_same);
	suite_add_tcase(s, tc);
	tc = tcase_create("files");
	tcase_add_test(tc, test_write_new_and_read);
	tcase_add_test(tc, test_write_new_refuses_symlink);
	tcase_add_test(tc, test_copy_keeps_holes);
	tcase_add_test(tc, test_rename_noreplace);
	tcase_add_test(tc, test_staging);
	tcase_add_test(tc, test_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fsutil_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
