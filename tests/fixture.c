/*
 * fixture.c - the helpers of fixture.h.
 */
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

#include "tests/fixture.h"

char fx_dir[4096];

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

void fx_setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(fx_dir, sizeof(fx_dir), "%s/vmdkit-check.XXXXXX",
		 base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(fx_dir));
	ck_assert_int_eq(chdir(fx_dir), 0);
}

void fx_teardown(void)
{
	if (chdir("/") == 0)
		nftw(fx_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *fx_slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(fp != NULL, "cannot open %s", path);
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

const char *fx_text(const char *path)
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

static void put(const char *path, const char *mode, const char *text)
{
	FILE *fp = fopen(path, mode);

	ck_assert_msg(fp != NULL, "cannot open %s", path);
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

void fx_write(const char *path, const char *text)
{
	put(path, "wb", text);
}

void fx_append(const char *path, const char *text)
{
	put(path, "ab", text);
}

void fx_replace_line(const char *path, const char *prefix, const char *line)
{
	char *text = fx_slurp(path), *at, *end, *out;
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
	fx_write(path, out);
	free(out);
	free(text);
}

bool fx_exists(const char *path)
{
	struct stat sb;

	return lstat(path, &sb) == 0;
}

unsigned fx_mode(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_mode & 07777;
}

bool fx_no_staging(const char *dir)
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

void fx_make_master(void)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_TWOGB_SPARSE,
				    .size_bytes = 3u << 20 };
	desc_error err;

	ck_assert_int_eq(mkdir("m", 0755), 0);
	ck_assert_int_eq(vmdk_disk_create("m/Core.vmdk", &opt, &err), DESC_OK);
	fx_append("m/Core.vmdk",
		  "ddb.uuid = \"60 00 c2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n"
		  "ddb.longContentID = \"0123456789abcdef0123456789abcdef\"\n");
	fx_write("m/Core.vmx",
		 ".encoding = \"UTF-8\"\n"
		 "displayName = \"Core\"\n"
		 "memsize = \"1024\"\n"
		 "scsi0.present = \"TRUE\"\n"
		 "scsi0:0.present = \"TRUE\"\n"
		 "scsi0:0.fileName = \"Core.vmdk\"\n"
		 "uuid.bios = \"56 4d 00 11 22 33 44 55-66 77 88 99 aa bb cc dd\"\n");
}

void fx_make_tree(void)
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

void fx_plant_defects(void)
{
	static const char uuid[] =
		"uuid.bios = \"56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee\"\n";

	ck_assert_int_eq(mkdir("vms/L1/Core-000001.vmdk.lck", 0755), 0);
	fx_append("vms/L1/L1.vmx", uuid);
	fx_append("vms/L2/L2.vmx", uuid);
	fx_replace_line("vms/L1/Core.vmdk", "CID=", "CID=0badc1d0");
}

void fx_modify_base(const char *extent)
{
	int fd;

	ck_assert_int_eq(chmod(extent, 0644), 0);
	fd = open(extent, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "x", 1, 60000), 1);
	close(fd);
	ck_assert_int_eq(chmod(extent, 0444), 0);
}

void fx_check_tree(const char *path, const vmdk_check_options *opt,
		   desc_findings *out)
{
	vmdk_check_options def = { .recursive = true };
	const char *paths[1] = { path };
	desc_error err;

	desc_findings_init(out);
	ck_assert_int_eq(vmdk_check_paths(paths, 1, opt ? opt : &def, out, &err),
			 DESC_OK);
}

bool fx_has_code(const desc_findings *l, const char *code)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].code, code) == 0)
			return true;
	return false;
}

const char *fx_dump(const desc_findings *l)
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

const char *fx_steps[64];
size_t fx_nsteps;

void fx_collect(void *ctx, const char *action, const char *path)
{
	(void)ctx;
	(void)path;
	if (fx_nsteps < 64)
		fx_steps[fx_nsteps++] = action;
}
