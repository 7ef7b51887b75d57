// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl replay FILE [--policy P]... [--device N] [--opt [--capacity B]]
 * [--json]: issue a recording's device work again, under each policy
 * given in turn, and report the device's counters.
 *
 * Each run happens in a child process with an empty device binding: the
 * recorded mappings are created at their addresses (MAP_FIXED_NOREPLACE;
 * an address already taken refuses the run), filled with a deterministic
 * pattern, and the EXEC calls, CPU touches and unbinding are issued in
 * the recorded order, call by call (the device epoch advances once per
 * call, as it did).  So two policies meet identical input, and the same
 * policy meets the recorded input: its counters must be the recorded
 * ones, and the report says whether they are.
 *
 * A policy given with --policy is attached in the global scope for its
 * run and detached after it; "builtin" runs with no BPF policy attached.
 * Without --policy, one run under whatever is attached.
 *
 * --opt adds Belady's MIN (belady.c) for the trace at 2 MiB chunks and a
 * device of --capacity bytes (default: the recorded device's memory), and
 * each run's evictions as a ratio to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "../svmx-tools.h"
#include "svmxctl.h"
#include "recfile.h"

#define MAX_POLICIES	16
#define BUILTIN		"builtin"

/* Counters a replay must reproduce under the recorded policy. */
static const int exact[] = { 0 /* faults */, 2 /* pages_to_device */,
			     3 /* pages_to_system */, 7 /* evictions */,
			     12 /* cpu_faults */ };
#define NR_EXACT	(sizeof(exact) / sizeof(exact[0]))
#define C_EVICTIONS	7
#define C_MODELED_NS	15

struct replay_opts {
	const char *file;
	const char *policies[MAX_POLICIES];
	unsigned int nr_policies;
	int dev;		/* -1: the recorded one */
	bool json;
	bool opt;
	uint64_t capacity;	/* 0: the recorded device memory */
};

/* One run's outcome. */
struct replay_run {
	char policy[64];
	uint64_t c[REC_NR_COUNTERS];
	int match;		/* 1 match, 0 mismatch, -1 not compared */
};

/* ------------------------------------------------------------------
 * The child: mappings, calls, touches
 */

struct region {
	uint64_t start, end;
};

struct replayer {
	const struct recording *r;
	unsigned int dev;
	int fd;			/* the bound device file, or -1 */
	struct region *reg;
	size_t nr_reg, cap_reg;
	char *why;		/* one line for the parent */
	size_t why_len;
};

static int fail(struct replayer *rp, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct replayer *rp, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rp->why, rp->why_len, fmt, ap);
	va_end(ap);
	return err;
}

static int bind_device(struct replayer *rp)
{
	struct svmx_bind b = { 0 };
	char path[32];

	snprintf(path, sizeof(path), "/dev/svmx%u", rp->dev);
	rp->fd = open(path, O_RDWR | O_CLOEXEC);
	if (rp->fd < 0)
		return fail(rp, -errno, "%s: %s", path, strerror(errno));
	if (ioctl(rp->fd, SVMX_IOC_BIND, &b))
		return fail(rp, -errno, "binding to %s: %s", path, strerror(errno));
	return 0;
}

static void unmap_all(struct replayer *rp)
{
	size_t i;

	for (i = 0; i < rp->nr_reg; i++)
		munmap((void *)(uintptr_t)rp->reg[i].start, rp->reg[i].end - rp->reg[i].start);
	rp->nr_reg = 0;
}

/* Drop the regions overlapping [start, end): the recording saw them change. */
static void unmap_overlap(struct replayer *rp, uint64_t start, uint64_t end)
{
	size_t i = 0;

	while (i < rp->nr_reg) {
		struct region *g = &rp->reg[i];

		if (g->start < end && start < g->end) {
			munmap((void *)(uintptr_t)g->start, g->end - g->start);
			*g = rp->reg[--rp->nr_reg];
		} else {
			i++;
		}
	}
}

