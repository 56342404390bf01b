/* check_leaf.c - bases (make, refuse, roll back, verify), leaves (stamp,
 * refuse, clean up on failure) and staging cleanup, on small disks made
 * with vmdk_disk_create in a temporary folder. */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
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
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmp, sizeof(tmp), "%s/check_leaf.XXXXXX", base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	ck_assert_int_eq(chdir(tmp), 0);
}

static void teardown(void)
{
	if (chdir("/") == 0)
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static bool exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

static unsigned mode_of(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void append(const char *path, const char *text)
{
	FILE *f = fopen(path, "ab");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* No ".vmdkit-tmp-*" left in dir. */
static bool no_staging(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool clean = true;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, VMDK_STAGING_PREFIX,
			    strlen(VMDK_STAGING_PREFIX)) == 0)
			clean = false;
	closedir(d);
	return clean;
}

/* A master "m/Core.vmdk" (twoGbMaxExtentSparse, 3 MiB) with a ddb.uuid,
 * and a .vmx naming it.  Returns its CID line. */
static void make_master(void)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_TWOGB_SPARSE,
				    .size_bytes = 3u << 20 };
	desc_error err;

	ck_assert_int_eq(mkdir("m", 0755), 0);
	ck_assert_int_eq(vmdk_disk_create("m/Core.vmdk", &opt, &err), DESC_OK);
	append("m/Core.vmdk",
	       "ddb.uuid = \"60 00 c2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n"
	       "ddb.longContentID = \"0123456789abcdef0123456789abcdef\"\n");
	write_file("m/Core.vmx",
		   ".encoding = \"UTF-8\"\n"
		   "displayName = \"Core\"\n"
		   "memsize = \"1024\"\n"
		   "scsi0.present = \"TRUE\"\n"
		   "scsi0:0.present = \"TRUE\"\n"
		   "scsi0:0.fileName = \"Core.vmdk\"\n"
		   "uuid.bios = \"56 4d 00 11 22 33 44 55-66 77 88 99 aa bb cc dd\"\n");
}

static char *cid_line(const char *text)
{
	static char line[64];
	const char *p = strstr(text, "\nCID=");

	ck_assert_ptr_nonnull(p);
	snprintf(line, sizeof(line), "%.13s", p + 1);
	return line;
}

START_TEST(test_base_move)
{
	char cid[64];
	desc_error err;
	desc_findings f;

	make_master();
	snprintf(cid, sizeof(cid), "%s", cid_line(slurp("m/Core.vmdk")));
	ck_assert_int_eq(mkdir("vms", 0755), 0);
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "vms/Base", NULL, &err),
			 DESC_OK);
	ck_assert(exists("vms/Base/Core.vmdk"));
	ck_assert(exists("vms/Base/Core-s001.vmdk"));
	ck_assert(exists("vms/Base/" VMDK_MANIFEST_NAME));
	ck_assert_uint_eq(mode_of("vms/Base/Core.vmdk"), 0444);
	ck_assert_uint_eq(mode_of("vms/Base/Core-s001.vmdk"), 0444);
	ck_assert_uint_eq(mode_of("vms/Base/" VMDK_MANIFEST_NAME), 0444);
	ck_assert_uint_eq(mode_of("vms/Base"), 0755);
	ck_assert(!exists("m/Core.vmdk"));
	ck_assert(!exists("m/Core-s001.vmdk"));
	ck_assert(exists("m/Core.vmdk.vmdkit-moved"));
	ck_assert(no_staging("vms"));
	ck_assert_ptr_null(strstr(slurp("vms/Base/Core.vmdk"), "ddb.uuid"));
	ck_assert_ptr_nonnull(strstr(slurp("vms/Base/Core.vmdk"),
				     "ddb.longContentID"));
	ck_assert_str_eq(cid_line(slurp("vms/Base/Core.vmdk")), cid);
	ck_assert_ptr_nonnull(strstr(slurp("vms/Base/Core.vmdk"),
				     " SPARSE \"Core-s001.vmdk\"\n"));
	ck_assert_ptr_nonnull(strstr(slurp("vms/Base/" VMDK_MANIFEST_NAME),
				     "# vmdkit base manifest v1\nsha256 "));
	desc_findings_init(&f);
	ck_assert_int_eq(vmdk_base_verify("vms/Base", &f, &err), DESC_OK);
	ck_assert_uint_eq(f.count, 0);
	desc_findings_clear(&f);
}
END_TEST

