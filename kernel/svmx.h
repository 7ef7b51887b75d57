/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmx internal interfaces.
 *
 * Object levels (one struct each):
 *   struct svmx_device  - one virtual accelerator, /dev/svmxN
 *   struct svmx_block   - a refcounted block of device memory
 *   struct svmx_ctx     - a binding of one mm to one device: device page
 *                         table, notifier, advice, per-region history
 *   struct svmx_policy_ops - the decision interface (built-in default now,
 *                         BPF struct_ops later)
 */
#ifndef _SVMX_H
#define _SVMX_H

#include <linux/cgroup.h>
#include <linux/genalloc.h>
#include <linux/hmm.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "uapi/svmx.h"

#define SVMX_MAX_DEVICES	8
#define SVMX_CHUNK_ORDER	(21 - PAGE_SHIFT)	/* 2 MiB */
#define SVMX_MID_ORDER		(16 - PAGE_SHIFT)	/* 64 KiB */
#define SVMX_REGION_SHIFT	21			/* ping-pong regions */
#define SVMX_FAULT_BATCH	256	/* fault-buffer entries serviced at once */
#define SVMX_EVICT_CANDIDATES	32	/* LRU blocks offered to the policy */
#define SVMX_EVICT_VICTIMS	32	/* victims a policy may propose at once */
#define SVMX_RETRY_TIMEOUT	(10 * HZ) /* invalidation races, then -EAGAIN */

/*
 * Whether a retry loop racing with invalidations must give up: after
 * SVMX_RETRY_TIMEOUT (-EAGAIN) or when the caller is being killed (-EINTR).
 */
static inline int svmx_retry_stop(unsigned long deadline)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	if (time_after(jiffies, deadline))
		return -EAGAIN;
	cond_resched();
	return 0;
}

/* Enumerations shared with the tracepoints (svmx_trace.h prints them). */
enum svmx_access {
	SVMX_ACCESS_READ,
	SVMX_ACCESS_WRITE,
	SVMX_ACCESS_ATOMIC,
};

/**
 * enum svmx_placement - where a device fault's data should be
 * @SVMX_PLACE_MIGRATE: migrate the chunk to @target device memory
 * @SVMX_PLACE_REMOTE: leave pages where they are and map them (zero copy)
 */
enum svmx_placement {
	SVMX_PLACE_MIGRATE,
	SVMX_PLACE_REMOTE,
};

enum svmx_dir {
	SVMX_DIR_TO_DEVICE,
	SVMX_DIR_TO_SYSTEM,
};

/*
 * Why a block is evicted; each reason has its own counter in struct
 * svmx_counters.  Unbind gives its memory back by migration, not eviction.
 */
enum svmx_evict_reason {
	SVMX_EVICT_PRESSURE,	/* a device fault's migration needed room */
	SVMX_EVICT_PREFETCH,	/* a prefetch (policy or SVMX_IOC_MIGRATE) needed room */
	SVMX_EVICT_REQUEST,	/* debugfs evict_all */
};

/* Updates of a 2 MiB region's history (svmx_ctx.c, traced). */
enum svmx_region_event {
	SVMX_REGION_PREPARE,	/* a migration to a device is about to start */
	SVMX_REGION_FAULT,	/* a device (to_device) or CPU (to_system) fault */
	SVMX_REGION_MIGRATED,	/* pages of the region moved in a direction */
};

enum svmx_policy_hook {
	SVMX_HOOK_FAULT,
	SVMX_HOOK_CPU_FAULT,
	SVMX_HOOK_PREFETCH,
	SVMX_HOOK_VICTIM,
};

/* Why a policy's prefetch range was refused or clipped (svmx_fault.c, traced). */
enum svmx_prefetch_verdict {
	SVMX_PF_NO_VMA,		/* refused: no VMA at its start */
	SVMX_PF_NOT_ANON,	/* refused: not private anonymous memory */
	SVMX_PF_NO_READ,	/* refused: the VMA does not allow device reads */
	SVMX_PF_VMA_END,	/* clipped at the end of its VMA */
	SVMX_PF_BUDGET,		/* clipped or refused: per-fault budget */
};

/* ---------------------------------------------------------------------
 * Cost model (svmx_cost.c): pure arithmetic, unit-tested by KUnit.
 */

/**
 * struct svmx_cost_params - modeled device costs, sysfs tunable
 * @local_bw_mbps:	device-memory bandwidth, MB/s
 * @local_lat_ns:	device-memory access latency
 * @link_bw_mbps:	host link bandwidth (remote access and migration), MB/s
 * @link_lat_ns:	host link access latency
 * @peer_bw_mbps:	hive link bandwidth, MB/s
 * @peer_lat_ns:	hive link latency
 * @fault_batch_ns:	fixed cost of servicing one fault batch
 * @fault_ns:		additional cost per fault in a batch
 * @copy_setup_ns:	cost of issuing one copy command
 * @evict_block_ns:	fixed bookkeeping cost of evicting one block
 */
struct svmx_cost_params {
	u32 local_bw_mbps;
	u32 local_lat_ns;
	u32 link_bw_mbps;
	u32 link_lat_ns;
	u32 peer_bw_mbps;
	u32 peer_lat_ns;
	u32 fault_batch_ns;
	u32 fault_ns;
	u32 copy_setup_ns;
	u32 evict_block_ns;
};

enum svmx_mem_kind {
	SVMX_MEM_LOCAL,
	SVMX_MEM_SYSTEM,
	SVMX_MEM_PEER,
};

extern const struct svmx_cost_params svmx_cost_defaults;
u64 svmx_cost_bytes(u32 bw_mbps, u64 bytes);
u64 svmx_cost_access(const struct svmx_cost_params *p, enum svmx_mem_kind kind,
		     u64 bytes);
u64 svmx_cost_copy(const struct svmx_cost_params *p, u64 cmds, u64 bytes);
u64 svmx_cost_fault_batch(const struct svmx_cost_params *p, u64 nr_faults);
int svmx_cost_param_check(const char *name, u32 value);

