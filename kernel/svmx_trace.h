/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmx tracepoints: every policy decision and every mechanism step.
 * Print formats are key=value so that perf script and bpftrace output can
 * be parsed; enums print symbolically.  docs/tracepoints.md is the reference.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM svmx

#if !defined(_SVMX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _SVMX_TRACE_H

#include <linux/tracepoint.h>

#include "svmx.h"

#define SVMX_ACCESS_NAMES					\
	EM(SVMX_ACCESS_READ,	"read")				\
	EM(SVMX_ACCESS_WRITE,	"write")			\
	EMe(SVMX_ACCESS_ATOMIC,	"atomic")

#define SVMX_PLACE_NAMES					\
	EM(SVMX_PLACE_MIGRATE,	"migrate")			\
	EMe(SVMX_PLACE_REMOTE,	"remote")

#define SVMX_DIR_NAMES						\
	EM(SVMX_DIR_TO_DEVICE,	"to_device")			\
	EMe(SVMX_DIR_TO_SYSTEM,	"to_system")

#define SVMX_EVICT_NAMES					\
	EM(SVMX_EVICT_PRESSURE,	"pressure")			\
	EM(SVMX_EVICT_PREFETCH,	"prefetch")			\
	EMe(SVMX_EVICT_REQUEST,	"request")

#define SVMX_HOOK_NAMES						\
	EM(SVMX_HOOK_FAULT,	"fault")			\
	EM(SVMX_HOOK_CPU_FAULT,	"cpu_fault")			\
	EM(SVMX_HOOK_PREFETCH,	"prefetch")			\
	EMe(SVMX_HOOK_VICTIM,	"victim")

#define SVMX_REJECT_NAMES					\
	EM(SVMX_REJECT_MALFORMED, "malformed")			\
	EM(SVMX_REJECT_FOREIGN,	"foreign")			\
	EM(SVMX_REJECT_DEAD,	"dead")				\
	EMe(SVMX_REJECT_BUSY,	"busy")
#define SVMX_PF_NAMES						\
	EM(SVMX_PF_NO_VMA,	"no_vma")			\
	EM(SVMX_PF_NOT_ANON,	"not_anon")			\
	EM(SVMX_PF_NO_READ,	"no_read")			\
	EM(SVMX_PF_VMA_END,	"vma_end")			\
	EMe(SVMX_PF_BUDGET,	"budget")

#undef EM
#undef EMe
#define EM(a, b)	TRACE_DEFINE_ENUM(a);
#define EMe(a, b)	TRACE_DEFINE_ENUM(a);

SVMX_ACCESS_NAMES
SVMX_PLACE_NAMES
SVMX_DIR_NAMES
SVMX_EVICT_NAMES
SVMX_HOOK_NAMES
SVMX_REJECT_NAMES
SVMX_PF_NAMES

#undef EM
#undef EMe
#define EM(a, b)	{a, b},
#define EMe(a, b)	{a, b}

TRACE_EVENT(svmx_ioctl,
	TP_PROTO(int dev, unsigned int cmd, long ret),
	TP_ARGS(dev, cmd, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned int, cmd)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->cmd = cmd;
		__entry->ret = ret;
	),
	TP_printk("dev=%d cmd=0x%x nr=%u ret=%ld", __entry->dev, __entry->cmd,
		  _IOC_NR(__entry->cmd), __entry->ret)
);

/*
 * One operation of an SVMX_IOC_EXEC call, fired for each operation of the
 * call once all of them passed their checks and before the first runs:
 * what the device is asked to touch, so that a recorder (svmxctl record)
 * can re-issue the same work.  @idx and @nr_ops keep the call's bounds.
 */
