# cli/ - the vmdkit program: command table, options, output.  Uses the
# library's public headers only.
bin_PROGRAMS += vmdkit
vmdkit_SOURCES = \
	cli/cli.h \
	cli/cmd_base.c \
	cli/cmd_chain.c \
	cli/cmd_check.c \
	cli/cmd_clone.c \
	cli/cmd_create.c \
	cli/cmd_dependents.c \
	cli/cmd_desc.c \
	cli/cmd_info.c \
	cli/cmd_promote.c \
	cli/cmd_relocate.c \
	cli/cmd_repair_cid.c \
	cli/cmd_verify.c \
	cli/main.c \
	cli/output.c \
	cli/output.h \
	cli/progress.c \
	cli/progress.h \
	cli/steps.c \
	cli/util.c
vmdkit_CFLAGS = $(PROJECT_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS)
vmdkit_LDADD = libvmdkit.la $(YAML_LIBS) $(JSONC_LIBS)
EXTRA_DIST += cli/EXIT_CODES

# What users read and install besides the program: man pages and shell
# completion (tests/docs/ keeps them true).
dist_man_MANS = cli/man/vmdkit.1 cli/man/vmdkit-plan.5 cli/man/libvmdkit.3

# Always under $(datadir), never bash-completion's own completionsdir:
# that one lies outside $(prefix) and would make distcheck's install fail.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = cli/completion/vmdkit
