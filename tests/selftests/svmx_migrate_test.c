// SPDX-License-Identifier: GPL-2.0
/*
 * Placement and migration: pages that cannot move, explicit migration both
 * ways, the snapshot ioctl, placement advice, oversubscription and
 * eviction (also racing with device and CPU use), fork and copy-on-write,
 * munmap and mremap under device work, two devices with and without a
 * hive, and the migration tracepoints.  Every test checks the data as well
 * as where the pages are and what the counters say.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * whether GCC warns depends on inlining.  Nothing of ours is involved.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define MIB		(1UL << 20)

FIXTURE(migrate)
{
	int fd;
	struct svmx_version v;
	size_t ps;
};

FIXTURE_SETUP(migrate)
{
	self->ps = svmx_page_size();
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
}

FIXTURE_TEARDOWN(migrate)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* Read tag 0 of every page of [mem, mem + npages pages) through the device. */
static int device_read_tag0(int fd, char *mem, unsigned long npages, size_t ps,
			    uint64_t *out, struct svmx_counters *cnt)
{
	struct svmx_op *ops = calloc(npages, sizeof(*ops));
	unsigned long i;
	int ret;

	if (!ops)
		return -ENOMEM;
	for (i = 0; i < npages; i++)
		ops[i] = svmx_op_read(mem + i * ps, 8, &out[i]);
	ret = svmx_exec(fd, ops, npages, cnt);
	free(ops);
	return ret;
}

static long tag0_check(const uint64_t *out, unsigned long npages, uint64_t seed)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		if (out[i] != svmx_tag(seed, i, 0))
			return (long)i;
	return -1;
}

#define NPINNED 8

/*
 * Pages pinned by vmsplice() cannot migrate: a device access migrates the
 * rest and maps the pinned pages remotely, and device writes land in the
 * pinned pages themselves (the pipe returns them).
 */
TEST_F(migrate, pinned_pages_stay_in_system)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps, i, bad = 0;
	unsigned long pinned[NPINNED] = {
		0, 5, 6, n / 4 + 3, n / 2 - 1, n / 2, 3 * n / 4 + 9, n - 1,
	};
	uint8_t *snap = malloc(n), *peer = malloc(n);
	char *mem, *buf, *pg;
	struct svmx_counters c;
	int p[2];

	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	pg = malloc(ps);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, pg);
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, peer);
	svmx_pat_fill(mem, size, 1);
	ASSERT_EQ(0, pipe(p));
	for (i = 0; i < NPINNED; i++) {
		struct iovec iov = { .iov_base = mem + pinned[i] * ps, .iov_len = ps };

		ASSERT_EQ((ssize_t)ps, vmsplice(p[1], &iov, 1, 0));
	}

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 1));
	EXPECT_EQ(n - NPINNED, c.pages_to_device);
	EXPECT_EQ((n - NPINNED) * ps, c.bytes_to_device);
	EXPECT_EQ(n - NPINNED, c.local_accesses);
	EXPECT_EQ(NPINNED, c.remote_accesses);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("read", &c);

	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, peer));
	for (i = 0; i < n; i++) {
		bool is_pinned = false;
		unsigned int k;

		for (k = 0; k < NPINNED; k++)
			is_pinned |= pinned[k] == i;
		if ((snap[i] & SVMX_SNAP_LOC_MASK) !=
		    (is_pinned ? SVMX_SNAP_SYSTEM : SVMX_SNAP_LOCAL) ||
		    !(snap[i] & SVMX_SNAP_DEV_MAPPED) ||
		    peer[i] != (is_pinned ? 0xff : 0)) {
			if (!bad++)
				TH_LOG("page %lu: snapshot %#x peer %#x, pinned %d",
				       i, snap[i], peer[i], is_pinned);
		}
	}
	EXPECT_EQ(0, bad);

	/* The device overwrites everything, pinned pages in place. */
	svmx_pat_fill(buf, size, 2);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, size, buf), &c));
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 2));
	for (i = 0; i < NPINNED; i++) {
		ASSERT_EQ((ssize_t)ps, read(p[0], pg, ps));
		EXPECT_EQ(-1, svmx_pat_check_from(pg, pinned[i] * ps / 8, ps, 2))
			TH_LOG("pipe page %lu (page %lu of the range)", i, pinned[i]);
	}
	close(p[0]);
	close(p[1]);
	munmap(mem, size);
	free(buf);
	free(pg);
	free(snap);
	free(peer);
}

/* An mlocked part does not stop the device using, or migrating, the rest. */
TEST_F(migrate, mlocked_range_usable)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	char *mem, *buf, *lock;
	struct svmx_counters c;

	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 3);
	lock = mem + 64 * ps;
	if (mlock(lock, 16 * ps))
		SKIP(return, "mlock: %s", strerror(errno));

	svmx_pat_fill(buf, size, 4);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, size, buf), &c));
	EXPECT_GE(c.pages_to_device, n - 16);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 4));
	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 4));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_count(snap, n, SVMX_SNAP_DEV_MAPPED, SVMX_SNAP_DEV_MAPPED));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL) +
		     svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	EXPECT_EQ(0, munlock(lock, 16 * ps));
	munmap(mem, size);
	free(buf);
	free(snap);
}

/*
 * Explicit migration to the device maps what it moves (no fault after it),
 * back to system memory needs no CPU fault after it; both are idempotent
 * and a partial range moves only its pages back.
 */
