# descriptor/ - the text layer: descriptor, dictionary grammar, errors,
# allocation.  Uses libc and pcre2 only.
nobase_vmdkitinclude_HEADERS += descriptor/descriptor.h
libvmdkit_la_SOURCES += \
	descriptor/alloc.c \
	descriptor/error.c \
	descriptor/number.c \
	descriptor/private.h \
	descriptor/banned.h \
	descriptor/reader.h \
	descriptor/reader.c \
	descriptor/lines.h \
	descriptor/lines.c \
	descriptor/desc_private.h \
	descriptor/descriptor.c \
	descriptor/edit.c \
	descriptor/validate.c \
	descriptor/dict.c
EXTRA_DIST += descriptor/FINDINGS.md
