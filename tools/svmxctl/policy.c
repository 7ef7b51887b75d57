// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl policy: attach, swap, list, inspect, tune and detach BPF
 * migration policies.
 *
 * A policy attached by svmxctl outlives it: its struct_ops link is pinned
 * at /sys/fs/bpf/svmx/SLOT/link (SLOT: global, global-shadow, cgroup-ID,
 * cgroup-ID-shadow), with the maps of its knobs next to it (rodata,
 * knobs).  Loading into a slot that holds a pinned link swaps the policy
 * live through that link (the kernel's update callback: every fault is
 * decided by the old or the new policy, and if the new one fails to load
 * or to init the old one stays).  Removing the pins detaches it.  What
 * the kernel attached and how it is doing comes from debugfs (scopes.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "svmxctl.h"

#define MAX_SETS	32

static void usage(FILE *f)
{
	fprintf(f,
"Usage: svmxctl policy load FILE.bpf.o|NAME [--cgroup PATH] [--shadow] [--set KNOB=VALUE]...\n"
"       svmxctl policy list [--json]\n"
"       svmxctl policy info NAME | --global | --cgroup PATH [--shadow] [--json]\n"
"       svmxctl policy set NAME | --global | --cgroup PATH [--shadow] KNOB=VALUE...\n"
"       svmxctl policy detach NAME | --global | --cgroup PATH [--shadow]\n"
"       svmxctl policy knobs FILE.bpf.o|NAME [--json]\n"
"\n"
"  load     attach a policy (globally, or to a cgroup v2 with --cgroup) and pin\n"
"           it under " SVMX_BPFFS_DIR "; a policy already attached by svmxctl in\n"
"           that scope is replaced live, with no gap\n"
"  list     the attached policies: scope, state, since, calls, fallbacks,\n"
"           invalid answers, knobs\n"
"  info     one slot in full: per-callback counts and the exit info of the\n"
"           last policy that left it (after an ejection: kind, reason, message)\n"
"  set      change live knobs of an attached policy (load-time knobs need a\n"
"           new load with --set)\n"
"  detach   remove svmxctl's pins: the next policy of the scope decides\n"
"  knobs    a policy object's knobs and their defaults\n"
"\n"
"  -c, --cgroup PATH   a cgroup v2 (path under " SVMX_CGROUP_ROOT ", or its id)\n"
"  -g, --global        the global scope (the default for load)\n"
"  -s, --shadow        the scope's shadow slot (answers traced, never applied)\n"
"  -S, --set KNOB=VALUE  a knob's value at load (repeatable)\n"
"  -j, --json          JSON output (list, info, knobs)\n"
"  -h, --help          this text\n"
"NAME is a policy's name (policy/NAME.bpf.c; found in $SVMX_POLICY_PATH, next to\n"
"svmxctl, then /usr/local/lib/svmx/policies and /usr/lib/svmx/policies).\n");
}

/**
 * struct pol_args - the parsed command line of a policy subcommand.
 * @what: the positional argument (policy, or NAME of an attached one).
 * @sets: KNOB=VALUE assignments (--set, or set's positional ones).
 * @nr_sets: entries of @sets.
 * @cgroup: --cgroup's argument, or NULL.
 * @cgroup_id: its id (0: global).
 * @scope_given: --global or --cgroup was given.
 * @shadow: --shadow.
 * @json: --json.
 */
struct pol_args {
	const char *what;
	const char *sets[MAX_SETS];
	int nr_sets;
	const char *cgroup;
	uint64_t cgroup_id;
	bool scope_given;
	bool shadow;
	bool json;
};

static int parse_args(const char *sub, int argc, char **argv, struct pol_args *a)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "global", no_argument, NULL, 'g' },
		{ "shadow", no_argument, NULL, 's' },
		{ "set", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int opt, err;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:gsS:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->cgroup = optarg;
			a->scope_given = true;
			break;
		case 'g':
			a->scope_given = true;
			break;
		case 's':
			a->shadow = true;
			break;
		case 'S':
			if (a->nr_sets == MAX_SETS)
				return ctl_usage_err("policy", "more than %d --set", MAX_SETS);
			a->sets[a->nr_sets++] = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:
			return ctl_usage_err("policy", "policy %s: unknown option '%s'", sub,
					     argv[optind - 1]);
		}
	}
	for (; optind < argc; optind++) {
		if (!strcmp(sub, "set") && strchr(argv[optind], '=')) {
			if (a->nr_sets == MAX_SETS)
				return ctl_usage_err("policy", "more than %d KNOB=VALUE", MAX_SETS);
			a->sets[a->nr_sets++] = argv[optind];
		} else if (!a->what) {
			a->what = argv[optind];
		} else {
			return ctl_usage_err("policy", "policy %s: unexpected argument '%s'",
					     sub, argv[optind]);
		}
	}
	if (a->cgroup) {
		err = ctl_cgroup_id(a->cgroup, &a->cgroup_id);
		if (err)
			return ctl_err("cgroup %s: %s", a->cgroup,
				       err == -EINVAL ? "not a cgroup id" : strerror(-err));
	}
	return 0;
}

