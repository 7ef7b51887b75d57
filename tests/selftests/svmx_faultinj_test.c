// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection for every allocation error path, through the standard
 * fault-injection attributes in debugfs (svmx/fail_block_alloc,
 * fail_backing_alloc, fail_sysmem_alloc), confined to the test task with
 * task-filter and /proc/thread-self/make-it-fail:
 *  - the chunk ladder 2 MiB -> 64 KiB -> 4 KiB -> remote mapping, step by
 *    step, in the snapshot and the trace;
 *  - every ENOMEM path (device block, backing pages, destination system
 *    pages of a migration, an eviction, a CPU fault, unbind) keeps the
 *    process's data intact;
 *  - a block that cannot be emptied keeps its age and keeps the module
 *    loaded: unload is refused up front, not looped on.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * whether GCC warns depends on inlining.  Nothing of ours is involved.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

static const char *const fail_attrs[] = {
	"fail_block_alloc", "fail_backing_alloc", "fail_sysmem_alloc",
};

static int fail_knob(const char *attr, const char *knob, long val)
{
	char path[160], v[32];

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/%s/%s", attr, knob);
	snprintf(v, sizeof(v), "%ld", val);
	return svmx_write_file(path, v);
}

/*
 * Arm @attr for this task only: fail every time it is asked (after
 * @space bytes, every @interval-th time), @times times (-1: always).
 */
static int fail_arm(const char *attr, long times, long interval, long space)
{
	char path[160];
	int ret;

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/%s/task-filter", attr);
	ret = svmx_write_file(path, "Y");
	ret = ret ?: fail_knob(attr, "verbose", 0);
	ret = ret ?: fail_knob(attr, "interval", interval);
	ret = ret ?: fail_knob(attr, "space", space);
	ret = ret ?: fail_knob(attr, "times", times);
	return ret ?: fail_knob(attr, "probability", 100);
}

static void fail_disarm_all(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fail_attrs); i++) {
		fail_knob(fail_attrs[i], "probability", 0);
		fail_knob(fail_attrs[i], "times", 1);
		fail_knob(fail_attrs[i], "space", 0);
		fail_knob(fail_attrs[i], "interval", 1);
	}
}

static int trace_event(const char *event, const char *on)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	return svmx_write_file(path, on);
}

/* Lines of @trace containing @what. */
static int trace_count(const char *trace, const char *what)
{
	const char *p = trace;
	int n = 0;

	while ((p = strstr(p, what))) {
		n++;
		p += strlen(what);
	}
	return n;
}

FIXTURE(faultinj)
{
	int fd;
	struct svmx_version v;
	size_t ps;
	bool tracing;
};

FIXTURE_SETUP(faultinj)
{
	self->ps = svmx_page_size();
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
	if (access(SVMX_DEBUGFS "/fail_block_alloc/probability", W_OK) ||
	    !svmx_debugfs_ok(0))
		SKIP(return, "no svmx fault-injection attributes (CONFIG_FAULT_INJECTION_DEBUG_FS)");
	ASSERT_EQ(0, svmx_write_file("/proc/thread-self/make-it-fail", "1"));
	fail_disarm_all();
	self->tracing = !svmx_write_file(TRACEFS "/trace", "");
}

FIXTURE_TEARDOWN(faultinj)
{
	fail_disarm_all();
	svmx_write_file("/proc/thread-self/make-it-fail", "0");
	if (self->fd >= 0)
		close(self->fd);
}

static const char *const ladder_events[] = {
	"svmx_block_alloc_fail", "svmx_remote_map",
};

static void ladder_trace(const char *on)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ladder_events); i++)
		trace_event(ladder_events[i], on);
}

/*
 * One device read of one word at page 100 of a fresh 2 MiB chunk with
 * @attr armed for @times failures: returns the pages of the chunk in local
 * memory and checks the word, the faulting page's placement and the trace
 * (@err: the error the failed steps report).
 */
