/*
 * vmdk.h - disks and VMs on the filesystem: sparse extents, opening a disk
 * and its chain, creating disks and deltas, making a base, stamping leaves.
 *
 * Same conventions as descriptor.h: every call returns a desc_status and
 * fills a caller-owned desc_error (may be NULL); objects returned through
 * `**out` belong to the caller and are released with the matching *_free
 * (NULL is a no-op).  The library never prints and never exits.
 *
 * Safety rules every function here keeps:
 *   - a base (any disk opened as a parent, and every file under a base
 *     folder) is only ever opened O_RDONLY;
 *   - new files are created O_CREAT|O_EXCL|O_NOFOLLOW, never through a
 *     symlink;
 *   - a mutating operation either completes or leaves the tree as it was
 *     (work is staged in a temporary sibling folder named
 *     ".vmdkit-tmp-*" and renamed into place).
 *
 * Layers: this header is the library's manual for every layer below it
 * (vmdk/fs/ the OS, vmdk/disk/ the formats, vmdk/vm/ the VM text files,
 * vmdk/ops/ one file per command); each folder's main header states its
 * rule, and tests/layers.sh enforces it.
 *
 * Threads.  libvmdkit keeps no hidden per-process state that calls share,
 * so:
 *   - every function may run at the same time in several threads on
 *     different objects (vmdk_disk, vmdk_chain, vmdk_leaf_context,
 *     vmdk_plan, vmdk_dependent_list, vmdk_vm_description, desc_*
 *     objects);
 *   - one object is used by one thread at a time: a vmdk_disk (and the
 *     parents vmdk_disk_parent returns, which belong to it) is not
 *     synchronised, because vmdk_disk_read and vmdk_disk_extent_info fill
 *     its grain-table cache; a vmdk_leaf_context likewise, although
 *     vmdk_leaf_context_create_many runs worker threads of its own inside
 *     it;
 *   - functions without an object (vmdk_sparse_header_decode/encode,
 *     vmdk_create_type_*, vmdk_random_cid, vmdk_dependent_kind_name) are
 *     safe from any thread;
 *   - the first descriptor parse compiles the descriptor patterns once
 *     under a lock; later parses only read them;
 *   - relative paths are resolved against the process's working folder
 *     when the call runs: a thread that calls chdir() while another call
 *     runs changes what that call opens;
 *   - the library does not synchronise two calls that change the same
 *     files (two relocates of one base, a relocate during a clone): that
 *     is the caller's to order;
 *   - a report callback (vmdk_report_fn) and a progress callback
 *     (vmdk_progress_fn) run in the calling thread, before the function
 *     returns, except in vmdk_leaf_context_create_many, where they run in
 *     its worker threads, one at a time (never two at once);
 *   - the test hooks (desc_test_fail_allocation, VMDKIT_FAILPOINT) are
 *     process-wide and meant for single-threaded tests; while either is
 *     armed, vmdk_leaf_context_create_many stamps on one thread.
 */
#ifndef VMDKIT_VMDK_H
#define VMDKIT_VMDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "descriptor/descriptor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define VMDK_SECTOR_SIZE 512u
/* Longest chain followed before reporting a loop/depth error. */
#define VMDK_CHAIN_MAX_DEPTH 64
/* Prefix of staging folders; a leftover one is removed by the next run. */
#define VMDK_STAGING_PREFIX ".vmdkit-tmp-"

/* ------------------------------------------------------------------ */
/* Hosted sparse extent header (KDMV)                                  */
/* ------------------------------------------------------------------ */

#define VMDK_SPARSE_MAGIC 0x564d444bu /* "KDMV" read little-endian */
#define VMDK_SPARSE_FLAG_NEWLINE_TEST 0x1u
#define VMDK_SPARSE_FLAG_REDUNDANT_GT 0x2u
#define VMDK_SPARSE_FLAG_ZEROED_GTE 0x4u
#define VMDK_SPARSE_FLAG_COMPRESSED 0x10000u
#define VMDK_SPARSE_FLAG_MARKERS 0x20000u

