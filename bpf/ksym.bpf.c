// SPDX-License-Identifier: GPL-2.0
/*
 * Addresses of kernel symbols by name, for user space (src/lib/ksyms.c:
 * ks_kernel_syms_addrs()): run once with BPF_PROG_TEST_RUN, it looks up
 * the names user space put in reqs.  The kernel's own lookup is a binary
 * search of its sorted names: ~1.5 ms with the load, against ~45 ms for a
 * read of /proc/kallsyms (121,000 lines formatted by the kernel) to find
 * the same nine names.  A syscall program (5.16+), sleepable; the helper
 * answers -EPERM where kallsyms would show this task zeros.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "ksym.h"

char LICENSE[] SEC("license") = "GPL";

struct ksym_req reqs[KSYM_MAX_REQ];
__u32 nreq;

SEC("syscall")
int ksym_lookup(void *ctx)
{
	for (__u32 i = 0; i < KSYM_MAX_REQ && i < nreq; i++) {
		reqs[i].addr = 0;
		reqs[i].err = bpf_kallsyms_lookup_name(reqs[i].name,
						       sizeof(reqs[i].name), 0,
						       &reqs[i].addr);
	}
	return 0;
}
