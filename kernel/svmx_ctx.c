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

static void svmx_queue_resume(struct svmx_ctx *ctx)
{
	if (atomic_dec_and_test(&ctx->suspend))
		wake_up_all(&ctx->resume);
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
		svmx_queue_resume(ctx);
		return false;
	}
	mmu_interval_set_seq(mni, cur_seq);
	/* Migrated pages are mapped again right away: keep their leaves. */
	cleared = svmx_pt_clear(ctx, range->start, range->end,
				range->event != MMU_NOTIFY_MIGRATE);
	mutex_unlock(&ctx->pt_lock);
	svmx_queue_resume(ctx);
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
		return ERR_PTR(ret);
	}
	mmgrab(mm);
	mutex_lock(&sdev->ctx_lock);
	list_add_tail(&ctx->node, &sdev->ctxs);
	mutex_unlock(&sdev->ctx_lock);
	mutex_unlock(&sdev->bind_lock);
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
	unsigned long idx;
	void *entry;

	if (!mmget_not_zero(ctx->mm))
		return;
	mmap_read_lock(ctx->mm);
	xa_for_each(&ctx->regions, idx, entry) {
		unsigned long addr = idx << SVMX_REGION_SHIFT;

		if (!svmx_owner_resident(ctx->sdev->owner))
			break;	/* nothing of this hive is in device memory */
		unsigned long end = addr + BIT(SVMX_REGION_SHIFT);
		struct vm_area_struct *vma;

		cond_resched();
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
 * Region history, packed in an xarray value:
 * bits 0-1 last direction + 1, 2-21 ping-pong, 22-41 device faults,
 * 42-61 CPU faults (each saturating).
 */
#define REG_DIR		GENMASK_ULL(1, 0)
#define REG_PP		GENMASK_ULL(21, 2)
#define REG_DEV		GENMASK_ULL(41, 22)
#define REG_CPU		GENMASK_ULL(61, 42)

/* Saturating increment of the field @mask of @v. */
static u64 svmx_reg_inc(u64 v, u64 mask)
{
	unsigned int shift = __ffs64(mask);
	u64 n = (v & mask) >> shift;

	if (n < mask >> shift)
		n++;
	return (v & ~mask) | (n << shift);
}

/*
 * Record a fault (@fault) or a migration in @dir in the region of @addr.
 * Return the region's ping-pong count; *@reversed tells whether this
 * migration reversed the previous one.
 */
static u32 svmx_region_update(struct svmx_ctx *ctx, unsigned long addr,
			      enum svmx_dir dir, bool fault, bool *reversed)
{
	unsigned long idx = addr >> SVMX_REGION_SHIFT;
	u64 v = 0, last;
	void *old;

	*reversed = false;
	xa_lock(&ctx->regions);
	old = xa_load(&ctx->regions, idx);
	if (old)
		v = xa_to_value(old);
	last = FIELD_GET(REG_DIR, v);
	if (fault) {
		v = svmx_reg_inc(v, dir == SVMX_DIR_TO_DEVICE ? REG_DEV : REG_CPU);
	} else {
		*reversed = last && last != dir + 1;
		if (*reversed)
			v = svmx_reg_inc(v, REG_PP);
		v = (v & ~REG_DIR) | FIELD_PREP(REG_DIR, dir + 1);
	}
	/* The history is what unbinding gives back: do not drop it. */
	__xa_store(&ctx->regions, idx, xa_mk_value(v), GFP_KERNEL);
	xa_unlock(&ctx->regions);
	trace_svmx_region(ctx->sdev->id, idx << SVMX_REGION_SHIFT,
			  fault ? SVMX_REGION_FAULT : SVMX_REGION_MIGRATED, dir, 0,
			  FIELD_GET(REG_PP, v), FIELD_GET(REG_DEV, v),
			  FIELD_GET(REG_CPU, v));
	return FIELD_GET(REG_PP, v);
}

/**
 * svmx_ctx_region_fault() - record a device fault in its 2 MiB region
 * @ctx: the faulting context
 * @addr: faulting address
 */
void svmx_ctx_region_fault(struct svmx_ctx *ctx, unsigned long addr)
{
	bool reversed;

	svmx_region_update(ctx, addr, SVMX_DIR_TO_DEVICE, true, &reversed);
}

/**
 * svmx_ctx_region_migrated() - record a migration of (part of) a region
 * @ctx: the context the migration is for
 * @addr: address in the region
 * @dir: direction of the migration
 * @cnt: counters of the caller; pingpong is bumped when @dir reverses the
 *	region's previous migration
 */
void svmx_ctx_region_migrated(struct svmx_ctx *ctx, unsigned long addr,
			      enum svmx_dir dir, struct svmx_counters *cnt)
{
	bool reversed;

	svmx_region_update(ctx, addr, dir, false, &reversed);
	cnt->pingpong += reversed;
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

struct svmx_region_arg {
	unsigned long addr;
	enum svmx_dir dir;
	u32 pingpong;
	bool reversed;
};

static void svmx_region_fault_fn(struct svmx_ctx *ctx, void *arg)
{
	struct svmx_region_arg *a = arg;

	a->pingpong = svmx_region_update(ctx, a->addr, a->dir, true,
					 &a->reversed);
}

static void svmx_region_migrated_fn(struct svmx_ctx *ctx, void *arg)
{
	struct svmx_region_arg *a = arg;

	svmx_region_update(ctx, a->addr, a->dir, false, &a->reversed);
}

static void svmx_account_fn(struct svmx_ctx *ctx, void *arg)
{
	svmx_ctx_add(ctx, arg);
}

/**
 * svmx_region_fault() - record a CPU fault of an mm in a 2 MiB region
 * @sdev: the device whose page faulted
 * @mm: the faulting mm (it may have no context on @sdev)
 * @addr: faulting address
 * @dir: SVMX_DIR_TO_SYSTEM for a CPU fault
 *
 * Return: the region's ping-pong count, for the policy.
 */
u32 svmx_region_fault(struct svmx_device *sdev, struct mm_struct *mm,
		      unsigned long addr, enum svmx_dir dir)
{
	struct svmx_region_arg a = { .addr = addr, .dir = dir };

	svmx_with_ctx(sdev, mm, svmx_region_fault_fn, &a);
	return a.pingpong;
}

/**
 * svmx_region_migrated() - record a migration of an mm's region
 * @sdev: the device the context belongs to
 * @mm: the mm (it may have no context on @sdev)
 * @addr: address in the region
 * @dir: direction of the migration
 * @cnt: counters of the caller; pingpong is bumped when @dir reverses the
 *	region's previous migration
 */
void svmx_region_migrated(struct svmx_device *sdev, struct mm_struct *mm,
			  unsigned long addr, enum svmx_dir dir,
			  struct svmx_counters *cnt)
{
	struct svmx_region_arg a = { .addr = addr, .dir = dir };

	svmx_with_ctx(sdev, mm, svmx_region_migrated_fn, &a);
	if (a.reversed)
		cnt->pingpong++;
}

/**
 * svmx_mm_account() - add counters to the context of an mm, if bound
 * @sdev: the device
 * @mm: the mm
 * @c: the counters
 */
void svmx_mm_account(struct svmx_device *sdev, struct mm_struct *mm,
		     const struct svmx_counters *c)
{
	svmx_with_ctx(sdev, mm, svmx_account_fn, (void *)c);
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
