// SPDX-License-Identifier: GPL-2.0
/*
 * BPF struct_ops policies: attach and detach with the project's libbpf,
 * each policy's decisions take effect (counters, snapshot, data), the BPF
 * twin of the default decides as the built-in default does, invalid
 * answers fall back and are counted, svmx_bpf_error() and the
 * invalid-answer budget eject a policy with exit info in debugfs, and
 * only a privileged process may attach.
 */
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#include "bad_sleep.skel.h"
#include "bad_write.skel.h"
#include "default.skel.h"
#include "error.skel.h"
#include "evict.skel.h"
#include "foreign.skel.h"
#include "invalid.skel.h"
#include "prefetch.skel.h"
#include "sysmem.skel.h"

#define MIB		(1UL << 20)
#define POLICY_FILE	SVMX_DEBUGFS "/policy"
#define BUDGET_FILE	"/sys/module/svmx/parameters/bpf_invalid_budget"
#define WINDOW_FILE	"/sys/module/svmx/parameters/bpf_invalid_window_ms"
#define EJECT_POLLS	3000	/* x 10 ms: a generous bound, fails loudly */

/* Values of enum svmx_exit_kind (kernel/svmx_bpf.h). */
#define EXIT_ERROR	3

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The debugfs policy report, or "" when it cannot be read. */
static const char *policy_report(void)
{
	static char buf[4096];

	if (read_file(POLICY_FILE, buf, sizeof(buf)))
		buf[0] = 0;
	return buf;
}

/* Poll the report until it contains @want; false after EJECT_POLLS. */
static bool wait_report(const char *want)
{
	int i;

	for (i = 0; i < EJECT_POLLS; i++) {
		if (strstr(policy_report(), want))
			return true;
		usleep(10000);
	}
	return false;
}

/* A u64 after "@key=" in the line of the report starting with @line. */
static long long report_value(const char *line, const char *key)
{
	const char *r = policy_report(), *l = strstr(r, line), *k;
	char pat[64];

	if (!l)
		return -1;
	snprintf(pat, sizeof(pat), "%s=", key);
	k = strstr(l, pat);
	return k ? atoll(k + strlen(pat)) : -1;
}

FIXTURE(bpf)
{
	int fd;
	size_t ps;
	char budget[32];
	char window[32];
};

FIXTURE_SETUP(bpf)
{
	self->ps = svmx_page_size();
	self->fd = svmx_open_bound(0);
	if (self->fd == -ENOENT)
		SKIP(return, "/dev/svmx0 not present");
	ASSERT_GE(self->fd, 0);
	if (access(POLICY_FILE, R_OK))
		SKIP(return, "svmx.ko built without BPF policies");
	ASSERT_NE(NULL, strstr(policy_report(), "attached none"));
	ASSERT_EQ(0, read_file(BUDGET_FILE, self->budget, sizeof(self->budget)));
	ASSERT_EQ(0, read_file(WINDOW_FILE, self->window, sizeof(self->window)));
}

FIXTURE_TEARDOWN(bpf)
{
	if (self->budget[0])
		write_file(BUDGET_FILE, self->budget);
	if (self->window[0])
		write_file(WINDOW_FILE, self->window);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * The deterministic workload: @size bytes, 2 MiB aligned, filled by the
 * CPU with pattern @seed, read by the device (checked), half rewritten by
 * the device and read back by the CPU (checked).  Counters of both device
 * calls in @cnt, the snapshot after the device read in @snap (if given).
 */
static void workload(struct __test_metadata *_metadata, int fd, size_t size,
		     uint64_t seed, struct svmx_counters *cnt, uint8_t *snap)
{
	size_t ps = svmx_page_size(), half = size / 2;
	struct svmx_counters c;
	char *mem, *buf;

	memset(cnt, 0, sizeof(*cnt));
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, size, seed);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, seed));
	svmx_counters_add(cnt, &c);
	if (snap)
		ASSERT_EQ(0, svmx_snapshot(fd, mem, size / ps, snap, NULL));
	svmx_pat_fill(buf, half, seed + 1);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_write(mem, half, buf), &c));
	svmx_counters_add(cnt, &c);
	EXPECT_EQ(-1, svmx_pat_check(mem, half, seed + 1));
	EXPECT_EQ(-1, svmx_pat_check_from(mem + half, half / 8, half, seed));
	munmap(mem, size);
	free(buf);
}

