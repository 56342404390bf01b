#!/bin/sh
# check-info-repeats.sh - an info finding repeated on every extent line
# is listed 8 times per descriptor, then counted in one line of the same
# code (a leaf of a 2 TiB split base has 517 extents: check --recursive
# over 101 such leaves held 52,000 findings, 20 MiB).  Regression for
# vmdk/ops/check.c's info_repeat.
. "$VMDKIT_SRCDIR/tests/lib.sh"
cd "$T"

"$VMDKIT" create --type twoGbMaxExtentSparse --size 60G M.vmdk >/dev/null
"$VMDKIT" base M.vmdk Base >/dev/null
"$VMDKIT" clone --no-progress --count 3 --name 'l%d' Base/M.vmdk L >/dev/null
x=$(grep -c '^RW .* SPARSE "\.\./\.\./Base/' L/l1.vmwarevm/M.vmdk)
[ "$x" -gt 9 ] || fail "expected a leaf with more than 9 extents, got $x"

expect_exit 0 "$VMDKIT" check --recursive L >out 2>err
for l in l1 l2 l3; do
	f=L/$l.vmwarevm/M.vmdk
	n=$(grep -c "^$f:[0-9]*: info: extent [0-9]* '.*' has a folder part.*\[portability-extent-folder\]\$" out)
	[ "$n" = 8 ] || fail "$l: $n extent lines listed, expected 8: $(cat out)"
	grep -qx "$f:17: info: $((x - 8)) more findings of this kind on lines 17 to $((8 + x)) not listed \[portability-extent-folder\]" out ||
		fail "$l: no summary line: $(cat out)"
done
[ "$(wc -l <out)" = 27 ] || fail "expected 27 lines: $(cat out)"
exit 0
