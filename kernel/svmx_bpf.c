// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: BPF struct_ops policies
 *
 * A BPF program set of type &struct svmx_ops, attached as a struct_ops
 * link, becomes the active policy of the core: svmx_bpf_reg() installs
 * &svmx_bpf_policy, a &struct svmx_policy_ops whose callbacks build the
 * BPF context structs, run the BPF callbacks and copy their answers back,
 * with svmx_policy_install().  The svmx_policy_*() wrappers keep doing
 * what they do for every policy: fill each answer with the built-in
 * default's first, validate what comes back, and use the default's answer
 * when the BPF one is out of range.  A callback the BPF policy leaves out
 * returns 0 with the default's answer untouched, so it is not counted as
 * a fallback.  The BPF side only ever writes the
 * answer fields of its context (svmx_bpf_btf_struct_access()).
 *
 * Notifications.  fault_done and migrate_done pass the core's report to
 * the BPF callbacks of the same names with a read-only context; the
 * refused and clipped prefetch ranges a fault_done report carries are
 * counted for the policy whether or not it listens.  Policies name a
 * binding by its handle (&svmx_ctx.id), never by pointer:
 * svmx_bpf_region_info() looks the handle up under RCU.
 *
 * One BPF policy is attached at a time; attaching a second one fails with
 * -EBUSY, and a live update of the link (bpf_link__update_map()) replaces
 * the policy with no gap: svmx_bpf_update() switches the pointer the
 * callbacks read under RCU, so every decision is taken by the old or the
 * new policy.
 *
 * Eviction and notifications.  The evict callback gets the core's own
 * &struct svmx_evict_ctx, which BPF cannot write: it reads candidates
 * with svmx_bpf_evict_candidate() and proposes victims, by block handle,
 * with svmx_bpf_evict_propose(); the evictor checks every handle
 * (svmx_block_take()) and reports the refused ones through the seam's
 * @rejected, so they count against the invalid-answer budget.  The
 * notifications (block_alloc, block_access, block_free, evict_done) get
 * the core's events as they are, read only; svmx_bpf_block_info() and
 * svmx_bpf_device_info() look blocks and devices up by handle and index,
 * so no kernel pointer ever reaches a policy.
 *
 * Ejection.  A policy that calls svmx_bpf_error(), or whose invalid
 * answers exceed svmx.bpf_invalid_budget, is ejected: the request is
 * recorded (the first one wins) and svmx_bpf_eject_workfn() uninstalls it
 * from process context, so that the built-in default decides again, and
 * calls its exit callback.  The struct_ops link stays attached until user
 * space destroys it (the kernel cannot detach a link on its own in 6.12),
 * and until then no other policy can attach.  The exit info of the last
 * policy that exited, and the live counts of the attached one, are in
 * debugfs: /sys/kernel/debug/svmx/policy.
 *
 * Module lifetime.  The struct_ops map holds a reference on svmx.ko
 * (&bpf_struct_ops.owner), so the module cannot be unloaded while a
 * policy map exists: rmmod fails with EBUSY until the link and map are
 * gone.
 *
 * Locking.  svmx_bpf_lock (a mutex) serialises attach, update, detach and
 * ejection; the decision callbacks take no lock and read svmx_bpf_cur
 * under RCU; svmx_bpf_exit_lock (a spinlock, any context) protects the
 * first-exit-wins request fields.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/debugfs.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "svmx_bpf.h"

static unsigned int bpf_invalid_budget = 64;
module_param(bpf_invalid_budget, uint, 0644);
MODULE_PARM_DESC(bpf_invalid_budget,
		 "invalid answers a BPF policy may give before it is ejected (default 64)");

/**
 * struct svmx_bpf_sched - one attachment of a BPF policy
 * @ops: the struct_ops data (kdata) whose callbacks run
 * @calls: callback runs, per enum svmx_bpf_cb
 * @errors: runs that returned non-zero, per callback
 * @invalid: answers the core rejected, per callback
 * @victims: blocks evicted while it was attached, per enum
 *	svmx_victim_source (whether it proposed them or the LRU completed)
 * @ejected: it no longer decides; its link is still attached (svmx_bpf_lock)
 * @ejecting: an ejection was requested; @exit_* are set (svmx_bpf_exit_lock)
 * @exit_kind: enum svmx_exit_kind of the requested exit
 * @exit_reason: the core's reason for the requested exit
 * @exit_msg: the policy's message for the requested exit
 * @prefetch_refused: prefetch ranges the kernel refused (fault_done)
 * @prefetch_clipped: prefetch ranges the kernel shortened (fault_done)
 */
struct svmx_bpf_sched {
	struct svmx_ops *ops;
	atomic64_t calls[SVMX_CB_NR];
	atomic64_t errors[SVMX_CB_NR];
	atomic64_t invalid[SVMX_CB_NR];
	atomic64_t victims[SVMX_VICTIM_NR];
	bool ejected;
	bool ejecting;
	u32 exit_kind;
	char exit_reason[SVMX_EXIT_REASON_LEN];
	char exit_msg[SVMX_EXIT_MSG_LEN];
	atomic64_t prefetch_refused;
	atomic64_t prefetch_clipped;
};