TRACE_EVENT(svmx_exec_op,
	TP_PROTO(int dev, u32 idx, u32 nr_ops, const struct svmx_op *op),
	TP_ARGS(dev, idx, nr_ops, op),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u32, idx)
		__field(u32, nr_ops)
		__field(u32, opcode)
		__field(u64, addr)
		__field(u64, length)
		__field(u64, stride)
		__field(u64, value)
		__field(u64, addr2)
		__field(u64, buf)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->idx = idx;
		__entry->nr_ops = nr_ops;
		__entry->opcode = op->opcode;
		__entry->addr = op->addr;
		__entry->length = op->length;
		__entry->stride = op->stride;
		__entry->value = op->value;
		__entry->addr2 = op->addr2;
		__entry->buf = op->buf;
	),
	TP_printk("dev=%d idx=%u nr_ops=%u opcode=%u addr=0x%llx length=%llu stride=%llu value=0x%llx addr2=0x%llx buf=0x%llx",
		  __entry->dev, __entry->idx, __entry->nr_ops, __entry->opcode,
		  __entry->addr, __entry->length, __entry->stride,
		  __entry->value, __entry->addr2, __entry->buf)
);

/*
 * An SVMX_IOC_MIGRATE (explicit prefetch) or SVMX_IOC_ADVISE call whose
 * arguments passed the ioctl layer's checks, before it runs; the call's
 * result is in the svmx_ioctl event that follows.  For recorders.
 */
TRACE_EVENT(svmx_migrate_req,
	TP_PROTO(int dev, u64 addr, u64 length, u32 target),
	TP_ARGS(dev, addr, length, target),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u64, addr)
		__field(u64, length)
		__field(u32, target)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->length = length;
		__entry->target = target;
	),
	TP_printk("dev=%d addr=0x%llx length=%llu target=0x%x", __entry->dev,
		  __entry->addr, __entry->length, __entry->target)
);

TRACE_EVENT(svmx_advise_req,
	TP_PROTO(int dev, u64 addr, u64 length, u32 advice, u32 value),
	TP_ARGS(dev, addr, length, advice, value),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u64, addr)
		__field(u64, length)
		__field(u32, advice)
		__field(u32, value)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->length = length;
		__entry->advice = advice;
		__entry->value = value;
	),
	TP_printk("dev=%d addr=0x%llx length=%llu advice=%u value=%u",
		  __entry->dev, __entry->addr, __entry->length, __entry->advice,
		  __entry->value)
);

TRACE_EVENT(svmx_fault,
	TP_PROTO(int dev, unsigned long addr, u32 access, u32 placement,
		 u32 order, unsigned long start, unsigned long end, u64 ns,
		 int ret),
	TP_ARGS(dev, addr, access, placement, order, start, end, ns, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(u32, access)
		__field(u32, placement)
		__field(u32, order)
		__field(unsigned long, start)
		__field(unsigned long, end)
		__field(u64, ns)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->access = access;
		__entry->placement = placement;
		__entry->order = order;
		__entry->start = start;
		__entry->end = end;
		__entry->ns = ns;
		__entry->ret = ret;
	),
	TP_printk("dev=%d addr=0x%lx access=%s decision=%s order=%u start=0x%lx end=0x%lx service_ns=%llu ret=%d",
		  __entry->dev, __entry->addr,
		  __print_symbolic(__entry->access, SVMX_ACCESS_NAMES),
		  __print_symbolic(__entry->placement, SVMX_PLACE_NAMES),
		  __entry->order, __entry->start, __entry->end, __entry->ns,
		  __entry->ret)
);