START_TEST(test_base_copy_absolute)
{
	vmdk_base_options opt = { .copy = true, .absolute = true,
				  .strip_long_content_id = true };
	char *text, want[8192];
	desc_error err;

	make_master();
	ck_assert_int_eq(vmdk_base_make("m/Core.vmdk", "Base", &opt, &err),
			 DESC_OK);
	ck_assert(exists("m/Core.vmdk"));
	ck_assert(exists("m/Core-s001.vmdk"));
	ck_assert(!exists("m/Core.vmdk.vmdkit-moved"));
	ck_assert_ptr_nonnull(strstr(slurp("m/Core.vmdk"), "ddb.uuid"));
	text = slurp("Base/Core.vmdk");
	ck_assert_ptr_null(strstr(text, "ddb.longContentID"));
	ck_assert_ptr_null(strstr(text, "ddb.uuid"));
	snprintf(want, sizeof(want), " SPARSE \"%s/Base/Core-s001.vmdk\"\n", tmp);
	ck_assert_msg(strstr(text, want) != NULL, "absolute path: %s", text);
}
END_TEST

/* A stale parentFileNameHint on a disk without parent would make qemu
 * look for a backing file: the base drops it. */
START_TEST(test_base_drops_stale_hint)
{
	static const char hint[] = "\nparentFileNameHint=\"old.vmdk\"";
	char text[65536];
	const char *src, *p;
	desc_error err;
	size_t at;

	make_master();
	src = slurp("m/Core.vmdk");
	p = strstr(src, "createType=");
	ck_assert_ptr_nonnull(p);
	at = (size_t)(p - src) + strcspn(p, "\n");
	snprintf(text, sizeof(text), "%.*s%s%s", (int)at, src, hint, src + at);
	write_file("m/Core.vmdk", text);
	ck_assert_ptr_nonnull(strstr(slurp("m/Core.vmdk"), "parentFileNameHint"));
	ck_assert_int_eq(vmdk_base_make("m/Core.vmdk", "Base", NULL, &err),
			 DESC_OK);
	ck_assert_ptr_null(strstr(slurp("Base/Core.vmdk"), "parentFileNameHint"));
}
END_TEST

static const char *steps[64];
static size_t nsteps;

static void collect(void *ctx, const char *action, const char *path)
{
	(void)ctx;
	(void)path;
	if (nsteps < 64)
		steps[nsteps++] = action;
}

START_TEST(test_base_dry_run)
{
	vmdk_base_options opt = { .dry_run = true, .report = collect };
	desc_error err;
	size_t i, moves = 0;

	make_master();
	nsteps = 0;
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", &opt, &err),
			 DESC_OK);
	ck_assert(!exists("Base"));
	ck_assert(exists("m/Core.vmdk"));
	ck_assert(exists("m/Core-s001.vmdk"));
	ck_assert(no_staging("."));
	for (i = 0; i < nsteps; i++)
		moves += strcmp(steps[i], "move") == 0;
	ck_assert_uint_eq(moves, 1);
	ck_assert_str_eq(steps[nsteps - 1], "rename");
}
END_TEST

/* Each refusal happens before anything is touched. */
static const struct refusal {
	const char *what;
	const char *source;
	const char *basedir;
	desc_status code;
	const char *message;
} refusals[] = {
	{ "lock", "m/Core.vmx", "Base", DESC_E_BUSY,
	  "'Core.vmdk.lck' exists: the master looks running; power it off first" },
	{ "nonempty", "m/Core.vmx", "full", DESC_E_EXISTS,
	  "base folder exists and is not empty" },
	{ "snapshot", "m/Core.vmx", "Base", DESC_E_REFUSED,
	  "snapshot delta 'Core-000001.vmdk' beside the master (expected a master without snapshots: delete or consolidate its snapshots first)" },
	{ "vmsd", "m/Core.vmx", "Base", DESC_E_REFUSED,
	  "the master has snapshots (expected none: delete or consolidate its snapshots first)" },
	{ "delta", "d/Delta.vmdk", "Base", DESC_E_REFUSED, NULL },
};

