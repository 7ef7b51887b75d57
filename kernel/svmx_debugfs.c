// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: debugfs
 *
 * /sys/kernel/debug/svmx/: per-device counters and blocks, the evict_all
 * request, per-cgroup counters, and the in-kernel copy benchmark that make
 * bench compares migration throughput against.
 */
#include <linux/bitfield.h>
#include <linux/cgroup.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/migrate.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "svmx.h"
#include "svmx_trace.h"

static struct dentry *svmx_debugfs_root;

/* ---------------------------------------------------------------------
 * debugfs: /sys/kernel/debug/svmx/svmxN/{stats,blocks,evict_all}, and the
 * fault-injection attributes /sys/kernel/debug/svmx/fail_* (svmx_devmem.c)
 */

static const char * const svmx_counter_names[] = {
	"faults", "fault_batches", "pages_to_device", "pages_to_system",
	"bytes_to_device", "bytes_to_system", "copy_cmds", "evictions",
	"evicted_pages", "local_accesses", "remote_accesses", "peer_accesses",
	"cpu_faults", "pingpong", "policy_fallbacks", "modeled_ns",
	"preemptions", "evictions_pressure", "evictions_prefetch",
	"evictions_request", "evictions_failed",
};

static int svmx_stats_show(struct seq_file *m, void *unused)
{
	struct svmx_device *sdev = m->private;
	struct svmx_counters c;
	u64 blocks, used, *v = (u64 *)&c;
	unsigned int i;

	BUILD_BUG_ON(ARRAY_SIZE(svmx_counter_names) * sizeof(u64) != sizeof(c));
	spin_lock(&sdev->lock);
	c = sdev->stats;
	blocks = sdev->nr_blocks;
	used = sdev->used_pages;
	spin_unlock(&sdev->lock);
	for (i = 0; i < ARRAY_SIZE(svmx_counter_names); i++)
		seq_printf(m, "%s=%llu\n", svmx_counter_names[i], v[i]);
	seq_printf(m, "mem_bytes=%llu\n", (u64)sdev->npages << PAGE_SHIFT);
	seq_printf(m, "mem_used_bytes=%llu\n", used << PAGE_SHIFT);
	seq_printf(m, "mem_free_bytes=%llu\n", svmx_devmem_free_bytes(sdev));
	seq_printf(m, "blocks=%llu\n", blocks);
	seq_printf(m, "resident_pages=%llu\n", svmx_resident_pages(sdev));
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(svmx_stats);

static int svmx_blocks_show(struct seq_file *m, void *unused)
{
	struct svmx_device *sdev = m->private;
	struct svmx_block *block;

	spin_lock(&sdev->lock);
	list_for_each_entry(block, &sdev->lru, lru)
		seq_printf(m, "block=0x%lx order=%u refs=%u epoch=%llu\n",
			   block->pfn, block->order,
			   refcount_read(&block->refs), block->epoch);
	spin_unlock(&sdev->lock);
	return 0;
}

DEFINE_SHOW_ATTRIBUTE(svmx_blocks);

static ssize_t svmx_evict_all_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	struct svmx_device *sdev = file_inode(file)->i_private;
	struct svmx_counters cnt = {};
	int ret;

	ret = svmx_evict_all(sdev, SVMX_EVICT_REQUEST, &cnt);
	svmx_device_account(sdev, &cnt);
	return ret ? ret : len;
}

static const struct file_operations svmx_evict_all_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = svmx_evict_all_write,
	.llseek = noop_llseek,
};

/*
 * copybench: the physical limit of a CPU copy engine, for make bench.
 * Writing N copies N scattered system pages into 2 MiB blocks (the shape
 * of a migration to svmx device memory) and back; reading reports
 * "pages=N to_block_ns=T from_block_ns=T".
 */
static DEFINE_MUTEX(svmx_copybench_lock);

static u64 svmx_copybench_result[3];

static int svmx_copybench_run(unsigned long npages)
{
	unsigned long nblocks = DIV_ROUND_UP(npages, 1UL << SVMX_CHUNK_ORDER), i;
	struct page **pages, **blocks;
	int ret = -ENOMEM;
	u64 t0, t1, t2;

	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL);
	blocks = kcalloc(nblocks, sizeof(*blocks), GFP_KERNEL);
	if (!pages || !blocks)
		goto out;
	for (i = 0; i < npages; i++) {
		pages[i] = alloc_page(GFP_HIGHUSER);
		if (!pages[i])
			goto out;
	}
	for (i = 0; i < nblocks; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, SVMX_CHUNK_ORDER);
		if (!blocks[i])
			goto out;
	}
	t0 = ktime_get_ns();
	for (i = 0; i < npages; i++)
		copy_highpage(blocks[i >> SVMX_CHUNK_ORDER] +
			      (i & ((1UL << SVMX_CHUNK_ORDER) - 1)), pages[i]);
	t1 = ktime_get_ns();
	for (i = 0; i < npages; i++)
		copy_highpage(pages[i], blocks[i >> SVMX_CHUNK_ORDER] +
			      (i & ((1UL << SVMX_CHUNK_ORDER) - 1)));
	t2 = ktime_get_ns();
	svmx_copybench_result[0] = npages;
	svmx_copybench_result[1] = t1 - t0;
	svmx_copybench_result[2] = t2 - t1;
	ret = 0;
