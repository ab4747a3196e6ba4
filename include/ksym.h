/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_KSYM_H
#define KS_KSYM_H
/*
 * Kernel symbols by name from the kernel itself (bpf/ksym.bpf.c): a
 * syscall program calls bpf_kallsyms_lookup_name() for each request.
 */
#define KSYM_MAX_REQ	16
#define KSYM_NAME_LEN	64

struct ksym_req {
	char name[KSYM_NAME_LEN];	/* NUL-padded */
	unsigned long long addr;	/* 0: not found */
	long long err;			/* the helper's return */
};
#endif
