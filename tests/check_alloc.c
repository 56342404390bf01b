/* check_alloc.c - every constructor and edit fails cleanly when the Nth
 * allocation fails: DESC_E_NOMEM, nothing returned, the object passed in
 * unchanged, and (under ASan/valgrind) nothing leaked. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"

/* More allocations than any single call here makes; reaching it means
 * the call never succeeds. */
#define MAX_ATTEMPTS 10000

static const char real_descriptor[] =
	"# Disk DescriptorFile\r\n"
	"version=1\r\n"
	"encoding=\"windows-1252\"\r\n"
	"CID=fffffffe\r\n"
	"parentCID=ffffffff\r\n"
	"isNativeSnapshot=\"no\"\r\n"
	"createType=\"twoGbMaxExtentSparse\"\r\n"
	"weirdKey=\"kept with a warning\"\r\n"
	"\r\n"
	"# Extent description\r\n"
	"RW 8323072 SPARSE \"Windows 7 x64-s001.vmdk\"\r\n"
	"RW 8323072 SPARSE \"Windows 7 x64-s002.vmdk\"\r\n"
	"RW 983040 ZERO\r\n"
	"\r\n"
	"# Change Tracking File\r\n"
	"changeTrackPath=\"w-ctk.vmdk\"\r\n"
	"\r\n"
	"# The Disk Data Base \r\n"
	"#DDB\r\n"
	"\r\n"
	"ddb.adapterType = \"lsilogic\"\r\n"
	"ddb.geometry.cylinders = \"1100\"\r\n"
	"ddb.geometry.heads = \"255\"\r\n"
	"ddb.geometry.sectors = \"63\"\r\n"
	"ddb.longContentID = \"5353abfa715cbf32703815b6fffffffe\"\r\n"
	"ddb.uuid = \"60 00 C2 9d 14 4c db 60-c6 35 18 57 04 6e c0 dd\"\r\n"
	"ddb.virtualHWVersion = \"10\"\r\n"
	"\0\0\0\0\0\0\0\0";

static const char vmx[] =
	".encoding = \"UTF-8\"\n"
	"#!/usr/bin/vmware\n"
	"displayName = \"web |22one|22\"\n"
	"scsi0:0.fileName = \"web-000001.vmdk\"\n"
	"scsi0:0.present = \"TRUE\"\n"
	"ethernet0.generatedAddress = \"00:0c:29:aa:bb:cc\"\n";

static desc_descriptor *parse_real(void)
{
	desc_descriptor *desc = NULL;

	ck_assert_int_eq(desc_parse(real_descriptor, sizeof(real_descriptor) - 1,
				    "real.vmdk", &desc, NULL, NULL), DESC_OK);
	return desc;
}

static char *write_text(const desc_descriptor *desc)
{
	char *out = NULL;

	ck_assert_int_eq(desc_write(desc, &out, NULL, NULL), DESC_OK);
	return out;
}

/* Runs op with allocation N failing, for N = 1, 2, ... until it succeeds.
 * Each failure must be DESC_E_NOMEM; `check` is called after every
 * attempt with the status (the hook already disarmed). */
typedef desc_status (*attempt_fn)(void *ctx, desc_error *err);
typedef void (*check_fn)(void *ctx, desc_status st);

static unsigned long run_until_success(const char *what, attempt_fn op,
				       check_fn check, void *ctx)
{
	unsigned long n;

	for (n = 1; n < MAX_ATTEMPTS; n++) {
		desc_error err;
		desc_status st;

		desc_error_clear(&err);
		desc_test_fail_allocation(n);
		st = op(ctx, &err);
		desc_test_fail_allocation(0);
		if (check != NULL)
			check(ctx, st);
		if (st == DESC_OK)
			break;
		ck_assert_msg(st == DESC_E_NOMEM,
			      "%s: allocation %lu failed, status %d (%s)", what,
			      n, st, err.message);
		ck_assert_int_eq(err.code, DESC_E_NOMEM);
	}
	ck_assert_msg(n < MAX_ATTEMPTS, "%s never succeeded", what);
	ck_assert_msg(n > 1, "%s allocated nothing: the hook is not reached",
		      what);
	return n;
}

/* ------------------------------------------------------------------ */
/* constructors                                                        */
/* ------------------------------------------------------------------ */

struct parse_ctx {
	desc_descriptor *desc;
	desc_findings warnings;
};

static desc_status attempt_parse(void *p, desc_error *err)
{
	struct parse_ctx *ctx = p;

	return desc_parse(real_descriptor, sizeof(real_descriptor) - 1,
			  "real.vmdk", &ctx->desc, &ctx->warnings, err);
}

static void check_parse(void *p, desc_status st)
{
	struct parse_ctx *ctx = p;

	if (st != DESC_OK) {
		ck_assert_ptr_null(ctx->desc);
		ck_assert_uint_eq(ctx->warnings.count, 0);
	}
	desc_free(ctx->desc);
	ctx->desc = NULL;
	desc_findings_clear(&ctx->warnings);
}

START_TEST(test_parse)
{
	struct parse_ctx ctx = { 0 };

	run_until_success("desc_parse", attempt_parse, check_parse, &ctx);
}
END_TEST

