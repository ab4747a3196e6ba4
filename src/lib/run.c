// SPDX-License-Identifier: GPL-2.0
/*
 * The driver every tool runs under: common options, mode choice, the
 * "Tracing" header, the interval loop, signals and the final report.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kscope.h"

enum {
	OPT_CGROUP = 1000,
	OPT_STACK_DEPTH,
	OPT_MAX_ENTRIES,
	OPT_FOLDED,
	OPT_WEIGHT,
	OPT_PPROF,
	OPT_INCLUDE_SELF,
	OPT_OUTPUT,	/* --output, also when a tool's -o is its own */
};

static const struct option common_long[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "tid", required_argument, NULL, 't' },
	{ "comm", required_argument, NULL, 'c' },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "include-self", no_argument, NULL, OPT_INCLUDE_SELF },
	{ "duration", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, 'j' },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "stacks", no_argument, NULL, 's' },
	{ "hist", no_argument, NULL, 'H' },
	{ "stack-depth", required_argument, NULL, OPT_STACK_DEPTH },
	{ "mode", required_argument, NULL, 'm' },
	{ "rows", required_argument, NULL, 'r' },
	{ "max-entries", required_argument, NULL, OPT_MAX_ENTRIES },
	{ "folded", no_argument, NULL, OPT_FOLDED },
	{ "weight", required_argument, NULL, OPT_WEIGHT },
	{ "pprof", required_argument, NULL, OPT_PPROF },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

static const char common_short[] = "p:t:c:d:jo:sHm:r:vh";

static const char common_help_filters[] =
"  -p, --pid PID          trace this process only (filtered in BPF)\n"
"  -t, --tid TID          trace this thread only\n"
"  -c, --comm COMM        trace tasks with this exact name (max 15 bytes)\n"
"      --cgroup PATH      trace tasks in this cgroup v2 directory and below\n"
"      --include-self     count kscope's own process too (left out by default)\n"
"  -d, --duration SECS    run this long, print the final report, exit\n"
"  -j, --json             newline-delimited JSON, one object per report\n";

static const char common_help_depth[] =
"      --stack-depth N    frames per stack, 1-127 (default 16)\n";

static const char common_help_stack_out[] =
"      --folded           folded stacks instead of the table, one line per\n"
"                         stack: comm;outermost;...;innermost WEIGHT (for\n"
"                         'kscope flamegraph' or flamegraph.pl)%s\n"
"      --weight count     --folded weights are event counts (default: %s)\n"
"      --pprof FILE       also write the stacks to FILE as a gzipped pprof\n"
"                         profile (go tool pprof, Pyroscope, Parca) of\n"
"                         %s%s;\n"
"                         with an interval, each report replaces FILE\n";

static const char common_help_rest[] =
"  -m, --mode MODE        force an attach mode: fentry, kprobe, tp_btf,\n"
"                         raw_tp, tracepoint, uprobe (default: the best\n"
"                         this kernel allows; see 'kscope features')\n"
"  -r, --rows N           show the top N entries only (default: all)\n"
"      --max-entries N    size of the in-kernel aggregation maps\n"
"                         (default 10240)\n"
"  -v, --verbose          libbpf diagnostics on stderr\n"
"  -h, --help             this help\n"
"  interval [count]       print a report every interval seconds, count\n"
"                         times; each report covers its own interval\n";

/* -s and --stack-depth exist for a tool that keys by stack at all (and
 * so do the stack outputs), -H for one with histograms per row */
static bool has_opt(const struct ks_tool *t, const char *name)
{
	if (!strcmp(name, "stacks"))
		return t->stacks_help;
	if (!strcmp(name, "stack-depth") || !strcmp(name, "folded") ||
	    !strcmp(name, "weight") || !strcmp(name, "pprof"))
		return t->stacks_help || t->always_stacks;
	if (!strcmp(name, "hist"))
		return t->hist_help;
	return true;
}

static bool has_short(const struct ks_tool *t, char c)
{
	return c == 's' ? has_opt(t, "stacks") :
	       c == 'H' ? has_opt(t, "hist") : true;
}

