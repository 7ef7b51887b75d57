// SPDX-License-Identifier: GPL-2.0
/*
 * Eviction: the destination block of a migration is reserved (evicting if
 * needed) before the source pages are collected, a device fragmented by
 * small blocks yields an aligned 2 MiB hole by evicting the blocks of one
 * window rather than LRU blocks all over it, and evictions are counted by
 * reason.  Every test checks the data as well.
 */
#include <sys/mman.h>

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * whether GCC warns depends on inlining.  Nothing of ours is involved.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define SZ_64K		(64UL << 10)
#define SLOTS		(SZ_2M / SZ_64K)	/* 64 KiB slots per 2 MiB window */

FIXTURE(evict)
{
	int fd;
	struct svmx_version v;
	size_t ps;
};

FIXTURE_SETUP(evict)
{
	self->ps = svmx_page_size();
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
	if (!svmx_debugfs_ok(0))
		SKIP(return, "debugfs " SVMX_DEBUGFS "/svmx0 not available");
}

FIXTURE_TEARDOWN(evict)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int trace_event(const char *event, const char *on)
{
	char path[160];

	snprintf(path, sizeof(path), TRACEFS "/events/svmx/%s/enable", event);
	return svmx_write_file(path, on);
}

static const char *const window_events[] = {
	"svmx_collect", "svmx_migrate", "svmx_evict", "svmx_evict_hole",
};

static int window_trace(const char *on)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(window_events); i++)
		ret = ret ?: trace_event(window_events[i], on);
	return ret;
}

/*
 * Evictions of device 0 seen between the collection of a migration to the
 * device (svmx_collect) and its end (svmx_migrate dir=to_device): the
 * window in which source pages are locked.  *@total counts all evictions.
 */
static int evictions_in_window(const char *trace, int *total)
{
	const char *line = trace;
	bool open = false;
	int inside = 0;

	*total = 0;
	while (line && *line) {
		const char *next = strchr(line, '\n');
		size_t len = next ? (size_t)(next - line) : strlen(line);
		char buf[512];

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < 511 ? len : 511), line);
		if (strstr(buf, "svmx_collect: dev=0 "))
			open = true;
		else if (strstr(buf, "svmx_migrate: dev=0 dir=to_device"))
			open = false;
		else if (strstr(buf, "svmx_evict: dev=0 ")) {
			(*total)++;
			inside += open;
		}
		line = next ? next + 1 : NULL;
	}
	return inside;
}

/*
 * Fragment device 0: fill it with 64 KiB blocks (first fit places them in
 * address order), then free all but slots 0 and SLOTS / 2 of every 2 MiB
 * window, and order the LRU so that every window's slot 0 comes before any
 * slot SLOTS / 2: evicting in LRU order frees no 2 MiB aligned hole before
 * half of the blocks are gone, while plenty of memory is free.  Returns the
 * mapping holding the blocks (its pages are zero), or NULL.
 */
