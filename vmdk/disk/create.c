/*
 * create.c - new empty disks (monolithic/split, sparse/flat) and empty
 * deltas over an existing disk, laid out the way VMware and qemu-img
 * write them so that every consumer reads them the same way.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmdk/disk/disk.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "descriptor/private.h"

/* Split extents: what current VMware Workstation writes (127 full grain
 * tables, ~3.97 GiB, still under FAT32's 4 GiB file limit).  Readers take
 * any size (qemu writes 4194304, old VMware 4192256). */
#define SPLIT_EXTENT_SECTORS UINT64_C(8323072)
/* Embedded descriptor area: sector 1, 20 sectors, where qemu always
 * reads and rewrites it whatever the header says. */
#define EMBEDDED_DESC_SECTORS 20u
#define NO_PARENT_CID 0xffffffffu

static const char *const type_names[] = {
	[VMDK_CREATE_MONOLITHIC_SPARSE] = "monolithicSparse",
	[VMDK_CREATE_TWOGB_SPARSE] = "twoGbMaxExtentSparse",
	[VMDK_CREATE_MONOLITHIC_FLAT] = "monolithicFlat",
	[VMDK_CREATE_TWOGB_FLAT] = "twoGbMaxExtentFlat",
};

static const char *const adapter_types[] = {
	"ide", "buslogic", "lsilogic", "legacyESX", "lsisas1068", "pvscsi",
};

bool vmdk_create_type_from_name(const char *name, vmdk_create_type *out)
{
	size_t i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcasecmp(name, type_names[i]) == 0) {
			*out = (vmdk_create_type)i;
			return true;
		}
	}
	return false;
}

const char *vmdk_create_type_name(vmdk_create_type type)
{
	if ((size_t)type >= sizeof(type_names) / sizeof(type_names[0]))
		return NULL;
	return type_names[type];
}

uint32_t vmdk_random_cid(void)
{
	uint32_t cid;

	for (;;) {
		if (fs_random(&cid, sizeof(cid), NULL) != DESC_OK) {
			/* fs_random cannot fail on a sane system; never
			 * return a fixed value all the same. */
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			cid = (uint32_t)ts.tv_nsec ^ (uint32_t)ts.tv_sec ^
			      ((uint32_t)getpid() << 16);
		}
		/* ffffffff means "no parent", fffffffe is VMware's "new". */
		if (cid != 0xffffffffu && cid != 0xfffffffeu)
			return cid;
	}
}

/* Files created so far, removed again when a later step fails. */
struct created {
	char **paths;
	size_t count;
};

static desc_status created_add(struct created *c, const char *path,
			       desc_error *err)
{
	char **p = vk_reallocarray(c->paths, c->count + 1, sizeof(*p));

	if (p == NULL)
		return vk_nomem(err);
	c->paths = p;
	c->paths[c->count] = vk_strdup(path);
	if (c->paths[c->count] == NULL)
		return vk_nomem(err);
	c->count++;
	return DESC_OK;
}

/* Records a file we just created; if even that fails, the file goes at
 * once (it is ours: O_EXCL succeeded). */
static desc_status remember(struct created *c, const char *path,
			    desc_error *err)
{
	desc_status rc = created_add(c, path, err);

	if (rc != DESC_OK)
		fp_unlink(path);
	return rc;
}

static void created_finish(struct created *c, bool remove)
{
	size_t i;

	for (i = c->count; i-- > 0;) {
		if (remove)
			fp_unlink(c->paths[i]);
		vk_free(c->paths[i]);
	}
	vk_free(c->paths);
	c->paths = NULL;
	c->count = 0;
}

/* A name that a descriptor can hold: no quote, no line break. */
static desc_status check_name(const char *what, const char *name,
			      desc_error *err)
{
	const char *p;

	for (p = name; *p != '\0'; p++)
		if (*p == '"' || *p == '\n' || *p == '\r')
			return desc_error_set(err, DESC_E_ARG, "", 0,
					      "%s '%s' contains a quote or line break, which a descriptor cannot hold",
					      what, name);
	return DESC_OK;
}