typedef struct vmdk_sparse_header {
	uint32_t version;
	uint32_t flags;
	uint64_t capacity;          /* sectors */
	uint64_t grain_size;        /* sectors */
	uint64_t descriptor_offset; /* sectors, 0 = none */
	uint64_t descriptor_size;   /* sectors */
	uint32_t num_gtes_per_gt;
	uint64_t rgd_offset;        /* sectors */
	uint64_t gd_offset;         /* sectors */
	uint64_t overhead;          /* sectors */
	uint8_t unclean_shutdown;
	uint16_t compress_algorithm;
} vmdk_sparse_header;

/* Decodes and validates a 512-byte header read from a file of file_size
 * bytes (`name` for messages).  Every inconsistency is its own clear
 * DESC_E_FORMAT error: bad magic, unsupported version, grain size zero /
 * not a power of two / too small, numGTEsPerGT != 512, capacity overflow,
 * descriptor or tables outside the file, damaged newline-detection bytes,
 * unknown compression. */
desc_status vmdk_sparse_header_decode(const uint8_t raw[512], uint64_t file_size,
				      const char *name, vmdk_sparse_header *out,
				      desc_error *err);
/* Encodes a header (magic and newline bytes included) into raw. */
void vmdk_sparse_header_encode(const vmdk_sparse_header *header,
			       uint8_t raw[512]);

/* ------------------------------------------------------------------ */
/* Disks                                                               */
/* ------------------------------------------------------------------ */

typedef struct vmdk_disk vmdk_disk;

/* Do not open extent files (descriptor-level view only). */
#define VMDK_OPEN_DESCRIPTOR_ONLY 0x1u
/* Also open the parent chain (following parentFileNameHint) and check
 * every parentCID against its parent's CID. */
#define VMDK_OPEN_CHAIN 0x2u

/* Opens a disk, always read-only, by its descriptor file or by a
 * monolithicSparse / streamOptimized file with an embedded descriptor.
 * Extent paths are resolved relative to the descriptor's folder.  Missing
 * extent files, sparse headers that disagree with the descriptor, CID
 * mismatches are errors with the file named. */
desc_status vmdk_disk_open(const char *path, unsigned flags, vmdk_disk **out,
			   desc_error *err);
/* Frees the disk and its opened parents. */
void vmdk_disk_free(vmdk_disk *disk);

const char *vmdk_disk_path(const vmdk_disk *disk);
const desc_descriptor *vmdk_disk_descriptor(const vmdk_disk *disk);
/* True when the descriptor is embedded in a sparse extent. */
bool vmdk_disk_embedded(const vmdk_disk *disk);
/* Virtual size in sectors (sum of the extents). */
uint64_t vmdk_disk_capacity(const vmdk_disk *disk);
/* Parent opened by VMDK_OPEN_CHAIN, else NULL. */
vmdk_disk *vmdk_disk_parent(const vmdk_disk *disk);

typedef struct vmdk_extent_info {
	const char *path;        /* resolved path, NULL for ZERO extents */
	bool opened;             /* file was opened (not DESCRIPTOR_ONLY) */
	uint64_t file_size;      /* bytes */
	uint64_t allocated_bytes;/* st_blocks * 512 */
	bool sparse;             /* has a KDMV header */
	vmdk_sparse_header header; /* when sparse */
	uint64_t allocated_grains; /* grains with data in this extent */
} vmdk_extent_info;

/* Information about extent `index` of this disk (not its parents). */
desc_status vmdk_disk_extent_info(vmdk_disk *disk, size_t index,
				  vmdk_extent_info *out, desc_error *err);

/* Reads `count` sectors starting at `sector` of the virtual disk into buf,
 * falling through to the parent for unallocated grains (zeros when there
 * is no parent). */