/* sysmem maps everything remotely; after detach the default migrates again. */
TEST_F(bpf, sysmem_migrates_nothing)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	uint8_t *snap = malloc(n);
	struct pol_sysmem *skel;
	struct bpf_link *link;
	struct svmx_counters c;

	ASSERT_NE(NULL, snap);
	skel = pol_sysmem__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.sysmem_ops);
	ASSERT_NE(NULL, link);
	EXPECT_NE(NULL, strstr(policy_report(), "attached sysmem state=active"));

	workload(_metadata, self->fd, size, 1, &c, snap);
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(n + n / 2, c.remote_accesses);
	EXPECT_EQ(0, c.policy_fallbacks);
	EXPECT_EQ(n, svmx_snap_count(snap, n, SVMX_SNAP_LOC_MASK | SVMX_SNAP_DEV_MAPPED,
				     SVMX_SNAP_SYSTEM | SVMX_SNAP_DEV_MAPPED));
	EXPECT_LT(0, report_value("  fault", "calls"));
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("sysmem", &c);

	bpf_link__destroy(link);
	EXPECT_NE(NULL, strstr(policy_report(), "attached none"));
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit sysmem kind=unregistered"));
	workload(_metadata, self->fd, size, 2, &c, snap);
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	pol_sysmem__destroy(skel);
	free(snap);
}

/*
 * sysmem leaves cpu_fault out: CPU faults on device memory take the
 * default's answer (the 2 MiB chunk comes back) and count no fallback.
 */
TEST_F(bpf, left_out_callback_counts_nothing)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct svmx_stats s0, s1;
	struct pol_sysmem *skel;
	struct bpf_link *link;
	char *mem;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 12);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	skel = pol_sysmem__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.sysmem_ops);
	ASSERT_NE(NULL, link);

	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 12));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_EQ(2, s1.ctx.cpu_faults - s0.ctx.cpu_faults);
	EXPECT_EQ(n, s1.ctx.pages_to_system - s0.ctx.pages_to_system);
	EXPECT_EQ(0, s1.ctx.policy_fallbacks - s0.ctx.policy_fallbacks);
	EXPECT_EQ(0, report_value("  cpu_fault", "calls"));

	bpf_link__destroy(link);
	pol_sysmem__destroy(skel);
	munmap(mem, size);
}

/* The BPF twin of the default decides exactly as the built-in one. */
TEST_F(bpf, default_twin_same_counters)
{
	size_t size = 8 * MIB;
	struct svmx_counters builtin, twin;
	struct pol_default *skel;
	struct bpf_link *link;

	workload(_metadata, self->fd, size, 3, &builtin, NULL);
	skel = pol_default__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.default_ops);
	ASSERT_NE(NULL, link);
	workload(_metadata, self->fd, size, 3, &twin, NULL);
	EXPECT_LT(0, report_value("  fault", "calls"));
	EXPECT_EQ(0, report_value("  fault", "invalid"));
	bpf_link__destroy(link);
	pol_default__destroy(skel);

	EXPECT_EQ(builtin.faults, twin.faults);
	EXPECT_EQ(builtin.fault_batches, twin.fault_batches);
	EXPECT_EQ(builtin.pages_to_device, twin.pages_to_device);
	EXPECT_EQ(builtin.pages_to_system, twin.pages_to_system);
	EXPECT_EQ(builtin.copy_cmds, twin.copy_cmds);
	EXPECT_EQ(builtin.local_accesses, twin.local_accesses);
	EXPECT_EQ(builtin.remote_accesses, twin.remote_accesses);
	EXPECT_EQ(builtin.evictions, twin.evictions);
	EXPECT_EQ(0, twin.policy_fallbacks);
	EXPECT_EQ(builtin.modeled_ns, twin.modeled_ns);
	if (_metadata->exit_code) {
		SVMX_LOG_COUNTERS("built-in", &builtin);
		SVMX_LOG_COUNTERS("twin", &twin);
	}
}

