// SPDX-License-Identifier: GPL-2.0
/*
 * thrash - detect CPU<->device ping-pong per 2 MiB region and pin a
 * thrashing region to system memory for a while (NVIDIA UVM's thrashing
 * mitigation, reworked for svmx's region history).
 *
 * What it does: the kernel counts, per binding and 2 MiB region, how
 * often the region's migrations changed direction (region_pingpong of the
 * fault and cpu_fault contexts).  The policy watches that count on every
 * device and CPU fault of the region: each increase is a thrashing event,
 * and events closer than `lapse_us` to the previous one accumulate (a
 * longer gap starts the count again).  When `threshold` events have
 * accumulated the region is pinned for `pin_ms`: device faults in it map
 * system memory remotely instead of migrating, so the CPU and the device
 * both reach the data where it is and nothing moves back and forth.
 * When the pin expires the region migrates again, and is pinned again if
 * it still thrashes.  Regions never pinned keep the default's decisions.
 *
 * When to use it: CPU and device taking turns on the same data at a fine
 * grain (producer/consumer loops, shared counters, flags), where every
 * turn would otherwise migrate the region both ways.
 *
 * Knobs (const volatile, set before load), UVM's defaults:
 *   threshold - thrashing events that pin a region (default 3)
 *   lapse_us - the most time between two events of one episode
 *	(default 500 us)
 *   pin_ms - how long a region stays pinned (default 150 ms)
 * Live state: thrash_regions, one entry per region seen thrashing (the
 * pin deadline in ns of bpf_ktime_get_ns(); user space may delete an
 * entry to unpin a region at once).
 */
#include <svmx/svmx.bpf.h>
#include <svmx/detect.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 threshold = 3;
const volatile __u64 lapse_us = 500;
const volatile __u64 pin_ms = 150;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct svmx_thrash_key);
	__type(value, struct svmx_thrash_state);
} thrash_regions SEC(".maps");

/* Counts for user space. */
__u64 pins;		/* times a region was pinned */
__u64 pinned_faults;	/* device faults mapped remotely because of a pin */

static struct svmx_thrash_state *observe(__u64 ctx, __u64 addr, __u32 pingpong,
					 __u64 now)
{
	return svmx_thrash_observe(&thrash_regions, ctx, addr, pingpong, now, threshold,
				   lapse_us * 1000, pin_ms * 1000000, &pins);
}

int SVMX_OPS(thrash_fault, struct svmx_fault_ctx *fault)
{
	__u64 now = bpf_ktime_get_ns();
	struct svmx_thrash_state *st;

	st = observe(fault->info.ctx_handle, fault->info.addr,
		     fault->info.region_pingpong, now);
	if (st && now < st->pinned_until_ns) {
		fault->answer.placement = SVMX_PLACE_REMOTE;
		__sync_fetch_and_add(&pinned_faults, 1);
	}
	return 0;
}

int SVMX_OPS(thrash_cpu_fault, struct svmx_cpu_fault_ctx *cf)
{
	observe(cf->info.ctx_handle, cf->info.addr, cf->info.region_pingpong,
		bpf_ktime_get_ns());
	return 0;
}

SVMX_OPS_DEFINE(thrash_ops,
		.fault		= (void *)thrash_fault,
		.cpu_fault	= (void *)thrash_cpu_fault,
		.name		= "thrash");
