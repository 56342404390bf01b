/* check_base.c - vmdk_base_make (vmdk/ops/base.c): a master becomes a
 * base (moved or copied), each refusal before anything is touched, and
 * every failure rolled back, on small disks made with vmdk_disk_create in
 * a temporary folder. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "vmdk/vmdk.h"

static char *cid_line(const char *text)
{
	static char line[64];
	const char *p = strstr(text, "\nCID=");

	ck_assert_ptr_nonnull(p);
	snprintf(line, sizeof(line), "%.13s", p + 1);
	return line;
}

START_TEST(test_base_move)
{
	char cid[64];
	desc_error err;
	desc_findings f;

	fx_make_master();
	snprintf(cid, sizeof(cid), "%s", cid_line(fx_text("m/Core.vmdk")));
	ck_assert_int_eq(mkdir("vms", 0755), 0);
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "vms/Base", NULL, &err),
			 DESC_OK);
	ck_assert(fx_exists("vms/Base/Core.vmdk"));
	ck_assert(fx_exists("vms/Base/Core-s001.vmdk"));
	ck_assert(fx_exists("vms/Base/" VMDK_MANIFEST_NAME));
	ck_assert_uint_eq(fx_mode("vms/Base/Core.vmdk"), 0444);
	ck_assert_uint_eq(fx_mode("vms/Base/Core-s001.vmdk"), 0444);
	ck_assert_uint_eq(fx_mode("vms/Base/" VMDK_MANIFEST_NAME), 0444);
	ck_assert_uint_eq(fx_mode("vms/Base"), 0755);
	ck_assert(!fx_exists("m/Core.vmdk"));
	ck_assert(!fx_exists("m/Core-s001.vmdk"));
	ck_assert(fx_exists("m/Core.vmdk.vmdkit-moved"));
	ck_assert(fx_no_staging("vms"));
	ck_assert_ptr_null(strstr(fx_text("vms/Base/Core.vmdk"), "ddb.uuid"));
	ck_assert_ptr_nonnull(strstr(fx_text("vms/Base/Core.vmdk"),
				     "ddb.longContentID"));
	ck_assert_str_eq(cid_line(fx_text("vms/Base/Core.vmdk")), cid);
	ck_assert_ptr_nonnull(strstr(fx_text("vms/Base/Core.vmdk"),
				     " SPARSE \"Core-s001.vmdk\"\n"));
	ck_assert_ptr_nonnull(strstr(fx_text("vms/Base/" VMDK_MANIFEST_NAME),
				     "# vmdkit base manifest v1\nsha256 "));
	desc_findings_init(&f);
	ck_assert_int_eq(vmdk_base_verify("vms/Base", &f, &err), DESC_OK);
	ck_assert_uint_eq(f.count, 0);
	desc_findings_clear(&f);
}
END_TEST

START_TEST(test_base_copy_absolute)
{
	vmdk_base_options opt = { .copy = true, .absolute = true,
				  .strip_long_content_id = true };
	const char *text;
	char want[8192];
	desc_error err;

	fx_make_master();
	ck_assert_int_eq(vmdk_base_make("m/Core.vmdk", "Base", &opt, &err),
			 DESC_OK);
	ck_assert(fx_exists("m/Core.vmdk"));
	ck_assert(fx_exists("m/Core-s001.vmdk"));
	ck_assert(!fx_exists("m/Core.vmdk.vmdkit-moved"));
	ck_assert_ptr_nonnull(strstr(fx_text("m/Core.vmdk"), "ddb.uuid"));
	text = fx_text("Base/Core.vmdk");
	ck_assert_ptr_null(strstr(text, "ddb.longContentID"));
	ck_assert_ptr_null(strstr(text, "ddb.uuid"));
	snprintf(want, sizeof(want), " SPARSE \"%s/Base/Core-s001.vmdk\"\n", fx_dir);
	ck_assert_msg(strstr(text, want) != NULL, "absolute path: %s", text);
}
END_TEST

/* A stale parentFileNameHint on a disk without parent would make qemu
 * look for a backing file: the base drops it. */
