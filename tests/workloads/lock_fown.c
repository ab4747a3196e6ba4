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

static int fd;
static pid_t owner;

/* even workers write the owner, odd ones read it */
static int call_once(long idx)
{
	int writer = !(idx & 1);
	int r = writer ? fcntl(fd, F_SETOWN, owner) : fcntl(fd, F_GETOWN);

	if (r < 0 || (!writer && r != owner)) {
		perror("fcntl");
		exit(1);
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct lwl_run run = { .op = call_once };
	long setown = 0, getown = 0;
	char out[256];
	int n;

	lwl_args(&run, argc - 1, argv + 1, "lock_fown COMM THREADS OPS");
	fd = open("/dev/null", O_RDONLY);
	owner = getpid();
	/* owned before the threads start: every F_GETOWN finds an owner
	 * (and on 6.12+ the owner struct exists before anyone reads it) */
	if (fd < 0 || fcntl(fd, F_SETOWN, owner)) {
		perror("/dev/null");
		return 1;
	}
	lwl_run(&run);
	for (long i = 0; i < run.threads; i++) {
		if (i & 1)
			getown += run.w[i].ok;
		else
			setown += run.w[i].ok;
	}
	/* released by this thread, not by a COMM thread still exiting */
	close(fd);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"setown\": %ld, \"getown\": %ld, "
		     "\"seconds\": %.6f}\n", run.threads, setown, getown,
		     run.seconds);
	return write(1, out, n) == n ? 0 : 1;
}
