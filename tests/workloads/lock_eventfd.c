// SPDX-License-Identifier: GPL-2.0
/*
 * lock_eventfd COMM THREADS WRITES: THREADS threads named COMM, started
 * together and spread over the CPUs, each add 1 to one eventfd WRITES
 * times (or for WRITES seconds when it ends in 's', e.g. "2s").
 *
 * eventfd_write() takes the eventfd's wait-queue spin lock with
 * spin_lock_irq() exactly once per write(2) and nothing else sleeps or
 * blocks (the counter never nears overflow), so COMM calls
 * _raw_spin_lock_irq on that one lock exactly once per write, and threads
 * on different CPUs contend for it: spin lock contention.
 *
 * Prints ground truth as one JSON line: the writes, the counter read back
 * (must equal them) and the wall time of the writing phase.
 */
#define _GNU_SOURCE	/* CPU affinity */
#include <stdint.h>
#include <sys/eventfd.h>
#include "lock_wl.h"

static const char *comm;
static struct lwl_len len;
static int efd;
static pthread_barrier_t go;

struct result {
	long idx, writes;
};

static void *writer(void *arg)
{
	struct result *res = arg;
	const uint64_t one = 1;
	double end;
	long i;

	lwl_pin(res->idx);
	wl_name(comm);
	pthread_barrier_wait(&go);
	/* timed from here: a slow start must not eat the run */
	end = lwl_now() + len.seconds;
	for (i = 0; lwl_more(&len, i, end); i++) {
		if (write(efd, &one, sizeof(one)) != sizeof(one)) {
			perror("write");
			exit(1);
		}
	}
	res->writes = i;
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tw[LWL_MAX_THREADS];
	struct result res[LWL_MAX_THREADS] = { { 0, 0 } };
	long threads, writes = 0;
	uint64_t total = 0;
	double t0, t1;
	char out[256];
	int n;

	if (argc != 4) {
		fprintf(stderr, "usage: lock_eventfd COMM THREADS WRITES\n");
		return 2;
	}
	comm = argv[1];
	threads = wl_num(argv[2], "thread count");
	len = lwl_parse_len(argv[3]);
	if (threads < 1 || threads > LWL_MAX_THREADS || strlen(comm) < 1 ||
	    strlen(comm) > 15) {
		fprintf(stderr, "lock_eventfd: 1-%d threads, a 1-15 byte "
			"COMM\n", LWL_MAX_THREADS);
		return 2;
	}
	/* non-blocking: a read of a zero counter must not hang */
	efd = eventfd(0, EFD_NONBLOCK);
	if (efd < 0) {
		perror("eventfd");
		return 1;
	}
	pthread_barrier_init(&go, NULL, threads + 1);
	for (long i = 0; i < threads; i++) {
		res[i].idx = i;
		if (pthread_create(&tw[i], NULL, writer, &res[i]))
			return 1;
	}
	pthread_barrier_wait(&go);
	t0 = lwl_now();
	for (long i = 0; i < threads; i++) {
		pthread_join(tw[i], NULL);
		writes += res[i].writes;
	}
	t1 = lwl_now();
	/* read back by the main thread, which is not named COMM */
	if (read(efd, &total, sizeof(total)) != sizeof(total) &&
	    errno != EAGAIN) {
		perror("read");
		return 1;
	}
	/* released by this thread, not by a COMM thread still exiting */
	close(efd);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"writes\": %ld, \"counter\": %llu, "
		     "\"seconds\": %.6f, \"ns_per_write\": %.1f}\n",
		     threads, writes, (unsigned long long)total, t1 - t0,
		     (t1 - t0) * 1e9 / (writes ? writes : 1));
	return write(1, out, n) == n ? 0 : 1;
}
