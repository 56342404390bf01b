/*
 * cmd_desc.c - `vmdkit desc get|set|unset|repath|print`: low-level edits of
 * a separate descriptor file.
 *
 * An edit rewrites only the lines it touches (the library's lossless
 * writer), replaces the file through the library's transaction
 * (vmdk_descriptor_file_replace: all or nothing, its mode and owner
 * kept), and refuses read-only files: a base descriptor is
 * write-protected on purpose.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

/* Hosted sparse and ESX sparse magics: a file starting so carries its
 * descriptor inside a binary extent. */
static bool is_binary_extent(const char *text, size_t len)
{
	return len >= 4 && (memcmp(text, "KDMV", 4) == 0 ||
			    memcmp(text, "COWD", 4) == 0);
}

desc_status cli_load_descriptor(const char *path, desc_descriptor **out,
				desc_findings *warnings, bool *embedded,
				desc_error *err)
{
	const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *text = NULL;
	size_t len;
	desc_status st;

	*out = NULL;
	if (embedded != NULL)
		*embedded = false;
	/* A monolithicSparse file is large; reading its first bytes is
	 * enough to tell it apart, so read with a cap and look. */
	st = cli_read_file(path, DESC_MAX_INPUT, &text, &len, err);
	if (st == DESC_E_TOO_LARGE || (st == DESC_OK &&
				       is_binary_extent(text, len))) {
		if (embedded != NULL)
			*embedded = true;
		free(text);
		return cli_open_embedded(path, out, warnings, err);
	}
	if (st != DESC_OK)
		return st;
	st = desc_parse(text, len, name, out, warnings, err);
	free(text);
	return st;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* Splits a path into its folder and last component (both malloc'ed). */
static void split_path(const char *path, char **dir, char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		*dir = xstrdup(".");
		*base = xstrdup(path);
	} else if (slash == path) {
		*dir = xstrdup("/");
		*base = xstrdup(slash + 1);
	} else {
		*dir = xasprintf("%.*s", (int)(slash - path), path);
		*base = xstrdup(slash + 1);
	}
}

/* Refuses what an edit must not touch: symlinks, non-regular files and
 * write-protected files or folders (a base).  Fills *st_out. */
static desc_status check_editable(const char *path, struct stat *st_out,
				  desc_error *err)
{
	struct stat dst;
	char *dir, *base;
	desc_status st = DESC_OK;

	if (lstat(path, st_out) != 0)
		return desc_error_set(err, errno == ENOENT ? DESC_E_NOT_FOUND :
					   DESC_E_IO, path, 0,
				      "cannot stat: %s", strerror(errno));
	if (S_ISLNK(st_out->st_mode))
		return desc_error_set(err, DESC_E_REFUSED, path, 0,
				      "is a symbolic link; refusing to replace "
				      "it (edit the file it points to)");
	if (!S_ISREG(st_out->st_mode))
		return desc_error_set(err, DESC_E_REFUSED, path, 0,
				      "not a regular file");
	/* Mode bits, not access(): root may write anything, but a
	 * write-protected descriptor is a base and stays untouched. */
	if ((st_out->st_mode & 0222) == 0)
		return desc_error_set(err, DESC_E_REFUSED, path, 0,
				      "file is read-only (a base descriptor?); "
				      "refusing to edit it");
	split_path(path, &dir, &base);
	if (stat(dir, &dst) == 0 && (dst.st_mode & 0222) == 0)
		st = desc_error_set(err, DESC_E_REFUSED, path, 0,
				    "folder '%s' is read-only (a base "
				    "folder?); refusing to edit", dir);
	free(dir);
	free(base);
	return st;
}

/* ------------------------------------------------------------------ */
/* Dry-run diff: the descriptor writer changes whole lines, so the      */
/* difference is one block between a common head and a common tail.     */
/* ------------------------------------------------------------------ */

struct lines {
	const char **start;
	size_t *len;
	size_t count;
};

static void split_lines(const char *text, size_t size, struct lines *l)
{
	size_t cap = 16;

	l->start = xcalloc(cap, sizeof(*l->start));
	l->len = xcalloc(cap, sizeof(*l->len));
	l->count = 0;
	for (size_t i = 0; i < size;) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t n = nl ? (size_t)(nl - (text + i)) + 1 : size - i;

		if (l->count == cap) {
			cap *= 2;
			l->start = xrealloc(l->start, cap, sizeof(*l->start));
			l->len = xrealloc(l->len, cap, sizeof(*l->len));
		}
		l->start[l->count] = text + i;
		l->len[l->count] = n;
		l->count++;
		i += n;
	}
}

