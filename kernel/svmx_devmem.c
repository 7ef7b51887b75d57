// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Device memory and blocks
 *
 * Each device owns a range of device-private ZONE_DEVICE pages
 * (request_free_mem_region() + memremap_pages()).  Device pages have no
 * kernel mapping, so every device page is backed by a real system page that
 * holds its contents, as lib/test_hmm.c does; a block's backing pages are
 * one physically contiguous allocation, which is what lets the copy engine
 * move a run of pages with one command.
 *
 * Device memory is handed out in blocks whose size matches the migration
 * granularity (2 MiB by default, smaller orders when a decision or a
 * fallback asks for them) by a genalloc pool with order-aligned first fit.
 * A block belongs to no range: every resident page holds a reference, the
 * page_free callback drops it and the block returns to the pool when the
 * count reaches zero, however its pages were freed (migration back, process
 * exit, COW, eviction).
 *
 * This file calls nothing above it: the pagemap callbacks come from module
 * set-up, and eviction (svmx_evict.c) works on the blocks from above.
 */

/**
 * DOC: Module lifetime and device memory
 *
 * Device pages are not tied to a binding: after unbind, a forked child or
 * a failed give-back can leave pages in device memory, and a page can be
 * kept busy by a concurrent migration.  Module exit cannot fail and
 * memunmap_pages() waits for every device page, so exit must never meet a
 * live block.  A device therefore holds a reference on the module while it
 * has any block (taken with its first block, dropped with its last): rmmod
 * fails with "in use" instead of looping on a block that cannot be
 * emptied, and the module stays loaded and consistent.  The operator
 * empties device memory with debugfs evict_all, which tries each block once
 * (bounded) and says -EBUSY when one stays; once the last block is freed,
 * unload succeeds.  The reference is dropped after the block's memory is
 * back in the pool; a block freed by page_free is followed by the page's
 * put_dev_pagemap(), which memunmap_pages() in exit waits for.
 */

/**
 * DOC: Block handles
 *
 * Policies know blocks by opaque u64 handles, never by pointer: a handle
 * is the device index, a generation and the block's id in the device's
 * valid-blocks registry, &svmx_device.handles (the idea of cache_ext's
 * registry of valid folios).  The id is reserved when the block is
 * allocated and the block is entered under it when svmx_block_publish()
 * makes it evictable, which is also when the policy hears of it
 * (SVMX_NOTE_ALLOC); it is erased when the block is freed
 * (SVMX_NOTE_FREE).  So a handle validates exactly while its block is
 * live and published: the evictor checks every proposed victim with
 * svmx_block_take(), policy kfuncs look blocks up with
 * svmx_block_lookup().  Ids are reused, lowest first; the generation (the
 * device's allocation count when the id was handed out, 32 bits) makes a
 * stale handle validate again only if its id is reused exactly 2^32
 * allocations later.  Blocks are freed after an RCU grace period, so a
 * lookup under RCU may read the block it found even while it is freed.
 *
 * Notifications: the policy hears of each published block's allocation,
 * of its accesses by device work (svmx_block_touch(), at most once per
 * block and device epoch, that is per SVMX_IOC_EXEC: the same rate at
 * which the LRU position is refreshed), and of its free.  They are sent
 * with no svmx lock held: svmx_block_touch() runs under pt_lock, so it
 * only takes a reference and its caller sends the access with
 * svmx_block_accessed() once pt_lock is dropped.
 */

/**
 * DOC: Fault injection
 *
 * Three standard fault-injection attributes sit in debugfs under svmx/
 * (Documentation/fault-injection/): fail_block_alloc fails the reservation
 * of a device block of one order as if the device had none even after
 * eviction, so the chunk ladder moves on (2 MiB, 64 KiB, 4 KiB, then the
 * pages are mapped where they are); fail_backing_alloc fails the system
 * pages backing a new block (-ENOMEM, same ladder); fail_sysmem_alloc fails
 * one destination system page of a migration to system memory (CPU fault,
 * SVMX_IOC_MIGRATE to system, eviction, unbind).  "times" counts block
 * reservations, backing allocations and pages respectively.  Without
 * CONFIG_FAULT_INJECTION they never fire.
 */
