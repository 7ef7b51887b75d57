#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl export: DIR/svmx.prom parsed by a real Prometheus text parser
# (Debian's python3-prometheus-client), its values equal to what
# `svmxctl stats` counts of the same workload, the histogram a real one;
# the file replaced atomically (a reader loop never sees a partial file,
# no temporary file left); --once; bad input writes nothing.  Prints TAP.
#
#   tests/svmxctl/export.t BUILD
. "$(dirname "$0")/tap.sh"

bench=$build/tools/svmx-bench
py=/usr/bin/python3
dir=$tmp/textfile
mkdir -p "$dir"

if ! $py -c 'import prometheus_client.parser' 2>/dev/null; then
	ok "# SKIP python3-prometheus-client is not installed (tests/vm/deps)"
	finish
	exit
fi

# --- values: the exporter and stats watch the same workload -------------
"$svmxctl" export --textfile "$dir" --interval 0.2 >"$tmp/exp.out" 2>"$tmp/exp.err" &
epid=$!
# A reader loop that checks every version of the file it sees in full,
# until it has seen 10 of them.
$py "$top/tests/svmxctl/promcheck.py" reader "$dir/svmx.prom" 10 >"$tmp/reader" 2>&1 &
rpid=$!
while kill -0 $epid 2>/dev/null && [ ! -e "$dir/svmx.prom" ]; do sleep 0.1; done
run "$svmxctl" stats --json -- sh -c "'$bench' workload scan --ws 1.5 --seed 4 >/dev/null"
cp "$tmp/out" "$tmp/stats.json"
# The second file written after the workload ended holds all of it (the
# first may have been read before the end).
wno() { sed -n '1s/^# svmxctl export: write \([0-9]*\).*/\1/p' "$dir/svmx.prom"; }
w0=$(wno)
while kill -0 $epid 2>/dev/null && [ "$(wno)" -lt $((w0 + 2)) ]; do sleep 0.1; done
cp "$dir/svmx.prom" "$tmp/svmx.prom"
wait $rpid
rrc=$?
kill -TERM $epid
wait $epid
erc=$?
check "exporter ran and stopped cleanly on SIGTERM" '[ $erc = 0 ] && [ ! -s "$tmp/exp.err" ] && [ ! -s "$tmp/exp.out" ]'
run $py "$top/tests/svmxctl/promcheck.py" values "$tmp/svmx.prom" "$tmp/stats.json"
check "parsed by prometheus_client: values = stats' counts, histograms consistent" '[ $rc = 0 ]'
run cat "$tmp/reader"
check "reader loop: every version of svmx.prom complete and parseable" \
	'[ $rrc = 0 ] && grep -q "^reads=[1-9][0-9]* versions=10$" "$tmp/out"'
check "no temporary file left in DIR" '[ "$(ls -A "$dir")" = svmx.prom ]'
check "HELP and TYPE lines, svmx_ prefix, counters as _total" \
	'grep -q "^# HELP svmx_device_faults_total " "$tmp/svmx.prom" &&
	 grep -q "^# TYPE svmx_device_faults_total counter" "$tmp/svmx.prom" &&
	 grep -q "^# TYPE svmx_policy_fault_service_seconds histogram" "$tmp/svmx.prom" &&
	 ! grep -v "^#" "$tmp/svmx.prom" | grep -qv "^svmx_"'

# --- --once -----------------------------------------------------------------
rm -f "$dir"/*
run "$svmxctl" export --textfile "$dir" --once --interval 0.1
check "--once: status 0, one file that parses" \
	'[ $rc = 0 ] && [ "$(ls -A "$dir")" = svmx.prom ] && $py "$top/tests/svmxctl/promcheck.py" parse "$dir/svmx.prom"'

# --- bad input: one line, non-zero, nothing written -------------------------
rm -f "$dir"/*
for args in "" "--textfile" "--textfile $dir --interval 0" "--textfile $dir --interval x" \
	    "--textfile $dir extra" "--frob"; do
	# shellcheck disable=SC2086
	run "$svmxctl" export $args
	check "export $args: one line, status 2, nothing written" \
		'[ $rc = 2 ] && one_line_error && [ -z "$(ls -A "$dir")" ]'
done
run "$svmxctl" export --textfile "$tmp/missing" --once
check "export to a missing DIR: one line, status 1, nothing created" \
	'[ $rc = 1 ] && one_line_error && [ ! -e "$tmp/missing" ]'
touch "$tmp/file"
run "$svmxctl" export --textfile "$tmp/file" --once
check "export to a file, not a DIR: one line, status 1" '[ $rc = 1 ] && one_line_error'
chmod 755 "$tmp" && chmod 1777 "$dir"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" export --textfile "$dir" --once
check "export as non-root: one line, status 1, nothing written" \
	'[ $rc = 1 ] && one_line_error && [ -z "$(ls -A "$dir")" ]'
run "$svmxctl" export -h
check "export -h: usage on stdout" '[ $rc = 0 ] && grep -q "^Usage: svmxctl export" "$tmp/out"'
finish
