// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl ab: an A/B experiment of two policies on one command, with a
 * verdict per metric, guardrails on the candidate (B), and reports as
 * text, JSON, Markdown and a plot.
 *
 * Alternate split: N pairs; in each, A and B run once, in an order drawn
 * from the seed; each run loads its policy afresh, attaches it in the
 * global scope, runs the command and detaches it (the built-in default
 * is "no policy attached"); when svmxctl pinned a policy there, each run
 * swaps its policy in through that pinned link instead, and the original
 * is swapped back at the end (ab_live_begin()).  Cgroup split: two
 * cgroups made under /sys/fs/cgroup, A attached to one and B to the
 * other, the command run in both at once, N times.  The statistics are
 * abstat.c's; what they assume is in docs/ab-statistics.md.  tune.c runs
 * its points and its final A/B through the same code.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "svmxctl.h"
#include "ab.h"
#include "recfile.h"

/* ------------------------------------------------------------------
 * Metrics
 */

enum { KIND_COUNTER = 1, KIND_CMD = 2, KIND_RUN = 4 };

struct metric_def {
	const char *name;
	const char *what;
	int kinds;		/* where it can come from */
	bool higher_better;
};

/*
 * The counters of struct svmx_counters (in its order: the debugfs files
 * print them by these names), then what only the command or ab knows.
 */
static const struct metric_def metric_defs[] = {
	{ "faults", "device faults", KIND_COUNTER | KIND_CMD, false },
	{ "fault_batches", "device fault batches", KIND_COUNTER | KIND_CMD, false },
	{ "pages_to_device", "pages migrated to the device", KIND_COUNTER | KIND_CMD, false },
	{ "pages_to_system", "pages migrated to system memory", KIND_COUNTER | KIND_CMD, false },
	{ "bytes_to_device", "bytes migrated to the device", KIND_COUNTER | KIND_CMD, false },
	{ "bytes_to_system", "bytes migrated to system memory", KIND_COUNTER | KIND_CMD, false },
	{ "copy_cmds", "copy commands", KIND_COUNTER | KIND_CMD, false },
	{ "evictions", "blocks evicted", KIND_COUNTER | KIND_CMD, false },
	{ "evicted_pages", "pages evicted", KIND_COUNTER | KIND_CMD, false },
	{ "local_accesses", "device accesses to local memory", KIND_COUNTER | KIND_CMD, true },
	{ "remote_accesses", "device accesses to system memory", KIND_COUNTER | KIND_CMD, false },
	{ "peer_accesses", "device accesses to a peer's memory", KIND_COUNTER | KIND_CMD, false },
	{ "cpu_faults", "CPU faults on device memory", KIND_COUNTER | KIND_CMD, false },
	{ "pingpong", "CPU-device ping-pong", KIND_COUNTER | KIND_CMD, false },
	{ "policy_fallbacks", "policy answers that fell back", KIND_COUNTER | KIND_CMD, false },
	{ "modeled_ns", "modeled device time, ns", KIND_COUNTER | KIND_CMD, false },
	{ "preemptions", "queue preemptions", KIND_COUNTER | KIND_CMD, false },
	{ "evictions_pressure", "evictions for room", KIND_COUNTER | KIND_CMD, false },
	{ "evictions_prefetch", "evictions for prefetch", KIND_COUNTER | KIND_CMD, false },
	{ "evictions_request", "evictions asked for", KIND_COUNTER | KIND_CMD, false },
	{ "evictions_failed", "evictions that failed", KIND_COUNTER | KIND_CMD, false },
	{ "cpu_ns", "CPU time, ns", KIND_CMD | KIND_RUN, false },
	{ "cpu_user_ns", "user CPU time, ns", KIND_CMD | KIND_RUN, false },
	{ "cpu_sys_ns", "system CPU time, ns", KIND_CMD | KIND_RUN, false },
	{ "wall_ns", "wall-clock time of the command, ns", KIND_RUN, false },
};

#define NR_METRIC_DEFS	(int)(sizeof(metric_defs) / sizeof(metric_defs[0]))
#define NR_COUNTERS	21

_Static_assert(NR_METRIC_DEFS <= 64, "struct ab_sample holds 64 metrics");

static const char * const src_names[] = { "auto", "cmd", "kernel", "run" };

/**
 * ab_metric_parse() - a metric of the command line.
 * @spec: NAME, or SOURCE.NAME with SOURCE cmd (the command's JSON),
 *	  kernel (svmx's counters over the run) or run (ab's measures).
 * @m: the metric.
 *
 * Return: 0, -ENOENT for an unknown name, -EINVAL for a source the
 * metric cannot come from.
 */