/* "dir/NAME.vmdk" -> "NAME" (the stem extent names are made from). */
static char *name_stem(const char *path)
{
	char *base = fs_basename(path);
	size_t n;

	if (base == NULL)
		return NULL;
	n = strlen(base);
	if (n > 5 && strcasecmp(base + n - 5, ".vmdk") == 0)
		base[n - 5] = '\0';
	return base;
}

static desc_status hex_random(char *out, size_t bytes, desc_error *err)
{
	unsigned char raw[32];
	desc_status rc;

	rc = fs_random(raw, bytes, err);
	if (rc != DESC_OK)
		return rc;
	vk_hex_encode(raw, bytes, out);
	return DESC_OK;
}

/* 32 hex digits whose last 8 are the CID, as VMware writes them. */
static desc_status long_content_id(uint32_t cid, char out[33], desc_error *err)
{
	desc_status rc = hex_random(out, 12, err);

	if (rc == DESC_OK)
		snprintf(out + 24, 9, "%08" PRIx32, cid);
	return rc;
}

desc_status disk_new_uuid(char out[48], desc_error *err)
{
	unsigned char b[16];
	desc_status rc = fs_random(b + 3, 13, err);

	if (rc != DESC_OK)
		return rc;
	b[3] = (unsigned char)(0x90 | (b[3] & 0x0f));
	snprintf(out, 48,
		 "60 00 C2 %02x %02x %02x %02x %02x-%02x %02x %02x %02x %02x %02x %02x %02x",
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return DESC_OK;
}

static bool is_ide(const char *adapter)
{
	return strcmp(adapter, "ide") == 0;
}

static desc_status set_geometry(desc_descriptor *d, uint64_t sectors,
				const char *adapter, desc_error *err)
{
	uint64_t heads = is_ide(adapter) ? 16 : 255, per_track = 63;
	uint64_t max = is_ide(adapter) ? 16383 : 65535;
	uint64_t cylinders = sectors / (heads * per_track);
	char buf[32];
	desc_status rc;

	if (cylinders > max)
		cylinders = max;
	snprintf(buf, sizeof(buf), "%" PRIu64, cylinders);
	rc = desc_ddb_set(d, "ddb.geometry.cylinders", buf, err);
	if (rc != DESC_OK)
		return rc;
	snprintf(buf, sizeof(buf), "%" PRIu64, heads);
	rc = desc_ddb_set(d, "ddb.geometry.heads", buf, err);
	if (rc != DESC_OK)
		return rc;
	snprintf(buf, sizeof(buf), "%" PRIu64, per_track);
	return desc_ddb_set(d, "ddb.geometry.sectors", buf, err);
}

static desc_status add_extent(desc_descriptor *d, desc_extent_type type,
			      uint64_t sectors, const char *name, bool offset,
			      desc_error *err)
{
	desc_extent e;

	memset(&e, 0, sizeof(e));
	e.access = DESC_ACCESS_RW;
	e.sectors = sectors;
	e.type = type;
	e.path = name;
	e.has_offset = offset;
	e.offset = 0;
	return desc_extent_add(d, &e, err);
}

/* One planned extent file. */
struct plan_extent {
	char *name; /* as written in the descriptor */
	uint64_t sectors;
};

struct plan {
	desc_descriptor *desc;
	char *dir;
	char *stem;
	bool sparse;
	bool monolithic; /* sparse with embedded descriptor */
	struct plan_extent *extents;
	size_t count;
};

static void plan_free(struct plan *p)
{
	size_t i;

	for (i = 0; i < p->count; i++)
		vk_free(p->extents[i].name);
	vk_free(p->extents);
	vk_free(p->dir);
	vk_free(p->stem);
	desc_free(p->desc);
	memset(p, 0, sizeof(*p));
}

static desc_status plan_add(struct plan *p, const char *name, uint64_t sectors,
			    desc_error *err)
{
	struct plan_extent *e;

	e = vk_reallocarray(p->extents, p->count + 1, sizeof(*e));
	if (e == NULL)
		return vk_nomem(err);
	p->extents = e;
	e[p->count].name = vk_strdup(name);
	if (e[p->count].name == NULL)
		return vk_nomem(err);
	e[p->count].sectors = sectors;
	p->count++;
	return add_extent(p->desc, p->sparse ? DESC_EXTENT_SPARSE : DESC_EXTENT_FLAT,
			  sectors, name, !p->sparse, err);
}

/* Adds numbered split extents "STEM-s001.vmdk"/"STEM-f001.vmdk" of the
 * given sizes. */
static desc_status plan_split(struct plan *p, const uint64_t *sizes,
			      size_t n, desc_error *err)
{
	desc_status rc = DESC_OK;
	size_t i;

	for (i = 0; i < n && rc == DESC_OK; i++) {
		char *name = vk_asprintf("%s-%c%03zu.vmdk", p->stem,
					 p->sparse ? 's' : 'f', i + 1);

		if (name == NULL)
			return vk_nomem(err);
		rc = plan_add(p, name, sizes[i], err);
		vk_free(name);
	}
	return rc;
}

static desc_status plan_start(struct plan *p, const char *path,
			      const char *create_type, uint32_t cid,
			      uint32_t parent_cid, desc_error *err)
{
	desc_status rc;

	memset(p, 0, sizeof(*p));
	rc = check_name("disk path", path, err);
	if (rc != DESC_OK)
		return rc;
	p->dir = fs_dirname(path);
	p->stem = name_stem(path);
	if (p->dir == NULL || p->stem == NULL)
		return vk_nomem(err);
	return desc_new(create_type, cid, parent_cid, &p->desc, err);
}

static desc_status write_flat(const char *path, uint64_t sectors,
			      desc_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		      0644);

	if (fd < 0)
		return fs_error(err, errno, path, "cannot create");
	/* A flat extent of zeros is a hole: VMware preallocates, but every
	 * reader sees the same bytes. */
	if (fp_ftruncate(fd, (off_t)(sectors * VMDK_SECTOR_SIZE)) < 0 ||
	    fp_fsync(fd) < 0) {
		int e = errno;

		close(fd);
		fp_unlink(path);
		return fs_error(err, e, path, "cannot extend");
	}
	if (close(fd) < 0) {
		fp_unlink(path);
		return fs_error(err, errno, path, "cannot close");
	}
	return DESC_OK;
}

