// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: BPF struct_ops policies
 *
 * A BPF program set of type &struct svmx_ops, attached as a struct_ops
 * link, becomes a policy of the core: while any BPF policy runs,
 * &svmx_bpf_policy is installed with svmx_policy_install(), a &struct
 * svmx_policy_ops whose callbacks find the BPF policy of the decision's
 * scope, build the BPF context structs, run the BPF callbacks and copy
 * their answers back.  The svmx_policy_*() wrappers keep doing what they
 * do for every policy: fill each answer with the built-in default's
 * first, validate what comes back, and use the default's answer when the
 * BPF one is out of range.  A callback the BPF policy leaves out returns 0
 * with the default's answer untouched, so it is not counted as a
 * fallback.  The BPF side only ever writes the answer fields of its
 * context (svmx_bpf_btf_struct_access()).
 *
 * Scopes.  A policy attaches globally (&svmx_ops.cgroup_id 0) or to one
 * cgroup v2; each scope (&struct svmx_bpf_scope) has two slots, the
 * active policy and a shadow one (%SVMX_OPS_SHADOW).  A decision carries
 * the cgroup id of the context's binding process (svmx_ctx.c), and
 * svmx_bpf_resolve() walks that cgroup's ancestors, nearest first, to the
 * first scope whose slot has a running policy, else the global slot, else
 * none (the built-in default).  The walk is lock free: svmx_cgroup_lookup()
 * and the scope xarray are read under RCU.  Eviction is device wide and
 * asked of the global active policy only.  Attaching into an occupied slot
 * fails with -EBUSY (also while its policy is ejected, until its link is
 * destroyed); a live update of the link (bpf_link__update_map()) replaces
 * the policy of its slot with no gap: svmx_bpf_update() switches the
 * slot's pointer under RCU, so every decision is taken by the old or the
 * new policy.  A removed cgroup ejects the policies of its scope
 * (%SVMX_EXIT_CGROUP): svmx_bpf_workfn() checks the cgroups of attached
 * scopes every second, and svmx_bpf_resolve() skips a removed one at once.
 *
 * Shadow policies run after the active answer is known, on a copy of the
 * default's answer; their answers are validated with the wrappers' own
 * checks, counted, and traced (svmx:svmx_policy_shadow) next to the answer
 * applied, and thrown away.
 *
 * Notifications.  fault_done and migrate_done pass the core's report to
 * the BPF callbacks of the same names with a read-only context; the
 * refused and clipped prefetch ranges a fault_done report carries are
 * counted for the policy whether or not it listens.  fault_done goes to
 * the active policy of the fault's scope, the one that decided it;
 * migrate_done, like eviction and the block notifications, is device
 * wide and goes to the global active policy.  Policies name a
 * binding by its handle (&svmx_ctx.id), never by pointer:
 * svmx_bpf_region_info() looks the handle up under RCU.
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
 * Ejection.  A policy that calls svmx_bpf_error(), whose invalid answers
 * exceed svmx.bpf_invalid_budget within svmx.bpf_invalid_window_ms, or
 * whose cgroup goes, is ejected: the request is recorded (the first one
 * wins) and svmx_bpf_workfn() stops it from process context, so that the
 * next policy of its scope decides again (nearest ancestor, global,
 * default), and calls its exit callback.  The struct_ops link stays
 * attached until user space destroys it (the kernel cannot detach a link
 * on its own in 6.12), and until then no other policy attaches to that
 * slot.  The exit info of the last policy that left each slot, and the
 * live counts of the attached ones, are in debugfs:
 * /sys/kernel/debug/svmx/policy (the global active slot) and
 * /sys/kernel/debug/svmx/scopes (every slot).  svmx_bpf_error() finds the
 * policy that called it through svmx_bpf_running, set around each
 * decision callback with preemption disabled.
 *
 * Privilege.  Beyond what the kernel asks to load struct_ops programs
 * (CAP_BPF, CAP_PERFMON), attaching or updating needs CAP_SYS_ADMIN.
 *
 * Module lifetime.  The struct_ops map holds a reference on svmx.ko
 * (&bpf_struct_ops.owner), so the module cannot be unloaded while a
 * policy map exists: rmmod fails with EBUSY until the link and map are
 * gone.
 *
 * Locking.  svmx_bpf_lock (a mutex) serialises attach, update, detach,
 * ejection and scope creation; the decision callbacks take no lock and
 * read the slots under RCU; svmx_bpf_exit_lock (a spinlock, any context)
 * protects the first-exit-wins request fields.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/capability.h>
#include <linux/cgroup.h>
#include <linux/debugfs.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "svmx_bpf.h"
#include "svmx_trace.h"

static unsigned int bpf_invalid_budget = 64;
module_param(bpf_invalid_budget, uint, 0644);
MODULE_PARM_DESC(bpf_invalid_budget,
		 "invalid answers a BPF policy may give within bpf_invalid_window_ms before it is ejected (default 64)");

static unsigned int bpf_invalid_window_ms = 1000;
module_param(bpf_invalid_window_ms, uint, 0644);
MODULE_PARM_DESC(bpf_invalid_window_ms,
		 "window of the invalid-answer budget in ms; 0: since the attach (default 1000)");

