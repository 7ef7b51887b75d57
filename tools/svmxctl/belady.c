// SPDX-License-Identifier: GPL-2.0
/*
 * The offline-optimal eviction count of a recording (svmxctl replay
 * --opt): Belady's MIN over the 2 MiB chunks the device touches.
 *
 * The trace is the sequence of chunks the recorded operations touch, in
 * the order the device touches them (an operation piece by piece, COPY
 * alternating source and destination), with repeats of the same chunk in
 * a row folded into one access.  CPU touches do not enter it: they bring
 * pages back, they do not ask for device memory.  A cache of @capacity
 * chunks serves the trace; a miss with the cache full evicts the
 * resident chunk whose next use lies furthest in the future (never used
 * again first), which is the fewest evictions any policy can make with
 * that memory (Belady 1966, Mattson et al. 1970).  The count is the
 * number of evictions, so that it compares with the device's
 * `evictions` counter (2 MiB blocks under the default granularity).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "recfile.h"

struct chunk_seq {
	uint64_t *v;
	size_t n, cap;
};

static int seq_add(struct chunk_seq *s, uint64_t chunk)
{
	uint64_t *bigger;

	if (s->n && s->v[s->n - 1] == chunk)
		return 0;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		bigger = realloc(s->v, s->cap * sizeof(*s->v));
		if (!bigger)
			return -ENOMEM;
		s->v = bigger;
	}
	s->v[s->n++] = chunk;
	return 0;
}

/* The chunks of [@addr, @addr + @len), in address order. */
static int seq_range(struct chunk_seq *s, uint64_t addr, uint64_t len)
{
	uint64_t c;
	int err = 0;

	if (!len)
		return 0;
	for (c = addr >> OPT_CHUNK_SHIFT;
	     !err && c <= (addr + len - 1) >> OPT_CHUNK_SHIFT; c++)
		err = seq_add(s, c);
	return err;
}

/* ATOMIC_ADD: @n elements @stride apart; jumps from chunk to chunk. */
static int seq_strided(struct chunk_seq *s, uint64_t addr, uint64_t n,
		       uint64_t stride)
{
	uint64_t i = 0, next;
	int err = 0;

	while (!err && i < n) {
		uint64_t a = addr + i * stride, c = a >> OPT_CHUNK_SHIFT;

		err = seq_add(s, c);
		next = ((c + 1) << OPT_CHUNK_SHIFT) - addr;	/* first byte beyond */
		i = (next + stride - 1) / stride;		/* first element there */
	}
	return err;
}

static int seq_op(struct chunk_seq *s, const struct svmx_op *op)
{
	uint64_t done, piece;
	int err = 0;

	switch (op->opcode) {
	case SVMX_OP_ATOMIC_ADD:
		return seq_strided(s, op->addr, op->length, op->stride);
	case SVMX_OP_COPY:
		/* Source then destination, piece by piece (no page crossing). */
		for (done = 0; !err && done < op->length; done += piece) {
			uint64_t src = op->addr + done, dst = op->addr2 + done;
			uint64_t rs = 4096 - (src & 4095), rd = 4096 - (dst & 4095);

			piece = op->length - done;
			if (piece > rs)
				piece = rs;
			if (piece > rd)
				piece = rd;
			err = seq_add(s, src >> OPT_CHUNK_SHIFT);
			if (!err)
				err = seq_add(s, dst >> OPT_CHUNK_SHIFT);
		}
		return err;
	default:
		return seq_range(s, op->addr, op->length);
	}
}

/**
 * opt_chunks() - the chunk trace of a recording
 * @r: the recording
 * @seq: set to a malloc()ed array of chunk numbers (address >> 21)
 * @n: its length
 *
 * Return: 0 or -ENOMEM.
 */
