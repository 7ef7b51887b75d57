#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Checks of svmxctl export's output with the Prometheus text parser of
prometheus_client (Debian's python3-prometheus-client), for export.t.

  promcheck.py parse FILE             parse it; exit 1 when it does not parse
  promcheck.py values FILE STATS.JSON its values against `svmxctl stats --json`
                                      (by device) of the same events
  promcheck.py reader FILE N          read FILE over and over until N versions
                                      (writes) were seen: each must be complete
"""
import json
import math
import os
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

LAST_FAMILY = "# TYPE svmx_cgroup_fault_service_seconds histogram\n"
KINDS = ("device", "policy", "cgroup")


def samples(text):
    """{(name, sorted labels): value} of every sample."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def complete(text):
    """Whether @text is a whole exposition (the last family is there)."""
    return text.endswith("\n") and LAST_FAMILY in text


def write_number(text):
    m = re.match(r"# svmxctl export: write (\d+)", text)
    return int(m.group(1)) if m else -1


def check_histograms(got, errors):
    """Buckets cumulative, +Inf == _count, for every series."""
    series = {}
    for (name, labels), v in got.items():
        if name.endswith("_bucket"):
            key = (name[:-7], tuple(l for l in labels if l[0] != "le"))
            le = dict(labels)["le"]
            series.setdefault(key, []).append((float(le), v))
    for (base, labels), buckets in series.items():
        buckets.sort()
        counts = [v for _, v in buckets]
        if counts != sorted(counts):
            errors.append(f"{base}{labels}: buckets not cumulative")
        if buckets[-1][0] != math.inf:
            errors.append(f"{base}{labels}: no +Inf bucket")
        if got.get((base + "_count", labels)) != counts[-1]:
            errors.append(f"{base}{labels}: _count != +Inf bucket")
    return len(series)


def values(path, stats_path):
    text = open(path).read()
    got = samples(text)
    stats = json.load(open(stats_path))[0]
    errors = []
    fields = {
        "faults_total": ("faults", None),
        "remote_faults_total": ("remote", None),
        "cpu_faults_total": ("cpu_faults", None),
        "migrated_pages_total": [("pages_to_device", ("direction", "to_device")),
                                 ("pages_to_system", ("direction", "to_system"))],
        "migrated_bytes_total": [("bytes_to_device", ("direction", "to_device")),
                                 ("bytes_to_system", ("direction", "to_system"))],
        "copy_commands_total": ("copy_cmds", None),
        "evictions_total": ("evictions", None),
        "evicted_pages_total": ("evicted_pages", None),
        "eviction_failures_total": ("evictions_failed", None),
        "pingpong_total": ("pingpong", None),
        "policy_decisions_total": ("decisions", None),
    }
    checked = 0
    for row in stats["rows"]:
        dev = "svmx%d" % row["device"]
        tot = row["totals"]
        for metric, spec in fields.items():
            for key, extra in (spec if isinstance(spec, list) else [spec]):
                labels = [("device", dev)] + ([extra] if extra else [])
                name = "svmx_device_" + metric
                v = got.get((name, tuple(sorted(labels))))
                if v != tot[key]:
                    errors.append(f"{name}{labels} = {v}, stats says {tot[key]}")
                checked += 1
                # the policy and cgroup families add up to the same totals
        hl = (("device", dev),)
        if got.get(("svmx_device_fault_service_seconds_count", hl)) != tot["faults"]:
            errors.append(f"{dev}: histogram _count != faults {tot['faults']}")
        s = got.get(("svmx_device_fault_service_seconds_sum", hl))
        if s is None or abs(s - tot["service_ns"] / 1e9) > 1e-6:
            errors.append(f"{dev}: histogram _sum {s} != {tot['service_ns'] / 1e9}")
    for metric in ("faults_total", "migrated_pages_total", "evictions_total", "pingpong_total"):
        sums = [sum(v for (n, _), v in got.items() if n == f"svmx_{k}_{metric}") for k in KINDS]
        if len(set(sums)) != 1:
            errors.append(f"{metric}: device/policy/cgroup sums differ: {sums}")
    n = check_histograms(got, errors)
    if checked == 0 or n == 0 or sum(r["totals"]["faults"] for r in stats["rows"]) == 0:
        errors.append("nothing was checked")
    for e in errors:
        print(e)
    print(f"checked={checked} histograms={n} errors={len(errors)}")
    return 1 if errors else 0


def reader(path, versions):
    reads = 0
    writes = set()
    while len(writes) < versions:
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            continue
        reads += 1
        if not complete(text):
            print(f"read {reads}: incomplete file ({len(text)} bytes)")
            return 1
        list(text_string_to_metric_families(text))
        n = write_number(text)
        if n < 0:
            print(f"read {reads}: no write number")
            return 1
        writes.add(n)
    print(f"reads={reads} versions={len(writes)}")
    return 0


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "parse":
        list(text_string_to_metric_families(open(sys.argv[2]).read()))
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "values":
        return values(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 4 and sys.argv[1] == "reader":
        return reader(sys.argv[2], int(sys.argv[3]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
