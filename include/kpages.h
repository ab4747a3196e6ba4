/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_KPAGES_H
#define KS_KPAGES_H

#include "ks_common.h"

struct kpages_key {
	/* kernel stack, the site derived from it; KS_NO_STACK for the
	 * allocations whose stack was not sampled */
	unsigned long long stackid;
	unsigned int order;
	unsigned int gen;	/* interval generation (ks_gen) */
	char comm[KS_COMM_LEN];
};

/*
 * Site mode's short walk (kpages.bpf.c): an id in the map of short stacks,
 * one user space has found the site in (KS_STACKID_MAP marks a stack-trace
 * map id; bit 62 this map's)
 */
#define KPAGES_SHORT		(KS_STACKID_MAP | (1ULL << 62))
/* frames of the short walk past the room for tracing frames: with a
 * classic tracepoint's room of one, as many as bpftrace's kpages.bt
 * takes (kstack(5)) where no tracing frame is on top (the usual case:
 * one probe on the tracepoint).  Five frames hold the site of all but
 * ~0.05% of page allocations (stress-ng --fork --pipe --vm, 6.18); each
 * frame more costs ~100 ns of cold unwinder look-ups (docs/bench.md) */
#if defined(__aarch64__) || defined(__TARGET_ARCH_arm64)
/* arm64 6.12: the fault site is the 5th frame (one allocator frame
 * more, folio_alloc_mpol); with 4 the short walk found no site there in
 * any mode (case kpages_short_walk on 6.12-arm64), with 6 it does */
#define KPAGES_SHORT_FRAMES	6
#else
#define KPAGES_SHORT_FRAMES	4
#endif

struct kpages_val {
	unsigned long long count;
	unsigned long long pages;
};

#endif
