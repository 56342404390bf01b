/*
 * cmd_check.c - `vmdkit check PATH...`: findings for descriptors, .vmx and
 * .vmsd files (and the ones found in folders) before import.
 *
 * A file that cannot be parsed is one error finding, not an abort: every
 * path given is checked.  Exit 0 clean, 5 warnings only, 1 errors (info
 * findings do not count).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

enum file_kind { KIND_DESCRIPTOR, KIND_VMX, KIND_VMSD };

/* Stable finding codes for files that could not be read or parsed. */
static const char *status_code(desc_status st)
{
	switch (st) {
	case DESC_E_SYNTAX: return "syntax";
	case DESC_E_INVALID: return "invalid";
	case DESC_E_TOO_LARGE: return "too-large";
	case DESC_E_NOT_FOUND: return "not-found";
	case DESC_E_IO: return "io";
	case DESC_E_FORMAT: return "format";
	case DESC_E_CHAIN: return "chain";
	case DESC_E_NOMEM: return "nomem";
	default: return "error";
	}
}

static void add_error_finding(desc_findings *out, const char *path,
			      const desc_error *err)
{
	if (desc_findings_add(out, DESC_SEV_ERROR, status_code(err->code),
			      err->file[0] ? err->file : path, err->line, "%s",
			      err->message[0] ? err->message :
			      desc_status_name(err->code)) != DESC_OK) {
		fputs("vmdkit: out of memory\n", stderr);
		exit(EXIT_SYSTEM);
	}
}

static void oom_if(desc_status st)
{
	if (st == DESC_E_NOMEM) {
		fputs("vmdkit: out of memory\n", stderr);
		exit(EXIT_SYSTEM);
	}
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------------ */
/* Descriptors                                                         */
/* ------------------------------------------------------------------ */

/* The folder of `path` joined with `name`, unless name is absolute. */
static char *beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');

	if (name[0] == '/' || slash == NULL)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - path), path, name);
}

/* What fails first at import: an extent file that is not there.  Paths
 * are resolved against the descriptor's folder, as the disk layer does;
 * they are only looked at (stat), never opened. */
static void check_extent_files(const char *path, const desc_descriptor *desc,
			       desc_findings *out)
{
	for (size_t i = 0; i < desc_extent_count(desc); i++) {
		const desc_extent *e = desc_extent_at(desc, i);
		struct stat st;
		char *file;

		if (e->path == NULL || e->type == DESC_EXTENT_ZERO)
			continue;
		file = beside(path, e->path);
		if (stat(file, &st) != 0)
			oom_if(desc_findings_add(out, DESC_SEV_WARNING,
						 "extent-missing", path, e->line,
						 "extent file '%s' not found",
						 e->path));
		free(file);
	}
}

/* A delta is only usable while its chain holds: a missing parent is a
 * warning (the base may live elsewhere until import), a CID mismatch or a
 * loop an error. */
static void check_chain(const char *path, desc_findings *out)
{
	vmdk_chain chain;
	desc_error err;

	memset(&chain, 0, sizeof(chain));
	desc_error_clear(&err);
	if (vmdk_chain_walk(path, &chain, &err) != DESC_OK) {
		oom_if(err.code);
		return; /* the file itself was reported already */
	}
	if (chain.status != DESC_OK)
		oom_if(desc_findings_add(
			out, chain.status == DESC_E_NOT_FOUND ?
				     DESC_SEV_WARNING : DESC_SEV_ERROR,
			chain.status == DESC_E_NOT_FOUND ? "parent-missing" :
							   "chain-broken",
			chain.error.file[0] ? chain.error.file : path,
			chain.error.line, "%s", chain.error.message));
	vmdk_chain_clear(&chain);
}

static void check_descriptor(const char *path, desc_findings *out)
{
	desc_descriptor *desc = NULL;
	desc_findings warnings;
	desc_error err;
	bool embedded = false;

	desc_findings_init(&warnings);
	desc_error_clear(&err);
	if (cli_load_descriptor(path, &desc, &warnings, &embedded, &err) !=
	    DESC_OK) {
		oom_if(err.code);
		add_error_finding(out, path, &err);
		goto out;
	}
	for (size_t i = 0; i < warnings.count; i++) {
		const desc_finding *f = &warnings.items[i];

		oom_if(desc_findings_add(out, f->severity, f->code,
					 f->file ? f->file : path, f->line,
					 "%s", f->message));
	}
	oom_if(desc_validate(desc, out));
	oom_if(desc_check_portability(desc, out));
	if (strcmp(path, "-") == 0)
		goto out;
	if (!embedded)
		check_extent_files(path, desc, out);
	if (desc_parent_hint(desc) != NULL)
		check_chain(path, out);
out:
	desc_findings_clear(&warnings);
	desc_free(desc);
}