TEST_F(migrate, migrate_to_device_and_back)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps, i, bad = 0;
	unsigned long lo = n / 8, hi = lo + n / 4, m = n / 16;
	uint8_t *snap = malloc(n), *peer = malloc(n);
	struct svmx_stats s0, s1;
	struct svmx_counters c;
	char *mem, *buf;

	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, peer);
	svmx_pat_fill(mem, size, 5);

	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(n * ps, c.bytes_to_device);
	EXPECT_GE(c.copy_cmds, 1);
	EXPECT_LT(c.copy_cmds, n);
	EXPECT_EQ(0, c.faults);
	EXPECT_GT(c.modeled_ns, 0);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("migrate to device", &c);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, peer));
	EXPECT_EQ(n, svmx_snap_count(snap, n, SVMX_SNAP_LOC_MASK | SVMX_SNAP_DEV_MAPPED,
				     SVMX_SNAP_LOCAL | SVMX_SNAP_DEV_MAPPED));
	for (i = 0; i < n && peer[i] == 0; i++)
		;
	EXPECT_EQ(n, i);

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 5));
	EXPECT_EQ(0, c.faults);
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(n, c.local_accesses);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	EXPECT_EQ(0, c.pages_to_device);

	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SYSTEM, &c));
	EXPECT_EQ(n, c.pages_to_system);
	EXPECT_EQ(n * ps, c.bytes_to_system);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 5));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_EQ(0, s1.device.cpu_faults - s0.device.cpu_faults);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SYSTEM, &c));
	EXPECT_EQ(0, c.pages_to_system);

	/* Partial ranges. */
	ASSERT_EQ(0, svmx_migrate(self->fd, mem + lo * ps, (hi - lo) * ps,
				  SVMX_TARGET_SELF, &c));
	EXPECT_GE(c.pages_to_device, hi - lo);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem + (lo + m) * ps, (hi - lo - 2 * m) * ps,
				  SVMX_TARGET_SYSTEM, &c));
	EXPECT_EQ(hi - lo - 2 * m, c.pages_to_system);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	for (i = lo; i < hi; i++) {
		uint8_t want = i >= lo + m && i < hi - m ? SVMX_SNAP_SYSTEM :
							   SVMX_SNAP_LOCAL;

		if ((snap[i] & SVMX_SNAP_LOC_MASK) != want && !bad++)
			TH_LOG("page %lu: snapshot %#x, want location %u", i, snap[i], want);
	}
	EXPECT_EQ(0, bad);
	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 5));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 5));
	munmap(mem, size);
	free(buf);
	free(snap);
	free(peer);
}

/* Migration is best effort: file pages stay in system memory, no error. */
TEST_F(migrate, migrate_unmovable_best_effort)
{
	size_t ps = self->ps, size = 2 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	struct svmx_counters c;
	char *mem, *buf;
	int mfd;

	ASSERT_NE(NULL, snap);
	mfd = memfd_create("svmx-migrate", MFD_CLOEXEC);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, ftruncate(mfd, size));
	mem = svmx_map_guarded(size, ps, 0, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	ASSERT_NE(NULL, mem);
	buf = malloc(size);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, size, 6);

	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	EXPECT_EQ(0, c.pages_to_device);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 6));
	EXPECT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SYSTEM, NULL));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 6));
	munmap(mem, size);
	close(mfd);
	free(buf);
	free(snap);
}

/*
 * Snapshot states, one VMA each, holes between them: never touched (NONE),
 * CPU-read zero page (SYSTEM, read-only), CPU-written (SYSTEM, writable),
 * device-written (LOCAL, mapped writable by the device).  The snapshot
 * faults nothing in; a CPU touch brings a page back and unmaps it from the
 * device.
 */
TEST_F(migrate, snapshot_states)
{
	const uint8_t rw = SVMX_SNAP_READ | SVMX_SNAP_WRITE;
	const uint8_t dev = SVMX_SNAP_DEV_MAPPED | SVMX_SNAP_DEV_WRITE;
	size_t ps = self->ps;
	uint8_t snap[20], snap2[20], peer[20], want[20], want_peer[20];
	char *base, *a, *b, *c, *d, *buf;
	uint64_t sink = 0;
	unsigned long i;

	/* 20 pages plus a leading hole, so that a is a VMA of its own too. */
	base = mmap(NULL, 21 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, base);
	ASSERT_EQ(0, munmap(base, ps));
	base += ps;
	for (i = 4; i < 20; i += 5)
		ASSERT_EQ(0, munmap(base + i * ps, ps));
	a = base;
	b = base + 5 * ps;
	c = base + 10 * ps;
	d = base + 15 * ps;
	for (i = 0; i < 20; i += 5)
		ASSERT_EQ(0, mprotect(base + i * ps, 4 * ps, PROT_READ | PROT_WRITE));
	buf = malloc(4 * ps);
	ASSERT_NE(NULL, buf);

	for (i = 0; i < 4 * ps; i += 8)
		sink += *(uint64_t *)(b + i);
	EXPECT_EQ(0, sink);
	svmx_pat_fill(c, 4 * ps, 7);
	svmx_pat_fill(buf, 4 * ps, 8);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(d, 4 * ps, buf), NULL));

	/* Expected per VMA: a, b, c, d; every fifth page is a hole (NONE). */
	memset(want_peer, 0xff, sizeof(want_peer));
	for (i = 0; i < 20; i++) {
		static const uint8_t per_vma[4] = {
			SVMX_SNAP_NONE,
			SVMX_SNAP_SYSTEM | SVMX_SNAP_READ,
			SVMX_SNAP_SYSTEM | rw,
			SVMX_SNAP_LOCAL | rw | dev,
		};

		want[i] = i % 5 == 4 ? SVMX_SNAP_NONE : per_vma[i / 5];
		if (i / 5 == 3 && i % 5 != 4)
			want_peer[i] = 0;
	}
	memset(snap, 0xee, sizeof(snap));
	memset(peer, 0xee, sizeof(peer));
	ASSERT_EQ(0, svmx_snapshot(self->fd, base, 20, snap, peer));
	for (i = 0; i < 20; i++) {
		EXPECT_EQ(want[i], snap[i]) TH_LOG("page %lu", i);
		EXPECT_EQ(want_peer[i], peer[i]) TH_LOG("page %lu", i);
	}
	/* Without a peer array; and a snapshot of only a hole. */
	ASSERT_EQ(0, svmx_snapshot(self->fd, base, 20, snap2, NULL));
	EXPECT_EQ(0, memcmp(snap, snap2, sizeof(snap)));
	snap2[0] = 0xee;
	ASSERT_EQ(0, svmx_snapshot(self->fd, base + 4 * ps, 1, snap2, NULL));
	EXPECT_EQ(SVMX_SNAP_NONE, snap2[0]);
	/* Nothing was faulted in. */
	EXPECT_EQ(0, svmx_mincore_count(a, 4 * ps));

	/* The CPU takes page 0 of d back. */
	EXPECT_EQ(-1, svmx_pat_check(d, 8, 8));
	ASSERT_EQ(0, svmx_snapshot(self->fd, d, 4, snap, NULL));
	EXPECT_EQ(SVMX_SNAP_SYSTEM, snap[0] & SVMX_SNAP_LOC_MASK);
	EXPECT_EQ(0, snap[0] & SVMX_SNAP_DEV_MAPPED);
	EXPECT_EQ(-1, svmx_pat_check(d, 4 * ps, 8));
	munmap(base, 20 * ps);
	free(buf);
}

