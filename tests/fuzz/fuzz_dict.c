/*
 * fuzz_dict.c - libFuzzer harness for the key = "value" grammar of .vmx
 * and .vmsd files: parse, write (must reproduce the input up to padding
 * and re-parse to the same entries), edit (set/unset), the .vmx disk
 * list, the .vmsd snapshot disks, and the leaf .vmx preparation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "vmdk/vm/vm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_strings(const char *x, const char *y)
{
	if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0))
		abort();
}

/* Writes d and parses the result: the same entries, the same bytes when
 * written again. */
static void round_trip(const desc_dict *d)
{
	desc_dict *again = NULL;
	desc_error err;
	char *out = NULL, *out2 = NULL;
	size_t i, len = 0, len2 = 0;

	desc_error_clear(&err);
	if (desc_dict_write(d, &out, &len, &err) != DESC_OK)
		abort();
	if (desc_dict_parse(out, len, "rt", &again, NULL, &err) != DESC_OK)
		abort();
	if (desc_dict_count(d) != desc_dict_count(again))
		abort();
	for (i = 0; i < desc_dict_count(d); i++) {
		same_strings(desc_dict_key_at(d, i), desc_dict_key_at(again, i));
		same_strings(desc_dict_value_at(d, i),
			     desc_dict_value_at(again, i));
	}
	if (desc_dict_write(again, &out2, &len2, &err) != DESC_OK)
		abort();
	if (len != len2 || memcmp(out, out2, len) != 0)
		abort();
	free(out);
	free(out2);
	desc_dict_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	desc_dict *d = NULL;
	desc_findings warnings;
	desc_error err;
	vmdk_vmx_disk *disks = NULL;
	vmsd_snapshot_disk *sdisks = NULL;
	size_t ndisks = 0, nsdisks = 0;
	char *enc = NULL;

	desc_findings_init(&warnings);
	desc_error_clear(&err);
	if (desc_dict_parse((const char *)data, size, "fuzz", &d, &warnings,
			    &err) != DESC_OK)
		goto out;
	round_trip(d);
	if (vmdk_vmx_disks(d, &disks, &ndisks, &err) == DESC_OK)
		vmdk_vmx_disks_free(disks, ndisks);
	if (vmsd_snapshot_disks(d, &sdisks, &nsdisks, &err) == DESC_OK)
		vmsd_snapshot_disks_free(sdisks, nsdisks);
	if (desc_dict_count(d) > 0) {
		/* Own copy: set() replaces the line the key points into. */
		char *k = desc_dict_key_at(d, 0) ? strdup(desc_dict_key_at(d, 0))
						: NULL;
		const char *v = desc_dict_value_at(d, 0);

		if (v != NULL && desc_dict_encode_value(v, &enc, &err) == DESC_OK)
			free(enc);
		if (k != NULL && desc_dict_set(d, k, "a \"quoted\" |value\n",
					       &err) == DESC_OK) {
			if (strcmp(desc_dict_get(d, k), "a \"quoted\" |value\n"))
				abort();
			round_trip(d);
		}
		free(k);
	}
	/* Turning the dictionary into a leaf .vmx edits it in place. */
	if (vmx_prepare_leaf(d, "leaf \"01\"", "scsi0:0", "leaf.vmdk",
			     &err) == DESC_OK)
		round_trip(d);
	(void)desc_dict_unset(d, "displayName");
	round_trip(d);
out:
	desc_dict_free(d);
	desc_findings_clear(&warnings);
	return 0;
}
