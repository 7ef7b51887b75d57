// SPDX-License-Identifier: GPL-2.0
/*
 * Scope and safety of BPF policies: per-cgroup policies (two cgroups with
 * two policies at once, a nested cgroup inherits, removing the cgroup
 * ejects), per-cgroup counters, shadow policies, the invalid-answer budget
 * window, live swaps under a multi-threaded workload, refused updates,
 * privilege, module lifetime, and bpftool's view.  Every workload runs in
 * a child process that joins a cgroup, binds /dev/svmx0 there and reports
 * its counters, snapshot and data check through shared memory.
 */
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <linux/capability.h>
#include <pthread.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#pragma GCC diagnostic ignored "-Wclobbered"
#include "kselftest_harness.h"
#include "svmx_helpers.h"
#include "svmx_cgroup.h"

#include <bpf/bpf.h>

#include "scope.skel.h"
#include "sysmem.skel.h"

#define MIB		(1UL << 20)
#define POLICY_FILE	SVMX_DEBUGFS "/policy"
#define SCOPES_FILE	SVMX_DEBUGFS "/scopes"
#define PARAM_DIR	"/sys/module/svmx/parameters/"
#define BUDGET_FILE	PARAM_DIR "bpf_invalid_budget"
#define WINDOW_FILE	PARAM_DIR "bpf_invalid_window_ms"
#define TRACE_DIR	"/sys/kernel/tracing/"
#define SHADOW_EVENT	TRACE_DIR "events/svmx/svmx_policy_shadow/enable"
#define POLLS		3000	/* x 10 ms: a generous bound, fails loudly */

/* Values of kernel enums (kernel/svmx.h, kernel/svmx_bpf.h). */
#define PLACE_MIGRATE	0
#define PLACE_REMOTE	1
#define EXIT_REPLACED	2
#define EXIT_UNREG	1
#define EXIT_CGROUP	5
#define OPS_SHADOW	1



/*
 * The block of debugfs scopes for (@cgid, @role), up to the next scope;
 * "" when absent.  Static buffer: valid until the next call.
 */
static const char *scope_block(uint64_t cgid, const char *role)
{
	static char text[65536], block[8192];
	char head[96], *b, *e;

	block[0] = 0;
	if (read_text(SCOPES_FILE, text, sizeof(text)))
		return block;
	snprintf(head, sizeof(head), "scope cgroup=%llu role=%s ",
		 (unsigned long long)cgid, role);
	b = strstr(text, head);
	if (!b)
		return block;
	e = strstr(b + 1, "\nscope ");
	snprintf(block, sizeof(block), "%.*s", (int)(e ? e - b : (long)strlen(b)), b);
	return block;
}




/* Poll the scope block of (@cgid, @role) until it contains @want. */
static bool wait_scope(uint64_t cgid, const char *role, const char *want)
{
	int i;

	for (i = 0; i < POLLS; i++) {
		if (strstr(scope_block(cgid, role), want))
			return true;
		usleep(10000);
	}
	return false;
}



/* What a child's workload saw. */
struct result {
	int err;		/* 0, or the step that failed */
	struct svmx_counters c;	/* of the device read */
	unsigned long n;	/* pages */
	unsigned long local;	/* in this device's memory after the read */
	unsigned long sys_mapped; /* system memory mapped by the device */
	long bad;		/* first bad byte read by the device, or -1 */
};

static struct result *result_new(void)
{
	struct result *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return r == MAP_FAILED ? NULL : r;
}

/* The device reads @size bytes of pattern @seed through @fd. */
static int device_read(int fd, size_t size, uint64_t seed, struct result *r)
{
	size_t ps = svmx_page_size();
	uint8_t *snap;
	char *mem, *buf;

	r->n = size / ps;
	mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	buf = malloc(size);
	snap = malloc(r->n);
	if (!mem || !buf || !snap)
		return 10;
	svmx_pat_fill(mem, size, seed);
	if (svmx_exec1(fd, svmx_op_read(mem, size, buf), &r->c))
		return 11;
	r->bad = svmx_pat_check(buf, size, seed);
	if (svmx_snapshot(fd, mem, r->n, snap, NULL))
		return 12;
	r->local = svmx_snap_loc_count(snap, r->n, SVMX_SNAP_LOCAL);
	r->sys_mapped = svmx_snap_count(snap, r->n,
					SVMX_SNAP_LOC_MASK | SVMX_SNAP_DEV_MAPPED,
					SVMX_SNAP_SYSTEM | SVMX_SNAP_DEV_MAPPED);
	if (svmx_pat_check(mem, size, seed) != -1)	/* CPU brings all back */
		return 13;
	munmap(mem, size);
	free(buf);
	free(snap);
	return 0;
}

/*
 * In a child that joined @cg (NULL: this cgroup), bind /dev/svmx0 and let
 * the device read @size bytes; the outcome in @r.
 */
static void child_read(const char *cg, size_t size, uint64_t seed, struct result *r)
{
	int status, fd;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->err = -1;
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		if (cg && cg_enter(cg))
			_exit(1);
		fd = svmx_open_bound(0);
		if (fd < 0)
			_exit(2);
		r->err = device_read(fd, size, seed, r);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		r->err = -2;
}

