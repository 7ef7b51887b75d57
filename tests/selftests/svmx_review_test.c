// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for defects a review of the core found: snapshots
 * racing with CPU faults and eviction, region history under concurrent
 * faults and across a hive, device page-table leaves under mmap/munmap
 * churn, BIND racing with other calls, MIGRATE starving mmap writers,
 * private memory after a fork, unsharing when system memory is short, and
 * the tracepoints of bindings, region history, unsharing, queue preemption
 * and the forward-progress override.  Every test checks the data too.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/wait.h>

/* See svmx_migrate_test.c: the harness's TEST_F wrapper, not our code. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define MIB		(1UL << 20)

FIXTURE(review)
{
	int fd;
	struct svmx_version v;
	size_t ps;
};

FIXTURE_SETUP(review)
{
	self->ps = svmx_page_size();
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
}

FIXTURE_TEARDOWN(review)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int flag_get(const int *f)
{
	return __atomic_load_n(f, __ATOMIC_ACQUIRE);
}

static void flag_set(int *f, int v)
{
	__atomic_store_n(f, v, __ATOMIC_RELEASE);
}

/* ---------------------------------------------------------------------
 * SNAPSHOT against CPU faults and eviction
 */

struct snap_race {
	int fd;
	char *mem;
	unsigned long npages;
	size_t ps;
	int stop;
	int rounds;
	int err;
};

/* Moves the range to the device and back, by MIGRATE, CPU faults, eviction. */
static void *snap_race_mover(void *arg)
{
	struct snap_race *r = arg;
	unsigned long i;
	int round;

	for (round = 0; !flag_get(&r->stop); round++) {
		int ret = svmx_migrate(r->fd, r->mem, r->npages * r->ps,
				       SVMX_TARGET_SELF, NULL);

		if (ret) {
			r->err = ret;
			break;
		}
		if (round % 2) {
			/* CPU faults take the pages back one by one. */
			for (i = 0; i < r->npages; i++)
				*(volatile char *)(r->mem + i * r->ps);
		} else {
			ret = svmx_evict_all(0);
			if (ret && ret != -EBUSY) {
				r->err = ret;
				break;
			}
		}
		flag_set(&r->rounds, round + 1);
	}
	return NULL;
}

#define SNAP_RACE_SNAPSHOTS	400

/*
 * SNAPSHOT names the device of every device page it meets while other
 * threads free those pages (CPU faults, eviction): the answers stay
 * consistent and the data intact.  The device used to be found through
 * the page's block, which the concurrent free could release first (a
 * use-after-free that KASAN reports on the debug kernel).
 */
TEST_F(review, snapshot_races_cpu_faults_and_eviction)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps, i, bad = 0, local = 0;
	struct snap_race r = { .fd = self->fd, .npages = n, .ps = ps };
	uint8_t *snap = malloc(n), *peer = malloc(n);
	pthread_t t;
	int k;

	if (!svmx_debugfs_ok(0))
		SKIP(return, "debugfs " SVMX_DEBUGFS "/svmx0 not available");
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, peer);
	r.mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, r.mem);
	svmx_tags_fill(r.mem, n, 41);

	ASSERT_EQ(0, pthread_create(&t, NULL, snap_race_mover, &r));
	for (k = 0; k < SNAP_RACE_SNAPSHOTS; k++) {
		ASSERT_EQ(0, svmx_snapshot(self->fd, r.mem, n, snap, peer));
		for (i = 0; i < n; i++) {
			uint8_t loc = snap[i] & SVMX_SNAP_LOC_MASK;

			/* NONE: under migration (a migration entry) just then. */
			if (loc == SVMX_SNAP_LOCAL) {
				local++;
				bad += peer[i] != 0;
			} else {
				bad += (loc != SVMX_SNAP_SYSTEM &&
					loc != SVMX_SNAP_NONE) || peer[i] != 0xff;
			}
		}
	}
	flag_set(&r.stop, 1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%d snapshots over %d rounds, %lu local pages seen", k,
	       r.rounds, local);
	EXPECT_EQ(0, r.err);
	EXPECT_EQ(0, bad);
	EXPECT_GT(r.rounds, 0);
	EXPECT_EQ(-1, svmx_tags_check(r.mem, n, 41));
	munmap(r.mem, size);
	free(snap);
	free(peer);
}