/* Writes the extent files and the descriptor (last, so a descriptor never
 * names missing extents), then syncs the folder.  On failure everything
 * created is removed. */
static desc_status plan_write(struct plan *p, const char *path,
			      desc_error *err)
{
	struct created made = { NULL, 0 };
	struct sparse_layout layout;
	desc_status rc = DESC_OK;
	char *text = NULL, *epath = NULL;
	size_t len = 0, i;

	rc = desc_write(p->desc, &text, &len, err);
	if (rc != DESC_OK)
		goto out;
	if (p->monolithic) {
		rc = sparse_layout_compute(p->extents[0].sectors,
					   EMBEDDED_DESC_SECTORS, &layout, err);
		if (rc == DESC_OK && len > EMBEDDED_DESC_SECTORS * VMDK_SECTOR_SIZE)
			rc = desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
					    "descriptor of %zu bytes does not fit the %u-byte embedded area",
					    len, EMBEDDED_DESC_SECTORS * VMDK_SECTOR_SIZE);
		if (rc == DESC_OK)
			rc = sparse_create_file(path, &layout, text, len, err);
		if (rc == DESC_OK)
			rc = remember(&made, path, err);
		goto out;
	}
	/* Check every size before creating anything. */
	for (i = 0; i < p->count && p->sparse; i++) {
		rc = sparse_layout_compute(p->extents[i].sectors, 0, &layout,
					   err);
		if (rc != DESC_OK)
			goto out;
	}
	for (i = 0; i < p->count; i++) {
		epath = fs_join(p->dir, p->extents[i].name);
		if (epath == NULL) {
			rc = vk_nomem(err);
			goto out;
		}
		if (p->sparse) {
			rc = sparse_layout_compute(p->extents[i].sectors, 0,
						   &layout, err);
			if (rc == DESC_OK)
				rc = sparse_create_file(epath, &layout, NULL, 0,
							err);
		} else {
			rc = write_flat(epath, p->extents[i].sectors, err);
		}
		if (rc == DESC_OK)
			rc = remember(&made, epath, err);
		if (rc != DESC_OK)
			goto out;
		vk_free(epath);
		epath = NULL;
	}
	rc = fs_write_new(path, text, len, 0644, fs_sync_wanted(), err);
	if (rc == DESC_OK)
		rc = remember(&made, path, err);
