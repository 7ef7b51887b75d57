/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants of svmx's uapi (kernel/uapi/svmx.h) that a policy compares
 * against: #defines do not travel in BTF, so they are repeated here.
 */
#ifndef SVMX_UAPI_BPF_H
#define SVMX_UAPI_BPF_H

#define SVMX_MAX_DEVICES	8
#define SVMX_TARGET_SYSTEM	0xffffffffu	/* system memory */
#define SVMX_LOC_NONE		0xfffffffdu	/* no preferred location */

#endif /* SVMX_UAPI_BPF_H */
