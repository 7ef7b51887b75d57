// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of svmxctl's A/B statistics (tools/svmxctl/abstat.c) on fixed
 * samples: medians, the percentile bootstrap interval, Cliff's delta, the
 * Hodges-Lehmann shift and the verdict; the same seed gives the same
 * interval; and, over many simulated experiments drawn from a seeded
 * generator, how often the verdict is wrong when A and B are the same
 * (at most about 1 - confidence, with the small-sample slack of the
 * percentile bootstrap) and how often it finds a real shift.  Prints TAP.
 *
 *   gcc -O2 -o abstat_test tests/svmxctl/abstat_test.c tools/svmxctl/abstat.c -lm
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../tools/svmxctl/abstat.h"

static int n, failed;

static void check(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d %s\n", cond ? "" : "not ", n, what);
}

/* A value of mean @mu and standard deviation @sd (Box-Muller). */
static double normal(struct ab_rng *r, double mu, double sd)
{
	double u1 = ((ab_rng_next(r) >> 11) + 1) * 0x1.0p-53;
	double u2 = (ab_rng_next(r) >> 11) * 0x1.0p-53;

	return mu + sd * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Verdicts over @trials experiments of @k runs per arm, B shifted by @shift. */
static int count_verdicts(double shift, int k, int trials, enum ab_verdict want)
{
	struct ab_rng r = { .s = 42 };
	double a[32], b[32];
	struct ab_cmp c;
	int t, i, hits = 0;

	for (t = 0; t < trials; t++) {
		for (i = 0; i < k; i++) {
			a[i] = normal(&r, 100, 10);
			b[i] = normal(&r, 100 + shift, 10);
		}
		if (ab_compare(a, k, b, k, true, 2000, 0.95, t + 1, &c))
			return -1;
		hits += c.verdict == want;
	}
	return hits;
}

int main(void)
{
	const double odd[] = { 5, 1, 4 }, even[] = { 4, 1, 3, 2 };
	const double same[] = { 10, 11, 12, 13, 14 };
	const double hi[] = { 100, 101, 102, 103, 104 }, lo[] = { 80, 81, 82, 83, 84 };
	const double x[] = { 10, 12, 14, 16, 18 }, y[] = { 11, 13, 15, 17, 19 };
	const double ones[] = { 1, 1, 1 }, twos[] = { 2, 2, 2 }, zeros[] = { 0, 0, 0 };
	struct ab_rng r1 = { .s = 7 }, r2 = { .s = 7 };
	struct ab_cmp c, c2;
	int i, ok, hits;

	printf("TAP version 13\n");
	check(ab_median(odd, 3) == 4 && ab_median(even, 4) == 2.5 && odd[0] == 5,
	      "median of odd and even samples, input untouched");
	for (ok = 1, i = 0; i < 100; i++)
		ok &= ab_rng_next(&r1) == ab_rng_next(&r2);
	check(ok, "the generator repeats itself for one seed");
	for (ok = 1, i = 0; i < 10000; i++)
		ok &= ab_rng_below(&r1, 7) < 7;
	check(ok, "ab_rng_below() stays below its bound");

	check(!ab_compare(same, 5, same, 5, true, 10000, 0.95, 1, &c) &&
	      c.diff == 0 && c.diff_lo <= 0 && c.diff_hi >= 0 && c.cliff == 0 && c.hl == 0 &&
	      c.ratio == 1 && c.verdict == AB_NO_DIFFERENCE,
	      "identical samples: interval holds 0, delta 0, shift 0, no difference");

	check(!ab_compare(hi, 5, lo, 5, true, 10000, 0.95, 1, &c) &&
	      c.med_a == 102 && c.med_b == 82 && c.diff == -20 &&
	      c.diff_lo >= -24 && c.diff_hi <= -16 && c.diff_hi < 0 &&
	      c.cliff == -1 && c.hl == -20 && c.verdict == AB_B_BETTER,
	      "B lower, lower is better: interval within [-24, -16], delta -1, shift -20, B better");
	check(!ab_compare(hi, 5, lo, 5, false, 10000, 0.95, 1, &c) &&
	      c.verdict == AB_A_BETTER, "the same samples, higher is better: A better");
	check(!ab_compare(lo, 5, hi, 5, true, 10000, 0.95, 1, &c) &&
	      c.verdict == AB_A_BETTER && c.cliff == 1, "A lower, lower is better: A better");
	check(fabs(c.ratio - 102.0 / 82) < 1e-12 && c.ratio_lo <= c.ratio && c.ratio <= c.ratio_hi,
	      "ratio of medians inside its interval");

	check(!ab_compare(x, 5, y, 5, true, 10000, 0.95, 1, &c) &&
	      c.diff == 1 && c.diff_lo < 0 && c.diff_hi > 0 && c.verdict == AB_NO_DIFFERENCE &&
	      fabs(c.cliff - 0.2) < 1e-12 && c.hl == 1,
	      "interleaved samples 1 apart: interval holds 0, delta 0.2, shift 1, no difference");

	check(!ab_compare(ones, 3, twos, 3, true, 1000, 0.95, 1, &c) &&
	      c.diff_lo == 1 && c.diff_hi == 1 && c.ratio_lo == 2 && c.ratio_hi == 2 &&
	      c.verdict == AB_A_BETTER, "constant samples: a point interval, A better");
	check(!ab_compare(zeros, 3, twos, 3, true, 1000, 0.95, 1, &c) &&
	      isnan(c.ratio) && isnan(c.ratio_lo) && c.diff == 2,
	      "A's median 0: no ratio, the difference still");
	check(!ab_compare(ones, 2, twos, 2, true, 1000, 0.95, 1, &c) &&
	      c.verdict == AB_TOO_FEW, "two runs an arm: too few runs for a verdict");

	ab_compare(x, 5, hi, 5, true, 10000, 0.95, 9, &c);
	ab_compare(x, 5, hi, 5, true, 10000, 0.95, 9, &c2);
	check(!memcmp(&c, &c2, sizeof(c)), "the same seed gives the same report");

	check(ab_compare(x, 0, y, 5, true, 1000, 0.95, 1, &c) < 0 &&
	      ab_compare(x, 5, y, 5, true, 10, 0.95, 1, &c) < 0 &&
	      ab_compare(x, 5, y, 5, true, 1000, 1.0, 1, &c) < 0,
	      "empty sample, too few resamples, confidence 1: refused");

	check(!strcmp(ab_verdict_str(AB_A_BETTER), "A better") &&
	      !strcmp(ab_verdict_str(AB_B_BETTER), "B better") &&
	      !strcmp(ab_verdict_str(AB_NO_DIFFERENCE), "no difference") &&
	      !strcmp(ab_cliff_size(0.1), "negligible") && !strcmp(ab_cliff_size(-0.5), "large"),
	      "verdict and effect-size words");

	/* Calibration: 400 experiments of 10 runs an arm, no real difference. */
	hits = count_verdicts(0, 10, 400, AB_NO_DIFFERENCE);
	printf("# same distribution: %d of 400 said no difference\n", hits);
	check(hits >= 360, "A = B: no difference in at least 90% of 400 experiments");
	/* Power: B lower by 2 standard deviations. */
	hits = count_verdicts(-20, 10, 400, AB_B_BETTER);
	printf("# B lower by 2 sd: %d of 400 said B better\n", hits);
	check(hits >= 320, "B lower by 2 sd: B better in at least 80% of 400 experiments");
	hits = count_verdicts(-20, 10, 400, AB_A_BETTER);
	check(hits == 0, "B lower by 2 sd: never A better");

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