/*
 * Rename the policy of a scope.bpf.o skeleton before load.  bpftool's
 * skeleton leaves char arrays of struct_ops out (__unsupported_N), so the
 * name is changed in the map's data, where the compiled-in one is.
 */
static void scope_rename(struct pol_scope *skel, const char *name)
{
	static const char compiled[] = "test_scope";
	size_t size;
	char *d = bpf_map__initial_value(skel->maps.scope_ops, &size);
	char *p = d ? memmem(d, size, compiled, sizeof(compiled)) : NULL;

	if (p)
		snprintf(p, 32, "%s", name);	/* SVMX_OPS_NAME_LEN */
}

/* A scope policy with its knobs, scope and name set, loaded. */
static struct pol_scope *scope_load(const char *name, uint64_t cgid, uint64_t flags,
				    uint32_t placement, uint32_t order)
{
	struct pol_scope *skel = pol_scope__open();

	if (!skel)
		return NULL;
	skel->rodata->placement = placement;
	skel->rodata->order = order;
	skel->struct_ops.scope_ops->cgroup_id = cgid;
	skel->struct_ops.scope_ops->flags = flags;
	scope_rename(skel, name);
	if (pol_scope__load(skel)) {
		pol_scope__destroy(skel);
		return NULL;
	}
	return skel;
}

static struct pol_sysmem *sysmem_load(uint64_t cgid, uint64_t flags)
{
	struct pol_sysmem *skel = pol_sysmem__open();

	if (!skel)
		return NULL;
	skel->struct_ops.sysmem_ops->cgroup_id = cgid;
	skel->struct_ops.sysmem_ops->flags = flags;
	if (pol_sysmem__load(skel)) {
		pol_sysmem__destroy(skel);
		return NULL;
	}
	return skel;
}

FIXTURE(scope)
{
	size_t ps;
	char budget[32];
	char window[32];
	struct result *r;
	char cg[4][PATH_MAX];	/* made by the test, removed in teardown */
};

FIXTURE_SETUP(scope)
{
	int fd;

	self->ps = svmx_page_size();
	fd = svmx_open(0);
	if (fd < 0)
		SKIP(return, "/dev/svmx0 not present");
	close(fd);
	if (access(SCOPES_FILE, R_OK))
		SKIP(return, "svmx.ko built without BPF policies");
	if (access(CG_ROOT "/cgroup.procs", W_OK))
		SKIP(return, "cgroup2 is not mounted on " CG_ROOT);
	ASSERT_NE(NULL, strstr(scope_block(0, "active"), "attached none"));
	ASSERT_NE(NULL, strstr(scope_block(0, "shadow"), "attached none"));
	ASSERT_EQ(0, read_text(BUDGET_FILE, self->budget, sizeof(self->budget)));
	ASSERT_EQ(0, read_text(WINDOW_FILE, self->window, sizeof(self->window)));
	self->r = result_new();
	ASSERT_NE(NULL, self->r);
}

FIXTURE_TEARDOWN(scope)
{
	int i;

	if (self->budget[0])
		svmx_write_file(BUDGET_FILE, self->budget);
	if (self->window[0])
		svmx_write_file(WINDOW_FILE, self->window);
	cg_enter(CG_ROOT);
	for (i = ARRAY_SIZE(self->cg) - 1; i >= 0; i--)
		if (self->cg[i][0])
			rmdir(self->cg[i]);
}

/*
 * Two cgroups, two policies at once: cgroup A maps system memory remotely
 * (sysmem), cgroup B migrates one page per fault; a process in neither is
 * decided by the built-in default.  Snapshots, counters per process and
 * per cgroup, and each scope's call counts tell them apart.
 */
