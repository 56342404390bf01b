/*
 * cmd_clone.c - `vmdkit clone BASE LEAFDIR`: stamp one leaf, --count N
 * leaves named from a pattern, or the leaves of a --plan file.
 *
 * Leaves are stamped in order and the command stops at the first failure;
 * leaves already stamped stay (each one is complete: the library stages
 * and renames every leaf into place).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/progress.h"
#include "descriptor/descriptor.h"
#include "vmdk/vmdk.h"
#include "descriptor/banned.h"

#define MAX_COUNT 10000
#define BUNDLE_SUFFIX ".vmwarevm"

/* A --name pattern: prefix, one number of at least `width` digits,
 * suffix.  "%%" stands for '%'. */
struct pattern {
	char *prefix;
	char *suffix;
	unsigned width;
};

static void pattern_free(struct pattern *pat)
{
	free(pat->prefix);
	free(pat->suffix);
}

/* Accepts exactly one %d or %0Nd (N 1..20); never used as a printf
 * format, so nothing else in the user's text is interpreted. */
static bool pattern_parse(const char *text, struct pattern *pat)
{
	size_t len = strlen(text);
	char *pre = xcalloc(len + 1, 1), *suf = xcalloc(len + 1, 1);
	char *cur = pre;
	size_t n = 0;
	int conversions = 0;
	unsigned width = 0;

	for (const char *p = text; *p != '\0'; p++) {
		if (*p != '%') {
			cur[n++] = *p;
			continue;
		}
		p++;
		if (*p == '%') {
			cur[n++] = '%';
			continue;
		}
		if (*p == '0') {
			uint64_t w;

			/* one or two digits, 1..20, after the '0' flag */
			p++;
			if (*p == '0' ||
			    desc_parse_number(&p, p + 2, 10, 20, &w) != DESC_NUMBER_OK)
				goto bad;
			width = (unsigned)w;
		}
		if (*p != 'd' || ++conversions > 1)
			goto bad;
		cur = suf;
		n = 0;
	}
	if (conversions != 1)
		goto bad;
	pat->prefix = pre;
	pat->suffix = suf;
	pat->width = width;
	return true;
bad:
	free(pre);
	free(suf);
	return false;
}

static char *pattern_expand(const struct pattern *pat, unsigned long number)
{
	return xasprintf("%s%0*lu%s", pat->prefix, (int)pat->width, number,
			 pat->suffix);
}

/* LEAFDIR "a/web-01.vmwarevm/" -> "web-01" */
static char *name_from_folder(const char *folder)
{
	size_t end = strlen(folder), start;
	size_t slen = strlen(BUNDLE_SUFFIX);

	while (end > 1 && folder[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && folder[start - 1] != '/')
		start--;
	if (end - start > slen &&
	    strncmp(folder + end - slen, BUNDLE_SUFFIX, slen) == 0)
		end -= slen;
	return xasprintf("%.*s", (int)(end - start), folder + start);
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir);

	if (name[0] == '/')
		return xstrdup(name);
	return xasprintf("%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/",
			 name);
}

struct clone_args {
	const char *vmx, *name, *plan_path, *memory, *cpus;
	const char *snapshot_name, *snapshot_description;
	unsigned long count;
	unsigned jobs;          /* 0: one per CPU */
	bool dry_run;
	bool full;
	bool sync_set;
	vmdk_sync_policy sync;
	enum cli_progress_mode progress;
	enum out_format format;
};

/* The leaves to stamp; strings owned by `owned` or by the plan. */
struct leaves {
	vmdk_leaf_spec *specs;
	size_t count;
	char **owned;
	size_t owned_count;
	vmdk_plan *plan;
};

static const char *own(struct leaves *l, char *s)
{
	l->owned = xrealloc(l->owned, l->owned_count + 1, sizeof(*l->owned));
	l->owned[l->owned_count++] = s;
	return s;
}

static void leaves_free(struct leaves *l)
{
	for (size_t i = 0; i < l->owned_count; i++)
		free(l->owned[i]);
	free(l->owned);
	free(l->specs);
	vmdk_plan_free(l->plan);
}

static int parse_args(const struct cli_command *cmd, int argc, char **argv,
		      struct clone_args *a, int *first)
{
	struct cli_parser p;
	const char *arg, *count = NULL, *bad_sync = NULL, *jobs = NULL;
	uint64_t v;
	int c;

