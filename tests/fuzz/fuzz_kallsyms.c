// SPDX-License-Identifier: GPL-2.0
/*
 * kallsyms text: modules name their own symbols, and a fixture or a
 * container's /proc can hold anything.  Lookups by address and by name must
 * agree with what was loaded, and the formatter must always answer.
 */
#include <inttypes.h>
#include "kscope.h"
#include "fuzz.h"

/* a class from the name's first letter and the module: any function
 * will do, the ranges must answer as the table does */
static unsigned int name_class(const struct ks_ksym *s)
{
	return (unsigned char)s->name[0] % 3 | (s->module ? 4 : 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_fuzz_in in = { data, size };
	struct ks_ksyms *k;
	struct ks_kranges *kr;
	char path[64], buf[256];
	int fd = ks_fuzz_file(data, size, path, sizeof(path));

	k = ks_ksyms_load(path);
	if (!k) {
		close(fd);
		return 0;
	}
	kr = ks_kranges_build(k, name_class);
	if (!kr)
		abort();
	for (int i = 0; i < 16; i++) {
		uint64_t a = ks_fuzz_u64(&in, 8), scanned;
		const struct ks_ksym *s = ks_ksyms_lookup(k, a), *byname;

		ks_ksyms_fmt(k, a, buf, sizeof(buf));
		if (!buf[0])
			abort();
		/* the ranges of a class answer as the whole table */
		if (ks_kranges_class(kr, a) != (s ? name_class(s) : 0))
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
		/* and a scan of the file finds the same address */
		if (ks_ksyms_scan_names(path, &s->name, &scanned, 1) ||
		    scanned != byname->addr)
			abort();
	}
	ks_kranges_free(kr);
	ks_ksyms_free(k);
	close(fd);
	return 0;
}
