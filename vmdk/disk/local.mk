# vmdk/disk/ - on-disk formats: sparse (KDMV), streamOptimized, opening a
# disk and its chain, reading, creating, flattening, full copies.  Uses
# vmdk/fs/ and descriptor/.
libvmdkit_la_SOURCES += \
	vmdk/disk/disk.h \
	vmdk/disk/flatten.h \
	vmdk/disk/sparse.c \
	vmdk/disk/stream.c \
	vmdk/disk/disk.c \
	vmdk/disk/chain.c \
	vmdk/disk/create.c \
	vmdk/disk/descriptor_file.c \
	vmdk/disk/flatten.c \
	vmdk/disk/copy.c
