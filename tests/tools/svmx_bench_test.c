// SPDX-License-Identifier: GPL-2.0
/*
 * svmx_bench_test - svmx-bench workload NAME, every workload, in the test
 * VM on a small device (tests/vm/guest-suites loads svmx with mem_mb=16
 * for it and mounts cgroup v2).
 *
 * Runs build/tools/svmx-bench (next to this binary) as a child and checks
 * its exit status, its JSON (fields and their consistency with the
 * device's memory), that the run saw what the workload must cause
 * (evictions when the set is larger than the device, CPU faults for
 * pingpong), that the same seed gives the same counters, that the check
 * of the data catches a spoiled page, and that bad options fail with a
 * clear message and exit status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kselftest_harness.h"

#include <uapi/svmx.h>

#define MAX_DEVICE_MB	64	/* bigger devices make the runs too slow */
#define RUN_TIMEOUT	300	/* s per test: the debug kernel is slow (KASAN) */
#define CGROUP2_MAGIC	0x63677270

/* What one run of svmx-bench left. */
struct run {
	int status;		/* exit status, or -1 if it did not exit */
	char out[16384];
	char err[4096];
};

static void read_all(int fd, char *buf, size_t len)
{
	ssize_t n = 0, got;

	lseek(fd, 0, SEEK_SET);
	while ((size_t)n < len - 1 && (got = read(fd, buf + n, len - 1 - n)) > 0)
		n += got;
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Run svmx-bench with the NULL-terminated arguments after "svmx-bench". */
static int bench(struct run *r, ...)
{
	char self[PATH_MAX], prog[PATH_MAX + 16], *argv[32];
	int out, err, status, argc = 0;
	ssize_t n;
	va_list ap;
	pid_t pid;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		return -errno;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(prog, sizeof(prog), "%s/svmx-bench", self);
	argv[argc++] = prog;
	va_start(ap, r);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	out = memfd_create("out", 0);
	err = memfd_create("err", 0);
	if (out < 0 || err < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(out, 1);
		dup2(err, 2);
		execv(prog, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	read_all(out, r->out, sizeof(r->out));
	read_all(err, r->err, sizeof(r->err));
	return 0;
}

static uint64_t device_mem(void)
{
	struct svmx_version v = { 0 };
	int fd = open("/dev/svmx0", O_RDWR);

	if (fd < 0)
		return 0;
	if (ioctl(fd, SVMX_IOC_VERSION, &v))
		v.mem_bytes = 0;
	close(fd);
	return v.mem_bytes;
}

#define SKIP_UNLESS_SMALL_DEVICE()						\
	do {									\
		uint64_t __mem = device_mem();					\
		if (!__mem)							\
			SKIP(return, "/dev/svmx0 not present");		\
		if (__mem > MAX_DEVICE_MB << 20)				\
			SKIP(return, "device of %llu MiB: wants mem_mb <= %d", \
			     (unsigned long long)__mem >> 20, MAX_DEVICE_MB);	\
	} while (0)

static uint64_t get_u64(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return UINT64_MAX;
	return json_object_get_uint64(v);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* ------------------------------------------------------------------ */

FIXTURE(workload) {
	uint64_t mem;
};

FIXTURE_VARIANT(workload) {
	const char *name;
	bool deterministic;	/* one process: the same seed, the same counters */
	bool cpu_faults;	/* the CPU touches device pages */
};

FIXTURE_VARIANT_ADD(workload, stream) { .name = "stream", .deterministic = true };
FIXTURE_VARIANT_ADD(workload, scan) { .name = "scan", .deterministic = true };
FIXTURE_VARIANT_ADD(workload, stride) { .name = "stride", .deterministic = true };
FIXTURE_VARIANT_ADD(workload, random) { .name = "random", .deterministic = true };
FIXTURE_VARIANT_ADD(workload, zipf) { .name = "zipf", .deterministic = true };
FIXTURE_VARIANT_ADD(workload, pingpong) {
	.name = "pingpong", .deterministic = true, .cpu_faults = true,
};
FIXTURE_VARIANT_ADD(workload, phase) { .name = "phase", .deterministic = true };
FIXTURE_VARIANT_ADD(workload, tenants) { .name = "tenants" };

FIXTURE_SETUP(workload)
{
	struct statfs sf;

	SKIP_UNLESS_SMALL_DEVICE();
	self->mem = device_mem();
	if (!strcmp(variant->name, "tenants") &&
	    (statfs("/sys/fs/cgroup", &sf) || sf.f_type != CGROUP2_MAGIC))
		SKIP(return, "no cgroup v2 at /sys/fs/cgroup");
}

FIXTURE_TEARDOWN(workload)
{
}

/*
 * Run @variant at @ws with @seed; check the JSON against the device and
 * the workload.  Return: the parsed object (the caller puts it), or NULL
 * after a failed assertion.
 */
static struct json_object *run_checked(struct __test_metadata *_metadata,
				       const FIXTURE_VARIANT(workload) *variant,
				       uint64_t mem, const char *ws, const char *seed)
{
	struct run r;
	struct json_object *j, *c, *t;
	double ratio = strtod(ws, NULL);
	uint64_t pages = (uint64_t)(ratio * mem / 4096);

	/* Two passes: enough to reuse (and evict) data, short on a debug kernel. */
	EXPECT_EQ(0, bench(&r, "workload", variant->name, "--ws", ws, "--seed", seed,
			   "--passes", "2", "--json", "--label", "test", NULL));
	EXPECT_EQ(0, r.status) TH_LOG("%s --ws %s: %s", variant->name, ws, r.err);
	j = json_tokener_parse(r.out);
	EXPECT_NE(NULL, j) TH_LOG("not JSON: %s", r.out);
	if (!j || r.status)
		return NULL;
	c = get(j, "counters");
	EXPECT_STREQ(variant->name, json_object_get_string(get(j, "workload")));
	EXPECT_STREQ("test", json_object_get_string(get(j, "label")));
	EXPECT_TRUE(json_object_get_boolean(get(j, "verified")));
	EXPECT_EQ(mem, get_u64(j, "mem_bytes"));
	/* tenants: each tenant rounds its half down to pages */
	EXPECT_GE(pages, get_u64(j, "pages"));
	EXPECT_LE(pages - 1, get_u64(j, "pages"));
	EXPECT_LT(0, get_u64(j, "accesses"));
	EXPECT_LT(0, get_u64(c, "faults"));
	EXPECT_LT(0, get_u64(c, "bytes_to_device"));
	EXPECT_LT(0, get_u64(j, "modeled_ns"));
	EXPECT_EQ(get_u64(j, "modeled_ns"), get_u64(c, "modeled_ns"));
	EXPECT_NE(UINT64_MAX, get_u64(j, "cpu_ns"));
	EXPECT_EQ(get_u64(c, "evictions"), get_u64(c, "evictions_pressure") +
		  get_u64(c, "evictions_prefetch") + get_u64(c, "evictions_request"));
	if (ratio > 1) {
		EXPECT_LT(0, get_u64(c, "evictions"));
	} else {
		EXPECT_EQ(0, get_u64(c, "evictions"));
	}
	if (variant->cpu_faults) {
		EXPECT_LT(0, get_u64(c, "cpu_faults"));
		EXPECT_LT(0, get_u64(c, "pingpong"));
		EXPECT_LT(0, get_u64(c, "bytes_to_system"));
	}
	t = get(j, "tenants");
	if (!strcmp(variant->name, "tenants")) {
		struct stat st;
		size_t i;

		EXPECT_EQ(2, json_object_array_length(t));
		for (i = 0; i < json_object_array_length(t); i++) {
			struct json_object *one = json_object_array_get_idx(t, i);
			const char *cg = json_object_get_string(get(one, "cgroup"));

			EXPECT_LT(0, get_u64(get(one, "counters"), "faults"));
			EXPECT_NE(NULL, cg);
			/* the group is gone after the run */
			EXPECT_NE(0, cg ? stat(cg, &st) : 0);
		}
		EXPECT_NE(get_u64(json_object_array_get_idx(t, 0), "cgroup_id"),
			  get_u64(json_object_array_get_idx(t, 1), "cgroup_id"));
	} else {
		EXPECT_EQ(NULL, t);
	}
	return j;
}

/* A set half the device's size: no eviction, data intact. */
TEST_F_TIMEOUT(workload, fits, RUN_TIMEOUT)
{
	json_object_put(run_checked(_metadata, variant, self->mem, "0.5", "1"));
}

/* A set 1.5 times the device: evictions, data intact; again: same counters. */
TEST_F_TIMEOUT(workload, oversubscribed_same_seed_same_counters, RUN_TIMEOUT)
{
	struct json_object *a, *b;

	a = run_checked(_metadata, variant, self->mem, "1.5", "7");
	ASSERT_NE(NULL, a);
	if (!variant->deterministic) {
		json_object_put(a);
		return;
	}
	b = run_checked(_metadata, variant, self->mem, "1.5", "7");
	ASSERT_NE(NULL, b);
	EXPECT_STREQ(json_object_to_json_string(get(a, "counters")),
		     json_object_to_json_string(get(b, "counters")));
	EXPECT_EQ(get_u64(a, "accesses"), get_u64(b, "accesses"));
	json_object_put(a);
	json_object_put(b);
}

/* The check of the data is real: a page the CPU spoils fails the run. */
TEST(spoiled_page_fails_the_run)
{
	struct run r;

	SKIP_UNLESS_SMALL_DEVICE();
	ASSERT_EQ(0, bench(&r, "workload", "scan", "--ws", "0.5", "--corrupt-page", "5", NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "DATA CORRUPTED")) TH_LOG("stderr: %s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "first: page 5 (device count)")) TH_LOG("stderr: %s", r.err);
	EXPECT_STREQ("", r.out);
}

/* The default output is one key=value line. */
TEST(text_line)
{
	struct run r;

	SKIP_UNLESS_SMALL_DEVICE();
	ASSERT_EQ(0, bench(&r, "workload", "stride", "--ws", "0.25", NULL));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, strncmp(r.out, "workload=stride ws=0.25 seed=1 ", 31)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, " verified=yes\n"));
	EXPECT_EQ(strchr(r.out, '\n') + 1, r.out + strlen(r.out));
}

/* Bad options: exit status 2, a message naming the problem, no run. */
TEST(bad_options_are_refused)
{
	static const struct {
		const char *args[4];
		const char *msg;
	} cases[] = {
		{ { "scan", "--ws", "3" }, "--ws wants a ratio of device memory" },
		{ { "scan", "--ws", "0.1" }, "--ws wants a ratio of device memory" },
		{ { "scan", "--ws", "half" }, "--ws wants a ratio of device memory" },
		{ { "scan", "--passes", "0" }, "--passes wants 1..10000" },
		{ { "zipf", "--skew", "-1" }, "--skew wants" },
		{ { "stride", "--stride", "0" }, "--stride wants" },
		{ { "phase", "--hot", "2" }, "--hot wants" },
		{ { "pingpong", "--cpu-every", "x" }, "--cpu-every wants" },
		{ { "scan", "--seed", "-3" }, "--seed wants" },
		{ { "scan", "--device", "64" }, "--device wants" },
		{ { "lru-killer" }, "unknown workload" },
		{ { "scan", "zipf" }, "one workload at a time" },
		{ { "--ws", "1" }, "which workload?" },
		{ { "scan", "--bogus" }, "unrecognized option" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct run r;

		ASSERT_EQ(0, bench(&r, "workload", cases[i].args[0], cases[i].args[1],
				   cases[i].args[2], cases[i].args[3], NULL));
		EXPECT_EQ(2, r.status) TH_LOG("case %u", i);
		EXPECT_NE(NULL, strstr(r.err, cases[i].msg))
			TH_LOG("case %u: want \"%s\" in: %s", i, cases[i].msg, r.err);
		EXPECT_STREQ("", r.out);
	}
}

/* tenants refuses a directory that is not cgroup v2, and leaves nothing. */
TEST(tenants_wants_cgroup2)
{
	struct run r;

	SKIP_UNLESS_SMALL_DEVICE();
	ASSERT_EQ(0, bench(&r, "workload", "tenants", "--ws", "0.5", "--cgroup-root",
			   "/dev", NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "/dev is not a cgroup v2 mount")) TH_LOG("%s", r.err);
	EXPECT_STREQ("", r.out);
}

/* --ext-clock: the advance of an outside counter; a bad file is an error. */
TEST(ext_clock)
{
	char path[] = "/tmp/svmx-bench-clock.XXXXXX";
	struct json_object *j;
	struct run r;
	int fd;

	SKIP_UNLESS_SMALL_DEVICE();
	fd = mkstemp(path);
	ASSERT_LE(0, fd);
	ASSERT_EQ(9, write(fd, "1000 end\n", 9));
	close(fd);
	/* the counter stands still: 0 ns */
	ASSERT_EQ(0, bench(&r, "workload", "scan", "--ws", "0.25", "--json",
			   "--ext-clock", path, NULL));
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	j = json_tokener_parse(r.out);
	EXPECT_EQ(0, get_u64(j, "ext_cpu_ns"));
	json_object_put(j);
	/* a line that is not "NS end" */
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_EQ(4, write(fd, "1000", 4));
	close(fd);
	ASSERT_EQ(0, bench(&r, "workload", "scan", "--ws", "0.25", "--ext-clock", path, NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "--ext-clock")) TH_LOG("%s", r.err);
	unlink(path);
	/* no such file */
	ASSERT_EQ(0, bench(&r, "workload", "scan", "--ws", "0.25", "--ext-clock", path, NULL));
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "No such file")) TH_LOG("%s", r.err);
}

/* report: the baseline in figures, the others as ratios; failures say so. */
TEST(report_matrix)
{
	char path[] = "/tmp/svmx-bench-report.XXXXXX";
	static const char lines[] =
		"{\"label\":\"builtin\",\"workload\":\"scan\",\"ws\":1.5,\"modeled_ns\":2000000,"
		"\"cpu_ns\":1000000,\"counters\":{\"faults\":10,\"bytes_to_device\":1048576,"
		"\"bytes_to_system\":0,\"evictions\":4}}\n"
		"{\"label\":\"mine\",\"workload\":\"scan\",\"ws\":1.5,\"modeled_ns\":1000000,"
		"\"cpu_ns\":1000000,\"counters\":{\"faults\":10,\"bytes_to_device\":1048576,"
		"\"bytes_to_system\":0,\"evictions\":1}}\n"
		"{\"label\":\"mine\",\"workload\":\"zipf\",\"ws\":2,\"error\":\"exit 1\"}\n";
	struct run r;
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)strlen(lines), write(fd, lines, strlen(lines)));
	close(fd);
	ASSERT_EQ(0, bench(&r, "report", "--matrix", path, NULL));
	unlink(path);
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "| workload | ws | builtin (ms) | mine |")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "| scan | 1.50 | 2.00 | 0.50x |")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "| scan | 1.50 | 4 | 0.25x |")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "| zipf | 2.00 | - | FAIL |")) TH_LOG("%s", r.out);
}

TEST_HARNESS_MAIN
