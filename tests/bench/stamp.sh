#!/bin/sh
# tests/bench/stamp.sh - stamping leaves: `vmdkit clone --count N` from a
# 5 GiB three-extent twoGbMaxExtentSparse base against a shell loop of
# mkdir + descriptor copy + `qemu-img create -f vmdk -b` (no .vmx/.vmsd,
# no syncs: what a script would do by hand).
#
#   VMDKIT=./vmdkit sh tests/bench/stamp.sh
#
# BENCH_RUNS (3) runs a figure; BENCH_LEAVES ("100 1000 10000") leaf
# counts for vmdkit; the peer loop runs up to BENCH_PEER_MAX (1000) leaves
# (about 20-70 ms a leaf, so 10000 would take minutes a run); 10000 leaves
# are stamped once, not BENCH_RUNS times.  Every run
# starts after a `sync`, so no run pays for the previous one's writeback,
# and each run's leaves are set aside (renamed), not removed, until the
# end (see set_aside in lib.sh).
. "$(dirname "$0")/lib.sh"
LEAVES=${BENCH_LEAVES:-100 1000 10000}
PEER_MAX=${BENCH_PEER_MAX:-1000}

base_fixture 5G "$W"
# the peer's descriptor copy: extent paths from a leaf folder L/NAME/
sed 's|^\(RW [0-9]* SPARSE "\)|\1../../Base/|' Base/M.vmdk >tmpl.vmdk
cat >peer.sh <<'PEER'
# mkdir + descriptor copy + qemu-img create -b, N times
n=$1 i=1
mkdir L
while [ "$i" -le "$n" ]; do
	d=L/l$i
	mkdir "$d"
	cp tmpl.vmdk "$d/M.vmdk"
	qemu-img create -q -f vmdk -F vmdk -b M.vmdk "$d/M-000001.vmdk" 5G
	i=$((i + 1))
done
PEER

header
for n in $LEAVES; do
	# 10000 leaves take minutes a run here: once
	runs=$RUNS
	[ "$n" -lt 10000 ] || RUNS=1
	measure sync "set_aside L" "$VMDKIT" clone --no-progress --count "$n" \
		--name 'l%05d' Base/M.vmdk L
	v=$SECS rss=$RSS_KIB
	RUNS=$runs
	p=-
	if [ "$n" -le "$PEER_MAX" ]; then
		measure sync "set_aside L" sh peer.sh "$n"
		p=$SECS
	fi
	row "stamp $n leaves (--sync batch, default)" "$v" "$p" "$rss" \
		"$(echo "$v * 1000 / $n" | bc -l | awk '{ printf "%.2f", $1 }') ms/leaf"
done
# one thread (the default uses one per CPU)
if [ "$(nproc)" -gt 1 ]; then
	measure sync "set_aside L" "$VMDKIT" clone --no-progress --jobs 1 \
		--count 1000 --name 'l%05d' Base/M.vmdk L
	row "stamp 1000 leaves, --jobs 1" "$SECS" - "$RSS_KIB" \
		"$(echo "$SECS" | awk '{ printf "%.2f", $1 }') ms/leaf"
fi
# the durability policies at 100 leaves (leaf costs ~9 fsyncs a leaf)
for mode in leaf none; do
	measure sync "set_aside L" "$VMDKIT" clone --no-progress --sync "$mode" \
		--count 100 --name 'l%05d' Base/M.vmdk L
	row "stamp 100 leaves, --sync $mode" "$SECS" - "$RSS_KIB" \
		"$(echo "$SECS * 10" | bc -l | awk '{ printf "%.2f", $1 }') ms/leaf"
done
measure sync "set_aside L" "$VMDKIT" clone --no-progress --sync none \
	--count 1000 --name 'l%05d' Base/M.vmdk L
row "stamp 1000 leaves, --sync none" "$SECS" - "$RSS_KIB" \
	"$(echo "$SECS" | awk '{ printf "%.2f", $1 }') ms/leaf"
# The filesystem's floor: the same folder, 7 files (3 of them 320 KiB
# sparse extents with 3 small writes) and rename a leaf, no syncs, in one
# python process -- what any stamper must pay here.
if command -v python3 >/dev/null; then
	cat >floor.py <<'PY'
import os, sys
os.mkdir("F")
for i in range(int(sys.argv[1])):
    d = "F/.tmp%d" % i
    os.mkdir(d)
    for j in range(7):
        fd = os.open("%s/f%d" % (d, j), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.pwrite(fd, b"x" * 512, 0)
        if j < 3:
            os.ftruncate(fd, 327680)
            os.pwrite(fd, b"y" * 512, 10752)
            os.pwrite(fd, b"y" * 512, 143360)
        os.close(fd)
    os.rename(d, "F/l%d" % i)
PY
	for n in 100 1000; do
		measure sync "set_aside F" python3 floor.py "$n"
		row "floor: python creating the same files, $n leaves" "$SECS" - "$RSS_KIB" \
			"$(echo "$SECS * 1000 / $n" | bc -l | awk '{ printf "%.2f", $1 }') ms/leaf"
	done
fi
# the peer's leaf is a valid chain too (the comparison is like for like)
sh peer.sh 1 && qemu-img check -q L/l1/M-000001.vmdk && rm -rf L
