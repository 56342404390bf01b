#!/bin/sh
# The bash completion loads in a bare bash, registers for vmdkit, and
# completes commands, desc subcommands, options, option values and file
# arguments by kind (.vmdk, .vmx, folders).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need bash
comp="$VMDKIT_SRCDIR/cli/completion/vmdkit"
bash -n "$comp" || fail "completion script has a syntax error"
out=$(bash -c ". '$comp' && complete -p vmdkit") || fail "complete -p vmdkit failed"
[ "$out" = "complete -F _vmdkit vmdkit" ] || fail "unexpected registration: $out"

mkdir -p "$T/w/Leaves" "$T/w/Base"
: >"$T/w/Disk.vmdk"; : >"$T/w/Disk.vmx"; : >"$T/w/Disk.vmsd"; : >"$T/w/notes.txt"; : >"$T/w/plan.yaml"
# complete WORDS... : what the completion offers for the last word, sorted, one line
complete_words() {
	(cd "$T/w" && bash -c '. "$0"; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmdkit; printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' "$comp" "$@")
}
expect() {
	want=$1; shift
	got=$(complete_words "$@")
	[ "$got" = "$want" ] || fail "completing '$*': expected '$want', got '$got'"
}
expect "chain check clone create " vmdkit c
expect "dependents desc " vmdkit de
expect "repath " vmdkit desc rep
expect "--format " vmdkit chain --f
expect "--copy " vmdkit base --c
expect "--no-progress " vmdkit clone --no
expect "json " vmdkit info --format j
expect "json " vmdkit info --format=j
expect "batch " vmdkit clone --sync b
expect "legacyESX lsilogic " vmdkit create --adapter l
expect "Base Disk.vmdk Leaves " vmdkit chain ""
expect "Base Disk.vmdk Disk.vmx Leaves " vmdkit info ""
expect "Base Disk.vmdk Disk.vmsd Disk.vmx Leaves " vmdkit check ""
expect "Base Leaves " vmdkit verify ""
expect "Base Disk.vmx Leaves " vmdkit clone Base/x.vmdk Leaves --vmx ""
expect "Base Leaves plan.yaml " vmdkit clone Base/x.vmdk Leaves --plan ""
expect "Leaves " vmdkit relocate Base New --leaves L
expect "Disk.vmdk " vmdkit desc get D
expect "info " vmdkit help in
echo ok
