// SPDX-License-Identifier: GPL-2.0
/*
 * DOC: sysfs
 *
 * The cost-model parameters of each device, under
 * /sys/class/misc/svmxN/cost/.
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

const struct attribute_group *svmx_groups[] = {
	&svmx_cost_group,
	NULL,
};