int ab_metric_parse(const char *spec, struct ab_metric *m)
{
	const char *name = spec, *dot = strchr(spec, '.');
	int i;

	memset(m, 0, sizeof(*m));
	snprintf(m->spec, sizeof(m->spec), "%s", spec);
	m->src = AB_SRC_AUTO;
	if (dot) {
		for (i = AB_SRC_CMD; i <= AB_SRC_RUN; i++)
			if ((size_t)(dot - spec) == strlen(src_names[i]) &&
			    !strncmp(spec, src_names[i], dot - spec))
				m->src = i;
		if (m->src == AB_SRC_AUTO)
			return -ENOENT;
		name = dot + 1;
	}
	for (i = 0; i < NR_METRIC_DEFS; i++) {
		if (strcmp(metric_defs[i].name, name))
			continue;
		m->idx = i;
		if ((m->src == AB_SRC_CMD && !(metric_defs[i].kinds & KIND_CMD)) ||
		    (m->src == AB_SRC_KERNEL && !(metric_defs[i].kinds & KIND_COUNTER)) ||
		    (m->src == AB_SRC_RUN && !(metric_defs[i].kinds & KIND_RUN)))
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

const char *ab_metric_name(const struct ab_metric *m)
{
	return metric_defs[m->idx].name;
}

bool ab_metric_lower_better(const struct ab_metric *m)
{
	return !metric_defs[m->idx].higher_better;
}

/**
 * ab_value() - a metric's value in one run.
 * @m: the metric (its source resolved or AUTO).
 * @s: the run.
 * @v: the value.
 *
 * Return: 0, or -ENODATA when the run has no such value.
 */
int ab_value(const struct ab_metric *m, const struct ab_sample *s, double *v)
{
	int i = m->idx;

	if ((m->src == AB_SRC_AUTO || m->src == AB_SRC_CMD) && s->has_cmd[i]) {
		*v = s->cmd[i];
		return 0;
	}
	if ((m->src == AB_SRC_AUTO || m->src == AB_SRC_KERNEL) && s->has_kernel[i]) {
		*v = s->kernel[i];
		return 0;
	}
	if ((m->src == AB_SRC_AUTO || m->src == AB_SRC_RUN) && s->has_run[i]) {
		*v = s->run[i];
		return 0;
	}
	return -ENODATA;
}

/* After the first run: AUTO becomes the source that run had. */
static int resolve_src(struct ab_metric *m, const struct ab_sample *s)
{
	if (m->src != AB_SRC_AUTO)
		return 0;
	if (s->has_cmd[m->idx])
		m->src = AB_SRC_CMD;
	else if (s->has_kernel[m->idx])
		m->src = AB_SRC_KERNEL;
	else if (s->has_run[m->idx])
		m->src = AB_SRC_RUN;
	else
		return -ENODATA;
	return 0;
}

static const char *src_what(enum ab_src src)
{
	switch (src) {
	case AB_SRC_CMD:
		return "the command's JSON";
	case AB_SRC_KERNEL:
		return "svmx's counters";
	case AB_SRC_RUN:
		return "ab's measure of the process";
	default:
		return "no run yet";
	}
}

/* ------------------------------------------------------------------
 * Arms: policies, opened to check them, loaded and attached per run
 */

static bool is_builtin(const char *spec)
{
	return !strcmp(spec, "builtin");
}

/**
 * ab_arm_check() - check an arm before anything is attached.
 * @arm: its spec and knobs; name and path are filled in.
 *
 * Opens the policy object (not loaded) and sets its knobs, so that an
 * unknown policy or knob or a bad value is refused before any action.
 *
 * Return: 0 or ctl_err()'s status (the message is printed).
 */
int ab_arm_check(struct ab_arm *arm)
{
	struct ctl_policy p;
	int err, i;

	if (is_builtin(arm->spec)) {
		if (arm->nr_knobs)
			return ctl_err("builtin: the built-in default has no knobs");
		arm->builtin = true;
		snprintf(arm->name, sizeof(arm->name), "builtin");
		arm->path[0] = '\0';
		return 0;
	}
	err = ctl_policy_open(arm->spec, &p);
	if (err) {
		ctl_policy_close(&p);
		if (err == -ENOENT)
			return ctl_err("%s: no such policy (a name of the library, a .bpf.o, or builtin)",
				       arm->spec);
		return ctl_err("%s: not a policy object: %s", arm->spec, strerror(-err));
	}
	snprintf(arm->name, sizeof(arm->name), "%s", p.name);
	if (!realpath(p.path, arm->path))
		snprintf(arm->path, sizeof(arm->path), "%s", p.path);
	for (i = 0; i < arm->nr_knobs; i++) {
		char kv[96], *eq;

		snprintf(kv, sizeof(kv), "%s", arm->knobs[i]);
		eq = strchr(kv, '=');
		if (!eq) {
			ctl_policy_close(&p);
			return ctl_err("%s: knob '%s': want NAME=VALUE", arm->spec, kv);
		}
		*eq = '\0';
		err = ctl_policy_knob(&p, kv, eq + 1);
		if (err) {
			ctl_policy_close(&p);
			return ctl_err("%s: knob %s: %s", arm->spec, kv,
				       err == -ENOENT ? "the policy has no such knob" :
				       "bad value for it");
		}
	}
	ctl_policy_close(&p);
	return 0;
}

/* Open and load @arm afresh for @cgroup_id (0: global), its knobs set. */
static int arm_load(const struct ab_arm *arm, uint64_t cgroup_id, struct ctl_policy *p)
{
	int err, i;

	err = ctl_policy_open(arm->path, p);
	if (!err)
		err = ctl_policy_scope(p, cgroup_id, false);
	for (i = 0; !err && i < arm->nr_knobs; i++) {
		char kv[96], *eq;

		snprintf(kv, sizeof(kv), "%s", arm->knobs[i]);
		eq = strchr(kv, '=');
		*eq = '\0';
		err = ctl_policy_knob(p, kv, eq + 1);
	}
	if (!err)
		err = ctl_policy_load(p);
	return err;
}

/* Load @arm afresh and attach it to @cgroup_id (0: global). */
static int arm_attach(const struct ab_arm *arm, uint64_t cgroup_id, struct bpf_link **link)
{
	struct ctl_policy p;
	int err;

	*link = NULL;
	if (arm->builtin)
		return 0;
	err = arm_load(arm, cgroup_id, &p);
	if (!err)
		err = ctl_policy_attach(&p, link);
	ctl_policy_close(&p);	/* the link holds what it needs */
	if (err == -EBUSY)
		ctl_err("%s: the scope is occupied by another policy (detach it first)",
			arm->name);
	else if (err)
		ctl_err("%s: loading or attaching failed: %s (svmxctl -v ab ... shows libbpf's log)",
			arm->name, strerror(-err));
	return err;
}

static void arm_detach(struct bpf_link **link)
{
	if (*link)
		bpf_link__destroy(*link);
	*link = NULL;
}

/*
 * Live: load @arm afresh and swap it into the global slot's pinned link,
 * in place of the map put there last (the original, or the arm before):
 * should anyone else have swapped the slot meanwhile, the kernel refuses
 * (-EPERM) and their policy stays.  The arm's map fd is kept, for the
 * next swap's check.
 */
static int arm_swap(struct ab_exp *e, int arm)
{
	struct ab_live *l = &e->live;
	const struct ab_arm *a = &e->arms[arm];
	struct ctl_policy p;
	int err, fd;

	err = arm_load(a, 0, &p);
	if (err) {
		ctl_policy_close(&p);
		ctl_err("%s: loading failed: %s (svmxctl -v ab ... shows libbpf's log)",
			a->name, strerror(-err));
		return err;
	}
	err = ctl_swap_policy(&p, l->link_fd, l->cur_fd >= 0 ? l->cur_fd : l->orig_fd);
	fd = err ? -1 : dup(bpf_map__fd(p.ops));
	if (!err && fd < 0) {
		/* No fd to name it by: the original back at once. */
		err = -errno;
		if (!ctl_swap_map(l->link_fd, l->orig_fd, bpf_map__fd(p.ops)) && l->cur_fd >= 0) {
			close(l->cur_fd);
			l->cur_fd = -1;
		}
	}
	ctl_policy_close(&p);	/* the link holds the map now */
	if (err == -EPERM)
		ctl_err("%s: the global slot was swapped by someone else during the experiment: it is left as it is",
			a->name);
	else if (err == -EAGAIN)
		ctl_err("%s: the global slot emptied during the experiment (%s was detached)",
			a->name, l->name);
	else if (err)
		ctl_err("%s: swapping it in for %s refused by the kernel: %s (dmesg says more)",
			a->name, l->cur_fd >= 0 ? "the other arm" : l->name, strerror(-err));
	if (err)
		return err;
	if (l->cur_fd >= 0)
		close(l->cur_fd);
	l->cur_fd = fd;
	return 0;
}

/* ------------------------------------------------------------------
 * Scopes: refuse an occupied one, say what is attached after
 */

/* The policy attached to the active slot of scope @cgroup_id ("none"). */
static int scope_attached(uint64_t cgroup_id, char *name, size_t size)
{
	char *text, *line, *save;
	bool in = false, found = false;
	int err;

	err = ctl_read_file(SVMX_SCOPES_FILE, &text);
	if (err)
		return err;
	snprintf(name, size, "none");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long id;
		char role[16];

		if (sscanf(line, "scope cgroup=%llu role=%15s", &id, role) == 2) {
			in = id == cgroup_id && !strcmp(role, "active");
			continue;
		}
		if (in && !strncmp(line, "attached ", 9)) {
			snprintf(name, size, "%.*s", (int)strcspn(line + 9, " "), line + 9);
			found = true;
			in = false;
		}
	}
	free(text);
	return found || cgroup_id ? 0 : -EPROTO;
}

/* The cgroup v2 path of this process, from /proc/self/cgroup ("0::PATH"). */
static int own_cgroup(char *path, size_t size)
{
	char *text, *p;
	int err = ctl_read_file("/proc/self/cgroup", &text);

	if (err)
		return err;
	p = strstr(text, "0::");
	if (!p) {
		free(text);
		return -ENOENT;
	}
	p += 3;
	snprintf(path, size, "%.*s", (int)strcspn(p, "\n"), p);
	free(text);
	return 0;
}

/*
 * A policy attached to a cgroup that is this process's or one of its
 * ancestors would govern the command instead of the global scope.
 */
static int ancestor_policy(char *what, size_t size)
{
	char own[4096], *text, *line, *save, path[4096] = "";
	unsigned long long id = 0;
	bool in = false;
	int err;

	if (own_cgroup(own, sizeof(own)))
		return 0;
	err = ctl_read_file(SVMX_SCOPES_FILE, &text);
	if (err)
		return err;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char role[16];
		const char *pp;

		if (sscanf(line, "scope cgroup=%llu role=%15s", &id, role) == 2) {
			in = id && !strcmp(role, "active");
			pp = strstr(line, " path=");
			snprintf(path, sizeof(path), "%.*s", pp ? (int)strcspn(pp + 6, " ") : 0,
				 pp ? pp + 6 : "");
			continue;
		}
		if (in && !strncmp(line, "attached ", 9) && strncmp(line + 9, "none", 4)) {
			size_t n = strlen(path);

			if (n && !strncmp(own, path, n) && (own[n] == '/' || !own[n] ||
							    !strcmp(path, "/"))) {
				snprintf(what, size, "%.*s on %s", (int)strcspn(line + 9, " "),
					 line + 9, path);
				free(text);
				return 1;
			}
		}
	}
	free(text);
	return 0;
}