START_TEST(test_base_drops_stale_hint)
{
	static const char hint[] = "\nparentFileNameHint=\"old.vmdk\"";
	char text[65536];
	const char *src, *p;
	desc_error err;
	size_t at;

	fx_make_master();
	src = fx_text("m/Core.vmdk");
	p = strstr(src, "createType=");
	ck_assert_ptr_nonnull(p);
	at = (size_t)(p - src) + strcspn(p, "\n");
	snprintf(text, sizeof(text), "%.*s%s%s", (int)at, src, hint, src + at);
	fx_write("m/Core.vmdk", text);
	ck_assert_ptr_nonnull(strstr(fx_text("m/Core.vmdk"), "parentFileNameHint"));
	ck_assert_int_eq(vmdk_base_make("m/Core.vmdk", "Base", NULL, &err),
			 DESC_OK);
	ck_assert_ptr_null(strstr(fx_text("Base/Core.vmdk"), "parentFileNameHint"));
}
END_TEST

START_TEST(test_base_dry_run)
{
	vmdk_base_options opt = { .dry_run = true, .report = fx_collect };
	desc_error err;
	size_t i, moves = 0;

	fx_make_master();
	fx_nsteps = 0;
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", &opt, &err),
			 DESC_OK);
	ck_assert(!fx_exists("Base"));
	ck_assert(fx_exists("m/Core.vmdk"));
	ck_assert(fx_exists("m/Core-s001.vmdk"));
	ck_assert(fx_no_staging("."));
	for (i = 0; i < fx_nsteps; i++)
		moves += strcmp(fx_steps[i], "move") == 0;
	ck_assert_uint_eq(moves, 1);
	ck_assert_str_eq(fx_steps[fx_nsteps - 1], "rename");
}
END_TEST

/* Each refusal happens before anything is touched. */
static const struct refusal {
	const char *what;
	const char *source;
	const char *basedir;
	desc_status code;
	const char *message;
} refusals[] = {
	{ "lock", "m/Core.vmx", "Base", DESC_E_BUSY,
	  "'Core.vmdk.lck' exists: the master looks running; power it off first" },
	{ "nonempty", "m/Core.vmx", "full", DESC_E_EXISTS,
	  "base folder exists and is not empty" },
	{ "snapshot", "m/Core.vmx", "Base", DESC_E_REFUSED,
	  "snapshot delta 'Core-000001.vmdk' beside the master (expected a master without snapshots: delete or consolidate its snapshots first)" },
	{ "vmsd", "m/Core.vmx", "Base", DESC_E_REFUSED,
	  "the master has snapshots (expected none: delete or consolidate its snapshots first)" },
	{ "delta", "d/Delta.vmdk", "Base", DESC_E_REFUSED, NULL },
};

START_TEST(test_base_refusals)
{
	const struct refusal *r = &refusals[_i];
	desc_error err;

	fx_make_master();
	if (strcmp(r->what, "lock") == 0)
		ck_assert_int_eq(mkdir("m/Core.vmdk.lck", 0755), 0);
	if (strcmp(r->what, "nonempty") == 0) {
		ck_assert_int_eq(mkdir("full", 0755), 0);
		fx_write("full/x", "x");
	}
	if (strcmp(r->what, "snapshot") == 0)
		fx_write("m/Core-000001.vmdk", "");
	if (strcmp(r->what, "vmsd") == 0)
		fx_write("m/Core.vmsd",
			   "snapshot.numSnapshots = \"1\"\n"
			   "snapshot0.disk0.fileName = \"Core.vmdk\"\n");
	if (strcmp(r->what, "delta") == 0) {
		ck_assert_int_eq(mkdir("d", 0755), 0);
		ck_assert_int_eq(vmdk_delta_create("d/Delta.vmdk", "m/Core.vmdk",
						   NULL, &err), DESC_OK);
	}
	ck_assert_int_eq(vmdk_base_make(r->source, r->basedir, NULL, &err),
			 r->code);
	if (r->message != NULL)
		ck_assert_str_eq(err.message, r->message);
	else
		ck_assert_msg(strstr(err.message, "consolidate") != NULL,
			      "message: %s", err.message);
	ck_assert(fx_exists("m/Core.vmdk"));
	ck_assert(fx_exists("m/Core-s001.vmdk"));
	ck_assert(!fx_exists("Base"));
	ck_assert(fx_no_staging("."));
}
END_TEST

