#!/bin/sh
# leaf-mono.sh - a monolithicSparse master (one file, embedded descriptor)
# made into a base with --copy, and leaves over it: the base is the file
# itself with ddb.uuid removed from its embedded descriptor; each leaf's
# descriptor copy is a twoGbMaxExtentSparse text descriptor whose one
# extent is the base file (qemu refuses a text monolithicSparse).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
need vmdkinfo
cd "$T"

mkdir -p "Ünïcode Master" bases leaves
m="Ünïcode Master/mono disk.vmdk"
qemu-img create -q -f vmdk "$m" 8M
qemu-io -c 'write -P 0x5a 0 64k' -c 'write -P 0xa5 7M 64k' "$m" >/dev/null
# Put a ddb.uuid into the embedded descriptor (20 sectors at sector 1).
head -c 10240 "$m" | tail -c 9728 | tr -d '\000' >desc.txt
printf 'ddb.uuid = "60 00 c2 99 ab ce aa 92-d3 3e 55 a9 30 e7 c6 dd"\n' >>desc.txt
[ "$(wc -c <desc.txt)" -lt 10240 ] || fail "descriptor too long"
{ cat desc.txt; head -c $((10240 - $(wc -c <desc.txt))) /dev/zero; } >area.bin
dd if=area.bin of="$m" bs=512 seek=1 conv=notrunc 2>/dev/null
qemu-img info "$m" >/dev/null || fail "test setup broke the master"
cid=$(sed -n 's/^CID=//p' desc.txt)
master_sum=$(sha256sum <"$m")

"$VMDKIT" base --copy "$m" "bases/mono" >/dev/null
[ "$(sha256sum <"$m")" = "$master_sum" ] || fail "--copy changed the master"
[ -f "bases/mono/mono disk.vmdk" ] || fail "base file missing"
[ "$(ls bases/mono | wc -l)" = 2 ] || fail "base holds: $(ls bases/mono)"
head -c 10752 "bases/mono/mono disk.vmdk" | tr -d '\000' >based.txt
grep -q ddb.uuid based.txt && fail "ddb.uuid kept in the embedded descriptor"
grep -q "^CID=$cid$" based.txt || fail "CID changed"
qemu-img check -q "bases/mono/mono disk.vmdk" || fail "qemu-img check on the base"
"$VMDKIT" verify bases/mono >v.txt || fail "verify: $(cat v.txt)"
(cd bases/mono && sha256sum -- *) >base.sha

for n in 1 2; do
	"$VMDKIT" clone --name "Mono $n" "bases/mono/mono disk.vmdk" "leaves/Mono $n.vmwarevm" >/dev/null
	L="leaves/Mono $n.vmwarevm"
	[ -f "$L/Mono $n.vmx" ] || fail "no .vmx"
	grep -q '^createType="twoGbMaxExtentSparse"' "$L/mono disk.vmdk" || fail "copy type: $(cat "$L/mono disk.vmdk")"
	grep -q 'SPARSE "../../bases/mono/mono disk.vmdk"' "$L/mono disk.vmdk" || fail "copy extent: $(cat "$L/mono disk.vmdk")"
	disk=$(sed -n 's/^scsi0:0\.fileName = "\(.*\)"$/\1/p' "$L/Mono $n.vmx")
	[ "$disk" = "mono disk-000001.vmdk" ] || fail "disk '$disk'"
	qemu-img info --backing-chain "$L/$disk" >info.txt
	[ "$(grep -c '^image:' info.txt)" = 2 ] || fail "chain: $(cat info.txt)"
	qemu-io -r -c 'read -P 0x5a 0 64k' -c 'read -P 0xa5 7M 64k' "$L/$disk" >io.txt
	grep -q 'Pattern verification failed' io.txt && fail "pattern through leaf $n"
	vmdkinfo "$L/mono disk.vmdk" >vi.txt 2>&1 || fail "vmdkinfo: $(cat vi.txt)"
	grep -q "Content identifier:.*0x$(printf %08x "0x$cid")" vi.txt || fail "vmdkinfo: $(cat vi.txt)"
done
qemu-io -c 'write -P 0x77 0 4k' "leaves/Mono 1.vmwarevm/mono disk-000001.vmdk" >/dev/null
qemu-io -r -c 'read -P 0x5a 0 64k' "leaves/Mono 2.vmwarevm/mono disk-000001.vmdk" >io.txt
grep -q 'Pattern verification failed' io.txt && fail "leaf 2 sees leaf 1's write"
(cd bases/mono && sha256sum -- *) | cmp -s - base.sha || fail "the base changed"

# Moving (not copying) a monolithic master leaves nothing of it behind.
mkdir m2
qemu-img create -q -f vmdk m2/solo.vmdk 4M
"$VMDKIT" base m2/solo.vmdk bases/solo >/dev/null
[ ! -e m2/solo.vmdk ] || fail "monolithic master still in place after a move"
"$VMDKIT" verify bases/solo >/dev/null || fail "verify solo"

# A clone first removes the staging leftovers of killed runs in the folder
# it stamps into; symlinks and files with the prefix are not touched.
mkdir leaves/.vmdkit-tmp-crashed-abc123 && touch leaves/.vmdkit-tmp-crashed-abc123/x
mkdir keep && ln -s ../keep leaves/.vmdkit-tmp-link
touch leaves/.vmdkit-tmp-file
"$VMDKIT" clone --name "Mono 3" "bases/mono/mono disk.vmdk" "leaves/Mono 3.vmwarevm" \
	>/dev/null 2>err.txt || fail "clone after a crash: $(cat err.txt)"
[ "$(cat err.txt)" = "vmdkit: removed 1 leftover staging folder in 'leaves'" ] ||
	fail "cleanup: $(cat err.txt)"
[ ! -e leaves/.vmdkit-tmp-crashed-abc123 ] || fail "leftover kept"
[ -d keep ] && [ -L leaves/.vmdkit-tmp-link ] && [ -f leaves/.vmdkit-tmp-file ] || fail "cleanup removed too much"
exit 0