/* ---------------------------------------------------------------------
 * Tracing helpers
 */

static int trace_enable(const char *event, const char *on)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	return svmx_write_file(path, on);
}

/* Start tracing @events (NULL-terminated) from an empty buffer; 0 or -errno. */
static int trace_start(const char *const *events)
{
	int ret = svmx_write_file(TRACEFS "/trace", "");

	for (; !ret && *events; events++)
		ret = trace_enable(*events, "1");
	return ret;
}

static void trace_stop(const char *const *events)
{
	for (; *events; events++)
		trace_enable(*events, "0");
}

static bool trace_ok(const char *event)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	return !access(path, W_OK);
}

/* Occurrences of @needle in @hay. */
static unsigned long count_str(const char *hay, const char *needle)
{
	unsigned long n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

/* ---------------------------------------------------------------------
 * Region history
 */

#define REGION_THREADS	4
#define REGION_ROUNDS	48
#define REGION_STRIDE	(256 * MIB)	/* fresh history slots every round */

struct region_racer {
	int fd;
	char *base;
	size_t ps;
	int id;
	int *go;
	int err;
	unsigned long bad;
};

/* Round k: read page id of region k as soon as every thread is ready. */
static void *region_racer_thread(void *arg)
{
	struct region_racer *r = arg;
	int k;

	for (k = 0; k < REGION_ROUNDS; k++) {
		char *page = r->base + k * REGION_STRIDE + r->id * 16 * r->ps;
		uint64_t v = 0;
		int ret;

		while (flag_get(r->go) <= k)
			;
		ret = svmx_exec1(r->fd, svmx_op_read(page, 8, &v), NULL);
		if (ret) {
			r->err = ret;
			break;
		}
		r->bad += v != svmx_tag(7, k, r->id);
	}
	return NULL;
}

/*
 * Parse the svmx_region fault events of device 0 from @trace: for every
 * region, the device-fault counts reported must be 1, 2, ... with none
 * repeated (a repeated count is an update lost to a concurrent one).
 * Return the number of events, *@lost the repeated counts.
 */
static unsigned long region_fault_events(const char *trace, unsigned long *lost)
{
	struct { unsigned long region, max, seen; } r[REGION_ROUNDS * 2] = {};
	const char *p = trace;
	unsigned long events = 0;
	unsigned int nr = 0, i;

	*lost = 0;
	while ((p = strstr(p, "svmx_region: dev=0 region="))) {
		unsigned long region, faults;

		p += strlen("svmx_region: dev=0 region=");
		if (sscanf(p, "%lx", &region) != 1)
			continue;
		if (!strstr(p, "event=fault dir=to_device") ||
		    strstr(p, "event=fault dir=to_device") > strchr(p, '\n'))
			continue;
		if (sscanf(strstr(p, "dev_faults="), "dev_faults=%lu", &faults) != 1)
			continue;
		events++;
		for (i = 0; i < nr && r[i].region != region; i++)
			;
		if (i == nr) {
			if (nr == ARRAY_SIZE(r))
				continue;
			r[nr++].region = region;
		}
		r[i].seen++;
		if (faults > r[i].max)
			r[i].max = faults;
	}
	for (i = 0; i < nr; i++)
		*lost += r[i].seen - r[i].max;
	return events;
}

/*
 * Threads sharing a binding fault one fresh region at once, round after
 * round: every fault is counted in the region's history (the policy's
 * input), none lost to a concurrent update of the same region.
 */
TEST_F(review, region_history_concurrent_faults)
{
	static const char *const events[] = { "svmx_region", NULL };
	struct region_racer r[REGION_THREADS];
	size_t ps = self->ps, size = REGION_ROUNDS * REGION_STRIDE;
	unsigned long events_seen, lost, bad = 0;
	pthread_t t[REGION_THREADS];
	char *base, *trace;
	int go = 0, i, k;

	if (!trace_ok("svmx_region"))
		SKIP(return, "tracefs or the svmx_region event not available");
	base = mmap(NULL, size + 2 * MIB, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	base = (char *)(((uintptr_t)base + 2 * MIB - 1) & ~(2 * MIB - 1));
	/*
	 * Each thread's page is a VMA of its own, so that every thread's
	 * fault is serviced (a chunk never spans VMAs), and is mapped in
	 * place, so that the services are short: the threads' updates of the
	 * fresh region's history (the first allocates its slot) meet.
	 */
	for (k = 0; k < REGION_ROUNDS; k++) {
		for (i = 0; i < REGION_THREADS; i++) {
			char *page = base + k * REGION_STRIDE + i * 16 * ps;

			ASSERT_EQ(0, mprotect(page, ps, PROT_READ | PROT_WRITE));
			*(uint64_t *)page = svmx_tag(7, k, i);
			ASSERT_EQ(0, svmx_advise(self->fd, page, ps,
						 SVMX_ADVISE_PREFERRED_LOCATION,
						 SVMX_TARGET_SYSTEM));
		}
	}
	ASSERT_EQ(0, trace_start(events));
	for (i = 0; i < REGION_THREADS; i++) {
		r[i] = (struct region_racer){ .fd = self->fd, .base = base,
					      .ps = ps, .id = i, .go = &go };
		ASSERT_EQ(0, pthread_create(&t[i], NULL, region_racer_thread, &r[i]));
	}
	for (k = 0; k < REGION_ROUNDS; k++) {
		flag_set(&go, k + 1);
		usleep(2000);
	}
	for (i = 0; i < REGION_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(t[i], NULL));
		EXPECT_EQ(0, r[i].err);
		bad += r[i].bad;
	}
	trace_stop(events);
	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	events_seen = region_fault_events(trace, &lost);
	TH_LOG("%lu region fault updates, %lu lost", events_seen, lost);
	EXPECT_GE(events_seen, REGION_ROUNDS);
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, bad);
	free(trace);
	munmap(base, size);
}

