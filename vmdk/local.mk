# vmdk/ - disks and VMs on the filesystem, in four layers, each with its
# own fragment (vmdk/fs, vmdk/disk, vmdk/vm, vmdk/ops).  This folder holds
# only the public header and the findings reference.
nobase_vmdkitinclude_HEADERS += vmdk/vmdk.h
EXTRA_DIST += vmdk/CHECKS.md
include vmdk/fs/local.mk
include vmdk/disk/local.mk
include vmdk/vm/local.mk
include vmdk/ops/local.mk
