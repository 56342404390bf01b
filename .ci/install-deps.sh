#!/usr/bin/env bash
# Installs everything vmdkit needs to build and test on Debian (run as root,
# or with sudo available).
set -euo pipefail
pkgs="build-essential autoconf automake libtool pkg-config libyaml-dev
libpcre2-dev check libjson-c-dev libssl-dev zlib1g-dev qemu-utils libvmdk-utils
python3 python3-yaml groff-base clang libclang-rt-14-dev valgrind"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y $missing
