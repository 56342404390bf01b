/*
 * check_promote.c - vmdk_promote and full clones, built on disks the
 * library makes: a monolithicFlat base whose flat file gets data written
 * directly, and grains appended by hand into the leaf's delta, so the
 * expected content of every sector is known without an outside tool.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"

#define DISK_BYTES (4u * 1024u * 1024u)
#define GRAIN_BYTES (64u * 1024u)

static char tmp[4096];
static unsigned char expect[DISK_BYTES];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	chmod(path, 0755);
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/check_promote.XXXXXX",
		 base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(chdir(tmp), 0);
}

static void teardown(void)
{
	if (chdir("/") == 0)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static size_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, cap - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
	return (size_t)n;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Writes `len` bytes of `byte` at `off` into the base's flat file. */
static void base_write(size_t off, size_t len, unsigned char byte)
{
	unsigned char buf[GRAIN_BYTES];
	int fd = open("base/B-flat.vmdk", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_le(len, sizeof(buf));
	memset(buf, byte, len);
	ck_assert_int_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	memset(expect + off, byte, len);
}

/* Appends a whole grain of `byte` to the leaf's sparse delta and points
 * its grain table entry at it (what a hypervisor's write does). */
static void delta_write(const char *delta, size_t grain, unsigned char byte)
{
	unsigned char raw[512], gd[4], buf[GRAIN_BYTES], e[4];
	vmdk_sparse_header h;
	desc_error err;
	struct stat st;
	uint64_t gt, at;
	int fd = open(delta, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(pread(fd, raw, 512, 0), 512);
	ck_assert_int_eq(vmdk_sparse_header_decode(raw, (uint64_t)st.st_size,
						   delta, &h, &err), DESC_OK);
	ck_assert_uint_eq(h.grain_size * 512, GRAIN_BYTES);
	ck_assert_int_eq(pread(fd, gd, 4, (off_t)(h.gd_offset * 512 +
						  grain / 512 * 4)), 4);
	gt = le32(gd);
	ck_assert_uint_ne(gt, 0);
	at = ((uint64_t)st.st_size + 511) / 512;
	memset(buf, byte, sizeof(buf));
	ck_assert_int_eq(pwrite(fd, buf, sizeof(buf), (off_t)(at * 512)),
			 (ssize_t)sizeof(buf));
	e[0] = (unsigned char)at;
	e[1] = (unsigned char)(at >> 8);
	e[2] = (unsigned char)(at >> 16);
	e[3] = (unsigned char)(at >> 24);
	ck_assert_int_eq(pwrite(fd, e, 4, (off_t)(gt * 512 + grain % 512 * 4)), 4);
	close(fd);
	memset(expect + grain * GRAIN_BYTES, byte, GRAIN_BYTES);
}

/* base/B.vmdk (monolithicFlat, data in grains 0-2 and 40), leaf L from
 * it with delta data in grains 1 (over the base), 2 (over a partial base
 * grain), 10 and 63 (alone). */
static void make_leaf(void)
{
	vmdk_create_options copt = { .type = VMDK_CREATE_MONOLITHIC_FLAT,
				     .size_bytes = DISK_BYTES };
	vmdk_clone_options opt;
	vmdk_leaf_spec spec;
	desc_error err;

	memset(expect, 0, sizeof(expect));
	ck_assert_int_eq(mkdir("base", 0755), 0);
	ck_assert_int_eq(vmdk_disk_create("base/B.vmdk", &copt, &err), DESC_OK);
	base_write(0, GRAIN_BYTES, 0x11);
	base_write(GRAIN_BYTES, GRAIN_BYTES, 0x12);
	base_write(2 * GRAIN_BYTES + 4096, 4096, 0x13);
	base_write(40 * GRAIN_BYTES + 512, 1024, 0x14);
	memset(&opt, 0, sizeof(opt));
	memset(&spec, 0, sizeof(spec));
	spec.name = "L";
	spec.folder = "L";
	ck_assert_int_eq(vmdk_leaf_create("base/B.vmdk", &spec, &opt, &err),
			 DESC_OK);
	ck_assert(exists("L/B-000001.vmdk"));
	delta_write("L/B-000001.vmdk", 1, 0x21);
	delta_write("L/B-000001.vmdk", 2, 0x22);
	delta_write("L/B-000001.vmdk", 10, 0x23);
	delta_write("L/B-000001.vmdk", 63, 0x24);
}

static unsigned nonzero_grains(void)
{
	unsigned g, n = 0;
	size_t i;

	for (g = 0; g < DISK_BYTES / GRAIN_BYTES; g++)
		for (i = 0; i < GRAIN_BYTES; i++)
			if (expect[g * GRAIN_BYTES + i] != 0) {
				n++;
				break;
			}
	return n;
}

/* The disk at `path` is standalone and reads as `expect`. */
static void assert_content(const char *path)
{
	static unsigned char got[DISK_BYTES];
	vmdk_disk *disk = NULL;
	desc_error err;
	size_t i;

	ck_assert_msg(vmdk_disk_open(path, VMDK_OPEN_CHAIN, &disk, &err) == DESC_OK,
		      "%s", err.message);
	ck_assert_ptr_null(vmdk_disk_parent(disk));
	ck_assert_uint_eq(vmdk_disk_capacity(disk), DISK_BYTES / 512);
	ck_assert_int_eq(vmdk_disk_read(disk, 0, DISK_BYTES / 512, got, &err),
			 DESC_OK);
	for (i = 0; i < DISK_BYTES; i++)
		if (got[i] != expect[i])
			ck_abort_msg("%s: byte %zu is %02x (expected %02x)",
				     path, i, got[i], expect[i]);
	vmdk_disk_free(disk);
}

static const vmdk_create_type target_types[] = {
	VMDK_CREATE_MONOLITHIC_SPARSE,
	VMDK_CREATE_TWOGB_SPARSE,
	VMDK_CREATE_MONOLITHIC_FLAT,
};

START_TEST(test_promote_to_dir)
{
	vmdk_promote_options opt;
	vmdk_disk *disk = NULL;
	vmdk_extent_info info;
	desc_error err;
	char before[4096], after[4096];

	make_leaf();
	slurp("L/L.vmx", before, sizeof(before));
	ck_assert_int_eq(mkdir("out", 0755), 0);
	memset(&opt, 0, sizeof(opt));
	opt.output_dir = "out";
	opt.type_set = true;
	opt.type = target_types[_i];
	ck_assert_msg(vmdk_promote("L/L.vmx", &opt, &err) == DESC_OK, "%s",
		      err.message);
	assert_content("out/L.vmdk");
	slurp("L/L.vmx", after, sizeof(after));
	ck_assert_str_eq(before, after);
	ck_assert(exists("L/B-000001.vmdk"));
	if (opt.type != VMDK_CREATE_MONOLITHIC_FLAT) {
		/* Only grains with data were written. */
		ck_assert_int_eq(vmdk_disk_open("out/L.vmdk", 0, &disk, &err),
				 DESC_OK);
		ck_assert_int_eq(vmdk_disk_extent_info(disk, 0, &info, &err),
				 DESC_OK);
		ck_assert_uint_eq(info.allocated_grains, nonzero_grains());
		vmdk_disk_free(disk);
	}
}
END_TEST

START_TEST(test_promote_in_place)
{
	struct stat b1, b2;
	desc_error err;
	char vmx[8192], vmsd[4096];

	make_leaf();
	ck_assert_int_eq(stat("base/B-flat.vmdk", &b1), 0);
	ck_assert_msg(vmdk_promote("L", NULL, &err) == DESC_OK, "%s",
		      err.message);
	assert_content("L/L.vmdk");
	slurp("L/L.vmx", vmx, sizeof(vmx));
	ck_assert_ptr_nonnull(strstr(vmx, "scsi0:0.fileName = \"L.vmdk\""));
	slurp("L/L.vmsd", vmsd, sizeof(vmsd));
	ck_assert_ptr_null(strstr(vmsd, "snapshot0"));
	ck_assert(!exists("L/B-000001.vmdk"));
	ck_assert(!exists("L/B.vmdk"));
	/* L.vmx, L.vmsd, L.vmdk: nothing else */
	ck_assert_uint_eq(count_entries("L"), 3);
	ck_assert_int_eq(stat("base/B-flat.vmdk", &b2), 0);
	ck_assert(b1.st_mtime == b2.st_mtime && b1.st_size == b2.st_size);
	/* Promoting again: nothing linked is left. */
	ck_assert_int_eq(vmdk_promote("L/L.vmx", NULL, &err), DESC_E_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err.message, "nothing to promote"));
}
END_TEST

START_TEST(test_promote_disk_path)
{
	desc_error err;

	make_leaf();
	/* A disk named directly: the .vmx beside it that names it. */
	ck_assert_msg(vmdk_promote("L/B-000001.vmdk", NULL, &err) == DESC_OK,
		      "%s", err.message);
	assert_content("L/L.vmdk");
}
END_TEST

struct bad_case {
	const char *leaf;
	const char *output;
	int type; /* -1: default */
	desc_status code;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ "missing.vmx", NULL, -1, DESC_E_NOT_FOUND, "cannot open" },
	{ "L", "no-such-dir", -1, DESC_E_NOT_FOUND, "output folder does not exist" },
	{ "L", "out", VMDK_CREATE_TWOGB_FLAT, DESC_E_ARG,
	  "cannot promote to twoGbMaxExtentFlat" },
	{ "base/B.vmdk", NULL, -1, DESC_E_NOT_FOUND, "no .vmx in" },
};

