#!/bin/sh
# promote-interrupt.sh - an in-place promote that fails or is killed at
# any step (VMDKIT_FAILPOINT, vmdk/fs/failpoint.h: every write, rename,
# fsync, mkdir and unlink in turn) leaves the leaf usable, and the next
# promote of the leaf completes with no debris:
#  - failing (any:N): the leaf is exactly as before (every file, staging
#    folders included) unless the failure came after the commit point
#    and says "promoted, but";
#  - killed (kill:N, SIGKILL just before operation N): the leaf's content
#    is unchanged, its chain intact or promoted; the next promote removes
#    the orphan new disk of a run killed after its renames (or finishes
#    one killed after the .vmx named it: .vmsd, old files);
#  - after that rerun: the leaf holds exactly the files a clean promote
#    makes (no staging folder, no orphan NAME.vmdk, no old delta), the
#    same .vmx and .vmsd, and the promoted disk is `qemu-img compare`
#    identical to the leaf's content.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
cd "$T"

# A small split base with data, a leaf with its own data over part of
# it, promoted to twoGbMaxExtentSparse: a descriptor and an extent are
# renamed in, so a kill can also fall between the two.
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M.vmdk 64M
qemu-io -c 'write -P 0x11 0 1M' -c 'write -P 0x12 40M 2M' M.vmdk >/dev/null
"$VMDKIT" base M.vmdk Base >/dev/null
"$VMDKIT" clone --no-progress Base/M.vmdk Leaf >/dev/null
qemu-io -c 'write -P 0x22 512k 1M' -c 'write -P 0x23 41M 64k' \
	Leaf/M-000001.vmdk >/dev/null
mv Leaf tpl
PROMOTE="promote --no-progress --type twoGbMaxExtentSparse"
qemu-img convert -O raw tpl/M-000001.vmdk before.raw

# Every file with size and hash, staging folders included.
listing() { (cd "$1" && find . -printf '%p %y %s\n' | LC_ALL=C sort &&
	     find . -type f -exec sha256sum {} + | LC_ALL=C sort); }
names() { (cd "$1" && find . | LC_ALL=C sort); }

# What a clean promote makes.
rm -rf Leaf && cp -a tpl Leaf
listing Leaf >before.list
"$VMDKIT" $PROMOTE Leaf >/dev/null
names Leaf >clean.names
cp Leaf/Leaf.vmx clean.vmx
cp Leaf/Leaf.vmsd clean.vmsd
grep -q 'Leaf-s001.vmdk' clean.names || fail "clean promote: not split: $(cat clean.names)"

promoted() { # what
	[ -z "$(find Leaf -name '.vmdkit-tmp-*')" ] ||
		fail "$1: staging folder left: $(ls -A Leaf)"
	names Leaf | cmp -s clean.names - ||
		fail "$1: files differ from a clean promote: $(ls -A Leaf)"
	cmp -s clean.vmx Leaf/Leaf.vmx || fail "$1: .vmx differs"
	cmp -s clean.vmsd Leaf/Leaf.vmsd || fail "$1: .vmsd differs"
	grep -qa parentFileNameHint Leaf/Leaf.vmdk && fail "$1: still a delta"
	qemu-img compare -q before.raw Leaf/Leaf.vmdk ||
		fail "$1: promoted content differs"
}

# The leaf's content as the .vmx names it, unchanged: the old chain files
# byte for byte (cheaper than qemu-img, and stronger), or the new disk.
usable() { # what
	disk=$(sed -n 's/^scsi0:0\.fileName = "\(.*\)"$/\1/p' Leaf/Leaf.vmx)
	if [ "$disk" = M-000001.vmdk ]; then
		for f in M.vmdk M-000001.vmdk M-000001-s001.vmdk; do
			cmp -s "tpl/$f" "Leaf/$f" || fail "$1: $f changed"
		done
	else
		qemu-img compare -q before.raw "Leaf/$disk" ||
			fail "$1: content of '$disk' differs"
	fi
}

rm -rf Leaf && cp -a tpl Leaf
VMDKIT_FAILPOINT=list "$VMDKIT" $PROMOTE Leaf >/dev/null 2>err ||
	fail "list: $(cat err)"
n=$(sed -n 's/^vmdkit-failpoints: .* any=\([0-9]*\) .*/\1/p' err)
[ -n "$n" ] && [ "$n" -ge 10 ] || fail "no failpoint count: $(cat err)"

