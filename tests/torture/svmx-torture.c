// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-torture: seeded random torture of svmx with a shadow copy.
 *
 * A pass maps memory of every kind svmx handles - private anonymous,
 * shared anonymous, memfd, a file (on the guest's tmpfs by default) and
 * THP - and keeps a shadow copy of every byte.  It then runs a random mix
 * of operations chosen by the seed: device READ/WRITE/FILL/ATOMIC_ADD/COPY
 * on two devices (alone and in batches), CPU reads and writes, MIGRATE both
 * ways, ADVISE, MADV_PAGEOUT (with swap on, pages go to swap), discards
 * (MADV_DONTNEED, MADV_REMOVE, hole punching), munmap + re-mmap, mremap,
 * eviction of a whole device, and fork: the child binds the devices
 * itself, works on its copy while the parent keeps writing its own
 * private memory, and each side checks that it never sees the other's
 * private writes (copy-on-write both ways) while shared memory carries
 * the child's writes back.  A worker thread works on memory of its own in
 * the same mm at the same time, with its own shadow.
 *
 * Every device READ is checked against the shadow when it returns; all
 * memory is checked by the CPU every -c operations and at the end, then
 * read back by every device.  Load svmx with little device memory
 * (mem_mb=16) so that the working set does not fit and eviction runs.
 *
 * The main thread's sequence of operations depends only on the seed and
 * the options, so a failure is replayed with the same -s and -n (add
 * -c 1 to check after every operation, -v to print each one).  Output is
 * TAP: one line per pass, failures explained in "#" lines.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "svmx_torture.h"

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC	0x0001U
#endif

#define MAX_DEV		2
#define MAX_BATCH	8
#define MAX_OP_LEN	(2UL << 20)	/* one operation of a single-op call */
#define MAX_SUB_LEN	(256UL << 10)	/* one operation inside a batch */

/* ---------------------------------------------------------------------
 * Memory regions
 */

enum rkind { R_ANON, R_SHARED, R_MEMFD, R_FILE, R_THP };

static const char *const rkind_name[] = {
	[R_ANON] = "anon", [R_SHARED] = "shared", [R_MEMFD] = "memfd",
	[R_FILE] = "file", [R_THP] = "thp",
};

/**
 * struct region - one mapping and its shadow
 * @kind: what backs it
 * @addr: where it is mapped now (munmap + mmap and mremap move it)
 * @len: its length, fixed for the pass
 * @shadow: what every byte must hold
 * @snap: the shadow at the last fork, for replaying the child's writes
 * @fd: the memfd or file, -1 for anonymous memory
 */
struct region {
	enum rkind kind;
	char *addr;
	size_t len;
	uint8_t *shadow;
	uint8_t *snap;
	int fd;
};

static bool region_private(const struct region *r)
{
	return r->kind == R_ANON || r->kind == R_THP;
}

/* Layout: the main thread's regions, then the worker's. */
static const struct {
	enum rkind kind;
	size_t kib;
	bool worker;
} layout[] = {
	{ R_ANON, 6144, false }, { R_ANON, 1036, false }, { R_SHARED, 1024, false },
	{ R_MEMFD, 1024, false }, { R_FILE, 1024, false }, { R_THP, 4096, false },
	{ R_ANON, 3072, true }, { R_THP, 4096, true },
};

#define NR_REGIONS	(sizeof(layout) / sizeof(layout[0]))

/* ---------------------------------------------------------------------
 * Operations
 */

enum okind {
	O_WRITE, O_READ, O_FILL, O_ATOMIC, O_COPY, O_BATCH, O_CPU_WRITE,
	O_CPU_READ, O_MIGRATE_DEV, O_MIGRATE_SYS, O_ADVISE, O_PAGEOUT,
	O_DISCARD, O_REMAP, O_MREMAP, O_FORK, O_EVICT, O_CHECK, O_NR
};

static const char *const okind_name[O_NR] = {
	"write", "read", "fill", "atomic", "copy", "batch", "cpu-write",
	"cpu-read", "migrate-dev", "migrate-sys", "advise", "pageout",
	"discard", "remap", "mremap", "fork", "evict", "check",
};

static const unsigned int okind_weight[O_NR] = {
	[O_WRITE] = 12, [O_READ] = 10, [O_FILL] = 8, [O_ATOMIC] = 8,
	[O_COPY] = 8, [O_BATCH] = 6, [O_CPU_WRITE] = 10, [O_CPU_READ] = 8,
	[O_MIGRATE_DEV] = 7, [O_MIGRATE_SYS] = 4, [O_ADVISE] = 5,
	[O_PAGEOUT] = 4, [O_DISCARD] = 3, [O_REMAP] = 2, [O_MREMAP] = 2,
	[O_FORK] = 1, [O_EVICT] = 1, [O_CHECK] = 1,
};

/* What may run while another process or thread shares the memory. */
#define BIT(k)		(1u << (k))
#define KINDS_ALL	(BIT(O_NR) - 1)
#define KINDS_LOCAL	(KINDS_ALL & ~(BIT(O_REMAP) | BIT(O_MREMAP) | BIT(O_FORK) | \
				       BIT(O_EVICT)))
/* The parent while its child runs: the shared regions are the child's. */
#define KINDS_FORKED	(KINDS_LOCAL & ~BIT(O_CHECK))

/**
 * struct tctx - one actor: the main thread, the worker, a forked child, or
 *	the parent replaying a child's operations on a copy of the shadow
 * @who: name in messages
 * @rng: its own generator
 * @fd: a bound file per device
 * @reg: indices into regions[] it works on
 * @nreg: entries of @reg
 * @kinds: enum okind bits it may draw
 * @dry: only update shadows (replay), touch no memory, call nothing
 * @use_snap: work on region.snap instead of region.shadow (replay)
 * @rbuf: device READ destination
 * @wbuf: WRITE source and CPU write data
 * @expect: what READs must return
 * @opi: index of the operation being run
 * @kind: its kind
 * @err: the first failure
 */
