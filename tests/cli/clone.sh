#!/bin/sh
# vmdkit base, clone, verify from the command line: dry runs write
# nothing, leaves are stamped (one, --count, --plan), failures stop with
# the documented exit codes, verify notices a changed base.
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
cd "$T"
mkdir -p "Master.vmwarevm" Base Leaves
cp "$VMDKIT_SRCDIR/samples/master/Master.vmx" Master.vmwarevm/Master.vmx
chmod u+w Master.vmwarevm/Master.vmx # read-only source tree (distcheck)
"$VMDKIT" create Master.vmwarevm/Master.vmdk --size 64M --type twoGbMaxExtentSparse >/dev/null

tree() { find Master.vmwarevm Base Leaves -printf '%p %m %s\n' | sort; }

# dry runs write nothing
tree >"$T/tree.before"
"$VMDKIT" base --dry-run Master.vmwarevm/Master.vmx Base/Master >"$T/plan.txt" 2>/dev/null
grep -q "^move '.*Master-s001.vmdk' -> '.*Base/Master/Master-s001.vmdk'$" "$T/plan.txt" ||
	fail "base dry-run text: $(cat "$T/plan.txt")"
"$VMDKIT" base --dry-run --format json Master.vmwarevm/Master.vmx Base/Master >"$T/plan.json"
grep -q '"dryRun": true' "$T/plan.json" || fail "base dry-run json"
"$VMDKIT" base --dry-run --format yaml Master.vmwarevm/Master.vmx Base/Master >"$T/plan.yaml"
grep -q '^- action: move$' "$T/plan.yaml" || fail "base dry-run yaml"
tree >"$T/tree.after"
diff "$T/tree.before" "$T/tree.after" || fail "base --dry-run wrote something"

"$VMDKIT" base Master.vmwarevm/Master.vmx Base/Master >/dev/null || fail "base"
expect_exit 0 "$VMDKIT" verify Base/Master >/dev/null
B=Base/Master/Master.vmdk
# the base descriptor is write-protected: desc edits refuse it
expect_exit 6 "$VMDKIT" desc set "$B" ddb.adapterType ide 2>/dev/null
# a second base into the same folder is refused, the master left alone
mkdir M2.vmwarevm
"$VMDKIT" create M2.vmwarevm/M2.vmdk --size 1M >/dev/null
expect_exit 6 "$VMDKIT" base M2.vmwarevm/M2.vmdk Base/Master 2>"$T/err"
[ -e M2.vmwarevm/M2.vmdk ] || fail "refused base moved the master's disk"

tree >"$T/tree.before"
"$VMDKIT" clone --dry-run "$B" Leaves --count 2 --name 'web-%02d' >"$T/c.txt" 2>/dev/null
grep -q "^leaf web-02 -> 'Leaves/web-02.vmwarevm'$" "$T/c.txt" || fail "clone dry-run text"
"$VMDKIT" clone --dry-run --format json "$B" Leaves --plan "$VMDKIT_SRCDIR/samples/plan.yaml" >"$T/c.json"
grep -q '"name": "db-01"' "$T/c.json" || fail "clone dry-run plan json"
# a dry run into a folder the real run would make first
"$VMDKIT" clone --dry-run "$B" "Not Yet" --count 2 --name 'web-%02d' >"$T/c.txt" 2>/dev/null \
	|| fail "clone dry-run into a missing folder failed"
grep -q "^mkdir 'Not Yet'$" "$T/c.txt" || fail "clone dry-run does not say it makes the folder: $(cat "$T/c.txt")"
grep -q "^leaf web-02 -> 'Not Yet/web-02.vmwarevm'$" "$T/c.txt" || fail "clone dry-run into a missing folder"
tree >"$T/tree.after"
diff "$T/tree.before" "$T/tree.after" || fail "clone --dry-run wrote something"

# one leaf, many leaves, a plan
"$VMDKIT" clone "$B" Leaves/solo.vmwarevm >"$T/out" || fail "clone one"
[ "$(cat "$T/out")" = "created Leaves/solo.vmwarevm" ] || fail "clone one output"
grep -q '^displayName = "solo"$' Leaves/solo.vmwarevm/solo.vmx || fail "solo displayName"
"$VMDKIT" clone "$B" Leaves --count 3 --name 'app-%02d' --memory 1024 >"$T/out" || fail "clone many"
[ "$(wc -l <"$T/out")" = 3 ] || fail "one line per leaf"
for n in 01 02 03; do
	expect_exit 0 "$VMDKIT" chain "Leaves/app-$n.vmwarevm/Master-000001.vmdk" >/dev/null
	grep -q '^memsize = "1024"$' "Leaves/app-$n.vmwarevm/app-$n.vmx" || fail "memsize app-$n"
done
"$VMDKIT" clone "$B" Leaves --plan "$VMDKIT_SRCDIR/samples/plan.yaml" >/dev/null || fail "clone plan"
grep -q '^guestinfo.role = "database"$' Leaves/db-01.vmwarevm/db-01.vmx || fail "plan vmx key"
expect_exit 0 "$VMDKIT" check Leaves/db-01.vmwarevm >/dev/null