# Failures.
i=1 before=0 after=0
while [ "$i" -le "$n" ]; do
	rm -rf Leaf && cp -a tpl Leaf
	set +e
	VMDKIT_FAILPOINT=any:$i "$VMDKIT" $PROMOTE Leaf >/dev/null 2>err
	rc=$?
	set -e
	if [ "$rc" = 0 ]; then
		# A failure promote gets around (copy_file_range falls back
		# to read/write) or ignores (removing its staging folder):
		# complete; the next promote removes what is left.
		:
	elif listing Leaf | cmp -s before.list -; then
		grep -q 'Input/output error' err ||
			fail "any:$i: failed without naming the injected error: $(cat err)"
		before=$((before + 1))
		# byte for byte the leaf a clean promote started from
		i=$((i + 1))
		continue
	elif grep -q 'promoted, but' err; then
		usable "any:$i (past the commit point)"
		after=$((after + 1))
	else
		listing Leaf | diff before.list - >&2 || :
		fail "any:$i: exit $rc, leaf changed: $(cat err)"
	fi
	# Complete already (a failure promote gets around: copy_file_range
	# falls back to read/write; or one past the commit point, after
	# the removals): nothing left to promote.  Else the next promote
	# completes and removes what is left.
	if ! names Leaf | cmp -s clean.names -; then
		"$VMDKIT" $PROMOTE Leaf >/dev/null 2>err ||
			fail "any:$i: the next promote failed: $(cat err)"
	fi
	promoted "any:$i, then promote"
	i=$((i + 1))
done
[ "$before" -gt 0 ] || fail "no failure left the leaf as before"
[ "$after" -gt 0 ] || fail "no failure came after the commit point"

# Kills.
i=1 orphans=0 finished=0
while [ "$i" -le "$n" ]; do
	rm -rf Leaf && cp -a tpl Leaf
	set +e
	VMDKIT_FAILPOINT=kill:$i "$VMDKIT" $PROMOTE Leaf >/dev/null 2>err
	rc=$?
	set -e
	[ "$rc" = 137 ] || fail "kill:$i: exit $rc, expected 137 (SIGKILL): $(cat err)"
	usable "kill:$i"
	[ -e Leaf/Leaf.vmdk ] && [ -e Leaf/M-000001.vmdk ] && {
		if grep -q '"Leaf.vmdk"' Leaf/Leaf.vmx; then
			finished=$((finished + 1))
		else
			orphans=$((orphans + 1))
		fi
	}
	"$VMDKIT" $PROMOTE Leaf >out 2>err ||
		fail "kill:$i: the next promote failed: $(cat err)"
	promoted "kill:$i, then promote"
	i=$((i + 1))
done
# Safety: a dead run's journal removes a file only while it is the same
# inode, and never one the .vmx names; a file of the user's with the name
# promote would pick is left alone (the new disk gets the next name).
rm -rf Leaf && cp -a tpl Leaf
printf 'mine' >Leaf/Leaf.vmdk
printf 'mine' >Leaf/Leaf-s001.vmdk
printf 'orphan' >Leaf/Old_9.vmdk
s=Leaf/.vmdkit-tmp-Leaf.vmx-999999999-AAAAAA
mkdir "$s"
ino() { stat -c %i "Leaf/$1"; }
printf 'n%s/M-000001.vmdk\000n%s/M-000001-s001.vmdk\000n%s/Leaf-s001.vmdk\000n%s/Old_9.vmdk\000dOld_9.vmdk\000' \
	"$(ino M-000001.vmdk)" "$(( $(ino M-000001-s001.vmdk) + 1 ))" \
	"$(( $(ino Leaf-s001.vmdk) + 1 ))" "$(ino Old_9.vmdk)" >"$s/promote-journal"
"$VMDKIT" $PROMOTE Leaf >/dev/null 2>err || fail "user's Leaf.vmdk: $(cat err)"
[ ! -e Leaf/Old_9.vmdk ] || fail "the journal's orphan was not removed"
[ "$(cat Leaf/Leaf.vmdk)" = mine ] || fail "the user's Leaf.vmdk was touched"
[ "$(cat Leaf/Leaf-s001.vmdk)" = mine ] || fail "the user's Leaf-s001.vmdk was touched"
grep -q '"Leaf_1.vmdk"' Leaf/Leaf.vmx || fail "new disk not Leaf_1.vmdk"
qemu-img compare -q before.raw Leaf/Leaf_1.vmdk || fail "Leaf_1.vmdk content"
[ -z "$(find Leaf -name '.vmdkit-tmp-*')" ] || fail "dead journal's folder left"

# Both cases the journal is for were met.
[ "$orphans" -gt 0 ] || fail "no kill left an orphan new disk"
[ "$finished" -gt 0 ] || fail "no kill came between the .vmx and the removals"
echo "promote-interrupt: $n operations: $before failures left the leaf as before, $after came after the commit; $orphans kills left an orphan, $finished an unfinished commit"
exit 0
