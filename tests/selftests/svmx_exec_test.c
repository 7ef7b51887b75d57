// SPDX-License-Identifier: GPL-2.0
/*
 * SVMX_IOC_EXEC's progress and its end: every return says how far the
 * work got (operations done, the failing operation and the part of it that
 * ran), so that a failed batch of atomics can be resumed with every
 * element added exactly once; and work over memory the device already
 * maps, which never faults, still dies promptly when the process is
 * killed.
 */
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define DEV		0

FIXTURE(exec)
{
	int fd;
	size_t ps;
};

FIXTURE_SETUP(exec)
{
	self->ps = svmx_page_size();
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, DEV);
}

FIXTURE_TEARDOWN(exec)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* SVMX_IOC_EXEC with the whole struct back; 0 or -errno. */
static int exec_full(int fd, struct svmx_op *ops, unsigned int nr, struct svmx_exec *e)
{
	memset(e, 0, sizeof(*e));
	e->ops = svmx_ptr(ops);
	e->nr_ops = nr;
	/* Out fields start as garbage: the call must write them. */
	e->ops_done = 0xdead;
	e->failed_op = 0xdead;
	e->failed_op_done = 0xdead;
	return svmx_ioctl(fd, SVMX_IOC_EXEC, e);
}

/* A successful call: every operation done, none failed. */
TEST_F(exec, progress_on_success)
{
	uint64_t *acc = (uint64_t *)svmx_map_anon(self->ps, MAP_PRIVATE);
	struct svmx_op ops[3];
	struct svmx_exec e;

	ASSERT_NE(NULL, acc);
	ops[0] = svmx_op_atomic(acc, 1, 8, 1);
	ops[1] = svmx_op_fill(acc + 8, 64, 5);
	ops[2] = svmx_op_atomic(acc, 4, 8, 2);
	ASSERT_EQ(0, exec_full(self->fd, ops, 3, &e));
	EXPECT_EQ(3, e.ops_done);
	EXPECT_EQ(SVMX_EXEC_NO_OP, e.failed_op);
	EXPECT_EQ(0, e.failed_op_done);
	EXPECT_EQ(3, acc[0]);
	EXPECT_EQ(2, acc[3]);
	EXPECT_EQ(-1, svmx_words_check(acc + 8, 64, 5));
	munmap(acc, self->ps);
}

/*
 * A batch that fails validation names the operation at fault and runs
 * nothing: a bad flag in op 2, then a range in an unmapped hole in op 1.
 */
TEST_F(exec, progress_on_failed_check)
{
	size_t ps = self->ps;
	char *mem = svmx_map_anon(3 * ps, MAP_PRIVATE);
	uint64_t *acc = (uint64_t *)mem;
	struct svmx_op ops[3];
	struct svmx_exec e;

	ASSERT_NE(NULL, mem);
	ASSERT_EQ(0, munmap(mem + ps, ps));
	ops[0] = svmx_op_atomic(acc, 1, 8, 1);
	ops[1] = svmx_op_atomic(acc + 1, 1, 8, 1);
	ops[2] = svmx_op_atomic(acc + 2, 1, 8, 1);
	ops[2].flags = 1;
	EXPECT_EQ(-EINVAL, exec_full(self->fd, ops, 3, &e));
	EXPECT_EQ(0, e.ops_done);
	EXPECT_EQ(2, e.failed_op);
	EXPECT_EQ(0, e.failed_op_done);

	ops[2].flags = 0;
	ops[1] = svmx_op_fill(mem + ps, 64, 1);
	EXPECT_EQ(-EFAULT, exec_full(self->fd, ops, 3, &e));
	EXPECT_EQ(0, e.ops_done);
	EXPECT_EQ(1, e.failed_op);
	EXPECT_EQ(0, e.failed_op_done);
	EXPECT_EQ(0, e.counters.local_accesses + e.counters.remote_accesses);
	EXPECT_EQ(0, acc[0]);
	EXPECT_EQ(0, acc[2]);
	munmap(mem, ps);
	munmap(mem + 2 * ps, ps);
}

/*
 * A failure in the middle of a batch: op 3 runs into the page of a shared
 * mapping that lies past the end of its file (the VMA allows the access,
 * the fault gets SIGBUS), after some of its elements were added.  The call
 * reports 3 operations done, op 3 failed after its first elements, and
 * counters; exactly that much took effect.  Resuming at that point (after
 * the file grew) adds every element exactly once.
 */
