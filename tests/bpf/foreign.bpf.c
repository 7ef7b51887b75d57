// SPDX-License-Identifier: GPL-2.0
/*
 * Test program the kernel must refuse: a struct_ops program of another
 * type (a TCP congestion control) calling svmx_bpf_error(), which would
 * eject the attached svmx policy.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

SEC("struct_ops/foreign_init")
void BPF_PROG(foreign_init, struct sock *sk)
{
	char msg[] = "foreign";

	svmx_bpf_error(msg, sizeof(msg));
}

SEC(".struct_ops.link")
struct tcp_congestion_ops foreign_ops = {
	.init	= (void *)foreign_init,
	.name	= "svmx_foreign",
};
