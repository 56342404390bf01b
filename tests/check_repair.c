/* check_repair.c - vmdk_repair_cid (vmdk/ops/repair.c): re-linking a
 * delta whose parent's CID changed, refused when the base's data changed,
 * on a small tree made with the library (a base in vms/B, leaves vms/L1
 * and vms/L2). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixture.h"
#include "vmdk/vmdk.h"

START_TEST(test_repair_cid)
{
	vmdk_repair_result r;
	vmdk_repair_options opt = { .dry_run = true };
	vmdk_chain chain;
	desc_error err;

	fx_make_tree();
	/* Clean: nothing to do. */
	ck_assert_int_eq(vmdk_repair_cid("vms/L1/Core-000001.vmdk", NULL, &r, &err),
			 DESC_OK);
	ck_assert(!r.repaired);
	fx_replace_line("vms/L1/Core.vmdk", "CID=", "CID=0badc1d0");
	ck_assert_int_eq(vmdk_repair_cid("vms/L1/Core-000001.vmdk", &opt, &r, &err),
			 DESC_OK);
	ck_assert(r.repaired);
	ck_assert_uint_eq(r.new_parent_cid, 0x0badc1d0u);
	ck_assert_int_eq(vmdk_chain_walk("vms/L1/Core-000001.vmdk", &chain, &err),
			 DESC_OK);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN); /* dry run */
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(vmdk_repair_cid("vms/L1/Core-000001.vmdk", NULL, &r, &err),
			 DESC_OK);
	ck_assert(r.repaired && !r.forced);
	ck_assert_int_eq(vmdk_chain_walk("vms/L1/Core-000001.vmdk", &chain, &err),
			 DESC_OK);
	ck_assert_int_eq(chain.status, DESC_OK);
	vmdk_chain_clear(&chain);
	/* The base changed: refused, then forced. */
	fx_modify_base("vms/B/Core-s001.vmdk");
	fx_replace_line("vms/L2/Core.vmdk", "CID=", "CID=0badc1d1");
	ck_assert_int_eq(vmdk_repair_cid("vms/L2/Core-000001.vmdk", NULL, &r, &err),
			 DESC_E_REFUSED);
	ck_assert_ptr_nonnull(strstr(err.message, "does not match its manifest"));
	opt.dry_run = false;
	opt.force = true;
	ck_assert_int_eq(vmdk_repair_cid("vms/L2/Core-000001.vmdk", &opt, &r, &err),
			 DESC_OK);
	ck_assert(r.repaired && r.forced);
}
END_TEST

/* Every allocation failure fails cleanly with DESC_E_NOMEM; a changed base
 * is never taken as proven, whichever allocation fails (a reason that
 * cannot be allocated is no proof). */
START_TEST(test_alloc_failure)
{
	vmdk_repair_options ropt = { .dry_run = true };
	vmdk_repair_result r;
	desc_status st;
	desc_error err;

	fx_make_tree();
	fx_plant_defects();
	for (unsigned long n = 1;; n++) {
		desc_test_fail_allocation(n);
		st = vmdk_repair_cid("vms/L1/Core-000001.vmdk", &ropt, &r, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			ck_assert(r.repaired);
			break;
		}
		ck_assert_int_eq(st, DESC_E_NOMEM);
	}
	fx_modify_base("vms/B/Core-s001.vmdk");
	fx_replace_line("vms/L2/Core.vmdk", "CID=", "CID=0badc1d2");
	ropt.dry_run = false;
	for (unsigned long n = 1;; n++) {
		desc_test_fail_allocation(n);
		st = vmdk_repair_cid("vms/L2/Core-000001.vmdk", &ropt, &r, &err);
		desc_test_fail_allocation(0);
		ck_assert_msg(st == DESC_E_NOMEM || st == DESC_E_REFUSED,
			      "allocation %lu: status %d", n, (int)st);
		ck_assert(!r.repaired);
		if (st == DESC_E_REFUSED)
			break;
	}
}
END_TEST

static Suite *repair_suite(void)
{
	Suite *s = suite_create("repair");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_repair_cid);
	tcase_add_test(tc, test_alloc_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(repair_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
