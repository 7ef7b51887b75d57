// SPDX-License-Identifier: GPL-2.0
/*
 * adaptive - the composed policy for an unknown workload: stride
 * prefetch, thrash pinning, remote mapping of sparsely used regions
 * under pressure, and scan-resistant eviction (MRU outside a protected
 * recency window).
 *
 * What it does, by part:
 *
 * Prefetch (stride's detector).  Device faults keep the default's 2 MiB
 * chunks.  Per binding the policy remembers the chunk of the last fault
 * and the distance to the one before; after `confidence` faults at the
 * same distance (or at the distance its own prefetch leaves), each fault
 * also migrates the next `ahead` chunks along the stride.  A sequential
 * sweep then pays one fault batch for every 1 + ahead chunks instead of
 * one per chunk; random faults never build confidence and prefetch
 * nothing.  When the device has no room for the chunks, each prefetched
 * chunk evicts one: then only a fault that enters its chunk at the first
 * page (the last one for a descending stream) prefetches, as a dense
 * sweep does and a column walk after its first column does not.
 *
 * Thrash pinning (thrash's detector, UVM's thresholds).  Per binding and
 * 2 MiB region, increases of the kernel's ping-pong count seen by device
 * and CPU faults are thrashing events; `thrash_threshold` events each
 * within `thrash_lapse_us` of the previous pin the region for
 * `thrash_pin_ms`: its device faults map system memory remotely.
 *
 * Sparse regions (under memory pressure).  An eviction tells the policy
 * how many page-sized device accesses the evicted block served since it
 * was filled (svmx_block_event.touches).  A region whose block served
 * 1 to `sparse_touches` of them moved 2 MiB in and 2 MiB out for a few
 * accesses; when it faults again while the device has no free 2 MiB
 * (so that migrating it would evict another block), it is mapped
 * remotely instead: with the default cost model a remote access costs
 * about 1 us and a migration with its eviction about 100 us, so
 * migrating pays from about a hundred accesses per residency on.  A
 * region whose block was evicted after more accesses is forgotten, and
 * one evicted untouched (a prefetch not yet used) says nothing and is
 * not noted.  Uniformly random or cold zipf pages are such regions; a
 * scan's (512 accesses a pass) or a column walk's (32) are not.
 *
 * Eviction (scan resistant).  Every block the policy hears of gets a
 * sequence number of use at its fill and at each block_access (at most
 * once per block and device epoch), and one of fill.  Protected are the
 * blocks filled since the first fault of the current fault batch was
 * asked (svmx_fault_info.batch_id: the chunks and prefetch of the batch,
 * none of whose pieces has run yet) and the `window` most recent fills.
 * When every block of the device is protected (a batch needing more
 * than the device), the policy proposes nothing and the kernel's LRU
 * evicts.  Among the other blocks
 * of the device the most recently used one is evicted first.  On a loop
 * over more than device memory (the cyclic scan, LRU's worst case) this
 * keeps most of the loop resident and misses only on the part that does
 * not fit, and with the prefetch the misses cost no fault batch of their
 * own.  On hot/cold data (zipf) the blocks filled first, which hold the
 * data touched first and most, stay; the cold misses take turns in the
 * newest blocks.  Two cases go to the kernel's LRU instead, which evicts
 * what earlier fault batches brought:
 *  - a fault of a batch of many faults that enters its chunk past the
 *    first page: a strided batch (a column walk) of a later column, whose
 *    chunks the earlier columns brought: the LRU evicts those the walk
 *    has passed, MRU those it is about to reach;
 *  - a binding for which the kernel overrode a decision (forward
 *    progress: pages evicted before the device could use them) or the
 *    fallback ladder could not get the chunk: for churn_hold fills.
 * Blocks the policy never heard of (from before it attached) are left to
 * the LRU, which also completes a short answer.
 *
 * When to use it: when the workload is unknown or mixed.  Without memory
 * pressure it decides as the built-in default does, plus the prefetch of
 * sequential streams.
 *
 * Knobs (const volatile, set before load):
 *   ahead - chunks prefetched per fault once a stride is trusted
 *	(default 2, at most 4; the kernel's svmx.prefetch_budget_kb of 4 MiB
 *	allows 2)
 *   confidence - faults in a row at one distance before the stride is
 *	trusted (default 2)
 *   window - most recent fills protected from eviction besides the
 *	current fault batch's own (default 1; each one more protected block
 *	is one block less of a loop kept resident); live
 *   thrash_threshold, thrash_lapse_us, thrash_pin_ms - UVM's thrashing
 *	defaults, 3, 500 us, 150 ms
 *   mru_evict - false: leave every eviction to the kernel's LRU (prefetch
 *	and pinning only); live
 *   churn_hold - fills of a binding during which the LRU evicts after the
 *	kernel overrode a decision of it (default 256)
 *   sparse_touches - most device accesses in a residency for which the
 *	region is mapped remotely when it faults again under pressure
 *	(default 8; 0: never); live
 * Live state: adaptive_pins (one entry per thrashing region: the pin's
 * deadline in bpf_ktime_get_ns(); delete one to unpin), adaptive_sparse
 * (one entry per sparsely used region: the accesses of its last
 * residency; delete one to migrate it again), adaptive_churn
 * (per binding, the fill count until which the LRU evicts; delete to end
 * the hold), and counters in .bss (prefetched chunks, pins, pinned
 * faults, policy victims, strided faults, churns, sparse regions noted
 * and faults they mapped remotely).
 */
