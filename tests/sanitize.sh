#!/bin/sh
# tests/sanitize.sh - the whole suite (make check) under AddressSanitizer
# + UndefinedBehaviorSanitizer, in a fresh build of the committed tree
# (a clone in a temporary folder, so the configured work tree is left
# alone).  Any sanitizer report fails the test that hit it.
#   sh tests/sanitize.sh [WORKDIR]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d "${TMPDIR:-/tmp}/vmdkit-sanitize.XXXXXX")}
rm -rf "$work/tree"
git clone -q "$src" "$work/tree"
cd "$work/tree"
# The real-file corpus, where the tests look for it beside the tree.
VMDKIT_CORPUS=${VMDKIT_CORPUS:-$src/../shared/corpus}
export VMDKIT_CORPUS
autoreconf -fi >/dev/null 2>&1
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
./configure -q --enable-werror CFLAGS="-g -O1 -fno-omit-frame-pointer $san" \
	LDFLAGS="$san"
make -j2 >/dev/null
# Every test but tests/install.sh: it links samples/example.c with plain
# cc against the installed (instrumented) library, which cannot load
# without the sanitizer runtime.
printf 'print-tests:\n\t@echo $(TESTS)\n' >print-tests.mk
tests=$(make -s -f Makefile -f print-tests.mk print-tests | tr ' ' '\n' |
	grep -v '^tests/install\.sh$' | tr '\n' ' ')
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -j2 check TESTS="$tests" || { cat test-suite.log; exit 1; }
