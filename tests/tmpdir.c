/* tmpdir.c - the temporary folder of the fs and disk suites (tmpdir.h). */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/tmpdir.h"
#include "vmdk/fs/fs.h"

char tmpdir[256];

void make_tmpdir(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/check.XXXXXX",
		 base ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

void remove_tmpdir(void)
{
	desc_error err;

	ck_assert_int_eq(fs_remove_tree(tmpdir, &err), DESC_OK);
}

char *tmp_path(const char *name)
{
	char *p = fs_join(tmpdir, name);

	ck_assert_ptr_nonnull(p);
	return p;
}

const char *T(const char *name)
{
	static char pool[4][512];
	static unsigned next;
	char *p = pool[next++ % 4];

	snprintf(p, sizeof(pool[0]), "%s/%s", tmpdir, name);
	return p;
}
