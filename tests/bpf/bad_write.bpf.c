// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy the verifier must refuse: it writes a field of the fault
 * context outside the answer (the faulting address).
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

int SVMX_OPS(bad_write_fault, struct svmx_fault_ctx *f)
{
	f->info.addr = 0;
	return 0;
}

SVMX_OPS_DEFINE(bad_write_ops,
		.fault	= (void *)bad_write_fault,
		.name	= "test_bad_write");
