// SPDX-License-Identifier: GPL-2.0
/*
 * Basic svmx device tests: the devices exist, answer the version ioctl and
 * reject unknown ioctls, and the svmx tracepoints fire.
 */
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

TEST_HARNESS_MAIN
