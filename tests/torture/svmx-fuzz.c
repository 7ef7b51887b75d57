// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-fuzz: seeded ioctl fuzzer with an oracle.
 *
 * Every call is one of the seven svmx ioctls (or a wrong ioctl number: an
 * unknown command, a known one with the wrong size or direction) with
 * fields drawn from boundary and random values: addresses in, around and
 * far outside the process's memory (unmapped, PROT_NONE, read-only,
 * kernel, non-canonical), lengths around page and SVMX_OP_MAX_LEN limits,
 * unknown opcodes, flags, advice and targets, nonzero reserved fields, ops
 * arrays and argument structs that run into unmapped or PROT_NONE memory
 * or sit in read-only memory, on bound, unbound, foreign and closed files,
 * and from a forked child on its parent's files.
 *
 * Before each call an oracle computes, from the rules of uapi/svmx.h and
 * the layout of the fuzzer's own memory, which results are acceptable (0
 * or a set of errnos) and what the call may change.  The fuzzer keeps a
 * shadow of every byte of its arena: successful EXEC calls are applied to
 * it, everything else must change nothing.  A verified region (a known
 * pattern, read-write, and read-only) that no acceptable call writes is
 * compared after every call; the whole arena at every 16th call and at the
 * end.  A result outside the set, a changed byte, a crash, or (seen by the
 * VM runner) a kernel splat fails the pass.  The sequence of calls depends
 * only on the seed and -n; replay a failure with the same -s and -n (-v
 * prints every call).
 */
#include <getopt.h>
#include <sys/mman.h>

#include "svmx_torture.h"

/* x86-64 with 4-level page tables (the test VM boots with no5lvl). */
#define USER_TOP	0x00007ffffffff000ULL

/* ---------------------------------------------------------------------
 * The arena: the memory operations are aimed at, page by page
 */

enum { P_NONE, P_R, P_RW, P_HOLE };

/* Pages of the arena and what each is. */
static const struct {
	const char *name;
	unsigned int pages;
	int prot;
} arena_layout[] = {
	{ "guard", 1, P_NONE },
	{ "scratch", 16, P_RW },	/* fair game for valid writes */
	{ "hole", 2, P_HOLE },
	{ "none", 2, P_NONE },
	{ "verified", 4, P_RW },	/* a pattern no accepted call may change */
	{ "ro", 2, P_R },		/* a read-only pattern */
	{ "staging", 8, P_RW },		/* READ/WRITE buffers */
	{ "guard", 1, P_NONE },
};

#define NR_SEGS		(sizeof(arena_layout) / sizeof(arena_layout[0]))
#define SEG_SCRATCH	1
#define SEG_HOLE	2
#define SEG_NONE	3
#define SEG_VERIFIED	4
#define SEG_RO		5
#define SEG_STAGING	6
#define ARENA_PAGES	36

#define OPS_MAX		(SVMX_EXEC_MAX_OPS + 8)
#define SNAP_BYTES	(SVMX_SNAPSHOT_MAX_PAGES + 4096)

enum { IOC_VERSION, IOC_BIND, IOC_EXEC, IOC_MIGRATE, IOC_ADVISE, IOC_SNAPSHOT,
	IOC_STATS, IOC_BADCMD, IOC_REBIND, IOC_FORK, IOC_NR };

static const char *const ioc_name[IOC_NR] = {
	"VERSION", "BIND", "EXEC", "MIGRATE", "ADVISE", "SNAPSHOT", "STATS",
	"bad-cmd", "rebind", "fork",
};

static const unsigned int ioc_weight[IOC_NR] = {
	[IOC_VERSION] = 4, [IOC_BIND] = 5, [IOC_EXEC] = 45, [IOC_MIGRATE] = 12,
	[IOC_ADVISE] = 10, [IOC_SNAPSHOT] = 10, [IOC_STATS] = 6,
	[IOC_BADCMD] = 6, [IOC_REBIND] = 1, [IOC_FORK] = 1,
};

/* Where an argument struct lives. */
enum { A_OK, A_CROSS, A_RO, A_NULL, A_HOLE, A_KERNEL, A_NR };

static const char *const arg_name[A_NR] = {
	"ok", "crossing into PROT_NONE", "read-only", "NULL", "unmapped", "kernel",
};

/* Which file a call goes to. */
enum { F_BOUND, F_UNBOUND, F_DEVNULL, F_CLOSED };

static const char *const file_name[] = { "bound", "unbound", "/dev/null", "closed" };

/* Acceptable results: bit 0 success, bit e errno e. */
#define OK_BIT		1ULL
#define E(e)		(1ULL << (e))

static struct {
	unsigned long ncalls;
	int verbose;
	size_t ps;
	unsigned int ndev;
	uint64_t mem_bytes;
	bool debugfs;
} opt = { .ncalls = 3000 };

/**
 * struct fz - the fuzzer's state
 * @rng: the generator
 * @arena: the arena's first byte
 * @shadow: what the arena must hold (RW and RO pages)
 * @seg: start of each arena segment
 * @ops: room for OPS_MAX ops, a PROT_NONE page right after
 * @argp: an argument page: RW, then PROT_NONE, then a read-only page
 * @snap_out: SNAP_BYTES, a PROT_NONE page right after
 * @snap_peer: likewise
 * @bound: a bound file per device
 * @unbound: an unbound file per device
 * @devnull: /dev/null
 * @call: index of the current call
 * @what: description of the current call
 * @seen: per ioctl, bit 0 succeeded and bit 1 failed at least once
 * @tally: per ioctl, number of calls
 */
struct fz {
	struct svmx_rng rng;
	uint8_t *arena;
	uint8_t *shadow;
	uint8_t *seg[NR_SEGS];
	struct svmx_op *ops;
	uint8_t *argp;
	uint8_t *snap_out;
	uint8_t *snap_peer;
	int bound[8];
	int unbound[8];
	int devnull;
	unsigned long call;
	char what[512];
	unsigned int seen[IOC_NR];
	unsigned long tally[IOC_NR];
};

static size_t ps(void)
{
	return opt.ps;
}

static bool in_arena(const struct fz *f, uint64_t a)
{
	return a >= svmx_ptr(f->arena) && a < svmx_ptr(f->arena) + ARENA_PAGES * ps();
}

static int page_prot(const struct fz *f, uint64_t a)
{
	uint64_t pg = (a - svmx_ptr(f->arena)) / ps(), n = 0;
	unsigned int i;

	for (i = 0; i < NR_SEGS; i++) {
		n += arena_layout[i].pages;
		if (pg < n)
			return arena_layout[i].prot;
	}
	return P_HOLE;
}

/* ---------------------------------------------------------------------
 * Memory outside the arena: /proc/self/maps
 */

/* Whether [a, a + len) overlaps any mapping outside the arena. */
static bool touches_foreign(const struct fz *f, uint64_t a, uint64_t len)
{
	uint64_t lo = svmx_ptr(f->arena), hi = lo + ARENA_PAGES * ps();
	unsigned long start, end;
	char line[512];
	bool hit = false;
	FILE *m;

	if (!len)
		return false;
	if (a >= lo && a + len <= hi && a + len > a)
		return false;
	m = fopen("/proc/self/maps", "r");
	if (!m)
		return true;
	while (!hit && fgets(line, sizeof(line), m)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		if (end <= lo || start >= hi)	/* not the arena's VMAs */
			hit = a < end && a + len > start;
		else if (start < lo || end > hi)
			hit = (a < lo && a + len > start) || (a + len > hi && a < end);
	}
	fclose(m);
	return hit;
}

