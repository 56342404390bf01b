/*
 * txn.h - the transaction module: every change a vmdkit command makes to
 * the tree goes through one of these (private to libvmdkit, never
 * installed).  Models: git's lockfile/tempfile and its ref_transaction
 * (begin, steps, commit, abort); SQLite's journal written before each
 * change and its single pager_playback that serves both a live rollback
 * and the recovery of a crashed run; libarchive's deferred fix-ups.
 *
 * Sequence (git's ref_transaction):
 *
 *     fs_txn *t;
 *     fs_txn_begin("leaves", "clone", 0, report, ctx, notes, &t, err);
 *     fs_txn_mkdir(t, "leaves/web-01", 0755, err);
 *     fs_txn_create(t, "leaves/web-01/web-01.vmx", text, len, 0644, err);
 *     ...
 *     fs_txn_commit(t, err);     // or a failing step: fs_txn_free(t)
 *     fs_txn_free(t);            // uncommitted: rolls back
 *
 * ## Contract
 *
 * - A transaction owns one staging folder inside ROOT (the folder it
 *   changes, given to fs_txn_begin), made by mkdtemp (mode 0700):
 *       ROOT/.vmdkit-tmp-<LABEL>-<HOST>-<PID>-XXXXXX
 *   LABEL is the command ("create", "desc"), HOST the host name
 *   (characters other than [A-Za-z0-9._] as '_', at most 64), PID the
 *   process id, XXXXXX random.  The journal, FS_TXN_JOURNAL, is its first
 *   entry.  Everything inside a staging folder that holds a journal of
 *   ours was made by that transaction; everything outside it is touched
 *   only when it is still the file (device, inode, size, mode) the
 *   journal recorded.
 * - Each step is recorded in the journal, with the identity of every file
 *   it touches, and the journal is fsynced, before the step changes
 *   anything outside the staging folder (FS_TXN_BATCH: one sync point at
 *   commit instead, see below).
 * - Step paths are given as the caller knows them (relative to the
 *   working folder or absolute); the journal stores them relative to
 *   ROOT, so a tree that was moved is still recovered.  A path whose last
 *   component starts with FS_STAGING_PREFIX is refused (DESC_E_REFUSED):
 *   such names are reserved for staging folders.  A step may not name a
 *   path an earlier step of the same transaction creates, except as the
 *   folder it goes into (fs_txn_mkdir), so that every step can be undone
 *   on its own.
 * - One recovery routine (playback) undoes an uncommitted journal, newest
 *   step first, or finishes a committed one.  It runs on a live failure
 *   (fs_txn_abort, fs_txn_free), when a later fs_txn_begin or
 *   fs_txn_recover finds the journal of a dead run in ROOT, and, as a
 *   plan that is only reported, for fs_txn_describe and dry runs.
 * - Dry run (FS_TXN_DRY_RUN): the same calls check the same things
 *   (existence, file types, reserved names, blocked paths) and report the
 *   same steps, in the same order, and write nothing: no staging folder,
 *   no journal, no fill callback.  Dry run == run by construction.
 * - Reports name the paths as the caller gave them: a file made in the
 *   staging folder is reported as the path it becomes.
 *
 * ## Steps (the report's action words are in quotes)
 *
 * Made in the staging folder, put in place by fs_txn_commit in step
 * order, before the commit record (undone: moved back into staging):
 *   fs_txn_mkdir       "mkdir" PATH   a new folder; the steps naming paths
 *                      inside it build it in staging, and it appears
 *                      whole, with one rename (a leaf bundle)
 *   fs_txn_create      "create" PATH  a new file (O_EXCL) from a buffer
 *   fs_txn_create_with "create" PATH  a new file a callback writes
 *   fs_txn_link_or_copy "copy" FROM TO  a hard link of FROM, or a copy
 *                      keeping holes when FROM is on another filesystem
 *   fs_txn_replace     "replace" PATH  new content for an existing regular
 *                      file (its mode and owner kept); at commit the old
 *                      file is kept in staging (hard link, else rename)
 *                      before the new one is renamed over it
 * Done at once, after their record (undone from the record):
 *   fs_txn_rename      "rename" FROM TO  an existing entry moved to a
 *                      path that must not exist (RENAME_NOREPLACE)
 *   fs_txn_pwrite      "write" PATH   bytes written in place; the old
 *                      bytes (and the old size) are saved in staging first
 * Deferred fix-ups, done after the commit record (finished, never undone):
 *   fs_txn_chmod       "chmod" PATH   (a folder made read-only last, so
 *                      that nothing has to be written into it afterwards)
 *   fs_txn_unlink      "remove" PATH  (what a change makes obsolete)
 *
 * ## Journal format
 *
 * FS_TXN_JOURNAL is text in the `key = "value"` dictionary grammar of
 * descriptor.h, read back with desc_dict_parse; values encoded with
 * desc_dict_encode_value.  It is appended to, one record per write, and
 * each record ends with an `end` line; a reader ignores what follows the
 * last complete `end` line (a record torn by a power loss was never acted
 * upon).
 *
 *     # vmdkit transaction journal: see `vmdkit check`; do not edit
 *     version = "1"
 *     host = "build-07"
 *     pid = "4242"
 *     start = "5d1c...:893412"       boot id and start time, or ""
 *     command = "desc"
 *     end = "0"
 *     step1.action = "replace"        one of the words above
 *     step1.path = "Master.vmdk"      relative to ROOT
 *     step1.to = "..."                rename, copy: the destination
 *     step1.staged = "1"              the new entry, inside the staging folder
 *     step1.old = "old1"              replace: the kept old file; write: old bytes
 *     step1.id = "2049:131:1480:100644"  DEV:INO:SIZE:MODE (mode octal) of
 *                                     the file before the step (rename: FROM)
 *     step1.new = "2049:140:1502:100644" the entry the step puts in place
 *     step1.mode = "444"              chmod: the new permissions; mkdir,
 *                                     create: the mode asked for
 *     step1.offset = "0"  step1.length = "512"  write
 *     end = "1"
 *     commit = "1"                    the number of steps; after this
 *     end = "2"                       line the transaction goes forward
 *
 * ## Ownership and what recovery refuses
 *
 * Playback acts only on a journal that parses with version 1, whose host
 * is this host, and whose process is gone: kill(pid, 0) fails with ESRCH,
 * or (Linux) the process with that pid started at another time or before
 * another boot than the one recorded.  Within it, it touches only entries
 * that are still the recorded identities (device, inode and file type
 * always; size where the step did not change it).  Everything else is
 * reported as a note (desc_findings, codes below) and left as it is:
 *   txn-foreign      a journal of another host (NFS): only a run there
 *                    may recover it
 *   txn-in-progress  its process runs
 *   txn-refused      a file is no longer what the journal recorded (the
 *                    message names it and the manual fix); nothing of that
 *                    journal is done
 *   txn-unreadable   FS_TXN_JOURNAL does not parse or has another version
 *   txn-lookalike    a FS_STAGING_PREFIX name without a journal: never
 *                    removed by name alone
 *   legacy-temp      a temporary file of vmdkit 0.1.0 (desc's
 *                    ".vmdkit-tmp-NAME-PID-N", fs_replace's
 *                    ".NAME.vmdkit-new-PID-XXXXXX"), which has no journal
 *   txn-unfinished   a committed transaction whose fix-ups or clean-up
 *                    failed; the next run finishes it
 * Paths named by a foreign, running or refused journal, and the target of
 * a legacy temporary file, are blocked: a step of the new transaction on
 * one of them is refused (DESC_E_REFUSED), with the note's message.
 *
 * ## Batches
 *
 * FS_TXN_BATCH (stamping many leaves): no fsync per journal record or per
 * file; fs_txn_commit makes everything durable with one syncfs() of
 * ROOT's filesystem before the first entry leaves staging.  Until then
 * nothing outside staging has changed, which is why a batch may only use
 * the staged steps, chmod and unlink (rename and pwrite are refused).
 *
 * Threads: one fs_txn is used by one thread.  Strings returned are
 * vk_malloc'ed (vk_free); fs_txn_free(NULL) is a no-op.
 */
