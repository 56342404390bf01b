#!/bin/sh
# check-leftovers.sh - `vmdkit check --recursive` on a tree where base,
# relocate or promote was killed (VMDKIT_FAILPOINT=kill:N, every N in
# turn) reports every leftover the kill left (.vmdkit-* names and
# fs_replace's .NAME.vmdkit-new-*) as interrupted-run on its own path,
# with a command to run; for base, the master's .vmx disk renamed to
# NAME.vmdkit-moved is vmx-disk-moved (warning while a base run is
# unfinished, info once the master is a base); running the command the
# finding suggests (taken from check's own output) leaves a tree that
# checks clean (exit 0, no leftover).  A leftover whose owner pid lives is
# run-in-progress (info).  Issue #8.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
cd "$T"

mkdir -p tpl/master/m
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse tpl/master/m/M.vmdk 8M
cat >tpl/master/m/M.vmx <<'EOF'
.encoding = "UTF-8"
config.version = "8"
virtualHW.version = "19"
displayName = "M"
scsi0.present = "TRUE"
scsi0:0.present = "TRUE"
scsi0:0.fileName = "M.vmdk"
EOF
cp -a tpl/master tpl/based
(cd tpl/based && "$VMDKIT" base m/M.vmx base >/dev/null)
mkdir tpl/based/leaves
(cd tpl/based && "$VMDKIT" clone --no-progress base/M.vmdk leaves/L1 >/dev/null)
[ -f tpl/based/leaves/L1/L1.vmx ] || fail "no leaf .vmx: $(ls tpl/based/leaves/L1)"

setup() { rm -rf w && cp -a "tpl/$1" w; }
# check of the whole tree w, as the paths are shown relative to it:
# output in chk, exit code in rc.
chk() {
	set +e
	(cd w && "$VMDKIT" check --recursive .) >chk 2>&1
	rc=$?
	set -e
}
# What vmdkit leaves only when interrupted (not what is inside a staging
# folder: that is the folder's).
debris() { (cd w && find . \( -name '.vmdkit-*' -o -name '.*.vmdkit-new-*' \) \
		-print -prune | sed 's|^\./||' | LC_ALL=C sort); }
# Every leftover is reported as an interrupted run, on its own path.
all_reported() {
	for p in $(debris); do
		grep -F "$p: warning: " chk | grep -q '\[interrupted-run\]$' || {
			cat chk >&2
			fail "$1: leftover '$p' not reported as interrupted-run"
		}
	done
	if [ -n "$(debris)" ]; then
		[ "$rc" = 5 ] || { cat chk >&2; fail "$1: check exits $rc with leftovers (expected 5)"; }
	fi
	! grep -q 'run-in-progress' chk || fail "$1: a dead run reported in progress: $(cat chk)"
}
# After the suggested command: exit 0, no leftover, none reported.
clean() {
	chk
	[ "$rc" = 0 ] || { cat chk >&2; fail "$1: after the rerun, check exits $rc"; }
	! grep -q 'interrupted-run\|run-in-progress\|vmx-disk-missing' chk ||
		fail "$1: after the rerun: $(cat chk)"
	[ -z "$(debris)" ] || fail "$1: after the rerun, left: $(debris)"
}
# The command a finding with code $1 on a line matching $2 suggests: the
# text between the backquotes after "rerun ".
suggested() {
	grep -F "[$1]" chk | grep -F -- "$2" | head -n 1 |
		sed -n 's/.*rerun `\(vmdkit [^`]*\)`.*/\1/p'
}
run_suggested() {
	[ -n "$1" ] || fail "no command suggested: $(cat chk)"
	# The paths in this test hold no quote: eval keeps check's quoting.
	(cd w && eval "\"\$VMDKIT\" ${1#vmdkit }") >out 2>err ||
		fail "suggested command '$1' failed: $(cat err)"
}
killrun() {
	n=$1; shift
	set +e
	(cd w && VMDKIT_FAILPOINT=kill:$n "$@") >out 2>err
	krc=$?
	set -e
	[ "$krc" = 137 ] || fail "$* kill:$n: exit $krc, expected 137: $(cat err)"
}
points() {
	(cd w && VMDKIT_FAILPOINT=list "$@") >out 2>err || fail "$*: $(cat err)"
	sed -n 's/^vmdkit-failpoints: .* any=\([0-9]*\) .*/\1/p' err
}

