// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to every svmx ioctl: bad pointers, misaligned, zero, oversized
 * and overflowing ranges, unmapped, PROT_NONE and read-only targets,
 * unknown opcodes, flags, advice and targets, nonzero reserved fields,
 * oversized batches and snapshots, unbound files, forked children, double
 * binds.  Every rejected call is followed by proof that it did nothing -
 * the memory it would have changed is unchanged, placement too where it
 * could have moved - and that the device still works.  A bad operation is
 * tried alone and as the last of a batch whose first operations are valid.
 */
#include <sys/mman.h>
#include <sys/wait.h>

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * whether GCC warns depends on inlining.  Nothing of ours is involved.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

/*
 * The process's memory, in this order:
 *   (a PROT_NONE guard page)
 *   rw    16 pages, pattern 1, two VMAs: pages 0-7 in device memory, 8-15
 *         in system memory (MADV_DONTDUMP on 8-15 splits the VMA, so a
 *         migration of 0-7 cannot take 8-15 along)
 *   hole   2 pages, unmapped
 *   none   2 pages, PROT_NONE
 *   ro     2 pages, read-only, pattern 2
 *   (2 more unmapped pages)
 */
#define RW_PAGES	16
#define DEV_PAGES	8
#define MAP_PAGES	25

/* Expect -EINVAL or -EFAULT: the ABI does not say which one wins. */
#define EINVAL_OR_EFAULT	1

FIXTURE(bad)
{
	int fd;
	size_t ps;
	struct svmx_version v;
	char *base;
	char *rw;
	char *hole;
	char *none;
	char *ro;
	char *src;	/* valid WRITE source, pattern 3 */
	char *check;	/* device read-back */
};

FIXTURE_SETUP(bad)
{
	size_t ps = svmx_page_size();

	self->ps = ps;
	self->base = mmap(NULL, MAP_PAGES * ps, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->base);
	self->rw = self->base + ps;
	self->hole = self->rw + RW_PAGES * ps;
	self->none = self->hole + 2 * ps;
	self->ro = self->none + 2 * ps;
	ASSERT_EQ(0, mprotect(self->rw, RW_PAGES * ps, PROT_READ | PROT_WRITE));
	svmx_pat_fill(self->rw, RW_PAGES * ps, 1);
	ASSERT_EQ(0, madvise(self->rw + DEV_PAGES * ps, (RW_PAGES - DEV_PAGES) * ps,
			     MADV_DONTDUMP));
	ASSERT_EQ(0, mprotect(self->ro, 2 * ps, PROT_READ | PROT_WRITE));
	svmx_pat_fill(self->ro, 2 * ps, 2);
	ASSERT_EQ(0, mprotect(self->ro, 2 * ps, PROT_READ));
	ASSERT_EQ(0, munmap(self->hole, 2 * ps));
	ASSERT_EQ(0, munmap(self->ro + 2 * ps, 2 * ps));
	self->src = malloc(RW_PAGES * ps);
	self->check = malloc(RW_PAGES * ps);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->check);
	svmx_pat_fill(self->src, RW_PAGES * ps, 3);

	SVMX_OPEN_BOUND_OR_SKIP(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
	ASSERT_EQ(0, svmx_migrate(self->fd, self->rw, DEV_PAGES * ps,
				  SVMX_TARGET_SELF, NULL));
}

FIXTURE_TEARDOWN(bad)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->base, MAP_PAGES * self->ps);
	free(self->src);
	free(self->check);
}

/*
 * Nothing changed and the device works: the device and the CPU read the
 * original data; then pages 0-7 of rw go back to device memory, so that
 * the next bad call meets the same mixed placement.
 */
static void intact(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
		   const char *after)
{
	size_t ps = self->ps;

	memset(self->check, 0, RW_PAGES * ps);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(self->rw, RW_PAGES * ps,
						       self->check), NULL))
		TH_LOG("device unusable after %s", after);
	EXPECT_EQ(-1, svmx_pat_check(self->check, RW_PAGES * ps, 1))
		TH_LOG("device sees changed memory after %s", after);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(self->ro, 2 * ps, self->check),
				NULL));
	EXPECT_EQ(-1, svmx_pat_check(self->check, 2 * ps, 2))
		TH_LOG("read-only memory changed after %s", after);
	EXPECT_EQ(-1, svmx_pat_check(self->rw, RW_PAGES * ps, 1))
		TH_LOG("CPU sees changed memory after %s", after);
	ASSERT_EQ(0, svmx_migrate(self->fd, self->rw, DEV_PAGES * ps,
				  SVMX_TARGET_SELF, NULL));
}

static void expect_err(struct __test_metadata *_metadata, int want, int got,
		       const char *what)
{
	if (want == EINVAL_OR_EFAULT) {
		EXPECT_TRUE(got == -EINVAL || got == -EFAULT)
			TH_LOG("%s: %d, expected -EINVAL or -EFAULT", what, got);
	} else {
		EXPECT_EQ(want, got) TH_LOG("%s", what);
	}
}

/*
 * @op must fail with @err, alone and as the last of three operations whose
 * first two (a fill and a write of rw) are valid; nothing may run.
 */
static void exec_bad(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
		     const char *what, struct svmx_op op, int err)
{
	size_t ps = self->ps;
	struct svmx_op ops[3] = {
		svmx_op_fill(self->rw, 2 * ps, 0xdeadbeefdeadbeefULL),
		svmx_op_write(self->rw + 9 * ps + 8, ps, self->src),
		op,
	};
	char msg[128];

	snprintf(msg, sizeof(msg), "%s (alone)", what);
	expect_err(_metadata, err, svmx_exec(self->fd, &ops[2], 1, NULL), msg);
	intact(_metadata, self, msg);
	snprintf(msg, sizeof(msg), "%s (last of 3)", what);
	expect_err(_metadata, err, svmx_exec(self->fd, ops, 3, NULL), msg);
	intact(_metadata, self, msg);
}

