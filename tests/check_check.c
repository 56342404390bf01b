/* check_check.c - vmdk_check_paths (vmdk/ops/check.c) on a small tree
 * made with the library (a base in vms/B, leaves vms/L1 and vms/L2), each
 * case with exactly one defect planted; the deep check on damaged grain
 * tables. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "vmdk/vmdk.h"

/* ------------------------------------------------------------------ */
/* check: one defect each                                              */
/* ------------------------------------------------------------------ */

static void defect_none(void) { }

static void defect_extent_missing(void)
{
	ck_assert_int_eq(chmod("vms/B", 0755), 0);
	ck_assert_int_eq(unlink("vms/L1/Core-000001-s001.vmdk"), 0);
}

static void defect_extent_size(void)
{
	vmdk_create_options copt = { .type = VMDK_CREATE_MONOLITHIC_FLAT,
				     .size_bytes = 1u << 20 };
	desc_error err;

	ck_assert_int_eq(mkdir("vms/F", 0755), 0);
	ck_assert_int_eq(vmdk_disk_create("vms/F/Flat.vmdk", &copt, &err), DESC_OK);
	ck_assert_int_eq(truncate("vms/F/Flat-flat.vmdk", 4096), 0);
}

static void defect_cid(void)
{
	fx_replace_line("vms/L1/Core.vmdk", "CID=", "CID=0badc1d0");
}

static void defect_parent_missing(void)
{
	fx_replace_line("vms/L1/Core-000001.vmdk", "parentFileNameHint=",
		     "parentFileNameHint=\"Gone.vmdk\"");
}

static void defect_hint_absolute(void)
{
	char line[8192];

	snprintf(line, sizeof(line), "parentFileNameHint=\"%s/vms/B/Core.vmdk\"",
		 fx_dir);
	fx_replace_line("vms/L1/Core-000001.vmdk", "parentFileNameHint=", line);
}

static void defect_base_writable(void)
{
	ck_assert_int_eq(chmod("vms/B/Core-s001.vmdk", 0644), 0);
}

static void defect_base_modified(void)
{
	fx_modify_base("vms/B/Core-s001.vmdk");
}

static void defect_shared_disk(void)
{
	fx_replace_line("vms/L2/L2.vmx", "scsi0:0.fileName",
		     "scsi0:0.fileName = \"../L1/Core-000001.vmdk\"");
}

/* Both leaves' deltas over the base's own descriptor: one lock. */
static void defect_shared_parent(void)
{
	fx_replace_line("vms/L1/Core-000001.vmdk", "parentFileNameHint=",
		     "parentFileNameHint=\"../B/Core.vmdk\"");
	fx_replace_line("vms/L2/Core-000001.vmdk", "parentFileNameHint=",
		     "parentFileNameHint=\"../B/Core.vmdk\"");
}

static void defect_lock(void)
{
	ck_assert_int_eq(mkdir("vms/L1/Core-000001.vmdk.lck", 0755), 0);
}

static void defect_uuid(void)
{
	fx_append("vms/L1/L1.vmx", "uuid.bios = \"56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee\"\n");
	fx_append("vms/L2/L2.vmx", "uuid.bios = \"56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee\"\n");
}

static void defect_mac(void)
{
	fx_append("vms/L1/L1.vmx", "ethernet0.generatedAddress = \"00:0c:29:aa:bb:cc\"\n");
	fx_append("vms/L2/L2.vmx", "ethernet0.generatedAddress = \"00:0C:29:AA:BB:CC\"\n");
}

static void defect_mac_one_vm(void)
{
	/* One NIC's static and generated address agreeing is no conflict;
	 * two NICs sharing one is. */
	fx_append("vms/L2/L2.vmx", "ethernet0.address = \"00:50:56:00:00:09\"\nethernet0.generatedAddress = \"00:50:56:00:00:09\"\n");
	fx_append("vms/L1/L1.vmx", "ethernet0.address = \"00:50:56:00:00:07\"\nethernet1.address = \"00:50:56:00:00:07\"\n");
}

static void defect_vmsd(void)
{
	fx_replace_line("vms/L1/L1.vmsd", "snapshot0.disk0.fileName",
		     "snapshot0.disk0.fileName = \"Missing.vmdk\"");
}

