#!/bin/sh
# txn.sh - vmdkit create and vmdkit desc edits through the transaction
# module (vmdk/fs/txn.h):
# 1. a dry run reports the same non-empty steps as the run and writes
#    nothing;
# 2. staging look-alikes (the reserved prefix without a journal of ours)
#    survive create, desc set and check byte for byte;
# 3. killed before every filesystem operation in turn, the target is
#    absent/unchanged or complete, the command run again succeeds (or
#    says the disk exists) and no staging folder is left;
# 4. a staging folder of another host (a kill inside a UTS namespace)
#    is left alone by a create on this host and reported by check.
. "$VMDKIT_SRCDIR/tests/lib.sh"
LC_ALL=C; export LC_ALL
need python3
cd "$T"

have_qemu=1
command -v qemu-img >/dev/null 2>&1 || { have_qemu=0; echo "txn: qemu-img absent: its checks skipped"; }
qcheck() { [ "$have_qemu" = 0 ] || qemu-img check -q "$1" || fail "qemu-img check $1"; }

# Everything in a folder: names, types, sizes, and the files' hashes.
full_listing() { (cd "$1" && find . -printf '%p %y %s\n' | sort &&
	find . -type f -exec sha256sum {} + | sort); }
# The same without staging folders.
listing() { (cd "$1" && find . -name '.vmdkit-tmp-*' -prune -o -printf '%p %y %s\n' | sort &&
	find . -name '.vmdkit-tmp-*' -prune -o -type f -exec sha256sum {} + | sort); }
