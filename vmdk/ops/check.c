/*
 * check.c - filesystem-level checks of descriptors, .vmx and .vmsd files,
 * VM bundle folders and folder trees (vmdk_check_paths).  Every problem is
 * a finding with a stable code (vmdk/CHECKS.md); nothing here writes, and
 * every file is opened read-only.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/vmdk.h"
#include "vmdk/ops/scan.h"
#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/txn.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

/* At most this many grain findings per extent: a damaged table would
 * otherwise produce one line per grain. */
#define DEEP_FINDINGS_MAX 8
/* Folder trees deeper than this are not entered (a loop through bind
 * mounts; symlinks are never followed). */
#define RECURSION_MAX 32
/* What `vmdkit base` renames a master's descriptor to (base.c). */
#define MOVED_SUFFIX ".vmdkit-moved"
/* base.c's undo record, promote.c's journal and relocate.c's record. */
#define UNDO_NAME ".vmdkit-undo"
#define JOURNAL_NAME "promote-journal"
#define RECORD_PREFIX ".vmdkit-relocate-"
#define REPLACE_INFIX ".vmdkit-new"
/* Only the first lines of a record are read (the paths come first in a
 * relocate record; an undo record names the master in its first
 * hundreds of lines). */
#define RECORD_READ_MAX (256u * 1024u)

/* ------------------------------------------------------------------ */
/* Shared helpers (chainmgmt_private.h)                                */
/* ------------------------------------------------------------------ */

char *cm_resolve(const char *desc_path, const char *name)
{
	char *dir, *p;

	if (name[0] == '/')
		return vk_strdup(name);
	dir = fs_dirname(desc_path);
	if (dir == NULL)
		return NULL;
	p = fs_join(dir, name);
	vk_free(dir);
	return p;
}

