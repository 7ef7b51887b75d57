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
#include "notify.skel.h"
#include "prefetch.skel.h"
#include "sysmem.skel.h"

#define MIB		(1UL << 20)
#define POLICY_FILE	SVMX_DEBUGFS "/policy"
#define BUDGET_FILE	"/sys/module/svmx/parameters/bpf_invalid_budget"
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
}

FIXTURE_TEARDOWN(bpf)
{
	if (self->budget[0])
		write_file(BUDGET_FILE, self->budget);
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

/* ---------------------------------------------------------------------
 * Eviction by handle and the eviction policies.  Most of these run on a
 * small device (svmx.ko loaded with mem_mb=8 nr_devices=2 by
 * tests/vm/guest-suites: four 2 MiB blocks per device) and skip on the
 * default 256 MiB one.
 */

#define SMALL_DEV	(8 * MIB)

static bool small_device(int fd)
{
	struct svmx_stats st;

	return !svmx_get_stats(fd, &st) && st.mem_bytes <= SMALL_DEV;
}

/* Start tracing one svmx event (cleared buffer); false when unavailable. */
static bool trace_on(const char *event, const char *on)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	if (access(path, W_OK))
		return false;
	if (!strcmp(on, "1") && svmx_write_file(TRACEFS "/trace", ""))
		return false;
	return !svmx_write_file(path, on);
}

/* What the debugfs report says of the attached policy's evictions. */
struct evict_report {
	long long calls, invalid, policy, lru, hole;
};

static void evict_report(struct evict_report *r)
{
	r->calls = report_value("  evict ", "calls");
	r->invalid = report_value("  evict ", "invalid");
	r->policy = report_value("  victims", "policy");
	r->lru = report_value("  victims", "lru");
	r->hole = report_value("  victims", "hole");
}

/*
 * A 16 MiB device read on the 8 MiB device 0, data checked: evicts.  The
 * counters of the read in @c.
 */
static void evict_read(struct __test_metadata *_metadata, int fd, uint64_t seed,
		       struct svmx_counters *c)
{
	size_t size = 16 * MIB;
	char *mem, *buf;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, size, seed);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, size, buf), c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, seed));
	EXPECT_LT(0, c->evictions);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, seed));	/* CPU brings it back */
	munmap(mem, size);
	free(buf);
}

enum { EVICT_LAST, EVICT_GARBAGE, EVICT_STALE, EVICT_FOREIGN };

/*
 * tests/bpf/evict.bpf.c in @mode on a 16 MiB read.  Invalid proposals
 * (every mode but EVICT_LAST) are each counted as invalid and as a policy
 * fallback, traced with @why, and the LRU evicts instead.
 */
