#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl stats: the BPF counts of a known workload equal the workload's
# own counters and the device's debugfs deltas where they count the same
# thing (and an independent perf count of svmx:svmx_fault); the split by
# policy with a BPF policy attached to one cgroup and by cgroup with two
# cgroups, checked against debugfs' per-cgroup counters; the interval
# mode and --json; the human table against its golden file; bad input
# (one line, non-zero exit), not root, module not loaded.  Prints TAP.
# Run in the VM with svmx loaded (mem_mb=16 nr_devices=2).
#
#   tests/svmxctl/stats.t BUILD
#
# Accepting a deliberate change of the table: run with SVMX_GOLDEN_UPDATE=1;
# the new expected file is written to $SVMX_OUT/golden/ (the VM's output
# directory on the host) for copying into tests/svmxctl/golden/:
#   tests/vm/run --out /tmp/g -- sh -c 'insmod kernel/svmx.ko mem_mb=16 nr_devices=2 &&
#       SVMX_GOLDEN_UPDATE=1 tests/svmxctl/stats.t build'
#   cp /tmp/g/golden/* tests/svmxctl/golden/
. "$(dirname "$0")/tap.sh"

bench=$build/tools/svmx-bench
dbg=/sys/kernel/debug/svmx
golden=$top/tests/svmxctl/golden

# debugfs counter KEY of device 0 (file $1)
dkey() { sed -n "s/^$2=//p" "$1"; }

# --- the 16 MiB device under an oversubscribed scan: exact counts ----------
cp $dbg/svmx0/stats "$tmp/before"
run "$svmxctl" stats --json -- sh -c "perf stat -x, -e svmx:svmx_fault -o '$tmp/perf' -- \
	'$bench' workload scan --ws 1.5 --seed 3 --json >'$tmp/wl.json'"
cp $dbg/svmx0/stats "$tmp/after"
cp "$tmp/out" "$tmp/stats.json"
check "stats -- CMD: status 0, one JSON sample with the command's status" \
	'[ $rc = 0 ] && [ "$(jq "length" "$tmp/stats.json")" = 1 ] &&
	 [ "$(jq ".[0].exit_status" "$tmp/stats.json")" = 0 ] &&
	 [ "$(jq -r ".[0].by" "$tmp/stats.json")" = device ]'

s() { jq ".[0].rows[] | select(.device == 0) | .totals.$1" "$tmp/stats.json"; }
w() { jq ".counters.$1" "$tmp/wl.json"; }
d() { echo $(( $(dkey "$tmp/after" "$1") - $(dkey "$tmp/before" "$1") )); }

for k in pages_to_device bytes_to_device evictions evicted_pages; do
	check "scan 1.5x: $k = workload's = debugfs delta ($(s $k))" \
		'[ "$(s $k)" = "$(w $k)" ] && [ "$(s $k)" = "$(d $k)" ] && [ "$(s $k)" -gt 0 ]'
done
# The workload's counters stop before its final CPU check of the data.
for k in pages_to_system bytes_to_system copy_cmds cpu_faults pingpong; do
	check "scan 1.5x: $k = debugfs delta ($(s $k))" '[ "$(s $k)" = "$(d $k)" ] && [ "$(s $k)" -gt 0 ]'
done
check "scan 1.5x: evictions_failed = debugfs delta" '[ "$(s evictions_failed)" = "$(d evictions_failed)" ]'
perf_faults=$(sed -n 's/^\([0-9]*\),.*svmx:svmx_fault.*/\1/p' "$tmp/perf")
check "scan 1.5x: faults = perf's count of svmx:svmx_fault ($perf_faults)" \
	'[ -n "$perf_faults" ] && [ "$(s faults)" = "$perf_faults" ] && [ "$perf_faults" -gt 0 ]'
check "scan 1.5x: serviced faults between the fault batches and the fault entries" \
	'[ "$(s faults)" -ge "$(d fault_batches)" ] && [ "$(s faults)" -le "$(d faults)" ]'
check "scan 1.5x: no remote decision, ratio 0; device 1 idle" \
	'[ "$(s remote)" = 0 ] && [ "$(s "remote_ratio == 0")" = true ] &&
	 [ "$(jq ".[0].rows[] | select(.device == 1) | .totals.faults" "$tmp/stats.json")" = 0 ]'
