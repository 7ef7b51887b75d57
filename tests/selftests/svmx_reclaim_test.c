// SPDX-License-Identifier: GPL-2.0
/*
 * Device writes survive reclaim.  The device writes system memory that it
 * maps remotely (preferred location: system memory) with every writing
 * operation - WRITE, FILL, ATOMIC_ADD and the destination of COPY - and
 * then the memory is reclaimed and read back by the CPU:
 *
 * - anonymous memory: swapped out, read back (the CPU mapping is then
 *   writable and clean, the folio still in the swap cache), written by the
 *   device, swapped out again;
 * - shared memory (a memfd): the same, and a page first faulted in by a
 *   CPU read (a clean page-cache folio, mapped writable);
 * - a file on ext4: written back (fsync), dropped from the page cache
 *   (drop_caches), read back from the disk.
 *
 * Each test sets up what it needs: swap on a loop device over a tmpfs
 * file, or ext4 on a loop device (mkfs.ext4 from e2fsprogs), and SKIPs
 * with the reason when it cannot.  Run as root in the test VM.
 */
#include <linux/loop.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/swap.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"

#define DEV		0
#define NPAGES		16		/* four quarters, one per writing op */
#define SWAP_BYTES	(64UL << 20)
#define IMG_BYTES	(32UL << 20)
#define SHM_DIR		"/dev/shm"
/* MADV_PAGEOUT calls before pages still mapped fail the test. */
/*
 * MADV_PAGEOUT skips folios still under writeback from the previous
 * pageout (to a loop device, written by a kernel thread), so it is retried,
 * 10 ms apart, until every page is out: a bound on tries, not on speed.
 */
#define PAGEOUT_TRIES	1000

enum mem_kind { KIND_ANON, KIND_SHMEM, KIND_FILE };

FIXTURE(reclaim)
{
	int fd;
	size_t ps;
	size_t size;
	char dir[64];		/* scratch directory on tmpfs, or "" */
	char backing[96];	/* swap or ext4 image in @dir */
	char loopdev[32];	/* loop device over @backing, or "" */
	char mnt[96];		/* ext4 mount point, or "" */
	bool swap_on;
	int file;		/* memfd or file on ext4, else -1 */
	char *mem;
	char *src;		/* source of the COPY, anonymous */
};

FIXTURE_VARIANT(reclaim)
{
	enum mem_kind kind;
};

FIXTURE_VARIANT_ADD(reclaim, anon) { .kind = KIND_ANON };
FIXTURE_VARIANT_ADD(reclaim, shmem) { .kind = KIND_SHMEM };
FIXTURE_VARIANT_ADD(reclaim, file) { .kind = KIND_FILE };

/* Attach @path to a free loop device; its name in @dev.  0 or -errno. */
static int loop_attach(const char *path, char *dev, size_t len)
{
	int ctl, nr, lfd = -1, ffd, ret = 0;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	nr = ioctl(ctl, LOOP_CTL_GET_FREE);
	close(ctl);
	if (nr < 0)
		return -errno;
	snprintf(dev, len, "/dev/loop%d", nr);
	ffd = open(path, O_RDWR | O_CLOEXEC);
	if (ffd >= 0)
		lfd = open(dev, O_RDWR | O_CLOEXEC);
	if (ffd < 0 || lfd < 0 || ioctl(lfd, LOOP_SET_FD, ffd))
		ret = -errno;
	if (lfd >= 0)
		close(lfd);
	if (ffd >= 0)
		close(ffd);
	if (ret)
		dev[0] = '\0';
	return ret;
}

static void loop_detach(const char *dev)
{
	int lfd = open(dev, O_RDWR | O_CLOEXEC);

	if (lfd >= 0) {
		ioctl(lfd, LOOP_CLR_FD);
		close(lfd);
	}
}

/*
 * A swap area of @bytes in @path: a version-1 swap header (what mkswap
 * writes, without bad pages, UUID or label) in the first page of a sparse
 * file.  0 or -errno.
 */
static int make_swap_file(const char *path, size_t bytes, size_t ps)
{
	char *hdr = calloc(1, ps);
	uint32_t info[3] = { 1, bytes / ps - 1, 0 };	/* version, last_page, nr_badpages */
	int fd, ret = 0;

	if (!hdr)
		return -ENOMEM;
	memcpy(hdr + 1024, info, sizeof(info));
	memcpy(hdr + ps - 10, "SWAPSPACE2", 10);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, bytes) || pwrite(fd, hdr, ps, 0) != (ssize_t)ps)
		ret = -errno;
	if (fd >= 0)
		close(fd);
	free(hdr);
	return ret;
}