/* Invalid answers: the default's answer is used, each one is counted. */
TEST_F(bpf, invalid_answers_fall_back)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct pol_invalid *skel;
	struct bpf_link *link;
	struct svmx_counters c;
	long long inv;

	ASSERT_EQ(0, write_file(BUDGET_FILE, "1000000"));
	skel = pol_invalid__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.invalid_ops);
	ASSERT_NE(NULL, link);
	workload(_metadata, self->fd, size, 4, &c, NULL);
	EXPECT_EQ(n, c.pages_to_device);	/* the default's 2 MiB chunks */
	EXPECT_LT(0, c.policy_fallbacks);
	inv = report_value("  fault", "invalid");
	EXPECT_LT(0, inv);
	EXPECT_EQ(inv, report_value("  fault", "calls"));
	EXPECT_NE(NULL, strstr(policy_report(), "attached test_invalid state=active"));
	bpf_link__destroy(link);
	pol_invalid__destroy(skel);
}

/*
 * One device read in the first chunk of 8 MiB: the prefetch policy brings
 * the second chunk too; with misaligned ranges the kernel rejects them and
 * only the fault's chunk moves.
 */
static void prefetch_run(struct __test_metadata *_metadata, int fd, bool misalign,
			 unsigned long want_local)
{
	size_t ps = svmx_page_size(), size = 8 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	struct pol_prefetch *skel;
	struct bpf_link *link;
	struct svmx_counters c;
	uint64_t word;
	char *mem;

	ASSERT_NE(NULL, snap);
	skel = pol_prefetch__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->misalign = misalign;
	ASSERT_EQ(0, pol_prefetch__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.prefetch_ops);
	ASSERT_NE(NULL, link);

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 11);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, 8, &word), &c));
	EXPECT_EQ(svmx_pat(11, 0), word);
	EXPECT_EQ(want_local, c.pages_to_device);
	ASSERT_EQ(0, svmx_snapshot(fd, mem, n, snap, NULL));
	EXPECT_EQ(want_local, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(1, report_value("  prefetch", "calls"));
	EXPECT_EQ(misalign ? 1 : 0, report_value("  prefetch", "invalid"));
	EXPECT_EQ(misalign ? 1 : 0, c.policy_fallbacks);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("prefetch", &c);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 11));	/* CPU brings all back */
	bpf_link__destroy(link);
	pol_prefetch__destroy(skel);
	munmap(mem, size);
	free(snap);
}

/* A BPF prefetch answer migrates the range it names. */
TEST_F(bpf, prefetch_next_chunk)
{
	prefetch_run(_metadata, self->fd, false, 2 * SZ_2M / self->ps);
}

/* A misaligned prefetch range is rejected: counted, nothing prefetched. */
TEST_F(bpf, prefetch_invalid_range_falls_back)
{
	prefetch_run(_metadata, self->fd, true, SZ_2M / self->ps);
}

/*
 * On a small device (svmx.ko loaded with mem_mb=8 by tests/vm/guest-suites)
 * a 16 MiB device read evicts: the BPF evict callback picks the victims,
 * or with an invalid pick the LRU block goes and each answer is counted.
 */
static void evict_run(struct __test_metadata *_metadata, int fd, bool invalid)
{
	size_t size = 16 * MIB;
	struct pol_evict *skel;
	struct bpf_link *link;
	struct svmx_counters c;
	struct svmx_stats st;
	long long calls;
	char *mem, *buf;

	ASSERT_EQ(0, svmx_get_stats(fd, &st));
	if (st.mem_bytes > 8 * MIB)
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	ASSERT_EQ(0, write_file(BUDGET_FILE, "1000000"));
	skel = pol_evict__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->invalid = invalid;
	ASSERT_EQ(0, pol_evict__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.evict_ops);
	ASSERT_NE(NULL, link);

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, size, 13);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 13));
	EXPECT_LT(0, c.evictions);
	calls = report_value("  evict", "calls");
	EXPECT_LT(0, calls);
	EXPECT_EQ(invalid ? calls : 0, report_value("  evict", "invalid"));
	EXPECT_EQ(invalid ? calls : 0, (long long)c.policy_fallbacks);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("evict", &c);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 13));
	bpf_link__destroy(link);
	pol_evict__destroy(skel);
	munmap(mem, size);
	free(buf);
}

