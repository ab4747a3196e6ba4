// SPDX-License-Identifier: GPL-2.0
/*
 * lock_rwsem COMM N: one thread named COMM takes its own mm->mmap_lock
 * (an rw_semaphore) a known number of times, from known kernel
 * functions, without contention:
 *   N x mincore(2) of one page      read,  down_read() in mincore
 *   N x mprotect(2) of one page     write, down_write_killable() in
 *                                   do_mprotect_pkey
 *   N x mmap(2) then munmap(2)      write in vm_mmap_pgoff; write in
 *                                   __vm_munmap, downgraded to read
 *                                   (downgrade_write) and released with
 *                                   up_read()
 * Everything it touches is faulted in before it takes its name, so no
 * page fault takes the lock meanwhile.  Prints the counts as JSON.
 */
#include <sys/mman.h>
#include "wl.h"

int main(int argc, char **argv)
{
	unsigned char vec[4];
	long n, i, page = sysconf(_SC_PAGESIZE);
	char *a, *b;
	char out[256];
	int len;

	if (argc != 3) {
		fprintf(stderr, "usage: lock_rwsem COMM N\n");
		return 2;
	}
	n = wl_num(argv[2], "count");
	a = mmap(NULL, page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	a[0] = 1;
	vec[0] = 0;
	len = snprintf(out, sizeof(out), "{\"mincore\": %ld, \"mprotect\": "
		       "%ld, \"mmap\": %ld, \"munmap\": %ld}\n", n, n, n, n);
	wl_name(argv[1]);
	for (i = 0; i < n; i++)
		if (mincore(a, page, vec)) {
			perror("mincore");
			return 1;
		}
	for (i = 0; i < n; i++)
		if (mprotect(a, page, i & 1 ? PROT_READ | PROT_WRITE :
					      PROT_READ)) {
			perror("mprotect");
			return 1;
		}
	for (i = 0; i < n; i++) {
		b = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (b == MAP_FAILED || munmap(b, page)) {
			perror("mmap/munmap");
			return 1;
		}
	}
	return write(1, out, len) == len ? 0 : 1;
}
