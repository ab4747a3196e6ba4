// SPDX-License-Identifier: GPL-2.0
/*
 * kscope memleak: allocations still outstanding, per stack.
 *
 * Kernel mode (default): kmalloc, kmem_cache, page and per-CPU allocations
 * from the kmem/percpu tracepoints.  User mode (-p PID, or -- COMMAND):
 * uprobes on the allocator functions of the process's libc (or of the
 * program itself when it is statically linked), stacks symbolized with
 * libdwfl.  See docs/memleak.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "memleak.h"
#include "memleak.skel.h"

#define DEFAULT_MAX_ENTRIES	65536	/* outstanding allocations tracked */

enum {
	OPT_SAMPLE = 2000,
	OPT_KINDS,
	OPT_KERNEL,
	OPT_TOP,
	OPT_OBJ,
};

/* kernel kinds selectable with --kinds */
#define KIND_BIT(k)	(1u << (k))
#define ALL_KERNEL_KINDS (KIND_BIT(ML_KMALLOC) | KIND_BIT(ML_CACHE) | \
			  KIND_BIT(ML_PAGE) | KIND_BIT(ML_PERCPU))

static const char *const kind_names[ML_KIND_MAX] = {
	[ML_KMALLOC] = "kmalloc", [ML_CACHE] = "cache", [ML_PAGE] = "page",
	[ML_PERCPU] = "percpu", [ML_MALLOC] = "malloc", [ML_CALLOC] = "calloc",
	[ML_REALLOC] = "realloc", [ML_REALLOCARRAY] = "reallocarray",
	[ML_POSIX_MEMALIGN] = "posix_memalign",
	[ML_ALIGNED_ALLOC] = "aligned_alloc", [ML_MEMALIGN] = "memalign",
	[ML_VALLOC] = "valloc", [ML_PVALLOC] = "pvalloc", [ML_MMAP] = "mmap",
};

/* entry programs of user mode */
enum uprog {
	UP_MALLOC, UP_CALLOC, UP_REALLOC, UP_REALLOCARRAY, UP_POSIX_MEMALIGN,
	UP_ALIGNED, UP_MMAP, UP_FREE, UP_MUNMAP,
};

static const struct ufunc {
	const char *name;
	unsigned int kind;
	enum uprog prog;
	bool ret;		/* allocates: needs the return probe */
} ufuncs[] = {
	{ "malloc", ML_MALLOC, UP_MALLOC, true },
	{ "calloc", ML_CALLOC, UP_CALLOC, true },
	{ "realloc", ML_REALLOC, UP_REALLOC, true },
	{ "reallocarray", ML_REALLOCARRAY, UP_REALLOCARRAY, true },
	{ "posix_memalign", ML_POSIX_MEMALIGN, UP_POSIX_MEMALIGN, true },
	/* glibc's aligned_alloc is memalign: same address, probed once */
	{ "aligned_alloc", ML_ALIGNED_ALLOC, UP_ALIGNED, true },
	{ "memalign", ML_MEMALIGN, UP_ALIGNED, true },
	{ "valloc", ML_VALLOC, UP_MALLOC, true },
	{ "pvalloc", ML_PVALLOC, UP_MALLOC, true },
	{ "mmap", ML_MMAP, UP_MMAP, true },
	{ "free", 0, UP_FREE, false },
	{ "munmap", 0, UP_MUNMAP, false },
};
#define NUFUNCS (sizeof(ufuncs) / sizeof(ufuncs[0]))

/* ufuncs[]'s names, for the ELF scan (filled once) */
static const char *ufunc_names[NUFUNCS + 1];
/* what an object must define to be the allocator we probe */
static const char *const allocator_core[] = { "malloc", "free", NULL };

struct ml_state {
	/* options */
	bool kernel_forced;	/* --kernel */
	uint64_t older_ns;
	unsigned int sample;	/* 0: the default, 1 */
	unsigned int kinds;	/* kernel kinds, KIND_BIT()s; 0: all */
	const char *obj;	/* --obj */

	/* run */
	bool user;		/* user mode */
	bool percpu_ok[KS_MODE_MAX];	/* probe(): percpu hook usable */
	const char *bulk_free;	/* kprobe-able kmem_cache_free_bulk */
	struct memleak_bpf *skel;
	struct ks_usyms *us;
	struct ks_proc proc;	/* the traced process */
	char object[PATH_MAX];	/* the allocator object probed */
	char object_name[PATH_MAX];	/* ... as reports name it */
	int object_fd;		/* it, opened as -p's process sees it, or -1 */
	char exe[PATH_MAX];	/* the command's program */
	char what[PATH_MAX + 96];	/* the Tracing line's subject */
	char kind_label[ML_KIND_MAX][40];
	struct bpf_program *alloc_progs[16], *free_progs[16];
	int nalloc_progs, nfree_progs;
	/* ml_restart(): the counters as they were when the window opened */
	uint64_t stats_base[ML_ST_MAX], free_rec_base;
};

static bool user_mode(const struct ks_run *r)
{
	const struct ml_state *st = r->tool_state;

	return (r->o.pid || r->o.command) && !st->kernel_forced;
}

static unsigned int kinds_of(const struct ml_state *st)
{
	return st->kinds ? st->kinds : ALL_KERNEL_KINDS;
}

static void scan_object(const char *path, struct ks_elf_funcs *es)
{
	for (size_t k = 0; k < NUFUNCS; k++)
		ufunc_names[k] = ufuncs[k].name;
	memset(es, 0, sizeof(*es));
	es->names = ufunc_names;
	es->n = NUFUNCS;
	if (ks_elf_find_funcs(path, es))
		es->is_elf = false;
}

static bool defines_allocator(const struct ks_elf_funcs *es)
{
	for (int i = 0; allocator_core[i]; i++)
		if (!ks_elf_func_off(es, allocator_core[i]))
			return false;
	return true;
}

/* ---- options ------------------------------------------------------------ */

/* AGE: milliseconds, or a number with ms, s or m */
static int parse_age(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0))	/* !(v >= 0): NaN too */
		return -1;
	if (!*end || !strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "s"))
		v *= 1e9;
	else if (!strcmp(end, "m"))
		v *= 60e9;
	else
		return -1;
	/* in nanoseconds: a bound for every unit (1e9 minutes did not fit
	 * in 64 bits); 1e18 ns, 31 years, is past any uptime */
	if (!(v <= 1e18))
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

