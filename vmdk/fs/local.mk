# vmdk/fs/ - the OS layer: paths, exact reads, copies, staging names and
# their cleanup, failpoints.  Uses libc and descriptor/'s allocator and errors only.
libvmdkit_la_SOURCES += \
	vmdk/fs/fs.h \
	vmdk/fs/fs.c \
	vmdk/fs/staging.c \
	vmdk/fs/failpoint.h \
	vmdk/fs/failpoint.c
