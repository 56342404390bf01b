/*
 * text_fixture.c - helpers the descriptor suites share (check_descriptor,
 * check_edit, check_validate): whole-file reads, parse and write that
 * assert, and one sample descriptor.
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/text_fixture.h"

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
	for (;;) {
		size_t got;

		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap + 1);
			ck_assert(buf != NULL);
		}
		got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Text part of a file: trailing NUL padding removed. */
size_t text_length(const char *buf, size_t len)
{
	while (len > 0 && buf[len - 1] == '\0')
		len--;
	return len;
}

desc_descriptor *parse_ok(const char *text, desc_findings *warnings)
{
	desc_descriptor *desc = NULL;
	desc_error err;
	desc_status st;

	desc_error_clear(&err);
	st = desc_parse(text, strlen(text), "t.vmdk", &desc, warnings, &err);
	ck_assert_msg(st == DESC_OK, "parse failed: line %u: %s", err.line,
		      err.message);
	ck_assert(desc != NULL);
	return desc;
}

char *write_ok(const desc_descriptor *desc)
{
	char *out = NULL;
	size_t len = 0;
	desc_error err;

	desc_error_clear(&err);
	ck_assert_int_eq(desc_write(desc, &out, &len, &err), DESC_OK);
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

void assert_text(const char *got, const char *want)
{
	ck_assert_msg(strcmp(got, want) == 0, "got:\n[%s]\nwant:\n[%s]", got,
		      want);
}

const char sample[] =
	"# Disk DescriptorFile\n"
	"version=1\n"
	"encoding=\"UTF-8\"\n"
	"CID=8c808111\n"
	"parentCID=ffffffff\n"
	"createType=\"twoGbMaxExtentSparse\"\n"
	"\n"
	"# Extent description\n"
	"RW 4192256 SPARSE \"8.10 Core-s001.vmdk\"\n"
	"RW 20480 ZERO\n"
	"\n"
	"# The Disk Data Base \n"
	"#DDB\n"
	"\n"
	"ddb.virtualHWVersion = \"7\"\n"
	"ddb.uuid = \"60 00 C2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd\"\n"
	"ddb.geometry.cylinders = \"261\"\n"
	"ddb.geometry.heads = \"255\"\n"
	"ddb.geometry.sectors = \"63\"\n"
	"ddb.adapterType = \"lsilogic\"\n";
