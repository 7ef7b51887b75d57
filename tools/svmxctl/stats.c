// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl stats: what svmx did, per device, per deciding policy or per
 * cgroup, counted by BPF programs on the svmx: tracepoints
 * (bpf/svmxctl/stats.bpf.c), never scraped from tracefs text.
 *
 *   svmxctl stats [--interval S] [--count N] [--by KEY] [--json]
 *   svmxctl stats [--by KEY] [--json] -- CMD [ARGS]...
 *
 * Also the collector that top.c and export.c share: start the programs,
 * read their per-CPU maps into a snapshot, subtract two snapshots.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "svmxctl.h"
#include "stats.h"
#include "ctl_stats.skel.h"

const char *const ctl_by_names[CTL_BY_NR] = { "device", "policy", "cgroup" };

/* Set by SIGINT/SIGTERM: the sampling loops end after the current sample. */
volatile sig_atomic_t ctl_stopping;

/* ------------------------------------------------------------------
 * The collector
 */

/**
 * ctl_stats_start() - load and attach the counting programs.
 * @skel: the loaded skeleton; counting runs until ctl_stats_stop().
 *
 * Return: 0 or a negative errno, after printing what failed.
 */
int ctl_stats_start(struct ctl_stats **skel)
{
	struct ctl_stats *s = ctl_stats__open_and_load();
	int err;

	if (!s) {
		err = -errno;
		ctl_err("cannot load the stats programs: %s (-v for libbpf's log)",
			strerror(-err));
		return err;
	}
	err = ctl_stats__attach(s);
	if (err) {
		ctl_err("cannot attach to the svmx tracepoints: %s", strerror(-err));
		ctl_stats__destroy(s);
		return err;
	}
	*skel = s;
	return 0;
}

/**
 * ctl_stats_stop() - detach and unload the counting programs.
 * @skel: from ctl_stats_start(), or NULL.
 */
void ctl_stats_stop(struct ctl_stats *skel)
{
	ctl_stats__destroy(skel);
}

static void row_add(struct ctl_stats_row *dst, const struct ctl_stats_row *src)
{
	const __u64 *s = (const __u64 *)src;
	__u64 *d = (__u64 *)dst;
	size_t i;

	for (i = 0; i < sizeof(*src) / sizeof(__u64); i++)
		d[i] += s[i];
}

static void row_sub(struct ctl_stats_row *dst, const struct ctl_stats_row *src)
{
	const __u64 *s = (const __u64 *)src;
	__u64 *d = (__u64 *)dst;
	size_t i;

	for (i = 0; i < sizeof(*src) / sizeof(__u64); i++)
		d[i] -= s[i];
}

/* Sum the per-CPU values of @key in @map_fd into @row. */
static int read_percpu(int map_fd, const void *key, struct ctl_stats_row *row)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	struct ctl_stats_row *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	memset(row, 0, sizeof(*row));
	if (bpf_map_lookup_elem(map_fd, key, vals)) {
		free(vals);
		return -errno;
	}
	for (i = 0; i < ncpu; i++)
		row_add(row, &vals[i]);
	free(vals);
	return 0;
}

static int nr_devices(void)
{
	char *text;
	int n;

	if (ctl_read_file(SVMX_SYSFS_MODULE "/parameters/nr_devices", &text))
		return 0;
	n = atoi(text);
	free(text);
	return n < 0 ? 0 : n > CTL_STATS_MAX_DEVICES ? CTL_STATS_MAX_DEVICES : n;
}

static int read_devices(struct ctl_stats *skel, struct ctl_stats_snap *s)
{
	int fd = bpf_map__fd(skel->maps.by_device), n = nr_devices(), err;
	__u32 d;

	s->e[CTL_BY_DEVICE] = calloc(n ? n : 1, sizeof(struct ctl_stats_entry));
	if (!s->e[CTL_BY_DEVICE])
		return -ENOMEM;
	for (d = 0; d < (__u32)n; d++) {
		struct ctl_stats_entry *e = &s->e[CTL_BY_DEVICE][d];

		snprintf(e->name, sizeof(e->name), "svmx%u", d);
		e->id = d;
		err = read_percpu(fd, &d, &e->row);
		if (err)
			return err;
	}
	s->n[CTL_BY_DEVICE] = n;
	return 0;
}

