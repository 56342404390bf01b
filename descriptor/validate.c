/*
 * validate.c - semantic and portability findings for a parsed descriptor.
 *
 * Neither function touches the filesystem.  Every finding carries a stable
 * code documented in descriptor/FINDINGS.md.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "descriptor/desc_private.h"
#include "descriptor/private.h"

#define CID_NO_PARENT 0xffffffffu
#define CID_INITIAL 0xfffffffeu

/* Stops at the first failed append: every caller returns on it. */
#define ADD(out, sev, code, line, ...)                                        \
	do {                                                                  \
		if (desc_findings_add((out), (sev), (code), desc->name,       \
				      (line), __VA_ARGS__) != DESC_OK)        \
			return DESC_E_NOMEM;                                  \
	} while (0)

static const struct dline *header_line(const desc_descriptor *desc,
				       const char *key)
{
	const struct dline *fallback = NULL;

	for (size_t i = 0; i < desc->count; i++) {
		const struct dline *line = desc->lines[i];

		if (line->kind != LINE_HEADER)
			continue;
		if (strcmp(line->key, key) == 0)
			return line;
		if (fallback == NULL && strcasecmp(line->key, key) == 0)
			fallback = line;
	}
	return fallback;
}

static const struct dline *ddb_line(const desc_descriptor *desc,
				    const char *key)
{
	const struct dline *found = NULL;

	for (size_t i = 0; i < desc->count; i++)
		if (desc->lines[i]->kind == LINE_DDB &&
		    strcasecmp(desc->lines[i]->key, key) == 0)
			found = desc->lines[i];
	return found;
}

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

/* A positive decimal number without sign or junk. */
static bool positive_number(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || !vk_mul_u64(v, 10, &v) ||
		    !vk_add_u64(v, (unsigned long long)(*s - '0'), &v))
			return false;
	}
	*out = v;
	return v > 0;
}

static unsigned long long hex_value(const char *s)
{
	unsigned long long v = 0;

	for (; *s != '\0'; s++)
		v = (v << 4) | (unsigned long long)(*s <= '9' ? *s - '0' :
						    (*s | 0x20) - 'a' + 10);
	return v;
}

static desc_status check_cid(const desc_descriptor *desc, desc_findings *out,
			     const char *key, const char *missing_code,
			     const char *format_code, bool *valid,
			     unsigned long long *value)
{
	const struct dline *line = header_line(desc, key);
	size_t len;

	*valid = false;
	if (line == NULL) {
		ADD(out, DESC_SEV_ERROR, missing_code, 0,
		    "missing '%s' (expected %s=8 hex digits)", key, key);
		return DESC_OK;
	}
	len = strlen(line->value);
	if (len != 8 || !is_hex(line->value, len)) {
		ADD(out, DESC_SEV_ERROR, format_code, line->number,
		    "%s '%s' is not 8 hex digits (expected e.g. 8c808111)", key,
		    line->value);
		return DESC_OK;
	}
	*valid = true;
	*value = hex_value(line->value);
	return DESC_OK;
}

static desc_status check_ids(const desc_descriptor *desc, desc_findings *out)
{
	const struct dline *cid_line = header_line(desc, "CID");
	const struct dline *hint = header_line(desc, "parentFileNameHint");
	const struct dline *lcid = ddb_line(desc, "ddb.longContentID");
	unsigned long long cid = 0, parent = 0;
	bool cid_ok, parent_ok;
	desc_status st;

	st = check_cid(desc, out, "CID", "cid-missing", "cid-format", &cid_ok,
		       &cid);
	if (st != DESC_OK)
		return st;
	st = check_cid(desc, out, "parentCID", "parent-cid-missing",
		       "parent-cid-format", &parent_ok, &parent);
	if (st != DESC_OK)
		return st;
	if (cid_ok && cid == CID_INITIAL)
		ADD(out, DESC_SEV_INFO, "cid-initial", cid_line->number,
		    "CID fffffffe is the value of a disk that was never written");
	if (parent_ok && parent != CID_NO_PARENT && hint == NULL)
		ADD(out, DESC_SEV_WARNING, "delta-without-hint",
		    header_line(desc, "parentCID")->number,
		    "parentCID %08llx names a parent but there is no parentFileNameHint (expected parentFileNameHint=\"PARENT.vmdk\")",
		    parent);
	if (parent_ok && parent == CID_NO_PARENT && hint != NULL)
		ADD(out, DESC_SEV_WARNING, "hint-without-parent", hint->number,
		    "parentFileNameHint '%s' on a disk whose parentCID is ffffffff (no parent)",
		    hint->value);
	if (hint != NULL && hint->value[0] == '\0')
		ADD(out, DESC_SEV_ERROR, "hint-empty", hint->number,
		    "empty parentFileNameHint (expected the parent's path)");
	/* The low 32 bits of longContentID follow the CID in every
	 * writer; a mismatch means one was edited without the other. */
	if (cid_ok && lcid != NULL && strlen(lcid->value) == 32 &&
	    is_hex(lcid->value, 32) && hex_value(lcid->value + 24) != cid)
		ADD(out, DESC_SEV_WARNING, "long-content-id-mismatch",
		    lcid->number,
		    "ddb.longContentID '%s' does not end in the CID %08llx",
		    lcid->value, cid);
	return DESC_OK;
}

