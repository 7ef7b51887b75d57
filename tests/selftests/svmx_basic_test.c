// SPDX-License-Identifier: GPL-2.0
/*
 * Basic svmx device tests: the devices exist, answer the version ioctl and
 * reject unknown ioctls, and the svmx tracepoints fire.
 */
/*
 * GCC 12 warns that the harness's own 'child' in the TEST_F wrapper
 * might be clobbered by its setjmp, depending on how it inlines the
 * test; tests/tools/Makefile turns the warning off for the same reason.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "svmx_lib.h"

FIXTURE(device)
{
	int fd;
};

FIXTURE_VARIANT(device)
{
	int dev;
};

FIXTURE_VARIANT_ADD(device, dev0) { .dev = 0 };
FIXTURE_VARIANT_ADD(device, dev1) { .dev = 1 };

FIXTURE_SETUP(device)
{
	self->fd = svmx_open(variant->dev);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "/dev/svmx%d not present", variant->dev);
	ASSERT_GE(self->fd, 0);
}

FIXTURE_TEARDOWN(device)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The version ioctl reports the ABI and this device's identity. */
TEST_F(device, version)
{
	struct svmx_version v;

	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, svmx_ioctl(self->fd, SVMX_IOC_VERSION, &v));
	EXPECT_EQ(SVMX_ABI_MAJOR, v.major);
	EXPECT_EQ(SVMX_ABI_MINOR, v.minor);
	EXPECT_EQ((unsigned int)variant->dev, v.device);
	EXPECT_GT(v.nr_devices, (unsigned int)variant->dev);
	EXPECT_GE(v.mem_bytes, 2ULL << 20);
	EXPECT_EQ(0, v.mem_bytes % (2ULL << 20));
	EXPECT_EQ(0U, v.reserved);
}

/* A bad pointer gets -EFAULT, an unknown command -ENOTTY. */
TEST_F(device, bad_ioctls)
{
	EXPECT_EQ(-EFAULT, svmx_ioctl(self->fd, SVMX_IOC_VERSION, (void *)8));
	EXPECT_EQ(-ENOTTY, svmx_ioctl(self->fd, _IO(SVMX_IOC_MAGIC, 0x7f), NULL));
	EXPECT_EQ(-ENOTTY, svmx_ioctl(self->fd, _IO('x', 0), NULL));
}

/* svmx:svmx_ioctl fires with the device, command and result. */
TEST_F(device, tracepoint_ioctl)
{
	struct svmx_version v;
	char want[128], *trace;

	if (access(TRACEFS "/events/svmx/svmx_ioctl/enable", W_OK))
		SKIP(return, "tracefs or svmx events not available");
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/events/svmx/svmx_ioctl/enable", "1"));
	ASSERT_EQ(0, svmx_ioctl(self->fd, SVMX_IOC_VERSION, &v));
	EXPECT_EQ(-ENOTTY, svmx_ioctl(self->fd, _IO(SVMX_IOC_MAGIC, 0x7f), NULL));
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/events/svmx/svmx_ioctl/enable", "0"));

	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want), "svmx_ioctl: dev=%d cmd=%#x nr=0 ret=0",
		 variant->dev, (unsigned int)SVMX_IOC_VERSION);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("missing '%s' in trace", want);
	snprintf(want, sizeof(want), "svmx_ioctl: dev=%d cmd=%#x nr=127 ret=-25",
		 variant->dev, (unsigned int)_IO(SVMX_IOC_MAGIC, 0x7f));
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("missing '%s' in trace", want);
	free(trace);
}

/*
 * svmx:svmx_exec_op fires once per operation of an EXEC call, with the
 * call's bounds and the operation's fields, and not for a call refused
 * by its checks.
 */
TEST_F(device, tracepoint_exec_op)
{
	static char mem[2 * 4096] __attribute__((aligned(4096)));
	struct svmx_bind b = { 0 };
	struct svmx_op ops[2] = {
		{ .opcode = SVMX_OP_FILL, .length = 4096, .value = 0x5a },
		{ .opcode = SVMX_OP_ATOMIC_ADD, .length = 2, .stride = 4096, .value = 3 },
	};
	struct svmx_exec e = { .ops = (uintptr_t)ops, .nr_ops = 2 };
	char want[256], *trace;

	if (access(TRACEFS "/events/svmx/svmx_exec_op/enable", W_OK))
		SKIP(return, "tracefs or svmx events not available");
	ops[0].addr = (uintptr_t)mem;
	ops[1].addr = (uintptr_t)mem + 8;
	ASSERT_EQ(0, svmx_ioctl(self->fd, SVMX_IOC_BIND, &b));
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/trace", ""));
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/events/svmx/svmx_exec_op/enable", "1"));
	EXPECT_EQ(0, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	ops[1].opcode = 99;	/* refused before anything runs: no event */
	EXPECT_EQ(-EINVAL, svmx_ioctl(self->fd, SVMX_IOC_EXEC, &e));
	ASSERT_EQ(0, svmx_write_file(TRACEFS "/events/svmx/svmx_exec_op/enable", "0"));

	trace = svmx_read_trace();
	ASSERT_NE(NULL, trace);
	snprintf(want, sizeof(want),
		 "svmx_exec_op: dev=%d idx=0 nr_ops=2 opcode=4 addr=%#lx length=4096 stride=0 value=0x5a addr2=0x0 buf=0x0",
		 variant->dev, (unsigned long)mem);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("missing '%s' in trace", want);
	snprintf(want, sizeof(want),
		 "svmx_exec_op: dev=%d idx=1 nr_ops=2 opcode=3 addr=%#lx length=2 stride=4096 value=0x3",
		 variant->dev, (unsigned long)mem + 8);
	EXPECT_NE(NULL, strstr(trace, want)) TH_LOG("missing '%s' in trace", want);
	EXPECT_EQ(NULL, strstr(trace, "opcode=99"));
	EXPECT_EQ(NULL, strstr(strstr(trace, "idx=1 ") ?: trace, "idx=0 "))
		TH_LOG("an event for the refused call");
	free(trace);
}

TEST_HARNESS_MAIN
