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
# (about 70 ms a leaf, so 10000 would take minutes a run).  Every run
# starts after a `sync`, so no run pays for the previous one's writeback.
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
	measure sync "rm -rf L" "$VMDKIT" clone --no-progress --count "$n" \
		--name 'l%05d' Base/M.vmdk L
	v=$SECS rss=$RSS_KIB
	p=-
	if [ "$n" -le "$PEER_MAX" ]; then
		measure sync "rm -rf L" sh peer.sh "$n"
		p=$SECS
	fi
	row "stamp $n leaves (--sync batch, default)" "$v" "$p" "$rss" \
		"$(echo "$v * 1000 / $n" | bc -l | awk '{ printf "%.2f", $1 }') ms/leaf"
done
# the durability policies at 100 leaves (leaf costs ~9 fsyncs a leaf)
for mode in leaf none; do
	measure sync "rm -rf L" "$VMDKIT" clone --no-progress --sync "$mode" \
		--count 100 --name 'l%05d' Base/M.vmdk L
	row "stamp 100 leaves, --sync $mode" "$SECS" - "$RSS_KIB" \
		"$(echo "$SECS * 10" | bc -l | awk '{ printf "%.2f", $1 }') ms/leaf"
done
# the peer's leaf is a valid chain too (the comparison is like for like)
sh peer.sh 1 && qemu-img check -q L/l1/M-000001.vmdk && rm -rf L
