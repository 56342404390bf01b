#!/bin/sh
# failpoints.sh - every failpoint of base, clone, relocate and promote
# (VMDKIT_FAILPOINT=KIND:N, vmdk/fs/failpoint.h): afterwards the tree is
# either complete and valid or exactly as before (listing with modes,
# sizes, link targets and hashes), the base is never modified, and the
# same command run again without a failpoint completes.
# Every write, rename, fsync, mkdir and unlink is enumerated; allocations
# are sampled (about 12 per command; FAILPOINTS_FULL=1 tries them all).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
cd "$T"

listing() { (cd "$1" && find . -printf '%p %y %m %s %l\n' | LC_ALL=C sort &&
	     find . -type f -exec sha256sum {} + | LC_ALL=C sort); }

# --- pristine trees ---------------------------------------------------------
mkdir -p tpl/master/m
(
cd tpl/master
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse m/M.vmdk 8M
qemu-io -c 'write -P 0x11 0 256k' -c 'write -P 0x12 6M 64k' m/M.vmdk >/dev/null
cat >m/M.vmx <<'VMX'
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "16"
displayName = "M"
guestOS = "otherlinux-64"
memsize = "512"
scsi0.present = "TRUE"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "M.vmdk"
scsi0:0.deviceType = "scsi-hardDisk"
uuid.bios = "56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee"
VMX
)
cp -a tpl/master tpl/based
"$VMDKIT" base tpl/based/m/M.vmx tpl/based/base >/dev/null
mkdir tpl/based/leaves
cp -a tpl/based tpl/leafed
"$VMDKIT" clone --no-progress --vmx tpl/based/base/M.vmx \
	tpl/leafed/base/M.vmdk tpl/leafed/leaves/L1 >/dev/null 2>&1 ||
"$VMDKIT" clone --no-progress tpl/leafed/base/M.vmdk tpl/leafed/leaves/L1 >/dev/null
"$VMDKIT" clone --no-progress tpl/leafed/base/M.vmdk tpl/leafed/leaves/L2 >/dev/null
qemu-io -c 'write -P 0x22 128k 256k' tpl/leafed/leaves/L1/M-000001.vmdk >/dev/null
qemu-img convert -O raw tpl/leafed/leaves/L1/M-000001.vmdk l1.raw
qemu-img convert -O raw tpl/based/base/M.vmdk base.raw
listing tpl/based/base >base.list

# --- the commands ---------------------------------------------------------
# Each: setup_X (fresh copy in w/), run_X (the command, in w/), done_X
# (asserts the completed result).
setup_base() { rm -rf w && cp -a tpl/master w; }
run_base() { (cd w && "$VMDKIT" base m/M.vmx base); }
done_base() {
	"$VMDKIT" verify w/base >/dev/null || fail "$1: base does not verify"
	qemu-img compare -q base.raw w/base/M.vmdk || fail "$1: base content"
}

setup_clone() { rm -rf w && cp -a tpl/based w; }
run_clone() { (cd w && "$VMDKIT" clone --no-progress base/M.vmdk leaves/NEW); }
done_clone() {
	[ "$(ls w/leaves/NEW | tr '\n' ' ')" = \
	  "M-000001-s001.vmdk M-000001.vmdk M.vmdk NEW.vmsd NEW.vmx " ] ||
		fail "$1: leaf incomplete: $(ls w/leaves/NEW)"
	qemu-img check -q w/leaves/NEW/M-000001.vmdk || fail "$1: qemu-img check"
	qemu-img compare -q base.raw w/leaves/NEW/M-000001.vmdk ||
		fail "$1: leaf content"
	listing w/base | cmp -s base.list - || fail "$1: base modified"
}

setup_relocate() { rm -rf w && cp -a tpl/leafed w; }
run_relocate() { (cd w && "$VMDKIT" relocate base moved --leaves leaves); }
done_relocate() {
	[ ! -e w/base ] || fail "$1: old base still there"
	listing w/moved | cmp -s base.list - || fail "$1: base modified by the move"
	qemu-img compare -q l1.raw w/leaves/L1/M-000001.vmdk ||
		fail "$1: L1 content after relocate"
	"$VMDKIT" chain w/leaves/L2/M-000001.vmdk >/dev/null ||
		fail "$1: L2 chain after relocate"
}

