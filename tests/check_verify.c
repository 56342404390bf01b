/* check_verify.c - vmdk_base_verify (vmdk/ops/verify.c): a base checked
 * against the manifest vmdk_base_make wrote (vmdk/ops/manifest.c), each
 * kind of damage with its own finding. */
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

static bool has_finding(const desc_findings *f, const char *code,
			const char *file_suffix, desc_severity sev)
{
	size_t i;

	for (i = 0; i < f->count; i++) {
		const char *file = f->items[i].file ? f->items[i].file : "";
		size_t n = strlen(file), m = strlen(file_suffix);

		if (strcmp(f->items[i].code, code) == 0 && n >= m &&
		    strcmp(file + n - m, file_suffix) == 0 &&
		    f->items[i].severity == sev)
			return true;
	}
	return false;
}

START_TEST(test_verify_findings)
{
	desc_findings f;
	desc_error err;
	int fd;

	fx_make_master();
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", NULL, &err),
			 DESC_OK);
	/* a flipped byte in the extent */
	ck_assert_int_eq(chmod("Base/Core-s001.vmdk", 0644), 0);
	fd = open("Base/Core-s001.vmdk", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "\xff", 1, 700), 1);
	close(fd);
	/* writable descriptor, extra file */
	ck_assert_int_eq(chmod("Base/Core.vmdk", 0644), 0);
	fx_write("Base/notes.txt", "hi");
	desc_findings_init(&f);
	ck_assert_int_eq(vmdk_base_verify("Base", &f, &err), DESC_OK);
	ck_assert(has_finding(&f, "base-modified", "Base/Core-s001.vmdk",
			      DESC_SEV_ERROR));
	ck_assert(has_finding(&f, "base-writable", "Base/Core-s001.vmdk",
			      DESC_SEV_ERROR));
	ck_assert(has_finding(&f, "base-writable", "Base/Core.vmdk",
			      DESC_SEV_ERROR));
	ck_assert(!has_finding(&f, "base-modified", "Base/Core.vmdk",
			       DESC_SEV_ERROR));
	ck_assert(has_finding(&f, "base-extra-file", "Base/notes.txt",
			      DESC_SEV_INFO));
	ck_assert_uint_eq(f.count, 4);
	desc_findings_clear(&f);

	/* missing file, then missing manifest */
	ck_assert_int_eq(unlink("Base/Core-s001.vmdk"), 0);
	ck_assert_int_eq(vmdk_base_verify("Base", &f, &err), DESC_OK);
	ck_assert(has_finding(&f, "base-missing", "Base/Core-s001.vmdk",
			      DESC_SEV_ERROR));
	desc_findings_clear(&f);
	ck_assert_int_eq(unlink("Base/" VMDK_MANIFEST_NAME), 0);
	ck_assert_int_eq(vmdk_base_verify("Base", &f, &err), DESC_OK);
	ck_assert(has_finding(&f, "base-no-manifest", VMDK_MANIFEST_NAME,
			      DESC_SEV_ERROR));
	desc_findings_clear(&f);
	ck_assert_int_eq(vmdk_base_verify("nowhere", &f, &err),
			 DESC_E_NOT_FOUND);
}
END_TEST

START_TEST(test_verify_allocation_failure)
{
	unsigned long n;
	bool done = false;
	desc_error err;

	fx_make_master();
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", NULL, &err),
			 DESC_OK);
	fx_write("Base/extra", "x");
	for (n = 1; n < 500 && !done; n++) {
		desc_findings f;
		desc_status st;

		desc_findings_init(&f);
		desc_test_fail_allocation(n);
		st = vmdk_base_verify("Base", &f, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			ck_assert_uint_eq(f.count, 1);
		} else {
			ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %s", n,
				      err.message);
		}
		desc_findings_clear(&f);
	}
	ck_assert(done);
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_verify_findings);
	tcase_add_test(tc, test_verify_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
