// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl's offline-optimal eviction count (tools/svmxctl/belady.c)
 * against counts computed by hand, and the chunk trace it reads from a
 * recording.  Pure logic: runs anywhere (tests/svmxctl/record.t runs it).
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"

#include "../../tools/svmxctl/belady.c"

/* The record walk of record.c, for a recording built in memory. */
const struct rec_hdr *rec_first(const struct recording *r)
{
	return r->hdr.records_bytes ? (const struct rec_hdr *)r->data : NULL;
}

const struct rec_hdr *rec_next(const struct recording *r, const struct rec_hdr *h)
{
	const uint8_t *next = (const uint8_t *)h + h->size;

	return next < r->data + r->hdr.records_bytes ? (const struct rec_hdr *)next : NULL;
}

static uint64_t min_of(const uint64_t *seq, size_t n, size_t cap)
{
	uint64_t ev = ~0ull;

	if (opt_min_evictions(seq, n, cap, &ev))
		return ~0ull;
	return ev;
}

/*
 * A B C A B C A B C with room for 2: misses at C (evict B, used after
 * A), B (evict A), A (evict C), C (evict either): 4.  LRU would evict on
 * all 7 misses after the first two.
 */
TEST(cyclic_three_in_two)
{
	const uint64_t seq[] = { 1, 2, 3, 1, 2, 3, 1, 2, 3 };

	EXPECT_EQ(4, min_of(seq, 9, 2));
	EXPECT_EQ(0, min_of(seq, 9, 3));
	EXPECT_EQ(8, min_of(seq, 9, 1));	/* every access after the first */
}

/*
 * The textbook string (Silberschatz, Operating System Concepts, ch. 10)
 * with 3 frames: OPT takes 9 faults, so 6 evictions; with 4 frames, 8
 * faults, 4 evictions.
 */
TEST(textbook_reference_string)
{
	const uint64_t seq[] = { 7, 0, 1, 2, 0, 3, 0, 4, 2, 3, 0, 3, 2, 1, 2, 0, 1, 7, 0, 1 };

	EXPECT_EQ(6, min_of(seq, 20, 3));
	EXPECT_EQ(4, min_of(seq, 20, 4));
}

TEST(edge_cases)
{
	const uint64_t one[] = { 5 };
	uint64_t ev;

	EXPECT_EQ(0, min_of(one, 0, 1));
	EXPECT_EQ(0, min_of(one, 1, 1));
	EXPECT_EQ(-EINVAL, opt_min_evictions(one, 1, 0, &ev));
}

static size_t add_exec(uint8_t *buf, size_t off, const struct svmx_op *op, int32_t ret)
{
	struct rec_exec x = {
		.h = { REC_EXEC, sizeof(x) + sizeof(*op) }, .nr_ops = 1, .ret = ret,
	};

	memcpy(buf + off, &x, sizeof(x));
	memcpy(buf + off + sizeof(x), op, sizeof(*op));
	return off + x.h.size;
}

/*
 * The trace of a recording: a strided ATOMIC_ADD crossing into the next
 * chunk, a FILL over two chunks, a COPY alternating between source and
 * destination chunks, a failed call left out, a CPU touch ignored.
 */
TEST(chunk_trace_of_a_recording)
{
	const uint64_t M2 = 2ull << 20;
	struct svmx_op atomic = { .opcode = SVMX_OP_ATOMIC_ADD, .addr = M2 - 4096,
				  .length = 3, .stride = 4096, .value = 1 };
	struct svmx_op fill = { .opcode = SVMX_OP_FILL, .addr = 3 * M2 - 8,
				.length = 16 };
	struct svmx_op copy = { .opcode = SVMX_OP_COPY, .addr = 10 * M2,
				.length = 8192, .addr2 = 20 * M2 };
	struct rec_cpu cpu = { .h = { REC_CPU, sizeof(cpu) }, .addr = 40 * M2 };
	const uint64_t want[] = { 0, 1, 2, 3, 10, 20, 10, 20 };
	struct recording r = { 0 };
	uint8_t buf[1024];
	uint64_t *seq;
	size_t n = 0, off = 0, i;

	off = add_exec(buf, off, &atomic, 0);
	off = add_exec(buf, off, &fill, 0);
	off = add_exec(buf, off, &atomic, -EINTR);
	memcpy(buf + off, &cpu, sizeof(cpu));
	off += sizeof(cpu);
	off = add_exec(buf, off, &copy, 0);
	r.data = buf;
	r.hdr.records_bytes = off;
	ASSERT_EQ(0, opt_chunks(&r, &seq, &n));
	ASSERT_EQ(sizeof(want) / sizeof(want[0]), n);
	for (i = 0; i < n; i++)
		EXPECT_EQ(want[i], seq[i]);
	/* 10 and 20 alternate with room for one: every use after the first misses. */
	EXPECT_EQ(n - 1, min_of(seq, n, 1));
	free(seq);
}

TEST_HARNESS_MAIN
