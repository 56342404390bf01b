/* check_leaf.c - leaves (vmdk/ops/leaf.c): stamped one by one or many
 * on several threads, each refusal, clean-up on failure, and the staging
 * clean-up, over a base made in a temporary folder. */
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

static void make_base(void)
{
	desc_error err;

	fx_make_master();
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", NULL, &err),
			 DESC_OK);
	ck_assert_int_eq(mkdir("leaves", 0755), 0);
}

START_TEST(test_leaf_create)
{
	vmdk_clone_options opt = { .master_vmx = "m/Core.vmx" };
	const char *keys[] = { "guestinfo.hostname" };
	const char *values[] = { "web 01" };
	vmdk_leaf_spec spec = {
		.name = "web 01 \xc3\xa9", .folder = "leaves/web.vmwarevm",
		.memsize = "2048", .extra_count = 1, .extra_keys = keys,
		.extra_values = values,
	};
	vmdk_chain chain;
	desc_error err;
	const char *vmx;

	make_base();
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &opt, &err),
			 DESC_OK);
	ck_assert(fx_exists("leaves/web.vmwarevm/Core.vmdk"));
	ck_assert(fx_exists("leaves/web.vmwarevm/Core-000001.vmdk"));
	ck_assert(fx_exists("leaves/web.vmwarevm/web 01 \xc3\xa9.vmsd"));
	ck_assert_uint_eq(fx_mode("leaves/web.vmwarevm"), 0755);
	ck_assert(fx_no_staging("leaves"));
	ck_assert_ptr_nonnull(strstr(fx_text("leaves/web.vmwarevm/Core.vmdk"),
				     " SPARSE \"../../Base/Core-s001.vmdk\"\n"));
	vmx = fx_text("leaves/web.vmwarevm/web 01 \xc3\xa9.vmx");
	ck_assert_ptr_nonnull(strstr(vmx, "scsi0:0.fileName = \"Core-000001.vmdk\""));
	ck_assert_ptr_nonnull(strstr(vmx, "memsize = \"2048\""));
	ck_assert_ptr_nonnull(strstr(vmx, "guestinfo.hostname = \"web 01\""));
	ck_assert_ptr_null(strstr(vmx, "uuid.bios = \"56"));
	ck_assert_ptr_nonnull(strstr(fx_text("leaves/web.vmwarevm/web 01 \xc3\xa9.vmsd"),
				     "fileName = \"Core.vmdk\""));
	ck_assert_int_eq(vmdk_chain_walk("leaves/web.vmwarevm/Core-000001.vmdk",
					 &chain, &err), DESC_OK);
	ck_assert_msg(chain.status == DESC_OK, "chain: %s", chain.error.message);
	ck_assert_uint_eq(chain.count, 2);
	vmdk_chain_clear(&chain);

	/* A second leaf into the same folder is refused, nothing left. */
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &opt, &err),
			 DESC_E_EXISTS);
	ck_assert_str_eq(err.message,
			 "leaf folder 'leaves/web.vmwarevm' already exists");
	ck_assert(fx_no_staging("leaves"));
}
END_TEST

/* A master with two disks: both go into the base under their own names,
 * and each leaf gets a copy and a delta for each. */
START_TEST(test_two_disks)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_MONOLITHIC_SPARSE,
				    .size_bytes = 1u << 20 };
	vmdk_clone_options copt = { .master_vmx = "m/Core.vmx" };
	vmdk_leaf_spec spec = { .name = "two", .folder = "leaves/two" };
	vmdk_chain chain;
	desc_error err;
	const char *text;

	fx_make_master();
	ck_assert_int_eq(vmdk_disk_create("m/Data.vmdk", &opt, &err), DESC_OK);
	fx_append("m/Core.vmx", "scsi0:1.present = \"TRUE\"\n"
			     "scsi0:1.fileName = \"Data.vmdk\"\n");
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", NULL, &err),
			 DESC_OK);
	ck_assert(fx_exists("Base/Data.vmdk"));
	ck_assert(fx_exists("Base/Core-s001.vmdk"));
	ck_assert(!fx_exists("m/Data.vmdk"));
	ck_assert_int_eq(mkdir("leaves", 0755), 0);
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &copt, &err),
			 DESC_OK);
	text = fx_text("leaves/two/two.vmx");
	ck_assert_ptr_nonnull(strstr(text, "scsi0:0.fileName = \"Core-000001.vmdk\""));
	ck_assert_ptr_nonnull(strstr(text, "scsi0:1.fileName = \"Data-000001.vmdk\""));
	text = fx_text("leaves/two/two.vmsd");
	ck_assert_ptr_nonnull(strstr(text, "snapshot0.numDisks = \"2\""));
	ck_assert_ptr_nonnull(strstr(text, "snapshot0.disk1.fileName = \"Data.vmdk\""));
	ck_assert_ptr_nonnull(strstr(text, "snapshot0.disk1.node = \"scsi0:1\""));
	ck_assert_int_eq(vmdk_chain_walk("leaves/two/Data-000001.vmdk", &chain,
					 &err), DESC_OK);
	ck_assert_msg(chain.status == DESC_OK, "chain: %s", chain.error.message);
	ck_assert_uint_eq(chain.count, 2);
	vmdk_chain_clear(&chain);
}
END_TEST