START_TEST(test_promote_bad)
{
	const struct bad_case *c = &bad_cases[_i];
	vmdk_promote_options opt;
	desc_error err;
	desc_status st;

	make_leaf();
	ck_assert_int_eq(mkdir("out", 0755), 0);
	memset(&opt, 0, sizeof(opt));
	opt.output_dir = c->output;
	if (c->type >= 0) {
		opt.type_set = true;
		opt.type = (vmdk_create_type)c->type;
	}
	st = vmdk_promote(c->leaf, &opt, &err);
	ck_assert_msg(st == c->code, "%s: status %d: %s", c->leaf, (int)st,
		      err.message);
	ck_assert_msg(strstr(err.message, c->message) != NULL,
		      "'%s' lacks '%s'", err.message, c->message);
	ck_assert_uint_eq(count_entries("out"), 0);
	ck_assert(exists("L/B-000001.vmdk"));
}
END_TEST

START_TEST(test_promote_busy_and_dry_run)
{
	vmdk_promote_options opt;
	desc_error err;
	char before[8192], after[8192];

	make_leaf();
	slurp("L/L.vmx", before, sizeof(before));
	ck_assert_int_eq(mkdir("L/L.vmx.lck", 0755), 0);
	ck_assert_int_eq(vmdk_promote("L", NULL, &err), DESC_E_BUSY);
	ck_assert_ptr_nonnull(strstr(err.message, "looks running"));
	ck_assert_int_eq(rmdir("L/L.vmx.lck"), 0);
	/* A dry run leaves even a crashed run's staging folder alone. */
	ck_assert_int_eq(mkdir("L/.vmdkit-tmp-L.vmx-XXXXXX", 0755), 0);
	memset(&opt, 0, sizeof(opt));
	opt.dry_run = true;
	ck_assert_int_eq(vmdk_promote("L", &opt, &err), DESC_OK);
	ck_assert(exists("L/.vmdkit-tmp-L.vmx-XXXXXX"));
	ck_assert_uint_eq(count_entries("L"), 5);
	slurp("L/L.vmx", after, sizeof(after));
	ck_assert_str_eq(before, after);
	/* The real run removes it. */
	ck_assert_int_eq(vmdk_promote("L", NULL, &err), DESC_OK);
	ck_assert(!exists("L/.vmdkit-tmp-L.vmx-XXXXXX"));
	assert_content("L/L.vmdk");
}
END_TEST

