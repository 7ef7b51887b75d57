// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Execution engine
 *
 * The virtual device executes user-submitted operations through its own
 * page table, one page-sized piece at a time, the way a GPU's memory
 * pipeline would: a piece whose page is not mapped (or not writable for a
 * write or atomic) raises a device fault.  The engine then fills a fault
 * buffer with that fault and the faults of the pieces that follow in the
 * same operation (up to SVMX_FAULT_BATCH pages), hands the batch to the
 * fault handler and retries.
 *
 * Progress is guaranteed: when a piece still faults after
 * SVMX_MIGRATE_ROUNDS rounds (its pages were migrated and evicted again
 * before it could run, say), its next faults are mapped where the pages
 * are, without migration.
 *
 * A piece touches memory with the device page-table lock held, through the
 * mapped page itself: the system page for system memory, the backing page
 * for device memory.  The lock is dropped between pieces, so an
 * invalidation waits for at most one piece and device work never delays
 * reclaim or an mmu notifier for longer than that: the queue is preempted,
 * the mapping is invalidated, the work resumes and faults again.
 *
 * A piece that writes (WRITE, FILL, ATOMIC_ADD, the destination of COPY)
 * dirties the system page it wrote, the way the dirty bit of a CPU page
 * table entry would: the CPU mapping of a page read back from swap, or of
 * a shared memory page read by the CPU, can be writable and clean, and
 * reclaim drops a clean page without writing it back (see
 * svmx_page_written()).
 *
 * A fatal signal stops the work before its next piece (-EINTR): pieces
 * over memory the device maps never fault, so the checks of the fault
 * path alone would let a call of 4096 operations of 4 GiB run to its end.
 *
 * Every return reports how far the work got (struct svmx_exec: operations
 * done, the failing operation and the part of it that ran), so that a
 * failed batch with ATOMIC_ADD can be resumed without applying any piece
 * twice.
 *
 * Every piece is charged to the modeled device clock by where its page
 * lives (local, peer or system memory): one access latency per piece (the
 * accesses within a page are pipelined) plus its bytes at that memory's
 * bandwidth.  Accesses are counted one per piece, or one per element for
 * ATOMIC_ADD.
 */
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "svmx.h"
#include "svmx_trace.h"

/* Fault rounds of one piece before its faults are mapped in place. */
#define SVMX_MIGRATE_ROUNDS	4

/**
 * struct svmx_piece - the part of an operation that touches one page
 * @va: device-visible address
 * @len: bytes, or elements for ATOMIC_ADD
 * @access: enum svmx_access
 * @off: byte (element) offset of the piece within the operation
 * @dst: COPY: this is the destination half
 */
struct svmx_piece {
	unsigned long va;
	u64 len;
	u32 access;
	u64 off;
	bool dst;
};

/**
 * struct svmx_op_iter - walks an operation piece by piece
 * @op: the operation
 * @done: bytes (elements for ATOMIC_ADD) completed
 * @copy_len: COPY: length of the pending destination half, 0 if none
 */
struct svmx_op_iter {
	const struct svmx_op *op;
	u64 done;
	u64 copy_len;
};

static u64 svmx_page_rest(unsigned long va)
{
	return PAGE_SIZE - offset_in_page(va);
}

static bool svmx_iter_next(struct svmx_op_iter *it, struct svmx_piece *p)
{
	const struct svmx_op *op = it->op;

	memset(p, 0, sizeof(*p));
	p->off = it->done;
	switch (op->opcode) {
	case SVMX_OP_ATOMIC_ADD:
		if (it->done >= op->length)
			return false;
		p->va = op->addr + it->done * op->stride;
		p->len = min(op->length - it->done,
			     1 + (svmx_page_rest(p->va) - 1) / op->stride);
		p->access = SVMX_ACCESS_ATOMIC;
		it->done += p->len;
		return true;
	case SVMX_OP_COPY:
		if (it->copy_len) {
			p->va = op->addr2 + it->done;
			p->len = it->copy_len;
			p->access = SVMX_ACCESS_WRITE;
			p->dst = true;
			it->done += it->copy_len;
			it->copy_len = 0;
			return true;
		}
		if (it->done >= op->length)
			return false;
		p->va = op->addr + it->done;
		p->len = min3(op->length - it->done, svmx_page_rest(p->va),
			      svmx_page_rest(op->addr2 + it->done));
		p->access = SVMX_ACCESS_READ;
		it->copy_len = p->len;
		return true;
	default:
		if (it->done >= op->length)
			return false;
		p->va = op->addr + it->done;
		p->len = min(op->length - it->done, svmx_page_rest(p->va));
		p->access = op->opcode == SVMX_OP_READ ? SVMX_ACCESS_READ :
						      SVMX_ACCESS_WRITE;
		it->done += p->len;
		return true;
	}
}

