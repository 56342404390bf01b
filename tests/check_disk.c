/*
 * check_disk.c - unit tests for the disk layer (vmdk/disk/): creating
 * disks and deltas (create.c), opening and reading them (disk.c) and
 * walking their chain (chain.c).
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmdk/fs/fs.h"
#include "vmdk/vmdk.h"
#include "descriptor/private.h"
#include "tests/tmpdir.h"

/* ---- disks ----------------------------------------------------------- */

static char *slurp(const char *path)
{
	desc_error err;
	char *text = NULL;
	size_t len;

	ck_assert_msg(fs_read_file(path, 1 << 20, &text, &len, &err) == DESC_OK,
		      "%s: %s", path, err.message);
	return text;
}

static void spit(const char *path, const char *text)
{
	desc_error err;

	unlink(path);
	ck_assert_int_eq(fs_write_new(path, text, strlen(text), 0644, false,
				      &err), DESC_OK);
}

/* Replaces the first occurrence of `from` in the text file at path. */
static void edit(const char *path, const char *from, const char *to)
{
	char *text = slurp(path), *hit = strstr(text, from), *out;

	ck_assert_msg(hit != NULL, "'%s' not in %s", from, path);
	*hit = '\0';
	out = vk_asprintf("%s%s%s", text, to, hit + strlen(from));
	spit(path, out);
	vk_free(out);
	vk_free(text);
}

static void create(const char *name, vmdk_create_type type, uint64_t bytes)
{
	vmdk_create_options opt = { type, bytes, NULL, NULL };
	char *p = tmp_path(name);
	desc_error err;

	ck_assert_msg(vmdk_disk_create(p, &opt, &err) == DESC_OK, "%s: %s",
		      name, err.message);
	vk_free(p);
}

static void delta(const char *name, const char *parent, const char *hint)
{
	char *d = tmp_path(name), *p = tmp_path(parent);
	desc_error err;

	ck_assert_msg(vmdk_delta_create(d, p, hint, &err) == DESC_OK, "%s: %s",
		      name, err.message);
	vk_free(d);
	vk_free(p);
}

static vmdk_disk *open_ok(const char *name, unsigned flags)
{
	char *p = tmp_path(name);
	vmdk_disk *disk = NULL;
	desc_error err;

	ck_assert_msg(vmdk_disk_open(p, flags, &disk, &err) == DESC_OK,
		      "%s: %s", name, err.message);
	vk_free(p);
	return disk;
}

static desc_status open_fails(const char *name, unsigned flags,
			      desc_error *err)
{
	char *p = tmp_path(name);
	vmdk_disk *disk = NULL;
	desc_status rc = vmdk_disk_open(p, flags, &disk, err);

	ck_assert_ptr_null(disk);
	ck_assert_int_ne(rc, DESC_OK);
	vk_free(p);
	return rc;
}

static void assert_message(const desc_error *err, const char *part)
{
	ck_assert_msg(strstr(err->message, part) != NULL,
		      "message '%s' lacks '%s'", err->message, part);
}

