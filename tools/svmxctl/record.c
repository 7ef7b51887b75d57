// SPDX-License-Identifier: GPL-2.0
/*
 * svmxctl record FILE [--device N] -- CMD...: run CMD and record its
 * device work into FILE (docs/record-format.md), for svmxctl replay.
 *
 * The BPF program bpf/svmxctl/record.bpf.c (skeleton ctl_record) follows
 * CMD's process tree on the svmx tracepoints and sends, in order: the
 * operations of every EXEC call (svmx_exec_op), the mappings they touch,
 * the CPU touches of device pages (svmx_cpu_fault) and unbinding.  The
 * device's counters over the run (debugfs stats) go into the header, so
 * that a replay can say whether it reproduced them.
 *
 * FILE appears only when the recording is complete: it is written to a
 * temporary file next to it and renamed at the end; a failed command, a
 * lost event or an interrupted recording leaves nothing.
 *
 * recfile.c reads recordings back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <bpf/libbpf.h>

#include "../svmx-tools.h"
#include "svmxctl.h"
#include "recfile.h"
#include "ctl_record.skel.h"
#include "../../bpf/svmxctl/record.h"

/* ------------------------------------------------------------------
 * Recording
 */

/* Records being built, in order, and the EXEC calls still receiving ops. */
struct rec_out {
	uint8_t *data;
	size_t len, cap;
	uint64_t nr;
	struct pending {
		uint32_t tid;
		size_t off;		/* of its struct rec_exec in @data, or SIZE_MAX */
		uint32_t got;
		struct rec_exec *x;	/* being filled, malloc()ed */
		size_t last_off;	/* the tid's last EXEC record: its ret */
		size_t req_off;		/* its last MIGRATE/ADVISE record: its ret */
	} pend[64];
	unsigned int nr_pend;
	int err;
	const char *why;
};

static void *out_add(struct rec_out *o, const void *rec, size_t size)
{
	uint8_t *bigger;

	if (o->err)
		return NULL;
	if (o->len + size > o->cap) {
		size_t cap = o->cap ? o->cap : 1 << 16;

		while (cap < o->len + size)
			cap *= 2;
		bigger = realloc(o->data, cap);
		if (!bigger) {
			o->err = -ENOMEM;
			o->why = "no memory for the recording";
			return NULL;
		}
		o->data = bigger;
		o->cap = cap;
	}
	memcpy(o->data + o->len, rec, size);
	o->len += size;
	o->nr++;
	return o->data + o->len - size;
}

static struct pending *pend_of(struct rec_out *o, uint32_t tid, bool make)
{
	unsigned int i;

	for (i = 0; i < o->nr_pend; i++)
		if (o->pend[i].tid == tid)
			return &o->pend[i];
	if (!make)
		return NULL;
	if (o->nr_pend == sizeof(o->pend) / sizeof(o->pend[0])) {
		o->err = -E2BIG;
		o->why = "more than 64 threads submit device work";
		return NULL;
	}
	memset(&o->pend[o->nr_pend], 0, sizeof(o->pend[0]));
	o->pend[o->nr_pend].tid = tid;
	o->pend[o->nr_pend].last_off = SIZE_MAX;
	o->pend[o->nr_pend].req_off = SIZE_MAX;
	return &o->pend[o->nr_pend++];
}

static void on_op(struct rec_out *o, const struct rec_event *e)
{
	struct pending *p = pend_of(o, e->tid, true);
	struct svmx_op *op;
	size_t size;

	if (!p)
		return;
	if (e->a == 0) {
		free(p->x);
		size = sizeof(*p->x) + (size_t)e->b * sizeof(struct svmx_op);
		p->x = calloc(1, size);
		if (!p->x || !e->b || e->b > SVMX_EXEC_MAX_OPS) {
			o->err = -ENOMEM;
			o->why = "no memory for an EXEC call";
			return;
		}
		p->x->h.type = REC_EXEC;
		p->x->h.size = size;
		p->x->nr_ops = e->b;
		p->x->tid = e->tid;
		p->got = 0;
	}
	if (!p->x || e->a != p->got || (uint32_t)e->b != p->x->nr_ops) {
		o->err = -EPROTO;
		o->why = "the operations of an EXEC call came out of order";
		return;
	}
	op = &p->x->ops[p->got++];
	op->opcode = e->c;
	op->addr = e->x[0];
	op->length = e->x[1];
	op->stride = e->x[2];
	op->value = e->x[3];
	op->addr2 = e->x[4];
	op->buf = e->x[5];
	if (p->got == p->x->nr_ops) {
		size_t off = o->len;

		if (out_add(o, p->x, p->x->h.size))
			p->last_off = off;
		free(p->x);
		p->x = NULL;
	}
}