/* Whether svmxctl pinned the link of the global slot (svmxctl policy load). */
static bool global_pinned(void)
{
	char dir[4096], path[4200];

	ctl_slot_pin_dir(0, false, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/link", dir);
	return access(path, F_OK) == 0;
}

/**
 * ab_check_scope() - refuse a scope that another policy occupies.
 * @e: the experiment (its split and arms).
 *
 * Alternate split: the global scope must be free, or hold a policy
 * svmxctl pinned (the arms are then swapped in through its link and the
 * policy swapped back at the end, ab_live_begin()), but then no arm may
 * be builtin: running the default would mean detaching that policy, a
 * gap for every workload it serves.  A policy of another loader is
 * refused (there is no link to swap through, and an attach would fail
 * with -EBUSY).  No cgroup of this process's path may have a policy (it
 * would govern the command instead).  Cgroup split: the global scope
 * must be free when an arm is builtin (the builtin cgroup would inherit
 * its policy).
 *
 * Return: 0 or ctl_err()'s status.
 */
int ab_check_scope(const struct ab_exp *e)
{
	char name[64], what[4200];
	bool builtin = e->arms[0].builtin || e->arms[1].builtin;
	bool need_global = e->split == AB_SPLIT_ALTERNATE || builtin;
	int err;

	err = scope_attached(0, name, sizeof(name));
	if (err)
		return ctl_err("%s: %s", SVMX_SCOPES_FILE, strerror(-err));
	if (need_global && strcmp(name, "none") && !global_pinned())
		return ctl_err("the global scope holds policy %s, attached by another loader (no svmxctl pin to swap through): stop it before the experiment",
			       name);
	if (need_global && strcmp(name, "none") && builtin && e->split == AB_SPLIT_CGROUP)
		return ctl_err("builtin: the global scope holds policy %s, which the builtin arm's cgroup would inherit",
			       name);
	if (need_global && strcmp(name, "none") && builtin)
		return ctl_err("builtin: the global scope holds policy %s; a builtin arm would detach it, a gap for every workload it serves (compare against %s instead)",
			       name, name);
	if (e->split == AB_SPLIT_ALTERNATE && ancestor_policy(what, sizeof(what)) > 0)
		return ctl_err("policy %s governs this process's cgroup: run ab from another cgroup or detach it",
			       what);
	if (e->split == AB_SPLIT_CGROUP && need_global) {
		struct stat st;

		/* The builtin arm's cgroup would inherit the root cgroup's policy. */
		if (!stat(SVMX_CGROUP_ROOT, &st) && !scope_attached(st.st_ino, name, sizeof(name)) &&
		    strcmp(name, "none"))
			return ctl_err("the root cgroup holds policy %s: detach it before the experiment",
				       name);
	}
	return 0;
}

/**
 * ab_live_begin() - take hold of an occupied global slot for the arms.
 * @e: the experiment, checked (ab_check_scope()).
 *
 * With the alternate split and a policy svmxctl pinned in the global
 * slot, opens the slot's link and keeps an fd of the policy's struct_ops
 * map: it stays loaded (its programs, its maps and so its live knobs)
 * while the arms are swapped in, and is swapped back by
 * ab_live_restore().  An ejected policy is refused: swapping it back
 * would bring it to life again.  Otherwise @e->live.on stays false.
 *
 * Return: 0 or ctl_err()'s status; nothing is changed.
 */
int ab_live_begin(struct ab_exp *e)
{
	struct ab_live *l = &e->live;
	struct ctl_slot *slots, *s;
	char dir[4096];
	bool ejected;
	int nr, err;

	memset(l, 0, sizeof(*l));
	l->link_fd = l->orig_fd = l->cur_fd = -1;
	if (e->split != AB_SPLIT_ALTERNATE)
		return 0;
	err = ctl_slots_read(&slots, &nr);
	if (err)
		return ctl_err("%s: %s", SVMX_SCOPES_FILE, strerror(-err));
	s = ctl_slot_find(slots, nr, 0, false);
	snprintf(l->name, sizeof(l->name), "%s", s ? s->name : "");
	ejected = s && s->ejected;
	free(slots);
	if (!l->name[0])
		return 0;
	if (ejected)
		return ctl_err("policy %s in the global scope is ejected (svmxctl policy info %s): reload or detach it before the experiment",
			       l->name, l->name);
	ctl_slot_pin_dir(0, false, dir, sizeof(dir));
	l->link_fd = ctl_link_open(dir);
	if (l->link_fd < 0)
		return ctl_err("%s/link: %s", dir, strerror(-l->link_fd));
	l->orig_fd = ctl_link_map(l->link_fd);
	if (l->orig_fd < 0) {
		err = l->orig_fd;
		close(l->link_fd);
		l->link_fd = -1;
		return ctl_err("the map of %s in %s/link: %s", l->name, dir, strerror(-err));
	}
	l->on = true;
	return 0;
}

/**
 * ab_live_restore() - swap the original policy back into the global slot.
 * @e: the experiment.
 *
 * The kernel takes the original's map again (its state stayed READY: a
 * link's map is never "in use" the way a map registered without a link
 * is); its init runs anew and its "since" is the time of the restore.
 * Only the map swapped in last is replaced: should anyone else have
 * swapped the slot meanwhile, theirs stays.  Nothing to do when the
 * original is in the link.
 *
 * Return: 0, or a negative errno after a message saying what the slot
 * holds and how to put the original back.
 */
int ab_live_restore(struct ab_exp *e)
{
	struct ab_live *l = &e->live;
	int err;

	if (!l->on || l->link_fd < 0 || l->cur_fd < 0)
		return 0;
	err = ctl_swap_map(l->link_fd, l->orig_fd, l->cur_fd);
	if (err == -EPERM)
		ctl_err("%s not swapped back: someone else swapped the global slot during the experiment, theirs stays",
			l->name);
	else if (err)
		ctl_err("%s not swapped back: %s (the last arm stays: svmxctl policy load %s puts it back, its live knobs at their defaults)",
			l->name, strerror(-err), l->name);
	if (err)
		return err;
	close(l->cur_fd);
	l->cur_fd = -1;
	return 0;
}

/**
 * ab_live_end() - let go of the global slot (after ab_live_restore()).
 * @e: the experiment; @e->live.on stays, for the reports.
 */
void ab_live_end(struct ab_exp *e)
{
	struct ab_live *l = &e->live;

	if (!l->on || l->link_fd < 0)
		return;
	if (l->cur_fd >= 0)
		close(l->cur_fd);
	close(l->orig_fd);
	close(l->link_fd);
	l->link_fd = l->orig_fd = l->cur_fd = -1;
}

/* ------------------------------------------------------------------
 * The command
 */

static volatile sig_atomic_t ab_signal;

static void on_signal(int sig)
{
	ab_signal = sig;
}

/**
 * ab_signals() - SIGINT, SIGTERM and SIGHUP stop the experiment cleanly.
 *
 * The running command is sent SIGTERM, the policies are detached and the
 * cgroups removed before svmxctl exits.
 */
void ab_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

bool ab_interrupted(void)
{
	return ab_signal != 0;
}

/**
 * ab_replay_command() - the command that replays a recording.
 * @file: a recording of svmxctl record.
 * @cmd: set to "svmxctl replay FILE --json" (this svmxctl; static
 *	 storage, valid for the process).
 *
 * The recording is read and checked first, so that a missing, truncated
 * or corrupt file is refused before anything is attached.  The replay
 * runs under whatever the experiment attached for the run.
 *
 * Return: 0 or ctl_err()'s status.
 */
int ab_replay_command(const char *file, char ***cmd)
{
	static char self[PATH_MAX], path[PATH_MAX];
	static char *argv[] = { self, "replay", path, "--json", NULL };
	struct recording r;
	char why[256];
	ssize_t n;

	if (rec_load(file, &r, why, sizeof(why)))
		return ctl_err("--replay %s: %s", file, why);
	rec_free(&r);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return ctl_err("cannot find svmxctl itself: %s", strerror(errno));
	self[n] = '\0';
	if (!realpath(file, path))
		return ctl_err("--replay %s: %s", file, strerror(errno));
	*cmd = argv;
	return 0;
}

/**
 * ab_check_command() - the command exists and can be run.
 * @cmd: its argv.
 *
 * Return: 0 or ctl_err()'s status.
 */
int ab_check_command(char **cmd)
{
	char *path, *dir, *save, file[PATH_MAX];
	const char *env = getenv("PATH");

	if (!cmd || !cmd[0] || !*cmd[0])
		return ctl_err("no command to run");
	if (strchr(cmd[0], '/')) {
		if (access(cmd[0], X_OK))
			return ctl_err("%s: %s", cmd[0], strerror(errno));
		return 0;
	}
	path = strdup(env ? env : "/usr/local/bin:/usr/bin:/bin");
	if (!path)
		return ctl_err("out of memory");
	for (dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		struct stat st;

		snprintf(file, sizeof(file), "%s/%s", dir, cmd[0]);
		if (!stat(file, &st) && S_ISREG(st.st_mode) && !access(file, X_OK)) {
			free(path);
			return 0;
		}
	}
	free(path);
	return ctl_err("%s: command not found", cmd[0]);
}

/* {seed}, {pair} and {policy} in the command's words. */
static char *substitute(const char *word, uint64_t seed, int pair, const char *policy)
{
	static const char * const keys[] = { "{seed}", "{pair}", "{policy}" };
	char vals[3][80], *out;
	size_t len = strlen(word) + 1, cap, o = 0;
	const char *w = word;
	int k;

	snprintf(vals[0], sizeof(vals[0]), "%" PRIu64, seed);
	snprintf(vals[1], sizeof(vals[1]), "%d", pair);
	snprintf(vals[2], sizeof(vals[2]), "%s", policy);
	cap = len + 3 * 80 * (len / 6 + 1);
	out = malloc(cap);
	if (!out)
		return NULL;
	while (*w) {
		for (k = 0; k < 3; k++)
			if (!strncmp(w, keys[k], strlen(keys[k])))
				break;
		if (k < 3 && o + strlen(vals[k]) < cap) {
			memcpy(out + o, vals[k], strlen(vals[k]));
			o += strlen(vals[k]);
			w += strlen(keys[k]);
		} else if (o + 1 < cap) {
			out[o++] = *w++;
		} else {
			break;
		}
	}
	out[o] = '\0';
	return out;
}

struct child {
	pid_t pid;
	FILE *out, *err;
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	bool done;
};

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + t->tv_nsec;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + tv->tv_usec * 1000ull;
}

/* Start the command, in cgroup directory @cg when not NULL. */
static int child_start(const struct ab_exp *e, int arm, int pair, const char *cg,
		       struct child *c)
{
	uint64_t seed = e->seed + pair;
	char buf[32];
	int i, n;

	memset(c, 0, sizeof(*c));
	c->out = tmpfile();
	c->err = tmpfile();
	if (!c->out || !c->err)
		return -errno;
	for (n = 0; e->cmd[n]; n++)
		;
	fflush(stdout);
	fflush(stderr);
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	c->pid = fork();
	if (c->pid < 0)
		return -errno;
	if (!c->pid) {
		char **argv = calloc(n + 1, sizeof(*argv));

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		dup2(fileno(c->out), 1);
		dup2(fileno(c->err), 2);
		if (cg) {
			char procs[300];
			int fd;

			snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg);
			fd = open(procs, O_WRONLY);
			if (fd < 0 || write(fd, "0\n", 2) != 2) {
				fprintf(stderr, "svmxctl: joining %s: %s\n", cg, strerror(errno));
				_exit(126);
			}
			close(fd);
		}
		setenv("SVMX_AB_ARM", arm ? "B" : "A", 1);
		setenv("SVMX_AB_POLICY", e->arms[arm].name, 1);
		snprintf(buf, sizeof(buf), "%d", pair);
		setenv("SVMX_AB_PAIR", buf, 1);
		snprintf(buf, sizeof(buf), "%" PRIu64, seed);
		setenv("SVMX_AB_SEED", buf, 1);
		for (i = 0; argv && i < n; i++)
			argv[i] = substitute(e->cmd[i], seed, pair, e->arms[arm].name);
		if (argv)
			execvp(argv[0], argv);
		fprintf(stderr, "svmxctl: %s: %s\n", e->cmd[0], strerror(errno));
		_exit(127);
	}
	return 0;
}

/* Wait for the children; a signal to svmxctl is passed on to them. */
static void children_wait(struct child *c, int n)
{
	int left = 0, i, status;
	bool killed = false;

	for (i = 0; i < n; i++) {
		if (c[i].pid > 0 && !c[i].done)
			left++;
		else
			c[i].done = true;
	}

	while (left) {
		struct rusage ru;
		pid_t pid;

		if (ab_signal && !killed) {
			for (i = 0; i < n; i++)
				if (!c[i].done)
					kill(c[i].pid, SIGTERM);
			killed = true;
		}
		pid = wait4(-1, &status, 0, &ru);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < n; i++) {
			if (c[i].pid != pid || c[i].done)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &c[i].t1);
			c[i].ru = ru;
			c[i].status = status;
			c[i].done = true;
			left--;
		}
	}
}

