/*
 * cli.h - shared parts of the vmdkit program: the command table, option
 * parsing driven by that table, exit codes and small helpers.
 *
 * Only cli/ includes this.  Commands talk to the library through the public
 * headers and to the terminal through here and output.h.
 */
#ifndef VMDKIT_CLI_H
#define VMDKIT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "descriptor/descriptor.h"
#include "cli/output.h"

/* Exit codes: a stable contract (cli/EXIT_CODES, `vmdkit --help`). */
enum {
	EXIT_CLEAN = 0,    /* done; check/verify/chain: clean */
	EXIT_PROBLEMS = 1, /* problems found, chain broken, key absent */
	EXIT_USAGE = 2,    /* bad option or argument */
	EXIT_BAD_INPUT = 3,/* input file is not valid */
	EXIT_SYSTEM = 4,   /* filesystem or system error */
	EXIT_WARNINGS = 5, /* check/verify: warnings only */
	EXIT_REFUSED = 6,  /* refused for safety */
};

/* One option of a command.  `key` is the short option character, or a
 * value >= 256 for long-only options.  `arg` is the metavariable shown in
 * help, NULL for a flag. */
struct cli_opt {
	const char *name;
	int key;
	const char *arg;
	const char *help;
};

#define CLI_OPT_END { NULL, 0, NULL, NULL }
/* Shared long-only option keys. */
enum {
	OPT_FORMAT = 256,
	OPT_DRY_RUN,
	OPT_FIRST_PRIVATE, /* commands number their own from here */
};

struct cli_command;
typedef int (*cli_run_fn)(const struct cli_command *cmd, int argc,
			  char **argv);

struct cli_command {
	const char *name;        /* "info", "desc set" */
	const char *synopsis;    /* "DISK.vmdk" */
	const char *summary;     /* one line */
	const char *description; /* paragraph(s) for `help CMD`, may be NULL */
	const struct cli_opt *opts;
	cli_run_fn run;
};

extern const struct cli_command cli_commands[];
extern const size_t cli_command_count;

/* Option parsing.  Call cli_getopt() until it returns -1; it handles
 * --help itself (prints the command's help, exits 0) and reports unknown
 * options and missing arguments as usage errors (exit 2).  After it returns
 * -1, argv[*optind_out .. argc) are the operands. */
struct cli_parser {
	const struct cli_command *cmd;
	int argc;
	char **argv;
	int optind;
	void *longopts;  /* struct option[], built from cmd->opts */
	char *shortopts;
};

void cli_parser_init(struct cli_parser *p, const struct cli_command *cmd,
		     int argc, char **argv);
int cli_getopt(struct cli_parser *p, const char **optarg_out);
void cli_parser_done(struct cli_parser *p);

/* Prints "vmdkit: CMD: message" and the usage line to stderr; returns
 * EXIT_USAGE so callers write `return cli_usage_error(cmd, "...")`. */