/* Pages of [mem, mem + len) present in this process's page table. */
static long pages_present(void *mem, size_t len, size_t ps)
{
	unsigned long n = len / ps, i;
	uint64_t *pm = calloc(n, sizeof(*pm));
	long c = 0;
	int fd;

	if (!pm)
		return -1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, pm, n * 8, (uintptr_t)mem / ps * 8) != (ssize_t)(n * 8))
		c = -1;
	for (i = 0; c >= 0 && i < n; i++)
		c += pm[i] >> 63;
	if (fd >= 0)
		close(fd);
	free(pm);
	return c;
}

/* Undo env_setup(), from wherever it got. */
static void env_cleanup(FIXTURE_DATA(reclaim) *self)
{
	if (self->swap_on)
		swapoff(self->loopdev);
	self->swap_on = false;
	if (self->mnt[0]) {
		umount(self->mnt);
		rmdir(self->mnt);
		self->mnt[0] = '\0';
	}
	if (self->loopdev[0])
		loop_detach(self->loopdev);
	self->loopdev[0] = '\0';
	if (self->backing[0])
		unlink(self->backing);
	self->backing[0] = '\0';
	if (self->dir[0])
		rmdir(self->dir);
	self->dir[0] = '\0';
}

/*
 * Swap on a loop device over a tmpfs file, or ext4 on a loop device for
 * the file variant.  0, or -1 with the reason in @why after cleaning up.
 */
static int env_setup(FIXTURE_DATA(reclaim) *self,
		     const FIXTURE_VARIANT(reclaim) *variant, char *why, size_t len)
{
	char cmd[256];
	int ret, fd;

	snprintf(self->dir, sizeof(self->dir), SHM_DIR "/svmx-reclaim-XXXXXX");
	if (!mkdtemp(self->dir)) {
		self->dir[0] = '\0';
		snprintf(why, len, "no scratch directory in " SHM_DIR ": %s", strerror(errno));
		return -1;
	}
	snprintf(self->backing, sizeof(self->backing), "%s/%s", self->dir,
		 variant->kind == KIND_FILE ? "ext4.img" : "swap");
	if (variant->kind != KIND_FILE) {
		ret = make_swap_file(self->backing, SWAP_BYTES, self->ps);
		if (ret) {
			snprintf(why, len, "swap file %s: %s", self->backing, strerror(-ret));
			goto fail;
		}
	} else {
		fd = open(self->backing, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || ftruncate(fd, IMG_BYTES)) {
			snprintf(why, len, "image %s: %s", self->backing, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto fail;
		}
		close(fd);
		snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s >/dev/null 2>&1", self->backing);
		if (system(cmd)) {
			snprintf(why, len, "mkfs.ext4 (e2fsprogs) failed or is missing");
			goto fail;
		}
	}
	ret = loop_attach(self->backing, self->loopdev, sizeof(self->loopdev));
	if (ret) {
		snprintf(why, len, "no loop device for %s: %s", self->backing, strerror(-ret));
		goto fail;
	}
	if (variant->kind != KIND_FILE) {
		if (swapon(self->loopdev, SWAP_FLAG_PREFER | (32767 & SWAP_FLAG_PRIO_MASK))) {
			snprintf(why, len, "swapon %s: %s", self->loopdev, strerror(errno));
			goto fail;
		}
		self->swap_on = true;
		return 0;
	}
	snprintf(self->mnt, sizeof(self->mnt), "%s/mnt", self->dir);
	if (mkdir(self->mnt, 0700)) {
		snprintf(why, len, "mkdir %s: %s", self->mnt, strerror(errno));
		self->mnt[0] = '\0';
		goto fail;
	}
	if (mount(self->loopdev, self->mnt, "ext4", 0, NULL)) {
		snprintf(why, len, "mount -t ext4 %s: %s", self->loopdev, strerror(errno));
		rmdir(self->mnt);
		self->mnt[0] = '\0';
		goto fail;
	}
	return 0;
fail:
	env_cleanup(self);
	return -1;
}

FIXTURE_SETUP(reclaim)
{
	char why[256];
	cpu_set_t one;

	self->ps = svmx_page_size();
	self->size = NPAGES * self->ps;
	self->dir[0] = self->backing[0] = self->loopdev[0] = self->mnt[0] = '\0';
	self->swap_on = false;
	self->file = -1;
	self->mem = NULL;
	self->src = NULL;
	SVMX_OPEN_BOUND_OR_SKIP(self->fd, DEV);
	if (geteuid())
		SKIP(return, "needs root: sets up swap or a loop-mounted ext4");
	/*
	 * One CPU: MADV_PAGEOUT drains only this CPU's LRU batches, and the
	 * pages must have been added to the LRU here to be isolated.
	 */
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(one), &one));
	if (env_setup(self, variant, why, sizeof(why)))
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(reclaim)
{
	char path[128];

	if (self->mem)
		munmap(self->mem, self->size);
	if (self->src)
		munmap(self->src, self->size / 4);
	if (self->file >= 0)
		close(self->file);
	if (self->fd >= 0)
		close(self->fd);
	if (self->mnt[0]) {
		snprintf(path, sizeof(path), "%s/data", self->mnt);
		unlink(path);
	}
	env_cleanup(self);
}

