/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by svmx-torture and svmx-fuzz: a seeded generator whose
 * sequence depends on nothing but the seed, TAP output, and running each
 * pass in a process of its own so that a crash fails one pass, not the run.
 */
#ifndef SVMX_TORTURE_H
#define SVMX_TORTURE_H

#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "svmx_helpers.h"

/* ---------------------------------------------------------------------
 * Seeded generator (xoshiro256**, seeded through splitmix64).  No libc
 * random(): the sequence of a seed must be the same on every machine.
 */
struct svmx_rng {
	uint64_t s[4];
};

static inline uint64_t svmx_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void svmx_rng_seed(struct svmx_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = svmx_splitmix(&seed);
}

static inline uint64_t svmx_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t svmx_rng_next(struct svmx_rng *r)
{
	uint64_t res = svmx_rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = svmx_rotl(r->s[3], 45);
	return res;
}

/* Uniform in [0, n); n > 0.  The slight modulo bias does not matter here. */
static inline uint64_t svmx_rng_below(struct svmx_rng *r, uint64_t n)
{
	return svmx_rng_next(r) % n;
}

/* Uniform in [lo, hi]. */
static inline uint64_t svmx_rng_range(struct svmx_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + svmx_rng_below(r, hi - lo + 1);
}

/* True with probability pct / 100. */
static inline bool svmx_rng_pct(struct svmx_rng *r, unsigned int pct)
{
	return svmx_rng_below(r, 100) < pct;
}

/* Index into a table of weights. */
static inline unsigned int svmx_rng_pick(struct svmx_rng *r, const unsigned int *w,
					 unsigned int n)
{
	unsigned int i, total = 0;
	uint64_t x;

	for (i = 0; i < n; i++)
		total += w[i];
	x = svmx_rng_below(r, total);
	for (i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return n - 1;
}

/* Fresh seed for a stress run: not reproducible, printed by the caller. */
static inline uint64_t svmx_seed_random(void)
{
	uint64_t s = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &s, sizeof(s)) != sizeof(s))
			s = 0;
		close(fd);
	}
	if (!s)
		s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return s & 0xffffffffffffULL;	/* short enough to type */
}

/* ---------------------------------------------------------------------
 * Passes: each pass runs in a child process and prints one TAP line.
 */

static inline double svmx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* TAP diagnostics; stdout is line buffered so they interleave in order. */
static inline void svmx_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/*
 * Run @fn(@seed, @arg) in a child; its exit status 0 is a pass.  A signal
 * (a crash in the test or in the kernel's answer to it) fails the pass.
 * Return: 0 on pass, 1 on failure.
 */
static inline int svmx_run_pass(int (*fn)(uint64_t seed, void *arg), uint64_t seed,
				void *arg, char *why, size_t why_len)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(why, why_len, "fork: %s", strerror(errno));
		return 1;
	}
	if (!pid)
		_exit(fn(seed, arg) ? 1 : 0);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, why_len, "waitpid: %s", strerror(errno));
			return 1;
		}
	if (WIFSIGNALED(status)) {
		snprintf(why, why_len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
		return 1;
	}
	if (WEXITSTATUS(status)) {
		snprintf(why, why_len, "failed");
		return 1;
	}
	return 0;
}

#endif /* SVMX_TORTURE_H */
