/* check_vmx.c - .vmx disks, leaf .vmx, default .vmx, .vmsd (vmdk/vm/vmx.c). */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vmdk/vmdk.h"
#include "vmdk/vm/vm.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long size;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	ck_assert_int_ge(size, 0);
	rewind(f);
	buf = malloc((size_t)size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	buf[size] = '\0';
	*len = (size_t)size;
	return buf;
}

/* $VMDKIT_CORPUS/sub/name, or NULL when there is no corpus. */
static char *corpus_path(const char *sub, const char *name)
{
	const char *corpus = getenv("VMDKIT_CORPUS");
	char *path;
	FILE *f;

	if (corpus == NULL || corpus[0] == '\0')
		return NULL;
	path = malloc(strlen(corpus) + strlen(sub) + strlen(name) + 3);
	ck_assert_ptr_nonnull(path);
	snprintf(path, strlen(corpus) + strlen(sub) + strlen(name) + 3,
		 "%s/%s/%s", corpus, sub, name);
	f = fopen(path, "rb");
	if (f == NULL) {
		free(path);
		return NULL;
	}
	fclose(f);
	return path;
}

static char *data_path(const char *name)
{
	const char *src = getenv("VMDKIT_SRCDIR");
	size_t n;
	char *path;

	if (src == NULL || src[0] == '\0')
		src = ".";
	n = strlen(src) + strlen(name) + 32;
	path = malloc(n);
	ck_assert_ptr_nonnull(path);
	snprintf(path, n, "%s/tests/data/vmx/%s", src, name);
	return path;
}

static desc_dict *parse_text(const char *text, size_t len, const char *name)
{
	desc_dict *dict = NULL;
	desc_error err;
	char msg[2048];

	if (desc_dict_parse(text, len, name, &dict, NULL, &err) != DESC_OK) {
		desc_error_format(&err, msg, sizeof(msg));
		ck_abort_msg("parse failed: %s", msg);
	}
	return dict;
}

static desc_dict *parse_file(const char *path, char **text, size_t *len)
{
	*text = read_all(path, len);
	return parse_text(*text, *len, path);
}

static char *write_dict(const desc_dict *dict, size_t *len)
{
	char *out = NULL;
	desc_error err;

	ck_assert_int_eq(desc_dict_write(dict, &out, len, &err), DESC_OK);
	return out;
}

static void assert_dict_equals_file(const desc_dict *dict, const char *golden)
{
	char *path = data_path(golden);
	size_t want_len, len;
	char *want = read_all(path, &want_len);
	char *out = write_dict(dict, &len);

	ck_assert_msg(len == want_len && memcmp(out, want, len) == 0,
		      "differs from %s:\n[%.*s]", golden, (int)len, out);
	free(out);
	free(want);
	free(path);
}

/* ------------------------------------------------------------------ */
/* vmdk_vmx_disks on real files                                        */
/* ------------------------------------------------------------------ */

static const struct corpus_disks {
	const char *file;
	size_t count;
	const char *nodes; /* space-separated, in order */
	const char *first_file;
} corpus_disks[] = {
	{ "virt-v2v__tests__test-i-vmx-1.vmx", 21,
	  "scsi0:0 scsi0:1 scsi0:2 scsi0:3 scsi0:4 scsi0:5 scsi0:6 scsi0:8 "
	  "scsi0:9 scsi0:10 scsi0:11 scsi0:12 scsi0:13 scsi0:14 scsi0:15 "
	  "scsi1:0 scsi1:1 scsi1:2 scsi1:3 scsi1:4 scsi1:5",
	  "BZ1308535_21disks.vmdk" },
	{ "virt-manager__virtconv-vmx_input__test-nodisks.vmx", 0, "", NULL },
	{ "virt-manager__virtconv-vmx_input__test1.vmx", 1, "scsi0:0",
	  "fedora.vmdk" },
	/* lower-case `filename` key */
	{ "libvirt__vmx2xmldata__case-insensitive-2.vmx", 1, "scsi0:0",
	  "fedora11.vmdk" },
	/* ide0:0.filename = "auto detect" is a CD drive */
	{ "libvirt__vmx2xmldata__fusion-in-the-wild-1.vmx", 1, "scsi0:0",
	  "ATTM_VM.vmdk" },
	/* sata0:0 = "emptyBackingString" */
	{ "virt-v2v__tests__test-i-vmx-6.vmx", 1, "nvme0:0", "nvme-disk.vmdk" },
	{ "virt-v2v__tests__test-i-vmx-7.vmx", 2, "scsi0:0 sata0:3",
	  "win2019.vmdk" },
	{ "libvirt__vmx2xmldata__esx-in-the-wild-17.vmx", 2, "scsi0:0 scsi0:1",
	  "esx8.0-win11-with-second-disk-in-subfolder.vmdk" },
	{ "manageiq-smartstate__test-extract-data__test_vmware_config.vmx", 4,
	  "scsi0:0 scsi0:1 scsi0:2 scsi0:3", "ManageIQ.vmdk" },
	/* ISO images and "auto detect" not counted */
	{ "illertimes-FreeBSD-Project__FreeBSd2.vmx", 1, "ide1:1",
	  "FreeBSd2.vmdk" },
	{ "illertimes-FreeBSD-Project__Ubuntu_64-bit.vmx", 1, "scsi0:0",
	  "Ubuntu 64-bit.vmdk" },
	{ "virt-manager__virtconv-vmx_output__virtimage2vmx_test1.vmx", 0, "",
	  NULL },
	{ "dissect-hypervisor__tests-data__encrypted.vmx", 0, "", NULL },
	{ "libvirt__vmx2xmldata__gsx-in-the-wild-4.vmx", 1, "ide0:0",
	  "Debian-System1-0-cl2.vmdk" },
};

