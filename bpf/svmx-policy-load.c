// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-policy-load - attach a BPF policy of svmx (a policy object, policy/NAME.bpf.c built).
 *
 *   svmx-policy-load [-v] [-p PIN] [-c CGROUP] [-s] POLICY.bpf.o
 *
 * Opens and loads the object with libbpf, attaches its struct svmx_ops
 * map as a struct_ops link, and either holds the link until SIGINT or
 * SIGTERM (then detaches: the next policy of its scope decides again) or,
 * with -p, pins it on bpffs and exits; the policy then stays attached
 * until the pin is removed (rm PIN).  -c attaches it to a cgroup v2 (a
 * directory under /sys/fs/cgroup, or a cgroup id) instead of globally,
 * -s as a shadow policy: both set the ops' cgroup_id and flags members,
 * found by name in the object's BTF, before load.
 *
 * While it holds the link it watches for an ejection: the kernel stops a
 * policy that calls svmx_bpf_error() or exceeds its invalid-answer budget
 * but cannot detach its link (6.12), so the loader reads the svmx debugfs
 * file "scopes" once a second, and when its policy is shown ejected or
 * no longer shown attached in its scope's slot it prints the exit info,
 * destroys the link and exits with status 2.  A supervisor (systemd's Restart=on-failure, see
 * tools/systemd/svmx-policy@.service) then loads it again.
 *
 * Exit status: 0 on a clean detach (SIGINT/SIGTERM), 1 on error (the
 * message says what failed; -v adds libbpf's log), 2 when the policy was
 * ejected.
 *
 * It does not use bpftool struct_ops: bpftool 7.5 crashes on struct_ops
 * types that live in a module.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#define SCOPES_FILE	"/sys/kernel/debug/svmx/scopes"
#define EXIT_EJECTED	2
#define SVMX_OPS_SHADOW	1	/* enum svmx_ops_flags, kernel/svmx_bpf.h */

static int verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: svmx-policy-load [-v] [-p PIN] [-c CGROUP] [-s] POLICY.bpf.o\n"
		"  attach the policy's struct svmx_ops; hold it until SIGINT/SIGTERM\n"
		"  (exit 0), or until the kernel ejects it (exit 2, exit info printed),\n"
		"  or with -p pin the link at PIN (on bpffs) and exit (rm PIN detaches)\n"
		"  -c CGROUP  attach to a cgroup v2 (path or id) instead of globally\n"
		"  -s         attach as a shadow policy (answers traced, never applied)\n"
		"  -v  libbpf warnings (-vv: debug log)\n");
}

/* A cgroup id: digits as they are, else the inode of a cgroup2 directory. */
static int cgroup_id_of(const char *arg, unsigned long long *id)
{
	struct stat st;
	char *end;

	*id = strtoull(arg, &end, 10);
	if (*arg && !*end)
		return 0;
	if (stat(arg, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/*
 * Set (or with @or, add bits to) the u64 member @name of the struct_ops
 * map's data before load: the member is found in the object's BTF, so
 * this works for any policy.
 */
static int ops_set(struct bpf_object *obj, struct bpf_map *ops, const char *name,
		   unsigned long long val, int or)
{
	unsigned long long old;
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_type *t;
	const struct btf_member *m;
	size_t size;
	char *data = bpf_map__initial_value(ops, &size);
	unsigned int i, off;

	t = btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(ops)) : NULL;
	if (!t || !data || !btf_is_struct(t))
		return -EINVAL;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), name))
			continue;
		off = btf_member_bit_offset(t, i) / 8;
		if (off + sizeof(val) > size)
			return -EINVAL;
		memcpy(&old, data + off, sizeof(old));
		if (or)
			val |= old;
		memcpy(data + off, &val, sizeof(val));
		return 0;
	}
	return -ENOENT;
}

/*
 * The policy's name: the "name" member of its struct svmx_ops map's
 * initial value, found through the object's BTF.  That is the name the
 * kernel's policy file shows.
 */
static int policy_name(struct bpf_object *obj, struct bpf_map *ops, char *name,
		       size_t size)
{
	const struct btf *btf = bpf_object__btf(obj);
	const struct btf_member *m;
	const struct btf_type *t;
	const char *data;
	size_t vsize;
	int i;

	data = bpf_map__initial_value(ops, &vsize);
	t = btf ? btf__type_by_id(btf, bpf_map__btf_value_type_id(ops)) : NULL;
	if (!data || !t || !btf_is_struct(t))
		return -ENOENT;
	for (i = 0, m = btf_members(t); i < btf_vlen(t); i++, m++) {
		size_t off = btf_member_bit_offset(t, i) / 8;

		if (strcmp(btf__name_by_offset(btf, m->name_off), "name"))
			continue;
		if (off >= vsize)
			return -ENOENT;
		snprintf(name, size, "%.*s", (int)(vsize - off), data + off);
		return name[0] ? 0 : -ENOENT;
	}
	return -ENOENT;
}

/*
 * Is @name still running in its slot (scope @cgid, @role)?  1 yes, 0 no,
 * -errno when the kernel's scopes file cannot be read.  No means a line
 * "attached NAME ..." in the slot's block that says state=ejected, or no
 * such line (the policy is gone); other fields on the line are ignored.
 * On 0, @report holds the slot's block (its exit info).
 */