/* A read-only mapping: CPU and device mappings carry no write permission. */
TEST_F(migrate, snapshot_readonly_mapping)
{
	size_t ps = self->ps, size = 8 * ps;
	uint8_t snap[8];
	char *mem, *buf;
	int i;

	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(mem, size, 9);
	ASSERT_EQ(0, mprotect(mem, size, PROT_READ));

	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, 8, snap, NULL));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(SVMX_SNAP_SYSTEM | SVMX_SNAP_READ, snap[i]) TH_LOG("page %d", i);

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 9));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, 8, snap, NULL));
	for (i = 0; i < 8; i++)
		EXPECT_EQ(SVMX_SNAP_LOCAL | SVMX_SNAP_READ | SVMX_SNAP_DEV_MAPPED, snap[i])
			TH_LOG("page %d", i);

	EXPECT_EQ(-EFAULT, svmx_exec1(self->fd, svmx_op_fill(mem, size, 0), NULL));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 9));
	munmap(mem, size);
	free(buf);
}

/*
 * PREFERRED_LOCATION=system maps the advised half remotely while the other
 * half migrates; once unset, the next device fault migrates it too.
 */
TEST_F(migrate, advise_preferred_system)
{
	size_t ps = self->ps, size = 4 * MIB, half = size / 2;
	unsigned long n = size / ps, i, bad = 0;
	uint8_t *snap = malloc(n);
	struct svmx_stats s0, s1;
	struct svmx_counters c;
	char *mem, *buf;

	/* 2 MiB aligned, so that no fault chunk straddles the advice. */
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 10);
	ASSERT_EQ(0, svmx_advise(self->fd, mem, half, SVMX_ADVISE_PREFERRED_LOCATION,
				 SVMX_TARGET_SYSTEM));

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 10));
	EXPECT_EQ(n / 2, c.pages_to_device);
	EXPECT_EQ(n / 2, c.remote_accesses);
	EXPECT_EQ(n / 2, c.local_accesses);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("read", &c);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	for (i = 0; i < n; i++) {
		uint8_t want = (i < n / 2 ? SVMX_SNAP_SYSTEM : SVMX_SNAP_LOCAL) |
			       SVMX_SNAP_DEV_MAPPED;

		if ((snap[i] & (SVMX_SNAP_LOC_MASK | SVMX_SNAP_DEV_MAPPED)) != want &&
		    !bad++)
			TH_LOG("page %lu: snapshot %#x", i, snap[i]);
	}
	EXPECT_EQ(0, bad);

	/* Device writes go to system memory: the CPU reads them without faults. */
	svmx_pat_fill(buf, half, 11);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, half, buf), &c));
	EXPECT_EQ(0, c.pages_to_device);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	EXPECT_EQ(-1, svmx_pat_check(mem, half, 11));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_EQ(0, s1.device.cpu_faults - s0.device.cpu_faults);

	/* Unset, drop the device mappings (mprotect invalidates), access again. */
	ASSERT_EQ(0, svmx_advise(self->fd, mem, half,
				 SVMX_ADVISE_UNSET_PREFERRED_LOCATION, 0));
	ASSERT_EQ(0, mprotect(mem, half, PROT_READ));
	ASSERT_EQ(0, mprotect(mem, half, PROT_READ | PROT_WRITE));
	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, half, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, half, 11));
	EXPECT_EQ(n / 2, c.pages_to_device);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	munmap(mem, size);
	free(buf);
	free(snap);
}

static uint64_t mem_available(void)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb << 10;
}

#define OVS_BATCH	2048	/* pages per verification call, 2 ops each */

/*
 * A working set twice the device memory: device atomics over all of it
 * evict and migrate, then every page is verified through the device and by
 * the CPU.
 */
