/*
 * check_disk.c - unit tests for vmdk/fs/fs.c and the disk layer.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
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

static char tmpdir[256];

static void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check_disk.XXXXXX",
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

/* A path in tmpdir from a small rotating pool (no free needed). */
static const char *T(const char *name)
{
	static char pool[4][512];
	static unsigned next;
	char *p = pool[next++ % 4];

	snprintf(p, sizeof(pool[0]), "%s/%s", tmpdir, name);
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

/* ---- disks ----------------------------------------------------------- */

static char *slurp(const char *path)
{
	desc_error err;
	char *text = NULL;
	size_t len;

	ck_assert_msg(fs_read_file(path, 1 << 20, &text, &len, &err) == DESC_OK,
		      "%s: %s", path, err.message);
	return text;
}

static void spit(const char *path, const char *text)
{
	desc_error err;

	unlink(path);
	ck_assert_int_eq(fs_write_new(path, text, strlen(text), 0644, false,
				      &err), DESC_OK);
}

/* Replaces the first occurrence of `from` in the text file at path. */
static void edit(const char *path, const char *from, const char *to)
{
	char *text = slurp(path), *hit = strstr(text, from), *out;

	ck_assert_msg(hit != NULL, "'%s' not in %s", from, path);
	*hit = '\0';
	out = vk_asprintf("%s%s%s", text, to, hit + strlen(from));
	spit(path, out);
	vk_free(out);
	vk_free(text);
}

static void create(const char *name, vmdk_create_type type, uint64_t bytes)
{
	vmdk_create_options opt = { type, bytes, NULL, NULL };
	char *p = tmp_path(name);
	desc_error err;

	ck_assert_msg(vmdk_disk_create(p, &opt, &err) == DESC_OK, "%s: %s",
		      name, err.message);
	vk_free(p);
}

static void delta(const char *name, const char *parent, const char *hint)
{
	char *d = tmp_path(name), *p = tmp_path(parent);
	desc_error err;

	ck_assert_msg(vmdk_delta_create(d, p, hint, &err) == DESC_OK, "%s: %s",
		      name, err.message);
	vk_free(d);
	vk_free(p);
}

static vmdk_disk *open_ok(const char *name, unsigned flags)
{
	char *p = tmp_path(name);
	vmdk_disk *disk = NULL;
	desc_error err;

	ck_assert_msg(vmdk_disk_open(p, flags, &disk, &err) == DESC_OK,
		      "%s: %s", name, err.message);
	vk_free(p);
	return disk;
}

static desc_status open_fails(const char *name, unsigned flags,
			      desc_error *err)
{
	char *p = tmp_path(name);
	vmdk_disk *disk = NULL;
	desc_status rc = vmdk_disk_open(p, flags, &disk, err);

	ck_assert_ptr_null(disk);
	ck_assert_int_ne(rc, DESC_OK);
	vk_free(p);
	return rc;
}

static void assert_message(const desc_error *err, const char *part)
{
	ck_assert_msg(strstr(err->message, part) != NULL,
		      "message '%s' lacks '%s'", err->message, part);
}

static size_t count_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const struct {
	vmdk_create_type type;
	uint64_t bytes;
	const char *name;
	size_t extents;
	bool embedded;
} create_cases[] = {
	{ VMDK_CREATE_MONOLITHIC_SPARSE, 1000000, "mono sparse.vmdk", 1, true },
	{ VMDK_CREATE_TWOGB_SPARSE, UINT64_C(5) << 30, "split sparse.vmdk", 2, false },
	{ VMDK_CREATE_MONOLITHIC_FLAT, 1 << 20, "mono flat.vmdk", 1, false },
	{ VMDK_CREATE_TWOGB_FLAT, UINT64_C(9) << 30, "split flat.vmdk", 3, false },
};

START_TEST(test_create_open_read)
{
	vmdk_disk *disk;
	vmdk_extent_info info;
	desc_error err;
	uint8_t buf[4096];
	uint64_t sectors = (create_cases[_i].bytes + 511) / 512;
	size_t i;

	make_tmpdir();
	create(create_cases[_i].name, create_cases[_i].type,
	       create_cases[_i].bytes);
	ck_assert_uint_eq(count_files(), create_cases[_i].extents +
			  !create_cases[_i].embedded);
	disk = open_ok(create_cases[_i].name, 0);
	ck_assert_uint_eq(vmdk_disk_capacity(disk), sectors);
	ck_assert(vmdk_disk_embedded(disk) == create_cases[_i].embedded);
	ck_assert_ptr_null(vmdk_disk_parent(disk));
	ck_assert_str_eq(desc_create_type(vmdk_disk_descriptor(disk)),
			 vmdk_create_type_name(create_cases[_i].type));
	ck_assert_uint_eq(desc_extent_count(vmdk_disk_descriptor(disk)),
			  create_cases[_i].extents);
	for (i = 0; i < create_cases[_i].extents; i++) {
		ck_assert_int_eq(vmdk_disk_extent_info(disk, i, &info, &err),
				 DESC_OK);
		ck_assert(info.opened);
		ck_assert_uint_eq(info.allocated_grains, 0);
		if (info.sparse) {
			ck_assert_uint_eq(info.header.version, 1);
			ck_assert_uint_eq(info.header.flags, 3);
			ck_assert_uint_eq(info.header.descriptor_offset,
					  create_cases[_i].embedded ? 1 : 0);
		}
	}
	ck_assert_int_eq(vmdk_disk_extent_info(disk, i, &info, &err),
			 DESC_E_ARG);
	/* The last 8 sectors, crossing nothing; then past the end. */
	memset(buf, 0x77, sizeof(buf));
	ck_assert_int_eq(vmdk_disk_read(disk, sectors - 8, 8, buf, &err),
			 DESC_OK);
	for (i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(vmdk_disk_read(disk, sectors - 7, 8, buf, &err),
			 DESC_E_ARG);
	ck_assert_int_eq(vmdk_disk_read(disk, UINT64_MAX, 2, buf, &err),
			 DESC_E_ARG);
	vmdk_disk_free(disk);
	/* Descriptor-only: nothing opened, reads refused. */
	disk = open_ok(create_cases[_i].name, VMDK_OPEN_DESCRIPTOR_ONLY);
	ck_assert_int_eq(vmdk_disk_extent_info(disk, 0, &info, &err), DESC_OK);
	ck_assert(!info.opened);
	ck_assert_int_eq(vmdk_disk_read(disk, 0, 1, buf, &err), DESC_E_ARG);
	vmdk_disk_free(disk);
	remove_tmpdir();
}
END_TEST

START_TEST(test_create_refusals)
{
	vmdk_create_options opt = { VMDK_CREATE_MONOLITHIC_SPARSE, 1 << 20,
				    NULL, NULL };
	desc_error err;
	char *p;

	make_tmpdir();
	p = tmp_path("d.vmdk");
	opt.size_bytes = 0;
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	opt.size_bytes = 1 << 20;
	opt.adapter_type = "scsi";
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	assert_message(&err, "unknown adapter type 'scsi' (expected ide, buslogic, lsilogic");
	opt.adapter_type = NULL;
	opt.hw_version = "7\"";
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	opt.hw_version = NULL;
	opt.size_bytes = UINT64_C(2) << 40;
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_TOO_LARGE);
	ck_assert_uint_eq(count_files(), 0);
	vk_free(p);
	p = tmp_path("a\"b.vmdk");
	opt.size_bytes = 1 << 20;
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	ck_assert_uint_eq(count_files(), 0);
	vk_free(p);
	remove_tmpdir();
}
END_TEST

START_TEST(test_create_type_names)
{
	vmdk_create_type t;
	int i;

	for (i = VMDK_CREATE_MONOLITHIC_SPARSE; i <= VMDK_CREATE_TWOGB_FLAT; i++) {
		ck_assert(vmdk_create_type_from_name(
			vmdk_create_type_name((vmdk_create_type)i), &t));
		ck_assert_int_eq(t, i);
	}
	ck_assert(!vmdk_create_type_from_name("streamOptimized", &t));
	ck_assert(!vmdk_create_type_from_name("", &t));
	ck_assert_ptr_null(vmdk_create_type_name((vmdk_create_type)42));
}
END_TEST

START_TEST(test_random_cid)
{
	uint32_t first = vmdk_random_cid(), c;
	bool differs = false;
	int i;

	for (i = 0; i < 1000; i++) {
		c = vmdk_random_cid();
		ck_assert_uint_ne(c, 0xffffffffu);
		ck_assert_uint_ne(c, 0xfffffffeu);
		differs |= c != first;
	}
	ck_assert(differs);
}
END_TEST

/* Writes a byte pattern straight into a flat extent. */
static void fill_flat(const char *name, uint64_t offset, size_t len, int byte)
{
	char *p = tmp_path(name);
	char buf[4096];
	int fd = open(p, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	memset(buf, byte, sizeof(buf));
	while (len > 0) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		ck_assert_int_eq(pwrite(fd, buf, n, (off_t)offset), (ssize_t)n);
		offset += n;
		len -= n;
	}
	close(fd);
	vk_free(p);
}

START_TEST(test_delta_reads_parent)
{
	uint8_t buf[3 * 512];
	vmdk_disk *disk;
	desc_error err;
	char *text;
	size_t i;

	make_tmpdir();
	ck_assert_int_eq(mkdir(T("leaf"), 0755), 0);
	create("base.vmdk", VMDK_CREATE_MONOLITHIC_FLAT, 4 << 20);
	fill_flat("base-flat.vmdk", 1024, 512, 0xab);
	delta("leaf/delta.vmdk", "base.vmdk", NULL);
	delta("leaf/delta2.vmdk", "leaf/delta.vmdk", NULL);
	/* A flat parent gets a one-file monolithicSparse delta whose hint is
	 * relative to the delta's folder. */
	disk = open_ok("leaf/delta.vmdk", VMDK_OPEN_DESCRIPTOR_ONLY);
	ck_assert(vmdk_disk_embedded(disk));
	ck_assert_str_eq(desc_create_type(vmdk_disk_descriptor(disk)),
			 "monolithicSparse");
	ck_assert_str_eq(desc_parent_hint(vmdk_disk_descriptor(disk)),
			 "../base.vmdk");
	ck_assert_ptr_null(desc_ddb_get(vmdk_disk_descriptor(disk), "ddb.uuid"));
	ck_assert_str_eq(desc_ddb_get(vmdk_disk_descriptor(disk),
				      "ddb.adapterType"), "lsilogic");
	ck_assert_ptr_nonnull(desc_ddb_get(vmdk_disk_descriptor(disk),
					   "ddb.longContentID"));
	vmdk_disk_free(disk);

	disk = open_ok("leaf/delta2.vmdk", VMDK_OPEN_CHAIN);
	ck_assert_ptr_nonnull(vmdk_disk_parent(disk));
	ck_assert_ptr_nonnull(vmdk_disk_parent(vmdk_disk_parent(disk)));
	ck_assert_ptr_null(vmdk_disk_parent(vmdk_disk_parent(vmdk_disk_parent(disk))));
	ck_assert_int_eq(vmdk_disk_read(disk, 1, 3, buf, &err), DESC_OK);
	for (i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], i >= 512 && i < 1024 ? 0xab : 0);
	vmdk_disk_free(disk);

	/* Without the chain a delta refuses to invent zeros. */
	disk = open_ok("leaf/delta.vmdk", 0);
	ck_assert_int_eq(vmdk_disk_read(disk, 0, 1, buf, &err), DESC_E_ARG);
	assert_message(&err, "VMDK_OPEN_CHAIN");
	vmdk_disk_free(disk);

	/* An explicit hint is written as given. */
	delta("leaf/delta3.vmdk", "base.vmdk", "/elsewhere/base.vmdk");
	disk = open_ok("leaf/delta3.vmdk", VMDK_OPEN_DESCRIPTOR_ONLY);
	ck_assert_str_eq(desc_parent_hint(vmdk_disk_descriptor(disk)),
			 "/elsewhere/base.vmdk");
	vmdk_disk_free(disk);
	ck_assert_int_eq(open_fails("leaf/delta3.vmdk", VMDK_OPEN_CHAIN, &err),
			 DESC_E_NOT_FOUND);
	assert_message(&err, "parent '/elsewhere/base.vmdk' not found");

	/* The base descriptor was only read. */
	text = slurp(T("base.vmdk"));
	ck_assert_ptr_nonnull(strstr(text, "createType=\"monolithicFlat\""));
	vk_free(text);
	remove_tmpdir();
}
END_TEST