/* ------------------------------------------------------------------ */
/* .vmx and .vmsd                                                      */
/* ------------------------------------------------------------------ */

static void check_vmx_disks(const char *path, const desc_dict *dict,
			    desc_findings *out)
{
	vmdk_vmx_disk *disks = NULL;
	size_t count = 0;
	desc_error err;

	desc_error_clear(&err);
	if (vmdk_vmx_disks(dict, &disks, &count, &err) != DESC_OK) {
		oom_if(err.code);
		add_error_finding(out, path, &err);
		return;
	}
	for (size_t i = 0; i < count; i++) {
		char *file = beside(path, disks[i].file_name);
		struct stat st;

		if (stat(file, &st) != 0)
			oom_if(desc_findings_add(
				out, DESC_SEV_WARNING, "vmx-disk-missing", path,
				disks[i].line, "disk '%s' of %s not found",
				disks[i].file_name, disks[i].node));
		free(file);
	}
	vmdk_vmx_disks_free(disks, count);
}

/* Consumes "word" (case-insensitive) then one or more digits. */
static bool skip_word_number(const char **p, const char *word)
{
	size_t n = strlen(word);

	if (strncasecmp(*p, word, n) != 0)
		return false;
	*p += n;
	if (**p < '0' || **p > '9')
		return false;
	while (**p >= '0' && **p <= '9')
		(*p)++;
	return true;
}

/* "snapshot3.disk0.fileName": a disk as it was when the snapshot was
 * taken; a leaf's base descriptor copy is one of these. */
static bool is_vmsd_disk_key(const char *key)
{
	const char *p = key;

	return skip_word_number(&p, "snapshot") && *p++ == '.' &&
	       skip_word_number(&p, "disk") && strcasecmp(p, ".fileName") == 0;
}

static void check_vmsd_disks(const char *path, const desc_dict *dict,
			     desc_findings *out)
{
	for (size_t i = 0; i < desc_dict_count(dict); i++) {
		const char *value = desc_dict_value_at(dict, i);
		char *file;
		struct stat st;

		if (!is_vmsd_disk_key(desc_dict_key_at(dict, i)) ||
		    value == NULL || value[0] == '\0')
			continue;
		file = beside(path, value);
		if (stat(file, &st) != 0)
			oom_if(desc_findings_add(
				out, DESC_SEV_WARNING, "vmsd-disk-missing", path,
				desc_dict_line_at(dict, i),
				"snapshot disk '%s' (%s) not found", value,
				desc_dict_key_at(dict, i)));
		free(file);
	}
}

static void check_dict(const char *path, enum file_kind kind,
		       desc_findings *out)
{
	desc_dict *dict = NULL;
	desc_error err;
	char *text = NULL;
	size_t len;

	desc_error_clear(&err);
	if (cli_read_file(path, DESC_MAX_INPUT, &text, &len, &err) != DESC_OK ||
	    desc_dict_parse(text, len, path, &dict, out, &err) != DESC_OK) {
		oom_if(err.code);
		add_error_finding(out, path, &err);
		goto out;
	}
	if (kind == KIND_VMX)
		check_vmx_disks(path, dict, out);
	else
		check_vmsd_disks(path, dict, out);
out:
	free(text);
	desc_dict_free(dict);
}

/* ------------------------------------------------------------------ */
/* Choosing what a file is                                             */
/* ------------------------------------------------------------------ */

/* Reads the first bytes of a file (0 on error). */
static size_t peek(const char *path, unsigned char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, size);
	close(fd);
	return n > 0 ? (size_t)n : 0;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* In a folder, a .vmdk is worth checking when it is a text descriptor or
 * a sparse extent that embeds one; data extents (-flat, -s001) are not. */
static bool folder_vmdk_is_descriptor(const char *path)
{
	unsigned char buf[64];
	size_t n = peek(path, buf, sizeof(buf));
	size_t i = 0;

	if (n >= 36 && memcmp(buf, "KDMV", 4) == 0)
		return le64(buf + 28) != 0; /* descriptorOffset */
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	if (i >= n || !(buf[i] == '#' || (buf[i] >= 'A' && buf[i] <= 'z')))
		return false;
	for (; i < n; i++)
		if (buf[i] == '\0')
			return false;
	return true;
}