TEST_F(scope, two_cgroups_two_policies)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct bpf_link *la, *lb;
	struct pol_sysmem *a;
	struct pol_scope *b;
	uint64_t ida, idb;
	struct result ra, rb, rd;

	ASSERT_EQ(0, cg_make("svmx_scope_a", self->cg[0], PATH_MAX, &ida));
	ASSERT_EQ(0, cg_make("svmx_scope_b", self->cg[1], PATH_MAX, &idb));
	a = sysmem_load(ida, 0);
	b = scope_load("test_small", idb, 0, PLACE_MIGRATE, 0);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	la = bpf_map__attach_struct_ops(a->maps.sysmem_ops);
	ASSERT_NE(NULL, la);
	lb = bpf_map__attach_struct_ops(b->maps.scope_ops);
	ASSERT_NE(NULL, lb);
	EXPECT_NE(NULL, strstr(scope_block(ida, "active"), "attached sysmem state=active"));
	EXPECT_NE(NULL, strstr(scope_block(idb, "active"), "attached test_small state=active"));
	EXPECT_NE(NULL, strstr(scope_block(0, "active"), "attached none"));

	child_read(self->cg[0], size, 1, self->r);
	ra = *self->r;
	child_read(self->cg[1], size, 2, self->r);
	rb = *self->r;
	child_read(NULL, size, 3, self->r);
	rd = *self->r;
	ASSERT_EQ(0, ra.err);
	ASSERT_EQ(0, rb.err);
	ASSERT_EQ(0, rd.err);
	EXPECT_EQ(-1, ra.bad);
	EXPECT_EQ(-1, rb.bad);
	EXPECT_EQ(-1, rd.bad);

	/* A: nothing moved, everything mapped remotely. */
	EXPECT_EQ(0, ra.c.pages_to_device);
	EXPECT_EQ(n, ra.sys_mapped);
	EXPECT_EQ(n, ra.c.remote_accesses);
	/* B: every page migrated on its own fault. */
	EXPECT_EQ(n, rb.c.pages_to_device);
	EXPECT_EQ(n, rb.local);
	EXPECT_EQ(n, rb.c.faults);
	EXPECT_EQ(n, value_in(scope_block(idb, "active"), "  fault", "calls"));
	/* Neither: the default's 2 MiB chunks, one policy call each. */
	EXPECT_EQ(n, rd.c.pages_to_device);
	EXPECT_EQ(n, rd.local);
	EXPECT_GT(n, rd.c.faults);
	EXPECT_EQ(0, ra.c.policy_fallbacks + rb.c.policy_fallbacks + rd.c.policy_fallbacks);

	/* The per-cgroup counters hold each cgroup's own totals. */
	EXPECT_EQ(ra.c.faults, cg_value(ida, "faults"));
	EXPECT_EQ(0, cg_value(ida, "pages_to_device"));
	EXPECT_EQ(0, cg_value(ida, "bytes_to_device"));
	EXPECT_EQ(n, cg_value(ida, "remote_accesses"));
	EXPECT_LE(ra.c.modeled_ns, cg_value(ida, "modeled_ns"));
	EXPECT_EQ(n, cg_value(idb, "faults"));
	EXPECT_EQ(n, cg_value(idb, "pages_to_device"));
	EXPECT_EQ(size, cg_value(idb, "bytes_to_device"));
	EXPECT_LE(rb.c.modeled_ns, cg_value(idb, "modeled_ns"));
	EXPECT_LE(size, cg_value(idb, "bytes_to_system"));	/* CPU check */
	EXPECT_EQ(0, cg_value(idb, "evictions"));
	EXPECT_EQ(0, cg_value(idb, "contexts"));
	if (_metadata->exit_code) {
		SVMX_LOG_COUNTERS("A", &ra.c);
		SVMX_LOG_COUNTERS("B", &rb.c);
		TH_LOG("%s\n%s", cgroup_line(ida), cgroup_line(idb));
	}

	bpf_link__destroy(la);
	bpf_link__destroy(lb);
	EXPECT_NE(NULL, strstr(scope_block(ida, "active"), "last_exit sysmem kind=unregistered"));
	EXPECT_NE(NULL, strstr(scope_block(idb, "active"), "last_exit test_small kind=unregistered"));
	pol_sysmem__destroy(a);
	pol_scope__destroy(b);
}

/*
 * A cgroup without a policy inherits its nearest ancestor's; its own
 * policy overrides; detached, the ancestor's applies again.
 */
TEST_F(scope, nested_cgroup_inherits)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct pol_sysmem *parent;
	struct pol_scope *own;
	struct bpf_link *lp, *lo;
	uint64_t idp, idc;
	char sub[PATH_MAX];

	ASSERT_EQ(0, cg_make("svmx_scope_p", self->cg[0], PATH_MAX, &idp));
	ASSERT_EQ(0, cg_make("svmx_scope_p/c", self->cg[1], PATH_MAX, &idc));
	snprintf(sub, sizeof(sub), "%s", self->cg[1]);
	parent = sysmem_load(idp, 0);
	ASSERT_NE(NULL, parent);
	lp = bpf_map__attach_struct_ops(parent->maps.sysmem_ops);
	ASSERT_NE(NULL, lp);

	child_read(sub, size, 4, self->r);
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(0, self->r->c.pages_to_device);	/* the parent's sysmem */
	EXPECT_EQ(n, self->r->sys_mapped);

	own = scope_load("test_own", idc, 0, PLACE_MIGRATE, 0);
	ASSERT_NE(NULL, own);
	lo = bpf_map__attach_struct_ops(own->maps.scope_ops);
	ASSERT_NE(NULL, lo);
	child_read(sub, size, 5, self->r);
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(n, self->r->c.pages_to_device);	/* its own, page by page */
	EXPECT_EQ(n, self->r->c.faults);
	EXPECT_EQ(n, own->bss->nr_fault);

	bpf_link__destroy(lo);
	child_read(sub, size, 6, self->r);
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(0, self->r->c.pages_to_device);	/* the parent's again */
	EXPECT_EQ(n, own->bss->nr_fault);
	EXPECT_STREQ("", cgroup_line(idp));	/* nothing bound there */
	EXPECT_LT(0, cg_value(idc, "faults"));

	bpf_link__destroy(lp);
	pol_scope__destroy(own);
	pol_sysmem__destroy(parent);
}

/*
 * Removing a cgroup ejects its policy (exit kind cgroup_removed, exit
 * callback run) and the next scope's policy decides for the contexts
 * bound there: a context bound in the cgroup by a process that moved out
 * before the removal is then decided by the global policy.
 */
