/*
 * base.h - what the two halves of `vmdkit base` share (private, never
 * installed).  base.c makes a base from a master (vmdk_base_make);
 * base_undo.c puts a master back: in memory after a failed step
 * (base_rollback), and from the undo record after a killed run
 * (base_write_undo before the master changes, base_recover on the next
 * run).  Both work on one struct base_job.
 */
#ifndef VMDKIT_OPS_BASE_H
#define VMDKIT_OPS_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"

struct base_job;

/* The caller's report callback, if any: one step on one path, or on a
 * pair ("move FROM -> TO"). */
void base_report(const struct base_job *job, const char *action,
		 const char *path);
void base_report2(const struct base_job *job, const char *action,
		  const char *from, const char *to);

/* `name` in the staging folder (vk_free; NULL on allocation failure). */
char *base_staged(const struct base_job *job, const char *name);

/* Best effort: puts the master back as it was after a failed step 3-7.
 * When a step of that fails, the staging folder stays, with its undo
 * record: the next run retries. */
void base_rollback(struct base_job *job);

/* Writes the undo record into the staging folder (fsynced), before the
 * first change to the master. */
desc_status base_write_undo(struct base_job *job);

/* Before anything else: finishes (committed) or undoes (not committed)
 * what a killed earlier run into the same BASEDIR left. */
desc_status base_recover(struct base_job *job);

#endif
