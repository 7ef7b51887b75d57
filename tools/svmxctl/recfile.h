/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmxctl's recording files (record.c writes them, recfile.c reads them,
 * replay.c replays them) and the offline-optimal eviction count
 * (belady.c).  The
 * format is docs/record-format.md; every field little endian.
 */
#ifndef SVMXCTL_RECFILE_H
#define SVMXCTL_RECFILE_H

#include <stdint.h>
#include <stddef.h>

#include <uapi/svmx.h>

#define REC_MAGIC		"SVMXREC\n"
#define REC_VERSION		1
#define REC_HEADER_SIZE		512
#define REC_MAX_COUNTERS	32
#define REC_NR_COUNTERS		(sizeof(struct svmx_counters) / sizeof(__u64))

/**
 * struct rec_header - the first REC_HEADER_SIZE bytes of a recording
 * @magic: REC_MAGIC
 * @version: REC_VERSION
 * @header_size: REC_HEADER_SIZE
 * @page_size: the recording machine's page size
 * @device: index N of the recorded /dev/svmxN
 * @mem_bytes: its device memory
 * @time_ns: start of the recording, CLOCK_REALTIME
 * @nr_records: records after the header
 * @records_bytes: their bytes
 * @records_crc: CRC-32 (zlib's) of those bytes
 * @nr_counters: counters used in @counters (REC_NR_COUNTERS)
 * @reserved0: zero
 * @header_crc: CRC-32 of the header with this field zero
 * @policy: the policy in effect in the global scope ("builtin": none)
 * @counters: the device's counters over the recording (debugfs stats
 *	deltas), in the order of struct svmx_counters
 * @reserved: zero
 */
struct rec_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t page_size;
	uint32_t device;
	uint64_t mem_bytes;
	uint64_t time_ns;
	uint64_t nr_records;
	uint64_t records_bytes;
	uint32_t records_crc;
	uint32_t nr_counters;
	uint32_t reserved0;
	uint32_t header_crc;
	char policy[64];
	uint64_t counters[REC_MAX_COUNTERS];
	uint8_t reserved[REC_HEADER_SIZE - 392];
};

_Static_assert(sizeof(struct rec_header) == REC_HEADER_SIZE, "header size");

enum rec_type {
	REC_MAP = 1,	/* struct rec_map */
	REC_EXEC,	/* struct rec_exec + nr_ops struct svmx_op */
	REC_CPU,	/* struct rec_cpu */
	REC_UNBIND,	/* struct rec_unbind */
	REC_MIGRATE,	/* struct rec_req: SVMX_IOC_MIGRATE */
	REC_ADVISE,	/* struct rec_req: SVMX_IOC_ADVISE */
	REC_TYPE_MAX = REC_ADVISE,
};

/* Every record starts with this; @size counts it. */
struct rec_hdr {
	uint32_t type;
	uint32_t size;
};

/* rec_map.kind (as REC_VMA_* of bpf/svmxctl/record.h) */
enum rec_kind { REC_KIND_ANON, REC_KIND_SHMEM, REC_KIND_FILE, REC_KIND_MAX = REC_KIND_FILE };

#define REC_MAP_READ		0x01
#define REC_MAP_WRITE		0x02
#define REC_MAP_EXEC		0x04
#define REC_MAP_SHARED		0x08
#define REC_MAP_NOHUGEPAGE	0x10
#define REC_MAP_HUGEPAGE	0x20
#define REC_MAP_FLAGS		0x3f

struct rec_map {
	struct rec_hdr h;
	uint64_t start;
	uint64_t end;
	uint32_t flags;
	uint32_t kind;
};

struct rec_exec {
	struct rec_hdr h;
	uint32_t nr_ops;
	int32_t ret;
	uint32_t tid;
	uint32_t reserved;
	struct svmx_op ops[];
};

struct rec_cpu {
	struct rec_hdr h;
	uint64_t addr;
	uint32_t write;
	uint32_t reserved;
};

struct rec_unbind {
	struct rec_hdr h;
	uint64_t pages;
	uint64_t reserved;
};

/* MIGRATE: @arg is the target, @value 0; ADVISE: the advice and its value. */
struct rec_req {
	struct rec_hdr h;
	uint64_t addr;
	uint64_t length;
	uint32_t arg;
	uint32_t value;
	int32_t ret;
	uint32_t reserved;
};

/**
 * struct recording - a recording in memory
 * @hdr: its header
 * @data: its records, @hdr.records_bytes of them
 * @nr_map, @nr_exec, @nr_ops, @nr_cpu, @nr_req: records (operations) by
 *	kind (@nr_req: MIGRATE and ADVISE)
 */
struct recording {
	struct rec_header hdr;
	uint8_t *data;
	uint64_t nr_map, nr_exec, nr_ops, nr_cpu, nr_req;
};

/* Walk the records of @r: for (h = rec_first(r); h; h = rec_next(r, h)) */
const struct rec_hdr *rec_first(const struct recording *r);
const struct rec_hdr *rec_next(const struct recording *r, const struct rec_hdr *h);

int rec_load(const char *path, struct recording *r, char *why, size_t why_len);
uint32_t rec_header_crc(const struct rec_header *h);
void rec_free(struct recording *r);

int rec_read_counters(unsigned int dev, uint64_t *c);
int rec_global_policy(char *name, size_t size);
int rec_parse_bytes(const char *s, uint64_t *bytes);

/* belady.c */
#define OPT_CHUNK_SHIFT		21

int opt_chunks(const struct recording *r, uint64_t **seq, size_t *n);
int opt_min_evictions(const uint64_t *seq, size_t n, size_t capacity,
		      uint64_t *evictions);

#endif /* SVMXCTL_RECFILE_H */
