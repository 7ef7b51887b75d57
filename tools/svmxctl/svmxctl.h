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

#endif /* SVMXCTL_H */
