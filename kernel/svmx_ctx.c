// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Contexts and the device page table
 *
 * A context binds one mm to one device.  It holds the device page table,
 * an mmu_interval_notifier over the whole address space, the advice ranges,
 * and per 2 MiB region history for policies.
 *
 * The page table has two levels: an xarray of 2 MiB regions whose leaves
 * hold 512 entries (the page, whatever kind it is, plus a write bit), so a
 * chunk is published or invalidated with an array walk.  Leaves are
 * allocated before the lock is taken.  The notifier frees a leaf that an
 * invalidation empties (all of its 2 MiB invalidated, or no entry left),
 * except for migrations, whose pages are mapped again at once; so a long
 * binding whose address space keeps changing (mmap/munmap churn) keeps
 * only the leaves of what the device still maps.
 *
 * Locking: @pt_lock protects the entries and the leaves themselves, and is
 * taken by the notifier, which can be called from reclaim; so nothing that
 * can enter reclaim is called with it held (leaves are allocated outside
 * it, and freed with kfree() only), and lockdep is taught that at context
 * creation.  Every user of a leaf looks it up with @pt_lock held; a leaf
 * prepared before the lock was taken may be gone by then, so publishing
 * checks svmx_pt_ready() under the lock and prepares again if not.
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

/* ---------------------------------------------------------------------
 * Device page table: an xarray of 2 MiB leaves with 512 entries each, so
 * that publishing and invalidating a chunk are array walks, not 512 tree
 * operations.
 */

static struct svmx_pt_leaf *svmx_pt_leaf(struct svmx_ctx *ctx, unsigned long va)
{
	return xa_load(&ctx->pt, va >> SVMX_REGION_SHIFT);
}

static unsigned int svmx_pt_index(unsigned long va)
{
	return (va >> PAGE_SHIFT) & (SVMX_PT_LEAF_ENTRIES - 1);
}

/**
 * svmx_pt_prepare() - create the leaves covering a range
 * @ctx: the context; pt_lock must NOT be held (allocates with GFP_KERNEL)
 * @start: start of the range
 * @end: end of the range
 *
 * The notifier may free the leaves again before pt_lock is taken: check
 * svmx_pt_ready() under the lock.
 *
 * Return: 0 or -ENOMEM.
 */
int svmx_pt_prepare(struct svmx_ctx *ctx, unsigned long start, unsigned long end)
{
	unsigned long idx;

	for (idx = start >> SVMX_REGION_SHIFT;
	     idx <= (end - 1) >> SVMX_REGION_SHIFT; idx++) {
		struct svmx_pt_leaf *leaf;
		int ret;

		if (xa_load(&ctx->pt, idx))
			continue;
		leaf = kzalloc(sizeof(*leaf), GFP_KERNEL);
		if (!leaf)
			return -ENOMEM;
		ret = xa_insert(&ctx->pt, idx, leaf, GFP_KERNEL);
		if (!ret)
			atomic_long_inc(&ctx->nr_leaves);
		else
			kfree(leaf);
		if (ret && ret != -EBUSY)
			return ret;
	}
	return 0;
}

/**
 * svmx_pt_ready() - whether every leaf covering a range exists
 * @ctx: the context; pt_lock held
 * @start: start of the range
 * @end: end of the range
 *
 * Return: true when svmx_pt_set() may be called on the whole range.
 */
bool svmx_pt_ready(struct svmx_ctx *ctx, unsigned long start, unsigned long end)
{
	unsigned long idx;

	lockdep_assert_held(&ctx->pt_lock);
	for (idx = start >> SVMX_REGION_SHIFT;
	     idx <= (end - 1) >> SVMX_REGION_SHIFT; idx++)
		if (!xa_load(&ctx->pt, idx))
			return false;
	return true;
}

/**
 * svmx_pt_get() - the device page-table entry of an address
 * @ctx: the context; pt_lock held
 * @va: the address
 *
 * Return: the entry (see svmx_pte_page()), or 0.
 */
unsigned long svmx_pt_get(struct svmx_ctx *ctx, unsigned long va)
{
	struct svmx_pt_leaf *leaf = svmx_pt_leaf(ctx, va);

	return leaf ? leaf->pte[svmx_pt_index(va)] : 0;
}

/**
 * svmx_pt_translate() - the page an access may use, per the page table
 * @ctx: the context; pt_lock held
 * @va: the address
 * @access: enum svmx_access; writes and atomics need a writable entry
 *
 * Return: the mapped page, or NULL when the access must fault.
 */
