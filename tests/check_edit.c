/* check_edit.c - descriptor/edit.c: every edit changes only the lines it
 * touches, and what an edit writes parses back as itself (the round-trip
 * regressions were found by tests/fuzz/fuzz_descriptor). */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"
#include "tests/text_fixture.h"

/* ------------------------------------------------------------------ */
/* edits: each changes only the lines it touches                       */
/* ------------------------------------------------------------------ */

#define S_HEAD \
	"# Disk DescriptorFile\n" \
	"version=1\n" \
	"encoding=\"UTF-8\"\n" \
	"CID=8c808111\n" \
	"parentCID=ffffffff\n" \
	"createType=\"twoGbMaxExtentSparse\"\n"
#define S_EXTS \
	"\n" \
	"# Extent description\n" \
	"RW 4192256 SPARSE \"8.10 Core-s001.vmdk\"\n" \
	"RW 20480 ZERO\n"
#define S_DDB1 \
	"\n" \
	"# The Disk Data Base \n" \
	"#DDB\n" \
	"\n" \
	"ddb.virtualHWVersion = \"7\"\n" \
	"ddb.uuid = \"60 00 C2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n"
#define S_DDB2 \
	"ddb.geometry.cylinders = \"261\"\n" \
	"ddb.geometry.heads = \"255\"\n" \
	"ddb.geometry.sectors = \"63\"\n" \
	"ddb.adapterType = \"lsilogic\"\n"

enum edit_op {
	E_DDB_SET, E_DDB_UNSET, E_HEADER_SET, E_HEADER_UNSET, E_REPATH,
	E_ADD_SPARSE, E_ADD_ZERO, E_REMOVE, E_SET_CID, E_SET_PARENT_CID,
	E_SET_HINT,
};

struct edit_case {
	const char *name;
	const char *input;
	enum edit_op op;
	const char *key;  /* or the index for extent ops */
	const char *value;
	size_t result;    /* for unset: lines removed */
	const char *want;
};

