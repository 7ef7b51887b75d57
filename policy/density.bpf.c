// SPDX-License-Identifier: GPL-2.0
/*
 * density - grow a device fault's migration to the enclosing power-of-two
 * region once most of that region is already there (NVIDIA UVM's tree
 * prefetcher, reworked for svmx's chunk answers).
 *
 * What it does: each 2 MiB region of each binding has a bitmap of its
 * pages that are resident on the device or were faulted by it (kept from
 * the fault_done notifications: the chunk the fallback ladder actually
 * got, and the faulting page).  On a device fault the policy looks at the
 * aligned regions that enclose the faulting page, 2 MiB first and then
 * halving down to base_order; the first (largest) one of which more than
 * threshold percent of the pages are set - the faulting page counts as
 * faulted - becomes the chunk to migrate.  When none is dense enough, the
 * chunk is 2^base_order pages.  So a sparse access pattern moves only what
 * it touches, and a dense one soon moves whole 2 MiB regions, with no
 * region moved before most of it was wanted.  The bitmap of a region is
 * forgotten when the region has no page left on the device (the CPU took
 * it back, or it was evicted).
 *
 * When to use it: device access patterns of unknown density, or sparse
 * ones, where the built-in default's 2 MiB chunks move (and evict) much
 * that is never used; memory-bound devices where every page moved for
 * nothing costs a page of someone else's working set.
 *
 * Knobs:
 *   threshold - percent (1..100) of an enclosing region that must be
 *	resident or faulted for the migration to grow to it (default 51, as
 *	UVM's uvm_perf_prefetch_threshold); live (svmxctl policy set).
 *   base_order - order of the chunk migrated when no enclosing region is
 *	dense enough (default 0, one page); load time.
 * Placement is the default's (migrate here, or as the preferred-location
 * advice says); only the order changes.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

__u32 threshold SVMX_LIVE_KNOB = 51;
const volatile __u32 base_order;

struct region_key {
	__u64 ctx;
	__u64 region;
};

struct region_bits {
	__u64 w[SVMX_REGION_PAGES / 64];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);	/* 16 GiB of touched regions */
	__type(key, struct region_key);
	__type(value, struct region_bits);
} density_regions SEC(".maps");

/* Counts for user space: faults grown beyond base_order, per order. */
__u64 grown[SVMX_CHUNK_ORDER + 1];

/* Set bits of the aligned 2^order pages around @page. */
static __u32 count_bits(const struct region_bits *b, __u32 page, __u32 order)
{
	__u32 first = page & ~((1u << order) - 1), n = 0, i;

	if (!b)
		return 0;
	if (order < 6) {
		__u64 w = b->w[(first / 64) & 7] >> (first % 64);

		return __builtin_popcountll(w & ((1ull << (1u << order)) - 1));
	}
	for (i = 0; i < 8; i++) {
		if (i >= (1u << (order - 6)))
			break;
		n += __builtin_popcountll(b->w[((first / 64) + i) & 7]);
	}
	return n;
}

static void set_bits(struct region_bits *b, __u32 page, __u32 order)
{
	__u32 first = page & ~((1u << order) - 1), i;

	if (order < 6) {
		b->w[(first / 64) & 7] |= ((1ull << (1u << order)) - 1) << (first % 64);
		return;
	}
	for (i = 0; i < 8; i++) {
		if (i >= (1u << (order - 6)))
			break;
		b->w[((first / 64) + i) & 7] = ~0ull;
	}
}

static bool page_set(const struct region_bits *b, __u32 page)
{
	return b && (b->w[(page / 64) & 7] >> (page % 64)) & 1;
}

int SVMX_OPS(density_fault, struct svmx_fault_ctx *fault)
{
	struct region_key key = {
		.ctx = fault->info.ctx_handle,
		.region = fault->info.addr >> SVMX_REGION_SHIFT,
	};
	__u32 page = (fault->info.addr >> SVMX_PAGE_SHIFT) & (SVMX_REGION_PAGES - 1);
	__u32 pct = threshold, order = base_order, o, n;
	struct region_bits *b;

	if (fault->answer.placement != SVMX_PLACE_MIGRATE)
		return 0;
	if (!pct || pct > 100)
		pct = 51;	/* a bad live value: the default's */
	b = bpf_map_lookup_elem(&density_regions, &key);
	if (b && !fault->info.region.local) {
		/* Nothing of it is here any more: start afresh. */
		bpf_map_delete_elem(&density_regions, &key);
		b = NULL;
	}
	for (o = SVMX_CHUNK_ORDER; o > base_order && o > 0; o--) {
		n = count_bits(b, page, o) + !page_set(b, page);
		if ((__u64)n * 100 > (__u64)pct << o) {
			order = o;
			break;
		}
	}
	if (order > SVMX_CHUNK_ORDER)
		order = SVMX_CHUNK_ORDER;
	if (order != base_order)
		__sync_fetch_and_add(&grown[order], 1);
	fault->answer.order = order;
	return 0;
}

/* Learn what is resident: the chunk the fallback ladder got, and the faulting page. */
void SVMX_OPS(density_fault_done, struct svmx_fault_done_ctx *done)
{
	struct region_key key = {
		.ctx = done->info.ctx_handle,
		.region = done->info.addr >> SVMX_REGION_SHIFT,
	};
	__u32 page = (done->info.addr >> SVMX_PAGE_SHIFT) & (SVMX_REGION_PAGES - 1);
	struct region_bits zero = {}, *b;
	__s32 got = done->info.got_order;

	if (done->info.ret)
		return;
	b = bpf_map_lookup_elem(&density_regions, &key);
	if (!b) {
		bpf_map_update_elem(&density_regions, &key, &zero, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&density_regions, &key);
		if (!b)
			return;
	}
	set_bits(b, page, 0);
	if (got > 0 && got <= SVMX_CHUNK_ORDER)
		set_bits(b, page, got);
}

SVMX_OPS_DEFINE(density_ops,
		.fault		= (void *)density_fault,
		.fault_done	= (void *)density_fault_done,
		.name		= "density");