/* ---------------------------------------------------------------------
 * Chunk arithmetic (svmx_chunk.c): pure, unit-tested by KUnit.
 */

/**
 * struct svmx_span - a page-aligned virtual range [start, end)
 * @start: first byte
 * @end: one past the last byte
 */
struct svmx_span {
	unsigned long start;
	unsigned long end;
};

struct svmx_span svmx_chunk_around(unsigned long addr, unsigned int order,
				   unsigned long vm_start, unsigned long vm_end);
int svmx_range_check(u64 addr, u64 length, u64 max_length);

/* ---------------------------------------------------------------------
 * Objects
 */

/**
 * struct svmx_device - one virtual accelerator, /dev/svmxN
 * @id: index N
 * @name: "svmxN"
 * @misc: the character device
 * @owner: pgmap owner; hive members share one, so HMM hands each of them
 *	the others' device-private pages instead of migrating them
 * @hive_mask: devices in this device's hive (including itself), or 0
 * @pagemap: the device-private ZONE_DEVICE memory
 * @pfn_first: first pfn of @pagemap
 * @npages: pages of device memory
 * @pool: allocator of device memory blocks, over physical addresses
 * @lock: protects @lru, @nr_blocks, @used_pages, @stats, the order of
 *	every block and the removal of blocks from @blocks
 * @lru: allocated blocks, least recently used first
 * @blocks: every live block, indexed by its first pfn - @pfn_first (the
 *	address order that eviction for an aligned hole walks)
 * @nr_blocks: live blocks; while there are any, the device holds a
 *	reference on the module
 * @used_pages: pages allocated to blocks
 * @stats: device totals since load
 * @resident: pages resident in device memory
 * @epoch: bumped per SVMX_IOC_EXEC; LRU position is refreshed once per epoch
 * @evict_lock: serialises evictors
 * @bind_lock: serialises binding (taken before the mmap lock)
 * @ctx_lock: protects @ctxs (taken under the mmap lock)
 * @ctxs: bound contexts
 * @cost: modeled device costs (sysfs, read without locking)
 * @debugfs: debugfs directory
 * @handles: the valid-blocks registry: block id -> published block (an
 *	id reserved for a block that is not published yet holds no entry);
 *	entries are stored and erased under @lock, read under RCU or @lock
 * @handle_seq: allocations so far, the generation part of new handles
 */
struct svmx_device {
	unsigned int id;
	char name[16];
	struct miscdevice misc;
	void *owner;
	u32 hive_mask;
	struct dev_pagemap pagemap;
	unsigned long pfn_first;
	unsigned long npages;
	struct gen_pool *pool;

	spinlock_t lock;		/* see @lock above */
	struct list_head lru;
	struct xarray blocks;
	u64 nr_blocks;
	u64 used_pages;
	struct svmx_counters stats;

	atomic64_t resident;
	atomic64_t epoch;
	struct mutex evict_lock;	/* serialises evictors */
	struct mutex bind_lock;		/* serialises binding */
	struct mutex ctx_lock;		/* protects @ctxs */
	struct list_head ctxs;
	struct svmx_cost_params cost;
	struct dentry *debugfs;

	struct xarray handles;
	atomic64_t handle_seq;
};

/**
 * struct svmx_block - a block of device memory
 * @sdev: owning device
 * @lru: on @sdev->lru while allocated and not being evicted
 * @pfn: first device pfn
 * @order: the block holds 2^@order pages
 * @refs: one per resident page, plus one per transient holder (the
 *	migration filling it, an evictor); the block is freed at zero
 * @backing: 2^@order physically contiguous system pages that hold the
 *	contents of the virtual device memory (split: freed one by one)
 * @epoch: device epoch of the last access; kept when a busy victim goes
 *	back on the LRU, so the ages a policy sees stay true
 * @pages: resident pages (each also holds a reference in @refs)
 * @handle: the opaque handle policies know the block by (DOC: Block
 *	handles in svmx_devmem.c); valid from svmx_block_publish() on
 * @accesses: device epochs in which the block was accessed, its fill
 *	included (@lock)
 * @touches: pieces of device work (page-sized accesses) that ran on the
 *	block since its fill, counted at every piece: how much the device
 *	used what was migrated, which @accesses, refreshed once per epoch,
 *	cannot tell
 * @owner: &svmx_ctx.id of the binding whose migration filled the block
 * @addr: virtual address of the chunk the block was filled for, in
 *	@owner's address space
 * @cgroup_id: cgroup (v2) id of @owner's binding process
 * @published: svmx_block_publish() ran: the policy was told of the block
 *	and is told of its free
 * @rcu: the block is freed after an RCU grace period, so that a policy
 *	kfunc that found it by handle may still read it
 *
 * A block is not owned by a range or a process: pages of several ranges
 * and processes may share it, and it is freed when its last page is.
 */
struct svmx_block {
	struct svmx_device *sdev;
	struct list_head lru;
	unsigned long pfn;
	unsigned int order;
	refcount_t refs;
	struct page *backing;
	u64 epoch;

	atomic_t pages;
	u64 handle;
	u64 accesses;
	atomic64_t touches;
	u64 owner;
	unsigned long addr;
	u64 cgroup_id;
	bool published;
	struct rcu_head rcu;
};

