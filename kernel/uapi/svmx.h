/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * svmx user ABI: GPU shared virtual memory on virtual accelerators.
 *
 * Each virtual device is /dev/svmxN.  A process binds its address space to
 * a device (SVMX_IOC_BIND) and submits device work (SVMX_IOC_EXEC) that the
 * device executes through its own page table over the process's ordinary
 * virtual addresses; pages migrate between system memory and device memory
 * as the placement policy decides.
 *
 * Conventions: user pointers are __u64; every flags and reserved field must
 * be zero (unknown bits give -EINVAL) so the ABI can grow; fields are marked
 * (in) or (out).  Addresses and lengths of ranges are page aligned unless a
 * field says otherwise.
 */
#ifndef _UAPI_SVMX_H
#define _UAPI_SVMX_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SVMX_ABI_MAJOR		1
#define SVMX_ABI_MINOR		0	/* unreleased: layouts may still change */

/**
 * struct svmx_version - SVMX_IOC_VERSION
 * @major:	(out) ABI major; incompatible changes bump it
 * @minor:	(out) ABI minor; additions bump it
 * @device:	(out) index N of /dev/svmxN
 * @nr_devices:	(out) number of svmx devices
 * @mem_bytes:	(out) device memory of this device in bytes
 * @hive_mask:	(out) bit i set: device i is in this device's hive (may
 *		map this device's memory directly); 0 if in no hive
 * @reserved:	(out) zero
 */
struct svmx_version {
	__u32 major;
	__u32 minor;
	__u32 device;
	__u32 nr_devices;
	__u64 mem_bytes;
	__u32 hive_mask;
	__u32 reserved;
};

/**
 * struct svmx_bind - SVMX_IOC_BIND
 * @flags:	(in) must be 0
 * @reserved:	(in) must be 0
 *
 * Binds the calling process's mm to the device through this file.  One
 * binding per (device, mm): -EBUSY if the mm is already bound to the device,
 * -EINVAL if this file is already bound (also from a forked child sharing
 * the file).  EXEC, MIGRATE, ADVISE and SNAPSHOT on a file bound by another
 * mm fail with -EPERM; STATS then reports zero binding counters.
 */
struct svmx_bind {
	__u32 flags;
	__u32 reserved;
};

/* Device operations for SVMX_IOC_EXEC. */
enum svmx_opcode {
	SVMX_OP_READ = 1,	/* copy @length bytes at @addr into @buf */
	SVMX_OP_WRITE,		/* copy @length bytes from @buf to @addr */
	SVMX_OP_ATOMIC_ADD,	/* @length u64s at @addr + i * @stride += @value */
	SVMX_OP_FILL,		/* fill @length bytes at @addr with u64 @value */
	SVMX_OP_COPY,		/* copy @length bytes from @addr to @addr2 */
};

/**
 * struct svmx_op - one operation of device work
 * @opcode:	(in) enum svmx_opcode
 * @flags:	(in) must be 0
 * @addr:	(in) device-visible virtual address; u64 aligned for
 *		ATOMIC_ADD and FILL, byte granular otherwise
 * @length:	(in) bytes for READ, WRITE, FILL and COPY (FILL: a multiple of
 *		8); number of elements for ATOMIC_ADD; at most SVMX_OP_MAX_LEN
 *		bytes of memory are touched by one operation
 * @stride:	(in) ATOMIC_ADD: bytes between elements (multiple of 8, >= 8)
 * @value:	(in) FILL: the 64-bit pattern; ATOMIC_ADD: the addend
 * @addr2:	(in) COPY: destination address (ranges must not overlap)
 * @buf:	(in) READ/WRITE: the caller's buffer; the copy to or from it is
 *		done by the CPU, like a host-side staging buffer
 *
 * Fields an opcode does not use (@stride, @value, @addr2, @buf) must be 0.
 */
struct svmx_op {
	__u32 opcode;
	__u32 flags;
	__u64 addr;
	__u64 length;
	__u64 stride;
	__u64 value;
	__u64 addr2;
	__u64 buf;
};

#define SVMX_EXEC_MAX_OPS	4096
#define SVMX_OP_MAX_LEN		(1ULL << 32)

