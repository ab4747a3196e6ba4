// SPDX-License-Identifier: GPL-2.0
/*
 * lock_fown COMM THREADS OPS: THREADS threads named COMM, started together
 * and spread over the CPUs, each run fcntl() on one shared file OPS times
 * (or for OPS seconds when it ends in 's', e.g. "2s"): even-numbered
 * threads F_SETOWN, which takes the file's owner rwlock for writing
 * (write_lock_irq in f_modown()), odd-numbered ones F_GETOWN, which takes
 * it for reading (read_lock_irq in f_getown()).
 *
 * rwlock contention, unlike spin lock contention, reaches the
 * lock:contention tracepoints on every waiter: queued_write_lock_slowpath()
 * and queued_read_lock_slowpath() fire contention_begin as they enter,
 * while a queued spin lock's first waiter spins on its pending bit without
 * it (and a guest without paravirtual spin locks never gets that far, see
 * docs/locks.md).  So two CPUs are enough for spinlock to see contention.
 *
 * Each fcntl() takes that one lock exactly once, so there are at most as
 * many write waits as F_SETOWN calls and read waits as F_GETOWN calls.
 *
 * Prints ground truth as one JSON line: the calls of each kind and the
 * wall time of the calling phase.
 */
#define _GNU_SOURCE	/* CPU affinity, F_SETOWN */
#include <fcntl.h>
#include "lock_wl.h"

static const char *comm;
static struct lwl_len len;
static int fd;
static pid_t owner;
static pthread_barrier_t go;

struct result {
	long idx, calls;
};

static void *caller(void *arg)
{
	struct result *res = arg;
	int writer = !(res->idx & 1);
	double end;
	long i;

	lwl_pin(res->idx);
	wl_name(comm);
	pthread_barrier_wait(&go);
	/* timed from here: a slow start must not eat the run */
	end = lwl_now() + len.seconds;
	for (i = 0; lwl_more(&len, i, end); i++) {
		int r = writer ? fcntl(fd, F_SETOWN, owner) :
				 fcntl(fd, F_GETOWN);

		if (r < 0 || (!writer && r != owner)) {
			perror("fcntl");
			exit(1);
		}
	}
	res->calls = i;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t[LWL_MAX_THREADS];
	struct result res[LWL_MAX_THREADS] = { { 0, 0 } };
	long threads, setown = 0, getown = 0;
	double t0, t1;
	char out[256];
	int n;

	if (argc != 4) {
		fprintf(stderr, "usage: lock_fown COMM THREADS OPS\n");
		return 2;
	}
	comm = argv[1];
	threads = wl_num(argv[2], "thread count");
	len = lwl_parse_len(argv[3]);
	if (threads < 1 || threads > LWL_MAX_THREADS || strlen(comm) < 1 ||
	    strlen(comm) > 15) {
		fprintf(stderr, "lock_fown: 1-%d threads, a 1-15 byte COMM\n",
			LWL_MAX_THREADS);
		return 2;
	}
	fd = open("/dev/null", O_RDONLY);
	owner = getpid();
	/* owned before the threads start: every F_GETOWN finds an owner
	 * (and on 6.12+ the owner struct exists before anyone reads it) */
	if (fd < 0 || fcntl(fd, F_SETOWN, owner)) {
		perror("/dev/null");
		return 1;
	}
	pthread_barrier_init(&go, NULL, threads + 1);
	for (long i = 0; i < threads; i++) {
		res[i].idx = i;
		if (pthread_create(&t[i], NULL, caller, &res[i]))
			return 1;
	}
	pthread_barrier_wait(&go);
	t0 = lwl_now();
	for (long i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		if (i & 1)
			getown += res[i].calls;
		else
			setown += res[i].calls;
	}
	t1 = lwl_now();
	/* released by this thread, not by a COMM thread still exiting */
	close(fd);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"setown\": %ld, \"getown\": %ld, "
		     "\"seconds\": %.6f}\n", threads, setown, getown, t1 - t0);
	return write(1, out, n) == n ? 0 : 1;
}