TEST_F(scope, cgroup_removal_ejects)
{
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	int go[2], ready[2], status, fd;
	struct pol_sysmem *global;
	struct pol_scope *own;
	struct bpf_link *lg, *lo, *again;
	uint64_t id;
	char c;
	pid_t pid;

	ASSERT_EQ(0, cg_make("svmx_scope_gone", self->cg[0], PATH_MAX, &id));
	global = sysmem_load(0, 0);
	own = scope_load("test_gone", id, 0, PLACE_MIGRATE, 0);
	ASSERT_NE(NULL, global);
	ASSERT_NE(NULL, own);
	lg = bpf_map__attach_struct_ops(global->maps.sysmem_ops);
	ASSERT_NE(NULL, lg);
	lo = bpf_map__attach_struct_ops(own->maps.scope_ops);
	ASSERT_NE(NULL, lo);
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));

	memset(self->r, 0, sizeof(*self->r));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* It holds the test's links: it must not outlive the test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Bind in the cgroup, read once (its policy), move out. */
		if (cg_enter(self->cg[0]))
			_exit(1);
		fd = svmx_open_bound(0);
		if (fd < 0 || device_read(fd, size, 7, self->r))
			_exit(2);
		if (self->r->c.pages_to_device != n || cg_enter(CG_ROOT))
			_exit(3);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(4);
		/* The cgroup is gone: the global sysmem decides now. */
		self->r->err = device_read(fd, size, 8, self->r);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, rmdir(self->cg[0]));
	self->cg[0][0] = 0;
	ASSERT_TRUE(wait_scope(id, "active", "kind=cgroup_removed"))
		TH_LOG("%s", scope_block(id, "active"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), " removed\n"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), "attached test_gone state=ejected"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), "reason=cgroup removed"));
	EXPECT_EQ(1, own->bss->exited);
	EXPECT_EQ(EXIT_CGROUP, own->bss->exit_kind);
	EXPECT_EQ(n, own->bss->exit_fault_calls);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(0, self->r->c.pages_to_device);
	EXPECT_EQ(n, self->r->sys_mapped);
	EXPECT_EQ(n, own->bss->nr_fault);	/* not called after */

	/* Nothing attaches to a removed cgroup. */
	pol_scope__destroy(own);
	bpf_link__destroy(lo);
	own = scope_load("test_gone2", id, 0, PLACE_MIGRATE, 0);
	ASSERT_NE(NULL, own);
	again = bpf_map__attach_struct_ops(own->maps.scope_ops);
	EXPECT_EQ(NULL, again);
	EXPECT_EQ(ENOENT, errno);
	bpf_link__destroy(again);
	bpf_link__destroy(lg);
	pol_scope__destroy(own);
	pol_sysmem__destroy(global);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

/*
 * A shadow policy changes nothing: the same workload gives the same
 * counters and snapshot as without it; its answers are counted and traced
 * next to the default's applied answer.  So with sysmem as a cgroup's
 * shadow, and with a global shadow whose answers are all invalid.
 */
