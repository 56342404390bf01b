# vmdk/ bases, leaves, plans, .vmx (owner: leaf work)
libvmdkit_la_SOURCES +=
