/*
 * vmdk-tool.c - a small driver over the disk layer for the shell tests,
 * so they do not depend on the vmdkit CLI:
 *
 *   vmdk-tool create-disk PATH TYPE SIZE [ADAPTER [HWVERSION]]
 *   vmdk-tool create-delta DELTA PARENT [HINT]
 *   vmdk-tool read PATH OUT.raw [OFFSET LENGTH]   (through the chain)
 *   vmdk-tool chain PATH               (exit 1 when broken)
 *   vmdk-tool extents PATH             (one line per extent)
 *
 * SIZE takes a K, M, G or T suffix (powers of 1024).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk/vmdk.h"

static int fail(const desc_error *err)
{
	char buf[2200];

	desc_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "vmdk-tool: %s\n", buf);
	return 1;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: vmdk-tool create-disk PATH TYPE SIZE [ADAPTER [HW]]\n"
		"       vmdk-tool create-delta DELTA PARENT [HINT]\n"
		"       vmdk-tool read PATH OUT.raw [OFFSET LENGTH]\n"
		"       vmdk-tool chain PATH\n"
		"       vmdk-tool extents PATH\n");
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

static int cmd_create_disk(int argc, char **argv)
{
	vmdk_create_options opt;
	desc_error err;

	if (argc < 5 || argc > 7)
		return usage();
	memset(&opt, 0, sizeof(opt));
	if (!vmdk_create_type_from_name(argv[3], &opt.type)) {
		fprintf(stderr, "vmdk-tool: unknown type '%s'\n", argv[3]);
		return 2;
	}
	if (!parse_size(argv[4], &opt.size_bytes)) {
		fprintf(stderr, "vmdk-tool: bad size '%s'\n", argv[4]);
		return 2;
	}
	opt.adapter_type = argc > 5 ? argv[5] : NULL;
	opt.hw_version = argc > 6 ? argv[6] : NULL;
	if (vmdk_disk_create(argv[2], &opt, &err) != DESC_OK)
		return fail(&err);
	return 0;
}

static int cmd_create_delta(int argc, char **argv)
{
	desc_error err;

	if (argc < 4 || argc > 5)
		return usage();
	if (vmdk_delta_create(argv[2], argv[3], argc > 4 ? argv[4] : NULL,
			      &err) != DESC_OK)
		return fail(&err);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	const uint64_t chunk = 2048; /* sectors */
	vmdk_disk *disk = NULL;
	uint64_t sector, cap, first = 0, bytes = 0;
	desc_error err;
	char *buf;
	FILE *out;
	int rc = 0;

	if (argc != 4 && argc != 6)
		return usage();
	if (argc == 6 && (!parse_size(argv[4], &first) ||
			  !parse_size(argv[5], &bytes) ||
			  first % VMDK_SECTOR_SIZE || bytes % VMDK_SECTOR_SIZE)) {
		fprintf(stderr, "vmdk-tool: OFFSET and LENGTH must be multiples of 512\n");
		return 2;
	}
	if (vmdk_disk_open(argv[2], VMDK_OPEN_CHAIN, &disk, &err) != DESC_OK)
		return fail(&err);
	out = fopen(argv[3], "wb");
	buf = malloc(chunk * VMDK_SECTOR_SIZE);
	if (out == NULL || buf == NULL) {
		perror(argv[3]);
		rc = 1;
		goto done;
	}
	cap = vmdk_disk_capacity(disk);
	if (argc == 6) {
		if (first / VMDK_SECTOR_SIZE > cap ||
		    bytes / VMDK_SECTOR_SIZE > cap - first / VMDK_SECTOR_SIZE) {
			fprintf(stderr, "vmdk-tool: range outside the disk\n");
			rc = 2;
			goto done;
		}
		cap = (first + bytes) / VMDK_SECTOR_SIZE;
	}
	for (sector = first / VMDK_SECTOR_SIZE; sector < cap; sector += chunk) {
		uint64_t n = cap - sector < chunk ? cap - sector : chunk;

		if (vmdk_disk_read(disk, sector, n, buf, &err) != DESC_OK) {
			rc = fail(&err);
			goto done;
		}
		if (fwrite(buf, VMDK_SECTOR_SIZE, n, out) != n) {
			perror(argv[3]);
			rc = 1;
			goto done;
		}
	}
done:
	if (out != NULL && fclose(out) != 0 && rc == 0) {
		perror(argv[3]);
		rc = 1;
	}
	free(buf);
	vmdk_disk_free(disk);
	return rc;
}

static int cmd_chain(int argc, char **argv)
{
	vmdk_chain chain;
	desc_error err;
	size_t i;
	int rc;

	if (argc != 3)
		return usage();
	if (vmdk_chain_walk(argv[2], &chain, &err) != DESC_OK)
		return fail(&err);
	for (i = 0; i < chain.count; i++) {
		const vmdk_chain_link *l = &chain.links[i];

		printf("%zu\t%s\t%s\tCID=%08" PRIx32 "\tparentCID=%s%08" PRIx32 "\t%" PRIu64 "\t%s\n",
		       i, l->path, l->create_type, l->cid,
		       l->has_parent ? "" : "none:", l->parent_cid,
		       l->capacity, l->parent_hint ? l->parent_hint : "-");
	}
	rc = chain.status == DESC_OK ? 0 : 1;
	if (rc != 0) {
		char buf[2200];

		desc_error_format(&chain.error, buf, sizeof(buf));
		printf("broken (%s): %s\n", desc_status_name(chain.status), buf);
	} else {
		printf("ok\n");
	}
	vmdk_chain_clear(&chain);
	return rc;
}

static int cmd_extents(int argc, char **argv)
{
	vmdk_disk *disk = NULL;
	desc_error err;
	size_t i, n;

	if (argc != 3)
		return usage();
	if (vmdk_disk_open(argv[2], 0, &disk, &err) != DESC_OK)
		return fail(&err);
	n = desc_extent_count(vmdk_disk_descriptor(disk));
	for (i = 0; i < n; i++) {
		vmdk_extent_info info;

		if (vmdk_disk_extent_info(disk, i, &info, &err) != DESC_OK) {
			vmdk_disk_free(disk);
			return fail(&err);
		}
		printf("%s\tsize=%" PRIu64 "\tallocated=%" PRIu64 "\tsparse=%d\tgrains=%" PRIu64,
		       info.path ? info.path : "-", info.file_size,
		       info.allocated_bytes, info.sparse, info.allocated_grains);
		if (info.sparse)
			printf("\tversion=%" PRIu32 "\tflags=0x%" PRIx32 "\tcapacity=%" PRIu64 "\tdesc=%" PRIu64 "+%" PRIu64 "\trgd=%" PRIu64 "\tgd=%" PRIu64 "\toverhead=%" PRIu64,
			       info.header.version, info.header.flags,
			       info.header.capacity,
			       info.header.descriptor_offset,
			       info.header.descriptor_size,
			       info.header.rgd_offset, info.header.gd_offset,
			       info.header.overhead);
		printf("\n");
	}
	vmdk_disk_free(disk);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "create-disk") == 0)
		return cmd_create_disk(argc, argv);
	if (strcmp(argv[1], "create-delta") == 0)
		return cmd_create_delta(argc, argv);
	if (strcmp(argv[1], "read") == 0)
		return cmd_read(argc, argv);
	if (strcmp(argv[1], "chain") == 0)
		return cmd_chain(argc, argv);
	if (strcmp(argv[1], "extents") == 0)
		return cmd_extents(argc, argv);
	return usage();
}