START_TEST(test_split_delta_layout)
{
	vmdk_disk *disk;
	const desc_descriptor *d;
	uint32_t cid;
	char *text;

	make_tmpdir();
	create("base.vmdk", VMDK_CREATE_TWOGB_FLAT, UINT64_C(9) << 30);
	delta("base-000001.vmdk", "base.vmdk", NULL);
	disk = open_ok("base-000001.vmdk", VMDK_OPEN_CHAIN);
	d = vmdk_disk_descriptor(disk);
	ck_assert_str_eq(desc_create_type(d), "twoGbMaxExtentSparse");
	ck_assert_uint_eq(desc_extent_count(d), 3);
	ck_assert_str_eq(desc_extent_at(d, 0)->path, "base-000001-s001.vmdk");
	ck_assert_str_eq(desc_extent_at(d, 2)->path, "base-000001-s003.vmdk");
	ck_assert_uint_eq(desc_extent_at(d, 0)->sectors, 8323072);
	ck_assert_uint_eq(desc_extent_at(d, 2)->sectors,
			  (UINT64_C(9) << 21) - 2 * 8323072);
	ck_assert_str_eq(desc_parent_hint(d), "base.vmdk");
	ck_assert(desc_cid(vmdk_disk_descriptor(vmdk_disk_parent(disk)), &cid));
	text = vk_asprintf("parentCID=%08x\n", cid);
	{
		char *desc_text = slurp(T("base-000001.vmdk"));

		ck_assert_ptr_nonnull(strstr(desc_text, text));
		vk_free(desc_text);
	}
	vk_free(text);
	vmdk_disk_free(disk);
	remove_tmpdir();
}
END_TEST

