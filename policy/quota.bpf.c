// SPDX-License-Identifier: GPL-2.0
/*
 * quota - per-tenant shares of device memory: evict from the tenant
 * furthest above its share.
 *
 * What it does: a tenant is a cgroup v2 (the cgroup of the process that
 * bound the context; struct svmx_block_event carries its id).  From the
 * block_alloc and block_free notifications the policy keeps, per tenant
 * and device, the bytes of the blocks the tenant holds, and per block its
 * tenant, size and the order of its last use (fill or block_access).
 * When a device needs memory, each tenant holding memory on it is
 * entitled to a share of the device: a tenant with a byte share gets
 * those bytes, the others split what is left in proportion to their
 * weights.  The policy proposes the least recently used blocks of the
 * tenant furthest above its entitlement, recomputing after each victim
 * (a victim's bytes count as gone), until the bytes needed are covered or
 * nobody is above its share.  When nobody is, it proposes nothing more and
 * the kernel's LRU evicts the rest, whoever owns it.  Blocks allocated
 * before it attached are met in block_access and counted from then on;
 * a block counts its whole size until its block_free, even when part of
 * it went back to system memory.
 *
 * When to use it: several tenants share a device and one of them streams
 * over more than device memory.  Under LRU the stream evicts the other
 * tenants' hot data; under quota a tenant within its share keeps its data
 * resident and the streaming tenant evicts its own blocks.  It is a
 * global policy: eviction is device wide and asked of the global active
 * policy only (attached to a cgroup, its evict callback is never called).
 * It does not decide faults: the built-in default answers them.
 *
 * Knobs:
 *  - quota_shares (hash map, live from user space, e.g. bpftool map
 *    update or bpf_map_update_elem()): cgroup id (__u64) -> struct
 *    quota_share { weight, bytes }.  A non-zero bytes is the tenant's
 *    share in bytes on each device; else weight (1..2^20) is its weight;
 *    both 0 mean the default weight.  Changes take effect at the next
 *    eviction;
 *  - default_weight (const volatile, default 1): the weight of a tenant
 *    not in quota_shares.
 *
 * Read back: quota_tenants (hash map, cgroup id -> struct quota_tenant)
 * holds each tenant's resident bytes per device, its share at the last
 * eviction of each device, the victims proposed from it and the pages
 * evicted from its blocks (whoever chose them);
 * quota_lru counts evictions where nobody was above its share.
 */
#include <svmx/svmx.bpf.h>
#include <svmx/detect.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u64 default_weight = 1;

#define QUOTA_DEVS	8		/* SVMX_MAX_DEVICES */
#define QUOTA_MAX_WEIGHT (1ULL << 20)	/* keeps bytes * weight in 64 bits */

struct quota_share {
	__u64 weight;
	__u64 bytes;
};

struct quota_tenant {
	__u64 bytes[QUOTA_DEVS];	/* resident: bytes of its blocks */
	__u64 pend[QUOTA_DEVS];		/* proposed in this eviction */
	__u64 share[QUOTA_DEVS];	/* its share at the last eviction */
	__u64 victims;			/* blocks proposed from it */
	__u64 evicted_pages;		/* pages evicted from its blocks */
};

struct quota_block {
	__u64 cgroup_id;
	__u64 seq;	/* order of last use */
	__u32 dev;
	__u32 order;
	__u32 proposed;	/* a victim not yet freed: not to be proposed again */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* cgroup id */
	__type(value, struct quota_share);
} quota_shares SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* cgroup id */
	__type(value, struct quota_tenant);
} quota_tenants SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		/* block handle */
	__type(value, struct quota_block);
} quota_blocks SEC(".maps");

__u64 quota_seq;
__u64 quota_lru;	/* evictions with nobody above share */

/*
 * Per device, the state of its eviction in progress: an eviction of a
 * device runs under its evict_lock, so one slot per device is enough.
 * In global data rather than on the stack, so that the verifier does not
 * follow the sums' ranges through every callback iteration.
 */
__u64 quota_weights[QUOTA_DEVS];	/* of the weighted tenants on it */
__u64 quota_bytes[QUOTA_DEVS];		/* byte shares of the tenants on it */
__u64 quota_pool[QUOTA_DEVS];		/* what the weighted tenants split */
__u64 quota_best[QUOTA_DEVS];		/* tenant furthest above its share */
__u64 quota_best_over[QUOTA_DEVS];	/* by this many bytes */
__u64 quota_next[QUOTA_DEVS];		/* next victim's handle, 0: none */

struct quota_dev {
	__u32 dev;
};

/* The least recently used block of one tenant on one device. */
struct quota_scan {
	struct svmx_scan s;
	__u64 cgroup_id;
	__u64 best_seq;
};

