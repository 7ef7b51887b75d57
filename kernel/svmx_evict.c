// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Eviction
 *
 * Victim choice, evicting a block, and reserving a destination block,
 * evicting for it when device memory is full.
 *
 * Eviction chooses victims (DOC: Victims), then migrates every page still
 * using each one back to system memory with migrate_device_range() on the
 * block's own pfns (the mechanism is svmx_migrate_block_to_system()): no
 * mmap lock and no knowledge of which ranges or processes use it.  Busy
 * pages are retried; a block that still has pages afterwards is reported,
 * not waited for, and goes back to the LRU tail with its age unchanged.
 */

/**
 * DOC: Victims
 *
 * When a block of order N is needed and fewer than 2^N pages are free,
 * svmx_evict_bytes() must free the difference.  Under the device's
 * evict_lock it collects the handles of up to SVMX_EVICT_CANDIDATES
 * least recently used evictable blocks and asks the policy
 * (svmx_policy_evict()) for victims: up to SVMX_EVICT_VICTIMS handles of
 * any blocks of the device, candidates or blocks the policy tracks
 * itself.  The victims are taken in the policy's order, each checked
 * against the device's valid-blocks registry (svmx_block_take(): a
 * handle of this device, of a live published block that is on the LRU
 * and not taken already), until the bytes needed are freed; the handles
 * after that are not looked at.  A refused handle is counted as an
 * invalid answer of the policy and traced (svmx:svmx_evict_reject).  When
 * the valid victims free less than needed (the policy proposed too few,
 * some were refused, or stayed busy), the LRU evicts the rest, each block
 * at most once.  Every eviction attempt is reported to the policy
 * (svmx_policy_evict_done()) with who chose the block.  The built-in
 * default proposes nothing: the LRU evicts everything.
 */

/**
 * DOC: Reserving a destination block
 *
 * A migration to the device reserves its destination block with
 * svmx_block_reserve() before migrate_vma_setup(), evicting if it must, and
 * only fills migrate.dst from the block once the source pages are
 * collected: no eviction (and no wait on evict_lock) ever happens while
 * source pages are locked and replaced by migration entries.
 *
 * Eviction for a block of order N works in two ways.  While fewer than 2^N
 * pages are free, the policy's victims and then the LRU's go (DOC:
 * Victims).  Once enough pages are free but no naturally aligned hole of 2^N
 * pages is (smaller blocks fragment the pool), LRU victims would rarely
 * free an aligned hole; instead the aligned window whose blocks hold the
 * fewest resident pages is emptied, block by block, whatever their LRU
 * position.  Windows holding a block that is being filled or evicted are
 * skipped.
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
 * The least recently used evictable block, taken off the LRU with a
 * reference, so that it is neither freed nor picked by another evictor
 * while we work on it; NULL when there is none.
 */
static struct svmx_block *svmx_lru_take(struct svmx_device *sdev)
{
	struct svmx_block *block, *found = NULL;

	spin_lock(&sdev->lock);
	list_for_each_entry(block, &sdev->lru, lru) {
		if (refcount_inc_not_zero(&block->refs)) {
			list_del_init(&block->lru);
			found = block;
			break;
		}
	}
	spin_unlock(&sdev->lock);
	return found;
}

/*
 * Evict a victim taken off the LRU; evict_lock held.  Drops the reference.
 * Adds the block's size to *@freed (if given) when it was emptied.
 */
static int svmx_evict_taken(struct svmx_block *block,
			    enum svmx_evict_reason reason,
			    enum svmx_victim_source source, u64 *freed,
			    struct svmx_counters *cnt)
{
	u64 size = PAGE_SIZE << block->order;
	int ret = svmx_evict_block(block, reason, source, cnt);

	if (ret && refcount_read(&block->refs) > 1)
		svmx_block_requeue(block);
	else if (freed)
		*freed += size;
	svmx_block_put(block);
	return ret;
}

/*
 * Free @bytes of @sdev's memory for a block of @order (see DOC: Victims):
 * the policy's victims in its order, then the LRU's for what they did not
 * free.  Return 0 when @bytes were freed, -ENOENT when nothing could be
 * evicted, -EBUSY when evictions did not free enough.
 */