desc_status vmdk_disk_read(vmdk_disk *disk, uint64_t sector, uint64_t count,
			   void *buf, desc_error *err);

/* ------------------------------------------------------------------ */
/* Chains                                                              */
/* ------------------------------------------------------------------ */

typedef struct vmdk_chain_link {
	char *path;          /* the descriptor (or monolithic file) of this link */
	char *create_type;
	bool has_cid;
	uint32_t cid;
	bool has_parent;     /* parentCID != ffffffff */
	uint32_t parent_cid;
	char *parent_hint;   /* as written, NULL when none */
	uint64_t capacity;   /* sectors */
} vmdk_chain_link;

typedef struct vmdk_chain {
	vmdk_chain_link *links; /* links[0] = the disk asked for, last = base */
	size_t count;
	/* DESC_OK when every link resolved and every CID matched; otherwise
	 * the first problem, described precisely in `error` (missing parent
	 * file, CID mismatch with both values, capacity mismatch, loop,
	 * depth limit). */
	desc_status status;
	desc_error error;
} vmdk_chain;

/* Walks the chain from `path` to its base.  A broken link is not a
 * failure of the call: it is recorded in chain->status/error and the walk
 * stops there.  The call fails only for the first file itself (missing,
 * not a descriptor) or on allocation failure. */
desc_status vmdk_chain_walk(const char *path, vmdk_chain *out, desc_error *err);
void vmdk_chain_clear(vmdk_chain *chain);

/* ------------------------------------------------------------------ */
/* Creating disks and deltas                                           */
/* ------------------------------------------------------------------ */

typedef enum vmdk_create_type {
	VMDK_CREATE_MONOLITHIC_SPARSE,
	VMDK_CREATE_TWOGB_SPARSE,
	VMDK_CREATE_MONOLITHIC_FLAT,
	VMDK_CREATE_TWOGB_FLAT,
} vmdk_create_type;

bool vmdk_create_type_from_name(const char *name, vmdk_create_type *out);
const char *vmdk_create_type_name(vmdk_create_type type);

/* A step a changing call takes (or, in a dry run, would take), reported
 * as it is taken: action is "create", "mkdir", "copy", "replace",
 * "rename", "write", "chmod", "remove", or, for the recovery of a killed
 * run's leftovers, "rollback"/"rollforward" (path: its staging folder)
 * and "restore"; `to` is NULL except for "rename" and "copy" (path is
 * then the source).  A dry run reports the same steps as the run. */
typedef void (*vmdk_step_fn)(void *ctx, const char *action, const char *path,
			     const char *to);

/* How a call that changes files runs (every such call goes through one
 * transaction: all or nothing, journaled; a killed run's leftovers in the
 * same folder are recovered by the next one, see vmdkit(1)). */
typedef struct vmdk_change_options {
	bool dry_run;            /* check and report, write nothing */
	vmdk_step_fn report;     /* may be NULL */
	void *report_ctx;
	/* What was found and left alone (another host's journal, a look-
	 * alike name, a 0.1.0 temporary file...); may be NULL.  Codes in
	 * vmdk/CHECKS.md. */
	desc_findings *notes;
} vmdk_change_options;

typedef struct vmdk_create_options {
	vmdk_create_type type;
	uint64_t size_bytes;      /* rounded up to whole sectors */
	const char *adapter_type; /* NULL = "lsilogic" */
	const char *hw_version;   /* NULL = "4" */
} vmdk_create_options;

/* A new random CID, never ffffffff or fffffffe. */
uint32_t vmdk_random_cid(void);

/* Creates a new empty disk at `path` (plus its extent files beside it),
 * through one transaction in path's folder: the files are written in its
 * staging folder and renamed in (no replace) extents first, descriptor
 * last; on failure nothing is left.  A name starting with
 * VMDK_STAGING_PREFIX is refused. */
desc_status vmdk_disk_create(const char *path, const vmdk_create_options *opt,
			     desc_error *err);
