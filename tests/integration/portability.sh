#!/bin/sh
# portability.sh - each form that consumers read differently (FORMAT.md,
# "Write what every consumer reads the same way"): a fixture shows the
# consumer really misreads it (qemu-img info, vmdkinfo), `vmdkit check`
# reports it with its code, and after `vmdkit desc fmt` qemu-img and
# vmdkinfo read the capacity the descriptor declares.  Descriptors that
# vmdkit itself writes (create, base, clone) carry no portability finding
# (a leaf's descriptor copy only the informational extent-folder one).
. "$VMDKIT_SRCDIR/tests/lib.sh"
need qemu-img
need vmdkinfo
cd "$T"
for i in 1 2 3; do truncate -s 2M "e$i.flat"; done

# $1 file, $2 body lines between the header and the DDB (extents)
desc() {
	{
		printf '# Disk DescriptorFile\nversion=1\nencoding="UTF-8"\n'
		printf 'CID=12345678\nparentCID=ffffffff\ncreateType="twoGbMaxExtentFlat"\n\n'
		printf '# Extent description\n%s\n\n# The Disk Data Base\n#DDB\n\n' "$2"
		printf 'ddb.adapterType = "lsilogic"\n'
	} >"$1"
}
EXT='RW 4096 FLAT "e1.flat" 0
RW 4096 FLAT "e2.flat" 0
RW 4096 FLAT "e3.flat" 0'
qsize() { qemu-img info -f vmdk --output=json "$1" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p' | head -n 1; }
# has_code FILE CODE: check reports CODE for FILE
has_code() {
	set +e; "$VMDKIT" check "$1" >check.out 2>&1; set -e
	grep -q "\[$2\]" check.out || fail "$1: no $2 finding: $(cat check.out)"
}
# fmt_fixes FILE CODE: desc fmt rewrites it; the finding is gone and both
# consumers read the declared 6 MiB
fmt_fixes() {
	"$VMDKIT" desc fmt "$1" >/dev/null || fail "$1: desc fmt failed"
	set +e; "$VMDKIT" check "$1" >check.out 2>&1; set -e
	grep -q "\[$2\]" check.out && fail "$1: $2 still reported after fmt"
	[ "$(qsize "$1")" = 6291456 ] || fail "$1: qemu reads $(qsize "$1") bytes after fmt"
	vmdkinfo "$1" | grep -q '(6291456 bytes)' || fail "$1: vmdkinfo after fmt: $(vmdkinfo "$1" 2>&1 | tail -3)"
}

# A clean descriptor: both consumers agree with it, no finding.
desc clean.vmdk "$EXT"
[ "$(qsize clean.vmdk)" = 6291456 ] || fail "qemu misreads the clean fixture"
vmdkinfo clean.vmdk | grep -q '(6291456 bytes)' || fail "vmdkinfo misreads the clean fixture"
"$VMDKIT" check clean.vmdk >check.out || fail "clean fixture: $(cat check.out)"
grep -q portability check.out && fail "clean fixture has findings: $(cat check.out)"

# Blank line before an extent: qemu counts it twice (8 MiB, not 6).
desc blank.vmdk 'RW 4096 FLAT "e1.flat" 0

RW 4096 FLAT "e2.flat" 0
RW 4096 FLAT "e3.flat" 0'
[ "$(qsize blank.vmdk)" = 8388608 ] || fail "qemu no longer doubles the extent: $(qsize blank.vmdk)"
has_code blank.vmdk portability-blank-before-extent
grep -q '16384 sectors instead of 12288' check.out || fail "capacity qemu sees not stated: $(cat check.out)"
fmt_fixes blank.vmdk portability-blank-before-extent

# RDONLY and ZERO extents: qemu drops them without a word (4 MiB).
desc rdonly.vmdk 'RW 4096 FLAT "e1.flat" 0
RDONLY 4096 FLAT "e2.flat" 0
RW 4096 FLAT "e3.flat" 0'
[ "$(qsize rdonly.vmdk)" = 4194304 ] || fail "qemu reads the RDONLY extent: $(qsize rdonly.vmdk)"
has_code rdonly.vmdk portability-extent-skipped-by-qemu
desc zero.vmdk 'RW 4096 FLAT "e1.flat" 0
RW 4096 ZERO
RW 4096 FLAT "e3.flat" 0'
[ "$(qsize zero.vmdk)" = 4194304 ] || fail "qemu reads the ZERO extent: $(qsize zero.vmdk)"
has_code zero.vmdk portability-extent-skipped-by-qemu

# Spaces around '=' in createType: qemu refuses the image.
desc spaced.vmdk "$EXT"
sed -i 's/^createType="/createType = "/' spaced.vmdk
qemu-img info -f vmdk spaced.vmdk >/dev/null 2>&1 && fail "qemu accepts createType = \"...\""
has_code spaced.vmdk portability-header-spacing
fmt_fixes spaced.vmdk portability-header-spacing

# First line not '# Disk DescriptorFile': libvmdk cannot open it.
desc first.vmdk "$EXT"
sed -i '1d' first.vmdk
vmdkinfo first.vmdk >/dev/null 2>&1 && fail "vmdkinfo opens a descriptor without its first line"
has_code first.vmdk portability-first-line
fmt_fixes first.vmdk portability-first-line

# Section comment missing: libvmdk cannot open it.
desc section.vmdk "$EXT"
sed -i '/^# Extent description$/d' section.vmdk
vmdkinfo section.vmdk >/dev/null 2>&1 && fail "vmdkinfo opens a descriptor without '# Extent description'"
has_code section.vmdk portability-section-comment
fmt_fixes section.vmdk portability-section-comment

# Two spaces between extent fields: libvmdk cannot open it.
desc spacing.vmdk 'RW 4096  FLAT "e1.flat" 0
RW 4096 FLAT "e2.flat" 0
RW 4096 FLAT "e3.flat" 0'
vmdkinfo spacing.vmdk >/dev/null 2>&1 && fail "vmdkinfo opens an extent line with two spaces"
has_code spacing.vmdk portability-extent-spacing
fmt_fixes spacing.vmdk portability-extent-spacing

# CID text above the CID line; parentCID before CID; version 2.
desc cidtext.vmdk "$EXT"
sed -i 's/^version=1$/version=1\n# old CID=deadbeef/' cidtext.vmdk
has_code cidtext.vmdk portability-cid-text-above-cid
desc order.vmdk "$EXT"
sed -i '/^CID=/d; s/^parentCID=ffffffff$/parentCID=ffffffff\nCID=12345678/' order.vmdk
has_code order.vmdk portability-parent-cid-before-cid
desc version.vmdk "$EXT"
sed -i 's/^version=1$/version=2/' version.vmdk
has_code version.vmdk portability-version

# What vmdkit writes carries no portability finding.
for type in monolithicSparse twoGbMaxExtentSparse monolithicFlat twoGbMaxExtentFlat; do
	"$VMDKIT" create "new $type.vmdk" --size 8M --type "$type" >/dev/null
	set +e; "$VMDKIT" check "new $type.vmdk" >check.out 2>&1; set -e
	grep -q portability check.out && fail "create $type: $(cat check.out)"
done
mkdir M
qemu-img create -q -f vmdk -o subformat=twoGbMaxExtentSparse "M/Core.vmdk" 8M
"$VMDKIT" base M/Core.vmdk B >/dev/null
"$VMDKIT" clone B/Core.vmdk L.vmwarevm >/dev/null
"$VMDKIT" create "new delta.vmdk" --parent "new twoGbMaxExtentSparse.vmdk" >/dev/null
for f in B/Core.vmdk L.vmwarevm/Core-000001.vmdk "new delta.vmdk"; do
	set +e; "$VMDKIT" check "$f" >check.out 2>&1; set -e
	grep -q portability check.out && fail "$f: $(cat check.out)"
done
set +e; "$VMDKIT" check L.vmwarevm/Core.vmdk >check.out 2>&1; set -e
grep portability check.out | grep -v 'info: .*\[portability-extent-folder\]' \
	&& fail "leaf copy: $(cat check.out)"
exit 0
