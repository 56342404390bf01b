/*
 * flatten.c - flattening a chain into a new standalone disk, for promote
 * and full clones (flatten_disk): the whole chain is read and only the
 * data that is there (the topmost allocated grain of each 64 KiB unit) is
 * written into a new disk; holes, zero grains and all-zero data stay
 * holes.
 *
 * Reading: every link's sparse extents are opened read-only a second time
 * here (the vmdk_disk structures are private to disk.c) and looked up
 * with sparse_lookup, so a unit is classified without reading its data:
 * a hole, a plain copy from one file offset (runs of those are merged and
 * copied with copy_file_range), or anything else (compressed grains, flat
 * extents, units that straddle source grains or extents), which is read
 * through vmdk_disk_read and written unless it is all zeros.
 *
 * Writing: the target is made empty by vmdk_disk_create; sparse grains
 * are appended after the tables and one grain table is kept in memory at
 * a time (written to both the grain table and its redundant copy when the
 * walk leaves it), so memory does not grow with the disk.  A flat target
 * gets its data at the virtual offset and keeps holes elsewhere.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/disk/disk.h"
#include "vmdk/disk/flatten.h"
#include "vmdk/fs/failpoint.h"
#include "vmdk/fs/fs.h"
#include "vmdk/fs/os.h"
#include "descriptor/private.h"

/* Unit of the walk and grain of every sparse disk we create (sectors). */
#define UNIT_SECTORS 128u
#define UNIT_BYTES (UNIT_SECTORS * VMDK_SECTOR_SIZE)
/* Longest merged copy, and the bounce buffer for read/write copies. */
#define RUN_MAX (16u * 1024u * 1024u)
#define COPY_BUF (1024u * 1024u)
#define GTES 512u
/* Progress is reported about this often (virtual bytes). */
#define PROGRESS_STEP (UINT64_C(32) * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* Source: the chain, opened again for lookups                          */
/* ------------------------------------------------------------------ */

/*
 * Memory: a 2 TiB twoGbMaxExtentSparse link has hundreds of extents.  The
 * walk is in order, so each link keeps only the extent it is in open
 * (its grain directory and grain-table cache), and the target likewise
 * holds one extent open and one grain table: what the walk has left is
 * closed, so memory does not grow with the number of extents.
 */

struct target;
static desc_status run_flush(struct target *t, desc_error *err);

struct src_extent {
	desc_extent_type type;
	uint64_t start, sectors;
};

struct src_link {
	vmdk_disk *disk;
	struct src_extent *ext;
	size_t count;
	size_t cursor; /* extent of the last lookup: the walk is in order */
	/* The one extent kept open (SIZE_MAX: none). */
	size_t open;
	int fd;
	char *path;
	bool sparse;
	struct sparse_extent sp;
};

struct source {
	vmdk_disk *top;
	struct src_link *links;
	size_t count;
	/* A pending merged copy may read from an open source extent: it is
	 * written out before that extent is closed. */
	struct target *t;
};

static void link_close_extent(struct src_link *l)
{
	if (l->sparse)
		sparse_close(&l->sp);
	l->sparse = false;
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	vk_free(l->path);
	l->path = NULL;
	l->open = SIZE_MAX;
}

static void source_close(struct source *s)
{
	size_t i;

	for (i = 0; i < s->count; i++) {
		link_close_extent(&s->links[i]);
		vk_free(s->links[i].ext);
	}
	vk_free(s->links);
	s->links = NULL;
	s->count = 0;
}

static desc_status open_link(vmdk_disk *disk, struct src_link *l,
			     desc_error *err)
{
	const desc_descriptor *d = vmdk_disk_descriptor(disk);
	size_t i, n = desc_extent_count(d);
	uint64_t start = 0;

	l->disk = disk;
	l->fd = -1;
	l->open = SIZE_MAX;
	l->ext = vk_calloc(n ? n : 1, sizeof(*l->ext));
	if (l->ext == NULL)
		return vk_nomem(err);
	l->count = n;
	for (i = 0; i < n; i++) {
		const desc_extent *x = desc_extent_at(d, i);

		l->ext[i].type = x->type;
		l->ext[i].start = start;
		l->ext[i].sectors = x->sectors;
		start += x->sectors;
	}
	return DESC_OK;
}

