/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmx internal interfaces.
 *
 * Object levels (one struct each):
 *   struct svmx_device  - one virtual accelerator, /dev/svmxN
 *   struct svmx_block   - a refcounted block of device memory
 *   struct svmx_ctx     - a binding of one mm to one device: device page
 *                         table, notifier, advice, per-region history
 *   struct svmx_policy_ops - the decision interface (built-in default now,
 *                         BPF struct_ops later)
 */
#ifndef _SVMX_H
#define _SVMX_H

#include <linux/genalloc.h>
#include <linux/hmm.h>
#include <linux/list.h>
#include <linux/maple_tree.h>
#include <linux/memremap.h>
#include <linux/miscdevice.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "uapi/svmx.h"

#define SVMX_MAX_DEVICES	8
#define SVMX_CHUNK_ORDER	(21 - PAGE_SHIFT)	/* 2 MiB */
#define SVMX_MID_ORDER		(16 - PAGE_SHIFT)	/* 64 KiB */
#define SVMX_REGION_SHIFT	21			/* ping-pong regions */
#define SVMX_FAULT_BATCH	256	/* fault-buffer entries serviced at once */
#define SVMX_EVICT_CANDIDATES	8	/* LRU blocks offered to the policy */

/* Enumerations shared with the tracepoints (svmx_trace.h prints them). */
enum svmx_access {
	SVMX_ACCESS_READ,
	SVMX_ACCESS_WRITE,
	SVMX_ACCESS_ATOMIC,
};

/**
 * enum svmx_placement - where a device fault's data should be
 * @SVMX_PLACE_MIGRATE: migrate the chunk to @target device memory
 * @SVMX_PLACE_REMOTE: leave pages where they are and map them (zero copy)
 */
enum svmx_placement {
	SVMX_PLACE_MIGRATE,
	SVMX_PLACE_REMOTE,
};

enum svmx_dir {
	SVMX_DIR_TO_DEVICE,
	SVMX_DIR_TO_SYSTEM,
};

enum svmx_evict_reason {
	SVMX_EVICT_PRESSURE,	/* a block allocation needed room */
	SVMX_EVICT_TEARDOWN,	/* module unload / device removal */
	SVMX_EVICT_REQUEST,	/* debugfs request */
};

enum svmx_policy_hook {
	SVMX_HOOK_FAULT,
	SVMX_HOOK_CPU_FAULT,
	SVMX_HOOK_PREFETCH,
	SVMX_HOOK_VICTIM,
};

/* ---------------------------------------------------------------------
 * Cost model (svmx_cost.c): pure arithmetic, unit-tested by KUnit.
 */

/**
 * struct svmx_cost_params - modeled device costs, sysfs tunable
 * @local_bw_mbps:	device-memory bandwidth, MB/s
 * @local_lat_ns:	device-memory access latency
 * @link_bw_mbps:	host link bandwidth (remote access and migration), MB/s
 * @link_lat_ns:	host link access latency
 * @peer_bw_mbps:	hive link bandwidth, MB/s
 * @peer_lat_ns:	hive link latency
 * @fault_batch_ns:	fixed cost of servicing one fault batch
 * @fault_ns:		additional cost per fault in a batch
 * @copy_setup_ns:	cost of issuing one copy command
 * @evict_block_ns:	fixed bookkeeping cost of evicting one block
 */
struct svmx_cost_params {
	u32 local_bw_mbps;
	u32 local_lat_ns;
	u32 link_bw_mbps;
	u32 link_lat_ns;
	u32 peer_bw_mbps;
	u32 peer_lat_ns;
	u32 fault_batch_ns;
	u32 fault_ns;
	u32 copy_setup_ns;
	u32 evict_block_ns;
};

enum svmx_mem_kind {
	SVMX_MEM_LOCAL,
	SVMX_MEM_SYSTEM,
	SVMX_MEM_PEER,
};

extern const struct svmx_cost_params svmx_cost_defaults;
u64 svmx_cost_bytes(u32 bw_mbps, u64 bytes);
u64 svmx_cost_access(const struct svmx_cost_params *p, enum svmx_mem_kind kind,
		     u64 bytes);
u64 svmx_cost_copy(const struct svmx_cost_params *p, bool peer, u64 cmds,
		   u64 bytes);
u64 svmx_cost_fault_batch(const struct svmx_cost_params *p, u64 nr_faults);
int svmx_cost_param_check(const char *name, u32 value);

/* ---------------------------------------------------------------------
 * Chunk arithmetic (svmx_chunk.c): pure, unit-tested by KUnit.
 */

/**
 * struct svmx_span - a page-aligned virtual range [start, end)
 * @start: first byte
 * @end: one past the last byte
 */
struct svmx_span {
	unsigned long start;
	unsigned long end;
};

struct svmx_span svmx_chunk_around(unsigned long addr, unsigned int order,
				   unsigned long vm_start, unsigned long vm_end);
int svmx_range_check(u64 addr, u64 length, u64 max_length);

#endif /* _SVMX_H */