/* The same, run as `change` says (change may be NULL: a real run). */
desc_status vmdk_disk_create_with(const char *path,
				  const vmdk_create_options *opt,
				  const vmdk_change_options *change,
				  desc_error *err);

/* Replaces the content of the separate descriptor file `path` (an
 * existing regular file; its mode and owner are kept) with text[0..len),
 * through one transaction in path's folder: the new file is renamed over
 * the old one at commit, and a failure or a kill before it leaves the old
 * file as it was.  It refuses (DESC_E_REFUSED) a path that a journal or a
 * 0.1.0 temporary file in that folder names (see change->notes); deciding
 * which files may be edited at all (a read-only base) is the caller's.
 * change may be NULL: a real run. */
desc_status vmdk_descriptor_file_replace(const char *path, const char *text,
					 size_t len,
					 const vmdk_change_options *change,
					 desc_error *err);

/* Finishes or undoes what killed vmdkit runs on this host left in the
 * folder of `path` (the transaction module's recovery; what it cannot
 * prove safe is left alone and described in change->notes).  An editor
 * calls it before it reads the file it will replace, so that its edit is
 * computed from the recovered file, not from one a killed edit half
 * changed.  With change->dry_run it reports what it would do and changes
 * nothing.  change may be NULL: a real run. */
desc_status vmdk_descriptor_file_recover(const char *path,
					 const vmdk_change_options *change,
					 desc_error *err);

/* Creates an empty delta at `delta_path` over the disk `parent_path`
 * (opened read-only): parentCID = the parent's CID, parentFileNameHint =
 * `parent_hint` or, when NULL, the parent's path relative to the delta's
 * folder.  Follows the parent's layout: a monolithicSparse single file with
 * embedded descriptor, or a descriptor plus -s00N sparse extents when the
 * parent is split (twoGbMaxExtent*).  Grain tables are zero-filled by
 * extending the file, not by writing zeros. */
desc_status vmdk_delta_create(const char *delta_path, const char *parent_path,
			      const char *parent_hint, desc_error *err);
/* The same, run as `change` says (change may be NULL: a real run). */
desc_status vmdk_delta_create_with(const char *delta_path,
				   const char *parent_path,
				   const char *parent_hint,
				   const vmdk_change_options *change,
				   desc_error *err);

/* ------------------------------------------------------------------ */
/* .vmx helpers                                                        */
/* ------------------------------------------------------------------ */

typedef struct vmdk_vmx_disk {
	char *node;      /* "scsi0:0" */
	char *file_name; /* value of NODE.fileName, decoded */
	unsigned line;
} vmdk_vmx_disk;

/* The hard-disk nodes of a .vmx (present, deviceType a disk, fileName a
 * .vmdk).  Caller frees with vmdk_vmx_disks_free. */
desc_status vmdk_vmx_disks(const desc_dict *vmx, vmdk_vmx_disk **out,
			   size_t *count, desc_error *err);
void vmdk_vmx_disks_free(vmdk_vmx_disk *disks, size_t count);

/* ------------------------------------------------------------------ */
/* Bases                                                               */
/* ------------------------------------------------------------------ */

/* Written in every base folder. */
#define VMDK_MANIFEST_NAME "vmdkit-base.manifest"

/* Called for every step a command takes (or, with dry_run, would take):
 * action is a verb ("move", "copy", "write", "chmod", "mkdir", "rename"),
 * path the file concerned. */
typedef void (*vmdk_report_fn)(void *ctx, const char *action, const char *path);

typedef enum vmdk_snapshot_policy {
	VMDK_SNAPSHOTS_REFUSE = 0, /* master with snapshot deltas: refuse */
} vmdk_snapshot_policy;

typedef struct vmdk_base_options {
	bool copy;            /* copy extents, leave the master intact */
	bool absolute;        /* absolute extent paths in the base descriptor */
	bool strip_long_content_id; /* also remove ddb.longContentID */
	bool dry_run;
	vmdk_snapshot_policy snapshots;
	vmdk_report_fn report;
	void *report_ctx;
} vmdk_base_options;

