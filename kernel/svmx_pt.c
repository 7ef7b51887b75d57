// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Device page table
 *
 * Two levels: an xarray of 2 MiB regions whose leaves hold 512 entries
 * (the page, whatever kind it is, plus a write bit), so a chunk is published
 * or invalidated with an array walk, not 512 tree operations.  Leaves are
 * allocated before @pt_lock is taken: the notifier takes that lock from
 * reclaim.
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
unsigned long svmx_pt_clear(struct svmx_ctx *ctx, unsigned long start,
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

/**
 * svmx_pt_residency_locked() - where the pages of a 2 MiB region are
 * @ctx: the context; pt_lock held
 * @va: an address in the region
 * @res: out: the counts, adding up to SVMX_PT_LEAF_ENTRIES
 *
 * One pass over the region's leaf: an entry's page is this device's, a
 * hive peer's (svmx_page_device() finds it from the pfn alone) or system
 * memory.  No leaf means nothing is mapped.
 */
void svmx_pt_residency_locked(struct svmx_ctx *ctx, unsigned long va,
			      struct svmx_residency *res)
{
	struct svmx_pt_leaf *leaf;
	unsigned int i;

	lockdep_assert_held(&ctx->pt_lock);
	memset(res, 0, sizeof(*res));
	leaf = svmx_pt_leaf(ctx, va);
	for (i = 0; i < SVMX_PT_LEAF_ENTRIES; i++) {
		struct page *page = leaf ? svmx_pte_page(leaf->pte[i]) : NULL;
		struct svmx_device *d;

		if (!page) {
			res->unmapped++;
		} else if (!is_device_private_page(page)) {
			res->system++;
		} else {
			d = svmx_page_device(page);
			if (d == ctx->sdev)
				res->local++;
			else
				res->peer[d->id]++;
		}
	}
}

/**
 * svmx_pt_residency() - svmx_pt_residency_locked(), taking pt_lock
 * @ctx: the context; pt_lock not held
 * @va: an address in the region
 * @res: out: the counts
 */
void svmx_pt_residency(struct svmx_ctx *ctx, unsigned long va,
		       struct svmx_residency *res)
{
	mutex_lock(&ctx->pt_lock);
	svmx_pt_residency_locked(ctx, va, res);
	mutex_unlock(&ctx->pt_lock);
}