/**
 * struct svmx_ctx - one mm bound to one device
 * @sdev: the device
 * @mm: the bound mm (mmgrab reference)
 * @notifier: covers the whole address space; invalidations clear @pt
 * @pt_lock: protects the entries of @pt and orders them against
 *	@notifier's sequence
 * @pt: device page table: 2 MiB region index -> struct svmx_pt_leaf;
 *	leaves are created outside @pt_lock, and freed under it by the
 *	notifier once an invalidation leaves them empty (and at unbind)
 * @nr_leaves: leaves in @pt (SVMX_IOC_STATS pt_leaves)
 * @lock: protects @stats and the read-modify-write of @advice
 * @advice: SVMX_IOC_ADVISE hints, maple tree of xa_mk_value() codes
 * @regions: per 2 MiB region history (xa_mk_value() codes)
 * @stats: totals of this binding
 * @node: on @sdev->ctxs
 * @suspend: invalidations in progress; device work waits for zero before
 *	touching the page table again
 * @resume: woken when @suspend drops to zero
 * @id: the binding's handle for policies: unique, never reused while the
 *	module is loaded, never 0 (svmx_ctx_lookup())
 * @rcu: the context is freed after an RCU grace period, so that a policy
 *	callback that looked it up by @id may still read it
 * @cgroup: the cgroup (v2) of the process that bound the context: its
 *	policy scope and the per-cgroup totals
 * @fault_batches: fault batches serviced for the binding; the count after
 *	a batch's own is its &svmx_fault_info.batch_id
 */
struct svmx_ctx {
	struct svmx_device *sdev;
	struct mm_struct *mm;
	struct mmu_interval_notifier notifier;
	struct mutex pt_lock;		/* protects @pt, orders it with @notifier */
	struct xarray pt;
	atomic_long_t nr_leaves;
	struct mutex lock;		/* protects @stats and @advice updates */
	struct maple_tree advice;
	struct xarray regions;
	struct svmx_counters stats;
	struct list_head node;
	atomic_t suspend;
	wait_queue_head_t resume;
	u64 id;
	struct rcu_head rcu;
	struct svmx_cgroup *cgroup;
	atomic64_t fault_batches;
};

#define SVMX_PTE_WRITE	1UL
#define SVMX_PT_LEAF_ENTRIES	BIT(SVMX_REGION_SHIFT - PAGE_SHIFT)

/**
 * struct svmx_pt_leaf - last level of a device page table, one page
 * @pte: struct page pointer | SVMX_PTE_WRITE, or 0
 */
struct svmx_pt_leaf {
	unsigned long pte[SVMX_PT_LEAF_ENTRIES];
};

/* Device page table (svmx_pt.c) */
int svmx_pt_prepare(struct svmx_ctx *ctx, unsigned long start, unsigned long end);
bool svmx_pt_ready(struct svmx_ctx *ctx, unsigned long start, unsigned long end);
unsigned long svmx_pt_get(struct svmx_ctx *ctx, unsigned long va);
struct page *svmx_pt_translate(struct svmx_ctx *ctx, unsigned long va, u32 access);
unsigned long svmx_pt_clear(struct svmx_ctx *ctx, unsigned long start,
			    unsigned long end, bool may_free);
void svmx_pt_set(struct svmx_ctx *ctx, unsigned long va, struct page *page,
		 bool write);
struct svmx_residency;
void svmx_pt_residency_locked(struct svmx_ctx *ctx, unsigned long va,
			      struct svmx_residency *res);
void svmx_pt_residency(struct svmx_ctx *ctx, unsigned long va,
		       struct svmx_residency *res);

static inline struct page *svmx_pte_page(unsigned long pte)
{
	return (struct page *)(pte & ~SVMX_PTE_WRITE);
}

/* ---------------------------------------------------------------------
 * Policy interface (svmx_policy.c)
 */

#define SVMX_LOC_NONE	0xfffffffdu	/* no preferred location */
#define SVMX_MAX_PREFETCH	4

/**
 * enum svmx_vma_kind - what backs the VMA of a fault
 * @SVMX_VMA_ANON: private anonymous memory: the only kind that migrates
 * @SVMX_VMA_SHARED: shared memory (MAP_SHARED anonymous, shmem, memfd):
 *	mapped where it is, whatever the placement
 * @SVMX_VMA_FILE: any other file mapping: mapped where it is
 */
enum svmx_vma_kind {
	SVMX_VMA_ANON,
	SVMX_VMA_SHARED,
	SVMX_VMA_FILE,
};

/**
 * struct svmx_residency - where the pages of a 2 MiB region are
 * @local: pages the device maps from its own memory
 * @system: pages the device maps from system memory
 * @unmapped: pages not in the device's page table: not populated, not
 *	faulted by this device yet, or invalidated since
 * @peer: pages the device maps from device i's memory (a hive peer), by
 *	device index; the faulting device's own entry is 0
 *
 * Counted from the faulting binding's device page table (one leaf of 512
 * entries per region, read under its pt_lock), not from the CPU page
 * tables: what the device would find if it accessed the region now.
 * The counts add up to 512 (SVMX_PT_LEAF_ENTRIES).
 */
struct svmx_residency {
	u32 local;
	u32 system;
	u32 unmapped;
	u32 peer[SVMX_MAX_DEVICES];
};

