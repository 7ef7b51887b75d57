# SPDX-License-Identifier: GPL-2.0
# Sourced by the tests/svmxctl/*.t scripts: TAP output and the checks of
# a command's exit status, stdout and stderr.  Each script is called with
# the build directory; it runs build/tools/svmxctl.
#
#   run CMD...           run CMD, keeping its status in $rc, stdout in
#                        $tmp/out, stderr in $tmp/err
#   ok DESCRIPTION       / notok DESCRIPTION (prints out and err as comments)
#   check DESCRIPTION COND...: ok when the shell condition COND holds
#   finish               the plan line; exit status 1 when a test failed
set -u
build=${1:?usage: $0 BUILD}
top=$(cd "$(dirname "$0")/../.." && pwd)
svmxctl=$build/tools/svmxctl
tmp=$(mktemp -d)
n=0
failed=0
rc=0

echo "TAP version 13"

run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

ok() { n=$((n + 1)); echo "ok $n $*"; }

notok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $*"
	echo "# exit status $rc"
	sed 's/^/# out: /' "$tmp/out" 2>/dev/null | head -40
	sed 's/^/# err: /' "$tmp/err" 2>/dev/null | head -40
}

check() {
	desc=$1
	shift
	if eval "$@"; then ok "$desc"; else notok "$desc"; fi
}

# one_line_error: stderr is one line starting "svmxctl: " and stdout is empty
one_line_error() {
	[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q '^svmxctl: ' "$tmp/err" && [ ! -s "$tmp/out" ]
}

finish() {
	echo "1..$n"
	rm -rf "$tmp"
	[ $failed = 0 ]
}