static size_t count_files(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	size_t n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static const struct {
	vmdk_create_type type;
	uint64_t bytes;
	const char *name;
	size_t extents;
	bool embedded;
} create_cases[] = {
	{ VMDK_CREATE_MONOLITHIC_SPARSE, 1000000, "mono sparse.vmdk", 1, true },
	{ VMDK_CREATE_TWOGB_SPARSE, UINT64_C(5) << 30, "split sparse.vmdk", 2, false },
	{ VMDK_CREATE_MONOLITHIC_FLAT, 1 << 20, "mono flat.vmdk", 1, false },
	{ VMDK_CREATE_TWOGB_FLAT, UINT64_C(9) << 30, "split flat.vmdk", 3, false },
};

START_TEST(test_create_open_read)
{
	vmdk_disk *disk;
	vmdk_extent_info info;
	desc_error err;
	uint8_t buf[4096];
	uint64_t sectors = (create_cases[_i].bytes + 511) / 512;
	size_t i;

	make_tmpdir();
	create(create_cases[_i].name, create_cases[_i].type,
	       create_cases[_i].bytes);
	ck_assert_uint_eq(count_files(), create_cases[_i].extents +
			  !create_cases[_i].embedded);
	disk = open_ok(create_cases[_i].name, 0);
	ck_assert_uint_eq(vmdk_disk_capacity(disk), sectors);
	ck_assert(vmdk_disk_embedded(disk) == create_cases[_i].embedded);
	ck_assert_ptr_null(vmdk_disk_parent(disk));
	ck_assert_str_eq(desc_create_type(vmdk_disk_descriptor(disk)),
			 vmdk_create_type_name(create_cases[_i].type));
	ck_assert_uint_eq(desc_extent_count(vmdk_disk_descriptor(disk)),
			  create_cases[_i].extents);
	for (i = 0; i < create_cases[_i].extents; i++) {
		ck_assert_int_eq(vmdk_disk_extent_info(disk, i, &info, &err),
				 DESC_OK);
		ck_assert(info.opened);
		ck_assert_uint_eq(info.allocated_grains, 0);
		if (info.sparse) {
			ck_assert_uint_eq(info.header.version, 1);
			ck_assert_uint_eq(info.header.flags, 3);
			ck_assert_uint_eq(info.header.descriptor_offset,
					  create_cases[_i].embedded ? 1 : 0);
		}
	}
	ck_assert_int_eq(vmdk_disk_extent_info(disk, i, &info, &err),
			 DESC_E_ARG);
	/* The last 8 sectors, crossing nothing; then past the end. */
	memset(buf, 0x77, sizeof(buf));
	ck_assert_int_eq(vmdk_disk_read(disk, sectors - 8, 8, buf, &err),
			 DESC_OK);
	for (i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_int_eq(vmdk_disk_read(disk, sectors - 7, 8, buf, &err),
			 DESC_E_ARG);
	ck_assert_int_eq(vmdk_disk_read(disk, UINT64_MAX, 2, buf, &err),
			 DESC_E_ARG);
	vmdk_disk_free(disk);
	/* Descriptor-only: nothing opened, reads refused. */
	disk = open_ok(create_cases[_i].name, VMDK_OPEN_DESCRIPTOR_ONLY);
	ck_assert_int_eq(vmdk_disk_extent_info(disk, 0, &info, &err), DESC_OK);
	ck_assert(!info.opened);
	ck_assert_int_eq(vmdk_disk_read(disk, 0, 1, buf, &err), DESC_E_ARG);
	vmdk_disk_free(disk);
	remove_tmpdir();
}
END_TEST

START_TEST(test_create_refusals)
{
	vmdk_create_options opt = { VMDK_CREATE_MONOLITHIC_SPARSE, 1 << 20,
				    NULL, NULL };
	desc_error err;
	char *p;

	make_tmpdir();
	p = tmp_path("d.vmdk");
	opt.size_bytes = 0;
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	opt.size_bytes = 1 << 20;
	opt.adapter_type = "scsi";
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	assert_message(&err, "unknown adapter type 'scsi' (expected ide, buslogic, lsilogic");
	opt.adapter_type = NULL;
	opt.hw_version = "7\"";
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	opt.hw_version = NULL;
	opt.size_bytes = UINT64_C(2) << 40;
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_TOO_LARGE);
	ck_assert_uint_eq(count_files(), 0);
	vk_free(p);
	p = tmp_path("a\"b.vmdk");
	opt.size_bytes = 1 << 20;
	ck_assert_int_eq(vmdk_disk_create(p, &opt, &err), DESC_E_ARG);
	ck_assert_uint_eq(count_files(), 0);
	vk_free(p);
	remove_tmpdir();
}
END_TEST

START_TEST(test_create_type_names)
{
	vmdk_create_type t;
	int i;

	for (i = VMDK_CREATE_MONOLITHIC_SPARSE; i <= VMDK_CREATE_TWOGB_FLAT; i++) {
		ck_assert(vmdk_create_type_from_name(
			vmdk_create_type_name((vmdk_create_type)i), &t));
		ck_assert_int_eq(t, i);
	}
	ck_assert(!vmdk_create_type_from_name("streamOptimized", &t));
	ck_assert(!vmdk_create_type_from_name("", &t));
	ck_assert_ptr_null(vmdk_create_type_name((vmdk_create_type)42));
}
END_TEST

START_TEST(test_random_cid)
{
	uint32_t first = vmdk_random_cid(), c;
	bool differs = false;
	int i;

	for (i = 0; i < 1000; i++) {
		c = vmdk_random_cid();
		ck_assert_uint_ne(c, 0xffffffffu);
		ck_assert_uint_ne(c, 0xfffffffeu);
		differs |= c != first;
	}
	ck_assert(differs);
}
END_TEST

/* Writes a byte pattern straight into a flat extent. */
static void fill_flat(const char *name, uint64_t offset, size_t len, int byte)
{
	char *p = tmp_path(name);
	char buf[4096];
	int fd = open(p, O_WRONLY);

	ck_assert_int_ge(fd, 0);
	memset(buf, byte, sizeof(buf));
	while (len > 0) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);

		ck_assert_int_eq(pwrite(fd, buf, n, (off_t)offset), (ssize_t)n);
		offset += n;
		len -= n;
	}
	close(fd);
	vk_free(p);
}

