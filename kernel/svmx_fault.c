// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Device faults
 *
 * The execution engine queues device faults in a fault buffer and hands
 * them over in batches, like a GPU's fault buffer.  A batch is serviced
 * under the mmap lock held for read: for each faulting chunk the policy
 * decides placement and granularity, the chunk is migrated (best effort),
 * optional prefetch ranges follow, and then the chunk is mapped.
 *
 * Mapping publishes device page-table entries from hmm_range_fault():
 * pages of the chunk that are present are mapped as they are - system
 * pages, this device's pages, or a hive peer's pages (same pgmap owner, so
 * HMM returns them instead of migrating them) - so placement is per page
 * and whatever did not migrate is simply mapped where it is.  Faults are
 * requested for the faulting pages only (HMM may fault in their neighbours
 * within one page-table walk step; those are mapped too).  Entries are
 * published under @pt_lock after mmu_interval_read_retry(); an
 * invalidation in between restarts the walk.
 */
#include <kunit/visibility.h>
#include <linux/hmm.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "svmx.h"
#include "svmx_trace.h"

static unsigned int prefetch_budget_kb = 4096;
module_param(prefetch_budget_kb, uint, 0644);
MODULE_PARM_DESC(prefetch_budget_kb,
		 "bytes (KiB) a policy's prefetch ranges may ask per device fault, after clipping to their VMAs (default 4096)");

static enum svmx_mem_kind svmx_page_kind(struct svmx_device *sdev,
					 struct page *page)
{
	if (!is_device_private_page(page))
		return SVMX_MEM_SYSTEM;
	return svmx_page_device(page) == sdev ? SVMX_MEM_LOCAL : SVMX_MEM_PEER;
}

/* Publish valid entries of @pfns; pt_lock held, svmx_pt_ready(). */
static void svmx_publish(struct svmx_ctx *ctx, unsigned long start,
			 const unsigned long *pfns, unsigned long npages)
{
	unsigned long i, nr_sys = 0, nr_peer = 0;

	for (i = 0; i < npages; i++) {
		struct page *page;

		if (!(pfns[i] & HMM_PFN_VALID))
			continue;
		page = hmm_pfn_to_page(pfns[i]);
		svmx_pt_set(ctx, start + i * PAGE_SIZE, page,
			    pfns[i] & HMM_PFN_WRITE);
		switch (svmx_page_kind(ctx->sdev, page)) {
		case SVMX_MEM_SYSTEM:
			nr_sys++;
			break;
		case SVMX_MEM_PEER:
			nr_peer++;
			break;
		default:
			break;
		}
	}
	if (nr_sys || nr_peer)
		trace_svmx_remote_map(ctx->sdev->id, start, npages, nr_sys, nr_peer);
}

/*
 * The fallback of svmx_unshare(): fault the page in as a stranger to its
 * pgmap owner would.  HMM then hands the fault to the kernel's fault path:
 * migrate_to_ram() brings the page back with a blocking allocation for it
 * (the faulting page of a CPU fault), and the write fault breaks the
 * copy-on-write sharing.  Return 0 or a negative errno.
 */
static int svmx_unshare_fault(struct svmx_ctx *ctx, unsigned long addr)
{
	unsigned long pfn = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
	struct hmm_range range = {
		.notifier = &ctx->notifier,
		.start = addr,
		.end = addr + PAGE_SIZE,
		.hmm_pfns = &pfn,
		.default_flags = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
		.dev_private_owner = NULL,
	};
	unsigned long deadline = jiffies + SVMX_RETRY_TIMEOUT;
	int ret;

	for (;;) {
		range.notifier_seq = mmu_interval_read_begin(range.notifier);
		ret = hmm_range_fault(&range);
		if (ret != -EBUSY)
			return ret;
		ret = svmx_retry_stop(deadline);
		if (ret)
			return ret;
	}
}

/*
 * HMM hands a device its own device-private pages as they are, even when
 * write access was requested: a page shared read-only after fork stays
 * read-only.  Such pages of a write fault go back to system memory, where
 * the next hmm_range_fault() breaks the copy-on-write sharing.
 *
 * The migration back is best effort (its allocation does not retry): when
 * it moves nothing, the page is faulted back through the kernel's fault
 * path instead (svmx_unshare_fault()), which waits for memory.  So every
 * page is either moved or reported.
 *
 * Return: 1 when pages moved and the walk must be redone, 0 when there was
 * nothing to unshare, or a negative errno when a page could not be moved.
 */