static void usage(const struct ks_tool *t, FILE *f)
{
	fprintf(f, "Usage: kscope %s [options] [interval [count]]%s\n\n%s\n\n",
		t->name, t->takes_command ? " [-- COMMAND [ARG...]]" : "",
		t->summary);
	fprintf(f, "Options:\n");
	if (t->args_help)
		fputs(t->args_help, f);
	fputs(common_help_filters, f);
	/* a tool's own -o wins (memleak -o AGE): --output only */
	fprintf(f, "  %s--output FILE      reports to FILE, not stdout (a "
		"command's own output\n"
		"                         stays on stdout)\n",
		t->short_opts && strchr(t->short_opts, 'o') ? "    " : "-o, ");
	if (t->stacks_help)
		fprintf(f, "  -s, --stacks           %s\n", t->stacks_help);
	if (has_opt(t, "stack-depth"))
		fputs(common_help_depth, f);
	if (has_opt(t, "folded"))
		fprintf(f, common_help_stack_out,
			t->stacks_help ? "; implies -s" : "",
			t->weight_help ? t->weight_help : "the tool's unit",
			t->pprof_help ? t->pprof_help : "sample types",
			t->stacks_help ? "; implies -s" : "");
	if (t->hist_help)
		fprintf(f, "  -H, --hist             %s\n", t->hist_help);
	fputs(common_help_rest, f);
	if (t->examples)
		fprintf(f, "\nExamples:\n%s", t->examples);
	if (t->overhead)
		fprintf(f, "\nOverhead:\n%s", t->overhead);
	ks_help_macro(f, t->macro);
}

void ks_help_macro(FILE *f, const unsigned char macro[3])
{
	if (!macro[0])
		return;
	fprintf(f, "  Whole workloads (bench/macro.py, paired runs, 2-CPU VM, "
		"6.18):\n"
		"  throughput %u%% of untraced on stress-ng --pipe 2, %u%% on "
		"--fork 2,\n"
		"  %u%% on an open/close loop (docs/bench.md: the spread, and "
		"what any\n"
		"  tracer on those hooks pays).\n", macro[0], macro[1], macro[2]);
}

/* A tool's own short options win over common ones with the same letter
 * (slabratetop -s sorts, it has no stacks); -s, --stacks and
 * --stack-depth exist only for tools with stacks. */
static void build_optstrings(const struct ks_tool *t, char *shortopts,
			     size_t slen, struct option *longopts, size_t nlong)
{
	const char *ts = t->short_opts ? t->short_opts : "";
	size_t o = 0, n = 0;

	shortopts[o++] = ':';	/* a missing value returns ':', not '?' */
	for (const char *p = ts; *p && o + 1 < slen; p++)
		shortopts[o++] = *p;
	for (const char *p = common_short; *p && o + 2 < slen; p++) {
		bool has_arg = p[1] == ':';

		if (!strchr(ts, *p) && has_short(t, *p)) {
			shortopts[o++] = *p;
			if (has_arg)
				shortopts[o++] = ':';
		}
		if (has_arg)
			p++;
	}
	shortopts[o] = '\0';
	for (const struct option *l = t->long_opts; l && l->name &&
	     n + 1 < nlong; l++)
		longopts[n++] = *l;
	for (const struct option *l = common_long; l->name && n + 1 < nlong;
	     l++) {
		bool dup = false;

		for (size_t i = 0; i < n; i++)
			if (!strcmp(longopts[i].name, l->name))
				dup = true;
		if (!dup && has_opt(t, l->name))
			longopts[n++] = *l;
	}
	memset(&longopts[n], 0, sizeof(longopts[n]));
}

static int check_pid(pid_t pid, const char *what)
{
	char p[64];
	struct stat st;

	snprintf(p, sizeof(p), "/proc/%d", (int)pid);
	if (stat(p, &st)) {
		ks_err("no such %s: %d", what, (int)pid);
		return -1;
	}
	return 0;
}

static int check_cgroup(struct ks_run *r)
{
	static char path[4096];
	struct statfs sfs;
	const char *cg = r->o.cgroup;

	/* relative paths are relative to the cgroup2 mount */
	if (cg[0] != '/')
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", cg);
	else
		snprintf(path, sizeof(path), "%s", cg);
	if (statfs(path, &sfs)) {
		ks_err("cgroup %s: %s", path, strerror(errno));
		return -1;
	}
	if (sfs.f_type != CGROUP2_SUPER_MAGIC) {
		ks_err("cgroup %s: not a cgroup v2 directory", path);
		return -1;
	}
	r->o.cgroup = path;
	return 0;
}

/* --pprof FILE is written at each report (beside it, then renamed): its
 * directory must take a new file, said now rather than after the run */
static int check_pprof(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	struct stat st;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1),
			 path);
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		ks_err("--pprof %s: a directory", path);
		return -1;
	}
	if (access(dir, W_OK | X_OK)) {
		ks_err("--pprof %s: cannot write in %s: %s", path, dir,
		       strerror(errno));
		return -1;
	}
	return 0;
}