#define SVMX_BPF_PATH_LEN	128
#define SVMX_BPF_CHECK_PERIOD	HZ	/* removed cgroups are found within */

/* The two slots of a scope. */
enum svmx_bpf_role {
	SVMX_ROLE_ACTIVE,
	SVMX_ROLE_SHADOW,
	SVMX_ROLE_NR,
};

struct svmx_bpf_scope;

/**
 * struct svmx_bpf_sched - one attachment of a BPF policy
 * @ops: the struct_ops data (kdata) whose callbacks run
 * @scope: the scope it is attached to
 * @role: its slot in @scope
 * @calls: callback runs, per enum svmx_bpf_cb
 * @errors: runs that returned non-zero, per callback
 * @invalid: answers the core rejected, per callback
 * @victims: blocks evicted while it was attached, per enum
 *	svmx_victim_source (whether it proposed them or the LRU completed)
 * @window_lock: protects @window_start and @window_invalid
 * @window_start: ktime of the start of the budget's current window
 * @window_invalid: invalid answers in the current window
 * @ejected: it no longer decides; its link is still attached (svmx_bpf_lock)
 * @ejecting: an ejection was requested; @exit_* are set (svmx_bpf_exit_lock)
 * @exit_kind: enum svmx_exit_kind of the requested exit
 * @exit_reason: the core's reason for the requested exit
 * @exit_msg: the policy's message for the requested exit
 * @prefetch_refused: prefetch ranges the kernel refused (fault_done)
 * @prefetch_clipped: prefetch ranges the kernel shortened (fault_done)
 * @attached_ns: wall-clock time of the attach or live update that put it
 *	in its slot (CLOCK_REALTIME ns), for the agent's "since"
 */
struct svmx_bpf_sched {
	struct svmx_ops *ops;
	struct svmx_bpf_scope *scope;
	enum svmx_bpf_role role;
	atomic64_t calls[SVMX_CB_NR];
	atomic64_t errors[SVMX_CB_NR];
	atomic64_t invalid[SVMX_CB_NR];
	atomic64_t victims[SVMX_VICTIM_NR];
	spinlock_t window_lock;		/* protects the window */
	u64 window_start;
	u32 window_invalid;
	bool ejected;
	bool ejecting;
	u32 exit_kind;
	char exit_reason[SVMX_EXIT_REASON_LEN];
	char exit_msg[SVMX_EXIT_MSG_LEN];
	atomic64_t prefetch_refused;
	atomic64_t prefetch_clipped;
	u64 attached_ns;
};

/**
 * struct svmx_bpf_slot - where one policy of a scope attaches
 * @attached: the attached policy, running or ejected, or NULL
 *	(svmx_bpf_lock)
 * @cur: the policy the callbacks run: @attached unless it was ejected
 *	(written under svmx_bpf_lock, read under RCU)
 * @last_exit: exit info of the last policy that left the slot
 *	(svmx_bpf_lock)
 */
struct svmx_bpf_slot {
	struct svmx_bpf_sched *attached;
	struct svmx_bpf_sched __rcu *cur;
	struct svmx_exit_info last_exit;
};

/**
 * struct svmx_bpf_scope - the global scope or one cgroup's
 * @cgroup_id: 0 for the global scope
 * @cgrp: the cgroup, referenced until it is found removed; NULL for the
 *	global scope and once removed (svmx_bpf_lock)
 * @path: the cgroup's path when the scope was made
 * @removed: the cgroup is gone; nothing attaches here any more
 * @slot: the active and the shadow policy, per enum svmx_bpf_role
 *
 * Cgroup scopes are made at their first attach and kept, with their exit
 * info, until the module goes.
 */
struct svmx_bpf_scope {
	u64 cgroup_id;
	struct cgroup *cgrp;
	char path[SVMX_BPF_PATH_LEN];
	bool removed;
	struct svmx_bpf_slot slot[SVMX_ROLE_NR];
};

static DEFINE_MUTEX(svmx_bpf_lock);	/* attach/update/detach/eject/scopes */
static DEFINE_SPINLOCK(svmx_bpf_exit_lock);	/* see struct svmx_bpf_sched */
static struct svmx_bpf_scope svmx_bpf_global = { .path = "(global)" };
static DEFINE_XARRAY(svmx_bpf_scopes);	/* cgroup id -> cgroup scope */
/* Running policies in cgroup scopes, per role: 0 skips the cgroup walk. */
static atomic_t svmx_bpf_nr_cgroup[SVMX_ROLE_NR];
static unsigned int svmx_bpf_nr_running;	/* svmx_bpf_lock */
static bool svmx_bpf_installed;			/* svmx_bpf_lock */
/* The policy whose decision callback runs on this CPU (preemption off). */
static DEFINE_PER_CPU(struct svmx_bpf_sched *, svmx_bpf_running);
static const struct btf_type *svmx_bpf_ctx_types[SVMX_CB_NR];
static const struct btf *svmx_bpf_btf;		/* svmx.ko's, from .init */
static struct dentry *svmx_bpf_debugfs[2];

static void svmx_bpf_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(svmx_bpf_work, svmx_bpf_workfn);