static int svmx_unshare(struct svmx_ctx *ctx, unsigned long start,
			unsigned long end, const unsigned long *pfns,
			const struct svmx_fault *faults, unsigned int nr,
			struct svmx_counters *cnt)
{
	struct vm_area_struct *vma = NULL;
	int moved = 0, ret;
	unsigned int i;

	for (i = 0; faults && i < nr; i++) {
		unsigned long addr = faults[i].addr, pfn;
		u64 before = cnt->pages_to_system;
		bool fallback = false;

		if (faults[i].access == SVMX_ACCESS_READ || addr < start ||
		    addr >= end)
			continue;
		pfn = pfns[(addr - start) >> PAGE_SHIFT];
		if (!(pfn & HMM_PFN_VALID) || (pfn & HMM_PFN_WRITE) ||
		    !is_device_private_page(hmm_pfn_to_page(pfn)))
			continue;
		vma = vma ? vma : vma_lookup(ctx->mm, start);
		if (!vma || addr >= vma->vm_end)
			continue;
		ret = svmx_migrate_hive_to_system(ctx->sdev, vma, addr,
						  addr + PAGE_SIZE, NULL, cnt);
		if (!ret && cnt->pages_to_system == before) {
			fallback = true;
			ret = svmx_unshare_fault(ctx, addr);
		}
		trace_svmx_unshare(ctx->sdev->id, addr,
				   cnt->pages_to_system - before, fallback, ret);
		if (ret)
			return ret;
		moved = 1;
	}
	return moved;
}

/**
 * svmx_map_range() - map a range into the device page table
 * @ctx: the context; mmap lock held for read
 * @start: page-aligned start, within one VMA
 * @end: page-aligned end
 * @faults: faults to satisfy (faulted in with their access), may be NULL
 * @nr: number of @faults (entries outside the range are ignored)
 * @cnt: counters of the caller
 *
 * Return: 0, or a negative errno from hmm_range_fault() (-EFAULT when a
 * faulting page cannot be made accessible, also when a shared device page
 * of a write fault could not be given a system page), -EAGAIN when
 * invalidations kept racing for SVMX_RETRY_TIMEOUT, -EINTR, -ENOMEM.
 */
int svmx_map_range(struct svmx_ctx *ctx, unsigned long start, unsigned long end,
		   const struct svmx_fault *faults, unsigned int nr,
		   struct svmx_counters *cnt)
{
	unsigned long npages = (end - start) >> PAGE_SHIFT, i;
	struct hmm_range range = {
		.notifier = &ctx->notifier,
		.start = start,
		.end = end,
		.pfn_flags_mask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE,
		.dev_private_owner = ctx->sdev->owner,
	};
	unsigned long deadline = jiffies + SVMX_RETRY_TIMEOUT;
	int ret;

	mmap_assert_locked(ctx->mm);
	range.hmm_pfns = kvcalloc(npages, sizeof(*range.hmm_pfns), GFP_KERNEL);
	if (!range.hmm_pfns)
		return -ENOMEM;
	ret = svmx_pt_prepare(ctx, start, end);
	if (ret)
		goto out;

	while (!(ret = svmx_retry_stop(deadline))) {
		memset(range.hmm_pfns, 0, npages * sizeof(*range.hmm_pfns));
		for (i = 0; faults && i < nr; i++) {
			if (faults[i].addr < start || faults[i].addr >= end)
				continue;
			range.hmm_pfns[(faults[i].addr - start) >> PAGE_SHIFT] |=
				HMM_PFN_REQ_FAULT |
				(faults[i].access != SVMX_ACCESS_READ ?
				 HMM_PFN_REQ_WRITE : 0);
		}
		range.notifier_seq = mmu_interval_read_begin(range.notifier);
		ret = hmm_range_fault(&range);
		if (ret == -EBUSY)
			continue;
		if (ret)
			break;
		ret = svmx_unshare(ctx, start, end, range.hmm_pfns, faults, nr, cnt);
		if (ret < 0)
			break;
		if (ret)
			continue;
		mutex_lock(&ctx->pt_lock);
		if (mmu_interval_read_retry(range.notifier, range.notifier_seq)) {
			mutex_unlock(&ctx->pt_lock);
			continue;
		}
		/* An invalidation may have freed leaves prepared above. */
		if (!svmx_pt_ready(ctx, start, end)) {
			mutex_unlock(&ctx->pt_lock);
			ret = svmx_pt_prepare(ctx, start, end);
			if (ret)
				break;
			continue;
		}
		svmx_publish(ctx, start, range.hmm_pfns, npages);
		mutex_unlock(&ctx->pt_lock);
		break;
	}
out:
	kvfree(range.hmm_pfns);
	return ret;
}