static void svmx_touch_memory(const struct svmx_op *op, const struct svmx_piece *p,
			      void *kaddr, void *bounce)
{
	u64 i;

	switch (op->opcode) {
	case SVMX_OP_READ:
		memcpy(bounce, kaddr, p->len);
		break;
	case SVMX_OP_WRITE:
		memcpy(kaddr, bounce, p->len);
		break;
	case SVMX_OP_FILL:
		for (i = 0; i < p->len; i += sizeof(u64))
			*(u64 *)(kaddr + i) = op->value;
		break;
	case SVMX_OP_ATOMIC_ADD:
		for (i = 0; i < p->len; i++)
			atomic64_add(op->value, kaddr + i * op->stride);
		break;
	case SVMX_OP_COPY:
		if (p->dst)
			memcpy(kaddr, bounce, p->len);
		else
			memcpy(bounce, kaddr, p->len);
		break;
	}
}

static void svmx_charge(struct svmx_ctx *ctx, const struct svmx_op *op,
			const struct svmx_piece *p, enum svmx_mem_kind kind,
			struct svmx_counters *cnt)
{
	const struct svmx_cost_params *cost = &ctx->sdev->cost;
	u64 n = 1, bytes = p->len;

	/* The accesses of a piece are pipelined: one latency per piece. */
	if (op->opcode == SVMX_OP_ATOMIC_ADD) {
		n = p->len;
		bytes = n * sizeof(u64);
	}
	cnt->modeled_ns += svmx_cost_access(cost, kind, bytes);
	switch (kind) {
	case SVMX_MEM_LOCAL:
		cnt->local_accesses += n;
		break;
	case SVMX_MEM_PEER:
		cnt->peer_accesses += n;
		break;
	default:
		cnt->remote_accesses += n;
		break;
	}
}

/* The queue is suspended by an invalidation: wait for the resume. */
static void svmx_queue_wait(struct svmx_ctx *ctx, struct svmx_counters *cnt)
{
	if (likely(!atomic_read(&ctx->suspend)))
		return;
	cnt->preemptions++;
	wait_event(ctx->resume, !atomic_read(&ctx->suspend));
}

/*
 * The device wrote @page, a system page it maps through the device page
 * table: mark its folio dirty, as a CPU store would through the dirty bit
 * of its page table entry.  Device stores go through the kernel mapping
 * and leave the CPU PTE clean, and a PTE can be writable and clean (an
 * exclusive anonymous page swapped in by a read, a shared memory page
 * mapped by a read fault).  Reclaim decides after try_to_unmap() whether
 * the folio must be written back; a clean folio in the swap cache or in
 * the page cache is simply dropped, with the device's data.
 *
 * Called with pt_lock held and the entry mapping @page present, the folio
 * not locked (reclaim holds the folio lock while its try_to_unmap() runs
 * our notifier, which takes pt_lock: waiting for the folio lock here would
 * deadlock, so set_page_dirty_lock() is out).  The entry plays the part of
 * a CPU page-table entry for folio_mark_dirty()'s rule that the folio may
 * not be truncated meanwhile: the folio is mapped by the CPU page table as
 * long as the entry exists, every unmap (truncation, reclaim, migration)
 * first runs svmx_invalidate(), which waits for pt_lock, and a folio is
 * removed from its mapping only after it is unmapped.  For the same reason
 * the flag is set before reclaim's try_to_unmap() returns and is seen by
 * its dirty check, and a dirty folio stays dirty while the entry exists:
 * writeback cleans a mapped folio only after folio_mkclean() unmapped it.
 *
 * So a folio of a file with writeback (ext4) is already dirty here: its
 * mapping write-protects clean folios, and the page_mkwrite() of the write
 * fault that made the entry writable dirtied it (ext4_dirty_folio() would
 * warn about a folio neither locked nor dirty).  What is left is memory
 * without writeback: anonymous memory, shmem.  For shmem,
 * ->dirty_folio() is noop_dirty_folio(), which neither sleeps nor
 * allocates, fine under pt_lock, which must not enter reclaim.  An
 * anonymous folio gets the flag directly: that is all folio_mark_dirty()
 * would do (the swap cache's ->dirty_folio() is noop_dirty_folio() too),
 * and it does not follow folio_mapping() to a swap address space that the
 * unlocked folio may leave meanwhile (__split_huge_pmd_locked() does the
 * same under its page-table lock).
 */
