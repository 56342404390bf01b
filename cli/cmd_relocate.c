/*
 * cmd_relocate.c - vmdkit relocate BASEDIR NEWDIR --leaves DIR...: move a
 * base and rewrite every leaf that points at it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

int cmd_relocate(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_relocate_options opt;
	enum out_format format = OUT_TEXT;
	struct cli_steps steps;
	struct cli_parser p;
	const char **leaves = NULL;
	size_t nleaves = 0;
	char *parent;
	bool made_parent = false;
	out_node *root = NULL;
	desc_error err;
	desc_status st;
	const char *arg;
	int c, rc = EXIT_CLEAN;

	memset(&opt, 0, sizeof(opt));
	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 'l':
			leaves = xrealloc(leaves, nleaves + 1, sizeof(*leaves));
			leaves[nleaves++] = arg;
			break;
		case OPT_DRY_RUN:
			opt.dry_run = true;
			break;
		case OPT_FORMAT:
			if (!cli_parse_format(cmd, arg, &format)) {
				cli_parser_done(&p);
				free(leaves);
				return EXIT_USAGE;
			}
			break;
		}
	}
	cli_parser_done(&p);
	if (!cli_operands(cmd, argc - p.optind, 2, -1)) {
		free(leaves);
		return EXIT_USAGE;
	}
	/* `--leaves A B C`: getopt hands B and C over as operands */
	for (int i = p.optind + 2; i < argc; i++) {
		leaves = xrealloc(leaves, nleaves + 1, sizeof(*leaves));
		leaves[nleaves++] = argv[i];
	}
	cli_steps_init(&steps, format);
	if (format != OUT_TEXT) {
		root = out_new_map();
		out_add_str(root, "base", argv[p.optind]);
		out_add_str(root, "to", argv[p.optind + 1]);
		out_add_bool(root, "dryRun", opt.dry_run);
		steps.list = out_add_list(root, "steps");
	}
	opt.report = cli_steps_report;
	opt.report_ctx = &steps;
	desc_error_clear(&err);
	/* as with base: a missing parent of NEWDIR is made, and removed
	 * again if the move fails */
	parent = cli_dirname(argv[p.optind + 1]);
	if (!opt.dry_run &&
	    cli_mkdir_missing(parent, &made_parent, &err) != DESC_OK)
		st = err.code;
	else
		st = vmdk_relocate(argv[p.optind], argv[p.optind + 1], leaves,
				   nleaves, &opt, &err);
	if (st != DESC_OK && made_parent)
		rmdir(parent);
	free(parent);
	if (root != NULL)
		out_add_str(root, "status", st == DESC_OK ? "ok" : "failed");
	if (st != DESC_OK)
		rc = cli_report_error(&err);
	else if (opt.dry_run && format == OUT_TEXT)
		fputs("(dry run: nothing was written)\n", stderr);
	free(leaves);
	return cli_finish_output(root, format, rc);
}