struct page *svmx_pt_translate(struct svmx_ctx *ctx, unsigned long va, u32 access)
{
	unsigned long pte = svmx_pt_get(ctx, va);

	if (access != SVMX_ACCESS_READ && !(pte & SVMX_PTE_WRITE))
		return NULL;
	return svmx_pte_page(pte);
}

/**
 * svmx_pt_set() - install a device page-table entry
 * @ctx: the context; pt_lock held, svmx_pt_ready() true for @va
 * @va: the address
 * @page: the page mapped (system, local or peer device page)
 * @write: the mapping is writable
 */
void svmx_pt_set(struct svmx_ctx *ctx, unsigned long va, struct page *page,
		 bool write)
{
	struct svmx_pt_leaf *leaf = svmx_pt_leaf(ctx, va);

	leaf->pte[svmx_pt_index(va)] = (unsigned long)page |
				       (write ? SVMX_PTE_WRITE : 0);
}

static bool svmx_pt_leaf_empty(const struct svmx_pt_leaf *leaf)
{
	unsigned int i;

	for (i = 0; i < SVMX_PT_LEAF_ENTRIES; i++)
		if (leaf->pte[i])
			return false;
	return true;
}

/**
 * svmx_pt_clear() - remove the entries of a range
 * @ctx: the context; pt_lock held
 * @start: start of the range
 * @end: end of the range
 * @may_free: free the leaves the range leaves empty
 *
 * Called from the notifier, maybe in reclaim: frees with kfree() only, and
 * xa_erase() of an existing index allocates nothing.
 *
 * Return: the number of entries removed.
 */
static unsigned long svmx_pt_clear(struct svmx_ctx *ctx, unsigned long start,
				   unsigned long end, bool may_free)
{
	unsigned long first = start >> SVMX_REGION_SHIFT;
	unsigned long last = (end - 1) >> SVMX_REGION_SHIFT;
	struct svmx_pt_leaf *leaf;
	unsigned long idx, cleared = 0;

	lockdep_assert_held(&ctx->pt_lock);
	xa_for_each_range(&ctx->pt, idx, leaf, first, last) {
		unsigned int i, from = 0, to = SVMX_PT_LEAF_ENTRIES;

		if (idx == first)
			from = svmx_pt_index(start);
		if (idx == last)
			to = svmx_pt_index(end - 1) + 1;
		for (i = from; i < to; i++) {
			if (!leaf->pte[i])
				continue;
			leaf->pte[i] = 0;
			cleared++;
		}
		if (!may_free || !svmx_pt_leaf_empty(leaf))
			continue;
		xa_erase(&ctx->pt, idx);
		kfree(leaf);
		atomic_long_dec(&ctx->nr_leaves);
	}
	return cleared;
}

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
	ctx->sdev = sdev;
	ctx->mm = mm;
	mutex_init(&ctx->pt_lock);
	xa_init(&ctx->pt);
	mutex_init(&ctx->lock);
	mt_init(&ctx->advice);
	xa_init(&ctx->regions);
	init_waitqueue_head(&ctx->resume);

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

	svmx_ctx_release_memory(ctx);
	mutex_lock(&sdev->ctx_lock);
	list_del(&ctx->node);
	mutex_unlock(&sdev->ctx_lock);
	mmu_interval_notifier_remove(&ctx->notifier);
	xa_for_each(&ctx->pt, idx, leaf)
		kfree(leaf);
	xa_destroy(&ctx->pt);
	xa_destroy(&ctx->regions);
	mtree_destroy(&ctx->advice);
	mmdrop(ctx->mm);
	kfree(ctx);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_ctx_destroy);

static void svmx_ctx_add(struct svmx_ctx *ctx, const struct svmx_counters *c)
{
	mutex_lock(&ctx->lock);
	svmx_counters_add(&ctx->stats, c);
	mutex_unlock(&ctx->lock);
}

/**
 * svmx_ctx_account() - add a call's counters to its context and device
 * @ctx: the context
 * @c: the call's counters
 */
void svmx_ctx_account(struct svmx_ctx *ctx, const struct svmx_counters *c)
{
	svmx_ctx_add(ctx, c);
	svmx_device_account(ctx->sdev, c);
}