/* Whether any mapping at all intersects [a, a + len) (MIGRATE's -EFAULT). */
static bool any_vma(const struct fz *f, uint64_t a, uint64_t len)
{
	unsigned long start, end;
	char line[512];
	bool hit = false;
	FILE *m = fopen("/proc/self/maps", "r");

	if (!m)
		return true;
	while (!hit && fgets(line, sizeof(line), m))
		if (sscanf(line, "%lx-%lx", &start, &end) == 2)
			hit = a < end && a + len > start;
	fclose(m);
	return hit;
}

/*
 * Whether [a, a + len) lies in arena pages allowing @write (write needs
 * read and write, as svmx_vma_allows() says).  Only called for ranges that
 * touch no foreign mapping, so memory outside the arena is unmapped.
 */
static bool arena_allows(const struct fz *f, uint64_t a, uint64_t len, bool write)
{
	uint64_t p;

	if (!in_arena(f, a) || !in_arena(f, a + len - 1) || a + len < a)
		return false;
	for (p = a & ~(uint64_t)(ps() - 1); p < a + len; p += ps()) {
		int prot = page_prot(f, p);

		if (prot == P_HOLE || prot == P_NONE || (write && prot != P_RW))
			return false;
	}
	return true;
}

static uint8_t *shadow_at(struct fz *f, uint64_t a)
{
	return f->shadow + (a - svmx_ptr(f->arena));
}

/* ---------------------------------------------------------------------
 * Values
 */

static uint64_t pick_addr(struct fz *f)
{
	uint64_t a = svmx_ptr(f->arena), base;
	unsigned int s;

	switch (svmx_rng_below(&f->rng, 16)) {
	case 0:
		return 0;
	case 1:
		return svmx_rng_below(&f->rng, ps());
	case 2:
		return USER_TOP - ps() * svmx_rng_range(&f->rng, 0, 2);
	case 3:
		return USER_TOP - 8 * svmx_rng_range(&f->rng, 0, 2);
	case 4:
		return 0xffff888000000000ULL + svmx_rng_below(&f->rng, 1 << 20) * 8;
	case 5:
		return 0x8000000000000000ULL;
	case 6:
		return ~0ULL - 8 * svmx_rng_below(&f->rng, 4);
	case 7:
		return svmx_rng_next(&f->rng);
	case 8:
		return a - ps();
	default:
		s = svmx_rng_below(&f->rng, NR_SEGS);
		base = svmx_ptr(f->seg[s]);
		if (svmx_rng_pct(&f->rng, 50))
			return base + 8 * svmx_rng_below(&f->rng, arena_layout[s].pages * ps() / 8);
		return base + svmx_rng_below(&f->rng, arena_layout[s].pages * ps());
	}
}

static uint64_t pick_len(struct fz *f)
{
	switch (svmx_rng_below(&f->rng, 14)) {
	case 0:
		return 0;
	case 1:
		return svmx_rng_range(&f->rng, 1, 16);
	case 2:
		return ps() - 8 + svmx_rng_below(&f->rng, 17);
	case 3:
		return 2 * ps();
	case 4:
		return SVMX_OP_MAX_LEN;
	case 5:
		return SVMX_OP_MAX_LEN - 8;
	case 6:
		return SVMX_OP_MAX_LEN + 8;
	case 7:
		return ~0ULL - svmx_rng_below(&f->rng, 16);
	case 8:
		return 1ULL << 63;
	case 9:
		return svmx_rng_next(&f->rng);
	case 10:
		return USER_TOP;
	default:
		return svmx_rng_range(&f->rng, 1, 6 * ps());
	}
}

static uint64_t pick_stride(struct fz *f)
{
	switch (svmx_rng_below(&f->rng, 10)) {
	case 0:
		return 0;
	case 1:
		return svmx_rng_range(&f->rng, 1, 7);
	case 2:
		return ps();
	case 3:
		return SVMX_OP_MAX_LEN;
	case 4:
		return SVMX_OP_MAX_LEN + 8;
	case 5:
		return ~7ULL;
	case 6:
		return svmx_rng_next(&f->rng);
	default:
		return 8 * svmx_rng_range(&f->rng, 1, 64);
	}
}

static uint32_t pick_u32(struct fz *f)
{
	switch (svmx_rng_below(&f->rng, 6)) {
	case 0:
		return 1u << svmx_rng_below(&f->rng, 32);
	case 1:
		return ~0u;
	case 2:
		return svmx_rng_range(&f->rng, 1, 16);
	default:
		return (uint32_t)svmx_rng_next(&f->rng);
	}
}

/* A readable or writable range of the arena, up to @max bytes. */
static void pick_arena_range(struct fz *f, bool write, uint64_t max, uint64_t align,
			     uint64_t *a, uint64_t *len)
{
	static const unsigned int rsegs[] = { SEG_SCRATCH, SEG_VERIFIED, SEG_RO, SEG_STAGING };
	static const unsigned int wsegs[] = { SEG_SCRATCH, SEG_STAGING };
	unsigned int s = write ? wsegs[svmx_rng_below(&f->rng, 2)] :
				 rsegs[svmx_rng_below(&f->rng, 4)];
	uint64_t seglen = arena_layout[s].pages * ps(), l, o;

	l = svmx_rng_range(&f->rng, 1, max < seglen ? max : seglen);
	l = l < align ? align : l - l % align;
	o = svmx_rng_below(&f->rng, seglen - l + 1);
	o -= o % align;
	*a = svmx_ptr(f->seg[s]) + o;
	*len = l;
}

/* ---------------------------------------------------------------------
 * Argument placement
 */

/* Put @size bytes of @src where @where says; the pointer to pass. */
static uint64_t place_arg(struct fz *f, int where, const void *src, size_t size)
{
	uint8_t *ro = f->argp + 2 * ps();
	size_t off;

	switch (where) {
	case A_CROSS:
		off = ps() - (size > 8 ? size / 2 : 1);
		memcpy(f->argp + off, src, ps() - off);
		return svmx_ptr(f->argp + off);
	case A_RO:
		mprotect(ro, ps(), PROT_READ | PROT_WRITE);
		memcpy(ro + 64, src, size);
		mprotect(ro, ps(), PROT_READ);
		return svmx_ptr(ro + 64);
	case A_NULL:
		return 0;
	case A_HOLE:
		return svmx_ptr(f->seg[SEG_HOLE]);
	case A_KERNEL:
		return 0xffff888000001000ULL;
	default:
		off = 8 * svmx_rng_below(&f->rng, (ps() - size) / 8);
		if (svmx_rng_pct(&f->rng, 10) && off)
			off -= svmx_rng_range(&f->rng, 1, 7);	/* unaligned is fine */
		memcpy(f->argp + off, src, size);
		return svmx_ptr(f->argp + off);
	}
}

static int pick_where(struct fz *f)
{
	static const unsigned int w[A_NR] = { 80, 5, 5, 4, 3, 3 };

	return svmx_rng_pick(&f->rng, w, A_NR);
}

/* Results the argument's place forces: none, or -EFAULT. */
static bool arg_unreadable(int where)
{
	return where != A_OK && where != A_RO;
}

/* ---------------------------------------------------------------------
 * Checking memory
 */

