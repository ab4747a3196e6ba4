/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_SLABRATETOP_H
#define KS_SLABRATETOP_H

#include "ks_common.h"

/* Longer than any cache name in a stock kernel (bcc truncates at 32). */
#define SLAB_NAME_LEN	48

/* Key of the by-name map (tracepoint mode: the event has no cache pointer) */
struct slab_name {
	char name[SLAB_NAME_LEN];
};

/*
 * Counters are cumulative since attach: user space reports the difference
 * between two reads, so nothing is lost at an interval boundary.
 */
struct slab_val {
	unsigned long long allocs;
	/* bytes: counted per event only when size is 0 (tracepoint mode);
	 * otherwise allocs * size, the cache's per-object footprint */
	unsigned long long bytes;
	unsigned long long size;
	char name[SLAB_NAME_LEN];
};

#endif