static void evict_mode_run(struct __test_metadata *_metadata, int fd,
			   unsigned int mode, const char *why)
{
	struct evict_report r;
	struct svmx_counters c;
	struct pol_evict *skel;
	struct bpf_link *link;
	char *dev1 = NULL, *trace, want[64];
	bool traced;
	int fd1 = -1;

	if (!small_device(fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	ASSERT_EQ(0, write_file(BUDGET_FILE, "1000000"));
	skel = pol_evict__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->mode = mode;
	ASSERT_EQ(0, pol_evict__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.evict_ops);
	ASSERT_NE(NULL, link);
	if (mode == EVICT_FOREIGN) {
		/* A live block on device 1, announced to the policy. */
		fd1 = svmx_open_bound(1);
		if (fd1 < 0)
			SKIP(goto out, "needs a second device (nr_devices=2)");
		dev1 = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, dev1);
		svmx_pat_fill(dev1, SZ_2M, 30);
		ASSERT_EQ(0, svmx_migrate(fd1, dev1, SZ_2M, SVMX_TARGET_SELF, NULL));
		ASSERT_NE(0, skel->bss->foreign);
	}
	traced = trace_on("svmx_evict_reject", "1");

	evict_read(_metadata, fd, 40 + mode, &c);
	evict_report(&r);
	if (traced)
		trace_on("svmx_evict_reject", "0");
	EXPECT_EQ(r.calls, (long long)skel->bss->calls);
	if (mode == EVICT_LAST) {
		/* Its victims are evicted, each was enough: no LRU. */
		EXPECT_LT(0, skel->bss->proposed);
		EXPECT_EQ((long long)skel->bss->proposed, r.policy);
		EXPECT_EQ(0, r.lru);
		EXPECT_EQ(0, r.invalid);
		EXPECT_EQ(0, c.policy_fallbacks);
	} else {
		/* Every proposal refused, counted; the LRU evicted. */
		EXPECT_LT(0, skel->bss->proposed);
		EXPECT_EQ((long long)skel->bss->proposed, r.invalid);
		EXPECT_EQ(skel->bss->proposed, c.policy_fallbacks);
		EXPECT_EQ(0, r.policy);
		EXPECT_EQ((long long)c.evictions, r.lru);
		EXPECT_NE(NULL, strstr(policy_report(), "attached test_evict state=active"));
		if (traced) {
			trace = svmx_read_trace();
			ASSERT_NE(NULL, trace);
			/* The trace names the seam's policy, "bpf". */
			snprintf(want, sizeof(want), "svmx_evict_reject: dev=0 policy=bpf handle=0x");
			EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
			snprintf(want, sizeof(want), "why=%s", why);
			EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
			free(trace);
		}
	}
	if (_metadata->exit_code)
		TH_LOG("%s", policy_report());
	if (dev1) {
		EXPECT_EQ(-1, svmx_pat_check(dev1, SZ_2M, 30));
		munmap(dev1, SZ_2M);
	}
out:
	if (fd1 >= 0)
		close(fd1);
	bpf_link__destroy(link);
	pol_evict__destroy(skel);
}

/* The policy's victim, the last candidate, is evicted instead of the LRU's. */
TEST_F(bpf, evict_last_candidate)
{
	evict_mode_run(_metadata, self->fd, EVICT_LAST, NULL);
}

/* Handles 0, ~0 and a live one with other generation bits: refused. */
TEST_F(bpf, evict_garbage_handles_fall_back)
{
	evict_mode_run(_metadata, self->fd, EVICT_GARBAGE, "malformed");
}

/* The handle of a freed block no longer validates. */
TEST_F(bpf, evict_stale_handle_falls_back)
{
	evict_mode_run(_metadata, self->fd, EVICT_STALE, "dead");
}

/* A live block of another device cannot be evicted for this one. */
TEST_F(bpf, evict_foreign_handle_falls_back)
{
	evict_mode_run(_metadata, self->fd, EVICT_FOREIGN, "foreign");
}

/*
 * Device memory full of 64 KiB blocks, then a 2 MiB fault: the policy
 * proposes one 64 KiB victim, the LRU evicts the rest; all data intact.
 */
TEST_F(bpf, evict_fewer_victims_lru_rest)
{
	size_t piece = 64 * 1024, size = SMALL_DEV, i;
	struct evict_report r;
	struct svmx_counters c;
	struct pol_evict *skel;
	struct bpf_link *link;
	char *small, *big, *buf;

	if (!small_device(self->fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	skel = pol_evict__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.evict_ops);
	ASSERT_NE(NULL, link);
	small = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	big = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(SZ_2M);
	ASSERT_NE(NULL, small);
	ASSERT_NE(NULL, big);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(small, size, 50);
	svmx_pat_fill(big, SZ_2M, 51);
	for (i = 0; i < size; i += piece)
		ASSERT_EQ(0, svmx_migrate(self->fd, small + i, piece,
					  SVMX_TARGET_SELF, NULL));
	EXPECT_EQ(0, report_value("  evict ", "calls"));

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(big, SZ_2M, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, SZ_2M, 51));
	evict_report(&r);
	EXPECT_LE(1, r.calls);
	EXPECT_EQ((long long)skel->bss->proposed, r.policy);
	EXPECT_LE(1, r.policy);
	EXPECT_LE(1, r.lru);	/* 64 KiB were not enough */
	EXPECT_EQ(0, r.invalid);
	EXPECT_EQ((long long)c.evictions, r.policy + r.lru + r.hole);
	if (_metadata->exit_code)
		TH_LOG("%s", policy_report());
	EXPECT_EQ(-1, svmx_pat_check(small, size, 50));
	EXPECT_EQ(-1, svmx_pat_check(big, SZ_2M, 51));
	bpf_link__destroy(link);
	pol_evict__destroy(skel);
	munmap(small, size);
	munmap(big, SZ_2M);
	free(buf);
}

/*
 * Every notification reaches the policy (its counts in BPF globals equal
 * the kernel's per-callback counts and the uapi counters); a freed handle
 * no longer resolves.
 */
TEST_F(bpf, evict_notifications_counted)
{
	size_t size = 12 * MIB;
	struct svmx_counters c, sum = {};
	struct pol_notify *skel;
	struct bpf_link *link;
	struct svmx_stats st;
	char *mem, *buf;
	int pass;

	if (!small_device(self->fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	skel = pol_notify__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.notify_ops);
	ASSERT_NE(NULL, link);
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, size, 60);
	for (pass = 0; pass < 3; pass++) {
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
		EXPECT_EQ(-1, svmx_pat_check(buf, size, 60));
		svmx_counters_add(&sum, &c);
	}
	EXPECT_LT(0, sum.evictions);
	EXPECT_EQ(skel->bss->allocs, report_value("  block_alloc", "calls"));
	EXPECT_EQ(skel->bss->accesses, report_value("  block_access", "calls"));
	EXPECT_EQ(skel->bss->frees, report_value("  block_free", "calls"));
	EXPECT_EQ(skel->bss->evict_dones, report_value("  evict_done", "calls"));
	EXPECT_EQ(sum.evictions, skel->bss->evict_dones);
	EXPECT_EQ(sum.evicted_pages, skel->bss->evicted_pages);
	EXPECT_EQ(0, skel->bss->access_epoch_mismatch);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	EXPECT_EQ(st.blocks, skel->bss->allocs - skel->bss->frees);

	munmap(mem, size);	/* frees every block left */
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	EXPECT_EQ(0, st.blocks);
	EXPECT_EQ(skel->bss->allocs, skel->bss->frees);
	EXPECT_EQ(skel->bss->frees, report_value("  block_free", "calls"));
	EXPECT_EQ(skel->bss->frees, skel->bss->free_info_enoent);
	EXPECT_EQ(0, skel->bss->free_info_other);
	if (_metadata->exit_code)
		TH_LOG("%s", policy_report());
	bpf_link__destroy(link);
	pol_notify__destroy(skel);
	free(buf);
}

/*
 * Access notifications come at most once per block and device epoch (one
 * SVMX_IOC_EXEC): five reads of a block in one call are one access.
 */
TEST_F(bpf, evict_access_once_per_epoch)
{
	struct svmx_op ops[5];
	struct pol_notify *skel;
	struct bpf_link *link;
	char *mem, *buf;
	int i;

	skel = pol_notify__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.notify_ops);
	ASSERT_NE(NULL, link);
	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(SZ_2M);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, SZ_2M, 61);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SELF, NULL));
	EXPECT_EQ(1, skel->bss->allocs);
	EXPECT_EQ(0, skel->bss->accesses);
	for (i = 0; i < 5; i++)
		ops[i] = svmx_op_read(mem, SZ_2M, buf);
	ASSERT_EQ(0, svmx_exec(self->fd, ops, 5, NULL));
	EXPECT_EQ(-1, svmx_pat_check(buf, SZ_2M, 61));
	EXPECT_EQ(1, skel->bss->accesses);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, SZ_2M, buf), NULL));
	EXPECT_EQ(2, skel->bss->accesses);
	EXPECT_EQ(2, report_value("  block_access", "calls"));
	munmap(mem, SZ_2M);
	EXPECT_EQ(1, skel->bss->frees);
	bpf_link__destroy(link);
	pol_notify__destroy(skel);
	free(buf);
}

