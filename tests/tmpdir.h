/*
 * tmpdir.h - a fresh temporary folder per test for the suites of the fs
 * and disk layers (check_fs, check_disk), and paths inside it.  Every
 * helper asserts (ck_assert) on failure.
 */
#ifndef VMDKIT_TESTS_TMPDIR_H
#define VMDKIT_TESTS_TMPDIR_H

/* The running test's folder, made by make_tmpdir under $TMPDIR (/tmp). */
extern char tmpdir[256];

void make_tmpdir(void);
/* Removes tmpdir and everything in it (fs_remove_tree). */
void remove_tmpdir(void);
/* tmpdir/name, vk_malloc'ed (vk_free). */
char *tmp_path(const char *name);
/* tmpdir/name from a small rotating pool of 4 buffers (no free needed). */
const char *T(const char *name);

#endif