static void on_event(struct rec_out *o, const struct rec_event *e)
{
	struct pending *p;

	switch (e->type) {
	case REC_EV_OP:
		on_op(o, e);
		break;
	case REC_EV_VMA: {
		struct rec_map m = {
			.h = { REC_MAP, sizeof(m) }, .start = e->x[0], .end = e->x[1],
			.flags = e->b & REC_MAP_FLAGS, .kind = e->a,
		};

		out_add(o, &m, sizeof(m));
		break;
	}
	case REC_EV_CPU: {
		struct rec_cpu c = {
			.h = { REC_CPU, sizeof(c) }, .addr = e->x[0], .write = e->a == 1,
		};

		out_add(o, &c, sizeof(c));
		break;
	}
	case REC_EV_MIGRATE:
	case REC_EV_ADVISE: {
		struct rec_req q = {
			.h = { e->type == REC_EV_MIGRATE ? REC_MIGRATE : REC_ADVISE, sizeof(q) },
			.addr = e->x[0], .length = e->x[1], .arg = e->a, .value = e->b,
		};
		size_t off = o->len;

		p = pend_of(o, e->tid, true);
		if (p && out_add(o, &q, sizeof(q)))
			p->req_off = off;
		break;
	}
	case REC_EV_IOCTL:
		if (_IOC_NR(e->a) != _IOC_NR(SVMX_IOC_EXEC)) {
			p = pend_of(o, e->tid, false);
			if (p && p->req_off != SIZE_MAX) {
				((struct rec_req *)(o->data + p->req_off))->ret = e->b;
				p->req_off = SIZE_MAX;
			}
			break;
		}
		p = pend_of(o, e->tid, false);
		if (p && p->last_off != SIZE_MAX && !p->x) {
			((struct rec_exec *)(o->data + p->last_off))->ret = e->b;
			p->last_off = SIZE_MAX;
		}
		break;
	case REC_EV_UNBIND:
		if (e->a) {
			struct rec_unbind u = { .h = { REC_UNBIND, sizeof(u) }, .pages = e->x[0] };

			out_add(o, &u, sizeof(u));
		}
		break;
	}
}

static int on_ringbuf(void *ctx, void *data, size_t size)
{
	if (size >= sizeof(struct rec_event))
		on_event(ctx, data);
	return 0;
}

static void record_usage(FILE *f)
{
	fprintf(f,
"Usage: svmxctl record FILE [--device N] -- CMD [ARG]...\n"
"Run CMD and record its device work on /dev/svmxN into FILE: the mappings\n"
"it touches, every operation of its EXEC calls, and the CPU touches of\n"
"device pages, in order, with the device's counters over the run.\n"
"svmxctl replay FILE issues the same work again.\n"
"\n"
"  -d, --device N   the device to record (default 0)\n"
"  -h, --help       this text\n"
"\n"
"FILE is written only when CMD succeeded and nothing was lost.\n");
}

static volatile sig_atomic_t rec_stop;

static void on_signal(int sig)
{
	rec_stop = 1;
}

/*
 * Run CMD, held until @go is written; an exec failure comes back through
 * @errfd (close-on-exec: end of file once CMD runs).  Return its pid or
 * -errno.
 */