static DEFINE_MUTEX(svmx_bpf_lock);		/* attach/update/detach/eject */
static DEFINE_SPINLOCK(svmx_bpf_exit_lock);	/* see struct svmx_bpf_sched */
/* The attached policy; written under both locks, read under either. */
static struct svmx_bpf_sched *svmx_bpf_attached;
/* The policy the callbacks run: the attached one unless it was ejected. */
static struct svmx_bpf_sched __rcu *svmx_bpf_cur;
static struct svmx_exit_info svmx_bpf_last_exit;	/* svmx_bpf_lock */
static const struct btf_type *svmx_bpf_ctx_types[SVMX_CB_NR];
static const struct btf *svmx_bpf_btf;		/* svmx.ko's, from .init */
static struct dentry *svmx_bpf_debugfs;

static void svmx_bpf_eject_workfn(struct work_struct *work);
static DECLARE_WORK(svmx_bpf_eject_work, svmx_bpf_eject_workfn);

static const enum svmx_bpf_cb svmx_bpf_hook_cb[] = {
	[SVMX_HOOK_FAULT]	= SVMX_CB_FAULT,
	[SVMX_HOOK_CPU_FAULT]	= SVMX_CB_CPU_FAULT,
	[SVMX_HOOK_PREFETCH]	= SVMX_CB_PREFETCH,
	[SVMX_HOOK_VICTIM]	= SVMX_CB_EVICT,
};

/* ---------------------------------------------------------------------
 * Ejection
 */

/*
 * Record the first exit request of @s (NULL: the attached policy) and
 * queue its ejection.  Any context.  Later requests are ignored: the first
 * one says why the policy went.  A request of a policy that is no longer
 * attached (it was detached or replaced meanwhile) is dropped.
 */
static void svmx_bpf_request_exit(struct svmx_bpf_sched *s,
				  enum svmx_exit_kind kind, const char *reason,
				  const char *msg)
{
	unsigned long flags;
	bool queue = false;

	spin_lock_irqsave(&svmx_bpf_exit_lock, flags);
	if (!s)
		s = svmx_bpf_attached;
	if (s && s == svmx_bpf_attached && !s->ejecting) {
		s->ejecting = true;
		s->exit_kind = kind;
		strscpy(s->exit_reason, reason, sizeof(s->exit_reason));
		strscpy(s->exit_msg, msg ?: "", sizeof(s->exit_msg));
		queue = true;
	}
	spin_unlock_irqrestore(&svmx_bpf_exit_lock, flags);
	if (queue)
		queue_work(system_unbound_wq, &svmx_bpf_eject_work);
}

static void svmx_bpf_set_attached(struct svmx_bpf_sched *s)
{
	spin_lock_irq(&svmx_bpf_exit_lock);
	svmx_bpf_attached = s;
	spin_unlock_irq(&svmx_bpf_exit_lock);
}

/* Keep @s's exit info as the last exit; under svmx_bpf_lock. */
static void svmx_bpf_fill_exit(struct svmx_bpf_sched *s, enum svmx_exit_kind kind,
			       const char *reason, const char *msg)
{
	struct svmx_exit_info *ei = &svmx_bpf_last_exit;
	int i;

	lockdep_assert_held(&svmx_bpf_lock);
	memset(ei, 0, sizeof(*ei));
	ei->kind = kind;
	ei->time_ns = ktime_get_real_ns();
	for (i = 0; i < SVMX_CB_NR; i++) {
		ei->calls[i] = atomic64_read(&s->calls[i]);
		ei->errors[i] = atomic64_read(&s->errors[i]);
		ei->invalid[i] = atomic64_read(&s->invalid[i]);
	}
	strscpy(ei->name, s->ops->name, sizeof(ei->name));
	strscpy(ei->reason, reason, sizeof(ei->reason));
	strscpy(ei->msg, msg ?: "", sizeof(ei->msg));
	ei->prefetch_refused = atomic64_read(&s->prefetch_refused);
	ei->prefetch_clipped = atomic64_read(&s->prefetch_clipped);
}

/* Run @s's exit callback with the exit info just kept; under svmx_bpf_lock. */
static void svmx_bpf_call_exit(struct svmx_bpf_sched *s)
{
	const struct svmx_exit_info *ei = &svmx_bpf_last_exit;

	if (s->ops->exit)
		s->ops->exit(&svmx_bpf_last_exit);
	pr_info("svmx: BPF policy %s exited: %s%s%s\n", ei->name, ei->reason,
		ei->msg[0] ? ": " : "", ei->msg);
}

/*
 * Stop @s deciding: the default takes over, its exit info is kept and its
 * exit callback runs.  Under svmx_bpf_lock, in process context.
 */
static void svmx_bpf_stop(struct svmx_bpf_sched *s, enum svmx_exit_kind kind,
			  const char *reason, const char *msg)
{
	lockdep_assert_held(&svmx_bpf_lock);
	/* Waits until no fault runs a callback of @s any more. */
	svmx_policy_install(NULL);
	RCU_INIT_POINTER(svmx_bpf_cur, NULL);
	s->ejected = true;
	svmx_bpf_fill_exit(s, kind, reason, msg);
	svmx_bpf_call_exit(s);
}

