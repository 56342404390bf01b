#!/bin/sh
# promote-stream.sh - a streamOptimized disk (deflate grains, as in OVAs)
# made by qemu-img is readable as a source: converted on its own, and as
# the parent of a delta that is promoted; the content stays identical.  A
# damaged compressed grain is a clean error, not a crash or wrong data.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
READ="$VMDKIT_BUILDDIR/tests/vmdk-read"
[ -x "$READ" ] || skip "tests/vmdk-read not built"
cd "$T"

qemu-img create -q -f vmdk src.vmdk 64M
qemu-io -c 'write -P 0x11 0 64k' -c 'write -P 0x22 10M 3M' \
	-c 'write -P 0x23 20M 5k' -c 'write -P 0x33 63M 1M' src.vmdk >/dev/null
qemu-img convert -O vmdk -o subformat=streamOptimized src.vmdk S.vmdk
qemu-img info S.vmdk | grep -q 'streamOptimized' || skip "qemu-img made no streamOptimized disk"

# read through the disk layer (inflating) equals qemu's reading
"$READ" S.vmdk s.raw
qemu-img compare -q src.vmdk s.raw || fail "stream read differs from qemu"

# --- the stream disk on its own, to every target type ---------------------
for t in monolithicSparse twoGbMaxExtentSparse monolithicFlat; do
	mkdir "out-$t"
	"$VMDKIT" promote --output "out-$t" --type "$t" S.vmdk >/dev/null
	qemu-img compare -q src.vmdk "out-$t/S.vmdk" || fail "$t: content differs"
	qemu-img check -q "out-$t/S.vmdk" || fail "$t: qemu-img check"
done

# --- a full clone of it: inflated into a plain sparse disk -----------------
"$VMDKIT" clone --full S.vmdk Full >/dev/null
qemu-img compare -q src.vmdk Full/S.vmdk || fail "full clone differs"
qemu-img info Full/S.vmdk | grep -q 'create type: monolithicSparse' ||
	fail "full clone is not monolithicSparse"
grep -q '^scsi0:0.fileName = "S.vmdk"$' Full/Full.vmx || fail "full clone .vmx"

# --- a delta over the stream disk, promoted --------------------------------
"$VMDKIT" create --parent S.vmdk L.vmdk >/dev/null
qemu-io -c 'write -P 0x55 11M 64k' -c 'write -P 0x66 30M 128k' \
	-c 'write -P 0x67 20M 1k' L.vmdk >/dev/null
qemu-img convert -O raw L.vmdk before.raw
mkdir out
"$VMDKIT" promote --output out L.vmdk >/dev/null
qemu-img compare -q before.raw out/L.vmdk || fail "promoted delta differs"
qemu-img check -q out/L.vmdk || fail "promoted delta: qemu-img check"
if qemu-img info --backing-chain out/L.vmdk | grep -qi 'backing file'; then
	fail "promoted delta still has a backing file"
fi

# --- a damaged grain: break the zlib header of the first compressed grain
# (pattern data decodes the same from almost any bits, so garbling the
# middle of a grain proves nothing) ----------------------------------------
# (same file name: the embedded descriptor names its extent "S.vmdk")
mkdir bad
cp S.vmdk bad/S.vmdk
gd_end=$(stat -c %s bad/S.vmdk)
# qemu puts the first grain's marker at the overHead (header offset 64);
# its 12 bytes (LBA, size) come before the zlib data
over=$(od -A n -t u8 -j 64 -N 8 bad/S.vmdk | tr -d ' ')
printf 'ZZ' | dd of=bad/S.vmdk bs=1 seek=$((over * 512 + 12)) conv=notrunc \
	status=none
[ "$(stat -c %s bad/S.vmdk)" = "$gd_end" ] || fail "test corrupted the size"
mkdir out-bad
expect_exit 3 "$VMDKIT" promote --output out-bad bad/S.vmdk 2>err
grep -q 'compressed grain' err || fail "no compressed-grain message: $(cat err)"
[ -z "$(ls out-bad)" ] || fail "a failed promote left files: $(ls out-bad)"
exit 0
