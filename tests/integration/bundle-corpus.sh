#!/bin/sh
# bundle-corpus.sh - `vmdkit check --recursive` over the whole real-file
# corpus: no crash, the same report twice, and the report kept in
# tests/golden/corpus-check.text (paths relative to the corpus folder).
# --confine . keeps the report independent of the machine: absolute paths
# in the corpus (/dev/sda, /vmfs/...) are reported, never looked up.
# VMDKIT_UPDATE_GOLDEN=1 rewrites the golden file (review the diff).
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
C=${VMDKIT_CORPUS:-}
[ -d "$C/descriptors" ] || skip "corpus not found (VMDKIT_CORPUS)"
G="$VMDKIT_SRCDIR/tests/golden/corpus-check.text"

run() {
	set +e
	(cd "$C" && "$VMDKIT" check --recursive --confine . "$@" .)
	echo "exit $?"
	set -e
}
run >"$T/one" 2>"$T/err1"
run >"$T/two" 2>"$T/err2"
[ ! -s "$T/err1" ] || fail "check wrote to stderr: $(cat "$T/err1")"
cmp -s "$T/one" "$T/two" || fail "two runs differ: $(diff "$T/one" "$T/two")"
# --deep reads the grain tables of every sparse extent: same report here
# (the corpus holds descriptors, not sparse data).
run --deep >"$T/deep" 2>/dev/null
cmp -s "$T/one" "$T/deep" || fail "--deep differs: $(diff "$T/one" "$T/deep")"
if [ "${VMDKIT_UPDATE_GOLDEN:-}" = 1 ]; then
	cp "$T/one" "$G"
	exit 0
fi
diff -u "$G" "$T/one" || fail "report differs from $G"
# Every finding line has the documented form, and every code is in
# vmdk/CHECKS.md or descriptor/FINDINGS.md.
grep -v '^exit ' "$T/one" | grep -Ev '^[^ ].*: (info|warning|error): .* \[[a-z0-9-]+\]$' \
	&& fail "malformed finding lines"
for code in $(sed -n 's/.*\[\([a-z0-9-]*\)\]$/\1/p' "$T/one" | sort -u); do
	grep -q "\`$code\`" "$VMDKIT_SRCDIR/vmdk/CHECKS.md" \
		"$VMDKIT_SRCDIR/descriptor/FINDINGS.md" \
		|| case $code in syntax|invalid|too-large|not-found|io|format|chain) ;; \
			*) fail "code '$code' is not documented";; esac
done
# JSON is well-formed when python3 is there to judge it.
if command -v python3 >/dev/null 2>&1; then
	(cd "$C" && "$VMDKIT" check --recursive --confine . --format json . >"$T/all.json") || true
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d, list) and d' \
		"$T/all.json" || fail "--format json is not a JSON list"
fi
exit 0
