/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What svmxctl's stats programs (stats.bpf.c) count, shared with their
 * reader (tools/svmxctl/stats.c).  One struct ctl_stats_row per device,
 * per deciding policy and per cgroup, in per-CPU maps summed by the
 * reader.
 */
#ifndef CTL_STATS_H
#define CTL_STATS_H

/*
 * Fault-service time histogram: bucket i counts faults served in at most
 * 2^i ns and more than 2^(i-1) ns (bucket 0: at most 1 ns); the last
 * bucket counts everything above 2^(CTL_STATS_BUCKETS - 2) ns (17 s).
 */
#define CTL_STATS_BUCKETS	36
#define CTL_STATS_NAME_LEN	32	/* SVMX_OPS_NAME_LEN */
#define CTL_STATS_MAX_DEVICES	8	/* SVMX_MAX_DEVICES */
#define CTL_STATS_MAX_POLICIES	256
#define CTL_STATS_MAX_CGROUPS	1024

/**
 * struct ctl_stats_row - the counters of one device, policy or cgroup
 * @faults: device faults serviced (svmx:svmx_fault)
 * @fault_errors: of which ended with an error
 * @remote: of which were mapped remotely (placement remote, applied)
 * @cpu_faults: CPU faults on device pages (svmx:svmx_cpu_fault, cpu=1)
 * @pages_to_device: pages migrated to device memory (svmx:svmx_migrate)
 * @pages_to_system: pages migrated to system memory, evictions included
 * @bytes_to_device: bytes copied to device memory
 * @bytes_to_system: bytes copied to system memory
 * @copy_cmds: copy commands
 * @evictions: eviction attempts on a block (svmx:svmx_evict)
 * @evicted_pages: pages those attempts moved to system memory
 * @evictions_failed: attempts that left pages in their block
 * @pingpong: migrations that reversed their region's previous one
 *	(svmx:svmx_region, reversed=1)
 * @remote_pages: system pages mapped into device page tables
 *	(svmx:svmx_remote_map)
 * @peer_pages: hive peers' pages mapped into device page tables
 * @decisions: policy decisions, every hook (svmx:svmx_policy)
 * @fallbacks: of which fell back to the built-in default
 * @service_ns: sum of the fault-service times of @faults
 * @hist: @faults by service time, see CTL_STATS_BUCKETS
 */
struct ctl_stats_row {
	__u64 faults;
	__u64 fault_errors;
	__u64 remote;
	__u64 cpu_faults;
	__u64 pages_to_device;
	__u64 pages_to_system;
	__u64 bytes_to_device;
	__u64 bytes_to_system;
	__u64 copy_cmds;
	__u64 evictions;
	__u64 evicted_pages;
	__u64 evictions_failed;
	__u64 pingpong;
	__u64 remote_pages;
	__u64 peer_pages;
	__u64 decisions;
	__u64 fallbacks;
	__u64 service_ns;
	__u64 hist[CTL_STATS_BUCKETS];
};

/* Key of the per-policy map: the name svmx:svmx_policy gives, NUL-padded. */
struct ctl_stats_policy_key {
	char name[CTL_STATS_NAME_LEN];
};

#endif /* CTL_STATS_H */
