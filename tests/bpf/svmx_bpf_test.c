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

#include <bpf/btf.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#include "adaptive.skel.h"
#include "bad_sleep.skel.h"
#include "bad_write.skel.h"
#include "ctxcopy.skel.h"
#include "default.skel.h"
#include "density.skel.h"
#include "error.skel.h"
#include "evict.skel.h"
#include "foreign.skel.h"
#include "invalid.skel.h"
#include "notify.skel.h"
#include "pfcheck.skel.h"
#include "prefetch.skel.h"
#include "stride.skel.h"
#include "sysmem.skel.h"
#include "thrash.skel.h"

#define MIB		(1UL << 20)
#ifndef SZ_1M
#define SZ_1M		MIB
#endif
#define POLICY_FILE	SVMX_DEBUGFS "/policy"
#define BUDGET_FILE	"/sys/module/svmx/parameters/bpf_invalid_budget"
#define WINDOW_FILE	"/sys/module/svmx/parameters/bpf_invalid_window_ms"
#define EJECT_POLLS	3000	/* x 10 ms: a generous bound, fails loudly */

/* Values of enum svmx_exit_kind (kernel/svmx_bpf.h). */
#define EXIT_ERROR	3

/*
 * The fault side's context layouts as the kernel has them (kernel/svmx.h,
 * kernel/svmx_bpf.h).  check_layout() compares each against the BTF the
 * test policies were built with (svmx.ko's), member by member, so that
 * the byte copies the policies make are read at the right offsets.
 */
enum { ACCESS_READ, ACCESS_WRITE, ACCESS_ATOMIC };
enum { PLACE_MIGRATE, PLACE_REMOTE };
enum { DIR_TO_DEVICE, DIR_TO_SYSTEM };
enum { VMA_ANON, VMA_SHARED, VMA_FILE };
#define MAX_DEVICES	8
#define REGION_PAGES	512

struct t_residency {
	uint32_t local, system, unmapped, peer[MAX_DEVICES];
};

struct t_fault_info {
	uint32_t dev, access;
	uint64_t addr, vma_start, vma_end;
	uint32_t batch_faults, region_pingpong, region_device_faults, region_cpu_faults;
	uint32_t preferred, accessed_by, read_mostly, hive_mask;
	uint64_t dev_free_bytes, dev_total_bytes;
	uint32_t vma_kind;
	struct t_residency region;
	int32_t dev_free_order;
	uint64_t peer_free_bytes[MAX_DEVICES];
	int32_t peer_free_order[MAX_DEVICES];
	uint64_t ctx_handle, cgroup_id, batch_id;
	uint32_t batch_index;
};

struct t_cpu_fault_info {
	uint32_t dev;
	uint64_t addr, vma_start, vma_end;
	uint32_t region_pingpong, access, region_device_faults, region_cpu_faults;
	uint64_t ctx_handle;
};

struct t_fault_done {
	uint32_t dev, access;
	uint64_t addr, ctx_handle;
	uint32_t placement, target, asked_order;
	int32_t got_order;
	uint32_t overridden, pages_migrated, prefetch_pages, prefetch_refused,
		 prefetch_clipped;
	int32_t ret;
};

struct t_region_info {
	uint64_t start;
	uint32_t device_faults, cpu_faults, pingpong, resident_valid;
	struct t_residency res;
};

struct t_member {
	const char *name;
	size_t off;
};

#define M(type, f)	{ #f, offsetof(type, f) }

static const struct t_member fault_info_members[] = {
	M(struct t_fault_info, dev), M(struct t_fault_info, access),
	M(struct t_fault_info, addr), M(struct t_fault_info, vma_start),
	M(struct t_fault_info, vma_end), M(struct t_fault_info, batch_faults),
	M(struct t_fault_info, region_pingpong),
	M(struct t_fault_info, region_device_faults),
	M(struct t_fault_info, region_cpu_faults), M(struct t_fault_info, preferred),
	M(struct t_fault_info, accessed_by), M(struct t_fault_info, read_mostly),
	M(struct t_fault_info, hive_mask), M(struct t_fault_info, dev_free_bytes),
	M(struct t_fault_info, dev_total_bytes), M(struct t_fault_info, vma_kind),
	M(struct t_fault_info, region), M(struct t_fault_info, dev_free_order),
	M(struct t_fault_info, peer_free_bytes),
	M(struct t_fault_info, peer_free_order), M(struct t_fault_info, ctx_handle),
	M(struct t_fault_info, cgroup_id), M(struct t_fault_info, batch_id),
	M(struct t_fault_info, batch_index),
	{ NULL, sizeof(struct t_fault_info) },
};

static const struct t_member cpu_fault_info_members[] = {
	M(struct t_cpu_fault_info, dev), M(struct t_cpu_fault_info, addr),
	M(struct t_cpu_fault_info, vma_start), M(struct t_cpu_fault_info, vma_end),
	M(struct t_cpu_fault_info, region_pingpong), M(struct t_cpu_fault_info, access),
	M(struct t_cpu_fault_info, region_device_faults),
	M(struct t_cpu_fault_info, region_cpu_faults),
	M(struct t_cpu_fault_info, ctx_handle),
	{ NULL, sizeof(struct t_cpu_fault_info) },
};

static const struct t_member fault_done_members[] = {
	M(struct t_fault_done, dev), M(struct t_fault_done, access),
	M(struct t_fault_done, addr), M(struct t_fault_done, ctx_handle),
	M(struct t_fault_done, placement), M(struct t_fault_done, target),
	M(struct t_fault_done, asked_order), M(struct t_fault_done, got_order),
	M(struct t_fault_done, overridden), M(struct t_fault_done, pages_migrated),
	M(struct t_fault_done, prefetch_pages), M(struct t_fault_done, prefetch_refused),
	M(struct t_fault_done, prefetch_clipped), M(struct t_fault_done, ret),
	{ NULL, sizeof(struct t_fault_done) },
};

static const struct t_member residency_members[] = {
	M(struct t_residency, local), M(struct t_residency, system),
	M(struct t_residency, unmapped), M(struct t_residency, peer),
	{ NULL, sizeof(struct t_residency) },
};

static const struct t_member region_info_members[] = {
	M(struct t_region_info, start), M(struct t_region_info, device_faults),
	M(struct t_region_info, cpu_faults), M(struct t_region_info, pingpong),
	M(struct t_region_info, resident_valid), M(struct t_region_info, res),
	{ NULL, sizeof(struct t_region_info) },
};

/*
 * Mismatches between @want (its NULL-named entry: the size) and struct
 * @name in @btf; members the test does not know may follow.
 */
static int check_layout(struct __test_metadata *_metadata, const struct btf *btf,
			const char *name, const struct t_member *want)
{
	int id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT), bad = 0, i, j;
	const struct btf_type *t;

	if (id < 0) {
		TH_LOG("struct %s not in the policy's BTF", name);
		return 1;
	}
	t = btf__type_by_id(btf, id);
	for (i = 0; want[i].name; i++) {
		const struct btf_member *m = btf_members(t);

		for (j = 0; j < btf_vlen(t); j++, m++)
			if (!strcmp(btf__name_by_offset(btf, m->name_off), want[i].name))
				break;
		if (j == btf_vlen(t) || btf_member_bit_offset(t, j) / 8 != want[i].off) {
			TH_LOG("%s.%s: not at offset %zu", name, want[i].name, want[i].off);
			bad++;
		}
	}
	/* Containers grow at their end: what the test knows is a prefix. */
	if (t->size < want[i].off) {
		TH_LOG("struct %s: %u bytes, the test knows %zu", name, t->size, want[i].off);
		bad++;
	}
	return bad;
}

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