/*
 * Region history, packed in an xarray value: bits 0-1 last direction + 1,
 * 2-9 the devices this context placed pages of the region on (bit per
 * device), 10-27 ping-pong, 28-44 device faults, 45-61 CPU faults (each
 * count saturating).
 *
 * Updates are compare-and-exchange loops on the slot, so concurrent faults
 * of one region (threads sharing the binding) never lose one another's
 * update, and no lock is held while the xarray allocates.  A migration to
 * a device first creates its region's slot (svmx_ctx_region_prepare()),
 * and fails cleanly if it cannot: the slot is what unbinding gives back,
 * so a region whose pages are in device memory is never missing from it.
 * Later updates of an existing slot allocate nothing and cannot fail.
 */
#define REG_DIR		GENMASK_ULL(1, 0)
#define REG_PLACED	GENMASK_ULL(9, 2)
#define REG_PP		GENMASK_ULL(27, 10)
#define REG_DEV		GENMASK_ULL(44, 28)
#define REG_CPU		GENMASK_ULL(61, 45)

static_assert(SVMX_MAX_DEVICES <= 8);

/* Saturating increment of the field @mask of @v. */
static u64 svmx_reg_inc(u64 v, u64 mask)
{
	unsigned int shift = __ffs64(mask);
	u64 n = (v & mask) >> shift;

	if (n < mask >> shift)
		n++;
	return (v & ~mask) | (n << shift);
}

/**
 * struct svmx_region_op - one update of a region's history
 * @event: enum svmx_region_event
 * @dir: direction of the fault or migration
 * @placed: SVMX_REGION_PREPARE: the target device's bit
 * @reversed: out: the migration reversed the region's previous one
 */
struct svmx_region_op {
	enum svmx_region_event event;
	enum svmx_dir dir;
	u64 placed;
	bool reversed;
};

static u64 svmx_region_apply(u64 v, struct svmx_region_op *op)
{
	u64 last = FIELD_GET(REG_DIR, v);

	op->reversed = false;
	switch (op->event) {
	case SVMX_REGION_PREPARE:
		return v | FIELD_PREP(REG_PLACED, op->placed);
	case SVMX_REGION_FAULT:
		return svmx_reg_inc(v, op->dir == SVMX_DIR_TO_DEVICE ? REG_DEV :
							       REG_CPU);
	case SVMX_REGION_MIGRATED:
		op->reversed = last && last != op->dir + 1;
		if (op->reversed)
			v = svmx_reg_inc(v, REG_PP);
		return (v & ~REG_DIR) | FIELD_PREP(REG_DIR, op->dir + 1);
	}
	return v;
}

/*
 * Apply @op to the region of @addr.  @gfp 0: only a region that has a
 * slot already is updated (nothing is allocated; -ENOENT otherwise).
 * Return 0 and the region's new value in *@val, or a negative errno.
 */
static int svmx_region_update(struct svmx_ctx *ctx, unsigned long addr,
			      struct svmx_region_op *op, gfp_t gfp, u64 *val)
{
	unsigned long idx = addr >> SVMX_REGION_SHIFT;
	void *old = xa_load(&ctx->regions, idx), *cur;
	u64 v;

	for (;;) {
		if (!old && !gfp)
			return -ENOENT;
		v = svmx_region_apply(old ? xa_to_value(old) : 0, op);
		cur = xa_cmpxchg(&ctx->regions, idx, old, xa_mk_value(v),
				 old ? GFP_NOWAIT | __GFP_NOWARN : gfp);
		if (xa_is_err(cur))
			return xa_err(cur);
		if (cur == old)
			break;
		old = cur;	/* lost a race with another update: redo */
	}
	*val = v;
	trace_svmx_region(ctx->sdev->id, idx << SVMX_REGION_SHIFT, op->event,
			  op->dir, FIELD_GET(REG_PLACED, v), FIELD_GET(REG_PP, v),
			  FIELD_GET(REG_DEV, v), FIELD_GET(REG_CPU, v));
	return 0;
}

/**
 * svmx_ctx_region_prepare() - make a region ready for a migration into it
 * @ctx: the context the migration is for
 * @addr: address in the region
 * @target: the device the pages go to (@ctx's device or a hive peer)
 *
 * Creates the region's history slot, so that unbinding finds the region
 * and gives its device pages back, and records that @ctx places pages of
 * the region on @target, so that CPU faults on them count against @ctx.
 * Called before the migration, with no lock held.
 *
 * Return: 0, or -ENOMEM: the migration must not happen.
 */
