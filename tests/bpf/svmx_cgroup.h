/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the BPF suites that put processes in cgroups (v2) and read
 * svmx's debugfs text files: svmx_scope_test.c and svmx_quota_test.c.
 */
#ifndef SVMX_CGROUP_H
#define SVMX_CGROUP_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "svmx_helpers.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define CGROUPS_FILE	SVMX_DEBUGFS "/cgroups"

static inline int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while (got < len - 1 && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	return 0;
}

/* A number after " @key=" in the first line of @text that holds @line. */
static inline long long value_in(const char *text, const char *line, const char *key)
{
	const char *l = strstr(text, line), *k;
	char pat[64];

	if (!l)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	k = strstr(l, pat);
	return k ? atoll(k + strlen(pat)) : -1;
}

/* The debugfs cgroups line of @cgid; "" when absent. */
static inline const char *cgroup_line(uint64_t cgid)
{
	static char text[65536], line[4096];
	char head[48], *b, *e;

	line[0] = 0;
	if (read_text(CGROUPS_FILE, text, sizeof(text)))
		return line;
	snprintf(head, sizeof(head), "cgroup=%llu ", (unsigned long long)cgid);
	for (b = text; (b = strstr(b, head)); b++)
		if (b == text || b[-1] == '\n')
			break;
	if (!b)
		return line;
	e = strchr(b, '\n');
	snprintf(line, sizeof(line), " %.*s", (int)(e ? e - b : (long)strlen(b)), b);
	return line;
}

static inline long long cg_value(uint64_t cgid, const char *key)
{
	return value_in(cgroup_line(cgid), " cgroup=", key);
}

/* A cgroup under CG_ROOT, made afresh; its id (inode number) in @id. */
static inline int cg_make(const char *name, char *path, size_t len, uint64_t *id)
{
	struct stat st;

	*id = 0;
	snprintf(path, len, CG_ROOT "/%s", name);
	rmdir(path);	/* left over from an earlier run */
	if (mkdir(path, 0755) || stat(path, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

static inline int cg_enter(const char *path)
{
	char procs[PATH_MAX + 16];

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
	return svmx_write_file(procs, "0");
}

#endif /* SVMX_CGROUP_H */
