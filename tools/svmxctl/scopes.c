// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's view of attached policies: /sys/kernel/debug/svmx/scopes,
 * parsed into slots (one per scope and role), and where svmxctl pins the
 * link of the policy it attaches to a slot.
 *
 * The scopes file has one block per slot:
 *
 *   scope cgroup=ID role=active|shadow path=PATH[ removed]
 *   attached NAME state=active|ejected since_ns=T   (or: attached none)
 *     CALLBACK calls=N errors=N invalid=N           (one per callback)
 *     victims policy=N lru=N hole=N request=N
 *     prefetch_ranges refused=N clipped=N
 *   last_exit NAME|none kind=KIND time_ns=T
 *     reason=TEXT
 *     message=TEXT
 *     CALLBACK calls=N errors=N invalid=N           (when NAME)
 *     prefetch_ranges refused=N clipped=N
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "svmxctl.h"

static int counts_kv(const char *key, const char *val, void *arg)
{
	struct ctl_counts *c = arg;
	uint64_t v;

	if (ctl_parse_u64(val, &v))
		return 0;
	if (!strcmp(key, "calls"))
		c->calls += v;
	else if (!strcmp(key, "errors"))
		c->errors += v;
	else if (!strcmp(key, "invalid"))
		c->invalid += v;
	return 0;
}

static int exit_kv(const char *key, const char *val, void *arg)
{
	struct ctl_slot *s = arg;

	if (!strcmp(key, "kind"))
		snprintf(s->exit_kind, sizeof(s->exit_kind), "%s", val);
	else if (!strcmp(key, "time_ns"))
		ctl_parse_u64(val, &s->exit_ns);
	return 0;
}

static int attached_kv(const char *key, const char *val, void *arg)
{
	struct ctl_slot *s = arg;

	if (!strcmp(key, "state"))
		s->ejected = !strcmp(val, "ejected");
	else if (!strcmp(key, "since_ns"))
		ctl_parse_u64(val, &s->since_ns);
	return 0;
}

static int scope_kv(const char *key, const char *val, void *arg)
{
	struct ctl_slot *s = arg;

	if (!strcmp(key, "cgroup"))
		ctl_parse_u64(val, &s->cgroup_id);
	else if (!strcmp(key, "role"))
		s->shadow = !strcmp(val, "shadow");
	else if (!strcmp(key, "path"))
		snprintf(s->cgroup_path, sizeof(s->cgroup_path), "%s", val);
	return 0;
}

/* The first word after @prefix, into @buf. */
static void first_word(const char *line, size_t skip, char *buf, size_t size)
{
	size_t n = strcspn(line + skip, " \n");

	snprintf(buf, size, "%.*s", (int)n, line + skip);
}

static void parse_line(struct ctl_slot *s, const char *line, bool in_exit)
{
	const char *body = line + strspn(line, " ");
	size_t n = strcspn(body, "\n");
	char text[1024];

	snprintf(text, sizeof(text), "%.*s", (int)n, body);
	if (!strncmp(line, "attached ", 9)) {
		first_word(line, 9, s->name, sizeof(s->name));
		if (!strcmp(s->name, "none"))
			s->name[0] = '\0';
		ctl_kv_each(text, attached_kv, s);
	} else if (!strncmp(line, "last_exit ", 10)) {
		first_word(line, 10, s->exit_name, sizeof(s->exit_name));
		if (!strcmp(s->exit_name, "none"))
			s->exit_name[0] = '\0';
		ctl_kv_each(text, exit_kv, s);
	} else if (!strncmp(text, "reason=", 7)) {
		snprintf(s->exit_reason, sizeof(s->exit_reason), "%s", text + 7);
	} else if (!strncmp(text, "message=", 8)) {
		snprintf(s->exit_msg, sizeof(s->exit_msg), "%s", text + 8);
	} else if (!strncmp(text, "victims ", 8) || !strncmp(text, "prefetch_ranges ", 16)) {
		return;
	} else if (strstr(text, " calls=")) {
		struct ctl_counts *sum = in_exit ? &s->exit_counts : &s->counts;
		struct ctl_counts *arr = in_exit ? s->exit_cb : s->cb;
		int *nr = in_exit ? &s->nr_exit_cb : &s->nr_cb;

		ctl_kv_each(text, counts_kv, sum);
		if (*nr < CTL_MAX_CB) {
			struct ctl_counts *cb = &arr[(*nr)++];

			memset(cb, 0, sizeof(*cb));
			first_word(text, 0, cb->cb, sizeof(cb->cb));
			ctl_kv_each(text, counts_kv, cb);
		}
	}
}

