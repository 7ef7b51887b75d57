// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Overview
 *
 * svmx implements the migration and eviction core of GPU shared virtual
 * memory on top of HMM, for virtual accelerators whose memory is
 * device-private ZONE_DEVICE memory.  This file owns the module: its
 * parameters, the /dev/svmxN character devices, the ioctl layer (argument
 * validation, copy in and out), the sysfs cost parameters and debugfs.
 *
 * The mechanism lives in svmx_devmem.c (device memory, blocks, eviction),
 * svmx_migrate.c (migrations and the copy engine), svmx_fault.c (device
 * faults and the device page table), svmx_exec.c (the execution engine)
 * and svmx_ctx.c (bindings, notifier, advice); every decision is taken in
 * svmx_policy.c.
 */
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

unsigned int svmx_nr_devices = 2;
module_param_named(nr_devices, svmx_nr_devices, uint, 0444);
MODULE_PARM_DESC(nr_devices, "Number of virtual devices (1-8, default 2)");

static unsigned int mem_mb = 256;
module_param(mem_mb, uint, 0444);
MODULE_PARM_DESC(mem_mb, "Device memory per device in MiB (2-65536, even, default 256)");

static unsigned int hive_mask;
module_param(hive_mask, uint, 0444);
MODULE_PARM_DESC(hive_mask, "Bit i set: device i is in the hive; hive members map each other's memory (default 0: no hive)");

static struct svmx_device *svmx_devices[SVMX_MAX_DEVICES];
static struct dentry *svmx_debugfs_root;
/* The pgmap owner shared by hive members; its address is the identity. */
static char svmx_hive_owner;

/**
 * svmx_device_get() - a device by index
 * @id: index below svmx_nr_devices
 *
 * Return: the device.
 */
struct svmx_device *svmx_device_get(unsigned int id)
{
	return svmx_devices[id];
}

/**
 * svmx_device_owner_first() - whether no lower device shares @id's owner
 * @id: device index
 *
 * Walks over the devices once per pgmap owner.
 *
 * Return: true for the first device of each owner.
 */
bool svmx_device_owner_first(unsigned int id)
{
	unsigned int j;

	for (j = 0; j < id; j++)
		if (svmx_devices[j]->owner == svmx_devices[id]->owner)
			return false;
	return true;
}

/**
 * svmx_owner_resident() - whether any device of a pgmap owner holds pages
 * @owner: the owner
 *
 * Lets whole-range passes skip owners with nothing in device memory.
 *
 * Return: true if some device with @owner has resident pages.
 */
bool svmx_owner_resident(void *owner)
{
	unsigned int id;

	for (id = 0; id < svmx_nr_devices; id++)
		if (svmx_devices[id]->owner == owner &&
		    svmx_resident_pages(svmx_devices[id]))
			return true;
	return false;
}

/**
 * svmx_counters_add() - add one set of counters to another
 * @dst: accumulated into
 * @src: added
 */
void svmx_counters_add(struct svmx_counters *dst, const struct svmx_counters *src)
{
	const u64 *s = (const u64 *)src;
	u64 *d = (u64 *)dst;
	unsigned int i;

	BUILD_BUG_ON(sizeof(*src) % sizeof(u64));
	for (i = 0; i < sizeof(*src) / sizeof(u64); i++)
		d[i] += s[i];
}

/**
 * svmx_device_account() - add counters to a device's totals
 * @sdev: the device
 * @c: the counters
 */
void svmx_device_account(struct svmx_device *sdev, const struct svmx_counters *c)
{
	spin_lock(&sdev->lock);
	svmx_counters_add(&sdev->stats, c);
	spin_unlock(&sdev->lock);
}

/* ---------------------------------------------------------------------
 * ioctls
 */

/**
 * struct svmx_file - per open file
 * @sdev: the device
 * @lock: serialises BIND against other calls on this file
 * @ctx: the binding, or NULL
 */
struct svmx_file {
	struct svmx_device *sdev;
	struct mutex lock;	/* serialises BIND */
	struct svmx_ctx *ctx;
};

