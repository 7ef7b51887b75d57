// SPDX-License-Identifier: GPL-2.0
/*
 * Chunk and range arithmetic shared by the fault, migration and ioctl paths.
 * Pure functions: covered by the KUnit suite in svmx_kunit.c.
 */
#include <kunit/visibility.h>
#include <linux/kernel.h>
#include <linux/mm.h>

#include "svmx.h"

/**
 * svmx_chunk_around() - the aligned chunk of a given order around an address
 * @addr: faulting address
 * @order: chunk order in pages (0 = one page, SVMX_CHUNK_ORDER = 2 MiB)
 * @vm_start: start of the VMA holding @addr
 * @vm_end: end of the VMA holding @addr
 *
 * The chunk is aligned to its own size, then clipped to the VMA so that a
 * migration never crosses a VMA boundary.
 *
 * Return: the clipped span; it always contains the page of @addr.
 */
struct svmx_span svmx_chunk_around(unsigned long addr, unsigned int order,
				   unsigned long vm_start, unsigned long vm_end)
{
	unsigned long size = PAGE_SIZE << order;
	struct svmx_span span;

	span.start = max(ALIGN_DOWN(addr, size), vm_start);
	span.end = ALIGN_DOWN(addr, size) + size;
	/* The aligned end may wrap at the very top of the address space. */
	if (span.end < span.start || span.end > vm_end)
		span.end = vm_end;
	return span;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_chunk_around);

/**
 * svmx_range_check() - validate a user range
 * @addr: start as given by user space
 * @length: length as given by user space
 * @max_length: largest length accepted
 *
 * Return: 0, or -EINVAL for a zero, unaligned, overflowing, oversized or
 * non-user range.
 */
int svmx_range_check(u64 addr, u64 length, u64 max_length)
{
	if (!length || length > max_length)
		return -EINVAL;
	if (!PAGE_ALIGNED(addr) || !PAGE_ALIGNED(length))
		return -EINVAL;
	if (addr + length < addr || addr + length > TASK_SIZE)
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(svmx_range_check);
