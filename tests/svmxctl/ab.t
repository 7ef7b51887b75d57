#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl ab and tune on the 16 MiB device of the svmxctl stage: a policy
# known to be better (mru on the cyclic scan at 1.5x: fewer evictions,
# less modeled time) gets that verdict; a policy against its BPF twin
# (builtin against default.bpf.o) gets "no difference"; a guardrail stops
# the experiment with exit status 3 and leaves every scope as it was; the
# cgroup split runs both arms at once and removes its cgroups; --json,
# --markdown and --plot (SVG and PNG) give valid files; tune finds the
# best `ahead` of stride on the scan (an interior optimum the test checks
# in the data) and shows the evidence; bad input gets one line, a
# non-zero status and leaves nothing attached.  Golden text in
# tests/svmxctl/golden/ (numbers normalised; SVMX_GOLDEN_UPDATE=1 writes
# the new text to $SVMX_OUT/golden/ to be copied over).  Prints TAP.
#
#   tests/svmxctl/ab.t BUILD
. "$(dirname "$0")/tap.sh"

bench=$build/tools/svmx-bench
scan="$bench workload scan --ws 1.5 --passes 2 --json"
golden=$top/tests/svmxctl/golden
# One font cache for every plot of this script: the one make policies
# built on the host (build/tools/matplotlib), else matplotlib builds it.
export MPLCONFIGDIR=$tmp/mpl
[ -d "$build/tools/matplotlib" ] && cp -r "$build/tools/matplotlib" "$MPLCONFIGDIR"

# The policy attached to the active slot of scope CGROUP_ID (0: global).
attached() {
	awk -v id="$1" '$1 == "scope" && $2 == "cgroup=" id && $3 == "role=active" {
		getline; print $2; exit }' /sys/kernel/debug/svmx/scopes
}

nothing_attached() { [ "$(attached 0)" = none ] && ! ls -d /sys/fs/cgroup/svmxctl-ab-* >/dev/null 2>&1; }

# Text reports with volatile numbers and paths normalised.
normalise() { sed -e "s|$build|BUILD|g" -E -e 's/-?[0-9]+(\.[0-9]+)?/N/g' "$@"; }

golden_check() { # NAME FILE
	normalise "$2" >"$tmp/$1.norm"
	if [ "${SVMX_GOLDEN_UPDATE:-}" = 1 ]; then
		mkdir -p "${SVMX_OUT:-/tmp}/golden"
		cp "$tmp/$1.norm" "${SVMX_OUT:-/tmp}/golden/$1.txt"
	fi
	diff -u "$golden/$1.txt" "$tmp/$1.norm" >"$tmp/$1.diff"
}

# Wait (polling, at most 5 minutes: the debug kernel is slow) until the
# shell condition holds.
wait_for() {
	i=0
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -gt 3000 ] && return 1
		sleep 0.1
	done
}

# ------------------------------------------------------------------
echo "# $(date +%T)"
# Bad input: one line, non-zero status, nothing attached after.

bad() { # DESCRIPTION STATUS ARGS...
	desc=$1 want=$2
	shift 2
	run "$@"
	check "$desc: status $want, one line, nothing attached" \
		'[ $rc = $want ] && one_line_error && nothing_attached'
}

