// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark workload: one thread, pinned to one CPU, repeating a small
 * operation that fires a known set of tracepoints, for a fixed time.
 *
 *   workload [-c CPU] [-t SECONDS] [-w WARMUP_ITERS] SCENARIO
 *
 * Protocol with bench/bench.py (so a tracer can be attached, or an event
 * counter can filter on our PID, before anything is timed):
 *   1. pre-warm (untimed, not counted), print "ready PID", wait for a line
 *      on stdin;
 *   2. WARMUP_ITERS more iterations (untimed: first-time map inserts in
 *      the tracer happen here), then the timed loop for SECONDS of this
 *      thread's CPU time;
 *   3. print one JSON line: timed iterations, total iterations since the
 *      go line (what an event counter saw), thread CPU time and wall time
 *      of the timed loop, and the median chunk's CPU time per iteration;
 *   4. wait for EOF on stdin, so the tracer is stopped while we still
 *      exist and our exit adds no events to the count.
 *
 * The overhead a tracer adds runs in this thread's context (tracepoint
 * handlers run in the task that hits them), so thread CPU time measures
 * it and ignores time this thread spent preempted by anything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

struct scenario {
	const char *name;
	const char *what;
	int (*setup)(void);
	int (*iter)(void);
};

/* ---- open: open("/dev/null") + close -------------------------------------
 * Each open allocates a struct file (kmem_cache_alloc, filp), the path name
 * (kmem_cache_alloc, names_cache) and whatever the LSMs attach: the kmem
 * tool's hot path.  Freed again on close, so the slab stays warm. */
static int open_iter(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0)
		return -1;
	return close(fd);
}

/* ---- pages: touch 64 anonymous pages, then MADV_DONTNEED them -----------
 * Each first touch faults in a fresh zeroed page (kmem:mm_page_alloc,
 * order 0); MADV_DONTNEED gives them back.  The region is mapped once and
 * lies inside one 2 MiB page-table range, so the page-table pages the
 * kernel allocates per iteration (if any) are the same every time. */
#define PAGES_PER_ITER 64
#define PMD_SPAN (2UL << 20)

static long page_size;
static char *region;

static int pages_setup(void)
{
	char *p;

	page_size = sysconf(_SC_PAGESIZE);
	if (page_size <= 0)
		return -1;
	p = mmap(NULL, 2 * PMD_SPAN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	region = (char *)(((unsigned long)p + PMD_SPAN - 1) & ~(PMD_SPAN - 1));
	/* 64 small pages, never one transparent huge page */
	return madvise(region, PAGES_PER_ITER * page_size, MADV_NOHUGEPAGE);
}

static int pages_iter(void)
{
	size_t len = PAGES_PER_ITER * page_size;
	volatile char *p = region;
	size_t off;

	for (off = 0; off < len; off += page_size)
		p[off] = 1;
	return madvise(region, len, MADV_DONTNEED);
}

/* One line per scenario; bench/tools.py names them. */
static const struct scenario scenarios[] = {
	{ "open", "open(\"/dev/null\") + close", NULL, open_iter },
	{ "pages", "touch 64 anonymous pages, madvise(MADV_DONTNEED) them",
	  pages_setup, pages_iter },
};

/*
 * The timed loop is cut into about 50 chunks of equal CPU time; the median
 * chunk's time per iteration is reported next to the overall mean.  On a
 * virtual machine whose host is busy, a stalled vCPU shows up as CPU time
 * of whatever thread was running (there is no steal time here), in bursts;
 * the median chunk ignores them.
 */
#define MAX_CHUNKS 256

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static unsigned long long ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void usage(void)
{
	size_t i;

	fprintf(stderr, "usage: workload [-c CPU] [-t SECONDS] "
		"[-w WARMUP_ITERS] SCENARIO\nscenarios:\n");
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		fprintf(stderr, "  %-8s %s\n", scenarios[i].name,
			scenarios[i].what);
	exit(2);
}

static void wait_line(void)
{
	char buf[64];

	if (!fgets(buf, sizeof(buf), stdin))
		exit(1);	/* runner went away */
}

int main(int argc, char **argv)
{
	const struct scenario *sc = NULL;
	unsigned long long warm = 2000, iters = 0, t_wall, t_cpu, end, end_cpu, i;
	unsigned long long chunk_start, chunk_end, chunk_ns, chunk_iters = 0, now;
	static double chunk[MAX_CHUNKS];
	int nchunks = 0;
	double secs = 0.5;
	int cpu = -1, opt;
	size_t k;
	char buf[64];

	while ((opt = getopt(argc, argv, "c:t:w:h")) != -1) {
		switch (opt) {
		case 'c': cpu = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'w': warm = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || secs <= 0)
		usage();
	chunk_ns = (unsigned long long)(secs * 1e9 / 50);
	for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++)
		if (!strcmp(argv[optind], scenarios[k].name))
			sc = &scenarios[k];
	if (!sc)
		usage();

	prctl(PR_SET_NAME, "ksbench-wl");
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("sched_setaffinity");
			return 1;
		}
	}
	if (sc->setup && sc->setup()) {
		perror(sc->name);
		return 1;
	}
	for (i = 0; i < 1000; i++)
		if (sc->iter()) {
			perror(sc->name);
			return 1;
		}

	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	wait_line();

	for (i = 0; i < warm; i++)
		sc->iter();
	t_wall = ns(CLOCK_MONOTONIC);
	t_cpu = ns(CLOCK_THREAD_CPUTIME_ID);
	chunk_end = t_cpu + chunk_ns;
	chunk_start = t_cpu;
	/* run for SECONDS of our own CPU time, so a busy machine gives every
	 * configuration the same number of samples; give up at 10x in wall
	 * time if we hardly get the CPU at all */
	end_cpu = t_cpu + (unsigned long long)(secs * 1e9);
	end = t_wall + (unsigned long long)(10 * secs * 1e9);
	for (;;) {
		/* check the clocks every 64 iterations: the cost is the same in
		 * every configuration and well under 1% */
		for (i = 0; i < 64; i++)
			sc->iter();
		iters += 64;
		chunk_iters += 64;
		now = ns(CLOCK_THREAD_CPUTIME_ID);
		if (now >= chunk_end && nchunks < MAX_CHUNKS) {
			chunk[nchunks++] = (double)(now - chunk_start) /
					   chunk_iters;
			chunk_start = now;
			chunk_end = now + chunk_ns;
			chunk_iters = 0;
		}
		if (now >= end_cpu || ns(CLOCK_MONOTONIC) >= end)
			break;
	}
	t_cpu = ns(CLOCK_THREAD_CPUTIME_ID) - t_cpu;
	t_wall = ns(CLOCK_MONOTONIC) - t_wall;

	qsort(chunk, nchunks, sizeof(chunk[0]), cmp_double);
	printf("{\"scenario\":\"%s\",\"iters\":%llu,\"total_iters\":%llu,"
	       "\"cpu_ns\":%llu,\"wall_ns\":%llu,\"chunks\":%d,"
	       "\"chunk_median_ns\":%.1f}\n", sc->name, iters, iters + warm,
	       t_cpu, t_wall, nchunks,
	       nchunks ? chunk[nchunks / 2] : (double)t_cpu / iters);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin))
		;
	return 0;
}
