// SPDX-License-Identifier: GPL-2.0
/*
 * Policy knobs.  A policy's load-time knobs are its `const volatile`
 * integer variables (.rodata): set before load (policy load --set), read
 * only afterwards.  Its live knobs are integer variables it places in the
 * .data.knobs section (SVMX_LIVE_KNOB in <svmx/svmx.bpf.h>): set before
 * load too, and changed while it runs through that section's map (policy
 * set), which svmxctl pins next to the link.  Both are found by name in
 * BTF: the object's before load, the kernel's copy of it afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "svmxctl.h"

/**
 * ctl_knob_encode() - a knob's new value from its text.
 * @k: the knob (its type: size, signedness, bool).
 * @text: a decimal or 0x number; true/false or 1/0 for bool.
 * @value: the value, to store in @k->size bytes.
 *
 * Return: 0, or -EINVAL when @text is not a number of the knob's type or
 * does not fit it.
 */
int ctl_knob_encode(const struct ctl_knob *k, const char *text, uint64_t *value)
{
	int bits = k->size * 8;
	long long sv;
	char *end;

	if (k->is_bool) {
		if (!strcmp(text, "true") || !strcmp(text, "1"))
			*value = 1;
		else if (!strcmp(text, "false") || !strcmp(text, "0"))
			*value = 0;
		else
			return -EINVAL;
		return 0;
	}
	if (k->is_signed) {
		errno = 0;
		sv = strtoll(text, &end, 0);
		if (!*text || *end || errno)
			return -EINVAL;
		if (bits < 64 && (sv < -(1LL << (bits - 1)) || sv >= (1LL << (bits - 1))))
			return -EINVAL;
		*value = (uint64_t)sv;
		return 0;
	}
	if (ctl_parse_u64(text, value))
		return -EINVAL;
	return bits < 64 && *value >> bits ? -EINVAL : 0;
}

/**
 * ctl_knob_format() - a knob's value as text.
 * @k: the knob.
 * @buf: the text.
 * @size: size of @buf.
 *
 * Return: @buf.
 */
const char *ctl_knob_format(const struct ctl_knob *k, char *buf, size_t size)
{
	if (k->is_bool)
		snprintf(buf, size, "%s", k->value ? "true" : "false");
	else if (k->is_signed)
		snprintf(buf, size, "%lld", (long long)k->value);
	else
		snprintf(buf, size, "%llu", (unsigned long long)k->value);
	return buf;
}

/* Append the integer variables of datasec @sec (its bytes @data) to @ks. */
static int datasec_knobs(const struct btf *btf, const struct btf_type *sec,
			 const char *data, size_t data_size, bool live,
			 struct ctl_knobs *ks)
{
	const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
	int i;

	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *var = btf__type_by_id(btf, vs->type);
		const struct btf_type *t;
		struct ctl_knob *k;

		if (!var || !btf_is_var(var))
			continue;
		t = btf__type_by_id(btf, btf__resolve_type(btf, var->type));
		if (!t || !btf_is_int(t) || t->size > 8 || vs->offset + t->size > data_size)
			continue;
		if (ks->nr == CTL_MAX_KNOBS)
			return -E2BIG;
		k = &ks->knob[ks->nr++];
		memset(k, 0, sizeof(*k));
		snprintf(k->name, sizeof(k->name), "%s", btf__name_by_offset(btf, var->name_off));
		k->live = live;
		k->size = t->size;
		k->offset = vs->offset;
		k->is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
		k->is_bool = btf_int_encoding(t) & BTF_INT_BOOL;
		memcpy(&k->value, data + vs->offset, t->size);
		if (k->is_signed && t->size < 8 && (k->value >> (t->size * 8 - 1)) & 1)
			k->value |= ~0ULL << (t->size * 8);
	}
	return 0;
}

/* Which knob section a map of a policy object is, by its name. */
static int knob_section(const char *map_name, bool *live)
{
	size_t n = strlen(map_name);

	if (n >= 7 && !strcmp(map_name + n - 7, ".rodata")) {
		*live = false;
		return 0;
	}
	if (n >= 11 && !strcmp(map_name + n - 11, ".data.knobs")) {
		*live = true;
		return 0;
	}
	return -ENOENT;
}

/**
 * ctl_policy_knobs() - the knobs of an opened, not loaded policy.
 * @p: the policy.
 * @ks: filled with its knobs and their values (defaults or as set).
 *
 * Return: 0 or a negative errno.
 */
int ctl_policy_knobs(struct ctl_policy *p, struct ctl_knobs *ks)
{
	const struct btf *btf = bpf_object__btf(p->obj);
	struct bpf_map *map;
	bool live;
	int err, pass;

	ks->nr = 0;
	if (!btf)
		return 0;
	/* Load-time knobs first, then the live ones. */
	for (pass = 0; pass < 2; pass++) {
		bpf_object__for_each_map(map, p->obj) {
			const struct btf_type *sec;
			const char *data;
			size_t size;

			if (knob_section(bpf_map__name(map), &live) || live != pass)
				continue;
			sec = btf__type_by_id(btf, bpf_map__btf_value_type_id(map));
			data = bpf_map__initial_value(map, &size);
			if (!sec || !btf_is_datasec(sec) || !data)
				continue;
			err = datasec_knobs(btf, sec, data, size, live, ks);
			if (err)
				return err;
		}
	}
	return 0;
}