static unsigned long ladder_step(struct __test_metadata *_metadata,
				 FIXTURE_DATA(faultinj) *self, const char *attr,
				 int times, int err)
{
	static const unsigned int orders[] = { 9, 4, 0 };
	size_t ps = self->ps, n = SZ_2M / ps, i;
	uint8_t *snap = malloc(n);
	unsigned long local;
	char *mem, *trace, want[96];
	uint64_t out = 0;

	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	if (!mem || !snap) {
		free(snap);
		return ~0UL;
	}
	svmx_pat_fill(mem, SZ_2M, 50 + times);
	if (self->tracing) {
		svmx_write_file(TRACEFS "/trace", "");
		ladder_trace("1");
	}
	if (times)
		EXPECT_EQ(0, fail_arm(attr, times, 1, 0));
	EXPECT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem + 100 * ps, 8, &out), NULL));
	fail_disarm_all();
	EXPECT_EQ(svmx_pat(50 + times, 100 * ps / 8), out);
	EXPECT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	local = svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL);
	EXPECT_EQ(times < 3 ? SVMX_SNAP_LOCAL : SVMX_SNAP_SYSTEM,
		  snap[100] & SVMX_SNAP_LOC_MASK);
	EXPECT_TRUE(snap[100] & SVMX_SNAP_DEV_MAPPED);
	if (self->tracing) {
		ladder_trace("0");
		trace = svmx_read_trace();
		ASSERT_NE(NULL, trace);
		for (i = 0; i < ARRAY_SIZE(orders); i++) {
			snprintf(want, sizeof(want),
				 "svmx_block_alloc_fail: dev=0 order=%u ret=%d ",
				 orders[i], err);
			EXPECT_EQ(i < (size_t)times, trace_count(trace, want))
				TH_LOG("%s, %d failures: '%s'", attr, times, want);
		}
		EXPECT_EQ(times >= 3, !!strstr(trace, "svmx_remote_map: dev=0 "));
		free(trace);
	}
	/* The CPU still sees the data, wherever it went. */
	EXPECT_EQ(-1, svmx_pat_check(mem, SZ_2M, 50 + times));
	munmap(mem, SZ_2M);
	free(snap);
	return local;
}

/*
 * fail_block_alloc: each failed reservation moves the chunk one step down
 * the ladder: 2 MiB, 64 KiB, 4 KiB, then the page is mapped where it is.
 */
TEST_F(faultinj, block_alloc_ladder)
{
	static const unsigned long want[] = { 512, 16, 1, 0 };
	int k;

	for (k = 0; k < 4; k++)
		EXPECT_EQ(want[k] * 4096 / self->ps,
			  ladder_step(_metadata, self, "fail_block_alloc", k, -ENOSPC))
			TH_LOG("%d injected failures", k);
}

/* fail_backing_alloc: the same ladder through -ENOMEM of the backing pages. */
TEST_F(faultinj, backing_alloc_ladder)
{
	static const unsigned long want[] = { 512, 16, 1, 0 };
	int k;

	for (k = 1; k < 4; k++)
		EXPECT_EQ(want[k] * 4096 / self->ps,
			  ladder_step(_metadata, self, "fail_backing_alloc", k, -ENOMEM))
			TH_LOG("%d injected failures", k);
}

/*
 * No device memory at all (every reservation fails): device writes land in
 * system memory through the remote mapping and nothing is lost.
 */
TEST_F(faultinj, no_device_memory_writes_remote)
{
	size_t size = 4 * SZ_2M, n = size / self->ps;
	uint8_t *snap = malloc(n);
	struct svmx_counters c;
	char *mem, *buf;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 60);
	svmx_pat_fill(buf, size, 61);
	ASSERT_EQ(0, fail_arm("fail_block_alloc", -1, 1, 0));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, size, buf), &c));
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	fail_disarm_all();
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_GT(c.remote_accesses, 0);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 61));
	munmap(mem, size);
	free(buf);
	free(snap);
}

/*
 * fail_sysmem_alloc on SVMX_IOC_MIGRATE to system memory: pages that get
 * no system page stay in device memory (space: the first 64 pages get
 * theirs; interval 2: every other page does), best effort, data intact.
 */