bool cm_under(const char *dir, const char *path)
{
	size_t n = strlen(dir);

	if (n == 1 && dir[0] == '/')
		return path[0] == '/';
	return strncmp(dir, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool cm_fileset_add_path(struct cm_fileset *set, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return true;
	if (cm_fileset_has_path(set, path))
		return true;
	if (set->count == set->capacity) {
		size_t cap = set->capacity ? set->capacity * 2 : 16;
		dev_t *d = vk_reallocarray(set->dev, cap, sizeof(*d));
		ino_t *i;

		if (d == NULL)
			return false;
		set->dev = d;
		i = vk_reallocarray(set->ino, cap, sizeof(*i));
		if (i == NULL)
			return false;
		set->ino = i;
		set->capacity = cap;
	}
	set->dev[set->count] = st.st_dev;
	set->ino[set->count] = st.st_ino;
	set->count++;
	return true;
}

bool cm_fileset_has_path(const struct cm_fileset *set, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return false;
	for (size_t i = 0; i < set->count; i++)
		if (set->dev[i] == st.st_dev && set->ino[i] == st.st_ino)
			return true;
	return false;
}

void cm_fileset_clear(struct cm_fileset *set)
{
	vk_free(set->dev);
	vk_free(set->ino);
	memset(set, 0, sizeof(*set));
}

bool cm_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n >= m && strcasecmp(name + n - m, suffix) == 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

bool cm_looks_like_descriptor(const char *path)
{
	unsigned char buf[64];
	ssize_t got;
	size_t n, i = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return false;
	got = read(fd, buf, sizeof(buf));
	if (got >= 36 && memcmp(buf, "KDMV", 4) == 0) {
		uint64_t off = le64(buf + 28); /* descriptorOffset */

		/* qemu's -s00N extents of a split disk reserve an area but
		 * leave it empty: only text there makes a descriptor. */
		got = off != 0 && off < (UINT64_MAX >> 9) ?
			      pread(fd, buf, 1, (off_t)(off * 512)) : 0;
		close(fd);
		return got == 1 && (buf[0] == '#' ||
				    (buf[0] >= 'A' && buf[0] <= 'z'));
	}
	close(fd);
	if (got <= 0)
		return false;
	n = (size_t)got;
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	if (i >= n || !(buf[i] == '#' || (buf[i] >= 'A' && buf[i] <= 'z')))
		return false;
	for (; i < n; i++)
		if (buf[i] == '\0')
			return false;
	return true;
}

/* ------------------------------------------------------------------ */
/* The check job                                                       */
/* ------------------------------------------------------------------ */

struct vmx_rec {
	char *path;
	char *uuid_bios;
	unsigned uuid_line;
};

struct mac_rec {
	char *mac;   /* lowercase */
	char *path;
	char *key;
	unsigned line;
};

struct node_rec {
	dev_t dev;
	ino_t ino;
	size_t depth;   /* 0: the node's own file; n: its n-th parent */
	char *file;     /* the descriptor (for messages) */
	char *vmx;
	char *node;
	unsigned line;
};

/* A master descriptor that `vmdkit base` renamed to NAME.vmdkit-moved
 * (the identity is the inode: the rename keeps it), named by an undo
 * record of a base run: in a staging folder (not committed) or in
 * BASEDIR (committed, the master's files not all removed yet). */
struct undo_rec {
	uint64_t dev, ino;
	char *basedir;
	unsigned long long pid;
	bool committed;
	bool alive;          /* the staging folder's owner still runs */
};

/* A .vmx disk that is missing while NAME.vmdkit-moved is beside it:
 * reported after every folder is seen, once the undo records that may
 * name it are known. */
struct moved_rec {
	char *vmx;
	char *file_name;
	char *node;
	char *moved;
	unsigned line;
	dev_t dev;
	ino_t ino;
};

struct check_job {
	const vmdk_check_options *opt;
	desc_findings *out;
	desc_error *err;
	char **confine;      /* fs_absolute of each --confine folder */
	char **confine_real; /* realpath, NULL when it does not resolve */
	size_t nconfine;
	struct cm_fileset checked;   /* files already checked */
	char **bases;                /* base folders already verified */
	size_t nbases;
	struct vmx_rec *vmx;
	size_t nvmx;
	struct mac_rec *macs;
	size_t nmacs;
	struct node_rec *nodes;
	size_t nnodes;
	struct undo_rec *undos;
	size_t nundos;
	struct moved_rec *moved;
	size_t nmoved;
	/* An allocation failed in a helper that answers yes/no: the run
	 * ends in DESC_E_NOMEM instead of a silently wrong report. */
	bool oom;
};

static desc_status nomem(desc_error *err)
{
	return desc_error_set(err, DESC_E_NOMEM, NULL, 0, "out of memory");
}

static desc_status add(struct check_job *job, desc_severity sev,
		       const char *code, const char *file, unsigned line,
		       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static desc_status add(struct check_job *job, desc_severity sev,
		       const char *code, const char *file, unsigned line,
		       const char *fmt, ...)
{
	va_list ap;
	char *msg;
	desc_status st;

	va_start(ap, fmt);
	msg = vk_vasprintf(fmt, ap);
	va_end(ap);
	if (msg == NULL)
		return nomem(job->err);
	st = desc_findings_add(job->out, sev, code, file, line, "%s", msg);
	vk_free(msg);
	return st == DESC_OK ? DESC_OK : nomem(job->err);
}

/* Stable codes for a file that could not be read or parsed (the same the
 * CLI's single-file check uses). */
static const char *status_code(desc_status st)
{
	switch (st) {
	case DESC_E_SYNTAX: return "syntax";
	case DESC_E_INVALID: return "invalid";
	case DESC_E_TOO_LARGE: return "too-large";
	case DESC_E_NOT_FOUND: return "not-found";
	case DESC_E_IO: return "io";
	case DESC_E_FORMAT: return "format";
	case DESC_E_CHAIN: return "chain";
	default: return "error";
	}
}

static desc_status add_error(struct check_job *job, const char *path,
			     const desc_error *e)
{
	if (e->code == DESC_E_NOMEM)
		return nomem(job->err);
	return add(job, DESC_SEV_ERROR, status_code(e->code),
		   e->file[0] ? e->file : path, e->line, "%s",
		   e->message[0] ? e->message : desc_status_name(e->code));
}

/* An extent or parent path outside every --confine folder: reported by
 * the caller and never opened.  Symlinks inside a confined folder that
 * point out of it count as escaping too. */
static bool escapes(struct check_job *job, const char *path)
{
	char buf[PATH_MAX];
	char *abs, *real;
	bool lex = false, phys = false;

	if (job->nconfine == 0)
		return false;
	abs = fs_absolute(path);
	if (abs == NULL) {
		job->oom = true;
		return true;
	}
	for (size_t i = 0; i < job->nconfine && !lex; i++)
		lex = cm_under(job->confine[i], abs);
	vk_free(abs);
	if (!lex)
		return true;
	real = realpath(path, buf);
	if (real == NULL)
		return false; /* does not exist: nothing to follow */
	for (size_t i = 0; i < job->nconfine && !phys; i++)
		phys = job->confine_real[i] != NULL &&
		       cm_under(job->confine_real[i], real);
	return !phys;
}

/* ------------------------------------------------------------------ */
/* Deep: grain tables                                                  */
/* ------------------------------------------------------------------ */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads every grain table of an opened sparse extent and reports grain
 * entries that point outside the file, into the metadata, or at a grain
 * another entry already uses. */
static desc_status deep_walk(struct check_job *job, struct sparse_extent *sp,
			     const char *path)
{
	const vmdk_sparse_header *h = &sp->header;
	bool compressed = (h->flags & VMDK_SPARSE_FLAG_COMPRESSED) != 0;
	uint32_t *grains = NULL, *gt = NULL;
	unsigned char *raw = NULL;
	size_t ngrains = 0, shown = 0, cap;
	desc_status st = DESC_OK;
	uint64_t gi, ti;

	if (sp->gd_entries == 0)
		return DESC_OK;
	/* gd_entries * num_gtes fits: sparse_open checked the capacity. */
	cap = (size_t)sp->gd_entries * h->num_gtes_per_gt;
	grains = vk_calloc(cap ? cap : 1, sizeof(*grains));
	raw = vk_malloc((size_t)h->num_gtes_per_gt * 4);
	gt = vk_calloc(h->num_gtes_per_gt, sizeof(*gt));
	if (grains == NULL || raw == NULL || gt == NULL) {
		st = nomem(job->err);
		goto out;
	}
	for (gi = 0; gi < sp->gd_entries && st == DESC_OK; gi++) {
		ssize_t n;
		size_t want = (size_t)h->num_gtes_per_gt * 4;

		if (sp->gd[gi] == 0)
			continue;
		n = pread(sp->fd, raw, want,
			  (off_t)((uint64_t)sp->gd[gi] * VMDK_SECTOR_SIZE));
		if (n < 0 || (size_t)n != want) {
			st = add(job, DESC_SEV_ERROR, "grain-table-outside", path,
				 0, "grain table %" PRIu64 " at sector %" PRIu32 " cannot be read whole",
				 gi, sp->gd[gi]);
			continue;
		}
		for (ti = 0; ti < h->num_gtes_per_gt && st == DESC_OK; ti++) {
			uint32_t e = (uint32_t)raw[ti * 4] |
				     (uint32_t)raw[ti * 4 + 1] << 8 |
				     (uint32_t)raw[ti * 4 + 2] << 16 |
				     (uint32_t)raw[ti * 4 + 3] << 24;
			uint64_t end;

			if (e <= 1)
				continue; /* unallocated or zeroed */
			end = (uint64_t)e + (compressed ? 1 : h->grain_size);
			if (end * VMDK_SECTOR_SIZE > sp->file_size) {
				if (shown++ < DEEP_FINDINGS_MAX)
					st = add(job, DESC_SEV_ERROR,
						 "grain-outside-file", path, 0,
						 "grain %" PRIu64 " at sector %" PRIu32 " lies outside the file (%" PRIu64 " bytes)",
						 gi * h->num_gtes_per_gt + ti, e,
						 sp->file_size);
				continue;
			}
			if (!compressed && e < h->overhead) {
				if (shown++ < DEEP_FINDINGS_MAX)
					st = add(job, DESC_SEV_ERROR,
						 "grain-overlap", path, 0,
						 "grain %" PRIu64 " at sector %" PRIu32 " lies inside the metadata (overhead %" PRIu64 " sectors)",
						 gi * h->num_gtes_per_gt + ti, e,
						 h->overhead);
				continue;
			}
			grains[ngrains++] = e;
		}
	}
	if (st != DESC_OK)
		goto out;
	if (ngrains > 1)
		qsort(grains, ngrains, sizeof(*grains), u32_cmp);
	for (size_t i = 1; i < ngrains && st == DESC_OK; i++) {
		uint64_t step = compressed ? 1 : h->grain_size;

		if ((uint64_t)grains[i - 1] + step > grains[i] &&
		    shown++ < DEEP_FINDINGS_MAX)
			st = add(job, DESC_SEV_ERROR, "grain-overlap", path, 0,
				 "grains at sectors %" PRIu32 " and %" PRIu32 " overlap (grain size %" PRIu64 " sectors)",
				 grains[i - 1], grains[i], h->grain_size);
	}
	if (st == DESC_OK && shown > DEEP_FINDINGS_MAX)
		st = add(job, DESC_SEV_ERROR, "grain-overlap", path, 0,
			 "%zu more damaged grain entries not listed",
			 shown - DEEP_FINDINGS_MAX);
out:
	vk_free(grains);
	vk_free(raw);
	vk_free(gt);
	return st;
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                         */
/* ------------------------------------------------------------------ */

/* A base folder (it holds a vmdkit manifest) is verified once per run. */
static desc_status check_base_folder(struct check_job *job, const char *dir)
{
	desc_findings found;
	desc_error e;
	desc_status st;
	char *abs = fs_absolute(dir);
	char **bases;

	if (abs == NULL)
		return nomem(job->err);
	for (size_t i = 0; i < job->nbases; i++)
		if (strcmp(job->bases[i], abs) == 0) {
			vk_free(abs);
			return DESC_OK;
		}
	bases = vk_reallocarray(job->bases, job->nbases + 1, sizeof(*bases));
	if (bases == NULL) {
		vk_free(abs);
		return nomem(job->err);
	}
	job->bases = bases;
	job->bases[job->nbases++] = abs;
	desc_findings_init(&found);
	desc_error_clear(&e);
	st = vmdk_base_verify(dir, &found, &e);
	if (st != DESC_OK) {
		st = add_error(job, dir, &e);
		goto out;
	}
	for (size_t i = 0; i < found.count && st == DESC_OK; i++) {
		const desc_finding *f = &found.items[i];

		if (f->severity == DESC_SEV_INFO)
			continue; /* extra files: not a defect of the base */
		st = add(job, f->severity, f->code, f->file, f->line, "%s",
			 f->message);
	}
out:
	desc_findings_clear(&found);
	return st;
}

static bool folder_is_base(struct check_job *job, const char *dir)
{
	char *m = fs_join(dir, VMDK_MANIFEST_NAME);
	bool yes = m != NULL && fs_exists(m);

	if (m == NULL)
		job->oom = true;
	vk_free(m);
	return yes;
}

/* One extent: present, inside the confinement, of the size the
 * descriptor says (a sparse extent: its header's capacity). */
static desc_status check_extent(struct check_job *job, const char *path,
				const desc_extent *x, bool embedded)
{
	char *file = NULL, *dir = NULL;
	struct sparse_extent sp;
	uint8_t raw[512];
	struct stat sb;
	desc_status st = DESC_OK;
	desc_error e;
	ssize_t n;
	int fd = -1;

	memset(&sp, 0, sizeof(sp));
	(void)embedded;
	file = cm_resolve(path, x->path);
	if (file == NULL)
		return nomem(job->err);
	if (escapes(job, file)) {
		st = add(job, DESC_SEV_ERROR, "path-escapes-confine", path,
			 x->line, "extent '%s' resolves to '%s', outside the confined folders (not followed)",
			 x->path, file);
		goto out;
	}
	if (stat(file, &sb) != 0) {
		st = add(job, DESC_SEV_WARNING, "extent-missing", path, x->line,
			 "extent file '%s' not found", x->path);
		goto out;
	}
	dir = fs_dirname(file);
	if (dir == NULL) {
		st = nomem(job->err);
		goto out;
	}
	if (folder_is_base(job, dir)) {
		st = check_base_folder(job, dir);
		if (st != DESC_OK)
			goto out;
	}
	if (x->type != DESC_EXTENT_FLAT && x->type != DESC_EXTENT_VMFS &&
	    x->type != DESC_EXTENT_SPARSE)
		goto out; /* device-backed, COWD, SESPARSE: not ours to size */
	if (S_ISBLK(sb.st_mode) || S_ISCHR(sb.st_mode))
		goto out; /* a raw device (VirtualBox raw disks): not sized here */
	if (!S_ISREG(sb.st_mode)) {
		st = add(job, DESC_SEV_ERROR, "extent-not-file", path, x->line,
			 "extent '%s' is not a regular file", x->path);
		goto out;
	}
	if (x->type != DESC_EXTENT_SPARSE) {
		unsigned long long need, off = x->has_offset ? x->offset : 0;

		if (!vk_add_u64(off, x->sectors, &need) ||
		    !vk_mul_u64(need, VMDK_SECTOR_SIZE, &need))
			goto out; /* the validator reports the overflow */
		if ((unsigned long long)sb.st_size < need)
			st = add(job, DESC_SEV_ERROR, "extent-size-mismatch",
				 path, x->line,
				 "extent file '%s' is %llu bytes but the descriptor needs %llu (%" PRIu64 " sectors)",
				 x->path, (unsigned long long)sb.st_size, need,
				 x->sectors);
		else if ((unsigned long long)sb.st_size > need && !x->has_offset)
			st = add(job, DESC_SEV_WARNING, "extent-size-mismatch",
				 path, x->line,
				 "extent file '%s' is %llu bytes, more than the %llu the descriptor names",
				 x->path, (unsigned long long)sb.st_size, need);
		goto out;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st = add(job, DESC_SEV_ERROR, "io", path, x->line,
			 "cannot open extent '%s': %s", x->path, strerror(errno));
		goto out;
	}
	n = pread(fd, raw, sizeof(raw), 0);
	desc_error_clear(&e);
	if (n != (ssize_t)sizeof(raw) ||
	    vmdk_sparse_header_decode(raw, (uint64_t)sb.st_size, x->path,
				      &sp.header, &e) != DESC_OK) {
		st = add(job, DESC_SEV_ERROR, "extent-format", path, x->line,
			 "extent '%s' is not a valid sparse extent: %s", x->path,
			 n == (ssize_t)sizeof(raw) ? e.message : "shorter than a header");
		goto out;
	}
	if (sp.header.capacity != x->sectors) {
		st = add(job, DESC_SEV_ERROR, "extent-size-mismatch", path,
			 x->line,
			 "sparse extent '%s' holds %" PRIu64 " sectors (header capacity) but the descriptor says %" PRIu64,
			 x->path, sp.header.capacity, x->sectors);
		goto out;
	}
	if (!job->opt->deep)
		goto out;
	desc_error_clear(&e);
	if (sparse_open(&sp, fd, file, &e) != DESC_OK) {
		if (e.code == DESC_E_NOMEM)
			st = nomem(job->err);
		else
			st = add(job, DESC_SEV_ERROR, "grain-table-outside", file,
				 0, "%s", e.message);
		goto out;
	}
	st = deep_walk(job, &sp, file);
	sparse_close(&sp);
out:
	if (fd >= 0)
		close(fd);
	vk_free(dir);
	vk_free(file);
	return st;
}

/* The link to the parent, one step only (used when confined: a walk would
 * follow links before their paths are checked). */
static desc_status check_parent_link(struct check_job *job, const char *path,
				     const desc_descriptor *desc,
				     const char *parent)
{
	desc_descriptor *pd = NULL;
	uint32_t cid, pcid;
	bool emb;
	desc_error e;
	desc_status st = DESC_OK;

	desc_error_clear(&e);
	if (disk_load_descriptor(parent, &pd, &emb, &e) != DESC_OK) {
		if (e.code == DESC_E_NOMEM)
			return nomem(job->err);
		return add(job, DESC_SEV_ERROR, "chain-broken", path, 0,
			   "parent '%s' is not a disk: %s", parent, e.message);
	}
	if (!disk_cid(pd, &cid) || !disk_parent_cid(desc, &pcid))
		st = add(job, DESC_SEV_ERROR, "chain-broken", path, 0,
			 "parent '%s' has no CID or this delta has no parentCID",
			 parent);
	else if (cid != pcid)
		st = add(job, DESC_SEV_ERROR, "parent-cid-mismatch", path, 0,
			 "CID mismatch: parentCID=%08" PRIx32 " in '%s' but CID=%08" PRIx32 " in its parent '%s'",
			 pcid, path, cid, parent);
	desc_free(pd);
	return st;
}

/* The whole chain, as the hypervisor would open it; a missing parent is a
 * warning (the base may live elsewhere until import). */
static desc_status check_chain(struct check_job *job, const char *path)
{
	vmdk_chain chain;
	const vmdk_chain_link *c, *p;
	const char *code;
	desc_status st = DESC_OK;
	desc_error e;

	desc_error_clear(&e);
	if (vmdk_chain_walk(path, &chain, &e) != DESC_OK)
		return e.code == DESC_E_NOMEM ? nomem(job->err) : DESC_OK;
	if (chain.status == DESC_OK)
		goto out;
	code = "chain-broken";
	if (chain.status == DESC_E_NOT_FOUND) {
		code = "parent-missing";
	} else if (chain.count >= 2) {
		c = &chain.links[chain.count - 2];
		p = &chain.links[chain.count - 1];
		if (c->has_parent && p->has_cid && c->parent_cid != p->cid)
			code = "parent-cid-mismatch";
	}
	st = add(job, chain.status == DESC_E_NOT_FOUND ? DESC_SEV_WARNING :
							 DESC_SEV_ERROR,
		 code, chain.error.file[0] ? chain.error.file : path,
		 chain.error.line, "%s", chain.error.message);
out:
	vmdk_chain_clear(&chain);
	return st;
}

static desc_status check_parent(struct check_job *job, const char *path,
				const desc_descriptor *desc)
{
	const char *hint = desc_parent_hint(desc);
	char *parent = NULL, *pdir = NULL, *cdir = NULL, *a = NULL, *b = NULL;
	desc_status st = DESC_OK;

	if (hint == NULL)
		return DESC_OK;
	parent = cm_resolve(path, hint);
	if (parent == NULL)
		return nomem(job->err);
	if (hint[0] == '/') {
		pdir = fs_dirname(parent);
		cdir = fs_dirname(path);
		a = pdir ? fs_absolute(pdir) : NULL;
		b = cdir ? fs_absolute(cdir) : NULL;
		if (a == NULL || b == NULL) {
			st = nomem(job->err);
			goto out;
		}
		if (strcmp(a, b) != 0)
			st = add(job, DESC_SEV_WARNING, "parent-hint-absolute",
				 path, 0,
				 "parentFileNameHint '%s' is an absolute path into another folder (the chain breaks when either folder moves; expected a path relative to the delta)",
				 hint);
		if (st != DESC_OK)
			goto out;
	}
	if (escapes(job, parent)) {
		st = add(job, DESC_SEV_ERROR, "path-escapes-confine", path, 0,
			 "parentFileNameHint '%s' resolves to '%s', outside the confined folders (not followed)",
			 hint, parent);
		goto out;
	}
	if (job->nconfine == 0) {
		st = check_chain(job, path);
	} else if (!fs_exists(parent)) {
		st = add(job, DESC_SEV_WARNING, "parent-missing", path, 0,
			 "parent '%s' not found (parentFileNameHint resolved to '%s')",
			 hint, parent);
	} else {
		st = check_parent_link(job, path, desc, parent);
	}
out:
	vk_free(parent);
	vk_free(pdir);
	vk_free(cdir);
	vk_free(a);
	vk_free(b);
	return st;
}

/* Same line, same code: the parser and the validator both saw it; the
 * validator's (later) finding says more. */
static bool same_as_next(const desc_findings *l, size_t i)
{
	const desc_finding *a = &l->items[i], *b;

	if (i + 1 >= l->count)
		return false;
	b = &l->items[i + 1];
	return a->line == b->line && a->code != NULL && b->code != NULL &&
	       strcmp(a->code, b->code) == 0 && a->severity <= b->severity;
}

static void sort_by_line(desc_finding *items, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		desc_finding f = items[i];
		size_t j = i;

		while (j > 0 && items[j - 1].line > f.line) {
			items[j] = items[j - 1];
			j--;
		}
		items[j] = f;
	}
}

/* The file starts with the KDMV magic (a descriptor may be embedded). */
static bool is_sparse_file(const char *path)
{
	unsigned char m[4] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	bool yes;

	if (fd < 0)
		return false;
	yes = read(fd, m, sizeof(m)) == (ssize_t)sizeof(m) &&
	      memcmp(m, "KDMV", 4) == 0;
	close(fd);
	return yes;
}

/*
 * Info findings repeated per extent line: a leaf of a 2 TiB split base
 * carries 517 extents and got one portability-extent-folder line each,
 * so check --recursive over 101 such leaves held (and printed) 52,000
 * findings, 20 MiB.  After INFO_FINDINGS_MAX of one code in one
 * descriptor the rest are counted into one line.  Warnings and errors
 * are all listed.
 */
#define INFO_FINDINGS_MAX 8
#define INFO_KINDS 16

struct info_repeats {
	struct {
		const char *code;
		size_t n;
		unsigned first, last; /* lines not listed */
	} kind[INFO_KINDS];
	size_t count;
};

/* Counts an info finding; true when it is one too many to list. */
static bool info_repeat(struct info_repeats *r, const desc_finding *f)
{
	size_t k;

	if (f->severity != DESC_SEV_INFO || f->code == NULL)
		return false;
	for (k = 0; k < r->count; k++)
		if (strcmp(r->kind[k].code, f->code) == 0)
			break;
	if (k == r->count) {
		if (k == INFO_KINDS)
			return false; /* too many kinds to count: list it */
		r->kind[k].code = f->code;
		r->count++;
	}
	if (++r->kind[k].n <= INFO_FINDINGS_MAX)
		return false;
	if (r->kind[k].n == INFO_FINDINGS_MAX + 1)
		r->kind[k].first = f->line;
	r->kind[k].last = f->line;
	return true;
}

/* Reads and parses a descriptor, adding parse warnings and validation to
 * the findings; *desc NULL (and an error finding) when unreadable. */
static desc_status load_checked(struct check_job *job, const char *path,
				desc_descriptor **desc, bool *embedded)
{
	desc_findings one;
	struct info_repeats rep;
	desc_error e;
	char *text = NULL;
	size_t len = 0;
	desc_status st = DESC_OK, rc;

	*desc = NULL;
	*embedded = false;
	memset(&rep, 0, sizeof(rep));
	desc_findings_init(&one);
	desc_error_clear(&e);
	if (is_sparse_file(path)) {
		rc = disk_load_descriptor(path, desc, embedded, &e);
	} else {
		rc = fs_read_file(path, DISK_DESCRIPTOR_CAP, &text, &len, &e);
		if (rc == DESC_OK)
			rc = desc_parse(text, len, path, desc, &one, &e);
	}
	if (rc != DESC_OK) {
		st = add_error(job, path, &e);
		goto out;
	}
	if (desc_validate(*desc, &one) != DESC_OK ||
	    desc_check_portability(*desc, &one) != DESC_OK) {
		st = nomem(job->err);
		goto out;
	}
	sort_by_line(one.items, one.count);
	for (size_t i = 0; i < one.count && st == DESC_OK; i++) {
		const desc_finding *f = &one.items[i];

		if (same_as_next(&one, i) || info_repeat(&rep, f))
			continue;
		st = add(job, f->severity, f->code, f->file ? f->file : path,
			 f->line, "%s", f->message);
	}
	for (size_t k = 0; k < rep.count && st == DESC_OK; k++)
		if (rep.kind[k].n > INFO_FINDINGS_MAX)
			st = add(job, DESC_SEV_INFO, rep.kind[k].code, path,
				 rep.kind[k].first, "%zu more findings of this kind on lines %u to %u not listed",
				 rep.kind[k].n - INFO_FINDINGS_MAX,
				 rep.kind[k].first, rep.kind[k].last);
out:
	if (st != DESC_OK) {
		desc_free(*desc);
		*desc = NULL;
	}
	desc_findings_clear(&one);
	vk_free(text);
	return st;
}

/* true (and remembered) the first time a file is seen in this run. */
static desc_status first_visit(struct check_job *job, const char *path,
			       bool *first)
{
	*first = !cm_fileset_has_path(&job->checked, path);
	if (*first && !cm_fileset_add_path(&job->checked, path))
		return nomem(job->err);
	return DESC_OK;
}

static desc_status check_lock(struct check_job *job, const char *path)
{
	char *lck = vk_asprintf("%s.lck", path);
	struct stat sb;
	desc_status st = DESC_OK;

	if (lck == NULL)
		return nomem(job->err);
	if (lstat(lck, &sb) == 0 && S_ISDIR(sb.st_mode))
		st = add(job, DESC_SEV_WARNING, "stale-lock", lck, 0,
			 "lock folder exists: the VM is running, or a stale lock is left from a crash (remove it only when the VM is off)");
	vk_free(lck);
	return st;
}

static desc_status check_descriptor(struct check_job *job, const char *path,
				    bool explicit)
{
	desc_descriptor *desc = NULL;
	bool embedded, first;
	desc_status st;

	st = first_visit(job, path, &first);
	if (st != DESC_OK || !first)
		return st;
	st = load_checked(job, path, &desc, &embedded);
	if (st != DESC_OK || desc == NULL)
		goto out;
	for (size_t i = 0; i < desc_extent_count(desc) && st == DESC_OK; i++) {
		const desc_extent *x = desc_extent_at(desc, i);

		if (x->path == NULL || x->type == DESC_EXTENT_ZERO)
			continue;
		st = check_extent(job, path, x, embedded);
	}
	if (st == DESC_OK)
		st = check_parent(job, path, desc);
	if (st == DESC_OK && explicit)
		st = check_lock(job, path);
out:
	desc_free(desc);
	return st;
}

/* ------------------------------------------------------------------ */
/* .vmx and .vmsd                                                      */
/* ------------------------------------------------------------------ */

static desc_status load_dict(struct check_job *job, const char *path,
			     desc_dict **dict)
{
	desc_error e;
	char *text = NULL;
	size_t len = 0;
	desc_status st = DESC_OK;

	*dict = NULL;
	desc_error_clear(&e);
	if (fs_read_file(path, DESC_MAX_INPUT, &text, &len, &e) != DESC_OK ||
	    desc_dict_parse(text, len, path, dict, job->out, &e) != DESC_OK)
		st = add_error(job, path, &e);
	vk_free(text);
	return st;
}

/* "ethernet3.generatedAddress" -> true for MAC keys. */
static bool is_mac_key(const char *key)
{
	const char *p = key;

	if (strncasecmp(p, "ethernet", 8) != 0)
		return false;
	p += 8;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	return strcasecmp(p, ".address") == 0 ||
	       strcasecmp(p, ".generatedAddress") == 0;
}

static desc_status record_vmx(struct check_job *job, const char *path,
			      const desc_dict *vmx)
{
	struct vmx_rec *v;
	const char *uuid = desc_dict_get(vmx, "uuid.bios");

	v = vk_reallocarray(job->vmx, job->nvmx + 1, sizeof(*v));
	if (v == NULL)
		return nomem(job->err);
	job->vmx = v;
	v = &job->vmx[job->nvmx];
	memset(v, 0, sizeof(*v));
	v->path = vk_strdup(path);
	v->uuid_bios = uuid && uuid[0] ? vk_strdup(uuid) : NULL;
	job->nvmx++;
	if (v->path == NULL || (uuid && uuid[0] && v->uuid_bios == NULL))
		return nomem(job->err);
	for (size_t i = 0; i < desc_dict_count(vmx); i++) {
		const char *key = desc_dict_key_at(vmx, i);
		const char *val = desc_dict_value_at(vmx, i);
		struct mac_rec *m;

		if (strcasecmp(key, "uuid.bios") == 0)
			v->uuid_line = desc_dict_line_at(vmx, i);
		if (!is_mac_key(key) || val == NULL || val[0] == '\0')
			continue;
		m = vk_reallocarray(job->macs, job->nmacs + 1, sizeof(*m));
		if (m == NULL)
			return nomem(job->err);
		job->macs = m;
		m = &job->macs[job->nmacs];
		m->mac = vk_strdup(val);
		m->path = vk_strdup(path);
		m->key = vk_strdup(key);
		m->line = desc_dict_line_at(vmx, i);
		job->nmacs++;
		if (m->mac == NULL || m->path == NULL || m->key == NULL)
			return nomem(job->err);
		for (char *c = m->mac; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	return DESC_OK;
}

static desc_status push_node(struct check_job *job, const char *vmx,
			     const vmdk_vmx_disk *d, const char *file,
			     size_t depth)
{
	struct node_rec *n;
	struct stat sb;

	if (stat(file, &sb) != 0)
		return DESC_OK;
	n = vk_reallocarray(job->nodes, job->nnodes + 1, sizeof(*n));
	if (n == NULL)
		return nomem(job->err);
	job->nodes = n;
	n = &job->nodes[job->nnodes];
	n->dev = sb.st_dev;
	n->ino = sb.st_ino;
	n->depth = depth;
	n->file = vk_strdup(file);
	n->vmx = vk_strdup(vmx);
	n->node = vk_strdup(d->node);
	n->line = d->line;
	job->nnodes++;
	return n->vmx && n->node && n->file ? DESC_OK : nomem(job->err);
}

/* The node's disk and, unless confined (a walk would follow paths before
 * they are checked), every parent descriptor of its chain. */
static desc_status record_node(struct check_job *job, const char *vmx,
			       const vmdk_vmx_disk *d, const char *file)
{
	vmdk_chain chain;
	desc_status st;
	desc_error e;

	st = push_node(job, vmx, d, file, 0);
	if (st != DESC_OK || job->nconfine > 0)
		return st;
	desc_error_clear(&e);
	if (vmdk_chain_walk(file, &chain, &e) != DESC_OK)
		return e.code == DESC_E_NOMEM ? nomem(job->err) : DESC_OK;
	for (size_t i = 1; i < chain.count && st == DESC_OK; i++)
		st = push_node(job, vmx, d, chain.links[i].path, i);
	vmdk_chain_clear(&chain);
	return st;
}

/* A missing disk whose descriptor `vmdkit base` renamed: *moved, and
 * remembered for report_moved. */
static desc_status note_moved(struct check_job *job, const char *vmx,
			      const vmdk_vmx_disk *d, const char *file,
			      bool *moved)
{
	char *path = vk_asprintf("%s" MOVED_SUFFIX, file);
	struct moved_rec *m;
	struct stat sb;

	*moved = false;
	if (path == NULL)
		return nomem(job->err);
	if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		vk_free(path);
		return DESC_OK;
	}
	m = vk_reallocarray(job->moved, job->nmoved + 1, sizeof(*m));
	if (m == NULL) {
		vk_free(path);
		return nomem(job->err);
	}
	job->moved = m;
	m = &job->moved[job->nmoved++];
	m->moved = path;
	m->vmx = vk_strdup(vmx);
	m->file_name = vk_strdup(d->file_name);
	m->node = vk_strdup(d->node);
	m->line = d->line;
	m->dev = sb.st_dev;
	m->ino = sb.st_ino;
	*moved = true;
	return m->vmx && m->file_name && m->node ? DESC_OK : nomem(job->err);
}

static desc_status check_vmx(struct check_job *job, const char *path,
			     bool explicit)
{
	desc_dict *vmx = NULL;
	vmdk_vmx_disk *disks = NULL;
	size_t count = 0;
	desc_status st;
	desc_error e;
	bool first;

	st = first_visit(job, path, &first);
	if (st != DESC_OK || !first)
		return st;
	st = load_dict(job, path, &vmx);
	if (st != DESC_OK || vmx == NULL)
		goto out;
	st = record_vmx(job, path, vmx);
	if (st != DESC_OK)
		goto out;
	desc_error_clear(&e);
	if (vmdk_vmx_disks(vmx, &disks, &count, &e) != DESC_OK) {
		st = add_error(job, path, &e);
		goto out;
	}
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		char *file = cm_resolve(path, disks[i].file_name);

		if (file == NULL) {
			st = nomem(job->err);
			break;
		}
		if (escapes(job, file))
			st = add(job, DESC_SEV_ERROR, "path-escapes-confine",
				 path, disks[i].line,
				 "disk '%s' of %s resolves to '%s', outside the confined folders (not followed)",
				 disks[i].file_name, disks[i].node, file);
		else if (!fs_exists(file)) {
			bool moved = false;

			st = note_moved(job, path, &disks[i], file, &moved);
			if (st == DESC_OK && !moved)
				st = add(job, DESC_SEV_WARNING,
					 "vmx-disk-missing", path,
					 disks[i].line,
					 "disk '%s' of %s not found",
					 disks[i].file_name, disks[i].node);
		} else {
			st = record_node(job, path, &disks[i], file);
			/* A .vmx given by itself brings its disks along. */
			if (st == DESC_OK && explicit)
				st = check_descriptor(job, file, false);
		}
		vk_free(file);
	}
	if (st == DESC_OK && explicit)
		st = check_lock(job, path);
out:
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	return st;
}

static desc_status check_vmsd(struct check_job *job, const char *path)
{
	desc_dict *vmsd = NULL;
	vmsd_snapshot_disk *disks = NULL;
	size_t count = 0;
	desc_status st;
	desc_error e;
	bool first;

	st = first_visit(job, path, &first);
	if (st != DESC_OK || !first)
		return st;
	st = load_dict(job, path, &vmsd);
	if (st != DESC_OK || vmsd == NULL)
		goto out;
	desc_error_clear(&e);
	if (vmsd_snapshot_disks(vmsd, &disks, &count, &e) != DESC_OK) {
		st = add_error(job, path, &e);
		goto out;
	}
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		char *file;

		if (disks[i].file_name == NULL || disks[i].file_name[0] == '\0')
			continue;
		file = cm_resolve(path, disks[i].file_name);
		if (file == NULL) {
			st = nomem(job->err);
			break;
		}
		if (escapes(job, file))
			st = add(job, DESC_SEV_ERROR, "path-escapes-confine",
				 path, disks[i].line,
				 "snapshot disk '%s' resolves to '%s', outside the confined folders (not followed)",
				 disks[i].file_name, file);
		else if (!fs_exists(file))
			st = add(job, DESC_SEV_WARNING, "vmsd-disk-missing", path,
				 disks[i].line,
				 "snapshot disk '%s' (snapshot%lu.disk%lu.fileName) not found",
				 disks[i].file_name, disks[i].snapshot,
				 disks[i].disk);
		vk_free(file);
	}
out:
	vmsd_snapshot_disks_free(disks, count);
	desc_dict_free(vmsd);
	return st;
}

/* ------------------------------------------------------------------ */
/* Files and folders                                                   */
/* ------------------------------------------------------------------ */

static desc_status check_file(struct check_job *job, const char *path,
			      bool explicit)
{
	if (cm_has_suffix(path, ".vmx"))
		return check_vmx(job, path, explicit);
	if (cm_has_suffix(path, ".vmsd"))
		return check_vmsd(job, path);
	return check_descriptor(job, path, explicit);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t count)
{
	for (size_t i = 0; i < count; i++)
		vk_free(names[i]);
	vk_free(names);
}

/* ------------------------------------------------------------------ */
/* Leftovers of interrupted runs                                       */
/* ------------------------------------------------------------------ */

/* fs_replace's ".<name>.vmdkit-new-<pid>-XXXXXX": *target_len = the
 * length of <name> (after the leading dot). */
static bool replace_temp(const char *name, unsigned long long *pid,
			 bool *alive, size_t *target_len)
{
	size_t head, n = strlen(REPLACE_INFIX);
	bool undo;

	if (name[0] != '.' || !fs_name_owner(name, pid, &head, &undo, alive) ||
	    undo || head < n + 2 ||
	    memcmp(name + head - n, REPLACE_INFIX, n) != 0)
		return false;
	*target_len = head - n - 1;
	return true;
}

/* Hidden names worth a look: what vmdkit leaves when interrupted. */
static bool is_leftover_name(const char *name)
{
	unsigned long long pid;
	size_t len;
	bool alive;

	return strncmp(name, VMDK_STAGING_PREFIX,
		       strlen(VMDK_STAGING_PREFIX)) == 0 ||
	       strncmp(name, RECORD_PREFIX, strlen(RECORD_PREFIX)) == 0 ||
	       strcmp(name, UNDO_NAME) == 0 ||
	       replace_temp(name, &pid, &alive, &len);
}

/* The first `cap` bytes of regular file `name` in folder `dir`, NUL-
 * terminated; neither the folder nor the file is followed through a
 * symlink.  NULL when it is not there, not a regular file or not
 * readable (job->oom on allocation failure). */
static char *read_record(struct check_job *job, const char *dir,
			 const char *name)
{
	size_t n = 0, cap = RECORD_READ_MAX;
	struct stat sb;
	char *buf;
	int dfd, fd;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return NULL;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return NULL;
	}
	buf = vk_malloc(cap + 1);
	if (buf == NULL) {
		job->oom = true;
		close(fd);
		return NULL;
	}
	while (n < cap) {
		ssize_t got = read(fd, buf + n, cap - n);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	return buf;
}

/* True when the entry `name` of `dir` exists as a regular file (lstat). */
static bool has_file(const char *dir, const char *name)
{
	struct stat sb;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	bool yes;

	if (dfd < 0)
		return false;
	yes = fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	      S_ISREG(sb.st_mode);
	close(dfd);
	return yes;
}

/* Decimal u64 at *p, up to a space or the end of the line; false on
 * anything else or overflow. */
static bool parse_u64(const char **p, uint64_t *v)
{
	const char *c = *p;
	uint64_t x = 0;

	if (*c < '0' || *c > '9')
		return false;
	for (; *c >= '0' && *c <= '9'; c++) {
		if (x > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(*c - '0');
	}
	if (*c != ' ' && *c != '\n' && *c != '\0')
		return false;
	*v = x;
	*p = c;
	return true;
}

/* base.c's undo record in `dir`: each "desc DEV INO" / "path PATH" pair
 * (a master descriptor renamed to .vmdkit-moved) is remembered for
 * report_moved; *master is the first such PATH, else the first file's
 * "path", else NULL (no record, or not readable). */
static desc_status read_undo(struct check_job *job, const char *dir,
			     const char *basedir, bool committed, bool alive,
			     unsigned long long pid, char **master)
{
	char *text = read_record(job, dir, UNDO_NAME), *file_path = NULL;
	const char *p = text;
	desc_status st = DESC_OK;
	bool desc = false, file = false;
	uint64_t dev = 0, ino = 0;

	*master = NULL;
	if (text == NULL)
		return job->oom ? nomem(job->err) : DESC_OK;
	while (*p != '\0' && st == DESC_OK) {
		const char *c = p, *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (strncmp(c, "desc ", 5) == 0) {
			c += 5;
			desc = parse_u64(&c, &dev) && *c++ == ' ' &&
			       parse_u64(&c, &ino);
		} else if (strncmp(c, "file ", 5) == 0) {
			file = true;
		} else if (strncmp(c, "path ", 5) == 0 && len > 5) {
			char *path = vk_strndup(c + 5, len - 5);
			struct undo_rec *u;

			if (path == NULL) {
				st = nomem(job->err);
				break;
			}
			if (file && file_path == NULL)
				file_path = vk_strdup(path);
			if (desc) {
				u = vk_reallocarray(job->undos, job->nundos + 1,
						    sizeof(*u));
				if (u == NULL) {
					vk_free(path);
					st = nomem(job->err);
					break;
				}
				job->undos = u;
				u = &job->undos[job->nundos++];
				memset(u, 0, sizeof(*u));
				u->dev = dev;
				u->ino = ino;
				u->basedir = vk_strdup(basedir);
				u->pid = pid;
				u->committed = committed;
				u->alive = alive;
				if (u->basedir == NULL)
					st = nomem(job->err);
				if (*master == NULL && st == DESC_OK)
					*master = vk_strdup(path);
			}
			desc = file = false;
			vk_free(path);
		} else if (strncmp(c, "end", 3) == 0) {
			break;
		}
		p = nl ? nl + 1 : p + len;
	}
	if (st == DESC_OK && *master == NULL && file_path != NULL) {
		*master = file_path;
		file_path = NULL;
	}
	vk_free(file_path);
	vk_free(text);
	if (st == DESC_OK && job->oom)
		st = nomem(job->err);
	return st;
}

/* `vmdkit base` staging folder (uncommitted) or BASEDIR/.vmdkit-undo
 * (committed). */
static desc_status leftover_base(struct check_job *job, const char *where,
				 const char *record_dir, const char *basedir,
				 bool committed, bool alive,
				 unsigned long long pid)
{
	char *master = NULL, *hint = NULL;
	desc_status st;

	st = read_undo(job, record_dir, basedir, committed, alive, pid,
		       &master);
	if (st != DESC_OK)
		goto out;
	/* The record names the master's disks, not whether the run was
	 * given the .vmx or a disk: either recovers, but only the same
	 * one makes the same base afterwards. */
	hint = master ? vk_asprintf(" (MASTER: the .vmx or disk it was given; its disk '%s')",
				    master)
		      : vk_strdup(" (MASTER: the .vmx or disk it was given)");
	if (hint == NULL) {
		st = nomem(job->err);
		goto out;
	}
	if (committed)
		st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			 "undo record of a `vmdkit base` that committed base '%s' but was interrupted before removing the master's files: rerun `vmdkit base MASTER '%s'`%s to finish it",
			 basedir, basedir, hint);
	else if (alive)
		st = add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
			 "staging folder of `vmdkit base` into '%s', still running (process %llu)",
			 basedir, pid);
	else
		st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			 "staging folder of an interrupted `vmdkit base` into '%s' (process %llu is gone; the master may be half-moved): rerun `vmdkit base MASTER '%s'`%s to undo or finish it",
			 basedir, pid, basedir, hint);
out:
	vk_free(hint);
	vk_free(master);
	return st;
}

