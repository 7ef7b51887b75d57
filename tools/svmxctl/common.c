// SPDX-License-Identifier: GPL-2.0
/*
 * What every svmxctl subcommand shares: one-line errors, the checks made
 * before touching the kernel, small parsers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <json-c/json.h>

#include "svmxctl.h"

/* -v on the command line: libbpf's warnings (-vv: its debug log). */
int ctl_verbose;

/* "svmxctl: " and the message, one line on stderr. */
static void say(const char *fmt, va_list ap)
{
	fputs("svmxctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/**
 * ctl_err() - report a failure in one line on stderr.
 * @fmt: what failed and why, without the "svmxctl: " prefix.
 *
 * Return: 1, the exit status of a failed command, so that a subcommand
 * can end with "return ctl_err(...)".
 */
int ctl_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return 1;
}

/**
 * ctl_usage_err() - report a bad command line.
 * @cmd: the subcommand, for the hint at its -h.
 * @fmt: what is wrong with the command line.
 *
 * Return: EXIT_USAGE.
 */
int ctl_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("svmxctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (svmxctl %s -h for usage)\n", cmd);
	return EXIT_USAGE;
}

/**
 * ctl_need_root() - refuse early when not root.
 *
 * Attaching policies, reading debugfs and bpffs need CAP_SYS_ADMIN and
 * CAP_BPF; the kernel would refuse later with a less helpful EPERM.
 *
 * Return: 0 when root, else -EPERM after printing why.
 */
int ctl_need_root(void)
{
	if (geteuid() == 0)
		return 0;
	ctl_err("must be run as root (CAP_SYS_ADMIN and CAP_BPF)");
	return -EPERM;
}

/**
 * ctl_need_module() - refuse early when svmx.ko is not loaded.
 *
 * Return: 0 when the module is loaded, else -ENODEV after printing why.
 */
int ctl_need_module(void)
{
	struct stat st;

	if (!stat(SVMX_SYSFS_MODULE, &st))
		return 0;
	ctl_err("svmx.ko is not loaded (modprobe svmx)");
	return -ENODEV;
}

/**
 * ctl_read_file() - read a whole (debugfs, procfs) file.
 * @path: the file.
 * @text: set to a NUL-terminated malloc()ed copy, to be freed.
 *
 * Return: 0 or a negative errno.
 */
int ctl_read_file(const char *path, char **text)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *bigger;
	FILE *f;

	if (!buf)
		return -ENOMEM;
	f = fopen(path, "r");
	if (!f) {
		free(buf);
		return -errno;
	}
	for (;;) {
		len += fread(buf + len, 1, cap - len - 1, f);
		if (len < cap - 1)
			break;
		cap *= 2;
		bigger = realloc(buf, cap);
		if (!bigger) {
			fclose(f);
			free(buf);
			return -ENOMEM;
		}
		buf = bigger;
	}
	if (ferror(f)) {
		int err = -EIO;

		fclose(f);
		free(buf);
		return err;
	}
	fclose(f);
	buf[len] = '\0';
	*text = buf;
	return 0;
}

/**
 * ctl_parse_u64() - a whole unsigned decimal (or 0x hex) number.
 * @s: the text.
 * @val: the number.
 *
 * Return: 0, or -EINVAL when @s is empty, negative, has trailing
 * characters or is out of range.
 */
int ctl_parse_u64(const char *s, uint64_t *val)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	*val = strtoull(s, &end, 0);
	return errno || *end ? -EINVAL : 0;
}

/**
 * ctl_parse_double() - a whole finite floating-point number.
 * @s: the text.
 * @val: the number.
 *
 * Return: 0 or -EINVAL.
 */
int ctl_parse_double(const char *s, double *val)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*val = strtod(s, &end);
	return errno || *end || *val != *val ? -EINVAL : 0;
}

/**
 * ctl_cgroup_id() - the id of a cgroup v2 given as path or number.
 * @arg: a number (taken as the id), an absolute path under
 *	 /sys/fs/cgroup, or a path relative to /sys/fs/cgroup.
 * @id: the cgroup id (the inode number of its directory).
 *
 * Return: 0, -ENOENT when there is no such cgroup, -ENOTDIR.
 */
int ctl_cgroup_id(const char *arg, uint64_t *id)
{
	char path[4096];
	struct stat st;

	if (!ctl_parse_u64(arg, id))
		return *id ? 0 : -EINVAL;
	if (arg[0] == '/')
		snprintf(path, sizeof(path), "%s", arg);
	else
		snprintf(path, sizeof(path), "%s/%s", SVMX_CGROUP_ROOT, arg);
	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = st.st_ino;
	return 0;
}

/**
 * ctl_kv_each() - walk the "key=value" words of a debugfs text.
 * @text: the text.
 * @fn: called with each key and value (NUL-terminated copies).
 * @arg: passed to @fn.
 *
 * Words without '=' are skipped.
 *
 * Return: 0, or the first non-zero return of @fn.
 */
int ctl_kv_each(const char *text,
		int (*fn)(const char *key, const char *val, void *arg), void *arg)
{
	char word[512];
	size_t n;
	int ret;

	while (*text) {
		text += strspn(text, " \t\n");
		n = strcspn(text, " \t\n");
		if (!n)
			break;
		if (n < sizeof(word)) {
			char *eq;

			memcpy(word, text, n);
			word[n] = '\0';
			eq = strchr(word, '=');
			if (eq) {
				*eq = '\0';
				ret = fn(word, eq + 1, arg);
				if (ret)
					return ret;
			}
		}
		text += n;
	}
	return 0;
}

/**
 * ctl_json_print() - print a JSON document on stdout and drop it.
 * @doc: the document (its reference is put).
 *
 * Return: 0 or -EIO.
 */
int ctl_json_print(struct json_object *doc)
{
	const char *s = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = printf("%s\n", s) < 0 ? -EIO : 0;

	json_object_put(doc);
	return ret;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && ctl_verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && ctl_verbose < 1)
		return 0;
	if (level == LIBBPF_WARN && ctl_verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/**
 * ctl_libbpf_quiet() - route libbpf's log through -v.
 *
 * Without -v a failure is reported by svmxctl's own one-line message; -v
 * adds libbpf's warnings (the verifier log among them), -vv its debug log.
 */
void ctl_libbpf_quiet(void)
{
	libbpf_set_print(print_libbpf);
}

/**
 * ctl_errno() - report a failure in one line, for a function returning errno.
 * @err: what to return, a negative errno.
 * @fmt: what failed and why, without the "svmxctl: " prefix.
 *
 * Return: @err, so that a function can end with "return ctl_errno(...)".
 */
int ctl_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
	return err;
}
