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

/* Runs the creation with its steps reported in `format`: text prints
 * them only in a dry run (a real run says "created"), YAML/JSON give
 * {disk, dryRun, steps, status}. */
static int run_create(const char *path, const char *parent,
		      const char *hint, const vmdk_create_options *opt,
		      vmdk_change_options *change, enum out_format format)
{
	struct cli_steps steps;
	desc_findings notes;
	out_node *root = NULL;
	desc_error err;
	desc_status st;
	int rc = EXIT_CLEAN;

	desc_error_clear(&err);
	desc_findings_init(&notes);
	cli_steps_init(&steps, format);
	if (format != OUT_TEXT) {
		root = out_new_map();
		out_add_str(root, "disk", path);
		out_add_bool(root, "dryRun", change->dry_run);
		steps.list = out_add_list(root, "steps");
	}
	/* A real run in text keeps its one line. */
	if (format != OUT_TEXT || change->dry_run)
		change->report = cli_steps_step;
	change->report_ctx = &steps;
	change->notes = &notes;
	if (parent != NULL)
		st = vmdk_delta_create_with(path, parent, hint, change,
					    &err);
	else
		st = vmdk_disk_create_with(path, opt, change, &err);
	cli_print_notes(&notes);
	desc_findings_clear(&notes);
	if (root != NULL)
		out_add_str(root, "status", st == DESC_OK ? "ok" : "failed");
	if (st != DESC_OK)
		rc = cli_report_error(&err);
	else if (change->dry_run && format == OUT_TEXT)
		fputs("(dry run: nothing was written)\n", stderr);
	else if (format == OUT_TEXT && parent != NULL)
		printf("created %s (delta of %s)\n", path, parent);
	else if (format == OUT_TEXT)
		printf("created %s (%s)\n", path,
		       vmdk_create_type_name(opt->type));
	return cli_finish_output(root, format, rc);
}

int cmd_create(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_create_options opt = { .type = VMDK_CREATE_MONOLITHIC_SPARSE };
	vmdk_change_options change = { .dry_run = false };
	const char *size = NULL, *type = NULL, *parent = NULL, *hint = NULL;
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
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
		case OPT_DRY_RUN: change.dry_run = true; break;
		case OPT_FORMAT:
			if (!cli_parse_format(cmd, arg, &format)) {
				cli_parser_done(&p);
				return EXIT_USAGE;
			}
			break;
		}
	}
	cli_parser_done(&p);
	if (!cli_operands(cmd, argc - p.optind, 1, 1))
		return EXIT_USAGE;
	path = argv[p.optind];

	if (parent != NULL) {
		if (size != NULL || type != NULL || opt.adapter_type != NULL ||
		    opt.hw_version != NULL)
			return cli_usage_error(cmd, "--parent takes its size, "
					       "type and adapter from the "
					       "parent; drop --size, --type, "
					       "--adapter, --hw-version");
		return run_create(path, parent, hint, &opt, &change, format);
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
	return run_create(path, NULL, NULL, &opt, &change, format);
}
