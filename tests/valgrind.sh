#!/bin/sh
# tests/valgrind.sh - runs every Check suite of the build tree under
# valgrind memcheck: any invalid access, use of uninitialised memory or
# definite leak fails.  Run from the build folder after `make check`
# (so the suites are built):  sh tests/valgrind.sh [SUITE...]
# CK_FORK=no keeps each suite in one process, so leaks are seen.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${VMDKIT_BUILDDIR:-$PWD}
cd "$build" || exit 1
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 77; }
export VMDKIT="$build/vmdkit" VMDKIT_SRCDIR="$top" VMDKIT_BUILDDIR="$build"
export VMDKIT_CORPUS="${VMDKIT_CORPUS:-$top/../shared/corpus}"
export CK_FORK=no CK_DEFAULT_TIMEOUT=0
suites=${*:-$(ls tests/check_* 2>/dev/null | grep -v '\.[a-z]*$')}
pass=0 failed=0 names=
for t in $suites; do
	[ -x "$t" ] || continue
	log=$t.valgrind.log
	if ./libtool --mode=execute valgrind -q --error-exitcode=99 \
		--leak-check=full --errors-for-leak-kinds=definite \
		--show-leak-kinds=definite --track-origins=yes \
		"$t" >"$log" 2>&1; then
		pass=$((pass + 1))
		echo "PASS: $t"
	else
		failed=$((failed + 1))
		names="$names $t"
		echo "FAIL: $t (see $log)"
		tail -30 "$log"
	fi
done
echo "valgrind: $pass passed, $failed failed"
[ "$failed" = 0 ]
