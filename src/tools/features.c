// SPDX-License-Identifier: GPL-2.0
/* kscope features: what each tool can do on this kernel, and why not. */
#include <string.h>
#include <sys/utsname.h>
#include "kscope.h"

int ks_features_main(int argc, char **argv)
{
	bool json = false;
	struct utsname u;
	int c;

	ks_set_prog("kscope features");
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ 0 },
	};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jhv", lo, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'v':
			break;
		case 'h':
			printf("Usage: kscope features [-j] [-v]\n\n"
			       "For each tool: the attach mode it would use on this "
			       "kernel,\nwhat each mode measures, and why unavailable "
			       "modes are unavailable.\nThe kernel is asked (BTF, "
			       "tracefs, an empty program loaded and\nattached for "
			       "a moment), not judged by its version; nothing "
			       "stays\nattached.\n\n"
			       "Options:\n"
			       "  -j, --json             one JSON object per tool "
			       "(docs/json.md)\n"
			       "  -v, --verbose          accepted, as every command "
			       "takes it\n"
			       "  -h, --help             this help\n\n"
			       "Examples:\n"
			       "  kscope features\n"
			       "  kscope features -j | jq -r '.tool + \" \" + "
			       "(.mode // \"-\")'\n");
			return KS_EXIT_OK;
		default:
			return ks_opt_error(c, argv);
		}
	}
	if (optind < argc)
		return ks_usage_error("unexpected argument '%s'",
				      argv[optind]), KS_EXIT_USAGE;
	ks_libbpf_setup(false);
	uname(&u);
	if (!json)
		printf("Kernel %s, BTF %s\n\n", u.release,
		       ks_kernel_has_btf() ? "yes" : "no");
	for (int i = 0; ks_tools[i]; i++) {
		const struct ks_tool *t = ks_tools[i];
		struct ks_probe p;
		struct ks_run r;
		int best;

		/* what the tool does with its default options */
		if (ks_run_init(&r, t))
			return KS_EXIT_RUNTIME;
		memset(&p, 0, sizeof(p));
		t->probe(&r, &p);
		best = ks_default_mode(&r, &p);
		ks_run_free(&r);
		if (json) {
			struct ks_json j;

			ks_json_init(&j, stdout);
			ks_json_obj_begin(&j);
			ks_json_kstr(&j, "tool", t->name);
			ks_json_key(&j, "mode");
			if (best >= 0)
				ks_json_str(&j, ks_mode_name(best));
			else
				ks_json_null(&j);
			ks_json_kstr(&j, "kernel", u.release);
			ks_json_key(&j, "modes");
			ks_json_obj_begin(&j);
			for (int m = 0; m < KS_MODE_MAX; m++) {
				ks_json_key(&j, ks_mode_name(m));
				ks_json_obj_begin(&j);
				ks_json_key(&j, "supported");
				ks_json_bool(&j, p.m[m].supported);
				ks_json_key(&j, "available");
				ks_json_bool(&j, p.m[m].available);
				if (p.m[m].available && p.m[m].measures)
					ks_json_kstr(&j, "measures",
						     p.m[m].measures);
				if (!p.m[m].available)
					ks_json_kstr(&j, "why", p.m[m].why);
				ks_json_obj_end(&j);
			}
			ks_json_obj_end(&j);
			ks_json_obj_end(&j);
			continue;
		}
		printf("%-12s %s\n", t->name, best >= 0 ?
		       ks_mode_name(best) : "UNAVAILABLE");
		for (int m = 0; m < KS_MODE_MAX; m++) {
			const struct ks_mode_avail *a = &p.m[m];

			printf("  %-11s %s%s%s\n", ks_mode_name(m),
			       a->available ? "yes" : "no",
			       a->available ? (a->measures ? ": " : "")
					    : (a->why[0] ? ": " : ""),
			       a->available ? (a->measures ? a->measures : "")
					    : a->why);
		}
	}
	fflush(stdout);
	return KS_EXIT_OK;
}
