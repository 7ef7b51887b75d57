// SPDX-License-Identifier: GPL-2.0
/*
 * Eviction: evictions are counted by reason.  Every test checks the data
 * as well.
 */
#include <sys/mman.h>

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * whether GCC warns depends on inlining.  Nothing of ours is involved.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

FIXTURE(evict)
{
	int fd;
	struct svmx_version v;
	size_t ps;
};

FIXTURE_SETUP(evict)
{
	self->ps = svmx_page_size();
	self->fd = svmx_open_bound(0);
	if (self->fd == -ENOENT)
		SKIP(return, "/dev/svmx0 not present");
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
	if (!svmx_debugfs_ok(0))
		SKIP(return, "debugfs " SVMX_DEBUGFS "/svmx0 not available");
}

FIXTURE_TEARDOWN(evict)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Evictions are counted by reason in the call's, the binding's and the
 * device's counters, and the reasons add up to the total.
 */
TEST_F(evict, counted_by_reason)
{
	size_t size = 4 * SZ_2M, n = size / self->ps;
	struct svmx_stats s0, s1;
	struct svmx_counters d;
	uint64_t v = 0;
	char *mem;

	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_tags_fill(mem, n, 43);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	ASSERT_EQ(0, svmx_evict_all(0));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	d = svmx_counters_sub(&s1.device, &s0.device);
	EXPECT_GE(d.evictions, 4);
	EXPECT_EQ(d.evictions, d.evictions_request);
	EXPECT_EQ(0, d.evictions_pressure);
	EXPECT_EQ(0, d.evictions_prefetch);
	EXPECT_EQ(0, d.evictions_failed);
	/* evict_all is nobody's binding: the context saw none of it. */
	EXPECT_EQ(s0.ctx.evictions_request, s1.ctx.evictions_request);
	EXPECT_EQ(s1.device.evictions, s1.device.evictions_pressure +
		  s1.device.evictions_prefetch + s1.device.evictions_request);
	ASSERT_EQ(0, svmx_debugfs_stat(0, "evictions_request", &v));
	EXPECT_EQ(s1.device.evictions_request, v);
	ASSERT_EQ(0, svmx_debugfs_stat(0, "evictions_failed", &v));
	EXPECT_EQ(s1.device.evictions_failed, v);
	EXPECT_EQ(-1, svmx_tags_check(mem, n, 43));
	munmap(mem, size);
}

TEST_HARNESS_MAIN
