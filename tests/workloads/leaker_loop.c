// SPDX-License-Identifier: GPL-2.0
/*
 * leaker_loop N [OUT.json]: N malloc/free pairs (sizes 16..527 bytes), the
 * allocator-bound loop memleak's overhead is measured on.  Prints (or
 * writes to OUT.json) the iterations and the nanoseconds per iteration,
 * timed with CLOCK_MONOTONIC around the loop only.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include "wl.h"

static void *volatile sink;	/* keeps the compiler from eliding pairs */

int main(int argc, char **argv)
{
	struct timespec a, b;
	char out[256];
	double ns;
	long n;
	int len, fd = 1;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: leaker_loop N [OUT.json]\n");
		return 2;
	}
	n = wl_num(argv[1], "iterations");
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		sink = malloc(16 + (i & 511));
		free(sink);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) /
	     (n ? n : 1);
	len = snprintf(out, sizeof(out), "{\"iterations\": %ld, "
		       "\"ns_per_iter\": %.1f}\n", n, ns);
	if (argc == 3) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			  0644);
		if (fd < 0) {
			perror(argv[2]);
			return 1;
		}
	}
	return write(fd, out, len) == len ? 0 : 1;
}