START_TEST(test_base_refusals)
{
	const struct refusal *r = &refusals[_i];
	desc_error err;

	make_master();
	if (strcmp(r->what, "lock") == 0)
		ck_assert_int_eq(mkdir("m/Core.vmdk.lck", 0755), 0);
	if (strcmp(r->what, "nonempty") == 0) {
		ck_assert_int_eq(mkdir("full", 0755), 0);
		write_file("full/x", "x");
	}
	if (strcmp(r->what, "snapshot") == 0)
		write_file("m/Core-000001.vmdk", "");
	if (strcmp(r->what, "vmsd") == 0)
		write_file("m/Core.vmsd",
			   "snapshot.numSnapshots = \"1\"\n"
			   "snapshot0.disk0.fileName = \"Core.vmdk\"\n");
	if (strcmp(r->what, "delta") == 0) {
		ck_assert_int_eq(mkdir("d", 0755), 0);
		ck_assert_int_eq(vmdk_delta_create("d/Delta.vmdk", "m/Core.vmdk",
						   NULL, &err), DESC_OK);
	}
	ck_assert_int_eq(vmdk_base_make(r->source, r->basedir, NULL, &err),
			 r->code);
	if (r->message != NULL)
		ck_assert_str_eq(err.message, r->message);
	else
		ck_assert_msg(strstr(err.message, "consolidate") != NULL,
			      "message: %s", err.message);
	ck_assert(exists("m/Core.vmdk"));
	ck_assert(exists("m/Core-s001.vmdk"));
	ck_assert(!exists("Base"));
	ck_assert(no_staging("."));
}
END_TEST

/* Every allocation failure on the way must put the master back exactly
 * as it was (files, names, modes) and leave no base and no staging. */
START_TEST(test_base_rollback)
{
	char before[65536];
	unsigned long n;
	unsigned mode;
	bool done = false;

	make_master();
	snprintf(before, sizeof(before), "%s", slurp("m/Core.vmdk"));
	mode = mode_of("m/Core-s001.vmdk");
	for (n = 1; n < 2000 && !done; n++) {
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_base_make("m/Core.vmx", "Base", NULL, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st, err.message);
		ck_assert_msg(exists("m/Core.vmdk"), "n=%lu", n);
		ck_assert_msg(exists("m/Core-s001.vmdk"), "n=%lu", n);
		ck_assert_uint_eq(mode_of("m/Core-s001.vmdk"), mode);
		ck_assert(!exists("m/Core.vmdk.vmdkit-moved"));
		ck_assert_str_eq(slurp("m/Core.vmdk"), before);
		ck_assert_msg(!exists("Base"), "n=%lu", n);
		ck_assert_msg(no_staging("."), "n=%lu", n);
	}
	ck_assert(done);
	ck_assert_uint_gt(n, 10);
	ck_assert(exists("Base/Core-s001.vmdk"));
}
END_TEST

/* A monolithicSparse master whose embedded descriptor carries ddb.uuid. */
static void make_mono_master(const char *path)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_MONOLITHIC_SPARSE,
				    .size_bytes = 1u << 20 };
	static const char uuid[] =
		"ddb.uuid = \"60 00 c2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n";
	char area[10240];
	desc_error err;
	size_t len;
	int fd;

	ck_assert_int_eq(vmdk_disk_create(path, &opt, &err), DESC_OK);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, area, sizeof(area), 512), (ssize_t)sizeof(area));
	len = strnlen(area, sizeof(area));
	ck_assert_uint_lt(len + sizeof(uuid), sizeof(area));
	memcpy(area + len, uuid, sizeof(uuid) - 1);
	ck_assert_int_eq(pwrite(fd, area, sizeof(area), 512), (ssize_t)sizeof(area));
	close(fd);
}

static void read_file(const char *path, char *buf, size_t size, size_t *len)
{
	FILE *f = fopen(path, "rb");

	ck_assert_ptr_nonnull(f);
	*len = fread(buf, 1, size, f);
	fclose(f);
}

/* Moving a monolithic master edits its embedded descriptor; every failure
 * must restore the original bytes and put the file back. */
