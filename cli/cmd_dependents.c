/*
 * cmd_dependents.c - vmdkit dependents BASE DIR...: which leaves (deltas,
 * descriptor copies, .vmx) depend on this base.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

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
		return cli_finish_output(NULL, format, EXIT_CLEAN);
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
	return cli_finish_output(root, format, EXIT_CLEAN);
}
