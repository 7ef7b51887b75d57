// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-bench workload tenants: two processes, each in a cgroup v2 group
 * of its own, on one device at the same time.  Tenant "a" runs zipf over
 * half the working set, tenant "b" scan over the other half (a hot/cold
 * service next to a streaming neighbour), each with its own binding and
 * its own seed (--seed and --seed + 1).
 *
 * The groups are made under --cgroup-root as svmx-bench-PID-a and -b and
 * removed at the end.  Each child moves itself into its group before it
 * opens and binds the device, so that its binding belongs to that group;
 * both wait on a pipe until the other is ready, so that they run
 * together.  Each checks its own data; the run fails if either fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif

#define NR_TENANTS	2

struct tenant {
	const char *id;
	const char *workload;
	char cgroup[512];
	uint64_t cgroup_id;
	bool made;
	pid_t pid;
	int res_fd;		/* parent: read end of the result pipe */
	int ret;
	struct wl_result res;
};

/* What a child sends back. */
struct tenant_msg {
	int ret;
	struct wl_result res;
};

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int ret = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n != (ssize_t)strlen(text))
		ret = n < 0 ? -errno : -EIO;
	close(fd);
	return ret;
}

static int cgroup_root_check(const char *root)
{
	struct statfs sf;

	if (statfs(root, &sf))
		return -errno;
	return sf.f_type == CGROUP2_SUPER_MAGIC ? 0 : -ENOTSUP;
}

/* The child: join the group, say ready, wait for go, run, report. */
static void __attribute__((noreturn))
tenant_child(const struct wl_opts *o, struct tenant *t, uint64_t seed,
	     int ready_fd, int go_fd, int res_fd)
{
	struct wl_opts mine = *o;
	struct tenant_msg msg = { 0 };
	char path[600], c = 0;

	mine.name = t->workload;
	snprintf(path, sizeof(path), "%s/cgroup.procs", t->cgroup);
	msg.ret = write_file(path, "0");
	if (msg.ret)
		fprintf(stderr, "svmx-bench: tenants: joining %s: %s\n", t->cgroup,
			strerror(-msg.ret));
	if (write(ready_fd, &c, 1) != 1 && !msg.ret)
		msg.ret = -EPIPE;
	close(ready_fd);
	/* EOF on the go pipe: both are ready (or the parent gave up). */
	if (read(go_fd, &c, 1) < 0 && !msg.ret)
		msg.ret = -errno;
	if (!msg.ret)
		msg.ret = wl_run_one(&mine, wl_find(t->workload), o->ws / NR_TENANTS,
				     seed, &msg.res);
	if (write(res_fd, &msg, sizeof(msg)) != sizeof(msg))
		_exit(1);
	_exit(msg.ret ? 1 : 0);
}

static int tenants_spawn(const struct wl_opts *o, struct tenant *t)
{
	int ready[2], go[2], i, ret = 0;
	char c;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -errno;
	for (i = 0; i < NR_TENANTS && !ret; i++) {
		int res[2];

		if (pipe2(res, O_CLOEXEC)) {
			ret = -errno;
			break;
		}
		fflush(NULL);
		t[i].pid = fork();
		if (t[i].pid < 0) {
			ret = -errno;
			close(res[0]);
			close(res[1]);
			break;
		}
		if (!t[i].pid) {
			close(ready[0]);
			close(go[1]);
			close(res[0]);
			tenant_child(o, &t[i], o->seed + i, ready[1], go[0], res[1]);
		}
		close(res[1]);
		t[i].res_fd = res[0];
	}
	close(ready[1]);
	close(go[0]);
	/* Both ready (a child that fails still writes its byte, or dies: EOF). */
	for (i = 0; i < NR_TENANTS && t[i].pid > 0; i++)
		if (read(ready[0], &c, 1) != 1)
			break;
	close(ready[0]);
	close(go[1]);
	return ret;
}

