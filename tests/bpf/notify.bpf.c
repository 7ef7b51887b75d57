// SPDX-License-Identifier: GPL-2.0
/*
 * Test policy: counts every notification, and checks the block and device
 * kfuncs from them.  On each block_alloc it reads the block's info (kept
 * in alloc_info) and the device's (dev_info); on each block_free, the
 * info of the freed handle must fail with -ENOENT.  Bad handles and a bad
 * device index are tried once, their results kept.
 */
#include <svmx/svmx.bpf.h>

char _license[] SEC("license") = "GPL";

__u64 allocs, accesses, frees, evict_dones, evicted_pages;
__u64 free_info_enoent, free_info_other;
__u64 last_handle, last_owner, access_epoch_mismatch;
/* Device accesses of the last block freed, and of the blocks evicted. */
__u64 free_touches, evicted_touches, access_touches_mismatch;
int info_ret, bad_zero, bad_garbage, bad_gen, bad_dev;
int dev_ret;
/* The last block_alloc's block and device info, as plain globals. */
__u64 bi_dev, bi_order, bi_pages, bi_evictable, bi_accesses, bi_age, bi_owner;
__u64 bi_cgroup_id, bi_addr;
__u64 di_dev, di_total, di_free, di_blocks, di_resident, di_epoch;
__s64 di_free_order;

void SVMX_OPS(notify_block_alloc, struct svmx_block_event *ev)
{
	struct svmx_block_info info;
	struct svmx_device_info dinfo;

	__sync_fetch_and_add(&allocs, 1);
	last_handle = ev->handle;
	last_owner = ev->owner;
	info_ret = svmx_bpf_block_info(ev->handle, &info, sizeof(info));
	bi_dev = info.dev;
	bi_order = info.order;
	bi_pages = info.pages;
	bi_evictable = info.evictable;
	bi_accesses = info.accesses;
	bi_age = info.age;
	bi_owner = info.owner;
	bi_cgroup_id = info.cgroup_id;
	bi_addr = info.addr;
	dev_ret = svmx_bpf_device_info(ev->dev, &dinfo, sizeof(dinfo));
	di_dev = dinfo.dev;
	di_total = dinfo.total_bytes;
	di_free = dinfo.free_bytes;
	di_blocks = dinfo.blocks;
	di_resident = dinfo.resident_pages;
	di_epoch = dinfo.epoch;
	di_free_order = dinfo.free_order;
	if (!bad_zero) {
		struct svmx_block_info bi;
		struct svmx_device_info di;

		bad_zero = svmx_bpf_block_info(0, &bi, sizeof(bi));
		bad_garbage = svmx_bpf_block_info(~0ULL, &bi, sizeof(bi));
		bad_gen = svmx_bpf_block_info(ev->handle ^ (1ULL << 40), &bi, sizeof(bi));
		bad_dev = svmx_bpf_device_info(99, &di, sizeof(di));
	}
}

void SVMX_OPS(notify_block_access, struct svmx_block_event *ev)
{
	struct svmx_block_info bi;

	__sync_fetch_and_add(&accesses, 1);
	if (svmx_bpf_block_info(ev->handle, &bi, sizeof(bi)))
		return;
	/* The access being told is the block's last one. */
	if (bi.epoch != ev->epoch)
		__sync_fetch_and_add(&access_epoch_mismatch, 1);
	/* One thread works the device: nothing touched it since the event. */
	if (bi.touches != ev->touches || !ev->touches)
		__sync_fetch_and_add(&access_touches_mismatch, 1);
}

void SVMX_OPS(notify_block_free, struct svmx_block_event *ev)
{
	struct svmx_block_info bi;

	__sync_fetch_and_add(&frees, 1);
	free_touches = ev->touches;
	if (svmx_bpf_block_info(ev->handle, &bi, sizeof(bi)) == -2 /* ENOENT */)
		__sync_fetch_and_add(&free_info_enoent, 1);
	else
		__sync_fetch_and_add(&free_info_other, 1);
}

void SVMX_OPS(notify_evict_done, struct svmx_evict_done *done)
{
	__sync_fetch_and_add(&evict_dones, 1);
	__sync_fetch_and_add(&evicted_pages, done->pages);
	__sync_fetch_and_add(&evicted_touches, done->block.touches);
}

SVMX_OPS_DEFINE(notify_ops,
		.block_alloc	= (void *)notify_block_alloc,
		.block_access	= (void *)notify_block_access,
		.block_free	= (void *)notify_block_free,
		.evict_done	= (void *)notify_evict_done,
		.name		= "test_notify");