static char *fragment(struct __test_metadata *_metadata, FIXTURE_DATA(evict) *self)
{
	size_t size = self->v.mem_bytes, nwin = size / SZ_2M, off, w;
	struct svmx_op *ops = calloc(nwin, sizeof(*ops));
	uint64_t *out = calloc(nwin, sizeof(*out));
	struct svmx_stats st;
	char *mem;
	int ret;

	if (!ops || !out)
		goto fail;
	ret = svmx_evict_all(0);
	if (ret) {
		TH_LOG("evict_all before the test: %d", ret);
		goto fail;
	}
	if (svmx_get_stats(self->fd, &st) || st.blocks) {
		TH_LOG("device 0 still holds %llu blocks of other users",
		       (unsigned long long)st.blocks);
		goto fail;
	}
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	if (!mem)
		goto fail;
	for (off = 0; off < size; off += SZ_64K) {
		ret = svmx_migrate(self->fd, mem + off, SZ_64K, SVMX_TARGET_SELF, NULL);
		if (ret) {
			TH_LOG("MIGRATE of 64 KiB at %zu: %d", off, ret);
			goto fail_unmap;
		}
	}
	if (svmx_get_stats(self->fd, &st) || st.blocks != size / SZ_64K ||
	    st.mem_used_bytes != size) {
		TH_LOG("after filling: %llu blocks, %llu bytes used",
		       (unsigned long long)st.blocks,
		       (unsigned long long)st.mem_used_bytes);
		goto fail_unmap;
	}
	for (w = 0; w < nwin; w++) {
		char *win = mem + w * SZ_2M;

		madvise(win + SZ_64K, (SLOTS / 2 - 1) * SZ_64K, MADV_DONTNEED);
		madvise(win + (SLOTS / 2 + 1) * SZ_64K, (SLOTS / 2 - 1) * SZ_64K,
			MADV_DONTNEED);
	}
	if (svmx_get_stats(self->fd, &st) || st.blocks != 2 * nwin) {
		TH_LOG("after freeing: %llu blocks, want %zu",
		       (unsigned long long)st.blocks, 2 * nwin);
		goto fail_unmap;
	}
	/* Touch slot 0 of every window, then slot SLOTS / 2: LRU order. */
	for (w = 0; w < nwin; w++)
		ops[w] = svmx_op_read(mem + w * SZ_2M, 8, &out[w]);
	if (svmx_exec(self->fd, ops, nwin, NULL))
		goto fail_unmap;
	for (w = 0; w < nwin; w++)
		ops[w] = svmx_op_read(mem + w * SZ_2M + SLOTS / 2 * SZ_64K, 8, &out[w]);
	if (svmx_exec(self->fd, ops, nwin, NULL))
		goto fail_unmap;
	free(ops);
	free(out);
	return mem;

fail_unmap:
	munmap(mem, size);
fail:
	free(ops);
	free(out);
	return NULL;
}

/*
 * A 2 MiB fault on a device with plenty of free memory but no free 2 MiB
 * aligned hole gets a whole 2 MiB block by evicting the two blocks of one
 * window, none of them while the source pages are collected; a 2 MiB
 * prefetch does the same and counts its evictions as prefetch evictions.
 */
