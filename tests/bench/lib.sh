# tests/bench/lib.sh - sourced by the figure scripts of `make bench`.
#
# Not a test: nothing here fails on a slow machine.  Each figure is run
# BENCH_RUNS times (default 3); the table shows the median wall time of
# vmdkit and of its peer, the ratio peer/vmdkit (> 1: vmdkit is faster) and
# vmdkit's peak RSS (GNU time -v, "Maximum resident set size").
# Fixtures are built in a temporary folder under ${TMPDIR:-/tmp}, which
# is removed on exit.
set -eu
: "${VMDKIT:=./vmdkit}"
VMDKIT=$(cd "$(dirname "$VMDKIT")" && pwd)/$(basename "$VMDKIT")
RUNS=${BENCH_RUNS:-3}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench: $TIME (GNU time) is needed for peak RSS" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "bench: qemu-img is needed" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/vmdkit-bench.XXXXXX")
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
# A libtool wrapper script execs the real binary after a shell start-up
# and a few seds (~10 ms): time the real one, copied with its library so
# a rebuild in the tree during the bench does not pull it away.
lt=$(dirname "$VMDKIT")/.libs
if [ -x "$lt/$(basename "$VMDKIT")" ]; then
	mkdir "$W/bin"
	cp "$lt/$(basename "$VMDKIT")" "$W/bin/vmdkit"
	cp -P "$lt"/libvmdkit.so* "$W/bin/"
	LD_LIBRARY_PATH="$W/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export LD_LIBRARY_PATH
	VMDKIT=$W/bin/vmdkit
fi
cd "$W"

now() { date +%s.%N; }

# median of the numbers on stdin
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure SETUP CLEANUP cmd... : runs cmd RUNS times (SETUP before and
# CLEANUP after each run, both untimed; "" for none), stdout and stderr to
# $W/out.log; sets SECS (median wall seconds) and RSS_KIB (largest peak
# RSS of the runs, from GNU time).  A failing run aborts the bench.
measure() {
	setup=$1 cleanup=$2; shift 2
	: >"$W/secs"
	RSS_KIB=0
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		[ -z "$setup" ] || eval "$setup"
		t0=$(now)
		if ! "$TIME" -v -o "$W/time.log" "$@" >"$W/out.log" 2>&1; then
			echo "bench: failed: $*" >&2
			tail -5 "$W/out.log" >&2
			exit 1
		fi
		t1=$(now)
		echo "$t1 - $t0" | bc -l >>"$W/secs"
		r=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$W/time.log")
		[ "$r" -le "$RSS_KIB" ] || RSS_KIB=$r
		[ -z "$cleanup" ] || eval "$cleanup"
		i=$((i + 1))
	done
	SECS=$(median <"$W/secs")
}

# row FIGURE VMDKIT_SECS PEER_SECS RSS_KIB [NOTE]: one line of the table
# (PEER_SECS "-" when there is no peer).
header() {
	echo "| figure | vmdkit median | peer median | ratio (peer/vmdkit) | vmdkit peak RSS | note |"
	echo "|---|---:|---:|---:|---:|---|"
}
row() {
	if [ "$3" = "-" ]; then
		ratio="-" peer="-"
	else
		ratio=$(echo "$3 / $2" | bc -l | awk '{ printf "%.1fx", $1 }')
		peer=$(printf '%.3f s' "$3")
	fi
	printf '| %s | %.3f s | %s | %s | %.1f MiB | %s |\n' "$1" "$2" "$peer" \
		"$ratio" "$(echo "$4 / 1024" | bc -l)" "${5:-}"
}

# set_aside DIR: moves a finished run's output (DIR) into $W/trash instead
# of removing it.  Removing thousands of files right before the next run
# makes that run pay for them: on ext4 mounted `discard` (this machine)
# the freed blocks are busy until their discard is done, and stamping
# 1000 leaves just after removing 1000 took 3-9 s of system time instead
# of 0.3 s.  A rename costs nothing; everything is removed at exit.
set_aside() {
	[ -e "$1" ] || return 0
	mkdir -p "$W/trash"
	mv "$1" "$W/trash/$1.$(date +%s%N)"
}

# base_fixture SIZE DIR: a twoGbMaxExtentSparse disk of SIZE (5G: three
# extents) with 1 MiB written, made into a vmdkit base folder DIR/Base.
base_fixture() {
	mkdir -p "$2"
	qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse "$2/M.vmdk" "$1"
	qemu-io -c "write -P 0x5a 0 1M" "$2/M.vmdk" >/dev/null
	"$VMDKIT" base "$2/M.vmdk" "$2/Base" >/dev/null
}

echo "# $(basename "$0" .sh): vmdkit $("$VMDKIT" --version 2>/dev/null | head -1), $RUNS runs a figure, fs $(df -T "$W" | awk 'NR == 2 { print $2 }'), $(nproc) cores, $(uname -r)"
