#!/bin/sh
# relocate.sh - a base with two leaves (one with a second delta on top) is
# moved with `vmdkit relocate`; every leaf still opens through qemu-img
# and reads the same bytes as before the move; a dry run and a refused
# move change nothing.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
cd "$T"

mkdir -p M VM leaves new
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M/Core.vmdk 8M
qemu-io -c 'write -P 0x11 0 64k' -c 'write -P 0x12 5M 64k' M/Core.vmdk >/dev/null
"$VMDKIT" base M/Core.vmdk VM/B >/dev/null
"$VMDKIT" clone VM/B/Core.vmdk leaves/L1 >/dev/null
"$VMDKIT" clone VM/B/Core.vmdk leaves/L2 >/dev/null
qemu-io -c 'write -P 0x21 64k 64k' leaves/L1/Core-000001.vmdk >/dev/null
qemu-io -c 'write -P 0x31 1M 64k' leaves/L2/Core-000001.vmdk >/dev/null
# A second delta in L1, over the first (a snapshot taken in the leaf).
"$VMDKIT" create leaves/L1/Core-000002.vmdk --parent leaves/L1/Core-000001.vmdk >/dev/null
qemu-io -c 'write -P 0x22 2M 64k' leaves/L1/Core-000002.vmdk >/dev/null

DISKS="leaves/L1/Core-000002.vmdk leaves/L2/Core-000001.vmdk"
for d in $DISKS; do
	qemu-img convert -O raw "$d" "$(echo "$d" | tr / _).raw"
done
snap() { find VM new leaves -type f | sort | xargs sha256sum; }

# --- dry run ------------------------------------------------------------
before=$(snap)
"$VMDKIT" relocate --dry-run VM/B new/B --leaves leaves >dry.out 2>dry.err
grep -q "^rename 'VM/B' -> 'new/B'" dry.out || fail "dry run: $(cat dry.out)"
[ "$(grep -c '^write ' dry.out)" = 2 ] || fail "dry run should list 2 writes: $(cat dry.out)"
[ "$(snap)" = "$before" ] || fail "dry run changed files"

# --- refusals change nothing ----------------------------------------------
mkdir new/taken
expect_exit 6 "$VMDKIT" relocate VM/B new/taken --leaves leaves 2>err.txt
grep -q 'target exists' err.txt || fail "existing target: $(cat err.txt)"
rmdir new/taken
expect_exit 2 "$VMDKIT" relocate VM/B new/B 2>/dev/null
[ "$(snap)" = "$before" ] || fail "a refused relocate changed files"

# --- the move -------------------------------------------------------------
"$VMDKIT" relocate VM/B new/B --leaves leaves/L1 leaves/L2 >move.out
[ ! -e VM/B ] || fail "old base folder still there"
for f in Core.vmdk Core-s001.vmdk vmdkit-base.manifest; do
	[ "$(stat -c %a "new/B/$f")" = 444 ] || fail "new/B/$f lost its write protection"
done
"$VMDKIT" verify new/B >/dev/null || fail "verify after the move"
grep -q '"../../new/B/Core-s001.vmdk"' leaves/L1/Core.vmdk || fail "L1 copy not rewritten: $(cat leaves/L1/Core.vmdk)"
ls -a leaves/L1 leaves/L2 | grep -q vmdkit-tmp && fail "staging files left behind"
for d in $DISKS; do
	qemu-img info --backing-chain "$d" >info.txt 2>&1 || fail "qemu-img info $d: $(cat info.txt)"
	qemu-img compare -q "$d" "$(echo "$d" | tr / _).raw" || fail "$d reads other bytes after the move"
done
# No errors (qemu-io's writes leave warnings about ddb.longContentID).
expect_exit 5 "$VMDKIT" check --recursive leaves new >check.out
grep -q ': error: ' check.out && fail "check after the move: $(cat check.out)"

