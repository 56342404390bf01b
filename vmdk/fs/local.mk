# vmdk/fs/ - the OS layer: paths, exact reads, copies, staging names,
# failpoints.  Uses libc and descriptor/'s allocator and errors only.
libvmdkit_la_SOURCES += \
	vmdk/fs/fs.h \
	vmdk/fs/fs.c \
	vmdk/fs/failpoint.h \
	vmdk/fs/failpoint.c
libvmdkit_la_SOURCES += \
	vmdk/fs/txn.h \
	vmdk/fs/txn.c