	memset(a, 0, sizeof(*a));
	cli_parser_init(&p, cmd, argc, argv);
	while ((c = cli_getopt(&p, &arg)) != -1) {
		switch (c) {
		case 'x': a->vmx = arg; break;
		case 'n': a->name = arg; break;
		case 'N': count = arg; break;
		case 'p': a->plan_path = arg; break;
		case 'm': a->memory = arg; break;
		case 'C': a->cpus = arg; break;
		case 'S': a->snapshot_name = arg; break;
		case 'd': a->snapshot_description = arg; break;
		case OPT_DRY_RUN: a->dry_run = true; break;
		case 'F': a->full = true; break;
		case 'j': jobs = arg; break;
		case OPT_PROGRESS: a->progress = CLI_PROGRESS_ON; break;
		case OPT_NO_PROGRESS: a->progress = CLI_PROGRESS_OFF; break;
		case 'Y':
			a->sync_set = true;
			if (strcmp(arg, "leaf") == 0) {
				a->sync = VMDK_SYNC_LEAF;
			} else if (strcmp(arg, "batch") == 0) {
				a->sync = VMDK_SYNC_BATCH;
			} else if (strcmp(arg, "none") == 0) {
				a->sync = VMDK_SYNC_NONE;
			} else {
				bad_sync = arg;
			}
			break;
		case OPT_FORMAT:
			if (!cli_parse_format(cmd, arg, &a->format)) {
				cli_parser_done(&p);
				return EXIT_USAGE;
			}
			break;
		}
	}
	cli_parser_done(&p);
	*first = p.optind;
	if (!cli_operands(cmd, argc - p.optind, 2, 2))
		return EXIT_USAGE;
	if (bad_sync != NULL)
		return cli_usage_error(cmd, "bad sync mode '%s' (expected leaf, "
				       "batch or none)", bad_sync);
	if (jobs != NULL) {
		if (!cli_parse_u64(jobs, &v) || v == 0 ||
		    v > VMDK_STAMP_JOBS_MAX)
			return cli_usage_error(cmd, "bad jobs '%s' (expected "
					       "a number from 1 to %d)", jobs,
					       VMDK_STAMP_JOBS_MAX);
		a->jobs = (unsigned)v;
	}
	if (count != NULL) {
		if (!cli_parse_u64(count, &v) || v == 0 || v > MAX_COUNT)
			return cli_usage_error(cmd, "bad count '%s' (expected "
					       "a number from 1 to %d)", count,
					       MAX_COUNT);
		a->count = (unsigned long)v;
		if (a->name == NULL)
			return cli_usage_error(cmd, "--count needs --name "
					       "PATTERN (e.g. 'web-%%02d')");
	}
	if (count != NULL && a->plan_path != NULL)
		return cli_usage_error(cmd, "--count and --plan exclude each "
				       "other");
	if (a->plan_path != NULL && (a->name != NULL || a->memory != NULL ||
				     a->cpus != NULL))
		return cli_usage_error(cmd, "with --plan, names, memory and "
				       "cpus come from the plan");
	if (a->full && (a->snapshot_name != NULL ||
			a->snapshot_description != NULL))
		return cli_usage_error(cmd, "a --full clone has no snapshot; "
				       "drop --snapshot-name and "
				       "--snapshot-description");
	if (a->memory != NULL && (!cli_parse_u64(a->memory, &v) || v == 0))
		return cli_usage_error(cmd, "bad memory '%s' (expected MiB, a "
				       "number > 0)", a->memory);
	if (a->cpus != NULL && (!cli_parse_u64(a->cpus, &v) || v == 0))
		return cli_usage_error(cmd, "bad cpus '%s' (expected a number "
				       "> 0)", a->cpus);
	return -1;
}

/* Fills the leaf list; *parent is the folder the leaves are created in.
 * Returns an exit code, or -1. */
static int build_leaves(const struct cli_command *cmd,
			const struct clone_args *a, const char *leafdir,
			struct leaves *l, const char **parent)
{
	struct pattern pat;
	desc_error err;

