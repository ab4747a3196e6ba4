/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_KPAGES_H
#define KS_KPAGES_H

#include "ks_common.h"

/* stackid of the allocations whose stack was not sampled */
#define KPAGES_NOSTACK (-1)

struct kpages_key {
	int stackid;		/* kernel stack; the site is derived from it */
	unsigned int order;
	char comm[KS_COMM_LEN];
	unsigned int gen;	/* interval generation (ks_gen) */
};

struct kpages_val {
	unsigned long long count;
	unsigned long long pages;
};

#endif