int opt_chunks(const struct recording *r, uint64_t **seq, size_t *n)
{
	struct chunk_seq s = { 0 };
	const struct rec_hdr *h;
	uint32_t i;
	int err = 0;

	for (h = rec_first(r); h && !err; h = rec_next(r, h)) {
		const struct rec_exec *x = (const void *)h;

		if (h->type != REC_EXEC || x->ret)
			continue;
		for (i = 0; i < x->nr_ops && !err; i++)
			err = seq_op(&s, &x->ops[i]);
	}
	if (err) {
		free(s.v);
		return err;
	}
	*seq = s.v;
	*n = s.n;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* A max-heap of (next use, chunk id); stale entries are skipped on pop. */
struct heap_ent {
	size_t next;
	size_t id;
};

static void heap_push(struct heap_ent *h, size_t *n, struct heap_ent e)
{
	size_t i = (*n)++;

	while (i && h[(i - 1) / 2].next < e.next) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static struct heap_ent heap_pop(struct heap_ent *h, size_t *n)
{
	struct heap_ent top = h[0], last = h[--(*n)];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1].next > h[c].next)
			c++;
		if (h[c].next <= last.next)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = last;
	return top;
}

/**
 * opt_min_evictions() - Belady's MIN on a chunk trace
 * @seq: chunk numbers in the order of use
 * @n: their count
 * @capacity: chunks the device memory holds, at least 1
 * @evictions: the evictions MIN makes
 *
 * Return: 0, -EINVAL for a zero capacity, -ENOMEM.
 */
int opt_min_evictions(const uint64_t *seq, size_t n, size_t capacity,
		      uint64_t *evictions)
{
	size_t i, nu = 0, heap_n = 0, resident = 0, *id = NULL, *next = NULL;
	size_t *last = NULL, *cur_next = NULL;
	uint64_t *uniq = NULL;
	struct heap_ent *heap = NULL;
	bool *in = NULL;
	int err = -ENOMEM;

	*evictions = 0;
	if (!capacity)
		return -EINVAL;
	if (!n)
		return 0;
	uniq = malloc(n * sizeof(*uniq));
	id = malloc(n * sizeof(*id));
	next = malloc(n * sizeof(*next));
	heap = malloc(n * sizeof(*heap));
	if (!uniq || !id || !next || !heap)
		goto out;
	/* Dense ids for the chunks. */
	memcpy(uniq, seq, n * sizeof(*uniq));
	qsort(uniq, n, sizeof(*uniq), cmp_u64);
	for (i = 0; i < n; i++)
		if (!nu || uniq[nu - 1] != uniq[i])
			uniq[nu++] = uniq[i];
	for (i = 0; i < n; i++)
		id[i] = (uint64_t *)bsearch(&seq[i], uniq, nu, sizeof(*uniq), cmp_u64) - uniq;
	last = malloc(nu * sizeof(*last));
	cur_next = malloc(nu * sizeof(*cur_next));
	in = calloc(nu, sizeof(*in));
	if (!last || !cur_next || !in)
		goto out;
	/* next[i]: the next position that uses id[i] (n: never again). */
	for (i = 0; i < nu; i++)
		last[i] = n;
	for (i = n; i-- > 0;) {
		next[i] = last[id[i]];
		last[id[i]] = i;
	}
	for (i = 0; i < n; i++) {
		size_t c = id[i];

		if (!in[c]) {
			if (resident == capacity) {
				struct heap_ent v;

				do	/* skip entries a later use replaced */
					v = heap_pop(heap, &heap_n);
				while (!in[v.id] || cur_next[v.id] != v.next);
				in[v.id] = false;
				resident--;
				(*evictions)++;
			}
			in[c] = true;
			resident++;
		}
		cur_next[c] = next[i];
		heap_push(heap, &heap_n, (struct heap_ent){ next[i], c });
	}
	err = 0;
out:
	free(uniq);
	free(id);
	free(next);
	free(heap);
	free(last);
	free(cur_next);
	free(in);
	return err;
}