static const enum svmx_bpf_cb svmx_bpf_hook_cb[] = {
	[SVMX_HOOK_FAULT]	= SVMX_CB_FAULT,
	[SVMX_HOOK_CPU_FAULT]	= SVMX_CB_CPU_FAULT,
	[SVMX_HOOK_PREFETCH]	= SVMX_CB_PREFETCH,
	[SVMX_HOOK_VICTIM]	= SVMX_CB_EVICT,
};

static struct svmx_policy_ops svmx_bpf_policy;

/* ---------------------------------------------------------------------
 * Ejection
 */

/*
 * Record the first exit request of @s and queue its ejection.  Any
 * context; @s is valid (under RCU, or svmx_bpf_lock).  Later requests are
 * ignored: the first one says why the policy went.
 */
static void svmx_bpf_request_exit(struct svmx_bpf_sched *s,
				  enum svmx_exit_kind kind, const char *reason,
				  const char *msg)
{
	unsigned long flags;
	bool queue = false;

	spin_lock_irqsave(&svmx_bpf_exit_lock, flags);
	if (!s->ejecting) {
		s->ejecting = true;
		s->exit_kind = kind;
		strscpy(s->exit_reason, reason, sizeof(s->exit_reason));
		strscpy(s->exit_msg, msg ?: "", sizeof(s->exit_msg));
		queue = true;
	}
	spin_unlock_irqrestore(&svmx_bpf_exit_lock, flags);
	if (queue)
		mod_delayed_work(system_unbound_wq, &svmx_bpf_work, 0);
}

/* Install the BPF glue while any BPF policy runs; under svmx_bpf_lock. */
static void svmx_bpf_reinstall(void)
{
	bool want = svmx_bpf_nr_running > 0;

	lockdep_assert_held(&svmx_bpf_lock);
	if (want == svmx_bpf_installed)
		return;
	svmx_policy_install(want ? &svmx_bpf_policy : NULL);
	svmx_bpf_installed = want;
}

static struct svmx_bpf_slot *svmx_bpf_slot_of(struct svmx_bpf_sched *s)
{
	return &s->scope->slot[s->role];
}

/* Let @s decide in its slot; under svmx_bpf_lock. */
static void svmx_bpf_start(struct svmx_bpf_sched *s)
{
	lockdep_assert_held(&svmx_bpf_lock);
	if (s->scope != &svmx_bpf_global) {
		atomic_inc(&svmx_bpf_nr_cgroup[s->role]);
		/* Look for its cgroup's removal from now on. */
		queue_delayed_work(system_unbound_wq, &svmx_bpf_work,
				   SVMX_BPF_CHECK_PERIOD);
	}
	rcu_assign_pointer(svmx_bpf_slot_of(s)->cur, s);
	svmx_bpf_nr_running++;
	svmx_bpf_reinstall();
}

/* Keep @s's exit info as its slot's last exit; under svmx_bpf_lock. */
static void svmx_bpf_fill_exit(struct svmx_bpf_sched *s, enum svmx_exit_kind kind,
			       const char *reason, const char *msg)
{
	struct svmx_exit_info *ei = &svmx_bpf_slot_of(s)->last_exit;
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
	ei->cgroup_id = s->ops->cgroup_id;
	ei->flags = s->ops->flags;
}

/* Run @s's exit callback with the exit info just kept; under svmx_bpf_lock. */
static void svmx_bpf_call_exit(struct svmx_bpf_sched *s)
{
	struct svmx_exit_info *ei = &svmx_bpf_slot_of(s)->last_exit;

	if (s->ops->exit)
		s->ops->exit(ei);
	pr_info("svmx: BPF policy %s (cgroup %llu%s) exited: %s%s%s\n",
		ei->name, ei->cgroup_id, s->role == SVMX_ROLE_SHADOW ? ", shadow" : "",
		ei->reason, ei->msg[0] ? ": " : "", ei->msg);
}

/*
 * Stop @s deciding: the next policy of its scope takes over, its exit
 * info is kept and its exit callback runs.  Under svmx_bpf_lock, in
 * process context.
 */
static void svmx_bpf_stop(struct svmx_bpf_sched *s, enum svmx_exit_kind kind,
			  const char *reason, const char *msg)
{
	lockdep_assert_held(&svmx_bpf_lock);
	RCU_INIT_POINTER(svmx_bpf_slot_of(s)->cur, NULL);
	if (s->scope != &svmx_bpf_global)
		atomic_dec(&svmx_bpf_nr_cgroup[s->role]);
	/* Waits until no decision runs a callback of @s any more. */
	synchronize_rcu();
	s->ejected = true;
	svmx_bpf_nr_running--;
	svmx_bpf_reinstall();
	svmx_bpf_fill_exit(s, kind, reason, msg);
	svmx_bpf_call_exit(s);
}

/* Eject the policies of @sc if its cgroup was removed; svmx_bpf_lock. */
static void svmx_bpf_check_cgroup(struct svmx_bpf_scope *sc)
{
	struct svmx_bpf_sched *s;
	int r;

	lockdep_assert_held(&svmx_bpf_lock);
	if (sc->removed || !svmx_cgroup_removed(sc->cgrp))
		return;
	sc->removed = true;
	for (r = 0; r < SVMX_ROLE_NR; r++) {
		s = sc->slot[r].attached;
		if (s && !s->ejected)
			svmx_bpf_stop(s, SVMX_EXIT_CGROUP, "cgroup removed", sc->path);
	}
	cgroup_put(sc->cgrp);
	sc->cgrp = NULL;
}