TEST_F(scope, shadow_changes_nothing_but_traces)
{
	static char trace[1 << 16];
	size_t size = 4 * MIB;
	unsigned long n = size / self->ps;
	struct pol_scope *bad;
	struct pol_sysmem *sh;
	struct bpf_link *l;
	struct result base;
	uint64_t id;
	long long calls;

	ASSERT_EQ(0, cg_make("svmx_scope_shadow", self->cg[0], PATH_MAX, &id));
	child_read(self->cg[0], size, 9, self->r);
	base = *self->r;
	ASSERT_EQ(0, base.err);

	sh = sysmem_load(id, OPS_SHADOW);
	ASSERT_NE(NULL, sh);
	l = bpf_map__attach_struct_ops(sh->maps.sysmem_ops);
	ASSERT_NE(NULL, l);
	EXPECT_NE(NULL, strstr(scope_block(id, "shadow"), "attached sysmem state=active"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), "attached none"));
	ASSERT_EQ(0, svmx_write_file(SHADOW_EVENT, "1"));
	ASSERT_EQ(0, svmx_write_file(TRACE_DIR "trace", ""));
	child_read(self->cg[0], size, 9, self->r);
	svmx_write_file(SHADOW_EVENT, "0");
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(base.c.faults, self->r->c.faults);
	EXPECT_EQ(base.c.fault_batches, self->r->c.fault_batches);
	EXPECT_EQ(base.c.pages_to_device, self->r->c.pages_to_device);
	EXPECT_EQ(base.c.copy_cmds, self->r->c.copy_cmds);
	EXPECT_EQ(base.c.local_accesses, self->r->c.local_accesses);
	EXPECT_EQ(base.c.remote_accesses, self->r->c.remote_accesses);
	EXPECT_EQ(base.c.modeled_ns, self->r->c.modeled_ns);
	EXPECT_EQ(0, self->r->c.policy_fallbacks);
	EXPECT_EQ(n, self->r->local);
	EXPECT_EQ(n, self->r->c.pages_to_device);

	/* One shadow call per default decision, each traced. */
	calls = value_in(scope_block(id, "shadow"), "  fault", "calls");
	EXPECT_EQ(2, calls);	/* 4 MiB: two 2 MiB chunks */
	EXPECT_EQ(0, value_in(scope_block(id, "shadow"), "  fault", "invalid"));
	ASSERT_EQ(0, read_text(TRACE_DIR "trace", trace, sizeof(trace)));
	EXPECT_NE(NULL, strstr(trace, "svmx_policy_shadow: dev=0 hook=fault policy=sysmem"));
	EXPECT_NE(NULL, strstr(trace, "decision=1 order=9 target=0 fallback=0 applied_decision=0 applied_order=9"))
		TH_LOG("%.2000s", trace);

	bpf_link__destroy(l);
	EXPECT_NE(NULL, strstr(scope_block(id, "shadow"), "last_exit sysmem kind=unregistered"));
	pol_sysmem__destroy(sh);

	/* A global shadow's invalid answers are counted and traced, not applied. */
	ASSERT_EQ(0, svmx_write_file(BUDGET_FILE, "1000000"));
	bad = pol_scope__open();
	ASSERT_NE(NULL, bad);
	bad->rodata->invalid = true;
	bad->struct_ops.scope_ops->flags = OPS_SHADOW;
	scope_rename(bad, "test_shadow_bad");
	ASSERT_EQ(0, pol_scope__load(bad));
	l = bpf_map__attach_struct_ops(bad->maps.scope_ops);
	ASSERT_NE(NULL, l);
	ASSERT_EQ(0, svmx_write_file(SHADOW_EVENT, "1"));
	ASSERT_EQ(0, svmx_write_file(TRACE_DIR "trace", ""));
	child_read(NULL, size, 9, self->r);
	svmx_write_file(SHADOW_EVENT, "0");
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(base.c.faults, self->r->c.faults);
	EXPECT_EQ(base.c.pages_to_device, self->r->c.pages_to_device);
	EXPECT_EQ(base.c.modeled_ns, self->r->c.modeled_ns);
	EXPECT_EQ(0, self->r->c.policy_fallbacks);
	calls = value_in(scope_block(0, "shadow"), "  fault", "calls");
	EXPECT_EQ(2, calls);
	EXPECT_EQ(calls, value_in(scope_block(0, "shadow"), "  fault", "invalid"));
	EXPECT_EQ(calls, bad->bss->nr_fault);
	ASSERT_EQ(0, read_text(TRACE_DIR "trace", trace, sizeof(trace)));
	EXPECT_NE(NULL, strstr(trace, "policy=test_shadow_bad cgroup="));
	EXPECT_NE(NULL, strstr(trace, "decision=0 order=42 target=0 fallback=1 applied_decision=0 applied_order=9"))
		TH_LOG("%.2000s", trace);
	bpf_link__destroy(l);
	pol_scope__destroy(bad);
}

/*
 * The invalid-answer budget is a rate: invalid answers spread wider than
 * the window never eject; more than the budget within one window eject,
 * with exit info, and the next scope's policy (the global one) decides
 * for the cgroup's contexts from then on.
 */
TEST_F(scope, budget_window_ejects_restores_scope)
{
	size_t size = 32 * MIB, half = size / 2, chunk = SZ_2M;
	struct pol_sysmem *global;
	struct pol_scope *bad;
	struct bpf_link *lg, *lb;
	int i, status, fd;
	long long inv;
	uint64_t id;
	pid_t pid;

	ASSERT_EQ(0, cg_make("svmx_scope_budget", self->cg[0], PATH_MAX, &id));
	ASSERT_EQ(0, svmx_write_file(BUDGET_FILE, "2"));
	ASSERT_EQ(0, svmx_write_file(WINDOW_FILE, "1"));
	global = sysmem_load(0, 0);
	ASSERT_NE(NULL, global);
	bad = pol_scope__open();
	ASSERT_NE(NULL, bad);
	bad->rodata->invalid = true;
	bad->struct_ops.scope_ops->cgroup_id = id;
	scope_rename(bad, "test_bad");
	ASSERT_EQ(0, pol_scope__load(bad));
	lg = bpf_map__attach_struct_ops(global->maps.sysmem_ops);
	ASSERT_NE(NULL, lg);
	lb = bpf_map__attach_struct_ops(bad->maps.scope_ops);
	ASSERT_NE(NULL, lb);

	memset(self->r, 0, sizeof(*self->r));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct svmx_counters c;
		uint64_t word;
		char *mem, *buf = malloc(half);

		if (cg_enter(self->cg[0]))
			_exit(1);
		fd = svmx_open_bound(0);
		mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
		if (fd < 0 || !mem || !buf)
			_exit(2);
		svmx_pat_fill(mem, size, 10);
		/* Five invalid answers 20 ms apart: never 3 within 1 ms. */
		for (i = 0; i < 5; i++) {
			if (svmx_exec1(fd, svmx_op_read(mem + i * chunk, 8, &word), &c) ||
			    word != svmx_pat(10, i * chunk / 8) || c.policy_fallbacks != 1 ||
			    c.pages_to_device != chunk / svmx_page_size())
				_exit(3);
			usleep(20000);
		}
		if (!strstr(scope_block(id, "active"), "attached test_bad state=active"))
			_exit(4);
		/* Three more within one window of a minute: ejected. */
		if (svmx_write_file(WINDOW_FILE, "60000"))
			_exit(5);
		for (i = 5; i < 8; i++)
			if (svmx_exec1(fd, svmx_op_read(mem + i * chunk, 8, &word), &c) ||
			    word != svmx_pat(10, i * chunk / 8))
				_exit(6);
		if (!wait_scope(id, "active", "state=ejected"))
			_exit(7);
		/* The global sysmem decides for this cgroup now. */
		self->r->err = svmx_exec1(fd, svmx_op_read(mem + half, half, buf),
					  &self->r->c);
		self->r->bad = svmx_pat_check_from(buf, half / 8, half, 10);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("%s", scope_block(id, "active"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), "last_exit test_bad kind=invalid"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"),
			       "reason=invalid-answer budget exceeded"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"),
			       "message=3 invalid answers within 60000 ms"));
	/* The last answer may come after the ejection: the global's. */
	inv = value_in(strstr(scope_block(id, "active"), "last_exit"), "  fault",
		       "invalid");
	EXPECT_LE(7, inv);
	EXPECT_GE(8, inv);
	EXPECT_EQ(0, self->r->c.pages_to_device);
	EXPECT_EQ(half / self->ps, self->r->c.remote_accesses);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(1, bad->bss->exited);
	EXPECT_NE(NULL, strstr(scope_block(0, "active"), "attached sysmem state=active"));
	bpf_link__destroy(lb);
	bpf_link__destroy(lg);
	pol_scope__destroy(bad);
	pol_sysmem__destroy(global);
}