static void svmx_bpf_eject_workfn(struct work_struct *work)
{
	struct svmx_bpf_sched *s;

	mutex_lock(&svmx_bpf_lock);
	s = svmx_bpf_attached;
	/* exit_* do not change once ejecting is set. */
	if (s && READ_ONCE(s->ejecting) && !s->ejected)
		svmx_bpf_stop(s, s->exit_kind, s->exit_reason, s->exit_msg);
	mutex_unlock(&svmx_bpf_lock);
}

/* ---------------------------------------------------------------------
 * The policy the core calls: BPF callbacks behind struct svmx_policy_ops
 */

static int svmx_bpf_fault(const struct svmx_fault_info *info,
			  struct svmx_fault_decision *d)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	struct svmx_fault_ctx ctx;
	int ret;

	if (!s || !s->ops->fault)
		return 0;	/* keep the default's answer */
	ctx.info = *info;
	ctx.answer = *d;
	atomic64_inc(&s->calls[SVMX_CB_FAULT]);
	ret = s->ops->fault(&ctx);
	if (!ret)
		*d = ctx.answer;
	return ret;
}

static int svmx_bpf_prefetch(const struct svmx_fault_info *info,
			     struct svmx_prefetch *p)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	int (*cb)(struct svmx_prefetch_ctx *ctx);	/* prefetch() is a macro */
	struct svmx_prefetch_ctx ctx;
	int ret;

	cb = s ? s->ops->prefetch : NULL;
	if (!cb)
		return 0;	/* keep the default's answer */
	ctx.info = *info;
	ctx.answer = *p;
	atomic64_inc(&s->calls[SVMX_CB_PREFETCH]);
	ret = cb(&ctx);
	if (!ret)
		*p = ctx.answer;
	return ret;
}

static int svmx_bpf_cpu_fault(const struct svmx_cpu_fault_info *info, u32 *order)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	struct svmx_cpu_fault_ctx ctx;
	int ret;

	if (!s || !s->ops->cpu_fault)
		return 0;	/* keep the default's answer */
	ctx.info = *info;
	ctx.order = *order;
	atomic64_inc(&s->calls[SVMX_CB_CPU_FAULT]);
	ret = s->ops->cpu_fault(&ctx);
	if (!ret)
		*order = ctx.order;
	return ret;
}

static int svmx_bpf_evict(struct svmx_evict_ctx *ctx)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);

	if (!s || !s->ops->evict)
		return 0;	/* keep the default's answer: no victim */
	atomic64_inc(&s->calls[SVMX_CB_EVICT]);
	/* The answer is written by svmx_bpf_evict_propose() only. */
	return s->ops->evict(ctx);
}

/*
 * Notifications.  The events are the core's own structs: the verifier
 * refuses stores to them (svmx_bpf_btf_struct_access()), so handing them
 * over without a copy is safe.
 */
static void svmx_bpf_block_note(enum svmx_block_note note,
				const struct svmx_block_event *ev)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	void (*cb)(struct svmx_block_event *ev) = NULL;
	enum svmx_bpf_cb i = SVMX_CB_BLOCK_ALLOC;

	if (!s)
		return;
	switch (note) {
	case SVMX_NOTE_ALLOC:
		cb = s->ops->block_alloc;
		i = SVMX_CB_BLOCK_ALLOC;
		break;
	case SVMX_NOTE_ACCESS:
		cb = s->ops->block_access;
		i = SVMX_CB_BLOCK_ACCESS;
		break;
	case SVMX_NOTE_FREE:
		cb = s->ops->block_free;
		i = SVMX_CB_BLOCK_FREE;
		break;
	}
	if (!cb)
		return;
	atomic64_inc(&s->calls[i]);
	cb((struct svmx_block_event *)ev);
}

static void svmx_bpf_evict_done(const struct svmx_evict_done *done)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);

	if (!s)
		return;
	if (done->source < SVMX_VICTIM_NR)
		atomic64_inc(&s->victims[done->source]);
	if (!s->ops->evict_done)
		return;
	atomic64_inc(&s->calls[SVMX_CB_EVICT_DONE]);
	s->ops->evict_done((struct svmx_evict_done *)done);
}

/*
 * Count a rejected answer.  During a live update the rejected answer may
 * be counted to the new policy: svmx_bpf_cur is read again here.
 */
static void svmx_bpf_rejected(enum svmx_policy_hook hook, int err)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	enum svmx_bpf_cb cb = svmx_bpf_hook_cb[hook];
	u64 invalid = 0;
	int i;

	if (!s || cb == SVMX_CB_NR)
		return;
	if (err) {
		atomic64_inc(&s->errors[cb]);
		return;
	}
	atomic64_inc(&s->invalid[cb]);
	for (i = 0; i < SVMX_CB_NR; i++)
		invalid += atomic64_read(&s->invalid[i]);
	if (invalid > READ_ONCE(bpf_invalid_budget))
		svmx_bpf_request_exit(s, SVMX_EXIT_INVALID,
				      "invalid-answer budget exceeded", NULL);
}

