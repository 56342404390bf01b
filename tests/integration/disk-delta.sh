#!/bin/sh
# disk-delta.sh - our empty deltas (`vmdkit create --parent`) over bases
# made by qemu-img: qemu sees the chain, reads the base's patterns through
# the delta, writes into the delta only; the base files never change; the
# delta takes no more disk space than qemu-img's own delta; vmdkinfo opens
# it.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
need vmdkinfo

allocated() { # total allocated KiB of the given files
	du -k -c "$@" | tail -n 1 | cut -f1
}

qread() { # DISK PATTERN OFFSET LENGTH
	out=$(qemu-io -f vmdk -r -c "read -P $2 $3 $4" "$1" 2>&1) ||
		fail "qemu-io read -P $2 $3 $4 $1: $out"
	case $out in *"Pattern verification failed"*|*"failed"*) fail "qemu-io read -P $2 $3 $4 $1: $out" ;; esac
}

# ---- monolithicSparse base, delta in another folder --------------------
mkdir "$T/base" "$T/leaf 1" "$T/qemu"
B="$T/base/8.10 Core.vmdk"
qemu-img create -q -f vmdk "$B" 64M
qemu-io -f vmdk -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 40M 128k' "$B" >/dev/null
chmod a-w "$B"
base_sum=$(sha "$B")

D="$T/leaf 1/8.10 Core-000001.vmdk"
"$VMDKIT" create --parent "$B" "$D" >/dev/null || fail "create --parent"
[ "$(ls "$T/leaf 1")" = "8.10 Core-000001.vmdk" ] || fail "mono delta is not one file: $(ls "$T/leaf 1")"
dd if="$D" bs=512 skip=1 count=20 2>/dev/null | tr -d '\000' >"$T/desc"
grep -q '^createType="monolithicSparse"$' "$T/desc" || fail "delta createType"
grep -q '^parentFileNameHint="../base/8.10 Core.vmdk"$' "$T/desc" || fail "hint: $(cat "$T/desc")"
pcid=$(qemu-img info "$B" | sed -n 's/^ *cid: //p')
grep -q "^parentCID=0*$(printf %x "$pcid")\$" "$T/desc" || fail "parentCID: want $pcid"
grep -q '^ddb.uuid' "$T/desc" && fail "a delta has no ddb.uuid"
grep -q '^ddb.adapterType = "ide"$' "$T/desc" || fail "adapterType not copied"
grep -q '^ddb.virtualHWVersion = "4"$' "$T/desc" || fail "hw version not copied"

qemu-img info --backing-chain "$D" >"$T/chain.out"
grep -q '^backing file: ../base/8.10 Core.vmdk' "$T/chain.out" || fail "backing chain: $(cat "$T/chain.out")"
[ "$(grep -c '^image:' "$T/chain.out")" = 2 ] || fail "chain length: $(cat "$T/chain.out")"
qemu-img check "$D" >/dev/null || fail "qemu-img check delta"
vmdkinfo "$D" >/dev/null 2>&1 || fail "vmdkinfo delta"

# Same parent, qemu-img's delta: ours must not take more space.
qemu-img create -q -f vmdk -b "../base/8.10 Core.vmdk" -F vmdk "$T/qemu/8.10 Core-000001.vmdk"
ours=$(allocated "$D")
theirs=$(allocated "$T/qemu/8.10 Core-000001.vmdk")
echo "monolithicSparse delta: ours ${ours} KiB, qemu-img ${theirs} KiB"
[ "$ours" -le "$theirs" ] || fail "delta takes $ours KiB, qemu-img's $theirs KiB"

qread "$D" 0xab 0 64k
qread "$D" 0xcd 40M 128k
qread "$D" 0 64k 1M
qemu-io -f vmdk -c 'write -P 0x5a 32k 64k' "$D" >/dev/null || fail "write into delta"
qread "$D" 0x5a 32k 64k
qread "$D" 0xab 0 32k
qread "$B" 0xab 32k 32k
[ "$(sha "$B")" = "$base_sum" ] || fail "base changed"

# A delta of our delta (hint given explicitly).
D2="$T/leaf 1/8.10 Core-000002.vmdk"
"$VMDKIT" create --parent "$D" --parent-hint "8.10 Core-000001.vmdk" "$D2" >/dev/null ||
	fail "delta of delta"