/*
 * Carry out the requested ejections and look for removed cgroups (every
 * SVMX_BPF_CHECK_PERIOD while a cgroup scope has a policy attached);
 * under svmx_bpf_lock.
 */
static void svmx_bpf_check(void)
{
	struct svmx_bpf_scope *sc;
	struct svmx_bpf_sched *s;
	unsigned long id;
	bool watch = false;
	int r;

	lockdep_assert_held(&svmx_bpf_lock);
	for (r = 0; r < SVMX_ROLE_NR; r++) {
		s = svmx_bpf_global.slot[r].attached;
		/* exit_* do not change once ejecting is set. */
		if (s && READ_ONCE(s->ejecting) && !s->ejected)
			svmx_bpf_stop(s, s->exit_kind, s->exit_reason, s->exit_msg);
	}
	xa_for_each(&svmx_bpf_scopes, id, sc) {
		svmx_bpf_check_cgroup(sc);
		for (r = 0; r < SVMX_ROLE_NR; r++) {
			s = sc->slot[r].attached;
			if (s && READ_ONCE(s->ejecting) && !s->ejected)
				svmx_bpf_stop(s, s->exit_kind, s->exit_reason,
					      s->exit_msg);
			if (s && !s->ejected)
				watch = true;
		}
	}
	if (watch)
		queue_delayed_work(system_unbound_wq, &svmx_bpf_work,
				   SVMX_BPF_CHECK_PERIOD);
}

static void svmx_bpf_workfn(struct work_struct *work)
{
	mutex_lock(&svmx_bpf_lock);
	svmx_bpf_check();
	mutex_unlock(&svmx_bpf_lock);
}

/* ---------------------------------------------------------------------
 * The policy the core calls: BPF callbacks behind struct svmx_policy_ops
 */

/*
 * The running policy of @role for a context bound from cgroup @cgid:
 * the nearest ancestor's (the cgroup itself first), else the global one,
 * else NULL.  Under rcu_read_lock().  A scope whose cgroup was removed is
 * skipped, and its ejection requested.
 */
static struct svmx_bpf_sched *svmx_bpf_resolve(u64 cgid,
					       enum svmx_bpf_role role)
{
	struct svmx_bpf_scope *sc;
	struct svmx_bpf_sched *s;
	struct cgroup *cgrp, *anc;
	int level;

	if (!atomic_read(&svmx_bpf_nr_cgroup[role]) || !cgid)
		goto global;
	cgrp = svmx_cgroup_lookup(cgid);
	for (level = cgrp ? cgrp->level : -1; level >= 0; level--) {
		anc = cgroup_ancestor(cgrp, level);
		sc = xa_load(&svmx_bpf_scopes, cgroup_id(anc));
		s = sc ? rcu_dereference(sc->slot[role].cur) : NULL;
		if (!s)
			continue;
		if (unlikely(svmx_cgroup_removed(anc))) {
			svmx_bpf_request_exit(s, SVMX_EXIT_CGROUP,
					      "cgroup removed", sc->path);
			continue;
		}
		return s;
	}
global:
	return rcu_dereference(svmx_bpf_global.slot[role].cur);
}

/*
 * Around a decision callback: svmx_bpf_error() ejects the policy set
 * here.  Decision callbacks run in process context only, so with
 * preemption off nothing else runs one on this CPU meanwhile.
 */
static void svmx_bpf_enter(struct svmx_bpf_sched *s, enum svmx_bpf_cb cb)
{
	atomic64_inc(&s->calls[cb]);
	preempt_disable();
	__this_cpu_write(svmx_bpf_running, s);
}

static void svmx_bpf_leave(void)
{
	__this_cpu_write(svmx_bpf_running, NULL);
	preempt_enable();
}

/*
 * Count an invalid answer of @s; more than bpf_invalid_budget of them
 * within one window of bpf_invalid_window_ms (a window opens at the first
 * invalid answer after the previous one closed; 0: one window from the
 * attach on) eject it.
 */
static void svmx_bpf_invalid(struct svmx_bpf_sched *s, enum svmx_bpf_cb cb)
{
	u64 window = (u64)READ_ONCE(bpf_invalid_window_ms) * NSEC_PER_MSEC;
	u32 budget = READ_ONCE(bpf_invalid_budget);
	u64 now = ktime_get_ns();
	unsigned long flags;
	char msg[64];
	u32 n;

	atomic64_inc(&s->invalid[cb]);
	spin_lock_irqsave(&s->window_lock, flags);
	if (window && now - s->window_start > window) {
		s->window_start = now;
		s->window_invalid = 0;
	}
	n = ++s->window_invalid;
	spin_unlock_irqrestore(&s->window_lock, flags);
	if (n <= budget)
		return;
	snprintf(msg, sizeof(msg), "%u invalid answers within %u ms", n,
		 READ_ONCE(bpf_invalid_window_ms));
	svmx_bpf_request_exit(s, SVMX_EXIT_INVALID,
			      "invalid-answer budget exceeded", msg);
}

