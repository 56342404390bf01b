/*
 * vm.h - the VM files layer (vmdk/vm/): .vmx and .vmsd helpers, clone
 * plans and the names they give leaves.
 *
 * Layer rule: vmdk/vm/ works on text only; it uses descriptor/ (and
 * implements its part of vmdk/vmdk.h), never the filesystem layers.
 * Private, never installed.
 *
 * Same conventions as descriptor.h: every call returns a desc_status and
 * fills a caller-owned desc_error (may be NULL); objects returned through
 * `**out` belong to the caller (desc_dict_free / the matching *_free); on
 * failure *out is NULL and nothing passed in is modified.
 *
 * The public part (vmdk_vmx_disks, vmdk_vmx_disks_free) is in vmdk/vmdk.h.
 */
#ifndef VMDKIT_VMX_PRIVATE_H
#define VMDKIT_VMX_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "descriptor/descriptor.h"

/* Name of the snapshot a leaf gets when the caller gives none. */
#define VMX_DEFAULT_SNAPSHOT_NAME "Base"
#define VMX_DEFAULT_SNAPSHOT_DESCRIPTION "Don't delete!"

/*
 * Turns a copy of the master's .vmx (already parsed into `vmx`) into the
 * leaf's .vmx, editing it in place (only the touched lines change):
 *   - displayName = display_name;
 *   - removes the identity a clone must not share: uuid.bios,
 *     uuid.location, vc.uuid, vm.genid, vm.genidX,
 *     ethernetN.generatedAddress, ethernetN.generatedAddressOffset, a
 *     static ethernetN.address (that NIC's addressType becomes
 *     "generated"), and the per-VM state files: sched.swap.derivedName,
 *     checkpoint.vmState, extendedConfigFile, migrate.hostLog,
 *     vmxstats.filename and any other key whose value names a .vmss,
 *     .vmem or .vswp file;
 *   - nvram = "<display_name>.nvram" ('/', '\' and ':' in the name
 *     become '_', so the file stays inside the bundle);
 *   - uuid.action = "create" (the hypervisor makes a new uuid without
 *     asking "moved or copied?");
 *   - removes fileSearchPath and answer.msg.uuid.altered (Workstation
 *     linked-clone / copied-VM leftovers);
 *   - points disk_node at disk_file with vmx_point_disk (below).
 * Other disk nodes are left as they are: a multi-disk leaf calls
 * vmx_point_disk for each of them (a node left alone keeps naming the
 * master's disk, which the leaf would then share).
 * disk_node is "scsi0:0"-like (controller scsi/sata/nvme/ide, N:M);
 * anything else is DESC_E_ARG, as is an empty display_name or disk_file.
 * A non-ASCII display_name or disk_file in a .vmx whose .encoding is not
 * UTF-8 (Shift_JIS, windows-1252... occur) is DESC_E_REFUSED, before any
 * edit: the bytes we write are UTF-8 and would be misread.
 * On failure the dictionary may be partly edited: callers work on their
 * own copy and discard it on error.
 */
desc_status vmx_prepare_leaf(desc_dict *vmx, const char *display_name,
			     const char *disk_node, const char *disk_file,
			     desc_error *err);

/*
 * Makes disk_node a present hard disk naming disk_file, with the edits a
 * leaf's disk needs (only those lines change):
 *   - NODE.fileName = disk_file (an existing key keeps its spelling, e.g.
 *     `filename`), NODE.present = "TRUE", and the controller's
 *     .present = "TRUE" (scsiN/sataN/nvmeN; IDE has none);
 *   - a cdrom/atapi NODE.deviceType is removed (the node becomes a disk);
 *   - an independent-* NODE.mode is removed: independent disks are left
 *     out of snapshots, so the leaf's snapshot would not protect the base;
 *   - NODE.redo is removed.
 * Bad node or empty disk_file: DESC_E_ARG; non-ASCII disk_file in a
 * non-UTF-8 .vmx: DESC_E_REFUSED (as for vmx_prepare_leaf).
 */
desc_status vmx_point_disk(desc_dict *vmx, const char *disk_node,
			   const char *disk_file, desc_error *err);