/* Map the test memory of @variant; a VMA of its own. */
static char *map_mem(struct __test_metadata *_metadata,
		     FIXTURE_DATA(reclaim) *self,
		     const FIXTURE_VARIANT(reclaim) *variant)
{
	char path[128];

	switch (variant->kind) {
	case KIND_ANON:
		return svmx_map_anon(self->size, MAP_PRIVATE);
	case KIND_SHMEM:
		self->file = memfd_create("svmx-reclaim", MFD_CLOEXEC);
		break;
	case KIND_FILE:
		snprintf(path, sizeof(path), "%s/data", self->mnt);
		self->file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		break;
	}
	if (self->file < 0 || ftruncate(self->file, self->size))
		return NULL;
	return svmx_map_guarded(self->size, self->ps, 0, PROT_READ | PROT_WRITE,
				MAP_SHARED, self->file);
}

/*
 * Take the memory out of RAM, so that the next CPU access reads it back
 * from swap or disk: MADV_PAGEOUT for anonymous and shared memory (until
 * no page is mapped any more), fsync + unmap + drop_caches + map again for
 * the file (until no page is cached).  0 on success.
 */
static int evict(struct __test_metadata *_metadata, FIXTURE_DATA(reclaim) *self,
		 const FIXTURE_VARIANT(reclaim) *variant)
{
	long left = -1;
	int i;

	if (variant->kind != KIND_FILE) {
		for (i = 0; i < PAGEOUT_TRIES; i++) {
			if (madvise(self->mem, self->size, MADV_PAGEOUT)) {
				TH_LOG("MADV_PAGEOUT: %s", strerror(errno));
				return -1;
			}
			left = pages_present(self->mem, self->size, self->ps);
			if (!left)
				return 0;
			usleep(10000);
		}
		TH_LOG("%ld of %d pages still mapped after %d MADV_PAGEOUT", left,
		       NPAGES, PAGEOUT_TRIES);
		return -1;
	}
	if (fsync(self->file) || munmap(self->mem, self->size)) {
		TH_LOG("fsync/munmap: %s", strerror(errno));
		return -1;
	}
	if (mmap(self->mem, self->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 self->file, 0) != self->mem) {
		TH_LOG("mmap again: %s", strerror(errno));
		self->mem = NULL;
		return -1;
	}
	for (i = 0; i < PAGEOUT_TRIES; i++) {
		if (svmx_write_file("/proc/sys/vm/drop_caches", "3")) {
			TH_LOG("drop_caches: %s", strerror(errno));
			return -1;
		}
		left = svmx_mincore_count(self->mem, self->size);
		if (!left)
			return 0;
	}
	TH_LOG("%ld of %d pages still cached after %d drop_caches", left, NPAGES,
	       PAGEOUT_TRIES);
	return -1;
}

/*
 * The device writes each quarter of the memory with another operation:
 * WRITE (pattern 2), FILL (@fill), ATOMIC_ADD of @add to every word, COPY
 * (pattern 3, from @self->src).  Mapped in place, in system memory.
 */