static void defect_vmx_disk(void)
{
	fx_replace_line("vms/L1/L1.vmx", "scsi0:0.fileName",
		     "scsi0:0.fileName = \"Missing-000001.vmdk\"");
}

static void defect_syntax(void)
{
	fx_write("vms/L1/Bad.vmdk", "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 10 SPARES \"x\"\n");
}

struct check_case {
	const char *name;
	void (*plant)(void);
	const char *code; /* NULL: clean */
	bool confine;     /* check vms/L1 confined to vms/L1 */
};

static const struct check_case check_cases[] = {
	{ "clean", defect_none, NULL, false },
	{ "extent-missing", defect_extent_missing, "extent-missing", false },
	{ "extent-size", defect_extent_size, "extent-size-mismatch", false },
	{ "cid", defect_cid, "parent-cid-mismatch", false },
	{ "parent-missing", defect_parent_missing, "parent-missing", false },
	{ "hint-absolute", defect_hint_absolute, "parent-hint-absolute", false },
	{ "base-writable", defect_base_writable, "base-writable", false },
	{ "base-modified", defect_base_modified, "base-modified", false },
	{ "shared-disk", defect_shared_disk, "shared-disk", false },
	{ "shared-parent", defect_shared_parent, "shared-parent", false },
	{ "lock", defect_lock, "stale-lock", false },
	{ "uuid", defect_uuid, "duplicate-uuid-bios", false },
	{ "mac", defect_mac, "duplicate-mac", false },
	{ "mac-one-vm", defect_mac_one_vm, "duplicate-mac", false },
	{ "vmsd", defect_vmsd, "vmsd-disk-missing", false },
	{ "vmx-disk", defect_vmx_disk, "vmx-disk-missing", false },
	{ "syntax", defect_syntax, "syntax", false },
	{ "confine", defect_none, "path-escapes-confine", true },
};

START_TEST(test_check_defect)
{
	const struct check_case *c = &check_cases[_i];
	const char *confine[1] = { "vms/L1" };
	vmdk_check_options opt = { .recursive = true };
	desc_findings f;

	fx_make_tree();
	c->plant();
	if (c->confine) {
		opt.confine = confine;
		opt.confine_count = 1;
	}
	fx_check_tree(c->confine ? "vms/L1" : "vms", &opt, &f);
	if (c->code == NULL)
		ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING,
			      "clean tree: %s", fx_dump(&f));
	else
		ck_assert_msg(fx_has_code(&f, c->code), "%s: no '%s' in:%s",
			      c->name, c->code, fx_dump(&f));
	if (c->plant == defect_mac_one_vm)
		for (size_t i = 0; i < f.count; i++)
			ck_assert_msg(strcmp(f.items[i].code, "duplicate-mac") != 0 ||
				      strcmp(f.items[i].file, "vms/L1/L1.vmx") == 0,
				      "%s", fx_dump(&f));
	/* Without the defect's code, nothing else fires either: at most
	 * findings that follow from the same defect. */
	desc_findings_clear(&f);
}
END_TEST

/* The confined check never follows the escaping path: the base's
 * problems are not seen through a leaf. */
START_TEST(test_confine_not_followed)
{
	const char *confine[1] = { "vms/L1" };
	vmdk_check_options opt = { .recursive = true, .confine = confine,
				   .confine_count = 1 };
	desc_findings f;

	fx_make_tree();
	defect_base_writable();
	fx_check_tree("vms/L1", &opt, &f);
	ck_assert_msg(!fx_has_code(&f, "base-writable"), "%s", fx_dump(&f));
	desc_findings_clear(&f);
}
END_TEST

