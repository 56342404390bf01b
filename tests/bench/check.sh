#!/bin/sh
# tests/bench/check.sh - checking leaves: `vmdkit check --recursive` over
# BENCH_CHECK_LEAVES (1000) leaves of a 5 GiB three-extent base against a
# loop of `qemu-img info --backing-chain` on each leaf's delta (what a
# script would do to see that every chain opens).  Also --deep (walks the
# grain tables) for the same tree.
#
#   VMDKIT=./vmdkit sh tests/bench/check.sh
. "$(dirname "$0")/lib.sh"
N=${BENCH_CHECK_LEAVES:-1000}

base_fixture 5G "$W"
"$VMDKIT" clone --no-progress --sync none --count "$N" --name 'l%05d' \
	Base/M.vmdk L >/dev/null
cat >peer.sh <<'PEER'
for d in L/*/; do
	qemu-img info --backing-chain "$d/M-000001.vmdk" >/dev/null || exit 1
done
PEER
sync

header
measure "" "" "$VMDKIT" check --recursive L
v=$SECS rss=$RSS_KIB
measure "" "" sh peer.sh
p=$SECS
row "check --recursive, $N leaves" "$v" "$p" "$rss" \
	"$(echo "$v * 1000000 / $N" | bc -l | awk '{ printf "%.0f", $1 }') us/leaf"
measure "" "" "$VMDKIT" check --recursive --deep L
row "check --recursive --deep, $N leaves" "$SECS" "$p" "$RSS_KIB" \
	"peer: the same qemu-img loop"
