# descriptor/ - the text layer (owner: descriptor work)
vmdkitinclude_HEADERS += descriptor/descriptor.h
libvmdkit_la_SOURCES += \
	descriptor/alloc.c \
	descriptor/error.c \
	descriptor/private.h \
	descriptor/banned.h
# dictionary grammar (.vmx, .vmsd, DDB) - owner: dictionary work
libvmdkit_la_SOURCES += descriptor/dict.c