static void svmx_page_written(struct page *page)
{
	struct folio *folio = page_folio(page);

	if (folio_test_dirty(folio))
		return;
	if (folio_test_anon(folio))
		folio_set_dirty(folio);
	else
		folio_mark_dirty(folio);
}

/* Execute one piece; 1 when it needs a device fault first. */
static int svmx_piece_run(struct svmx_ctx *ctx, const struct svmx_op *op,
			  const struct svmx_piece *p, void *bounce,
			  struct svmx_counters *cnt)
{
	enum svmx_mem_kind kind = SVMX_MEM_SYSTEM;
	struct svmx_block *told = NULL;
	struct page *page;
	void *kaddr;

	svmx_queue_wait(ctx, cnt);
	mutex_lock(&ctx->pt_lock);
	page = svmx_pt_translate(ctx, p->va, p->access);
	if (!page) {
		mutex_unlock(&ctx->pt_lock);
		return 1;
	}
	if (is_device_private_page(page)) {
		struct svmx_block *block = svmx_page_block(page);

		kind = block->sdev == ctx->sdev ? SVMX_MEM_LOCAL : SVMX_MEM_PEER;
		atomic64_inc(&block->touches);
		if (svmx_block_touch(block))
			told = block;	/* the policy hears of it after pt_lock */
		page = svmx_backing_page(page);
	}
	kaddr = kmap_local_page(page);
	svmx_touch_memory(op, p, kaddr + offset_in_page(p->va), bounce);
	kunmap_local(kaddr);
	/*
	 * Device memory needs no dirtying: the backing page is the module's
	 * own (no mapping, not on an LRU), and a device-private page is
	 * anonymous and not in the swap cache, so it comes back to system
	 * memory as a folio that reclaim writes to swap before freeing it.
	 */
	if (p->access != SVMX_ACCESS_READ && kind == SVMX_MEM_SYSTEM)
		svmx_page_written(page);
	mutex_unlock(&ctx->pt_lock);
	if (told)
		svmx_block_accessed(told);
	svmx_charge(ctx, op, p, kind, cnt);
	return 0;
}

static bool svmx_fault_queued(const struct svmx_fault *f, unsigned int nr,
			      unsigned long addr, u32 access)
{
	unsigned int i;

	/* Pieces come in address order (COPY: two streams). */
	for (i = nr > 2 ? nr - 2 : 0; i < nr; i++)
		if (f[i].addr == addr && (access == SVMX_ACCESS_READ ||
					  f[i].access != SVMX_ACCESS_READ))
			return true;
	return false;
}

/*
 * Fill the fault buffer: the faulting piece, then every following piece of
 * the operation that would fault too, up to SVMX_FAULT_BATCH pages.
 */
static unsigned int svmx_fill_fault_buffer(struct svmx_ctx *ctx,
					   const struct svmx_op_iter *from,
					   const struct svmx_piece *first,
					   struct svmx_fault *f)
{
	struct svmx_op_iter it = *from;
	unsigned int nr = 0, scanned = 0;
	struct svmx_piece p = *first;

	mutex_lock(&ctx->pt_lock);
	do {
		unsigned long addr = p.va & PAGE_MASK;
		u32 access = p.access == SVMX_ACCESS_READ ? SVMX_ACCESS_READ :
							    SVMX_ACCESS_WRITE;

		if (!svmx_pt_translate(ctx, p.va, p.access) &&
		    !svmx_fault_queued(f, nr, addr, access)) {
			f[nr].addr = addr;
			f[nr].access = p.access;
			nr++;
		}
	} while (nr < SVMX_FAULT_BATCH && ++scanned < 4 * SVMX_FAULT_BATCH &&
		 svmx_iter_next(&it, &p));
	mutex_unlock(&ctx->pt_lock);
	return nr;
}

/*
 * Run one operation; *@done is set to the bytes (elements for ATOMIC_ADD)
 * completed, also on error: pieces run in order, each one once, and a
 * piece that fails has not touched memory (a READ piece counts once its
 * bytes reached the caller's buffer, a COPY piece once it was written).
 */
