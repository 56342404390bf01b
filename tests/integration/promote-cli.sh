#!/bin/sh
# promote-cli.sh - `vmdkit promote`: options, exit codes, steps printed as
# the leaf was named, the progress bar when forced, JSON output.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
"$VMDKIT" promote --help >/dev/null 2>&1 || skip "vmdkit has no promote command"
cd "$T"

qemu-img create -q -f vmdk M.vmdk 64M
qemu-io -c 'write -P 0x11 0 8M' M.vmdk >/dev/null
"$VMDKIT" base M.vmdk Base >/dev/null
"$VMDKIT" clone Base/M.vmdk Leaf >/dev/null
disk=$(sed -n 's/^scsi0:0.fileName = "\(.*\)"$/\1/p' Leaf/Leaf.vmx)
[ -n "$disk" ] || fail "no disk in Leaf.vmx"
qemu-io -c 'write -P 0x22 4M 8M' "Leaf/$disk" >/dev/null
qemu-img convert -O raw "Leaf/$disk" before.raw

# usage errors
expect_exit 2 "$VMDKIT" promote 2>/dev/null
expect_exit 2 "$VMDKIT" promote --type twoGbMaxExtentFlat Leaf 2>err
grep -q "unknown disk type 'twoGbMaxExtentFlat'" err || fail "type message: $(cat err)"

# dry run: the plan, nothing written
before=$(cd Leaf && sha256sum * | md5sum)
"$VMDKIT" promote --dry-run Leaf >plan 2>err
grep -qx "write 'Leaf/Leaf.vmdk'" plan || fail "plan: $(cat plan)"
grep -qx "remove 'Leaf/$disk'" plan || fail "plan lacks the delta: $(cat plan)"
grep -q 'dry run' err || fail "no dry-run note"
[ "$before" = "$(cd Leaf && sha256sum * | md5sum)" ] || fail "dry run wrote"
"$VMDKIT" promote --dry-run --format json Leaf >plan.json
grep -q '"dryRun": true' plan.json || fail "json: $(cat plan.json)"

# to a folder, progress forced on a non-terminal: bytes, rate, time left
mkdir out
"$VMDKIT" promote --progress --output out Leaf >steps 2>err
grep -qx "write 'out/Leaf.vmdk'" steps || fail "steps: $(cat steps)"
grep -q '100% 64 MiB / 64 MiB' err || fail "no final progress: $(cat -v err)"
grep -q 'left' err || fail "no time left shown"
qemu-img compare -q before.raw out/Leaf.vmdk || fail "output differs"
# not a terminal and not forced: quiet
expect_exit 6 "$VMDKIT" promote --output out Leaf/Leaf.vmx >/dev/null 2>err
grep -q 'already exists' err || fail "message: $(cat err)"
mkdir out2
"$VMDKIT" promote --output out2 --type monolithicFlat Leaf/Leaf.vmx >/dev/null 2>err
[ ! -s err ] || fail "stderr not quiet: $(cat -v err)"
qemu-img compare -q before.raw out2/Leaf.vmdk || fail "flat output differs"

# in place, then nothing is left to promote
"$VMDKIT" promote --no-progress Leaf >/dev/null
qemu-img compare -q before.raw Leaf/Leaf.vmdk || fail "in place differs"
set +e
"$VMDKIT" promote Leaf >/dev/null 2>err
code=$?
set -e
[ "$code" = 4 ] || fail "second promote: exit $code (expected 4, nothing found)"
grep -q 'nothing to promote' err || fail "message: $(cat err)"
exit 0