bad "unknown policy" 1 "$svmxctl" ab --a builtin --b nosuchpolicy -- $scan
bad "unknown metric" 2 "$svmxctl" ab --a builtin --b mru --metric nosuch -- $scan
bad "metric from a source it has no value in" 2 "$svmxctl" ab --a builtin --b mru --metric kernel.wall_ns -- $scan
bad "bad guard syntax" 2 "$svmxctl" ab --a builtin --b mru --guard 'evictions<5' -- $scan
bad "guard with a bad bound" 2 "$svmxctl" ab --a builtin --b mru --guard 'evictions<=five' -- $scan
bad "--runs 0" 2 "$svmxctl" ab --a builtin --b mru --runs 0 -- $scan
bad "missing --" 2 "$svmxctl" ab --a builtin --b mru $scan
bad "no command" 2 "$svmxctl" ab --a builtin --b mru --
bad "no --b" 2 "$svmxctl" ab --a builtin -- $scan
bad "bad --split" 2 "$svmxctl" ab --a builtin --b mru --split random -- $scan
bad "command not found" 1 "$svmxctl" ab --a builtin --b mru -- /nonexistent/cmd
bad "command not on PATH" 1 "$svmxctl" ab --a builtin --b mru -- no-such-command-svmx
bad "unknown knob" 1 "$svmxctl" ab --a builtin --b mru --set-b nosuch=1 -- $scan
bad "knob value out of range" 1 "$svmxctl" ab --a builtin --b stride --set-b ahead=-1 -- $scan
bad "knob on builtin" 1 "$svmxctl" ab --a builtin --set-a ahead=1 --b mru -- $scan
bad "--plot to an unknown format" 1 "$svmxctl" ab --a builtin --b mru --plot "$tmp/x.jpg" -- $scan
bad "--markdown in a missing directory" 1 "$svmxctl" ab --a builtin --b mru --markdown /nonexistent/r.md -- $scan
bad "tune: unknown policy" 1 "$svmxctl" tune nosuchpolicy --knob ahead=1:2 --objective modeled_ns -- $scan
bad "tune: unknown knob" 1 "$svmxctl" tune stride --knob nosuch=1:2 --objective modeled_ns -- $scan
bad "tune: bad knob range" 2 "$svmxctl" tune stride --knob ahead=3:1 --objective modeled_ns -- $scan
bad "tune: no objective" 2 "$svmxctl" tune stride --knob ahead=1:2 -- $scan
bad "tune: unknown objective" 2 "$svmxctl" tune stride --knob ahead=1:2 --objective nosuch -- $scan
bad "tune: missing --" 2 "$svmxctl" tune stride --knob ahead=1:2 --objective modeled_ns $scan
bad "tune: --runs-per-point 0" 2 "$svmxctl" tune stride --knob ahead=1:2 --objective modeled_ns --runs-per-point 0 -- $scan
bad "tune: builtin" 2 "$svmxctl" tune builtin --knob ahead=1:2 --objective modeled_ns -- $scan

run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" ab --a builtin --b mru -- $scan
check "not root: status 1, one line naming root, nothing attached" \
	'[ $rc = 1 ] && one_line_error && grep -q root "$tmp/err" && nothing_attached'

# An occupied global scope: refused, the policy there stays.
"$build/bpf/svmx-policy-load" "$build/bpf/default.bpf.o" >/dev/null 2>&1 &
holder=$!
if wait_for '[ "$(attached 0)" = default ]'; then
	run "$svmxctl" ab --a builtin --b mru -- $scan
	check "global scope occupied: status 1, one line naming the policy, it stays" \
		'[ $rc = 1 ] && one_line_error && grep -q "holds policy default" "$tmp/err" && [ "$(attached 0)" = default ]'
else
	notok "global scope occupied: svmx-policy-load did not attach default"
fi
kill $holder
wait $holder
wait_for '[ "$(attached 0)" = none ]'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# A policy known to be better: mru on the cyclic scan at 1.5x.

run "$svmxctl" ab -q --a builtin --b mru --runs 3 --metric evictions --metric modeled_ns \
	--json --markdown "$tmp/mru.md" --plot "$tmp/mru.svg" -- $scan
check "mru vs builtin on scan 1.5x: status 0, nothing attached after" '[ $rc = 0 ] && nothing_attached'
cp "$tmp/out" "$tmp/mru.json"
check "--json parses (jq) and has 6 runs, 3 of each" \
	'jq -e ".runs | length == 6 and (map(select(.arm == \"A\")) | length == 3)" "$tmp/mru.json" >/dev/null'
check "verdict: B better on evictions and on modeled time" \
	'[ "$(jq -r ".metrics[].verdict" "$tmp/mru.json" | sort -u)" = "B better" ]'
check "every B run evicts less than every A run" \
	'jq -e ".metrics[0] | (.b.values | max) < (.a.values | min)" "$tmp/mru.json" >/dev/null'
check "the interval of B - A lies below 0 and holds the estimate" \
	'jq -e ".metrics[] | .difference | .ci[1] < 0 and .ci[0] <= .estimate and .estimate <= .ci[1]" "$tmp/mru.json" >/dev/null'
check "metrics read from the command's JSON" \
	'[ "$(jq -r ".metrics[].source" "$tmp/mru.json" | sort -u)" = cmd ]'
check "Markdown report written, with the verdict table and every run" \
	'grep -q "^## Verdicts" "$tmp/mru.md" && grep -q "| evictions | lower |.*\*\*B better\*\*" "$tmp/mru.md" && [ "$(grep -c "^| [0-9] | [0-9] | [AB] |" "$tmp/mru.md")" = 6 ]'