/* The BPF evict callback's victims are evicted; data survives. */
TEST_F(bpf, evict_small_device)
{
	evict_run(_metadata, self->fd, false);
}

/* An evict answer past the candidates falls back to the LRU, counted. */
TEST_F(bpf, evict_invalid_pick_falls_back)
{
	evict_run(_metadata, self->fd, true);
}

/* More invalid answers than the budget eject the policy; the default stays. */
TEST_F(bpf, invalid_budget_ejects)
{
	size_t size = 16 * MIB;
	unsigned long n = size / self->ps;
	struct pol_invalid *skel;
	struct bpf_link *link, *again;
	struct svmx_counters c;

	ASSERT_EQ(0, write_file(BUDGET_FILE, "2"));
	ASSERT_EQ(0, write_file(WINDOW_FILE, "0"));	/* since the attach */
	skel = pol_invalid__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.invalid_ops);
	ASSERT_NE(NULL, link);
	workload(_metadata, self->fd, size, 5, &c, NULL);
	EXPECT_EQ(n, c.pages_to_device);
	ASSERT_TRUE(wait_report("state=ejected")) TH_LOG("%s", policy_report());
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit test_invalid kind=invalid"));
	EXPECT_NE(NULL, strstr(policy_report(), "reason=invalid-answer budget exceeded"));

	/* Ejected: the default decides, nothing falls back. */
	workload(_metadata, self->fd, size, 6, &c, NULL);
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(0, c.policy_fallbacks);

	/* Until its link goes, no other policy attaches. */
	again = bpf_map__attach_struct_ops(skel->maps.invalid_ops);
	EXPECT_EQ(NULL, again);
	bpf_link__destroy(again);
	bpf_link__destroy(link);
	EXPECT_NE(NULL, strstr(policy_report(), "attached none"));
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit test_invalid kind=invalid"));
	pol_invalid__destroy(skel);
}

/* svmx_bpf_error() ejects with the policy's message; its exit callback runs. */
TEST_F(bpf, error_ejects)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct pol_error *skel;
	struct bpf_link *link;
	struct svmx_counters c;

	skel = pol_error__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.error_ops);
	ASSERT_NE(NULL, link);
	EXPECT_EQ(1, skel->bss->inited);
	workload(_metadata, self->fd, size, 7, &c, NULL);
	ASSERT_TRUE(wait_report("state=ejected")) TH_LOG("%s", policy_report());
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit test_error kind=error"));
	EXPECT_NE(NULL, strstr(policy_report(), "message=test error at "));
	EXPECT_EQ(1, skel->bss->exited);
	EXPECT_EQ(EXIT_ERROR, skel->bss->exit_kind);

	workload(_metadata, self->fd, size, 8, &c, NULL);
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(0, c.policy_fallbacks);
	bpf_link__destroy(link);
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit test_error kind=error"));
	pol_error__destroy(skel);
}

/* One policy at a time; the attached one holds svmx.ko. */
TEST_F(bpf, second_attach_busy_module_held)
{
	struct pol_default *def;
	struct pol_sysmem *sys;
	struct bpf_link *link, *second;

	sys = pol_sysmem__open_and_load();
	def = pol_default__open_and_load();
	ASSERT_NE(NULL, sys);
	ASSERT_NE(NULL, def);
	link = bpf_map__attach_struct_ops(sys->maps.sysmem_ops);
	ASSERT_NE(NULL, link);
	second = bpf_map__attach_struct_ops(def->maps.default_ops);
	EXPECT_EQ(NULL, second);
	EXPECT_EQ(EBUSY, errno);
	bpf_link__destroy(second);

	EXPECT_EQ(-1, syscall(SYS_delete_module, "svmx", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);

	bpf_link__destroy(link);
	pol_sysmem__destroy(sys);
	pol_default__destroy(def);
}

/*
 * A live update of the link replaces the policy with no gap: the new one
 * decides at once, the old one exits as "replaced".
 */
TEST_F(bpf, update_replaces_policy)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct pol_default *def;
	struct pol_sysmem *sys;
	struct bpf_link *link;
	struct svmx_counters c;

	sys = pol_sysmem__open_and_load();
	def = pol_default__open_and_load();
	ASSERT_NE(NULL, sys);
	ASSERT_NE(NULL, def);
	link = bpf_map__attach_struct_ops(sys->maps.sysmem_ops);
	ASSERT_NE(NULL, link);
	workload(_metadata, self->fd, size, 9, &c, NULL);
	EXPECT_EQ(0, c.pages_to_device);

	ASSERT_EQ(0, bpf_link__update_map(link, def->maps.default_ops));
	EXPECT_NE(NULL, strstr(policy_report(), "attached default state=active"));
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit sysmem kind=replaced"));
	workload(_metadata, self->fd, size, 10, &c, NULL);
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(0, c.policy_fallbacks);

	bpf_link__destroy(link);
	EXPECT_NE(NULL, strstr(policy_report(), "last_exit default kind=unregistered"));
	pol_sysmem__destroy(sys);
	pol_default__destroy(def);
}

