// SPDX-License-Identifier: GPL-2.0
/* kscope flamegraph: folded stacks in, an SVG flame graph out. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "kscope.h"

static const char usage_text[] =
"Usage: kscope flamegraph [--title T] [--unit U] [--icicle] [--width PX] "
"[-o SVG] [FILE]\n"
"\n"
"Folded stacks (FILE, or standard input) in, an SVG flame graph on "
"standard output.\n"
"\n"
"Reads FlameGraph's collapsed format, one 'frame;frame;...;frame WEIGHT'\n"
"line per stack, root first (what --folded writes; lines beginning with\n"
"'#' are skipped).  Frames are merged per level and sorted by name, each\n"
"as wide as its weight; its tooltip gives the weight and percentage.\n"
"Colours: task names blue, kernel frames (name_[k]) orange, user frames\n"
"(func [object]) red.  In a browser, click a frame to zoom, 'Search'\n"
"highlights frames matching a regular expression; without scripts the\n"
"SVG is the same static picture.\n"
"\n"
"Options:\n"
"      --title T          title of the graph (default 'Flame Graph')\n"
"      --unit U           what weights count, for tooltips: bytes, ns or\n"
"                         count (default)\n"
"      --icicle           root at the top, stacks growing down\n"
"      --width PX         image width in pixels (default 1200)\n"
"  -o, --output SVG       write the SVG to this file, not standard output\n"
"  -h, --help             this help\n"
"\n"
"Examples:\n"
"  kscope kmem --folded -d 10 | kscope flamegraph --unit bytes > kmem.svg\n"
"  kscope mlock --folded -d 5 > mlock.folded\n"
"  kscope flamegraph --unit ns --title 'mutex waits' < mlock.folded > "
"mlock.svg\n";

/* the whole of f; NULL on a read error (errno set) */
static char *read_all(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (got == 0) {
			if (ferror(f)) {
				free(buf);
				return NULL;
			}
			*len = n;
			return buf;
		}
		if (n == cap) {
			char *p = realloc(buf, cap * 2);

			if (!p)
				free(buf);
			buf = p;
			cap *= 2;
		}
	}
	errno = ENOMEM;
	return NULL;
}

int ks_flamegraph_main(int argc, char **argv)
{
	enum { OPT_TITLE = 1, OPT_UNIT, OPT_ICICLE, OPT_WIDTH };
	static const struct option lo[] = {
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "unit", required_argument, NULL, OPT_UNIT },
		{ "icicle", no_argument, NULL, OPT_ICICLE },
		{ "width", required_argument, NULL, OPT_WIDTH },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ks_flame_opts o = { 0 };
	const char *path = NULL, *output = NULL;
	struct ks_flame *f;
	size_t len, bad, first;
	FILE *in = stdin, *out;
	char *buf;
	long l;
	int c;

	ks_set_prog("kscope flamegraph");
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", lo, NULL)) != -1) {
		switch (c) {
		case OPT_TITLE:
			o.title = optarg;
			break;
		case OPT_UNIT:
			if (strcmp(optarg, "bytes") && strcmp(optarg, "ns") &&
			    strcmp(optarg, "count"))
				return ks_usage_error("bad --unit '%s' (bytes, "
						      "ns, count)", optarg),
				       KS_EXIT_USAGE;
			o.unit = optarg;
			break;
		case OPT_ICICLE:
			o.icicle = true;
			break;
		case OPT_WIDTH:
			if (ks_parse_long(optarg, 200, 100000, &l))
				return ks_usage_error("bad --width '%s' "
						      "(200-100000)", optarg),
				       KS_EXIT_USAGE;
			o.width = l;
			break;
		case 'o':
			output = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return KS_EXIT_OK;
		default:
			return ks_opt_error(c, argv);
		}
	}
	if (optind < argc)
		path = argv[optind++];
	if (optind < argc)
		return ks_usage_error("unexpected argument '%s'",
				      argv[optind]), KS_EXIT_USAGE;
	if (path && !(in = fopen(path, "r"))) {
		ks_err("%s: %s", path, strerror(errno));
		return KS_EXIT_RUNTIME;
	}
	buf = read_all(in, &len);
	if (in != stdin)
		fclose(in);
	if (!buf) {
		ks_err("reading %s: %s", path ? path : "standard input",
		       strerror(errno));
		return KS_EXIT_RUNTIME;
	}
	f = ks_flame_new();
	if (!f || ks_flame_parse(f, buf, len)) {
		free(buf);
		ks_flame_free(f);
		ks_err("out of memory");
		return KS_EXIT_RUNTIME;
	}
	free(buf);
	bad = ks_flame_bad_lines(f, &first);
	if (bad && !ks_flame_total(f)) {
		ks_err("%s has no folded stacks ('frame;...;frame WEIGHT' "
		       "lines): line %zu is not one",
		       path ? path : "standard input", first);
		ks_flame_free(f);
		return KS_EXIT_RUNTIME;
	}
	if (bad)
		ks_err("warning: ignored %zu lines that are not folded stacks "
		       "(the first is line %zu)", bad, first);
	if (ks_flame_truncated(f))
		ks_err("warning: %zu stacks deeper than the graph draws: "
		       "their deepest frames are merged", ks_flame_truncated(f));
	if (!ks_flame_total(f))
		ks_err("warning: no stacks with a weight in the input: the "
		       "graph is empty");
	out = output ? ks_output_open(output) : stdout;
	if (!out) {
		ks_flame_free(f);
		return KS_EXIT_RUNTIME;
	}
	if (ks_flame_svg(f, &o, out) || (errno = ks_output_flush(out))) {
		ks_flame_free(f);
		ks_err("writing the SVG: %s", strerror(errno));
		if (out != stdout)
			fclose(out);
		return KS_EXIT_RUNTIME;
	}
	ks_flame_free(f);
	if (out != stdout && fclose(out)) {
		ks_err("writing %s: %s", output, strerror(errno));
		return KS_EXIT_RUNTIME;
	}
	return KS_EXIT_OK;
}
