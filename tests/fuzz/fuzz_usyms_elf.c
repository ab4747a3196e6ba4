// SPDX-License-Identifier: GPL-2.0
/*
 * The user symbolizer on arbitrary bytes as a mapped object: the load-bias
 * arithmetic on its program headers, libdwfl on its symbols and DWARF, and
 * the function scan memleak runs on an allocator object (dynsym, symtab,
 * versym, PT_INTERP).  The input is the file; it is "mapped" twice, at file
 * offset 0 and at the second page, as a program's text usually is.
 */
#include "kscope.h"
#include "fuzz.h"

static const char *const names[] = {
	"malloc", "free", "calloc", "realloc", "main", "_start",
	"posix_memalign", "aligned_alloc", "mmap", "munmap",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_elf_funcs es = { .names = names,
				   .n = sizeof(names) / sizeof(names[0]) };
	uint64_t base = 0x555555554000ULL, len = (size + 0xfff) & ~0xfffULL;
	struct ks_usyms *u;
	char path[64];
	int fd;

	fd = ks_fuzz_file(data, size, path, sizeof(path));
	ks_elf_find_funcs_fd(fd, &es);
	if (es.is_elf && es.has_interp && strlen(es.interp) >= sizeof(es.interp))
		abort();
	u = ks_usyms_new(0);
	if (!u)
		abort();
	ks_usyms_add_map(u, base, base + 0x1000, 0, path);
	if (len > 0x1000)
		ks_usyms_add_map(u, base + 0x1000, base + len, 0x1000, path);
	/* every found function, and addresses spread over the mapping */
	for (size_t k = 0; k < es.n; k++)
		if (es.off[k] && es.off[k] < len)
			ks_usyms_fmt(u, base + es.off[k], k & 1);
	for (uint64_t a = base; a < base + len + 0x100; a += 0x3f1) {
		struct ks_usym s;
		const char *f = ks_usyms_fmt(u, a, a & 1);

		if (!f || !*f)
			abort();
		if (!ks_usyms_lookup(u, a, false, &s) && !s.module)
			abort();
	}
	ks_usyms_free(u);
	close(fd);
	return 0;
}