#include <kunit/visibility.h>
#include <linux/debugfs.h>
#include <linux/fault-inject.h>
#include <linux/highmem.h>
#include <linux/ioport.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "svmx.h"
#include "svmx_trace.h"

static DECLARE_FAULT_ATTR(svmx_fail_block_alloc);

static DECLARE_FAULT_ATTR(svmx_fail_backing_alloc);

static DECLARE_FAULT_ATTR(svmx_fail_sysmem_alloc);

/**
 * svmx_fault_inject_init() - create the fault-injection attributes
 * @dir: the svmx debugfs directory
 *
 * Without CONFIG_FAULT_INJECTION_DEBUG_FS nothing is created.
 */
void svmx_fault_inject_init(struct dentry *dir)
{
	if (!IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS))
		return;
	fault_create_debugfs_attr("fail_block_alloc", dir, &svmx_fail_block_alloc);
	fault_create_debugfs_attr("fail_backing_alloc", dir, &svmx_fail_backing_alloc);
	fault_create_debugfs_attr("fail_sysmem_alloc", dir, &svmx_fail_sysmem_alloc);
}

/**
 * svmx_fail_sysmem() - whether to fail one destination system page
 *
 * Return: true when fail_sysmem_alloc fires.
 */
bool svmx_fail_sysmem(void)
{
	return should_fail(&svmx_fail_sysmem_alloc, PAGE_SIZE);
}

/**
 * svmx_fail_block() - whether to fail the reservation of one device block
 * @order: the block's order
 *
 * Return: true when fail_block_alloc fires.
 */
bool svmx_fail_block(unsigned int order)
{
	return should_fail(&svmx_fail_block_alloc, PAGE_SIZE << order);
}

/**
 * svmx_devmem_page_free() - dev_pagemap_ops.page_free: a device page is free
 * @page: the page; its reference on its block is dropped
 */
void svmx_devmem_page_free(struct page *page)
{
	struct svmx_block *block = svmx_page_block(page);

	atomic64_dec(&block->sdev->resident);
	atomic_dec(&block->pages);
	svmx_block_put(block);
}

/**
 * svmx_devmem_init() - create a device's device-private memory
 * @sdev: the device; @sdev->owner must be set
 * @bytes: size, a multiple of 2 MiB
 * @ops: the pagemap callbacks (page_free, migrate_to_ram), given by the
 *	caller so that device memory calls nothing above it
 *
 * Return: 0 or a negative errno.
 */
int svmx_devmem_init(struct svmx_device *sdev, u64 bytes,
		     const struct dev_pagemap_ops *ops)
{
	struct resource *res;
	void *addr;
	int ret;

	res = request_free_mem_region(&iomem_resource, bytes, sdev->name);
	if (IS_ERR(res))
		return PTR_ERR(res);

	sdev->pagemap.type = MEMORY_DEVICE_PRIVATE;
	sdev->pagemap.range.start = res->start;
	sdev->pagemap.range.end = res->end;
	sdev->pagemap.nr_range = 1;
	sdev->pagemap.ops = ops;
	sdev->pagemap.owner = sdev->owner;
	addr = memremap_pages(&sdev->pagemap, numa_node_id());
	if (IS_ERR(addr)) {
		ret = PTR_ERR(addr);
		goto err_release;
	}
	sdev->pfn_first = res->start >> PAGE_SHIFT;
	sdev->npages = bytes >> PAGE_SHIFT;
	xa_init(&sdev->blocks);
	xa_init_flags(&sdev->handles, XA_FLAGS_ALLOC);

	sdev->pool = gen_pool_create(PAGE_SHIFT, NUMA_NO_NODE);
	if (!sdev->pool) {
		ret = -ENOMEM;
		goto err_unmap;
	}
	ret = gen_pool_add(sdev->pool, res->start, bytes, NUMA_NO_NODE);
	if (ret)
		goto err_pool;
	return 0;

err_pool:
	gen_pool_destroy(sdev->pool);
	sdev->pool = NULL;
err_unmap:
	memunmap_pages(&sdev->pagemap);
err_release:
	release_mem_region(res->start, resource_size(res));
	return ret;
}

