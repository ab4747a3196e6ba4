// SPDX-License-Identifier: GPL-2.0
/*
 * slab_mix COMM OPENS EVENTFDS: names itself COMM, opens and closes
 * /dev/null OPENS times, then creates and closes EVENTFDS eventfds.  Every
 * open() and every eventfd() allocates exactly one struct file from the
 * filp cache, so slabratetop must see OPENS + EVENTFDS filp allocations
 * from this task; an eventfd needs no path, so this task's names_cache
 * allocations stay at OPENS or so while filp grows: two caches whose order
 * differs by allocations and by bytes.  Prints ground truth as JSON.
 */
#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "wl.h"

int main(int argc, char **argv)
{
	long opens, efds, i, size;
	char out[256];
	int len;

	if (argc != 4) {
		fprintf(stderr, "usage: slab_mix COMM OPENS EVENTFDS\n");
		return 2;
	}
	opens = wl_num(argv[2], "opens");
	efds = wl_num(argv[3], "eventfds");
	size = wl_slab_size("filp");	/* before renaming: not counted */
	wl_name(argv[1]);
	for (i = 0; i < opens; i++) {
		int fd = open("/dev/null", O_RDONLY);

		if (fd < 0) {
			perror("open");
			return 1;
		}
		close(fd);
	}
	for (i = 0; i < efds; i++) {
		int fd = eventfd(0, 0);

		if (fd < 0) {
			perror("eventfd");
			return 1;
		}
		close(fd);
	}
	/* one write(2): no stdio buffers or files opened after the loops */
	len = snprintf(out, sizeof(out), "{\"opens\": %ld, \"eventfds\": %ld, "
		       "\"filp_size\": %ld}\n", opens, efds, size);
	return write(1, out, len) == len ? 0 : 1;
}
