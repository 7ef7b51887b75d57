/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmxctl - the operator's agent of svmx.  One source file per subcommand
 * group (policy.c, stats.c, ...); this header is what they share: the
 * subcommand table, error reporting, the checks every command that
 * touches the kernel makes, and policy objects (bpfobj.c).
 *
 * Conventions, kept by every subcommand:
 *  - functions return 0 or a negative errno; a subcommand's entry point
 *    returns the process exit status (0 success, 1 failure, 2 bad usage);
 *  - a failure prints one line "svmxctl: <what>: <why>" on stderr
 *    (ctl_err()) and changes nothing: checks come before actions;
 *  - read commands take --json and then print one JSON document (json-c)
 *    on stdout and nothing else;
 *  - -h/--help prints the usage on stdout and exits 0.
 */
#ifndef SVMXCTL_H
#define SVMXCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct bpf_link;
struct bpf_map;
struct bpf_object;
struct json_object;

#define EXIT_USAGE		2

/* Where the kernel's state is read and the agent's links are pinned. */
#define SVMX_DEBUGFS		"/sys/kernel/debug/svmx"
#define SVMX_SCOPES_FILE	SVMX_DEBUGFS "/scopes"
#define SVMX_CGROUPS_FILE	SVMX_DEBUGFS "/cgroups"
#define SVMX_SYSFS_MODULE	"/sys/module/svmx"
#define SVMX_BPFFS_DIR		"/sys/fs/bpf/svmx"
#define SVMX_CGROUP_ROOT	"/sys/fs/cgroup"

/* struct svmx_ops::flags, kernel/svmx_bpf.h */
#define SVMX_OPS_SHADOW		1

/**
 * struct ctl_cmd - one subcommand (group) of svmxctl.
 * @name: the word on the command line.
 * @main: entry point, called with argv[0] == @name; returns the exit status.
 * @summary: one line for `svmxctl help`.
 */
struct ctl_cmd {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *summary;
};

