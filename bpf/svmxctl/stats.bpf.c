// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl's counters (svmxctl stats, top, export): per device, per
 * deciding policy and per cgroup, device faults (remote ones apart), CPU
 * faults, pages and bytes each way, evictions, ping-pong, remote
 * mappings, policy decisions and fallbacks, and a log2 histogram of the
 * fault-service time.  Per-CPU maps; user space sums the CPUs.
 *
 * Why tp_btf: the svmx: tracepoints live in svmx.ko, whose BTF carries
 * their btf_trace_svmx_* prototypes, so BTF-typed raw tracepoint programs
 * attach to them on 6.12 (module raw tracepoints with BTF exist since
 * 5.11; libbpf finds the target in the module's BTF).  They get the
 * tracepoint's own arguments, typed and checked at load, without the
 * trace buffer's entry being built for them (a classic tracepoint
 * program reads that entry through its tracefs layout) and without any
 * text.  A field is read by its position in TP_PROTO, so fields added at
 * the end of a tracepoint do not move the ones read here.
 *
 * Attribution:
 *  - device: the tracepoint's device (for a migration, the device whose
 *    memory was filled or emptied);
 *  - cgroup: the cgroup of the task the event happened in
 *    (bpf_get_current_cgroup_id()): the process running device work for
 *    its faults and the migrations and evictions they cause, the task
 *    touching a page for a CPU fault.  That is the cgroup svmx counts a
 *    binding's work against as long as the process stays in the cgroup
 *    it bound from;
 *  - policy: the policy named by the svmx:svmx_policy event that opened
 *    the decision the event belongs to.  A device fault's decision
 *    (hook fault) covers everything up to its svmx:svmx_fault event: its
 *    migrations, prefetch, mappings and the evictions made for it; a CPU
 *    fault's (hook cpu_fault) everything up to its svmx:svmx_cpu_fault,
 *    and the region update (ping-pong) right after it.
 *    Evictions for an explicit SVMX_IOC_MIGRATE belong to the policy that
 *    chose their victims (hook victim), up to the end of the ioctl.  What
 *    belongs to no decision (an explicit migration's pages, the evictions
 *    of debugfs evict_all, unbinding) goes to the empty name, shown as
 *    "(none)".  The open decision is kept in task-local storage.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ctl_stats.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTL_STATS_MAX_DEVICES);
	__type(key, __u32);
	__type(value, struct ctl_stats_row);
} by_device SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CTL_STATS_MAX_POLICIES);
	__type(key, struct ctl_stats_policy_key);
	__type(value, struct ctl_stats_row);
} by_policy SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, CTL_STATS_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, struct ctl_stats_row);
} by_cgroup SEC(".maps");

/*
 * The decisions a task is inside: a device fault's or ioctl's, a CPU
 * fault's; and the last CPU fault's, for the region update that follows
 * its svmx:svmx_cpu_fault event (svmx_migrate_to_ram() records the
 * ping-pong after tracing the fault).
 */
struct open_decision {
	struct ctl_stats_policy_key dev;
	struct ctl_stats_policy_key cpu;
	struct ctl_stats_policy_key last_cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct open_decision);
} decisions SEC(".maps");

/* The value a new hash entry starts from (too big for the BPF stack). */
struct ctl_stats_row zero_row;

struct rows {
	struct ctl_stats_row *dev, *pol, *cg;
};