/* Occurrences of @what in @s. */
static int count_str(const char *s, const char *what)
{
	int n = 0;

	while (s && (s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* Where the last workload() mapped its memory (its trace is relative to it). */
static uintptr_t workload_base;

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
	workload_base = (uintptr_t)mem;
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

/*
 * The svmx:svmx_policy lines of the trace buffer, one per decision, with
 * what differs between two identical runs taken out: the task, CPU and
 * time prefix, the policy's name, and the memory's address (an address in
 * [@base, @base + @size) becomes its offset).  NULL when tracefs cannot
 * be read.
 */
static char *policy_decisions(uintptr_t base, size_t size)
{
	char *trace = svmx_read_trace(), *out, *o, *line, *save = NULL;
	size_t cap;

	if (!trace)
		return NULL;
	cap = strlen(trace) + 1;
	out = calloc(1, cap);
	o = out;
	for (line = strtok_r(trace, "\n", &save); out && line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *p = strstr(line, "svmx_policy: "), *pol, *addr, *rest;
		unsigned long a;

		if (!p)
			continue;
		p += strlen("svmx_policy: ");
		pol = strstr(p, " policy=");
		addr = strstr(p, " addr=0x");
		if (!pol || !addr || addr < pol)
			continue;
		a = strtoul(addr + strlen(" addr=0x"), &rest, 16);
		if (a >= base && a < base + size)
			a -= base;
		o += sprintf(o, "%.*s addr=+0x%lx%s\n", (int)(pol - p), p, a, rest);
	}
	free(trace);
	return out;
}

/*
 * The BPF twin of the default decides exactly as the built-in one: the
 * same counters, and the same trace of decisions (svmx:svmx_policy, the
 * policy's name taken out).
 */
TEST_F(bpf, default_twin_same_counters)
{
	const char *enable = TRACEFS "/events/svmx/svmx_policy/enable";
	size_t size = 8 * MIB;
	struct svmx_counters builtin, twin;
	char *builtin_trace = NULL, *twin_trace = NULL;
	struct pol_default *skel;
	struct bpf_link *link;
	bool tracing;

	tracing = !svmx_write_file(TRACEFS "/trace", "") && !write_file(enable, "1");
	workload(_metadata, self->fd, size, 3, &builtin, NULL);
	if (tracing)
		builtin_trace = policy_decisions(workload_base, size);
	skel = pol_default__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.default_ops);
	ASSERT_NE(NULL, link);
	if (tracing)
		ASSERT_EQ(0, svmx_write_file(TRACEFS "/trace", ""));
	workload(_metadata, self->fd, size, 3, &twin, NULL);
	if (tracing) {
		twin_trace = policy_decisions(workload_base, size);
		write_file(enable, "0");
	}
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
	if (!tracing)
		SKIP(return, "no tracefs: decisions not compared");
	ASSERT_NE(NULL, builtin_trace);
	ASSERT_NE(NULL, twin_trace);
	/* A fault per 2 MiB chunk, and the CPU faults that bring chunks back. */
	EXPECT_LE(4, count_str(builtin_trace, "hook=fault "));
	EXPECT_LT(0, count_str(builtin_trace, "hook=cpu_fault "));
	EXPECT_STREQ(builtin_trace, twin_trace);
	free(builtin_trace);
	free(twin_trace);
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

/* Knobs of tests/bpf/prefetch.bpf.c and what a run of it must show. */
struct prefetch_case {
	bool misalign;
	int order, target;		/* -1: the default's */
	unsigned long want_local;	/* pages on the device after the read */
	unsigned long want_blocks;	/* device blocks the read made */
};

/*
 * One device read in the first chunk of 8 MiB: the prefetch policy brings
 * the second chunk too, in blocks of the order it asks; with misaligned
 * ranges or an unreachable target the kernel rejects the answer and only
 * the fault's chunk moves.
 */
static void prefetch_run(struct __test_metadata *_metadata, int fd,
			 const struct prefetch_case *pc)
{
	bool invalid = pc->want_local == SZ_2M / svmx_page_size();
	struct svmx_stats s0, s1;
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
	skel->rodata->misalign = pc->misalign;
	skel->rodata->order = pc->order;
	skel->rodata->target = pc->target;
	ASSERT_EQ(0, pol_prefetch__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.prefetch_ops);
	ASSERT_NE(NULL, link);

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 11);
	ASSERT_EQ(0, svmx_get_stats(fd, &s0));
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, 8, &word), &c));
	ASSERT_EQ(0, svmx_get_stats(fd, &s1));
	EXPECT_EQ(svmx_pat(11, 0), word);
	EXPECT_EQ(pc->want_local, c.pages_to_device);
	EXPECT_EQ(pc->want_blocks, s1.blocks - s0.blocks);
	ASSERT_EQ(0, svmx_snapshot(fd, mem, n, snap, NULL));
	EXPECT_EQ(pc->want_local, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(1, report_value("  prefetch", "calls"));
	EXPECT_EQ(invalid ? 1 : 0, report_value("  prefetch", "invalid"));
	EXPECT_EQ(invalid ? 1 : 0, c.policy_fallbacks);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("prefetch", &c);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 11));	/* CPU brings all back */
	bpf_link__destroy(link);
	pol_prefetch__destroy(skel);
	munmap(mem, size);
	free(snap);
}

/* A BPF prefetch answer migrates the range it names, in 2 MiB chunks. */
TEST_F(bpf, prefetch_next_chunk)
{
	struct prefetch_case pc = { .order = -1, .target = -1,
				    .want_local = 2 * SZ_2M / self->ps,
				    .want_blocks = 2 };

	prefetch_run(_metadata, self->fd, &pc);
}

/* The prefetch's chunk order is the policy's: 64 KiB blocks here. */
TEST_F(bpf, prefetch_chunk_order_is_policys)
{
	struct prefetch_case pc = { .order = 4, .target = -1,
				    .want_local = 2 * SZ_2M / self->ps,
				    .want_blocks = 1 + SZ_2M / (16 * self->ps) };

	prefetch_run(_metadata, self->fd, &pc);
}

/* A misaligned prefetch range is rejected: counted, nothing prefetched. */
TEST_F(bpf, prefetch_invalid_range_falls_back)
{
	struct prefetch_case pc = { .misalign = true, .order = -1, .target = -1,
				    .want_local = SZ_2M / self->ps,
				    .want_blocks = 1 };

	prefetch_run(_metadata, self->fd, &pc);
}

/*
 * A prefetch target outside the faulting device's hive (this stage has
 * no hive) or an order above 2 MiB is rejected like a bad range.
 */
