// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Region history and advice
 *
 * What a policy knows of a 2 MiB region besides the fault itself: its
 * history (device faults, CPU faults, direction changes) and the advice
 * user space gave for the range (preferred location, accessed-by,
 * read-mostly).
 */
#include <linux/bitfield.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "svmx.h"
#include "svmx_trace.h"

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
			  FIELD_GET(REG_DEV, v), FIELD_GET(REG_CPU, v),
			  op->reversed);
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
	struct svmx_cpu_fault_info *info;
	const struct svmx_counters *cnt;
};

static void svmx_region_update_fn(struct svmx_ctx *ctx, void *arg)
{
	struct svmx_region_arg *a = arg;
	u64 v;

	/* Only regions with a slot: CPU faults and migrations back come
	 * after a migration to the device, which created it.
	 */
	if (svmx_region_update(ctx, a->addr, &a->op, 0, &v) || !a->info)
		return;
	a->info->region_pingpong = FIELD_GET(REG_PP, v);
	a->info->region_device_faults = FIELD_GET(REG_DEV, v);
	a->info->region_cpu_faults = FIELD_GET(REG_CPU, v);
	a->info->ctx_handle = ctx->id;
}

/**
 * svmx_region_fault() - record a CPU fault of an mm in a 2 MiB region
 * @sdev: the device whose page faulted
 * @mm: the faulting mm (it may have no context on @sdev)
 * @addr: faulting address
 * @dir: SVMX_DIR_TO_SYSTEM for a CPU fault
 * @info: out: the region's history after this fault (ping-pong, device
 *	and CPU faults) and the handle of the context it belongs to; left
 *	as it is when no context has a history of the region
 *
 * The fault counts against the context that placed the page (which may be
 * bound to a hive peer of @sdev), see svmx_with_placer().
 *
 * Return: the region's ping-pong count, for the policy.
 */
u32 svmx_region_fault(struct svmx_device *sdev, struct mm_struct *mm,
		      unsigned long addr, enum svmx_dir dir,
		      struct svmx_cpu_fault_info *info)
{
	struct svmx_region_arg a = {
		.addr = addr,
		.op = { .event = SVMX_REGION_FAULT, .dir = dir },
		.info = info,
	};

	svmx_with_owner_ctx(sdev, mm, addr, svmx_region_update_fn, &a);
	return info->region_pingpong;
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

static void svmx_account_fn(struct svmx_ctx *ctx, void *arg)
{
	struct svmx_region_arg *a = arg;

	svmx_ctx_add(ctx, a->cnt);
}

static void svmx_cgroup_id_fn(struct svmx_ctx *ctx, void *arg)
{
	*(u64 *)arg = ctx->cgroup->id;
}

/**
 * svmx_mm_cgroup_id() - the cgroup id of the context that placed a page
 * @sdev: the device whose page faulted
 * @mm: the faulting mm (it may have no context on @sdev)
 * @addr: the faulting address
 *
 * The context is found as for svmx_region_fault(); a CPU fault is decided
 * in that context's policy scope.
 *
 * Return: its cgroup id, or 0 when @mm has no such context.
 */
u64 svmx_mm_cgroup_id(struct svmx_device *sdev, struct mm_struct *mm,
		      unsigned long addr)
{
	u64 id = 0;

	svmx_with_owner_ctx(sdev, mm, addr, svmx_cgroup_id_fn, &id);
	return id;
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
