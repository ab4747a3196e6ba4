/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KS_WORKQ_H
#define KS_WORKQ_H

#include "ks_common.h"

/* the kernel's WQ_NAME_LEN: 24 on 6.1, 32 on 6.12 (the larger of the two;
 * names are NUL-terminated inside the kernel's own array either way) */
#define WORKQ_NAME_LEN	32

/*
 * Cumulative since attach, never deleted: user space reports differences,
 * so no event is lost between a read and a reset.  Histogram slots are
 * log2 of microseconds (ks_log2_slot), as bpftrace's workq.bt.
 */
struct workq_stats {
	unsigned long long count;
	unsigned long long total_ns;
	unsigned long long hist[KS_HIST_SLOTS];
};

/* per work function (key: the function's address) */
struct workq_val {
	struct workq_stats exec;	/* execute_start -> execute_end */
	struct workq_stats queue;	/* queue_work -> execute_start (-Q) */
};

/* per workqueue (key: struct workqueue_struct address), with -Q */
struct workq_wq_val {
	struct workq_val v;
	char name[WORKQ_NAME_LEN];
};

/* per (work function, workqueue), with -Q: the queueing latency of the
 * items of one function on one workqueue (a function may be queued on
 * several) */
struct workq_pair_key {
	unsigned long long func;
	unsigned long long wq;
};

enum workq_max_kind {
	WORKQ_MAX_FUNC_EXEC = 0,
	WORKQ_MAX_FUNC_QUEUE,
	WORKQ_MAX_WQ_EXEC,
	WORKQ_MAX_WQ_QUEUE,
};

/*
 * A maximum cannot be differenced like a counter, so maxima live in their
 * own map keyed by report generation: user space flips the generation,
 * reads the finished one and deletes it.
 */
struct workq_max_key {
	unsigned long long id;		/* function or workqueue address */
	unsigned int gen;
	unsigned int kind;		/* enum workq_max_kind */
};

/* per-CPU counters that are not drops */
enum workq_counter {
	/* executions without a recorded queue event (-Q): queued before
	 * tracing began, flush barriers (linked in without queue_work), or
	 * the pending record was evicted */
	WORKQ_CNT_QUEUE_UNMATCHED = 0,
	WORKQ_CNT_MAX,
};

#endif
