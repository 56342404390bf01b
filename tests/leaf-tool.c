/*
 * leaf-tool.c - a small driver for the base/leaf/plan code, used by the
 * shell tests under tests/integration/leaf-*.sh independently of the
 * vmdkit CLI.
 *
 *   leaf-tool base [--copy] [--absolute] [--strip-long-content-id] [--dry-run] SOURCE BASEDIR
 *   leaf-tool clone [--vmx MASTER.vmx] [--dry-run] [--memory N] [--cpus N] BASE FOLDER NAME...
 *                   (one leaf per NAME: FOLDER/NAME.vmwarevm, or FOLDER itself for one NAME
 *                    with --exact)
 *   leaf-tool verify BASEDIR
 *   leaf-tool plan FILE
 *   leaf-tool cleanup DIR
 *
 * Exit codes follow the vmdkit contract: 0 ok/clean, 1 findings, 2 usage,
 * 3 bad input, 4 filesystem, 6 refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmdk/vmdk.h"

static int exit_code(desc_status st)
{
	switch (st) {
	case DESC_OK:
		return 0;
	case DESC_E_SYNTAX:
	case DESC_E_INVALID:
	case DESC_E_FORMAT:
	case DESC_E_TOO_LARGE:
	case DESC_E_CHAIN:
		return 3;
	case DESC_E_EXISTS:
	case DESC_E_BUSY:
	case DESC_E_REFUSED:
		return 6;
	case DESC_E_ARG:
		return 2;
	default:
		return 4;
	}
}

static int fail(const desc_error *err)
{
	char buf[2300];

	desc_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "leaf-tool: %s\n", buf);
	return exit_code(err->code);
}

static int usage(void)
{
	fprintf(stderr, "usage: leaf-tool base|clone|verify|plan|cleanup ...\n");
	return 2;
}

static void print_step(void *ctx, const char *action, const char *path)
{
	(void)ctx;
	printf("%s %s\n", action, path);
}

static int cmd_base(int argc, char **argv)
{
	vmdk_base_options opt;
	desc_error err;
	int i;

	memset(&opt, 0, sizeof(opt));
	opt.report = print_step;
	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--copy") == 0)
			opt.copy = true;
		else if (strcmp(argv[i], "--absolute") == 0)
			opt.absolute = true;
		else if (strcmp(argv[i], "--strip-long-content-id") == 0)
			opt.strip_long_content_id = true;
		else if (strcmp(argv[i], "--dry-run") == 0)
			opt.dry_run = true;
		else
			return usage();
	}
	if (argc - i != 2)
		return usage();
	if (vmdk_base_make(argv[i], argv[i + 1], &opt, &err) != DESC_OK)
		return fail(&err);
	return 0;
}

static int cmd_clone(int argc, char **argv)
{
	vmdk_clone_options opt;
	vmdk_leaf_context *ctx = NULL;
	vmdk_leaf_spec spec;
	const char *memory = NULL, *cpus = NULL;
	bool exact = false;
	desc_error err;
	int i, rc = 0;

	memset(&opt, 0, sizeof(opt));
	opt.report = print_step;
	for (i = 0; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--vmx") == 0 && i + 1 < argc)
			opt.master_vmx = argv[++i];
		else if (strcmp(argv[i], "--memory") == 0 && i + 1 < argc)
			memory = argv[++i];
		else if (strcmp(argv[i], "--cpus") == 0 && i + 1 < argc)
			cpus = argv[++i];
		else if (strcmp(argv[i], "--dry-run") == 0)
			opt.dry_run = true;
		else if (strcmp(argv[i], "--exact") == 0)
			exact = true;
		else
			return usage();
	}
	if (argc - i < 3 || (exact && argc - i != 3))
		return usage();
	if (vmdk_leaf_context_new(argv[i], &opt, &ctx, &err) != DESC_OK)
		return fail(&err);
	for (int k = i + 2; k < argc && rc == 0; k++) {
		char folder[4096];

		if (exact)
			snprintf(folder, sizeof(folder), "%s", argv[i + 1]);
		else
			snprintf(folder, sizeof(folder), "%s/%s.vmwarevm",
				 argv[i + 1], argv[k]);
		memset(&spec, 0, sizeof(spec));
		spec.name = argv[k];
		spec.folder = folder;
		spec.memsize = memory;
		spec.numvcpus = cpus;
		if (vmdk_leaf_context_create(ctx, &spec, &err) != DESC_OK)
			rc = fail(&err);
	}
	vmdk_leaf_context_free(ctx);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	desc_findings findings;
	desc_error err;
	size_t i;
	int worst;

	if (argc != 1)
		return usage();
	desc_findings_init(&findings);
	if (vmdk_base_verify(argv[0], &findings, &err) != DESC_OK) {
		desc_findings_clear(&findings);
		return fail(&err);
	}
	for (i = 0; i < findings.count; i++) {
		const desc_finding *f = &findings.items[i];

		printf("%s %s %s: %s\n", desc_severity_name(f->severity),
		       f->code, f->file ? f->file : "", f->message);
	}
	worst = desc_findings_max_severity(&findings);
	desc_findings_clear(&findings);
	return worst == DESC_SEV_ERROR ? 1 : worst == DESC_SEV_WARNING ? 5 : 0;
}

static int cmd_plan(int argc, char **argv)
{
	vmdk_plan *plan = NULL;
	desc_error err;
	size_t i, j;

	if (argc != 1)
		return usage();
	if (vmdk_plan_load(argv[0], &plan, &err) != DESC_OK)
		return fail(&err);
	printf("base: %s\nvmx: %s\n", plan->base ? plan->base : "-",
	       plan->vmx ? plan->vmx : "-");
	for (i = 0; i < plan->count; i++) {
		const vmdk_leaf_spec *l = &plan->leaves[i];

		printf("leaf %u: %s -> %s memory=%s cpus=%s\n", l->line,
		       l->name, l->folder, l->memsize ? l->memsize : "-",
		       l->numvcpus ? l->numvcpus : "-");
		for (j = 0; j < l->extra_count; j++)
			printf("  %s = %s\n", l->extra_keys[j],
			       l->extra_values[j]);
	}
	vmdk_plan_free(plan);
	return 0;
}

static int cmd_cleanup(int argc, char **argv)
{
	desc_error err;
	size_t removed = 0;

	if (argc != 1)
		return usage();
	if (vmdk_staging_cleanup(argv[0], &removed, &err) != DESC_OK)
		return fail(&err);
	printf("removed %zu\n", removed);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "base") == 0)
		return cmd_base(argc - 2, argv + 2);
	if (strcmp(argv[1], "clone") == 0)
		return cmd_clone(argc - 2, argv + 2);
	if (strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if (strcmp(argv[1], "plan") == 0)
		return cmd_plan(argc - 2, argv + 2);
	if (strcmp(argv[1], "cleanup") == 0)
		return cmd_cleanup(argc - 2, argv + 2);
	return usage();
}
