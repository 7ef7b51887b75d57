// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Migration
 *
 * All migrations are best effort.  migrate_vma_setup() may collect fewer
 * pages than asked (locked, pinned, file-backed, swapped pages...); the
 * pages it did not collect stay in system memory and the fault path maps
 * them as system pages, so a range is never split and a fault never fails
 * because of them.  Once migrate_vma_setup() has succeeded, every path -
 * including allocation failure - goes through migrate_vma_pages() and
 * migrate_vma_finalize(), which restore the pages that did not move.
 *
 * The destination block is reserved before migrate_vma_setup() (see DOC:
 * Reserving a destination block in svmx_devmem.c) with the chunk's size;
 * the collected pages that move are packed into it.  When fewer pages
 * turn out to be movable than the block holds (pages already on the
 * device, file-backed or shared pages, pages another thread holds), the
 * block shrinks to the order that fits them and gives its tail back to
 * the pool at once: a 2 MiB block with a handful of pages would otherwise
 * waste most of itself until its last page goes, and would count against
 * the device's memory for nothing.  What is lost is only the eviction
 * that made room for the tail, if any.  When device memory is full, the
 * chunk is first collected and restored once to count its movable pages,
 * so that no block is evicted for a chunk already on the device.  The
 * copy engine copies physically contiguous device runs with one command;
 * an unpopulated source page (zero-filled on the device, not copied) or a
 * page without MIGRATE_PFN_MIGRATE ends a run.
 *
 * Migration to the device runs with the mmap lock held for read and no
 * svmx lock held: the migration's own mmu notifier callbacks take the
 * device page-table lock.
 */
#include <kunit/visibility.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/rmap.h>
#include <linux/slab.h>

#include "svmx.h"
#include "svmx_trace.h"

/* Passes over a block's busy pages before eviction reports -EBUSY. */
#define SVMX_EVICT_RETRIES	8

/* State of one migration, shared by the copy loops. */
struct svmx_mig {
	struct migrate_vma args;
	unsigned long requested;
	unsigned long collected;
	unsigned long migrated;
	unsigned long wanted;
	unsigned long nomem;
	u64 copy_cmds;
	u64 bytes;
};

static int svmx_mig_alloc(struct svmx_mig *mig, unsigned long npages)
{
	memset(mig, 0, sizeof(*mig));
	mig->args.src = kvcalloc(2 * npages, sizeof(unsigned long), GFP_KERNEL);
	if (!mig->args.src)
		return -ENOMEM;
	mig->args.dst = mig->args.src + npages;
	mig->requested = npages;
	return 0;
}

static void svmx_mig_free(struct svmx_mig *mig)
{
	kvfree(mig->args.src);
}

/* Count the pages migrate_vma_pages()/migrate_device_pages() moved. */
static unsigned long svmx_mig_count(const unsigned long *src,
				    const unsigned long *dst, unsigned long n)
{
	unsigned long i, moved = 0;

	for (i = 0; i < n; i++)
		if (dst[i] && (src[i] & MIGRATE_PFN_MIGRATE))
			moved++;
	return moved;
}

/*
 * Copy engine, system -> device.  A run is a maximal sequence of collected,
 * populated pages; each run is one command.  Unpopulated pages are
 * zero-filled on the device.
 */
static void svmx_copy_to_device(struct svmx_mig *mig)
{
	const unsigned long *src = mig->args.src, *dst = mig->args.dst;
	bool in_run = false;
	unsigned long i;

	for (i = 0; i < mig->args.npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *dpage;

		if (!dst[i]) {
			in_run = false;
			continue;
		}
		dpage = svmx_backing_page(migrate_pfn_to_page(dst[i]));
		if (!spage) {
			clear_highpage(dpage);
			in_run = false;
			continue;
		}
		if (!in_run)
			mig->copy_cmds++;
		in_run = true;
		copy_highpage(dpage, spage);
		mig->bytes += PAGE_SIZE;
	}
}

/*
 * Copy engine, device -> system.  Runs are contiguous in device memory.
 */
