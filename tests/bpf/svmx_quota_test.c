// SPDX-License-Identifier: GPL-2.0
/*
 * policy/quota.bpf.c: per-tenant shares of device memory.  Two tenants in
 * two cgroups share the 8 MiB device 0 (svmx.ko mem_mb=8, run by
 * tests/vm/guest-suites; skipped on bigger devices): tenant A streams over
 * 12 MiB in every round, tenant B re-reads a hot 2 MiB set.  Each tenant
 * is a child process that joined its cgroup and bound the device there;
 * the parent runs the rounds one tenant at a time through pipes and reads
 * what the children report through shared memory, the policy's maps and
 * debugfs cgroups.  Every device read's data is checked, and the CPU
 * reads all of it back at the end.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "svmx_helpers.h"
#include "svmx_cgroup.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "quota.skel.h"

#define MIB		(1UL << 20)
#define SMALL_DEV	(8 * MIB)
#define POLICY_FILE	SVMX_DEBUGFS "/policy"
#define BIG		(12 * MIB)	/* tenant A's stream */
#define HOT		(2 * MIB)	/* tenant B's hot set: one block */
#define MAX_ROUNDS	32

/* policy/quota.bpf.c's map values. */
struct quota_share {
	uint64_t weight;
	uint64_t bytes;
};

struct quota_tenant {
	uint64_t bytes[8];
	uint64_t pend[8];
	uint64_t share[8];
	uint64_t victims;
	uint64_t evicted_pages;
};






static long long policy_value(const char *line, const char *key)
{
	static char text[8192];

	if (read_text(POLICY_FILE, text, sizeof(text)))
		return -1;
	return value_in(text, line, key);
}



/* What a tenant reports, in memory shared with the parent. */
struct tenant_res {
	int err;			/* 0, or the step that failed */
	unsigned int rounds;
	long bad;			/* first bad byte of any read, or -1 */
	long cpu_bad;			/* first bad byte the CPU read back, or -1 */
	struct svmx_counters c;		/* summed over the rounds */
	unsigned long faults[MAX_ROUNDS];	/* of each round */
	unsigned long local[MAX_ROUNDS];	/* pages on the device before it */
};

/* A tenant: a child in a cgroup, bound to device 0, reading on command. */
struct tenant {
	pid_t pid;
	int cmd, done;			/* pipes: parent -> child, child -> parent */
	struct tenant_res *r;
};

static int tenant_loop(const char *cg, size_t size, uint64_t seed,
		       int cmd, int done, struct tenant_res *r)
{
	size_t ps = svmx_page_size(), n = size / ps;
	struct svmx_counters c;
	uint8_t *snap;
	char *mem, *buf, op;
	long bad;
	int fd;

	if (cg_enter(cg))
		return 1;
	fd = svmx_open_bound(0);
	if (fd < 0)
		return 2;
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	snap = malloc(n);
	if (!mem || !buf || !snap)
		return 3;
	svmx_pat_fill(mem, size, seed);
	r->bad = -1;
	r->cpu_bad = -1;
	while (read(cmd, &op, 1) == 1 && op == 'r') {
		if (r->rounds >= MAX_ROUNDS)
			return 4;
		if (svmx_snapshot(fd, mem, n, snap, NULL))
			return 5;
		r->local[r->rounds] = svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL);
		memset(buf, 0, size);
		if (svmx_exec1(fd, svmx_op_read(mem, size, buf), &c))
			return 6;
		bad = svmx_pat_check(buf, size, seed);
		if (bad != -1 && r->bad == -1)
			r->bad = bad;
		r->faults[r->rounds++] = c.faults;
		svmx_counters_add(&r->c, &c);
		if (write(done, "d", 1) != 1)
			return 7;
	}
	r->cpu_bad = svmx_pat_check(mem, size, seed);	/* CPU brings it back */
	munmap(mem, size);
	close(fd);
	return 0;
}

static int tenant_start(struct tenant *t, const char *cg, size_t size, uint64_t seed)
{
	int cmd[2], done[2];

	t->r = mmap(NULL, sizeof(*t->r), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t->r == MAP_FAILED || pipe(cmd) || pipe(done))
		return -1;
	memset(t->r, 0, sizeof(*t->r));
	t->pid = fork();
	if (t->pid < 0)
		return -1;
	if (!t->pid) {
		close(cmd[1]);
		close(done[0]);
		t->r->err = tenant_loop(cg, size, seed, cmd[0], done[1], t->r);
		_exit(0);
	}
	close(cmd[0]);
	close(done[1]);
	t->cmd = cmd[1];
	t->done = done[0];
	return 0;
}

