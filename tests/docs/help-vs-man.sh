#!/bin/sh
# vmdkit(1), the README and the bash completion against `vmdkit --help`:
# the same commands, each command's options, the same exit codes.  A
# command or option added to cli/main.c without documentation fails here.
. "$VMDKIT_SRCDIR/tests/lib.sh"
man1="$VMDKIT_SRCDIR/cli/man/vmdkit.1"
readme="$VMDKIT_SRCDIR/README.md"
comp="$VMDKIT_SRCDIR/cli/completion/vmdkit"

"$VMDKIT" --help >"$T/help"
# commands: the indented lines under "commands:" up to the blank line
sed -n '/^commands:$/,/^$/p' "$T/help" | sed -n 's/^  \([a-z-]*\( [a-z-]*\)\?\)  .*/\1/p' |
	sed 's/ *$//' >"$T/help-cmds"
[ "$(wc -l <"$T/help-cmds")" -ge 10 ] || fail "could not read the command list from --help"
# man: the .SS headings of the COMMANDS section
sed -n '/^\.SH COMMANDS/,/^\.SH /p' "$man1" | sed -n 's/^\.SS "\(.*\)"$/\1/p' | sed 's/\\-/-/g' >"$T/man-cmds"
diff -u "$T/help-cmds" "$T/man-cmds" >"$T/d" || fail "commands differ between --help (-) and vmdkit.1 (+): $(cat "$T/d")"

# options, command by command: --help's lines "  --name", the man section's \fB\-\-name\fR
while read -r cmd; do
	# shellcheck disable=SC2086 # "desc get" is two words
	"$VMDKIT" $cmd --help >"$T/h" || fail "vmdkit $cmd --help failed"
	sed -n 's/^  --\([a-z-]*\).*/\1/p' "$T/h" | grep -vx help | sort >"$T/h-opts"
	awk -v c="$cmd" '
		/^\.SS / { on = ($0 == ".SS \"" c "\"") ; next }
		/^\.SH / { on = 0 }
		on' "$man1" | sed 's/\\-/-/g' | grep -o '\\fB--[a-z-]*\\fR' |
		sed 's/\\fB--//; s/\\fR//' | sort -u >"$T/m-opts"
	diff -u "$T/h-opts" "$T/m-opts" >"$T/d" ||
		fail "options of '$cmd' differ between --help (-) and vmdkit.1 (+): $(cat "$T/d")"
	# the completion offers every option of the command
	while read -r o; do
		grep -q -- "--$o\\b" "$comp" || fail "completion lacks --$o (of $cmd)"
	done <"$T/h-opts"
	# the README's command table names every command
	grep -q "^| \`vmdkit $cmd[ \`]" "$readme" || fail "README command table lacks 'vmdkit $cmd'"
done <"$T/help-cmds"

# exit codes: --help's list, vmdkit.1's EXIT STATUS and README's table
sed -n '/^exit codes:$/,$p' "$T/help" | sed -n 's/^  \([0-9]\)  .*/\1/p' >"$T/help-codes"
sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man1" | sed -n 's/^\.B \([0-9]\)$/\1/p' >"$T/man-codes"
sed -n '/^### Exit codes/,/^#/p' "$readme" | sed -n 's/^| \([0-9]\) | .*/\1/p' >"$T/readme-codes"
[ -s "$T/help-codes" ] || fail "no exit codes in --help"
diff -u "$T/help-codes" "$T/man-codes" >"$T/d" || fail "exit codes differ, --help (-) vs vmdkit.1 (+): $(cat "$T/d")"
diff -u "$T/help-codes" "$T/readme-codes" >"$T/d" || fail "exit codes differ, --help (-) vs README (+): $(cat "$T/d")"
# and cli/EXIT_CODES, the contract file
sed -n 's/^\([0-9]\)  .*/\1/p' "$VMDKIT_SRCDIR/cli/EXIT_CODES" >"$T/file-codes"
diff -u "$T/help-codes" "$T/file-codes" >"$T/d" || fail "exit codes differ, --help (-) vs cli/EXIT_CODES (+): $(cat "$T/d")"

# every command named in the man page's OUTPUT FORMATS takes --format
for cmd in info check chain verify dependents base clone relocate repair-cid promote; do
	"$VMDKIT" $cmd --help | grep -q '^  --format FORMAT' || fail "$cmd has no --format but vmdkit.1 says it has"
done
# the man pages are well-formed (groff warnings are errors) when man is there
if command -v groff >/dev/null 2>&1; then
	for m in vmdkit.1 vmdkit-plan.5 libvmdkit.3; do
		groff -man -Tutf8 -ww -z "$VMDKIT_SRCDIR/cli/man/$m" 2>"$T/w" || true
		[ ! -s "$T/w" ] || fail "groff warns about $m: $(cat "$T/w")"
	done
fi
echo "ok: $(wc -l <"$T/help-cmds") commands"
