/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmx-bench: what the subcommands share.
 *
 *   migrate.c    svmx-bench [migrate]: migration throughput (make bench)
 *   workload.c   svmx-bench workload NAME: the framework of the device
 *                workloads (options, buffer, device work, checks, output)
 *   patterns.c   the single-process workloads (stream ... phase)
 *   tenants.c    two tenants in two cgroup v2 groups
 *   report.c     svmx-bench report: Markdown tables from --json lines
 */
#ifndef SVMX_BENCH_H
#define SVMX_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uapi/svmx.h>

#define WL_PAGE		4096UL
#define WL_CHUNK	(2UL << 20)
#define WL_WS_MIN	0.25
#define WL_WS_MAX	2.0

/* Words of a page of the working set (u64 each). */
enum wl_word {
	WL_TAG,		/* written by the CPU before the work: wl_tag() */
	WL_DEV,		/* the device's ATOMIC_ADDs count here */
	WL_CPU,		/* the CPU's increments count here (pingpong) */
};

/* Options of `svmx-bench workload`; 0 means "the workload's default". */
struct wl_opts {
	const char *name;
	unsigned int dev;
	double ws;		/* working set / device memory */
	uint64_t seed;
	unsigned int passes;
	double skew;		/* zipf */
	unsigned int stride;	/* stride, phase: pages */
	double hot;		/* phase: hot subset / device memory */
	unsigned int cpu_every;	/* pingpong: CPU touches 1 page in this many */
	const char *cgroup_root;	/* tenants */
	const char *label;	/* copied into the output (policy name) */
	long long corrupt_page;	/* tests of the check: -1, or a page to spoil */
	const char *ext_clock;	/* file with a CPU-ns counter kept by someone else */
	bool json;
};

/* Deterministic generator (splitmix64): the same seed, the same run. */
struct wl_rng {
	uint64_t s;
};

uint64_t wl_rng_next(struct wl_rng *r);
/* Uniform in [0, n). */
uint64_t wl_rng_below(struct wl_rng *r, uint64_t n);
double wl_rng_unit(struct wl_rng *r);

/*
 * One run over one binding: the working set, the device work queued but
 * not yet submitted, and the model of what each page must hold.
 */
struct wl {
	const struct wl_opts *o;
	int fd;
	uint64_t mem_bytes;	/* device memory */
	char *map;		/* mapping, 2 MiB aligned at @base */
	size_t map_len;
	char *base;
	size_t npages;
	uint32_t *dev_count;	/* ATOMIC_ADDs each page must have seen */
	uint32_t *cpu_count;	/* CPU increments each page must have seen */
	struct svmx_op *ops;	/* queued device work */
	unsigned int nr_ops;
	uint64_t accesses;	/* device accesses queued so far */
	uint64_t cpu_touches;
	struct wl_rng rng;
};

/* What a run measured. */
struct wl_result {
	struct svmx_counters c;	/* the binding's totals over the work */
	uint64_t cpu_user_ns;
	uint64_t cpu_sys_ns;
	uint64_t ext_cpu_ns;	/* --ext-clock advance over the work */
	bool has_ext;		/* --ext-clock was given */
	uint64_t accesses;
	uint64_t cpu_touches;
	uint64_t set_bytes;
	uint64_t mem_bytes;
	unsigned int passes;
};

/* A single-process workload: queue device work and CPU touches on @w. */
struct wl_desc {
	const char *name;
	const char *help;
	unsigned int passes;	/* default */
	int (*run)(struct wl *w, unsigned int passes);
};

extern const struct wl_desc wl_descs[];
extern const unsigned int wl_nr_descs;

int wl_touch(struct wl *w, size_t page);
int wl_touch_seq(struct wl *w, size_t first, size_t n, size_t step);
int wl_touch_elems(struct wl *w, size_t first, size_t npages,
		   unsigned int per_page);
int wl_flush(struct wl *w);
int wl_cpu_touch(struct wl *w, size_t page);
size_t wl_pages_of(const struct wl *w, double ratio_of_mem);

int wl_run_one(const struct wl_opts *o, const struct wl_desc *d,
	       double ws, uint64_t seed, struct wl_result *res);
const struct wl_desc *wl_find(const char *name);

int tenants_run(const struct wl_opts *o);
struct json_object;
struct json_object *wl_result_json(const struct wl_result *r);
void wl_print(const struct wl_opts *o, const char *name,
	      const struct wl_result *r, struct json_object *extra);
void wl_add_counters(struct svmx_counters *sum, const struct svmx_counters *c);

int migrate_main(int argc, char **argv);
int workload_main(int argc, char **argv);
int report_main(int argc, char **argv);

#endif /* SVMX_BENCH_H */