# an existing leaf stops the run: earlier leaves stay, exit 6
expect_exit 6 "$VMDKIT" clone "$B" Leaves --count 4 --name 'app-%02d' >"$T/out" 2>"$T/err"
[ ! -e Leaves/app-04.vmwarevm ] || fail "clone went on after a failure"
grep -q "app-01.vmwarevm" "$T/err" || fail "failure message does not name the leaf"
# usage errors
expect_exit 2 "$VMDKIT" clone "$B" Leaves --count 2 --name 'web-%s' 2>/dev/null
expect_exit 2 "$VMDKIT" clone "$B" Leaves --count 2 --name 'web-%d-%d' 2>/dev/null
expect_exit 2 "$VMDKIT" clone "$B" Leaves --count 2 --name 'web' 2>/dev/null
expect_exit 2 "$VMDKIT" clone "$B" Leaves --count 2 2>/dev/null
expect_exit 2 "$VMDKIT" clone "$B" Leaves --count 0 --name 'w%d' 2>/dev/null
expect_exit 2 "$VMDKIT" clone "$B" Leaves --count 2 --plan x.yaml --name 'w%d' 2>/dev/null
expect_exit 2 "$VMDKIT" clone "$B" 2>/dev/null
# a bad plan: FILE:LINE, exit 3
printf 'leaves:\n  - name: a\n    colour: red\n' >bad-plan.yaml
expect_exit 3 "$VMDKIT" clone "$B" Leaves --plan bad-plan.yaml 2>"$T/err"
grep -q '^bad-plan.yaml:3: ' "$T/err" || fail "bad plan message: $(cat "$T/err")"

# a plan written for another base is refused (its own base is accepted)
printf 'base: other.vmdk\nleaves:\n  - name: a\n' >other-plan.yaml
: >other.vmdk
expect_exit 2 "$VMDKIT" clone "$B" PlanLeaves --plan other-plan.yaml 2>"$T/err"
grep -q "is for base '.*other.vmdk'" "$T/err" || fail "plan base mismatch: $(cat "$T/err")"
[ ! -e PlanLeaves ] || fail "refused plan left a folder"
printf 'base: "%s"\nleaves:\n  - name: a\n' "$B" >own-plan.yaml
"$VMDKIT" clone "$B" PlanLeaves --plan own-plan.yaml >/dev/null || fail "plan with its own base"
[ -f PlanLeaves/a.vmwarevm/a.vmx ] || fail "plan with its own base: no leaf"

# a leftover staging folder is removed before stamping
mkdir Leaves/.vmdkit-tmp-crashed
"$VMDKIT" clone "$B" Leaves/late.vmwarevm >/dev/null 2>&1 || fail "clone after crash"
[ ! -e Leaves/.vmdkit-tmp-crashed ] || fail "staging folder left"

# missing parent folders are made, and removed again when the command fails
expect_exit 4 "$VMDKIT" base nonexistent.vmx NewBases/X 2>/dev/null
[ ! -e NewBases ] || fail "failed base left its parent folder"
expect_exit 4 "$VMDKIT" clone nonexistent.vmdk NewLeaves --count 2 --name 'n%d' 2>/dev/null
[ ! -e NewLeaves ] || fail "failed clone left LEAFDIR"
"$VMDKIT" base M2.vmwarevm/M2.vmdk NewBases/M2 >/dev/null || fail "base into a new folder"
"$VMDKIT" clone NewBases/M2/M2.vmdk NewLeaves --count 1 --name 'n%d' >/dev/null ||
	fail "clone into a new folder"
[ -f NewLeaves/n1.vmwarevm/n1.vmx ] || fail "leaf in the new folder"

# a full clone: own extents, no delta, no snapshot; a missing parent
# folder is made
"$VMDKIT" clone --full --no-progress "$B" Full/solo.vmwarevm >/dev/null || fail "clone --full"
[ -f Full/solo.vmwarevm/Master-s001.vmdk ] || fail "full clone has no extent of its own"
[ ! -e Full/solo.vmwarevm/Master-000001.vmdk ] || fail "full clone has a delta"
expect_exit 0 "$VMDKIT" chain Full/solo.vmwarevm/Master.vmdk >/dev/null
"$VMDKIT" info --format json Full/solo.vmwarevm/solo.vmx >"$T/full.json"
grep -q '"linkedClone": false' "$T/full.json" || fail "full clone is still linked"
[ "$("$VMDKIT" desc get Full/solo.vmwarevm/Master.vmdk ddb.uuid)" != \
  "$("$VMDKIT" desc get "$B" ddb.uuid 2>/dev/null)" ] || fail "full clone shares ddb.uuid"
expect_exit 2 "$VMDKIT" clone --full --snapshot-name x "$B" Full/x.vmwarevm 2>/dev/null
"$VMDKIT" info --format json Leaves/solo.vmwarevm/solo.vmx >"$T/linked.json"
grep -q '"linkedClone": true' "$T/linked.json" || fail "linked clone not described as linked"

# verify notices a changed base
expect_exit 0 "$VMDKIT" verify --format json Base/Master >"$T/v.json"
chmod u+w Base/Master Base/Master/Master-s001.vmdk
printf 'x' | dd of=Base/Master/Master-s001.vmdk bs=1 seek=100000 conv=notrunc 2>/dev/null
expect_exit 1 "$VMDKIT" verify Base/Master >"$T/v.txt"
grep -q "error: " "$T/v.txt" || fail "verify findings"
exit 0
