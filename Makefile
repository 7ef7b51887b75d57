# SPDX-License-Identifier: GPL-2.0
#
# svmx top-level Makefile.  `make help` lists the targets.
#
# Variables:
#   KDIR=<dir>     kernel build tree to build svmx.ko against (default: the
#                  cached test kernel; /lib/modules/$(uname -r)/build for an
#                  installed kernel)
#   DEBUG=1        use the debug test kernel (KASAN, lockdep, DEBUG_VM, ...)
#   SVMX_CACHE=<d> cache for test kernels (default /var/cache/svmx as root,
#                  else $XDG_CACHE_HOME/svmx)
#   V=1            show full commands
#   PREFIX=<dir>   make install: installation prefix (default /usr/local);
#                  DESTDIR=<dir> stages it under another root (packaging)

SHELL := /bin/bash
.DELETE_ON_ERROR:
.DEFAULT_GOAL := all

TOP := $(CURDIR)
VM := $(TOP)/tests/vm
BUILD := $(TOP)/build

ifeq ($(V),1)
Q :=
else
Q := @
MAKEFLAGS += --no-print-directory
endif

ifeq ($(DEBUG),1)
VARIANT := debug
KFLAG := --debug
else
VARIANT := base
KFLAG :=
endif

# The cached kernel directory for this variant (computed, not built).  Its
# key names the version of the kernel source package, so it is empty on a
# fresh machine until tests/vm/deps has installed that package.
CACHED_KERNEL := $(shell $(VM)/build-kernel $(KFLAG) --print-dir 2>/dev/null)
KERNEL_GOALS := all module selftests tools policies test check demo bench stress

export SVMX_TOP := $(TOP)

.PHONY: $(KERNEL_GOALS) deps kernel clean help install uninstall

ifeq ($(CACHED_KERNEL),)
ifneq ($(SVMX_AFTER_DEPS),1)
# Fresh machine: install the packages, then run the same goal in a make that
# reads this file again and can name the kernel.
$(KERNEL_GOALS):
	$(Q)$(VM)/deps --no-kernel
	$(Q)$(MAKE) SVMX_AFTER_DEPS=1 $@
else
$(KERNEL_GOALS):
	@echo "svmx: $$(. $(VM)/lib.sh; echo $$SVMX_SRC_PKG) is still not installed after tests/vm/deps" >&2; exit 1
endif
else
ifeq ($(origin KDIR),undefined)
KDIR := $(CACHED_KERNEL)/build
KDIR_IS_CACHED := 1
endif
KSRC := $(CACHED_KERNEL)/src
BPFDIR := $(CACHED_KERNEL)/bpf

all: module ## build kernel/svmx.ko (and the KUnit module)

# Building against the cached kernel brings it (and the packages) in first.
ifeq ($(KDIR_IS_CACHED),1)
module: $(CACHED_KERNEL)/complete
$(CACHED_KERNEL)/complete:
	$(Q)$(VM)/deps --no-kernel
	$(Q)$(VM)/build-kernel $(KFLAG) >/dev/null
endif

module:
	$(Q)test -f $(KDIR)/Makefile || { echo "svmx: KDIR=$(KDIR) is not a kernel build tree" >&2; exit 1; }
	$(Q)if [ "$$(cat kernel/.kdir 2>/dev/null)" != "$(realpath $(KDIR))" ]; then \
		$(MAKE) -C $(KDIR) M=$(TOP)/kernel clean >/dev/null; \
		echo "$(realpath $(KDIR))" > kernel/.kdir; fi
	$(Q)$(MAKE) -C $(KDIR) M=$(TOP)/kernel W=1 modules
	$(Q)$(VM)/check-module-btf $(KDIR) kernel/svmx.ko

selftests: module ## build the in-VM selftests, torture test and fuzzer
	$(Q)$(MAKE) -C tests/selftests KSRC=$(KSRC) KHDR=$(CACHED_KERNEL)/headers O=$(BUILD)/selftests
	$(Q)$(MAKE) -C tests/torture KHDR=$(CACHED_KERNEL)/headers O=$(BUILD)/torture

tools: module ## build the user-space tools (workloads, bench) and their tests
	$(Q)$(MAKE) -C tools KSRC=$(KSRC) KHDR=$(CACHED_KERNEL)/headers O=$(BUILD)/tools
	$(Q)$(MAKE) -C tests/tools KSRC=$(KSRC) KHDR=$(CACHED_KERNEL)/headers O=$(BUILD)/tools