TEST_F(bpf, prefetch_unreachable_target_or_order_falls_back)
{
	struct prefetch_case pc = { .order = -1, .target = 7, /* no device 7 */
				    .want_local = SZ_2M / self->ps,
				    .want_blocks = 1 };

	prefetch_run(_metadata, self->fd, &pc);
	pc.target = -1;
	pc.order = 10;
	prefetch_run(_metadata, self->fd, &pc);
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
			/* The trace names the policy that proposed. */
			snprintf(want, sizeof(want),
				 "svmx_evict_reject: dev=0 policy=test_evict handle=0x");
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
	/* A pass reads each page once: at most one touch per evicted page. */
	EXPECT_LT(0, skel->bss->evicted_touches);
	EXPECT_GE(sum.evicted_pages, skel->bss->evicted_touches);
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
 * Touches count every page-sized piece of device work instead: the six
 * reads are 6 x 512 of them, none from the migration that filled the
 * block, and an access event carries the count svmx_bpf_block_info()
 * reads.
 */
TEST_F(bpf, evict_access_once_per_epoch)
{
	size_t pages = SZ_2M / svmx_page_size();
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
	EXPECT_EQ(0, skel->bss->access_touches_mismatch);
	munmap(mem, SZ_2M);
	EXPECT_EQ(1, skel->bss->frees);
	EXPECT_EQ(6 * pages, skel->bss->free_touches);
	bpf_link__destroy(link);
	pol_notify__destroy(skel);
	free(buf);
}

/*
 * The cgroup (v2) id of this process: the inode number of its directory
 * under the cgroup2 mount the guest has at /sys/fs/cgroup.
 */
static uint64_t self_cgroup_id(void)
{
	char line[PATH_MAX], path[PATH_MAX + 32];
	struct stat st;
	FILE *f = fopen("/proc/self/cgroup", "r");
	uint64_t id = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		snprintf(path, sizeof(path), "/sys/fs/cgroup%s", line + 3);
		if (!stat(path, &st))
			id = st.st_ino;
	}
	fclose(f);
	return id;
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
	EXPECT_NE(0, skel->bss->bi_cgroup_id);
	EXPECT_EQ(self_cgroup_id(), skel->bss->bi_cgroup_id);
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

/* ---------------------------------------------------------------------
 * The fault side of the interface: contexts, notifications, kfunc
 */

#define LOC_NONE	0xfffffffdu	/* kernel/svmx.h SVMX_LOC_NONE */

/* Copy slot @i of a byte array the test policy filled into *@dst. */
#define SLOT(arr, i, dst)	memcpy((dst), (arr)[i], sizeof(*(dst)))

static void expect_free_fields(struct __test_metadata *_metadata,
			       const struct t_fault_info *f)
{
	int i;

	EXPECT_EQ(f->dev_free_bytes, f->peer_free_bytes[f->dev]);
	EXPECT_EQ(f->dev_free_order, f->peer_free_order[f->dev]);
	for (i = 0; i < MAX_DEVICES; i++) {
		if (i == (int)f->dev)
			continue;
		if (f->hive_mask & (1u << i)) {
			EXPECT_LT(0, f->peer_free_bytes[i]) TH_LOG("peer %d", i);
			EXPECT_LE(0, f->peer_free_order[i]) TH_LOG("peer %d", i);
		} else {
			EXPECT_EQ(0, f->peer_free_bytes[i]) TH_LOG("device %d", i);
			EXPECT_EQ(-1, f->peer_free_order[i]) TH_LOG("device %d", i);
		}
	}
}

static void expect_residency(struct __test_metadata *_metadata,
			     const struct t_residency *r, uint32_t local,
			     uint32_t system, const char *what)
{
	int i;

	EXPECT_EQ(local, r->local) TH_LOG("%s", what);
	EXPECT_EQ(system, r->system) TH_LOG("%s", what);
	EXPECT_EQ(REGION_PAGES - local - system, r->unmapped) TH_LOG("%s", what);
	for (i = 0; i < MAX_DEVICES; i++)
		EXPECT_EQ(0, r->peer[i]) TH_LOG("%s: peer %d", what, i);
}

/*
 * Every field of the fault, cpu_fault and fault_done contexts, and
 * svmx_bpf_region_info(), is what the kernel did: five device faults and
 * two CPU faults on two 2 MiB regions, each copied by the test policy.
 */
TEST_F(bpf, fault_ctx_fields_match_kernel)
{
	size_t ps = self->ps, size = 4 * MIB;
	uint64_t word, val = 0x5eed5eed, free0, total, copy0;
	struct t_cpu_fault_info ci[2];
	struct t_fault_info fi[5];
	struct t_fault_done fd[5];
	struct t_region_info ri;
	struct svmx_stats st0, st1;
	struct pol_ctxcopy *skel;
	struct bpf_link *link;
	const struct btf *btf;
	char *mem, *want;
	int i;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	want = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, want);
	svmx_pat_fill(mem, size, 21);
	svmx_pat_fill(want, size, 21);
	skel = pol_ctxcopy__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->order = 4;
	skel->rodata->remote_from = (uintptr_t)mem + SZ_2M;
	skel->rodata->remote_to = (uintptr_t)mem + size;
	ASSERT_EQ(0, pol_ctxcopy__load(skel));
	btf = bpf_object__btf(skel->obj);
	ASSERT_NE(NULL, btf);
	EXPECT_EQ(0, check_layout(_metadata, btf, "svmx_fault_info", fault_info_members));
	EXPECT_EQ(0, check_layout(_metadata, btf, "svmx_residency", residency_members));
	EXPECT_EQ(0, check_layout(_metadata, btf, "svmx_cpu_fault_info",
				  cpu_fault_info_members));
	EXPECT_EQ(0, check_layout(_metadata, btf, "svmx_fault_done", fault_done_members));
	EXPECT_EQ(0, check_layout(_metadata, btf, "svmx_region_info", region_info_members));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st0));
	total = st0.mem_bytes;
	free0 = st0.mem_bytes - st0.mem_used_bytes;
	link = bpf_map__attach_struct_ops(skel->maps.ctxcopy_ops);
	ASSERT_NE(NULL, link);

	/* F0: device read of region 0, page 0: 16 pages migrate. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, 8, &word), NULL));
	EXPECT_EQ(svmx_pat(21, 0), word);
	/* F1: device write of region 1, page 3: mapped remotely (the knob). */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem + SZ_2M + 3 * ps, 8, &val),
				NULL));
	memcpy(want + SZ_2M + 3 * ps, &val, 8);
	/* F2: device read of region 1, page 100: remote again. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem + SZ_2M + 100 * ps, 8, &word),
				NULL));
	EXPECT_EQ(svmx_pat(21, (SZ_2M + 100 * ps) / 8), word);
	/* F3: device read of region 0, page 20: 16 more pages migrate. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem + 20 * ps, 8, &word), NULL));
	EXPECT_EQ(svmx_pat(21, 20 * ps / 8), word);
	/* C0: CPU write of region 0, page 5: the region comes back. */
	*(volatile uint64_t *)(mem + 5 * ps) = val;
	memcpy(want + 5 * ps, &val, 8);
	/* F4: device read of region 0, page 0 again; C1: CPU read of it. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, 8, &word), NULL));
	EXPECT_EQ(svmx_pat(21, 0), word);
	EXPECT_EQ(svmx_pat(21, 0), *(volatile uint64_t *)mem);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st1));
	bpf_link__destroy(link);

	ASSERT_EQ(5, skel->bss->nr_faults);
	ASSERT_EQ(2, skel->bss->nr_cpu);
	ASSERT_EQ(5, skel->bss->nr_done);
	for (i = 0; i < 5; i++) {
		SLOT(skel->bss->fault_raw, i, &fi[i]);
		SLOT(skel->bss->done_raw, i, &fd[i]);
		EXPECT_EQ(0, fi[i].dev);
		EXPECT_EQ((uintptr_t)mem, fi[i].vma_start);
		EXPECT_EQ((uintptr_t)mem + size, fi[i].vma_end);
		EXPECT_EQ(1, fi[i].batch_faults);
		/* one EXEC, one fault, one batch each: ids grow, index 0 */
		EXPECT_EQ(0, fi[i].batch_index);
		EXPECT_NE(0, fi[i].batch_id);
		if (i)
			EXPECT_LT(fi[i - 1].batch_id, fi[i].batch_id);
		EXPECT_EQ(LOC_NONE, fi[i].preferred);
		EXPECT_EQ(0, fi[i].accessed_by);
		EXPECT_EQ(0, fi[i].read_mostly);
		EXPECT_EQ(total, fi[i].dev_total_bytes);
		EXPECT_EQ(VMA_ANON, fi[i].vma_kind);
		EXPECT_NE(0, fi[i].ctx_handle);
		EXPECT_EQ(fi[0].ctx_handle, fi[i].ctx_handle);
		expect_free_fields(_metadata, &fi[i]);
		if (!st0.mem_used_bytes)	/* an empty device has a free 2 MiB */
			EXPECT_EQ(9, fi[i].dev_free_order) TH_LOG("fault %d", i);
		EXPECT_EQ(-ENOENT, skel->bss->bogus_ret[i]);
		EXPECT_EQ(0, skel->bss->rinfo_ret[i]);
		/* fault_done: the same fault, what became of it */
		EXPECT_EQ(0, fd[i].dev);
		EXPECT_EQ(fi[i].addr, fd[i].addr);
		EXPECT_EQ(fi[i].access, fd[i].access);
		EXPECT_EQ(fi[i].ctx_handle, fd[i].ctx_handle);
		EXPECT_EQ(4, fd[i].asked_order);
		EXPECT_EQ(0, fd[i].overridden);
		EXPECT_EQ(0, fd[i].prefetch_pages);
		EXPECT_EQ(0, fd[i].prefetch_refused);
		EXPECT_EQ(0, fd[i].prefetch_clipped);
		EXPECT_EQ(0, fd[i].ret);
	}
	/* Addresses, access types, history, residency, free memory. */
	EXPECT_EQ((uintptr_t)mem, fi[0].addr);
	EXPECT_EQ(ACCESS_READ, fi[0].access);
	EXPECT_EQ(0, fi[0].region_device_faults);
	expect_residency(_metadata, &fi[0].region, 0, 0, "F0");
	EXPECT_EQ(free0, fi[0].dev_free_bytes);

	EXPECT_EQ((uintptr_t)mem + SZ_2M + 3 * ps, fi[1].addr);
	EXPECT_EQ(ACCESS_WRITE, fi[1].access);
	EXPECT_EQ(0, fi[1].region_device_faults);
	expect_residency(_metadata, &fi[1].region, 0, 0, "F1");
	EXPECT_EQ(free0 - 16 * ps, fi[1].dev_free_bytes);

	EXPECT_EQ((uintptr_t)mem + SZ_2M + 100 * ps, fi[2].addr);
	EXPECT_EQ(ACCESS_READ, fi[2].access);
	EXPECT_EQ(1, fi[2].region_device_faults);
	expect_residency(_metadata, &fi[2].region, 0, 16, "F2");

	EXPECT_EQ((uintptr_t)mem + 20 * ps, fi[3].addr);
	EXPECT_EQ(1, fi[3].region_device_faults);
	EXPECT_EQ(0, fi[3].region_cpu_faults);
	EXPECT_EQ(0, fi[3].region_pingpong);
	expect_residency(_metadata, &fi[3].region, 16, 0, "F3");
	EXPECT_EQ(free0 - 16 * ps, fi[3].dev_free_bytes);

	EXPECT_EQ((uintptr_t)mem, fi[4].addr);
	EXPECT_EQ(2, fi[4].region_device_faults);
	EXPECT_EQ(1, fi[4].region_cpu_faults);
	EXPECT_EQ(1, fi[4].region_pingpong);
	expect_residency(_metadata, &fi[4].region, 0, 0, "F4");
	EXPECT_EQ(free0, fi[4].dev_free_bytes);

	/* svmx_bpf_region_info() agrees with the fault context. */
	for (i = 0; i < 5; i++) {
		SLOT(skel->bss->rinfo_raw, i, &ri);
		EXPECT_EQ(fi[i].addr & ~(uint64_t)(SZ_2M - 1), ri.start);
		EXPECT_EQ(fi[i].region_device_faults, ri.device_faults);
		EXPECT_EQ(fi[i].region_cpu_faults, ri.cpu_faults);
		EXPECT_EQ(fi[i].region_pingpong, ri.pingpong);
		EXPECT_EQ(1, ri.resident_valid);
		EXPECT_EQ(0, memcmp(&ri.res, &fi[i].region, sizeof(ri.res)))
			TH_LOG("fault %d", i);
	}

	/* fault_done: placement and the chunk each fault got. */
	EXPECT_EQ(PLACE_MIGRATE, fd[0].placement);
	EXPECT_EQ(4, fd[0].got_order);
	EXPECT_EQ(16, fd[0].pages_migrated);
	for (i = 1; i <= 2; i++) {
		EXPECT_EQ(PLACE_REMOTE, fd[i].placement);
		EXPECT_EQ(-1, fd[i].got_order);
		EXPECT_EQ(0, fd[i].pages_migrated);
	}
	for (i = 3; i <= 4; i++) {
		EXPECT_EQ(PLACE_MIGRATE, fd[i].placement);
		EXPECT_EQ(4, fd[i].got_order);
		EXPECT_EQ(16, fd[i].pages_migrated);
	}

	/* cpu_fault: access type and the region's history. */
	SLOT(skel->bss->cpu_raw, 0, &ci[0]);
	SLOT(skel->bss->cpu_raw, 1, &ci[1]);
	for (i = 0; i < 2; i++) {
		EXPECT_EQ(0, ci[i].dev);
		EXPECT_EQ((uintptr_t)mem, ci[i].vma_start);
		EXPECT_EQ((uintptr_t)mem + size, ci[i].vma_end);
		EXPECT_EQ(fi[0].ctx_handle, ci[i].ctx_handle);
	}
	EXPECT_EQ((uintptr_t)mem + 5 * ps, ci[0].addr);
	EXPECT_EQ(ACCESS_WRITE, ci[0].access);
	EXPECT_EQ(2, ci[0].region_device_faults);
	EXPECT_EQ(1, ci[0].region_cpu_faults);
	EXPECT_EQ(0, ci[0].region_pingpong);
	EXPECT_EQ((uintptr_t)mem, ci[1].addr);
	EXPECT_EQ(ACCESS_READ, ci[1].access);
	EXPECT_EQ(3, ci[1].region_device_faults);
	EXPECT_EQ(2, ci[1].region_cpu_faults);
	EXPECT_EQ(2, ci[1].region_pingpong);

	/* migrate_done adds up to the binding's counters. */
	EXPECT_EQ(48, skel->bss->mig_pages[DIR_TO_DEVICE]);
	EXPECT_EQ(st1.ctx.pages_to_device - st0.ctx.pages_to_device,
		  skel->bss->mig_pages[DIR_TO_DEVICE]);
	EXPECT_EQ(st1.ctx.pages_to_system - st0.ctx.pages_to_system,
		  skel->bss->mig_pages[DIR_TO_SYSTEM]);
	EXPECT_EQ(st1.ctx.bytes_to_device - st0.ctx.bytes_to_device,
		  skel->bss->mig_bytes[DIR_TO_DEVICE]);
	EXPECT_EQ(st1.ctx.bytes_to_system - st0.ctx.bytes_to_system,
		  skel->bss->mig_bytes[DIR_TO_SYSTEM]);
	copy0 = skel->bss->mig_copy_cmds[0] + skel->bss->mig_copy_cmds[1];
	EXPECT_EQ(st1.ctx.copy_cmds - st0.ctx.copy_cmds, copy0);
	EXPECT_LT(0, skel->bss->mig_ns[DIR_TO_DEVICE]);
	EXPECT_EQ(0, memcmp(want, mem, size));
	pol_ctxcopy__destroy(skel);
	munmap(mem, size);
	free(want);
}

