# cli/ - the vmdkit program (owner: cli work)
bin_PROGRAMS += vmdkit
vmdkit_SOURCES = \
	cli/cli.h \
	cli/main.c \
	cli/output.c \
	cli/output.h \
	cli/util.c
vmdkit_CFLAGS = $(PROJECT_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS)
vmdkit_LDADD = libvmdkit.la $(YAML_LIBS) $(JSONC_LIBS)
EXTRA_DIST += cli/EXIT_CODES
