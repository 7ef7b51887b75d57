// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl export: svmx's counters in the Prometheus text exposition
 * format, for node-exporter's textfile collector (--collector.textfile.
 * directory=DIR), so that fleet-wide comparisons ride on the monitoring
 * that is already there.
 *
 *   svmxctl export --textfile DIR [--interval S] [--once]
 *
 * Every S seconds DIR/svmx.prom is replaced atomically: written to a
 * temporary file in DIR (".svmx.prom.XXXXXX", which the collector
 * ignores) and renamed over it, so a reader never sees a partial file.
 * The counters are those of `svmxctl stats`, counted from the exporter's
 * start (a restart is a counter reset, which rate() handles), in three
 * families per metric: svmx_device_*{device}, svmx_policy_*{policy} and
 * svmx_cgroup_*{cgroup}; the fault-service time is a histogram in
 * seconds.  The remote-access ratio is rate(remote_faults) / rate(faults).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "svmxctl.h"
#include "stats.h"

#define PROM_FILE	"svmx.prom"
/* Histogram buckets exported: le = 2^b ns for b in this range, then +Inf. */
#define PROM_BUCKET_LO	10	/* 1.024 us */
#define PROM_BUCKET_HI	(CTL_STATS_BUCKETS - 2)

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: svmxctl export --textfile DIR [--interval S] [--once]\n"
		"Write svmx's counters (those of svmxctl stats) to DIR/" PROM_FILE " in the\n"
		"Prometheus text format, atomically, every S seconds, for node-exporter's\n"
		"textfile collector.\n"
		"  -t, --textfile DIR  the collector's directory (must exist)\n"
		"  -i, --interval S    seconds between writes, 0.1..86400 (default 15)\n"
		"  -1, --once          count for one interval, write once and exit\n"
		"  -h, --help          this text\n");
}

/* A Prometheus label value: backslash, double quote and newline escaped. */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

struct prom_counter {
	const char *name;	/* after svmx_<kind>_ */
	const char *help;
	size_t off;		/* in struct ctl_stats_row */
	const char *extra;	/* an extra label, "direction=\"to_device\"" */
};

#define C(n, h, f, x) { n, h, offsetof(struct ctl_stats_row, f), x }

static const struct prom_counter counters[] = {
	C("faults_total", "Device faults serviced.", faults, NULL),
	C("fault_errors_total", "Device faults whose service ended with an error.",
	  fault_errors, NULL),
	C("remote_faults_total", "Device faults mapped remotely (system memory) instead of migrated.",
	  remote, NULL),
	C("cpu_faults_total", "CPU faults on device-resident pages.", cpu_faults, NULL),
	C("migrated_pages_total", "Pages migrated, by direction.", pages_to_device,
	  "direction=\"to_device\""),
	C("migrated_pages_total", NULL, pages_to_system, "direction=\"to_system\""),
	C("migrated_bytes_total", "Bytes copied by migrations, by direction.",
	  bytes_to_device, "direction=\"to_device\""),
	C("migrated_bytes_total", NULL, bytes_to_system, "direction=\"to_system\""),
	C("copy_commands_total", "Copy-engine commands of migrations.", copy_cmds, NULL),
	C("evictions_total", "Eviction attempts on device-memory blocks.", evictions, NULL),
	C("evicted_pages_total", "Pages moved to system memory by evictions.",
	  evicted_pages, NULL),
	C("eviction_failures_total", "Eviction attempts that left pages in their block.",
	  evictions_failed, NULL),
	C("pingpong_total", "Migrations that reversed their 2 MiB region's previous one.",
	  pingpong, NULL),
	C("remote_mapped_pages_total", "Pages mapped into device page tables where they are, by kind.",
	  remote_pages, "kind=\"system\""),
	C("remote_mapped_pages_total", NULL, peer_pages, "kind=\"peer\""),
	C("policy_decisions_total", "Policy decisions (fault, cpu_fault, prefetch, victim).",
	  decisions, NULL),
	C("policy_fallbacks_total", "Policy decisions rejected and taken by the built-in default.",
	  fallbacks, NULL),
};

#undef C

static const char *const kind_name[CTL_BY_NR] = { "device", "policy", "cgroup" };

static void put_labels(FILE *f, enum ctl_by by, const struct ctl_stats_entry *e,
		       const char *extra)
{
	fprintf(f, "{%s=\"", kind_name[by]);
	put_label(f, ctl_stats_label(by, e));
	fputc('"', f);
	if (extra)
		fprintf(f, ",%s", extra);
}

static void put_counters(FILE *f, enum ctl_by by, const struct ctl_stats_snap *s)
{
	size_t c, i;

	for (c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		if (counters[c].help) {
			fprintf(f, "# HELP svmx_%s_%s %s\n", kind_name[by], counters[c].name,
				counters[c].help);
			fprintf(f, "# TYPE svmx_%s_%s counter\n", kind_name[by],
				counters[c].name);
		}
		for (i = 0; i < s->n[by]; i++) {
			const struct ctl_stats_entry *e = &s->e[by][i];

			fprintf(f, "svmx_%s_%s", kind_name[by], counters[c].name);
			put_labels(f, by, e, counters[c].extra);
			fprintf(f, "} %llu\n", (unsigned long long)
				*(const __u64 *)((const char *)&e->row + counters[c].off));
		}
	}
}

