// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for svmx's pure logic: chunk arithmetic, range validation,
 * the cost model, the device-memory allocator and the policy interface;
 * and for the fault path on svmx0 with a test policy installed.  Built as svmx_kunit.ko
 * when the kernel has CONFIG_KUNIT; loading it (after svmx.ko) runs the
 * suites and leaves KTAP in debugfs (kunit/<suite>).
 */
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/genalloc.h>
#include <linux/mm.h>
#include <linux/mman.h>

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

/* The chunk fallback: the order asked for, then 64 KiB, then one page. */
static void svmx_next_order_test(struct kunit *test)
{
	int o, steps[4], n = 0;

	for (o = SVMX_CHUNK_ORDER; o >= 0 && n < 4; o = svmx_next_order(o))
		steps[n++] = o;
	KUNIT_EXPECT_EQ(test, n, 3);
	KUNIT_EXPECT_EQ(test, steps[0], SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, steps[1], SVMX_MID_ORDER);
	KUNIT_EXPECT_EQ(test, steps[2], 0);
	/* A policy's own order is tried first, whatever it is. */
	KUNIT_EXPECT_EQ(test, svmx_next_order(7), SVMX_MID_ORDER);
	KUNIT_EXPECT_EQ(test, svmx_next_order(SVMX_MID_ORDER), 0);
	KUNIT_EXPECT_EQ(test, svmx_next_order(2), 0);
	KUNIT_EXPECT_EQ(test, svmx_next_order(0), -1);
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

/* The largest free order follows allocations, frees and alignment. */
static void svmx_pool_free_order_test(struct kunit *test)
{
	struct gen_pool *pool = svmx_test_pool(test);
	unsigned long big[4], small, half;
	int i;

	KUNIT_EXPECT_EQ(test, svmx_pool_free_order(pool), SVMX_CHUNK_ORDER);
	for (i = 0; i < 4; i++)
		big[i] = svmx_pool_alloc(pool, SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, svmx_pool_free_order(pool), -1);
	svmx_pool_free(pool, big[2], SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, svmx_pool_free_order(pool), SVMX_CHUNK_ORDER);
	/* One page at the hole's start leaves its upper half whole... */
	small = svmx_pool_alloc(pool, 0);
	KUNIT_EXPECT_EQ(test, small, big[2]);
	KUNIT_EXPECT_EQ(test, svmx_pool_free_order(pool), SVMX_CHUNK_ORDER - 1);
	/* ...and taking that half leaves a quarter. */
	half = svmx_pool_alloc(pool, SVMX_CHUNK_ORDER - 1);
	KUNIT_EXPECT_NE(test, half, 0UL);
	KUNIT_EXPECT_EQ(test, svmx_pool_free_order(pool), SVMX_CHUNK_ORDER - 2);
	svmx_pool_free(pool, half, SVMX_CHUNK_ORDER - 1);
	svmx_pool_free(pool, small, 0);
	for (i = 0; i < 4; i++)
		if (i != 2)
			svmx_pool_free(pool, big[i], SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, svmx_pool_free_order(pool), SVMX_CHUNK_ORDER);
	gen_pool_destroy(pool);
}

static struct kunit_case svmx_logic_cases[] = {
	KUNIT_CASE_PARAM(svmx_chunk_around_test, chunk_gen_params),
	KUNIT_CASE(svmx_range_check_test),
	KUNIT_CASE(svmx_cost_bytes_test),
	KUNIT_CASE(svmx_cost_access_test),
	KUNIT_CASE(svmx_cost_copy_test),
	KUNIT_CASE(svmx_next_order_test),
	KUNIT_CASE(svmx_pool_alignment_test),
	KUNIT_CASE(svmx_pool_reuse_test),
	KUNIT_CASE(svmx_pool_free_order_test),
	{}
};

static struct kunit_suite svmx_logic_suite = {
	.name = "svmx_logic",
	.test_cases = svmx_logic_cases,
};

/* ---------------------------------------------------------------------
 * Policy interface: the built-in default and the fallback rules.
 */

static struct svmx_device policy_test_dev = { .id = 0 };

static struct svmx_fault_info policy_info(u32 preferred, u32 hive_mask)
{
	return (struct svmx_fault_info){
		.dev = 0, .access = SVMX_ACCESS_WRITE, .addr = 0x40000000,
		.vma_start = 0x40000000, .vma_end = 0x80000000,
		.preferred = preferred, .hive_mask = hive_mask,
	};
}

static void policy_exit(struct kunit *test)
{
	svmx_policy_install(NULL);
}

/* No advice: migrate 2 MiB to the faulting device. */
static void svmx_policy_default_test(struct kunit *test)
{
	struct svmx_fault_info info = policy_info(SVMX_LOC_NONE, 0);
	struct svmx_counters cnt = {};
	struct svmx_fault_decision d;

	svmx_policy_fault(&policy_test_dev, &info, &d, &cnt);
	KUNIT_EXPECT_EQ(test, d.placement, (u32)SVMX_PLACE_MIGRATE);
	KUNIT_EXPECT_EQ(test, d.target, 0U);
	KUNIT_EXPECT_EQ(test, d.order, (u32)SVMX_CHUNK_ORDER);

	info = policy_info(SVMX_TARGET_SYSTEM, 0);
	svmx_policy_fault(&policy_test_dev, &info, &d, &cnt);
	KUNIT_EXPECT_EQ(test, d.placement, (u32)SVMX_PLACE_REMOTE);

	/* A preferred hive peer is the target; outside the hive it is not. */
	info = policy_info(1, 0x3);
	svmx_policy_fault(&policy_test_dev, &info, &d, &cnt);
	KUNIT_EXPECT_EQ(test, d.target, 1U);
	info = policy_info(1, 0);
	svmx_policy_fault(&policy_test_dev, &info, &d, &cnt);
	KUNIT_EXPECT_EQ(test, d.target, 0U);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 0ULL);
}

