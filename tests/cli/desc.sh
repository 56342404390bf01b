#!/bin/sh
# vmdkit desc: lossless print (samples and the real-file corpus), edits
# that change only the expected lines, --dry-run, and every refusal:
# read-only files and folders, symlinks, embedded descriptors, bad input.
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
S="$VMDKIT_SRCDIR/samples"
BAD="$VMDKIT_SRCDIR/tests/data/cli"

# copy SRC DST: the source tree is read-only under distcheck; a copy to
# edit must be writable like any user's file.
copy() { cp "$1" "$2" && chmod u+w "$2"; }

# same_text OUT ORIG: OUT equals ORIG, except that NUL/space padding after
# the text of ORIG is not reproduced (descriptor.h says so).
same_text() {
	n=$(wc -c <"$1")
	cmp -s -n "$n" "$1" "$2" || return 1
	rest=$(tail -c +"$((n + 1))" "$2" | tr -d '\000 ' | wc -c)
	[ "$rest" = 0 ]
}

# --- desc print: byte for byte -------------------------------------------
for f in "$S"/*.vmdk "$S"/master/* "$S"/odd/*; do
	"$VMDKIT" desc print "$f" >"$T/out" || fail "desc print $f"
	cmp -s "$T/out" "$f" || fail "desc print $f is not byte-identical"
done
"$VMDKIT" desc print - <"$S/Data.vmdk" >"$T/out" || fail "desc print -"
cmp -s "$T/out" "$S/Data.vmdk" || fail "desc print - differs"

if [ -d "${VMDKIT_CORPUS:-}/descriptors" ]; then
	n=0
	for f in "$VMDKIT_CORPUS"/descriptors/* "$VMDKIT_CORPUS"/vmx/* \
		 "$VMDKIT_CORPUS"/vmsd/*; do
		"$VMDKIT" desc print "$f" >"$T/out" || fail "desc print $f"
		same_text "$T/out" "$f" || fail "desc print $f differs"
		n=$((n + 1))
	done
	[ "$n" -gt 50 ] || fail "only $n corpus files"
	# known-bad descriptors: a FILE:LINE message, exit 3, nothing on stdout
	for f in "$VMDKIT_CORPUS"/descriptors-bad/*; do
		expect_exit 3 "$VMDKIT" desc print "$f" >"$T/out" 2>"$T/err"
		[ ! -s "$T/out" ] || fail "desc print $f wrote output"
		grep -q "^$f:[0-9][0-9]*: " "$T/err" || fail "no FILE:LINE for $f"
	done
	# desc fmt: the same disk (info unchanged), idempotent, and the
	# structural portability problems gone
	mkdir "$T/fmt"
	for f in "$VMDKIT_CORPUS"/descriptors/*; do
		g="$T/fmt/$(basename "$f")"
		copy "$f" "$g"
		"$VMDKIT" info --descriptor-only --format json "$g" >"$T/before"
		"$VMDKIT" desc fmt --force "$g" 2>/dev/null || fail "desc fmt $f"
		"$VMDKIT" info --descriptor-only --format json "$g" >"$T/after"
		cmp -s "$T/before" "$T/after" || fail "desc fmt changed the disk $f"
		cp "$g" "$T/again"
		"$VMDKIT" desc fmt "$g" || fail "desc fmt (twice) $f"
		cmp -s "$g" "$T/again" || fail "desc fmt is not idempotent on $f"
		tr -d '\n' <"$g" | grep -q "$(printf '\r')" && fail "desc fmt kept CR in $f"
		if "$VMDKIT" check "$g" |
		   grep -E 'portability-(blank|section|comment|first)'; then
			fail "desc fmt left a structural portability problem in $f"
		fi
	done
else
	echo "corpus not found (VMDKIT_CORPUS); corpus round trip skipped"
fi

# desc fmt refuses to drop unknown header keys unless forced
copy "$S/Odd.vmdk" "$T/odd.vmdk"
before=$(sha "$T/odd.vmdk")
expect_exit 6 "$VMDKIT" desc fmt "$T/odd.vmdk" 2>"$T/err"
grep -q "unknown header key 'vmdkit.comment'" "$T/err" || fail "fmt refusal message"
[ "$(sha "$T/odd.vmdk")" = "$before" ] || fail "refused fmt wrote"
"$VMDKIT" desc fmt --force "$T/odd.vmdk" 2>/dev/null || fail "fmt --force"
grep -q vmdkit.comment "$T/odd.vmdk" && fail "fmt --force kept the unknown key"

# --- edits change only the expected lines ---------------------------------
copy "$S/Master.vmdk" "$T/Master.vmdk"
chmod 640 "$T/Master.vmdk"
"$VMDKIT" desc set "$T/Master.vmdk" ddb.adapterType buslogic
sed 's/^ddb.adapterType = "lsilogic"$/ddb.adapterType = "buslogic"/' \
	"$S/Master.vmdk" >"$T/want"
cmp -s "$T/Master.vmdk" "$T/want" || fail "desc set changed more than one line"
[ "$(stat -c %a "$T/Master.vmdk")" = 640 ] || fail "desc set lost the mode"
[ "$("$VMDKIT" desc get "$T/Master.vmdk" ddb.adapterType)" = buslogic ] ||
	fail "desc get after set"

"$VMDKIT" desc set "$T/Master.vmdk" CID 0badcafe
sed -i 's/^CID=8c808111$/CID=0badcafe/' "$T/want"
cmp -s "$T/Master.vmdk" "$T/want" || fail "desc set CID"

"$VMDKIT" desc unset "$T/Master.vmdk" ddb.uuid
grep -v '^ddb.uuid = ' "$T/want" >"$T/want2"
cmp -s "$T/Master.vmdk" "$T/want2" || fail "desc unset ddb.uuid"
expect_exit 1 "$VMDKIT" desc unset "$T/Master.vmdk" ddb.uuid 2>/dev/null
expect_exit 1 "$VMDKIT" desc get "$T/Master.vmdk" ddb.uuid 2>/dev/null

"$VMDKIT" desc repath "$T/Master.vmdk" 2 "../Base/Master-s003.vmdk"
sed 's|^RW 20480 SPARSE "Master-s003.vmdk"$|RW 20480 SPARSE "../Base/Master-s003.vmdk"|' \
	"$T/want2" >"$T/want3"
cmp -s "$T/Master.vmdk" "$T/want3" || fail "desc repath"
ls -a "$T" | grep -q vmdkit-tmp && fail "temporary file left behind"

# a killed 0.1.0 edit's temporary file (no journal): the edit is refused
# and both files are left for the user to compare
mkdir "$T/legacy"
copy "$S/Master.vmdk" "$T/legacy/Master.vmdk"
echo partial >"$T/legacy/.vmdkit-tmp-Master.vmdk-999999-0"
expect_exit 6 "$VMDKIT" desc set "$T/legacy/Master.vmdk" ddb.adapterType ide \
	2>"$T/err"
grep -q "refusing to change it: .*temporary file of .* vmdkit 0.1.0 edit" \
	"$T/err" || fail "desc set over a 0.1.0 temporary file: $(cat "$T/err")"
grep -q '\[legacy-temp\]$' "$T/err" || fail "no legacy-temp note"
cmp -s "$T/legacy/Master.vmdk" "$S/Master.vmdk" || fail "refused edit wrote"
[ -f "$T/legacy/.vmdkit-tmp-Master.vmdk-999999-0" ] ||
	fail "0.1.0 temporary file removed"
[ "$(grep -c '\[legacy-temp\]$' "$T/err")" = 1 ] ||
	fail "the legacy-temp note is not said exactly once: $(cat "$T/err")"
# the other 0.1.0 form, fs_replace's ".NAME.vmdkit-new-PID-XXXXXX"
rm "$T/legacy/.vmdkit-tmp-Master.vmdk-999999-0"
echo partial >"$T/legacy/.Master.vmdk.vmdkit-new-999999-AbCdEf"
expect_exit 6 "$VMDKIT" desc set "$T/legacy/Master.vmdk" ddb.adapterType ide \
	2>"$T/err"
[ "$(grep -c '\[legacy-temp\]$' "$T/err")" = 1 ] ||
	fail "desc set over a 0.1.0 replace temporary: $(cat "$T/err")"
cmp -s "$T/legacy/Master.vmdk" "$S/Master.vmdk" || fail "refused edit wrote"
[ -f "$T/legacy/.Master.vmdk.vmdkit-new-999999-AbCdEf" ] ||
	fail "0.1.0 replace temporary removed"

# root editing someone else's file keeps its owner
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	copy "$S/Master.vmdk" "$T/owned.vmdk"
	chown nobody "$T/owned.vmdk"
	"$VMDKIT" desc set "$T/owned.vmdk" ddb.adapterType ide
	[ "$(stat -c %U "$T/owned.vmdk")" = nobody ] || fail "desc set lost the owner"
fi

# CRLF file: the edited line keeps the file's line ending, others untouched
copy "$S/Data.vmdk" "$T/Data.vmdk"
"$VMDKIT" desc set "$T/Data.vmdk" ddb.adapterType lsilogic
sed 's/^ddb.adapterType = "ide"\r$/ddb.adapterType = "lsilogic"\r/' \
	"$S/Data.vmdk" >"$T/want"
cmp -s "$T/Data.vmdk" "$T/want" || fail "desc set on a CRLF file"

# --- --dry-run writes nothing ------------------------------------------------
copy "$S/Master.vmdk" "$T/dry.vmdk"
before=$(sha "$T/dry.vmdk")
"$VMDKIT" desc set --dry-run "$T/dry.vmdk" ddb.adapterType ide >"$T/diff"
"$VMDKIT" desc unset --dry-run "$T/dry.vmdk" ddb.uuid >>"$T/diff"
"$VMDKIT" desc repath --dry-run "$T/dry.vmdk" 0 x.vmdk >>"$T/diff"
[ "$(sha "$T/dry.vmdk")" = "$before" ] || fail "--dry-run wrote the file"
grep -q '^+ddb.adapterType = "ide"$' "$T/diff" || fail "dry-run diff"
grep -q '^-ddb.uuid = ' "$T/diff" || fail "dry-run unset diff"
grep -q '^+RW 4192256 SPARSE "x.vmdk"$' "$T/diff" || fail "dry-run repath diff"
# the dry-run diff applies with patch to give what a real run writes
if command -v patch >/dev/null 2>&1; then
	"$VMDKIT" desc set --dry-run "$T/dry.vmdk" ddb.adapterType ide >"$T/p"
	cp "$T/dry.vmdk" "$T/patched.vmdk"
	patch -s "$T/patched.vmdk" <"$T/p"
	"$VMDKIT" desc set "$T/dry.vmdk" ddb.adapterType ide
	cmp -s "$T/dry.vmdk" "$T/patched.vmdk" || fail "dry-run diff != edit"
fi

# --- an edit that makes the descriptor invalid is refused (exit 6) ---------
copy "$S/Master.vmdk" "$T/guard.vmdk"
before=$(sha "$T/guard.vmdk")
expect_exit 6 "$VMDKIT" desc set "$T/guard.vmdk" CID 123456789 2>"$T/err"
grep -q "guard.vmdk.*\[cid-format\]" "$T/err" || fail "no finding for the bad CID: $(cat "$T/err")"
grep -q -- "--force" "$T/err" || fail "refusal does not mention --force"
expect_exit 6 "$VMDKIT" desc set --dry-run "$T/guard.vmdk" createType monolithicFlat 2>/dev/null >/dev/null
expect_exit 2 "$VMDKIT" desc set "$T/guard.vmdk" CID zz 2>/dev/null
[ "$(sha "$T/guard.vmdk")" = "$before" ] || fail "refused edit was written"
"$VMDKIT" desc set --force "$T/guard.vmdk" CID 123456789 2>/dev/null ||
	fail "--force did not write"
[ "$("$VMDKIT" desc get "$T/guard.vmdk" CID)" = 123456789 ] || fail "--force value"
# an already-broken field does not block other edits
"$VMDKIT" desc set "$T/guard.vmdk" ddb.adapterType ide || fail "edit next to an old error"

# --- refusals ----------------------------------------------------------------
copy "$S/Master.vmdk" "$T/ro.vmdk"
chmod a-w "$T/ro.vmdk"
before=$(sha "$T/ro.vmdk")
expect_exit 6 "$VMDKIT" desc set "$T/ro.vmdk" ddb.adapterType ide 2>"$T/err"
grep -q "read-only" "$T/err" || fail "no read-only message"
expect_exit 6 "$VMDKIT" desc unset "$T/ro.vmdk" ddb.uuid 2>/dev/null
expect_exit 6 "$VMDKIT" desc repath "$T/ro.vmdk" 0 x.vmdk 2>/dev/null
[ "$(sha "$T/ro.vmdk")" = "$before" ] || fail "read-only file changed"

mkdir "$T/base"
copy "$S/Master.vmdk" "$T/base/Master.vmdk"
chmod a-w "$T/base"
expect_exit 6 "$VMDKIT" desc set "$T/base/Master.vmdk" ddb.adapterType ide 2>/dev/null
chmod u+w "$T/base"

ln -s "$T/Master.vmdk" "$T/link.vmdk"
expect_exit 6 "$VMDKIT" desc set "$T/link.vmdk" ddb.adapterType ide 2>/dev/null
[ -L "$T/link.vmdk" ] || fail "symlink replaced"

# an embedded descriptor (a binary sparse extent) is not edited
printf 'KDMV\001\000\000\000' >"$T/mono.vmdk"
head -c 1024 /dev/zero >>"$T/mono.vmdk"
before=$(sha "$T/mono.vmdk")
expect_exit 3 "$VMDKIT" desc set "$T/mono.vmdk" ddb.adapterType ide 2>"$T/err"
grep -q "embedded" "$T/err" || fail "no embedded message"
[ "$(sha "$T/mono.vmdk")" = "$before" ] || fail "embedded file changed"

# bad input: FILE:LINE message, exit 3, nothing written
mkdir "$T/bad"
for f in unterminated-quote bad-extent-type cid-not-hex sectors-overflow; do
	copy "$BAD/$f.vmdk" "$T/bad/$f.vmdk"
done
before=$(cd "$T/bad" && sha *)
for f in "$T"/bad/*.vmdk; do
	expect_exit 3 "$VMDKIT" desc set "$f" ddb.adapterType ide 2>"$T/err"
	grep -q "^$f:[0-9][0-9]*: " "$T/err" || fail "no FILE:LINE for $f: $(cat "$T/err")"
done
expect_exit 3 "$VMDKIT" desc set "$T/bad/bad-extent-type.vmdk" CID 1 2>"$T/err"
grep -q "bad-extent-type.vmdk:9: unknown extent type 'SPARES'" "$T/err" ||
	fail "wrong message: $(cat "$T/err")"
[ "$(cd "$T/bad" && sha *)" = "$before" ] || fail "bad input was written"
[ "$(ls -a "$T/bad" | wc -l)" = 6 ] || fail "stray file in $T/bad"

# usage errors
expect_exit 2 "$VMDKIT" desc repath "$T/Master.vmdk" x y.vmdk 2>/dev/null
expect_exit 2 "$VMDKIT" desc repath "$T/Master.vmdk" 9 y.vmdk 2>/dev/null
expect_exit 2 "$VMDKIT" desc set "$T/Master.vmdk" CID 2>/dev/null
expect_exit 2 "$VMDKIT" desc set - CID 1 2>/dev/null
expect_exit 4 "$VMDKIT" desc get "$T/nonexistent.vmdk" CID 2>/dev/null
exit 0
