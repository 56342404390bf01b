#!/bin/sh
# tests/bench/promote.sh - not a test: times promote and full clone against
# `qemu-img convert -O vmdk` and `cp --sparse=always` on one leaf.
#
#   VMDKIT=./vmdkit sh tests/bench/promote.sh [BASE_MIB [DELTA_MIB [SIZE]]]
#
# BASE_MIB of data in the base (default 1024), DELTA_MIB in the leaf's delta
# (default 256, half of it over base data), virtual SIZE (default 20G,
# twoGbMaxExtentSparse).  Prints seconds, MiB/s of data and allocated MiB
# for each, and checks every result with qemu-img compare.
set -eu
VMDKIT=${VMDKIT:-./vmdkit}
VMDKIT=$(cd "$(dirname "$VMDKIT")" && pwd)/$(basename "$VMDKIT")
BASE_MIB=${1:-1024}
DELTA_MIB=${2:-256}
SIZE=${3:-20G}
W=$(mktemp -d "${TMPDIR:-/tmp}/vmdkit-bench.XXXXXX")
trap 'chmod -R u+w "$W"; rm -rf "$W"' EXIT
cd "$W"

now() { date +%s.%N; }
alloc_mib() { du -k -c "$@" | tail -1 | cut -f1 | awk '{printf "%.1f", $1 / 1024}'; }
row() { # name seconds files...
	name=$1 secs=$2; shift 2
	data=$((BASE_MIB + DELTA_MIB / 2))
	printf '%-34s %8.2f s %9.1f MiB/s %9s MiB allocated\n' "$name" "$secs" \
		"$(echo "$data / $secs" | bc -l)" "$(alloc_mib "$@")"
}
timeit() { t0=$(now); "$@" >/dev/null; t1=$(now); echo "$t1 - $t0" | bc -l; }

echo "fs: $(df -T . | awk 'NR==2 {print $2}'), base $BASE_MIB MiB, delta $DELTA_MIB MiB, virtual $SIZE"
# random data (incompressible, no zero grains) at the start of the disk
truncate -s "$SIZE" base.raw
head -c "${BASE_MIB}M" /dev/urandom | dd of=base.raw conv=notrunc bs=1M status=none
qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse base.raw M.vmdk
rm -f base.raw
"$VMDKIT" base M.vmdk Base >/dev/null
"$VMDKIT" clone Base/M.vmdk Leaf >/dev/null
disk=$(sed -n 's/^scsi0:0.fileName = "\(.*\)"$/\1/p' Leaf/Leaf.vmx)
half=$((DELTA_MIB / 2))
qemu-io -c "write -P 0x77 $((BASE_MIB - half))M ${DELTA_MIB}M" "Leaf/$disk" >/dev/null
sync

mkdir p1 p2 p3
secs=$(timeit "$VMDKIT" promote --no-progress --output p1 Leaf)
row "vmdkit promote (twoGbMaxExtent)" "$secs" p1/*.vmdk
secs=$(timeit "$VMDKIT" promote --no-progress --type monolithicSparse --output p2 Leaf)
row "vmdkit promote (monolithicSparse)" "$secs" p2/*.vmdk
secs=$(timeit "$VMDKIT" promote --no-progress --type monolithicFlat --output p3 Leaf)
row "vmdkit promote (monolithicFlat)" "$secs" p3/*.vmdk
secs=$(timeit qemu-img convert -O vmdk "Leaf/$disk" q1.vmdk)
row "qemu-img convert -O vmdk" "$secs" q1.vmdk
secs=$(timeit qemu-img convert -O vmdk -o subformat=twoGbMaxExtentSparse "Leaf/$disk" q2.vmdk)
row "qemu-img convert (twoGbMaxExtent)" "$secs" q2.vmdk q2-s*.vmdk
mkdir c1
secs=$(timeit cp --sparse=always Base/M-s*.vmdk Leaf/*.vmdk c1/)
row "cp --sparse=always (base + leaf)" "$secs" c1/*

if "$VMDKIT" clone --help 2>/dev/null | grep -q -- '--full'; then
	secs=$(timeit "$VMDKIT" clone --full --no-progress Base/M.vmdk Full)
	row "vmdkit clone --full (base only)" "$secs" Full/*.vmdk
fi
for d in p1/Leaf.vmdk p2/Leaf.vmdk p3/Leaf.vmdk q1.vmdk; do
	qemu-img compare -q "Leaf/$disk" "$d" || echo "MISMATCH: $d"
done