static long svmx_ioctl_version(struct svmx_device *sdev, void __user *uarg)
{
	struct svmx_version v = {
		.major = SVMX_ABI_MAJOR,
		.minor = SVMX_ABI_MINOR,
		.device = sdev->id,
		.nr_devices = svmx_nr_devices,
		.mem_bytes = (u64)sdev->npages << PAGE_SHIFT,
		.hive_mask = sdev->hive_mask,
	};

	return copy_to_user(uarg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long svmx_ioctl_bind(struct svmx_file *sf, void __user *uarg)
{
	struct svmx_bind b;
	struct svmx_ctx *ctx;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (b.flags || b.reserved)
		return -EINVAL;
	mutex_lock(&sf->lock);
	if (sf->ctx) {
		mutex_unlock(&sf->lock);
		return -EINVAL;
	}
	ctx = svmx_ctx_create(sf->sdev);
	if (!IS_ERR(ctx))
		sf->ctx = ctx;
	mutex_unlock(&sf->lock);
	return PTR_ERR_OR_ZERO(ctx);
}

/* The binding of this file, usable only from the bound mm. */
static struct svmx_ctx *svmx_file_ctx(struct svmx_file *sf)
{
	struct svmx_ctx *ctx = READ_ONCE(sf->ctx);

	if (!ctx)
		return ERR_PTR(-EINVAL);
	if (ctx->mm != current->mm)
		return ERR_PTR(-EPERM);
	return ctx;
}

static long svmx_ioctl_exec(struct svmx_ctx *ctx, void __user *uarg)
{
	struct svmx_exec e;
	struct svmx_op *ops;
	long ret;

	if (copy_from_user(&e, uarg, sizeof(e)))
		return -EFAULT;
	if (e.flags || !e.nr_ops)
		return -EINVAL;
	if (e.nr_ops > SVMX_EXEC_MAX_OPS)
		return -E2BIG;
	ops = memdup_array_user(u64_to_user_ptr(e.ops), e.nr_ops, sizeof(*ops));
	if (IS_ERR(ops))
		return PTR_ERR(ops);
	memset(&e.counters, 0, sizeof(e.counters));
	ret = svmx_exec(ctx, ops, e.nr_ops, &e.counters);
	kfree(ops);
	svmx_ctx_account(ctx, &e.counters);
	if (copy_to_user(uarg, &e, sizeof(e)))
		return -EFAULT;
	return ret;
}

static long svmx_ioctl_migrate(struct svmx_ctx *ctx, void __user *uarg)
{
	struct svmx_migrate m;
	long ret;

	if (copy_from_user(&m, uarg, sizeof(m)))
		return -EFAULT;
	if (m.flags || (m.target != SVMX_TARGET_SELF &&
			m.target != SVMX_TARGET_SYSTEM))
		return -EINVAL;
	ret = svmx_range_check(m.addr, m.length, TASK_SIZE);
	if (ret)
		return ret;
	memset(&m.counters, 0, sizeof(m.counters));
	ret = svmx_prefetch_ioctl(ctx, &m);
	svmx_ctx_account(ctx, &m.counters);
	if (copy_to_user(uarg, &m, sizeof(m)))
		return -EFAULT;
	return ret;
}

static long svmx_ioctl_advise(struct svmx_ctx *ctx, void __user *uarg)
{
	struct svmx_advise a;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	ret = svmx_range_check(a.addr, a.length, TASK_SIZE);
	if (ret)
		return ret;
	return svmx_advise(ctx, &a);
}

static long svmx_ioctl_snapshot(struct svmx_ctx *ctx, void __user *uarg)
{
	struct svmx_snapshot s;
	u8 *loc, *peer;
	long ret;

	if (copy_from_user(&s, uarg, sizeof(s)))
		return -EFAULT;
	if (s.flags || !s.npages || s.npages > SVMX_SNAPSHOT_MAX_PAGES || !s.out)
		return -EINVAL;
	ret = svmx_range_check(s.addr, (u64)s.npages << PAGE_SHIFT, TASK_SIZE);
	if (ret)
		return ret;
	loc = kvmalloc(2 * (size_t)s.npages, GFP_KERNEL);
	if (!loc)
		return -ENOMEM;
	peer = loc + s.npages;
	ret = svmx_snapshot(ctx, s.addr, s.npages, loc, peer);
	if (!ret && copy_to_user(u64_to_user_ptr(s.out), loc, s.npages))
		ret = -EFAULT;
	if (!ret && s.peer && copy_to_user(u64_to_user_ptr(s.peer), peer, s.npages))
		ret = -EFAULT;
	kvfree(loc);
	return ret;
}

static long svmx_ioctl_stats(struct svmx_file *sf, void __user *uarg)
{
	struct svmx_device *sdev = sf->sdev;
	struct svmx_ctx *ctx = READ_ONCE(sf->ctx);
	struct svmx_stats st;

	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	if (st.flags || st.reserved)
		return -EINVAL;
	memset(&st.ctx, 0, sizeof(st.ctx));
	if (ctx && ctx->mm == current->mm) {
		mutex_lock(&ctx->lock);
		st.ctx = ctx->stats;
		mutex_unlock(&ctx->lock);
	}
	spin_lock(&sdev->lock);
	st.device = sdev->stats;
	st.blocks = sdev->nr_blocks;
	st.mem_used_bytes = sdev->used_pages << PAGE_SHIFT;
	spin_unlock(&sdev->lock);
	st.mem_bytes = (u64)sdev->npages << PAGE_SHIFT;
	st.resident_pages = svmx_resident_pages(sdev);
	return copy_to_user(uarg, &st, sizeof(st)) ? -EFAULT : 0;
}

static long svmx_dispatch(struct svmx_file *sf, unsigned int cmd,
			  void __user *uarg)
{
	struct svmx_ctx *ctx;

	switch (cmd) {
	case SVMX_IOC_VERSION:
		return svmx_ioctl_version(sf->sdev, uarg);
	case SVMX_IOC_BIND:
		return svmx_ioctl_bind(sf, uarg);
	case SVMX_IOC_STATS:
		return svmx_ioctl_stats(sf, uarg);
	case SVMX_IOC_EXEC:
	case SVMX_IOC_MIGRATE:
	case SVMX_IOC_ADVISE:
	case SVMX_IOC_SNAPSHOT:
		break;
	default:
		return -ENOTTY;
	}
	ctx = svmx_file_ctx(sf);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	switch (cmd) {
	case SVMX_IOC_EXEC:
		return svmx_ioctl_exec(ctx, uarg);
	case SVMX_IOC_MIGRATE:
		return svmx_ioctl_migrate(ctx, uarg);
	case SVMX_IOC_ADVISE:
		return svmx_ioctl_advise(ctx, uarg);
	default:
		return svmx_ioctl_snapshot(ctx, uarg);
	}
}

static long svmx_fop_ioctl(struct file *file, unsigned int cmd,
			   unsigned long arg)
{
	struct svmx_file *sf = file->private_data;
	long ret;

	ret = svmx_dispatch(sf, cmd, (void __user *)arg);
	trace_svmx_ioctl(sf->sdev->id, cmd, ret);
	return ret;
}

static int svmx_fop_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct svmx_file *sf;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL);
	if (!sf)
		return -ENOMEM;
	sf->sdev = container_of(misc, struct svmx_device, misc);
	mutex_init(&sf->lock);
	file->private_data = sf;
	return 0;
}