out:
	for (i = 0; blocks && i < nblocks && blocks[i]; i++)
		__free_pages(blocks[i], SVMX_CHUNK_ORDER);
	for (i = 0; pages && i < npages && pages[i]; i++)
		__free_page(pages[i]);
	kfree(blocks);
	kvfree(pages);
	return ret;
}

static ssize_t svmx_copybench_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	unsigned long npages;
	int ret;

	ret = kstrtoul_from_user(ubuf, len, 0, &npages);
	if (ret)
		return ret;
	if (!npages || npages > (1UL << 18))
		return -EINVAL;
	mutex_lock(&svmx_copybench_lock);
	ret = svmx_copybench_run(npages);
	mutex_unlock(&svmx_copybench_lock);
	return ret ? ret : len;
}

static int svmx_copybench_show(struct seq_file *m, void *unused)
{
	mutex_lock(&svmx_copybench_lock);
	seq_printf(m, "pages=%llu to_block_ns=%llu from_block_ns=%llu\n",
		   svmx_copybench_result[0], svmx_copybench_result[1],
		   svmx_copybench_result[2]);
	mutex_unlock(&svmx_copybench_lock);
	return 0;
}

static int svmx_copybench_open(struct inode *inode, struct file *file)
{
	return single_open(file, svmx_copybench_show, NULL);
}

static const struct file_operations svmx_copybench_fops = {
	.owner = THIS_MODULE,
	.open = svmx_copybench_open,
	.read = seq_read,
	.write = svmx_copybench_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/* ---------------------------------------------------------------------
 * debugfs: /sys/kernel/debug/svmx/cgroups, one line per cgroup that
 * contexts were bound from: its id, path, live contexts and totals
 */

static void svmx_cgroup_show(const struct svmx_cgroup *scg,
			     const struct svmx_counters *stats, void *arg)
{
	struct seq_file *m = arg;
	const u64 *v = (const u64 *)stats;
	char path[256];
	unsigned int i;

	if (cgroup_path(scg->cgrp, path, sizeof(path)) < 0)
		strscpy(path, "?", sizeof(path));
	seq_printf(m, "cgroup=%llu path=%s contexts=%u", scg->id, path, scg->users);
	for (i = 0; i < ARRAY_SIZE(svmx_counter_names); i++)
		seq_printf(m, " %s=%llu", svmx_counter_names[i], v[i]);
	seq_putc(m, '\n');
}

static int svmx_cgroups_show(struct seq_file *m, void *unused)
{
	svmx_cgroups_walk(svmx_cgroup_show, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(svmx_cgroups);

/**
 * svmx_debugfs_create() - create /sys/kernel/debug/svmx
 *
 * With the copy benchmark and the fault-injection attributes; the devices'
 * directories follow with svmx_debugfs_device_add().
 *
 * Return: the directory, for the BPF glue's policy file.
 */
struct dentry *svmx_debugfs_create(void)
{
	svmx_debugfs_root = debugfs_create_dir("svmx", NULL);
	debugfs_create_file("copybench", 0600, svmx_debugfs_root, NULL,
			    &svmx_copybench_fops);
	debugfs_create_file("cgroups", 0444, svmx_debugfs_root, NULL,
			    &svmx_cgroups_fops);
	svmx_fault_inject_init(svmx_debugfs_root);
	return svmx_debugfs_root;
}

/**
 * svmx_debugfs_remove() - remove /sys/kernel/debug/svmx and all below it
 */
void svmx_debugfs_remove(void)
{
	debugfs_remove_recursive(svmx_debugfs_root);
}

/**
 * svmx_debugfs_device_add() - a device's directory: stats, blocks, evict_all
 * @sdev: the device
 */
void svmx_debugfs_device_add(struct svmx_device *sdev)
{
	sdev->debugfs = debugfs_create_dir(sdev->name, svmx_debugfs_root);
	debugfs_create_file("stats", 0444, sdev->debugfs, sdev, &svmx_stats_fops);
	debugfs_create_file("blocks", 0444, sdev->debugfs, sdev, &svmx_blocks_fops);
	debugfs_create_file("evict_all", 0200, sdev->debugfs, sdev,
			    &svmx_evict_all_fops);
}

/**
 * svmx_debugfs_device_remove() - remove a device's directory
 * @sdev: the device
 */
void svmx_debugfs_device_remove(struct svmx_device *sdev)
{
	debugfs_remove_recursive(sdev->debugfs);
}