static unsigned type_bits_to_text(unsigned bits, char *buf, size_t size)
{
	size_t pos = 0;
	unsigned n = 0;

	buf[0] = '\0';
	for (unsigned t = 0; t <= DESC_EXTENT_SESPARSE; t++) {
		if (!(bits & (1u << t)))
			continue;
		pos += (size_t)snprintf(buf + pos, size > pos ? size - pos : 0,
					"%s%s", n ? " or " : "",
					desc_extent_type_name((desc_extent_type)t));
		n++;
	}
	return n;
}

static desc_status check_extents(const desc_descriptor *desc,
				 desc_findings *out)
{
	const struct dline *ct = header_line(desc, "createType");
	const struct create_type_info *info = NULL;
	unsigned long long sum = 0;
	bool overflow = false;
	size_t count = 0;
	char allowed[128];

	if (ct == NULL)
		ADD(out, DESC_SEV_ERROR, "create-type-missing", 0,
		    "missing 'createType' (expected createType=\"TYPE\")");
	else if ((info = vk_create_type_info(ct->value)) == NULL)
		ADD(out, DESC_SEV_WARNING, "unknown-create-type", ct->number,
		    "unknown createType '%s' (expected monolithicSparse, twoGbMaxExtentSparse, monolithicFlat, vmfs, vmfsSparse, ...)",
		    ct->value);
	if (info != NULL)
		type_bits_to_text(info->extent_types, allowed, sizeof(allowed));
	for (size_t i = 0; i < desc->count; i++) {
		const struct dline *line = desc->lines[i];
		const desc_extent *e = &line->extent;

		if (line->kind != LINE_EXTENT)
			continue;
		count++;
		if (!overflow && !vk_add_u64(sum, e->sectors, &sum)) {
			overflow = true;
			ADD(out, DESC_SEV_ERROR, "capacity-overflow", line->number,
			    "extent sizes add up to more than %llu sectors",
			    (unsigned long long)UINT64_MAX);
		}
		if (e->sectors == 0)
			ADD(out, DESC_SEV_WARNING, "extent-empty", line->number,
			    "extent %zu has 0 sectors", count);
		if (e->type == DESC_EXTENT_ZERO && e->path != NULL)
			ADD(out, DESC_SEV_INFO, "zero-extent-with-file",
			    line->number,
			    "ZERO extent %zu names a file '%s' that is never read",
			    count, e->path);
		if (info != NULL && !(info->extent_types & (1u << e->type)))
			ADD(out, DESC_SEV_ERROR, "extent-type-mismatch",
			    line->number,
			    "extent %zu is %s but createType '%s' expects %s",
			    count, desc_extent_type_name(e->type), info->name,
			    allowed);
	}
	if (count == 0)
		ADD(out, DESC_SEV_ERROR, "no-extents", 0,
		    "no extent lines (expected at least one)");
	else if (info != NULL && info->monolithic && count != 1)
		ADD(out, DESC_SEV_ERROR, "monolithic-extent-count",
		    ct->number, "createType '%s' has %zu extents (expected exactly one)",
		    info->name, count);
	return DESC_OK;
}