/**
 * struct svmx_fault_info - what the policy sees of a device fault
 * @dev: faulting device
 * @access: enum svmx_access
 * @addr: faulting address
 * @vma_start: start of the VMA holding @addr
 * @vma_end: end of that VMA
 * @batch_faults: faults in the batch being serviced
 * @region_pingpong: CPU<->device direction changes of the 2 MiB region
 * @region_device_faults: device faults so far in the region
 * @region_cpu_faults: CPU faults so far in the region
 * @preferred: advised preferred location: device index,
 *	SVMX_TARGET_SYSTEM or SVMX_LOC_NONE
 * @accessed_by: advised accessed-by devices (bit per device)
 * @read_mostly: advised read-mostly
 * @hive_mask: the faulting device's hive (0: none)
 * @dev_free_bytes: free device memory of the faulting device
 * @dev_total_bytes: device memory of the faulting device
 * @vma_kind: enum svmx_vma_kind of the VMA holding @addr
 * @region: residency of the 2 MiB region of @addr, before the fault is
 *	serviced (struct svmx_residency)
 * @dev_free_order: largest order of a free naturally aligned block of the
 *	faulting device (svmx_devmem_free_order()), -1 when none is free
 * @peer_free_bytes: free device memory of each hive member, by device
 *	index (the faulting device included); 0 outside the hive
 * @peer_free_order: largest free order of each hive member, by device
 *	index; -1 outside the hive or when nothing is free
 * @ctx_handle: the binding's handle (&svmx_ctx.id): stable while it is
 *	bound, never reused, never 0; for svmx_bpf_region_info()
 * @cgroup_id: cgroup (v2) id of the process that bound the faulting
 *	context, 0 if unknown; it selects the context's policy scope
 * @batch_id: the fault's batch: the binding's count of fault batches,
 *	this one included (from 1, never 0); every fault of one batch has
 *	the same, a later batch of the binding a larger one.  A retry of the
 *	same pieces after their pages were taken again is a new batch.
 * @batch_index: the fault's position in its batch, 0..@batch_faults - 1,
 *	in address order of the operation's pieces.  Faults that an earlier
 *	fault's chunk already satisfied are not asked about, so the indices
 *	seen may skip.  With @batch_id it tells the policy which blocks the
 *	batch filled before this fault: those its pieces still need, since
 *	no piece of the batch runs before every fault of it is serviced.
 */
struct svmx_fault_info {
	u32 dev;
	u32 access;
	u64 addr;
	u64 vma_start;
	u64 vma_end;
	u32 batch_faults;
	u32 region_pingpong;
	u32 region_device_faults;
	u32 region_cpu_faults;
	u32 preferred;
	u32 accessed_by;
	u32 read_mostly;
	u32 hive_mask;
	u64 dev_free_bytes;
	u64 dev_total_bytes;
	u32 vma_kind;
	struct svmx_residency region;
	s32 dev_free_order;
	u64 peer_free_bytes[SVMX_MAX_DEVICES];
	s32 peer_free_order[SVMX_MAX_DEVICES];
	u64 ctx_handle;
	u64 cgroup_id;
	u64 batch_id;
	u32 batch_index;
};

/**
 * struct svmx_fault_decision - placement and granularity of a device fault
 * @placement: enum svmx_placement
 * @target: device to migrate to (the faulting device or a hive peer)
 * @order: chunk order around the fault, 0..SVMX_CHUNK_ORDER
 */
struct svmx_fault_decision {
	u32 placement;
	u32 target;
	u32 order;
};

/**
 * struct svmx_prefetch_range - one range of a prefetch answer
 * @start: page-aligned first byte
 * @len: page-aligned length, at most 2 MiB
 *
 * Named (not an anonymous struct) so that BPF CO-RE can relocate an
 * access to range[i] with a variable i.
 */
struct svmx_prefetch_range {
	u64 start;
	u64 len;
};

/**
 * struct svmx_prefetch - extra ranges to migrate ahead of demand
 * @nr: valid entries in @range, 0..SVMX_MAX_PREFETCH
 * @range: page-aligned [start, start + len) ranges; checked and clipped
 *	by the fault path (svmx_prefetch_check() in svmx_fault.c)
 * @order: order of the chunks the ranges migrate in, 0..SVMX_CHUNK_ORDER
 *	(each chunk is clipped to its range); the default's is
 *	SVMX_CHUNK_ORDER
 * @target: device the ranges migrate to: the faulting device or a hive
 *	peer; the default's is the fault's own target
 */
struct svmx_prefetch {
	u32 nr;
	struct svmx_prefetch_range range[SVMX_MAX_PREFETCH];
	u32 order;
	u32 target;
};

/**
 * struct svmx_cpu_fault_info - what the policy sees of a CPU fault
 * @dev: device whose page faulted
 * @addr: faulting address
 * @vma_start: start of the VMA
 * @vma_end: end of the VMA
 * @region_pingpong: as in struct svmx_fault_info
 * @access: enum svmx_access: SVMX_ACCESS_WRITE for a write fault, else
 *	SVMX_ACCESS_READ
 * @region_device_faults: device faults so far in the 2 MiB region
 * @region_cpu_faults: CPU faults so far in the region, this one included
 * @ctx_handle: handle of the binding the region's history belongs to (the
 *	one that placed the page), 0 when there is none
 *
 * The region history fields are those of the binding that placed the
 * page; for a fault HMM raises for another device (a bounce, not a CPU
 * access) they and @ctx_handle are 0.
 * @cgroup_id: as in struct svmx_fault_info, of the context that placed
 *	the page (0 if no context of the faulting mm is found)
 */
struct svmx_cpu_fault_info {
	u32 dev;
	u64 addr;
	u64 vma_start;
	u64 vma_end;
	u32 region_pingpong;
	u32 access;
	u32 region_device_faults;
	u32 region_cpu_faults;
	u64 ctx_handle;
	u64 cgroup_id;
};

/**
 * struct svmx_fault_done - what became of a device fault
 * @dev: faulting device
 * @access: enum svmx_access
 * @addr: faulting address
 * @ctx_handle: the binding's handle, as in struct svmx_fault_info
 * @placement: enum svmx_placement applied: the policy's, or
 *	SVMX_PLACE_REMOTE when @overridden
 * @target: device the chunk was to migrate to
 * @asked_order: order the policy decided (after validation)
 * @got_order: order of the device block the chunk migrated into:
 *	@asked_order, or a lower step of the fallback ladder (64 KiB, one
 *	page) when device memory could not be had even by evicting; -1 when
 *	nothing was to migrate (remote placement, pages already there) or no
 *	block could be had at all (the pages were mapped where they are)
 * @overridden: the forward-progress guarantee of the execution engine
 *	replaced the policy's placement by SVMX_PLACE_REMOTE (also traced,
 *	svmx:svmx_progress_override)
 * @pages_migrated: pages of the fault's chunk migrated to @target
 * @prefetch_pages: pages the prefetch ranges migrated
 * @prefetch_refused: prefetch ranges refused (no VMA at the start, not
 *	anonymous, not readable, per-fault budget used up)
 * @prefetch_clipped: prefetch ranges shortened (VMA end, budget)
 * @ret: 0, or the negative errno servicing the fault ended with
 * @cgroup_id: as in struct svmx_fault_info: the scope whose policy decided
 */
