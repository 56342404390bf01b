#!/bin/sh
# disk-read.sh - vmdk_disk_read through a chain (tests/vmdk-read) returns
# the bytes qemu-img convert returns; `vmdkit chain` names the first broken
# link: CID mismatch, missing parent, loop.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
READ="$VMDKIT_BUILDDIR/tests/vmdk-read"
[ -x "$READ" ] || skip "tests/vmdk-read not built"

same_as_qemu() { # DISK
	"$READ" "$1" "$T/ours.raw" || fail "vmdk-read $1"
	qemu-img convert -f vmdk -O raw "$1" "$T/qemu.raw" || fail "qemu-img convert $1"
	cmp "$T/ours.raw" "$T/qemu.raw" || fail "$1: our bytes differ from qemu-img convert"
}

# ---- monolithicSparse base + our delta + qemu's delta on top -----------
mkdir "$T/base dir" "$T/leaf dir"
B="$T/base dir/base disk.vmdk"
qemu-img create -q -f vmdk "$B" 40M
qemu-io -f vmdk -c 'write -P 0x11 0 1M' -c 'write -P 0x22 5M 3M' \
	-c 'write -P 0x33 33M 100k' -c 'write -P 0x44 40894k 66k' "$B" >/dev/null
same_as_qemu "$B"
cp "$T/ours.raw" "$T/base.raw"
# A renamed monolithic file still describes itself.
cp "$B" "$T/renamed copy.vmdk"
same_as_qemu "$T/renamed copy.vmdk"
cmp "$T/ours.raw" "$T/base.raw" || fail "renamed copy reads differently"
D="$T/leaf dir/delta 1.vmdk"
"$VMDKIT" create --parent "$B" "$D" >/dev/null
same_as_qemu "$D"
# Overlapping writes: partial grains, grain and table boundaries.
qemu-io -f vmdk -c 'write -P 0xa1 512k 1M' -c 'write -P 0xa2 6M 4k' \
	-c 'write -P 0xa3 31M 2M' -c 'write -z 5M 64k' "$D" >/dev/null
same_as_qemu "$D"
cmp -s "$T/ours.raw" "$T/base.raw" && fail "delta reads like the base"
qemu-img create -q -f vmdk -b "delta 1.vmdk" -F vmdk "$T/leaf dir/delta 2.vmdk"
qemu-io -f vmdk -c 'write -P 0xb1 700k 10k' "$T/leaf dir/delta 2.vmdk" >/dev/null
same_as_qemu "$T/leaf dir/delta 2.vmdk"
"$VMDKIT" chain "$T/leaf dir/delta 2.vmdk" >"$T/chain.txt" || fail "chain: $(cat "$T/chain.txt")"
[ "$(grep -c '^  - path:' "$T/chain.txt")" = 3 ] || fail "3 links expected: $(cat "$T/chain.txt")"
tail -n 1 "$T/chain.txt" | grep -qx 'status: ok' || fail "chain not ok"

# ---- zeroed-grain entries (GTE 1, flag bit 2) hide the parent ----------
Z="$T/leaf dir/zeroed.vmdk"
qemu-img create -q -f vmdk -o zeroed_grain=on -b "delta 1.vmdk" -F vmdk "$Z"
qemu-io -f vmdk -c 'write -z 0 1M' -c 'write -P 0xc1 1M 64k' "$Z" >/dev/null
# qemu set the zeroedGrain flag (bit 2) in the header, and we read a
# version 2 header with one allocated grain (the zeroed ones are none).
[ "$(od -An -tx1 -j 8 -N 4 "$Z" | tr -d ' ')" = 07000000 ] ||
	fail "zeroed_grain flag not set: $(od -An -tx1 -N 16 "$Z")"
"$VMDKIT" info --format json "$Z" >"$T/info.json" || fail "info: $(cat "$T/info.json")"
grep -q '"version": 2,' "$T/info.json" && grep -q '"allocatedGrains": 1,' "$T/info.json" ||
	fail "zeroed-grain extent: $(cat "$T/info.json")"
same_as_qemu "$Z"
od -An -tx1 -N 16 -j 600000 "$T/ours.raw" | grep -q '^ 00 00' || fail "zeroed grain reads parent data"

