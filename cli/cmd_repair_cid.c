/*
 * cmd_repair_cid.c - vmdkit repair-cid LEAF: re-link a delta whose
 * parent's CID changed but whose data provably did not.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

int cmd_repair_cid(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_repair_options opt;
	vmdk_repair_result result;
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
	out_node *root = NULL;
	desc_error err;
	desc_status st;
	const char *arg;
	int c, rc = EXIT_CLEAN;

	memset(&opt, 0, sizeof(opt));
	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 'f': opt.force = true; break;
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

	/* the result line says what happened; no step list */
	memset(&result, 0, sizeof(result));
	desc_error_clear(&err);
	st = vmdk_repair_cid(argv[p.optind], &opt, &result, &err);
	if (st != DESC_OK)
		return cli_report_error(&err);
	if (format == OUT_TEXT) {
		if (!result.repaired)
			printf("%s: chain holds, nothing to repair\n",
			       argv[p.optind]);
		else
			printf("%s: parentCID %08x -> %08x (parent '%s')%s%s\n",
			       result.child, result.old_parent_cid,
			       result.new_parent_cid, result.parent,
			       result.forced ? ", forced without proof" : "",
			       opt.dry_run ? " (dry run: nothing was written)" :
					     "");
		return cli_finish_output(NULL, format, rc);
	}
	root = out_new_map();
	out_add_bool(root, "repaired", result.repaired);
	out_add_bool(root, "dryRun", opt.dry_run);
	if (result.repaired) {
		out_add_bool(root, "forced", result.forced);
		out_add_str(root, "child", result.child);
		out_add_str(root, "parent", result.parent);
		out_add_strf(root, "oldParentCID", "%08x", result.old_parent_cid);
		out_add_strf(root, "newParentCID", "%08x", result.new_parent_cid);
	}
	return cli_finish_output(root, format, rc);
}