check "scan 1.5x: latency histogram counts every fault, sum of service times > 0" \
	'[ "$(jq "[.[0].rows[] | select(.device == 0) | .totals.service_ns_hist[].count] | add" "$tmp/stats.json")" = "$(s faults)" ] &&
	 [ "$(s service_ns)" -gt 0 ]'

# --- per policy and per cgroup: sysmem on cgroup A, the default on B -----
cg=/sys/fs/cgroup
mkdir -p $cg/ctlstatsA $cg/ctlstatsB
pin=/sys/fs/bpf/ctl-stats-sysmem
rm -f $pin
"$build/bpf/svmx-policy-load" -p $pin -c $cg/ctlstatsA "$build/bpf/sysmem.bpf.o" >"$tmp/load" 2>&1
check "sysmem attached to cgroup ctlstatsA" '[ -e $pin ]'
idA=$(stat -c %i $cg/ctlstatsA)
idB=$(stat -c %i $cg/ctlstatsB)
cgkey() { # cgroup-id key: from debugfs cgroups
	sed -n "s/^cgroup=$1 .*/&/p" $dbg/cgroups | tr ' ' '\n' | sed -n "s/^$2=//p"
}
tenants="echo \$\$ >$cg/ctlstatsA/cgroup.procs && '$bench' workload scan --ws 0.5 --seed 5 --json >'$tmp/a.json' &&
	 echo \$\$ >$cg/ctlstatsB/cgroup.procs && '$bench' workload scan --ws 0.5 --seed 5 --json >'$tmp/b.json'"
b0=$(cgkey $idB pages_to_device)
run "$svmxctl" stats --by cgroup --json -- sh -c "$tenants"
cp "$tmp/out" "$tmp/cg.json"
run "$svmxctl" stats --by policy --json -- sh -c "$tenants"
cp "$tmp/out" "$tmp/pol.json"
c() { jq ".[0].rows[] | select(.cgroup_id == $1) | .totals.$2" "$tmp/cg.json"; }
p() { jq ".[0].rows[] | select(.policy == \"$1\") | .totals.$2" "$tmp/pol.json"; }
check "by cgroup: paths named, A all remote, B migrates" \
	'[ "$(jq -r ".[0].rows[] | select(.cgroup_id == $idA) | .cgroup" "$tmp/cg.json")" = /ctlstatsA ] &&
	 [ "$(c $idA faults)" -gt 0 ] && [ "$(c $idA remote)" = "$(c $idA faults)" ] &&
	 [ "$(c $idA pages_to_device)" = 0 ] && [ "$(c $idA "remote_ratio == 1")" = true ] &&
	 [ "$(c $idB remote)" = 0 ] && [ "$(c $idB pages_to_device)" = "$(jq .counters.pages_to_device "$tmp/b.json")" ]'
check "by cgroup: remote-mapped pages of A = its remote accesses' pages > 0" \
	'[ "$(c $idA remote_pages)" -gt 0 ]'
# Two runs happened since a0/b0: each cgroup's debugfs delta is twice one run.
check "by cgroup: pages to device of B = half its debugfs delta over two runs" \
	'[ $(( $(cgkey $idB pages_to_device) - ${b0:-0} )) = $(( 2 * $(c $idB pages_to_device) )) ]'
check "by policy: sysmem decided A's faults, all remote; default B's" \
	'[ "$(p sysmem faults)" = "$(c $idA faults)" ] && [ "$(p sysmem remote)" = "$(p sysmem faults)" ] &&
	 [ "$(p default faults)" = "$(c $idB faults)" ] && [ "$(p default remote)" = 0 ] &&
	 [ "$(p default pages_to_device)" = "$(c $idB pages_to_device)" ]'
check "by policy: decisions counted per policy, no fallback" \
	'[ "$(p sysmem decisions)" -ge "$(p sysmem faults)" ] && [ "$(p sysmem fallbacks)" = 0 ]'
rm -f $pin
rmdir $cg/ctlstatsA $cg/ctlstatsB 2>/dev/null