START_TEST(test_leaf_bad_name)
{
	vmdk_leaf_spec spec = { .name = "a/b", .folder = "leaves/x" };
	desc_error err;

	make_base();
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, NULL, &err),
			 DESC_E_INVALID);
	ck_assert_str_eq(err.message, "bad leaf name 'a/b' (contains '/')");
	ck_assert(!fx_exists("leaves/x"));
}
END_TEST

START_TEST(test_leaf_no_parent)
{
	vmdk_leaf_spec spec = { .name = "x", .folder = "nowhere/x.vmwarevm" };
	desc_error err;

	make_base();
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, NULL, &err),
			 DESC_E_NOT_FOUND);
	ck_assert_str_eq(err.file, "nowhere");
	ck_assert_str_eq(err.message,
			 "folder does not exist (expected the folder that will hold the leaf)");
	spec.folder = "Base/x.vmwarevm";
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, NULL, &err),
			 DESC_E_REFUSED);
	ck_assert_msg(strstr(err.message, "leaf folder is inside the base folder") != NULL,
		      "%s", err.message);
	ck_assert(!fx_exists("Base/x.vmwarevm"));
	ck_assert(fx_no_staging("Base"));
}
END_TEST

START_TEST(test_leaf_dry_run)
{
	vmdk_clone_options opt = { .dry_run = true, .report = fx_collect };
	vmdk_leaf_spec spec = { .name = "x", .folder = "leaves/x.vmwarevm" };
	desc_error err;

	make_base();
	fx_nsteps = 0;
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &opt, &err),
			 DESC_OK);
	ck_assert(!fx_exists("leaves/x.vmwarevm"));
	ck_assert(fx_no_staging("leaves"));
	ck_assert_uint_eq(fx_nsteps, 6);
}
END_TEST

/* A failure anywhere while stamping leaves no leaf and no staging. */
START_TEST(test_leaf_failure_cleanup)
{
	vmdk_clone_options opt = { .master_vmx = "m/Core.vmx" };
	vmdk_leaf_spec spec = { .name = "x", .folder = "leaves/x.vmwarevm" };
	unsigned long n;
	bool done = false;

	make_base();
	for (n = 1; n < 3000 && !done; n++) {
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_leaf_create("Base/Core.vmdk", &spec, &opt, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st, err.message);
		ck_assert_msg(!fx_exists("leaves/x.vmwarevm"), "n=%lu", n);
		ck_assert_msg(fx_no_staging("leaves"), "n=%lu", n);
	}
	ck_assert(done);
	ck_assert(fx_exists("leaves/x.vmwarevm/x.vmx"));
}
END_TEST

START_TEST(test_context_many)
{
	vmdk_leaf_context *ctx = NULL;
	desc_error err;
	char folder[64], name[32];
	int i;

	make_base();
	ck_assert_int_eq(vmdk_leaf_context_new("Base/Core.vmdk", NULL, &ctx,
					       &err), DESC_OK);
	for (i = 0; i < 20; i++) {
		vmdk_leaf_spec spec = { .name = name, .folder = folder };

		snprintf(name, sizeof(name), "leaf-%02d", i);
		snprintf(folder, sizeof(folder), "leaves/%s.vmwarevm", name);
		ck_assert_int_eq(vmdk_leaf_context_create(ctx, &spec, &err),
				 DESC_OK);
	}
	vmdk_leaf_context_free(ctx);
	ck_assert(fx_exists("leaves/leaf-19.vmwarevm/leaf-19.vmx"));
	ck_assert(fx_exists("leaves/leaf-00.vmwarevm/Core-000001.vmdk"));
}
END_TEST

static char renamed[16][64];
static size_t nrenamed;

static void collect_renames(void *ctx, const char *action, const char *path)
{
	(void)ctx;
	if (strcmp(action, "rename") == 0 && nrenamed < 16)
		snprintf(renamed[nrenamed++], sizeof(renamed[0]), "%s", path);
}

/* create_many on several threads: the leaves of a sequential run, staged
 * and committed in the caller's order; at a failure the leaves before it
 * are kept and none after it. */
