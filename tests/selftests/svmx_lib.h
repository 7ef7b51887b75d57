/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the svmx selftests. */
#ifndef SVMX_LIB_H
#define SVMX_LIB_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/svmx.h>

/*
 * kselftest_harness.h gives every test 30 s unless it says otherwise: a
 * speed requirement that the debug kernel under emulation (KASAN, lockdep;
 * migrations up to 30 times slower than on the base kernel) can miss.
 * Tests are bounded by their work; the timeout only catches a hang, and
 * fails it loudly, so it is generous.  Include after the harness.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT	300
#endif

static inline int svmx_open(int dev)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/svmx%d", dev);
	return open(path, O_RDWR | O_CLOEXEC);
}

/* ioctl() returning -errno, so tests compare against -EINVAL etc. */
static inline int svmx_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

#define TRACEFS "/sys/kernel/tracing"

/*
 * Write @s to @path (sysfs, debugfs, tracefs, cgroupfs).  Return: 0, the
 * write's -errno, or -EIO when the file took less than all of @s.
 */
static inline int svmx_write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* Read the whole trace buffer into a malloc'd string. */
static inline char *svmx_read_trace(void)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	int fd;

	fd = open(TRACEFS "/trace", O_RDONLY);
	if (fd < 0 || !buf) {
		free(buf);
		return NULL;
	}
	while ((n = read(fd, buf + len, cap - len - 1)) > 0) {
		len += n;
		if (cap - len < 4096) {
			char *nbuf = realloc(buf, cap *= 2);

			if (!nbuf)
				break;
			buf = nbuf;
		}
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

#endif /* SVMX_LIB_H */