static __always_inline struct ctl_stats_row *hash_row(void *map, const void *key)
{
	struct ctl_stats_row *row = bpf_map_lookup_elem(map, key);

	if (row)
		return row;
	bpf_map_update_elem(map, key, &zero_row, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct open_decision *open_decision(bool create)
{
	return bpf_task_storage_get(&decisions, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/*
 * The rows an event of device @dev counts in; @after_cpu: the event
 * follows a CPU fault's own event (its region update).
 */
static __always_inline void rows_of(int dev, struct rows *r, bool after_cpu)
{
	struct ctl_stats_policy_key key = {};
	struct open_decision *od = open_decision(false);
	__u32 d = dev;
	__u64 cg;

	/* A CPU fault can happen inside a device fault: the inner one wins. */
	if (od && after_cpu)
		__builtin_memcpy(&key, &od->last_cpu, sizeof(key));
	else if (od && od->cpu.name[0])
		__builtin_memcpy(&key, &od->cpu, sizeof(key));
	else if (od)
		__builtin_memcpy(&key, &od->dev, sizeof(key));
	r->dev = d < CTL_STATS_MAX_DEVICES ? bpf_map_lookup_elem(&by_device, &d) : NULL;
	r->pol = hash_row(&by_policy, &key);
	cg = bpf_get_current_cgroup_id();
	r->cg = hash_row(&by_cgroup, &cg);
}

#define ADD(r, field, val) do {				\
	__u64 __v = (val);				\
							\
	if ((r)->dev)					\
		(r)->dev->field += __v;			\
	if ((r)->pol)					\
		(r)->pol->field += __v;			\
	if ((r)->cg)					\
		(r)->cg->field += __v;			\
} while (0)

/* Histogram bucket of @ns: ceil(log2(ns)), the last bucket for the rest. */
static __always_inline __u32 bucket(__u64 ns)
{
	__u64 v = ns - 1;
	__u32 b = 0, shift;

	if (ns <= 1)
		return 0;
	shift = (v > 0xffffffffULL) << 5; v >>= shift; b |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; b |= shift;
	shift = (v > 0xff) << 3; v >>= shift; b |= shift;
	shift = (v > 0xf) << 2; v >>= shift; b |= shift;
	shift = (v > 0x3) << 1; v >>= shift; b |= shift;
	b |= (v >> 1);
	b += 1;		/* floor(log2(ns - 1)) + 1 == ceil(log2(ns)) */
	return b < CTL_STATS_BUCKETS - 1 ? b : CTL_STATS_BUCKETS - 1;
}

static __always_inline void add_hist(struct ctl_stats_row *row, __u32 b)
{
	if (row && b < CTL_STATS_BUCKETS)
		row->hist[b]++;
}

SEC("tp_btf/svmx_policy")
int BPF_PROG(svmx_policy, int dev, u32 hook, const char *policy,
	     unsigned long addr, u32 decision, u32 order, u32 target,
	     bool fallback)
{
	struct ctl_stats_policy_key key = {};
	struct open_decision *od = open_decision(true);
	struct rows r;

	bpf_probe_read_kernel_str(key.name, sizeof(key.name), policy);
	if (od) {
		if (hook == SVMX_HOOK_FAULT)
			__builtin_memcpy(&od->dev, &key, sizeof(key));
		else if (hook == SVMX_HOOK_CPU_FAULT)
			__builtin_memcpy(&od->cpu, &key, sizeof(key));
		else if (hook == SVMX_HOOK_VICTIM && !od->dev.name[0] &&
			 !od->cpu.name[0])
			__builtin_memcpy(&od->dev, &key, sizeof(key));
	}
	rows_of(dev, &r, false);
	/* The decision counts for the policy that took it. */
	r.pol = hash_row(&by_policy, &key);
	ADD(&r, decisions, 1);
	ADD(&r, fallbacks, fallback);
	return 0;
}

SEC("tp_btf/svmx_fault")
int BPF_PROG(svmx_fault, int dev, unsigned long addr, u32 access,
	     u32 placement, u32 order, unsigned long start, unsigned long end,
	     u64 ns, int ret)
{
	struct open_decision *od;
	__u32 b = bucket(ns);
	struct rows r;

	rows_of(dev, &r, false);
	ADD(&r, faults, 1);
	ADD(&r, fault_errors, ret != 0);
	ADD(&r, remote, placement == SVMX_PLACE_REMOTE);
	ADD(&r, service_ns, ns);
	add_hist(r.dev, b);
	add_hist(r.pol, b);
	add_hist(r.cg, b);
	od = open_decision(false);
	if (od)
		__builtin_memset(&od->dev, 0, sizeof(od->dev));
	return 0;
}

SEC("tp_btf/svmx_cpu_fault")
int BPF_PROG(svmx_cpu_fault, int dev, unsigned long addr, bool cpu, u32 order,
	     u64 pages, int ret)
{
	struct open_decision *od;
	struct rows r;

	rows_of(dev, &r, false);
	ADD(&r, cpu_faults, cpu);
	od = open_decision(false);
	if (od) {
		__builtin_memcpy(&od->last_cpu, &od->cpu, sizeof(od->cpu));
		__builtin_memset(&od->cpu, 0, sizeof(od->cpu));
	}
	return 0;
}

SEC("tp_btf/svmx_migrate")
int BPF_PROG(svmx_migrate, int dev, u32 dir, unsigned long start,
	     unsigned long requested, unsigned long collected,
	     unsigned long migrated, u64 copy_cmds, u64 bytes)
{
	struct rows r;

	rows_of(dev, &r, false);
	if (dir == SVMX_DIR_TO_DEVICE) {
		ADD(&r, pages_to_device, migrated);
		ADD(&r, bytes_to_device, bytes);
	} else {
		ADD(&r, pages_to_system, migrated);
		ADD(&r, bytes_to_system, bytes);
	}
	ADD(&r, copy_cmds, copy_cmds);
	return 0;
}

SEC("tp_btf/svmx_evict")
int BPF_PROG(svmx_evict, int dev, unsigned long pfn, u32 order,
	     unsigned long pages, unsigned int left, u32 reason, int ret)
{
	struct rows r;

	rows_of(dev, &r, false);
	ADD(&r, evictions, 1);
	ADD(&r, evicted_pages, pages);
	ADD(&r, evictions_failed, ret != 0);
	return 0;
}

SEC("tp_btf/svmx_region")
int BPF_PROG(svmx_region, int dev, unsigned long addr, u32 event, u32 dir,
	     u32 placed, u32 pingpong, u32 dev_faults, u32 cpu_faults,
	     bool reversed)
{
	struct rows r;

	if (!reversed)
		return 0;
	/* Only a CPU fault migrates a region to system memory with a record. */
	rows_of(dev, &r, dir == SVMX_DIR_TO_SYSTEM);
	ADD(&r, pingpong, 1);
	return 0;
}

SEC("tp_btf/svmx_remote_map")
int BPF_PROG(svmx_remote_map, int dev, unsigned long start,
	     unsigned long npages, unsigned long system, unsigned long peer)
{
	struct rows r;

	rows_of(dev, &r, false);
	ADD(&r, remote_pages, system);
	ADD(&r, peer_pages, peer);
	return 0;
}

/* Every ioctl ends here: no decision of the task stays open past it. */
SEC("tp_btf/svmx_ioctl")
int BPF_PROG(svmx_ioctl, int dev, unsigned int cmd, long ret)
{
	struct open_decision *od = open_decision(false);

	if (od) {
		__builtin_memset(&od->dev, 0, sizeof(od->dev));
		__builtin_memset(&od->cpu, 0, sizeof(od->cpu));
	}
	return 0;
}