static int svmx_evict_bytes(struct svmx_device *sdev, u64 bytes,
			    unsigned int order, enum svmx_evict_reason reason,
			    struct svmx_counters *cnt)
{
	struct svmx_evict_ctx ctx = {
		.info = {
			.dev = sdev->id,
			.order = order,
			.reason = reason,
			.bytes = bytes,
		},
	};
	struct svmx_evict_info *info = &ctx.info;
	enum svmx_evict_reject why;
	struct svmx_block *block;
	u64 freed = 0, budget;
	bool tried = false;
	u32 i;

	mutex_lock(&sdev->evict_lock);
	spin_lock(&sdev->lock);
	list_for_each_entry(block, &sdev->lru, lru) {
		if (!refcount_read(&block->refs))
			continue;	/* being freed */
		info->cand[info->nr_cand++] = block->handle;
		if (info->nr_cand == SVMX_EVICT_CANDIDATES)
			break;
	}
	budget = sdev->nr_blocks;
	spin_unlock(&sdev->lock);
	if (!info->nr_cand)
		goto out;	/* nothing evictable: every block is busy */

	svmx_policy_evict(sdev, &ctx, cnt);
	for (i = 0; i < ctx.answer.nr && freed < bytes; i++) {
		block = svmx_block_take(sdev, ctx.answer.victim[i], &why);
		if (!block) {
			svmx_policy_evict_reject(sdev, ctx.answer.victim[i], why, cnt);
			continue;
		}
		svmx_evict_taken(block, reason, SVMX_VICTIM_POLICY, &freed, cnt);
		tried = true;
	}
	/* Each block at most once: a busy one goes back to the LRU tail. */
	while (freed < bytes && budget--) {
		block = svmx_lru_take(sdev);
		if (!block)
			break;
		svmx_evict_taken(block, reason, SVMX_VICTIM_LRU, &freed, cnt);
		tried = true;
	}
out:
	mutex_unlock(&sdev->evict_lock);
	if (!tried)
		return -ENOENT;
	return freed >= bytes ? 0 : -EBUSY;
}

/*
 * Choose the naturally aligned window of 2^@order pages whose blocks hold
 * the fewest resident pages, skipping windows with a block that is not on
 * the LRU (being filled or evicted); sdev->lock held.  Blocks are walked in
 * address order; a block larger than a window starts one and empties it
 * (and the windows it covers) on its own.  Return the window's first
 * index, or ULONG_MAX.
 */
static unsigned long svmx_hole_pick(struct svmx_device *sdev, unsigned int order,
				    u64 *best_pages)
{
	unsigned long idx, win = ULONG_MAX, best = ULONG_MAX;
	struct svmx_block *block;
	bool blocked = false;
	u64 pages = 0;

	*best_pages = U64_MAX;
	xa_for_each(&sdev->blocks, idx, block) {
		if (idx >> order != win) {
			if (win != ULONG_MAX && !blocked && pages < *best_pages) {
				best = win;
				*best_pages = pages;
			}
			win = idx >> order;
			blocked = false;
			pages = 0;
		}
		if (list_empty(&block->lru) || !refcount_read(&block->refs))
			blocked = true;
		else
			pages += refcount_read(&block->refs);
	}
	if (win != ULONG_MAX && !blocked && pages < *best_pages) {
		best = win;
		*best_pages = pages;
	}
	return best == ULONG_MAX ? ULONG_MAX : best << order;
}

/*
 * Empty the cheapest aligned window of 2^@order pages (see DOC: Reserving
 * a destination block).  Return 0 when all its blocks were evicted, -EBUSY
 * or -ENOMEM when one kept pages, -ENOENT when no window can be emptied.
 */
static int svmx_evict_hole(struct svmx_device *sdev, unsigned int order,
			   enum svmx_evict_reason reason,
			   struct svmx_counters *cnt)
{
	unsigned long first, idx, nr = 0, i;
	struct svmx_block **victims, *block;
	u64 pages;
	int ret = 0, err;

