// SPDX-License-Identifier: GPL-2.0
/*
 * lfu - evict the least frequently used block.
 *
 * What it does: counts, in a hash map, the device epochs in which each
 * block was used (its fill, then at most one block_access notification
 * per block and epoch; an epoch is one SVMX_IOC_EXEC call).  When a device
 * needs memory, it proposes the blocks of that device with the lowest
 * counts until their sizes cover the bytes needed.  Among equal counts,
 * the newest block goes first (tie_newest), so that a stream of blocks
 * used once cannot push out blocks that earned their count; blocks it
 * never heard of (allocated before it attached) are left to the LRU.
 * A block's count goes with the block: data evicted and faulted back
 * starts again at 1.
 *
 * When to use it: a hot subset reused across many device calls, mixed
 * with data touched once (a scan, a stream): LRU lets the stream flush the
 * hot subset, LFU keeps it.  It adapts slowly when the hot subset changes
 * (old counts linger up to max_freq); s3fifo adapts faster.
 *
 * Knobs (const volatile, set before load):
 *  - max_freq (default 15): counts saturate here, so that a phase change
 *    can overtake an old hot block after max_freq epochs;
 *  - tie_newest (default true): among equal counts evict the newest
 *    block; false evicts the oldest (classic LFU with LRU tie-break).
 */
#include <svmx/svmx.bpf.h>
#include <svmx/detect.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 max_freq = 15;
const volatile bool tie_newest = true;

struct lfu_block {
	__u64 seq;	/* insertion order, for ties */
	__u32 freq;	/* 0: proposed, not to be proposed again */
	__u32 dev;
	__u32 order;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		/* block handle */
	__type(value, struct lfu_block);
} lfu_blocks SEC(".maps");

__u64 lfu_seq;

struct lfu_scan {
	struct svmx_scan s;
	__u32 best_freq;
	__u64 best_seq;
};

void SVMX_OPS(lfu_block_alloc, struct svmx_block_event *ev)
{
	struct lfu_block b = {
		.seq = __sync_add_and_fetch(&lfu_seq, 1),
		.freq = 1,
		.dev = ev->dev,
		.order = ev->order,
	};
	__u64 h = ev->handle;

	bpf_map_update_elem(&lfu_blocks, &h, &b, BPF_ANY);
}

void SVMX_OPS(lfu_block_access, struct svmx_block_event *ev)
{
	__u64 h = ev->handle;
	struct lfu_block *b = bpf_map_lookup_elem(&lfu_blocks, &h);
	struct lfu_block nb = {
		.seq = __sync_add_and_fetch(&lfu_seq, 1),
		.freq = 1,
		.dev = ev->dev,
		.order = ev->order,
	};

	if (!b) {	/* a block from before the policy attached */
		bpf_map_update_elem(&lfu_blocks, &h, &nb, BPF_NOEXIST);
		return;
	}
	if (b->freq && b->freq < max_freq)
		b->freq++;
}

void SVMX_OPS(lfu_block_free, struct svmx_block_event *ev)
{
	svmx_blocks_forget(&lfu_blocks, ev->handle);
}

/* A victim that stayed (busy pages) may be proposed again. */
void SVMX_OPS(lfu_evict_done, struct svmx_evict_done *done)
{
	struct lfu_block *b = svmx_victim_stayed(&lfu_blocks, done);

	if (b && !b->freq)
		b->freq = 1;
}

static long lfu_best(struct bpf_map *map, __u64 *handle, struct lfu_block *b,
		     struct lfu_scan *scan)
{
	bool better;

	if (b->dev != scan->s.dev || !b->freq)
		return 0;
	if (b->freq != scan->best_freq)
		better = b->freq < scan->best_freq;
	else if (tie_newest)
		better = b->seq > scan->best_seq;
	else
		better = b->seq < scan->best_seq;
	if (!scan->s.best || better) {
		scan->best_freq = b->freq;
		scan->best_seq = b->seq;
		scan->s.best = *handle;
		scan->s.best_order = b->order;
	}
	return 0;
}

/* A proposed victim: not proposed again unless it stays (evict_done). */
static void lfu_taken(void *rec)
{
	((struct lfu_block *)rec)->freq = 0;
}

int SVMX_OPS(lfu_evict, struct svmx_evict_ctx *ev)
{
	struct lfu_scan init = { .s.dev = ev->info.dev }, scan;

	svmx_scan_propose(ev, &lfu_blocks, lfu_best, &scan, &init, sizeof(scan),
			  lfu_taken);
	return 0;
}

SVMX_OPS_DEFINE(lfu_ops,
		.evict		= (void *)lfu_evict,
		.block_alloc	= (void *)lfu_block_alloc,
		.block_access	= (void *)lfu_block_access,
		.block_free	= (void *)lfu_block_free,
		.evict_done	= (void *)lfu_evict_done,
		.name		= "lfu");
