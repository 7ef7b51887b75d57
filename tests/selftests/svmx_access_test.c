// SPDX-License-Identifier: GPL-2.0
/*
 * Device access to each kind of memory a process can hand to a device:
 * private anonymous memory, shared anonymous memory (shmem), a tmpfs file,
 * a memfd and transparent huge pages.  Every test runs once per kind.
 * Anonymous memory and THP must migrate to device memory; the file-backed
 * kinds cannot and must be mapped remotely instead; shmem may do either.
 * Every test checks the data, and the counters and placement the kind
 * implies.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>

/*
 * TEST_F()'s wrapper in kselftest_harness.h keeps a local across setjmp();
 * whether GCC warns depends on inlining.  Nothing of ours is involved.
 */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define REGION_SIZE	(4UL << 20)
#define DEV		0

enum mem_kind { KIND_ANON, KIND_SHMEM, KIND_TMPFILE, KIND_MEMFD, KIND_THP };

/* Where a device access must leave the data. */
enum placement {
	PLACE_MIGRATE,	/* device memory */
	PLACE_REMOTE,	/* system memory, mapped over the link */
	PLACE_EITHER,	/* either, per page */
};

FIXTURE(access)
{
	int fd;
	int file;	/* backing file of TMPFILE/MEMFD, else -1 */
	size_t ps;
	size_t size;
	unsigned long npages;
	char *mem;
	uint8_t *snap;
	uint8_t *peer;
};

FIXTURE_VARIANT(access)
{
	enum mem_kind kind;
	enum placement place;
};

FIXTURE_VARIANT_ADD(access, anon) { .kind = KIND_ANON, .place = PLACE_MIGRATE };
FIXTURE_VARIANT_ADD(access, shmem) { .kind = KIND_SHMEM, .place = PLACE_EITHER };
FIXTURE_VARIANT_ADD(access, tmpfile) { .kind = KIND_TMPFILE, .place = PLACE_REMOTE };
FIXTURE_VARIANT_ADD(access, memfd) { .kind = KIND_MEMFD, .place = PLACE_REMOTE };
FIXTURE_VARIANT_ADD(access, thp) { .kind = KIND_THP, .place = PLACE_MIGRATE };

FIXTURE_SETUP(access)
{
	char path[] = "/tmp/svmx-access-XXXXXX";

	self->file = -1;
	self->mem = NULL;
	self->ps = svmx_page_size();
	self->size = REGION_SIZE;
	self->npages = self->size / self->ps;
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, DEV);

	switch (variant->kind) {
	case KIND_ANON:
		/* Off a 2 MiB boundary: fault chunks get clipped at both ends. */
		self->mem = svmx_map_guarded(self->size, SZ_2M, 3 * self->ps,
					     PROT_READ | PROT_WRITE,
					     MAP_PRIVATE | MAP_ANONYMOUS, -1);
		break;
	case KIND_SHMEM:
		self->mem = svmx_map_anon(self->size, MAP_SHARED);
		break;
	case KIND_TMPFILE:
		self->file = mkstemp(path);
		ASSERT_GE(self->file, 0);
		unlink(path);
		break;
	case KIND_MEMFD:
		self->file = memfd_create("svmx-access", MFD_CLOEXEC);
		ASSERT_GE(self->file, 0);
		break;
	case KIND_THP:
		if (!svmx_thp_enabled())
			SKIP(return, "transparent huge pages not available");
		self->mem = svmx_map_aligned(self->size, SZ_2M, PROT_READ | PROT_WRITE);
		ASSERT_NE(NULL, self->mem);
		ASSERT_EQ(0, madvise(self->mem, self->size, MADV_HUGEPAGE));
		break;
	}
	if (self->file >= 0) {
		ASSERT_EQ(0, ftruncate(self->file, self->size));
		self->mem = svmx_map_guarded(self->size, self->ps, 0,
					     PROT_READ | PROT_WRITE, MAP_SHARED,
					     self->file);
	}
	ASSERT_NE(NULL, self->mem);
	self->snap = malloc(self->npages);
	self->peer = malloc(self->npages);
	ASSERT_NE(NULL, self->snap);
	ASSERT_NE(NULL, self->peer);
}

FIXTURE_TEARDOWN(access)
{
	if (self->mem)
		munmap(self->mem, self->size);
	if (self->file >= 0)
		close(self->file);
	if (self->fd >= 0)
		close(self->fd);
}