static desc_status attempt_new(void *p, desc_error *err)
{
	desc_descriptor **out = p;

	return desc_new("monolithicSparse", 1, 0xffffffff, out, err);
}

static void check_new(void *p, desc_status st)
{
	desc_descriptor **out = p;

	if (st != DESC_OK)
		ck_assert_ptr_null(*out);
	desc_free(*out);
	*out = NULL;
}

START_TEST(test_new)
{
	desc_descriptor *out = NULL;

	run_until_success("desc_new", attempt_new, check_new, &out);
}
END_TEST

struct copy_ctx {
	desc_descriptor *src;
	desc_descriptor *copy;
	char *out;
	size_t len;
};

static desc_status attempt_clone(void *p, desc_error *err)
{
	struct copy_ctx *ctx = p;

	return desc_clone(ctx->src, &ctx->copy, err);
}

static void check_clone(void *p, desc_status st)
{
	struct copy_ctx *ctx = p;

	if (st != DESC_OK) {
		ck_assert_ptr_null(ctx->copy);
	} else {
		char *a = write_text(ctx->src), *b = write_text(ctx->copy);

		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	desc_free(ctx->copy);
	ctx->copy = NULL;
}

START_TEST(test_clone)
{
	struct copy_ctx ctx = { .src = parse_real() };

	run_until_success("desc_clone", attempt_clone, check_clone, &ctx);
	desc_free(ctx.src);
}
END_TEST

static desc_status attempt_write(void *p, desc_error *err)
{
	struct copy_ctx *ctx = p;

	return desc_write(ctx->src, &ctx->out, &ctx->len, err);
}

static void check_write(void *p, desc_status st)
{
	struct copy_ctx *ctx = p;

	if (st != DESC_OK)
		ck_assert_ptr_null(ctx->out);
	free(ctx->out);
	ctx->out = NULL;
}

START_TEST(test_write)
{
	struct copy_ctx ctx = { .src = parse_real() };

	run_until_success("desc_write", attempt_write, check_write, &ctx);
	desc_free(ctx.src);
}
END_TEST

/* ------------------------------------------------------------------ */
/* edits: a failed edit leaves the descriptor exactly as it was        */
/* ------------------------------------------------------------------ */

enum edit_kind {
	EDIT_HEADER_EXISTING, EDIT_HEADER_NEW, EDIT_DDB_EXISTING, EDIT_DDB_NEW,
	EDIT_DDB_NEW_SECTION, EDIT_REPATH, EDIT_REPATH_ZERO, EDIT_ADD_EXTENT,
	EDIT_ADD_FIRST_EXTENT, EDIT_SET_HINT, EDIT_SET_CID, EDIT_COUNT
};

struct edit_ctx {
	enum edit_kind kind;
	desc_descriptor *desc;
	char *before;
};

static desc_status attempt_edit(void *p, desc_error *err)
{
	struct edit_ctx *ctx = p;
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 4096,
			  .type = DESC_EXTENT_SPARSE, .path = "new-s003.vmdk" };

	switch (ctx->kind) {
	case EDIT_HEADER_EXISTING:
		return desc_header_set(ctx->desc, "encoding", "UTF-8", err);
	case EDIT_HEADER_NEW:
		return desc_header_set(ctx->desc, "newKey", "value", err);
	case EDIT_DDB_EXISTING:
		return desc_ddb_set(ctx->desc, "ddb.uuid", "60 00", err);
	case EDIT_DDB_NEW:
	case EDIT_DDB_NEW_SECTION:
		return desc_ddb_set(ctx->desc, "ddb.toolsVersion", "10240", err);
	case EDIT_REPATH:
		return desc_extent_set_path(ctx->desc, 0, "../base/x-s001.vmdk", err);
	case EDIT_REPATH_ZERO:
		return desc_extent_set_path(ctx->desc, 2, "zero.vmdk", err);
	case EDIT_ADD_EXTENT:
	case EDIT_ADD_FIRST_EXTENT:
		return desc_extent_add(ctx->desc, &e, err);
	case EDIT_SET_HINT:
		return desc_set_parent_hint(ctx->desc, "../base/base.vmdk", err);
	case EDIT_SET_CID:
		return desc_set_cid(ctx->desc, 0x12345678, err);
	case EDIT_COUNT:
		break;
	}
	return DESC_E_ARG;
}

static void check_edit(void *p, desc_status st)
{
	struct edit_ctx *ctx = p;
	char *now = write_text(ctx->desc);

	if (st != DESC_OK)
		ck_assert_msg(strcmp(now, ctx->before) == 0,
			      "edit %d changed the descriptor on failure",
			      ctx->kind);
	else
		ck_assert_str_ne(now, ctx->before);
	free(now);
}