TEST_F(faultinj, migrate_to_system_enomem)
{
	size_t ps = self->ps, n = SZ_2M / ps;
	uint8_t *snap = malloc(n);
	char *mem, *trace;

	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, SZ_2M, 62);
	if (self->tracing)
		trace_event("svmx_sysmem_alloc_fail", "1");

	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, fail_arm("fail_sysmem_alloc", -1, 1, 64 * ps + 1));
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SYSTEM, NULL));
	fail_disarm_all();
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(64, svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	EXPECT_EQ(n - 64, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(SVMX_SNAP_SYSTEM, snap[63] & SVMX_SNAP_LOC_MASK);
	EXPECT_EQ(SVMX_SNAP_LOCAL, snap[64] & SVMX_SNAP_LOC_MASK);

	ASSERT_EQ(0, fail_arm("fail_sysmem_alloc", -1, 2, 0));
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SYSTEM, NULL));
	fail_disarm_all();
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(64 + (n - 64) / 2, svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	if (self->tracing) {
		trace_event("svmx_sysmem_alloc_fail", "0");
		trace = svmx_read_trace();
		ASSERT_NE(NULL, trace);
		EXPECT_NE(NULL, strstr(trace, "svmx_sysmem_alloc_fail: dev=0 ")) ;
		EXPECT_NE(NULL, strstr(trace, "failed=448 ret=0"));
		free(trace);
	}
	EXPECT_EQ(-1, svmx_pat_check(mem, SZ_2M, 62));
	munmap(mem, SZ_2M);
	free(snap);
}

/* Epoch of the only block of order @order in svmx0/blocks, or -1. */
static long long block_epoch(unsigned int order)
{
	char line[256], want[32];
	long long epoch = -1;
	int found = 0;
	FILE *f = fopen(SVMX_DEBUGFS "/svmx0/blocks", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), " order=%u ", order);
	while (fgets(line, sizeof(line), f)) {
		char *e = strstr(line, "epoch=");

		if (strstr(line, want) && e) {
			epoch = strtoll(e + 6, NULL, 0);
			found++;
		}
	}
	fclose(f);
	return found == 1 ? epoch : -1;
}

/*
 * An eviction that cannot get system pages fails (-ENOMEM, traced with the
 * pages left), the block stays with its data and its age: putting a busy
 * victim back does not make it young.
 */
TEST_F(faultinj, evict_enomem_keeps_block_and_age)
{
	size_t ps = self->ps, n = SZ_2M / ps;
	struct svmx_stats s0, s1;
	long long epoch0, epoch1;
	uint8_t *snap = malloc(n);
	char *mem, *other, *trace;
	uint64_t out;
	int i;

	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, svmx_evict_all(0));
	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	other = svmx_map_anon(4 * ps, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, other);
	svmx_pat_fill(mem, SZ_2M, 63);
	memset(other, 7, 4 * ps);
	ASSERT_EQ(0, svmx_advise(self->fd, other, 4 * ps,
				 SVMX_ADVISE_PREFERRED_LOCATION, SVMX_TARGET_SYSTEM));
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SELF, NULL));
	epoch0 = block_epoch(9);
	ASSERT_GE(epoch0, 0) TH_LOG("want exactly one 2 MiB block on svmx0");
	/* Device work elsewhere (remote): the device's epoch moves on. */
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(other, 8, &out), NULL));

	if (self->tracing)
		trace_event("svmx_evict_fail", "1");
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	ASSERT_EQ(0, fail_arm("fail_sysmem_alloc", -1, 1, 0));
	EXPECT_EQ(-EBUSY, svmx_evict_all(0));
	fail_disarm_all();
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_GE(s1.device.evictions_failed - s0.device.evictions_failed, 1);
	EXPECT_EQ(s1.device.evictions_failed - s0.device.evictions_failed,
		  s1.device.evictions - s0.device.evictions);
	EXPECT_EQ(s0.resident_pages, s1.resident_pages);
	epoch1 = block_epoch(9);
	EXPECT_EQ(epoch0, epoch1) TH_LOG("the busy victim's epoch went from %lld to %lld",
					 epoch0, epoch1);
	if (self->tracing) {
		trace_event("svmx_evict_fail", "0");
		trace = svmx_read_trace();
		ASSERT_NE(NULL, trace);
		EXPECT_NE(NULL, strstr(trace, "order=9 left=512 passes=8 reason=request ret=-12"));
		free(trace);
	}

	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(-1, svmx_pat_check(mem, SZ_2M, 63));
	munmap(mem, SZ_2M);
	munmap(other, 4 * ps);
	free(snap);
}