static pid_t spawn_cmd(char **argv, int *go, int *errfd)
{
	int fds[2], efds[2];
	pid_t pid;
	char c;

	if (pipe2(fds, O_CLOEXEC))
		return -errno;
	if (pipe2(efds, O_CLOEXEC)) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		close(efds[0]);
		close(efds[1]);
		return -errno;
	}
	if (!pid) {
		int err;

		close(fds[1]);
		close(efds[0]);
		if (read(fds[0], &c, 1) != 1)
			_exit(127);
		execvp(argv[0], argv);
		err = errno;
		if (write(efds[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(fds[0]);
	close(efds[1]);
	*go = fds[1];
	*errfd = efds[0];
	return pid;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/* Write the recording to a temporary file next to @path and rename it. */
static int write_recording(const char *path, struct rec_header *h, struct rec_out *o)
{
	mode_t mask = umask(0);
	char tmp[4096];
	int fd, err;

	umask(mask);

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	h->nr_records = o->nr;
	h->records_bytes = o->len;
	h->records_crc = crc32(0, o->data, o->len);
	h->header_crc = 0;
	h->header_crc = rec_header_crc(h);
	err = write_all(fd, h, sizeof(*h));
	if (!err)
		err = write_all(fd, o->data, o->len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && chmod(tmp, 0666 & ~mask))
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int child_status(const char *cmd, int status)
{
	if (WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	if (WIFEXITED(status))
		ctl_err("record: %s exited with status %d; nothing recorded", cmd,
			WEXITSTATUS(status));
	else
		ctl_err("record: %s was killed by signal %d; nothing recorded", cmd,
			WTERMSIG(status));
	return -ECHILD;
}

/* Check that @path can be a new file, before anything runs. */
static int check_writable(const char *path)
{
	struct stat st;
	char tmp[4096];
	int fd;

	if (!stat(path, &st) && !S_ISREG(st.st_mode))
		return -EEXIST;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(tmp);
	return 0;
}

struct record_opts {
	const char *file;
	unsigned int dev;
	char **cmd;
};

static int record_parse(int argc, char **argv, struct record_opts *o)
{
	static const struct option lopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	uint64_t v;
	int c, dash;

	memset(o, 0, sizeof(*o));
	for (dash = 1; dash < argc && strcmp(argv[dash], "--"); dash++)
		;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(dash, argv, "d:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ctl_parse_u64(optarg, &v) || v > 63)
				return ctl_usage_err("record", "--device wants 0..63, not '%s'", optarg);
			o->dev = v;
			break;
		case 'h':
			record_usage(stdout);
			return -1;
		default:
			return ctl_usage_err("record", "unknown option or missing value '%s'",
					     argv[optind - 1]);
		}
	}
	if (optind >= dash)
		return ctl_usage_err("record", "no output FILE");
	if (optind + 1 < dash)
		return ctl_usage_err("record", "one FILE, then -- CMD; unexpected '%s'",
				     argv[optind + 1]);
	o->file = argv[optind];
	if (dash + 1 >= argc)
		return ctl_usage_err("record", "no command to record (svmxctl record FILE -- CMD)");
	o->cmd = argv + dash + 1;
	return 0;
}

/* Run the command under the recorder; fills @h (counters, policy) and @o. */
static int record_run(const struct record_opts *ro, struct ctl_record *skel,
		      struct rec_header *h, struct rec_out *o)
{
	uint64_t before[REC_NR_COUNTERS], after[REC_NR_COUNTERS];
	struct ring_buffer *rb;
	struct timespec now;
	int go = -1, errfd = -1, exec_err = 0, status = 0, err;
	size_t i;
	uint32_t tgid;
	uint8_t one = 1;
	pid_t pid;

	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_ringbuf, o, NULL);
	if (!rb)
		return ctl_errno(-EIO, "record: ring buffer: %s", strerror(errno));
	err = rec_global_policy(h->policy, sizeof(h->policy));
	if (!err)
		err = rec_read_counters(ro->dev, before);
	if (err) {
		ring_buffer__free(rb);
		return ctl_errno(err, "record: reading the counters of svmx%u: %s", ro->dev,
			       strerror(-err));
	}
	clock_gettime(CLOCK_REALTIME, &now);
	h->time_ns = (uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec;
	pid = spawn_cmd(ro->cmd, &go, &errfd);
	if (pid < 0) {
		ring_buffer__free(rb);
		return ctl_errno(pid, "record: fork: %s", strerror(-pid));
	}
	tgid = pid;
	err = bpf_map__update_elem(skel->maps.tgids, &tgid, sizeof(tgid), &one, sizeof(one), 0);
	if (err) {
		kill(pid, SIGKILL);
		close(go);
		close(errfd);
		waitpid(pid, NULL, 0);
		ring_buffer__free(rb);
		return ctl_errno(err, "record: following %s: %s", ro->cmd[0], strerror(-err));
	}
	if (write(go, &one, 1) != 1)
		kill(pid, SIGKILL);
	close(go);
	if (read(errfd, &exec_err, sizeof(exec_err)) == sizeof(exec_err)) {
		close(errfd);
		waitpid(pid, NULL, 0);
		ring_buffer__free(rb);
		return ctl_errno(-exec_err, "record: cannot run %s: %s; nothing recorded", ro->cmd[0],
			       strerror(exec_err));
	}
	close(errfd);
	for (;;) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			break;
		err = waitpid(pid, &status, WNOHANG);
		if (err == pid || (err < 0 && errno != EINTR))
			break;
	}
	if (err != pid)
		waitpid(pid, &status, 0);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	err = child_status(ro->cmd[0], status);
	if (err)
		return err;
	if (rec_stop)
		return ctl_errno(-EINTR, "record: interrupted; nothing recorded");
	if (skel->bss->lost || skel->bss->vma_lost)
		return ctl_errno(-ENOBUFS, "record: %llu events lost (ring buffer full) and %llu mappings unread; nothing recorded",
			       (unsigned long long)skel->bss->lost,
			       (unsigned long long)skel->bss->vma_lost);
	if (o->err)
		return ctl_errno(o->err, "record: %s; nothing recorded", o->why);
	for (i = 0; i < o->nr_pend; i++)
		if (o->pend[i].x)
			return ctl_errno(-EPROTO, "record: an EXEC call of thread %u was cut short; nothing recorded",
				       o->pend[i].tid);
	err = rec_read_counters(ro->dev, after);
	if (err)
		return ctl_errno(err, "record: reading the counters of svmx%u: %s", ro->dev,
			       strerror(-err));
	for (i = 0; i < REC_NR_COUNTERS; i++)
		h->counters[i] = after[i] - before[i];
	h->nr_counters = REC_NR_COUNTERS;
	return 0;
}

int cmd_record(int argc, char **argv)
{
	struct rec_header h = { .magic = REC_MAGIC, .version = REC_VERSION,
				.header_size = REC_HEADER_SIZE };
	struct rec_out o = { 0 };
	struct record_opts ro;
	struct ctl_record *skel = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t ops = 0;
	size_t i;
	int err;

	err = record_parse(argc, argv, &ro);
	if (err)
		return err < 0 ? 0 : err;
	if (ctl_need_root() || ctl_need_module())
		return 1;
	err = svmx_device_mem_bytes(ro.dev, &h.mem_bytes);
	if (err)
		return ctl_err("record: /dev/svmx%u: %s", ro.dev, strerror(-err));
	err = check_writable(ro.file);
	if (err)
		return ctl_err("record: cannot write %s: %s", ro.file,
			       err == -EEXIST ? "it exists and is not a regular file" :
			       strerror(-err));
	h.device = ro.dev;
	h.page_size = sysconf(_SC_PAGESIZE);
	skel = ctl_record__open();
	if (!skel)
		return ctl_err("record: opening the recorder: %s", strerror(errno));
	skel->rodata->rec_dev = ro.dev;
	err = ctl_record__load(skel);
	if (!err)
		err = ctl_record__attach(skel);
	if (err) {
		ctl_record__destroy(skel);
		return ctl_err("record: loading the recorder: %s (-v for libbpf's log)",
			       strerror(-err));
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	err = record_run(&ro, skel, &h, &o);
	ctl_record__destroy(skel);
	for (i = 0; i < o.nr_pend; i++)
		free(o.pend[i].x);
	if (!err) {
		err = write_recording(ro.file, &h, &o);
		if (err)
			ctl_err("record: writing %s: %s", ro.file, strerror(-err));
	}
	if (!err) {
		struct recording r = { .hdr = h, .data = o.data };
		const struct rec_hdr *rh;

		for (rh = rec_first(&r); rh; rh = rec_next(&r, rh))
			if (rh->type == REC_EXEC)
				ops += ((const struct rec_exec *)rh)->nr_ops;
		fprintf(stderr, "svmxctl: recorded %" PRIu64 " records (%" PRIu64
			" operations) of %s on svmx%u into %s\n", o.nr, ops, ro.cmd[0],
			ro.dev, ro.file);
	}
	free(o.data);
	return err ? 1 : 0;
}
