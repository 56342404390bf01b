/*
 * text_fixture.h - helpers the descriptor suites share.  Every helper
 * asserts (ck_assert) on failure.
 */
#ifndef VMDKIT_TESTS_TEXT_FIXTURE_H
#define VMDKIT_TESTS_TEXT_FIXTURE_H

#include <stddef.h>

#include "descriptor/descriptor.h"

/* The whole file, NUL-terminated (free()); *len its size. */
char *read_file(const char *path, size_t *len);
/* Text part of a file: trailing NUL padding removed. */
size_t text_length(const char *buf, size_t len);
/* Parses text (named "t.vmdk") or fails the test; desc_free the result. */
desc_descriptor *parse_ok(const char *text, desc_findings *warnings);
/* Writes desc or fails the test; free() the result. */
char *write_ok(const desc_descriptor *desc);
/* got equals want, or the test fails showing both. */
void assert_text(const char *got, const char *want);
/* A twoGbMaxExtentSparse descriptor as VMware writes it. */
extern const char sample[];
/* The header of a monolithicSparse descriptor, up to the extent lines. */
#define HDR \
	"# Disk DescriptorFile\n" \
	"version=1\n" \
	"CID=12345678\n" \
	"parentCID=ffffffff\n" \
	"createType=\"monolithicSparse\"\n" \
	"\n" \
	"# Extent description\n"

#endif