/* Count a shadow's answer: @ret its return, @ok its validity. */
static bool svmx_bpf_shadow_count(struct svmx_bpf_sched *sh, enum svmx_bpf_cb cb,
				  int ret, bool ok)
{
	if (ret)
		atomic64_inc(&sh->errors[cb]);
	else if (!ok)
		svmx_bpf_invalid(sh, cb);
	return ret || !ok;
}

static int svmx_bpf_fault(const struct svmx_fault_info *info,
			  struct svmx_fault_decision *d)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(info->cgroup_id, SVMX_ROLE_ACTIVE);
	struct svmx_bpf_sched *sh = svmx_bpf_resolve(info->cgroup_id, SVMX_ROLE_SHADOW);
	struct svmx_fault_decision def = *d;
	struct svmx_fault_ctx ctx;
	int ret = 0, sret;
	bool fallback;

	ctx.info = *info;
	if (s && s->ops->fault) {
		ctx.answer = *d;
		svmx_bpf_enter(s, SVMX_CB_FAULT);
		ret = s->ops->fault(&ctx);
		svmx_bpf_leave();
		if (!ret)
			*d = ctx.answer;
	}
	if (!sh || !sh->ops->fault)
		return ret;
	ctx.answer = def;
	svmx_bpf_enter(sh, SVMX_CB_FAULT);
	sret = sh->ops->fault(&ctx);
	svmx_bpf_leave();
	fallback = svmx_bpf_shadow_count(sh, SVMX_CB_FAULT, sret,
					 svmx_policy_fault_ok(info, &ctx.answer));
	/* What the wrapper applies: the active answer if valid. */
	if (ret || !svmx_policy_fault_ok(info, d))
		d = &def;
	trace_svmx_policy_shadow(info->dev, SVMX_HOOK_FAULT, sh->ops->name,
				 info->cgroup_id, info->addr, ctx.answer.placement,
				 ctx.answer.order, ctx.answer.target, fallback,
				 d->placement, d->order, d->target);
	return ret;
}

static int svmx_bpf_prefetch(const struct svmx_fault_info *info,
			     struct svmx_prefetch *p)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(info->cgroup_id, SVMX_ROLE_ACTIVE);
	struct svmx_bpf_sched *sh = svmx_bpf_resolve(info->cgroup_id, SVMX_ROLE_SHADOW);
	int (*cb)(struct svmx_prefetch_ctx *ctx);	/* prefetch() is a macro */
	struct svmx_prefetch_ctx ctx;
	struct svmx_prefetch def = *p;
	int ret = 0, sret;
	bool fallback;
	u32 applied;

	ctx.info = *info;
	cb = s ? s->ops->prefetch : NULL;
	if (cb) {
		ctx.answer = *p;
		svmx_bpf_enter(s, SVMX_CB_PREFETCH);
		ret = cb(&ctx);
		svmx_bpf_leave();
		if (!ret)
			*p = ctx.answer;
	}
	cb = sh ? sh->ops->prefetch : NULL;
	if (!cb)
		return ret;
	ctx.answer = def;
	svmx_bpf_enter(sh, SVMX_CB_PREFETCH);
	sret = cb(&ctx);
	svmx_bpf_leave();
	fallback = svmx_bpf_shadow_count(sh, SVMX_CB_PREFETCH, sret,
					 svmx_policy_prefetch_ok(info, &ctx.answer));
	applied = !ret && svmx_policy_prefetch_ok(info, p) ? p->nr : def.nr;
	trace_svmx_policy_shadow(info->dev, SVMX_HOOK_PREFETCH, sh->ops->name,
				 info->cgroup_id, info->addr, ctx.answer.nr,
				 ctx.answer.order, ctx.answer.target, fallback,
				 applied, p->order, p->target);
	return ret;
}

static int svmx_bpf_cpu_fault(const struct svmx_cpu_fault_info *info, u32 *order)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(info->cgroup_id, SVMX_ROLE_ACTIVE);
	struct svmx_bpf_sched *sh = svmx_bpf_resolve(info->cgroup_id, SVMX_ROLE_SHADOW);
	struct svmx_cpu_fault_ctx ctx;
	u32 def = *order, applied;
	int ret = 0, sret;
	bool fallback;

	ctx.info = *info;
	if (s && s->ops->cpu_fault) {
		ctx.order = *order;
		svmx_bpf_enter(s, SVMX_CB_CPU_FAULT);
		ret = s->ops->cpu_fault(&ctx);
		svmx_bpf_leave();
		if (!ret)
			*order = ctx.order;
	}
	if (!sh || !sh->ops->cpu_fault)
		return ret;
	ctx.order = def;
	svmx_bpf_enter(sh, SVMX_CB_CPU_FAULT);
	sret = sh->ops->cpu_fault(&ctx);
	svmx_bpf_leave();
	fallback = svmx_bpf_shadow_count(sh, SVMX_CB_CPU_FAULT, sret,
					 svmx_policy_cpu_order_ok(ctx.order));
	applied = !ret && svmx_policy_cpu_order_ok(*order) ? *order : def;
	trace_svmx_policy_shadow(info->dev, SVMX_HOOK_CPU_FAULT, sh->ops->name,
				 info->cgroup_id, info->addr, 0, ctx.order, 0,
				 fallback, 0, applied, 0);
	return ret;
}

