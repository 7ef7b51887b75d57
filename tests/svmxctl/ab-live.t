#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl ab and tune on a live system: the global slot holds adaptive,
# loaded (and pinned) by svmxctl policy load with a load-time knob set.
# The arms are swapped in through the pinned link and adaptive swapped
# back at the end: after a normal end (with a verdict), after a guardrail
# stopped the experiment, after SIGINT and SIGTERM, and after tune; the
# slot is never seen empty meanwhile and another tenant's workload runs
# on.  An operator's swap during the experiment is kept.  The arms never
# load adaptive, so finding it attached again means the kernel took its
# original map back; its knobs are those it had; the last exit of the
# slot is the arm swapped out (kind replaced).  A builtin arm on the
# occupied slot is refused in one line and adaptive left untouched; so is
# an ejected policy in the slot.
# Prints TAP.
#
#   tests/svmxctl/ab-live.t BUILD
. "$(dirname "$0")/tap.sh"

bench=$build/tools/svmx-bench
scan="$bench workload scan --ws 1.5 --passes 2 --json"

# The policy attached to the active slot of the global scope.
attached() {
	awk '$1 == "scope" && $2 == "cgroup=0" && $3 == "role=active" {
		getline; print $2; exit }' /sys/kernel/debug/svmx/scopes
}

# `policy info --global --json` into $tmp/NAME.json.
info() { "$svmxctl" policy info --global --json >"$tmp/$1.json"; }

# adaptive active again, its knobs as before the experiment.
restored() {
	info after &&
	jq -e '.name == "adaptive" and .state == "active" and .pinned != null' "$tmp/after.json" >/dev/null &&
	[ "$(jq -cS .knobs "$tmp/after.json")" = "$(jq -cS .knobs "$tmp/before.json")" ]
}

# The slot's last exit: one of the arms NAMES..., swapped out by adaptive.
last_exit_arm() {
	kind=$(jq -r '.last_exit.kind' "$tmp/after.json")
	name=$(jq -r '.last_exit.name' "$tmp/after.json")
	[ "$kind" = replaced ] || return 1
	for a in "$@"; do [ "$name" = "$a" ] && return 0; done
	return 1
}

# bg_ab NAME N: start a 100-run ab of mru against lfu on the scan in the
# background (abpid; its output in $tmp/NAME.out and .err) and wait until
# it reports run N or gives up.  Return: whether run N was reported.
bg_ab() {
	"$svmxctl" ab --a mru --b lfu --runs 100 -- $scan >"$tmp/$1.out" 2>"$tmp/$1.err" &
	abpid=$!
	i=0
	while ! grep -q "run $2:" "$tmp/$1.err" && [ $i -lt 3000 ] && kill -0 $abpid 2>/dev/null; do
		i=$((i + 1))
		sleep 0.1
	done
	grep -q "run $2:" "$tmp/$1.err"
}

run "$svmxctl" policy load adaptive --set ahead=3
check "adaptive loaded and pinned in the global scope" \
	'[ $rc = 0 ] && [ "$(attached)" = adaptive ] && [ -e /sys/fs/bpf/svmx/global/link ]'
info before
check "its knobs: ahead=3 as set" \
	'jq -e ".knobs.ahead.value == 3" "$tmp/before.json" >/dev/null'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# A builtin arm would detach adaptive: refused, adaptive untouched.

run "$svmxctl" ab --a builtin --b mru -- $scan
check "builtin on the occupied slot: status 1, one line naming adaptive" \
	'[ $rc = 1 ] && one_line_error && grep -q "builtin: the global scope holds policy adaptive" "$tmp/err"'
check "adaptive untouched (same since, no exit)" \
	'info after && [ "$(jq .since_ns "$tmp/after.json")" = "$(jq .since_ns "$tmp/before.json")" ] && jq -e ".last_exit == null" "$tmp/after.json" >/dev/null'
run "$svmxctl" ab --a mru --b builtin -- $scan
check "builtin as B: refused the same way" '[ $rc = 1 ] && one_line_error && [ "$(attached)" = adaptive ]'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# mru against lfu through the link: a verdict, adaptive back after.

# Meanwhile, another tenant's workload runs, and the global slot is
# polled: it must never be seen empty.
(while [ ! -e "$tmp/stop" ]; do attached; sleep 0.05; done) >"$tmp/seen" &
poller=$!
(i=0; while [ ! -e "$tmp/stop" ]; do
	$bench workload zipf --ws 0.5 --passes 1 --seed $i --json >/dev/null || echo fail
	i=$((i + 1)); done; echo "$i runs") >"$tmp/tenant" 2>&1 &
tenant=$!
run "$svmxctl" ab -q --a mru --b lfu --runs 2 --metric evictions --json --markdown "$tmp/ab.md" -- $scan
touch "$tmp/stop"
wait $poller $tenant
cp "$tmp/out" "$tmp/ab.json"
check "ab mru vs lfu on the occupied slot: status 0, 4 runs, a verdict" \
	'[ $rc = 0 ] && jq -e "(.runs | length == 4) and (.metrics[0].verdict | length > 0)" "$tmp/ab.json" >/dev/null'
check "no gap: the slot was never seen empty, and the arms were seen in it" \
	'! grep -qvx -e adaptive -e mru -e lfu "$tmp/seen" && grep -qx -e mru -e lfu "$tmp/seen"'
check "the other tenant's workload ran throughout, every run of it served" \
	'! grep -q fail "$tmp/tenant" && grep -q "^[1-9][0-9]* runs$" "$tmp/tenant"'