static struct quota_tenant *quota_tenant(__u64 cgid)
{
	struct quota_tenant *t = bpf_map_lookup_elem(&quota_tenants, &cgid);
	struct quota_tenant nt = {};

	if (t)
		return t;
	bpf_map_update_elem(&quota_tenants, &cgid, &nt, BPF_NOEXIST);
	return bpf_map_lookup_elem(&quota_tenants, &cgid);
}

/* The share of @cgid: its bytes (returned), or 0 and its weight in @w. */
static __u64 quota_share_of(__u64 cgid, __u64 *w)
{
	struct quota_share *s = bpf_map_lookup_elem(&quota_shares, &cgid);

	*w = default_weight;
	if (s && s->bytes)
		return s->bytes;
	if (s && s->weight)
		*w = s->weight;
	if (*w > QUOTA_MAX_WEIGHT)
		*w = QUOTA_MAX_WEIGHT;
	if (!*w)
		*w = 1;
	return 0;
}

static void quota_add(struct svmx_block_event *ev, __u64 seq)
{
	struct quota_block b = {
		.cgroup_id = ev->cgroup_id,
		.seq = seq,
		.dev = ev->dev,
		.order = ev->order,
	};
	__u64 h = ev->handle;
	struct quota_tenant *t;

	if (bpf_map_update_elem(&quota_blocks, &h, &b, BPF_NOEXIST))
		return;		/* known already, or the map is full */
	t = quota_tenant(ev->cgroup_id);
	if (t)
		__sync_fetch_and_add(&t->bytes[ev->dev & (QUOTA_DEVS - 1)],
				     SVMX_BLOCK_BYTES(ev->order & 31));
}

void SVMX_OPS(quota_block_alloc, struct svmx_block_event *ev)
{
	quota_add(ev, __sync_add_and_fetch(&quota_seq, 1));
}

void SVMX_OPS(quota_block_access, struct svmx_block_event *ev)
{
	__u64 h = ev->handle, seq = __sync_add_and_fetch(&quota_seq, 1);
	struct quota_block *b = bpf_map_lookup_elem(&quota_blocks, &h);

	if (!b) {	/* a block from before the policy attached */
		quota_add(ev, seq);
		return;
	}
	b->seq = seq;
}

void SVMX_OPS(quota_block_free, struct svmx_block_event *ev)
{
	__u64 h = ev->handle, cgid;
	struct quota_block *b = bpf_map_lookup_elem(&quota_blocks, &h);
	struct quota_tenant *t;

	if (!b)
		return;
	cgid = b->cgroup_id;
	t = bpf_map_lookup_elem(&quota_tenants, &cgid);
	if (t)
		__sync_fetch_and_sub(&t->bytes[b->dev & (QUOTA_DEVS - 1)],
				     SVMX_BLOCK_BYTES(b->order & 31));
	bpf_map_delete_elem(&quota_blocks, &h);
}

void SVMX_OPS(quota_evict_done, struct svmx_evict_done *done)
{
	struct quota_block *b = svmx_victim_stayed(&quota_blocks, done);
	__u64 cgid = done->block.cgroup_id;
	struct quota_tenant *t = bpf_map_lookup_elem(&quota_tenants, &cgid);

	if (t)
		__sync_fetch_and_add(&t->evicted_pages, done->pages);
	/* A victim that stayed (busy pages) may be proposed again. */
	if (b)
		b->proposed = 0;
}

static long quota_sum_cb(struct bpf_map *map, __u64 *cgid, struct quota_tenant *t,
			 struct quota_dev *d)
{
	__u32 dev = d->dev & (QUOTA_DEVS - 1);
	__u64 id = *cgid, w, bytes;

	t->pend[dev] = 0;
	t->share[dev] = 0;
	if (!t->bytes[dev])
		return 0;	/* holds nothing here: entitled to nothing */
	bytes = quota_share_of(id, &w);
	if (bytes)
		quota_bytes[dev] += bytes;
	else
		quota_weights[dev] += w;
	return 0;
}

static long quota_share_cb(struct bpf_map *map, __u64 *cgid, struct quota_tenant *t,
			   struct quota_dev *d)
{
	__u32 dev = d->dev & (QUOTA_DEVS - 1);
	__u64 id = *cgid, w, bytes, weights = quota_weights[dev];

	if (!t->bytes[dev])
		return 0;
	bytes = quota_share_of(id, &w);
	if (!bytes && weights)
		bytes = quota_pool[dev] * w / weights;
	t->share[dev] = bytes;
	return 0;
}

/*
 * Each tenant's share of device @dev (bytes @total) into its share[dev];
 * a global function, so that the verifier checks it once.
 */
