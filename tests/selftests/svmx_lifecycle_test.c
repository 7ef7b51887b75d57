// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: what invalidates device mappings (MADV_DONTNEED, mprotect) and
 * what gives device memory back (closing the binding, process exit).  The
 * device-wide resident page count comes from STATS on a second, unbound
 * file, so it can be read after the binding is gone.
 */
#include <sys/mman.h>
#include <sys/wait.h>

/* See svmx_migrate_test.c: the harness's TEST_F wrapper, not our code. */
#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define MIB		(1UL << 20)

FIXTURE(life)
{
	int fd;		/* bound */
	int probe;	/* unbound, for device-wide STATS */
	size_t ps;
};

FIXTURE_SETUP(life)
{
	self->ps = svmx_page_size();
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, 0);
	self->probe = svmx_open(0);
	ASSERT_GE(self->probe, 0);
}

FIXTURE_TEARDOWN(life)
{
	if (self->fd >= 0)
		close(self->fd);
	if (self->probe >= 0)
		close(self->probe);
}

static uint64_t resident(struct __test_metadata *_metadata, int fd)
{
	struct svmx_stats st;

	EXPECT_EQ(0, svmx_get_stats(fd, &st));
	return st.resident_pages;
}

/* MADV_DONTNEED drops device pages and their device mappings; reads see 0. */
TEST_F(life, madv_dontneed)
{
	size_t size = 2 * MIB, half = MIB;
	unsigned long n = size / self->ps;
	uint8_t *snap = malloc(n);
	uint64_t before = resident(_metadata, self->probe);
	char *mem, *buf = malloc(size);

	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, buf);
	mem = svmx_map_aligned(size, 2 * MIB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 41);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	EXPECT_EQ(before + n, resident(_metadata, self->probe));

	ASSERT_EQ(0, madvise(mem, half, MADV_DONTNEED));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n / 2, svmx_snap_count(snap, n / 2, 0xff, SVMX_SNAP_NONE));
	EXPECT_EQ(n / 2, svmx_snap_count(snap + n / 2, n / 2,
					 SVMX_SNAP_LOC_MASK | SVMX_SNAP_DEV_MAPPED,
					 SVMX_SNAP_LOCAL | SVMX_SNAP_DEV_MAPPED));
	EXPECT_EQ(before + n / 2, resident(_metadata, self->probe));

	memset(buf, 0xa5, size);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_words_check(buf, half, 0));
	EXPECT_EQ(-1, svmx_pat_check_from(buf + half, half / 8, half, 41));
	munmap(mem, size);
	free(buf);
	free(snap);
}

/* mprotect(PROT_READ) removes device write access; device writes fail whole. */
TEST_F(life, mprotect_readonly)
{
	size_t size = MIB;
	unsigned long n = size / self->ps;
	uint8_t *snap = malloc(n);
	char *mem, *buf = malloc(size);

	ASSERT_NE(NULL, snap);
	ASSERT_NE(NULL, buf);
	mem = svmx_map_anon(size, MAP_PRIVATE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 42);
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_fill(mem, size, 7), NULL));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(n, svmx_snap_count(snap, n, SVMX_SNAP_DEV_WRITE,
				     SVMX_SNAP_DEV_WRITE));

	ASSERT_EQ(0, mprotect(mem, size, PROT_READ));
	ASSERT_EQ(0, svmx_snapshot(self->fd, mem, n, snap, NULL));
	EXPECT_EQ(0, svmx_snap_count(snap, n, SVMX_SNAP_DEV_WRITE,
				     SVMX_SNAP_DEV_WRITE));
	EXPECT_EQ(-EFAULT, svmx_exec1(self->fd, svmx_op_fill(mem, size, 9), NULL));
	EXPECT_EQ(-1, svmx_words_check(mem, size, 7));
	/* Reading is still allowed, and sees the device's earlier fill. */
	ASSERT_EQ(0, svmx_exec1(self->fd, svmx_op_read(mem, size, buf), NULL));
	EXPECT_EQ(-1, svmx_words_check(buf, size, 7));
	munmap(mem, size);
	free(buf);
	free(snap);
}

/* Closing the binding gives its device memory back; the data stays. */
TEST_F(life, close_releases_memory)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	uint64_t before = resident(_metadata, self->probe);
	char *mem;

	mem = svmx_map_aligned(size, 2 * MIB, PROT_READ | PROT_WRITE);
	ASSERT_NE(NULL, mem);
	svmx_pat_fill(mem, size, 43);
	ASSERT_EQ(0, svmx_migrate(self->fd, mem, size, SVMX_TARGET_SELF, NULL));
	EXPECT_EQ(before + n, resident(_metadata, self->probe));

	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(before, resident(_metadata, self->probe));
	EXPECT_EQ(-1, svmx_pat_check(mem, size, 43));
	munmap(mem, size);
}

/* A process that exits with data in device memory leaves none behind. */
TEST_F(life, exit_releases_memory)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	uint64_t before = resident(_metadata, self->probe);
	int go[2], status;
	pid_t pid;
	char x;

	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		char *mem = svmx_map_anon(size, MAP_PRIVATE);
		int fd = svmx_open_bound(1);

		if (fd == -ENOENT)
			fd = svmx_open_bound(0);

		if (!mem || fd < 0)
			_exit(10);
		memset(mem, 1, size);
		if (svmx_migrate(fd, mem, size, SVMX_TARGET_SELF, NULL))
			_exit(11);
		if (write(go[1], "x", 1) != 1)
			_exit(12);
		pause();	/* killed by the parent, binding still open */
		_exit(13);
	}
	close(go[1]);
	ASSERT_EQ(1, read(go[0], &x, 1));
	close(go[0]);
	/* The child bound device 1 (or 0 with one device): check that one. */
	{
		int probe1 = svmx_open(1);
		int p = probe1 >= 0 ? probe1 : self->probe;
		uint64_t base = probe1 >= 0 ? 0 : before;

		EXPECT_GE(resident(_metadata, p), base + n);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		EXPECT_TRUE(WIFSIGNALED(status));
		EXPECT_EQ(base, resident(_metadata, p));
		if (probe1 >= 0)
			close(probe1);
	}
}

TEST_HARNESS_MAIN
