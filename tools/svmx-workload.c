// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-workload: a GPU-like workload on an svmx device, for make demo and
 * for policy comparisons.
 *
 * The device sweeps a working set (atomic increments, one per 64 bytes)
 * while the CPU updates a few pages of it between sweeps, the classic
 * pattern that makes pages ping-pong between device and system memory.
 * Placement follows the device's policy; --advise-system adds the hint
 * "preferred location: system memory" so that the device maps the data
 * remotely instead of migrating it.  The data is verified at the end.
 *
 * Output: one "key=value" line per counter (or JSON with --json), so two
 * runs can be compared.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>
#include <uapi/svmx.h>

#include "svmx-tools.h"

#define STRIDE		64
#define MIB		(1UL << 20)

struct workload {
	int device;
	unsigned long mib;
	unsigned int iters;
	unsigned int cpu_pages;	/* pages the CPU touches per 2 MiB, per sweep */
	bool advise_system;
	bool json;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [-d DEV] [-m MIB] [-i ITERS] [-c PAGES] [-s] [-j]\n"
		"  -d DEV    device index (/dev/svmxDEV, default 0)\n"
		"  -m MIB    working set in MiB (default 32)\n"
		"  -i ITERS  device sweeps (default 4)\n"
		"  -c PAGES  pages per 2 MiB the CPU updates between sweeps (default 1)\n"
		"  -s        advise preferred location = system memory\n"
		"  -j        JSON output\n"
		"  -h        this text\n", prog);
}

static int parse_args(int argc, char **argv, struct workload *w)
{
	int opt;

	*w = (struct workload){ .mib = 32, .iters = 4, .cpu_pages = 1 };
	while ((opt = getopt(argc, argv, "d:m:i:c:sjh")) != -1) {
		switch (opt) {
		case 'd': w->device = atoi(optarg); break;
		case 'm': w->mib = strtoul(optarg, NULL, 0); break;
		case 'i': w->iters = strtoul(optarg, NULL, 0); break;
		case 'c': w->cpu_pages = strtoul(optarg, NULL, 0); break;
		case 's': w->advise_system = true; break;
		case 'j': w->json = true; break;
		case 'h': usage(stdout, argv[0]); exit(0);
		default: return -EINVAL;
		}
	}
	if (w->device < 0 || !w->mib || w->mib % 2 || !w->iters ||
	    w->cpu_pages > 512 || optind != argc)
		return -EINVAL;
	return 0;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static int device_sweep(int fd, uint64_t *data, size_t bytes)
{
	struct svmx_op op = {
		.opcode = SVMX_OP_ATOMIC_ADD,
		.addr = (uintptr_t)data,
		.length = bytes / STRIDE,
		.stride = STRIDE,
		.value = 1,
	};
	struct svmx_exec exec = { .ops = (uintptr_t)&op, .nr_ops = 1 };

	return xioctl(fd, SVMX_IOC_EXEC, &exec);
}

/* The CPU updates the first @pages pages of every 2 MiB region. */
static void cpu_update(uint64_t *data, size_t bytes, unsigned int pages)
{
	size_t region, p;

	for (region = 0; region < bytes; region += 2 * MIB)
		for (p = 0; p < pages; p++)
			data[(region + p * 4096) / 8 + 1] += 1;
}

static int verify(const uint64_t *data, size_t bytes, const struct workload *w)
{
	size_t i;

	for (i = 0; i < bytes / 8; i++) {
		size_t off = i * 8, in_region = off % (2 * MIB);
		uint64_t want = 0;

		if (off % STRIDE == 0)
			want = w->iters;
		if (off % 4096 == 8 && in_region / 4096 < w->cpu_pages)
			want = w->iters;
		if (data[i] != want) {
			fprintf(stderr, "svmx-workload: data[%zu] = %" PRIu64
				", want %" PRIu64 "\n", i, data[i], want);
			return -EIO;
		}
	}
	return 0;
}

static void report(const struct workload *w, const struct svmx_counters *c)
{
	const uint64_t *v = (const uint64_t *)c;
	struct json_object *o;
	size_t i;

	if (!w->json) {
		for (i = 0; i < SVMX_NR_COUNTERS; i++)
			printf("%s=%" PRIu64 "\n", svmx_counter_name(i), v[i]);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "placement",
			       json_object_new_string(w->advise_system ?
						      "advise-system" : "policy"));
	for (i = 0; i < SVMX_NR_COUNTERS; i++)
		json_object_object_add(o, svmx_counter_name(i),
				       json_object_new_uint64(v[i]));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/*
 * The binding's totals include what the calls returned and what happened
 * outside them: CPU faults, ping-pong.
 */
static int binding_totals(int fd, struct svmx_counters *c)
{
	struct svmx_stats st = { 0 };
	int ret = xioctl(fd, SVMX_IOC_STATS, &st);

	*c = st.ctx;
	return ret;
}

static int run(const struct workload *w, struct svmx_counters *sum)
{
	size_t bytes = w->mib * MIB;
	uint64_t *data;
	unsigned int i;
	int fd, ret;

	fd = svmx_open_bound(w->device, 0);
	if (fd < 0)
		return fd;
	data = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}
	memset(data, 0, bytes);
	if (w->advise_system) {
		struct svmx_advise adv = {
			.addr = (uintptr_t)data, .length = bytes,
			.advice = SVMX_ADVISE_PREFERRED_LOCATION,
			.value = SVMX_TARGET_SYSTEM,
		};

		ret = xioctl(fd, SVMX_IOC_ADVISE, &adv);
		if (ret)
			goto out_unmap;
	}
	for (i = 0, ret = 0; i < w->iters && !ret; i++) {
		ret = device_sweep(fd, data, bytes);
		if (!ret)
			cpu_update(data, bytes, w->cpu_pages);
	}
	if (!ret)
		ret = verify(data, bytes, w);
	if (!ret)
		ret = binding_totals(fd, sum);
out_unmap:
	munmap(data, bytes);
out_close:
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct svmx_counters sum = { 0 };
	struct workload w;
	int ret;

	if (parse_args(argc, argv, &w)) {
		usage(stderr, argv[0]);
		return 2;
	}
	ret = run(&w, &sum);
	if (ret) {
		fprintf(stderr, "svmx-workload: %s\n", strerror(-ret));
		return 1;
	}
	report(&w, &sum);
	return 0;
}
