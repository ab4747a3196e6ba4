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

static const char *comm;
static struct lwl_len len;
static int master, slave;
static pthread_barrier_t go;
static volatile int writers_done;

struct result {
	long idx, ok, again;
};

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
		ssize_t n = write(slave, "x", 1);

		if (n == 1) {
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
	char buf[4096];

	(void)arg;
	pthread_barrier_wait(&go);
	while (!writers_done)
		if (read(master, buf, sizeof(buf)) < 0 && errno != EAGAIN) {
			perror("read");
			exit(1);
		}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tw[LWL_MAX_THREADS], tr;
	struct result res[LWL_MAX_THREADS] = { { 0, 0, 0 } };
	long threads, ok = 0, again = 0;
	struct termios t;
	char out[256];
	int n;

	if (argc != 4) {
		fprintf(stderr, "usage: lock_pty COMM THREADS WRITES\n");
		return 2;
	}
	comm = argv[1];
	threads = wl_num(argv[2], "thread count");
	len = lwl_parse_len(argv[3]);
	if (threads < 1 || threads > LWL_MAX_THREADS || strlen(comm) < 1 ||
	    strlen(comm) > 15) {
		fprintf(stderr, "lock_pty: 1-%d threads, a 1-15 byte COMM\n",
			LWL_MAX_THREADS);
		return 2;
	}
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
	pthread_barrier_init(&go, NULL, threads + 2);
	if (pthread_create(&tr, NULL, reader, NULL))
		return 1;
	for (long i = 0; i < threads; i++) {
		res[i].idx = i;
		if (pthread_create(&tw[i], NULL, writer, &res[i]))
			return 1;
	}
	pthread_barrier_wait(&go);
	for (long i = 0; i < threads; i++) {
		pthread_join(tw[i], NULL);
		ok += res[i].ok;
		again += res[i].again;
	}
	writers_done = 1;
	pthread_join(tr, NULL);
	/* released by this thread, not by a COMM thread still exiting */
	close(slave);
	close(master);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"writes\": %ld, \"written\": %ld, "
		     "\"again\": %ld}\n", threads, ok + again, ok, again);
	return write(1, out, n) == n ? 0 : 1;
}