static enum svmx_vma_kind svmx_vma_kind(struct vm_area_struct *vma)
{
	if (vma_is_anonymous(vma))
		return SVMX_VMA_ANON;
	/* vma_is_shmem() is not exported; shmem_mapping() is. */
	if ((vma->vm_flags & VM_SHARED) && vma->vm_file &&
	    shmem_mapping(vma->vm_file->f_mapping))
		return SVMX_VMA_SHARED;
	return SVMX_VMA_FILE;
}

/*
 * The fault inputs beyond the first slice: VMA kind, the region's
 * residency (one pass over its device page-table leaf), free memory of the
 * device and its hive peers (a walk of each pool's bitmap, stopping at the
 * first free 2 MiB), the binding's handle.
 */
static void svmx_fault_info_fill_more(struct svmx_ctx *ctx,
				      struct vm_area_struct *vma,
				      const struct svmx_fault *f,
				      struct svmx_fault_info *info)
{
	struct svmx_device *sdev = ctx->sdev;
	unsigned int id;

	info->vma_kind = svmx_vma_kind(vma);
	svmx_pt_residency(ctx, f->addr, &info->region);
	info->dev_free_order = svmx_devmem_free_order(sdev);
	for (id = 0; id < SVMX_MAX_DEVICES; id++) {
		struct svmx_device *d;

		info->peer_free_order[id] = -1;
		if (id == sdev->id) {
			info->peer_free_bytes[id] = info->dev_free_bytes;
			info->peer_free_order[id] = info->dev_free_order;
			continue;
		}
		if (id >= svmx_nr_devices || !(sdev->hive_mask & BIT(id)))
			continue;
		d = svmx_device_get(id);
		info->peer_free_bytes[id] = svmx_devmem_free_bytes(d);
		info->peer_free_order[id] = svmx_devmem_free_order(d);
	}
	info->ctx_handle = ctx->id;
}

static void svmx_fault_info_fill(struct svmx_ctx *ctx, struct vm_area_struct *vma,
				 const struct svmx_fault *f, unsigned int nr,
				 struct svmx_fault_info *info)
{
	struct svmx_device *sdev = ctx->sdev;

	memset(info, 0, sizeof(*info));
	info->dev = sdev->id;
	info->access = f->access;
	info->addr = f->addr;
	info->vma_start = vma->vm_start;
	info->vma_end = vma->vm_end;
	info->batch_faults = nr;
	info->region_pingpong = svmx_region_pingpong(ctx, f->addr,
						     &info->region_device_faults,
						     &info->region_cpu_faults);
	info->hive_mask = sdev->hive_mask;
	info->dev_free_bytes = svmx_devmem_free_bytes(sdev);
	info->dev_total_bytes = (u64)sdev->npages << PAGE_SHIFT;
	svmx_advice_get(ctx, f->addr, info);
	svmx_fault_info_fill_more(ctx, vma, f, info);
	info->cgroup_id = ctx->cgroup->id;
}

/**
 * svmx_vma_allows() - whether a VMA permits a device access
 * @vma: the VMA
 * @access: enum svmx_access; writes and atomics need read and write
 *
 * Return: true when allowed.
 */
bool svmx_vma_allows(struct vm_area_struct *vma, u32 access)
{
	if (access == SVMX_ACCESS_READ)
		return vma->vm_flags & VM_READ;
	return (vma->vm_flags & (VM_READ | VM_WRITE)) == (VM_READ | VM_WRITE);
}

