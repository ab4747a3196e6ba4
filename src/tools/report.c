// SPDX-License-Identifier: GPL-2.0
/*
 * kscope report: every tool at once for a few seconds, then one page of
 * their top entries.  Tools that cannot run here say why in one line.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kscope.h"

/* bench/macro.py's figures for kscope report (struct ks_tool's macro) */
static const unsigned char report_macro[3] = { 81, 94, 76 };

static const char usage_text[] =
"Usage: kscope report [-d SECS] [-r ROWS] [-j] [--html FILE] [-s] [-Q] "
"[--include-self] [-o FILE]\n"
"\n"
"Runs every tool at once (default 10 s), then prints each one's top ROWS\n"
"(default 5) entries.  -j prints each tool's normal JSON report line.\n"
"The window opens once every tool is attached; kscope's own work (loading\n"
"BPF, reading maps) is left out unless --include-self.\n"
"\n"
"Options:\n"
"  -d, --duration SECS    length of the window (default 10)\n"
"  -r, --rows ROWS        entries per table (default 5)\n"
"  -j, --json             each tool's JSON report line instead of text\n"
"  -o, --output FILE      write the report to FILE instead of stdout\n"
"      --html FILE        also write the report as one self-contained HTML\n"
"                         page (inline CSS, SVG and script, nothing fetched):\n"
"                         a section per tool with its mode, notes, drops and\n"
"                         top table, histograms as bar charts, stacks as\n"
"                         flame graphs, numamove per second\n"
"  -s, --stacks           the tools that can key by kernel stack do (kmem,\n"
"                         kpages, mlock, mheld, spinlock, as with their -s):\n"
"                         flame graphs on the page, a stack walk per event\n"
"                         (about 1.3 us each here; the page says how many)\n"
"  -Q, --queue            workq times queueing too (as workq -Q)\n"
"      --include-self     count kscope's own process too\n"
"  -v, --verbose          libbpf diagnostics on stderr\n"
"  -h, --help             this help\n"
"\n"
"Examples:\n"
"  kscope report -d 5\n"
"  kscope report -d 30 --html report.html     # open it in a browser\n"
"  kscope report -d 10 -s -Q --html report.html\n"
"  kscope report -j -d 10 > report.json\n";

/* numamove and its like, sampled each second of the window for the page */
static void sample(struct ks_html *h, struct ks_run *runs, int nrun,
		   double t)
{
	for (int i = 0; i < nrun; i++) {
		struct ks_report rep;

		if (!runs[i].tool || !runs[i].tool->report_series)
			continue;
		ks_report_peek(&rep, &runs[i]);
		ks_html_sample(h, &rep, t);
		ks_report_free(&rep);
	}
}

