// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Modeled device clock
 *
 * This machine class has no accelerator and runs the test kernel under
 * software emulation, so wall time cannot rank placement policies.  Each
 * device instead keeps a deterministic modeled clock: every local access,
 * remote access, fault batch, migration copy and eviction is charged from
 * the parameters below.  The defaults model a PCIe Gen5 x16 accelerator
 * with HBM; docs/cost-model.md gives the source of each figure.
 *
 * The functions here are pure arithmetic (KUnit: svmx_kunit.c).
 */
#include <kunit/visibility.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>

#include "svmx.h"

const struct svmx_cost_params svmx_cost_defaults = {
	.local_bw_mbps	= 2000000,	/* HBM2e, 2.0 TB/s */
	.local_lat_ns	= 480,
	.link_bw_mbps	= 53000,	/* PCIe 5.0 x16, ~85% of 63 GB/s */
	.link_lat_ns	= 1000,
	.peer_bw_mbps	= 300000,	/* NVLink-class bridge, per direction */
	.peer_lat_ns	= 1000,
	.fault_batch_ns	= 20000,	/* UVM-class fault batch service */
	.fault_ns	= 500,
	.copy_setup_ns	= 3000,		/* copy-engine command launch */
	.evict_block_ns	= 10000,
};
EXPORT_SYMBOL_IF_KUNIT(svmx_cost_defaults);

/**
 * svmx_cost_bytes() - time to move bytes at a bandwidth
 * @bw_mbps: bandwidth in MB/s (10^6 bytes per second); 0 is treated as 1
 * @bytes: bytes moved
 *
 * Return: nanoseconds, rounded up.
 */
u64 svmx_cost_bytes(u32 bw_mbps, u64 bytes)
{
	/* ns = bytes * 10^9 / (bw * 10^6) = bytes * 1000 / bw */
	return div64_u64(bytes * 1000 + max(bw_mbps, 1U) - 1, max(bw_mbps, 1U));
}
EXPORT_SYMBOL_IF_KUNIT(svmx_cost_bytes);

/**
 * svmx_cost_access() - cost of one device access
 * @p: cost parameters
 * @kind: where the accessed memory lives
 * @bytes: bytes accessed
 *
 * Return: nanoseconds: the access latency of @kind plus transfer time.
 */
u64 svmx_cost_access(const struct svmx_cost_params *p, enum svmx_mem_kind kind,
		     u64 bytes)
{
	switch (kind) {
	case SVMX_MEM_LOCAL:
		return p->local_lat_ns + svmx_cost_bytes(p->local_bw_mbps, bytes);
	case SVMX_MEM_PEER:
		return p->peer_lat_ns + svmx_cost_bytes(p->peer_bw_mbps, bytes);
	case SVMX_MEM_SYSTEM:
	default:
		return p->link_lat_ns + svmx_cost_bytes(p->link_bw_mbps, bytes);
	}
}
EXPORT_SYMBOL_IF_KUNIT(svmx_cost_access);

/**
 * svmx_cost_copy() - cost of a migration's copies over the host link
 * @p: cost parameters
 * @cmds: copy commands issued
 * @bytes: bytes copied
 *
 * Every migration moves data between system and device memory; peers are
 * mapped, never copied device to device.
 *
 * Return: nanoseconds: a launch cost per command plus transfer time.
 */
u64 svmx_cost_copy(const struct svmx_cost_params *p, u64 cmds, u64 bytes)
{
	return cmds * p->copy_setup_ns + svmx_cost_bytes(p->link_bw_mbps, bytes);
}
EXPORT_SYMBOL_IF_KUNIT(svmx_cost_copy);

/**
 * svmx_cost_fault_batch() - cost of servicing one batch of device faults
 * @p: cost parameters
 * @nr_faults: faults in the batch
 *
 * Return: nanoseconds, excluding the migrations the faults cause.
 */
u64 svmx_cost_fault_batch(const struct svmx_cost_params *p, u64 nr_faults)
{
	return nr_faults ? p->fault_batch_ns + nr_faults * p->fault_ns : 0;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_cost_fault_batch);

/**
 * svmx_cost_param_check() - validate a value written to a cost parameter
 * @name: parameter name, as in sysfs
 * @value: new value
 *
 * Bandwidths must be non-zero (they divide); latencies may be zero.
 *
 * Return: 0 or -EINVAL.
 */
int svmx_cost_param_check(const char *name, u32 value)
{
	if (strstr(name, "_bw_mbps") && value == 0)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_cost_param_check);
