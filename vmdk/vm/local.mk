# vmdk/vm/ - VM text files: .vmx, .vmsd, clone plans.  Uses descriptor/.
libvmdkit_la_SOURCES += \
	vmdk/vm/vm.h \
	vmdk/vm/vmx.c \
	vmdk/vm/plan.c
