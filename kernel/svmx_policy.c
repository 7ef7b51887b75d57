// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Policy interface
 *
 * Every decision of the core - placement and granularity of a device
 * fault, prefetch, the chunk brought back on a CPU fault, the eviction
 * victim - is asked of the active &struct svmx_policy_ops through the
 * svmx_policy_*() wrappers below.  The wrappers validate each answer; when
 * the active policy lacks the callback, fails, or answers out of range,
 * the built-in default answers instead; a failed or rejected answer is
 * counted in policy_fallbacks and traced (svmx:svmx_policy fallback=1).
 * Every answer a callback gets to fill already holds the built-in
 * default's answer, so a policy sets only the fields it decides and never
 * hands uninitialised memory to the validation.
 * BPF struct_ops policies (svmx_bpf.c) plug in through
 * svmx_policy_install() as one more &struct svmx_policy_ops, and learn of
 * their rejected answers through its @rejected callback; the KUnit suite
 * uses the same entry point to check these rules with misbehaving
 * policies.
 *
 * Two notifications, svmx_policy_fault_done() and
 * svmx_policy_migrate_done(), tell the active policy what became of its
 * decisions: the chunk the fallback ladder got, the forward-progress
 * override, what moved.  The built-in default does not listen.
 *
 * The built-in default:
 *  - fault: migrate the 2 MiB chunk around the fault to the faulting
 *    device; map remotely when system memory is the preferred location;
 *    migrate to a hive peer that is the preferred location;
 *  - prefetch: nothing;
 *  - cpu_fault: bring back the 2 MiB chunk (clipped to the VMA);
 *  - evict: no victim of its own: the evictor's LRU evicts the least
 *    recently used blocks until enough memory is free.
 *
 * Eviction answers are handles of blocks, which only the evictor can
 * check (svmx_block_take()): svmx_policy_evict() checks the answer's
 * shape, and the evictor reports each victim it refuses with
 * svmx_policy_evict_reject().  Notifications (block allocated, accessed,
 * freed; eviction done) go to the active policy through
 * svmx_policy_block_note() and svmx_policy_evict_done(); what became of
 * a fault and every migration through svmx_policy_fault_done() and
 * svmx_policy_migrate_done().
 */
#include <kunit/visibility.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>

#include "svmx.h"
#include "svmx_trace.h"

static int svmx_default_fault(const struct svmx_fault_info *info,
			      struct svmx_fault_decision *d)
{
	d->placement = SVMX_PLACE_MIGRATE;
	d->target = info->dev;
	d->order = SVMX_CHUNK_ORDER;
	if (info->preferred == SVMX_TARGET_SYSTEM)
		d->placement = SVMX_PLACE_REMOTE;
	else if (info->preferred < SVMX_MAX_DEVICES &&
		 (info->hive_mask & BIT(info->preferred)))
		d->target = info->preferred;
	return 0;
}

/* Nothing; were there ranges, 2 MiB chunks to the fault's target. */
static int svmx_default_prefetch(const struct svmx_fault_info *info,
				 struct svmx_prefetch *p)
{
	p->nr = 0;
	p->order = SVMX_CHUNK_ORDER;
	return 0;
}

static int svmx_default_cpu_fault(const struct svmx_cpu_fault_info *info,
				  u32 *order)
{
	*order = SVMX_CHUNK_ORDER;
	return 0;
}

static int svmx_default_evict(struct svmx_evict_ctx *ctx)
{
	ctx->answer.nr = 0;	/* the evictor's LRU evicts what is needed */
	return 0;
}

static const struct svmx_policy_ops svmx_default_policy = {
	.fault		= svmx_default_fault,
	.prefetch	= svmx_default_prefetch,
	.cpu_fault	= svmx_default_cpu_fault,
	.evict		= svmx_default_evict,
	.name		= "default",
};

