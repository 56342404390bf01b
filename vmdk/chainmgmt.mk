# vmdk/ checking bundles and managing chains: check, dependents, relocate,
# repair-cid (owner: chain management work)
libvmdkit_la_SOURCES += \
	vmdk/chainmgmt_private.h \
	vmdk/bundle.c
libvmdkit_la_SOURCES += vmdk/repair.c
libvmdkit_la_SOURCES += vmdk/dependents.c
libvmdkit_la_SOURCES += vmdk/relocate.c