/*
 * Hive: a binding on device 0 places pages on device 1 (preferred
 * location).  CPU faults on them count against that binding - the one that
 * placed them - with the ping-pong they cause.
 */
TEST_F(review, hive_cpu_faults_count_against_placer)
{
	size_t ps = self->ps, size = 2 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n), *peer = malloc(n);
	struct svmx_stats s0, s1;
	char *mem, *buf = malloc(size);

	if ((self->v.hive_mask & 3) != 3)
		SKIP(return, "devices 0 and 1 not in one hive (hive_mask=%#x); load svmx with hive_mask=3",
		     self->v.hive_mask);
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, peer);
	ASSERT_NE(NULL, buf);
	mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 43);
	ASSERT_EQ(0, svmx_advise(self->fd, mem, size,
				 SVMX_ADVISE_PREFERRED_LOCATION, 1));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 43));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, peer));
	ASSERT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_PEER));
	EXPECT_EQ(1, peer[0]);

	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	/* The CPU reads everything back: at least one CPU fault. */
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 43));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	SVMX_LOG_COUNTERS("binding", &s1.ctx);
	EXPECT_GE(s1.ctx.cpu_faults - s0.ctx.cpu_faults, 1);
	EXPECT_GE(s1.ctx.pages_to_system - s0.ctx.pages_to_system, n);
	EXPECT_GE(s1.ctx.pingpong - s0.ctx.pingpong, 1);
	munmap(mem, size);
	free(buf);
	free(snap);
	free(peer);
}

/* ---------------------------------------------------------------------
 * Device page-table leaves
 */

#define CHURN_ROUNDS	64

static uint64_t pt_leaves(struct __test_metadata *_metadata, int fd)
{
	struct svmx_stats st;

	EXPECT_EQ(0, svmx_get_stats(fd, &st));
	return st.pt_leaves;
}

/*
 * A long-lived binding whose process maps, uses and unmaps memory at ever
 * new addresses (2 MiB mappings and single pages) keeps a bounded device
 * page table: a leaf goes when the invalidation empties it.
 */
