// SPDX-License-Identifier: GPL-2.0
/*
 * floor: attach an empty BPF program (or, with -c, an event counter) to
 * each given tracepoint in one attach mode, print a "Tracing" line once
 * attached (the same ready marker kscope prints), wait for SIGINT/SIGTERM.
 *
 *   floor -m tp_btf|raw_tp|tracepoint
 *         [-c TGID | -s DEPTH | -l DEPTH | -p PROG] CATEGORY/NAME...
 *   floor -m uprobe -P PID [-c TGID] FUNC[%return]...
 *
 * With -c it prints {"events": N} on exit: the events TGID hit on those
 * tracepoints while attached.  With -s the program takes a kernel stack id
 * of up to DEPTH frames and nothing else.  With -l (a leak tracer's floor,
 * on memleak's hooks) an allocation hook takes the stack id and puts the
 * block's address in a hash of live blocks, a free hook (a name with
 * "free") deletes it: one hash shared by all the hooks.  -p picks one of floor.bpf.c's
 * ladder_* programs by name (tp_btf mode only).
 *
 * -m uprobe puts the program on functions of the C library process PID
 * runs (FUNC%return: on their return), the probes kscope memleak -p
 * puts there: the bare-uprobe floor of its user mode.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"
#include "memleak.h"

#define MAX_HOOKS 32

static volatile sig_atomic_t stop;
static int verbose;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int print_fn(enum libbpf_print_level level, const char *fmt,
		    va_list ap)
{
	if (level == LIBBPF_DEBUG && verbose < 2)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * Where -l finds the block's address on memleak's hooks: the argument
 * (tp_btf, raw_tp) and the u64 of the record after its common header
 * (tracepoint) that holds the pointer or pfn, as memleak reads them.
 */
static const struct {
	const char *hook;
	unsigned int arg, rec;
} live_addr[] = {
	{ "kmalloc", 1, 2 },		/* call_site, ptr */
	{ "kmem_cache_alloc", 1, 2 },
	{ "kfree", 1, 2 },
	{ "kmem_cache_free", 1, 2 },
	{ "mm_page_alloc", 0, 1 },	/* page; the record: pfn */
	{ "mm_page_free", 0, 1 },
	{ "percpu_alloc_percpu", 7, 7 },	/* ... base_addr, off, ptr */
	{ "percpu_free_percpu", 2, 3 },	/* base_addr, off, ptr */
};

static int live_addr_at(const char *hook, bool args)
{
	for (size_t i = 0; i < sizeof(live_addr) / sizeof(live_addr[0]); i++)
		if (!strcmp(hook, live_addr[i].hook))
			return args ? live_addr[i].arg : live_addr[i].rec;
	return -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: floor -m tp_btf|raw_tp|tracepoint "
		"[-c TGID | -s DEPTH | -l DEPTH | -p PROG] [-v] "
		"CATEGORY/NAME...\n"
		"       floor -m uprobe -P PID [-c TGID] [-v] "
		"FUNC[%%return]...\n");
	exit(2);
}