TEST_F_TIMEOUT(migrate, oversubscribe_2x, 900)
{
	size_t ps = self->ps, size = 2 * self->v.mem_bytes;
	unsigned long n = size / ps, first, j, bad = 0;
	struct svmx_counters c, sum = {};
	struct svmx_stats s0, s1;
	struct svmx_op *ops;
	uint64_t *out, *mem64;
	char *mem;

	if (size > (1UL << 30))
		SKIP(return, "device memory of %llu MiB: a 2x working set is too big here",
		     (unsigned long long)self->v.mem_bytes >> 20);
	if (mem_available() < size + self->v.mem_bytes + 256 * MIB)
		SKIP(return, "not enough memory for %zu MiB plus device backing", size >> 20);
	mem = svmx_map_anon(size, MAP_PRIVATE);
	ops = calloc(2 * OVS_BATCH, sizeof(*ops));
	out = calloc(3 * OVS_BATCH, sizeof(*out));
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, ops);
	ASSERT_NE(NULL, out);
	svmx_tags_fill(mem, n, 12);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));

	/* One atomic per page, the counter word at offset 8. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_atomic(mem + 8, n, ps, 1), &c));
	/* More pages moved in than the device holds: eviction made room. */
	EXPECT_GT(c.pages_to_device, self->v.mem_bytes / ps);
	EXPECT_GT(c.evictions, 0);
	EXPECT_GT(c.evicted_pages, 0);
	SVMX_LOG_COUNTERS("atomic pass", &c);

	/* Through the device: tag 0 + counter, and tag 7, of every page. */
	for (first = 0; first < n; first += OVS_BATCH) {
		unsigned long cnt = n - first < OVS_BATCH ? n - first : OVS_BATCH;
		int ret;

		for (j = 0; j < cnt; j++) {
			char *pg = mem + (first + j) * ps;

			ops[2 * j] = svmx_op_read(pg, 16, &out[3 * j]);
			ops[2 * j + 1] = svmx_op_read(pg + 7 * (ps / 8), 8, &out[3 * j + 2]);
		}
		ret = svmx_exec(self->fd, ops, 2 * cnt, &c);
		if (ret) {
			EXPECT_EQ(0, ret) TH_LOG("verification call at page %lu", first);
			break;
		}
		svmx_counters_add(&sum, &c);
		for (j = 0; j < cnt; j++) {
			if (out[3 * j] == svmx_tag(12, first + j, 0) && out[3 * j + 1] == 1 &&
			    out[3 * j + 2] == svmx_tag(12, first + j, 7))
				continue;
			if (!bad++)
				TH_LOG("device view of page %lu: %#llx %llu %#llx", first + j,
				       (unsigned long long)out[3 * j],
				       (unsigned long long)out[3 * j + 1],
				       (unsigned long long)out[3 * j + 2]);
		}
	}
	EXPECT_EQ(0, bad);
	EXPECT_GT(sum.evictions, 0);
	SVMX_LOG_COUNTERS("verification pass", &sum);

	/* And by the CPU. */
	EXPECT_EQ(-1, svmx_tags_check(mem, n, 12));
	mem64 = (uint64_t *)mem;
	for (j = 0, bad = 0; j < n; j++)
		bad += mem64[j * ps / 8 + 1] != 1;
	EXPECT_EQ(0, bad);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_GT(s1.device.evictions - s0.device.evictions, 0);
	EXPECT_GT(s1.ctx.evictions, 0);
	EXPECT_LE(s1.mem_used_bytes, s1.mem_bytes);
	munmap(mem, size);
	free(ops);
	free(out);
}

/*
 * Calls a worker makes at most when it is to run until its range goes away
 * (3 -EFAULTs): a bound by count, so that a range that never goes away
 * fails the test with a message instead of running into the timeout.
 */
#define WORKER_MAX_CALLS	1000

/*
 * Device work of a thread: @max_iters calls, or until 3 -EFAULTs.  Bounded
 * by calls, never by wall-clock time: a slow machine runs every call.
 */
struct worker {
	int fd;
	char *mem;
	unsigned long npages;
	size_t ps;
	uint64_t seed;
	int max_iters;		/* 0: until 3 -EFAULTs, at most WORKER_MAX_CALLS */
	int atomics;		/* also add 1 to each page's counter word */
	int iters;		/* successful calls */
	int efaults;
	int other_err;
	unsigned long bad_data;
	int finished;
};

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	unsigned long n = w->npages, j, base = w->atomics ? 1 : 0;
	struct svmx_op *ops = calloc(n + 1, sizeof(*ops));
	uint64_t *out = calloc(2 * n, sizeof(*out));
	int max = w->max_iters ? w->max_iters : WORKER_MAX_CALLS;

	if (!ops || !out) {
		w->other_err = -ENOMEM;
		goto out;
	}
	if (w->atomics)
		ops[0] = svmx_op_atomic(w->mem + 8, n, w->ps, 1);
	for (j = 0; j < n; j++)
		ops[base + j] = svmx_op_read(w->mem + j * w->ps, 16, &out[2 * j]);

	while (w->iters < max) {
		int ret = svmx_exec(w->fd, ops, n + base, NULL);

		if (ret == -EFAULT) {
			if (++w->efaults >= 3)
				break;
			continue;
		}
		if (ret) {
			w->other_err = ret;
			break;
		}
		for (j = 0; j < n; j++)
			if (out[2 * j] != svmx_tag(w->seed, j, 0) ||
			    (w->atomics && out[2 * j + 1] != (uint64_t)w->iters + 1))
				w->bad_data++;
		/* Now and then the CPU checks (and takes back) one page. */
		if (w->atomics && w->iters % 4 == 3) {
			char *pg = w->mem + (w->iters % n) * w->ps;

			if (*(uint64_t *)pg != svmx_tag(w->seed, w->iters % n, 0) ||
			    *(uint64_t *)(pg + 8) != (uint64_t)w->iters + 1)
				w->bad_data++;
		}
		__atomic_store_n(&w->iters, w->iters + 1, __ATOMIC_RELEASE);
	}