/* Makes a protected base in `basedir` from `source` (a master's .vmx or a
 * .vmdk).  See vmdkit(1) "base". */
desc_status vmdk_base_make(const char *source, const char *basedir,
			   const vmdk_base_options *opt, desc_error *err);

/* Checks a base folder against its manifest and its write protection;
 * every difference is a finding naming the file. */
desc_status vmdk_base_verify(const char *basedir, desc_findings *out,
			     desc_error *err);

/* ------------------------------------------------------------------ */
/* Leaves                                                              */
/* ------------------------------------------------------------------ */

typedef struct vmdk_leaf_spec {
	const char *name;     /* displayName and file names */
	const char *folder;   /* the leaf bundle folder to create */
	const char *memsize;  /* MiB, NULL = keep */
	const char *numvcpus; /* NULL = keep */
	size_t extra_count;   /* extra .vmx keys */
	const char *const *extra_keys;
	const char *const *extra_values;
	unsigned line;        /* plan line, 0 when not from a plan */
} vmdk_leaf_spec;

/* When stamped leaves reach the disk (see vmdk/ops/leaf.c "Durability"):
 *   VMDK_SYNC_LEAF   each leaf's files and staging folder are fsynced
 *                    before its rename, the parent folder after it: a leaf
 *                    is durable when vmdk_leaf_context_create returns.
 *   VMDK_SYNC_BATCH  leaves are written without syncs and wait in their
 *                    staging folders; vmdk_leaf_context_commit syncs the
 *                    filesystem once (syncfs), renames them all into place
 *                    and syncs the parent folders.  A crash never leaves a
 *                    visible but incomplete leaf, at one sync per run.
 *   VMDK_SYNC_NONE   no syncs at all, each leaf renamed into place at once
 *                    (what a qemu-img create loop does); a crash can leave
 *                    leaves with empty files. */
typedef enum vmdk_sync_policy {
	VMDK_SYNC_LEAF = 0,
	VMDK_SYNC_BATCH,
	VMDK_SYNC_NONE,
} vmdk_sync_policy;

typedef struct vmdk_clone_options {
	const char *master_vmx;           /* NULL: a minimal default .vmx */
	const char *snapshot_name;        /* NULL: "Base" */
	const char *snapshot_description; /* NULL: "Don't delete!" */
	bool dry_run;
	vmdk_report_fn report;
	void *report_ctx;
	/* A full, independent copy: the base's extents are copied into the
	 * leaf (reflink where the filesystem can, else copy_file_range,
	 * holes kept; streamOptimized extents are inflated), the descriptor
	 * copy gets a new ddb.uuid, and there is no delta and no snapshot. */
	bool full;
	void (*progress)(void *ctx, uint64_t done_bytes, uint64_t total_bytes);
	void *progress_ctx;
	vmdk_sync_policy sync; /* 0 = VMDK_SYNC_LEAF */
} vmdk_clone_options;

/* Stamps one leaf from the base descriptor `base_descriptor` into
 * spec->folder: copied descriptor (extent paths relative to the leaf
 * folder), empty delta, .vmx, .vmsd.  Staged in a sibling temporary folder
 * and renamed into place; fails with DESC_E_EXISTS when the folder exists. */
desc_status vmdk_leaf_create(const char *base_descriptor,
			     const vmdk_leaf_spec *spec,
			     const vmdk_clone_options *opt, desc_error *err);

/* Stamping many leaves from one base: the base descriptor(s) and the
 * master .vmx are read once by vmdk_leaf_context_new; each
 * vmdk_leaf_context_create then does what vmdk_leaf_create does.  `opt`
 * is copied, but the strings and report context it points at must stay
 * valid until vmdk_leaf_context_free (NULL is a no-op). */
