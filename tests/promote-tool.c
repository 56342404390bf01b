/*
 * promote-tool.c - a small driver over vmdk_promote and full clones for
 * the shell tests, so they do not depend on the CLI's wiring:
 *
 *   promote-tool promote LEAF [-o DIR] [-t TYPE] [-n]
 *   promote-tool full-clone BASE LEAFDIR
 *
 * Steps are printed as "ACTION PATH"; errors as "promote-tool: MESSAGE".
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "vmdk/vmdk.h"

static int fail(const desc_error *err)
{
	char buf[2200];

	desc_error_format(err, buf, sizeof(buf));
	fprintf(stderr, "promote-tool: %s\n", buf);
	return 1;
}

static void step(void *ctx, const char *action, const char *path)
{
	(void)ctx;
	printf("%s %s\n", action, path);
}

static int usage(void)
{
	fprintf(stderr, "usage: promote-tool promote LEAF [-o DIR] [-t TYPE] [-n]\n"
			"       promote-tool full-clone BASE LEAFDIR\n");
	return 2;
}

static int promote(int argc, char **argv)
{
	vmdk_promote_options opt;
	desc_error err;
	int i;

	memset(&opt, 0, sizeof(opt));
	opt.report = step;
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			opt.output_dir = argv[++i];
		} else if (strcmp(argv[i], "-t") == 0 && i + 1 < argc) {
			if (!vmdk_create_type_from_name(argv[++i], &opt.type))
				return usage();
			opt.type_set = true;
		} else if (strcmp(argv[i], "-n") == 0) {
			opt.dry_run = true;
		} else {
			return usage();
		}
	}
	if (vmdk_promote(argv[2], &opt, &err) != DESC_OK)
		return fail(&err);
	return 0;
}

static int full_clone(int argc, char **argv)
{
	vmdk_clone_options opt;
	vmdk_leaf_spec spec;
	const char *name;
	desc_error err;

	if (argc != 4)
		return usage();
	memset(&opt, 0, sizeof(opt));
	memset(&spec, 0, sizeof(spec));
	opt.full = true;
	opt.report = step;
	name = strrchr(argv[3], '/');
	spec.name = name ? name + 1 : argv[3];
	spec.folder = argv[3];
	if (vmdk_leaf_create(argv[2], &spec, &opt, &err) != DESC_OK)
		return fail(&err);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	if (strcmp(argv[1], "promote") == 0)
		return promote(argc, argv);
	if (strcmp(argv[1], "full-clone") == 0)
		return full_clone(argc, argv);
	return usage();
}
