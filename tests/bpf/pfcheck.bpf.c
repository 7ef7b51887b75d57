// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: answers every prefetch with the ranges in its knobs
 * (start[i], len[i] for i below nr), which the test aims outside any VMA,
 * at a file mapping, at PROT_NONE memory, past a VMA's end and past the
 * per-fault budget: the kernel must refuse or clip each one.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 nr;
const volatile __u64 start[SVMX_MAX_PREFETCH];
const volatile __u64 len[SVMX_MAX_PREFETCH];

int SVMX_OPS(pfcheck_prefetch, struct svmx_prefetch_ctx *pf)
{
	__u32 i;

	for (i = 0; i < SVMX_MAX_PREFETCH && i < nr; i++) {
		pf->answer.range[i].start = start[i];
		pf->answer.range[i].len = len[i];
	}
	pf->answer.nr = nr;
	return 0;
}

SVMX_OPS_DEFINE(pfcheck_ops,
		.prefetch	= (void *)pfcheck_prefetch,
		.name		= "test_pfcheck");
