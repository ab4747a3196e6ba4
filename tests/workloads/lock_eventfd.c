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

static int efd;

static int add_one(long idx)
{
	const uint64_t one = 1;

	(void)idx;
	if (write(efd, &one, sizeof(one)) != sizeof(one)) {
		perror("write");
		exit(1);
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct lwl_run run = { .op = add_one };
	uint64_t total = 0;
	char out[256];
	int n;

	lwl_args(&run, argc - 1, argv + 1, "lock_eventfd COMM THREADS WRITES");
	/* non-blocking: a read of a zero counter must not hang */
	efd = eventfd(0, EFD_NONBLOCK);
	if (efd < 0) {
		perror("eventfd");
		return 1;
	}
	lwl_run(&run);
	/* read back by the main thread, which is not named COMM */
	if (read(efd, &total, sizeof(total)) != sizeof(total) &&
	    errno != EAGAIN) {
		perror("read");
		return 1;
	}
	/* released by this thread, not by a COMM thread still exiting */
	close(efd);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"per_thread\": %ld, "
		     "\"writes\": %ld, \"counter\": %llu, "
		     "\"seconds\": %.6f, \"ns_per_write\": %.1f}\n",
		     run.threads, run.len.ops, run.ok,
		     (unsigned long long)total,
		     run.seconds, run.seconds * 1e9 / (run.ok ? run.ok : 1));
	return write(1, out, n) == n ? 0 : 1;
}