/*
 * Notifications of the fault side.  The refused and clipped prefetch
 * ranges are counted for the policy whether or not it listens.
 */
static void svmx_bpf_fault_done(const struct svmx_fault_done *done)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	struct svmx_fault_done_ctx ctx;

	if (!s)
		return;
	if (done->prefetch_refused)
		atomic64_add(done->prefetch_refused, &s->prefetch_refused);
	if (done->prefetch_clipped)
		atomic64_add(done->prefetch_clipped, &s->prefetch_clipped);
	if (!s->ops->fault_done)
		return;
	ctx.info = *done;
	atomic64_inc(&s->calls[SVMX_CB_FAULT_DONE]);
	s->ops->fault_done(&ctx);
}

static void svmx_bpf_migrate_done(const struct svmx_migrate_done *done)
{
	struct svmx_bpf_sched *s = rcu_dereference(svmx_bpf_cur);
	struct svmx_migrate_done_ctx ctx;

	if (!s || !s->ops->migrate_done)
		return;
	ctx.info = *done;
	atomic64_inc(&s->calls[SVMX_CB_MIGRATE_DONE]);
	s->ops->migrate_done(&ctx);
}

static struct svmx_policy_ops svmx_bpf_policy = {
	.fault		= svmx_bpf_fault,
	.prefetch	= svmx_bpf_prefetch,
	.cpu_fault	= svmx_bpf_cpu_fault,
	.evict		= svmx_bpf_evict,
	.rejected	= svmx_bpf_rejected,
	.block_note	= svmx_bpf_block_note,
	.evict_done	= svmx_bpf_evict_done,
	.fault_done	= svmx_bpf_fault_done,
	.migrate_done	= svmx_bpf_migrate_done,
	.name		= "bpf",
};

/* ---------------------------------------------------------------------
 * kfuncs
 */

__bpf_kfunc_start_defs();

/**
 * svmx_bpf_error() - eject the calling policy, with a message
 * @msg: the message, NUL terminated within @msg__sz bytes or cut there
 * @msg__sz: size of the buffer at @msg
 *
 * Requests an orderly ejection: the built-in default takes over from
 * process context shortly after, the policy's exit callback runs, and the
 * message lands in the exit info (/sys/kernel/debug/svmx/policy).  The
 * first request wins.  Callable from every svmx_ops callback.
 */
__bpf_kfunc void svmx_bpf_error(const char *msg, u32 msg__sz)
{
	char buf[SVMX_EXIT_MSG_LEN];
	u32 len = min_t(u32, msg__sz, sizeof(buf) - 1);

	/* The verifier checked @msg__sz readable bytes, not a NUL in them. */
	memcpy(buf, msg, len);
	buf[len] = 0;
	svmx_bpf_request_exit(NULL, SVMX_EXIT_ERROR, "error from BPF", buf);
}

/**
 * svmx_bpf_evict_candidate() - an eviction candidate of the evict callback
 * @ctx: the evict callback's context
 * @i: index, least recently used first
 *
 * Return: the handle of candidate @i, or 0 when @i >= ctx->info.nr_cand.
 */
__bpf_kfunc u64 svmx_bpf_evict_candidate(struct svmx_evict_ctx *ctx, u32 i)
{
	if (i >= ctx->info.nr_cand || i >= SVMX_EVICT_CANDIDATES)
		return 0;
	return ctx->info.cand[i];
}

/**
 * svmx_bpf_evict_propose() - propose a victim, from the evict callback
 * @ctx: the evict callback's context
 * @handle: a block handle: a candidate, or any block the policy knows of
 *
 * The handle is recorded as is and checked when the kernel evicts (an
 * invalid one is counted and traced then); victims are evicted in the
 * order proposed.
 *
 * Return: 0, or -ENOSPC when SVMX_EVICT_VICTIMS victims were proposed
 * already (the handle is not recorded).
 */
__bpf_kfunc int svmx_bpf_evict_propose(struct svmx_evict_ctx *ctx, u64 handle)
{
	struct svmx_evict_answer *ans = &ctx->answer;

	if (ans->nr >= SVMX_EVICT_VICTIMS)
		return -ENOSPC;
	ans->victim[ans->nr++] = handle;
	return 0;
}

/**
 * svmx_bpf_block_info() - what is known of a block, by handle
 * @handle: a block handle
 * @out: where to write a &struct svmx_block_info; zeroed on error
 * @out__sz: size of @out; a smaller (older) struct gets its first bytes
 *
 * Callable from every svmx_ops callback, for blocks of any device.
 *
 * Return: 0; -EINVAL when @handle is not a handle of any device;
 * -ENOENT when no live block has it (the block was freed, or is still
 * being filled: blocks are announced by the block_alloc notification).
 */
