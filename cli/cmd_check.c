/*
 * cmd_check.c - `vmdkit check PATH...`: findings for descriptors, .vmx and
 * .vmsd files, VM bundle folders and (with --recursive) folder trees,
 * before import.  The checks themselves are the library's
 * (vmdk_check_paths, codes in vmdk/CHECKS.md); this file chooses the
 * options, prints and maps the result to an exit code: 0 clean, 5
 * warnings only, 1 errors (info findings do not count).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

void cli_print_findings(const desc_findings *list, enum out_format format)
{
	if (format == OUT_TEXT) {
		for (size_t i = 0; i < list->count; i++) {
			const desc_finding *f = &list->items[i];
			const char *file = f->file ? f->file : "-";

			if (f->line != 0)
				printf("%s:%u: ", file, f->line);
			else
				printf("%s: ", file);
			printf("%s: %s [%s]\n", desc_severity_name(f->severity),
			       f->message, f->code ? f->code : "");
		}
		return;
	}
	out_node *root = out_new_list();

	for (size_t i = 0; i < list->count; i++) {
		const desc_finding *f = &list->items[i];
		out_node *m = out_add_map(root, NULL);

		out_add_str(m, "file", f->file);
		if (f->line != 0)
			out_add_uint(m, "line", f->line);
		else
			out_add_null(m, "line");
		out_add_str(m, "severity", desc_severity_name(f->severity));
		out_add_str(m, "code", f->code);
		out_add_str(m, "message", f->message);
	}
	out_emit(stdout, root, format);
	out_free(root);
}

int cli_findings_exit(const desc_findings *list)
{
	switch (desc_findings_max_severity(list)) {
	case DESC_SEV_ERROR:
		return EXIT_PROBLEMS;
	case DESC_SEV_WARNING:
		return EXIT_WARNINGS;
	default:
		return EXIT_CLEAN;
	}
}

static bool same_file(const desc_finding *a, const desc_finding *b)
{
	if (a->file == NULL || b->file == NULL)
		return a->file == b->file;
	return strcmp(a->file, b->file) == 0;
}

struct sort_key {
	size_t rank;  /* first position of this finding's file */
	unsigned line;
	size_t index; /* original position: keeps the sort stable */
};

static int key_cmp(const void *a, const void *b)
{
	const struct sort_key *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Findings grouped by file in the order files were first reported (the
 * library's: paths as given, folder entries by name), each file's in
 * line order, whole-file findings first.  The library may come back to a
 * file (a .vmx's disks are checked after its keys), so runs are merged. */
static void sort_by_file_and_line(desc_findings *list)
{
	struct sort_key *keys;
	desc_finding *sorted;
	size_t *heads, nheads = 0;

	if (list->count < 2)
		return;
	keys = xcalloc(list->count, sizeof(*keys));
	heads = xcalloc(list->count, sizeof(*heads));
	for (size_t i = 0; i < list->count; i++) {
		size_t rank = i;

		if (i > 0 && same_file(&list->items[i], &list->items[i - 1])) {
			rank = keys[i - 1].rank;
		} else {
			/* a new run: an earlier run of the same file? */
			for (size_t h = 0; h < nheads; h++)
				if (same_file(&list->items[heads[h]],
					      &list->items[i])) {
					rank = keys[heads[h]].rank;
					break;
				}
			heads[nheads++] = i;
		}
		keys[i].rank = rank;
		keys[i].line = list->items[i].line;
		keys[i].index = i;
	}
	qsort(keys, list->count, sizeof(*keys), key_cmp);
	sorted = xcalloc(list->count, sizeof(*sorted));
	for (size_t i = 0; i < list->count; i++)
		sorted[i] = list->items[keys[i].index];
	memcpy(list->items, sorted, list->count * sizeof(*sorted));
	free(sorted);
	free(heads);
	free(keys);
}

int cmd_check(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_check_options opt;
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
	desc_findings all;
	const char **confine = NULL;
	desc_error err;
	const char *arg;
	int c, rc;

	memset(&opt, 0, sizeof(opt));
	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 'r':
			opt.recursive = true;
			break;
		case 'd':
			opt.deep = true;
			break;
		case 'c':
			confine = xrealloc(confine, opt.confine_count + 1,
					   sizeof(*confine));
			confine[opt.confine_count++] = arg;
			break;
		case OPT_FORMAT:
			if (!cli_parse_format(cmd, arg, &format)) {
				cli_parser_done(&p);
				free(confine);
				return EXIT_USAGE;
			}
			break;
		}
	}
	cli_parser_done(&p);
	opt.confine = confine;
	if (!cli_operands(cmd, argc - p.optind, 1, -1)) {
		free(confine);
		return EXIT_USAGE;
	}
	for (int i = p.optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0 || argv[i][0] == '\0') {
			free(confine);
			return cli_usage_error(cmd, "check reads files and "
					       "folders, not '%s'", argv[i]);
		}
	}

	desc_findings_init(&all);
	desc_error_clear(&err);
	if (vmdk_check_paths((const char *const *)argv + p.optind,
			     (size_t)(argc - p.optind), &opt, &all,
			     &err) != DESC_OK) {
		desc_findings_clear(&all);
		free(confine);
		return cli_report_error(&err);
	}
	sort_by_file_and_line(&all);
	cli_print_findings(&all, format);
	rc = cli_findings_exit(&all);
	desc_findings_clear(&all);
	free(confine);
	if (fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
	return rc;
}