out:
	if (rc == DESC_OK && fs_sync_wanted())
		rc = fs_sync_dir(p->dir, err);
	created_finish(&made, rc != DESC_OK);
	vk_free(epath);
	vk_free(text);
	return rc;
}

struct sparse_fill {
	struct sparse_layout layout;
	const char *text; /* embedded descriptor, or NULL */
	size_t len;
};

static desc_status fill_sparse(void *ctx, const char *staged, desc_error *err)
{
	struct sparse_fill *f = ctx;

	return sparse_create_file(staged, &f->layout, f->text, f->len, err);
}

static desc_status fill_flat(void *ctx, const char *staged, desc_error *err)
{
	return write_flat(staged, *(const uint64_t *)ctx, err);
}

/* plan_write through one transaction in the disk's folder: the files are
 * made in its staging folder and appear at the commit, extents first;
 * a dry run reports the same steps. */
static desc_status plan_write_txn(struct plan *p, const char *path,
				  const vmdk_change_options *change,
				  desc_error *err)
{
	static const vmdk_change_options real = { false, NULL, NULL, NULL };
	const vmdk_change_options *ch = change ? change : &real;
	struct sparse_fill fill;
	desc_status rc;
	char *text = NULL, *epath = NULL;
	fs_txn *t = NULL;
	size_t len = 0, i;

	rc = desc_write(p->desc, &text, &len, err);
	if (rc != DESC_OK)
		return rc;
	/* Check every size before anything is made. */
	for (i = 0; i < p->count && p->sparse && rc == DESC_OK; i++)
		rc = sparse_layout_compute(p->extents[i].sectors,
					   p->monolithic ? EMBEDDED_DESC_SECTORS : 0,
					   &fill.layout, err);
	if (rc == DESC_OK && p->monolithic &&
	    len > EMBEDDED_DESC_SECTORS * VMDK_SECTOR_SIZE)
		rc = desc_error_set(err, DESC_E_TOO_LARGE, path, 0,
				    "descriptor of %zu bytes does not fit the %u-byte embedded area",
				    len, EMBEDDED_DESC_SECTORS * VMDK_SECTOR_SIZE);
	if (rc == DESC_OK)
		rc = fs_txn_begin(p->dir, "create",
				  ch->dry_run ? FS_TXN_DRY_RUN : 0, ch->report,
				  ch->report_ctx, ch->notes, &t, err);
	if (rc != DESC_OK)
		goto out;
	if (p->monolithic) {
		fill.text = text;
		fill.len = len;
		rc = fs_txn_create_with(t, path, fill_sparse, &fill, err);
		goto commit;
	}
	for (i = 0; i < p->count && rc == DESC_OK; i++) {
		epath = fs_join(p->dir, p->extents[i].name);
		if (epath == NULL) {
			rc = vk_nomem(err);
			break;
		}
		if (p->sparse) {
			fill.text = NULL;
			fill.len = 0;
			rc = sparse_layout_compute(p->extents[i].sectors, 0,
						   &fill.layout, err);
			if (rc == DESC_OK)
				rc = fs_txn_create_with(t, epath, fill_sparse,
							&fill, err);
		} else {
			rc = fs_txn_create_with(t, epath, fill_flat,
						&p->extents[i].sectors, err);
		}
		vk_free(epath);
		epath = NULL;
	}
	/* Last, so that a descriptor never names missing extents. */
	if (rc == DESC_OK)
		rc = fs_txn_create(t, path, text, len, 0644, err);
commit:
	if (rc == DESC_OK)
		rc = fs_txn_commit(t, err);
out:
	fs_txn_free(t);
	vk_free(text);
	return rc;
}

