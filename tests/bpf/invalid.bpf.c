// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: answers every device fault with an order the core must
 * reject (above SVMX_CHUNK_ORDER), and every CPU fault likewise.  The core
 * falls back to the default's answer, counts each as invalid, and ejects
 * the policy once svmx.bpf_invalid_budget is exceeded.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

int SVMX_OPS(invalid_fault, struct svmx_fault_ctx *fault)
{
	fault->answer.order = 42;
	return 0;
}

int SVMX_OPS(invalid_cpu_fault, struct svmx_cpu_fault_ctx *cf)
{
	cf->order = SVMX_CHUNK_ORDER + 1;
	return 0;
}

SVMX_OPS_DEFINE(invalid_ops,
		.fault		= (void *)invalid_fault,
		.cpu_fault	= (void *)invalid_cpu_fault,
		.name		= "test_invalid");