/**
 * svmx_devmem_fini() - release the device memory
 * @sdev: the device; no context may be bound any more
 *
 * The device holds a reference on the module while it has any block, so
 * at module exit there is none: nothing to evict and nothing to wait for.
 */
void svmx_devmem_fini(struct svmx_device *sdev)
{
	struct range *range = &sdev->pagemap.range;

	if (!sdev->pool)
		return;
	WARN_ON(sdev->nr_blocks || sdev->used_pages || !xa_empty(&sdev->blocks) ||
		!xa_empty(&sdev->handles));
	memunmap_pages(&sdev->pagemap);
	release_mem_region(range->start, range_len(range));
	gen_pool_destroy(sdev->pool);
	sdev->pool = NULL;
}

/**
 * svmx_devmem_free_bytes() - device memory not allocated to blocks
 * @sdev: the device
 *
 * Return: bytes.
 */
u64 svmx_devmem_free_bytes(struct svmx_device *sdev)
{
	return gen_pool_avail(sdev->pool);
}

/* Largest order of a naturally aligned free run in one pool chunk. */
static int svmx_chunk_free_order(const struct gen_pool_chunk *chunk, int best)
{
	unsigned long base = chunk->start_addr >> PAGE_SHIFT;
	unsigned long nbits = (chunk->end_addr - chunk->start_addr + 1) >> PAGE_SHIFT;
	unsigned long pos = 0, end;
	int o;

	while (best < SVMX_CHUNK_ORDER) {
		pos = find_next_zero_bit(chunk->bits, nbits, pos);
		if (pos >= nbits)
			break;
		end = find_next_bit(chunk->bits, nbits, pos);
		for (o = SVMX_CHUNK_ORDER; o > best; o--) {
			if (ALIGN(base + pos, 1UL << o) + (1UL << o) <= base + end) {
				best = o;
				break;
			}
		}
		pos = end;
	}
	return best;
}

/**
 * svmx_pool_free_order() - largest block svmx_pool_alloc() could give now
 * @pool: a pool of physical addresses with PAGE_SHIFT granularity
 *
 * Walks the free runs of the pool's bitmap (one bit per page, a word at a
 * time) without its lock, so the answer is a hint that concurrent
 * allocations may change; it stops as soon as a 2 MiB block is free.
 * Blocks are naturally aligned in physical addresses, as svmx_pool_alloc()
 * allocates them.
 *
 * Return: an order in 0..SVMX_CHUNK_ORDER, or -1 when no page is free.
 */
int svmx_pool_free_order(struct gen_pool *pool)
{
	struct gen_pool_chunk *chunk;
	int best = -1;

	rcu_read_lock();
	list_for_each_entry_rcu(chunk, &pool->chunks, next_chunk)
		best = svmx_chunk_free_order(chunk, best);
	rcu_read_unlock();
	return best;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_pool_free_order);

/**
 * svmx_devmem_free_order() - largest block the device could allocate now
 * @sdev: the device
 *
 * Return: svmx_pool_free_order() of the device's pool.
 */
int svmx_devmem_free_order(struct svmx_device *sdev)
{
	return svmx_pool_free_order(sdev->pool);
}

/**
 * svmx_pool_alloc() - allocate a naturally aligned range of 2^order pages
 * @pool: a pool of physical addresses with PAGE_SHIFT granularity
 * @order: order of the range
 *
 * Natural alignment keeps large blocks possible after small ones come and
 * go, and makes a block's pfns a contiguous, aligned run.
 *
 * Return: the physical address of the range, or 0 when none is free.
 */
unsigned long svmx_pool_alloc(struct gen_pool *pool, unsigned int order)
{
	struct genpool_data_align align = { .align = PAGE_SIZE << order };

	return gen_pool_alloc_algo(pool, PAGE_SIZE << order,
				   gen_pool_first_fit_align, &align);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_pool_alloc);

/**
 * svmx_pool_free() - free a range from svmx_pool_alloc()
 * @pool: the pool
 * @phys: the range's address
 * @order: the range's order
 */
void svmx_pool_free(struct gen_pool *pool, unsigned long phys, unsigned int order)
{
	gen_pool_free(pool, phys, PAGE_SIZE << order);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_pool_free);

