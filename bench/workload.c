// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark workload: one thread, pinned to one CPU, repeating a small
 * operation that fires a known set of tracepoints, for a fixed time.
 * Lock scenarios need several threads fighting over one lock instead:
 * their threads are spread over the CPUs, and the process's CPU time
 * stands in for the thread's (see "Threaded scenarios" below).
 *
 *   workload [-c CPU] [-t SECONDS] [-w WARMUP_ITERS] SCENARIO
 *   workload -T SECONDS [-P PROCS] SCENARIO     (throughput: bench/macro.py)
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
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
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
	/* threaded scenarios: THREADS threads run iter() at once, and
	 * helper (if any) runs beside them, untimed work such as draining */
	int threads;
	void (*helper)(void);
};

/* set when a threaded scenario's threads must stop */
static volatile int stop;

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

/* ---- malloc: malloc(64) and free() it -------------------------------------
 * The C library's allocator, where kscope memleak -p puts its uprobes
 * (malloc's entry and return, free).  The pointer is handed to an empty
 * asm so that the compiler cannot drop the pair. */
static int malloc_iter(void)
{
	void *p = malloc(64);

	if (!p)
		return -1;
	__asm__ volatile("" : : "r"(p) : "memory");
	free(p);
	return 0;
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

/* ---- pipe: four threads write 64 bytes each to one O_NONBLOCK pipe -------
 * pipe_write() takes the pipe's mutex once per call (a full non-blocking
 * pipe returns -EAGAIN instead of sleeping), so the writers, spread over
 * the CPUs, contend for it: the lock:contention tracepoints with the
 * MUTEX flag fire (mlock's hooks).  One helper thread drains the pipe. */
static int pfd[2];
static char pipe_buf[64];

static int pipe_setup(void)
{
	memset(pipe_buf, 'w', sizeof(pipe_buf));
	return pipe2(pfd, O_NONBLOCK);
}

static int pipe_iter(void)
{
	if (write(pfd[1], pipe_buf, sizeof(pipe_buf)) > 0 || errno == EAGAIN)
		return 0;
	return -1;
}

static void pipe_drain(void)
{
	static char rbuf[65536];

	while (!stop)
		if (read(pfd[0], rbuf, sizeof(rbuf)) < 0 && errno != EAGAIN) {
			perror("read");
			exit(1);
		}
}

/* ---- fown: two threads set and read one file's owner --------------------
 * F_SETOWN takes the file's owner rwlock for writing (f_modown()),
 * F_GETOWN for reading (f_getown()); the two threads, one each, on
 * different CPUs contend for it.  rwlock waiters reach the contention
 * tracepoints (SPIN|WRITE, SPIN|READ: spinlock's hooks) on every
 * contended acquisition, where a spin lock's lone waiter does not (see
 * docs/locks.md), so this is the spin-type contention two CPUs can show. */
static int fown_fd;
static __thread int fown_writer = -1;
static int fown_threads;

static int fown_setup(void)
{
	fown_fd = open("/dev/null", O_RDONLY);
	if (fown_fd < 0)
		return -1;
	return fcntl(fown_fd, F_SETOWN, getpid());
}

static int fown_iter(void)
{
	/* the first thread to get here writes, the next reads, ... */
	if (fown_writer < 0)
		fown_writer = !(__atomic_fetch_add(&fown_threads, 1,
						   __ATOMIC_RELAXED) & 1);
	if (fown_writer)
		return fcntl(fown_fd, F_SETOWN, getpid()) ? -1 : 0;
	return fcntl(fown_fd, F_GETOWN) > 0 ? 0 : -1;
}

/* ---- refresh: write 1 to /proc/sys/vm/stat_refresh --------------------------
 * The kernel runs refresh_vm_stats() as a work item on every online CPU
 * (schedule_on_each_cpu()) and waits for them: workq's hooks fire in the
 * kworkers, a known number of times per iteration.  Needs root. */
static int refresh_fd = -1;

static int refresh_setup(void)
{
	refresh_fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	return refresh_fd < 0 ? -1 : 0;
}

static int refresh_iter(void)
{
	return pwrite(refresh_fd, "1\n", 2, 0) == 2 ? 0 : -1;
}

/* One line per scenario; bench/tools.py names them. */
static const struct scenario scenarios[] = {
	{ "open", "open(\"/dev/null\") + close", NULL, open_iter, 0, NULL },
	{ "malloc", "malloc(64) + free()", NULL, malloc_iter, 0, NULL },
	{ "pages", "touch 64 anonymous pages, madvise(MADV_DONTNEED) them",
	  pages_setup, pages_iter, 0, NULL },
	{ "pipe", "4 threads write 64 bytes to one non-blocking pipe, "
	  "1 drains it", pipe_setup, pipe_iter, 4, pipe_drain },
	{ "fown", "2 threads: one F_SETOWN, one F_GETOWN on one file",
	  fown_setup, fown_iter, 2, NULL },
	{ "refresh", "write /proc/sys/vm/stat_refresh (a work item per CPU)",
	  refresh_setup, refresh_iter, 0, NULL },
};

/*
 * The timed loop is cut into about 50 chunks of equal CPU time; the median
 * chunk's time per iteration is reported next to the overall mean.  On a
 * virtual machine whose host is busy, a stalled vCPU shows up as CPU time
 * of whatever thread was running (there is no steal time here), in bursts;
 * the median chunk ignores them.
 */
#define MAX_CHUNKS 256

struct chunks {
	double v[MAX_CHUNKS];
	int n;
};

static void chunk_add(struct chunks *c, unsigned long long cpu_ns,
		      unsigned long long iters)
{
	if (c->n < MAX_CHUNKS && iters)
		c->v[c->n++] = (double)cpu_ns / iters;
}

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
		"[-w WARMUP_ITERS] SCENARIO\n"
		"       workload -T SECONDS [-P PROCS] SCENARIO\nscenarios:\n");
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

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("sched_setaffinity");
		exit(1);
	}
}

