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
measure "sync; mkdir P" "set_aside P" "$VMDKIT" promote --no-progress --output P Leaf
v=$SECS rss=$RSS_KIB
measure sync "set_aside q.vmdk" qemu-img convert -O vmdk Leaf/M-000001.vmdk q.vmdk
row "promote vs qemu-img convert -O vmdk" "$v" "$SECS" "$rss"
measure "sync; mkdir C" "set_aside C" cp --sparse=always Base/M-s001.vmdk \
	Base/M-s002.vmdk Base/M-s003.vmdk Leaf/M-000001-s001.vmdk \
	Leaf/M-000001-s002.vmdk Leaf/M-000001-s003.vmdk C/
row "promote vs cp --sparse=always" "$v" "$SECS" "$rss" "no fsync in cp"
cat >cpsync.sh <<'CP'
cp --sparse=always Base/M-s00?.vmdk Leaf/M-000001-s00?.vmdk C/ && sync C/*
CP
measure "sync; mkdir C" "set_aside C" sh cpsync.sh
row "promote vs cp --sparse=always + sync FILES" "$v" "$SECS" "$rss"
# the result is the leaf's content
mkdir P && "$VMDKIT" promote --no-progress --output P Leaf >/dev/null
qemu-img compare -q Leaf/M-000001.vmdk P/Leaf.vmdk || { echo "bench: promote result differs" >&2; exit 1; }