static const struct edit_case edit_cases[] = {
	{ "ddb-set-existing", sample, E_DDB_SET, "ddb.virtualHWVersion", "19", 0,
	  S_HEAD S_EXTS "\n# The Disk Data Base \n#DDB\n\n"
	  "ddb.virtualHWVersion = \"19\"\n"
	  "ddb.uuid = \"60 00 C2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n" S_DDB2 },
	{ "ddb-set-case-insensitive", sample, E_DDB_SET, "DDB.ADAPTERTYPE", "pvscsi", 0,
	  S_HEAD S_EXTS S_DDB1
	  "ddb.geometry.cylinders = \"261\"\nddb.geometry.heads = \"255\"\n"
	  "ddb.geometry.sectors = \"63\"\nddb.adapterType = \"pvscsi\"\n" },
	{ "ddb-set-new", sample, E_DDB_SET, "ddb.toolsVersion", "12448", 0,
	  S_HEAD S_EXTS S_DDB1 S_DDB2 "ddb.toolsVersion = \"12448\"\n" },
	{ "ddb-unset", sample, E_DDB_UNSET, "ddb.uuid", NULL, 1,
	  S_HEAD S_EXTS "\n# The Disk Data Base \n#DDB\n\n"
	  "ddb.virtualHWVersion = \"7\"\n" S_DDB2 },
	{ "ddb-unset-missing", sample, E_DDB_UNSET, "ddb.nothing", NULL, 0, sample },
	{ "ddb-set-keeps-style", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.adapterType=\"ide\" \n",
	  E_DDB_SET, "ddb.adapterType", "lsilogic", 0,
	  HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.adapterType=\"lsilogic\" \n" },
	{ "ddb-set-without-section", HDR "RW 1 SPARSE \"d\"\n", E_DDB_SET,
	  "ddb.adapterType", "ide", 0,
	  HDR "RW 1 SPARSE \"d\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n" },
	{ "ddb-set-empty-section", HDR "RW 1 SPARSE \"d\"\n\n# The Disk Data Base\n#DDB\n\n",
	  E_DDB_SET, "ddb.adapterType", "ide", 0,
	  HDR "RW 1 SPARSE \"d\"\n\n# The Disk Data Base\n#DDB\n\nddb.adapterType = \"ide\"\n" },
	{ "ddb-set-no-final-newline", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"",
	  E_DDB_SET, "ddb.b", "2", 0,
	  HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"\nddb.b = \"2\"" },
	{ "ddb-unset-last-no-final-newline", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"\nddb.b = \"2\"",
	  E_DDB_UNSET, "ddb.b", NULL, 1,
	  HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"" },
	{ "ddb-unset-duplicates", HDR "RW 1 SPARSE \"d\"\n#DDB\nddb.a = \"1\"\nddb.A = \"2\"\n",
	  E_DDB_UNSET, "ddb.a", NULL, 2, HDR "RW 1 SPARSE \"d\"\n#DDB\n" },
	{ "header-set-existing", sample, E_HEADER_SET, "encoding", "windows-1252", 0,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"windows-1252\"\nCID=8c808111\n"
	  "parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "header-set-new", sample, E_HEADER_SET, "isNativeSnapshot", "no", 0,
	  S_HEAD "isNativeSnapshot=\"no\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "header-set-keeps-spacing", "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType = \"vmfs\"\n# Extent description\nRW 1 VMFS \"f\"\n",
	  E_HEADER_SET, "createType", "vmfsThin", 0,
	  "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType = \"vmfsThin\"\n# Extent description\nRW 1 VMFS \"f\"\n" },
	{ "header-set-bare-stays-bare", "# Disk DescriptorFile\nversion=1\nencoding=UTF-8\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfs\n# Extent description\nRW 1 VMFS \"f\"\n",
	  E_HEADER_SET, "createType", "vmfsThin", 0,
	  "# Disk DescriptorFile\nversion=1\nencoding=UTF-8\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfsThin\n# Extent description\nRW 1 VMFS \"f\"\n" },
	{ "header-set-bare-needs-quotes", "# Disk DescriptorFile\nversion=1\nencoding=UTF-8\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfs\n# Extent description\nRW 1 VMFS \"f\"\n",
	  E_HEADER_SET, "encoding", "windows 1252", 0,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"windows 1252\"\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=vmfs\n# Extent description\nRW 1 VMFS \"f\"\n" },
	{ "header-unset", sample, E_HEADER_UNSET, "encoding", NULL, 1,
	  "# Disk DescriptorFile\nversion=1\nCID=8c808111\n"
	  "parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "set-cid", sample, E_SET_CID, NULL, NULL, 0xdeadbeef,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=deadbeef\n"
	  "parentCID=ffffffff\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "set-parent-cid", sample, E_SET_PARENT_CID, NULL, NULL, 0x0000beef,
	  "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\nCID=8c808111\n"
	  "parentCID=0000beef\ncreateType=\"twoGbMaxExtentSparse\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "set-hint", sample, E_SET_HINT, NULL, "../base/8.10 Core.vmdk", 0,
	  S_HEAD "parentFileNameHint=\"../base/8.10 Core.vmdk\"\n" S_EXTS S_DDB1 S_DDB2 },
	{ "remove-hint", S_HEAD "parentFileNameHint=\"p.vmdk\"\n" S_EXTS S_DDB1 S_DDB2,
	  E_SET_HINT, NULL, NULL, 0, sample },
	{ "repath", sample, E_REPATH, "0", "../base/8.10 Core-s001.vmdk", 0,
	  S_HEAD "\n# Extent description\n"
	  "RW 4192256 SPARSE \"../base/8.10 Core-s001.vmdk\"\nRW 20480 ZERO\n" S_DDB1 S_DDB2 },
	{ "repath-keeps-offset-and-spacing", HDR "RW  100\tFLAT \"old\"  7 extra\n",
	  E_REPATH, "0", "new name", 0, HDR "RW  100\tFLAT \"new name\"  7 extra\n" },
	{ "repath-single-quoted", HDR "RW 100 SPARSE 'old.vmdk' \n", E_REPATH, "0",
	  "new.vmdk", 0, HDR "RW 100 SPARSE 'new.vmdk' \n" },
	{ "repath-single-quoted-apostrophe", HDR "RW 100 SPARSE 'old.vmdk' \n", E_REPATH, "0",
	  "it's.vmdk", 0, HDR "RW 100 SPARSE \"it's.vmdk\"\n" },
	{ "repath-zero-gets-name", sample, E_REPATH, "1", "z.vmdk", 0,
	  S_HEAD "\n# Extent description\n"
	  "RW 4192256 SPARSE \"8.10 Core-s001.vmdk\"\nRW 20480 ZERO \"z.vmdk\"\n" S_DDB1 S_DDB2 },
	{ "add-extent", sample, E_ADD_SPARSE, NULL, "8.10 Core-s002.vmdk", 0,
	  S_HEAD S_EXTS "RW 2048 SPARSE \"8.10 Core-s002.vmdk\"\n" S_DDB1 S_DDB2 },
	{ "add-zero-extent", sample, E_ADD_ZERO, NULL, NULL, 0,
	  S_HEAD S_EXTS "RW 2048 ZERO\n" S_DDB1 S_DDB2 },
	{ "add-extent-blank-before-first", "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=\"fullDevice\"\n\nRW 1 FLAT \"/dev/sda\" 0\n\n#DDB\n",
	  E_ADD_SPARSE, NULL, "s.vmdk", 0,
	  "# Disk DescriptorFile\nversion=1\nCID=12345678\n"
	  "parentCID=ffffffff\ncreateType=\"fullDevice\"\n\nRW 1 FLAT \"/dev/sda\" 0\n"
	  "RW 2048 SPARSE \"s.vmdk\"\n\n#DDB\n" },
	{ "remove-extent", sample, E_REMOVE, "0", NULL, 0,
	  S_HEAD "\n# Extent description\nRW 20480 ZERO\n" S_DDB1 S_DDB2 },
	{ "crlf-edits-keep-crlf",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n# The Disk Data Base\r\n#DDB\r\n\r\n"
	  "ddb.a = \"1\"\r\n",
	  E_DDB_SET, "ddb.b", "2", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n# The Disk Data Base\r\n#DDB\r\n\r\n"
	  "ddb.a = \"1\"\r\nddb.b = \"2\"\r\n" },
	{ "crlf-add-extent",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n",
	  E_ADD_SPARSE, NULL, "e.vmdk", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\nRW 2048 SPARSE \"e.vmdk\"\r\n" },
	{ "crlf-set-hint-and-repath",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n",
	  E_SET_HINT, NULL, "p.vmdk", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\nparentFileNameHint=\"p.vmdk\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n" },
	{ "crlf-rewrite-existing-line",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n#DDB\r\nddb.a = \"1\"\r\nddb.z = \"9\"\r\n",
	  E_DDB_SET, "ddb.a", "2", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n#DDB\r\nddb.a = \"2\"\r\nddb.z = \"9\"\r\n" },
	{ "crlf-repath",
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"d.vmdk\"\r\n\r\n#DDB\r\n",
	  E_REPATH, "0", "../base/d.vmdk", 0,
	  "# Disk DescriptorFile\r\nversion=1\r\nCID=12345678\r\nparentCID=ffffffff\r\n"
	  "createType=\"monolithicSparse\"\r\n\r\n# Extent description\r\n"
	  "RW 100 SPARSE \"../base/d.vmdk\"\r\n\r\n#DDB\r\n" },
	{ "mixed-endings-line-keeps-its-own",
	  "# Disk DescriptorFile\nversion=1\nCID=12345678\r\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n# Extent description\nRW 1 SPARSE \"d\"\n",
	  E_SET_CID, NULL, NULL, 0xabcdef01,
	  "# Disk DescriptorFile\nversion=1\nCID=abcdef01\r\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n# Extent description\nRW 1 SPARSE \"d\"\n" },
	{ "bom-kept", "\xef\xbb\xbf" HDR "RW 1 SPARSE \"d\"\n", E_SET_CID, NULL, NULL, 1,
	  "\xef\xbb\xbf# Disk DescriptorFile\nversion=1\nCID=00000001\nparentCID=ffffffff\n"
	  "createType=\"monolithicSparse\"\n\n# Extent description\nRW 1 SPARSE \"d\"\n" },
};

START_TEST(test_edit)
{
	const struct edit_case *c = &edit_cases[_i];
	desc_descriptor *desc = parse_ok(c->input, NULL);
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 2048 };
	desc_error err;
	desc_status st = DESC_OK;
	size_t removed = 0;
	char *out;

	desc_error_clear(&err);
	switch (c->op) {
	case E_DDB_SET:
		st = desc_ddb_set(desc, c->key, c->value, &err);
		break;
	case E_DDB_UNSET:
		removed = desc_ddb_unset(desc, c->key);
		break;
	case E_HEADER_SET:
		st = desc_header_set(desc, c->key, c->value, &err);
		break;
	case E_HEADER_UNSET:
		removed = desc_header_unset(desc, c->key);
		break;
	case E_REPATH:
		st = desc_extent_set_path(desc, (size_t)strtoul(c->key, NULL, 10),
					  c->value, &err);
		break;
	case E_ADD_SPARSE:
		e.type = DESC_EXTENT_SPARSE;
		e.path = c->value;
		st = desc_extent_add(desc, &e, &err);
		break;
	case E_ADD_ZERO:
		e.type = DESC_EXTENT_ZERO;
		st = desc_extent_add(desc, &e, &err);
		break;
	case E_REMOVE:
		st = desc_extent_remove(desc, (size_t)strtoul(c->key, NULL, 10),
					&err);
		break;
	case E_SET_CID:
		st = desc_set_cid(desc, (uint32_t)c->result, &err);
		break;
	case E_SET_PARENT_CID:
		st = desc_set_parent_cid(desc, (uint32_t)c->result, &err);
		break;
	case E_SET_HINT:
		st = desc_set_parent_hint(desc, c->value, &err);
		break;
	}
	ck_assert_msg(st == DESC_OK, "%s: %s", c->name, err.message);
	if (c->op == E_DDB_UNSET || c->op == E_HEADER_UNSET)
		ck_assert_uint_eq(removed, c->result);
	out = write_ok(desc);
	ck_assert_msg(strcmp(out, c->want) == 0, "%s:\ngot:\n[%s]\nwant:\n[%s]",
		      c->name, out, c->want);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_edit_accessors)
{
	desc_descriptor *desc = parse_ok(sample, NULL);
	desc_extent e = { .access = DESC_ACCESS_RDONLY, .sectors = 7,
			  .type = DESC_EXTENT_FLAT, .path = "f-flat.vmdk",
			  .has_offset = true, .offset = 9, .line = 42 };
	const desc_extent *got;
	uint32_t cid;

	ck_assert_int_eq(desc_extent_add(desc, &e, NULL), DESC_OK);
	got = desc_extent_at(desc, 2);
	ck_assert_int_eq(got->access, DESC_ACCESS_RDONLY);
	ck_assert_str_eq(got->path, "f-flat.vmdk");
	ck_assert_uint_eq(got->offset, 9);
	ck_assert_uint_eq(got->line, 0);
	ck_assert_int_eq(desc_extent_set_path(desc, 0, "x y.vmdk", NULL), DESC_OK);
	ck_assert_str_eq(desc_extent_at(desc, 0)->path, "x y.vmdk");
	ck_assert_uint_eq(desc_extent_at(desc, 0)->line, 0);
	ck_assert_uint_eq(desc_extent_at(desc, 0)->sectors, 4192256);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.uuid", "1 2", NULL), DESC_OK);
	ck_assert_str_eq(desc_ddb_get(desc, "ddb.uuid"), "1 2");
	ck_assert_int_eq(desc_set_cid(desc, 0xa, NULL), DESC_OK);
	ck_assert(desc_cid(desc, &cid));
	ck_assert_uint_eq(cid, 0xa);
	/* qemu writes CIDs without leading zeros. */
	ck_assert_int_eq(desc_header_set(desc, "CID", "abc", NULL), DESC_OK);
	ck_assert_str_eq(desc_header_get(desc, "CID"), "abc");
	ck_assert(desc_cid(desc, &cid));
	ck_assert_uint_eq(cid, 0xabc);
	ck_assert_int_eq(desc_header_set(desc, "CID", "123456789", NULL), DESC_OK);
	ck_assert(!desc_cid(desc, &cid)); /* more than 32 bits */
	ck_assert_uint_eq(desc_header_unset(desc, "CID"), 1);
	ck_assert(!desc_cid(desc, &cid));
	desc_free(desc);
}
END_TEST