/* Every key of a hash map, into a malloc()ed array of @size-byte keys. */
static int hash_keys(int fd, size_t size, void **keys, size_t *n)
{
	char prev[CTL_STATS_NAME_LEN], key[CTL_STATS_NAME_LEN];
	size_t cap = 16;
	void *k = malloc(cap * size), *bigger;
	bool first = true;

	if (!k)
		return -ENOMEM;
	*n = 0;
	while (!bpf_map_get_next_key(fd, first ? NULL : prev, key)) {
		if (*n == cap) {
			cap *= 2;
			bigger = realloc(k, cap * size);
			if (!bigger) {
				free(k);
				return -ENOMEM;
			}
			k = bigger;
		}
		memcpy((char *)k + *n * size, key, size);
		memcpy(prev, key, size);
		(*n)++;
		first = false;
	}
	*keys = k;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct ctl_stats_entry *)a)->name,
		      ((const struct ctl_stats_entry *)b)->name);
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = ((const struct ctl_stats_entry *)a)->id;
	uint64_t y = ((const struct ctl_stats_entry *)b)->id;

	return x < y ? -1 : x > y;
}

static int read_policies(struct ctl_stats *skel, struct ctl_stats_snap *s)
{
	int fd = bpf_map__fd(skel->maps.by_policy), err;
	struct ctl_stats_policy_key *keys;
	size_t n, i;

	err = hash_keys(fd, sizeof(*keys), (void **)&keys, &n);
	if (err)
		return err;
	s->e[CTL_BY_POLICY] = calloc(n ? n : 1, sizeof(struct ctl_stats_entry));
	if (!s->e[CTL_BY_POLICY]) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n && !err; i++) {
		struct ctl_stats_entry *e = &s->e[CTL_BY_POLICY][i];

		snprintf(e->name, sizeof(e->name), "%.*s", CTL_STATS_NAME_LEN,
			 keys[i].name);
		err = read_percpu(fd, &keys[i], &e->row);
	}
	free(keys);
	s->n[CTL_BY_POLICY] = n;
	qsort(s->e[CTL_BY_POLICY], n, sizeof(struct ctl_stats_entry), cmp_name);
	return err;
}

/* The cgroup ids still to be named by the walk of /sys/fs/cgroup. */
static struct ctl_stats_snap *walk_snap;

static int name_cgroup(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct ctl_stats_entry *e = walk_snap->e[CTL_BY_CGROUP];
	size_t i, root = strlen(SVMX_CGROUP_ROOT);

	if (flag != FTW_D)
		return 0;
	for (i = 0; i < walk_snap->n[CTL_BY_CGROUP]; i++)
		if (e[i].id == st->st_ino)
			snprintf(e[i].name, sizeof(e[i].name), "%s",
				 path[root] ? path + root : "/");
	return 0;
}

static int read_cgroups(struct ctl_stats *skel, struct ctl_stats_snap *s)
{
	int fd = bpf_map__fd(skel->maps.by_cgroup), err;
	__u64 *keys;
	size_t n, i;

	err = hash_keys(fd, sizeof(*keys), (void **)&keys, &n);
	if (err)
		return err;
	s->e[CTL_BY_CGROUP] = calloc(n ? n : 1, sizeof(struct ctl_stats_entry));
	if (!s->e[CTL_BY_CGROUP]) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n && !err; i++) {
		struct ctl_stats_entry *e = &s->e[CTL_BY_CGROUP][i];

		e->id = keys[i];
		snprintf(e->name, sizeof(e->name), "%llu", (unsigned long long)keys[i]);
		err = read_percpu(fd, &keys[i], &e->row);
	}
	free(keys);
	s->n[CTL_BY_CGROUP] = n;
	if (err || !n)
		return err;
	/* cgroup v2 ids are the inode numbers of the cgroups' directories */
	walk_snap = s;
	nftw(SVMX_CGROUP_ROOT, name_cgroup, 16, FTW_PHYS | FTW_MOUNT);
	walk_snap = NULL;
	qsort(s->e[CTL_BY_CGROUP], n, sizeof(struct ctl_stats_entry), cmp_id);
	return 0;
}

/**
 * ctl_stats_free() - release a snapshot's rows.
 * @s: the snapshot (zeroed).
 */