out:
	free(ops);
	free(out);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

#define EVICT_ITERS	30

/*
 * evict_all, over and over, while another thread runs device atomics and
 * reads over the range and the CPU takes pages back: nothing is lost.  The
 * worker makes all EVICT_ITERS calls however long they take (the debug
 * kernel on 2 cores needs about 4 s a call); the timeout only catches a
 * hang.
 */
TEST_F_TIMEOUT(migrate, evict_during_device_work, 900)
{
	size_t ps = self->ps, size = 8 * MIB;
	unsigned long n = size / ps, j, bad = 0;
	struct worker w = { .fd = self->fd, .npages = n, .ps = ps, .seed = 13,
			    .max_iters = EVICT_ITERS, .atomics = 1 };
	int calls = 0, busy = 0, other = 0;
	uint8_t *snap = malloc(n);
	struct svmx_stats s0, s1;
	struct svmx_counters d;
	pthread_t t;

	if (!svmx_debugfs_ok(0))
		SKIP(return, "debugfs " SVMX_DEBUGFS "/svmx0 not available");
	ASSERT_NE(NULL, snap);
	w.mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, w.mem);
	svmx_tags_fill(w.mem, n, 13);
	ASSERT_EQ(0, svmx_migrate(self->fd, w.mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));

	ASSERT_EQ(0, pthread_create(&t, NULL, worker_thread, &w));
	while (!__atomic_load_n(&w.finished, __ATOMIC_ACQUIRE)) {
		int ret = svmx_evict_all(0);

		calls++;
		if (ret == -EBUSY)
			busy++;
		else if (ret)
			other = ret;
		usleep(5000);
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%d evict_all calls (%d busy) during %d device calls", calls,
	       busy, w.iters);
	EXPECT_EQ(0, w.other_err);
	EXPECT_EQ(EVICT_ITERS, w.iters);
	EXPECT_EQ(0, w.bad_data);
	EXPECT_EQ(0, other);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	d = svmx_counters_sub(&s1.device, &s0.device);
	/*
	 * Whether one evict_all finds the device empty at its end depends on
	 * how fast the worker faults its pages back (-EBUSY then), so only
	 * the evictions that completed are required.
	 */
	EXPECT_GT(d.evictions - d.evictions_failed, 0);
	EXPECT_GT(d.evicted_pages, 0);
	/* The worker found its pages evicted and brought them back. */
	EXPECT_GT(d.pages_to_device, 0);

	/* Quiet now: one more evict_all empties the device. */
	ASSERT_EQ(0, svmx_evict_all(0));
	ASSERT_EQ(0, svmx_snapshot(self->fd, w.mem, n, snap, NULL));
	EXPECT_EQ(0, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	EXPECT_EQ(0, s1.resident_pages);
	EXPECT_EQ(-1, svmx_tags_check(w.mem, n, 13));
	for (j = 0; j < n; j++)
		bad += *(uint64_t *)(w.mem + j * ps + 8) != EVICT_ITERS;
	EXPECT_EQ(0, bad);
	munmap(w.mem, size);
	free(snap);
}

/*
 * debugfs evict_all moves everything to system memory: data intact, device
 * empty, device mappings gone, counters in debugfs and STATS agree.
 */
TEST_F(migrate, evict_all_debugfs)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	struct svmx_stats s0, s1, s2;
	struct svmx_counters c, d;
	uint64_t v = 0;
	char *mem, *buf;

	if (!svmx_debugfs_ok(0))
		SKIP(return, "debugfs " SVMX_DEBUGFS "/svmx0 not available");
	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 14);
	svmx_pat_fill(buf, size, 15);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, size, buf), NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	ASSERT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	EXPECT_GE(s0.resident_pages, n);
	EXPECT_GT(s0.blocks, 0);

	ASSERT_EQ(0, svmx_evict_all(0));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	d = svmx_counters_sub(&s1.device, &s0.device);
	EXPECT_GT(d.evictions, 0);
	EXPECT_GE(d.evicted_pages, n);
	EXPECT_GE(d.pages_to_system, n);
	EXPECT_EQ(0, s1.resident_pages);
	EXPECT_EQ(0, s1.blocks);
	EXPECT_EQ(0, s1.mem_used_bytes);
	ASSERT_EQ(0, svmx_debugfs_stat(0, "evictions", &v));
	EXPECT_EQ(s1.device.evictions, v);
	ASSERT_EQ(0, svmx_debugfs_stat(0, "pages_to_system", &v));
	EXPECT_EQ(s1.device.pages_to_system, v);
	ASSERT_EQ(0, svmx_debugfs_stat(0, "resident_pages", &v));
	EXPECT_EQ(0, v);

	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_SYSTEM));
	EXPECT_EQ(0, svmx_snap_count(snap, n, SVMX_SNAP_DEV_MAPPED, SVMX_SNAP_DEV_MAPPED));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 15));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s2));
	EXPECT_EQ(0, s2.device.cpu_faults - s1.device.cpu_faults);

	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 15));
	EXPECT_EQ(n, c.pages_to_device);
	munmap(mem, size);
	free(buf);
	free(snap);
}