/* Refused edits fail with the right status and change nothing. */
START_TEST(test_edit_refused)
{
	desc_descriptor *desc = parse_ok(sample, NULL);
	desc_extent zero_offset = { .type = DESC_EXTENT_ZERO, .sectors = 1,
				    .has_offset = true };
	desc_extent vmfs_offset = { .type = DESC_EXTENT_VMFS, .sectors = 1,
				    .path = "v", .has_offset = true };
	desc_extent no_path = { .type = DESC_EXTENT_SPARSE, .sectors = 1 };
	desc_extent quote = { .type = DESC_EXTENT_SPARSE, .sectors = 1,
			      .path = "a\"b" };
	desc_error err;
	char *out;

	desc_error_clear(&err);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.uuid", "a\"b", &err), DESC_E_ARG);
	ck_assert_str_eq(err.message,
			 "value for 'ddb.uuid' cannot contain a double quote or a line break");
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.x", "a\nb", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_ddb_set(desc, "bad key", "v", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.x", NULL, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_header_set(desc, "CID", "xyz", &err), DESC_E_ARG);
	ck_assert_str_eq(err.message,
			 "CID 'xyz' is not hexadecimal (expected 8 hex digits such as 8c808111)");
	ck_assert_int_eq(desc_header_set(desc, "ddb.uuid", "x", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_header_set(desc, "=", "x", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_set_parent_hint(desc, "", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_set_path(desc, 2, "x", &err), DESC_E_NOT_FOUND);
	ck_assert_str_eq(err.message, "no extent 2 (the descriptor has 2)");
	ck_assert_int_eq(desc_extent_set_path(desc, 0, NULL, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_set_path(desc, 0, "", NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_remove(desc, 9, NULL), DESC_E_NOT_FOUND);
	ck_assert_int_eq(desc_extent_add(desc, &zero_offset, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, &vmfs_offset, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, &no_path, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, &quote, NULL), DESC_E_ARG);
	ck_assert_int_eq(desc_extent_add(desc, NULL, NULL), DESC_E_ARG);
	out = write_ok(desc);
	assert_text(out, sample);
	free(out);
	desc_free(desc);
}
END_TEST

START_TEST(test_new_template)
{
	desc_descriptor *desc = NULL, *again;
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 8192,
			  .type = DESC_EXTENT_SPARSE };
	desc_error err;
	char *out;

	desc_error_clear(&err);
	ck_assert_int_eq(desc_new("monolithicSparse", 0x0a1b2c3d, 0xffffffff,
				  &desc, &err), DESC_OK);
	ck_assert_ptr_null(desc_name(desc));
	out = write_ok(desc);
	assert_text(out,
		    "# Disk DescriptorFile\n"
		    "version=1\n"
		    "encoding=\"UTF-8\"\n"
		    "CID=0a1b2c3d\n"
		    "parentCID=ffffffff\n"
		    "createType=\"monolithicSparse\"\n"
		    "\n"
		    "# Extent description\n"
		    "\n"
		    "# The Disk Data Base\n"
		    "#DDB\n"
		    "\n");
	free(out);
	ck_assert_uint_eq(desc_extent_count(desc), 0);
	ck_assert_str_eq(desc_create_type(desc), "monolithicSparse");

	ck_assert_int_eq(desc_ddb_set(desc, "ddb.virtualHWVersion", "4", NULL), DESC_OK);
	e.path = "leaf-s001.vmdk";
	ck_assert_int_eq(desc_extent_add(desc, &e, NULL), DESC_OK);
	e.path = "leaf-s002.vmdk";
	ck_assert_int_eq(desc_extent_add(desc, &e, NULL), DESC_OK);
	ck_assert_int_eq(desc_set_parent_hint(desc, "../base/base.vmdk", NULL), DESC_OK);
	ck_assert_int_eq(desc_ddb_set(desc, "ddb.adapterType", "lsilogic", NULL), DESC_OK);
	out = write_ok(desc);
	assert_text(out,
		    "# Disk DescriptorFile\n"
		    "version=1\n"
		    "encoding=\"UTF-8\"\n"
		    "CID=0a1b2c3d\n"
		    "parentCID=ffffffff\n"
		    "createType=\"monolithicSparse\"\n"
		    "parentFileNameHint=\"../base/base.vmdk\"\n"
		    "\n"
		    "# Extent description\n"
		    "RW 8192 SPARSE \"leaf-s001.vmdk\"\n"
		    "RW 8192 SPARSE \"leaf-s002.vmdk\"\n"
		    "\n"
		    "# The Disk Data Base\n"
		    "#DDB\n"
		    "\n"
		    "ddb.virtualHWVersion = \"4\"\n"
		    "ddb.adapterType = \"lsilogic\"\n");
	/* What we generate parses back to the same bytes. */
	again = parse_ok(out, NULL);
	free(out);
	out = write_ok(again);
	ck_assert_uint_eq(desc_extent_count(again), 2);
	ck_assert_str_eq(desc_parent_hint(again), "../base/base.vmdk");
	free(out);
	desc_free(again);
	desc_free(desc);

	ck_assert_int_eq(desc_new("bad\"type", 1, 2, &desc, &err), DESC_E_ARG);
	ck_assert_ptr_null(desc);
	ck_assert_int_eq(desc_new(NULL, 1, 2, &desc, NULL), DESC_E_ARG);
}
END_TEST

START_TEST(test_clone)
{
	desc_descriptor *desc = parse_ok(sample, NULL), *copy = NULL;
	char *a, *b;

	ck_assert_int_eq(desc_clone(desc, &copy, NULL), DESC_OK);
	ck_assert_str_eq(desc_name(copy), "t.vmdk");
	ck_assert_int_eq(desc_extent_set_path(copy, 0, "elsewhere.vmdk", NULL), DESC_OK);
	ck_assert_uint_eq(desc_ddb_unset(copy, "ddb.uuid"), 1);
	a = write_ok(desc);
	assert_text(a, sample);
	b = write_ok(copy);
	ck_assert_str_ne(a, b);
	ck_assert_str_eq(desc_extent_at(desc, 0)->path, "8.10 Core-s001.vmdk");
	ck_assert_str_eq(desc_extent_at(copy, 0)->path, "elsewhere.vmdk");
	ck_assert_ptr_null(desc_ddb_get(copy, "ddb.uuid"));
	ck_assert_ptr_nonnull(desc_ddb_get(desc, "ddb.uuid"));
	free(a);
	free(b);
	desc_free(copy);
	desc_free(desc);
	desc_free(NULL);
	ck_assert_int_eq(desc_clone(NULL, &copy, NULL), DESC_E_ARG);
	ck_assert_ptr_null(copy);
}
END_TEST

/* ------------------------------------------------------------------ */
/* round trips found by fuzzing                                        */
/* ------------------------------------------------------------------ */

/* fuzz_descriptor: a last line without a newline that ends in a stray CR,
 * followed by an appended line, came back one CR shorter after a
 * write/parse round trip. */
START_TEST(descriptor_cr_before_append)
{
	static const char text[] =
		"# Disk DescriptorFile\nversion=1\nCID=fffffffe\n"
		"parentCID=ffffffff\ncreateType=\"monolithicSparse\"\n"
		"RW 8 SPARSE \"a.vmdk\"\n#DDB\nddb.x = \"1\"\nddb.odd =\r\r\r";
	desc_descriptor *d = NULL, *again = NULL;
	desc_error err;
	char *out = NULL;
	size_t len = 0;

	ck_assert_int_eq(desc_parse(text, sizeof(text) - 1, "t", &d, NULL, &err),
			 DESC_OK);
	ck_assert_int_eq(desc_ddb_set(d, "ddb.uuid", "60 00", &err), DESC_OK);
	ck_assert_int_eq(desc_write(d, &out, &len, &err), DESC_OK);
	ck_assert_int_eq(desc_parse(out, len, "t2", &again, NULL, &err),
			 DESC_OK);
	ck_assert_str_eq(desc_ddb_get(again, "ddb.odd"),
			 desc_ddb_get(d, "ddb.odd"));
	ck_assert_str_eq(desc_ddb_get(again, "ddb.uuid"), "60 00");
	free(out);
	desc_free(d);
	desc_free(again);
}
END_TEST

/* fuzz_descriptor: with a "#DDB" marker but header lines after it, a
 * new ddb line went before them, and they were read back as ddb lines. */
START_TEST(descriptor_ddb_after_header)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	char path[4096], text[4096];
	desc_descriptor *d = NULL, *again = NULL;
	desc_error err;
	char *out = NULL;
	size_t len = 0, n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/fuzz/seeds/fuzz_descriptor/regress-ddb-after-header.vmdk",
		 src ? src : ".");
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	ck_assert_int_eq(desc_parse(text, n, "t", &d, NULL, &err), DESC_OK);
	ck_assert_int_eq(desc_ddb_set(d, "ddb.uuid", "60 00", &err), DESC_OK);
	ck_assert_int_eq(desc_write(d, &out, &len, &err), DESC_OK);
	ck_assert_int_eq(desc_parse(out, len, "t2", &again, NULL, &err),
			 DESC_OK);
	ck_assert_uint_eq(desc_ddb_count(again), desc_ddb_count(d));
	ck_assert_uint_eq(desc_extent_count(again), desc_extent_count(d));
	ck_assert_str_eq(desc_ddb_get(again, "ddb.uuid"), "60 00");
	free(out);
	desc_free(d);
	desc_free(again);
}
END_TEST

static Suite *edit_suite(void)
{
	Suite *s = suite_create("edit");
	TCase *tc = tcase_create("edit");

	tcase_add_loop_test(tc, test_edit, 0,
			    (int)(sizeof(edit_cases) / sizeof(edit_cases[0])));
	tcase_add_test(tc, test_edit_accessors);
	tcase_add_test(tc, test_edit_refused);
	tcase_add_test(tc, test_new_template);
	tcase_add_test(tc, test_clone);
	suite_add_tcase(s, tc);
	tc = tcase_create("round trip");
	tcase_add_test(tc, descriptor_cr_before_append);
	tcase_add_test(tc, descriptor_ddb_after_header);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(edit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