/**
 * ctl_knob_find() - a knob by name.
 * @ks: the knobs.
 * @name: its name.
 *
 * Return: the knob or NULL.
 */
struct ctl_knob *ctl_knob_find(struct ctl_knobs *ks, const char *name)
{
	int i;

	for (i = 0; i < ks->nr; i++)
		if (!strcmp(ks->knob[i].name, name))
			return &ks->knob[i];
	return NULL;
}

/**
 * ctl_knob_names() - "a, b, c": the names of the knobs, for messages.
 * @ks: the knobs.
 * @buf: the text ("none" without knobs).
 * @size: size of @buf.
 *
 * Return: @buf.
 */
const char *ctl_knob_names(const struct ctl_knobs *ks, char *buf, size_t size)
{
	size_t len = 0;
	int i;

	snprintf(buf, size, "none");
	for (i = 0; i < ks->nr && len < size; i++)
		len += snprintf(buf + len, size - len, "%s%s", i ? ", " : "", ks->knob[i].name);
	return buf;
}

/* The map pinned at @path: its fd, its kernel BTF and value datasec. */
static int pinned_datasec(const char *path, struct btf **btf,
			  const struct btf_type **sec, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);
	int fd, err;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(info, 0, sizeof(*info));
	err = bpf_map_get_info_by_fd(fd, info, &len);
	if (err || !info->btf_id) {
		close(fd);
		return err ? err : -ENOENT;
	}
	*btf = btf__load_from_kernel_by_id(info->btf_id);
	if (!*btf) {
		err = -errno;
		close(fd);
		return err;
	}
	*sec = btf__type_by_id(*btf, info->btf_value_type_id);
	if (!*sec || !btf_is_datasec(*sec)) {
		btf__free(*btf);
		close(fd);
		return -ENOENT;
	}
	return fd;
}

static int pinned_section_knobs(const char *path, bool live, struct ctl_knobs *ks)
{
	const struct btf_type *sec;
	struct bpf_map_info info;
	struct btf *btf;
	__u32 key = 0;
	char *data;
	int fd, err;

	fd = pinned_datasec(path, &btf, &sec, &info);
	if (fd == -ENOENT)
		return 0;	/* no such section */
	if (fd < 0)
		return fd;
	data = calloc(1, info.value_size);
	err = data ? 0 : -ENOMEM;
	if (!err && bpf_map_lookup_elem(fd, &key, data))
		err = -errno;
	if (!err)
		err = datasec_knobs(btf, sec, data, info.value_size, live, ks);
	free(data);
	btf__free(btf);
	close(fd);
	return err;
}

/**
 * ctl_pinned_knobs() - the knobs of a policy svmxctl attached.
 * @dir: the slot's pin directory (ctl_slot_pin_dir()).
 * @ks: filled with the knobs and their current values.
 *
 * Return: 0 or a negative errno.
 */
int ctl_pinned_knobs(const char *dir, struct ctl_knobs *ks)
{
	char path[4200];
	int err;

	ks->nr = 0;
	snprintf(path, sizeof(path), "%s/rodata", dir);
	err = pinned_section_knobs(path, false, ks);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/knobs", dir);
	return pinned_section_knobs(path, true, ks);
}

/**
 * ctl_pinned_knob_set() - change a live knob of an attached policy.
 * @dir: the slot's pin directory.
 * @k: the knob, from ctl_pinned_knobs() (live).
 * @value: its new value (ctl_knob_encode()).
 *
 * The section's map is one element: read, change the knob's bytes, write
 * back.  The policy sees the new value at its next callback.
 *
 * Return: 0 or a negative errno.
 */
int ctl_pinned_knob_set(const char *dir, const struct ctl_knob *k, uint64_t value)
{
	const struct btf_type *sec;
	struct bpf_map_info info;
	struct btf *btf;
	char path[4200], *data;
	__u32 key = 0;
	int fd, err;

	snprintf(path, sizeof(path), "%s/knobs", dir);
	fd = pinned_datasec(path, &btf, &sec, &info);
	if (fd < 0)
		return fd;
	btf__free(btf);
	data = calloc(1, info.value_size);
	err = data ? 0 : -ENOMEM;
	if (!err && k->offset + k->size > info.value_size)
		err = -EINVAL;
	if (!err && bpf_map_lookup_elem(fd, &key, data))
		err = -errno;
	if (!err) {
		memcpy(data + k->offset, &value, k->size);
		if (bpf_map_update_elem(fd, &key, data, BPF_ANY))
			err = -errno;
	}
	free(data);
	close(fd);
	return err;
}