static desc_status source_open(vmdk_disk *top, struct source *s,
			       desc_error *err)
{
	vmdk_disk *d;
	size_t n = 0, i;
	desc_status rc = DESC_OK;

	memset(s, 0, sizeof(*s));
	s->top = top;
	for (d = top; d != NULL; d = vmdk_disk_parent(d))
		n++;
	s->links = vk_calloc(n, sizeof(*s->links));
	if (s->links == NULL)
		return vk_nomem(err);
	for (d = top, i = 0; d != NULL && rc == DESC_OK;
	     d = vmdk_disk_parent(d), i++) {
		s->count = i + 1;
		rc = open_link(d, &s->links[i], err);
	}
	if (rc != DESC_OK)
		source_close(s);
	return rc;
}

/* Opens extent i of link l (closing the one it had open); only sparse
 * extents are looked into here, the others are read through
 * vmdk_disk_read. */
static desc_status link_open_extent(struct source *s, struct src_link *l,
				    size_t i, desc_error *err)
{
	const desc_extent *x;
	desc_status rc;
	char *dir;

	if (l->open == i)
		return DESC_OK;
	x = desc_extent_at(vmdk_disk_descriptor(l->disk), i);
	if (l->fd >= 0) {
		rc = run_flush(s->t, err);
		if (rc != DESC_OK)
			return rc;
	}
	link_close_extent(l);
	l->open = i;
	if (x->type != DESC_EXTENT_SPARSE || x->path == NULL)
		return DESC_OK;
	if (i == 0 && vmdk_disk_embedded(l->disk)) {
		/* An embedded descriptor describes the file holding it. */
		l->path = vk_strdup(vmdk_disk_path(l->disk));
	} else {
		dir = fs_dirname(vmdk_disk_path(l->disk));
		l->path = dir ? fs_join(dir, x->path) : NULL;
		vk_free(dir);
	}
	if (l->path == NULL)
		return vk_nomem(err);
	l->fd = open(l->path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		return fs_error(err, errno, l->path, "cannot open extent");
	rc = sparse_open(&l->sp, l->fd, l->path, err);
	if (rc == DESC_OK)
		l->sparse = true;
	return rc;
}

enum unit_kind {
	UNIT_HOLE, /* reads as zeros: write nothing */
	UNIT_COPY, /* n sectors at byte `off` of `fd` */
	UNIT_READ, /* read through the chain, write unless zeros */
};

struct unit {
	enum unit_kind kind;
	uint64_t span;  /* UNIT_HOLE: sectors known to be a hole (>= n) */
	int fd;
	const char *path;
	uint64_t off;
};

/* The extent of link l holding `sector`, opened (*out NULL: none). */
static desc_status extent_at(struct source *s, struct src_link *l,
			     uint64_t sector, struct src_extent **out,
			     desc_error *err)
{
	size_t i, k;

	*out = NULL;
	for (k = 0; k < l->count; k++) {
		i = (l->cursor + k) % l->count;
		if (sector >= l->ext[i].start &&
		    sector - l->ext[i].start < l->ext[i].sectors) {
			l->cursor = i;
			*out = &l->ext[i];
			return link_open_extent(s, l, i, err);
		}
	}
	return DESC_OK;
}

/* Sectors from extent sector `in` on that are unallocated for sure: the
 * rest of the grain, or of the whole grain table when it has none. */
static uint64_t unallocated_run(const struct src_link *l,
				const struct src_extent *e, uint64_t in)
{
	const vmdk_sparse_header *h = &l->sp.header;
	uint64_t cover = h->grain_size * h->num_gtes_per_gt;
	uint64_t gdi = in / cover, end;

	if (gdi < l->sp.gd_entries && l->sp.gd[gdi] == 0)
		end = (gdi + 1) * cover;
	else
		end = (in / h->grain_size + 1) * h->grain_size;
	if (end > e->sectors)
		end = e->sectors;
	return end - in;
}

/* What the n sectors at `sector` are, looking down the chain for the
 * topmost link that holds them. */
static desc_status classify(struct source *s, uint64_t sector, uint64_t n,
			    struct unit *u, desc_error *err)
{
	uint64_t span = UINT64_MAX;
	size_t i;

	u->kind = UNIT_HOLE;
	u->span = n;
	for (i = 0; i < s->count; i++) {
		struct src_link *l = &s->links[i];
		struct src_extent *e;
		enum sparse_grain_state state;
		uint64_t in, fsec = 0, g;
		desc_status rc;

		rc = extent_at(s, l, sector, &e, err);
		if (rc != DESC_OK)
			return rc;
		if (e == NULL || sector + n > e->start + e->sectors) {
			u->kind = UNIT_READ;
			return DESC_OK;
		}
		if (e->type == DESC_EXTENT_ZERO)
			return DESC_OK;
		if (!l->sparse) {
			u->kind = UNIT_READ;
			return DESC_OK;
		}
		in = sector - e->start;
		g = l->sp.header.grain_size;
		if (in % g + n > g) {
			u->kind = UNIT_READ;
			return DESC_OK;
		}
		rc = sparse_lookup(&l->sp, in, &state, &fsec, err);
		if (rc != DESC_OK)
			return rc;
		switch (state) {
		case SPARSE_GRAIN_UNALLOCATED: {
			uint64_t run = unallocated_run(l, e, in);

			if (run < span)
				span = run;
			continue;
		}
		case SPARSE_GRAIN_ZERO:
			return DESC_OK;
		case SPARSE_GRAIN_DATA:
			u->kind = UNIT_COPY;
			u->fd = l->fd;
			u->path = l->path;
			u->off = fsec * VMDK_SECTOR_SIZE;
			return DESC_OK;
		case SPARSE_GRAIN_COMPRESSED:
			u->kind = UNIT_READ;
			return DESC_OK;
		}
	}
	/* Unallocated in every link: the caller may skip the whole run. */
	if (span != UINT64_MAX && span > n)
		u->span = span;
	return DESC_OK;
}

/* ------------------------------------------------------------------ */
/* Target                                                              */
/* ------------------------------------------------------------------ */

struct dst_extent {
	char *path;
	uint64_t start, sectors;
	bool sparse;
};

struct target {
	struct dst_extent *ext;
	size_t count;
	size_t cursor;
	/* The one extent open for writing (SIZE_MAX: none): */
	size_t open;
	int fd;
	vmdk_sparse_header h;
	uint64_t gd_sectors;
	uint64_t next_free;   /* sector where the next grain goes */
	uint64_t gt_index;    /* grain table held in gt; UINT64_MAX none */
	bool gt_dirty;
	uint8_t gt[GTES * 4];
	/* The pending merged copy. */
	int run_sfd, run_dfd;
	const char *run_spath, *run_dpath;
	uint64_t run_soff, run_doff, run_len;
	uint8_t *buf; /* COPY_BUF */
};

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

desc_status disk_pwrite_all(int fd, const void *buf, size_t len, uint64_t off,
			    const char *path, desc_error *err)
{
	return fs_pwrite_full(fd, buf, len, off) == 0
		       ? DESC_OK : fs_error(err, errno, path, "cannot write");
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

static desc_status copy_range(struct target *t, int sfd, const char *spath,
			      uint64_t soff, int dfd, const char *dpath,
			      uint64_t doff, uint64_t len, desc_error *err)
{
	desc_status rc;

	while (len > 0) {
		ssize_t n = os_copy_range(sfd, (off_t)soff, dfd, (off_t)doff,
					  (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* unsupported here, or the source ends: below */
		soff += (uint64_t)n;
		doff += (uint64_t)n;
		len -= (uint64_t)n;
	}
	while (len > 0) {
		size_t chunk = len > COPY_BUF ? COPY_BUF : (size_t)len;

		rc = fs_pread_zero(sfd, t->buf, chunk, soff, spath, err);
		if (rc == DESC_OK)
			rc = disk_pwrite_all(dfd, t->buf, chunk, doff, dpath, err);
		if (rc != DESC_OK)
			return rc;
		soff += chunk;
		doff += chunk;
		len -= chunk;
	}
	return DESC_OK;
}

static desc_status run_flush(struct target *t, desc_error *err)
{
	desc_status rc;

	if (t == NULL || t->run_len == 0)
		return DESC_OK;
	rc = copy_range(t, t->run_sfd, t->run_spath, t->run_soff, t->run_dfd,
			t->run_dpath, t->run_doff, t->run_len, err);
	t->run_len = 0;
	return rc;
}

static desc_status run_add(struct target *t, const struct unit *u,
			   uint64_t doff, uint64_t len, desc_error *err)
{
	struct dst_extent *d = &t->ext[t->open];
	desc_status rc;

	if (t->run_len > 0 && t->run_sfd == u->fd && t->run_dfd == t->fd &&
	    t->run_soff + t->run_len == u->off &&
	    t->run_doff + t->run_len == doff && t->run_len + len <= RUN_MAX) {
		t->run_len += len;
		return DESC_OK;
	}
	rc = run_flush(t, err);
	if (rc != DESC_OK)
		return rc;
	t->run_sfd = u->fd;
	t->run_spath = u->path;
	t->run_soff = u->off;
	t->run_dfd = t->fd;
	t->run_dpath = d->path;
	t->run_doff = doff;
	t->run_len = len;
	return DESC_OK;
}

static desc_status gt_flush(struct target *t, desc_error *err)
{
	const struct dst_extent *d = &t->ext[t->open];
	uint64_t gt_sector;
	desc_status rc;

	if (!d->sparse || t->gt_index == UINT64_MAX || !t->gt_dirty)
		return DESC_OK;
	/* The tables follow each directory (sparse_create_file's layout). */
	gt_sector = t->h.gd_offset + t->gd_sectors + t->gt_index * 4;
	rc = disk_pwrite_all(t->fd, t->gt, sizeof(t->gt),
			     gt_sector * VMDK_SECTOR_SIZE, d->path, err);
	if (rc == DESC_OK && (t->h.flags & VMDK_SPARSE_FLAG_REDUNDANT_GT)) {
		gt_sector = t->h.rgd_offset + t->gd_sectors + t->gt_index * 4;
		rc = disk_pwrite_all(t->fd, t->gt, sizeof(t->gt),
				     gt_sector * VMDK_SECTOR_SIZE, d->path, err);
	}
	t->gt_dirty = false;
	return rc;
}

/* Finishes the open target extent: the pending copy, its grain table,
 * whole grains, fsync; then closes it. */
static desc_status target_close_extent(struct target *t, desc_error *err)
{
	const struct dst_extent *d;
	desc_status rc;
	struct stat st;

	if (t->open == SIZE_MAX)
		return DESC_OK;
	d = &t->ext[t->open];
	rc = run_flush(t, err);
	if (rc == DESC_OK)
		rc = gt_flush(t, err);
	/* Whole grains: the last one may have been written short. */
	if (rc == DESC_OK && d->sparse && fstat(t->fd, &st) == 0 &&
	    (uint64_t)st.st_size < t->next_free * VMDK_SECTOR_SIZE &&
	    fp_ftruncate(t->fd, (off_t)(t->next_free * VMDK_SECTOR_SIZE)) < 0)
		rc = fs_error(err, errno, d->path, "cannot extend");
	if (rc == DESC_OK && fp_fsync(t->fd) < 0)
		rc = fs_error(err, errno, d->path, "cannot sync");
	close(t->fd);
	t->fd = -1;
	t->open = SIZE_MAX;
	return rc;
}

static void target_close(struct target *t)
{
	size_t i;

	if (t->fd >= 0)
		close(t->fd);
	for (i = 0; i < t->count; i++)
		vk_free(t->ext[i].path);
	vk_free(t->ext);
	vk_free(t->buf);
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

/* Reads the new disk's descriptor only: each extent is opened when the
 * walk reaches it (target_open_extent). */
static desc_status target_open(const char *path, struct target *t,
			       desc_error *err)
{
	vmdk_disk *disk = NULL;
	desc_status rc;
	uint64_t start = 0;
	size_t i, n;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->open = SIZE_MAX;
	rc = vmdk_disk_open(path, VMDK_OPEN_DESCRIPTOR_ONLY, &disk, err);
	if (rc != DESC_OK)
		return rc;
	n = desc_extent_count(vmdk_disk_descriptor(disk));
	t->ext = vk_calloc(n ? n : 1, sizeof(*t->ext));
	t->buf = vk_malloc(COPY_BUF);
	if (t->ext == NULL || t->buf == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	t->count = n;
	for (i = 0; i < n; i++) {
		const desc_extent *x = desc_extent_at(vmdk_disk_descriptor(disk), i);
		struct dst_extent *d = &t->ext[i];
		vmdk_extent_info info;

		rc = vmdk_disk_extent_info(disk, i, &info, err);
		if (rc != DESC_OK)
			goto out;
		d->path = info.path ? vk_strdup(info.path) : NULL;
		if (d->path == NULL) {
			rc = info.path ? vk_nomem(err)
				       : desc_error_set(err, DESC_E_FORMAT, path, 0,
							"new disk's extent %zu has no file",
							i + 1);
			goto out;
		}
		d->start = start;
		d->sectors = x->sectors;
		d->sparse = x->type == DESC_EXTENT_SPARSE;
		start += d->sectors;
	}
out:
	vmdk_disk_free(disk);
	if (rc != DESC_OK)
		target_close(t);
	return rc;
}

/* Opens extent i for writing (finishing the one open before). */
static desc_status target_open_extent(struct target *t, size_t i,
				      desc_error *err)
{
	struct dst_extent *d = &t->ext[i];
	desc_status rc;
	struct stat st;

	if (t->open == i)
		return DESC_OK;
	rc = target_close_extent(t, err);
	if (rc != DESC_OK)
		return rc;
	t->fd = open(d->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (t->fd < 0 || fstat(t->fd, &st) < 0)
		return fs_error(err, errno, d->path, "cannot open");
	t->open = i;
	t->gt_index = UINT64_MAX;
	t->gt_dirty = false;
	if (!d->sparse)
		return DESC_OK;
	rc = sparse_read_header(t->fd, (uint64_t)st.st_size, d->path, &t->h,
				err);
	if (rc != DESC_OK)
		return rc;
	if (t->h.grain_size != UNIT_SECTORS)
		return desc_error_set(err, DESC_E_FORMAT, d->path, 0,
				      "new sparse extent has grainSize %" PRIu64 " (expected %u)",
				      t->h.grain_size, UNIT_SECTORS);
	{
		uint64_t grains = (t->h.capacity + t->h.grain_size - 1) /
				  t->h.grain_size;
		uint64_t gts = (grains + GTES - 1) / GTES;

		t->gd_sectors = (gts * 4 + VMDK_SECTOR_SIZE - 1) /
				VMDK_SECTOR_SIZE;
	}
	t->next_free = ((uint64_t)st.st_size + VMDK_SECTOR_SIZE - 1) /
		       VMDK_SECTOR_SIZE;
	if (t->next_free < t->h.overhead)
		t->next_free = t->h.overhead;
	return DESC_OK;
}

static struct dst_extent *target_extent(struct target *t, uint64_t sector)
{
	size_t i, k;

	for (k = 0; k < t->count; k++) {
		i = (t->cursor + k) % t->count;
		if (sector >= t->ext[i].start &&
		    sector - t->ext[i].start < t->ext[i].sectors) {
			t->cursor = i;
			return &t->ext[i];
		}
	}
	return NULL;
}

/* Where the n sectors at virtual `sector` go (byte offset in the open
 * extent); for a sparse extent this allocates the next grain and sets
 * its entry. */
static desc_status target_place(struct target *t, uint64_t sector,
				uint64_t *doff, desc_error *err)
{
	struct dst_extent *d;
	uint64_t in, grain, gti;
	desc_status rc;

	rc = target_open_extent(t, t->cursor, err);
	if (rc != DESC_OK)
		return rc;
	d = &t->ext[t->open];
	in = sector - d->start;
	if (!d->sparse) {
		*doff = in * VMDK_SECTOR_SIZE;
		return DESC_OK;
	}
	grain = in / UNIT_SECTORS;
	gti = grain / GTES;
	if (gti != t->gt_index) {
		rc = gt_flush(t, err);
		if (rc != DESC_OK)
			return rc;
		/* The walk is in order: a table left is never seen again, so
		 * the new one starts empty (as created). */
		memset(t->gt, 0, sizeof(t->gt));
		t->gt_index = gti;
	}
	if (t->next_free > UINT32_MAX - UNIT_SECTORS)
		return desc_error_set(err, DESC_E_TOO_LARGE, d->path, 0,
				      "sparse extent grows past 2 TiB (32-bit grain table entries)");
	put32(t->gt + (grain % GTES) * 4, (uint32_t)t->next_free);
	t->gt_dirty = true;
	*doff = t->next_free * VMDK_SECTOR_SIZE;
	t->next_free += UNIT_SECTORS;
	return DESC_OK;
}

static desc_status target_finish(struct target *t, desc_error *err)
{
	return target_close_extent(t, err);
}

/* ------------------------------------------------------------------ */
/* Flatten                                                             */
/* ------------------------------------------------------------------ */

vmdk_create_type flatten_default_type(const vmdk_disk *top)
{
	return desc_extent_count(vmdk_disk_descriptor(top)) > 1
		       ? VMDK_CREATE_TWOGB_SPARSE
		       : VMDK_CREATE_MONOLITHIC_SPARSE;
}

void flatten_remove(const char *path)
{
	desc_descriptor *d = NULL;
	bool embedded = false;
	char *dir;
	size_t i;

	if (disk_load_descriptor(path, &d, &embedded, NULL) == DESC_OK &&
	    !embedded && (dir = fs_dirname(path)) != NULL) {
		for (i = 0; i < desc_extent_count(d); i++) {
			const desc_extent *x = desc_extent_at(d, i);
			char *p;

			/* Only files beside it: what create made. */
			if (x->path == NULL || strchr(x->path, '/') != NULL)
				continue;
			p = fs_join(dir, x->path);
			if (p != NULL)
				fp_unlink(p);
			vk_free(p);
		}
		vk_free(dir);
	}
	desc_free(d);
	fp_unlink(path);
}

void flatten_progress_tick(struct flatten_progress *p, uint64_t bytes)
{
	if (p != NULL && p->fn != NULL)
		p->fn(p->ctx, p->done + bytes, p->total);
}

static desc_status flatten_walk(struct source *s, struct target *t,
				uint64_t capacity, uint8_t *unit_buf,
				struct flatten_progress *progress,
				desc_error *err)
{
	uint64_t sector = 0, next_tick = PROGRESS_STEP;
	desc_status rc = DESC_OK;

	while (sector < capacity && rc == DESC_OK) {
		struct dst_extent *d = target_extent(t, sector);
		uint64_t n, doff = 0;
		struct unit u;

		if (d == NULL)
			return desc_error_set(err, DESC_E_FORMAT, "", 0,
					      "new disk does not cover sector %" PRIu64,
					      sector);
		n = UNIT_SECTORS - (sector - d->start) % UNIT_SECTORS;
		if (n > d->start + d->sectors - sector)
			n = d->start + d->sectors - sector;
		rc = classify(s, sector, n, &u, err);
		if (rc != DESC_OK)
			break;
		if (u.kind == UNIT_READ) {
			rc = vmdk_disk_read(s->top, sector, n, unit_buf, err);
			if (rc == DESC_OK &&
			    !all_zero(unit_buf, (size_t)(n * VMDK_SECTOR_SIZE))) {
				rc = target_place(t, sector, &doff, err);
				if (rc == DESC_OK)
					rc = disk_pwrite_all(t->fd, unit_buf,
							     (size_t)(n * VMDK_SECTOR_SIZE),
							     doff, d->path, err);
			}
		} else if (u.kind == UNIT_COPY) {
			rc = target_place(t, sector, &doff, err);
			if (rc == DESC_OK)
				rc = run_add(t, &u, doff,
					     n * VMDK_SECTOR_SIZE, err);
		}
		if (u.kind == UNIT_HOLE && u.span > n) {
			/* Skip a hole in whole units: every target extent
			 * starts on a unit boundary, so a unit (a target grain)
			 * is never placed twice. */
			uint64_t end = (sector + u.span) / UNIT_SECTORS * UNIT_SECTORS;

			if (end > capacity)
				end = capacity;
			if (end > sector + n)
				n = end - sector;
		}
		sector += n;
		if (sector * VMDK_SECTOR_SIZE >= next_tick) {
			flatten_progress_tick(progress, sector * VMDK_SECTOR_SIZE);
			next_tick = sector * VMDK_SECTOR_SIZE + PROGRESS_STEP;
		}
	}
	if (rc == DESC_OK)
		rc = target_finish(t, err);
	return rc;
}

desc_status flatten_disk(vmdk_disk *top, const char *path,
			 vmdk_create_type type, struct flatten_progress *progress,
			 desc_error *err)
{
	const desc_descriptor *d = vmdk_disk_descriptor(top);
	const char *adapter = desc_ddb_get(d, "ddb.adapterType");
	const char *hw = desc_ddb_get(d, "ddb.virtualHWVersion");
	vmdk_create_options copt;
	struct source src;
	struct target tgt;
	uint8_t *unit_buf = NULL;
	bool created = false;
	desc_status rc;

	memset(&src, 0, sizeof(src));
	memset(&tgt, 0, sizeof(tgt));
	tgt.fd = -1;
	tgt.open = SIZE_MAX;
	if (type != VMDK_CREATE_MONOLITHIC_SPARSE &&
	    type != VMDK_CREATE_TWOGB_SPARSE &&
	    type != VMDK_CREATE_MONOLITHIC_FLAT)
		return desc_error_set(err, DESC_E_ARG, path, 0,
				      "cannot promote to %s (expected monolithicSparse, twoGbMaxExtentSparse or monolithicFlat)",
				      vmdk_create_type_name(type) ? vmdk_create_type_name(type) : "this type");
	memset(&copt, 0, sizeof(copt));
	copt.type = type;
	copt.size_bytes = vmdk_disk_capacity(top) * VMDK_SECTOR_SIZE;
	copt.adapter_type = disk_adapter_known(adapter) ? adapter : NULL;
	copt.hw_version = disk_hw_version_ok(hw) ? hw : NULL;
	rc = vmdk_disk_create(path, &copt, err);
	if (rc != DESC_OK)
		return rc;
	created = true;
	unit_buf = vk_malloc(UNIT_BYTES);
	if (unit_buf == NULL) {
		rc = vk_nomem(err);
		goto out;
	}
	rc = source_open(top, &src, err);
	if (rc == DESC_OK)
		rc = target_open(path, &tgt, err);
	src.t = &tgt;
	if (rc == DESC_OK)
		rc = flatten_walk(&src, &tgt, vmdk_disk_capacity(top), unit_buf,
				  progress, err);
out:
	target_close(&tgt);
	source_close(&src);
	vk_free(unit_buf);
	if (rc != DESC_OK && created)
		flatten_remove(path);
	if (rc == DESC_OK && progress != NULL) {
		progress->done += vmdk_disk_capacity(top) * VMDK_SECTOR_SIZE;
		flatten_progress_tick(progress, 0);
	}
	return rc;
}