struct svmx_fault_done {
	u32 dev;
	u32 access;
	u64 addr;
	u64 ctx_handle;
	u32 placement;
	u32 target;
	u32 asked_order;
	s32 got_order;
	u32 overridden;
	u32 pages_migrated;
	u32 prefetch_pages;
	u32 prefetch_refused;
	u32 prefetch_clipped;
	s32 ret;
	u64 cgroup_id;
};

/**
 * struct svmx_migrate_done - a migration between system and device memory
 * @dev: the device whose memory the pages moved into or out of
 * @dir: enum svmx_dir
 * @addr: virtual start of the span, or for an eviction the block's device
 *	physical address
 * @pages: pages that moved
 * @copy_cmds: copy commands issued
 * @bytes: bytes copied (unpopulated pages are zero-filled, not copied)
 * @modeled_ns: modeled device time of the copies
 */
struct svmx_migrate_done {
	u32 dev;
	u32 dir;
	u64 addr;
	u64 pages;
	u64 copy_cmds;
	u64 bytes;
	u64 modeled_ns;
};

/*
 * Block handles (DOC: Block handles in svmx_devmem.c): bits 63..60 are the
 * device index + 1, so that 0 is never a handle; bits 59..28 the low bits
 * of the device's allocation count when the id was handed out; bits 27..0
 * the block's id in &svmx_device.handles.
 */
#define SVMX_HANDLE_DEV_SHIFT	60
#define SVMX_HANDLE_GEN_SHIFT	28
#define SVMX_HANDLE_ID_MASK	(BIT_ULL(SVMX_HANDLE_GEN_SHIFT) - 1)
#define SVMX_HANDLE_GEN_MASK	(BIT_ULL(SVMX_HANDLE_DEV_SHIFT - SVMX_HANDLE_GEN_SHIFT) - 1)

/**
 * struct svmx_evict_info - device memory is needed: what the policy sees
 * @dev: the device under pressure
 * @order: order of the block being reserved
 * @reason: enum svmx_evict_reason
 * @nr_cand: valid entries in @cand, 1..SVMX_EVICT_CANDIDATES
 * @bytes: bytes to free: the block's size less the free device memory
 * @cand: handles of the least recently used evictable blocks, least
 *	recently used first
 */
struct svmx_evict_info {
	u32 dev;
	u32 order;
	u32 reason;
	u32 nr_cand;
	u64 bytes;
	u64 cand[SVMX_EVICT_CANDIDATES];
};

/**
 * struct svmx_evict_answer - the victims a policy proposes
 * @nr: valid entries in @victim, 0..SVMX_EVICT_VICTIMS
 * @victim: block handles, evicted in this order until the bytes needed
 *	are free; any live block of the device, candidate or not
 */
struct svmx_evict_answer {
	u32 nr;
	u64 victim[SVMX_EVICT_VICTIMS];
};

/**
 * struct svmx_evict_ctx - an eviction decision: the question and the answer
 * @info: the question (read only)
 * @answer: the victims; starts empty, the built-in default's answer (the
 *	LRU then evicts everything needed).  BPF policies add to it with
 *	svmx_bpf_evict_propose()
 */
struct svmx_evict_ctx {
	struct svmx_evict_info info;
	struct svmx_evict_answer answer;
};

/**
 * enum svmx_evict_reject - why a proposed victim was not evicted
 * @SVMX_REJECT_MALFORMED: not a handle of any device (0, garbage)
 * @SVMX_REJECT_FOREIGN: a handle of another device
 * @SVMX_REJECT_DEAD: no live block has this handle: freed, or never was
 * @SVMX_REJECT_BUSY: the block is live but not evictable now: being
 *	filled or evicted, or proposed twice
 */
enum svmx_evict_reject {
	SVMX_REJECT_MALFORMED,
	SVMX_REJECT_FOREIGN,
	SVMX_REJECT_DEAD,
	SVMX_REJECT_BUSY,
};

/**
 * enum svmx_victim_source - who chose an evicted block
 * @SVMX_VICTIM_POLICY: the policy proposed it
 * @SVMX_VICTIM_LRU: the LRU, for bytes the policy's victims did not free
 * @SVMX_VICTIM_HOLE: emptying an aligned hole when free memory is
 *	fragmented (DOC: Reserving a destination block)
 * @SVMX_VICTIM_REQUEST: debugfs evict_all
 * @SVMX_VICTIM_NR: number of sources
 */
enum svmx_victim_source {
	SVMX_VICTIM_POLICY,
	SVMX_VICTIM_LRU,
	SVMX_VICTIM_HOLE,
	SVMX_VICTIM_REQUEST,
	SVMX_VICTIM_NR,
};

/**
 * enum svmx_block_note - block notifications of a policy
 * @SVMX_NOTE_ALLOC: a block was filled and can now be evicted
 * @SVMX_NOTE_ACCESS: device work accessed a block, the first time in this
 *	device epoch
 * @SVMX_NOTE_FREE: a block was freed; its handle no longer validates
 */
enum svmx_block_note {
	SVMX_NOTE_ALLOC,
	SVMX_NOTE_ACCESS,
	SVMX_NOTE_FREE,
};

/**
 * struct svmx_block_event - a block notification
 * @handle: the block's handle
 * @dev: its device
 * @order: its order
 * @epoch: the device epoch now
 * @owner: handle of the binding whose migration filled it (the fault
 *	info's context handle)
 * @addr: virtual address of the chunk it was filled for, in @owner's
 *	address space: with @owner, the key to recognise the same data when
 *	it comes back in a new block after an eviction
 * @accesses: device epochs in which it was accessed, its fill included
 * @cgroup_id: cgroup (v2) id of @owner's binding process: the tenant
 * @touches: page-sized device accesses to it since its fill (every one
 *	counted, unlike @accesses); at an eviction, how much the device used
 *	the data it migrated
 */
