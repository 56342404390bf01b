#!/bin/sh
# tests/bench/promote-ratio.sh - promote: a leaf with BENCH_DELTA_MIB
# (1024) MiB written, half of it over the base's data, over a base with
# BENCH_BASE_MIB (1024) MiB written (random bytes, 5 GiB three-extent
# twoGbMaxExtentSparse), against `qemu-img convert -O vmdk` of the leaf
# and `cp --sparse=always` of the same allocated files (base extents and
# the leaf's delta).  vmdkit promote fsyncs what it writes, qemu-img and
# cp do not: the `cp + sync FILES` row is cp with the same durability.
# tests/bench/promote.sh has more promote and full-clone variants.
#
#   VMDKIT=./vmdkit sh tests/bench/promote-ratio.sh
. "$(dirname "$0")/lib.sh"
BASE_MIB=${BENCH_BASE_MIB:-1024}
DELTA_MIB=${BENCH_DELTA_MIB:-1024}

truncate -s 5G base.raw
head -c "${BASE_MIB}M" /dev/urandom | dd of=base.raw conv=notrunc bs=1M status=none
qemu-img convert -f raw -O vmdk -o subformat=twoGbMaxExtentSparse base.raw M.vmdk
rm -f base.raw
"$VMDKIT" base M.vmdk Base >/dev/null
"$VMDKIT" clone Base/M.vmdk Leaf >/dev/null
head -c "${DELTA_MIB}M" /dev/urandom >delta.raw
qemu-io -f vmdk -c "write -s delta.raw $((BASE_MIB / 2))M ${DELTA_MIB}M" \
	Leaf/M-000001.vmdk >/dev/null
rm -f delta.raw
sync
echo "# base $BASE_MIB MiB, leaf delta $DELTA_MIB MiB ($(du -k -c Base/M-s*.vmdk Leaf/M-000001*.vmdk | tail -1 | cut -f1) KiB allocated to copy)"

header
# The four commands take turns (promote, qemu-img, cp, cp + sync, then
# again), so that each pays the same share of this filesystem's state
# (writeback and discards of the runs before it) instead of one command
# getting all the quiet runs.
cat >cpsync.sh <<'CP'
cp --sparse=always Base/M-s00?.vmdk Leaf/M-000001-s00?.vmdk C/ && sync C/*
CP
for f in promote qemu cp cpsync; do : >"$W/all.$f"; done
runs=$RUNS rss=0 r=0
RUNS=1
while [ "$r" -lt "$runs" ]; do
	measure "sync; mkdir P" "set_aside P" "$VMDKIT" promote --no-progress --output P Leaf
	echo "$SECS" >>"$W/all.promote"
	[ "$RSS_KIB" -le "$rss" ] || rss=$RSS_KIB
	measure sync "set_aside q.vmdk" qemu-img convert -O vmdk Leaf/M-000001.vmdk q.vmdk
	echo "$SECS" >>"$W/all.qemu"
	measure "sync; mkdir C" "set_aside C" cp --sparse=always Base/M-s001.vmdk \
		Base/M-s002.vmdk Base/M-s003.vmdk Leaf/M-000001-s001.vmdk \
		Leaf/M-000001-s002.vmdk Leaf/M-000001-s003.vmdk C/
	echo "$SECS" >>"$W/all.cp"
	measure "sync; mkdir C" "set_aside C" sh cpsync.sh
	echo "$SECS" >>"$W/all.cpsync"
	r=$((r + 1))
done
RUNS=$runs
v=$(median <"$W/all.promote")
row "promote vs qemu-img convert -O vmdk" "$v" "$(median <"$W/all.qemu")" "$rss"
row "promote vs cp --sparse=always" "$v" "$(median <"$W/all.cp")" "$rss" "no fsync in cp"
row "promote vs cp --sparse=always + sync FILES" "$v" "$(median <"$W/all.cpsync")" "$rss"
# the result is the leaf's content
mkdir P && "$VMDKIT" promote --no-progress --output P Leaf >/dev/null
qemu-img compare -q Leaf/M-000001.vmdk P/Leaf.vmdk || { echo "bench: promote result differs" >&2; exit 1; }