/* "2026-11-29 21:04:05" from wall-clock ns. */
static const char *time_text(uint64_t ns, char *buf, size_t size)
{
	time_t t = ns / 1000000000ULL;
	struct tm tm;

	if (!ns || !localtime_r(&t, &tm))
		snprintf(buf, size, "-");
	else
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
	return buf;
}

static bool pinned(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/link", dir);
	return access(path, F_OK) == 0;
}

/* Remove svmxctl's pins of a slot; the link goes when its last pin does. */
static int unpin_slot(const char *dir)
{
	static const char * const pins[] = { "link", "rodata", "knobs" };
	char path[4200];
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(pins) / sizeof(*pins); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pins[i]);
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	if (rmdir(dir) && errno != ENOENT && !err)
		err = -errno;
	return err;
}

/*
 * Pin the knob maps of a loaded policy in @dir, replacing the pins of the
 * policy before it; a section the new policy lacks loses its pin.
 */
static int pin_knob_maps(struct ctl_policy *p, const char *dir)
{
	static const char * const sfx[] = { ".rodata", ".data.knobs" };
	static const char * const pin[] = { "rodata", "knobs" };
	struct bpf_map *map;
	char path[4200], tmp[4300];
	bool have[2] = {};
	int err, i;

	bpf_object__for_each_map(map, p->obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name);

		for (i = 0; i < 2; i++)
			if (n >= strlen(sfx[i]) && !strcmp(name + n - strlen(sfx[i]), sfx[i]))
				break;
		if (i == 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, pin[i]);
		/* bpffs refuses names with a dot */
		snprintf(tmp, sizeof(tmp), "%s/%s_new", dir, pin[i]);
		unlink(tmp);
		if (bpf_obj_pin(bpf_map__fd(map), tmp))
			return -errno;
		if (rename(tmp, path)) {
			err = -errno;
			unlink(tmp);
			return err;
		}
		have[i] = true;
	}
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin[i]);
		if (!have[i] && unlink(path) && errno != ENOENT)
			return -errno;
	}
	return 0;
}

/* The slot's state after a change: until @want_name is attached (or none). */
static int wait_slot(uint64_t cgid, bool shadow, const char *want_name)
{
	struct ctl_slot *slots, *s;
	int nr, tries, err;
	bool done;

	/* The kernel releases a link from a workqueue: give it up to 10 s. */
	for (tries = 0; tries < 200; tries++) {
		err = ctl_slots_read(&slots, &nr);
		if (err)
			return err;
		s = ctl_slot_find(slots, nr, cgid, shadow);
		done = want_name ? s && !strcmp(s->name, want_name) : !s || !s->name[0];
		free(slots);
		if (done)
			return 0;
		usleep(50000);
	}
	return -ETIMEDOUT;
}

