/*
 * fuzz_descriptor.c - libFuzzer harness for the VMDK text descriptor
 * parser: parse, validate, write, re-parse; the second parse must agree
 * with the first (same extents, header, DDB) and writing it again must
 * give the same bytes.  An edit (CID, parent hint, one extent path) must
 * also survive a write/parse round trip.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_extents(const desc_descriptor *a, const desc_descriptor *b)
{
	size_t i, n = desc_extent_count(a);

	if (n != desc_extent_count(b))
		abort();
	for (i = 0; i < n; i++) {
		const desc_extent *x = desc_extent_at(a, i);
		const desc_extent *y = desc_extent_at(b, i);

		if (x->access != y->access || x->sectors != y->sectors ||
		    x->type != y->type || x->has_offset != y->has_offset ||
		    (x->has_offset && x->offset != y->offset))
			abort();
		if ((x->path == NULL) != (y->path == NULL) ||
		    (x->path != NULL && strcmp(x->path, y->path) != 0))
			abort();
	}
}

static void same_strings(const char *x, const char *y)
{
	if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0))
		abort();
}

static void same_desc(const desc_descriptor *a, const desc_descriptor *b)
{
	size_t i, n = desc_ddb_count(a);
	static const char *const keys[] = { "version", "CID", "parentCID",
		"createType", "parentFileNameHint", "encoding" };

	same_extents(a, b);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		same_strings(desc_header_get(a, keys[i]),
			     desc_header_get(b, keys[i]));
	if (n != desc_ddb_count(b))
		abort();
	for (i = 0; i < n; i++) {
		same_strings(desc_ddb_key_at(a, i), desc_ddb_key_at(b, i));
		same_strings(desc_ddb_value_at(a, i), desc_ddb_value_at(b, i));
	}
}

/* Writes d, parses the output, checks it agrees with d and that writing
 * the re-parse gives the same bytes. */
static void round_trip(const desc_descriptor *d)
{
	desc_descriptor *again = NULL;
	desc_error err;
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;

	desc_error_clear(&err);
	if (desc_write(d, &out, &len, &err) != DESC_OK)
		abort(); /* a parsed or edited descriptor must always write */
	if (desc_parse(out, len, "rt", &again, NULL, &err) != DESC_OK)
		abort(); /* what we write we must read back */
	same_desc(d, again);
	if (desc_write(again, &out2, &len2, &err) != DESC_OK)
		abort();
	if (len != len2 || memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	desc_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	desc_descriptor *d = NULL, *c = NULL;
	desc_findings warnings, findings;
	desc_error err;
	uint32_t cid;

	desc_findings_init(&warnings);
	desc_findings_init(&findings);
	desc_error_clear(&err);
	if (desc_parse((const char *)data, size, "fuzz", &d, &warnings,
		       &err) != DESC_OK)
		goto out;
	(void)desc_validate(d, &findings);
	(void)desc_check_portability(d, &findings);
	(void)desc_cid(d, &cid);
	(void)desc_parent_cid(d, &cid);
	(void)desc_capacity(d, &(uint64_t){ 0 });
	round_trip(d);

	/* Edits must keep the descriptor writable and readable. */
	if (desc_clone(d, &c, &err) != DESC_OK)
		goto out;
	if (desc_set_cid(c, 0x1234abcdu, &err) != DESC_OK)
		goto out;
	if (desc_set_parent_hint(c, "../base/Base.vmdk", &err) != DESC_OK)
		goto out;
	if (desc_extent_count(c) > 0 &&
	    desc_extent_set_path(c, 0, "edited name.vmdk", &err) != DESC_OK)
		goto out;
	if (desc_ddb_set(c, "ddb.uuid", "60 00 C2 9a", &err) != DESC_OK)
		goto out;
	round_trip(c);
out:
	desc_free(c);
	desc_free(d);
	desc_findings_clear(&warnings);
	desc_findings_clear(&findings);
	return 0;
}
