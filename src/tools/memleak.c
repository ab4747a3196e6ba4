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
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
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
#define UF_MALLOC 0	/* ufuncs[] index of malloc */
#define UF_FREE 10	/* ... and of free */

static struct {
	/* options */
	bool validated;		/* validate() ran: probe() knows the mode */
	bool user;		/* user mode */
	bool kernel_forced;	/* --kernel */
	uint64_t older_ns;
	unsigned int sample;
	unsigned int kinds;	/* kernel kinds, KIND_BIT()s */
	const char *obj;	/* --obj */
	bool percpu_ok[KS_MODE_MAX];	/* probe(): percpu hook usable */
	const char *bulk_free;	/* kprobe-able kmem_cache_free_bulk */

	/* run */
	struct memleak_bpf *skel;
	struct ks_usyms *us;
	pid_t target;		/* traced process */
	pid_t child;		/* ... when we started it; 0 once reaped */
	int release_fd;		/* child waits for a byte here */
	int pidfd;
	bool exited;
	int status;
	char object[PATH_MAX];	/* the allocator object probed */
	char exe[PATH_MAX];	/* the command's program */
	char kind_label[ML_KIND_MAX][40];
	struct bpf_program *alloc_progs[16], *free_progs[16];
	int nalloc_progs, nfree_progs;
} S = { .sample = 1, .kinds = ALL_KERNEL_KINDS, .release_fd = -1,
	.pidfd = -1 };

static char tracing_what[PATH_MAX + 96] =
	"outstanding kernel allocations (kmalloc, kmem_cache, pages, percpu)";

/* ---- options ------------------------------------------------------------ */

/* AGE: milliseconds, or a number with ms, s or m */
static int parse_age(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e9)
		return -1;
	if (!*end || !strcmp(end, "ms"))
		v *= 1e6;
	else if (!strcmp(end, "s"))
		v *= 1e9;
	else if (!strcmp(end, "m"))
		v *= 60e9;
	else
		return -1;
	*ns = (uint64_t)v;
	return 0;
}

static int parse_kinds(const char *arg)
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
	S.kinds = k;
	return 0;
}

static int ml_parse_opt(struct ks_run *r, int c, const char *arg)
{
	long l;

	switch (c) {
	case 'o':
		if (parse_age(arg, &S.older_ns))
			return ks_usage_error("bad age '%s' (milliseconds, or "
					      "with ms, s or m)", arg);
		return 0;
	case OPT_SAMPLE:
		if (ks_parse_long(arg, 1, 1 << 30, &l))
			return ks_usage_error("bad --sample '%s' (1 or more)",
					      arg);
		S.sample = l;
		return 0;
	case OPT_KINDS:
		return parse_kinds(arg);
	case OPT_KERNEL:
		S.kernel_forced = true;
		return 0;
	case OPT_TOP:
		if (ks_parse_long(arg, 1, 1000000, &l))
			return ks_usage_error("bad --top '%s'", arg);
		r->o.top = l;
		return 0;
	case OPT_OBJ:
		S.obj = arg;
		return 0;
	}
	return ks_usage_error("unknown option");
}

