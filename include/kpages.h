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

struct kpages_val {
	unsigned long long count;
	unsigned long long pages;
};

#endif