int svmx_ctx_region_prepare(struct svmx_ctx *ctx, unsigned long addr,
			    struct svmx_device *target)
{
	struct svmx_region_op op = {
		.event = SVMX_REGION_PREPARE,
		.dir = SVMX_DIR_TO_DEVICE,
		.placed = BIT(target->id),
	};
	u64 v;

	return svmx_region_update(ctx, addr, &op, GFP_KERNEL, &v);
}

/**
 * svmx_ctx_region_fault() - record a device fault in its 2 MiB region
 * @ctx: the faulting context
 * @addr: faulting address
 *
 * History only: when no memory can be had for a new slot, the fault is
 * not counted (nothing in device memory depends on it).
 */
void svmx_ctx_region_fault(struct svmx_ctx *ctx, unsigned long addr)
{
	struct svmx_region_op op = {
		.event = SVMX_REGION_FAULT,
		.dir = SVMX_DIR_TO_DEVICE,
	};
	u64 v;

	svmx_region_update(ctx, addr, &op, GFP_KERNEL, &v);
}

/**
 * svmx_ctx_region_migrated() - record a migration of (part of) a region
 * @ctx: the context the migration is for
 * @addr: address in the region
 * @dir: direction of the migration
 * @cnt: counters of the caller; pingpong is bumped when @dir reverses the
 *	region's previous migration
 *
 * The region was prepared (svmx_ctx_region_prepare()) before a migration
 * to the device, so this allocates nothing and cannot fail then.
 */
void svmx_ctx_region_migrated(struct svmx_ctx *ctx, unsigned long addr,
			      enum svmx_dir dir, struct svmx_counters *cnt)
{
	struct svmx_region_op op = {
		.event = SVMX_REGION_MIGRATED,
		.dir = dir,
	};
	u64 v;

	if (!svmx_region_update(ctx, addr, &op, GFP_KERNEL, &v))
		cnt->pingpong += op.reversed;
}

/* Whether @ctx placed pages of the region of @addr on device @id. */
static bool svmx_ctx_placed(struct svmx_ctx *ctx, unsigned long addr,
			    unsigned int id)
{
	void *e = xa_load(&ctx->regions, addr >> SVMX_REGION_SHIFT);

	return e && (FIELD_GET(REG_PLACED, xa_to_value(e)) & BIT(id));
}

/*
 * Run @fn on the context of @mm that placed the page of @sdev at @addr:
 * the context of @mm on @sdev or on a hive peer whose history of the
 * region says it migrated pages to @sdev, else the context of @mm on
 * @sdev, if there is one.  One ctx_lock is held at a time, around @fn.
 */
static bool svmx_with_placer(struct svmx_device *sdev, struct mm_struct *mm,
			     unsigned long addr,
			     void (*fn)(struct svmx_ctx *ctx, void *arg),
			     void *arg)
{
	unsigned int i;

	for (i = 0; i < svmx_nr_devices; i++) {
		/* @sdev first: its own context is the likely placer. */
		struct svmx_device *d = svmx_device_get((sdev->id + i) %
							svmx_nr_devices);
		struct svmx_ctx *ctx;
		bool found = false;

		if (d->owner != sdev->owner)
			continue;	/* not in @sdev's hive */
		mutex_lock(&d->ctx_lock);
		list_for_each_entry(ctx, &d->ctxs, node) {
			if (ctx->mm != mm)
				continue;
			found = svmx_ctx_placed(ctx, addr, sdev->id);
			if (found)
				fn(ctx, arg);
			break;
		}
		mutex_unlock(&d->ctx_lock);
		if (found)
			return true;
	}
	return false;
}

/* Run @fn on the context of @mm on @sdev, if there is one. */
static bool svmx_with_ctx(struct svmx_device *sdev, struct mm_struct *mm,
			  void (*fn)(struct svmx_ctx *ctx, void *arg), void *arg)
{
	struct svmx_ctx *ctx;
	bool found = false;

	mutex_lock(&sdev->ctx_lock);
	list_for_each_entry(ctx, &sdev->ctxs, node) {
		if (ctx->mm == mm) {
			fn(ctx, arg);
			found = true;
			break;
		}
	}
	mutex_unlock(&sdev->ctx_lock);
	return found;
}