static bool same_line(const struct lines *a, size_t i, const struct lines *b,
		      size_t j)
{
	return a->len[i] == b->len[j] &&
	       memcmp(a->start[i], b->start[j], a->len[i]) == 0;
}

static void put_line(char mark, const char *s, size_t n)
{
	putchar(mark);
	fwrite(s, 1, n, stdout);
	if (n == 0 || s[n - 1] != '\n')
		fputs("\n\\ No newline at end of file\n", stdout);
}

/* Prints a unified diff (no context) of old -> new; returns whether they
 * differ. */
static bool print_diff(const char *name, const char *old, size_t old_len,
		       const char *new, size_t new_len)
{
	struct lines a, b;
	size_t head = 0, tail = 0;
	bool differ;

	split_lines(old, old_len, &a);
	split_lines(new, new_len, &b);
	while (head < a.count && head < b.count && same_line(&a, head, &b, head))
		head++;
	while (tail < a.count - head && tail < b.count - head &&
	       same_line(&a, a.count - 1 - tail, &b, b.count - 1 - tail))
		tail++;
	differ = head + tail < a.count || head + tail < b.count;
	if (differ) {
		size_t na = a.count - head - tail, nb = b.count - head - tail;

		printf("--- %s\n+++ %s\n", name, name);
		/* unified-diff convention: an empty side names the line
		 * before it */
		printf("@@ -%zu,%zu +%zu,%zu @@\n", na ? head + 1 : head, na,
		       nb ? head + 1 : head, nb);
		for (size_t i = head; i < head + na; i++)
			put_line('-', a.start[i], a.len[i]);
		for (size_t i = head; i < head + nb; i++)
			put_line('+', b.start[i], b.len[i]);
	}
	free(a.start);
	free(a.len);
	free(b.start);
	free(b.len);
	return differ;
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

static bool is_ddb_key(const char *key)
{
	return strncmp(key, "ddb.", 4) == 0;
}

enum edit_kind { EDIT_SET, EDIT_UNSET, EDIT_REPATH, EDIT_FMT };

struct edit {
	enum edit_kind kind;
	const char *key;   /* SET, UNSET */
	const char *value; /* SET: value; REPATH: new path */
	size_t index;      /* REPATH */
	bool dry_run;
	bool force;        /* write even when the edit adds errors */
};

/* Parses options common to the desc commands (e may be NULL for the
 * reading ones); returns -1 to go on, or an exit code. */
static int parse_edit_opts(const struct cli_command *cmd, int argc,
			   char **argv, int min, int max, struct edit *e,
			   int *first)
{
	struct cli_parser p;
	const char *arg;
	int c;

	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		if (c == OPT_DRY_RUN && e != NULL)
			e->dry_run = true;
		if (c == 'f' && e != NULL)
			e->force = true;
	}
	cli_parser_done(&p);
	*first = p.optind;
	if (!cli_operands(cmd, argc - p.optind, min, max))
		return EXIT_USAGE;
	return -1;
}

int cmd_desc_get(const struct cli_command *cmd, int argc, char **argv)
{
	desc_descriptor *desc = NULL;
	desc_error err;
	const char *value;
	int first, rc;

	rc = parse_edit_opts(cmd, argc, argv, 2, 2, NULL, &first);
	if (rc >= 0)
		return rc;
	if (cli_load_descriptor(argv[first], &desc, NULL, NULL, &err) !=
	    DESC_OK)
		return cli_report_error(&err);
	if (is_ddb_key(argv[first + 1]))
		value = desc_ddb_get(desc, argv[first + 1]);
	else
		value = desc_header_get(desc, argv[first + 1]);
	if (value != NULL) {
		printf("%s\n", value);
		rc = EXIT_CLEAN;
	} else {
		fprintf(stderr, "%s: no key '%s'\n", argv[first],
			argv[first + 1]);
		rc = EXIT_PROBLEMS;
	}
	desc_free(desc);
	return rc;
}

static bool is_dict_file(const char *path)
{
	size_t n = strlen(path);

	return (n >= 4 && strcasecmp(path + n - 4, ".vmx") == 0) ||
	       (n >= 5 && strcasecmp(path + n - 5, ".vmsd") == 0);
}

/* .vmx and .vmsd files go through the dictionary grammar: print shows
 * that they, too, are written back byte for byte. */