START_TEST(test_mono_move_rollback)
{
	static char before[1u << 17], after[1u << 17];
	size_t blen, alen;
	unsigned long n;
	bool done = false;

	ck_assert_int_eq(mkdir("m", 0755), 0);
	make_mono_master("m/Mono.vmdk");
	read_file("m/Mono.vmdk", before, sizeof(before), &blen);
	ck_assert_ptr_nonnull(memmem(before, blen, "ddb.uuid", 8));
	for (n = 1; n < 2000 && !done; n++) {
		desc_error err;
		desc_status st;

		desc_test_fail_allocation(n);
		st = vmdk_base_make("m/Mono.vmdk", "Base", NULL, &err);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = true;
			break;
		}
		ck_assert_msg(st == DESC_E_NOMEM, "n=%lu: %d %s", n, (int)st,
			      err.message);
		read_file("m/Mono.vmdk", after, sizeof(after), &alen);
		ck_assert_msg(alen == blen && memcmp(before, after, blen) == 0,
			      "n=%lu: master changed", n);
		ck_assert(!exists("Base"));
		ck_assert(no_staging("."));
	}
	ck_assert(done);
	ck_assert(!exists("m/Mono.vmdk"));
	read_file("Base/Mono.vmdk", after, sizeof(after), &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert_ptr_null(memmem(after, alen, "ddb.uuid", 8));
	ck_assert_ptr_nonnull(memmem(after, alen, "ddb.adapterType", 15));
	ck_assert_uint_eq(mode_of("Base/Mono.vmdk"), 0444);
}
END_TEST

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

	make_master();
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
	write_file("Base/notes.txt", "hi");
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

	make_master();
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", NULL, &err),
			 DESC_OK);
	write_file("Base/extra", "x");
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

static void make_base(void)
{
	desc_error err;

	make_master();
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
	char *vmx;

	make_base();
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &opt, &err),
			 DESC_OK);
	ck_assert(exists("leaves/web.vmwarevm/Core.vmdk"));
	ck_assert(exists("leaves/web.vmwarevm/Core-000001.vmdk"));
	ck_assert(exists("leaves/web.vmwarevm/web 01 \xc3\xa9.vmsd"));
	ck_assert_uint_eq(mode_of("leaves/web.vmwarevm"), 0755);
	ck_assert(no_staging("leaves"));
	ck_assert_ptr_nonnull(strstr(slurp("leaves/web.vmwarevm/Core.vmdk"),
				     " SPARSE \"../../Base/Core-s001.vmdk\"\n"));
	vmx = slurp("leaves/web.vmwarevm/web 01 \xc3\xa9.vmx");
	ck_assert_ptr_nonnull(strstr(vmx, "scsi0:0.fileName = \"Core-000001.vmdk\""));
	ck_assert_ptr_nonnull(strstr(vmx, "memsize = \"2048\""));
	ck_assert_ptr_nonnull(strstr(vmx, "guestinfo.hostname = \"web 01\""));
	ck_assert_ptr_null(strstr(vmx, "uuid.bios = \"56"));
	ck_assert_ptr_nonnull(strstr(slurp("leaves/web.vmwarevm/web 01 \xc3\xa9.vmsd"),
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
	ck_assert(no_staging("leaves"));
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
	char *text;

	make_master();
	ck_assert_int_eq(vmdk_disk_create("m/Data.vmdk", &opt, &err), DESC_OK);
	append("m/Core.vmx", "scsi0:1.present = \"TRUE\"\n"
			     "scsi0:1.fileName = \"Data.vmdk\"\n");
	ck_assert_int_eq(vmdk_base_make("m/Core.vmx", "Base", NULL, &err),
			 DESC_OK);
	ck_assert(exists("Base/Data.vmdk"));
	ck_assert(exists("Base/Core-s001.vmdk"));
	ck_assert(!exists("m/Data.vmdk"));
	ck_assert_int_eq(mkdir("leaves", 0755), 0);
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &copt, &err),
			 DESC_OK);
	text = slurp("leaves/two/two.vmx");
	ck_assert_ptr_nonnull(strstr(text, "scsi0:0.fileName = \"Core-000001.vmdk\""));
	ck_assert_ptr_nonnull(strstr(text, "scsi0:1.fileName = \"Data-000001.vmdk\""));
	text = slurp("leaves/two/two.vmsd");
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
	ck_assert(!exists("leaves/x"));
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
	ck_assert(!exists("Base/x.vmwarevm"));
	ck_assert(no_staging("Base"));
}
END_TEST