typedef struct vmdk_leaf_context vmdk_leaf_context;
desc_status vmdk_leaf_context_new(const char *base_descriptor,
				  const vmdk_clone_options *opt,
				  vmdk_leaf_context **out, desc_error *err);
desc_status vmdk_leaf_context_create(vmdk_leaf_context *ctx,
				     const vmdk_leaf_spec *spec,
				     desc_error *err);
/* Stamps count leaves, as many vmdk_leaf_context_create calls would, on
 * up to `jobs` threads (0: one per online CPU; never more than
 * VMDK_STAMP_JOBS_MAX).  Threads are used only for VMDK_SYNC_BATCH
 * contexts without dry_run or full, where each leaf is a few small files
 * and the run's cost is the kernel's file creation; otherwise, and while
 * VMDKIT_FAILPOINT or desc_test_fail_allocation is active, the leaves
 * are made one after the other.  The result is the same either way: the
 * leaves are staged in the order of `specs`, and at a failure the leaves
 * before the failing one stay staged (commit puts them in place), those
 * after it are removed; *created (may be NULL) is the number before the
 * failure, err describes it.  The report callback is called from one
 * thread at a time, not always the caller's. */
#define VMDK_STAMP_JOBS_MAX 8
desc_status vmdk_leaf_context_create_many(vmdk_leaf_context *ctx,
					  const vmdk_leaf_spec *specs,
					  size_t count, unsigned jobs,
					  size_t *created, desc_error *err);
/* VMDK_SYNC_BATCH: makes the leaves staged since the last commit durable
 * and renames them into place, in order; stops at the first failure (the
 * leaves after it are removed).  *committed (may be NULL) counts the leaves
 * now in place.  A no-op returning DESC_OK for the other policies. */
desc_status vmdk_leaf_context_commit(vmdk_leaf_context *ctx, size_t *committed,
				     desc_error *err);
/* Leaves staged and not committed are removed. */
void vmdk_leaf_context_free(vmdk_leaf_context *ctx);

/* Removes leftover VMDK_STAGING_PREFIX folders in `dir` (from a crashed
 * run).  Returns the number removed through *removed (may be NULL). */
desc_status vmdk_staging_cleanup(const char *dir, size_t *removed,
				 desc_error *err);

/* ------------------------------------------------------------------ */
/* Clone plans (YAML)                                                  */
/* ------------------------------------------------------------------ */

typedef struct vmdk_plan {
	char *base;   /* optional: base descriptor, relative to the plan */
	char *vmx;    /* optional: master .vmx, relative to the plan */
	vmdk_leaf_spec *leaves;
	size_t count;
} vmdk_plan;

/* Loads a plan file (see vmdkit-plan(5)).  Unknown keys, duplicate leaf
 * names or folders and YAML syntax errors fail with FILE:LINE. */
desc_status vmdk_plan_load(const char *path, vmdk_plan **out, desc_error *err);
void vmdk_plan_free(vmdk_plan *plan);

/* ------------------------------------------------------------------ */
/* Checking bundles and managing chains                                */
/* ------------------------------------------------------------------ */

/* Finding codes are documented in vmdk/CHECKS.md. */
typedef struct vmdk_check_options {
	bool recursive;   /* enter sub-folders of folders given */
	bool deep;        /* also walk sparse grain tables (read-only) */
	/* When confine_count > 0, an extent or parent path that resolves
	 * outside every one of these folders is reported
	 * ("path-escapes-confine") and not followed (not even stat'ed). */
	const char *const *confine;
	size_t confine_count;
} vmdk_check_options;

/* Checks descriptors, .vmx, .vmsd files, VM bundle folders and (with
 * opt->recursive) folder trees; findings are appended to `out` in a
 * stable order (paths as given, folder entries by name).  A file that
 * cannot be read or parsed is a finding, not a failure: the call fails
 * only on allocation failure or a NULL argument.  opt may be NULL. */
