/*
 * validate.c - semantic and portability findings for a parsed descriptor.
 *
 * Neither function touches the filesystem.  Every finding carries a stable
 * code documented in descriptor/FINDINGS.md.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
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

static const struct line *header_line(const desc_descriptor *desc,
				      const char *key)
{
	ptrdiff_t i = vk_find_header(desc, key);

	return i < 0 ? NULL : &desc->lines.at[i];
}

static const struct line *ddb_line(const desc_descriptor *desc,
				   const char *key)
{
	ptrdiff_t i = vk_find_ddb(desc, key);

	return i < 0 ? NULL : &desc->lines.at[i];
}

static desc_status check_cid(const desc_descriptor *desc, desc_findings *out,
			     const char *key, const char *missing_code,
			     const char *format_code, bool *valid,
			     unsigned long long *value)
{
	const struct line *line = header_line(desc, key);
	size_t len;
	uint64_t v;

	*valid = false;
	if (line == NULL) {
		ADD(out, DESC_SEV_ERROR, missing_code, 0,
		    "missing '%s' (expected %s=8 hex digits)", key, key);
		return DESC_OK;
	}
	len = strlen(line->value);
	if (len > 8 ||
	    !desc_parse_number_all(line->value, len, 16, UINT32_MAX, &v)) {
		ADD(out, DESC_SEV_ERROR, format_code, line->number,
		    "%s '%s' is not 8 hex digits (expected e.g. 8c808111)", key,
		    line->value);
		return DESC_OK;
	}
	/* qemu writes %x, so a CID below 10000000 loses its leading
	 * zeros; every reader parses it as a number all the same. */
	if (len < 8)
		ADD(out, DESC_SEV_INFO, "cid-unpadded", line->number,
		    "%s '%s' has fewer than 8 digits (qemu drops leading zeros; VMware writes %08llx)",
		    key, line->value, (unsigned long long)v);
	*valid = true;
	*value = v;
	return DESC_OK;
}

/* The last four bytes of a big-endian 128-bit id. */
static unsigned long long low_32_bits(const unsigned char id[16])
{
	return (unsigned long long)id[12] << 24 | (unsigned long long)id[13] << 16 |
	       (unsigned long long)id[14] << 8 | id[15];
}