START_TEST(test_delta_reads_parent)
{
	uint8_t buf[3 * 512];
	vmdk_disk *disk;
	desc_error err;
	char *text;
	size_t i;

	make_tmpdir();
	ck_assert_int_eq(mkdir(T("leaf"), 0755), 0);
	create("base.vmdk", VMDK_CREATE_MONOLITHIC_FLAT, 4 << 20);
	fill_flat("base-flat.vmdk", 1024, 512, 0xab);
	delta("leaf/delta.vmdk", "base.vmdk", NULL);
	delta("leaf/delta2.vmdk", "leaf/delta.vmdk", NULL);
	/* A flat parent gets a one-file monolithicSparse delta whose hint is
	 * relative to the delta's folder. */
	disk = open_ok("leaf/delta.vmdk", VMDK_OPEN_DESCRIPTOR_ONLY);
	ck_assert(vmdk_disk_embedded(disk));
	ck_assert_str_eq(desc_create_type(vmdk_disk_descriptor(disk)),
			 "monolithicSparse");
	ck_assert_str_eq(desc_parent_hint(vmdk_disk_descriptor(disk)),
			 "../base.vmdk");
	ck_assert_ptr_null(desc_ddb_get(vmdk_disk_descriptor(disk), "ddb.uuid"));
	ck_assert_str_eq(desc_ddb_get(vmdk_disk_descriptor(disk),
				      "ddb.adapterType"), "lsilogic");
	ck_assert_ptr_nonnull(desc_ddb_get(vmdk_disk_descriptor(disk),
					   "ddb.longContentID"));
	vmdk_disk_free(disk);

	disk = open_ok("leaf/delta2.vmdk", VMDK_OPEN_CHAIN);
	ck_assert_ptr_nonnull(vmdk_disk_parent(disk));
	ck_assert_ptr_nonnull(vmdk_disk_parent(vmdk_disk_parent(disk)));
	ck_assert_ptr_null(vmdk_disk_parent(vmdk_disk_parent(vmdk_disk_parent(disk))));
	ck_assert_int_eq(vmdk_disk_read(disk, 1, 3, buf, &err), DESC_OK);
	for (i = 0; i < sizeof(buf); i++)
		ck_assert_uint_eq(buf[i], i >= 512 && i < 1024 ? 0xab : 0);
	vmdk_disk_free(disk);

	/* Without the chain a delta refuses to invent zeros. */
	disk = open_ok("leaf/delta.vmdk", 0);
	ck_assert_int_eq(vmdk_disk_read(disk, 0, 1, buf, &err), DESC_E_ARG);
	assert_message(&err, "VMDK_OPEN_CHAIN");
	vmdk_disk_free(disk);

	/* An explicit hint is written as given. */
	delta("leaf/delta3.vmdk", "base.vmdk", "/elsewhere/base.vmdk");
	disk = open_ok("leaf/delta3.vmdk", VMDK_OPEN_DESCRIPTOR_ONLY);
	ck_assert_str_eq(desc_parent_hint(vmdk_disk_descriptor(disk)),
			 "/elsewhere/base.vmdk");
	vmdk_disk_free(disk);
	ck_assert_int_eq(open_fails("leaf/delta3.vmdk", VMDK_OPEN_CHAIN, &err),
			 DESC_E_NOT_FOUND);
	assert_message(&err, "parent '/elsewhere/base.vmdk' not found");

	/* The base descriptor was only read. */
	text = slurp(T("base.vmdk"));
	ck_assert_ptr_nonnull(strstr(text, "createType=\"monolithicFlat\""));
	vk_free(text);
	remove_tmpdir();
}
END_TEST