# ---- base ------------------------------------------------------------
setup master
N=$(points "$VMDKIT" base m/M.vmx base)
[ -n "$N" ] || fail "base: no failpoint count"
seen_norecord=0 seen_staging=0 seen_committed=0
i=1
while [ "$i" -le "$N" ]; do
	setup master
	killrun "$i" "$VMDKIT" base m/M.vmx base
	chk
	all_reported "base kill:$i"
	staging=$(cd w && ls -d .vmdkit-tmp-base-*-undo-* 2>/dev/null || :)
	cmd="vmdkit base 'm/M.vmx' 'base'"
	if [ -n "$staging" ] &&
	   ! grep -qs '^path ' "w/$staging/.vmdkit-undo"; then
		# Killed before the record was written: nothing to name the
		# master by.
		grep -q "^$staging: warning: staging folder of an interrupted \`vmdkit base\` into 'base' (process [0-9]* is gone.*rerun \`vmdkit base MASTER 'base'\` (MASTER: the .vmx or disk it was given) to undo or finish it \[interrupted-run\]$" chk ||
			fail "base kill:$i: staging folder without record: $(cat chk)"
		seen_norecord=1
	elif [ -n "$staging" ]; then
		grep -q "^$staging: warning: staging folder of an interrupted \`vmdkit base\` into 'base' .*its disk '$PWD/w/m/M.vmdk') to undo or finish it \[interrupted-run\]$" chk ||
			fail "base kill:$i: staging folder: $(cat chk)"
		if [ -e w/m/M.vmdk.vmdkit-moved ]; then
			grep -q "^m/M.vmx:7: warning: disk 'M.vmdk' of scsi0:0 not found: an interrupted \`vmdkit base\` into 'base' (process [0-9]* is gone) renamed its descriptor to 'm/M.vmdk.vmdkit-moved'.* \[vmx-disk-moved\]$" chk ||
				fail "base kill:$i: moved master while uncommitted: $(cat chk)"
			cmd=$(suggested vmx-disk-moved m/M.vmx:7)
			[ "$cmd" = "vmdkit base 'm/M.vmx' 'base'" ] ||
				fail "base kill:$i: suggested '$cmd'"
			seen_staging=1
			# The same leftover under a live pid (this shell's) is
			# a run in progress: info only, exit 0.  (Renamed in
			# place: the record names the master by inode.)
			live=$(echo "$staging" | sed "s/-[0-9]*-undo-/-$$-undo-/")
			mv "w/$staging" "w/$live"
			set +e
			(cd w && "$VMDKIT" check --recursive .) >chk2 2>&1
			rc2=$?
			set -e
			mv "w/$live" "w/$staging"
			[ "$rc2" = 0 ] || fail "base kill:$i: live run: exit $rc2: $(cat chk2)"
			grep -q "^$live: info: staging folder of \`vmdkit base\` into 'base', still running (process $$) \[run-in-progress\]$" chk2 &&
			grep -q "^m/M.vmx:7: info: disk 'M.vmdk' of scsi0:0 is being made into base 'base' .* \[vmx-disk-moved\]$" chk2 ||
				fail "base kill:$i: live run: $(cat chk2)"
		fi
	elif [ -f w/base/.vmdkit-undo ]; then
		grep -q "^base/.vmdkit-undo: warning: undo record of a \`vmdkit base\` that committed base 'base' but was interrupted before removing the master's files: rerun \`vmdkit base MASTER 'base'\` .* to finish it \[interrupted-run\]$" chk &&
		grep -q "^m/M.vmx:7: warning: disk 'M.vmdk' of scsi0:0 was made into base 'base' (its descriptor is now 'm/M.vmdk.vmdkit-moved'), but \`vmdkit base\` was interrupted before removing the master's files: rerun .* \[vmx-disk-moved\]$" chk ||
			fail "base kill:$i: committed: $(cat chk)"
		cmd=$(suggested vmx-disk-moved m/M.vmx:7)
		seen_committed=1
	fi
	run_suggested "$cmd"
	clean "base kill:$i"
	grep -q "^m/M.vmx:7: info: disk 'M.vmdk' of scsi0:0 was made into a base by \`vmdkit base\` (its descriptor is now 'm/M.vmdk.vmdkit-moved'): .* \[vmx-disk-moved\]$" chk ||
		fail "base kill:$i: the master is not reported as a base: $(cat chk)"
	"$VMDKIT" verify w/base >/dev/null || fail "base kill:$i: base does not verify"
	i=$((i + 1))
done
[ "$seen_norecord$seen_staging$seen_committed" = 111 ] ||
	fail "base: not every state was reached (no record, staging, committed: $seen_norecord$seen_staging$seen_committed)"

