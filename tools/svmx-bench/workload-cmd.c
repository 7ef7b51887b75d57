// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-bench workload NAME: the command line.  It parses the options and
 * runs one workload (workload.c) or the two tenants (tenants.c), which
 * both stand below it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static void workload_usage(FILE *f)
{
	unsigned int i;

	fprintf(f,
"Usage: svmx-bench workload NAME [options]\n"
"Deterministic device work on /dev/svmxN over a working set sized as a ratio\n"
"of the device's memory; prints the binding's counters, the modeled device\n"
"time and the CPU time, then checks every page's data (exit 1 if wrong).\n"
"\n"
"Workloads:\n");
	for (i = 0; i < wl_nr_descs; i++)
		fprintf(f, "  %-9s %s\n", wl_descs[i].name, wl_descs[i].help);
	fprintf(f, "  %-9s %s\n", "tenants",
		"zipf and scan at once, each in a cgroup v2 group of its own");
	fprintf(f,
"\n"
"Options:\n"
"  -d, --device N      /dev/svmxN (default 0)\n"
"  -w, --ws RATIO      working set / device memory, %.2f..%.2f (default 1)\n"
"  -s, --seed N        seed of the access pattern (default 1)\n"
"  -p, --passes N      passes over the set, 1..10000 (default: the workload's)\n"
"  -k, --skew S        zipf exponent, 0.1..3 (default 0.99)\n"
"  -S, --stride PAGES  stride, phase: pages between accesses, 1..65536 (default 16)\n"
"  -H, --hot RATIO     phase: hot subset / device memory, 0.01..1 (default 0.5)\n"
"  -c, --cpu-every N   pingpong: the CPU touches 1 page in N, 1..65536 (default 16)\n"
"  -C, --cgroup-root D tenants: cgroup v2 mount (default /sys/fs/cgroup)\n"
"  -l, --label TEXT    copied into the output (the policy's name, say)\n"
"  -j, --json          one JSON object instead of the key=value line\n"
"      --corrupt-page N  test the check: the CPU changes page N's data after\n"
"                      the work (the run must then fail)\n"
"      --ext-clock FILE  report how far the counter in FILE (a line \"NS end\",\n"
"                      kept by someone else) advanced over the work, as\n"
"                      ext_cpu_ns (tools/bench: the VM's CPU time on the host)\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 run and data verified; 1 the run failed or the data is\n"
"wrong; 2 usage error.\n", WL_WS_MIN, WL_WS_MAX);
}

static int parse_dbl(const char *s, double min, double max, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	if (errno || end == s || *end || !(*v >= min && *v <= max))
		return -EINVAL;
	return 0;
}

static int parse_uint(const char *s, unsigned long long min,
		      unsigned long long max, unsigned long long *v)
{
	char *end;

	errno = 0;
	if (*s == '-')
		return -EINVAL;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

/* Return: 0, 1 for --help, or -EINVAL with a message on stderr. */
static int workload_parse(int argc, char **argv, struct wl_opts *o)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "ws", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "passes", required_argument, NULL, 'p' },
		{ "skew", required_argument, NULL, 'k' },
		{ "stride", required_argument, NULL, 'S' },
		{ "hot", required_argument, NULL, 'H' },
		{ "cpu-every", required_argument, NULL, 'c' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "label", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "corrupt-page", required_argument, NULL, 'X' },
		{ "ext-clock", required_argument, NULL, 'E' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned long long v;
	const char *bad = NULL;
	int c, idx;

	*o = (struct wl_opts){
		.ws = 1.0, .seed = 1, .skew = 0.99, .stride = 16, .hot = 0.5,
		.cpu_every = 16, .cgroup_root = "/sys/fs/cgroup",
		.corrupt_page = -1,
	};
	optind = 1;
	while (!bad && (c = getopt_long(argc, argv, "d:w:s:p:k:S:H:c:C:l:jh",
					lopts, &idx)) != -1) {
		switch (c) {
		case 'd':
			if (parse_uint(optarg, 0, 63, &v))
				bad = "--device wants 0..63";
			o->dev = v;
			break;
		case 'w':
			if (parse_dbl(optarg, WL_WS_MIN, WL_WS_MAX, &o->ws))
				bad = "--ws wants a ratio of device memory from 0.25 to 2";
			break;
		case 's':
			if (parse_uint(optarg, 0, UINT64_MAX, &v))
				bad = "--seed wants an unsigned 64-bit number";
			o->seed = v;
			break;
		case 'p':
			if (parse_uint(optarg, 1, 10000, &v))
				bad = "--passes wants 1..10000";
			o->passes = v;
			break;
		case 'k':
			if (parse_dbl(optarg, 0.1, 3, &o->skew))
				bad = "--skew wants 0.1..3";
			break;
		case 'S':
			if (parse_uint(optarg, 1, 65536, &v))
				bad = "--stride wants 1..65536 pages";
			o->stride = v;
			break;
		case 'H':
			if (parse_dbl(optarg, 0.01, 1, &o->hot))
				bad = "--hot wants a ratio of device memory from 0.01 to 1";
			break;
		case 'c':
			if (parse_uint(optarg, 1, 65536, &v))
				bad = "--cpu-every wants 1..65536";
			o->cpu_every = v;
			break;
		case 'C':
			o->cgroup_root = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'X':
			if (parse_uint(optarg, 0, 1ull << 40, &v))
				bad = "--corrupt-page wants a page number";
			o->corrupt_page = v;
			break;
		case 'E':
			o->ext_clock = optarg;
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;		/* getopt said what */
		}
	}
	if (!bad && optind >= argc)
		bad = "which workload? (svmx-bench workload -h lists them)";
	if (!bad) {
		o->name = argv[optind++];
		if (optind < argc)
			bad = "one workload at a time";
		else if (strcmp(o->name, "tenants") && !wl_find(o->name))
			bad = "unknown workload (svmx-bench workload -h lists them)";
	}
	if (bad) {
		fprintf(stderr, "svmx-bench workload: %s%s%s\n", bad,
			o->name ? ": " : "", o->name ? o->name : "");
		return -EINVAL;
	}
	return 0;
}

int workload_main(int argc, char **argv)
{
	struct wl_result res;
	struct wl_opts o;
	int ret;

	ret = workload_parse(argc, argv, &o);
	if (ret) {
		if (ret > 0)
			workload_usage(stdout);
		else
			fprintf(stderr, "usage: svmx-bench workload NAME [options] (-h: help)\n");
		return ret > 0 ? 0 : 2;
	}
	if (!strcmp(o.name, "tenants"))
		return tenants_run(&o) ? 1 : 0;
	ret = wl_run_one(&o, wl_find(o.name), o.ws, o.seed, &res);
	if (ret)
		return 1;
	wl_print(&o, o.name, &res, NULL);
	return 0;
}