static void svmx_copy_to_system(struct svmx_mig *mig, const unsigned long *src,
				const unsigned long *dst, unsigned long n)
{
	unsigned long i, prev_pfn = 0;

	for (i = 0; i < n; i++) {
		unsigned long spfn = migrate_pfn_to_page(src[i]) ?
				     page_to_pfn(migrate_pfn_to_page(src[i])) : 0;

		if (!dst[i]) {
			prev_pfn = 0;
			continue;
		}
		if (!prev_pfn || spfn != prev_pfn + 1)
			mig->copy_cmds++;
		prev_pfn = spfn;
		copy_highpage(migrate_pfn_to_page(dst[i]),
			      svmx_backing_page(migrate_pfn_to_page(src[i])));
		mig->bytes += PAGE_SIZE;
	}
}

/*
 * Whether an anonymous folio may be mapped by another address space: it
 * is KSM-merged, or its anon_vma has children, i.e. a process forked from
 * the one that faulted it in still lives (its VMAs may map the folio
 * copy-on-write).  When the child exits or execs, its anon_vma goes and
 * the parent's folios are private again, whatever their PTE bits say.
 *
 * The answer must come from the anon_vma: migrate_vma_setup() has already
 * unmapped the folio from every address space (folio_mapcount() is 0) and
 * turned PageAnonExclusive into the kind of its migration entries.  The
 * folio is locked and isolated, and the caller's VMA (mmap lock held)
 * keeps its anon_vma alive; the counts are read without the anon_vma
 * lock, which is enough for a placement decision.
 */
static bool svmx_anon_maybe_shared(struct folio *folio)
{
	unsigned long mapping = (unsigned long)READ_ONCE(folio->mapping);
	struct anon_vma *av;

	if ((mapping & PAGE_MAPPING_FLAGS) != PAGE_MAPPING_ANON)
		return true;	/* KSM (or not anon at all) */
	av = (struct anon_vma *)(mapping - PAGE_MAPPING_ANON);
	/* Unlocked read (see above): a fork racing with us is seen next time. */
	if (data_race(av->num_children) > 1)
		return true;
	/* Unlocked read as well: several VMAs, maybe of forked processes. */
	return data_race(av->num_active_vmas) > 1;
}

/*
 * Whether a collected system page should move.  Page-cache pages cannot
 * (migrate_vma_pages() keeps them), so they are not copied.  An anonymous
 * page that another address space may map (after fork, KSM) stays in
 * system memory: as a device page it would be shared by several address
 * spaces and every device write would bounce it back; HMM breaks the
 * sharing on the first device write, and the private copy can migrate
 * afterwards.  A page mapped writable is private; a read-only one is
 * private unless svmx_anon_maybe_shared() says otherwise, so the pages of
 * a parent whose child has exited move again without being written first.
 * In a read-only VMA no device write can bounce a page: it moves.
 */
static bool svmx_should_move(unsigned long src, struct vm_area_struct *vma)
{
	struct page *page = migrate_pfn_to_page(src);
	struct folio *folio;

	if (!(src & MIGRATE_PFN_MIGRATE))
		return false;
	if (!page)
		return true;	/* unpopulated: zero-filled on the device */
	folio = page_folio(page);
	/* migrate_vma_pages() refuses page-cache pages for device memory. */
	if (!folio_test_anon(folio))
		return false;
	/* No device write can hit a page of a read-only VMA. */
	if ((src & MIGRATE_PFN_WRITE) || !(vma->vm_flags & VM_WRITE))
		return true;
	return !svmx_anon_maybe_shared(folio);
}

static unsigned long svmx_count_movable(const struct svmx_mig *mig)
{
	unsigned long i, n = 0;

	for (i = 0; i < mig->args.npages; i++)
		n += svmx_should_move(mig->args.src[i], mig->args.vma);
	return n;
}

/*
 * Hand the pages that move destination pages of @block, packed; pages
 * beyond the block's size (more became movable since it was sized) stay.
 */
static void svmx_fill_dst(struct svmx_mig *mig, struct svmx_block *block)
{
	unsigned long i, next = block->pfn, end = block->pfn + (1UL << block->order);

	for (i = 0; i < mig->args.npages; i++) {
		unsigned long s = mig->args.src[i];
		struct page *dpage;

		mig->args.dst[i] = 0;
		if (next == end || !svmx_should_move(s, mig->args.vma))
			continue;
		dpage = pfn_to_page(next++);
		dpage->zone_device_data = block;
		/* The page's reference on the block; page_free drops it. */
		refcount_inc(&block->refs);
		atomic_inc(&block->pages);
		atomic64_inc(&block->sdev->resident);
		zone_device_page_init(dpage);
		mig->args.dst[i] = migrate_pfn(page_to_pfn(dpage)) |
				   (s & MIGRATE_PFN_WRITE);
	}
}