/* ---- one thread --------------------------------------------------------- */

static void run_single(const struct scenario *sc, double secs,
		       unsigned long long *iters, unsigned long long *cpu,
		       unsigned long long *wall, struct chunks *ch)
{
	unsigned long long chunk_ns = (unsigned long long)(secs * 1e9 / 50);
	unsigned long long t_wall, t_cpu, end, end_cpu, i, now;
	unsigned long long chunk_start, chunk_end, chunk_iters = 0;

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
		*iters += 64;
		chunk_iters += 64;
		now = ns(CLOCK_THREAD_CPUTIME_ID);
		if (now >= chunk_end) {
			chunk_add(ch, now - chunk_start, chunk_iters);
			chunk_start = now;
			chunk_end = now + chunk_ns;
			chunk_iters = 0;
		}
		if (now >= end_cpu || ns(CLOCK_MONOTONIC) >= end)
			break;
	}
	*cpu = ns(CLOCK_THREAD_CPUTIME_ID) - t_cpu;
	*wall = ns(CLOCK_MONOTONIC) - t_wall;
}

/* ---- Threaded scenarios --------------------------------------------------
 * THREADS threads, pinned round-robin to the CPUs (so that contention does
 * not depend on the scheduler's mood), run iter() from the go line until
 * told to stop; each counts its iterations in its own cache line.  A lock
 * tracer's handlers run in whichever thread hits the contention, so the
 * process's CPU time (CLOCK_PROCESS_CPUTIME_ID: every thread, the helper
 * included) is what tracing adds to; the main thread only sleeps and
 * samples it, 50 chunks of wall time, and stops the run after SECONDS x
 * (CPUs the threads can use) of process CPU time. */
struct worker {
	const struct scenario *sc;
	int idx;
	pthread_t t;
	unsigned long long n __attribute__((aligned(64)));
} __attribute__((aligned(64)));

