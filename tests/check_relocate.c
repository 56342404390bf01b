/* check_relocate.c - vmdk_relocate (vmdk/ops/relocate.c): moving a base
 * and fixing the leaves, .vmx and .vmsd that point at it, on a small tree
 * made with the library (a base in vms/B, leaves vms/L1 and vms/L2). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fixture.h"
#include "vmdk/vmdk.h"

static void count_step(void *ctx, const char *action, const char *path)
{
	(void)action;
	(void)path;
	(*(int *)ctx)++;
}

START_TEST(test_relocate)
{
	const char *leaves[1] = { "vms" };
	vmdk_relocate_options opt = { .dry_run = true, .report = count_step };
	desc_findings f;
	desc_error err;
	char *before, *after;
	int steps = 0;

	fx_make_tree();
	ck_assert_int_eq(mkdir("new", 0755), 0);
	opt.report_ctx = &steps;
	before = fx_slurp("vms/L1/Core.vmdk");
	ck_assert_int_eq(vmdk_relocate("vms/B", "new/B", leaves, 1, &opt, &err),
			 DESC_OK);
	ck_assert_int_eq(steps, 3); /* two leaves, one rename */
	ck_assert_int_eq(access("vms/B", F_OK), 0);
	after = fx_slurp("vms/L1/Core.vmdk");
	ck_assert_str_eq(after, before);
	free(after);
	opt.dry_run = false;
	ck_assert_msg(vmdk_relocate("vms/B", "new/B", leaves, 1, &opt, &err) ==
		      DESC_OK, "%s", err.message);
	ck_assert_int_ne(access("vms/B", F_OK), 0);
	after = fx_slurp("vms/L1/Core.vmdk");
	ck_assert_ptr_nonnull(strstr(after, "\"../../new/B/Core-s001.vmdk\""));
	free(after);
	fx_check_tree("vms", NULL, &f);
	ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING, "%s",
		      fx_dump(&f));
	desc_findings_clear(&f);
	free(before);
	/* Target exists: refused, nothing changed. */
	ck_assert_int_eq(mkdir("other", 0755), 0);
	before = fx_slurp("vms/L1/Core.vmdk");
	ck_assert_int_eq(vmdk_relocate("new/B", "other", leaves, 1, NULL, &err),
			 DESC_E_EXISTS);
	after = fx_slurp("vms/L1/Core.vmdk");
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
}
END_TEST

/* A .vmx and .vmsd that name the base's descriptor directly follow the
 * move too; a .vmx that does not is left byte for byte. */
START_TEST(test_relocate_vmx)
{
	const char *leaves[1] = { "vms" };
	desc_error err;
	char *text, *l1;

	fx_make_tree();
	ck_assert_int_eq(mkdir("vms/X", 0755), 0);
	fx_write("vms/X/X.vmx", "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.filename = \"../B/Core.vmdk\"\n");
	fx_write("vms/X/X.vmsd", "snapshot0.disk0.fileName = \"../B/Core.vmdk\"\nsnapshot0.disk0.node = \"scsi0:0\"\n");
	l1 = fx_slurp("vms/L1/L1.vmx");
	ck_assert_int_eq(mkdir("new", 0755), 0);
	ck_assert_msg(vmdk_relocate("vms/B", "new/B", leaves, 1, NULL, &err) ==
		      DESC_OK, "%s", err.message);
	text = fx_slurp("vms/X/X.vmx");
	ck_assert_str_eq(text, "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.filename = \"../../new/B/Core.vmdk\"\n");
	free(text);
	text = fx_slurp("vms/X/X.vmsd");
	ck_assert_str_eq(text, "snapshot0.disk0.fileName = \"../../new/B/Core.vmdk\"\nsnapshot0.disk0.node = \"scsi0:0\"\n");
	free(text);
	text = fx_slurp("vms/L1/L1.vmx");
	ck_assert_str_eq(text, l1);
	free(text);
	free(l1);
}
END_TEST

/* A base made with absolute paths: its own descriptor and manifest are
 * rewritten, and verify still passes. */
START_TEST(test_relocate_absolute)
{
	vmdk_create_options copt = { .type = VMDK_CREATE_TWOGB_SPARSE,
				     .size_bytes = 1u << 20 };
	vmdk_base_options bopt = { .absolute = true };
	const char *leaves[1] = { "." };
	desc_findings f;
	desc_error err;
	char want[8192];

	ck_assert_int_eq(mkdir("m", 0755), 0);
	ck_assert_int_eq(vmdk_disk_create("m/A.vmdk", &copt, &err), DESC_OK);
	ck_assert_int_eq(vmdk_base_make("m/A.vmdk", "B", &bopt, &err), DESC_OK);
	ck_assert_int_eq(vmdk_relocate("B", "B2", leaves, 1, NULL, &err), DESC_OK);
	snprintf(want, sizeof(want), "\"%s/B2/A-s001.vmdk\"", fx_dir);
	{
		char *text = fx_slurp("B2/A.vmdk");

		ck_assert_ptr_nonnull(strstr(text, want));
		free(text);
	}
	desc_findings_init(&f);
	ck_assert_int_eq(vmdk_base_verify("B2", &f, &err), DESC_OK);
	ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING, "%s",
		      fx_dump(&f));
	desc_findings_clear(&f);
}
END_TEST

/* Every allocation failure fails cleanly with DESC_E_NOMEM; a real
 * relocate failing leaves the tree as it was, then succeeds. */
START_TEST(test_alloc_failure)
{
	const char *dirs[1] = { "vms" };
	vmdk_relocate_options lopt = { .dry_run = true };
	desc_status st;
	desc_error err;

	fx_make_tree();
	fx_plant_defects();
	ck_assert_int_eq(mkdir("new", 0755), 0);
	for (unsigned long n = 1;; n++) {
		desc_test_fail_allocation(n);
		st = vmdk_relocate("vms/B", "new/B", dirs, 1, &lopt, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK)
			break;
		ck_assert_int_eq(st, DESC_E_NOMEM);
	}
	lopt.dry_run = false;
	for (unsigned long n = 1;; n++) {
		char *before = fx_slurp("vms/L1/Core.vmdk");

		desc_test_fail_allocation(n);
		st = vmdk_relocate("vms/B", "new/B", dirs, 1, &lopt, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			free(before);
			ck_assert_uint_gt(n, 20);
			break;
		}
		ck_assert_int_eq(st, DESC_E_NOMEM);
		ck_assert_int_eq(access("vms/B/Core.vmdk", F_OK), 0);
		ck_assert_int_ne(access("new/B", F_OK), 0);
		{
			char *now = fx_slurp("vms/L1/Core.vmdk");

			ck_assert_str_eq(now, before);
			free(now);
		}
		free(before);
	}
	ck_assert_int_eq(access("new/B/Core.vmdk", F_OK), 0);
}
END_TEST

static Suite *relocate_suite(void)
{
	Suite *s = suite_create("relocate");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_relocate);
	tcase_add_test(tc, test_relocate_absolute);
	tcase_add_test(tc, test_relocate_vmx);
	tcase_add_test(tc, test_alloc_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(relocate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
