#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# svmxctl's command line: help lists every subcommand, every subcommand
# answers -h on stdout with status 0, unknown subcommands and options are
# refused with one line and status 2.  Prints TAP.
#
#   tests/svmxctl/basics.t BUILD
. "$(dirname "$0")/tap.sh"

run "$svmxctl" help
check "help exits 0 and lists subcommands" '[ $rc = 0 ] && grep -q "^  version " "$tmp/out"'
cmds=$(sed -n 's/^  \([a-z]*\) .*/\1/p' "$tmp/out")

for c in $(echo "$cmds" | grep -vx help); do
	run "$svmxctl" "$c" -h
	check "$c -h: usage on stdout, status 0" \
		'[ $rc = 0 ] && grep -q "^Usage: svmxctl $c" "$tmp/out" && [ ! -s "$tmp/err" ]'
done

run "$svmxctl"
check "no subcommand: usage on stderr, status 2" '[ $rc = 2 ] && grep -q "^Usage:" "$tmp/err"'
run "$svmxctl" frobnicate
check "unknown subcommand: one line, status 2" '[ $rc = 2 ] && one_line_error'
run "$svmxctl" --frobnicate
check "unknown option: one line, status 2" '[ $rc = 2 ] && one_line_error'
run "$svmxctl" version extra
check "version with an argument: one line, status 2" '[ $rc = 2 ] && one_line_error'
run "$svmxctl" version
check "version prints one line" '[ $rc = 0 ] && grep -q "^svmxctl " "$tmp/out"'
finish