static int svmx_collect_system(struct svmx_mig *mig, struct svmx_device *target,
			       struct vm_area_struct *vma, struct svmx_span span)
{
	unsigned long npages = (span.end - span.start) >> PAGE_SHIFT;
	int ret;

	ret = svmx_mig_alloc(mig, npages);
	if (ret)
		return ret;
	mig->args.vma = vma;
	mig->args.start = span.start;
	mig->args.end = span.end;
	mig->args.pgmap_owner = target->owner;
	mig->args.flags = MIGRATE_VMA_SELECT_SYSTEM;
	ret = migrate_vma_setup(&mig->args);
	if (ret) {
		svmx_mig_free(mig);
		return ret;
	}
	trace_svmx_collect(target->id, span.start, npages, mig->args.cpages);
	return 0;
}

/* Put collected pages back where they were; nothing moves. */
static void svmx_restore(struct svmx_mig *mig)
{
	memset(mig->args.dst, 0, mig->args.npages * sizeof(*mig->args.dst));
	migrate_vma_pages(&mig->args);
	migrate_vma_finalize(&mig->args);
}

static void svmx_mig_done(struct svmx_mig *mig, struct svmx_device *sdev,
			  enum svmx_dir dir, unsigned long start,
			  struct svmx_counters *cnt)
{
	const struct svmx_cost_params *cost = &sdev->cost;
	struct svmx_migrate_done done = {
		.dev = sdev->id,
		.dir = dir,
		.addr = start,
		.pages = mig->migrated,
		.copy_cmds = mig->copy_cmds,
		.bytes = mig->bytes,
		.modeled_ns = svmx_cost_copy(cost, mig->copy_cmds, mig->bytes),
	};

	if (dir == SVMX_DIR_TO_DEVICE) {
		cnt->pages_to_device += mig->migrated;
		cnt->bytes_to_device += mig->bytes;
	} else {
		cnt->pages_to_system += mig->migrated;
		cnt->bytes_to_system += mig->bytes;
	}
	cnt->copy_cmds += mig->copy_cmds;
	cnt->modeled_ns += done.modeled_ns;
	trace_svmx_migrate(sdev->id, dir, start, mig->requested, mig->collected,
			   mig->migrated, mig->copy_cmds, mig->bytes);
	/* A counting pass (svmx_movable_pages()) moves nothing: not a migration. */
	if (mig->migrated)
		svmx_policy_migrate_done(&done);
}

/**
 * svmx_next_order() - the next step of the chunk fallback
 * @order: the order just tried
 *
 * The order asked for, then 64 KiB, then one page.
 *
 * Return: the next order to try, or -1 after the single page.
 */
int svmx_next_order(int order)
{
	if (order > SVMX_MID_ORDER)
		return SVMX_MID_ORDER;
	return order > 0 ? 0 : -1;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_next_order);

/**
 * svmx_movable_pages() - how many pages of a span would move to a device
 * @target: the device
 * @vma: the VMA holding @span; mmap lock held for read
 * @span: the span
 * @cnt: counters of the caller (the collection is traced as a migration
 *	that moved nothing)
 *
 * Collects the span and puts every page back, to learn whether a chunk
 * that is already on the device or cannot move needs room at all.
 *
 * Return: the number of pages, -EINVAL when the VMA cannot migrate
 * (hugetlb, VM_SPECIAL, DAX) or another negative errno.
 */
long svmx_movable_pages(struct svmx_device *target, struct vm_area_struct *vma,
			struct svmx_span span, struct svmx_counters *cnt)
{
	unsigned long movable;
	struct svmx_mig mig;
	int ret;

	ret = svmx_collect_system(&mig, target, vma, span);
	if (ret)
		return ret;
	mig.collected = mig.args.cpages;
	movable = mig.collected ? svmx_count_movable(&mig) : 0;
	svmx_restore(&mig);
	svmx_mig_done(&mig, target, SVMX_DIR_TO_DEVICE, span.start, cnt);
	svmx_mig_free(&mig);
	return movable;
}