/* One round of the tenant: a device read of all its data. */
static int tenant_round(struct tenant *t)
{
	char d;

	if (write(t->cmd, "r", 1) != 1 || read(t->done, &d, 1) != 1)
		return -1;
	return 0;
}

/* The tenant reads its data back on the CPU and exits. */
static int tenant_stop(struct tenant *t)
{
	int status;

	if (t->pid <= 0)
		return -1;
	/* A child that is gone already is reaped all the same. */
	if (write(t->cmd, "q", 1) != 1)
		t->r->err = t->r->err ?: 8;
	close(t->cmd);
	if (waitpid(t->pid, &status, 0) != t->pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	close(t->done);
	t->pid = 0;
	return 0;
}

static void tenant_free(struct tenant *t)
{
	if (t->r && t->r != MAP_FAILED)
		munmap(t->r, sizeof(*t->r));
}

/* @n rounds, B first in each: the hot set, then A's stream. */
static int rounds(struct tenant *a, struct tenant *b, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (tenant_round(b) || tenant_round(a))
			return -1;
	return 0;
}

static int tenant_get(struct pol_quota *skel, uint64_t cgid, struct quota_tenant *t)
{
	memset(t, 0, sizeof(*t));
	return bpf_map__lookup_elem(skel->maps.quota_tenants, &cgid, sizeof(cgid),
				    t, sizeof(*t), 0);
}

FIXTURE(quota)
{
	size_t ps;
	char cg[2][PATH_MAX];
	uint64_t id[2];		/* A, B */
	struct tenant t[2];
};

FIXTURE_SETUP(quota)
{
	struct svmx_stats st;
	char text[4096];
	int fd;

	self->ps = svmx_page_size();
	fd = svmx_open(0);
	if (fd < 0)
		SKIP(return, "/dev/svmx0 not present");
	if (svmx_get_stats(fd, &st) || st.mem_bytes > SMALL_DEV) {
		close(fd);
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	}
	close(fd);
	if (access(POLICY_FILE, R_OK))
		SKIP(return, "svmx.ko built without BPF policies");
	if (access(CG_ROOT "/cgroup.procs", W_OK))
		SKIP(return, "cgroup2 is not mounted on " CG_ROOT);
	ASSERT_EQ(0, read_text(POLICY_FILE, text, sizeof(text)));
	ASSERT_NE(NULL, strstr(text, "attached none"));
}

FIXTURE_TEARDOWN(quota)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (self->t[i].pid > 0) {
			kill(self->t[i].pid, SIGKILL);
			waitpid(self->t[i].pid, NULL, 0);
		}
		tenant_free(&self->t[i]);
		if (self->cg[i][0])
			rmdir(self->cg[i]);
	}
}

/* Fresh cgroups A and B, a tenant in each. */
static void tenants_start(struct __test_metadata *_metadata,
			  FIXTURE_DATA(quota) *self, const char *tag)
{
	char name[64];
	int i;

	for (i = 0; i < 2; i++) {
		if (self->t[i].pid > 0)
			continue;
		tenant_free(&self->t[i]);
		memset(&self->t[i], 0, sizeof(self->t[i]));
		if (self->cg[i][0])
			rmdir(self->cg[i]);
		snprintf(name, sizeof(name), "svmx_quota_%s_%c", tag, 'a' + i);
		ASSERT_EQ(0, cg_make(name, self->cg[i], PATH_MAX, &self->id[i]));
		ASSERT_EQ(0, tenant_start(&self->t[i], self->cg[i], i ? HOT : BIG,
					  100 + i));
	}
}

/* Both tenants read back on the CPU and exit; everything they read was right. */
static void tenants_stop(struct __test_metadata *_metadata, FIXTURE_DATA(quota) *self)
{
	int i;

	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, tenant_stop(&self->t[i])) TH_LOG("tenant %c", 'A' + i);
		EXPECT_EQ(0, self->t[i].r->err) TH_LOG("tenant %c", 'A' + i);
		EXPECT_EQ(-1, self->t[i].r->bad) TH_LOG("tenant %c", 'A' + i);
		EXPECT_EQ(-1, self->t[i].r->cpu_bad) TH_LOG("tenant %c", 'A' + i);
	}
}

/* Rounds of B that found its hot set on the device, from round @from on. */
static unsigned int hot_rounds(const struct tenant_res *r, unsigned int from,
			       unsigned int to, unsigned long hot)
{
	unsigned int i, n = 0;

	for (i = from; i < to; i++)
		n += r->local[i] == hot && !r->faults[i];
	return n;
}