/* Deep: damaged grain tables of a monolithicSparse disk. */
static uint32_t rd32(int fd, off_t off)
{
	unsigned char b[4];

	ck_assert_int_eq(pread(fd, b, 4, off), 4);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

static void wr32(int fd, off_t off, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	ck_assert_int_eq(pwrite(fd, b, 4, off), 4);
}

/* Sets GTEs 0 and 1 of a new 4 MiB monolithicSparse disk. */
static void plant_gtes(uint32_t e0, uint32_t e1, off_t grow)
{
	vmdk_create_options copt = { .type = VMDK_CREATE_MONOLITHIC_SPARSE,
				     .size_bytes = 4u << 20 };
	desc_error err;
	uint32_t gd, gt;
	struct stat sb;
	int fd;

	ck_assert_int_eq(vmdk_disk_create("Deep.vmdk", &copt, &err), DESC_OK);
	fd = open("Deep.vmdk", O_RDWR);
	ck_assert_int_ge(fd, 0);
	gd = rd32(fd, 56); /* gdOffset, low half */
	gt = rd32(fd, (off_t)gd * 512);
	wr32(fd, (off_t)gt * 512, e0);
	wr32(fd, (off_t)gt * 512 + 4, e1);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	ck_assert_int_eq(ftruncate(fd, sb.st_size + grow), 0);
	close(fd);
}

START_TEST(test_deep_outside)
{
	vmdk_check_options opt = { .deep = true };
	desc_findings f;

	plant_gtes(0x00ffff00u, 0, 0);
	fx_check_tree("Deep.vmdk", &opt, &f);
	ck_assert_msg(fx_has_code(&f, "grain-outside-file"), "%s", fx_dump(&f));
	desc_findings_clear(&f);
	/* Without --deep the tables are not read. */
	fx_check_tree("Deep.vmdk", NULL, &f);
	ck_assert_msg(!fx_has_code(&f, "grain-outside-file"), "%s", fx_dump(&f));
	desc_findings_clear(&f);
}
END_TEST

START_TEST(test_deep_overlap)
{
	vmdk_check_options opt = { .deep = true };
	desc_findings f;
	struct stat sb;
	uint32_t at;

	ck_assert_int_eq(stat(".", &sb), 0);
	plant_gtes(0, 0, 0);
	ck_assert_int_eq(stat("Deep.vmdk", &sb), 0);
	at = (uint32_t)(sb.st_size / 512);
	ck_assert_int_eq(unlink("Deep.vmdk"), 0);
	/* Two entries naming the same grain past the metadata. */
	plant_gtes(at, at, 128 * 512);
	fx_check_tree("Deep.vmdk", &opt, &f);
	ck_assert_msg(fx_has_code(&f, "grain-overlap"), "%s", fx_dump(&f));
	ck_assert_msg(!fx_has_code(&f, "grain-outside-file"), "%s", fx_dump(&f));
	desc_findings_clear(&f);
	ck_assert_int_eq(unlink("Deep.vmdk"), 0);
	/* A clean sparse disk passes the deep check. */
	plant_gtes(0, 0, 0);
	fx_check_tree("Deep.vmdk", &opt, &f);
	ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING, "%s",
		      fx_dump(&f));
	desc_findings_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation failure: every check fails cleanly with DESC_E_NOMEM, or */
/* succeeds with the same findings as without failures.               */
/* ------------------------------------------------------------------ */

static size_t check_count(const vmdk_check_options *opt, desc_status *st)
{
	const char *paths[1] = { "vms" };
	desc_findings f;
	desc_error err;
	size_t n;

	desc_findings_init(&f);
	*st = vmdk_check_paths(paths, 1, opt, &f, &err);
	n = f.count;
	desc_findings_clear(&f);
	return n;
}

START_TEST(test_alloc_failure)
{
	const char *confine[1] = { "vms" };
	vmdk_check_options opt = { .recursive = true, .deep = true,
				   .confine = confine, .confine_count = 1 };
	size_t want, got;
	desc_status st;

	fx_make_tree();
	fx_plant_defects();
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			opt.confine_count = 0;
		want = check_count(&opt, &st);
		ck_assert_int_eq(st, DESC_OK);
		ck_assert_uint_gt(want, 0);
		for (unsigned long n = 1;; n++) {
			desc_test_fail_allocation(n);
			got = check_count(&opt, &st);
			desc_test_fail_allocation(0);
			if (st == DESC_OK) {
				ck_assert_uint_eq(got, want);
				/* the hook did fail allocations on the way */
				ck_assert_uint_gt(n, 50);
				break;
			}
			ck_assert_msg(st == DESC_E_NOMEM, "check: allocation %lu: status %d",
				      n, (int)st);
		}
	}
}
END_TEST

static Suite *check_suite(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_loop_test(tc, test_check_defect, 0,
			    sizeof(check_cases) / sizeof(check_cases[0]));
	tcase_add_test(tc, test_confine_not_followed);
	tcase_add_test(tc, test_deep_outside);
	tcase_add_test(tc, test_deep_overlap);
	tcase_add_test(tc, test_alloc_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(check_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
