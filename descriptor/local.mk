# descriptor/ - the text layer (owner: descriptor work)
nobase_vmdkitinclude_HEADERS += descriptor/descriptor.h
libvmdkit_la_SOURCES += \
	descriptor/alloc.c \
	descriptor/error.c \
	descriptor/private.h \
	descriptor/banned.h \
	descriptor/desc_private.h \
	descriptor/descriptor.c \
	descriptor/validate.c

check_PROGRAMS += tests/check_descriptor
TESTS += tests/check_descriptor
tests_check_descriptor_SOURCES = tests/check_descriptor.c
tests_check_descriptor_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_descriptor_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_alloc
TESTS += tests/check_alloc
tests_check_alloc_SOURCES = tests/check_alloc.c
tests_check_alloc_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_alloc_LDADD = $(CHECK_TEST_LIBS)
EXTRA_DIST += descriptor/FINDINGS.md \
	tests/data/descriptor/README \
	tests/data/descriptor/crlf.vmdk \
	tests/data/descriptor/emoji-name.vmdk \
	tests/data/descriptor/qemu-stale-after-cid.vmdk \
	tests/data/descriptor/qemu-unpadded-cid.vmdk \
	tests/data/descriptor/quote-in-name.vmdk
# dictionary grammar (.vmx, .vmsd, DDB) - owner: dictionary work
libvmdkit_la_SOURCES += descriptor/dict.c
check_PROGRAMS += tests/check_dict
TESTS += tests/check_dict
tests_check_dict_SOURCES = tests/check_dict.c
tests_check_dict_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_dict_LDADD = $(CHECK_TEST_LIBS)
