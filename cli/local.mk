# cli/ - the vmdkit program (owner: cli work)
bin_PROGRAMS += vmdkit
vmdkit_SOURCES = \
	cli/cli.h \
	cli/cmd_base.c \
	cli/cmd_chain.c \
	cli/cmd_chainmgmt.c \
	cli/cmd_check.c \
	cli/cmd_clone.c \
	cli/cmd_create.c \
	cli/cmd_desc.c \
	cli/cmd_info.c \
	cli/cmd_verify.c \
	cli/main.c \
	cli/output.c \
	cli/output.h \
	cli/steps.c \
	cli/util.c
vmdkit_CFLAGS = $(PROJECT_CFLAGS) $(YAML_CFLAGS) $(JSONC_CFLAGS)
vmdkit_LDADD = libvmdkit.la $(YAML_LIBS) $(JSONC_LIBS)
EXTRA_DIST += cli/EXIT_CODES

# CLI tests: golden files (run in samples/, so outputs hold relative paths)
# and behaviour checks.  `make update-golden` rewrites tests/golden/* from
# the current build: review the diff before committing it.
TESTS += \
	tests/cli/golden.sh \
	tests/cli/desc.sh \
	tests/cli/usage.sh \
	tests/cli/create.sh \
	tests/cli/clone.sh \
	tests/cli/check-corpus.sh \
	tests/cli/chainmgmt.sh
EXTRA_DIST += \
	tests/cli/golden.sh \
	tests/cli/desc.sh \
	tests/cli/usage.sh \
	tests/cli/create.sh \
	tests/cli/clone.sh \
	tests/cli/check-corpus.sh \
	tests/cli/chainmgmt.sh \
	tests/golden \
	tests/data/cli \
	samples/Master.vmdk \
	samples/Data.vmdk \
	samples/Server-000001.vmdk \
	samples/Odd.vmdk \
	samples/master/Master.vmx \
	samples/master/Master.vmsd \
	samples/master/Master.vmdk \
	samples/odd/Odd.vmx \
	samples/odd/Odd.vmsd \
	samples/odd/Odd.vmdk \
	samples/plan.yaml \
	samples/tiny/Tiny.vmdk \
	samples/tiny/Tiny-flat.vmdk

update-golden: vmdkit
	VMDKIT='$(abs_top_builddir)/vmdkit' VMDKIT_SRCDIR='$(abs_top_srcdir)' \
	VMDKIT_BUILDDIR='$(abs_top_builddir)' VMDKIT_UPDATE_GOLDEN=1 \
		$(SHELL) '$(abs_top_srcdir)/tests/cli/golden.sh'
.PHONY: update-golden