/**
 * ctl_slots_read() - read the kernel's slots (debugfs scopes).
 * @slots: set to a malloc()ed array, global first (active, shadow), then
 *	   the cgroup scopes; free() it.
 * @nr: set to the number of slots.
 *
 * Return: 0 or a negative errno (the file cannot be read).
 */
int ctl_slots_read(struct ctl_slot **slots, int *nr)
{
	struct ctl_slot *arr = NULL, *s = NULL;
	const char *line, *next;
	char *text, head[1024];
	bool in_exit = false;
	int n = 0, err;

	err = ctl_read_file(SVMX_SCOPES_FILE, &text);
	if (err)
		return err;
	for (line = text; *line; line = next) {
		next = strchrnul(line, '\n');
		if (*next)
			next++;
		if (!strncmp(line, "scope ", 6)) {
			struct ctl_slot *bigger = realloc(arr, (n + 1) * sizeof(*arr));

			if (!bigger) {
				free(arr);
				free(text);
				return -ENOMEM;
			}
			arr = bigger;
			s = &arr[n++];
			memset(s, 0, sizeof(*s));
			in_exit = false;
			snprintf(head, sizeof(head), "%.*s", (int)strcspn(line, "\n"), line);
			ctl_kv_each(head, scope_kv, s);
			s->removed = strlen(head) > 8 && !strcmp(head + strlen(head) - 8, " removed");
			continue;
		}
		if (!s)
			continue;
		if (!strncmp(line, "last_exit ", 10))
			in_exit = true;
		parse_line(s, line, in_exit);
	}
	free(text);
	*slots = arr;
	*nr = n;
	return 0;
}

/**
 * ctl_slot_pin_dir() - the bpffs directory of svmxctl's pins for a slot.
 * @cgroup_id: 0 for the global scope.
 * @shadow: the shadow slot.
 * @buf: the directory, SVMX_BPFFS_DIR/global[-shadow] or
 *	 SVMX_BPFFS_DIR/cgroup-ID[-shadow].
 * @size: size of @buf.
 */
void ctl_slot_pin_dir(uint64_t cgroup_id, bool shadow, char *buf, size_t size)
{
	if (cgroup_id)
		snprintf(buf, size, "%s/cgroup-%llu%s", SVMX_BPFFS_DIR,
			 (unsigned long long)cgroup_id, shadow ? "-shadow" : "");
	else
		snprintf(buf, size, "%s/global%s", SVMX_BPFFS_DIR, shadow ? "-shadow" : "");
}

/**
 * ctl_slot_scope_name() - "global" or "cgroup PATH", for messages.
 * @s: the slot.
 * @buf: the text.
 * @size: size of @buf.
 *
 * Return: @buf.
 */
const char *ctl_slot_scope_name(const struct ctl_slot *s, char *buf, size_t size)
{
	if (!s->cgroup_id)
		snprintf(buf, size, "global%s", s->shadow ? " shadow" : "");
	else
		snprintf(buf, size, "cgroup %s%s", s->cgroup_path, s->shadow ? " shadow" : "");
	return buf;
}

/**
 * ctl_slot_find() - the slot of a scope and role in an array of slots.
 * @slots: from ctl_slots_read().
 * @nr: their number.
 * @cgroup_id: 0 for the global scope.
 * @shadow: the shadow slot.
 *
 * Return: the slot, or NULL when the kernel shows no such scope (a cgroup
 * scope appears once a policy attached to it).
 */
struct ctl_slot *ctl_slot_find(struct ctl_slot *slots, int nr, uint64_t cgroup_id,
			       bool shadow)
{
	int i;

	for (i = 0; i < nr; i++)
		if (slots[i].cgroup_id == cgroup_id && slots[i].shadow == shadow)
			return &slots[i];
	return NULL;
}