TEST_F(review, pt_leaves_bounded_under_mmap_churn)
{
	size_t ps = self->ps, window = CHURN_ROUNDS * 4 * MIB;
	uint64_t during = 0, after;
	char *win;
	int k;

	win = svmx_map_aligned(window, 2 * MIB, PROT_NONE);
	ASSERT_NE(NULL, win);
	EXPECT_EQ(0, pt_leaves(_metadata, self->fd));
	for (k = 0; k < CHURN_ROUNDS; k++) {
		/* Even rounds: a whole 2 MiB; odd rounds: one page. */
		size_t len = k % 2 ? ps : 2 * MIB;
		char *p = win + k * 4 * MIB + (k % 2 ? 5 * ps : 0);
		uint64_t v = 0;

		ASSERT_EQ(p, mmap(p, len, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(p, len, k + 1), NULL));
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(p + len - 8, 8, &v),
					NULL));
		EXPECT_EQ((uint64_t)k + 1, v);
		if (!k)
			during = pt_leaves(_metadata, self->fd);
		ASSERT_EQ(0, munmap(p, len));
	}
	after = pt_leaves(_metadata, self->fd);
	TH_LOG("leaves: %llu while mapped, %llu after %d rounds",
	       (unsigned long long)during, (unsigned long long)after,
	       CHURN_ROUNDS);
	EXPECT_GE(during, 1);
	EXPECT_LE(after, 2);
	munmap(win, window);
}

/* ---------------------------------------------------------------------
 * BIND racing with the calls that need a binding
 */

struct bind_race {
	int fd;
	uint64_t *src;
	int stop;
	int bound_seen;
	int bad;
};

static void *bind_race_caller(void *arg)
{
	struct bind_race *b = arg;
	struct svmx_stats st;
	uint64_t v = 0;

	while (!flag_get(&b->stop)) {
		int ret = svmx_exec1(b->fd, svmx_op_read(b->src, 8, &v), NULL);

		if (ret == 0) {
			flag_set(&b->bound_seen, 1);
			b->bad += v != 0x1234;
		} else if (ret != -EINVAL) {
			b->bad++;
		}
		if (svmx_get_stats(b->fd, &st))
			b->bad++;
	}
	return NULL;
}

#define BIND_ROUNDS	100

/*
 * EXEC and STATS from one thread while another binds the same file: each
 * call sees either no binding (-EINVAL) or a complete one.
 */
TEST_F(review, bind_races_exec)
{
	uint64_t *src = svmx_map_anon(self->ps, MAP_PRIVATE);
	int k, bad = 0;

	ASSERT_NE(NULL, src);
	*src = 0x1234;
	/* One binding per mm and device: this test binds its own files. */
	close(self->fd);
	self->fd = -1;
	for (k = 0; k < BIND_ROUNDS; k++) {
		struct bind_race b = { .fd = svmx_open(0), .src = src };
		pthread_t t;
		int spins;

		ASSERT_GE(b.fd, 0);
		ASSERT_EQ(0, pthread_create(&t, NULL, bind_race_caller, &b));
		ASSERT_EQ(0, svmx_bind(b.fd));
		for (spins = 0; !flag_get(&b.bound_seen) && spins < 100000; spins++)
			usleep(10);
		flag_set(&b.stop, 1);
		ASSERT_EQ(0, pthread_join(t, NULL));
		EXPECT_TRUE(flag_get(&b.bound_seen));
		bad += b.bad;
		close(b.fd);
	}
	EXPECT_EQ(0, bad);
	munmap(src, self->ps);
}

/* ---------------------------------------------------------------------
 * MIGRATE and the writers of the address space
 */

struct mmap_writer {
	int stop;
	int iters;
	int err;
};

static void *mmap_writer_thread(void *arg)
{
	struct mmap_writer *w = arg;

	while (!flag_get(&w->stop)) {
		void *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED) {
			w->err = errno;
			break;
		}
		munmap(p, 64 << 10);
		flag_set(&w->iters, w->iters + 1);
	}
	return NULL;
}