/* A file for a shared-memory or file mapping of @len bytes. */
static int backing_file(struct replayer *rp, const struct rec_map *m, uint64_t len)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	if (m->kind == REC_KIND_SHMEM)
		fd = memfd_create("svmxctl-replay", MFD_CLOEXEC);
	else
		fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(rp, -errno, "a file for the %s mapping at 0x%" PRIx64 ": %s",
			    m->kind == REC_KIND_SHMEM ? "shared-memory" : "file-backed",
			    m->start, strerror(errno));
	if (ftruncate(fd, len)) {
		int err = -errno;

		close(fd);
		return fail(rp, err, "sizing the file of the mapping at 0x%" PRIx64 ": %s",
			    m->start, strerror(-err));
	}
	return fd;
}

/* The pattern: the first word of each page holds the page's address. */
static int fill_file(int fd, uint64_t start, uint64_t len, long page)
{
	uint64_t off;

	for (off = 0; off < len; off += page) {
		uint64_t word = start + off;

		if (pwrite(fd, &word, sizeof(word), off) != sizeof(word))
			return -errno;
	}
	return 0;
}

static int map_one(struct replayer *rp, const struct rec_map *m)
{
	uint64_t len = m->end - m->start, off;
	long page = rp->r->hdr.page_size;
	int flags = MAP_FIXED_NOREPLACE, prot = 0, fd = -1, err;
	struct region *bigger;
	void *p;
	size_t i;

	for (i = 0; i < rp->nr_reg; i++)
		if (rp->reg[i].start == m->start && rp->reg[i].end == m->end)
			return 0;
	unmap_overlap(rp, m->start, m->end);
	if (m->kind == REC_KIND_ANON && !(m->flags & REC_MAP_SHARED)) {
		flags |= MAP_PRIVATE | MAP_ANONYMOUS;
	} else {
		fd = backing_file(rp, m, len);
		if (fd < 0)
			return fd;
		flags |= m->flags & REC_MAP_SHARED ? MAP_SHARED : MAP_PRIVATE;
	}
	p = mmap((void *)(uintptr_t)m->start, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		if (fd >= 0)
			close(fd);
		if (err == -EEXIST)
			return fail(rp, err, "address range 0x%" PRIx64 "-0x%" PRIx64
				    " is taken in the replaying process", m->start, m->end);
		return fail(rp, err, "mapping 0x%" PRIx64 "-0x%" PRIx64 ": %s",
			    m->start, m->end, strerror(-err));
	}
	if ((uintptr_t)p != m->start) {
		munmap(p, len);
		if (fd >= 0)
			close(fd);
		return fail(rp, -EEXIST, "the kernel placed 0x%" PRIx64 " elsewhere", m->start);
	}
	if (rp->nr_reg == rp->cap_reg) {
		rp->cap_reg = rp->cap_reg ? 2 * rp->cap_reg : 16;
		bigger = realloc(rp->reg, rp->cap_reg * sizeof(*bigger));
		if (!bigger) {
			munmap(p, len);
			if (fd >= 0)
				close(fd);
			return fail(rp, -ENOMEM, "out of memory");
		}
		rp->reg = bigger;
	}
	rp->reg[rp->nr_reg++] = (struct region){ m->start, m->end };
	/* Huge-page advice before the pages exist, as the workload had it. */
	if (m->flags & REC_MAP_NOHUGEPAGE)
		madvise(p, len, MADV_NOHUGEPAGE);
	if (m->flags & REC_MAP_HUGEPAGE)
		madvise(p, len, MADV_HUGEPAGE);
	if (fd >= 0 && !(m->flags & REC_MAP_SHARED)) {
		/* Private file pages stay file pages: fill the file. */
		err = fill_file(fd, m->start, len, page);
		if (err)
			return fail(rp, err, "filling the file of 0x%" PRIx64 ": %s",
				    m->start, strerror(-err));
	} else {
		for (off = 0; off < len; off += page)
			*(volatile uint64_t *)(uintptr_t)(m->start + off) = m->start + off;
	}
	if (fd >= 0)
		close(fd);
	if (m->flags & REC_MAP_READ)
		prot |= PROT_READ;
	if (m->flags & REC_MAP_WRITE)
		prot |= PROT_WRITE;
	if (m->flags & REC_MAP_EXEC)
		prot |= PROT_EXEC;
	if (prot != (PROT_READ | PROT_WRITE) && mprotect(p, len, prot))
		return fail(rp, -errno, "protecting 0x%" PRIx64 ": %s", m->start, strerror(errno));
	return 0;
}

