/* check_bundle.c - vmdk_check_paths, vmdk_dependents, vmdk_relocate,
 * vmdk_repair_cid and vmdk_vm_describe on a small tree made with the
 * library (a base in vms/B, leaves vms/L1 and vms/L2), each check case
 * with exactly one defect planted. */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"

static char tmp[4096];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	chmod(path, 0755);
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/check_bundle.XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(chdir(tmp), 0);
}

static void teardown(void)
{
	if (chdir("/") == 0)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	ck_assert_int_ge(n, 0);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

static void spew(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

static void append(const char *path, const char *text)
{
	FILE *fp = fopen(path, "ab");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

/* Replaces the whole line that starts with `prefix` by `line`. */
static void replace_line(const char *path, const char *prefix, const char *line)
{
	char *text = slurp(path), *at, *end, *out;
	size_t n;

	at = strstr(text, prefix);
	while (at != NULL && at != text && at[-1] != '\n')
		at = strstr(at + 1, prefix);
	ck_assert_msg(at != NULL, "no line '%s' in %s", prefix, path);
	end = strchr(at, '\n');
	ck_assert_ptr_nonnull(end);
	n = strlen(text) + strlen(line) + 2;
	out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, line, end);
	spew(path, out);
	free(out);
	free(text);
}

/* vms/B (base, twoGbMaxExtentSparse, 4 MiB), vms/L1, vms/L2 */
static void make_tree(void)
{
	vmdk_create_options copt = { .type = VMDK_CREATE_TWOGB_SPARSE,
				     .size_bytes = 4u << 20 };
	vmdk_leaf_spec spec;
	desc_error err;

	ck_assert_int_eq(mkdir("m", 0755), 0);
	ck_assert_int_eq(mkdir("vms", 0755), 0);
	ck_assert_int_eq(vmdk_disk_create("m/Core.vmdk", &copt, &err), DESC_OK);
	ck_assert_int_eq(vmdk_base_make("m/Core.vmdk", "vms/B", NULL, &err),
			 DESC_OK);
	memset(&spec, 0, sizeof(spec));
	spec.name = "L1";
	spec.folder = "vms/L1";
	ck_assert_msg(vmdk_leaf_create("vms/B/Core.vmdk", &spec, NULL, &err) ==
		      DESC_OK, "%s", err.message);
	spec.name = "L2";
	spec.folder = "vms/L2";
	ck_assert_int_eq(vmdk_leaf_create("vms/B/Core.vmdk", &spec, NULL, &err),
			 DESC_OK);
}

/* Findings of `vmdk_check_paths(path, recursive)` at warning or above. */
static void check_tree(const char *path, const vmdk_check_options *opt,
		       desc_findings *out)
{
	vmdk_check_options def = { .recursive = true };
	const char *paths[1] = { path };
	desc_error err;

	desc_findings_init(out);
	ck_assert_int_eq(vmdk_check_paths(paths, 1, opt ? opt : &def, out, &err),
			 DESC_OK);
}

static bool has_code(const desc_findings *l, const char *code)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].code, code) == 0)
			return true;
	return false;
}

static char *dump(const desc_findings *l)
{
	static char buf[8192];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->count && off < sizeof(buf) - 1; i++) {
		int n = snprintf(buf + off, sizeof(buf) - off, "\n%s:%u: %s [%s]",
				 l->items[i].file ? l->items[i].file : "-",
				 l->items[i].line, l->items[i].message,
				 l->items[i].code);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	return buf;
}

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
	replace_line("vms/L1/Core.vmdk", "CID=", "CID=0badc1d0");
}

static void defect_parent_missing(void)
{
	replace_line("vms/L1/Core-000001.vmdk", "parentFileNameHint=",
		     "parentFileNameHint=\"Gone.vmdk\"");
}

static void defect_hint_absolute(void)
{
	char line[8192];

	snprintf(line, sizeof(line), "parentFileNameHint=\"%s/vms/B/Core.vmdk\"",
		 tmp);
	replace_line("vms/L1/Core-000001.vmdk", "parentFileNameHint=", line);
}

static void defect_base_writable(void)
{
	ck_assert_int_eq(chmod("vms/B/Core-s001.vmdk", 0644), 0);
}

