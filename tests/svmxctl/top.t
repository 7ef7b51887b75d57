#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl top: with stdout not a terminal, --iterations N prints N plain
# frames (no escape codes), each with its device, policy and cgroup tables
# and the fault-service histogram; a workload running meanwhile shows up
# in them.  Bad input: one line, status 2.  Prints TAP.
#
#   tests/svmxctl/top.t BUILD
. "$(dirname "$0")/tap.sh"

bench=$build/tools/svmx-bench

"$svmxctl" top --interval 2 --iterations 2 >"$tmp/top" 2>"$tmp/top.err" &
tpid=$!
# The workload runs once top counts (its first frame is out); whether it
# ended before the second frame decides what that frame must show.
while kill -0 $tpid 2>/dev/null && ! grep -q "frame 1 " "$tmp/top"; do sleep 0.1; done
"$bench" workload scan --ws 0.5 --seed 2 >/dev/null
grep -q "frame 2 " "$tmp/top"
early=$?
wait $tpid
rc=$?
cp "$tmp/top" "$tmp/out"
cp "$tmp/top.err" "$tmp/err"
check "top --iterations 2: status 0, two frames, nothing on stderr" \
	'[ $rc = 0 ] && [ "$(grep -c "^svmxctl top - .* frame [12] of 2  interval" "$tmp/out")" = 2 ] && [ ! -s "$tmp/err" ]'
for t in "BY DEVICE" "BY POLICY" "BY CGROUP" "FAULT SERVICE TIME"; do
	check "every frame has its '$t' part" '[ "$(grep -c "^$t" "$tmp/out")" = 2 ]'
done
check "device rows svmx0 and svmx1 with a /s line each, in both frames" \
	'[ "$(grep -c "^svmx[01] " "$tmp/out")" = 4 ] && [ "$(grep -c "^  /s " "$tmp/out")" -ge 4 ]'
check "no escape codes when stdout is not a terminal" '! grep -q "$(printf "\033")" "$tmp/out"'
# The workload ran within the two frames: the last one's totals show it.
last=$(awk '/^svmxctl top - .* frame 2 /{f=1} f' "$tmp/out")
if [ $early = 0 ]; then
	ok "# SKIP the last frame came before the workload ended"
else check "the workload's faults, migrations and histogram in the last frame" \
	'echo "$last" | awk "/^svmx0 /{f = 1; g = \$2 > 0 && \$5 > 0} END{exit !(f && g)}" &&
	 echo "$last" | grep -q "^  <= [0-9.]*[mu]*s .*|#"'
fi

for args in "--interval 0" "--iterations 0" "--iterations x" "extra" "--frob"; do
	# shellcheck disable=SC2086
	run "$svmxctl" top $args
	check "top $args: one line, status 2" '[ $rc = 2 ] && one_line_error'
done
run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" top --iterations 1
check "top as non-root: one line, status 1" '[ $rc = 1 ] && one_line_error'
finish