/*
 * fork() with the data in device memory: the child reads the parent's data
 * with the CPU, gets its own copy when it writes, cannot use the parent's
 * binding but can bind for itself; the parent keeps its data.
 */
TEST_F(migrate, fork_cow)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	char *mem, *buf;
	int status;
	pid_t pid;

	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 16);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	ASSERT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* No harness assertions in here: plain exit codes. */
		int fd;

		if (svmx_pat_check(mem, size, 16) != -1)
			_exit(10);
		svmx_pat_fill(mem, size, 17);
		if (svmx_pat_check(mem, size, 17) != -1)
			_exit(11);
		if (svmx_exec1(self->fd, svmx_op_read(mem, ps, buf), NULL) != -EPERM)
			_exit(12);
		fd = svmx_open_bound(0);
		if (fd < 0)
			_exit(13);
		if (svmx_exec1(fd, svmx_op_read(mem, size, buf), NULL))
			_exit(14);
		if (svmx_pat_check(buf, size, 17) != -1)
			_exit(15);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child failed: 10 parent data, 11 own copy, 12 EPERM, 13 bind, 14/15 own device read");

	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 16));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 16));
	svmx_pat_fill(buf, size, 18);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 18));
	munmap(mem, size);
	free(buf);
	free(snap);
}

/*
 * Device writes to memory shared copy-on-write with a live child: the
 * parent sees its writes, the child keeps the old data.  @resident: the
 * data is in device memory when the child is forked.
 */
static void device_write_cow(struct __test_metadata *_metadata,
			     FIXTURE_DATA(migrate) *self, bool resident)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	uint8_t *snap = malloc(n);
	struct svmx_counters c;
	int go[2], status;
	char *mem, *buf;
	pid_t pid;

	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 30);
	if (resident) {
		ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
		ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
		ASSERT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	}
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char x;

		close(go[1]);
		if (read(go[0], &x, 1) != 1)
			_exit(10);
		_exit(svmx_pat_check(mem, size, 30) == -1 ? 0 : 11);
	}
	close(go[0]);

	svmx_pat_fill(buf, size, 31);
	EXPECT_EQ(0, svmx_exec1(self->fd, svmx_op_write(mem, size, buf), &c));
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("write", &c);
	memset(buf, 0, size);
	EXPECT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 31));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 31));
	ASSERT_EQ(1, write(go[1], "x", 1));
	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("the child saw the parent's device writes");
	munmap(mem, size);
	free(buf);
	free(snap);
}

/* Device writes to copy-on-write memory in system memory break the sharing. */
TEST_F(migrate, device_write_breaks_cow)
{
	device_write_cow(_metadata, self, false);
}

/* The same with the data in device memory when the child is forked. */
TEST_F(migrate, device_write_breaks_cow_resident)
{
	device_write_cow(_metadata, self, true);
}

/*
 * Start @w and wait until it completed @iters calls; false when it stopped
 * before (its calls are bounded, so this wait is too).
 */
static bool worker_start(struct worker *w, pthread_t *t, int iters)
{
	if (pthread_create(t, NULL, worker_thread, w))
		return false;
	while (__atomic_load_n(&w->iters, __ATOMIC_ACQUIRE) < iters &&
	       !__atomic_load_n(&w->finished, __ATOMIC_ACQUIRE))
		usleep(500);
	return __atomic_load_n(&w->iters, __ATOMIC_ACQUIRE) >= iters;
}

/*
 * munmap() of half the range while a thread runs device reads over all of
 * it: the thread gets data or -EFAULT, the unmapped half then gives
 * -EFAULT and frees its device memory, the other half is intact.
 */
TEST_F_TIMEOUT(migrate, munmap_during_device_work, 600)
{
	size_t ps = self->ps, size = 8 * MIB, half = size / 2;
	unsigned long n = size / ps;
	struct worker w = { .fd = self->fd, .npages = n, .ps = ps, .seed = 19 };
	uint64_t *out = calloc(n, sizeof(*out));
	uint8_t *snap = malloc(n);
	struct svmx_stats st;
	uint64_t resident;
	pthread_t t;
	bool started;
	int i;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, snap);
	w.mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, w.mem);
	svmx_tags_fill(w.mem, n, 19);
	ASSERT_EQ(0, svmx_migrate(self->fd, w.mem, size, SVMX_TARGET_SELF, NULL));

	started = worker_start(&w, &t, 3);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	resident = st.resident_pages;
	ASSERT_EQ(0, munmap(w.mem + half, half));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_TRUE(started);
	EXPECT_EQ(0, w.other_err);
	EXPECT_EQ(0, w.bad_data);
	EXPECT_GT(w.efaults, 0);

	EXPECT_EQ(-EFAULT, svmx_exec1(self->fd, svmx_op_read(w.mem + half, 8, out), NULL));
	/* A fill spanning both halves runs nowhere: the tags below survive. */
	EXPECT_EQ(-EFAULT, svmx_exec1(self->fd, svmx_op_fill(w.mem, size, 0), NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, w.mem + half, n / 2, snap, NULL));
	EXPECT_EQ(n / 2, svmx_snap_count(snap, n / 2, 0xff, SVMX_SNAP_NONE));
	/*
	 * The unmapped half's device memory is freed.  munmap() frees it
	 * before it returns; should a release ever be deferred, it gets up to
	 * 6000 polls 10 ms apart, a generous bound that fails as a timeout.
	 */
	for (i = 0; i < 6000; i++) {
		ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
		if ((int64_t)resident - (int64_t)st.resident_pages >= (int64_t)n / 2)
			break;
		usleep(10000);
	}
	EXPECT_GE((int64_t)resident - (int64_t)st.resident_pages, (int64_t)n / 2)
		TH_LOG("timeout: device memory of the unmapped half not freed after %d polls", i);

	ASSERT_EQ(0, device_read_tag0(self->fd, w.mem, n / 2, ps, out, NULL));
	EXPECT_EQ(-1, tag0_check(out, n / 2, 19));
	EXPECT_EQ(-1, svmx_tags_check(w.mem, n / 2, 19));
	munmap(w.mem, half);
	free(out);
	free(snap);
}

