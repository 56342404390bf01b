/*
 * txn_private.h - what the parts of the transaction module share
 * (txn.c, txn_journal.c, txn_recover.c): the journal in memory, the
 * transaction itself, and the helpers more than one part calls.  Private
 * to vmdk/fs/; the contract is in txn.h.
 */
#ifndef VMDKIT_FS_TXN_PRIVATE_H
#define VMDKIT_FS_TXN_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "vmdk/fs/txn.h"
#include "descriptor/descriptor.h"

/* A journal larger than this is not one of ours. */
#define JOURNAL_CAP (64u * 1024u * 1024u)
#define HOST_MAX 64

enum step_kind {
	K_MKDIR, K_CREATE, K_COPY, K_REPLACE, K_RENAME, K_WRITE, K_CHMOD,
	K_REMOVE, K_KINDS
};

/* Identity of a file: what recovery compares before touching it. */
struct txn_id {
	bool set;
	uint64_t dev, ino, size;
	unsigned mode;
};

struct step {
	enum step_kind kind;
	char *path;    /* relative to the root */
	char *to;      /* rename, copy */
	char *staged;  /* the new entry, relative to the staging folder */
	char *old;     /* replace: kept old file; write: old bytes */
	struct txn_id id, new_id;
	unsigned mode;
	uint64_t offset, length;
	long parent;   /* mkdir step whose folder holds the result, or -1 */
	char *shown, *shown_to; /* as the caller named them (reports) */
};

struct journal {
	char *root;    /* absolute */
	char *staging; /* absolute; NULL in a dry run */
	char *shown_staging; /* as found (reports); NULL: staging */
	char *host, *start, *command;
	unsigned long long pid;
	struct step *steps;
	size_t count;
	bool committed;
	bool finished; /* the journal is FS_TXN_DONE: only clean-up is left */
};

struct blocked {
	char *path; /* absolute */
	char *why;
};

struct fs_txn {
	struct journal j;
	unsigned flags;
	fs_txn_report_fn report;
	void *report_ctx;
	desc_findings *notes;
	struct blocked *blocked;
	size_t nblocked;
	int jfd;
	unsigned long seq;
	bool finished; /* committed or aborted */
};

/* A growing text buffer; `oom` sticks. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

enum pb_mode {
	PB_CHECK,  /* find what would be refused; silent */
	PB_REPORT, /* report what would be done */
	PB_DO,     /* report and do */
};

/* txn_journal.c: the action words, by step kind. */
extern const char *const txn_kind_word[K_KINDS];

/* File identities (txn_journal.c). */
void txn_id_from_stat(struct txn_id *id, const struct stat *st);
bool txn_id_match(const struct txn_id *id, const struct stat *st, bool size);
bool txn_is_recorded(const char *path, const struct txn_id *id, bool size);
bool txn_absent(const char *path);
char *txn_abs_in(const char *root, const char *rel);

/* The text buffer journal records are built in (txn_journal.c). */
void txn_sb_add(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void txn_sb_kv(struct sbuf *b, const char *key, const char *value);

/* The owner of a journal (txn_journal.c). */
char *txn_host_name(void);
void txn_host_label(const char *host, char *out, size_t size);
char *txn_process_start(unsigned long long pid);
bool txn_owner_alive(unsigned long long pid, const char *start);

/* Journals in memory, read and written (txn_journal.c). */
void txn_step_clear(struct step *s);
void txn_journal_clear(struct journal *j);
const char *txn_shown(const struct step *s);
const char *txn_shown_to(const struct step *s);
desc_status txn_journal_load(const char *staging, struct journal *j,
			     desc_error *err);
bool txn_sync_each(const fs_txn *t);
desc_status txn_journal_append(fs_txn *t, struct sbuf *b, desc_error *err);
desc_status txn_record_step(fs_txn *t, size_t i, desc_error *err);

/* Playback and recovery (txn_recover.c). */
desc_status txn_playback(const struct journal *j, enum pb_mode mode,
			 bool with_staging, fs_txn_report_fn report,
			 void *ctx, char **why, desc_error *err);
desc_status txn_recover_into(fs_txn *t, const char *dir, unsigned flags,
			     fs_txn_report_fn report, void *ctx,
			     desc_findings *notes, desc_error *err);
desc_status txn_note(desc_findings *notes, desc_severity sev,
		     const char *code, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif
