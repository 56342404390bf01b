#!/bin/sh
# vmdkit create: every type judged by qemu-img check, deltas chained by
# CID, sizes parsed strictly, existing files never replaced.
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
need qemu-img
cd "$T"

for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat twoGbMaxExtentFlat; do
	"$VMDKIT" create "$type.vmdk" --size 3M --type "$type" >/dev/null ||
		fail "create $type"
	qemu-img check "$type.vmdk" >"$T/qc" 2>&1 || fail "qemu-img check $type: $(cat "$T/qc")"
	size=$(qemu-img info --output=json "$type.vmdk" | tr -d ' \n' |
	       grep -o '"virtual-size":[0-9]*' | head -1 | cut -d: -f2)
	[ "$size" = 3145728 ] || fail "$type: virtual size $size"
	[ "$("$VMDKIT" desc get "$type.vmdk" createType)" = "$type" ] ||
		fail "$type: createType"
	"$VMDKIT" info --format json "$type.vmdk" >"$T/info" || fail "info $type"
	grep -q '"sectors": 6144' "$T/info" || fail "info $type: capacity"
	# an existing disk is never replaced
	before=$(sha "$type.vmdk")
	expect_exit 6 "$VMDKIT" create "$type.vmdk" --size 1M --type "$type" 2>/dev/null
	[ "$(sha "$type.vmdk")" = "$before" ] || fail "$type replaced"
done

# deltas: one-file over monolithicSparse, descriptor + extents over split
"$VMDKIT" create mono-delta.vmdk --parent monolithicSparse.vmdk >/dev/null
"$VMDKIT" create split-delta.vmdk --parent twoGbMaxExtentSparse.vmdk \
	--parent-hint twoGbMaxExtentSparse.vmdk >/dev/null
for d in mono-delta split-delta; do
	qemu-img check "$d.vmdk" >"$T/qc" 2>&1 || fail "qemu-img check $d: $(cat "$T/qc")"
	qemu-img info --backing-chain "$d.vmdk" >"$T/qi" 2>&1 || fail "qemu-img info $d"
	grep -q '^backing file: ' "$T/qi" || fail "$d: qemu sees no backing file"
	expect_exit 0 "$VMDKIT" chain "$d.vmdk" >/dev/null
done
[ "$("$VMDKIT" desc get split-delta.vmdk parentCID)" = \
  "$("$VMDKIT" desc get twoGbMaxExtentSparse.vmdk CID)" ] || fail "parentCID"
# the embedded descriptor is read, not edited
"$VMDKIT" desc get mono-delta.vmdk parentFileNameHint >/dev/null || fail "desc get embedded"
expect_exit 3 "$VMDKIT" desc set mono-delta.vmdk CID 12345678 2>/dev/null
# a broken link: the parent's CID changes
cp twoGbMaxExtentSparse.vmdk saved.vmdk
"$VMDKIT" desc set twoGbMaxExtentSparse.vmdk CID 0badcafe
expect_exit 1 "$VMDKIT" chain split-delta.vmdk >"$T/chain"
grep -q '^status: broken' "$T/chain" || fail "broken chain not reported"
expect_exit 1 "$VMDKIT" chain --format json split-delta.vmdk >"$T/chain"
grep -q '"status": "broken"' "$T/chain" || fail "broken chain json"
# check reports it too: an error finding naming the mismatch
expect_exit 1 "$VMDKIT" check split-delta.vmdk >"$T/check"
grep -Eq '\[(chain-broken|parent-cid-mismatch)\]$' "$T/check" ||
	fail "check: no chain finding: $(cat "$T/check")"
rm twoGbMaxExtentSparse.vmdk
expect_exit 5 "$VMDKIT" check split-delta.vmdk >"$T/check"
grep -q '\[parent-missing\]$' "$T/check" || fail "check: no parent-missing"
# and a missing extent file is a warning
rm twoGbMaxExtentSparse-s001.vmdk
mv saved.vmdk twoGbMaxExtentSparse.vmdk
expect_exit 5 "$VMDKIT" check twoGbMaxExtentSparse.vmdk >"$T/check"
grep -q "twoGbMaxExtentSparse.vmdk:[0-9]*: warning: extent file 'twoGbMaxExtentSparse-s001.vmdk' not found \[extent-missing\]" "$T/check" ||
	fail "check: no extent-missing: $(cat "$T/check")"

# sizes: strict, overflow-checked, > 0
for bad in 0 -1 1X 10GG " 10" 10.5G 18446744073709551616 17179869184T K; do
	expect_exit 2 "$VMDKIT" create bad.vmdk --size "$bad" 2>/dev/null
done
[ ! -e bad.vmdk ] || fail "bad size created a file"
for good in 1048576 1024K 1M 1MiB 1MB 1m; do
	rm -f good.vmdk
	"$VMDKIT" create good.vmdk --size "$good" >/dev/null || fail "size $good"
	[ "$("$VMDKIT" info --descriptor-only --format json good.vmdk |
	     grep -c '"bytes": 1048576')" = 1 ] || fail "size $good is not 1 MiB"
done
expect_exit 2 "$VMDKIT" create x.vmdk --size 1M --type monolithicSpares 2>/dev/null
expect_exit 2 "$VMDKIT" create x.vmdk --size 1M --adapter scsi 2>/dev/null
expect_exit 2 "$VMDKIT" create x.vmdk 2>/dev/null
expect_exit 2 "$VMDKIT" create x.vmdk --parent a.vmdk --size 1M 2>/dev/null
expect_exit 4 "$VMDKIT" create x.vmdk --parent nonexistent.vmdk 2>/dev/null
[ ! -e x.vmdk ] || fail "failed create left a file"
exit 0
