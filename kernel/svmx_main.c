// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Overview
 *
 * svmx implements the migration and eviction core of GPU shared virtual
 * memory on top of HMM, for virtual accelerators whose memory is
 * device-private ZONE_DEVICE memory.  This file owns the module: its
 * parameters, the /dev/svmxN character devices and the ioctl dispatcher.
 */
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "svmx.h"

#define CREATE_TRACE_POINTS
#include "svmx_trace.h"

static unsigned int nr_devices = 2;
module_param(nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of virtual devices (1-8, default 2)");

static unsigned int mem_mb = 256;
module_param(mem_mb, uint, 0444);
MODULE_PARM_DESC(mem_mb, "Device memory per device in MiB (2-65536, default 256)");

static unsigned int hive_mask;
module_param(hive_mask, uint, 0444);
MODULE_PARM_DESC(hive_mask, "Bit i set: device i is in the hive; hive members map each other's memory (default 0: no hive)");

/**
 * struct svmx_device - one virtual accelerator
 * @id: index N of /dev/svmxN
 * @name: "svmxN"
 * @misc: the character device
 */
struct svmx_device {
	unsigned int id;
	char name[16];
	struct miscdevice misc;
};

static struct svmx_device *svmx_devices[SVMX_MAX_DEVICES];

static struct svmx_device *svmx_file_device(struct file *file)
{
	return container_of(file->private_data, struct svmx_device, misc);
}

static long svmx_ioctl_version(struct svmx_device *sdev, void __user *uarg)
{
	struct svmx_version v = {
		.major = SVMX_ABI_MAJOR,
		.minor = SVMX_ABI_MINOR,
		.device = sdev->id,
		.nr_devices = nr_devices,
		.mem_bytes = (u64)mem_mb << 20,
		.hive_mask = (hive_mask & BIT(sdev->id)) ? hive_mask : 0,
	};

	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long svmx_fop_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct svmx_device *sdev = svmx_file_device(file);
	void __user *uarg = (void __user *)arg;
	long ret;

	switch (cmd) {
	case SVMX_IOC_VERSION:
		ret = svmx_ioctl_version(sdev, uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	trace_svmx_ioctl(sdev->id, cmd, ret);
	return ret;
}

static const struct file_operations svmx_fops = {
	.owner		= THIS_MODULE,
	.unlocked_ioctl	= svmx_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static int svmx_device_create(unsigned int id)
{
	struct svmx_device *sdev;
	int ret;

	sdev = kzalloc(sizeof(*sdev), GFP_KERNEL);
	if (!sdev)
		return -ENOMEM;
	sdev->id = id;
	snprintf(sdev->name, sizeof(sdev->name), "svmx%u", id);
	sdev->misc.minor = MISC_DYNAMIC_MINOR;
	sdev->misc.name = sdev->name;
	sdev->misc.fops = &svmx_fops;
	sdev->misc.mode = 0666;
	ret = misc_register(&sdev->misc);
	if (ret) {
		kfree(sdev);
		return ret;
	}
	svmx_devices[id] = sdev;
	return 0;
}

static void svmx_device_destroy(unsigned int id)
{
	struct svmx_device *sdev = svmx_devices[id];

	if (!sdev)
		return;
	misc_deregister(&sdev->misc);
	kfree(sdev);
	svmx_devices[id] = NULL;
}

static int svmx_params_check(void)
{
	if (nr_devices < 1 || nr_devices > SVMX_MAX_DEVICES) {
		pr_err("svmx: nr_devices=%u outside 1..%u\n", nr_devices,
		       SVMX_MAX_DEVICES);
		return -EINVAL;
	}
	if (mem_mb < 2 || mem_mb > 65536 || mem_mb % 2) {
		pr_err("svmx: mem_mb=%u must be even and within 2..65536\n", mem_mb);
		return -EINVAL;
	}
	if (hive_mask & ~GENMASK(nr_devices - 1, 0)) {
		pr_err("svmx: hive_mask=%#x names devices beyond nr_devices=%u\n",
		       hive_mask, nr_devices);
		return -EINVAL;
	}
	return 0;
}

static int __init svmx_init(void)
{
	unsigned int i;
	int ret;

	ret = svmx_params_check();
	if (ret)
		return ret;
	for (i = 0; i < nr_devices; i++) {
		ret = svmx_device_create(i);
		if (ret)
			goto err_destroy;
	}
	pr_info("svmx: %u devices, %u MiB each, hive_mask=%#x\n", nr_devices,
		mem_mb, hive_mask);
	return 0;

err_destroy:
	while (i--)
		svmx_device_destroy(i);
	return ret;
}

static void __exit svmx_exit(void)
{
	unsigned int i;

	for (i = 0; i < nr_devices; i++)
		svmx_device_destroy(i);
	pr_info("svmx: unloaded\n");
}

module_init(svmx_init);
module_exit(svmx_exit);
MODULE_DESCRIPTION("svmx: HMM migration core for GPU shared virtual memory");
MODULE_LICENSE("GPL");
