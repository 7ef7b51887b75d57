// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-bench: benchmarks and workloads of svmx, one subcommand per file.
 *
 *   svmx-bench [migrate] [options]     migration throughput (migrate.c)
 *   svmx-bench workload NAME [options] device workloads (workload.c)
 *   svmx-bench report [options] FILE   Markdown tables of workload runs
 */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: svmx-bench [migrate] [options]       migration throughput vs test_hmm\n"
"       svmx-bench workload NAME [options]   a device workload (-h lists them)\n"
"       svmx-bench report [options] FILE...  tables of --json workload runs\n"
"Each subcommand's -h tells its options.\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "workload"))
		return workload_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return report_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "migrate"))
		return migrate_main(argc - 1, argv + 1);
	/* No subcommand: the throughput benchmark, as before subcommands. */
	if (!*cmd || *cmd == '-')
		return migrate_main(argc, argv);
	fprintf(stderr, "svmx-bench: unknown subcommand '%s'\n", cmd);
	usage(stderr);
	return 2;
}
