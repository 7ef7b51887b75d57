// SPDX-License-Identifier: GPL-2.0
/*
 * sysmem - never migrate: device faults map system memory remotely.
 *
 * What it does: every device fault is answered "map remotely" (zero
 * copy): the device reaches the pages over the host link where they are,
 * and nothing moves into device memory.  Pages already in device memory
 * stay there until the CPU touches them.
 *
 * When to use it: data the device touches once or sparsely (streaming
 * input, large lookup tables), data shared with the CPU at a fine grain,
 * or to take device memory out of the picture when chasing a problem.
 *
 * Knobs (const volatile, set before load):
 *   honour_preferred - when true (default), a range whose preferred
 *	location is advised to be the faulting device is still migrated
 *	(the built-in default's decision); when false, nothing ever moves.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile bool honour_preferred = true;

int SVMX_OPS(sysmem_fault, struct svmx_fault_ctx *fault)
{
	if (honour_preferred && fault->info.preferred == fault->info.dev)
		return 0;	/* keep the default's answer: migrate */
	fault->answer.placement = SVMX_PLACE_REMOTE;
	return 0;
}

SVMX_OPS_DEFINE(sysmem_ops,
		.fault	= (void *)sysmem_fault,
		.name	= "sysmem");
