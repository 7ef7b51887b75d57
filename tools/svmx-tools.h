/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the svmx user-space tools. */
#ifndef SVMX_TOOLS_H
#define SVMX_TOOLS_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
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

/*
 * The device memory of /dev/svmx<dev>, in bytes (SVMX_IOC_VERSION; no
 * bind).  Return: 0 or a negative errno (-ENOENT: no such device).
 */
static inline int svmx_device_mem_bytes(unsigned int dev, uint64_t *bytes)
{
	struct svmx_version ver = { 0 };
	char path[32];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/dev/svmx%u", dev);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SVMX_IOC_VERSION, &ver))
		ret = -errno;
	close(fd);
	*bytes = ver.mem_bytes;
	return ret;
}

/* The counters of struct svmx_counters, in its order. */
#define SVMX_NR_COUNTERS	(sizeof(struct svmx_counters) / sizeof(__u64))

/*
 * The name of counter @i of struct svmx_counters, as SVMX_IOC_STATS
 * fills it and debugfs and the tools' JSON spell it.
 */
static inline const char *svmx_counter_name(unsigned int i)
{
	static const char *const names[] = {
		"faults", "fault_batches", "pages_to_device", "pages_to_system",
		"bytes_to_device", "bytes_to_system", "copy_cmds", "evictions",
		"evicted_pages", "local_accesses", "remote_accesses", "peer_accesses",
		"cpu_faults", "pingpong", "policy_fallbacks", "modeled_ns",
		"preemptions", "evictions_pressure", "evictions_prefetch",
		"evictions_request", "evictions_failed",
	};

	_Static_assert(sizeof(names) / sizeof(names[0]) == SVMX_NR_COUNTERS,
		       "a counter of struct svmx_counters has no name");
	return i < SVMX_NR_COUNTERS ? names[i] : NULL;
}

#endif /* SVMX_TOOLS_H */