static int apply_sets(struct ctl_policy *p, const struct pol_args *a)
{
	struct ctl_knobs *ks;
	char knob[64], names[1024];
	const char *eq;
	int i, err;

	for (i = 0; i < a->nr_sets; i++) {
		eq = strchr(a->sets[i], '=');
		if (!eq || eq == a->sets[i] || (size_t)(eq - a->sets[i]) >= sizeof(knob))
			return ctl_usage_err("policy", "--set wants KNOB=VALUE, not '%s'",
					     a->sets[i]);
		snprintf(knob, sizeof(knob), "%.*s", (int)(eq - a->sets[i]), a->sets[i]);
		err = ctl_policy_knob(p, knob, eq + 1);
		if (err == -ENOENT) {
			ks = malloc(sizeof(*ks));
			if (ks && !ctl_policy_knobs(p, ks))
				ctl_knob_names(ks, names, sizeof(names));
			else
				snprintf(names, sizeof(names), "?");
			free(ks);
			return ctl_err("policy %s has no knob '%s' (knobs: %s)", p->name, knob,
				       names);
		}
		if (err)
			return ctl_err("knob %s: '%s' is not a valid value for it", knob, eq + 1);
	}
	return 0;
}

/* Swap the policy of a pinned slot through its link. */
static int swap_live(struct ctl_policy *p, const char *dir, const char *old_name)
{
	const char *old = old_name[0] ? old_name : "(ejected)";
	int link_fd, err;

	link_fd = ctl_link_open(dir);
	if (link_fd < 0)
		return ctl_err("%s/link: %s", dir, strerror(-link_fd));
	err = ctl_swap_policy(p, link_fd, -1);
	close(link_fd);
	if (err == -EAGAIN)
		return ctl_err("the slot of %s emptied during the swap: load %s again", old, p->name);
	if (err)
		return ctl_err("swap %s -> %s refused by the kernel: %s (%s stays attached; dmesg says more)",
			       old, p->name, strerror(-err), old);
	err = pin_knob_maps(p, dir);
	if (err)
		fprintf(stderr, "svmxctl: warning: %s swapped in, but its knob maps could not be pinned: %s\n",
			p->name, strerror(-err));
	return 0;
}

/* Attach into an empty slot and pin; on any failure nothing stays. */
static int attach_new(struct ctl_policy *p, const char *dir)
{
	struct bpf_link *link;
	char path[4200];
	int err;

	err = ctl_policy_attach(p, &link);
	if (err == -EBUSY)
		return ctl_err("the slot is held by a policy svmxctl did not attach (svmx-policy-load or another loader): stop it first");
	if (err)
		return ctl_err("attach %s: %s", p->name, strerror(-err));
	if ((mkdir(SVMX_BPFFS_DIR, 0700) && errno != EEXIST) ||
	    (mkdir(dir, 0700) && errno != EEXIST)) {
		err = -errno;
		bpf_link__destroy(link);
		return ctl_err("%s: %s (is bpffs mounted on /sys/fs/bpf?)", dir, strerror(-err));
	}
	snprintf(path, sizeof(path), "%s/link", dir);
	err = bpf_link__pin(link, path);
	if (!err)
		err = pin_knob_maps(p, dir);
	if (err) {
		unpin_slot(dir);
		bpf_link__destroy(link);
		return ctl_err("pin %s: %s", dir, strerror(-err));
	}
	bpf_link__disconnect(link);	/* the pin keeps it attached */
	bpf_link__destroy(link);
	return 0;
}

/* The scope's name as the kernel shows it now that a policy is there. */
static const char *scope_now(const struct pol_args *a, char *buf, size_t size)
{
	struct ctl_slot *slots, *s;
	int nr;

	snprintf(buf, size, "%s%s%s", a->cgroup ? "cgroup " : "global",
		 a->cgroup ? a->cgroup : "", a->shadow ? " shadow" : "");
	if (ctl_slots_read(&slots, &nr))
		return buf;
	s = ctl_slot_find(slots, nr, a->cgroup_id, a->shadow);
	if (s)
		ctl_slot_scope_name(s, buf, size);
	free(slots);
	return buf;
}