static int bad_order_fault(const struct svmx_fault_info *info,
			   struct svmx_fault_decision *d)
{
	*d = (struct svmx_fault_decision){ SVMX_PLACE_MIGRATE, info->dev, 12 };
	return 0;
}

static int bad_target_fault(const struct svmx_fault_info *info,
			    struct svmx_fault_decision *d)
{
	*d = (struct svmx_fault_decision){ SVMX_PLACE_MIGRATE, 1, 0 };
	return 0;
}

static int failing_fault(const struct svmx_fault_info *info,
			 struct svmx_fault_decision *d)
{
	return -EINVAL;
}

static int remote_64k_fault(const struct svmx_fault_info *info,
			    struct svmx_fault_decision *d)
{
	*d = (struct svmx_fault_decision){ SVMX_PLACE_REMOTE, info->dev,
					   SVMX_MID_ORDER };
	return 0;
}

struct policy_case {
	const char *desc;
	int (*fault)(const struct svmx_fault_info *info,
		     struct svmx_fault_decision *d);
	u32 hive_mask;
	u32 want_placement, want_order;
	u64 want_fallbacks;
};

static const struct policy_case policy_cases[] = {
	{ "order out of range", bad_order_fault, 0,
	  SVMX_PLACE_MIGRATE, SVMX_CHUNK_ORDER, 1 },
	{ "target outside the hive", bad_target_fault, 0,
	  SVMX_PLACE_MIGRATE, SVMX_CHUNK_ORDER, 1 },
	{ "target inside the hive", bad_target_fault, 0x3,
	  SVMX_PLACE_MIGRATE, 0, 0 },
	{ "callback error", failing_fault, 0,
	  SVMX_PLACE_MIGRATE, SVMX_CHUNK_ORDER, 1 },
	{ "valid answer", remote_64k_fault, 0,
	  SVMX_PLACE_REMOTE, SVMX_MID_ORDER, 0 },
	{ "no callback", NULL, 0, SVMX_PLACE_MIGRATE, SVMX_CHUNK_ORDER, 0 },
};

static void policy_case_desc(const struct policy_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(policy, policy_cases, policy_case_desc);

/* A policy's answer is used when valid, else the default's, counted. */
static void svmx_policy_fallback_test(struct kunit *test)
{
	const struct policy_case *c = test->param_value;
	struct svmx_policy_ops ops = { .fault = c->fault, .name = "kunit" };
	struct svmx_fault_info info = policy_info(SVMX_LOC_NONE, c->hive_mask);
	struct svmx_counters cnt = {};
	struct svmx_fault_decision d;

	svmx_policy_install(&ops);
	svmx_policy_fault(&policy_test_dev, &info, &d, &cnt);
	svmx_policy_install(NULL);
	KUNIT_EXPECT_EQ(test, d.placement, c->want_placement);
	KUNIT_EXPECT_EQ(test, d.order, c->want_order);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, c->want_fallbacks);
}