/* CPU-write pattern @seed over the region; false (and SKIP) without THP. */
static bool populate(struct __test_metadata *_metadata, FIXTURE_DATA(access) *self,
		     const FIXTURE_VARIANT(access) *variant, uint64_t seed)
{
	svmx_pat_fill(self->mem, self->size, seed);
	if (variant->kind == KIND_THP && svmx_anon_huge_kb(self->mem) == 0)
		SKIP(return false, "no transparent huge page could be allocated");
	return true;
}

/*
 * After a device access covering the whole region: placement and the
 * counters of moving it there.  @populated: the CPU had written every page.
 */
static void check_placement(struct __test_metadata *_metadata,
			    FIXTURE_DATA(access) *self,
			    const FIXTURE_VARIANT(access) *variant,
			    const struct svmx_counters *c, bool populated, bool wrote)
{
	unsigned long n = self->npages, i;

	EXPECT_GT(c->faults, 0);
	EXPECT_GT(c->fault_batches, 0);
	EXPECT_GT(c->modeled_ns, 0);
	ASSERT_EQ(0, svmx_snapshot(self->fd, self->mem, n, self->snap, self->peer));
	EXPECT_EQ(n, svmx_snap_count(self->snap, n, SVMX_SNAP_DEV_MAPPED,
				     SVMX_SNAP_DEV_MAPPED));
	if (wrote)
		EXPECT_EQ(n, svmx_snap_count(self->snap, n, SVMX_SNAP_DEV_WRITE,
					     SVMX_SNAP_DEV_WRITE));

	switch (variant->place) {
	case PLACE_MIGRATE:
		EXPECT_EQ(n, c->pages_to_device);
		EXPECT_EQ(populated ? n * self->ps : 0, c->bytes_to_device);
		if (populated) {
			/* Runs of contiguous pages go in one command each. */
			EXPECT_GE(c->copy_cmds, 1);
			EXPECT_LT(c->copy_cmds, c->pages_to_device);
		}
		EXPECT_GT(c->local_accesses, 0);
		EXPECT_EQ(0, c->remote_accesses);
		EXPECT_EQ(n, svmx_snap_loc_count(self->snap, n, SVMX_SNAP_LOCAL));
		for (i = 0; i < n; i++)
			if (self->peer[i] != DEV)
				break;
		EXPECT_EQ(n, i) TH_LOG("page %lu: peer index %u", i, self->peer[i]);
		break;
	case PLACE_REMOTE:
		EXPECT_EQ(0, c->pages_to_device);
		EXPECT_EQ(0, c->local_accesses);
		EXPECT_GT(c->remote_accesses, 0);
		EXPECT_EQ(n, svmx_snap_loc_count(self->snap, n, SVMX_SNAP_SYSTEM));
		break;
	case PLACE_EITHER:
		EXPECT_GT(c->local_accesses + c->remote_accesses, 0);
		EXPECT_EQ(n, svmx_snap_loc_count(self->snap, n, SVMX_SNAP_SYSTEM) +
			     svmx_snap_loc_count(self->snap, n, SVMX_SNAP_LOCAL));
		break;
	}
	EXPECT_EQ(0, c->peer_accesses);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("device access", c);
}

/* The device reads what the CPU wrote, moving it where the kind allows. */
TEST_F(access, read)
{
	struct svmx_counters c;
	char *buf;

	if (!populate(_metadata, self, variant, 1))
		return;
	buf = malloc(self->size);
	ASSERT_NE(NULL, buf);
	memset(buf, 0xa5, self->size);

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(self->mem, self->size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, self->size, 1));
	check_placement(_metadata, self, variant, &c, true, false);
	/* One page-sized access per page of a page-aligned read. */
	EXPECT_EQ(self->npages, c.local_accesses + c.remote_accesses);
	EXPECT_EQ(-1, svmx_pat_check(self->mem, self->size, 1));
	free(buf);
}

/* Device writes reach the CPU, and for files the page cache. */
TEST_F(access, write)
{
	struct svmx_counters c;
	char *buf;

	if (!populate(_metadata, self, variant, 1))
		return;
	buf = malloc(self->size);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(buf, self->size, 2);

	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(self->mem, self->size, buf), &c));
	check_placement(_metadata, self, variant, &c, true, true);
	EXPECT_EQ(self->npages, c.local_accesses + c.remote_accesses);
	if (self->file >= 0) {
		memset(buf, 0, self->size);
		ASSERT_EQ((ssize_t)self->size, pread(self->file, buf, self->size, 0));
		EXPECT_EQ(-1, svmx_pat_check(buf, self->size, 2));
	}
	EXPECT_EQ(-1, svmx_pat_check(self->mem, self->size, 2));
	free(buf);
}