START_TEST(test_split_delta_layout)
{
	vmdk_disk *disk;
	const desc_descriptor *d;
	uint32_t cid;
	char *text;

	make_tmpdir();
	create("base.vmdk", VMDK_CREATE_TWOGB_FLAT, UINT64_C(9) << 30);
	delta("base-000001.vmdk", "base.vmdk", NULL);
	disk = open_ok("base-000001.vmdk", VMDK_OPEN_CHAIN);
	d = vmdk_disk_descriptor(disk);
	ck_assert_str_eq(desc_create_type(d), "twoGbMaxExtentSparse");
	ck_assert_uint_eq(desc_extent_count(d), 3);
	ck_assert_str_eq(desc_extent_at(d, 0)->path, "base-000001-s001.vmdk");
	ck_assert_str_eq(desc_extent_at(d, 2)->path, "base-000001-s003.vmdk");
	ck_assert_uint_eq(desc_extent_at(d, 0)->sectors, 8323072);
	ck_assert_uint_eq(desc_extent_at(d, 2)->sectors,
			  (UINT64_C(9) << 21) - 2 * 8323072);
	ck_assert_str_eq(desc_parent_hint(d), "base.vmdk");
	ck_assert(desc_cid(vmdk_disk_descriptor(vmdk_disk_parent(disk)), &cid));
	text = vk_asprintf("parentCID=%08x\n", cid);
	{
		char *desc_text = slurp(T("base-000001.vmdk"));

		ck_assert_ptr_nonnull(strstr(desc_text, text));
		vk_free(desc_text);
	}
	vk_free(text);
	vmdk_disk_free(disk);
	remove_tmpdir();
}
END_TEST

START_TEST(test_open_errors)
{
	char big[2048];
	desc_error err;
	size_t i;

	make_tmpdir();
	ck_assert_int_eq(open_fails("missing.vmdk", 0, &err), DESC_E_NOT_FOUND);
	assert_message(&err, "missing.vmdk");

	/* Missing extent file: named. */
	create("flat.vmdk", VMDK_CREATE_MONOLITHIC_FLAT, 1 << 20);
	unlink(T("flat-flat.vmdk"));
	ck_assert_int_eq(open_fails("flat.vmdk", 0, &err), DESC_E_NOT_FOUND);
	assert_message(&err, "flat-flat.vmdk");
	vmdk_disk_free(open_ok("flat.vmdk", VMDK_OPEN_DESCRIPTOR_ONLY));

	/* Sparse header capacity disagrees with the extent line. */
	create("s.vmdk", VMDK_CREATE_TWOGB_SPARSE, 1 << 20);
	edit(T("s.vmdk"), "RW 2048 SPARSE", "RW 2049 SPARSE");
	ck_assert_int_eq(open_fails("s.vmdk", 0, &err), DESC_E_FORMAT);
	assert_message(&err, "sparse extent capacity 2048 sectors does not match its extent line");

	/* A split sparse extent has no descriptor of its own. */
	ck_assert_int_eq(open_fails("s-s001.vmdk", 0, &err), DESC_E_FORMAT);
	assert_message(&err, "no embedded descriptor");

	/* A COWD file is not a disk. */
	spit(T("cowd.vmdk"), "COWD and more");
	ck_assert_int_eq(open_fails("cowd.vmdk", 0, &err), DESC_E_FORMAT);
	assert_message(&err, "VMFSSPARSE (COWD)");

	/* Over the descriptor cap: an extent given by mistake. */
	create("big.vmdk", VMDK_CREATE_MONOLITHIC_FLAT, 2 << 20);
	ck_assert_int_eq(open_fails("big-flat.vmdk", 0, &err), DESC_E_TOO_LARGE);

	/* Extent types that are reported but not read. */
	spit(T("esx.vmdk"),
	     "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n"
	     "createType=\"vmfsSparse\"\n\n# Extent description\n"
	     "RW 2048 VMFSSPARSE \"esx-delta.vmdk\"\nRW 2048 ZERO\n\n"
	     "# The Disk Data Base\n#DDB\n\n");
	{
		vmdk_disk *disk = open_ok("esx.vmdk", 0);
		vmdk_extent_info info;
		uint8_t buf[512];

		ck_assert_int_eq(vmdk_disk_extent_info(disk, 0, &info, &err),
				 DESC_OK);
		ck_assert(!info.opened);
		ck_assert_int_eq(vmdk_disk_extent_info(disk, 1, &info, &err),
				 DESC_OK);
		ck_assert_ptr_null(info.path);
		ck_assert_int_eq(vmdk_disk_read(disk, 2048, 1, buf, &err),
				 DESC_OK);
		ck_assert_int_eq(vmdk_disk_read(disk, 0, 1, buf, &err),
				 DESC_E_FORMAT);
		assert_message(&err, "reading VMFSSPARSE extents is not supported");
		vmdk_disk_free(disk);
	}

	/* Garbage text: the descriptor parser's error comes through. */
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)('a' + i % 26);
	big[sizeof(big) - 1] = '\0';
	spit(T("junk.vmdk"), big);
	ck_assert_int_ne(open_fails("junk.vmdk", 0, &err), DESC_E_NOMEM);
	remove_tmpdir();
}
END_TEST