/* Proposes candidate 2; with fewer candidates, one victim too many. */
static int pick_third(struct svmx_evict_ctx *ctx)
{
	u32 i;

	if (ctx->info.nr_cand > 2) {
		ctx->answer.victim[ctx->answer.nr++] = ctx->info.cand[2];
		return 0;
	}
	for (i = 0; i <= SVMX_EVICT_VICTIMS; i++)
		ctx->answer.victim[i % SVMX_EVICT_VICTIMS] = 0x1234;
	ctx->answer.nr = SVMX_EVICT_VICTIMS + 1;
	return 0;
}

static int bad_cpu_order(const struct svmx_cpu_fault_info *info, u32 *order)
{
	*order = SVMX_CHUNK_ORDER + 1;
	return 0;
}

static int too_many_prefetches(const struct svmx_fault_info *info,
			       struct svmx_prefetch *p)
{
	p->nr = SVMX_MAX_PREFETCH + 1;
	return 0;
}

/* Victim, CPU-fault and prefetch answers are range-checked too. */
static void svmx_policy_other_hooks_test(struct kunit *test)
{
	struct svmx_policy_ops ops = {
		.evict = pick_third,
		.cpu_fault = bad_cpu_order,
		.prefetch = too_many_prefetches,
		.name = "kunit",
	};
	struct svmx_fault_info info = policy_info(SVMX_LOC_NONE, 0);
	struct svmx_cpu_fault_info cinfo = { .addr = 0x40000000 };
	struct svmx_evict_ctx ev = {
		.info = { .nr_cand = 4, .cand = { 11, 12, 13, 14 } },
	};
	struct svmx_counters cnt = {};
	struct svmx_prefetch p;

	svmx_policy_install(&ops);
	svmx_policy_evict(&policy_test_dev, &ev, &cnt);
	KUNIT_EXPECT_EQ(test, ev.answer.nr, 1U);
	KUNIT_EXPECT_EQ(test, ev.answer.victim[0], 13ULL);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 0ULL);
	/* More victims than an answer holds: none of them, counted. */
	ev.info.nr_cand = 2;
	svmx_policy_evict(&policy_test_dev, &ev, &cnt);
	KUNIT_EXPECT_EQ(test, ev.answer.nr, 0U);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 1ULL);
	KUNIT_EXPECT_EQ(test, svmx_policy_cpu_fault(&policy_test_dev, &cinfo, &cnt),
			(u32)SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 2ULL);
	svmx_policy_prefetch(&policy_test_dev, &info, info.dev, &p, &cnt);
	KUNIT_EXPECT_EQ(test, p.nr, 0U);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 3ULL);
	/* A victim handle the evictor refuses is a fallback too. */
	svmx_policy_evict_reject(&policy_test_dev, 0x1234, SVMX_REJECT_DEAD, &cnt);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 4ULL);
	svmx_policy_install(NULL);
}

static int order_only_fault(const struct svmx_fault_info *info,
			    struct svmx_fault_decision *d)
{
	d->order = SVMX_MID_ORDER;
	return 0;
}

static int silent_cpu_fault(const struct svmx_cpu_fault_info *info, u32 *order)
{
	return 0;
}

static int silent_evict(struct svmx_evict_ctx *ctx)
{
	return 0;
}

static int range_only_prefetch(const struct svmx_fault_info *info,
			       struct svmx_prefetch *p)
{
	p->range[0].start = info->addr;
	p->range[0].len = PAGE_SIZE;
	return 0;
}

/*
 * A policy that fills only some fields of its answer gets the default's
 * answer in the others, never uninitialised memory: the answers start out
 * poisoned here, as a caller's stack would be.
 */