/*
 * A CPU fault whose page gets no system page fails with VM_FAULT_OOM; the
 * fault is retried and the CPU reads the right data.
 */
TEST_F(faultinj, cpu_fault_enomem_retried)
{
	size_t ps = self->ps;
	struct svmx_stats s0, s1;
	char *mem, *trace;
	uint8_t snap;

	mem = svmx_map_anon(ps, MAP_PRIVATE);	/* a one-page VMA */
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, ps, 64);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, ps, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, 1, &snap, NULL));
	ASSERT_EQ(SVMX_SNAP_LOCAL, snap & SVMX_SNAP_LOC_MASK);
	if (self->tracing)
		trace_event("svmx_cpu_fault", "1");
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	ASSERT_EQ(0, fail_arm("fail_sysmem_alloc", 1, 1, 0));
	EXPECT_EQ(-1, svmx_pat_check(mem, ps, 64));
	fail_disarm_all();
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_EQ(2, s1.ctx.cpu_faults - s0.ctx.cpu_faults);
	if (self->tracing) {
		trace_event("svmx_cpu_fault", "0");
		trace = svmx_read_trace();
		ASSERT_NE(NULL, trace);
		EXPECT_NE(NULL, strstr(trace, "pages=0 ret=-12"));
		free(trace);
	}
	munmap(mem, ps);
}

static long module_refcnt(void)
{
	char buf[32] = "";
	int fd = open("/sys/module/svmx/refcnt", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/*
 * Unload while a block cannot be emptied: the unbind's give-back fails
 * (no system pages), so device pages stay with no file open.  rmmod is
 * refused at once ("in use"), not looped on, and the module stays loaded
 * and consistent: the data comes back on the next CPU access, and the
 * device's reference goes with its last block.
 */
TEST_F_TIMEOUT(faultinj, unload_refused_while_device_memory_used, 120)
{
	size_t ps = self->ps, n = SZ_2M / ps;
	struct svmx_stats st;
	int status = 0, fd, i;
	char *mem;
	pid_t pid;

	ASSERT_EQ(0, svmx_evict_all(0));
	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, SZ_2M, 65);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, fail_arm("fail_sysmem_alloc", -1, 1, 0));
	close(self->fd);	/* unbind: the give-back fails */
	self->fd = -1;

	/*
	 * rmmod in a child (which inherits make-it-fail, so no eviction can
	 * get system pages either), bounded: the old code looped forever.
	 */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(syscall(SYS_delete_module, "svmx", O_NONBLOCK) ? errno : 0);
	for (i = 0; i < 600 && waitpid(pid, &status, WNOHANG) == 0; i++)
		usleep(100000);
	fail_disarm_all();
	ASSERT_LT(i, 600) TH_LOG("rmmod svmx did not return within 60 s");
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(EWOULDBLOCK, WEXITSTATUS(status)) TH_LOG("rmmod was not refused");

	/* Still loaded and consistent; the pages are still on the device. */
	fd = svmx_open(0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, svmx_get_stats(fd, &st));
	EXPECT_GE(st.resident_pages, n);
	EXPECT_GE(st.blocks, 1);
	close(fd);
	EXPECT_GE(module_refcnt(), 1);
	EXPECT_EQ(-1, svmx_pat_check(mem, SZ_2M, 65));
	/* The CPU took its pages back: no block, no reference left. */
	fd = svmx_open(0);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, svmx_get_stats(fd, &st));
	EXPECT_EQ(0, st.blocks);
	close(fd);
	EXPECT_EQ(0, module_refcnt());
	munmap(mem, SZ_2M);
}

TEST_HARNESS_MAIN
