# vmdk/ disk layer: sparse extents, open/read/chain, create (owner: disk work)
vmdkitinclude_HEADERS += vmdk/vmdk.h
libvmdkit_la_SOURCES += \
	vmdk/fsutil.h