static void child_free(struct child *c)
{
	if (c->out)
		fclose(c->out);
	if (c->err)
		fclose(c->err);
	c->out = NULL;
	c->err = NULL;
}

static char *slurp(FILE *f)
{
	long len;
	char *buf;

	fflush(f);
	len = ftell(f);
	if (len < 0)
		return NULL;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	rewind(f);
	len = fread(buf, 1, len, f);
	buf[len] = '\0';
	return buf;
}

/* The last non-empty line of @text (for a one-line error). */
static void last_line(const char *text, char *line, size_t size)
{
	const char *end = text + strlen(text), *start;

	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(line, size, "%.*s", (int)(end - start), start);
}

/* The command's JSON object: its whole output, or its last line. */
static struct json_object *parse_output(const char *text)
{
	struct json_object *j = json_tokener_parse(text);
	char line[65536];

	if (j && json_object_is_type(j, json_type_object))
		return j;
	json_object_put(j);
	last_line(text, line, sizeof(line));
	j = json_tokener_parse(line);
	if (j && json_object_is_type(j, json_type_object))
		return j;
	json_object_put(j);
	return NULL;
}

static void take_cmd_values(struct json_object *j, struct ab_sample *s)
{
	struct json_object *counters = NULL, *runs, *v;
	int i;

	/* svmxctl replay --json: the figures are those of its one run */
	if (json_object_object_get_ex(j, "runs", &runs) &&
	    json_object_is_type(runs, json_type_array) && json_object_array_length(runs) == 1)
		j = json_object_array_get_idx(runs, 0);
	json_object_object_get_ex(j, "counters", &counters);
	for (i = 0; i < NR_METRIC_DEFS; i++) {
		if (!(metric_defs[i].kinds & KIND_CMD))
			continue;
		if (!json_object_object_get_ex(j, metric_defs[i].name, &v) &&
		    !(counters && json_object_object_get_ex(counters, metric_defs[i].name, &v)))
			continue;
		if (!json_object_is_type(v, json_type_int) &&
		    !json_object_is_type(v, json_type_double))
			continue;
		s->cmd[i] = json_object_get_double(v);
		s->has_cmd[i] = true;
	}
}

/* ------------------------------------------------------------------
 * svmx's counters: devices (alternate) or one cgroup (cgroup split)
 */

struct kv_sum {
	double *v;
	bool *has;
};

static int add_counter(const char *key, const char *val, void *arg)
{
	struct kv_sum *k = arg;
	uint64_t n;
	int i;

	for (i = 0; i < NR_COUNTERS; i++) {
		if (strcmp(key, metric_defs[i].name) || ctl_parse_u64(val, &n))
			continue;
		k->v[i] += (double)n;
		k->has[i] = true;
	}
	return 0;
}

/* The counters summed over every device, or those of cgroup @cg_id. */
static int kernel_counters(uint64_t cg_id, double *v, bool *has)
{
	struct kv_sum k = { v, has };
	char *text;
	size_t i;
	int err;

	memset(v, 0, sizeof(double) * 64);
	memset(has, 0, sizeof(bool) * 64);
	if (!cg_id) {
		glob_t g;

		if (glob(SVMX_DEBUGFS "/svmx[0-9]*/stats", 0, NULL, &g))
			return -ENOENT;
		for (i = 0; i < g.gl_pathc; i++) {
			err = ctl_read_file(g.gl_pathv[i], &text);
			if (err) {
				globfree(&g);
				return err;
			}
			ctl_kv_each(text, add_counter, &k);
			free(text);
		}
		globfree(&g);
		return 0;
	}
	err = ctl_read_file(SVMX_CGROUPS_FILE, &text);
	if (err)
		return err;
	{
		char *line, *save, want[40];

		snprintf(want, sizeof(want), "cgroup=%" PRIu64 " ", cg_id);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (!strncmp(line, want, strlen(want)))
				ctl_kv_each(line, add_counter, &k);
	}
	free(text);
	/* A cgroup with no binding yet has no line: its counters are 0. */
	for (i = 0; i < NR_COUNTERS; i++)
		has[i] = true;
	return 0;
}

/* ------------------------------------------------------------------
 * Runs
 */

/* Fill @s from a finished child and the counters before and after. */
static int finish_sample(const struct ab_exp *e, int arm, struct child *c,
			 const double *k0, const double *k1, const bool *kh,
			 struct ab_sample *s)
{
	char *out = slurp(c->out), *err = slurp(c->err), line[512] = "";
	struct json_object *j;
	int i, ret = 0;

	if (err)
		last_line(err, line, sizeof(line));
	if (ab_signal) {
		ret = -EINTR;
	} else if (!WIFEXITED(c->status) || WEXITSTATUS(c->status)) {
		if (WIFSIGNALED(c->status))
			ctl_err("run %d (%s %s): the command was killed by signal %d%s%s",
				e->nr_samples + 1, arm ? "B" : "A", e->arms[arm].name,
				WTERMSIG(c->status), *line ? ": " : "", line);
		else
			ctl_err("run %d (%s %s): the command exited with status %d%s%s",
				e->nr_samples + 1, arm ? "B" : "A", e->arms[arm].name,
				WEXITSTATUS(c->status), *line ? ": " : "", line);
		ret = -ECHILD;
	}
	if (!ret) {
		j = out ? parse_output(out) : NULL;
		if (j)
			take_cmd_values(j, s);
		json_object_put(j);
		for (i = 0; i < NR_COUNTERS; i++) {
			s->kernel[i] = k1[i] - k0[i];
			s->has_kernel[i] = kh[i];
		}
		for (i = 0; i < NR_METRIC_DEFS; i++) {
			const char *n = metric_defs[i].name;
			double v;

			if (!strcmp(n, "wall_ns"))
				v = (double)(ts_ns(&c->t1) - ts_ns(&c->t0));
			else if (!strcmp(n, "cpu_ns"))
				v = (double)(tv_ns(&c->ru.ru_utime) + tv_ns(&c->ru.ru_stime));
			else if (!strcmp(n, "cpu_user_ns"))
				v = (double)tv_ns(&c->ru.ru_utime);
			else if (!strcmp(n, "cpu_sys_ns"))
				v = (double)tv_ns(&c->ru.ru_stime);
			else
				continue;
			s->run[i] = v;
			s->has_run[i] = true;
		}
	}
	free(out);
	free(err);
	child_free(c);
	return ret;
}

/**
 * ab_run_one() - one run of an arm in the global scope.
 * @e: the experiment (command, seed).
 * @arm: 0 or 1.
 * @pair: the pair, for {seed} and {pair}.
 * @s: the run's values.
 *
 * Loads the arm's policy afresh, attaches it globally, runs the command,
 * detaches the policy, and reads the command's JSON and the devices'
 * counters over the run.  Live (@e->live.on), the policy is swapped into
 * the global slot's link instead and stays there, serving every other
 * workload too, until the next arm or ab_live_restore() replaces it.
 *
 * Return: 0, -EINTR on a signal, or another negative errno after a
 * message; the policy is detached in every case (live: it stays).
 */
int ab_run_one(struct ab_exp *e, int arm, int pair, struct ab_sample *s)
{
	double k0[64], k1[64];
	bool h0[64], h1[64];
	struct child c = { 0 };
	struct bpf_link *link = NULL;
	int err, i;

	memset(s, 0, sizeof(*s));
	s->pair = pair;
	s->arm = arm;
	if (e->live.on)
		err = arm_swap(e, arm);
	else
		err = arm_attach(&e->arms[arm], 0, &link);
	if (err)
		return err;
	err = kernel_counters(0, k0, h0);
	if (!err)
		err = child_start(e, arm, pair, NULL, &c);
	if (err) {
		arm_detach(&link);
		child_free(&c);
		ctl_err("starting the command: %s", strerror(-err));
		return -EIO;
	}
	children_wait(&c, 1);
	err = kernel_counters(0, k1, h1);
	arm_detach(&link);
	for (i = 0; i < 64; i++)
		h1[i] = h1[i] && h0[i] && !err;
	return finish_sample(e, arm, &c, k0, k1, h1, s);
}

/* One pair of the cgroup split: both arms at once, each in its cgroup. */
static int run_pair_cgroup(struct ab_exp *e, int pair, bool b_first, struct ab_sample *s)
{
	double k0[2][64], k1[2][64];
	bool h0[2][64], h1[2][64];
	struct bpf_link *link[2] = { NULL, NULL };
	struct child c[2];
	int err = 0, i, k, arm;

	memset(c, 0, sizeof(c));
	for (arm = 0; arm < 2 && !err; arm++)
		err = arm_attach(&e->arms[arm], e->cg_id[arm], &link[arm]);
	for (arm = 0; arm < 2 && !err; arm++)
		err = kernel_counters(e->cg_id[arm], k0[arm], h0[arm]);
	for (k = 0; k < 2 && !err; k++) {
		arm = b_first ? 1 - k : k;
		err = child_start(e, arm, pair, e->cg[arm], &c[arm]);
		if (err)
			ctl_err("starting the command: %s", strerror(-err));
	}
	if (err) {
		for (arm = 0; arm < 2; arm++) {
			if (c[arm].pid > 0)
				kill(c[arm].pid, SIGKILL);
		}
		children_wait(c, 2);
		for (arm = 0; arm < 2; arm++) {
			child_free(&c[arm]);
			arm_detach(&link[arm]);
		}
		return err;
	}
	children_wait(c, 2);
	for (arm = 0; arm < 2; arm++) {
		int e2 = kernel_counters(e->cg_id[arm], k1[arm], h1[arm]);

		for (i = 0; i < 64; i++)
			h1[arm][i] = h1[arm][i] && h0[arm][i] && !e2;
		arm_detach(&link[arm]);
	}
	for (arm = 0; arm < 2; arm++) {
		memset(&s[arm], 0, sizeof(s[arm]));
		s[arm].pair = pair;
		s[arm].arm = arm;
		k = finish_sample(e, arm, &c[arm], k0[arm], k1[arm], h1[arm], &s[arm]);
		if (k && !err)
			err = k;
	}
	return err;
}