/*
 * A MIGRATE of a large range does not hold the mmap lock throughout: a
 * thread that maps and unmaps memory (mmap lock for write) completes
 * calls while the migration runs, and the migration completes too.
 */
TEST_F_TIMEOUT(review, migrate_lets_mmap_writers_in, 600)
{
	size_t size = 128 * MIB;
	unsigned long n = size / self->ps;
	struct mmap_writer w = {};
	struct svmx_counters c;
	int before, during;
	pthread_t t;
	char *mem;

	mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	svmx_tags_fill(mem, n, 47);
	ASSERT_EQ(0, pthread_create(&t, NULL, mmap_writer_thread, &w));
	while (!flag_get(&w.iters) && !w.err)
		usleep(100);
	before = flag_get(&w.iters);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	during = flag_get(&w.iters) - before;
	flag_set(&w.stop, 1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%d mmap/munmap calls during a %lu-page MIGRATE (%llu pages moved)",
	       during, n, (unsigned long long)c.pages_to_device);
	EXPECT_EQ(0, w.err);
	EXPECT_GT(c.pages_to_device, 0);
	EXPECT_GE(during, 3);
	EXPECT_EQ(-1, svmx_tags_check(mem, n, 47));
	munmap(mem, size);
}

/* ---------------------------------------------------------------------
 * Private memory after fork
 */

/*
 * After a fork whose child has exited, the parent's memory is private
 * again although its PTEs are still read-only: MIGRATE moves it, and the
 * data is intact.
 */
TEST_F(review, fork_child_exited_memory_migrates)
{
	size_t ps = self->ps, size = 2 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	int status;
	char *mem;
	pid_t pid;

	ASSERT_NE(NULL, snap);
	mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 51);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(svmx_pat_check(mem, size, 51) == -1 ? 0 : 10);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 51));
	munmap(mem, size);
	free(snap);
}

/*
 * While the child lives, copy-on-write holds both ways: the parent's
 * device writes and the child's CPU writes each stay in their own copy.
 */
TEST_F(review, fork_child_alive_cow_both_ways)
{
	size_t ps = self->ps, size = 2 * MIB;
	char *mem, *buf = malloc(size);
	int status, go[2], done[2];
	char c = 0;
	pid_t pid;

	ASSERT_NE(NULL, buf);
	mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 53);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(done));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* Plain exit codes in here. */
		if (read(go[0], &c, 1) != 1)
			_exit(10);
		if (svmx_pat_check(mem, size, 53) != -1)
			_exit(11);	/* the parent's writes leaked in */
		memset(mem + ps, 0x5a, ps);
		if (write(done[1], &c, 1) != 1)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(mem, ps, 0x77), NULL));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(1, read(done[0], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child failed: 11 saw the parent's device write");
	/* Parent: its own device write, and none of the child's. */
	EXPECT_EQ(-1, svmx_words_check(mem, ps, 0x77));
	EXPECT_EQ(-1, svmx_pat_check_from(mem + ps, ps / 8, size - ps, 53));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_words_check(buf, ps, 0x77));
	EXPECT_EQ(-1, svmx_pat_check_from(buf + ps, ps / 8, size - ps, 53));
	munmap(mem, size);
	free(buf);
}

/* ---------------------------------------------------------------------
 * Unsharing when system memory is short
 */

#define FAIL_SYSMEM	SVMX_DEBUGFS "/fail_sysmem_alloc"

/* Every (or no) best-effort system-page allocation fails, quietly. */
static int fail_sysmem(bool on)
{
	int ret = svmx_write_file(FAIL_SYSMEM "/verbose", "0");

	if (!ret)
		ret = svmx_write_file(FAIL_SYSMEM "/probability", on ? "100" : "0");
	if (!ret)
		ret = svmx_write_file(FAIL_SYSMEM "/times", on ? "-1" : "0");
	return ret;
}

/*
 * A device write to a page shared copy-on-write with a live child, in
 * device memory, while every best-effort system-page allocation fails:
 * the write either completes or fails with an out-of-memory error, never
 * spins until -EAGAIN; both copies keep their data.
 */