# --- a base made with --absolute: its own descriptor follows -----------
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M/Abs.vmdk 4M
qemu-io -c 'write -P 0x44 0 64k' M/Abs.vmdk >/dev/null
"$VMDKIT" base --absolute M/Abs.vmdk VM/A >/dev/null
"$VMDKIT" clone VM/A/Abs.vmdk leaves/A1 >/dev/null
qemu-img convert -O raw leaves/A1/Abs-000001.vmdk a1.raw
"$VMDKIT" relocate VM/A new/A --leaves leaves >/dev/null
grep -q "\"$T/new/A/Abs-s001.vmdk\"" new/A/Abs.vmdk || fail "absolute base descriptor not rewritten: $(cat new/A/Abs.vmdk)"
"$VMDKIT" verify new/A >/dev/null || fail "verify of the absolute base after the move"
qemu-img compare -q leaves/A1/Abs-000001.vmdk a1.raw || fail "A1 reads other bytes"
# --- a leaf written by someone else during the relocate -------------------
# Stopped (gdb) just before it moves the base, when every new text is
# staged, a leaf's descriptor gets a line: the relocate must refuse it
# rather than rename its stale text over it, put everything back and keep
# that change.
LT=$(dirname "$VMDKIT")/libtool
if command -v gdb >/dev/null 2>&1 && [ -x "$LT" ]; then
	before=$(snap | grep -v ' leaves/L2/Core.vmdk$')
	"$LT" --mode=execute gdb -q -batch -ex 'set breakpoint pending on' \
		-ex 'break fs_rename_noreplace' -ex run \
		-ex 'shell echo "# written meanwhile" >>leaves/L2/Core.vmdk' \
		-ex continue --args "$VMDKIT" relocate new/B new/C \
		--leaves leaves >gdb.out 2>&1 || :
	if grep -q '^Breakpoint 1,' gdb.out; then
		grep -q "leaves/L2/Core.vmdk: changed by another program during the relocate" gdb.out ||
			fail "a leaf changed during the relocate: $(cat gdb.out)"
		[ -d new/B ] && [ ! -e new/C ] || fail "base not moved back after a changed leaf"
		[ "$(snap | grep -v ' leaves/L2/Core.vmdk$')" = "$before" ] ||
			fail "a relocate refused for a changed leaf changed other files"
		[ "$(tail -n 1 leaves/L2/Core.vmdk)" = "# written meanwhile" ] ||
			fail "the other program's change to the leaf is lost"
		ls -a leaves/L1 leaves/L2 new/B | grep -q vmdkit-tmp &&
			fail "staging files left after a changed leaf"
		sed -i '$d' leaves/L2/Core.vmdk
		"$VMDKIT" relocate new/B new/C --leaves leaves >/dev/null ||
			fail "relocate after the refusal"
		"$VMDKIT" relocate new/C new/B --leaves leaves >/dev/null
	else
		echo "gdb could not stop vmdkit: a leaf changed during the relocate not tested"
	fi
else
	echo "no gdb: a leaf changed during the relocate not tested"
fi
# --- another filesystem: refused, nothing changed ------------------------
OTHER=${VMDKIT_OTHER_FS:-/dev/shm}
if [ -d "$OTHER" ] && [ -w "$OTHER" ] && [ "$(stat -c %d "$OTHER")" != "$(stat -c %d "$T")" ]; then
	O=$(mktemp -d "$OTHER/vmdkit-relocate.XXXXXX")
	before=$(snap)
	set +e; "$VMDKIT" relocate new/B "$O/B" --leaves leaves 2>err.txt; rc=$?; set -e
	rm -rf "$O"
	[ "$rc" = 6 ] || fail "cross-filesystem relocate: exit $rc $(cat err.txt)"
	grep -q 'another filesystem' err.txt || fail "EXDEV message: $(cat err.txt)"
	[ "$(snap)" = "$before" ] || fail "a cross-filesystem relocate changed files"
	ls -a leaves/L1 leaves/L2 | grep -q vmdkit-tmp && fail "staging files left after EXDEV"
else
	echo "no other filesystem: cross-filesystem refusal not tested"
fi
exit 0