TRACE_EVENT(svmx_migrate,
	TP_PROTO(int dev, u32 dir, unsigned long start, unsigned long requested,
		 unsigned long collected, unsigned long migrated, u64 copy_cmds,
		 u64 bytes),
	TP_ARGS(dev, dir, start, requested, collected, migrated, copy_cmds, bytes),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u32, dir)
		__field(unsigned long, start)
		__field(unsigned long, requested)
		__field(unsigned long, collected)
		__field(unsigned long, migrated)
		__field(u64, copy_cmds)
		__field(u64, bytes)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->dir = dir;
		__entry->start = start;
		__entry->requested = requested;
		__entry->collected = collected;
		__entry->migrated = migrated;
		__entry->copy_cmds = copy_cmds;
		__entry->bytes = bytes;
	),
	TP_printk("dev=%d dir=%s start=0x%lx requested=%lu collected=%lu migrated=%lu copy_cmds=%llu bytes=%llu",
		  __entry->dev, __print_symbolic(__entry->dir, SVMX_DIR_NAMES),
		  __entry->start, __entry->requested, __entry->collected,
		  __entry->migrated, __entry->copy_cmds, __entry->bytes)
);

TRACE_EVENT(svmx_cpu_fault,
	TP_PROTO(int dev, unsigned long addr, bool cpu, u32 order, u64 pages,
		 int ret, u32 access),
	TP_ARGS(dev, addr, cpu, order, pages, ret, access),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(bool, cpu)
		__field(u32, order)
		__field(u64, pages)
		__field(int, ret)
		__field(u32, access)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->cpu = cpu;
		__entry->order = order;
		__entry->pages = pages;
		__entry->ret = ret;
		__entry->access = access;
	),
	TP_printk("dev=%d addr=0x%lx cpu=%d order=%u pages=%llu ret=%d access=%s",
		  __entry->dev, __entry->addr, __entry->cpu, __entry->order,
		  __entry->pages, __entry->ret,
		  __print_symbolic(__entry->access, SVMX_ACCESS_NAMES))
);

TRACE_EVENT(svmx_evict,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned long pages,
		 unsigned int left, u32 reason, int ret),
	TP_ARGS(dev, pfn, order, pages, left, reason, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, pfn)
		__field(u32, order)
		__field(unsigned long, pages)
		__field(unsigned int, left)
		__field(u32, reason)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->pfn = pfn;
		__entry->order = order;
		__entry->pages = pages;
		__entry->left = left;
		__entry->reason = reason;
		__entry->ret = ret;
	),
	TP_printk("dev=%d block=0x%lx order=%u pages=%lu left=%u reason=%s ret=%d",
		  __entry->dev, __entry->pfn, __entry->order, __entry->pages,
		  __entry->left,
		  __print_symbolic(__entry->reason, SVMX_EVICT_NAMES),
		  __entry->ret)
);

TRACE_EVENT(svmx_evict_fail,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned int left,
		 unsigned int passes, u32 reason, int ret),
	TP_ARGS(dev, pfn, order, left, passes, reason, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, pfn)
		__field(u32, order)
		__field(unsigned int, left)
		__field(unsigned int, passes)
		__field(u32, reason)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->pfn = pfn;
		__entry->order = order;
		__entry->left = left;
		__entry->passes = passes;
		__entry->reason = reason;
		__entry->ret = ret;
	),
	TP_printk("dev=%d block=0x%lx order=%u left=%u passes=%u reason=%s ret=%d",
		  __entry->dev, __entry->pfn, __entry->order, __entry->left,
		  __entry->passes,
		  __print_symbolic(__entry->reason, SVMX_EVICT_NAMES),
		  __entry->ret)
);

TRACE_EVENT(svmx_evict_hole,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned long blocks,
		 u64 pages),
	TP_ARGS(dev, pfn, order, blocks, pages),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, pfn)
		__field(u32, order)
		__field(unsigned long, blocks)
		__field(u64, pages)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->pfn = pfn;
		__entry->order = order;
		__entry->blocks = blocks;
		__entry->pages = pages;
	),
	TP_printk("dev=%d start=0x%lx order=%u blocks=%lu pages=%llu",
		  __entry->dev, __entry->pfn, __entry->order, __entry->blocks,
		  __entry->pages)
);