/* Eviction is device wide: the global active policy picks. */
static int svmx_bpf_evict(struct svmx_evict_ctx *ctx)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(0, SVMX_ROLE_ACTIVE);
	int ret;

	if (!s || !s->ops->evict)
		return 0;	/* keep the default's answer: no victim */
	/* The answer is written by svmx_bpf_evict_propose() only. */
	svmx_bpf_enter(s, SVMX_CB_EVICT);
	ret = s->ops->evict(ctx);
	svmx_bpf_leave();
	return ret;
}

/*
 * Notifications.  The events are the core's own structs: the verifier
 * refuses stores to them (svmx_bpf_btf_struct_access()), so handing them
 * over without a copy is safe.
 */
static void svmx_bpf_block_note(enum svmx_block_note note,
				const struct svmx_block_event *ev)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(0, SVMX_ROLE_ACTIVE);
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
	svmx_bpf_enter(s, i);
	cb((struct svmx_block_event *)ev);
	svmx_bpf_leave();
}

static void svmx_bpf_evict_done(const struct svmx_evict_done *done)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(0, SVMX_ROLE_ACTIVE);

	if (!s)
		return;
	if (done->source < SVMX_VICTIM_NR)
		atomic64_inc(&s->victims[done->source]);
	if (!s->ops->evict_done)
		return;
	svmx_bpf_enter(s, SVMX_CB_EVICT_DONE);
	s->ops->evict_done((struct svmx_evict_done *)done);
	svmx_bpf_leave();
}

/*
 * Count a rejected answer of the active policy of @cgroup_id's scope.
 * During a live update the rejected answer may be counted to the new
 * policy: the scope is resolved again here.
 */
static void svmx_bpf_rejected(enum svmx_policy_hook hook, u64 cgroup_id, int err)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(cgroup_id, SVMX_ROLE_ACTIVE);
	enum svmx_bpf_cb cb = svmx_bpf_hook_cb[hook];

	if (!s || cb == SVMX_CB_NR)
		return;
	if (err)
		atomic64_inc(&s->errors[cb]);
	else
		svmx_bpf_invalid(s, cb);
}

/*
 * Notifications of the fault side.  The refused and clipped prefetch
 * ranges are counted for the policy whether or not it listens.
 */
static void svmx_bpf_fault_done(const struct svmx_fault_done *done)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(done->cgroup_id,
						    SVMX_ROLE_ACTIVE);
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
	svmx_bpf_enter(s, SVMX_CB_FAULT_DONE);
	s->ops->fault_done(&ctx);
	svmx_bpf_leave();
}

static void svmx_bpf_migrate_done(const struct svmx_migrate_done *done)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(0, SVMX_ROLE_ACTIVE);
	struct svmx_migrate_done_ctx ctx;

	if (!s || !s->ops->migrate_done)
		return;
	ctx.info = *done;
	svmx_bpf_enter(s, SVMX_CB_MIGRATE_DONE);
	s->ops->migrate_done(&ctx);
	svmx_bpf_leave();
}

/*
 * The name the traces give a decision: the scope's active policy, or
 * "default" when none runs there (the built-in default answered).
 */