/* ---------------------------------------------------------------------
 * Live swap under a multi-threaded workload
 */

#define SWAP_THREADS	3
#define SWAP_ROUNDS	40
#define SWAP_SIZE	MIB

static unsigned long swap_rounds_done;	/* by all workers, atomic */

struct swap_worker {
	pthread_t thread;
	int fd;
	unsigned int id;
	volatile bool *stop;
	unsigned long rounds;
	int err;
	long bad;
	struct svmx_counters c;	/* sum over the device calls */
};

/*
 * Round after round: the pages are dropped (so that the device faults
 * them all again), the CPU writes a pattern, the device reads it
 * (faulting page by page, decided by whichever policy is attached) and
 * checks it, the device writes another and the CPU checks it.
 */
static void *swap_worker_fn(void *arg)
{
	struct swap_worker *w = arg;
	size_t size = SWAP_SIZE;
	char *mem = svmx_map_aligned(size, SZ_2M, PROT_READ | PROT_WRITE);
	char *buf = malloc(size);
	struct svmx_counters c;
	uint64_t seed;

	if (!mem || !buf) {
		w->err = 1;
		return NULL;
	}
	w->bad = -1;
	while (!*w->stop || w->rounds < 2) {
		seed = 1000 * (w->id + 1) + w->rounds;
		if (madvise(mem, size, MADV_DONTNEED)) {
			w->err = 4;
			break;
		}
		svmx_pat_fill(mem, size, seed);
		if (svmx_exec1(w->fd, svmx_op_read(mem, size, buf), &c)) {
			w->err = 2;
			break;
		}
		svmx_counters_add(&w->c, &c);
		if (w->bad == -1)
			w->bad = svmx_pat_check(buf, size, seed);
		svmx_pat_fill(buf, size, seed + 500);
		if (svmx_exec1(w->fd, svmx_op_write(mem, size, buf), &c)) {
			w->err = 3;
			break;
		}
		svmx_counters_add(&w->c, &c);
		if (w->bad == -1)
			w->bad = svmx_pat_check(mem, size, seed + 500);
		w->rounds++;
		__atomic_fetch_add(&swap_rounds_done, 1, __ATOMIC_RELAXED);
	}
	munmap(mem, size);
	free(buf);
	return NULL;
}

/*
 * bpf_link__update_map() swaps two policies back and forth while three
 * threads keep the device faulting (at least one round of faults between
 * two swaps): no fault is lost or decided by the default, the data stays
 * intact, and the fault calls of every attachment of both policies add up
 * to the faults served.
 */