static desc_status check_ids(const desc_descriptor *desc, desc_findings *out)
{
	const struct line *cid_line = header_line(desc, "CID");
	const struct line *hint = header_line(desc, "parentFileNameHint");
	const struct line *lcid = ddb_line(desc, "ddb.longContentID");
	unsigned long long cid = 0, parent = 0;
	unsigned char long_id[16];
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
	if (cid_ok && lcid != NULL &&
	    vk_hex_decode(lcid->value, strlen(lcid->value), long_id,
			  sizeof(long_id)) &&
	    low_32_bits(long_id) != cid)
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
	const struct line *ct = header_line(desc, "createType");
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
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];
		const desc_extent *e;

		if (line->kind != LINE_EXTENT)
			continue;
		e = &line->extent->fields;
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
	const struct line *lines[3];
	unsigned long long v[3], hs, chs, expected, capacity;
	uint64_t number, sectors = 0;
	const struct line *adapter = ddb_line(desc, "ddb.adapterType");
	size_t present = 0;
	bool ok = true;

	for (size_t i = 0; i < 3; i++) {
		lines[i] = ddb_line(desc, keys[i]);
		if (lines[i] == NULL)
			continue;
		present++;
		/* qemu writes cylinders "0" for a disk smaller than one
		 * cylinder (capacity / (heads x sectors) rounds to 0). */
		if (!desc_parse_number_all(lines[i]->value,
					   strlen(lines[i]->value), 10,
					   UINT64_MAX, &number) ||
		    (number == 0 && i != 0)) {
			ok = false;
			ADD(out, DESC_SEV_WARNING, "geometry-not-number",
			    lines[i]->number,
			    "%s '%s' is not a positive number", keys[i],
			    lines[i]->value);
			continue;
		}
		v[i] = number;
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

struct key_ref {
	const struct line *line;
	size_t index;
};

/* Kind, then key (case-insensitive), then position. */
static int key_ref_compare(const void *pa, const void *pb)
{
	const struct key_ref *a = pa, *b = pb;
	int c;

	if (a->line->kind != b->line->kind)
		return a->line->kind < b->line->kind ? -1 : 1;
	c = strcasecmp(a->line->key, b->line->key);
	if (c != 0)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Sorting keeps this linear-logarithmic: a hostile file may carry
 * thousands of keys. */
static desc_status check_duplicates(const desc_descriptor *desc,
				    desc_findings *out)
{
	const struct line **first_of = NULL;
	struct key_ref *refs = NULL;
	desc_status st = DESC_E_NOMEM;
	size_t n = 0, group = 0;

	for (size_t i = 0; i < desc->lines.count; i++)
		if (desc->lines.at[i].kind == LINE_HEADER ||
		    desc->lines.at[i].kind == LINE_DDB)
			n++;
	if (n < 2)
		return DESC_OK;
	refs = vk_calloc(n, sizeof(*refs));
	first_of = vk_calloc(desc->lines.count, sizeof(*first_of));
	if (refs == NULL || first_of == NULL)
		goto out;
	n = 0;
	for (size_t i = 0; i < desc->lines.count; i++)
		if (desc->lines.at[i].kind == LINE_HEADER ||
		    desc->lines.at[i].kind == LINE_DDB)
			refs[n++] = (struct key_ref){ &desc->lines.at[i], i };
	qsort(refs, n, sizeof(*refs), key_ref_compare);
	for (size_t k = 1; k < n; k++) {
		if (refs[k].line->kind != refs[group].line->kind ||
		    strcasecmp(refs[k].line->key, refs[group].line->key) != 0)
			group = k;
		else
			first_of[refs[k].index] = refs[group].line;
	}
	/* Report in file order. */
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *a = &desc->lines.at[i], *b = first_of[i];

		if (b == NULL)
			continue;
		if (a->kind == LINE_HEADER)
			st = desc_findings_add(out, DESC_SEV_ERROR,
					       "duplicate-header-key", desc->name,
					       a->number,
					       "duplicate header key '%s' (first on line %u); readers disagree on which one counts",
					       a->key, b->number);
		else
			st = desc_findings_add(out, DESC_SEV_WARNING,
					       "duplicate-ddb-key", desc->name,
					       a->number,
					       "duplicate disk database key '%s' (first on line %u)",
					       a->key, b->number);
		if (st != DESC_OK)
			goto out;
	}
	st = DESC_OK;
out:
	vk_free(refs);
	vk_free(first_of);
	return st;
}

static desc_status check_keys(const desc_descriptor *desc, desc_findings *out)
{
	static const char *const adapters[] = {
		"ide", "buslogic", "lsilogic", "legacyESX", "pvscsi",
		"lsisas1068", "sata", "nvme",
	};
	const struct line *adapter = ddb_line(desc, "ddb.adapterType");
	desc_status st = check_duplicates(desc, out);

	if (st != DESC_OK)
		return st;
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

/* ------------------------------------------------------------------ */
/* Portability: forms that qemu, libvmdk, VirtualBox and VMware read   */
/* differently (FORMAT.md, FORMAT-NOTES.md 1.8)                        */
/* ------------------------------------------------------------------ */

static bool contains(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(text + i, needle, n) == 0)
			return true;
	return false;
}

/* Compares a comment line with a section comment the way libvmdk does:
 * case-insensitive, surrounding whitespace ignored. */
static bool comment_is(const struct line *line, const char *want)
{
	size_t start = 0, end = line->len, n = strlen(want);

	while (start < end && (line->text[start] == ' ' || line->text[start] == '\t'))
		start++;
	while (end > start && (line->text[end - 1] == ' ' || line->text[end - 1] == '\t'))
		end--;
	return end - start == n && strncasecmp(line->text + start, want, n) == 0;
}

/* VMware itself writes "# The Disk Data Base " with a trailing space. */
static bool same_ignoring_trailing_blanks(const struct line *line,
					  const char *want)
{
	size_t end = line->len;

	while (end > 0 && (line->text[end - 1] == ' ' || line->text[end - 1] == '\t'))
		end--;
	return end == strlen(want) && memcmp(line->text, want, end) == 0;
}

/* For extent lines, as are the helpers below. */
static bool single_quoted(const struct line *line)
{
	const struct extent_line *x = line->extent;

	return x->path != NULL && x->path_off > 0 &&
	       line->text[x->path_off - 1] == '\'';
}

static bool device_path(const char *path)
{
	return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "\\\\.\\", 4) == 0;
}

