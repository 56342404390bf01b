/*
 * check_sparse.c - the KDMV header decoder rejects every inconsistency
 * with its own message, never crashes, round-trips through the encoder,
 * and grains of a file made by qemu-img/qemu-io read back right.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/disk/disk.h"
#include "vmdk/fs/fs.h"
#include "vmdk/vmdk.h"
#include "descriptor/private.h"

/* The header qemu-img writes for an empty 64 MiB monolithicSparse disk
 * (FORMAT-NOTES.md §2.7); its file is 65536 bytes long. */
static const vmdk_sparse_header good = {
	.version = 1,
	.flags = 0x3,
	.capacity = 131072,
	.grain_size = 128,
	.descriptor_offset = 1,
	.descriptor_size = 20,
	.num_gtes_per_gt = 512,
	.rgd_offset = 21,
	.gd_offset = 30,
	.overhead = 128,
};
#define GOOD_SIZE 65536u

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

enum field { F_NONE, F_U32, F_U64, F_U16, F_BYTES };

static const struct bad_case {
	const char *what;
	uint64_t file_size;
	enum field kind;
	unsigned offset;
	uint64_t value;
	const char *bytes; /* F_BYTES: 4 bytes at offset */
	const char *want;
} bad_cases[] = {
	{ "bad magic", GOOD_SIZE, F_BYTES, 0, 0, "KDMW",
	  "bad magic 4b 44 4d 57 in sparse header (expected 4b 44 4d 56 'KDMV')" },
	{ "text file", GOOD_SIZE, F_BYTES, 0, 0, "# Di",
	  "bad magic 23 20 44 69 in sparse header" },
	{ "version 4", GOOD_SIZE, F_U32, 4, 4, NULL,
	  "unsupported version 4 in sparse header (expected 1, 2 or 3)" },
	{ "version 0", GOOD_SIZE, F_U32, 4, 0, NULL,
	  "unsupported version 0 in sparse header" },
	{ "grainSize 0", GOOD_SIZE, F_U64, 20, 0, NULL,
	  "grainSize 0 in sparse header (expected a power of two, at least 8 sectors)" },
	{ "grainSize 3", GOOD_SIZE, F_U64, 20, 3, NULL,
	  "grainSize 3 in sparse header is not a power of two" },
	{ "grainSize 4", GOOD_SIZE, F_U64, 20, 4, NULL,
	  "grainSize 4 in sparse header is too small (expected at least 8 sectors)" },
	{ "grainSize huge", GOOD_SIZE, F_U64, 20, UINT64_C(1) << 40, NULL,
	  "grainSize 1099511627776 in sparse header is too large" },
	{ "numGTEsPerGT 511", GOOD_SIZE, F_U32, 44, 511, NULL,
	  "numGTEsPerGT 511 in sparse header (expected 512)" },
	{ "numGTEsPerGT 0", GOOD_SIZE, F_U32, 44, 0, NULL,
	  "numGTEsPerGT 0 in sparse header (expected 512)" },
	{ "gdOffset past EOF", GOOD_SIZE, F_U64, 56, 200, NULL,
	  "gdOffset 200 in sparse header: grain directory (1 sectors) lies outside the file (65536 bytes)" },
	{ "gdOffset 0", GOOD_SIZE, F_U64, 56, 0, NULL,
	  "gdOffset 0 in sparse header (expected the sector of the grain directory)" },
	{ "gdOffset overflow", GOOD_SIZE, F_U64, 56, UINT64_MAX - 1, NULL,
	  "gdOffset 18446744073709551614 in sparse header: grain directory (1 sectors) lies outside the file" },
	{ "gdOffset at end without markers", GOOD_SIZE, F_U64, 56, UINT64_MAX, NULL,
	  "gdOffset 0xffffffffffffffff (at end, see footer) in sparse header without the markers flag 0x20000" },
	{ "rgdOffset past EOF", GOOD_SIZE, F_U64, 48, 1000, NULL,
	  "rgdOffset 1000 in sparse header: redundant grain directory (1 sectors) lies outside the file (65536 bytes)" },
	{ "rgdOffset 0", GOOD_SIZE, F_U64, 48, 0, NULL,
	  "rgdOffset 0 in sparse header with the redundant grain table flag 0x2 set" },
	{ "capacity overflow", GOOD_SIZE, F_U64, 12, UINT64_C(1) << 60, NULL,
	  "capacity 1152921504606846976 sectors in sparse header overflows a 64-bit byte count" },
	{ "capacity needs a huge directory", GOOD_SIZE, F_U64, 12, UINT64_C(1) << 40, NULL,
	  "gdOffset 30 in sparse header: grain directory (131072 sectors) lies outside the file (65536 bytes)" },
	{ "descriptor outside the file", GOOD_SIZE, F_U64, 28, 120, NULL,
	  "descriptorOffset 120 and descriptorSize 20 in sparse header: embedded descriptor lies outside the file (65536 bytes)" },
	{ "descriptor size huge", GOOD_SIZE, F_U64, 36, UINT64_C(1) << 62, NULL,
	  "descriptorSize 4611686018427387904 sectors in sparse header is too large (expected at most 8192)" },
	{ "descriptor size 0", GOOD_SIZE, F_U64, 36, 0, NULL,
	  "descriptorSize 0 in sparse header with descriptorOffset 1" },
	{ "newline bytes converted CRLF to LF", GOOD_SIZE, F_BYTES, 73, 0, "\n \n\n",
	  "damaged newline-detection bytes 0a 20 0a 0a in sparse header (expected 0a 20 0d 0a; was the file transferred in text mode?)" },
	{ "newline bytes zero", GOOD_SIZE, F_BYTES, 73, 0, "\0\0\0\0",
	  "damaged newline-detection bytes 00 00 00 00 in sparse header" },
	{ "truncated file", 100, F_NONE, 0, 0, NULL,
	  "file too small for a sparse header (100 bytes, expected at least 512)" },
	{ "empty file", 0, F_NONE, 0, 0, NULL,
	  "file too small for a sparse header (0 bytes, expected at least 512)" },
	{ "compressAlgorithm 2", GOOD_SIZE, F_U16, 77, 2, NULL,
	  "compressAlgorithm 2 in sparse header (expected 0 none or 1 deflate)" },
	{ "unknown incompatible flag", GOOD_SIZE, F_U32, 8, 0x40003, NULL,
	  "unsupported flags 0x40000 in sparse header (known: 0x10000 compressed, 0x20000 markers)" },
	{ "overHead past EOF", GOOD_SIZE, F_U64, 64, 256, NULL,
	  "overHead 256 sectors in sparse header lies past the end of the file (65536 bytes)" },
	{ "file shorter than the tables", 15000, F_NONE, 0, 0, NULL,
	  "gdOffset 30 in sparse header: grain directory (1 sectors) lies outside the file (15000 bytes)" },
};

