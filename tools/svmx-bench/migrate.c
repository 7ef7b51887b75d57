// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-bench migrate: migration throughput of svmx, measured against the
 * upstream test_hmm driver and against an in-kernel copy of the same
 * pages, in one boot of the test VM.  tools/bench boots the VM, loads
 * svmx.ko and test_hmm.ko and runs this subcommand as root (it is also
 * what svmx-bench runs when the first argument is an option).
 *
 * Rows: granularity (2 MiB chunks, single 4 KiB pages) x direction
 * (system -> device, device -> system) x engine:
 *
 *   svmx      SVMX_IOC_MIGRATE on /dev/svmxN
 *   test_hmm  HMM_DMIRROR_MIGRATE_TO_DEV/_TO_SYS on /dev/hmm_dmirrorN
 *   copy      debugfs svmx/copybench: copy_highpage() of as many scattered
 *             system pages into 2 MiB blocks and back, the physical limit
 *             of a CPU copy engine (user-space memcpy is distorted under
 *             emulation)
 *
 * 2 MiB chunks: one call over a 2 MiB-aligned set (svmx migrates it in
 * 2 MiB chunks, test_hmm in its own 64-page batches).  Single pages: one
 * call per page; every page is a VMA of its own between PROT_NONE guard
 * pages, so that each call is a migration of exactly one page with its own
 * VMA (svmx clips explicit migrations to the range and the VMA).
 *
 * Each engine has its own buffers and its file is open only while it is
 * measured, so neither driver's MMU notifier sees the other's migrations.
 * Repetition 0 warms up (test_hmm allocates device memory lazily); the
 * others are interleaved across engines and their median is reported.
 * Every call's page counter must equal the pages asked for and every page
 * must hold its data afterwards, or the row is reported invalid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <uapi/svmx.h>

#include "../svmx-tools.h"
#include "bench.h"
#include <test_hmm_uapi.h>

#define PAGE_SZ		4096UL
#define CHUNK_SZ	(2UL << 20)
#define MAX_REPS	99
#define COPYBENCH	"/sys/kernel/debug/svmx/copybench"
#define COPYBENCH_MAX	262144UL
#define MAX_SINGLE_PAGES 16384UL
#define TARGET_VS_HMM	1.5	/* svmx >= 1.5x test_hmm, 2 MiB rows */
#define TARGET_VS_COPY	0.5	/* svmx >= 50% of the in-kernel copy */

enum gran { GRAN_CHUNK, GRAN_PAGE, NR_GRANS };
enum dir { DIR_TO_DEV, DIR_TO_SYS, NR_DIRS };
enum engine { ENG_SVMX, ENG_HMM, ENG_COPY, NR_ENGINES };

static const char *const gran_name[NR_GRANS] = { "2MiB", "4KiB" };
static const char *const dir_name[NR_DIRS] = { "to-device", "to-system" };
static const char *const dir_key[NR_DIRS] = { "to_device", "to_system" };
static const char *const engine_name[NR_ENGINES] = { "svmx", "test_hmm", "copy" };

struct opts {
	unsigned int svmx_dev;
	unsigned int hmm_dev;
	unsigned long chunk_mib;	/* size of the 2 MiB-chunk set */
	unsigned long pages;		/* size of the single-page set */
	unsigned int reps;		/* timed repetitions (plus one warm-up) */
	const char *json;		/* NULL, a file, or "-" for stdout */
};

/* Timings of one row; err/why tell why the row is invalid. */
struct series {
	uint64_t ns[MAX_REPS];
	unsigned int n;
	int err;
	char why[128];
};

struct results {
	struct series s[NR_GRANS][NR_DIRS][NR_ENGINES];
};

/* Pages of one granularity for one engine: ncalls calls of call_len bytes. */
struct set {
	char *map;
	size_t map_len;
	char *base;
	size_t npages;
	size_t ncalls;
	size_t call_len;
	size_t stride;		/* between the starts of two calls */
	size_t page_step;	/* between two pages of the set */
	uint64_t tag;
};

