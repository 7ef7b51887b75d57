// SPDX-License-Identifier: GPL-2.0
/*
 * Recordings of svmxctl record (docs/record-format.md): reading one back,
 * strictly (rec_load(): a corrupt or truncated file is refused with the
 * reason), walking its records, and what record and replay both need
 * (the device's counters, the global policy, sizes).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../svmx-tools.h"
#include "svmxctl.h"
#include "recfile.h"

/* ------------------------------------------------------------------
 * Counters, the global policy, sizes
 */

struct counters_arg {
	uint64_t *c;
	unsigned int found;
};

static int counter_kv(const char *key, const char *val, void *arg)
{
	struct counters_arg *a = arg;
	size_t i;

	for (i = 0; i < REC_NR_COUNTERS; i++) {
		if (strcmp(key, svmx_counter_name(i)))
			continue;
		if (ctl_parse_u64(val, &a->c[i]))
			return -EPROTO;
		a->found++;
	}
	return 0;
}

/**
 * rec_read_counters() - the counters of /sys/kernel/debug/svmx/svmxN/stats
 * @dev: N
 * @c: REC_NR_COUNTERS values, in the order of struct svmx_counters
 *
 * Return: 0, a negative errno from reading, or -EPROTO when a counter is
 * missing or not a number.
 */
int rec_read_counters(unsigned int dev, uint64_t *c)
{
	struct counters_arg a = { .c = c };
	char path[128], *text;
	int err;

	snprintf(path, sizeof(path), SVMX_DEBUGFS "/svmx%u/stats", dev);
	err = ctl_read_file(path, &text);
	if (err)
		return err;
	memset(c, 0, REC_NR_COUNTERS * sizeof(*c));
	err = ctl_kv_each(text, counter_kv, &a);
	free(text);
	if (!err && a.found != REC_NR_COUNTERS)
		err = -EPROTO;
	return err;
}

/**
 * rec_global_policy() - the policy deciding in the global scope
 * @name: its name, or "builtin" when no BPF policy is attached there
 * @size: size of @name
 *
 * Return: 0 or a negative errno from reading debugfs.
 */
int rec_global_policy(char *name, size_t size)
{
	char *text, *line, *save, pol[64];
	int err = ctl_read_file(SVMX_DEBUGFS "/policy", &text);

	if (err)
		return err;
	snprintf(name, size, "builtin");
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "attached %63s state=active", pol) == 1 &&
		    strstr(line, "state=active") && strcmp(pol, "none")) {
			snprintf(name, size, "%s", pol);
			break;
		}
	}
	free(text);
	return 0;
}

/**
 * rec_parse_bytes() - a size: a number with an optional K, M or G
 * (powers of 1024, optionally followed by "iB" or "B")
 * @s: the text
 * @bytes: the size
 *
 * Return: 0 or -EINVAL.
 */
int rec_parse_bytes(const char *s, uint64_t *bytes)
{
	static const char *const units = "KMG";
	char num[32], *end;
	const char *u;
	size_t len = strspn(s, "0123456789xabcdefABCDEF");
	int shift = 0;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len);
	num[len] = '\0';
	end = (char *)s + len;
	if (*end) {
		u = strchr(units, *end);
		if (!u)
			return -EINVAL;
		shift = 10 * (int)(u - units + 1);
		end++;
		if (strcmp(end, "") && strcmp(end, "iB") && strcmp(end, "B"))
			return -EINVAL;
	}
	if (ctl_parse_u64(num, bytes))
		return -EINVAL;
	if (*bytes > (UINT64_MAX >> shift))
		return -EINVAL;
	*bytes <<= shift;
	return 0;
}

/* ------------------------------------------------------------------
 * Reading a recording
 */

/**
 * rec_header_crc() - the CRC-32 of a header, its header_crc taken as zero
 * @h: the header
 *
 * Return: the checksum.
 */
