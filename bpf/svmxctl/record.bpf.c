// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl record: the device work of one process tree, from the svmx
 * tracepoints into a ring buffer (tools/svmxctl/record.c turns it into a
 * recording, docs/record-format.md).
 *
 * Only the processes of @tgids are recorded: user space puts the
 * recorded command's pid there before it runs, and every fork of a
 * member adds the child.  For each operation of an EXEC call the mapping
 * of every range it touches is looked up (bpf_find_vma()) and sent when
 * it is new or changed, before the operation.  A CPU fault on a device
 * page is a CPU touch unless the thread is inside an EXEC call (the
 * kernel copying a READ/WRITE buffer): replaying the call repeats those.
 * SVMX_IOC_MIGRATE and SVMX_IOC_ADVISE calls are sent too, with the
 * mappings of their ranges (holes there are no error: both are best
 * effort).  Events that find the ring buffer full, and mappings that
 * could not be read (the mmap lock was contended), are counted in @lost
 * and @vma_lost: user space refuses a recording with either.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "record.h"

char LICENSE[] SEC("license") = "GPL";

/* The recorded device; set before load. */
const volatile int rec_dev;

__u64 lost;
__u64 vma_lost;

#define ENOENT			2
#define TMPFS_MAGIC		0x01021994
#define VM_READ			0x00000001UL
#define VM_WRITE		0x00000002UL
#define VM_EXEC			0x00000004UL
#define VM_SHARED		0x00000008UL
#define VM_HUGEPAGE		0x20000000UL
#define VM_NOHUGEPAGE		0x40000000UL
#define MAX_VMAS_PER_RANGE	16
#define OP_ATOMIC_ADD		3
#define OP_COPY			5
#define OP_READ			1
#define OP_WRITE		2

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} tgids SEC(".maps");

/* Threads inside an EXEC call (between its first operation and its end). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} in_exec SEC(".maps");

struct vma_seen {
	__u64 end;
	__u32 flags;
	__u32 kind;
};

/* Mappings sent so far, by start address. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, struct vma_seen);
} vmas SEC(".maps");

struct vma_found {
	__u64 start;
	__u64 end;
	__u32 flags;
	__u32 kind;
};

static bool recorded(int dev)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return dev == rec_dev && bpf_map_lookup_elem(&tgids, &tgid);
}

static struct rec_event *ev_new(__u32 type, int dev)
{
	struct rec_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&lost, 1);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->tid = (__u32)bpf_get_current_pid_tgid();
	e->dev = dev;
	return e;
}

static long vma_cb(struct task_struct *task, struct vm_area_struct *vma,
		   struct vma_found *f)
{
	unsigned long fl;
	struct file *file;

	if (!vma)
		return 1;
	fl = vma->vm_flags;
	file = vma->vm_file;
	f->start = vma->vm_start;
	f->end = vma->vm_end;
	f->flags = ((fl & VM_READ) ? REC_VMA_READ : 0) |
		   ((fl & VM_WRITE) ? REC_VMA_WRITE : 0) |
		   ((fl & VM_EXEC) ? REC_VMA_EXEC : 0) |
		   ((fl & VM_SHARED) ? REC_VMA_SHARED : 0) |
		   ((fl & VM_HUGEPAGE) ? REC_VMA_HUGEPAGE : 0) |
		   ((fl & VM_NOHUGEPAGE) ? REC_VMA_NOHUGEPAGE : 0);
	if (!file)
		f->kind = REC_VMA_ANON;
	else if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) == TMPFS_MAGIC)
		f->kind = REC_VMA_SHMEM;
	else
		f->kind = REC_VMA_FILE;
	return 0;
}

/* Send the mapping at @addr if it is new or changed; its end, or 0. */
static __u64 note_vma(struct task_struct *task, int dev, __u64 addr)
{
	struct vma_found f = {};
	struct vma_seen *old, now;
	struct rec_event *e;
	long err;

	err = bpf_find_vma(task, addr, vma_cb, &f, 0);
	if (err == -ENOENT)
		return 0;	/* a hole (MIGRATE, ADVISE), or unmapped since */
	if (err || !f.end) {
		__sync_fetch_and_add(&vma_lost, 1);
		return 0;
	}
	old = bpf_map_lookup_elem(&vmas, &f.start);
	if (old && old->end == f.end && old->flags == f.flags && old->kind == f.kind)
		return f.end;
	now.end = f.end;
	now.flags = f.flags;
	now.kind = f.kind;
	bpf_map_update_elem(&vmas, &f.start, &now, BPF_ANY);
	e = ev_new(REC_EV_VMA, dev);
	if (!e)
		return f.end;
	e->a = f.kind;
	e->b = f.flags;
	e->x[0] = f.start;
	e->x[1] = f.end;
	bpf_ringbuf_submit(e, 0);
	return f.end;
}