/* the C library process pid runs: the first mapping named libc.so* */
static int libc_of(int pid, char *path, size_t len)
{
	char maps[64], line[4096];
	FILE *f;
	int found = 0;

	snprintf(maps, sizeof(maps), "/proc/%d/maps", pid);
	f = fopen(maps, "r");
	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/'), *base;

		if (!p)
			continue;
		p[strcspn(p, "\n")] = '\0';
		base = strrchr(p, '/') + 1;
		if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5)) {
			snprintf(path, len, "%s", p);
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* where memleak puts func's entry probe (memleak_entry_offset()), read
 * from this process's own copy of the C library: the same file as the
 * workload's (checked by the caller); a floor probing free() on its first
 * instruction would pay a single-step kscope does not */
static unsigned long probe_offset(const char *func)
{
	const unsigned char *h = dlsym(RTLD_DEFAULT, func);

	return h ? memleak_entry_offset(h) : 0;
}

static int attach_uprobes(struct floor_bpf **skel, int n, char **hooks,
			  int pid, unsigned int tgid)
{
	char lib[4096], mine[4096];
	int i;

	if (libc_of(pid, lib, sizeof(lib))) {
		fprintf(stderr, "floor: no C library mapped in process %d\n",
			pid);
		return 1;
	}
	if (libc_of(getpid(), mine, sizeof(mine)) || strcmp(lib, mine)) {
		fprintf(stderr, "floor: process %d runs %s, not this floor's C "
			"library\n", pid, lib);
		return 1;
	}
	for (i = 0; i < n; i++) {
		char func[128], *ret;
		struct bpf_program *p, *keep;
		struct bpf_link *link;
		unsigned long off = 0;
		LIBBPF_OPTS(bpf_uprobe_opts, o);

		snprintf(func, sizeof(func), "%s", hooks[i]);
		ret = strchr(func, '%');
		if (ret) {
			if (strcmp(ret, "%return"))
				usage();
			*ret = '\0';
			o.retprobe = true;
		} else {
			off = probe_offset(func);
			if (verbose && off)
				fprintf(stderr, "floor: %s probed at +%lu\n",
					func, off);
		}
		o.func_name = func;
		skel[i] = floor_bpf__open();
		if (!skel[i]) {
			fprintf(stderr, "floor: cannot open BPF object\n");
			return 1;
		}
		skel[i]->rodata->target_tgid = tgid;
		keep = tgid ? skel[i]->progs.count_up : skel[i]->progs.empty_up;
		bpf_object__for_each_program(p, skel[i]->obj)
			bpf_program__set_autoload(p, p == keep);
		bpf_map__set_value_size(skel[i]->maps.stacks, sizeof(__u64));
		bpf_map__set_max_entries(skel[i]->maps.stacks, 1);
		bpf_map__set_max_entries(skel[i]->maps.lhash, 1);
		bpf_map__set_max_entries(skel[i]->maps.lpcpu, 1);
		if (floor_bpf__load(skel[i])) {
			fprintf(stderr, "floor: %s: load failed\n", hooks[i]);
			return 1;
		}
		link = bpf_program__attach_uprobe_opts(keep, pid, lib, off, &o);
		if (!link) {
			fprintf(stderr, "floor: %s in %s: attach failed: %s\n",
				hooks[i], lib, strerror(errno));
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct floor_bpf *skel[MAX_HOOKS] = { NULL };
	const char *mode = NULL;
	unsigned long long total = 0;
	unsigned int tgid = 0, depth = 0;
	const char *what = "an empty", *pick = NULL;
	int opt, i, n, err = 0, pid = 0, live_fd = -1;
	bool live = false;

	while ((opt = getopt(argc, argv, "m:c:s:l:p:P:vh")) != -1) {
		switch (opt) {
		case 'm': mode = optarg; break;
		case 'c': tgid = strtoul(optarg, NULL, 10); break;
		case 'l': live = true; depth = strtoul(optarg, NULL, 10); break;
		case 's': depth = strtoul(optarg, NULL, 10); break;
		case 'p': pick = optarg; break;
		case 'P': pid = atoi(optarg); break;
		case 'v': verbose++; break;
		default: usage();
		}
	}
	n = argc - optind;
	if (!mode || n < 1 || n > MAX_HOOKS || depth > 127 || (tgid && depth))
		usage();
	if (pick && (tgid || depth || strcmp(mode, "tp_btf")))
		usage();
	if (live && !depth)
		usage();
	if (pick)
		what = pick;
	else if (live)
		what = "a stack-taking, live-block-keeping";
	else if (tgid)
		what = "a counting";
	else if (depth)
		what = "a stack-taking";
	libbpf_set_print(print_fn);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!strcmp(mode, "uprobe")) {
		if (pid <= 0 || depth || pick)
			usage();
		if (attach_uprobes(skel, n, argv + optind, pid, tgid))
			return 1;
		goto attached;
	}
	if (pid || (strcmp(mode, "tp_btf") && strcmp(mode, "raw_tp") &&
		    strcmp(mode, "tracepoint")))
		usage();

	for (i = 0; i < n; i++) {
		char cat[64], *name;
		struct bpf_program *p, *keep;
		struct bpf_link *link;

		snprintf(cat, sizeof(cat), "%s", argv[optind + i]);
		name = strchr(cat, '/');
		if (!name) {
			fprintf(stderr, "floor: %s: want CATEGORY/NAME\n", cat);
			return 2;
		}
		*name++ = '\0';
		skel[i] = floor_bpf__open();
		if (!skel[i]) {
			fprintf(stderr, "floor: cannot open BPF object\n");
			return 1;
		}
		skel[i]->rodata->target_tgid = tgid;
		if (live) {
			char prog[32];

			snprintf(prog, sizeof(prog), "live_%s_%s",
				 strstr(name, "free") ? "free" : "alloc",
				 !strcmp(mode, "tp_btf") ? "btf" :
				 !strcmp(mode, "raw_tp") ? "raw" : "tp");
			keep = bpf_object__find_program_by_name(skel[i]->obj,
								prog);
			err = live_addr_at(name, strcmp(mode, "tracepoint"));
			if (err < 0) {
				fprintf(stderr, "floor: -l: no address known "
					"on %s\n", name);
				return 2;
			}
			skel[i]->rodata->addr_at = err;
			err = 0;
			if (live_fd >= 0 &&
			    bpf_map__reuse_fd(skel[i]->maps.live, live_fd)) {
				fprintf(stderr, "floor: cannot share the live "
					"map\n");
				return 1;
			}
		} else if (!strcmp(mode, "tp_btf"))
			keep = tgid ? skel[i]->progs.count_btf :
			       depth ? skel[i]->progs.stack_btf :
				       skel[i]->progs.empty_btf;
		else if (!strcmp(mode, "raw_tp"))
			keep = tgid ? skel[i]->progs.count_raw :
			       depth ? skel[i]->progs.stack_raw :
				       skel[i]->progs.empty_raw;
		else
			keep = tgid ? skel[i]->progs.count_tp :
			       depth ? skel[i]->progs.stack_tp :
				       skel[i]->progs.empty_tp;
		if (pick) {
			keep = bpf_object__find_program_by_name(skel[i]->obj,
								pick);
			if (!keep || strncmp(pick, "ladder_", 7)) {
				fprintf(stderr, "floor: no program %s\n", pick);
				return 2;
			}
		} else {
			bpf_map__set_max_entries(skel[i]->maps.lhash, 1);
			bpf_map__set_max_entries(skel[i]->maps.lpcpu, 1);
		}
		if (!live)
			bpf_map__set_max_entries(skel[i]->maps.live, 1);
		bpf_object__for_each_program(p, skel[i]->obj)
			bpf_program__set_autoload(p, p == keep);
		/* one frame if unused: no memory wasted */
		bpf_map__set_value_size(skel[i]->maps.stacks,
					(depth ? depth : 1) * sizeof(__u64));
		if (!depth)
			bpf_map__set_max_entries(skel[i]->maps.stacks, 1);
		if (!strcmp(mode, "tp_btf"))
			err = bpf_program__set_attach_target(keep, 0, name);
		if (!err)
			err = floor_bpf__load(skel[i]);
		if (err) {
			fprintf(stderr, "floor: %s/%s: load failed: %s\n", cat,
				name, strerror(-err));
			return 1;
		}
		if (live && live_fd < 0)
			live_fd = bpf_map__fd(skel[i]->maps.live);
		if (!strcmp(mode, "tp_btf"))
			link = bpf_program__attach(keep);
		else if (!strcmp(mode, "raw_tp"))
			link = bpf_program__attach_raw_tracepoint(keep, name);
		else
			link = bpf_program__attach_tracepoint(keep, cat, name);
		if (!link) {
			fprintf(stderr, "floor: %s/%s: attach failed: %s\n",
				cat, name, strerror(errno));
			return 1;
		}
		/* the link lives until exit, like the tracer it stands for */
	}
attached:
	printf("Tracing %d hook%s in %s mode with %s program\n", n,
	       n == 1 ? "" : "s", mode, what);
	fflush(stdout);

	while (!stop)
		pause();

	if (tgid) {
		for (i = 0; i < n; i++)
			total += skel[i]->bss->events;
		printf("{\"events\":%llu}\n", total);
	}
	for (i = 0; i < n; i++)
		floor_bpf__destroy(skel[i]);
	return 0;
}
