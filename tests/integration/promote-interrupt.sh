#!/bin/sh
# promote-interrupt.sh - a promote that fails or is killed at any step
# before its commit point leaves the leaf usable exactly as before: same
# .vmx and .vmsd bytes, same delta, same content through the chain.  A
# failure leaves no new file; a kill leaves at most a staging folder (the
# next promote removes it) or unreferenced new files.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
TOOL="$VMDKIT_BUILDDIR/tests/promote-tool"
[ -x "$TOOL" ] || skip "tests/promote-tool not built"
cd "$T"

qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M.vmdk 64M
qemu-io -c 'write -P 0x11 0 1M' M.vmdk >/dev/null
"$VMDKIT" base M.vmdk Base >/dev/null
"$VMDKIT" clone Base/M.vmdk Leaf >/dev/null
qemu-io -c 'write -P 0x22 512k 1M' Leaf/M-000001.vmdk >/dev/null
qemu-img convert -O raw Leaf/M-000001.vmdk before.raw
listing() { (cd Leaf && ls -A | sort && sha256sum Leaf.vmx Leaf.vmsd M.vmdk); }
listing >before.list

unchanged() {
	qemu-img compare -q before.raw Leaf/M-000001.vmdk ||
		fail "$1: leaf content changed"
	"$VMDKIT" chain Leaf/M-000001.vmdk >/dev/null || fail "$1: chain broken"
	(cd Leaf && sha256sum Leaf.vmx Leaf.vmsd M.vmdk) >sums.now
	tail -3 before.list | cmp -s - sums.now || fail "$1: .vmx/.vmsd/copy changed"
}

for point in staged renamed vmx; do
	VMDK_PROMOTE_FAILPOINT=$point expect_exit 1 "$TOOL" promote Leaf \
		>/dev/null 2>err
	grep -q "failpoint '$point'" err || fail "$point: $(cat err)"
	unchanged "$point"
	listing | cmp -s before.list - || fail "$point: files left: $(ls -A Leaf)"
done

# killed with the new disk staged: a staging folder stays behind
VMDK_PROMOTE_FAILPOINT=kill:staged expect_exit 137 "$TOOL" promote Leaf >/dev/null
unchanged kill:staged
ls -A Leaf | grep -q '^\.vmdkit-tmp-' || fail "kill:staged: no staging folder"

# killed after the new files were renamed in: unreferenced, leaf as before
VMDK_PROMOTE_FAILPOINT=kill:renamed expect_exit 137 "$TOOL" promote Leaf >/dev/null
unchanged kill:renamed

# a later promote cleans the staging folder and completes
"$TOOL" promote Leaf >/dev/null
ls -A Leaf | grep -q '^\.vmdkit-tmp-' && fail "staging folder not cleaned"
disk=$(sed -n 's/^scsi0:0.fileName = "\(.*\)"$/\1/p' Leaf/Leaf.vmx)
[ -f "Leaf/$disk" ] || fail "promoted disk '$disk' missing"
qemu-img compare -q before.raw "Leaf/$disk" || fail "promoted content differs"
[ ! -e Leaf/M-000001.vmdk ] || fail "old delta left"
exit 0
