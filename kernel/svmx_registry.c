// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: Device registry and accounting
 *
 * The bottom of svmx: the table of devices, the pgmap-owner helpers that
 * walk it, finding the context of an mm on a device, and adding counters
 * to contexts, devices and cgroups.  It calls nothing else of svmx.
 *
 * Cgroups.  A context records the cgroup (v2) of the process that bound
 * it, in a &struct svmx_cgroup shared by every context bound from that
 * cgroup: the totals of those contexts are kept per cgroup, so that two
 * tenants can be compared (debugfs "cgroups"), and BPF policies attached
 * to a cgroup find the contexts below it through svmx_cgroup_lookup().
 * Entries are looked up under RCU by cgroup id, created and dropped under
 * svmx_cgroups_lock; an entry whose cgroup was removed is dropped when its
 * last context goes, or at the next bind or walk after that.
 */
#include <kunit/visibility.h>
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

unsigned int svmx_nr_devices = 2;

module_param_named(nr_devices, svmx_nr_devices, uint, 0444);

MODULE_PARM_DESC(nr_devices, "Number of virtual devices (1-8, default 2)");

static struct svmx_device *svmx_devices[SVMX_MAX_DEVICES];

/**
 * svmx_device_register() - enter a device in the table
 * @sdev: the device, with its id set
 */
void svmx_device_register(struct svmx_device *sdev)
{
	svmx_devices[sdev->id] = sdev;
}

/**
 * svmx_device_unregister() - take a device out of the table
 * @id: its index
 */
void svmx_device_unregister(unsigned int id)
{
	svmx_devices[id] = NULL;
}

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
EXPORT_SYMBOL_IF_KUNIT(svmx_device_get);

/**
 * svmx_page_device() - the device a device-private page belongs to
 * @page: a device-private page of an svmx device
 *
 * Found from the page's pfn and the devices' ranges, which live as long as
 * the devices, so this is safe on a page that may be freed concurrently (a
 * page from hmm_range_fault() holds no reference): unlike
 * svmx_page_block(), it never follows a block pointer that the page's free
 * may invalidate.  (The pgmap would do too, as lib/test_hmm.c finds its
 * device, but reaching it changed in Linux 6.15: page_pgmap().)
 *
 * Return: the device, or NULL for a page of no svmx device.
 */
struct svmx_device *svmx_page_device(struct page *page)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned int id;

	for (id = 0; id < svmx_nr_devices; id++) {
		struct svmx_device *sdev = svmx_devices[id];

		if (sdev && pfn - sdev->pfn_first < sdev->npages)
			return sdev;
	}
	return NULL;
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

/**
 * svmx_ctx_add() - add counters to a context's totals and its cgroup's
 * @ctx: the context
 * @c: the counters
 */
void svmx_ctx_add(struct svmx_ctx *ctx, const struct svmx_counters *c)
{
	mutex_lock(&ctx->lock);
	svmx_counters_add(&ctx->stats, c);
	mutex_unlock(&ctx->lock);
	spin_lock(&ctx->cgroup->lock);
	svmx_counters_add(&ctx->cgroup->stats, c);
	spin_unlock(&ctx->cgroup->lock);
}

/**
 * svmx_ctx_account() - add a call's counters to its context and device
 * @ctx: the context
 * @c: the call's counters
 */
void svmx_ctx_account(struct svmx_ctx *ctx, const struct svmx_counters *c)
{
	svmx_ctx_add(ctx, c);
	svmx_device_account(ctx->sdev, c);
}

/**
 * svmx_with_ctx() - run a function on the context of an mm on a device
 * @sdev: the device
 * @mm: the mm
 * @fn: called with the context, under @sdev->ctx_lock
 * @arg: passed to @fn
 *
 * Return: true when @mm has a context on @sdev (and @fn ran).
 */
bool svmx_with_ctx(struct svmx_device *sdev, struct mm_struct *mm,
		   void (*fn)(struct svmx_ctx *ctx, void *arg), void *arg)
{
	struct svmx_ctx *ctx;
	bool found = false;

	mutex_lock(&sdev->ctx_lock);
	list_for_each_entry(ctx, &sdev->ctxs, node) {
		if (ctx->mm == mm) {
			fn(ctx, arg);
			found = true;
			break;
		}
	}
	mutex_unlock(&sdev->ctx_lock);
	return found;
}

/* ---------------------------------------------------------------------
 * Cgroups of the binding processes
 */

static DEFINE_XARRAY(svmx_cgroups);	/* cgroup id -> struct svmx_cgroup */
static DEFINE_MUTEX(svmx_cgroups_lock);	/* creation, users, removal */