#include <svmx/svmx.bpf.h>
#include <svmx/detect.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 ahead = 2;
const volatile __u32 confidence = 2;
__u32 window SVMX_LIVE_KNOB = 1;
const volatile __u32 thrash_threshold = 3;
const volatile __u64 thrash_lapse_us = 500;
const volatile __u64 thrash_pin_ms = 150;
bool mru_evict SVMX_LIVE_KNOB = true;
const volatile __u32 churn_hold = 256;
__u32 sparse_touches SVMX_LIVE_KNOB = 8;


/* ------------------------------------------------------------------
 * Prefetch: one stream per binding.
 */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* context handle */
	__type(value, struct svmx_stream);
} adaptive_streams SEC(".maps");

/* ------------------------------------------------------------------
 * Thrash pinning: one entry per region seen reversing.
 */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct svmx_thrash_key);
	__type(value, struct svmx_thrash_state);
} adaptive_pins SEC(".maps");

/* ------------------------------------------------------------------
 * Sparse regions: the device accesses of their last residency.
 */

struct sparse_key {
	__u64 ctx;	/* binding (context handle) */
	__u64 region;	/* address >> 21 */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct sparse_key);
	__type(value, __u64);
} adaptive_sparse SEC(".maps");

/* ------------------------------------------------------------------
 * Eviction: a sequence number per block.
 */

struct block {
	__u64 seq;	/* last use; 0: proposed, not to be proposed again */
	__u64 aseq;	/* fill */
	__u32 dev;
	__u32 order;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		/* block handle */
	__type(value, struct block);
} adaptive_blocks SEC(".maps");

__u64 adaptive_seq;		/* block uses: fills and accesses */
__u64 adaptive_aseq;		/* block fills */
__u64 fault_ctx;		/* binding of the last fault */
__u64 fault_batch;		/* its batch (svmx_fault_info.batch_id) */
__u64 batch_aseq;		/* adaptive_aseq when that batch's first fault was asked */
bool fault_strided;		/* the last fault is a strided batch's */
__u64 strided_faults;		/* faults whose evictions went to the LRU */

/* Per binding: adaptive_aseq until which the LRU evicts for it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* context handle */
	__type(value, __u64);
} adaptive_churn SEC(".maps");

/* Counts for user space. */
__u64 prefetched_chunks;	/* chunks asked by prefetch answers */
__u64 pins;			/* times a region was pinned */
__u64 pinned_faults;		/* device faults mapped remotely by a pin */
__u64 policy_victims;		/* victims proposed */
__u64 window_protected;		/* protected blocks passed over by victim scans */
__u64 churns;			/* forward-progress overrides seen */
__u64 sparse_noted;		/* evictions that noted a sparse region */
__u64 sparse_remote;		/* faults mapped remotely for a sparse region */

static struct svmx_thrash_state *observe(__u64 ctx, __u64 addr, __u32 pingpong,
					 __u64 now)
{
	return svmx_thrash_observe(&adaptive_pins, ctx, addr, pingpong, now, thrash_threshold,
				   thrash_lapse_us * 1000, thrash_pin_ms * 1000000, &pins);
}

