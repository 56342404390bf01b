#!/bin/sh
# vmdkit check and info over the real-file corpus: good files are clean or
# warnings only, bad ones are errors with FILE:LINE, and every YAML/JSON
# report is well-formed (judged by Python's json and yaml when present).
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
C=${VMDKIT_CORPUS:-}
[ -d "$C/descriptors" ] || skip "corpus not found (VMDKIT_CORPUS)"

finding_re='^[^ ].*: (info|warning|error): .* \[[a-z0-9-]+\]$'
for f in "$C"/descriptors/* "$C"/vmx/* "$C"/vmsd/*; do
	set +e; "$VMDKIT" check "$f" >"$T/out" 2>"$T/err"; rc=$?; set -e
	[ "$rc" = 0 ] || [ "$rc" = 5 ] || fail "check $f: exit $rc $(cat "$T/out" "$T/err")"
	[ ! -s "$T/err" ] || fail "check $f wrote to stderr: $(cat "$T/err")"
	if [ -s "$T/out" ] && grep -Evq "$finding_re" "$T/out"; then
		fail "check $f: malformed finding line: $(grep -Ev "$finding_re" "$T/out")"
	fi
done
for f in "$C"/descriptors-bad/*; do
	expect_exit 1 "$VMDKIT" check "$f" >"$T/out"
	grep -q "^$f:[0-9][0-9]*: error: .* \[[a-z-]*\]$" "$T/out" ||
		fail "check $f: no FILE:LINE error: $(cat "$T/out")"
done
for f in "$C"/descriptors/*; do
	"$VMDKIT" info --descriptor-only "$f" >/dev/null || fail "info $f"
done

command -v python3 >/dev/null 2>&1 || { echo "python3 absent: formats not parsed"; exit 0; }
"$VMDKIT" check --format json "$C"/*/* >"$T/all.json" || true
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d, list) and d, "empty"
for x in d:
    assert set(x) == {"file", "line", "severity", "code", "message"}, x
    assert x["line"] is None or isinstance(x["line"], int), x
    assert x["severity"] in ("info", "warning", "error"), x
' "$T/all.json" || fail "check --format json"
if python3 -c 'import yaml' 2>/dev/null; then
	"$VMDKIT" check --format yaml "$C"/*/* >"$T/all.yaml" || true
	python3 -c '
import json, yaml, sys
assert yaml.safe_load(open(sys.argv[1])) == json.load(open(sys.argv[2]))
' "$T/all.yaml" "$T/all.json" || fail "check --format yaml differs from json"
fi
for f in "$C"/descriptors/*; do
	"$VMDKIT" info --descriptor-only --format json "$f" >"$T/i.json"
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["extents"], list) and isinstance(d["ddb"], dict)
assert isinstance(d["capacity"]["sectors"], int)
' "$T/i.json" || fail "info --format json $f"
	if python3 -c 'import yaml' 2>/dev/null; then
		"$VMDKIT" info --descriptor-only --format yaml "$f" >"$T/i.yaml"
		python3 -c '
import json, yaml, sys
y = yaml.safe_load(open(sys.argv[1]))
j = json.load(open(sys.argv[2]))
assert y == j, (y, j)
' "$T/i.yaml" "$T/i.json" || fail "info yaml != json for $f"
	fi
done
exit 0
