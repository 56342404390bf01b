# vmdk/ops/ - one file per command (base and check in parts with a private
# header each): the policy.  Uses vmdk/disk/, vmdk/vm/,
# vmdk/fs/ and descriptor/.
libvmdkit_la_SOURCES += \
	vmdk/ops/ops.h \
	vmdk/ops/scan.h \
	vmdk/ops/base.h \
	vmdk/ops/check.h \
	vmdk/ops/manifest.c \
	vmdk/ops/base.c \
	vmdk/ops/base_undo.c \
	vmdk/ops/verify.c \
	vmdk/ops/leaf.c \
	vmdk/ops/promote.c \
	vmdk/ops/check.c \
	vmdk/ops/check_vm.c \
	vmdk/ops/check_leftovers.c \
	vmdk/ops/scan.c \
	vmdk/ops/dependents.c \
	vmdk/ops/relocate.c \
	vmdk/ops/repair.c