static void apply(uint8_t *raw, const struct bad_case *c)
{
	switch (c->kind) {
	case F_NONE:
		break;
	case F_U16:
		raw[c->offset] = (uint8_t)c->value;
		raw[c->offset + 1] = (uint8_t)(c->value >> 8);
		break;
	case F_U32:
		put32(raw + c->offset, (uint32_t)c->value);
		break;
	case F_U64:
		put64(raw + c->offset, c->value);
		break;
	case F_BYTES:
		memcpy(raw + c->offset, c->bytes, 4);
		break;
	}
}

START_TEST(test_bad_header)
{
	const struct bad_case *c = &bad_cases[_i];
	vmdk_sparse_header h;
	uint8_t raw[512];
	desc_error err;
	desc_status rc;

	vmdk_sparse_header_encode(&good, raw);
	apply(raw, c);
	desc_error_clear(&err);
	rc = vmdk_sparse_header_decode(raw, c->file_size, "bad.vmdk", &h, &err);
	ck_assert_msg(rc == DESC_E_FORMAT, "%s: status %d (%s)", c->what, rc,
		      err.message);
	ck_assert_str_eq(err.file, "bad.vmdk");
	ck_assert_msg(strncmp(err.message, c->want, strlen(c->want)) == 0,
		      "%s:\n got: %s\nwant: %s", c->what, err.message, c->want);
}
END_TEST

START_TEST(test_messages_distinct)
{
	/* "each its own clear error": no two cases share a message. */
	char msgs[sizeof(bad_cases) / sizeof(bad_cases[0])][DESC_ERROR_MESSAGE_MAX];
	size_t n = sizeof(bad_cases) / sizeof(bad_cases[0]), i, j;

	for (i = 0; i < n; i++) {
		vmdk_sparse_header h;
		uint8_t raw[512];
		desc_error err;

		vmdk_sparse_header_encode(&good, raw);
		apply(raw, &bad_cases[i]);
		vmdk_sparse_header_decode(raw, bad_cases[i].file_size, NULL,
					  &h, &err);
		snprintf(msgs[i], sizeof(msgs[i]), "%s", err.message);
		for (j = 0; j < i; j++)
			ck_assert_msg(strcmp(msgs[i], msgs[j]) != 0,
				      "cases '%s' and '%s' give the same message",
				      bad_cases[i].what, bad_cases[j].what);
	}
}
END_TEST