static int svmx_fop_release(struct inode *inode, struct file *file)
{
	struct svmx_file *sf = file->private_data;

	if (sf->ctx)
		svmx_ctx_destroy(sf->ctx);
	kfree(sf);
	return 0;
}

static const struct file_operations svmx_fops = {
	.owner		= THIS_MODULE,
	.open		= svmx_fop_open,
	.release	= svmx_fop_release,
	.unlocked_ioctl	= svmx_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* ---------------------------------------------------------------------
 * sysfs: /sys/class/misc/svmxN/cost/<parameter>
 */

static struct svmx_device *svmx_dev_from(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct svmx_device, misc);
}

#define SVMX_COST_ATTR(field)						\
static ssize_t field##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	return sysfs_emit(buf, "%u\n",					\
			  READ_ONCE(svmx_dev_from(dev)->cost.field));	\
}									\
static ssize_t field##_store(struct device *dev,			\
			     struct device_attribute *attr,		\
			     const char *buf, size_t count)		\
{									\
	u32 v;								\
	int ret = kstrtou32(buf, 0, &v);				\
									\
	if (!ret)							\
		ret = svmx_cost_param_check(#field, v);			\
	if (ret)							\
		return ret;						\
	WRITE_ONCE(svmx_dev_from(dev)->cost.field, v);			\
	return count;							\
}									\
static DEVICE_ATTR_RW(field)

SVMX_COST_ATTR(local_bw_mbps);
SVMX_COST_ATTR(local_lat_ns);
SVMX_COST_ATTR(link_bw_mbps);
SVMX_COST_ATTR(link_lat_ns);
SVMX_COST_ATTR(peer_bw_mbps);
SVMX_COST_ATTR(peer_lat_ns);
SVMX_COST_ATTR(fault_batch_ns);
SVMX_COST_ATTR(fault_ns);
SVMX_COST_ATTR(copy_setup_ns);
SVMX_COST_ATTR(evict_block_ns);

static struct attribute *svmx_cost_attrs[] = {
	&dev_attr_local_bw_mbps.attr,
	&dev_attr_local_lat_ns.attr,
	&dev_attr_link_bw_mbps.attr,
	&dev_attr_link_lat_ns.attr,
	&dev_attr_peer_bw_mbps.attr,
	&dev_attr_peer_lat_ns.attr,
	&dev_attr_fault_batch_ns.attr,
	&dev_attr_fault_ns.attr,
	&dev_attr_copy_setup_ns.attr,
	&dev_attr_evict_block_ns.attr,
	NULL,
};

static const struct attribute_group svmx_cost_group = {
	.name = "cost",
	.attrs = svmx_cost_attrs,
};

static const struct attribute_group *svmx_groups[] = {
	&svmx_cost_group,
	NULL,
};

/* ---------------------------------------------------------------------
 * debugfs: /sys/kernel/debug/svmx/svmxN/{stats,blocks,evict_all}
 */

static const char * const svmx_counter_names[] = {
	"faults", "fault_batches", "pages_to_device", "pages_to_system",
	"bytes_to_device", "bytes_to_system", "copy_cmds", "evictions",
	"evicted_pages", "local_accesses", "remote_accesses", "peer_accesses",
	"cpu_faults", "pingpong", "policy_fallbacks", "modeled_ns",
	"preemptions",
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

static void svmx_debugfs_init(struct svmx_device *sdev)
{
	sdev->debugfs = debugfs_create_dir(sdev->name, svmx_debugfs_root);
	debugfs_create_file("stats", 0444, sdev->debugfs, sdev, &svmx_stats_fops);
	debugfs_create_file("blocks", 0444, sdev->debugfs, sdev, &svmx_blocks_fops);
	debugfs_create_file("evict_all", 0200, sdev->debugfs, sdev,
			    &svmx_evict_all_fops);
}

/* ---------------------------------------------------------------------
 * Devices and the module
 */

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

	ret = svmx_devmem_init(sdev, (u64)mem_mb << 20);
	if (ret) {
		kfree(sdev);
		return ret;
	}
	sdev->misc.minor = MISC_DYNAMIC_MINOR;
	sdev->misc.name = sdev->name;
	sdev->misc.fops = &svmx_fops;
	sdev->misc.groups = svmx_groups;
	sdev->misc.mode = 0666;
	svmx_devices[id] = sdev;
	return 0;
}

static void svmx_device_destroy(unsigned int id)
{
	struct svmx_device *sdev = svmx_devices[id];

	if (!sdev)
		return;
	svmx_devmem_fini(sdev);
	pr_info("%s: removed; %llu pages migrated in, %llu out, %llu evictions\n",
		sdev->name, sdev->stats.pages_to_device,
		sdev->stats.pages_to_system, sdev->stats.evictions);
	kfree(sdev);
	svmx_devices[id] = NULL;
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
		ret = misc_register(&svmx_devices[i]->misc);
		if (ret) {
			while (i--) {
				debugfs_remove_recursive(svmx_devices[i]->debugfs);
				misc_deregister(&svmx_devices[i]->misc);
			}
			return ret;
		}
		svmx_debugfs_init(svmx_devices[i]);
	}
	return 0;
}

static void svmx_devices_unpublish(void)
{
	unsigned int i;

	for (i = 0; i < svmx_nr_devices; i++) {
		debugfs_remove_recursive(svmx_devices[i]->debugfs);
		misc_deregister(&svmx_devices[i]->misc);
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
	unsigned int i;
	int ret;

	ret = svmx_params_check();
	if (ret)
		return ret;
	svmx_debugfs_root = debugfs_create_dir("svmx", NULL);
	debugfs_create_file("copybench", 0600, svmx_debugfs_root, NULL,
			    &svmx_copybench_fops);
	i = 0;
	ret = svmx_bpf_init(svmx_debugfs_root);
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
	debugfs_remove_recursive(svmx_debugfs_root);
	return ret;
}

static void __exit svmx_exit(void)
{
	unsigned int i;

	svmx_devices_unpublish();
	for (i = 0; i < svmx_nr_devices; i++)
		svmx_device_destroy(i);
	svmx_bpf_exit();
	debugfs_remove_recursive(svmx_debugfs_root);
	pr_info("svmx: unloaded\n");
}

module_init(svmx_init);
module_exit(svmx_exit);
MODULE_DESCRIPTION("svmx: HMM migration core for GPU shared virtual memory");
MODULE_LICENSE("GPL");
