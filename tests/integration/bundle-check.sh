#!/bin/sh
# bundle-check.sh - `vmdkit check` on a tree made with qemu-img, `vmdkit
# base` and `vmdkit clone` (vms/B, vms/L1, vms/L2): the clean tree reports
# no warning or error (exit 0), and each planted defect is reported with
# its code (vmdk/CHECKS.md) and the documented exit code (5 warnings
# only, 1 errors).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
LC_ALL=C; export LC_ALL
cd "$T"

mkdir -p M pristine/vms
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse M/Core.vmdk 4M
qemu-io -c 'write -P 0x11 0 64k' M/Core.vmdk >/dev/null
"$VMDKIT" base M/Core.vmdk pristine/vms/B >/dev/null
"$VMDKIT" clone pristine/vms/B/Core.vmdk pristine/vms/L1 >/dev/null
"$VMDKIT" clone pristine/vms/B/Core.vmdk pristine/vms/L2 >/dev/null

fresh() { chmod -R u+w w 2>/dev/null || true; rm -rf w; cp -a pristine w; }
# expect CODE EXIT [check options...]: the tree w/vms has CODE, exit EXIT
expect() {
	code=$1; want=$2; shift 2
	set +e; (cd w && "$VMDKIT" check --recursive "$@" vms) >out.txt 2>&1; got=$?; set -e
	grep -q "\[$code\]\$" out.txt || fail "no [$code]: $(cat out.txt)"
	[ "$got" = "$want" ] || fail "[$code]: exit $got, expected $want: $(cat out.txt)"
}

# --- clean -----------------------------------------------------------------
fresh
(cd w && "$VMDKIT" check --recursive vms) >out.txt || fail "clean tree: $(cat out.txt)"
grep -q ': \(warning\|error\): ' out.txt && fail "clean tree: $(cat out.txt)"
(cd w && "$VMDKIT" check --recursive --deep --confine vms vms) >out.txt || fail "clean tree, deep, confined: $(cat out.txt)"
(cd w && "$VMDKIT" check vms/L1/L1.vmx) >out.txt || fail "clean .vmx: $(cat out.txt)"

# --- one defect each ------------------------------------------------------
fresh; rm w/vms/L1/Core-000001-s001.vmdk
expect extent-missing 5
fresh; chmod u+w w/vms/B/Core-s001.vmdk; truncate -s 1024 w/vms/B/Core-s001.vmdk
expect extent-format 1
fresh; sed -i 's/^RW 8192 /RW 4096 /' w/vms/L2/Core.vmdk
expect extent-size-mismatch 1
fresh; sed -i 's/^CID=.*/CID=0badc1d0/' w/vms/L1/Core.vmdk
expect parent-cid-mismatch 1
fresh; sed -i 's/^parentFileNameHint=.*/parentFileNameHint="Gone.vmdk"/' w/vms/L1/Core-000001.vmdk
expect parent-missing 5
fresh; sed -i "s|^parentFileNameHint=.*|parentFileNameHint=\"$T/w/vms/B/Core.vmdk\"|" w/vms/L1/Core-000001.vmdk
expect parent-hint-absolute 5
fresh; chmod u+w w/vms/B/Core.vmdk
expect base-writable 1
fresh; chmod u+w w/vms/B/Core-s001.vmdk
size=$(stat -c %s w/vms/B/Core-s001.vmdk)
printf 'X' | dd of=w/vms/B/Core-s001.vmdk bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
chmod a-w w/vms/B/Core-s001.vmdk
expect base-modified 1
fresh; sed -i 's|^scsi0:0.fileName = .*|scsi0:0.fileName = "../L1/Core-000001.vmdk"|' w/vms/L2/L2.vmx
expect shared-disk 1
fresh
sed -i 's|^parentFileNameHint=.*|parentFileNameHint="../B/Core.vmdk"|' w/vms/L1/Core-000001.vmdk w/vms/L2/Core-000001.vmdk
expect shared-parent 5
fresh; mkdir w/vms/L1/Core-000001.vmdk.lck
expect stale-lock 5
fresh
for v in w/vms/L1/L1.vmx w/vms/L2/L2.vmx; do
	echo 'uuid.bios = "56 4d 11 22 33 44 55 66-77 88 99 aa bb cc dd ee"' >>"$v"
done
expect duplicate-uuid-bios 1
fresh
echo 'ethernet0.address = "00:50:56:00:00:01"' >>w/vms/L1/L1.vmx
echo 'ethernet1.generatedAddress = "00:50:56:00:00:01"' >>w/vms/L2/L2.vmx
expect duplicate-mac 1
fresh; sed -i 's/^snapshot0.disk0.fileName = .*/snapshot0.disk0.fileName = "Nope.vmdk"/' w/vms/L1/L1.vmsd
expect vmsd-disk-missing 5
fresh; sed -i 's|^scsi0:0.fileName = .*|scsi0:0.fileName = "Nope-000001.vmdk"|' w/vms/L1/L1.vmx
expect vmx-disk-missing 5
fresh; printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\n# Extent description\nRW 8 SPARES "x"\n' >w/vms/L1/Bad.vmdk
expect syntax 1
fresh
expect path-escapes-confine 1 --confine vms/L1
fresh
# Deep: an allocated grain of L1's delta pointed past the end of its file.
qemu-io -c 'write -P 0x21 0 64k' w/vms/L1/Core-000001.vmdk >/dev/null
x=w/vms/L1/Core-000001-s001.vmdk
gd=$(od -An -t u4 -j 56 -N 4 "$x" | tr -d ' ')
gt=$(od -An -t u4 -j $((gd * 512)) -N 4 "$x" | tr -d ' ')
printf '\377\377\377\000' | dd of="$x" bs=1 seek=$((gt * 512)) conv=notrunc 2>/dev/null
expect grain-outside-file 1 --deep
(cd w && "$VMDKIT" check --recursive vms) >out.txt 2>&1 || true
grep -q 'grain-outside-file' out.txt && fail "grain tables read without --deep"

# --- formats -----------------------------------------------------------
fresh; rm w/vms/L1/Core-000001-s001.vmdk
set +e; (cd w && "$VMDKIT" check --recursive --format json vms) >out.json; rc=$?; set -e
[ "$rc" = 5 ] || fail "json: exit $rc"
grep -q '"code": *"extent-missing"' out.json || fail "json: $(cat out.json)"
exit 0
