// SPDX-License-Identifier: GPL-2.0
/*
 * stride - detect sequential and strided device fault streams of each
 * binding and prefetch ahead of them.
 *
 * What it does: device faults are migrated in chunks of 2^fault_order
 * pages.  For each binding (its context handle) the policy remembers the
 * chunk of the last fault and the distance to the one before, in chunks
 * (negative for descending streams).  A fault at the same distance again
 * - or at the distance it expects after its own prefetch, which leaves
 * the chunks in between resident - raises its confidence; any other
 * distance restarts the detection with the new one.  Once the confidence
 * reaches the knob, each fault also prefetches the next `ahead` chunks
 * along the stride (at most 4, one prefetch range each, inside the
 * fault's VMA; the kernel clips them to the per-fault budget,
 * svmx.prefetch_budget_kb).  A sequential stream is the stride of one
 * chunk.
 *
 * When to use it: streaming kernels (sequential reads or writes),
 * strided ones (a column of a row-major matrix, every n-th record), in
 * oversubscribed and non-oversubscribed runs alike: the prefetched chunks
 * arrive in the fault's batch instead of costing a fault batch each.
 *
 * Knobs (const volatile, set before load):
 *   ahead - chunks prefetched per fault once the stride is trusted
 *	(default 2, at most 4)
 *   confidence - faults in a row at the same distance before the stride
 *	is trusted (default 2: the second equal distance prefetches)
 *   fault_order - order of the chunk migrated per fault and prefetched
 *	(default 9, 2 MiB, the built-in default's)
 * Placement is the default's; faults that map remotely prefetch nothing.
 */
#include <svmx/svmx.bpf.h>
#include <svmx/detect.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile __u32 ahead = 2;
const volatile __u32 confidence = 2;
const volatile __u32 fault_order = SVMX_CHUNK_ORDER;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);		/* context handle */
	__type(value, struct svmx_stream);
} stride_streams SEC(".maps");

/* Counts for user space. */
__u64 prefetched_chunks;
__u64 trusted_faults;

static __u32 chunk_order(void)
{
	return fault_order > SVMX_CHUNK_ORDER ? SVMX_CHUNK_ORDER : fault_order;
}

int SVMX_OPS(stride_fault, struct svmx_fault_ctx *fault)
{
	if (fault->answer.placement == SVMX_PLACE_MIGRATE)
		fault->answer.order = chunk_order();
	return 0;
}

int SVMX_OPS(stride_prefetch, struct svmx_prefetch_ctx *pf)
{
	__u32 shift = chunk_order() + SVMX_PAGE_SHIFT, n;
	__u64 cur = pf->info.addr >> shift;
	struct svmx_stream *st;

	st = svmx_stream_get(&stride_streams, pf->info.ctx_handle, cur);
	if (!st || !svmx_stream_step(st, cur, confidence))
		return 0;
	__sync_fetch_and_add(&trusted_faults, 1);
	n = svmx_stream_prefetch(pf, st, cur, shift, ahead);
	__sync_fetch_and_add(&prefetched_chunks, n);
	return 0;
}

SVMX_OPS_DEFINE(stride_ops,
		.fault		= (void *)stride_fault,
		.prefetch	= (void *)stride_prefetch,
		.name		= "stride");
