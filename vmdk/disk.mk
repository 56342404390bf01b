# vmdk/ disk layer: sparse extents, open/read/chain, create (owner: disk work)
vmdkitinclude_HEADERS += vmdk/vmdk.h
libvmdkit_la_SOURCES += \
	vmdk/fsutil.h \
	vmdk/fsutil.c

check_PROGRAMS += tests/check_disk
TESTS += tests/check_disk
tests_check_disk_SOURCES = tests/check_disk.c
tests_check_disk_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_disk_LDADD = $(CHECK_TEST_LIBS)
# Links the static archive: the tests reach internal fs_* helpers that the
# shared library does not export.
tests_check_disk_LDFLAGS = -static
