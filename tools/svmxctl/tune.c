// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl tune: search a policy's knobs (its `const volatile` variables,
 * and its live knobs' values at load) for the best value of one metric on a command, then show
 * the evidence: an A/B experiment of the best setting against the
 * policy's defaults (ab.c).
 *
 * One knob: every point of its grid LO, LO+STEP, ... HI.  Several:
 * coordinate descent from the defaults (snapped to the grids): sweep one
 * knob's grid with the others fixed, move to the best point, go on with
 * the next knob, and repeat the rounds until one moves nothing or the
 * budget is spent.  Each point runs the command K times (the pairs'
 * seeds of ab: --seed, --seed + 1, ...; the same for every point) and
 * scores the median.  A point is run once: later visits reuse its score.
 * Ties keep the point found first (the defaults first of all).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "svmxctl.h"
#include "ab.h"

#define TUNE_MAX_POINTS	1000

/**
 * struct knob - one knob searched.
 * @name: the variable's name.
 * @lo: first value of the grid.
 * @hi: last value (at most).
 * @step: the grid's step.
 * @def: the policy's default.
 * @n: points in the grid.
 */
struct knob {
	char name[64];
	long long lo, hi, step, def;
	int n;
};

/**
 * struct point - a setting of every knob, and its score.
 * @v: the values, by knob.
 * @vals: the objective's value in each run.
 * @median: the score.
 */
struct point {
	long long v[AB_MAX_KNOBS];
	double vals[64];
	double median;
};

struct tune {
	const char *policy;
	struct knob knobs[AB_MAX_KNOBS];
	int nr_knobs;
	struct ab_metric objective;
	unsigned int budget, per_point, ab_runs;
	bool json;
	struct ab_exp e;		/* command, seed, the arm being run */
	struct point *points;
	int nr_points;
	unsigned int used;		/* runs spent */
	bool out_of_budget;
};

/*
 * The default of knob @name: its initial value in the object, a load-time
 * (.rodata) or live (.data.knobs) knob alike (knobs.c).
 */
static int knob_default(const char *policy, const char *name, long long *val)
{
	struct ctl_knobs *ks = malloc(sizeof(*ks));
	struct ctl_policy p;
	struct ctl_knob *k;
	int err;

	if (!ks)
		return -ENOMEM;
	err = ctl_policy_open(policy, &p);
	if (!err)
		err = ctl_policy_knobs(&p, ks);
	k = err ? NULL : ctl_knob_find(ks, name);
	if (!err && !k)
		err = -ENOENT;
	if (k)
		*val = (long long)k->value;	/* sign-extended */
	ctl_policy_close(&p);
	free(ks);
	return err;
}

/* NAME=LO:HI[:STEP] */
static int parse_knob(const char *arg, struct knob *k)
{
	const char *eq = strchr(arg, '=');
	char *end;

	memset(k, 0, sizeof(*k));
	if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof(k->name))
		return -EINVAL;
	snprintf(k->name, sizeof(k->name), "%.*s", (int)(eq - arg), arg);
	errno = 0;
	k->lo = strtoll(eq + 1, &end, 0);
	if (errno || end == eq + 1 || *end != ':')
		return -EINVAL;
	eq = end + 1;
	k->hi = strtoll(eq, &end, 0);
	if (errno || end == eq || (*end && *end != ':'))
		return -EINVAL;
	k->step = 1;
	if (*end == ':') {
		eq = end + 1;
		k->step = strtoll(eq, &end, 0);
		if (errno || end == eq || *end || k->step <= 0)
			return -EINVAL;
	}
	if (k->hi < k->lo)
		return -EINVAL;
	if ((k->hi - k->lo) / k->step + 1 > TUNE_MAX_POINTS)
		return -E2BIG;
	k->n = (int)((k->hi - k->lo) / k->step + 1);
	return 0;
}

static long long grid(const struct knob *k, int i)
{
	return k->lo + i * k->step;
}

/* The grid point nearest to @v (the lower one of two as near). */
static long long snap(const struct knob *k, long long v)
{
	long long i;

	if (v <= k->lo)
		return k->lo;
	if (v >= grid(k, k->n - 1))
		return grid(k, k->n - 1);
	i = (v - k->lo) / k->step;
	if (v - grid(k, i) > grid(k, i + 1) - v)
		i++;
	return grid(k, i);
}

