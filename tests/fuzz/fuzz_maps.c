// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/maps text, as a process (or whoever controls its file names)
 * can shape it: the parser must keep only executable file mappings, never
 * read past a line, and leave a symbolizer that still answers.
 */
#include "kscope.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct ks_usyms *u = ks_usyms_new(0);
	int n;

	if (!text || !u)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	n = ks_usyms_add_maps_text(u, text);
	if (n < 0 || ks_usyms_nmaps(u) > (size_t)n)
		abort();
	/* the addresses the text names, and a few around them */
	for (const char *l = text; l && *l; l = strchr(l, '\n')) {
		unsigned long long s;

		while (*l == '\n')
			l++;
		if (sscanf(l, "%llx", &s) == 1)
			for (int d = -1; d <= 1; d++)
				if (!*ks_usyms_fmt(u, s + d, d > 0))
					abort();
	}
	ks_usyms_free(u);
	free(text);
	return 0;
}