static void put_histogram(FILE *f, enum ctl_by by, const struct ctl_stats_snap *s)
{
	uint64_t cum;
	size_t i;
	int b;

	fprintf(f, "# HELP svmx_%s_fault_service_seconds Real CPU time to service a device fault.\n",
		kind_name[by]);
	fprintf(f, "# TYPE svmx_%s_fault_service_seconds histogram\n", kind_name[by]);
	for (i = 0; i < s->n[by]; i++) {
		const struct ctl_stats_entry *e = &s->e[by][i];

		for (b = 0, cum = 0; b < CTL_STATS_BUCKETS; b++) {
			cum += e->row.hist[b];
			if (b < PROM_BUCKET_LO || b > PROM_BUCKET_HI)
				continue;
			fprintf(f, "svmx_%s_fault_service_seconds_bucket", kind_name[by]);
			put_labels(f, by, e, NULL);
			fprintf(f, ",le=\"%.9g\"} %llu\n", ctl_stats_bucket_le_ns(b) / 1e9,
				(unsigned long long)cum);
		}
		fprintf(f, "svmx_%s_fault_service_seconds_bucket", kind_name[by]);
		put_labels(f, by, e, NULL);
		fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
		fprintf(f, "svmx_%s_fault_service_seconds_sum", kind_name[by]);
		put_labels(f, by, e, NULL);
		fprintf(f, "} %.9f\n", e->row.service_ns / 1e9);
		fprintf(f, "svmx_%s_fault_service_seconds_count", kind_name[by]);
		put_labels(f, by, e, NULL);
		fprintf(f, "} %llu\n", (unsigned long long)cum);
	}
}

/*
 * The whole exposition of @s into a malloc()ed buffer, after a comment
 * that numbers the write (@n, from 1): the collector ignores it, a reader
 * can tell versions apart.
 */
static int render(const struct ctl_stats_snap *s, uint64_t n, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int by;

	if (!f)
		return -errno;
	fprintf(f, "# svmxctl export: write %llu, counting for %.3f s\n",
		(unsigned long long)n, s->t);
	for (by = 0; by < CTL_BY_NR; by++) {
		put_counters(f, by, s);
		put_histogram(f, by, s);
	}
	return fclose(f) ? -errno : 0;
}

/* Replace DIR/svmx.prom with @buf: a temporary file renamed over it. */
static int write_atomic(const char *dir, const char *buf, size_t len)
{
	char tmp[4096], dst[4096];
	size_t done = 0;
	ssize_t n;
	int fd, err = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, PROM_FILE) >= sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, PROM_FILE) >= sizeof(dst))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	while (done < len && !err) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			done += n;
	}
	if (!err && (fchmod(fd, 0644) || fsync(fd)))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, dst))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int export_once(struct ctl_stats *skel, const struct ctl_stats_snap *start,
		       const char *dir, uint64_t n)
{
	struct ctl_stats_snap cur, tot;
	size_t len = 0;
	char *buf = NULL;
	int err;

	err = ctl_stats_read(skel, &cur);
	if (!err)
		err = ctl_stats_diff(&cur, start, &tot);
	ctl_stats_free(&cur);
	if (err)
		return ctl_err("cannot read the counters: %s", strerror(-err));
	err = render(&tot, n, &buf, &len);
	ctl_stats_free(&tot);
	if (!err)
		err = write_atomic(dir, buf, len);
	free(buf);
	if (err)
		return ctl_err("cannot write %s/%s: %s", dir, PROM_FILE, strerror(-err));
	return 0;
}

static int check_dir(const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return ctl_err("export: %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ctl_err("export: %s: %s", dir, strerror(ENOTDIR));
	if (access(dir, W_OK | X_OK))
		return ctl_err("export: %s: %s", dir, strerror(errno));
	return 0;
}

/**
 * cmd_export() - svmxctl export.
 * @argc: argument count, argv[0] == "export".
 * @argv: the arguments.
 *
 * Return: the exit status: 0, 1 on failure, 2 on bad usage.
 */
int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "textfile", required_argument, NULL, 't' },
		{ "interval", required_argument, NULL, 'i' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_stats_snap start;
	struct ctl_stats *skel;
	const char *dir = NULL;
	double interval = 15;
	bool once = false;
	int opt, ret;
	uint64_t n;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "t:i:1h", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			dir = optarg;
			break;
		case 'i':
			ret = ctl_parse_interval("export", optarg, &interval);
			if (ret)
				return ret;
			break;
		case '1':
			once = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ctl_usage_err("export", "bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl_usage_err("export", "unexpected argument '%s'", argv[optind]);
	if (!dir || !*dir)
		return ctl_usage_err("export", "--textfile DIR is required");
	if (check_dir(dir) || ctl_need_root() || ctl_need_module())
		return 1;
	if (ctl_stats_start(&skel))
		return 1;
	ctl_stop_on_signals();
	ret = ctl_stats_read(skel, &start);
	if (ret) {
		ret = ctl_err("cannot read the counters: %s", strerror(-ret));
		goto out;
	}
	for (n = 1; !ret && !ctl_sleep(interval); n++) {
		ret = export_once(skel, &start, dir, n);
		if (once)
			break;
	}
out:
	ctl_stats_free(&start);
	ctl_stats_stop(skel);
	return ret;
}
