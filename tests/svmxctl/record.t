#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl record and replay on the 16 MiB svmx0: a recording replayed
# under the recorded policy reproduces the recorded counters exactly
# (an oversubscribed scan and zipf, and pingpong for CPU touches); two
# policies meet the same input and evict differently; --opt gives the
# hand-computed Belady count on hand-made traces (tests/svmxctl/mkrec),
# and the ratios; the replay report against its golden file; and every
# bad input: one line, non-zero exit, nothing left behind.  Prints TAP.
#
#   tests/svmxctl/record.t BUILD
#   SVMX_GOLDEN_UPDATE=1 tests/svmxctl/record.t BUILD   (accept a change)
. "$(dirname "$0")/tap.sh"

bench=$build/tools/svmx-bench
mkrec=$top/tests/svmxctl/mkrec
golden=$top/tests/svmxctl/golden
rec=$tmp/rec
mkdir -p "$rec"

# jq_eq FILE FILTER...: every FILTER is true in the JSON document FILE
jq_eq() {
	f=$1
	shift
	for q in "$@"; do
		[ "$(jq -r "$q" "$f")" = true ] || return 1
	done
}

# The counters a replay must reproduce, recorded vs run N.
same_counters() { # json run
	jq_eq "$1" ".recording.counters.faults == .runs[$2].counters.faults" \
		".recording.counters.pages_to_device == .runs[$2].counters.pages_to_device" \
		".recording.counters.pages_to_system == .runs[$2].counters.pages_to_system" \
		".recording.counters.evictions == .runs[$2].counters.evictions" \
		".recording.counters.cpu_faults == .runs[$2].counters.cpu_faults" \
		".runs[$2].match == true"
}

policy_state() {
	grep '^attached' /sys/kernel/debug/svmx/policy
}

# --- MIN, by hand ---------------------------------------------------------
run "$build/tools/svmxctl_belady_test"
check "Belady's MIN matches hand-computed counts (svmxctl_belady_test)" \
	'[ $rc = 0 ] && grep -q "^# PASSED: 4 / 4" "$tmp/out"'

# --- record and replay: scan over 1.5x device memory ----------------------
run "$svmxctl" record "$rec/scan.rec" -- "$bench" workload scan --ws 1.5 --seed 1
check "record scan --ws 1.5: exit 0, one recording, nothing else" \
	'[ $rc = 0 ] && [ "$(ls "$rec")" = scan.rec ] && grep -q "^svmxctl: recorded " "$tmp/err"'
run "$svmxctl" replay "$rec/scan.rec" --json
cp "$tmp/out" "$tmp/scan.json"
check "replay scan: faults, migrations, evictions, CPU faults as recorded" \
	'[ $rc = 0 ] && same_counters "$tmp/scan.json" 0 &&
	 jq_eq "$tmp/scan.json" ".recording.counters.evictions > 0" ".recording.operations > 0"'
run "$svmxctl" replay "$rec/scan.rec" --policy builtin --policy "$build/bpf/mru.bpf.o" --opt --json
cp "$tmp/out" "$tmp/two.json"
check "replay scan under builtin and mru: builtin as recorded, mru evicts differently" \
	'[ $rc = 0 ] && same_counters "$tmp/two.json" 0 &&
	 jq_eq "$tmp/two.json" ".runs[1].policy == \"mru\"" ".runs[1].match == null" \
		".runs[0].counters.evictions != .runs[1].counters.evictions"'
check "replay scan --opt: MIN below both, ratios are evictions / MIN" \
	'jq_eq "$tmp/two.json" ".opt.evictions > 0" ".opt.capacity_bytes == 16777216" \
		"[.runs[] | .counters.evictions >= $(jq .opt.evictions "$tmp/two.json")] | all" \
		"[.runs[] | (.evictions_to_opt - .counters.evictions / $(jq .opt.evictions "$tmp/two.json")) | fabs < 1e-9] | all"'
check "policy state after the replays: nothing attached" '[ "$(policy_state)" = "attached none" ]'

# --- svmxctl ab on a recording: both policies meet the same input ----------
run "$svmxctl" ab -q --a builtin --b "$build/bpf/mru.bpf.o" --runs 3 --metric evictions \
	--metric modeled_ns --replay "$rec/scan.rec" --json