static bool fail_call(struct fz *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool fail_call(struct fz *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	svmx_diag("FAIL call %lu: %s", f->call, msg);
	svmx_diag("  the call: %s", f->what);
	return false;
}

/* Compare the arena's pages of segment @s (or all, s < 0) with the shadow. */
static bool check_arena(struct fz *f, int only)
{
	unsigned int s;
	size_t i, len;

	for (s = 0; s < NR_SEGS; s++) {
		if (only >= 0 && s != (unsigned int)only)
			continue;
		if (arena_layout[s].prot != P_RW && arena_layout[s].prot != P_R)
			continue;
		len = arena_layout[s].pages * ps();
		if (!memcmp(f->seg[s], shadow_at(f, svmx_ptr(f->seg[s])), len))
			continue;
		for (i = 0; f->seg[s][i] == shadow_at(f, svmx_ptr(f->seg[s]))[i]; i++)
			;
		return fail_call(f, "%s region changed at offset 0x%zx: 0x%02x, want 0x%02x",
				 arena_layout[s].name, i, f->seg[s][i],
				 shadow_at(f, svmx_ptr(f->seg[s]))[i]);
	}
	return true;
}

/* ---------------------------------------------------------------------
 * EXEC
 */

static uint64_t op_span(const struct svmx_op *op)
{
	if (op->opcode == SVMX_OP_ATOMIC_ADD)
		return (op->length - 1) * op->stride + 8;
	return op->length;
}

static bool user_range_ok(uint64_t a, uint64_t len)
{
	return len && a + len > a && a + len <= USER_TOP;
}

/* svmx_op_check() as uapi/svmx.h documents it: true when -EINVAL. */
static bool op_einval(const struct svmx_op *op)
{
	if (op->flags || !op->length)
		return true;
	switch (op->opcode) {
	case SVMX_OP_READ:
	case SVMX_OP_WRITE:
		if (op->stride || op->value || op->addr2 || !op->buf ||
		    op->length > SVMX_OP_MAX_LEN || !user_range_ok(op->buf, op->length))
			return true;
		break;
	case SVMX_OP_FILL:
		if (op->stride || op->addr2 || op->buf || op->addr % 8 || op->length % 8 ||
		    op->length > SVMX_OP_MAX_LEN)
			return true;
		break;
	case SVMX_OP_ATOMIC_ADD:
		if (op->addr2 || op->buf || op->addr % 8 || op->stride < 8 || op->stride % 8 ||
		    op->length > SVMX_OP_MAX_LEN / 8 || op->stride > SVMX_OP_MAX_LEN ||
		    (op->length - 1) * op->stride > SVMX_OP_MAX_LEN - 8)
			return true;
		break;
	case SVMX_OP_COPY:
		if (op->stride || op->value || op->buf || op->length > SVMX_OP_MAX_LEN ||
		    !user_range_ok(op->addr2, op->length) ||
		    (op->addr < op->addr2 + op->length && op->addr2 < op->addr + op->length))
			return true;
		break;
	default:
		return true;
	}
	return !user_range_ok(op->addr, op_span(op));
}

/* The ranges an op touches: (addr, len, write) triples; returns how many. */
static int op_ranges(const struct svmx_op *op, uint64_t r[3][3])
{
	switch (op->opcode) {
	case SVMX_OP_READ:
		r[0][0] = op->addr, r[0][1] = op->length, r[0][2] = 0;
		r[1][0] = op->buf, r[1][1] = op->length, r[1][2] = 1;
		return 2;
	case SVMX_OP_WRITE:
		r[0][0] = op->addr, r[0][1] = op->length, r[0][2] = 1;
		r[1][0] = op->buf, r[1][1] = op->length, r[1][2] = 0;
		return 2;
	case SVMX_OP_COPY:
		r[0][0] = op->addr, r[0][1] = op->length, r[0][2] = 0;
		r[1][0] = op->addr2, r[1][1] = op->length, r[1][2] = 1;
		return 2;
	default:
		r[0][0] = op->addr, r[0][1] = op_span(op), r[0][2] = 1;
		return 1;
	}
}

enum { V_OK, V_EINVAL, V_EFAULT, V_SKIP };

static int op_predict(struct fz *f, const struct svmx_op *op)
{
	uint64_t r[3][3];
	int i, n;

	if (op_einval(op))
		return V_EINVAL;
	n = op_ranges(op, r);
	/* A valid op into memory the fuzzer does not own: never send it. */
	for (i = 0; i < n; i++)
		if (touches_foreign(f, r[i][0], r[i][1]))
			return V_SKIP;
	for (i = 0; i < n; i++)
		if (!arena_allows(f, r[i][0], r[i][1], r[i][2]))
			return V_EFAULT;
	return V_OK;
}

/* Whether an op writes the verified region (only allowed if it is rejected). */
static bool op_writes_verified(struct fz *f, const struct svmx_op *op)
{
	uint64_t r[3][3], v = svmx_ptr(f->seg[SEG_VERIFIED]);
	uint64_t vlen = arena_layout[SEG_VERIFIED].pages * ps();
	int i, n = op_ranges(op, r);

	for (i = 0; i < n; i++)
		if (r[i][2] && r[i][0] < v + vlen && r[i][0] + r[i][1] > v)
			return true;
	return false;
}

/* A valid op over the arena; @bad_target: aim writes at the verified region. */
static void gen_valid_op(struct fz *f, struct svmx_op *op, bool bad_target)
{
	uint64_t a, len, b, blen;

	memset(op, 0, sizeof(*op));
	op->opcode = svmx_rng_range(&f->rng, SVMX_OP_READ, SVMX_OP_COPY);
	switch (op->opcode) {
	case SVMX_OP_READ:
		pick_arena_range(f, false, 3 * ps(), 1, &a, &len);
		pick_arena_range(f, true, len, 1, &b, &blen);
		op->addr = a;
		op->length = blen;
		op->buf = b;
		break;
	case SVMX_OP_WRITE:
		pick_arena_range(f, true, 3 * ps(), 1, &a, &len);
		pick_arena_range(f, false, len, 1, &b, &blen);
		op->addr = a;
		op->length = blen;
		op->buf = b;
		break;
	case SVMX_OP_FILL:
		pick_arena_range(f, true, 3 * ps(), 8, &a, &len);
		op->addr = a;
		op->length = len;
		op->value = svmx_rng_next(&f->rng);
		break;
	case SVMX_OP_ATOMIC_ADD:
		pick_arena_range(f, true, 3 * ps(), 8, &a, &len);
		op->addr = a;
		op->stride = 8 * svmx_rng_range(&f->rng, 1, 128);
		op->length = (len - 8) / op->stride + 1;
		op->value = svmx_rng_next(&f->rng);
		break;
	case SVMX_OP_COPY:
		pick_arena_range(f, false, 3 * ps(), 1, &a, &len);
		pick_arena_range(f, true, len, 1, &b, &blen);
		op->addr = a;
		op->length = blen;
		op->addr2 = b;
		if (op->addr < b + blen && b < op->addr + blen)
			op->addr2 = 0;	/* overlap: make it a rejected op */
		break;
	}
	if (bad_target && op->opcode != SVMX_OP_READ) {
		__u64 *dst = op->opcode == SVMX_OP_COPY ? &op->addr2 : &op->addr;

		*dst = svmx_ptr(f->seg[SEG_VERIFIED]) + (*dst - svmx_ptr(f->arena)) % ps() / 8 * 8;
	}
}

/* Mutate 1..3 fields to boundary or random values. */
static void mutate_op(struct fz *f, struct svmx_op *op)
{
	unsigned int n = svmx_rng_range(&f->rng, 1, 3);

	while (n--) {
		switch (svmx_rng_below(&f->rng, 8)) {
		case 0:
			op->opcode = svmx_rng_pct(&f->rng, 50) ? svmx_rng_below(&f->rng, 8) :
								pick_u32(f);
			break;
		case 1:
			op->flags = pick_u32(f);
			break;
		case 2:
			op->addr = pick_addr(f);
			break;
		case 3:
			op->length = pick_len(f);
			break;
		case 4:
			op->stride = pick_stride(f);
			break;
		case 5:
			op->value = svmx_rng_pct(&f->rng, 50) ? 0 : svmx_rng_next(&f->rng);
			break;
		case 6:
			op->addr2 = svmx_rng_pct(&f->rng, 20) ? 0 : pick_addr(f);
			break;
		default:
			op->buf = svmx_rng_pct(&f->rng, 20) ? 0 : pick_addr(f);
			break;
		}
	}
}

static uint64_t page_rest(uint64_t a)
{
	return ps() - a % ps();
}

/* Apply an accepted op to the shadow, piece by piece as the device runs it. */
static void op_apply(struct fz *f, const struct svmx_op *op)
{
	uint8_t tmp[65536];
	uint64_t done, n, i, v;

	switch (op->opcode) {
	case SVMX_OP_READ:
	case SVMX_OP_WRITE:
		for (done = 0; done < op->length; done += n) {
			n = op->length - done;
			if (n > page_rest(op->addr + done))
				n = page_rest(op->addr + done);
			if (op->opcode == SVMX_OP_READ) {
				memcpy(tmp, shadow_at(f, op->addr + done), n);
				memcpy(shadow_at(f, op->buf + done), tmp, n);
			} else {
				memcpy(tmp, shadow_at(f, op->buf + done), n);
				memcpy(shadow_at(f, op->addr + done), tmp, n);
			}
		}
		break;
	case SVMX_OP_FILL:
		for (i = 0; i < op->length; i += 8)
			memcpy(shadow_at(f, op->addr + i), &op->value, 8);
		break;
	case SVMX_OP_ATOMIC_ADD:
		for (i = 0; i < op->length; i++) {
			memcpy(&v, shadow_at(f, op->addr + i * op->stride), 8);
			v += op->value;
			memcpy(shadow_at(f, op->addr + i * op->stride), &v, 8);
		}
		break;
	case SVMX_OP_COPY:
		memmove(shadow_at(f, op->addr2), shadow_at(f, op->addr), op->length);
		break;
	}
}

static void describe_op(char *buf, size_t len, const struct svmx_op *op)
{
	snprintf(buf, len, "{op %u fl 0x%x addr 0x%llx len 0x%llx stride 0x%llx val 0x%llx addr2 0x%llx buf 0x%llx}",
		 op->opcode, op->flags, (unsigned long long)op->addr,
		 (unsigned long long)op->length, (unsigned long long)op->stride,
		 (unsigned long long)op->value, (unsigned long long)op->addr2,
		 (unsigned long long)op->buf);
}

/* ---------------------------------------------------------------------
 * Files
 */

static int pick_file(struct fz *f, unsigned int dev, int *kind)
{
	static const unsigned int w[] = { 82, 10, 4, 4 };

	*kind = svmx_rng_pick(&f->rng, w, 4);
	switch (*kind) {
	case F_UNBOUND:
		return f->unbound[dev];
	case F_DEVNULL:
		return f->devnull;
	case F_CLOSED:
		return 1000;	/* never opened by the fuzzer */
	default:
		return f->bound[dev];
	}
}

/* What the file alone forces, before any argument is looked at. */
static uint64_t file_forces(int kind, bool needs_binding)
{
	switch (kind) {
	case F_DEVNULL:
		return E(ENOTTY);
	case F_CLOSED:
		return E(EBADF);
	case F_UNBOUND:
		return needs_binding ? E(EINVAL) : 0;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * One call of each kind.  Each fills f->what, computes the acceptable
 * results, calls, and checks.
 */

static bool expect(struct fz *f, unsigned int ioc, int ret, uint64_t ok)
{
	uint64_t got = ret ? E(-ret) : OK_BIT;

	f->seen[ioc] |= ret ? 2 : 1;
	if (opt.verbose)
		svmx_diag("call %lu: %s -> %s", f->call, f->what, ret ? strerror(-ret) : "0");
	if (got & ok)
		return true;
	return fail_call(f, "%s returned %s (%d)", ioc_name[ioc],
			 ret ? strerror(-ret) : "success", ret);
}

static int do_ioctl(int fd, unsigned long cmd, uint64_t arg)
{
	return ioctl(fd, cmd, (void *)(uintptr_t)arg) ? -errno : 0;
}

/* A valid op that writes nothing but scratch and staging. */
static void gen_safe_op(struct fz *f, struct svmx_op *op)
{
	do
		gen_valid_op(f, op, false);
	while (op_predict(f, op) != V_OK || op_writes_verified(f, op));
}

static bool call_exec(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev), i, nr, nmade, nvalid = 0;
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret, v;
	bool any_inval = false, any_fault = false, ops_bad = false, doomed, bad_target, clean;
	struct svmx_exec e = {};
	struct svmx_op *ops;
	uint64_t ok, arg;
	size_t pos;
	char d[200];

	switch (svmx_rng_below(&f->rng, 24)) {
	case 0:
		nr = 0;
		break;
	case 1:
		nr = SVMX_EXEC_MAX_OPS;
		break;
	case 2:
		nr = SVMX_EXEC_MAX_OPS + 1;
		break;
	case 3:
		nr = svmx_rng_pct(&f->rng, 50) ? ~0u : pick_u32(f);
		break;
	case 4:
	case 5:
		nr = svmx_rng_range(&f->rng, 9, 64);
		break;
	default:
		nr = svmx_rng_range(&f->rng, 1, 8);
		break;
	}
	/* Where the ops array sits: normally, or running into PROT_NONE. */
	pos = 0;
	if (nr <= OPS_MAX && svmx_rng_pct(&f->rng, 8)) {
		pos = OPS_MAX - nr + 1;		/* the last op crosses the guard */
		ops_bad = true;
	} else if (nr <= OPS_MAX && svmx_rng_pct(&f->rng, 10)) {
		pos = OPS_MAX - nr;		/* ends right at the guard */
	}
	ops = f->ops + pos;
	nmade = nr < OPS_MAX - pos ? nr : OPS_MAX - pos;
	e.ops = svmx_ptr(ops);
	e.nr_ops = nr;
	e.flags = svmx_rng_pct(&f->rng, 5) ? pick_u32(f) : 0;
	switch (svmx_rng_below(&f->rng, 40)) {
	case 0:
		e.ops = 0;
		ops_bad = true;
		break;
	case 1:
		e.ops = svmx_ptr(f->seg[SEG_HOLE]);
		ops_bad = true;
		break;
	case 2:
		e.ops = svmx_ptr(f->seg[SEG_NONE]);
		ops_bad = true;
		break;
	case 3:
		e.ops = 0xffff888000000000ULL;
		ops_bad = true;
		break;
	}
	/* Rejected whatever the ops say. */
	doomed = fkind != F_BOUND || arg_unreadable(where) || e.flags || !nr ||
		 nr > SVMX_EXEC_MAX_OPS || ops_bad;
	/*
	 * Some batches aim ops at the verified region: they must be rejected
	 * (by the other fields or by an invalid op), and a call that ran any
	 * of them shows up there.
	 */
	clean = svmx_rng_pct(&f->rng, 40);
	bad_target = !clean && svmx_rng_pct(&f->rng, 40);
	for (i = 0; i < nmade; i++) {
		struct svmx_op *op = &ops[i];

		if (i >= 64) {
			*op = ops[i % 64];	/* big batches repeat the first 64 */
			continue;
		}
		do {
			gen_valid_op(f, op, bad_target && svmx_rng_pct(&f->rng, 30));
			if (!clean && svmx_rng_pct(&f->rng, 35))
				mutate_op(f, op);
			v = op_predict(f, op);
		} while (v == V_SKIP);
	}
	for (i = 0; i < nmade && i < 64; i++) {
		v = op_predict(f, &ops[i]);
		any_inval |= v == V_EINVAL;
		any_fault |= v == V_EFAULT;
		nvalid += v == V_OK;
	}
	/* A batch that will run: nothing in it may touch the verified region. */
	if (!doomed && !any_inval && !any_fault)
		for (i = 0; i < nmade; i++)
			if (op_writes_verified(f, &ops[i]))
				gen_safe_op(f, &ops[i]);
	/* Acceptable results; uapi/svmx.h gives no precedence among them. */
	ok = file_forces(fkind, true);
	if (!ok && arg_unreadable(where))
		ok = E(EFAULT);
	if (!ok) {
		if (e.flags || !nr)
			ok |= E(EINVAL);
		if (nr > SVMX_EXEC_MAX_OPS)
			ok |= E(E2BIG);
		if (!ok && ops_bad)
			ok |= E(EFAULT);
		if (!ok && any_inval)
			ok |= E(EINVAL) | (any_fault ? E(EFAULT) : 0);
		if (!ok && any_fault)
			ok |= E(EFAULT);
		if (!ok)
			ok = OK_BIT;
		/* A read-only struct: the counters cannot be written back. */
		if (where == A_RO)
			ok = E(EFAULT) | (ok & ~OK_BIT);
	}
	d[0] = '\0';
	if (nmade)
		describe_op(d, sizeof(d), &ops[0]);
	snprintf(f->what, sizeof(f->what),
		 "EXEC svmx%u (%s file) arg %s nr_ops %u (%u of the first 64 valid%s%s) flags 0x%x ops 0x%llx%s first %s",
		 dev, file_name[fkind], arg_name[where], nr, nvalid,
		 any_inval ? ", some -EINVAL" : "", any_fault ? ", some -EFAULT" : "", e.flags,
		 (unsigned long long)e.ops, ops_bad ? " (unreadable)" : "", d);
	arg = place_arg(f, where, &e, sizeof(e));
	ret = do_ioctl(fd, SVMX_IOC_EXEC, arg);
	if (!expect(f, IOC_EXEC, ret, ok))
		return false;
#ifdef SVMX_EXEC_NO_OP
	/* Once the ops were read, the call says how far it got. */
	if (!doomed && where == A_OK) {
		const struct svmx_exec *o = (const struct svmx_exec *)(uintptr_t)arg;

		v = ret ? (o->failed_op < nmade ? op_predict(f, &ops[o->failed_op]) : -1) : V_OK;
		if (ret ? o->ops_done || o->failed_op_done ||
			  v != (ret == -EINVAL ? V_EINVAL : V_EFAULT) :
			  o->ops_done != nr || o->failed_op != SVMX_EXEC_NO_OP ||
			  o->failed_op_done)
			return fail_call(f, "EXEC progress: ops_done %u failed_op %u failed_op_done %llu",
					 o->ops_done, o->failed_op,
					 (unsigned long long)o->failed_op_done);
	}
#endif
	/* Accepted: the whole batch ran; apply it in order. */
	if (!doomed && !any_inval && !any_fault)
		for (i = 0; i < nr; i++)
			op_apply(f, &ops[i]);
	return true;
}

static bool call_migrate(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret;
	struct svmx_migrate m = {};
	uint64_t ok, a, len;

	if (svmx_rng_pct(&f->rng, 60)) {
		pick_arena_range(f, false, 8 * ps(), ps(), &a, &len);
		m.addr = a & ~(uint64_t)(ps() - 1);
		m.length = len;
	} else {
		m.addr = pick_addr(f);
		m.length = pick_len(f);
		if (svmx_rng_pct(&f->rng, 50)) {
			m.addr &= ~(uint64_t)(ps() - 1);
			m.length &= ~(uint64_t)(ps() - 1);
		}
	}
	switch (svmx_rng_below(&f->rng, 8)) {
	case 0:
		m.target = pick_u32(f);
		break;
	case 1:
		m.target = svmx_rng_below(&f->rng, 4);
		break;
	case 2:
	case 3:
	case 4:
		m.target = SVMX_TARGET_SYSTEM;
		break;
	default:
		m.target = SVMX_TARGET_SELF;
		break;
	}
	m.flags = svmx_rng_pct(&f->rng, 5) ? pick_u32(f) : 0;
	ok = file_forces(fkind, true);
	if (!ok && arg_unreadable(where))
		ok = E(EFAULT);
	if (!ok) {
		if (m.flags || (m.target != SVMX_TARGET_SELF && m.target != SVMX_TARGET_SYSTEM) ||
		    !m.length || m.addr % ps() || m.length % ps() || m.addr + m.length < m.addr ||
		    m.addr + m.length > USER_TOP)
			ok = E(EINVAL);
		else if (!any_vma(f, m.addr, m.length))
			ok = E(EFAULT);
		else
			ok = OK_BIT;
		if (where == A_RO)
			ok = E(EFAULT) | (ok & ~OK_BIT);
	}
	snprintf(f->what, sizeof(f->what),
		 "MIGRATE svmx%u (%s file) arg %s addr 0x%llx len 0x%llx target 0x%x flags 0x%x",
		 dev, file_name[fkind], arg_name[where], (unsigned long long)m.addr,
		 (unsigned long long)m.length, m.target, m.flags);
	ret = do_ioctl(fd, SVMX_IOC_MIGRATE, place_arg(f, where, &m, sizeof(m)));
	return expect(f, IOC_MIGRATE, ret, ok);
}

static bool call_advise(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret;
	struct svmx_advise a = {};
	uint64_t ok, addr, len;
	bool bad;

	if (svmx_rng_pct(&f->rng, 50)) {
		pick_arena_range(f, false, 8 * ps(), ps(), &addr, &len);
		a.addr = addr;
		a.length = len;
	} else {
		a.addr = pick_addr(f) & ~(uint64_t)(svmx_rng_pct(&f->rng, 70) ? ps() - 1 : 0);
		a.length = pick_len(f) & ~(uint64_t)(svmx_rng_pct(&f->rng, 70) ? ps() - 1 : 0);
	}
	a.advice = svmx_rng_pct(&f->rng, 85) ? svmx_rng_range(&f->rng, 0, 7) : pick_u32(f);
	switch (svmx_rng_below(&f->rng, 6)) {
	case 0:
		a.value = 0;
		break;
	case 1:
		a.value = svmx_rng_below(&f->rng, opt.ndev + 1);
		break;
	case 2:
		a.value = SVMX_TARGET_SYSTEM;
		break;
	case 3:
		a.value = SVMX_TARGET_SELF;
		break;
	case 4:
		a.value = pick_u32(f);
		break;
	default:
		a.value = svmx_rng_below(&f->rng, opt.ndev);
		break;
	}
	a.flags = svmx_rng_pct(&f->rng, 5) ? pick_u32(f) : 0;
	a.reserved = svmx_rng_pct(&f->rng, 5) ? pick_u32(f) : 0;
	switch (a.advice) {
	case SVMX_ADVISE_PREFERRED_LOCATION:
		bad = a.value != SVMX_TARGET_SYSTEM && a.value >= opt.ndev;
		break;
	case SVMX_ADVISE_ACCESSED_BY:
	case SVMX_ADVISE_UNSET_ACCESSED_BY:
		bad = a.value >= opt.ndev;
		break;
	case SVMX_ADVISE_UNSET_PREFERRED_LOCATION:
	case SVMX_ADVISE_READ_MOSTLY:
	case SVMX_ADVISE_UNSET_READ_MOSTLY:
		bad = a.value;
		break;
	default:
		bad = true;
	}
	bad |= a.flags || a.reserved || !a.length || a.addr % ps() || a.length % ps() ||
	       a.addr + a.length < a.addr || a.addr + a.length > USER_TOP;
	ok = file_forces(fkind, true);
	if (!ok)
		ok = arg_unreadable(where) ? E(EFAULT) : bad ? E(EINVAL) : OK_BIT;
	snprintf(f->what, sizeof(f->what),
		 "ADVISE svmx%u (%s file) arg %s addr 0x%llx len 0x%llx advice %u value 0x%x flags 0x%x reserved 0x%x",
		 dev, file_name[fkind], arg_name[where], (unsigned long long)a.addr,
		 (unsigned long long)a.length, a.advice, a.value, a.flags, a.reserved);
	ret = do_ioctl(fd, SVMX_IOC_ADVISE, place_arg(f, where, &a, sizeof(a)));
	return expect(f, IOC_ADVISE, ret, ok);
}

/* A snapshot output pointer: where, and how many bytes are writable there. */
static uint64_t pick_snap_buf(struct fz *f, uint8_t *buf, uint64_t *room, bool peer)
{
	uint64_t k;

	switch (svmx_rng_below(&f->rng, peer ? 12 : 10)) {
	case 0:
		k = svmx_rng_range(&f->rng, 1, 64);
		*room = k;
		return svmx_ptr(buf + SNAP_BYTES - k);	/* runs into PROT_NONE */
	case 1:
		*room = 0;
		return svmx_ptr(f->seg[SEG_HOLE]);
	case 2:
		*room = 0;
		return svmx_ptr(f->seg[SEG_RO]);	/* read-only: cannot write */
	case 3:
		*room = 0;
		return 0xffff888000000000ULL;
	case 10:
	case 11:
		*room = ~0ULL;
		return 0;			/* peer: no peer output wanted */
	default:
		*room = SNAP_BYTES - 64;
		return svmx_ptr(buf + 64);
	}
}

static bool call_snapshot(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret;
	struct svmx_snapshot s = {};
	uint64_t ok, room_out, room_peer, a, len, i;
	bool bad;

	if (svmx_rng_pct(&f->rng, 60)) {
		pick_arena_range(f, false, ARENA_PAGES * ps(), ps(), &a, &len);
		s.addr = svmx_rng_pct(&f->rng, 30) ? svmx_ptr(f->arena) : a;
		s.npages = svmx_rng_pct(&f->rng, 30) ? ARENA_PAGES : len / ps();
	} else {
		s.addr = pick_addr(f) & ~(uint64_t)(svmx_rng_pct(&f->rng, 70) ? ps() - 1 : 0);
		switch (svmx_rng_below(&f->rng, 6)) {
		case 0:
			s.npages = 0;
			break;
		case 1:
			s.npages = SVMX_SNAPSHOT_MAX_PAGES;
			break;
		case 2:
			s.npages = SVMX_SNAPSHOT_MAX_PAGES + 1;
			break;
		case 3:
			s.npages = pick_u32(f);
			break;
		default:
			s.npages = svmx_rng_range(&f->rng, 1, 64);
			break;
		}
	}
	s.flags = svmx_rng_pct(&f->rng, 5) ? pick_u32(f) : 0;
	s.out = pick_snap_buf(f, f->snap_out, &room_out, false);
	s.peer = pick_snap_buf(f, f->snap_peer, &room_peer, true);
	if (svmx_rng_pct(&f->rng, 3))
		s.out = 0, room_out = 0;
	bad = s.flags || !s.npages || s.npages > SVMX_SNAPSHOT_MAX_PAGES || !s.out ||
	      s.addr % ps() || s.addr + (uint64_t)s.npages * ps() < s.addr ||
	      s.addr + (uint64_t)s.npages * ps() > USER_TOP;
	ok = file_forces(fkind, true);
	if (!ok)
		ok = arg_unreadable(where) ? E(EFAULT) : bad ? E(EINVAL) :
		     room_out < s.npages || room_peer < s.npages ? E(EFAULT) : OK_BIT;
	snprintf(f->what, sizeof(f->what),
		 "SNAPSHOT svmx%u (%s file) arg %s addr 0x%llx npages %u flags 0x%x out 0x%llx (room %llu) peer 0x%llx",
		 dev, file_name[fkind], arg_name[where], (unsigned long long)s.addr, s.npages,
		 s.flags, (unsigned long long)s.out, (unsigned long long)room_out,
		 (unsigned long long)s.peer);
	memset(f->snap_out + 64, 0xee, 64 + (ok == OK_BIT ? s.npages : 0));
	ret = do_ioctl(fd, SVMX_IOC_SNAPSHOT, place_arg(f, where, &s, sizeof(s)));
	if (!expect(f, IOC_SNAPSHOT, ret, ok))
		return false;
	if (ret || s.out != svmx_ptr(f->snap_out + 64))
		return true;
	/* Answers: a location 0-3, nothing written past the last page. */
	for (i = 0; i < s.npages; i++) {
		uint8_t o = f->snap_out[64 + i], p = f->snap_peer[64 + i];
		uint8_t loc = o & SVMX_SNAP_LOC_MASK;
		uint64_t va = s.addr + i * ps();
		bool dev_page = loc == SVMX_SNAP_LOCAL || loc == SVMX_SNAP_PEER;

		if (s.peer != svmx_ptr(f->snap_peer + 64))
			p = dev_page ? (loc == SVMX_SNAP_LOCAL ? dev : dev ^ 1) : 0xff;
		if (loc > SVMX_SNAP_PEER || (dev_page ? p >= opt.ndev : p != 0xff) ||
		    (loc == SVMX_SNAP_LOCAL && p != dev) ||
		    (in_arena(f, va) && page_prot(f, va) == P_HOLE && o != SVMX_SNAP_NONE))
			return fail_call(f, "snapshot of page %llu (0x%llx): out 0x%02x peer 0x%02x",
					 (unsigned long long)i, (unsigned long long)va, o, p);
	}
	for (i = 0; i < 64; i++)
		if (f->snap_out[64 + s.npages + i] != 0xee)
			return fail_call(f, "snapshot wrote past npages (byte %llu)",
					 (unsigned long long)(s.npages + i));
	return true;
}

static bool call_stats(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret;
	struct svmx_stats st = {}, *out;
	uint64_t ok, arg;

	st.flags = svmx_rng_pct(&f->rng, 10) ? pick_u32(f) : 0;
	st.reserved = svmx_rng_pct(&f->rng, 10) ? pick_u32(f) : 0;
	ok = file_forces(fkind, false);
	if (!ok)
		ok = arg_unreadable(where) ? E(EFAULT) : st.flags || st.reserved ? E(EINVAL) :
		     where == A_RO ? E(EFAULT) : OK_BIT;
	snprintf(f->what, sizeof(f->what), "STATS svmx%u (%s file) arg %s flags 0x%x reserved 0x%x",
		 dev, file_name[fkind], arg_name[where], st.flags, st.reserved);
	arg = place_arg(f, where, &st, sizeof(st));
	ret = do_ioctl(fd, SVMX_IOC_STATS, arg);
	if (!expect(f, IOC_STATS, ret, ok))
		return false;
	if (ret)
		return true;
	out = (struct svmx_stats *)(uintptr_t)arg;
	if (out->mem_bytes != opt.mem_bytes || out->mem_used_bytes > out->mem_bytes ||
	    out->resident_pages * ps() > out->mem_used_bytes)
		return fail_call(f, "STATS: mem %llu used %llu resident pages %llu",
				 (unsigned long long)out->mem_bytes,
				 (unsigned long long)out->mem_used_bytes,
				 (unsigned long long)out->resident_pages);
	if (fkind == F_UNBOUND && out->ctx.faults + out->ctx.modeled_ns + out->ctx.local_accesses +
				  out->ctx.remote_accesses)
		return fail_call(f, "STATS on an unbound file: nonzero binding counters");
	return true;
}

static bool call_version(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret;
	struct svmx_version v, *out;
	uint64_t ok, arg;

	memset(&v, 0x5a, sizeof(v));
	ok = file_forces(fkind, false);
	if (!ok)
		ok = arg_unreadable(where) || where == A_RO ? E(EFAULT) : OK_BIT;
	snprintf(f->what, sizeof(f->what), "VERSION svmx%u (%s file) arg %s", dev,
		 file_name[fkind], arg_name[where]);
	arg = place_arg(f, where, &v, sizeof(v));
	ret = do_ioctl(fd, SVMX_IOC_VERSION, arg);
	if (!expect(f, IOC_VERSION, ret, ok))
		return false;
	if (ret)
		return true;
	out = (struct svmx_version *)(uintptr_t)arg;
	if (out->major != SVMX_ABI_MAJOR || out->device != dev || out->reserved ||
	    out->mem_bytes != opt.mem_bytes || out->nr_devices < opt.ndev)
		return fail_call(f, "VERSION: major %u device %u reserved %u mem %llu",
				 out->major, out->device, out->reserved,
				 (unsigned long long)out->mem_bytes);
	return true;
}

/*
 * BIND.  The mm has a binding on every device through f->bound, so a
 * valid BIND of another file says -EBUSY; a quarter of the calls first
 * close the bound file (unbinding), and a valid BIND then succeeds and
 * that file becomes the bound one.
 */
static bool call_bind(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	bool fresh = svmx_rng_pct(&f->rng, 25);
	int fkind, fd = pick_file(f, dev, &fkind), where = pick_where(f), ret;
	struct svmx_bind b = {};
	uint64_t ok;

	if (fresh) {
		fkind = F_UNBOUND;
		fd = f->unbound[dev];
		close(f->bound[dev]);
		f->bound[dev] = -1;
	}
	b.flags = svmx_rng_pct(&f->rng, 30) ? pick_u32(f) : 0;
	b.reserved = svmx_rng_pct(&f->rng, 30) ? pick_u32(f) : 0;
	ok = file_forces(fkind, false);
	if (!ok)
		ok = arg_unreadable(where) ? E(EFAULT) : b.flags || b.reserved ? E(EINVAL) :
		     fkind == F_BOUND ? E(EINVAL) : fresh ? OK_BIT : E(EBUSY);
	snprintf(f->what, sizeof(f->what), "BIND svmx%u (%s file%s) arg %s flags 0x%x reserved 0x%x",
		 dev, file_name[fkind], fresh ? ", the bound one closed first" : "",
		 arg_name[where], b.flags, b.reserved);
	ret = do_ioctl(fd, SVMX_IOC_BIND, place_arg(f, where, &b, sizeof(b)));
	if (!expect(f, IOC_BIND, ret, ok))
		return false;
	if (!fresh)
		return true;
	if (!ret) {
		f->bound[dev] = f->unbound[dev];
		f->unbound[dev] = svmx_open(dev);
	} else {
		f->bound[dev] = svmx_open_bound(dev);
	}
	if (f->bound[dev] < 0 || f->unbound[dev] < 0)
		return fail_call(f, "reopening svmx%u: %s", dev, strerror(errno));
	return check_arena(f, -1);
}

static const unsigned long good_cmds[] = {
	SVMX_IOC_VERSION, SVMX_IOC_BIND, SVMX_IOC_EXEC, SVMX_IOC_MIGRATE,
	SVMX_IOC_ADVISE, SVMX_IOC_SNAPSHOT, SVMX_IOC_STATS,
};

/*
 * Unknown ioctl numbers: known numbers with another size or direction,
 * unknown numbers of svmx's type, other types.  Type letters the VFS
 * handles itself (FIOCLEX, FIFREEZE and the like: 'T', 'X', 'f', 0x94, 0)
 * are left out: they are not svmx's to answer.
 */
static bool call_badcmd(struct fz *f)
{
	static const unsigned int types[] = { 'V', 'V', 'V', 'v', 'U', 'W', 0xcc };
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev), dir, type, nr, size, i;
	int fkind, fd = pick_file(f, dev, &fkind), ret;
	unsigned long cmd;
	bool known;

	do {
		unsigned long base = good_cmds[svmx_rng_below(&f->rng, 7)];

		dir = _IOC_DIR(base), type = _IOC_TYPE(base), nr = _IOC_NR(base);
		size = _IOC_SIZE(base);
		switch (svmx_rng_below(&f->rng, 4)) {
		case 0:
			size = svmx_rng_pct(&f->rng, 50) ? size + svmx_rng_range(&f->rng, 1, 64) :
				svmx_rng_below(&f->rng, size);
			break;
		case 1:
			dir = svmx_rng_below(&f->rng, 4);
			break;
		case 2:
			nr = svmx_rng_range(&f->rng, 7, 255);
			break;
		default:
			type = types[svmx_rng_below(&f->rng, 7)];
			nr = svmx_rng_below(&f->rng, 256);
			size = svmx_rng_below(&f->rng, 1 << 14);
			dir = svmx_rng_below(&f->rng, 4);
		}
		cmd = _IOC(dir, type, nr, size);
		for (known = false, i = 0; i < 7; i++)
			known |= cmd == good_cmds[i];
	} while (known);
	snprintf(f->what, sizeof(f->what), "ioctl 0x%lx on svmx%u (%s file)", cmd, dev,
		 file_name[fkind]);
	/* The argument: the RW argument page, in case something wrongly reads it. */
	ret = do_ioctl(fd, cmd, svmx_ptr(f->argp));
	return expect(f, IOC_BADCMD, ret, fkind == F_CLOSED ? E(EBADF) : E(ENOTTY));
}

/* Close a bound file (its device pages go back) and bind a new one. */
static bool call_rebind(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	int ret;

	snprintf(f->what, sizeof(f->what), "close the bound svmx%u file, open and bind anew", dev);
	close(f->bound[dev]);
	ret = svmx_open_bound(dev);
	if (ret < 0)
		return expect(f, IOC_REBIND, ret, OK_BIT);
	f->bound[dev] = ret;
	return expect(f, IOC_REBIND, 0, OK_BIT) && check_arena(f, -1);
}

/*
 * A forked child: its parent's files are bound to another mm (-EPERM for
 * EXEC, MIGRATE, ADVISE, SNAPSHOT; BIND says -EINVAL, the file is bound;
 * STATS shows no binding counters); a binding of its own works, on its
 * own copy of the memory.
 */
static bool call_fork(struct fz *f)
{
	unsigned int dev = svmx_rng_below(&f->rng, opt.ndev);
	uint64_t val = svmx_rng_next(&f->rng);
	int status;
	pid_t pid;

	snprintf(f->what, sizeof(f->what), "fork; the child uses svmx%u", dev);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail_call(f, "fork: %s", strerror(errno));
	if (!pid) {
		uint8_t loc[1];
		struct svmx_stats st;
		struct svmx_bind b = {};
		int fd = f->bound[dev], own, bad = 0;
		uint64_t *w = (uint64_t *)f->seg[SEG_SCRATCH];

		bad |= svmx_exec1(fd, svmx_op_fill(w, 8, val), NULL) != -EPERM;
		bad |= (svmx_migrate(fd, w, ps(), SVMX_TARGET_SELF, NULL) != -EPERM) << 1;
		bad |= (svmx_advise(fd, w, ps(), SVMX_ADVISE_READ_MOSTLY, 0) != -EPERM) << 2;
		bad |= (svmx_snapshot(fd, w, 1, loc, NULL) != -EPERM) << 3;
		bad |= (svmx_ioctl(fd, SVMX_IOC_BIND, &b) != -EINVAL) << 4;
		bad |= (svmx_get_stats(fd, &st) || st.ctx.local_accesses || st.ctx.faults) << 5;
		own = svmx_open_bound(dev);
		bad |= (own < 0) << 6;
		if (own >= 0) {
			bad |= (svmx_exec1(own, svmx_op_fill(w, 8, val), NULL) != 0) << 7;
			bad |= (w[0] != val) << 8;
		}
		if (bad)
			svmx_diag("forked child: checks failed, mask 0x%x", bad);
		fflush(stdout);
		_exit(bad ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail_call(f, "waitpid: %s", strerror(errno));
	f->seen[IOC_FORK] |= 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail_call(f, "forked child failed (status 0x%x)", status);
	/* The child's writes went to its copy. */
	return check_arena(f, -1);
}

/* ---------------------------------------------------------------------
 * A pass
 */

/* @len bytes that end right where a PROT_NONE page begins. */
static void *map_with_guard(size_t len)
{
	size_t room = (len + ps() - 1) / ps() * ps();
	uint8_t *p = mmap(NULL, room + ps(), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + room, ps(), PROT_NONE))
		return NULL;
	return p + room - len;
}

static bool setup(struct fz *f)
{
	size_t total = ARENA_PAGES * ps(), off = 0;
	unsigned int s, dev;

	f->arena = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->shadow = calloc(1, total);
	if (f->arena == MAP_FAILED || !f->shadow)
		return false;
	for (s = 0; s < NR_SEGS; s++) {
		size_t len = arena_layout[s].pages * ps();

		f->seg[s] = f->arena + off;
		svmx_pat_fill(f->seg[s], len, s + 100);
		memcpy(f->shadow + off, f->seg[s], len);
		switch (arena_layout[s].prot) {
		case P_NONE:
			mprotect(f->seg[s], len, PROT_NONE);
			break;
		case P_R:
			mprotect(f->seg[s], len, PROT_READ);
			break;
		case P_HOLE:
			munmap(f->seg[s], len);
			break;
		}
		off += len;
	}
	/* Split the scratch VMA, so that ops cross VMA boundaries. */
	madvise(f->seg[SEG_SCRATCH] + 8 * ps(), 8 * ps(), MADV_DONTDUMP);
	f->ops = map_with_guard(OPS_MAX * sizeof(struct svmx_op));
	f->argp = mmap(NULL, 3 * ps(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	f->snap_out = map_with_guard(SNAP_BYTES);
	f->snap_peer = map_with_guard(SNAP_BYTES);
	if (!f->ops || f->argp == MAP_FAILED || !f->snap_out || !f->snap_peer)
		return false;
	mprotect(f->argp + ps(), ps(), PROT_NONE);
	mprotect(f->argp + 2 * ps(), ps(), PROT_READ);
	f->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (dev = 0; dev < opt.ndev; dev++) {
		f->bound[dev] = svmx_open_bound(dev);
		f->unbound[dev] = svmx_open(dev);
		if (f->bound[dev] < 0 || f->unbound[dev] < 0)
			return false;
	}
	return f->devnull >= 0;
}

static int pass(uint64_t seed, void *arg)
{
	struct fz *f = calloc(1, sizeof(*f));
	unsigned long *covered = arg;
	bool ok = true;
	unsigned int i;

	if (!f || !setup(f)) {
		svmx_diag("setup failed: %s", strerror(errno));
		return 1;
	}
	svmx_rng_seed(&f->rng, seed);
	for (f->call = 0; ok && f->call < opt.ncalls; f->call++) {
		unsigned int ioc = svmx_rng_pick(&f->rng, ioc_weight, IOC_NR);

		f->tally[ioc]++;
		switch (ioc) {
		case IOC_VERSION:
			ok = call_version(f);
			break;
		case IOC_BIND:
			ok = call_bind(f);
			break;
		case IOC_EXEC:
			ok = call_exec(f);
			break;
		case IOC_MIGRATE:
			ok = call_migrate(f);
			break;
		case IOC_ADVISE:
			ok = call_advise(f);
			break;
		case IOC_SNAPSHOT:
			ok = call_snapshot(f);
			break;
		case IOC_STATS:
			ok = call_stats(f);
			break;
		case IOC_BADCMD:
			ok = call_badcmd(f);
			break;
		case IOC_REBIND:
			ok = call_rebind(f);
			break;
		default:
			ok = call_fork(f);
			break;
		}
		/* The verified regions after every call, everything every 16th. */
		ok = ok && check_arena(f, SEG_VERIFIED) && check_arena(f, SEG_RO);
		if (ok && f->call % 16 == 15)
			ok = check_arena(f, -1);
		if (ok && opt.debugfs && svmx_rng_pct(&f->rng, 1))
			svmx_evict_all(svmx_rng_below(&f->rng, opt.ndev));
	}
	ok = ok && check_arena(f, -1);
	if (!ok) {
		svmx_diag("FAIL seed=%" PRIu64 " call=%lu", seed, f->call);
		return 1;
	}
	/* Each ioctl must have been accepted and rejected at least once. */
	for (i = 0; i < IOC_NR; i++) {
		svmx_diag("%-8s %5lu calls%s%s", ioc_name[i], f->tally[i],
			  f->seen[i] & 1 ? ", accepted" : "", f->seen[i] & 2 ? ", rejected" : "");
		if (i != IOC_BADCMD && i != IOC_REBIND && i != IOC_FORK && f->seen[i] != 3)
			*covered = 0;
	}
	return 0;
}

static int pass_main(uint64_t seed, void *arg)
{
	unsigned long covered = 1;
	int ret = pass(seed, &covered);

	if (!ret && !covered && opt.ncalls >= 1000) {
		svmx_diag("FAIL seed=%" PRIu64 ": some ioctl was never both accepted and rejected",
			  seed);
		ret = 1;
	}
	(void)arg;
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: svmx-fuzz [options]\n"
		"  -s SEED   seed of the first pass (default: a random one, printed)\n"
		"  -p N      passes, seeds SEED, SEED+1, ... (default 1)\n"
		"  -n CALLS  ioctl calls per pass (default 3000; from 1000 on, a pass also\n"
		"            fails unless every ioctl was both accepted and rejected)\n"
		"  -t SEC    stress: keep starting passes until SEC seconds have passed\n"
		"  -v        print every call and its result\n"
		"A failure prints its seed and call index; run again with the same -s and\n"
		"-n (and -v) to replay it.\n");
}

int main(int argc, char **argv)
{
	unsigned long passes = 1, p, failed = 0;
	double deadline = 0, t0;
	bool have_seed = false;
	struct svmx_version v;
	uint64_t seed = 0;
	int c, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "s:p:n:t:vh")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'p':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			opt.ncalls = strtoul(optarg, NULL, 0);
			break;
		case 't':
			deadline = strtod(optarg, NULL);
			break;
		case 'v':
			opt.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!have_seed)
		seed = svmx_seed_random();
	opt.ps = svmx_page_size();
	fd = svmx_open(0);
	if (fd < 0 || svmx_get_version(fd, &v)) {
		printf("TAP version 13\n1..0 # SKIP /dev/svmx0: %s (svmx.ko not loaded?)\n",
		       strerror(errno));
		return 0;
	}
	close(fd);
	opt.ndev = v.nr_devices < 8 ? v.nr_devices : 8;
	opt.mem_bytes = v.mem_bytes;
	opt.debugfs = svmx_debugfs_ok(0);
	printf("TAP version 13\n");
	if (!deadline)
		printf("1..%lu\n", passes);
	svmx_diag("svmx-fuzz: seed %" PRIu64 ", %lu calls per pass, %u devices", seed,
		  opt.ncalls, opt.ndev);
	t0 = svmx_now();
	for (p = 0; deadline ? svmx_now() - t0 < deadline : p < passes; p++) {
		uint64_t s = seed + p;
		char why[128] = "";
		double start = svmx_now();

		if (svmx_run_pass(pass_main, s, NULL, why, sizeof(why))) {
			failed++;
			printf("not ok %lu fuzz seed=%" PRIu64 " calls=%lu: %s\n", p + 1, s,
			       opt.ncalls, why);
			svmx_diag("replay: svmx-fuzz -s %" PRIu64 " -n %lu -v", s, opt.ncalls);
		} else {
			printf("ok %lu fuzz seed=%" PRIu64 " calls=%lu (%.1f s)\n", p + 1, s,
			       opt.ncalls, svmx_now() - start);
		}
	}
	if (deadline)
		printf("1..%lu\n", p);
	return failed ? 1 : 0;
}
