// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: copies every fault, cpu_fault and fault_done context it
 * gets, byte for byte, into arrays user space reads through the skeleton
 * (which checks each field against what it did and against the layout in
 * the program's BTF), asks svmx_bpf_region_info() about each faulting
 * region (and about a handle that does not exist), and sums the
 * migrate_done notifications per direction.  Knobs: order of every
 * migrating fault; faults in [remote_from, remote_to) map remotely.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

#define SLOTS	32

_Static_assert(sizeof(struct svmx_fault_info) <= 320, "fault info grew");
_Static_assert(sizeof(struct svmx_cpu_fault_info) <= 128, "cpu_fault info grew");
_Static_assert(sizeof(struct svmx_fault_done) <= 128, "fault_done grew");
_Static_assert(sizeof(struct svmx_region_info) <= 128, "region info grew");

const volatile __u32 order = SVMX_CHUNK_ORDER;
const volatile __u64 remote_from;
const volatile __u64 remote_to;

__u8 fault_raw[SLOTS][320];
__u8 rinfo_raw[SLOTS][128];
__s32 rinfo_ret[SLOTS];
__s32 bogus_ret[SLOTS];
__u32 nr_faults;
__u8 cpu_raw[SLOTS][128];
__u32 nr_cpu;
__u8 done_raw[SLOTS][128];
__u32 nr_done;

/* migrate_done sums, by enum svmx_dir */
__u64 mig_calls[2];
__u64 mig_pages[2];
__u64 mig_copy_cmds[2];
__u64 mig_bytes[2];
__u64 mig_ns[2];

int SVMX_OPS(ctxcopy_fault, struct svmx_fault_ctx *fault)
{
	__u32 i = nr_faults;

	if (i < SLOTS) {
		bpf_probe_read_kernel(fault_raw[i], sizeof(fault->info), &fault->info);
		rinfo_ret[i] = svmx_bpf_region_info(fault->info.ctx_handle,
						    fault->info.addr,
						    (void *)rinfo_raw[i],
						    sizeof(struct svmx_region_info));
		bogus_ret[i] = svmx_bpf_region_info(fault->info.ctx_handle + 1000000,
						    fault->info.addr,
						    (void *)rinfo_raw[(i + 1) % SLOTS],
						    sizeof(struct svmx_region_info));
		nr_faults = i + 1;
	}
	if (fault->answer.placement != SVMX_PLACE_MIGRATE)
		return 0;
	fault->answer.order = order;
	if (fault->info.addr >= remote_from && fault->info.addr < remote_to)
		fault->answer.placement = SVMX_PLACE_REMOTE;
	return 0;
}

int SVMX_OPS(ctxcopy_cpu_fault, struct svmx_cpu_fault_ctx *cf)
{
	__u32 i = nr_cpu;

	if (i < SLOTS) {
		bpf_probe_read_kernel(cpu_raw[i], sizeof(cf->info), &cf->info);
		nr_cpu = i + 1;
	}
	return 0;
}

void SVMX_OPS(ctxcopy_fault_done, struct svmx_fault_done_ctx *done)
{
	__u32 i = nr_done;

	if (i < SLOTS) {
		bpf_probe_read_kernel(done_raw[i], sizeof(done->info), &done->info);
		nr_done = i + 1;
	}
}

void SVMX_OPS(ctxcopy_migrate_done, struct svmx_migrate_done_ctx *md)
{
	__u32 d = md->info.dir & 1;

	__sync_fetch_and_add(&mig_calls[d], 1);
	__sync_fetch_and_add(&mig_pages[d], md->info.pages);
	__sync_fetch_and_add(&mig_copy_cmds[d], md->info.copy_cmds);
	__sync_fetch_and_add(&mig_bytes[d], md->info.bytes);
	__sync_fetch_and_add(&mig_ns[d], md->info.modeled_ns);
}

SVMX_OPS_DEFINE(ctxcopy_ops,
		.fault		= (void *)ctxcopy_fault,
		.cpu_fault	= (void *)ctxcopy_cpu_fault,
		.fault_done	= (void *)ctxcopy_fault_done,
		.migrate_done	= (void *)ctxcopy_migrate_done,
		.name		= "test_ctxcopy");
