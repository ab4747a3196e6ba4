// SPDX-License-Identifier: GPL-2.0
/* A small program built several ways (PIE, static, shared, stripped,
 * with and without DWARF) as seeds of the ELF symbolizer's fuzzer. */
#include <stdlib.h>

__attribute__((noinline)) void *seed_alloc(unsigned long n)
{
	return malloc(n + 1);
}

__attribute__((noinline)) void seed_release(void *p)
{
	free(p);
}

int main(int argc, char **argv)
{
	void *p = seed_alloc(argc * 16);

	(void)argv;
	seed_release(p);
	return 0;
}
