/* check_validate.c - descriptor/validate.c: the semantic and portability
 * findings of a descriptor, each with its code, severity and line. */
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
/* validation and portability findings                                 */
/* ------------------------------------------------------------------ */

#define C_SIG "# Disk DescriptorFile\n"
#define C_VER "version=1\n"
#define C_ENC "encoding=\"UTF-8\"\n"
#define C_CID "CID=8c808111\n"
#define C_PCID "parentCID=ffffffff\n"
#define C_CT "createType=\"twoGbMaxExtentSparse\"\n"
#define C_EXTS "\n# Extent description\n"
#define C_E1 "RW 4192256 SPARSE \"a-s001.vmdk\"\n"
#define C_E2 "RW 4192256 SPARSE \"a-s002.vmdk\"\n"
#define C_DDBS "\n# The Disk Data Base\n#DDB\n\n"
#define C_ADAPTER "ddb.adapterType = \"lsilogic\"\n"
#define C_GEO "ddb.geometry.cylinders = \"521\"\nddb.geometry.heads = \"255\"\n" \
	"ddb.geometry.sectors = \"63\"\n"
#define C_LCID "ddb.longContentID = \"0123456789abcdef012345678c808111\"\n"
#define C_TAIL C_DDBS C_ADAPTER C_GEO C_LCID
#define CLEAN C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL

enum finding_edit { F_NONE, F_UNSET_HEADER, F_UNSET_DDB, F_REMOVE_EXTENTS };

struct finding_case {
	const char *name;
	const char *text;
	enum finding_edit edit;
	const char *edit_key;
	bool portability;      /* desc_check_portability, else desc_validate */
	const char *code;
	bool present;
	desc_severity severity;
	unsigned line;
	const char *message;   /* NULL: not checked */
};