static int exec_one(struct replayer *rp, const struct rec_exec *x, uint64_t nr)
{
	struct svmx_exec e = { .ops = (uintptr_t)x->ops, .nr_ops = x->nr_ops };
	int err;

	if (rp->fd < 0) {
		err = bind_device(rp);
		if (err)
			return err;
	}
	err = ioctl(rp->fd, SVMX_IOC_EXEC, &e) ? -errno : 0;
	if (err && !x->ret)
		return fail(rp, err, "EXEC call %" PRIu64 " failed at operation %u: %s",
			    nr, e.failed_op, strerror(-err));
	return 0;
}

/* A MIGRATE or ADVISE call, as recorded. */
static int request(struct replayer *rp, const struct rec_req *q)
{
	struct svmx_migrate m = { .addr = q->addr, .length = q->length, .target = q->arg };
	struct svmx_advise a = { .addr = q->addr, .length = q->length, .advice = q->arg,
				 .value = q->value };
	int err;

	if (rp->fd < 0) {
		err = bind_device(rp);
		if (err)
			return err;
	}
	if (q->h.type == REC_MIGRATE)
		err = ioctl(rp->fd, SVMX_IOC_MIGRATE, &m) ? -errno : 0;
	else
		err = ioctl(rp->fd, SVMX_IOC_ADVISE, &a) ? -errno : 0;
	if (err && !q->ret)
		return fail(rp, err, "%s of 0x%" PRIx64 "+%" PRIu64 " failed: %s",
			    q->h.type == REC_MIGRATE ? "MIGRATE" : "ADVISE", q->addr,
			    q->length, strerror(-err));
	return 0;
}

static bool mapped(const struct replayer *rp, uint64_t addr)
{
	size_t i;

	for (i = 0; i < rp->nr_reg; i++)
		if (addr >= rp->reg[i].start && addr < rp->reg[i].end)
			return true;
	return false;
}

static int touch(struct replayer *rp, const struct rec_cpu *c)
{
	uint64_t *word = (uint64_t *)(uintptr_t)(c->addr & ~7ull);

	if (!mapped(rp, c->addr))
		return fail(rp, -EFAULT, "CPU touch at 0x%" PRIx64 " outside the recorded mappings",
			    c->addr);
	if (c->write)
		__atomic_fetch_add(word, 0, __ATOMIC_RELAXED);	/* a write fault */
	else
		(void)*(volatile uint64_t *)word;
	return 0;
}

/*
 * The binding went away: the recorded pages count tells whether the
 * process unmapped its memory first (none came back) or not.
 */
static void unbind(struct replayer *rp, const struct rec_unbind *u)
{
	if (!u->pages)
		unmap_all(rp);
	if (rp->fd >= 0)
		close(rp->fd);
	rp->fd = -1;
}

static int replay_child(const struct recording *r, unsigned int dev, char *why,
			size_t why_len)
{
	struct replayer rp = { .r = r, .dev = dev, .fd = -1, .why = why,
			       .why_len = why_len };
	const struct rec_hdr *h;
	uint64_t nr_exec = 0;
	int err;

	err = bind_device(&rp);
	for (h = rec_first(r); h && !err; h = rec_next(r, h)) {
		switch (h->type) {
		case REC_MAP:
			err = map_one(&rp, (const void *)h);
			break;
		case REC_EXEC:
			err = exec_one(&rp, (const void *)h, nr_exec++);
			break;
		case REC_CPU:
			err = touch(&rp, (const void *)h);
			break;
		case REC_UNBIND:
			unbind(&rp, (const void *)h);
			break;
		case REC_MIGRATE:
		case REC_ADVISE:
			err = request(&rp, (const void *)h);
			break;
		}
	}
	/* At exit the address space goes before the files. */
	unmap_all(&rp);
	if (rp.fd >= 0)
		close(rp.fd);
	free(rp.reg);
	return err;
}