check "SVG plot written and parses as XML" \
	'python3 -c "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(not r.tag.endswith(\"svg\"))" "$tmp/mru.svg"'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# A policy against its BPF twin: no difference; golden text.

run "$svmxctl" ab -q --a builtin --b "$build/bpf/default.bpf.o" --runs 3 \
	--metric modeled_ns --metric evictions --metric faults --plot "$tmp/same.png" \
	-- $bench workload zipf --ws 1.5 --passes 2 --seed '{seed}' --json
check "builtin vs default.bpf.o: status 0, nothing attached after" '[ $rc = 0 ] && nothing_attached'
check "verdict: no difference on modeled time, evictions and faults" \
	'grep -qx "verdict: modeled_ns no difference (B/A 1.000x); evictions no difference (B/A 1.000x); faults no difference (B/A 1.000x)" "$tmp/out"'
check "{seed}: the pairs ran different seeds (different modeled times)" \
	'[ "$(grep -c "^  A builtin .*min \([0-9]*\), max \1)" "$tmp/out")" -lt 3 ]'
check "PNG plot written (PNG signature)" \
	'[ "$(head -c 8 "$tmp/same.png" | od -An -tx1 | tr -d " \n")" = 89504e470d0a1a0a ]'
cp "$tmp/out" "$tmp/same.txt"
check "golden text report (golden/ab-same.txt)" 'golden_check ab-same "$tmp/same.txt"'
[ -s "$tmp/ab-same.diff" ] && sed 's/^/# /' "$tmp/ab-same.diff"

# ------------------------------------------------------------------
echo "# $(date +%T)"
# Guardrail: B stops at its first run; the scopes are as before (a
# cgroup's policy held by another loader stays, the global scope is free).

mkdir -p /sys/fs/cgroup/svmxctl-abt-held
held_id=$(stat -c %i /sys/fs/cgroup/svmxctl-abt-held)
"$build/bpf/svmx-policy-load" -c /sys/fs/cgroup/svmxctl-abt-held "$build/bpf/sysmem.bpf.o" >/dev/null 2>&1 &
holder=$!
wait_for '[ "$(attached "$held_id")" = sysmem ]'
run "$svmxctl" ab -q --a builtin --b mru --runs 3 --guard 'modeled_ns>=1' --guard 'evictions<=1' --json -- $scan
cp "$tmp/out" "$tmp/guard.json"
check "guard crossed: exit status 3" '[ $rc = 3 ]'
check "the report names the guard and the run of B that crossed it" \
	'jq -e ".stopped.guard == \"evictions<=1\" and (.runs[.stopped.run - 1].arm == \"B\") and .stopped.value > 1" "$tmp/guard.json" >/dev/null'
check "no run after the crossing one" 'jq -e ".stopped.run == (.runs | length)" "$tmp/guard.json" >/dev/null'
check "after the stop: global scope none as before, the cgroup keeps sysmem" \
	'[ "$(attached 0)" = none ] && [ "$(attached "$held_id")" = sysmem ] && jq -e ".scope_after == \"none\"" "$tmp/guard.json" >/dev/null'
run "$svmxctl" ab -q --a builtin --b mru --runs 2 --guard 'evictions<=1' -- $scan
check "text report says STOPPED with the run" \
	'[ $rc = 3 ] && grep -q "^STOPPED by guard evictions<=1: run [12] (pair 1, B mru)" "$tmp/out"'
kill $holder
wait $holder
wait_for '[ "$(attached "$held_id")" = none ]'
rmdir /sys/fs/cgroup/svmxctl-abt-held

# ------------------------------------------------------------------
echo "# $(date +%T)"
# Cgroup split: both at once, each in its cgroup; cgroups removed after.

run "$svmxctl" ab -q --a builtin --b mru --split cgroup --runs 3 --metric kernel.faults \
	--metric modeled_ns --json -- $bench workload scan --ws 0.75 --passes 1 --json
check "cgroup split: status 0, cgroups removed, nothing attached" '[ $rc = 0 ] && nothing_attached'
cp "$tmp/out" "$tmp/cg.json"
check "cgroup split: 3 runs an arm, per-cgroup faults counted for both" \
	'jq -e ".split == \"cgroup\" and (.metrics[0].source == \"kernel\") and (.metrics[0].a.values | length == 3 and min > 0) and (.metrics[0].b.values | length == 3 and min > 0)" "$tmp/cg.json" >/dev/null'

