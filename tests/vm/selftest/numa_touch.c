// SPDX-License-Identifier: GPL-2.0
/*
 * numa_touch - make NUMA balancing migrate pages, for the VM self-test.
 *
 * Allocates MB megabytes bound to node FROM (set_mempolicy MPOL_BIND while
 * faulting them in), drops the policy, pins itself to CPU ON (a CPU of
 * another node) and keeps touching the memory for SECONDS.  With
 * kernel.numa_balancing=1 the scanner unmaps the pages, the next touches
 * take NUMA hinting faults from the wrong node and the kernel migrates the
 * pages to the toucher's node: /proc/vmstat numa_pages_migrated grows.
 *
 * The policy must be dropped before touching from afar: while MPOL_BIND
 * still covers the pages, node FROM is "correct" and nothing is misplaced.
 * Raw syscalls only, so the binary links statically without libnuma.
 *
 * NUMA balancing must be off while the pages are placed and counted: once
 * the policy is dropped the scanner may make them PROT_NONE at any tick,
 * and move_pages() can report such a page as absent (a 6.1 run counted
 * 3 of 32768 pages on node 1: the likeliest cause, since a bound
 * allocation cannot land elsewhere).  -B turns it on (writes 1 to
 * /proc/sys/kernel/numa_balancing) after the count, before the touching.
 *
 * Usage: numa_touch [-m MB] [-f FROM_NODE] [-c ON_CPU] [-s SECONDS] [-H] [-B]
 *   -H leaves transparent huge pages on (default off, so that every
 *      migration is one 4 KiB page and counts are predictable).
 * Prints key=value lines: pages, pages_on_from_before,
 * pages_elsewhere_before, pages_absent_before, pages_on_from_after,
 * pages_elsewhere_after, pages_absent_after, passes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MPOL_DEFAULT 0
#define MPOL_BIND 2

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "numa_touch: sched_setaffinity(%d): %s\n", cpu,
			strerror(errno));
		exit(1);
	}
}

/* count pages of buf resident on node (move_pages with nodes == NULL
 * queries); *other: on another node, *absent: a negative status */
static long on_node(char *buf, long npages, long psz, int node, long *other,
		    long *absent)
{
	void **pages = calloc(npages, sizeof(*pages));
	int *status = calloc(npages, sizeof(*status));
	long i, n = 0, o = 0, a = 0;

	if (!pages || !status)
		exit(1);
	for (i = 0; i < npages; i++)
		pages[i] = buf + i * psz;
	if (syscall(SYS_move_pages, 0, npages, pages, NULL, status, 0)) {
		fprintf(stderr, "numa_touch: move_pages: %s\n", strerror(errno));
		exit(1);
	}
	for (i = 0; i < npages; i++) {
		if (status[i] == node)
			n++;
		else if (status[i] >= 0)
			o++;
		else
			a++;
	}
	free(pages);
	free(status);
	*other = o;
	*absent = a;
	return n;
}

int main(int argc, char **argv)
{
	long mb = 128, psz = sysconf(_SC_PAGESIZE), npages, i, passes = 0;
	long other, absent;
	int from = 1, cpu = 0, thp = 0, balance = 0, opt;
	FILE *f;
	double secs = 12, end;
	unsigned long mask;
	char *buf;

	while ((opt = getopt(argc, argv, "m:f:c:s:HB")) != -1) {
		switch (opt) {
		case 'm': mb = atol(optarg); break;
		case 'f': from = atoi(optarg); break;
		case 'c': cpu = atoi(optarg); break;
		case 's': secs = atof(optarg); break;
		case 'H': thp = 1; break;
		case 'B': balance = 1; break;
		default:
			fprintf(stderr, "usage: numa_touch [-m MB] [-f NODE] [-c CPU] [-s SECONDS] [-H] [-B]\n");
			return 2;
		}
	}
	npages = mb * 1024 * 1024 / psz;

	mask = 1UL << from;
	if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, sizeof(mask) * 8)) {
		fprintf(stderr, "numa_touch: set_mempolicy(BIND, node %d): %s\n",
			from, strerror(errno));
		return 1;
	}
	buf = mmap(NULL, npages * psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		perror("numa_touch: mmap");
		return 1;
	}
	if (!thp)
		madvise(buf, npages * psz, MADV_NOHUGEPAGE);
	for (i = 0; i < npages; i++)
		buf[i * psz] = 1;
	/* back to local allocation, so node FROM is now the wrong place */
	if (syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0)) {
		perror("numa_touch: set_mempolicy(DEFAULT)");
		return 1;
	}
	printf("pages=%ld\n", npages);
	printf("pages_on_from_before=%ld\n",
	       on_node(buf, npages, psz, from, &other, &absent));
	printf("pages_elsewhere_before=%ld\n", other);
	printf("pages_absent_before=%ld\n", absent);
	fflush(stdout);
	if (balance) {
		f = fopen("/proc/sys/kernel/numa_balancing", "w");
		if (!f || fputs("1\n", f) == EOF || fclose(f)) {
			perror("numa_touch: /proc/sys/kernel/numa_balancing");
			return 1;
		}
	}

	pin(cpu);
	end = now() + secs;
	while (now() < end) {
		for (i = 0; i < npages; i++)
			buf[i * psz]++;
		passes++;
	}
	printf("pages_on_from_after=%ld\n", on_node(buf, npages, psz, from, &other, &absent));
	printf("pages_elsewhere_after=%ld\n", other);
	printf("pages_absent_after=%ld\n", absent);
	printf("passes=%ld\n", passes);
	return 0;
}
