// SPDX-License-Identifier: GPL-2.0
/*
 * default - the BPF twin of svmx's built-in default policy.
 *
 * What it does: on a device fault, migrate the aligned 2 MiB chunk around
 * the fault to the faulting device; map system memory remotely when the
 * range's preferred location is system memory; migrate to a hive peer
 * that is the preferred location.  On a CPU fault, bring back the aligned
 * 2 MiB chunk.  Eviction is left out: like the built-in default, it
 * proposes no victim of its own, and the kernel's LRU evicts.
 *
 * When to use it: as the starting point of a new policy, and to measure
 * what running decisions in BPF costs against the built-in default (its
 * decisions are the same, which tests/bpf/svmx_bpf_test.c checks).
 *
 * Knobs: none.  It computes every answer itself rather than relying on
 * the default's answer that the core pre-fills, so it really is a twin.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

int SVMX_OPS(default_fault, struct svmx_fault_ctx *fault)
{
	__u32 preferred = fault->info.preferred;

	fault->answer.placement = SVMX_PLACE_MIGRATE;
	fault->answer.target = fault->info.dev;
	fault->answer.order = SVMX_CHUNK_ORDER;
	if (preferred == SVMX_TARGET_SYSTEM)
		fault->answer.placement = SVMX_PLACE_REMOTE;
	else if (preferred < SVMX_MAX_DEVICES &&
		 (fault->info.hive_mask & (1u << preferred)))
		fault->answer.target = preferred;
	return 0;
}

int SVMX_OPS(default_cpu_fault, struct svmx_cpu_fault_ctx *cf)
{
	cf->order = SVMX_CHUNK_ORDER;
	return 0;
}

SVMX_OPS_DEFINE(default_ops,
		.fault		= (void *)default_fault,
		.cpu_fault	= (void *)default_cpu_fault,
		.name		= "default");