static int parse_kinds(struct ml_state *st, const char *arg)
{
	char buf[128], *save = NULL, *t;
	unsigned int k = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	for (t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < ML_KERNEL_KINDS; i++)
			if (!strcmp(t, kind_names[i]))
				break;
		if (i == ML_KERNEL_KINDS)
			return ks_usage_error("unknown kind '%s' (kmalloc, "
					      "cache, page, percpu)", t);
		k |= KIND_BIT(i);
	}
	if (!k)
		return ks_usage_error("--kinds needs at least one kind");
	st->kinds = k;
	return 0;
}

static int ml_parse_opt(struct ks_run *r, int c, const char *arg)
{
	struct ml_state *st = r->tool_state;
	long l;

	switch (c) {
	case 'o':
		if (parse_age(arg, &st->older_ns))
			return ks_usage_error("bad age '%s' (milliseconds, or "
					      "with ms, s or m)", arg);
		return 0;
	case OPT_SAMPLE:
		if (ks_parse_long(arg, 1, 1 << 30, &l))
			return ks_usage_error("bad --sample '%s' (1 or more)",
					      arg);
		st->sample = l;
		return 0;
	case OPT_KINDS:
		return parse_kinds(st, arg);
	case OPT_KERNEL:
		st->kernel_forced = true;
		return 0;
	case OPT_TOP:
		if (ks_parse_long(arg, 1, 1000000, &l))
			return ks_usage_error("bad --top '%s'", arg);
		r->o.top = l;
		return 0;
	case OPT_OBJ:
		st->obj = arg;
		return 0;
	}
	return ks_usage_error("unknown option");
}

static int ml_validate(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;
	bool user = user_mode(r);

	if (r->o.pid && r->o.command)
		return ks_usage_error("give -p PID or a COMMAND, not both");
	if (user && r->o.mode != KS_MODE_AUTO &&
	    r->o.mode != KS_MODE_UPROBE)
		return ks_usage_error("user mode (-p or COMMAND) uses uprobes; "
				      "--kernel traces the kernel's "
				      "allocations instead");
	if (!user && r->o.mode == KS_MODE_UPROBE)
		return ks_usage_error("uprobe mode traces a process: give -p "
				      "PID or -- COMMAND");
	if (user && st->kinds)
		return ks_usage_error("--kinds is for kernel mode");
	if (!user && st->obj)
		return ks_usage_error("--obj is for user mode");
	return 0;
}

/* ---- attach modes ------------------------------------------------------- */

static bool have_uprobes(char *why, size_t len)
{
	const char *tfs;
	char p[256];

	if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) == 0)
		return true;
	tfs = ks_tracefs();
	snprintf(p, sizeof(p), "%s/uprobe_events", tfs ? tfs : "/nonexistent");
	if (access(p, W_OK) == 0)
		return true;
	snprintf(why, len, "kernel has no uprobes (CONFIG_UPROBE_EVENTS off: "
		 "no uprobe PMU in /sys/bus/event_source/devices)");
	return false;
}

static bool raw_tps_ok(char *why, size_t len)
{
	static const char *const tps[] = { "kmalloc", "kmem_cache_alloc",
		"kfree", "kmem_cache_free", "mm_page_alloc", "mm_page_free",
		NULL };

	for (int i = 0; tps[i]; i++)
		if (!ks_can_raw_tp(tps[i], why, len))
			return false;
	if (ks_raw_tp_arg_index("kmem_cache_alloc", "kmem_cache") != 2) {
		snprintf(why, len, "kmem_cache_alloc tracepoint has no struct "
			 "kmem_cache * third argument on this kernel");
		return false;
	}
	if (ks_raw_tp_nargs("kmalloc") < 4 || ks_raw_tp_nargs("kfree") < 2) {
		snprintf(why, len, "kmalloc/kfree raw tracepoints have an "
			 "unexpected prototype");
		return false;
	}
	return true;
}

static bool tracepoints_ok(char *why, size_t len)
{
	static const char *const tps[] = { "kmalloc", "kmem_cache_alloc",
		"kfree", "kmem_cache_free", "mm_page_alloc", "mm_page_free",
		NULL };

	for (int i = 0; tps[i]; i++)
		if (!ks_can_tracepoint("kmem", tps[i], why, len))
			return false;
	return true;
}

/*
 * tp_btf programs read their arguments typed, and some kernels' verifiers
 * refuse a load of a "const void *" argument (kmalloc's and kfree's ptr)
 * as an invalid context access: 6.1 and 6.12 do, 6.18 reads it as a
 * number.  A three-instruction trial load of that read says which.
 */