static void set_arm(struct tune *t, struct ab_arm *arm, const long long *v)
{
	int i;

	memset(arm, 0, sizeof(*arm));
	arm->spec = t->policy;
	for (i = 0; i < t->nr_knobs; i++)
		snprintf(arm->knobs[i], sizeof(arm->knobs[i]), "%s=%lld", t->knobs[i].name, v[i]);
	arm->nr_knobs = t->nr_knobs;
}

static struct point *find_point(struct tune *t, const long long *v)
{
	int i;

	for (i = 0; i < t->nr_points; i++)
		if (!memcmp(t->points[i].v, v, sizeof(t->points[i].v)))
			return &t->points[i];
	return NULL;
}

static void point_text(const struct tune *t, const long long *v, char *buf, size_t size)
{
	int i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < t->nr_knobs && o < (int)size; i++)
		o += snprintf(buf + o, size - o, "%s%s=%lld", i ? " " : "", t->knobs[i].name, v[i]);
}

/*
 * The score of setting @v: run it (per_point runs) unless it was run.
 * Return: 0 with *@pt set, -ENOSPC when the budget does not allow it,
 * or a negative errno (after a message).
 */
static int evaluate(struct tune *t, const long long *v, struct point **pt)
{
	struct point *p = find_point(t, v), *n;
	struct ab_sample s;
	char text[512];
	unsigned int k;
	int err;

	if (p) {
		*pt = p;
		return 0;
	}
	if (t->used + t->per_point > t->budget) {
		t->out_of_budget = true;
		return -ENOSPC;
	}
	n = realloc(t->points, (t->nr_points + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->points = n;
	p = &t->points[t->nr_points];
	memset(p, 0, sizeof(*p));
	memcpy(p->v, v, sizeof(p->v));
	set_arm(t, &t->e.arms[1], v);
	err = ab_arm_check(&t->e.arms[1]);
	if (err)
		return -EINVAL;
	for (k = 0; k < t->per_point; k++) {
		err = ab_run_one(&t->e, 1, k, &s);
		if (err)
			return err;
		t->used++;
		if (ab_value(&t->objective, &s, &p->vals[k]))
			return ctl_err("objective %s: the run has no value for it",
				       t->objective.spec) ? -ENODATA : 0;
	}
	p->median = ab_median(p->vals, t->per_point);
	t->nr_points++;
	point_text(t, v, text, sizeof(text));
	if (!t->e.quiet)
		fprintf(stderr, "svmxctl tune: %s: %s %.0f (median of %u)\n", text,
			ab_metric_name(&t->objective), p->median, t->per_point);
	*pt = p;
	return 0;
}

static bool better(const struct tune *t, double a, double b)
{
	return ab_metric_lower_better(&t->objective) ? a < b : a > b;
}

/* Coordinate descent (one knob: one sweep of its grid). */
static int search(struct tune *t, long long *best)
{
	long long cur[AB_MAX_KNOBS] = { 0 }, v[AB_MAX_KNOBS];
	double best_score;
	struct point *p;
	bool moved = true;
	int i, g, err;

	for (i = 0; i < t->nr_knobs; i++)
		cur[i] = snap(&t->knobs[i], t->knobs[i].def);
	/* evaluate() may move t->points: keep values, not pointers. */
	err = evaluate(t, cur, &p);
	if (err)
		return err;
	best_score = p->median;
	while (moved) {
		moved = false;
		for (i = 0; i < t->nr_knobs; i++) {
			memcpy(v, cur, sizeof(v));
			for (g = 0; g < t->knobs[i].n; g++) {
				v[i] = grid(&t->knobs[i], g);
				err = evaluate(t, v, &p);
				if (err == -ENOSPC)
					goto done;
				if (err)
					return err;
				if (better(t, p->median, best_score)) {
					best_score = p->median;
					memcpy(cur, v, sizeof(cur));
					moved = t->nr_knobs > 1;
				}
			}
		}
	}
done:
	memcpy(best, cur, sizeof(cur));
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: svmxctl tune POLICY --knob NAME=LO:HI[:STEP]... --objective METRIC\n"
"                    [options] -- CMD [ARG]... | --replay FILE\n"
"Search POLICY's knobs for the best value of METRIC on CMD, then\n"
"A/B the best setting against the policy's defaults.\n"
"\n"
"  --knob NAME=LO:HI[:STEP]  a knob and its grid (STEP default 1; repeatable)\n"
"  --objective METRIC        what to minimise (or maximise: svmxctl ab\n"
"                            --list-metrics says which way each goes)\n"
"  --budget RUNS             runs the search may spend (default 200)\n"
"  --runs-per-point K        runs of each setting, scored by their median\n"
"                            (1..64, default 3)\n"
"  --ab-runs N               pairs of the final A/B (default 5)\n"
"  --seed S                  seed of the runs ({seed} in CMD) and the A/B\n"
"  --json                    the result as JSON on stdout\n"
"  --replay FILE             the runs replay a recording (svmxctl record)\n"
"  -q, --quiet               no progress lines on stderr\n"
"  -h, --help                this text\n"
"\n"
"One knob: every point of its grid.  Several: coordinate descent from the\n"
"defaults until a round moves nothing or the budget is spent.\n");
}

static struct json_object *jval(double v)
{
	if (v == floor(v) && fabs(v) < 9e15)
		return json_object_new_int64((int64_t)v);
	return json_object_new_double(v);
}

static struct json_object *knobs_json(const struct tune *t, const long long *v)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < t->nr_knobs; i++)
		json_object_object_add(o, t->knobs[i].name, json_object_new_int64(v[i]));
	return o;
}