static struct svmx_op op_raw(uint32_t opcode, const void *addr, uint64_t len,
			     uint64_t stride, uint64_t value, uint64_t addr2,
			     uint64_t buf)
{
	return (struct svmx_op){ .opcode = opcode, .addr = svmx_ptr(addr),
				 .length = len, .stride = stride, .value = value,
				 .addr2 = addr2, .buf = buf };
}

/* nr_ops 0 and above the maximum, and exec flags, are rejected. */
TEST_F(bad, exec_batch_size)
{
	unsigned int max = SVMX_EXEC_MAX_OPS, i;
	struct svmx_op *ops = calloc(max + 1, sizeof(*ops));
	struct svmx_exec e = {};
	uint64_t *w = (uint64_t *)self->rw;

	ASSERT_NE(NULL, ops);
	/* Each op fills one word of rw with its index (max words fit). */
	ASSERT_GE(RW_PAGES * self->ps / 8, max + 1);
	for (i = 0; i <= max; i++)
		ops[i] = svmx_op_fill(self->rw + 8 * i, 8, i);

	EXPECT_EQ(-EINVAL, svmx_exec(self->fd, ops, 0, NULL));
	intact(_metadata, self, "nr_ops 0");
	EXPECT_EQ(-E2BIG, svmx_exec(self->fd, ops, max + 1, NULL));
	intact(_metadata, self, "nr_ops max + 1");
	EXPECT_EQ(-E2BIG, svmx_exec(self->fd, ops, UINT32_MAX, NULL));
	intact(_metadata, self, "nr_ops UINT32_MAX");
	e.ops = svmx_ptr(ops);
	e.nr_ops = 1;
	e.flags = 1;
	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	intact(_metadata, self, "exec flags 1");
	e.flags = 0x80000000u;
	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	intact(_metadata, self, "exec flags bit 31");

	/* Exactly the maximum is fine and runs every op. */
	ASSERT_EQ(0, svmx_exec(self->fd, ops, max, NULL));
	for (i = 0; i < max && w[i] == i; i++)
		;
	EXPECT_EQ(max, i);
	EXPECT_EQ(-1, svmx_pat_check_from(w + max, max, RW_PAGES * self->ps - 8 * max, 1));
	svmx_pat_fill(self->rw, RW_PAGES * self->ps, 1);
	intact(_metadata, self, "max ops");
	free(ops);
}

/* Bad pointers: the argument, the ops array, an op's buffer. */
TEST_F(bad, exec_bad_pointers)
{
	size_t ps = self->ps;
	struct svmx_op fill = svmx_op_fill(self->rw, ps, 0), *tail;
	struct svmx_exec e = { .nr_ops = 1 };
	char *two;

	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, (void *)8));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, self->hole));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, self->none));
	intact(_metadata, self, "bad exec argument");

	e.ops = 0;
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	e.ops = svmx_ptr(self->hole);
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	e.ops = svmx_ptr(self->none);
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	intact(_metadata, self, "bad ops pointer");

	/* Two ops, the first valid, the second on an unmapped page. */
	two = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, munmap(two + ps, ps));
	tail = (struct svmx_op *)(two + ps) - 1;
	*tail = fill;
	e.ops = svmx_ptr(tail);
	e.nr_ops = 2;
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	intact(_metadata, self, "ops array running into a hole");
	munmap(two, ps);

	/* READ needs a writable buffer, WRITE a readable one. */
	exec_bad(_metadata, self, "read into unmapped buf",
		 svmx_op_read(self->rw, ps, self->hole), -EFAULT);
	exec_bad(_metadata, self, "read into PROT_NONE buf",
		 svmx_op_read(self->rw, ps, self->none), -EFAULT);
	exec_bad(_metadata, self, "read into read-only buf",
		 svmx_op_read(self->rw, ps, self->ro), -EFAULT);
	exec_bad(_metadata, self, "read into buf running into a hole",
		 svmx_op_read(self->rw, 2 * ps, self->rw + (RW_PAGES - 1) * ps), -EFAULT);
	exec_bad(_metadata, self, "write from unmapped buf",
		 svmx_op_write(self->rw, ps, self->hole), -EFAULT);
	exec_bad(_metadata, self, "write from PROT_NONE buf",
		 svmx_op_write(self->rw, ps, self->none), -EFAULT);
	exec_bad(_metadata, self, "write from NULL buf",
		 svmx_op_write(self->rw, ps, NULL), EINVAL_OR_EFAULT);
	exec_bad(_metadata, self, "read into NULL buf",
		 svmx_op_read(self->rw, ps, NULL), EINVAL_OR_EFAULT);
}

/* Unknown opcodes and op flags. */
TEST_F(bad, exec_unknown_opcode_and_flags)
{
	static const uint32_t opcodes[] = { 0, SVMX_OP_COPY + 1, 0x7fffffffu, 0xffffffffu };
	struct svmx_op op;
	char what[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(opcodes); i++) {
		snprintf(what, sizeof(what), "opcode %#x", opcodes[i]);
		exec_bad(_metadata, self, what,
			 op_raw(opcodes[i], self->rw, 8, 0, 0, 0, 0), -EINVAL);
	}
	op = svmx_op_fill(self->rw, 8, 0);
	op.flags = 1;
	exec_bad(_metadata, self, "op flags 1", op, -EINVAL);
	op.flags = 0x80000000u;
	exec_bad(_metadata, self, "op flags bit 31", op, -EINVAL);
}