static void ml_probe(const struct ks_run *r, struct ks_probe *p)
{
	static const char kmeasures[] = "allocations and frees at the kmem "
		"and percpu tracepoints";
	static const char umeasures[] = "calls to the process's allocator "
		"(libc malloc family, mmap); calls the allocator makes "
		"itself are not counted twice";
	struct ml_state *st = r->tool_state;
	bool user = user_mode(r);
	struct ks_mode_avail *m;
	char why[200] = "";
	bool pcpu_raw = ks_raw_tp_nargs("percpu_alloc_percpu") == 10 &&
			ks_raw_tp_nargs("percpu_free_percpu") == 3;

	for (int i = KS_MODE_FENTRY; i <= KS_MODE_KPROBE; i++)
		snprintf(p->m[i].why, sizeof(p->m[i].why), "not offered: the "
			 "kmem tracepoints see every allocation and free with "
			 "its address and size");

	/* what the kernel allows, whatever the options: kscope features
	 * reports it, and a kernel-mode run prefers the kernel modes
	 * (ml_validate refuses -m uprobe without a process) */
	m = &p->m[KS_MODE_UPROBE];
	ks_mode_set(m, have_uprobes(m->why, sizeof(m->why)), umeasures,
		    m->why);
	if (user) {
		/* the kernel modes don't apply to a user-mode run */
		for (int i = KS_MODE_TP_BTF; i <= KS_MODE_TRACEPOINT; i++)
			ks_mode_set(&p->m[i], false, NULL, "user mode (-p or "
				    "COMMAND) uses uprobes");
		return;
	}

	m = &p->m[KS_MODE_RAW_TP];
	if (raw_tps_ok(why, sizeof(why)))
		ks_mode_set(m, true, kmeasures, NULL);
	else
		ks_mode_set(m, false, NULL, why);
	st->percpu_ok[KS_MODE_RAW_TP] = pcpu_raw;

	m = &p->m[KS_MODE_TP_BTF];
	if (!p->m[KS_MODE_RAW_TP].available)
		ks_mode_set(m, false, NULL, p->m[KS_MODE_RAW_TP].why);
	else
		ks_mode_set(m, ks_can_tp_btf("kmalloc", m->why, sizeof(m->why)) &&
			    ks_tp_btf_reads_arg("kmalloc", 1, m->why,
					     sizeof(m->why)) &&
			    ks_tp_btf_reads_arg("kfree", 1, m->why,
					     sizeof(m->why)) &&
			    ks_tp_btf_reads_arg("kmem_cache_alloc", 1, m->why,
					     sizeof(m->why)) &&
			    ks_tp_btf_reads_arg("kmem_cache_free", 1, m->why,
					     sizeof(m->why)),
			    kmeasures, m->why);
	st->percpu_ok[KS_MODE_TP_BTF] = pcpu_raw;

	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, tracepoints_ok(why, sizeof(why)), kmeasures, why);
	st->percpu_ok[KS_MODE_TRACEPOINT] =
		ks_can_tracepoint("percpu", "percpu_alloc_percpu", why,
				  sizeof(why)) &&
		ks_can_tracepoint("percpu", "percpu_free_percpu", why,
				  sizeof(why));

	/* bulk frees fire no tracepoint: a kprobe sees them, if allowed */
	{
		static const char *const bulk[] = { "kmem_cache_free_bulk",
						    NULL };

		st->bulk_free = ks_first_kfunc(bulk);
		if (st->bulk_free && !ks_can_kprobe(st->bulk_free, why,
						    sizeof(why)))
			st->bulk_free = NULL;
	}
	if (st->bulk_free) {
		static const char bmeasures[] = "allocations and frees at the "
			"kmem and percpu tracepoints, bulk frees by kprobe";

		for (int i = KS_MODE_TP_BTF; i <= KS_MODE_TRACEPOINT; i++)
			if (p->m[i].available)
				p->m[i].measures = bmeasures;
	}
}

/* ---- which object is the allocator --------------------------------------- */

static bool path_defines_allocator(const char *path)
{
	return ks_elf_defines(path, allocator_core);
}

/* the probed object by its path (a command's, or --obj) */
static void set_object(struct ml_state *st, const char *path)
{
	snprintf(st->object, sizeof(st->object), "%s", path);
	snprintf(st->object_name, sizeof(st->object_name), "%s", path);
}

/* The allocator of a program about to run: itself when static, else the
 * first object in lookup order that defines malloc and free. */
static int object_for_exe(struct ml_state *st, const char *exe)
{
	struct ks_elf_funcs es;
	char **libs = NULL;
	int n;

	scan_object(exe, &es);
	if (!es.is_elf) {
		if (access(exe, R_OK))
			ks_err("cannot read %s: %s", exe, strerror(errno));
		else
			ks_err("%s is not an ELF program (a script?  trace "
			       "its interpreter: -- /bin/sh SCRIPT)", exe);
		return -1;
	}
	if (!es.has_interp || defines_allocator(&es)) {
		set_object(st, exe);
		return 0;
	}
	n = ks_loader_list(es.interp, exe, &libs);
	for (int i = 0; i < n; i++) {
		if (ks_is_loader(libs[i]) || !path_defines_allocator(libs[i]))
			continue;
		set_object(st, libs[i]);
		ks_strv_free(libs);
		return 0;
	}
	ks_strv_free(libs);
	ks_err("cannot find the allocator %s will use: %s --list %s names no "
	       "library defining malloc and free (use --obj PATH)", exe,
	       es.interp, exe);
	return -1;
}

/*
 * The probed object as an open file: its ELF is read, and its probes are
 * placed, through /proc/self/fd/N, the very file the process maps, while
 * reports and messages name it by its path.
 */
static void set_object_fd(struct ml_state *st, int fd, const char *name)
{
	if (st->object_fd >= 0)
		close(st->object_fd);
	st->object_fd = fd;
	snprintf(st->object, sizeof(st->object), "/proc/self/fd/%d", fd);
	snprintf(st->object_name, sizeof(st->object_name), "%s", name);
}

/*
 * The allocator of a running process, from its mappings: the program
 * itself if it defines malloc, then an interposer (jemalloc, tcmalloc,
 * preloaded or linked), then libc.  Each is opened as the process sees
 * it: the program through /proc/PID/exe, libraries below its root
 * (ks_open_in_root()).  The path its maps show is the path in its own
 * mount namespace, which in a container names another file in ours (the
 * host's libc: probes there never fire, a silent empty run).
 */
static int object_for_pid(struct ml_state *st, pid_t pid)
{
	char p[64], exe[PATH_MAX], line[4352], *rootpath = NULL;
	char fdp[32], libc[PATH_MAX] = "", other[PATH_MAX] = "";
	int rootfd, fd, libc_fd = -1, other_fd = -1;
	ssize_t n;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
	n = readlink(p, exe, sizeof(exe) - 1);
	fd = n > 0 ? open(p, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		exe[n] = '\0';
		snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
		if (path_defines_allocator(fdp)) {
			set_object_fd(st, fd, exe);
			return 0;
		}
		close(fd);
	}
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
	f = fopen(p, "re");
	if (!f) {
		ks_err("cannot read %s: %s", p, strerror(errno));
		return -1;
	}
	rootfd = ks_pid_root(pid, &rootpath);
	while (fgets(line, sizeof(line), f)) {
		char *path = strchr(line, '/'), *nl;
		bool is_libc;

		if (!path || !strstr(line, " r-xp "))
			continue;
		nl = strchr(path, '\n');
		if (nl)
			*nl = '\0';
		if (ks_is_loader(path) || (n > 0 && !strcmp(path, exe)))
			continue;
		is_libc = ks_is_libc(path);
		if (is_libc ? libc_fd >= 0 : other_fd >= 0)
			continue;
		fd = ks_open_in_root(rootfd, rootpath, path);
		if (fd < 0)
			continue;
		snprintf(fdp, sizeof(fdp), "/proc/self/fd/%d", fd);
		if (!path_defines_allocator(fdp)) {
			close(fd);
		} else if (is_libc) {
			libc_fd = fd;
			snprintf(libc, sizeof(libc), "%s", path);
		} else {
			other_fd = fd;
			snprintf(other, sizeof(other), "%s", path);
		}
	}
	fclose(f);
	if (rootfd >= 0)
		close(rootfd);
	free(rootpath);
	if (other_fd >= 0) {
		set_object_fd(st, other_fd, other);
		if (libc_fd >= 0)
			close(libc_fd);
	} else if (libc_fd >= 0) {
		set_object_fd(st, libc_fd, libc);
	} else {
		ks_err("process %d maps no object defining malloc and free "
		       "(use --obj PATH)", (int)pid);
		return -1;
	}
	return 0;
}

