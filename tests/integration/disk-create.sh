#!/bin/sh
# disk-create.sh - every type `vmdkit create` makes passes qemu-img check,
# has the right size and create-type for qemu, opens in vmdkinfo, and can be
# written by qemu-io and read back by us (vmdk_disk_read, through
# tests/vmdk-read).  Names with spaces throughout.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
need vmdkinfo
READ="$VMDKIT_BUILDDIR/tests/vmdk-read"
[ -x "$READ" ] || skip "tests/vmdk-read not built"

check_disk() { # PATH TYPE BYTES
	d=$1 type=$2 bytes=$3
	qemu-img check "$d" >"$T/check.out" 2>&1 ||
		fail "qemu-img check $d: $(cat "$T/check.out")"
	grep -q "No errors" "$T/check.out" || fail "qemu-img check $d: $(cat "$T/check.out")"
	qemu-img info --output=json "$d" >"$T/info.json"
	grep -q "\"virtual-size\": $bytes," "$T/info.json" ||
		fail "$d: virtual-size is not $bytes: $(cat "$T/info.json")"
	grep -q "\"create-type\": \"$type\"" "$T/info.json" ||
		fail "$d: create-type is not $type"
	vmdkinfo "$d" >"$T/vmdkinfo.out" 2>&1 || fail "vmdkinfo $d: $(cat "$T/vmdkinfo.out")"
}