/* Drop an entry; under svmx_cgroups_lock. */
static void svmx_cgroup_free(struct svmx_cgroup *scg)
{
	lockdep_assert_held(&svmx_cgroups_lock);
	xa_erase(&svmx_cgroups, scg->id);
	cgroup_put(scg->cgrp);
	kfree_rcu(scg, rcu);
}

/* Drop the unused entries of removed cgroups; under svmx_cgroups_lock. */
static void svmx_cgroups_sweep(void)
{
	struct svmx_cgroup *scg;
	unsigned long id;

	xa_for_each(&svmx_cgroups, id, scg)
		if (!scg->users && svmx_cgroup_removed(scg->cgrp))
			svmx_cgroup_free(scg);
}

/**
 * svmx_cgroup_bind() - the cgroup entry of the calling process, for a new
 *	context
 *
 * Creates the entry of the caller's cgroup (v2) on its first binding.
 * Process context; may sleep.
 *
 * Return: the entry, with one more user, or an ERR_PTR.
 */
struct svmx_cgroup *svmx_cgroup_bind(void)
{
	struct svmx_cgroup *scg, *fresh;
	struct cgroup *cgrp;
	int ret;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL);
	if (!fresh)
		return ERR_PTR(-ENOMEM);
	rcu_read_lock();
	cgrp = task_dfl_cgroup(current);
	cgroup_get(cgrp);
	rcu_read_unlock();

	mutex_lock(&svmx_cgroups_lock);
	svmx_cgroups_sweep();
	scg = xa_load(&svmx_cgroups, cgroup_id(cgrp));
	if (scg) {
		cgroup_put(cgrp);
		kfree(fresh);
	} else {
		scg = fresh;
		scg->id = cgroup_id(cgrp);
		scg->cgrp = cgrp;
		spin_lock_init(&scg->lock);
		ret = xa_err(xa_store(&svmx_cgroups, scg->id, scg, GFP_KERNEL));
		if (ret) {
			mutex_unlock(&svmx_cgroups_lock);
			cgroup_put(cgrp);
			kfree(fresh);
			return ERR_PTR(ret);
		}
	}
	scg->users++;
	mutex_unlock(&svmx_cgroups_lock);
	return scg;
}

/**
 * svmx_cgroup_unbind() - a context bound from a cgroup goes
 * @scg: the entry from svmx_cgroup_bind()
 *
 * The entry stays for its totals until its cgroup is removed.
 */
void svmx_cgroup_unbind(struct svmx_cgroup *scg)
{
	mutex_lock(&svmx_cgroups_lock);
	if (!--scg->users && svmx_cgroup_removed(scg->cgrp))
		svmx_cgroup_free(scg);
	mutex_unlock(&svmx_cgroups_lock);
}

/**
 * svmx_cgroup_lookup() - the cgroup of an id that contexts were bound from
 * @id: a cgroup id, as in struct svmx_fault_info
 *
 * Call under rcu_read_lock(); the cgroup and its ancestors stay valid
 * until rcu_read_unlock().  Cheap: one xarray look-up, no reference taken.
 *
 * Return: the cgroup, or NULL when no svmx context was bound from it.
 */
struct cgroup *svmx_cgroup_lookup(u64 id)
{
	struct svmx_cgroup *scg = xa_load(&svmx_cgroups, id);

	return scg ? scg->cgrp : NULL;
}

/**
 * svmx_cgroups_walk() - call a function on every cgroup entry
 * @fn: called with the entry and a copy of its totals, under
 *	svmx_cgroups_lock, in cgroup id order
 * @arg: passed to @fn
 */
void svmx_cgroups_walk(void (*fn)(const struct svmx_cgroup *scg,
				  const struct svmx_counters *stats, void *arg),
		       void *arg)
{
	struct svmx_counters stats;
	struct svmx_cgroup *scg;
	unsigned long id;

	mutex_lock(&svmx_cgroups_lock);
	svmx_cgroups_sweep();
	xa_for_each(&svmx_cgroups, id, scg) {
		spin_lock(&scg->lock);
		stats = scg->stats;
		spin_unlock(&scg->lock);
		fn(scg, &stats, arg);
	}
	mutex_unlock(&svmx_cgroups_lock);
}

/**
 * svmx_cgroups_fini() - module exit: drop every cgroup entry
 *
 * No context is left at this point.
 */
void svmx_cgroups_fini(void)
{
	struct svmx_cgroup *scg;
	unsigned long id;

	mutex_lock(&svmx_cgroups_lock);
	xa_for_each(&svmx_cgroups, id, scg) {
		WARN_ON(scg->users);
		svmx_cgroup_free(scg);
	}
	mutex_unlock(&svmx_cgroups_lock);
}