int ks_run_init(struct ks_run *r, const struct ks_tool *t)
{
	memset(r, 0, sizeof(*r));
	r->tool = t;
	if (t->state_size) {
		r->tool_state = calloc(1, t->state_size);
		if (!r->tool_state) {
			ks_err("out of memory");
			return -1;
		}
	}
	r->out = stdout;
	r->o.stack_depth = KS_DEFAULT_STACK_DEPTH;
	r->o.mode = KS_MODE_AUTO;
	r->o.max_entries = t->default_max_entries > 0 ?
			   t->default_max_entries : KS_DEFAULT_ENTRIES;
	r->o.interval = t->default_interval;
	r->o.clear = t->default_interval > 0;
	return 0;
}

void ks_run_free(struct ks_run *r)
{
	if (r->out && r->out != stdout)
		fclose(r->out);
	r->out = NULL;
	free(r->tool_state);
	r->tool_state = NULL;
}

/* returns 0, -1 after -h (exit 0), or an exit code */
int ks_run_parse(struct ks_run *r, int argc, char **argv)
{
	const struct ks_tool *t = r->tool;
	struct option longopts[64];
	char shortopts[128];
	long l;
	int c, pos;

	build_optstrings(t, shortopts, sizeof(shortopts), longopts,
			 sizeof(longopts) / sizeof(longopts[0]));
	/* everything after "--" is the command to run, not ours to parse */
	for (int i = 1; t->takes_command && i < argc; i++) {
		if (strcmp(argv[i], "--"))
			continue;
		if (i + 1 >= argc)
			return ks_usage_error("'--' must be followed by a "
					      "command"), KS_EXIT_USAGE;
		r->o.command = argv + i + 1;
		argc = i;
		break;
	}
	/* 0, not 1: glibc then also forgets where it was inside a group of
	 * short options when an earlier parse stopped there (kscope report
	 * parses several command lines; the fuzzer found the stale pointer) */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (t->short_opts && c < 256 && c != '?' && c != ':' &&
		    strchr(t->short_opts, c)) {
			if (t->parse_opt(r, c, optarg))
				return KS_EXIT_USAGE;
			continue;
		}
		if (c >= 2000 && t->parse_opt) {	/* tool long-only */
			if (t->parse_opt(r, c, optarg))
				return KS_EXIT_USAGE;
			continue;
		}
		switch (c) {
		case 'p':
			if (ks_parse_long(optarg, 1, INT32_MAX, &l))
				return ks_usage_error("bad PID '%s'", optarg),
				       KS_EXIT_USAGE;
			r->o.pid = l;
			break;
		case 't':
			if (ks_parse_long(optarg, 1, INT32_MAX, &l))
				return ks_usage_error("bad TID '%s'", optarg),
				       KS_EXIT_USAGE;
			r->o.tid = l;
			break;
		case 'c':
			if (strlen(optarg) >= KS_COMM_LEN)
				return ks_usage_error("comm '%s' is longer "
					"than the kernel's 15-byte task name",
					optarg), KS_EXIT_USAGE;
			if (!*optarg)
				return ks_usage_error("empty comm"),
				       KS_EXIT_USAGE;
			memset(r->o.comm, 0, sizeof(r->o.comm));
			memcpy(r->o.comm, optarg, strlen(optarg));
			r->o.has_comm = true;
			break;
		case OPT_CGROUP:
			r->o.cgroup = optarg;
			break;
		case OPT_INCLUDE_SELF:
			r->o.include_self = true;
			break;
		case 'd':
			if (ks_parse_double(optarg, 0.001, 1e7, &r->o.duration))
				return ks_usage_error("bad duration '%s' "
					"(seconds, > 0)", optarg),
				       KS_EXIT_USAGE;
			break;
		case 'j':
			r->o.json = true;
			break;
		case 'o':
		case OPT_OUTPUT:
			if (!*optarg)
				return ks_usage_error("empty --output file "
						      "name"), KS_EXIT_USAGE;
			r->o.output = optarg;
			break;
		case 's':
			r->o.stacks = true;
			break;
		case 'H':
			r->o.hist = true;
			break;
		case OPT_STACK_DEPTH:
			if (ks_parse_long(optarg, 1, KS_MAX_STACK_DEPTH, &l))
				return ks_usage_error("bad stack depth '%s' "
					"(1-%d)", optarg, KS_MAX_STACK_DEPTH),
				       KS_EXIT_USAGE;
			r->o.stack_depth = l;
			break;
		case 'm':
			if (ks_mode_parse(optarg, &r->o.mode))
				return ks_usage_error("unknown mode '%s' "
					"(fentry, kprobe, tp_btf, raw_tp, tracepoint, "
					"uprobe, auto)", optarg), KS_EXIT_USAGE;
			break;
		case 'r':
			if (ks_parse_long(optarg, 1, 1000000, &l))
				return ks_usage_error("bad row count '%s'",
						      optarg), KS_EXIT_USAGE;
			r->o.top = l;
			break;
		case OPT_FOLDED:
			r->o.folded = true;
			break;
		case OPT_PPROF:
			if (!*optarg)
				return ks_usage_error("--pprof needs a file "
						      "name"), KS_EXIT_USAGE;
			r->o.pprof = optarg;
			break;
		case OPT_WEIGHT:
			if (strcmp(optarg, "count"))
				return ks_usage_error("bad --weight '%s' (count)",
						      optarg), KS_EXIT_USAGE;
			r->o.weight_count = true;
			break;
		case OPT_MAX_ENTRIES:
			if (ks_parse_long(optarg, 16, 1 << 24, &l))
				return ks_usage_error("bad --max-entries '%s' "
					"(16-16777216)", optarg),
				       KS_EXIT_USAGE;
			r->o.max_entries = l;
			break;
		case 'v':
			r->o.verbose = true;
			break;
		case 'h':
			usage(t, stdout);
			return -1;	/* exit 0 */
		default:	/* ':' or '?' */
			return ks_opt_error(c, argv);
		}
	}
	pos = optind;
	if (pos < argc) {
		if (ks_parse_double(argv[pos], 0.01, 1e7, &r->o.interval))
			return ks_usage_error("bad interval '%s' (seconds, > 0)",
					      argv[pos]), KS_EXIT_USAGE;
		pos++;
	}
	if (pos < argc) {
		if (ks_parse_long(argv[pos], 1, LONG_MAX, &r->o.count))
			return ks_usage_error("bad count '%s'", argv[pos]),
			       KS_EXIT_USAGE;
		pos++;
	}
	if (pos < argc)
		return ks_usage_error("unexpected argument '%s'", argv[pos]),
		       KS_EXIT_USAGE;
	if (r->o.stacks && r->o.stack_depth > KS_MAX_STACK_DEPTH)
		return KS_EXIT_USAGE;
	if (r->o.folded && r->o.json)
		return ks_usage_error("--folded and --json are both formats "
				      "of stdout: choose one"), KS_EXIT_USAGE;
	if (r->o.weight_count && !r->o.folded)
		return ks_usage_error("--weight is for --folded"),
		       KS_EXIT_USAGE;
	/* folded stacks and profiles are the stacks: no -s needed to ask
	 * for them */
	if ((r->o.folded || r->o.pprof) && t->stacks_help)
		r->o.stacks = true;
	if (ks_out_is_data(&r->o) || r->o.output)
		r->o.clear = false;
	if (r->o.pid && check_pid(r->o.pid, "process"))
		return KS_EXIT_RUNTIME;
	if (r->o.tid && check_pid(r->o.tid, "thread"))
		return KS_EXIT_RUNTIME;
	if (r->o.cgroup && check_cgroup(r))
		return KS_EXIT_RUNTIME;
	if (r->o.pprof && check_pprof(r->o.pprof))
		return KS_EXIT_RUNTIME;
	if (t->validate && t->validate(r))
		return KS_EXIT_USAGE;
	return 0;
}

