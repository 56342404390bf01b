#!/bin/sh
# hostile-paths.sh - descriptors whose extents or parentFileNameHint point
# outside (../, absolute), leaf folders that are symlinks, pre-existing
# files with the target names, names with newlines: vmdkit never writes
# outside its target, never writes through a symlink, and
# `check --confine` reports every escape.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
cd "$T"

# Listing with hashes of everything outside the targets (symlinks listed
# as links, not followed).
snap() { (cd outside && find . -printf '%p %y %m %l\n' | sort &&
	  find . -type f -exec sha256sum {} + | sort); }
same_outside() { [ "$(snap)" = "$before" ] || fail "outside changed: $*"; }

mkdir outside m leaves
qemu-img create -q -f vmdk m/M.vmdk 4M
"$VMDKIT" base --copy m/M.vmdk base >/dev/null
truncate -s 1M outside/data-flat.vmdk
printf 'config.version = "8"\n' >outside/victim.vmx
qemu-img create -q -f vmdk outside/P.vmdk 4M
before=$(snap)

# --- descriptors pointing outside -------------------------------------
mkdir evil
cat >evil/E.vmdk <<'DESC'
# Disk DescriptorFile
version=1
CID=fffffffe
parentCID=ffffffff
createType="monolithicFlat"

# Extent description
RW 2048 FLAT "../outside/data-flat.vmdk" 0

# The Disk Data Base
#DDB

ddb.adapterType = "ide"
DESC
sed "s|\"../outside/data-flat.vmdk\"|\"$T/outside/data-flat.vmdk\"|" \
	evil/E.vmdk >evil/A.vmdk
# A delta whose parent hint is absolute and outside.
qemu-img create -q -f vmdk -b "$T/outside/P.vmdk" -F vmdk evil/D.vmdk
grep -q "parentFileNameHint=\"$T/outside/P.vmdk\"" evil/D.vmdk ||
	fail "qemu-img did not write an absolute parent hint"

for d in E A D; do
	expect_exit 1 "$VMDKIT" check --confine evil "evil/$d.vmdk" >"check.$d"
	grep -q 'path-escapes-confine' "check.$d" ||
		fail "check --confine did not report the escape of $d: $(cat "check.$d")"
done
# Through a symlink that stays lexically inside.
ln -s ../outside evil/link
sed 's|"../outside/data-flat.vmdk"|"link/data-flat.vmdk"|' evil/E.vmdk \
	>evil/L.vmdk
expect_exit 1 "$VMDKIT" check --confine evil evil/L.vmdk >check.L
grep -q 'path-escapes-confine' check.L ||
	fail "check --confine did not report the symlink escape: $(cat check.L)"
# A .vmx disk and a .vmsd snapshot disk outside.
printf '.encoding = "UTF-8"\nconfig.version = "8"\nscsi0.present = "TRUE"\nscsi0:0.present = "TRUE"\nscsi0:0.fileName = "%s"\nscsi0:0.deviceType = "scsi-hardDisk"\n' \
	"$T/outside/P.vmdk" >evil/V.vmx
printf '.encoding = "UTF-8"\nsnapshot.lastUID = "1"\nsnapshot.numSnapshots = "1"\nsnapshot.current = "1"\nsnapshot0.uid = "1"\nsnapshot0.displayName = "Base"\nsnapshot0.numDisks = "1"\nsnapshot0.disk0.fileName = "../outside/P.vmdk"\nsnapshot0.disk0.node = "scsi0:0"\n' \
	>evil/V.vmsd
for f in V.vmx V.vmsd; do
	expect_exit 1 "$VMDKIT" check --confine evil "evil/$f" >"check.$f"
	grep -q 'path-escapes-confine' "check.$f" ||
		fail "check --confine did not report the escape in $f: $(cat "check.$f")"
done
# The whole folder, recursively.
expect_exit 1 "$VMDKIT" check --confine evil --recursive evil >check.all
[ "$(grep -c 'path-escapes-confine' check.all)" -ge 6 ] ||
	fail "check --confine --recursive: $(cat check.all)"
same_outside "check"