__bpf_kfunc int svmx_bpf_block_info(u64 handle, struct svmx_block_info *out,
				    u32 out__sz)
{
	u64 dev = handle >> SVMX_HANDLE_DEV_SHIFT;
	struct svmx_block_info bi = {};
	struct svmx_block *block;

	memset(out, 0, out__sz);
	if (!dev || dev > svmx_nr_devices)
		return -EINVAL;
	rcu_read_lock();
	block = svmx_block_lookup(handle);
	if (block) {
		struct svmx_device *sdev = block->sdev;

		bi.dev = sdev->id;
		bi.order = READ_ONCE(block->order);
		bi.pages = max(atomic_read(&block->pages), 0);
		bi.evictable = !list_empty_careful(&block->lru);
		bi.epoch = READ_ONCE(block->epoch);
		bi.age = atomic64_read(&sdev->epoch) - bi.epoch;
		bi.accesses = READ_ONCE(block->accesses);
		bi.owner = block->owner;
		bi.addr = block->addr;
	}
	rcu_read_unlock();
	if (!block)
		return -ENOENT;
	memcpy(out, &bi, min_t(u32, out__sz, sizeof(bi)));
	return 0;
}

/**
 * svmx_bpf_device_info() - a device's memory, by index
 * @dev: device index
 * @out: where to write a &struct svmx_device_info; zeroed on error
 * @out__sz: size of @out; a smaller (older) struct gets its first bytes
 *
 * Return: 0, or -ENODEV when there is no device @dev.
 */
__bpf_kfunc int svmx_bpf_device_info(u32 dev, struct svmx_device_info *out,
				     u32 out__sz)
{
	struct svmx_device_info di = {};
	struct svmx_device *sdev;

	memset(out, 0, out__sz);
	if (dev >= svmx_nr_devices)
		return -ENODEV;
	sdev = svmx_device_get(dev);
	if (!sdev)
		return -ENODEV;
	di.dev = dev;
	di.hive_mask = sdev->hive_mask;
	di.total_bytes = (u64)sdev->npages << PAGE_SHIFT;
	di.free_bytes = svmx_devmem_free_bytes(sdev);
	di.free_order = svmx_devmem_free_order(sdev);
	di.blocks = READ_ONCE(sdev->nr_blocks);
	di.resident_pages = svmx_resident_pages(sdev);
	di.epoch = atomic64_read(&sdev->epoch);
	memcpy(out, &di, min_t(u32, out__sz, sizeof(di)));
	return 0;
}

/**
 * svmx_bpf_region_info() - history and residency of a binding's region
 * @ctx_handle: the binding's handle (struct svmx_fault_info @ctx_handle)
 * @addr: an address in the 2 MiB region asked about
 * @info: out: the region (struct svmx_region_info); zeroed first
 * @info__sz: size of the buffer at @info; the kernel fills at most this
 *	many bytes, so a policy built against an older, shorter struct
 *	keeps working
 *
 * Handle based: a stale handle (the binding is gone) finds nothing.  The
 * history is read locklessly; the residency is counted from the binding's
 * device page table, whose lock is only tried: when another thread holds
 * it, @info->resident_valid is 0.  Callable from every svmx_ops callback.
 *
 * Return: 0, or -ENOENT when no bound context has that handle.
 */
__bpf_kfunc int svmx_bpf_region_info(u64 ctx_handle, u64 addr,
				     struct svmx_region_info *info, u32 info__sz)
{
	struct svmx_region_info ri = {
		.start = addr & ~(BIT_ULL(SVMX_REGION_SHIFT) - 1),
	};
	struct svmx_ctx *ctx;
	int ret = -ENOENT;