static const struct svmx_policy_ops __rcu *svmx_policy_active = &svmx_default_policy;
static DEFINE_MUTEX(svmx_policy_lock);	/* serialises installs */

/**
 * svmx_policy_install() - make a policy the active one
 * @ops: the policy, or NULL for the built-in default
 *
 * Returns after every caller of the previous policy has left it, so the
 * previous policy may go away (a BPF struct_ops map being detached).
 */
void svmx_policy_install(const struct svmx_policy_ops *ops)
{
	mutex_lock(&svmx_policy_lock);
	rcu_assign_pointer(svmx_policy_active, ops ? ops : &svmx_default_policy);
	mutex_unlock(&svmx_policy_lock);
	synchronize_rcu();
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_install);

/* A migration target the faulting device reaches: itself or a hive peer. */
static bool svmx_target_ok(const struct svmx_fault_info *info, u32 target)
{
	return target == info->dev ||
	       (target < svmx_nr_devices && (info->hive_mask & BIT(target)));
}

/* Who answered, for the traces: a BPF scope's policy, or @ops itself. */
static const char *svmx_policy_name(const struct svmx_policy_ops *ops,
				    u64 cgroup_id)
{
	return ops->name_of ? ops->name_of(cgroup_id) : ops->name;
}

/**
 * svmx_policy_fault_ok() - whether a device fault's decision is valid
 * @info: the fault
 * @d: the decision
 *
 * The check the fault wrapper applies, also used for shadow policies'
 * answers, which are validated but never applied (svmx_bpf.c).
 *
 * Return: true for a known placement, an order up to SVMX_CHUNK_ORDER and
 * a migration target that is the faulting device or a hive peer.
 */
bool svmx_policy_fault_ok(const struct svmx_fault_info *info,
			  const struct svmx_fault_decision *d)
{
	if (d->placement != SVMX_PLACE_MIGRATE && d->placement != SVMX_PLACE_REMOTE)
		return false;
	if (d->order > SVMX_CHUNK_ORDER)
		return false;
	if (d->placement == SVMX_PLACE_MIGRATE && !svmx_target_ok(info, d->target))
		return false;
	return true;
}

/**
 * svmx_policy_prefetch_ok() - whether a prefetch answer is valid
 * @info: the fault that triggered the prefetch
 * @p: the answer
 *
 * Return: true for at most SVMX_MAX_PREFETCH ranges, each page aligned,
 * non-empty, at most 2 MiB and in user space, a chunk order up to
 * SVMX_CHUNK_ORDER, and a target that is the faulting device or a hive
 * peer.
 */
bool svmx_policy_prefetch_ok(const struct svmx_fault_info *info,
			     const struct svmx_prefetch *p)
{
	u32 i;

	if (p->nr > SVMX_MAX_PREFETCH || p->order > SVMX_CHUNK_ORDER ||
	    !svmx_target_ok(info, p->target))
		return false;
	for (i = 0; i < p->nr; i++)
		if (svmx_range_check(p->range[i].start, p->range[i].len,
				     (u64)PAGE_SIZE << SVMX_CHUNK_ORDER))
			return false;
	return true;
}

/**
 * svmx_policy_cpu_order_ok() - whether a CPU fault's order is valid
 * @order: the answer
 *
 * Return: true for an order up to SVMX_CHUNK_ORDER.
 */
bool svmx_policy_cpu_order_ok(u32 order)
{
	return order <= SVMX_CHUNK_ORDER;
}

/* Tell the policy its answer was replaced; under rcu_read_lock(). */
static void svmx_policy_rejected(const struct svmx_policy_ops *ops,
				 enum svmx_policy_hook hook, u64 cgroup_id,
				 int err)
{
	if (ops->rejected)
		ops->rejected(hook, cgroup_id, err);
}

static void svmx_policy_fallback(struct svmx_counters *cnt)
{
	cnt->policy_fallbacks++;
}

