// SPDX-License-Identifier: GPL-2.0
/*
 * lock_pty COMM THREADS WRITES: THREADS threads named COMM write one byte
 * WRITES times each to the slave of one pseudo-terminal opened
 * O_NONBLOCK, while a reader thread (not named COMM) drains the master.
 *
 * Every write(2) to a tty starts with mutex_trylock() on the tty's
 * atomic_write_lock (tty_write_lock()); with O_NONBLOCK a failed trylock
 * returns -EAGAIN at once, without taking the mutex.  So the trylock
 * acquisitions of that one mutex by COMM lie between the writes that
 * succeeded and all writes, and with one thread every write acquires it.
 *
 * Prints ground truth as one JSON line: writes, how many succeeded and how
 * many returned -EAGAIN.
 */
#define _GNU_SOURCE	/* posix_openpt() and friends, CPU affinity */
#include <fcntl.h>
#include <stdlib.h>
#include <termios.h>
#include "lock_wl.h"

static int master, slave;

static int write_byte(long idx)
{
	(void)idx;
	return lwl_write(slave, "x", 1);
}

static void drain(void)
{
	lwl_drain(master);
}

int main(int argc, char **argv)
{
	struct lwl_run run = { .op = write_byte, .helper = drain };
	struct termios t;
	char out[256];
	int n;

	lwl_args(&run, argc - 1, argv + 1, "lock_pty COMM THREADS WRITES");
	master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (master < 0 || grantpt(master) || unlockpt(master)) {
		perror("posix_openpt");
		return 1;
	}
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (slave < 0) {
		perror("open pts");
		return 1;
	}
	/* raw: no echo, no output processing, nothing but the write lock */
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	lwl_run(&run);
	/* released by this thread, not by a COMM thread still exiting */
	close(slave);
	close(master);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"per_thread\": %ld, \"writes\": %ld, "
		     "\"written\": %ld, \"again\": %ld}\n", run.threads,
		     run.len.ops, run.ok + run.again,
		     run.ok, run.again);
	return write(1, out, n) == n ? 0 : 1;
}