/* Subcommand entry points, one per source file. */
int cmd_policy(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_ab(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);

/* common.c */
extern int ctl_verbose;
int ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_errno(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ctl_usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int ctl_need_root(void);
int ctl_need_module(void);
int ctl_read_file(const char *path, char **text);
int ctl_parse_u64(const char *s, uint64_t *val);
int ctl_parse_double(const char *s, double *val);
int ctl_cgroup_id(const char *arg, uint64_t *id);
int ctl_json_print(struct json_object *doc);
void ctl_libbpf_quiet(void);

/*
 * ctl_kv_each() - call @fn for every "key=value" of @text (separated by
 * blanks or newlines), in order; stops at the first non-zero return.
 */
int ctl_kv_each(const char *text,
		int (*fn)(const char *key, const char *val, void *arg), void *arg);

/* bpfobj.c: a policy object (policy/NAME.bpf.c built) on its way in. */

/**
 * struct ctl_policy - a policy object opened for attaching.
 * @obj: the libbpf object.
 * @ops: its one struct svmx_ops map.
 * @path: the file it was opened from.
 * @name: the policy's name (struct svmx_ops::name), as the kernel shows it.
 */
struct ctl_policy {
	struct bpf_object *obj;
	struct bpf_map *ops;
	char path[4096];
	char name[64];
};

int ctl_policy_resolve(const char *arg, char *path, size_t size);
int ctl_policy_open(const char *arg, struct ctl_policy *p);
int ctl_policy_scope(struct ctl_policy *p, uint64_t cgroup_id, bool shadow);
int ctl_policy_knob(struct ctl_policy *p, const char *knob, const char *value);
int ctl_policy_load(struct ctl_policy *p);
int ctl_policy_attach(struct ctl_policy *p, struct bpf_link **link);
void ctl_policy_close(struct ctl_policy *p);

/* scopes.c: the kernel's slots (debugfs scopes) and svmxctl's pins. */

#define CTL_MAX_CB	16

/**
 * struct ctl_counts - a policy's callback runs, summed or per callback.
 * @cb: the callback's name (per-callback entries only).
 * @calls: callback runs.
 * @errors: runs that returned an error (the default decided instead).
 * @invalid: answers the kernel rejected (the default decided instead).
 */
struct ctl_counts {
	char cb[24];
	uint64_t calls;
	uint64_t errors;
	uint64_t invalid;
};

/**
 * struct ctl_slot - one slot (scope and role) as the kernel shows it.
 * @cgroup_id: 0 for the global scope.
 * @cgroup_path: the cgroup's path ("(global)" for the global scope).
 * @shadow: the shadow slot of its scope.
 * @removed: the cgroup is gone.
 * @name: the attached policy, "" when none.
 * @ejected: the attached policy was ejected (its link is still there).
 * @since_ns: wall-clock ns of its attach or live update.
 * @counts: its callback counts, summed.
 * @cb: its counts per callback; @nr_cb of them.
 * @nr_cb: entries of @cb.
 * @exit_name: the last policy that left the slot, "" when none.
 * @exit_kind: how it left (unreg, error, invalid, cgroup, unload, replaced).
 * @exit_ns: wall-clock ns of its exit.
 * @exit_reason: the kernel's reason.
 * @exit_msg: the policy's message (svmx_bpf_error()).
 * @exit_counts: its counts at exit, summed.
 * @exit_cb: its counts at exit per callback; @nr_exit_cb of them.
 * @nr_exit_cb: entries of @exit_cb.
 */
struct ctl_slot {
	uint64_t cgroup_id;
	char cgroup_path[512];
	bool shadow;
	bool removed;
	char name[64];
	bool ejected;
	uint64_t since_ns;
	struct ctl_counts counts;
	struct ctl_counts cb[CTL_MAX_CB];
	int nr_cb;
	char exit_name[64];
	char exit_kind[24];
	uint64_t exit_ns;
	char exit_reason[1024];
	char exit_msg[1024];
	struct ctl_counts exit_counts;
	struct ctl_counts exit_cb[CTL_MAX_CB];
	int nr_exit_cb;
};

int ctl_slots_read(struct ctl_slot **slots, int *nr);
struct ctl_slot *ctl_slot_find(struct ctl_slot *slots, int nr, uint64_t cgroup_id,
			       bool shadow);
void ctl_slot_pin_dir(uint64_t cgroup_id, bool shadow, char *buf, size_t size);
const char *ctl_slot_scope_name(const struct ctl_slot *s, char *buf, size_t size);

/* knobs.c: load-time (.rodata) and live (.data.knobs) knobs. */

#define CTL_MAX_KNOBS	64

/**
 * struct ctl_knob - one knob of a policy.
 * @name: its variable's name.
 * @live: in .data.knobs (changeable while attached), else load-time only.
 * @size: its size in bytes (1, 2, 4 or 8).
 * @offset: its offset in its section.
 * @is_signed: a signed integer.
 * @is_bool: a bool.
 * @value: its value (sign-extended).
 */
struct ctl_knob {
	char name[64];
	bool live;
	uint32_t size;
	uint32_t offset;
	bool is_signed;
	bool is_bool;
	uint64_t value;
};

/**
 * struct ctl_knobs - the knobs of a policy.
 * @nr: entries of @knob.
 * @knob: the knobs, load-time ones first.
 */
struct ctl_knobs {
	int nr;
	struct ctl_knob knob[CTL_MAX_KNOBS];
};

int ctl_knob_encode(const struct ctl_knob *k, const char *text, uint64_t *value);
const char *ctl_knob_format(const struct ctl_knob *k, char *buf, size_t size);
struct ctl_knob *ctl_knob_find(struct ctl_knobs *ks, const char *name);
const char *ctl_knob_names(const struct ctl_knobs *ks, char *buf, size_t size);
int ctl_policy_knobs(struct ctl_policy *p, struct ctl_knobs *ks);
int ctl_pinned_knobs(const char *dir, struct ctl_knobs *ks);
int ctl_pinned_knob_set(const char *dir, const struct ctl_knob *k, uint64_t value);

/* swap.c: live swaps through a slot's pinned struct_ops link. */
int ctl_link_open(const char *dir);
int ctl_link_map(int link_fd);
int ctl_swap_map(int link_fd, int map_fd, int old_fd);
int ctl_swap_policy(struct ctl_policy *p, int link_fd, int old_fd);

#endif /* SVMXCTL_H */