bool disk_adapter_known(const char *adapter)
{
	size_t i;

	for (i = 0; adapter != NULL &&
		    i < sizeof(adapter_types) / sizeof(adapter_types[0]); i++)
		if (strcmp(adapter, adapter_types[i]) == 0)
			return true;
	return false;
}

bool disk_hw_version_ok(const char *hw)
{
	size_t n = hw ? strlen(hw) : 0;

	return n > 0 && n <= 4 && strspn(hw, "0123456789") == n;
}

desc_status vmdk_disk_create(const char *path, const vmdk_create_options *opt,
			     desc_error *err)
{
	return vmdk_disk_create_with(path, opt, NULL, err);
}

desc_status vmdk_disk_create_with(const char *path,
				  const vmdk_create_options *opt,
				  const vmdk_change_options *change,
				  desc_error *err)
{
	const char *adapter = opt->adapter_type ? opt->adapter_type : "lsilogic";
	const char *hw = opt->hw_version ? opt->hw_version : "4";
	const char *type_name = vmdk_create_type_name(opt->type);
	char lcid[33], uuid[48];
	uint64_t sectors, *sizes = NULL, left;
	struct plan p;
	desc_status rc;
	size_t n, i;
	uint32_t cid;

	memset(&p, 0, sizeof(p));
	if (type_name == NULL)
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "unknown disk type %d (expected monolithicSparse, twoGbMaxExtentSparse, monolithicFlat, twoGbMaxExtentFlat)",
				      (int)opt->type);
	if (opt->size_bytes == 0)
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "disk size 0 (expected at least 1 byte)");
	sectors = opt->size_bytes / VMDK_SECTOR_SIZE +
		  (opt->size_bytes % VMDK_SECTOR_SIZE != 0);
	if (!disk_adapter_known(adapter))
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "unknown adapter type '%s' (expected ide, buslogic, lsilogic, legacyESX, lsisas1068, pvscsi)",
				      adapter);
	if (!disk_hw_version_ok(hw))
		return desc_error_set(err, DESC_E_ARG, "", 0,
				      "virtual hardware version '%s' is not a number (expected e.g. 4, 7, 21)",
				      hw);
	cid = vmdk_random_cid();
	rc = plan_start(&p, path, type_name, cid, NO_PARENT_CID, err);
	if (rc != DESC_OK)
		goto out;
	p.sparse = opt->type == VMDK_CREATE_MONOLITHIC_SPARSE ||
		   opt->type == VMDK_CREATE_TWOGB_SPARSE;
	switch (opt->type) {
	case VMDK_CREATE_MONOLITHIC_SPARSE: {
		char *base = fs_basename(path);

		if (base == NULL) {
			rc = vk_nomem(err);
			goto out;
		}
		p.monolithic = true;
		rc = plan_add(&p, base, sectors, err);
		vk_free(base);
		break;
	}
	case VMDK_CREATE_MONOLITHIC_FLAT: {
		char *name = vk_asprintf("%s-flat.vmdk", p.stem);

		if (name == NULL) {
			rc = vk_nomem(err);
			goto out;
		}
		rc = plan_add(&p, name, sectors, err);
		vk_free(name);
		break;
	}
	case VMDK_CREATE_TWOGB_SPARSE:
	case VMDK_CREATE_TWOGB_FLAT:
		n = (size_t)(sectors / SPLIT_EXTENT_SECTORS +
			     (sectors % SPLIT_EXTENT_SECTORS != 0));
		sizes = vk_calloc(n, sizeof(*sizes));
		if (sizes == NULL) {
			rc = vk_nomem(err);
			goto out;
		}
		for (i = 0, left = sectors; i < n; i++) {
			sizes[i] = left < SPLIT_EXTENT_SECTORS ? left
							       : SPLIT_EXTENT_SECTORS;
			left -= sizes[i];
		}
		rc = plan_split(&p, sizes, n, err);
		break;
	}
	if (rc != DESC_OK)
		goto out;
	/* VMware writes the DDB keys in this (alphabetical) order. */
	rc = desc_ddb_set(p.desc, "ddb.adapterType", adapter, err);
	if (rc == DESC_OK)
		rc = set_geometry(p.desc, sectors, adapter, err);
	if (rc == DESC_OK)
		rc = long_content_id(cid, lcid, err);
	if (rc == DESC_OK)
		rc = desc_ddb_set(p.desc, "ddb.longContentID", lcid, err);
	if (rc == DESC_OK)
		rc = disk_new_uuid(uuid, err);
	if (rc == DESC_OK)
		rc = desc_ddb_set(p.desc, "ddb.uuid", uuid, err);
	if (rc == DESC_OK)
		rc = desc_ddb_set(p.desc, "ddb.virtualHWVersion", hw, err);
	if (rc == DESC_OK)
		rc = plan_write_txn(&p, path, change, err);