/* FILL writes exactly its 8-byte-aligned, page-crossing range. */
TEST_F(access, fill)
{
	const uint64_t v1 = 0x0123456789abcdefULL, v2 = 0xfedcba9876543210ULL;
	size_t start = 5 * self->ps + 24, len = 7 * self->ps + 40, i;
	size_t last = self->size - 8;
	struct svmx_op ops[2];
	struct svmx_counters c;
	uint64_t *w = (uint64_t *)self->mem;

	if (!populate(_metadata, self, variant, 3))
		return;
	ops[0] = svmx_op_fill(self->mem + start, len, v1);
	ops[1] = svmx_op_fill(self->mem + last, 8, v2);
	ASSERT_EQ(0, svmx_exec(self->fd, ops, 2, &c));
	EXPECT_GT(c.faults, 0);
	EXPECT_GT(c.modeled_ns, 0);

	for (i = 0; i < self->size / 8; i++) {
		uint64_t want = svmx_pat(3, i);

		if (i * 8 >= start && i * 8 < start + len)
			want = v1;
		else if (i * 8 == last)
			want = v2;
		if (w[i] != want)
			break;
	}
	EXPECT_EQ(self->size / 8, i) TH_LOG("word %zu wrong", i);
}

/* ATOMIC_ADD sums match the same additions done on a CPU shadow copy. */
TEST_F(access, atomic_add)
{
	uint64_t *shadow, *w = (uint64_t *)self->mem;
	size_t ps = self->ps, words = self->size / 8, i;
	struct svmx_counters c;
	struct svmx_op ops[4];
	int round;

	if (!populate(_metadata, self, variant, 4))
		return;
	shadow = malloc(self->size);
	ASSERT_NE(NULL, shadow);
	memcpy(shadow, self->mem, self->size);

	/* The same elements twice in one batch, one element per page at the
	 * end of each page, and a wrapping addend with an odd stride.
	 */
	ops[0] = svmx_op_atomic(self->mem + 8, 64, 8, 1);
	ops[1] = svmx_op_atomic(self->mem + 8, 64, 8, 2);
	ops[2] = svmx_op_atomic(self->mem + ps - 8, self->npages, ps, 0x100);
	ops[3] = svmx_op_atomic(self->mem + 16, 3, 24, (uint64_t)-1);
	for (round = 0; round < 4; round++) {
		ASSERT_EQ(0, svmx_exec(self->fd, ops, 4, &c));
		if (round == 0)
			EXPECT_GT(c.faults, 0);
		EXPECT_GT(c.local_accesses + c.remote_accesses, 0);
		for (i = 0; i < 64; i++)
			shadow[1 + i] += 3;
		for (i = 0; i < self->npages; i++)
			shadow[(i + 1) * ps / 8 - 1] += 0x100;
		for (i = 0; i < 3; i++)
			shadow[2 + 3 * i] -= 1;
	}
	for (i = 0; i < words; i++)
		if (w[i] != shadow[i])
			break;
	EXPECT_EQ(words, i) TH_LOG("word %zu: %#llx, expected %#llx", i,
				   (unsigned long long)w[i],
				   (unsigned long long)shadow[i]);
	free(shadow);
}

/* COPY is byte granular, crosses pages and reaches other mappings. */
TEST_F(access, copy)
{
	size_t ps = self->ps, len = 5 * ps + 7, half = self->size / 2;
	char *shadow, *aux, *aux_shadow;
	struct svmx_counters c;
	struct svmx_op ops[3];

	if (!populate(_metadata, self, variant, 5))
		return;
	aux = svmx_map_anon(16 * ps, MAP_PRIVATE);
	ASSERT_NE(NULL, aux);
	svmx_pat_fill(aux, 16 * ps, 6);
	shadow = malloc(self->size);
	aux_shadow = malloc(16 * ps);
	ASSERT_NE(NULL, shadow);
	ASSERT_NE(NULL, aux_shadow);
	memcpy(shadow, self->mem, self->size);
	memcpy(aux_shadow, aux, 16 * ps);

	/* Within the region; then the copy's result on to another mapping
	 * (ops run in order); then from that mapping back into the region.
	 */
	ops[0] = svmx_op_copy(self->mem + 3, len, self->mem + half + 5);
	ops[1] = svmx_op_copy(self->mem + half + 5, len, aux + 1);
	ops[2] = svmx_op_copy(aux + 8 * ps, ps, self->mem + 100);
	memmove(shadow + half + 5, shadow + 3, len);
	memcpy(aux_shadow + 1, shadow + half + 5, len);
	memcpy(shadow + 100, aux_shadow + 8 * ps, ps);

	ASSERT_EQ(0, svmx_exec(self->fd, ops, 3, &c));
	EXPECT_GT(c.faults, 0);
	EXPECT_EQ(0, memcmp(shadow, self->mem, self->size));
	EXPECT_EQ(0, memcmp(aux_shadow, aux, 16 * ps));
	free(shadow);
	free(aux_shadow);
	munmap(aux, 16 * ps);
}