TEST_F_TIMEOUT(evict, fragmented_device_yields_aligned_hole, 300)
{
	size_t ps = self->ps, n = SZ_2M / ps;
	int total = 0, inside, tracing;
	uint8_t *snap = malloc(n);
	char *frag, *a, *b, *buf, *trace;
	struct svmx_counters c;
	unsigned long nwin;

	ASSERT_NE(NULL, snap);
	frag = fragment(_metadata, self);
	ASSERT_NE(NULL, frag);
	nwin = self->v.mem_bytes / SZ_2M;
	a = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	b = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(SZ_2M);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(a, SZ_2M, 40);
	svmx_pat_fill(b, SZ_2M, 41);
	svmx_pat_fill(buf, SZ_2M, 42);

	tracing = !svmx_write_file(TRACEFS "/trace", "") && !window_trace("1");
	if (!tracing)
		TH_LOG("svmx_collect/svmx_evict events unavailable: window not checked");

	/* Device fault: the device writes all of a. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(a, SZ_2M, buf), &c));
	SVMX_LOG_COUNTERS("fault", &c);
	ASSERT_EQ(0, svmx_snapshot(self->fd, a, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_GE(c.evictions, 1);
	EXPECT_LE(c.evictions, 2);
	EXPECT_EQ(c.evictions, c.evictions_pressure);
	EXPECT_EQ(0, c.evictions_prefetch);
	EXPECT_EQ(0, c.evictions_failed);
	EXPECT_EQ(2 * SZ_64K / ps, c.evicted_pages);

	/* Prefetch: b moves as a whole, evicting another window. */
	ASSERT_EQ(0, svmx_migrate(self->fd, b, SZ_2M, SVMX_TARGET_SELF, &c));
	SVMX_LOG_COUNTERS("prefetch", &c);
	ASSERT_EQ(0, svmx_snapshot(self->fd, b, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	EXPECT_GE(c.evictions, 1);
	EXPECT_LE(c.evictions, 2);
	EXPECT_EQ(c.evictions, c.evictions_prefetch);
	EXPECT_EQ(0, c.evictions_pressure);

	if (tracing) {
		window_trace("0");
		trace = svmx_read_trace();
		ASSERT_NE(NULL, trace);
		inside = evictions_in_window(trace, &total);
		EXPECT_EQ(0, inside) TH_LOG("%d of %d evictions while source pages were collected",
					    inside, total);
		EXPECT_GE(total, 2);
		EXPECT_NE(NULL, strstr(trace, "svmx_evict_hole: dev=0 "));
		free(trace);
	}

	/* Data: both chunks, and the evicted (zero) slots of the fragmenter. */
	EXPECT_EQ(-1, svmx_pat_check(a, SZ_2M, 42));
	EXPECT_EQ(-1, svmx_pat_check(b, SZ_2M, 41));
	EXPECT_EQ(-1, svmx_words_check(frag, SZ_64K, 0));
	EXPECT_EQ(-1, svmx_words_check(frag + SZ_2M + SLOTS / 2 * SZ_64K, SZ_64K, 0));
	munmap(frag, nwin * SZ_2M);
	munmap(a, SZ_2M);
	munmap(b, SZ_2M);
	free(buf);
	free(snap);
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

/*
 * The block is reserved for the whole chunk before the collection; when
 * only half of the chunk can move (the other half is already on the
 * device), it shrinks and gives its tail back: device memory in use is
 * what the pages need, not a 2 MiB block per chunk.
 */
TEST_F(evict, reserved_block_shrinks_to_movable_pages)
{
	size_t ps = self->ps, n = SZ_2M / ps, half = SZ_2M / 2;
	uint8_t *snap = malloc(n);
	struct svmx_stats st;
	char *mem, *trace;
	int tracing;

	ASSERT_NE(NULL, snap);
	ASSERT_EQ(0, svmx_evict_all(0));
	mem = svmx_map_aligned(SZ_2M, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, SZ_2M, 44);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, half, SVMX_TARGET_SELF, NULL));
	tracing = !svmx_write_file(TRACEFS "/trace", "") &&
		  !trace_event("svmx_block_shrink", "1");
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, SZ_2M, SVMX_TARGET_SELF, NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(snap, n, SVMX_SNAP_LOCAL));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	EXPECT_EQ(2, st.blocks);
	EXPECT_EQ(SZ_2M, st.mem_used_bytes);
	if (tracing) {
		trace_event("svmx_block_shrink", "0");
		trace = svmx_read_trace();
		ASSERT_NE(NULL, trace);
		EXPECT_NE(NULL, strstr(trace, "order=8 refs=1"));
		free(trace);
	}
	EXPECT_EQ(-1, svmx_pat_check(mem, SZ_2M, 44));
	munmap(mem, SZ_2M);
	free(snap);
}

/*
 * On a full device, migrating a range that is already there again evicts
 * nothing: the block is reserved with eviction only after the chunk was
 * counted and found to have movable pages.
 */
TEST_F_TIMEOUT(evict, full_device_remigrate_evicts_nothing, 300)
{
	size_t size = self->v.mem_bytes, n = size / self->ps;
	struct svmx_counters c;
	struct svmx_stats st;
	char *mem;

	ASSERT_EQ(0, svmx_evict_all(0));
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_tags_fill(mem, n, 45);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	EXPECT_EQ(n, c.pages_to_device);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	ASSERT_EQ(st.mem_bytes, st.mem_used_bytes) TH_LOG("device 0 not full");
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, &c));
	EXPECT_EQ(0, c.evictions);
	EXPECT_EQ(0, c.pages_to_device);
	EXPECT_EQ(-1, svmx_tags_check(mem, n, 45));
	munmap(mem, size);
}

TEST_HARNESS_MAIN
