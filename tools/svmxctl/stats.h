/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watching group of svmxctl (stats.c, top.c, export.c): the counters
 * of bpf/svmxctl/stats.bpf.c, read into snapshots, compared, printed.
 */
#ifndef SVMXCTL_STATS_H
#define SVMXCTL_STATS_H

#include <linux/types.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bpf/svmxctl/ctl_stats.h"

struct ctl_stats;
struct json_object;

/* How the rows are keyed: --by device|policy|cgroup. */
enum ctl_by {
	CTL_BY_DEVICE,
	CTL_BY_POLICY,
	CTL_BY_CGROUP,
	CTL_BY_NR,
};

extern const char *const ctl_by_names[CTL_BY_NR];

/**
 * struct ctl_stats_entry - one row of a snapshot.
 * @name: "svmx0", the policy's name ("" for none), the cgroup's path
 *	under /sys/fs/cgroup ("/" for the root; its id when it is gone)
 * @id: device index, or cgroup id (0 for policies)
 * @row: the counters summed over the CPUs
 */
struct ctl_stats_entry {
	char name[4096];
	uint64_t id;
	struct ctl_stats_row row;
};

/**
 * struct ctl_stats_snap - every counter at one moment.
 * @t: CLOCK_MONOTONIC time of the read, in seconds
 * @e: rows per enum ctl_by, sorted by id (devices, cgroups) or name
 * @n: number of rows per enum ctl_by
 */
struct ctl_stats_snap {
	double t;
	struct ctl_stats_entry *e[CTL_BY_NR];
	size_t n[CTL_BY_NR];
};

int ctl_stats_start(struct ctl_stats **skel);
void ctl_stats_stop(struct ctl_stats *skel);
int ctl_stats_read(struct ctl_stats *skel, struct ctl_stats_snap *s);
void ctl_stats_free(struct ctl_stats_snap *s);
int ctl_stats_diff(const struct ctl_stats_snap *cur, const struct ctl_stats_snap *prev,
		   struct ctl_stats_snap *diff);
const char *ctl_stats_label(enum ctl_by by, const struct ctl_stats_entry *e);
double ctl_stats_quantile(const struct ctl_stats_row *r, double q);
uint64_t ctl_stats_bucket_le_ns(unsigned int b);
int ctl_parse_interval(const char *cmd, const char *arg, double *sec);
int ctl_sleep(double sec);
void ctl_stop_on_signals(void);
extern volatile sig_atomic_t ctl_stopping;
void ctl_stats_print_table(FILE *f, enum ctl_by by, const struct ctl_stats_snap *tot,
			   const struct ctl_stats_snap *d, const char *title);
struct json_object *ctl_stats_sample_json(uint64_t n, enum ctl_by by, double elapsed,
					  const struct ctl_stats_snap *tot,
					  const struct ctl_stats_snap *d);

#endif /* SVMXCTL_STATS_H */