static bool starts_with(const unsigned char *buf, size_t n, const char *word)
{
	size_t m = strlen(word);

	return n >= m && strncasecmp((const char *)buf, word, m) == 0;
}

static enum file_kind kind_of(const char *path)
{
	unsigned char buf[32];
	size_t n;

	if (has_suffix(path, ".vmx"))
		return KIND_VMX;
	if (has_suffix(path, ".vmsd"))
		return KIND_VMSD;
	if (has_suffix(path, ".vmdk"))
		return KIND_DESCRIPTOR;
	/* No telling extension: a .vmx announces itself by its usual first
	 * lines; anything else is held to the descriptor grammar. */
	n = peek(path, buf, sizeof(buf));
	if (starts_with(buf, n, ".encoding") ||
	    starts_with(buf, n, "config.version") ||
	    starts_with(buf, n, "#!"))
		return KIND_VMX;
	return KIND_DESCRIPTOR;
}

static void sort_by_line(desc_finding *items, size_t count);

/* Same line, same code: the parser and the validator both saw it (an
 * unknown createType); the later one, the validator's, says more. */
static bool same_as_next(const desc_finding *items, size_t count, size_t i)
{
	return i + 1 < count && items[i].line == items[i + 1].line &&
	       items[i].code != NULL && items[i + 1].code != NULL &&
	       strcmp(items[i].code, items[i + 1].code) == 0 &&
	       items[i].severity <= items[i + 1].severity;
}

static void check_file(const char *path, desc_findings *out)
{
	enum file_kind kind = kind_of(path);
	desc_findings one;

	desc_findings_init(&one);
	if (kind == KIND_DESCRIPTOR)
		check_descriptor(path, &one);
	else
		check_dict(path, kind, &one);
	sort_by_line(one.items, one.count);
	for (size_t i = 0; i < one.count; i++) {
		const desc_finding *f = &one.items[i];

		if (same_as_next(one.items, one.count, i))
			continue;
		oom_if(desc_findings_add(out, f->severity, f->code, f->file,
					 f->line, "%s", f->message));
	}
	desc_findings_clear(&one);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks the .vmx, .vmsd and descriptor files of a folder (a bundle), in
 * name order; sub-folders are not entered. */
static void check_folder(const char *path, desc_findings *out)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t count = 0, cap = 0;
	desc_error err;

	if (dir == NULL) {
		desc_error_set(&err, DESC_E_IO, path, 0, "cannot open folder: %s",
			       strerror(errno));
		add_error_finding(out, path, &err);
		return;
	}
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!has_suffix(de->d_name, ".vmx") &&
		    !has_suffix(de->d_name, ".vmsd") &&
		    !has_suffix(de->d_name, ".vmdk"))
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap, sizeof(*names));
		}
		names[count++] = path[strlen(path) - 1] == '/' ?
					 xasprintf("%s%s", path, de->d_name) :
					 xasprintf("%s/%s", path, de->d_name);
	}
	closedir(dir);
	if (count > 0)
		qsort(names, count, sizeof(*names), name_cmp);
	for (size_t i = 0; i < count; i++) {
		struct stat st;

		if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode) &&
		    (!has_suffix(names[i], ".vmdk") ||
		     folder_vmdk_is_descriptor(names[i])))
			check_file(names[i], out);
		free(names[i]);
	}
	free(names);
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

/* Orders one file's findings by line, keeping the library's order among
 * equal lines (insertion sort: lists are short). */
static void sort_by_line(desc_finding *items, size_t count)
{
	for (size_t i = 1; i < count; i++) {
		desc_finding f = items[i];
		size_t j = i;

		while (j > 0 && items[j - 1].line > f.line) {
			items[j] = items[j - 1];
			j--;
		}
		items[j] = f;
	}
}

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

int cmd_check(const struct cli_command *cmd, int argc, char **argv)
{
	enum out_format format = OUT_TEXT;
	struct cli_parser p;
	desc_findings all;
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
	if (!cli_operands(cmd, argc - p.optind, 1, -1))
		return EXIT_USAGE;

	desc_findings_init(&all);
	for (int i = p.optind; i < argc; i++) {
		struct stat st;

		if (strcmp(argv[i], "-") != 0 && stat(argv[i], &st) == 0 &&
		    S_ISDIR(st.st_mode))
			check_folder(argv[i], &all);
		else
			check_file(argv[i], &all);
	}
	cli_print_findings(&all, format);
	rc = cli_findings_exit(&all);
	desc_findings_clear(&all);
	if (fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
	return rc;
}
