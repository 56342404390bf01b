#!/bin/sh
# clone --sync leaf|batch|none: every policy stamps complete leaves, batch
# (the default for --count) commits the leaves stamped before a failure and
# leaves no staging folder behind.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
cd "$T"
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M.vmdk 3G
"$VMDKIT" base M.vmdk Base >/dev/null

for mode in leaf batch none; do
	"$VMDKIT" clone --no-progress --sync "$mode" --count 3 --name 'v%d' \
		Base/M.vmdk "L-$mode" >out.txt
	[ "$(grep -c '^created ' out.txt)" = 3 ] || fail "$mode: $(cat out.txt)"
	for i in 1 2 3; do
		qemu-img info --backing-chain "L-$mode/v$i.vmwarevm/M-000001.vmdk" \
			>/dev/null || fail "$mode: leaf v$i does not open"
	done
	[ -z "$(ls -A "L-$mode" | grep '^\.')" ] || fail "$mode: staging left"
done
# the default for many leaves is batch: same result
"$VMDKIT" clone --no-progress --count 2 --name 'd%d' Base/M.vmdk D >/dev/null
[ -f D/d2.vmwarevm/d2.vmx ] || fail "default --count run"
expect_exit 2 "$VMDKIT" clone --sync sometimes Base/M.vmdk X 2>/dev/null

# a failure in the middle of a batch: leaf 1 is committed, leaf 2 fails,
# leaf 3 is never stamped, nothing is left staged
mkdir -p F/f2.vmwarevm
set +e
"$VMDKIT" clone --no-progress --count 3 --name 'f%d' Base/M.vmdk F >out.txt 2>err.txt
rc=$?
set -e
[ "$rc" != 0 ] || fail "a failing batch exits 0"
grep -q "already exists" err.txt || fail "no error for the existing leaf: $(cat err.txt)"
grep -q '^created F/f1.vmwarevm$' out.txt || fail "leaf 1 not reported: $(cat out.txt)"
[ -f F/f1.vmwarevm/f1.vmx ] || fail "leaf 1 not committed"
[ ! -e F/f3.vmwarevm ] || fail "leaf 3 stamped after the failure"
[ -z "$(ls -A F | grep '^\.')" ] || fail "staging left after a failed batch"
# JSON: statuses come after the commit
"$VMDKIT" clone --no-progress --count 2 --name 'j%d' --format json \
	Base/M.vmdk J >out.json
[ "$(grep -c '"status": "created"' out.json)" = 2 ] || fail "json: $(cat out.json)"
