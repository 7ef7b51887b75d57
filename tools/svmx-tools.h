/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the svmx user-space tools. */
#ifndef SVMX_TOOLS_H
#define SVMX_TOOLS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <uapi/svmx.h>

/*
 * Open /dev/svmx<dev> and bind the calling process to it.  Fails with
 * -ENOSPC when the device has less than @need_bytes of memory.
 * Return: the file descriptor or a negative errno.
 */
static inline int svmx_open_bound(unsigned int dev, size_t need_bytes)
{
	struct svmx_version ver = { 0 };
	struct svmx_bind bind = { 0 };
	char path[32];
	int fd, ret;

	snprintf(path, sizeof(path), "/dev/svmx%u", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, SVMX_IOC_VERSION, &ver) ? -errno : 0;
	if (!ret && ver.mem_bytes < need_bytes)
		ret = -ENOSPC;
	if (!ret && ioctl(fd, SVMX_IOC_BIND, &bind))
		ret = -errno;
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

#endif /* SVMX_TOOLS_H */
