/*
 * cmd_promote.c - `vmdkit promote LEAF`: a linked clone becomes a
 * standalone full clone (its whole chain flattened into a new disk).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

int cmd_promote(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_promote_options opt;
	enum cli_progress_mode mode = CLI_PROGRESS_AUTO;
	enum out_format format = OUT_TEXT;
	struct cli_progress bar;
	struct cli_steps steps;
	struct cli_parser p;
	out_node *root = NULL;
	const char *arg, *type = NULL;
	desc_error err;
	desc_status st;
	int c, rc = EXIT_CLEAN;

	memset(&opt, 0, sizeof(opt));
	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 'o': opt.output_dir = arg; break;
		case 't': type = arg; break;
		case OPT_PROGRESS: mode = CLI_PROGRESS_ON; break;
		case OPT_NO_PROGRESS: mode = CLI_PROGRESS_OFF; break;
		case OPT_DRY_RUN: opt.dry_run = true; break;
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
	if (type != NULL) {
		if (!vmdk_create_type_from_name(type, &opt.type) ||
		    opt.type == VMDK_CREATE_TWOGB_FLAT)
			return cli_usage_error(cmd, "unknown disk type '%s' "
					       "(expected monolithicSparse, "
					       "twoGbMaxExtentSparse or "
					       "monolithicFlat)", type);
		opt.type_set = true;
	}
	cli_steps_init(&steps, format);
	if (format != OUT_TEXT) {
		root = out_new_map();
		out_add_str(root, "leaf", argv[p.optind]);
		if (opt.output_dir != NULL)
			out_add_str(root, "output", opt.output_dir);
		out_add_bool(root, "dryRun", opt.dry_run);
		steps.list = out_add_list(root, "steps");
	}
	opt.report = cli_steps_report;
	opt.report_ctx = &steps;
	cli_progress_init(&bar, "promote", opt.dry_run ? CLI_PROGRESS_OFF : mode);
	opt.progress = cli_progress_update;
	opt.progress_ctx = &bar;
	desc_error_clear(&err);
	st = vmdk_promote(argv[p.optind], &opt, &err);
	cli_progress_finish(&bar);
	if (root != NULL) {
		out_add_str(root, "status", st == DESC_OK ? "ok" : "failed");
		if (!out_emit(stdout, root, format))
			rc = EXIT_SYSTEM;
	}
	if (st != DESC_OK)
		rc = cli_report_error(&err);
	else if (opt.dry_run && format == OUT_TEXT)
		fputs("(dry run: nothing was written)\n", stderr);
	if (fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
	out_free(root);
	return rc;
}