static const char *svmx_bpf_name_of(u64 cgroup_id)
{
	struct svmx_bpf_sched *s = svmx_bpf_resolve(cgroup_id, SVMX_ROLE_ACTIVE);

	return s ? s->ops->name : "default";
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
	.name_of	= svmx_bpf_name_of,
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
 * Requests an orderly ejection of the policy whose decision callback
 * calls it: the next policy of its scope (or the built-in default) takes
 * over from process context shortly after, the policy's exit callback
 * runs, and the message lands in the exit info (debugfs svmx/policy and
 * svmx/scopes).  The first request wins.  Ignored from init and exit,
 * which run outside any decision.
 */
__bpf_kfunc void svmx_bpf_error(const char *msg, u32 msg__sz)
{
	struct svmx_bpf_sched *s = this_cpu_read(svmx_bpf_running);
	char buf[SVMX_EXIT_MSG_LEN];
	u32 len = min_t(u32, msg__sz, sizeof(buf) - 1);

	if (!s)
		return;
	/* The verifier checked @msg__sz readable bytes, not a NUL in them. */
	memcpy(buf, msg, len);
	buf[len] = 0;
	svmx_bpf_request_exit(s, SVMX_EXIT_ERROR, "error from BPF", buf);
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
		bi.cgroup_id = block->cgroup_id;
		bi.addr = block->addr;
		bi.touches = atomic64_read(&block->touches);
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
		if (uops->flags & ~(u64)SVMX_OPS_ALL_FLAGS)
			return -EINVAL;
		ops->flags = uops->flags;
		return 1;
	case offsetof(struct svmx_ops, cgroup_id):
		ops->cgroup_id = uops->cgroup_id;	/* checked at attach */
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

static enum svmx_bpf_role svmx_bpf_role_of(const struct svmx_ops *ops)
{
	return ops->flags & SVMX_OPS_SHADOW ? SVMX_ROLE_SHADOW : SVMX_ROLE_ACTIVE;
}

/*
 * The scope of @cgroup_id, made at its first attach; NULL with *@err set
 * when the cgroup does not exist (in the caller's cgroup namespace) or
 * was removed.  Under svmx_bpf_lock.
 */
static struct svmx_bpf_scope *svmx_bpf_scope_get(u64 cgroup_id, int *err)
{
	struct svmx_bpf_scope *sc;
	struct cgroup *cgrp;

	lockdep_assert_held(&svmx_bpf_lock);
	if (!cgroup_id)
		return &svmx_bpf_global;
	sc = xa_load(&svmx_bpf_scopes, cgroup_id);
	if (sc) {
		svmx_bpf_check_cgroup(sc);
		if (!sc->removed)
			return sc;
		*err = -ENOENT;
		return NULL;
	}
	cgrp = cgroup_get_from_id(cgroup_id);
	if (IS_ERR(cgrp)) {
		*err = -ENOENT;
		return NULL;
	}
	sc = kzalloc(sizeof(*sc), GFP_KERNEL);
	if (!sc) {
		cgroup_put(cgrp);
		*err = -ENOMEM;
		return NULL;
	}
	sc->cgroup_id = cgroup_id;
	sc->cgrp = cgrp;
	if (cgroup_path(cgrp, sc->path, sizeof(sc->path)) < 0)
		strscpy(sc->path, "?", sizeof(sc->path));
	*err = xa_err(xa_store(&svmx_bpf_scopes, cgroup_id, sc, GFP_KERNEL));
	if (*err) {
		cgroup_put(cgrp);
		kfree(sc);
		return NULL;
	}
	return sc;
}

/* The slot @ops is attached to, if it is; under svmx_bpf_lock. */
static struct svmx_bpf_slot *svmx_bpf_slot_find(const struct svmx_ops *ops)
{
	struct svmx_bpf_scope *sc = ops->cgroup_id ?
		xa_load(&svmx_bpf_scopes, ops->cgroup_id) : &svmx_bpf_global;
	struct svmx_bpf_slot *slot;

	if (!sc)
		return NULL;
	slot = &sc->slot[svmx_bpf_role_of(ops)];
	return slot->attached && slot->attached->ops == ops ? slot : NULL;
}

/* Attaching or replacing a policy: the kernel's checks plus ours. */
static int svmx_bpf_may_attach(void)
{
	return capable(CAP_BPF) && capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

/* A new attachment of @ops, its init done; NULL with *@err set if not. */
static struct svmx_bpf_sched *svmx_bpf_sched_new(struct svmx_ops *ops,
						 struct svmx_bpf_scope *sc,
						 int *err)
{
	struct svmx_bpf_sched *s;
	int ret;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	s->ops = ops;
	s->scope = sc;
	s->role = svmx_bpf_role_of(ops);
	spin_lock_init(&s->window_lock);
	s->window_start = ktime_get_ns();
	s->attached_ns = ktime_get_real_ns();
	ret = ops->init ? ops->init() : 0;
	if (ret) {
		pr_info("svmx: BPF policy %s: init failed (%d)\n", ops->name, ret);
		kfree(s);
		*err = ret < 0 ? ret : -EINVAL;
		return NULL;
	}
	return s;
}

static void svmx_bpf_attached_msg(struct svmx_bpf_sched *s)
{
	pr_info("svmx: BPF policy %s attached (cgroup %llu %s%s)\n",
		s->ops->name, s->scope->cgroup_id, s->scope->path,
		s->role == SVMX_ROLE_SHADOW ? ", shadow" : "");
}

/*
 * Attach into the slot of the policy's scope and role: -EBUSY when the
 * slot holds a policy (running or ejected), -ENOENT for a cgroup that
 * does not exist, -EPERM without CAP_BPF and CAP_SYS_ADMIN.
 */
static int svmx_bpf_reg(void *kdata, struct bpf_link *link)
{
	struct svmx_ops *ops = kdata;
	struct svmx_bpf_scope *sc;
	struct svmx_bpf_sched *s;
	int ret;

	ret = svmx_bpf_may_attach();
	if (ret)
		return ret;
	mutex_lock(&svmx_bpf_lock);
	sc = svmx_bpf_scope_get(ops->cgroup_id, &ret);
	if (!sc)
		goto out;
	ret = -EBUSY;
	if (sc->slot[svmx_bpf_role_of(ops)].attached)
		goto out;
	s = svmx_bpf_sched_new(ops, sc, &ret);
	if (!s)
		goto out;
	svmx_bpf_slot_of(s)->attached = s;
	svmx_bpf_start(s);
	svmx_bpf_attached_msg(s);
	ret = 0;
out:
	mutex_unlock(&svmx_bpf_lock);
	return ret;
}

static void svmx_bpf_unreg(void *kdata, struct bpf_link *link)
{
	struct svmx_bpf_slot *slot;
	struct svmx_bpf_sched *s;

	mutex_lock(&svmx_bpf_lock);
	slot = svmx_bpf_slot_find(kdata);
	if (slot) {
		s = slot->attached;
		if (!s->ejected)
			svmx_bpf_stop(s, SVMX_EXIT_UNREG, "detached", NULL);
		slot->attached = NULL;
		kfree(s);
	}
	mutex_unlock(&svmx_bpf_lock);
}

/*
 * Live swap (bpf_link__update_map()): the new policy must be of the same
 * scope and role (-EINVAL otherwise), and its init runs first; if either
 * fails the old one stays.  Then the callbacks switch to the new one
 * under RCU, so that no decision falls to another policy in between; then
 * the old one's exit runs.  An ejected old policy is simply followed.
 */
static int svmx_bpf_update(void *kdata, void *old_kdata, struct bpf_link *link)
{
	struct svmx_ops *ops = kdata, *old_ops = old_kdata;
	struct svmx_bpf_sched *old, *s;
	struct svmx_bpf_slot *slot;
	int ret;

	ret = svmx_bpf_may_attach();
	if (ret)
		return ret;
	mutex_lock(&svmx_bpf_lock);
	ret = -ENOENT;
	slot = svmx_bpf_slot_find(old_ops);
	if (!slot)
		goto out;
	old = slot->attached;
	ret = -EINVAL;
	if (ops->cgroup_id != old_ops->cgroup_id ||
	    svmx_bpf_role_of(ops) != old->role) {
		pr_info("svmx: BPF policy %s: an update keeps the scope of %s\n",
			ops->name, old_ops->name);
		goto out;
	}
	ret = -ENOENT;
	if (old->scope->removed)
		goto out;
	s = svmx_bpf_sched_new(ops, old->scope, &ret);
	if (!s)
		goto out;
	slot->attached = s;
	if (old->ejected) {
		svmx_bpf_start(s);
	} else {
		rcu_assign_pointer(slot->cur, s);
		synchronize_rcu();
		svmx_bpf_fill_exit(old, SVMX_EXIT_REPLACED, "replaced", s->ops->name);
		svmx_bpf_call_exit(old);
	}
	kfree(old);
	svmx_bpf_attached_msg(s);
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
 * debugfs: /sys/kernel/debug/svmx/policy (the global active slot) and
 * /sys/kernel/debug/svmx/scopes (every slot of every scope)
 */

static const char * const svmx_exit_kind_names[] = {
	[SVMX_EXIT_NONE]	= "none",
	[SVMX_EXIT_UNREG]	= "unregistered",
	[SVMX_EXIT_REPLACED]	= "replaced",
	[SVMX_EXIT_ERROR]	= "error",
	[SVMX_EXIT_INVALID]	= "invalid",
	[SVMX_EXIT_CGROUP]	= "cgroup_removed",
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

/* One slot: its policy and live counts, its last exit; svmx_bpf_lock. */
static void svmx_bpf_slot_show(struct seq_file *m, const struct svmx_bpf_slot *slot)
{
	const struct svmx_exit_info *ei = &slot->last_exit;
	const struct svmx_bpf_sched *s = slot->attached;
	int i;

	if (!s)
		seq_puts(m, "attached none\n");
	else
		seq_printf(m, "attached %s state=%s since_ns=%llu\n", s->ops->name,
			   s->ejected ? "ejected" : "active", s->attached_ns);
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
}

static int svmx_bpf_policy_show(struct seq_file *m, void *unused)
{
	mutex_lock(&svmx_bpf_lock);
	svmx_bpf_slot_show(m, &svmx_bpf_global.slot[SVMX_ROLE_ACTIVE]);
	mutex_unlock(&svmx_bpf_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(svmx_bpf_policy);

static void svmx_bpf_scope_show(struct seq_file *m, const struct svmx_bpf_scope *sc)
{
	static const char * const role[] = { "active", "shadow" };
	int r;

	for (r = 0; r < SVMX_ROLE_NR; r++) {
		seq_printf(m, "scope cgroup=%llu role=%s path=%s%s\n",
			   sc->cgroup_id, role[r], sc->path,
			   sc->removed ? " removed" : "");
		svmx_bpf_slot_show(m, &sc->slot[r]);
	}
}

static int svmx_bpf_scopes_show(struct seq_file *m, void *unused)
{
	struct svmx_bpf_scope *sc;
	unsigned long id;

	mutex_lock(&svmx_bpf_lock);
	svmx_bpf_check();	/* the state of now, removed cgroups included */
	svmx_bpf_scope_show(m, &svmx_bpf_global);
	xa_for_each(&svmx_bpf_scopes, id, sc)
		svmx_bpf_scope_show(m, sc);
	mutex_unlock(&svmx_bpf_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(svmx_bpf_scopes);

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
	svmx_bpf_debugfs[0] = debugfs_create_file("policy", 0444, debugfs_root,
						  NULL, &svmx_bpf_policy_fops);
	svmx_bpf_debugfs[1] = debugfs_create_file("scopes", 0444, debugfs_root,
						  NULL, &svmx_bpf_scopes_fops);
	return 0;
}

/**
 * svmx_bpf_exit() - module exit: no policy can be attached any more
 *
 * The struct_ops maps hold the module, so none exists here; only a queued
 * check may still be pending, and the cgroup scopes with their exit info
 * go.
 */
void svmx_bpf_exit(void)
{
	struct svmx_bpf_scope *sc;
	unsigned long id;

	debugfs_remove(svmx_bpf_debugfs[0]);
	debugfs_remove(svmx_bpf_debugfs[1]);
	cancel_delayed_work_sync(&svmx_bpf_work);
	xa_for_each(&svmx_bpf_scopes, id, sc) {
		if (sc->cgrp)
			cgroup_put(sc->cgrp);
		kfree(sc);
	}
	xa_destroy(&svmx_bpf_scopes);
}