	/* A window holds at most 2^order blocks. */
	victims = kvmalloc_array(1UL << order, sizeof(*victims), GFP_KERNEL);
	if (!victims)
		return -ENOMEM;
	mutex_lock(&sdev->evict_lock);
	spin_lock(&sdev->lock);
	first = svmx_hole_pick(sdev, order, &pages);
	if (first != ULONG_MAX) {
		xa_for_each_range(&sdev->blocks, idx, block, first,
				  first + (1UL << order) - 1) {
			if (!refcount_inc_not_zero(&block->refs))
				continue;
			list_del_init(&block->lru);
			victims[nr++] = block;
		}
	}
	spin_unlock(&sdev->lock);
	if (nr)
		trace_svmx_evict_hole(sdev->id, sdev->pfn_first + first, order,
				      nr, pages);
	for (i = 0; i < nr; i++) {
		err = svmx_evict_taken(victims[i], reason, SVMX_VICTIM_HOLE,
				       NULL, cnt);
		if (err)
			ret = err;
	}
	mutex_unlock(&sdev->evict_lock);
	kvfree(victims);
	return nr ? ret : -ENOENT;
}

/**
 * svmx_block_reserve() - reserve a destination block before a migration
 * @sdev: the device
 * @order: block order
 * @evict: evict when no block of @order is free (see DOC: Reserving a
 *	destination block); otherwise fail with -EAGAIN
 * @reason: why eviction is needed, for the counters and the trace
 * @cnt: counters of the caller (evictions are added)
 *
 * Called before migrate_vma_setup(), never with source pages collected.
 * The new block holds one reference, the caller's, and is not on the LRU
 * until svmx_block_publish().
 *
 * Return: the block; ERR_PTR(-EAGAIN) when none is free and @evict is
 * false; ERR_PTR(-ENOSPC) when none of @order can be had even after
 * evicting (or fail_block_alloc fired); ERR_PTR(-ENOMEM) when system
 * memory (backing pages, bookkeeping) is short.  The caller falls back to
 * a smaller order.
 */
struct svmx_block *svmx_block_reserve(struct svmx_device *sdev, unsigned int order,
				      bool evict, enum svmx_evict_reason reason,
				      struct svmx_counters *cnt)
{
	u64 size = PAGE_SIZE << order, evictions = cnt->evictions, free;
	struct svmx_block *block;
	unsigned long tries;
	int err = -ENOSPC, ret;

	if (svmx_fail_block(order))
		goto fail;
	for (tries = 0; ; tries++) {
		block = svmx_block_try_alloc(sdev, order);
		if (!IS_ERR_OR_NULL(block))
			return block;
		if (IS_ERR(block)) {
			err = PTR_ERR(block);
			goto fail;
		}
		if (!evict)
			return ERR_PTR(-EAGAIN);
		if (tries > sdev->npages >> order)
			break;
		free = svmx_devmem_free_bytes(sdev);
		if (free >= size)
			ret = svmx_evict_hole(sdev, order, reason, cnt);
		else
			ret = svmx_evict_bytes(sdev, size - free, order, reason,
					       cnt);
		if (ret == -ENOENT)
			break;
	}
fail:
	trace_svmx_block_alloc_fail(sdev->id, order, err,
				    cnt->evictions - evictions);
	return ERR_PTR(err);
}

/**
 * svmx_evict_all() - evict every block of a device
 * @sdev: the device
 * @reason: why, for the counters and the trace
 * @cnt: counters of the caller
 *
 * In LRU order, without asking the policy: the operator asked for all of
 * them.  Bounded: each block is tried once (busy ones go to the tail).
 *
 * Return: 0 when the device holds no block any more, -EBUSY otherwise.
 */
int svmx_evict_all(struct svmx_device *sdev, enum svmx_evict_reason reason,
		   struct svmx_counters *cnt)
{
	struct svmx_block *block;
	u64 budget;