static void defect_base_modified(void)
{
	int fd;

	ck_assert_int_eq(chmod("vms/B/Core-s001.vmdk", 0644), 0);
	fd = open("vms/B/Core-s001.vmdk", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "x", 1, 60000), 1);
	close(fd);
	ck_assert_int_eq(chmod("vms/B/Core-s001.vmdk", 0444), 0);
}

static void defect_shared_disk(void)
{
	replace_line("vms/L2/L2.vmx", "scsi0:0.fileName",
		     "scsi0:0.fileName = \"../L1/Core-000001.vmdk\"");
}

/* Both leaves' deltas over the base's own descriptor: one lock. */
static void defect_shared_parent(void)
{
	replace_line("vms/L1/Core-000001.vmdk", "parentFileNameHint=",
		     "parentFileNameHint=\"../B/Core.vmdk\"");
	replace_line("vms/L2/Core-000001.vmdk", "parentFileNameHint=",
		     "parentFileNameHint=\"../B/Core.vmdk\"");
}

static void defect_lock(void)
{
	ck_assert_int_eq(mkdir("vms/L1/Core-000001.vmdk.lck", 0755), 0);
}

static void defect_uuid(void)
{
	append("vms/L1/L1.vmx", "uuid.bios = \"56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee\"\n");
	append("vms/L2/L2.vmx", "uuid.bios = \"56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee\"\n");
}

static void defect_mac(void)
{
	append("vms/L1/L1.vmx", "ethernet0.generatedAddress = \"00:0c:29:aa:bb:cc\"\n");
	append("vms/L2/L2.vmx", "ethernet0.generatedAddress = \"00:0C:29:AA:BB:CC\"\n");
}

static void defect_mac_one_vm(void)
{
	/* One NIC's static and generated address agreeing is no conflict;
	 * two NICs sharing one is. */
	append("vms/L2/L2.vmx", "ethernet0.address = \"00:50:56:00:00:09\"\nethernet0.generatedAddress = \"00:50:56:00:00:09\"\n");
	append("vms/L1/L1.vmx", "ethernet0.address = \"00:50:56:00:00:07\"\nethernet1.address = \"00:50:56:00:00:07\"\n");
}

static void defect_vmsd(void)
{
	replace_line("vms/L1/L1.vmsd", "snapshot0.disk0.fileName",
		     "snapshot0.disk0.fileName = \"Missing.vmdk\"");
}

static void defect_vmx_disk(void)
{
	replace_line("vms/L1/L1.vmx", "scsi0:0.fileName",
		     "scsi0:0.fileName = \"Missing-000001.vmdk\"");
}

