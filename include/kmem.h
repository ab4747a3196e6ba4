/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_KMEM_H
#define KS_KMEM_H

#include "ks_common.h"

enum kmem_kind { KMEM_KMALLOC = 0, KMEM_CACHE = 1 };

struct kmem_key {
	unsigned long long site;	/* call site, 0 with stacks */
	unsigned long long stackid;	/* KS_NO_STACK without stacks */
	unsigned int kind;		/* enum kmem_kind */
	unsigned int gen;		/* interval generation (ks_gen) */
	char comm[KS_COMM_LEN];
};

struct kmem_val {
	unsigned long long count;
	unsigned long long bytes;	/* bytes_alloc: what the allocator gave */
	unsigned long long bytes_req;	/* what the caller asked for */
};

#endif