/*
 * mremap() of the range while a thread runs device reads over it: the old
 * address then gives -EFAULT; at the new one the data is still in device
 * memory, unmapped from the device, and needs no migration to be used.
 */
TEST_F_TIMEOUT(migrate, mremap_during_device_work, 600)
{
	size_t ps = self->ps, size = 8 * MIB;
	unsigned long n = size / ps;
	struct worker w = { .fd = self->fd, .npages = n, .ps = ps, .seed = 20 };
	uint64_t *out = calloc(n, sizeof(*out));
	uint8_t *snap = malloc(n);
	struct svmx_counters c;
	char *dst, *moved;
	pthread_t t;
	bool started;

	ASSERT_NE(NULL, out);
	ASSERT_NE(NULL, snap);
	dst = svmx_map_guarded(size, ps, 0, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	ASSERT_NE(NULL, dst);
	w.mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, w.mem);
	svmx_tags_fill(w.mem, n, 20);
	ASSERT_EQ(0, svmx_migrate(self->fd, w.mem, size, SVMX_TARGET_SELF, NULL));

	started = worker_start(&w, &t, 3);
	moved = mremap(w.mem, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, moved);
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_TRUE(started);
	EXPECT_EQ(0, w.other_err);
	EXPECT_EQ(0, w.bad_data);
	EXPECT_GT(w.efaults, 0);

	EXPECT_EQ(-EFAULT, svmx_exec1(self->fd, svmx_op_read(w.mem, 8, out), NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, dst, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(0, svmx_snap_count(snap, n, SVMX_SNAP_DEV_MAPPED, SVMX_SNAP_DEV_MAPPED));

	ASSERT_EQ(0, device_read_tag0(self->fd, dst, n, ps, out, &c));
	EXPECT_EQ(-1, tag0_check(out, n, 20));
	EXPECT_GT(c.faults, 0);
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(n, c.local_accesses);
	EXPECT_EQ(-1, svmx_tags_check(dst, n, 20));
	munmap(dst, size);
	free(out);
	free(snap);
}

/* A bound file of device 1, or -1 (and SKIP) without one. */
static int open_dev1(struct __test_metadata *_metadata, FIXTURE_DATA(migrate) *self)
{
	int fd;

	if (self->v.nr_devices < 2)
		SKIP(return -1, "needs two svmx devices (nr_devices=%u)", self->v.nr_devices);
	fd = svmx_open_bound(1);
	ASSERT_GE(fd, 0);
	return fd;
}

/*
 * Hive: device 1 maps device 0's memory directly (PEER, peer accesses, no
 * migration), writes through it, and PREFERRED_LOCATION=1 makes device 0's
 * faults place data in device 1.
 */
TEST_F(migrate, two_devices_peer)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps, i;
	uint8_t *snap = malloc(n), *peer = malloc(n);
	struct svmx_counters c;
	struct svmx_stats st;
	char *mem, *mem2, *buf;
	int fd1;

	if ((self->v.hive_mask & 3) != 3)
		SKIP(return, "devices 0 and 1 not in one hive (hive_mask=%#x); load svmx with hive_mask=3",
		     self->v.hive_mask);
	fd1 = open_dev1(_metadata, self);
	if (fd1 < 0)
		return;
	mem = svmx_map_anon(size, MAP_PRIVATE);
	mem2 = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, mem2);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, peer);
	svmx_pat_fill(mem, size, 21);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	ASSERT_EQ(n, c.pages_to_device);

	ASSERT_EQ(0, svmx_exec1(fd1, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 21));
	EXPECT_GT(c.faults, 0);
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(n, c.peer_accesses);
	EXPECT_EQ(0, c.local_accesses);
	EXPECT_EQ(0, c.remote_accesses);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("device 1 read", &c);
	ASSERT_EQ(0, svmx_snapshot(fd1, mem, n, snap, peer));
	EXPECT_EQ(n, svmx_snap_count(snap, n, SVMX_SNAP_LOC_MASK | SVMX_SNAP_DEV_MAPPED,
				     SVMX_SNAP_PEER | SVMX_SNAP_DEV_MAPPED));
	for (i = 0; i < n && peer[i] == 0; i++)
		;
	EXPECT_EQ(n, i);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	ASSERT_EQ(0, svmx_get_stats(fd1, &st));
	EXPECT_GT(st.ctx.peer_accesses, 0);
	EXPECT_EQ(0, st.ctx.pages_to_device);

	/* Device 1 writes into device 0's memory; device 0 reads it. */
	svmx_pat_fill(buf, size, 22);
	ASSERT_EQ(0, svmx_exec1(fd1, svmx_op_write(mem, size, buf), &c));
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(n, c.peer_accesses);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 22));
	EXPECT_EQ(n, c.local_accesses);
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 22));

	/* Preferred location: the peer. */
	svmx_pat_fill(mem2, size, 23);
	ASSERT_EQ(0, svmx_advise(self->fd, mem2, size, SVMX_ADVISE_PREFERRED_LOCATION, 1));
	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem2, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 23));
	EXPECT_EQ(n, c.peer_accesses);
	EXPECT_EQ(0, c.local_accesses);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem2, n, snap, peer));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_PEER));
	for (i = 0; i < n && peer[i] == 1; i++)
		;
	EXPECT_EQ(n, i);
	ASSERT_EQ(0, svmx_snapshot(fd1, mem2, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_EQ(-1, svmx_pat_check(mem2, size, 23));

	close(fd1);
	munmap(mem, size);
	munmap(mem2, size);
	free(buf);
	free(snap);
	free(peer);
}

/*
 * No hive: device 1 cannot map device 0's memory, the data leaves device 0
 * for device 1's access and back for device 0's; no peer access anywhere.
 */
TEST_F(migrate, two_devices_bounce)
{
	size_t ps = self->ps, size = 4 * MIB;
	unsigned long n = size / ps;
	uint8_t *snap = malloc(n);
	struct svmx_counters c;
	char *mem, *buf;
	int fd1;

	if ((self->v.hive_mask & 3) == 3)
		SKIP(return, "devices 0 and 1 share a hive: two_devices_peer covers it");
	fd1 = open_dev1(_metadata, self);
	if (fd1 < 0)
		return;
	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, snap);
	svmx_pat_fill(mem, size, 24);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	ASSERT_EQ(n, c.pages_to_device);

	ASSERT_EQ(0, svmx_exec1(fd1, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 24));
	EXPECT_GT(c.faults, 0);
	EXPECT_EQ(0, c.peer_accesses);
	ASSERT_EQ(0, svmx_snapshot(fd1, mem, n, snap, NULL));
	EXPECT_EQ(0, svmx_snap_loc_count(snap, n, SVMX_SNAP_PEER));
	EXPECT_EQ(n, svmx_snap_count(snap, n, SVMX_SNAP_DEV_MAPPED, SVMX_SNAP_DEV_MAPPED));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(0, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));

	svmx_pat_fill(buf, size, 25);
	ASSERT_EQ(0, svmx_exec1(fd1, svmx_op_write(mem, size, buf), &c));
	EXPECT_EQ(0, c.peer_accesses);
	memset(buf, 0, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, size, 25));
	EXPECT_EQ(0, c.peer_accesses);
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(0, svmx_snap_loc_count(snap, n, SVMX_SNAP_PEER));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 25));
	close(fd1);
	munmap(mem, size);
	free(buf);
	free(snap);
}

