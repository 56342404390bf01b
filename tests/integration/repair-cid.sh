#!/bin/sh
# repair-cid.sh - a hypervisor bumps the CID of a leaf's copy of the base
# descriptor when it opens it: qemu then refuses the leaf (parent CID
# mismatch).  `vmdkit repair-cid` re-links it, proven by the base
# manifest; when the base's data changed it refuses and writes nothing.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
cd "$T"

mkdir -p M leaves
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M/Core.vmdk 4M
qemu-io -c 'write -P 0x11 0 64k' M/Core.vmdk >/dev/null
"$VMDKIT" base M/Core.vmdk B >/dev/null
"$VMDKIT" clone B/Core.vmdk leaves/L1 >/dev/null
"$VMDKIT" clone B/Core.vmdk leaves/L2 >/dev/null
qemu-io -c 'write -P 0x21 64k 64k' leaves/L1/Core-000001.vmdk >/dev/null
D=leaves/L1/Core-000001.vmdk

# --- a clean chain: nothing to do ----------------------------------------
"$VMDKIT" repair-cid "$D" >out.txt
grep -q 'nothing to repair' out.txt || fail "clean chain: $(cat out.txt)"

# --- the copy's CID bumped, as a hypervisor does ---------------------------
sed -i 's/^CID=.*/CID=5eed0001/' leaves/L1/Core.vmdk
if qemu-io -r -c 'read -P 0x11 0 64k' "$D" >/dev/null 2>&1; then
	fail "qemu reads through a CID mismatch: the test proves nothing"
fi
expect_exit 1 "$VMDKIT" chain "$D" >/dev/null
before=$(sha256sum "$D")
"$VMDKIT" repair-cid --dry-run "$D" >out.txt
[ "$(sha256sum "$D")" = "$before" ] || fail "dry run wrote"
"$VMDKIT" repair-cid "$D" >out.txt
grep -q '5eed0001' out.txt || fail "repair output: $(cat out.txt)"
grep -q '^parentCID=5eed0001$' "$D" || fail "parentCID not set: $(cat "$D")"
"$VMDKIT" chain "$D" >/dev/null || fail "chain still broken"
qemu-io -r -c 'read -P 0x11 0 64k' -c 'read -P 0x21 64k 64k' "$D" >/dev/null \
	|| fail "qemu cannot read the repaired leaf"
qemu-img check -q "$D" || fail "qemu-img check after repair"
qemu-img info --backing-chain "$D" >/dev/null || fail "qemu-img info after repair"

# --- a one-file delta (descriptor embedded in the sparse file) ----------
qemu-img create -q -f vmdk -F vmdk -b Core.vmdk leaves/L1/child.vmdk
qemu-io -c 'write -P 0x33 128k 64k' leaves/L1/child.vmdk >/dev/null
sed -i 's/^CID=.*/CID=5eed0004/' leaves/L1/Core.vmdk
if qemu-io -r -c 'read -P 0x11 0 64k' leaves/L1/child.vmdk >/dev/null 2>&1; then
	fail "qemu reads the embedded delta through a CID mismatch"
fi
size=$(stat -c %s leaves/L1/child.vmdk)
"$VMDKIT" repair-cid leaves/L1/child.vmdk >out.txt || fail "embedded repair: $(cat out.txt)"
[ "$(stat -c %s leaves/L1/child.vmdk)" = "$size" ] || fail "embedded repair changed the file size"
qemu-io -r -c 'read -P 0x11 0 64k' -c 'read -P 0x33 128k 64k' leaves/L1/child.vmdk >/dev/null \
	|| fail "qemu cannot read the repaired embedded delta"
qemu-img check -q leaves/L1/child.vmdk || fail "qemu-img check of the embedded delta"

# --- the base's data changed: refused ----------------------------------
chmod u+w B/Core-s001.vmdk
qemu-io -c 'write -P 0x99 0 512' B/Core-s001.vmdk >/dev/null 2>&1 \
	|| printf 'x' | dd of=B/Core-s001.vmdk bs=1 seek=70000 conv=notrunc 2>/dev/null
chmod a-w B/Core-s001.vmdk
sed -i 's/^CID=.*/CID=5eed0002/' leaves/L2/Core.vmdk
before=$(sha256sum leaves/L2/Core-000001.vmdk)
expect_exit 6 "$VMDKIT" repair-cid leaves/L2/Core-000001.vmdk 2>err.txt
grep -q 'does not match its manifest' err.txt || fail "refusal reason: $(cat err.txt)"
grep -q -- '--force' err.txt || fail "refusal does not name --force: $(cat err.txt)"
[ "$(sha256sum leaves/L2/Core-000001.vmdk)" = "$before" ] || fail "refusal wrote"
# --force repairs anyway, loudly.
"$VMDKIT" repair-cid --force leaves/L2/Core-000001.vmdk >out.txt 2>err.txt
grep -qi 'not proven' err.txt || grep -qi 'forced' out.txt || fail "--force is not loud: $(cat out.txt err.txt)"
"$VMDKIT" chain leaves/L2/Core-000001.vmdk >/dev/null || fail "forced repair did not re-link"

# --- a parent outside any base: no proof, refused ------------------------
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse P.vmdk 1M
"$VMDKIT" create C.vmdk --parent P.vmdk >/dev/null
sed -i 's/^CID=.*/CID=5eed0003/' P.vmdk
expect_exit 6 "$VMDKIT" repair-cid C.vmdk 2>err.txt
grep -q 'not in a vmdkit base folder' err.txt || fail "no-proof refusal: $(cat err.txt)"
exit 0
