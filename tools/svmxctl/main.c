// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl - the operator's agent of svmx: load and swap migration
 * policies, watch them, record and replay workloads, run A/B experiments
 * and tune knobs.
 *
 *   svmxctl [-v] SUBCOMMAND [ARGS]...
 *
 * Each subcommand lives in its own file and has its own -h.
 */
#include <stdio.h>
#include <string.h>

#include "svmxctl.h"

#ifndef SVMX_VERSION
#define SVMX_VERSION "unknown"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct ctl_cmd cmds[] = {
	{ "policy", cmd_policy, "load, swap, list, inspect, tune and detach policies" },
	{ "stats", cmd_stats, "count faults, migrations, evictions per device, policy, cgroup" },
	{ "top", cmd_top, "live view of faults, migrations, evictions, latency" },
	{ "export", cmd_export, "write the stats for Prometheus' node-exporter textfile collector" },
	{ "ab", cmd_ab, "A/B experiment of two policies on a command, with a verdict" },
	{ "tune", cmd_tune, "search a policy's knobs for the best value of a metric" },
	{ "record", cmd_record, "record a command's device work into a file" },
	{ "replay", cmd_replay, "replay a recording under policies, with the optimal bound" },
	{ "help", cmd_help, "list the subcommands" },
	{ "version", cmd_version, "print svmxctl's version" },
};

#define NR_CMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: svmxctl [-v] SUBCOMMAND [ARGS]...\n"
		"  -v  libbpf's warnings and the verifier log (-vv: libbpf's debug log)\n\n"
		"Subcommands (svmxctl SUBCOMMAND -h for each):\n");
	for (i = 0; i < NR_CMDS; i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
}

static int cmd_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage: svmxctl version\n");
		return 0;
	}
	if (argc > 1)
		return ctl_usage_err("version", "unexpected argument '%s'", argv[1]);
	printf("svmxctl %s\n", SVMX_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	int arg = 1;
	size_t i;

	while (arg < argc && argv[arg][0] == '-') {
		if (!strcmp(argv[arg], "-h") || !strcmp(argv[arg], "--help")) {
			usage(stdout);
			return 0;
		}
		if (strspn(argv[arg] + 1, "v") != strlen(argv[arg] + 1) || !argv[arg][1]) {
			fprintf(stderr, "svmxctl: unknown option '%s' (svmxctl -h for usage)\n",
				argv[arg]);
			return EXIT_USAGE;
		}
		ctl_verbose += strlen(argv[arg]) - 1;
		arg++;
	}
	if (arg == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ctl_libbpf_quiet();
	for (i = 0; i < NR_CMDS; i++)
		if (!strcmp(argv[arg], cmds[i].name))
			return cmds[i].main(argc - arg, argv + arg);
	fprintf(stderr, "svmxctl: unknown subcommand '%s' (svmxctl help lists them)\n",
		argv[arg]);
	return EXIT_USAGE;
}