/* Free backing pages [@from, @to) of a block (split, so one by one). */
static void svmx_backing_free(struct page *backing, unsigned long from,
			      unsigned long to)
{
	while (from < to)
		__free_page(backing + from++);
}

/* A new handle for id @id of @sdev's registry (DOC: Block handles). */
static u64 svmx_handle_make(struct svmx_device *sdev, u32 id)
{
	u64 gen = atomic64_inc_return(&sdev->handle_seq) & SVMX_HANDLE_GEN_MASK;

	return (u64)(sdev->id + 1) << SVMX_HANDLE_DEV_SHIFT |
	       gen << SVMX_HANDLE_GEN_SHIFT | id;
}

/**
 * svmx_block_try_alloc() - a block from the pool, without evicting
 * @sdev: the device
 * @order: the block's order
 *
 * The block comes with its backing pages and one reference, the caller's;
 * it is not on the LRU until svmx_block_publish().
 *
 * Return: the block, NULL when the pool has no free aligned range of
 * @order, or ERR_PTR(-ENOMEM) when system memory is short.
 */
struct svmx_block *svmx_block_try_alloc(struct svmx_device *sdev,
					unsigned int order)
{
	struct svmx_block *block;
	unsigned long phys;
	bool first;
	u32 id;

	block = kzalloc(sizeof(*block), GFP_KERNEL);
	if (!block)
		return ERR_PTR(-ENOMEM);	/* system memory, not device memory */
	phys = svmx_pool_alloc(sdev->pool, order);
	if (!phys) {
		kfree(block);
		return NULL;
	}
	/* Emulated device memory: may fail on a fragmented host, then the
	 * caller falls back to a smaller order.  Split, so that a block can
	 * shrink and give its tail back.
	 */
	if (!should_fail(&svmx_fail_backing_alloc, PAGE_SIZE << order))
		block->backing = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
					     (order ? __GFP_NORETRY : 0), order);
	if (!block->backing)
		goto err_pool;
	split_page(block->backing, order);
	block->sdev = sdev;
	block->pfn = phys >> PAGE_SHIFT;
	block->order = order;
	refcount_set(&block->refs, 1);
	INIT_LIST_HEAD(&block->lru);
	block->epoch = atomic64_read(&sdev->epoch);
	/* Reserve the block's id; publishing enters the block under it. */
	if (xa_alloc(&sdev->handles, &id, NULL,
		     XA_LIMIT(0, SVMX_HANDLE_ID_MASK), GFP_KERNEL))
		goto err_backing;
	block->handle = svmx_handle_make(sdev, id);
	if (xa_insert(&sdev->blocks, block->pfn - sdev->pfn_first, block,
		      GFP_KERNEL))
		goto err_handle;

	spin_lock(&sdev->lock);
	first = !sdev->nr_blocks++;
	sdev->used_pages += 1UL << order;
	spin_unlock(&sdev->lock);
	/* Device memory in use keeps the module (DOC: Module lifetime). */
	if (first)
		__module_get(THIS_MODULE);
	trace_svmx_block_alloc(sdev->id, block->pfn, order, 1);
	return block;

err_handle:
	xa_erase(&sdev->handles, id);
err_backing:
	svmx_backing_free(block->backing, 0, 1UL << order);
err_pool:
	svmx_pool_free(sdev->pool, phys, order);
	kfree(block);
	return ERR_PTR(-ENOMEM);
}

/**
 * svmx_block_event() - a block as its notifications describe it
 * @block: the block; live, or found under RCU
 * @ev: out: the event
 */
void svmx_block_event(struct svmx_block *block, struct svmx_block_event *ev)
{
	ev->handle = block->handle;
	ev->dev = block->sdev->id;
	ev->order = READ_ONCE(block->order);
	ev->epoch = atomic64_read(&block->sdev->epoch);
	ev->owner = block->owner;
	ev->addr = block->addr;
	ev->accesses = READ_ONCE(block->accesses);
	ev->cgroup_id = block->cgroup_id;
	ev->touches = atomic64_read(&block->touches);
}