/* The placer of a page (svmx_with_placer()), else @mm's context on @sdev. */
static void svmx_with_owner_ctx(struct svmx_device *sdev, struct mm_struct *mm,
				unsigned long addr,
				void (*fn)(struct svmx_ctx *ctx, void *arg),
				void *arg)
{
	if (!svmx_with_placer(sdev, mm, addr, fn, arg))
		svmx_with_ctx(sdev, mm, fn, arg);
}

struct svmx_region_arg {
	unsigned long addr;
	struct svmx_region_op op;
	u32 pingpong;
	const struct svmx_counters *cnt;
};

static void svmx_region_update_fn(struct svmx_ctx *ctx, void *arg)
{
	struct svmx_region_arg *a = arg;
	u64 v;

	/* Only regions with a slot: CPU faults and migrations back come
	 * after a migration to the device, which created it.
	 */
	if (!svmx_region_update(ctx, a->addr, &a->op, 0, &v))
		a->pingpong = FIELD_GET(REG_PP, v);
}

static void svmx_account_fn(struct svmx_ctx *ctx, void *arg)
{
	struct svmx_region_arg *a = arg;

	svmx_ctx_add(ctx, a->cnt);
}

/**
 * svmx_region_fault() - record a CPU fault of an mm in a 2 MiB region
 * @sdev: the device whose page faulted
 * @mm: the faulting mm (it may have no context on @sdev)
 * @addr: faulting address
 * @dir: SVMX_DIR_TO_SYSTEM for a CPU fault
 *
 * The fault counts against the context that placed the page (which may be
 * bound to a hive peer of @sdev), see svmx_with_placer().
 *
 * Return: the region's ping-pong count, for the policy.
 */
u32 svmx_region_fault(struct svmx_device *sdev, struct mm_struct *mm,
		      unsigned long addr, enum svmx_dir dir)
{
	struct svmx_region_arg a = {
		.addr = addr,
		.op = { .event = SVMX_REGION_FAULT, .dir = dir },
	};

	svmx_with_owner_ctx(sdev, mm, addr, svmx_region_update_fn, &a);
	return a.pingpong;
}

/**
 * svmx_region_migrated() - record a migration of an mm's region
 * @sdev: the device whose page moved
 * @mm: the mm (it may have no context on @sdev)
 * @addr: address in the region
 * @dir: direction of the migration
 * @cnt: counters of the caller; pingpong is bumped when @dir reverses the
 *	region's previous migration
 *
 * Recorded against the context that placed the page, as svmx_region_fault().
 */
void svmx_region_migrated(struct svmx_device *sdev, struct mm_struct *mm,
			  unsigned long addr, enum svmx_dir dir,
			  struct svmx_counters *cnt)
{
	struct svmx_region_arg a = {
		.addr = addr,
		.op = { .event = SVMX_REGION_MIGRATED, .dir = dir },
	};

	svmx_with_owner_ctx(sdev, mm, addr, svmx_region_update_fn, &a);
	if (a.op.reversed)
		cnt->pingpong++;
}

/**
 * svmx_mm_account() - add a CPU fault's counters to the context of an mm
 * @sdev: the device whose page faulted
 * @mm: the mm
 * @addr: the faulting address
 * @c: the counters
 *
 * Added to the context that placed the page, as svmx_region_fault(), if
 * any.
 */
void svmx_mm_account(struct svmx_device *sdev, struct mm_struct *mm,
		     unsigned long addr, const struct svmx_counters *c)
{
	struct svmx_region_arg a = { .addr = addr, .cnt = c };

	svmx_with_owner_ctx(sdev, mm, addr, svmx_account_fn, &a);
}

/**
 * svmx_region_pingpong() - history of the 2 MiB region of an address
 * @ctx: the context
 * @addr: the address
 * @dev_faults: if not NULL, device faults in the region
 * @cpu_faults: if not NULL, CPU faults in the region
 *
 * Return: CPU<->device direction changes of the region.
 */
u32 svmx_region_pingpong(struct svmx_ctx *ctx, unsigned long addr,
			 u32 *dev_faults, u32 *cpu_faults)
{
	void *e = xa_load(&ctx->regions, addr >> SVMX_REGION_SHIFT);
	u64 v = e ? xa_to_value(e) : 0;

	if (dev_faults)
		*dev_faults = FIELD_GET(REG_DEV, v);
	if (cpu_faults)
		*cpu_faults = FIELD_GET(REG_CPU, v);
	return FIELD_GET(REG_PP, v);
}

