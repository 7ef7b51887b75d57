/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the svmx memory selftests: ioctl wrappers returning -errno,
 * operation builders, data patterns, mappings, snapshot and counter
 * arithmetic, debugfs access.  Include after kselftest_harness.h: the
 * logging macros use the harness's _metadata.
 */
#ifndef SVMX_HELPERS_H
#define SVMX_HELPERS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "svmx_lib.h"

#define SZ_2M		(2UL << 20)
#define SVMX_DEBUGFS	"/sys/kernel/debug/svmx"
#define SVMX_NR_COUNTERS (sizeof(struct svmx_counters) / sizeof(__u64))

static inline size_t svmx_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static inline uint64_t svmx_ptr(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

/* ---------------------------------------------------------------------
 * ioctl wrappers: 0 or -errno
 */

static inline int svmx_bind(int fd)
{
	struct svmx_bind b = {};

	return svmx_ioctl(fd, SVMX_IOC_BIND, &b);
}

/* Open /dev/svmxN and bind it to this process; fd or -errno. */
static inline int svmx_open_bound(int dev)
{
	int fd = svmx_open(dev), ret;

	if (fd < 0)
		return -errno;
	ret = svmx_bind(fd);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

/*
 * In a FIXTURE_SETUP: open /dev/svmx@dev bound to this process into @fd;
 * SKIP the test when the device does not exist.
 */
#define SVMX_OPEN_BOUND_OR_SKIP(fd, dev)					\
	do {								\
		(fd) = svmx_open_bound(dev);				\
		if ((fd) == -ENOENT)					\
			SKIP(return, "/dev/svmx%d not present", (dev));	\
		ASSERT_GE((fd), 0);					\
	} while (0)

static inline int svmx_get_version(int fd, struct svmx_version *v)
{
	memset(v, 0, sizeof(*v));
	return svmx_ioctl(fd, SVMX_IOC_VERSION, v);
}

static inline int svmx_get_stats(int fd, struct svmx_stats *st)
{
	memset(st, 0, sizeof(*st));
	return svmx_ioctl(fd, SVMX_IOC_STATS, st);
}

static inline int svmx_exec(int fd, struct svmx_op *ops, unsigned int nr,
			    struct svmx_counters *cnt)
{
	struct svmx_exec e = { .ops = svmx_ptr(ops), .nr_ops = nr };
	int ret = svmx_ioctl(fd, SVMX_IOC_EXEC, &e);

	if (cnt)
		*cnt = e.counters;
	return ret;
}

static inline int svmx_exec1(int fd, struct svmx_op op, struct svmx_counters *cnt)
{
	return svmx_exec(fd, &op, 1, cnt);
}

static inline int svmx_migrate(int fd, void *addr, size_t len, uint32_t target,
			       struct svmx_counters *cnt)
{
	struct svmx_migrate m = {
		.addr = svmx_ptr(addr), .length = len, .target = target,
	};
	int ret = svmx_ioctl(fd, SVMX_IOC_MIGRATE, &m);

	if (cnt)
		*cnt = m.counters;
	return ret;
}

static inline int svmx_advise(int fd, void *addr, size_t len, uint32_t advice,
			      uint32_t value)
{
	struct svmx_advise a = {
		.addr = svmx_ptr(addr), .length = len, .advice = advice,
		.value = value,
	};

	return svmx_ioctl(fd, SVMX_IOC_ADVISE, &a);
}

static inline int svmx_snapshot(int fd, void *addr, unsigned int npages,
				uint8_t *out, uint8_t *peer)
{
	struct svmx_snapshot s = {
		.addr = svmx_ptr(addr), .npages = npages, .out = svmx_ptr(out),
		.peer = svmx_ptr(peer),
	};

	return svmx_ioctl(fd, SVMX_IOC_SNAPSHOT, &s);
}

/* ---------------------------------------------------------------------
 * Operation builders
 */

static inline struct svmx_op svmx_op_read(const void *addr, uint64_t len, void *buf)
{
	return (struct svmx_op){ .opcode = SVMX_OP_READ, .addr = svmx_ptr(addr),
				 .length = len, .buf = svmx_ptr(buf) };
}

static inline struct svmx_op svmx_op_write(void *addr, uint64_t len, const void *buf)
{
	return (struct svmx_op){ .opcode = SVMX_OP_WRITE, .addr = svmx_ptr(addr),
				 .length = len, .buf = svmx_ptr(buf) };
}

static inline struct svmx_op svmx_op_fill(void *addr, uint64_t len, uint64_t value)
{
	return (struct svmx_op){ .opcode = SVMX_OP_FILL, .addr = svmx_ptr(addr),
				 .length = len, .value = value };
}

static inline struct svmx_op svmx_op_atomic(void *addr, uint64_t n, uint64_t stride,
					    uint64_t value)
{
	return (struct svmx_op){ .opcode = SVMX_OP_ATOMIC_ADD,
				 .addr = svmx_ptr(addr), .length = n,
				 .stride = stride, .value = value };
}

static inline struct svmx_op svmx_op_copy(const void *src, uint64_t len, void *dst)
{
	return (struct svmx_op){ .opcode = SVMX_OP_COPY, .addr = svmx_ptr(src),
				 .length = len, .addr2 = svmx_ptr(dst) };
}

/* ---------------------------------------------------------------------
 * Counters and snapshots
 */

/* @after - @before, field by field. */
static inline struct svmx_counters svmx_counters_sub(const struct svmx_counters *after,
						     const struct svmx_counters *before)
{
	struct svmx_counters d;
	const __u64 *a = (const __u64 *)after, *b = (const __u64 *)before;
	__u64 *r = (__u64 *)&d;
	size_t i;

	for (i = 0; i < SVMX_NR_COUNTERS; i++)
		r[i] = a[i] - b[i];
	return d;
}

static inline void svmx_counters_add(struct svmx_counters *sum,
				     const struct svmx_counters *c)
{
	const __u64 *a = (const __u64 *)c;
	__u64 *r = (__u64 *)sum;
	size_t i;

	for (i = 0; i < SVMX_NR_COUNTERS; i++)
		r[i] += a[i];
}

/* Log counters; used where an assertion on them may fail. */
#define SVMX_LOG_COUNTERS(what, c)					\
	TH_LOG("%s: faults=%llu batches=%llu to_dev=%llu/%lluB to_sys=%llu/%lluB " \
	       "cmds=%llu evict=%llu/%llu local=%llu remote=%llu peer=%llu " \
	       "cpu_faults=%llu pingpong=%llu fallbacks=%llu ns=%llu", (what), \
	       (c)->faults, (c)->fault_batches, (c)->pages_to_device,	\
	       (c)->bytes_to_device, (c)->pages_to_system, (c)->bytes_to_system, \
	       (c)->copy_cmds, (c)->evictions, (c)->evicted_pages,	\
	       (c)->local_accesses, (c)->remote_accesses, (c)->peer_accesses, \
	       (c)->cpu_faults, (c)->pingpong, (c)->policy_fallbacks,	\
	       (c)->modeled_ns)

/* Pages whose snapshot byte masked with @mask equals @want. */
static inline unsigned long svmx_snap_count(const uint8_t *snap, unsigned long n,
					    uint8_t mask, uint8_t want)
{
	unsigned long i, c = 0;

	for (i = 0; i < n; i++)
		c += (snap[i] & mask) == want;
	return c;
}

static inline unsigned long svmx_snap_loc_count(const uint8_t *snap, unsigned long n,
						uint8_t loc)
{
	return svmx_snap_count(snap, n, SVMX_SNAP_LOC_MASK, loc);
}

/* ---------------------------------------------------------------------
 * Data patterns: word i of a pattern is a function of (seed, i) only, so a
 * page that lands at the wrong address or a partial copy shows up.
 */

static inline uint64_t svmx_pat(uint64_t seed, uint64_t i)
{
	uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 29);
}

static inline void svmx_pat_fill(void *p, size_t len, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = svmx_pat(seed, i);
}

/*
 * @p holds words @first.. of pattern @seed: index (from @p) of the first
 * word of [@p, @p + @len) that differs, or -1.
 */
static inline long svmx_pat_check_from(const void *p, size_t first, size_t len,
				       uint64_t seed)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != svmx_pat(seed, first + i))
			return (long)i;
	return -1;
}

