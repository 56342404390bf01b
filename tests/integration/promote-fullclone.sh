#!/bin/sh
# promote-fullclone.sh - a full clone (`vmdkit clone --full`) is the
# leaf layout minus the dependency: the base's extents copied (holes
# kept), a new ddb.uuid per clone, the .vmx naming the copy, no snapshot;
# same content as the base, and it survives the base's removal.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need qemu-io
cd "$T"

uuid_of() { tr -d '\000' <"$1" | sed -n 's/^ddb.uuid = "\(.*\)"$/\1/p'; }

for fmt in twoGbMaxExtentSparse monolithicSparse; do
	case $fmt in
	twoGbMaxExtentSparse) size=5G ;;
	*) size=16M ;;
	esac
	mkdir "$fmt" && cd "$fmt"
	qemu-img create -q -f vmdk -o subformat="$fmt" M.vmdk "$size"
	qemu-io -c 'write -P 0x11 0 64k' -c 'write -P 0x22 1M 1M' M.vmdk >/dev/null
	[ "$fmt" = monolithicSparse ] ||
		qemu-io -c 'write -P 0x33 4100M 64k' M.vmdk >/dev/null
	qemu-img convert -O raw M.vmdk base.raw
	"$VMDKIT" base M.vmdk Base >/dev/null
	# a real clone of one leaf prints no steps: its plan is the dry run
	"$VMDKIT" clone --full --dry-run Base/M.vmdk F1 >steps1 2>/dev/null
	grep -q "^  write 'F1/M.vmdk'$" steps1 || fail "$fmt: no steps: $(cat steps1)"
	grep -q '000001' steps1 && fail "$fmt: a full clone plans a delta"
	"$VMDKIT" clone --full Base/M.vmdk F1 >/dev/null
	"$VMDKIT" clone --full Base/M.vmdk F2 >/dev/null
	ls F1 | grep -q '000001' && fail "$fmt: a full clone wrote a delta"
	grep -q '^scsi0:0.fileName = "M.vmdk"$' F1/F1.vmx ||
		fail "$fmt: .vmx does not name the copy"
	grep -qi '^snapshot' F1/F1.vmsd && fail "$fmt: full clone has a snapshot"
	u1=$(uuid_of F1/M.vmdk) u2=$(uuid_of F2/M.vmdk)
	[ -n "$u1" ] && [ -n "$u2" ] || fail "$fmt: no ddb.uuid in the copies"
	[ "$u1" != "$u2" ] || fail "$fmt: two full clones share ddb.uuid $u1"
	qemu-img compare -q base.raw F1/M.vmdk || fail "$fmt: content differs"
	qemu-img check -q F1/M.vmdk || fail "$fmt: qemu-img check"
	if qemu-img info --backing-chain F1/M.vmdk | grep -qi 'backing file'; then
		fail "$fmt: full clone has a backing file"
	fi
	alloc=$(du -k -c F1/*.vmdk | tail -1 | cut -f1)
	[ "$alloc" -lt 8192 ] || fail "$fmt: full clone allocates $alloc KiB"
	"$VMDKIT" verify Base >/dev/null || fail "$fmt: base changed"
	chmod -R u+w Base && rm -rf Base
	qemu-img compare -q base.raw F1/M.vmdk || fail "$fmt: needs the base"
	# a folder that exists is refused, nothing written into it
	mkdir F3
	qemu-img create -q -f vmdk -o subformat="$fmt" N.vmdk 1M
	"$VMDKIT" base N.vmdk Base2 >/dev/null
	expect_exit 6 "$VMDKIT" clone --full Base2/N.vmdk F3 2>/dev/null
	[ -z "$(ls -A F3)" ] || fail "$fmt: refused clone wrote into F3"
	cd ..
done
exit 0