static int policy_load(int argc, char **argv)
{
	struct ctl_slot *slots = NULL, *s;
	struct ctl_policy p = {};
	struct pol_args a;
	char dir[4096], old[64] = "", scope[600];
	int nr = 0, err, ret = 1;

	err = parse_args("load", argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (!a.what)
		return ctl_usage_err("policy", "policy load: which policy?");
	if (ctl_need_root() || ctl_need_module())
		return 1;
	err = ctl_policy_open(a.what, &p);
	if (err) {
		ctl_policy_close(&p);
		if (err == -ENOENT || err == -EINVAL)
			return ctl_err("no policy '%s' (a file, or a name in the policy directories: svmxctl policy -h)",
				       a.what);
		return ctl_err("%s: not a policy object (one struct svmx_ops map and its name wanted): %s",
			       p.path[0] ? p.path : a.what, strerror(-err));
	}
	err = apply_sets(&p, &a);
	if (!err && ctl_policy_scope(&p, a.cgroup_id, a.shadow))
		err = ctl_err("%s: its struct svmx_ops has no cgroup_id or flags (built for another svmx)",
			      p.path);
	if (err) {
		ctl_policy_close(&p);
		return err;
	}
	ctl_slot_pin_dir(a.cgroup_id, a.shadow, dir, sizeof(dir));
	if (ctl_slots_read(&slots, &nr) == 0) {
		s = ctl_slot_find(slots, nr, a.cgroup_id, a.shadow);
		if (s)
			snprintf(old, sizeof(old), "%s", s->name);
		free(slots);
	}
	err = ctl_policy_load(&p);
	if (err) {
		ctl_err("load %s: %s (the verifier refused it? svmxctl -v policy load says why)",
			p.path, strerror(-err));
		goto out;
	}
	if (pinned(dir)) {
		if (swap_live(&p, dir, old))
			goto out;
		printf("swapped %s -> %s (%s), pinned at %s\n", old[0] ? old : "(ejected)",
		       p.name, scope_now(&a, scope, sizeof(scope)), dir);
	} else {
		if (attach_new(&p, dir))
			goto out;
		printf("attached %s (%s), pinned at %s\n", p.name,
		       scope_now(&a, scope, sizeof(scope)), dir);
	}
	ret = 0;
out:
	ctl_policy_close(&p);
	return ret;
}

static void counts_json(struct json_object *o, const struct ctl_counts *c)
{
	json_object_object_add(o, "calls", json_object_new_uint64(c->calls));
	json_object_object_add(o, "fallbacks", json_object_new_uint64(c->errors + c->invalid));
	json_object_object_add(o, "errors", json_object_new_uint64(c->errors));
	json_object_object_add(o, "invalid", json_object_new_uint64(c->invalid));
}

static struct json_object *knobs_json(const struct ctl_knobs *ks)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < ks->nr; i++) {
		struct json_object *k = json_object_new_object();

		const struct ctl_knob *kn = &ks->knob[i];

		json_object_object_add(k, "value", kn->is_bool ? json_object_new_boolean(kn->value) :
				       kn->is_signed ? json_object_new_int64((int64_t)kn->value) :
				       json_object_new_uint64(kn->value));
		json_object_object_add(k, "live", json_object_new_boolean(ks->knob[i].live));
		json_object_object_add(o, ks->knob[i].name, k);
	}
	return o;
}

static const char *knobs_text(const struct ctl_knobs *ks, char *buf, size_t size)
{
	size_t len = 0;
	char val[32];
	int i;

	snprintf(buf, size, "-");
	for (i = 0; i < ks->nr && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s=%s%s", i ? "," : "",
				ks->knob[i].name, ctl_knob_format(&ks->knob[i], val, sizeof(val)),
				ks->knob[i].live ? "*" : "");
	return buf;
}

/* The slot's knobs when svmxctl pinned it, else none (ks->nr == 0). */
static void slot_knobs(const struct ctl_slot *s, struct ctl_knobs *ks, char *dir, size_t size)
{
	ctl_slot_pin_dir(s->cgroup_id, s->shadow, dir, size);
	ks->nr = 0;
	if (pinned(dir))
		ctl_pinned_knobs(dir, ks);
	else
		dir[0] = '\0';
}