int ks_best_mode(const struct ks_probe *p)
{
	for (int i = 0; i < KS_MODE_MAX; i++)
		if (p->m[i].supported && p->m[i].available)
			return i;
	return -1;
}

/*
 * A kernel stack walk starts where the program runs.  From a tp_btf or
 * raw_tp program the unwinder first crosses the program itself (JIT text
 * with no ORC data: a frame-pointer fallback after failed look-ups) and
 * the tracepoint glue, four frames of cold look-ups; from a classic
 * tracepoint program it starts at the traced function, whose caller the
 * perf glue recorded.  Measured on 6.18 (docs/bench.md, "Classic
 * tracepoints for stack walkers"): ~240 ns less per walk, against ~50 ns
 * more to fill the tracepoint's record.  So a run that walks a stack on
 * every event takes the classic tracepoint where the kernel counts the
 * runs it skips (6.7 on: before, a skipped run would go uncounted).
 */
int ks_default_mode(const struct ks_run *r, const struct ks_probe *p)
{
	const struct ks_tool *t = r->tool;
	int best = ks_best_mode(p);

	if ((best == KS_MODE_TP_BTF || best == KS_MODE_RAW_TP) &&
	    !r->in_report && t->walks_every_event && t->walks_every_event(r) &&
	    p->m[KS_MODE_TRACEPOINT].supported &&
	    p->m[KS_MODE_TRACEPOINT].available && !ks_kernel_before(6, 7))
		return KS_MODE_TRACEPOINT;
	return best;
}

