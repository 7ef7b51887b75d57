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

/**
 * struct svmx_evict_ctx - device memory is needed: pick the block to evict
 * @dev: device under pressure
 * @nr: valid entries in @cand, 1..SVMX_EVICT_CANDIDATES
 * @cand: candidate blocks, least recently used first (read only)
 * @pick: answer (writable): index into @cand, below @nr; holds 0 (the
 *	least recently used block, the default's pick)
 */
struct svmx_evict_ctx {
	u32 dev;
	u32 nr;
	struct svmx_victim cand[SVMX_EVICT_CANDIDATES];
	u32 pick;
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
	 * @evict: which block to evict when a device needs memory.
	 * @ctx: the candidates; write ctx->pick.  Called with no spinlock
	 * held but possibly from a fault path: must not sleep.  Left out:
	 * the least recently used block.
	 */
	int (*evict)(struct svmx_evict_ctx *ctx);
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