struct svmx_block_event {
	u64 handle;
	u32 dev;
	u32 order;
	u64 epoch;
	u64 owner;
	u64 addr;
	u64 accesses;
	u64 cgroup_id;
	u64 touches;
};

/**
 * struct svmx_evict_done - an eviction attempt ended
 * @block: the block, as in its notifications
 * @pages: pages moved back to system memory
 * @left: pages that stayed (busy); the block then stays live
 * @reason: enum svmx_evict_reason
 * @source: enum svmx_victim_source
 * @ret: 0, or the error of the eviction (-EBUSY, -ENOMEM)
 */
struct svmx_evict_done {
	struct svmx_block_event block;
	u64 pages;
	u32 left;
	u32 reason;
	u32 source;
	s32 ret;
};

/**
 * struct svmx_policy_ops - the decision interface of the svmx core
 *
 * The core never hard-codes a decision: it asks the active policy, checks
 * the answer, and uses the built-in default's answer instead when the
 * policy has no callback (silently), or returns an error or answers out of
 * range (counted in policy_fallbacks, traced as svmx_policy fallback=1).  Callbacks
 * run under rcu_read_lock() and must not sleep.  Each answer a callback
 * fills holds the built-in default's answer when it is called, so a
 * callback sets only what it decides.
 */
struct svmx_policy_ops {
	/**
	 * @fault: placement and granularity of a device fault.
	 * Called once per faulting chunk, with the mmap lock held for read.
	 * Return 0 and fill @d, or a negative errno to fall back.
	 */
	int (*fault)(const struct svmx_fault_info *info,
		     struct svmx_fault_decision *d);
	/**
	 * @prefetch: ranges to migrate after the fault's own chunk.
	 * Called after @fault decided to migrate.  Optional.
	 */
	int (*prefetch)(const struct svmx_fault_info *info,
			struct svmx_prefetch *p);
	/**
	 * @cpu_fault: order of the aligned chunk brought back on a CPU fault.
	 * Return 0 and set *@order (0..SVMX_CHUNK_ORDER) or an errno.
	 */
	int (*cpu_fault)(const struct svmx_cpu_fault_info *info, u32 *order);
	/**
	 * @evict: victims to evict when a device needs memory.  Called with
	 * the device's evict_lock held, no spinlock.  Return 0 and fill
	 * @ctx->answer (it starts empty) with up to SVMX_EVICT_VICTIMS
	 * handles of any blocks of the device, or an errno.  The evictor
	 * checks every handle (svmx_policy_evict_reject() for the ones it
	 * refuses) and evicts by LRU what the valid victims leave needed.
	 */
	int (*evict)(struct svmx_evict_ctx *ctx);
	/**
	 * @rejected: the wrapper replaced an answer of this policy by the
	 * default's.  @hook says which decision; @cgroup_id is the
	 * decision's (from its info, 0 for the eviction victim), so that a
	 * policy with several scopes finds the one that answered; @err is
	 * the callback's error, or 0 when the answer was out of range.
	 * Called under rcu_read_lock(), right after the rejection.
	 * Optional.
	 */
	void (*rejected)(enum svmx_policy_hook hook, u64 cgroup_id, int err);
	/**
	 * @block_note: a block was allocated, accessed (at most once per
	 * block and device epoch) or freed (enum svmx_block_note).  Called
	 * under rcu_read_lock(), never with pt_lock held; a free may come
	 * from any context that drops a device page (under a page-table
	 * spinlock at process exit).  Optional.
	 */
	void (*block_note)(enum svmx_block_note note,
			   const struct svmx_block_event *ev);
	/**
	 * @evict_done: an eviction attempt ended.  Called under
	 * rcu_read_lock() with the device's evict_lock held, before the
	 * block's free (if it goes).  Optional.
	 */
	void (*evict_done)(const struct svmx_evict_done *done);
	/**
	 * @fault_done: notification of what became of a device fault:
	 * the order the chunk fallback ladder got, whether the
	 * forward-progress guarantee overrode the placement, what moved and
	 * which prefetch ranges were refused or clipped.  Called once per
	 * serviced fault after it was mapped, with the mmap lock held for
	 * read, never with pt_lock held, under rcu_read_lock(): must not
	 * sleep.  Optional.
	 */
	void (*fault_done)(const struct svmx_fault_done *done);
	/**
	 * @migrate_done: notification of a migration that moved pages, in
	 * either direction (faults, prefetch, CPU faults, eviction, unbind).
	 * Called right after the copies, from process context that may hold
	 * the mmap lock, a page lock (CPU fault) or a device's evict_lock,
	 * never pt_lock, under rcu_read_lock(): must not sleep.  Optional.
	 */
	void (*migrate_done)(const struct svmx_migrate_done *done);
	/**
	 * @name_of: the name of the policy that decides for the scope of
	 * @cgroup_id (0: device-wide decisions), for the svmx:svmx_policy
	 * and svmx:svmx_evict_reject traces.  Called under rcu_read_lock()
	 * right after the decision; the string stays valid until
	 * rcu_read_unlock().  Optional: @name otherwise.
	 */
	const char *(*name_of)(u64 cgroup_id);
	/** @name: policy name, shown in traces and stats */
	const char *name;
};

void svmx_policy_install(const struct svmx_policy_ops *ops);
void svmx_policy_fault(struct svmx_device *sdev, const struct svmx_fault_info *info,
		       struct svmx_fault_decision *d, struct svmx_counters *cnt);
void svmx_policy_prefetch(struct svmx_device *sdev, const struct svmx_fault_info *info,
			  u32 target, struct svmx_prefetch *p,
			  struct svmx_counters *cnt);