static int policy_active(const char *name, unsigned long long cgid,
			 const char *role, char *report, size_t size)
{
	size_t n, len = strlen(name);
	const char *line, *next, *block = NULL;
	char head[64];
	FILE *f;

	f = fopen(SCOPES_FILE, "r");
	if (!f)
		return -errno;
	n = fread(report, 1, size - 1, f);
	report[n] = '\0';
	fclose(f);
	snprintf(head, sizeof(head), "scope cgroup=%llu role=%s ", cgid, role);
	for (line = report; *line; line = next) {
		const char *end = strchrnul(line, '\n'), *ej;

		next = *end ? end + 1 : end;
		if (!strncmp(line, "scope ", 6)) {
			if (block)
				break;	/* the end of our slot's block */
			if (!strncmp(line, head, strlen(head)))
				block = line;
			continue;
		}
		if (!block || end - line < 9 + (long)len ||
		    strncmp(line, "attached ", 9) || strncmp(line + 9, name, len) ||
		    (line[9 + len] != ' ' && line + 9 + len != end))
			continue;
		ej = strstr(line, " state=ejected");
		return !(ej && ej < end);
	}
	if (block) {
		memmove(report, block, strlen(block) + 1);
		if (line && *line && line > block)
			report[line - block] = '\0';
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_link *link = NULL;
	sigset_t stop_sigs;
	struct bpf_object *obj;
	struct bpf_map *map, *ops = NULL;
	struct timespec tick = { .tv_sec = 1 };
	char name[64], report[65536];
	const char *pin = NULL, *cgroup = NULL;
	unsigned long long cgid = 0;
	int opt, err, ret = 1;
	bool watching, stop = false, shadow = false;

	while ((opt = getopt(argc, argv, "vp:c:sh")) != -1) {
		switch (opt) {
		case 'v':
			verbose++;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'c':
			cgroup = optarg;
			break;
		case 's':
			shadow = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}
	if (cgroup) {
		err = cgroup_id_of(cgroup, &cgid);
		if (err) {
			fprintf(stderr, "svmx-policy-load: cgroup %s: %s\n", cgroup,
				strerror(-err));
			return 1;
		}
	}
	libbpf_set_print(verbose ? print_libbpf : NULL);

	obj = bpf_object__open_file(argv[optind], NULL);
	if (!obj) {
		fprintf(stderr, "svmx-policy-load: open %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (ops) {
			fprintf(stderr, "svmx-policy-load: %s has more than one struct_ops map\n",
				argv[optind]);
			goto out;
		}
		ops = map;
	}
	if (!ops) {
		fprintf(stderr, "svmx-policy-load: %s has no struct_ops map\n", argv[optind]);
		goto out;
	}
	err = cgroup ? ops_set(obj, ops, "cgroup_id", cgid, 0) : 0;
	if (!err && shadow)
		err = ops_set(obj, ops, "flags", SVMX_OPS_SHADOW, 1);
	if (err) {
		fprintf(stderr, "svmx-policy-load: setting the scope of %s: %s\n",
			bpf_map__name(ops), strerror(-err));
		goto out;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "svmx-policy-load: load %s: %s (is svmx.ko loaded? -v says more)\n",
			argv[optind], strerror(-err));
		goto out;
	}
	/*
	 * SIGINT/SIGTERM stay blocked from before the attach and are taken
	 * by sigtimedwait(): one sent as soon as the policy shows up (as a
	 * test does) detaches it cleanly instead of killing the loader.
	 */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_sigs, NULL);
	link = bpf_map__attach_struct_ops(ops);
	if (!link) {
		fprintf(stderr, "svmx-policy-load: attach %s: %s\n", bpf_map__name(ops),
			strerror(errno));
		goto out;
	}
	if (pin) {
		err = bpf_link__pin(link, pin);
		if (err) {
			fprintf(stderr, "svmx-policy-load: pin at %s: %s\n", pin,
				strerror(-err));
			goto out;
		}
		bpf_link__disconnect(link);	/* the pin keeps it attached */
		printf("attached %s, pinned at %s\n", bpf_map__name(ops), pin);
		ret = 0;
		goto out;
	}
	printf("attached %s; SIGINT or SIGTERM detaches\n", bpf_map__name(ops));
	fflush(stdout);
	watching = !policy_name(obj, ops, name, sizeof(name));
	if (!watching)
		fprintf(stderr, "svmx-policy-load: %s: no policy name in its struct svmx_ops; not watching for an ejection\n",
			argv[optind]);
	while (!stop) {
		if (watching) {
			err = policy_active(name, cgid, shadow ? "shadow" : "active",
					    report, sizeof(report));
			if (err == 0) {
				printf("ejected %s: the kernel stopped policy %s\n%s",
				       bpf_map__name(ops), name, report);
				ret = EXIT_EJECTED;
				goto out;
			}
			if (err < 0) {
				fprintf(stderr, "svmx-policy-load: cannot watch for an ejection: %s: %s\n",
					SCOPES_FILE, strerror(-err));
				watching = false;
			}
		}
		if (sigtimedwait(&stop_sigs, NULL, watching ? &tick : NULL) > 0)
			stop = true;
	}
	printf("detached %s\n", bpf_map__name(ops));
	ret = 0;
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return ret;
}
