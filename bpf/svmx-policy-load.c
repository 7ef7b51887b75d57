// SPDX-License-Identifier: GPL-2.0
/*
 * svmx-policy-load - attach a BPF policy of svmx (a policy object, policy/NAME.bpf.c built).
 *
 *   svmx-policy-load [-v] [-p PIN] POLICY.bpf.o
 *
 * Opens and loads the object with libbpf, attaches its struct svmx_ops
 * map as a struct_ops link, and either holds the link until SIGINT or
 * SIGTERM (then detaches: the built-in default decides again) or, with
 * -p, pins it on bpffs and exits; the policy then stays attached until
 * the pin is removed (rm PIN).  Exit status 0 on a clean detach, 1 on
 * error (the message says what failed; -v adds libbpf's log).
 *
 * It does not use bpftool struct_ops: bpftool 7.5 crashes on struct_ops
 * types that live in a module.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;
static int verbose;

static void on_signal(int sig)
{
	stop = 1;
}

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: svmx-policy-load [-v] [-p PIN] POLICY.bpf.o\n"
		"  attach the policy's struct svmx_ops; hold it until SIGINT/SIGTERM,\n"
		"  or with -p pin the link at PIN (on bpffs) and exit (rm PIN detaches)\n"
		"  -v  libbpf warnings (-vv: debug log)\n");
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct bpf_link *link = NULL;
	sigset_t stop_sigs, old_sigs;
	struct bpf_object *obj;
	struct bpf_map *map, *ops = NULL;
	const char *pin = NULL;
	int opt, err, ret = 1;

	while ((opt = getopt(argc, argv, "vp:h")) != -1) {
		switch (opt) {
		case 'v':
			verbose++;
			break;
		case 'p':
			pin = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}
	libbpf_set_print(verbose ? print_libbpf : NULL);

	obj = bpf_object__open_file(argv[optind], NULL);
	if (!obj) {
		fprintf(stderr, "svmx-policy-load: open %s: %s\n", argv[optind],
			strerror(errno));
		return 1;
	}
	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS)
			continue;
		if (ops) {
			fprintf(stderr, "svmx-policy-load: %s has more than one struct_ops map\n",
				argv[optind]);
			goto out;
		}
		ops = map;
	}
	if (!ops) {
		fprintf(stderr, "svmx-policy-load: %s has no struct_ops map\n", argv[optind]);
		goto out;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "svmx-policy-load: load %s: %s (is svmx.ko loaded? -v says more)\n",
			argv[optind], strerror(-err));
		goto out;
	}
	/*
	 * SIGINT/SIGTERM stay blocked from before the attach until
	 * sigsuspend(): one sent as soon as the policy shows up (as a test
	 * does) detaches it cleanly instead of killing the loader.
	 */
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_sigs, &old_sigs);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	link = bpf_map__attach_struct_ops(ops);
	if (!link) {
		fprintf(stderr, "svmx-policy-load: attach %s: %s\n", bpf_map__name(ops),
			strerror(errno));
		goto out;
	}
	if (pin) {
		err = bpf_link__pin(link, pin);
		if (err) {
			fprintf(stderr, "svmx-policy-load: pin at %s: %s\n", pin,
				strerror(-err));
			goto out;
		}
		bpf_link__disconnect(link);	/* the pin keeps it attached */
		printf("attached %s, pinned at %s\n", bpf_map__name(ops), pin);
		ret = 0;
		goto out;
	}
	printf("attached %s; SIGINT or SIGTERM detaches\n", bpf_map__name(ops));
	fflush(stdout);
	while (!stop)
		sigsuspend(&old_sigs);
	printf("detached %s\n", bpf_map__name(ops));
	ret = 0;
out:
	bpf_link__destroy(link);
	bpf_object__close(obj);
	return ret;
}