/* ---- start -------------------------------------------------------------- */

/* 1 in N allocations tracked: --sample, or in kscope report (kernel mode)
 * KS_REPORT_SAMPLE */
static unsigned int ml_sample(const struct ks_run *r)
{
	const struct ml_state *st = r->tool_state;

	if (st->sample)
		return st->sample;
	return r->in_report && !st->user ? KS_REPORT_SAMPLE : 1;
}

/* kernel mode, unsampled: every allocation walks its stack
 * (ks_default_mode()) */
static bool ml_walks(const struct ks_run *r)
{
	return !user_mode(r) && ml_sample(r) <= 1;
}

static int set_common(struct ks_run *r, uint32_t stack_bytes)
{
	struct ml_state *st = r->tool_state;
	struct memleak_bpf *sk = st->skel;
	long stacks = r->o.max_entries / 4;

	if (ks_bpf_prepare(r, sk->obj))
		return -1;
	sk->rodata->user_mode = st->user;
	sk->rodata->sample_every = ml_sample(r);
	sk->rodata->stack_bytes = stack_bytes;
	sk->rodata->page_size = sysconf(_SC_PAGESIZE);
	bpf_map__set_max_entries(sk->maps.allocs, r->o.max_entries);
	if (stacks < 1024)
		stacks = 1024;
	bpf_map__set_max_entries(sk->maps.stacks, stacks);
	bpf_map__set_value_size(sk->maps.stacks, stack_bytes);
	if (st->user) {
		bpf_map__set_max_entries(sk->maps.kstackids, 1);
		bpf_map__set_value_size(sk->maps.kstackids, sizeof(uint64_t));
	} else {
		/* kernel stacks go to the stack-trace map first; the hash
		 * map takes those it refuses (common.bpf.h) */
		bpf_map__set_max_entries(sk->maps.kstackids,
					 ks_stackid_entries(stacks));
		bpf_map__set_value_size(sk->maps.kstackids, stack_bytes);
	}
	/* one entry per thread inside an allocator call: as many threads as
	 * allocations tracked, up to the 8192 the object declares */
	if (!st->user)
		bpf_map__set_max_entries(sk->maps.pending, 1);
	else if (r->o.max_entries < (long)bpf_map__max_entries(sk->maps.pending))
		bpf_map__set_max_entries(sk->maps.pending, r->o.max_entries);
	return 0;
}

static int start_kernel(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;
	struct memleak_bpf *sk = st->skel;
	struct bpf_program *keep[16] = { NULL }, **a, **f;
	int n = 0;
	unsigned int kinds = kinds_of(st);
	bool slab = kinds & (KIND_BIT(ML_KMALLOC) | KIND_BIT(ML_CACHE));

	/* room for the tracing frames stripped at print time */
	if (set_common(r, ks_stack_slots(r) * 8))
		return -1;
	a = st->alloc_progs;
	f = st->free_progs;
#define PICK(alloc_p, free_p, on) do {					\
		if (on) {						\
			if (alloc_p)					\
				keep[n++] = a[st->nalloc_progs++] = alloc_p; \
			if (free_p)					\
				keep[n++] = f[st->nfree_progs++] = free_p; \
		}							\
	} while (0)
	/* a kfree() may free any slab object, so both slab frees go on
	 * whenever either slab kind is traced */
	if (r->mode == KS_MODE_TP_BTF) {
		PICK(sk->progs.kmalloc_btf, NULL, kinds & KIND_BIT(ML_KMALLOC));
		PICK(sk->progs.cache_alloc_btf, NULL, kinds & KIND_BIT(ML_CACHE));
		PICK(NULL, sk->progs.kfree_btf, slab);
		PICK(NULL, sk->progs.cache_free_btf, slab);
		PICK(sk->progs.page_alloc_btf, sk->progs.page_free_btf,
		     kinds & KIND_BIT(ML_PAGE));
		PICK(sk->progs.pcpu_alloc_btf, sk->progs.pcpu_free_btf,
		     (kinds & KIND_BIT(ML_PERCPU)) && st->percpu_ok[r->mode]);
	} else if (r->mode == KS_MODE_RAW_TP) {
		PICK(sk->progs.kmalloc_raw, NULL, kinds & KIND_BIT(ML_KMALLOC));
		PICK(sk->progs.cache_alloc_raw, NULL, kinds & KIND_BIT(ML_CACHE));
		PICK(NULL, sk->progs.kfree_raw, slab);
		PICK(NULL, sk->progs.cache_free_raw, slab);
		PICK(sk->progs.page_alloc_raw, sk->progs.page_free_raw,
		     kinds & KIND_BIT(ML_PAGE));
		PICK(sk->progs.pcpu_alloc_raw, sk->progs.pcpu_free_raw,
		     (kinds & KIND_BIT(ML_PERCPU)) && st->percpu_ok[r->mode]);
	} else {
		PICK(sk->progs.kmalloc_tp, NULL, kinds & KIND_BIT(ML_KMALLOC));
		PICK(sk->progs.cache_alloc_tp, NULL, kinds & KIND_BIT(ML_CACHE));
		PICK(NULL, sk->progs.kfree_tp, slab);
		PICK(NULL, sk->progs.cache_free_tp, slab);
		PICK(sk->progs.page_alloc_tp, sk->progs.page_free_tp,
		     kinds & KIND_BIT(ML_PAGE));
		PICK(sk->progs.pcpu_alloc_tp, sk->progs.pcpu_free_tp,
		     (kinds & KIND_BIT(ML_PERCPU)) && st->percpu_ok[r->mode]);
	}
	PICK(NULL, sk->progs.free_bulk_kp, slab && st->bulk_free);
