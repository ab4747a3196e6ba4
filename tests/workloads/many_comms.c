// SPDX-License-Identifier: GPL-2.0
/*
 * many_comms PREFIX THREADS OPENS: blocks until a byte (or EOF) arrives
 * on stdin, then starts THREADS threads one after another, each named
 * PREFIX and its number ("mc0" ... "mc39"), each opening and closing
 * /dev/null OPENS times.  Every thread is a new comm, so tools keyed by
 * comm get THREADS times their per-task keys from one process: the way
 * to fill a small --max-entries.  Waiting in read(2) allocates nothing,
 * so tracers attached while it waits see the same events.  Prints ground
 * truth as JSON.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include "wl.h"

static long opens;
static const char *prefix;

static void *worker(void *arg)
{
	char name[16];

	snprintf(name, sizeof(name), "%s%ld", prefix, (long)arg);
	wl_name(name);
	for (long i = 0; i < opens; i++) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0) {
			perror("open");
			exit(1);
		}
		close(fd);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long threads;
	char out[256], c;
	int len;

	if (argc != 4 || strlen(argv[1]) > 10) {
		fprintf(stderr, "usage: many_comms PREFIX(<=10) THREADS OPENS\n");
		return 2;
	}
	prefix = argv[1];
	threads = wl_num(argv[2], "threads");
	opens = wl_num(argv[3], "opens");
	if (read(0, &c, 1) < 0) {
		perror("read");
		return 1;
	}
	for (long i = 0; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, worker, (void *)i) ||
		    pthread_join(t, NULL)) {
			fprintf(stderr, "cannot run a thread\n");
			return 1;
		}
	}
	len = snprintf(out, sizeof(out),
		       "{\"pid\": %d, \"threads\": %ld, \"opens\": %ld}\n",
		       (int)getpid(), threads, opens);
	return write(1, out, len) == len ? 0 : 1;
}
