// SPDX-License-Identifier: GPL-2.0
/*
 * opener COMM N: names itself COMM, then opens and closes /dev/null N
 * times.  Each open allocates exactly one struct file from the filp cache,
 * so kmem must see N filp allocations from this task.  Prints ground truth
 * (opens and the filp cache's object size) as JSON.
 */
#include <fcntl.h>
#include <unistd.h>
#include "wl.h"

int main(int argc, char **argv)
{
	long n, i, size;
	char out[256];
	int len;

	if (argc != 3) {
		fprintf(stderr, "usage: opener COMM N\n");
		return 2;
	}
	n = wl_num(argv[2], "count");
	size = wl_slab_size("filp");	/* before renaming: not counted */
	wl_name(argv[1]);
	for (i = 0; i < n; i++) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0) {
			perror("open");
			return 1;
		}
		close(fd);
	}
	/* one write(2), no stdio buffers or files opened after the loop */
	len = snprintf(out, sizeof(out),
		       "{\"opens\": %ld, \"filp_size\": %ld}\n", n, size);
	return write(1, out, len) == len ? 0 : 1;
}
