// SPDX-License-Identifier: GPL-2.0
/*
 * A small workload with explicit prefetches (SVMX_IOC_MIGRATE) and advice
 * (SVMX_IOC_ADVISE) between device work, on /dev/svmx0, for
 * tests/svmxctl/record.t: recorded and replayed, its counters must come
 * out the same.  A second test does device work on shared memory and on
 * a file, the mapping kinds a replay re-creates with a memfd and a
 * temporary file.  Both check their own data, so they also run alone.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "../../tools/svmx-tools.h"

#define CHUNK	(2UL << 20)
#define PAGE	4096UL
#define CHUNKS	4

static int add_all(int fd, char *base)
{
	struct svmx_op op = {
		.opcode = SVMX_OP_ATOMIC_ADD, .addr = (uintptr_t)base + 8,
		.length = CHUNKS * CHUNK / PAGE, .stride = PAGE, .value = 1,
	};
	struct svmx_exec e = { .ops = (uintptr_t)&op, .nr_ops = 1 };

	return ioctl(fd, SVMX_IOC_EXEC, &e);
}

static int migrate(int fd, char *addr, size_t len, uint32_t target)
{
	struct svmx_migrate m = { .addr = (uintptr_t)addr, .length = len, .target = target };

	return ioctl(fd, SVMX_IOC_MIGRATE, &m);
}

/*
 * Chunk 3 is advised to stay in system memory; chunks 1-2 are prefetched
 * before the first pass; chunk 1 goes back before the second one.
 */
TEST(prefetch_and_advice)
{
	struct svmx_advise a = { .length = CHUNK, .advice = SVMX_ADVISE_PREFERRED_LOCATION,
				 .value = SVMX_TARGET_SYSTEM };
	char *map, *base;
	size_t i;
	int fd;

	fd = svmx_open_bound(0, 0);
	if (fd == -ENOENT)
		SKIP(return, "no /dev/svmx0");
	ASSERT_LE(0, fd);
	map = mmap(NULL, (CHUNKS + 1) * CHUNK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, map);
	base = (char *)(((uintptr_t)map + CHUNK - 1) & ~(CHUNK - 1));
	ASSERT_EQ(0, madvise(base, CHUNKS * CHUNK, MADV_NOHUGEPAGE));
	for (i = 0; i < CHUNKS * CHUNK; i += PAGE)
		*(uint64_t *)(base + i) = i;
	a.addr = (uintptr_t)base + 3 * CHUNK;
	ASSERT_EQ(0, ioctl(fd, SVMX_IOC_ADVISE, &a));
	ASSERT_EQ(0, migrate(fd, base + CHUNK, 2 * CHUNK, SVMX_TARGET_SELF));
	ASSERT_EQ(0, add_all(fd, base));
	ASSERT_EQ(0, migrate(fd, base + CHUNK, CHUNK, SVMX_TARGET_SYSTEM));
	ASSERT_EQ(0, add_all(fd, base));
	for (i = 0; i < CHUNKS * CHUNK; i += PAGE) {
		ASSERT_EQ(i, *(uint64_t *)(base + i));
		ASSERT_EQ(2, *(uint64_t *)(base + i + 8));
	}
	munmap(map, (CHUNKS + 1) * CHUNK);
	close(fd);
}

/* Device work on a shared memfd mapping and on a private file mapping. */
TEST(shared_and_file)
{
	char path[] = "/tmp/svmxctl-hints.XXXXXX";
	size_t len = 2 * CHUNK, i;
	char *shm, *file;
	int fd, mfd, ffd;
	struct svmx_op ops[2] = {
		{ .opcode = SVMX_OP_ATOMIC_ADD, .length = len / PAGE, .stride = PAGE, .value = 1 },
		{ .opcode = SVMX_OP_ATOMIC_ADD, .length = len / PAGE, .stride = PAGE, .value = 1 },
	};
	struct svmx_exec e = { .ops = (uintptr_t)ops, .nr_ops = 2 };

	fd = svmx_open_bound(0, 0);
	if (fd == -ENOENT)
		SKIP(return, "no /dev/svmx0");
	ASSERT_LE(0, fd);
	mfd = memfd_create("svmxctl-hints", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	ffd = mkstemp(path);
	ASSERT_LE(0, ffd);
	unlink(path);
	ASSERT_EQ(0, ftruncate(ffd, len));
	shm = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	file = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, ffd, 0);
	ASSERT_NE(MAP_FAILED, shm);
	ASSERT_NE(MAP_FAILED, file);
	for (i = 0; i < len; i += PAGE)
		shm[i] = 1;
	ops[0].addr = (uintptr_t)shm + 8;
	ops[1].addr = (uintptr_t)file + 8;
	ASSERT_EQ(0, ioctl(fd, SVMX_IOC_EXEC, &e));
	ASSERT_EQ(0, ioctl(fd, SVMX_IOC_EXEC, &e));
	for (i = 0; i < len; i += PAGE) {
		ASSERT_EQ(2, *(uint64_t *)(shm + i + 8));
		ASSERT_EQ(2, *(uint64_t *)(file + i + 8));
	}
	munmap(shm, len);
	munmap(file, len);
	close(mfd);
	close(ffd);
	close(fd);
}

TEST_HARNESS_MAIN