staging() { find "$1" -maxdepth 1 -name '.vmdkit-tmp-*'; }
# The step list of a --format json report.
steps() { python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
assert d["status"]=="ok", d
for s in d["steps"]: print(s["action"], s["path"], s.get("to", ""))' "$1"; }

# --- 1. dry run == run ----------------------------------------------------
n=0
for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat twoGbMaxExtentFlat parent; do
	for d in dry real; do
		rm -rf "$d" && mkdir "$d"
		(cd "$d" && "$VMDKIT" create --size 4M P.vmdk >/dev/null)
	done
	if [ "$type" = parent ]; then
		set -- D.vmdk --parent P.vmdk
	else
		set -- D.vmdk --size 4M --type "$type"
	fi
	full_listing dry >before.list
	(cd dry && "$VMDKIT" create --dry-run --format json "$@") >dry.json ||
		fail "create $type --dry-run"
	full_listing dry | cmp -s before.list - || fail "create $type --dry-run wrote"
	(cd real && "$VMDKIT" create --format json "$@") >real.json || fail "create $type"
	steps dry.json >dry.steps || fail "create $type --dry-run: $(cat dry.json)"
	steps real.json >real.steps || fail "create $type: $(cat real.json)"
	[ -s real.steps ] || fail "create $type: no steps"
	cmp -s dry.steps real.steps || { diff dry.steps real.steps >&2 || :;
		fail "create $type: dry-run steps differ from the run's"; }
	for f in $(cut -d' ' -f2 real.steps); do
		[ -f "real/$f" ] || fail "create $type: step file $f not made"
	done
	[ -z "$(staging real)" ] || fail "create $type: staging left"
	n=$((n + 1))
done
# desc has no --format and its run prints nothing: the dry run's changed
# lines must be the lines the run changes.
changed() { sed -n -e '/^---/d' -e '/^+++/d' -e '/^[-+]/p' "$1"; }
for op in "set D.vmdk ddb.adapterType ide" "unset D.vmdk ddb.adapterType" \
	  "repath D.vmdk 0 E-flat.vmdk" "fmt D.vmdk"; do
	for d in dry real; do
		rm -rf "$d" && mkdir "$d"
		(cd "$d" && "$VMDKIT" create --size 4M --type monolithicFlat D.vmdk >/dev/null &&
		 printf 'ddb.custom = "x"\n\n\n' >>D.vmdk)
	done
	cp real/D.vmdk old.vmdk
	full_listing dry >before.list
	# shellcheck disable=SC2086
	(cd dry && "$VMDKIT" desc $op --dry-run) >dry.out 2>&1 || fail "desc $op --dry-run: $(cat dry.out)"
	full_listing dry | cmp -s before.list - || fail "desc $op --dry-run wrote"
	# shellcheck disable=SC2086
	(cd real && "$VMDKIT" desc $op) >real.out 2>&1 || fail "desc $op: $(cat real.out)"
	changed dry.out >dry.lines
	[ -s dry.lines ] || fail "desc $op --dry-run: no changed lines: $(cat dry.out)"
	diff old.vmdk real/D.vmdk | sed -n -e 's/^< /-/p' -e 's/^> /+/p' >real.lines || :
	cmp -s dry.lines real.lines || { diff dry.lines real.lines >&2 || :;
		fail "desc $op: dry-run lines differ from the change made"; }
	[ -z "$(staging real)" ] || fail "desc $op: staging left"
	n=$((n + 1))
done
echo "txn: dry run == run for $n commands"

# --- 2. look-alikes survive -----------------------------------------------
host=$(hostname)
rm -rf look && mkdir look
mkdir look/.vmdkit-tmp-Important-99999-AbCdEf
echo "my notes" >look/.vmdkit-tmp-Important-99999-AbCdEf/notes.txt
mkdir "look/.vmdkit-tmp-create-$host-99999-XyZ123"
echo "not a journal" >"look/.vmdkit-tmp-create-$host-99999-XyZ123/data"
echo "a file" >look/.vmdkit-tmp-x-99999-QQQQQQ
full_listing look >look.list
(cd look && "$VMDKIT" create --size 4M --type monolithicFlat D.vmdk >/dev/null) ||
	fail "create beside look-alikes"
(cd look && "$VMDKIT" desc set D.vmdk ddb.adapterType ide) || fail "desc set beside look-alikes"
"$VMDKIT" check look >check.out 2>&1 || :
full_listing look | grep -v '\./D\(-flat\)\?\.vmdk' >look.after
cmp -s look.list look.after || { diff look.list look.after >&2 || :;
	fail "a look-alike was changed"; }
echo "txn: look-alikes survive create, desc set and check"

# --- 3. kill at every step ------------------------------------------------
setup_create() { rm -rf w && mkdir w; }
run_create_s() { (cd w && "$VMDKIT" create --size 4M D.vmdk); }
run_create_t() { (cd w && "$VMDKIT" create --size 64M --type twoGbMaxExtentSparse D.vmdk); }
mkdir tpl_desc
(cd tpl_desc && "$VMDKIT" create --size 4M --type twoGbMaxExtentFlat D.vmdk >/dev/null)
setup_desc() { rm -rf w && cp -a tpl_desc w; }
run_desc() { (cd w && "$VMDKIT" desc set D.vmdk ddb.adapterType ide); }
setup_desc
run_desc
cp w/D.vmdk desc.done
total=0
for cmd in create_s create_t desc; do
	case $cmd in create_*) setup=setup_create ;; *) setup=setup_desc ;; esac
	$setup
	VMDKIT_FAILPOINT=list "run_$cmd" >out 2>err || fail "$cmd: $(cat err)"
	k=$(sed -n 's/^vmdkit-failpoints: .* any=\([0-9]*\) .*/\1/p' err)
	[ -n "$k" ] && [ "$k" -gt 0 ] || fail "$cmd: no failpoint count: $(cat err)"
	i=1
	while [ "$i" -le "$k" ]; do
		$setup
		listing w >before.list
		cp w/D.vmdk orig.vmdk 2>/dev/null || :
		set +e
		VMDKIT_FAILPOINT=kill:$i "run_$cmd" >out 2>err
		rc=$?
		set -e
		[ "$rc" = 137 ] || fail "$cmd kill:$i: exit $rc, expected 137: $(cat err)"
		case $cmd in
		create_*)
			if listing w | cmp -s before.list -; then
				state=before
			elif [ -f w/D.vmdk ] && "$VMDKIT" check w/D.vmdk >/dev/null 2>&1; then
				state=complete
			elif [ ! -e w/D.vmdk ] && [ -n "$(staging w)" ]; then
				# Killed while the commit put the extents in place,
				# before the descriptor: the next run undoes it.
				state=partial
			else
				listing w >&2
				fail "$cmd kill:$i: the disk is neither absent nor complete"
			fi
			set +e
			"run_$cmd" >out 2>err
			rc=$?
			set -e
			if [ "$state" != complete ]; then
				[ "$rc" = 0 ] || fail "$cmd kill:$i: rerun failed: $(cat err)"
			else
				[ "$rc" = 0 ] || grep -q 'exists' err ||
					fail "$cmd kill:$i: rerun of a complete create: $rc $(cat err)"
			fi
			qcheck w/D.vmdk ;;
		desc)
			if cmp -s w/D.vmdk orig.vmdk && listing w | cmp -s before.list -; then
				state=before
			elif cmp -s w/D.vmdk desc.done; then
				state=complete
			else
				fail "desc kill:$i: the descriptor is neither unchanged nor edited"
			fi
			# Another edit after the kill starts from what recovery
			# leaves (in place: a copy would change the inodes the
			# journal names, and recovery would rightly refuse): the
			# killed edit is there only if its journal had reached
			# its commit record.
			# The edit is in the file: it stays unless a journal
			# without its commit record says it is to be undone (an
			# empty staging folder or a .done journal: it had ended).
			committed=no
			if [ "$state" = complete ]; then
				committed=yes
				for j in $(staging w); do
					if [ -e "$j/vmdkit-journal" ] &&
					   ! grep -q '^commit' "$j/vmdkit-journal"; then
						committed=no
					fi
				done
			fi
			(cd w && "$VMDKIT" desc set D.vmdk ddb.virtualHWVersion 7) >out 2>err ||
				fail "desc kill:$i: another edit failed: $(cat err)"
			got=$("$VMDKIT" desc get w/D.vmdk ddb.adapterType)
			if [ "$committed" = yes ]; then
				want=ide
			else
				want=$("$VMDKIT" desc get orig.vmdk ddb.adapterType)
			fi
			[ "$got" = "$want" ] ||
				fail "desc kill:$i ($state, committed=$committed): another edit gave adapterType '$got', expected '$want'"
			[ -z "$(staging w)" ] || fail "desc kill:$i: staging left after another edit"
			run_desc >out 2>err || fail "desc kill:$i: rerun failed: $(cat err)"
			[ "$("$VMDKIT" desc get w/D.vmdk ddb.adapterType)" = ide ] &&
				[ "$("$VMDKIT" desc get w/D.vmdk ddb.virtualHWVersion)" = 7 ] ||
				fail "desc kill:$i: rerun: wrong result"
			qcheck w/D.vmdk ;;
		esac
		left=$(staging w)
		[ -z "$left" ] || fail "$cmd kill:$i ($state): staging left after the rerun: $left"
		i=$((i + 1))
	done
	echo "txn: $cmd: killed before each of $k operations"
	total=$((total + k))
