#!/bin/sh
# leaf-e2e.sh - the seed HOWTO end to end with independent oracles: a
# master "8.10 Core" with a split (twoGbMaxExtentSparse) disk and a .vmx
# becomes a base in "Virtual Machines/8.10 Core"; two leaves are stamped
# from it (vmdkit base, clone, verify); qemu-img, qemu-io and vmdkinfo
# judge the result.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
need vmdkinfo
cd "$T"

VM="Virtual Machines"
M="$VM/8.10 Core.vmwarevm"
B="$VM/8.10 Core"
L1="$VM/8.10 Leaf 1.vmwarevm"
L2="$VM/8.10 Leaf 2.vmwarevm"
mkdir -p "$M"

# --- the master -----------------------------------------------------------
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse \
	"$M/8.10 Core.vmdk" 5G
[ -f "$M/8.10 Core-s003.vmdk" ] || fail "qemu-img did not split the disk"
# Known patterns in the first, second and third extent.
qemu-io -c 'write -P 0x11 0 64k' -c 'write -P 0x22 3G 64k' \
	-c 'write -P 0x33 4100M 64k' "$M/8.10 Core.vmdk" >/dev/null
# Identity the base must drop (qemu writes none itself).  qemu pads the
# descriptor with NULs after rewriting the CID: drop them first.
tr -d '\000' <"$M/8.10 Core.vmdk" >desc.tmp
printf 'ddb.uuid = "60 00 c2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd"\n' >>desc.tmp
# A longContentID as VMware wrote it before qemu changed the CID: the base
# must realign its last 8 digits with the CID.
printf 'ddb.longContentID = "0123456789abcdef01234567deadbeef"\n' >>desc.tmp
cat desc.tmp >"$M/8.10 Core.vmdk"
# qemu writes the CID without leading zeros; vmdkinfo prints 8 digits.
cid=$(sed -n 's/^CID=//p' "$M/8.10 Core.vmdk")
cat >"$M/8.10 Core.vmx" <<'VMX'
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "16"
displayName = "8.10 Core"
guestOS = "rhel8-64"
memsize = "1024"
numvcpus = "1"
scsi0.present = "TRUE"
scsi0.virtualDev = "pvscsi"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "8.10 Core.vmdk"
scsi0:0.deviceType = "scsi-hardDisk"
ethernet0.present = "TRUE"
ethernet0.addressType = "generated"
ethernet0.generatedAddress = "00:0c:29:aa:bb:cc"
uuid.bios = "56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee"
uuid.location = "56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee"
nvram = "8.10 Core.nvram"
VMX
printf 'nvram bytes' >"$M/8.10 Core.nvram"
printf 'log' >"$M/vmware.log"

# --- dry run writes nothing -------------------------------------------------
before=$(cd "$VM" && find . | sort | md5sum)
"$VMDKIT" base --dry-run "$M/8.10 Core.vmx" "$B" >dry.out 2>/dev/null
grep -q "^move '.*8.10 Core-s002.vmdk' -> '" dry.out || fail "dry run does not list the moves"
[ "$(cd "$VM" && find . | sort | md5sum)" = "$before" ] || fail "dry run changed files"

# --- refusals ---------------------------------------------------------------
mkdir "$M/8.10 Core.vmdk.lck"
expect_exit 6 "$VMDKIT" base "$M/8.10 Core.vmx" "$B" 2>err.txt
grep -q "'8.10 Core.vmdk.lck' exists: the master looks running; power it off first" err.txt \
	|| fail "lock refusal message: $(cat err.txt)"
rmdir "$M/8.10 Core.vmdk.lck"
mkdir -p "not empty" && touch "not empty/x"
expect_exit 6 "$VMDKIT" base "$M/8.10 Core.vmx" "not empty" 2>err.txt
grep -q 'base folder exists and is not empty' err.txt || fail "non-empty basedir: $(cat err.txt)"

