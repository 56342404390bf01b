#!/bin/sh
# vmdkit dependents, relocate, repair-cid and check --recursive/--confine
# from the command line, on a base with two leaves.
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
mkdir "$T/w"
cd "$T/w"
mkdir -p Master.vmwarevm Leaves Other
cp "$VMDKIT_SRCDIR/samples/master/Master.vmx" Master.vmwarevm/Master.vmx
chmod u+w Master.vmwarevm/Master.vmx
"$VMDKIT" create Master.vmwarevm/Master.vmdk --size 64M --type twoGbMaxExtentSparse >/dev/null
"$VMDKIT" base Master.vmwarevm/Master.vmx Bases/Master >/dev/null || fail "base"
"$VMDKIT" clone Bases/Master/Master.vmdk Leaves --count 2 --name 'l%d' >/dev/null || fail "clone"

# dependents: every descriptor copy, delta and .vmx of both leaves
"$VMDKIT" dependents Bases/Master Leaves Other >"$T/dep" || fail "dependents"
[ "$(wc -l <"$T/dep")" = 6 ] || fail "dependents: $(cat "$T/dep")"
grep -q "^delta	Leaves/l2.vmwarevm/Master-000001.vmdk$" "$T/dep" || fail "dependents: delta"
grep -q "^vmx	Leaves/l1.vmwarevm/l1.vmx$" "$T/dep" || fail "dependents: vmx"
"$VMDKIT" dependents --format json Bases/Master/Master.vmdk Leaves >"$T/dep.json"
grep -q '"kind": "descriptor"' "$T/dep.json" || fail "dependents json"
[ -z "$("$VMDKIT" dependents Bases/Master Other)" ] || fail "dependents in an empty folder"
expect_exit 2 "$VMDKIT" dependents Bases/Master 2>/dev/null

# relocate: dry run writes nothing, the real run keeps every chain whole
find . | sort >"$T/tree.before"
"$VMDKIT" relocate --dry-run Bases/Master Bases/Moved --leaves Leaves >"$T/plan" 2>/dev/null ||
	fail "relocate --dry-run"
grep -q "^rename 'Bases/Master' -> 'Bases/Moved'$" "$T/plan" || fail "relocate plan: $(cat "$T/plan")"
find . | sort >"$T/tree.after"
diff "$T/tree.before" "$T/tree.after" || fail "relocate --dry-run wrote something"
"$VMDKIT" relocate Bases/Master Elsewhere/Moved --leaves Leaves >/dev/null || fail "relocate"
[ -d Elsewhere/Moved ] && [ ! -e Bases/Master ] || fail "base not moved"
for n in 1 2; do
	expect_exit 0 "$VMDKIT" chain "Leaves/l$n.vmwarevm/Master-000001.vmdk" >/dev/null
	grep -q 'Elsewhere/Moved/Master-s001.vmdk' "Leaves/l$n.vmwarevm/Master.vmdk" ||
		fail "leaf $n still points at the old base"
done
expect_exit 0 "$VMDKIT" verify Elsewhere/Moved >/dev/null
# a failed relocate leaves no new folder behind
expect_exit 4 "$VMDKIT" relocate Bases/Nothing Nowhere/X --leaves Leaves 2>/dev/null
[ ! -e Nowhere ] || fail "failed relocate left a folder"

# repair-cid: a chain that holds needs nothing; a changed parent CID
# without proof is refused (exit 6), forced it is repaired
D=Leaves/l1.vmwarevm/Master-000001.vmdk
"$VMDKIT" repair-cid "$D" >"$T/r" || fail "repair-cid on a whole chain"
grep -q "nothing to repair" "$T/r" || fail "repair-cid message"
"$VMDKIT" desc set Leaves/l1.vmwarevm/Master.vmdk CID 0badcafe
expect_exit 1 "$VMDKIT" chain "$D" >/dev/null
before=$(sha "$D")
"$VMDKIT" repair-cid --dry-run --format json "$D" >"$T/r.json" 2>/dev/null || true
[ "$(sha "$D")" = "$before" ] || fail "repair-cid --dry-run wrote"
set +e; "$VMDKIT" repair-cid "$D" >"$T/r" 2>&1; rc=$?; set -e
if [ "$rc" = 6 ]; then
	"$VMDKIT" repair-cid --force "$D" >"$T/r" || fail "repair-cid --force"
	grep -q "forced" "$T/r" || fail "forced repair not said: $(cat "$T/r")"
else
	[ "$rc" = 0 ] || fail "repair-cid: exit $rc: $(cat "$T/r")"
fi
expect_exit 0 "$VMDKIT" chain "$D" >/dev/null
[ "$("$VMDKIT" desc get "$D" parentCID)" = 0badcafe ] || fail "parentCID not repaired"

# check --recursive walks the whole tree; --confine reports paths that
# leave the folder instead of following them
"$VMDKIT" check --recursive . >"$T/c" 2>&1 || [ $? = 5 ] || fail "check -r: $(cat "$T/c")"
expect_exit 1 "$VMDKIT" check --confine Leaves/l2.vmwarevm Leaves/l2.vmwarevm >"$T/c"
grep -q '\[path-escapes-confine\]$' "$T/c" || fail "no path-escapes-confine: $(cat "$T/c")"
expect_exit 2 "$VMDKIT" check - 2>/dev/null
exit 0
