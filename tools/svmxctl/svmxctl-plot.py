#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
#
# The plot of `svmxctl ab --plot FILE`: for each metric, a box plot of
# A's and B's runs with every run drawn over it as a point, the medians
# and the verdict in the title.  Reads the JSON report svmxctl ab writes
# (the same as --json); the format follows FILE's suffix (.svg or .png).
# Needs python3-matplotlib (Debian).
#
#   svmxctl-plot.py REPORT.json FILE.svg|FILE.png
#   svmxctl-plot.py --check      (exit 0 when matplotlib can be imported)
import json
import sys


def main(argv):
    if len(argv) == 2 and argv[1] == "--check":
        import matplotlib  # noqa: F401
        return 0
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print("usage: svmxctl-plot.py REPORT.json FILE.svg|FILE.png", file=sys.stderr)
        return 2
    out = argv[2]
    if not (out.endswith(".svg") or out.endswith(".png")):
        print("svmxctl-plot.py: %s: want a .svg or .png file" % out, file=sys.stderr)
        return 2
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(argv[1]) as f:
        report = json.load(f)
    metrics = report["metrics"]
    labels = ["A: " + report["a"]["name"], "B: " + report["b"]["name"]]
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.2 * len(metrics), 4.4),
                             squeeze=False)
    for ax, m in zip(axes[0], metrics):
        data = [m["a"]["values"], m["b"]["values"]]
        ax.boxplot([d if d else [float("nan")] for d in data], labels=labels,
                   widths=0.5, showfliers=False, medianprops={"color": "black"})
        for i, d in enumerate(data):
            # Runs spread a little sideways so that equal values stay visible.
            xs = [i + 1 + 0.12 * ((k % 5) - 2) / 2 for k in range(len(d))]
            ax.scatter(xs, d, s=18, alpha=0.7, color=("tab:blue", "tab:orange")[i],
                       zorder=3)
        better = "lower" if m["lower_is_better"] else "higher"
        ratio = (m.get("ratio") or {}).get("estimate")
        title = "%s (%s is better)\n%s" % (m["name"], better, m["verdict"])
        if ratio is not None:
            title += ", B/A %.3fx" % ratio
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(m["description"])
        ax.grid(axis="y", alpha=0.3)
        # From 0 for counts and times: a cut axis would magnify differences.
        if all(v >= 0 for d in data for v in d):
            ax.set_ylim(bottom=0)
    stopped = report.get("stopped")
    sup = "svmxctl ab: %s vs %s, %s split, %d pairs asked, %d runs" % (
        report["a"]["name"], report["b"]["name"], report["split"], report["pairs"],
        len(report["runs"]))
    if stopped:
        sup += "\nstopped by guard %s at run %d" % (stopped["guard"], stopped["run"])
    fig.suptitle(sup, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, format=out.rsplit(".", 1)[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
