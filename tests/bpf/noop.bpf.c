// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark policy: the decision callbacks the BPF default has (fault,
 * cpu_fault, evict), each returning 0 without touching its context, so
 * that the built-in default's answer, which the core fills in before the
 * call, is applied.  make bench compares the CPU time per device fault
 * of the built-in default, this policy (what calling a BPF program
 * costs) and policy/default.bpf.c (calling it and computing the answer).
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

int SVMX_OPS(noop_fault, struct svmx_fault_ctx *fault)
{
	return 0;
}

int SVMX_OPS(noop_cpu_fault, struct svmx_cpu_fault_ctx *cf)
{
	return 0;
}

int SVMX_OPS(noop_evict, struct svmx_evict_ctx *ev)
{
	return 0;
}

SVMX_OPS_DEFINE(noop_ops,
		.fault		= (void *)noop_fault,
		.cpu_fault	= (void *)noop_cpu_fault,
		.evict		= (void *)noop_evict,
		.name		= "noop");