#ifndef VMDKIT_FS_TXN_H
#define VMDKIT_FS_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "descriptor/descriptor.h"

/* The journal's name inside a staging folder. */
#define FS_TXN_JOURNAL "vmdkit-journal"
/* The journal once its transaction is over: only the removal of its
 * staging folder is left (a run killed while removing it). */
#define FS_TXN_DONE "vmdkit-journal.done"
#define FS_TXN_VERSION "1"

enum {
	FS_TXN_DRY_RUN = 1u << 0, /* check and report, write nothing */
	FS_TXN_BATCH = 1u << 1,   /* one sync point at commit (see above) */
};

/* A step, as it is (or would be) taken: `to` is NULL except for the
 * two-path actions (rename, copy). */
typedef void (*fs_txn_report_fn)(void *ctx, const char *action,
				 const char *path, const char *to);

/* Writes a new file at `staged_path` (must create it, O_EXCL); it becomes
 * the step's PATH at commit.  Not called in a dry run. */
typedef desc_status (*fs_txn_fill_fn)(void *ctx, const char *staged_path,
				      desc_error *err);

typedef struct fs_txn fs_txn;

/* Starts a transaction changing folder `root` for `command` (a word:
 * "create", "desc"; it labels the staging folder).  First recovers
 * what dead runs on this host left in `root` (fs_txn_recover, with the
 * same flags, report and notes: in a dry run the recovery is reported,
 * not done).  notes (may be NULL) receives what was found and left
 * alone.  *out is freed with fs_txn_free. */
