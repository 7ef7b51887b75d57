// SPDX-License-Identifier: GPL-2.0
/*
 * Policy objects: find one by name or path, open it with libbpf, set its
 * scope (cgroup, shadow) and its load-time knobs, load and attach it.
 *
 * A policy is an ELF object with exactly one struct svmx_ops map (see
 * docs/policy-writers.md).  Its scope lives in the ops struct's
 * cgroup_id and flags members and its load-time knobs are `const
 * volatile` variables of .rodata; both are found through the object's
 * BTF by name, so this works for any policy without its skeleton.
 *
 * bpftool's struct_ops commands are not used: bpftool 7.5 crashes on
 * struct_ops types that live in a module.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "svmxctl.h"

/* Where policies are looked up by name, after $SVMX_POLICY_PATH. */
static const char * const policy_dirs_rel[] = {
	"../bpf",			/* build tree: build/tools/svmxctl */
	"../lib/svmx/policies",		/* installed: PREFIX/sbin/svmxctl */
};

static const char * const policy_dirs_abs[] = {
	"/usr/local/lib/svmx/policies",
	"/usr/lib/svmx/policies",
};

static bool is_file(const char *path)
{
	return access(path, R_OK) == 0;
}

static int try_dir(const char *dir, const char *name, char *path, size_t size)
{
	char real[PATH_MAX];

	if ((size_t)snprintf(path, size, "%s/%s.bpf.o", dir, name) >= size)
		return -ENAMETOOLONG;
	if (!is_file(path))
		return -ENOENT;
	if (realpath(path, real) && strlen(real) < size)
		strcpy(path, real);	/* for messages: no "tools/../bpf" */
	return 0;
}

/**
 * ctl_policy_resolve() - the object file of a policy.
 * @arg: a path (contains '/' or ends in ".o") or a policy name: NAME is
 *	 NAME.bpf.o in the directories of $SVMX_POLICY_PATH (':'-separated),
 *	 then next to svmxctl (the build tree, PREFIX/lib/svmx/policies), then
 *	 /usr/local/lib/svmx/policies and /usr/lib/svmx/policies.
 * @path: the file found.
 * @size: size of @path.
 *
 * Return: 0, -ENOENT when there is no such policy, -EINVAL for an empty
 * or malformed name.
 */
int ctl_policy_resolve(const char *arg, char *path, size_t size)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64], *env, *d, *save;
	const char *env_path;
	ssize_t n;
	size_t i;

	if (!arg || !*arg)
		return -EINVAL;
	if (strchr(arg, '/') || (strlen(arg) > 2 && !strcmp(arg + strlen(arg) - 2, ".o"))) {
		if ((size_t)snprintf(path, size, "%s", arg) >= size)
			return -ENAMETOOLONG;
		return is_file(path) ? 0 : -ENOENT;
	}
	if (strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
	    strlen(arg))
		return -EINVAL;
	env_path = getenv("SVMX_POLICY_PATH");
	if (env_path && *env_path) {
		env = strdup(env_path);
		if (!env)
			return -ENOMEM;
		for (d = strtok_r(env, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			if (!try_dir(d, arg, path, size)) {
				free(env);
				return 0;
			}
		}
		free(env);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		*strrchr(exe, '/') = '\0';
		for (i = 0; i < sizeof(policy_dirs_rel) / sizeof(*policy_dirs_rel); i++) {
			snprintf(dir, sizeof(dir), "%s/%s", exe, policy_dirs_rel[i]);
			if (!try_dir(dir, arg, path, size))
				return 0;
		}
	}
	for (i = 0; i < sizeof(policy_dirs_abs) / sizeof(*policy_dirs_abs); i++)
		if (!try_dir(policy_dirs_abs[i], arg, path, size))
			return 0;
	return -ENOENT;
}

/* The member @name of the struct_ops map's value type, and its offset. */
static const struct btf_member *ops_member(struct ctl_policy *p, const char *name,
					   size_t *off)
{
	const struct btf *btf = bpf_object__btf(p->obj);
	const struct btf_type *t;
	const struct btf_member *m;
	int i;

	t = btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(p->ops)) : NULL;
	if (!t || !btf_is_struct(t))
		return NULL;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
		if (!strcmp(btf__name_by_offset(btf, m->name_off), name)) {
			*off = btf_member_bit_offset(t, i) / 8;
			return m;
		}
	}
	return NULL;
}

static int read_name(struct ctl_policy *p)
{
	size_t off, vsize;
	const char *data = bpf_map__initial_value(p->ops, &vsize);

	if (!data || !ops_member(p, "name", &off) || off >= vsize)
		return -ENOENT;
	snprintf(p->name, sizeof(p->name), "%.*s", (int)(vsize - off), data + off);
	return p->name[0] ? 0 : -ENOENT;
}

/**
 * ctl_policy_open() - open a policy object (not loaded yet).
 * @arg: policy name or object path (ctl_policy_resolve()).
 * @p: filled in; ctl_policy_close() releases it, also after a failure.
 *
 * Return: 0; -ENOENT (no such policy), -ENOEXEC (not a BPF object, or no
 * or several struct_ops maps, or no policy name), or libbpf's error.
 */
