/*
 * main.c - the vmdkit command table, dispatch, help generated from the
 * table, and the option parser every command uses.
 */
#include "config.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "descriptor/banned.h"

#define FORMAT_OPT { "format", OPT_FORMAT, "FORMAT", \
		     "output as text (default), yaml or json" }
#define DRY_RUN_OPT(what) { "dry-run", OPT_DRY_RUN, NULL, \
			    "print " what "; write nothing" }

static const struct cli_opt info_opts[] = {
	FORMAT_OPT,
	{ "descriptor-only", 'D', NULL,
	  "read only the descriptor: no extent files, no chain" },
	CLI_OPT_END,
};

static const struct cli_opt check_opts[] = {
	{ "recursive", 'r', NULL, "enter sub-folders of the folders given" },
	{ "deep", 'd', NULL,
	  "also walk sparse grain tables (read-only; slower)" },
	{ "confine", 'c', "DIR",
	  "report extent and parent paths that resolve outside DIR instead "
	  "of following them (repeatable; for untrusted bundles)" },
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt format_only_opts[] = {
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt create_opts[] = {
	{ "size", 's', "SIZE",
	  "virtual size: bytes, or with a K, M, G or T suffix (powers of 1024)" },
	{ "type", 't', "TYPE",
	  "monolithicSparse (default), twoGbMaxExtentSparse, monolithicFlat "
	  "or twoGbMaxExtentFlat" },
	{ "adapter", 'a', "ADAPTER",
	  "ddb.adapterType: lsilogic (default), ide, buslogic or legacyESX" },
	{ "hw-version", 'H', "N", "ddb.virtualHWVersion (default 4)" },
	{ "parent", 'p', "PARENT.vmdk",
	  "create an empty delta over PARENT instead of a new disk" },
	{ "parent-hint", 'P', "HINT",
	  "parentFileNameHint to write (default: PARENT relative to DISK)" },
	DRY_RUN_OPT("the steps"),
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt base_opts[] = {
	{ "copy", 'c', NULL, "copy the extents and leave the master intact "
			     "(default: move them)" },
	{ "absolute", 'A', NULL, "write absolute extent paths" },
	{ "strip-long-content-id", 'L', NULL, "also remove ddb.longContentID" },
	DRY_RUN_OPT("the plan"),
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt clone_opts[] = {
	{ "vmx", 'x', "MASTER.vmx",
	  "the .vmx each leaf's .vmx is copied from (default: a minimal one)" },
	{ "name", 'n', "NAME",
	  "leaf name; with --count a pattern with one %d or %0Nd" },
	{ "count", 'N', "N", "stamp N leaves into LEAFDIR" },
	{ "plan", 'p', "PLAN.yaml", "stamp the leaves listed in a plan file" },
	{ "memory", 'm', "MIB", "memsize of the leaf" },
	{ "cpus", 'C', "N", "numvcpus of the leaf" },
	{ "snapshot-name", 'S', "NAME", "snapshot name (default \"Base\")" },
	{ "snapshot-description", 'd', "TEXT",
	  "snapshot description (default \"Don't delete!\")" },
	{ "full", 'F', NULL,
	  "a full, independent copy: the base's extents are copied into the "
	  "leaf (reflink where possible), no delta, no snapshot" },
	{ "progress", OPT_PROGRESS, NULL,
	  "show a progress bar even when stderr is not a terminal" },
	{ "no-progress", OPT_NO_PROGRESS, NULL, "never show a progress bar" },
	{ "sync", 'Y', "MODE",
	  "when leaves reach the disk: leaf (fsync each leaf before it "
	  "appears; default for one leaf), batch (one filesystem sync, then "
	  "all leaves appear; default with --count and --plan) or none" },
	{ "jobs", 'j', "N",
	  "stamp with up to N threads under --sync batch (default: one per "
	  "CPU, at most 8; 1: one after the other)" },
	DRY_RUN_OPT("what would be written"),
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt promote_opts[] = {
	{ "output", 'o', "DIR",
	  "write the standalone disks into DIR and leave the leaf untouched "
	  "(default: replace the leaf's disks in place)" },
	{ "type", 't', "TYPE",
	  "monolithicSparse, twoGbMaxExtentSparse or monolithicFlat "
	  "(default: split when the leaf's disk is split)" },
	{ "progress", OPT_PROGRESS, NULL,
	  "show a progress bar even when stderr is not a terminal" },
	{ "no-progress", OPT_NO_PROGRESS, NULL, "never show a progress bar" },
	DRY_RUN_OPT("the plan"),
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt relocate_opts[] = {
	{ "leaves", 'l', "DIR",
	  "a folder of leaves whose paths into BASEDIR are rewritten "
	  "(repeatable; searched recursively)" },
	DRY_RUN_OPT("the plan"),
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt repair_opts[] = {
	{ "force", 'f', NULL,
	  "repair even without proof that the parent's data is unchanged" },
	DRY_RUN_OPT("what would change"),
	FORMAT_OPT,
	CLI_OPT_END,
};

static const struct cli_opt edit_opts[] = {
	DRY_RUN_OPT("the changed lines"),
	{ "force", 'f', NULL,
	  "write even when the edit makes the descriptor invalid" },
	CLI_OPT_END,
};

static const struct cli_opt fmt_opts[] = {
	DRY_RUN_OPT("the changed lines"),
	{ "force", 'f', NULL, "drop unknown header keys" },
	CLI_OPT_END,
};

static const struct cli_opt no_opts[] = {
	CLI_OPT_END,
};

const struct cli_command cli_commands[] = {
	{ "info", "DISK.vmdk|VM.vmx",
	  "what the disk is: type, capacity, CID/parentCID, extents, DDB, chain",
	  "Reads the descriptor (a separate file or embedded in a "
	  "monolithicSparse disk), then opens every extent read-only for its "
	  "size and sparse header, and walks the chain to the base.  For a "
	  ".vmx: each disk's chain depth and whether the VM is a linked clone "
	  "of a base outside its folder.  Exit 1 when a chain is broken.",
	  info_opts, cmd_info },
	{ "check", "PATH...",
	  "validate descriptors, .vmx, .vmsd, bundles or folders before import",
	  "Each finding is printed as FILE:LINE: severity: message [code] "
	  "(codes: vmdk/CHECKS.md).  A file that cannot be parsed is an "
	  "error finding; the other files are still checked.  Files are only "
	  "read.  Exit 0 clean, 5 warnings only, 1 errors.",
	  check_opts, cmd_check },
	{ "create", "DISK.vmdk --size SIZE [--type TYPE] | DELTA.vmdk --parent PARENT.vmdk",
	  "a new empty disk, or an empty delta over a parent",
	  "Files are created exclusively: an existing file is never "
	  "replaced.  The parent of a delta is only read.",
	  create_opts, cmd_create },
	{ "chain", "DISK.vmdk",
	  "print and verify the chain from a leaf down to its base",
	  "Every link from the disk to its base with its CID and parentCID. "
	  "Exit 0 when every link holds, 1 when one is broken.",
	  format_only_opts, cmd_chain },
	{ "base", "SOURCE BASEDIR",
	  "master (.vmx or .vmdk) -> protected base folder",
	  "Moves (or copies) the master's extents into BASEDIR, rewrites the "
	  "descriptor's extent paths, removes ddb.uuid, writes a manifest and "
	  "write-protects the base.",
	  base_opts, cmd_base },
	{ "clone", "BASE LEAFDIR",
	  "stamp one leaf (or many) from a base",
	  "One leaf: LEAFDIR is the new bundle folder.  Many: with --count or "
	  "--plan, LEAFDIR is the folder the leaves are created in.  Stops at "
	  "the first failure; leaves already stamped stay.",
	  clone_opts, cmd_clone },
	{ "verify", "BASEDIR",
	  "base unchanged since `base` (manifest) and still write-protected",
	  "Exit 0 when the base matches its manifest, 1 otherwise.",
	  format_only_opts, cmd_verify },
	{ "dependents", "BASE DIR...",
	  "which leaves depend on this base (before moving or deleting it)",
	  "BASE is a base folder or a base descriptor.  Every descriptor "
	  "copy, delta and .vmx under the DIRs (searched recursively, "
	  "symlinks not followed) whose chain reaches BASE is listed; files "
	  "are compared by device and inode.",
	  format_only_opts, cmd_dependents },
	{ "relocate", "BASEDIR NEWDIR --leaves DIR...",
	  "move a base and fix every leaf that points at it",
	  "BASEDIR is renamed to NEWDIR (same filesystem) and the extent "
	  "paths and parentFileNameHints that pointed into it are rewritten "
	  "in every descriptor under the --leaves folders.  All or nothing: "
	  "on failure the base is moved back and no leaf is changed.",
	  relocate_opts, cmd_relocate },
	{ "repair-cid", "LEAF.vmdk",
	  "re-link a delta whose parent's CID changed but whose data did not",
	  "At the first link whose parentCID disagrees with its parent's "
	  "CID, sets the parentCID when the parent's data is proven "
	  "unchanged (its extents lie in a vmdkit base whose manifest still "
	  "matches); otherwise refuses (exit 6) unless --force.",
	  repair_opts, cmd_repair_cid },
	{ "promote", "LEAF",
	  "linked clone -> standalone full clone (flatten the chain)",
	  "LEAF is a .vmx, a VM folder holding one .vmx, or a disk.  In "
	  "place, the new disk is staged and renamed in, the .vmx replaced "
	  "atomically, and the old delta and descriptor copy removed last; a "
	  "failure before the .vmx is replaced leaves the leaf as it was.  "
	  "Parents are only read.",
	  promote_opts, cmd_promote },
	{ "desc get", "DISK.vmdk KEY",
	  "print a header or ddb.* value (exit 1 when absent)", NULL,
	  no_opts, cmd_desc_get },
	{ "desc set", "DISK.vmdk KEY VALUE",
	  "set a header or ddb.* value, rewriting only that line",
	  "The file is replaced atomically and keeps its mode.  Read-only "
	  "files (a base) are refused.",
	  edit_opts, cmd_desc_set },
	{ "desc unset", "DISK.vmdk KEY",
	  "remove a header or ddb.* key", NULL, edit_opts, cmd_desc_unset },
	{ "desc repath", "DISK.vmdk INDEX NEWPATH",
	  "change the file name of extent INDEX (0-based)", NULL,
	  edit_opts, cmd_desc_repath },
	{ "desc fmt", "DISK.vmdk",
	  "rewrite a descriptor in the template every consumer reads alike",
	  "The header, extent lines and disk database are kept; comments, "
	  "blank lines among extents, odd spacing and CRLF are not.  Unknown "
	  "header keys make it refuse (--force drops them).",
	  fmt_opts, cmd_desc_fmt },
	{ "desc print", "DISK.vmdk|-",
	  "parse and write back a descriptor, .vmx or .vmsd to stdout "
	  "(byte-identical)", NULL,
	  no_opts, cmd_desc_print },
};

const size_t cli_command_count = sizeof(cli_commands) / sizeof(cli_commands[0]);

static const char exit_codes_text[] =
	"exit codes:\n"
	"  0  success; check, verify, chain: clean\n"
	"  1  problems found (check/verify errors, broken chain, desc "
	"get/unset: key absent)\n"
	"  2  usage error (bad option, missing or bad argument)\n"
	"  3  bad input file (syntax, invalid, bad format, too large, broken "
	"chain on open)\n"
	"  4  filesystem or system error (i/o, not found, out of memory)\n"
	"  5  check or verify found warnings only\n"
	"  6  refused for safety (target exists, VM in use, read-only base, "
	"an edit\n"
	"     that would make a descriptor invalid)\n";

/* ------------------------------------------------------------------ */
/* Help                                                                */
/* ------------------------------------------------------------------ */

static bool has_options(const struct cli_command *cmd)
{
	return cmd->opts[0].name != NULL;
}

void cli_print_usage(const struct cli_command *cmd, FILE *out)
{
	fprintf(out, "usage: vmdkit %s%s %s\n", cmd->name,
		has_options(cmd) ? " [options]" : "", cmd->synopsis);
}

/* Prints text wrapped at 76 columns (words are never split); lines after
 * the first start with `indent` spaces, the first continues at column
 * `col`. */
static void print_wrapped(FILE *out, const char *text, size_t indent,
			  size_t col)
{
	const char *p = text;
	bool first = true;

	while (*p != '\0') {
		size_t word = strcspn(p, " ");

		if (!first && col + 1 + word > 76) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fwrite(p, 1, word, out);
		col += word;
		first = false;
		p += word;
		while (*p == ' ')
			p++;
	}
	fputc('\n', out);
}

static void print_option(FILE *out, const char *name, const char *arg,
			 const char *help)
{
	char left[64];

	snprintf(left, sizeof(left), "--%s%s%s", name, arg ? " " : "",
		 arg ? arg : "");
	if (strlen(left) > 24)
		fprintf(out, "  %s\n%28s", left, "");
	else
		fprintf(out, "  %-24s  ", left);
	print_wrapped(out, help, 28, 28);
}

void cli_print_help(const struct cli_command *cmd, FILE *out)
{
	cli_print_usage(cmd, out);
	fprintf(out, "\n%s\n", cmd->summary);
	if (cmd->description != NULL) {
		fputc('\n', out);
		print_wrapped(out, cmd->description, 0, 0);
	}
	fputs("\noptions:\n", out);
	for (const struct cli_opt *o = cmd->opts; o->name != NULL; o++)
		print_option(out, o->name, o->arg, o->help);
	print_option(out, "help", NULL, "show this help");
}

static void print_main_help(FILE *out)
{
	fputs("usage: vmdkit COMMAND [options] ARGS...\n"
	      "       vmdkit help COMMAND\n"
	      "       vmdkit --version\n"
	      "\n"
	      "VMware virtual disks and linked clones, by editing files.\n"
	      "\ncommands:\n",
	      out);
	for (size_t i = 0; i < cli_command_count; i++)
		fprintf(out, "  %-12s  %s\n", cli_commands[i].name,
			cli_commands[i].summary);
	fputs("\n`vmdkit COMMAND --help` shows a command's options.  Errors go "
	      "to stderr as\nFILE:LINE: message; `-` means stdin or stdout "
	      "where it makes sense.\n\n",
	      out);
	fputs(exit_codes_text, out);
}

/* ------------------------------------------------------------------ */
/* Option parsing                                                      */
/* ------------------------------------------------------------------ */

#define OPT_HELP 'h'

void cli_parser_init(struct cli_parser *p, const struct cli_command *cmd,
		     int argc, char **argv)
{
	size_t n = 0;
	struct option *lo;
	char *so;
	size_t s = 0;

	while (cmd->opts[n].name != NULL)
		n++;
	lo = xcalloc(n + 2, sizeof(*lo));
	/* ':' first: a missing argument is reported as ':' so we can word
	 * the message ourselves; "+" is not used, GNU permutation lets
	 * options follow operands. */
	so = xmalloc(2 * n + 4);
	so[s++] = ':';
	so[s++] = 'h';
	for (size_t i = 0; i < n; i++) {
		lo[i].name = cmd->opts[i].name;
		lo[i].has_arg = cmd->opts[i].arg ? required_argument :
						   no_argument;
		lo[i].val = cmd->opts[i].key;
	}
	lo[n].name = "help";
	lo[n].val = OPT_HELP;
	so[s] = '\0';
	p->cmd = cmd;
	p->argc = argc;
	p->argv = argv;
	p->optind = 1;
	p->longopts = lo;
	p->shortopts = so;
	optind = 1;
	opterr = 0;
}

void cli_parser_done(struct cli_parser *p)
{
	free(p->longopts);
	free(p->shortopts);
	p->longopts = NULL;
	p->shortopts = NULL;
}

static const struct cli_opt *find_opt(const struct cli_command *cmd, int key)
{
	for (const struct cli_opt *o = cmd->opts; o->name != NULL; o++)
		if (o->key == key)
			return o;
	return NULL;
}

int cli_getopt(struct cli_parser *p, const char **optarg_out)
{
	const struct cli_opt *o;
	int c;

	c = getopt_long(p->argc, p->argv, p->shortopts, p->longopts, NULL);
	p->optind = optind;
	*optarg_out = optarg;
	switch (c) {
	case -1:
		return -1;
	case OPT_HELP:
		cli_print_help(p->cmd, stdout);
		cli_parser_done(p);
		exit(EXIT_CLEAN);
	case ':':
		o = find_opt(p->cmd, optopt);
		if (o != NULL)
			cli_usage_error(p->cmd, "option '--%s' needs an argument "
				       "(%s)", o->name, o->arg);
		else
			cli_usage_error(p->cmd, "option '%s' needs an argument",
					p->argv[optind - 1]);
		cli_parser_done(p);
		exit(EXIT_USAGE);
	case '?':
		o = find_opt(p->cmd, optopt);
		if (o != NULL && strncmp(p->argv[optind - 1], "--", 2) == 0)
			cli_usage_error(p->cmd, "option '--%s' takes no "
					"argument", o->name);
		else if (optopt != 0 && optopt < 256)
			cli_usage_error(p->cmd, "unknown option '-%c'", optopt);
		else
			cli_usage_error(p->cmd, "unknown option '%s'",
					p->argv[optind - 1]);
		cli_parser_done(p);
		exit(EXIT_USAGE);
	default:
		return c;
	}
}

int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vmdkit: %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	cli_print_usage(cmd, stderr);
	return EXIT_USAGE;
}

bool cli_operands(const struct cli_command *cmd, int count, int min, int max)
{
	if (count < min) {
		cli_usage_error(cmd, "missing operand (expected %s)",
				cmd->synopsis);
		return false;
	}
	if (max >= 0 && count > max) {
		cli_usage_error(cmd, "too many operands (expected %s)",
				cmd->synopsis);
		return false;
	}
	return true;
}

bool cli_parse_format(const struct cli_command *cmd, const char *arg,
		      enum out_format *out)
{
	if (strcmp(arg, "text") == 0)
		*out = OUT_TEXT;
	else if (strcmp(arg, "yaml") == 0)
		*out = OUT_YAML;
	else if (strcmp(arg, "json") == 0)
		*out = OUT_JSON;
	else {
		cli_usage_error(cmd, "unknown format '%s' (expected text, yaml "
				"or json)", arg);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

/* Finds the command named by argv[0] (and argv[1] for a group such as
 * "desc"); *used is the number of words consumed. */
static const struct cli_command *find_command(int argc, char **argv,
					      int *used)
{
	size_t len0 = strlen(argv[0]);

	for (size_t i = 0; i < cli_command_count; i++) {
		const char *name = cli_commands[i].name;

		if (strcmp(name, argv[0]) == 0) {
			*used = 1;
			return &cli_commands[i];
		}
		if (argc >= 2 && strncmp(name, argv[0], len0) == 0 &&
		    name[len0] == ' ' && strcmp(name + len0 + 1, argv[1]) == 0) {
			*used = 2;
			return &cli_commands[i];
		}
	}
	return NULL;
}

/* True when `word` names a group of commands ("desc"). */
static bool is_group(const char *word)
{
	size_t len = strlen(word);

	for (size_t i = 0; i < cli_command_count; i++)
		if (strncmp(cli_commands[i].name, word, len) == 0 &&
		    cli_commands[i].name[len] == ' ')
			return true;
	return false;
}

static int group_usage(const char *group, const char *sub, FILE *out)
{
	size_t len = strlen(group);

	if (sub != NULL)
		fprintf(out, "vmdkit: %s: unknown subcommand '%s'\n", group, sub);
	else if (out == stderr)
		fprintf(out, "vmdkit: %s: missing subcommand\n", group);
	for (size_t i = 0; i < cli_command_count; i++)
		if (strncmp(cli_commands[i].name, group, len) == 0 &&
		    cli_commands[i].name[len] == ' ')
			cli_print_usage(&cli_commands[i], out);
	return out == stderr ? EXIT_USAGE : EXIT_CLEAN;
}

static int help_command(int argc, char **argv)
{
	const struct cli_command *cmd;
	int used;

	if (argc == 0) {
		print_main_help(stdout);
		return EXIT_CLEAN;
	}
	cmd = find_command(argc, argv, &used);
	if (cmd != NULL && used == argc) {
		cli_print_help(cmd, stdout);
		return EXIT_CLEAN;
	}
	if (cmd == NULL && argc == 1 && is_group(argv[0]))
		return group_usage(argv[0], NULL, stdout);
	fprintf(stderr, "vmdkit: help: unknown command '%s'\n", argv[0]);
	fputs("usage: vmdkit help COMMAND\n", stderr);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;
	int used;

	if (argc < 2) {
		print_main_help(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		print_main_help(stdout);
		return EXIT_CLEAN;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("vmdkit %s\n", PACKAGE_VERSION);
		return EXIT_CLEAN;
	}
	if (strcmp(argv[1], "help") == 0)
		return help_command(argc - 2, argv + 2);
	cmd = find_command(argc - 1, argv + 1, &used);
	if (cmd == NULL) {
		if (is_group(argv[1])) {
			if (argc >= 3 && (strcmp(argv[2], "--help") == 0 ||
					  strcmp(argv[2], "-h") == 0))
				return group_usage(argv[1], NULL, stdout);
			return group_usage(argv[1], argc >= 3 ? argv[2] : NULL,
					   stderr);
		}
		fprintf(stderr, "vmdkit: unknown command '%s' (see `vmdkit "
			"--help`)\n", argv[1]);
		return EXIT_USAGE;
	}
	/* The command sees itself as argv[0], as getopt expects. */
	return cmd->run(cmd, argc - used, argv + used);
}