u32 svmx_policy_cpu_fault(struct svmx_device *sdev,
			  const struct svmx_cpu_fault_info *info,
			  struct svmx_counters *cnt);
void svmx_policy_evict(struct svmx_device *sdev, struct svmx_evict_ctx *ctx,
		       struct svmx_counters *cnt);
void svmx_policy_evict_reject(struct svmx_device *sdev, u64 handle,
			      enum svmx_evict_reject why, struct svmx_counters *cnt);
void svmx_policy_block_note(enum svmx_block_note note,
			    const struct svmx_block_event *ev);
void svmx_policy_evict_done(const struct svmx_evict_done *done);
void svmx_policy_fault_done(const struct svmx_fault_done *done);
void svmx_policy_migrate_done(const struct svmx_migrate_done *done);
bool svmx_policy_fault_ok(const struct svmx_fault_info *info,
			  const struct svmx_fault_decision *d);
bool svmx_policy_prefetch_ok(const struct svmx_fault_info *info,
			     const struct svmx_prefetch *p);
bool svmx_policy_cpu_order_ok(u32 order);

/*
 * The files below are listed bottom-up: each calls only those before it
 * (docs/design.md, "Files by concern").
 */

/* ---------------------------------------------------------------------
 * Device registry and accounting (svmx_registry.c)
 */

/**
 * struct svmx_cgroup - the contexts bound from one cgroup (v2), and their
 *	totals
 * @id: the cgroup's id (cgroup_id(); the inode number of its directory
 *	in cgroup2)
 * @cgrp: the cgroup, referenced while the entry lives
 * @users: contexts bound from it (svmx_cgroups_lock)
 * @lock: protects @stats
 * @stats: totals of every context bound from the cgroup since the first
 * @rcu: freed after a grace period: policy look-ups walk @cgrp's
 *	ancestors under RCU
 *
 * An entry lives while contexts use it, and after that until its cgroup
 * is removed, so that the totals of a cgroup outlive its processes.
 */
struct svmx_cgroup {
	u64 id;
	struct cgroup *cgrp;
	unsigned int users;
	spinlock_t lock;		/* protects @stats */
	struct svmx_counters stats;
	struct rcu_head rcu;
};

/*
 * Whether a cgroup was removed: rmdir takes CSS_ONLINE off its own css at
 * once (cgroup_is_dead() of kernel/cgroup/cgroup-internal.h, which
 * modules cannot include); css_is_dying() only concerns controllers.
 */
static inline bool svmx_cgroup_removed(const struct cgroup *cgrp)
{
	return !(READ_ONCE(cgrp->self.flags) & CSS_ONLINE);
}

extern unsigned int svmx_nr_devices;
void svmx_device_register(struct svmx_device *sdev);
void svmx_device_unregister(unsigned int id);
struct svmx_device *svmx_device_get(unsigned int id);
struct svmx_device *svmx_page_device(struct page *page);
bool svmx_device_owner_first(unsigned int id);
bool svmx_owner_resident(void *owner);
bool svmx_with_ctx(struct svmx_device *sdev, struct mm_struct *mm,
		   void (*fn)(struct svmx_ctx *ctx, void *arg), void *arg);
void svmx_counters_add(struct svmx_counters *dst, const struct svmx_counters *src);
void svmx_device_account(struct svmx_device *sdev, const struct svmx_counters *c);
void svmx_ctx_add(struct svmx_ctx *ctx, const struct svmx_counters *c);
void svmx_ctx_account(struct svmx_ctx *ctx, const struct svmx_counters *c);
struct svmx_cgroup *svmx_cgroup_bind(void);
void svmx_cgroup_unbind(struct svmx_cgroup *scg);
struct cgroup *svmx_cgroup_lookup(u64 id);
void svmx_cgroups_walk(void (*fn)(const struct svmx_cgroup *scg,
				  const struct svmx_counters *stats, void *arg),
		       void *arg);
void svmx_cgroups_fini(void);

static inline u64 svmx_resident_pages(struct svmx_device *sdev)
{
	return atomic64_read(&sdev->resident);
}

/* ---------------------------------------------------------------------
 * Region history and advice (svmx_region.c)
 */

int svmx_ctx_region_prepare(struct svmx_ctx *ctx, unsigned long addr,
			    struct svmx_device *target);
void svmx_ctx_region_fault(struct svmx_ctx *ctx, unsigned long addr);
void svmx_ctx_region_migrated(struct svmx_ctx *ctx, unsigned long addr,
			      enum svmx_dir dir, struct svmx_counters *cnt);
u32 svmx_region_fault(struct svmx_device *sdev, struct mm_struct *mm,
		      unsigned long addr, enum svmx_dir dir,
		      struct svmx_cpu_fault_info *info);
void svmx_region_migrated(struct svmx_device *sdev, struct mm_struct *mm,
			  unsigned long addr, enum svmx_dir dir,
			  struct svmx_counters *cnt);
void svmx_mm_account(struct svmx_device *sdev, struct mm_struct *mm,
		     unsigned long addr, const struct svmx_counters *c);
u64 svmx_mm_cgroup_id(struct svmx_device *sdev, struct mm_struct *mm,
		      unsigned long addr);
u32 svmx_region_pingpong(struct svmx_ctx *ctx, unsigned long addr,
			 u32 *dev_faults, u32 *cpu_faults);
int svmx_advise(struct svmx_ctx *ctx, const struct svmx_advise *a);
void svmx_advice_get(struct svmx_ctx *ctx, unsigned long addr,
		     struct svmx_fault_info *info);

/* ---------------------------------------------------------------------
 * Device memory: the pool, blocks, refcounts, LRU (svmx_devmem.c)
 */

unsigned long svmx_pool_alloc(struct gen_pool *pool, unsigned int order);
void svmx_pool_free(struct gen_pool *pool, unsigned long phys, unsigned int order);
int svmx_pool_free_order(struct gen_pool *pool);
int svmx_devmem_init(struct svmx_device *sdev, u64 bytes,
		     const struct dev_pagemap_ops *ops);
