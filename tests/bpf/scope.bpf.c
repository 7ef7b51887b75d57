// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy for scopes, shadows, the budget window and live swaps
 * (tests/bpf/svmx_scope_test.c): every device fault gets the placement and
 * order of the knobs, or an order the core must reject.  It counts its own
 * fault calls, and its exit callback records how it went.  The test sets
 * the scope (cgroup_id), the flags (SVMX_OPS_SHADOW) and the name in the
 * skeleton's struct_ops before load.
 *
 * Knobs (const volatile, set before load):
 *   placement - SVMX_PLACE_MIGRATE (default) or SVMX_PLACE_REMOTE
 *   order     - order of every answer (default 0: one page)
 *   invalid   - answer order 42 instead, which the core rejects
 *   fail_init - init refuses the attach
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 placement = SVMX_PLACE_MIGRATE;
const volatile __u32 order;
const volatile bool invalid;
const volatile bool fail_init;

__u64 nr_fault;		/* fault callback runs, counted by the policy */
__u64 exit_fault_calls;	/* the kernel's count, from the exit info */
__u32 exit_kind;
__u32 exited;

int SVMX_OPS_SLEEPABLE(scope_init)
{
	return fail_init ? -1 : 0;
}

int SVMX_OPS(scope_fault, struct svmx_fault_ctx *fault)
{
	__sync_fetch_and_add(&nr_fault, 1);
	fault->answer.placement = placement;
	fault->answer.order = invalid ? 42 : order;
	return 0;
}

void SVMX_OPS_SLEEPABLE(scope_exit, struct svmx_exit_info *ei)
{
	exit_fault_calls = ei->calls[SVMX_CB_FAULT];
	exit_kind = ei->kind;
	exited = 1;
}

SVMX_OPS_DEFINE(scope_ops,
		.init	= (void *)scope_init,
		.fault	= (void *)scope_fault,
		.exit	= (void *)scope_exit,
		.name	= "test_scope");