/*
 * Map remotely: the region's last residency served few accesses, and
 * migrating it now would evict another block.
 */
static bool sparse_region(const struct svmx_fault_ctx *fault)
{
	struct sparse_key key = {
		.ctx = fault->info.ctx_handle,
		.region = fault->info.addr >> SVMX_REGION_SHIFT,
	};

	if (!sparse_touches ||
	    fault->info.dev_free_bytes >= 1ull << SVMX_REGION_SHIFT)
		return false;
	return bpf_map_lookup_elem(&adaptive_sparse, &key);
}

int SVMX_OPS(adaptive_fault, struct svmx_fault_ctx *fault)
{
	__u64 now = bpf_ktime_get_ns();
	struct svmx_thrash_state *st;

	/*
	 * No piece of a batch runs before all its faults are serviced: the
	 * blocks filled since the batch's first fault are still needed.
	 */
	if (fault->info.ctx_handle != fault_ctx ||
	    fault->info.batch_id != fault_batch) {
		fault_ctx = fault->info.ctx_handle;
		fault_batch = fault->info.batch_id;
		batch_aseq = adaptive_aseq;
	}
	/*
	 * A batch of many faults that enters this chunk past its first page
	 * is strided (a column walk): its entries span several chunks whose
	 * pieces have not run yet, and MRU would evict them before they do.
	 */
	fault_strided = fault->info.batch_faults > 1 &&
		       (fault->info.addr >> SVMX_PAGE_SHIFT) & (SVMX_REGION_PAGES - 1);
	if (fault_strided)
		__sync_fetch_and_add(&strided_faults, 1);
	st = observe(fault->info.ctx_handle, fault->info.addr,
		     fault->info.region_pingpong, now);
	if (st && now < st->pinned_until_ns) {
		fault->answer.placement = SVMX_PLACE_REMOTE;
		__sync_fetch_and_add(&pinned_faults, 1);
	} else if (sparse_region(fault)) {
		fault->answer.placement = SVMX_PLACE_REMOTE;
		__sync_fetch_and_add(&sparse_remote, 1);
	}
	return 0;
}

int SVMX_OPS(adaptive_cpu_fault, struct svmx_cpu_fault_ctx *cf)
{
	observe(cf->info.ctx_handle, cf->info.addr, cf->info.region_pingpong,
		bpf_ktime_get_ns());
	return 0;
}

int SVMX_OPS(adaptive_prefetch, struct svmx_prefetch_ctx *pf)
{
	__u32 shift = SVMX_CHUNK_ORDER + SVMX_PAGE_SHIFT, n;
	__u64 cur = pf->info.addr >> shift;
	struct svmx_stream *st;

	st = svmx_stream_get(&adaptive_streams, pf->info.ctx_handle, cur);
	if (!st || !svmx_stream_step(st, cur, confidence))
		return 0;
	/*
	 * Under memory pressure every prefetched chunk evicts one.  Only a
	 * dense sweep, which enters each chunk at its first page, is worth
	 * it; a column walk enters at another page, and its fault batch
	 * spans several chunks whose pieces have not run yet.
	 */
	if (pf->info.dev_free_bytes < (ahead + 1ull) << shift &&
	    ((pf->info.addr >> SVMX_PAGE_SHIFT) & (SVMX_REGION_PAGES - 1)) !=
	    (st->stride > 0 ? 0 : SVMX_REGION_PAGES - 1))
		return 0;
	n = svmx_stream_prefetch(pf, st, cur, shift, ahead);
	__sync_fetch_and_add(&prefetched_chunks, n);
	return 0;
}

/*
 * The kernel mapped a fault's pages in place because they kept being
 * evicted before the device could use them: one fault batch needed more
 * blocks than the window protects (a column walk spanning the device).
 * MRU is churning; the LRU, which evicts what earlier batches brought,
 * takes over for churn_hold fills.
 */
void SVMX_OPS(adaptive_fault_done, struct svmx_fault_done *done)
{
	__u64 key = done->ctx_handle, until = adaptive_aseq + churn_hold;

	if (!done->overridden &&
	    !(done->placement == SVMX_PLACE_MIGRATE && !done->ret &&
	      done->got_order < (__s32)done->asked_order))
		return;
	bpf_map_update_elem(&adaptive_churn, &key, &until, BPF_ANY);
	__sync_fetch_and_add(&churns, 1);
}