#define ROUNDS	8

/* Figures of one run, for the log and the comparison. */
struct quota_run {
	struct svmx_counters a, b;
	long long cg_b_faults, cg_b_evictions, cg_b_to_device, cg_a_evictions;
	unsigned int b_hot;	/* rounds 1.. that found B's hot set resident */
};

static void run_record(FIXTURE_DATA(quota) *self, struct quota_run *k, unsigned long hot)
{
	k->a = self->t[0].r->c;
	k->b = self->t[1].r->c;
	k->cg_b_faults = cg_value(self->id[1], "faults");
	k->cg_b_evictions = cg_value(self->id[1], "evictions");
	k->cg_b_to_device = cg_value(self->id[1], "pages_to_device");
	k->cg_a_evictions = cg_value(self->id[0], "evictions");
	k->b_hot = hot_rounds(self->t[1].r, 1, ROUNDS, hot);
}

static void run_print(const char *what, const struct quota_run *k)
{
	ksft_print_msg("%-6s B: faults=%llu pages_to_device=%llu hot_rounds=%u/%u cgroup faults=%lld evictions=%lld pages_to_device=%lld; A: faults=%llu evictions=%llu cgroup evictions=%lld\n",
		       what, k->b.faults, k->b.pages_to_device, k->b_hot, ROUNDS - 1,
		       k->cg_b_faults, k->cg_b_evictions, k->cg_b_to_device,
		       k->a.faults, k->a.evictions, k->cg_a_evictions);
}

/*
 * The same rounds under the built-in LRU and under quota with equal
 * shares.  LRU: A's stream evicts B's hot block in every round, so B
 * faults it back every time.  quota: A holds more than its half of the
 * device and evicts its own blocks; B's hot set stays resident from the
 * second round on, B faults only in the first, none of its blocks is a
 * victim, and no eviction is charged to B.
 */
TEST_F(quota, equal_shares_keep_small_tenant_hot)
{
	unsigned long hot = HOT / self->ps;
	struct quota_tenant ta, tb;
	struct quota_run lru, q;
	struct pol_quota *skel;
	struct bpf_link *link;

	/* The built-in LRU. */
	tenants_start(_metadata, self, "lru");
	ASSERT_EQ(0, rounds(&self->t[0], &self->t[1], ROUNDS));
	run_record(self, &lru, hot);
	tenants_stop(_metadata, self);
	run_print("lru", &lru);

	/* quota, equal shares: nobody is in quota_shares, default weight 1. */
	skel = pol_quota__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.quota_ops);
	ASSERT_NE(NULL, link);
	tenants_start(_metadata, self, "q");
	ASSERT_EQ(0, rounds(&self->t[0], &self->t[1], ROUNDS));
	run_record(self, &q, hot);
	ASSERT_EQ(0, tenant_get(skel, self->id[0], &ta));
	ASSERT_EQ(0, tenant_get(skel, self->id[1], &tb));
	ksft_print_msg("quota  tenants: A resident=%llu victims=%llu evicted_pages=%llu; B resident=%llu victims=%llu evicted_pages=%llu; lru_fallbacks=%llu policy_victims=%lld lru_victims=%lld invalid=%lld\n",
		       (unsigned long long)ta.bytes[0], (unsigned long long)ta.victims,
		       (unsigned long long)ta.evicted_pages,
		       (unsigned long long)tb.bytes[0], (unsigned long long)tb.victims,
		       (unsigned long long)tb.evicted_pages,
		       (unsigned long long)skel->bss->quota_lru,
		       policy_value("  victims", "policy"), policy_value("  victims", "lru"),
		       policy_value("  evict ", "invalid"));
	/* The policy chose A's blocks; none invalid; B's one block stayed. */
	EXPECT_LT(0, policy_value("  victims", "policy"));
	EXPECT_EQ(0, policy_value("  evict ", "invalid"));
	EXPECT_EQ(0, q.a.policy_fallbacks + q.b.policy_fallbacks);
	EXPECT_EQ(HOT, tb.bytes[0]);
	EXPECT_EQ(SMALL_DEV / 2, tb.share[0]);	/* at the last eviction */
	EXPECT_EQ(SMALL_DEV / 2, ta.share[0]);
	EXPECT_EQ(SMALL_DEV - HOT, ta.bytes[0]);
	EXPECT_EQ(0, tb.victims);
	EXPECT_EQ(0, tb.evicted_pages);
	EXPECT_LT(0, ta.victims);
	EXPECT_EQ(q.a.evicted_pages, ta.evicted_pages);
	tenants_stop(_metadata, self);
	bpf_link__destroy(link);
	pol_quota__destroy(skel);
	run_print("quota", &q);

	/* LRU: B lost its hot set to A's stream in every round. */
	EXPECT_EQ(0, lru.b_hot);
	EXPECT_EQ(ROUNDS * hot, lru.b.pages_to_device);
	EXPECT_EQ(ROUNDS - 1, lru.cg_b_evictions);
	/* quota: B faulted in its first round only. */
	EXPECT_EQ(ROUNDS - 1, q.b_hot);
	EXPECT_EQ(hot, q.b.pages_to_device);
	EXPECT_EQ(self->t[1].r->faults[0], q.b.faults);
	EXPECT_EQ(q.b.faults, q.cg_b_faults);
	EXPECT_EQ(hot, q.cg_b_to_device);
	EXPECT_EQ(0, q.cg_b_evictions);
	EXPECT_LT(0, q.cg_a_evictions);
	EXPECT_GT(lru.b.faults, q.b.faults);
}