	memset(l, 0, sizeof(*l));
	if (a->plan_path != NULL) {
		desc_error_clear(&err);
		if (vmdk_plan_load(a->plan_path, &l->plan, &err) != DESC_OK)
			return cli_report_error(&err);
		l->count = l->plan->count;
		l->specs = xcalloc(l->count, sizeof(*l->specs));
		for (size_t i = 0; i < l->count; i++) {
			l->specs[i] = l->plan->leaves[i];
			l->specs[i].folder = own(l, join(leafdir,
						l->plan->leaves[i].folder));
		}
		*parent = leafdir;
		return -1;
	}
	if (a->count > 0) {
		if (!pattern_parse(a->name, &pat))
			return cli_usage_error(cmd, "bad name pattern '%s' "
					       "(expected exactly one %%d or "
					       "%%0Nd, and %%%% for a '%%')",
					       a->name);
		l->count = a->count;
		l->specs = xcalloc(l->count, sizeof(*l->specs));
		for (size_t i = 0; i < l->count; i++) {
			char *name = pattern_expand(&pat, i + 1);

			l->specs[i].name = own(l, name);
			l->specs[i].folder = own(l, xasprintf("%s%s%s%s",
				leafdir, leafdir[strlen(leafdir) - 1] == '/' ?
				"" : "/", name, BUNDLE_SUFFIX));
			l->specs[i].memsize = a->memory;
			l->specs[i].numvcpus = a->cpus;
		}
		pattern_free(&pat);
		*parent = leafdir;
		return -1;
	}
	if (a->name != NULL && strchr(a->name, '%') != NULL)
		return cli_usage_error(cmd, "a name pattern needs --count");
	l->count = 1;
	l->specs = xcalloc(1, sizeof(*l->specs));
	l->specs[0].name = a->name ? a->name : own(l, name_from_folder(leafdir));
	l->specs[0].folder = leafdir;
	l->specs[0].memsize = a->memory;
	l->specs[0].numvcpus = a->cpus;
	*parent = own(l, cli_dirname(leafdir));
	return -1;
}