/* Zero length, for every opcode. */
TEST_F(bad, exec_zero_length)
{
	char *rw = self->rw;

	exec_bad(_metadata, self, "read 0", svmx_op_read(rw, 0, self->check), -EINVAL);
	exec_bad(_metadata, self, "write 0", svmx_op_write(rw, 0, self->src), -EINVAL);
	exec_bad(_metadata, self, "fill 0", svmx_op_fill(rw, 0, 1), -EINVAL);
	exec_bad(_metadata, self, "atomic 0", svmx_op_atomic(rw, 0, 8, 1), -EINVAL);
	exec_bad(_metadata, self, "copy 0", svmx_op_copy(rw, 0, rw + 8 * self->ps),
		 -EINVAL);
}

/* Alignment of FILL and ATOMIC_ADD, stride rules for every opcode. */
TEST_F(bad, exec_misaligned)
{
	size_t ps = self->ps;
	char *rw = self->rw;

	exec_bad(_metadata, self, "fill at +4", svmx_op_fill(rw + 4, 16, 1), -EINVAL);
	exec_bad(_metadata, self, "fill length 12", svmx_op_fill(rw, 12, 1), -EINVAL);
	exec_bad(_metadata, self, "fill length 4", svmx_op_fill(rw, 4, 1), -EINVAL);
	exec_bad(_metadata, self, "atomic at +4", svmx_op_atomic(rw + 4, 2, 8, 1), -EINVAL);
	exec_bad(_metadata, self, "atomic stride 0", svmx_op_atomic(rw, 2, 0, 1), -EINVAL);
	exec_bad(_metadata, self, "atomic stride 4", svmx_op_atomic(rw, 2, 4, 1), -EINVAL);
	exec_bad(_metadata, self, "atomic stride 12", svmx_op_atomic(rw, 2, 12, 1), -EINVAL);
	exec_bad(_metadata, self, "read stride 8",
		 op_raw(SVMX_OP_READ, rw, 8, 8, 0, 0, svmx_ptr(self->check)), -EINVAL);
	exec_bad(_metadata, self, "write stride 8",
		 op_raw(SVMX_OP_WRITE, rw, 8, 8, 0, 0, svmx_ptr(self->src)), -EINVAL);
	exec_bad(_metadata, self, "fill stride 8",
		 op_raw(SVMX_OP_FILL, rw, 8, 8, 1, 0, 0), -EINVAL);
	exec_bad(_metadata, self, "copy stride 8",
		 op_raw(SVMX_OP_COPY, rw, 8, 8, 0, svmx_ptr(rw + 8 * ps), 0), -EINVAL);
}

/* Ranges that wrap around the address space or exceed SVMX_OP_MAX_LEN. */
TEST_F(bad, exec_overflow)
{
	const uint64_t top = ~0ULL & ~(uint64_t)(self->ps - 1);
	size_t ps = self->ps;
	char *rw = self->rw;

	exec_bad(_metadata, self, "read wrapping",
		 svmx_op_read((void *)(uintptr_t)top, 2 * ps, self->check), -EINVAL);
	exec_bad(_metadata, self, "write wrapping",
		 svmx_op_write(rw, 0 - svmx_ptr(rw) + 16, self->src), -EINVAL);
	exec_bad(_metadata, self, "fill wrapping",
		 svmx_op_fill((void *)(uintptr_t)(~0ULL & ~7ULL), 16, 1), -EINVAL);
	/* (n - 1) * stride wraps to 0 */
	exec_bad(_metadata, self, "atomic span wrapping to 0",
		 svmx_op_atomic(rw, (1ULL << 61) + 1, 8, 1), -EINVAL);
	exec_bad(_metadata, self, "atomic stride 2^63",
		 svmx_op_atomic(rw, 2, 1ULL << 63, 1), -EINVAL);
	exec_bad(_metadata, self, "copy destination wrapping",
		 svmx_op_copy(rw, ps, (void *)(uintptr_t)(top + ps / 2)), -EINVAL);
	exec_bad(_metadata, self, "read longer than SVMX_OP_MAX_LEN",
		 svmx_op_read(rw, SVMX_OP_MAX_LEN + 8, self->check), -EINVAL);
	exec_bad(_metadata, self, "fill longer than SVMX_OP_MAX_LEN",
		 svmx_op_fill(rw, SVMX_OP_MAX_LEN + 8, 1), -EINVAL);
	exec_bad(_metadata, self, "read at a kernel address",
		 svmx_op_read((void *)(uintptr_t)0xffff888000000000ULL, 8, self->check),
		 EINVAL_OR_EFAULT);
	exec_bad(_metadata, self, "fill at a kernel address",
		 svmx_op_fill((void *)(uintptr_t)0xffff888000000000ULL, 8, 1),
		 EINVAL_OR_EFAULT);
}

/* Targets not (fully) mapped: every opcode, and ranges running into a hole. */
TEST_F(bad, exec_unmapped)
{
	size_t ps = self->ps;
	char *rw = self->rw, *hole = self->hole, *end = rw + (RW_PAGES - 1) * ps;

	exec_bad(_metadata, self, "read hole", svmx_op_read(hole, 8, self->check), -EFAULT);
	exec_bad(_metadata, self, "write hole", svmx_op_write(hole, 8, self->src), -EFAULT);
	exec_bad(_metadata, self, "fill hole", svmx_op_fill(hole, 8, 1), -EFAULT);
	exec_bad(_metadata, self, "atomic hole", svmx_op_atomic(hole, 1, 8, 1), -EFAULT);
	exec_bad(_metadata, self, "copy from hole", svmx_op_copy(hole, 8, rw), -EFAULT);
	exec_bad(_metadata, self, "copy to hole", svmx_op_copy(rw, 8, hole), -EFAULT);
	/* Starting in rw, ending in the hole: the rw part must not run. */
	exec_bad(_metadata, self, "fill into hole", svmx_op_fill(end, 2 * ps, 1), -EFAULT);
	exec_bad(_metadata, self, "write into hole",
		 svmx_op_write(end + 8, ps, self->src), -EFAULT);
	exec_bad(_metadata, self, "atomic into hole",
		 svmx_op_atomic(end, 3, ps / 2, 1), -EFAULT);
	exec_bad(_metadata, self, "copy into hole", svmx_op_copy(rw, 2 * ps, end), -EFAULT);
	exec_bad(_metadata, self, "read into hole",
		 svmx_op_read(end, 2 * ps, self->check), -EFAULT);
}

