/*
 * check.c - filesystem-level checks of descriptors, .vmx and .vmsd files,
 * VM bundle folders and folder trees (vmdk_check_paths).  Every problem is
 * a finding with a stable code (vmdk/CHECKS.md); nothing here writes, and
 * every file is opened read-only.  This file holds the entry point, the
 * folder walk and the descriptor, extent and chain checks; check_vm.c the
 * .vmx and .vmsd ones, check_leftovers.c those of interrupted runs.
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
#include "vmdk/ops/check.h"
#include "vmdk/ops/scan.h"
#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "vmdk/vm/vm.h"
#include "descriptor/private.h"

/* At most this many grain findings per extent: a damaged table would
 * otherwise produce one line per grain. */
#define DEEP_FINDINGS_MAX 8
/* Folder trees deeper than this are not entered (a loop through bind
 * mounts; symlinks are never followed). */
#define RECURSION_MAX 32

/* ------------------------------------------------------------------ */
/* The check job                                                       */
/* ------------------------------------------------------------------ */

desc_status check_add(struct check_job *job, desc_severity sev,
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
		return vk_nomem(job->err);
	st = desc_findings_add(job->out, sev, code, file, line, "%s", msg);
	vk_free(msg);
	return st == DESC_OK ? DESC_OK : vk_nomem(job->err);
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

desc_status check_add_error(struct check_job *job, const char *path,
			    const desc_error *e)
{
	if (e->code == DESC_E_NOMEM)
		return vk_nomem(job->err);
	return check_add(job, DESC_SEV_ERROR, status_code(e->code),
			 e->file[0] ? e->file : path, e->line, "%s",
			 e->message[0] ? e->message : desc_status_name(e->code));
}

/* An extent or parent path outside every --confine folder: reported by
 * the caller and never opened.  Symlinks inside a confined folder that
 * point out of it count as escaping too. */
bool check_escapes(struct check_job *job, const char *path)
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
		st = vk_nomem(job->err);
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
			st = check_add(job, DESC_SEV_ERROR, "grain-table-outside", path,
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
					st = check_add(job, DESC_SEV_ERROR,
						       "grain-outside-file", path, 0,
						       "grain %" PRIu64 " at sector %" PRIu32 " lies outside the file (%" PRIu64 " bytes)",
						       gi * h->num_gtes_per_gt + ti, e,
						       sp->file_size);
				continue;
			}
			if (!compressed && e < h->overhead) {
				if (shown++ < DEEP_FINDINGS_MAX)
					st = check_add(job, DESC_SEV_ERROR,
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
			st = check_add(job, DESC_SEV_ERROR, "grain-overlap", path, 0,
				       "grains at sectors %" PRIu32 " and %" PRIu32 " overlap (grain size %" PRIu64 " sectors)",
				       grains[i - 1], grains[i], h->grain_size);
	}
	if (st == DESC_OK && shown > DEEP_FINDINGS_MAX)
		st = check_add(job, DESC_SEV_ERROR, "grain-overlap", path, 0,
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
		return vk_nomem(job->err);
	for (size_t i = 0; i < job->nbases; i++)
		if (strcmp(job->bases[i], abs) == 0) {
			vk_free(abs);
			return DESC_OK;
		}
	bases = vk_reallocarray(job->bases, job->nbases + 1, sizeof(*bases));
	if (bases == NULL) {
		vk_free(abs);
		return vk_nomem(job->err);
	}
	job->bases = bases;
	job->bases[job->nbases++] = abs;
	desc_findings_init(&found);
	desc_error_clear(&e);
	st = vmdk_base_verify(dir, &found, &e);
	if (st != DESC_OK) {
		st = check_add_error(job, dir, &e);
		goto out;
	}
	for (size_t i = 0; i < found.count && st == DESC_OK; i++) {
		const desc_finding *f = &found.items[i];

		if (f->severity == DESC_SEV_INFO)
			continue; /* extra files: not a defect of the base */
		st = check_add(job, f->severity, f->code, f->file, f->line, "%s",
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
		return vk_nomem(job->err);
	if (check_escapes(job, file)) {
		st = check_add(job, DESC_SEV_ERROR, "path-escapes-confine", path,
			       x->line, "extent '%s' resolves to '%s', outside the confined folders (not followed)",
			       x->path, file);
		goto out;
	}
	if (stat(file, &sb) != 0) {
		st = check_add(job, DESC_SEV_WARNING, "extent-missing", path, x->line,
			       "extent file '%s' not found", x->path);
		goto out;
	}
	dir = fs_dirname(file);
	if (dir == NULL) {
		st = vk_nomem(job->err);
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
		st = check_add(job, DESC_SEV_ERROR, "extent-not-file", path, x->line,
			       "extent '%s' is not a regular file", x->path);
		goto out;
	}
	if (x->type != DESC_EXTENT_SPARSE) {
		unsigned long long need, off = x->has_offset ? x->offset : 0;

		if (!vk_add_u64(off, x->sectors, &need) ||
		    !vk_mul_u64(need, VMDK_SECTOR_SIZE, &need))
			goto out; /* the validator reports the overflow */
		if ((unsigned long long)sb.st_size < need)
			st = check_add(job, DESC_SEV_ERROR, "extent-size-mismatch",
				       path, x->line,
				       "extent file '%s' is %llu bytes but the descriptor needs %llu (%" PRIu64 " sectors)",
				       x->path, (unsigned long long)sb.st_size, need,
				       x->sectors);
		else if ((unsigned long long)sb.st_size > need && !x->has_offset)
			st = check_add(job, DESC_SEV_WARNING, "extent-size-mismatch",
				       path, x->line,
				       "extent file '%s' is %llu bytes, more than the %llu the descriptor names",
				       x->path, (unsigned long long)sb.st_size, need);
		goto out;
	}
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st = check_add(job, DESC_SEV_ERROR, "io", path, x->line,
			       "cannot open extent '%s': %s", x->path, strerror(errno));
		goto out;
	}
	n = pread(fd, raw, sizeof(raw), 0);
	desc_error_clear(&e);
	if (n != (ssize_t)sizeof(raw) ||
	    vmdk_sparse_header_decode(raw, (uint64_t)sb.st_size, x->path,
				      &sp.header, &e) != DESC_OK) {
		st = check_add(job, DESC_SEV_ERROR, "extent-format", path, x->line,
			       "extent '%s' is not a valid sparse extent: %s", x->path,
			       n == (ssize_t)sizeof(raw) ? e.message : "shorter than a header");
		goto out;
	}
	if (sp.header.capacity != x->sectors) {
		st = check_add(job, DESC_SEV_ERROR, "extent-size-mismatch", path,
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
			st = vk_nomem(job->err);
		else
			st = check_add(job, DESC_SEV_ERROR, "grain-table-outside", file,
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
			return vk_nomem(job->err);
		return check_add(job, DESC_SEV_ERROR, "chain-broken", path, 0,
				 "parent '%s' is not a disk: %s", parent, e.message);
	}
	if (!disk_cid(pd, &cid) || !disk_parent_cid(desc, &pcid))
		st = check_add(job, DESC_SEV_ERROR, "chain-broken", path, 0,
			       "parent '%s' has no CID or this delta has no parentCID",
			       parent);
	else if (cid != pcid)
		st = check_add(job, DESC_SEV_ERROR, "parent-cid-mismatch", path, 0,
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
		return e.code == DESC_E_NOMEM ? vk_nomem(job->err) : DESC_OK;
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
	st = check_add(job, chain.status == DESC_E_NOT_FOUND ? DESC_SEV_WARNING :
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
		return vk_nomem(job->err);
	if (hint[0] == '/') {
		pdir = fs_dirname(parent);
		cdir = fs_dirname(path);
		a = pdir ? fs_absolute(pdir) : NULL;
		b = cdir ? fs_absolute(cdir) : NULL;
		if (a == NULL || b == NULL) {
			st = vk_nomem(job->err);
			goto out;
		}
		if (strcmp(a, b) != 0)
			st = check_add(job, DESC_SEV_WARNING, "parent-hint-absolute",
				       path, 0,
				       "parentFileNameHint '%s' is an absolute path into another folder (the chain breaks when either folder moves; expected a path relative to the delta)",
				       hint);
		if (st != DESC_OK)
			goto out;
	}
	if (check_escapes(job, parent)) {
		st = check_add(job, DESC_SEV_ERROR, "path-escapes-confine", path, 0,
			       "parentFileNameHint '%s' resolves to '%s', outside the confined folders (not followed)",
			       hint, parent);
		goto out;
	}
	if (job->nconfine == 0) {
		st = check_chain(job, path);
	} else if (!fs_exists(parent)) {
		st = check_add(job, DESC_SEV_WARNING, "parent-missing", path, 0,
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
		st = check_add_error(job, path, &e);
		goto out;
	}
	if (desc_validate(*desc, &one) != DESC_OK ||
	    desc_check_portability(*desc, &one) != DESC_OK) {
		st = vk_nomem(job->err);
		goto out;
	}
	sort_by_line(one.items, one.count);
	for (size_t i = 0; i < one.count && st == DESC_OK; i++) {
		const desc_finding *f = &one.items[i];

		if (same_as_next(&one, i) || info_repeat(&rep, f))
			continue;
		st = check_add(job, f->severity, f->code, f->file ? f->file : path,
			       f->line, "%s", f->message);
	}
	for (size_t k = 0; k < rep.count && st == DESC_OK; k++)
		if (rep.kind[k].n > INFO_FINDINGS_MAX)
			st = check_add(job, DESC_SEV_INFO, rep.kind[k].code, path,
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
desc_status check_first_visit(struct check_job *job, const char *path,
			      bool *first)
{
	*first = !cm_fileset_has_path(&job->checked, path);
	if (*first && !cm_fileset_add_path(&job->checked, path))
		return vk_nomem(job->err);
	return DESC_OK;
}

desc_status check_lock(struct check_job *job, const char *path)
{
	char *lck = vk_asprintf("%s.lck", path);
	struct stat sb;
	desc_status st = DESC_OK;

	if (lck == NULL)
		return vk_nomem(job->err);
	if (lstat(lck, &sb) == 0 && S_ISDIR(sb.st_mode))
		st = check_add(job, DESC_SEV_WARNING, "stale-lock", lck, 0,
			       "lock folder exists: the VM is running, or a stale lock is left from a crash (remove it only when the VM is off)");
	vk_free(lck);
	return st;
}

desc_status check_descriptor(struct check_job *job, const char *path,
			     bool explicit)
{
	desc_descriptor *desc = NULL;
	bool embedded, first;
	desc_status st;

	st = check_first_visit(job, path, &first);
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
		return check_add_error(job, path, &e);
	}
	while ((de = readdir(dir)) != NULL) {
		char **n;

		if (de->d_name[0] == '.') {
			/* Hidden names are skipped, but those of an
			 * interrupted vmdkit run are reported. */
			if (!check_is_leftover_name(de->d_name))
				continue;
			n = vk_reallocarray(dots, ndots + 1, sizeof(*n));
			if (n == NULL) {
				st = vk_nomem(job->err);
				break;
			}
			dots = n;
			dots[ndots] = vk_strdup(de->d_name);
			if (dots[ndots] == NULL) {
				st = vk_nomem(job->err);
				break;
			}
			ndots++;
			continue;
		}
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			n = vk_reallocarray(names, cap, sizeof(*n));
			if (n == NULL) {
				st = vk_nomem(job->err);
				break;
			}
			names = n;
		}
		names[count] = fs_join(path, de->d_name);
		if (names[count] == NULL) {
			st = vk_nomem(job->err);
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
				st = check_add(job, DESC_SEV_WARNING, "stale-lock",
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
			st = vk_nomem(err);
			goto out;
		}
		for (size_t i = 0; i < job.opt->confine_count; i++) {
			job.confine[i] = fs_absolute(job.opt->confine[i]);
			job.nconfine++;
			if (job.confine[i] == NULL) {
				st = vk_nomem(err);
				goto out;
			}
			if (realpath(job.opt->confine[i], real) != NULL) {
				job.confine_real[i] = vk_strdup(real);
				if (job.confine_real[i] == NULL) {
					st = vk_nomem(err);
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
			st = check_add_error(&job, paths[i], &e);
		} else
			st = check_file(&job, paths[i], true);
	}
	if (st == DESC_OK)
		st = check_report_moved(&job);
	if (st == DESC_OK)
		st = check_across(&job);
	if (st == DESC_OK && job.oom)
		st = vk_nomem(err);
	if (st == DESC_OK)
		drop_repeats(out, from);
out:
	job_free(&job);
	return st;
}