/* Index of the first word of @p that differs from the pattern, or -1. */
static inline long svmx_pat_check(const void *p, size_t len, uint64_t seed)
{
	return svmx_pat_check_from(p, 0, len, seed);
}

/* Index of the first word that is not @v, or -1. */
static inline long svmx_words_check(const void *p, size_t len, uint64_t v)
{
	const uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i] != v)
			return (long)i;
	return -1;
}

/*
 * Sparse per-page tags for big ranges: 8 words per page, at offsets
 * k * page_size / 8, encode (seed, page, k).  The word at offset 8 is left
 * to counters.
 */
static inline uint64_t svmx_tag(uint64_t seed, uint64_t page, unsigned int k)
{
	return svmx_pat(seed, page * 8 + k);
}

static inline void svmx_tags_fill(void *p, unsigned long npages, uint64_t seed)
{
	size_t ps = svmx_page_size();
	unsigned long i;
	unsigned int k;

	for (i = 0; i < npages; i++)
		for (k = 0; k < 8; k++)
			*(uint64_t *)((char *)p + i * ps + k * (ps / 8)) =
				svmx_tag(seed, i, k);
}

/* First page whose tags differ, or -1. */
static inline long svmx_tags_check(const void *p, unsigned long npages, uint64_t seed)
{
	size_t ps = svmx_page_size();
	unsigned long i;
	unsigned int k;

	for (i = 0; i < npages; i++)
		for (k = 0; k < 8; k++)
			if (*(const uint64_t *)((const char *)p + i * ps + k * (ps / 8)) !=
			    svmx_tag(seed, i, k))
				return (long)i;
	return -1;
}

