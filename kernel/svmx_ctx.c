// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Contexts and the notifier
 *
 * A context binds one mm to one device.  It holds the device page table
 * (svmx_pt.c), an mmu_interval_notifier over the whole address space, the
 * advice ranges and per 2 MiB region history for policies (svmx_region.c).
 * Unbinding gives back the device memory the binding filled.
 *
 * Locking: @pt_lock protects the entries and the leaves of the page table
 * and is taken by the notifier, which can be called from reclaim; so
 * nothing that can enter reclaim is called with it held (leaves are
 * allocated outside it, and freed with kfree() only), and lockdep is taught
 * that at context creation.  Every user of a leaf looks it up with @pt_lock
 * held; a leaf prepared before the lock was taken may be gone by then, so
 * publishing checks svmx_pt_ready() under the lock and prepares again if
 * not.  The notifier frees a leaf that an invalidation empties (all of its
 * 2 MiB invalidated, or no entry left), except for migrations, whose pages
 * are mapped again at once; so a long binding whose address space keeps
 * changing keeps only the leaves of what the device still maps.
 *
 * Device work never holds @pt_lock for longer than one page access, and an
 * invalidation first suspends the context's queue (@suspend): the engine
 * finishes the piece it is on and waits before its next one, the notifier
 * clears the entries and resumes the queue.  So invalidation preempts
 * device work instead of waiting for it.
 */
#include <kunit/visibility.h>
#include <linux/bitfield.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "svmx.h"
#include "svmx_trace.h"

/*
 * Resume the queue.  Device work found it suspended and sleeps until the
 * last invalidation in flight resumes it: that is a preemption, traced.
 */
static void svmx_queue_resume(struct svmx_ctx *ctx,
			      const struct mmu_notifier_range *range)
{
	if (!atomic_dec_and_test(&ctx->suspend))
		return;
	if (wq_has_sleeper(&ctx->resume)) {
		trace_svmx_queue_preempt(ctx->sdev->id, range->start, range->end,
					 range->event);
		wake_up_all(&ctx->resume);
	}
}

static bool svmx_invalidate(struct mmu_interval_notifier *mni,
			    const struct mmu_notifier_range *range,
			    unsigned long cur_seq)
{
	struct svmx_ctx *ctx = container_of(mni, struct svmx_ctx, notifier);
	unsigned long cleared;

	/* Stop the device queue: it finishes at most the piece it is on. */
	atomic_inc(&ctx->suspend);
	if (mmu_notifier_range_blockable(range)) {
		mutex_lock(&ctx->pt_lock);
	} else if (!mutex_trylock(&ctx->pt_lock)) {
		svmx_queue_resume(ctx, range);
		return false;
	}
	mmu_interval_set_seq(mni, cur_seq);
	/* Migrated pages are mapped again right away: keep their leaves. */
	cleared = svmx_pt_clear(ctx, range->start, range->end,
				range->event != MMU_NOTIFY_MIGRATE);
	mutex_unlock(&ctx->pt_lock);
	svmx_queue_resume(ctx, range);
	if (cleared)
		trace_svmx_invalidate(ctx->sdev->id, range->start, range->end,
				      range->event, cleared);
	return true;
}

static const struct mmu_interval_notifier_ops svmx_notifier_ops = {
	.invalidate = svmx_invalidate,
};

/*
 * Handles of the bound contexts, for policies: id -> context.  Ids come
 * from a 64-bit counter, so a handle is never reused while the module is
 * loaded, and a policy holding a stale one finds nothing.  Lookups run
 * under rcu_read_lock() (svmx_ctx_lookup()); contexts are freed after a
 * grace period.
 */
static DEFINE_XARRAY(svmx_ctx_ids);
static atomic64_t svmx_ctx_next_id = ATOMIC64_INIT(0);

/**
 * svmx_ctx_lookup() - the bound context of a handle
 * @id: a handle (&svmx_ctx.id)
 *
 * Caller holds rcu_read_lock(); the context stays readable until it is
 * dropped, but may be unbinding: its page table and history may be empty.
 *
 * Return: the context, or NULL when no bound context has that handle.
 */
struct svmx_ctx *svmx_ctx_lookup(u64 id)
{
	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "context lookup without RCU");
	return xa_load(&svmx_ctx_ids, id);
}

/**
 * svmx_ctx_create() - bind the current mm to a device
 * @sdev: the device
 *
 * Return: the context, ERR_PTR(-EBUSY) if the mm is already bound to
 * @sdev, or another ERR_PTR.
 */
struct svmx_ctx *svmx_ctx_create(struct svmx_device *sdev)
{
	struct mm_struct *mm = current->mm;
	struct svmx_ctx *ctx, *other;
	int ret = 0;

	if (!mm)
		return ERR_PTR(-EINVAL);
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	/* The binding process's cgroup picks the policy scope for good. */
	ctx->cgroup = svmx_cgroup_bind();
	if (IS_ERR(ctx->cgroup)) {
		ret = PTR_ERR(ctx->cgroup);
		kfree(ctx);
		return ERR_PTR(ret);
	}
	ctx->sdev = sdev;
	ctx->mm = mm;
	mutex_init(&ctx->pt_lock);
	xa_init(&ctx->pt);
	mutex_init(&ctx->lock);
	mt_init(&ctx->advice);
	xa_init(&ctx->regions);
	init_waitqueue_head(&ctx->resume);
	ctx->id = atomic64_inc_return(&svmx_ctx_next_id);