START_TEST(disks_in_corpus)
{
	const struct corpus_disks *c = &corpus_disks[_i];
	char *path = corpus_path("vmx", c->file);
	vmdk_vmx_disk *disks;
	char *text, nodes[1024];
	desc_dict *vmx;
	size_t count, len, i, pos = 0;
	desc_error err;

	if (path == NULL) {
		fprintf(stderr, "SKIP %s: no corpus at $VMDKIT_CORPUS\n", c->file);
		return;
	}
	vmx = parse_file(path, &text, &len);
	ck_assert_int_eq(vmdk_vmx_disks(vmx, &disks, &count, &err), DESC_OK);
	ck_assert_uint_eq(count, c->count);
	nodes[0] = '\0';
	for (i = 0; i < count; i++) {
		pos += (size_t)snprintf(nodes + pos, sizeof(nodes) - pos, "%s%s",
					i ? " " : "", disks[i].node);
		ck_assert_uint_gt(disks[i].line, 0);
	}
	ck_assert_str_eq(nodes, c->nodes);
	if (c->first_file != NULL)
		ck_assert_str_eq(disks[0].file_name, c->first_file);
	else
		ck_assert_ptr_null(disks);
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

/* The line reported is the fileName line of the file. */
START_TEST(disk_line_numbers)
{
	char *path = corpus_path("vmx", "virt-v2v__tests__test-i-vmx-7.vmx");
	vmdk_vmx_disk *disks;
	char *text, *p;
	desc_dict *vmx;
	size_t count, len, i;
	unsigned line = 1;

	if (path == NULL) {
		fprintf(stderr, "SKIP disk_line_numbers: no corpus\n");
		return;
	}
	vmx = parse_file(path, &text, &len);
	ck_assert_int_eq(vmdk_vmx_disks(vmx, &disks, &count, NULL), DESC_OK);
	ck_assert_uint_eq(count, 2);
	for (i = 0; i < count; i++) {
		char want[256];

		/* find the text of line disks[i].line */
		line = 1;
		for (p = text; line < disks[i].line; p++)
			if (*p == '\n')
				line++;
		snprintf(want, sizeof(want), "%s.fileName = \"%s\"",
			 disks[i].node, disks[i].file_name);
		ck_assert_int_eq(strncmp(p, want, strlen(want)), 0);
	}
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

/* Every corpus .vmx: disks listed, each a .vmdk. */
START_TEST(disks_every_corpus_file)
{
	const char *corpus = getenv("VMDKIT_CORPUS");
	char dir[4096];
	struct dirent *de;
	unsigned files = 0;
	DIR *d;

	if (corpus == NULL || corpus[0] == '\0') {
		fprintf(stderr, "SKIP disks_every_corpus_file: no corpus\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/vmx", corpus);
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "SKIP disks_every_corpus_file: no %s\n", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char *path = corpus_path("vmx", de->d_name), *text;
		vmdk_vmx_disk *disks;
		desc_dict *vmx;
		size_t count, len, i;

		if (de->d_name[0] == '.' || path == NULL) {
			free(path);
			continue;
		}
		vmx = parse_file(path, &text, &len);
		ck_assert_int_eq(vmdk_vmx_disks(vmx, &disks, &count, NULL), DESC_OK);
		for (i = 0; i < count; i++) {
			size_t n = strlen(disks[i].file_name);

			ck_assert_uint_ge(n, 5);
			ck_assert_int_eq(strcasecmp(disks[i].file_name + n - 5, ".vmdk"), 0);
		}
		vmdk_vmx_disks_free(disks, count);
		desc_dict_free(vmx);
		free(text);
		free(path);
		files++;
	}
	closedir(d);
	ck_assert_uint_ge(files, 20);
}
END_TEST

/* ------------------------------------------------------------------ */
/* vmdk_vmx_disks rules on small inputs                                */
/* ------------------------------------------------------------------ */

static const struct disk_rule {
	const char *name;
	const char *text;
	const char *want; /* "node=file@line ..." */
} disk_rules[] = {
	{ "present FALSE skipped (any case)",
	  "scsi0:0.present = \"false\"\nscsi0:0.fileName = \"a.vmdk\"\n"
	  "scsi0:1.present = \"TRUE\"\nscsi0:1.fileName = \"b.vmdk\"\n",
	  "scsi0:1=b.vmdk@4" },
	{ "no present key counts",
	  "sata0:2.fileName = \"c.vmdk\"\n", "sata0:2=c.vmdk@1" },
	{ "cdrom device types skipped",
	  "ide1:0.deviceType = \"cdrom-image\"\nide1:0.fileName = \"x.vmdk\"\n"
	  "ide0:1.deviceType = \"atapi-cdrom\"\nide0:1.fileName = \"y.vmdk\"\n"
	  "sata0:0.devicetype = \"CDROM-RAW\"\nsata0:0.filename = \"z.vmdk\"\n"
	  "ide0:0.deviceType = \"ata-hardDisk\"\nide0:0.fileName = \"d.vmdk\"\n",
	  "ide0:0=d.vmdk@8" },
	{ "upper-case keys and extension",
	  "SCSI1:2.FILENAME = \"BIG.VMDK\"\n", "scsi1:2=BIG.VMDK@1" },
	{ "not a .vmdk",
	  "scsi0:0.fileName = \"disk.raw\"\nide1:0.fileName = \"auto detect\"\n"
	  "sata0:0.fileName = \"emptyBackingString\"\n"
	  "scsi0:1.fileName = \"a.vmdk.bak\"\n", "" },
	{ "not a disk node",
	  "scsi0.fileName = \"a.vmdk\"\nusb:0.fileName = \"b.vmdk\"\n"
	  "floppy0.fileName = \"c.vmdk\"\nscsi0:0.fileNameX = \"d.vmdk\"\n"
	  "xscsi0:0.fileName = \"e.vmdk\"\nscsi:0.fileName = \"f.vmdk\"\n"
	  "scsi0:.fileName = \"g.vmdk\"\n", "" },
	{ "duplicate fileName counted once, at its last line",
	  "scsi0:0.fileName = \"old.vmdk\"\nnvme0:0.fileName = \"n.vmdk\"\n"
	  "scsi0:0.FileName = \"new.vmdk\"\n",
	  "nvme0:0=n.vmdk@2 scsi0:0=new.vmdk@3" },
	{ "escaped name decoded",
	  "scsi0:0.fileName = \"a|22b.vmdk\"\n", "scsi0:0=a\"b.vmdk@1" },
	{ "huge unit number refused, not wrapped",
	  "scsi99999999999999999999999:0.fileName = \"a.vmdk\"\n", "" },
};

START_TEST(disk_rules_table)
{
	const struct disk_rule *c = &disk_rules[_i];
	desc_dict *vmx = parse_text(c->text, strlen(c->text), "r.vmx");
	vmdk_vmx_disk *disks;
	size_t count, i, pos = 0;
	char got[1024];

	ck_assert_int_eq(vmdk_vmx_disks(vmx, &disks, &count, NULL), DESC_OK);
	got[0] = '\0';
	for (i = 0; i < count; i++)
		pos += (size_t)snprintf(got + pos, sizeof(got) - pos, "%s%s=%s@%u",
					i ? " " : "", disks[i].node,
					disks[i].file_name, disks[i].line);
	ck_assert_msg(strcmp(got, c->want) == 0, "%s: got '%s', want '%s'",
		      c->name, got, c->want);
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* vmx_prepare_leaf                                                    */
/* ------------------------------------------------------------------ */

START_TEST(leaf_golden)
{
	char *path = data_path("master.vmx"), *text;
	desc_dict *vmx;
	size_t len;
	desc_error err;

	vmx = parse_file(path, &text, &len);
	ck_assert_int_eq(vmx_prepare_leaf(vmx, "web-01", "scsi0:0",
					  "8.10 Core-000001.vmdk", &err), DESC_OK);
	assert_dict_equals_file(vmx, "master-leaf.vmx");
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

/* Keys no leaf may keep (from a master that had them all). */
static const char *const identity_keys[] = {
	"uuid.bios", "uuid.location", "vc.uuid", "vm.genid", "vm.genidX",
	"ethernet0.generatedAddress", "ethernet0.generatedAddressOffset",
	"ethernet1.address", "sched.swap.derivedName", "checkpoint.vmState",
	"suspend.mainMemFile", "extendedConfigFile", "migrate.hostLog",
	"vmxstats.filename", "fileSearchPath", "answer.msg.uuid.altered",
	"scsi0:0.mode", "scsi0:0.redo",
};

START_TEST(leaf_removes_identity)
{
	char *path = data_path("master.vmx"), *text;
	desc_dict *vmx, *master;
	size_t len;

	vmx = parse_file(path, &text, &len);
	master = parse_text(text, len, "master.vmx");
	/* The fixture really has the key, so removing it is a real change. */
	ck_assert_msg(desc_dict_get(master, identity_keys[_i]) != NULL,
		      "fixture lacks %s", identity_keys[_i]);
	ck_assert_int_eq(vmx_prepare_leaf(vmx, "web-01", "scsi0:0", "d.vmdk",
					  NULL), DESC_OK);
	ck_assert_msg(desc_dict_get(vmx, identity_keys[_i]) == NULL,
		      "%s kept", identity_keys[_i]);
	desc_dict_free(master);
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

static const char *const leaf_values[][2] = {
	{ "displayName", "web-01" },
	{ "nvram", "web-01.nvram" },
	{ "uuid.action", "create" },
	{ "scsi0:0.fileName", "d.vmdk" },
	{ "scsi0:0.present", "TRUE" },
	{ "scsi0.present", "TRUE" },
	{ "ethernet0.addressType", "generated" },
	{ "ethernet1.addressType", "generated" },
	{ "sata0:1.fileName", "/Users/me/iso/install.iso" },
	/* the other disk is the caller's to re-point (vmx_point_disk) */
	{ "scsi0:1.fileName", "/Volumes/data/shared-data.vmdk" },
	{ "scsi0:1.redo", "" },
	{ "annotation", "master\nline two" },
	{ "memsize", "2048" },
};

START_TEST(leaf_sets_values)
{
	char *path = data_path("master.vmx"), *text;
	desc_dict *vmx;
	size_t len;

	vmx = parse_file(path, &text, &len);
	ck_assert_int_eq(vmx_prepare_leaf(vmx, "web-01", "scsi0:0", "d.vmdk",
					  NULL), DESC_OK);
	ck_assert_ptr_nonnull(desc_dict_get(vmx, leaf_values[_i][0]));
	ck_assert_str_eq(desc_dict_get(vmx, leaf_values[_i][0]),
			 leaf_values[_i][1]);
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

/* Lines of text (without endings), split in place. */
static size_t split_lines(char *text, size_t len, char ***out)
{
	size_t n = 0, i, start = 0;
	char **lines = malloc((len + 2) * sizeof(*lines));

	ck_assert_ptr_nonnull(lines);
	for (i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n')
			continue;
		if (i == len && start == len)
			break;
		if (i < len)
			text[i] = '\0';
		if (i > start && text[i - 1] == '\r')
			text[i - 1] = '\0';
		lines[n++] = text + start;
		start = i + 1;
	}
	*out = lines;
	return n;
}

/* Could vmx_prepare_leaf legitimately change or drop this entry? */
static bool touchable(const char *key, const char *value)
{
	static const char *const edited[] = {
		"displayName", "nvram", "uuid.action", "uuid.bios",
		"uuid.location", "vc.uuid", "vm.genid", "vm.genidX",
		"sched.swap.derivedName", "checkpoint.vmState",
		"extendedConfigFile", "migrate.hostLog", "vmxstats.filename",
		"answer.msg.uuid.altered", "fileSearchPath", "scsi0.present",
	};
	size_t i, n = strlen(value);

	for (i = 0; i < LEN(edited); i++)
		if (strcasecmp(key, edited[i]) == 0)
			return true;
	/* addressType may become "generated", addresses go */
	if (strncasecmp(key, "ethernet", 8) == 0)
		return true;
	if (n >= 5 && (strcasecmp(value + n - 5, ".vmss") == 0 ||
		       strcasecmp(value + n - 5, ".vmem") == 0 ||
		       strcasecmp(value + n - 5, ".vswp") == 0))
		return true;
	/* only the leaf's own disk node; other disks stay as they are */
	return strncasecmp(key, "scsi0:0.", 8) == 0;
}

/*
 * On every corpus .vmx: no identity key survives, and every line the leaf
 * has no reason to touch comes out byte-identical and in order.
 */
START_TEST(leaf_every_corpus_file_keeps_the_rest)
{
	const char *corpus = getenv("VMDKIT_CORPUS");
	char dir[4096];
	struct dirent *de;
	unsigned files = 0;
	DIR *d;

	if (corpus == NULL || corpus[0] == '\0') {
		fprintf(stderr, "SKIP leaf_every_corpus_file: no corpus\n");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/vmx", corpus);
	d = opendir(dir);
	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *path = corpus_path("vmx", de->d_name), *text, *out;
		char **in_lines, **out_lines;
		vmdk_vmx_disk *disks;
		desc_dict *vmx, *orig;
		size_t len, out_len, nin, nout, ndisks, i, j = 0, k;
		bool crlf;

		if (de->d_name[0] == '.' || path == NULL) {
			free(path);
			continue;
		}
		vmx = parse_file(path, &text, &len);
		orig = parse_text(text, len, path);
		ck_assert_int_eq(vmdk_vmx_disks(orig, &disks, &ndisks, NULL), DESC_OK);
		ck_assert_int_eq(vmx_prepare_leaf(vmx, "leaf one", "scsi0:0",
						  "leaf-000001.vmdk", NULL), DESC_OK);
		for (k = 0; k < LEN(identity_keys); k++)
			if (strncmp(identity_keys[k], "scsi0:", 6) != 0)
				ck_assert_msg(desc_dict_get(vmx, identity_keys[k]) == NULL,
					      "%s: %s kept", de->d_name, identity_keys[k]);
		ck_assert_str_eq(desc_dict_get(vmx, "scsi0:0.fileName"),
				 "leaf-000001.vmdk");
		ck_assert_str_eq(desc_dict_get(vmx, "displayName"), "leaf one");
		out = write_dict(vmx, &out_len);
		crlf = len > 1 && memchr(text, '\r', len) != NULL;
		if (crlf) /* appended lines follow the file's CRLF */
			for (i = 0; i < out_len; i++)
				if (out[i] == '\n')
					ck_assert_msg(i > 0 && out[i - 1] == '\r',
						      "%s: bare LF in output", de->d_name);
		nin = split_lines(text, len, &in_lines);
		nout = split_lines(out, out_len, &out_lines);
		for (i = 0; i < nin; i++) {
			size_t e;
			bool skip = false;

			for (e = 0; e < desc_dict_count(orig); e++)
				if (desc_dict_line_at(orig, e) == i + 1)
					skip = touchable(desc_dict_key_at(orig, e),
							 desc_dict_value_at(orig, e));
			if (skip)
				continue;
			while (j < nout && strcmp(out_lines[j], in_lines[i]) != 0)
				j++;
			ck_assert_msg(j < nout, "%s: line %zu '%s' lost or moved",
				      de->d_name, i + 1, in_lines[i]);
			j++;
		}
		free(in_lines);
		free(out_lines);
		free(out);
		vmdk_vmx_disks_free(disks, ndisks);
		desc_dict_free(orig);
		desc_dict_free(vmx);
		free(text);
		free(path);
		files++;
	}
	closedir(d);
	ck_assert_uint_ge(files, 20);
}
END_TEST

/* A lower-case `filename` key keeps its spelling. */
START_TEST(leaf_keeps_key_spelling)
{
	const char *text = "scsi0:0.present = \"true\"\nscsi0:0.filename = \"fedora11.vmdk\"\n";
	const char *want = "scsi0:0.present = \"TRUE\"\nscsi0:0.filename = \"leaf.vmdk\"\n"
			   "displayName = \"x\"\nnvram = \"x.nvram\"\n"
			   "uuid.action = \"create\"\nscsi0.present = \"TRUE\"\n";
	desc_dict *vmx = parse_text(text, strlen(text), "l.vmx");
	size_t len;
	char *out;

	ck_assert_int_eq(vmx_prepare_leaf(vmx, "x", "scsi0:0", "leaf.vmdk", NULL),
			 DESC_OK);
	out = write_dict(vmx, &len);
	ck_assert_str_eq(out, want);
	free(out);
	desc_dict_free(vmx);
}
END_TEST

/* Pointing a CD node at the disk makes it a disk; other disks stay. */
START_TEST(leaf_on_other_node)
{
	char *path = data_path("master.vmx"), *text;
	vmdk_vmx_disk *disks;
	desc_dict *vmx;
	size_t len, count;

	vmx = parse_file(path, &text, &len);
	ck_assert_int_eq(vmx_prepare_leaf(vmx, "w", "SATA0:1", "w.vmdk", NULL),
			 DESC_OK);
	ck_assert_ptr_null(desc_dict_get(vmx, "sata0:1.deviceType"));
	ck_assert_str_eq(desc_dict_get(vmx, "sata0.present"), "TRUE");
	ck_assert_str_eq(desc_dict_get(vmx, "scsi0:0.mode"), "independent-persistent");
	ck_assert_int_eq(vmdk_vmx_disks(vmx, &disks, &count, NULL), DESC_OK);
	ck_assert_uint_eq(count, 3);
	ck_assert_str_eq(disks[0].node, "scsi0:0");
	ck_assert_str_eq(disks[0].file_name, "8.10 Core.vmdk");
	ck_assert_str_eq(disks[2].node, "sata0:1");
	ck_assert_str_eq(disks[2].file_name, "w.vmdk");
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

/* A two-disk leaf: the second node is re-pointed in place. */
START_TEST(point_second_disk)
{
	char *path = data_path("master.vmx"), *text, *out, *want;
	desc_dict *vmx, *golden;
	size_t len, out_len, want_len;
	desc_error err;

	vmx = parse_file(path, &text, &len);
	ck_assert_int_eq(vmx_prepare_leaf(vmx, "web-01", "scsi0:0",
					  "8.10 Core-000001.vmdk", NULL), DESC_OK);
	ck_assert_int_eq(vmx_point_disk(vmx, "scsi0:1", "shared-data-000001.vmdk",
					&err), DESC_OK);
	/* Same as the one-disk golden except the scsi0:1 lines. */
	free(path);
	path = data_path("master-leaf.vmx");
	want = read_all(path, &want_len);
	golden = parse_text(want, want_len, "golden");
	ck_assert_int_eq(desc_dict_set(golden, "scsi0:1.fileName",
				       "shared-data-000001.vmdk", NULL), DESC_OK);
	ck_assert_uint_eq(desc_dict_unset(golden, "scsi0:1.redo"), 1);
	free(want);
	want = write_dict(golden, &want_len);
	out = write_dict(vmx, &out_len);
	ck_assert_str_eq(out, want);
	ck_assert_int_eq(vmx_point_disk(vmx, "scsi0", "x.vmdk", &err), DESC_E_ARG);
	ck_assert_int_eq(vmx_point_disk(vmx, "ide0:1", "", &err), DESC_E_ARG);
	free(out);
	free(want);
	desc_dict_free(golden);
	desc_dict_free(vmx);
	free(text);
	free(path);
}
END_TEST

/* The nvram name never leaves the bundle, whatever the display name. */
START_TEST(nvram_name_stays_in_bundle)
{
	desc_dict *vmx;

	ck_assert_int_eq(vmx_new_default("../up/C:\\x", "scsi0:0", "d.vmdk", &vmx,
					 NULL), DESC_OK);
	ck_assert_str_eq(desc_dict_get(vmx, "displayName"), "../up/C:\\x");
	ck_assert_str_eq(desc_dict_get(vmx, "nvram"), ".._up_C__x.nvram");
	ck_assert_int_eq(vmx_prepare_leaf(vmx, "a/b", "scsi0:0", "d.vmdk", NULL),
			 DESC_OK);
	ck_assert_str_eq(desc_dict_get(vmx, "nvram"), "a_b.nvram");
	desc_dict_free(vmx);
}
END_TEST

/* Names we write are UTF-8: refused in a .vmx declaring another charset. */
static const struct encoding_case {
	const char *text;
	const char *display;
	const char *file;
	desc_status want;
	const char *message;
} encoding_cases[] = {
	{ ".encoding = \"Shift_JIS\"\n", "caf\xc3\xa9", "a.vmdk", DESC_E_REFUSED,
	  "non-ASCII display name 'caf\xc3\xa9' in a .vmx encoded as 'Shift_JIS' (expected an ASCII display name, or a UTF-8 .vmx)" },
	{ ".encoding = \"windows-1252\"\n", "cafe", "d\xc3\xa9.vmdk", DESC_E_REFUSED,
	  "non-ASCII disk file 'd\xc3\xa9.vmdk' in a .vmx encoded as 'windows-1252' (expected an ASCII disk file, or a UTF-8 .vmx)" },
	{ ".encoding = \"Shift_JIS\"\n", "plain", "a.vmdk", DESC_OK, NULL },
	{ ".encoding = \"utf-8\"\n", "caf\xc3\xa9", "\xc3\xa9.vmdk", DESC_OK, NULL },
	{ "memsize = \"1\"\n", "caf\xc3\xa9", "a.vmdk", DESC_OK, NULL },
};

START_TEST(leaf_encoding)
{
	const struct encoding_case *c = &encoding_cases[_i];
	desc_dict *vmx = parse_text(c->text, strlen(c->text), "e.vmx");
	desc_error err;
	char *out;
	size_t len;

	ck_assert_int_eq(vmx_prepare_leaf(vmx, c->display, "scsi0:0", c->file,
					  &err), c->want);
	if (c->message != NULL) {
		ck_assert_str_eq(err.message, c->message);
		out = write_dict(vmx, &len);
		ck_assert_str_eq(out, c->text); /* refused before any edit */
		free(out);
	} else {
		ck_assert_str_eq(desc_dict_get(vmx, "displayName"), c->display);
	}
	desc_dict_free(vmx);
}
END_TEST

static const struct bad_arg {
	const char *display;
	const char *node;
	const char *file;
	const char *message;
} bad_args[] = {
	{ "x", "scsi0", "a.vmdk",
	  "invalid disk node 'scsi0' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)" },
	{ "x", "usb0:0", "a.vmdk",
	  "invalid disk node 'usb0:0' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)" },
	{ "x", "scsi0:0x", "a.vmdk",
	  "invalid disk node 'scsi0:0x' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)" },
	{ "x", NULL, "a.vmdk",
	  "invalid disk node '' (expected scsiN:M, sataN:M, nvmeN:M or ideN:M)" },
	{ "", "scsi0:0", "a.vmdk",
	  "missing display name (expected a non-empty name)" },
	{ NULL, "scsi0:0", "a.vmdk",
	  "missing display name (expected a non-empty name)" },
	{ "x", "scsi0:0", "", "missing disk file (expected a .vmdk name)" },
};

START_TEST(leaf_bad_args)
{
	const struct bad_arg *c = &bad_args[_i];
	const char *text = "memsize = \"1\"\n";
	desc_dict *vmx = parse_text(text, strlen(text), "b.vmx"), *out;
	desc_error err;
	size_t len;
	char *written;

	ck_assert_int_eq(vmx_prepare_leaf(vmx, c->display, c->node, c->file, &err),
			 DESC_E_ARG);
	ck_assert_str_eq(err.message, c->message);
	written = write_dict(vmx, &len);
	ck_assert_str_eq(written, text);
	free(written);
	out = (desc_dict *)&err;
	ck_assert_int_eq(vmx_new_default(c->display, c->node, c->file, &out, &err),
			 DESC_E_ARG);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(err.message, c->message);
	desc_dict_free(vmx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* vmx_new_default                                                     */
/* ------------------------------------------------------------------ */

START_TEST(default_golden)
{
	vmdk_vmx_disk *disks;
	desc_dict *vmx;
	size_t count;

	ck_assert_int_eq(vmx_new_default("web-01", "scsi0:0",
					 "8.10 Core-000001.vmdk", &vmx, NULL),
			 DESC_OK);
	assert_dict_equals_file(vmx, "default.vmx");
	ck_assert_int_eq(vmdk_vmx_disks(vmx, &disks, &count, NULL), DESC_OK);
	ck_assert_uint_eq(count, 1);
	ck_assert_str_eq(disks[0].node, "scsi0:0");
	vmdk_vmx_disks_free(disks, count);
	desc_dict_free(vmx);
}
END_TEST

static const struct default_node {
	const char *node;
	const char *present_key; /* NULL: none expected */
	bool virtual_dev;
} default_nodes[] = {
	{ "scsi1:3", "scsi1.present", true },
	{ "nvme0:0", "nvme0.present", false },
	{ "sata0:2", "sata0.present", false },
	{ "ide0:1", NULL, false },
};

START_TEST(default_other_controllers)
{
	const struct default_node *c = &default_nodes[_i];
	desc_dict *vmx;
	char key[64];

	ck_assert_int_eq(vmx_new_default("n", c->node, "n.vmdk", &vmx, NULL),
			 DESC_OK);
	snprintf(key, sizeof(key), "%s.fileName", c->node);
	ck_assert_str_eq(desc_dict_get(vmx, key), "n.vmdk");
	if (c->present_key != NULL)
		ck_assert_str_eq(desc_dict_get(vmx, c->present_key), "TRUE");
	ck_assert_ptr_null(desc_dict_get(vmx, "ide0.present"));
	ck_assert_ptr_null(desc_dict_get(vmx, "ide1.present"));
	ck_assert_int_eq(desc_dict_get(vmx, "scsi1.virtualDev") != NULL,
			 c->virtual_dev);
	desc_dict_free(vmx);
}
END_TEST

/* ------------------------------------------------------------------ */
/* .vmsd                                                               */
/* ------------------------------------------------------------------ */

START_TEST(vmsd_golden_negative_low)
{
	/* 2025-11-25 00:00:00 UTC: low 32 bits have the top bit set. */
	const uint64_t t = 1764028800000000ull;
	desc_dict *vmsd;

	ck_assert_uint_ne(t & 0x80000000u, 0);
	ck_assert_int_eq(vmsd_new_single("Base", "Don't delete!", "scsi0:0",
					 "8.10 Core.vmdk", t, &vmsd, NULL), DESC_OK);
	assert_dict_equals_file(vmsd, "single.vmsd");
	ck_assert_str_eq(desc_dict_get(vmsd, "snapshot0.createTimeLow"),
			 "-167813120");
	desc_dict_free(vmsd);
}
END_TEST

static const struct vmsd_time {
	uint64_t us;
	const char *high;
	const char *low;
} vmsd_times[] = {
	{ 0, "0", "0" },
	{ 0x7fffffffull, "0", "2147483647" },
	{ 0x80000000ull, "0", "-2147483648" },
	{ 0xffffffffull, "0", "-1" },
	{ 0x100000000ull, "1", "0" },
	/* sql.vmsd snapshot0 in the corpus: 2012-04-23 */
	{ (310880ull << 32) + (uint32_t)-365210110, "310880", "-365210110" },
	/* vps.vmsd */
	{ (310596ull << 32) + 938781285u, "310596", "938781285" },
};

START_TEST(vmsd_create_time)
{
	const struct vmsd_time *c = &vmsd_times[_i];
	desc_dict *vmsd;

	ck_assert_int_eq(vmsd_new_single(NULL, NULL, "nvme0:0", "d.vmdk", c->us,
					 &vmsd, NULL), DESC_OK);
	ck_assert_str_eq(desc_dict_get(vmsd, "snapshot0.createTimeHigh"), c->high);
	ck_assert_str_eq(desc_dict_get(vmsd, "snapshot0.createTimeLow"), c->low);
	ck_assert_str_eq(desc_dict_get(vmsd, "snapshot0.displayName"), "Base");
	ck_assert_str_eq(desc_dict_get(vmsd, "snapshot0.description"),
			 "Don't delete!");
	ck_assert_str_eq(desc_dict_get(vmsd, "snapshot0.disk0.node"), "nvme0:0");
	desc_dict_free(vmsd);
}
END_TEST

START_TEST(vmsd_escapes_and_bad_args)
{
	desc_dict *vmsd;
	desc_error err;

	ck_assert_int_eq(vmsd_new_single("say \"hi\"", "a|b", "scsi0:0", "d.vmdk",
					 1, &vmsd, NULL), DESC_OK);
	ck_assert_str_eq(desc_dict_get_raw(vmsd, "snapshot0.displayName"),
			 "say |22hi|22");
	ck_assert_str_eq(desc_dict_get_raw(vmsd, "snapshot0.description"), "a|7Cb");
	desc_dict_free(vmsd);
	ck_assert_int_eq(vmsd_new_single(NULL, NULL, "disk0", "d.vmdk", 1, &vmsd,
					 &err), DESC_E_ARG);
	ck_assert_ptr_null(vmsd);
	ck_assert_int_eq(vmsd_new_single(NULL, NULL, "scsi0:0", "", 1, &vmsd,
					 &err), DESC_E_ARG);
	ck_assert_str_eq(err.message, "missing disk file (expected a .vmdk name)");
}
END_TEST

static const struct vmsd_disks_case {
	const char *file;
	size_t count;
	const char *want; /* "N.M=file(node)@line ..." */
} vmsd_disks_cases[] = {
	{ "virtuallyhyper__2012-04-09-snapshot-troubleshooting__vps.vmsd", 1,
	  "0.0=vps.vmdk(scsi0:0)@10" },
	{ "virtuallyhyper__2012-04-27-missing-descriptors__sql.vmsd", 4,
	  "0.0=sql.vmdk(scsi0:0)@10 1.0=sql-000002.vmdk(scsi0:0)@19 "
	  "2.0=sql-000001.vmdk(scsi0:0)@28 3.0=sql-000003.vmdk(scsi0:0)@38" },
	{ "xen-orchestra__vmware-explorer-vmsd-test__VMSD_4_SNAPSHOTS.vmsd", 4,
	  "0.0=test flo_0.vmdk(scsi0:0)@11 1.0=test flo_0-000001.vmdk(scsi0:0)@20 "
	  "2.0=test flo_0-000002.vmdk(scsi0:0)@27 3.0=test flo_0-000003.vmdk(scsi0:0)@34" },
	{ "cochetyv-ProjectGGZ__Windows_10_x64.vmsd", 0, "" },
	{ "virt-manager__virtconv-test-vmx-zip__minix-MS-DOS.vmsd", 0, "" },
};

static void format_vmsd_disks(const vmsd_snapshot_disk *d, size_t n, char *buf,
			      size_t size)
{
	size_t i, pos = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, "%s%lu.%lu=%s(%s)@%u",
					i ? " " : "", d[i].snapshot, d[i].disk,
					d[i].file_name, d[i].node ? d[i].node : "-",
					d[i].line);
}

START_TEST(vmsd_two_disks)
{
	const char *nodes[] = { "scsi0:0", "sata0:3" };
	const char *files[] = { "a.vmdk", "b.vmdk" };
	const char *want =
		".encoding = \"UTF-8\"\n"
		"snapshot.lastUID = \"1\"\n"
		"snapshot.current = \"1\"\n"
		"snapshot0.uid = \"1\"\n"
		"snapshot0.displayName = \"Base\"\n"
		"snapshot0.description = \"Don't delete!\"\n"
		"snapshot0.createTimeHigh = \"0\"\n"
		"snapshot0.createTimeLow = \"-1\"\n"
		"snapshot0.numDisks = \"2\"\n"
		"snapshot0.disk0.fileName = \"a.vmdk\"\n"
		"snapshot0.disk0.node = \"scsi0:0\"\n"
		"snapshot0.disk1.fileName = \"b.vmdk\"\n"
		"snapshot0.disk1.node = \"sata0:3\"\n"
		"snapshot.numSnapshots = \"1\"\n";
	vmsd_snapshot_disk *disks;
	desc_dict *vmsd;
	desc_error err;
	size_t len, count;
	char *out, got[256];

	ck_assert_int_eq(vmsd_new_snapshot(NULL, NULL, nodes, files, 2,
					   0xffffffffu, &vmsd, &err), DESC_OK);
	out = write_dict(vmsd, &len);
	ck_assert_str_eq(out, want);
	free(out);
	ck_assert_int_eq(vmsd_snapshot_disks(vmsd, &disks, &count, NULL), DESC_OK);
	format_vmsd_disks(disks, count, got, sizeof(got));
	ck_assert_str_eq(got, "0.0=a.vmdk(scsi0:0)@10 0.1=b.vmdk(sata0:3)@12");
	vmsd_snapshot_disks_free(disks, count);
	desc_dict_free(vmsd);
	ck_assert_int_eq(vmsd_new_snapshot(NULL, NULL, nodes, files, 0, 1, &vmsd,
					   &err), DESC_E_ARG);
	ck_assert_ptr_null(vmsd);
	ck_assert_str_eq(err.message, "no disk for the snapshot (expected at least one)");
}
END_TEST

START_TEST(vmsd_disks_corpus)
{
	const struct vmsd_disks_case *c = &vmsd_disks_cases[_i];
	char *path = corpus_path("vmsd", c->file), *text, got[2048];
	vmsd_snapshot_disk *disks;
	desc_dict *vmsd;
	size_t len, count;

	if (path == NULL) {
		fprintf(stderr, "SKIP %s: no corpus\n", c->file);
		return;
	}
	vmsd = parse_file(path, &text, &len);
	ck_assert_int_eq(vmsd_snapshot_disks(vmsd, &disks, &count, NULL), DESC_OK);
	ck_assert_uint_eq(count, c->count);
	format_vmsd_disks(disks, count, got, sizeof(got));
	ck_assert_str_eq(got, c->want);
	vmsd_snapshot_disks_free(disks, count);
	desc_dict_free(vmsd);
	free(text);
	free(path);
}
END_TEST

START_TEST(vmsd_disks_of_our_own)
{
	const char *text = "snapshot0.disk1.FILENAME = \"b.vmdk\"\n"
			   "snapshot2.disk0.fileName = \"c.vmdk\"\n"
			   "snapshot2.disk0.node = \"sata0:0\"\n"
			   "snapshotX.disk0.fileName = \"no.vmdk\"\n"
			   "snapshot0.disk.fileName = \"no.vmdk\"\n";
	vmsd_snapshot_disk *disks;
	desc_dict *vmsd;
	size_t count;
	char got[1024];

	ck_assert_int_eq(vmsd_new_single(NULL, NULL, "scsi0:0", "a.vmdk", 5,
					 &vmsd, NULL), DESC_OK);
	ck_assert_int_eq(vmsd_snapshot_disks(vmsd, &disks, &count, NULL), DESC_OK);
	format_vmsd_disks(disks, count, got, sizeof(got));
	ck_assert_str_eq(got, "0.0=a.vmdk(scsi0:0)@10");
	vmsd_snapshot_disks_free(disks, count);
	desc_dict_free(vmsd);

	vmsd = parse_text(text, strlen(text), "o.vmsd");
	ck_assert_int_eq(vmsd_snapshot_disks(vmsd, &disks, &count, NULL), DESC_OK);
	format_vmsd_disks(disks, count, got, sizeof(got));
	ck_assert_str_eq(got, "0.1=b.vmdk(-)@1 2.0=c.vmdk(sata0:0)@2");
	vmsd_snapshot_disks_free(disks, count);
	desc_dict_free(vmsd);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Allocation failure (run under ASan for leaks)                       */
/* ------------------------------------------------------------------ */

START_TEST(allocation_failure)
{
	char *path = data_path("master.vmx"), *text;
	size_t len;
	unsigned long nth;
	int done = 0;

	text = read_all(path, &len);
	for (nth = 1; nth < 5000 && !done; nth++) {
		desc_dict *vmx = NULL, *def = NULL, *vmsd = NULL;
		vmdk_vmx_disk *disks = NULL;
		vmsd_snapshot_disk *sdisks = NULL;
		size_t ndisks = 0, nsdisks = 0;
		desc_status st;

		desc_test_fail_allocation(nth);
		st = desc_dict_parse(text, len, "m.vmx", &vmx, NULL, NULL);
		if (st == DESC_OK)
			st = vmdk_vmx_disks(vmx, &disks, &ndisks, NULL);
		if (st == DESC_OK)
			st = vmx_prepare_leaf(vmx, "web-01", "scsi0:0",
					      "8.10 Core-000001.vmdk", NULL);
		if (st == DESC_OK)
			st = vmx_new_default("leaf", "scsi0:0", "l.vmdk", &def, NULL);
		if (st == DESC_OK)
			st = vmsd_new_single(NULL, NULL, "scsi0:0", "b.vmdk", 7,
					     &vmsd, NULL);
		if (st == DESC_OK)
			st = vmsd_snapshot_disks(vmsd, &sdisks, &nsdisks, NULL);
		desc_test_fail_allocation(0);
		if (st == DESC_OK) {
			done = 1;
			ck_assert_uint_eq(ndisks, 2);
			ck_assert_uint_eq(nsdisks, 1);
			assert_dict_equals_file(vmx, "master-leaf.vmx");
		} else {
			ck_assert_int_eq(st, DESC_E_NOMEM);
		}
		vmsd_snapshot_disks_free(sdisks, nsdisks);
		vmdk_vmx_disks_free(disks, ndisks);
		desc_dict_free(vmsd);
		desc_dict_free(def);
		desc_dict_free(vmx);
	}
	ck_assert(done);
	free(text);
	free(path);
}
END_TEST

static Suite *vmx_suite(void)
{
	Suite *s = suite_create("vmx");
	TCase *tc = tcase_create("vmx");

	tcase_add_loop_test(tc, disks_in_corpus, 0, (int)LEN(corpus_disks));
	tcase_add_test(tc, disk_line_numbers);
	tcase_add_test(tc, disks_every_corpus_file);
	tcase_add_loop_test(tc, disk_rules_table, 0, (int)LEN(disk_rules));
	tcase_add_test(tc, leaf_golden);
	tcase_add_loop_test(tc, leaf_removes_identity, 0, (int)LEN(identity_keys));
	tcase_add_loop_test(tc, leaf_sets_values, 0, (int)LEN(leaf_values));
	tcase_add_test(tc, leaf_every_corpus_file_keeps_the_rest);
	tcase_add_test(tc, leaf_keeps_key_spelling);
	tcase_add_test(tc, leaf_on_other_node);
	tcase_add_test(tc, point_second_disk);
	tcase_add_test(tc, nvram_name_stays_in_bundle);
	tcase_add_loop_test(tc, leaf_encoding, 0, (int)LEN(encoding_cases));
	tcase_add_loop_test(tc, leaf_bad_args, 0, (int)LEN(bad_args));
	tcase_add_test(tc, default_golden);
	tcase_add_loop_test(tc, default_other_controllers, 0, (int)LEN(default_nodes));
	tcase_add_test(tc, vmsd_golden_negative_low);
	tcase_add_loop_test(tc, vmsd_create_time, 0, (int)LEN(vmsd_times));
	tcase_add_test(tc, vmsd_escapes_and_bad_args);
	tcase_add_test(tc, vmsd_two_disks);
	tcase_add_loop_test(tc, vmsd_disks_corpus, 0, (int)LEN(vmsd_disks_cases));
	tcase_add_test(tc, vmsd_disks_of_our_own);
	tcase_add_test(tc, allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vmx_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
