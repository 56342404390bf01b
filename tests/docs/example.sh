#!/bin/sh
# The C sample (samples/example.c, built by make check against the tree):
# it repaths one extent and writes the descriptor back; only that line may
# change, and the result must still parse (vmdkit desc get reads it).
. "$VMDKIT_SRCDIR/tests/lib.sh"
ex="$VMDKIT_BUILDDIR/samples/example"
[ -x "$ex" ] || fail "samples/example was not built"
in="$VMDKIT_SRCDIR/samples/Master.vmdk"

"$ex" "$in" 1 "Moved-s002.vmdk" "$T/out.vmdk" 2>"$T/err" || fail "example failed: $(cat "$T/err")"
grep -q '^extent 1: Master-s002.vmdk -> Moved-s002.vmdk$' "$T/err" || fail "unexpected stderr: $(cat "$T/err")"
diff "$in" "$T/out.vmdk" >"$T/diff" && fail "nothing changed"
# exactly one line out, one line in, and it is the extent line
[ "$(grep -c '^<' "$T/diff")" = 1 ] || fail "more than one line changed: $(cat "$T/diff")"
grep -qx '< RW 4192256 SPARSE "Master-s002.vmdk"' "$T/diff" || fail "wrong line removed: $(cat "$T/diff")"
grep -qx '> RW 4192256 SPARSE "Moved-s002.vmdk"' "$T/diff" || fail "wrong line written: $(cat "$T/diff")"
# to stdout when no output file is given
"$ex" "$in" 0 "A.vmdk" >"$T/stdout.vmdk" 2>/dev/null || fail "example to stdout failed"
grep -qx 'RW 4192256 SPARSE "A.vmdk"' "$T/stdout.vmdk" || fail "stdout output lacks the new extent"
[ "$("$VMDKIT" desc get "$T/stdout.vmdk" CID)" = 8c808111 ] || fail "output no longer parses"
# errors: a bad index, a missing file, bad usage
expect_exit 1 "$ex" "$in" 3 "X.vmdk" 2>/dev/null
expect_exit 4 "$ex" "$T/missing.vmdk" 0 "X.vmdk" 2>/dev/null
expect_exit 2 "$ex" "$in" -1 "X.vmdk" 2>/dev/null
printf 'not a descriptor\n' >"$T/bad.vmdk"
expect_exit 1 "$ex" "$T/bad.vmdk" 0 "X.vmdk" 2>/dev/null

# libvmdkit(3)'s EXAMPLE compiles against the tree's headers
need cc
sed -n '/^\.SH EXAMPLE/,/^\.SH /p' "$VMDKIT_SRCDIR/cli/man/libvmdkit.3" |
	sed -n '/^\.RS$/,/^\.RE$/p' | sed '/^\.RS$/d; /^\.RE$/d; s/\\e/\\/g; s/\\-/-/g' >"$T/man-example.c"
grep -q desc_parse "$T/man-example.c" || fail "no example found in libvmdkit.3"
cc -Wall -Wextra -Werror -Wno-unused-function -c -I"$VMDKIT_SRCDIR" -o "$T/man-example.o" "$T/man-example.c" 2>"$T/cc.log" ||
	fail "libvmdkit(3) example does not compile: $(cat "$T/cc.log")"
echo ok