/* Pick the forced mode, or the first available one in preference order. */
static int choose_mode(struct ks_run *r)
{
	const struct ks_tool *t = r->tool;
	int mode;

	t->probe(r, &r->probe);
	if (r->o.mode != KS_MODE_AUTO) {
		struct ks_mode_avail *m = &r->probe.m[r->o.mode];

		if (!m->supported) {
			ks_usage_error("%s has no %s mode", t->name,
				       ks_mode_name(r->o.mode));
			return KS_EXIT_USAGE;
		}
		if (!m->available) {
			ks_err("%s mode unavailable: %s",
			       ks_mode_name(r->o.mode), m->why);
			return KS_EXIT_RUNTIME;
		}
		r->mode = r->o.mode;
		return 0;
	}
	if (r->in_report && t->report_prefers_tp)
		for (int i = KS_MODE_TP_BTF; i <= KS_MODE_TRACEPOINT; i++)
			if (r->probe.m[i].supported && r->probe.m[i].available) {
				r->mode = i;
				return 0;
			}
	mode = ks_default_mode(r, &r->probe);
	if (mode >= 0) {
		r->mode = mode;
		return 0;
	}
	/* say why each supported mode is out: for an unprivileged user
	 * that is one reason, said once */
	if (!ks_privileged()) {
		ks_err("cannot trace: %s", KS_NEED_PRIV);
		return KS_EXIT_RUNTIME;
	}
	{
		char msg[1024];
		size_t o = 0;

		for (int i = 0; i < KS_MODE_MAX && o < sizeof(msg); i++)
			if (r->probe.m[i].supported)
				o += snprintf(msg + o, sizeof(msg) - o, "%s%s: %s",
					      o ? "; " : "", ks_mode_name(i),
					      r->probe.m[i].why);
		ks_err("cannot run on this kernel: %s", msg);
	}
	return KS_EXIT_RUNTIME;
}

static void read_drops(struct ks_run *r, uint64_t *out)
{
	ks_percpu_sum(ks_bpf_map_fd(r, "ks_drops"), KS_MAX_DROP_REASONS, out);
	if (r->tool->recursion)
		out[KS_DROP_RECURSION] += r->tool->recursion(r);
	else if (r->obj)
		out[KS_DROP_RECURSION] += ks_obj_recursion_misses(r->obj);
}

const char *ks_drop_name(const struct ks_tool *t, int i)
{
	static const char *const common[] = { "map_full", "stack",
					       "no_memory", "recursion" };

	if (i < 0 || i >= KS_MAX_DROP_REASONS)
		return NULL;
	if (i < KS_DROP_COMMON_MAX)
		return common[i];
	if (t->drop_names) {
		for (int k = 0; k <= i - KS_DROP_COMMON_MAX; k++)
			if (!t->drop_names[k])
				return NULL;
		return t->drop_names[i - KS_DROP_COMMON_MAX];
	}
	return NULL;
}

void ks_report_begin(struct ks_report *rep, struct ks_run *r, bool final)
{
	uint64_t now[KS_MAX_DROP_REASONS];
	double t = ks_now();

	memset(rep, 0, sizeof(*rep));
	rep->r = r;
	rep->take_gen = -1;
	rep->final = final;
	rep->interval_s = t - r->last_report;
	clock_gettime(CLOCK_REALTIME, &rep->time);
	r->last_report = t;
	read_drops(r, now);
	for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
		/* cumulative in the kernel; each report shows its own part */
		rep->drops[i] = now[i] - r->drops_prev[i];
		r->drops_prev[i] = now[i];
		rep->drops_total += rep->drops[i];
	}
}

void ks_report_peek(struct ks_report *rep, struct ks_run *r)
{
	memset(rep, 0, sizeof(*rep));
	rep->r = r;
	rep->take_gen = -1;
	rep->interval_s = ks_now() - r->last_report;
	clock_gettime(CLOCK_REALTIME, &rep->time);
	r->tool->collect(r, rep);
}