void ctl_stats_free(struct ctl_stats_snap *s)
{
	int by;

	for (by = 0; by < CTL_BY_NR; by++)
		free(s->e[by]);
	memset(s, 0, sizeof(*s));
}

/**
 * ctl_stats_read() - every counter now.
 * @skel: the running programs.
 * @s: filled in; ctl_stats_free() releases it, also after a failure.
 *
 * Return: 0 or a negative errno.
 */
int ctl_stats_read(struct ctl_stats *skel, struct ctl_stats_snap *s)
{
	struct timespec ts;
	int err;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s->t = ts.tv_sec + ts.tv_nsec / 1e9;
	err = read_devices(skel, s);
	if (!err)
		err = read_policies(skel, s);
	if (!err)
		err = read_cgroups(skel, s);
	return err;
}

static const struct ctl_stats_entry *find(const struct ctl_stats_snap *s, enum ctl_by by,
					  const struct ctl_stats_entry *e)
{
	size_t i;

	for (i = 0; i < s->n[by]; i++)
		if (by == CTL_BY_POLICY ? !strcmp(s->e[by][i].name, e->name) :
					  s->e[by][i].id == e->id)
			return &s->e[by][i];
	return NULL;
}

/**
 * ctl_stats_diff() - the counts between two snapshots.
 * @cur: the later snapshot.
 * @prev: the earlier one, or NULL (then @diff is a copy of @cur).
 * @diff: @cur's rows minus @prev's; @diff->t is the interval in seconds
 *	(without @prev, @cur's time).
 *
 * Return: 0 or -ENOMEM.
 */
int ctl_stats_diff(const struct ctl_stats_snap *cur, const struct ctl_stats_snap *prev,
		   struct ctl_stats_snap *diff)
{
	const struct ctl_stats_entry *old;
	size_t i;
	int by;

	memset(diff, 0, sizeof(*diff));
	diff->t = prev ? cur->t - prev->t : cur->t;
	for (by = 0; by < CTL_BY_NR; by++) {
		diff->e[by] = calloc(cur->n[by] ? cur->n[by] : 1, sizeof(*diff->e[by]));
		if (!diff->e[by]) {
			ctl_stats_free(diff);
			return -ENOMEM;
		}
		memcpy(diff->e[by], cur->e[by], cur->n[by] * sizeof(*diff->e[by]));
		diff->n[by] = cur->n[by];
		for (i = 0; prev && i < cur->n[by]; i++) {
			old = find(prev, by, &cur->e[by][i]);
			if (old)
				row_sub(&diff->e[by][i].row, &old->row);
		}
	}
	return 0;
}

/**
 * ctl_stats_label() - how a row is named on screen.
 * @by: its grouping.
 * @e: the row.
 *
 * Return: the row's name, "(none)" for events outside any decision.
 */
const char *ctl_stats_label(enum ctl_by by, const struct ctl_stats_entry *e)
{
	return by == CTL_BY_POLICY && !e->name[0] ? "(none)" : e->name;
}

/**
 * ctl_stats_bucket_le_ns() - the upper bound of a histogram bucket.
 * @b: the bucket.
 *
 * Return: 2^@b ns, or 0 for the last bucket (no bound: +Inf).
 */
uint64_t ctl_stats_bucket_le_ns(unsigned int b)
{
	return b < CTL_STATS_BUCKETS - 1 ? 1ULL << b : 0;
}

/**
 * ctl_stats_quantile() - a quantile of the fault-service time.
 * @r: the row.
 * @q: 0 < q <= 1.
 *
 * Return: the upper bound in ns of the bucket holding the quantile
 * (the histogram's resolution: the true value is at most this and more
 * than half of it); NAN without faults, INFINITY in the last bucket.
 */
double ctl_stats_quantile(const struct ctl_stats_row *r, double q)
{
	uint64_t total = 0, seen = 0;
	unsigned int b;

	for (b = 0; b < CTL_STATS_BUCKETS; b++)
		total += r->hist[b];
	if (!total)
		return NAN;
	for (b = 0; b < CTL_STATS_BUCKETS; b++) {
		seen += r->hist[b];
		if (seen >= q * total)
			break;
	}
	return ctl_stats_bucket_le_ns(b) ? (double)ctl_stats_bucket_le_ns(b) : INFINITY;
}