/**
 * svmx_policy_fault() - placement and granularity of a device fault
 * @sdev: faulting device
 * @info: the fault
 * @d: the decision, always valid on return; the policy's callback finds
 *	the default's decision in it
 * @cnt: counters of the caller
 */
void svmx_policy_fault(struct svmx_device *sdev, const struct svmx_fault_info *info,
		       struct svmx_fault_decision *d, struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;
	bool fallback = false;
	int ret = -ENOENT;

	svmx_default_fault(info, d);
	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->fault)
		ret = ops->fault(info, d);
	if (ret || !svmx_policy_fault_ok(info, d)) {
		fallback = !!ops->fault;
		if (fallback)
			svmx_policy_rejected(ops, SVMX_HOOK_FAULT,
					     info->cgroup_id, ret);
		svmx_default_fault(info, d);
	}
	trace_svmx_policy(sdev->id, SVMX_HOOK_FAULT,
			  svmx_policy_name(ops, info->cgroup_id), info->addr,
			  d->placement, d->order, d->target, fallback);
	rcu_read_unlock();
	if (fallback)
		svmx_policy_fallback(cnt);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_fault);

/**
 * svmx_policy_prefetch() - ranges to migrate ahead of demand
 * @sdev: faulting device
 * @info: the fault that triggered the prefetch
 * @target: the device the fault's own chunk went to: the default's
 *	prefetch target
 * @p: the ranges, their chunk order and target device, always valid on
 *	return (page aligned, non-empty, no wrap; a reachable target)
 * @cnt: counters of the caller
 */
void svmx_policy_prefetch(struct svmx_device *sdev, const struct svmx_fault_info *info,
			  u32 target, struct svmx_prefetch *p,
			  struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;
	bool fallback = false;
	int ret = -ENOENT, cb_ret;

	memset(p, 0, sizeof(*p));
	p->target = target;
	svmx_default_prefetch(info, p);
	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->prefetch)
		ret = ops->prefetch(info, p);
	cb_ret = ret;
	if (!ret && !svmx_policy_prefetch_ok(info, p))
		ret = -EINVAL;
	if (ret) {
		fallback = !!ops->prefetch;
		if (fallback)
			svmx_policy_rejected(ops, SVMX_HOOK_PREFETCH,
					     info->cgroup_id, cb_ret);
		memset(p, 0, sizeof(*p));
		p->target = target;
		svmx_default_prefetch(info, p);
	}
	if (p->nr || fallback)
		trace_svmx_policy(sdev->id, SVMX_HOOK_PREFETCH,
				  svmx_policy_name(ops, info->cgroup_id),
				  info->addr, p->nr, 0, 0, fallback);
	rcu_read_unlock();
	if (fallback)
		svmx_policy_fallback(cnt);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_prefetch);

/**
 * svmx_policy_cpu_fault() - order of the chunk a CPU fault brings back
 * @sdev: device whose page faulted
 * @info: the fault
 * @cnt: counters of the caller
 *
 * Return: an order in 0..SVMX_CHUNK_ORDER.
 */
u32 svmx_policy_cpu_fault(struct svmx_device *sdev,
			  const struct svmx_cpu_fault_info *info,
			  struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;
	bool fallback = false;
	int ret = -ENOENT;
	u32 order;

	svmx_default_cpu_fault(info, &order);
	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->cpu_fault)
		ret = ops->cpu_fault(info, &order);
	if (ret || !svmx_policy_cpu_order_ok(order)) {
		fallback = !!ops->cpu_fault;
		if (fallback)
			svmx_policy_rejected(ops, SVMX_HOOK_CPU_FAULT,
					     info->cgroup_id, ret);
		svmx_default_cpu_fault(info, &order);
	}
	trace_svmx_policy(sdev->id, SVMX_HOOK_CPU_FAULT,
			  svmx_policy_name(ops, info->cgroup_id), info->addr,
			  0, order, 0, fallback);
	rcu_read_unlock();
	if (fallback)
		svmx_policy_fallback(cnt);
	return order;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_cpu_fault);

