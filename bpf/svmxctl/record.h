/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events of svmxctl's recorder (record.bpf.c -> tools/svmxctl/record.c),
 * one struct for all kinds, sent through a ring buffer in the order the
 * workload's threads caused them.
 */
#ifndef SVMXCTL_RECORD_EV_H
#define SVMXCTL_RECORD_EV_H

enum rec_ev_type {
	REC_EV_OP = 1,		/* svmx_exec_op: one operation of an EXEC call */
	REC_EV_VMA,		/* a mapping an operation touches, new or changed */
	REC_EV_CPU,		/* svmx_cpu_fault: a CPU touch of a device page */
	REC_EV_IOCTL,		/* svmx_ioctl: a call ended (EXEC, MIGRATE, ADVISE) */
	REC_EV_UNBIND,		/* svmx_unbind: a binding went away */
	REC_EV_MIGRATE,		/* svmx_migrate_req: an SVMX_IOC_MIGRATE call */
	REC_EV_ADVISE,		/* svmx_advise_req: an SVMX_IOC_ADVISE call */
};

/* REC_EV_VMA: kind, and flag bits in @b */
#define REC_VMA_ANON		0
#define REC_VMA_SHMEM		1
#define REC_VMA_FILE		2

#define REC_VMA_READ		0x01
#define REC_VMA_WRITE		0x02
#define REC_VMA_EXEC		0x04
#define REC_VMA_SHARED		0x08
#define REC_VMA_NOHUGEPAGE	0x10
#define REC_VMA_HUGEPAGE	0x20

/**
 * struct rec_event - one event
 * @type: enum rec_ev_type
 * @tid: thread that caused it
 * @dev: device
 * @a: OP: index in the call; VMA: kind; CPU: access (0 read, 1 write);
 *     IOCTL: command; UNBIND: 1 when the process still lived;
 *     MIGRATE: target; ADVISE: advice
 * @b: OP: operations in the call; VMA: flags; CPU: ret; IOCTL: ret;
 *     ADVISE: value
 * @c: OP: opcode
 * @x: OP: addr, length, stride, value, addr2, buf; VMA: start, end;
 *     CPU: addr, pages; UNBIND: pages migrated back; MIGRATE, ADVISE:
 *     addr, length
 */
struct rec_event {
	__u32 type;
	__u32 tid;
	__s32 dev;
	__u32 a;
	__s32 b;
	__u32 c;
	__u64 x[6];
};

#endif /* SVMXCTL_RECORD_EV_H */