START_TEST(test_edit)
{
	struct edit_ctx ctx = { .kind = (enum edit_kind)_i };
	static const char no_ddb[] =
		"# Disk DescriptorFile\nversion=1\nCID=12345678\n"
		"parentCID=ffffffff\ncreateType=\"vmfsSparse\"\n"
		"# Extent description\nRW 100 VMFSSPARSE \"d-delta.vmdk\"\n";

	if (ctx.kind == EDIT_DDB_NEW_SECTION)
		ck_assert_int_eq(desc_parse(no_ddb, strlen(no_ddb), NULL,
					    &ctx.desc, NULL, NULL), DESC_OK);
	else if (ctx.kind == EDIT_ADD_FIRST_EXTENT)
		ck_assert_int_eq(desc_new("twoGbMaxExtentSparse", 1, 2,
					  &ctx.desc, NULL), DESC_OK);
	else
		ctx.desc = parse_real();
	ctx.before = write_text(ctx.desc);
	run_until_success("edit", attempt_edit, check_edit, &ctx);
	free(ctx.before);
	desc_free(ctx.desc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* findings                                                            */
/* ------------------------------------------------------------------ */

struct findings_ctx {
	desc_descriptor *desc;
	bool portability;
	desc_findings list;
};

static desc_status attempt_findings(void *p, desc_error *err)
{
	struct findings_ctx *ctx = p;
	desc_status st = ctx->portability ?
		desc_check_portability(ctx->desc, &ctx->list) :
		desc_validate(ctx->desc, &ctx->list);

	if (st != DESC_OK)
		desc_error_set(err, st, NULL, 0, "findings failed");
	return st;
}

static void check_findings(void *p, desc_status st)
{
	struct findings_ctx *ctx = p;

	if (st == DESC_OK)
		ck_assert_uint_gt(ctx->list.count, 0);
	desc_findings_clear(&ctx->list);
}

START_TEST(test_findings)
{
	static const char messy[] =
		"#Disk Descriptor File\nversion=2\nCID=fffffffe\n"
		"parentCID=12345678\ncreateType = \"monolithicSparse\"\n"
		"\nRW 100 SPARSE \"../x.vmdk\"\n\nRDONLY 5 FLAT 'y'\n"
		"ddb.adapterType = \"scsi\"\nddb.geometry.heads = \"x\"\n";
	struct findings_ctx ctx = { .portability = _i == 1 };

	ck_assert_int_eq(desc_parse(messy, strlen(messy), "m.vmdk", &ctx.desc,
				    NULL, NULL), DESC_OK);
	run_until_success("findings", attempt_findings, check_findings, &ctx);
	desc_free(ctx.desc);
}
END_TEST

/* ------------------------------------------------------------------ */
/* dictionaries (descriptor/dict.c)                                    */
/* ------------------------------------------------------------------ */

struct dict_ctx {
	desc_dict *dict;
	desc_findings warnings;
	char *out;
};

static desc_status attempt_dict_parse(void *p, desc_error *err)
{
	struct dict_ctx *ctx = p;

	return desc_dict_parse(vmx, strlen(vmx), "web.vmx", &ctx->dict,
			       &ctx->warnings, err);
}

static void check_dict_parse(void *p, desc_status st)
{
	struct dict_ctx *ctx = p;

	if (st != DESC_OK)
		ck_assert_ptr_null(ctx->dict);
	desc_dict_free(ctx->dict);
	ctx->dict = NULL;
	desc_findings_clear(&ctx->warnings);
}

START_TEST(test_dict_parse)
{
	struct dict_ctx ctx = { 0 };

	run_until_success("desc_dict_parse", attempt_dict_parse,
			  check_dict_parse, &ctx);
}
END_TEST

static desc_status attempt_dict_set(void *p, desc_error *err)
{
	struct dict_ctx *ctx = p;
	desc_status st = desc_dict_set(ctx->dict, "displayName", "web \"two\"",
				       err);

	if (st == DESC_OK)
		st = desc_dict_set(ctx->dict, "uuid.bios", "56 4d", err);
	if (st == DESC_OK)
		st = desc_dict_write(ctx->dict, &ctx->out, NULL, err);
	return st;
}

static void check_dict_set(void *p, desc_status st)
{
	struct dict_ctx *ctx = p;

	free(ctx->out);
	ctx->out = NULL;
	desc_dict_free(ctx->dict);
	ctx->dict = NULL;
	if (st != DESC_OK)
		ck_assert_int_eq(desc_dict_parse(vmx, strlen(vmx), "web.vmx",
						 &ctx->dict, NULL, NULL),
				 DESC_OK);
}

START_TEST(test_dict_edit)
{
	struct dict_ctx ctx = { 0 };

	ck_assert_int_eq(desc_dict_parse(vmx, strlen(vmx), "web.vmx", &ctx.dict,
					 NULL, NULL), DESC_OK);
	run_until_success("desc_dict_set/write", attempt_dict_set,
			  check_dict_set, &ctx);
}
END_TEST

static Suite *alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc = tcase_create("descriptor");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_new);
	tcase_add_test(tc, test_clone);
	tcase_add_test(tc, test_write);
	tcase_add_loop_test(tc, test_edit, 0, EDIT_COUNT);
	tcase_add_loop_test(tc, test_findings, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("dict");
	tcase_add_test(tc, test_dict_parse);
	tcase_add_test(tc, test_dict_edit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(alloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