START_TEST(test_open_errors)
{
	char big[2048];
	desc_error err;
	size_t i;

	make_tmpdir();
	ck_assert_int_eq(open_fails("missing.vmdk", 0, &err), DESC_E_NOT_FOUND);
	assert_message(&err, "missing.vmdk");

	/* Missing extent file: named. */
	create("flat.vmdk", VMDK_CREATE_MONOLITHIC_FLAT, 1 << 20);
	unlink(T("flat-flat.vmdk"));
	ck_assert_int_eq(open_fails("flat.vmdk", 0, &err), DESC_E_NOT_FOUND);
	assert_message(&err, "flat-flat.vmdk");
	vmdk_disk_free(open_ok("flat.vmdk", VMDK_OPEN_DESCRIPTOR_ONLY));

	/* Sparse header capacity disagrees with the extent line. */
	create("s.vmdk", VMDK_CREATE_TWOGB_SPARSE, 1 << 20);
	edit(T("s.vmdk"), "RW 2048 SPARSE", "RW 2049 SPARSE");
	ck_assert_int_eq(open_fails("s.vmdk", 0, &err), DESC_E_FORMAT);
	assert_message(&err, "sparse extent capacity 2048 sectors does not match its extent line");

	/* A split sparse extent has no descriptor of its own. */
	ck_assert_int_eq(open_fails("s-s001.vmdk", 0, &err), DESC_E_FORMAT);
	assert_message(&err, "no embedded descriptor");

	/* A COWD file is not a disk. */
	spit(T("cowd.vmdk"), "COWD and more");
	ck_assert_int_eq(open_fails("cowd.vmdk", 0, &err), DESC_E_FORMAT);
	assert_message(&err, "VMFSSPARSE (COWD)");

	/* Over the descriptor cap: an extent given by mistake. */
	create("big.vmdk", VMDK_CREATE_MONOLITHIC_FLAT, 2 << 20);
	ck_assert_int_eq(open_fails("big-flat.vmdk", 0, &err), DESC_E_TOO_LARGE);

	/* Extent types that are reported but not read. */
	spit(T("esx.vmdk"),
	     "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
	     "createType=\"vmfsSparse\"\n\n# Extent description\n"
	     "RW 2048 VMFSSPARSE \"esx-delta.vmdk\"\nRW 2048 ZERO\n\n"
	     "# The Disk Data Base\n#DDB\n\n");
	{
		vmdk_disk *disk = open_ok("esx.vmdk", 0);
		vmdk_extent_info info;
		uint8_t buf[512];

		ck_assert_int_eq(vmdk_disk_extent_info(disk, 0, &info, &err),
				 DESC_OK);
		ck_assert(!info.opened);
		ck_assert_int_eq(vmdk_disk_extent_info(disk, 1, &info, &err),
				 DESC_OK);
		ck_assert_ptr_null(info.path);
		ck_assert_int_eq(vmdk_disk_read(disk, 2048, 1, buf, &err),
				 DESC_OK);
		ck_assert_int_eq(vmdk_disk_read(disk, 0, 1, buf, &err),
				 DESC_E_FORMAT);
		assert_message(&err, "reading VMFSSPARSE extents is not supported");
		vmdk_disk_free(disk);
	}

	/* Garbage text: the descriptor parser's error comes through. */
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\0';
	spit(T("junk.vmdk"), big);
	ck_assert_int_ne(open_fails("junk.vmdk", 0, &err), DESC_E_NOMEM);
	remove_tmpdir();
}
END_TEST