/**
 * svmx_migrate_to_device() - migrate a span into a reserved block
 * @ctx: the binding the migration is for (region history)
 * @target: destination device (the faulting device or a hive peer)
 * @vma: VMA holding @span; mmap lock held for read
 * @span: the chunk, within @vma
 * @block: the destination, from svmx_block_reserve(); its reservation
 *	reference is consumed
 * @cnt: counters of the caller
 *
 * The block was reserved before anything is collected, so nothing here
 * evicts or waits for an evictor while source pages are locked.  The block
 * shrinks to the pages that move; pages that cannot move stay where they
 * are.
 *
 * Return: 0 (including when nothing could be collected or the VMA cannot
 * migrate at all), or -ENOMEM when memory for the migration arrays is
 * short (the caller maps the pages where they are).
 */
int svmx_migrate_to_device(struct svmx_ctx *ctx, struct svmx_device *target,
			   struct vm_area_struct *vma, struct svmx_span span,
			   struct svmx_block *block, struct svmx_counters *cnt)
{
	unsigned long movable;
	struct svmx_mig mig;
	int ret;

	mmap_assert_locked(vma->vm_mm);
	ret = svmx_collect_system(&mig, target, vma, span);
	if (ret) {
		svmx_block_put(block);
		return ret == -EINVAL ? 0 : ret;
	}
	mig.collected = mig.args.cpages;
	movable = mig.collected ? svmx_count_movable(&mig) : 0;
	if (!movable) {
		/* Nothing to move: already on a device, or unmovable. */
		svmx_restore(&mig);
		svmx_block_put(block);
		svmx_mig_done(&mig, target, SVMX_DIR_TO_DEVICE, span.start, cnt);
		svmx_mig_free(&mig);
		return 0;
	}
	svmx_block_shrink(block, order_base_2(movable));
	svmx_fill_dst(&mig, block);
	svmx_copy_to_device(&mig);
	migrate_vma_pages(&mig.args);
	mig.migrated = svmx_mig_count(mig.args.src, mig.args.dst, mig.args.npages);
	migrate_vma_finalize(&mig.args);

	svmx_block_publish(block, ctx->id, ctx->cgroup->id, span.start);
	svmx_block_put(block);	/* the reservation's reference */
	svmx_mig_done(&mig, target, SVMX_DIR_TO_DEVICE, span.start, cnt);
	if (mig.migrated)
		svmx_ctx_region_migrated(ctx, span.start, SVMX_DIR_TO_DEVICE, cnt);
	svmx_mig_free(&mig);
	return 0;
}

/* alloc_pages_bulk_array() was renamed alloc_pages_bulk() in 6.14. */
#ifdef alloc_pages_bulk_array
#define svmx_alloc_pages_bulk(gfp, nr, pages) alloc_pages_bulk_array(gfp, nr, pages)
#else
#define svmx_alloc_pages_bulk(gfp, nr, pages) alloc_pages_bulk(gfp, nr, pages)
#endif

/*
 * Give every collected device page in @src a locked system page in @dst,
 * allocated in bulk.  Pages that get none stay on the device (@mig->nomem
 * of @mig->wanted, traced by the caller); fail_sysmem_alloc injects such
 * failures.  Return false when @fault_page, the page of a CPU fault, got
 * none.
 */
static bool svmx_alloc_system(struct svmx_mig *mig, const unsigned long *src,
			      unsigned long *dst, unsigned long npages,
			      struct page *fault_page, gfp_t gfp)
{
	unsigned long i, n = 0, k = 0, failed = 0;
	struct page **pages;
	bool ok = true;

	for (i = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);