static void mid_batch_failure(struct __test_metadata *_metadata,
			      FIXTURE_DATA(exec) *self, bool copy)
{
	size_t ps = self->ps, first = 8, n = 24, i;
	uint64_t *acc = (uint64_t *)svmx_map_anon(ps, MAP_PRIVATE);
	uint64_t *src = (uint64_t *)svmx_map_anon(ps, MAP_PRIVATE);
	int memfd = memfd_create("svmx-exec", MFD_CLOEXEC);
	uint64_t *shm, *tail;
	struct svmx_op ops[5];
	struct svmx_exec e;

	ASSERT_NE(NULL, acc);
	ASSERT_NE(NULL, src);
	ASSERT_GE(memfd, 0);
	ASSERT_EQ(0, ftruncate(memfd, ps));
	shm = svmx_map_guarded(2 * ps, ps, 0, PROT_READ | PROT_WRITE, MAP_SHARED, memfd);
	ASSERT_NE(NULL, shm);
	/* The last @first words of the file's page, then past its end. */
	tail = shm + ps / 8 - first;
	/*
	 * The CPU maps the file's page first: hmm_range_fault() faults in
	 * every page of an empty page-table range, the one past the end of
	 * the file too, which would fail op 2 already.
	 */
	shm[0] = 0;
	for (i = 0; i < n; i++)
		src[i] = 1000 + i;
	/*
	 * The source is in the device's page table too, so that the pieces
	 * before the hole run without a fault: a fault batch holding the
	 * hole's fault as well would fail before any piece of op 3 ran.
	 */
	ASSERT_EQ(0, svmx_migrate(self->fd, src, ps, SVMX_TARGET_SELF, NULL));

	ops[0] = svmx_op_atomic(acc, 1, 8, 1);
	ops[1] = svmx_op_atomic(acc + 1, 8, 8, 10);
	/* Maps the file's page writable in the device before op 3 runs. */
	ops[2] = svmx_op_fill(shm, 64, 0);
	ops[3] = copy ? svmx_op_copy(src, n * 8, tail) : svmx_op_atomic(tail, n, 8, 3);
	ops[4] = svmx_op_atomic(acc, 1, 8, 100);
	ASSERT_EQ(-EFAULT, exec_full(self->fd, ops, 5, &e));
	EXPECT_EQ(3, e.ops_done);
	EXPECT_EQ(3, e.failed_op);
	/* Elements (bytes for COPY) in the file's page ran, none beyond. */
	EXPECT_EQ(copy ? first * 8 : first, e.failed_op_done);
	/* The counters of the failed call were copied out too. */
	EXPECT_GT(e.counters.faults, 0);
	EXPECT_GE(e.counters.local_accesses + e.counters.remote_accesses, 3);
	EXPECT_EQ(1, acc[0]);
	for (i = 1; i <= 8; i++)
		EXPECT_EQ(10, acc[i]) TH_LOG("acc[%zu]", i);
	for (i = 0; i < first; i++)
		EXPECT_EQ(copy ? 1000 + i : 3, tail[i]) TH_LOG("element %zu", i);

	/* Resume where it stopped, once the file covers the rest. */
	ASSERT_EQ(0, ftruncate(memfd, 2 * ps));
	if (copy) {
		ops[3].addr += e.failed_op_done;
		ops[3].addr2 += e.failed_op_done;
	} else {
		ops[3].addr += e.failed_op_done * ops[3].stride;
	}
	ops[3].length -= e.failed_op_done;
	ASSERT_EQ(0, exec_full(self->fd, ops + 3, 2, &e));
	EXPECT_EQ(2, e.ops_done);
	EXPECT_EQ(101, acc[0]);
	for (i = 1; i <= 8; i++)
		EXPECT_EQ(10, acc[i]) TH_LOG("acc[%zu]", i);
	for (i = 0; i < n; i++)
		EXPECT_EQ(copy ? 1000 + i : 3, tail[i]) TH_LOG("element %zu", i);
	munmap(shm, 2 * ps);
	close(memfd);
	munmap(acc, ps);
	munmap(src, ps);
}

TEST_F(exec, progress_on_failure_atomic)
{
	mid_batch_failure(_metadata, self, false);
}

