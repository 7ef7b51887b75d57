/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmx BPF struct_ops policies: the types a BPF policy sees (they reach the
 * policy through the module's BTF, bpftool btf dump ... format c) and the
 * module's entry points into svmx_bpf.c.
 *
 * Every context struct is a container that may grow at its end; a policy
 * compiled against an older layout keeps working because BPF CO-RE
 * relocates its field offsets.  Only the fields under "answer" are
 * writable from BPF (svmx_bpf_btf_struct_access()).
 */
#ifndef SVMX_BPF_H
#define SVMX_BPF_H

#include "svmx.h"

#define SVMX_OPS_NAME_LEN	32
#define SVMX_EXIT_MSG_LEN	256
#define SVMX_EXIT_REASON_LEN	64

/**
 * struct svmx_fault_ctx - a device fault, as a BPF policy sees it
 * @info: the fault (read only)
 * @answer: the decision (writable); holds the built-in default's decision
 *	when the callback starts
 */
struct svmx_fault_ctx {
	struct svmx_fault_info info;
	struct svmx_fault_decision answer;
};

/**
 * struct svmx_prefetch_ctx - ranges to migrate after a fault's own chunk
 * @info: the fault (read only)
 * @answer: the ranges (writable): @answer.nr (0..SVMX_MAX_PREFETCH) and
 *	@answer.range[]; holds the default's answer, no range
 */
struct svmx_prefetch_ctx {
	struct svmx_fault_info info;
	struct svmx_prefetch answer;
};

/**
 * struct svmx_cpu_fault_ctx - a CPU fault on device memory
 * @info: the fault (read only)
 * @order: answer (writable): order of the aligned chunk brought back,
 *	0..SVMX_CHUNK_ORDER; holds the default's order (SVMX_CHUNK_ORDER)
 */
struct svmx_cpu_fault_ctx {
	struct svmx_cpu_fault_info info;
	u32 order;
};

/*
 * The evict callback's context is struct svmx_evict_ctx (svmx.h), shared
 * with the built-in policy seam: BPF reads it, takes candidates with
 * svmx_bpf_evict_candidate() and proposes victims with
 * svmx_bpf_evict_propose(); it cannot write it directly.
 */

/**
 * struct svmx_block_info - a block, as svmx_bpf_block_info() reports it
 * @dev: its device
 * @order: its order (2^order pages)
 * @pages: device pages resident in it now
 * @evictable: 1 when eviction may take it now (it is on the LRU), 0 while
 *	it is being evicted
 * @epoch: device epoch of its last access
 * @age: device epochs since then
 * @accesses: device epochs in which it was accessed, its fill included
 * @owner: handle of the binding whose migration filled it (the fault
 *	info's context handle)
 * @cgroup_id: that binding's cgroup (v2) id: the tenant
 * @addr: virtual address of the chunk it was filled for, in @owner's
 *	address space
 * @touches: page-sized device accesses to it since its fill, every one
 *	counted (@accesses counts epochs)
 */
struct svmx_block_info {
	u32 dev;
	u32 order;
	u32 pages;
	u32 evictable;
	u64 epoch;
	u64 age;
	u64 accesses;
	u64 owner;
	u64 cgroup_id;
	u64 addr;
	u64 touches;
};

/**
 * struct svmx_device_info - a device, as svmx_bpf_device_info() reports it
 * @dev: its index
 * @hive_mask: its hive (bit per device, itself included), 0 when none
 * @total_bytes: device memory
 * @free_bytes: device memory not allocated to blocks
 * @free_order: largest order of a free naturally aligned block, -1 when
 *	no page is free
 * @pad: 0
 * @blocks: live blocks
 * @resident_pages: pages resident in its memory
 * @epoch: its epoch now (bumped per SVMX_IOC_EXEC)
 */
struct svmx_device_info {
	u32 dev;
	u32 hive_mask;
	u64 total_bytes;
	u64 free_bytes;
	s32 free_order;
	u32 pad;
	u64 blocks;
	u64 resident_pages;
	u64 epoch;
};

/**
 * struct svmx_fault_done_ctx - notification: what became of a device fault
 * @info: the outcome (read only): asked and got order of the chunk
 *	fallback ladder, the forward-progress override, what moved, refused
 *	and clipped prefetch ranges
 */
struct svmx_fault_done_ctx {
	struct svmx_fault_done info;
};

/**
 * struct svmx_migrate_done_ctx - notification: pages migrated
 * @info: the migration (read only): device, direction, pages, copy
 *	commands, bytes, modeled ns
 */
struct svmx_migrate_done_ctx {
	struct svmx_migrate_done info;
};

/**
 * struct svmx_region_info - a binding's 2 MiB region, from
 * svmx_bpf_region_info()
 * @start: first address of the region
 * @device_faults: device faults so far in the region (saturating)
 * @cpu_faults: CPU faults so far in the region (saturating)
 * @pingpong: CPU<->device direction changes of the region's migrations
 * @resident_valid: 1 when @res was read; 0 when the binding's page table
 *	was being updated by another thread at the time (the kfunc does not
 *	wait) and @res is all zero
 * @res: residency, as struct svmx_fault_info's @region
 */
struct svmx_region_info {
	u64 start;
	u32 device_faults;
	u32 cpu_faults;
	u32 pingpong;
	u32 resident_valid;
	struct svmx_residency res;
};

/**
 * enum svmx_exit_kind - why a BPF policy stopped deciding
 * @SVMX_EXIT_NONE: it has not exited
 * @SVMX_EXIT_UNREG: user space detached it (link destroyed, map freed)
 * @SVMX_EXIT_REPLACED: a live update put another policy in its place
 * @SVMX_EXIT_ERROR: it called svmx_bpf_error()
 * @SVMX_EXIT_INVALID: its invalid answers exceeded the budget: more than
 *	svmx.bpf_invalid_budget within svmx.bpf_invalid_window_ms
 * @SVMX_EXIT_CGROUP: the cgroup it was attached to was removed
 *
 * There is no "module unload" kind: a policy's struct_ops map holds
 * svmx.ko, so the module cannot go while a policy is attached.
 */
enum svmx_exit_kind {
	SVMX_EXIT_NONE,
	SVMX_EXIT_UNREG,
	SVMX_EXIT_REPLACED,
	SVMX_EXIT_ERROR,
	SVMX_EXIT_INVALID,
	SVMX_EXIT_CGROUP,
};

/**
 * enum svmx_ops_flags - bits of &svmx_ops.flags
 * @SVMX_OPS_SHADOW: a shadow policy: called on the same events as the
 *	active policy of its scope, its answers validated, counted and
 *	traced (svmx:svmx_policy_shadow), never applied
 * @SVMX_OPS_ALL_FLAGS: every known bit; others are refused at load
 */
enum svmx_ops_flags {
	SVMX_OPS_SHADOW		= 1 << 0,
	SVMX_OPS_ALL_FLAGS	= SVMX_OPS_SHADOW,
};

/* Index of the per-callback counters of struct svmx_exit_info. */
enum svmx_bpf_cb {
	SVMX_CB_FAULT,
	SVMX_CB_CPU_FAULT,
	SVMX_CB_EVICT,
	SVMX_CB_PREFETCH,
	SVMX_CB_BLOCK_ALLOC,
	SVMX_CB_BLOCK_ACCESS,
	SVMX_CB_BLOCK_FREE,
	SVMX_CB_EVICT_DONE,
	SVMX_CB_FAULT_DONE,
	SVMX_CB_MIGRATE_DONE,
	SVMX_CB_NR,
};

/**
 * struct svmx_exit_info - how and why a BPF policy stopped, and its counts
 * @kind: enum svmx_exit_kind
 * @time_ns: CLOCK_REALTIME of the exit, in ns
 * @calls: callback runs, per enum svmx_bpf_cb
 * @errors: runs that returned non-zero (the default answered), per callback
 * @invalid: answers the core rejected (the default answered), per callback
 * @name: the policy's name
 * @reason: what the core says about the exit
 * @msg: the policy's own message (svmx_bpf_error()), may be empty
 * @prefetch_refused: prefetch ranges the kernel refused (struct
 *	svmx_fault_done)
 * @prefetch_clipped: prefetch ranges the kernel shortened
 * @cgroup_id: the policy's scope: &svmx_ops.cgroup_id (0: global)
 * @flags: the policy's &svmx_ops.flags (SVMX_OPS_SHADOW)
 */
struct svmx_exit_info {
	u32 kind;
	u64 time_ns;
	u64 calls[SVMX_CB_NR];
	u64 errors[SVMX_CB_NR];
	u64 invalid[SVMX_CB_NR];
	char name[SVMX_OPS_NAME_LEN];
	char reason[SVMX_EXIT_REASON_LEN];
	char msg[SVMX_EXIT_MSG_LEN];
	u64 prefetch_refused;
	u64 prefetch_clipped;
	u64 cgroup_id;
	u64 flags;
};

/**
 * struct svmx_ops - a BPF policy of the svmx core (BPF struct_ops)
 *
 * A policy fills the decision callbacks it cares about; every callback it
 * leaves out is answered by the built-in default.  Each decision callback
 * gets one context struct, finds the built-in default's answer already in
 * the answer fields, changes what it decides and returns 0; a non-zero
 * return means "let the default answer" (counted as an error, never
 * ejects).  The core validates every answer: an out-of-range one is
 * replaced by the default's, counted as invalid, traced (svmx:svmx_policy
 * fallback=1), and too many of them eject the policy.
 *
 * Scope: a policy attaches globally (@cgroup_id 0) or to one cgroup v2.
 * A context (one mm bound to one device) is decided by the policy of the
 * nearest ancestor of its binding process's cgroup that has an active
 * one (the cgroup itself included), else by the global policy, else by
 * the built-in default; an ejected policy is skipped the same way.  One
 * active and one shadow policy per scope.  @evict is device wide: it is
 * asked of the global active policy only.
 */
struct svmx_ops {
	/**
	 * @fault: placement and granularity of a device fault.
	 * @ctx: the fault; write ctx->answer.placement (enum svmx_placement),
	 * .target (the faulting device or a hive peer) and .order
	 * (0..SVMX_CHUNK_ORDER).  Called once per faulting chunk from the
	 * device fault path with the mmap lock held for read and under
	 * rcu_read_lock(): must not sleep.  Left out: the default decides
	 * (migrate the 2 MiB chunk here, honouring the preferred-location
	 * advice).
	 */
	int (*fault)(struct svmx_fault_ctx *ctx);
	/**
	 * @prefetch: ranges to migrate ahead of demand, to the device the
	 * fault's chunk went to.
	 * @ctx: the fault; write ctx->answer.nr and ctx->answer.range[]
	 * (page aligned, non-empty, at most 2 MiB each; the kernel clips
	 * them to anonymous VMAs).  Called after @fault decided to migrate
	 * and the chunk was mapped, in the same context as @fault.  Left
	 * out: nothing is prefetched.
	 */
	int (*prefetch)(struct svmx_prefetch_ctx *ctx);
	/**
	 * @cpu_fault: how much to bring back when the CPU touches device
	 * memory.
	 * @ctx: the fault; write ctx->order.  Called from the CPU page fault
	 * (migrate_to_ram) under rcu_read_lock(): must not sleep.  Left out:
	 * the aligned 2 MiB chunk, clipped to the VMA.
	 */
	int (*cpu_fault)(struct svmx_cpu_fault_ctx *ctx);
	/**
	 * @evict: victims to evict when a device needs memory.
	 * @ctx: ctx->info holds the device, the bytes to free, the order of
	 * the block being reserved and the handles of up to 32 least
	 * recently used evictable blocks (svmx_bpf_evict_candidate()).
	 * Propose victims with svmx_bpf_evict_propose(ctx, handle), up to
	 * 32, candidates or any other block of the device the policy knows
	 * of (from @block_alloc).  The kernel evicts them in that order until
	 * the bytes are free, checking each against the device's live
	 * blocks: a handle that is malformed, of another device, of a freed
	 * block or of a block being filled or evicted is skipped, counted as
	 * invalid and traced (svmx:svmx_evict_reject).  What the valid
	 * victims leave needed, the LRU evicts.  Called from the fault,
	 * prefetch and migrate paths with the device's evict_lock held (a
	 * mutex; no spinlock) under rcu_read_lock(): must not sleep.  Left
	 * out, or proposing nothing: the LRU evicts everything needed.
	 */
	int (*evict)(struct svmx_evict_ctx *ctx);
	/*
	 * Notifications of the fault side: nothing comes back, a policy
	 * keeps what it learns in its maps.
	 */
	/**
	 * @fault_done: what became of a device fault.
	 * @ctx: the outcome (read only): the order the policy asked and the
	 * order the chunk fallback ladder got (lower after allocation
	 * failures; -1 when nothing migrated), whether the forward-progress
	 * guarantee overrode the placement (then SVMX_PLACE_REMOTE, also
	 * traced as svmx:svmx_progress_override), pages migrated for the
	 * fault and by prefetch, prefetch ranges refused and clipped.
	 * Called once per serviced fault, after its chunk and prefetch were
	 * mapped and @fault (and @prefetch) ran, with the mmap lock held for
	 * read, never with pt_lock held, under rcu_read_lock(): must not
	 * sleep.  Left out: nothing is told.
	 */
	void (*fault_done)(struct svmx_fault_done_ctx *ctx);
	/**
	 * @migrate_done: pages moved between system and device memory.
	 * @ctx: the migration (read only): device, direction, start, pages,
	 * copy commands, bytes and modeled ns.  Called after every migration
	 * that moved pages, in either direction (device faults, prefetch,
	 * SVMX_IOC_MIGRATE, CPU faults, eviction, unbind), from process
	 * context that may hold the mmap lock, a page lock (CPU fault) or the
	 * device's evict_lock but never pt_lock, under rcu_read_lock(): must
	 * not sleep.  Left out: nothing is told.
	 */
	void (*migrate_done)(struct svmx_migrate_done_ctx *ctx);
	/**
	 * @block_alloc: a block was filled and can be evicted from now on.
	 * @ev: the block (read only).  Called after the migration that
	 * filled it, with the mmap lock held for read, under
	 * rcu_read_lock(): must not sleep.  Blocks allocated before the
	 * policy attached are not announced; the policy meets them in
	 * @block_access, @evict candidates or @block_free.  Optional.
	 */
	void (*block_alloc)(struct svmx_block_event *ev);
	/**
	 * @block_access: device work accessed a block, for the first time
	 * in this device epoch: at most once per block and epoch (an epoch
	 * is one SVMX_IOC_EXEC call).  The fill counts as the access of its
	 * epoch.  @ev: the block (read only).  Called from the execution
	 * engine, with no svmx lock held, under rcu_read_lock(): must not
	 * sleep.  Optional.
	 */
	void (*block_access)(struct svmx_block_event *ev);
	/**
	 * @block_free: a block was freed (evicted, its pages migrated back or
	 * unmapped); its handle no longer validates.  @ev: the block (read
	 * only).  Called from whatever dropped its last page, possibly with
	 * a page-table spinlock held (process exit) but never pt_lock, under
	 * rcu_read_lock(): must not sleep.  Only for blocks announced by
	 * @block_alloc (possibly to a previous policy).  Optional.
	 */
	void (*block_free)(struct svmx_block_event *ev);
	/**
	 * @evict_done: an eviction attempt ended.
	 * @done: the block, pages moved and left, reason (enum
	 * svmx_evict_reason), who chose it (enum svmx_victim_source) and the
	 * result (read only).  Called with the device's evict_lock held,
	 * before the block's @block_free when it goes, under
	 * rcu_read_lock(): must not sleep.  Optional.
	 */
	void (*evict_done)(struct svmx_evict_done *done);
	/**
	 * @init: set up the policy's state.  Sleepable; called once when the
	 * policy is attached, before any decision callback.  A non-zero
	 * return refuses the attach (the previous policy stays).  Optional.
	 */
	int (*init)(void);
	/**
	 * @exit: the policy stops deciding.
	 * @ei: why, and its counts (read only).  Sleepable; called once,
	 * after the last decision callback has returned (not when @init
	 * failed).  For %SVMX_EXIT_REPLACED, @ei->msg names the successor.
	 * Optional.
	 */
	void (*exit)(struct svmx_exit_info *ei);
	/**
	 * @flags: enum svmx_ops_flags; SVMX_OPS_SHADOW makes a shadow
	 * policy (see struct svmx_ops).  Unknown bits refuse the load.
	 */
	u64 flags;
	/** @name: the policy's name: [A-Za-z0-9_.], not empty */
	char name[SVMX_OPS_NAME_LEN];
	/**
	 * @cgroup_id: the scope: 0 for global, or the id of a cgroup v2
	 * (the inode number of its directory under /sys/fs/cgroup, as
	 * name_to_handle_at() or stat() tell).  Checked at attach: a cgroup
	 * that does not exist refuses it (ENOENT).  When the cgroup is
	 * removed the policy is ejected (%SVMX_EXIT_CGROUP).
	 */
	u64 cgroup_id;
};

#if IS_ENABLED(CONFIG_BPF_SYSCALL)
int svmx_bpf_init(struct dentry *debugfs_root);
void svmx_bpf_exit(void);
#else
static inline int svmx_bpf_init(struct dentry *debugfs_root) { return 0; }
static inline void svmx_bpf_exit(void) { }
#endif

#endif /* SVMX_BPF_H */