desc_status fs_txn_begin(const char *root, const char *command, unsigned flags,
			 fs_txn_report_fn report, void *report_ctx,
			 desc_findings *notes, fs_txn **out, desc_error *err);

/* The steps.  Each checks its paths now (a create's PATH must not exist,
 * a replace's must be a regular file...), reports itself, and on failure
 * leaves the transaction as it was before the call (abort it, or go on
 * without that step). */
desc_status fs_txn_mkdir(fs_txn *t, const char *path, mode_t mode,
			 desc_error *err);
desc_status fs_txn_create(fs_txn *t, const char *path, const void *buf,
			  size_t len, mode_t mode, desc_error *err);
desc_status fs_txn_create_with(fs_txn *t, const char *path,
			       fs_txn_fill_fn fill, void *fill_ctx,
			       desc_error *err);
desc_status fs_txn_link_or_copy(fs_txn *t, const char *from, const char *to,
				desc_error *err);
desc_status fs_txn_replace(fs_txn *t, const char *path, const void *buf,
			   size_t len, desc_error *err);
desc_status fs_txn_rename(fs_txn *t, const char *from, const char *to,
			  desc_error *err);
desc_status fs_txn_pwrite(fs_txn *t, const char *path, const void *buf,
			  size_t len, uint64_t offset, desc_error *err);
desc_status fs_txn_chmod(fs_txn *t, const char *path, mode_t mode,
			 desc_error *err);
desc_status fs_txn_unlink(fs_txn *t, const char *path, desc_error *err);

/* Puts the staged entries in place (in step order), syncs the folders
 * they went into, writes the commit record, then does the fix-ups and
 * removes the staging folder.  Fails (and rolls everything back) only
 * before the commit record; a failing fix-up or clean-up after it is a
 * txn-unfinished note and DESC_OK (the change is made; the next run
 * finishes it).  A dry run: DESC_OK, nothing done. */
desc_status fs_txn_commit(fs_txn *t, desc_error *err);

/* Rolls an uncommitted transaction back (playback) and removes its
 * staging folder.  When playback cannot prove a step (a file changed
 * under it) nothing is undone, the journal stays for the user, and err
 * says what to fix.  No-op once committed or aborted. */
desc_status fs_txn_abort(fs_txn *t, desc_error *err);

/* Aborts when needed (errors dropped: the journal stays for the next
 * run), frees.  NULL is a no-op. */
void fs_txn_free(fs_txn *t);

/* Recovers the journals of dead runs of this host in folder `dir`:
 * rolls back or forward each (FS_TXN_DRY_RUN: reports what it would do),
 * reporting "rollback"/"rollforward" STAGING then each action; notes as
 * in fs_txn_begin.  Fails only on allocation failure or when `dir`
 * cannot be read; a journal it cannot recover is a note. */
desc_status fs_txn_recover(const char *dir, unsigned flags,
			   fs_txn_report_fn report, void *report_ctx,
			   desc_findings *notes, desc_error *err);

/* What a staging folder's journal says, for `vmdkit check`. */
typedef struct fs_txn_info {
	char *host;              /* owner host */
	unsigned long long pid;  /* owner pid */
	bool this_host;          /* host is this host */
	bool alive;              /* this host, and the process runs */
	char *command;           /* "create", "desc" */
	bool committed;          /* after the commit record: goes forward */
	size_t steps;
	char *first_path;        /* the first step's path, relative to ROOT */
	char *plan;              /* what recovery would do, or why it refuses */
	bool refused;            /* recovery would refuse (plan says why) */
} fs_txn_info;

/* Reads the journal of staging folder `staging` (no change anywhere).
 * DESC_E_NOT_FOUND: no journal; DESC_E_FORMAT: one that does not parse
 * (err says why).  Free with fs_txn_info_clear. */
desc_status fs_txn_describe(const char *staging, fs_txn_info *out,
			    desc_error *err);
void fs_txn_info_clear(fs_txn_info *info);

/* vmdkit 0.1.0's temporary file names, which have no journal:
 * ".vmdkit-tmp-NAME-PID-N" (desc, N of 1 or 2 digits) and
 * ".NAME.vmdkit-new-PID-XXXXXX" (fs_replace).  true with *target (the
 * NAME, vk_malloc'ed), *pid and *alive; false for any other name. */
bool fs_txn_legacy_temp(const char *name, char **target,
			unsigned long long *pid, bool *alive);

#endif
