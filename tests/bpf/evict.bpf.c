// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy for eviction by handle.  Knob mode:
 *  EVICT_LAST: propose the last candidate, the most recently used of the
 *	ones offered, and only it (with small blocks, fewer bytes than
 *	needed: the LRU must evict the rest);
 *  EVICT_GARBAGE: propose 0, ~0 and a candidate with its generation bits
 *	changed (malformed, malformed, dead);
 *  EVICT_STALE: propose the handle of the last block freed;
 *  EVICT_FOREIGN: propose the handle of a live block of another device.
 * Every proposal is counted in proposed, every evict call in calls.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

enum { EVICT_LAST, EVICT_GARBAGE, EVICT_STALE, EVICT_FOREIGN };

const volatile __u32 mode;

__u64 calls, proposed, last_freed, foreign, first_victim;

int SVMX_OPS(evict_evict, struct svmx_evict_ctx *ev)
{
	__u64 h = 0;
	__u32 n = ev->info.nr_cand;

	calls++;
	switch (mode) {
	case EVICT_LAST:
		if (n && n <= SVMX_EVICT_CANDIDATES)
			h = svmx_bpf_evict_candidate(ev, n - 1);
		if (h && !svmx_bpf_evict_propose(ev, h)) {
			proposed++;
			if (!first_victim)
				first_victim = h;
		}
		break;
	case EVICT_GARBAGE:
		svmx_bpf_evict_propose(ev, 0);
		svmx_bpf_evict_propose(ev, ~0ULL);
		h = svmx_bpf_evict_candidate(ev, 0) ^ (1ULL << 40);
		svmx_bpf_evict_propose(ev, h);
		proposed += 3;
		break;
	case EVICT_STALE:
		if (last_freed && !svmx_bpf_evict_propose(ev, last_freed))
			proposed++;
		break;
	case EVICT_FOREIGN:
		if (foreign && !svmx_bpf_evict_propose(ev, foreign))
			proposed++;
		break;
	}
	return 0;
}

void SVMX_OPS(evict_block_alloc, struct svmx_block_event *ev)
{
	if (ev->dev != 0)
		foreign = ev->handle;
}

void SVMX_OPS(evict_block_free, struct svmx_block_event *ev)
{
	if (ev->dev == 0)
		last_freed = ev->handle;
	else if (ev->handle == foreign)
		foreign = 0;
}

SVMX_OPS_DEFINE(evict_ops,
		.evict		= (void *)evict_evict,
		.block_alloc	= (void *)evict_block_alloc,
		.block_free	= (void *)evict_block_free,
		.name		= "test_evict");