static const char *const trace_events[] = {
	"svmx_fault", "svmx_migrate", "svmx_cpu_fault", "svmx_evict",
	"svmx_block_alloc", "svmx_block_free", "svmx_invalidate",
	"svmx_remote_map", "svmx_policy",
};
#define NR_TRACE_EVENTS ARRAY_SIZE(trace_events)

static int trace_enable(const char *event, const char *on)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	return svmx_write_file(path, on);
}

/*
 * Every migration tracepoint present fires for device 0 during a fault,
 * a CPU fault, an eviction and a remote mapping.
 */
TEST_F(migrate, tracepoints)
{
	size_t ps = self->ps, size = 2 * MIB;
	bool on[NR_TRACE_EVENTS], any = false, evict = svmx_debugfs_ok(0);
	char *mem, *fmem, *buf, *trace, want[64];
	unsigned int i;
	int mfd;

	if (access(TRACEFS "/events/svmx", F_OK))
		SKIP(return, "tracefs or svmx events not available");
	mem = svmx_map_anon(size, MAP_PRIVATE);
	buf = malloc(size);
	ASSERT_NE(NULL, mem);
	ASSERT_NE(NULL, buf);
	mfd = memfd_create("svmx-trace", MFD_CLOEXEC);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, ftruncate(mfd, 16 * ps));
	fmem = svmx_map_guarded(16 * ps, ps, 0, PROT_READ | PROT_WRITE, MAP_SHARED, mfd);
	ASSERT_NE(NULL, fmem);
	svmx_pat_fill(mem, size, 26);
	memset(fmem, 1, 16 * ps);

	ASSERT_EQ(0, svmx_write_file(TRACEFS "/trace", ""));
	for (i = 0; i < NR_TRACE_EVENTS; i++) {
		on[i] = !trace_enable(trace_events[i], "1");
		if (!on[i])
			TH_LOG("event svmx/%s absent, not checked", trace_events[i]);
		any |= on[i];
	}
	if (!any)
		SKIP(return, "none of the svmx migration events exists");

	/* device fault + migration, CPU fault back, again, eviction, remote */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 26));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	if (evict)
		EXPECT_EQ(0, svmx_evict_all(0));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(fmem, 16 * ps, buf), NULL));

	for (i = 0; i < NR_TRACE_EVENTS; i++)
		if (on[i])
			trace_enable(trace_events[i], "0");
	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	for (i = 0; i < NR_TRACE_EVENTS; i++) {
		if (!on[i] || (!evict && !strcmp(trace_events[i], "svmx_evict")))
			continue;
		snprintf(want, sizeof(want), "%s: dev=0 ", trace_events[i]);
		EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("no '%s' in the trace", want);
	}
	free(trace);
	munmap(fmem, 16 * ps);
	close(mfd);
	munmap(mem, size);
	free(buf);
}

TEST_HARNESS_MAIN
