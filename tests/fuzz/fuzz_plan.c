/*
 * fuzz_plan.c - libFuzzer harness for the YAML clone plan reader.  The
 * input is the plan file (put in a memfd, read through /proc/self/fd like
 * any path).  A loaded plan must be internally consistent: leaves with
 * names, no two leaves with the same name.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	vmdk_plan *plan = NULL;
	desc_error err;
	size_t done = 0, i, j;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-plan", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) != 0)
		abort();
	while (done < size) {
		ssize_t n = pwrite(memfd, data + done, size - done,
				   (off_t)done);

		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	desc_error_clear(&err);
	if (vmdk_plan_load(path, &plan, &err) != DESC_OK)
		return 0;
	for (i = 0; i < plan->count; i++) {
		if (plan->leaves[i].name == NULL)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(plan->leaves[i].name,
				   plan->leaves[j].name) == 0)
				abort();
	}
	vmdk_plan_free(plan);
	return 0;
}
