# vmdk/ disk layer: sparse extents, open/read/chain, create (owner: disk work)
nobase_vmdkitinclude_HEADERS += vmdk/vmdk.h
libvmdkit_la_SOURCES += \
	vmdk/fsutil.h \
	vmdk/fsutil.c \
	vmdk/disk_private.h \
	vmdk/sparse.c \
	vmdk/disk.c \
	vmdk/chain.c \
	vmdk/create.c

check_PROGRAMS += tests/check_disk
TESTS += tests/check_disk
tests_check_disk_SOURCES = tests/check_disk.c
tests_check_disk_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_disk_LDADD = $(CHECK_TEST_LIBS)
# Links the static archive: the tests reach internal fs_* helpers that the
# shared library does not export.
tests_check_disk_LDFLAGS = -static

check_PROGRAMS += tests/check_sparse
TESTS += tests/check_sparse
tests_check_sparse_SOURCES = tests/check_sparse.c
tests_check_sparse_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_sparse_LDADD = $(CHECK_TEST_LIBS)
tests_check_sparse_LDFLAGS = -static
EXTRA_DIST += tests/data/sparse/qemu-pattern.vmdk

# Test driver for the shell tests (independent of the CLI's progress).
check_PROGRAMS += tests/vmdk-tool
tests_vmdk_tool_SOURCES = tests/vmdk-tool.c
tests_vmdk_tool_CFLAGS = $(PROJECT_CFLAGS)
tests_vmdk_tool_LDADD = libvmdkit.la

DISK_SHELL_TESTS = \
	tests/integration/disk-create.sh \
	tests/integration/disk-delta.sh \
	tests/integration/disk-read.sh
TESTS += $(DISK_SHELL_TESTS)
EXTRA_DIST += $(DISK_SHELL_TESTS)