struct tctx {
	const char *who;
	struct svmx_rng rng;
	int fd[MAX_DEV];
	unsigned int reg[NR_REGIONS];
	unsigned int nreg;
	unsigned int kinds;
	bool dry;
	bool use_snap;
	uint8_t *rbuf;
	uint8_t *wbuf;
	uint8_t *expect;
	unsigned long opi;
	unsigned int kind;
	char err[768];
};

/* Options and state of the pass. */
static struct {
	unsigned long nops;
	unsigned int ckpt;
	unsigned int fork_ops;
	unsigned int exclude;
	bool worker;
	bool expect_evict;
	int verbose;
	const char *dir;
	unsigned int ndev;
	bool debugfs;
	size_t ps;
} opt = {
	.nops = 500, .ckpt = 100, .fork_ops = 24, .worker = true, .dir = "/tmp",
};

static struct region regions[NR_REGIONS];
static atomic_bool stop_all;

static uint8_t *shadow_of(const struct tctx *t, const struct region *r)
{
	return t->use_snap ? r->snap : r->shadow;
}

static bool fail(struct tctx *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record the first failure of @t; always false, for "return fail(...)". */
static bool fail(struct tctx *t, const char *fmt, ...)
{
	va_list ap;

	if (t->err[0])
		return false;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return false;
}

/* Describe the first difference of @got from @want at region offset @off. */
static bool mismatch(struct tctx *t, const char *what, const struct region *r,
		     size_t off, const uint8_t *got, const uint8_t *want, size_t len)
{
	size_t i, j, n;

	for (i = 0; i < len && got[i] == want[i]; i++)
		;
	for (j = i, n = 0; j < len; j++)
		n += got[j] != want[j];
	return fail(t, "%s: %s region %u (%s, %zu KiB) offset 0x%zx (page %zu): got 0x%02x want 0x%02x; %zu of %zu bytes differ",
		    t->who, what, (unsigned int)(r - regions), rkind_name[r->kind],
		    r->len >> 10, off + i, (off + i) / opt.ps, got[i], want[i], n, len);
}

/* ---------------------------------------------------------------------
 * Mapping
 */

static size_t region_align(const struct region *r)
{
	return r->kind == R_THP ? SZ_2M : opt.ps;
}

/* Map region @r afresh (its fd, if any, already open). */
static bool region_map(struct tctx *t, struct region *r)
{
	int flags = r->kind == R_ANON || r->kind == R_THP ? MAP_PRIVATE : MAP_SHARED;
	int fd = r->fd;

	if (r->kind != R_MEMFD && r->kind != R_FILE)
		flags |= MAP_ANONYMOUS;
	r->addr = svmx_map_guarded(r->len, region_align(r), 0, PROT_READ | PROT_WRITE,
				   flags, fd);
	if (!r->addr)
		return fail(t, "mmap %s %zu KiB: %s", rkind_name[r->kind], r->len >> 10,
			    strerror(errno));
	if (r->kind == R_THP && madvise(r->addr, r->len, MADV_HUGEPAGE))
		return fail(t, "MADV_HUGEPAGE: %s", strerror(errno));
	return true;
}

/* Unmap @r and its guard pages. */
static void region_unmap(struct region *r)
{
	munmap(r->addr - opt.ps, r->len + 2 * opt.ps);
	r->addr = NULL;
}

static bool region_create(struct tctx *t, struct region *r, enum rkind kind, size_t len)
{
	char path[256];

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->len = len;
	r->fd = -1;
	if (kind == R_MEMFD) {
		r->fd = syscall(SYS_memfd_create, "svmx-torture", MFD_CLOEXEC);
		if (r->fd < 0)
			return fail(t, "memfd_create: %s", strerror(errno));
	} else if (kind == R_FILE) {
		snprintf(path, sizeof(path), "%s/svmx-torture.XXXXXX", opt.dir);
		r->fd = mkostemp(path, O_CLOEXEC);
		if (r->fd < 0)
			return fail(t, "mkostemp %s: %s", path, strerror(errno));
		unlink(path);
	}
	if (r->fd >= 0 && ftruncate(r->fd, len))
		return fail(t, "ftruncate: %s", strerror(errno));
	r->shadow = calloc(1, len);
	r->snap = calloc(1, len);
	if (!r->shadow || !r->snap)
		return fail(t, "out of memory for shadows");
	return region_map(t, r);
}

static void region_destroy(struct region *r)
{
	if (r->addr)
		region_unmap(r);
	if (r->fd >= 0)
		close(r->fd);
	free(r->shadow);
	free(r->snap);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* ---------------------------------------------------------------------
 * Generating ranges.  Only the generator (and the region lengths) decide
 * a range, never the memory's state, so a replay generates the same ones.
 */

/* A length in [align, max], mostly small, rounded to @align. */
static size_t gen_len(struct tctx *t, size_t max, size_t align)
{
	uint64_t c = svmx_rng_below(&t->rng, 100);
	size_t len;

	if (c < 35)
		len = svmx_rng_range(&t->rng, 1, 256);
	else if (c < 65)
		len = svmx_rng_range(&t->rng, 1, 4 * opt.ps);
	else if (c < 85)
		len = svmx_rng_range(&t->rng, 1, 64 * opt.ps);
	else
		len = svmx_rng_range(&t->rng, 64 * opt.ps, 512 * opt.ps);
	if (len > max)
		len = max;
	len -= len % align;
	return len ? len : align;
}

static unsigned int gen_region(struct tctx *t, bool private_only)
{
	unsigned int i, n = 0, pick[NR_REGIONS];

	for (i = 0; i < t->nreg; i++)
		if (!private_only || region_private(&regions[t->reg[i]]))
			pick[n++] = t->reg[i];
	return pick[svmx_rng_below(&t->rng, n)];
}

/* An offset for @len bytes in @r, aligned to @align. */
static size_t gen_off(struct tctx *t, const struct region *r, size_t len, size_t align)
{
	size_t off = svmx_rng_below(&t->rng, r->len - len + 1);

	return off - off % align;
}

/* Data for writes: a function of (seed, index) like svmx_pat(). */
static void gen_data(uint8_t *buf, size_t len, uint64_t seed)
{
	size_t i;
	uint64_t w;

	for (i = 0; i + 8 <= len; i += 8) {
		w = svmx_pat(seed, i / 8);
		memcpy(buf + i, &w, 8);
	}
	w = svmx_pat(seed, i / 8);
	memcpy(buf + i, &w, len - i);
}

/* ---------------------------------------------------------------------
 * Device work: every single-op kind is a batch of one
 */

/**
 * struct dop - one device operation as generated
 * @op: the operation (addresses filled in at execution)
 * @r: region of @op.addr
 * @off: offset of @op.addr in @r
 * @r2: COPY: region of the destination
 * @off2: COPY: its offset
 * @buf_off: READ/WRITE: offset of the buffer in rbuf/wbuf
 */
struct dop {
	struct svmx_op op;
	unsigned int r, r2;
	size_t off, off2, buf_off;
};

static void gen_dop(struct tctx *t, unsigned int kind, size_t max, bool private_only,
		    size_t *buf_used, struct dop *d)
{
	const struct region *r;
	size_t len;

	memset(d, 0, sizeof(*d));
	d->r = gen_region(t, private_only);
	r = &regions[d->r];
	if (max > r->len)
		max = r->len;
	switch (kind) {
	case O_WRITE:
	case O_READ:
		len = gen_len(t, max, 1);
		d->off = gen_off(t, r, len, 1);
		d->op.opcode = kind == O_WRITE ? SVMX_OP_WRITE : SVMX_OP_READ;
		d->op.length = len;
		d->buf_off = *buf_used;
		*buf_used += len;
		if (kind == O_WRITE)
			d->op.value = svmx_rng_next(&t->rng);	/* data seed */
		break;
	case O_FILL:
		len = gen_len(t, max, 8);
		d->off = gen_off(t, r, len, 8);
		d->op.opcode = SVMX_OP_FILL;
		d->op.length = len;
		d->op.value = svmx_rng_pct(&t->rng, 20) ? 0 : svmx_rng_next(&t->rng);
		break;
	case O_ATOMIC:
		{
		uint64_t stride, n, nmax;

		switch (svmx_rng_below(&t->rng, 4)) {
		case 0:
			stride = 8;
			break;
		case 1:
			stride = opt.ps;
			break;
		default:
			stride = 8 * svmx_rng_range(&t->rng, 1, 1024);
		}
		len = gen_len(t, max, 8);
		nmax = (len - 8) / stride + 1;
		n = svmx_rng_range(&t->rng, 1, nmax < 4096 ? nmax : 4096);
		len = (n - 1) * stride + 8;
		d->off = gen_off(t, r, len, 8);
		d->op.opcode = SVMX_OP_ATOMIC_ADD;
		d->op.length = n;
		d->op.stride = stride;
		d->op.value = svmx_rng_pct(&t->rng, 50) ? svmx_rng_range(&t->rng, 1, 255) :
			      svmx_rng_next(&t->rng);
		break;
	}
	case O_COPY:
		{
		const struct region *r2;
		int tries;

		d->r2 = gen_region(t, private_only);
		r2 = &regions[d->r2];
		len = gen_len(t, max < r2->len ? max : r2->len, 1);
		d->off = gen_off(t, r, len, 1);
		for (tries = 0; tries < 8; tries++) {
			d->off2 = gen_off(t, r2, len, 1);
			if (d->r != d->r2 || d->off + len <= d->off2 ||
			    d->off2 + len <= d->off)
				break;
		}
		if (tries == 8) {
			/* Cannot place it apart: copy a page-sized bit instead. */
			len = len / 2 > 1 ? len / 2 : 1;
			d->off = 0;
			d->off2 = r->len - len;
			if (d->r != d->r2)
				d->off2 = 0;
		}
		d->op.opcode = SVMX_OP_COPY;
		d->op.length = len;
		break;
	}
	}
}

/* Apply @d to the shadow; a READ first saves what it must return. */
static void dop_shadow(struct tctx *t, struct dop *d)
{
	const struct region *r = &regions[d->r];
	uint8_t *s = shadow_of(t, r) + d->off;
	uint64_t i, v;

	switch (d->op.opcode) {
	case SVMX_OP_READ:
		memcpy(t->expect + d->buf_off, s, d->op.length);
		break;
	case SVMX_OP_WRITE:
		gen_data(t->wbuf + d->buf_off, d->op.length, d->op.value);
		memcpy(s, t->wbuf + d->buf_off, d->op.length);
		break;
	case SVMX_OP_FILL:
		for (i = 0; i < d->op.length; i += 8)
			memcpy(s + i, &d->op.value, 8);
		break;
	case SVMX_OP_ATOMIC_ADD:
		for (i = 0; i < d->op.length; i++) {
			memcpy(&v, s + i * d->op.stride, 8);
			v += d->op.value;
			memcpy(s + i * d->op.stride, &v, 8);
		}
		break;
	case SVMX_OP_COPY:
		memmove(shadow_of(t, &regions[d->r2]) + d->off2, s, d->op.length);
		break;
	}
}

static void dop_describe(const struct dop *d, char *buf, size_t len)
{
	static const char *const name[] = { "?", "READ", "WRITE", "ATOMIC_ADD", "FILL", "COPY" };
	int n;

	n = snprintf(buf, len, "%s r%u+0x%zx len 0x%llx", name[d->op.opcode], d->r, d->off,
		     (unsigned long long)d->op.length);
	if (d->op.opcode == SVMX_OP_ATOMIC_ADD)
		snprintf(buf + n, len - n, " stride %llu value 0x%llx",
			 (unsigned long long)d->op.stride, (unsigned long long)d->op.value);
	else if (d->op.opcode == SVMX_OP_FILL)
		snprintf(buf + n, len - n, " value 0x%llx", (unsigned long long)d->op.value);
	else if (d->op.opcode == SVMX_OP_COPY)
		snprintf(buf + n, len - n, " to r%u+0x%zx", d->r2, d->off2);
}

/* One EXEC of @nr generated operations on device @dev. */
static bool run_dops(struct tctx *t, unsigned int dev, struct dop *d, unsigned int nr)
{
	struct svmx_op ops[MAX_BATCH];
	struct svmx_counters cnt;
	char desc[160];
	unsigned int i;
	int ret;

	for (i = 0; i < nr; i++)
		dop_shadow(t, &d[i]);
	if (t->dry)
		return true;
	for (i = 0; i < nr; i++) {
		ops[i] = d[i].op;
		ops[i].addr = svmx_ptr(regions[d[i].r].addr + d[i].off);
		if (ops[i].opcode == SVMX_OP_COPY)
			ops[i].addr2 = svmx_ptr(regions[d[i].r2].addr + d[i].off2);
		if (ops[i].opcode == SVMX_OP_WRITE) {
			ops[i].buf = svmx_ptr(t->wbuf + d[i].buf_off);
			ops[i].value = 0;
		} else if (ops[i].opcode == SVMX_OP_READ) {
			ops[i].buf = svmx_ptr(t->rbuf + d[i].buf_off);
			memset(t->rbuf + d[i].buf_off, 0xa5, ops[i].length);
		}
		if (opt.verbose > 1) {
			dop_describe(&d[i], desc, sizeof(desc));
			svmx_diag("  [%s %lu] dev %u op %u/%u %s", t->who, t->opi, dev, i + 1,
				  nr, desc);
		}
	}
	ret = svmx_exec(t->fd[dev], ops, nr, &cnt);
	if (ret) {
		dop_describe(&d[0], desc, sizeof(desc));
		return fail(t, "%s: EXEC of %u ops on svmx%u failed: %s (first op %s)",
			    t->who, nr, dev, strerror(-ret), desc);
	}
	for (i = 0; i < nr; i++) {
		if (d[i].op.opcode != SVMX_OP_READ)
			continue;
		if (memcmp(t->rbuf + d[i].buf_off, t->expect + d[i].buf_off, d[i].op.length)) {
			dop_describe(&d[i], desc, sizeof(desc));
			snprintf(desc + strlen(desc), sizeof(desc) - strlen(desc),
				 " (op %u of %u) on svmx%u", i + 1, nr, dev);
			return mismatch(t, desc, &regions[d[i].r], d[i].off,
					t->rbuf + d[i].buf_off, t->expect + d[i].buf_off,
					d[i].op.length);
		}
	}
	return true;
}

static bool op_device(struct tctx *t, unsigned int kind, bool private_only)
{
	static const unsigned int sub[] = { O_WRITE, O_READ, O_FILL, O_ATOMIC, O_COPY };
	unsigned int dev = svmx_rng_below(&t->rng, opt.ndev), nr = 1, i;
	struct dop d[MAX_BATCH];
	size_t used = 0;

	if (kind == O_BATCH) {
		nr = svmx_rng_range(&t->rng, 2, MAX_BATCH);
		for (i = 0; i < nr; i++)
			gen_dop(t, sub[svmx_rng_below(&t->rng, 5)], MAX_SUB_LEN,
				private_only, &used, &d[i]);
	} else {
		gen_dop(t, kind, MAX_OP_LEN, private_only, &used, &d[0]);
	}
	return run_dops(t, dev, d, nr);
}

/* ---------------------------------------------------------------------
 * CPU access, migration, advice, reclaim
 */

static bool check_range(struct tctx *t, const char *what, struct region *r, size_t off,
			size_t len)
{
	uint8_t *s = shadow_of(t, r);

	if (!memcmp(r->addr + off, s + off, len))
		return true;
	return mismatch(t, what, r, off, (uint8_t *)r->addr + off, s + off, len);
}

static bool op_cpu(struct tctx *t, unsigned int kind, bool private_only)
{
	struct region *r = &regions[gen_region(t, private_only)];
	size_t len = gen_len(t, MAX_OP_LEN < r->len ? MAX_OP_LEN : r->len, 1);
	size_t off = gen_off(t, r, len, 1);
	uint64_t seed = svmx_rng_next(&t->rng);

	if (opt.verbose > 1)
		svmx_diag("  [%s %lu] r%u+0x%zx len 0x%zx", t->who, t->opi,
			  (unsigned int)(r - regions), off, len);
	if (kind == O_CPU_READ)
		return t->dry || check_range(t, "CPU read", r, off, len);
	gen_data(t->wbuf, len, seed);
	memcpy(shadow_of(t, r) + off, t->wbuf, len);
	if (!t->dry)
		memcpy(r->addr + off, t->wbuf, len);
	return true;
}

/* A page-aligned range of a region: @r, @off, @len. */
static struct region *gen_pages(struct tctx *t, bool private_only, size_t *off, size_t *len)
{
	struct region *r = &regions[gen_region(t, private_only)];

	if (svmx_rng_pct(&t->rng, 20)) {
		*off = 0;
		*len = r->len;
	} else {
		*len = gen_len(t, r->len, opt.ps);
		*off = gen_off(t, r, *len, opt.ps);
	}
	if (opt.verbose > 1 && !t->dry)
		svmx_diag("  [%s %lu] r%u+0x%zx len 0x%zx", t->who, t->opi,
			  (unsigned int)(r - regions), *off, *len);
	return r;
}

static bool op_migrate(struct tctx *t, unsigned int kind, bool private_only)
{
	unsigned int dev = svmx_rng_below(&t->rng, opt.ndev);
	uint32_t target = kind == O_MIGRATE_DEV ? SVMX_TARGET_SELF : SVMX_TARGET_SYSTEM;
	size_t off, len;
	struct region *r = gen_pages(t, private_only, &off, &len);
	int ret;

	if (t->dry)
		return true;
	ret = svmx_migrate(t->fd[dev], r->addr + off, len, target, NULL);
	if (ret)
		return fail(t, "%s: MIGRATE r%u+0x%zx len 0x%zx to %s on svmx%u: %s", t->who,
			    (unsigned int)(r - regions), off, len,
			    kind == O_MIGRATE_DEV ? "device" : "system", dev, strerror(-ret));
	return true;
}

static bool op_advise(struct tctx *t, bool private_only)
{
	unsigned int dev = svmx_rng_below(&t->rng, opt.ndev);
	uint32_t advice = svmx_rng_range(&t->rng, SVMX_ADVISE_PREFERRED_LOCATION,
					 SVMX_ADVISE_UNSET_READ_MOSTLY), value = 0;
	size_t off, len;
	struct region *r = gen_pages(t, private_only, &off, &len);
	int ret;

	if (advice == SVMX_ADVISE_PREFERRED_LOCATION)
		/* System memory half of the time: pages then stay remote. */
		value = svmx_rng_pct(&t->rng, 50) ? SVMX_TARGET_SYSTEM :
			svmx_rng_below(&t->rng, opt.ndev);
	else if (advice == SVMX_ADVISE_ACCESSED_BY || advice == SVMX_ADVISE_UNSET_ACCESSED_BY)
		value = svmx_rng_below(&t->rng, opt.ndev);
	if (t->dry)
		return true;
	ret = svmx_advise(t->fd[dev], r->addr + off, len, advice, value);
	if (ret)
		return fail(t, "%s: ADVISE %u value %u r%u+0x%zx len 0x%zx on svmx%u: %s",
			    t->who, advice, value, (unsigned int)(r - regions), off, len, dev,
			    strerror(-ret));
	return true;
}

static bool op_pageout(struct tctx *t, bool private_only)
{
	size_t off, len;
	struct region *r = gen_pages(t, private_only, &off, &len);

	if (!t->dry && madvise(r->addr + off, len, MADV_PAGEOUT))
		return fail(t, "%s: MADV_PAGEOUT r%u+0x%zx len 0x%zx: %s", t->who,
			    (unsigned int)(r - regions), off, len, strerror(errno));
	return true;
}

/*
 * Drop pages: private memory reads back as zeros after MADV_DONTNEED;
 * shared memory keeps its data after MADV_DONTNEED and loses it to
 * MADV_REMOVE or a punched hole.
 */
static bool op_discard(struct tctx *t, bool private_only)
{
	size_t off, len;
	struct region *r = gen_pages(t, private_only, &off, &len);
	bool punch = svmx_rng_pct(&t->rng, 50);
	const char *how;
	int ret;

	if (region_private(r)) {
		how = "MADV_DONTNEED";
		memset(shadow_of(t, r) + off, 0, len);
		ret = t->dry ? 0 : madvise(r->addr + off, len, MADV_DONTNEED);
	} else if (!punch) {
		how = "MADV_DONTNEED";
		ret = t->dry ? 0 : madvise(r->addr + off, len, MADV_DONTNEED);
	} else if (r->kind == R_SHARED) {
		how = "MADV_REMOVE";
		memset(shadow_of(t, r) + off, 0, len);
		ret = t->dry ? 0 : madvise(r->addr + off, len, MADV_REMOVE);
	} else {
		how = "FALLOC_FL_PUNCH_HOLE";
		memset(shadow_of(t, r) + off, 0, len);
		ret = t->dry ? 0 : fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					     off, len);
	}
	if (ret)
		return fail(t, "%s: %s r%u+0x%zx len 0x%zx: %s", t->who, how,
			    (unsigned int)(r - regions), off, len, strerror(errno));
	return true;
}

/* ---------------------------------------------------------------------
 * Address-space changes (main thread only)
 */

/* munmap the region and map it again: anonymous memory comes back zeroed. */
static bool op_remap(struct tctx *t)
{
	struct region *r = &regions[gen_region(t, false)];

	if (opt.verbose > 1)
		svmx_diag("  [%%s %%lu] r%%u", t->who, t->opi, (unsigned int)(r - regions));

	region_unmap(r);
	if (r->fd < 0)
		memset(r->shadow, 0, r->len);
	return region_map(t, r);
}

/* Move the region with mremap(); its data moves along. */
static bool op_mremap(struct tctx *t)
{
	struct region *r = &regions[gen_region(t, false)];

	if (opt.verbose > 1)
		svmx_diag("  [%%s %%lu] r%%u", t->who, t->opi, (unsigned int)(r - regions));
	char *dst, *old = r->addr;

	dst = svmx_map_guarded(r->len, region_align(r), 0, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1);
	if (!dst)
		return fail(t, "mremap: reserving %zu KiB: %s", r->len >> 10, strerror(errno));
	if (mremap(old, r->len, r->len, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == MAP_FAILED)
		return fail(t, "mremap r%u %zu KiB: %s", (unsigned int)(r - regions),
			    r->len >> 10, strerror(errno));
	r->addr = dst;
	/* The old guard pages, now around a hole. */
	munmap(old - opt.ps, opt.ps);
	munmap(old + r->len, opt.ps);
	return true;
}

static bool op_evict(struct tctx *t)
{
	unsigned int dev = svmx_rng_below(&t->rng, opt.ndev);
	int ret;

	if (!opt.debugfs)
		return true;
	ret = svmx_evict_all(dev);
	/* Pages in use by the worker at that moment may stay: not an error. */
	if (ret && ret != -EBUSY && ret != -EAGAIN)
		return fail(t, "evict_all on svmx%u: %s", dev, strerror(-ret));
	return true;
}

/* ---------------------------------------------------------------------
 * Checking everything
 */

static bool check_all(struct tctx *t, const char *when)
{
	char what[64];
	unsigned int i;

	snprintf(what, sizeof(what), "CPU check %s", when);
	for (i = 0; i < t->nreg; i++) {
		struct region *r = &regions[t->reg[i]];

		if (!check_range(t, what, r, 0, r->len))
			return false;
	}
	return true;
}

/* Read every region back through every device. */
static bool check_all_devices(struct tctx *t)
{
	unsigned int i, dev;

	for (dev = 0; dev < opt.ndev; dev++) {
		for (i = 0; i < t->nreg; i++) {
			struct region *r = &regions[t->reg[i]];
			size_t off, len;
			int ret;

			for (off = 0; off < r->len; off += len) {
				len = r->len - off < MAX_OP_LEN ? r->len - off : MAX_OP_LEN;
				ret = svmx_exec1(t->fd[dev],
						 svmx_op_read(r->addr + off, len, t->rbuf), NULL);
				if (ret)
					return fail(t, "%s: final READ r%u+0x%zx on svmx%u: %s",
						    t->who, t->reg[i], off, dev, strerror(-ret));
				if (memcmp(t->rbuf, shadow_of(t, r) + off, len)) {
					char what[64];

					snprintf(what, sizeof(what), "final device read on svmx%u",
						 dev);
					return mismatch(t, what, r, off, t->rbuf,
							shadow_of(t, r) + off, len);
				}
			}
		}
	}
	return true;
}

/* ---------------------------------------------------------------------
 * Running operations
 */

static bool op_fork(struct tctx *t);

static unsigned int gen_kind(struct tctx *t)
{
	unsigned int w[O_NR], k;

	for (k = 0; k < O_NR; k++)
		w[k] = (t->kinds & BIT(k)) && !(opt.exclude & BIT(k)) ? okind_weight[k] : 0;
	return svmx_rng_pick(&t->rng, w, O_NR);
}

/* Draw and run one operation; false on failure (t->err says why). */
static bool run_one(struct tctx *t, bool private_only)
{
	unsigned int kind = gen_kind(t);

	t->kind = kind;
	if (opt.verbose && !t->dry)
		svmx_diag("[%s %lu] %s", t->who, t->opi, okind_name[kind]);
	switch (kind) {
	case O_WRITE:
	case O_READ:
	case O_FILL:
	case O_ATOMIC:
	case O_COPY:
	case O_BATCH:
		return op_device(t, kind, private_only);
	case O_CPU_WRITE:
	case O_CPU_READ:
		return op_cpu(t, kind, private_only);
	case O_MIGRATE_DEV:
	case O_MIGRATE_SYS:
		return op_migrate(t, kind, private_only);
	case O_ADVISE:
		return op_advise(t, private_only);
	case O_PAGEOUT:
		return op_pageout(t, private_only);
	case O_DISCARD:
		return op_discard(t, private_only);
	case O_REMAP:
		return op_remap(t);
	case O_MREMAP:
		return op_mremap(t);
	case O_FORK:
		return op_fork(t);
	case O_EVICT:
		return op_evict(t);
	default:
		return t->dry || check_all(t, "(check op)");
	}
}

static bool open_devices(struct tctx *t)
{
	unsigned int dev;

	for (dev = 0; dev < opt.ndev; dev++) {
		t->fd[dev] = svmx_open_bound(dev);
		if (t->fd[dev] < 0)
			return fail(t, "%s: open and bind /dev/svmx%u: %s", t->who, dev,
				    strerror(-t->fd[dev]));
	}
	return true;
}

static void close_devices(struct tctx *t)
{
	unsigned int dev;

	for (dev = 0; dev < opt.ndev; dev++)
		if (t->fd[dev] >= 0)
			close(t->fd[dev]);
}

/*
 * fork(): the child binds both devices itself and runs operations on the
 * main thread's regions while the parent runs operations on its private
 * regions only.  The child checks its view (its own writes, none of the
 * parent's); then the parent checks its own after replaying the child's
 * operations on a copy of the shadow taken at the fork and taking over
 * the result for the shared regions.
 */
static bool op_fork(struct tctx *t)
{
	uint64_t child_seed = svmx_rng_next(&t->rng);
	unsigned long nchild = svmx_rng_range(&t->rng, 1, opt.fork_ops);
	unsigned long nparent = svmx_rng_range(&t->rng, 1, opt.fork_ops);
	struct tctx c;
	unsigned long i;
	unsigned int k;
	int status;
	pid_t pid;

	memset(&c, 0, sizeof(c));
	c.who = "child";
	svmx_rng_seed(&c.rng, child_seed);
	memcpy(c.reg, t->reg, sizeof(c.reg));
	c.nreg = t->nreg;
	c.kinds = KINDS_LOCAL;
	c.rbuf = t->rbuf;
	c.wbuf = t->wbuf;
	c.expect = t->expect;
	for (k = 0; k < t->nreg; k++) {
		struct region *r = &regions[t->reg[k]];

		memcpy(r->snap, r->shadow, r->len);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(t, "fork: %s", strerror(errno));
	if (!pid) {
		bool ok = open_devices(&c);

		for (i = 0; ok && i < nchild; i++) {
			c.opi = i;
			ok = run_one(&c, false);
		}
		ok = ok && check_all(&c, "at the child's end") && check_all_devices(&c);
		if (!ok)
			svmx_diag("child of the fork at op %lu, child op %lu (%s): %s", t->opi,
				  c.opi, okind_name[c.kind], c.err);
		fflush(stdout);
		_exit(ok ? 0 : 1);
	}
	t->kinds = KINDS_FORKED;
	for (i = 0; i < nparent && !t->err[0]; i++)
		run_one(t, true);
	t->kinds = KINDS_ALL;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return fail(t, "waitpid: %s", strerror(errno));
	if (t->err[0])
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return fail(t, "the forked child failed (status 0x%x, see above)", status);
	/* Replay the child on the snapshot; keep its result for shared memory. */
	c.dry = true;
	c.use_snap = true;
	svmx_rng_seed(&c.rng, child_seed);
	for (i = 0; i < nchild; i++)
		run_one(&c, false);
	for (k = 0; k < t->nreg; k++) {
		struct region *r = &regions[t->reg[k]];

		if (!region_private(r))
			memcpy(r->shadow, r->snap, r->len);
	}
	return check_all(t, "after the fork");
}

/* ---------------------------------------------------------------------
 * The worker thread
 */

static void *worker_main(void *arg)
{
	struct tctx *w = arg;
	unsigned long n = opt.nops / 3, i;
	bool ok = true;

	for (i = 0; ok && i < n && !atomic_load(&stop_all); i++) {
		w->opi = i;
		ok = run_one(w, false);
		if (ok && opt.ckpt && (i + 1) % opt.ckpt == 0)
			ok = check_all(w, "at a checkpoint");
	}
	if (ok && !atomic_load(&stop_all))
		ok = check_all(w, "at the end");
	return NULL;
}

/* ---------------------------------------------------------------------
 * A pass
 */

static bool alloc_bufs(struct tctx *t)
{
	size_t n = MAX_OP_LEN > MAX_BATCH * MAX_SUB_LEN ? MAX_OP_LEN : MAX_BATCH * MAX_SUB_LEN;

	t->rbuf = malloc(n);
	t->wbuf = malloc(n);
	t->expect = malloc(n);
	if (!t->rbuf || !t->wbuf || !t->expect)
		return fail(t, "out of memory for buffers");
	return true;
}

/* Print each device's totals; @evictions: their sum. */
static void report_stats(uint64_t *evictions)
{
	struct svmx_stats st;
	unsigned int dev;

	*evictions = 0;
	for (dev = 0; dev < opt.ndev; dev++) {
		int dfd = svmx_open(dev);

		if (dfd < 0 || svmx_get_stats(dfd, &st)) {
			if (dfd >= 0)
				close(dfd);
			continue;
		}
		close(dfd);
		*evictions += st.device.evictions;
		svmx_diag("svmx%u: %llu MiB, to device %llu pages, to system %llu, evictions %llu (%llu pages), cpu faults %llu, device faults %llu",
			  dev, (unsigned long long)st.mem_bytes >> 20,
			  (unsigned long long)st.device.pages_to_device,
			  (unsigned long long)st.device.pages_to_system,
			  (unsigned long long)st.device.evictions,
			  (unsigned long long)st.device.evicted_pages,
			  (unsigned long long)st.device.cpu_faults,
			  (unsigned long long)st.device.faults);
	}
}

static int pass(uint64_t seed, void *arg)
{
	struct tctx m = { .who = "main", .fd = { -1, -1 } };
	struct tctx w = { .who = "worker", .fd = { -1, -1 } };
	uint64_t ev0 = 0, ev1;
	pthread_t thread;
	bool ok = true, started = false;
	unsigned int i;

	(void)arg;
	svmx_rng_seed(&m.rng, seed);
	svmx_rng_seed(&w.rng, seed ^ 0x5bd1e995deadbeefULL);
	m.kinds = KINDS_ALL;
	w.kinds = KINDS_LOCAL;
	for (i = 0; i < NR_REGIONS; i++) {
		/* Without the worker (-W) its regions stay idle. */
		struct tctx *t = layout[i].worker ? &w : &m;

		t->reg[t->nreg++] = i;
		ok = ok && region_create(&m, &regions[i], layout[i].kind,
					 layout[i].kib << 10);
	}
	ok = ok && alloc_bufs(&m) && alloc_bufs(&w) && open_devices(&m);
	if (ok && opt.expect_evict)
		report_stats(&ev0);
	if (ok && opt.worker) {
		memcpy(w.fd, m.fd, sizeof(w.fd));
		started = !pthread_create(&thread, NULL, worker_main, &w);
		if (!started)
			ok = fail(&m, "pthread_create failed");
	}
	for (m.opi = 0; ok && m.opi < opt.nops; m.opi++) {
		ok = run_one(&m, false);
		if (ok && opt.ckpt && (m.opi + 1) % opt.ckpt == 0)
			ok = check_all(&m, "at a checkpoint");
		if (!ok)
			break;
	}
	if (!ok) {
		atomic_store(&stop_all, true);
		svmx_diag("FAIL seed=%" PRIu64 " thread=main op=%lu kind=%s: %s", seed, m.opi,
			  okind_name[m.kind], m.err);
	}
	if (started)
		pthread_join(thread, NULL);
	if (ok && w.err[0]) {
		ok = false;
		svmx_diag("FAIL seed=%" PRIu64 " thread=worker op=%lu kind=%s: %s", seed,
			  w.opi, okind_name[w.kind], w.err);
	}
	if (ok) {
		/* Everything, from both threads, through every device. */
		for (i = 0; i < NR_REGIONS; i++)
			m.reg[i] = i;
		m.nreg = NR_REGIONS;
		ok = check_all(&m, "at the end") && check_all_devices(&m);
		if (!ok)
			svmx_diag("FAIL seed=%" PRIu64 " at the end: %s", seed, m.err);
	}
	report_stats(&ev1);
	if (ok && opt.expect_evict && ev1 == ev0) {
		svmx_diag("FAIL seed=%" PRIu64 ": no eviction although the working set exceeds device memory (-E)",
			  seed);
		ok = false;
	}
	close_devices(&m);
	for (i = 0; i < NR_REGIONS; i++)
		region_destroy(&regions[i]);
	return ok ? 0 : 1;
}

/* ---------------------------------------------------------------------
 * Command line
 */

static void usage(FILE *f)
{
	unsigned int k;

	fprintf(f,
		"usage: svmx-torture [options]\n"
		"  -s SEED    seed of the first pass (default: a random one, printed)\n"
		"  -p N       passes, seeds SEED, SEED+1, ... (default 1)\n"
		"  -n OPS     operations of the main thread per pass (default 500;\n"
		"             the worker thread runs OPS/3)\n"
		"  -c K       check all memory every K operations (default 100; 0: only at\n"
		"             the end; 1 to find the operation that lost data)\n"
		"  -f N       up to N operations on each side of a fork (default 24)\n"
		"  -x KINDS   comma-separated operation kinds never to draw\n"
		"  -W         no worker thread\n"
		"  -E         fail a pass that evicted nothing (device memory should be\n"
		"             smaller than the working set: load svmx with mem_mb=16)\n"
		"  -d DIR     directory for the file-backed region (default /tmp)\n"
		"  -t SEC     stress: keep starting passes until SEC seconds have passed\n"
		"             (each pass still runs its OPS operations)\n"
		"  -v         print every operation (-vv: and its arguments)\n"
		"Operation kinds:");
	for (k = 0; k < O_NR; k++)
		fprintf(f, " %s", okind_name[k]);
	fprintf(f, "\nA failure prints its seed, thread and operation index; run again with\n"
		"the same -s, -n, -x, -W and -f options to replay it.\n");
}

static bool parse_exclude(char *s)
{
	char *tok;
	unsigned int k;

	for (tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		for (k = 0; k < O_NR && strcmp(tok, okind_name[k]); k++)
			;
		if (k == O_NR) {
			fprintf(stderr, "svmx-torture: unknown operation kind '%s'\n", tok);
			return false;
		}
		opt.exclude |= BIT(k);
	}
	return true;
}

int main(int argc, char **argv)
{
	uint64_t seed = 0;
	unsigned long passes = 1, p, failed = 0;
	double deadline = 0, t0;
	bool have_seed = false;
	char excl[256] = "";
	struct svmx_version v;
	int c, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt(argc, argv, "s:p:n:c:f:x:WEd:t:vh")) != -1) {
		switch (c) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			have_seed = true;
			break;
		case 'p':
			passes = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			opt.nops = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			opt.ckpt = strtoul(optarg, NULL, 0);
			break;
		case 'f':
			opt.fork_ops = strtoul(optarg, NULL, 0);
			break;
		case 'x':
			snprintf(excl, sizeof(excl), "%s", optarg);
			if (!parse_exclude(optarg))
				return 2;
			break;
		case 'W':
			opt.worker = false;
			break;
		case 'E':
			opt.expect_evict = true;
			break;
		case 'd':
			opt.dir = optarg;
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
	if (!opt.fork_ops || (opt.exclude & KINDS_ALL) == KINDS_ALL) {
		usage(stderr);
		return 2;
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
	opt.ndev = v.nr_devices < MAX_DEV ? v.nr_devices : MAX_DEV;
	opt.debugfs = svmx_debugfs_ok(0);

	printf("TAP version 13\n");
	if (!deadline)
		printf("1..%lu\n", passes);
	svmx_diag("svmx-torture: seed %" PRIu64 ", %lu ops, %u devices of %llu MiB, checks every %u, worker %s, excluded: %s",
		  seed, opt.nops, opt.ndev, (unsigned long long)v.mem_bytes >> 20, opt.ckpt,
		  opt.worker ? "on" : "off", excl[0] ? excl : "none");
	t0 = svmx_now();
	for (p = 0; deadline ? svmx_now() - t0 < deadline : p < passes; p++) {
		uint64_t s = seed + p;
		char why[128] = "";
		double start = svmx_now();

		if (svmx_run_pass(pass, s, NULL, why, sizeof(why))) {
			failed++;
			printf("not ok %lu torture seed=%" PRIu64 " ops=%lu: %s\n", p + 1, s,
			       opt.nops, why);
			svmx_diag("replay: svmx-torture -s %" PRIu64 " -n %lu -f %u%s%s%s -c 1 -v",
				  s, opt.nops, opt.fork_ops, opt.worker ? "" : " -W",
				  excl[0] ? " -x " : "", excl);
		} else {
			printf("ok %lu torture seed=%" PRIu64 " ops=%lu (%.1f s)\n", p + 1, s,
			       opt.nops, svmx_now() - start);
		}
	}
	if (deadline)
		printf("1..%lu\n", p);
	return failed ? 1 : 0;
}
