/* SPDX-License-Identifier: GPL-2.0 */
/*
 * detect.bpf.h - detectors and the victim scan that several policies of
 * policy/ share: the stride detector (stride, adaptive), the ping-pong
 * detector (thrash, adaptive) and the scan of a policy's own block map for
 * eviction victims (lfu, mru, quota, adaptive).
 *
 * Each is a static __always_inline function that takes the policy's map,
 * state and knobs as arguments, so that every policy keeps its own maps
 * (and their names, which user space reads), its own knobs and counters.
 * Include it after svmx.bpf.h.
 */
#ifndef SVMX_DETECT_BPF_H
#define SVMX_DETECT_BPF_H

/* ------------------------------------------------------------------
 * Stride detection: one stream per binding, in units of prefetch chunks.
 */

/**
 * struct svmx_stream - the fault stream of one binding
 * @last: chunk index of the last fault
 * @stride: chunks between the last two faults, 0: none yet
 * @conf: faults in a row at @stride
 * @issued: chunks prefetched at the last fault
 */
struct svmx_stream {
	__u64 last;
	__s64 stride;
	__u32 conf;
	__u32 issued;
};

/*
 * The stream of binding @key in @map (a hash of context handle -> struct
 * svmx_stream); a binding seen for the first time starts one at chunk
 * @cur and gets NULL: one fault is no stride.
 */
static __always_inline struct svmx_stream *
svmx_stream_get(void *map, __u64 key, __u64 cur)
{
	struct svmx_stream fresh = { .last = cur }, *st;

	st = bpf_map_lookup_elem(map, &key);
	if (!st)
		bpf_map_update_elem(map, &key, &fresh, BPF_ANY);
	return st;
}

/*
 * Account a fault at chunk @cur.  A fault at the stride, or at the stride
 * past the chunks its own prefetch brought (those do not fault), adds
 * confidence; another distance starts a new stride.  A fault in the chunk
 * of the last one changes nothing.  Return true when the stride is
 * trusted: @confidence faults in a row at it.
 */
static __always_inline bool svmx_stream_step(struct svmx_stream *st, __u64 cur,
					     __u32 confidence)
{
	__s64 delta = (__s64)(cur - st->last);

	if (!delta)
		return false;
	if (st->stride &&
	    (delta == st->stride || delta == st->stride * (1 + (__s64)st->issued))) {
		st->conf++;
	} else {
		st->stride = delta;
		st->conf = 1;
	}
	st->last = cur;
	st->issued = 0;
	return st->conf >= confidence;
}

/*
 * Answer @pf with the @ahead (at most SVMX_MAX_PREFETCH) chunks of 1 <<
 * @shift bytes that follow chunk @cur along the stream's stride, up to the
 * end of the fault's VMA.  Return the number of ranges asked.
 */
static __always_inline __u32 svmx_stream_prefetch(struct svmx_prefetch_ctx *pf,
						  struct svmx_stream *st, __u64 cur,
						  __u32 shift, __u32 ahead)
{
	__u32 n = 0, k;

	for (k = 1; k <= SVMX_MAX_PREFETCH; k++) {
		__u64 start = (cur + k * st->stride) << shift;

		if (k > ahead)
			break;
		if (start < pf->info.vma_start || start >= pf->info.vma_end)
			break;
		pf->answer.range[n & 3].start = start;
		pf->answer.range[n & 3].len = 1ull << shift;
		n++;
	}
	pf->answer.nr = n;
	st->issued = n;
	return n;
}

/* ------------------------------------------------------------------
 * Ping-pong (thrash) detection: one entry per binding and 2 MiB region
 * seen changing direction.
 */

/**
 * struct svmx_thrash_key - a region of a binding
 * @ctx: context handle
 * @region: address >> SVMX_REGION_SHIFT
 */
struct svmx_thrash_key {
	__u64 ctx;
	__u64 region;
};

/**
 * struct svmx_thrash_state - what is known of a region's ping-pong
 * @last_event_ns: bpf_ktime_get_ns() of the last direction change seen
 * @pinned_until_ns: the region is pinned (remote) until then
 * @seen_pingpong: the kernel's ping-pong count when last seen
 * @events: direction changes in a row, each within the lapse
 */
struct svmx_thrash_state {
	__u64 last_event_ns;
	__u64 pinned_until_ns;
	__u32 seen_pingpong;
	__u32 events;
};

