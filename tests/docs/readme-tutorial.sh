#!/bin/sh
# Runs the README's tutorial: every "$ " line between the tutorial markers,
# in order, in one shell in a scratch folder (as the README's set-up block
# says: the built vmdkit on PATH, SRC = the source tree).  Each command must
# succeed, and every output line the README shows must appear in what the
# command really prints, except lines that differ from run to run (CIDs,
# the staging folder name, ls -l dates) and "..." (trimmed).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-io
need qemu-img
readme="$VMDKIT_SRCDIR/README.md"
mkdir "$T/tour" "$T/steps"
tour=$(cd "$T/tour" && pwd -P)

# Split the tutorial into steps/N.cmd and steps/N.out.
awk -v dir="$T/steps" '
	/^<!-- tutorial:begin/ { on = 1; next }
	/^<!-- tutorial:end/ { on = 0 }
	!on { next }
	/^```/ { inblock = !inblock; next }
	!inblock { next }
	/^\$ / { n++; print substr($0, 3) > (dir "/" n ".cmd"); printf "" > (dir "/" n ".out"); next }
	n { print > (dir "/" n ".out") }
' "$readme"
steps=$(ls "$T/steps" | grep -c '\.cmd$') || true
[ "$steps" -ge 15 ] || fail "found only $steps tutorial commands in README.md"

PATH="$(dirname "$VMDKIT"):$PATH"; export PATH
SRC="$VMDKIT_SRCDIR"; export SRC
cd "$tour"
i=1
while [ "$i" -le "$steps" ]; do
	cmd=$(cat "$T/steps/$i.cmd")
	bash -c "set -o pipefail; $cmd" >"$T/steps/$i.real" 2>&1 ||
		fail "README tutorial step $i failed: \$ $cmd
$(cat "$T/steps/$i.real")"
	while IFS= read -r want; do
		case $want in
		"..." | *CID* | *vmdkit-tmp-* | -r--* | total*) continue ;;
		esac
		want=$(printf '%s\n' "$want" | sed "s|/tmp/tour|$tour|g")
		grep -qxF -- "$want" "$T/steps/$i.real" ||
			fail "README tutorial step $i (\$ $cmd): README shows '$want', the command printed:
$(cat "$T/steps/$i.real")"
	done <"$T/steps/$i.out"
	i=$((i + 1))
done
echo "ok: $steps tutorial commands"