/* PROT_NONE targets and sources. */
TEST_F(bad, exec_prot_none)
{
	size_t ps = self->ps;
	char *none = self->none;

	exec_bad(_metadata, self, "read none", svmx_op_read(none, 8, self->check), -EFAULT);
	exec_bad(_metadata, self, "write none", svmx_op_write(none, 8, self->src), -EFAULT);
	exec_bad(_metadata, self, "fill none", svmx_op_fill(none, 8, 1), -EFAULT);
	exec_bad(_metadata, self, "atomic none", svmx_op_atomic(none, 1, 8, 1), -EFAULT);
	exec_bad(_metadata, self, "copy from none", svmx_op_copy(none, 8, self->rw), -EFAULT);
	exec_bad(_metadata, self, "copy to none", svmx_op_copy(self->rw, 8, none), -EFAULT);
	exec_bad(_metadata, self, "read spanning PROT_NONE and read-only",
		 svmx_op_read(none + ps, 2 * ps, self->check), -EFAULT);
}

/* Read-only targets: no write, fill, atomic or copy into them; reads work. */
TEST_F(bad, exec_readonly_target)
{
	size_t ps = self->ps;
	char *ro = self->ro, *out;

	exec_bad(_metadata, self, "write ro", svmx_op_write(ro, 8, self->src), -EFAULT);
	exec_bad(_metadata, self, "fill ro", svmx_op_fill(ro, 2 * ps, 1), -EFAULT);
	exec_bad(_metadata, self, "atomic ro", svmx_op_atomic(ro + ps, 4, 8, 1), -EFAULT);
	exec_bad(_metadata, self, "copy to ro", svmx_op_copy(self->rw, ps, ro), -EFAULT);

	out = calloc(2, ps);
	ASSERT_NE(NULL, out);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(ro, 2 * ps, out), NULL));
	EXPECT_EQ(-1, svmx_pat_check(out, 2 * ps, 2));
	memset(out, 0, 2 * ps);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_copy(ro, 2 * ps, out), NULL));
	EXPECT_EQ(-1, svmx_pat_check(out, 2 * ps, 2));
	intact(_metadata, self, "reads of ro");
	free(out);
}

/*
 * Fields an opcode does not use must be zero; COPY ranges must not
 * overlap (adjacent is fine).
 */
