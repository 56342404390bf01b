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

# --jobs: batch leaves are staged on several threads; the result is the
# leaves a sequential run makes, in the same order, with the same files
for j in 1 4; do
	mkdir "R$j"
	(cd "R$j" && "$VMDKIT" clone --no-progress --jobs "$j" --count 40 \
		--name 'p%02d' ../Base/M.vmdk P >"../out$j.txt")
	(cd "R$j/P" && find . | sort) >"tree$j.txt"
done
cmp out1.txt out4.txt || fail "--jobs 4 reports differ: $(diff out1.txt out4.txt | head)"
cmp tree1.txt tree4.txt || fail "--jobs 4 leaves differ: $(diff tree1.txt tree4.txt | head)"
[ "$(grep -c '^created ' out4.txt)" = 40 ] || fail "--jobs 4: $(cat out4.txt)"
"$VMDKIT" check --recursive R4/P >check.txt || fail "--jobs 4 leaves: $(cat check.txt)"
for i in 01 17 40; do
	qemu-img check -q "R4/P/p$i.vmwarevm/M-000001.vmdk" || fail "p$i: qemu-img check"
done
# every leaf has its own identity (CIDs drawn on several threads)
cids=$(cat R4/P/*/M-000001.vmdk | sed -n 's/^CID=//p' | sort -u | wc -l)
[ "$cids" = 40 ] || fail "--jobs 4: $cids distinct delta CIDs for 40 leaves"
# a failure in the middle with several threads: the leaves before it are
# committed, none after it is left, nothing staged
mkdir -p G/g17.vmwarevm
set +e
"$VMDKIT" clone --no-progress --jobs 4 --count 40 --name 'g%02d' Base/M.vmdk G \
	>out.txt 2>err.txt
rc=$?
set -e
[ "$rc" != 0 ] || fail "a failing --jobs batch exits 0"
grep -q "g17.vmwarevm.*already exists" err.txt || fail "--jobs: $(cat err.txt)"
[ "$(grep -c '^created ' out.txt)" = 16 ] || fail "--jobs: $(cat out.txt)"
[ -f G/g16.vmwarevm/g16.vmx ] || fail "--jobs: leaf 16 not committed"
[ "$(ls G | wc -l)" = 17 ] || fail "--jobs: leaves after the failure: $(ls G | tr '\n' ' ')"
[ -z "$(ls -A G | grep '^\.')" ] || fail "--jobs: staging left after a failed batch"
"$VMDKIT" clone --no-progress --jobs 4 --count 5 --name 'k%d' --format json \
	Base/M.vmdk K >out.json
[ "$(grep -o '"name": "k[0-9]"' out.json | tr -d '\n')" = \
  '"name": "k1""name": "k2""name": "k3""name": "k4""name": "k5"' ] ||
	fail "--jobs json order: $(cat out.json)"
expect_exit 2 "$VMDKIT" clone --jobs 0 --count 2 --name 'z%d' Base/M.vmdk Z 2>/dev/null
expect_exit 2 "$VMDKIT" clone --jobs 9 --count 2 --name 'z%d' Base/M.vmdk Z 2>/dev/null