desc_status vmdk_check_paths(const char *const *paths, size_t n,
			     const vmdk_check_options *opt, desc_findings *out,
			     desc_error *err);

typedef enum vmdk_dependent_kind {
	VMDK_DEPENDENT_DESCRIPTOR, /* a copy of a base descriptor (extents in BASE) */
	VMDK_DEPENDENT_DELTA,      /* a delta whose chain reaches BASE */
	VMDK_DEPENDENT_VMX,        /* a .vmx with a disk whose chain reaches BASE */
} vmdk_dependent_kind;

typedef struct vmdk_dependent {
	char *path;                /* as found under the DIR given */
	vmdk_dependent_kind kind;
	size_t depth;              /* links from this file down to BASE's files */
} vmdk_dependent;

typedef struct vmdk_dependent_list {
	vmdk_dependent *items;     /* sorted by path */
	size_t count;
} vmdk_dependent_list;

const char *vmdk_dependent_kind_name(vmdk_dependent_kind kind);

/* Every descriptor copy, delta and .vmx under the folders `dirs` (searched
 * recursively, symlinks not followed) that depends on `base`: a base
 * folder, or a base descriptor (then that file and its extents).  Files
 * are compared by device and inode, so any spelling of a path matches.
 * Free with vmdk_dependents_clear. */
desc_status vmdk_dependents(const char *base, const char *const *dirs,
			    size_t ndirs, vmdk_dependent_list *out,
			    desc_error *err);
void vmdk_dependents_clear(vmdk_dependent_list *list);

typedef struct vmdk_relocate_options {
	bool dry_run;
	vmdk_report_fn report;     /* "write", "rename" steps; may be NULL */
	void *report_ctx;
} vmdk_relocate_options;

/* Moves the base folder `basedir` to `newdir` (rename: same filesystem;
 * newdir must not exist) and rewrites the extent paths and
 * parentFileNameHints that pointed into it in every descriptor under
 * `leaf_dirs` (relative stay relative, absolute stay absolute), and the
 * .vmx disk nodes and .vmsd snapshot disks that name a file in it.  The base's
 * own descriptors are rewritten (and its manifest updated) only when they
 * hold absolute paths into basedir.  All or nothing: every edited file is
 * staged as a temporary file beside it, then all are renamed; on failure
 * the temporaries are removed and the base moved back.  No leaf folder
 * (nleaf_dirs 0) is DESC_E_ARG: the move would break every leaf. */
desc_status vmdk_relocate(const char *basedir, const char *newdir,
			  const char *const *leaf_dirs, size_t nleaf_dirs,
			  const vmdk_relocate_options *opt, desc_error *err);

typedef struct vmdk_repair_options {
	bool force;     /* repair without proof that the parent's data is unchanged */
	bool dry_run;
	vmdk_report_fn report; /* "write" step; may be NULL */
	void *report_ctx;
} vmdk_repair_options;

typedef struct vmdk_repair_result {
	bool repaired;        /* a parentCID was (or, dry run, would be) changed */
	bool forced;          /* without proof (opt->force) */
	char child[DESC_ERROR_FILE_MAX];  /* descriptor edited */
	char parent[DESC_ERROR_FILE_MAX];
	uint32_t old_parent_cid;
	uint32_t new_parent_cid;
} vmdk_repair_result;

/* Walks the chain of `leaf`; at the first link whose parentCID disagrees
 * with its parent's CID, sets the child's parentCID to the parent's CID
 * when the parent's data is proven unchanged: every extent of the parent
 * lies in a vmdkit base folder whose manifest still matches.  Otherwise
 * DESC_E_REFUSED with the reason, unless opt->force.  A chain that already
 * holds is DESC_OK with result->repaired false.  result may be NULL. */
desc_status vmdk_repair_cid(const char *leaf, const vmdk_repair_options *opt,
			    vmdk_repair_result *result, desc_error *err);

