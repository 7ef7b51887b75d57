// SPDX-License-Identifier: GPL-2.0
/*
 * The statistics of an A/B experiment: medians, a percentile bootstrap
 * interval of the difference (and the ratio) of the medians, Cliff's
 * delta, the Hodges-Lehmann shift, and the verdict.  Pure functions of
 * the samples and a seed: the same input gives the same report.  What
 * they assume is in docs/ab-statistics.md.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "abstat.h"

uint64_t ab_rng_next(struct ab_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, @n) (Lemire's multiply-shift; the bias is below 2^-40 here). */
uint64_t ab_rng_below(struct ab_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)ab_rng_next(r) * n) >> 64);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @x[0..@n) sorted in place. */
static double median_sorted(double *x, size_t n)
{
	qsort(x, n, sizeof(*x), cmp_double);
	return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

/**
 * ab_median() - the median of a sample.
 * @x: the values (not changed).
 * @n: how many; 0 gives NAN.
 *
 * Return: the middle value, or the mean of the two middle ones.
 */
double ab_median(const double *x, size_t n)
{
	double *c, m;

	if (!n)
		return NAN;
	c = malloc(n * sizeof(*c));
	if (!c)
		return NAN;
	memcpy(c, x, n * sizeof(*c));
	m = median_sorted(c, n);
	free(c);
	return m;
}

/* The median of @n values drawn with replacement from @x. */
static double resample_median(struct ab_rng *r, const double *x, size_t n,
			      double *scratch)
{
	size_t i;

	for (i = 0; i < n; i++)
		scratch[i] = x[ab_rng_below(r, n)];
	return median_sorted(scratch, n);
}

/* Cliff's delta and the Hodges-Lehmann shift over all na x nb pairs. */
static int pairwise(const double *a, size_t na, const double *b, size_t nb,
		    struct ab_cmp *out)
{
	double *d = malloc(na * nb * sizeof(*d));
	long long gt = 0, lt = 0;
	size_t i, j;

	if (!d)
		return -ENOMEM;
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++) {
			d[i * nb + j] = b[j] - a[i];
			gt += b[j] > a[i];
			lt += b[j] < a[i];
		}
	}
	out->cliff = (double)(gt - lt) / (double)(na * nb);
	out->hl = median_sorted(d, na * nb);
	free(d);
	return 0;
}

/**
 * ab_compare() - compare the runs of A and B of one metric.
 * @a: A's values.
 * @na: how many (at least 1).
 * @b: B's values.
 * @nb: how many (at least 1).
 * @lower_is_better: the metric's direction.
 * @resamples: bootstrap resamples (e.g. AB_RESAMPLES), at least 100.
 * @confidence: of the intervals, e.g. 0.95, in (0, 1).
 * @seed: seed of the resampling.
 * @out: the comparison.
 *
 * The interval of the difference of medians is the percentile bootstrap:
 * A and B are resampled independently @resamples times, the differences
 * of the resampled medians sorted, and the (1 - @confidence) / 2 and
 * (1 + @confidence) / 2 quantiles taken (nearest rank).  The verdict is
 * "A better" or "B better" when that interval lies wholly on one side of
 * 0 (by the direction of the metric), "no difference" when it contains
 * 0, and "too few runs" when an arm has fewer than AB_MIN_RUNS.
 *
 * Return: 0, -EINVAL for bad arguments, -ENOMEM.
 */
int ab_compare(const double *a, size_t na, const double *b, size_t nb,
	       bool lower_is_better, unsigned int resamples, double confidence,
	       uint64_t seed, struct ab_cmp *out)
{
	struct ab_rng rng = { .s = seed };
	double *diffs, *ratios, *scratch, alpha;
	bool ratio_ok = true;
	size_t i, lo, hi;
	int ret;

	if (!na || !nb || resamples < 100 || !(confidence > 0 && confidence < 1))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->med_a = ab_median(a, na);
	out->med_b = ab_median(b, nb);
	out->diff = out->med_b - out->med_a;
	out->ratio = out->med_a != 0 ? out->med_b / out->med_a : NAN;
	ret = pairwise(a, na, b, nb, out);
	if (ret)
		return ret;

	diffs = malloc(resamples * sizeof(*diffs));
	ratios = malloc(resamples * sizeof(*ratios));
	scratch = malloc((na > nb ? na : nb) * sizeof(*scratch));
	if (!diffs || !ratios || !scratch) {
		free(diffs);
		free(ratios);
		free(scratch);
		return -ENOMEM;
	}
	for (i = 0; i < resamples; i++) {
		double ma = resample_median(&rng, a, na, scratch);
		double mb = resample_median(&rng, b, nb, scratch);

		diffs[i] = mb - ma;
		if (ma != 0)
			ratios[i] = mb / ma;
		else
			ratio_ok = false;
	}
	alpha = 1 - confidence;
	lo = (size_t)floor(alpha / 2 * resamples);
	hi = (size_t)ceil((1 - alpha / 2) * resamples) - 1;
	if (hi >= resamples)
		hi = resamples - 1;
	qsort(diffs, resamples, sizeof(*diffs), cmp_double);
	out->diff_lo = diffs[lo];
	out->diff_hi = diffs[hi];
	if (ratio_ok) {
		qsort(ratios, resamples, sizeof(*ratios), cmp_double);
		out->ratio_lo = ratios[lo];
		out->ratio_hi = ratios[hi];
	} else {
		out->ratio_lo = NAN;
		out->ratio_hi = NAN;
	}
	free(diffs);
	free(ratios);
	free(scratch);

	if (na < AB_MIN_RUNS || nb < AB_MIN_RUNS)
		out->verdict = AB_TOO_FEW;
	else if (out->diff_hi < 0)
		out->verdict = lower_is_better ? AB_B_BETTER : AB_A_BETTER;
	else if (out->diff_lo > 0)
		out->verdict = lower_is_better ? AB_A_BETTER : AB_B_BETTER;
	else
		out->verdict = AB_NO_DIFFERENCE;
	return 0;
}

/**
 * ab_verdict_str() - the verdict as the reports print it.
 * @v: the verdict.
 *
 * Return: "A better", "B better", "no difference" or "too few runs".
 */
const char *ab_verdict_str(enum ab_verdict v)
{
	switch (v) {
	case AB_A_BETTER:
		return "A better";
	case AB_B_BETTER:
		return "B better";
	case AB_TOO_FEW:
		return "too few runs";
	default:
		return "no difference";
	}
}

/**
 * ab_cliff_size() - the usual reading of a Cliff's delta.
 * @delta: the delta, -1..1.
 *
 * Return: "negligible" (|delta| < 0.147), "small" (< 0.33), "medium"
 * (< 0.474) or "large" (Romano et al.'s thresholds).
 */
const char *ab_cliff_size(double delta)
{
	double d = fabs(delta);

	if (d < 0.147)
		return "negligible";
	if (d < 0.33)
		return "small";
	if (d < 0.474)
		return "medium";
	return "large";
}