TEST_F(exec, progress_on_failure_copy)
{
	mid_batch_failure(_metadata, self, true);
}

/* The killed child's huge EXEC: 4096 passes over a 1 GiB view of 2 MiB. */
#define KILL_CHUNK	(2UL << 20)
#define KILL_SPAN	(1UL << 30)
/* Polls, 100 ms apart, for the child to go once killed: the timeout. */
#define KILL_POLLS	1200

/*
 * The child maps one 2 MiB memfd 512 times over 1 GiB, has the device map
 * all of it (system memory, mapped remotely), and then runs 4096 atomics
 * of one element per page over the 1 GiB: 2^30 pieces that never fault,
 * minutes even at native speed.  Returns only if the call ends.
 */
static int kill_child(int memfd, int ready)
{
	size_t ps = svmx_page_size();
	unsigned long pages = KILL_SPAN / ps, i;
	struct svmx_op *ops = calloc(SVMX_EXEC_MAX_OPS, sizeof(*ops));
	int fd = svmx_open_bound(DEV);
	char *view;

	if (fd < 0 || !ops)
		return 2;
	view = mmap(NULL, KILL_SPAN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		    -1, 0);
	if (view == MAP_FAILED)
		return 3;
	for (i = 0; i < KILL_SPAN / KILL_CHUNK; i++)
		if (mmap(view + i * KILL_CHUNK, KILL_CHUNK, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, memfd, 0) == MAP_FAILED)
			return 4;
	if (svmx_advise(fd, view, KILL_SPAN, SVMX_ADVISE_PREFERRED_LOCATION,
			SVMX_TARGET_SYSTEM))
		return 5;
	/* Map the whole view in the device: +1 per view page. */
	if (svmx_exec1(fd, svmx_op_atomic(view, pages, ps, 1), NULL))
		return 6;
	for (i = 0; i < SVMX_EXEC_MAX_OPS; i++)
		ops[i] = svmx_op_atomic(view, pages, ps, 1);
	if (write(ready, "r", 1) != 1)
		return 7;
	svmx_exec(fd, ops, SVMX_EXEC_MAX_OPS, NULL);
	return 1;
}

/*
 * SIGKILL ends an EXEC that never faults: the child running 2^30 mapped
 * pieces dies within the timeout (KILL_POLLS), killed by the signal.
 */
TEST_F_TIMEOUT(exec, kill_mapped_work, 900)
{
	size_t ps = self->ps;
	unsigned long views = KILL_SPAN / KILL_CHUNK;
	int memfd = memfd_create("svmx-kill", MFD_CLOEXEC), p[2], status = 0, i;
	volatile uint64_t *word;
	uint64_t before, last, now;
	pid_t pid, got = 0;
	char c;

	ASSERT_GE(memfd, 0);
	ASSERT_EQ(0, ftruncate(memfd, KILL_CHUNK));
	word = mmap(NULL, KILL_CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	ASSERT_NE(MAP_FAILED, word);
	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		close(p[0]);
		_exit(kill_child(memfd, p[1]));
	}
	close(p[1]);
	/* The child mapped the view in the device (a blocking read). */
	ASSERT_EQ(1, read(p[0], &c, 1)) {
		waitpid(pid, &status, 0);
		TH_LOG("child set-up failed: exit %d", WEXITSTATUS(status));
	}
	close(p[0]);
	last = word[ps / 8 * (KILL_CHUNK / ps - 1)];
	EXPECT_EQ(views, last);
	/* The huge call is running once the first page's word moves. */
	before = word[0];
	EXPECT_LE(views, before);
	for (i = 0; i < KILL_POLLS && word[0] == before; i++)
		usleep(100000);
	now = word[0];
	ASSERT_NE(before, now) TH_LOG("timeout: the child's EXEC did not start");

	ASSERT_EQ(0, kill(pid, SIGKILL));
	for (i = 0; i < KILL_POLLS && !got; i++) {
		got = waitpid(pid, &status, WNOHANG);
		if (!got)
			usleep(100000);
	}
	ASSERT_EQ(pid, got)
		TH_LOG("timeout: child %d still running %d s after SIGKILL (EXEC over mapped memory does not see the kill)",
		       pid, KILL_POLLS / 10);
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(SIGKILL, WTERMSIG(status));
	munmap((void *)word, KILL_CHUNK);
	close(memfd);
}

TEST_HARNESS_MAIN