cp "$tmp/out" "$tmp/ab.json"
check "ab --replay scan: the same evictions in every builtin run, mru fewer: B better" \
	'[ $rc = 0 ] &&
	 [ "$(jq -r ".metrics[] | select(.name | test(\"evictions\$\")) | .verdict" "$tmp/ab.json")" = "B better" ] &&
	 jq_eq "$tmp/ab.json" ".metrics[] | select(.name | test(\"evictions\$\")) | (.a.values | unique | length) == 1" &&
	 [ "$(policy_state)" = "attached none" ]'
run "$svmxctl" ab -q --a builtin --b mru --replay "$rec/nosuch.rec"
check "ab --replay of a missing file: one line, nothing attached" \
	'[ $rc = 1 ] && one_line_error && [ "$(policy_state)" = "attached none" ]'
run "$svmxctl" ab -q --a builtin --b mru --replay "$rec/scan.rec" -- true
check "ab with --replay and a command: usage error" '[ $rc = 2 ] && one_line_error'
run "$svmxctl" ab -q --a builtin --b mru --split cgroup --replay "$rec/scan.rec"
check "ab --replay with the cgroup split: refused" '[ $rc = 2 ] && one_line_error'

# --- zipf, and pingpong for CPU touches --------------------------------------
run "$svmxctl" record "$rec/zipf.rec" -- "$bench" workload zipf --ws 1.5 --seed 3 --passes 2
run "$svmxctl" replay "$rec/zipf.rec" --json
cp "$tmp/out" "$tmp/zipf.json"
check "record and replay zipf --ws 1.5: counters as recorded" \
	'[ $rc = 0 ] && same_counters "$tmp/zipf.json" 0 && jq_eq "$tmp/zipf.json" ".recording.counters.evictions > 0"'
run "$svmxctl" record "$rec/pp.rec" -- "$bench" workload pingpong --ws 0.5 --seed 1 --passes 3
run "$svmxctl" replay "$rec/pp.rec" --json
cp "$tmp/out" "$tmp/pp.json"
check "record and replay pingpong: CPU touches recorded, counters as recorded" \
	'[ $rc = 0 ] && same_counters "$tmp/pp.json" 0 &&
	 jq_eq "$tmp/pp.json" ".recording.cpu_touches > 0" ".recording.counters.pingpong > 0" \
		".recording.counters.pingpong == .runs[0].counters.pingpong"'

# --- the second device; events of other devices are not recorded ------------
run "$svmxctl" record "$rec/dev1.rec" --device 1 -- "$bench" workload scan --device 1 --ws 0.5 --passes 2
run "$svmxctl" replay "$rec/dev1.rec" --json
cp "$tmp/out" "$tmp/dev1.json"
check "record --device 1, replay on the recorded device: counters as recorded" \
	'[ $rc = 0 ] && same_counters "$tmp/dev1.json" 0 &&
	 jq_eq "$tmp/dev1.json" ".device == 1" ".recording.device == 1" ".recording.operations == 2"'
run "$svmxctl" record "$rec/other.rec" --device 0 -- "$bench" workload scan --device 1 --ws 0.5 --passes 1
run "$svmxctl" replay "$rec/other.rec" --json
check "work on another device is not recorded" \
	'[ $rc = 0 ] && jq_eq "$tmp/out" ".recording.operations == 0" ".recording.mappings == 0" \
		".runs[0].counters.faults == 0"'

# --- prefetches and advice; shared memory and file mappings -------------------
run "$svmxctl" record "$rec/hints.rec" -- "$build/tools/svmxctl_hints_test"
run "$svmxctl" replay "$rec/hints.rec" --json
cp "$tmp/out" "$tmp/hints.json"
check "record and replay MIGRATE/ADVISE calls, shmem and file mappings: counters as recorded" \
	'[ $rc = 0 ] && same_counters "$tmp/hints.json" 0 &&
	 jq_eq "$tmp/hints.json" ".recording.requests == 3" ".recording.mappings >= 3" \
		".recording.counters.pages_to_device > 0"'

# --- --opt on hand-made traces ----------------------------------------------
# Three chunks A B C, three times, with room for two: MIN evicts 4 times
# (C evicts B, B evicts A, A evicts C, C evicts either).  On the 16 MiB
# device nothing is evicted: 3 faults of 2 MiB each, recorded as such.
base=0x7e0000000000
{
	echo "policy builtin"
	echo "counter faults 3"
	echo "counter pages_to_device 1536"
	echo "map $base $((base + 6 * 1048576)) rw anon nohuge"
	for i in 1 2 3; do
		for c in 0 1 2; do echo "atomic $((base + c * 2097152)) 1 8"; done
	done
} | "$mkrec" "$rec/abc.rec"
run "$svmxctl" replay "$rec/abc.rec" --opt --capacity 4M
check "--opt --capacity 4M on A B C x3: 4 evictions; replay as hand-computed" \
	'[ $rc = 0 ] && grep -q "^opt: Belady MIN, 2 MiB chunks, capacity 4 MiB: 4 evictions$" "$tmp/out" &&
	 grep -Eq "^builtin +3 +1536 +0 +0 +0 .* match +0.00$" "$tmp/out"'

# Ten chunks scanned twice on the 8-chunk device: MIN keeps 0..6, evicts
# 7 for 8 and 8 for 9 (8 comes back last), then 2 chunks never used again
# for 7 and 8: 4 evictions.  Each scan is one ATOMIC_ADD whose ten faults
# come in one batch, so the device evicts within the batch too (22).
{
	echo "policy handmade"
	echo "map $base $((base + 20 * 1048576)) rw anon nohuge"
	for p in 1 2; do
		echo "atomic $((base + 8)) 10 2097152"
	done
} | "$mkrec" "$rec/scan10.rec"
run "$svmxctl" replay "$rec/scan10.rec" --opt --json
cp "$tmp/out" "$tmp/scan10.json"
check "--opt on ten chunks scanned twice in eight: 4 evictions, ratio evictions / 4" \
	'[ $rc = 0 ] && jq_eq "$tmp/scan10.json" ".opt.evictions == 4" ".runs[0].match == null" \
		"(.runs[0].evictions_to_opt - .runs[0].counters.evictions / 4 | fabs) < 1e-9" \
		".runs[0].counters.evictions >= 4"'

# --- golden: the report's text ------------------------------------------------
# Volatile numbers (the modeled time, which follows the cost model's
# parameters) become N; the file name becomes FILE.
run "$svmxctl" replay "$rec/scan10.rec" --policy builtin --opt
sed -e "s#$rec/scan10.rec#FILE#" -e 's/ [0-9]*\.[0-9][0-9][0-9]  / N  /' "$tmp/out" >"$tmp/report.txt"
if [ "${SVMX_GOLDEN_UPDATE:-}" = 1 ]; then
	cp "$tmp/report.txt" "$golden/replay-opt.txt"
fi
check "replay --opt report matches golden/replay-opt.txt" \
	'[ $rc = 0 ] && diff -u "$golden/replay-opt.txt" "$tmp/report.txt" >"$tmp/err"'

# --- bad input: one line, non-zero exit, nothing left behind -------------------
bad=$tmp/bad
mkdir -p "$bad"
run "$svmxctl" replay "$bad/missing.rec"
check "replay of a missing file: one line, exit 1" '[ $rc = 1 ] && one_line_error'
head -c 700 "$rec/scan.rec" >"$bad/trunc.rec"
run "$svmxctl" replay "$bad/trunc.rec"
check "truncated recording refused: one line saying so" \
	'[ $rc = 1 ] && one_line_error && grep -q truncated "$tmp/err"'
head -c 100 "$rec/scan.rec" >"$bad/short.rec"
run "$svmxctl" replay "$bad/short.rec"
check "recording cut inside the header refused" \
	'[ $rc = 1 ] && one_line_error && grep -q truncated "$tmp/err"'
cp "$rec/scan.rec" "$bad/magic.rec"
printf 'X' | dd of="$bad/magic.rec" bs=1 seek=0 conv=notrunc 2>/dev/null
run "$svmxctl" replay "$bad/magic.rec"
check "bad magic refused" '[ $rc = 1 ] && one_line_error && grep -q "bad magic" "$tmp/err"'
cp "$rec/scan.rec" "$bad/version.rec"
printf '\002' | dd of="$bad/version.rec" bs=1 seek=8 conv=notrunc 2>/dev/null
run "$svmxctl" replay "$bad/version.rec"
check "unknown format version refused" \
	'[ $rc = 1 ] && one_line_error && grep -q "version 2 not supported" "$tmp/err"'
cp "$rec/scan.rec" "$bad/crc.rec"
printf '\377' | dd of="$bad/crc.rec" bs=1 seek=530 conv=notrunc 2>/dev/null
run "$svmxctl" replay "$bad/crc.rec"
check "corrupt record refused (checksum)" \
	'[ $rc = 1 ] && one_line_error && grep -q "checksum" "$tmp/err"'
cp "$rec/scan.rec" "$bad/trail.rec"
echo x >>"$bad/trail.rec"
run "$svmxctl" replay "$bad/trail.rec"
check "trailing bytes refused" '[ $rc = 1 ] && one_line_error'
for cap in 3M 0 abc 2Q -2M; do
	run "$svmxctl" replay "$rec/scan.rec" --opt --capacity "$cap"
	check "--capacity $cap refused: one line, exit 2" '[ $rc = 2 ] && one_line_error'
done
run "$svmxctl" replay "$rec/scan.rec" --capacity 4M
check "--capacity without --opt refused" '[ $rc = 2 ] && one_line_error'
cat /sys/kernel/debug/svmx/svmx0/stats >"$tmp/stats0"
run "$svmxctl" replay "$rec/scan.rec" --policy builtin --policy nosuchpolicy
cat /sys/kernel/debug/svmx/svmx0/stats >"$tmp/stats1"
check "unknown policy refused before any run: counters unchanged, nothing attached" \
	'[ $rc = 1 ] && one_line_error && grep -q nosuchpolicy "$tmp/err" &&
	 cmp -s "$tmp/stats0" "$tmp/stats1" && [ "$(policy_state)" = "attached none" ]'
run "$svmxctl" replay "$rec/scan.rec" --policy "$rec/scan.rec"
check "a file that is no policy refused" '[ $rc = 1 ] && one_line_error'
run "$svmxctl" replay "$rec/scan.rec" --device 7
check "replay on a missing device refused" '[ $rc = 1 ] && one_line_error'
# Without address-space randomisation svmxctl (a PIE) sits at
# 0x555555554000: a recording that maps there cannot be replayed.
printf 'map 0x555555554000 0x555555556000 rw anon\natomic 0x555555554000 1 8\n' |
	"$mkrec" "$bad/taken.rec"
cat /sys/kernel/debug/svmx/svmx0/stats >"$tmp/stats0"
run setarch "$(uname -m)" -R "$svmxctl" replay "$bad/taken.rec" --policy "$build/bpf/mru.bpf.o"
cat /sys/kernel/debug/svmx/svmx0/stats >"$tmp/stats1"
check "an address taken in the replaying process: one line, policy detached, no device work" \
	'[ $rc = 1 ] && one_line_error && grep -q "0x555555554000-0x555555556000 is taken" "$tmp/err" &&
	 [ "$(policy_state)" = "attached none" ] && cmp -s "$tmp/stats0" "$tmp/stats1"'
rm -f "$bad/taken.rec"
run "$svmxctl" record "$bad/out.rec" -- false
check "record of a failing command: one line, exit 1, no file" \
	'[ $rc = 1 ] && one_line_error && [ -z "$(ls "$bad" | grep out.rec)" ]'
run "$svmxctl" record "$bad/out.rec" -- "$bench" workload scan --ws 0.5 --corrupt-page 3
check "record of a workload that fails its check: exit 1, no file" \
	'[ $rc = 1 ] && [ -z "$(ls "$bad" | grep out.rec)" ] && [ "$(grep -c "^svmxctl: " "$tmp/err")" = 1 ]'
run "$svmxctl" record "$bad/out.rec" -- /nonexistent/cmd
check "record of a command that cannot run: one line, no file" \
	'[ $rc = 1 ] && one_line_error && [ -z "$(ls "$bad" | grep out.rec)" ]'
run "$svmxctl" record "$bad/out.rec"
check "record without a command: usage error" '[ $rc = 2 ] && one_line_error'
run "$svmxctl" record "$bad/out.rec" --device 99 -- true
check "record --device 99: usage error" '[ $rc = 2 ] && one_line_error'
run "$svmxctl" record /proc/out.rec -- true
check "record into an unwritable place: one line" '[ $rc = 1 ] && one_line_error'
run "$svmxctl" record "$bad" -- true
check "record onto a directory: one line, the directory untouched" \
	'[ $rc = 1 ] && one_line_error && [ -d "$bad" ] && [ -z "$(ls "$tmp" | grep "bad\.tmp")" ]'
chmod 755 "$tmp"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" record "$bad/out.rec" -- true
check "record as non-root refused, no file" \
	'[ $rc = 1 ] && one_line_error && grep -q root "$tmp/err" && [ -z "$(ls "$bad" | grep out.rec)" ]'
chmod 644 "$rec/scan.rec"
chmod 755 "$rec"
run setpriv --reuid=65534 --regid=65534 --clear-groups "$svmxctl" replay "$rec/scan.rec"
check "replay as non-root refused" '[ $rc = 1 ] && one_line_error && grep -q root "$tmp/err"'
check "no temporary files left next to the recordings" \
	'[ -z "$(ls -A "$rec" "$bad" | grep "\.tmp\.")" ]'
finish