START_TEST(test_leaf_dry_run)
{
	vmdk_clone_options opt = { .dry_run = true, .report = collect };
	vmdk_leaf_spec spec = { .name = "x", .folder = "leaves/x.vmwarevm" };
	desc_error err;

	make_base();
	nsteps = 0;
	ck_assert_int_eq(vmdk_leaf_create("Base/Core.vmdk", &spec, &opt, &err),
			 DESC_OK);
	ck_assert(!exists("leaves/x.vmwarevm"));
	ck_assert(no_staging("leaves"));
	ck_assert_uint_eq(nsteps, 6);
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
		ck_assert_msg(!exists("leaves/x.vmwarevm"), "n=%lu", n);
		ck_assert_msg(no_staging("leaves"), "n=%lu", n);
	}
	ck_assert(done);
	ck_assert(exists("leaves/x.vmwarevm/x.vmx"));
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
	ck_assert(exists("leaves/leaf-19.vmwarevm/leaf-19.vmx"));
	ck_assert(exists("leaves/leaf-00.vmwarevm/Core-000001.vmdk"));
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
		ck_assert(exists(folders[i]));
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
		ck_assert(exists(folders[i]) == (i <= 5));
	ck_assert(no_staging("leaves"));
}
END_TEST

START_TEST(test_staging_cleanup)
{
	desc_error err;
	size_t removed = 9;

	ck_assert_int_eq(mkdir("d", 0755), 0);
	ck_assert_int_eq(mkdir("d/.vmdkit-tmp-a-123456", 0700), 0);
	ck_assert_int_eq(mkdir("d/.vmdkit-tmp-a-123456/sub", 0700), 0);
	write_file("d/.vmdkit-tmp-a-123456/sub/f", "x");
	ck_assert_int_eq(chmod("d/.vmdkit-tmp-a-123456/sub/f", 0444), 0);
	ck_assert_int_eq(mkdir("d/.vmdkit-tmp-b-654321", 0700), 0);
	ck_assert_int_eq(mkdir("target", 0755), 0);
	write_file("target/keep", "x");
	ck_assert_int_eq(symlink("../target", "d/.vmdkit-tmp-link"), 0);
	write_file("d/.vmdkit-tmp-file", "x");
	ck_assert_int_eq(mkdir("d/other", 0755), 0);
	ck_assert_int_eq(vmdk_staging_cleanup("d", &removed, &err), DESC_OK);
	ck_assert_uint_eq(removed, 2);
	ck_assert(!exists("d/.vmdkit-tmp-a-123456"));
	ck_assert(!exists("d/.vmdkit-tmp-b-654321"));
	ck_assert(exists("d/.vmdkit-tmp-link"));
	ck_assert(exists("target/keep"));
	ck_assert(exists("d/.vmdkit-tmp-file"));
	ck_assert(exists("d/other"));
}
END_TEST

static Suite *leaf_suite(void)
{
	Suite *s = suite_create("leaf");
	TCase *base = tcase_create("base");
	TCase *leaf = tcase_create("leaf");

	tcase_add_checked_fixture(base, setup, teardown);
	tcase_add_test(base, test_base_move);
	tcase_add_test(base, test_base_copy_absolute);
	tcase_add_test(base, test_base_dry_run);
	tcase_add_test(base, test_base_drops_stale_hint);
	tcase_add_loop_test(base, test_base_refusals, 0,
			    (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(base, test_base_rollback);
	tcase_add_test(base, test_mono_move_rollback);
	tcase_add_test(base, test_verify_findings);
	tcase_add_test(base, test_verify_allocation_failure);
	suite_add_tcase(s, base);

	tcase_add_checked_fixture(leaf, setup, teardown);
	tcase_add_test(leaf, test_leaf_create);
	tcase_add_test(leaf, test_two_disks);
	tcase_add_test(leaf, test_leaf_bad_name);
	tcase_add_test(leaf, test_leaf_no_parent);
	tcase_add_test(leaf, test_leaf_dry_run);
	tcase_add_test(leaf, test_leaf_failure_cleanup);
	tcase_add_test(leaf, test_context_many);
	tcase_add_test(leaf, test_context_create_many);
	tcase_add_test(leaf, test_staging_cleanup);
	suite_add_tcase(s, leaf);
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