/*
 * Migrate the chunk of @order around @addr to @target for @ctx: make the
 * region's history slot ready (it is what unbinding gives back, so without
 * it nothing moves), reserve the destination block - evicting for room if
 * need be - and only then collect and migrate.  When no block can be had
 * even after eviction, the chunk shrinks to 64 KiB, then to the single
 * page.  @limit clips the chunk as well as the VMA (an explicit or policy
 * prefetch moves no more than was asked; evictions for it count as
 * prefetch evictions), or is NULL for a device fault.  *@done is the span
 * attempted, *@got the order of the block reserved for it (-1: none, as
 * when nothing would move).  Return 0 (also when nothing would move) or -ENOMEM when not
 * even a one-page block could be had; the caller maps the pages where they
 * are.
 */
static int svmx_migrate_chunk(struct svmx_ctx *ctx, struct svmx_device *target,
			      struct vm_area_struct *vma, unsigned long addr,
			      unsigned int order, const struct svmx_span *limit,
			      struct svmx_span *done, int *got,
			      struct svmx_counters *cnt)
{
	enum svmx_evict_reason reason = limit ? SVMX_EVICT_PREFETCH :
						SVMX_EVICT_PRESSURE;
	unsigned long lo = vma->vm_start, hi = vma->vm_end;
	struct svmx_block *block = ERR_PTR(-ENOSPC);
	int o, ret;

	*got = -1;
	ret = svmx_ctx_region_prepare(ctx, addr, target);
	if (ret)
		return ret;
	if (limit) {
		lo = max(lo, limit->start);
		hi = min(hi, limit->end);
	}
	for (o = order; o >= 0; o = svmx_next_order(o)) {
		*done = svmx_chunk_around(addr, o, lo, hi);
		block = svmx_reserve_chunk(target, vma, *done, reason, cnt);
		if (!block)
			return 0;	/* nothing would move */
		if (!IS_ERR(block))
			break;
	}
	if (IS_ERR(block))
		return -ENOMEM;
	*got = o;
	return svmx_migrate_to_device(ctx, target, vma, *done, block, cnt);
}

/*
 * Check one prefetch range against what the kernel allows: a start inside
 * a private anonymous VMA that allows device reads (migration reads the
 * pages), clipped to that VMA's end and to what is left of the per-fault
 * budget (svmx.prefetch_budget_kb, counted in bytes asked after clipping).
 * Refused and clipped ranges are counted in @fd and traced.  Return the
 * VMA with the kept range in *@keep, or NULL when it is refused.
 */
static struct vm_area_struct *
svmx_prefetch_check(struct svmx_ctx *ctx, const struct svmx_fault_info *info,
		    u64 start, u64 len, u64 *budget, struct svmx_span *keep,
		    struct svmx_fault_done *fd)
{
	struct vm_area_struct *vma = vma_lookup(ctx->mm, start);
	int verdict = -1;
	u64 end = start + len;

	if (!vma)
		verdict = SVMX_PF_NO_VMA;
	else if (!vma_is_anonymous(vma))
		verdict = SVMX_PF_NOT_ANON;
	else if (!svmx_vma_allows(vma, SVMX_ACCESS_READ))
		verdict = SVMX_PF_NO_READ;
	else if (*budget < PAGE_SIZE)
		verdict = SVMX_PF_BUDGET;
	if (verdict >= 0) {
		fd->prefetch_refused++;
		trace_svmx_prefetch_check(ctx->sdev->id, info->addr, start, len, 0,
					  verdict);
		return NULL;
	}
	if (end > vma->vm_end) {
		end = vma->vm_end;
		verdict = SVMX_PF_VMA_END;
	}
	if (end - start > *budget) {
		end = start + *budget;	/* the budget is in whole pages */
		verdict = SVMX_PF_BUDGET;
	}
	if (verdict >= 0) {
		fd->prefetch_clipped++;
		trace_svmx_prefetch_check(ctx->sdev->id, info->addr, start, len,
					  end - start, verdict);
	}
	*budget -= end - start;
	keep->start = start;
	keep->end = end;
	return vma;
}

/*
 * The policy's prefetch ranges, checked by svmx_prefetch_check().
 * Prefetch is best effort: it stops at the first range that cannot be
 * migrated or mapped; only -EINTR (the caller is being killed) is
 * returned.
 */
