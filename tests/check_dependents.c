/* check_dependents.c - vmdk_dependents and vmdk_vm_describe
 * (vmdk/ops/dependents.c) on a small tree made with the library (a base in
 * vms/B, leaves vms/L1 and vms/L2). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixture.h"
#include "vmdk/vmdk.h"

START_TEST(test_dependents)
{
	const char *dirs[2] = { "vms", "vms/L1" };
	vmdk_dependent_list l;
	desc_error err;

	fx_make_tree();
	ck_assert_int_eq(vmdk_dependents("vms/B", dirs, 2, &l, &err), DESC_OK);
	ck_assert_uint_eq(l.count, 6);
	ck_assert_str_eq(l.items[0].path, "vms/L1/Core-000001.vmdk");
	ck_assert_int_eq(l.items[0].kind, VMDK_DEPENDENT_DELTA);
	ck_assert_uint_eq(l.items[0].depth, 2);
	ck_assert_str_eq(l.items[1].path, "vms/L1/Core.vmdk");
	ck_assert_int_eq(l.items[1].kind, VMDK_DEPENDENT_DESCRIPTOR);
	ck_assert_uint_eq(l.items[1].depth, 1);
	ck_assert_str_eq(l.items[2].path, "vms/L1/L1.vmx");
	ck_assert_int_eq(l.items[2].kind, VMDK_DEPENDENT_VMX);
	vmdk_dependents_clear(&l);
	/* By descriptor, and a folder with no leaves. */
	ck_assert_int_eq(vmdk_dependents("vms/B/Core.vmdk", dirs + 1, 1, &l, &err),
			 DESC_OK);
	ck_assert_uint_eq(l.count, 3);
	vmdk_dependents_clear(&l);
	ck_assert_int_eq(vmdk_dependents("vms/B", (const char *[]){ "m" }, 1,
					 &l, &err), DESC_OK);
	ck_assert_uint_eq(l.count, 0);
	vmdk_dependents_clear(&l);
}
END_TEST

START_TEST(test_describe)
{
	vmdk_vm_description d;
	desc_error err;

	fx_make_tree();
	ck_assert_int_eq(vmdk_vm_describe("vms/L1/L1.vmx", &d, &err), DESC_OK);
	ck_assert(d.linked_clone);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_uint_eq(d.disks[0].depth, 2);
	ck_assert_str_eq(d.disks[0].node, "scsi0:0");
	ck_assert_ptr_nonnull(strstr(d.disks[0].base_dir, "/vms/B"));
	vmdk_vm_description_clear(&d);
	fx_write("m/Full.vmx", "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"../vms/B/Core.vmdk\"\n");
	ck_assert_int_eq(vmdk_vm_describe("m/Full.vmx", &d, &err), DESC_OK);
	ck_assert_uint_eq(d.disks[0].depth, 1);
	vmdk_vm_description_clear(&d);
	/* A full VM: its disk lives in its own folder. */
	{
		vmdk_create_options copt = {
			.type = VMDK_CREATE_MONOLITHIC_SPARSE,
			.size_bytes = 1u << 20 };

		ck_assert_int_eq(vmdk_disk_create("m/Own.vmdk", &copt, &err),
				 DESC_OK);
	}
	fx_write("m/Own.vmx", "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"Own.vmdk\"\n");
	ck_assert_int_eq(vmdk_vm_describe("m/Own.vmx", &d, &err), DESC_OK);
	ck_assert_uint_eq(d.count, 1);
	ck_assert(!d.linked_clone);
	vmdk_vm_description_clear(&d);
}
END_TEST

/* Every allocation failure fails the call cleanly with DESC_E_NOMEM and
 * an empty result, or it succeeds with the result of a run without
 * failures. */
START_TEST(test_alloc_failure)
{
	const char *dirs[1] = { "vms" };
	vmdk_dependent_list l;
	vmdk_vm_description d;
	size_t want_deps = 0;
	desc_status st;
	desc_error err;

	fx_make_tree();
	fx_plant_defects();
	ck_assert_int_eq(vmdk_dependents("vms/B", dirs, 1, &l, &err), DESC_OK);
	want_deps = l.count;
	vmdk_dependents_clear(&l);
	for (unsigned long n = 1;; n++) {
		desc_test_fail_allocation(n);
		st = vmdk_dependents("vms/B", dirs, 1, &l, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			ck_assert_uint_eq(l.count, want_deps);
			vmdk_dependents_clear(&l);
			break;
		}
		ck_assert_int_eq(st, DESC_E_NOMEM);
		ck_assert_uint_eq(l.count, 0);
	}
	for (unsigned long n = 1;; n++) {
		desc_test_fail_allocation(n);
		st = vmdk_vm_describe("vms/L1/L1.vmx", &d, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			ck_assert(d.linked_clone);
			vmdk_vm_description_clear(&d);
			break;
		}
		ck_assert_int_eq(st, DESC_E_NOMEM);
	}
}
END_TEST

static Suite *dependents_suite(void)
{
	Suite *s = suite_create("dependents");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_dependents);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_alloc_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dependents_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
