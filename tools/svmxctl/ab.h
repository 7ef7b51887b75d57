/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What svmxctl ab (ab.c) shares with svmxctl tune (tune.c): the metrics,
 * the arms of an experiment, running the command under one policy, and
 * the A/B experiment with its reports.
 */
#ifndef SVMXCTL_AB_H
#define SVMXCTL_AB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "abstat.h"

#define AB_MAX_METRICS		16
#define AB_MAX_GUARDS		8
#define AB_MAX_KNOBS		16

/* Exit status when a guardrail stopped the experiment. */
#define AB_EXIT_GUARD		3

/* Where a metric's value comes from. */
enum ab_src {
	AB_SRC_AUTO,	/* the command's JSON, else the kernel, else the run */
	AB_SRC_CMD,	/* the JSON object the command printed */
	AB_SRC_KERNEL,	/* svmx's debugfs counters over the run */
	AB_SRC_RUN,	/* what ab measures of the process (wall, rusage) */
};

/**
 * struct ab_metric - one metric asked for.
 * @idx: its index in the table of known metrics.
 * @src: where its value is taken from (AUTO resolved at the first run).
 * @spec: as given on the command line.
 */
struct ab_metric {
	int idx;
	enum ab_src src;
	char spec[64];
};

/**
 * struct ab_guard - a guardrail on the candidate's runs.
 * @m: the metric.
 * @le: true for METRIC<=BOUND, false for METRIC>=BOUND.
 * @bound: the bound.
 * @spec: as given.
 */
struct ab_guard {
	struct ab_metric m;
	bool le;
	double bound;
	char spec[96];
};

/**
 * struct ab_arm - one side of the experiment.
 * @spec: "builtin" or a policy name or path.
 * @builtin: no BPF policy: the built-in default.
 * @name: the policy's name (struct svmx_ops::name) or "builtin".
 * @path: its object file ("" for builtin).
 * @knobs: load-time knobs set on it, "NAME=VALUE".
 * @nr_knobs: how many.
 */
struct ab_arm {
	const char *spec;
	bool builtin;
	char name[64];
	char path[4096];
	char knobs[AB_MAX_KNOBS][96];
	int nr_knobs;
};

/**
 * struct ab_sample - what one run gave.
 * @pair: the pair (round) it belongs to.
 * @arm: 0 A, 1 B.
 * @seq: its place in the sequence of runs.
 * @cmd: the values of the command's JSON, by metric index.
 * @has_cmd: which of @cmd the command printed.
 * @kernel: svmx counters over the run, by metric index.
 * @has_kernel: which of @kernel exist.
 * @run: wall time and the process's CPU time, by metric index.
 * @has_run: which of @run exist.
 */
struct ab_sample {
	int pair, arm, seq;
	double cmd[64], kernel[64], run[64];
	bool has_cmd[64], has_kernel[64], has_run[64];
};

/**
 * struct ab_live - the occupied global slot of an alternate experiment.
 * @on: the global scope holds a policy svmxctl pinned: the arms are
 *	swapped in through its link, the original is swapped back at the end.
 * @link_fd: the pinned link of the global slot.
 * @orig_fd: the original policy's struct_ops map, held to swap it back.
 * @cur_fd: the map of the arm in the link now, -1 while the original is.
 * @name: the original policy's name.
 */
struct ab_live {
	bool on;
	int link_fd;
	int orig_fd;
	int cur_fd;
	char name[64];
};

enum ab_split {
	AB_SPLIT_ALTERNATE,
	AB_SPLIT_CGROUP,
};

/**
 * struct ab_exp - an experiment: what is asked, and what it gave.
 * @arms: A and B.
 * @runs: pairs (rounds); each runs A once and B once.
 * @split: alternate runs in the global scope, or two cgroups at once.
 * @metrics: the metrics compared.
 * @nr_metrics: how many.
 * @guards: the guardrails on B.
 * @nr_guards: how many.
 * @seed: of the order of the runs, of the resampling and of {seed}.
 * @confidence: of the intervals.
 * @resamples: bootstrap resamples.
 * @cmd: the command (argv, NULL-terminated).
 * @quiet: no progress lines on stderr.
 * @samples: the runs done.
 * @nr_samples: how many.
 * @stopped_by: the guard that stopped it, -1 when none did.
 * @stop_sample: the run that crossed it.
 * @stop_value: its value.
 * @live: the occupied global slot the arms are swapped through, if so.
 * @scope_before: the attached policy of the experiment's scope before
 *	("none", or the original policy of @live).
 * @scope_after: the same after the experiment, read back.
 * @cg: the cgroup split's two cgroups (paths).
 * @cg_id: their ids.
 */
struct ab_exp {
	struct ab_arm arms[2];
	unsigned int runs;
	enum ab_split split;
	struct ab_metric metrics[AB_MAX_METRICS];
	int nr_metrics;
	struct ab_guard guards[AB_MAX_GUARDS];
	int nr_guards;
	uint64_t seed;
	double confidence;
	unsigned int resamples;
	char **cmd;
	bool quiet;

	struct ab_sample *samples;
	int nr_samples;
	int stopped_by;
	int stop_sample;
	double stop_value;
	struct ab_live live;
	char scope_before[64], scope_after[64];
	char cg[2][256];
	uint64_t cg_id[2];
};

int ab_metric_parse(const char *spec, struct ab_metric *m);
const char *ab_metric_name(const struct ab_metric *m);
bool ab_metric_lower_better(const struct ab_metric *m);
int ab_value(const struct ab_metric *m, const struct ab_sample *s, double *v);
int ab_arm_check(struct ab_arm *arm);
int ab_check_command(char **cmd);
int ab_replay_command(const char *file, char ***cmd);
int ab_check_scope(const struct ab_exp *e);
int ab_live_begin(struct ab_exp *e);
int ab_live_restore(struct ab_exp *e);
void ab_live_end(struct ab_exp *e);
int ab_run_one(struct ab_exp *e, int arm, int pair, struct ab_sample *s);
int ab_run_experiment(struct ab_exp *e);
void ab_exp_free(struct ab_exp *e);
int ab_values(const struct ab_exp *e, const struct ab_metric *m, int arm,
	      double **vals, size_t *n);
struct json_object *ab_report_json(const struct ab_exp *e);
int ab_report_text(const struct ab_exp *e, FILE *f);
int ab_report_markdown(const struct ab_exp *e, FILE *f);
int ab_plot_check(const char *out, char *script, size_t size);
int ab_plot(const struct ab_exp *e, const char *script, const char *out);
bool ab_interrupted(void);
void ab_signals(void);

#endif /* SVMXCTL_AB_H */