/*
 * A live change of quota_shares changes the victims: with equal shares B
 * keeps its hot block; B's share set to 1 MiB (bytes) puts it above its
 * share, so A's stream evicts B's block in every round (the policy's
 * victims, counted per tenant); deleting the entry gives B its half back
 * and it keeps its block again after one fault.
 */
TEST_F(quota, live_share_change_moves_victims)
{
	unsigned long hot = HOT / self->ps;
	struct quota_share small = { .bytes = MIB };
	struct quota_tenant t1, t2, t3;
	struct tenant_res *rb;
	struct pol_quota *skel;
	struct bpf_link *link;
	const unsigned int n = 4;
	uint64_t idb;

	skel = pol_quota__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.quota_ops);
	ASSERT_NE(NULL, link);
	tenants_start(_metadata, self, "live");
	idb = self->id[1];
	rb = self->t[1].r;

	/* Equal shares. */
	ASSERT_EQ(0, rounds(&self->t[0], &self->t[1], n));
	ASSERT_EQ(0, tenant_get(skel, idb, &t1));
	EXPECT_EQ(0, t1.victims);
	EXPECT_EQ(n - 1, hot_rounds(rb, 1, n, hot));

	/* B's share is 1 MiB: above it with its 2 MiB block. */
	ASSERT_EQ(0, bpf_map__update_elem(skel->maps.quota_shares, &idb, sizeof(idb),
					  &small, sizeof(small), BPF_ANY));
	ASSERT_EQ(0, rounds(&self->t[0], &self->t[1], n));
	ASSERT_EQ(0, tenant_get(skel, idb, &t2));
	/* Its block was resident in the first round, a victim after each. */
	EXPECT_EQ(n, t2.victims - t1.victims);
	EXPECT_EQ(n * hot, t2.evicted_pages - t1.evicted_pages);
	EXPECT_EQ(1, hot_rounds(rb, n, 2 * n, hot));
	EXPECT_EQ(hot, rb->local[n]);

	/* The entry deleted: the default weight, equal shares again. */
	ASSERT_EQ(0, bpf_map__delete_elem(skel->maps.quota_shares, &idb, sizeof(idb), 0));
	ASSERT_EQ(0, rounds(&self->t[0], &self->t[1], n));
	ASSERT_EQ(0, tenant_get(skel, idb, &t3));
	EXPECT_EQ(0, rb->local[2 * n]);		/* evicted in the last round */
	EXPECT_EQ(n - 1, hot_rounds(rb, 2 * n + 1, 3 * n, hot));
	EXPECT_EQ(t2.victims, t3.victims);

	ksft_print_msg("B victims by phase (equal, 1 MiB, equal): %llu %llu %llu; B hot rounds %u/%u %u/%u %u/%u; invalid=%lld\n",
		       (unsigned long long)t1.victims,
		       (unsigned long long)(t2.victims - t1.victims),
		       (unsigned long long)(t3.victims - t2.victims),
		       hot_rounds(rb, 0, n, hot), n, hot_rounds(rb, n, 2 * n, hot), n,
		       hot_rounds(rb, 2 * n, 3 * n, hot), n,
		       policy_value("  evict ", "invalid"));
	EXPECT_EQ(0, policy_value("  evict ", "invalid"));
	tenants_stop(_metadata, self);
	bpf_link__destroy(link);
	pol_quota__destroy(skel);
}

TEST_HARNESS_MAIN