static void chain_of(const char *name, vmdk_chain *chain)
{
	char *p = tmp_path(name);
	desc_error err;

	ck_assert_msg(vmdk_chain_walk(p, chain, &err) == DESC_OK, "%s: %s",
		      name, err.message);
	vk_free(p);
}

START_TEST(test_chain_walk)
{
	vmdk_chain chain;
	char *text, *cid;
	desc_error err;

	make_tmpdir();
	create("base.vmdk", VMDK_CREATE_TWOGB_FLAT, 1 << 20);
	delta("a.vmdk", "base.vmdk", NULL);
	delta("b.vmdk", "a.vmdk", NULL);
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_OK);
	ck_assert_uint_eq(chain.count, 3);
	ck_assert_str_eq(chain.links[0].create_type, "twoGbMaxExtentSparse");
	ck_assert_str_eq(chain.links[0].parent_hint, "a.vmdk");
	ck_assert(chain.links[0].has_parent);
	ck_assert_uint_eq(chain.links[0].parent_cid, chain.links[1].cid);
	ck_assert_uint_eq(chain.links[1].parent_cid, chain.links[2].cid);
	ck_assert(!chain.links[2].has_parent);
	ck_assert_ptr_null(chain.links[2].parent_hint);
	ck_assert_uint_eq(chain.links[2].capacity, 2048);
	vmdk_chain_clear(&chain);

	/* CID mismatch: both values, both files. */
	text = slurp(T("base.vmdk"));
	cid = strstr(text, "\nCID=") + 5;
	cid[8] = '\0';
	cid = vk_strdup(cid);
	vk_free(text);
	text = vk_asprintf("CID=%s", cid);
	edit(T("base.vmdk"), text, "CID=0badc0de");
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN);
	ck_assert_uint_eq(chain.count, 3);
	assert_message(&chain.error, "CID mismatch: parentCID=");
	assert_message(&chain.error, cid);
	assert_message(&chain.error, "CID=0badc0de in its parent");
	assert_message(&chain.error, "base.vmdk");
	assert_message(&chain.error, "a.vmdk");
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(open_fails("b.vmdk", VMDK_OPEN_CHAIN, &err), DESC_E_CHAIN);
	assert_message(&err, "CID mismatch");
	edit(T("base.vmdk"), "CID=0badc0de", text);
	vk_free(text);
	vk_free(cid);

	/* Missing parent: the hint and the resolved path. */
	ck_assert_int_eq(rename(T("a.vmdk"), T("gone.vmdk")), 0);
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_E_NOT_FOUND);
	ck_assert_uint_eq(chain.count, 1);
	assert_message(&chain.error, "parent 'a.vmdk' not found (parentFileNameHint resolved to '");
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(rename(T("gone.vmdk"), T("a.vmdk")), 0);

	/* Loop: a points back at b. */
	edit(T("a.vmdk"), "parentFileNameHint=\"base.vmdk\"",
	     "parentFileNameHint=\"b.vmdk\"");
	chain_of("b.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN);
	ck_assert_uint_eq(chain.count, 2);
	assert_message(&chain.error, "loop in the chain");
	vmdk_chain_clear(&chain);
	ck_assert_int_eq(open_fails("b.vmdk", VMDK_OPEN_CHAIN, &err), DESC_E_CHAIN);
	assert_message(&err, "loop in the parent chain");

	/* The first file itself failing fails the call. */
	{
		char *p = tmp_path("nothing.vmdk");

		ck_assert_int_eq(vmdk_chain_walk(p, &chain, &err), DESC_E_NOT_FOUND);
		ck_assert_uint_eq(chain.count, 0);
		vk_free(p);
	}
	remove_tmpdir();
}
END_TEST