#undef PICK
	ks_bpf_only(sk->obj, keep);
	if (ks_bpf_load(r, sk->obj))
		return -1;
	for (int i = 0; keep[i]; i++) {
		int err = keep[i] == sk->progs.free_bulk_kp ?
			ks_bpf_attach_kprobe(r, keep[i], st->bulk_free, false) :
			ks_bpf_attach(r, keep[i]);

		if (err)
			return -1;
	}
	if ((kinds & KIND_BIT(ML_PERCPU)) && !st->percpu_ok[r->mode])
		fprintf(stderr, "%s: note: percpu allocations not traced: no "
			"usable percpu tracepoints on this kernel\n",
			r->tool->name);
	return 0;
}

static struct bpf_program *uprog_of(struct memleak_bpf *sk, enum uprog p)
{
	switch (p) {
	case UP_MALLOC: return sk->progs.malloc_enter;
	case UP_CALLOC: return sk->progs.calloc_enter;
	case UP_REALLOC: return sk->progs.realloc_enter;
	case UP_REALLOCARRAY: return sk->progs.reallocarray_enter;
	case UP_POSIX_MEMALIGN: return sk->progs.posix_memalign_enter;
	case UP_ALIGNED: return sk->progs.aligned_enter;
	case UP_MMAP: return sk->progs.mmap_enter;
	case UP_FREE: return sk->progs.free_enter;
	case UP_MUNMAP: return sk->progs.munmap_enter;
	}
	return NULL;
}

static int attach_uprobe(struct ks_run *r, struct bpf_program *p, bool ret,
			 uint64_t off, uint64_t cookie, const char *name)
{
	struct ml_state *st = r->tool_state;
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret, .bpf_cookie = cookie);
	char what[PATH_MAX + 64];

	/* removing each uprobe at the end waits for an RCU-tasks grace
	 * period (~0.1 s, serialized by the kernel): a run takes about two
	 * seconds to detach after its final report */
	snprintf(what, sizeof(what), "%s%s in %.*s", ret ? "return of " : "",
		 name, PATH_MAX, st->object_name);
	return ks_bpf_keep_link(r, bpf_program__attach_uprobe_opts(p,
				st->proc.pid, st->object, off, &o), what);
}

static int start_user(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;
	struct memleak_bpf *sk = st->skel;
	struct bpf_program *keep[16] = { NULL };
	struct ks_elf_funcs es;
	bool used[NUFUNCS] = { false };
	int n = 0;

	scan_object(st->object, &es);
	if (!defines_allocator(&es)) {
		ks_err("%s does not define malloc and free", st->object_name);
		return -1;
	}
	/* one probe per address: glibc aliases aligned_alloc and memalign */
	for (size_t k = 0; k < NUFUNCS; k++) {
		if (!es.off[k])
			continue;
		snprintf(st->kind_label[ufuncs[k].kind],
			 sizeof(st->kind_label[0]), "%s", ufuncs[k].name);
		for (size_t j = 0; j < k; j++) {
			if (es.off[j] != es.off[k] || !used[j])
				continue;
			/* label the first kind with both names */
			size_t l = strlen(st->kind_label[ufuncs[j].kind]);

			snprintf(st->kind_label[ufuncs[j].kind] + l,
				 sizeof(st->kind_label[0]) - l, "/%s",
				 ufuncs[k].name);
			es.off[k] = 0;
		}
		if (es.off[k])
			used[k] = true;
	}
	if (set_common(r, r->o.stack_depth * 8))
		return -1;
	for (size_t k = 0; k < NUFUNCS; k++) {
		struct bpf_program *p = uprog_of(sk, ufuncs[k].prog);
		bool dup = false;

		if (!used[k])
			continue;
		for (int i = 0; i < n; i++)
			dup |= keep[i] == p;
		if (!dup)
			keep[n++] = p;
	}
	keep[n++] = sk->progs.alloc_ret;
	keep[n++] = sk->progs.ml_exec;
	ks_bpf_only(sk->obj, keep);
	if (ks_bpf_load(r, sk->obj))
		return -1;
	/* before the allocator's probes: an exec in between is seen */
	if (ks_bpf_attach(r, sk->progs.ml_exec))
		return -1;
	/*
	 * Return probes first: in a running process (-p), an entry probe
	 * without its return probe would leave calls in flight that never
	 * end.  Calls already in flight when the return probe arrives just
	 * return unseen.
	 */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < NUFUNCS; k++) {
			const struct ufunc *u = &ufuncs[k];
			uint64_t off = es.off[k];
			int err;

			if (!used[k] || (pass == 0 && !u->ret))
				continue;
			if (!u->ret)
				off += memleak_entry_offset(es.head[k]);
			if (pass == 0)
				err = attach_uprobe(r, sk->progs.alloc_ret,
						    true, off, u->kind,
						    u->name);
			else
				err = attach_uprobe(r, uprog_of(sk, u->prog),
						    false, off, u->kind,
						    u->name);
			if (err)
				return -1;
		}
	}
	return 0;
}

