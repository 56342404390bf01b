/*
 * cmd_verify.c - `vmdkit verify BASEDIR`: the base is unchanged since
 * `vmdkit base` wrote its manifest, and still write-protected.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

int cmd_verify(const struct cli_command *cmd, int argc, char **argv)
{
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
	desc_findings findings;
	desc_error err;
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

	desc_findings_init(&findings);
	desc_error_clear(&err);
	if (vmdk_base_verify(argv[p.optind], &findings, &err) != DESC_OK) {
		desc_findings_clear(&findings);
		return cli_report_error(&err);
	}
	cli_print_findings(&findings, format);
	rc = cli_findings_exit(&findings);
	if (format == OUT_TEXT && findings.count == 0)
		printf("%s: ok\n", argv[p.optind]);
	desc_findings_clear(&findings);
	if (fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
	return rc;
}