# --- make the base (move) ---------------------------------------------------
"$VMDKIT" base "$M/8.10 Core.vmx" "$B" >base.out
for f in "8.10 Core.vmdk" "8.10 Core-s001.vmdk" "8.10 Core-s002.vmdk" \
	"8.10 Core-s003.vmdk" vmdkit-base.manifest; do
	[ -f "$B/$f" ] || fail "base lacks $f"
	[ "$(stat -c %a "$B/$f")" = 444 ] || fail "$f is not 0444"
done
[ ! -e "$M/8.10 Core-s001.vmdk" ] || fail "extent still in the master"
[ -f "$M/8.10 Core.vmdk.vmdkit-moved" ] || fail "master descriptor not renamed"
[ ! -e "$M/8.10 Core.vmdk" ] || fail "master descriptor still bootable"
ls -a "$VM" | grep -q '^\.vmdkit-tmp-' && fail "staging folder left behind"
grep -q 'ddb.uuid' "$B/8.10 Core.vmdk" && fail "ddb.uuid kept in the base"
[ "$(sed -n 's/^CID=//p' "$B/8.10 Core.vmdk")" = "$cid" ] || fail "CID changed"
lcid=$(sed -n 's/^ddb.longContentID = "\(.*\)"$/\1/p' "$B/8.10 Core.vmdk")
[ "$lcid" = "0123456789abcdef01234567$(printf %08x "0x$cid")" ] \
	|| fail "longContentID '$lcid' not realigned with CID $cid"
grep -q '^RW 4194304 SPARSE "8.10 Core-s001.vmdk"$' "$B/8.10 Core.vmdk" \
	|| fail "extent paths not rewritten to bare names"
[ -f "$M/8.10 Core.nvram" ] || fail "nvram moved"
[ -f "$B/8.10 Core.nvram" ] && fail "nvram in the base"
qemu-io -r -c 'read -P 0x22 3G 64k' "$B/8.10 Core.vmdk" >/dev/null \
	|| fail "base does not read the master's data"
(cd "$B" && sha256sum -- *) >base.sha
"$VMDKIT" verify "$B" >verify.out || fail "fresh base does not verify: $(cat verify.out)"

# --- two leaves ---------------------------------------------------------------
"$VMDKIT" clone --vmx "$M/8.10 Core.vmx" --name "8.10 Leaf 1" "$B/8.10 Core.vmdk" "$L1" >/dev/null
"$VMDKIT" clone --vmx "$M/8.10 Core.vmx" --memory 2048 --name "8.10 Leaf 2" "$B/8.10 Core.vmdk" "$L2" >/dev/null
for L in "$L1" "$L2"; do
	name=$(basename "$L" .vmwarevm)
	vmx="$L/$name.vmx"
	[ -f "$vmx" ] || fail "$vmx missing"
	[ -f "$L/$name.vmsd" ] || fail "$L/$name.vmsd missing"
	[ -f "$L/8.10 Core.vmdk" ] || fail "$L lacks its descriptor copy"
	ls "$L" | grep -qE 'nvram|\.log$' && fail "$L holds per-VM files of the master"
	grep -qi 'uuid.bios\|generatedAddress = ' "$vmx" && fail "$vmx keeps identity"
	grep -q "^displayName = \"$name\"" "$vmx" || fail "$vmx displayName"
	disk=$(sed -n 's/^scsi0:0\.fileName = "\(.*\)"$/\1/p' "$vmx")
	[ "$disk" = "8.10 Core-000001.vmdk" ] || fail "$vmx names disk '$disk'"
	grep -q '^RW 4194304 SPARSE "../8.10 Core/8.10 Core-s001.vmdk"$' "$L/8.10 Core.vmdk" \
		|| fail "copy's extent paths are not relative to the leaf"
	grep -q 'ddb.uuid' "$L/8.10 Core.vmdk" && fail "ddb.uuid in the copy"
	grep -q 'fileName = "8.10 Core.vmdk"' "$L/$name.vmsd" || fail "vmsd disk"
	qemu-img info --backing-chain "$L/$disk" >info.txt
	[ "$(grep -c '^image:' info.txt)" = 2 ] || fail "chain is not leaf -> base: $(cat info.txt)"
	grep -q '^backing file: 8.10 Core.vmdk' info.txt || fail "backing: $(cat info.txt)"
	qemu-img check -q "$L/$disk" || fail "qemu-img check $L/$disk"
	qemu-io -r -c 'read -P 0x11 0 64k' -c 'read -P 0x22 3G 64k' \
		-c 'read -P 0x33 4100M 64k' -c 'read -P 0 1G 64k' "$L/$disk" >io.txt \
		|| fail "patterns through $L: $(cat io.txt)"
	grep -q 'Pattern verification failed' io.txt && fail "pattern mismatch through $L"
	vmdkinfo "$L/8.10 Core.vmdk" >vi.txt 2>&1 || fail "vmdkinfo: $(cat vi.txt)"
	grep -q "Content identifier:.*0x$(printf %08x "0x$cid")" vi.txt || fail "vmdkinfo CID: $(cat vi.txt)"
