/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_NUMAMOVE_H
#define KS_NUMAMOVE_H

#include "ks_common.h"

/* Drop reasons after the common ones */
enum numamove_drop {
	/* a migration whose duration could not be measured: the start
	 * record was missing (map full, missed kretprobe, or it began
	 * before tracing did) */
	NUMAMOVE_DROP_UNPAIRED = KS_DROP_COMMON_MAX,
};

/* One per-CPU slot of cumulative counters (user space sums the CPUs and
 * reports differences between reads). */
struct numamove_val {
	unsigned long long migrations;	/* folios the kernel tried to move */
	unsigned long long pages;	/* base pages migrated (nr_succeeded) */
	unsigned long long pages_failed;
	unsigned long long time_ns;	/* time of the timed migrations */
	unsigned long long timed;	/* migrations included in time_ns */
};

#endif