TRACE_EVENT(svmx_block_alloc_fail,
	TP_PROTO(int dev, u32 order, int ret, u64 evictions),
	TP_ARGS(dev, order, ret, evictions),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u32, order)
		__field(int, ret)
		__field(u64, evictions)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->order = order;
		__entry->ret = ret;
		__entry->evictions = evictions;
	),
	TP_printk("dev=%d order=%u ret=%d evictions=%llu", __entry->dev,
		  __entry->order, __entry->ret, __entry->evictions)
);

TRACE_EVENT(svmx_sysmem_alloc_fail,
	TP_PROTO(int dev, unsigned long start, unsigned long pfn,
		 unsigned long pages, unsigned long failed, int ret),
	TP_ARGS(dev, start, pfn, pages, failed, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, start)
		__field(unsigned long, pfn)
		__field(unsigned long, pages)
		__field(unsigned long, failed)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->start = start;
		__entry->pfn = pfn;
		__entry->pages = pages;
		__entry->failed = failed;
		__entry->ret = ret;
	),
	TP_printk("dev=%d start=0x%lx block=0x%lx pages=%lu failed=%lu ret=%d",
		  __entry->dev, __entry->start, __entry->pfn, __entry->pages,
		  __entry->failed, __entry->ret)
);

TRACE_EVENT(svmx_collect,
	TP_PROTO(int dev, unsigned long start, unsigned long npages,
		 unsigned long cpages),
	TP_ARGS(dev, start, npages, cpages),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, start)
		__field(unsigned long, npages)
		__field(unsigned long, cpages)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->start = start;
		__entry->npages = npages;
		__entry->cpages = cpages;
	),
	TP_printk("dev=%d start=0x%lx npages=%lu collected=%lu", __entry->dev,
		  __entry->start, __entry->npages, __entry->cpages)
);

DECLARE_EVENT_CLASS(svmx_block_class,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned int refs),
	TP_ARGS(dev, pfn, order, refs),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, pfn)
		__field(u32, order)
		__field(unsigned int, refs)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->pfn = pfn;
		__entry->order = order;
		__entry->refs = refs;
	),
	TP_printk("dev=%d block=0x%lx order=%u refs=%u", __entry->dev,
		  __entry->pfn, __entry->order, __entry->refs)
);

DEFINE_EVENT(svmx_block_class, svmx_block_alloc,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned int refs),
	TP_ARGS(dev, pfn, order, refs)
);

DEFINE_EVENT(svmx_block_class, svmx_block_free,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned int refs),
	TP_ARGS(dev, pfn, order, refs)
);

DEFINE_EVENT(svmx_block_class, svmx_block_shrink,
	TP_PROTO(int dev, unsigned long pfn, u32 order, unsigned int refs),
	TP_ARGS(dev, pfn, order, refs)
);

TRACE_EVENT(svmx_invalidate,
	TP_PROTO(int dev, unsigned long start, unsigned long end, u32 event,
		 unsigned long cleared),
	TP_ARGS(dev, start, end, event, cleared),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, start)
		__field(unsigned long, end)
		__field(u32, event)
		__field(unsigned long, cleared)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->start = start;
		__entry->end = end;
		__entry->event = event;
		__entry->cleared = cleared;
	),
	TP_printk("dev=%d start=0x%lx end=0x%lx event=%u cleared=%lu",
		  __entry->dev, __entry->start, __entry->end, __entry->event,
		  __entry->cleared)
);

TRACE_EVENT(svmx_remote_map,
	TP_PROTO(int dev, unsigned long start, unsigned long npages,
		 unsigned long system, unsigned long peer),
	TP_ARGS(dev, start, npages, system, peer),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, start)
		__field(unsigned long, npages)
		__field(unsigned long, system)
		__field(unsigned long, peer)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->start = start;
		__entry->npages = npages;
		__entry->system = system;
		__entry->peer = peer;
	),
	TP_printk("dev=%d start=0x%lx npages=%lu system=%lu peer=%lu",
		  __entry->dev, __entry->start, __entry->npages,
		  __entry->system, __entry->peer)
);

