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

#include "descriptor/descriptor.h"

struct check_job;

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