/* An engine's open file and what its calls need. */
struct engine_ctx {
	enum engine id;
	int fd;
	char *bounce;		/* test_hmm copies migrated data back here */
};

/* ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void series_fail(struct series *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void series_fail(struct series *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->err)
		return;		/* keep the first reason */
	s->err = err;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median, minimum and maximum of a series; false if it has no sample. */
static bool series_stats(const struct series *s, double *med, double *lo,
			 double *hi)
{
	uint64_t v[MAX_REPS];
	unsigned int n = s->n;

	if (s->err || !n)
		return false;
	memcpy(v, s->ns, n * sizeof(v[0]));
	qsort(v, n, sizeof(v[0]), cmp_u64);
	*med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	*lo = v[0];
	*hi = v[n - 1];
	return true;
}

/* ------------------------------------------------------------------
 * Buffers
 */

static void set_free(struct set *set)
{
	if (set->map)
		munmap(set->map, set->map_len);
	set->map = NULL;
}

/* Write a per-page pattern so that lost or swapped pages show. */
static void set_fill(struct set *set)
{
	size_t i;

	for (i = 0; i < set->npages; i++) {
		char *p = set->base + i * set->page_step;

		memset(p, (int)(i & 0xff), PAGE_SZ);
		*(uint64_t *)p = set->tag ^ i;
	}
}

/* Return: index + 1 of the first page whose pattern is wrong, or 0. */
static size_t set_check(const struct set *set)
{
	size_t i;

	for (i = 0; i < set->npages; i++) {
		const char *p = set->base + i * set->page_step;

		if (*(const uint64_t *)p != (set->tag ^ i) ||
		    p[PAGE_SZ - 1] != (char)(i & 0xff))
			return i + 1;
	}
	return 0;
}