# ---- split base (text descriptor) with a split delta -------------------
mkdir "$T/split"
S="$T/split/s base.vmdk"
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse "$S" 5G
qemu-io -f vmdk -c 'write -P 0x55 2047M 2M' "$S" >/dev/null
SD="$T/split/s delta.vmdk"
"$VMDKIT" create --parent "$S" "$SD" >/dev/null
qemu-io -f vmdk -c 'write -P 0x66 2048M 64k' -c 'write -P 0x67 5119M 1M' "$SD" >/dev/null
# Compare only the interesting windows (the whole disk is 5 GiB).
window() { # DISK FIRST_MIB COUNT_MIB
	"$READ" "$1" "$T/w.raw" "$2M" "$3M" || fail "read $1 at $2M"
	# qemu-img dd's skip/count differ between versions: use the raw
	# driver's offset/size window over the vmdk instead.
	qemu-img convert -O raw "json:{\"driver\": \"raw\", \"offset\": $(($2 * 1048576)), \"size\": $(($3 * 1048576)), \"file\": {\"driver\": \"vmdk\", \"file\": {\"driver\": \"file\", \"filename\": \"$1\"}}}" "$T/w.qemu.raw" ||
		fail "qemu-img convert window of $1"
	cmp "$T/w.raw" "$T/w.qemu.raw" || fail "$1: bytes at $2 MiB differ from qemu"
	rm -f "$T/w.raw" "$T/w.qemu.raw"
}
window "$SD" 2040 16
window "$SD" 5112 8
window "$SD" 0 4

# ---- our own split flat disk written by qemu-io ------------------------
FL="$T/flat disk.vmdk"
"$VMDKIT" create --type twoGbMaxExtentFlat --size 5G "$FL" >/dev/null
qemu-io -f vmdk -c 'write -P 0x99 4161500k 8M' "$FL" >/dev/null
window "$FL" 4060 16
window "$FL" 5100 20

# ---- broken chains -----------------------------------------------------
# CID mismatch: bump the split base's CID in its text descriptor.
old=$(sed -n 's/^CID=//p' "$S")
sed "s/^CID=.*/CID=12345678/" "$S" >"$T/tmp" && cat "$T/tmp" >"$S"
expect_exit 1 "$VMDKIT" chain "$SD" >"$T/chain.txt"
grep -q "CID mismatch: parentCID=0*$old in '.*s delta.vmdk' but CID=12345678 in its parent '.*s base.vmdk'" "$T/chain.txt" ||
	fail "CID mismatch not reported: $(cat "$T/chain.txt")"
expect_exit 1 "$READ" "$SD" "$T/x.raw" 2>"$T/err"
grep -q "CID mismatch" "$T/err" || fail "open with chain: $(cat "$T/err")"
# qemu agrees the chain is broken (it checks CIDs on reading the parent).
qemu-io -f vmdk -r -c 'read 0 512' "$SD" 2>&1 | grep -q "read failed" ||
	fail "qemu still reads through the mismatched chain"

# Capacity mismatch.
sed "s/^CID=.*/CID=$old/; s/^RW 2097152 SPARSE/RW 2097153 SPARSE/" "$S" >"$T/tmp" && cat "$T/tmp" >"$S"
expect_exit 1 "$VMDKIT" chain "$SD" >"$T/chain.txt"
grep -q "capacity mismatch: 10485760 sectors in '.*s delta.vmdk' but 10485761 sectors in its parent" "$T/chain.txt" ||
	fail "capacity mismatch not reported: $(cat "$T/chain.txt")"

# Missing parent: name the hint and the resolved path.
mv "$B" "$T/base dir/moved.vmdk"
expect_exit 1 "$VMDKIT" chain "$D" >"$T/chain.txt"
grep -q "parent '../base dir/base disk.vmdk' not found (parentFileNameHint resolved to '.*leaf dir/../base dir/base disk.vmdk')" "$T/chain.txt" ||
	fail "missing parent not reported: $(cat "$T/chain.txt")"
[ "$(grep -c '^  - path:' "$T/chain.txt")" = 1 ] || fail "missing parent: links"
expect_exit 1 "$READ" "$D" "$T/x.raw" 2>"$T/err"
grep -q "not found" "$T/err" || fail "open missing parent: $(cat "$T/err")"
mv "$T/base dir/moved.vmdk" "$B"

# Loop: two deltas pointing at each other.
mkdir "$T/loop"
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse "$T/loop/base.vmdk" 1M
"$VMDKIT" create --parent "$T/loop/base.vmdk" "$T/loop/a.vmdk" >/dev/null
"$VMDKIT" create --parent "$T/loop/a.vmdk" "$T/loop/b.vmdk" >/dev/null
sed 's/^parentFileNameHint=.*/parentFileNameHint="b.vmdk"/' "$T/loop/a.vmdk" >"$T/tmp" && cat "$T/tmp" >"$T/loop/a.vmdk"
expect_exit 1 "$VMDKIT" chain "$T/loop/b.vmdk" >"$T/chain.txt"
grep -q "loop in the chain: parent '.*b.vmdk' is link 0" "$T/chain.txt" || fail "loop not reported: $(cat "$T/chain.txt")"
expect_exit 1 "$READ" "$T/loop/b.vmdk" "$T/x.raw" 2>"$T/err"
grep -q "loop" "$T/err" || fail "open loop: $(cat "$T/err")"

# A file that is no disk at all fails the walk itself.
echo "hello" >"$T/not a disk.vmdk"
expect_exit 3 "$VMDKIT" chain "$T/not a disk.vmdk" >/dev/null 2>&1
exit 0
