#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl policy: load (pinned, outliving svmxctl; visible to bpftool),
# list, knobs at load and live, live swap under a running workload with
# its data verified, a refused swap that keeps the old policy, cgroup and
# shadow scopes, info with the exit info after an ejection, detach, and
# bad input (one line, non-zero exit, nothing changed).  Golden text in
# tests/svmxctl/golden/.  Runs in the VM with svmx loaded (two devices);
# ends by unloading and reloading svmx for the not-loaded case.  TAP.
#
#   tests/svmxctl/policy.t BUILD
. "$(dirname "$0")/tap.sh"

bpf=$build/bpf
bench=$build/tools/svmx-bench
scopes=/sys/kernel/debug/svmx/scopes
pins=/sys/fs/bpf/svmx
bpftool=$(command -v bpftool || ls /var/cache/svmx/kernel/*-base-*/bpf/bpftool/bpftool 2>/dev/null | head -1)
golden=$top/tests/svmxctl/golden
cg=/sys/fs/cgroup/svmxctl-policy-t

# The global active slot's "attached" line: name, state and since.
global_line() { sed -n '/^scope cgroup=0 role=active /{n;p;q}' "$scopes"; }
# Text with its volatile figures replaced: times, counts.
normalise() {
	sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/g' \
	       -e 's/\b[0-9a-f]{8,}\b/HEX/g' \
	       -e 's/ +[0-9]+( |$)/ N\1/g' -e 's/ +[0-9]+( |$)/ N\1/g' -e 's/ +/ /g'
}

# --- an empty system -------------------------------------------------
run "$svmxctl" policy list
check "list with nothing attached says so" \
	'[ $rc = 0 ] && grep -q "no policy attached: the built-in default decides" "$tmp/out"'

# --- load, pinned ----------------------------------------------------
run "$svmxctl" policy load mru
check "load mru by name: attached and pinned" \
	'[ $rc = 0 ] && grep -qx "attached mru (global), pinned at $pins/global" "$tmp/out"'
check "the kernel runs mru in the global slot" 'global_line | grep -q "^attached mru state=active since_ns=[1-9]"'
check "the link is pinned on bpffs after svmxctl exited" '[ -e "$pins/global/link" ] && [ -e "$pins/global/rodata" ]'
if [ -n "$bpftool" ]; then
	run "$bpftool" link list
	check "bpftool link list shows the struct_ops link" '[ $rc = 0 ] && grep -q "struct_ops" "$tmp/out"'
	run "$bpftool" map list
	check "bpftool map list shows mru's maps" '[ $rc = 0 ] && grep -q "mru_blocks" "$tmp/out"'
else
	ok "bpftool link list # SKIP no bpftool"
	ok "bpftool map list # SKIP no bpftool"
fi
run "$svmxctl" policy list
check "list shows mru, global, active, its knob" \
	'[ $rc = 0 ] && grep -Eq "^mru +global +active +[0-9-]+ [0-9:]+ +[0-9]+ +[0-9]+ +[0-9]+ +candidates_only=false$" "$tmp/out"'
run "$svmxctl" policy list --json
check "list --json parses and names mru" \
	'[ $rc = 0 ] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[0][\"name\"]==\"mru\" and d[0][\"scope\"]==\"global\" and d[0][\"pinned\"]==\"$pins/global\"" "$tmp/out"'

# --- live swap under load --------------------------------------------
"$bench" workload scan --ws 1.5 --passes 40 --seed 3 >"$tmp/wl" 2>&1 &
wl=$!
swaps=0 swap_fail=0
for p in lfu mru s3fifo lfu mru; do
	if "$svmxctl" policy load $p >"$tmp/swap" 2>&1 && grep -q "^swapped " "$tmp/swap"; then
		swaps=$((swaps + 1))
	else
		swap_fail=$((swap_fail + 1)); cat "$tmp/swap"
	fi
done
wait $wl
wlrc=$?
check "5 live swaps while a workload ran" '[ $swaps = 5 ] && [ $swap_fail = 0 ]'
rc=$wlrc; cp "$tmp/wl" "$tmp/out"; : >"$tmp/err"
check "the workload's data is intact after the swaps" '[ $wlrc = 0 ]'
check "mru decides after the last swap" 'global_line | grep -q "^attached mru state=active"'
run "$svmxctl" policy info mru
check "info shows the replaced lfu as the last exit" \
	'[ $rc = 0 ] && grep -q "^last exit: lfu, kind replaced" "$tmp/out"'

# --- a refused swap keeps the old policy -----------------------------
before=$(global_line)
run "$svmxctl" policy load "$bpf/bad_write.bpf.o"
check "a policy the verifier refuses: one line, status 1" '[ $rc = 1 ] && one_line_error'
check "... and mru is still attached, unchanged" '[ "$(global_line)" = "$before" ]'

# --- knobs -----------------------------------------------------------
run "$svmxctl" policy knobs density
sed "s|(/.*/density.bpf.o)|(PATH)|" "$tmp/out" >"$tmp/knobs"
check "knobs density matches the golden text" 'diff -u "$golden/policy-knobs-density.txt" "$tmp/knobs" >"$tmp/err"'
run "$svmxctl" policy load density --set threshold=70 --set base_order=1
check "swap to density with knobs set at load" '[ $rc = 0 ] && grep -q "^swapped mru -> density" "$tmp/out"'
run "$svmxctl" policy list
check "list shows the knobs as set" 'grep -q "base_order=1,threshold=70\*$" "$tmp/out"'
run "$svmxctl" policy set density threshold=80
check "set a live knob" '[ $rc = 0 ] && grep -qx "density: threshold=80" "$tmp/out"'
run "$svmxctl" policy info --global --json
check "the policy sees it: info --json threshold 80" \
	'python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d[\"knobs\"][\"threshold\"][\"value\"]==80" "$tmp/out"'
