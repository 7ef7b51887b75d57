// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for svmx's pure logic: chunk arithmetic, range validation,
 * the cost model and the device-memory allocator.  Built as svmx_kunit.ko
 * when the kernel has CONFIG_KUNIT; loading it (after svmx.ko) runs the
 * suites and leaves KTAP in debugfs (kunit/<suite>).
 */
#include <kunit/test.h>
#include <linux/genalloc.h>
#include <linux/mm.h>

#include "svmx.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define SZ_CHUNK	(PAGE_SIZE << SVMX_CHUNK_ORDER)

struct chunk_case {
	const char *desc;
	unsigned long addr, vm_start, vm_end;
	unsigned int order;
	unsigned long want_start, want_end;
};

static const struct chunk_case chunk_cases[] = {
	{ "inside a large vma", 0x40123000, 0x40000000, 0x80000000,
	  SVMX_CHUNK_ORDER, 0x40000000, 0x40200000 },
	{ "clipped at vma start", 0x40201000, 0x40201000, 0x80000000,
	  SVMX_CHUNK_ORDER, 0x40201000, 0x40400000 },
	{ "clipped at vma end", 0x402ff000, 0x40000000, 0x40300000,
	  SVMX_CHUNK_ORDER, 0x40200000, 0x40300000 },
	{ "single page", 0x40123abc, 0x40000000, 0x80000000,
	  0, 0x40123000, 0x40124000 },
	{ "64k order", 0x4012f000, 0x40000000, 0x80000000,
	  SVMX_MID_ORDER, 0x40120000, 0x40130000 },
	{ "vma of one page", 0x7000, 0x7000, 0x8000,
	  SVMX_CHUNK_ORDER, 0x7000, 0x8000 },
};

static void chunk_case_desc(const struct chunk_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(chunk, chunk_cases, chunk_case_desc);

/* The chunk is aligned, clipped to the VMA and holds the faulting page. */
static void svmx_chunk_around_test(struct kunit *test)
{
	const struct chunk_case *c = test->param_value;
	struct svmx_span s;

	s = svmx_chunk_around(c->addr, c->order, c->vm_start, c->vm_end);
	KUNIT_EXPECT_EQ(test, s.start, c->want_start);
	KUNIT_EXPECT_EQ(test, s.end, c->want_end);
	KUNIT_EXPECT_LE(test, s.start, c->addr);
	KUNIT_EXPECT_GT(test, s.end, c->addr);
}

/* Bad user ranges are rejected before anything is looked up. */
static void svmx_range_check_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, svmx_range_check(0x10000, PAGE_SIZE, SZ_1G), 0);
	KUNIT_EXPECT_EQ(test, svmx_range_check(0x10000, 0, SZ_1G), -EINVAL);
	KUNIT_EXPECT_EQ(test, svmx_range_check(0x10001, PAGE_SIZE, SZ_1G), -EINVAL);
	KUNIT_EXPECT_EQ(test, svmx_range_check(0x10000, 100, SZ_1G), -EINVAL);
	KUNIT_EXPECT_EQ(test, svmx_range_check(0x10000, SZ_2G, SZ_1G), -EINVAL);
	KUNIT_EXPECT_EQ(test, svmx_range_check(-PAGE_SIZE, 2 * PAGE_SIZE, ~0ULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, svmx_range_check(TASK_SIZE, PAGE_SIZE, SZ_1G), -EINVAL);
}

/* Bandwidth arithmetic: 53 GB/s moves 2 MiB in ~39.6 us, rounded up. */
static void svmx_cost_bytes_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, svmx_cost_bytes(1000, 1000), 1000ULL);
	KUNIT_EXPECT_EQ(test, svmx_cost_bytes(53000, SZ_2M), 39569ULL);
	KUNIT_EXPECT_EQ(test, svmx_cost_bytes(3, 1), 334ULL);
	KUNIT_EXPECT_EQ(test, svmx_cost_bytes(0, 1), 1000ULL);
	KUNIT_EXPECT_EQ(test, svmx_cost_bytes(1000, 0), 0ULL);
}

/* Remote access costs more than local; peer sits in between by default. */
static void svmx_cost_access_test(struct kunit *test)
{
	const struct svmx_cost_params *p = &svmx_cost_defaults;
	u64 local = svmx_cost_access(p, SVMX_MEM_LOCAL, PAGE_SIZE);
	u64 peer = svmx_cost_access(p, SVMX_MEM_PEER, PAGE_SIZE);
	u64 sys = svmx_cost_access(p, SVMX_MEM_SYSTEM, PAGE_SIZE);

	KUNIT_EXPECT_EQ(test, local, p->local_lat_ns +
			svmx_cost_bytes(p->local_bw_mbps, PAGE_SIZE));
	KUNIT_EXPECT_LT(test, local, peer);
	KUNIT_EXPECT_LT(test, peer, sys);
}