# Split types get 5 GiB so they really split; all files stay sparse.
for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat twoGbMaxExtentFlat; do
	dir="$T/vm $type"
	mkdir "$dir"
	d="$dir/My Disk.vmdk"
	"$VMDKIT" create --type "$type" --size 5G "$d" >/dev/null || fail "create $type"
	check_disk "$d" "$type" 5368709120
	case $type in
	monolithicSparse)
		[ "$(ls "$dir")" = "My Disk.vmdk" ] || fail "$type: extra files: $(ls "$dir")"
		head -c 4 "$d" | grep -q KDMV || fail "$type: no KDMV header"
		;;
	twoGbMaxExtentSparse)
		grep -q '^RW 8323072 SPARSE "My Disk-s001.vmdk"$' "$d" || fail "$type: extent 1: $(cat "$d")"
		grep -q '^RW 2162688 SPARSE "My Disk-s002.vmdk"$' "$d" || fail "$type: extent 2"
		[ -f "$dir/My Disk-s002.vmdk" ] || fail "$type: no -s002 file"
		;;
	monolithicFlat)
		grep -q '^RW 10485760 FLAT "My Disk-flat.vmdk" 0$' "$d" || fail "$type: extent: $(cat "$d")"
		[ "$(stat -c %s "$dir/My Disk-flat.vmdk")" = 5368709120 ] || fail "$type: flat size"
		;;
	twoGbMaxExtentFlat)
		grep -q '^RW 8323072 FLAT "My Disk-f001.vmdk" 0$' "$d" || fail "$type: extent 1"
		grep -q '^RW 2162688 FLAT "My Disk-f002.vmdk" 0$' "$d" || fail "$type: extent 2"
		;;
	esac
	# The descriptor follows the canonical template and VMware's DDB.
	if [ "$type" = monolithicSparse ]; then
		dd if="$d" bs=512 skip=1 count=20 2>/dev/null | tr -d '\000' >"$T/desc"
	else
		cp "$d" "$T/desc"
	fi
	head -n 1 "$T/desc" | grep -qx '# Disk DescriptorFile' || fail "$type: first line"
	grep -q "^createType=\"$type\"\$" "$T/desc" || fail "$type: createType"
	grep -q '^parentCID=ffffffff$' "$T/desc" || fail "$type: parentCID"
	grep -q '^ddb.adapterType = "lsilogic"$' "$T/desc" || fail "$type: adapterType"
	grep -q '^ddb.geometry.heads = "255"$' "$T/desc" || fail "$type: heads"
	grep -q '^ddb.geometry.cylinders = "652"$' "$T/desc" || fail "$type: cylinders"
	grep -Eq '^ddb.uuid = "60 00 C2 9[0-9a-f]( [0-9a-f]{2}){4}-[0-9a-f]{2}( [0-9a-f]{2}){7}"$' "$T/desc" ||
		fail "$type: ddb.uuid form: $(grep uuid "$T/desc")"
	cid=$(sed -n 's/^CID=//p' "$T/desc")
	grep -Eq "^ddb.longContentID = \"[0-9a-f]{24}$cid\"\$" "$T/desc" ||
		fail "$type: longContentID does not end with CID $cid"
	# Nothing is preallocated: a 5 GiB disk takes a few KiB.
	used=$(du -sk "$dir" | cut -f1)
	[ "$used" -lt 1024 ] || fail "$type: $used KiB allocated for an empty disk"
	# Never over an existing disk, and the existing one is untouched.
	before=$(sha "$dir"/*)
	expect_exit 6 "$VMDKIT" create --type "$type" --size 1M "$d" 2>/dev/null
	[ "$(sha "$dir"/*)" = "$before" ] || fail "$type: failed create changed files"
done

# qemu-io can write into our small disks and we read the same bytes back.
for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat twoGbMaxExtentFlat; do
	d="$T/small $type.vmdk"
	"$VMDKIT" create --type "$type" --size 8M --adapter ide --hw-version 7 "$d" >/dev/null ||
		fail "create small $type"
	check_disk "$d" "$type" 8388608
	qemu-io -f vmdk -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 4100k 12k' \
		-c 'write -P 0xef 8188k 4k' "$d" >/dev/null || fail "qemu-io write $type"
	qemu-img check "$d" >/dev/null || fail "check after write $type"
	"$READ" "$d" "$T/ours.raw" || fail "read $type"
	qemu-img convert -f vmdk -O raw "$d" "$T/qemu.raw"
	cmp "$T/ours.raw" "$T/qemu.raw" || fail "$type: our read differs from qemu-img convert"
done
grep -q '^ddb.geometry.heads = "16"$' "$T/small monolithicFlat.vmdk" || fail "ide heads"
grep -q '^ddb.geometry.cylinders = "16"$' "$T/small monolithicFlat.vmdk" || fail "ide cylinders"
grep -q '^ddb.virtualHWVersion = "7"$' "$T/small monolithicFlat.vmdk" || fail "hw version"

# Cylinders are capped (16383 for ide, 65535 for scsi).
"$VMDKIT" create --type twoGbMaxExtentFlat --size 100G --adapter ide "$T/big ide.vmdk" >/dev/null
grep -q '^ddb.geometry.cylinders = "16383"$' "$T/big ide.vmdk" || fail "ide cap"
"$VMDKIT" create --type twoGbMaxExtentSparse --size 1T "$T/big scsi.vmdk" >/dev/null
grep -q '^ddb.geometry.cylinders = "65535"$' "$T/big scsi.vmdk" || fail "scsi cap"
check_disk "$T/big scsi.vmdk" twoGbMaxExtentSparse 1099511627776

# monolithicSparse cannot exceed 32-bit grain tables: refused, nothing left.
expect_exit 3 "$VMDKIT" create --type monolithicSparse --size 2T "$T/huge.vmdk" 2>"$T/err"
grep -q "use a split type" "$T/err" || fail "huge: $(cat "$T/err")"
[ ! -e "$T/huge.vmdk" ] || fail "huge: file left behind"

# A failed split create removes what it made: the second extent exists.
mkdir "$T/clash"
: >"$T/clash/c-s002.vmdk"
expect_exit 6 "$VMDKIT" create --type twoGbMaxExtentSparse --size 5G "$T/clash/c.vmdk" 2>/dev/null
[ "$(ls "$T/clash")" = "c-s002.vmdk" ] || fail "clash: left $(ls "$T/clash")"
[ ! -s "$T/clash/c-s002.vmdk" ] || fail "clash: foreign file changed"
exit 0