/*
 * batch_id and batch_index: one ATOMIC_ADD over four 2 MiB chunks faults
 * in one batch of four (one id, indices 0..3 in address order); a later
 * EXEC's fault is a batch of its own with a larger id.  Data checked.
 */
TEST_F(bpf, fault_ctx_batch_id_and_index)
{
	size_t size = 8 * MIB, stride = SZ_2M;
	struct t_fault_info fi[5];
	struct pol_ctxcopy *skel;
	struct bpf_link *link;
	uint64_t *w;
	char *mem;
	int i;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	memset(mem, 0, size);
	skel = pol_ctxcopy__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.ctxcopy_ops);
	ASSERT_NE(NULL, link);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_atomic(mem, 4, stride, 3), NULL));
	/* mapped now: neither the second EXEC nor the FILL faults */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_atomic(mem + 8, 4, stride, 4), NULL));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(mem, 8, 7), NULL));
	EXPECT_EQ(4, skel->bss->nr_faults);
	/* back to system memory: the next FILL faults, alone in its batch */
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SYSTEM, NULL));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(mem + stride, 8, 9), NULL));
	bpf_link__destroy(link);
	ASSERT_EQ(5, skel->bss->nr_faults);

	for (i = 0; i < 5; i++)
		SLOT(skel->bss->fault_raw, i, &fi[i]);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(4, fi[i].batch_faults) TH_LOG("fault %d", i);
		EXPECT_EQ(i, fi[i].batch_index) TH_LOG("fault %d", i);
		EXPECT_EQ(fi[0].batch_id, fi[i].batch_id) TH_LOG("fault %d", i);
		EXPECT_EQ((uintptr_t)mem + i * stride, fi[i].addr);
	}
	EXPECT_NE(0, fi[0].batch_id);
	EXPECT_EQ(1, fi[4].batch_faults);
	EXPECT_EQ(0, fi[4].batch_index);
	EXPECT_LT(fi[0].batch_id, fi[4].batch_id);
	EXPECT_EQ((uintptr_t)mem + stride, fi[4].addr);

	w = (uint64_t *)mem;
	EXPECT_EQ(7, w[0]);
	EXPECT_EQ(4, w[1]);
	for (i = 1; i < 4; i++) {
		w = (uint64_t *)(mem + i * stride);
		EXPECT_EQ(i == 1 ? 9 : 3, w[0]) TH_LOG("chunk %d", i);
		EXPECT_EQ(4, w[1]) TH_LOG("chunk %d", i);
	}
	pol_ctxcopy__destroy(skel);
	munmap(mem, size);
}