/* ---------------------------------------------------------------------
 * Mappings
 */

/*
 * Map @len bytes at @offset past an @align boundary, with a PROT_NONE guard
 * page on either side, so that the mapping is a VMA of its own: it never
 * merges with a neighbour, and device fault chunks (clipped to the VMA)
 * stay inside it.  @flags: MAP_SHARED or MAP_PRIVATE, plus MAP_ANONYMOUS
 * when @fd < 0.  NULL on failure.
 */
static inline void *svmx_map_guarded(size_t len, size_t align, size_t offset,
				     int prot, int flags, int fd)
{
	size_t ps = svmx_page_size();
	size_t total = len + align + offset + 2 * ps;
	char *res, *start, *p;

	res = mmap(NULL, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	if (res == MAP_FAILED)
		return NULL;
	start = (char *)(((uintptr_t)res + ps + align - 1) & ~(uintptr_t)(align - 1)) +
		offset;
	p = mmap(start, len, prot, flags | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		munmap(res, total);
		return NULL;
	}
	if (start - ps > res)
		munmap(res, start - ps - res);
	if (start + len + ps < res + total)
		munmap(start + len + ps, res + total - (start + len + ps));
	return p;
}

/* Anonymous memory (@flags: MAP_PRIVATE or MAP_SHARED), a VMA of its own. */
static inline void *svmx_map_anon(size_t len, int flags)
{
	return svmx_map_guarded(len, svmx_page_size(), 0, PROT_READ | PROT_WRITE,
				flags | MAP_ANONYMOUS, -1);
}

/* Private anonymous memory aligned to @align, with @prot, a VMA of its own. */
static inline void *svmx_map_aligned(size_t len, size_t align, int prot)
{
	return svmx_map_guarded(len, align, 0, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1);
}

/* Whether THP may back MADV_HUGEPAGE memory. */
static inline bool svmx_thp_enabled(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !strstr(buf, "[never]");
}

/* AnonHugePages (kB) of the VMA holding @addr, from /proc/self/smaps. */
static inline unsigned long svmx_anon_huge_kb(const void *addr)
{
	unsigned long start, end, kb = 0;
	bool in = false;
	char line[256];
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		/* VMA header lines start "start-end "; key lines do not parse. */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = (uintptr_t)addr >= start && (uintptr_t)addr < end;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %lu kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* Pages of [addr, addr + len) resident in system memory (mincore). */
static inline long svmx_mincore_count(void *addr, size_t len)
{
	size_t ps = svmx_page_size(), n = len / ps, i;
	unsigned char *vec = calloc(n, 1);
	long c = 0;

	if (!vec)
		return -1;
	if (mincore(addr, len, vec)) {
		free(vec);
		return -1;
	}
	for (i = 0; i < n; i++)
		c += vec[i] & 1;
	free(vec);
	return c;
}

/* ---------------------------------------------------------------------
 * debugfs: /sys/kernel/debug/svmx/svmxN/{stats,evict_all}
 */

static inline bool svmx_debugfs_ok(int dev)
{
	char path[96];

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/svmx%d/evict_all", dev);
	if (access(path, W_OK))
		return false;
	snprintf(path, sizeof(path), SVMX_DEBUGFS "/svmx%d/stats", dev);
	return !access(path, R_OK);
}

/* Value of "key=value" in svmxN/stats; 0 or -errno. */
static inline int svmx_debugfs_stat(int dev, const char *key, uint64_t *val)
{
	char path[96], buf[4096], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/svmx%d/stats", dev);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			*val = strtoull(p + klen + 1, NULL, 0);
			return 0;
		}
	}
	return -ENOENT;
}

/* Evict all device memory of svmxN; 0 or -errno of the write. */
static inline int svmx_evict_all(int dev)
{
	char path[96];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/svmx%d/evict_all", dev);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, "1\n", 2);
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

#endif /* SVMX_HELPERS_H */