/**
 * ctl_parse_interval() - an --interval argument.
 * @cmd: the subcommand, for the error.
 * @arg: seconds, 0.1 to 86400.
 * @sec: the value.
 *
 * Return: 0, or EXIT_USAGE after printing why.
 */
int ctl_parse_interval(const char *cmd, const char *arg, double *sec)
{
	if (ctl_parse_double(arg, sec) || *sec < 0.1 || *sec > 86400)
		return ctl_usage_err(cmd, "bad interval '%s': seconds from 0.1 to 86400", arg);
	return 0;
}

/**
 * ctl_sleep() - wait, unless a signal asks to stop.
 * @sec: seconds.
 *
 * Return: 0, or -EINTR when SIGINT or SIGTERM arrived.
 */
int ctl_sleep(double sec)
{
	struct timespec ts = { (time_t)sec, (long)((sec - (time_t)sec) * 1e9) };

	while (!ctl_stopping && nanosleep(&ts, &ts) && errno == EINTR)
		;
	return ctl_stopping ? -EINTR : 0;
}

static void on_stop(int sig)
{
	ctl_stopping = 1;
}

/**
 * ctl_stop_on_signals() - SIGINT and SIGTERM end the sampling cleanly.
 */
void ctl_stop_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* ------------------------------------------------------------------
 * svmxctl stats
 */

struct stats_opts {
	double interval;
	uint64_t count;
	enum ctl_by by;
	bool json;
	char **cmd;		/* after "--", NULL-terminated */
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: svmxctl stats [--interval S] [--count N] [--by KEY] [--json]\n"
		"       svmxctl stats [--by KEY] [--json] -- CMD [ARGS]...\n"
		"Count what svmx does, by BPF programs on the svmx: tracepoints: device\n"
		"faults (remote share), CPU faults, pages and bytes each way, evictions,\n"
		"ping-pong, fault-service time; per device, policy or cgroup.\n"
		"Without CMD: N tables of S seconds each, totals since start and rates.\n"
		"With CMD: count while CMD runs, print the totals, exit with its status.\n"
		"  -i, --interval S  seconds per sample, 0.1..86400 (default 1)\n"
		"  -c, --count N     samples, 1.. (default 1)\n"
		"  -b, --by KEY      device, policy or cgroup (default device)\n"
		"  -j, --json        one JSON document: an array of samples\n"
		"  -h, --help        this text\n");
}

