// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-bench workload NAME: deterministic device workloads through the
 * uapi, for comparing placement and eviction policies.
 *
 * A run binds to /dev/svmxN, maps a working set of --ws times the
 * device's memory (2 MiB aligned, base pages), and has the CPU write a
 * tag into every page.  The workload then queues device work: each device
 * access is an ATOMIC_ADD of 1 to the page's WL_DEV word, submitted in
 * SVMX_IOC_EXEC calls of up to SVMX_EXEC_MAX_OPS operations; sequential
 * sweeps are one operation over many pages, as a GPU kernel's would be.
 * Which pages it touches comes from the workload's pattern and a
 * splitmix64 generator seeded with --seed, so that the same seed gives
 * the same device work, and on one device with one policy the same
 * counters.
 *
 * After the work the binding's counters (SVMX_IOC_STATS) and the CPU time
 * of the process (getrusage) are taken; then the CPU reads every page
 * back and checks its tag and the count of device (and CPU) increments
 * it must have seen.  Any difference fails the run with the first page
 * that is wrong.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../svmx-tools.h"
#include "bench.h"


/* ------------------------------------------------------------------
 * Generator
 */

uint64_t wl_rng_next(struct wl_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t wl_rng_below(struct wl_rng *r, uint64_t n)
{
	/* Lemire's multiply-shift: no modulo bias worth the name here. */
	return (uint64_t)(((unsigned __int128)wl_rng_next(r) * n) >> 64);
}

double wl_rng_unit(struct wl_rng *r)
{
	return (wl_rng_next(r) >> 11) * 0x1.0p-53;
}

/* The CPU's tag of a page: never zero, different for every page and seed. */
static uint64_t wl_tag(uint64_t seed, size_t page)
{
	struct wl_rng r = { .s = seed ^ (page * 0x2545f4914f6cdd1dull) };

	return wl_rng_next(&r) | 1;
}

/* ------------------------------------------------------------------
 * Device work
 */

static uint64_t *wl_word(const struct wl *w, size_t page, enum wl_word word)
{
	return (uint64_t *)(w->base + page * WL_PAGE) + word;
}

int wl_flush(struct wl *w)
{
	struct svmx_exec exec = {
		.ops = (uintptr_t)w->ops,
		.nr_ops = w->nr_ops,
	};
	int ret = 0;

	if (!w->nr_ops)
		return 0;
	if (ioctl(w->fd, SVMX_IOC_EXEC, &exec)) {
		ret = -errno;
		fprintf(stderr, "svmx-bench: %s: SVMX_IOC_EXEC: %s (operation %u of %u)\n",
			w->o->name, strerror(-ret), exec.failed_op, w->nr_ops);
	}
	w->nr_ops = 0;
	return ret;
}

static int wl_queue(struct wl *w, const struct svmx_op *op)
{
	if (w->nr_ops == SVMX_EXEC_MAX_OPS) {
		int ret = wl_flush(w);

		if (ret)
			return ret;
	}
	w->ops[w->nr_ops++] = *op;
	return 0;
}

/* One device access to @page. */
int wl_touch(struct wl *w, size_t page)
{
	return wl_touch_seq(w, page, 1, 1);
}

/* Device accesses to pages @first, @first + @step, ... (@n of them), in order. */
int wl_touch_seq(struct wl *w, size_t first, size_t n, size_t step)
{
	struct svmx_op op = {
		.opcode = SVMX_OP_ATOMIC_ADD,
		.addr = (uintptr_t)wl_word(w, first, WL_DEV),
		.length = n,
		.stride = step * WL_PAGE,
		.value = 1,
	};
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		w->dev_count[first + i * step]++;
	w->accesses += n;
	return wl_queue(w, &op);
}

/*
 * @per_page accesses to each of @npages pages from @first on, in one
 * operation: a kernel streaming through its data.  @per_page is a power
 * of two up to 256; the first access of a page lands on its WL_DEV word,
 * the others on words in between that the check does not look at (but
 * never on the last word, which it does).
 */
int wl_touch_elems(struct wl *w, size_t first, size_t npages,
		   unsigned int per_page)
{
	struct svmx_op op = {
		.opcode = SVMX_OP_ATOMIC_ADD,
		.addr = (uintptr_t)wl_word(w, first, WL_DEV),
		.length = npages * per_page,
		.stride = WL_PAGE / per_page,
		.value = 1,
	};
	size_t i;

	if (!per_page || per_page > 256 || (per_page & (per_page - 1)))
		return -EINVAL;
	for (i = 0; i < npages; i++)
		w->dev_count[first + i]++;
	w->accesses += npages * per_page;
	return wl_queue(w, &op);
}

/* The CPU increments the WL_CPU word of @page (after all queued device work). */
int wl_cpu_touch(struct wl *w, size_t page)
{
	int ret = wl_flush(w);

	if (ret)
		return ret;
	(*wl_word(w, page, WL_CPU))++;
	w->cpu_count[page]++;
	w->cpu_touches++;
	return 0;
}

/* Pages in @ratio of device memory, at least one, at most the set. */
size_t wl_pages_of(const struct wl *w, double ratio_of_mem)
{
	size_t n = (size_t)(ratio_of_mem * w->mem_bytes / WL_PAGE);

	if (n < 1)
		n = 1;
	return n < w->npages ? n : w->npages;
}

/* ------------------------------------------------------------------
 * Set-up, check, tear-down
 */

static void wl_fini(struct wl *w)
{
	if (w->map)
		munmap(w->map, w->map_len);
	if (w->fd >= 0)
		close(w->fd);
	free(w->dev_count);
	free(w->cpu_count);
	free(w->ops);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

static int wl_init(struct wl *w, const struct wl_opts *o, double ws,
		   uint64_t seed)
{
	size_t i, set_len;
	int ret;

	memset(w, 0, sizeof(*w));
	w->o = o;
	w->rng.s = seed;
	w->fd = -1;
	ret = svmx_device_mem_bytes(o->dev, &w->mem_bytes);
	if (ret) {
		fprintf(stderr, "svmx-bench: /dev/svmx%u: %s\n", o->dev, strerror(-ret));
		return ret;
	}
	w->fd = svmx_open_bound(o->dev, 0);
	if (w->fd < 0) {
		ret = w->fd;
		fprintf(stderr, "svmx-bench: binding to /dev/svmx%u: %s\n", o->dev,
			strerror(-ret));
		return ret;
	}
	w->npages = (size_t)(ws * w->mem_bytes / WL_PAGE);
	if (!w->npages) {
		fprintf(stderr, "svmx-bench: /dev/svmx%u has no memory\n", o->dev);
		return -EINVAL;
	}
	set_len = w->npages * WL_PAGE;
	w->dev_count = calloc(w->npages, sizeof(*w->dev_count));
	w->cpu_count = calloc(w->npages, sizeof(*w->cpu_count));
	w->ops = calloc(SVMX_EXEC_MAX_OPS, sizeof(*w->ops));
	if (!w->dev_count || !w->cpu_count || !w->ops) {
		ret = -ENOMEM;
		goto fail;
	}
	/*
	 * 2 MiB aligned, so that the set covers the same chunks in every run,
	 * and base pages, so that khugepaged does not change the picture
	 * behind the run's back: both would make counters differ by seed.
	 */
	w->map_len = set_len + WL_CHUNK;
	w->map = mmap(NULL, w->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->map == MAP_FAILED) {
		w->map = NULL;
		ret = -errno;
		goto fail;
	}
	w->base = (char *)(((uintptr_t)w->map + WL_CHUNK - 1) & ~(WL_CHUNK - 1));
	if (madvise(w->base, set_len, MADV_NOHUGEPAGE)) {
		ret = -errno;
		goto fail;
	}
	for (i = 0; i < w->npages; i++)
		*wl_word(w, i, WL_TAG) = wl_tag(seed, i);
	return 0;
fail:
	fprintf(stderr, "svmx-bench: %s: setting up a working set of %zu MiB: %s\n",
		o->name, set_len >> 20, strerror(-ret));
	return ret;
}

/* Return: 0 when every page holds what the model says, else -EIO. */
static int wl_check(const struct wl *w, uint64_t seed)
{
	size_t i, bad = 0, first = 0;
	const char *what = NULL;

	for (i = 0; i < w->npages; i++) {
		const uint64_t *p = wl_word(w, i, WL_TAG);
		const char *why = NULL;

		if (p[WL_TAG] != wl_tag(seed, i))
			why = "CPU tag";
		else if (p[WL_DEV] != w->dev_count[i])
			why = "device count";
		else if (p[WL_CPU] != w->cpu_count[i])
			why = "CPU count";
		else if (p[WL_PAGE / 8 - 1])
			why = "last word (not written by anyone)";
		if (why && !bad++) {
			first = i;
			what = why;
		}
	}
	if (!bad)
		return 0;
	fprintf(stderr,
		"svmx-bench: %s: DATA CORRUPTED: %zu of %zu pages wrong; first: page %zu (%s): tag %#" PRIx64
		" (want %#" PRIx64 "), device count %" PRIu64 " (want %u), CPU count %" PRIu64 " (want %u)\n",
		w->o->name, bad, w->npages, first, what, *wl_word(w, first, WL_TAG),
		wl_tag(seed, first), *wl_word(w, first, WL_DEV), w->dev_count[first],
		*wl_word(w, first, WL_CPU), w->cpu_count[first]);
	return -EIO;
}

/*
 * --ext-clock: a file whose first line is a nanosecond counter that
 * someone else keeps up to date (tools/bench: the CPU time of the whole
 * VM on the host, which the guest's own clock cannot see).  The writer
 * ends the line with " end" (and should replace the file by rename());
 * a line read half written is read again, for up to a second.
 */
static int ext_clock_read(const char *path, uint64_t *ns)
{
	char buf[64];
	int tries, ret = -EPROTO;

	for (tries = 0; tries < 1000 && ret == -EPROTO; tries++) {
		FILE *f = fopen(path, "r");

		if (tries)
			usleep(1000);
		if (!f)
			return -errno;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%" SCNu64 " end", ns) == 1 && strstr(buf, " end"))
			ret = 0;
		fclose(f);
	}
	return ret;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + tv->tv_usec * 1000ull;
}

/*
 * Run workload @d once on a fresh binding: set up, work, measure, check.
 * Return: 0, or a negative errno (-EIO: the data was corrupted), with a
 * message on stderr.
 */
int wl_run_one(const struct wl_opts *o, const struct wl_desc *d, double ws,
	       uint64_t seed, struct wl_result *res)
{
	struct svmx_stats st = { 0 };
	struct rusage r0, r1;
	unsigned int passes = o->passes ? o->passes : d->passes;
	uint64_t ext0 = 0, ext1 = 0;
	struct wl w;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = wl_init(&w, o, ws, seed);
	if (ret)
		goto out;
	if (o->ext_clock) {
		ret = ext_clock_read(o->ext_clock, &ext0);
		if (ret)
			goto out_ext;
	}
	getrusage(RUSAGE_SELF, &r0);
	ret = d->run(&w, passes);
	if (!ret)
		ret = wl_flush(&w);
	getrusage(RUSAGE_SELF, &r1);
	if (ret)
		goto out;
	if (o->ext_clock) {
		ret = ext_clock_read(o->ext_clock, &ext1);
		if (ret)
			goto out_ext;
		res->ext_cpu_ns = ext1 - ext0;
		res->has_ext = true;
	}
	/* Before the check: its CPU reads would count as CPU faults. */
	if (ioctl(w.fd, SVMX_IOC_STATS, &st)) {
		ret = -errno;
		fprintf(stderr, "svmx-bench: SVMX_IOC_STATS: %s\n", strerror(-ret));
		goto out;
	}
	res->c = st.ctx;
	res->cpu_user_ns = tv_ns(&r1.ru_utime) - tv_ns(&r0.ru_utime);
	res->cpu_sys_ns = tv_ns(&r1.ru_stime) - tv_ns(&r0.ru_stime);
	res->accesses = w.accesses;
	res->cpu_touches = w.cpu_touches;
	res->set_bytes = w.npages * WL_PAGE;
	res->mem_bytes = w.mem_bytes;
	res->passes = passes;
	if (o->corrupt_page >= 0 && (size_t)o->corrupt_page < w.npages)
		(*wl_word(&w, o->corrupt_page, WL_DEV)) += 1000;
	ret = wl_check(&w, seed);
out:
	wl_fini(&w);
	return ret;
out_ext:
	fprintf(stderr, "svmx-bench: --ext-clock %s: %s\n", o->ext_clock,
		ret == -EPROTO ? "no \"NS end\" line" : strerror(-ret));
	goto out;
}

void wl_add_counters(struct svmx_counters *sum, const struct svmx_counters *c)
{
	__u64 *s = (__u64 *)sum;
	const __u64 *v = (const __u64 *)c;
	size_t i;

	for (i = 0; i < SVMX_NR_COUNTERS; i++)
		s[i] += v[i];
}

/* ------------------------------------------------------------------
 * Output
 */

static struct json_object *json_dbl(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *json_counters(const struct svmx_counters *c)
{
	struct json_object *j = json_object_new_object();
	const __u64 *v = (const __u64 *)c;
	size_t i;

	for (i = 0; i < SVMX_NR_COUNTERS; i++)
		json_object_object_add(j, svmx_counter_name(i), json_object_new_uint64(v[i]));
	return j;
}

/* The JSON of one result; wl_print() and tenants.c use it. */
struct json_object *wl_result_json(const struct wl_result *r)
{
	struct json_object *j = json_object_new_object();
	uint64_t cpu_ns = r->cpu_user_ns + r->cpu_sys_ns;

	json_object_object_add(j, "mem_bytes", json_object_new_uint64(r->mem_bytes));
	json_object_object_add(j, "set_bytes", json_object_new_uint64(r->set_bytes));
	json_object_object_add(j, "pages", json_object_new_uint64(r->set_bytes / WL_PAGE));
	json_object_object_add(j, "passes", json_object_new_uint64(r->passes));
	json_object_object_add(j, "accesses", json_object_new_uint64(r->accesses));
	json_object_object_add(j, "cpu_touches", json_object_new_uint64(r->cpu_touches));
	json_object_object_add(j, "modeled_ns", json_object_new_uint64(r->c.modeled_ns));
	json_object_object_add(j, "cpu_ns", json_object_new_uint64(cpu_ns));
	json_object_object_add(j, "cpu_user_ns", json_object_new_uint64(r->cpu_user_ns));
	json_object_object_add(j, "cpu_sys_ns", json_object_new_uint64(r->cpu_sys_ns));
	if (r->has_ext)
		json_object_object_add(j, "ext_cpu_ns", json_object_new_uint64(r->ext_cpu_ns));
	json_object_object_add(j, "counters", json_counters(&r->c));
	return j;
}

/*
 * One line of key=value pairs, or (--json) one JSON object; @extra_json
 * (tenants: the per-tenant results) is added to the object and consumed.
 */
void wl_print(const struct wl_opts *o, const char *name,
	      const struct wl_result *r, struct json_object *extra_json)
{
	const struct svmx_counters *c = &r->c;
	struct json_object *j;

	if (!o->json) {
		printf("workload=%s%s%s ws=%.2f seed=%" PRIu64 " pages=%" PRIu64
		       " accesses=%" PRIu64 " faults=%llu bytes_to_device=%llu bytes_to_system=%llu"
		       " evictions=%llu pingpong=%llu remote_accesses=%llu modeled_ns=%llu cpu_ns=%" PRIu64
		       " verified=yes\n",
		       name, o->label ? " label=" : "", o->label ? o->label : "",
		       o->ws, o->seed, r->set_bytes / WL_PAGE, r->accesses,
		       c->faults, c->bytes_to_device, c->bytes_to_system,
		       c->evictions, c->pingpong, c->remote_accesses,
		       c->modeled_ns, r->cpu_user_ns + r->cpu_sys_ns);
		if (extra_json)
			json_object_put(extra_json);
		return;
	}
	j = wl_result_json(r);
	json_object_object_add(j, "workload", json_object_new_string(name));
	if (o->label)
		json_object_object_add(j, "label", json_object_new_string(o->label));
	json_object_object_add(j, "device", json_object_new_uint64(o->dev));
	json_object_object_add(j, "seed", json_object_new_uint64(o->seed));
	json_object_object_add(j, "ws", json_dbl(o->ws));
	json_object_object_add(j, "skew", json_dbl(o->skew));
	json_object_object_add(j, "stride", json_object_new_uint64(o->stride));
	json_object_object_add(j, "hot", json_dbl(o->hot));
	json_object_object_add(j, "cpu_every", json_object_new_uint64(o->cpu_every));
	json_object_object_add(j, "verified", json_object_new_boolean(1));
	if (extra_json)
		json_object_object_add(j, "tenants", extra_json);
	printf("%s\n", json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
}

/* The single-process workload called @name, or NULL. */
const struct wl_desc *wl_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < wl_nr_descs; i++)
		if (!strcmp(wl_descs[i].name, name))
			return &wl_descs[i];
	return NULL;
}