static void svmx_block_free(struct svmx_block *block)
{
	struct svmx_device *sdev = block->sdev;
	struct svmx_block_event ev;
	unsigned int order;
	bool last;

	spin_lock(&sdev->lock);
	list_del(&block->lru);
	xa_erase(&sdev->blocks, block->pfn - sdev->pfn_first);
	/* From here on, the block's handle no longer validates. */
	xa_erase(&sdev->handles, block->handle & SVMX_HANDLE_ID_MASK);
	order = block->order;
	last = !--sdev->nr_blocks;
	sdev->used_pages -= 1UL << order;
	spin_unlock(&sdev->lock);
	trace_svmx_block_free(sdev->id, block->pfn, order, 0);
	if (block->published) {
		svmx_block_event(block, &ev);
		svmx_policy_block_note(SVMX_NOTE_FREE, &ev);
	}
	svmx_backing_free(block->backing, 0, 1UL << order);
	svmx_pool_free(sdev->pool, block->pfn << PAGE_SHIFT, order);
	kfree_rcu(block, rcu);
	if (last)
		module_put(THIS_MODULE);
}

/**
 * svmx_block_put() - drop a reference; the last one frees the block
 * @block: the block
 *
 * Called from page_free for every resident page, so from any context that
 * drops the last reference of a device page.
 */
void svmx_block_put(struct svmx_block *block)
{
	if (refcount_dec_and_test(&block->refs))
		svmx_block_free(block);
}

/**
 * svmx_block_shrink() - give back the tail of a reserved block
 * @block: a block from svmx_block_reserve(), not yet filled or published
 * @order: the new, smaller order
 *
 * The block keeps its first 2^@order pages (still naturally aligned); the
 * rest returns to the pool and the host at once.
 */
void svmx_block_shrink(struct svmx_block *block, unsigned int order)
{
	struct svmx_device *sdev = block->sdev;
	unsigned long keep = 1UL << order, old = 1UL << block->order;

	if (order >= block->order)
		return;
	spin_lock(&sdev->lock);
	block->order = order;
	sdev->used_pages -= old - keep;
	spin_unlock(&sdev->lock);
	svmx_backing_free(block->backing, keep, old);
	gen_pool_free(sdev->pool, (block->pfn + keep) << PAGE_SHIFT,
		      (old - keep) << PAGE_SHIFT);
	trace_svmx_block_shrink(sdev->id, block->pfn, order,
				refcount_read(&block->refs));
}

/**
 * svmx_block_publish() - make a filled block visible to eviction
 * @block: a block returned by svmx_block_reserve(); the caller still holds
 *	its reservation reference
 * @owner: &svmx_ctx.id of the binding the migration filled it for
 * @cgroup_id: cgroup (v2) id of that binding's process
 * @addr: virtual address of the chunk it was filled for
 *
 * Filling the block was its first access: its age starts now.  Its handle
 * starts to validate, and the policy is told (SVMX_NOTE_ALLOC).
 */
void svmx_block_publish(struct svmx_block *block, u64 owner, u64 cgroup_id,
			unsigned long addr)
{
	struct svmx_device *sdev = block->sdev;
	struct svmx_block_event ev;

	spin_lock(&sdev->lock);
	block->epoch = atomic64_read(&sdev->epoch);
	block->accesses = 1;
	block->owner = owner;
	block->cgroup_id = cgroup_id;
	block->addr = addr;
	block->published = true;
	/* The id is reserved: storing allocates nothing and cannot fail. */
	xa_store(&sdev->handles, block->handle & SVMX_HANDLE_ID_MASK, block,
		 GFP_NOWAIT);
	list_add_tail(&block->lru, &sdev->lru);
	spin_unlock(&sdev->lock);
	svmx_block_event(block, &ev);
	svmx_policy_block_note(SVMX_NOTE_ALLOC, &ev);
}

/**
 * svmx_block_requeue() - put a victim that kept pages back on the LRU
 * @block: the block, off the LRU
 *
 * It goes to the tail, so that the next evictor tries other blocks first,
 * but keeps its epoch: its age is that of its last access, not of the
 * failed eviction.
 */
void svmx_block_requeue(struct svmx_block *block)
{
	struct svmx_device *sdev = block->sdev;

	spin_lock(&sdev->lock);
	list_add_tail(&block->lru, &sdev->lru);
	spin_unlock(&sdev->lock);
}