static int tenants_collect(struct tenant *t)
{
	int i, status, ret = 0;

	for (i = 0; i < NR_TENANTS; i++) {
		struct tenant_msg msg;

		if (t[i].pid <= 0)
			continue;
		if (read(t[i].res_fd, &msg, sizeof(msg)) == sizeof(msg)) {
			t[i].ret = msg.ret;
			t[i].res = msg.res;
		} else {
			t[i].ret = -EPIPE;
		}
		close(t[i].res_fd);
		while (waitpid(t[i].pid, &status, 0) < 0 && errno == EINTR)
			;
		if (!t[i].ret && (!WIFEXITED(status) || WEXITSTATUS(status)))
			t[i].ret = -ECHILD;
		if (t[i].ret) {
			fprintf(stderr, "svmx-bench: tenants: tenant %s (%s) failed: %s\n",
				t[i].id, t[i].workload, strerror(-t[i].ret));
			ret = t[i].ret;
		}
	}
	return ret;
}

static void tenants_print(const struct wl_opts *o, const struct tenant *t)
{
	struct json_object *arr = o->json ? json_object_new_array() : NULL;
	struct wl_result sum = { 0 };
	int i;

	for (i = 0; i < NR_TENANTS; i++) {
		const struct wl_result *r = &t[i].res;

		wl_add_counters(&sum.c, &r->c);
		sum.cpu_user_ns += r->cpu_user_ns;
		sum.cpu_sys_ns += r->cpu_sys_ns;
		sum.accesses += r->accesses;
		sum.set_bytes += r->set_bytes;
		sum.mem_bytes = r->mem_bytes;
		sum.passes = r->passes;
		if (arr) {
			struct json_object *j = wl_result_json(r);

			json_object_object_add(j, "tenant", json_object_new_string(t[i].id));
			json_object_object_add(j, "workload", json_object_new_string(t[i].workload));
			json_object_object_add(j, "cgroup", json_object_new_string(t[i].cgroup));
			json_object_object_add(j, "cgroup_id", json_object_new_uint64(t[i].cgroup_id));
			json_object_object_add(j, "seed", json_object_new_uint64(o->seed + i));
			json_object_array_add(arr, j);
		} else {
			printf("tenant=%s workload=%s cgroup=%s faults=%llu bytes_to_device=%llu"
			       " bytes_to_system=%llu evictions=%llu modeled_ns=%llu cpu_ns=%" PRIu64 "\n",
			       t[i].id, t[i].workload, t[i].cgroup, r->c.faults,
			       r->c.bytes_to_device, r->c.bytes_to_system,
			       r->c.evictions, r->c.modeled_ns,
			       r->cpu_user_ns + r->cpu_sys_ns);
		}
	}
	wl_print(o, "tenants", &sum, arr);
}

int tenants_run(const struct wl_opts *o)
{
	struct tenant t[NR_TENANTS] = {
		{ .id = "a", .workload = "zipf", .res_fd = -1 },
		{ .id = "b", .workload = "scan", .res_fd = -1 },
	};
	struct stat st;
	int i, ret;

	ret = cgroup_root_check(o->cgroup_root);
	if (ret) {
		fprintf(stderr, "svmx-bench: tenants: %s is not a cgroup v2 mount (%s); mount -t cgroup2 none %s\n",
			o->cgroup_root, strerror(-ret), o->cgroup_root);
		return ret;
	}
	for (i = 0; i < NR_TENANTS; i++) {
		snprintf(t[i].cgroup, sizeof(t[i].cgroup), "%s/svmx-bench-%d-%s",
			 o->cgroup_root, (int)getpid(), t[i].id);
		if (mkdir(t[i].cgroup, 0755)) {
			ret = -errno;
			fprintf(stderr, "svmx-bench: tenants: mkdir %s: %s\n", t[i].cgroup,
				strerror(-ret));
			goto out;
		}
		t[i].made = true;
		/* cgroup v2: the group's id (what BPF sees) is its inode number. */
		if (!stat(t[i].cgroup, &st))
			t[i].cgroup_id = st.st_ino;
	}
	ret = tenants_spawn(o, t);
	if (ret)
		fprintf(stderr, "svmx-bench: tenants: starting the tenants: %s\n", strerror(-ret));
	i = tenants_collect(t);
	if (!ret)
		ret = i;
	if (!ret)
		tenants_print(o, t);
out:
	for (i = 0; i < NR_TENANTS; i++)
		if (t[i].made && rmdir(t[i].cgroup))
			fprintf(stderr, "svmx-bench: tenants: rmdir %s: %s\n", t[i].cgroup,
				strerror(errno));
	return ret;
}
