// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms text: modules name their own symbols, and a fixture or a
 * container's /proc can hold anything.  Lookups by address and by name must
 * agree with what was loaded, and the formatter must always answer.
 */
#include <inttypes.h>
#include "kscope.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_fuzz_in in = { data, size };
	struct ks_ksyms *k;
	char path[64], buf[256];
	int fd = ks_fuzz_file(data, size, path, sizeof(path));

	k = ks_ksyms_load(path);
	close(fd);
	if (!k)
		return 0;
	for (int i = 0; i < 16; i++) {
		uint64_t a = ks_fuzz_u64(&in, 8);
		const struct ks_ksym *s = ks_ksyms_lookup(k, a), *byname;

		ks_ksyms_fmt(k, a, buf, sizeof(buf));
		if (!buf[0])
			abort();
		if (!s)
			continue;
		if (s->addr > a || !s->name)
			abort();
		/* a name found by address is found by name, at an address
		 * that has a symbol of that name */
		byname = ks_ksyms_by_name(k, s->name);
		if (!byname || strcmp(byname->name, s->name))
			abort();
	}
	ks_ksyms_free(k);
	return 0;
}
