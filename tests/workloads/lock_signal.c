// SPDX-License-Identifier: GPL-2.0
/*
 * lock_signal COMM THREADS OPS: THREADS threads named COMM, started
 * together, each send SIGUSR1 to their own process with kill(2) and call
 * sched_yield(2), OPS times (or for OPS seconds when it ends in 's').
 *
 * kill() takes the process's sighand->siglock (lock_task_sighand()), and
 * the threads share it: siglock.  sched_yield() takes the calling CPU's
 * runqueue lock: rq_lock.  The handler only counts.
 *
 * Prints ground truth as one JSON line: kills, yields, signals handled.
 */
#define _GNU_SOURCE	/* CPU affinity */
#include <signal.h>
#include <sched.h>
#include "lock_wl.h"

static volatile long handled;

static void on_usr1(int sig)
{
	(void)sig;
	__sync_fetch_and_add(&handled, 1);
}

static int kill_yield(long idx)
{
	(void)idx;
	if (kill(getpid(), SIGUSR1)) {
		perror("kill");
		exit(1);
	}
	sched_yield();
	return 1;
}

int main(int argc, char **argv)
{
	struct lwl_run run = { .op = kill_yield };
	struct sigaction sa = { .sa_handler = on_usr1 };
	char out[256];
	int n;

	lwl_args(&run, argc - 1, argv + 1, "lock_signal COMM THREADS OPS");
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL)) {
		perror("sigaction");
		return 1;
	}
	lwl_run(&run);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"per_thread\": %ld, \"kills\": %ld, "
		     "\"yields\": %ld, \"handled\": %ld, \"seconds\": %.6f}\n",
		     run.threads, run.len.ops, run.ok, run.ok, handled,
		     run.seconds);
	return write(1, out, n) == n ? 0 : 1;
}