START_TEST(test_good_round_trip)
{
	vmdk_sparse_header h, h2;
	uint8_t raw[512], raw2[512];
	desc_error err;

	vmdk_sparse_header_encode(&good, raw);
	ck_assert(memcmp(raw, "KDMV", 4) == 0);
	ck_assert(memcmp(raw + 73, "\n \r\n", 4) == 0);
	ck_assert_int_eq(vmdk_sparse_header_decode(raw, GOOD_SIZE, "g", &h,
						   &err), DESC_OK);
	ck_assert(memcmp(&h, &good, sizeof(h)) == 0);
	vmdk_sparse_header_encode(&h, raw2);
	ck_assert(memcmp(raw, raw2, sizeof(raw)) == 0);
	/* Tail padding stays zero. */
	for (size_t i = 79; i < 512; i++)
		ck_assert_uint_eq(raw[i], 0);

	/* Without the newline-test flag the bytes are not checked. */
	h2 = good;
	h2.flags = VMDK_SPARSE_FLAG_REDUNDANT_GT;
	vmdk_sparse_header_encode(&h2, raw);
	memcpy(raw + 73, "\n \n\n", 4);
	ck_assert_int_eq(vmdk_sparse_header_decode(raw, GOOD_SIZE, "g", &h,
						   &err), DESC_OK);

	/* A streamOptimized header may say "grain directory at the end". */
	h2 = good;
	h2.version = 3;
	h2.flags = 0x30001;
	h2.gd_offset = UINT64_MAX;
	h2.compress_algorithm = 1;
	vmdk_sparse_header_encode(&h2, raw);
	ck_assert_int_eq(vmdk_sparse_header_decode(raw, GOOD_SIZE, "g", &h,
						   &err), DESC_OK);
	ck_assert(memcmp(&h, &h2, sizeof(h)) == 0);
}
END_TEST

START_TEST(test_never_crashes)
{
	/* Deterministic mutations of a valid header: the decoder only ever
	 * answers OK or DESC_E_FORMAT, and on OK the header is coherent. */
	uint32_t state = 12345;
	unsigned i, ok = 0;

	for (i = 0; i < 30000; i++) {
		vmdk_sparse_header h;
		uint8_t raw[512];
		desc_error err;
		desc_status rc;
		uint64_t size;
		unsigned k, flips;

		vmdk_sparse_header_encode(&good, raw);
		state = state * 1103515245u + 12345u;
		flips = 1 + (state >> 16) % 4;
		for (k = 0; k < flips; k++) {
			state = state * 1103515245u + 12345u;
			raw[(state >> 8) % 80] ^= (uint8_t)(1u << ((state >> 24) % 8));
		}
		state = state * 1103515245u + 12345u;
		size = (state >> 8) % 4 == 0 ? (state >> 4) % 70000 : GOOD_SIZE;
		rc = vmdk_sparse_header_decode(raw, size, "m", &h, &err);
		ck_assert(rc == DESC_OK || rc == DESC_E_FORMAT);
		if (rc == DESC_OK) {
			ok++;
			ck_assert(h.grain_size >= 8);
			ck_assert((h.grain_size & (h.grain_size - 1)) == 0);
			ck_assert_uint_eq(h.num_gtes_per_gt, 512);
		}
	}
	ck_assert_uint_gt(ok, 0);
}
END_TEST

/* ---- data written by qemu-io ---------------------------------------- */

static char *fixture(const char *name)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	char *p = vk_asprintf("%s/tests/data/sparse/%s", src ? src : ".", name);

	ck_assert_ptr_nonnull(p);
	return p;
}

/* qemu-pattern.vmdk: 1 MiB monolithicSparse made by
 *   qemu-img create -f vmdk qemu-pattern.vmdk 1M
 *   qemu-io -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 512k 4k'
 *           -c 'write -P 0xef 1020k 4k' qemu-pattern.vmdk */
static uint8_t expected_byte(uint64_t off)
{
	if (off < 65536)
		return 0xab;
	if (off >= 524288 && off < 524288 + 4096)
		return 0xcd;
	if (off >= 1044480 && off < 1048576)
		return 0xef;
	return 0;
}