/* ------------------------------------------------------------------
 * The parent: one run per policy
 */

static int run_once(const struct recording *r, unsigned int dev, uint64_t *c)
{
	uint64_t before[REC_NR_COUNTERS], after[REC_NR_COUNTERS];
	char why[512] = "";
	int fds[2], status, err;
	ssize_t n;
	size_t i;
	pid_t pid;

	err = rec_read_counters(dev, before);
	if (err)
		return ctl_errno(err, "replay: reading the counters of svmx%u: %s", dev,
			       strerror(-err));
	if (pipe2(fds, O_CLOEXEC))
		return ctl_errno(-errno, "replay: pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(fds[0]);
		close(fds[1]);
		return ctl_errno(err, "replay: fork: %s", strerror(-err));
	}
	if (!pid) {
		close(fds[0]);
		err = replay_child(r, dev, why, sizeof(why));
		if (err && write(fds[1], why, strlen(why)) < 0)
			_exit(2);
		_exit(err ? 1 : 0);
	}
	close(fds[1]);
	n = read(fds[0], why, sizeof(why) - 1);
	why[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		if (!why[0])
			snprintf(why, sizeof(why), "the replaying process %s %d",
				 WIFEXITED(status) ? "exited with status" : "was killed by signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return ctl_errno(-EIO, "replay: %s", why);
	}
	err = rec_read_counters(dev, after);
	if (err)
		return ctl_errno(err, "replay: reading the counters of svmx%u: %s", dev,
			       strerror(-err));
	for (i = 0; i < REC_NR_COUNTERS; i++)
		c[i] = after[i] - before[i];
	return 0;
}

static int run_policy(const struct recording *r, unsigned int dev, const char *arg,
		      struct replay_run *run)
{
	struct bpf_link *link = NULL;
	struct ctl_policy p = { 0 };
	int err;

	if (!arg || !strcmp(arg, BUILTIN)) {
		err = rec_global_policy(run->policy, sizeof(run->policy));
		if (err)
			return ctl_errno(err, "replay: reading the global policy: %s", strerror(-err));
		if (arg && strcmp(run->policy, BUILTIN))
			return ctl_errno(-EBUSY, "replay: policy %s is attached globally: cannot replay under builtin",
				       run->policy);
		return run_once(r, dev, run->c);
	}
	err = ctl_policy_open(arg, &p);
	if (!err)
		err = ctl_policy_scope(&p, 0, false);
	if (!err)
		err = ctl_policy_load(&p);
	if (err) {
		ctl_policy_close(&p);
		return ctl_errno(err, "replay: loading policy %s: %s (-v for libbpf's log)", arg,
			       strerror(-err));
	}
	err = ctl_policy_attach(&p, &link);
	if (err) {
		ctl_policy_close(&p);
		return ctl_errno(err, "replay: attaching policy %s globally: %s", p.name,
			       err == -EBUSY ? "a policy is attached there already" :
			       strerror(-err));
	}
	snprintf(run->policy, sizeof(run->policy), "%s", p.name);
	err = run_once(r, dev, run->c);
	bpf_link__destroy(link);
	ctl_policy_close(&p);
	return err;
}

/* ------------------------------------------------------------------
 * Report
 */

static double ratio(uint64_t evictions, uint64_t opt)
{
	return opt ? (double)evictions / opt : 0;
}

static const char *match_word(int match)
{
	return match > 0 ? "match" : match == 0 ? "MISMATCH" : "not compared";
}

static void print_text(const struct replay_opts *o, const struct recording *r,
		       unsigned int dev, const struct replay_run *runs, unsigned int nr,
		       bool have_opt, uint64_t capacity, uint64_t opt_ev)
{
	const struct rec_header *h = &r->hdr;
	time_t t = h->time_ns / 1000000000ull;
	char when[64];
	unsigned int i, k;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
	printf("recording %s: svmx%u, %" PRIu64 " MiB device memory, recorded %s under %s\n",
	       o->file, h->device, h->mem_bytes >> 20, when, h->policy);
	printf("trace: %" PRIu64 " mappings, %" PRIu64 " EXEC calls, %" PRIu64
	       " operations, %" PRIu64 " MIGRATE/ADVISE calls, %" PRIu64 " CPU touches\n",
	       r->nr_map, r->nr_exec, r->nr_ops, r->nr_req, r->nr_cpu);
	if (have_opt)
		printf("opt: Belady MIN, 2 MiB chunks, capacity %" PRIu64 " MiB: %" PRIu64
		       " evictions\n", capacity >> 20, opt_ev);
	printf("replayed on svmx%u\n\n", dev);
	printf("%-12s %9s %15s %15s %9s %10s %12s  %-12s%s\n", "policy", "faults",
	       "pages_to_device", "pages_to_system", "evictions", "cpu_faults",
	       "modeled_ms", "recording", have_opt ? "  evictions/opt" : "");
	for (i = 0; i <= nr; i++) {
		const uint64_t *c = i ? runs[i - 1].c : h->counters;

		printf("%-12s", i ? runs[i - 1].policy : "(recorded)");
		for (k = 0; k < NR_EXACT; k++)
			printf(" %*" PRIu64, k == 0 ? 9 : k < 3 ? 15 : k == 3 ? 9 : 10, c[exact[k]]);
		printf(" %12.3f  %-12s", c[C_MODELED_NS] / 1e6,
		       i ? match_word(runs[i - 1].match) : "-");
		if (have_opt) {
			if (opt_ev)
				printf("  %14.2f", ratio(c[C_EVICTIONS], opt_ev));
			else
				printf("  %14s", "-");
		}
		printf("\n");
	}
}

static struct json_object *json_counters(const uint64_t *c)
{
	struct json_object *j = json_object_new_object();
	size_t i;

	for (i = 0; i < REC_NR_COUNTERS; i++)
		json_object_object_add(j, svmx_counter_name(i), json_object_new_uint64(c[i]));
	return j;
}

static int print_json(const struct replay_opts *o, const struct recording *r,
		      unsigned int dev, const struct replay_run *runs, unsigned int nr,
		      bool have_opt, uint64_t capacity, uint64_t opt_ev)
{
	struct json_object *doc = json_object_new_object(), *rec, *arr, *j;
	const struct rec_header *h = &r->hdr;
	unsigned int i;

	rec = json_object_new_object();
	json_object_object_add(rec, "device", json_object_new_uint64(h->device));
	json_object_object_add(rec, "mem_bytes", json_object_new_uint64(h->mem_bytes));
	json_object_object_add(rec, "time_ns", json_object_new_uint64(h->time_ns));
	json_object_object_add(rec, "policy", json_object_new_string(h->policy));
	json_object_object_add(rec, "mappings", json_object_new_uint64(r->nr_map));
	json_object_object_add(rec, "exec_calls", json_object_new_uint64(r->nr_exec));
	json_object_object_add(rec, "operations", json_object_new_uint64(r->nr_ops));
	json_object_object_add(rec, "cpu_touches", json_object_new_uint64(r->nr_cpu));
	json_object_object_add(rec, "requests", json_object_new_uint64(r->nr_req));
	json_object_object_add(rec, "counters", json_counters(h->counters));
	json_object_object_add(doc, "file", json_object_new_string(o->file));
	json_object_object_add(doc, "device", json_object_new_uint64(dev));
	json_object_object_add(doc, "recording", rec);
	if (have_opt) {
		j = json_object_new_object();
		json_object_object_add(j, "chunk_bytes", json_object_new_uint64(1ull << OPT_CHUNK_SHIFT));
		json_object_object_add(j, "capacity_bytes", json_object_new_uint64(capacity));
		json_object_object_add(j, "evictions", json_object_new_uint64(opt_ev));
		json_object_object_add(doc, "opt", j);
	}
	arr = json_object_new_array();
	for (i = 0; i < nr; i++) {
		j = json_object_new_object();
		json_object_object_add(j, "policy", json_object_new_string(runs[i].policy));
		json_object_object_add(j, "counters", json_counters(runs[i].c));
		json_object_object_add(j, "modeled_ns",
				       json_object_new_uint64(runs[i].c[C_MODELED_NS]));
		json_object_object_add(j, "match", runs[i].match < 0 ? NULL :
				       json_object_new_boolean(runs[i].match));
		if (have_opt)
			json_object_object_add(j, "evictions_to_opt", opt_ev ?
					       json_object_new_double(ratio(runs[i].c[C_EVICTIONS],
									    opt_ev)) : NULL);
		json_object_array_add(arr, j);
	}
	json_object_object_add(doc, "runs", arr);
	return ctl_json_print(doc);
}

/* ------------------------------------------------------------------
 * Command line
 */

static void replay_usage(FILE *f)
{
	fprintf(f,
"Usage: svmxctl replay FILE [--policy P]... [--device N] [--opt [--capacity BYTES]] [--json]\n"
"Issue the device work recorded in FILE (svmxctl record) again, at the same\n"
"addresses and in the same order, once per policy, and print the device's\n"
"counters of each run next to the recorded ones: under the recorded policy\n"
"they must match.\n"
"\n"
"  -p, --policy P       replay under policy P (a name or a .bpf.o file,\n"
"                       attached globally for the run; \"builtin\": none);\n"
"                       repeat for several (default: what is attached)\n"
"  -d, --device N       replay on /dev/svmxN (default: the recorded device)\n"
"      --opt            also compute the offline-optimal eviction count\n"
"                       (Belady's MIN at 2 MiB chunks) and each run's\n"
"                       evictions as a ratio to it\n"
"      --capacity BYTES device memory for --opt (K, M, G suffixes; a\n"
"                       multiple of 2 MiB; default: the recorded device's)\n"
"  -j, --json           one JSON document\n"
"  -h, --help           this text\n");
}

static int replay_parse(int argc, char **argv, struct replay_opts *o)
{
	static const struct option lopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "device", required_argument, NULL, 'd' },
		{ "opt", no_argument, NULL, 'O' },
		{ "capacity", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool have_capacity = false;
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->dev = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "p:d:jh", lopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (o->nr_policies == MAX_POLICIES)
				return ctl_usage_err("replay", "at most %d --policy", MAX_POLICIES);
			o->policies[o->nr_policies++] = optarg;
			break;
		case 'd':
			if (ctl_parse_u64(optarg, &v) || v > 63)
				return ctl_usage_err("replay", "--device wants 0..63, not '%s'", optarg);
			o->dev = v;
			break;
		case 'O':
			o->opt = true;
			break;
		case 'C':
			if (rec_parse_bytes(optarg, &o->capacity) || !o->capacity ||
			    o->capacity % (1ull << OPT_CHUNK_SHIFT))
				return ctl_usage_err("replay",
						     "--capacity wants a positive multiple of 2 MiB (bytes, or with K, M, G), not '%s'",
						     optarg);
			have_capacity = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			replay_usage(stdout);
			return -1;
		default:
			return ctl_usage_err("replay", "unknown option or missing value '%s'",
					     argv[optind - 1]);
		}
	}
	if (have_capacity && !o->opt)
		return ctl_usage_err("replay", "--capacity goes with --opt");
	if (optind >= argc)
		return ctl_usage_err("replay", "no recording FILE");
	if (optind + 1 < argc)
		return ctl_usage_err("replay", "one FILE; unexpected '%s'", argv[optind + 1]);
	o->file = argv[optind];
	return 0;
}