static int ml_start(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;

	st->user = user_mode(r);
	ks_proc_init(&st->proc);
	st->object_fd = -1;
	snprintf(st->what, sizeof(st->what), "outstanding kernel allocations "
		 "(kmalloc, kmem_cache, pages, percpu)");
	r->what = st->what;
	if (r->o.command) {
		int err = ks_find_program(r->o.command[0], st->exe,
					  sizeof(st->exe));

		if (err) {
			ks_err("cannot run %s: %s", r->o.command[0],
			       strerror(-err));
			return -1;
		}
	} else if (r->o.pid) {
		r->o.pid = ks_tgid_of(r->o.pid);
	}
	if (st->user && st->obj) {
		set_object(st, st->obj);
		/* probes on an object the process never maps never fire:
		 * a silent empty run (a command is checked at its end) */
		if (!r->o.command &&
		    ks_proc_maps_file(r->o.pid, st->obj) == 0) {
			ks_err("process %d does not map %s (--obj names the "
			       "allocator object it uses: see /proc/%d/maps)",
			       (int)r->o.pid, st->obj, (int)r->o.pid);
			return -1;
		}
	}
	else if (st->user && r->o.command && object_for_exe(st, st->exe))
		return -1;
	else if (st->user && !r->o.command && object_for_pid(st, r->o.pid))
		return -1;
	if (r->o.command) {
		/* stdout carries only data in JSON and folded mode, unless
		 * the reports go to an --output file */
		if (ks_proc_spawn(&st->proc, st->exe, r->o.command,
				  ks_out_is_data(&r->o) && !r->o.output))
			return -1;
		r->o.pid = st->proc.pid;	/* the BPF filter */
	} else if (r->o.pid) {
		ks_proc_watch(&st->proc, r->o.pid);
	}
	if (st->user) {
		char comm[32];

		ks_comm_of(st->proc.pid, comm, sizeof(comm));
		snprintf(st->what, sizeof(st->what),
			 "outstanding allocations of %s %d%s%s%s (%s)",
			 r->o.command ? "command" : "PID", (int)st->proc.pid,
			 r->o.command ? "" : " (", r->o.command ? "" : comm,
			 r->o.command ? "" : ")", st->object_name);
	}

	st->skel = memleak_bpf__open();
	if (!st->skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return -1;
	}
	if (st->user ? start_user(r) : start_kernel(r))
		return -1;
	if (st->user) {
		st->us = ks_usyms_new(st->proc.pid);
		/* a command's libraries are mapped after exec: follow its
		 * mmaps so they can be named even after it exited */
		if (st->us && ks_usyms_follow(st->us) && r->o.verbose)
			fprintf(stderr, "memleak: cannot follow mmaps of %d: "
				"symbols from /proc only\n",
				(int)st->proc.pid);
	}
	if (st->proc.ours && ks_proc_release(&st->proc, st->exe))
		return -1;
	return 0;
}

/* ---- report ------------------------------------------------------------- */

struct arec {
	uint64_t addr;
	struct memleak_alloc a;
};

struct group {
	uint64_t stack;
	unsigned int kind;
	uint64_t bytes, allocs, oldest_ts;
};

static int by_stack(const void *x, const void *y)
{
	const struct arec *a = x, *b = y;

	if (a->a.stack != b->a.stack)
		return a->a.stack < b->a.stack ? -1 : 1;
	return (int)a->a.kind - (int)b->a.kind;
}

static int by_bytes(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes < b->bytes ? 1 : -1;
	if (a->allocs != b->allocs)
		return a->allocs < b->allocs ? 1 : -1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/* Every outstanding allocation (in batches where the kernel has them:
 * frees delete elements while we read, see ks_map_dump()). */
static int dump_allocs(struct ml_state *st, struct arec **out, size_t *n)
{
	int fd = bpf_map__fd(st->skel->maps.allocs);
	struct memleak_alloc *v;
	struct arec *recs;
	uint64_t *k;

	if (ks_map_dump(fd, sizeof(*k), sizeof(*v), (void **)&k, (void **)&v,
			n))
		return -1;
	recs = malloc((*n ? *n : 1) * sizeof(*recs));
	for (size_t i = 0; recs && i < *n; i++)
		recs[i] = (struct arec){ k[i], v[i] };
	free(k);
	free(v);
	*out = recs;
	return recs ? 0 : -1;
}

static uint64_t recursion_misses(struct bpf_program **p, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		int fd = bpf_program__fd(p[i]);

		sum += ks_prog_recursion_misses(&fd, 1);
	}
	return sum;
}

/* tool->recursion: the allocation hooks only (frees: missed_recursion) */
static uint64_t ml_recursion(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;

	return st->skel ? recursion_misses(st->alloc_progs,
					   st->nalloc_progs) : 0;
}

static const char *kind_label(const struct ml_state *st, unsigned int k)
{
	if (k >= ML_KIND_MAX)
		return "?";
	return st->kind_label[k][0] ? st->kind_label[k] : kind_names[k];
}

/* frames of a stack: kernel ones without the tracing machinery on top,
 * user ones up to the first that is in no mapped object; -1: none */
static int stack_frames(struct ks_run *r, uint64_t id, uint64_t *ips)
{
	struct ml_state *st = r->tool_state;
	uint64_t buf[KS_MAX_STACK_DEPTH] = { 0 };
	int slots = bpf_map__value_size(st->skel->maps.stacks) / 8, n = 0;

	if (ks_stack_lookup(bpf_map__fd(id & KS_STACKID_MAP ?
					st->skel->maps.kstackids :
					st->skel->maps.stacks), id, buf))
		return -1;
	if (!st->user)
		return ks_kstack_clean(r, buf, slots, ips, KS_MAX_STACK_DEPTH);
	for (int i = 0; i < slots && buf[i] && n < r->o.stack_depth; i++) {
		struct ks_usym s;

		/* a frame pointer chain through code built without frame
		 * pointers ends in garbage: stop at the first frame that
		 * is in no mapped object */
		if (n && st->us && ks_usyms_lookup(st->us, buf[i], true, &s))
			break;
		ips[n++] = buf[i];
	}
	return n;
}

enum { C_BYTES, C_ALLOCS, C_KIND, C_OLDEST, C_STACK };

static const struct ks_col ml_cols[] = {
	[C_BYTES] = { "bytes", "BYTES", KS_CT_U64, 12, .unit = KS_UNIT_BYTES,
		      .flags = KS_CF_WEIGHT, .sample = "inuse_space" },
	[C_ALLOCS] = { "allocs", "ALLOCS", KS_CT_U64, 9,
		       .unit = KS_UNIT_COUNT, .flags = KS_CF_COUNT,
		       .sample = "inuse_objects" },
	[C_KIND] = { "kind", "KIND", KS_CT_STR, -14, .flags = KS_CF_KEY },
	[C_OLDEST] = { "oldest_ms", "OLDEST_ms", KS_CT_U64, 10,
		       .unit = KS_UNIT_MS },
	[C_STACK] = { "stack", "STACK", KS_CT_STACK, 0, .flags = KS_CF_KEY },
};