static int cgroups_make(struct ab_exp *e)
{
	struct stat st;
	int arm;

	for (arm = 0; arm < 2; arm++) {
		snprintf(e->cg[arm], sizeof(e->cg[arm]), "%s/svmxctl-ab-%d-%c",
			 SVMX_CGROUP_ROOT, (int)getpid(), arm ? 'b' : 'a');
		if (mkdir(e->cg[arm], 0755) || stat(e->cg[arm], &st)) {
			int err = -errno;

			ctl_err("%s: %s", e->cg[arm], strerror(-err));
			e->cg[arm][0] = '\0';
			return err;
		}
		e->cg_id[arm] = st.st_ino;
	}
	return 0;
}

static void cgroups_remove(struct ab_exp *e)
{
	int arm, tries;

	for (arm = 0; arm < 2; arm++) {
		if (!e->cg[arm][0])
			continue;
		/* The last child may still be leaving the cgroup. */
		for (tries = 0; tries < 100 && rmdir(e->cg[arm]) && errno == EBUSY; tries++)
			usleep(10000);
	}
}

static void progress(const struct ab_exp *e, const struct ab_sample *s)
{
	double v;

	if (e->quiet)
		return;
	fprintf(stderr, "svmxctl ab: run %d: pair %d, %s %s", e->nr_samples, s->pair + 1,
		s->arm ? "B" : "A", e->arms[s->arm].name);
	if (!ab_value(&e->metrics[0], s, &v))
		fprintf(stderr, ", %s %.0f", ab_metric_name(&e->metrics[0]), v);
	fputc('\n', stderr);
}

/* The first guard that @s (a run of B) crosses, or -1. */
static int guard_crossed(struct ab_exp *e, const struct ab_sample *s, double *val)
{
	int g;

	for (g = 0; g < e->nr_guards; g++) {
		struct ab_guard *gd = &e->guards[g];
		double v;

		if (ab_value(&gd->m, s, &v))
			continue;
		if ((gd->le && v > gd->bound) || (!gd->le && v < gd->bound)) {
			*val = v;
			return g;
		}
	}
	return -1;
}

static int add_sample(struct ab_exp *e, const struct ab_sample *s)
{
	struct ab_sample *n = realloc(e->samples, (e->nr_samples + 1) * sizeof(*n));
	int i, err;

	if (!n)
		return -ENOMEM;
	e->samples = n;
	e->samples[e->nr_samples] = *s;
	e->samples[e->nr_samples].seq = e->nr_samples;
	e->nr_samples++;
	for (i = 0; i < e->nr_metrics; i++) {
		err = resolve_src(&e->metrics[i], s);
		if (err || ab_value(&e->metrics[i], s, &(double){ 0 }))
			return ctl_err("metric %s: run %d has no value for it (from %s)",
				       e->metrics[i].spec, e->nr_samples,
				       src_what(e->metrics[i].src)) ? -ENODATA : 0;
	}
	for (i = 0; i < e->nr_guards; i++) {
		err = resolve_src(&e->guards[i].m, s);
		if (err || ab_value(&e->guards[i].m, s, &(double){ 0 }))
			return ctl_err("guard %s: run %d has no value for it",
				       e->guards[i].spec, e->nr_samples) ? -ENODATA : 0;
	}
	progress(e, &e->samples[e->nr_samples - 1]);
	return 0;
}

/**
 * ab_run_experiment() - run every pair, stop at a crossed guard.
 * @e: the experiment, checked (arms, command, scope).
 *
 * Return: 0 when every pair ran, AB_EXIT_GUARD when a guard stopped
 * it (@e->stopped_by says which), or a negative errno after a message
 * (-EINTR: interrupted).  Every policy is detached (live: the original
 * is swapped back) and the cgroups are removed in every case;
 * @e->scope_after says what the scope holds then.
 */
int ab_run_experiment(struct ab_exp *e)
{
	struct ab_rng order = { .s = e->seed ^ 0xab0e5eed0a1b2c3dull };
	struct ab_sample s[2];
	int err = 0, pair, k, arm, g;
	double v;

	e->stopped_by = -1;
	e->stop_sample = -1;
	snprintf(e->scope_before, sizeof(e->scope_before), "%s",
		 e->live.on ? e->live.name : "none");
	if (e->split == AB_SPLIT_CGROUP) {
		err = cgroups_make(e);
		if (err)
			goto out;
	}
	for (pair = 0; pair < (int)e->runs && !err && !ab_signal; pair++) {
		bool b_first = ab_rng_below(&order, 2);

		if (e->split == AB_SPLIT_CGROUP) {
			err = run_pair_cgroup(e, pair, b_first, s);
			for (k = 0; k < 2 && !err; k++)
				err = add_sample(e, &s[k]);
			g = err ? -1 : guard_crossed(e, &s[1], &v);
			if (g >= 0) {
				e->stopped_by = g;
				e->stop_sample = e->nr_samples - 1;
				e->stop_value = v;
				err = AB_EXIT_GUARD;
			}
			continue;
		}
		for (k = 0; k < 2 && !err; k++) {
			arm = b_first ? 1 - k : k;
			err = ab_run_one(e, arm, pair, &s[0]);
			if (!err)
				err = add_sample(e, &s[0]);
			g = err || arm == 0 ? -1 : guard_crossed(e, &s[0], &v);
			if (g >= 0) {
				e->stopped_by = g;
				e->stop_sample = e->nr_samples - 1;
				e->stop_value = v;
				err = AB_EXIT_GUARD;
			}
		}
	}
out:
	cgroups_remove(e);
	if (ab_live_restore(e) && !err)
		err = -EIO;
	if (ab_signal && err != AB_EXIT_GUARD)
		err = -EINTR;
	if (scope_attached(e->split == AB_SPLIT_CGROUP ? e->cg_id[1] : 0,
			   e->scope_after, sizeof(e->scope_after)))
		snprintf(e->scope_after, sizeof(e->scope_after), "?");
	if (e->split == AB_SPLIT_CGROUP && !strcmp(e->scope_after, "none"))
		snprintf(e->scope_after, sizeof(e->scope_after), "none (cgroups removed)");
	return err;
}

void ab_exp_free(struct ab_exp *e)
{
	free(e->samples);
	e->samples = NULL;
	e->nr_samples = 0;
}

/**
 * ab_values() - one metric's values of one arm, in run order.
 * @e: the experiment.
 * @m: the metric.
 * @arm: 0 or 1.
 * @vals: a malloc()ed array (to be freed), NULL when @n is 0.
 * @n: how many.
 *
 * Return: 0 or -ENOMEM.
 */
int ab_values(const struct ab_exp *e, const struct ab_metric *m, int arm,
	      double **vals, size_t *n)
{
	int i;

	*n = 0;
	*vals = malloc((e->nr_samples + 1) * sizeof(**vals));
	if (!*vals)
		return -ENOMEM;
	for (i = 0; i < e->nr_samples; i++)
		if (e->samples[i].arm == arm && !ab_value(m, &e->samples[i], &(*vals)[*n]))
			(*n)++;
	return 0;
}

/* ------------------------------------------------------------------
 * Reports
 */

struct cmp_result {
	struct ab_cmp c;
	double *a, *b;
	size_t na, nb;
	int err;
};

static void compare(const struct ab_exp *e, const struct ab_metric *m, struct cmp_result *r)
{
	memset(r, 0, sizeof(*r));
	r->err = ab_values(e, m, 0, &r->a, &r->na);
	if (!r->err)
		r->err = ab_values(e, m, 1, &r->b, &r->nb);
	if (!r->err && r->na && r->nb)
		r->err = ab_compare(r->a, r->na, r->b, r->nb, ab_metric_lower_better(m),
				    e->resamples, e->confidence, e->seed, &r->c);
	else if (!r->err)
		r->err = -ENODATA;
}

static void compare_free(struct cmp_result *r)
{
	free(r->a);
	free(r->b);
}

/* A number as the reports print it: integers whole, others to 4 digits. */
static const char *num(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "n/a");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, size, "%.0f", v);
	else if (fabs(v) >= 100)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.4g", v);
	return buf;
}

static const char *ratio(double v, char *buf, size_t size)
{
	if (isnan(v))
		snprintf(buf, size, "n/a");
	else
		snprintf(buf, size, "%.3fx", v);
	return buf;
}

static double vmin(const double *x, size_t n)
{
	double m = x[0];
	size_t i;

	for (i = 1; i < n; i++)
		m = x[i] < m ? x[i] : m;
	return m;
}

static double vmax(const double *x, size_t n)
{
	double m = x[0];
	size_t i;

	for (i = 1; i < n; i++)
		m = x[i] > m ? x[i] : m;
	return m;
}

static const char *arm_label(const struct ab_arm *a, char *buf, size_t size)
{
	int i, o;

	o = snprintf(buf, size, "%s", a->name);
	for (i = 0; i < a->nr_knobs && o < (int)size; i++)
		o += snprintf(buf + o, size - o, "%s%s", i ? "," : " ", a->knobs[i]);
	return buf;
}