rm -f "$tmp/stop"
check "the report: swapped live, adaptive before and after" \
	'jq -e ".live_swap and .scope_before == \"adaptive\" and .scope_after == \"adaptive\"" "$tmp/ab.json" >/dev/null'
check "the Markdown report says so" \
	'grep -qx "| live | the arms swapped in through the pinned link of \`adaptive\` (global); after: \`adaptive\` |" "$tmp/ab.md"'
check "policy list: adaptive active, pinned, its knobs as before" restored
check "policy list shows it (text)" \
	'"$svmxctl" policy list | grep -q "^adaptive  *global  *active .*ahead=3"'
last=$(jq -r '.runs[-1].arm' "$tmp/ab.json")
[ "$last" = A ] && want=mru || want=lfu
check "policy info: the last exit is the arm run last ($want), kind replaced" \
	'last_exit_arm "$want"'
check "since: the time adaptive was swapped back (later than its load)" \
	'[ "$(jq .since_ns "$tmp/after.json")" -gt "$(jq .since_ns "$tmp/before.json")" ]'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# A guardrail stops the experiment: adaptive back.

run "$svmxctl" ab -q --a mru --b lfu --runs 3 --guard 'evictions<=1' --json -- $scan
cp "$tmp/out" "$tmp/guard.json"
check "guard crossed: exit status 3, stopped at a run of B" \
	'[ $rc = 3 ] && jq -e ".stopped.guard == \"evictions<=1\" and .runs[.stopped.run - 1].arm == \"B\" and .scope_after == \"adaptive\"" "$tmp/guard.json" >/dev/null'
check "after the guard: adaptive active, knobs as before, lfu swapped out" \
	'restored && last_exit_arm lfu'
run "$svmxctl" ab -q --a mru --b lfu --runs 2 --guard 'evictions<=1' -- $scan
check "text report: STOPPED, B swapped out, the scope holds adaptive" \
	'[ $rc = 3 ] && grep -q "^STOPPED by guard evictions<=1: .* B is swapped out, the scope holds adaptive (before: adaptive)" "$tmp/out"'
check "text report: the live line" \
	'grep -qx "live: the arms swapped in through the pinned link of adaptive (global), the scope holds adaptive after" "$tmp/out"'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# SIGINT in the middle: adaptive back.

if bg_ab int 2; then
	kill -INT $abpid
	wait $abpid
	rc=$?
	cp "$tmp/int.err" "$tmp/err"
	check "SIGINT: status 1, 'interrupted', the global scope holds adaptive" \
		'[ $rc = 1 ] && grep -q "interrupted after [0-9]* runs: the global scope holds adaptive" "$tmp/int.err"'
	check "after SIGINT: adaptive active, knobs as before, an arm swapped out" \
		'restored && last_exit_arm mru lfu'
else
	kill $abpid
	wait $abpid
	notok "SIGINT: the experiment did not start"
	notok "after SIGINT # no experiment"
fi

# SIGTERM likewise.
bg_ab term 1
kill -TERM $abpid
wait $abpid
rc=$?
cp "$tmp/term.err" "$tmp/err"
check "SIGTERM: status 1, 'interrupted', adaptive active again, knobs as before" \
	'[ $rc = 1 ] && grep -q "interrupted after [0-9]* runs: the global scope holds adaptive" "$tmp/term.err" && restored'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# The operator swaps the slot during the experiment: theirs stays (ab's
# swaps name the map they replace), ab stops with one line.

bg_ab op 1
run "$svmxctl" policy load density
oprc=$rc
wait $abpid
rc=$?
cp "$tmp/op.err" "$tmp/err"
check "an operator's policy load during the experiment succeeds" '[ $oprc = 0 ]'
check "ab stops: status 1, the slot was swapped by someone else" \
	'[ $rc = 1 ] && grep -q "swapped by someone else" "$tmp/op.err"'
check "the operator's density stays in the global slot" '[ "$(attached)" = density ]'
run "$svmxctl" policy load adaptive --set ahead=3
check "adaptive loaded again for tune" '[ $rc = 0 ] && [ "$(attached)" = adaptive ]'
info before

# ------------------------------------------------------------------
echo "# $(date +%T)"
# tune through the link: adaptive back after the search.

run "$svmxctl" tune stride -q --knob ahead=1:2 --objective modeled_ns --runs-per-point 1 \
	--ab-runs 2 --json -- $scan
check "tune stride on the occupied slot: status 0, 2 points" \
	'[ $rc = 0 ] && jq -e ".points | length == 2" "$tmp/out" >/dev/null'
check "after tune: adaptive active, knobs as before, stride swapped out" \
	'restored && last_exit_arm stride'

# ------------------------------------------------------------------
echo "# $(date +%T)"
# An ejected policy in the slot: refused (swapping it back would bring it
# to life again), left as it is.

state() {
	awk '$1 == "scope" && $2 == "cgroup=0" && $3 == "role=active" {
		getline; print $3; exit }' /sys/kernel/debug/svmx/scopes
}
run "$svmxctl" policy load "$build/bpf/error.bpf.o"
check "swap to a policy that ejects itself" '[ $rc = 0 ] && [ "$(attached)" = test_error ]'
$bench workload stream --ws 0.25 >/dev/null 2>&1
i=0; while [ "$(state)" != state=ejected ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run "$svmxctl" ab --a mru --b lfu -- $scan
check "ejected: status 1, one line naming it, left ejected" \
	'[ $rc = 1 ] && one_line_error && grep -q "test_error in the global scope is ejected" "$tmp/err" && [ "$(attached)" = test_error ] && [ "$(state)" = state=ejected ]'

run "$svmxctl" policy detach --global
check "detached at the end" '[ $rc = 0 ] && [ "$(attached)" = none ]'
finish