/**
 * struct svmx_counters - what a call (or a context, or a device) did
 * @faults:		device page faults raised
 * @fault_batches:	fault batches serviced
 * @pages_to_device:	pages migrated system -> device
 * @pages_to_system:	pages migrated device -> system
 * @bytes_to_device:	bytes copied system -> device (zero-filled pages are
 *			not copied and not counted)
 * @bytes_to_system:	bytes copied device -> system
 * @copy_cmds:		copy-engine commands (one per physically contiguous run)
 * @evictions:		eviction attempts on a block (each up to 8 passes
 *			over its busy pages; a block may be attempted again;
 *			see @evicted_pages); the sum of the three reasons
 *			below
 * @evicted_pages:	pages migrated to system memory by eviction
 * @local_accesses:	accesses served from local device memory: one per
 *			page-sized piece of an operation, one per element of
 *			ATOMIC_ADD
 * @remote_accesses:	accesses to system memory over the link (as above)
 * @peer_accesses:	accesses to a hive peer's device memory (as above)
 * @cpu_faults:		CPU faults on device pages (migrate_to_ram; remote
 *			faults - a device outside the hive pulling a page
 *			back, process_vm_readv(), ptrace - are not counted)
 * @pingpong:		CPU<->device direction changes of a 2 MiB region
 * @policy_fallbacks:	decisions rejected and replaced by the default
 * @modeled_ns:		modeled device time in nanoseconds
 * @preemptions:	device work suspended by an invalidation, then resumed
 * @evictions_pressure:	evictions to make room for a device fault's migration
 * @evictions_prefetch:	evictions to make room for a prefetch (SVMX_IOC_MIGRATE
 *			or the policy's prefetch ranges)
 * @evictions_request:	evictions asked for through debugfs evict_all
 * @evictions_failed:	eviction attempts that left pages in the block (busy,
 *			or no system memory for them); counted in the above
 */
struct svmx_counters {
	__u64 faults;
	__u64 fault_batches;
	__u64 pages_to_device;
	__u64 pages_to_system;
	__u64 bytes_to_device;
	__u64 bytes_to_system;
	__u64 copy_cmds;
	__u64 evictions;
	__u64 evicted_pages;
	__u64 local_accesses;
	__u64 remote_accesses;
	__u64 peer_accesses;
	__u64 cpu_faults;
	__u64 pingpong;
	__u64 policy_fallbacks;
	__u64 modeled_ns;
	__u64 preemptions;
	__u64 evictions_pressure;
	__u64 evictions_prefetch;
	__u64 evictions_request;
	__u64 evictions_failed;
};

#define SVMX_EXEC_NO_OP		0xffffffffu	/* @failed_op: no operation failed */

/**
 * struct svmx_exec - SVMX_IOC_EXEC
 * @ops:	(in) pointer to @nr_ops struct svmx_op
 * @nr_ops:	(in) 1..SVMX_EXEC_MAX_OPS (-E2BIG above)
 * @flags:	(in) must be 0
 * @ops_done:	(out) operations that ran in full, the first @ops_done of
 *		the array; @nr_ops on success
 * @failed_op:	(out) index of the operation the call failed on (the one
 *		that failed validation, or the one running when execution
 *		failed, then equal to @ops_done); SVMX_EXEC_NO_OP on success
 *		or when the failure concerns no operation
 * @failed_op_done: (out) the part of operation @failed_op that ran: bytes
 *		(elements for ATOMIC_ADD) from its start, each once; nothing
 *		after them ran.  0 when @failed_op is SVMX_EXEC_NO_OP
 * @counters:	(out) what this call did
 *
 * All operations are validated before any executes: a bad opcode, flag,
 * alignment, an overflowing range, or a range not fully covered by
 * accessible VMAs (PROT_NONE, unmapped, read-only for a write) fails the
 * call with nothing executed.  The device faults and migrates as it goes.
 * The out fields are written back on every return once the operations
 * were read, errors included (-EINTR too), so that a failed call can be
 * resumed at operation @failed_op, @failed_op_done into it, without
 * repeating any work.  Errors before that (-EINVAL for @flags or @nr_ops,
 * -E2BIG, -EFAULT reading @ops) ran nothing.
 */
struct svmx_exec {
	__u64 ops;
	__u32 nr_ops;
	__u32 flags;
	__u32 ops_done;
	__u32 failed_op;
	__u64 failed_op_done;
	struct svmx_counters counters;
};

/* Migration targets. */
#define SVMX_TARGET_SYSTEM	0xffffffffu	/* system memory */
#define SVMX_TARGET_SELF	0xfffffffeu	/* the device of this file */

/**
 * struct svmx_migrate - SVMX_IOC_MIGRATE: explicit prefetch
 * @addr:	(in) page-aligned start
 * @length:	(in) page-aligned, non-zero length
 * @target:	(in) SVMX_TARGET_SELF or SVMX_TARGET_SYSTEM
 * @flags:	(in) must be 0
 * @counters:	(out) what the migration did
 *
 * Best effort, like cudaMemPrefetchAsync: pages that cannot move (pinned,
 * file-backed, locked) stay where they are and are not an error.  Only the
 * given range moves (in 2 MiB-aligned pieces); to the device, the range is
 * also mapped in the device page table.  -EFAULT when no part of the range
 * is mapped.
 */
struct svmx_migrate {
	__u64 addr;
	__u64 length;
	__u32 target;
	__u32 flags;
	struct svmx_counters counters;
};

