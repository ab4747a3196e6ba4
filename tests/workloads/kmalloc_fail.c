// SPDX-License-Identifier: GPL-2.0
/*
 * kmalloc_fail COMM N: names itself COMM, then N times asks the kernel to
 * grow a pipe to 1 GiB (F_SETPIPE_SZ), which needs a pipe_buffer array far
 * beyond the largest kmalloc and fails with ENOMEM inside kmalloc
 * (pipe_resize_ring), then resizes it between two small sizes, which
 * allocates a new array each time and succeeds.  kmem must count the
 * successful resizes and none of the failed ones, in every attach mode.
 * Prints ground truth (failed and successful resizes) as JSON.
 *
 * Growing beyond fs.pipe-max-size needs CAP_SYS_RESOURCE (root has it).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "wl.h"

int main(int argc, char **argv)
{
	long n, i, failed = 0, ok = 0;
	char out[256];
	int p[2], len;

	if (argc != 3) {
		fprintf(stderr, "usage: kmalloc_fail COMM N\n");
		return 2;
	}
	n = wl_num(argv[2], "count");
	if (pipe(p)) {
		perror("pipe");
		return 1;
	}
	wl_name(argv[1]);
	for (i = 0; i < n; i++) {
		if (fcntl(p[0], F_SETPIPE_SZ, 1 << 30) >= 0) {
			fprintf(stderr, "a 1 GiB pipe was allowed\n");
			return 1;
		}
		if (errno != ENOMEM) {
			perror("F_SETPIPE_SZ 1 GiB");
			return 1;
		}
		failed++;
		/* 16 then 8 slots: a new array each time */
		if (fcntl(p[0], F_SETPIPE_SZ, (i & 1 ? 8 : 16) * 4096) < 0) {
			perror("F_SETPIPE_SZ");
			return 1;
		}
		ok++;
	}
	len = snprintf(out, sizeof(out),
		       "{\"failed\": %ld, \"resized\": %ld}\n", failed, ok);
	return write(1, out, len) == len ? 0 : 1;
}