out:
	vk_free(sizes);
	plan_free(&p);
	return rc;
}

static bool parent_is_split(const desc_descriptor *d)
{
	const char *t = desc_create_type(d);

	return t != NULL && (strcasecmp(t, "twoGbMaxExtentSparse") == 0 ||
			     strcasecmp(t, "twoGbMaxExtentFlat") == 0 ||
			     strcasecmp(t, "2GbMaxExtentSparse") == 0 ||
			     strcasecmp(t, "2GbMaxExtentFlat") == 0);
}

static desc_status copy_ddb(desc_descriptor *to, const desc_descriptor *from,
			    const char *key, desc_error *err)
{
	const char *v = desc_ddb_get(from, key);

	if (v == NULL)
		return DESC_OK;
	return desc_ddb_set(to, key, v, err);
}

static desc_status delta_create(const char *delta_path,
				const desc_descriptor *pdesc,
				const char *parent_path,
				const char *parent_hint,
				const vmdk_change_options *change,
				desc_error *err);

desc_status vmdk_delta_create(const char *delta_path, const char *parent_path,
			      const char *parent_hint, desc_error *err)
{
	return vmdk_delta_create_with(delta_path, parent_path, parent_hint,
				      NULL, err);
}

desc_status vmdk_delta_create_with(const char *delta_path,
				   const char *parent_path,
				   const char *parent_hint,
				   const vmdk_change_options *change,
				   desc_error *err)
{
	static const vmdk_change_options real = { false, NULL, NULL, NULL };
	vmdk_disk *parent = NULL;
	desc_status rc;

	rc = vmdk_disk_open(parent_path, VMDK_OPEN_DESCRIPTOR_ONLY, &parent,
			    err);
	if (rc != DESC_OK)
		return rc;
	rc = delta_create(delta_path, vmdk_disk_descriptor(parent),
			  parent_path, parent_hint, change ? change : &real,
			  err);
	vmdk_disk_free(parent);
	return rc;
}

/* Clone's own staging folder holds the leaf: its delta is written there
 * directly until clone runs on the transaction module too. */