/* The extent types qemu reads; every other line it skips silently. */
static bool qemu_reads(const struct line *line)
{
	const desc_extent *e = &line->extent->fields;

	if (e->access != DESC_ACCESS_RW || single_quoted(line))
		return false;
	return e->type == DESC_EXTENT_FLAT || e->type == DESC_EXTENT_SPARSE ||
	       e->type == DESC_EXTENT_VMFS || e->type == DESC_EXTENT_VMFSSPARSE ||
	       e->type == DESC_EXTENT_SESPARSE;
}

/* Single spaces between fields and no blanks around the line outside
 * the quoted name: what libvmdk and VirtualBox split on. */
static bool extent_spacing_ok(const struct line *line)
{
	const struct extent_line *x = line->extent;
	size_t name_start = x->path ? x->path_off - 1 : line->len;
	size_t name_end = x->path ? x->path_end + 1 : line->len;

	if (line->len == 0 || line->text[0] == ' ' || line->text[0] == '\t' ||
	    line->text[line->len - 1] == ' ' || line->text[line->len - 1] == '\t')
		return false;
	for (size_t i = 0; i < line->len; i++) {
		if (i >= name_start && i < name_end)
			continue;
		if (line->text[i] == '\t')
			return false;
		if (line->text[i] == ' ' && i + 1 < line->len &&
		    line->text[i + 1] == ' ')
			return false;
	}
	return true;
}

static bool has_non_ascii(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return true;
	return false;
}