done
echo "txn: $total kills"

# --- 4. another host --------------------------------------------------------
rm -rf nfs && mkdir nfs
if unshare --uts --pid --fork --mount-proc true 2>/dev/null; then
	i=1
	while :; do
		set +e
		(cd nfs && unshare --uts --pid --fork --mount-proc sh -c \
			'hostname other-host && VMDKIT_FAILPOINT=kill:'$i' "$0" create --size 4M O.vmdk' \
			"$VMDKIT") >out 2>&1
		set -e
		# A journal with a complete record (host "other-host" is
		# written other_host in the folder name).
		[ -n "$(find nfs -maxdepth 1 -name '.vmdkit-tmp-create-other_host-*' \
			-exec grep -qs '^end = ' {}/vmdkit-journal \; -print)" ] && break
		rm -rf nfs && mkdir nfs
		i=$((i + 1))
		[ "$i" -le 30 ] || fail "another host: no kill left a journal"
	done
	full_listing nfs >nfs.list
	(cd nfs && "$VMDKIT" create --size 4M D.vmdk >/dev/null) || fail "another host: create here"
	qcheck nfs/D.vmdk
	"$VMDKIT" check nfs >check.out 2>&1 || :
	grep -q 'foreign-run' check.out || fail "another host: check does not report it: $(cat check.out)"
	full_listing nfs | grep -v '\./D\.vmdk' >nfs.after
	cmp -s nfs.list nfs.after || { diff nfs.list nfs.after >&2 || :;
		fail "another host: its staging folder was changed"; }
	echo "txn: another host's staging folder (kill:$i) survives and is reported"
else
	echo "txn: unshare not permitted: the other-host part skipped"
fi