void svmx_devmem_fini(struct svmx_device *sdev);
void svmx_devmem_page_free(struct page *page);
u64 svmx_devmem_free_bytes(struct svmx_device *sdev);
int svmx_devmem_free_order(struct svmx_device *sdev);
struct svmx_block *svmx_block_try_alloc(struct svmx_device *sdev,
					unsigned int order);
void svmx_block_shrink(struct svmx_block *block, unsigned int order);
void svmx_block_put(struct svmx_block *block);
void svmx_block_publish(struct svmx_block *block, u64 owner, u64 cgroup_id,
			unsigned long addr);
void svmx_block_requeue(struct svmx_block *block);
bool svmx_block_touch(struct svmx_block *block);
void svmx_block_accessed(struct svmx_block *block);
void svmx_block_event(struct svmx_block *block, struct svmx_block_event *ev);
struct svmx_block *svmx_block_take(struct svmx_device *sdev, u64 handle,
				   enum svmx_evict_reject *why);
struct svmx_block *svmx_block_lookup(u64 handle);
void svmx_fault_inject_init(struct dentry *dir);
bool svmx_fail_block(unsigned int order);
bool svmx_fail_sysmem(void);

static inline struct svmx_block *svmx_page_block(struct page *page)
{
	return page->zone_device_data;
}

/* The system page that holds a device page's contents. */
static inline struct page *svmx_backing_page(struct page *page)
{
	struct svmx_block *block = svmx_page_block(page);

	return block->backing + (page_to_pfn(page) - block->pfn);
}

/* ---------------------------------------------------------------------
 * Migration machinery: migrate_vma both ways, copies, CPU faults
 * (svmx_migrate.c).  It takes reserved blocks and never evicts.
 */

int svmx_next_order(int order);
long svmx_movable_pages(struct svmx_device *target, struct vm_area_struct *vma,
			struct svmx_span span, struct svmx_counters *cnt);
int svmx_migrate_to_device(struct svmx_ctx *ctx, struct svmx_device *target,
			   struct vm_area_struct *vma, struct svmx_span span,
			   struct svmx_block *block, struct svmx_counters *cnt);
int svmx_migrate_to_system(struct vm_area_struct *vma, unsigned long start,
			   unsigned long end, struct svmx_counters *cnt);
int svmx_migrate_hive_to_system(struct svmx_device *sdev,
				struct vm_area_struct *vma, unsigned long start,
				unsigned long end, struct page *fault_page,
				struct svmx_counters *cnt);
int svmx_migrate_block_to_system(struct svmx_block *block, unsigned long *moved,
				 unsigned int *passes, struct svmx_counters *cnt);
vm_fault_t svmx_migrate_to_ram(struct vm_fault *vmf);

/* ---------------------------------------------------------------------
 * Eviction: victims, evicting a block, reserving a destination block
 * (svmx_evict.c)
 */

struct svmx_block *svmx_block_reserve(struct svmx_device *sdev, unsigned int order,
				      bool evict, enum svmx_evict_reason reason,
				      struct svmx_counters *cnt);
struct svmx_block *svmx_reserve_chunk(struct svmx_device *target,
				      struct vm_area_struct *vma,
				      struct svmx_span span,
				      enum svmx_evict_reason reason,
				      struct svmx_counters *cnt);
int svmx_evict_block(struct svmx_block *block, enum svmx_evict_reason reason,
		     enum svmx_victim_source source, struct svmx_counters *cnt);
int svmx_evict_all(struct svmx_device *sdev, enum svmx_evict_reason reason,
		   struct svmx_counters *cnt);

/* ---------------------------------------------------------------------
 * Contexts: bind, unbind, the MMU notifier (svmx_ctx.c)
 */

struct svmx_ctx *svmx_ctx_create(struct svmx_device *sdev);
void svmx_ctx_destroy(struct svmx_ctx *ctx);
struct svmx_ctx *svmx_ctx_lookup(u64 id);

/* ---------------------------------------------------------------------
 * Device faults, MIGRATE and SNAPSHOT (svmx_fault.c)
 */

/**
 * struct svmx_fault - one entry of the device fault buffer
 * @addr: page-aligned faulting address
 * @access: enum svmx_access
 */
struct svmx_fault {
	unsigned long addr;
	u32 access;
};

bool svmx_vma_allows(struct vm_area_struct *vma, u32 access);
int svmx_service_faults(struct svmx_ctx *ctx, struct svmx_fault *faults,
			unsigned int nr, bool in_place, struct svmx_counters *cnt);
int svmx_map_range(struct svmx_ctx *ctx, unsigned long start, unsigned long end,
		   const struct svmx_fault *faults, unsigned int nr,
		   struct svmx_counters *cnt);
int svmx_snapshot(struct svmx_ctx *ctx, unsigned long start,
		  unsigned long npages, u8 *loc, u8 *peer);
int svmx_prefetch_ioctl(struct svmx_ctx *ctx, struct svmx_migrate *m);

/* ---------------------------------------------------------------------
 * Execution engine (svmx_exec.c)
 */

int svmx_exec(struct svmx_ctx *ctx, const struct svmx_op *ops,
	      struct svmx_exec *e);

/* ---------------------------------------------------------------------
 * The ioctl layer, sysfs and debugfs (svmx_ioctl.c, svmx_sysfs.c,
 * svmx_debugfs.c), used by module set-up (svmx_main.c)
 */

extern const struct file_operations svmx_fops;
extern const struct attribute_group *svmx_groups[];
struct dentry *svmx_debugfs_create(void);
void svmx_debugfs_remove(void);
void svmx_debugfs_device_add(struct svmx_device *sdev);
void svmx_debugfs_device_remove(struct svmx_device *sdev);

#endif /* _SVMX_H */