static desc_status check_extent_portability(const desc_descriptor *desc,
					    desc_findings *out)
{
	const struct line *enc = header_line(desc, "encoding");
	bool legacy_encoding = enc != NULL && strcasecmp(enc->value, "UTF-8") != 0;
	unsigned long long total = 0, qemu_total = 0;
	unsigned blanks = 0;
	size_t index = 0;

	/* First pass: the capacity qemu would see, so every finding can
	 * say it. */
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];
		unsigned long long times;

		if (line->kind == LINE_BLANK) {
			blanks++;
			continue;
		}
		if (line->kind == LINE_EXTENT) {
			uint64_t sectors = line->extent->fields.sectors;

			(void)vk_add_u64(total, sectors, &total);
			times = qemu_reads(line) ? 1 + blanks : 0;
			for (unsigned long long t = 0; t < times; t++)
				(void)vk_add_u64(qemu_total, sectors, &qemu_total);
		}
		blanks = 0;
	}
	blanks = 0;
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];
		const desc_extent *e;

		if (line->kind == LINE_BLANK) {
			blanks++;
			continue;
		}
		if (line->kind != LINE_EXTENT) {
			blanks = 0;
			continue;
		}
		e = &line->extent->fields;
		index++;
		if (blanks > 0 && qemu_reads(line))
			ADD(out, DESC_SEV_WARNING, "portability-blank-before-extent",
			    line->number,
			    "blank line right before extent %zu: qemu reads that extent %u times and sees %llu sectors instead of %llu (expected no blank line between '# Extent description' and the extents)",
			    index, blanks + 1, qemu_total, total);
		blanks = 0;
		if (e->access != DESC_ACCESS_RW || e->type == DESC_EXTENT_ZERO ||
		    e->type == DESC_EXTENT_VMFSRDM || e->type == DESC_EXTENT_VMFSRAW)
			ADD(out, DESC_SEV_WARNING, "portability-extent-skipped-by-qemu",
			    line->number,
			    "qemu silently skips %s %s extent %zu and sees %llu sectors instead of %llu",
			    desc_access_name(e->access),
			    desc_extent_type_name(e->type), index, qemu_total,
			    total);
		if (single_quoted(line))
			ADD(out, DESC_SEV_WARNING, "portability-single-quoted-name",
			    line->number,
			    "extent %zu has a single-quoted name: qemu skips the line (expected \"%s\")",
			    index, e->path);
		if (!extent_spacing_ok(line))
			ADD(out, DESC_SEV_WARNING, "portability-extent-spacing",
			    line->number,
			    "extent %zu has tabs or repeated spaces between fields: libvmdk and VirtualBox reject it (expected single spaces)",
			    index);
		if (e->type == DESC_EXTENT_FLAT && e->path != NULL && !e->has_offset)
			ADD(out, DESC_SEV_WARNING, "portability-flat-without-offset",
			    line->number,
			    "FLAT extent %zu has no offset: qemu rejects the line (expected \"%s\" 0)",
			    index, e->path);
		if (e->path != NULL && !device_path(e->path) &&
		    (strchr(e->path, '/') != NULL || strchr(e->path, '\\') != NULL))
			ADD(out, DESC_SEV_INFO, "portability-extent-folder",
			    line->number,
			    "extent %zu '%s' has a folder part: libvmdk ignores it and looks for the base name next to the descriptor",
			    index, e->path);
		if (legacy_encoding && has_non_ascii(e->path))
			ADD(out, DESC_SEV_WARNING, "portability-encoding",
			    line->number,
			    "extent %zu has a non-ASCII name in encoding '%s': qemu passes the bytes through, libvmdk converts them (expected encoding=\"UTF-8\")",
			    index, enc->value);
	}
	return DESC_OK;
}

static desc_status check_header_portability(const desc_descriptor *desc,
					    desc_findings *out)
{
	const struct line *cid = header_line(desc, "CID");
	const struct line *version = header_line(desc, "version");
	const struct line *enc = header_line(desc, "encoding");
	const struct line *hint = header_line(desc, "parentFileNameHint");
	bool before_cid = cid != NULL;

	if (desc->lines.bom)
		ADD(out, DESC_SEV_WARNING, "portability-bom", 1,
		    "the text starts with a UTF-8 byte order mark: qemu, libvmdk and VirtualBox do not recognise the descriptor");
	if (desc->lines.count == 0 || desc->lines.at[0].len != 21 ||
	    memcmp(desc->lines.at[0].text, "# Disk DescriptorFile", 21) != 0)
		ADD(out, DESC_SEV_WARNING, "portability-first-line", 1,
		    "first line is not exactly '# Disk DescriptorFile': VirtualBox rejects the file, and so does libvmdk unless that comment comes before the first key");
	if (version != NULL && strcmp(version->value, "1") != 0)
		ADD(out, DESC_SEV_WARNING, "portability-version", version->number,
		    "version %s: VirtualBox accepts only version=1", version->value);
	/* qemu's format probe: after comment lines, the very next line must
	 * be exactly version=1, 2 or 3. */
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];

		/* qemu skips '#' lines and lines of spaces, but not an
		 * empty line. */
		if ((line->kind == LINE_COMMENT && line->text[0] == '#') ||
		    (line->len > 0 && strspn(line->text, " ") == line->len))
			continue;
		if (!(line->len == 9 && memcmp(line->text, "version=", 8) == 0 &&
		      line->text[8] >= '1' && line->text[8] <= '3'))
			ADD(out, DESC_SEV_WARNING, "portability-qemu-probe",
			    line->number,
			    "qemu-img does not detect the file as VMDK without -f vmdk: the first line after the comments must be exactly version=1");
		break;
	}
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];

		if (line == cid) {
			before_cid = false;
		} else if (before_cid && contains(line->text, line->len, "CID")) {
			if (line->kind == LINE_HEADER &&
			    strcasecmp(line->key, "parentCID") == 0)
				ADD(out, DESC_SEV_WARNING,
				    "portability-parent-cid-before-cid",
				    line->number,
				    "parentCID comes before CID: qemu reads the parentCID value as the CID (expected CID= first)");
			else
				ADD(out, DESC_SEV_WARNING,
				    "portability-cid-text-above-cid", line->number,
				    "'CID' appears above the CID line: qemu takes the first 'CID' text it finds as the CID");
		}
		if (line->kind == LINE_HEADER || line->kind == LINE_CTK) {
			size_t klen = strlen(line->key);

			if (line->len < klen + 1 ||
			    memcmp(line->text, line->key, klen) != 0 ||
			    line->text[klen] != '=')
				ADD(out, DESC_SEV_WARNING,
				    "portability-header-spacing", line->number,
				    "spaces around '=' in header key '%s': qemu misreads it (expected %s=VALUE)",
				    line->key, line->key);
		}
	}
	if (enc != NULL && strcasecmp(enc->value, "UTF-8") != 0 && hint != NULL &&
	    has_non_ascii(hint->value))
		ADD(out, DESC_SEV_WARNING, "portability-encoding", hint->number,
		    "non-ASCII parentFileNameHint in encoding '%s': qemu passes the bytes through, libvmdk converts them (expected encoding=\"UTF-8\")",
		    enc->value);
	return DESC_OK;
}