START_TEST(test_qemu_pattern)
{
	char *path = fixture("qemu-pattern.vmdk");
	struct sparse_extent sp;
	uint64_t sector, allocated;
	desc_error err;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sparse_open(&sp, fd, path, &err), DESC_OK);
	ck_assert_uint_eq(sp.header.capacity, 2048);
	ck_assert_uint_eq(sp.header.descriptor_offset, 1);
	ck_assert_uint_eq(sp.header.descriptor_size, 20);
	ck_assert_uint_eq(sp.gd_entries, 1);
	ck_assert_int_eq(sparse_count_allocated(&sp, &allocated, &err), DESC_OK);
	ck_assert_uint_eq(allocated, 3);
	for (sector = 0; sector < 2048; sector++) {
		enum sparse_grain_state state;
		uint64_t fs = 0;
		uint8_t buf[512];
		size_t i;

		ck_assert_int_eq(sparse_lookup(&sp, sector, &state, &fs, &err),
				 DESC_OK);
		if (state == SPARSE_GRAIN_UNALLOCATED) {
			memset(buf, 0, sizeof(buf));
		} else {
			ck_assert_int_eq(state, SPARSE_GRAIN_DATA);
			ck_assert_int_eq(pread(fd, buf, 512, (off_t)fs * 512), 512);
		}
		for (i = 0; i < 512; i++)
			ck_assert_msg(buf[i] == expected_byte(sector * 512 + i),
				      "byte %" PRIu64 ": %02x", sector * 512 + i,
				      buf[i]);
	}
	ck_assert_int_ne(sparse_lookup(&sp, 2048, &(enum sparse_grain_state){0},
				       &sector, &err), DESC_OK);
	sparse_close(&sp);
	close(fd);
	vk_free(path);
}
END_TEST

/* A streamOptimized-style file whose header says "grain directory at the
 * end": the footer (two sectors before the end-of-stream marker) holds the
 * real gdOffset. */
static void write_stream_file(const char *path, bool good_marker)
{
	vmdk_sparse_header h = good;
	uint8_t sector[512];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	h.version = 3;
	h.flags = 0x30001;
	h.compress_algorithm = 1;
	h.capacity = 65536; /* one grain table */
	h.descriptor_offset = 0;
	h.descriptor_size = 0;
	h.rgd_offset = 0;
	h.gd_offset = UINT64_MAX;
	h.overhead = 1;
	vmdk_sparse_header_encode(&h, sector);
	ck_assert_int_eq(pwrite(fd, sector, 512, 0), 512);
	/* sector 1: GD marker, sector 2: GD with one empty entry */
	memset(sector, 0, sizeof(sector));
	put64(sector, 1);
	put32(sector + 12, 2);
	ck_assert_int_eq(pwrite(fd, sector, 512, 512), 512);
	memset(sector, 0, sizeof(sector));
	ck_assert_int_eq(pwrite(fd, sector, 512, 1024), 512);
	/* sector 3: footer marker, 4: footer, 5: end of stream */
	put64(sector, 1);
	put32(sector + 12, good_marker ? 3 : 1);
	ck_assert_int_eq(pwrite(fd, sector, 512, 1536), 512);
	h.gd_offset = 2;
	vmdk_sparse_header_encode(&h, sector);
	ck_assert_int_eq(pwrite(fd, sector, 512, 2048), 512);
	memset(sector, 0, sizeof(sector));
	ck_assert_int_eq(pwrite(fd, sector, 512, 2560), 512);
	close(fd);
}