__noinline int quota_shares_compute(__u32 dev, __u64 total)
{
	struct quota_dev d = { .dev = dev };

	dev &= QUOTA_DEVS - 1;
	quota_weights[dev] = 0;
	quota_bytes[dev] = 0;
	bpf_for_each_map_elem(&quota_tenants, quota_sum_cb, &d, 0);
	quota_pool[dev] = total > quota_bytes[dev] ? total - quota_bytes[dev] : 0;
	bpf_for_each_map_elem(&quota_tenants, quota_share_cb, &d, 0);
	return 0;
}

static long quota_pick_cb(struct bpf_map *map, __u64 *cgid, struct quota_tenant *t,
			  struct quota_dev *d)
{
	__u32 dev = d->dev & (QUOTA_DEVS - 1);
	__u64 held = t->bytes[dev], pend = t->pend[dev], share = t->share[dev];

	held = held > pend ? held - pend : 0;
	if (held > share && held - share > quota_best_over[dev]) {
		quota_best[dev] = *cgid;
		quota_best_over[dev] = held - share;
	}
	return 0;
}

static long quota_scan_cb(struct bpf_map *map, __u64 *handle, struct quota_block *b,
			  struct quota_scan *scan)
{
	if (b->dev != scan->s.dev || b->cgroup_id != scan->cgroup_id || b->proposed)
		return 0;
	if (!scan->s.best || b->seq < scan->best_seq) {
		scan->s.best = *handle;
		scan->s.best_order = b->order;
		scan->best_seq = b->seq;
	}
	return 0;
}

/*
 * The next victim on device @dev: the least recently used block of the
 * tenant furthest above its share, marked proposed and counted as gone
 * from the tenant.  Its handle in quota_next[dev] (0: nobody is above
 * share).  A global function, so that the verifier checks it once.
 */
__noinline int quota_victim(__u32 dev)
{
	struct quota_scan init = { .s.dev = dev }, scan;
	struct quota_dev d = { .dev = dev };
	struct quota_tenant *t;
	struct quota_block *b;
	__u64 h, cgid;

	dev &= QUOTA_DEVS - 1;
	quota_next[dev] = 0;
	quota_best[dev] = 0;
	quota_best_over[dev] = 0;
	bpf_for_each_map_elem(&quota_tenants, quota_pick_cb, &d, 0);
	if (!quota_best_over[dev])
		return 0;
	cgid = quota_best[dev];
	init.cgroup_id = cgid;
	h = svmx_scan_best(&quota_blocks, quota_scan_cb, &scan, &init, sizeof(scan));
	b = bpf_map_lookup_elem(&quota_blocks, &h);
	t = bpf_map_lookup_elem(&quota_tenants, &cgid);
	if (!b || !t)
		return 0;	/* none of its blocks known here */
	b->proposed = 1;
	t->pend[dev] += SVMX_BLOCK_BYTES(b->order & 31);
	quota_next[dev] = h;
	return 0;
}

int SVMX_OPS(quota_evict, struct svmx_evict_ctx *ev)
{
	__u32 dev = ev->info.dev & (QUOTA_DEVS - 1), order;
	__u64 need = ev->info.bytes, got = 0, h, cgid;
	struct svmx_device_info di;
	struct quota_tenant *t;
	struct quota_block *b;
	__u32 i;

	if (svmx_bpf_device_info(ev->info.dev, &di, sizeof(di)))
		return 0;
	quota_shares_compute(dev, di.total_bytes);
	bpf_for(i, 0, SVMX_EVICT_VICTIMS) {
		if (got >= need)
			break;
		quota_victim(dev);
		h = quota_next[dev];
		if (!h)
			break;		/* nobody above share: the LRU's turn */
		b = bpf_map_lookup_elem(&quota_blocks, &h);
		if (!b)
			break;
		if (svmx_bpf_evict_propose(ev, h)) {
			b->proposed = 0;
			break;
		}
		order = b->order;
		cgid = b->cgroup_id;
		t = bpf_map_lookup_elem(&quota_tenants, &cgid);
		if (t)
			__sync_fetch_and_add(&t->victims, 1);
		got += SVMX_BLOCK_BYTES(order & 31);
	}
	if (!got)
		__sync_fetch_and_add(&quota_lru, 1);
	return 0;
}

SVMX_OPS_DEFINE(quota_ops,
		.evict		= (void *)quota_evict,
		.block_alloc	= (void *)quota_block_alloc,
		.block_access	= (void *)quota_block_access,
		.block_free	= (void *)quota_block_free,
		.evict_done	= (void *)quota_evict_done,
		.name		= "quota");