/* relocate's record ".vmdkit-relocate-NEW-<pid>-XXXXXX": "from OLD\nto NEW\n". */
static desc_status leftover_relocate(struct check_job *job, const char *dir,
				     const char *name, const char *where,
				     bool alive, unsigned long long pid)
{
	char *text = read_record(job, dir, name), *from = NULL, *to = NULL;
	const char *nl = NULL, *end = NULL;
	desc_status st;

	if (text == NULL && job->oom)
		return nomem(job->err);
	if (text != NULL && strncmp(text, "from /", 6) == 0 &&
	    (nl = strchr(text, '\n')) != NULL &&
	    strncmp(nl + 1, "to /", 4) == 0 &&
	    (end = strchr(nl + 4, '\n')) != NULL) {
		from = vk_strndup(text + 5, (size_t)(nl - text - 5));
		to = vk_strndup(nl + 4, (size_t)(end - nl - 4));
		if (from == NULL || to == NULL) {
			st = nomem(job->err);
			goto out;
		}
	}
	if (alive)
		st = add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
			 "record of `vmdkit relocate`, still running (process %llu)",
			 pid);
	else if (from != NULL)
		st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			 "record of an interrupted `vmdkit relocate` from '%s' to '%s' (process %llu is gone; leaves may still point into '%s'): rerun `vmdkit relocate '%s' '%s' --leaves LEAFDIR...` to finish it",
			 from, to, pid, from, from, to);
	else
		st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			 "incomplete record of an interrupted `vmdkit relocate` (process %llu is gone; nothing was moved): rerun that `vmdkit relocate`, which removes it",
			 pid);
