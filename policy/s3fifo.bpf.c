// SPDX-License-Identifier: GPL-2.0
/*
 * s3fifo - scan-resistant eviction: a small FIFO, a main FIFO and a ghost
 * (S3-FIFO, Yang et al., SOSP 2023; the generic policy cache_ext found
 * strongest).
 *
 * What it does: a new block enters the small queue, the FIFO that filters
 * out data used once; a block whose data was evicted from the small queue
 * recently (found in the ghost, by owner context and address) enters the
 * main queue instead.  Each block counts its uses (block_access
 * notifications, at most one per device epoch, saturating at 3).  To free
 * memory, the small queue gives up its oldest block while it holds more
 * than small_pct percent of the device's memory, otherwise the main queue
 * does.  The oldest block of the small queue moves to the main queue if
 * it was used again since it came in, else it is evicted and remembered
 * in the ghost; the oldest block of the main queue is reinserted at its
 * tail with its count less one while the count is not zero, else
 * evicted.  The queues are BPF lists under a BPF spin lock, the per-block
 * state a hash map, the ghost an LRU hash map; blocks freed while queued
 * are dropped from the queues lazily (when they reach the head, or when
 * more than half the queued entries are dead).  Blocks it never heard of
 * (allocated before it attached) are left to the kernel's LRU.
 *
 * When to use it: a hot subset reused across device calls, streamed or
 * scanned data used once beside it (the general case of a cache): new data
 * cannot flush the hot subset, and unlike lfu it forgets old popularity
 * in one pass of the main queue.  It does not help a loop larger than
 * device memory (use mru there).
 *
 * Knobs: small_pct (live, default 10): the small queue's share of device
 * memory, in percent (1..99; other values keep 10).  The ghost holds up to 4096
 * chunks (the map's max_entries, settable before load).
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

__u32 small_pct SVMX_LIVE_KNOB = 10;

#define S3_MAX_FREQ	3
#define S3_MAX_STEPS	256	/* queue entries looked at per eviction */
#define S3_DEVS		8	/* SVMX_MAX_DEVICES */

#define s3_container_of(ptr, type, member) \
	((type *)((void *)(ptr) - __builtin_offsetof(type, member)))

enum { S3_NONE, S3_SMALL, S3_MAIN };

struct s3_node {
	struct bpf_list_node node;
	__u64 handle;
};

SVMX_PRIVATE(S3) struct bpf_spin_lock s3_lock;
SVMX_PRIVATE(S3) struct bpf_list_head s3_small __contains(s3_node, node);
SVMX_PRIVATE(S3) struct bpf_list_head s3_main __contains(s3_node, node);

struct s3_block {
	__u64 owner;
	__u64 addr;
	__u32 dev;
	__u32 order;
	__u32 freq;
	__u32 queue;	/* S3_NONE: proposed as a victim, in no queue */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		/* block handle */
	__type(value, struct s3_block);
} s3_blocks SEC(".maps");

struct s3_ghost_key {
	__u64 owner;
	__u64 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct s3_ghost_key);
	__type(value, __u32);
} s3_ghost SEC(".maps");

/* Bytes queued per device, and queue entries (dead ones included). */
__u64 s3_small_bytes[S3_DEVS];
__u64 s3_main_bytes[S3_DEVS];
__u64 s3_small_nodes, s3_main_nodes, s3_dead;

static void s3_account(struct s3_block *b, bool add)
{
	__u64 size = SVMX_BLOCK_BYTES(b->order & 31);
	__u32 dev = b->dev & (S3_DEVS - 1);

	if (!add)
		size = -size;
	if (b->queue == S3_SMALL)
		__sync_fetch_and_add(&s3_small_bytes[dev], size);
	else if (b->queue == S3_MAIN)
		__sync_fetch_and_add(&s3_main_bytes[dev], size);
}

static int s3_push(__u64 handle, bool main)
{
	struct s3_node *n = bpf_obj_new(typeof(*n));

	if (!n)
		return -1;
	n->handle = handle;
	bpf_spin_lock(&s3_lock);
	if (main)
		bpf_list_push_back(&s3_main, &n->node);
	else
		bpf_list_push_back(&s3_small, &n->node);
	bpf_spin_unlock(&s3_lock);
	__sync_fetch_and_add(main ? &s3_main_nodes : &s3_small_nodes, 1);
	return 0;
}

/* The handle at the head of a queue, taken off it; 0 when it is empty. */
static __u64 s3_pop(bool main)
{
	struct bpf_list_node *ln;
	struct s3_node *n;
	__u64 h;

	bpf_spin_lock(&s3_lock);
	if (main)
		ln = bpf_list_pop_front(&s3_main);
	else
		ln = bpf_list_pop_front(&s3_small);
	bpf_spin_unlock(&s3_lock);
	if (!ln)
		return 0;
	n = s3_container_of(ln, struct s3_node, node);
	h = n->handle;
	bpf_obj_drop(n);
	__sync_fetch_and_sub(main ? &s3_main_nodes : &s3_small_nodes, 1);
	return h;
}

/* Put block @h (in state @b) at the tail of queue @queue. */
static void s3_enqueue(__u64 h, struct s3_block *b, __u32 queue)
{
	b->queue = queue;
	if (s3_push(h, queue == S3_MAIN)) {
		b->queue = S3_NONE;	/* no memory: the LRU will see to it */
		return;
	}
	s3_account(b, true);
}