static void svmx_policy_partial_answer_test(struct kunit *test)
{
	struct svmx_policy_ops ops = {
		.fault = order_only_fault,
		.cpu_fault = silent_cpu_fault,
		.evict = silent_evict,
		.prefetch = range_only_prefetch,
		.name = "kunit",
	};
	struct svmx_fault_info info = policy_info(SVMX_LOC_NONE, 0);
	struct svmx_cpu_fault_info cinfo = { .addr = 0x40000000 };
	struct svmx_counters cnt = {};
	struct svmx_fault_decision d;
	struct svmx_evict_ctx ev;
	struct svmx_prefetch p;

	memset(&d, 0xa5, sizeof(d));
	memset(&p, 0xa5, sizeof(p));
	memset(&ev, 0xa5, sizeof(ev));
	ev.info.nr_cand = 2;
	svmx_policy_install(&ops);
	svmx_policy_fault(&policy_test_dev, &info, &d, &cnt);
	KUNIT_EXPECT_EQ(test, d.placement, (u32)SVMX_PLACE_MIGRATE);
	KUNIT_EXPECT_EQ(test, d.target, info.dev);
	KUNIT_EXPECT_EQ(test, d.order, (u32)SVMX_MID_ORDER);
	KUNIT_EXPECT_EQ(test, svmx_policy_cpu_fault(&policy_test_dev, &cinfo, &cnt),
			(u32)SVMX_CHUNK_ORDER);
	svmx_policy_evict(&policy_test_dev, &ev, &cnt);
	KUNIT_EXPECT_EQ(test, ev.answer.nr, 0U);
	KUNIT_EXPECT_EQ(test, ev.answer.victim[0], 0ULL);
	svmx_policy_prefetch(&policy_test_dev, &info, info.dev, &p, &cnt);
	KUNIT_EXPECT_EQ(test, p.nr, 0U);
	KUNIT_EXPECT_EQ(test, p.order, (u32)SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, p.target, info.dev);
	svmx_policy_install(NULL);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 0ULL);
}

static u32 prefetch_test_order, prefetch_test_target;

static int chunked_prefetch(const struct svmx_fault_info *info,
			    struct svmx_prefetch *p)
{
	p->nr = 1;
	p->range[0].start = info->addr + PAGE_SIZE;
	p->range[0].len = PAGE_SIZE;
	p->order = prefetch_test_order;
	p->target = prefetch_test_target;
	return 0;
}

/*
 * The prefetch chunk order and target are the policy's answer too: taken
 * when valid, and the whole answer falls back to the default's (nothing,
 * 2 MiB chunks to the fault's target) for an order above 2 MiB or a
 * device outside the faulting device's hive.
 */
static void svmx_policy_prefetch_order_target_test(struct kunit *test)
{
	struct svmx_policy_ops ops = {
		.prefetch = chunked_prefetch,
		.name = "kunit",
	};
	struct svmx_fault_info info = policy_info(SVMX_LOC_NONE, 0);
	struct svmx_counters cnt = {};
	struct svmx_prefetch p;

	svmx_policy_install(&ops);
	prefetch_test_order = 4;
	prefetch_test_target = info.dev;
	svmx_policy_prefetch(&policy_test_dev, &info, info.dev, &p, &cnt);
	KUNIT_EXPECT_EQ(test, p.nr, 1U);
	KUNIT_EXPECT_EQ(test, p.order, 4U);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 0ULL);

	prefetch_test_order = SVMX_CHUNK_ORDER + 1;
	svmx_policy_prefetch(&policy_test_dev, &info, info.dev, &p, &cnt);
	KUNIT_EXPECT_EQ(test, p.nr, 0U);
	KUNIT_EXPECT_EQ(test, p.order, (u32)SVMX_CHUNK_ORDER);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 1ULL);

	prefetch_test_order = 0;
	prefetch_test_target = SVMX_MAX_DEVICES - 1;	/* not in its hive */
	svmx_policy_prefetch(&policy_test_dev, &info, info.dev, &p, &cnt);
	KUNIT_EXPECT_EQ(test, p.nr, 0U);
	KUNIT_EXPECT_EQ(test, p.target, info.dev);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 2ULL);
	svmx_policy_install(NULL);
}

static struct svmx_fault_done notified_fault;
static struct svmx_migrate_done notified_migrate;
static int notified;

static void note_fault_done(const struct svmx_fault_done *done)
{
	notified_fault = *done;
	notified++;
}

static void note_migrate_done(const struct svmx_migrate_done *done)
{
	notified_migrate = *done;
	notified++;
}

/* Notifications reach the active policy as they are; the default ignores them. */
static void svmx_policy_notify_test(struct kunit *test)
{
	struct svmx_policy_ops ops = {
		.fault_done = note_fault_done,
		.migrate_done = note_migrate_done,
		.name = "kunit",
	};
	struct svmx_fault_done fd = {
		.addr = 0x40000000, .asked_order = SVMX_CHUNK_ORDER,
		.got_order = SVMX_MID_ORDER, .overridden = 1, .pages_migrated = 16,
	};
	struct svmx_migrate_done md = {
		.dir = SVMX_DIR_TO_SYSTEM, .pages = 3, .copy_cmds = 2, .bytes = 8192,
	};

	notified = 0;
	svmx_policy_fault_done(&fd);
	svmx_policy_migrate_done(&md);
	KUNIT_EXPECT_EQ(test, notified, 0);
	svmx_policy_install(&ops);
	svmx_policy_fault_done(&fd);
	svmx_policy_migrate_done(&md);
	svmx_policy_install(NULL);
	KUNIT_EXPECT_EQ(test, notified, 2);
	KUNIT_EXPECT_EQ(test, memcmp(&notified_fault, &fd, sizeof(fd)), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&notified_migrate, &md, sizeof(md)), 0);
}

