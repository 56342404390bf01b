/*
 * cmd_info.c - `vmdkit info DISK.vmdk`: what a disk is.
 *
 * First the descriptor (a separate file or the one embedded in a
 * monolithicSparse file), then, unless --descriptor-only, what the extent
 * files hold on disk and the chain down to the base.  Everything is opened
 * read-only.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

/* Header keys shown, in the order a descriptor usually has them. */
static const char *const header_keys[] = {
	"version", "encoding", "CID", "parentCID", "isNativeSnapshot",
	"createType", "parentFileNameHint",
};

static void add_size(out_node *parent, const char *key, uint64_t sectors)
{
	out_node *m = out_add_map(parent, key);
	char human[32];

	out_add_uint(m, "sectors", sectors);
	if (sectors <= UINT64_MAX / VMDK_SECTOR_SIZE) {
		out_add_uint(m, "bytes", sectors * VMDK_SECTOR_SIZE);
		cli_human_size(sectors * VMDK_SECTOR_SIZE, human,
			       sizeof(human));
		out_add_str(m, "human", human);
	}
}

static void add_cid(out_node *parent, const char *key, bool has, uint32_t cid)
{
	if (has)
		out_add_strf(parent, key, "%08x", cid);
	else
		out_add_null(parent, key);
}

/* A DDB key written twice: the last line wins (as desc_ddb_get says),
 * and a YAML/JSON map cannot hold the key twice. */
static bool key_repeated_later(const desc_descriptor *desc, size_t index)
{
	const char *key = desc_ddb_key_at(desc, index);

	for (size_t j = index + 1; j < desc_ddb_count(desc); j++)
		if (strcasecmp(desc_ddb_key_at(desc, j), key) == 0)
			return true;
	return false;
}

static void describe_descriptor(out_node *root, const char *path,
				const desc_descriptor *desc, bool embedded)
{
	out_node *list, *ddb;
	uint64_t capacity;

	out_add_str(root, "file", path);
	out_add_bool(root, "embedded", embedded);
	for (size_t i = 0; i < sizeof(header_keys) / sizeof(header_keys[0]);
	     i++) {
		const char *value = desc_header_get(desc, header_keys[i]);

		if (value != NULL)
			out_add_str(root, header_keys[i], value);
	}
	if (desc_capacity(desc, &capacity))
		add_size(root, "capacity", capacity);
	else
		out_add_str(root, "capacity", "overflow");

	list = out_add_list(root, "extents");
	for (size_t i = 0; i < desc_extent_count(desc); i++) {
		const desc_extent *e = desc_extent_at(desc, i);
		out_node *m = out_add_map(list, NULL);

		out_add_str(m, "access", desc_access_name(e->access));
		out_add_uint(m, "sectors", e->sectors);
		out_add_str(m, "type", desc_extent_type_name(e->type));
		out_add_str(m, "path", e->path);
		if (e->has_offset)
			out_add_uint(m, "offset", e->offset);
	}
	ddb = out_add_map(root, "ddb");
	for (size_t i = 0; i < desc_ddb_count(desc); i++)
		if (!key_repeated_later(desc, i))
			out_add_str(ddb, desc_ddb_key_at(desc, i),
				    desc_ddb_value_at(desc, i));
}