/* The ops of one batch run in order: each sees the effect of the ones before. */
TEST_F(access, batch_in_order)
{
	const uint64_t v = 0x5a5a5a5a00000001ULL;
	size_t ps = self->ps;
	char *src, *out;
	struct svmx_op ops[5];

	if (!populate(_metadata, self, variant, 7))
		return;
	src = malloc(ps);
	out = malloc(3 * ps);
	ASSERT_NE(NULL, src);
	ASSERT_NE(NULL, out);
	svmx_pat_fill(src, ps, 8);
	memset(out, 0, 3 * ps);

	ops[0] = svmx_op_write(self->mem, ps, src);
	ops[1] = svmx_op_fill(self->mem + ps, ps, v);
	ops[2] = svmx_op_copy(self->mem, ps, self->mem + 2 * ps);
	ops[3] = svmx_op_atomic(self->mem + 2 * ps, 1, 8, 5);
	ops[4] = svmx_op_read(self->mem, 3 * ps, out);
	ASSERT_EQ(0, svmx_exec(self->fd, ops, 5, NULL));

	((uint64_t *)src)[0] += 5;	/* what page 2 must hold */
	EXPECT_EQ(0, memcmp(out + 2 * ps, src, ps));
	EXPECT_EQ(0, memcmp(self->mem + 2 * ps, src, ps));
	((uint64_t *)src)[0] -= 5;
	EXPECT_EQ(0, memcmp(out, src, ps));
	EXPECT_EQ(-1, svmx_words_check(out + ps, ps, v));
	EXPECT_EQ(0, memcmp(self->mem, src, ps));
	EXPECT_EQ(-1, svmx_words_check(self->mem + ps, ps, v));
	/* The rest of the region is untouched. */
	EXPECT_EQ(-1, svmx_pat_check_from(self->mem + 3 * ps, 3 * ps / 8,
					  self->size - 3 * ps, 7));
	free(src);
	free(out);
}

/*
 * CPU access after device access gets the device's data and brings it back
 * (SYSTEM, cpu_faults); CPU writes are seen by the next device access.
 */
TEST_F(access, cpu_touch_after_device)
{
	struct svmx_stats s0, s1, s2;
	struct svmx_counters d, c;
	unsigned long n = self->npages;
	size_t half = self->size / 2;
	char *buf;

	if (!populate(_metadata, self, variant, 8))
		return;
	buf = malloc(self->size);
	ASSERT_NE(NULL, buf);
	svmx_pat_fill(buf, self->size, 9);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_write(self->mem, self->size, buf), &c));
	check_placement(_metadata, self, variant, &c, true, true);

	ASSERT_EQ(0, svmx_get_stats(self->fd, &s0));
	EXPECT_EQ(-1, svmx_pat_check(self->mem, self->size, 9));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s1));
	d = svmx_counters_sub(&s1.device, &s0.device);
	ASSERT_EQ(0, svmx_snapshot(self->fd, self->mem, n, self->snap, NULL));
	EXPECT_EQ(n, svmx_snap_loc_count(self->snap, n, SVMX_SNAP_SYSTEM));
	if (variant->place == PLACE_MIGRATE) {
		EXPECT_GT(d.cpu_faults, 0);
		EXPECT_EQ(n, d.pages_to_system);
		EXPECT_EQ(n * self->ps, d.bytes_to_system);
		/* Moving back invalidated the device's mappings. */
		EXPECT_EQ(0, svmx_snap_count(self->snap, n, SVMX_SNAP_DEV_MAPPED,
					     SVMX_SNAP_DEV_MAPPED));
	} else if (variant->place == PLACE_REMOTE) {
		EXPECT_EQ(0, d.cpu_faults);
		EXPECT_EQ(0, d.pages_to_system);
	}
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("CPU read", &d);

	/* CPU writes half, the device reads the whole region. */
	svmx_pat_fill(self->mem, half, 10);
	memset(buf, 0, self->size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(self->mem, self->size, buf), &c));
	EXPECT_EQ(-1, svmx_pat_check(buf, half, 10));
	EXPECT_EQ(-1, svmx_pat_check_from(buf + half, half / 8, half, 9));
	ASSERT_EQ(0, svmx_get_stats(self->fd, &s2));
	if (variant->place == PLACE_MIGRATE) {
		EXPECT_EQ(n, c.pages_to_device);
		/* device -> CPU -> device: the regions changed direction */
		d = svmx_counters_sub(&s2.device, &s0.device);
		EXPECT_GT(d.pingpong, 0);
	}
	free(buf);
}