static const struct finding_case finding_cases[] = {
	/* validate */
	{ "cid-format", C_SIG C_VER C_ENC "CID=18c808111\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "cid-format", true, DESC_SEV_ERROR, 4,
	  "CID '18c808111' is not 8 hex digits (expected e.g. 8c808111)" },
	{ "cid-unpadded", C_SIG C_VER C_ENC "CID=5ecb1ee\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS,
	  F_NONE, NULL, false, "cid-unpadded", true, DESC_SEV_INFO, 4,
	  "CID '5ecb1ee' has fewer than 8 digits (qemu drops leading zeros; VMware writes 05ecb1ee)" },
	{ "cid-unpadded-is-valid", C_SIG C_VER C_ENC "CID=5ecb1ee\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS,
	  F_NONE, NULL, false, "cid-format", false, 0, 0, NULL },
	{ "parent-cid-format", C_SIG C_VER C_ENC C_CID "parentCID=1ffffffff\n" C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "parent-cid-format", true, DESC_SEV_ERROR, 5, NULL },
	{ "cid-missing", CLEAN, F_UNSET_HEADER, "CID", false, "cid-missing", true,
	  DESC_SEV_ERROR, 0, "missing 'CID' (expected CID=8 hex digits)" },
	{ "parent-cid-missing", CLEAN, F_UNSET_HEADER, "parentCID", false,
	  "parent-cid-missing", true, DESC_SEV_ERROR, 0, NULL },
	{ "cid-initial", C_SIG C_VER C_ENC "CID=fffffffe\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS,
	  F_NONE, NULL, false, "cid-initial", true, DESC_SEV_INFO, 4, NULL },
	{ "delta-without-hint", C_SIG C_VER C_ENC C_CID "parentCID=12345678\n" C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "delta-without-hint", true, DESC_SEV_WARNING, 5,
	  "parentCID 12345678 names a parent but there is no parentFileNameHint (expected parentFileNameHint=\"PARENT.vmdk\")" },
	{ "delta-with-hint", C_SIG C_VER C_ENC C_CID "parentCID=12345678\n" C_CT
	  "parentFileNameHint=\"p.vmdk\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "delta-without-hint", false, 0, 0, NULL },
	{ "hint-without-parent", C_SIG C_VER C_ENC C_CID C_PCID C_CT
	  "parentFileNameHint=\"p.vmdk\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "hint-without-parent", true, DESC_SEV_WARNING, 7, NULL },
	{ "hint-empty", C_SIG C_VER C_ENC C_CID "parentCID=12345678\n" C_CT
	  "parentFileNameHint=\"\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "hint-empty", true, DESC_SEV_ERROR, 7, NULL },
	{ "long-content-id-mismatch", C_SIG C_VER C_ENC "CID=8c808112\n" C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "long-content-id-mismatch", true, DESC_SEV_WARNING, 19, NULL },
	{ "extent-type-mismatch", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"vmfs\"\n" C_EXTS C_E1 C_DDBS,
	  F_NONE, NULL, false, "extent-type-mismatch", true, DESC_SEV_ERROR, 9,
	  "extent 1 is SPARSE but createType 'vmfs' expects VMFS" },
	{ "device-types", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"partitionedDevice\"\n" C_EXTS
	  "RW 63 FLAT \"pt-flat.vmdk\" 0\nRW 4192193 ZERO\nRW 4192256 FLAT \"/dev/sdb\" 0\n" C_TAIL,
	  F_NONE, NULL, false, "extent-type-mismatch", false, 0, 0, NULL },
	{ "rdm-types", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"vmfsPassthroughRawDeviceMap\"\n" C_EXTS
	  "RW 8384512 VMFSRDM \"a-rdmp.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, false, "extent-type-mismatch", false, 0, 0, NULL },
	{ "custom-anything", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"custom\"\n" C_EXTS
	  "RW 4192256 VMFSSPARSE \"a\"\nRW 4192256 SESPARSE \"b\"\n" C_TAIL,
	  F_NONE, NULL, false, "extent-type-mismatch", false, 0, 0, NULL },
	{ "monolithic-extent-count", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "monolithic-extent-count", true, DESC_SEV_ERROR, 6,
	  "createType 'monolithicSparse' has 2 extents (expected exactly one)" },
	{ "no-extents", CLEAN, F_REMOVE_EXTENTS, NULL, false, "no-extents", true,
	  DESC_SEV_ERROR, 0, NULL },
	{ "capacity-overflow", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS
	  "RW 18446744073709551615 SPARSE \"a\"\nRW 1 SPARSE \"b\"\n" C_DDBS,
	  F_NONE, NULL, false, "capacity-overflow", true, DESC_SEV_ERROR, 10,
	  "extent sizes add up to more than 18446744073709551615 sectors" },
	{ "extent-empty", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 "RW 0 SPARSE \"b\"\n" C_DDBS,
	  F_NONE, NULL, false, "extent-empty", true, DESC_SEV_WARNING, 10, NULL },
	{ "zero-extent-with-file", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"fullDevice\"\n" C_EXTS
	  "RW 100 ZERO \"/dev/sdc2\" 0\n" C_DDBS,
	  F_NONE, NULL, false, "zero-extent-with-file", true, DESC_SEV_INFO, 9, NULL },
	{ "geometry-not-number", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"521\"\nddb.geometry.heads = \"x\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-not-number", true, DESC_SEV_WARNING, 16,
	  "ddb.geometry.heads 'x' is not a positive number" },
	{ "geometry-zero", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"521\"\nddb.geometry.heads = \"0\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-not-number", true, DESC_SEV_WARNING, 16, NULL },
	{ "geometry-qemu-zero-cylinders", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 8192 SPARSE \"so.vmdk\"\n" C_DDBS
	  "ddb.geometry.cylinders = \"0\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-not-number", false, 0, 0, NULL },
	{ "geometry-zero-cylinders-big-disk", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"0\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", true, DESC_SEV_WARNING, 15, NULL },
	{ "geometry-incomplete", CLEAN, F_UNSET_DDB, "ddb.geometry.sectors", false,
	  "geometry-incomplete", true, DESC_SEV_WARNING, 0, NULL },
	{ "geometry-exceeds-capacity", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"600\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-exceeds-capacity", true, DESC_SEV_WARNING, 15,
	  "geometry 600/255/63 is larger than the capacity of 8384512 sectors" },
	{ "geometry-mismatch", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS
	  "ddb.geometry.cylinders = \"100\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", true, DESC_SEV_WARNING, 15,
	  "ddb.geometry.cylinders is 100 but capacity / (heads x sectors) gives 521" },
	{ "geometry-ide-cap", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 16777216 SPARSE \"a\"\n" C_DDBS "ddb.adapterType = \"ide\"\n"
	  "ddb.geometry.cylinders = \"16383\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", false, 0, 0, NULL },
	{ "geometry-scsi-cap", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 2199023255552 SPARSE \"a\"\n" C_DDBS "ddb.adapterType = \"lsilogic\"\n"
	  "ddb.geometry.cylinders = \"65535\"\nddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", false, 0, 0, NULL },
	{ "geometry-ide-no-65535", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicSparse\"\n" C_EXTS
	  "RW 2199023255552 SPARSE \"a\"\n" C_DDBS "ddb.adapterType = \"ide\"\n"
	  "ddb.geometry.cylinders = \"65535\"\nddb.geometry.heads = \"16\"\nddb.geometry.sectors = \"63\"\n",
	  F_NONE, NULL, false, "geometry-mismatch", true, DESC_SEV_WARNING, 15, NULL },
	{ "duplicate-header-key", C_SIG C_VER C_ENC C_CID C_PCID C_CT "Encoding=\"GBK\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "duplicate-header-key", true, DESC_SEV_ERROR, 7,
	  "duplicate header key 'Encoding' (first on line 3); readers disagree on which one counts" },
	{ "duplicate-ddb-key", CLEAN "ddb.ADAPTERTYPE = \"ide\"\n", F_NONE, NULL, false,
	  "duplicate-ddb-key", true, DESC_SEV_WARNING, 20, NULL },
	{ "adapter-type-unknown", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS "ddb.adapterType = \"scsi\"\n",
	  F_NONE, NULL, false, "adapter-type-unknown", true, DESC_SEV_WARNING, 15,
	  "unknown ddb.adapterType 'scsi' (expected ide, buslogic, lsilogic, legacyESX, pvscsi, lsisas1068, sata, nvme)" },
	{ "adapter-type-nvme", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_DDBS "ddb.adapterType = \"nvme\"\n",
	  F_NONE, NULL, false, "adapter-type-unknown", false, 0, 0, NULL },
	{ "unknown-create-type", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"fancy\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, false, "unknown-create-type", true, DESC_SEV_WARNING, 6, NULL },
	{ "create-type-missing", CLEAN, F_UNSET_HEADER, "createType", false,
	  "create-type-missing", true, DESC_SEV_ERROR, 0, NULL },
	/* portability */
	{ "bom", "\xef\xbb\xbf" CLEAN, F_NONE, NULL, true, "portability-bom", true,
	  DESC_SEV_WARNING, 1, NULL },
	{ "first-line", "#Disk Descriptor File\n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-first-line", true, DESC_SEV_WARNING, 1, NULL },
	{ "version", C_SIG "version=2\n" C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-version", true, DESC_SEV_WARNING, 2,
	  "version 2: VirtualBox accepts only version=1" },
	{ "qemu-probe-blank", C_SIG "\n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-qemu-probe", true, DESC_SEV_WARNING, 2, NULL },
	{ "qemu-probe-spaces-line-ok", C_SIG "   \n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-qemu-probe", false, 0, 0, NULL },
	{ "qemu-probe-trailing-space", C_SIG "version=1 \n" C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-qemu-probe", true, DESC_SEV_WARNING, 2, NULL },
	{ "parent-cid-before-cid", C_SIG C_VER C_ENC C_PCID C_CID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-parent-cid-before-cid", true, DESC_SEV_WARNING, 4, NULL },
	{ "cid-text-above", C_SIG "# old CID=deadbeef\n" C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-cid-text-above-cid", true, DESC_SEV_WARNING, 2, NULL },
	{ "header-spacing", C_SIG C_VER C_ENC C_CID C_PCID "createType = \"twoGbMaxExtentSparse\"\n" C_EXTS C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-header-spacing", true, DESC_SEV_WARNING, 6,
	  "spaces around '=' in header key 'createType': qemu misreads it (expected createType=VALUE)" },
	{ "section-comment-missing", C_SIG C_VER C_ENC C_CID C_PCID C_CT "\n" C_E1 C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-section-comment", true, DESC_SEV_WARNING, 0,
	  "missing section comment '# Extent description': libvmdk needs it" },
	{ "section-comment-altered", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2
	  "\n# The disk Data Base \n#DDB\n\n" C_ADAPTER,
	  F_NONE, NULL, true, "portability-section-comment-altered", true, DESC_SEV_INFO, 12, NULL },
	{ "section-comment-trailing-space", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 C_E2
	  "\n# The Disk Data Base \n#DDB\n\n" C_ADAPTER,
	  F_NONE, NULL, true, "portability-section-comment-altered", false, 0, 0, NULL },
	{ "comment-in-extents", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 "#RW 1 SPARSE \"old\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-comment-in-extents", true, DESC_SEV_WARNING, 10, NULL },
	{ "blank-before-extent", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1 "\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-blank-before-extent", true, DESC_SEV_WARNING, 11,
	  "blank line right before extent 2: qemu reads that extent 2 times and sees 12576768 sectors instead of 8384512 (expected no blank line between '# Extent description' and the extents)" },
	{ "extent-skipped-by-qemu", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RDONLY 4192256 SPARSE \"a-s002.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-skipped-by-qemu", true, DESC_SEV_WARNING, 10,
	  "qemu silently skips RDONLY SPARSE extent 2 and sees 4192256 sectors instead of 8384512" },
	{ "zero-skipped-by-qemu", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW 4192256 ZERO\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-skipped-by-qemu", true, DESC_SEV_WARNING, 10, NULL },
	{ "single-quoted-name", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW 4192256 SPARSE 'a-s002.vmdk'\n" C_TAIL,
	  F_NONE, NULL, true, "portability-single-quoted-name", true, DESC_SEV_WARNING, 10, NULL },
	{ "extent-spacing", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW  4192256\tSPARSE \"a-s002.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-spacing", true, DESC_SEV_WARNING, 10, NULL },
	{ "extent-spacing-inside-name-ok", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS C_E1
	  "RW 4192256 SPARSE \"a  b\tc.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-extent-spacing", false, 0, 0, NULL },
	{ "flat-without-offset", C_SIG C_VER C_ENC C_CID C_PCID "createType=\"monolithicFlat\"\n" C_EXTS
	  "RW 8384512 FLAT \"a-flat.vmdk\"\n" C_TAIL,
	  F_NONE, NULL, true, "portability-flat-without-offset", true, DESC_SEV_WARNING, 9, NULL },
	{ "extent-folder", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS
	  "RW 4192256 SPARSE \"../base/a-s001.vmdk\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-extent-folder", true, DESC_SEV_INFO, 9, NULL },
	{ "encoding", C_SIG C_VER "encoding=\"windows-1252\"\n" C_CID C_PCID C_CT C_EXTS
	  "RW 4192256 SPARSE \"D\xc3\xadsk-s001.vmdk\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-encoding", true, DESC_SEV_WARNING, 9, NULL },
	{ "encoding-utf8-ok", C_SIG C_VER C_ENC C_CID C_PCID C_CT C_EXTS
	  "RW 4192256 SPARSE \"D\xc3\xadsk-s001.vmdk\"\n" C_E2 C_TAIL,
	  F_NONE, NULL, true, "portability-encoding", false, 0, 0, NULL },
};

static void apply_finding_edit(desc_descriptor *desc, const struct finding_case *c)
{
	switch (c->edit) {
	case F_NONE:
		break;
	case F_UNSET_HEADER:
		ck_assert_uint_eq(desc_header_unset(desc, c->edit_key), 1);
		break;
	case F_UNSET_DDB:
		ck_assert_uint_eq(desc_ddb_unset(desc, c->edit_key), 1);
		break;
	case F_REMOVE_EXTENTS:
		while (desc_extent_count(desc) > 0)
			ck_assert_int_eq(desc_extent_remove(desc, 0, NULL), DESC_OK);
		break;
	}
}

START_TEST(test_findings)
{
	const struct finding_case *c = &finding_cases[_i];
	desc_descriptor *desc = parse_ok(c->text, NULL);
	desc_findings f;
	const desc_finding *hit = NULL;
	size_t hits = 0;

	apply_finding_edit(desc, c);
	desc_findings_init(&f);
	if (c->portability)
		ck_assert_int_eq(desc_check_portability(desc, &f), DESC_OK);
	else
		ck_assert_int_eq(desc_validate(desc, &f), DESC_OK);
	for (size_t i = 0; i < f.count; i++) {
		ck_assert_str_eq(f.items[i].file, "t.vmdk");
		if (strcmp(f.items[i].code, c->code) == 0) {
			hits++;
			if (hit == NULL)
				hit = &f.items[i];
		}
	}
	if (!c->present) {
		ck_assert_msg(hits == 0, "%s: unexpected %s: %s", c->name,
			      c->code, hit->message);
	} else {
		ck_assert_msg(hits == 1, "%s: %zu findings with code %s", c->name,
			      hits, c->code);
		ck_assert_int_eq(hit->severity, c->severity);
		ck_assert_msg(hit->line == c->line, "%s: line %u want %u",
			      c->name, hit->line, c->line);
		if (c->message != NULL)
			ck_assert_msg(strcmp(hit->message, c->message) == 0,
				      "%s:\n  got [%s]\n want [%s]", c->name,
				      hit->message, c->message);
	}
	desc_findings_clear(&f);
	desc_free(desc);
}
END_TEST

/* The canonical form has nothing to report, and neither has what
 * desc_new builds. */
START_TEST(test_clean)
{
	desc_descriptor *desc = parse_ok(CLEAN, NULL), *fresh = NULL;
	desc_extent e = { .access = DESC_ACCESS_RW, .sectors = 2048,
			  .type = DESC_EXTENT_SPARSE, .path = "leaf.vmdk" };
	desc_findings f;

	desc_findings_init(&f);
	ck_assert_int_eq(desc_validate(desc, &f), DESC_OK);
	ck_assert_int_eq(desc_check_portability(desc, &f), DESC_OK);
	ck_assert_msg(f.count == 0, "%zu findings, first %s: %s", f.count,
		      f.count ? f.items[0].code : "", f.count ? f.items[0].message : "");
	ck_assert_int_eq(desc_new("monolithicSparse", 0x12345678, 0x9abcdef0,
				  &fresh, NULL), DESC_OK);
	ck_assert_int_eq(desc_extent_add(fresh, &e, NULL), DESC_OK);
	ck_assert_int_eq(desc_set_parent_hint(fresh, "base.vmdk", NULL), DESC_OK);
	ck_assert_int_eq(desc_validate(fresh, &f), DESC_OK);
	ck_assert_int_eq(desc_check_portability(fresh, &f), DESC_OK);
	ck_assert_msg(f.count == 0, "%zu findings, first %s: %s", f.count,
		      f.count ? f.items[0].code : "", f.count ? f.items[0].message : "");
	ck_assert_int_eq(desc_validate(NULL, &f), DESC_E_ARG);
	ck_assert_int_eq(desc_check_portability(desc, NULL), DESC_E_ARG);
	desc_findings_clear(&f);
	desc_free(fresh);
	desc_free(desc);
}
END_TEST

/* Every code the library emits is documented in FINDINGS.md. */
START_TEST(test_codes_documented)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	char path[4096];
	size_t len;
	char *doc;

	static const char *const parse_codes[] = {
		"unknown-header-key", "header-key-case", "unknown-create-type",
		"unknown-ddb-key", "stale-bytes-after-text",
	};

	snprintf(path, sizeof(path), "%s/descriptor/FINDINGS.md", src ? src : ".");
	doc = read_file(path, &len);
	for (size_t i = 0; i < sizeof(parse_codes) / sizeof(parse_codes[0]); i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "| `%s` |", parse_codes[i]);
		ck_assert_msg(strstr(doc, needle) != NULL, "%s not in FINDINGS.md",
			      parse_codes[i]);
	}
	for (size_t i = 0; i < sizeof(finding_cases) / sizeof(finding_cases[0]); i++) {
		char needle[128];

		snprintf(needle, sizeof(needle), "| `%s` |", finding_cases[i].code);
		ck_assert_msg(strstr(doc, needle) != NULL, "%s not in FINDINGS.md",
			      finding_cases[i].code);
	}
	free(doc);
}
END_TEST

static Suite *validate_suite(void)
{
	Suite *s = suite_create("validate");
	TCase *tc = tcase_create("findings");

	tcase_add_loop_test(tc, test_findings, 0,
			    (int)(sizeof(finding_cases) / sizeof(finding_cases[0])));
	tcase_add_test(tc, test_clean);
	tcase_add_test(tc, test_codes_documented);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(validate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
