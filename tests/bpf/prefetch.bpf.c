// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: after each migrated fault chunk, prefetch the next 2 MiB
 * chunk when it lies in the same VMA.  Knob misalign: start each range one
 * byte off a page boundary, an answer the kernel must reject.  Knobs
 * order and target (-1: keep the default's) set the chunk order and the
 * device of the prefetch.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

#define CHUNK	(1ull << 21)

const volatile bool misalign;
const volatile int order = -1;
const volatile int target = -1;

int SVMX_OPS(prefetch_prefetch, struct svmx_prefetch_ctx *pf)
{
	__u64 next = (pf->info.addr & ~(CHUNK - 1)) + CHUNK;

	if (next + CHUNK > pf->info.vma_end)
		return 0;
	pf->answer.nr = 1;
	pf->answer.range[0].start = next + (misalign ? 1 : 0);
	pf->answer.range[0].len = CHUNK;
	if (order >= 0)
		pf->answer.order = order;
	if (target >= 0)
		pf->answer.target = target;
	return 0;
}

SVMX_OPS_DEFINE(prefetch_ops,
		.prefetch	= (void *)prefetch_prefetch,
		.name		= "test_prefetch");
