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
 * The built-in default:
 *  - fault: migrate the 2 MiB chunk around the fault to the faulting
 *    device; map remotely when system memory is the preferred location;
 *    migrate to a hive peer that is the preferred location;
 *  - prefetch: nothing;
 *  - cpu_fault: bring back the 2 MiB chunk (clipped to the VMA);
 *  - select_victim: the least recently used block.
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

static int svmx_default_prefetch(const struct svmx_fault_info *info,
				 struct svmx_prefetch *p)
{
	p->nr = 0;
	return 0;
}

static int svmx_default_cpu_fault(const struct svmx_cpu_fault_info *info,
				  u32 *order)
{
	*order = SVMX_CHUNK_ORDER;
	return 0;
}

static int svmx_default_select_victim(const struct svmx_victim *cand, u32 nr,
				      u32 *pick)
{
	*pick = 0;
	return 0;
}

static const struct svmx_policy_ops svmx_default_policy = {
	.fault		= svmx_default_fault,
	.prefetch	= svmx_default_prefetch,
	.cpu_fault	= svmx_default_cpu_fault,
	.select_victim	= svmx_default_select_victim,
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
	if (d->placement == SVMX_PLACE_MIGRATE && d->target != info->dev &&
	    (d->target >= svmx_nr_devices || !(info->hive_mask & BIT(d->target))))
		return false;
	return true;
}

/**
 * svmx_policy_prefetch_ok() - whether a prefetch answer is valid
 * @p: the answer
 *
 * Return: true for at most SVMX_MAX_PREFETCH ranges, each page aligned,
 * non-empty, at most 2 MiB and in user space.
 */
bool svmx_policy_prefetch_ok(const struct svmx_prefetch *p)
{
	u32 i;

	if (p->nr > SVMX_MAX_PREFETCH)
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
	trace_svmx_policy(sdev->id, SVMX_HOOK_FAULT, ops->name, info->addr,
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
 * @p: the ranges, always valid on return (page aligned, non-empty, no wrap)
 * @cnt: counters of the caller
 */
void svmx_policy_prefetch(struct svmx_device *sdev, const struct svmx_fault_info *info,
			  struct svmx_prefetch *p, struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;
	bool fallback = false;
	int ret = -ENOENT, cb_ret;

	memset(p, 0, sizeof(*p));
	svmx_default_prefetch(info, p);
	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->prefetch)
		ret = ops->prefetch(info, p);
	cb_ret = ret;
	if (!ret && !svmx_policy_prefetch_ok(p))
		ret = -EINVAL;
	if (ret) {
		fallback = !!ops->prefetch;
		if (fallback)
			svmx_policy_rejected(ops, SVMX_HOOK_PREFETCH,
					     info->cgroup_id, cb_ret);
		svmx_default_prefetch(info, p);
	}
	if (p->nr || fallback)
		trace_svmx_policy(sdev->id, SVMX_HOOK_PREFETCH, ops->name,
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
	trace_svmx_policy(sdev->id, SVMX_HOOK_CPU_FAULT, ops->name, info->addr,
			  0, order, 0, fallback);
	rcu_read_unlock();
	if (fallback)
		svmx_policy_fallback(cnt);
	return order;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_cpu_fault);

/**
 * svmx_policy_victim() - the block to evict
 * @sdev: device under pressure
 * @cand: candidates, least recently used first
 * @nr: number of candidates, at least 1
 * @cnt: counters of the caller
 *
 * Return: an index below @nr.
 */
u32 svmx_policy_victim(struct svmx_device *sdev, const struct svmx_victim *cand,
		       u32 nr, struct svmx_counters *cnt)
{
	const struct svmx_policy_ops *ops;
	bool fallback = false;
	int ret = -ENOENT;
	u32 pick;

	svmx_default_select_victim(cand, nr, &pick);
	rcu_read_lock();
	ops = rcu_dereference(svmx_policy_active);
	if (ops->select_victim)
		ret = ops->select_victim(cand, nr, &pick);
	if (ret || pick >= nr) {
		fallback = !!ops->select_victim;
		if (fallback)
			svmx_policy_rejected(ops, SVMX_HOOK_VICTIM, 0, ret);
		svmx_default_select_victim(cand, nr, &pick);
	}
	trace_svmx_policy(sdev->id, SVMX_HOOK_VICTIM, ops->name, 0, pick, nr, 0,
			  fallback);
	rcu_read_unlock();
	if (fallback)
		svmx_policy_fallback(cnt);
	return pick;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_policy_victim);