TEST_F(review, unshare_without_system_memory)
{
	size_t ps = self->ps, size = 2 * MIB;
	int status, go[2], ret;
	char *mem, c = 0;
	pid_t pid;

	if (access(FAIL_SYSMEM "/probability", W_OK))
		SKIP(return, "no fault injection at " FAIL_SYSMEM);
	mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 57);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(10);
		_exit(svmx_pat_check(mem, size, 57) == -1 ? 0 : 11);
	}
	ASSERT_EQ(0, fail_sysmem(true));
	ret = svmx_exec1(self->fd, svmx_op_fill(mem, ps, 0x99), NULL);
	ASSERT_EQ(0, fail_sysmem(false));
	TH_LOG("device write with system allocations failing: %d", ret);
	EXPECT_TRUE(ret == 0 || ret == -ENOMEM || ret == -EFAULT);
	EXPECT_NE(-EAGAIN, ret);
	if (ret)
		ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(mem, ps, 0x99), NULL));
	EXPECT_EQ(-1, svmx_words_check(mem, ps, 0x99));
	EXPECT_EQ(-1, svmx_pat_check_from(mem + ps, ps / 8, size - ps, 57));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	munmap(mem, size);
}

/* ---------------------------------------------------------------------
 * Tracepoints
 */

/*
 * BIND and the release of a binding are traced, the release with the
 * device memory it gives back; a device write to a copy-on-write page in
 * device memory traces the unsharing; every fault updates region history.
 */
TEST_F(review, bind_unbind_unshare_region_traced)
{
	static const char *const events[] = {
		"svmx_bind", "svmx_unbind", "svmx_unshare", "svmx_region", NULL,
	};
	size_t ps = self->ps, size = 2 * MIB;
	char *mem, *trace, want[96], c = 0;
	int fd, fd2, status, go[2];
	pid_t pid;

	if (!trace_ok("svmx_bind"))
		SKIP(return, "tracefs or the svmx_bind event not available");
	mem = svmx_map_aligned(size, 2 * MIB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 59);
	close(self->fd);	/* bound again below, traced */
	self->fd = -1;
	ASSERT_EQ(0, trace_start(events));

	fd = svmx_open_bound(0);
	ASSERT_GE(fd, 0);
	fd2 = svmx_open(0);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(-EBUSY, svmx_bind(fd2));
	close(fd2);
	ASSERT_EQ(0, svmx_migrate(fd, mem, size, SVMX_TARGET_SELF, NULL));
	close(fd);	/* gives the 2 MiB back */
	self->fd = svmx_open_bound(0);
	ASSERT_GE(self->fd, 0);

	/* Shared with a live child, in device memory, then written. */
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (read(go[0], &c, 1) != 1)
			_exit(10);
		_exit(svmx_pat_check(mem, size, 59) == -1 ? 0 : 11);
	}
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(mem, ps, 0x61), NULL));
	ASSERT_EQ(1, write(go[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	trace_stop(events);

	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want), "svmx_bind: dev=0 pid=%d ret=0", getpid());
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
	snprintf(want, sizeof(want), "svmx_bind: dev=0 pid=%d ret=%d", getpid(),
		 -EBUSY);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
	snprintf(want, sizeof(want), "svmx_unbind: dev=0 live=1 regions=1 pages=%lu bytes=%lu",
		 size / ps, size);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
	snprintf(want, sizeof(want), "svmx_unshare: dev=0 addr=0x%lx pages=1 ",
		 (unsigned long)mem);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
	EXPECT_NE(NULL, strstr(trace, "svmx_region: dev=0 "));
	free(trace);
	EXPECT_EQ(-1, svmx_words_check(mem, ps, 0x61));
	EXPECT_EQ(-1, svmx_pat_check_from(mem + ps, ps / 8, size - ps, 59));
	munmap(mem, size);
}

struct invalidator {
	int fd;
	char *mem;
	size_t size;
	int stop;
	int err;
};

/* Moves the range back and forth: every move invalidates the device's view. */
static void *invalidator_thread(void *arg)
{
	struct invalidator *v = arg;
	int k;

	for (k = 0; !flag_get(&v->stop); k++) {
		int ret = svmx_migrate(v->fd, v->mem, v->size,
				       k % 2 ? SVMX_TARGET_SELF : SVMX_TARGET_SYSTEM,
				       NULL);

		if (ret) {
			v->err = ret;
			break;
		}
	}
	return NULL;
}

