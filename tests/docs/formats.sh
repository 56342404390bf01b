#!/bin/sh
# --format yaml|json of every reporting command, on a real base and leaves:
# each document parses, the YAML and the JSON carry the same data with the
# keys in the same order, and its shape (every key path with its value
# type) and the exit code match tests/docs/formats.golden, the shapes
# vmdkit(1) OUTPUT FORMATS describes.  Values (CIDs, paths) are not
# compared here; tests/golden/ pins them where they are stable.
# VMDKIT_UPDATE_GOLDEN=1 rewrites the golden file (review the diff).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need python3
python3 -c 'import yaml, json' 2>/dev/null || skip "python3 yaml module not installed (python3-yaml)"
golden="$VMDKIT_SRCDIR/tests/docs/formats.golden"
cd "$T"

# a master, a base, two leaves; a broken delta; a base with a writable file
mkdir M
sed 's/Demo Master/M/' "$VMDKIT_SRCDIR/samples/demo/Demo.vmx" >M/M.vmx
"$VMDKIT" create M/M.vmdk --size 4M >/dev/null
"$VMDKIT" base M/M.vmx Base >/dev/null
mkdir Leaves
"$VMDKIT" clone Base/M.vmdk Leaves --vmx M/M.vmx --count 2 --name 'l%d' >/dev/null
mkdir M2 && "$VMDKIT" create M2/M2.vmdk --size 1M >/dev/null
"$VMDKIT" base --copy M2/M2.vmdk Base2 >/dev/null
chmod u+w Base2/M2.vmdk
cp "$VMDKIT_SRCDIR/samples/Server-000001.vmdk" broken.vmdk
printf 'not a descriptor\n' >bad.vmdk

mkdir Other
# NAME<TAB>ARGS: each case is run with --format json and --format yaml
# (@F@ is replaced by the format, for cases that create something)
cat >cases <<'CASES'
info-disk	info Leaves/l1.vmwarevm/M-000001.vmdk
info-descriptor-only	info --descriptor-only Base/M.vmdk
info-vmx	info Leaves/l1.vmwarevm/l1.vmx
info-broken	info broken.vmdk
check-clean	check Base
check-findings	check --recursive Leaves bad.vmdk
chain-ok	chain Leaves/l2.vmwarevm/M-000001.vmdk
chain-broken	chain broken.vmdk
verify-ok	verify Base
verify-writable	verify Base2
dependents	dependents Base Leaves
base-dry-run	base --dry-run M2/M2.vmdk Base3
clone-one	clone Base/M.vmdk Other/one-@F@
clone-exists	clone Base/M.vmdk Leaves/l1.vmwarevm
clone-count-dry-run	clone --dry-run --count 2 --name 'd%d' Base/M.vmdk Leaves
relocate-dry-run	relocate --dry-run Base Moved --leaves Leaves
repair-cid-dry-run	repair-cid --dry-run Leaves/l1.vmwarevm/M-000001.vmdk
promote-dry-run	promote --dry-run Leaves/l2.vmwarevm
create-dry-run	create --dry-run --size 1M Other/new.vmdk
create-split	create --size 5G --type twoGbMaxExtentSparse Other/c-@F@.vmdk
CASES

: >shapes
while IFS='	' read -r name args; do
	for f in json yaml; do
		set +e
		a=$(printf '%s' "$args" | sed "s/@F@/$f/g")
		eval "\"\$VMDKIT\" $a --format $f" >"$name.$f" 2>"$name.$f.err"
		echo $? >"$name.$f.rc"
		set -e
	done
	[ "$(cat "$name.json.rc")" = "$(cat "$name.yaml.rc")" ] || fail "$name: exit $(cat "$name.json.rc") with json, $(cat "$name.yaml.rc") with yaml"
	python3 - "$name" >>shapes <<'PY' || fail "$name: bad output (see above)"
import json, sys, yaml
name = sys.argv[1]
try:
    # a case that creates something names its target after the format
    j = json.loads(open(name + ".json").read().replace("-json", "-@F@"))
except ValueError as e:
    sys.exit("%s: --format json is not JSON: %s" % (name, e))
try:
    y = yaml.safe_load(open(name + ".yaml").read().replace("-yaml", "-@F@"))
except yaml.YAMLError as e:
    sys.exit("%s: --format yaml is not YAML: %s" % (name, e))
# same data, same key order (json.dumps keeps insertion order)
if json.dumps(j) != json.dumps(y):
    sys.exit("%s: YAML and JSON differ:\n%s\n%s" % (name, json.dumps(y), json.dumps(j)))
def tname(v):
    return {dict: "map", list: "list", str: "str", bool: "bool",
            int: "int", float: "float", type(None): "null"}[type(v)]
shape = []
def walk(v, path):
    if isinstance(v, dict):
        shape.append("%s: map" % path)
        for k, x in v.items():
            walk(x, path + "." + k)
    elif isinstance(v, list):
        shape.append("%s: list" % path)
        for x in v:
            walk(x, path + "[]")
    else:
        shape.append("%s: %s" % (path, tname(v)))
walk(j, "")
seen = []
for s in shape:
    if s not in seen:
        seen.append(s)
print("## %s (exit %s)" % (name, open(name + ".json.rc").read().strip()))
for s in seen:
    print(s)
PY
done <cases

if [ "${VMDKIT_UPDATE_GOLDEN:-}" = 1 ]; then
	cp shapes "$golden"
	echo "updated $golden"
	exit 0
fi
diff -u "$golden" shapes >d || fail "output shapes or exit codes changed (golden -, now +); update vmdkit(1) OUTPUT FORMATS and run with VMDKIT_UPDATE_GOLDEN=1:
$(cat d)"
echo "ok: $(grep -c '^## ' shapes) cases"
