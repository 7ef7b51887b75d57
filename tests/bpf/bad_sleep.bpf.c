// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy the kernel must refuse: a sleepable fault callback, which
 * would run where the fault path holds rcu_read_lock().
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

int SVMX_OPS_SLEEPABLE(bad_sleep_fault, struct svmx_fault_ctx *f)
{
	f->answer.order = 0;
	return 0;
}

SVMX_OPS_DEFINE(bad_sleep_ops,
		.fault	= (void *)bad_sleep_fault,
		.name	= "test_bad_sleep");