qread "$D2" 0x5a 32k 64k
qread "$D2" 0xcd 40M 128k
"$VMDKIT" chain "$D2" >"$T/chain.txt" || fail "chain: $(cat "$T/chain.txt")"
[ "$(grep -c '^  - path:' "$T/chain.txt")" = 3 ] || fail "chain links: $(cat "$T/chain.txt")"

# ---- twoGbMaxExtentSparse base, 5 GiB so it really splits --------------
mkdir "$T/split" "$T/split leaf" "$T/split qemu"
S="$T/split/8.10 Core.vmdk"
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse "$S" 5G
# 0xee crosses the boundary between the first and second extent.
qemu-io -f vmdk -c 'write -P 0xab 0 64k' -c 'write -P 0xee 2047M 2M' \
	-c 'write -P 0xcd 5119M 1M' "$S" >/dev/null
chmod a-w "$T/split"/*
split_sum=$(sha "$T/split"/*)
SD="$T/split leaf/8.10 Core-000001.vmdk"
"$VMDKIT" create --parent "$S" "$SD" >/dev/null || fail "split delta"
grep -q '^createType="twoGbMaxExtentSparse"$' "$SD" || fail "split delta type: $(cat "$SD")"
grep -q '^RW 4194304 SPARSE "8.10 Core-000001-s001.vmdk"$' "$SD" || fail "split extent 1: $(cat "$SD")"
grep -q '^RW 4194304 SPARSE "8.10 Core-000001-s002.vmdk"$' "$SD" || fail "split extent 2"
grep -q '^RW 2097152 SPARSE "8.10 Core-000001-s003.vmdk"$' "$SD" || fail "split extent 3"
[ "$(ls "$T/split leaf" | wc -l)" = 4 ] || fail "split delta files: $(ls "$T/split leaf")"
grep -q '^parentFileNameHint="../split/8.10 Core.vmdk"$' "$SD" || fail "split hint"
qemu-img info --backing-chain "$SD" | grep -q '^backing file: ../split/8.10 Core.vmdk' || fail "split chain"
qemu-img check "$SD" >/dev/null || fail "qemu-img check split delta"
vmdkinfo "$SD" >/dev/null 2>&1 || fail "vmdkinfo split delta"

qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse -b "../split/8.10 Core.vmdk" -F vmdk \
	"$T/split qemu/8.10 Core-000001.vmdk"
ours=$(allocated "$T/split leaf"/*)
theirs=$(allocated "$T/split qemu"/*)
echo "twoGbMaxExtentSparse delta: ours ${ours} KiB, qemu-img ${theirs} KiB"
[ "$ours" -le "$theirs" ] || fail "split delta takes $ours KiB, qemu-img's $theirs KiB"

qread "$SD" 0xab 0 64k
qread "$SD" 0xee 2047M 2M
qread "$SD" 0xcd 5119M 1M
qemu-io -f vmdk -c 'write -P 0x77 2047M 2M' "$SD" >/dev/null || fail "write split delta"
qread "$SD" 0x77 2047M 2M
qread "$S" 0xee 2047M 2M
[ "$(sha "$T/split"/*)" = "$split_sum" ] || fail "split base changed"

# ---- monolithicFlat base: the delta is one monolithicSparse file -------
F="$T/flat/base.vmdk"
mkdir "$T/flat"
qemu-img create -q -f vmdk -o subformat=monolithicFlat "$F" 16M
qemu-io -f vmdk -c 'write -P 0x42 1M 64k' "$F" >/dev/null
FD="$T/flat/delta.vmdk"
"$VMDKIT" create --parent "$F" "$FD" >/dev/null || fail "flat delta"
head -c 4 "$FD" | grep -q KDMV || fail "flat parent: delta is not monolithicSparse"
qread "$FD" 0x42 1M 64k
qemu-img check "$FD" >/dev/null || fail "check flat delta"

# ---- refusals leave nothing behind ------------------------------------
expect_exit 6 "$VMDKIT" create --parent "$B" "$D" 2>/dev/null
expect_exit 4 "$VMDKIT" create --parent "$T/missing.vmdk" "$T/none.vmdk" 2>/dev/null
[ ! -e "$T/none.vmdk" ] || fail "delta over a missing parent was created"
expect_exit 2 "$VMDKIT" create --parent "$B" --parent-hint 'bad"hint' "$T/q.vmdk" 2>/dev/null
[ ! -e "$T/q.vmdk" ] || fail "delta with a quote in the hint was created"
[ "$(sha "$B")" = "$base_sum" ] || fail "base changed at the end"
exit 0