TEST_F(bad, exec_unused_fields_and_overlap)
{
	uint64_t chk = svmx_ptr(self->check), src = svmx_ptr(self->src);
	uint64_t far = svmx_ptr(self->rw) + 8 * self->ps;
	size_t ps = self->ps;
	char *rw = self->rw;

	exec_bad(_metadata, self, "read with value",
		 op_raw(SVMX_OP_READ, rw, 8, 0, 1, 0, chk), -EINVAL);
	exec_bad(_metadata, self, "read with addr2",
		 op_raw(SVMX_OP_READ, rw, 8, 0, 0, far, chk), -EINVAL);
	exec_bad(_metadata, self, "write with value",
		 op_raw(SVMX_OP_WRITE, rw, 8, 0, 1, 0, src), -EINVAL);
	exec_bad(_metadata, self, "write with addr2",
		 op_raw(SVMX_OP_WRITE, rw, 8, 0, 0, far, src), -EINVAL);
	exec_bad(_metadata, self, "fill with buf",
		 op_raw(SVMX_OP_FILL, rw, 8, 0, 1, 0, src), -EINVAL);
	exec_bad(_metadata, self, "fill with addr2",
		 op_raw(SVMX_OP_FILL, rw, 8, 0, 1, far, 0), -EINVAL);
	exec_bad(_metadata, self, "atomic with buf",
		 op_raw(SVMX_OP_ATOMIC_ADD, rw, 1, 8, 1, 0, src), -EINVAL);
	exec_bad(_metadata, self, "atomic with addr2",
		 op_raw(SVMX_OP_ATOMIC_ADD, rw, 1, 8, 1, far, 0), -EINVAL);
	exec_bad(_metadata, self, "copy with value",
		 op_raw(SVMX_OP_COPY, rw, 8, 0, 1, far, 0), -EINVAL);
	exec_bad(_metadata, self, "copy with buf",
		 op_raw(SVMX_OP_COPY, rw, 8, 0, 0, far, chk), -EINVAL);

	exec_bad(_metadata, self, "copy overlapping forward",
		 svmx_op_copy(rw, ps, rw + 100), -EINVAL);
	exec_bad(_metadata, self, "copy overlapping backward",
		 svmx_op_copy(rw + 100, ps, rw), -EINVAL);
	exec_bad(_metadata, self, "copy onto itself", svmx_op_copy(rw, 8, rw), -EINVAL);

	/* Adjacent ranges are fine. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_copy(rw, ps + 8, rw + ps + 8), NULL));
	EXPECT_EQ(-1, svmx_pat_check_from(rw + ps + 8, 0, ps + 8, 1));
	svmx_pat_fill(rw, RW_PAGES * ps, 1);
	intact(_metadata, self, "adjacent copy");
}

/* Placement of rw is still: pages 0-7 LOCAL, 8-15 SYSTEM. */
static void placement_unchanged(struct __test_metadata *_metadata,
				FIXTURE_DATA(bad) *self, const char *after)
{
	uint8_t snap[RW_PAGES];
	unsigned int i;

	ASSERT_EQ(0, svmx_snapshot(self->fd, self->rw, RW_PAGES, snap, NULL));
	for (i = 0; i < RW_PAGES; i++)
		EXPECT_EQ(i < DEV_PAGES ? SVMX_SNAP_LOCAL : SVMX_SNAP_SYSTEM,
			  snap[i] & SVMX_SNAP_LOC_MASK)
			TH_LOG("page %u moved by %s", i, after);
}

/*
 * The bad migration, with @target; as SELF it would move rw's system pages,
 * as SYSTEM its device pages.
 */
static void migrate_bad(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
			const char *what, uint64_t addr, uint64_t len,
			uint32_t target, uint32_t flags, int err)
{
	struct svmx_migrate m = { .addr = addr, .length = len, .target = target,
				  .flags = flags };

	expect_err(_metadata, err, svmx_ioctl(self->fd, SVMX_IOC_MIGRATE, &m), what);
	placement_unchanged(_metadata, self, what);
	intact(_metadata, self, what);
}

/* MIGRATE: ranges, targets, flags, pointers; nothing moves. */
TEST_F(bad, migrate_bad_args)
{
	const uint64_t top = ~0ULL & ~(uint64_t)(self->ps - 1);
	static const uint32_t targets[] = { SVMX_TARGET_SELF, SVMX_TARGET_SYSTEM };
	static const uint32_t bad_targets[] = { 0, 1, 0x7fffffffu, 0xfffffffdu };
	uint64_t rw = svmx_ptr(self->rw), len = RW_PAGES * self->ps;
	size_t ps = self->ps;
	char what[80];
	unsigned int t, i;

	placement_unchanged(_metadata, self, "setup");
	for (t = 0; t < 2; t++) {
		uint32_t tg = targets[t];

		migrate_bad(_metadata, self, "addr +1", rw + 1, len - ps, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "addr +8", rw + 8, len - ps, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "length 0", rw, 0, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "length +1", rw, len + 1 - ps, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "length 100", rw, 100, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "wrapping", top, 2 * ps, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "ending at 2^64", rw, 0 - rw, tg, 0, -EINVAL);
		migrate_bad(_metadata, self, "flags 1", rw, len, tg, 1, -EINVAL);
		migrate_bad(_metadata, self, "flags bit 31", rw, len, tg, 0x80000000u,
			    -EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(bad_targets); i++) {
		snprintf(what, sizeof(what), "target %#x", bad_targets[i]);
		migrate_bad(_metadata, self, what, rw, len, bad_targets[i], 0, -EINVAL);
	}
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_MIGRATE, (void *)8));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_MIGRATE, self->hole));
	placement_unchanged(_metadata, self, "bad migrate pointer");
	intact(_metadata, self, "bad migrate pointer");

	/* Unmapped: an error (-EFAULT preferred), data intact. */
	EXPECT_GT(0, svmx_migrate(self->fd, self->hole, 2 * ps, SVMX_TARGET_SELF, NULL));
	EXPECT_GT(0, svmx_migrate(self->fd, self->hole, 2 * ps, SVMX_TARGET_SYSTEM, NULL));
	placement_unchanged(_metadata, self, "migrate of a hole");
	intact(_metadata, self, "migrate of a hole");

	/* And a good one still works. */
	ASSERT_EQ(0, svmx_migrate(self->fd, self->rw, RW_PAGES * ps, SVMX_TARGET_SYSTEM,
				  NULL));
	intact(_metadata, self, "good migrate");
}

static void advise_bad(struct __test_metadata *_metadata, FIXTURE_DATA(bad) *self,
		       const char *what, struct svmx_advise a, int err)
{
	expect_err(_metadata, err, svmx_ioctl(self->fd, SVMX_IOC_ADVISE, &a), what);
}

/*
 * ADVISE: unknown advice, values out of range or set where unused, flags,
 * reserved, ranges, pointers; none of it takes effect.
 */