/*
 * svmx_bpf_block_info() and svmx_bpf_device_info() describe a block and
 * its device as the uapi sees them, and refuse bad handles and devices.
 */
TEST_F(bpf, block_kfuncs_report_blocks)
{
	struct pol_notify *skel;
	struct bpf_link *link;
	struct svmx_stats st;
	char *mem;

	skel = pol_notify__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.notify_ops);
	ASSERT_NE(NULL, link);
	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, SZ_2M, 62);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));

	EXPECT_EQ(0, skel->bss->info_ret);
	EXPECT_EQ(0, skel->bss->bi_dev);
	EXPECT_EQ(9, skel->bss->bi_order);
	EXPECT_EQ(SZ_2M / self->ps, skel->bss->bi_pages);
	EXPECT_EQ(1, skel->bss->bi_evictable);
	EXPECT_EQ(1, skel->bss->bi_accesses);
	EXPECT_EQ(0, skel->bss->bi_age);
	EXPECT_NE(0, skel->bss->bi_owner);
	EXPECT_EQ(skel->bss->last_owner, skel->bss->bi_owner);
	EXPECT_EQ(0, skel->bss->bi_cgroup_id);
	EXPECT_EQ((unsigned long)mem, skel->bss->bi_addr);
	EXPECT_NE(0, skel->bss->last_handle);

	EXPECT_EQ(0, skel->bss->dev_ret);
	EXPECT_EQ(0, skel->bss->di_dev);
	EXPECT_EQ(st.mem_bytes, skel->bss->di_total);
	EXPECT_EQ(st.mem_bytes - st.mem_used_bytes, skel->bss->di_free);
	EXPECT_EQ(st.blocks, skel->bss->di_blocks);
	EXPECT_EQ(st.resident_pages, skel->bss->di_resident);
	EXPECT_LE(0, skel->bss->di_free_order);
	EXPECT_LE(1, skel->bss->di_epoch);

	EXPECT_EQ(-EINVAL, skel->bss->bad_zero);
	EXPECT_EQ(-EINVAL, skel->bss->bad_garbage);
	EXPECT_EQ(-ENOENT, skel->bss->bad_gen);
	EXPECT_EQ(-ENODEV, skel->bss->bad_dev);
	EXPECT_EQ(-1, svmx_pat_check(mem, SZ_2M, 62));
	munmap(mem, SZ_2M);
	bpf_link__destroy(link);
	pol_notify__destroy(skel);
}

