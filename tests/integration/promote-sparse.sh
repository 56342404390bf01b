#!/bin/sh
# promote-sparse.sh - a linked clone promoted to a standalone disk has the
# same content (qemu-img compare against a raw image taken before), for a
# twoGbMaxExtentSparse and a monolithicSparse base, with data in the base
# only, in the delta only, and overlapping; no backing file afterwards;
# the base can be deleted; qemu-img check passes; holes are kept.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
cd "$T"

# allocated KiB of the files given
kib() { du -k -c "$@" | tail -1 | cut -f1; }

# make_leaf NAME SUBFORMAT SIZE: master with base data, base, leaf with
# delta data (some over the base's, some alone), raw image of the leaf
make_leaf() {
	name=$1 fmt=$2 size=$3
	mkdir -p "$name"
	qemu-img create -q -f vmdk -o subformat="$fmt" "$name/M.vmdk" "$size"
	qemu-io -c 'write -P 0x11 0 64k' -c 'write -P 0x22 1M 1M' \
		-c 'write -P 0x33 5M 4k' "$name/M.vmdk" >/dev/null
	if [ "$fmt" = twoGbMaxExtentSparse ]; then
		qemu-io -c 'write -P 0x44 3G 128k' -c 'write -P 0x45 4100M 64k' \
			"$name/M.vmdk" >/dev/null
	fi
	"$VMDKIT" base "$name/M.vmdk" "$name/Base" >/dev/null
	"$VMDKIT" clone "$name/Base/M.vmdk" "$name/Leaf" >/dev/null
	delta=$(sed -n 's/^scsi0:0.fileName = "\(.*\)"$/\1/p' "$name/Leaf/Leaf.vmx")
	[ -n "$delta" ] || fail "$name: no disk in the leaf .vmx"
	# overlapping (inside the base's 1M run, part of a grain), delta
	# only, and a zeroed grain over base data
	qemu-io -c 'write -P 0x55 1028k 4k' -c 'write -P 0x66 9M 192k' \
		-c 'write -z 0 64k' "$name/Leaf/$delta" >/dev/null
	if [ "$fmt" = twoGbMaxExtentSparse ]; then
		qemu-io -c 'write -P 0x77 3G 64k' -c 'write -P 0x78 4500M 64k' \
			"$name/Leaf/$delta" >/dev/null
	fi
	qemu-img convert -O raw "$name/Leaf/$delta" "$name/before.raw"
}

check_promoted() {
	name=$1 disk=$2
	qemu-img compare -q "$name/before.raw" "$disk" ||
		fail "$name: '$disk' differs from the leaf before promote"
	qemu-img check -q "$disk" || fail "$name: qemu-img check '$disk'"
	if qemu-img info --backing-chain "$disk" | grep -qi 'backing file'; then
		fail "$name: '$disk' still has a backing file"
	fi
}

for fmt in twoGbMaxExtentSparse monolithicSparse; do
	case $fmt in
	twoGbMaxExtentSparse) size=5G ;;
	*) size=16M ;;
	esac
	n=$fmt
	make_leaf "$n" "$fmt" "$size"

	# --- to an output folder: the leaf is not touched -------------------
	before=$(cd "$n/Leaf" && sha256sum * | md5sum)
	mkdir "$n/out" "$n/flat"
	"$VMDKIT" promote --output "$n/out" "$n/Leaf/Leaf.vmx" >/dev/null
	check_promoted "$n" "$n/out/Leaf.vmdk"
	"$VMDKIT" promote --output "$n/flat" --type monolithicFlat "$n/Leaf" >/dev/null
	check_promoted "$n" "$n/flat/Leaf.vmdk"
	after=$(cd "$n/Leaf" && sha256sum * | md5sum)
	[ "$before" = "$after" ] || fail "$n: promote -o changed the leaf"
	expect_exit 6 "$VMDKIT" promote --output "$n/out" "$n/Leaf/Leaf.vmx" 2>err
	grep -q 'already exists' err || fail "$n: no 'already exists' message"

	# holes kept: a few MiB of data in a 5G (or 16M) disk
	alloc=$(kib "$n"/out/*.vmdk)
	[ "$alloc" -lt 8192 ] || fail "$n: promoted disk allocates $alloc KiB"

	# --- dry run writes nothing ----------------------------------------
	"$VMDKIT" promote --dry-run "$n/Leaf" >dry.out 2>/dev/null
	grep -q "^write '.*/Leaf.vmx'$" dry.out || fail "$n: dry run lists no .vmx"
	after=$(cd "$n/Leaf" && sha256sum * | md5sum)
	[ "$before" = "$after" ] || fail "$n: dry run changed the leaf"

	# --- in place ------------------------------------------------------
	"$VMDKIT" promote "$n/Leaf/Leaf.vmx" >steps.out
	grep -q '^scsi0:0.fileName = "Leaf.vmdk"$' "$n/Leaf/Leaf.vmx" ||
		fail "$n: .vmx does not name Leaf.vmdk"
	grep -qi '^snapshot0' "$n/Leaf/Leaf.vmsd" && fail "$n: .vmsd keeps a snapshot"
	[ ! -e "$n/Leaf/$delta" ] || fail "$n: old delta left behind"
	[ ! -e "$n/Leaf/M.vmdk" ] || fail "$n: old descriptor copy left behind"
	ls -a "$n/Leaf" | grep -q '^\.vmdkit-tmp-' && fail "$n: staging folder left"
	check_promoted "$n" "$n/Leaf/Leaf.vmdk"
	# the base was only read: it still verifies
	"$VMDKIT" verify "$n/Base" >/dev/null || fail "$n: base changed"
	# ... and may now go
	chmod -R u+w "$n/Base"
	rm -rf "$n/Base"
	check_promoted "$n" "$n/Leaf/Leaf.vmdk"
	# nothing left to promote
	expect_exit 4 "$VMDKIT" promote "$n/Leaf" 2>err
	grep -q 'nothing to promote' err || fail "$n: second promote message"
done

# the split base gives a split disk by default, monolithicSparse a single file
[ -f twoGbMaxExtentSparse/Leaf/Leaf-s001.vmdk ] || fail "split promote not split"
[ ! -e monolithicSparse/Leaf/Leaf-s001.vmdk ] || fail "monolithic promote split"
exit 0
