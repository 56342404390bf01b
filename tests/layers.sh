#!/bin/sh
# layers.sh - the folders are the architecture: every include of the
# project's own code follows the layer rule, and no headers include each
# other in a cycle.
#
#   tests/layers.sh              self-test, then the source tree
#   tests/layers.sh ROOT         only the tree at ROOT
#
# It reads every #include "..." (and every #include <...> that names a
# project folder) in descriptor/, vmdk/, cli/ and samples/ (tests/ may use
# everything), and prints FILE:LINE: message for each
#   - include against the layer rule (the table in rule_of below);
#   - include that closes a cycle between files;
#   - include of a project file that does not exist;
# exit 1 when there is any, 0 when there is none.
#
# Plain sh and awk, so that it runs wherever the project builds.
set -eu

# The layer rule: for the folder (or public header) a file is in, what it
# may include.  vmdk/vmdk.h is the public API header of every layer and
# includes only descriptor/descriptor.h; config.h is the build's own.
LAYER_AWK='
function layer(p) {
	if (p == "config.h") return "config.h"
	if (p == "vmdk/vmdk.h") return "vmdk/vmdk.h"
	if (p ~ /^descriptor\//) return "descriptor/"
	if (p ~ /^vmdk\/(fs|disk|vm|ops)\//) {
		split(p, part, "/")
		return "vmdk/" part[2] "/"
	}
	if (p ~ /^cli\//) return "cli/"
	if (p ~ /^samples\//) return "samples/"
	return ""
}
# What files of `from` may include, as the message says it.
function rule_of(from) {
	if (from == "descriptor/") return "descriptor/ and config.h"
	if (from == "vmdk/fs/") return "vmdk/fs/, descriptor/ and config.h"
	if (from == "vmdk/disk/") return "vmdk/disk/, vmdk/fs/, descriptor/, vmdk/vmdk.h and config.h"
	if (from == "vmdk/vm/") return "vmdk/vm/, descriptor/, vmdk/vmdk.h and config.h"
	if (from == "vmdk/ops/") return "vmdk/, descriptor/ and config.h"
	if (from == "vmdk/vmdk.h") return "descriptor/descriptor.h only"
	if (from == "cli/") return "cli/, config.h and the public headers vmdk/vmdk.h, descriptor/descriptor.h, descriptor/banned.h"
	if (from == "samples/") return "the public headers vmdk/vmdk.h and descriptor/descriptor.h only"
	return ""
}
function allowed(from, to, t) {
	t = layer(to)
	if (from == "descriptor/") return t == "descriptor/" || t == "config.h"
	if (from == "vmdk/fs/") return t == "vmdk/fs/" || t == "descriptor/" || t == "config.h"
	if (from == "vmdk/disk/") return t == "vmdk/disk/" || t == "vmdk/fs/" || t == "descriptor/" || t == "vmdk/vmdk.h" || t == "config.h"
	if (from == "vmdk/vm/") return t == "vmdk/vm/" || t == "descriptor/" || t == "vmdk/vmdk.h" || t == "config.h"
	if (from == "vmdk/ops/") return to ~ /^vmdk\// || t == "descriptor/" || t == "config.h"
	if (from == "vmdk/vmdk.h") return to == "descriptor/descriptor.h"
	if (from == "cli/") return t == "cli/" || t == "config.h" || to == "vmdk/vmdk.h" || to == "descriptor/descriptor.h" || to == "descriptor/banned.h"
	if (from == "samples/") return to == "vmdk/vmdk.h" || to == "descriptor/descriptor.h"
	return 0
}
'

# check ROOT: prints what breaks the rule in the tree at ROOT.
check() {
	(
	cd "$1"
	for d in descriptor vmdk cli samples; do
		[ -d "$d" ] && find "$d" -type f \( -name '*.c' -o -name '*.h' \)
	done | LC_ALL=C sort >"$work/files"
	[ -s "$work/files" ] || { echo "$1: no descriptor/, vmdk/, cli/ or samples/ sources"; exit 1; }
	# shellcheck disable=SC2016
	awk -v list="$work/files" "$LAYER_AWK"'
	BEGIN {
		while ((getline f < list) > 0) {
			files[f] = 1
			ARGV[ARGC++] = f
		}
		close(list)
		bad = 0
	}
	/^[ \t]*#[ \t]*include[ \t]*"/ || /^[ \t]*#[ \t]*include[ \t]*<(descriptor|vmdk|cli)\// {
		s = $0
		sub(/^[ \t]*#[ \t]*include[ \t]*/, "", s)
		close_ch = substr(s, 1, 1) == "\"" ? "\"" : ">"
		s = substr(s, 2)
		i = index(s, close_ch)
		if (i == 0)
			next
		name = substr(s, 1, i - 1)
		file = FILENAME
		dir = file
		sub(/\/[^\/]*$/, "", dir)
		if (name in files)
			to = name
		else if ((dir "/" name) in files)
			to = dir "/" name
		else if (name == "config.h")
			to = name
		else {
			printf "%s:%d: include '\''%s'\'' names no file of the project\n", file, FNR, name
			bad = 1
			next
		}
		from = layer(file)
		if (rule_of(from) == "") {
			printf "%s:%d: include '\''%s'\'' from a folder the layer rule does not name (add it to tests/layers.sh)\n", file, FNR, name
			bad = 1
		} else if (layer(to) == "cli/" && from != "cli/") {
			printf "%s:%d: include '\''%s'\'' breaks the layer rule (nothing outside cli/ includes cli/)\n", file, FNR, name
			bad = 1
		} else if (!allowed(from, to)) {
			printf "%s:%d: include '\''%s'\'' breaks the layer rule (%s may include %s)\n", file, FNR, name, from, rule_of(from)
			bad = 1
		}
		if (to in files) {
			n = ++deg[file]
			adj[file, n] = to
			line[file, n] = FNR
		}
	}
	# Depth first: an edge to a file still on the stack closes a cycle.
	function visit(u,    k, v, j, path) {
		state[u] = 1
		stack[++sp] = u
		for (k = 1; k <= deg[u]; k++) {
			v = adj[u, k]
			if (state[v] == 1) {
				path = ""
				for (j = 1; j <= sp; j++)
					if (path != "" || stack[j] == v)
						path = path stack[j] " -> "
				printf "%s:%d: include '\''%s'\'' closes a cycle: %s%s\n", u, line[u, k], v, path, v
				bad = 1
			} else if (state[v] == 0)
				visit(v)
		}
		sp--
		state[u] = 2
	}
	END {
		while ((getline f < list) > 0)
			if (state[f] == 0)
				visit(f)
		exit bad
	}
	'
	)
}

# A tiny tree with one of each mistake, and allowed includes around them:
# the check must report exactly the mistakes.
self_test() {
	t=$work/self
	mkdir -p "$t/descriptor" "$t/vmdk/fs" "$t/vmdk/disk" "$t/vmdk/vm" \
		"$t/vmdk/ops" "$t/vmdk/tx" "$t/cli" "$t/samples"
	printf '#include "descriptor/b.h"\n' >"$t/descriptor/a.h"
	printf '#include "descriptor/descriptor.h"\n#include "descriptor/a.h"\n' >"$t/descriptor/b.h"
	printf '#include "config.h"\n#include "descriptor/descriptor.h"\n' >"$t/descriptor/descriptor.c"
	printf '/* public */\n' >"$t/descriptor/descriptor.h"
	printf '/* banned */\n' >"$t/descriptor/banned.h"
	printf '/* private */\n' >"$t/descriptor/private.h"
	printf '#include "descriptor/descriptor.h"\n' >"$t/vmdk/vmdk.h"
	printf '#include "descriptor/private.h"\n' >"$t/vmdk/fs/fs.h"
	printf '#include "config.h"\n#include "vmdk/fs/fs.h"\n#include "vmdk/disk/disk.h"\n' >"$t/vmdk/fs/fs.c"
	printf '#include "vmdk/vmdk.h"\n#include "vmdk/fs/fs.h"\n' >"$t/vmdk/disk/disk.h"
	printf '#include "vmdk/disk/disk.h"\n#include "cli/cli.h"\n' >"$t/vmdk/disk/disk.c"
	printf '#include "vmdk/vmdk.h"\n#include "vmdk/disk/disk.h"\n' >"$t/vmdk/vm/vmx.c"
	printf '#include "vmdk/ops/y.h"\n' >"$t/vmdk/ops/x.h"
	printf '#include "vmdk/ops/z.h"\n' >"$t/vmdk/ops/y.h"
	printf '#include "x.h"\n' >"$t/vmdk/ops/z.h"
	printf '#include "vmdk/ops/x.h"\n#include "vmdk/disk/disk.h"\n#include "vmdk/vm/vm.h"\n' >"$t/vmdk/ops/leaf.c"
	printf '#include "vmdk/vmdk.h"\n' >"$t/vmdk/tx/tx.c"
	printf '#include "descriptor/descriptor.h"\n' >"$t/cli/cli.h"
	printf '#include "cli/cli.h"\n#include "vmdk/vmdk.h"\n#include "descriptor/banned.h"\n#include "descriptor/private.h"\n' >"$t/cli/main.c"
	printf '#include <stdio.h>\n#include <vmdk/vmdk.h>\n#include <vmdk/fs/fs.h>\n' >"$t/samples/example.c"
	cat >"$work/want" <<'EOF'
cli/main.c:4: include 'descriptor/private.h' breaks the layer rule (cli/ may include cli/, config.h and the public headers vmdk/vmdk.h, descriptor/descriptor.h, descriptor/banned.h)
samples/example.c:3: include 'vmdk/fs/fs.h' breaks the layer rule (samples/ may include the public headers vmdk/vmdk.h and descriptor/descriptor.h only)
vmdk/disk/disk.c:2: include 'cli/cli.h' breaks the layer rule (nothing outside cli/ includes cli/)
vmdk/fs/fs.c:3: include 'vmdk/disk/disk.h' breaks the layer rule (vmdk/fs/ may include vmdk/fs/, descriptor/ and config.h)
vmdk/ops/leaf.c:3: include 'vmdk/vm/vm.h' names no file of the project
vmdk/tx/tx.c:1: include 'vmdk/vmdk.h' from a folder the layer rule does not name (add it to tests/layers.sh)
vmdk/vm/vmx.c:2: include 'vmdk/disk/disk.h' breaks the layer rule (vmdk/vm/ may include vmdk/vm/, descriptor/, vmdk/vmdk.h and config.h)
descriptor/b.h:2: include 'descriptor/a.h' closes a cycle: descriptor/a.h -> descriptor/b.h -> descriptor/a.h
vmdk/ops/z.h:1: include 'vmdk/ops/x.h' closes a cycle: vmdk/ops/x.h -> vmdk/ops/y.h -> vmdk/ops/z.h -> vmdk/ops/x.h
EOF
	if check "$t" >"$work/got"; then
		echo "layers.sh self-test: a tree with mistakes passed" >&2
		return 1
	fi
	if ! diff -u "$work/want" "$work/got" >&2; then
		echo "layers.sh self-test: not the expected report (above: -want +got)" >&2
		return 1
	fi
	# Without the mistakes the same tree passes.
	printf '/* a */\n' >"$t/descriptor/a.h"
	printf '#include "config.h"\n#include "vmdk/fs/fs.h"\n' >"$t/vmdk/fs/fs.c"
	printf '#include "vmdk/disk/disk.h"\n' >"$t/vmdk/disk/disk.c"
	printf '#include "vmdk/vmdk.h"\n' >"$t/vmdk/vm/vmx.c"
	printf '/* z */\n' >"$t/vmdk/ops/z.h"
	printf '#include "vmdk/ops/x.h"\n#include "vmdk/disk/disk.h"\n#include "vmdk/vmdk.h"\n' >"$t/vmdk/ops/leaf.c"
	rm -r "$t/vmdk/tx"
	printf '#include "cli/cli.h"\n#include "vmdk/vmdk.h"\n#include "descriptor/banned.h"\n' >"$t/cli/main.c"
	printf '#include <stdio.h>\n#include <vmdk/vmdk.h>\n' >"$t/samples/example.c"
	if ! check "$t" >"$work/got"; then
		cat "$work/got" >&2
		echo "layers.sh self-test: a clean tree failed" >&2
		return 1
	fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/vmdkit-layers.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ $# -gt 0 ]; then
	check "$1"
	exit $?
fi
self_test || exit 99
root=${VMDKIT_SRCDIR:-$(dirname "$0")/..}
check "$root"
