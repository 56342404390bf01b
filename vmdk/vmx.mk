# vmdk/ .vmx and .vmsd helpers (owner: dictionary work)
libvmdkit_la_SOURCES += vmdk/vmx.c vmdk/vmx_private.h