out:
	vk_free(from);
	vk_free(to);
	vk_free(text);
	return st;
}

/* A staging folder of the transaction module, told by its own
 * description of its journal.  DESC_E_NOT_FOUND: no journal there. */
static desc_status leftover_txn(struct check_job *job, const char *dir,
				const char *where)
{
	fs_txn_info info;
	desc_error e;
	desc_status st;

	desc_error_clear(&e);
	st = fs_txn_describe(where, &info, &e);
	if (st == DESC_E_NOMEM || st == DESC_E_NOT_FOUND)
		return st;
	if (st != DESC_OK) {
		char *jpath = fs_join(where, FS_TXN_JOURNAL);
		bool there = jpath != NULL && fs_exists(jpath);

		vk_free(jpath);
		if (!there)
			return DESC_E_NOT_FOUND;
		return add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			   "journal that vmdkit cannot read (%s): left alone; look inside, then remove it by hand",
			   e.message);
	}
	if (!info.this_host)
		st = add(job, DESC_SEV_WARNING, "foreign-run", where, 0,
			 "transaction of `vmdkit %s` on host '%s' (process %llu), changing '%s': only a vmdkit run on '%s' recovers it (run `vmdkit check` there); remove it by hand only once that run is known to be gone",
			 info.command, info.host, info.pid, info.first_path,
			 info.host);
	else if (info.alive)
		st = add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
			 "transaction of `vmdkit %s` changing '%s', still running (process %llu)",
			 info.command, info.first_path, info.pid);
	else
		st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
			 "transaction of an interrupted `vmdkit %s` (process %llu is gone; %s): %s; the next `vmdkit create` or `vmdkit desc` edit in '%s' does it",
			 info.command, info.pid,
			 info.committed ? "committed" : "not committed",
			 info.plan, dir);
	fs_txn_info_clear(&info);
	return st;
}

