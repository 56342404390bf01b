#!/bin/sh
# make install into a temporary DESTDIR: every promised file is where it
# should be, samples/example.c builds against the installed headers and
# libvmdkit.pc (shared, and static with Requires.private) and runs, the
# installed vmdkit runs, and make uninstall removes every file again.
. "$VMDKIT_SRCDIR/tests/lib.sh"
need pkg-config
need cc
dest="$T/dest"
# The inner make must not join the outer make's jobserver.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true
make=${MAKE:-make}
$make -s -C "$VMDKIT_BUILDDIR" install DESTDIR="$dest" >"$T/install.log" 2>&1 ||
	fail "make install failed: $(tail -20 "$T/install.log")"

# configured directories, read back from the generated .pc and Makefile
var() { sed -n "s|^$1 = ||p" "$VMDKIT_BUILDDIR/Makefile" | head -1; }
prefix=$(var prefix)
bindir=$(var bindir | sed "s|\${exec_prefix}|$prefix|; s|\$(exec_prefix)|$prefix|")
libdir=$(sed -n 's|^libdir=||p' "$VMDKIT_BUILDDIR/libvmdkit.pc" | sed "s|\${exec_prefix}|$prefix|; s|\${prefix}|$prefix|")
includedir=$(sed -n 's|^includedir=||p' "$VMDKIT_BUILDDIR/libvmdkit.pc" | sed "s|\${prefix}|$prefix|")
datadir="$prefix/share"
mandir="$datadir/man"
for f in \
	"$bindir/vmdkit" \
	"$libdir/libvmdkit.so" \
	"$libdir/libvmdkit.a" \
	"$libdir/pkgconfig/libvmdkit.pc" \
	"$includedir/vmdkit/descriptor/descriptor.h" \
	"$includedir/vmdkit/vmdk/vmdk.h" \
	"$mandir/man1/vmdkit.1" \
	"$mandir/man5/vmdkit-plan.5" \
	"$mandir/man3/libvmdkit.3" \
	"$datadir/bash-completion/completions/vmdkit"; do
	[ -e "$dest$f" ] || fail "not installed: $f (installed: $(cd "$dest" && find . -type f | sort | tr '\n' ' '))"
done

# the installed program runs against the installed library
LD_LIBRARY_PATH="$dest$libdir" "$dest$bindir/vmdkit" --version | grep -q '^vmdkit ' ||
	fail "installed vmdkit does not run"

# the sample, built only from what was installed
export PKG_CONFIG_PATH="$dest$libdir/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
pkg-config --exists libvmdkit || fail "pkg-config does not find the installed libvmdkit.pc"
cflags=$(pkg-config --cflags libvmdkit)
libs=$(pkg-config --libs libvmdkit)
cc -Wall -Wextra -Werror -o "$T/example" "$VMDKIT_SRCDIR/samples/example.c" $cflags $libs 2>"$T/cc.log" ||
	fail "example does not build against the installed .pc ($cflags $libs): $(cat "$T/cc.log")"
LD_LIBRARY_PATH="$dest$libdir" "$T/example" "$VMDKIT_SRCDIR/samples/Master.vmdk" 0 New-s001.vmdk >"$T/out.vmdk" 2>/dev/null ||
	fail "installed example failed"
grep -qx 'RW 4192256 SPARSE "New-s001.vmdk"' "$T/out.vmdk" || fail "installed example wrote the wrong descriptor"

# static: libvmdkit.a plus Requires.private must be enough to link
slibs=$(pkg-config --static --libs libvmdkit | sed 's/-lvmdkit\b/-l:libvmdkit.a/')
if cc -o "$T/example-static" "$VMDKIT_SRCDIR/samples/example.c" $cflags $slibs 2>"$T/cc-static.log"; then
	"$T/example-static" "$VMDKIT_SRCDIR/samples/Master.vmdk" 0 S.vmdk 2>/dev/null | grep -q '"S.vmdk"' ||
		fail "statically linked example failed"
	ldd "$T/example-static" | grep -q libvmdkit && fail "static example still links libvmdkit.so"
else
	fail "example does not link statically with pkg-config --static ($slibs): $(tail -5 "$T/cc-static.log")"
fi

# uninstall leaves no file behind (empty folders may stay)
$make -s -C "$VMDKIT_BUILDDIR" uninstall DESTDIR="$dest" >"$T/uninstall.log" 2>&1 ||
	fail "make uninstall failed: $(tail -20 "$T/uninstall.log")"
left=$(cd "$dest" && find . \( -type f -o -type l \) | sort)
[ -z "$left" ] || fail "make uninstall left: $left"
echo ok
