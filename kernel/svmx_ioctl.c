// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: The ioctl layer
 *
 * Per-file state, argument validation, copy in and out.  Everything below
 * takes validated, kernel-side arguments.
 */
#include <linux/bitfield.h>
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

/* ---------------------------------------------------------------------
 * ioctls
 */

/**
 * struct svmx_file - per open file
 * @sdev: the device
 * @lock: serialises BIND against other calls on this file
 * @ctx: the binding, or NULL; published once, with smp_store_release(),
 *	after the context is fully set up, and read without @lock with
 *	smp_load_acquire() (svmx_file_ctx()), so a call racing with BIND sees
 *	either no binding or a complete one
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
		/* Pairs with smp_load_acquire() in svmx_file_ctx(), STATS. */
		smp_store_release(&sf->ctx, ctx);
	mutex_unlock(&sf->lock);
	return PTR_ERR_OR_ZERO(ctx);
}

/* The binding of this file, usable only from the bound mm. */
static struct svmx_ctx *svmx_file_ctx(struct svmx_file *sf)
{
	/* Pairs with BIND's smp_store_release(): a complete context or NULL. */
	struct svmx_ctx *ctx = smp_load_acquire(&sf->ctx);

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
	ret = svmx_exec(ctx, ops, &e);
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
	trace_svmx_migrate_req(ctx->sdev->id, m.addr, m.length, m.target);
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
	trace_svmx_advise_req(ctx->sdev->id, a.addr, a.length, a.advice, a.value);
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
	/* Pairs with BIND's smp_store_release(), as in svmx_file_ctx(). */
	struct svmx_ctx *ctx = smp_load_acquire(&sf->ctx);
	struct svmx_stats st;

	if (copy_from_user(&st, uarg, sizeof(st)))
		return -EFAULT;
	if (st.flags || st.reserved)
		return -EINVAL;
	memset(&st.ctx, 0, sizeof(st.ctx));
	st.pt_leaves = 0;
	if (ctx && ctx->mm == current->mm) {
		mutex_lock(&ctx->lock);
		st.ctx = ctx->stats;
		mutex_unlock(&ctx->lock);
		st.pt_leaves = atomic_long_read(&ctx->nr_leaves);
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

const struct file_operations svmx_fops = {
	.owner		= THIS_MODULE,
	.open		= svmx_fop_open,
	.release	= svmx_fop_release,
	.unlocked_ioctl	= svmx_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};
