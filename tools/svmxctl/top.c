// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl top: a live view of svmx, in the style of htop and scxtop:
 * per device, per deciding policy and per cgroup, the totals since start
 * and the rates of the last interval (faults/s and their remote share,
 * CPU faults, pages and bytes each way, evictions, ping-pong, fault
 * latency quantiles), then the fault-service time histogram.
 *
 *   svmxctl top [--interval S] [--iterations N]
 *
 * On a terminal each frame redraws the screen (plain ANSI escapes);
 * otherwise frames follow one another, so that `top --iterations N`
 * into a file or pipe gives N frames.  ^C (or SIGTERM) ends it.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "svmxctl.h"
#include "stats.h"

#define ANSI_HOME_CLEAR	"\033[H\033[2J"
#define ANSI_BOLD	"\033[1m"
#define ANSI_RESET	"\033[0m"
#define HIST_BAR	40

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: svmxctl top [--interval S] [--iterations N]\n"
		"Live view of svmx per device, policy and cgroup: faults/s, remote share,\n"
		"CPU faults, pages and bytes each way, evictions, ping-pong, fault latency.\n"
		"  -i, --interval S    seconds between frames, 0.1..86400 (default 1)\n"
		"  -n, --iterations N  stop after N frames (default: until ^C)\n"
		"  -h, --help          this text\n");
}

static void fmt_ns(char *buf, size_t size, uint64_t ns)
{
	if (ns >= 1000000000ULL)
		snprintf(buf, size, "%.3gs", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, size, "%.3gms", ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, size, "%.3gus", ns / 1e3);
	else
		snprintf(buf, size, "%lluns", (unsigned long long)ns);
}

/* The fault-service histogram of every device together, this interval and in total. */
static void print_hist(FILE *f, const struct ctl_stats_snap *tot,
		       const struct ctl_stats_snap *d)
{
	uint64_t h[CTL_STATS_BUCKETS] = { 0 }, hd[CTL_STATS_BUCKETS] = { 0 }, max = 0;
	int b, lo = -1, hi = -1, bar;
	char le[32];
	size_t i;

	for (i = 0; i < tot->n[CTL_BY_DEVICE]; i++) {
		for (b = 0; b < CTL_STATS_BUCKETS; b++) {
			h[b] += tot->e[CTL_BY_DEVICE][i].row.hist[b];
			if (i < d->n[CTL_BY_DEVICE])
				hd[b] += d->e[CTL_BY_DEVICE][i].row.hist[b];
		}
	}
	for (b = 0; b < CTL_STATS_BUCKETS; b++) {
		if (!h[b])
			continue;
		if (lo < 0)
			lo = b;
		hi = b;
		if (h[b] > max)
			max = h[b];
	}
	fprintf(f, "\nFAULT SERVICE TIME (all devices)  %10s %10s\n", "INTERVAL", "TOTAL");
	if (lo < 0) {
		fprintf(f, "(no faults)\n");
		return;
	}
	for (b = lo; b <= hi; b++) {
		if (ctl_stats_bucket_le_ns(b)) {
			fmt_ns(le, sizeof(le), ctl_stats_bucket_le_ns(b));
			fprintf(f, "  <= %-8s", le);
		} else {
			fprintf(f, "  %-11s", "> 17.2s");
		}
		bar = (int)((h[b] * HIST_BAR + max - 1) / max);
		fprintf(f, "%20llu %10llu |%-*.*s|\n", (unsigned long long)hd[b],
			(unsigned long long)h[b], HIST_BAR, bar,
			"########################################");
	}
}

static void print_frame(FILE *f, bool tty, uint64_t n, uint64_t of,
			const struct ctl_stats_snap *tot, const struct ctl_stats_snap *d)
{
	char title[256], when[64];
	time_t now = time(NULL);
	int by;

	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (tty)
		fputs(ANSI_HOME_CLEAR, f);
	else if (n > 1)
		fputc('\n', f);
	fprintf(f, "%ssvmxctl top - %s  frame %llu", tty ? ANSI_BOLD : "", when,
		(unsigned long long)n);
	if (of)
		fprintf(f, " of %llu", (unsigned long long)of);
	fprintf(f, "  interval %.2f s  up %.2f s%s\n", d->t, tot->t, tty ? ANSI_RESET : "");
	for (by = 0; by < CTL_BY_NR; by++) {
		snprintf(title, sizeof(title), "\nBY %s (totals; /s: last interval)",
			 by == CTL_BY_DEVICE ? "DEVICE" : by == CTL_BY_POLICY ? "POLICY" : "CGROUP");
		ctl_stats_print_table(f, by, tot, d, title);
	}
	print_hist(f, tot, d);
	fflush(f);
}

static int top_loop(struct ctl_stats *skel, double interval, uint64_t iterations)
{
	struct ctl_stats_snap start, prev, cur, tot, d;
	bool tty = isatty(STDOUT_FILENO);
	uint64_t n;
	int err;

	err = ctl_stats_read(skel, &start);
	if (!err)
		err = ctl_stats_diff(&start, NULL, &prev);
	if (err) {
		ctl_stats_free(&start);
		return ctl_err("cannot read the counters: %s", strerror(-err));
	}
	for (n = 1; !iterations || n <= iterations; n++) {
		if (ctl_sleep(interval))
			break;
		err = ctl_stats_read(skel, &cur);
		if (!err)
			err = ctl_stats_diff(&cur, &start, &tot);
		if (!err)
			err = ctl_stats_diff(&cur, &prev, &d);
		if (err)
			break;
		print_frame(stdout, tty, n, iterations, &tot, &d);
		ctl_stats_free(&tot);
		ctl_stats_free(&d);
		ctl_stats_free(&prev);
		prev = cur;
	}
	ctl_stats_free(&prev);
	ctl_stats_free(&start);
	if (err)
		return ctl_err("cannot read the counters: %s", strerror(-err));
	return 0;
}

/**
 * cmd_top() - svmxctl top.
 * @argc: argument count, argv[0] == "top".
 * @argv: the arguments.
 *
 * Return: the exit status: 0, 1 on failure, 2 on bad usage.
 */
int cmd_top(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_stats *skel;
	uint64_t iterations = 0;
	double interval = 1;
	int opt, ret;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "i:n:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ret = ctl_parse_interval("top", optarg, &interval);
			if (ret)
				return ret;
			break;
		case 'n':
			if (ctl_parse_u64(optarg, &iterations) || !iterations)
				return ctl_usage_err("top", "bad iterations '%s': 1 or more",
						     optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ctl_usage_err("top", "bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl_usage_err("top", "unexpected argument '%s'", argv[optind]);
	if (ctl_need_root() || ctl_need_module())
		return 1;
	if (ctl_stats_start(&skel))
		return 1;
	ctl_stop_on_signals();
	ret = top_loop(skel, interval, iterations);
	ctl_stats_stop(skel);
	return ret;
}