/* `name` in folder `dir` starts with VMDK_STAGING_PREFIX. */
static desc_status leftover_staging(struct check_job *job, const char *dir,
				    const char *name, const char *where,
				    const struct stat *sb)
{
	size_t prefix = strlen(VMDK_STAGING_PREFIX), head;
	unsigned long long pid;
	bool undo, alive;
	char *stem = NULL, *target = NULL;
	desc_status st = DESC_OK;

	if (S_ISDIR(sb->st_mode))
		switch (leftover_txn(job, dir, where)) {
		case DESC_OK:
			return DESC_OK;
		case DESC_E_NOMEM:
			return nomem(job->err);
		default:
			break; /* no journal: the older forms below */
		}
	if (!fs_name_owner(name, &pid, &head, &undo, &alive) ||
	    head <= prefix)
		return DESC_OK; /* not a name vmdkit makes */
	stem = vk_strndup(name + prefix, head - prefix);
	target = stem ? fs_join(dir, stem) : NULL;
	if (target == NULL) {
		st = nomem(job->err);
		goto out;
	}
	if (S_ISDIR(sb->st_mode) && undo) {
		st = leftover_base(job, where, where, target, false, alive,
				   pid);
	} else if (undo) {
		/* not a name vmdkit makes */
	} else if (S_ISREG(sb->st_mode)) {
		st = alive ? add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				 "new copy of '%s' being written by `vmdkit relocate`, still running (process %llu)",
				 target, pid)
			   : add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "new copy of '%s' left by an interrupted `vmdkit relocate` (process %llu is gone; '%s' is unchanged): rerun that `vmdkit relocate BASEDIR NEWDIR --leaves LEAFDIR...`, which removes it",
				 target, pid, target);
	} else if (!S_ISDIR(sb->st_mode)) {
		/* not ours */
	} else if (has_file(where, JOURNAL_NAME)) {
		st = alive ? add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				 "journal of `vmdkit promote` of '%s', still running (process %llu)",
				 target, pid)
			   : add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "journal of an interrupted `vmdkit promote` of '%s' (process %llu is gone; new disk files may be beside the old ones): rerun `vmdkit promote '%s'` to finish or undo it",
				 target, pid, target);
	} else if (cm_has_suffix(stem, ".vmx")) {
		st = alive ? add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				 "staging folder of `vmdkit promote` of '%s', still running (process %llu)",
				 target, pid)
			   : add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "staging folder of an interrupted `vmdkit promote` of '%s' (process %llu is gone; the leaf is unchanged): rerun `vmdkit promote '%s'`, which removes it",
				 target, pid, target);
	} else {
		st = alive ? add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				 "staging folder of `vmdkit clone` of leaf '%s', still running (process %llu)",
				 target, pid)
			   : add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "staging folder of an interrupted `vmdkit clone` of leaf '%s' (process %llu is gone; no leaf was made): rerun `vmdkit clone BASE '%s'` (any clone into '%s' removes it)",
				 target, pid, target, dir);
	}