TRACE_EVENT(svmx_policy,
	TP_PROTO(int dev, u32 hook, const char *policy, unsigned long addr,
		 u32 decision, u32 order, u32 target, bool fallback),
	TP_ARGS(dev, hook, policy, addr, decision, order, target, fallback),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u32, hook)
		__string(policy, policy)
		__field(unsigned long, addr)
		__field(u32, decision)
		__field(u32, order)
		__field(u32, target)
		__field(bool, fallback)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->hook = hook;
		__assign_str(policy);
		__entry->addr = addr;
		__entry->decision = decision;
		__entry->order = order;
		__entry->target = target;
		__entry->fallback = fallback;
	),
	TP_printk("dev=%d hook=%s policy=%s addr=0x%lx decision=%u order=%u target=%u fallback=%d",
		  __entry->dev, __print_symbolic(__entry->hook, SVMX_HOOK_NAMES),
		  __get_str(policy), __entry->addr, __entry->decision,
		  __entry->order, __entry->target, __entry->fallback)
);

TRACE_EVENT(svmx_evict_reject,
	TP_PROTO(int dev, const char *policy, u64 handle, u32 why),
	TP_ARGS(dev, policy, handle, why),
	TP_STRUCT__entry(
		__field(int, dev)
		__string(policy, policy)
		__field(u64, handle)
		__field(u32, why)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__assign_str(policy);
		__entry->handle = handle;
		__entry->why = why;
	),
	TP_printk("dev=%d policy=%s handle=0x%llx why=%s", __entry->dev,
		  __get_str(policy), __entry->handle,
		  __print_symbolic(__entry->why, SVMX_REJECT_NAMES))
);

/*
 * A shadow policy's answer next to the one applied (svmx_bpf.c): fault
 * placement/order/target, prefetch range count in @decision, cpu_fault
 * order.  @fallback: the shadow's answer was invalid or it returned an
 * error, so the default's would have been used had it been active.
 */
TRACE_EVENT(svmx_policy_shadow,
	TP_PROTO(int dev, u32 hook, const char *policy, u64 cgroup,
		 unsigned long addr, u32 decision, u32 order, u32 target,
		 bool fallback, u32 applied_decision, u32 applied_order,
		 u32 applied_target),
	TP_ARGS(dev, hook, policy, cgroup, addr, decision, order, target,
		fallback, applied_decision, applied_order, applied_target),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(u32, hook)
		__string(policy, policy)
		__field(u64, cgroup)
		__field(unsigned long, addr)
		__field(u32, decision)
		__field(u32, order)
		__field(u32, target)
		__field(bool, fallback)
		__field(u32, applied_decision)
		__field(u32, applied_order)
		__field(u32, applied_target)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->hook = hook;
		__assign_str(policy);
		__entry->cgroup = cgroup;
		__entry->addr = addr;
		__entry->decision = decision;
		__entry->order = order;
		__entry->target = target;
		__entry->fallback = fallback;
		__entry->applied_decision = applied_decision;
		__entry->applied_order = applied_order;
		__entry->applied_target = applied_target;
	),
	TP_printk("dev=%d hook=%s policy=%s cgroup=%llu addr=0x%lx decision=%u order=%u target=%u fallback=%d applied_decision=%u applied_order=%u applied_target=%u",
		  __entry->dev, __print_symbolic(__entry->hook, SVMX_HOOK_NAMES),
		  __get_str(policy), __entry->cgroup, __entry->addr,
		  __entry->decision, __entry->order, __entry->target,
		  __entry->fallback, __entry->applied_decision,
		  __entry->applied_order, __entry->applied_target)
);

/* Bindings: SVMX_IOC_BIND and the release of a bound file. */
TRACE_EVENT(svmx_bind,
	TP_PROTO(int dev, pid_t pid, int ret),
	TP_ARGS(dev, pid, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(pid_t, pid)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->pid = pid;
		__entry->ret = ret;
	),
	TP_printk("dev=%d pid=%d ret=%d", __entry->dev, __entry->pid,
		  __entry->ret)
);

