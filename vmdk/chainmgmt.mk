# vmdk/ checking bundles and managing chains: check, dependents, relocate,
# repair-cid (owner: chain management work)
libvmdkit_la_SOURCES += \
	vmdk/chainmgmt_private.h \
	vmdk/bundle.c
libvmdkit_la_SOURCES += vmdk/repair.c
libvmdkit_la_SOURCES += vmdk/dependents.c
libvmdkit_la_SOURCES += vmdk/relocate.c

check_PROGRAMS += tests/check_bundle
TESTS += tests/check_bundle
tests_check_bundle_SOURCES = tests/check_bundle.c
tests_check_bundle_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_bundle_LDADD = $(CHECK_TEST_LIBS)
EXTRA_DIST += vmdk/CHECKS.md

CHAINMGMT_SHELL_TESTS = \
	tests/integration/bundle-check.sh \
	tests/integration/bundle-corpus.sh \
	tests/integration/check-leftovers.sh \
	tests/integration/relocate.sh \
	tests/integration/repair-cid.sh
TESTS += $(CHAINMGMT_SHELL_TESTS)
EXTRA_DIST += $(CHAINMGMT_SHELL_TESTS)
EXTRA_DIST += tests/golden/corpus-check.text
