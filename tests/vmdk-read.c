/*
 * vmdk-read.c - writes the virtual bytes of a disk, read through its chain
 * with vmdk_disk_read, to a raw file, so that the shell tests can compare
 * them with what qemu-img convert reads, byte for byte:
 *
 *   vmdk-read DISK OUT.raw [OFFSET LENGTH]
 *
 * OFFSET and LENGTH (a window of the disk) take a K, M, G or T suffix and
 * must be multiples of 512.  Exit 0 done, 1 the disk cannot be opened or
 * read (the library's message on stderr), 2 usage.
 *
 * Why this is not the vmdkit CLI: vmdkit has no command that writes a
 * disk's content out.  `promote --type monolithicFlat` comes closest, but
 * it writes a new disk and skips zero grains (it would test the flatten,
 * not the read), and it cannot read a window of a 5 GiB disk at an offset.
 * Every other command the shell tests run is the real CLI.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk/vmdk.h"

static int usage(void)
{
	fprintf(stderr, "usage: vmdk-read DISK OUT.raw [OFFSET LENGTH]\n");
	return 2;
}

static bool parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return false;
	switch (*end) {
	case '\0': break;
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	default: return false;
	}
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

int main(int argc, char **argv)
{
	const uint64_t chunk = 2048; /* sectors */
	vmdk_disk *disk = NULL;
	uint64_t sector, end, first = 0, bytes = 0;
	desc_error err;
	char msg[2200];
	char *buf = NULL;
	FILE *out = NULL;
	int rc = 0;

	if (argc != 3 && argc != 5)
		return usage();
	if (argc == 5 && (!parse_size(argv[3], &first) ||
			  !parse_size(argv[4], &bytes) ||
			  first % VMDK_SECTOR_SIZE || bytes % VMDK_SECTOR_SIZE)) {
		fprintf(stderr, "vmdk-read: OFFSET and LENGTH must be multiples of 512\n");
		return 2;
	}
	if (vmdk_disk_open(argv[1], VMDK_OPEN_CHAIN, &disk, &err) != DESC_OK)
		goto library_error;
	end = vmdk_disk_capacity(disk);
	if (argc == 5) {
		if (first / VMDK_SECTOR_SIZE > end ||
		    bytes / VMDK_SECTOR_SIZE > end - first / VMDK_SECTOR_SIZE) {
			fprintf(stderr, "vmdk-read: range outside the disk\n");
			rc = 2;
			goto out;
		}
		end = (first + bytes) / VMDK_SECTOR_SIZE;
	}
	out = fopen(argv[2], "wb");
	buf = malloc(chunk * VMDK_SECTOR_SIZE);
	if (out == NULL || buf == NULL) {
		perror(argv[2]);
		rc = 1;
		goto out;
	}
	for (sector = first / VMDK_SECTOR_SIZE; sector < end; sector += chunk) {
		uint64_t n = end - sector < chunk ? end - sector : chunk;

		if (vmdk_disk_read(disk, sector, n, buf, &err) != DESC_OK)
			goto library_error;
		if (fwrite(buf, VMDK_SECTOR_SIZE, n, out) != n) {
			perror(argv[2]);
			rc = 1;
			goto out;
		}
	}
	goto out;

library_error:
	desc_error_format(&err, msg, sizeof(msg));
	fprintf(stderr, "vmdk-read: %s\n", msg);
	rc = 1;
out:
	if (out != NULL && fclose(out) != 0 && rc == 0) {
		perror(argv[2]);
		rc = 1;
	}
	free(buf);
	vmdk_disk_free(disk);
	return rc;
}
