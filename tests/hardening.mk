# Hardening tests (owner: hardening work): concurrency, hostile paths,
# failpoints, kill -9.  The fuzz harnesses are in tests/fuzz/fuzz.mk.
TESTS += tests/integration/concurrent-clone.sh
EXTRA_DIST += tests/integration/concurrent-clone.sh
TESTS += tests/integration/hostile-paths.sh
EXTRA_DIST += tests/integration/hostile-paths.sh
# Failure injection (VMDKIT_FAILPOINT), inert unless the variable is set.
libvmdkit_la_SOURCES += vmdk/failpoint.h vmdk/failpoint.c