static void build_path(char *buf, size_t len, const char *name);

/* A library policy (build/bpf/NAME.bpf.o, map NAME_ops) attached, or NULL. */
static struct bpf_link *library_attach(const char *name, struct bpf_object **obj)
{
	char path[PATH_MAX], map[64];
	struct bpf_map *m;

	build_path(path, sizeof(path), name);
	strncat(path, ".bpf.o", sizeof(path) - strlen(path) - 1);
	*obj = bpf_object__open_file(path, NULL);
	if (!*obj)
		return NULL;
	if (bpf_object__load(*obj))
		return NULL;
	snprintf(map, sizeof(map), "%s_ops", name);
	m = bpf_object__find_map_by_name(*obj, map);
	return m ? bpf_map__attach_struct_ops(m) : NULL;
}

/* One eviction policy's run of a workload. */
struct evict_case {
	const char *policy;	/* NULL: the built-in LRU */
	struct svmx_counters c;
	struct evict_report r;
	unsigned long hot_local;	/* hot pages on the device at the end */
};

/*
 * The workloads: a cyclic scan, @passes device reads of the whole of
 * @size; or (@hot) a hot 4 MiB read in every call beside 6 MiB of a
 * stream read once.  Data checked every call; counters in @k->c.
 */
static void evict_workload(struct __test_metadata *_metadata, int fd,
			   struct evict_case *k, bool hot)
{
	size_t size = hot ? 4 * MIB : 12 * MIB, stream = 6 * MIB;
	size_t ps = svmx_page_size();
	unsigned int pass, passes = 8;
	struct svmx_counters c;
	struct bpf_object *obj = NULL;
	struct bpf_link *link = NULL;
	char *mem, *str = NULL, *buf, *sbuf;
	struct svmx_op ops[2];
	uint8_t *snap;

