/*
 * fuzz_sparse.c - libFuzzer harness for the hosted sparse extent reader:
 * header (and streamOptimized footer) decoding, the grain directory, the
 * grain table cache, and compressed grains.  The input is the extent file
 * itself, put in a memfd so the reader uses its real pread path.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "vmdk/disk/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

static int load(const uint8_t *data, size_t size)
{
	size_t done = 0;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-sparse", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
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
	return memfd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sparse_extent sp;
	vmdk_sparse_header h;
	enum sparse_grain_state state;
	uint64_t i, step, fsec = 0, count = 0;
	uint8_t raw[512], back[512], *grain = NULL;
	desc_error err;
	int fd;

	desc_error_clear(&err);
	/* The decoder alone, with the size the file claims to have: a
	 * decoded header must encode back to something that decodes to the
	 * same values. */
	if (size >= 512) {
		memcpy(raw, data, sizeof(raw));
		if (vmdk_sparse_header_decode(raw, size, "fuzz", &h, &err) ==
		    DESC_OK) {
			vmdk_sparse_header h2;

			vmdk_sparse_header_encode(&h, back);
			if (vmdk_sparse_header_decode(back, size, "fuzz", &h2,
						      &err) != DESC_OK)
				abort();
			if (memcmp(&h, &h2, sizeof(h)) != 0 &&
			    (h.version != h2.version || h.flags != h2.flags ||
			     h.capacity != h2.capacity ||
			     h.grain_size != h2.grain_size ||
			     h.gd_offset != h2.gd_offset ||
			     h.rgd_offset != h2.rgd_offset ||
			     h.overhead != h2.overhead))
				abort();
		}
	}

	fd = load(data, size);
	if (sparse_open(&sp, fd, "fuzz", &err) != DESC_OK)
		return 0;
	(void)sparse_count_allocated(&sp, &count, &err);
	/* Look up at most 64 grains spread over the capacity, and read the
	 * compressed ones. */
	step = sp.header.capacity / 64;
	if (step < sp.header.grain_size)
		step = sp.header.grain_size;
	for (i = 0; i < sp.header.capacity && i / step < 64; i += step) {
		if (sparse_lookup(&sp, i, &state, &fsec, &err) != DESC_OK)
			continue;
		if (state == SPARSE_GRAIN_COMPRESSED) {
			if (grain == NULL)
				grain = malloc(VMDK_SECTOR_SIZE);
			if (grain != NULL)
				(void)stream_read(&sp, fsec, i, 1, grain, &err);
		}
	}
	free(grain);
	sparse_close(&sp);
	return 0;
}
