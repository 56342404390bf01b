# tests/lib.sh - sourced by every shell test.
# Exit 77 = skipped (automake), 99 = hard error.
set -eu
: "${VMDKIT:?VMDKIT must point at the built vmdkit}"
: "${VMDKIT_SRCDIR:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/vmdkit-test.XXXXXX")
cleanup() { chmod -R u+w "$T" 2>/dev/null || true; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"; }
# expect_exit CODE cmd... : run and assert the exit code
expect_exit() {
	want=$1; shift
	set +e; "$@"; got=$?; set -e
	[ "$got" = "$want" ] || fail "expected exit $want, got $got: $*"
}
sha() { sha256sum "$@" | sort; }