static void chain_of(const char *name, vmdk_chain *chain)
{
	char *p = tmp_path(name);
	desc_error err;

	ck_assert_msg(vmdk_chain_walk(p, chain, &err) == DESC_OK, "%s: %s",
		      name, err.message);
	vk_free(p);
}

START_TEST(test_chain_walk)
{
	vmdk_chain chain;
	char *text, *cid;
	desc_error err;

	make_tmpdir();
	create("base.vmdk", VMDK_CREATE_TWOGB_FLAT, 1 << 20);
	delta("a.vmdk", "base.vmdk", NULL);
	delta("b.vmdk", "a.vmdk", NULL);
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_OK);
	ck_assert_uint_eq(chain.count, 3);
	ck_assert_str_eq(chain.links[0].create_type, "twoGbMaxExtentSparse");
	ck_assert_str_eq(chain.links[0].parent_hint, "a.vmdk");
	ck_assert(chain.links[0].has_parent);
	ck_assert_uint_eq(chain.links[0].parent_cid, chain.links[1].cid);
	ck_assert_uint_eq(chain.links[1].parent_cid, chain.links[2].cid);
	ck_assert(!chain.links[2].has_parent);
	ck_assert_ptr_null(chain.links[2].parent_hint);
	ck_assert_uint_eq(chain.links[2].capacity, 2048);
	vmdk_chain_clear(&chain);

	/* CID mismatch: both values, both files. */
	text = slurp(T("base.vmdk"));
	cid = strstr(text, "\nCID=") + 5;
	cid[8] = '\0';
	cid = vk_strdup(cid);
	vk_free(text);
	text = vk_asprintf("CID=%s", cid);
	edit(T("base.vmdk"), text, "CID=0badc0de");
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN);
	ck_assert_uint_eq(chain.count, 3);
	assert_message(&chain.error, "CID mismatch: parentCID=");
	assert_message(&chain.error, cid);
	assert_message(&chain.error, "CID=0badc0de in its parent");
	assert_message(&chain.error, "base.vmdk");
	assert_message(&chain.error, "a.vmdk");
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(open_fails("b.vmdk", VMDK_OPEN_CHAIN, &err), DESC_E_CHAIN);
	assert_message(&err, "CID mismatch");
	edit(T("base.vmdk"), "CID=0badc0de", text);
	vk_free(text);
	vk_free(cid);

	/* Missing parent: the hint and the resolved path. */
	ck_assert_int_eq(rename(T("a.vmdk"), T("gone.vmdk")), 0);
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_E_NOT_FOUND);
	ck_assert_uint_eq(chain.count, 1);
	assert_message(&chain.error, "parent 'a.vmdk' not found (parentFileNameHint resolved to '");
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(rename(T("gone.vmdk"), T("a.vmdk")), 0);

	/* Loop: a points back at b. */
	edit(T("a.vmdk"), "parentFileNameHint=\"base.vmdk\"",
	     "parentFileNameHint=\"b.vmdk\"");
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN);
	ck_assert_uint_eq(chain.count, 2);
	assert_message(&chain.error, "loop in the chain");
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(open_fails("b.vmdk", VMDK_OPEN_CHAIN, &err), DESC_E_CHAIN);
	assert_message(&err, "loop in the parent chain");

	/* The first file itself failing fails the call. */
	{
		char *p = tmp_path("nothing.vmdk");

		ck_assert_int_eq(vmdk_chain_walk(p, &chain, &err), DESC_E_NOT_FOUND);
		ck_assert_uint_eq(chain.count, 0);
		vk_free(p);
	}
	remove_tmpdir();
}
END_TEST