/*
 * First touch by the device of never-touched memory: zeros, zero-filled on
 * the device without copying, and the CPU sees the device's writes.
 */
TEST_F(access, first_touch_zero)
{
	const uint64_t v = 0xc0ffee0000c0ffeeULL;
	size_t half = self->size / 2;
	unsigned long n = self->npages;
	struct svmx_counters c1, c2;
	struct stat st;
	char *buf;

	buf = malloc(half);
	ASSERT_NE(NULL, buf);
	memset(buf, 0xa5, half);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(self->mem, half, buf), &c1));
	EXPECT_EQ(-1, svmx_words_check(buf, half, 0));
	EXPECT_GT(c1.faults, 0);
	EXPECT_EQ(0, c1.bytes_to_device);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(self->mem + half, half, v), &c2));
	EXPECT_GT(c2.faults + c1.faults, 0);
	EXPECT_EQ(0, c2.bytes_to_device);

	ASSERT_EQ(0, svmx_snapshot(self->fd, self->mem, n, self->snap, NULL));
	if (variant->place == PLACE_MIGRATE) {
		/* The fault chunk may reach past the first half. */
		EXPECT_GE(c1.pages_to_device, n / 2);
		EXPECT_EQ(n, c1.pages_to_device + c2.pages_to_device);
		EXPECT_EQ(n, svmx_snap_loc_count(self->snap, n, SVMX_SNAP_LOCAL));
	} else if (variant->place == PLACE_REMOTE) {
		EXPECT_EQ(0, c1.pages_to_device + c2.pages_to_device);
		EXPECT_EQ(n, svmx_snap_loc_count(self->snap, n, SVMX_SNAP_SYSTEM));
	}
	if (_metadata->exit_code) {
		SVMX_LOG_COUNTERS("read", &c1);
		SVMX_LOG_COUNTERS("fill", &c2);
	}

	EXPECT_EQ(-1, svmx_words_check(self->mem, half, 0));
	EXPECT_EQ(-1, svmx_words_check(self->mem + half, half, v));
	if (self->file >= 0) {
		ASSERT_EQ(0, fstat(self->file, &st));
		EXPECT_EQ((off_t)self->size, st.st_size);
	}
	free(buf);
}

#define CONC_WORDS	16
#define CONC_ROUNDS	40

struct cpu_adder {
	uint64_t *words;
	size_t stride;	/* in u64s */
	int rounds;
};

static void *cpu_add_thread(void *arg)
{
	struct cpu_adder *a = arg;
	int r, i;

	for (r = 0; r < a->rounds; r++) {
		for (i = 0; i < CONC_WORDS; i++)
			__atomic_fetch_add(&a->words[i * a->stride], 1, __ATOMIC_SEQ_CST);
		usleep(200);
	}
	return NULL;
}

/* Device and CPU atomics on the same words, at the same time, lose nothing. */
TEST_F(access, atomic_cpu_concurrent)
{
	uint64_t init[CONC_WORDS], *words = (uint64_t *)self->mem;
	struct cpu_adder a;
	pthread_t t;
	int r, i;

	if (!populate(_metadata, self, variant, 11))
		return;
	a.words = words;
	a.stride = (self->ps + 8) / 8;	/* one word per page, moving offset */
	a.rounds = CONC_ROUNDS;
	for (i = 0; i < CONC_WORDS; i++)
		init[i] = words[i * a.stride];

	ASSERT_EQ(0, pthread_create(&t, NULL, cpu_add_thread, &a));
	for (r = 0; r < CONC_ROUNDS; r++) {
		int ret = svmx_exec1(self->fd, svmx_op_atomic(self->mem, CONC_WORDS,
							      self->ps + 8, 3), NULL);
		if (ret) {
			EXPECT_EQ(0, ret) TH_LOG("round %d", r);
			break;
		}
	}
	ASSERT_EQ(0, pthread_join(t, NULL));
	for (i = 0; i < CONC_WORDS; i++)
		EXPECT_EQ(init[i] + 3 * CONC_ROUNDS + CONC_ROUNDS, words[i * a.stride])
			TH_LOG("word %d", i);
}

TEST_HARNESS_MAIN
