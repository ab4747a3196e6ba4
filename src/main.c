// SPDX-License-Identifier: GPL-2.0
/* kscope: command table, global flags and help. */
#include <string.h>
#include "kscope.h"

#define TOOL(n) extern const struct ks_tool ks_tool_##n;
#include "tools/tools.def"
#undef TOOL

const struct ks_tool *const ks_tools[] = {
#define TOOL(n) &ks_tool_##n,
#include "tools/tools.def"
#undef TOOL
	NULL,
};

#ifndef KSCOPE_VERSION
#define KSCOPE_VERSION "0.1"
#endif

const char ks_version[] = KSCOPE_VERSION;
int ks_export_main(int argc, char **argv);

const struct ks_tool *ks_find_tool(const char *name)
{
	for (int i = 0; ks_tools[i]; i++)
		if (!strcmp(ks_tools[i]->name, name))
			return ks_tools[i];
	return NULL;
}

/* a tool's summary up to its first ": ", "; " or ". " (a colon inside
 * parentheses, "(kmem:mm_page_alloc)", is not the end of the headline) */
static int headline_len(const char *s)
{
	int n = 0;

	for (; s[n]; n++)
		if ((s[n] == ':' || s[n] == ';' || s[n] == '.') &&
		    (s[n + 1] == ' ' || s[n + 1] == '\0'))
			break;
	return n;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kscope COMMAND [options] [interval [count]]\n"
"\n"
"Kernel lock, memory, NUMA and workqueue analysis with eBPF.\n"
"\n"
"Commands:\n");
	for (int i = 0; ks_tools[i]; i++)
		fprintf(f, "  %-12s %.*s\n", ks_tools[i]->name,
			headline_len(ks_tools[i]->summary),
			ks_tools[i]->summary);
	fprintf(f,
"  %-12s %s\n"
"  %-12s %s\n"
"  %-12s %s\n"
"  %-12s %s\n"
"  %-12s %s\n"
"\n"
"Every tool takes -p PID, -t TID, -c COMM, --cgroup PATH, -d SECS, -j,\n"
"-m MODE, -r ROWS, -v; tools with histograms -H.  Tools with stacks\n"
"(kmem, kpages, memleak, mlock, mheld, spinlock) take -s, --stack-depth N\n"
"and --folded (folded stacks for flame graphs).  'kscope help TOOL' or\n"
"'kscope TOOL -h' for details.  Exit status: 0 ok, 1 runtime error,\n"
"2 bad usage.\n",
		"features", "what each tool can do on this kernel",
		"report", "one-page summary of every tool over N seconds",
		"export", "the tools continuously behind /metrics and "
		"/debug/pprof",
		"flamegraph", "folded stacks in, SVG flame graph out",
		"help", "help for a command");
}

int main(int argc, char **argv)
{
	const struct ks_tool *t;
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return KS_EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return KS_EXIT_OK;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf("kscope %s\n", KSCOPE_VERSION);
		return KS_EXIT_OK;
	}
	if (!strcmp(cmd, "help")) {
		char *hargv[] = { argv[0], "-h", NULL };

		if (argc < 3) {
			usage(stdout);
			return KS_EXIT_OK;
		}
		if (!strcmp(argv[2], "features"))
			return ks_features_main(2, hargv);
		if (!strcmp(argv[2], "report"))
			return ks_report_main(2, hargv);
		if (!strcmp(argv[2], "export"))
			return ks_export_main(2, hargv);
		if (!strcmp(argv[2], "flamegraph"))
			return ks_flamegraph_main(2, hargv);
		t = ks_find_tool(argv[2]);
		if (!t) {
			fprintf(stderr, "kscope: unknown command '%s' "
				"(see 'kscope -h')\n", argv[2]);
			return KS_EXIT_USAGE;
		}
		return ks_tool_main(t, 2, hargv);
	}
	if (!strcmp(cmd, "features"))
		return ks_features_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return ks_report_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return ks_export_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "flamegraph"))
		return ks_flamegraph_main(argc - 1, argv + 1);
	t = ks_find_tool(cmd);
	if (!t) {
		fprintf(stderr, "kscope: unknown command '%s' (see 'kscope -h')\n",
			cmd);
		return KS_EXIT_USAGE;
	}
	return ks_tool_main(t, argc - 1, argv + 1);
}
