# cli/docs.mk - what users read and install besides the program: man pages,
# bash completion, the C sample built against the library, and the tests
# that keep them true (owner: docs work).

dist_man_MANS = cli/man/vmdkit.1 cli/man/vmdkit-plan.5 cli/man/libvmdkit.3

# Always under $(datadir), never bash-completion's own completionsdir:
# that one lies outside $(prefix) and would make distcheck's install fail.
bashcompletiondir = $(datadir)/bash-completion/completions
dist_bashcompletion_DATA = cli/completion/vmdkit

# The sample is built by make check (against the tree's headers and
# library) so an API change that breaks it fails the build; tests/install.sh
# builds it again against an installed copy through pkg-config.
check_PROGRAMS += samples/example
samples_example_SOURCES = samples/example.c
samples_example_CFLAGS = $(PROJECT_CFLAGS)
samples_example_LDADD = libvmdkit.la

DOCS_TESTS = \
	tests/docs/help-vs-man.sh \
	tests/docs/readme-tutorial.sh \
	tests/docs/completion.sh \
	tests/docs/example.sh \
	tests/docs/formats.sh \
	tests/docs/exit-codes.sh \
	tests/install.sh
TESTS += $(DOCS_TESTS)
EXTRA_DIST += $(DOCS_TESTS) tests/docs/formats.golden