setup_promote() { rm -rf w && cp -a tpl/leafed w; }
run_promote() { (cd w && "$VMDKIT" promote --no-progress leaves/L1/L1.vmx); }
done_promote() {
	disk=$(sed -n 's/^scsi0:0\.fileName = "\(.*\)"$/\1/p' w/leaves/L1/L1.vmx)
	grep -qa parentFileNameHint "w/leaves/L1/$disk" &&
		fail "$1: promoted disk still has a parent"
	qemu-img compare -q l1.raw "w/leaves/L1/$disk" ||
		fail "$1: promoted content"
	listing w/base | cmp -s base.list - || fail "$1: base modified"
}

# One run with a failpoint: complete and valid, or exactly as before; then
# the command without a failpoint completes (cleaning up what is left).
try() {
	cmd=$1 fp=$2
	"setup_$cmd"
	listing w >before.list
	set +e
	VMDKIT_FAILPOINT=$fp "run_$cmd" >out 2>err
	rc=$?
	set -e
	case $rc in
	0) "done_$cmd" "$cmd $fp (succeeded)" ;;
	3|4|6) if listing w | cmp -s before.list -; then
			:
		elif ( "done_$cmd" "$cmd $fp (failed after its commit point)" ); then
			# Committed, then a sync failed: complete, and the
			# message must say so.
			grep -q 'made\|created\|moved\|promoted' err ||
				fail "$cmd $fp: completed but the error does not say so: $(cat err)"
			[ "$cmd" = base ] || return 0
			# The next base run finishes what is left (the undo
			# record, the master's names of base files) and
			# leaves no .vmdkit-* debris.
			"run_$cmd" >out 2>err ||
				fail "$cmd after $fp: rerun after the commit failed: $(cat err)"
			"done_$cmd" "$cmd after $fp (rerun after the commit)"
			left=$(find w -name '.vmdkit-*' -print)
			[ -z "$left" ] || fail "$cmd after $fp: debris left: $left"
			[ "$(ls w/m)" = "M.vmdk.vmdkit-moved
M.vmx" ] || fail "$cmd after $fp: master left as: $(ls w/m)"
			return 0
		else
			listing w | diff before.list - >&2 || :
			fail "$cmd $fp: exit $rc and the tree changed: $(cat err)"
		fi ;;
	*) fail "$cmd $fp: exit $rc: $(cat err)" ;;
	esac
	grep -q 'Input/output error\|out of memory\|memory' err || [ "$rc" = 0 ] ||
		fail "$cmd $fp: failed without naming the injected error: $(cat err)"
	[ "$rc" = 0 ] && return 0
	"run_$cmd" >out 2>err || fail "$cmd after $fp: rerun failed: $(cat err)"
	"done_$cmd" "$cmd after $fp (rerun)"
}

total=0
for cmd in base clone relocate promote; do
	"setup_$cmd"
	VMDKIT_FAILPOINT=list "run_$cmd" >out 2>err || fail "$cmd: $(cat err)"
	"done_$cmd" "$cmd"
	counts=$(sed -n 's/^vmdkit-failpoints: //p' err)
	[ -n "$counts" ] || fail "$cmd: no failpoint counts: $(cat err)"
	runs=0
	for kind in write rename fsync mkdir unlink alloc; do
		n=$(echo "$counts" | tr ' ' '\n' | sed -n "s/^$kind=//p")
		step=1
		if [ "$kind" = alloc ] && [ -z "${FAILPOINTS_FULL:-}" ]; then
			step=$(( n / 12 + 1 ))
		fi
		i=1
		while [ "$i" -le "$n" ]; do
			try "$cmd" "$kind:$i"
			runs=$((runs + 1))
			i=$((i + step))
		done
	done
	echo "failpoints: $cmd: $counts; $runs runs"
	total=$((total + runs))
done
echo "failpoints: $total runs in all"
