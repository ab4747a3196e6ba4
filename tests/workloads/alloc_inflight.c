// SPDX-License-Identifier: GPL-2.0
/*
 * alloc_inflight N SIZE TRUTH.json: N threads are inside malloc at the
 * same time, for memleak's in-flight (pending) map.
 *
 * The program brings its own allocator (static glibc lets a program
 * replace malloc, free, calloc, realloc and the aligned variants), so
 * that malloc can hold a caller inside: a call for exactly SIZE bytes
 * waits in malloc until all N threads have made theirs.  Each of the N
 * threads names itself "ks_inflight" first (memleak -c ks_inflight sees
 * those calls and nothing of the start-up or thread set-up), then leaks
 * the one block from leak_inflight().  So memleak, with an in-flight map
 * of M < N entries, tracks exactly M blocks and counts exactly N - M
 * calls as pending_full.
 */
#pragma GCC optimize("no-omit-frame-pointer")

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include "wl.h"

/* ---- the allocator: a bump arena, blocks never reused ------------------ */

#define ARENA (64UL << 20)
#define ALIGN 16UL

static char *arena;
static uintptr_t arena_next;	/* offset of the next free byte */
static long hold_size = -1;	/* calls for this size wait in malloc */
static pthread_barrier_t inside;

static void *arena_alloc(size_t size, size_t align)
{
	uintptr_t off, end;

	if (!arena) {
		/* first call is single-threaded (libc start-up) */
		arena = mmap(NULL, ARENA, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (arena == MAP_FAILED)
			abort();
	}
	if (align < ALIGN)
		align = ALIGN;
	/* a header of one alignment unit holds the size (for realloc) */
	for (;;) {
		uintptr_t cur = __atomic_load_n(&arena_next, __ATOMIC_RELAXED);

		off = (cur + sizeof(size_t) + align - 1) & ~(align - 1);
		end = off + size;
		if (end > ARENA || end < off)
			return NULL;
		if (__atomic_compare_exchange_n(&arena_next, &cur, end, 0,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			break;
	}
	((size_t *)(arena + off))[-1] = size;
	return arena + off;
}

__attribute__((noinline)) void *malloc(size_t size)
{
	void *p = arena_alloc(size, ALIGN);

	if ((long)size == hold_size)
		pthread_barrier_wait(&inside);
	return p;
}

__attribute__((noinline)) void free(void *p)
{
	(void)p;
}

__attribute__((noinline)) void *calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	/* the arena is fresh anonymous memory: already zero */
	return arena_alloc(n * size, ALIGN);
}

__attribute__((noinline)) void *realloc(void *old, size_t size)
{
	void *p = arena_alloc(size, ALIGN);
	size_t was;

	if (p && old) {
		was = ((size_t *)old)[-1];
		memcpy(p, old, was < size ? was : size);
	}
	return p;
}

__attribute__((noinline)) void *memalign(size_t align, size_t size)
{
	return arena_alloc(size, align);
}

__attribute__((noinline)) void *aligned_alloc(size_t align, size_t size)
{
	return arena_alloc(size, align);
}

__attribute__((noinline)) int posix_memalign(void **out, size_t align,
					     size_t size)
{
	void *p = arena_alloc(size, align);

	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

__attribute__((noinline)) void *valloc(size_t size)
{
	return arena_alloc(size, 4096);
}

__attribute__((noinline)) void *pvalloc(size_t size)
{
	return arena_alloc((size + 4095) & ~4095UL, 4096);
}

__attribute__((noinline)) size_t malloc_usable_size(void *p)
{
	return p ? ((size_t *)p)[-1] : 0;
}

/* ---- the workload ------------------------------------------------------- */

static pthread_barrier_t named;
static void *volatile kept[4096];

__attribute__((noinline, noclone)) static void *leak_inflight(long i)
{
	kept[i] = malloc(hold_size);
	return kept[i];
}

static void *thread(void *arg)
{
	long i = (long)arg;

	wl_name("ks_inflight");
	pthread_barrier_wait(&named);
	if (!leak_inflight(i))
		abort();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t tids[4096];
	pthread_attr_t attr;
	long n, i, stack;
	int rc;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: alloc_inflight N SIZE TRUTH.json\n");
		return 2;
	}
	n = wl_num(argv[1], "thread count");
	if (n < 1 || n > 4096) {
		fprintf(stderr, "bad thread count '%s' (1-4096)\n", argv[1]);
		return 2;
	}
	hold_size = wl_num(argv[2], "size");
	if (hold_size < 1) {
		fprintf(stderr, "bad size '%s'\n", argv[2]);
		return 2;
	}
	/* small stacks, but not below the architecture's minimum (arm64:
	 * 128 KiB) */
	stack = 64 << 10;
	if (stack < PTHREAD_STACK_MIN)
		stack = PTHREAD_STACK_MIN;
	rc = pthread_barrier_init(&named, NULL, n);
	if (!rc)
		rc = pthread_barrier_init(&inside, NULL, n);
	if (!rc)
		rc = pthread_attr_init(&attr);
	if (!rc)
		rc = pthread_attr_setstacksize(&attr, stack);
	for (i = 0; !rc && i < n; i++)
		rc = pthread_create(&tids[i], &attr, thread, (void *)i);
	if (rc) {
		fprintf(stderr, "alloc_inflight: thread set-up: %s\n",
			strerror(rc));
		return 1;
	}
	for (i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	f = fopen(argv[3], "w");
	if (!f) {
		perror(argv[3]);
		return 1;
	}
	fprintf(f, "{\"threads\": %ld, \"size\": %ld, \"comm\": \"ks_inflight\","
		" \"function\": \"leak_inflight\"}\n", n, hold_size);
	return fclose(f) ? 1 : 0;
}