static int svmx_exec_op(struct svmx_ctx *ctx, const struct svmx_op *op,
			void *bounce, struct svmx_fault *faults, u64 *done,
			struct svmx_counters *cnt)
{
	struct svmx_op_iter it = { .op = op };
	void __user *ubuf = u64_to_user_ptr(op->buf);
	struct svmx_piece p;
	int ret;

	*done = 0;
	while (svmx_iter_next(&it, &p)) {
		unsigned long deadline = jiffies + SVMX_RETRY_TIMEOUT;
		unsigned int rounds = 0;

		if (fatal_signal_pending(current))
			return -EINTR;
		if (op->opcode == SVMX_OP_WRITE &&
		    copy_from_user(bounce, ubuf + p.off, p.len))
			return -EFAULT;
		while ((ret = svmx_piece_run(ctx, op, &p, bounce, cnt)) == 1) {
			unsigned int nr;

			/* Invalidations racing with every retry: give up. */
			ret = svmx_retry_stop(deadline);
			if (ret)
				return ret;
			nr = svmx_fill_fault_buffer(ctx, &it, &p, faults);
			/*
			 * Forward progress: a piece whose migrated pages keep
			 * being evicted before it runs gets them mapped where
			 * they are.
			 */
			ret = svmx_service_faults(ctx, faults, nr,
						  ++rounds > SVMX_MIGRATE_ROUNDS,
						  cnt);
			if (ret)
				return ret;
		}
		if (op->opcode == SVMX_OP_READ &&
		    copy_to_user(ubuf + p.off, bounce, p.len))
			return -EFAULT;
		/* A COPY piece is done when its destination half is. */
		if (op->opcode != SVMX_OP_COPY || p.dst)
			*done = p.off + p.len;
		cond_resched();
	}
	return 0;
}

/* Bytes of address space an operation touches from op->addr. */
static u64 svmx_op_span(const struct svmx_op *op)
{
	if (op->opcode == SVMX_OP_ATOMIC_ADD)
		return (op->length - 1) * op->stride + sizeof(u64);
	return op->length;
}

static bool svmx_user_range_ok(u64 addr, u64 len)
{
	return len && addr + len > addr && addr + len <= TASK_SIZE;
}

/**
 * svmx_op_check() - validate one operation without looking at memory
 * @op: the operation
 *
 * Return: 0 or -EINVAL.
 */