void ks_report_write(const struct ks_report *rep)
{
	int err;

	if (rep->r->o.json)
		ks_write_json(rep);
	else if (rep->r->o.folded)
		ks_write_folded(rep);
	else
		ks_write_text(rep);
	err = ks_output_flush(rep->r->out);
	if (err && !rep->r->out_err)
		rep->r->out_err = err;
	if (rep->r->o.pprof)
		ks_write_pprof(rep);
}

void ks_report_make(struct ks_report *rep, struct ks_run *r, bool final)
{
	long gen = -1;

	/*
	 * The final report is of a run that has ended: detach first, so that
	 * every map it reads holds the same events (workq reads one map per
	 * function and one per workqueue; a work item ending between the two
	 * reads was in one and not the other).
	 */
	if (final)
		ks_bpf_cleanup(r);
	/* before the header: the interval's events are all in by then */
	if (!final && r->tool->takes_counts) {
		gen = ks_next_generation(r);
		if (gen < 0)	/* this report then reads all, as a final one */
			ks_err("cannot start a new interval: %s",
			       strerror(errno));
	}
	ks_report_begin(rep, r, final);
	rep->take_gen = gen;
	/* one read of the kernel's symbols, if any, serves the ranges a
	 * collect classifies frames by and the names the report prints as
	 * it is written (ks_kernel_syms() keeps it); ks_report_free() lets
	 * a table that was only on loan go */
	ks_kernel_syms_keep(true);
	rep->syms_kept = true;
	r->tool->collect(r, rep);
	if (ks_kernel_syms_hidden())
		ks_run_note(r, "kernel addresses are hidden from this user "
			    "(/proc/kallsyms shows zeros: kptr_restrict without "
			    "CAP_SYSLOG), so sites and stacks are bare "
			    "addresses");
}

void ks_report_done(struct ks_report *rep)
{
	struct ks_run *r = rep->r;
	long gen = rep->take_gen;
	bool final = rep->final;

	ks_report_free(rep);
	r->reports++;
	if (gen >= 0)
		ks_stacks_done(r, gen);
	if (!final && r->tool->reset)
		r->tool->reset(r);
}

void ks_run_note(struct ks_run *r, const char *fmt, ...)
{
	char msg[256];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->note && strstr(r->note, msg))
		return;
	/* a note set before as a constant string joins the buffer */
	if (r->note && r->note != r->note_buf)
		snprintf(r->note_buf, sizeof(r->note_buf), "%s", r->note);
	n = strlen(r->note_buf);
	snprintf(r->note_buf + n, sizeof(r->note_buf) - n, "%s%s",
		 n ? "; " : "", msg);
	r->note = r->note_buf;
	if (r->started > 0 && !r->in_report)
		fprintf(stderr, "kscope %s: note: %s\n", r->tool->name, msg);
}

void ks_run_restart(struct ks_run *r)
{
	struct ks_report rep;
	long gen;

	/* an interval report nobody sees: takes the counts (by generation),
	 * the drops and the differencing tools' bases; its rows need no
	 * names (the kernel's symbols, ~8 MB and 60 ms, wait for the first
	 * report that is seen) */
	ks_kernel_syms_pause(true);
	ks_report_make(&rep, r, false);
	ks_kernel_syms_pause(false);
	gen = rep.take_gen;
	ks_report_free(&rep);
	if (gen >= 0)
		ks_stacks_done(r, gen);
	if (r->tool->reset)
		r->tool->reset(r);
	if (r->tool->restart)
		r->tool->restart(r);
	r->started = r->last_report = ks_now();
}

static void report(struct ks_run *r, bool final)
{
	struct ks_report rep;

	ks_report_make(&rep, r, final);
	ks_report_write(&rep);
	ks_report_done(&rep);
}

int ks_wait_until(double deadline, const sigset_t *set)
{
	int sig;

	double left = deadline - ks_now();
	struct timespec ts;

	if (left <= 0)
		return 0;
	/* no deadline is 1e300: wake once a day instead of handing
	 * sigtimedwait() an out-of-range time, which fails with EINVAL at
	 * once and makes a busy loop that never takes SIGINT */
	if (left > 86400)
		left = 86400;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = (long)((left - ts.tv_sec) * 1e9);
	sig = sigtimedwait(set, NULL, &ts);
	return sig > 0 ? sig : 0;
}

