# vmdk/ bases, leaves, plans (owner: leaf work)
libvmdkit_la_SOURCES += \
	vmdk/leaf_private.h \
	vmdk/manifest.c \
	vmdk/plan.c \
	vmdk/base.c \
	vmdk/leaf.c

check_PROGRAMS += tests/check_leaf
TESTS += tests/check_leaf
tests_check_leaf_SOURCES = tests/check_leaf.c
tests_check_leaf_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_leaf_LDADD = $(CHECK_TEST_LIBS)

# Drives base/clone/verify/plan for the shell tests, independent of the CLI.
check_PROGRAMS += tests/leaf-tool
tests_leaf_tool_SOURCES = tests/leaf-tool.c
tests_leaf_tool_CFLAGS = $(PROJECT_CFLAGS)
tests_leaf_tool_LDADD = libvmdkit.la
TESTS += tests/integration/leaf-e2e.sh tests/integration/leaf-mono.sh \
	tests/integration/leaf-exdev.sh
EXTRA_DIST += tests/integration/leaf-e2e.sh tests/integration/leaf-mono.sh \
	tests/integration/leaf-exdev.sh

check_PROGRAMS += tests/check_plan
TESTS += tests/check_plan
tests_check_plan_SOURCES = tests/check_plan.c
tests_check_plan_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_plan_LDADD = $(CHECK_TEST_LIBS)

EXTRA_DIST += \
	tests/data/plan/README \
	tests/data/plan/bad-memory.yaml \
	tests/data/plan/bad-vmx-key.yaml \
	tests/data/plan/bad-yaml.yaml \
	tests/data/plan/dotdot-folder.yaml \
	tests/data/plan/duplicate-folder.yaml \
	tests/data/plan/duplicate-key.yaml \
	tests/data/plan/duplicate-name.yaml \
	tests/data/plan/empty-leaves.yaml \
	tests/data/plan/empty.yaml \
	tests/data/plan/good.yaml \
	tests/data/plan/list-name.yaml \
	tests/data/plan/no-leaves.yaml \
	tests/data/plan/no-name.yaml \
	tests/data/plan/slash-name.yaml \
	tests/data/plan/two-docs.yaml \
	tests/data/plan/unknown-key.yaml \
	tests/data/plan/unknown-top-key.yaml \
	tests/data/plan/zero-cpus.yaml