	/* pt_lock is taken from reclaim (the notifier): tell lockdep. */
	fs_reclaim_acquire(GFP_KERNEL);
	might_lock(&ctx->pt_lock);
	fs_reclaim_release(GFP_KERNEL);

	/*
	 * The first notifier of an mm takes the mmap lock for write, and the
	 * fault paths take ctx_lock under the mmap lock: insert the notifier
	 * under bind_lock only.
	 */
	mutex_lock(&sdev->bind_lock);
	mutex_lock(&sdev->ctx_lock);
	list_for_each_entry(other, &sdev->ctxs, node)
		if (other->mm == mm)
			ret = -EBUSY;
	mutex_unlock(&sdev->ctx_lock);
	if (!ret)
		ret = mmu_interval_notifier_insert(&ctx->notifier, mm, 0,
						   ULONG_MAX & PAGE_MASK,
						   &svmx_notifier_ops);
	if (ret) {
		mutex_unlock(&sdev->bind_lock);
		svmx_cgroup_unbind(ctx->cgroup);
		kfree(ctx);
		trace_svmx_bind(sdev->id, current->tgid, ret);
		return ERR_PTR(ret);
	}
	ret = xa_err(xa_store(&svmx_ctx_ids, ctx->id, ctx, GFP_KERNEL));
	if (ret) {
		mutex_unlock(&sdev->bind_lock);
		mmu_interval_notifier_remove(&ctx->notifier);
		svmx_cgroup_unbind(ctx->cgroup);
		kfree(ctx);
		trace_svmx_bind(sdev->id, current->tgid, ret);
		return ERR_PTR(ret);
	}
	mmgrab(mm);
	mutex_lock(&sdev->ctx_lock);
	list_add_tail(&ctx->node, &sdev->ctxs);
	mutex_unlock(&sdev->ctx_lock);
	mutex_unlock(&sdev->bind_lock);
	trace_svmx_bind(sdev->id, current->tgid, 0);
	return ctx;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_ctx_create);

/*
 * Give back the device memory this binding filled: the pages in every
 * 2 MiB region it migrated into this device or a hive peer are migrated
 * back, if the process still lives (at exit the pages are already gone
 * with the address space).
 */
static void svmx_ctx_release_memory(struct svmx_ctx *ctx)
{
	struct svmx_counters cnt = {};
	unsigned long idx, regions = 0;
	void *entry;

	if (!mmget_not_zero(ctx->mm)) {
		trace_svmx_unbind(ctx->sdev->id, false, 0, 0, 0);
		return;
	}
	mmap_read_lock(ctx->mm);
	xa_for_each(&ctx->regions, idx, entry) {
		unsigned long addr = idx << SVMX_REGION_SHIFT;

		if (!svmx_owner_resident(ctx->sdev->owner))
			break;	/* nothing of this hive is in device memory */
		unsigned long end = addr + BIT(SVMX_REGION_SHIFT);
		struct vm_area_struct *vma;

		cond_resched();
		regions++;
		while ((vma = find_vma_intersection(ctx->mm, addr, end))) {
			addr = max(addr, vma->vm_start);
			svmx_migrate_hive_to_system(ctx->sdev, vma, addr,
						    min(end, vma->vm_end), NULL,
						    &cnt);
			addr = vma->vm_end;
			if (addr >= end)
				break;
		}
	}
	mmap_read_unlock(ctx->mm);
	mmput(ctx->mm);
	svmx_device_account(ctx->sdev, &cnt);
	trace_svmx_unbind(ctx->sdev->id, true, regions, cnt.pages_to_system,
			  cnt.bytes_to_system);
}

/**
 * svmx_ctx_destroy() - unbind
 * @ctx: the context
 *
 * Device page-table entries go away, and the device memory the binding
 * filled is given back: the regions it migrated move to system memory
 * (the data stays intact), including pages of those regions on hive peers.
 */
void svmx_ctx_destroy(struct svmx_ctx *ctx)
{
	struct svmx_device *sdev = ctx->sdev;
	struct svmx_pt_leaf *leaf;
	unsigned long idx;

	/* No policy finds the context any more... */
	xa_erase(&svmx_ctx_ids, ctx->id);
	svmx_ctx_release_memory(ctx);
	mutex_lock(&sdev->ctx_lock);
	list_del(&ctx->node);
	mutex_unlock(&sdev->ctx_lock);
	mmu_interval_notifier_remove(&ctx->notifier);
	/*
	 * ...but one that found it before may still be reading: its page
	 * table under pt_lock (svmx_bpf_region_info() checks the handle again
	 * under it), its history in RCU-freed xarray nodes, and the context
	 * itself until the grace period ends.
	 */
	mutex_lock(&ctx->pt_lock);
	xa_for_each(&ctx->pt, idx, leaf)
		kfree(leaf);
	xa_destroy(&ctx->pt);
	mutex_unlock(&ctx->pt_lock);
	xa_destroy(&ctx->regions);
	mtree_destroy(&ctx->advice);
	mmdrop(ctx->mm);
	svmx_cgroup_unbind(ctx->cgroup);
	kfree_rcu(ctx, rcu);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_ctx_destroy);