/* load and attach a run whose mode is chosen */
static int run_load(struct ks_run *r)
{
	int err;

	if (r->tool->hold_heap)
		ks_heap_hold();
	err = r->tool->start(r);
	if (r->tool->hold_heap)
		ks_heap_release();
	if (err) {
		ks_bpf_cleanup(r);
		if (r->tool->stop)
			r->tool->stop(r);
		r->obj = NULL;	/* gone with the tool's objects */
		return KS_EXIT_RUNTIME;
	}
	r->started = r->last_report = ks_now();
	/* dropped.recursion reads the kernel's per-program count, which
	 * classic tracepoints have only since 6.7 (bpf_prog_active skips) */
	if (r->mode == KS_MODE_TRACEPOINT && ks_kernel_before(6, 7))
		ks_run_note(r, "this kernel (before 6.7) does not count the "
			    "tracepoint program runs it skips while another "
			    "BPF program runs on that CPU: events lost so are "
			    "in no dropped count (tp_btf and raw_tp count "
			    "them)");
	ks_probe_release();
	return 0;
}

int ks_run_start(struct ks_run *r)
{
	int err;

	err = choose_mode(r);
	if (err)
		return err;
	return run_load(r);
}

/*
 * Many runs at once (kscope report).  A tool's start is mostly waiting
 * on nothing but the CPU: libbpf parsing the kernel's BTF for its
 * relocations, the verifier, /proc/kallsyms; one after the other they
 * made report's start-up the sum of nine.  Here the calling thread
 * chooses each run's mode in turn (the probes keep caches, and one BTF
 * parse serves them all: ks_probe_hold()) while loader threads (one per
 * other CPU, at least one, at most three) load and attach the runs
 * already chosen and, first, look up the kernel text bounds the lock
 * tools load with (ks_kernel_text(): the kernel's own lookup, no symbol
 * table; the whole table, ~8 MB, is read at the first report); once all
 * are chosen the calling thread loads too.  A tool's start touches no
 * other tool's state; what they share is locked (the BTF and the kernel's symbols) or per thread (the last
 * error, libbpf's last warning, the name errors start with).  The
 * runs' windows are opened by the caller afterwards (ks_run_restart()),
 * so what one tool counts while another loads is not in any report.
 */
struct start_pool {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct ks_run *runs;
	char (*why)[KS_WHY_LEN];
	bool *chosen_ok;	/* chosen and to be loaded, per run */
	int chosen;		/* runs[0..chosen) have their mode */
	int next;		/* the next run a loader takes */
	int started;
	bool text, done;	/* the kernel's text bounds to look up; all chosen */
};

static void pool_load(struct start_pool *p, int i)
{
	struct ks_run *r = &p->runs[i];

	ks_set_prog(r->tool->name);
	if (run_load(r)) {
		/* the error line is printed; the caller's page says it too */
		snprintf(p->why[i], KS_WHY_LEN, "%s", ks_err_last());
		r->tool = NULL;
		return;
	}
	pthread_mutex_lock(&p->lock);
	p->started++;
	pthread_mutex_unlock(&p->lock);
}