static desc_status check_geometry(const desc_descriptor *desc,
				  desc_findings *out)
{
	static const char *const keys[3] = {
		"ddb.geometry.cylinders", "ddb.geometry.heads",
		"ddb.geometry.sectors",
	};
	const struct dline *lines[3];
	unsigned long long v[3], hs, chs, expected, capacity;
	uint64_t sectors = 0;
	const struct dline *adapter = ddb_line(desc, "ddb.adapterType");
	size_t present = 0;
	bool ok = true;

	for (size_t i = 0; i < 3; i++) {
		lines[i] = ddb_line(desc, keys[i]);
		if (lines[i] == NULL)
			continue;
		present++;
		if (!positive_number(lines[i]->value, &v[i])) {
			ok = false;
			ADD(out, DESC_SEV_WARNING, "geometry-not-number",
			    lines[i]->number,
			    "%s '%s' is not a positive number", keys[i],
			    lines[i]->value);
		}
	}
	if (present == 0)
		return DESC_OK;
	if (present != 3) {
		ADD(out, DESC_SEV_WARNING, "geometry-incomplete", 0,
		    "only %zu of ddb.geometry.cylinders/heads/sectors are present (expected all three)",
		    present);
		return DESC_OK;
	}
	if (!ok || !desc_capacity(desc, &sectors))
		return DESC_OK;
	capacity = sectors;
	if (!vk_mul_u64(v[1], v[2], &hs) || !vk_mul_u64(v[0], hs, &chs) ||
	    chs > capacity)
		ADD(out, DESC_SEV_WARNING, "geometry-exceeds-capacity",
		    lines[0]->number,
		    "geometry %llu/%llu/%llu is larger than the capacity of %llu sectors",
		    v[0], v[1], v[2], capacity);
	if (!vk_mul_u64(v[1], v[2], &hs))
		return DESC_OK;
	expected = capacity / hs;
	/* VMware caps cylinders at 16383 (the ATA limit, also seen on SCSI
	 * disks) or 65535; qemu does not cap.  Any of those is consistent. */
	if (v[0] != expected && v[0] != expected + (capacity % hs != 0) &&
	    !(expected > 16383 && v[0] == 16383) &&
	    !(expected > 65535 && v[0] == 65535 &&
	      (adapter == NULL || strcasecmp(adapter->value, "ide") != 0)))
		ADD(out, DESC_SEV_WARNING, "geometry-mismatch", lines[0]->number,
		    "ddb.geometry.cylinders is %llu but capacity / (heads x sectors) gives %llu",
		    v[0], expected);
	return DESC_OK;
}

static desc_status check_keys(const desc_descriptor *desc, desc_findings *out)
{
	static const char *const adapters[] = {
		"ide", "buslogic", "lsilogic", "legacyESX", "pvscsi",
		"lsisas1068", "sata", "nvme",
	};
	const struct dline *adapter = ddb_line(desc, "ddb.adapterType");

	for (size_t i = 0; i < desc->count; i++) {
		const struct dline *a = desc->lines[i];

		if (a->kind != LINE_HEADER && a->kind != LINE_DDB)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct dline *b = desc->lines[j];

			if (b->kind != a->kind || strcasecmp(a->key, b->key) != 0)
				continue;
			if (a->kind == LINE_HEADER)
				ADD(out, DESC_SEV_ERROR, "duplicate-header-key",
				    a->number,
				    "duplicate header key '%s' (first on line %u); readers disagree on which one counts",
				    a->key, b->number);
			else
				ADD(out, DESC_SEV_WARNING, "duplicate-ddb-key",
				    a->number,
				    "duplicate disk database key '%s' (first on line %u)",
				    a->key, b->number);
			break;
		}
	}
	if (adapter != NULL) {
		bool known = false;

		for (size_t i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++)
			if (strcmp(adapter->value, adapters[i]) == 0)
				known = true;
		if (!known)
			ADD(out, DESC_SEV_WARNING, "adapter-type-unknown",
			    adapter->number,
			    "unknown ddb.adapterType '%s' (expected ide, buslogic, lsilogic, legacyESX, pvscsi, lsisas1068, sata, nvme)",
			    adapter->value);
	}
	return DESC_OK;
}

desc_status desc_validate(const desc_descriptor *desc, desc_findings *out)
{
	desc_status st;

	if (desc == NULL || out == NULL)
		return DESC_E_ARG;
	if ((st = check_ids(desc, out)) != DESC_OK ||
	    (st = check_extents(desc, out)) != DESC_OK ||
	    (st = check_geometry(desc, out)) != DESC_OK ||
	    (st = check_keys(desc, out)) != DESC_OK)
		return st;
	return DESC_OK;
}

desc_status desc_check_portability(const desc_descriptor *desc,
				   desc_findings *out)
{
	(void)desc;
	(void)out;
	return DESC_OK;
}