/*
 * Account the kernel's ping-pong count @pingpong of the region of @addr in
 * binding @ctx, seen at @now, in @map (an LRU hash of struct
 * svmx_thrash_key -> struct svmx_thrash_state).  UVM's rule: @threshold
 * direction changes, each within @lapse_ns of the previous, pin the region
 * for @pin_ns; a pin adds one to *@pins.  Return the region's state
 * (pinned while @now < pinned_until_ns), or NULL for a region that never
 * changed direction.
 */
static __always_inline struct svmx_thrash_state *
svmx_thrash_observe(void *map, __u64 ctx, __u64 addr, __u32 pingpong, __u64 now,
		    __u32 threshold, __u64 lapse_ns, __u64 pin_ns, __u64 *pins)
{
	struct svmx_thrash_key key = { .ctx = ctx, .region = addr >> SVMX_REGION_SHIFT };
	struct svmx_thrash_state fresh = {}, *st;

	if (!ctx)
		return NULL;
	st = bpf_map_lookup_elem(map, &key);
	if (!st) {
		if (!pingpong)
			return NULL;	/* never reversed: nothing to keep */
		bpf_map_update_elem(map, &key, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(map, &key);
		if (!st)
			return NULL;
	}
	if (pingpong > st->seen_pingpong) {
		if (st->events && now - st->last_event_ns > lapse_ns)
			st->events = 0;
		st->events += pingpong - st->seen_pingpong;
		st->seen_pingpong = pingpong;
		st->last_event_ns = now;
		if (st->events >= threshold) {
			st->pinned_until_ns = now + pin_ns;
			st->events = 0;
			__sync_fetch_and_add(pins, 1);
		}
	}
	return st;
}

/* ------------------------------------------------------------------
 * Victims from a policy's own block map (handle -> the policy's record).
 */

/**
 * struct svmx_scan - the part of a victim scan every policy has
 * @dev: the device that needs memory: blocks of others are skipped
 * @best_order: order of @best
 * @best: handle of the best block so far, 0: none
 *
 * A policy's scan state starts with it and adds its own ranking fields;
 * its bpf_for_each_map_elem() callback updates @best and @best_order.
 */
struct svmx_scan {
	__u32 dev;
	__u32 best_order;
	__u64 best;
};

/*
 * One pass of @cb over @map with the scan state @scan (@size bytes, a
 * struct svmx_scan first) reset to @init.  Return the best handle, 0 for
 * none.
 */
static __always_inline __u64 svmx_scan_best(void *map, void *cb, void *scan,
					     const void *init, __u32 size)
{
	__builtin_memcpy(scan, init, size);
	bpf_for_each_map_elem(map, cb, scan, 0);
	return ((struct svmx_scan *)scan)->best;
}

/*
 * Propose the best blocks of successive scans (svmx_scan_best()) as
 * victims of @ev until the bytes it needs are covered, a scan finds
 * nothing or the kernel refuses a proposal (SVMX_EVICT_VICTIMS at most).
 * @taken(record) marks each proposed block in @map so that the next scan
 * skips it (the policy's evict_done makes a victim that stayed proposable
 * again).  Return the bytes proposed.
 */
static __always_inline __u64 svmx_scan_propose(struct svmx_evict_ctx *ev, void *map,
					       void *cb, void *scan, const void *init,
					       __u32 size, void (*taken)(void *rec))
{
	__u64 need = ev->info.bytes, got = 0, h;
	struct svmx_scan *s = scan;
	void *rec;
	__u32 i;

	bpf_for(i, 0, SVMX_EVICT_VICTIMS) {
		if (got >= need)
			break;
		h = svmx_scan_best(map, cb, scan, init, size);
		if (!h)
			break;
		if (svmx_bpf_evict_propose(ev, h))
			break;
		rec = bpf_map_lookup_elem(map, &h);
		if (rec)
			taken(rec);
		got += SVMX_BLOCK_BYTES(s->best_order & 31);
	}
	return got;
}

/*
 * For a policy's block_free: forget the record of the freed block of
 * handle @handle in @map.
 */
static __always_inline void svmx_blocks_forget(void *map, __u64 handle)
{
	bpf_map_delete_elem(map, &handle);
}

/*
 * For a policy's evict_done: the record in @map of a victim that stayed
 * (busy pages: the block lives on), for the policy to make it proposable
 * again; NULL when the block went or is not known.
 */
static __always_inline void *svmx_victim_stayed(void *map,
						const struct svmx_evict_done *done)
{
	__u64 h = done->block.handle;

	return done->ret ? bpf_map_lookup_elem(map, &h) : NULL;
}

#endif /* SVMX_DETECT_BPF_H */
