# vmdk/ .vmx and .vmsd helpers (owner: dictionary work)
libvmdkit_la_SOURCES += vmdk/vmx.c vmdk/vmx_private.h
# The suite calls the private helpers of vmx_private.h, which the shared
# library does not export: link the static archive instead.
check_PROGRAMS += tests/check_vmx
TESTS += tests/check_vmx
tests_check_vmx_SOURCES = tests/check_vmx.c
tests_check_vmx_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_vmx_LDADD = $(CHECK_TEST_LIBS)
tests_check_vmx_LDFLAGS = -static
EXTRA_DIST += \
	tests/data/vmx/master.vmx \
	tests/data/vmx/master-leaf.vmx \
	tests/data/vmx/default.vmx \
	tests/data/vmx/single.vmsd