		dst[i] = 0;
		if (!spage || !(src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		dst[i] = 1;	/* wanted; replaced below */
		n++;
	}
	mig->collected += n;
	if (!n)
		return true;
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (pages)
		svmx_alloc_pages_bulk((gfp & ~__GFP_NOFAIL) | __GFP_NOWARN, n, pages);
	for (i = 0; i < npages; i++) {
		struct page *spage = migrate_pfn_to_page(src[i]);
		struct page *dpage = NULL;

		if (!dst[i])
			continue;
		if (pages)
			dpage = pages[k++];
		if (!dpage)
			dpage = alloc_page(spage == fault_page ?
					   GFP_HIGHUSER_MOVABLE : gfp | __GFP_NOWARN);
		if (dpage && svmx_fail_sysmem()) {
			__free_page(dpage);
			dpage = NULL;
		}
		if (!dpage) {
			ok &= spage != fault_page;
			dst[i] = 0;
			failed++;
			continue;
		}
		lock_page(dpage);
		dst[i] = migrate_pfn(page_to_pfn(dpage)) | (src[i] & MIGRATE_PFN_WRITE);
	}
	kvfree(pages);
	mig->wanted = n;
	mig->nomem = failed;
	return ok;
}

/**
 * svmx_migrate_hive_to_system() - bring a device's and its hive's pages back
 * @sdev: the device; every page with its pgmap owner moves
 * @vma: the VMA; mmap lock held for read
 * @start: page-aligned start within @vma
 * @end: page-aligned end within @vma
 * @fault_page: the page of a CPU fault, or NULL
 * @cnt: counters of the caller
 *
 * Return: 0, -ENOMEM when @fault_page got no system page, or an errno.
 */
int svmx_migrate_hive_to_system(struct svmx_device *sdev,
				struct vm_area_struct *vma, unsigned long start,
				unsigned long end, struct page *fault_page,
				struct svmx_counters *cnt)
{
	struct svmx_mig mig;
	int ret;

	ret = svmx_mig_alloc(&mig, (end - start) >> PAGE_SHIFT);
	if (ret)
		return ret;
	mig.args.vma = vma;
	mig.args.start = start;
	mig.args.end = end;
	mig.args.pgmap_owner = sdev->owner;
	mig.args.flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
	mig.args.fault_page = fault_page;
	ret = migrate_vma_setup(&mig.args);
	if (ret == -EINVAL)
		ret = 0;	/* hugetlb, VM_SPECIAL, DAX: nothing of ours */
	if (ret)
		goto out;
	if (!mig.args.cpages) {
		migrate_vma_finalize(&mig.args);
		goto out;
	}
	if (!svmx_alloc_system(&mig, mig.args.src, mig.args.dst, mig.args.npages,
			       fault_page, GFP_HIGHUSER_MOVABLE | __GFP_NORETRY))
		ret = -ENOMEM;
	if (mig.nomem)
		trace_svmx_sysmem_alloc_fail(sdev->id, start, 0, mig.wanted,
					     mig.nomem, ret);
	svmx_copy_to_system(&mig, mig.args.src, mig.args.dst, mig.args.npages);
	migrate_vma_pages(&mig.args);
	mig.migrated = svmx_mig_count(mig.args.src, mig.args.dst, mig.args.npages);
	migrate_vma_finalize(&mig.args);
	svmx_mig_done(&mig, sdev, SVMX_DIR_TO_SYSTEM, start, cnt);
out:
	svmx_mig_free(&mig);
	return ret;
}

/**
 * svmx_migrate_to_system() - bring every svmx page of a range back
 * @vma: the VMA; mmap lock held for read
 * @start: page-aligned start within @vma
 * @end: page-aligned end within @vma
 * @cnt: counters of the caller
 *
 * Pages of every svmx device are migrated, one pgmap owner at a time.
 *
 * Return: 0 or a negative errno.
 */
int svmx_migrate_to_system(struct vm_area_struct *vma,
			   unsigned long start, unsigned long end,
			   struct svmx_counters *cnt)
{
	unsigned int id;
	int ret = 0;