/* Fault injection (kernel/svmx_devmem.c), confined to this thread. */
static int fail_knob(const char *attr, const char *knob, long val)
{
	char path[160], v[32];

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/%s/%s", attr, knob);
	snprintf(v, sizeof(v), "%ld", val);
	return write_file(path, v);
}

static int fail_arm(const char *attr, long times)
{
	char path[160];
	int ret;

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/%s/task-filter", attr);
	ret = write_file(path, "Y");
	ret = ret ?: fail_knob(attr, "verbose", 0);
	ret = ret ?: fail_knob(attr, "interval", 1);
	ret = ret ?: fail_knob(attr, "space", 0);
	ret = ret ?: fail_knob(attr, "times", times);
	return ret ?: fail_knob(attr, "probability", 100);
}

static void fail_disarm(const char *attr)
{
	fail_knob(attr, "probability", 0);
	fail_knob(attr, "times", 1);
}

/*
 * The chunk fallback ladder reports to the policy: with the first k
 * block reservations failing, a 2 MiB fault gets 64 KiB, one page, or
 * nothing (mapped in place), and fault_done says which.
 */
TEST_F(bpf, fault_done_reports_ladder)
{
	static const int want_order[] = { 9, 4, 0, -1 };
	static const uint32_t want_pages[] = { 512, 16, 1, 0 };
	size_t size = 8 * MIB;
	struct pol_ctxcopy *skel;
	struct t_fault_done fd;
	struct bpf_link *link;
	uint64_t word;
	char *mem;
	int k;

	if (access(SVMX_DEBUGFS "/fail_block_alloc/probability", W_OK))
		SKIP(return, "no svmx fault-injection attributes");
	ASSERT_EQ(0, write_file("/proc/thread-self/make-it-fail", "1"));
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 22);
	skel = pol_ctxcopy__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.ctxcopy_ops);
	ASSERT_NE(NULL, link);
	for (k = 0; k < 4; k++) {
		if (k)
			ASSERT_EQ(0, fail_arm("fail_block_alloc", k));
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem + k * SZ_2M, 8, &word),
					NULL));
		fail_disarm("fail_block_alloc");
		EXPECT_EQ(svmx_pat(22, k * SZ_2M / 8), word);
		ASSERT_EQ(k + 1, skel->bss->nr_done);
		SLOT(skel->bss->done_raw, k, &fd);
		EXPECT_EQ((uintptr_t)mem + k * SZ_2M, fd.addr);
		EXPECT_EQ(PLACE_MIGRATE, fd.placement);
		EXPECT_EQ(9, fd.asked_order);
		EXPECT_EQ(want_order[k], fd.got_order) TH_LOG("%d failures", k);
		EXPECT_EQ(want_pages[k] * 4096 / self->ps, fd.pages_migrated)
			TH_LOG("%d failures", k);
		EXPECT_EQ(0, fd.overridden);
		EXPECT_EQ(0, fd.ret);
	}
	write_file("/proc/thread-self/make-it-fail", "0");
	bpf_link__destroy(link);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 22));
	pol_ctxcopy__destroy(skel);
	munmap(mem, size);
}

/*
 * On a device with room for one 2 MiB block (guest-suites loads svmx with
 * mem_mb=2 for this), atomics on three chunks evict each other's chunk
 * before the first can run: the forward-progress rule maps them in place,
 * and the policy is told its decision was overridden.
 */