static desc_status write_dict_file(const char *path, char **out, size_t *len,
				   desc_error *err)
{
	desc_dict *dict = NULL;
	char *text = NULL;
	size_t size;
	desc_status st;

	st = cli_read_file(path, DESC_MAX_INPUT, &text, &size, err);
	if (st == DESC_OK)
		st = desc_dict_parse(text, size, path, &dict, NULL, err);
	if (st == DESC_OK)
		st = desc_dict_write(dict, out, len, err);
	desc_dict_free(dict);
	free(text);
	return st;
}

int cmd_desc_print(const struct cli_command *cmd, int argc, char **argv)
{
	desc_descriptor *desc = NULL;
	desc_error err;
	char *text = NULL;
	size_t len;
	int first, rc;

	rc = parse_edit_opts(cmd, argc, argv, 1, 1, NULL, &first);
	if (rc >= 0)
		return rc;
	desc_error_clear(&err);
	if (is_dict_file(argv[first])) {
		if (write_dict_file(argv[first], &text, &len, &err) != DESC_OK) {
			rc = cli_report_error(&err);
			goto out;
		}
	} else if (cli_load_descriptor(argv[first], &desc, NULL, NULL, &err) !=
			   DESC_OK ||
		   desc_write(desc, &text, &len, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
		goto out;
	}
	rc = EXIT_CLEAN;
out:
	free(text);
	desc_free(desc);
	return rc;
}

/* Header keys carried over by fmt (the ones desc_new does not write),
 * in the order VMware writes them. */
static const char *const fmt_header_keys[] = {
	"isNativeSnapshot", "parentFileNameHint",
};

/* The same disk in the canonical template every consumer reads alike
 * (FORMAT.md): section comments, single-spaced extent lines, no blank
 * line among them, LF endings.  Comments and unknown lines are dropped,
 * which is why unknown header keys make it refuse. */
static desc_status format_canonical(const desc_descriptor *desc,
				    desc_descriptor **out, desc_error *err)
{
	desc_descriptor *fresh = NULL;
	uint32_t cid, parent_cid;
	const char *value;
	desc_status st;

	*out = NULL;
	if (desc_create_type(desc) == NULL)
		return desc_error_set(err, DESC_E_INVALID, desc_name(desc), 0,
				      "no createType (expected "
				      "createType=\"monolithicSparse\" or "
				      "another type)");
	if (!desc_cid(desc, &cid) || !desc_parent_cid(desc, &parent_cid))
		return desc_error_set(err, DESC_E_INVALID, desc_name(desc), 0,
				      "CID or parentCID is not 8 hex digits; "
				      "fix it first (vmdkit desc set)");
	st = desc_new(desc_create_type(desc), cid, parent_cid, &fresh, err);
	/* keep what the file says its bytes are, and its version */
	if (st == DESC_OK && (value = desc_header_get(desc, "version")))
		st = desc_header_set(fresh, "version", value, err);
	if (st == DESC_OK && (value = desc_header_get(desc, "encoding")))
		st = desc_header_set(fresh, "encoding", value, err);
	else if (st == DESC_OK)
		desc_header_unset(fresh, "encoding"); /* do not claim UTF-8 */
	for (size_t i = 0; st == DESC_OK &&
	     i < sizeof(fmt_header_keys) / sizeof(fmt_header_keys[0]); i++)
		if ((value = desc_header_get(desc, fmt_header_keys[i])))
			st = desc_header_set(fresh, fmt_header_keys[i], value,
					     err);
	for (size_t i = 0; st == DESC_OK && i < desc_extent_count(desc); i++)
		st = desc_extent_add(fresh, desc_extent_at(desc, i), err);
	for (size_t i = 0; st == DESC_OK && i < desc_ddb_count(desc); i++)
		st = desc_ddb_set(fresh, desc_ddb_key_at(desc, i),
				  desc_ddb_value_at(desc, i), err);
	if (st != DESC_OK) {
		desc_free(fresh);
		return st;
	}
	*out = fresh;
	return DESC_OK;
}

/* Applies the edit to *desc (fmt replaces it); returns an exit code, or
 * -1 when done. */
static int apply_edit(const struct cli_command *cmd, const char *path,
		      desc_descriptor **descp, const desc_findings *warnings,
		      const struct edit *e)
{
	desc_descriptor *desc = *descp, *fresh = NULL;
	desc_error err;
	desc_status st = DESC_OK;
	size_t removed;

	desc_error_clear(&err);
	switch (e->kind) {
	case EDIT_FMT:
		for (size_t i = 0; !e->force && i < warnings->count; i++) {
			const desc_finding *f = &warnings->items[i];

			if (f->code == NULL ||
			    strcmp(f->code, "unknown-header-key") != 0)
				continue;
			fprintf(stderr, "%s:%u: %s\n", path, f->line,
				f->message);
			fprintf(stderr, "vmdkit: %s: refusing to drop unknown "
				"header keys (--force drops them)\n",
				cmd->name);
			return EXIT_REFUSED;
		}
		st = format_canonical(desc, &fresh, &err);
		if (st == DESC_OK) {
			desc_free(desc);
			*descp = fresh;
		}
		break;
	case EDIT_SET:
		if (is_ddb_key(e->key))
			st = desc_ddb_set(desc, e->key, e->value, &err);
		else
			st = desc_header_set(desc, e->key, e->value, &err);
		break;
	case EDIT_UNSET:
		if (is_ddb_key(e->key))
			removed = desc_ddb_unset(desc, e->key);
		else
			removed = desc_header_unset(desc, e->key);
		if (removed == 0) {
			fprintf(stderr, "%s: no key '%s'\n", path, e->key);
			return EXIT_PROBLEMS;
		}
		break;
	case EDIT_REPATH:
		if (e->index >= desc_extent_count(desc))
			return cli_usage_error(cmd, "extent index %zu out of "
					       "range ('%s' has %zu extents)",
					       e->index, path,
					       desc_extent_count(desc));
		st = desc_extent_set_path(desc, e->index, e->value, &err);
		break;
	}
	if (st != DESC_OK) {
		if (err.file[0] == '\0')
			snprintf(err.file, sizeof(err.file), "%s", path);
		return cli_report_error(&err);
	}
	return -1;
}

/* Error findings the edit added: per code, how many more errors the
 * edited descriptor has than the original.  Printed like `check` does;
 * returns whether there were any. */
static bool report_new_errors(const desc_descriptor *before,
			      const desc_descriptor *after)
{
	desc_findings a, b;
	bool any = false;

	desc_findings_init(&a);
	desc_findings_init(&b);
	if (desc_validate(before, &a) != DESC_OK ||
	    desc_validate(after, &b) != DESC_OK) {
		fputs("vmdkit: out of memory\n", stderr);
		exit(EXIT_SYSTEM);
	}
	for (size_t i = 0; i < b.count; i++) {
		const desc_finding *f = &b.items[i];
		size_t in_a = 0, in_b = 0;

		if (f->severity != DESC_SEV_ERROR)
			continue;
		for (size_t j = 0; j < a.count; j++)
			in_a += a.items[j].severity == DESC_SEV_ERROR &&
				strcmp(a.items[j].code, f->code) == 0;
		for (size_t j = 0; j <= i; j++)
			in_b += b.items[j].severity == DESC_SEV_ERROR &&
				strcmp(b.items[j].code, f->code) == 0;
		if (in_b > in_a) {
			if (f->line != 0)
				fprintf(stderr, "%s:%u: ", f->file ? f->file : "-",
					f->line);
			else
				fprintf(stderr, "%s: ", f->file ? f->file : "-");
			fprintf(stderr, "error: %s [%s]\n", f->message, f->code);
			any = true;
		}
	}
	desc_findings_clear(&a);
	desc_findings_clear(&b);
	return any;
}

static int run_edit(const struct cli_command *cmd, const char *path,
		    const struct edit *e)
{
	desc_descriptor *orig = NULL;
	desc_descriptor *desc = NULL;
	vmdk_change_options change = { .dry_run = false };
	desc_findings warnings, notes;
	desc_status recovered;
	desc_error err;
	struct stat st;
	char *old = NULL, *new = NULL;
	size_t old_len, new_len;
	int rc;

	desc_findings_init(&warnings);
	desc_error_clear(&err);
	if (strcmp(path, "-") == 0)
		return cli_usage_error(cmd, "cannot edit stdin; use `vmdkit "
				       "desc print` to filter");
	/* A killed edit is undone (or finished) before the file is read, so
	 * this edit starts from what recovery leaves, also when it would
	 * write the same text. */
	desc_findings_init(&notes);
	change.notes = &notes;
	change.dry_run = e->dry_run;
	recovered = vmdk_descriptor_file_recover(path, &change, &err);
	/* What recovery left alone is said here, once: the replace below
	 * finds the same and only refuses (its error names why). */
	cli_print_notes(&notes);
	desc_findings_clear(&notes);
	change.notes = NULL;
	change.dry_run = false;
	if (recovered != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	if (cli_read_file(path, DESC_MAX_INPUT, &old, &old_len, &err) !=
	    DESC_OK) {
		if (err.code == DESC_E_TOO_LARGE)
			goto embedded;
		rc = cli_report_error(&err);
		goto out;
	}
	if (is_binary_extent(old, old_len))
		goto embedded;
	if (desc_parse(old, old_len, path, &desc, &warnings, &err) != DESC_OK ||
	    desc_clone(desc, &orig, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	rc = apply_edit(cmd, path, &desc, &warnings, e);
	if (rc >= 0)
		goto out;
	if (desc_write(desc, &new, &new_len, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	rc = EXIT_CLEAN;
	if (e->dry_run &&
	    !print_diff(path, old, old_len, new, new_len))
		fprintf(stderr, "%s: no change\n", path);
	/* An edit must not break a descriptor that was valid in that
	 * respect (a CID of 7 digits, a createType that does not match the
	 * extents): a dry run predicts the refusal. */
	if (!e->force && report_new_errors(orig, desc)) {
		fprintf(stderr, "vmdkit: %s: refusing an edit that makes '%s' "
			"invalid (--force writes it anyway)\n", cmd->name, path);
		rc = EXIT_REFUSED;
		goto out;
	}
	if (e->dry_run)
		goto out;
	if (check_editable(path, &st, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	if (new_len == old_len && memcmp(old, new, old_len) == 0) {
		rc = EXIT_CLEAN; /* nothing to write: leave the file alone */
		goto out;
	}
	rc = vmdk_descriptor_file_replace(path, new, new_len, &change,
					  &err) == DESC_OK
		     ? EXIT_CLEAN : cli_report_error(&err);
	goto out;
embedded:
	fprintf(stderr, "%s: descriptor is embedded in a binary sparse "
		"extent; vmdkit edits only separate descriptor files\n", path);
	rc = EXIT_BAD_INPUT;
out:
	free(old);
	free(new);
	desc_free(desc);
	desc_free(orig);
	desc_findings_clear(&warnings);
	return rc;
}

static bool edit_opts(const struct cli_command *cmd, int argc, char **argv,
		      int n, struct edit *e, int *first, int *rc)
{
	*rc = parse_edit_opts(cmd, argc, argv, n, n, e, first);
	return *rc < 0;
}

int cmd_desc_set(const struct cli_command *cmd, int argc, char **argv)
{
	struct edit e = { .kind = EDIT_SET };
	int first, rc;

	if (!edit_opts(cmd, argc, argv, 3, &e, &first, &rc))
		return rc;
	e.key = argv[first + 1];
	e.value = argv[first + 2];
	return run_edit(cmd, argv[first], &e);
}

int cmd_desc_unset(const struct cli_command *cmd, int argc, char **argv)
{
	struct edit e = { .kind = EDIT_UNSET };
	int first, rc;

	if (!edit_opts(cmd, argc, argv, 2, &e, &first, &rc))
		return rc;
	e.key = argv[first + 1];
	return run_edit(cmd, argv[first], &e);
}

int cmd_desc_repath(const struct cli_command *cmd, int argc, char **argv)
{
	struct edit e = { .kind = EDIT_REPATH };
	uint64_t index;
	int first, rc;

	if (!edit_opts(cmd, argc, argv, 3, &e, &first, &rc))
		return rc;
	if (!cli_parse_u64(argv[first + 1], &index) || index > SIZE_MAX)
		return cli_usage_error(cmd, "bad extent index '%s' (expected "
				       "a number from 0)", argv[first + 1]);
	e.index = (size_t)index;
	e.value = argv[first + 2];
	if (e.value[0] == '\0')
		return cli_usage_error(cmd, "empty NEWPATH");
	return run_edit(cmd, argv[first], &e);
}

desc_status cli_open_embedded(const char *path, desc_descriptor **out,
			      desc_findings *warnings, desc_error *err)
{
	vmdk_disk *disk = NULL;
	char *text = NULL;
	size_t len;
	desc_status st;

	*out = NULL;
	st = vmdk_disk_open(path, VMDK_OPEN_DESCRIPTOR_ONLY, &disk, err);
	if (st != DESC_OK)
		goto out;
	/* The disk layer parsed the descriptor without collecting
	 * warnings; parsing its (byte-identical) text again gives them,
	 * with lines counted from the start of the embedded descriptor. */
	st = desc_write(vmdk_disk_descriptor(disk), &text, &len, err);
	if (st == DESC_OK)
		st = desc_parse(text, len, path, out, warnings, err);
out:
	free(text);
	vmdk_disk_free(disk);
	return st;
}

int cmd_desc_fmt(const struct cli_command *cmd, int argc, char **argv)
{
	struct edit e = { .kind = EDIT_FMT };
	int first, rc;

	if (!edit_opts(cmd, argc, argv, 1, &e, &first, &rc))
		return rc;
	return run_edit(cmd, argv[first], &e);
}
