/*
 * cmd_base.c - `vmdkit base SOURCE BASEDIR`: a master (.vmx or .vmdk)
 * becomes a write-protected base folder.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

int cmd_base(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_base_options opt = { .snapshots = VMDK_SNAPSHOTS_REFUSE };
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
	struct cli_steps steps;
	out_node *root = NULL;
	desc_error err;
	desc_status st;
	const char *arg;
	char *parent = NULL;
	bool made_parent = false;
	int c, rc = EXIT_CLEAN;

	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 'c': opt.copy = true; break;
		case 'A': opt.absolute = true; break;
		case 'L': opt.strip_long_content_id = true; break;
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
	if (!cli_operands(cmd, argc - p.optind, 2, 2))
		return EXIT_USAGE;

	cli_steps_init(&steps, format);
	if (format != OUT_TEXT) {
		root = out_new_map();
		out_add_str(root, "source", argv[p.optind]);
		out_add_str(root, "base", argv[p.optind + 1]);
		out_add_bool(root, "dryRun", opt.dry_run);
		steps.list = out_add_list(root, "steps");
	}
	opt.report = cli_steps_report;
	opt.report_ctx = &steps;
	desc_error_clear(&err);
	/* "Base/Master": Base is made when missing, and removed again if
	 * the base cannot be made, so a failure leaves the tree as it was */
	parent = cli_dirname(argv[p.optind + 1]);
	if (!opt.dry_run &&
	    cli_mkdir_missing(parent, &made_parent, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	st = vmdk_base_make(argv[p.optind], argv[p.optind + 1], &opt, &err);
	if (st != DESC_OK && made_parent)
		rmdir(parent);
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
out:
	free(parent);
	out_free(root);
	return rc;
}
