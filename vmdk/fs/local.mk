# vmdk/fs/ - the OS layer: paths, exact reads, copies, staging names,
# their cleanup, failpoints, and the Linux fast paths with their POSIX
# fallbacks (os.c).
# Uses libc and descriptor/'s allocator and errors only.
libvmdkit_la_SOURCES += \
	vmdk/fs/fs.h \
	vmdk/fs/fs.c \
	vmdk/fs/staging.c \
	vmdk/fs/failpoint.h \
	vmdk/fs/failpoint.c \
	vmdk/fs/os.h \
	vmdk/fs/os.c \
	vmdk/fs/txn.h \
	vmdk/fs/txn_private.h \
	vmdk/fs/txn.c \
	vmdk/fs/txn_journal.c \
	vmdk/fs/txn_recover.c