static void device_writes(struct __test_metadata *_metadata,
			  FIXTURE_DATA(reclaim) *self, uint64_t fill, uint64_t add)
{
	size_t q = self->size / 4;
	char *buf = malloc(q);
	struct svmx_counters c;
	struct svmx_op ops[4];
	uint8_t snap[NPAGES];

	ASSERT_NE(NULL, buf);
	svmx_pat_fill(buf, q, 2);
	ops[0] = svmx_op_write(self->mem, q, buf);
	ops[1] = svmx_op_fill(self->mem + q, q, fill);
	ops[2] = svmx_op_atomic(self->mem + 2 * q, q / 8, 8, add);
	ops[3] = svmx_op_copy(self->src, q, self->mem + 3 * q);
	ASSERT_EQ(0, svmx_exec(self->fd, ops, 4, &c));
	free(buf);
	/* The device wrote the system pages themselves. */
	ASSERT_EQ(0, svmx_snapshot(self->fd, self->mem, NPAGES, snap, NULL));
	EXPECT_EQ(NPAGES, svmx_snap_loc_count(snap, NPAGES, SVMX_SNAP_SYSTEM));
	EXPECT_EQ(NPAGES, svmx_snap_count(snap, NPAGES, SVMX_SNAP_DEV_WRITE,
					  SVMX_SNAP_DEV_WRITE));
	EXPECT_GE(c.remote_accesses, NPAGES);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("device writes", &c);
}

/* The quarters hold what device_writes() wrote over pattern @seed (or 0s). */
static void check_device_data(struct __test_metadata *_metadata,
			      FIXTURE_DATA(reclaim) *self, int seed,
			      uint64_t fill, uint64_t add)
{
	size_t q = self->size / 4, i;
	const uint64_t *atom = (const uint64_t *)(self->mem + 2 * q);
	unsigned long bad = 0;

	EXPECT_EQ(-1, svmx_pat_check(self->mem, q, 2)) TH_LOG("WRITE lost");
	EXPECT_EQ(-1, svmx_words_check(self->mem + q, q, fill)) TH_LOG("FILL lost");
	for (i = 0; i < q / 8; i++)
		bad += atom[i] != (seed < 0 ? 0 : svmx_pat(seed, q / 8 * 2 + i)) + add;
	EXPECT_EQ(0, bad) TH_LOG("ATOMIC_ADD lost in %lu words", bad);
	EXPECT_EQ(-1, svmx_pat_check(self->mem + 3 * q, q, 3)) TH_LOG("COPY lost");
}

static void setup_memory(struct __test_metadata *_metadata,
			 FIXTURE_DATA(reclaim) *self,
			 const FIXTURE_VARIANT(reclaim) *variant)
{
	self->mem = map_mem(_metadata, self, variant);
	ASSERT_NE(NULL, self->mem);
	self->src = svmx_map_anon(self->size / 4, MAP_PRIVATE);
	ASSERT_NE(NULL, self->src);
	svmx_pat_fill(self->src, self->size / 4, 3);
	/* Keep the pages in system memory: the device maps them in place. */
	ASSERT_EQ(0, svmx_advise(self->fd, self->mem, self->size,
				 SVMX_ADVISE_PREFERRED_LOCATION, SVMX_TARGET_SYSTEM));
}

/*
 * Data written by the CPU, reclaimed, read back by the CPU (an anonymous
 * page then stays in the swap cache, mapped writable and clean), written
 * by the device, reclaimed again: the CPU reads the device's data.
 */
TEST_F(reclaim, device_writes_after_read_back)
{
	uint64_t fill = 0x5a5a5a5a00c0ffeeULL, add = 0x1001;

	setup_memory(_metadata, self, variant);
	svmx_pat_fill(self->mem, self->size, 1);
	ASSERT_EQ(0, evict(_metadata, self, variant));
	ASSERT_EQ(-1, svmx_pat_check(self->mem, self->size, 1));

	device_writes(_metadata, self, fill, add);
	ASSERT_EQ(0, evict(_metadata, self, variant));
	check_device_data(_metadata, self, 1, fill, add);
}

/*
 * Memory never written, faulted in by a CPU read (a shared-memory page is
 * then a clean page-cache folio mapped writable), written by the device,
 * reclaimed: the CPU reads the device's data.
 */
TEST_F(reclaim, device_writes_after_read_fault)
{
	uint64_t fill = 0x0123456789abcdefULL, add = 7;

	setup_memory(_metadata, self, variant);
	ASSERT_EQ(-1, svmx_words_check(self->mem, self->size, 0));

	device_writes(_metadata, self, fill, add);
	ASSERT_EQ(0, evict(_metadata, self, variant));
	check_device_data(_metadata, self, -1, fill, add);
}

TEST_HARNESS_MAIN