static void print_cmd(const struct ab_exp *e, FILE *f)
{
	int i;

	for (i = 0; e->cmd[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", e->cmd[i]);
}

static void stop_line(const struct ab_exp *e, FILE *f, const char *prefix)
{
	const struct ab_sample *s;
	char b1[40];

	if (e->stopped_by < 0)
		return;
	s = &e->samples[e->stop_sample];
	fprintf(f, "%sSTOPPED by guard %s: run %d (pair %d, B %s) gave %s %s; B is %s, the scope holds %s (before: %s)\n",
		prefix, e->guards[e->stopped_by].spec, e->stop_sample + 1, s->pair + 1,
		e->arms[1].name, ab_metric_name(&e->guards[e->stopped_by].m),
		num(e->stop_value, b1, sizeof(b1)), e->live.on ? "swapped out" : "detached",
		e->scope_after, e->scope_before);
}

/**
 * ab_report_text() - the human-readable report.
 * @e: the experiment after ab_run_experiment().
 * @f: where to print it.
 *
 * Return: 0 or -ENOMEM.
 */
int ab_report_text(const struct ab_exp *e, FILE *f)
{
	char b1[40], b2[40], b3[40], la[200], lb[200];
	int i, pairs = 0, done[2] = { 0, 0 };
	int pct = (int)lround(e->confidence * 100);

	for (i = 0; i < e->nr_samples; i++)
		done[e->samples[i].arm]++;
	pairs = done[0] < done[1] ? done[0] : done[1];
	fprintf(f, "A/B experiment: A = %s, B = %s\n", arm_label(&e->arms[0], la, sizeof(la)),
		arm_label(&e->arms[1], lb, sizeof(lb)));
	fprintf(f, "split %s, %d of %u pairs run (A %d runs, B %d runs), seed %" PRIu64
		", %d%% confidence, %u bootstrap resamples\n",
		e->split == AB_SPLIT_CGROUP ? "cgroup" : "alternate", pairs, e->runs,
		done[0], done[1], e->seed, pct, e->resamples);
	fprintf(f, "command: ");
	print_cmd(e, f);
	fputc('\n', f);
	if (e->live.on)
		fprintf(f, "live: the arms swapped in through the pinned link of %s (global), the scope holds %s after\n",
			e->scope_before, e->scope_after);
	stop_line(e, f, "");
	for (i = 0; i < e->nr_metrics; i++) {
		const struct ab_metric *m = &e->metrics[i];
		struct cmp_result r;

		compare(e, m, &r);
		fprintf(f, "\n%s (%s, from %s; %s is better)\n", ab_metric_name(m),
			metric_defs[m->idx].what, src_what(m->src),
			ab_metric_lower_better(m) ? "lower" : "higher");
		if (r.err) {
			fprintf(f, "  no runs to compare\n");
			compare_free(&r);
			continue;
		}
		fprintf(f, "  A %-12s median %s over %zu runs (min %s, max %s)\n", e->arms[0].name,
			num(r.c.med_a, b1, sizeof(b1)), r.na, num(vmin(r.a, r.na), b2, sizeof(b2)),
			num(vmax(r.a, r.na), b3, sizeof(b3)));
		fprintf(f, "  B %-12s median %s over %zu runs (min %s, max %s)\n", e->arms[1].name,
			num(r.c.med_b, b1, sizeof(b1)), r.nb, num(vmin(r.b, r.nb), b2, sizeof(b2)),
			num(vmax(r.b, r.nb), b3, sizeof(b3)));
		fprintf(f, "  B - A          %s, %d%% CI [%s, %s]\n", num(r.c.diff, b1, sizeof(b1)),
			pct, num(r.c.diff_lo, b2, sizeof(b2)), num(r.c.diff_hi, b3, sizeof(b3)));
		fprintf(f, "  B / A          %s, %d%% CI [%s, %s]\n", ratio(r.c.ratio, b1, sizeof(b1)),
			pct, ratio(r.c.ratio_lo, b2, sizeof(b2)), ratio(r.c.ratio_hi, b3, sizeof(b3)));
		fprintf(f, "  effect         Cliff's delta %.3f (%s), Hodges-Lehmann shift %s\n",
			r.c.cliff, ab_cliff_size(r.c.cliff), num(r.c.hl, b1, sizeof(b1)));
		fprintf(f, "  verdict        %s\n", ab_verdict_str(r.c.verdict));
		compare_free(&r);
	}
	fprintf(f, "\nverdict:");
	for (i = 0; i < e->nr_metrics; i++) {
		struct cmp_result r;

		compare(e, &e->metrics[i], &r);
		fprintf(f, "%s %s %s", i ? ";" : "", ab_metric_name(&e->metrics[i]),
			r.err ? "no runs" : ab_verdict_str(r.c.verdict));
		if (!r.err && !isnan(r.c.ratio))
			fprintf(f, " (B/A %s)", ratio(r.c.ratio, b1, sizeof(b1)));
		compare_free(&r);
	}
	fputc('\n', f);
	return 0;
}

static struct json_object *jnum(double v)
{
	char buf[40];

	if (isnan(v))
		return NULL;
	if (v == floor(v) && fabs(v) < 9e15)
		return json_object_new_int64((int64_t)v);
	snprintf(buf, sizeof(buf), "%.6g", v);
	return json_object_new_double_s(v, buf);
}

static struct json_object *jarray(const double *x, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, jnum(x[i]));
	return a;
}

static struct json_object *jinterval(double est, double lo, double hi)
{
	struct json_object *o = json_object_new_object(), *ci = json_object_new_array();

	json_object_object_add(o, "estimate", jnum(est));
	json_object_array_add(ci, jnum(lo));
	json_object_array_add(ci, jnum(hi));
	json_object_object_add(o, "ci", ci);
	return o;
}

static struct json_object *jarm(const struct ab_arm *a)
{
	struct json_object *o = json_object_new_object(), *k = json_object_new_object();
	int i;

	json_object_object_add(o, "policy", json_object_new_string(a->spec));
	json_object_object_add(o, "name", json_object_new_string(a->name));
	json_object_object_add(o, "path", a->builtin ? NULL : json_object_new_string(a->path));
	for (i = 0; i < a->nr_knobs; i++) {
		char kv[96], *eq;

		snprintf(kv, sizeof(kv), "%s", a->knobs[i]);
		eq = strchr(kv, '=');
		if (eq) {
			*eq = '\0';
			json_object_object_add(k, kv, json_object_new_string(eq + 1));
		}
	}
	json_object_object_add(o, "knobs", k);
	return o;
}

/**
 * ab_report_json() - the report as one JSON document.
 * @e: the experiment after ab_run_experiment().
 *
 * Return: the document (to be put), or NULL.
 */
struct json_object *ab_report_json(const struct ab_exp *e)
{
	struct json_object *j = json_object_new_object(), *a, *runs, *ms;
	int i, k;

	json_object_object_add(j, "a", jarm(&e->arms[0]));
	json_object_object_add(j, "b", jarm(&e->arms[1]));
	json_object_object_add(j, "split", json_object_new_string(
		e->split == AB_SPLIT_CGROUP ? "cgroup" : "alternate"));
	json_object_object_add(j, "pairs", json_object_new_int(e->runs));
	json_object_object_add(j, "seed", json_object_new_uint64(e->seed));
	json_object_object_add(j, "confidence", jnum(e->confidence));
	json_object_object_add(j, "resamples", json_object_new_int(e->resamples));
	a = json_object_new_array();
	for (i = 0; e->cmd[i]; i++)
		json_object_array_add(a, json_object_new_string(e->cmd[i]));
	json_object_object_add(j, "command", a);

	ms = json_object_new_array();
	for (i = 0; i < e->nr_metrics; i++) {
		const struct ab_metric *m = &e->metrics[i];
		struct json_object *o = json_object_new_object(), *arm;
		struct cmp_result r;

		compare(e, m, &r);
		json_object_object_add(o, "name", json_object_new_string(ab_metric_name(m)));
		json_object_object_add(o, "description",
				       json_object_new_string(metric_defs[m->idx].what));
		json_object_object_add(o, "source", json_object_new_string(src_names[m->src]));
		json_object_object_add(o, "lower_is_better",
				       json_object_new_boolean(ab_metric_lower_better(m)));
		arm = json_object_new_object();
		json_object_object_add(arm, "median", r.err ? NULL : jnum(r.c.med_a));
		json_object_object_add(arm, "values", jarray(r.a, r.na));
		json_object_object_add(o, "a", arm);
		arm = json_object_new_object();
		json_object_object_add(arm, "median", r.err ? NULL : jnum(r.c.med_b));
		json_object_object_add(arm, "values", jarray(r.b, r.nb));
		json_object_object_add(o, "b", arm);
		if (!r.err) {
			json_object_object_add(o, "difference",
					       jinterval(r.c.diff, r.c.diff_lo, r.c.diff_hi));
			json_object_object_add(o, "ratio",
					       jinterval(r.c.ratio, r.c.ratio_lo, r.c.ratio_hi));
			json_object_object_add(o, "cliffs_delta", jnum(r.c.cliff));
			json_object_object_add(o, "hodges_lehmann", jnum(r.c.hl));
		}
		json_object_object_add(o, "verdict", json_object_new_string(
			r.err ? "no runs" : ab_verdict_str(r.c.verdict)));
		json_object_array_add(ms, o);
		compare_free(&r);
	}
	json_object_object_add(j, "metrics", ms);

	runs = json_object_new_array();
	for (i = 0; i < e->nr_samples; i++) {
		const struct ab_sample *s = &e->samples[i];
		struct json_object *o = json_object_new_object(), *v = json_object_new_object();

		json_object_object_add(o, "run", json_object_new_int(i + 1));
		json_object_object_add(o, "pair", json_object_new_int(s->pair + 1));
		json_object_object_add(o, "arm", json_object_new_string(s->arm ? "B" : "A"));
		json_object_object_add(o, "policy", json_object_new_string(e->arms[s->arm].name));
		for (k = 0; k < e->nr_metrics; k++) {
			double x;

			if (!ab_value(&e->metrics[k], s, &x))
				json_object_object_add(v, ab_metric_name(&e->metrics[k]), jnum(x));
		}
		json_object_object_add(o, "values", v);
		json_object_array_add(runs, o);
	}
	json_object_object_add(j, "runs", runs);

	if (e->stopped_by >= 0) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "guard",
				       json_object_new_string(e->guards[e->stopped_by].spec));
		json_object_object_add(o, "run", json_object_new_int(e->stop_sample + 1));
		json_object_object_add(o, "pair",
				       json_object_new_int(e->samples[e->stop_sample].pair + 1));
		json_object_object_add(o, "value", jnum(e->stop_value));
		json_object_object_add(j, "stopped", o);
	} else {
		json_object_object_add(j, "stopped", NULL);
	}
	json_object_object_add(j, "live_swap", json_object_new_boolean(e->live.on));
	json_object_object_add(j, "scope_before", json_object_new_string(e->scope_before));
	json_object_object_add(j, "scope_after", json_object_new_string(e->scope_after));
	return j;
}