START_TEST(test_context_create_many)
{
	vmdk_clone_options opt;
	vmdk_leaf_context *ctx = NULL;
	vmdk_leaf_spec specs[12];
	char folders[12][64], names[12][32];
	desc_error err;
	size_t created = 99, committed = 99, i;

	make_base();
	memset(&opt, 0, sizeof(opt));
	opt.sync = VMDK_SYNC_BATCH;
	opt.report = collect_renames;
	memset(specs, 0, sizeof(specs));
	for (i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), "m-%02zu", i);
		snprintf(folders[i], sizeof(folders[i]), "leaves/%s.vmwarevm",
			 names[i]);
		specs[i].name = names[i];
		specs[i].folder = folders[i];
	}
	nrenamed = 0;
	ck_assert_int_eq(vmdk_leaf_context_new("Base/Core.vmdk", &opt, &ctx,
					       &err), DESC_OK);
	/* more threads asked for than VMDK_STAMP_JOBS_MAX: capped */
	ck_assert_int_eq(vmdk_leaf_context_create_many(ctx, specs, 12, 1000,
						       &created, &err),
			 DESC_OK);
	ck_assert_uint_eq(created, 12);
	ck_assert_int_eq(vmdk_leaf_context_commit(ctx, &committed, &err),
			 DESC_OK);
	ck_assert_uint_eq(committed, 12);
	ck_assert_uint_eq(nrenamed, 12);
	for (i = 0; i < 12; i++) {
		ck_assert_str_eq(renamed[i], folders[i]);
		ck_assert(fx_exists(folders[i]));
	}
	vmdk_leaf_context_free(ctx);

	/* the sixth leaf's folder exists: five leaves, nothing after */
	ck_assert_int_eq(system("rm -rf leaves && mkdir -p leaves/m-05.vmwarevm"),
			 0);
	nrenamed = 0;
	ck_assert_int_eq(vmdk_leaf_context_new("Base/Core.vmdk", &opt, &ctx,
					       &err), DESC_OK);
	ck_assert_int_eq(vmdk_leaf_context_create_many(ctx, specs, 12, 3,
						       &created, &err),
			 DESC_E_EXISTS);
	ck_assert_uint_eq(created, 5);
	ck_assert_str_eq(err.file, folders[5]);
	ck_assert_int_eq(vmdk_leaf_context_commit(ctx, &committed, &err),
			 DESC_OK);
	ck_assert_uint_eq(committed, 5);
	vmdk_leaf_context_free(ctx);
	for (i = 0; i < 12; i++)
		ck_assert(fx_exists(folders[i]) == (i <= 5));
	ck_assert(fx_no_staging("leaves"));
}
END_TEST

START_TEST(test_staging_cleanup)
{
	desc_error err;
	size_t removed = 9;

	ck_assert_int_eq(mkdir("d", 0755), 0);
	ck_assert_int_eq(mkdir("d/.vmdkit-tmp-a-123456", 0700), 0);
	ck_assert_int_eq(mkdir("d/.vmdkit-tmp-a-123456/sub", 0700), 0);
	fx_write("d/.vmdkit-tmp-a-123456/sub/f", "x");
	ck_assert_int_eq(chmod("d/.vmdkit-tmp-a-123456/sub/f", 0444), 0);
	ck_assert_int_eq(mkdir("d/.vmdkit-tmp-b-654321", 0700), 0);
	ck_assert_int_eq(mkdir("target", 0755), 0);
	fx_write("target/keep", "x");
	ck_assert_int_eq(symlink("../target", "d/.vmdkit-tmp-link"), 0);
	fx_write("d/.vmdkit-tmp-file", "x");
	ck_assert_int_eq(mkdir("d/other", 0755), 0);
	ck_assert_int_eq(vmdk_staging_cleanup("d", &removed, &err), DESC_OK);
	ck_assert_uint_eq(removed, 2);
	ck_assert(!fx_exists("d/.vmdkit-tmp-a-123456"));
	ck_assert(!fx_exists("d/.vmdkit-tmp-b-654321"));
	ck_assert(fx_exists("d/.vmdkit-tmp-link"));
	ck_assert(fx_exists("target/keep"));
	ck_assert(fx_exists("d/.vmdkit-tmp-file"));
	ck_assert(fx_exists("d/other"));
}
END_TEST

static Suite *leaf_suite(void)
{
	Suite *s = suite_create("leaf");
	TCase *tc = tcase_create("leaf");

	tcase_add_checked_fixture(tc, fx_setup, fx_teardown);
	tcase_add_test(tc, test_leaf_create);
	tcase_add_test(tc, test_two_disks);
	tcase_add_test(tc, test_leaf_bad_name);
	tcase_add_test(tc, test_leaf_no_parent);
	tcase_add_test(tc, test_leaf_dry_run);
	tcase_add_test(tc, test_leaf_failure_cleanup);
	tcase_add_test(tc, test_context_many);
	tcase_add_test(tc, test_context_create_many);
	tcase_add_test(tc, test_staging_cleanup);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(leaf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