static struct json_object *tune_json(const struct tune *t, const long long *best,
				     const long long *defs, const struct ab_exp *ab)
{
	struct json_object *j = json_object_new_object(), *pts = json_object_new_array();
	const struct point *bp = find_point((struct tune *)t, best);
	const struct point *dp = find_point((struct tune *)t, defs);
	int i;
	unsigned int k;

	json_object_object_add(j, "policy", json_object_new_string(t->policy));
	json_object_object_add(j, "objective",
			       json_object_new_string(ab_metric_name(&t->objective)));
	json_object_object_add(j, "lower_is_better",
			       json_object_new_boolean(ab_metric_lower_better(&t->objective)));
	json_object_object_add(j, "search", json_object_new_string(
		t->nr_knobs > 1 ? "coordinate descent" : "grid"));
	json_object_object_add(j, "budget", json_object_new_int(t->budget));
	json_object_object_add(j, "runs_used", json_object_new_int(t->used));
	json_object_object_add(j, "budget_exhausted", json_object_new_boolean(t->out_of_budget));
	json_object_object_add(j, "runs_per_point", json_object_new_int(t->per_point));
	for (i = 0; i < t->nr_points; i++) {
		struct json_object *p = json_object_new_object(), *v = json_object_new_array();

		json_object_object_add(p, "knobs", knobs_json(t, t->points[i].v));
		for (k = 0; k < t->per_point; k++)
			json_object_array_add(v, jval(t->points[i].vals[k]));
		json_object_object_add(p, "values", v);
		json_object_object_add(p, "median", jval(t->points[i].median));
		json_object_array_add(pts, p);
	}
	json_object_object_add(j, "points", pts);
	json_object_object_add(j, "best", knobs_json(t, best));
	json_object_object_add(j, "best_median", jval(bp->median));
	json_object_object_add(j, "defaults", knobs_json(t, defs));
	json_object_object_add(j, "defaults_median",
			       dp ? jval(dp->median) : NULL);
	json_object_object_add(j, "ab", ab ? ab_report_json(ab) : NULL);
	return j;
}

static void tune_text(const struct tune *t, const long long *best, const long long *defs,
		      const struct ab_exp *ab)
{
	const struct point *bp = find_point((struct tune *)t, best);
	const struct point *dp = find_point((struct tune *)t, defs);
	char text[512];
	int i;

	printf("tune %s: objective %s (%s is better), %s, %u runs of a budget of %u, %u per point%s\n",
	       t->policy, ab_metric_name(&t->objective),
	       ab_metric_lower_better(&t->objective) ? "lower" : "higher",
	       t->nr_knobs > 1 ? "coordinate descent" : "grid", t->used, t->budget,
	       t->per_point, t->out_of_budget ? " (budget spent)" : "");
	printf("\npoints, in the order run:\n");
	for (i = 0; i < t->nr_points; i++) {
		point_text(t, t->points[i].v, text, sizeof(text));
		printf("  %-40s %s %.0f%s\n", text, ab_metric_name(&t->objective),
		       t->points[i].median,
		       !memcmp(t->points[i].v, best, sizeof(t->points[i].v)) ? "  <- best" : "");
	}
	point_text(t, best, text, sizeof(text));
	printf("\nbest: %s, %s %.0f", text, ab_metric_name(&t->objective), bp->median);
	point_text(t, defs, text, sizeof(text));
	if (dp && dp->median)
		printf(" (defaults %s: %.0f, %.3fx)\n", text, dp->median, bp->median / dp->median);
	else
		printf(" (defaults %s)\n", text);
	if (!ab) {
		printf("\nthe defaults are the best setting found: no A/B to run\n");
		return;
	}
	printf("\nevidence, best (B) against the defaults (A):\n\n");
	ab_report_text(ab, stdout);
}