TEST_F(bpf, fault_done_reports_override)
{
	size_t size = 6 * MIB;
	struct pol_ctxcopy *skel;
	struct t_fault_done fd;
	struct bpf_link *link;
	struct svmx_stats st;
	unsigned int i, overridden = 0;
	char *mem;

	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	if (st.mem_bytes != 2 * MIB)
		SKIP(return, "needs svmx.ko mem_mb=2 (run by guest-suites)");
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	skel = pol_ctxcopy__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.ctxcopy_ops);
	ASSERT_NE(NULL, link);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_atomic(mem, 3, 2 * MIB, 5), NULL));
	bpf_link__destroy(link);
	for (i = 0; i < skel->bss->nr_done && i < 32; i++) {
		SLOT(skel->bss->done_raw, i, &fd);
		if (!fd.overridden)
			continue;
		overridden++;
		EXPECT_EQ(PLACE_REMOTE, fd.placement);
		EXPECT_EQ(9, fd.asked_order);
		EXPECT_EQ(-1, fd.got_order);
		EXPECT_EQ(0, fd.pages_migrated);
		EXPECT_EQ(ACCESS_ATOMIC, fd.access);
	}
	EXPECT_LT(0, overridden) TH_LOG("%u fault_done calls", skel->bss->nr_done);
	EXPECT_EQ(5, *(uint64_t *)mem);
	EXPECT_EQ(5, *(uint64_t *)(mem + 2 * MIB));
	EXPECT_EQ(5, *(uint64_t *)(mem + 4 * MIB));
	pol_ctxcopy__destroy(skel);
	munmap(mem, size);
}

#define PF_BUDGET_FILE	"/sys/module/svmx/parameters/prefetch_budget_kb"

static int trace_event(const char *event, const char *on)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	return write_file(path, on);
}

/*
 * One device read at the start of @mem (8 MiB) with the test policy
 * answering @nr prefetch ranges: the kernel keeps @want_local pages, and
 * refuses and clips what the trace names.
 */
static void pfcheck_run(struct __test_metadata *_metadata, int fd, char *mem,
			unsigned int nr, const uint64_t *start, const uint64_t *len,
			unsigned long want_local, const char *const *verdicts)
{
	size_t size = 8 * MIB, ps = svmx_page_size();
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	struct pol_pfcheck *skel;
	struct bpf_link *link;
	struct svmx_counters c;
	unsigned int i, refused = 0, clipped = 0;
	uint64_t word;
	char *trace;

	ASSERT_NE(NULL, snap);
	skel = pol_pfcheck__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->nr = nr;
	for (i = 0; i < nr; i++) {
		skel->rodata->start[i] = start[i];
		skel->rodata->len[i] = len[i];
	}
	ASSERT_EQ(0, pol_pfcheck__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.pfcheck_ops);
	ASSERT_NE(NULL, link);
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, trace_event("svmx_prefetch_check", "1"));
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, 8, &word), &c));
	trace_event("svmx_prefetch_check", "0");
	EXPECT_EQ(svmx_pat(23, 0), word);
	EXPECT_EQ(want_local, c.pages_to_device);
	EXPECT_EQ(0, c.policy_fallbacks);	/* ranges are refused one by one */
	ASSERT_EQ(0, svmx_snapshot(fd, mem, n, snap, NULL));
	EXPECT_EQ(want_local, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	for (i = 0; verdicts[i]; i++) {
		EXPECT_EQ(1, count_str(trace, verdicts[i])) TH_LOG("%s\n%s", verdicts[i], trace);
		if (strstr(verdicts[i], "kept=0 "))
			refused++;
		else
			clipped++;
	}
	free(trace);
	EXPECT_EQ(refused, report_value("  prefetch_ranges", "refused"));
	EXPECT_EQ(clipped, report_value("  prefetch_ranges", "clipped"));
	EXPECT_EQ(0, report_value("  prefetch", "invalid"));
	bpf_link__destroy(link);
	pol_pfcheck__destroy(skel);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 23));
	free(snap);
}

/*
 * Prefetch ranges outside any VMA, in a file mapping, in PROT_NONE memory
 * and past the per-fault budget are refused; ranges past their VMA's end
 * or the rest of the budget are clipped; each is counted and traced, and
 * the good ranges are still prefetched.
 */
TEST_F(bpf, prefetch_bad_ranges_refused_and_clipped)
{
	char budget[32], *mem, *hole, *file, *none, v1[160], v2[160], v3[160];
	size_t size = 8 * MIB, ps = self->ps;
	uint64_t start[4], len[4];
	const char *verdicts[4] = { v1, v2, v3, NULL };
	int mfd;

	ASSERT_EQ(0, read_file(PF_BUDGET_FILE, budget, sizeof(budget)));
	ASSERT_EQ(0, write_file(PF_BUDGET_FILE, "3072"));
	if (svmx_write_file(TRACEFS "/trace", ""))
		SKIP(goto out, "no tracefs");
	/*
	 * Below mmap_min_addr (64 KiB by default) nothing is ever mapped; an
	 * address freed by munmap() could be reused by the mappings to come.
	 */
	hole = (char *)ps;
	mfd = memfd_create("svmx_bpf_test", 0);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 16 * ps));
	file = mmap(NULL, 16 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
	ASSERT_NE(MAP_FAILED, file);
	none = svmx_map_aligned(16 * ps, ps, PROT_NONE);
	ASSERT_NE(NULL, none);

	/* No VMA, a file, a whole range, then 1 MiB left of the 3 MiB budget. */
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 23);
	start[0] = (uintptr_t)hole;
	len[0] = SZ_2M;
	start[1] = (uintptr_t)file;
	len[1] = 16 * ps;
	start[2] = (uintptr_t)mem + SZ_2M;
	len[2] = SZ_2M;
	start[3] = (uintptr_t)mem + 2 * SZ_2M;
	len[3] = SZ_2M;
	snprintf(v1, sizeof(v1), "start=0x%lx len=2097152 kept=0 verdict=no_vma",
		 (unsigned long)hole);
	snprintf(v2, sizeof(v2), "start=0x%lx len=%zu kept=0 verdict=not_anon",
		 (unsigned long)file, 16 * ps);
	snprintf(v3, sizeof(v3), "start=0x%lx len=2097152 kept=1048576 verdict=budget",
		 (unsigned long)mem + 2 * SZ_2M);
	pfcheck_run(_metadata, self->fd, mem, 4, start, len,
		    (SZ_2M + SZ_2M + SZ_1M) / ps, verdicts);
	munmap(mem, size);

	/* Past the VMA's end, the rest of the budget, none left, PROT_NONE. */
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 23);
	start[0] = (uintptr_t)mem + 7 * SZ_1M;
	len[0] = SZ_2M;
	start[1] = (uintptr_t)mem + SZ_2M;
	len[1] = SZ_2M;
	start[2] = (uintptr_t)mem + 2 * SZ_2M;
	len[2] = SZ_2M;
	start[3] = (uintptr_t)none;
	len[3] = 16 * ps;
	snprintf(v1, sizeof(v1), "start=0x%lx len=2097152 kept=1048576 verdict=vma_end",
		 (unsigned long)mem + 7 * SZ_1M);
	snprintf(v2, sizeof(v2), "start=0x%lx len=2097152 kept=0 verdict=budget",
		 (unsigned long)mem + 2 * SZ_2M);
	snprintf(v3, sizeof(v3), "start=0x%lx len=%zu kept=0 verdict=no_read",
		 (unsigned long)none, 16 * ps);
	pfcheck_run(_metadata, self->fd, mem, 4, start, len,
		    (SZ_2M + SZ_1M + SZ_2M) / ps, verdicts);
	munmap(mem, size);
	munmap(file, 16 * ps);
	munmap(none, 16 * ps);
	close(mfd);
out:
	write_file(PF_BUDGET_FILE, budget);
}

/*
 * density: single-page device reads at pages 0, 1, 2, 4, 8 of a region
 * migrate 1, 1, 2, 4, 8 pages - each time the enclosing power-of-two
 * region is more than 51% faulted or resident, the migration grows to it.
 * Pages 0 and 2 of another region do not make {0..3} dense (50%); page 1
 * then does (75%).  The live threshold of 100% stops the growth.
 */
