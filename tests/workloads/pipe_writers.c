// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_writers [-b|-n] COMM THREADS WRITES [BYTES]: THREADS threads named
 * COMM write BYTES (default 64) to one pipe WRITES times each (or for
 * WRITES seconds when it ends in 's', e.g. "2s"), while one
 * reader thread (named COMM with its last letter replaced by '#', so that
 * a -c COMM filter leaves it out) drains it.  The writers start together
 * and fight over the pipe's mutex: real mutex contention.
 *
 * By default the pipe is O_NONBLOCK, and pipe_write() then takes the
 * pipe's mutex exactly once per write(2) call (a full pipe returns -EAGAIN
 * instead of dropping the mutex to sleep and taking it again), so COMM
 * takes that one mutex exactly THREADS * WRITES times.  With -b the pipe
 * blocks: writers sleep on a full pipe and relock the mutex when woken
 * (more acquisitions than writes), and long copies under the mutex make
 * far more contention, even on a busy two-CPU machine.  With -n no
 * reader drains the pipe: once it is full every write(2) takes the mutex
 * and returns -EAGAIN, and one writer takes that mutex with nobody else
 * ever wanting it (its mutex_lock() calls all take the fast path).
 *
 * Prints ground truth as one JSON line: write calls, how many wrote data
 * and how many found the pipe full, and the wall time of the writing phase.
 */
#define _GNU_SOURCE	/* pipe2(), CPU affinity */
#include <fcntl.h>
#include "lock_wl.h"

static char reader_comm[16];
static struct lwl_run run;
static long bytes;
static int pfd[2];
static char buf[65536];

static int write_once(long idx)
{
	(void)idx;
	return lwl_write(pfd[1], buf, bytes);
}

static void drain(void)
{
	lwl_pin(run.threads);
	wl_name(reader_comm);
	/* the read end never blocks: it must notice the writers are done */
	lwl_drain(pfd[0]);
}

int main(int argc, char **argv)
{
	int blocking = 0, reader = 1, n;
	char out[1536], tids[1024];
	long writes;

	if (argc > 1 && !strcmp(argv[1], "-b")) {
		blocking = 1;
		argv++;
		argc--;
	} else if (argc > 1 && !strcmp(argv[1], "-n")) {
		reader = 0;
		argv++;
		argc--;
	}
	if (argc == 5) {
		bytes = wl_num(argv[4], "byte count");
		argc--;
	} else {
		bytes = 64;
	}
	lwl_args(&run, argc - 1, argv + 1,
		 "pipe_writers [-b|-n] COMM THREADS WRITES [BYTES]");
	if (bytes < 1 || bytes > 65536) {
		fprintf(stderr, "pipe_writers: 1-65536 bytes\n");
		return 2;
	}
	memset(buf, 'w', sizeof(buf));
	lwl_helper_comm(reader_comm, run.comm);
	if (pipe2(pfd, O_NONBLOCK)) {
		perror("pipe2");
		return 1;
	}
	/* O_NONBLOCK is per open file: only the write end changes */
	if (blocking && fcntl(pfd[1], F_SETFL, 0)) {
		perror("fcntl");
		return 1;
	}
	run.op = write_once;
	run.helper = reader ? drain : NULL;
	lwl_run(&run);
	/* closed by this (unnamed) thread: see lwl_run() */
	close(pfd[0]);
	close(pfd[1]);
	writes = run.ok + run.again;
	lwl_tids(&run, tids, sizeof(tids));
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"tids\": %s, \"per_thread\": %ld, "
		     "\"writes\": %ld, "
		     "\"written\": %ld, \"full\": %ld, \"bytes\": %ld, "
		     "\"seconds\": %.6f, \"ns_per_write\": %.1f}\n",
		     run.threads, tids, run.len.ops, writes, run.ok, run.again, bytes, run.seconds,
		     run.seconds * 1e9 / (writes ? writes : 1));
	return write(1, out, n) == n ? 0 : 1;
}