# Clones and a copied base from hostile descriptors write only their
# target (the outside extents are only read).
"$VMDKIT" clone --no-progress evil/E.vmdk leaves/XE >/dev/null
"$VMDKIT" clone --no-progress evil/A.vmdk leaves/XA >/dev/null
expect_exit 6 "$VMDKIT" clone --no-progress evil/D.vmdk leaves/XD 2>err
"$VMDKIT" base --copy evil/E.vmdk base2 >/dev/null
same_outside "clone/base from descriptors pointing outside"
# Promoting a delta whose parent is outside writes into its folder only.
mkdir leaves/XD
qemu-img create -q -f vmdk -b "$T/outside/P.vmdk" -F vmdk leaves/XD/D.vmdk
mkdir leaves/XDout
"$VMDKIT" promote --no-progress --output leaves/XDout leaves/XD/D.vmdk >/dev/null
grep -qa parentFileNameHint leaves/XDout/* && fail "promote left a delta"
same_outside "promote of a leaf whose chain leaves the tree"

# --- leaf and base folders that are symlinks or files ------------------
ln -s ../outside leaves/S
expect_exit 6 "$VMDKIT" clone --no-progress base/M.vmdk leaves/S 2>err
grep -q 'already exists' err || fail "symlink leaf: $(cat err)"
ln -s /nonexistent-dir-vmdkit leaves/dangling
expect_exit 6 "$VMDKIT" clone --no-progress base/M.vmdk leaves/dangling 2>err
[ ! -e /nonexistent-dir-vmdkit ] || fail "clone followed a dangling symlink"
: >leaves/F
expect_exit 6 "$VMDKIT" clone --no-progress base/M.vmdk leaves/F 2>err
[ ! -s leaves/F ] || fail "clone wrote into a pre-existing file"
ln -s outside base3
expect_exit 6 "$VMDKIT" base --copy m/M.vmdk base3 2>err
mkdir base4 && : >base4/M.vmdk
expect_exit 6 "$VMDKIT" base --copy m/M.vmdk base4 2>err
[ ! -s base4/M.vmdk ] || fail "base wrote into a pre-existing folder"
same_outside "symlinked or pre-existing targets"

# --- leaf names that would escape or break lines -------------------------
nl='
'
expect_exit 3 "$VMDKIT" clone --no-progress --name "a${nl}b" base/M.vmdk leaves/N
expect_exit 3 "$VMDKIT" clone --no-progress --name ../../outside/pwn base/M.vmdk leaves/P
expect_exit 3 "$VMDKIT" clone --no-progress base/M.vmdk "leaves/nl${nl}name"
[ ! -e leaves/N ] && [ ! -e leaves/P ] || fail "a leaf with a bad name was created"
same_outside "names"

# --- files inside a leaf that are symlinks to outside -------------------
"$VMDKIT" clone --no-progress base/M.vmdk leaves/L >/dev/null
mv leaves/L/L.vmx outside/victim.vmx && ln -s ../../outside/victim.vmx leaves/L/L.vmx
before=$(snap)
leaf_before=$(cd leaves/L && ls -l --time-style=+ && sha256sum ./*)
expect_exit 6 "$VMDKIT" promote --no-progress leaves/L/L.vmx >/dev/null 2>err
grep -q 'not a regular file' err || fail "symlinked .vmx: $(cat err)"
[ "$(cd leaves/L && ls -l --time-style=+ && sha256sum ./*)" = "$leaf_before" ] ||
	fail "refused promote did not leave the leaf as it was"
same_outside "promote with a symlinked .vmx"
"$VMDKIT" clone --no-progress base/M.vmdk leaves/L2 >/dev/null
ln -s ../../outside/target.vmdk leaves/L2/L2.vmdk
"$VMDKIT" promote --no-progress leaves/L2/L2.vmx >/dev/null
[ ! -e outside/target.vmdk ] || fail "promote wrote through a symlink"
[ -L leaves/L2/L2.vmdk ] || fail "promote replaced a file it did not own"
same_outside "promote beside a planted symlink"
qemu-img check -q "leaves/L2/$(sed -n 's/^scsi0:0.fileName = "\(.*\)"$/\1/p' leaves/L2/L2.vmx)" ||
	fail "promoted leaf beside a planted symlink is not valid"