/*
 * Advice, packed in a maple-tree value: bits 0-7 preferred location
 * (0 none, 1 system, 2 + i device i), bit 8 read-mostly, bits 16-23
 * accessed-by mask.
 */
#define ADV_PREF	GENMASK(7, 0)
#define ADV_RM		BIT(8)
#define ADV_BY		GENMASK(23, 16)

static int svmx_advice_apply(u32 v, const struct svmx_advise *a)
{
	switch (a->advice) {
	case SVMX_ADVISE_PREFERRED_LOCATION:
		v &= ~ADV_PREF;
		return v | FIELD_PREP(ADV_PREF, a->value == SVMX_TARGET_SYSTEM ?
				      1 : a->value + 2);
	case SVMX_ADVISE_UNSET_PREFERRED_LOCATION:
		return v & ~ADV_PREF;
	case SVMX_ADVISE_ACCESSED_BY:
		return v | FIELD_PREP(ADV_BY, BIT(a->value));
	case SVMX_ADVISE_UNSET_ACCESSED_BY:
		return v & ~FIELD_PREP(ADV_BY, BIT(a->value));
	case SVMX_ADVISE_READ_MOSTLY:
		return v | ADV_RM;
	case SVMX_ADVISE_UNSET_READ_MOSTLY:
		return v & ~ADV_RM;
	}
	return v;
}

static int svmx_advise_check(const struct svmx_advise *a)
{
	if (a->flags || a->reserved)
		return -EINVAL;
	switch (a->advice) {
	case SVMX_ADVISE_PREFERRED_LOCATION:
		if (a->value == SVMX_TARGET_SYSTEM || a->value < svmx_nr_devices)
			return 0;
		return -EINVAL;
	case SVMX_ADVISE_ACCESSED_BY:
	case SVMX_ADVISE_UNSET_ACCESSED_BY:
		return a->value < svmx_nr_devices ? 0 : -EINVAL;
	case SVMX_ADVISE_UNSET_PREFERRED_LOCATION:
	case SVMX_ADVISE_READ_MOSTLY:
	case SVMX_ADVISE_UNSET_READ_MOSTLY:
		return a->value ? -EINVAL : 0;
	}
	return -EINVAL;
}

/**
 * svmx_advise() - record advice over a range
 * @ctx: the context
 * @a: the advice; the range was checked by the caller
 *
 * Each advice kind changes only its own bits, so advice of different kinds
 * over overlapping ranges combines.
 *
 * Return: 0, -EINVAL for bad advice, or -ENOMEM.
 */
int svmx_advise(struct svmx_ctx *ctx, const struct svmx_advise *a)
{
	unsigned long cur = a->addr, last = a->addr + a->length - 1;
	int ret = svmx_advise_check(a);

	if (ret)
		return ret;
	mutex_lock(&ctx->lock);
	while (!ret) {
		MA_STATE(mas, &ctx->advice, cur, cur);
		unsigned long seg_end;
		void *old;
		u32 v;

		rcu_read_lock();
		old = mas_walk(&mas);
		seg_end = min(mas.last, last);
		rcu_read_unlock();
		v = svmx_advice_apply(old ? xa_to_value(old) : 0, a);
		if (v)
			ret = mtree_store_range(&ctx->advice, cur, seg_end,
						xa_mk_value(v), GFP_KERNEL);
		else if (old)
			ret = mtree_store_range(&ctx->advice, cur, seg_end, NULL,
						GFP_KERNEL);
		if (seg_end == last)
			break;
		cur = seg_end + 1;
	}
	mutex_unlock(&ctx->lock);
	return ret;
}

/**
 * svmx_advice_get() - fill the advice fields of a fault for the policy
 * @ctx: the context
 * @addr: faulting address
 * @info: the fault info to complete
 */
void svmx_advice_get(struct svmx_ctx *ctx, unsigned long addr,
		     struct svmx_fault_info *info)
{
	void *e = mtree_load(&ctx->advice, addr);
	u32 v = e ? xa_to_value(e) : 0;
	u32 pref = FIELD_GET(ADV_PREF, v);

	info->preferred = pref == 0 ? SVMX_LOC_NONE :
			  pref == 1 ? SVMX_TARGET_SYSTEM : pref - 2;
	info->read_mostly = !!(v & ADV_RM);
	info->accessed_by = FIELD_GET(ADV_BY, v);
}
