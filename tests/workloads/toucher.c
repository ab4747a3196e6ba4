// SPDX-License-Identifier: GPL-2.0
/*
 * toucher COMM PAGES: names itself COMM, maps PAGES anonymous pages,
 * touches one byte in each (one page allocation per fault, order 0 unless
 * THP is used: THP is disabled for the mapping), then unmaps them.
 */
#include <sys/mman.h>
#include <unistd.h>
#include "wl.h"

int main(int argc, char **argv)
{
	long pages, page = sysconf(_SC_PAGESIZE), i;
	char out[128];
	char *p;
	int len;

	if (argc != 3) {
		fprintf(stderr, "usage: toucher COMM PAGES\n");
		return 2;
	}
	pages = wl_num(argv[2], "pages");
	wl_name(argv[1]);
	p = mmap(NULL, pages * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(p, pages * page, MADV_NOHUGEPAGE);
	for (i = 0; i < pages; i++)
		p[i * page] = 1;
	munmap(p, pages * page);
	len = snprintf(out, sizeof(out), "{\"pages\": %ld, \"page_size\": %ld}\n",
		       pages, page);
	return write(1, out, len) == len ? 0 : 1;
}