static struct kunit_case svmx_policy_cases[] = {
	KUNIT_CASE(svmx_policy_default_test),
	KUNIT_CASE_PARAM(svmx_policy_fallback_test, policy_gen_params),
	KUNIT_CASE(svmx_policy_other_hooks_test),
	KUNIT_CASE(svmx_policy_partial_answer_test),
	KUNIT_CASE(svmx_policy_prefetch_order_target_test),
	KUNIT_CASE(svmx_policy_notify_test),
	{}
};

static struct kunit_suite svmx_policy_suite = {
	.name = "svmx_policy",
	.exit = policy_exit,
	.test_cases = svmx_policy_cases,
};

/* ---------------------------------------------------------------------
 * The fault path on a real device, in an mm of the test's own
 * (kunit_vm_mmap()), with a test policy installed.
 */

static unsigned long prefetch_test_ranges[2];

static int migrate_one_page(const struct svmx_fault_info *info,
			    struct svmx_fault_decision *d)
{
	*d = (struct svmx_fault_decision){ SVMX_PLACE_MIGRATE, info->dev, 0 };
	return 0;
}

static int prefetch_test_prefetch(const struct svmx_fault_info *info,
				  struct svmx_prefetch *p)
{
	unsigned int i;

	p->nr = ARRAY_SIZE(prefetch_test_ranges);
	for (i = 0; i < p->nr; i++) {
		p->range[i].start = prefetch_test_ranges[i];
		p->range[i].len = 4 * PAGE_SIZE;
	}
	return 0;
}

/*
 * Prefetch migrates what a device read fault could: never PROT_NONE or
 * write-only memory, whatever the policy asks.
 */
static void svmx_prefetch_vma_permissions_test(struct kunit *test)
{
	struct svmx_policy_ops ops = {
		.fault = migrate_one_page,
		.prefetch = prefetch_test_prefetch,
		.name = "kunit",
	};
	struct svmx_device *sdev = svmx_device_get(0);
	struct svmx_counters cnt = {};
	struct svmx_fault f = { .access = SVMX_ACCESS_READ };
	struct svmx_ctx *ctx;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, sdev);
	f.addr = kunit_vm_mmap(test, NULL, 0, 4 * PAGE_SIZE,
			       PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, 0);
	prefetch_test_ranges[0] = kunit_vm_mmap(test, NULL, 0, 4 * PAGE_SIZE,
						PROT_NONE,
						MAP_ANONYMOUS | MAP_PRIVATE, 0);
	prefetch_test_ranges[1] = kunit_vm_mmap(test, NULL, 0, 4 * PAGE_SIZE,
						PROT_WRITE,
						MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(f.addr) || !f.addr);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(prefetch_test_ranges[0]) ||
			   !prefetch_test_ranges[0]);
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(prefetch_test_ranges[1]) ||
			   !prefetch_test_ranges[1]);
	ctx = svmx_ctx_create(sdev);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ctx));

	svmx_policy_install(&ops);
	ret = svmx_service_faults(ctx, &f, 1, false, &cnt);
	svmx_policy_install(NULL);
	svmx_ctx_destroy(ctx);
	KUNIT_EXPECT_EQ(test, ret, 0);
	/* The faulting page only: neither prefetch range may move. */
	KUNIT_EXPECT_EQ(test, cnt.pages_to_device, 1ULL);
	KUNIT_EXPECT_EQ(test, cnt.policy_fallbacks, 0ULL);
}

static struct kunit_case svmx_fault_cases[] = {
	KUNIT_CASE(svmx_prefetch_vma_permissions_test),
	{}
};

static struct kunit_suite svmx_fault_suite = {
	.name = "svmx_fault",
	.exit = policy_exit,
	.test_cases = svmx_fault_cases,
};

kunit_test_suites(&svmx_logic_suite, &svmx_policy_suite, &svmx_fault_suite);

MODULE_DESCRIPTION("KUnit tests for svmx");
MODULE_LICENSE("GPL");