	rcu_read_lock();
	ctx = svmx_ctx_lookup(ctx_handle);
	if (!ctx)
		goto out;
	ri.pingpong = svmx_region_pingpong(ctx, addr, &ri.device_faults,
					   &ri.cpu_faults);
	ret = 0;
	if (!mutex_trylock(&ctx->pt_lock))
		goto out;
	/* Unbinding frees the page table under pt_lock after forgetting the handle. */
	if (svmx_ctx_lookup(ctx_handle) == ctx) {
		svmx_pt_residency_locked(ctx, addr, &ri.res);
		ri.resident_valid = 1;
	}
	mutex_unlock(&ctx->pt_lock);
out:
	rcu_read_unlock();
	memset(info, 0, info__sz);
	memcpy(info, &ri, min_t(u32, info__sz, sizeof(ri)));
	return ret;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(svmx_bpf_kfunc_ids)
BTF_ID_FLAGS(func, svmx_bpf_error)
BTF_ID_FLAGS(func, svmx_bpf_evict_candidate, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, svmx_bpf_evict_propose, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, svmx_bpf_block_info)
BTF_ID_FLAGS(func, svmx_bpf_device_info)
BTF_ID_FLAGS(func, svmx_bpf_region_info)
BTF_KFUNCS_END(svmx_bpf_kfunc_ids)

BTF_ID_LIST_SINGLE(svmx_ops_btf_id, struct, svmx_ops)

/* svmx's kfuncs are for struct svmx_ops programs, not other struct_ops. */
static int svmx_bpf_kfunc_filter(const struct bpf_prog *prog, u32 kfunc_id)
{
	if (prog->aux->attach_btf == svmx_bpf_btf &&
	    prog->aux->attach_btf_id == svmx_ops_btf_id[0])
		return 0;
	return -EACCES;
}

static const struct btf_kfunc_id_set svmx_bpf_kfunc_set = {
	.owner	= THIS_MODULE,
	.set	= &svmx_bpf_kfunc_ids,
	.filter	= svmx_bpf_kfunc_filter,
};

/* ---------------------------------------------------------------------
 * struct_ops registration
 */

BTF_ID_LIST(svmx_bpf_ctx_ids)
BTF_ID(struct, svmx_fault_ctx)
BTF_ID(struct, svmx_cpu_fault_ctx)
BTF_ID(struct, svmx_evict_ctx)
BTF_ID(struct, svmx_prefetch_ctx)
BTF_ID(struct, svmx_block_event)
BTF_ID(struct, svmx_block_event)
BTF_ID(struct, svmx_block_event)
BTF_ID(struct, svmx_evict_done)
BTF_ID(struct, svmx_fault_done_ctx)
BTF_ID(struct, svmx_migrate_done_ctx)

static bool svmx_bpf_is_valid_access(int off, int size, enum bpf_access_type type,
				     const struct bpf_prog *prog,
				     struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

/* Writes through a context pointer: only to its answer fields. */
static int svmx_bpf_btf_struct_access(struct bpf_verifier_log *log,
				      const struct bpf_reg_state *reg,
				      int off, int size)
{
	const struct btf_type *t = btf_type_by_id(reg->btf, reg->btf_id);
	size_t start, end;

	if (t == svmx_bpf_ctx_types[SVMX_CB_FAULT]) {
		start = offsetof(struct svmx_fault_ctx, answer);
		end = offsetofend(struct svmx_fault_ctx, answer);
	} else if (t == svmx_bpf_ctx_types[SVMX_CB_CPU_FAULT]) {
		start = offsetof(struct svmx_cpu_fault_ctx, order);
		end = offsetofend(struct svmx_cpu_fault_ctx, order);
	} else if (t == svmx_bpf_ctx_types[SVMX_CB_PREFETCH]) {
		start = offsetof(struct svmx_prefetch_ctx, answer);
		end = offsetofend(struct svmx_prefetch_ctx, answer);
	} else {
		return -EACCES;
	}
	if (off >= start && off + size <= end)
		return SCALAR_VALUE;
	bpf_log(log, "svmx: write to offset %d of a context outside its answer\n", off);
	return -EACCES;
}

static const struct bpf_verifier_ops svmx_bpf_verifier_ops = {
	.get_func_proto		= bpf_base_func_proto,
	.is_valid_access	= svmx_bpf_is_valid_access,
	.btf_struct_access	= svmx_bpf_btf_struct_access,
};

static int svmx_bpf_ops_init(struct btf *btf)
{
	int i;

	svmx_bpf_btf = btf;
	for (i = 0; i < SVMX_CB_NR; i++) {
		svmx_bpf_ctx_types[i] = btf_type_by_id(btf, svmx_bpf_ctx_ids[i]);
		if (!svmx_bpf_ctx_types[i])
			return -EINVAL;
	}
	return 0;
}

static int svmx_bpf_init_member(const struct btf_type *t,
				const struct btf_member *member,
				void *kdata, const void *udata)
{
	const struct svmx_ops *uops = udata;
	struct svmx_ops *ops = kdata;
	u32 moff = __btf_member_bit_offset(t, member) / 8;
	size_t i;

	switch (moff) {
	case offsetof(struct svmx_ops, flags):
		if (uops->flags)
			return -EINVAL;
		ops->flags = 0;
		return 1;
	case offsetof(struct svmx_ops, name):
		for (i = 0; i < sizeof(uops->name) && uops->name[i]; i++)
			if (!isalnum(uops->name[i]) && uops->name[i] != '_' &&
			    uops->name[i] != '.')
				return -EINVAL;
		if (!i || i == sizeof(uops->name))
			return -EINVAL;
		memcpy(ops->name, uops->name, sizeof(ops->name));
		return 1;
	}
	return 0;
}

/* Decision callbacks run under rcu_read_lock(): they must not sleep. */
static int svmx_bpf_check_member(const struct btf_type *t,
				 const struct btf_member *member,
				 const struct bpf_prog *prog)
{
	u32 moff = __btf_member_bit_offset(t, member) / 8;

	switch (moff) {
	case offsetof(struct svmx_ops, init):
	case offsetof(struct svmx_ops, exit):
		return 0;
	default:
		return prog->sleepable ? -EINVAL : 0;
	}
}

static int svmx_bpf_validate(void *kdata)
{
	const struct svmx_ops *ops = kdata;

	return ops->name[0] ? 0 : -EINVAL;
}

/* A new attachment of @ops, its init done; NULL with *@err set if not. */
static struct svmx_bpf_sched *svmx_bpf_sched_new(struct svmx_ops *ops, int *err)
{
	struct svmx_bpf_sched *s;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->ops = ops;
	ret = ops->init ? ops->init() : 0;
	if (ret) {
		pr_info("svmx: BPF policy %s: init failed (%d)\n", ops->name, ret);
		kfree(s);
		*err = ret < 0 ? ret : -EINVAL;
		return NULL;
	}
	return s;
}

static int svmx_bpf_reg(void *kdata, struct bpf_link *link)
{
	struct svmx_bpf_sched *s;
	int ret = -EBUSY;

	mutex_lock(&svmx_bpf_lock);
	if (svmx_bpf_attached)
		goto out;
	s = svmx_bpf_sched_new(kdata, &ret);
	if (!s)
		goto out;
	svmx_bpf_set_attached(s);
	rcu_assign_pointer(svmx_bpf_cur, s);
	svmx_policy_install(&svmx_bpf_policy);
	pr_info("svmx: BPF policy %s attached\n", s->ops->name);
	ret = 0;
out:
	mutex_unlock(&svmx_bpf_lock);
	return ret;
}

static void svmx_bpf_unreg(void *kdata, struct bpf_link *link)
{
	struct svmx_bpf_sched *s;

	mutex_lock(&svmx_bpf_lock);
	s = svmx_bpf_attached;
	if (s && s->ops == kdata) {
		if (!s->ejected)
			svmx_bpf_stop(s, SVMX_EXIT_UNREG, "detached", NULL);
		svmx_bpf_set_attached(NULL);
		kfree(s);
	}
	mutex_unlock(&svmx_bpf_lock);
}

/*
 * Live swap (bpf_link__update_map()): the new policy's init runs first,
 * and if it fails the old one stays; then the callbacks switch to the new
 * one under RCU, so that no decision falls to the default in between; then
 * the old one's exit runs.  An ejected old policy is simply followed.
 */
static int svmx_bpf_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct svmx_bpf_sched *old, *s;
	int ret = -ENOENT;

	mutex_lock(&svmx_bpf_lock);
	old = svmx_bpf_attached;
	if (!old || old->ops != old_kdata)
		goto out;
	s = svmx_bpf_sched_new(kdata, &ret);
	if (!s)
		goto out;
	svmx_bpf_set_attached(s);
	if (old->ejected) {
		rcu_assign_pointer(svmx_bpf_cur, s);
		svmx_policy_install(&svmx_bpf_policy);
	} else {
		rcu_assign_pointer(svmx_bpf_cur, s);
		synchronize_rcu();
		svmx_bpf_fill_exit(old, SVMX_EXIT_REPLACED, "replaced", s->ops->name);
		svmx_bpf_call_exit(old);
	}
	kfree(old);
	pr_info("svmx: BPF policy %s attached\n", s->ops->name);
	ret = 0;
out:
	mutex_unlock(&svmx_bpf_lock);
	return ret;
}

/* Stubs for the BPF trampolines' indirect-call checks (CFI); never run. */
static int svmx_ops_fault_stub(struct svmx_fault_ctx *ctx) { return 0; }
static int svmx_ops_cpu_fault_stub(struct svmx_cpu_fault_ctx *ctx) { return 0; }
static int svmx_ops_prefetch_stub(struct svmx_prefetch_ctx *ctx) { return 0; }
static int svmx_ops_evict_stub(struct svmx_evict_ctx *ctx) { return 0; }
static void svmx_ops_block_alloc_stub(struct svmx_block_event *ev) { }
static void svmx_ops_block_access_stub(struct svmx_block_event *ev) { }
static void svmx_ops_block_free_stub(struct svmx_block_event *ev) { }
static void svmx_ops_evict_done_stub(struct svmx_evict_done *done) { }
static int svmx_ops_init_stub(void) { return 0; }
static void svmx_ops_exit_stub(struct svmx_exit_info *ei) { }
static void svmx_ops_fault_done_stub(struct svmx_fault_done_ctx *ctx) { }
static void svmx_ops_migrate_done_stub(struct svmx_migrate_done_ctx *ctx) { }

static struct svmx_ops svmx_ops_cfi_stubs = {
	.fault		= svmx_ops_fault_stub,
	.prefetch	= svmx_ops_prefetch_stub,
	.cpu_fault	= svmx_ops_cpu_fault_stub,
	.evict		= svmx_ops_evict_stub,
	.block_alloc	= svmx_ops_block_alloc_stub,
	.block_access	= svmx_ops_block_access_stub,
	.block_free	= svmx_ops_block_free_stub,
	.evict_done	= svmx_ops_evict_done_stub,
	.fault_done	= svmx_ops_fault_done_stub,
	.migrate_done	= svmx_ops_migrate_done_stub,
	.init		= svmx_ops_init_stub,
	.exit		= svmx_ops_exit_stub,
};

static struct bpf_struct_ops svmx_bpf_struct_ops = {
	.verifier_ops	= &svmx_bpf_verifier_ops,
	.init		= svmx_bpf_ops_init,
	.check_member	= svmx_bpf_check_member,
	.init_member	= svmx_bpf_init_member,
	.reg		= svmx_bpf_reg,
	.unreg		= svmx_bpf_unreg,
	.update		= svmx_bpf_update,
	.validate	= svmx_bpf_validate,
	.cfi_stubs	= &svmx_ops_cfi_stubs,
	.name		= "svmx_ops",
	.owner		= THIS_MODULE,
};

/* ---------------------------------------------------------------------
 * debugfs: /sys/kernel/debug/svmx/policy
 */

static const char * const svmx_exit_kind_names[] = {
	[SVMX_EXIT_NONE]	= "none",
	[SVMX_EXIT_UNREG]	= "unregistered",
	[SVMX_EXIT_REPLACED]	= "replaced",
	[SVMX_EXIT_ERROR]	= "error",
	[SVMX_EXIT_INVALID]	= "invalid",
};

static const char * const svmx_bpf_cb_names[] = {
	[SVMX_CB_FAULT]		= "fault",
	[SVMX_CB_CPU_FAULT]	= "cpu_fault",
	[SVMX_CB_EVICT]		= "evict",
	[SVMX_CB_PREFETCH]	= "prefetch",
	[SVMX_CB_BLOCK_ALLOC]	= "block_alloc",
	[SVMX_CB_BLOCK_ACCESS]	= "block_access",
	[SVMX_CB_BLOCK_FREE]	= "block_free",
	[SVMX_CB_EVICT_DONE]	= "evict_done",
	[SVMX_CB_FAULT_DONE]	= "fault_done",
	[SVMX_CB_MIGRATE_DONE]	= "migrate_done",
};

static int svmx_bpf_policy_show(struct seq_file *m, void *unused)
{
	struct svmx_exit_info *ei = &svmx_bpf_last_exit;
	struct svmx_bpf_sched *s;
	int i;

	mutex_lock(&svmx_bpf_lock);
	s = svmx_bpf_attached;
	if (!s)
		seq_puts(m, "attached none\n");
	else
		seq_printf(m, "attached %s state=%s\n", s->ops->name,
			   s->ejected ? "ejected" : "active");
	for (i = 0; s && i < SVMX_CB_NR; i++)
		seq_printf(m, "  %s calls=%lld errors=%lld invalid=%lld\n",
			   svmx_bpf_cb_names[i], atomic64_read(&s->calls[i]),
			   atomic64_read(&s->errors[i]),
			   atomic64_read(&s->invalid[i]));
	if (s) {
		seq_printf(m, "  victims policy=%lld lru=%lld hole=%lld request=%lld\n",
			   atomic64_read(&s->victims[SVMX_VICTIM_POLICY]),
			   atomic64_read(&s->victims[SVMX_VICTIM_LRU]),
			   atomic64_read(&s->victims[SVMX_VICTIM_HOLE]),
			   atomic64_read(&s->victims[SVMX_VICTIM_REQUEST]));
		seq_printf(m, "  prefetch_ranges refused=%lld clipped=%lld\n",
			   atomic64_read(&s->prefetch_refused),
			   atomic64_read(&s->prefetch_clipped));
	}
	seq_printf(m, "last_exit %s kind=%s time_ns=%llu\n",
		   ei->name[0] ? ei->name : "none",
		   svmx_exit_kind_names[ei->kind], ei->time_ns);
	seq_printf(m, "  reason=%s\n  message=%s\n", ei->reason, ei->msg);
	for (i = 0; ei->name[0] && i < SVMX_CB_NR; i++)
		seq_printf(m, "  %s calls=%llu errors=%llu invalid=%llu\n",
			   svmx_bpf_cb_names[i], ei->calls[i], ei->errors[i],
			   ei->invalid[i]);
	if (ei->name[0])
		seq_printf(m, "  prefetch_ranges refused=%llu clipped=%llu\n",
			   ei->prefetch_refused, ei->prefetch_clipped);
	mutex_unlock(&svmx_bpf_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(svmx_bpf_policy);

/**
 * svmx_bpf_init() - register struct svmx_ops and the svmx kfuncs
 * @debugfs_root: the module's debugfs directory
 *
 * Called once from module init.  The registrations live as long as the
 * module's BTF, that is until the module is unloaded.
 *
 * Return: 0 or a negative errno.
 */
int svmx_bpf_init(struct dentry *debugfs_root)
{
	int ret;

	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS,
					&svmx_bpf_kfunc_set);
	if (ret) {
		pr_err("svmx: registering the BPF kfuncs failed: %d\n", ret);
		return ret;
	}
	ret = register_bpf_struct_ops(&svmx_bpf_struct_ops, svmx_ops);
	if (ret) {
		pr_err("svmx: registering struct svmx_ops failed: %d\n", ret);
		return ret;
	}
	svmx_bpf_debugfs = debugfs_create_file("policy", 0444, debugfs_root,
					       NULL, &svmx_bpf_policy_fops);
	return 0;
}

/**
 * svmx_bpf_exit() - module exit: no policy can be attached any more
 *
 * The struct_ops maps hold the module, so none exists here; only a queued
 * ejection may still be pending.
 */
void svmx_bpf_exit(void)
{
	cancel_work_sync(&svmx_bpf_eject_work);
	debugfs_remove(svmx_bpf_debugfs);
}