/*
 * The kernel refuses a policy that writes outside its answer, a sleepable
 * decision callback, and svmx_bpf_error() in another struct_ops type;
 * nothing gets attached.
 */
TEST_F(bpf, verifier_refuses_bad_policies)
{
	struct pol_bad_write *w;
	struct pol_bad_sleep *s;
	struct pol_foreign *f;

	libbpf_set_print(NULL);	/* the verifier's refusal log is expected */
	w = pol_bad_write__open_and_load();
	EXPECT_EQ(NULL, w);
	pol_bad_write__destroy(w);
	s = pol_bad_sleep__open_and_load();
	EXPECT_EQ(NULL, s);
	pol_bad_sleep__destroy(s);
	f = pol_foreign__open_and_load();
	EXPECT_EQ(NULL, f);
	pol_foreign__destroy(f);
	EXPECT_NE(NULL, strstr(policy_report(), "attached none"));
}

/* A process without CAP_BPF and CAP_SYS_ADMIN cannot attach a policy. */
TEST_F(bpf, unprivileged_attach_refused)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pol_sysmem *skel;
		struct bpf_link *link = NULL;

		libbpf_set_print(NULL);	/* the refusal is expected */
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		skel = pol_sysmem__open_and_load();
		if (skel)
			link = bpf_map__attach_struct_ops(skel->maps.sysmem_ops);
		_exit(link ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(policy_report(), "attached none"));
}

/* build/bpf/NAME next to this binary's build/selftests/. */
static void build_path(char *buf, size_t len, const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(buf, len, "%s/../bpf/%s", dirname(exe), name);
}

/* svmx-policy-load holds a policy until SIGTERM, then detaches it. */
TEST_F(bpf, loader_holds_until_sigterm)
{
	char loader[PATH_MAX], obj[PATH_MAX];
	int status;
	pid_t pid;

	build_path(loader, sizeof(loader), "svmx-policy-load");
	build_path(obj, sizeof(obj), "sysmem.bpf.o");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (!freopen("/dev/null", "w", stdout))
			_exit(126);
		execl(loader, loader, obj, (char *)NULL);
		_exit(127);
	}
	ASSERT_TRUE(wait_report("attached sysmem state=active"))
		TH_LOG("%s", policy_report());
	ASSERT_EQ(0, kill(pid, SIGTERM));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(wait_report("attached none")) TH_LOG("%s", policy_report());
}

/* svmx-policy-load -p pins the link: the policy outlives the loader. */
TEST_F(bpf, loader_pin_outlives_loader)
{
	const char *pin = "/sys/fs/bpf/svmx_bpf_test_pin";
	char loader[PATH_MAX], obj[PATH_MAX], cmd[3 * PATH_MAX];

	if (access("/sys/fs/bpf", F_OK) || mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		ASSERT_EQ(EBUSY, errno) TH_LOG("cannot mount bpffs: %s", strerror(errno));
	build_path(loader, sizeof(loader), "svmx-policy-load");
	build_path(obj, sizeof(obj), "default.bpf.o");
	unlink(pin);
	snprintf(cmd, sizeof(cmd), "%s -p %s %s >/dev/null", loader, pin, obj);
	ASSERT_EQ(0, system(cmd));
	EXPECT_NE(NULL, strstr(policy_report(), "attached default state=active"));
	ASSERT_EQ(0, unlink(pin));
	EXPECT_TRUE(wait_report("attached none")) TH_LOG("%s", policy_report());
}

TEST_HARNESS_MAIN
