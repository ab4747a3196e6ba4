// SPDX-License-Identifier: GPL-2.0
/*
 * leak_tree LEVELS SIZE TRUTH.json: leaks 2^LEVELS blocks of SIZE bytes,
 * each from a call path of its own.  A path is LEVELS calls, each through
 * left() or right() (two functions, so two return addresses per level),
 * then malloc() in leak_leaf(): 2^LEVELS distinct user stacks, one block
 * each.  Nothing else is allocated once the tree starts: the ground truth
 * is written with write(2), not stdio, which would malloc a buffer.
 *
 * Built with frame pointers, like leaker, so the stacks show every level.
 */
#pragma GCC optimize("no-omit-frame-pointer")
#pragma GCC optimize("no-optimize-sibling-calls")

#include "wl.h"

static void *volatile *kept;
static long nkept, size;

__attribute__((noinline)) static void down(int level, unsigned long path);

__attribute__((noinline)) void leak_leaf(void)
{
	kept[nkept++] = malloc(size);
	__asm__ volatile("" ::: "memory");	/* not a tail call */
}

__attribute__((noinline)) void left(int level, unsigned long path)
{
	down(level, path);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void right(int level, unsigned long path)
{
	down(level, path);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void down(int level, unsigned long path)
{
	if (level == 0)
		leak_leaf();
	else if (path & 1)
		left(level - 1, path >> 1);
	else
		right(level - 1, path >> 1);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	long levels, n;
	char out[160];
	int fd, len;

	if (argc != 4) {
		fprintf(stderr, "usage: leak_tree LEVELS SIZE TRUTH.json\n");
		return 2;
	}
	levels = wl_num(argv[1], "levels");
	size = wl_num(argv[2], "size");
	if (levels < 1 || levels > 20 || size < 1) {
		fprintf(stderr, "leak_tree: LEVELS 1-20, SIZE > 0\n");
		return 2;
	}
	n = 1L << levels;
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	kept = calloc(n, sizeof(*kept));
	if (fd < 0 || !kept) {
		perror("leak_tree");
		return 1;
	}
	wl_name("leak_tree");
	for (long p = 0; p < n; p++)
		down(levels, p);
	for (long i = 0; i < n; i++)
		if (!kept[i]) {
			fprintf(stderr, "leak_tree: malloc failed\n");
			return 1;
		}
	len = snprintf(out, sizeof(out), "{\"paths\": %ld, \"size\": %ld, "
		       "\"levels\": %ld}\n", n, size, levels);
	return write(fd, out, len) == len ? 0 : 1;
}
