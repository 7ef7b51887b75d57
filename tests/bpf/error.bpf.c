// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: calls svmx_bpf_error() (through svmx_error()) on its first
 * device fault, which must eject it with the message below; its exit
 * callback records that it ran and with which kind.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

__u32 exit_kind;
__u32 exited;
__u32 inited;

int SVMX_OPS_SLEEPABLE(error_init)
{
	int ret = SVMX_CHECK_KFUNCS();

	if (!ret)
		inited = 1;
	return ret;
}

int SVMX_OPS(error_fault, struct svmx_fault_ctx *fault)
{
	svmx_error("test error at %llx on dev %u", fault->info.addr, fault->info.dev);
	fault->answer.placement = SVMX_PLACE_REMOTE;
	return 0;
}

void SVMX_OPS_SLEEPABLE(error_exit, struct svmx_exit_info *ei)
{
	exit_kind = ei->kind;
	exited = 1;
}

SVMX_OPS_DEFINE(error_ops,
		.init	= (void *)error_init,
		.fault	= (void *)error_fault,
		.exit	= (void *)error_exit,
		.name	= "test_error");
