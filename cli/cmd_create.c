/*
 * cmd_create.c - `vmdkit create`: a new empty disk, or an empty delta over
 * a parent (like `qemu-img create -b`).
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

static const char *const adapters[] = {
	"lsilogic", "ide", "buslogic", "legacyESX",
};

static bool adapter_known(const char *name)
{
	for (size_t i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++)
		if (strcmp(name, adapters[i]) == 0)
			return true;
	return false;
}

int cmd_create(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_MONOLITHIC_SPARSE };
	const char *size = NULL, *type = NULL, *parent = NULL, *hint = NULL;
	struct cli_parser p;
	desc_error err;
	const char *arg, *path;
	uint64_t version;
	int c;

	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 's': size = arg; break;
		case 't': type = arg; break;
		case 'a': opt.adapter_type = arg; break;
		case 'H': opt.hw_version = arg; break;
		case 'p': parent = arg; break;
		case 'P': hint = arg; break;
		}
	}
	cli_parser_done(&p);
	if (!cli_operands(cmd, argc - p.optind, 1, 1))
		return EXIT_USAGE;
	path = argv[p.optind];
	desc_error_clear(&err);

	if (parent != NULL) {
		if (size != NULL || type != NULL || opt.adapter_type != NULL ||
		    opt.hw_version != NULL)
			return cli_usage_error(cmd, "--parent takes its size, "
					       "type and adapter from the "
					       "parent; drop --size, --type, "
					       "--adapter, --hw-version");
		if (vmdk_delta_create(path, parent, hint, &err) != DESC_OK)
			return cli_report_error(&err);
		printf("created %s (delta of %s)\n", path, parent);
		return EXIT_CLEAN;
	}
	if (hint != NULL)
		return cli_usage_error(cmd, "--parent-hint needs --parent");
	if (size == NULL)
		return cli_usage_error(cmd, "missing --size (or --parent)");
	if (!cli_parse_size(size, &opt.size_bytes))
		return cli_usage_error(cmd, "bad size '%s' (expected a number "
				       "of bytes > 0, optionally with a K, M, "
				       "G or T suffix)", size);
	if (type != NULL && !vmdk_create_type_from_name(type, &opt.type))
		return cli_usage_error(cmd, "unknown disk type '%s' (expected "
				       "monolithicSparse, twoGbMaxExtentSparse, "
				       "monolithicFlat or twoGbMaxExtentFlat)",
				       type);
	if (opt.adapter_type != NULL && !adapter_known(opt.adapter_type))
		return cli_usage_error(cmd, "unknown adapter '%s' (expected "
				       "lsilogic, ide, buslogic or legacyESX)",
				       opt.adapter_type);
	if (opt.hw_version != NULL &&
	    (!cli_parse_u64(opt.hw_version, &version) || version == 0 ||
	     version > 99))
		return cli_usage_error(cmd, "bad hardware version '%s' "
				       "(expected a number from 1 to 99)",
				       opt.hw_version);
	if (vmdk_disk_create(path, &opt, &err) != DESC_OK)
		return cli_report_error(&err);
	printf("created %s (%s)\n", path, vmdk_create_type_name(opt.type));
	return EXIT_CLEAN;
}
