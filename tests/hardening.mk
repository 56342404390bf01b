# Hardening tests (owner: hardening work): concurrency, hostile paths,
# failpoints, kill -9.  The fuzz harnesses are in tests/fuzz/fuzz.mk.
TESTS += tests/integration/concurrent-clone.sh
EXTRA_DIST += tests/integration/concurrent-clone.sh
TESTS += tests/integration/hostile-paths.sh
EXTRA_DIST += tests/integration/hostile-paths.sh
# Failure injection (VMDKIT_FAILPOINT), inert unless the variable is set.
libvmdkit_la_SOURCES += vmdk/failpoint.h vmdk/failpoint.c
check_PROGRAMS += tests/check_hardening
TESTS += tests/check_hardening
tests_check_hardening_SOURCES = tests/check_hardening.c
tests_check_hardening_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_hardening_LDADD = $(CHECK_TEST_LIBS)
# Reaches the internal fs_* helpers: the static archive.
tests_check_hardening_LDFLAGS = -static
TESTS += tests/integration/kill9.sh
EXTRA_DIST += tests/integration/kill9.sh
TESTS += tests/integration/failpoints.sh
EXTRA_DIST += tests/integration/failpoints.sh
EXTRA_DIST += tests/sanitize.sh