	spin_lock(&sdev->lock);
	budget = sdev->nr_blocks;
	spin_unlock(&sdev->lock);
	while (budget--) {
		mutex_lock(&sdev->evict_lock);
		block = svmx_lru_take(sdev);
		if (block)
			svmx_evict_taken(block, reason, SVMX_VICTIM_REQUEST,
					 NULL, cnt);
		mutex_unlock(&sdev->evict_lock);
		if (!block)
			break;
	}
	spin_lock(&sdev->lock);
	budget = sdev->nr_blocks;
	spin_unlock(&sdev->lock);
	return budget ? -EBUSY : 0;
}

/**
 * svmx_reserve_chunk() - reserve the destination block of a chunk
 * @target: the device
 * @vma: the VMA holding @span; mmap lock held for read
 * @span: the chunk
 * @reason: why evictions for room happen (pressure or prefetch)
 * @cnt: counters of the caller
 *
 * Called before anything of @span is collected.  When device memory is
 * full, the chunk is collected once and put back to count its movable
 * pages: no eviction for a chunk that is already on the device or cannot
 * move, and no more room than the movable pages need.
 *
 * Return: the block, NULL when nothing would move, or an ERR_PTR (the
 * caller tries the next order of the chunk ladder).
 */
struct svmx_block *svmx_reserve_chunk(struct svmx_device *target,
				      struct vm_area_struct *vma,
				      struct svmx_span span,
				      enum svmx_evict_reason reason,
				      struct svmx_counters *cnt)
{
	unsigned long npages = (span.end - span.start) >> PAGE_SHIFT;
	struct svmx_block *block;
	long movable;

	block = svmx_block_reserve(target, order_base_2(npages), false, reason,
				   cnt);
	if (PTR_ERR_OR_ZERO(block) != -EAGAIN)
		return block;
	movable = svmx_movable_pages(target, vma, span, cnt);
	if (movable == -EINVAL || !movable)
		return NULL;	/* hugetlb, VM_SPECIAL, DAX; or nothing to move */
	if (movable < 0)
		return ERR_PTR(movable);
	return svmx_block_reserve(target, order_base_2(movable), true, reason, cnt);
}

/* Count an eviction attempt by its reason. */
static void svmx_evict_count(struct svmx_counters *cnt,
			     enum svmx_evict_reason reason, bool failed)
{
	cnt->evictions++;
	switch (reason) {
	case SVMX_EVICT_PRESSURE:
		cnt->evictions_pressure++;
		break;
	case SVMX_EVICT_PREFETCH:
		cnt->evictions_prefetch++;
		break;
	case SVMX_EVICT_REQUEST:
		cnt->evictions_request++;
		break;
	}
	if (failed)
		cnt->evictions_failed++;
}

/**
 * svmx_evict_block() - evict a block: every page back to system memory
 * @block: the block; the caller holds a reference
 * @reason: why, for the counters and the trace
 * @source: who chose the block, for the policy's notification
 * @cnt: counters of the caller
 *
 * The policy is told how it went (svmx_policy_evict_done()) while the
 * caller's reference still keeps the block.
 *
 * Return: 0 when the block holds no page any more, otherwise the error of
 * svmx_migrate_block_to_system() (traced by svmx_evict_fail).
 */
int svmx_evict_block(struct svmx_block *block, enum svmx_evict_reason reason,
		     enum svmx_victim_source source, struct svmx_counters *cnt)
{
	struct svmx_device *sdev = block->sdev;
	unsigned int passes = 0, left;
	struct svmx_evict_done done;
	unsigned long moved;
	int ret;

	ret = svmx_migrate_block_to_system(block, &moved, &passes, cnt);
	left = refcount_read(&block->refs) - 1;
	svmx_evict_count(cnt, reason, ret);
	cnt->evicted_pages += moved;
	cnt->modeled_ns += sdev->cost.evict_block_ns;
	trace_svmx_evict(sdev->id, block->pfn, block->order, moved, left, reason,
			 ret);
	if (ret)
		trace_svmx_evict_fail(sdev->id, block->pfn, block->order, left,
				      passes, reason, ret);
	svmx_block_event(block, &done.block);
	done.pages = moved;
	done.left = left;
	done.reason = reason;
	done.source = source;
	done.ret = ret;
	svmx_policy_evict_done(&done);
	return ret;
}