TEST_F(bad, advise_bad_args)
{
	const uint64_t top = ~0ULL & ~(uint64_t)(self->ps - 1);
	size_t ps = self->ps, size = 2UL << 20;
	unsigned long n = size / ps;
	uint32_t nr = self->v.nr_devices;
	struct svmx_counters c;
	char *fresh, *other, *out;
	uint64_t f;

	fresh = svmx_map_anon(size, MAP_PRIVATE);
	other = svmx_map_anon(size, MAP_PRIVATE);
	out = malloc(size);
	ASSERT_NE(NULL, fresh);
	ASSERT_NE(NULL, other);
	ASSERT_NE(NULL, out);
	svmx_pat_fill(fresh, size, 4);
	svmx_pat_fill(other, size, 5);
	f = svmx_ptr(fresh);

#define ADV(_advice, _value) \
	((struct svmx_advise){ .addr = f, .length = size, .advice = (_advice), \
			       .value = (_value) })
	advise_bad(_metadata, self, "advice 0", ADV(0, 0), -EINVAL);
	advise_bad(_metadata, self, "advice 7",
		   ADV(SVMX_ADVISE_UNSET_READ_MOSTLY + 1, 0), -EINVAL);
	advise_bad(_metadata, self, "advice ~0", ADV(0xffffffffu, 0), -EINVAL);
	advise_bad(_metadata, self, "preferred nr_devices",
		   ADV(SVMX_ADVISE_PREFERRED_LOCATION, nr), -EINVAL);
	advise_bad(_metadata, self, "preferred nr_devices + 5",
		   ADV(SVMX_ADVISE_PREFERRED_LOCATION, nr + 5), -EINVAL);
	advise_bad(_metadata, self, "preferred TARGET_SELF",
		   ADV(SVMX_ADVISE_PREFERRED_LOCATION, SVMX_TARGET_SELF), -EINVAL);
	advise_bad(_metadata, self, "preferred 0xfffffffd",
		   ADV(SVMX_ADVISE_PREFERRED_LOCATION, 0xfffffffdu), -EINVAL);
	advise_bad(_metadata, self, "accessed-by nr_devices",
		   ADV(SVMX_ADVISE_ACCESSED_BY, nr), -EINVAL);
	advise_bad(_metadata, self, "accessed-by TARGET_SYSTEM",
		   ADV(SVMX_ADVISE_ACCESSED_BY, SVMX_TARGET_SYSTEM), -EINVAL);
	advise_bad(_metadata, self, "unset accessed-by nr_devices",
		   ADV(SVMX_ADVISE_UNSET_ACCESSED_BY, nr), -EINVAL);
	advise_bad(_metadata, self, "unset preferred with a value",
		   ADV(SVMX_ADVISE_UNSET_PREFERRED_LOCATION, 1), -EINVAL);
	advise_bad(_metadata, self, "read-mostly with a value",
		   ADV(SVMX_ADVISE_READ_MOSTLY, 1), -EINVAL);
	advise_bad(_metadata, self, "unset read-mostly with a value",
		   ADV(SVMX_ADVISE_UNSET_READ_MOSTLY, 1), -EINVAL);
#undef ADV

	/* Otherwise valid PREFERRED_LOCATION=system, one thing wrong. */
#define PREF(_addr, _len, _flags, _reserved) \
	((struct svmx_advise){ .addr = (_addr), .length = (_len), \
			       .advice = SVMX_ADVISE_PREFERRED_LOCATION, \
			       .value = SVMX_TARGET_SYSTEM, .flags = (_flags), \
			       .reserved = (_reserved) })
	advise_bad(_metadata, self, "flags 1", PREF(f, size, 1, 0), -EINVAL);
	advise_bad(_metadata, self, "flags bit 31", PREF(f, size, 0x80000000u, 0), -EINVAL);
	advise_bad(_metadata, self, "reserved 1", PREF(f, size, 0, 1), -EINVAL);
	advise_bad(_metadata, self, "addr +8", PREF(f + 8, size - ps, 0, 0), -EINVAL);
	advise_bad(_metadata, self, "length 0", PREF(f, 0, 0, 0), -EINVAL);
	advise_bad(_metadata, self, "length +1", PREF(f, size - ps + 1, 0, 0), -EINVAL);
	advise_bad(_metadata, self, "wrapping", PREF(top, 2 * ps, 0, 0), -EINVAL);
	advise_bad(_metadata, self, "ending at 2^64", PREF(f, 0 - f, 0, 0), -EINVAL);
#undef PREF
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_ADVISE, (void *)8));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_ADVISE, self->hole));
	intact(_metadata, self, "bad advise");

	/* No advice took: the device fault migrates. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(fresh, size, out), &c));
	EXPECT_EQ(-1, svmx_pat_check(out, size, 4));
	EXPECT_EQ(n, c.pages_to_device);
	EXPECT_EQ(0, c.remote_accesses);
	/* While the valid form of the same advice does take. */
	ASSERT_EQ(0, svmx_advise(self->fd, other, size, SVMX_ADVISE_PREFERRED_LOCATION,
				 SVMX_TARGET_SYSTEM));
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(other, size, out), &c));
	EXPECT_EQ(-1, svmx_pat_check(out, size, 5));
	EXPECT_EQ(0, c.pages_to_device);
	munmap(fresh, size);
	munmap(other, size);
	free(out);
}

/*
 * SNAPSHOT: npages 0 and above the maximum, flags, ranges, output and peer
 * pointers; a rejected call writes no output; the maximum works.
 */