/* Every allocation failure on the way must put the master back exactly
 * as it was (files, names, modes) and leave no base and no staging. */
START_TEST(test_base_rollback)
{
	char before[65536];
	unsigned long n;
	unsigned mode;
	bool done = false;

	fx_make_master();
	snprintf(before, sizeof(before), "%s", fx_text("m/Core.vmdk"));
	mode = fx_mode("m/Core-s001.vmdk");
	for (n = 1; n < 2000 && !done; n++) {
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_base_make("m/Core.vmx", "Base", NULL, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st, err.message);
		ck_assert_msg(fx_exists("m/Core.vmdk"), "n=%lu", n);
		ck_assert_msg(fx_exists("m/Core-s001.vmdk"), "n=%lu", n);
		ck_assert_uint_eq(fx_mode("m/Core-s001.vmdk"), mode);
		ck_assert(!fx_exists("m/Core.vmdk.vmdkit-moved"));
		ck_assert_str_eq(fx_text("m/Core.vmdk"), before);
		ck_assert_msg(!fx_exists("Base"), "n=%lu", n);
		ck_assert_msg(fx_no_staging("."), "n=%lu", n);
	}
	ck_assert(done);
	ck_assert_uint_gt(n, 10);
	ck_assert(fx_exists("Base/Core-s001.vmdk"));
}
END_TEST

/* A monolithicSparse master whose embedded descriptor carries ddb.uuid. */
static void make_mono_master(const char *path)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_MONOLITHIC_SPARSE,
				    .size_bytes = 1u << 20 };
	static const char uuid[] =
		"ddb.uuid = \"60 00 c2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n";
	char area[10240];
	desc_error err;
	size_t len;
	int fd;

	ck_assert_int_eq(vmdk_disk_create(path, &opt, &err), DESC_OK);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, area, sizeof(area), 512), (ssize_t)sizeof(area));
	len = strnlen(area, sizeof(area));
	ck_assert_uint_lt(len + sizeof(uuid), sizeof(area));
	memcpy(area + len, uuid, sizeof(uuid) - 1);
	ck_assert_int_eq(pwrite(fd, area, sizeof(area), 512), (ssize_t)sizeof(area));
	close(fd);
}

static void read_file(const char *path, char *buf, size_t size, size_t *len)
{
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(f);
	*len = fread(buf, 1, size, f);
	fclose(f);
}

/* Moving a monolithic master edits its embedded descriptor; every failure
 * must restore the original bytes and put the file back. */
START_TEST(test_mono_move_rollback)
{
	static char before[1u << 17], after[1u << 17];
	size_t blen, alen;
	unsigned long n;
	bool done = false;

	ck_assert_int_eq(mkdir("m", 0755), 0);
	make_mono_master("m/Mono.vmdk");
	read_file("m/Mono.vmdk", before, sizeof(before), &blen);
	ck_assert_ptr_nonnull(memmem(before, blen, "ddb.uuid", 8));
	for (n = 1; n < 2000 && !done; n++) {
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_base_make("m/Mono.vmdk", "Base", NULL, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st,
			      err.message);
		read_file("m/Mono.vmdk", after, sizeof(after), &alen);
		ck_assert_msg(alen == blen && memcmp(before, after, blen) == 0,
			      "n=%lu: master changed", n);
		ck_assert(!fx_exists("Base"));
		ck_assert(fx_no_staging("."));
	}
	ck_assert(done);
	ck_assert(!fx_exists("m/Mono.vmdk"));
	read_file("Base/Mono.vmdk", after, sizeof(after), &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_ptr_null(memmem(after, alen, "ddb.uuid", 8));
	ck_assert_ptr_nonnull(memmem(after, alen, "ddb.adapterType", 15));
	ck_assert_uint_eq(fx_mode("Base/Mono.vmdk"), 0444);
}
END_TEST

static Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("base");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_base_move);
	tcase_add_test(tc, test_base_copy_absolute);
	tcase_add_test(tc, test_base_dry_run);
	tcase_add_test(tc, test_base_drops_stale_hint);
	tcase_add_loop_test(tc, test_base_refusals, 0,
			    (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, test_base_rollback);
	tcase_add_test(tc, test_mono_move_rollback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(base_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
