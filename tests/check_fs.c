/*
 * check_fs.c - unit tests for the OS layer, vmdk/fs/fs.c: path helpers,
 * exclusive writes, hole-keeping copies, renames without replace,
 * staging folders, and telling the leftovers of killed runs from those of
 * live ones.
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
#include "vmdk/fs/os.h"
#include "vmdk/vmdk.h"
#include "descriptor/private.h"
#include "tests/tmpdir.h"

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


/* ---- staging folders and temporary files of other runs ------------- */

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
	char dir[] = "/tmp/check_fs.XXXXXX", *target, *staging = NULL;
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
	char dir[] = "/tmp/check_fs.XXXXXX", *target, *staging = NULL;
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
	char dir[] = "/tmp/check_fs.XXXXXX", live[128], *p;
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
	char dir[] = "/tmp/check_fs.XXXXXX", *path, *text = NULL;
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

/* fs.h spells the reserved prefix again so the OS layer needs nothing
 * above it: the two must never drift apart. */
START_TEST(test_staging_prefix_same)
{
	ck_assert_str_eq(FS_STAGING_PREFIX, VMDK_STAGING_PREFIX);
}
END_TEST

/* A stub of os.h: fails with ENOSYS, does nothing. */
#define ck_assert_stub(call)                                                \
	do {                                                                \
		errno = 0;                                                  \
		ck_assert_int_eq((call), -1);                               \
		ck_assert_int_eq(errno, ENOSYS);                            \
	} while (0)

/* Which fast paths of os.h this build has follows config.h: with
 * configure --disable-linux-apis none (so the rest of the suite runs the
 * POSIX fallbacks), else those configure found, which must really work. */
START_TEST(test_fast_paths)
{
	unsigned char rnd[16] = { 0 }, zero[16] = { 0 };
	char start[OS_PROCESS_START_MAX] = "";
	desc_error err;
	off_t data, hole;
	struct stat st;
	int in, out, dfd;

	make_tmpdir();
	ck_assert_int_eq(fs_write_new(T("a"), "data", 4, 0644, false, &err),
			 DESC_OK);
	in = open(T("a"), O_RDONLY | O_CLOEXEC);
	out = open(T("b"), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert(in >= 0 && out >= 0 && dfd >= 0);
#ifdef DISABLE_LINUX_APIS
	ck_assert_stub(os_clone_file(out, in));
	ck_assert_stub(os_copy_range(in, 0, out, 0, 4));
	ck_assert_stub(os_next_data(in, 0, &data, &hole));
	ck_assert_stub(os_rename_noreplace(T("a"), T("c")));
	ck_assert_stub(os_sync_fs(dfd));
	ck_assert_stub(os_random(rnd, sizeof(rnd)));
	ck_assert(memcmp(rnd, zero, sizeof(rnd)) == 0);
	ck_assert_stub(os_process_start((unsigned long long)getpid(), start,
					sizeof(start)));
	ck_assert_str_eq(start, "");
	ck_assert_int_eq(fstat(out, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert(fs_exists(T("a")) && !fs_exists(T("c")));
#else
#ifdef HAVE_FICLONE
	/* Only some filesystems can share blocks. */
	if (os_clone_file(out, in) < 0)
		ck_assert_int_ne(errno, ENOSYS);
	ck_assert_int_eq(ftruncate(out, 0), 0);
#else
	ck_assert_stub(os_clone_file(out, in));
#endif
#ifdef HAVE_COPY_FILE_RANGE
	ck_assert_int_eq(os_copy_range(in, 0, out, 0, 4), 4);
	ck_assert_int_eq(fstat(out, &st), 0);
	ck_assert_int_eq(st.st_size, 4);
#else
	ck_assert_stub(os_copy_range(in, 0, out, 0, 4));
#endif
#ifdef HAVE_SEEK_DATA
	ck_assert_int_eq(os_next_data(in, 0, &data, &hole), 0);
	ck_assert_int_eq(data, 0);
#else
	ck_assert_stub(os_next_data(in, 0, &data, &hole));
#endif
#ifdef HAVE_RENAMEAT2
	ck_assert_int_eq(os_rename_noreplace(T("a"), T("b")), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(os_rename_noreplace(T("a"), T("c")), 0);
	ck_assert(!fs_exists(T("a")) && fs_exists(T("c")));
#else
	ck_assert_stub(os_rename_noreplace(T("a"), T("c")));
#endif
#ifdef HAVE_SYNCFS
	ck_assert_int_eq(os_sync_fs(dfd), 0);
#else
	ck_assert_stub(os_sync_fs(dfd));
#endif
#ifdef HAVE_GETRANDOM
	ck_assert_int_eq(os_random(rnd, sizeof(rnd)), 0);
	ck_assert(memcmp(rnd, zero, sizeof(rnd)) != 0);
#else
	ck_assert_stub(os_random(rnd, sizeof(rnd)));
#endif
#ifdef HAVE_PROC_STAT
	{
		/* BOOTID:STARTTIME, the same every time for one process;
		 * none for a pid no process has (pid_max is at most 2^22). */
		unsigned long long self = (unsigned long long)getpid();
		char again[OS_PROCESS_START_MAX];

		ck_assert_int_eq(os_process_start(self, start, sizeof(start)), 0);
		ck_assert_ptr_nonnull(strchr(start, ':'));
		ck_assert_int_eq(os_process_start(self, again, sizeof(again)), 0);
		ck_assert_str_eq(start, again);
		ck_assert_int_eq(os_process_start(1ull << 40, again,
						  sizeof(again)), -1);
		ck_assert_int_eq(errno, ENOENT);
		ck_assert_int_eq(os_process_start(self, again, 8), -1);
		ck_assert_int_eq(errno, ERANGE);
	}
#else
	ck_assert_stub(os_process_start((unsigned long long)getpid(), start,
					sizeof(start)));
#endif
#endif
	close(in);
	close(out);
	close(dfd);
	remove_tmpdir();
}
END_TEST

/* fs_sync_fs over a tree (the fallback walks it where there is no
 * syncfs): a symlink and a FIFO in it are neither followed nor opened. */
START_TEST(test_sync_fs)
{
	desc_error err;

	make_tmpdir();
	ck_assert_int_eq(mkdir(T("sub"), 0755), 0);
	ck_assert_int_eq(fs_write_new(T("sub/f"), "x", 1, 0444, false, &err),
			 DESC_OK);
	ck_assert_int_eq(symlink("/nonexistent", T("sub/link")), 0);
	ck_assert_int_eq(mkfifo(T("sub/fifo"), 0644), 0);
	ck_assert_int_eq(fs_sync_fs(tmpdir, &err), DESC_OK);
	ck_assert_int_eq(fs_sync_fs(T("missing"), &err), DESC_E_NOT_FOUND);
	remove_tmpdir();
}
END_TEST


static Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
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
	tcase_add_test(tc, test_fast_paths);
	tcase_add_test(tc, test_sync_fs);
	suite_add_tcase(s, tc);
	tc = tcase_create("leftovers");
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
	SRunner *sr = srunner_create(fs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
