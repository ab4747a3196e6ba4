// SPDX-License-Identifier: GPL-2.0
/*
 * The slab cache an address lies in, for naming heap locks
 * (src/tools/locks_common.c).  A BPF_PROG_TYPE_SYSCALL program that user
 * space runs with BPF_PROG_TEST_RUN, one address per run: it needs the
 * bpf_get_kmem_cache() kfunc (6.13+), which the lock programs cannot
 * reference weakly with libbpf 1.1 without failing to load on older
 * kernels, so it lives in this object of its own, loaded only where the
 * kernel has the kfunc.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "locks.h"

extern struct kmem_cache *bpf_get_kmem_cache(u64 addr) __ksym;

SEC("syscall")
int slab_of(struct lock_slab_args *a)
{
	struct kmem_cache *s = bpf_get_kmem_cache(a->addr);
	char name[sizeof(a->name)] = {};

	if (!s)
		return 1;	/* not in a slab object (now) */
	/* the helper cannot write the context: through the stack */
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(s, name));
	__builtin_memcpy(a->name, name, sizeof(name));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
