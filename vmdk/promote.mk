# vmdk/ promote and full clones, streamOptimized reading, and the CLI's
# promote command and progress bar (owner: promote work).  Included after
# cli/local.mk so the CLI sources can be added to vmdkit_SOURCES.
libvmdkit_la_SOURCES += \
	vmdk/promote.c \
	vmdk/promote_private.h \
	vmdk/stream.c

vmdkit_SOURCES += \
	cli/cmd_promote.c \
	cli/progress.c \
	cli/progress.h

# Test driver for the shell tests (independent of the CLI's wiring).
check_PROGRAMS += tests/promote-tool
tests_promote_tool_SOURCES = tests/promote-tool.c
tests_promote_tool_CFLAGS = $(PROJECT_CFLAGS)
tests_promote_tool_LDADD = libvmdkit.la

# check-info-repeats.sh tests vmdk/bundle.c's cap on repeated info
# findings (made with the memory work on promote and check, issue #7).
PROMOTE_SHELL_TESTS = \
	tests/integration/promote-sparse.sh \
	tests/integration/promote-stream.sh \
	tests/integration/promote-interrupt.sh \
	tests/integration/promote-fullclone.sh \
	tests/integration/promote-cli.sh \
	tests/integration/check-info-repeats.sh
TESTS += $(PROMOTE_SHELL_TESTS)
EXTRA_DIST += $(PROMOTE_SHELL_TESTS)

check_PROGRAMS += tests/check_promote
TESTS += tests/check_promote
tests_check_promote_SOURCES = tests/check_promote.c
tests_check_promote_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_promote_LDADD = $(CHECK_TEST_LIBS)

# Benchmark, not a test (run by hand; figures in the commit/report).
EXTRA_DIST += tests/bench/promote.sh