TEST_F(scope, live_swap_under_load)
{
	struct swap_worker w[SWAP_THREADS] = {};
	struct pol_scope *p[2];
	struct svmx_counters sum = {};
	unsigned long long kernel_calls = 0;
	volatile bool stop = false;
	struct bpf_link *link;
	int fd, i, cur = 0;

	/* One migrates page by page, the other maps page by page. */
	p[0] = scope_load("test_swap_a", 0, 0, PLACE_MIGRATE, 0);
	p[1] = scope_load("test_swap_b", 0, 0, PLACE_REMOTE, 0);
	ASSERT_NE(NULL, p[0]);
	ASSERT_NE(NULL, p[1]);
	fd = svmx_open_bound(0);
	ASSERT_LE(0, fd);
	link = bpf_map__attach_struct_ops(p[0]->maps.scope_ops);
	ASSERT_NE(NULL, link);
	for (i = 0; i < SWAP_THREADS; i++) {
		w[i].fd = fd;
		w[i].id = i;
		w[i].stop = &stop;
		ASSERT_EQ(0, pthread_create(&w[i].thread, NULL, swap_worker_fn, &w[i]));
	}
	for (i = 0; i < SWAP_ROUNDS; i++) {
		unsigned long seen = __atomic_load_n(&swap_rounds_done, __ATOMIC_RELAXED);

		/* Every policy in the loop serves at least one round. */
		while (__atomic_load_n(&swap_rounds_done, __ATOMIC_RELAXED) == seen)
			usleep(1000);
		ASSERT_EQ(0, bpf_link__update_map(link, p[!cur]->maps.scope_ops));
		/* The old one's exit ran inside the update, with its count. */
		EXPECT_EQ(EXIT_REPLACED, p[cur]->bss->exit_kind);
		kernel_calls += p[cur]->bss->exit_fault_calls;
		cur = !cur;
	}
	stop = true;
	for (i = 0; i < SWAP_THREADS; i++) {
		pthread_join(w[i].thread, NULL);
		EXPECT_EQ(0, w[i].err);
		EXPECT_EQ(-1, w[i].bad);
		EXPECT_LE(2, w[i].rounds);
		svmx_counters_add(&sum, &w[i].c);
	}
	bpf_link__destroy(link);
	EXPECT_EQ(EXIT_UNREG, p[cur]->bss->exit_kind);
	kernel_calls += p[cur]->bss->exit_fault_calls;

	EXPECT_LT(0, sum.faults);
	EXPECT_EQ(0, sum.policy_fallbacks);
	EXPECT_EQ(sum.faults, p[0]->bss->nr_fault + p[1]->bss->nr_fault);
	EXPECT_EQ(sum.faults, kernel_calls);
	EXPECT_LT(0, p[0]->bss->nr_fault);
	EXPECT_LT(0, p[1]->bss->nr_fault);
	if (_metadata->exit_code)
		SVMX_LOG_COUNTERS("swap", &sum);
	fprintf(stderr, "# %d swaps under %d threads: %llu faults, %llu decided by test_swap_a, %llu by test_swap_b\n",
		SWAP_ROUNDS, SWAP_THREADS, (unsigned long long)sum.faults,
		(unsigned long long)p[0]->bss->nr_fault,
		(unsigned long long)p[1]->bss->nr_fault);
	close(fd);
	pol_scope__destroy(p[0]);
	pol_scope__destroy(p[1]);
}

/*
 * An update the kernel refuses - the new policy's init fails, or it is of
 * another scope or role - keeps the old policy attached and deciding.
 */
TEST_F(scope, refused_update_keeps_old)
{
	size_t size = 4 * MIB;
	struct pol_scope *old, *failing, *other, *shadow;
	struct pol_scope *tmp;
	struct bpf_link *link;
	uint64_t id;

	ASSERT_EQ(0, cg_make("svmx_scope_upd", self->cg[0], PATH_MAX, &id));
	old = scope_load("test_old", 0, 0, PLACE_REMOTE, 9);
	ASSERT_NE(NULL, old);
	tmp = pol_scope__open();
	ASSERT_NE(NULL, tmp);
	tmp->rodata->fail_init = true;
	scope_rename(tmp, "test_fail_init");
	ASSERT_EQ(0, pol_scope__load(tmp));
	failing = tmp;
	other = scope_load("test_other", id, 0, PLACE_MIGRATE, 0);
	shadow = scope_load("test_shadow", 0, OPS_SHADOW, PLACE_MIGRATE, 0);
	ASSERT_NE(NULL, other);
	ASSERT_NE(NULL, shadow);
	link = bpf_map__attach_struct_ops(old->maps.scope_ops);
	ASSERT_NE(NULL, link);

	EXPECT_NE(0, bpf_link__update_map(link, failing->maps.scope_ops));
	EXPECT_NE(0, bpf_link__update_map(link, other->maps.scope_ops));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(0, bpf_link__update_map(link, shadow->maps.scope_ops));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_NE(NULL, strstr(scope_block(0, "active"), "attached test_old state=active"));
	EXPECT_EQ(NULL, strstr(scope_block(0, "active"), "last_exit test_old"));
	EXPECT_EQ(0, old->bss->exited);

	child_read(NULL, size, 11, self->r);
	ASSERT_EQ(0, self->r->err);
	EXPECT_EQ(-1, self->r->bad);
	EXPECT_EQ(0, self->r->c.pages_to_device);	/* still the old one */
	EXPECT_LT(0, old->bss->nr_fault);
	EXPECT_EQ(0, failing->bss->nr_fault + other->bss->nr_fault +
		     shadow->bss->nr_fault);
	bpf_link__destroy(link);
	pol_scope__destroy(old);
	pol_scope__destroy(failing);
	pol_scope__destroy(other);
	pol_scope__destroy(shadow);
}

static int caps_keep(uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	return syscall(SYS_capset, &h, d);
}

/*
 * svmx asks CAP_BPF and CAP_SYS_ADMIN to attach: a process that loaded a
 * policy and kept only CAP_BPF and CAP_PERFMON (what the kernel asks to
 * load struct_ops programs) is refused with EPERM.  (libbpf needs
 * CAP_SYS_ADMIN to load it at all: it finds svmx.ko's BTF by id.)  An
 * unprivileged process cannot even load it.
 */