# ---- relocate --------------------------------------------------------
setup based
N=$(points "$VMDKIT" relocate base moved --leaves leaves)
[ -n "$N" ] || fail "relocate: no failpoint count"
seen_record=0 seen_copy=0
i=1
while [ "$i" -le "$N" ]; do
	setup based
	killrun "$i" "$VMDKIT" relocate base moved --leaves leaves
	chk
	all_reported "relocate kill:$i"
	cmd="vmdkit relocate 'base' 'moved' --leaves 'leaves'"
	if ls w/leaves/L1/.vmdkit-tmp-* >/dev/null 2>&1; then
		grep -q "^leaves/L1/\.vmdkit-tmp-[^:]*: warning: new copy of 'leaves/L1/[^']*' left by an interrupted \`vmdkit relocate\` .* \[interrupted-run\]$" chk ||
			fail "relocate kill:$i: temporary copy: $(cat chk)"
		seen_copy=1
	fi
	rec=$(cd w && ls .vmdkit-relocate-moved-* 2>/dev/null || :)
	if [ -n "$rec" ]; then
		cmd=$(suggested interrupted-run "$rec:")
		if [ -d w/moved ]; then
			grep -q "^$rec: warning: record of an interrupted \`vmdkit relocate\` from '$PWD/w/base' to '$PWD/w/moved' (process [0-9]* is gone; leaves may still point into '$PWD/w/base')" chk ||
				fail "relocate kill:$i: record: $(cat chk)"
			[ "$cmd" = "vmdkit relocate '$PWD/w/base' '$PWD/w/moved' --leaves LEAFDIR..." ] ||
				fail "relocate kill:$i: suggested '$cmd'"
			cmd="${cmd%LEAFDIR...}'leaves'"
			seen_record=1
		else
			cmd="vmdkit relocate 'base' 'moved' --leaves 'leaves'"
		fi
	fi
	run_suggested "$cmd"
	clean "relocate kill:$i"
	[ -d w/moved ] && [ ! -e w/base ] || fail "relocate kill:$i: not relocated"
	grep -q "\.\./\.\./moved/M-s001\.vmdk" w/leaves/L1/M.vmdk ||
		fail "relocate kill:$i: the leaf does not point into moved"
	i=$((i + 1))
done
[ "$seen_record$seen_copy" = 11 ] ||
	fail "relocate: not every state was reached (record, copy: $seen_record$seen_copy)"

# ---- promote ---------------------------------------------------------
setup based
N=$(points "$VMDKIT" promote --no-progress leaves/L1/L1.vmx)
[ -n "$N" ] || fail "promote: no failpoint count"
seen_journal=0 seen_staging=0 seen_replace=0
i=1
while [ "$i" -le "$N" ]; do
	setup based
	killrun "$i" "$VMDKIT" promote --no-progress leaves/L1/L1.vmx
	chk
	all_reported "promote kill:$i"
	cmd="vmdkit promote 'leaves/L1/L1.vmx'"
	staging=$(cd w && ls -d leaves/L1/.vmdkit-tmp-L1.vmx-* 2>/dev/null || :)
	if [ -n "$staging" ] && [ -f "w/$staging/promote-journal" ]; then
		grep -q "^$staging: warning: journal of an interrupted \`vmdkit promote\` of 'leaves/L1/L1.vmx' (process [0-9]* is gone; .*): rerun \`vmdkit promote 'leaves/L1/L1.vmx'\` to finish or undo it \[interrupted-run\]$" chk ||
			fail "promote kill:$i: journal: $(cat chk)"
		cmd=$(suggested interrupted-run "$staging:")
		seen_journal=1
	elif [ -n "$staging" ]; then
		grep -q "^$staging: warning: staging folder of an interrupted \`vmdkit promote\` of 'leaves/L1/L1.vmx' .* \[interrupted-run\]$" chk ||
			fail "promote kill:$i: staging folder: $(cat chk)"
		cmd=$(suggested interrupted-run "$staging:")
		seen_staging=1
	fi
	[ "$cmd" = "vmdkit promote 'leaves/L1/L1.vmx'" ] ||
		fail "promote kill:$i: suggested '$cmd'"
	# fs_replace's new .vmx or .vmsd text, told to be promote's by the
	# pid it shares with the staging folder beside it.
	for t in $(cd w && ls -d leaves/L1/.L1.vm*.vmdkit-new-* 2>/dev/null); do
		grep -q "^$t: warning: new text of 'leaves/L1/L1\.vms*[dx]' left by an interrupted \`vmdkit promote\` of 'leaves/L1/L1.vmx' .*: rerun \`vmdkit promote 'leaves/L1/L1.vmx'\`, which removes it \[interrupted-run\]$" chk ||
			fail "promote kill:$i: new text: $(cat chk)"
		seen_replace=1
	done
	run_suggested "$cmd"
	clean "promote kill:$i"
	disk=$(sed -n 's/^scsi0:0\.fileName = "\(.*\)"$/\1/p' w/leaves/L1/L1.vmx)
	! grep -qa parentFileNameHint "w/leaves/L1/$disk" ||
		fail "promote kill:$i: the leaf is still a delta"
	i=$((i + 1))
done
[ "$seen_journal$seen_staging$seen_replace" = 111 ] ||
	fail "promote: not every state was reached (journal, staging, new text: $seen_journal$seen_staging$seen_replace)"
exit 0
