#!/bin/sh
# leaf-exdev.sh - making a base from a master on another filesystem: the
# extents cannot be renamed (EXDEV), so they are copied, holes kept, and
# the master's originals are removed only once the base is in place.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
OTHER=${VMDKIT_OTHER_FS:-/dev/shm}
[ -d "$OTHER" ] && [ -w "$OTHER" ] || skip "no writable $OTHER"
[ "$(stat -c %d "$OTHER")" != "$(stat -c %d "$T")" ] || skip "$OTHER is on the same filesystem as $T"
M=$(mktemp -d "$OTHER/vmdkit-exdev.XXXXXX")
trap 'rm -rf "$M"; cleanup' EXIT
cd "$T"

# Flat extents are full-size sparse files: a real test of hole keeping.
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentFlat "$M/Far Core.vmdk" 64M
qemu-io -c 'write -P 0x42 50M 64k' "$M/Far Core.vmdk" >/dev/null
"$VMDKIT" base "$M/Far Core.vmdk" "Far Base" >steps.txt
grep -q "^copy '$M/Far Core-f001.vmdk' -> '" steps.txt || fail "no copy step: $(cat steps.txt)"
[ ! -e "$M/Far Core-f001.vmdk" ] || fail "originals kept after the move"
[ -f "$M/Far Core.vmdk.vmdkit-moved" ] || fail "master descriptor not renamed"
# Holes stay holes: a 64 MiB extent with 64 KiB of data stays small.
[ "$(stat -c %s "Far Base/Far Core-f001.vmdk")" = 67108864 ] || fail "f001 size"
used=$(du -k "Far Base/Far Core-f001.vmdk" | cut -f1)
[ "$used" -lt 4096 ] || fail "copy filled the holes ($used KiB)"
qemu-io -r -c 'read -P 0x42 50M 64k' "Far Base/Far Core.vmdk" | grep -q 'Pattern verification failed' \
	&& fail "data lost in the copy"
"$VMDKIT" verify "Far Base" >/dev/null || fail "verify"
exit 0