TEST_F(bad, snapshot_bad_args)
{
	const uint64_t top = ~0ULL & ~(uint64_t)(self->ps - 1);
	uint64_t rw = svmx_ptr(self->rw);
	uint8_t out[RW_PAGES], peer[RW_PAGES], *big;
	struct svmx_snapshot s;
	unsigned long i, bad = 0;

#define SNAP(_addr, _npages, _flags, _out, _peer) \
	((struct svmx_snapshot){ .addr = (_addr), .npages = (_npages), \
				 .flags = (_flags), .out = (_out), .peer = (_peer) })
	struct {
		const char *what;
		struct svmx_snapshot s;
		int err;
	} cases[] = {
		{ "npages 0", SNAP(rw, 0, 0, svmx_ptr(out), 0), -EINVAL },
		{ "npages max + 1",
		  SNAP(rw, SVMX_SNAPSHOT_MAX_PAGES + 1, 0, svmx_ptr(out), 0), -EINVAL },
		{ "npages ~0", SNAP(rw, 0xffffffffu, 0, svmx_ptr(out), 0), -EINVAL },
		{ "flags 1", SNAP(rw, RW_PAGES, 1, svmx_ptr(out), 0), -EINVAL },
		{ "flags bit 31", SNAP(rw, RW_PAGES, 0x80000000u, svmx_ptr(out), 0), -EINVAL },
		{ "addr +8", SNAP(rw + 8, RW_PAGES, 0, svmx_ptr(out), 0), -EINVAL },
		{ "wrapping", SNAP(top, 2, 0, svmx_ptr(out), 0), -EINVAL },
		{ "out NULL", SNAP(rw, RW_PAGES, 0, 0, 0), EINVAL_OR_EFAULT },
		{ "out unmapped", SNAP(rw, RW_PAGES, 0, svmx_ptr(self->hole), 0), -EFAULT },
		{ "out PROT_NONE", SNAP(rw, RW_PAGES, 0, svmx_ptr(self->none), 0), -EFAULT },
		{ "out read-only", SNAP(rw, RW_PAGES, 0, svmx_ptr(self->ro), 0), -EFAULT },
		{ "peer unmapped", SNAP(rw, RW_PAGES, 0, svmx_ptr(out),
					svmx_ptr(self->hole)), -EFAULT },
		{ "peer read-only", SNAP(rw, RW_PAGES, 0, svmx_ptr(out),
					 svmx_ptr(self->ro)), -EFAULT },
	};
#undef SNAP

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(out, 0xee, sizeof(out));
		s = cases[i].s;
		expect_err(_metadata, cases[i].err,
			   svmx_ioctl(self->fd, SVMX_IOC_SNAPSHOT, &s), cases[i].what);
		if (cases[i].err == -EINVAL)
			EXPECT_EQ(RW_PAGES, svmx_snap_count(out, RW_PAGES, 0xff, 0xee))
				TH_LOG("%s wrote output", cases[i].what);
		placement_unchanged(_metadata, self, cases[i].what);
		intact(_metadata, self, cases[i].what);
	}
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_SNAPSHOT, (void *)8));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_SNAPSHOT, self->hole));
	intact(_metadata, self, "bad snapshot pointer");

	/* Good calls: this range, and the largest allowed one. */
	ASSERT_EQ(0, svmx_snapshot(self->fd, self->rw, RW_PAGES, out, peer));
	EXPECT_EQ(DEV_PAGES, svmx_snap_loc_count(out, RW_PAGES, SVMX_SNAP_LOCAL));
	big = malloc(SVMX_SNAPSHOT_MAX_PAGES);
	ASSERT_NE(NULL, big);
	memset(big, 0xee, SVMX_SNAPSHOT_MAX_PAGES);
	ASSERT_EQ(0, svmx_snapshot(self->fd, (void *)(uintptr_t)0x10000,
				   SVMX_SNAPSHOT_MAX_PAGES, big, NULL));
	for (i = 0; i < SVMX_SNAPSHOT_MAX_PAGES; i++)
		bad += (big[i] & SVMX_SNAP_LOC_MASK) > SVMX_SNAP_PEER;
	EXPECT_EQ(0, bad);
	free(big);
}

/* STATS: flags, reserved, pointers. */
TEST_F(bad, stats_bad_args)
{
	struct svmx_stats st = { .flags = 1 };
	void *zeros;

	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_STATS, &st));
	memset(&st, 0, sizeof(st));
	st.reserved = 1;
	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_STATS, &st));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_STATS, (void *)8));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_STATS, self->hole));
	/* Readable zeros (valid input), but the output cannot be written. */
	zeros = mmap(NULL, self->ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, zeros);
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_STATS, zeros));
	munmap(zeros, self->ps);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	EXPECT_EQ(self->v.mem_bytes, st.mem_bytes);
	EXPECT_GE(st.resident_pages, DEV_PAGES);
	EXPECT_GE(st.ctx.pages_to_device, DEV_PAGES);
	intact(_metadata, self, "bad stats");
}

/* ---------------------------------------------------------------------
 * Binding: a fixture whose file is not bound.
 */

FIXTURE(bind)
{
	int fd;
	size_t ps;
	struct svmx_version v;
	char *mem;	/* 4 pages, pattern 6 */
	char *out;
};

FIXTURE_SETUP(bind)
{
	self->ps = svmx_page_size();
	self->mem = svmx_map_anon(4 * self->ps, MAP_PRIVATE);
	self->out = malloc(4 * self->ps);
	ASSERT_NE(NULL, self->mem);
	ASSERT_NE(NULL, self->out);
	svmx_pat_fill(self->mem, 4 * self->ps, 6);
	self->fd = svmx_open(0);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "/dev/svmx0 not present");
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0, svmx_get_version(self->fd, &self->v));
}

FIXTURE_TEARDOWN(bind)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->mem, 4 * self->ps);
	free(self->out);
}

/* The device works through @fd: a write, read back by device and CPU. */
static void bind_works(struct __test_metadata *_metadata, FIXTURE_DATA(bind) *self,
		       int fd)
{
	size_t len = 4 * self->ps;

	svmx_pat_fill(self->out, len, 7);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_write(self->mem, len, self->out), NULL));
	memset(self->out, 0, len);
	ASSERT_EQ(0, svmx_exec1(fd, svmx_op_read(self->mem, len, self->out), NULL));
	EXPECT_EQ(-1, svmx_pat_check(self->out, len, 7));
	EXPECT_EQ(-1, svmx_pat_check(self->mem, len, 7));
	svmx_pat_fill(self->mem, len, 6);
}

/* The calls that need a binding fail with -EINVAL on @fd, doing nothing. */
static void unbound_rejects(struct __test_metadata *_metadata,
			    FIXTURE_DATA(bind) *self, int fd, int err)
{
	size_t len = 4 * self->ps;
	uint8_t snap[4];

	EXPECT_EQ(err, svmx_exec1(fd, svmx_op_fill(self->mem, len, 0), NULL));
	EXPECT_EQ(err, svmx_migrate(fd, self->mem, len, SVMX_TARGET_SELF, NULL));
	EXPECT_EQ(err, svmx_migrate(fd, self->mem, len, SVMX_TARGET_SYSTEM, NULL));
	EXPECT_EQ(err, svmx_advise(fd, self->mem, len, SVMX_ADVISE_PREFERRED_LOCATION,
				   SVMX_TARGET_SYSTEM));
	EXPECT_EQ(err, svmx_snapshot(fd, self->mem, 4, snap, NULL));
	EXPECT_EQ(-1, svmx_pat_check(self->mem, len, 6));
}