static void *pool_work(void *arg)
{
	struct start_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		if (p->text) {
			struct ks_ktext kt;

			p->text = false;
			pthread_mutex_unlock(&p->lock);
			ks_kernel_text(&kt);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		while (p->next < p->chosen && !p->chosen_ok[p->next])
			p->next++;
		if (p->next < p->chosen) {
			int i = p->next++;

			pthread_mutex_unlock(&p->lock);
			pool_load(p, i);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (p->done)
			break;
		pthread_cond_wait(&p->more, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int ks_run_start_all(struct ks_run *runs, int n, char (*why)[KS_WHY_LEN])
{
	struct start_pool p = {
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.more = PTHREAD_COND_INITIALIZER,
		.runs = runs, .why = why, .text = true,
	};
	pthread_t th[3];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = 0, want = ncpu > 1 ? (ncpu - 1 < 3 ? ncpu - 1 : 3) : 1;

	p.chosen_ok = calloc(n ? n : 1, sizeof(*p.chosen_ok));
	if (!p.chosen_ok) {
		ks_err("out of memory");
		return -1;
	}
	ks_probe_hold();
	for (; nth < want; nth++)
		if (pthread_create(&th[nth], NULL, pool_work, &p))
			break;	/* fewer threads: the caller loads the rest */
	for (int i = 0; i < n; i++) {
		struct ks_run *r = &runs[i];
		bool ok;

		ks_set_prog(r->tool->name);
		ok = !choose_mode(r);
		if (!ok) {
			snprintf(why[i], KS_WHY_LEN, "%s", ks_err_last());
			r->tool = NULL;
		}
		pthread_mutex_lock(&p.lock);
		p.chosen_ok[i] = ok;
		p.chosen = i + 1;
		pthread_cond_signal(&p.more);
		pthread_mutex_unlock(&p.lock);
	}
	pthread_mutex_lock(&p.lock);
	p.done = true;
	pthread_cond_broadcast(&p.more);
	pthread_mutex_unlock(&p.lock);
	pool_work(&p);
	while (nth > 0)
		pthread_join(th[--nth], NULL);
	ks_probe_unhold();
	free(p.chosen_ok);
	return p.started;
}

void ks_run_stop(struct ks_run *r)
{
	ks_bpf_cleanup(r);
	if (r->tool->stop)
		r->tool->stop(r);
	r->obj = NULL;
}

/*
 * The header goes to stdout in text mode; in JSON and folded mode stdout
 * carries only data, so it goes to stderr, where scripts can still wait
 * for it; so it does with -o FILE (the file holds the reports).
 */
void ks_print_header(struct ks_run *r)
{
	const char *measures = r->probe.m[r->mode].measures;
	FILE *f = ks_out_is_data(&r->o) || r->out != stdout ? stderr : r->out;

	fprintf(f, "Tracing %s in %s mode%s%s%s",
		r->what ? r->what : r->tool->tracing_what,
		ks_mode_name(r->mode), measures ? " (" : "",
		measures ? measures : "", measures ? ")" : "");
	if (r->o.duration > 0)
		fprintf(f, " for %g s", r->o.duration);
	fprintf(f, "... Hit Ctrl-C to end.\n");
	fflush(f);
	if (r->note)
		fprintf(stderr, "kscope %s: note: %s\n", r->tool->name,
			r->note);
}

int ks_tool_main(const struct ks_tool *t, int argc, char **argv)
{
	static char prog[64];
	struct ks_run r;
	sigset_t set;
	double end, next;
	int err;

	snprintf(prog, sizeof(prog), "kscope %s", t->name);
	ks_set_prog(prog);
	if (ks_run_init(&r, t))
		return KS_EXIT_RUNTIME;
	err = ks_run_parse(&r, argc, argv);
	if (err) {
		ks_run_free(&r);
		return err < 0 ? KS_EXIT_OK : err;
	}
	ks_libbpf_setup(r.o.verbose);
	if (r.o.output) {
		r.out = ks_output_open(r.o.output);
		if (!r.out) {
			ks_run_free(&r);
			return KS_EXIT_RUNTIME;
		}
	}
	/* a reader that goes away (kscope kmem 1 | head -1) is a failed
	 * write, seen after the report: kscope then detaches and ends as
	 * after Ctrl-C, instead of dying half-way through a report */
	signal(SIGPIPE, SIG_IGN);

	/* signals are taken synchronously by sigtimedwait() */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);

	err = ks_run_start(&r);
	if (err) {
		ks_run_free(&r);
		return err;
	}
	/* attached: keep only what the reports still need (privs.c) */
	if (ks_drop_caps(ks_caps_for(&r), r.o.verbose) && !r.o.verbose)
		ks_run_note(&r, "cannot drop capabilities");
	ks_print_header(&r);

	end = r.o.duration > 0 ? r.started + r.o.duration : 1e300;
	next = r.o.interval > 0 ? r.started + r.o.interval : 1e300;
	for (;;) {
		double wake = next < end ? next : end;
		bool sig;

		/* a tool that can finish early or has work while tracing
		 * is polled 5 times a second */
		if ((t->finished || t->tick) && wake > ks_now() + 0.2)
			wake = ks_now() + 0.2;
		sig = ks_wait_until(wake, &set);
		if (!sig && t->tick)
			t->tick(&r);
		if (sig || ks_now() >= end || (t->finished && t->finished(&r))) {
			report(&r, true);
			break;
		}
		if (ks_now() >= next) {
			report(&r, false);
			if (r.out_err)
				break;
			if (r.o.count && r.reports >= r.o.count)
				break;
			next += r.o.interval;
			/* a slow report must not cause a burst of catch-ups */
			if (next < ks_now())
				next = ks_now() + r.o.interval;
		}
	}
	ks_run_stop(&r);
	err = r.out_err;
	ks_run_free(&r);
	/* EPIPE: whoever read the reports has what they wanted */
	if (err && err != EPIPE) {
		ks_err("cannot write reports to %s: %s",
		       r.o.output ? r.o.output : "stdout", strerror(err));
		return KS_EXIT_RUNTIME;
	}
	return KS_EXIT_OK;
}