static int svmx_prefetch_ranges(struct svmx_ctx *ctx,
				const struct svmx_fault_info *info,
				struct svmx_device *target,
				struct svmx_fault_done *fd,
				struct svmx_counters *cnt)
{
	u64 budget = ((u64)READ_ONCE(prefetch_budget_kb) << 10) & PAGE_MASK;
	u64 before = cnt->pages_to_device;
	struct svmx_span limit, done;
	struct svmx_prefetch p;
	int ret = 0, got;
	u32 i;

	svmx_policy_prefetch(ctx->sdev, info, target->id, &p, cnt);
	target = svmx_device_get(p.target);
	for (i = 0; i < p.nr && !ret; i++) {
		struct vm_area_struct *vma;
		unsigned long addr;

		vma = svmx_prefetch_check(ctx, info, p.range[i].start,
					  p.range[i].len, &budget, &limit, fd);
		if (!vma)
			continue;
		addr = limit.start;
		while (addr < limit.end && !ret) {
			ret = svmx_migrate_chunk(ctx, target, vma, addr,
						 p.order, &limit, &done, &got,
						 cnt);
			if (!ret)
				ret = svmx_map_range(ctx, done.start, done.end,
						     NULL, 0, cnt);
			addr = done.end;
		}
	}
	fd->prefetch_pages = cnt->pages_to_device - before;
	return ret == -EINTR ? ret : 0;
}

static int svmx_service_one(struct svmx_ctx *ctx, const struct svmx_fault *f,
			    const struct svmx_fault *batch, unsigned int nr,
			    u64 batch_id, bool in_place,
			    struct svmx_counters *cnt)
{
	struct svmx_device *sdev = ctx->sdev, *target = sdev;
	struct svmx_fault_done fd = { .got_order = -1 };
	struct svmx_fault_decision d;
	struct svmx_fault_info info;
	struct vm_area_struct *vma;
	struct svmx_span span;
	u64 t0 = ktime_get_ns();
	int ret = 0;

	vma = vma_lookup(ctx->mm, f->addr);
	if (!vma || !svmx_vma_allows(vma, f->access))
		return -EFAULT;
	svmx_fault_info_fill(ctx, vma, f, nr, &info);
	info.batch_id = batch_id;
	info.batch_index = f - batch;
	svmx_policy_fault(sdev, &info, &d, cnt);
	fd.asked_order = d.order;
	if (in_place && d.placement != SVMX_PLACE_REMOTE) {
		/* Forward progress overrides the policy: say so. */
		trace_svmx_progress_override(sdev->id, f->addr, f->access,
					     d.placement, d.target, d.order);
		d.placement = SVMX_PLACE_REMOTE;
		fd.overridden = 1;
	}
	span = svmx_chunk_around(f->addr, d.order, vma->vm_start, vma->vm_end);

	if (d.placement == SVMX_PLACE_MIGRATE) {
		u64 before = cnt->pages_to_device;
		struct svmx_span done;

		target = svmx_device_get(d.target);
		/*
		 * The chunk actually attempted may be smaller (fallback); when
		 * no block could be had at all, the chunk is mapped in place.
		 */
		if (!svmx_migrate_chunk(ctx, target, vma, f->addr, d.order,
					NULL, &done, &fd.got_order, cnt))
			span = done;
		fd.pages_migrated = cnt->pages_to_device - before;
	}
	ret = svmx_map_range(ctx, span.start, span.end, batch, nr, cnt);
	if (!ret && d.placement == SVMX_PLACE_MIGRATE)
		ret = svmx_prefetch_ranges(ctx, &info, target, &fd, cnt);
	svmx_ctx_region_fault(ctx, f->addr);
	trace_svmx_fault(sdev->id, f->addr, f->access, d.placement, d.order,
			 span.start, span.end, ktime_get_ns() - t0, ret);
	fd.dev = sdev->id;
	fd.access = f->access;
	fd.addr = f->addr;
	fd.ctx_handle = ctx->id;
	fd.cgroup_id = ctx->cgroup->id;
	fd.placement = d.placement;
	fd.target = d.target;
	fd.ret = ret;
	trace_svmx_fault_done(&fd);
	svmx_policy_fault_done(&fd);
	return ret;
}