/* Both name one existing file (the same inode). */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cmd_clone(const struct cli_command *cmd, int argc, char **argv)
{
	vmdk_clone_options opt;
	vmdk_leaf_context *ctx = NULL;
	out_node **nodes = NULL;
	struct clone_args a;
	struct leaves l;
	struct cli_steps steps;
	struct cli_progress bar;
	out_node *root = NULL, *list = NULL;
	const char *base, *leafdir, *parent = NULL;
	desc_error err;
	size_t removed = 0, created = 0;
	bool made_parent = false, many;
	int first, rc;

	rc = parse_args(cmd, argc, argv, &a, &first);
	if (rc >= 0)
		return rc;
	base = argv[first];
	leafdir = argv[first + 1];
	if (base[0] == '\0' || leafdir[0] == '\0')
		return cli_usage_error(cmd, "empty BASE or LEAFDIR");
	rc = build_leaves(cmd, &a, leafdir, &l, &parent);
	if (rc >= 0)
		goto out;
	if (l.plan != NULL && l.plan->base != NULL &&
	    !same_file(l.plan->base, base)) {
		/* A plan written for another base would stamp leaves from
		 * the wrong disk without a word. */
		rc = cli_usage_error(cmd, "plan '%s' is for base '%s', not "
				     "'%s' (expected the same base "
				     "descriptor, or no base key)",
				     a.plan_path, l.plan->base, base);
		goto out;
	}
	rc = EXIT_CLEAN;

	memset(&opt, 0, sizeof(opt));
	opt.master_vmx = a.vmx ? a.vmx : (l.plan ? l.plan->vmx : NULL);
	opt.snapshot_name = a.snapshot_name;
	opt.snapshot_description = a.snapshot_description;
	opt.dry_run = a.dry_run;
	opt.full = a.full;
	/* Many leaves: one filesystem sync for the run instead of ~9 fsyncs
	 * a leaf (tests/bench/RESULTS.md); no leaf appears half written
	 * either way. */
	opt.sync = a.sync_set ? a.sync : (a.count > 0 || a.plan_path != NULL) ?
		   VMDK_SYNC_BATCH : VMDK_SYNC_LEAF;
	opt.report = cli_steps_report;
	opt.report_ctx = &steps;
	/* copying a base's extents can take a while: a bar per leaf,
	 * (re)started below */
	cli_progress_init(&bar, "clone", CLI_PROGRESS_OFF);
	opt.progress = cli_progress_update;
	opt.progress_ctx = &bar;
	cli_steps_init(&steps, a.format);
	if (a.format != OUT_TEXT) {
		root = out_new_map();
		out_add_str(root, "base", base);
		out_add_bool(root, "dryRun", a.dry_run);
		list = out_add_list(root, "leaves");
	}

	desc_error_clear(&err);
	if (a.dry_run && access(parent, F_OK) != 0 && opt.report != NULL)
		opt.report(opt.report_ctx, "mkdir", parent);
	if (!a.dry_run) {
		/* the folder the leaves go into (LEAFDIR for many, its
		 * parent for one) is made when missing, and removed again
		 * when no leaf could be stamped */
		if (cli_mkdir_missing(parent, &made_parent, &err) != DESC_OK) {
			rc = cli_report_error(&err);
			goto out;
		}
		if (vmdk_staging_cleanup(parent, &removed, &err) != DESC_OK) {
			rc = cli_report_error(&err);
			goto out;
		}
		if (removed > 0)
			cli_warn("removed %zu leftover staging folder%s in '%s'",
				 removed, removed == 1 ? "" : "s", parent);
	}
	/* the base and master .vmx are read once for all leaves */
	if (vmdk_leaf_context_new(base, &opt, &ctx, &err) != DESC_OK) {
		rc = cli_report_error(&err);
		goto out;
	}
	nodes = xcalloc(l.count ? l.count : 1, sizeof(*nodes));
	/* Batch leaves are staged on several threads, in order. */
	many = opt.sync == VMDK_SYNC_BATCH && !a.dry_run && !a.full;
	if (many) {
		desc_status st;

		/* the steps of a real run are the summary line */
		steps.format = OUT_YAML;
		st = vmdk_leaf_context_create_many(ctx, l.specs, l.count,
						   a.jobs, &created, &err);
		for (size_t i = 0; list != NULL && i < created; i++) {
			nodes[i] = out_add_map(list, NULL);
			out_add_str(nodes[i], "name", l.specs[i].name);
			out_add_str(nodes[i], "folder", l.specs[i].folder);
		}
		if (st != DESC_OK) {
			if (list != NULL && created < l.count) {
				out_node *m = out_add_map(list, NULL);

				out_add_str(m, "name", l.specs[created].name);
				out_add_str(m, "folder",
					    l.specs[created].folder);
				out_add_str(m, "status", "failed");
			}
			rc = cli_report_error(&err);
		}
	}
	for (size_t i = 0; i < l.count && !many; i++) {
		const vmdk_leaf_spec *spec = &l.specs[i];
		out_node *m = NULL;
		desc_status st;

		if (list != NULL) {
			m = out_add_map(list, NULL);
			out_add_str(m, "name", spec->name);
			out_add_str(m, "folder", spec->folder);
			if (a.dry_run)
				steps.list = out_add_list(m, "steps");
		} else if (a.dry_run) {
			printf("leaf %s -> '%s'\n", spec->name, spec->folder);
			steps.indent = "  ";
		} else {
			/* the steps of a real run are the summary line */
			steps.format = OUT_YAML;
		}
		cli_progress_init(&bar, spec->name, a.dry_run ?
				  CLI_PROGRESS_OFF : a.progress);
		st = vmdk_leaf_context_create(ctx, spec, &err);
		cli_progress_finish(&bar);
		if (st != DESC_OK) {
			if (m != NULL)
				out_add_str(m, "status", "failed");
			rc = cli_report_error(&err);
			break;
		}
		nodes[created++] = m;
		if (opt.sync == VMDK_SYNC_BATCH && !a.dry_run)
			continue; /* not in place before the commit */
		if (m != NULL)
			out_add_str(m, "status", a.dry_run ? "planned" :
				    "created");
		if (list == NULL && !a.dry_run)
			printf("created %s\n", spec->folder);
		fflush(stdout);
	}
	if (opt.sync == VMDK_SYNC_BATCH && !a.dry_run) {
		/* the leaves staged before a failure are kept too */
		size_t staged = created;

		if (vmdk_leaf_context_commit(ctx, &created, &err) != DESC_OK)
			rc = cli_report_error(&err);
		for (size_t i = 0; i < staged; i++) {
			if (nodes[i] != NULL)
				out_add_str(nodes[i], "status", i < created ?
					    "created" : "failed");
			else if (list == NULL && i < created)
				printf("created %s\n", l.specs[i].folder);
		}
	}
	if (root != NULL && !out_emit(stdout, root, a.format))
		rc = EXIT_SYSTEM;
	if (a.dry_run && a.format == OUT_TEXT && rc == EXIT_CLEAN)
		fputs("(dry run: nothing was written)\n", stderr);
	if (fflush(stdout) != 0) {
		cli_warn("cannot write to stdout: %s", strerror(errno));
		rc = EXIT_SYSTEM;
	}
out:
	if (made_parent && created == 0)
		rmdir(parent);
	vmdk_leaf_context_free(ctx);
	free(nodes);
	out_free(root);
	leaves_free(&l);
	return rc;
}