run "$svmxctl" policy set density base_order=2
check "set of a load-time knob is refused with the reason" \
	'[ $rc = 1 ] && one_line_error && grep -q "load-time only" "$tmp/err"'
run "$svmxctl" policy set density threshold=80 nosuch=1
check "set of an unknown knob is refused, naming the knobs" \
	'[ $rc = 1 ] && one_line_error && grep -q "knobs: base_order, threshold" "$tmp/err"'
run "$svmxctl" policy set density threshold=abc
check "set of a bad value is refused" '[ $rc = 1 ] && one_line_error'
run "$svmxctl" policy set density threshold=4294967296
check "set of a value too large for the knob is refused" '[ $rc = 1 ] && one_line_error'
run "$svmxctl" policy list --json
check "... and the knobs are unchanged (80, 1)" \
	'python3 -c "import json,sys; k=json.load(open(sys.argv[1]))[0][\"knobs\"]; assert k[\"threshold\"][\"value\"]==80 and k[\"base_order\"][\"value\"]==1" "$tmp/out"'
run "$svmxctl" policy load density --set nosuch=1
check "load with an unknown knob: one line, nothing changed" \
	'[ $rc = 1 ] && one_line_error && global_line | grep -q "^attached density "'
run "$svmxctl" policy load density --set threshold
check "load --set without =: usage error" '[ $rc = 2 ] && one_line_error'

# --- cgroup and shadow scopes ----------------------------------------
mkdir -p "$cg"
run "$svmxctl" policy load sysmem --cgroup svmxctl-policy-t
check "load into a cgroup" '[ $rc = 0 ] && grep -q "^attached sysmem (cgroup /svmxctl-policy-t), pinned at $pins/cgroup-[0-9]*$" "$tmp/out"'
run "$svmxctl" policy load default --shadow
check "load a shadow policy" '[ $rc = 0 ] && grep -q "^attached default (global shadow)" "$tmp/out"'
run "$svmxctl" policy list
normalise <"$tmp/out" >"$tmp/list"
check "list of three scopes matches the golden text" 'diff -u "$golden/policy-list.txt" "$tmp/list" >"$tmp/err"'
run "$svmxctl" policy detach --cgroup svmxctl-policy-t
check "detach the cgroup's policy" '[ $rc = 0 ] && grep -qx "detached sysmem (cgroup /svmxctl-policy-t)" "$tmp/out"'
run "$svmxctl" policy detach default
check "detach the shadow policy by name" '[ $rc = 0 ] && grep -qx "detached default (global shadow)" "$tmp/out"'
rmdir "$cg"

# --- ejection: info keeps the exit info ------------------------------
run "$svmxctl" policy load "$bpf/error.bpf.o"
check "swap to a policy that calls svmx_bpf_error()" '[ $rc = 0 ] && grep -q "^swapped density -> test_error" "$tmp/out"'
"$bench" workload stream --ws 0.25 >/dev/null 2>&1
i=0; while ! global_line | grep -q "state=ejected" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
run "$svmxctl" policy info test_error
normalise <"$tmp/out" >"$tmp/info"
check "info after the ejection matches the golden text" 'diff -u "$golden/policy-info-ejected.txt" "$tmp/info" >"$tmp/err"'
run "$svmxctl" policy load mru
check "load over the ejected policy swaps it out" '[ $rc = 0 ] && grep -q "^swapped test_error -> mru" "$tmp/out"'
run "$svmxctl" policy info --global --json
check "the exit info survives the swap (kind error, the message)" \
	'python3 -c "import json,sys; e=json.load(open(sys.argv[1]))[\"last_exit\"]; assert e[\"kind\"]==\"error\" and e[\"message\"], e" "$tmp/out"'

# --- bad input -------------------------------------------------------
before=$(global_line)
for args in "load nosuch" "load /etc/passwd" "load mru --cgroup no-such-cgroup" \
	    "detach nosuch" "info nosuch" "set nosuch x=1" "load" "frob" \
	    "list extra" "detach mru --set x=1" "info"; do
	run "$svmxctl" policy $args
	check "policy $args: one line, non-zero" '[ $rc != 0 ] && one_line_error'
done
run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" policy load lfu
check "not root: refused with the reason" '[ $rc = 1 ] && one_line_error && grep -q "must be run as root" "$tmp/err"'
check "after all the bad input mru is still attached, unchanged" '[ "$(global_line)" = "$before" ]'

# --- detach, then the module not loaded ------------------------------
run "$svmxctl" policy detach mru
check "detach mru: the slot is empty, the pins are gone" \
	'[ $rc = 0 ] && global_line | grep -q "^attached none" && [ ! -e "$pins/global" ]'
rmmod svmx
run "$svmxctl" policy list
check "module not loaded: one line" '[ $rc = 1 ] && one_line_error && grep -q "svmx.ko is not loaded" "$tmp/err"'
insmod "$top/kernel/svmx.ko" mem_mb=16 nr_devices=2
finish