done
grep -q '^memsize = "2048"' "$L2/8.10 Leaf 2.vmx" || fail "memsize not set"

# Writes into leaf 1 stay in leaf 1.
qemu-io -c 'write -P 0x99 0 4k' -c 'write -P 0x98 3G 4k' "$L1/8.10 Core-000001.vmdk" >/dev/null
qemu-io -r -c 'read -P 0x99 0 4k' -c 'read -P 0x98 3G 4k' -c 'read -P 0x11 4k 60k' \
	"$L1/8.10 Core-000001.vmdk" >io.txt
grep -q 'Pattern verification failed' io.txt && fail "leaf 1 lost its write"
qemu-io -r -c 'read -P 0x11 0 64k' -c 'read -P 0x22 3G 64k' "$L2/8.10 Core-000001.vmdk" >io.txt
grep -q 'Pattern verification failed' io.txt && fail "leaf 2 sees leaf 1's write"
(cd "$B" && sha256sum -- *) | cmp -s - base.sha || fail "the base changed"
"$VMDKIT" verify "$B" >verify.out || fail "base does not verify after writes: $(cat verify.out)"

# --- failures leave nothing behind -------------------------------------------
expect_exit 6 "$VMDKIT" clone --name "8.10 Leaf 1" "$B/8.10 Core.vmdk" "$L1" 2>err.txt
grep -q "leaf folder '.*8.10 Leaf 1.vmwarevm' already exists" err.txt || fail "exists: $(cat err.txt)"
# A base extent gone: refused, nothing made.  (Failures in the middle of a
# leaf, after staging began, are covered by check_leaf's allocation-failure
# loop.)
mv "$B/8.10 Core-s003.vmdk" s003.keep
expect_exit 4 "$VMDKIT" clone --name Broken "$B/8.10 Core.vmdk" "$VM/Broken.vmwarevm" 2>err.txt
mv s003.keep "$B/8.10 Core-s003.vmdk"
grep -q "base extent '8.10 Core-s003.vmdk' is missing or not a file" err.txt || fail "missing extent: $(cat err.txt)"
[ ! -e "$VM/Broken.vmwarevm" ] || fail "broken leaf left in place"
ls -a "$VM" | grep -q '^\.vmdkit-tmp-' && fail "staging folder left behind: $(ls -a "$VM")"

# --- verify catches damage ---------------------------------------------------
s1="$B/8.10 Core-s001.vmdk"
chmod u+w "$s1"
off=$((65536 * 3 + 10))
orig=$(dd if="$s1" bs=1 skip=$off count=1 2>/dev/null | od -An -tx1 | tr -d ' ')
printf '\377' | dd of="$s1" bs=1 seek=$off conv=notrunc 2>/dev/null
[ "$orig" != ff ] || printf '\376' | dd of="$s1" bs=1 seek=$off conv=notrunc 2>/dev/null
chmod a-w "$s1"
expect_exit 1 "$VMDKIT" verify "$B" >verify.out
grep -q "8.10 Core-s001.vmdk: error: .* \[base-modified\]$" verify.out || fail "flip not found: $(cat verify.out)"
chmod u+w "$B/8.10 Core.vmdk"
expect_exit 1 "$VMDKIT" verify "$B" >verify.out
grep -q "8.10 Core.vmdk: error: .* \[base-writable\]$" verify.out || fail "writable not found: $(cat verify.out)"
exit 0