START_TEST(test_footer)
{
	char dir[] = "/tmp/check_sparse.XXXXXX", *path;
	enum sparse_grain_state state;
	struct sparse_extent sp;
	uint64_t fs = 0;
	desc_error err;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = vk_asprintf("%s/stream.vmdk", dir);
	write_stream_file(path, true);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(sparse_open(&sp, fd, path, &err), DESC_OK);
	ck_assert_uint_eq(sp.header.gd_offset, 2);
	ck_assert_uint_eq(sp.gd_entries, 1);
	ck_assert_int_eq(sparse_lookup(&sp, 1000, &state, &fs, &err), DESC_OK);
	ck_assert_int_eq(state, SPARSE_GRAIN_UNALLOCATED);
	sparse_close(&sp);
	close(fd);
	write_stream_file(path, false);
	fd = open(path, O_RDONLY);
	ck_assert_int_eq(sparse_open(&sp, fd, path, &err), DESC_E_FORMAT);
	ck_assert_str_eq(err.message, "no footer marker at byte 1536 (expected metadata marker type 3)");
	close(fd);
	unlink(path);
	vk_free(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* ---- layout of new extents ------------------------------------------ */

static const struct {
	uint64_t capacity, desc_sectors;
	uint64_t rgd, gd, overhead;
} layout_cases[] = {
	/* qemu-img, FORMAT-NOTES.md §2.7 */
	{ 131072, 20, 21, 30, 128 },
	{ 4194304, 20, 21, 278, 640 },
	{ 2097152, 20, 21, 150, 384 },
	/* no embedded descriptor: the redundant directory follows the header */
	{ 4194304, 0, 1, 258, 640 },
	/* one grain */
	{ 1, 20, 21, 26, 128 },
};

START_TEST(test_layout)
{
	struct sparse_layout l;
	desc_error err;

	ck_assert_int_eq(sparse_layout_compute(layout_cases[_i].capacity,
					       layout_cases[_i].desc_sectors,
					       &l, &err), DESC_OK);
	ck_assert_uint_eq(l.header.rgd_offset, layout_cases[_i].rgd);
	ck_assert_uint_eq(l.header.gd_offset, layout_cases[_i].gd);
	ck_assert_uint_eq(l.header.overhead, layout_cases[_i].overhead);
	ck_assert_uint_eq(l.header.flags, 3);
	ck_assert_uint_eq(l.header.version, 1);
}
END_TEST

START_TEST(test_layout_limits)
{
	struct sparse_layout l;
	desc_error err;

	ck_assert_int_eq(sparse_layout_compute(0, 20, &l, &err),
			 DESC_E_TOO_LARGE);
	ck_assert_int_eq(sparse_layout_compute(UINT64_C(1) << 32, 20, &l, &err),
			 DESC_E_TOO_LARGE);
	ck_assert_ptr_nonnull(strstr(err.message, "use a split type"));
	ck_assert_int_eq(sparse_layout_compute((UINT64_C(1) << 32) - (1 << 20), 20,
					       &l, &err), DESC_OK);
}
END_TEST

START_TEST(test_create_reopen)
{
	char dir[] = "/tmp/check_sparse.XXXXXX", *path;
	static const char text[] = "# Disk DescriptorFile\nversion=1\n";
	struct sparse_layout l;
	struct sparse_extent sp;
	struct stat st;
	uint8_t buf[20 * 512];
	uint64_t allocated;
	desc_error err;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = vk_asprintf("%s/new disk.vmdk", dir);
	ck_assert_int_eq(sparse_layout_compute(UINT64_C(10) << 21, 20, &l, &err),
			 DESC_OK);
	ck_assert_int_eq(sparse_create_file(path, &l, text, strlen(text), &err),
			 DESC_OK);
	/* O_EXCL */
	ck_assert_int_eq(sparse_create_file(path, &l, text, strlen(text), &err),
			 DESC_E_EXISTS);
	ck_assert(fs_exists(path));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq((uint64_t)st.st_size, l.header.overhead * 512);
	/* Tables stayed holes: far less allocated than the file size. */
	ck_assert_int_lt(st.st_blocks * 512, st.st_size);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(sparse_open(&sp, fd, path, &err), DESC_OK);
	ck_assert(memcmp(&sp.header, &l.header, sizeof(l.header)) == 0);
	ck_assert_uint_eq(sp.gd_entries, 320);
	ck_assert_uint_eq(sp.gd[0], l.header.gd_offset + l.gd_sectors);
	ck_assert_int_eq(sparse_count_allocated(&sp, &allocated, &err), DESC_OK);
	ck_assert_uint_eq(allocated, 0);
	ck_assert_int_eq(pread(fd, buf, sizeof(buf), 512), (ssize_t)sizeof(buf));
	ck_assert(memcmp(buf, text, strlen(text)) == 0);
	ck_assert_uint_eq(buf[strlen(text)], 0);
	sparse_close(&sp);
	close(fd);
	unlink(path);
	/* A descriptor that does not fit is refused and nothing is left. */
	{
		static char big[20 * 512 + 1];

		memset(big, 'x', sizeof(big));
		ck_assert_int_eq(sparse_create_file(path, &l, big, sizeof(big),
						    &err), DESC_E_TOO_LARGE);
		ck_assert(!fs_exists(path));
	}
	vk_free(path);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sparse");
	TCase *tc = tcase_create("header");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_bad_header, 0,
			    sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(tc, test_messages_distinct);
	tcase_add_test(tc, test_good_round_trip);
	tcase_add_test(tc, test_never_crashes);
	suite_add_tcase(s, tc);
	tc = tcase_create("grains");
	tcase_add_test(tc, test_qemu_pattern);
	tcase_add_test(tc, test_footer);
	tcase_add_loop_test(tc, test_layout, 0,
			    sizeof(layout_cases) / sizeof(layout_cases[0]));
	tcase_add_test(tc, test_layout_limits);
	tcase_add_test(tc, test_create_reopen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
