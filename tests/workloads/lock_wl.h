/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the lock workloads (pipe_writers, lock_eventfd) share: a run length
 * given as a count or as seconds, a start barrier, and one thread per CPU
 * so that contention does not depend on the scheduler's mood.
 */
#ifndef KS_LOCK_WL_H
#define KS_LOCK_WL_H

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include "wl.h"

#define LWL_MAX_THREADS 64

static inline double lwl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * "N" operations per thread, or "Ss" seconds (each thread runs that long
 * from the start barrier and reports how many it did): on a loaded
 * machine a fixed time gives a steadier amount of contention than a
 * fixed count.
 */
struct lwl_len {
	long ops;		/* per thread; 0 with a duration */
	double seconds;
};

static inline struct lwl_len lwl_parse_len(const char *s)
{
	struct lwl_len l = { 0, 0 };
	size_t n = strlen(s);

	if (n > 1 && s[n - 1] == 's') {
		char num[32];

		if (n - 1 >= sizeof(num)) {
			fprintf(stderr, "bad duration '%s'\n", s);
			exit(2);
		}
		memcpy(num, s, n - 1);
		num[n - 1] = '\0';
		l.seconds = wl_num(num, "seconds");
		if (l.seconds <= 0) {
			fprintf(stderr, "bad duration '%s'\n", s);
			exit(2);
		}
	} else {
		l.ops = wl_num(s, "count");
	}
	return l;
}

/* true while thread should do one more operation (i done so far) */
static inline int lwl_more(const struct lwl_len *l, long i, double end)
{
	if (l->ops)
		return i < l->ops;
	/* the clock read costs ~20 ns (vDSO): checked every 64 ops */
	return (i & 63) || lwl_now() < end;
}

/* Spread threads over the CPUs we may run on, one each in turn. */
static inline void lwl_pin(long idx)
{
	cpu_set_t allowed, one;
	int cpus[CPU_SETSIZE], n = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			cpus[n++] = c;
	if (!n)
		return;
	CPU_ZERO(&one);
	CPU_SET(cpus[idx % n], &one);
	sched_setaffinity(0, sizeof(one), &one);	/* best effort */
}

#endif