/**
 * ab_report_markdown() - the report as a Markdown document.
 * @e: the experiment after ab_run_experiment().
 * @f: where to write it.
 *
 * Return: 0, or -EIO when writing failed.
 */
int ab_report_markdown(const struct ab_exp *e, FILE *f)
{
	char b1[40], b2[40], b3[40], la[200], lb[200];
	int i, k, pct = (int)lround(e->confidence * 100);

	fprintf(f, "# A/B experiment: %s vs %s\n\n", arm_label(&e->arms[0], la, sizeof(la)),
		arm_label(&e->arms[1], lb, sizeof(lb)));
	fprintf(f, "| | |\n|---|---|\n");
	fprintf(f, "| A | `%s`%s%s |\n", la, e->arms[0].builtin ? " (the built-in default)" : " from ",
		e->arms[0].builtin ? "" : e->arms[0].path);
	fprintf(f, "| B | `%s`%s%s |\n", lb, e->arms[1].builtin ? " (the built-in default)" : " from ",
		e->arms[1].builtin ? "" : e->arms[1].path);
	fprintf(f, "| split | %s |\n| pairs | %u asked, %d runs done |\n",
		e->split == AB_SPLIT_CGROUP ? "cgroup (both at once, one cgroup each)" :
		"alternate (global scope, order drawn per pair)", e->runs, e->nr_samples);
	fprintf(f, "| seed | %" PRIu64 " |\n| statistics | medians, %d%% percentile bootstrap intervals (%u resamples), Cliff's delta, Hodges-Lehmann shift |\n",
		e->seed, pct, e->resamples);
	if (e->live.on)
		fprintf(f, "| live | the arms swapped in through the pinned link of `%s` (global); after: `%s` |\n",
			e->scope_before, e->scope_after);
	fprintf(f, "| command | `");
	print_cmd(e, f);
	fprintf(f, "` |\n\n");
	stop_line(e, f, "**");
	if (e->stopped_by >= 0)
		fputc('\n', f);
	fprintf(f, "## Verdicts\n\n| metric | better | A median | B median | B / A (%d%% CI) | B - A (%d%% CI) | Cliff's delta | HL shift | verdict |\n",
		pct, pct);
	fprintf(f, "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
	for (i = 0; i < e->nr_metrics; i++) {
		const struct ab_metric *m = &e->metrics[i];
		struct cmp_result r;
		char lo[40], hi[40];

		compare(e, m, &r);
		if (r.err) {
			fprintf(f, "| %s | | | | | | | | no runs |\n", ab_metric_name(m));
			compare_free(&r);
			continue;
		}
		fprintf(f, "| %s | %s | %s | %s | ", ab_metric_name(m),
			ab_metric_lower_better(m) ? "lower" : "higher",
			num(r.c.med_a, b1, sizeof(b1)), num(r.c.med_b, b2, sizeof(b2)));
		fprintf(f, "%s [%s, %s] | ", ratio(r.c.ratio, b1, sizeof(b1)),
			ratio(r.c.ratio_lo, lo, sizeof(lo)), ratio(r.c.ratio_hi, hi, sizeof(hi)));
		fprintf(f, "%s [%s, %s] | %.3f (%s) | %s | **%s** |\n", num(r.c.diff, b1, sizeof(b1)),
			num(r.c.diff_lo, b2, sizeof(b2)), num(r.c.diff_hi, b3, sizeof(b3)),
			r.c.cliff, ab_cliff_size(r.c.cliff), num(r.c.hl, lo, sizeof(lo)),
			ab_verdict_str(r.c.verdict));
		compare_free(&r);
	}
	fprintf(f, "\n## Runs\n\n| run | pair | arm | policy |");
	for (k = 0; k < e->nr_metrics; k++)
		fprintf(f, " %s |", ab_metric_name(&e->metrics[k]));
	fprintf(f, "\n|---:|---:|---|---|");
	for (k = 0; k < e->nr_metrics; k++)
		fprintf(f, "---:|");
	fputc('\n', f);
	for (i = 0; i < e->nr_samples; i++) {
		const struct ab_sample *s = &e->samples[i];

		fprintf(f, "| %d | %d | %s | %s |", i + 1, s->pair + 1, s->arm ? "B" : "A",
			e->arms[s->arm].name);
		for (k = 0; k < e->nr_metrics; k++) {
			double x;

			fprintf(f, " %s |", ab_value(&e->metrics[k], s, &x) ? "" :
				num(x, b1, sizeof(b1)));
		}
		fputc('\n', f);
	}
	fprintf(f, "\nThe statistics and their assumptions: docs/ab-statistics.md.\n");
	return ferror(f) ? -EIO : 0;
}

/* ------------------------------------------------------------------
 * Plot: svmxctl-plot.py next to svmxctl draws it from the JSON
 */

/* Whether a file can be created at @path (its directory is writable). */
static bool dir_writable(const char *path)
{
	char dir[PATH_MAX], *sl;

	snprintf(dir, sizeof(dir), "%s", path);
	sl = strrchr(dir, '/');
	if (!sl)
		return !access(".", W_OK);
	if (sl == dir)
		sl[1] = '\0';
	else
		*sl = '\0';
	return !access(dir, W_OK);
}

/**
 * ab_plot_check() - before the experiment: the plot can be drawn.
 * @out: the file asked for (.svg or .png).
 * @script: set to the plotting script's path.
 * @size: size of @script.
 *
 * Runs the script with --check (it imports matplotlib).
 *
 * Return: 0 or ctl_err()'s status.
 */
int ab_plot_check(const char *out, char *script, size_t size)
{
	const char *ext = strrchr(out, '.');
	char exe[PATH_MAX], cmd[PATH_MAX * 2];
	ssize_t n;
	int st;

	if (!ext || (strcmp(ext, ".svg") && strcmp(ext, ".png")))
		return ctl_err("--plot %s: the file must end in .svg or .png", out);
	if (!dir_writable(out))
		return ctl_err("--plot %s: cannot write there: %s", out, strerror(errno));
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return ctl_err("cannot find svmxctl's own directory");
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(script, size, "%s/svmxctl-plot.py", exe);
	if (access(script, X_OK))
		return ctl_err("--plot: %s: %s", script, strerror(errno));
	snprintf(cmd, sizeof(cmd), "'%s' --check >/dev/null 2>&1", script);
	st = system(cmd);
	if (st)
		return ctl_err("--plot: %s cannot run (python3-matplotlib installed?)", script);
	return 0;
}

/**
 * ab_plot() - draw the plot of an experiment.
 * @e: the experiment.
 * @script: from ab_plot_check().
 * @out: the file.
 *
 * Return: 0 or ctl_err()'s status.
 */
int ab_plot(const struct ab_exp *e, const char *script, const char *out)
{
	char json[] = "/tmp/svmxctl-ab-XXXXXX";
	struct json_object *j = ab_report_json(e);
	const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);
	pid_t pid;
	int fd, st = 1;

	fd = mkstemp(json);
	if (fd < 0 || write(fd, s, strlen(s)) != (ssize_t)strlen(s)) {
		json_object_put(j);
		if (fd >= 0) {
			close(fd);
			unlink(json);
		}
		return ctl_err("--plot: writing the data: %s", strerror(errno));
	}
	close(fd);
	json_object_put(j);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		dup2(2, 1);
		execl(script, script, json, out, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	unlink(json);
	if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return ctl_err("--plot %s: %s failed", out, script);
	return 0;
}

/* ------------------------------------------------------------------
 * svmxctl ab
 */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: svmxctl ab --a POLICY --b POLICY [options] -- CMD [ARG]...\n"
"       svmxctl ab --a POLICY --b POLICY [options] --replay FILE\n"
"Run CMD under policy A and under policy B, alternately or at once in two\n"
"cgroups, and say per metric which is better at the stated confidence.\n"
"POLICY: a policy name, a .bpf.o path, or builtin (no BPF policy).\n"
"\n"
"  --a POLICY             the baseline\n"
"  --b POLICY             the candidate (the guardrails watch it)\n"
"  --set-a KNOB=VALUE     a load-time knob of A (repeatable)\n"
"  --set-b KNOB=VALUE     a load-time knob of B (repeatable)\n"
"  --runs N               pairs of runs, 1..1000 (default 5)\n"
"  --split alternate|cgroup  alternate runs in the global scope (default),\n"
"                         or both at once, each in a cgroup of its own\n"
"  --metric M             compare M (repeatable; default modeled_ns): NAME or\n"
"                         cmd.NAME, kernel.NAME, run.NAME (svmxctl ab --list-metrics)\n"
"  --guard M<=BOUND       stop when a run of B gives more than BOUND\n"
"  --guard M>=BOUND       ... less than BOUND (repeatable)\n"
"  --seed S               seed of the order, the resampling and {seed} (default 1)\n"
"  --confidence PCT       of the intervals and verdicts, 50..99.9 (default 95)\n"
"  --resamples N          bootstrap resamples, 100..1000000 (default 10000)\n"
"  --json                 the report as JSON on stdout\n"
"  --markdown FILE        also write the report as Markdown to FILE\n"
"  --plot FILE            also draw the runs per metric and policy (.svg/.png)\n"
"  --list-metrics         list the metrics and exit\n"
"  --replay FILE          the runs replay a recording (svmxctl record): both\n"
"                         policies meet the same device work\n"
"  -q, --quiet            no progress lines on stderr\n"
"  -h, --help             this text\n"
"\n"
"In CMD, {seed} becomes the pair's seed (--seed + pair index, the same for\n"
"both runs of a pair), {pair} the pair index and {policy} the policy's name.\n"
"Exit status: 0 the experiment ran (whatever the verdict), 1 failure,\n"
"2 bad usage, 3 a guardrail stopped it (B detached, the scope as before).\n");
}

