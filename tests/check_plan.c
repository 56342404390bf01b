/* check_plan.c - clone plan loading: good plan and every error, exact
 * messages and lines. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk/vmdk.h"

static char *fixture(const char *name)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/tests/data/plan/%s", src ? src : ".",
		 name);
	return buf;
}

START_TEST(test_good_plan)
{
	vmdk_plan *plan = NULL;
	desc_error err;
	char *path = fixture("good.yaml");
	char want[4200];
	const vmdk_leaf_spec *l;

	ck_assert_int_eq(vmdk_plan_load(path, &plan, &err), DESC_OK);
	ck_assert_ptr_nonnull(plan);
	snprintf(want, sizeof(want), "%s",  path);
	*strrchr(want, '/') = '\0';
	strncat(want, "/../Virtual Machines/8.10 Core/8.10 Core.vmdk",
		sizeof(want) - strlen(want) - 1);
	ck_assert_str_eq(plan->base, want);
	ck_assert_str_eq(plan->vmx, "/abs/8.10 Core.vmwarevm/8.10 Core.vmx");
	ck_assert_uint_eq(plan->count, 3);

	l = &plan->leaves[0];
	ck_assert_str_eq(l->name, "web-01");
	ck_assert_str_eq(l->folder, "web-01.vmwarevm");
	ck_assert_str_eq(l->memsize, "2048");
	ck_assert_str_eq(l->numvcpus, "2");
	ck_assert_uint_eq(l->line, 5);
	ck_assert_uint_eq(l->extra_count, 2);
	ck_assert_str_eq(l->extra_keys[0], "guestinfo.hostname");
	ck_assert_str_eq(l->extra_values[0], "web-01");
	ck_assert_str_eq(l->extra_keys[1], "annotation");
	ck_assert_str_eq(l->extra_values[1], "built by vmdkit");

	l = &plan->leaves[1];
	ck_assert_str_eq(l->name, "8.10 Leaf 2");
	ck_assert_str_eq(l->folder, "8.10 Leaf 2.vmwarevm");
	ck_assert_ptr_null(l->memsize);
	ck_assert_ptr_null(l->numvcpus);
	ck_assert_uint_eq(l->extra_count, 0);
	ck_assert_uint_eq(l->line, 12);

	l = &plan->leaves[2];
	ck_assert_str_eq(l->name, "\xc3\x9c" "n\xc3\xaf" "code leaf");
	ck_assert_str_eq(l->folder, "\xc3\x9c" "n\xc3\xaf" "code leaf.vmwarevm");
	ck_assert_str_eq(l->memsize, "512");
	vmdk_plan_free(plan);
}
END_TEST

static const struct bad_case {
	const char *file;
	desc_status code;
	unsigned line;
	const char *message;
} bad_cases[] = {
	{ "unknown-key.yaml", DESC_E_INVALID, 3,
	  "unknown key 'memroy' (expected name, folder, memory, cpus, vmx)" },
	{ "unknown-top-key.yaml", DESC_E_INVALID, 2,
	  "unknown key 'leafs' (expected base, vmx, leaves)" },
	{ "duplicate-name.yaml", DESC_E_INVALID, 4,
	  "duplicate leaf name 'web-01' (first at line 2)" },
	{ "duplicate-folder.yaml", DESC_E_INVALID, 4,
	  "duplicate leaf folder './dir/./same.vmwarevm/' (first at line 2)" },
	{ "bad-yaml.yaml", DESC_E_SYNTAX, 4,
	  "did not find expected ',' or ']' (while parsing a flow sequence)" },
	{ "bad-memory.yaml", DESC_E_INVALID, 5,
	  "bad memory '2k' (expected a positive whole number of MiB)" },
	{ "zero-cpus.yaml", DESC_E_INVALID, 3,
	  "bad cpus '0' (expected a positive whole number)" },
	{ "empty-leaves.yaml", DESC_E_INVALID, 3,
	  "'leaves' is empty (expected at least one leaf)" },
	{ "list-name.yaml", DESC_E_INVALID, 3,
	  "'name' is a sequence (expected a scalar)" },
	{ "no-name.yaml", DESC_E_INVALID, 2,
	  "leaf has no 'name' (expected name, folder, memory, cpus, vmx)" },
	{ "no-leaves.yaml", DESC_E_INVALID, 1,
	  "plan has no 'leaves' (expected a sequence of leaves)" },
	{ "empty.yaml", DESC_E_INVALID, 0,
	  "empty plan (expected a mapping with 'leaves')" },
	{ "slash-name.yaml", DESC_E_INVALID, 2,
	  "bad leaf name '../evil' (contains '/')" },
	{ "dotdot-folder.yaml", DESC_E_INVALID, 3,
	  "bad leaf folder '../outside' (contains '..' (expected a path inside LEAFDIR))" },
	{ "bad-vmx-key.yaml", DESC_E_INVALID, 4,
	  "bad .vmx key 'bad key' (expected letters, digits, '.', ':', '_', '-')" },
	{ "duplicate-key.yaml", DESC_E_INVALID, 4,
	  "duplicate key 'memory' (first at line 3)" },
	{ "two-docs.yaml", DESC_E_INVALID, 4,
	  "second YAML document (expected one plan per file)" },
};

START_TEST(test_bad_plan)
{
	const struct bad_case *c = &bad_cases[_i];
	vmdk_plan *plan = (vmdk_plan *)1;
	desc_error err;
	char *path = fixture(c->file);

	desc_error_clear(&err);
	ck_assert_int_eq(vmdk_plan_load(path, &plan, &err), c->code);
	ck_assert_ptr_null(plan);
	ck_assert_str_eq(err.file, path);
	ck_assert_str_eq(err.message, c->message);
	ck_assert_uint_eq(err.line, c->line);
}
END_TEST

START_TEST(test_missing_file)
{
	vmdk_plan *plan = NULL;
	desc_error err;

	ck_assert_int_eq(vmdk_plan_load(fixture("no-such-plan.yaml"), &plan,
					&err), DESC_E_NOT_FOUND);
	ck_assert_str_eq(err.message, "cannot open plan: No such file or directory");
}
END_TEST

/* Every allocation inside the loader can fail; each must fail cleanly
 * (ASan/valgrind catch leaks) and say so. */
START_TEST(test_allocation_failure)
{
	unsigned long n;
	int ok = 0;

	for (n = 1; n < 200 && !ok; n++) {
		vmdk_plan *plan = NULL;
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_plan_load(fixture("good.yaml"), &plan, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			ok = 1;
			vmdk_plan_free(plan);
		} else {
			ck_assert_int_eq(st, DESC_E_NOMEM);
			ck_assert_ptr_null(plan);
		}
	}
	ck_assert_int_eq(ok, 1);
	ck_assert_uint_gt(n, 5);
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, test_good_plan);
	tcase_add_loop_test(tc, test_bad_plan, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(plan_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