/* Every mapping of [@start, @start + @len), up to the first hole. */
static void note_range(int dev, __u64 start, __u64 len)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 end = start + len;
	int i;

	for (i = 0; i < MAX_VMAS_PER_RANGE && start < end; i++) {
		start = note_vma(task, dev, start);
		if (!start)
			return;
	}
	if (start < end)	/* more mappings than we look at */
		__sync_fetch_and_add(&vma_lost, 1);
}

/* A MIGRATE or ADVISE call: its mappings, then the call. */
static void note_request(__u32 type, int dev, __u64 addr, __u64 length, __u32 a,
			 __u32 b)
{
	struct rec_event *e;

	note_range(dev, addr, length);
	e = ev_new(type, dev);
	if (!e)
		return;
	e->a = a;
	e->b = b;
	e->x[0] = addr;
	e->x[1] = length;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/svmx_migrate_req")
int BPF_PROG(rec_migrate_req, int dev, __u64 addr, __u64 length, __u32 target)
{
	if (recorded(dev))
		note_request(REC_EV_MIGRATE, dev, addr, length, target, 0);
	return 0;
}

SEC("tp_btf/svmx_advise_req")
int BPF_PROG(rec_advise_req, int dev, __u64 addr, __u64 length, __u32 advice,
	     __u32 value)
{
	if (recorded(dev))
		note_request(REC_EV_ADVISE, dev, addr, length, advice, value);
	return 0;
}

SEC("tp_btf/svmx_exec_op")
int BPF_PROG(rec_exec_op, int dev, __u32 idx, __u32 nr_ops, const struct svmx_op *op)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 addr, length, stride;
	struct rec_event *e;
	__u32 opcode;
	__u8 one = 1;

	if (!op || !recorded(dev))
		return 0;
	addr = op->addr;
	length = op->length;
	stride = op->stride;
	opcode = op->opcode;
	if (!idx)
		bpf_map_update_elem(&in_exec, &tid, &one, BPF_ANY);
	/* The mappings first: replay maps them before it issues the call. */
	if (opcode == OP_ATOMIC_ADD)
		note_range(dev, addr, (length - 1) * stride + 8);
	else
		note_range(dev, addr, length);
	if (opcode == OP_COPY)
		note_range(dev, op->addr2, length);
	if (opcode == OP_READ || opcode == OP_WRITE)
		note_range(dev, op->buf, length);
	e = ev_new(REC_EV_OP, dev);
	if (!e)
		return 0;
	e->a = idx;
	e->b = nr_ops;
	e->c = opcode;
	e->x[0] = addr;
	e->x[1] = length;
	e->x[2] = stride;
	e->x[3] = op->value;
	e->x[4] = op->addr2;
	e->x[5] = op->buf;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/svmx_cpu_fault")
int BPF_PROG(rec_cpu_fault, int dev, unsigned long addr, bool cpu, __u32 order,
	     __u64 pages, int ret, __u32 access)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct rec_event *e;

	if (!cpu || !recorded(dev) || bpf_map_lookup_elem(&in_exec, &tid))
		return 0;
	e = ev_new(REC_EV_CPU, dev);
	if (!e)
		return 0;
	e->a = access;
	e->b = ret;
	e->x[0] = addr;
	e->x[1] = pages;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/svmx_ioctl")
int BPF_PROG(rec_ioctl, int dev, unsigned int cmd, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u32 nr = cmd & 0xff;
	struct rec_event *e;

	if (!recorded(dev))
		return 0;
	bpf_map_delete_elem(&in_exec, &tid);
	if (nr < 2 || nr > 4)	/* EXEC, MIGRATE, ADVISE */
		return 0;
	e = ev_new(REC_EV_IOCTL, dev);
	if (!e)
		return 0;
	e->a = cmd;
	e->b = ret;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/svmx_unbind")
int BPF_PROG(rec_unbind, int dev, bool live, unsigned long regions, __u64 pages,
	     __u64 bytes)
{
	struct rec_event *e;

	if (!recorded(dev))
		return 0;
	e = ev_new(REC_EV_UNBIND, dev);
	if (!e)
		return 0;
	e->a = live;
	e->x[0] = pages;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(rec_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid, ctgid;
	__u8 one = 1;

	if (!parent || !child)
		return 0;
	ptgid = parent->tgid;
	ctgid = child->tgid;
	if (ptgid != ctgid && bpf_map_lookup_elem(&tgids, &ptgid))
		bpf_map_update_elem(&tgids, &ctgid, &one, BPF_ANY);
	return 0;
}
