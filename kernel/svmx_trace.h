/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svmx tracepoints: every policy decision and every mechanism step.
 * Print formats are key=value so that perf script and bpftrace output can
 * be parsed; enums print symbolically.  docs/tracepoints.md is the reference.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM svmx

#if !defined(_SVMX_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _SVMX_TRACE_H

#include <linux/tracepoint.h>

#include "svmx.h"

#define SVMX_ACCESS_NAMES					\
	EM(SVMX_ACCESS_READ,	"read")				\
	EM(SVMX_ACCESS_WRITE,	"write")			\
	EMe(SVMX_ACCESS_ATOMIC,	"atomic")

#define SVMX_PLACE_NAMES					\
	EM(SVMX_PLACE_MIGRATE,	"migrate")			\
	EMe(SVMX_PLACE_REMOTE,	"remote")

#define SVMX_DIR_NAMES						\
	EM(SVMX_DIR_TO_DEVICE,	"to_device")			\
	EMe(SVMX_DIR_TO_SYSTEM,	"to_system")

#define SVMX_EVICT_NAMES					\
	EM(SVMX_EVICT_PRESSURE,	"pressure")			\
	EM(SVMX_EVICT_TEARDOWN,	"teardown")			\
	EMe(SVMX_EVICT_REQUEST,	"request")

#define SVMX_HOOK_NAMES						\
	EM(SVMX_HOOK_FAULT,	"fault")			\
	EM(SVMX_HOOK_CPU_FAULT,	"cpu_fault")			\
	EM(SVMX_HOOK_PREFETCH,	"prefetch")			\
	EMe(SVMX_HOOK_VICTIM,	"victim")

#undef EM
#undef EMe
#define EM(a, b)	TRACE_DEFINE_ENUM(a);
#define EMe(a, b)	TRACE_DEFINE_ENUM(a);

SVMX_ACCESS_NAMES
SVMX_PLACE_NAMES
SVMX_DIR_NAMES
SVMX_EVICT_NAMES
SVMX_HOOK_NAMES

#undef EM
#undef EMe
#define EM(a, b)	{a, b},
#define EMe(a, b)	{a, b}

TRACE_EVENT(svmx_ioctl,
	TP_PROTO(int dev, unsigned int cmd, long ret),
	TP_ARGS(dev, cmd, ret),
	TP_STRUCT__entry(
		__field(int, dev)
		__field(unsigned int, cmd)
		__field(long, ret)
	),
	TP_fast_assign(
		__entry->dev = dev;
		__entry->cmd = cmd;
		__entry->ret = ret;
	),
	TP_printk("dev=%d cmd=0x%x nr=%u ret=%ld", __entry->dev, __entry->cmd,
		  _IOC_NR(__entry->cmd), __entry->ret)
);

#endif /* _SVMX_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE svmx_trace
#include <trace/define_trace.h>