static int svmx_op_check(const struct svmx_op *op)
{
	if (op->flags || !op->length)
		return -EINVAL;
	switch (op->opcode) {
	case SVMX_OP_READ:
	case SVMX_OP_WRITE:
		if (op->stride || op->value || op->addr2 || !op->buf ||
		    op->length > SVMX_OP_MAX_LEN ||
		    !svmx_user_range_ok(op->buf, op->length))
			return -EINVAL;
		break;
	case SVMX_OP_FILL:
		if (op->stride || op->addr2 || op->buf ||
		    !IS_ALIGNED(op->addr, 8) || !IS_ALIGNED(op->length, 8) ||
		    op->length > SVMX_OP_MAX_LEN)
			return -EINVAL;
		break;
	case SVMX_OP_ATOMIC_ADD:
		if (op->addr2 || op->buf || !IS_ALIGNED(op->addr, 8) ||
		    op->stride < 8 || !IS_ALIGNED(op->stride, 8) ||
		    op->length > SVMX_OP_MAX_LEN / 8 ||
		    op->stride > SVMX_OP_MAX_LEN ||
		    (op->length - 1) * op->stride > SVMX_OP_MAX_LEN - 8)
			return -EINVAL;
		break;
	case SVMX_OP_COPY:
		if (op->stride || op->value || op->buf ||
		    op->length > SVMX_OP_MAX_LEN ||
		    !svmx_user_range_ok(op->addr2, op->length) ||
		    (op->addr < op->addr2 + op->length &&
		     op->addr2 < op->addr + op->length))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return svmx_user_range_ok(op->addr, svmx_op_span(op)) ? 0 : -EINVAL;
}

/* [start, start + len) lies in VMAs that allow @access; mmap lock held. */
static bool svmx_vmas_allow(struct mm_struct *mm, u64 start, u64 len, u32 access)
{
	u64 end = start + len;

	while (start < end) {
		struct vm_area_struct *vma = vma_lookup(mm, start);

		if (!vma || !svmx_vma_allows(vma, access))
			return false;
		start = vma->vm_end;
	}
	return true;
}

/* Index of the first operation whose ranges the VMAs do not allow, or @nr. */
static u32 svmx_ops_check_vmas(struct svmx_ctx *ctx, const struct svmx_op *ops,
			       u32 nr)
{
	bool ok = true;
	u32 i;

	mmap_read_lock(ctx->mm);
	for (i = 0; i < nr; i++) {
		const struct svmx_op *op = &ops[i];

		switch (op->opcode) {
		case SVMX_OP_READ:
			ok = svmx_vmas_allow(ctx->mm, op->addr, op->length,
					     SVMX_ACCESS_READ) &&
			     svmx_vmas_allow(ctx->mm, op->buf, op->length,
					     SVMX_ACCESS_WRITE);
			break;
		case SVMX_OP_WRITE:
			ok = svmx_vmas_allow(ctx->mm, op->addr, op->length,
					     SVMX_ACCESS_WRITE) &&
			     svmx_vmas_allow(ctx->mm, op->buf, op->length,
					     SVMX_ACCESS_READ);
			break;
		case SVMX_OP_COPY:
			ok = svmx_vmas_allow(ctx->mm, op->addr, op->length,
					     SVMX_ACCESS_READ) &&
			     svmx_vmas_allow(ctx->mm, op->addr2, op->length,
					     SVMX_ACCESS_WRITE);
			break;
		default:
			ok = svmx_vmas_allow(ctx->mm, op->addr, svmx_op_span(op),
					     SVMX_ACCESS_WRITE);
			break;
		}
		if (!ok)
			break;
	}
	mmap_read_unlock(ctx->mm);
	return i;
}

/**
 * svmx_exec() - run device work
 * @ctx: the context of the calling process
 * @ops: operations, copied from user space
 * @e: the request: @e->nr_ops operations in; out, the progress fields
 *	(ops_done, failed_op, failed_op_done) and the counters of the call,
 *	which the caller has zeroed
 *
 * Every operation is checked, and every range it touches must lie in VMAs
 * allowing the access, before the first one runs; a failed check leaves
 * memory untouched and names the operation in @e->failed_op.
 *
 * Operations run in order.  On every return @e->ops_done operations ran
 * in full; on an error, operation @e->failed_op (== @e->ops_done once
 * execution started) ran its first @e->failed_op_done bytes (elements for
 * ATOMIC_ADD) and nothing after them ran, so the caller can resume there.
 *
 * Return: 0 or a negative errno (-EINVAL, -EFAULT, -ENOMEM; -EAGAIN when
 * invalidations kept racing with a piece for SVMX_RETRY_TIMEOUT, -EINTR
 * when the caller is being killed).
 */
int svmx_exec(struct svmx_ctx *ctx, const struct svmx_op *ops,
	      struct svmx_exec *e)
{
	struct svmx_fault *faults;
	void *bounce;
	int ret = 0;
	u32 i;

	e->ops_done = 0;
	e->failed_op = SVMX_EXEC_NO_OP;
	e->failed_op_done = 0;
	for (i = 0; i < e->nr_ops; i++) {
		if (svmx_op_check(&ops[i])) {
			e->failed_op = i;
			return -EINVAL;
		}
	}
	i = svmx_ops_check_vmas(ctx, ops, e->nr_ops);
	if (i < e->nr_ops) {
		e->failed_op = i;
		return -EFAULT;
	}
	/* The work as submitted, for recorders; the mmap lock is not held. */
	if (trace_svmx_exec_op_enabled())
		for (i = 0; i < e->nr_ops; i++)
			trace_svmx_exec_op(ctx->sdev->id, i, e->nr_ops, &ops[i]);

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	faults = kmalloc_array(SVMX_FAULT_BATCH, sizeof(*faults), GFP_KERNEL);
	if (!bounce || !faults) {
		ret = -ENOMEM;
		goto out;
	}
	atomic64_inc(&ctx->sdev->epoch);
	for (i = 0; i < e->nr_ops; i++) {
		u64 done;

		ret = svmx_exec_op(ctx, &ops[i], bounce, faults, &done,
				   &e->counters);
		if (ret) {
			e->failed_op = i;
			e->failed_op_done = done;
			break;
		}
		e->ops_done = i + 1;
	}
out:
	kfree(faults);
	kfree(bounce);
	return ret;
}
