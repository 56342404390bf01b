/*
 * fixture.h - what the Check suites of the operations layer share: a
 * fresh temporary folder per test, small file helpers, and the two trees
 * the tests start from (a master; a base with two leaves).
 *
 * Every helper asserts on failure (ck_assert), so a test never checks
 * their result.  Paths are relative to the test's folder, which is the
 * current directory while a test runs.
 */
#ifndef VMDKIT_TESTS_FIXTURE_H
#define VMDKIT_TESTS_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "vmdk/vmdk.h"

/* The absolute path of the running test's folder. */
extern char fx_dir[4096];

/* A checked fixture (tcase_add_checked_fixture): fx_setup makes a new
 * folder under $TMPDIR and enters it; fx_teardown leaves it and removes
 * it, read-only files and folders included. */
void fx_setup(void);
void fx_teardown(void);

/* The whole file, NUL-terminated; the caller frees it with free(). */
char *fx_slurp(const char *path);
/* The first 64 KiB of the file, NUL-terminated, in a static buffer that
 * the next call overwrites (for a quick strstr). */
const char *fx_text(const char *path);
/* Creates or truncates the file and writes text. */
void fx_write(const char *path, const char *text);
void fx_append(const char *path, const char *text);
/* Replaces the whole line that starts with prefix by line. */
void fx_replace_line(const char *path, const char *prefix, const char *line);

bool fx_exists(const char *path); /* lstat: a dangling symlink exists */
unsigned fx_mode(const char *path); /* st_mode & 07777 */
/* No VMDK_STAGING_PREFIX entry in dir. */
bool fx_no_staging(const char *dir);

/* A master m/Core.vmdk (twoGbMaxExtentSparse, 3 MiB) with a ddb.uuid and
 * a ddb.longContentID, and m/Core.vmx naming it. */
void fx_make_master(void);
/* A base vms/B (from m/Core.vmdk, twoGbMaxExtentSparse, 4 MiB) and two
 * leaves of it, vms/L1 and vms/L2. */
void fx_make_tree(void);
/* On the tree: a stale lock and a CID mismatch in L1, and L1 and L2
 * sharing uuid.bios, so that allocation-failure loops walk error paths
 * too. */
void fx_plant_defects(void);
/* Changes one byte of a base extent and makes it read-only again. */
void fx_modify_base(const char *extent);

/* The findings of vmdk_check_paths on path (opt NULL: recursive);
 * clear them with desc_findings_clear. */
void fx_check_tree(const char *path, const vmdk_check_options *opt,
		   desc_findings *out);
bool fx_has_code(const desc_findings *l, const char *code);
/* The findings one per line, for a failure message (static buffer). */
const char *fx_dump(const desc_findings *l);

/* A report callback (vmdk_report_fn) that keeps the actions of the first
 * 64 steps in fx_steps; reset fx_nsteps before the call. */
extern const char *fx_steps[64];
extern size_t fx_nsteps;
void fx_collect(void *ctx, const char *action, const char *path);

#endif