static struct json_object *slot_json(const struct ctl_slot *s, const struct ctl_knobs *ks,
				     const char *dir)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "scope", json_object_new_string(s->cgroup_id ? "cgroup" : "global"));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(s->cgroup_id));
	json_object_object_add(o, "cgroup", s->cgroup_id ?
			       json_object_new_string(s->cgroup_path) : NULL);
	json_object_object_add(o, "shadow", json_object_new_boolean(s->shadow));
	json_object_object_add(o, "state", json_object_new_string(s->ejected ? "ejected" : "active"));
	json_object_object_add(o, "since_ns", json_object_new_uint64(s->since_ns));
	counts_json(o, &s->counts);
	json_object_object_add(o, "knobs", knobs_json(ks));
	json_object_object_add(o, "pinned", dir[0] ? json_object_new_string(dir) : NULL);
	return o;
}

static int policy_list(int argc, char **argv)
{
	struct json_object *arr = NULL;
	struct ctl_knobs *ks;
	struct ctl_slot *slots;
	struct pol_args a;
	char dir[4096], scope[600], since[32], knobs[1024];
	int nr, i, err, shown = 0;

	err = parse_args("list", argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (a.what || a.scope_given || a.shadow || a.nr_sets)
		return ctl_usage_err("policy", "policy list takes only --json");
	if (ctl_need_root() || ctl_need_module())
		return 1;
	err = ctl_slots_read(&slots, &nr);
	if (err)
		return ctl_err("%s: %s", SVMX_SCOPES_FILE, strerror(-err));
	ks = malloc(sizeof(*ks));
	if (!ks) {
		free(slots);
		return ctl_err("out of memory");
	}
	if (a.json)
		arr = json_object_new_array();
	else
		printf("%-16s %-24s %-7s %-19s %10s %9s %7s  %s\n", "NAME", "SCOPE", "STATE",
		       "SINCE", "CALLS", "FALLBACKS", "INVALID", "KNOBS (* live)");
	for (i = 0; i < nr; i++) {
		const struct ctl_slot *s = &slots[i];

		if (!s->name[0])
			continue;
		slot_knobs(s, ks, dir, sizeof(dir));
		shown++;
		if (a.json) {
			json_object_array_add(arr, slot_json(s, ks, dir));
			continue;
		}
		printf("%-16s %-24s %-7s %-19s %10llu %9llu %7llu  %s\n", s->name,
		       ctl_slot_scope_name(s, scope, sizeof(scope)),
		       s->ejected ? "ejected" : "active", time_text(s->since_ns, since, sizeof(since)),
		       (unsigned long long)s->counts.calls,
		       (unsigned long long)(s->counts.errors + s->counts.invalid),
		       (unsigned long long)s->counts.invalid, knobs_text(ks, knobs, sizeof(knobs)));
	}
	if (!a.json && !shown)
		printf("(no policy attached: the built-in default decides)\n");
	free(ks);
	free(slots);
	return a.json && ctl_json_print(arr) ? 1 : 0;
}

/*
 * The slot a command names: by --global/--cgroup (and --shadow), or by
 * the name of the policy attached there (or, for info, of the last one
 * that left it).  Exactly one must match.
 */
static struct ctl_slot *pick_slot(struct ctl_slot *slots, int nr, const struct pol_args *a,
				  bool exits_too)
{
	struct ctl_slot *found = NULL;
	int i, matches = 0;

	if (a->scope_given) {
		found = ctl_slot_find(slots, nr, a->cgroup_id, a->shadow);
		if (!found)
			ctl_err("no policy was ever attached to %s%s", a->cgroup ? a->cgroup : "the global scope",
				a->shadow ? " (shadow)" : "");
		return found;
	}
	for (i = 0; i < nr; i++) {
		if (!strcmp(slots[i].name, a->what) ||
		    (exits_too && !slots[i].name[0] && !strcmp(slots[i].exit_name, a->what))) {
			found = &slots[i];
			matches++;
		}
	}
	if (!matches)
		ctl_err("no policy '%s' is attached (svmxctl policy list)", a->what);
	if (matches > 1) {
		ctl_err("policy '%s' is attached in %d scopes: name one with --global or --cgroup",
			a->what, matches);
		return NULL;
	}
	return found;
}

static int need_target(const char *sub, const struct pol_args *a)
{
	if (!a->what == !a->scope_given)
		return ctl_usage_err("policy", "policy %s: name a policy, or a scope with --global or --cgroup",
				     sub);
	return 0;
}

static void info_text(const struct ctl_slot *s, const struct ctl_knobs *ks, const char *dir)
{
	char scope[600], t[32], knobs[1024];
	int i;

	printf("scope:     %s\n", ctl_slot_scope_name(s, scope, sizeof(scope)));
	if (s->name[0]) {
		printf("policy:    %s (%s, attached %s)\n", s->name, s->ejected ? "ejected" : "active",
		       time_text(s->since_ns, t, sizeof(t)));
		printf("pinned:    %s\n", dir[0] ? dir : "no (held by another loader)");
		printf("knobs:     %s\n", knobs_text(ks, knobs, sizeof(knobs)));
		printf("%-14s %12s %10s %10s\n", "CALLBACK", "CALLS", "ERRORS", "INVALID");
		for (i = 0; i < s->nr_cb; i++)
			printf("%-14s %12llu %10llu %10llu\n", s->cb[i].cb,
			       (unsigned long long)s->cb[i].calls,
			       (unsigned long long)s->cb[i].errors,
			       (unsigned long long)s->cb[i].invalid);
	} else {
		printf("policy:    none (the next scope's policy or the built-in default decides)\n");
	}
	if (!s->exit_name[0]) {
		printf("last exit: none\n");
		return;
	}
	printf("last exit: %s, kind %s, at %s\n", s->exit_name, s->exit_kind,
	       time_text(s->exit_ns, t, sizeof(t)));
	printf("reason:    %s\n", s->exit_reason);
	printf("message:   %s\n", s->exit_msg[0] ? s->exit_msg : "-");
	printf("%-14s %12s %10s %10s\n", "CALLBACK", "CALLS", "ERRORS", "INVALID");
	for (i = 0; i < s->nr_exit_cb; i++)
		printf("%-14s %12llu %10llu %10llu\n", s->exit_cb[i].cb,
		       (unsigned long long)s->exit_cb[i].calls,
		       (unsigned long long)s->exit_cb[i].errors,
		       (unsigned long long)s->exit_cb[i].invalid);
}

static struct json_object *cbs_json(const struct ctl_counts *cb, int nr)
{
	struct json_object *o = json_object_new_object();
	int i;

	for (i = 0; i < nr; i++) {
		struct json_object *c = json_object_new_object();

		counts_json(c, &cb[i]);
		json_object_object_add(o, cb[i].cb, c);
	}
	return o;
}

/*
 * The slot that info, set or detach names, from the kernel's slots:
 * root and the module checked, the slots read (*@slots, to be freed, also
 * on failure), one slot picked (NULL with the reason printed).
 * @attached: the slot must hold a policy.  Return: 0 or the exit status.
 */
static int target_slot(const struct pol_args *a, bool exits_too, bool attached,
		       struct ctl_slot **slots, struct ctl_slot **s)
{
	char scope[600];
	int nr, err;

	*slots = NULL;
	*s = NULL;
	if (ctl_need_root() || ctl_need_module())
		return 1;
	err = ctl_slots_read(slots, &nr);
	if (err)
		return ctl_err("%s: %s", SVMX_SCOPES_FILE, strerror(-err));
	*s = pick_slot(*slots, nr, a, exits_too);
	if (!*s)
		return 1;
	if (attached && !(*s)->name[0]) {
		ctl_err("no policy is attached to %s", ctl_slot_scope_name(*s, scope, sizeof(scope)));
		*s = NULL;
		return 1;
	}
	return 0;
}

static int policy_info(int argc, char **argv)
{
	struct ctl_slot *slots, *s;
	struct ctl_knobs *ks;
	struct pol_args a;
	char dir[4096];
	int err, ret;

	err = parse_args("info", argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (need_target("info", &a))
		return EXIT_USAGE;
	ret = target_slot(&a, true, false, &slots, &s);
	ks = malloc(sizeof(*ks));
	if (!ret && !ks)
		ret = ctl_err("out of memory");
	if (!ret) {
		slot_knobs(s, ks, dir, sizeof(dir));
		if (a.json) {
			struct json_object *o = slot_json(s, ks, dir), *e;

			json_object_object_add(o, "callbacks", cbs_json(s->cb, s->nr_cb));
			e = json_object_new_object();
			json_object_object_add(e, "name", json_object_new_string(s->exit_name));
			json_object_object_add(e, "kind", json_object_new_string(s->exit_kind));
			json_object_object_add(e, "time_ns", json_object_new_uint64(s->exit_ns));
			json_object_object_add(e, "reason", json_object_new_string(s->exit_reason));
			json_object_object_add(e, "message", json_object_new_string(s->exit_msg));
			counts_json(e, &s->exit_counts);
			json_object_object_add(e, "callbacks", cbs_json(s->exit_cb, s->nr_exit_cb));
			json_object_object_add(o, "last_exit", s->exit_name[0] ? e : NULL);
			if (!s->exit_name[0])
				json_object_put(e);
			ret = ctl_json_print(o) ? 1 : 0;
		} else {
			info_text(s, ks, dir);
			ret = 0;
		}
	}
	free(ks);
	free(slots);
	return ret;
}

static int policy_detach(int argc, char **argv)
{
	struct ctl_slot *slots, *s;
	struct pol_args a;
	char dir[4096], name[64], scope[600];
	uint64_t cgid;
	bool shadow;
	int err;

	err = parse_args("detach", argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (need_target("detach", &a))
		return EXIT_USAGE;
	if (a.nr_sets || a.json)
		return ctl_usage_err("policy", "policy detach takes no --set or --json");
	err = target_slot(&a, false, true, &slots, &s);
	if (err) {
		free(slots);
		return err;
	}
	snprintf(name, sizeof(name), "%s", s->name);
	ctl_slot_scope_name(s, scope, sizeof(scope));
	cgid = s->cgroup_id;
	shadow = s->shadow;
	free(slots);
	ctl_slot_pin_dir(cgid, shadow, dir, sizeof(dir));
	if (!pinned(dir))
		return ctl_err("%s in %s was not attached by svmxctl (no pin at %s): stop the loader that holds it",
			       name, scope, dir);
	err = unpin_slot(dir);
	if (err)
		return ctl_err("unpin %s: %s", dir, strerror(-err));
	err = wait_slot(cgid, shadow, NULL);
	if (err)
		return ctl_err("%s unpinned, but the kernel still shows it attached: %s", name,
			       strerror(-err));
	printf("detached %s (%s)\n", name, scope);
	return 0;
}

static int policy_set(int argc, char **argv)
{
	struct ctl_slot *slots, *s;
	struct ctl_knobs *ks;
	struct ctl_knob *k;
	struct pol_args a;
	uint64_t vals[MAX_SETS];
	struct ctl_knob *knob[MAX_SETS];
	char dir[4096], name[64], names[1024], kname[64], val[32];
	int err, i, ret = 1;

	err = parse_args("set", argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (need_target("set", &a))
		return EXIT_USAGE;
	if (!a.nr_sets)
		return ctl_usage_err("policy", "policy set: which KNOB=VALUE?");
	err = target_slot(&a, false, true, &slots, &s);
	if (err) {
		free(slots);
		return err;
	}
	snprintf(name, sizeof(name), "%s", s->name);
	ctl_slot_pin_dir(s->cgroup_id, s->shadow, dir, sizeof(dir));
	free(slots);
	if (!pinned(dir))
		return ctl_err("%s was not attached by svmxctl: its knobs are not reachable", name);
	ks = malloc(sizeof(*ks));
	if (!ks)
		return ctl_err("out of memory");
	err = ctl_pinned_knobs(dir, ks);
	if (err) {
		ctl_err("knobs of %s: %s", name, strerror(-err));
		goto out;
	}
	/* Every assignment is checked before the first one is made. */
	for (i = 0; i < a.nr_sets; i++) {
		const char *eq = strchr(a.sets[i], '=');

		snprintf(kname, sizeof(kname), "%.*s", (int)(eq - a.sets[i]), a.sets[i]);
		k = ctl_knob_find(ks, kname);
		if (!k) {
			ctl_err("policy %s has no knob '%s' (knobs: %s)", name, kname,
				ctl_knob_names(ks, names, sizeof(names)));
			goto out;
		}
		if (!k->live) {
			ctl_err("knob %s of %s is load-time only (const volatile): load it again with --set %s",
				kname, name, a.sets[i]);
			goto out;
		}
		if (ctl_knob_encode(k, eq + 1, &vals[i])) {
			ctl_err("knob %s: '%s' is not a valid value for it", kname, eq + 1);
			goto out;
		}
		knob[i] = k;
	}
	for (i = 0; i < a.nr_sets; i++) {
		err = ctl_pinned_knob_set(dir, knob[i], vals[i]);
		if (err) {
			ctl_err("set %s of %s: %s", knob[i]->name, name, strerror(-err));
			goto out;
		}
		knob[i]->value = vals[i];
		printf("%s: %s=%s\n", name, knob[i]->name, ctl_knob_format(knob[i], val, sizeof(val)));
	}
	ret = 0;
out:
	free(ks);
	return ret;
}

static int policy_knobs(int argc, char **argv)
{
	struct ctl_policy p = {};
	struct ctl_knobs *ks;
	struct pol_args a;
	char val[32];
	int err, i, ret = 1;

	err = parse_args("knobs", argc, argv, &a);
	if (err)
		return err < 0 ? 0 : err;
	if (!a.what || a.scope_given || a.shadow || a.nr_sets)
		return ctl_usage_err("policy", "policy knobs: name one policy object");
	err = ctl_policy_open(a.what, &p);
	ks = malloc(sizeof(*ks));
	if (!err && ks)
		err = ctl_policy_knobs(&p, ks);
	if (err || !ks) {
		ctl_err("%s: %s", a.what, err == -ENOENT ? "no such policy" :
			err == -ENOEXEC ? "not a policy object" : strerror(err ? -err : ENOMEM));
		goto out;
	}
	if (a.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(p.name));
		json_object_object_add(o, "path", json_object_new_string(p.path));
		json_object_object_add(o, "knobs", knobs_json(ks));
		ret = ctl_json_print(o) ? 1 : 0;
		goto out;
	}
	printf("%s (%s)\n", p.name, p.path);
	printf("%-20s %-10s %s\n", "KNOB", "KIND", "DEFAULT");
	for (i = 0; i < ks->nr; i++)
		printf("%-20s %-10s %s\n", ks->knob[i].name, ks->knob[i].live ? "live" : "load-time",
		       ctl_knob_format(&ks->knob[i], val, sizeof(val)));
	if (!ks->nr)
		printf("(no knobs)\n");
	ret = 0;
out:
	free(ks);
	ctl_policy_close(&p);
	return ret;
}

/**
 * cmd_policy() - svmxctl policy SUBCOMMAND.
 * @argc: argument count, argv[0] == "policy".
 * @argv: arguments.
 *
 * Return: the exit status.
 */
int cmd_policy(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} subs[] = {
		{ "load", policy_load },
		{ "list", policy_list },
		{ "info", policy_info },
		{ "set", policy_set },
		{ "detach", policy_detach },
		{ "knobs", policy_knobs },
	};
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (!strcmp(argv[1], subs[i].name))
			return subs[i].fn(argc - 1, argv + 1);
	return ctl_usage_err("policy", "unknown policy subcommand '%s'", argv[1]);
}