struct progress_log {
	unsigned calls;
	uint64_t last_done, total;
	bool backwards;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress_log *p = ctx;

	if (done < p->last_done)
		p->backwards = true;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

START_TEST(test_promote_progress)
{
	struct progress_log log = { 0, 0, 0, false };
	vmdk_promote_options opt;
	desc_error err;

	make_leaf();
	memset(&opt, 0, sizeof(opt));
	opt.progress = on_progress;
	opt.progress_ctx = &log;
	ck_assert_int_eq(vmdk_promote("L", &opt, &err), DESC_OK);
	ck_assert_uint_ge(log.calls, 1);
	ck_assert(!log.backwards);
	ck_assert_uint_eq(log.total, DISK_BYTES);
	ck_assert_uint_eq(log.last_done, DISK_BYTES);
}
END_TEST

/* Every allocation failure leaves the leaf exactly as it was. */
START_TEST(test_promote_allocation_failure)
{
	char before[8192], after[8192];
	unsigned long n;
	bool done = false;

	make_leaf();
	slurp("L/L.vmx", before, sizeof(before));
	for (n = 1; n < 5000 && !done; n++) {
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_promote("L", NULL, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st,
			      err.message);
		slurp("L/L.vmx", after, sizeof(after));
		ck_assert_msg(strcmp(before, after) == 0, "n=%lu: .vmx changed", n);
		/* L.vmx, L.vmsd, B.vmdk, B-000001.vmdk */
		ck_assert_msg(count_entries("L") == 4, "n=%lu: %zu files", n,
			      count_entries("L"));
	}
	ck_assert(done);
	ck_assert_uint_gt(n, 10);
	assert_content("L/L.vmdk");
}
END_TEST

START_TEST(test_full_clone)
{
	vmdk_clone_options opt;
	vmdk_leaf_spec spec;
	desc_error err;
	char vmx[8192], desc[4096];
	unsigned long n;
	bool done = false;

	make_leaf(); /* for the base and expect[]; the leaf is not used */
	memset(expect + GRAIN_BYTES, 0x12, GRAIN_BYTES);
	memset(expect + 2 * GRAIN_BYTES, 0, GRAIN_BYTES);
	memset(expect + 2 * GRAIN_BYTES + 4096, 0x13, 4096);
	memset(expect + 10 * GRAIN_BYTES, 0, GRAIN_BYTES);
	memset(expect + 63 * GRAIN_BYTES, 0, GRAIN_BYTES);
	memset(&opt, 0, sizeof(opt));
	memset(&spec, 0, sizeof(spec));
	opt.full = true;
	spec.name = "F";
	spec.folder = "F";
	for (n = 1; n < 5000 && !done; n++) {
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_leaf_create("base/B.vmdk", &spec, &opt, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st,
			      err.message);
		ck_assert_msg(!exists("F"), "n=%lu", n);
		ck_assert_uint_eq(count_entries("."), 2); /* base, L */
	}
	ck_assert(done);
	assert_content("F/B.vmdk");
	ck_assert(!exists("F/B-000001.vmdk"));
	ck_assert(exists("F/B-flat.vmdk"));
	slurp("F/F.vmx", vmx, sizeof(vmx));
	ck_assert_ptr_nonnull(strstr(vmx, "scsi0:0.fileName = \"B.vmdk\""));
	slurp("F/B.vmdk", desc, sizeof(desc));
	ck_assert_ptr_nonnull(strstr(desc, "ddb.uuid = \"60 00 C2 "));
	ck_assert_ptr_nonnull(strstr(desc, "FLAT \"B-flat.vmdk\""));
}
END_TEST

static Suite *promote_suite(void)
{
	Suite *s = suite_create("promote");
	TCase *tc = tcase_create("promote");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_promote_to_dir, 0,
			    (int)(sizeof(target_types) / sizeof(target_types[0])));
	tcase_add_test(tc, test_promote_in_place);
	tcase_add_test(tc, test_promote_disk_path);
	tcase_add_loop_test(tc, test_promote_bad, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_promote_busy_and_dry_run);
	tcase_add_test(tc, test_promote_progress);
	tcase_add_test(tc, test_promote_allocation_failure);
	tcase_add_test(tc, test_full_clone);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(promote_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
