/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the lock workloads (pipe_writers, lock_eventfd) share: a run length
 * given as a count or as seconds, a start barrier, and one thread per CPU
 * so that contention does not depend on the scheduler's mood.
 */
#ifndef KS_LOCK_WL_H
#define KS_LOCK_WL_H

#include <pthread.h>
#include <sys/syscall.h>
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

/*
 * The shape every lock workload shares: "COMM THREADS LEN" arguments, then
 * THREADS worker threads named COMM, spread over the CPUs, started
 * together at a barrier, each calling op(idx) until its LEN is done, and
 * beside them an optional helper thread (a reader draining what the
 * workers write) that runs until the workers are done.  op returns 1 for
 * an operation that did its work, 0 for one that found nothing to do
 * (EAGAIN on a full pipe) and exits the process on a real error.
 */
struct lwl_worker {
	long idx;
	long ok, again;		/* op's 1s and 0s */
	pthread_t t;
	pid_t tid;		/* its thread id, ground truth for --by tid */
};

struct lwl_run {
	const char *comm;
	long threads;
	struct lwl_len len;
	int (*op)(long idx);
	void (*helper)(void);	/* runs until lwl_stop is set */
	struct lwl_worker w[LWL_MAX_THREADS];
	long ok, again;		/* summed over the workers */
	double seconds;		/* barrier to the last worker's end */
};

/* set once every worker is done: the helper's cue to stop */
static volatile int lwl_stop;
static pthread_barrier_t lwl_go;

/* parse "COMM THREADS LEN" at argv[0..2]; usage and exit 2 on bad input */
static inline void lwl_args(struct lwl_run *r, int argc, char **argv,
			    const char *usage)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s\n", usage);
		exit(2);
	}
	r->comm = argv[0];
	r->threads = wl_num(argv[1], "thread count");
	r->len = lwl_parse_len(argv[2]);
	if (r->threads < 1 || r->threads > LWL_MAX_THREADS ||
	    strlen(r->comm) < 1 || strlen(r->comm) > 15) {
		fprintf(stderr, "%s: 1-%d threads, a 1-15 byte COMM\n", usage,
			LWL_MAX_THREADS);
		exit(2);
	}
}

/* a helper's name: comm with its last letter replaced by '#' (or '%'
 * when it is one), so that a -c COMM filter leaves the helper out */
static inline void lwl_helper_comm(char out[16], const char *comm)
{
	size_t l = strlen(comm);

	memcpy(out, comm, l + 1);
	out[l - 1] = out[l - 1] == '#' ? '%' : '#';
}

/* an op's body: 1 when a non-blocking write wrote, 0 on EAGAIN */
static inline int lwl_write(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n > 0)
		return 1;
	if (n < 0 && errno == EAGAIN)
		return 0;
	perror("write");
	exit(1);
}

/* a helper's body: read fd (non-blocking) until the workers are done */
static inline void lwl_drain(int fd)
{
	static char buf[65536];

	while (!lwl_stop)
		if (read(fd, buf, sizeof(buf)) < 0 && errno != EAGAIN) {
			perror("read");
			exit(1);
		}
}

static struct lwl_run *lwl_cur;

/* the workers' thread ids as a JSON array: "[12, 13]" */
static inline void lwl_tids(const struct lwl_run *r, char *out, size_t len)
{
	size_t n = snprintf(out, len, "[");

	for (long i = 0; i < r->threads && n < len; i++)
		n += snprintf(out + n, len - n, "%s%d", i ? ", " : "",
			      (int)r->w[i].tid);
	if (n < len)
		snprintf(out + n, len - n, "]");
}

static void *lwl_worker_main(void *arg)
{
	struct lwl_worker *w = arg;
	const struct lwl_run *r = lwl_cur;
	double end;
	long i;

	lwl_pin(w->idx);
	w->tid = (pid_t)syscall(SYS_gettid);
	wl_name(r->comm);
	pthread_barrier_wait(&lwl_go);
	/* timed from here: a slow start must not eat the run */
	end = lwl_now() + r->len.seconds;
	for (i = 0; lwl_more(&r->len, i, end); i++) {
		if (r->op(w->idx))
			w->ok++;
		else
			w->again++;
	}
	return NULL;
}

static void *lwl_helper_main(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&lwl_go);
	lwl_cur->helper();
	return NULL;
}

/* Run the workers (and helper) to the end; totals in r.  The caller then
 * closes its files itself: pthread_join() returns while a worker may
 * still be in do_exit(), and the last task to drop the file table
 * releases the files, under COMM if that is a worker (seen with kprobes:
 * a pipe's mutex taken twice more). */
static inline void lwl_run(struct lwl_run *r)
{
	pthread_t helper;
	double t0;

	lwl_cur = r;
	pthread_barrier_init(&lwl_go, NULL, r->threads + 1 + !!r->helper);
	if (r->helper && pthread_create(&helper, NULL, lwl_helper_main,
					NULL)) {
		fprintf(stderr, "cannot start a thread\n");
		exit(1);
	}
	for (long i = 0; i < r->threads; i++) {
		r->w[i].idx = i;
		if (pthread_create(&r->w[i].t, NULL, lwl_worker_main,
				   &r->w[i])) {
			fprintf(stderr, "cannot start a thread\n");
			exit(1);
		}
	}
	pthread_barrier_wait(&lwl_go);
	t0 = lwl_now();
	for (long i = 0; i < r->threads; i++) {
		pthread_join(r->w[i].t, NULL);
		r->ok += r->w[i].ok;
		r->again += r->w[i].again;
	}
	r->seconds = lwl_now() - t0;
	lwl_stop = 1;
	if (r->helper)
		pthread_join(helper, NULL);
}

#endif