static pthread_barrier_t start;
static int ncpus;

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	pin(w->idx % ncpus);
	pthread_barrier_wait(&start);
	while (!stop) {
		if (w->sc->iter()) {
			perror(w->sc->name);
			exit(1);
		}
		__atomic_store_n(&w->n, w->n + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *helper_main(void *arg)
{
	const struct scenario *sc = arg;

	pin(sc->threads % ncpus);
	pthread_barrier_wait(&start);
	sc->helper();
	return NULL;
}

static unsigned long long sum_iters(struct worker *w, int n)
{
	unsigned long long s = 0;
	int i;

	for (i = 0; i < n; i++)
		s += __atomic_load_n(&w[i].n, __ATOMIC_RELAXED);
	return s;
}

static void nap(unsigned long long nsec)
{
	struct timespec ts = { nsec / 1000000000ULL, nsec % 1000000000ULL };

	nanosleep(&ts, NULL);
}

static void run_threaded(const struct scenario *sc, double secs,
			 unsigned long long warm, unsigned long long *iters,
			 unsigned long long *total, unsigned long long *cpu,
			 unsigned long long *wall, struct chunks *ch)
{
	static struct worker w[64];
	unsigned long long chunk_ns = (unsigned long long)(secs * 1e9 / 50);
	unsigned long long t_wall, t_cpu, i0, end, end_cpu, c0, n0, c, n;
	int used = sc->threads + (sc->helper ? 1 : 0), i;
	pthread_t helper;

	if (used > ncpus)
		used = ncpus;
	pthread_barrier_init(&start, NULL, sc->threads +
			     (sc->helper ? 1 : 0) + 1);
	for (i = 0; i < sc->threads; i++) {
		w[i].sc = sc;
		w[i].idx = i;
		if (pthread_create(&w[i].t, NULL, worker_main, &w[i])) {
			fprintf(stderr, "workload: cannot start threads\n");
			exit(1);
		}
	}
	if (sc->helper && pthread_create(&helper, NULL, helper_main,
					 (void *)sc)) {
		fprintf(stderr, "workload: cannot start threads\n");
		exit(1);
	}
	pthread_barrier_wait(&start);
	while (sum_iters(w, sc->threads) < warm)
		nap(1000000);
	t_wall = ns(CLOCK_MONOTONIC);
	t_cpu = ns(CLOCK_PROCESS_CPUTIME_ID);
	i0 = sum_iters(w, sc->threads);
	end_cpu = t_cpu + (unsigned long long)(secs * 1e9 * used);
	end = t_wall + (unsigned long long)(10 * secs * 1e9);
	c0 = t_cpu;
	n0 = i0;
	do {
		nap(chunk_ns);
		c = ns(CLOCK_PROCESS_CPUTIME_ID);
		n = sum_iters(w, sc->threads);
		chunk_add(ch, c - c0, n - n0);
		c0 = c;
		n0 = n;
	} while (c < end_cpu && ns(CLOCK_MONOTONIC) < end);
	*iters = n - i0;
	*cpu = c - t_cpu;
	*wall = ns(CLOCK_MONOTONIC) - t_wall;
	stop = 1;
	for (i = 0; i < sc->threads; i++)
		pthread_join(w[i].t, NULL);
	if (sc->helper)
		pthread_join(helper, NULL);
	*total = sum_iters(w, sc->threads);
}

/* Throughput mode (-T): PROCS processes (one per CPU by default) repeat a
 * single-threaded scenario for SECONDS of wall time, no protocol; prints
 * the operations per second of all of them together, the way stress-ng's
 * bogo-ops/s count a macro workload (bench/macro.py). */
static int run_throughput(const struct scenario *sc, double secs, int procs)
{
	int fds[2], k;
	unsigned long long sum = 0, n;
	struct timespec t0, t1;

	if (sc->threads || pipe(fds))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (k = 0; k < procs; k++) {
		if (fork() == 0) {
			struct timespec now;
			double end = t0.tv_sec + t0.tv_nsec / 1e9 + secs;

			close(fds[0]);
			if (sc->setup && sc->setup())
				_exit(1);
			for (n = 0;; ) {
				for (int j = 0; j < 256; j++, n++)
					if (sc->iter())
						_exit(1);
				clock_gettime(CLOCK_MONOTONIC, &now);
				if (now.tv_sec + now.tv_nsec / 1e9 >= end)
					break;
			}
			if (write(fds[1], &n, sizeof(n)) != sizeof(n))
				_exit(1);
			_exit(0);
		}
	}
	close(fds[1]);
	for (k = 0; k < procs; k++) {
		if (read(fds[0], &n, sizeof(n)) != sizeof(n))
			return 1;
		sum += n;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("{\"scenario\":\"%s\",\"procs\":%d,\"ops\":%llu,"
	       "\"ops_per_s\":%.1f}\n", sc->name, procs, sum,
	       sum / ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	return 0;
}

int main(int argc, char **argv)
{
	const struct scenario *sc = NULL;
	unsigned long long warm = 2000, iters = 0, total, cpu, wall, i;
	static struct chunks ch;
	double secs = 0.5, tput = 0;
	int cpu_pin = -1, opt, procs = 0;
	size_t k;
	char buf[64];

	while ((opt = getopt(argc, argv, "c:t:w:T:P:h")) != -1) {
		switch (opt) {
		case 'T': tput = atof(optarg); break;
		case 'P': procs = atoi(optarg); break;
		case 'c': cpu_pin = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		case 'w': warm = strtoull(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || secs <= 0)
		usage();
	for (k = 0; k < sizeof(scenarios) / sizeof(scenarios[0]); k++)
		if (!strcmp(argv[optind], scenarios[k].name))
			sc = &scenarios[k];
	if (!sc)
		usage();
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus < 1)
		ncpus = 1;

	prctl(PR_SET_NAME, "ksbench-wl");
	if (tput > 0)
		return run_throughput(sc, tput, procs > 0 ? procs : ncpus);
	/* threaded scenarios place their own threads */
	if (cpu_pin >= 0 && !sc->threads)
		pin(cpu_pin);
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

	if (sc->threads) {
		run_threaded(sc, secs, warm, &iters, &total, &cpu, &wall, &ch);
	} else {
		for (i = 0; i < warm; i++)
			sc->iter();
		run_single(sc, secs, &iters, &cpu, &wall, &ch);
		total = iters + warm;
	}

	qsort(ch.v, ch.n, sizeof(ch.v[0]), cmp_double);
	printf("{\"scenario\":\"%s\",\"threads\":%d,\"iters\":%llu,"
	       "\"total_iters\":%llu,\"cpu_ns\":%llu,\"wall_ns\":%llu,"
	       "\"chunks\":%d,\"chunk_median_ns\":%.1f}\n", sc->name,
	       sc->threads ? sc->threads : 1, iters, total, cpu, wall, ch.n,
	       ch.n ? ch.v[ch.n / 2] : (double)cpu / iters);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin))
		;
	return 0;
}
