#!/bin/sh
# tests/bench/rss.sh - peak RSS (GNU time -v) of every command on a 5 GiB
# and on a 2 TiB virtual disk (twoGbMaxExtentSparse: 3 and 1024 extents),
# to show that memory does not grow with the disk: the target is under
# 16 MiB for every command at both sizes.  One run each (RSS does not
# depend on the load); the wall time is shown for information.
#
#   VMDKIT=./vmdkit sh tests/bench/rss.sh
BENCH_RUNS=1
. "$(dirname "$0")/lib.sh"
SIZES=${BENCH_RSS_SIZES:-5G 2T}
WORST=0

one() { # size label cmd...
	osz=$1 label=$2; shift 2
	"$TIME" -v -o time.log "$@" >out.log 2>&1 || {
		rc=$?
		# check/verify/chain exit 1 or 5 for findings: still a run
		[ "$rc" = 1 ] || [ "$rc" = 5 ] || {
			echo "bench: failed ($rc): $*" >&2; tail -5 out.log >&2; exit 1; }
	}
	r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.log)
	e=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' time.log)
	[ "$r" -le "$WORST" ] || WORST=$r
	printf '| %s | %s | %.1f MiB | %s |\n' "$label" "$osz" \
		"$(echo "$r / 1024" | bc -l)" "$e"
}

echo "| command | virtual size | peak RSS | wall |"
echo "|---|---|---:|---:|"
for sz in $SIZES; do
	d=$W/$sz
	mkdir "$d" && cd "$d"
	one "$sz" "create --type twoGbMaxExtentSparse" "$VMDKIT" create \
		--type twoGbMaxExtentSparse --size "$sz" M.vmdk
	# a monolithicSparse extent stops just short of 2 TiB (32-bit GTEs)
	msz=$sz; [ "$sz" != 2T ] || msz=2047G
	one "$msz" "create (monolithicSparse)" "$VMDKIT" create --size "$msz" Mono.vmdk
	# some data in the master, at its start and its end
	end=$(( $(numfmt --from=iec "$sz") - 4194304 ))
	qemu-io -c "write -P 0x11 0 4M" -c "write -P 0x22 $end 4M" M.vmdk >/dev/null
	one "$sz" "info" "$VMDKIT" info M.vmdk
	one "$sz" "base" "$VMDKIT" base M.vmdk Base
	one "$sz" "verify" "$VMDKIT" verify Base
	one "$sz" "clone (one leaf)" "$VMDKIT" clone --no-progress Base/M.vmdk Leaf
	one "$sz" "clone --count 100" "$VMDKIT" clone --no-progress --count 100 \
		--name 'l%03d' Base/M.vmdk L
	qemu-io -c "write -P 0x33 1M 4M" Leaf/M-000001.vmdk >/dev/null
	one "$sz" "chain" "$VMDKIT" chain Leaf/M-000001.vmdk
	one "$sz" "check --recursive (101 leaves)" "$VMDKIT" check --recursive Leaf L
	one "$sz" "check --deep (one leaf)" "$VMDKIT" check --deep Leaf
	one "$sz" "dependents" "$VMDKIT" dependents Base .
	mkdir P
	one "$sz" "promote --output" "$VMDKIT" promote --no-progress --output P Leaf
	one "$sz" "clone --full" "$VMDKIT" clone --full --no-progress Base/M.vmdk Full
	cd "$W"
	chmod -R u+w "$d" && rm -rf "$d"
done
echo
echo "largest peak RSS: $(echo "$WORST / 1024" | bc -l | awk '{ printf "%.1f", $1 }') MiB (target: under 16 MiB)"