int cmd_tune(int argc, char **argv)
{
	enum { O_KNOB = 256, O_OBJ, O_BUDGET, O_PER, O_ABRUNS, O_SEED, O_JSON, O_REPLAY };
	static const struct option opts[] = {
		{ "knob", required_argument, NULL, O_KNOB },
		{ "objective", required_argument, NULL, O_OBJ },
		{ "budget", required_argument, NULL, O_BUDGET },
		{ "runs-per-point", required_argument, NULL, O_PER },
		{ "ab-runs", required_argument, NULL, O_ABRUNS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "json", no_argument, NULL, O_JSON },
		{ "replay", required_argument, NULL, O_REPLAY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct tune t = { .budget = 200, .per_point = 3, .ab_runs = 5 };
	long long best[AB_MAX_KNOBS] = { 0 }, defs[AB_MAX_KNOBS] = { 0 };
	struct ab_exp *ab = NULL;
	const char *replay = NULL;
	bool have_obj = false;
	int c, i, dd, err, ret = 0;
	char val[32];
	uint64_t u;

	t.e.seed = 1;
	t.e.confidence = AB_CONFIDENCE;
	t.e.resamples = AB_RESAMPLES;
	t.e.quiet = false;
	/* Options and POLICY in any order before "--", the command after. */
	for (dd = 1; dd < argc && strcmp(argv[dd], "--"); dd++)
		;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(dd, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case O_KNOB:
			if (t.nr_knobs == AB_MAX_KNOBS)
				return ctl_usage_err("tune", "at most %d knobs", AB_MAX_KNOBS);
			err = parse_knob(optarg, &t.knobs[t.nr_knobs]);
			if (err)
				return ctl_usage_err("tune", "--knob %s: %s", optarg,
						     err == -E2BIG ? "more than 1000 grid points" :
						     "want NAME=LO:HI[:STEP], LO <= HI, STEP > 0");
			for (i = 0; i < t.nr_knobs; i++)
				if (!strcmp(t.knobs[i].name, t.knobs[t.nr_knobs].name))
					return ctl_usage_err("tune", "--knob %s: given twice",
							     t.knobs[i].name);
			t.nr_knobs++;
			break;
		case O_OBJ:
			err = ab_metric_parse(optarg, &t.objective);
			if (err)
				return ctl_usage_err("tune", "--objective %s: %s", optarg,
						     err == -ENOENT ? "unknown metric" :
						     "it does not come from that source");
			have_obj = true;
			break;
		case O_BUDGET:
			if (ctl_parse_u64(optarg, &u) || !u || u > 100000)
				return ctl_usage_err("tune", "--budget %s: want 1..100000 runs", optarg);
			t.budget = u;
			break;
		case O_PER:
			if (ctl_parse_u64(optarg, &u) || !u || u > 64)
				return ctl_usage_err("tune", "--runs-per-point %s: want 1..64", optarg);
			t.per_point = u;
			break;
		case O_ABRUNS:
			if (ctl_parse_u64(optarg, &u) || !u || u > 1000)
				return ctl_usage_err("tune", "--ab-runs %s: want 1..1000", optarg);
			t.ab_runs = u;
			break;
		case O_SEED:
			if (ctl_parse_u64(optarg, &t.e.seed))
				return ctl_usage_err("tune", "--seed %s: not a number", optarg);
			break;
		case O_JSON:
			t.json = true;
			break;
		case O_REPLAY:
			replay = optarg;
			break;
		case 'q':
			t.e.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ctl_usage_err("tune", "unknown option or missing value: '%s'",
					     argv[optind - 1]);
		}
	}
	if (optind < dd)
		t.policy = argv[optind++];
	if (!t.policy)
		return ctl_usage_err("tune", "no policy to tune");
	if (optind < dd)
		return ctl_usage_err("tune", "'%s': the command must follow --", argv[optind]);
	if (!strcmp(t.policy, "builtin"))
		return ctl_usage_err("tune", "builtin has no knobs");
	if (!t.nr_knobs)
		return ctl_usage_err("tune", "no --knob to search");
	if (!have_obj)
		return ctl_usage_err("tune", "no --objective");
	if (replay && dd + 1 < argc)
		return ctl_usage_err("tune", "give a command after -- or --replay FILE, not both");
	if (!replay && dd + 1 >= argc)
		return ctl_usage_err("tune", "no command: give it after --, or --replay FILE");
	t.e.cmd = argv + dd + 1;
	if (replay && ab_replay_command(replay, &t.e.cmd))
		return 1;

	if (ctl_need_root() || ctl_need_module() || ab_check_command(t.e.cmd))
		return 1;
	for (i = 0; i < t.nr_knobs; i++) {
		struct knob *k = &t.knobs[i];

		memset(&t.e.arms[1], 0, sizeof(t.e.arms[1]));
		t.e.arms[1].spec = t.policy;
		snprintf(t.e.arms[1].knobs[0], sizeof(t.e.arms[1].knobs[0]), "%s=%lld",
			 k->name, k->lo);
		snprintf(t.e.arms[1].knobs[1], sizeof(t.e.arms[1].knobs[1]), "%s=%lld",
			 k->name, grid(k, k->n - 1));
		t.e.arms[1].nr_knobs = 2;
		if (ab_arm_check(&t.e.arms[1]))
			return 1;
		err = knob_default(t.policy, k->name, &k->def);
		if (err)
			return ctl_err("%s: knob %s: %s", t.policy, k->name,
				       err == -ENOENT ? "the policy has no such knob" :
				       "not an integer knob");
		defs[i] = k->def;
	}
	if (t.per_point > t.budget)
		return ctl_usage_err("tune", "--budget %u is less than one point (%u runs)",
				     t.budget, t.per_point);
	t.e.split = AB_SPLIT_ALTERNATE;
	memset(&t.e.arms[0], 0, sizeof(t.e.arms[0]));
	t.e.arms[0].spec = t.policy;
	if (ab_arm_check(&t.e.arms[0]) || ab_check_scope(&t.e) || ab_live_begin(&t.e))
		return 1;

	ab_signals();
	err = search(&t, best);
	/* Live: the original policy back between the search and the A/B. */
	if (ab_live_restore(&t.e) && !err)
		err = -EIO;
	if (err) {
		ab_live_end(&t.e);
		free(t.points);
		if (err == -EINTR || ab_interrupted())
			return ctl_err("interrupted: %s", t.e.live.on ?
				       "the global scope holds its policy again" :
				       "every policy detached");
		return 1;
	}

	if (memcmp(best, defs, sizeof(best))) {
		ab = calloc(1, sizeof(*ab));
		if (!ab) {
			free(t.points);
			return ctl_err("out of memory");
		}
		ab->arms[0].spec = t.policy;
		for (i = 0; i < t.nr_knobs; i++) {
			snprintf(val, sizeof(val), "%lld", defs[i]);
			snprintf(ab->arms[0].knobs[i], sizeof(ab->arms[0].knobs[i]), "%s=%s",
				 t.knobs[i].name, val);
		}
		ab->arms[0].nr_knobs = t.nr_knobs;
		set_arm(&t, &ab->arms[1], best);
		ab->arms[1].spec = t.policy;
		ab->runs = t.ab_runs;
		ab->split = AB_SPLIT_ALTERNATE;
		ab->metrics[0] = t.objective;
		ab->nr_metrics = 1;
		ab->seed = t.e.seed;
		ab->confidence = AB_CONFIDENCE;
		ab->resamples = AB_RESAMPLES;
		ab->cmd = t.e.cmd;
		ab->quiet = t.e.quiet;
		ab->live = t.e.live;	/* the same fds, closed once below */
		if (ab_arm_check(&ab->arms[0]) || ab_arm_check(&ab->arms[1])) {
			ret = 1;
			goto out;
		}
		err = ab_run_experiment(ab);
		if (err) {
			ret = ctl_err("the A/B of the best setting failed%s",
				      err == -EINTR ? ": interrupted" : "");
			goto out;
		}
	}
	if (t.json)
		ctl_json_print(tune_json(&t, best, defs, ab));
	else
		tune_text(&t, best, defs, ab);
out:
	ab_live_end(&t.e);
	if (ab)
		ab_exp_free(ab);
	free(ab);
	free(t.points);
	return ret;
}
