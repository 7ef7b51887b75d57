// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: evict the most recently used candidate instead of the
 * least recently used one.  Knob invalid: answer an index past the
 * candidates, which the kernel must reject.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

const volatile bool invalid;

int SVMX_OPS(evict_evict, struct svmx_evict_ctx *ev)
{
	if (ev->cand[0].order > SVMX_CHUNK_ORDER)
		return 1;	/* cannot happen: let the default answer */
	ev->pick = invalid ? ev->nr + 5 : ev->nr - 1;
	return 0;
}

SVMX_OPS_DEFINE(evict_ops,
		.evict	= (void *)evict_evict,
		.name	= "test_evict");