TRACE_EVENT(svmx_unbind,
	TP_PROTO(int dev, bool live, unsigned long regions, u64 pages, u64 bytes),
	TP_ARGS(dev, live, regions, pages, bytes),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(bool, live)
		__field(unsigned long, regions)
		__field(u64, pages)
		__field(u64, bytes)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->live = live;
		__entry->regions = regions;
		__entry->pages = pages;
		__entry->bytes = bytes;
	),
	TP_printk("dev=%d live=%d regions=%lu pages=%llu bytes=%llu",
		  __entry->dev, __entry->live, __entry->regions, __entry->pages,
		  __entry->bytes)
);

#define SVMX_REGION_NAMES					\
	EM(SVMX_REGION_PREPARE,	"prepare")			\
	EM(SVMX_REGION_FAULT,	"fault")			\
	EMe(SVMX_REGION_MIGRATED, "migrated")

#define SVMX_PF_NAMES						\
	EM(SVMX_PF_NO_VMA,	"no_vma")			\
	EM(SVMX_PF_NOT_ANON,	"not_anon")			\
	EM(SVMX_PF_NO_READ,	"no_read")			\
	EM(SVMX_PF_VMA_END,	"vma_end")			\
	EMe(SVMX_PF_BUDGET,	"budget")

#undef EM
#undef EMe
#define EM(a, b)	TRACE_DEFINE_ENUM(a);
#define EMe(a, b)	TRACE_DEFINE_ENUM(a);

SVMX_REGION_NAMES

#undef EM
#undef EMe
#define EM(a, b)	{a, b},
#define EMe(a, b)	{a, b}

/*
 * One committed update of a 2 MiB region's history (the policy's input).
 * @reversed: this migration reversed the region's previous one, i.e. it
 * is one ping-pong (the saturating @pingpong count cannot say so once it
 * saturates, and a watcher that starts late has no previous count).
 */
TRACE_EVENT(svmx_region,
	TP_PROTO(int dev, unsigned long addr, u32 event, u32 dir, u32 placed,
		 u32 pingpong, u32 dev_faults, u32 cpu_faults, bool reversed),
	TP_ARGS(dev, addr, event, dir, placed, pingpong, dev_faults, cpu_faults,
		reversed),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(u32, event)
		__field(u32, dir)
		__field(u32, placed)
		__field(u32, pingpong)
		__field(u32, dev_faults)
		__field(u32, cpu_faults)
		__field(bool, reversed)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->event = event;
		__entry->dir = dir;
		__entry->placed = placed;
		__entry->pingpong = pingpong;
		__entry->dev_faults = dev_faults;
		__entry->cpu_faults = cpu_faults;
		__entry->reversed = reversed;
	),
	TP_printk("dev=%d region=0x%lx event=%s dir=%s placed=0x%x pingpong=%u dev_faults=%u cpu_faults=%u reversed=%d",
		  __entry->dev, __entry->addr,
		  __print_symbolic(__entry->event, SVMX_REGION_NAMES),
		  __print_symbolic(__entry->dir, SVMX_DIR_NAMES),
		  __entry->placed, __entry->pingpong, __entry->dev_faults,
		  __entry->cpu_faults, __entry->reversed)
);

/* The execution engine's forward-progress rule overrode a policy decision. */
TRACE_EVENT(svmx_progress_override,
	TP_PROTO(int dev, unsigned long addr, u32 access, u32 placement,
		 u32 target, u32 order),
	TP_ARGS(dev, addr, access, placement, target, order),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(u32, access)
		__field(u32, placement)
		__field(u32, target)
		__field(u32, order)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->access = access;
		__entry->placement = placement;
		__entry->target = target;
		__entry->order = order;
	),
	TP_printk("dev=%d addr=0x%lx access=%s decision=%s target=%u order=%u now=remote",
		  __entry->dev, __entry->addr,
		  __print_symbolic(__entry->access, SVMX_ACCESS_NAMES),
		  __print_symbolic(__entry->placement, SVMX_PLACE_NAMES),
		  __entry->target, __entry->order)
);