/*
 * A preemption needs an invalidation to land while device work waits at a
 * piece boundary: usually within 10 to 40 calls here, once not within 200
 * on a loaded host.  The bound is on calls and generous; the loop stops at
 * the first preemption seen.
 */
#define PREEMPT_CALLS	2000

/*
 * Device work that an invalidation suspends and resumes is traced as a
 * preemption; the work's results stay right.
 */
TEST_F_TIMEOUT(review, queue_preemption_traced, 1800)
{
	static const char *const events[] = { "svmx_queue_preempt", NULL };
	size_t size = 8 * MIB;
	unsigned long n = size / self->ps, k, bad = 0, found = 0;
	struct invalidator v = { .fd = self->fd, .size = size };
	uint64_t *out = calloc(n, sizeof(*out));
	struct svmx_op *ops = calloc(n, sizeof(*ops));
	unsigned long i;
	pthread_t t;
	char *trace;

	if (!trace_ok("svmx_queue_preempt"))
		SKIP(return, "tracefs or the svmx_queue_preempt event not available");
	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, ops);
	v.mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, v.mem);
	svmx_tags_fill(v.mem, n, 61);
	for (i = 0; i < n; i++)
		ops[i] = svmx_op_read(v.mem + i * self->ps, 8, &out[i]);
	ASSERT_EQ(0, trace_start(events));
	ASSERT_EQ(0, pthread_create(&t, NULL, invalidator_thread, &v));
	for (k = 0; k < PREEMPT_CALLS && !found; k++) {
		ASSERT_EQ(0, svmx_exec(self->fd, ops, n, NULL));
		for (i = 0; i < n; i++)
			bad += out[i] != svmx_tag(61, i, 0);
		if (k % 10 == 9) {
			trace = svmx_read_trace();
			ASSERT_NE(NULL, trace);
			found = count_str(trace, "svmx_queue_preempt: dev=0 ");
			free(trace);
		}
	}
	flag_set(&v.stop, 1);
	ASSERT_EQ(0, pthread_join(t, NULL));
	trace_stop(events);
	TH_LOG("%lu preemptions traced in %lu device calls", found, k);
	EXPECT_EQ(0, v.err);
	EXPECT_EQ(0, bad);
	EXPECT_GT(found, 0);
	EXPECT_EQ(-1, svmx_tags_check(v.mem, n, 61));
	munmap(v.mem, size);
	free(out);
	free(ops);
}

/*
 * On a device with room for one 2 MiB block (load svmx with mem_mb=2),
 * atomics on three 2 MiB chunks in one operation evict each other's chunk
 * before the first can run, round after round: the forward-progress rule
 * maps them in place, overriding the policy, and says so in the trace.
 */
TEST_F(review, progress_override_traced)
{
	static const char *const events[] = { "svmx_progress_override", NULL };
	size_t size = 6 * MIB;
	char *mem, *trace, want[96];

	if (self->v.mem_bytes != 2 * MIB)
		SKIP(return, "needs a device with 2 MiB of memory (mem_mb=2), not %llu bytes",
		     (unsigned long long)self->v.mem_bytes);
	if (!trace_ok("svmx_progress_override"))
		SKIP(return, "tracefs or the svmx_progress_override event not available");
	mem = svmx_map_aligned(size, 2 * MIB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, trace_start(events));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_atomic(mem, 3, 2 * MIB, 5), NULL));
	trace_stop(events);
	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want),
		 "svmx_progress_override: dev=0 addr=0x%lx access=atomic decision=migrate",
		 (unsigned long)mem);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s'", want);
	free(trace);
	EXPECT_EQ(5, *(uint64_t *)mem);
	EXPECT_EQ(5, *(uint64_t *)(mem + 2 * MIB));
	EXPECT_EQ(5, *(uint64_t *)(mem + 4 * MIB));
	munmap(mem, size);
}

TEST_HARNESS_MAIN
