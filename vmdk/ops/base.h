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
#include "descriptor/private.h"
#include "vmdk/vmdk.h"
#include "vmdk/fs/fs.h"

/* One file that ends up in the base folder. */
struct base_file {
	char *src;      /* where it is in the master */
	char *name;     /* its name in the base */
	mode_t mode;    /* its mode before we touched it */
	dev_t dev;      /* its identity in the master (the undo record) */
	ino_t ino;
	bool moved;     /* renamed into staging: rename back on failure */
	bool copied;    /* copied while moving (EXDEV): unlink src at the end */
};

struct base_disk {
	char *path;              /* master descriptor (or monolithic file) */
	char *name;              /* its base name, also its name in the base */
	char *dir;               /* its folder */
	desc_descriptor *desc;   /* the master's descriptor */
	bool embedded;
	size_t file;             /* embedded: index of its file in files[] */
	/* embedded + moved: the original descriptor area, for rollback */
	uint64_t area_offset;
	size_t area_len;
	char *area_orig;
	char *area_new;          /* the edited area; NULL: nothing to edit */
	bool area_edited;
	bool desc_renamed;       /* master descriptor renamed to .vmdkit-moved */
	dev_t dev;               /* the descriptor's identity (undo record) */
	ino_t ino;
	char *moved_path;
};

struct base_job {
	const char *source;
	const vmdk_base_options *opt;
	desc_error *err;
	char *basedir;           /* absolute */
	char *parent;            /* its folder */
	bool basedir_empty;      /* exists as an empty folder */
	bool basedir_removed;    /* we removed that empty folder */
	struct base_disk *disks;
	size_t ndisks;
	struct base_file *files;
	size_t nfiles;
	char *staging;
	char *undo_final;        /* the undo record's path after the commit */
};

/* The caller's report callback, if any: one step on one path, or on a
 * pair ("move FROM -> TO").  Inline (like base_staged) so that
 * base_undo.c needs nothing from base.c. */
static inline void base_report(const struct base_job *job,
			       const char *action, const char *path)
{
	if (job->opt->report != NULL)
		job->opt->report(job->opt->report_ctx, action, path);
}

static inline void base_report2(const struct base_job *job,
				const char *action, const char *from,
				const char *to)
{
	char *s;

	if (job->opt->report == NULL)
		return;
	s = vk_asprintf("%s -> %s", from, to);
	base_report(job, action, s ? s : to);
	vk_free(s);
}

static inline char *base_staged(const struct base_job *job,
				 const char *name)
{
	return fs_join(job->staging, name);
}

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
