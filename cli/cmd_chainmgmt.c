/*
 * cmd_chainmgmt.c - the commands that look after bases and their leaves:
 *   vmdkit dependents BASE DIR...            who depends on this base
 *   vmdkit relocate BASEDIR NEWDIR --leaves DIR...   move a base, fix leaves
 *   vmdkit repair-cid LEAF                   re-link a delta whose parent's
 *                                            CID changed but data did not
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

static int finish_output(out_node *root, enum out_format format, int rc)
{
	if (root != NULL && !out_emit(stdout, root, format))
		rc = EXIT_SYSTEM;
	if (fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
	out_free(root);
	return rc;
}

/* ------------------------------------------------------------------ */
/* dependents                                                          */
/* ------------------------------------------------------------------ */

int cmd_dependents(const struct cli_command *cmd, int argc, char **argv)
{
	enum out_format format = OUT_TEXT;
	vmdk_dependent_list list;
	struct cli_parser p;
	desc_error err;
	out_node *root;
	const char *arg;
	int c;

	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		if (c == OPT_FORMAT && !cli_parse_format(cmd, arg, &format)) {
			cli_parser_done(&p);
			return EXIT_USAGE;
		}
	}
	cli_parser_done(&p);
	if (!cli_operands(cmd, argc - p.optind, 2, -1))
		return EXIT_USAGE;

	memset(&list, 0, sizeof(list));
	desc_error_clear(&err);
	if (vmdk_dependents(argv[p.optind],
			    (const char *const *)argv + p.optind + 1,
			    (size_t)(argc - p.optind - 1), &list,
			    &err) != DESC_OK)
		return cli_report_error(&err);
	if (format == OUT_TEXT) {
		/* one line each, easy to feed to other tools */
		for (size_t i = 0; i < list.count; i++)
			printf("%s\t%s\n",
			       vmdk_dependent_kind_name(list.items[i].kind),
			       list.items[i].path);
		vmdk_dependents_clear(&list);
		return finish_output(NULL, format, EXIT_CLEAN);
	}
	root = out_new_list();
	for (size_t i = 0; i < list.count; i++) {
		out_node *m = out_add_map(root, NULL);

		out_add_str(m, "path", list.items[i].path);
		out_add_str(m, "kind",
			    vmdk_dependent_kind_name(list.items[i].kind));
		out_add_uint(m, "depth", list.items[i].depth);
	}
	vmdk_dependents_clear(&list);
	return finish_output(root, format, EXIT_CLEAN);
}

/* ------------------------------------------------------------------ */
/* relocate                                                            */
/* ------------------------------------------------------------------ */

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
	return finish_output(root, format, rc);
}

/* ------------------------------------------------------------------ */
/* repair-cid                                                          */
/* ------------------------------------------------------------------ */

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
		return finish_output(NULL, format, rc);
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
	return finish_output(root, format, rc);
}