/* Every --policy names a policy object, before anything runs. */
static int check_policies(const struct replay_opts *o)
{
	struct ctl_policy p;
	unsigned int i;
	int err;

	for (i = 0; i < o->nr_policies; i++) {
		if (!strcmp(o->policies[i], BUILTIN))
			continue;
		err = ctl_policy_open(o->policies[i], &p);
		ctl_policy_close(&p);
		if (err == -ENOENT || err == -EINVAL)
			return ctl_errno(err, "replay: unknown policy '%s'", o->policies[i]);
		if (err)
			return ctl_errno(err, "replay: %s is not a policy object: %s", o->policies[i],
				       strerror(-err));
	}
	return 0;
}

static int compute_opt(const struct recording *r, uint64_t capacity, uint64_t *ev)
{
	uint64_t *seq = NULL;
	size_t n = 0;
	int err;

	err = opt_chunks(r, &seq, &n);
	if (!err)
		err = opt_min_evictions(seq, n, capacity >> OPT_CHUNK_SHIFT, ev);
	free(seq);
	if (err)
		ctl_err("replay: computing the optimum: %s", strerror(-err));
	return err;
}

/* Under the recorded policy, on a device of the recorded size: a match? */
static int match_of(const struct recording *r, uint64_t mem, const struct replay_run *run)
{
	size_t k;

	if (strcmp(run->policy, r->hdr.policy) || mem != r->hdr.mem_bytes)
		return -1;
	for (k = 0; k < NR_EXACT; k++)
		if (run->c[exact[k]] != r->hdr.counters[exact[k]])
			return 0;
	return 1;
}

