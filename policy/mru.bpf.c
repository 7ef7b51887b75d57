// SPDX-License-Identifier: GPL-2.0
/*
 * mru - evict the most recently used block.
 *
 * What it does: keeps, in a hash map, the order in which each block of
 * device memory was last filled or accessed (a sequence number per
 * block, fed by the block_alloc and block_access notifications, at most
 * one access per block and device epoch).  When a device needs memory, it
 * proposes the blocks of that device with the highest numbers, most
 * recent first, until their sizes cover the bytes needed; blocks it has
 * never heard of (allocated before it attached) are left to the kernel's
 * LRU.
 *
 * When to use it: a working set larger than device memory that is read
 * over and over in the same order (a cyclic scan, an iterative solver
 * sweeping its arrays).  There LRU evicts exactly the block needed next
 * and misses every time; MRU keeps most of the loop resident and misses
 * only on the part that does not fit.  It is the wrong policy for data
 * with a hot subset that is reused soon after its use (use lfu or s3fifo).
 *
 * Knobs (const volatile, set before load):
 *  - candidates_only (default false): choose only among the 32 least
 *    recently used candidates the kernel offers, ignoring the policy's
 *    own bookkeeping.  This shows what the candidate window alone allows.
 *
 * The scan of the map at each eviction costs one step per live block of
 * the device (bpf_for_each_map_elem), which is fine for 2 MiB blocks;
 * with many small blocks, prefer s3fifo, which keeps queues.
 */
#include <svmx/svmx.bpf.h>
#include <svmx/detect.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile bool candidates_only;

struct mru_block {
	__u64 seq;	/* 0: proposed, not to be proposed again */
	__u32 dev;
	__u32 order;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		/* block handle */
	__type(value, struct mru_block);
} mru_blocks SEC(".maps");

__u64 mru_seq;

struct mru_scan {
	struct svmx_scan s;
	__u64 best_seq;
};

static void mru_note(struct svmx_block_event *ev)
{
	struct mru_block b = {
		.seq = __sync_add_and_fetch(&mru_seq, 1),
		.dev = ev->dev,
		.order = ev->order,
	};
	__u64 h = ev->handle;

	bpf_map_update_elem(&mru_blocks, &h, &b, BPF_ANY);
}

void SVMX_OPS(mru_block_alloc, struct svmx_block_event *ev)
{
	mru_note(ev);
}

void SVMX_OPS(mru_block_access, struct svmx_block_event *ev)
{
	mru_note(ev);
}

void SVMX_OPS(mru_block_free, struct svmx_block_event *ev)
{
	svmx_blocks_forget(&mru_blocks, ev->handle);
}

/* A victim that stayed (busy pages) may be proposed again, as if old. */
void SVMX_OPS(mru_evict_done, struct svmx_evict_done *done)
{
	struct mru_block *b = svmx_victim_stayed(&mru_blocks, done);

	if (b && !b->seq)
		b->seq = 1;
}

static long mru_best(struct bpf_map *map, __u64 *handle, struct mru_block *b,
		     struct mru_scan *scan)
{
	if (b->dev == scan->s.dev && b->seq > scan->best_seq) {
		scan->best_seq = b->seq;
		scan->s.best = *handle;
		scan->s.best_order = b->order;
	}
	return 0;
}

/* A proposed victim: not proposed again unless it stays (evict_done). */
static void mru_taken(void *rec)
{
	((struct mru_block *)rec)->seq = 0;
}

static int mru_from_candidates(struct svmx_evict_ctx *ev)
{
	__u64 h, need = ev->info.bytes, best = 0, best_seq = 0;
	struct mru_block *b;
	__u32 i;

	bpf_for(i, 0, SVMX_EVICT_CANDIDATES) {
		h = svmx_bpf_evict_candidate(ev, i);
		if (!h)
			break;
		b = bpf_map_lookup_elem(&mru_blocks, &h);
		if (b && b->seq > best_seq) {
			best_seq = b->seq;
			best = h;
		}
	}
	if (best && need)
		svmx_bpf_evict_propose(ev, best);
	return 0;
}

int SVMX_OPS(mru_evict, struct svmx_evict_ctx *ev)
{
	struct mru_scan init = { .s.dev = ev->info.dev }, scan;

	if (candidates_only)
		return mru_from_candidates(ev);
	svmx_scan_propose(ev, &mru_blocks, mru_best, &scan, &init, sizeof(scan),
			  mru_taken);
	return 0;
}

SVMX_OPS_DEFINE(mru_ops,
		.evict		= (void *)mru_evict,
		.block_alloc	= (void *)mru_block_alloc,
		.block_access	= (void *)mru_block_access,
		.block_free	= (void *)mru_block_free,
		.evict_done	= (void *)mru_evict_done,
		.name		= "mru");