START_TEST(test_chain_depth)
{
	vmdk_chain chain;
	desc_error err;
	char name[32], parent[32];
	int i;

	make_tmpdir();
	create("d0.vmdk", VMDK_CREATE_MONOLITHIC_SPARSE, 1 << 20);
	for (i = 1; i <= VMDK_CHAIN_MAX_DEPTH; i++) {
		snprintf(name, sizeof(name), "d%d.vmdk", i);
		snprintf(parent, sizeof(parent), "d%d.vmdk", i - 1);
		delta(name, parent, NULL);
	}
	/* d63 has 64 links: fine.  d64 has 65: too deep. */
	chain_of("d63.vmdk", &chain);
	ck_assert_int_eq(chain.status, DESC_OK);
	ck_assert_uint_eq(chain.count, VMDK_CHAIN_MAX_DEPTH);
	vmdk_chain_clear(&chain);
	vmdk_disk_free(open_ok("d63.vmdk", VMDK_OPEN_CHAIN));
	chain_of(name, &chain);
	ck_assert_int_eq(chain.status, DESC_E_CHAIN);
	assert_message(&chain.error, "chain deeper than 64 links");
	vmdk_chain_clear(&chain);
	remove_tmpdir();
	(void)err;
}
END_TEST

/* Every allocation failure fails cleanly: DESC_E_NOMEM, nothing left on
 * disk, no crash (leaks show under ASan/valgrind). */
START_TEST(test_allocation_failures)
{
	vmdk_create_options opt = { VMDK_CREATE_TWOGB_SPARSE, UINT64_C(5) << 30,
				    NULL, NULL };
	char *base, *d, *s;
	unsigned long n;
	desc_error err;
	desc_status rc;

	make_tmpdir();
	create("base.vmdk", VMDK_CREATE_TWOGB_FLAT, UINT64_C(5) << 30);
	base = tmp_path("base.vmdk");
	d = tmp_path("delta.vmdk");
	s = tmp_path("new.vmdk");
	for (n = 1;; n++) {
		desc_test_fail_allocation(n);
		rc = vmdk_delta_create(d, base, NULL, &err);
		desc_test_fail_allocation(0);
		if (rc == DESC_OK)
			break;
		ck_assert_msg(rc == DESC_E_NOMEM, "allocation %lu: %d %s", n,
			      rc, err.message);
		ck_assert_uint_eq(count_files(), 3);
	}
	ck_assert_uint_gt(n, 5);
	for (n = 1;; n++) {
		vmdk_disk *disk = NULL;

		desc_test_fail_allocation(n);
		rc = vmdk_disk_open(d, VMDK_OPEN_CHAIN, &disk, &err);
		desc_test_fail_allocation(0);
		vmdk_disk_free(disk);
		if (rc == DESC_OK)
			break;
		ck_assert_msg(rc == DESC_E_NOMEM, "open %lu: %d %s", n, rc,
			      err.message);
	}
	for (n = 1;; n++) {
		vmdk_chain chain;

		desc_test_fail_allocation(n);
		rc = vmdk_chain_walk(d, &chain, &err);
		desc_test_fail_allocation(0);
		if (rc == DESC_OK) {
			/* An allocation failing inside a parent must not look
			 * like a broken chain. */
			ck_assert_int_eq(chain.status, DESC_OK);
			ck_assert_uint_eq(chain.count, 2);
			vmdk_chain_clear(&chain);
			break;
		}
		ck_assert_msg(rc == DESC_E_NOMEM, "chain %lu: %d %s", n, rc,
			      err.message);
	}
	for (n = 1;; n++) {
		size_t before = count_files();

		desc_test_fail_allocation(n);
		rc = vmdk_disk_create(s, &opt, &err);
		desc_test_fail_allocation(0);
		if (rc == DESC_OK)
			break;
		ck_assert_msg(rc == DESC_E_NOMEM, "create %lu: %d %s", n, rc,
			      err.message);
		ck_assert_uint_eq(count_files(), before);
	}
	vk_free(base);
	vk_free(d);
	vk_free(s);
	remove_tmpdir();
}
END_TEST

static Suite *disk_suite(void)
{
	Suite *s = suite_create("disk");
	TCase *tc = tcase_create("create");

	tcase_add_loop_test(tc, test_create_open_read, 0,
			    sizeof(create_cases) / sizeof(create_cases[0]));
	tcase_add_test(tc, test_create_refusals);
	tcase_add_test(tc, test_create_type_names);
	tcase_add_test(tc, test_random_cid);
	suite_add_tcase(s, tc);
	tc = tcase_create("open");
	tcase_add_test(tc, test_delta_reads_parent);
	tcase_add_test(tc, test_split_delta_layout);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	tc = tcase_create("chain");
	tcase_add_test(tc, test_chain_walk);
	tcase_add_test(tc, test_chain_depth);
	tcase_add_test(tc, test_allocation_failures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(disk_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