# --- the interval mode -------------------------------------------------------
run "$svmxctl" stats --interval 0.2 --count 3 --json
check "interval mode --json: 3 samples of about 0.2 s, both devices" \
	'[ $rc = 0 ] && [ "$(jq length "$tmp/out")" = 3 ] &&
	 [ "$(jq "[.[] | .rows | length] | unique" -c "$tmp/out")" = "[2]" ] &&
	 [ "$(jq "[.[] | .rows[] | has(\"rates\")] | all" "$tmp/out")" = true ] &&
	 [ "$(jq ".[2].sample" "$tmp/out")" = 3 ]'
"$bench" workload scan --ws 0.5 --seed 9 >/dev/null &
bpid=$!
run "$svmxctl" stats --interval 0.3 --count 2 --by policy
wait $bpid
check "interval mode text: 2 tables, each row with a /s line" \
	'[ $rc = 0 ] && [ "$(grep -c "^svmxctl stats: sample" "$tmp/out")" = 2 ] &&
	 [ "$(grep -c "^POLICY " "$tmp/out")" = 2 ]'

# --- golden table (time and latencies normalised) ------------------------
# the counts of this seeded workload are exact; its run time and latencies vary
norm() { sed -E 's/ran [0-9.]+ s/ran N s/; s/[0-9]+us/Nus/g; s/ +/ /g'; }
run "$svmxctl" stats --by device -- sh -c "'$bench' workload scan --ws 0.5 --seed 1 >/dev/null"
norm <"$tmp/out" >"$tmp/table"
if [ "${SVMX_GOLDEN_UPDATE:-0}" = 1 ]; then
	mkdir -p "${SVMX_OUT:?}/golden" && cp "$tmp/table" "$SVMX_OUT/golden/stats-device.txt"
fi
check "stats table matches golden/stats-device.txt" \
	'[ $rc = 0 ] && diff -u "$golden/stats-device.txt" "$tmp/table" >"$tmp/err"'

# --- bad input: one line, non-zero, nothing run ----------------------------
for args in "--interval 0" "--interval abc" "--count 0" "--by node" "--frob" \
	    "extra" "--" "--interval 1 -- true"; do
	# shellcheck disable=SC2086
	run "$svmxctl" stats $args
	check "stats $args: one line, status 2" '[ $rc = 2 ] && one_line_error'
done
run "$svmxctl" stats -- /nonexistent/cmd
check "stats -- missing command: one line, status 1" '[ $rc = 1 ] && one_line_error'
# a directory the unprivileged user could write to, had its command run
chmod 755 "$tmp" && mkdir -m 1777 "$tmp/w"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" stats -- touch "$tmp/w/ran"
check "stats as non-root: one line, status 1, command not run" \
	'[ $rc = 1 ] && one_line_error && grep -q root "$tmp/err" && [ ! -e "$tmp/w/ran" ]'
run "$svmxctl" stats -h
check "stats -h: usage on stdout" '[ $rc = 0 ] && grep -q "^Usage: svmxctl stats" "$tmp/out"'

# --- while counting, the programs hold the module -----------------------------
run "$svmxctl" stats -- rmmod svmx
check "rmmod refused while stats counts (status passed through)" \
	'[ $rc != 0 ] && [ -d /sys/module/svmx ] && grep -q "^svmxctl stats: .rmmod. ran" "$tmp/out"'
[ -d /sys/module/svmx ] || insmod "$top/kernel/svmx.ko" mem_mb=16 nr_devices=2

# --- module not loaded: unload, try, load again with the stage's parameters --
if rmmod svmx 2>/dev/null; then
	run "$svmxctl" stats -- touch "$tmp/ran"
	check "stats without svmx.ko: one line, status 1, command not run" \
		'[ $rc = 1 ] && one_line_error && grep -q "not loaded" "$tmp/err" && [ ! -e "$tmp/ran" ]'
	insmod "$top/kernel/svmx.ko" mem_mb=16 nr_devices=2
	check "svmx.ko loaded again" '[ -d /sys/module/svmx ]'
else
	ok "# SKIP module not loaded: svmx.ko is in use"
fi
finish
