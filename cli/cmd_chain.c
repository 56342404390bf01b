/*
 * cmd_chain.c - `vmdkit chain DISK`: every link from a leaf down to its
 * base, and whether each parentCID still matches its parent's CID.
 */
#include "config.h"

#include <string.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

static void add_cid(out_node *m, const char *key, bool has, uint32_t cid)
{
	if (has)
		out_add_strf(m, key, "%08x", cid);
	else
		out_add_null(m, key);
}

int cmd_chain(const struct cli_command *cmd, int argc, char **argv)
{
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
	vmdk_chain chain;
	desc_error err;
	out_node *root, *links;
	const char *arg;
	int c, rc;

	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		if (c == OPT_FORMAT && !cli_parse_format(cmd, arg, &format)) {
			cli_parser_done(&p);
			return EXIT_USAGE;
		}
	}
	cli_parser_done(&p);
	if (!cli_operands(cmd, argc - p.optind, 1, 1))
		return EXIT_USAGE;

	memset(&chain, 0, sizeof(chain));
	desc_error_clear(&err);
	if (vmdk_chain_walk(argv[p.optind], &chain, &err) != DESC_OK)
		return cli_report_error(&err);

	root = out_new_map();
	links = out_add_list(root, "links");
	for (size_t i = 0; i < chain.count; i++) {
		const vmdk_chain_link *l = &chain.links[i];
		out_node *m = out_add_map(links, NULL);

		out_add_str(m, "path", l->path);
		out_add_str(m, "createType", l->create_type);
		add_cid(m, "CID", l->has_cid, l->cid);
		add_cid(m, "parentCID", l->has_parent, l->parent_cid);
		if (l->has_parent || l->parent_hint != NULL)
			out_add_str(m, "parentFileNameHint", l->parent_hint);
		out_add_uint(m, "capacity", l->capacity);
	}
	if (chain.status == DESC_OK) {
		out_add_str(root, "status", "ok");
		rc = EXIT_CLEAN;
	} else {
		char buf[DESC_ERROR_FILE_MAX + DESC_ERROR_MESSAGE_MAX + 32];

		desc_error_format(&chain.error, buf, sizeof(buf));
		out_add_str(root, "status", "broken");
		out_add_str(root, "error", buf);
		rc = EXIT_PROBLEMS;
	}
	rc = cli_finish_output(root, format, rc);
	vmdk_chain_clear(&chain);
	return rc;
}