static desc_status check_section_portability(const desc_descriptor *desc,
					     desc_findings *out)
{
	/* "# Disk DescriptorFile" is portability-first-line's business. */
	static const char *const sections[] = {
		"# Extent description", "# The Disk Data Base",
	};
	bool in_extents = false;

	for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
		const struct line *found = NULL;

		for (size_t i = 0; i < desc->lines.count && found == NULL; i++)
			if (desc->lines.at[i].kind == LINE_COMMENT &&
			    comment_is(&desc->lines.at[i], sections[s]))
				found = &desc->lines.at[i];
		if (found == NULL)
			ADD(out, DESC_SEV_WARNING, "portability-section-comment", 0,
			    "missing section comment '%s': libvmdk needs it",
			    sections[s]);
		else if (!same_ignoring_trailing_blanks(found, sections[s]))
			ADD(out, DESC_SEV_INFO, "portability-section-comment-altered",
			    found->number,
			    "section comment differs from '%s' in case or spacing",
			    sections[s]);
	}
	/* libvmdk parses every non-empty line after "# Extent description"
	 * as an extent until the next section comment. */
	for (size_t i = 0; i < desc->lines.count; i++) {
		const struct line *line = &desc->lines.at[i];

		if (line->kind == LINE_COMMENT) {
			if (comment_is(line, "# Extent description")) {
				in_extents = true;
				continue;
			}
			if (comment_is(line, "# The Disk Data Base") ||
			    comment_is(line, "#DDB") ||
			    comment_is(line, "# Change Tracking File")) {
				in_extents = false;
				continue;
			}
			if (in_extents)
				ADD(out, DESC_SEV_WARNING,
				    "portability-comment-in-extents", line->number,
				    "comment among the extent lines: libvmdk reads it as a broken extent");
		}
	}
	return DESC_OK;
}

desc_status desc_check_portability(const desc_descriptor *desc,
				   desc_findings *out)
{
	desc_status st;

	if (desc == NULL || out == NULL)
		return DESC_E_ARG;
	if ((st = check_header_portability(desc, out)) != DESC_OK ||
	    (st = check_section_portability(desc, out)) != DESC_OK ||
	    (st = check_extent_portability(desc, out)) != DESC_OK)
		return st;
	return DESC_OK;
}
