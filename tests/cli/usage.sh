#!/bin/sh
# vmdkit's command table: help for every command, usage errors exit 2.
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL

"$VMDKIT" --help >"$T/help" || fail "--help"
"$VMDKIT" --version | grep -q '^vmdkit [0-9]' || fail "--version"
for c in info check create chain base clone verify "desc get" "desc set" \
	 "desc unset" "desc repath" "desc fmt" "desc print" promote dependents \
	 relocate repair-cid; do
	grep -q "^  $c " "$T/help" || fail "--help does not list '$c'"
	# shellcheck disable=SC2086
	"$VMDKIT" help $c >"$T/h" || fail "help $c"
	grep -q "^usage: vmdkit $c " "$T/h" || fail "help $c: no usage line"
	grep -q -- "--help" "$T/h" || fail "help $c: no options"
done
grep -q '^exit codes:' "$T/help" || fail "--help has no exit codes"
grep -q '^  6  refused' "$T/help" || fail "--help: exit code 6"

expect_exit 2 "$VMDKIT" 2>/dev/null
expect_exit 2 "$VMDKIT" frobnicate 2>/dev/null
expect_exit 2 "$VMDKIT" help frobnicate 2>/dev/null
expect_exit 2 "$VMDKIT" desc 2>/dev/null
expect_exit 2 "$VMDKIT" desc frob 2>/dev/null
expect_exit 0 "$VMDKIT" desc --help >/dev/null

for c in info check chain verify; do
	expect_exit 2 "$VMDKIT" $c --format xml x.vmdk 2>"$T/err"
	grep -q "^vmdkit: $c: unknown format 'xml'" "$T/err" || fail "$c --format xml"
	grep -q "^usage: vmdkit $c " "$T/err" || fail "$c: no usage line"
done
for c in info check create chain base clone verify "desc get" "desc set"; do
	# shellcheck disable=SC2086
	expect_exit 2 "$VMDKIT" $c --no-such-option 2>"$T/err"
	grep -q "unknown option '--no-such-option'" "$T/err" || fail "$c: bad option message"
done
expect_exit 2 "$VMDKIT" info 2>/dev/null
expect_exit 2 "$VMDKIT" info a.vmdk b.vmdk 2>/dev/null
expect_exit 2 "$VMDKIT" check 2>/dev/null
expect_exit 2 "$VMDKIT" info --format 2>"$T/err"
grep -q "option '--format' needs an argument" "$T/err" || fail "missing argument message"
exit 0
