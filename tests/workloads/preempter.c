// SPDX-License-Identifier: GPL-2.0
/*
 * preempter CPU N: two tasks on one CPU opening and closing /dev/null.
 * "ks_bg" (SCHED_OTHER) does so without a pause until told to stop;
 * "ks_fifo" (SCHED_FIFO 10) sleeps 200 us before each of its N opens, so
 * it wakes at any point of ks_bg's work and preempts it at once, on a
 * PREEMPT_RT kernel also inside a BPF program that ks_bg's allocation ran
 * (RT runs BPF programs preemptible): ks_fifo's own allocation then finds
 * the program already running on that CPU, and the kernel skips it
 * (recursion_misses).  Each open allocates one struct file.  Prints the
 * ground truth: {"fifo_opens": N, "bg_opens": M}.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include "wl.h"

static void open_close(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0) {
		perror("open");
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct timespec pause = { 0, 200 * 1000 };
	struct sched_param sp = { .sched_priority = 10 };
	volatile long *shared;	/* [0]: stop, [1]: ks_bg's opens */
	cpu_set_t set;
	long cpu, n, i;
	char out[128];
	int len, status;
	pid_t bg;

	if (argc != 3) {
		fprintf(stderr, "usage: preempter CPU N\n");
		return 2;
	}
	cpu = wl_num(argv[1], "cpu");
	n = wl_num(argv[2], "count");
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("sched_setaffinity");
		return 1;
	}
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	bg = fork();
	if (bg < 0) {
		perror("fork");
		return 1;
	}
	if (bg == 0) {
		long k = 0;

		wl_name("ks_bg");
		while (!__atomic_load_n(&shared[0], __ATOMIC_ACQUIRE)) {
			open_close();
			k++;
		}
		shared[1] = k;
		_exit(0);
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
		perror("sched_setscheduler(SCHED_FIFO)");
		kill(bg, SIGKILL);
		return 1;
	}
	wl_name("ks_fifo");
	for (i = 0; i < n; i++) {
		nanosleep(&pause, NULL);
		open_close();
	}
	__atomic_store_n(&shared[0], 1, __ATOMIC_RELEASE);
	if (waitpid(bg, &status, 0) != bg || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "preempter: ks_bg failed\n");
		return 1;
	}
	len = snprintf(out, sizeof(out),
		       "{\"fifo_opens\": %ld, \"bg_opens\": %ld}\n", n,
		       shared[1]);
	return write(1, out, len) == len ? 0 : 1;
}
