/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The statistics of svmxctl ab and tune (abstat.c), kept apart from the
 * rest of svmxctl so that a host test (tests/tools/abstat_test.c) can
 * check them on fixed samples.  docs/ab-statistics.md says what they
 * compute and what they assume.
 */
#ifndef SVMXCTL_ABSTAT_H
#define SVMXCTL_ABSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fewer runs than this in an arm: no verdict ("too few runs"). */
#define AB_MIN_RUNS		3

#define AB_RESAMPLES		10000
#define AB_CONFIDENCE		0.95

/* A seeded generator (splitmix64): the same seed, the same numbers. */
struct ab_rng {
	uint64_t s;
};

uint64_t ab_rng_next(struct ab_rng *r);
uint64_t ab_rng_below(struct ab_rng *r, uint64_t n);

enum ab_verdict {
	AB_NO_DIFFERENCE,
	AB_A_BETTER,
	AB_B_BETTER,
	AB_TOO_FEW,
};

/**
 * struct ab_cmp - the comparison of two samples of one metric.
 * @med_a: median of A's runs.
 * @med_b: median of B's runs.
 * @diff: @med_b - @med_a.
 * @diff_lo: lower end of the bootstrap (percentile) interval of @diff.
 * @diff_hi: upper end.
 * @ratio: @med_b / @med_a; NAN when @med_a is 0.
 * @ratio_lo: lower end of the interval of the ratio; NAN when a
 *	resampled median of A is 0.
 * @ratio_hi: upper end.
 * @cliff: Cliff's delta, P(B > A) - P(B < A) over all pairs of runs.
 * @hl: Hodges-Lehmann shift, the median of all differences b - a.
 * @verdict: which is better at the confidence asked, by the interval of
 *	@diff and the metric's direction.
 */
struct ab_cmp {
	double med_a, med_b;
	double diff, diff_lo, diff_hi;
	double ratio, ratio_lo, ratio_hi;
	double cliff;
	double hl;
	enum ab_verdict verdict;
};

double ab_median(const double *x, size_t n);
int ab_compare(const double *a, size_t na, const double *b, size_t nb,
	       bool lower_is_better, unsigned int resamples, double confidence,
	       uint64_t seed, struct ab_cmp *out);
const char *ab_verdict_str(enum ab_verdict v);
const char *ab_cliff_size(double delta);

#endif /* SVMXCTL_ABSTAT_H */
