#!/bin/sh
# Golden-file tests of the vmdkit CLI: every case in tests/golden/cases is
# run in samples/ and its stdout, stderr and exit code compared with
# tests/golden/NAME.  VMDKIT_UPDATE_GOLDEN=1 rewrites the goldens instead.
. "$VMDKIT_SRCDIR/tests/lib.sh"

LC_ALL=C; export LC_ALL
golden="$VMDKIT_SRCDIR/tests/golden"
cd "$VMDKIT_SRCDIR/samples"
# absolute paths the library prints (a base folder) start with this
srcdir=$(cd "$VMDKIT_SRCDIR" && pwd -P)
failed=0
count=0
tab=$(printf '\t')
while IFS="$tab" read -r name args; do
	case $name in ''|'#'*) continue ;; esac
	count=$((count + 1))
	set +e
	eval "\"\$VMDKIT\" $args" >"$T/out" 2>"$T/err"
	rc=$?
	set -e
	{
		# st_blocks differs between filesystems
		sed -E -e 's/("?allocatedBytes"?: *)[0-9]+/\1N/' \
			-e "s|$srcdir|@SRCDIR@|g" "$T/out"
		if [ -s "$T/err" ]; then
			echo "[stderr]"
			sed -e "s|$srcdir|@SRCDIR@|g" "$T/err"
		fi
		echo "[exit $rc]"
	} >"$T/got"
	if [ "${VMDKIT_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$T/got" "$golden/$name"
	elif ! diff -u "$golden/$name" "$T/got"; then
		echo "FAIL: $name: vmdkit $args" >&2
		failed=$((failed + 1))
	fi
done <"$golden/cases"
[ "$count" -gt 0 ] || fail "no cases read"
echo "$count cases, $failed failed"
[ "$failed" = 0 ]