out:
	vk_free(stem);
	vk_free(target);
	return st;
}

/* fs_replace is used by many commands: the one that left a temporary
 * file is told by its pid on a staging folder of promote in the same
 * folder (its .vmx and .vmsd), or on a copy of relocate's.  NULL: not
 * known. */
static const char *replace_owner(struct check_job *job, const char *dir,
				 char *const *dots, size_t ndots,
				 unsigned long long pid, char **vmx)
{
	size_t prefix = strlen(VMDK_STAGING_PREFIX);

	*vmx = NULL;
	for (size_t i = 0; i < ndots; i++) {
		unsigned long long p;
		size_t head;
		bool undo, alive;
		struct stat sb;
		char *path;

		if (strncmp(dots[i], VMDK_STAGING_PREFIX, prefix) != 0 ||
		    !fs_name_owner(dots[i], &p, &head, &undo, &alive) ||
		    undo || p != pid || head <= prefix)
			continue;
		path = fs_join(dir, dots[i]);
		if (path == NULL)
			job->oom = true;
		if (path == NULL || lstat(path, &sb) != 0) {
			vk_free(path);
			continue;
		}
		vk_free(path);
		if (S_ISREG(sb.st_mode))
			return "relocate";
		if (S_ISDIR(sb.st_mode) && head - prefix > 4 &&
		    strncasecmp(dots[i] + head - 4, ".vmx", 4) == 0) {
			char *stem = vk_strndup(dots[i] + prefix, head - prefix);

			*vmx = stem ? fs_join(dir, stem) : NULL;
			vk_free(stem);
			if (*vmx == NULL)
				job->oom = true;
			return "promote";
		}
	}
	return NULL;
}