/* A policy's prefetch range was refused (kept=0) or clipped. */
TRACE_EVENT(svmx_prefetch_check,
	TP_PROTO(int dev, unsigned long addr, u64 start, u64 len, u64 kept,
		 u32 verdict),
	TP_ARGS(dev, addr, start, len, kept, verdict),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(u64, start)
		__field(u64, len)
		__field(u64, kept)
		__field(u32, verdict)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->start = start;
		__entry->len = len;
		__entry->kept = kept;
		__entry->verdict = verdict;
	),
	TP_printk("dev=%d addr=0x%lx start=0x%llx len=%llu kept=%llu verdict=%s",
		  __entry->dev, __entry->addr, __entry->start, __entry->len,
		  __entry->kept, __print_symbolic(__entry->verdict, SVMX_PF_NAMES))
);

/* What became of a device fault: the policy's fault_done notification. */
TRACE_EVENT(svmx_fault_done,
	TP_PROTO(const struct svmx_fault_done *d),
	TP_ARGS(d),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(u32, placement)
		__field(u32, asked_order)
		__field(int, got_order)
		__field(u32, overridden)
		__field(u32, pages)
		__field(u32, prefetch_pages)
		__field(u32, refused)
		__field(u32, clipped)
	),
	TP_fast_assign(
		__entry->dev = d->dev;
		__entry->addr = d->addr;
		__entry->placement = d->placement;
		__entry->asked_order = d->asked_order;
		__entry->got_order = d->got_order;
		__entry->overridden = d->overridden;
		__entry->pages = d->pages_migrated;
		__entry->prefetch_pages = d->prefetch_pages;
		__entry->refused = d->prefetch_refused;
		__entry->clipped = d->prefetch_clipped;
	),
	TP_printk("dev=%d addr=0x%lx placement=%s asked_order=%u got_order=%d overridden=%u pages=%u prefetch_pages=%u refused=%u clipped=%u",
		  __entry->dev, __entry->addr,
		  __print_symbolic(__entry->placement, SVMX_PLACE_NAMES),
		  __entry->asked_order, __entry->got_order, __entry->overridden,
		  __entry->pages, __entry->prefetch_pages, __entry->refused,
		  __entry->clipped)
);

/* A write fault met a read-only (copy-on-write shared) device page. */
TRACE_EVENT(svmx_unshare,
	TP_PROTO(int dev, unsigned long addr, u64 pages, bool fallback, int ret),
	TP_ARGS(dev, addr, pages, fallback, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, addr)
		__field(u64, pages)
		__field(bool, fallback)
		__field(int, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->addr = addr;
		__entry->pages = pages;
		__entry->fallback = fallback;
		__entry->ret = ret;
	),
	TP_printk("dev=%d addr=0x%lx pages=%llu fallback=%d ret=%d",
		  __entry->dev, __entry->addr, __entry->pages,
		  __entry->fallback, __entry->ret)
);

/* An invalidation resumed device work that it had suspended. */
TRACE_EVENT(svmx_queue_preempt,
	TP_PROTO(int dev, unsigned long start, unsigned long end, u32 event),
	TP_ARGS(dev, start, end, event),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned long, start)
		__field(unsigned long, end)
		__field(u32, event)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->start = start;
		__entry->end = end;
		__entry->event = event;
	),
	TP_printk("dev=%d start=0x%lx end=0x%lx event=%u", __entry->dev,
		  __entry->start, __entry->end, __entry->event)
);

#endif /* _SVMX_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE svmx_trace
#include <trace/define_trace.h>