	memset(&k->c, 0, sizeof(k->c));
	memset(&k->r, 0, sizeof(k->r));
	if (k->policy) {
		link = library_attach(k->policy, &obj);
		ASSERT_NE(NULL, link) TH_LOG("cannot attach %s", k->policy);
	}
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	sbuf = malloc(stream);
	snap = malloc(size / ps);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, sbuf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 70);
	if (hot) {
		str = svmx_map_aligned(passes * stream, SZ_2M, PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, str);
		svmx_pat_fill(str, passes * stream, 71);
	}
	for (pass = 0; pass < passes; pass++) {
		ops[0] = svmx_op_read(mem, size, buf);
		if (hot)
			ops[1] = svmx_op_read(str + pass * stream, stream, sbuf);
		ASSERT_EQ(0, svmx_exec(fd, ops, hot ? 2 : 1, &c));
		EXPECT_EQ(-1, svmx_pat_check(buf, size, 70));
		if (hot)
			EXPECT_EQ(-1, svmx_pat_check_from(sbuf, pass * stream / 8,
							  stream, 71));
		svmx_counters_add(&k->c, &c);
	}
	ASSERT_EQ(0, svmx_snapshot(fd, mem, size / ps, snap, NULL));
	k->hot_local = svmx_snap_loc_count(snap, size / ps, SVMX_SNAP_LOCAL);
	if (link)
		evict_report(&k->r);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 70));
	if (hot) {
		EXPECT_EQ(-1, svmx_pat_check(str, passes * stream, 71));
		munmap(str, passes * stream);
	}
	bpf_link__destroy(link);
	bpf_object__close(obj);
	munmap(mem, size);
	free(buf);
	free(sbuf);
	free(snap);
}

static void evict_cases_run(struct __test_metadata *_metadata, int fd,
			    struct evict_case *k, int n, bool hot)
{
	int i;

	for (i = 0; i < n; i++) {
		evict_workload(_metadata, fd, &k[i], hot);
		ksft_print_msg("%s %-7s evictions=%llu faults=%llu pages_to_device=%llu modeled_ns=%llu policy_victims=%lld lru_victims=%lld invalid=%lld hot_local=%lu\n",
			       hot ? "hot+stream" : "cyclic-scan",
			       k[i].policy ?: "lru", k[i].c.evictions, k[i].c.faults,
			       k[i].c.pages_to_device, k[i].c.modeled_ns,
			       k[i].r.policy, k[i].r.lru, k[i].r.invalid,
			       k[i].hot_local);
		if (k[i].policy) {
			/* The policy chose the victims, all of them valid. */
			EXPECT_LT(0, k[i].r.policy) TH_LOG("%s", k[i].policy);
			EXPECT_EQ(0, k[i].r.invalid) TH_LOG("%s", k[i].policy);
			EXPECT_EQ(0, k[i].c.policy_fallbacks) TH_LOG("%s", k[i].policy);
		}
	}
}

/*
 * A cyclic scan over 1.5x device memory (12 MiB on 8 MiB), 8 passes: LRU
 * evicts the block needed next every time; mru keeps most of the loop and
 * evicts at least 2x fewer blocks; lfu evicts fewer than LRU.
 */
TEST_F(bpf, evict_policies_cyclic_scan)
{
	struct evict_case k[] = {
		{ .policy = NULL }, { .policy = "mru" }, { .policy = "lfu" },
		{ .policy = "s3fifo" },
	};
	unsigned long long best = ULLONG_MAX;
	int i;

	if (!small_device(self->fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	evict_cases_run(_metadata, self->fd, k, ARRAY_SIZE(k), false);
	for (i = 1; i < (int)ARRAY_SIZE(k); i++)
		best = k[i].c.evictions < best ? k[i].c.evictions : best;
	EXPECT_LT(0, k[0].c.evictions);
	EXPECT_LE(2 * k[1].c.evictions, k[0].c.evictions);	/* mru */
	EXPECT_LT(k[2].c.evictions, k[0].c.evictions);		/* lfu */
	EXPECT_LE(2 * best, k[0].c.evictions);
}

/*
 * A hot 4 MiB set read in every call beside a stream read once: LRU lets
 * the stream flush the hot set; lfu and s3fifo keep it on the device and
 * evict fewer blocks.
 */
TEST_F(bpf, evict_policies_hot_and_stream)
{
	struct evict_case k[] = {
		{ .policy = NULL }, { .policy = "lfu" }, { .policy = "s3fifo" },
		{ .policy = "mru" },
	};
	unsigned long hot = 4 * MIB / self->ps;

	if (!small_device(self->fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	evict_cases_run(_metadata, self->fd, k, ARRAY_SIZE(k), true);
	EXPECT_LT(k[1].c.evictions, k[0].c.evictions);		/* lfu */
	EXPECT_LT(k[2].c.evictions, k[0].c.evictions);		/* s3fifo */
	EXPECT_GT(hot, k[0].hot_local);		/* LRU lost some of it */
	EXPECT_EQ(hot, k[1].hot_local);
	EXPECT_EQ(hot, k[2].hot_local);
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