static int ml_validate(struct ks_run *r)
{
	S.validated = true;
	S.user = (r->o.pid && !S.kernel_forced) ||
		 (r->o.command && !S.kernel_forced);
	if (r->o.pid && r->o.command)
		return ks_usage_error("give -p PID or a COMMAND, not both");
	if (S.user && r->o.mode != KS_MODE_AUTO &&
	    r->o.mode != KS_MODE_UPROBE)
		return ks_usage_error("user mode (-p or COMMAND) uses uprobes; "
				      "--kernel traces the kernel's "
				      "allocations instead");
	if (!S.user && r->o.mode == KS_MODE_UPROBE)
		return ks_usage_error("uprobe mode traces a process: give -p "
				      "PID or -- COMMAND");
	if (S.user && S.kinds != ALL_KERNEL_KINDS)
		return ks_usage_error("--kinds is for kernel mode");
	if (!S.user && S.obj)
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
static void ml_probe(struct ks_probe *p)
{
	static const char kmeasures[] = "allocations and frees at the kmem "
		"and percpu tracepoints";
	static const char umeasures[] = "calls to the process's allocator "
		"(libc malloc family, mmap); calls the allocator makes "
		"itself are not counted twice";
	struct ks_mode_avail *m;
	char why[200] = "";
	bool pcpu_raw = ks_raw_tp_nargs("percpu_alloc_percpu") == 10 &&
			ks_raw_tp_nargs("percpu_free_percpu") == 3;

	for (int i = KS_MODE_FENTRY; i <= KS_MODE_KPROBE; i++)
		snprintf(p->m[i].why, sizeof(p->m[i].why), "not offered: the "
			 "kmem tracepoints see every allocation and free with "
			 "its address and size");

	m = &p->m[KS_MODE_UPROBE];
	if (S.validated && !S.user)
		ks_mode_set(m, false, NULL, "uprobe mode traces a user "
			    "process: give -p PID or -- COMMAND");
	else
		ks_mode_set(m, have_uprobes(m->why, sizeof(m->why)), umeasures,
			    m->why);
	if (S.validated && S.user) {
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
	S.percpu_ok[KS_MODE_RAW_TP] = pcpu_raw;

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
	S.percpu_ok[KS_MODE_TP_BTF] = pcpu_raw;

	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, tracepoints_ok(why, sizeof(why)), kmeasures, why);
	S.percpu_ok[KS_MODE_TRACEPOINT] =
		ks_can_tracepoint("percpu", "percpu_alloc_percpu", why,
				  sizeof(why)) &&
		ks_can_tracepoint("percpu", "percpu_free_percpu", why,
				  sizeof(why));

	/* bulk frees fire no tracepoint: a kprobe sees them, if allowed */
	{
		static const char *const bulk[] = { "kmem_cache_free_bulk",
						    NULL };

		S.bulk_free = ks_first_kfunc(bulk);
		if (S.bulk_free && !ks_can_kprobe(S.bulk_free, why,
						  sizeof(why)))
			S.bulk_free = NULL;
	}
	if (S.bulk_free) {
		static const char bmeasures[] = "allocations and frees at the "
			"kmem and percpu tracepoints, bulk frees by kprobe";

		for (int i = KS_MODE_TP_BTF; i <= KS_MODE_TRACEPOINT; i++)
			if (p->m[i].available)
				p->m[i].measures = bmeasures;
	}
}

/* ---- ELF: where the allocator functions are ----------------------------- */

struct elfsyms {
	uint64_t off[NUFUNCS];		/* file offset, 0: not defined */
	unsigned char head[NUFUNCS][9];	/* first bytes of the function */
	bool is_elf;
	bool has_interp;
	char interp[PATH_MAX];
};

/* file offset of virtual address v, from the PT_LOAD holding it */
static uint64_t vaddr_to_off(Elf *e, uint64_t v)
{
	size_t n;

	if (elf_getphdrnum(e, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD &&
		    v >= ph.p_vaddr && v < ph.p_vaddr + ph.p_filesz)
			return v - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static void scan_symtab(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, Elf_Data *ver,
			struct elfsyms *r)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    (GELF_ST_BIND(s.st_info) != STB_GLOBAL &&
		     GELF_ST_BIND(s.st_info) != STB_WEAK))
			continue;
		/* an old version kept for compatibility is not what new
		 * programs call (versym bit 15: hidden) */
		if (ver && (i + 1) * 2 <= ver->d_size &&
		    (((uint16_t *)ver->d_buf)[i] & 0x8000))
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name)
			continue;
		for (size_t k = 0; k < NUFUNCS; k++)
			if (!r->off[k] && !strcmp(name, ufuncs[k].name))
				r->off[k] = vaddr_to_off(e, s.st_value);
	}
}

/* The allocator functions that path defines (dynsym, else symtab). */
static int elf_scan(const char *path, struct elfsyms *r)
{
	Elf_Scn *scn = NULL;
	Elf_Data *ver = NULL;
	GElf_Shdr sh;
	Elf *e;
	size_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		close(fd);
		return 0;
	}
	r->is_elf = true;
	if (!elf_getphdrnum(e, &n)) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_INTERP ||
			    ph.p_filesz >= sizeof(r->interp))
				continue;
			if (pread(fd, r->interp, ph.p_filesz, ph.p_offset) ==
			    (ssize_t)ph.p_filesz) {
				r->interp[ph.p_filesz] = '\0';
				r->has_interp = true;
			}
		}
	}
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			ver = elf_getdata(scn, NULL);
	for (int pass = 0; pass < 2; pass++) {
		scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (pass ? SHT_SYMTAB : SHT_DYNSYM))
				scan_symtab(e, scn, &sh, pass ? NULL : ver, r);
		}
	}
	for (size_t k = 0; k < NUFUNCS; k++)
		if (r->off[k] && pread(fd, r->head[k], sizeof(r->head[k]),
				       r->off[k]) != sizeof(r->head[k]))
			memset(r->head[k], 0, sizeof(r->head[k]));
	elf_end(e);
	close(fd);
	return 0;
}

static bool defines_malloc(const char *path)
{
	struct elfsyms r;

	return elf_scan(path, &r) == 0 && r.off[UF_MALLOC] && r.off[UF_FREE];
}

static bool is_loader(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld64.so", 7);
}

