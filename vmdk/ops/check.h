/*
 * check.h - what the parts of vmdk_check_paths share (private, never
 * installed).  check.c holds the entry point, the folder walk and the
 * descriptor, extent and chain checks; check_vm.c the .vmx and .vmsd
 * checks and those across VMs; check_leftovers.c the findings about
 * what interrupted vmdkit runs left.  All add findings to one struct
 * check_job.
 */
#ifndef VMDKIT_OPS_CHECK_H
#define VMDKIT_OPS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "vmdk/ops/scan.h"

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

/* Adds a finding (the message printf-formatted); DESC_E_NOMEM in
 * job->err when it cannot. */
desc_status check_add(struct check_job *job, desc_severity sev,
		      const char *code, const char *file, unsigned line,
		      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A file that could not be read or parsed, as an error finding with a
 * stable code; running out of memory stays an error of the run. */
desc_status check_add_error(struct check_job *job, const char *path,
			    const desc_error *e);

/* True when `path` lies outside every --confine folder (the caller
 * reports it and never opens it). */
bool check_escapes(struct check_job *job, const char *path);

/* *first: true (and remembered) the first time a file is seen. */
desc_status check_first_visit(struct check_job *job, const char *path,
			      bool *first);

/* A lock folder PATH.lck: a warning. */
desc_status check_lock(struct check_job *job, const char *path);

/* One descriptor, its extents and its chain; `explicit`: named by the
 * caller (not found in a folder). */
desc_status check_descriptor(struct check_job *job, const char *path,
			     bool explicit);

/* A .vmx (with its disks when `explicit`) and a .vmsd (check_vm.c). */
desc_status check_vmx(struct check_job *job, const char *path,
		      bool explicit);
desc_status check_vmsd(struct check_job *job, const char *path);

/* After every path: what the VMs seen share (uuid.bios, MAC addresses,
 * disks and parents).  check_vm.c. */
desc_status check_across(struct check_job *job);

/* Hidden names an interrupted vmdkit run leaves (check_leftovers.c). */
bool check_is_leftover_name(const char *name);

/* One such hidden entry `name` of folder `dir`; `dots` are all of them. */
desc_status check_leftover(struct check_job *job, const char *dir,
			   const char *name, char *const *dots, size_t ndots);

/* After every path: the masters' disks `vmdkit base` moved, told apart by
 * the undo records seen. */
desc_status check_report_moved(struct check_job *job);

#endif