static int parse_by(const char *arg, enum ctl_by *by)
{
	int i;

	for (i = 0; i < CTL_BY_NR; i++) {
		if (!strcmp(arg, ctl_by_names[i])) {
			*by = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Return: 0 to go on, -1 after -h, else the exit status of a usage error. */
static int parse_args(int argc, char **argv, struct stats_opts *o)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "by", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool timed = false;
	int opt, ret;

	*o = (struct stats_opts){ .interval = 1, .count = 1 };
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+i:c:b:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			ret = ctl_parse_interval("stats", optarg, &o->interval);
			if (ret)
				return ret;
			timed = true;
			break;
		case 'c':
			if (ctl_parse_u64(optarg, &o->count) || !o->count || o->count > 1000000)
				return ctl_usage_err("stats", "bad count '%s': 1 to 1000000",
						     optarg);
			timed = true;
			break;
		case 'b':
			if (parse_by(optarg, &o->by))
				return ctl_usage_err("stats",
						     "unknown --by '%s': device, policy or cgroup",
						     optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return ctl_usage_err("stats", "bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc && !strcmp(argv[optind - 1], "--")) {
		o->cmd = argv + optind;
		if (timed)
			return ctl_usage_err("stats",
					     "--interval and --count do not go with a command");
		return 0;
	}
	if (optind < argc)
		return ctl_usage_err("stats", "unexpected argument '%s' (a command goes after --)",
				     argv[optind]);
	if (!strcmp(argv[argc - 1], "--"))
		return ctl_usage_err("stats", "no command after --");
	return 0;
}

/* ---- text ---- */

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * part / whole : 0;
}

static void fmt_bytes(char *buf, size_t size, double b)
{
	snprintf(buf, size, "%.1fMiB", b / (1 << 20));
}

static void fmt_lat(char *buf, size_t size, double ns)
{
	if (isnan(ns))
		snprintf(buf, size, "-");
	else if (isinf(ns))
		snprintf(buf, size, ">17s");
	else
		snprintf(buf, size, "%.0fus", ns / 1000);
}

/**
 * stats_print_header() - the column titles of the stats table.
 * @f: where.
 * @by: the first column's title.
 * @w: its width.
 */
static void stats_print_header(FILE *f, enum ctl_by by, int w)
{
	char key[16];
	int i;

	for (i = 0; ctl_by_names[by][i] && i < 15; i++)
		key[i] = ctl_by_names[by][i] - 'a' + 'A';
	key[i] = '\0';
	fprintf(f, "%-*s %10s %7s %10s %10s %11s %10s %11s %9s %10s %9s %7s %7s\n",
		w, key, "FAULTS", "REMOTE%", "CPU_FAULTS", "TO_DEV_PG", "TO_DEV_B",
		"TO_SYS_PG", "TO_SYS_B", "EVICTIONS", "EVICTED_PG", "PINGPONG",
		"LAT_P50", "LAT_P99");
}

/* One line of counts; @per > 0: as rates over @per seconds. */
static void stats_print_line(FILE *f, const char *key, int w,
			     const struct ctl_stats_row *r, double per)
{
	double k = per > 0 ? 1 / per : 1;
	int p = per > 0 ? 1 : 0;
	char tdev[32], tsys[32], p50[16], p99[16];

	fmt_bytes(tdev, sizeof(tdev), r->bytes_to_device * k);
	fmt_bytes(tsys, sizeof(tsys), r->bytes_to_system * k);
	fmt_lat(p50, sizeof(p50), ctl_stats_quantile(r, 0.5));
	fmt_lat(p99, sizeof(p99), ctl_stats_quantile(r, 0.99));
	fprintf(f, "%-*s %10.*f %6.1f%% %10.*f %10.*f %11s %10.*f %11s %9.*f %10.*f %9.*f %7s %7s\n",
		w, key, p, r->faults * k, pct(r->remote, r->faults),
		p, r->cpu_faults * k, p, r->pages_to_device * k, tdev,
		p, r->pages_to_system * k, tsys, p, r->evictions * k,
		p, r->evicted_pages * k, p, r->pingpong * k, p50, p99);
}

static int key_width(const struct ctl_stats_snap *s, enum ctl_by by)
{
	int w = 8;
	size_t i;

	for (i = 0; i < s->n[by]; i++)
		if ((int)strlen(ctl_stats_label(by, &s->e[by][i])) > w)
			w = strlen(ctl_stats_label(by, &s->e[by][i]));
	return w;
}

/**
 * ctl_stats_print_table() - one sample as a table.
 * @f: where.
 * @by: the rows' grouping.
 * @tot: totals since the programs started.
 * @d: the interval's counts (d->t its length), or NULL: totals only.
 * @title: the first line.
 *
 * With @d, each row is followed by a "/s" line: the interval's rates,
 * its remote share and its latency quantiles.
 */
void ctl_stats_print_table(FILE *f, enum ctl_by by, const struct ctl_stats_snap *tot,
			   const struct ctl_stats_snap *d, const char *title)
{
	int w = key_width(tot, by);
	size_t i;

	fprintf(f, "%s\n", title);
	stats_print_header(f, by, w);
	if (!tot->n[by])
		fprintf(f, "(no events)\n");
	for (i = 0; i < tot->n[by]; i++) {
		stats_print_line(f, ctl_stats_label(by, &tot->e[by][i]), w,
				 &tot->e[by][i].row, 0);
		if (d && i < d->n[by] && d->t > 0)
			stats_print_line(f, "  /s", w, &d->e[by][i].row, d->t);
	}
}

/* ---- JSON ---- */

static struct json_object *row_json(const struct ctl_stats_row *r, double per)
{
	static const struct { const char *name; size_t off; } f[] = {
#define F(x) { #x, offsetof(struct ctl_stats_row, x) }
		F(faults), F(fault_errors), F(remote), F(cpu_faults),
		F(pages_to_device), F(pages_to_system), F(bytes_to_device),
		F(bytes_to_system), F(copy_cmds), F(evictions), F(evicted_pages),
		F(evictions_failed), F(pingpong), F(remote_pages), F(peer_pages),
		F(decisions), F(fallbacks), F(service_ns),
#undef F
	};
	struct json_object *o = json_object_new_object(), *h;
	unsigned int b;
	double ratio;
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		__u64 v = *(const __u64 *)((const char *)r + f[i].off);

		json_object_object_add(o, f[i].name, per > 0 ?
				       json_object_new_double(v / per) :
				       json_object_new_uint64(v));
	}
	if (per > 0)
		return o;
	ratio = r->faults ? (double)r->remote / r->faults : 0;
	json_object_object_add(o, "remote_ratio", json_object_new_double(ratio));
	h = json_object_new_array();
	for (b = 0; b < CTL_STATS_BUCKETS; b++) {
		struct json_object *e;

		if (!r->hist[b])
			continue;
		e = json_object_new_object();
		if (ctl_stats_bucket_le_ns(b))
			json_object_object_add(e, "le_ns",
					       json_object_new_uint64(ctl_stats_bucket_le_ns(b)));
		else
			json_object_object_add(e, "gt_ns",
					       json_object_new_uint64(1ULL << (b - 1)));
		json_object_object_add(e, "count", json_object_new_uint64(r->hist[b]));
		json_object_array_add(h, e);
	}
	json_object_object_add(o, "service_ns_hist", h);
	return o;
}

/**
 * ctl_stats_sample_json() - one sample as a JSON object.
 * @n: the sample's number, from 1.
 * @by: the rows' grouping.
 * @elapsed: seconds since counting started.
 * @tot: totals since then.
 * @d: the interval's counts, or NULL.
 *
 * Return: the object.
 */
struct json_object *ctl_stats_sample_json(uint64_t n, enum ctl_by by, double elapsed,
					  const struct ctl_stats_snap *tot,
					  const struct ctl_stats_snap *d)
{
	struct json_object *o = json_object_new_object(), *rows = json_object_new_array();
	size_t i;

	json_object_object_add(o, "sample", json_object_new_uint64(n));
	json_object_object_add(o, "by", json_object_new_string(ctl_by_names[by]));
	json_object_object_add(o, "elapsed_seconds", json_object_new_double(elapsed));
	if (d)
		json_object_object_add(o, "interval_seconds", json_object_new_double(d->t));
	for (i = 0; i < tot->n[by]; i++) {
		const struct ctl_stats_entry *e = &tot->e[by][i];
		struct json_object *r = json_object_new_object();

		if (by == CTL_BY_DEVICE) {
			json_object_object_add(r, "device", json_object_new_uint64(e->id));
		} else if (by == CTL_BY_POLICY) {
			json_object_object_add(r, "policy", e->name[0] ?
					       json_object_new_string(e->name) : NULL);
		} else {
			json_object_object_add(r, "cgroup", json_object_new_string(e->name));
			json_object_object_add(r, "cgroup_id", json_object_new_uint64(e->id));
		}
		json_object_object_add(r, "totals", row_json(&e->row, 0));
		if (d && i < d->n[by] && d->t > 0)
			json_object_object_add(r, "rates", row_json(&d->e[by][i].row, d->t));
		json_object_array_add(rows, r);
	}
	json_object_object_add(o, "rows", rows);
	return o;
}

/* ---- the two modes ---- */

static int sample_loop(struct ctl_stats *skel, const struct stats_opts *o)
{
	struct ctl_stats_snap start, prev, cur, tot, d;
	struct json_object *doc = o->json ? json_object_new_array() : NULL;
	char title[256];
	uint64_t n;
	int err;

	err = ctl_stats_read(skel, &start);
	if (err)
		goto out_start;
	err = ctl_stats_diff(&start, NULL, &prev);
	for (n = 1; !err && n <= o->count; n++) {
		if (ctl_sleep(o->interval))
			break;
		err = ctl_stats_read(skel, &cur);
		if (!err)
			err = ctl_stats_diff(&cur, &start, &tot);
		if (!err)
			err = ctl_stats_diff(&cur, &prev, &d);
		if (!err) {
			if (doc) {
				json_object_array_add(doc, ctl_stats_sample_json(n, o->by, tot.t,
										 &tot, &d));
			} else {
				snprintf(title, sizeof(title),
					 "svmxctl stats: sample %llu of %llu, %.2f s, by %s (totals since start; /s: this interval)",
					 (unsigned long long)n, (unsigned long long)o->count, d.t,
					 ctl_by_names[o->by]);
				if (n > 1)
					printf("\n");
				ctl_stats_print_table(stdout, o->by, &tot, &d, title);
				fflush(stdout);
			}
			ctl_stats_free(&d);
			ctl_stats_free(&tot);
		}
		ctl_stats_free(&prev);
		prev = cur;
	}
	ctl_stats_free(&prev);
out_start:
	ctl_stats_free(&start);
	if (err) {
		json_object_put(doc);
		return ctl_err("cannot read the counters: %s", strerror(-err));
	}
	if (doc && ctl_json_print(doc))
		return 1;
	return 0;
}

/*
 * Run @argv as a child; its exec failure comes back through a
 * close-on-exec pipe, so that svmxctl reports it instead of counting.
 */
static int run_child(char **argv, pid_t *pid)
{
	int fds[2], err = 0;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	*pid = fork();
	if (*pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (!*pid) {
		close(fds[0]);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		execvp(argv[0], argv);
		err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(fds[1]);
	n = read(fds[0], &err, sizeof(err));
	close(fds[0]);
	if (n == sizeof(err)) {
		waitpid(*pid, NULL, 0);
		return -err;
	}
	return 0;
}

static int command_mode(struct ctl_stats *skel, const struct stats_opts *o)
{
	struct ctl_stats_snap start, cur, tot;
	struct json_object *doc, *sample, *cmd;
	int err, status = 0, exit_status;
	char title[512];
	pid_t pid = -1;
	char **a;

	err = ctl_stats_read(skel, &start);
	if (err) {
		ctl_stats_free(&start);
		return ctl_err("cannot read the counters: %s", strerror(-err));
	}
	/* ^C goes to the command; svmxctl prints what it counted. */
	signal(SIGINT, SIG_IGN);
	err = run_child(o->cmd, &pid);
	if (err) {
		ctl_stats_free(&start);
		return ctl_err("cannot run '%s': %s", o->cmd[0], strerror(-err));
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	err = ctl_stats_read(skel, &cur);
	if (!err)
		err = ctl_stats_diff(&cur, &start, &tot);
	ctl_stats_free(&start);
	ctl_stats_free(&cur);
	if (err) {
		ctl_stats_free(&tot);
		return ctl_err("cannot read the counters: %s", strerror(-err));
	}
	if (o->json) {
		doc = json_object_new_array();
		sample = ctl_stats_sample_json(1, o->by, tot.t, &tot, NULL);
		cmd = json_object_new_array();
		for (a = o->cmd; *a; a++)
			json_object_array_add(cmd, json_object_new_string(*a));
		json_object_object_add(sample, "command", cmd);
		json_object_object_add(sample, "exit_status", json_object_new_int(exit_status));
		json_object_array_add(doc, sample);
		ctl_json_print(doc);
	} else {
		snprintf(title, sizeof(title),
			 "svmxctl stats: '%s' ran %.2f s, exit status %d, by %s (totals)",
			 o->cmd[0], tot.t, exit_status, ctl_by_names[o->by]);
		ctl_stats_print_table(stdout, o->by, &tot, NULL, title);
	}
	ctl_stats_free(&tot);
	return exit_status;
}

/**
 * cmd_stats() - svmxctl stats.
 * @argc: argument count, argv[0] == "stats".
 * @argv: the arguments.
 *
 * Return: the exit status: 0, 1 on failure, 2 on bad usage; with a
 * command, the command's own status.
 */
int cmd_stats(int argc, char **argv)
{
	struct ctl_stats *skel = NULL;
	struct stats_opts o;
	int ret;

	ret = parse_args(argc, argv, &o);
	if (ret)
		return ret < 0 ? 0 : ret;
	if (ctl_need_root() || ctl_need_module())
		return 1;
	if (ctl_stats_start(&skel))
		return 1;
	if (o.cmd) {
		ret = command_mode(skel, &o);
	} else {
		ctl_stop_on_signals();
		ret = sample_loop(skel, &o);
	}
	ctl_stats_stop(skel);
	return ret;
}
