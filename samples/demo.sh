#!/usr/bin/env bash
# make demo: the main job of vmdkit on the shipped samples.
#   1. build a small master VM: samples/demo/Demo.vmx + a disk made with
#      `vmdkit create` (a pattern written into it with qemu-io when present)
#   2. make it a protected base          (vmdkit base)
#   3. stamp three leaves from the base  (vmdkit clone --count 3)
#   4. check every leaf and the base     (vmdkit chain, check, verify; qemu-img)
set -euo pipefail
VMDKIT=${VMDKIT:-./vmdkit}
src=$(cd "$(dirname "$0")" && pwd)
out=${DEMO_DIR:-demo-output}

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

if [ -e "$out" ]; then chmod -R u+w "$out"; rm -rf "$out"; fi
mkdir -p "$out/Demo Master.vmwarevm" "$out/Leaves"
cp "$src/demo/Demo.vmx" "$out/Demo Master.vmwarevm/Demo Master.vmx"

step "1. a master VM with a 64 MiB twoGbMaxExtentSparse disk"
run "$VMDKIT" create "$out/Demo Master.vmwarevm/Demo Master.vmdk" --size 64M --type twoGbMaxExtentSparse
if command -v qemu-io >/dev/null; then
	run qemu-io -f vmdk -c 'write -P 0x5a 0 1M' "$out/Demo Master.vmwarevm/Demo Master.vmdk" >/dev/null
fi

step "2. the master becomes a read-only base"
run "$VMDKIT" base "$out/Demo Master.vmwarevm/Demo Master.vmx" "$out/Base/Demo Master"
ls -l "$out/Base/Demo Master"

step "3. three leaves stamped from the base"
run "$VMDKIT" clone "$out/Base/Demo Master/Demo Master.vmdk" "$out/Leaves" \
	--vmx "$out/Demo Master.vmwarevm/Demo Master.vmx" --count 3 --name 'demo-%02d'
ls -l "$out/Leaves"/*

step "4. every leaf checked"
for leaf in "$out/Leaves"/*.vmwarevm; do
	name=$(basename "$leaf" .vmwarevm)
	run "$VMDKIT" chain "$leaf/Demo Master-000001.vmdk"
	run "$VMDKIT" check "$leaf/$name.vmx" "$leaf/$name.vmsd" "$leaf/Demo Master.vmdk"
	if command -v qemu-img >/dev/null; then
		printf '$ qemu-img info --backing-chain %s\n' "$leaf/Demo Master-000001.vmdk"
		qemu-img info --backing-chain "$leaf/Demo Master-000001.vmdk" | grep -E '^(image|backing file):'
		printf '$ qemu-io -r -c "read -P 0x5a 0 1M" %s\n' "$leaf/Demo Master-000001.vmdk"
		qemu-io -r -f vmdk -c 'read -P 0x5a 0 1M' "$leaf/Demo Master-000001.vmdk" | head -1
	fi
done
run "$VMDKIT" verify "$out/Base/Demo Master"

step "done: the base is in $out/Base, the leaves in $out/Leaves"