/* EXEC, MIGRATE, ADVISE, SNAPSHOT need a binding; VERSION and STATS do not. */
TEST_F(bind, unbound_file)
{
	struct svmx_stats st;
	struct svmx_counters zero = {};

	unbound_rejects(_metadata, self, self->fd, -EINVAL);
	ASSERT_EQ(0, svmx_get_stats(self->fd, &st));
	EXPECT_EQ(0, memcmp(&zero, &st.ctx, sizeof(zero)));
	EXPECT_EQ(self->v.mem_bytes, st.mem_bytes);
	ASSERT_EQ(0, svmx_bind(self->fd));
	bind_works(_metadata, self, self->fd);
}

/* BIND: flags, reserved, pointers; a failed bind leaves the file unbound. */
TEST_F(bind, bind_bad_args)
{
	struct svmx_bind b = { .flags = 1 };

	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_BIND, &b));
	b.flags = 0x80000000u;
	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_BIND, &b));
	b.flags = 0;
	b.reserved = 1;
	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_BIND, &b));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_BIND, (void *)8));
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_BIND, self->mem + 4 * self->ps));
	unbound_rejects(_metadata, self, self->fd, -EINVAL);
	ASSERT_EQ(0, svmx_bind(self->fd));
	bind_works(_metadata, self, self->fd);
}

/* Binding a file twice: -EINVAL, the first binding stays. */
TEST_F(bind, bind_twice)
{
	ASSERT_EQ(0, svmx_bind(self->fd));
	EXPECT_EQ(-EINVAL, svmx_bind(self->fd));
	bind_works(_metadata, self, self->fd);
}

/*
 * A second file of the same device in the same process: -EBUSY while the
 * first is bound, bindable once the first is closed.
 */
TEST_F(bind, second_file_same_device)
{
	int fd2 = svmx_open(0);

	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, svmx_bind(self->fd));
	EXPECT_EQ(-EBUSY, svmx_bind(fd2));
	unbound_rejects(_metadata, self, fd2, -EINVAL);
	bind_works(_metadata, self, self->fd);
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, svmx_bind(fd2));
	bind_works(_metadata, self, fd2);
	self->fd = fd2;
}

/* One process may bind to several devices, one file each. */
TEST_F(bind, two_devices)
{
	int fd1;

	if (self->v.nr_devices < 2)
		SKIP(return, "needs two svmx devices (nr_devices=%u)", self->v.nr_devices);
	fd1 = svmx_open(1);
	ASSERT_GE(fd1, 0);
	ASSERT_EQ(0, svmx_bind(self->fd));
	ASSERT_EQ(0, svmx_bind(fd1));
	bind_works(_metadata, self, self->fd);
	bind_works(_metadata, self, fd1);
	close(fd1);
}

/*
 * A forked child cannot use the parent's binding (-EPERM, nothing done to
 * its memory) but can bind a file of its own; the parent is unaffected.
 */
TEST_F(bind, forked_child)
{
	size_t len = 4 * self->ps;
	char *fresh;
	int status;
	pid_t pid;

	ASSERT_EQ(0, svmx_bind(self->fd));
	bind_works(_metadata, self, self->fd);
	ASSERT_EQ(0, svmx_migrate(self->fd, self->mem, len, SVMX_TARGET_SELF, NULL));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		/* No harness assertions in here: plain exit codes. */
		uint8_t snap[4];
		int fd;

		if (svmx_exec1(self->fd, svmx_op_fill(self->mem, len, 0), NULL) != -EPERM)
			_exit(10);
		if (svmx_migrate(self->fd, self->mem, len, SVMX_TARGET_SYSTEM, NULL) != -EPERM)
			_exit(11);
		if (svmx_advise(self->fd, self->mem, len, SVMX_ADVISE_PREFERRED_LOCATION,
				SVMX_TARGET_SYSTEM) != -EPERM)
			_exit(12);
		if (svmx_snapshot(self->fd, self->mem, 4, snap, NULL) != -EPERM)
			_exit(13);
		if (svmx_pat_check(self->mem, len, 6) != -1)
			_exit(14);
		fd = svmx_open_bound(0);
		if (fd < 0)
			_exit(15);
		memset(self->out, 0, len);
		if (svmx_exec1(fd, svmx_op_read(self->mem, len, self->out), NULL) ||
		    svmx_pat_check(self->out, len, 6) != -1)
			_exit(16);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: 10-13 EXEC/MIGRATE/ADVISE/SNAPSHOT not -EPERM, 14 memory changed, 15-16 own binding");

	/*
	 * The parent's binding still works.  Its memory from before the fork
	 * is copy-on-write now (svmx_migrate_test covers writing to that):
	 * read it, and write memory mapped after the fork.
	 */
	memset(self->out, 0, len);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(self->mem, len, self->out), NULL));
	EXPECT_EQ(-1, svmx_pat_check(self->out, len, 6));
	EXPECT_EQ(-1, svmx_pat_check(self->mem, len, 6));
	fresh = svmx_map_anon(len, MAP_PRIVATE);
	ASSERT_NE(NULL, fresh);
	svmx_pat_fill(self->out, len, 9);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(fresh, len, self->out), NULL));
	EXPECT_EQ(-1, svmx_pat_check(fresh, len, 9));
	munmap(fresh, len);
}

TEST_HARNESS_MAIN