int ctl_policy_open(const char *arg, struct ctl_policy *p)
{
	struct bpf_map *map;
	int err;

	memset(p, 0, sizeof(*p));
	err = ctl_policy_resolve(arg, p->path, sizeof(p->path));
	if (err)
		return err;
	p->obj = bpf_object__open_file(p->path, NULL);
	if (!p->obj) {
		err = -errno;
		return err == -ENOENT ? err : -ENOEXEC;
	}
	bpf_object__for_each_map(map, p->obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (p->ops)
			return -ENOEXEC;
		p->ops = map;
	}
	if (!p->ops)
		return -ENOEXEC;
	return read_name(p) ? -ENOEXEC : 0;
}

static int ops_set_u64(struct ctl_policy *p, const char *name, uint64_t val, bool or)
{
	size_t off, size;
	char *data = bpf_map__initial_value(p->ops, &size);
	uint64_t old;

	if (!data || !ops_member(p, name, &off) || off + sizeof(val) > size)
		return -ENOENT;
	memcpy(&old, data + off, sizeof(old));
	if (or)
		val |= old;
	memcpy(data + off, &val, sizeof(val));
	return 0;
}

/**
 * ctl_policy_scope() - where the policy attaches, before load.
 * @p: an opened policy.
 * @cgroup_id: 0 for the global scope, else a cgroup v2 id.
 * @shadow: attach as the scope's shadow policy (traced, never applied).
 *
 * Return: 0, or -ENOENT when the object's ops lack the members (built
 * against another svmx).
 */
int ctl_policy_scope(struct ctl_policy *p, uint64_t cgroup_id, bool shadow)
{
	int err = ops_set_u64(p, "cgroup_id", cgroup_id, false);

	if (!err && shadow)
		err = ops_set_u64(p, "flags", SVMX_OPS_SHADOW, true);
	return err;
}

/* The map of a knob section (.rodata or .data.knobs) of an object. */
static struct bpf_map *knob_map(struct ctl_policy *p, bool live)
{
	const char *sfx = live ? ".data.knobs" : ".rodata";
	struct bpf_map *map;

	bpf_object__for_each_map(map, p->obj) {
		const char *name = bpf_map__name(map);
		size_t n = strlen(name), m = strlen(sfx);

		if (n >= m && !strcmp(name + n - m, sfx))
			return map;
	}
	return NULL;
}

/**
 * ctl_policy_knob() - set a knob of a policy before load.
 * @p: an opened, not yet loaded policy.
 * @knob: the variable's name, a load-time (const volatile) or live knob.
 * @value: its new value, a decimal or 0x number (true/false for bool).
 *
 * Return: 0; -ENOENT when the policy has no such knob; -EINVAL when
 * @value is not a number of the knob's type.
 */
int ctl_policy_knob(struct ctl_policy *p, const char *knob, const char *value)
{
	struct ctl_knobs *ks = malloc(sizeof(*ks));
	struct ctl_knob *k;
	struct bpf_map *map;
	uint64_t v;
	size_t size;
	char *data;
	int err;

	if (!ks)
		return -ENOMEM;
	err = ctl_policy_knobs(p, ks);
	k = err ? NULL : ctl_knob_find(ks, knob);
	if (!err && !k)
		err = -ENOENT;
	if (!err)
		err = ctl_knob_encode(k, value, &v);
	if (!err) {
		map = knob_map(p, k->live);
		data = map ? bpf_map__initial_value(map, &size) : NULL;
		if (!data || k->offset + k->size > size)
			err = -EINVAL;
		else
			memcpy(data + k->offset, &v, k->size);	/* little endian */
	}
	free(ks);
	return err;
}

/**
 * ctl_policy_load() - load the object's programs and maps into the kernel.
 * @p: an opened policy, scope and knobs set.
 *
 * Return: 0 or libbpf's negative errno (-v shows the verifier's log).
 */
int ctl_policy_load(struct ctl_policy *p)
{
	return bpf_object__load(p->obj);
}

/**
 * ctl_policy_attach() - attach the loaded policy as a struct_ops link.
 * @p: a loaded policy.
 * @link: the link; destroying it (without a pin) detaches the policy.
 *
 * Return: 0, or the kernel's refusal (-EBUSY: the scope's slot holds a
 * policy; -EPERM; -EINVAL from the ops' validation).
 */
int ctl_policy_attach(struct ctl_policy *p, struct bpf_link **link)
{
	*link = bpf_map__attach_struct_ops(p->ops);
	return *link ? 0 : -errno;
}

/**
 * ctl_policy_close() - release an opened (or loaded) policy object.
 * @p: the policy; links made from it live on their own.
 */
void ctl_policy_close(struct ctl_policy *p)
{
	bpf_object__close(p->obj);
	p->obj = NULL;
	p->ops = NULL;
}
