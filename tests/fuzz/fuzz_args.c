// SPDX-License-Identifier: GPL-2.0
/*
 * Command lines: every tool's option parsing (common and its own options,
 * "--" commands, interval and count) and the strict number parsers.  The
 * first byte picks the tool, the rest is argv split at NUL bytes.  A parse
 * that succeeds must leave every option inside its documented range; one
 * that fails must say so with an exit code, never crash, and parsing the
 * same line again must give the same answer.
 */
#include <math.h>
#include "kscope.h"
#include "fuzz.h"

static void numbers(const char *s)
{
	long l;
	double d;

	if (!ks_parse_long(s, -5, 1000, &l) && (l < -5 || l > 1000))
		abort();
	if (!ks_parse_long(s, 1, INT32_MAX, &l)) {
		char back[32];

		/* a parsed number is the whole string, in decimal */
		snprintf(back, sizeof(back), "%ld", l);
		if (strtol(back, NULL, 10) != l)
			abort();
	}
	if (!ks_parse_double(s, 0.001, 1e7, &d) &&
	    (isnan(d) || d < 0.001 || d > 1e7))
		abort();
}

static int parse(const uint8_t *data, size_t size)
{
	static int ntools;
	const struct ks_tool *t;
	char *buf, *argv[34];
	struct ks_run r;
	int argc = 0, err;

	if (!ntools)
		while (ks_tools[ntools])
			ntools++;
	t = ks_tools[data[0] % ntools];
	buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	argv[argc++] = (char *)t->name;
	for (char *p = buf; p < buf + size - 1 && argc < 33;
	     p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	for (int i = 1; i < argc; i++)
		numbers(argv[i]);

	if (ks_run_init(&r, t))
		abort();
	err = ks_run_parse(&r, argc, argv);
	if (err != 0 && err != -1 && err != KS_EXIT_USAGE &&
	    err != KS_EXIT_RUNTIME)
		abort();
	if (!err) {
		const struct ks_opts *o = &r.o;

		if (o->stack_depth < 1 || o->stack_depth > KS_MAX_STACK_DEPTH ||
		    o->max_entries < 1 || o->top < 0 || o->count < 0 ||
		    o->interval < 0 || o->duration < 0 || o->pid < 0 ||
		    o->tid < 0 || (o->has_comm && (!o->comm[0] ||
		    memchr(o->comm, 0, KS_COMM_LEN) == NULL)) ||
		    o->mode > KS_MODE_AUTO)
			abort();
		/* the command after "--" is argv's own tail */
		if (o->command && (o->command < argv || o->command > argv + argc))
			abort();
	}
	ks_run_free(&r);
	free(buf);
	return err;
}

/* twice, each time from a copy of its own that is freed after: kscope
 * report parses one command line per tool, and nothing of one parse may
 * leak into the next */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (parse(data, size) != parse(data, size))
		abort();
	return 0;
}