policies: module ## build the BPF policies, their skeletons, svmx-policy-load, svmxctl and the BPF selftests
	$(Q)$(MAKE) -C bpf KDIR=$(KDIR) BPFDIR=$(BPFDIR) KSRC=$(KSRC) \
		KHDR=$(CACHED_KERNEL)/headers O=$(BUILD)/bpf TESTO=$(BUILD)/selftests
	$(Q)$(MAKE) -C tools/svmxctl BPFDIR=$(BPFDIR) KHDR=$(CACHED_KERNEL)/headers \
		SKELDIR=$(BUILD)/bpf O=$(BUILD)/tools

test: selftests tools policies ## run host checks and every VM suite; last line "N passed, N failed"
	$(Q)tests/run-all $(KFLAG)

check: ## host-side checks only (checkpatch, kernel-doc, shell syntax, make install, dkms build)
	$(Q)tests/host-checks $(KSRC)

demo: selftests tools policies ## boot the VM, run a workload under the default and under adaptive with svmxctl ab: report, verdict, plot
	$(Q)tools/demo $(KFLAG)

# BENCH_QUICK=1 fewer rounds and working sets; BENCH_ONLY=migrate,overhead,matrix;
# matrix cells: BENCH_WORKLOADS=random,phase BENCH_POLICIES=adaptive BENCH_SETS=1.5,2;
# BENCH_SEEDS=N: each cell over seeds 1..N, its median reported
bench: selftests tools policies ## run the benchmarks in the VM and print the tables
	$(Q)tools/bench $(KFLAG) $(if $(BENCH_QUICK),--quick) $(if $(BENCH_ONLY),--only $(BENCH_ONLY)) \
		$(if $(BENCH_WORKLOADS),--workloads $(BENCH_WORKLOADS)) \
		$(if $(BENCH_POLICIES),--policies $(BENCH_POLICIES)) \
		$(if $(BENCH_SETS),--sets $(BENCH_SETS)) \
		$(if $(BENCH_SEEDS),--seeds $(BENCH_SEEDS))

# SEEDS=N passes per program (default 10), or DURATION=SEC per program;
# SEED=S first seed (default random); OPS=N torture operations per pass;
# CALLS=N fuzzer calls per pass; ONLY=torture|fuzz; MEM_MB=M device memory;
# HIVE=1 both devices in one hive; FAULTS=P allocations fail at P %.
stress: selftests ## long torture + fuzz passes with new seeds; prints a replay command per failure
	$(Q)tests/torture/stress $(KFLAG) $(if $(SEEDS),--seeds $(SEEDS)) \
		$(if $(DURATION),--duration $(DURATION)) $(if $(SEED),--seed $(SEED)) \
		$(if $(OPS),--ops $(OPS)) $(if $(CALLS),--calls $(CALLS)) \
		$(if $(ONLY),--only $(ONLY)) $(if $(MEM_MB),--mem-mb $(MEM_MB)) \
		$(if $(HIVE),--hive) $(if $(FAULTS),--faults $(FAULTS))

endif

deps: ## install packages and build the test kernel, libbpf, bpftool (idempotent)
	$(Q)$(VM)/deps $(KFLAG)

kernel: ## build the test kernel into the cache (DEBUG=1: the debug variant)
	$(Q)$(VM)/deps --no-kernel
	$(Q)$(VM)/build-kernel $(KFLAG)

