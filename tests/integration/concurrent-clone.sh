#!/bin/sh
# concurrent-clone.sh - 8 `vmdkit clone` processes at once into the same
# parent folder with overlapping names: each name is created exactly
# once, every other process fails with exit 6 and "already exists", no
# staging folder or partial leaf remains, and every leaf is a valid
# linked clone (qemu-img check, vmdkit chain).  Regression: a clone used
# to remove every staging folder in the parent before starting, so it
# deleted the folders concurrent clones were filling ("cannot create
# ...: No such file or directory").
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
cd "$T"

mkdir m
qemu-img create -q -f vmdk m/M.vmdk 4M
"$VMDKIT" base --copy m/M.vmdk base >/dev/null
mkdir leaves

for round in 1 2 3; do
	rm -rf leaves && mkdir leaves
	pids=
	for i in 0 1 2 3 4 5 6 7; do
		name=L$((i % 3))
		( set +e; "$VMDKIT" clone --no-progress base/M.vmdk \
			"leaves/$name" >"out.$i" 2>"err.$i"
		  echo $? >"rc.$i" ) &
		pids="$pids $!"
	done
	wait $pids
	for name in L0 L1 L2; do
		ok=0
		for i in 0 1 2 3 4 5 6 7; do
			[ "L$((i % 3))" = "$name" ] || continue
			rc=$(cat "rc.$i")
			case $rc in
			0) ok=$((ok + 1)) ;;
			6) grep -q "already exists" "err.$i" ||
				fail "round $round: $name: exit 6 without 'already exists': $(cat "err.$i")" ;;
			*) fail "round $round: $name: exit $rc: $(cat "err.$i")" ;;
			esac
		done
		[ "$ok" = 1 ] || fail "round $round: $name created $ok times"
		[ "$(ls "leaves/$name" | sed "s/$name/LEAF/" | sort | tr '\n' ' ')" = \
		  "LEAF.vmsd LEAF.vmx M-000001-s001.vmdk M-000001.vmdk M.vmdk " ] ||
			fail "round $round: leaf $name incomplete: $(ls "leaves/$name")"
		qemu-img check -q "leaves/$name/M-000001.vmdk" ||
			fail "round $round: qemu-img check $name"
		"$VMDKIT" chain "leaves/$name/M-000001.vmdk" >/dev/null ||
			fail "round $round: vmdkit chain $name"
	done
	left=$(ls -A leaves | tr '\n' ' ')
	[ "$left" = "L0 L1 L2 " ] || fail "round $round: leftovers in leaves: $left"
done

# Distinct names at once: all succeed (none removes another's staging).
rm -rf leaves && mkdir leaves
pids=
for i in 0 1 2 3 4 5 6 7; do
	( set +e; "$VMDKIT" clone --no-progress base/M.vmdk "leaves/D$i" \
		>"out.$i" 2>"err.$i"; echo $? >"rc.$i" ) &
	pids="$pids $!"
done
wait $pids
for i in 0 1 2 3 4 5 6 7; do
	[ "$(cat "rc.$i")" = 0 ] || fail "distinct D$i: exit $(cat "rc.$i"): $(cat "err.$i")"
done
[ "$(ls -A leaves | wc -l)" = 8 ] || fail "distinct: $(ls -A leaves)"