desc_status disk_delta_create_from(const char *delta_path,
				   const desc_descriptor *pdesc,
				   const char *parent_path,
				   const char *parent_hint, desc_error *err)
{
	return delta_create(delta_path, pdesc, parent_path, parent_hint, NULL,
			    err);
}

/* change NULL: plan_write (clone); else through a transaction. */
static desc_status delta_create(const char *delta_path,
				const desc_descriptor *pdesc,
				const char *parent_path,
				const char *parent_hint,
				const vmdk_change_options *change,
				desc_error *err)
{
	static const char *const inherited[] = {
		"ddb.adapterType", "ddb.geometry.cylinders",
		"ddb.geometry.heads", "ddb.geometry.sectors",
	};
	char *hint = NULL, *dir = NULL, lcid[33];
	uint64_t *sizes = NULL, capacity = 0;
	uint32_t parent_cid, cid;
	struct plan p;
	desc_status rc;
	size_t i, n;

	memset(&p, 0, sizeof(p));
	desc_error_clear(err);
	if (!desc_capacity(pdesc, &capacity))
		return desc_error_set(err, DESC_E_INVALID, parent_path, 0,
				      "parent capacity is not a valid sum of its extents; cannot link a delta to it");
	if (!disk_cid(pdesc, &parent_cid)) {
		rc = desc_error_set(err, DESC_E_INVALID, parent_path, 0,
				    "parent has no valid CID (expected 8 hex digits); cannot link a delta to it");
		goto out;
	}
	if (parent_hint != NULL) {
		hint = vk_strdup(parent_hint);
	} else {
		dir = fs_dirname(delta_path);
		hint = dir ? fs_relative(dir, parent_path) : NULL;
	}
	if (hint == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	rc = check_name("parent hint", hint, err);
	if (rc != DESC_OK)
		goto out;
	cid = vmdk_random_cid();
	/* Mirror the parent: split stays split (VMware's own snapshot deltas
	 * do); everything else gets the one-file delta every consumer
	 * accepts (qemu-img create -b writes the same). */
	if (parent_is_split(pdesc)) {
		n = desc_extent_count(pdesc);
		rc = plan_start(&p, delta_path, "twoGbMaxExtentSparse", cid,
				parent_cid, err);
		if (rc != DESC_OK)
			goto out;
		p.sparse = true;
		sizes = vk_calloc(n, sizeof(*sizes));
		if (sizes == NULL) {
			rc = vk_nomem(err);
			goto out;
		}
		for (i = 0; i < n; i++)
			sizes[i] = desc_extent_at(pdesc, i)->sectors;
		rc = plan_split(&p, sizes, n, err);
	} else {
		char *base = fs_basename(delta_path);

		rc = plan_start(&p, delta_path, "monolithicSparse", cid,
				parent_cid, err);
		if (rc == DESC_OK && base == NULL)
			rc = vk_nomem(err);
		if (rc == DESC_OK) {
			p.sparse = true;
			p.monolithic = true;
			rc = plan_add(&p, base, capacity, err);
		}
		vk_free(base);
	}
	if (rc == DESC_OK)
		rc = desc_set_parent_hint(p.desc, hint, err);
	for (i = 0; i < sizeof(inherited) / sizeof(inherited[0]) &&
		    rc == DESC_OK; i++)
		rc = copy_ddb(p.desc, pdesc, inherited[i], err);
	if (rc == DESC_OK)
		rc = long_content_id(cid, lcid, err);
	if (rc == DESC_OK)
		rc = desc_ddb_set(p.desc, "ddb.longContentID", lcid, err);
	if (rc == DESC_OK)
		rc = copy_ddb(p.desc, pdesc, "ddb.virtualHWVersion", err);
	if (rc == DESC_OK)
		rc = change ? plan_write_txn(&p, delta_path, change, err)
			    : plan_write(&p, delta_path, err);
out:
	vk_free(sizes);
	vk_free(hint);
	vk_free(dir);
	plan_free(&p);
	return rc;
}