/**
 * svmx_policy_evict() - victims to evict when device memory is needed
 * @sdev: device under pressure
 * @ctx: the question in @ctx->info; the answer, always well formed on
 *	return (at most SVMX_EVICT_VICTIMS handles, possibly none), in
 *	@ctx->answer
 * @cnt: counters of the caller
 *
 * The handles themselves are checked by the evictor.
 */
void svmx_policy_evict(struct svmx_device *sdev, struct svmx_evict_ctx *ctx,
		       struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;
	bool fallback = false;
	int ret = -ENOENT;

	memset(&ctx->answer, 0, sizeof(ctx->answer));
	svmx_default_evict(ctx);
	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->evict)
		ret = ops->evict(ctx);
	if (ret || ctx->answer.nr > SVMX_EVICT_VICTIMS) {
		fallback = !!ops->evict;
		if (fallback)
			svmx_policy_rejected(ops, SVMX_HOOK_VICTIM, 0, ret);
		svmx_default_evict(ctx);
	}
	trace_svmx_policy(sdev->id, SVMX_HOOK_VICTIM, svmx_policy_name(ops, 0),
			  ctx->info.bytes,
			  ctx->answer.nr, ctx->info.order, ctx->info.nr_cand,
			  fallback);
	rcu_read_unlock();
	if (fallback)
		svmx_policy_fallback(cnt);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_evict);

/**
 * svmx_policy_evict_reject() - the evictor refused a proposed victim
 * @sdev: device under pressure
 * @handle: the proposed handle
 * @why: why it was refused
 * @cnt: counters of the caller
 *
 * Counted as a fallback and as an invalid answer of the active policy,
 * and traced (svmx:svmx_evict_reject).  If the policy was swapped since
 * it answered, the new one is charged.
 */
void svmx_policy_evict_reject(struct svmx_device *sdev, u64 handle,
			      enum svmx_evict_reject why, struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	trace_svmx_evict_reject(sdev->id, svmx_policy_name(ops, 0), handle, why);
	svmx_policy_rejected(ops, SVMX_HOOK_VICTIM, 0, 0);
	rcu_read_unlock();
	svmx_policy_fallback(cnt);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_evict_reject);

/**
 * svmx_policy_block_note() - tell the active policy about a block
 * @note: allocated, accessed or freed
 * @ev: the block
 *
 * Any context that may drop a device page; never under pt_lock.
 */
void svmx_policy_block_note(enum svmx_block_note note,
			    const struct svmx_block_event *ev)
{
	const struct svmx_policy_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->block_note)
		ops->block_note(note, ev);
	rcu_read_unlock();
}

/**
 * svmx_policy_evict_done() - tell the active policy an eviction ended
 * @done: the eviction
 */
void svmx_policy_evict_done(const struct svmx_evict_done *done)
{
	const struct svmx_policy_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->evict_done)
		ops->evict_done(done);
	rcu_read_unlock();
}

/**
 * svmx_policy_fault_done() - tell the policy what became of a device fault
 * @done: the outcome; the asked and the got order of the chunk fallback
 *	ladder, the forward-progress override, what moved
 *
 * A notification: nothing comes back.  Called with no pt_lock held.
 */
void svmx_policy_fault_done(const struct svmx_fault_done *done)
{
	const struct svmx_policy_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->fault_done)
		ops->fault_done(done);
	rcu_read_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_fault_done);

/**
 * svmx_policy_migrate_done() - tell the policy that pages migrated
 * @done: the migration
 *
 * A notification: nothing comes back.  Called with no pt_lock held.
 */
void svmx_policy_migrate_done(const struct svmx_migrate_done *done)
{
	const struct svmx_policy_ops *ops;

	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->migrate_done)
		ops->migrate_done(done);
	rcu_read_unlock();
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_migrate_done);