/* when the target last exec'd (0: not since attaching), read from the map:
 * the object was loaded without the skeleton, whose bss pointer is not
 * the map's memory then */
static uint64_t target_exec_ns(const struct ml_state *st)
{
	struct memleak_bpf__bss b = { 0 };
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.bss), &zero, &b))
		return 0;
	return b.exec_ns;
}

static size_t group_allocs(struct ml_state *st, struct arec *recs, size_t n,
			   uint64_t now, struct group *g)
{
	size_t ng = 0;
	uint64_t exec_ns = st->user ? target_exec_ns(st) : 0;

	qsort(recs, n, sizeof(*recs), by_stack);
	for (size_t i = 0; i < n; i++) {
		const struct memleak_alloc *a = &recs[i].a;
		struct group *c;

		if (st->older_ns &&
		    (a->ts_ns > now || now - a->ts_ns < st->older_ns))
			continue;
		/* the old image's, gone with it at the target's exec */
		if (a->ts_ns < exec_ns)
			continue;
		c = ng ? &g[ng - 1] : NULL;
		if (!c || c->stack != a->stack || c->kind != a->kind) {
			c = &g[ng++];
			*c = (struct group){ a->stack, a->kind, 0, 0, a->ts_ns };
		}
		c->bytes += a->size;
		c->allocs++;
		if (a->ts_ns < c->oldest_ts)
			c->oldest_ts = a->ts_ns;
	}
	qsort(g, ng, sizeof(*g), by_bytes);
	return ng;
}

static void ml_collect(struct ks_run *r, struct ks_report *rep)
{
	struct ml_state *st = r->tool_state;
	struct ks_proc *pr = &st->proc;
	struct arec *recs = NULL;
	struct group *g;
	struct ks_table *t;
	size_t n = 0, ng;
	uint64_t stats[ML_ST_MAX], now, tot_bytes = 0, tot_allocs = 0, free_rec;
	uint64_t ips[KS_MAX_STACK_DEPTH];
	unsigned int sample = ml_sample(r);
	struct timespec ts;
	char b1[32];

	if (st->us)
		ks_usyms_update(st->us);	/* mappings as of now, or at exit */
	if (dump_allocs(st, &recs, &n))
		n = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	g = calloc(n ? n : 1, sizeof(*g));
	t = ks_table_add(rep, "entries", ml_cols,
			 sizeof(ml_cols) / sizeof(ml_cols[0]));
	ng = g && recs ? group_allocs(st, recs, n, now, g) : 0;
	free(recs);
	if (t) {
		t->what = "stacks";
		t->usyms = st->us;
	}
	for (size_t i = 0; t && i < ng; i++) {
		int nf = stack_frames(r, g[i].stack, ips);
		long row;

		if (nf < 0) {
			/* stacks_full: counted when it happened */
			nf = 0;
		}
		row = ks_row_add(t);
		if (row < 0)
			break;
		ks_cell_u64(t, row, C_BYTES, g[i].bytes);
		ks_cell_u64(t, row, C_ALLOCS, g[i].allocs);
		ks_cell_str(t, row, C_KIND, kind_label(st, g[i].kind));
		ks_cell_u64(t, row, C_OLDEST, now > g[i].oldest_ts ?
			    (now - g[i].oldest_ts) / 1000000 : 0);
		ks_cell_stack(t, row, C_STACK, ips, nf, st->user);
		tot_bytes += g[i].bytes;
		tot_allocs += g[i].allocs;
	}
	free(g);
	ks_percpu_sum(bpf_map__fd(st->skel->maps.stats), ML_ST_MAX, stats);
	for (int i = 0; i < ML_ST_MAX; i++)
		stats[i] -= st->stats_base[i];
	free_rec = recursion_misses(st->free_progs, st->nfree_progs) -
		   st->free_rec_base;

	if (t && pr->exited && pr->ours && rep->final)
		ks_table_line(t, false, "Command %d exited (%s %d); "
			      "allocations it never freed:", (int)pr->pid,
			      WIFSIGNALED(pr->status) ? "signal" : "status",
			      WIFSIGNALED(pr->status) ? WTERMSIG(pr->status) :
			      WEXITSTATUS(pr->status));
	else if (t && pr->exited && rep->final)
		ks_table_line(t, false, "Process %d exited; allocations it "
			      "never freed:", (int)pr->pid);
	if (t && sample > 1)
		ks_table_line(t, false, "(1 in %u allocations sampled: "
			      "multiply bytes and allocations by %u to "
			      "estimate)", sample, sample);
	if (st->user) {
		ks_report_u64(rep, "pid", pr->pid);
		ks_report_str(rep, "object", st->object_name);
		if (pr->exited && pr->ours)
			ks_report_i64(rep, "exit_status",
				      WIFSIGNALED(pr->status) ?
				      -WTERMSIG(pr->status) :
				      WEXITSTATUS(pr->status));
	}
	/* --obj naming an object the process never mapped (a command
	 * checked now, after it ran): not one call was seen */
	if (st->user && st->obj && rep->final && st->us &&
	    !stats[ML_ST_ALLOCS] && !stats[ML_ST_FREES] &&
	    !stats[ML_ST_FREE_UNKNOWN] && !ks_usyms_has_module(st->us,
							     st->object_name))
		ks_run_note(r, "no allocator call seen: %d never mapped %s "
			    "(--obj names the allocator object the process "
			    "uses)", (int)pr->pid, st->object_name);
	ks_report_u64(rep, "sample", sample);
	ks_report_u64(rep, "older_ms", st->older_ns / 1000000);
	ks_report_u64(rep, "total_bytes", tot_bytes);
	ks_report_u64(rep, "total_allocs", tot_allocs);
	ks_report_u64(rep, "stacks", ng);
	ks_report_u64(rep, "tracked_allocs", stats[ML_ST_ALLOCS]);
	if (!st->user) {
		/* every allocation, sampled or not: exact */
		ks_report_u64(rep, "allocated.count", stats[ML_ST_SEEN]);
		ks_report_u64(rep, "allocated.bytes", stats[ML_ST_SEEN_BYTES]);
	}
	ks_report_u64(rep, "frees.matched", stats[ML_ST_FREES]);
	ks_report_u64(rep, "frees.unknown", stats[ML_ST_FREE_UNKNOWN]);
	ks_report_u64(rep, "frees.missed_reused", stats[ML_ST_REUSED]);
	ks_report_u64(rep, "frees.missed_recursion", free_rec);
	if (t)
		ks_table_line(t, true, "Outstanding%s: %" PRIu64 " allocations, "
			      "%s, %zu stacks.  Frees: %" PRIu64 " matched, %"
			      PRIu64 " of untracked addresses, %" PRIu64
			      " missed", st->older_ns ? " (old enough)" : "",
			      tot_allocs, ks_fmt_bytes(tot_bytes, b1,
						       sizeof(b1)), ng,
			      stats[ML_ST_FREES], stats[ML_ST_FREE_UNKNOWN],
			      stats[ML_ST_REUSED] + free_rec);
	if (t && !st->user)
		ks_table_line(t, true, "Allocated (every allocation, exact): "
			      "%" PRIu64 " allocations, %s; frees: %" PRIu64,
			      stats[ML_ST_SEEN], ks_fmt_bytes(
				      stats[ML_ST_SEEN_BYTES], b1, sizeof(b1)),
			      stats[ML_ST_FREES] + stats[ML_ST_FREE_UNKNOWN]);
}