typedef struct vmdk_vm_disk_info {
	char *node;           /* "scsi0:0" */
	char *file;           /* fileName as written */
	size_t depth;         /* links in the chain, 1 = no parent */
	bool linked;          /* the chain's last link keeps its data outside the VM folder */
	char *base;           /* last link of the chain (descriptor path) */
	char *base_dir;       /* folder of the last link's first extent; NULL if none */
	desc_status chain_status; /* DESC_OK or why the chain is broken */
	char *chain_message;  /* NULL when DESC_OK */
} vmdk_vm_disk_info;

typedef struct vmdk_vm_description {
	char *display_name;   /* NULL when the .vmx has none */
	bool linked_clone;    /* any disk linked */
	vmdk_vm_disk_info *disks;
	size_t count;
} vmdk_vm_description;

/* What a VM is: for each disk node, its chain depth and whether it is a
 * linked clone of a base kept outside the VM's folder.  Free with
 * vmdk_vm_description_clear. */
desc_status vmdk_vm_describe(const char *vmx_path, vmdk_vm_description *out,
			     desc_error *err);
void vmdk_vm_description_clear(vmdk_vm_description *desc);

/* ------------------------------------------------------------------ */
/* Promote and full clones                                             */
/* ------------------------------------------------------------------ */

/* Called now and then during long copies: done_bytes of total_bytes
 * (virtual disk bytes walked, holes included) are finished. */
typedef void (*vmdk_progress_fn)(void *ctx, uint64_t done_bytes,
				 uint64_t total_bytes);

typedef struct vmdk_promote_options {
	/* NULL: replace the leaf's disks in place (the .vmx then names the
	 * new standalone disk, the .vmsd loses its snapshots, the old delta
	 * and descriptor copy are removed last).  Else an existing folder
	 * where the standalone disks are written; the leaf is not touched. */
	const char *output_dir;
	/* false: twoGbMaxExtentSparse when the leaf's disk is split, else
	 * monolithicSparse.  Otherwise MONOLITHIC_SPARSE, TWOGB_SPARSE or
	 * MONOLITHIC_FLAT. */
	bool type_set;
	vmdk_create_type type;
	bool dry_run;
	vmdk_report_fn report;    /* "write", "rename", "remove" steps */
	void *report_ctx;
	vmdk_progress_fn progress;
	void *progress_ctx;
} vmdk_promote_options;

/* Flattens a linked clone into standalone disks with the same virtual
 * content.  `leaf` is a .vmx (every disk node whose disk has a parent is
 * promoted), a VM folder holding one .vmx, or a disk (in place only when a
 * .vmx in its folder names it; otherwise give opt->output_dir).  The new
 * disk of node N of NAME.vmx is "NAME.vmdk" for the first disk promoted,
 * "NAME_1.vmdk"... for the next; a disk promoted to output_dir keeps its
 * file name.  Only allocated data is copied (zero and unallocated grains
 * stay holes); parents, and every file outside the leaf folder, are only
 * opened read-only.  In place, the new disk is staged in a
 * VMDK_STAGING_PREFIX folder, fsynced, renamed beside the old files, then
 * the .vmx is replaced atomically (the commit point), then the .vmsd; the
 * old chain files inside the leaf folder are removed last.  Any failure
 * before the commit point leaves the leaf exactly as it was.  A journal in
 * the staging folder lets the next vmdk_promote of the leaf clean up after
 * a run that died (kill -9, power loss): before the commit it removes that
 * run's new files (only while they are still the files it made), after
 * it finishes the removals.
 * DESC_E_NOT_FOUND when there is nothing linked to promote in place.  A
 * bare disk without a parent may still be written to output_dir: that
 * converts it (e.g. a streamOptimized disk from an OVA into a sparse one). */
desc_status vmdk_promote(const char *leaf, const vmdk_promote_options *opt,
			 desc_error *err);

#ifdef __cplusplus
}
#endif

#endif