/* Advice kinds for SVMX_IOC_ADVISE. */
enum svmx_advice {
	SVMX_ADVISE_PREFERRED_LOCATION = 1,	/* @value: device index or SVMX_TARGET_SYSTEM */
	SVMX_ADVISE_UNSET_PREFERRED_LOCATION,
	SVMX_ADVISE_ACCESSED_BY,		/* @value: device index */
	SVMX_ADVISE_UNSET_ACCESSED_BY,		/* @value: device index */
	SVMX_ADVISE_READ_MOSTLY,
	SVMX_ADVISE_UNSET_READ_MOSTLY,
};

/**
 * struct svmx_advise - SVMX_IOC_ADVISE: hints handed to the policy
 * @addr:	(in) page-aligned start
 * @length:	(in) page-aligned, non-zero length
 * @advice:	(in) enum svmx_advice
 * @value:	(in) see enum svmx_advice; 0 where unused
 * @flags:	(in) must be 0
 * @reserved:	(in) must be 0
 */
struct svmx_advise {
	__u64 addr;
	__u64 length;
	__u32 advice;
	__u32 value;
	__u32 flags;
	__u32 reserved;
};

/* Per-page placement in struct svmx_snapshot's output array. */
enum svmx_snap_loc {
	SVMX_SNAP_NONE = 0,	/* not populated */
	SVMX_SNAP_SYSTEM,	/* system memory */
	SVMX_SNAP_LOCAL,	/* this device's memory */
	SVMX_SNAP_PEER,		/* another svmx device's memory */
};

#define SVMX_SNAP_LOC_MASK	0x0f
#define SVMX_SNAP_READ		0x10	/* CPU mapping readable */
#define SVMX_SNAP_WRITE		0x20	/* CPU mapping writable */
#define SVMX_SNAP_DEV_MAPPED	0x40	/* this device's page table maps it */
#define SVMX_SNAP_DEV_WRITE	0x80	/* ... writable */

#define SVMX_SNAPSHOT_MAX_PAGES	(1u << 20)

/**
 * struct svmx_snapshot - SVMX_IOC_SNAPSHOT
 * @addr:	(in) page-aligned start
 * @npages:	(in) 1..SVMX_SNAPSHOT_MAX_PAGES
 * @flags:	(in) must be 0
 * @out:	(in) pointer to @npages bytes: SVMX_SNAP_* location in the low
 *		nibble, permission bits above
 * @peer:	(in) pointer to @npages bytes receiving the device index for
 *		SVMX_SNAP_LOCAL/PEER pages (0xff otherwise), or 0
 *
 * Does not fault anything in and does not change placement.
 */
struct svmx_snapshot {
	__u64 addr;
	__u32 npages;
	__u32 flags;
	__u64 out;
	__u64 peer;
};

/**
 * struct svmx_stats - SVMX_IOC_STATS
 * @flags:	(in) must be 0
 * @reserved:	(in) must be 0
 * @ctx:	(out) totals of this binding (zero if unbound)
 * @device:	(out) totals of the device since load
 * @mem_bytes:	(out) device memory size
 * @mem_used_bytes:	(out) device memory allocated to blocks
 * @blocks:	(out) live device-memory blocks
 * @resident_pages:	(out) pages resident in device memory
 * @pt_leaves:	(out) leaves of this binding's device page table, each
 *		covering 2 MiB; a leaf goes when an invalidation empties it
 *		(zero if unbound)
 */
struct svmx_stats {
	__u32 flags;
	__u32 reserved;
	struct svmx_counters ctx;
	struct svmx_counters device;
	__u64 mem_bytes;
	__u64 mem_used_bytes;
	__u64 blocks;
	__u64 resident_pages;
	__u64 pt_leaves;
};

#define SVMX_IOC_MAGIC		'V'
#define SVMX_IOC_VERSION	_IOR(SVMX_IOC_MAGIC, 0x00, struct svmx_version)
#define SVMX_IOC_BIND		_IOW(SVMX_IOC_MAGIC, 0x01, struct svmx_bind)
#define SVMX_IOC_EXEC		_IOWR(SVMX_IOC_MAGIC, 0x02, struct svmx_exec)
#define SVMX_IOC_MIGRATE	_IOWR(SVMX_IOC_MAGIC, 0x03, struct svmx_migrate)
#define SVMX_IOC_ADVISE		_IOW(SVMX_IOC_MAGIC, 0x04, struct svmx_advise)
#define SVMX_IOC_SNAPSHOT	_IOW(SVMX_IOC_MAGIC, 0x05, struct svmx_snapshot)
#define SVMX_IOC_STATS		_IOWR(SVMX_IOC_MAGIC, 0x06, struct svmx_stats)

#endif /* _UAPI_SVMX_H */
