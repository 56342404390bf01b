/*
 * verify.c - vmdk_base_verify: a base folder against its manifest (every
 * file present, read-only, of its size and SHA-256; extra files noted).
 * Read-only; the findings' codes are in vmdk/CHECKS.md.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/fs/fs.h"
#include "vmdk/ops/ops.h"
#include "descriptor/private.h"

/* ------------------------------------------------------------------ */
/* verify                                                              */
/* ------------------------------------------------------------------ */

static desc_status finding(desc_findings *out, desc_severity sev,
			   const char *code, const char *file, desc_error *err,
			   const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static desc_status finding(desc_findings *out, desc_severity sev,
			   const char *code, const char *file, desc_error *err,
			   const char *fmt, ...)
{
	va_list ap;
	char *msg;
	desc_status st;

	va_start(ap, fmt);
	msg = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (msg == NULL)
		return vk_nomem(err);
	st = desc_findings_add(out, sev, code, file, 0, "%s", msg);
	vk_free(msg);
	if (st != DESC_OK)
		return vk_nomem(err);
	return DESC_OK;
}

static desc_status verify_entry(int dfd, const char *basedir,
				const manifest_entry *e, desc_findings *out,
				desc_error *err)
{
	unsigned char sum[32];
	uint64_t size = 0;
	desc_error herr;
	char *path = fs_join(basedir, e->name);
	desc_status st = DESC_OK;
	struct stat sb;

	if (path == NULL)
		return vk_nomem(err);
	if (fstatat(dfd, e->name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		st = finding(out, DESC_SEV_ERROR, "base-missing", path, err,
			     "base file '%s' is missing", e->name);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		st = finding(out, DESC_SEV_ERROR, "base-modified", path, err,
			     "base file '%s' is no longer a regular file",
			     e->name);
		goto out;
	}
	if (sb.st_mode & 0222) {
		st = finding(out, DESC_SEV_ERROR, "base-writable", path, err,
			     "base file '%s' is writable (mode %04o; expected 0444: run chmod a-w)",
			     e->name, (unsigned)(sb.st_mode & 07777));
		if (st != DESC_OK)
			goto out;
	}
	if ((uint64_t)sb.st_size != e->size) {
		st = finding(out, DESC_SEV_ERROR, "base-size-changed", path, err,
			     "base file '%s' changed size (%llu bytes, manifest says %llu)",
			     e->name, (unsigned long long)sb.st_size,
			     (unsigned long long)e->size);
		goto out;
	}
	if (manifest_hash_file(dfd, basedir, e->name, &size, sum, &herr) != DESC_OK) {
		if (herr.code == DESC_E_NOMEM) {
			st = vk_nomem(err);
			goto out;
		}
		st = finding(out, DESC_SEV_ERROR, "base-unreadable", path, err,
			     "%s", herr.message);
		goto out;
	}
	if (size != e->size || memcmp(sum, e->sha256, sizeof(sum)) != 0)
		st = finding(out, DESC_SEV_ERROR, "base-modified", path, err,
			     "base file '%s' was modified (SHA-256 differs from the manifest)",
			     e->name);
out:
	vk_free(path);
	return st;
}

desc_status vmdk_base_verify(const char *basedir, desc_findings *out,
			     desc_error *err)
{
	manifest m = { 0 };
	char *mpath = NULL, *text = NULL;
	size_t len = 0, i;
	desc_status st;
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	int dfd = -1;

	desc_error_clear(err);
	if (basedir == NULL || out == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_base_verify: NULL argument");
	dfd = open(basedir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fs_error(err, errno, basedir, "cannot open base folder");
	mpath = fs_join(basedir, VMDK_MANIFEST_NAME);
	if (mpath == NULL) {
		st = vk_nomem(err);
		goto out;
	}
	if (fstatat(dfd, VMDK_MANIFEST_NAME, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
		st = finding(out, DESC_SEV_ERROR, "base-no-manifest", mpath, err,
			     "no manifest '%s' (expected a folder made by vmdkit base)",
			     VMDK_MANIFEST_NAME);
		goto out;
	}
	st = fs_read_file(mpath, DESC_MAX_INPUT, &text, &len, err);
	if (st != DESC_OK)
		goto out;
	st = manifest_parse(text, len, mpath, &m, err);
	if (st != DESC_OK)
		goto out;
	if (sb.st_mode & 0222) {
		st = finding(out, DESC_SEV_ERROR, "base-writable", mpath, err,
			     "manifest '%s' is writable (expected 0444: run chmod a-w)",
			     VMDK_MANIFEST_NAME);
		if (st != DESC_OK)
			goto out;
	}
	for (i = 0; i < m.count && st == DESC_OK; i++)
		st = verify_entry(dfd, basedir, &m.entries[i], out, err);
	if (st != DESC_OK)
		goto out;
	d = opendir(basedir);
	if (d == NULL) {
		st = fs_error(err, errno, basedir, "cannot read folder");
		goto out;
	}
	while ((de = readdir(d)) != NULL && st == DESC_OK) {
		char *p;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, VMDK_MANIFEST_NAME) == 0 ||
		    manifest_find(&m, de->d_name) != NULL)
			continue;
		p = fs_join(basedir, de->d_name);
		if (p == NULL) {
			st = vk_nomem(err);
			break;
		}
		st = finding(out, DESC_SEV_INFO, "base-extra-file", p, err,
			     "'%s' is not in the manifest", de->d_name);
		vk_free(p);
	}
out:
	if (d != NULL)
		closedir(d);
	close(dfd);
	manifest_clear(&m);
	vk_free(text);
	vk_free(mpath);
	return st;
}