/* One 2 MiB-aligned VMA of @bytes, migrated with one call. */
static int set_alloc_chunks(struct set *set, size_t bytes, uint64_t tag)
{
	uintptr_t aligned;

	memset(set, 0, sizeof(*set));
	set->map_len = bytes + CHUNK_SZ;
	set->map = mmap(NULL, set->map_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (set->map == MAP_FAILED) {
		set->map = NULL;
		return -errno;
	}
	aligned = ((uintptr_t)set->map + CHUNK_SZ - 1) & ~(CHUNK_SZ - 1);
	set->base = (char *)aligned;
	/* Base pages on both sides: no THP split inside the timed region. */
	if (madvise(set->base, bytes, MADV_NOHUGEPAGE))
		return -errno;
	set->npages = bytes / PAGE_SZ;
	set->ncalls = 1;
	set->call_len = bytes;
	set->stride = bytes;
	set->page_step = PAGE_SZ;
	set->tag = tag;
	set_fill(set);
	return 0;
}

/* @npages one-page VMAs, each followed by a PROT_NONE guard page. */
static int set_alloc_pages(struct set *set, size_t npages, uint64_t tag)
{
	size_t i;

	memset(set, 0, sizeof(*set));
	set->map_len = 2 * npages * PAGE_SZ;
	set->map = mmap(NULL, set->map_len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (set->map == MAP_FAILED) {
		set->map = NULL;
		return -errno;
	}
	set->base = set->map;
	for (i = 0; i < npages; i++)
		if (mprotect(set->base + (2 * i + 1) * PAGE_SZ, PAGE_SZ, PROT_NONE))
			return -errno;
	set->npages = npages;
	set->ncalls = npages;
	set->call_len = PAGE_SZ;
	set->stride = 2 * PAGE_SZ;
	set->page_step = 2 * PAGE_SZ;
	set->tag = tag;
	set_fill(set);
	return 0;
}

/* ------------------------------------------------------------------
 * Engines
 */

static int engine_open(struct engine_ctx *e, enum engine id,
		       const struct opts *o, char *bounce, size_t need_bytes)
{
	char path[32];

	e->id = id;
	e->bounce = bounce;
	if (id == ENG_SVMX) {
		e->fd = svmx_open_bound(o->svmx_dev, need_bytes);
		return e->fd < 0 ? e->fd : 0;
	}
	snprintf(path, sizeof(path), "/dev/hmm_dmirror%u", o->hmm_dev);
	e->fd = open(path, O_RDWR | O_CLOEXEC);
	return e->fd < 0 ? -errno : 0;
}

static void engine_close(struct engine_ctx *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
}

static int svmx_migrate(int fd, char *addr, size_t len, enum dir dir,
			uint64_t *moved)
{
	struct svmx_migrate m = {
		.addr = (uintptr_t)addr,
		.length = len,
		.target = dir == DIR_TO_DEV ? SVMX_TARGET_SELF : SVMX_TARGET_SYSTEM,
	};

	if (ioctl(fd, SVMX_IOC_MIGRATE, &m))
		return -errno;
	*moved = dir == DIR_TO_DEV ? m.counters.pages_to_device :
				     m.counters.pages_to_system;
	return 0;
}

static int hmm_migrate(int fd, char *addr, size_t len, char *bounce,
		       enum dir dir, uint64_t *moved)
{
	unsigned long req = dir == DIR_TO_DEV ? HMM_DMIRROR_MIGRATE_TO_DEV :
						HMM_DMIRROR_MIGRATE_TO_SYS;
	struct hmm_dmirror_cmd cmd = {
		.addr = (uintptr_t)addr,
		.ptr = (uintptr_t)bounce,
		.npages = len / PAGE_SZ,
	};
	int ret;

	do {
		ret = ioctl(fd, req, &cmd);
	} while (ret && errno == EINTR);
	if (ret)
		return -errno;
	*moved = cmd.cpages;
	return 0;
}

static int engine_migrate(const struct engine_ctx *e, char *addr, size_t len,
			  enum dir dir, uint64_t *moved)
{
	if (e->id == ENG_SVMX)
		return svmx_migrate(e->fd, addr, len, dir, moved);
	return hmm_migrate(e->fd, addr, len, e->bounce, dir, moved);
}

/*
 * One timed pass over a set in one direction.  Every call must report
 * exactly its own pages.  Return: 0, a negative errno from the driver, or
 * -EBADMSG with *@bad_call and *@bad_moved set.
 */
static int run_pass(const struct engine_ctx *e, const struct set *set,
		    enum dir dir, uint64_t *ns, size_t *bad_call,
		    uint64_t *bad_moved)
{
	uint64_t want = set->call_len / PAGE_SZ, moved = 0, t0;
	size_t i;
	int ret = 0;

	*bad_call = SIZE_MAX;
	t0 = now_ns();
	for (i = 0; i < set->ncalls; i++) {
		ret = engine_migrate(e, set->base + i * set->stride,
				     set->call_len, dir, &moved);
		if (ret)
			break;
		if (moved != want && *bad_call == SIZE_MAX) {
			*bad_call = i;
			*bad_moved = moved;
		}
	}
	*ns = now_ns() - t0;
	if (!ret && *bad_call != SIZE_MAX)
		ret = -EBADMSG;
	return ret;
}

/* Record a pass in its row; @rep 0 (warm-up) only counts for errors. */
static void record_pass(struct series *s, const struct engine_ctx *e,
			const struct set *set, enum dir dir, unsigned int rep)
{
	size_t bad_call;
	uint64_t ns, bad_moved = 0;
	int ret;

	ret = run_pass(e, set, dir, &ns, &bad_call, &bad_moved);
	if (ret == -EBADMSG)
		series_fail(s, ret, "call %zu moved %" PRIu64 " of %zu pages",
			    bad_call, bad_moved, set->call_len / PAGE_SZ);
	else if (ret)
		series_fail(s, ret, "migration ioctl: %s", strerror(-ret));
	else if (rep && !s->err)
		s->ns[s->n++] = ns;
}

/* ------------------------------------------------------------------
 * The in-kernel copy (debugfs svmx/copybench)
 */

static int copybench_write(unsigned long pages)
{
	char buf[32];
	int fd, len, ret = 0;
	ssize_t n;

	fd = open(COPYBENCH, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%lu", pages);
	n = write(fd, buf, len);
	if (n != len)
		ret = n < 0 ? -errno : -EIO;
	close(fd);
	return ret;
}

static int copybench(unsigned long pages, uint64_t *to_ns, uint64_t *from_ns)
{
	unsigned long got;
	char buf[128];
	ssize_t n;
	int fd, ret;

	ret = copybench_write(pages);
	if (ret)
		return ret;
	fd = open(COPYBENCH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	buf[n] = '\0';
	if (sscanf(buf, "pages=%lu to_block_ns=%" SCNu64 " from_block_ns=%" SCNu64,
		   &got, to_ns, from_ns) != 3 || got != pages)
		return -EPROTO;
	return 0;
}

static void record_copy(struct results *r, enum gran g, unsigned long pages,
			unsigned int rep)
{
	struct series *to = &r->s[g][DIR_TO_DEV][ENG_COPY];
	struct series *from = &r->s[g][DIR_TO_SYS][ENG_COPY];
	uint64_t to_ns, from_ns;
	int ret;

	ret = copybench(pages, &to_ns, &from_ns);
	if (ret) {
		series_fail(to, ret, "%s: %s", COPYBENCH, strerror(-ret));
		series_fail(from, ret, "%s: %s", COPYBENCH, strerror(-ret));
		return;
	}
	if (!rep)
		return;
	if (!to->err)
		to->ns[to->n++] = to_ns;
	if (!from->err)
		from->ns[from->n++] = from_ns;
}

/* ------------------------------------------------------------------
 * The run
 */

struct bench {
	const struct opts *o;
	struct set sets[NR_ENGINES][NR_GRANS];	/* ENG_COPY unused */
	char *bounce;		/* test_hmm's copy-back buffer */
	size_t bounce_len;
	struct results res;
};

static void bench_fini(struct bench *b)
{
	int e, g;

	for (e = 0; e < NR_ENGINES; e++)
		for (g = 0; g < NR_GRANS; g++)
			set_free(&b->sets[e][g]);
	if (b->bounce)
		munmap(b->bounce, b->bounce_len);
}

static int bench_init(struct bench *b, const struct opts *o)
{
	int e, ret;

	memset(b, 0, sizeof(*b));
	b->o = o;
	b->bounce_len = o->chunk_mib << 20;
	if (o->pages * PAGE_SZ > b->bounce_len)
		b->bounce_len = o->pages * PAGE_SZ;
	b->bounce = mmap(NULL, b->bounce_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->bounce == MAP_FAILED) {
		b->bounce = NULL;
		return -errno;
	}
	for (e = ENG_SVMX; e <= ENG_HMM; e++) {
		uint64_t tag = 0x5356ull << 48 | (uint64_t)e << 40;

		ret = set_alloc_chunks(&b->sets[e][GRAN_CHUNK],
				       o->chunk_mib << 20, tag);
		if (!ret)
			ret = set_alloc_pages(&b->sets[e][GRAN_PAGE], o->pages,
					      tag | 1ull << 32);
		if (ret)
			return ret;
	}
	return 0;
}

/* Both directions of both granularities for one engine in one repetition. */
static void bench_engine(struct bench *b, enum engine id, unsigned int rep)
{
	struct engine_ctx e;
	int g, d, ret;

	ret = engine_open(&e, id, b->o, b->bounce, b->bounce_len);
	if (ret) {
		for (g = 0; g < NR_GRANS; g++)
			for (d = 0; d < NR_DIRS; d++)
				series_fail(&b->res.s[g][d][id], ret, "open %s: %s",
					    engine_name[id], ret == -ENOSPC ?
					    "device memory smaller than the set (mem_mb)" :
					    strerror(-ret));
		return;
	}
	for (g = 0; g < NR_GRANS; g++)
		for (d = 0; d < NR_DIRS; d++)
			record_pass(&b->res.s[g][d][id], &e, &b->sets[id][g], d, rep);
	engine_close(&e);
}

/* After every repetition each page must be back with its data. */
static void bench_verify(struct bench *b)
{
	int e, g, d;

	for (e = ENG_SVMX; e <= ENG_HMM; e++)
		for (g = 0; g < NR_GRANS; g++) {
			size_t bad = set_check(&b->sets[e][g]);

			for (d = 0; bad && d < NR_DIRS; d++)
				series_fail(&b->res.s[g][d][e], -EIO,
					    "page %zu lost its data", bad - 1);
		}
}

static void bench_run(struct bench *b)
{
	unsigned long set_pages[NR_GRANS] = {
		[GRAN_CHUNK] = (b->o->chunk_mib << 20) / PAGE_SZ,
		[GRAN_PAGE] = b->o->pages,
	};
	unsigned int rep;
	int g;

	for (rep = 0; rep <= b->o->reps; rep++) {
		/* Alternate the order so that neither driver always goes first. */
		bench_engine(b, rep % 2 ? ENG_HMM : ENG_SVMX, rep);
		bench_engine(b, rep % 2 ? ENG_SVMX : ENG_HMM, rep);
		for (g = 0; g < NR_GRANS; g++)
			record_copy(&b->res, g, set_pages[g], rep);
	}
	bench_verify(b);
}

/* ------------------------------------------------------------------
 * Reporting
 */

/* A figure of one row: throughput in GB/s and microseconds per page. */
struct figure {
	bool ok;
	double ns, lo, hi;
	double gbps;
	double us_per_page;
};

static struct figure figure_of(const struct series *s, unsigned long pages)
{
	struct figure f = { 0 };

	f.ok = series_stats(s, &f.ns, &f.lo, &f.hi);
	if (f.ok) {
		f.gbps = pages * PAGE_SZ / f.ns;
		f.us_per_page = f.ns / pages / 1000.0;
	}
	return f;
}

/* svmx throughput over another engine's; 0 when either is missing. */
static double ratio_of(const struct figure *svmx, const struct figure *other)
{
	return svmx->ok && other->ok ? other->ns / svmx->ns : 0.0;
}

struct report {
	unsigned long pages[NR_GRANS];
	struct figure fig[NR_GRANS][NR_DIRS][NR_ENGINES];
	double vs_hmm[NR_GRANS][NR_DIRS];
	double vs_copy[NR_GRANS][NR_DIRS];
	bool valid;
	bool targets_met;
};

static void report_build(struct report *rp, const struct bench *b)
{
	int g, d, e;

	memset(rp, 0, sizeof(*rp));
	rp->pages[GRAN_CHUNK] = (b->o->chunk_mib << 20) / PAGE_SZ;
	rp->pages[GRAN_PAGE] = b->o->pages;
	rp->valid = true;
	rp->targets_met = true;
	for (g = 0; g < NR_GRANS; g++)
		for (d = 0; d < NR_DIRS; d++) {
			struct figure *f = rp->fig[g][d];

			for (e = 0; e < NR_ENGINES; e++) {
				f[e] = figure_of(&b->res.s[g][d][e], rp->pages[g]);
				rp->valid &= f[e].ok;
			}
			rp->vs_hmm[g][d] = ratio_of(&f[ENG_SVMX], &f[ENG_HMM]);
			rp->vs_copy[g][d] = ratio_of(&f[ENG_SVMX], &f[ENG_COPY]);
			if (g == GRAN_CHUNK)
				rp->targets_met &= rp->vs_hmm[g][d] >= TARGET_VS_HMM &&
						   rp->vs_copy[g][d] >= TARGET_VS_COPY;
		}
}

static const char *verdict(bool ok, double ratio, double target)
{
	if (!ok)
		return "n/a";
	return ratio >= target ? "PASS" : "MISS";
}

static void print_rows(const struct report *rp, const struct bench *b)
{
	int g, d, e;

	printf("%-5s %-10s %-9s %9s %9s %8s\n", "chunk", "direction", "engine",
	       "GB/s", "us/page", "spread");
	for (g = 0; g < NR_GRANS; g++)
		for (d = 0; d < NR_DIRS; d++)
			for (e = 0; e < NR_ENGINES; e++) {
				const struct figure *f = &rp->fig[g][d][e];
				const struct series *s = &b->res.s[g][d][e];

				printf("%-5s %-10s %-9s ", gran_name[g],
				       dir_name[d], engine_name[e]);
				if (f->ok)
					printf("%9.3f %9.2f %7.0f%%\n", f->gbps,
					       f->us_per_page,
					       100.0 * (f->hi - f->lo) / f->ns);
				else
					printf("  INVALID: %s\n", s->why);
			}
}

static void print_ratios(const struct report *rp)
{
	int g, d;

	printf("\n%-5s %-10s %14s %-6s %14s\n", "chunk", "direction",
	       "svmx/test_hmm", "", "svmx/copy");
	for (g = 0; g < NR_GRANS; g++)
		for (d = 0; d < NR_DIRS; d++) {
			const struct figure *f = rp->fig[g][d];
			bool hmm_ok = f[ENG_SVMX].ok && f[ENG_HMM].ok;
			bool copy_ok = f[ENG_SVMX].ok && f[ENG_COPY].ok;

			printf("%-5s %-10s ", gran_name[g], dir_name[d]);
			if (hmm_ok)
				printf("%13.2fx ", rp->vs_hmm[g][d]);
			else
				printf("%14s ", "-");
			printf("%-6s ", g == GRAN_CHUNK ? verdict(hmm_ok,
				rp->vs_hmm[g][d], TARGET_VS_HMM) : "");
			if (copy_ok)
				printf("%13.0f%% ", 100.0 * rp->vs_copy[g][d]);
			else
				printf("%14s ", "-");
			printf("%s\n", g == GRAN_CHUNK ? verdict(copy_ok,
				rp->vs_copy[g][d], TARGET_VS_COPY) : "");
		}
}

static void print_table(const struct report *rp, const struct bench *b)
{
	const struct opts *o = b->o;

	printf("svmx-bench: %lu MiB in 2 MiB chunks (%lu pages, one call), %lu single pages (one call each)\n",
	       o->chunk_mib, rp->pages[GRAN_CHUNK], o->pages);
	printf("median of %u runs after one warm-up; spread = (max - min) / median; GB = 1e9 bytes\n\n",
	       o->reps);
	print_rows(rp, b);
	print_ratios(rp);
	printf("\ntargets (2MiB rows, both directions): svmx >= %.1fx test_hmm and >= %.0f%% of copy: %s\n",
	       TARGET_VS_HMM, 100 * TARGET_VS_COPY,
	       !rp->valid ? "not measured" : rp->targets_met ? "met" : "MISSED");
}

/* A double with a fixed number of significant digits in the JSON text. */
static struct json_object *json_num(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *json_row(const struct figure *f,
				    const struct series *s, enum gran g,
				    enum dir d, enum engine e)
{
	struct json_object *row = json_object_new_object();
	struct json_object *samples = json_object_new_array();
	unsigned int i;

	json_object_object_add(row, "chunk", json_object_new_string(gran_name[g]));
	json_object_object_add(row, "direction", json_object_new_string(dir_key[d]));
	json_object_object_add(row, "engine", json_object_new_string(engine_name[e]));
	json_object_object_add(row, "valid", json_object_new_boolean(f->ok));
	if (f->ok) {
		json_object_object_add(row, "median_ns", json_object_new_int64(f->ns));
		json_object_object_add(row, "min_ns", json_object_new_int64(f->lo));
		json_object_object_add(row, "max_ns", json_object_new_int64(f->hi));
		json_object_object_add(row, "gb_per_s", json_num(f->gbps));
		json_object_object_add(row, "us_per_page", json_num(f->us_per_page));
	} else {
		json_object_object_add(row, "error", json_object_new_string(s->why));
	}
	for (i = 0; i < s->n; i++)
		json_object_array_add(samples, json_object_new_int64(s->ns[i]));
	json_object_object_add(row, "samples_ns", samples);
	return row;
}

static struct json_object *json_ratio(const struct report *rp, enum gran g,
				      enum dir d)
{
	struct json_object *r = json_object_new_object();
	const struct figure *f = rp->fig[g][d];

	json_object_object_add(r, "chunk", json_object_new_string(gran_name[g]));
	json_object_object_add(r, "direction", json_object_new_string(dir_key[d]));
	json_object_object_add(r, "svmx_vs_test_hmm", json_num(rp->vs_hmm[g][d]));
	json_object_object_add(r, "svmx_vs_copy", json_num(rp->vs_copy[g][d]));
	if (g != GRAN_CHUNK)
		return r;
	json_object_object_add(r, "target_vs_test_hmm", json_num(TARGET_VS_HMM));
	json_object_object_add(r, "target_vs_copy", json_num(TARGET_VS_COPY));
	json_object_object_add(r, "verdict_vs_test_hmm", json_object_new_string(
		verdict(f[ENG_SVMX].ok && f[ENG_HMM].ok, rp->vs_hmm[g][d], TARGET_VS_HMM)));
	json_object_object_add(r, "verdict_vs_copy", json_object_new_string(
		verdict(f[ENG_SVMX].ok && f[ENG_COPY].ok, rp->vs_copy[g][d], TARGET_VS_COPY)));
	return r;
}

static struct json_object *json_config(const struct report *rp,
				       const struct opts *o)
{
	struct json_object *c = json_object_new_object();
	struct utsname u;

	json_object_object_add(c, "svmx_device", json_object_new_int(o->svmx_dev));
	json_object_object_add(c, "hmm_device", json_object_new_int(o->hmm_dev));
	json_object_object_add(c, "chunk_set_bytes", json_object_new_int64(o->chunk_mib << 20));
	json_object_object_add(c, "chunk_set_pages", json_object_new_int64(rp->pages[GRAN_CHUNK]));
	json_object_object_add(c, "single_pages", json_object_new_int64(o->pages));
	json_object_object_add(c, "reps", json_object_new_int(o->reps));
	json_object_object_add(c, "cpus", json_object_new_int(sysconf(_SC_NPROCESSORS_ONLN)));
	if (!uname(&u))
		json_object_object_add(c, "kernel", json_object_new_string(u.release));
	return c;
}

static int write_json(const struct report *rp, const struct bench *b)
{
	struct json_object *root = json_object_new_object();
	struct json_object *rows = json_object_new_array();
	struct json_object *ratios = json_object_new_array();
	int g, d, e, ret = 0;

	for (g = 0; g < NR_GRANS; g++)
		for (d = 0; d < NR_DIRS; d++) {
			for (e = 0; e < NR_ENGINES; e++)
				json_object_array_add(rows, json_row(&rp->fig[g][d][e],
								     &b->res.s[g][d][e], g, d, e));
			json_object_array_add(ratios, json_ratio(rp, g, d));
		}
	json_object_object_add(root, "config", json_config(rp, b->o));
	json_object_object_add(root, "rows", rows);
	json_object_object_add(root, "ratios", ratios);
	json_object_object_add(root, "valid", json_object_new_boolean(rp->valid));
	json_object_object_add(root, "targets_met",
			       json_object_new_boolean(rp->valid && rp->targets_met));
	if (!strcmp(b->o->json, "-"))
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	else if (json_object_to_file_ext(b->o->json, root, JSON_C_TO_STRING_PRETTY))
		ret = -EIO;
	json_object_put(root);
	return ret;
}

/* ------------------------------------------------------------------
 * Command line
 */

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
"Usage: %s [migrate] [options]\n"
"Migration throughput of svmx vs test_hmm vs an in-kernel page copy.\n"
"Run as root with svmx.ko and test_hmm.ko loaded (tools/bench does it).\n"
"\n"
"  -d, --svmx-device N   use /dev/svmxN (default 0)\n"
"  -D, --hmm-device N    use /dev/hmm_dmirrorN (default 0)\n"
"  -s, --size MIB        2 MiB-chunk set, a multiple of 2 up to 1024\n"
"                        (default 64); svmx needs mem_mb at least as big\n"
"  -p, --pages N         single-page set, up to %lu (default 2048)\n"
"  -r, --reps N          timed repetitions, 1-%d (default 11)\n"
"  -j, --json[=FILE]     write the results as JSON to FILE as well as the\n"
"                        table; without FILE, print JSON instead of the table\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0 when every row was measured (whether or not the targets\n"
"are met), 1 when a row could not be measured, 2 on a usage error.\n",
		prog, MAX_SINGLE_PAGES, MAX_REPS);
}

static int parse_ulong(const char *s, unsigned long min, unsigned long max,
		       unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *v < min || *v > max)
		return -EINVAL;
	return 0;
}

/* Return: 0, 1 for --help, or -EINVAL. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{ "svmx-device", required_argument, NULL, 'd' },
		{ "hmm-device", required_argument, NULL, 'D' },
		{ "size", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'p' },
		{ "reps", required_argument, NULL, 'r' },
		{ "json", optional_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned long v;
	int c, ret = 0;

	*o = (struct opts){ .chunk_mib = 64, .pages = 2048, .reps = 11 };
	while (!ret && (c = getopt_long(argc, argv, "d:D:s:p:r:j::h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
		case 'D':
			ret = parse_ulong(optarg, 0, 63, &v);
			*(c == 'd' ? &o->svmx_dev : &o->hmm_dev) = v;
			break;
		case 's':
			ret = parse_ulong(optarg, 2, COPYBENCH_MAX * PAGE_SZ >> 20, &o->chunk_mib);
			if (!ret && o->chunk_mib % 2)
				ret = -EINVAL;
			break;
		case 'p':
			/* Two VMAs per page: stay well below vm.max_map_count. */
			ret = parse_ulong(optarg, 1, MAX_SINGLE_PAGES, &o->pages);
			break;
		case 'r':
			ret = parse_ulong(optarg, 1, MAX_REPS, &v);
			o->reps = v;
			break;
		case 'j':
			o->json = optarg ? optarg : "-";
			break;
		case 'h':
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (!ret && optind < argc)
		ret = -EINVAL;
	return ret;
}

int migrate_main(int argc, char **argv)
{
	struct report rp;
	struct bench b;
	struct opts o;
	int ret;

	ret = parse_opts(argc, argv, &o);
	if (ret) {
		usage(ret > 0 ? stdout : stderr, "svmx-bench");
		return ret > 0 ? 0 : 2;
	}
	ret = bench_init(&b, &o);
	if (ret) {
		fprintf(stderr, "svmx-bench: allocating the buffers: %s\n", strerror(-ret));
		bench_fini(&b);
		return 1;
	}
	bench_run(&b);
	report_build(&rp, &b);
	if (!o.json || strcmp(o.json, "-"))
		print_table(&rp, &b);
	if (o.json) {
		ret = write_json(&rp, &b);
		if (ret)
			fprintf(stderr, "svmx-bench: writing %s: %s\n", o.json, strerror(-ret));
	}
	bench_fini(&b);
	return rp.valid && !ret ? 0 : 1;
}
