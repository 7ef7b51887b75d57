// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Overview
 *
 * svmx implements the migration and eviction core of GPU shared virtual
 * memory on top of HMM, for virtual accelerators whose memory is
 * device-private ZONE_DEVICE memory.  This file owns the module: its
 * parameters, creating and publishing the devices, init and exit.
 *
 * Files by concern, bottom-up; each calls only those before it:
 * svmx_chunk.c and svmx_cost.c (pure arithmetic), svmx_registry.c (the
 * device table and accounting), svmx_pt.c (the device page table),
 * svmx_region.c (region history and advice: what a policy knows),
 * svmx_policy.c (every decision), svmx_devmem.c (device memory, blocks,
 * refcounts, LRU), svmx_migrate.c (migrate_vma both ways, copies, CPU
 * faults; takes reserved blocks, never evicts), svmx_evict.c (victims,
 * evicting, reserving with eviction), svmx_ctx.c (bind, unbind, the
 * notifier), svmx_fault.c (device faults: reserve, migrate, map; MIGRATE
 * and SNAPSHOT), svmx_exec.c (the execution engine), svmx_ioctl.c (the
 * ioctl layer), svmx_sysfs.c and svmx_debugfs.c, and this file.
 */
#include <kunit/visibility.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "svmx.h"
#include "svmx_bpf.h"

#define CREATE_TRACE_POINTS
#include "svmx_trace.h"

static unsigned int mem_mb = 256;

module_param(mem_mb, uint, 0444);

MODULE_PARM_DESC(mem_mb, "Device memory per device in MiB (2-65536, even, default 256)");

static unsigned int hive_mask;

module_param(hive_mask, uint, 0444);

MODULE_PARM_DESC(hive_mask, "Bit i set: device i is in the hive; hive members map each other's memory (default 0: no hive)");

/* The pgmap owner shared by hive members; its address is the identity. */
static char svmx_hive_owner;

/* ---------------------------------------------------------------------
 * Devices and the module
 */

/*
 * Device memory's callbacks: a device page is freed (device memory) and a
 * CPU touches a device page (migration).  Set here, at the top, so that
 * device memory calls nothing above it.
 */
static const struct dev_pagemap_ops svmx_pagemap_ops = {
	.page_free	= svmx_devmem_page_free,
	.migrate_to_ram	= svmx_migrate_to_ram,
};

/* A device with its memory, not yet visible to user space. */
static int svmx_device_create(unsigned int id)
{
	struct svmx_device *sdev;
	int ret;

	sdev = kzalloc(sizeof(*sdev), GFP_KERNEL);
	if (!sdev)
		return -ENOMEM;
	sdev->id = id;
	snprintf(sdev->name, sizeof(sdev->name), "svmx%u", id);
	sdev->hive_mask = (hive_mask & BIT(id)) ? hive_mask : 0;
	sdev->owner = sdev->hive_mask ? (void *)&svmx_hive_owner : (void *)sdev;
	sdev->cost = svmx_cost_defaults;
	spin_lock_init(&sdev->lock);
	INIT_LIST_HEAD(&sdev->lru);
	atomic64_set(&sdev->epoch, 1);
	atomic64_set(&sdev->resident, 0);
	mutex_init(&sdev->evict_lock);
	mutex_init(&sdev->bind_lock);
	mutex_init(&sdev->ctx_lock);
	INIT_LIST_HEAD(&sdev->ctxs);

	ret = svmx_devmem_init(sdev, (u64)mem_mb << 20, &svmx_pagemap_ops);
	if (ret) {
		kfree(sdev);
		return ret;
	}
	sdev->misc.minor = MISC_DYNAMIC_MINOR;
	sdev->misc.name = sdev->name;
	sdev->misc.fops = &svmx_fops;
	sdev->misc.groups = svmx_groups;
	sdev->misc.mode = 0666;
	svmx_device_register(sdev);
	return 0;
}

static void svmx_device_destroy(unsigned int id)
{
	struct svmx_device *sdev = svmx_device_get(id);

	if (!sdev)
		return;
	svmx_devmem_fini(sdev);
	pr_info("%s: removed; %llu pages migrated in, %llu out, %llu evictions\n",
		sdev->name, sdev->stats.pages_to_device,
		sdev->stats.pages_to_system, sdev->stats.evictions);
	kfree(sdev);
	svmx_device_unregister(id);
}

/*
 * Devices become visible only once all exist: the ioctl paths walk every
 * device (owners, snapshots) and must never meet a missing one.
 */
static int svmx_devices_publish(void)
{
	unsigned int i;
	int ret;

	for (i = 0; i < svmx_nr_devices; i++) {
		struct svmx_device *sdev = svmx_device_get(i);

		ret = misc_register(&sdev->misc);
		if (ret) {
			while (i--) {
				sdev = svmx_device_get(i);
				svmx_debugfs_device_remove(sdev);
				misc_deregister(&sdev->misc);
			}
			return ret;
		}
		svmx_debugfs_device_add(sdev);
	}
	return 0;
}

static void svmx_devices_unpublish(void)
{
	unsigned int i;

	for (i = 0; i < svmx_nr_devices; i++) {
		struct svmx_device *sdev = svmx_device_get(i);

		svmx_debugfs_device_remove(sdev);
		misc_deregister(&sdev->misc);
	}
}

static int svmx_params_check(void)
{
	if (svmx_nr_devices < 1 || svmx_nr_devices > SVMX_MAX_DEVICES) {
		pr_err("svmx: nr_devices=%u outside 1..%u\n", svmx_nr_devices,
		       SVMX_MAX_DEVICES);
		return -EINVAL;
	}
	if (mem_mb < 2 || mem_mb > 65536 || mem_mb % 2) {
		pr_err("svmx: mem_mb=%u must be even and within 2..65536\n", mem_mb);
		return -EINVAL;
	}
	if (hive_mask & ~GENMASK(svmx_nr_devices - 1, 0)) {
		pr_err("svmx: hive_mask=%#x names devices beyond nr_devices=%u\n",
		       hive_mask, svmx_nr_devices);
		return -EINVAL;
	}
	return 0;
}

static int __init svmx_init(void)
{
	struct dentry *debugfs;
	unsigned int i;
	int ret;

	ret = svmx_params_check();
	if (ret)
		return ret;
	debugfs = svmx_debugfs_create();
	i = 0;
	ret = svmx_bpf_init(debugfs);
	if (ret)
		goto err_destroy;
	for (i = 0; i < svmx_nr_devices; i++) {
		ret = svmx_device_create(i);
		if (ret)
			goto err_destroy;
	}
	ret = svmx_devices_publish();
	if (ret)
		goto err_destroy;
	pr_info("svmx: %u devices, %u MiB each, hive_mask=%#x\n",
		svmx_nr_devices, mem_mb, hive_mask);
	return 0;

err_destroy:
	while (i--)
		svmx_device_destroy(i);
	svmx_bpf_exit();
	svmx_debugfs_remove();
	return ret;
}

static void __exit svmx_exit(void)
{
	unsigned int i;

	svmx_devices_unpublish();
	for (i = 0; i < svmx_nr_devices; i++)
		svmx_device_destroy(i);
	svmx_bpf_exit();
	svmx_debugfs_remove();
	svmx_cgroups_fini();
	pr_info("svmx: unloaded\n");
}

module_init(svmx_init);

module_exit(svmx_exit);

MODULE_DESCRIPTION("svmx: HMM migration core for GPU shared virtual memory");

MODULE_LICENSE("GPL");