/**
 * svmx_service_faults() - service a batch from the device fault buffer
 * @ctx: the context; called from the owning process, no lock held
 * @faults: the batch, page-aligned addresses
 * @nr: entries in the batch
 * @in_place: map the pages where they are, whatever the policy says (the
 *	forward-progress guarantee of the execution engine)
 * @cnt: counters of the caller
 *
 * Faults already satisfied by an earlier chunk of the batch are skipped.
 * The policy sees each fault's batch (&svmx_fault_info.batch_id, a count
 * per binding) and its index in it.
 *
 * Return: 0 or a negative errno (-EFAULT: an address is not accessible
 * with the faulting access).
 */
int svmx_service_faults(struct svmx_ctx *ctx, struct svmx_fault *faults,
			unsigned int nr, bool in_place, struct svmx_counters *cnt)
{
	const struct svmx_cost_params *cost = &ctx->sdev->cost;
	/* Several threads may run work of one binding: one id each batch. */
	u64 batch_id = atomic64_inc_return(&ctx->fault_batches);
	unsigned int i;
	int ret = 0;

	cnt->fault_batches++;
	cnt->faults += nr;
	cnt->modeled_ns += svmx_cost_fault_batch(cost, nr);

	mmap_read_lock(ctx->mm);
	for (i = 0; i < nr && !ret; i++) {
		bool mapped;

		mutex_lock(&ctx->pt_lock);
		mapped = svmx_pt_translate(ctx, faults[i].addr, faults[i].access);
		mutex_unlock(&ctx->pt_lock);
		if (!mapped)
			ret = svmx_service_one(ctx, &faults[i], faults, nr,
					       batch_id, in_place, cnt);
	}
	mmap_read_unlock(ctx->mm);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_service_faults);

/**
 * svmx_prefetch_ioctl() - SVMX_IOC_MIGRATE: explicit migration of a range
 * @ctx: the context
 * @m: the request; range and target already validated
 *
 * To the device: 2 MiB chunks, best effort, mapped afterwards (when the
 * device is full, the rest of that VMA is skipped).  To system: every svmx
 * page of the range.  Holes between VMAs are skipped.
 *
 * The mmap lock is taken for one 2 MiB piece at a time and the VMA is
 * looked up again after it is retaken, so that a long migration never
 * starves the writers of the address space (mmap, munmap, mprotect), and
 * stays killable.
 *
 * Return: 0, -EFAULT if no part of the range is mapped, or an errno.
 */
int svmx_prefetch_ioctl(struct svmx_ctx *ctx, struct svmx_migrate *m)
{
	unsigned long addr = m->addr, end = m->addr + m->length;
	struct svmx_counters *cnt = &m->counters;
	bool any = false;
	int ret = 0;

	while (addr < end && !ret) {
		struct svmx_span limit = { m->addr, end }, done;
		struct vm_area_struct *vma;

		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
		mmap_read_lock(ctx->mm);
		vma = find_vma_intersection(ctx->mm, addr, end);
		if (!vma) {
			mmap_read_unlock(ctx->mm);
			break;
		}
		addr = max(addr, vma->vm_start);
		any = true;
		if (m->target == SVMX_TARGET_SYSTEM) {
			done.end = min3(end, vma->vm_end,
					ALIGN(addr + 1, PAGE_SIZE << SVMX_CHUNK_ORDER));
			ret = svmx_migrate_to_system(vma, addr, done.end, cnt);
			addr = done.end;
		} else {
			int got;

			ret = svmx_migrate_chunk(ctx, ctx->sdev, vma, addr,
						 SVMX_CHUNK_ORDER, &limit, &done,
						 &got, cnt);
			if (ret == -ENOMEM) {
				/* best effort: device full, skip this VMA */
				ret = 0;
				done.end = min(end, vma->vm_end);
			} else if (!ret && svmx_vma_allows(vma, SVMX_ACCESS_READ)) {
				ret = svmx_map_range(ctx, done.start, done.end,
						     NULL, 0, cnt);
			}
			addr = done.end;
		}
		mmap_read_unlock(ctx->mm);
	}
	if (!ret && !any)
		ret = -EFAULT;
	return ret;
}