# Interrupted: the command is stopped, the policies detached, the cgroups gone.
"$svmxctl" ab --a builtin --b mru --split cgroup --runs 100 -- $bench workload scan --ws 0.75 --passes 1 --json \
	>"$tmp/int.out" 2>"$tmp/int.err" &
abpid=$!
if wait_for 'grep -q "run 2:" "$tmp/int.err"'; then
	kill -INT $abpid
	wait $abpid
	rc=$?
	check "SIGINT: status 1, 'interrupted', cgroups removed, nothing attached" \
		'[ $rc = 1 ] && grep -q interrupted "$tmp/int.err" && nothing_attached'
else
	kill $abpid
	wait $abpid
	notok "SIGINT: the experiment did not start"
fi

# ------------------------------------------------------------------
echo "# $(date +%T)"
# tune: stride's ahead on the scan has an interior best value (2).

run "$svmxctl" tune stride -q --knob ahead=0:4 --objective modeled_ns --runs-per-point 1 --json -- $scan
cp "$tmp/out" "$tmp/tune1.json"
check "tune stride ahead=0:4: status 0, the whole grid run, nothing attached" \
	'[ $rc = 0 ] && jq -e ".search == \"grid\" and (.points | length == 5) and .runs_used == 5" "$tmp/tune1.json" >/dev/null && nothing_attached'
check "the workload has one best ahead: 2 beats every other value" \
	'jq -e "([.points[] | select(.knobs.ahead != 2) | .median] | min) > ([.points[] | select(.knobs.ahead == 2) | .median][0])" "$tmp/tune1.json" >/dev/null'
check "tune reports it: best ahead=2 (the default: no A/B needed)" \
	'jq -e ".best.ahead == 2 and .defaults.ahead == 2 and .ab == null" "$tmp/tune1.json" >/dev/null'

# Two knobs: coordinate descent, within the budget.
# The best window of adaptive (0) is not its default (1): the A/B of the
# best setting against the defaults shows it.
run "$svmxctl" tune adaptive -q --knob ahead=1:3 --knob window=0:1 --objective modeled_ns \
	--runs-per-point 1 --ab-runs 3 --budget 12 -- $scan
cp "$tmp/out" "$tmp/tune2.txt"
check "tune with two knobs: coordinate descent finds ahead=2 window=0 within 12 runs" \
	'[ $rc = 0 ] && grep -q "coordinate descent" "$tmp/tune2.txt" && grep -q "^best: ahead=2 window=0," "$tmp/tune2.txt"'
check "its evidence: the A/B of the best against the defaults says B better" \
	'grep -q "^A/B experiment: A = adaptive ahead=2,window=1, B = adaptive ahead=2,window=0" "$tmp/tune2.txt" && grep -qx "verdict: modeled_ns B better.*" "$tmp/tune2.txt"'
check "golden text of tune with its A/B (golden/tune-two-knobs.txt)" 'golden_check tune-two-knobs "$tmp/tune2.txt"'
[ -s "$tmp/tune-two-knobs.diff" ] && sed 's/^/# /' "$tmp/tune-two-knobs.diff"
run "$svmxctl" tune stride -q --knob ahead=0:4 --objective modeled_ns --runs-per-point 1 --budget 2 --json -- $scan
check "a budget of 2 runs: 2 points, budget_exhausted" \
	'[ $rc = 0 ] && jq -e ".runs_used == 2 and .budget_exhausted and (.points | length == 2)" "$tmp/out" >/dev/null'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# Module not loaded (last: the module is put back as it was).

mem_mb=$(cat /sys/module/svmx/parameters/mem_mb)
nr=$(cat /sys/module/svmx/parameters/nr_devices)
hive=$(cat /sys/module/svmx/parameters/hive_mask)
if rmmod svmx 2>/dev/null; then
	run "$svmxctl" ab --a builtin --b mru -- $scan
	check "module not loaded: status 1, one line" '[ $rc = 1 ] && one_line_error && grep -q "not loaded" "$tmp/err"'
	run "$svmxctl" tune stride --knob ahead=1:2 --objective modeled_ns -- $scan
	check "tune, module not loaded: status 1, one line" '[ $rc = 1 ] && one_line_error'
	insmod "$top/kernel/svmx.ko" mem_mb="$mem_mb" nr_devices="$nr" hive_mask="$hive" ||
		notok "svmx.ko loaded again"
else
	ok "module not loaded # SKIP svmx cannot be unloaded here"
	ok "tune, module not loaded # SKIP svmx cannot be unloaded here"
fi
finish
