// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-bench report: Markdown tables from the JSON lines of workload runs
 * (svmx-bench workload --json --label POLICY), as tools/bench-guest
 * collects them.
 *
 *   --overhead FILE  CPU time per device fault of each label (policy),
 *                    as a ratio to the label "builtin": medians over the
 *                    runs, their spread, and the range of the ratios of
 *                    runs taken in the same round
 *   --matrix FILE    per workload and working set, one table per metric:
 *                    the "builtin" column in absolute figures, every
 *                    other label as a ratio to it; a cell run several
 *                    times (seeds) gives the median of its runs
 *
 * A line {"label":..., "workload":..., "ws":..., "error":"..."} stands for
 * a run that failed; its cells say FAIL.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bench.h"

#define BASELINE	"builtin"
#define MAX_LABELS	32
#define MAX_ROWS	256
#define MAX_RUNS	8192	/* 12 policies x 32 cells x 20 seeds fit */

struct run {
	int label;
	int row;
	bool failed;
	double v[16];		/* by enum metric */
};

enum metric {
	M_MODELED, M_FAULTS, M_TO_DEV, M_TO_SYS, M_EVICT, M_CPU, M_CPU_PER_FAULT,
	M_EXT_PER_FAULT, NR_METRICS
};

static const struct {
	const char *title;
	const char *unit;
	double scale;		/* absolute figure = value / scale */
} metric_info[NR_METRICS] = {
	[M_MODELED] = { "Modeled device time", "ms", 1e6 },
	[M_FAULTS] = { "Device faults", "", 1 },
	[M_TO_DEV] = { "Bytes to device", "MiB", 1 << 20 },
	[M_TO_SYS] = { "Bytes to system", "MiB", 1 << 20 },
	[M_EVICT] = { "Evictions", "", 1 },
	[M_CPU] = { "CPU time", "ms", 1e6 },
	[M_CPU_PER_FAULT] = { "CPU time per device fault, the guest's getrusage()", "us", 1e3 },
	[M_EXT_PER_FAULT] = { "CPU time per device fault, the whole VM's on the host (--ext-clock)", "us", 1e3 },
};

struct table {
	char *labels[MAX_LABELS];
	int nr_labels;
	char *rows[MAX_ROWS];	/* "workload ws" */
	int nr_rows;
	struct run runs[MAX_RUNS];
	int nr_runs;
};

static int intern(char **names, int *nr, int max, const char *name)
{
	int i;

	for (i = 0; i < *nr; i++)
		if (!strcmp(names[i], name))
			return i;
	if (*nr == max)
		return -ENOSPC;
	names[*nr] = strdup(name);
	return names[*nr] ? (*nr)++ : -ENOMEM;
}