/* One snapshot pass with one pgmap owner over [start, end) of one VMA. */
static int svmx_snapshot_pass(struct svmx_ctx *ctx, void *owner,
			      unsigned long start, unsigned long end,
			      unsigned long *pfns)
{
	struct hmm_range range = {
		.notifier = &ctx->notifier,
		.start = start,
		.end = end,
		.hmm_pfns = pfns,
		.dev_private_owner = owner,
	};
	int ret;

	unsigned long deadline = jiffies + SVMX_RETRY_TIMEOUT;

	do {
		memset(pfns, 0, ((end - start) >> PAGE_SHIFT) * sizeof(*pfns));
		range.notifier_seq = mmu_interval_read_begin(range.notifier);
		ret = hmm_range_fault(&range);
	} while (ret == -EBUSY && !svmx_retry_stop(deadline));
	return ret;
}

static u8 svmx_snap_code(struct svmx_ctx *ctx, unsigned long pfn, u8 *peer)
{
	struct page *page = hmm_pfn_to_page(pfn);
	u8 code = SVMX_SNAP_READ | ((pfn & HMM_PFN_WRITE) ? SVMX_SNAP_WRITE : 0);

	if (!is_device_private_page(page))
		return code | SVMX_SNAP_SYSTEM;
	/* No reference on @page: its block may be freed under us. */
	*peer = svmx_page_device(page)->id;
	return code | (*peer == ctx->sdev->id ? SVMX_SNAP_LOCAL : SVMX_SNAP_PEER);
}

/**
 * svmx_snapshot() - per-page placement of a range, without faulting
 * @ctx: the context
 * @start: page-aligned start
 * @npages: pages
 * @loc: out: SVMX_SNAP_* codes
 * @peer: out: device index per page (0xff when not in device memory)
 *
 * Return: 0 or -ENOMEM.
 */
int svmx_snapshot(struct svmx_ctx *ctx, unsigned long start,
		  unsigned long npages, u8 *loc, u8 *peer)
{
	unsigned long end = start + (npages << PAGE_SHIFT), addr = start, i;
	struct vm_area_struct *vma;
	unsigned long *pfns;
	unsigned int id;

	memset(loc, SVMX_SNAP_NONE, npages);
	memset(peer, 0xff, npages);
	pfns = kvcalloc(min(npages, 512UL), sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;

	mmap_read_lock(ctx->mm);
	while (addr < end) {
		unsigned long stop, off;

		vma = find_vma_intersection(ctx->mm, addr, end);
		if (!vma)
			break;
		addr = max(addr, vma->vm_start);
		stop = min3(end, vma->vm_end, addr + 512 * PAGE_SIZE);
		off = (addr - start) >> PAGE_SHIFT;
		/* Device pages are only reported to their owner: one pass
		 * per owner; a page seen in any pass is recorded.
		 */
		for (id = 0; id < svmx_nr_devices; id++) {
			void *owner = svmx_device_get(id)->owner;

			if (!svmx_device_owner_first(id))
				continue;
			if (svmx_snapshot_pass(ctx, owner, addr, stop, pfns))
				break;	/* PROT_NONE and the like: NONE */
			for (i = 0; i < (stop - addr) >> PAGE_SHIFT; i++)
				if ((pfns[i] & HMM_PFN_VALID) &&
				    loc[off + i] == SVMX_SNAP_NONE)
					loc[off + i] = svmx_snap_code(ctx, pfns[i],
								      &peer[off + i]);
		}
		addr = stop;
	}
	mmap_read_unlock(ctx->mm);

	for (i = 0; i < npages; i++) {
		unsigned long pte;

		/* A leaf at a time: the notifier never waits long. */
		if (i % SVMX_PT_LEAF_ENTRIES == 0) {
			if (i)
				mutex_unlock(&ctx->pt_lock);
			cond_resched();
			mutex_lock(&ctx->pt_lock);
		}
		pte = svmx_pt_get(ctx, start + i * PAGE_SIZE);
		if (!pte)
			continue;
		loc[i] |= SVMX_SNAP_DEV_MAPPED;
		if (pte & SVMX_PTE_WRITE)
			loc[i] |= SVMX_SNAP_DEV_WRITE;
	}
	mutex_unlock(&ctx->pt_lock);
	kvfree(pfns);
	return 0;
}