uint32_t rec_header_crc(const struct rec_header *h)
{
	struct rec_header copy = *h;

	copy.header_crc = 0;
	return crc32(0, (const Bytef *)&copy, sizeof(copy));
}

const struct rec_hdr *rec_first(const struct recording *r)
{
	return r->hdr.records_bytes ? (const struct rec_hdr *)r->data : NULL;
}

const struct rec_hdr *rec_next(const struct recording *r, const struct rec_hdr *h)
{
	const uint8_t *next = (const uint8_t *)h + h->size;

	return next < r->data + r->hdr.records_bytes ? (const struct rec_hdr *)next : NULL;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return false;
	return true;
}

/* One record at @off: is it well formed?  Sets @why when not. */
static int check_record(struct recording *r, uint64_t off, const struct rec_hdr *h,
			char *why, size_t why_len)
{
	uint64_t left = r->hdr.records_bytes - off;
	const struct rec_map *m = (const void *)h;
	const struct rec_exec *x = (const void *)h;
	const struct rec_cpu *c = (const void *)h;
	const struct rec_unbind *u = (const void *)h;
	const struct rec_req *q = (const void *)h;
	uint32_t i;

	if (left < sizeof(*h) || h->size < sizeof(*h) || h->size > left || h->size % 8) {
		snprintf(why, why_len, "record at byte %" PRIu64 " has a bad size", off);
		return -EINVAL;
	}
	switch (h->type) {
	case REC_MAP:
		if (h->size != sizeof(*m) || m->start >= m->end ||
		    (m->start | m->end) % r->hdr.page_size || m->flags & ~REC_MAP_FLAGS ||
		    m->kind > REC_KIND_MAX)
			goto bad;
		r->nr_map++;
		return 0;
	case REC_EXEC:
		if (h->size < sizeof(*x) || !x->nr_ops || x->nr_ops > SVMX_EXEC_MAX_OPS ||
		    h->size != sizeof(*x) + x->nr_ops * sizeof(struct svmx_op) || x->reserved)
			goto bad;
		for (i = 0; i < x->nr_ops; i++)
			if (x->ops[i].opcode < SVMX_OP_READ || x->ops[i].opcode > SVMX_OP_COPY)
				goto bad;
		r->nr_exec++;
		r->nr_ops += x->nr_ops;
		return 0;
	case REC_CPU:
		if (h->size != sizeof(*c) || c->write > 1 || c->reserved)
			goto bad;
		r->nr_cpu++;
		return 0;
	case REC_UNBIND:
		if (h->size != sizeof(*u) || u->reserved)
			goto bad;
		return 0;
	case REC_MIGRATE:
	case REC_ADVISE:
		if (h->size != sizeof(*q) || q->reserved || !q->length ||
		    (h->type == REC_MIGRATE && q->arg != SVMX_TARGET_SELF &&
		     q->arg != SVMX_TARGET_SYSTEM))
			goto bad;
		r->nr_req++;
		return 0;
	default:
		snprintf(why, why_len, "record at byte %" PRIu64 " has unknown type %u",
			 off, h->type);
		return -EINVAL;
	}
bad:
	snprintf(why, why_len, "record at byte %" PRIu64 " (type %u) is malformed", off, h->type);
	return -EINVAL;
}