static bool is_libc(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	return !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5) ||
	       !strncmp(b, "ld-musl", 7);
}

/*
 * Objects a dynamic program will load, in symbol lookup order (preloads
 * first), as its own ELF interpreter lists them: the same search the
 * program's start-up will do, with the same environment.
 */
static int loader_list(const char *interp, const char *exe, char ***out)
{
	char buf[65536], **v = NULL;
	size_t len = 0;
	int p[2], n = 0, st;
	ssize_t k;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (nul >= 0)
			dup2(nul, 2);
		execl(interp, interp, "--list", exe, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < sizeof(buf) &&
	       (k = read(p[0], buf + len, sizeof(buf) - len - 1)) > 0)
		len += k;
	close(p[0]);
	buf[len] = '\0';
	waitpid(pid, &st, 0);
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		char *a = strstr(l, "=> "), *e, **nv;

		a = a ? a + 3 : l;
		while (*a == ' ' || *a == '\t')
			a++;
		if (*a != '/')
			continue;	/* vdso, "not found" */
		e = strstr(a, " (");
		if (e)
			*e = '\0';
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n] = strdup(a);
		if (v[n])
			n++;
		v[n] = NULL;
	}
	*out = v;
	return n;
}

static void free_list(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* program name as execvp() would find it */
static int find_program(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dir[PATH_MAX / 2];

	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(out, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		snprintf(dir, sizeof(dir), "%.*s", (int)n, n ? path : ".");
		if ((size_t)snprintf(out, len, "%s/%.*s", dir, PATH_MAX / 4,
				     cmd) >= len)
			continue;
		if (access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -ENOENT;
}

/* The allocator of a program about to run: itself when static, else the
 * first object in lookup order that defines malloc and free. */
static int object_for_exe(const char *exe)
{
	struct elfsyms r;
	char **libs = NULL;
	int n, err;

	err = elf_scan(exe, &r);
	if (err) {
		ks_err("cannot read %s: %s", exe, strerror(-err));
		return -1;
	}
	if (!r.is_elf) {
		ks_err("%s is not an ELF program (a script?  trace its "
		       "interpreter: -- /bin/sh SCRIPT)", exe);
		return -1;
	}
	if (!r.has_interp || (r.off[UF_MALLOC] && r.off[UF_FREE])) {
		snprintf(S.object, sizeof(S.object), "%s", exe);
		return 0;
	}
	n = loader_list(r.interp, exe, &libs);
	for (int i = 0; i < n; i++) {
		if (is_loader(libs[i]) || !defines_malloc(libs[i]))
			continue;
		snprintf(S.object, sizeof(S.object), "%s", libs[i]);
		free_list(libs);
		return 0;
	}
	free_list(libs);
	ks_err("cannot find the allocator %s will use: %s --list %s names no "
	       "library defining malloc and free (use --obj PATH)", exe,
	       r.interp, exe);
	return -1;
}

/* The allocator of a running process, from its mappings: the program
 * itself if it defines malloc, then an interposer (jemalloc, tcmalloc,
 * preloaded or linked), then libc. */
static int object_for_pid(pid_t pid)
{
	char p[64], exe[PATH_MAX], *libc = NULL, *other = NULL;
	ssize_t n;

	snprintf(p, sizeof(p), "/proc/%d/exe", (int)pid);
	n = readlink(p, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if (defines_malloc(exe)) {
			snprintf(S.object, sizeof(S.object), "%s", exe);
			return 0;
		}
	}
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
	{
		FILE *f = fopen(p, "re");
		char line[4352];

		if (!f) {
			ks_err("cannot read %s: %s", p, strerror(errno));
			return -1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *path = strchr(line, '/'), *nl;

			if (!path || !strstr(line, " r-xp "))
				continue;
			nl = strchr(path, '\n');
			if (nl)
				*nl = '\0';
			if (is_loader(path) || (n > 0 && !strcmp(path, exe)))
				continue;
			if (!defines_malloc(path))
				continue;
			if (is_libc(path) && !libc)
				libc = strdup(path);
			else if (!is_libc(path) && !other)
				other = strdup(path);
		}
		fclose(f);
	}
	if (other || libc)
		snprintf(S.object, sizeof(S.object), "%s", other ? other : libc);
	free(other);
	free(libc);
	if (!S.object[0]) {
		ks_err("process %d maps no object defining malloc and free "
		       "(use --obj PATH)", (int)pid);
		return -1;
	}
	return 0;
}

/* ---- the traced command ------------------------------------------------- */

/*
 * Fork the command, stopped before exec until the probes are in place:
 * the child waits for one byte on a pipe.  A second pipe (close-on-exec)
 * reports a failed exec back, so start() can say why.
 */
static int spawn(struct ks_run *r, const char *exe, int *status_fd)
{
	int go[2], st[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
		ks_err("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		ks_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		char c;
		int e;

		/* kscope blocks SIGINT/SIGTERM to take them synchronously;
		 * the command must get them as usual */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(go[1]);
		close(st[0]);
		/* stdout carries only JSON in JSON mode */
		if (r->o.json)
			dup2(2, 1);
		if (read(go[0], &c, 1) != 1)
			_exit(127);	/* kscope gave up */
		execv(exe, r->o.command);
		e = errno;
		if (write(st[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(st[1]);
	S.child = S.target = pid;
	S.release_fd = go[1];
	*status_fd = st[0];
	return 0;
}

static int release(int status_fd)
{
	int e = 0;
	ssize_t n;

	if (write(S.release_fd, "g", 1) != 1) {
		ks_err("cannot start the command: %s", strerror(errno));
		close(status_fd);
		return -1;
	}
	close(S.release_fd);
	S.release_fd = -1;
	/* EOF: the exec closed the pipe, the program runs */
	n = read(status_fd, &e, sizeof(e));
	close(status_fd);
	if (n == sizeof(e)) {
		ks_err("cannot run %s: %s", S.exe, strerror(e));
		return -1;
	}
	return 0;
}

static pid_t tgid_of(pid_t pid)
{
	char p[64], line[256];
	FILE *f;
	int t = pid;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &t) == 1)
			break;
	fclose(f);
	return t;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(p, "re");
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/* ---- start -------------------------------------------------------------- */

static int set_common(struct ks_run *r, uint32_t stack_bytes)
{
	struct memleak_bpf *sk = S.skel;
	long stacks = r->o.max_entries / 4;

	if (ks_bpf_prepare(r, sk->obj))
		return -1;
	sk->rodata->user_mode = S.user;
	sk->rodata->sample_every = S.sample;
	sk->rodata->stack_bytes = stack_bytes;
	sk->rodata->page_size = sysconf(_SC_PAGESIZE);
	bpf_map__set_max_entries(sk->maps.allocs, r->o.max_entries);
	bpf_map__set_max_entries(sk->maps.stacks, stacks < 1024 ? 1024 : stacks);
	bpf_map__set_value_size(sk->maps.stacks, stack_bytes);
	if (!S.user)
		bpf_map__set_max_entries(sk->maps.pending, 1);
	return 0;
}

static int start_kernel(struct ks_run *r)
{
	struct memleak_bpf *sk = S.skel;
	struct bpf_program *keep[16] = { NULL }, **a, **f;
	int depth = r->o.stack_depth + 4, n = 0;
	bool slab = S.kinds & (KIND_BIT(ML_KMALLOC) | KIND_BIT(ML_CACHE));

	/* room for the tracing frames stripped at print time */
	if (depth > KS_MAX_STACK_DEPTH)
		depth = KS_MAX_STACK_DEPTH;
	if (set_common(r, depth * 8))
		return -1;
	a = S.alloc_progs;
	f = S.free_progs;
#define PICK(alloc_p, free_p, on) do {					\
		if (on) {						\
			if (alloc_p)					\
				keep[n++] = a[S.nalloc_progs++] = alloc_p; \
			if (free_p)					\
				keep[n++] = f[S.nfree_progs++] = free_p; \
		}							\
	} while (0)
	/* a kfree() may free any slab object, so both slab frees go on
	 * whenever either slab kind is traced */
	if (r->mode == KS_MODE_TP_BTF) {
		PICK(sk->progs.kmalloc_btf, NULL, S.kinds & KIND_BIT(ML_KMALLOC));
		PICK(sk->progs.cache_alloc_btf, NULL, S.kinds & KIND_BIT(ML_CACHE));
		PICK(NULL, sk->progs.kfree_btf, slab);
		PICK(NULL, sk->progs.cache_free_btf, slab);
		PICK(sk->progs.page_alloc_btf, sk->progs.page_free_btf,
		     S.kinds & KIND_BIT(ML_PAGE));
		PICK(sk->progs.pcpu_alloc_btf, sk->progs.pcpu_free_btf,
		     (S.kinds & KIND_BIT(ML_PERCPU)) && S.percpu_ok[r->mode]);
	} else if (r->mode == KS_MODE_RAW_TP) {
		PICK(sk->progs.kmalloc_raw, NULL, S.kinds & KIND_BIT(ML_KMALLOC));
		PICK(sk->progs.cache_alloc_raw, NULL, S.kinds & KIND_BIT(ML_CACHE));
		PICK(NULL, sk->progs.kfree_raw, slab);
		PICK(NULL, sk->progs.cache_free_raw, slab);
		PICK(sk->progs.page_alloc_raw, sk->progs.page_free_raw,
		     S.kinds & KIND_BIT(ML_PAGE));
		PICK(sk->progs.pcpu_alloc_raw, sk->progs.pcpu_free_raw,
		     (S.kinds & KIND_BIT(ML_PERCPU)) && S.percpu_ok[r->mode]);
	} else {
		PICK(sk->progs.kmalloc_tp, NULL, S.kinds & KIND_BIT(ML_KMALLOC));
		PICK(sk->progs.cache_alloc_tp, NULL, S.kinds & KIND_BIT(ML_CACHE));
		PICK(NULL, sk->progs.kfree_tp, slab);
		PICK(NULL, sk->progs.cache_free_tp, slab);
		PICK(sk->progs.page_alloc_tp, sk->progs.page_free_tp,
		     S.kinds & KIND_BIT(ML_PAGE));
		PICK(sk->progs.pcpu_alloc_tp, sk->progs.pcpu_free_tp,
		     (S.kinds & KIND_BIT(ML_PERCPU)) && S.percpu_ok[r->mode]);
	}
	PICK(NULL, sk->progs.free_bulk_kp, slab && S.bulk_free);
#undef PICK
	ks_bpf_only(sk->obj, keep);
	if (ks_bpf_load(r, sk->obj))
		return -1;
	for (int i = 0; keep[i]; i++) {
		int err = keep[i] == sk->progs.free_bulk_kp ?
			ks_bpf_attach_kprobe(r, keep[i], S.bulk_free, false) :
			ks_bpf_attach(r, keep[i]);

		if (err)
			return -1;
	}
	if ((S.kinds & KIND_BIT(ML_PERCPU)) && !S.percpu_ok[r->mode])
		fprintf(stderr, "%s: note: percpu allocations not traced: no "
			"usable percpu tracepoints on this kernel\n",
			r->tool->name);
	return 0;
}

/*
 * glibc's free() begins with "test %rdi,%rdi; je": a uprobe there must
 * single-step the test out of line (two traps), while a conditional jump
 * is emulated (one trap).  Probing the jump sees the same argument
 * registers, and is several times cheaper on free-heavy programs.
 */
static uint64_t entry_offset(const unsigned char *h)
{
	if (h[0] == 0x48 && h[1] == 0x85 && h[2] == 0xff &&
	    ((h[3] >= 0x70 && h[3] <= 0x7f) ||
	     (h[3] == 0x0f && h[4] >= 0x80 && h[4] <= 0x8f)))
		return 3;
	return 0;
}

static struct bpf_program *uprog_of(enum uprog p)
{
	struct memleak_bpf *sk = S.skel;

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
	LIBBPF_OPTS(bpf_uprobe_opts, o, .retprobe = ret, .bpf_cookie = cookie);
	char what[PATH_MAX + 64];

	/* removing each uprobe at the end waits for an RCU-tasks grace
	 * period (~0.1 s, serialized by the kernel): a run takes about two
	 * seconds to detach after its final report */
	snprintf(what, sizeof(what), "%s%s in %.*s", ret ? "return of " : "",
		 name, PATH_MAX, S.object);
	return ks_bpf_keep_link(r, bpf_program__attach_uprobe_opts(p, S.target,
				S.object, off, &o), what);
}

static int start_user(struct ks_run *r)
{
	struct memleak_bpf *sk = S.skel;
	struct bpf_program *keep[16] = { NULL };
	struct elfsyms es;
	bool used[NUFUNCS] = { false };
	int n = 0, err;

	err = elf_scan(S.object, &es);
	if (err || !es.off[UF_MALLOC] || !es.off[UF_FREE]) {
		ks_err("%s does not define malloc and free%s%s", S.object,
		       err ? ": " : "", err ? strerror(-err) : "");
		return -1;
	}
	/* one probe per address: glibc aliases aligned_alloc and memalign */
	for (size_t k = 0; k < NUFUNCS; k++) {
		if (!es.off[k])
			continue;
		snprintf(S.kind_label[ufuncs[k].kind],
			 sizeof(S.kind_label[0]), "%s", ufuncs[k].name);
		for (size_t j = 0; j < k; j++) {
			if (es.off[j] != es.off[k] || !used[j])
				continue;
			/* label the first kind with both names */
			size_t l = strlen(S.kind_label[ufuncs[j].kind]);

			snprintf(S.kind_label[ufuncs[j].kind] + l,
				 sizeof(S.kind_label[0]) - l, "/%s",
				 ufuncs[k].name);
			es.off[k] = 0;
		}
		if (es.off[k])
			used[k] = true;
	}
	if (set_common(r, r->o.stack_depth * 8))
		return -1;
	for (size_t k = 0; k < NUFUNCS; k++) {
		struct bpf_program *p = uprog_of(ufuncs[k].prog);
		bool dup = false;

		if (!used[k])
			continue;
		for (int i = 0; i < n; i++)
			dup |= keep[i] == p;
		if (!dup)
			keep[n++] = p;
	}
	keep[n++] = sk->progs.alloc_ret;
	ks_bpf_only(sk->obj, keep);
	if (ks_bpf_load(r, sk->obj))
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
				off += entry_offset(es.head[k]);
			if (pass == 0)
				err = attach_uprobe(r, sk->progs.alloc_ret,
						    true, off, u->kind,
						    u->name);
			else
				err = attach_uprobe(r, uprog_of(u->prog),
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
	char *exe = S.exe;
	int status_fd = -1, err;

	S.nalloc_progs = S.nfree_progs = 0;
	S.exited = false;
	/* kscope report starts tools without their options: kernel mode */
	if (!S.user && r->mode == KS_MODE_UPROBE) {
		ks_err("uprobe mode traces a process: give -p PID or -- "
		       "COMMAND");
		return -1;
	}
	if (S.user || r->o.command || r->o.pid) {
		if (r->o.command) {
			err = find_program(r->o.command[0], exe, sizeof(S.exe));
			if (err) {
				ks_err("cannot run %s: %s", r->o.command[0],
				       strerror(-err));
				return -1;
			}
		} else {
			S.target = tgid_of(r->o.pid);
			r->o.pid = S.target;
		}
		if (S.user && S.obj)
			snprintf(S.object, sizeof(S.object), "%s", S.obj);
		else if (S.user && r->o.command && object_for_exe(exe))
			return -1;
		else if (S.user && !r->o.command && object_for_pid(S.target))
			return -1;
		if (r->o.command) {
			if (spawn(r, exe, &status_fd))
				return -1;
			r->o.pid = S.target;	/* the BPF filter */
		}
		if (r->o.pid) {
			S.pidfd = syscall(SYS_pidfd_open, S.target, 0);
			if (S.pidfd < 0)
				S.pidfd = -1;	/* < 5.3: poll /proc */
		}
	}
	if (S.user) {
		char comm[32];

		comm_of(S.target, comm, sizeof(comm));
		snprintf(tracing_what, sizeof(tracing_what),
			 "outstanding allocations of %s %d%s%s%s (%s)",
			 r->o.command ? "command" : "PID", (int)S.target,
			 r->o.command ? "" : " (", r->o.command ? "" : comm,
			 r->o.command ? "" : ")", S.object);
	}

	S.skel = memleak_bpf__open();
	if (!S.skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		goto fail;
	}
	if (S.user ? start_user(r) : start_kernel(r))
		goto fail;
	if (S.user) {
		S.us = ks_usyms_new(S.target);
		/* a command's libraries are mapped after exec: follow its
		 * mmaps so they can be named even after it exited */
		if (S.us && ks_usyms_follow(S.us) && r->o.verbose)
			fprintf(stderr, "memleak: cannot follow mmaps of %d: "
				"symbols from /proc only\n", (int)S.target);
	}
	if (S.child && release(status_fd))
		return -1;
	return 0;
fail:
	if (status_fd >= 0)
		close(status_fd);
	return -1;
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
static int dump_allocs(struct arec **out, size_t *n)
{
	int fd = bpf_map__fd(S.skel->maps.allocs);
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

static void read_stats(uint64_t *st)
{
	int fd = bpf_map__fd(S.skel->maps.stats);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v = calloc(ncpu > 0 ? ncpu : 1, sizeof(*v));

	memset(st, 0, ML_ST_MAX * sizeof(*st));
	for (uint32_t k = 0; v && k < ML_ST_MAX; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			st[k] += v[c];
	}
	free(v);
}

static uint64_t recursion_misses(struct bpf_program **p, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(p[i]), &info, &len))
			sum += info.recursion_misses;
	}
	return sum;
}

static void ml_extra_drops(struct ks_run *r, uint64_t *drops)
{
	(void)r;
	if (S.skel)
		drops[ML_DROP_RECURSION] += recursion_misses(S.alloc_progs,
							     S.nalloc_progs);
}

static const char *kind_label(unsigned int k)
{
	if (k >= ML_KIND_MAX)
		return "?";
	return S.kind_label[k][0] ? S.kind_label[k] : kind_names[k];
}

/* frames of a stack: kernel ones without the tracing machinery on top */
static int stack_frames(struct ks_run *r, uint64_t id, uint64_t *ips)
{
	uint64_t buf[KS_MAX_STACK_DEPTH] = { 0 };
	int slots = bpf_map__value_size(S.skel->maps.stacks) / 8, i = 0, n = 0;

	if (!id || bpf_map_lookup_elem(bpf_map__fd(S.skel->maps.stacks), &id,
				       buf))
		return 0;
	if (!S.user)
		while (i < slots && buf[i] && ks_kernel_tracing_frame(buf[i]))
			i++;
	for (; i < slots && buf[i] && n < r->o.stack_depth; i++) {
		struct ks_usym s;

		/* a frame pointer chain through code built without frame
		 * pointers ends in garbage: stop at the first frame that
		 * is in no mapped object */
		if (S.user && n && S.us &&
		    ks_usyms_lookup(S.us, buf[i], true, &s))
			break;
		ips[n++] = buf[i];
	}
	return n;
}

static const char *frame_str(uint64_t ip, char *buf, size_t len)
{
	if (S.user)
		return S.us ? ks_usyms_fmt(S.us, ip, true) : "?";
	return ks_ksyms_fmt(ks_kernel_syms(), ip, buf, len);
}

static void print_entry(struct ks_run *r, struct ks_report *rep,
			const struct group *g, uint64_t now)
{
	uint64_t ips[KS_MAX_STACK_DEPTH];
	int n = stack_frames(r, g->stack, ips);
	uint64_t age_ms = now > g->oldest_ts ? (now - g->oldest_ts) / 1000000 : 0;
	char buf[256], b1[32];

	if (r->o.json) {
		struct ks_json *j = &rep->j;

		ks_json_obj_begin(j);
		ks_json_key(j, "stack");
		ks_json_arr_begin(j);
		for (int i = 0; i < n; i++)
			ks_json_str(j, frame_str(ips[i], buf, sizeof(buf)));
		ks_json_arr_end(j);
		ks_json_kstr(j, "kind", kind_label(g->kind));
		ks_json_ku64(j, "bytes", g->bytes);
		ks_json_ku64(j, "allocs", g->allocs);
		ks_json_ku64(j, "oldest_ms", age_ms);
		ks_json_obj_end(j);
		return;
	}
	fprintf(r->out, "%" PRIu64 " bytes (%s) in %" PRIu64 " %s allocation%s,"
		" oldest %.1f s:\n", g->bytes,
		ks_fmt_bytes(g->bytes, b1, sizeof(b1)), g->allocs,
		kind_label(g->kind), g->allocs == 1 ? "" : "s", age_ms / 1000.0);
	/* kscope report: one page for every tool, so short stacks */
	if (r->in_report && n > 6)
		n = 6;
	if (!n)
		fprintf(r->out, "        [stack unavailable]\n");
	for (int i = 0; i < n; i++)
		fprintf(r->out, "        %s\n", frame_str(ips[i], buf,
							 sizeof(buf)));
}

static void ml_print(struct ks_run *r, struct ks_report *rep)
{
	struct arec *recs = NULL;
	struct group *g = NULL;
	size_t n = 0, ng = 0, shown;
	uint64_t st[ML_ST_MAX], now, tot_bytes = 0, tot_allocs = 0, free_rec;
	struct timespec ts;
	char b1[32];

	if (S.us)
		ks_usyms_update(S.us);	/* mappings as of now, or at exit */
	if (dump_allocs(&recs, &n))
		n = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	qsort(recs, n, sizeof(*recs), by_stack);
	g = calloc(n ? n : 1, sizeof(*g));
	for (size_t i = 0; g && i < n; i++) {
		const struct memleak_alloc *a = &recs[i].a;
		struct group *c;

		if (S.older_ns && (a->ts_ns > now || now - a->ts_ns < S.older_ns))
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
		tot_bytes += a->size;
		tot_allocs++;
	}
	free(recs);
	if (g)
		qsort(g, ng, sizeof(*g), by_bytes);
	else
		ng = 0;
	shown = r->o.top && (size_t)r->o.top < ng ? (size_t)r->o.top : ng;
	read_stats(st);
	free_rec = recursion_misses(S.free_progs, S.nfree_progs);

	if (!r->o.json && S.exited && rep->final)
		fprintf(r->out, "%s %d exited (%s %d); allocations it never "
			"freed:\n", r->o.command ? "Command" : "Process",
			(int)S.target, WIFSIGNALED(S.status) ? "signal" :
			"status", WIFSIGNALED(S.status) ? WTERMSIG(S.status) :
			WEXITSTATUS(S.status));
	if (!r->o.json && S.sample > 1)
		fprintf(r->out, "(1 in %u allocations sampled: multiply bytes "
			"and allocations by %u to estimate)\n", S.sample,
			S.sample);
	ks_report_entries_begin(rep);
	for (size_t i = 0; i < shown; i++)
		print_entry(r, rep, &g[i], now);
	ks_report_entries_end(rep);
	free(g);
	if (r->o.json) {
		struct ks_json *j = &rep->j;

		if (S.user) {
			ks_json_ku64(j, "pid", S.target);
			ks_json_kstr(j, "object", S.object);
			if (S.exited) {
				ks_json_key(j, "exit_status");
				ks_json_i64(j, WIFSIGNALED(S.status) ?
					    -WTERMSIG(S.status) :
					    WEXITSTATUS(S.status));
			}
		}
		ks_json_ku64(j, "sample", S.sample);
		ks_json_ku64(j, "older_ms", S.older_ns / 1000000);
		ks_json_ku64(j, "total_bytes", tot_bytes);
		ks_json_ku64(j, "total_allocs", tot_allocs);
		ks_json_ku64(j, "stacks", ng);
		ks_json_ku64(j, "tracked_allocs", st[ML_ST_ALLOCS]);
		ks_json_key(j, "frees");
		ks_json_obj_begin(j);
		ks_json_ku64(j, "matched", st[ML_ST_FREES]);
		ks_json_ku64(j, "unknown", st[ML_ST_FREE_UNKNOWN]);
		ks_json_ku64(j, "missed_reused", st[ML_ST_REUSED]);
		ks_json_ku64(j, "missed_recursion", free_rec);
		ks_json_obj_end(j);
		return;
	}
	if (shown < ng)
		fprintf(r->out, "... %zu more stacks (-r to change)\n",
			ng - shown);
	fprintf(r->out, "Outstanding%s: %" PRIu64 " allocations, %s, %zu "
		"stacks.  Frees: %" PRIu64 " matched, %" PRIu64 " of untracked "
		"addresses, %" PRIu64 " missed\n",
		S.older_ns ? " (old enough)" : "", tot_allocs,
		ks_fmt_bytes(tot_bytes, b1, sizeof(b1)), ng, st[ML_ST_FREES],
		st[ML_ST_FREE_UNKNOWN], st[ML_ST_REUSED] + free_rec);
}

/* ---- end of run --------------------------------------------------------- */

static bool ml_finished(struct ks_run *r)
{
	(void)r;
	if (S.exited)
		return true;
	if (!S.target)
		return false;
	if (S.us)
		ks_usyms_update(S.us);
	if (S.child) {
		int st;

		if (waitpid(S.child, &st, WNOHANG) == S.child) {
			S.child = 0;
			S.status = st;
			S.exited = true;
		}
	} else if (S.pidfd >= 0) {
		struct pollfd p = { .fd = S.pidfd, .events = POLLIN };

		S.exited = poll(&p, 1, 0) > 0;
	} else if (kill(S.target, 0) && errno == ESRCH) {
		S.exited = true;
	}
	return S.exited;
}

static void ml_stop(struct ks_run *r)
{
	(void)r;
	if (S.release_fd >= 0) {
		/* never released: the child sees EOF and exits */
		close(S.release_fd);
		S.release_fd = -1;
	}
	if (S.child) {
		/* the run ended first (-d, Ctrl-C): don't leave the command
		 * running untraced behind us */
		kill(S.child, SIGTERM);
		for (int i = 0; i < 50 && waitpid(S.child, NULL, WNOHANG) == 0;
		     i++)
			usleep(20000);
		if (waitpid(S.child, NULL, WNOHANG) == 0) {
			kill(S.child, SIGKILL);
			waitpid(S.child, NULL, 0);
		}
		S.child = 0;
	}
	if (S.pidfd >= 0)
		close(S.pidfd);
	S.pidfd = -1;
	memleak_bpf__destroy(S.skel);
	S.skel = NULL;
	ks_usyms_free(S.us);
	S.us = NULL;
}

static const char *const drop_names[] = {
	"pending_full", "stacks_full", "recursion", "map_busy", NULL,
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
"  by default for memleak.  Stacks are always collected (-s is implied).\n",
	.examples =
"  kscope memleak -o 5s 10               kernel: allocations older than 5 s,\n"
"                                        every 10 s\n"
"  kscope memleak -p 1234 -r 10          the 10 biggest leaking stacks of 1234\n"
"  kscope memleak -j -- ./myprog arg     run myprog, JSON report when it exits\n"
"  kscope memleak --sample 100 -p 1234   cheaper, estimates x100\n",
	.tracing_what = tracing_what,
	.always_stacks = true,
	.long_opts = long_opts,
	.short_opts = "o:",
	.parse_opt = ml_parse_opt,
	.validate = ml_validate,
	.probe = ml_probe,
	.start = ml_start,
	.print = ml_print,
	.stop = ml_stop,
	.finished = ml_finished,
	.drop_names = drop_names,
	.takes_command = true,
	.default_max_entries = DEFAULT_MAX_ENTRIES,
	.extra_drops = ml_extra_drops,
};
