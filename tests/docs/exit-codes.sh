#!/bin/sh
# The exit-code table (README.md, vmdkit(1), `vmdkit --help`,
# cli/EXIT_CODES; tests/docs/help-vs-man.sh keeps them equal): one real
# case per code, and every code in the table has a case here.
. "$VMDKIT_SRCDIR/tests/lib.sh"
cd "$T"
printf '# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType="monolithicFlat"\n\nRW 2048 FLAT "gone-flat.vmdk" 0\n\nddb.adapterType = "lsilogic"\n' >warn.vmdk
printf 'garbage\n' >garbage.vmdk
cp "$VMDKIT_SRCDIR/samples/Server-000001.vmdk" broken.vmdk
"$VMDKIT" create ok.vmdk --size 1M >/dev/null

tested=""
case_() { code=$1; shift; expect_exit "$code" "$@" >/dev/null 2>&1; tested="$tested $code"; }
case_ 0 "$VMDKIT" chain ok.vmdk                    # clean
case_ 1 "$VMDKIT" chain broken.vmdk                # problems found: broken chain
case_ 1 "$VMDKIT" desc get ok.vmdk ddb.uuid.image  # key absent
case_ 2 "$VMDKIT" info --bogus ok.vmdk             # usage
case_ 2 "$VMDKIT" frobnicate
case_ 3 "$VMDKIT" info garbage.vmdk                # bad input file
case_ 4 "$VMDKIT" info missing.vmdk                # not found
case_ 5 "$VMDKIT" check warn.vmdk                  # warnings only
case_ 6 "$VMDKIT" create ok.vmdk --size 1M         # refused: target exists
case_ 1 "$VMDKIT" check garbage.vmdk               # errors found

sed -n '/^### Exit codes/,/^#/p' "$VMDKIT_SRCDIR/README.md" | sed -n 's/^| \([0-9]\) | .*/\1/p' >codes
[ -s codes ] || fail "no exit-code table in README.md"
while read -r c; do
	case " $tested " in *" $c "*) ;; *) fail "exit code $c is documented but has no case here" ;; esac
done <codes
echo "ok: codes $(tr '\n' ' ' <codes)"