/**
 * svmx_block_touch() - note a device access for the LRU order
 * @block: the accessed block; one of its pages is mapped by the caller's
 *	device page table, pt_lock held
 *
 * Moves the block to the LRU tail at most once per device epoch, so the
 * execution engine takes the device lock once per block and call.
 *
 * Return: true for the first access of a published block in this epoch:
 * then a reference was taken, and the caller must call
 * svmx_block_accessed() once pt_lock is dropped.
 */
bool svmx_block_touch(struct svmx_block *block)
{
	struct svmx_device *sdev = block->sdev;
	u64 epoch = atomic64_read(&sdev->epoch);
	bool first = false;

	if (READ_ONCE(block->epoch) == epoch)
		return false;
	spin_lock(&sdev->lock);
	if (block->epoch != epoch) {
		WRITE_ONCE(block->epoch, epoch);
		WRITE_ONCE(block->accesses, block->accesses + 1);
		if (!list_empty(&block->lru))
			list_move_tail(&block->lru, &sdev->lru);
		/* The mapped page holds a reference: this one cannot be the first. */
		first = block->published;
		if (first)
			refcount_inc(&block->refs);
	}
	spin_unlock(&sdev->lock);
	return first;
}

/**
 * svmx_block_accessed() - tell the policy of a block's access
 * @block: a block svmx_block_touch() returned true for; pt_lock not held
 *
 * Sends SVMX_NOTE_ACCESS and drops the reference svmx_block_touch() took
 * (which may free the block, after the notification).
 */
void svmx_block_accessed(struct svmx_block *block)
{
	struct svmx_block_event ev;

	svmx_block_event(block, &ev);
	svmx_policy_block_note(SVMX_NOTE_ACCESS, &ev);
	svmx_block_put(block);
}

/**
 * svmx_block_take() - take a block proposed as a victim, by handle
 * @sdev: the device under pressure; its evict_lock held
 * @handle: the proposed handle, anything a policy may say
 * @why: out: why the proposal is refused, when it is
 *
 * The block must be a published, live block of @sdev that is on the LRU
 * (not being filled or evicted).  It is taken off the LRU with a
 * reference, as the LRU's own victims are.
 *
 * Return: the block, or NULL with *@why set.
 */
struct svmx_block *svmx_block_take(struct svmx_device *sdev, u64 handle,
				   enum svmx_evict_reject *why)
{
	u64 dev = handle >> SVMX_HANDLE_DEV_SHIFT;
	struct svmx_block *block;

	if (!dev || dev > svmx_nr_devices) {
		*why = SVMX_REJECT_MALFORMED;
		return NULL;
	}
	if (dev - 1 != sdev->id) {
		*why = SVMX_REJECT_FOREIGN;
		return NULL;
	}
	spin_lock(&sdev->lock);
	block = xa_load(&sdev->handles, handle & SVMX_HANDLE_ID_MASK);
	if (!block || block->handle != handle) {
		*why = SVMX_REJECT_DEAD;
		block = NULL;
	} else if (list_empty(&block->lru) || !refcount_inc_not_zero(&block->refs)) {
		*why = SVMX_REJECT_BUSY;
		block = NULL;
	} else {
		list_del_init(&block->lru);
	}
	spin_unlock(&sdev->lock);
	return block;
}

/**
 * svmx_block_lookup() - a live block by handle, for reading only
 * @handle: any value
 *
 * Called under rcu_read_lock(); the block may be freed as soon as the
 * caller leaves the read-side section, and may be being freed already
 * (its memory stays readable until then).
 *
 * Return: the published block with this handle, or NULL.
 */
struct svmx_block *svmx_block_lookup(u64 handle)
{
	u64 dev = handle >> SVMX_HANDLE_DEV_SHIFT;
	struct svmx_device *sdev;
	struct svmx_block *block;

	RCU_LOCKDEP_WARN(!rcu_read_lock_held(), "block lookup without RCU");
	if (!dev || dev > svmx_nr_devices)
		return NULL;
	sdev = svmx_device_get(dev - 1);
	if (!sdev)
		return NULL;
	block = xa_load(&sdev->handles, handle & SVMX_HANDLE_ID_MASK);
	if (!block || READ_ONCE(block->handle) != handle)
		return NULL;
	return block;
}
