// SPDX-License-Identifier: GPL-2.0
/*
 * pipe_writers [-b] COMM THREADS WRITES [BYTES]: THREADS threads named
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
 * far more contention, even on a busy two-CPU machine.
 *
 * Prints ground truth as one JSON line: write calls, how many wrote data
 * and how many found the pipe full, and the wall time of the writing phase.
 */
#define _GNU_SOURCE	/* pipe2(), CPU affinity */
#include <fcntl.h>
#include "lock_wl.h"

static const char *comm;
static char reader_comm[16];
static struct lwl_len len;
static long bytes, nthreads;
static int pfd[2];
static pthread_barrier_t go;
static volatile int writers_done;
static int blocking;

struct result {
	long idx, ok, again;
};

static char buf[65536];

static void *writer(void *arg)
{
	struct result *res = arg;
	double end;
	long i;

	lwl_pin(res->idx);
	wl_name(comm);
	pthread_barrier_wait(&go);
	/* timed from here: a slow start must not eat the run */
	end = lwl_now() + len.seconds;
	for (i = 0; lwl_more(&len, i, end); i++) {
		ssize_t n = write(pfd[1], buf, bytes);

		if (n > 0) {
			res->ok++;
		} else if (n < 0 && errno == EAGAIN) {
			res->again++;
		} else {
			perror("write");
			exit(1);
		}
	}
	return NULL;
}

static void *reader(void *arg)
{
	static char rbuf[65536];

	(void)arg;
	lwl_pin(nthreads);
	wl_name(reader_comm);
	pthread_barrier_wait(&go);
	/* the read end never blocks: it must notice the writers are done */
	while (!writers_done) {
		if (read(pfd[0], rbuf, sizeof(rbuf)) < 0 && errno != EAGAIN) {
			perror("read");
			exit(1);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tw[LWL_MAX_THREADS], tr;
	struct result res[LWL_MAX_THREADS] = { { 0, 0, 0 } };
	long threads, ok = 0, again = 0, writes;
	double t0, t1;
	char out[512];
	size_t l;
	int n;

	if (argc > 1 && !strcmp(argv[1], "-b")) {
		blocking = 1;
		argv++;
		argc--;
	}
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: pipe_writers [-b] COMM THREADS WRITES "
			"[BYTES]\n");
		return 2;
	}
	comm = argv[1];
	threads = wl_num(argv[2], "thread count");
	len = lwl_parse_len(argv[3]);
	bytes = argc == 5 ? wl_num(argv[4], "byte count") : 64;
	if (threads < 1 || threads > LWL_MAX_THREADS || bytes < 1 ||
	    bytes > 65536 || strlen(comm) < 1 || strlen(comm) > 15) {
		fprintf(stderr, "pipe_writers: 1-%d threads, 1-65536 bytes, "
			"a 1-15 byte COMM\n", LWL_MAX_THREADS);
		return 2;
	}
	nthreads = threads;
	memset(buf, 'w', sizeof(buf));
	l = strlen(comm);
	memcpy(reader_comm, comm, l);
	reader_comm[l - 1] = reader_comm[l - 1] == '#' ? '%' : '#';
	if (pipe2(pfd, O_NONBLOCK)) {
		perror("pipe2");
		return 1;
	}
	/* O_NONBLOCK is per open file: only the write end changes */
	if (blocking && fcntl(pfd[1], F_SETFL, 0)) {
		perror("fcntl");
		return 1;
	}
	pthread_barrier_init(&go, NULL, threads + 2);
	if (pthread_create(&tr, NULL, reader, NULL))
		return 1;
	for (long i = 0; i < threads; i++) {
		res[i].idx = i;
		if (pthread_create(&tw[i], NULL, writer, &res[i]))
			return 1;
	}
	pthread_barrier_wait(&go);
	t0 = lwl_now();
	for (long i = 0; i < threads; i++) {
		pthread_join(tw[i], NULL);
		ok += res[i].ok;
		again += res[i].again;
	}
	t1 = lwl_now();
	writes = ok + again;
	writers_done = 1;
	pthread_join(tr, NULL);
	/*
	 * Close here, as this (unnamed) thread: pthread_join() returns while
	 * a thread is still in do_exit(), and the last thread to drop the
	 * file table releases the pipe, taking its mutex twice more under
	 * COMM (seen with kprobes: 20002 acquisitions for 20000 writes).
	 */
	close(pfd[0]);
	close(pfd[1]);
	n = snprintf(out, sizeof(out),
		       "{\"threads\": %ld, \"writes\": %ld, "
		       "\"written\": %ld, \"full\": %ld, \"bytes\": %ld, "
		       "\"seconds\": %.6f, \"ns_per_write\": %.1f}\n",
		       threads, writes, ok, again, bytes,
		       t1 - t0, (t1 - t0) * 1e9 / (writes ? writes : 1));
	return write(1, out, n) == n ? 0 : 1;
}