static void list_metrics(void)
{
	int i;

	printf("%-20s %-8s %-14s %s\n", "metric", "better", "sources", "what");
	for (i = 0; i < NR_METRIC_DEFS; i++) {
		const struct metric_def *d = &metric_defs[i];
		char src[32] = "";

		if (d->kinds & KIND_CMD)
			strcat(src, "cmd,");
		if (d->kinds & KIND_COUNTER)
			strcat(src, "kernel,");
		if (d->kinds & KIND_RUN)
			strcat(src, "run,");
		src[strlen(src) - 1] = '\0';
		printf("%-20s %-8s %-14s %s\n", d->name, d->higher_better ? "higher" : "lower",
		       src, d->what);
	}
}

/* "M<=BOUND" or "M>=BOUND". */
static int parse_guard(const char *arg, struct ab_guard *g)
{
	const char *op = strstr(arg, "<=");
	char name[64];

	memset(g, 0, sizeof(*g));
	snprintf(g->spec, sizeof(g->spec), "%s", arg);
	g->le = true;
	if (!op) {
		op = strstr(arg, ">=");
		g->le = false;
	}
	if (!op || op == arg || (size_t)(op - arg) >= sizeof(name))
		return -EINVAL;
	snprintf(name, sizeof(name), "%.*s", (int)(op - arg), arg);
	if (ab_metric_parse(name, &g->m))
		return -ENOENT;
	return ctl_parse_double(op + 2, &g->bound);
}

static int add_knob(struct ab_arm *arm, const char *kv)
{
	if (arm->nr_knobs == AB_MAX_KNOBS || strlen(kv) >= sizeof(arm->knobs[0]) ||
	    !strchr(kv, '=') || kv[0] == '=')
		return -EINVAL;
	snprintf(arm->knobs[arm->nr_knobs++], sizeof(arm->knobs[0]), "%s", kv);
	return 0;
}

/* Whether the words after the options start with a "--" of the user. */
static bool dashdash_before(int argc, char **argv, int optind_)
{
	return optind_ > 0 && optind_ <= argc && !strcmp(argv[optind_ - 1], "--");
}

int cmd_ab(int argc, char **argv)
{
	enum { O_A = 256, O_B, O_SETA, O_SETB, O_RUNS, O_SPLIT, O_METRIC, O_GUARD,
	       O_SEED, O_CONF, O_RESAMPLES, O_JSON, O_MD, O_PLOT, O_LIST, O_REPLAY };
	static const struct option opts[] = {
		{ "a", required_argument, NULL, O_A },
		{ "b", required_argument, NULL, O_B },
		{ "set-a", required_argument, NULL, O_SETA },
		{ "set-b", required_argument, NULL, O_SETB },
		{ "runs", required_argument, NULL, O_RUNS },
		{ "split", required_argument, NULL, O_SPLIT },
		{ "metric", required_argument, NULL, O_METRIC },
		{ "guard", required_argument, NULL, O_GUARD },
		{ "seed", required_argument, NULL, O_SEED },
		{ "confidence", required_argument, NULL, O_CONF },
		{ "resamples", required_argument, NULL, O_RESAMPLES },
		{ "json", no_argument, NULL, O_JSON },
		{ "markdown", required_argument, NULL, O_MD },
		{ "plot", required_argument, NULL, O_PLOT },
		{ "list-metrics", no_argument, NULL, O_LIST },
		{ "replay", required_argument, NULL, O_REPLAY },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ab_exp e = { .runs = 5, .seed = 1, .confidence = AB_CONFIDENCE,
			    .resamples = AB_RESAMPLES };
	const char *md = NULL, *plot = NULL, *replay = NULL;
	char script[PATH_MAX];
	bool json = false;
	uint64_t u;
	double d;
	int c, err, ret;
	FILE *f;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case O_A:
			e.arms[0].spec = optarg;
			break;
		case O_B:
			e.arms[1].spec = optarg;
			break;
		case O_SETA:
		case O_SETB:
			if (add_knob(&e.arms[c == O_SETB], optarg))
				return ctl_usage_err("ab", "bad knob setting '%s' (want KNOB=VALUE)",
						     optarg);
			break;
		case O_RUNS:
			if (ctl_parse_u64(optarg, &u) || u < 1 || u > 1000)
				return ctl_usage_err("ab", "--runs %s: want 1..1000 pairs", optarg);
			e.runs = u;
			break;
		case O_SPLIT:
			if (!strcmp(optarg, "alternate"))
				e.split = AB_SPLIT_ALTERNATE;
			else if (!strcmp(optarg, "cgroup"))
				e.split = AB_SPLIT_CGROUP;
			else
				return ctl_usage_err("ab", "--split %s: want alternate or cgroup",
						     optarg);
			break;
		case O_METRIC:
			if (e.nr_metrics == AB_MAX_METRICS)
				return ctl_usage_err("ab", "at most %d metrics", AB_MAX_METRICS);
			err = ab_metric_parse(optarg, &e.metrics[e.nr_metrics]);
			if (err)
				return ctl_usage_err("ab", "--metric %s: %s", optarg,
						     err == -ENOENT ? "unknown metric" :
						     "it does not come from that source");
			e.nr_metrics++;
			break;
		case O_GUARD:
			if (e.nr_guards == AB_MAX_GUARDS)
				return ctl_usage_err("ab", "at most %d guards", AB_MAX_GUARDS);
			err = parse_guard(optarg, &e.guards[e.nr_guards]);
			if (err == -ENOENT)
				return ctl_usage_err("ab", "--guard %s: unknown metric", optarg);
			if (err)
				return ctl_usage_err("ab", "--guard %s: want METRIC<=NUMBER or METRIC>=NUMBER",
						     optarg);
			e.nr_guards++;
			break;
		case O_SEED:
			if (ctl_parse_u64(optarg, &e.seed))
				return ctl_usage_err("ab", "--seed %s: not a number", optarg);
			break;
		case O_CONF:
			if (ctl_parse_double(optarg, &d) || d < 50 || d > 99.9)
				return ctl_usage_err("ab", "--confidence %s: want 50..99.9 (percent)",
						     optarg);
			e.confidence = d / 100;
			break;
		case O_RESAMPLES:
			if (ctl_parse_u64(optarg, &u) || u < 100 || u > 1000000)
				return ctl_usage_err("ab", "--resamples %s: want 100..1000000", optarg);
			e.resamples = u;
			break;
		case O_JSON:
			json = true;
			break;
		case O_MD:
			md = optarg;
			break;
		case O_PLOT:
			plot = optarg;
			break;
		case O_LIST:
			list_metrics();
			return 0;
		case O_REPLAY:
			replay = optarg;
			break;
		case 'q':
			e.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return ctl_usage_err("ab", "unknown option or missing value: '%s'",
					     argv[optind - 1]);
		}
	}
	if (!e.arms[0].spec || !e.arms[1].spec)
		return ctl_usage_err("ab", "both --a and --b are needed");
	if (replay && optind < argc)
		return ctl_usage_err("ab", "give a command after -- or --replay FILE, not both");
	if (replay && e.split == AB_SPLIT_CGROUP)
		return ctl_usage_err("ab", "--replay needs the device to itself: --split alternate");
	if (!replay && optind >= argc)
		return ctl_usage_err("ab", "no command: give it after --, or --replay FILE");
	if (!replay && !dashdash_before(argc, argv, optind))
		return ctl_usage_err("ab", "'%s': the command must follow --", argv[optind]);
	e.cmd = argv + optind;
	if (replay && ab_replay_command(replay, &e.cmd))
		return 1;
	if (!e.nr_metrics) {
		ab_metric_parse("modeled_ns", &e.metrics[0]);
		e.nr_metrics = 1;
	}

	/* Checks, before anything is attached or made. */
	if (ctl_need_root() || ctl_need_module())
		return 1;
	if (ab_check_command(e.cmd))
		return 1;
	if (ab_arm_check(&e.arms[0]) || ab_arm_check(&e.arms[1]))
		return 1;
	if (md && !dir_writable(md))
		return ctl_err("--markdown %s: cannot write there: %s", md, strerror(errno));
	if (plot && ab_plot_check(plot, script, sizeof(script)))
		return 1;
	if (ab_check_scope(&e) || ab_live_begin(&e))
		return 1;

	ab_signals();
	err = ab_run_experiment(&e);
	ab_live_end(&e);
	if (err < 0 && err != -EINTR) {
		ab_exp_free(&e);
		return 1;
	}
	if (err == -EINTR)
		ctl_err("interrupted after %d runs: %s%s", e.nr_samples,
			e.live.on ? "the global scope holds " : "every policy detached",
			e.live.on ? e.scope_after : "");
	ret = err == AB_EXIT_GUARD ? AB_EXIT_GUARD : err ? 1 : 0;
	if (json)
		ctl_json_print(ab_report_json(&e));
	else
		ab_report_text(&e, stdout);
	if (md) {
		f = fopen(md, "w");
		if (!f || ab_report_markdown(&e, f) || fclose(f)) {
			ctl_err("--markdown %s: %s", md, strerror(errno));
			ret = ret ? ret : 1;
		}
	}
	if (plot && e.nr_samples && ab_plot(&e, script, plot))
		ret = ret ? ret : 1;
	ab_exp_free(&e);
	return ret;
}