TEST_F(bpf, density_grows_to_dense_region)
{
	static const unsigned int r0[] = { 0, 1, 2, 4, 8 }, r0_moved[] = { 1, 1, 2, 4, 8 };
	static const unsigned int r1[] = { 0, 2, 1, 4 }, r1_moved[] = { 1, 1, 2, 1 };
	size_t size = 4 * MIB, ps = self->ps;
	unsigned long n = size / ps, i;
	uint8_t *snap = malloc(n);
	struct pol_density *skel;
	struct bpf_link *link;
	struct svmx_counters c;
	uint32_t hundred = 100;
	uint64_t word;
	char *mem;

	ASSERT_NE(NULL, snap);
	if (ps != 4096)
		SKIP(return, "the expected pages assume 4 KiB pages");
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 24);
	skel = pol_density__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.density_ops);
	ASSERT_NE(NULL, link);

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem + r0[i] * ps, 8, &word),
					&c));
		EXPECT_EQ(svmx_pat(24, r0[i] * ps / 8), word);
		EXPECT_EQ(r0_moved[i], c.pages_to_device) TH_LOG("page %u", r0[i]);
		EXPECT_EQ(1, c.faults);
	}
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	for (i = 0; i < REGION_PAGES; i++)
		EXPECT_EQ(i < 16, (snap[i] & SVMX_SNAP_LOC_MASK) == SVMX_SNAP_LOCAL)
			TH_LOG("page %lu", i);
	for (i = 0; i < 4; i++) {
		if (i == 3)	/* the live knob, as svmxctl policy set writes it */
			skel->data_knobs->threshold = hundred;
		ASSERT_EQ(0, svmx_exec1(self->fd,
					svmx_op_read(mem + SZ_2M + r1[i] * ps, 8, &word), &c));
		EXPECT_EQ(r1_moved[i], c.pages_to_device) TH_LOG("page %u", r1[i]);
	}
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(16 + 5, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	for (i = 0; i < 5; i++)
		EXPECT_EQ(SVMX_SNAP_LOCAL, snap[REGION_PAGES + i] & SVMX_SNAP_LOC_MASK)
			TH_LOG("page %lu", i);
	EXPECT_EQ(1, skel->bss->grown[1]);
	EXPECT_EQ(2, skel->bss->grown[2]);
	EXPECT_EQ(1, skel->bss->grown[3]);
	EXPECT_EQ(1, skel->bss->grown[4]);
	bpf_link__destroy(link);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 24));
	pol_density__destroy(skel);
	munmap(mem, size);
	free(snap);
}

/*
 * stride: device reads of one word every 16 pages, one call each, with
 * 4 KiB chunks: after two equal distances the policy prefetches the next
 * two along the stride, so 10 reads fault 5 times and move 11 pages -
 * exactly the strided pages, one past the last read.
 */
TEST_F(bpf, stride_prefetches_ahead)
{
	size_t size = 4 * MIB, ps = self->ps;
	unsigned long n = size / ps, i, faults = 0, moved = 0;
	uint8_t *snap = malloc(n);
	struct pol_stride *skel;
	struct bpf_link *link;
	struct svmx_counters c;
	uint64_t word;
	char *mem;

	ASSERT_NE(NULL, snap);
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 25);
	skel = pol_stride__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->fault_order = 0;
	ASSERT_EQ(0, pol_stride__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.stride_ops);
	ASSERT_NE(NULL, link);
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem + 16 * i * ps, 8, &word),
					&c));
		EXPECT_EQ(svmx_pat(25, 16 * i * ps / 8), word);
		faults += c.faults;
		moved += c.pages_to_device;
	}
	EXPECT_EQ(5, faults);
	EXPECT_EQ(11, moved);
	EXPECT_EQ(6, skel->bss->prefetched_chunks);
	EXPECT_EQ(3, skel->bss->trusted_faults);
	EXPECT_EQ(5, report_value("  prefetch", "calls"));
	EXPECT_EQ(0, report_value("  prefetch", "invalid"));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	for (i = 0; i < 256; i++)
		EXPECT_EQ(i % 16 == 0 && i <= 160,
			  (snap[i] & SVMX_SNAP_LOC_MASK) == SVMX_SNAP_LOCAL) TH_LOG("page %lu", i);
	EXPECT_EQ(11, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	bpf_link__destroy(link);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 25));
	pol_stride__destroy(skel);
	munmap(mem, size);
	free(snap);
}

/*
 * CPU and device take turns on one 2 MiB region, 8 rounds, data checked
 * each round.  The built-in default migrates it both ways every round;
 * thrash (threshold 3; lapse and pin long enough that timing plays no
 * part) pins it after its third direction change: 2 migrations, then the
 * device reads system memory remotely (one fault maps it; the CPU's
 * writes to system pages do not unmap it again).
 */
static void pingpong_rounds(struct __test_metadata *_metadata, int fd,
			    struct svmx_counters *sum)
{
	size_t size = SZ_2M;
	struct svmx_counters c;
	char *mem, *buf;
	int r;

	memset(sum, 0, sizeof(*sum));
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	for (r = 0; r < 8; r++) {
		svmx_pat_fill(mem, size, 30 + r);	/* CPU writes */
		ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(mem, size, buf), &c));
		EXPECT_EQ(-1, svmx_pat_check(buf, size, 30 + r)) TH_LOG("round %d", r);
		svmx_counters_add(sum, &c);
	}
	munmap(mem, size);
	free(buf);
}

TEST_F(bpf, thrash_pins_pingpong_region)
{
	unsigned long n = SZ_2M / self->ps;
	struct svmx_counters builtin, pinned;
	struct pol_thrash *skel;
	struct bpf_link *link;

	pingpong_rounds(_metadata, self->fd, &builtin);
	EXPECT_EQ(8 * n, builtin.pages_to_device);
	EXPECT_EQ(0, builtin.remote_accesses);

	skel = pol_thrash__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->lapse_us = 3600ull * 1000000;
	skel->rodata->pin_ms = 3600ull * 1000;
	ASSERT_EQ(0, pol_thrash__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.thrash_ops);
	ASSERT_NE(NULL, link);
	pingpong_rounds(_metadata, self->fd, &pinned);
	bpf_link__destroy(link);
	EXPECT_EQ(2 * n, pinned.pages_to_device);
	EXPECT_EQ(6 * n, pinned.remote_accesses);
	EXPECT_EQ(1, skel->bss->pins);
	/* Pinned once; later rounds find the system pages mapped already. */
	EXPECT_EQ(1, skel->bss->pinned_faults);
	EXPECT_LT(pinned.pages_to_device, builtin.pages_to_device);
	if (_metadata->exit_code) {
		SVMX_LOG_COUNTERS("built-in", &builtin);
		SVMX_LOG_COUNTERS("thrash", &pinned);
	}
	pol_thrash__destroy(skel);
}

/*
 * adaptive: a sequential device read of 16 MiB (8 chunks) on the large
 * device.  The built-in default takes a fault batch per chunk; adaptive
 * trusts the stride after the third chunk and prefetches two chunks
 * ahead at each fault: batches at chunks 0, 1, 2 and 5, the same pages
 * moved, data and placement checked.
 */
