#!/bin/sh
# tests/bench/rss.sh - peak RSS (GNU time -v) of every command that reads
# or writes disks, on a small and on a 2 TiB virtual disk, to show that
# memory depends neither on the disk's size nor on the number of leaves:
# the target is under 16 MiB for every row.  The disks are
# twoGbMaxExtentSparse as `vmdkit create` makes them (2 extents at 5 GiB,
# 517 at 2 TiB; a monolithicSparse extent stops at 2047 GiB), sparse, so
# a 2 TiB disk costs a few MiB of files.  One run each (RSS does not
# depend on the load); the wall time is shown for information.  About
# two minutes, most of it stamping 100 leaves of 517 extents.
#
#   VMDKIT=./vmdkit sh tests/bench/rss.sh      # BENCH_RSS_SIZES="5G 2T"
BENCH_RUNS=1
. "$(dirname "$0")/lib.sh"
SIZES=${BENCH_RSS_SIZES:-5G 2T}
WORST=0

# one LABEL cmd... : runs cmd once under GNU time, records "LABEL|KiB|wall"
one() {
	label=$1; shift
	"$TIME" -v -o "$W/time.log" "$@" >"$W/out.log" 2>&1 || {
		rc=$?
		# check/verify/chain exit 1 or 5 for findings: still a run
		[ "$rc" = 1 ] || [ "$rc" = 5 ] || {
			echo "bench: failed ($rc): $*" >&2; tail -5 "$W/out.log" >&2; exit 1; }
	}
	r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.log")
	e=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$W/time.log")
	[ "$r" -le "$WORST" ] || WORST=$r
	echo "$label|$r|$e" >>"$W/rows.$sz"
}

# the first N leaf folders of L/
leaves() { ls -d L/* | head -n "$1"; }

for sz in $SIZES; do
	d=$W/d$sz
	mkdir "$d" && cd "$d"
	: >"$W/rows.$sz"
	one "create --type twoGbMaxExtentSparse" "$VMDKIT" create \
		--type twoGbMaxExtentSparse --size "$sz" M.vmdk
	msz=$sz; [ "$sz" != 2T ] || msz=2047G
	one "create (monolithicSparse; 2047G for 2T)" "$VMDKIT" create \
		--size "$msz" Mono.vmdk
	# some data in the master, at its start and its end
	end=$(( $(numfmt --from=iec "$sz") - 4194304 ))
	qemu-io -c "write -P 0x11 0 4M" -c "write -P 0x22 $end 4M" M.vmdk >/dev/null
	one "info" "$VMDKIT" info M.vmdk
	one "check DISK.vmdk" "$VMDKIT" check M.vmdk
	one "base" "$VMDKIT" base M.vmdk Base
	one "verify" "$VMDKIT" verify Base
	one "check BASEDIR" "$VMDKIT" check Base
	one "clone (one leaf)" "$VMDKIT" clone --no-progress Base/M.vmdk Leaf
	qemu-io -c "write -P 0x33 1M 4M" Leaf/M-000001.vmdk >/dev/null
	one "create DELTA --parent" "$VMDKIT" create Delta.vmdk --parent Base/M.vmdk
	one "chain" "$VMDKIT" chain Leaf/M-000001.vmdk
	one "check LEAFDIR (bundle)" "$VMDKIT" check Leaf
	one "check --deep LEAFDIR" "$VMDKIT" check --deep Leaf
	one "clone --count 100" "$VMDKIT" clone --no-progress --count 100 \
		--name 'l%03d' Base/M.vmdk L
	one "check --recursive, 1 leaf" "$VMDKIT" check --recursive $(leaves 1)
	one "check --recursive, 10 leaves" "$VMDKIT" check --recursive $(leaves 10)
	one "check --recursive, 100 leaves" "$VMDKIT" check --recursive $(leaves 100)
	one "dependents (101 leaves)" "$VMDKIT" dependents Base .
	"$VMDKIT" desc set L/l001.vmwarevm/M-000001.vmdk parentCID 12345678 >/dev/null
	one "repair-cid" "$VMDKIT" repair-cid L/l001.vmwarevm/M-000001.vmdk
	one "relocate (101 leaves)" "$VMDKIT" relocate Base Moved --leaves Leaf L
	mkdir P
	one "promote --output" "$VMDKIT" promote --no-progress --output P Leaf
	one "promote (in place)" "$VMDKIT" promote --no-progress Leaf
	one "clone --full" "$VMDKIT" clone --full --no-progress Moved/M.vmdk Full
	cd "$W"
	chmod -R u+w "$d" && rm -rf "$d"
done

# One row per command, one column per size.
printf '| command |'
for sz in $SIZES; do printf ' peak RSS %s |' "$sz"; done
for sz in $SIZES; do printf ' wall %s |' "$sz"; done
printf '\n|---|'
for sz in $SIZES $SIZES; do printf -- '---:|'; done
echo
first=$(echo "$SIZES" | awk '{ print $1 }')
cut -d'|' -f1 "$W/rows.$first" | while IFS= read -r label; do
	printf '| %s |' "$label"
	for sz in $SIZES; do
		r=$(awk -F'|' -v l="$label" '$1 == l { print $2 }' "$W/rows.$sz")
		printf ' %s MiB |' "$(echo "$r / 1024" | bc -l | awk '{ printf "%.1f", $1 }')"
	done
	for sz in $SIZES; do
		printf ' %s |' "$(awk -F'|' -v l="$label" '$1 == l { print $3 }' "$W/rows.$sz")"
	done
	echo
done
echo
echo "largest peak RSS: $(echo "$WORST / 1024" | bc -l | awk '{ printf "%.1f", $1 }') MiB (target: under 16 MiB)"