/* The window opens now: allocations made before it are forgotten (their
 * frees then count as frees of untracked addresses), as if memleak had
 * started now.  For kscope report, which opens its window once every tool
 * is attached. */
static void ml_restart(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;

	ks_percpu_sum(bpf_map__fd(st->skel->maps.stats), ML_ST_MAX,
		      st->stats_base);
	st->free_rec_base = recursion_misses(st->free_progs, st->nfree_progs);
	ks_map_clear(bpf_map__fd(st->skel->maps.allocs), sizeof(uint64_t));
}

/* ---- end of run --------------------------------------------------------- */

static bool ml_finished(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;

	if (!st->proc.pid)
		return false;
	if (st->us)
		ks_usyms_update(st->us);
	return ks_proc_exited(&st->proc);
}

static void ml_stop(struct ks_run *r)
{
	struct ml_state *st = r->tool_state;

	ks_proc_end(&st->proc);
	memleak_bpf__destroy(st->skel);
	st->skel = NULL;
	ks_usyms_free(st->us);
	st->us = NULL;
	if (st->object_fd >= 0)
		close(st->object_fd);
	st->object_fd = -1;
}

static const char *const drop_names[] = {
	"pending_full", "stacks_full", "map_busy", NULL,
};

static const struct option long_opts[] = {
	{ "older", required_argument, NULL, 'o' },
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ "kinds", required_argument, NULL, OPT_KINDS },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "obj", required_argument, NULL, OPT_OBJ },
	{ 0 },
};

const struct ks_tool ks_tool_memleak = {
	.name = "memleak",
	.summary = "Outstanding allocations: bytes, allocations and oldest "
		   "age per stack, for the kernel (default) or a user "
		   "process (-p PID, or -- COMMAND).",
	.args_help =
"  User mode: -p PID, or -- COMMAND [ARG...] (run COMMAND traced from its\n"
"  first instruction; the run ends when it exits): the process's allocator\n"
"  (libc malloc family, mmap), stacks symbolized.  Else kernel mode.\n"
"  -o, --older AGE        only allocations older than AGE (milliseconds,\n"
"                         or with a unit: 500ms, 5s, 2m)\n"
"                         (-o is memleak's since bcc's; reports to a file:\n"
"                         --output FILE)\n"
"      --sample N         track 1 in N allocations (random): less overhead\n"
"                         and map space; multiply by N to estimate\n"
"      --top N            same as -r N: the N stacks with most bytes\n"
"      --kinds LIST       kernel mode: kmalloc,cache,page,percpu (default\n"
"                         all)\n"
"      --kernel           kernel mode even with -p/COMMAND (kernel memory\n"
"                         that process allocates)\n"
"      --obj PATH         user mode: probe this allocator object instead\n"
"                         of the one the process uses (libc, jemalloc..)\n"
"  --max-entries is the number of outstanding allocations tracked: 65536\n"
"  by default for memleak; in user mode also the threads that can be\n"
"  inside an allocator call at once (at most 8192).  Stacks are always\n"
"  collected (-s is implied).\n",
	.examples =
"  kscope memleak -o 5s 10               kernel: allocations older than 5 s,\n"
"                                        every 10 s\n"
"  kscope memleak -p 1234 -r 10          the 10 biggest leaking stacks of 1234\n"
"  kscope memleak -j -- ./myprog arg     run myprog, JSON report when it exits\n"
"  kscope memleak -j --output leaks.json -- gzip -c big > big.gz\n"
"                                        the report in leaks.json, gzip's\n"
"                                        output in big.gz\n"
"  kscope memleak --sample 100 -p 1234   cheaper, estimates x100\n"
"  kscope memleak --pprof heap.pb.gz -- ./myprog\n"
"                                        a heap profile for go tool pprof\n",
	.overhead =
"  Kernel mode takes a kernel stack and a hash insert per allocation and a\n"
"  delete per free: about 0.9 us per allocation (bench/).  --sample 64\n"
"  (what kscope report uses; allocated totals stay exact) ran the\n"
"  workloads below at 98%, 95% and 86% of untraced throughput.\n",
	.macro = { 64, 74, 42 },
	.tracing_what = "outstanding allocations",
	.always_stacks = true,
	.walks_every_event = ml_walks,
	.weight_help = "bytes outstanding",
	.pprof_help = "inuse_objects/count, inuse_space/bytes",
	.long_opts = long_opts,
	.short_opts = "o:",
	.parse_opt = ml_parse_opt,
	.validate = ml_validate,
	.probe = ml_probe,
	.start = ml_start,
	.collect = ml_collect,
	.stop = ml_stop,
	.finished = ml_finished,
	.restart = ml_restart,
	.drop_names = drop_names,
	.takes_command = true,
	.default_max_entries = DEFAULT_MAX_ENTRIES,
	.recursion = ml_recursion,
	.state_size = sizeof(struct ml_state),
};