/* Adds on-disk facts to each extent entry; returns an exit code or -1. */
static int describe_extents(out_node *root, const char *path,
			    const desc_descriptor *desc)
{
	vmdk_disk *disk = NULL;
	desc_error err;
	out_node *ext;
	size_t i = 0;
	int rc = -1;

	desc_error_clear(&err);
	if (vmdk_disk_open(path, 0, &disk, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	/* Walk the extent list built by describe_descriptor in step. */
	ext = out_find(root, "extents");
	for (out_node *m = out_first(ext); m != NULL && i < desc_extent_count(desc);
	     m = out_next(m), i++) {
		vmdk_extent_info info;

		if (vmdk_disk_extent_info(disk, i, &info, &err) != DESC_OK) {
			rc = cli_report_error(&err);
			goto out;
		}
		if (!info.opened)
			continue;
		out_add_uint(m, "fileSize", info.file_size);
		out_add_uint(m, "allocatedBytes", info.allocated_bytes);
		if (info.sparse) {
			out_node *s = out_add_map(m, "sparse");

			out_add_uint(s, "version", info.header.version);
			out_add_uint(s, "capacity", info.header.capacity);
			out_add_uint(s, "grainSize", info.header.grain_size);
			out_add_uint(s, "allocatedGrains",
				     info.allocated_grains);
			out_add_bool(s, "compressed",
				     info.header.compress_algorithm != 0);
			out_add_bool(s, "uncleanShutdown",
				     info.header.unclean_shutdown != 0);
		}
	}
out:
	vmdk_disk_free(disk);
	return rc;
}

/* Adds the chain; returns EXIT_PROBLEMS when broken, an error exit code
 * when it cannot be walked, else -1. */
static int describe_chain(out_node *root, const char *path)
{
	vmdk_chain chain;
	desc_error err;
	out_node *list;
	int rc = -1;

	memset(&chain, 0, sizeof(chain));
	desc_error_clear(&err);
	if (vmdk_chain_walk(path, &chain, &err) != DESC_OK)
		return cli_report_error(&err);
	list = out_add_list(root, "chain");
	for (size_t i = 0; i < chain.count; i++) {
		const vmdk_chain_link *l = &chain.links[i];
		out_node *m = out_add_map(list, NULL);

		out_add_str(m, "path", l->path);
		out_add_str(m, "createType", l->create_type);
		add_cid(m, "CID", l->has_cid, l->cid);
		add_cid(m, "parentCID", l->has_parent, l->parent_cid);
	}
	if (chain.status == DESC_OK) {
		out_add_str(root, "chainStatus", "ok");
	} else {
		char buf[DESC_ERROR_FILE_MAX + DESC_ERROR_MESSAGE_MAX + 32];

		desc_error_format(&chain.error, buf, sizeof(buf));
		out_add_strf(root, "chainStatus", "broken: %s", buf);
		rc = EXIT_PROBLEMS;
	}
	vmdk_chain_clear(&chain);
	return rc;
}

static bool has_vmx_suffix(const char *path)
{
	size_t n = strlen(path);

	return n >= 4 && strcasecmp(path + n - 4, ".vmx") == 0;
}

/* `vmdkit info VM.vmx`: the VM's disks, how deep each chain is and
 * whether the VM is a linked clone of a base kept outside its folder. */
static int describe_vm(const char *path, enum out_format format)
{
	vmdk_vm_description vm;
	desc_error err;
	out_node *root, *disks;
	int rc = EXIT_CLEAN;

	memset(&vm, 0, sizeof(vm));
	desc_error_clear(&err);
	if (vmdk_vm_describe(path, &vm, &err) != DESC_OK)
		return cli_report_error(&err);
	root = out_new_map();
	out_add_str(root, "file", path);
	out_add_str(root, "displayName", vm.display_name);
	out_add_bool(root, "linkedClone", vm.linked_clone);
	disks = out_add_list(root, "disks");
	for (size_t i = 0; i < vm.count; i++) {
		const vmdk_vm_disk_info *d = &vm.disks[i];
		out_node *m = out_add_map(disks, NULL);

		out_add_str(m, "node", d->node);
		out_add_str(m, "file", d->file);
		out_add_uint(m, "depth", d->depth);
		out_add_bool(m, "linked", d->linked);
		out_add_str(m, "base", d->base);
		if (d->base_dir != NULL)
			out_add_str(m, "baseDir", d->base_dir);
		if (d->chain_status == DESC_OK) {
			out_add_str(m, "chainStatus", "ok");
		} else {
			out_add_strf(m, "chainStatus", "broken: %s",
				     d->chain_message ? d->chain_message :
				     desc_status_name(d->chain_status));
			rc = EXIT_PROBLEMS;
		}
	}
	vmdk_vm_description_clear(&vm);
	rc = cli_finish_output(root, format, rc);
	return rc;
}

int cmd_info(const struct cli_command *cmd, int argc, char **argv)
{
	enum out_format format = OUT_TEXT;
	bool descriptor_only = false, embedded = false;
	desc_descriptor *desc = NULL;
	struct cli_parser p;
	out_node *root = NULL;
	desc_error err;
	const char *arg, *path;
	int c, rc = EXIT_CLEAN, r;

	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		if (c == OPT_FORMAT && !cli_parse_format(cmd, arg, &format)) {
			cli_parser_done(&p);
			return EXIT_USAGE;
		}
		if (c == 'D')
			descriptor_only = true;
	}
	cli_parser_done(&p);
	if (!cli_operands(cmd, argc - p.optind, 1, 1))
		return EXIT_USAGE;
	path = argv[p.optind];

	if (has_vmx_suffix(path))
		return describe_vm(path, format);
	desc_error_clear(&err);
	if (cli_load_descriptor(path, &desc, NULL, &embedded, &err) != DESC_OK)
		return cli_report_error(&err);
	root = out_new_map();
	describe_descriptor(root, path, desc, embedded);
	if (!descriptor_only && strcmp(path, "-") != 0) {
		r = describe_extents(root, path, desc);
		if (r >= 0)
			rc = r;
		else if ((r = describe_chain(root, path)) >= 0)
			rc = r;
	}
	rc = cli_finish_output(root, format, rc);
	desc_free(desc);
	return rc;
}