int cli_usage_error(const struct cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cli_print_help(const struct cli_command *cmd, FILE *out);
void cli_print_usage(const struct cli_command *cmd, FILE *out);

/* Checks the operand count; prints a usage error when it is wrong. */
bool cli_operands(const struct cli_command *cmd, int count, int min, int max);

/* Parses --format's argument; prints a usage error and returns false when
 * unknown. */
bool cli_parse_format(const struct cli_command *cmd, const char *arg,
		      enum out_format *out);

/* Exit code for a failed library call. */
int cli_exit_code(desc_status status);
/* Prints the library error to stderr in GNU form (FILE:LINE: message) and
 * returns the exit code that goes with it. */
int cli_report_error(const desc_error *err);
/* "vmdkit: message" to stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes root (may be NULL: nothing to write) to stdout in `format`,
 * flushes, frees root, and returns rc, or EXIT_SYSTEM (with a warning)
 * when stdout cannot be written. */
int cli_finish_output(out_node *root, enum out_format format, int rc);

/* Allocation in the CLI: a failure prints a message and exits 4, since a
 * command has nothing sensible to do without memory. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t n, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file ("-" = stdin), at most `cap` bytes; *out is
 * NUL-terminated.  Fills err in the library's style. */
desc_status cli_read_file(const char *path, size_t cap, char **out,
			  size_t *len, desc_error *err);

/* Parses a size: decimal bytes with an optional K/M/G/T suffix (powers of
 * 1024, optionally followed by "iB" or "B"), overflow-checked, > 0. */
bool cli_parse_size(const char *text, uint64_t *out);
/* Parses a decimal unsigned number without sign or blanks. */
bool cli_parse_u64(const char *text, uint64_t *out);
/* "10 GiB", "1.5 MiB", "512 B" */
void cli_human_size(uint64_t bytes, char *buf, size_t size);

/* Creates folder `dir` when it does not exist (one level: its parent must
 * exist); *made tells whether it did, so a failed command can rmdir it
 * and leave the tree as it was. */
desc_status cli_mkdir_missing(const char *dir, bool *made, desc_error *err);
/* "a/b/c" -> "a/b", "c" -> ".", trailing slashes ignored (caller frees). */
char *cli_dirname(const char *path);

/* Loads a descriptor from a separate descriptor file ("-" = stdin) or,
 * when `path` is a binary sparse extent, its embedded descriptor (then
 * *embedded is set; lines then count from the embedded text).  Messages
 * name the path as given. */
desc_status cli_load_descriptor(const char *path, desc_descriptor **out,
				desc_findings *warnings, bool *embedded,
				desc_error *err);
/* The embedded descriptor of a monolithicSparse/streamOptimized file. */
desc_status cli_open_embedded(const char *path, desc_descriptor **out,
			      desc_findings *warnings, desc_error *err);

/* Prints findings: text `FILE:LINE: severity: message [code]` lines, or a
 * YAML/JSON list of {file, line, severity, code, message}. */
void cli_print_findings(const desc_findings *list, enum out_format format);
/* 1 when an error is present, 5 for warnings only, else 0. */
int cli_findings_exit(const desc_findings *list);

/* Steps reported by base and clone (vmdk_report_fn).  In text, each step
 * is printed at once as "ACTION 'PATH'" after `indent`; otherwise it is
 * added as {action, path} to `list` (when set). */
struct cli_steps {
	enum out_format format;
	out_node *list;
	const char *indent;
	size_t count;
};
void cli_steps_init(struct cli_steps *s, enum out_format format);
void cli_steps_report(void *ctx, const char *action, const char *path);
/* The same for the commands on the transaction module (vmdk_step_fn):
 * text "ACTION 'PATH'" or "ACTION 'FROM' -> 'TO'"; YAML/JSON
 * {action, path} or {action, from, to}. */
void cli_steps_step(void *ctx, const char *action, const char *path,
		    const char *to);
/* What a change found and left alone (vmdk_change_options.notes), to
 * stderr: "vmdkit: SEVERITY: message [code]". */
void cli_print_notes(const desc_findings *notes);

/* Command entry points (one file each). */
int cmd_info(const struct cli_command *cmd, int argc, char **argv);
int cmd_check(const struct cli_command *cmd, int argc, char **argv);
int cmd_create(const struct cli_command *cmd, int argc, char **argv);
int cmd_chain(const struct cli_command *cmd, int argc, char **argv);
int cmd_base(const struct cli_command *cmd, int argc, char **argv);
int cmd_clone(const struct cli_command *cmd, int argc, char **argv);
int cmd_verify(const struct cli_command *cmd, int argc, char **argv);
int cmd_promote(const struct cli_command *cmd, int argc, char **argv);
int cmd_dependents(const struct cli_command *cmd, int argc, char **argv);
int cmd_relocate(const struct cli_command *cmd, int argc, char **argv);
int cmd_repair_cid(const struct cli_command *cmd, int argc, char **argv);
int cmd_desc_get(const struct cli_command *cmd, int argc, char **argv);
int cmd_desc_set(const struct cli_command *cmd, int argc, char **argv);
int cmd_desc_unset(const struct cli_command *cmd, int argc, char **argv);
int cmd_desc_repath(const struct cli_command *cmd, int argc, char **argv);
int cmd_desc_fmt(const struct cli_command *cmd, int argc, char **argv);
int cmd_desc_print(const struct cli_command *cmd, int argc, char **argv);

#endif