static double jnum(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_double(v) : NAN;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static int add_line(struct table *t, const char *line, const char *file, int lineno)
{
	struct json_object *o = json_tokener_parse(line), *c;
	const char *label, *name;
	struct run *r;
	char row[64];
	int ret = -EINVAL;

	if (!o) {
		fprintf(stderr, "svmx-bench report: %s:%d: not JSON\n", file, lineno);
		return -EINVAL;
	}
	label = jstr(o, "label");
	name = jstr(o, "workload");
	if (!label || !name || isnan(jnum(o, "ws"))) {
		fprintf(stderr, "svmx-bench report: %s:%d: no label, workload or ws\n",
			file, lineno);
		goto out;
	}
	if (t->nr_runs == MAX_RUNS) {
		ret = -ENOSPC;
		goto out;
	}
	r = &t->runs[t->nr_runs];
	snprintf(row, sizeof(row), "%s %.2f", name, jnum(o, "ws"));
	r->label = intern(t->labels, &t->nr_labels, MAX_LABELS, label);
	r->row = intern(t->rows, &t->nr_rows, MAX_ROWS, row);
	if (r->label < 0 || r->row < 0) {
		ret = r->label < 0 ? r->label : r->row;
		goto out;
	}
	r->failed = jstr(o, "error") || !json_object_object_get_ex(o, "counters", &c);
	if (!r->failed) {
		r->v[M_MODELED] = jnum(o, "modeled_ns");
		r->v[M_FAULTS] = jnum(c, "faults");
		r->v[M_TO_DEV] = jnum(c, "bytes_to_device");
		r->v[M_TO_SYS] = jnum(c, "bytes_to_system");
		r->v[M_EVICT] = jnum(c, "evictions");
		r->v[M_CPU] = jnum(o, "cpu_ns");
		r->v[M_CPU_PER_FAULT] = r->v[M_FAULTS] ? r->v[M_CPU] / r->v[M_FAULTS] : NAN;
		r->v[M_EXT_PER_FAULT] = r->v[M_FAULTS] ? jnum(o, "ext_cpu_ns") / r->v[M_FAULTS] : NAN;
	}
	t->nr_runs++;
	ret = 0;
out:
	json_object_put(o);
	return ret;
}

static int load(struct table *t, const char *file)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, ret = 0;

	if (!f) {
		ret = -errno;
		fprintf(stderr, "svmx-bench report: %s: %s\n", file, strerror(-ret));
		return ret;
	}
	while (!ret && getline(&line, &cap, f) > 0) {
		lineno++;
		if (line[0] == '{')
			ret = add_line(t, line, file, lineno);
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return ret;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n values (sorted in place); NAN when there is none. */
static double median(double *v, int n)
{
	if (!n)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_dbl);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * The values of metric @m of the successful runs of (@label, @row) into
 * @v; Return: their number, or -1 if any run of the cell failed.
 */
static int cell_values(const struct table *t, int label, int row, enum metric m,
		       double *v)
{
	int i, n = 0;

	for (i = 0; i < t->nr_runs; i++) {
		const struct run *r = &t->runs[i];

		if (r->label != label || r->row != row)
			continue;
		if (r->failed)
			return -1;
		if (!isnan(r->v[m]))
			v[n++] = r->v[m];
	}
	return n;
}

static void print_cell(const struct table *t, int label, int row, enum metric m,
		       int base)
{
	double v[MAX_RUNS], b[MAX_RUNS], mv, mb;
	int n = cell_values(t, label, row, m, v);
	int nb = base >= 0 ? cell_values(t, base, row, m, b) : 0;

	if (n < 0) {
		printf(" FAIL |");
		return;
	}
	if (!n) {
		printf(" - |");
		return;
	}
	mv = median(v, n);
	if (label == base || nb <= 0) {
		printf(" %.*f |", metric_info[m].unit[0] ? 2 : 0, mv / metric_info[m].scale);
		return;
	}
	mb = median(b, nb);
	if (mb == 0)
		printf(mv == 0 ? " = |" : " %.0f (base 0) |", mv / metric_info[m].scale);
	else
		printf(" %.2fx |", mv / mb);
}

static int find_label(const struct table *t, const char *name)
{
	int i;

	for (i = 0; i < t->nr_labels; i++)
		if (!strcmp(t->labels[i], name))
			return i;
	return -1;
}

static void print_matrix(const struct table *t)
{
	static const enum metric order[] = {
		M_MODELED, M_FAULTS, M_TO_DEV, M_TO_SYS, M_EVICT, M_CPU,
	};
	int base = find_label(t, BASELINE);
	unsigned int k;
	int l, row;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		enum metric m = order[k];

		printf("\n#### %s\n\n| workload | ws |", metric_info[m].title);
		if (base >= 0)
			printf(" %s%s%s%s |", BASELINE, metric_info[m].unit[0] ? " (" : "",
			       metric_info[m].unit, metric_info[m].unit[0] ? ")" : "");
		for (l = 0; l < t->nr_labels; l++)
			if (l != base)
				printf(" %s |", t->labels[l]);
		printf("\n|---|---:|");
		for (l = 0; l < t->nr_labels; l++)
			printf("---:|");
		printf("\n");
		for (row = 0; row < t->nr_rows; row++) {
			char name[64], *ws;

			snprintf(name, sizeof(name), "%s", t->rows[row]);
			ws = strchr(name, ' ');
			*ws++ = '\0';
			printf("| %s | %s |", name, ws);
			if (base >= 0)
				print_cell(t, base, row, m, base);
			for (l = 0; l < t->nr_labels; l++)
				if (l != base)
					print_cell(t, l, row, m, base);
			printf("\n");
		}
	}
}

/* The @q quantile (0..1) of @n sorted values. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[i];
}

/*
 * CPU time per fault: per label, the median and minimum over its runs
 * and the spread (max - min) / median; against the baseline, the ratios
 * of the medians and of the minimums (interference from the host only
 * ever adds time), and the ratios of runs of the same round (run back
 * to back, so that drift of the host's load hits both alike): their
 * median, quartiles and extremes.
 */
static void print_overhead_metric(const struct table *t, enum metric m)
{
	int base = find_label(t, BASELINE), l, row;

	for (row = 0; row < t->nr_rows; row++) {
		double bv[MAX_RUNS], bs[MAX_RUNS];
		int nb = 0;

		printf("\nWorkload `%s` (working set / device memory), %s:\n\n",
		       t->rows[row], metric_info[m].title);
		printf("| policy | runs | faults/run | CPU us/fault, median | min | spread | vs %s: medians | minimums | same round: median | quartiles | min..max |\n",
		       BASELINE);
		printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
		if (base >= 0)
			nb = cell_values(t, base, row, m, bv);
		if (nb > 0) {
			memcpy(bs, bv, nb * sizeof(*bv));
			median(bs, nb);		/* sorts bs */
		}
		for (l = 0; l < t->nr_labels; l++) {
			double v[MAX_RUNS], f[MAX_RUNS], s[MAX_RUNS], q[MAX_RUNS], med;
			int n = cell_values(t, l, row, m, v);
			int i, nq = 0, nf = cell_values(t, l, row, M_FAULTS, f);

			if (n <= 0) {
				printf("| %s | %s ||||||||||\n", t->labels[l], n < 0 ? "FAIL" : "0");
				continue;
			}
			memcpy(s, v, n * sizeof(*v));
			med = median(s, n);
			printf("| %s | %d | %.0f | %.2f | %.2f | %.0f%% |", t->labels[l], n,
			       median(f, nf), med / 1e3, s[0] / 1e3, 100 * (s[n - 1] - s[0]) / med);
			if (nb <= 0 || l == base) {
				printf(" %s |||||\n", l == base ? "baseline" : "-");
				continue;
			}
			for (i = 0; i < n && i < nb; i++)
				q[nq++] = v[i] / bv[i];
			median(q, nq);		/* sorts q */
			printf(" %.3fx | %.3fx | %.3fx | %.3f..%.3f | %.2f..%.2f |\n",
			       med / median(bs, nb), s[0] / bs[0], quantile(q, nq, 0.5),
			       quantile(q, nq, 0.25), quantile(q, nq, 0.75), q[0], q[nq - 1]);
		}
	}
}

static void print_overhead(const struct table *t)
{
	double v[MAX_RUNS];
	int l, row;

	print_overhead_metric(t, M_CPU_PER_FAULT);
	for (l = 0; l < t->nr_labels; l++)
		for (row = 0; row < t->nr_rows; row++)
			if (cell_values(t, l, row, M_EXT_PER_FAULT, v) > 0) {
				print_overhead_metric(t, M_EXT_PER_FAULT);
				return;
			}
}

static void report_usage(FILE *f)
{
	fprintf(f,
"Usage: svmx-bench report --overhead|--matrix FILE...\n"
"Markdown tables from the lines of svmx-bench workload --json --label L\n"
"(FILE - reads standard input).  Label \"" BASELINE "\" is the baseline.\n"
"  -o, --overhead  CPU time per device fault per label, ratios to the baseline\n"
"  -m, --matrix    per workload and working set, one table per metric\n"
"  -h, --help      this text\n");
}

int report_main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "overhead", no_argument, NULL, 'o' },
		{ "matrix", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct table *t;
	int c, mode = 0, ret = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "omh", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
		case 'm':
			mode = c;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return 2;
		}
	}
	if (!mode || optind >= argc) {
		fprintf(stderr, "svmx-bench report: want --overhead or --matrix and a file\n");
		report_usage(stderr);
		return 2;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return 1;
	for (; optind < argc && !ret; optind++)
		ret = load(t, argv[optind]);
	if (!ret && !t->nr_runs) {
		fprintf(stderr, "svmx-bench report: no runs in the input\n");
		ret = -ENODATA;
	}
	if (!ret) {
		if (mode == 'o')
			print_overhead(t);
		else
			print_matrix(t);
	}
	for (c = 0; c < t->nr_labels; c++)
		free(t->labels[c]);
	for (c = 0; c < t->nr_rows; c++)
		free(t->rows[c]);
	free(t);
	return ret ? 1 : 0;
}
