// SPDX-License-Identifier: GPL-2.0
/*
 * leaker [-w GOFILE] TRUTH.json: leaks exactly K blocks of S bytes from
 * each of several named functions, one per allocator entry point
 * (leak_malloc, leak_calloc, leak_realloc, ...), while churn() allocates
 * and frees many more blocks through the same entry points, on two
 * threads.  Everything the churn allocates is freed, so memleak must
 * report exactly the leaks, at stacks holding the leak functions' names,
 * and nothing at churn().  The ground truth goes to TRUTH.json (not
 * stdout, which kscope -j keeps for JSON).
 *
 * -w GOFILE: wait until GOFILE exists before allocating (for -p tests,
 * which attach to the already running process).
 *
 * Built with frame pointers (the pragma below) so that user stacks show
 * the callers too; memleak names the immediate caller of the allocator
 * even without them.
 */
#pragma GCC optimize("no-omit-frame-pointer")

#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "wl.h"

#define CHURN 3000		/* iterations per churn loop */

static void *volatile kept[128];	/* the leaks, reachable until exit */
static int nkept;
/* keeps the compiler from eliding pairs; per thread, or one thread would
 * free the other's block */
static __thread void *volatile sink;

struct leak {
	const char *func;
	const char *kind;
	long allocs;
	long bytes;		/* each */
};

static struct leak leaks[] = {
	{ "leak_malloc", "malloc", 7, 1000 },
	{ "leak_calloc", "calloc", 5, 30 * 70 },
	{ "leak_realloc", "realloc", 4, 3000 },
	{ "leak_reallocarray", "reallocarray", 3, 10 * 90 },
	{ "leak_posix_memalign", "posix_memalign", 6, 4000 },
	{ "leak_aligned_alloc", "aligned_alloc", 3, 5120 },
	{ "leak_memalign", "memalign", 2, 640 },
	{ "leak_valloc", "valloc", 2, 700 },
	{ "leak_mmap", "mmap", 2, 8192 },
};

static void keep(void *p)
{
	if (!p) {
		perror("leaker: allocation failed");
		exit(1);
	}
	kept[nkept++] = p;
}

__attribute__((noinline, noclone)) static void leak_malloc(long k)
{
	for (long i = 0; i < k; i++)
		keep(malloc(1000));
}

__attribute__((noinline, noclone)) static void leak_calloc(long k)
{
	for (long i = 0; i < k; i++)
		keep(calloc(30, 70));
}

/* the small first block is freed by realloc: only the 3000 stay */
__attribute__((noinline, noclone)) static void leak_realloc(long k)
{
	for (long i = 0; i < k; i++) {
		sink = malloc(24);
		keep(realloc(sink, 3000));
	}
}

/* glibc's reallocarray(NULL, ...) calls realloc, which calls malloc:
 * one allocation, not three */
__attribute__((noinline, noclone)) static void leak_reallocarray(long k)
{
	for (long i = 0; i < k; i++)
		keep(reallocarray(NULL, 10, 90));
}

__attribute__((noinline, noclone)) static void leak_posix_memalign(long k)
{
	for (long i = 0; i < k; i++) {
		void *p = NULL;

		if (posix_memalign(&p, 64, 4000))
			p = NULL;
		keep(p);
	}
}

__attribute__((noinline, noclone)) static void leak_aligned_alloc(long k)
{
	for (long i = 0; i < k; i++)
		keep(aligned_alloc(256, 5120));
}

__attribute__((noinline, noclone)) static void leak_memalign(long k)
{
	for (long i = 0; i < k; i++)
		keep(memalign(128, 640));
}

__attribute__((noinline, noclone)) static void leak_valloc(long k)
{
	for (long i = 0; i < k; i++)
		keep(valloc(700));
}

__attribute__((noinline, noclone)) static void leak_mmap(long k)
{
	for (long i = 0; i < k; i++) {
		void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		keep(p == MAP_FAILED ? NULL : p);
	}
}

/* the same entry points, everything freed again */
__attribute__((noinline, noclone)) static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < CHURN; i++) {
		void *p, *q;

		sink = malloc(16 + i % 512);
		free(sink);
		sink = calloc(1 + i % 7, 48);
		free(sink);
		/* a growing realloc chain, then realloc(p, 0) frees it */
		p = malloc(8);
		for (int s = 64; s <= 8192; s *= 4) {
			q = realloc(p, s);
			if (q)
				p = q;
		}
		sink = p;
		p = realloc(sink, 0);
		free(p);	/* NULL in glibc, but portable */
		sink = reallocarray(NULL, 3, 100);
		free(sink);
		if (posix_memalign(&p, 128, 256 + i % 100) == 0) {
			sink = p;
			free(sink);
		}
		sink = aligned_alloc(64, 640);
		free(sink);
		sink = memalign(32, 96);
		free(sink);
		sink = valloc(100);
		free(sink);
		free(NULL);
		/* big enough for malloc's own mmap: not an mmap of ours */
		sink = malloc(300 * 1024);
		free(sink);
		if (i % 100 == 0) {
			p = mmap(NULL, 4096 * (1 + i % 3),
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p != MAP_FAILED)
				munmap(p, 4096 * (1 + i % 3));
		}
	}
	return NULL;
}

static void wait_for(const char *path)
{
	struct stat st;
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; stat(path, &st); i++) {
		if (i > 60 * 100) {
			fprintf(stderr, "leaker: %s never appeared\n", path);
			exit(1);
		}
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	const char *go = NULL, *out;
	char buf[4096];
	pthread_t t;
	size_t o;
	int fd;

	if (argc == 4 && !strcmp(argv[1], "-w")) {
		go = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: leaker [-w GOFILE] TRUTH.json\n");
		return 2;
	}
	out = argv[1];
	if (go)
		wait_for(go);

	if (pthread_create(&t, NULL, churn, NULL)) {
		fprintf(stderr, "leaker: pthread_create failed\n");
		return 1;
	}
	leak_malloc(leaks[0].allocs);
	leak_calloc(leaks[1].allocs);
	leak_realloc(leaks[2].allocs);
	leak_reallocarray(leaks[3].allocs);
	leak_posix_memalign(leaks[4].allocs);
	leak_aligned_alloc(leaks[5].allocs);
	leak_memalign(leaks[6].allocs);
	leak_valloc(leaks[7].allocs);
	leak_mmap(leaks[8].allocs);
	churn(NULL);
	pthread_join(t, NULL);

	/* snprintf + write: no stdio buffer stays allocated */
	o = snprintf(buf, sizeof(buf), "{\"pid\": %d, \"churn\": \"churn\", "
		     "\"churn_iterations\": %d, \"leaks\": [", (int)getpid(),
		     2 * CHURN);
	for (size_t i = 0; i < sizeof(leaks) / sizeof(leaks[0]); i++)
		o += snprintf(buf + o, sizeof(buf) - o, "%s{\"func\": \"%s\", "
			      "\"kind\": \"%s\", \"allocs\": %ld, "
			      "\"bytes\": %ld}", i ? ", " : "", leaks[i].func,
			      leaks[i].kind, leaks[i].allocs,
			      leaks[i].allocs * leaks[i].bytes);
	o += snprintf(buf + o, sizeof(buf) - o, "]}\n");
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, buf, o) != (ssize_t)o) {
		perror(out);
		return 1;
	}
	close(fd);
	return 0;
}