int cmd_replay(int argc, char **argv)
{
	struct replay_run runs[MAX_POLICIES] = { 0 };
	uint64_t capacity = 0, opt_ev = 0, mem = 0;
	struct replay_opts o;
	struct recording r;
	unsigned int dev, i, nr;
	char why[256];
	int err, ret = 1;

	err = replay_parse(argc, argv, &o);
	if (err)
		return err < 0 ? 0 : err;
	err = rec_load(o.file, &r, why, sizeof(why));
	if (err) {
		rec_free(&r);
		return ctl_err("replay: %s: %s", o.file, why);
	}
	if (r.hdr.page_size != (uint32_t)sysconf(_SC_PAGESIZE)) {
		ctl_err("replay: %s: recorded with %u-byte pages, this machine has %ld",
			o.file, r.hdr.page_size, sysconf(_SC_PAGESIZE));
		goto out;
	}
	dev = o.dev >= 0 ? (unsigned int)o.dev : r.hdr.device;
	if (o.opt) {
		capacity = o.capacity ? o.capacity :
			   r.hdr.mem_bytes >> OPT_CHUNK_SHIFT << OPT_CHUNK_SHIFT;
		if (!capacity) {
			ctl_err("replay: the recorded device holds no 2 MiB chunk: give --capacity");
			goto out;
		}
		if (compute_opt(&r, capacity, &opt_ev))
			goto out;
	}
	if (ctl_need_root() || ctl_need_module() || check_policies(&o))
		goto out;
	err = svmx_device_mem_bytes(dev, &mem);
	if (err) {
		ctl_err("replay: /dev/svmx%u: %s", dev, strerror(-err));
		goto out;
	}
	nr = o.nr_policies ? o.nr_policies : 1;
	for (i = 0; i < nr; i++) {
		if (run_policy(&r, dev, o.nr_policies ? o.policies[i] : NULL, &runs[i]))
			goto out;
		runs[i].match = match_of(&r, mem, &runs[i]);
	}
	ret = 0;
	if (o.json)
		ret = print_json(&o, &r, dev, runs, nr, o.opt, capacity, opt_ev) ? 1 : 0;
	else
		print_text(&o, &r, dev, runs, nr, o.opt, capacity, opt_ev);
out:
	rec_free(&r);
	return ret;
}
