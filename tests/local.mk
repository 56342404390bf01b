# tests/ - shared test settings.  Each owner adds its suites in its own
# fragment (descriptor/local.mk, vmdk/disk.mk, vmdk/leaf.mk, cli/local.mk).
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	VMDKIT='$(abs_top_builddir)/vmdkit'; export VMDKIT; \
	VMDKIT_SRCDIR='$(abs_top_srcdir)'; export VMDKIT_SRCDIR; \
	VMDKIT_BUILDDIR='$(abs_top_builddir)'; export VMDKIT_BUILDDIR; \
	VMDKIT_CORPUS="$${VMDKIT_CORPUS:-$(abs_top_srcdir)/../shared/corpus}"; export VMDKIT_CORPUS; \
	CK_DEFAULT_TIMEOUT=300; export CK_DEFAULT_TIMEOUT;
CHECK_TEST_CFLAGS = $(PROJECT_CFLAGS) $(CHECK_CFLAGS)
CHECK_TEST_LIBS = libvmdkit.la $(CHECK_LIBS)
EXTRA_DIST += tests/lib.sh tests/valgrind-wrap.sh

# The test list, for .ci/run (which runs subsets under valgrind/ASan).
print-tests:
	@echo $(TESTS)
.PHONY: print-tests

# Portability findings proved against the consumers (issue: canonical writer)
TESTS += tests/integration/portability.sh
EXTRA_DIST += tests/integration/portability.sh