/* Drop the entries of freed blocks: a full rotation keeps the order. */
static void s3_compact(bool main)
{
	__u64 nodes = main ? s3_main_nodes : s3_small_nodes, h;
	__u32 i;

	bpf_for(i, 0, nodes) {
		h = s3_pop(main);
		if (!h)
			break;
		if (bpf_map_lookup_elem(&s3_blocks, &h))
			s3_push(h, main);
		else
			__sync_fetch_and_sub(&s3_dead, 1);
	}
}

static void s3_insert(struct svmx_block_event *ev, __u32 freq)
{
	struct s3_ghost_key key = { .owner = ev->owner, .addr = ev->addr };
	struct s3_block nb = {
		.owner = ev->owner,
		.addr = ev->addr,
		.dev = ev->dev,
		.order = ev->order,
		.freq = freq,
	};
	__u64 h = ev->handle;
	struct s3_block *b;
	__u32 queue = S3_SMALL;

	if (bpf_map_lookup_elem(&s3_ghost, &key)) {
		bpf_map_delete_elem(&s3_ghost, &key);
		queue = S3_MAIN;
	}
	if (bpf_map_update_elem(&s3_blocks, &h, &nb, BPF_NOEXIST))
		return;
	b = bpf_map_lookup_elem(&s3_blocks, &h);
	if (b)
		s3_enqueue(h, b, queue);
}

void SVMX_OPS(s3_block_alloc, struct svmx_block_event *ev)
{
	__u64 dead = s3_dead;

	s3_insert(ev, 0);
	if (dead > 64 && 2 * dead > s3_small_nodes + s3_main_nodes) {
		s3_compact(false);
		s3_compact(true);
	}
}

void SVMX_OPS(s3_block_access, struct svmx_block_event *ev)
{
	__u64 h = ev->handle;
	struct s3_block *b = bpf_map_lookup_elem(&s3_blocks, &h);

	if (!b) {	/* a block from before the policy attached */
		s3_insert(ev, 1);
		return;
	}
	if (b->freq < S3_MAX_FREQ)
		b->freq++;
}

void SVMX_OPS(s3_block_free, struct svmx_block_event *ev)
{
	__u64 h = ev->handle;
	struct s3_block *b = bpf_map_lookup_elem(&s3_blocks, &h);

	if (!b)
		return;
	if (b->queue != S3_NONE) {
		s3_account(b, false);
		__sync_fetch_and_add(&s3_dead, 1);
	}
	bpf_map_delete_elem(&s3_blocks, &h);
}

/* A victim that stayed (busy pages) goes back to the main queue. */
void SVMX_OPS(s3_evict_done, struct svmx_evict_done *done)
{
	__u64 h = done->block.handle;
	struct s3_block *b = bpf_map_lookup_elem(&s3_blocks, &h);

	if (b && done->ret && b->queue == S3_NONE)
		s3_enqueue(h, b, S3_MAIN);
}

int SVMX_OPS(s3_evict, struct svmx_evict_ctx *ev)
{
	__u32 dev = ev->info.dev & (S3_DEVS - 1), pct = small_pct;
	__u64 need = ev->info.bytes, got = 0, small_target, h, size;
	struct svmx_device_info di;
	struct s3_block *b;
	bool main;
	__u32 i;

	if (svmx_bpf_device_info(ev->info.dev, &di, sizeof(di)))
		return 0;
	if (!pct || pct >= 100)
		pct = 10;	/* a bad live value: the default's */
	small_target = di.total_bytes / 100 * pct;

	bpf_for(i, 0, S3_MAX_STEPS) {
		if (got >= need)
			break;
		main = s3_small_bytes[dev] <= small_target;
		h = s3_pop(main);
		if (!h) {
			main = !main;
			h = s3_pop(main);
		}
		if (!h)
			break;
		b = bpf_map_lookup_elem(&s3_blocks, &h);
		if (!b) {	/* freed while queued */
			__sync_fetch_and_sub(&s3_dead, 1);
			continue;
		}
		if (b->dev != ev->info.dev) {	/* another device's: keep it */
			s3_push(h, main);
			continue;
		}
		s3_account(b, false);
		if (!main && b->freq) {		/* used again: promote */
			b->freq = 0;
			s3_enqueue(h, b, S3_MAIN);
			continue;
		}
		if (main && b->freq) {		/* second chance */
			b->freq--;
			s3_enqueue(h, b, S3_MAIN);
			continue;
		}
		if (svmx_bpf_evict_propose(ev, h)) {
			s3_enqueue(h, b, main ? S3_MAIN : S3_SMALL);
			break;
		}
		if (!main) {
			struct s3_ghost_key key = { .owner = b->owner, .addr = b->addr };
			__u32 one = 1;

			bpf_map_update_elem(&s3_ghost, &key, &one, BPF_ANY);
		}
		b->queue = S3_NONE;
		size = SVMX_BLOCK_BYTES(b->order & 31);
		got += size;
	}
	return 0;
}

SVMX_OPS_DEFINE(s3fifo_ops,
		.evict		= (void *)s3_evict,
		.block_alloc	= (void *)s3_block_alloc,
		.block_access	= (void *)s3_block_access,
		.block_free	= (void *)s3_block_free,
		.evict_done	= (void *)s3_evict_done,
		.name		= "s3fifo");