static int check_header(const struct rec_header *h, uint64_t file_size,
			char *why, size_t why_len)
{
	if (memcmp(h->magic, REC_MAGIC, sizeof(h->magic))) {
		snprintf(why, why_len, "not an svmx recording (bad magic)");
		return -EINVAL;
	}
	if (h->version != REC_VERSION) {
		snprintf(why, why_len, "format version %u not supported (this svmxctl reads %u)",
			 h->version, REC_VERSION);
		return -EINVAL;
	}
	if (rec_header_crc(h) != h->header_crc) {
		snprintf(why, why_len, "corrupt header (checksum mismatch)");
		return -EINVAL;
	}
	if (h->header_size != REC_HEADER_SIZE || !h->page_size || h->page_size & (h->page_size - 1) ||
	    h->nr_counters != REC_NR_COUNTERS || h->device > 63 || h->reserved0 ||
	    memchr(h->policy, '\0', sizeof(h->policy)) == NULL || !h->policy[0] ||
	    !all_zero(h->counters + h->nr_counters,
		      (REC_MAX_COUNTERS - h->nr_counters) * sizeof(uint64_t)) ||
	    !all_zero(h->reserved, sizeof(h->reserved))) {
		snprintf(why, why_len, "corrupt header (bad field)");
		return -EINVAL;
	}
	if (file_size != REC_HEADER_SIZE + h->records_bytes) {
		snprintf(why, why_len, "%s (%" PRIu64 " bytes, the header says %" PRIu64 ")",
			 file_size < REC_HEADER_SIZE + h->records_bytes ? "truncated" :
			 "trailing bytes after the records", file_size,
			 REC_HEADER_SIZE + h->records_bytes);
		return -EINVAL;
	}
	return 0;
}

/**
 * rec_load() - read and check a whole recording
 * @path: the file
 * @r: filled in; rec_free() releases it (also after a failure)
 * @why: the reason of a refusal, one line
 * @why_len: its size
 *
 * Return: 0, -errno from reading (ENOENT...), or -EINVAL for a file that
 * is not a well-formed recording.
 */
int rec_load(const char *path, struct recording *r, char *why, size_t why_len)
{
	uint64_t off, n = 0;
	const struct rec_hdr *h;
	struct stat st;
	ssize_t got;
	int fd, err;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		snprintf(why, why_len, "%s", strerror(-err));
		if (fd >= 0)
			close(fd);
		return err;
	}
	err = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_len, "not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size < REC_HEADER_SIZE) {
		snprintf(why, why_len, "%s (%lld bytes, shorter than the %d-byte header)",
			 st.st_size >= 8 ? "truncated" : "not an svmx recording",
			 (long long)st.st_size, REC_HEADER_SIZE);
		if (st.st_size >= 8 && pread(fd, r->hdr.magic, 8, 0) == 8 &&
		    memcmp(r->hdr.magic, REC_MAGIC, 8))
			snprintf(why, why_len, "not an svmx recording (bad magic)");
		goto out;
	}
	if (pread(fd, &r->hdr, sizeof(r->hdr), 0) != sizeof(r->hdr)) {
		snprintf(why, why_len, "cannot read the header");
		goto out;
	}
	err = check_header(&r->hdr, st.st_size, why, why_len);
	if (err)
		goto out;
	err = -ENOMEM;
	r->data = malloc(r->hdr.records_bytes ? r->hdr.records_bytes : 1);
	if (!r->data) {
		snprintf(why, why_len, "no memory for %" PRIu64 " bytes", r->hdr.records_bytes);
		goto out;
	}
	err = -EINVAL;
	for (off = 0; off < r->hdr.records_bytes; off += got) {
		got = pread(fd, r->data + off, r->hdr.records_bytes - off, REC_HEADER_SIZE + off);
		if (got <= 0) {
			snprintf(why, why_len, "truncated while reading");
			goto out;
		}
	}
	if (crc32(0, r->data, r->hdr.records_bytes) != r->hdr.records_crc) {
		snprintf(why, why_len, "corrupt records (checksum mismatch)");
		goto out;
	}
	for (off = 0; off < r->hdr.records_bytes; off += h->size, n++) {
		h = (const struct rec_hdr *)(r->data + off);
		err = check_record(r, off, h, why, why_len);
		if (err)
			goto out;
	}
	if (n != r->hdr.nr_records) {
		snprintf(why, why_len, "corrupt: %" PRIu64 " records, the header says %" PRIu64,
			 n, r->hdr.nr_records);
		err = -EINVAL;
		goto out;
	}
	err = 0;
out:
	close(fd);
	return err;
}

void rec_free(struct recording *r)
{
	free(r->data);
	r->data = NULL;
}

