// SPDX-License-Identifier: GPL-2.0
/*
 * Live swaps through a slot's pinned struct_ops link, shared by
 * svmxctl policy load (a new policy into an occupied slot) and svmxctl
 * ab and tune (their arms in turn, then the original policy back).
 *
 * The kernel's update callback (svmx_bpf_update()) switches the slot to
 * the new policy under RCU, so that every fault is decided by the old or
 * the new one and none by the default in between; if the new one fails
 * to init, the old one stays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "svmxctl.h"

/**
 * ctl_link_open() - an fd of the struct_ops link pinned in a slot's directory.
 * @dir: the slot's pin directory (ctl_slot_pin_dir()).
 *
 * Return: the fd, or a negative errno (-ENOENT: svmxctl pinned nothing there).
 */
int ctl_link_open(const char *dir)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/link", dir);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

/**
 * ctl_link_map() - an fd of the struct_ops map a link holds now.
 * @link_fd: the link.
 *
 * Holding it keeps that policy (its map, and through it its programs and
 * their maps) alive after it is swapped out, so that it can be swapped
 * back in with ctl_swap_map().
 *
 * Return: the fd, or a negative errno.
 */
int ctl_link_map(int link_fd)
{
	struct bpf_link_info info;
	__u32 len = sizeof(info);
	int fd;

	memset(&info, 0, sizeof(info));
	if (bpf_link_get_info_by_fd(link_fd, &info, &len))
		return -errno;
	if (info.type != BPF_LINK_TYPE_STRUCT_OPS || !info.struct_ops.map_id)
		return -EINVAL;
	fd = bpf_map_get_fd_by_id(info.struct_ops.map_id);
	return fd < 0 ? -errno : fd;
}

/**
 * ctl_swap_map() - put a ready struct_ops map into a link.
 * @link_fd: the link.
 * @map_fd: the map (loaded, its value written).
 * @old_fd: the map the link must hold now (BPF_F_REPLACE), or -1 for any.
 *
 * Return: 0, or the kernel's negative errno (the link's policy stays);
 * -EPERM when the link holds another map than @old_fd.
 */
int ctl_swap_map(int link_fd, int map_fd, int old_fd)
{
	LIBBPF_OPTS(bpf_link_update_opts, opts);

	if (old_fd >= 0) {
		opts.flags = BPF_F_REPLACE;
		opts.old_map_fd = old_fd;
	}
	return bpf_link_update(link_fd, map_fd, &opts) ? -errno : 0;
}

/*
 * Make the loaded struct_ops map ready to be linked.  libbpf writes a
 * struct_ops map's value (its programs) only in
 * bpf_map__attach_struct_ops(), which then creates a new link; the
 * kernel's link update wants a map whose value is written.  The slot is
 * occupied (the pinned link holds it), so that link creation is refused
 * with -EBUSY by svmx_bpf_reg() and changes nothing; the value stays
 * written.  Should the slot have emptied meanwhile, the new link is
 * dropped again and the caller told to retry.
 */
static int ready_for_update(struct ctl_policy *p)
{
	struct bpf_link *link;
	int err;

	err = ctl_policy_attach(p, &link);
	if (err == -EBUSY)
		return 0;
	if (!err) {
		bpf_link__destroy(link);
		return -EAGAIN;
	}
	return err;
}

/**
 * ctl_swap_policy() - swap a loaded policy into a link.
 * @p: the policy, loaded (ctl_policy_load()) for the link's scope.
 * @link_fd: the slot's link.
 * @old_fd: the map the link must hold now, or -1 for any (ctl_swap_map()).
 *
 * The link then holds @p's map: @p can be closed.
 *
 * Return: 0; -EAGAIN when the slot emptied meanwhile (nothing attached);
 * or the kernel's negative errno (the link's policy stays).
 */
int ctl_swap_policy(struct ctl_policy *p, int link_fd, int old_fd)
{
	int err = ready_for_update(p);

	return err ? err : ctl_swap_map(link_fd, bpf_map__fd(p->ops), old_fd);
}