# make install: what `make tools policies` built, the bpftrace scripts, the
# systemd unit and the docs.  Not svmx.ko: build and install that against
# the running kernel with DKMS (dkms.conf) or `make KDIR=...`.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
LIBDIR ?= $(PREFIX)/lib
POLICYDIR ?= $(LIBDIR)/svmx/policies
DATADIR ?= $(PREFIX)/share
BPFTRACEDIR ?= $(DATADIR)/svmx/bpftrace
DOCDIR ?= $(DATADIR)/doc/svmx
UNITDIR ?= $(LIBDIR)/systemd/system
MANDIR ?= $(DATADIR)/man
COMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
MAN8 := $(notdir $(wildcard tools/svmxctl/man/*.8))
INSTALL_TOOLS := $(patsubst tools/%.c,%,$(wildcard tools/*.c))
INSTALL_POLICIES := $(patsubst policy/%.bpf.c,%,$(wildcard policy/*.bpf.c))
INSTALL_BUILT := $(addprefix $(BUILD)/tools/,$(INSTALL_TOOLS)) $(BUILD)/bpf/svmx-policy-load \
	$(BUILD)/tools/svmxctl $(BUILD)/tools/svmxctl-plot.py \
	$(addprefix $(BUILD)/bpf/,$(addsuffix .bpf.o,$(INSTALL_POLICIES)))
UNIT := svmx-policy@.service

install: ## install tools, policies, loader, bpftrace scripts, unit, docs (PREFIX, DESTDIR)
	$(Q)missing=$$(for f in $(INSTALL_BUILT); do [ -f $$f ] || echo $${f#$(TOP)/}; done); \
		if [ -n "$$missing" ]; then echo "svmx: not built: $$missing (make tools policies)" >&2; exit 1; fi
	$(Q)install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(POLICYDIR) \
		$(DESTDIR)$(BPFTRACEDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR)
	$(Q)install -m 0644 $(addprefix tools/svmxctl/man/,$(MAN8)) $(DESTDIR)$(MANDIR)/man8/
	$(Q)install -m 0644 tools/svmxctl/svmxctl.bash $(DESTDIR)$(COMPLETIONDIR)/svmxctl
	$(Q)install -m 0755 $(addprefix $(BUILD)/tools/,$(INSTALL_TOOLS)) $(DESTDIR)$(BINDIR)/
	$(Q)install -m 0755 $(BUILD)/bpf/svmx-policy-load $(BUILD)/tools/svmxctl $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0755 $(BUILD)/tools/svmxctl-plot.py $(DESTDIR)$(SBINDIR)/
	$(Q)install -m 0644 $(addprefix $(BUILD)/bpf/,$(addsuffix .bpf.o,$(INSTALL_POLICIES))) $(DESTDIR)$(POLICYDIR)/
	$(Q)install -m 0755 tools/bpftrace/*.bt $(DESTDIR)$(BPFTRACEDIR)/
	$(Q)install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	$(Q)sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@POLICYDIR@|$(POLICYDIR)|g' \
		-e 's|@DOCDIR@|$(DOCDIR)|g' tools/systemd/$(UNIT).in >$(BUILD)/$(UNIT)
	$(Q)install -m 0644 $(BUILD)/$(UNIT) $(DESTDIR)$(UNITDIR)/
	@echo "svmx: installed under $(DESTDIR)$(PREFIX)"

uninstall: ## remove what make install installed (same PREFIX, DESTDIR)
	$(Q)rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_TOOLS)) $(DESTDIR)$(SBINDIR)/svmx-policy-load \
		$(DESTDIR)$(SBINDIR)/svmxctl $(DESTDIR)$(SBINDIR)/svmxctl-plot.py \
		$(addprefix $(DESTDIR)$(POLICYDIR)/,$(addsuffix .bpf.o,$(INSTALL_POLICIES))) \
		$(addprefix $(DESTDIR)$(BPFTRACEDIR)/,$(notdir $(wildcard tools/bpftrace/*.bt))) \
		$(addprefix $(DESTDIR)$(DOCDIR)/,README.md $(notdir $(wildcard docs/*.md))) \
		$(DESTDIR)$(UNITDIR)/$(UNIT) $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MAN8)) \
		$(DESTDIR)$(COMPLETIONDIR)/svmxctl
	$(Q)rmdir -p --ignore-fail-on-non-empty $(DESTDIR)$(POLICYDIR) $(DESTDIR)$(BPFTRACEDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLETIONDIR) 2>/dev/null || true

clean: ## remove build output (not the kernel cache)
	$(Q)kdir=$$(cat kernel/.kdir 2>/dev/null); \
		if [ -f "$$kdir/Makefile" ]; then $(MAKE) -C "$$kdir" M=$(TOP)/kernel clean >/dev/null; fi
	$(Q)rm -rf $(BUILD) kernel/.kdir

help: ## this text
	@echo "svmx make targets:"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | awk -F'\t' '{printf "  %-10s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: KDIR=<kernel build tree> DEBUG=1 SVMX_CACHE=<dir> V=1"
	@echo "make install/uninstall: PREFIX=<dir> (default /usr/local) DESTDIR=<staging root>"
	@echo "make bench: BENCH_QUICK=1 BENCH_ONLY=migrate,overhead,matrix BENCH_WORKLOADS=LIST BENCH_POLICIES=LIST BENCH_SETS=LIST BENCH_SEEDS=N"
	@echo "make stress: SEEDS=N or DURATION=SEC, SEED=S OPS=N CALLS=N ONLY=torture|fuzz MEM_MB=M HIVE=1 FAULTS=P"
	@echo "Cache: $$(. $(VM)/lib.sh; svmx_cache_dir)/kernel  (clear: rm -rf <that dir>)"
