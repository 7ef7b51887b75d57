// SPDX-License-Identifier: GPL-2.0
/*
 * The single-process workloads of svmx-bench workload: access patterns
 * over the working set of a struct wl.  Each queues device accesses
 * (wl_touch*) and CPU touches (wl_cpu_touch) in order; workload.c submits
 * them, measures and checks the data.  Random choices come from the
 * run's seeded generator only.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

/* Elements per page of a stream pass: 8 accesses, 512 bytes apart. */
#define STREAM_PER_PAGE	8

/* Every page, in address order, several accesses each; no reuse across passes. */
static int wl_stream(struct wl *w, unsigned int passes)
{
	unsigned int p;
	int ret = 0;

	for (p = 0; p < passes && !ret; p++)
		ret = wl_touch_elems(w, 0, w->npages, STREAM_PER_PAGE);
	return ret;
}

/* The same sequential pass over the set, again and again. */
static int wl_scan(struct wl *w, unsigned int passes)
{
	unsigned int p;
	int ret = 0;

	for (p = 0; p < passes && !ret; p++)
		ret = wl_touch_seq(w, 0, w->npages, 1);
	return ret;
}

/*
 * Column walks of a row-major matrix whose rows are --stride pages: pass
 * p touches page p mod stride of every row.
 */
static int stride_passes(struct wl *w, unsigned int passes)
{
	size_t s = w->o->stride < w->npages ? w->o->stride : w->npages;
	unsigned int p;
	int ret = 0;

	for (p = 0; p < passes && !ret; p++) {
		size_t first = p % s;

		ret = wl_touch_seq(w, first, (w->npages - first + s - 1) / s, s);
	}
	return ret;
}

static int wl_stride(struct wl *w, unsigned int passes)
{
	return stride_passes(w, passes);
}

/*
 * Accesses of one pass of random and zipf: one per 256 KiB of the set.
 * A miss on an oversubscribed device moves 4 MiB under the default
 * policy (a 2 MiB chunk in, a victim out), so one access per page would
 * make a run of a few MiB take minutes under emulation.
 */
static uint64_t sparse_accesses(const struct wl *w, unsigned int passes)
{
	size_t per_pass = w->npages / 64;

	return (uint64_t)passes * (per_pass ? per_pass : 1);
}

/* Accesses to pages drawn uniformly, sparse_accesses() of them. */
static int wl_random(struct wl *w, unsigned int passes)
{
	uint64_t i, n = sparse_accesses(w, passes);
	int ret = 0;

	for (i = 0; i < n && !ret; i++)
		ret = wl_touch(w, wl_rng_below(&w->rng, w->npages));
	return ret;
}

/*
 * sparse_accesses() accesses drawn from a Zipf distribution of
 * exponent --skew over the pages: page 0 is the hottest, popularity falls
 * with the address, so the hot head is contiguous and a device memory of
 * the right size can hold it.
 */
static int wl_zipf(struct wl *w, unsigned int passes)
{
	uint64_t i, n = sparse_accesses(w, passes);
	double *cdf, sum = 0;
	size_t r;
	int ret = 0;

	cdf = malloc(w->npages * sizeof(*cdf));
	if (!cdf) {
		fprintf(stderr, "svmx-bench: zipf: no memory for the distribution\n");
		return -ENOMEM;
	}
	for (r = 0; r < w->npages; r++) {
		sum += 1.0 / pow((double)(r + 1), w->o->skew);
		cdf[r] = sum;
	}
	for (i = 0; i < n && !ret; i++) {
		double u = wl_rng_unit(&w->rng) * sum;
		size_t lo = 0, hi = w->npages - 1;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		ret = wl_touch(w, lo);
	}
	free(cdf);
	return ret;
}

/*
 * Each pass the device sweeps the set, then the CPU increments one page
 * in --cpu-every: the pages go back and forth between the two.
 */
static int wl_pingpong(struct wl *w, unsigned int passes)
{
	unsigned int p;
	size_t i;
	int ret = 0;

	for (p = 0; p < passes && !ret; p++) {
		ret = wl_touch_seq(w, 0, w->npages, 1);
		for (i = 0; i < w->npages && !ret; i += w->o->cpu_every)
			ret = wl_cpu_touch(w, i);
	}
	return ret;
}

/*
 * Phase change: the stride workload's passes over the whole set, then
 * 4 x passes x hot accesses drawn uniformly from a hot subset of --hot
 * times device memory (at a seeded 2 MiB-aligned place), which a policy
 * should keep resident once it sees the change.
 */
static int wl_phase(struct wl *w, unsigned int passes)
{
	size_t hot = wl_pages_of(w, w->o->hot), chunk = WL_CHUNK / WL_PAGE;
	size_t start = wl_rng_below(&w->rng, w->npages - hot + 1) / chunk * chunk;
	uint64_t i, n = 4ull * passes * hot;
	int ret;

	ret = stride_passes(w, passes);
	for (i = 0; i < n && !ret; i++)
		ret = wl_touch(w, start + wl_rng_below(&w->rng, hot));
	return ret;
}

const struct wl_desc wl_descs[] = {
	{ "stream", "one sequential pass, 8 accesses per page, no reuse", 1, wl_stream },
	{ "scan", "cyclic sequential scans of the set (the LRU killer)", 4, wl_scan },
	{ "stride", "column walks: page p mod --stride of each row per pass", 4, wl_stride },
	{ "random", "uniformly random pages, one access per 256 KiB per pass", 4, wl_random },
	{ "zipf", "Zipf(--skew) pages, hottest first, one access per 256 KiB per pass", 4, wl_zipf },
	{ "pingpong", "device sweeps, the CPU touches 1 page in --cpu-every between", 4, wl_pingpong },
	{ "phase", "stride passes, then reuse of a --hot subset", 2, wl_phase },
};

const unsigned int wl_nr_descs = sizeof(wl_descs) / sizeof(wl_descs[0]);