TEST_F(scope, attach_needs_sys_admin)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pol_sysmem *skel;
		struct bpf_link *link;

		libbpf_set_print(NULL);	/* the refusal is expected */
		skel = pol_sysmem__open_and_load();
		if (!skel)
			_exit(11);
		if (caps_keep(1ULL << CAP_BPF | 1ULL << CAP_PERFMON))
			_exit(10);
		link = bpf_map__attach_struct_ops(skel->maps.sysmem_ops);
		_exit(link ? 12 : errno == EPERM ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct pol_sysmem *skel;

		libbpf_set_print(NULL);
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(10);
		skel = pol_sysmem__open_and_load();
		_exit(skel ? 11 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(scope_block(0, "active"), "attached none"));
}

/*
 * Policies in every kind of slot hold svmx.ko (no "module unload" exit can
 * happen), and bpftool lists their struct_ops maps and links.
 */
TEST_F(scope, module_held_and_bpftool_lists)
{
	struct bpf_map_info mi = {};
	struct bpf_link_info li = {};
	__u32 mlen = sizeof(mi), llen = sizeof(li);
	struct pol_scope *cg, *sh;
	struct bpf_link *lc, *ls;
	static char out[1 << 16];
	char cmd[PATH_MAX], want[64];
	uint64_t id;
	FILE *f;
	size_t got;

	ASSERT_EQ(0, cg_make("svmx_scope_held", self->cg[0], PATH_MAX, &id));
	cg = scope_load("test_held", id, 0, PLACE_MIGRATE, 0);
	sh = scope_load("test_held_sh", 0, OPS_SHADOW, PLACE_MIGRATE, 0);
	ASSERT_NE(NULL, cg);
	ASSERT_NE(NULL, sh);
	lc = bpf_map__attach_struct_ops(cg->maps.scope_ops);
	ls = bpf_map__attach_struct_ops(sh->maps.scope_ops);
	ASSERT_NE(NULL, lc);
	ASSERT_NE(NULL, ls);
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), "attached test_held state=active"));
	EXPECT_NE(NULL, strstr(scope_block(0, "shadow"), "attached test_held_sh state=active"));

	EXPECT_EQ(-1, syscall(SYS_delete_module, "svmx", O_NONBLOCK));
	EXPECT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);

	ASSERT_EQ(0, bpf_map_get_info_by_fd(bpf_map__fd(cg->maps.scope_ops), &mi, &mlen));
	ASSERT_EQ(0, bpf_link_get_info_by_fd(bpf_link__fd(lc), &li, &llen));
	snprintf(cmd, sizeof(cmd), "%s map list; %s link list", SVMX_BPFTOOL, SVMX_BPFTOOL);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	got = fread(out, 1, sizeof(out) - 1, f);
	out[got] = 0;
	pclose(f);
	snprintf(want, sizeof(want), "%u: struct_ops  name scope_ops", mi.id);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "%u: struct_ops  map %u", li.id, mi.id);
	EXPECT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);

	bpf_link__destroy(lc);
	bpf_link__destroy(ls);
	EXPECT_NE(NULL, strstr(scope_block(0, "shadow"), "attached none"));
	pol_scope__destroy(cg);
	pol_scope__destroy(sh);
}

/* build/bpf/NAME next to this binary's build/selftests/. */
static void build_path(char *buf, size_t len, const char *name)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	exe[n > 0 ? n : 0] = 0;
	snprintf(buf, len, "%s/../bpf/%s", dirname(exe), name);
}

/*
 * svmx-policy-load -c CGROUP -s attaches any policy object as a shadow
 * policy of a cgroup; a cgroup that does not exist is refused.
 */
TEST_F(scope, loader_cgroup_shadow)
{
	const char *pin = "/sys/fs/bpf/svmx_scope_test_pin";
	char loader[PATH_MAX], obj[PATH_MAX], cmd[4 * PATH_MAX];
	uint64_t id;

	ASSERT_EQ(0, cg_make("svmx_scope_loader", self->cg[0], PATH_MAX, &id));
	if (access("/sys/fs/bpf", F_OK) || mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		ASSERT_EQ(EBUSY, errno) TH_LOG("cannot mount bpffs: %s", strerror(errno));
	build_path(loader, sizeof(loader), "svmx-policy-load");
	build_path(obj, sizeof(obj), "sysmem.bpf.o");
	unlink(pin);
	snprintf(cmd, sizeof(cmd), "%s -p %s -c %s -s %s >/dev/null", loader, pin,
		 self->cg[0], obj);
	ASSERT_EQ(0, system(cmd));
	EXPECT_NE(NULL, strstr(scope_block(id, "shadow"), "attached sysmem state=active"))
		TH_LOG("%s", scope_block(id, "shadow"));
	EXPECT_NE(NULL, strstr(scope_block(id, "active"), "attached none"));
	EXPECT_NE(NULL, strstr(scope_block(0, "shadow"), "attached none"));
	ASSERT_EQ(0, unlink(pin));
	EXPECT_TRUE(wait_scope(id, "shadow", "attached none"));

	snprintf(cmd, sizeof(cmd), "%s -c %s/none %s 2>/dev/null", loader, CG_ROOT, obj);
	EXPECT_NE(0, system(cmd));
}

TEST_HARNESS_MAIN
