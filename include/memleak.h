/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_MEMLEAK_H
#define KS_MEMLEAK_H

#include "ks_common.h"

/*
 * What made an allocation.  Kernel kinds come from the tracepoint, user
 * kinds from the uprobe's attach cookie (one entry program serves malloc,
 * valloc and pvalloc).
 */
enum memleak_kind {
	ML_KMALLOC = 0,
	ML_CACHE,
	ML_PAGE,
	ML_PERCPU,
	ML_KERNEL_KINDS,		/* first user-space kind */
	ML_MALLOC = ML_KERNEL_KINDS,
	ML_CALLOC,
	ML_REALLOC,
	ML_REALLOCARRAY,
	ML_POSIX_MEMALIGN,
	ML_ALIGNED_ALLOC,
	ML_MEMALIGN,
	ML_VALLOC,
	ML_PVALLOC,
	ML_MMAP,
	ML_KIND_MAX,
};

/* allocs map value; the key is the address (tagged, see memleak.bpf.c) */
struct memleak_alloc {
	unsigned long long size;	/* bytes asked for (kernel: given) */
	unsigned long long ts_ns;	/* CLOCK_MONOTONIC at allocation */
	unsigned long long stack;	/* key in the stacks map */
	unsigned int kind;		/* enum memleak_kind */
	unsigned int tid;
};

/*
 * An allocator call in flight on one thread (user mode): what the entry
 * probe saw, for the return probe.  depth counts calls nested inside it
 * (realloc(NULL, n) calls malloc, malloc calls mmap): only the outermost
 * call is an allocation the program made.
 */
struct memleak_pending {
	unsigned long long size;
	unsigned long long old;		/* realloc: the block being resized */
	unsigned long long old_ts;	/* ... its ts_ns, to spot a reused address */
	unsigned long long memptr;	/* posix_memalign: where the result goes */
	unsigned long long sp;		/* stack pointer at entry */
	unsigned int kind;
	unsigned int depth;
	unsigned int sampled;
	unsigned int pad;
};

/* per-CPU counters, cumulative since the start */
enum memleak_stat {
	ML_ST_ALLOCS = 0,	/* allocations tracked */
	ML_ST_FREES,		/* frees of a tracked allocation */
	ML_ST_FREE_UNKNOWN,	/* frees of an address not tracked */
	ML_ST_REUSED,		/* allocation at a tracked address: the free
				 * of the old block was missed */
	ML_ST_SEEN,		/* kernel allocations seen, sampled or not */
	ML_ST_SEEN_BYTES,	/* ... their bytes */
	ML_ST_MAX,
};

/* drop reasons after the common map_full, stack, no_memory and recursion
 * (for memleak: allocation hooks skipped; skipped free hooks are
 * frees.missed_recursion) */
enum memleak_drop {
	ML_DROP_PENDING = KS_DROP_COMMON_MAX,	/* in-flight call map full */
	ML_DROP_STACKS_FULL,			/* stack table full */
	ML_DROP_BUSY,		/* hash bucket locked by a nested update on
				 * this CPU (-EBUSY): not a full map */
	ML_DROP_MAX,
};
_Static_assert(ML_DROP_MAX <= KS_MAX_DROP_REASONS, "ks_drops too small");

/*
 * Bytes into a function where its entry uprobe goes, from the function's
 * first five bytes.  glibc's free() begins with "test %rdi,%rdi; jcc": a
 * uprobe there must single-step the test out of line (two traps), while a
 * conditional jump is emulated (one trap).  Probing the jump sees the same
 * argument registers, and is several times cheaper on free-heavy
 * programs.  (User space only: memleak's attach, and bench/floor.c's
 * uprobe floor, which must probe where memleak does.)
 */
static inline unsigned int memleak_entry_offset(const unsigned char *h)
{
	if (h[0] == 0x48 && h[1] == 0x85 && h[2] == 0xff &&
	    ((h[3] >= 0x70 && h[3] <= 0x7f) ||
	     (h[3] == 0x0f && h[4] >= 0x80 && h[4] <= 0x8f)))
		return 3;
	return 0;
}

#endif