static void defect_syntax(void)
{
	spew("vms/L1/Bad.vmdk", "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 10 SPARES \"x\"\n");
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

	make_tree();
	c->plant();
	if (c->confine) {
		opt.confine = confine;
		opt.confine_count = 1;
	}
	check_tree(c->confine ? "vms/L1" : "vms", &opt, &f);
	if (c->code == NULL)
		ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING,
			      "clean tree: %s", dump(&f));
	else
		ck_assert_msg(has_code(&f, c->code), "%s: no '%s' in:%s",
			      c->name, c->code, dump(&f));
	if (c->plant == defect_mac_one_vm)
		for (size_t i = 0; i < f.count; i++)
			ck_assert_msg(strcmp(f.items[i].code, "duplicate-mac") != 0 ||
				      strcmp(f.items[i].file, "vms/L1/L1.vmx") == 0,
				      "%s", dump(&f));
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

	make_tree();
	defect_base_writable();
	check_tree("vms/L1", &opt, &f);
	ck_assert_msg(!has_code(&f, "base-writable"), "%s", dump(&f));
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
	check_tree("Deep.vmdk", &opt, &f);
	ck_assert_msg(has_code(&f, "grain-outside-file"), "%s", dump(&f));
	desc_findings_clear(&f);
	/* Without --deep the tables are not read. */
	check_tree("Deep.vmdk", NULL, &f);
	ck_assert_msg(!has_code(&f, "grain-outside-file"), "%s", dump(&f));
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
	check_tree("Deep.vmdk", &opt, &f);
	ck_assert_msg(has_code(&f, "grain-overlap"), "%s", dump(&f));
	ck_assert_msg(!has_code(&f, "grain-outside-file"), "%s", dump(&f));
	desc_findings_clear(&f);
	ck_assert_int_eq(unlink("Deep.vmdk"), 0);
	/* A clean sparse disk passes the deep check. */
	plant_gtes(0, 0, 0);
	check_tree("Deep.vmdk", &opt, &f);
	ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING, "%s",
		      dump(&f));
	desc_findings_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* dependents                                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_dependents)
{
	const char *dirs[2] = { "vms", "vms/L1" };
	vmdk_dependent_list l;
	desc_error err;

	make_tree();
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

/* ------------------------------------------------------------------ */
/* relocate                                                            */
/* ------------------------------------------------------------------ */

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

	make_tree();
	ck_assert_int_eq(mkdir("new", 0755), 0);
	opt.report_ctx = &steps;
	before = slurp("vms/L1/Core.vmdk");
	ck_assert_int_eq(vmdk_relocate("vms/B", "new/B", leaves, 1, &opt, &err),
			 DESC_OK);
	ck_assert_int_eq(steps, 3); /* two leaves, one rename */
	ck_assert_int_eq(access("vms/B", F_OK), 0);
	after = slurp("vms/L1/Core.vmdk");
	ck_assert_str_eq(after, before);
	free(after);
	opt.dry_run = false;
	ck_assert_msg(vmdk_relocate("vms/B", "new/B", leaves, 1, &opt, &err) ==
		      DESC_OK, "%s", err.message);
	ck_assert_int_ne(access("vms/B", F_OK), 0);
	after = slurp("vms/L1/Core.vmdk");
	ck_assert_ptr_nonnull(strstr(after, "\"../../new/B/Core-s001.vmdk\""));
	free(after);
	check_tree("vms", NULL, &f);
	ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING, "%s",
		      dump(&f));
	desc_findings_clear(&f);
	free(before);
	/* Target exists: refused, nothing changed. */
	ck_assert_int_eq(mkdir("other", 0755), 0);
	before = slurp("vms/L1/Core.vmdk");
	ck_assert_int_eq(vmdk_relocate("new/B", "other", leaves, 1, NULL, &err),
			 DESC_E_EXISTS);
	after = slurp("vms/L1/Core.vmdk");
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

	make_tree();
	ck_assert_int_eq(mkdir("vms/X", 0755), 0);
	spew("vms/X/X.vmx", "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.filename = \"../B/Core.vmdk\"\n");
	spew("vms/X/X.vmsd", "snapshot0.disk0.fileName = \"../B/Core.vmdk\"\nsnapshot0.disk0.node = \"scsi0:0\"\n");
	l1 = slurp("vms/L1/L1.vmx");
	ck_assert_int_eq(mkdir("new", 0755), 0);
	ck_assert_msg(vmdk_relocate("vms/B", "new/B", leaves, 1, NULL, &err) ==
		      DESC_OK, "%s", err.message);
	text = slurp("vms/X/X.vmx");
	ck_assert_str_eq(text, "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.filename = \"../../new/B/Core.vmdk\"\n");
	free(text);
	text = slurp("vms/X/X.vmsd");
	ck_assert_str_eq(text, "snapshot0.disk0.fileName = \"../../new/B/Core.vmdk\"\nsnapshot0.disk0.node = \"scsi0:0\"\n");
	free(text);
	text = slurp("vms/L1/L1.vmx");
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
	snprintf(want, sizeof(want), "\"%s/B2/A-s001.vmdk\"", tmp);
	{
		char *text = slurp("B2/A.vmdk");

		ck_assert_ptr_nonnull(strstr(text, want));
		free(text);
	}
	desc_findings_init(&f);
	ck_assert_int_eq(vmdk_base_verify("B2", &f, &err), DESC_OK);
	ck_assert_msg(desc_findings_max_severity(&f) < DESC_SEV_WARNING, "%s",
		      dump(&f));
	desc_findings_clear(&f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* repair-cid                                                          */
/* ------------------------------------------------------------------ */

START_TEST(test_repair_cid)
{
	vmdk_repair_result r;
	vmdk_repair_options opt = { .dry_run = true };
	vmdk_chain chain;
	desc_error err;

	make_tree();
	/* Clean: nothing to do. */
	ck_assert_int_eq(vmdk_repair_cid("vms/L1/Core-000001.vmdk", NULL, &r, &err),
			 DESC_OK);
	ck_assert(!r.repaired);
	replace_line("vms/L1/Core.vmdk", "CID=", "CID=0badc1d0");
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
	defect_base_modified();
	replace_line("vms/L2/Core.vmdk", "CID=", "CID=0badc1d1");
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

/* ------------------------------------------------------------------ */
/* describe                                                            */
/* ------------------------------------------------------------------ */

START_TEST(test_describe)
{
	vmdk_vm_description d;
	desc_error err;

	make_tree();
	ck_assert_int_eq(vmdk_vm_describe("vms/L1/L1.vmx", &d, &err), DESC_OK);
	ck_assert(d.linked_clone);
	ck_assert_uint_eq(d.count, 1);
	ck_assert_uint_eq(d.disks[0].depth, 2);
	ck_assert_str_eq(d.disks[0].node, "scsi0:0");
	ck_assert_ptr_nonnull(strstr(d.disks[0].base_dir, "/vms/B"));
	vmdk_vm_description_clear(&d);
	spew("m/Full.vmx", "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"../vms/B/Core.vmdk\"\n");
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
	spew("m/Own.vmx", "scsi0.present = \"TRUE\"\nscsi0:0.present = \"TRUE\"\nscsi0:0.fileName = \"Own.vmdk\"\n");
	ck_assert_int_eq(vmdk_vm_describe("m/Own.vmx", &d, &err), DESC_OK);
	ck_assert_uint_eq(d.count, 1);
	ck_assert(!d.linked_clone);
	vmdk_vm_description_clear(&d);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation failure: every call fails cleanly with DESC_E_NOMEM, or   */
/* succeeds with the same result as without failures.                  */
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
	const char *dirs[1] = { "vms" };
	vmdk_repair_options ropt = { .dry_run = true };
	vmdk_relocate_options lopt = { .dry_run = true };
	vmdk_dependent_list l;
	vmdk_vm_description d;
	vmdk_repair_result r;
	size_t want, got, want_deps = 0;
	desc_status st;
	desc_error err;

	make_tree();
	defect_lock();
	defect_uuid();
	replace_line("vms/L1/Core.vmdk", "CID=", "CID=0badc1d0");
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
	ck_assert_int_eq(mkdir("new", 0755), 0);
	for (unsigned long n = 1;; n++) {
		desc_test_fail_allocation(n);
		st = vmdk_relocate("vms/B", "new/B", dirs, 1, &lopt, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK)
			break;
		ck_assert_int_eq(st, DESC_E_NOMEM);
	}
	/* A real relocate failing at every allocation leaves the tree
	 * as it was, then succeeds. */
	lopt.dry_run = false;
	for (unsigned long n = 1;; n++) {
		char *before = slurp("vms/L1/Core.vmdk");

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
			char *now = slurp("vms/L1/Core.vmdk");

			ck_assert_str_eq(now, before);
			free(now);
		}
		free(before);
	}
	ck_assert_int_eq(access("new/B/Core.vmdk", F_OK), 0);
	/* A changed base is never taken as proven, whichever allocation
	 * fails (a reason that cannot be allocated is no proof). */
	ck_assert_int_eq(chmod("new/B/Core-s001.vmdk", 0644), 0);
	{
		int fd = open("new/B/Core-s001.vmdk", O_WRONLY);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pwrite(fd, "x", 1, 60000), 1);
		close(fd);
	}
	ck_assert_int_eq(chmod("new/B/Core-s001.vmdk", 0444), 0);
	replace_line("vms/L2/Core.vmdk", "CID=", "CID=0badc1d2");
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

static Suite *bundle_suite(void)
{
	Suite *s = suite_create("bundle");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_check_defect, 0,
			    sizeof(check_cases) / sizeof(check_cases[0]));
	tcase_add_test(tc, test_confine_not_followed);
	tcase_add_test(tc, test_deep_outside);
	tcase_add_test(tc, test_deep_overlap);
	tcase_add_test(tc, test_dependents);
	tcase_add_test(tc, test_relocate);
	tcase_add_test(tc, test_relocate_absolute);
	tcase_add_test(tc, test_relocate_vmx);
	tcase_add_test(tc, test_repair_cid);
	tcase_add_test(tc, test_describe);
	tcase_add_test(tc, test_alloc_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bundle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