int ks_report_main(int argc, char **argv)
{
	enum { OPT_HTML = 1000 };
	static const struct option lo[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "rows", required_argument, NULL, 'r' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "include-self", no_argument, NULL, 'S' },
		{ "output", required_argument, NULL, 'o' },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "queue", no_argument, NULL, 'Q' },
		{ "stacks", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static struct ks_run runs[32];
	static char why[32][KS_WHY_LEN];
	const char *html_path = NULL;
	struct ks_html *html = NULL;
	FILE *html_f = NULL;
	double duration = 10, end, start, next, stopped;
	bool json = false, verbose = false, self = false, queue = false;
	bool stacks = false, html_err = false;
	const char *output = NULL;
	FILE *out = stdout;
	long rows = 5;
	int c, nrun = 0, started, werr = 0;
	sigset_t set;

	ks_set_prog("kscope report");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:jr:vsQho:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (ks_parse_double(optarg, 0.001, 1e7, &duration))
				return ks_usage_error("bad duration '%s' "
					"(seconds, > 0)", optarg),
				       KS_EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			if (ks_parse_long(optarg, 1, 1000, &rows))
				return ks_usage_error("bad row count '%s'",
						      optarg), KS_EXIT_USAGE;
			break;
		case 'v':
			verbose = true;
			break;
		case 'S':
			self = true;
			break;
		case 'o':
			output = optarg;
			break;
		case 'Q':
			queue = true;
			break;
		case 's':
			stacks = true;
			break;
		case OPT_HTML:
			html_path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			printf("\n"
			       "Counts are exact; stacks are sampled where "
			       "a stack per event would cost the\nwatched "
			       "machine most (docs/bench.md):\n"
			       "  kpages   walks the stack of 1 in %d page "
			       "allocations per CPU; each task's\n"
			       "           count and pages stay exact, split "
			       "among its sites as in the sample\n"
			       "  memleak  tracks 1 in %d allocations "
			       "(outstanding rows are that sample;\n"
			       "           its \"allocated\" totals count "
			       "every allocation)\n"
			       "Each tool's JSON line says so in "
			       "\"sample\".\n", KS_REPORT_SAMPLE,
			       KS_REPORT_SAMPLE);
			fputs("\nOverhead:\n"
			      "  Every tool's programs at once: up to three "
			      "programs on each slab allocation\n"
			      "  (kmem, slabratetop, memleak) and one on each "
			      "free, every one counted exactly.\n"
			      "  An empty program on each of report's hooks "
			      "alone takes 8% of an open/close\n"
			      "  loop's throughput here: kernel-heavy loads "
			      "feel report.  On stress-ng --pipe\n"
			      "  an empty program on the page allocation "
			      "alone takes 10-20% (docs/bench.md).\n",
			      stdout);
			ks_help_macro(stdout, report_macro);
			return KS_EXIT_OK;
		default:
			return ks_opt_error(c, argv);
		}
	}
	if (optind < argc)
		return ks_usage_error("unexpected argument '%s'",
				      argv[optind]), KS_EXIT_USAGE;
	if (output && !(out = ks_output_open(output)))
		return KS_EXIT_RUNTIME;
	if (html_path) {
		/* before the run: a path that cannot be written is said now */
		html_f = fopen(html_path, "w");
		if (!html_f) {
			ks_err("%s: %s", html_path, strerror(errno));
			return KS_EXIT_RUNTIME;
		}
		html = ks_html_new("kscope report");
		if (!html) {
			fclose(html_f);
			return KS_EXIT_RUNTIME;
		}
	}
	signal(SIGPIPE, SIG_IGN);	/* a closed output: said below */
	ks_libbpf_setup(verbose);
	ks_heap_hold();
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	for (int i = 0; ks_tools[i] && nrun < 32; i++) {
		struct ks_run *r = &runs[nrun++];

		if (ks_run_init(r, ks_tools[i]))
			return KS_EXIT_RUNTIME;
		r->in_report = true;
		r->chain = true;
		r->o.json = json;
		r->o.top = rows;
		r->o.interval = 0;
		r->o.clear = false;
		r->o.include_self = self;
		r->o.stacks = stacks && r->tool->stacks_help;
		/* -Q: the tools that have a -Q (workq) take it */
		if (queue && r->tool->short_opts && r->tool->parse_opt &&
		    strchr(r->tool->short_opts, 'Q') &&
		    r->tool->parse_opt(r, 'Q', NULL))
			return KS_EXIT_USAGE;
		r->o.output = output;
		r->out = out;
	}
	/* a tool that cannot start says why in a line, and on the page */
	started = ks_run_start_all(runs, nrun, why);
	ks_set_prog("kscope report");
	if (started <= 0) {
		ks_err("no tool could start on this kernel");
		return KS_EXIT_RUNTIME;
	}
	/* the window opens now: what the tools saw while the others were
	 * still loading (kscope's own BPF loading, with --include-self) is
	 * not part of it */
	for (int i = 0; i < nrun; i++)
		if (runs[i].tool)
			ks_run_restart(&runs[i]);
	/* every tool attached: keep only what the reports need (privs.c) */
	{
		uint64_t keep = 0;

		for (int i = 0; i < nrun; i++)
			if (runs[i].tool)
				keep |= ks_caps_for(&runs[i]);
		ks_drop_caps(keep, verbose);
	}
	fprintf(json || output ? stderr : stdout, "Tracing with %d tools for %g s... "
		"Hit Ctrl-C to end early.\n", started, duration);
	fflush(json || output ? stderr : stdout);
	ks_heap_release();
	start = ks_now();
	end = start + duration;
	next = html ? start + 1 : end;
	for (;;) {
		double until = next < end ? next : end;

		if (ks_wait_until(until, &set))
			break;
		if (ks_now() >= end)
			break;
		if (html && ks_now() >= next) {
			sample(html, runs, nrun, ks_now() - start);
			next += 1;
		}
	}
	stopped = ks_now();
	/* the run is over: detach everything (every chain at once), then
	 * read maps that hold still (see report() in run.c) */
	ks_chain_stop();
	for (int i = 0; i < nrun; i++)
		if (runs[i].tool)
			ks_bpf_cleanup(&runs[i]);
	for (int i = 0; i < nrun; i++) {
		struct ks_run *r = &runs[i];
		struct ks_report rep;

		if (!r->tool)
			continue;
		if (!json)
			fprintf(out, "\n=== %s: %s\n    mode: %s%s%s%s\n",
			       r->tool->name,
			       r->tool->summary, ks_mode_name(r->mode),
			       r->probe.m[r->mode].measures ? " (" : "",
			       r->probe.m[r->mode].measures ?
			       r->probe.m[r->mode].measures : "",
			       r->probe.m[r->mode].measures ? ")" : "");
		ks_report_make(&rep, r, true);
		ks_report_write(&rep);
		if (html)
			ks_html_report(html, &rep);
		ks_report_done(&rep);
	}
	if (html) {
		for (int i = 0; i < nrun; i++)
			if (!runs[i].tool)
				ks_html_failed(html, ks_tools[i], why[i]);
		if (ks_html_write(html, html_f, stopped - start) |
		    fclose(html_f)) {
			ks_err("writing %s: %s", html_path, strerror(errno));
			html_err = true;
		}
	}
	for (int i = 0; i < nrun; i++) {
		if (runs[i].tool)
			ks_run_stop(&runs[i]);
		if (runs[i].out_err && !werr)
			werr = runs[i].out_err;
		runs[i].out = stdout;	/* closed once, below */
		ks_run_free(&runs[i]);
	}
	if (!werr)
		werr = ks_output_flush(out);
	if (out != stdout && fclose(out) && !werr)
		werr = errno;
	if (werr && werr != EPIPE) {
		ks_err("cannot write the report to %s: %s",
		       output ? output : "stdout", strerror(werr));
		return KS_EXIT_RUNTIME;
	}
	return html_err ? KS_EXIT_RUNTIME : KS_EXIT_OK;
}
