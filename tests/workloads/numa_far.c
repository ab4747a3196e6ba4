// SPDX-License-Identifier: GPL-2.0
/*
 * numa_far COMM MB FROM_NODE ON_CPU SECONDS: make NUMA balancing migrate
 * this task's pages, for numamove's tests.
 *
 * Names itself COMM, faults MB megabytes in on node FROM_NODE
 * (MPOL_BIND), drops the policy so that FROM_NODE is now the wrong place,
 * pins itself to ON_CPU (a CPU of another node) and keeps touching the
 * memory for SECONDS.  With kernel.numa_balancing=1 the scanner unmaps the
 * pages, the touches take NUMA hinting faults from the far node and the
 * kernel migrates the pages here.  Transparent huge pages are off for the
 * buffer, so every migration moves one 4 KiB page.
 *
 * Ground truth, one JSON object: the buffer's pages, how many sat on
 * FROM_NODE before and after (move_pages(2) with no target nodes reports
 * where each page is), so pages_moved = before - after are this buffer's
 * migrations.  Raw syscalls only: links statically without libnuma.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "wl.h"

#define MPOL_DEFAULT	0
#define MPOL_BIND	2

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* pages of buf on node, via move_pages(nodes == NULL): a query only */
/* run on the first CPU of a node (its cpulist's first number) */
static int pin_to_node(int node)
{
	char path[80], buf[64];
	cpu_set_t set;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	CPU_ZERO(&set);
	CPU_SET(atoi(buf), &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static long on_node(char *buf, long npages, long psz, int node)
{
	void **pages = calloc(npages, sizeof(*pages));
	int *status = calloc(npages, sizeof(*status));
	long i, n = 0;

	if (!pages || !status)
		exit(1);
	for (i = 0; i < npages; i++)
		pages[i] = buf + i * psz;
	if (syscall(SYS_move_pages, 0, npages, pages, NULL, status, 0)) {
		perror("numa_far: move_pages");
		exit(1);
	}
	for (i = 0; i < npages; i++)
		n += status[i] == node;
	free(pages);
	free(status);
	return n;
}

int main(int argc, char **argv)
{
	long psz = sysconf(_SC_PAGESIZE), mb, npages, i, passes = 0;
	long before, after;
	unsigned long mask;
	double secs, end;
	int from, cpu;
	cpu_set_t set;
	char *buf;

	if (argc != 6) {
		fprintf(stderr, "usage: numa_far COMM MB FROM_NODE ON_CPU "
			"SECONDS\n");
		return 2;
	}
	mb = wl_num(argv[2], "MB");
	from = wl_num(argv[3], "node");
	cpu = wl_num(argv[4], "cpu");
	secs = wl_num(argv[5], "seconds");
	npages = mb * 1024 * 1024 / psz;
	wl_name(argv[1]);

	/*
	 * Fault the pages in from a CPU of their own node: touched from node
	 * 0 while slowly faulting in (seconds under TCG), balancing had
	 * already moved all of them before the "before" count (seen on 6.1).
	 */
	if (pin_to_node(from)) {
		perror("numa_far: pin to a CPU of FROM_NODE");
		return 1;
	}
	mask = 1UL << from;
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8)) {
		perror("numa_far: set_mempolicy(MPOL_BIND)");
		return 1;
	}
	buf = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("numa_far: mmap");
		return 1;
	}
	madvise(buf, npages * psz, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++)
		buf[i * psz] = 1;
	if (syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0)) {
		perror("numa_far: set_mempolicy(MPOL_DEFAULT)");
		return 1;
	}
	before = on_node(buf, npages, psz, from);

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("numa_far: sched_setaffinity");
		return 1;
	}
	end = now() + secs;
	while (now() < end) {
		for (i = 0; i < npages; i++)
			buf[i * psz]++;
		passes++;
	}
	after = on_node(buf, npages, psz, from);
	printf("{\"pages\": %ld, \"on_from_before\": %ld, \"on_from_after\": "
	       "%ld, \"pages_moved\": %ld, \"passes\": %ld}\n", npages, before,
	       after, before - after, passes);
	return 0;
}