void SVMX_OPS(adaptive_block_alloc, struct svmx_block_event *ev)
{
	struct block b = {
		.seq = __sync_add_and_fetch(&adaptive_seq, 1),
		.aseq = __sync_add_and_fetch(&adaptive_aseq, 1),
		.dev = ev->dev,
		.order = ev->order,
	};
	__u64 h = ev->handle;

	bpf_map_update_elem(&adaptive_blocks, &h, &b, BPF_ANY);
}

void SVMX_OPS(adaptive_block_access, struct svmx_block_event *ev)
{
	__u64 h = ev->handle;
	struct block *b = bpf_map_lookup_elem(&adaptive_blocks, &h);

	if (b && b->seq)	/* from before the attach: left to the LRU */
		b->seq = __sync_add_and_fetch(&adaptive_seq, 1);
}

void SVMX_OPS(adaptive_block_free, struct svmx_block_event *ev)
{
	svmx_blocks_forget(&adaptive_blocks, ev->handle);
}

/* Note how much the device used the region the block held. */
static void note_residency(const struct svmx_evict_done *done)
{
	struct sparse_key key = {
		.ctx = done->block.owner,
		.region = done->block.addr >> SVMX_REGION_SHIFT,
	};
	__u64 touches = done->block.touches;

	if (done->ret || !done->pages || !touches)
		return;		/* stayed, or a prefetch never used */
	if (touches > sparse_touches) {
		bpf_map_delete_elem(&adaptive_sparse, &key);
		return;
	}
	bpf_map_update_elem(&adaptive_sparse, &key, &touches, BPF_ANY);
	__sync_fetch_and_add(&sparse_noted, 1);
}

/* A victim that stayed (busy pages) may be proposed again, as if old. */
void SVMX_OPS(adaptive_evict_done, struct svmx_evict_done *done)
{
	struct block *b = svmx_victim_stayed(&adaptive_blocks, done);

	if (b && !b->seq)
		b->seq = 1;
	note_residency(done);
}

struct adaptive_scan {
	struct svmx_scan s;
	__u64 below;	/* only blocks filled (aseq) before this */
	__u64 best_seq;
};

static long best_unprotected(struct bpf_map *map, __u64 *handle,
			     struct block *b, struct adaptive_scan *scan)
{
	if (b->dev != scan->s.dev || !b->seq)
		return 0;
	if (b->aseq >= scan->below) {
		__sync_fetch_and_add(&window_protected, 1);
		return 0;
	}
	if (b->seq > scan->best_seq) {
		scan->best_seq = b->seq;
		scan->s.best = *handle;
		scan->s.best_order = b->order;
	}
	return 0;
}

/* A proposed victim: not proposed again unless it stays (evict_done). */
static void adaptive_taken(void *rec)
{
	((struct block *)rec)->seq = 0;
	__sync_fetch_and_add(&policy_victims, 1);
}

int SVMX_OPS(adaptive_evict, struct svmx_evict_ctx *ev)
{
	__u64 aseq = adaptive_aseq, key = fault_ctx;
	__u64 *until = bpf_map_lookup_elem(&adaptive_churn, &key);
	__u32 win = window;
	struct adaptive_scan init = { .s.dev = ev->info.dev }, scan;

	if (!mru_evict || (until && aseq < *until) ||
	    fault_strided)
		return 0;
	/* the current fault batch's fills and the last @win fills */
	init.below = aseq >= win ? aseq - win + 1 : 0;
	if (init.below > batch_aseq + 1)
		init.below = batch_aseq + 1;
	svmx_scan_propose(ev, &adaptive_blocks, best_unprotected, &scan, &init,
			  sizeof(scan), adaptive_taken);
	return 0;
}

SVMX_OPS_DEFINE(adaptive_ops,
		.fault		= (void *)adaptive_fault,
		.cpu_fault	= (void *)adaptive_cpu_fault,
		.prefetch	= (void *)adaptive_prefetch,
		.evict		= (void *)adaptive_evict,
		.block_alloc	= (void *)adaptive_block_alloc,
		.block_access	= (void *)adaptive_block_access,
		.block_free	= (void *)adaptive_block_free,
		.evict_done	= (void *)adaptive_evict_done,
		.fault_done	= (void *)adaptive_fault_done,
		.name		= "adaptive");