/* Coalescing pays: one command for 512 pages beats 512 commands. */
static void svmx_cost_copy_test(struct kunit *test)
{
	const struct svmx_cost_params *p = &svmx_cost_defaults;

	KUNIT_EXPECT_EQ(test, svmx_cost_copy(p, 1, SZ_2M),
			p->copy_setup_ns + svmx_cost_bytes(p->link_bw_mbps, SZ_2M));
	KUNIT_EXPECT_LT(test, svmx_cost_copy(p, 1, SZ_2M),
			svmx_cost_copy(p, 512, SZ_2M));
	KUNIT_EXPECT_EQ(test, svmx_cost_fault_batch(p, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, svmx_cost_fault_batch(p, 4),
			p->fault_batch_ns + 4ULL * p->fault_ns);
	KUNIT_EXPECT_EQ(test, svmx_cost_param_check("link_bw_mbps", 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, svmx_cost_param_check("link_lat_ns", 0), 0);
}

#define POOL_BASE	0x100000000UL	/* never dereferenced */
#define POOL_PAGES	2048		/* 8 MiB: four 2 MiB blocks */

static struct gen_pool *svmx_test_pool(struct kunit *test)
{
	struct gen_pool *pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);

	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, gen_pool_add(pool, POOL_BASE,
					   POOL_PAGES * PAGE_SIZE, NUMA_NO_NODE), 0);
	return pool;
}

/* Blocks are naturally aligned and the pool is exhausted exactly. */
static void svmx_pool_alignment_test(struct kunit *test)
{
	struct gen_pool *pool = svmx_test_pool(test);
	unsigned long small, big[4], size = PAGE_SIZE << SVMX_CHUNK_ORDER;
	int i;

	small = svmx_pool_alloc(pool, 0);
	KUNIT_EXPECT_EQ(test, small, POOL_BASE);
	/* The first 2 MiB slot is broken by the page: three remain. */
	for (i = 0; i < 3; i++) {
		big[i] = svmx_pool_alloc(pool, SVMX_CHUNK_ORDER);
		KUNIT_EXPECT_NE(test, big[i], 0UL);
		KUNIT_EXPECT_TRUE(test, IS_ALIGNED(big[i], size));
	}
	KUNIT_EXPECT_EQ(test, svmx_pool_alloc(pool, SVMX_CHUNK_ORDER), 0UL);
	/* Smaller orders still fit beside the page, aligned. */
	big[3] = svmx_pool_alloc(pool, SVMX_MID_ORDER);
	KUNIT_EXPECT_TRUE(test, IS_ALIGNED(big[3], PAGE_SIZE << SVMX_MID_ORDER));
	KUNIT_EXPECT_LT(test, big[3], POOL_BASE + size);
	svmx_pool_free(pool, big[3], SVMX_MID_ORDER);
	svmx_pool_free(pool, small, 0);
	/* With the page back, the first slot is whole again. */
	big[3] = svmx_pool_alloc(pool, SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, big[3], POOL_BASE);
	for (i = 0; i < 4; i++)
		svmx_pool_free(pool, big[i], SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, gen_pool_avail(pool), POOL_PAGES * PAGE_SIZE);
	gen_pool_destroy(pool);
}

/* Freed ranges are reused; no address is handed out twice. */
static void svmx_pool_reuse_test(struct kunit *test)
{
	struct gen_pool *pool = svmx_test_pool(test);
	unsigned long got[POOL_PAGES / 16];
	int i, j;

	for (i = 0; i < ARRAY_SIZE(got); i++) {
		got[i] = svmx_pool_alloc(pool, 4);
		KUNIT_ASSERT_NE(test, got[i], 0UL);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_NE(test, got[i], got[j]);
	}
	KUNIT_EXPECT_EQ(test, svmx_pool_alloc(pool, 0), 0UL);
	svmx_pool_free(pool, got[5], 4);
	KUNIT_EXPECT_EQ(test, svmx_pool_alloc(pool, 4), got[5]);
	for (i = 0; i < ARRAY_SIZE(got); i++)
		svmx_pool_free(pool, got[i], 4);
	gen_pool_destroy(pool);
}

static struct kunit_case svmx_logic_cases[] = {
	KUNIT_CASE_PARAM(svmx_chunk_around_test, chunk_gen_params),
	KUNIT_CASE(svmx_range_check_test),
	KUNIT_CASE(svmx_cost_bytes_test),
	KUNIT_CASE(svmx_cost_access_test),
	KUNIT_CASE(svmx_cost_copy_test),
	KUNIT_CASE(svmx_pool_alignment_test),
	KUNIT_CASE(svmx_pool_reuse_test),
	{}
};

static struct kunit_suite svmx_logic_suite = {
	.name = "svmx_logic",
	.test_cases = svmx_logic_cases,
};

kunit_test_suites(&svmx_logic_suite);

MODULE_DESCRIPTION("KUnit tests for svmx");
MODULE_LICENSE("GPL");