/* One hidden entry `name` of folder `dir` (is_leftover_name); `dots`
 * are all of them. */
static desc_status check_leftover(struct check_job *job, const char *dir,
				  const char *name, char *const *dots,
				  size_t ndots)
{
	char *where = fs_join(dir, name), *target = NULL, *vmx = NULL;
	const char *cmd;
	unsigned long long pid;
	desc_status st = DESC_OK;
	size_t head, len;
	bool undo, alive;
	struct stat sb;

	if (where == NULL)
		return nomem(job->err);
	if (lstat(where, &sb) != 0)
		goto out;
	if (strcmp(name, UNDO_NAME) == 0) {
		if (S_ISREG(sb.st_mode))
			st = leftover_base(job, where, dir, dir, true, false, 0);
	} else if (strncmp(name, VMDK_STAGING_PREFIX,
			   strlen(VMDK_STAGING_PREFIX)) == 0) {
		st = leftover_staging(job, dir, name, where, &sb);
	} else if (strncmp(name, RECORD_PREFIX, strlen(RECORD_PREFIX)) == 0) {
		if (S_ISREG(sb.st_mode) &&
		    fs_name_owner(name, &pid, &head, &undo, &alive) && !undo &&
		    head > strlen(RECORD_PREFIX))
			st = leftover_relocate(job, dir, name, where, alive,
					       pid);
	} else if (S_ISREG(sb.st_mode) &&
		   replace_temp(name, &pid, &alive, &len)) {
		char *base = vk_strndup(name + 1, len);

		target = base ? fs_join(dir, base) : NULL;
		vk_free(base);
		if (target == NULL) {
			st = nomem(job->err);
			goto out;
		}
		cmd = replace_owner(job, dir, dots, ndots, pid, &vmx);
		if (job->oom) {
			st = nomem(job->err);
			goto out;
		}
		if (alive)
			st = add(job, DESC_SEV_INFO, "run-in-progress", where, 0,
				 "new text of '%s' being written by %s%s%s, still running (process %llu)",
				 target, cmd ? "`vmdkit " : "a vmdkit command",
				 cmd ? cmd : "", cmd ? "`" : "", pid);
		else if (cmd != NULL && vmx != NULL)
			st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "new text of '%s' left by an interrupted `vmdkit promote` of '%s' (process %llu is gone; '%s' is unchanged): rerun `vmdkit promote '%s'`, which removes it",
				 target, vmx, pid, target, vmx);
		else if (cmd != NULL)
			st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "new text of '%s' left by an interrupted `vmdkit %s` (process %llu is gone; '%s' is unchanged): rerun that `vmdkit %s`, which removes it",
				 target, cmd, pid, target, cmd);
		else
			st = add(job, DESC_SEV_WARNING, "interrupted-run", where, 0,
				 "new text of '%s' left by an interrupted vmdkit command (process %llu is gone; '%s' is unchanged): rerun that command (any vmdkit command that rewrites a file in this folder removes it)",
				 target, pid, target);
	}
out:
	vk_free(vmx);
	vk_free(target);
	vk_free(where);
	return st;
}

/* Masters' disks that `vmdkit base` moved (note_moved), told apart by
 * the undo records seen: a base in progress, one interrupted before or
 * after its commit, or done. */
static desc_status report_moved(struct check_job *job)
{
	desc_status st = DESC_OK;

	for (size_t i = 0; i < job->nmoved && st == DESC_OK; i++) {
		const struct moved_rec *m = &job->moved[i];
		const struct undo_rec *u = NULL;

		for (size_t k = 0; k < job->nundos && u == NULL; k++)
			if (job->undos[k].dev == (uint64_t)m->dev &&
			    job->undos[k].ino == (uint64_t)m->ino)
				u = &job->undos[k];
		if (u == NULL)
			st = add(job, DESC_SEV_INFO, "vmx-disk-moved", m->vmx,
				 m->line,
				 "disk '%s' of %s was made into a base by `vmdkit base` (its descriptor is now '%s'): this VM no longer boots; clone a leaf from the base",
				 m->file_name, m->node, m->moved);
		else if (u->committed)
			st = add(job, DESC_SEV_WARNING, "vmx-disk-moved",
				 m->vmx, m->line,
				 "disk '%s' of %s was made into base '%s' (its descriptor is now '%s'), but `vmdkit base` was interrupted before removing the master's files: rerun `vmdkit base '%s' '%s'` (or with the disk, if it was given the disk) to finish it",
				 m->file_name, m->node, u->basedir, m->moved,
				 m->vmx, u->basedir);
		else if (u->alive)
			st = add(job, DESC_SEV_INFO, "vmx-disk-moved", m->vmx,
				 m->line,
				 "disk '%s' of %s is being made into base '%s' by `vmdkit base`, still running (process %llu; its descriptor is now '%s')",
				 m->file_name, m->node, u->basedir, u->pid,
				 m->moved);
		else
			st = add(job, DESC_SEV_WARNING, "vmx-disk-moved",
				 m->vmx, m->line,
				 "disk '%s' of %s not found: an interrupted `vmdkit base` into '%s' (process %llu is gone) renamed its descriptor to '%s': rerun `vmdkit base '%s' '%s'` (or with the disk, if it was given the disk) to undo or finish it",
				 m->file_name, m->node, u->basedir, u->pid,
				 m->moved, m->vmx, u->basedir);
	}
	return st;
}

