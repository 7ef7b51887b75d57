// SPDX-License-Identifier: GPL-2.0
/*
 * SVMX_IOC_EXEC's end: work over memory the device already maps, which
 * never faults, still dies promptly when the process is killed.
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
	self->fd = svmx_open_bound(DEV);
	if (self->fd == -ENOENT)
		SKIP(return, "/dev/svmx%d not present", DEV);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(exec)
{
	if (self->fd >= 0)
		close(self->fd);
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