/*
 * A minimal .vmx for a leaf when there is no master .vmx:
 *   .encoding = "UTF-8", config.version = "8", virtualHW.version = "16"
 *   (a hosted-product level: Workstation 15.5 / Fusion 11.5 and every
 *   later release open it, old enough for any supported Fusion and new
 *   enough for e1000e and NVMe),
 *   displayName, guestOS = "other-64", memsize = "1024", numvcpus = "1",
 *   the disk's controller (scsiN: present + virtualDev "lsilogic";
 *   sataN/nvmeN: present; ideN: nothing), the disk node (present,
 *   fileName), ethernet0 (present, e1000e, addressType "generated"),
 *   nvram = "<display_name>.nvram", uuid.action = "create", pciBridge0/4-7
 *   as Fusion and Workstation write them (PCIe slots for e1000e).
 * Caller frees *out with desc_dict_free.
 */
desc_status vmx_new_default(const char *display_name, const char *disk_node,
			    const char *disk_file, desc_dict **out,
			    desc_error *err);

/*
 * A .vmsd with exactly one snapshot (uid 1, current), in the key order
 * VMware writes:
 *   .encoding, snapshot.lastUID, snapshot.current, snapshot0.uid,
 *   snapshot0.displayName, snapshot0.description, snapshot0.createTimeHigh,
 *   snapshot0.createTimeLow, snapshot0.numDisks, snapshot0.disk0.fileName,
 *   snapshot0.disk0.node, snapshot.numSnapshots.
 * snapshot_name NULL = VMX_DEFAULT_SNAPSHOT_NAME, description NULL =
 * VMX_DEFAULT_SNAPSHOT_DESCRIPTION.  create_time_us is microseconds since
 * 1970 UTC, written as the high 32 bits and the low 32 bits as a signed
 * int32 (as VMware does).  No snapshot0.filename line: there is no .vmsn
 * (memory/config state) for this snapshot, and naming a file that does not
 * exist would only make a later check report a dangling reference.
 * disk_file is the parent side of the snapshot (the leaf's copy of the
 * base descriptor), disk_node e.g. "scsi0:0".
 * Caller frees *out with desc_dict_free.
 */
desc_status vmsd_new_single(const char *snapshot_name, const char *description,
			    const char *disk_node, const char *disk_file,
			    uint64_t create_time_us, desc_dict **out,
			    desc_error *err);

/*
 * The same for a leaf with several disks: one snapshot holding ndisks
 * disks, snapshot0.numDisks = ndisks and snapshot0.diskI.fileName/.node
 * for each, in the same key order (all before snapshot.numSnapshots, as
 * VMware writes them).  ndisks 0: DESC_E_ARG.
 */
desc_status vmsd_new_snapshot(const char *snapshot_name,
			      const char *description,
			      const char *const *disk_nodes,
			      const char *const *disk_files, size_t ndisks,
			      uint64_t create_time_us, desc_dict **out,
			      desc_error *err);

/* One snapshotN.diskM entry of a .vmsd. */
typedef struct vmsd_snapshot_disk {
	unsigned long snapshot; /* N of snapshotN */
	unsigned long disk;     /* M of diskM */
	char *file_name;        /* snapshotN.diskM.fileName, decoded */
	char *node;             /* snapshotN.diskM.node, decoded; NULL if absent */
	unsigned line;          /* line of the fileName key */
} vmsd_snapshot_disk;

/*
 * Every snapshotN.diskM.fileName of a .vmsd, in file order (an empty or
 * snapshot-less .vmsd gives count 0 and *out NULL).  Keys are matched
 * case-insensitively.  Caller frees with vmsd_snapshot_disks_free.
 */
desc_status vmsd_snapshot_disks(const desc_dict *vmsd,
				vmsd_snapshot_disk **out, size_t *count,
				desc_error *err);
void vmsd_snapshot_disks_free(vmsd_snapshot_disk *disks, size_t count);

/* Names a plan or the command line gives leaves (vmdk/vm/plan.c). */

/* Why a leaf name cannot be used as a file name and displayName, or NULL
 * when it can (non-empty, no '/', not "." or "..", no control bytes, no
 * '"', at most 200 bytes). */
const char *leaf_name_problem(const char *name);

/* Why a leaf folder from a plan cannot be used (absolute, empty, a ".."
 * component), or NULL when it can. */
const char *leaf_folder_problem(const char *folder);

#endif