static desc_status check_folder(struct check_job *job, const char *path,
				unsigned depth)
{
	char **names = NULL, **dots = NULL;
	size_t count = 0, cap = 0, ndots = 0;
	desc_status st = DESC_OK;
	struct dirent *de;
	desc_error e;
	DIR *dir;

	dir = opendir(path);
	if (dir == NULL) {
		desc_error_clear(&e);
		fs_error(&e, errno, path, "cannot open folder");
		return add_error(job, path, &e);
	}
	while ((de = readdir(dir)) != NULL) {
		char **n;

		if (de->d_name[0] == '.') {
			/* Hidden names are skipped, but those of an
			 * interrupted vmdkit run are reported. */
			if (!is_leftover_name(de->d_name))
				continue;
			n = vk_reallocarray(dots, ndots + 1, sizeof(*n));
			if (n == NULL) {
				st = nomem(job->err);
				break;
			}
			dots = n;
			dots[ndots] = vk_strdup(de->d_name);
			if (dots[ndots] == NULL) {
				st = nomem(job->err);
				break;
			}
			ndots++;
			continue;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			n = vk_reallocarray(names, cap, sizeof(*n));
			if (n == NULL) {
				st = nomem(job->err);
				break;
			}
			names = n;
		}
		names[count] = fs_join(path, de->d_name);
		if (names[count] == NULL) {
			st = nomem(job->err);
			break;
		}
		count++;
	}
	closedir(dir);
	if (st != DESC_OK)
		goto out;
	if (count > 1)
		qsort(names, count, sizeof(*names), name_cmp);
	if (folder_is_base(job, path))
		st = check_base_folder(job, path);
	for (size_t i = 0; i < count && st == DESC_OK; i++) {
		struct stat sb;

		if (lstat(names[i], &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			if (cm_has_suffix(names[i], ".lck"))
				st = add(job, DESC_SEV_WARNING, "stale-lock",
					 names[i], 0,
					 "lock folder exists: the VM is running, or a stale lock is left from a crash (remove it only when the VM is off)");
			else if (job->opt->recursive && depth < RECURSION_MAX)
				st = check_folder(job, names[i], depth + 1);
			continue;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (cm_has_suffix(names[i], ".vmx") ||
		    cm_has_suffix(names[i], ".vmsd"))
			st = check_file(job, names[i], false);
		else if (cm_has_suffix(names[i], ".vmdk") &&
			 cm_looks_like_descriptor(names[i]))
			st = check_descriptor(job, names[i], false);
	}
	if (ndots > 1)
		qsort(dots, ndots, sizeof(*dots), name_cmp);
	for (size_t i = 0; i < ndots && st == DESC_OK; i++)
		st = check_leftover(job, path, dots[i], dots, ndots);
out:
	free_names(names, count);
	free_names(dots, ndots);
	return st;
}

/* ------------------------------------------------------------------ */
/* Across VMs                                                          */
/* ------------------------------------------------------------------ */

/* ethernet0.address and ethernet0.generatedAddress of one .vmx are one
 * NIC (a static address with a stale generated one is no conflict). */
static bool same_nic(const struct mac_rec *a, const struct mac_rec *b)
{
	size_t n = strcspn(a->key, ".");

	return strcmp(a->path, b->path) == 0 && strcspn(b->key, ".") == n &&
	       strncasecmp(a->key, b->key, n) == 0;
}

static desc_status check_across(struct check_job *job)
{
	desc_status st = DESC_OK;

	for (size_t i = 1; i < job->nvmx && st == DESC_OK; i++) {
		const struct vmx_rec *b = &job->vmx[i];

		if (b->uuid_bios == NULL)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct vmx_rec *a = &job->vmx[j];

			if (a->uuid_bios == NULL ||
			    strcasecmp(a->uuid_bios, b->uuid_bios) != 0)
				continue;
			st = add(job, DESC_SEV_ERROR, "duplicate-uuid-bios",
				 b->path, b->uuid_line,
				 "uuid.bios '%s' is also the uuid.bios of '%s' (two VMs with one identity: set uuid.action = \"create\" or remove uuid.bios)",
				 b->uuid_bios, a->path);
			break;
		}
	}
	for (size_t i = 1; i < job->nmacs && st == DESC_OK; i++) {
		const struct mac_rec *b = &job->macs[i];

		for (size_t j = 0; j < i; j++) {
			const struct mac_rec *a = &job->macs[j];

			if (strcmp(a->mac, b->mac) != 0 || same_nic(a, b))
				continue;
			if (strcmp(a->path, b->path) == 0)
				st = add(job, DESC_SEV_ERROR, "duplicate-mac",
					 b->path, b->line,
					 "MAC address %s (%s) is also used by %s of the same VM",
					 b->mac, b->key, a->key);
			else
				st = add(job, DESC_SEV_ERROR, "duplicate-mac",
					 b->path, b->line,
					 "MAC address %s (%s) is also used by '%s' (%s)",
					 b->mac, b->key, a->path, a->key);
			break;
		}
	}
	for (size_t i = 1; i < job->nnodes && st == DESC_OK; i++) {
		const struct node_rec *b = &job->nodes[i];

		for (size_t j = 0; j < i; j++) {
			const struct node_rec *a = &job->nodes[j];

			if (a->dev != b->dev || a->ino != b->ino)
				continue;
			if (a->depth == 0 && b->depth == 0) {
				st = add(job, DESC_SEV_ERROR, "shared-disk",
					 b->vmx, b->line,
					 "disk node %s names the same descriptor as %s of '%s' (they would share one lock; give each VM its own descriptor copy)",
					 b->node, a->node, a->vmx);
				break;
			}
			if (strcmp(a->vmx, b->vmx) == 0)
				continue; /* one VM's own chain */
			st = add(job, DESC_SEV_WARNING, "shared-parent", b->vmx,
				 b->line,
				 "the chain of %s reaches '%s', which the chain of %s of '%s' also opens (the VMs share its lock; a leaf should have its own copy of the base descriptor)",
				 b->node, b->depth ? b->file : a->file, a->node,
				 a->vmx);
			break;
		}
	}
	return st;
}

/* The chain of a delta found in a folder is walked from every descriptor
 * in it, so one broken link can be seen more than once: keep the first. */
static bool is_chain_code(const char *code)
{
	return strcmp(code, "parent-missing") == 0 ||
	       strcmp(code, "parent-cid-mismatch") == 0 ||
	       strcmp(code, "chain-broken") == 0;
}

static void drop_repeats(desc_findings *out, size_t from)
{
	size_t w = from;

	for (size_t i = from; i < out->count; i++) {
		desc_finding *f = &out->items[i];
		bool dup = false;

		/* Only chain walks repeat themselves: the rest costs nothing. */
		for (size_t j = from; j < w && !dup && is_chain_code(f->code);
		     j++) {
			const desc_finding *g = &out->items[j];

			dup = g->line == f->line && g->severity == f->severity &&
			      strcmp(g->code, f->code) == 0 &&
			      strcmp(g->message, f->message) == 0 &&
			      ((g->file == NULL && f->file == NULL) ||
			       (g->file && f->file && strcmp(g->file, f->file) == 0));
		}
		if (dup) {
			vk_free(f->file);
			vk_free(f->message);
			continue;
		}
		out->items[w++] = *f;
	}
	out->count = w;
}

static void job_free(struct check_job *job)
{
	for (size_t i = 0; i < job->nconfine; i++) {
		vk_free(job->confine[i]);
		vk_free(job->confine_real ? job->confine_real[i] : NULL);
	}
	vk_free(job->confine);
	vk_free(job->confine_real);
	cm_fileset_clear(&job->checked);
	for (size_t i = 0; i < job->nbases; i++)
		vk_free(job->bases[i]);
	vk_free(job->bases);
	for (size_t i = 0; i < job->nvmx; i++) {
		vk_free(job->vmx[i].path);
		vk_free(job->vmx[i].uuid_bios);
	}
	vk_free(job->vmx);
	for (size_t i = 0; i < job->nmacs; i++) {
		vk_free(job->macs[i].mac);
		vk_free(job->macs[i].path);
		vk_free(job->macs[i].key);
	}
	vk_free(job->macs);
	for (size_t i = 0; i < job->nnodes; i++) {
		vk_free(job->nodes[i].file);
		vk_free(job->nodes[i].vmx);
		vk_free(job->nodes[i].node);
	}
	vk_free(job->nodes);
	for (size_t i = 0; i < job->nundos; i++) {
		vk_free(job->undos[i].basedir);
	}
	vk_free(job->undos);
	for (size_t i = 0; i < job->nmoved; i++) {
		vk_free(job->moved[i].vmx);
		vk_free(job->moved[i].file_name);
		vk_free(job->moved[i].node);
		vk_free(job->moved[i].moved);
	}
	vk_free(job->moved);
}

desc_status vmdk_check_paths(const char *const *paths, size_t n,
			     const vmdk_check_options *opt, desc_findings *out,
			     desc_error *err)
{
	static const vmdk_check_options defaults;
	char real[PATH_MAX];
	struct check_job job;
	desc_status st = DESC_OK;
	size_t from;

	desc_error_clear(err);
	if ((paths == NULL && n > 0) || out == NULL)
		return desc_error_set(err, DESC_E_ARG, NULL, 0,
				      "vmdk_check_paths: NULL argument");
	memset(&job, 0, sizeof(job));
	job.opt = opt ? opt : &defaults;
	job.out = out;
	job.err = err;
	from = out->count;
	if (job.opt->confine_count > 0) {
		job.confine = vk_calloc(job.opt->confine_count, sizeof(char *));
		job.confine_real = vk_calloc(job.opt->confine_count,
					     sizeof(char *));
		if (job.confine == NULL || job.confine_real == NULL) {
			st = nomem(err);
			goto out;
		}
		for (size_t i = 0; i < job.opt->confine_count; i++) {
			job.confine[i] = fs_absolute(job.opt->confine[i]);
			job.nconfine++;
			if (job.confine[i] == NULL) {
				st = nomem(err);
				goto out;
			}
			if (realpath(job.opt->confine[i], real) != NULL) {
				job.confine_real[i] = vk_strdup(real);
				if (job.confine_real[i] == NULL) {
					st = nomem(err);
					goto out;
				}
			}
		}
	}
	for (size_t i = 0; i < n && st == DESC_OK; i++) {
		struct stat sb;

		if (paths[i] == NULL)
			continue;
		if (stat(paths[i], &sb) == 0 && S_ISDIR(sb.st_mode))
			st = check_folder(&job, paths[i], 0);
		else if (stat(paths[i], &sb) != 0) {
			desc_error e;

			desc_error_clear(&e);
			fs_error(&e, errno, paths[i], "cannot open");
			st = add_error(&job, paths[i], &e);
		} else
			st = check_file(&job, paths[i], true);
	}
	if (st == DESC_OK)
		st = report_moved(&job);
	if (st == DESC_OK)
		st = check_across(&job);
	if (st == DESC_OK && job.oom)
		st = nomem(err);
	if (st == DESC_OK)
		drop_repeats(out, from);
out:
	job_free(&job);
	return st;
}