	for (id = 0; id < svmx_nr_devices && !ret; id++) {
		struct svmx_device *sdev = svmx_device_get(id);

		/* One pass per distinct owner (hive members share theirs),
		 * skipping owners with nothing in device memory.
		 */
		if (!svmx_device_owner_first(id) ||
		    !svmx_owner_resident(sdev->owner))
			continue;
		ret = svmx_migrate_hive_to_system(sdev, vma, start, end, NULL,
						  cnt);
	}
	return ret;
}

/**
 * svmx_migrate_to_ram() - dev_pagemap_ops.migrate_to_ram: a CPU fault
 * @vmf: the fault on a device-private page of an svmx device
 *
 * Also called when another device's hmm_range_fault() needs the page (a
 * device outside this device's hive): such remote faults (like accesses
 * through process_vm_readv() or ptrace, which carry the same flag) are
 * bounces through system memory, counted neither as CPU faults nor in the
 * region history.
 *
 * Brings back the policy's aligned chunk around the fault (only the
 * faulting page must succeed) and counts the direction change of the
 * region for ping-pong detection.
 *
 * Return: 0, VM_FAULT_SIGBUS or VM_FAULT_OOM.
 */
vm_fault_t svmx_migrate_to_ram(struct vm_fault *vmf)
{
	struct svmx_device *sdev = svmx_page_device(vmf->page);
	struct vm_area_struct *vma = vmf->vma;
	struct svmx_cpu_fault_info info = {
		.dev = sdev->id,
		.addr = vmf->address,
		.vma_start = vma->vm_start,
		.vma_end = vma->vm_end,
		.access = (vmf->flags & FAULT_FLAG_WRITE) ? SVMX_ACCESS_WRITE :
							    SVMX_ACCESS_READ,
		.cgroup_id = svmx_mm_cgroup_id(sdev, vma->vm_mm, vmf->address),
	};
	/* HMM faults device pages of other owners back for a device: a bounce */
	bool cpu = !(vmf->flags & FAULT_FLAG_REMOTE);
	struct svmx_counters cnt = { .cpu_faults = cpu };
	struct svmx_span span;
	u32 order;
	int ret;

	if (cpu)
		svmx_region_fault(sdev, vma->vm_mm, vmf->address,
				  SVMX_DIR_TO_SYSTEM, &info);
	order = svmx_policy_cpu_fault(sdev, &info, &cnt);
	span = svmx_chunk_around(vmf->address, order, vma->vm_start, vma->vm_end);
	ret = svmx_migrate_hive_to_system(sdev, vma, span.start, span.end,
					  vmf->page, &cnt);
	trace_svmx_cpu_fault(sdev->id, vmf->address, cpu, order,
			     cnt.pages_to_system, ret, info.access);
	if (cpu && cnt.pages_to_system)
		svmx_region_migrated(sdev, vma->vm_mm, vmf->address,
				     SVMX_DIR_TO_SYSTEM, &cnt);
	svmx_mm_account(sdev, vma->vm_mm, vmf->address, &cnt);
	svmx_device_account(sdev, &cnt);
	if (ret == -ENOMEM)
		return VM_FAULT_OOM;
	return ret ? VM_FAULT_SIGBUS : 0;
}

/**
 * svmx_migrate_block_to_system() - migrate every page of a block back
 * @block: the block; the caller holds a reference
 * @moved: out: pages moved
 * @passes: out: passes over the block's pages
 * @cnt: counters of the caller (pages and bytes to system, copies)
 *
 * Uses the block's own pfns (migrate_device_range()), so no mmap lock and
 * no knowledge of the owning ranges is needed.  Pages that are busy
 * (locked by a concurrent migration or fault) are retried, up to
 * SVMX_EVICT_RETRIES passes.
 *
 * Return: 0 when the block holds no page any more; otherwise -ENOMEM when
 * the last pass could not get system pages for some of them, -EBUSY when
 * they were busy.
 */
int svmx_migrate_block_to_system(struct svmx_block *block, unsigned long *moved,
				 unsigned int *passes, struct svmx_counters *cnt)
{
	struct svmx_device *sdev = block->sdev;
	unsigned long npages = 1UL << block->order;
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NOWARN;
	unsigned int attempt;
	struct svmx_mig mig;
	int ret = 0;

	*moved = 0;
	if (svmx_mig_alloc(&mig, npages))
		return -ENOMEM;
	for (attempt = 0; refcount_read(&block->refs) > 1; attempt++) {
		unsigned long *src = mig.args.src, *dst = mig.args.dst;

		if (attempt == SVMX_EVICT_RETRIES) {
			ret = mig.nomem ? -ENOMEM : -EBUSY;
			break;
		}
		if (attempt)
			cond_resched();
		migrate_device_range(src, block->pfn, npages);
		svmx_alloc_system(&mig, src, dst, npages, NULL, gfp);
		if (mig.nomem)
			trace_svmx_sysmem_alloc_fail(sdev->id, 0, block->pfn,
						     mig.wanted, mig.nomem, 0);
		svmx_copy_to_system(&mig, src, dst, npages);
		migrate_device_pages(src, dst, npages);
		*moved += svmx_mig_count(src, dst, npages);
		migrate_device_finalize(src, dst, npages);
	}
	*passes = attempt;
	mig.migrated = *moved;
	svmx_mig_done(&mig, sdev, SVMX_DIR_TO_SYSTEM, block->pfn << PAGE_SHIFT, cnt);
	svmx_mig_free(&mig);
	return ret;
}