TEST_F(bpf, adaptive_prefetches_sequential_stream)
{
	size_t size = 16 * MIB, ps = self->ps;
	unsigned long n = size / ps;
	struct svmx_counters builtin, c;
	uint8_t *snap = malloc(n);
	struct pol_adaptive *skel;
	struct bpf_link *link;
	char *mem, *buf = malloc(size);
	int round;

	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, buf);
	skel = pol_adaptive__open_and_load();
	ASSERT_NE(NULL, skel);
	for (round = 0; round < 2; round++) {
		link = NULL;
		if (round) {
			link = bpf_map__attach_struct_ops(skel->maps.adaptive_ops);
			ASSERT_NE(NULL, link);
		}
		mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, mem);
		svmx_pat_fill(mem, size, 40 + round);
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf),
					round ? &c : &builtin));
		EXPECT_EQ(-1, svmx_pat_check(buf, size, 40 + round));
		ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
		EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
		bpf_link__destroy(link);
		EXPECT_EQ(-1, svmx_pat_check(mem, size, 40 + round));
		munmap(mem, size);
	}
	EXPECT_EQ(8, builtin.fault_batches);
	EXPECT_EQ(4, c.fault_batches);
	EXPECT_EQ(n, builtin.pages_to_device);
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(4, skel->bss->prefetched_chunks);
	EXPECT_LT(c.modeled_ns, builtin.modeled_ns);
	EXPECT_EQ(0, c.policy_fallbacks);
	if (_metadata->exit_code) {
		SVMX_LOG_COUNTERS("built-in", &builtin);
		SVMX_LOG_COUNTERS("adaptive", &c);
	}
	pol_adaptive__destroy(skel);
	free(snap);
	free(buf);
}

/*
 * adaptive pins a CPU/device ping-pong region as thrash does (its thrash
 * part, UVM's threshold of 3; lapse and pin long enough that timing plays
 * no part): 2 migrations, then remote reads, data checked each round.
 */
TEST_F(bpf, adaptive_pins_pingpong_region)
{
	unsigned long n = SZ_2M / self->ps;
	struct svmx_counters pinned;
	struct pol_adaptive *skel;
	struct bpf_link *link;

	skel = pol_adaptive__open();
	ASSERT_NE(NULL, skel);
	skel->rodata->thrash_lapse_us = 3600ull * 1000000;
	skel->rodata->thrash_pin_ms = 3600ull * 1000;
	ASSERT_EQ(0, pol_adaptive__load(skel));
	link = bpf_map__attach_struct_ops(skel->maps.adaptive_ops);
	ASSERT_NE(NULL, link);
	pingpong_rounds(_metadata, self->fd, &pinned);
	bpf_link__destroy(link);
	EXPECT_EQ(2 * n, pinned.pages_to_device);
	EXPECT_EQ(6 * n, pinned.remote_accesses);
	EXPECT_EQ(1, skel->bss->pins);
	EXPECT_EQ(1, skel->bss->pinned_faults);
	EXPECT_EQ(0, pinned.policy_fallbacks);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("adaptive", &pinned);
	pol_adaptive__destroy(skel);
}

/*
 * adaptive's eviction on the cyclic scan of 12 MiB over the 8 MiB device
 * (evict_policies_cyclic_scan's workload, 8 passes, data checked every
 * pass): its victims, all valid, at least 2x fewer evictions than the
 * LRU (19 and 44 when measured) and less modeled time.
 */
TEST_F(bpf, adaptive_evicts_less_on_cyclic_scan)
{
	struct evict_case k[] = { { .policy = NULL }, { .policy = "adaptive" } };

	if (!small_device(self->fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	evict_cases_run(_metadata, self->fd, k, ARRAY_SIZE(k), false);
	EXPECT_LT(0, k[0].c.evictions);
	EXPECT_LE(2 * k[1].c.evictions, k[0].c.evictions);
	EXPECT_LT(k[1].c.modeled_ns, k[0].c.modeled_ns);
}

/*
 * Sparse device work over 16 MiB (8 chunks) on the 8 MiB device: 4
 * rounds of one 64-byte read in each chunk, in chunk order, at scattered
 * pages; one EXEC call.  Each read is checked against the memory.
 * Return: 0, or -1 after a failed call or a wrong read (logged).
 */
static int sparse_rounds(struct __test_metadata *_metadata, int fd,
			 struct svmx_counters *c)
{
	size_t size = 16 * MIB, page = svmx_page_size(), ppc = SZ_2M / page;
	struct svmx_op ops[32];
	unsigned int r, k, n = 0;
	char *mem, *buf;
	int ret = -1;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(32 * 64);
	if (!mem || !buf)
		goto out;
	svmx_pat_fill(mem, size, 63);
	for (r = 0; r < 4; r++)
		for (k = 0; k < 8; k++, n++)
			ops[n] = svmx_op_read(mem + k * SZ_2M + (r * 37 + k * 11) % ppc * page,
					      64, buf + n * 64);
	ret = svmx_exec(fd, ops, n, c);
	if (ret) {
		TH_LOG("EXEC of the sparse rounds failed: %s", strerror(-ret));
		ret = -1;
		goto out;
	}
	ret = -1;
	for (n = 0; n < 32; n++)
		if (memcmp(buf + n * 64, (void *)(uintptr_t)ops[n].addr, 64)) {
			TH_LOG("read %u of the sparse rounds is wrong", n);
			goto out;
		}
	ret = 0;
out:
	if (mem)
		munmap(mem, size);
	free(buf);
	return ret;
}

/*
 * adaptive maps remotely a region whose last residency served few device
 * accesses when it faults again on a full device: the sparse rounds take
 * fewer evictions, some remote accesses and less modeled time than under
 * the LRU, data intact; with the live knob sparse_touches at 0 nothing is
 * mapped remotely.
 */
TEST_F(bpf, adaptive_maps_sparse_regions_remotely)
{
	struct svmx_counters lru, ad, off;
	struct pol_adaptive *skel;
	struct bpf_link *link;
	__u64 remote;

	if (!small_device(self->fd))
		SKIP(return, "needs svmx.ko mem_mb=8 (run by guest-suites)");
	ASSERT_EQ(0, sparse_rounds(_metadata, self->fd, &lru));
	skel = pol_adaptive__open_and_load();
	ASSERT_NE(NULL, skel);
	link = bpf_map__attach_struct_ops(skel->maps.adaptive_ops);
	ASSERT_NE(NULL, link);
	EXPECT_EQ(0, sparse_rounds(_metadata, self->fd, &ad));
	remote = skel->bss->sparse_remote;
	EXPECT_LT(0, skel->bss->sparse_noted);
	EXPECT_LT(0, remote);
	EXPECT_LT(0, ad.remote_accesses);
	EXPECT_LT(ad.evictions, lru.evictions);
	EXPECT_LT(ad.modeled_ns, lru.modeled_ns);
	EXPECT_EQ(0, ad.policy_fallbacks);

	skel->data_knobs->sparse_touches = 0;
	EXPECT_EQ(0, sparse_rounds(_metadata, self->fd, &off));
	EXPECT_EQ(remote, skel->bss->sparse_remote);
	EXPECT_EQ(0, off.remote_accesses);
	if (_metadata->exit_code) {
		SVMX_LOG_COUNTERS("lru", &lru);
		SVMX_LOG_COUNTERS("adaptive", &ad);
		SVMX_LOG_COUNTERS("adaptive, sparse_touches=0", &off);
	}
	bpf_link__destroy(link);
	pol_adaptive__destroy(skel);
}

TEST_HARNESS_MAIN