START_TEST(test_chain_depth)
{
	vmdk_chain chain;
	desc_error err;
	char name[32], parent[32];
	int i;

	make_tmpdir();
	create("d0.vmdk", VMDK_CREATE_MONOLITHIC_SPARSE, 1 << 20);
	for (i = 1; i <= VMDK_CHAIN_MAX_DEPTH; i++) {
		snprintf(name, sizeof(name), "d%d.vmdk", i);
		snprintf(parent, sizeof(parent), "d%d.vmdk", i - 1);
		delta(name, parent, NULL);
	}
	/* d63 has 64 links: fine.  d64 has 65: too deep. */
	chain_of("d63.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_OK);
	ck_assert_uint_eq(chain.count, VMDK_CHAIN_MAX_DEPTH);
	vmdk_chain_clear(&chain);
	vmdk_disk_free(open_ok("d63.vmdk", VMDK_OPEN_CHAIN));
	chain_of(name, &chain);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN);
	assert_message(&chain.error, "chain deeper than 64 links");
	vmdk_chain_clear(&chain);
	remove_tmpdir();
	(void)err;
}
END_TEST

/* Every allocation failure fails cleanly: DESC_E_NOMEM, nothing left on
 * disk, no crash (leaks show under ASan/valgrind). */
START_TEST(test_allocation_failures)
{
	vmdk_create_options opt = { VMDK_CREATE_TWOGB_SPARSE, UINT64_C(5) << 30,
				    NULL, NULL };
	char *base, *d, *s;
	unsigned long n;
	desc_error err;
	desc_status rc;

	make_tmpdir();
	create("base.vmdk", VMDK_CREATE_TWOGB_FLAT, UINT64_C(5) << 30);
	base = tmp_path("base.vmdk");
	d = tmp_path("delta.vmdk");
	s = tmp_path("new.vmdk");
	for (n = 1;; n++) {
		desc_test_fail_allocation(n);
		rc = vmdk_delta_create(d, base, NULL, &err);
		desc_test_fail_allocation(0);
		if (rc == DESC_OK)
			break;
		ck_assert_msg(rc == DESC_E_NOMEM, "allocation %lu: %d %s", n,
			      rc, err.message);
		ck_assert_uint_eq(count_files(), 3);
	}
	ck_assert_uint_gt(n, 5);
	for (n = 1;; n++) {
		vmdk_disk *disk = NULL;

		desc_test_fail_allocation(n);
		rc = vmdk_disk_open(d, VMDK_OPEN_CHAIN, &disk, &err);
		desc_test_fail_allocation(0);
		vmdk_disk_free(disk);
		if (rc == DESC_OK)
			break;
		ck_assert_msg(rc == DESC_E_NOMEM, "open %lu: %d %s", n, rc,
			      err.message);
	}
	for (n = 1;; n++) {
		vmdk_chain chain;

		desc_test_fail_allocation(n);
		rc = vmdk_chain_walk(d, &chain, &err);
		desc_test_fail_allocation(0);
		if (rc == DESC_OK) {
			/* An allocation failing inside a parent must not look
			 * like a broken chain. */
			ck_assert_int_eq(chain.status, DESC_OK);
			ck_assert_uint_eq(chain.count, 2);
			vmdk_chain_clear(&chain);
			break;
		}
		ck_assert_msg(rc == DESC_E_NOMEM, "chain %lu: %d %s", n, rc,
			      err.message);
	}
	for (n = 1;; n++) {
		size_t before = count_files();

		desc_test_fail_allocation(n);
		rc = vmdk_disk_create(s, &opt, &err);
		desc_test_fail_allocation(0);
		if (rc == DESC_OK)
			break;
		ck_assert_msg(rc == DESC_E_NOMEM, "create %lu: %d %s", n, rc,
			      err.message);
		ck_assert_uint_eq(count_files(), before);
	}
	vk_free(base);
	vk_free(d);
	vk_free(s);
	remove_tmpdir();
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
	tcase_add_test(tc, test_fast_paths);
	tcase_add_test(tc, test_sync_fs);
	suite_add_tcase(s, tc);
	return s;
}

static Suite *disk_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("create");

	tcase_add_loop_test(tc, test_create_open_read, 0,
			    sizeof(create_cases) / sizeof(create_cases[0]));
	tcase_add_test(tc, test_create_refusals);
	tcase_add_test(tc, test_create_type_names);
	tcase_add_test(tc, test_random_cid);
	suite_add_tcase(s, tc);
	tc = tcase_create("open");
	tcase_add_test(tc, test_delta_reads_parent);
	tcase_add_test(tc, test_split_delta_layout);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("chain");
	tcase_add_test(tc, test_chain_walk);
	tcase_add_test(tc, test_chain_depth);
	tcase_add_test(tc, test_allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fsutil_suite());
	int failed;

	srunner_add_suite(sr, disk_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
