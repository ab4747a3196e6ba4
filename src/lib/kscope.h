/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kscope's shared user-space library: everything a tool needs besides its
 * BPF half and its printer lives behind this header, once.
 */
#ifndef KSCOPE_H
#define KSCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <getopt.h>
#include <signal.h>
#include <sys/types.h>
#include <time.h>
#include "ks_common.h"

struct bpf_object;
struct bpf_map;
struct bpf_program;
struct bpf_link;

/* ---- exit codes -------------------------------------------------------- */
#define KS_EXIT_OK	0
#define KS_EXIT_RUNTIME	1
#define KS_EXIT_USAGE	2

/* ---- attach modes, in order of preference ----------------------------- */
enum ks_mode {
	KS_MODE_FENTRY = 0,
	KS_MODE_KPROBE,
	KS_MODE_TP_BTF,		/* BTF-typed tracepoint (a tracing program) */
	KS_MODE_RAW_TP,
	KS_MODE_TRACEPOINT,
	KS_MODE_UPROBE,		/* user-space probes (memleak -p/COMMAND) */
	KS_MODE_MAX,
	KS_MODE_AUTO = KS_MODE_MAX,
};

const char *ks_mode_name(enum ks_mode m);
int ks_mode_parse(const char *s, enum ks_mode *m);

/* What one mode can do on this kernel, filled by a tool's probe(). */
struct ks_mode_avail {
	bool supported;		/* the tool implements this mode at all */
	bool available;		/* ... and the running kernel allows it */
	char why[200];		/* reason when not available, or a note */
	const char *measures;	/* what the numbers mean in this mode */
};

struct ks_probe {
	struct ks_mode_avail m[KS_MODE_MAX];
};

/* the first supported and available mode in preference order, or -1 */
int ks_best_mode(const struct ks_probe *p);
struct ks_run;
/* the mode a run of r's options takes by default on this kernel: the best
 * one, or the classic tracepoint for a run that walks a stack per event
 * (walks_every_event), or -1 */
int ks_default_mode(const struct ks_run *r, const struct ks_probe *p);

/* Kernel capability probes, each cached after the first call. */
bool ks_kernel_has_btf(void);
/* drop the cached vmlinux BTF (after attach: it is only needed to probe) */
void ks_probe_release(void);
/* keep it (and ks_kernel_btf()'s pointers valid) across releases until
 * the matching unhold: for threads that load tools at once */
void ks_probe_hold(void);
void ks_probe_unhold(void);
/* the running kernel's BTF (loaded once), or NULL */
struct btf;
const struct btf *ks_kernel_btf(void);
/* fentry/fexit on func allowed?  Fills why on failure. */
bool ks_can_fentry(const char *func, char *why, size_t len);
bool ks_can_kprobe(const char *func, char *why, size_t len);
/* tp_btf on raw tracepoint tp allowed?  (same kernel gate as fentry) */
bool ks_can_tp_btf(const char *tp, char *why, size_t len);
/* may a tp_btf program on tp read argument arg (0-based)? */
bool ks_tp_btf_reads_arg(const char *tp, int arg, char *why, size_t len);
/* raw tracepoint: the kernel's BTF has btf_trace_<name> */
bool ks_can_raw_tp(const char *tp, char *why, size_t len);
/* classic tracepoint category/name exists in tracefs */
bool ks_can_tracepoint(const char *cat, const char *name, char *why,
		       size_t len);
/* the first of names that the kernel has as a traceable function */
const char *ks_first_kfunc(const char *const *names);
/* index (0-based, after the hidden void *__data) of the first argument of
 * raw tracepoint tp whose type is "struct <type_name> *", or -1 */
int ks_raw_tp_arg_index(const char *tp, const char *struct_name);
/* number of arguments of raw tracepoint tp, or -1 */
int ks_raw_tp_nargs(const char *tp);
/* make sure tracefs is mounted; returns its path or NULL */
const char *ks_tracefs(void);
/* root, or CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): without, every
 * mode is unavailable for this reason */
bool ks_privileged(void);
#define KS_NEED_PRIV "needs root, or the capabilities CAP_BPF and " \
	"CAP_PERFMON (see 'Running without root' in the README)"
/* least privilege (privs.c): the capabilities a started run still needs
 * (memleak following a process: CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH) */
#define KS_CAPBIT(c) (1ULL << (c))
struct ks_run;
uint64_t ks_caps_for(const struct ks_run *r);
/* what loading and attaching more programs later takes (kscope export) */
uint64_t ks_caps_to_load(void);
/* keep only `keep` (of the permitted set), empty the bounding, ambient and
 * inheritable sets of the rest, set no_new_privs; -v: says what went */
int ks_drop_caps(uint64_t keep, bool verbose);
void ks_mode_set(struct ks_mode_avail *m, bool ok, const char *measures,
		 const char *why);
/* a mode the tool does not implement, by design: why only */
void ks_mode_unsupported(struct ks_mode_avail *m, const char *why);

/* ---- options ------------------------------------------------------------ */
struct ks_opts {
	pid_t pid;
	pid_t tid;
	char comm[KS_COMM_LEN];
	bool has_comm;
	const char *cgroup;
	bool include_self;	/* count kscope's own process too */
	double duration;	/* -d; 0 = until Ctrl-C or count */
	double interval;	/* 0 = one report at the end */
	long count;		/* reports to print, 0 = unlimited */
	bool json;
	bool stacks;
	int stack_depth;
	bool hist;		/* -H: text histograms under each row */
	enum ks_mode mode;
	bool verbose;
	int top;		/* rows to show, 0 = all */
	long max_entries;
	bool clear;		/* top-like tools clear the screen */
	char **command;		/* after "--" (tools with takes_command) */
	/* tools with stacks: --folded writes folded stacks instead of the
	 * table (implies -s), weighted by counts with --weight count;
	 * --pprof writes each report's profile to this file as well */
	bool folded;
	bool weight_count;
	const char *pprof;
	/* -o/--output: reports go to this file instead of stdout (a
	 * command run with "--" keeps stdout for itself) */
	const char *output;
};

/* stdout carries data for a program (JSON, folded stacks): the Tracing
 * line and a traced command's output go to stderr */
static inline bool ks_out_is_data(const struct ks_opts *o)
{
	return o->json || o->folded;
}

/* strict parsers: whole string must be a number in range */
int ks_parse_long(const char *s, long min, long max, long *out);
int ks_parse_double(const char *s, double min, double max, double *out);

/* ---- JSON writer ---------------------------------------------------------- */
#define KS_JSON_MAX_DEPTH	32
struct ks_json {
	FILE *f;
	int depth;
	bool need_comma[KS_JSON_MAX_DEPTH];
	bool after_key;
	int skip;		/* depth inside a container written as null */
};

void ks_json_init(struct ks_json *j, FILE *f);
void ks_json_obj_begin(struct ks_json *j);
void ks_json_obj_end(struct ks_json *j);
void ks_json_arr_begin(struct ks_json *j);
void ks_json_arr_end(struct ks_json *j);
void ks_json_key(struct ks_json *j, const char *k);
void ks_json_str(struct ks_json *j, const char *s);
void ks_json_strn(struct ks_json *j, const char *s, size_t n);
void ks_json_u64(struct ks_json *j, uint64_t v);
void ks_json_i64(struct ks_json *j, int64_t v);
void ks_json_double(struct ks_json *j, double v, int decimals);
void ks_json_bool(struct ks_json *j, bool v);
void ks_json_null(struct ks_json *j);
/* key + value shorthands */
void ks_json_kstr(struct ks_json *j, const char *k, const char *v);
void ks_json_ku64(struct ks_json *j, const char *k, uint64_t v);
void ks_json_kdouble(struct ks_json *j, const char *k, double v, int dec);
/* escape s into buf as a JSON string body; returns bytes needed */
size_t ks_json_escape(char *buf, size_t len, const char *s, size_t n);

/* ---- log2 histograms ------------------------------------------------------ */
uint32_t ks_hist_slot(uint64_t v);
uint64_t ks_hist_slot_min(uint32_t slot);
uint64_t ks_hist_slot_max(uint32_t slot);
uint64_t ks_hist_total(const uint64_t *slots, int n);
/* bpftrace-style text histogram, with unit label for the value column */
void ks_hist_print(FILE *f, const uint64_t *slots, int n, const char *unit,
		   const char *indent);
/* key: [{"min":..,"max":..,"count":..}, ...] from first to last used */
void ks_hist_json(struct ks_json *j, const char *key, const uint64_t *slots,
		  int n);

/* ---- kernel symbols ------------------------------------------------------- */
struct ks_ksyms;
struct ks_ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* NULL for vmlinux */
	char type;		/* kallsyms' letter: t, T, d, D, b, ... */
};

struct ks_ksyms *ks_ksyms_load(const char *path); /* NULL: /proc/kallsyms */
void ks_ksyms_free(struct ks_ksyms *k);
const struct ks_ksym *ks_ksyms_lookup(const struct ks_ksyms *k,
				      uint64_t addr);
const struct ks_ksym *ks_ksyms_by_name(const struct ks_ksyms *k,
				       const char *name);
/* the data object addr lies in: the nearest data symbol at or below it
 * (kallsyms types d, b, r), not a linker-made section bound (__start_*,
 * __stop_*, ...); NULL when none (without CONFIG_KALLSYMS_ALL kallsyms
 * has only those bounds, and a static variable no name) */
const struct ks_ksym *ks_ksyms_data_lookup(const struct ks_ksyms *k,
					   uint64_t addr);
/* where symbol s (from this table) ends: the next higher symbol address,
 * or s->addr + 1 for the last one */
uint64_t ks_ksyms_end(const struct ks_ksyms *k, const struct ks_ksym *s);
/* "sym+0xoff [mod]" or hex address; returns buf */
char *ks_ksyms_fmt(const struct ks_ksyms *k, uint64_t addr, char *buf,
		   size_t len);
/* the process-wide kallsyms, loaded on first use */
const struct ks_ksyms *ks_kernel_syms(void);
/* the process-wide kallsyms was loaded and showed only zero addresses
 * (kptr_restrict: this user may not see them) */
bool ks_kernel_syms_hidden(void);
/* addrs[i]: the address ks_ksyms_by_name() gives names[i] (0: none),
 * read from kallsyms at path (NULL: /proc/kallsyms) line by line, keeping
 * no table; 0, or -1 when it cannot be read */
int ks_ksyms_scan_names(const char *path, const char *const *names,
			uint64_t *addrs, int n);
/* the same from the process-wide table if loaded, else from the kernel
 * (a BPF syscall program, bpf/ksym.bpf.c), else by a scan; *from says
 * which answered */
int ks_kernel_syms_addrs(const char *const *names, uint64_t *addrs, int n,
			 const char **from);
/* the kernel image's layout as kallsyms names it (0: not there): its
 * text, its end, the lock and scheduler text sections, the return-probe
 * trampolines; looked up once per process (ks_kernel_syms_addrs()) */
struct ks_ktext {
	uint64_t stext, etext, end;
	uint64_t lock_lo, lock_hi, sched_lo, sched_hi;
	uint64_t kretprobe_tramp, rethook_tramp;
	const char *from;	/* where they were found, for -v */
};
int ks_kernel_text(struct ks_ktext *t);
/* between keep(true) and keep(false) a table read for ranges
 * (ks_kranges_kernel(), which otherwise lets it go at once) stays for the
 * next ranges and for ks_kernel_syms() to keep: a report whose collect
 * classifies frames and then prints names reads it once, one that needs
 * neither reads nothing, and kpages' tick reads it once for both its
 * ranges and lets it go */
void ks_kernel_syms_keep(bool keep);
/* while paused (this thread), neither of the above reads kallsyms: they
 * give the table if already loaded, else NULL (addresses stay hex) */
void ks_kernel_syms_pause(bool paused);
/* use k (owned from now on) as the process-wide kallsyms: unit tests
 * resolve stacks against a fixture */
void ks_kernel_syms_use(struct ks_ksyms *k);
/* open /proc/kallsyms now (with the capabilities that show its addresses)
 * for a later ks_kernel_syms() to read, unless already loaded */
void ks_kernel_syms_preopen(void);

/* kernel text ranges by class: the symbols classify() gives a non-zero
 * class, each up to the next symbol; ks_kranges_class(kr, addr) equals
 * classify(ks_ksyms_lookup(k, addr)), 0 where that is NULL */
struct ks_kranges;
struct ks_kranges *ks_kranges_build(const struct ks_ksyms *k,
				    unsigned int (*classify)(const struct ks_ksym *));
unsigned int ks_kranges_class(const struct ks_kranges *kr, uint64_t addr);
void ks_kranges_free(struct ks_kranges *kr);
/* *kr built from the kernel's symbols (the process-wide table if
 * loaded, else one read and let go unless kept: ks_kernel_syms_keep())
 * unless already built from the current table; 0, or -1 without
 * symbols */
int ks_kranges_kernel(struct ks_kranges **kr,
		      unsigned int (*classify)(const struct ks_ksym *));

/* ---- user-space symbols (usyms.c, elfutils libdwfl) ---------------------- */
/*
 * Symbols of one process, cached: function names, file:line where debug
 * info exists (also separate debug info, e.g. libc6-dbg), PIE executables
 * and shared libraries at their load bias.  The process's executable
 * mappings are remembered, so that addresses still resolve after it
 * exited; ks_usyms_follow() also records the mmaps it makes from then on
 * (perf mmap records), which catches a short-lived program's libraries.
 */
struct ks_usyms;
struct ks_usym {
	const char *func;	/* NULL: no symbol covers the address */
	uint64_t offset;	/* from func */
	const char *file;	/* source file, NULL without debug info */
	int line;
	const char *module;	/* path of the mapped object */
	uint64_t module_offset;	/* file offset of the address */
};

/* pid <= 0: no process, mappings only from ks_usyms_add_map*() */
/*
 * A process's files, opened as the process sees them: ks_pid_root() holds
 * /proc/PID/root open (an fd, or -1) and gives where that root lies as
 * seen from ours (a chroot's /jail; NULL otherwise, to be freed);
 * ks_open_in_root() opens a path the process names (in /proc/PID/maps,
 * say) read-only below that root with openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS): its symlinks and ".." stay inside its root, and
 * a process in another mount namespace (a container) gets its own file,
 * not the one of that name in ours.  The fd, or -1 with errno.
 */
int ks_pid_root(pid_t pid, char **rootpath);
int ks_open_in_root(int rootfd, const char *rootpath, const char *path);
struct ks_usyms *ks_usyms_new(pid_t pid);
void ks_usyms_free(struct ks_usyms *u);
/* record pid's future mmaps (call before it maps its libraries, e.g.
 * before exec); 0 or -errno */
int ks_usyms_follow(struct ks_usyms *u);
/* take in new mmap records and re-read /proc/PID/maps while it lives */
void ks_usyms_update(struct ks_usyms *u);
/* add a mapping by hand (start, end, file offset, absolute path) */
int ks_usyms_add_map(struct ks_usyms *u, uint64_t start, uint64_t end,
		     uint64_t pgoff, const char *path);
/* add the executable file mappings of /proc/PID/maps-format text */
int ks_usyms_add_maps_text(struct ks_usyms *u, const char *text);
size_t ks_usyms_nmaps(const struct ks_usyms *u);
/* an executable mapping of path (as the process names it) was seen */
bool ks_usyms_has_module(const struct ks_usyms *u, const char *path);
/* ret_addr: addr is a return address (stack frames): look up addr - 1.
 * 0, or -1 when no mapping covers addr.  Strings live until the next
 * ks_usyms call that changes the mappings. */
int ks_usyms_lookup(struct ks_usyms *u, uint64_t addr, bool ret_addr,
		    struct ks_usym *s);
/* "func+0xoff (file.c:12) [module]", "0xaddr [module+0xoff]" or "0xaddr";
 * cached, valid until the mappings change */
const char *ks_usyms_fmt(struct ks_usyms *u, uint64_t addr, bool ret_addr);
/* ---- end of user-space symbols -------------------------------------------- */

/* ---- ELF objects and processes (elf.c, proc.c) ---------------------------- */
#define KS_ELF_MAX_FUNCS	32

/* functions to find in an object: fill names and n, then scan */
struct ks_elf_funcs {
	const char *const *names;
	size_t n;
	uint64_t off[KS_ELF_MAX_FUNCS];	/* file offset, 0: not defined */
	unsigned char head[KS_ELF_MAX_FUNCS][9]; /* first bytes there */
	bool is_elf;
	bool has_interp;		/* a dynamic program: its loader */
	char interp[4096];
};

/* 0 (is_elf false for a file that is not ELF), or -errno */
int ks_elf_find_funcs(const char *path, struct ks_elf_funcs *r);
int ks_elf_find_funcs_fd(int fd, struct ks_elf_funcs *r);
int ks_elf_func_index(const struct ks_elf_funcs *r, const char *name);
uint64_t ks_elf_func_off(const struct ks_elf_funcs *r, const char *name);
/* path defines every function of the NULL-ended names */
bool ks_elf_defines(const char *path, const char *const *names);

/* the program execvp() would run for cmd: 0 or -errno */
int ks_find_program(const char *cmd, char *out, size_t len);
/* objects a dynamic program loads, in symbol lookup order (preloads
 * first), as its ELF interpreter lists them; count, *out NULL-ended */
int ks_loader_list(const char *interp, const char *exe, char ***out);
void ks_strv_free(char **v);
/* base name of path is the dynamic loader / a C library */
bool ks_is_loader(const char *path);
bool ks_is_libc(const char *path);
pid_t ks_tgid_of(pid_t pid);
/* pid maps path's file (same device and inode, or same path): 1, 0 not,
 * -errno when /proc/PID/maps cannot be read */
int ks_proc_maps_file(pid_t pid, const char *path);
/* a cgroup v2 id (bpf_get_current_cgroup_id()) as its path below the
 * cgroup2 mount ("/system.slice/x.service"), or NULL when not found */
const char *ks_cgroup_path(uint64_t id);
void ks_comm_of(pid_t pid, char *buf, size_t len);

/*
 * A process a tool follows: one it started (-- COMMAND: forked, held
 * before exec until the probes are in place, ended with the run) or one
 * it was given (-p PID: watched until it exits).
 */
struct ks_proc {
	pid_t pid;		/* 0: none */
	bool ours;		/* we started it */
	bool exited;
	int status;		/* wait status, when ours and exited */
	int release_fd, status_fd, pidfd;
};

void ks_proc_init(struct ks_proc *p);
/* fork argv[0] = exe, waiting before exec; stdout_to_stderr keeps a
 * JSON stdout clean.  0, or -1 after an error message */
int ks_proc_spawn(struct ks_proc *p, const char *exe, char *const *argv,
		  bool stdout_to_stderr);
/* let the command exec; -1 (message printed) when the exec failed */
int ks_proc_release(struct ks_proc *p, const char *exe);
/* follow a process we did not start */
void ks_proc_watch(struct ks_proc *p, pid_t pid);
/* true once the process exited (polls without blocking) */
bool ks_proc_exited(struct ks_proc *p);
/* end of run: a command still running is ended (SIGTERM, then SIGKILL
 * after a second); fds closed */
void ks_proc_end(struct ks_proc *p);

/* ---- report data: what one report found, before any output format ------- */
struct ks_run;
/*
 * A tool's collect() reads its maps once per report and fills the report
 * with tables (rows of typed cells) and report-level values.  One writer
 * per output format renders them the same way for every tool: text, JSON
 * (out_text.c, out_json.c) and whatever else reads reports (folded stacks,
 * pprof, metrics, HTML).  Tools sort their rows biggest first and put every
 * row in: text and JSON show the first -r of them, writers whose weights
 * must add up to the totals (folded, pprof) take them all.
 */
enum ks_ctype {
	KS_CT_STR,	/* text: lock, kind, cache, site, function */
	KS_CT_COMM,	/* a task name: bytes, not UTF-8; writers escape */
	KS_CT_U64,
	KS_CT_I64,
	KS_CT_F64,
	KS_CT_NS,	/* u64 nanoseconds: "1.2us" in text, integer in JSON */
	KS_CT_HIST,	/* KS_HIST_SLOTS log2 counts */
	KS_CT_STACK,	/* struct ks_stack */
};

/* what a value column counts: folded weights, pprof units, metrics */
enum ks_unit {
	KS_UNIT_NONE = 0,
	KS_UNIT_COUNT,	/* events */
	KS_UNIT_BYTES,
	KS_UNIT_PAGES,
	KS_UNIT_NS,
	KS_UNIT_US,
	KS_UNIT_MS,
};

#define KS_CF_KEY	0x01	/* identifies the row: a label for pprof,
				 * metrics; the root frame of folded stacks
				 * for KS_CT_COMM */
#define KS_CF_WEIGHT	0x02	/* default weight (folded, pprof) */
#define KS_CF_COUNT	0x04	/* the row's event count */
#define KS_CF_NOTEXT	0x08	/* JSON only */
#define KS_CF_NOJSON	0x10	/* text only */
#define KS_CF_TEXT_HIST	0x20	/* text: draw under each row (not in report) */

struct ks_col {
	const char *key;	/* JSON key; "queue.count" nests an object */
	const char *head;	/* text header; NULL: not a text column */
	enum ks_ctype type;
	int width;		/* text width, < 0 left-aligned, 0 unpadded */
	int dec;		/* F64: decimals in text */
	int jdec;		/* F64: decimals in JSON */
	enum ks_unit unit;
	unsigned int flags;	/* KS_CF_* */
	const char *sample;	/* pprof sample type ("alloc_space"), or NULL */
	const char *hist_unit;	/* KS_CF_TEXT_HIST: value label, "ns" */
};

/* A stack, innermost frame first; user frames resolve through the
 * table's usyms, kernel frames through kallsyms. */
struct ks_stack {
	int n;
	bool user;
	uint64_t ips[];
};

union ks_cell {
	const char *s;		/* STR, COMM (NUL-terminated copy) */
	uint64_t u;		/* U64, NS */
	int64_t i;
	double d;
	const uint64_t *hist;	/* KS_HIST_SLOTS counts */
	const struct ks_stack *st;
};

#define KS_TABLE_LINES	4

struct ks_table {
	const char *name;	/* JSON array key: "entries", "calls"... */
	const char *what;	/* text: "... N more <what> (-r to change)" */
	const struct ks_col *cols;
	int ncols;
	size_t nrows, cap;
	union ks_cell *cells;	/* nrows * ncols */
	struct ks_usyms *usyms;	/* user stacks resolve here (not owned) */
	/* text-only lines before the header and after the rows */
	const char *before[KS_TABLE_LINES], *after[KS_TABLE_LINES];
	int nbefore, nafter;
	bool no_header;		/* text: rows without a header line */
	/* text: a row in the tool's own words instead of columns */
	void (*text_row)(FILE *f, const struct ks_table *t, size_t row);
};

enum ks_vtype { KS_V_U64, KS_V_I64, KS_V_F64, KS_V_STR, KS_V_NULL,
		KS_V_F64S };

/* a report-level JSON value ("total_bytes"; "frees.matched" nests) */
struct ks_value {
	const char *key;
	enum ks_vtype type;
	int dec;
	int n;			/* KS_V_F64S */
	union {
		uint64_t u;
		int64_t i;
		double d;
		const char *s;
		const double *ds;
	} v;
};

#define KS_MAX_TABLES	4
#define KS_MAX_VALUES	24

struct ks_arena;
struct ks_report;

/* add a table to the report (NULL only when out of memory: a writer
 * then shows the report without it) */
struct ks_table *ks_table_add(struct ks_report *rep, const char *name,
			      const struct ks_col *cols, int ncols);
/* a new row, every cell zero (empty string, empty stack); -1 on no
 * memory */
long ks_row_add(struct ks_table *t);
void ks_cell_str(struct ks_table *t, long row, int col, const char *s);
/* a task name of at most n bytes */
void ks_cell_comm(struct ks_table *t, long row, int col, const char *s,
		  size_t n);
void ks_cell_u64(struct ks_table *t, long row, int col, uint64_t v);
void ks_cell_i64(struct ks_table *t, long row, int col, int64_t v);
void ks_cell_f64(struct ks_table *t, long row, int col, double v);
void ks_cell_hist(struct ks_table *t, long row, int col,
		  const uint64_t *slots);
void ks_cell_stack(struct ks_table *t, long row, int col,
		   const uint64_t *ips, int n, bool user);
static inline union ks_cell *ks_cell(const struct ks_table *t, size_t row,
				     int col)
{
	return &t->cells[row * t->ncols + col];
}
/* text-only line before the table's header (before) or after its rows */
__attribute__((format(printf, 3, 4)))
void ks_table_line(struct ks_table *t, bool after, const char *fmt, ...);
/* report-level values, written after the tables (JSON only) */
void ks_report_u64(struct ks_report *rep, const char *key, uint64_t v);
void ks_report_i64(struct ks_report *rep, const char *key, int64_t v);
void ks_report_f64(struct ks_report *rep, const char *key, double v,
		   int dec);
void ks_report_str(struct ks_report *rep, const char *key, const char *s);
void ks_report_null(struct ks_report *rep, const char *key);
void ks_report_f64s(struct ks_report *rep, const char *key,
		    const double *v, int n, int dec);
/* a copy of s in the report's memory, freed with it */
const char *ks_report_strdup(struct ks_report *rep, const char *s);
/* the rows the text and JSON writers show (-r) */
size_t ks_rows_shown(const struct ks_run *r, size_t n);

/* one frame as people read it: "sym+0xoff [mod]" for kernel frames,
 * ks_usyms_fmt() for user ones; returns buf or a string of usyms */
const char *ks_frame_fmt(const struct ks_table *t, const struct ks_stack *s,
			 int i, char *buf, size_t len);
/* a cell as the text writer shows it ("" for histograms and stacks);
 * returns buf or a string of the table */
const char *ks_cell_text(const struct ks_col *c, const union ks_cell *v,
			 char *buf, size_t len);
/* "12.3us" style nanoseconds for text */
const char *ks_fmt_ns(uint64_t ns, char *buf, size_t len);

/* writers: the report to r->out in one format */
void ks_write_text(const struct ks_report *rep);
void ks_write_json(const struct ks_report *rep);
/* "2026-11-22T05:44:03.928Z" */
const char *ks_fmt_time_iso(const struct timespec *ts, char *buf, size_t len);

/* ---- stacks people look at: folded stacks, flame graphs, pprof ---------- */
/*
 * The table whose stacks the stack writers take: the first with a stack
 * column in use (not hidden from both text and JSON), and in it the
 * columns of the weight (KS_CF_WEIGHT, or KS_CF_COUNT when by_count), the
 * event count and the task name (-1: none).  False when the report has
 * no stacks.
 */
struct ks_stack_view {
	const struct ks_table *t;
	int stack, weight, count, comm;
};
bool ks_stack_view(const struct ks_report *rep, bool by_count,
		   struct ks_stack_view *v);
/* frame i of s as folded stacks name it: "sym_[k]" for the kernel,
 * "func [object]" for user space; no ';' or control bytes.  Returns buf
 * or a string of the table's usyms */
const char *ks_folded_frame(const struct ks_table *t,
			    const struct ks_stack *s, int i, char *buf,
			    size_t len);
/* the report's stacks in FlameGraph's collapsed format, one line per
 * distinct "comm;outermost;...;innermost WEIGHT", sorted, every row (no
 * -r): the weights add up to the table's total.  0, or -1 on no memory */
int ks_folded_write(const struct ks_report *rep, bool by_count, FILE *f);
/* --folded: ks_folded_write() to r->out ("# time" line first with an
 * interval; drops said on stderr) */
void ks_write_folded(const struct ks_report *rep);

/*
 * pprof profiles (out_pprof.c): the stacks of reports as a gzipped
 * profile.proto (github.com/google/pprof, proto/profile.proto), as go tool
 * pprof, Pyroscope and Parca read it.  One Sample per row of the first
 * table with a stack column in use and columns with a `sample` type (every
 * row, no -r: the values add up to the totals), the count column's value
 * first; the KS_CF_WEIGHT column's type is the default; the row's string
 * keys (comm, kind, lock) are labels; kernel frames under a
 * "[kernel.kallsyms]" mapping, user frames under their object's, with file
 * and line where known; the reports' window is time and duration.  Several
 * reports make one profile, each sample labelled with its tool; those whose
 * sample types differ from the first's are left out.  0 with the gzipped
 * bytes in *out (malloc'ed), 1 when no report has such a table, -1 on no
 * memory.
 */
int ks_pprof_encode(const struct ks_report *const *reps, int n,
		    unsigned char **out, size_t *len);
/* --pprof FILE: the report's profile replaces FILE (written beside it and
 * renamed): with an interval the file holds the latest report's */
void ks_write_pprof(const struct ks_report *rep);

/*
 * Flame graphs (flame.c): folded stacks in, SVG out.  Frames are merged
 * per level and sorted by name, widths proportional to weight, a tooltip
 * per frame, colours by kind (kernel "_[k]", user "func [object]", task
 * names at the root); a small script zooms and searches, and without it
 * the SVG is still the whole picture.  Pure functions of their input
 * bytes (no globals), so they can be fuzzed.
 */
struct ks_flame;
struct ks_flame_opts {
	const char *title;	/* NULL: "Flame Graph" */
	const char *unit;	/* "bytes", "ns", "count" (NULL) */
	bool icicle;		/* root at the top, growing down */
	bool embedded;		/* in an HTML page: no XML prolog, no
				 * script (the page has ks_flame_script) */
	int width;		/* pixels; 0: 1200 */
};
struct ks_flame *ks_flame_new(void);
void ks_flame_free(struct ks_flame *f);
/* add folded text; lines that are empty or begin with '#' are skipped,
 * other lines that are not "FRAME;...;FRAME WEIGHT" are counted as bad.
 * 0, or -1 on no memory */
int ks_flame_parse(struct ks_flame *f, const char *buf, size_t len);
/* add one stack, outermost frame first */
int ks_flame_add(struct ks_flame *f, const char *const *frames,
		 const size_t *lens, int n, uint64_t weight);
uint64_t ks_flame_total(const struct ks_flame *f);
/* lines not taken (bad format, or a weight that would overflow the
 * total), and the number of the first such line (1-based) */
size_t ks_flame_bad_lines(const struct ks_flame *f, size_t *first);
/* stacks deeper than the graph draws (their weight stays in the deepest
 * frame drawn) */
size_t ks_flame_truncated(const struct ks_flame *f);
/* the SVG; 0, or -1 on a write error or no memory */
int ks_flame_svg(const struct ks_flame *f, const struct ks_flame_opts *o,
		 FILE *out);
/* the zoom and search script: function ksFlame(svg) */
extern const char ks_flame_script[];
/* up to max characters of s (n bytes, any bytes) as XML or HTML text and
 * attribute values: & < > " ' as entities, bytes that are not valid UTF-8
 * as U+FFFD, control characters as '?'.  True when all of s fit */
bool ks_xml_text(FILE *o, const char *s, size_t n, size_t max);
/* the flame graph of a report's stacks (those ks_folded_write() writes),
 * and in *unit what its weights count ("bytes", "ns", "pages", "count");
 * NULL when the report has no stacks or on no memory */
struct ks_flame *ks_flame_of_report(const struct ks_report *rep,
				    bool by_count, const char **unit);

/*
 * The HTML report (out_html.c): one self-contained page (inline CSS, SVG
 * and script, nothing fetched) with a section per tool made from its
 * report the same way for every tool: summary, mode, note, drops, its
 * tables (the rows -r shows, every cell's exact value in a data-v
 * attribute), report values, log2 histograms as SVG bar charts, the
 * stacks as a flame graph, and series sampled during the window (a
 * single-row table, numamove's) as a small time series.  Everything that
 * came from the kernel or a task name is escaped.
 */
struct ks_html;
struct ks_tool;
/* title: the page's heading; NULL after an error message (no memory) */
struct ks_html *ks_html_new(const char *title);
/* a sample of a run during the window, cumulative since it opened (a
 * report made without starting a new interval), at t seconds into it */
void ks_html_sample(struct ks_html *h, const struct ks_report *rep,
		    double t);
/* the run's report: its section (in the order added) */
void ks_html_report(struct ks_html *h, const struct ks_report *rep);
/* a tool that could not run here, and why */
void ks_html_failed(struct ks_html *h, const struct ks_tool *t,
		    const char *why);
/* the page to f; 0, or -1 on a write error or no memory.  Frees h */
int ks_html_write(struct ks_html *h, FILE *f, double window_s);
/* s (n bytes) as HTML text or attribute value */
void ks_html_escape(FILE *f, const char *s, size_t n);
/* a log2 histogram (n slots) as an SVG bar chart: one rect class="bar"
 * per slot from the first to the last used, heights proportional to the
 * counts (data-count on each); unit "ns", "us" or NULL */
void ks_html_hist_svg(FILE *f, const uint64_t *slots, int n,
		      const char *unit, const char *title);

/* ---- metrics (metrics.c): reports into monotonic series, exposition ----- */
/*
 * kscope export's model: families (Prometheus metric families), fed by
 * tools' reports through sources that name a report's table and columns,
 * and by the exporter itself (its own cost, drops, which tools are up).
 * Counters and histograms only add (each interval report brings its own
 * events), so they never go backwards; gauges are replaced per report.
 * Each family holds at most max_series label sets: new ones beyond that
 * are accounted under one set whose labels are all "other", so totals stay
 * exact.  Values are kept in the family's integer base (ns for seconds,
 * bytes, events) where the report has integers, so sums stay exact.
 */
enum ks_mtype { KS_M_COUNTER, KS_M_GAUGE, KS_M_HISTOGRAM, KS_M_INFO };

#define KS_M_LABELS	4
#define KS_M_SOURCES	3

/* where a family's numbers come from: a table of a tool's report */
struct ks_msource {
	const char *tool;
	const char *table;	/* "entries" */
	const char *value;	/* column key: the value, or histogram slots */
	const char *sum;	/* histogram: the column holding the total */
	/* column key per label of the family (NULL: the label's name); a
	 * KS_CT_STACK column gives the first frame outside the allocators */
	const char *cols[KS_M_LABELS];
};

struct ks_mfamily {
	const char *name;	/* sample name: kscope_kmem_allocations_total */
	enum ks_mtype type;
	const char *unit;	/* "seconds", "bytes" or NULL (events) */
	const char *help;
	const char *labels[KS_M_LABELS];	/* NULL-ended */
	bool by_comm;		/* gains a comm label with --label comm */
	struct ks_msource src[KS_M_SOURCES];	/* tool NULL: exporter's own */
};

/* kscope's metric families, NULL-name ended (metric_table.c) */
extern const struct ks_mfamily ks_metric_families[];
/* the metric reference of docs/export.md, in Markdown, from that table */
void ks_metric_reference(FILE *f);

#define KS_ML_COMM	0x1	/* --label comm */

struct ks_mstore;
/* NULL after an error message (no memory) */
struct ks_mstore *ks_mstore_new(const struct ks_mfamily *fams,
				long max_series, unsigned int extra_labels);
void ks_mstore_free(struct ks_mstore *s);
/* a tool's report into every family it feeds */
void ks_mstore_add_report(struct ks_mstore *s, const struct ks_report *rep);
/* the exporter's own samples, by family name and label values (in the
 * family's label order); v in the family's base unit (ns for seconds).
 * add: counters; set: gauges and counters the kernel keeps.  0, or -1
 * for an unknown family or no memory */
int ks_mstore_add(struct ks_mstore *s, const char *family,
		  const char *const *values, uint64_t v);
int ks_mstore_set(struct ks_mstore *s, const char *family,
		  const char *const *values, double v);
/* forget every series of a family (gauges rebuilt each round) */
void ks_mstore_clear(struct ks_mstore *s, const char *family);
/* label sets of family now held (the "other" set included) */
size_t ks_mstore_series(const struct ks_mstore *s, const char *family);
/* the text exposition: Prometheus 0.0.4, or OpenMetrics 1.0.0 */
void ks_mstore_write(const struct ks_mstore *s, FILE *f, bool openmetrics);
/* a label value as the exposition formats quote it: \\, \", \n escaped;
 * bytes that are not UTF-8, and control bytes, as the text \xNN */
void ks_metric_label_value(FILE *f, const char *s);
/* the kernel frame a stack's allocation is blamed on: the first that is
 * not in the allocators (kmalloc, kmem_cache_alloc, page allocator...) */
int ks_alloc_site_frame(const struct ks_stack *st);
bool ks_is_alloc_func(const char *name);

/* ---- runs: one tool instance ---------------------------------------------- */
struct ks_tool {
	const char *name;
	const char *summary;
	const char *args_help;	/* tool-specific option lines for -h */
	const char *examples;	/* example lines for -h */
	const char *overhead;	/* what tracing costs, for -h and the man page */
	/* whole-workload cost (bench/macro.py, docs/bench.md): throughput
	 * with the tool attached in percent of untraced, on stress-ng --pipe,
	 * stress-ng --fork and the open/close loop; all 0: not measured */
	unsigned char macro[3];
	const char *tracing_what;	/* "kmalloc/kmem_cache_alloc" for header */
	const struct option *long_opts;	/* extra long options */
	const char *short_opts;		/* extra short options */
	/* extra option; return 0, or -1 after ks_usage_error() */
	int (*parse_opt)(struct ks_run *r, int c, const char *arg);
	/* after options: tool-level checks (0 or -1 after an error) */
	int (*validate)(struct ks_run *r);
	/* help for -s/--stacks: what a stack does to the key; NULL: the
	 * tool has no -s (and --stack-depth only with always_stacks) */
	const char *stacks_help;
	bool always_stacks;		/* keys by stack anyway: no -s */
	/* what --folded weighs by default, for -h: "bytes" */
	const char *weight_help;
	/* the sample types of --pprof, for -h: "alloc_objects, alloc_space" */
	const char *pprof_help;
	/* help for -H/--hist (text histograms under each row); NULL: the
	 * tool has no -H */
	const char *hist_help;
	/* interval reports take the counts out of the kernel, by
	 * generation (ks_next_generation), instead of differencing them */
	bool takes_counts;
	double default_interval;	/* top-like tools: 1 s */
	/* kscope report --html samples it every second (ks_report_peek)
	 * for a time series: a differencing tool with a single-row report */
	bool report_series;
	bool needs_stack_map;		/* uses ks_stacks even without -s */
	/* beside other tools (report, export) it takes the first available
	 * tracepoint mode: its fentry mode (fexit on the allocator) would
	 * make kmem see BPF trampolines as call sites */
	bool report_prefers_tp;
	/* true when a run with r's options walks a kernel stack on every
	 * event: it takes classic tracepoints over tp_btf and raw_tp
	 * (ks_default_mode()) */
	bool (*walks_every_event)(const struct ks_run *r);
	/* its start parses the kernel's BTF three times and reads
	 * /proc/kallsyms (the lock tools): freed memory is kept for reuse
	 * while it starts (ks_heap_hold()) */
	bool hold_heap;
	/* fill p for this kernel and r's options (not started yet) */
	void (*probe)(const struct ks_run *r, struct ks_probe *p);
	/* open/load/attach in r->mode; return 0 or -1 (error printed) */
	int (*start)(struct ks_run *r);
	/* read the maps once into rep's tables and values (the library
	 * writes the report's header fields and renders it) */
	void (*collect)(struct ks_run *r, struct ks_report *rep);
	/* after an interval report: start the next interval (differencing
	 * tools keep this read as the base; stacks are the library's) */
	void (*reset)(struct ks_run *r);
	/* ks_run_restart(): forget what was counted so far, beyond what
	 * the library does (takes the counts, resets differencing tools):
	 * state that no report takes, e.g. memleak's outstanding table */
	void (*restart)(struct ks_run *r);
	void (*stop)(struct ks_run *r);
	/* a single tool's run calls it five times a second while tracing
	 * (kscope report and export do not) */
	void (*tick)(struct ks_run *r);
	/* true when the run should end (e.g. traced process exited) */
	bool (*finished)(struct ks_run *r);
	const char *const *drop_names;	/* per drop reason index */
	/* "kscope TOOL [options] -- COMMAND [ARG...]" is allowed */
	bool takes_command;
	long default_max_entries;	/* 0: KS_DEFAULT_ENTRIES */
	/* KS_DROP_RECURSION, cumulative: the runs of the tool's programs
	 * the kernel skipped; NULL: those of every program of r->obj */
	uint64_t (*recursion)(struct ks_run *r);
	/* r->tool_state: this many zeroed bytes from ks_run_init() to
	 * ks_run_free(), for the tool's options and objects */
	size_t state_size;
};

/* `kscope report`: 1 in this many events walks a stack in the tools that
 * would otherwise walk one per event (kpages, memleak); counts stay exact.
 * Chosen with bench/macro.py to keep the report within 5% of a
 * kernel-heavy load (docs/bench.md). */
#define KS_REPORT_SAMPLE 64

struct ks_run {
	const struct ks_tool *tool;
	struct ks_opts o;
	enum ks_mode mode;
	struct ks_probe probe;
	struct bpf_object *obj;		/* set by start() for drops/filters */
	void *tool_state;		/* tool->state_size bytes, zeroed */
	uint64_t drops_prev[KS_MAX_DROP_REASONS];
	double started;			/* monotonic s when attached */
	double last_report;		/* monotonic s of previous report */
	bool in_report;			/* part of `kscope report` */
	/* report: a program on a tracepoint another tool's program is
	 * on joins that one's chain (chain.c) */
	bool chain;
	bool stop_requested;
	/* set by start(): why results may be missing or partial here (one
	 * node, balancing off, a guest's spin locks...); said once on
	 * stderr, as "note" in every JSON report, and in `kscope report` */
	const char *note;
	char note_buf[1024];	/* ks_run_note()'s notes */
	/* set by start(): what the Tracing line names, instead of the
	 * tool's tracing_what (memleak: which process, which allocator) */
	const char *what;
	FILE *out;			/* stdout, or the -o file */
	int out_err;			/* errno of the first failed write */
	struct bpf_link *links[64];
	int nlinks;
	int reports;			/* reports printed so far */
};

struct ks_report {
	struct ks_run *r;
	double interval_s;
	struct timespec time;	/* CLOCK_REALTIME when the report was made */
	uint64_t drops[KS_MAX_DROP_REASONS];
	uint64_t drops_total;
	bool final;
	/* takes_counts tools: the generation to take, -1 to read all */
	long take_gen;
	struct ks_table *tables[KS_MAX_TABLES];
	int ntables;
	struct ks_value values[KS_MAX_VALUES];
	int nvalues;
	struct ks_arena *arena;	/* every string, stack and table above */
	/* ks_report_make() keeps a table of kernel symbols read for it
	 * until ks_report_free(): frames are named as it is written */
	bool syms_kept;
};

/* a report of r: drops and interval now; then collect(), write, free */
void ks_report_begin(struct ks_report *rep, struct ks_run *r, bool final);
/*
 * The report of r that its interval loop makes (run.c), for anything that
 * consumes reports without printing them (kscope export): a final one
 * detaches first; an interval one of a takes_counts tool takes the closed
 * generation.  collect() has run; use rep, then ks_report_done(), which
 * frees it and starts the next interval (reset, stacks of the generation).
 */
void ks_report_make(struct ks_report *rep, struct ks_run *r, bool final);
void ks_report_done(struct ks_report *rep);
/* what a run that differences its counters (not takes_counts) counted
 * since its interval began, without ending the interval: collect() into
 * rep, which the caller frees with ks_report_free() */
void ks_report_peek(struct ks_report *rep, struct ks_run *r);
/* render rep in r's output format (text, JSON) to r->out */
void ks_report_write(const struct ks_report *rep);
void ks_report_free(struct ks_report *rep);
/* the name of drop reason i for tool t, or NULL */
const char *ks_drop_name(const struct ks_tool *t, int i);
/* a stack a row referred to is gone or was never captured: its events
 * are counted as dropped (reason stack) instead of shown */
void ks_report_lost_stack(struct ks_report *rep, uint64_t events);

/* entry point used by main for a tool: parse argv, run, return exit code */
int ks_tool_main(const struct ks_tool *t, int argc, char **argv);
/* pieces of ks_tool_main that `kscope report` reuses */
/* defaults; 0, or -1 when out of memory (message printed) */
int ks_run_init(struct ks_run *r, const struct ks_tool *t);
int ks_run_start(struct ks_run *r);	/* choose mode, start; exit code */
/* start runs[0..n) at once (ks_run_start() each, loads in threads); a
 * run that cannot start gets tool NULL and its error in why[i]; the
 * number started, or -1 */
#define KS_WHY_LEN 256
int ks_run_start_all(struct ks_run *runs, int n, char (*why)[KS_WHY_LEN]);
void ks_run_stop(struct ks_run *r);
/* start the run's window now, forgetting what was counted since it
 * attached (kscope report opens its window once every tool is in) */
void ks_run_restart(struct ks_run *r);
/* add a note to the run's (r->note), once per text; said on stderr at
 * once when found after the Tracing line (outside kscope report) */
void ks_run_note(struct ks_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));	/* detach, tool's stop() */
void ks_run_free(struct ks_run *r);	/* the tool state */
/* the command line (argv[0] is the tool): 0, -1 after -h (exit 0), or an
 * exit code after the error message */
int ks_run_parse(struct ks_run *r, int argc, char **argv);
void ks_print_header(struct ks_run *r);

/* bpf object lifecycle helpers used inside start() */
/* program runs the kernel skipped as recursion (bpf_prog_info's
 * recursion_misses), summed: over program fds, over obj's programs */
uint64_t ks_prog_recursion_misses(const int *fds, int n);
uint64_t ks_obj_recursion_misses(const struct bpf_object *obj);
int ks_bpf_prepare(struct ks_run *r, struct bpf_object *obj);
int ks_bpf_load(struct ks_run *r, struct bpf_object *obj);
int ks_bpf_attach(struct ks_run *r, struct bpf_program *p);
/* chains (chain.c), for r->chain: attach p, or put it after the
 * programs already on its tracepoint; 0, -1 (error printed), or 1: p
 * cannot chain (attach it alone) */
int ks_chain_join(struct ks_run *r, struct bpf_program *p);
/* r's programs leave their chains (ks_bpf_cleanup()) */
void ks_chain_leave(struct ks_run *r);
/* detach every chain at once: no chained program runs after it */
void ks_chain_stop(void);
/* the recursion misses of a chained program's head since it joined
 * (0 for any other program id) */
uint64_t ks_chain_misses(uint32_t prog_id);
int ks_bpf_attach_kprobe(struct ks_run *r, struct bpf_program *p,
			 const char *func, bool ret);
/* keep a link made with libbpf's *_opts attach calls (cookies, ...):
 * error message on failure, detached by ks_bpf_cleanup() */
int ks_bpf_keep_link(struct ks_run *r, struct bpf_link *l, const char *what);
/* l from a libbpf attach call: true, or false after the one error line
 * naming what (ks_bpf_keep_link()'s, and chain.c's for a chain's head) */
bool ks_bpf_link_ok(struct ks_run *r, struct bpf_link *l, const char *what);
/* write a .rodata variable by name before load (any tool's object) */
int ks_bpf_set_rodata(struct bpf_object *obj, const char *var,
		      const void *val, size_t size);
/* size a map before load; 0 leaves a field as it is */
int ks_bpf_size_map(struct bpf_object *obj, const char *map, long entries,
		    long value_size);
/* detach every link (the tool then destroys its skeleton) */
void ks_bpf_cleanup(struct ks_run *r);
/* turn off autoload for every program except those in keep (NULL-ended) */
void ks_bpf_only(struct bpf_object *obj, struct bpf_program *const *keep);
int ks_bpf_map_fd(struct ks_run *r, const char *name);
/* sum every CPU's u64 of keys 0..nkeys-1 of a per-CPU array into out */
int ks_percpu_sum(int fd, uint32_t nkeys, uint64_t *out);

/* read every key/value of a hash map; caller frees *keys and *vals */
int ks_map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals,
		size_t *n);
/*
 * Interval reports that start from zero (tools with takes_counts, whose
 * keys carry the ks_gen generation in a gen field at gen_off): before
 * such a report the library flips the generation and waits out the
 * programs that read the old one (ks_next_generation()), and the report's
 * take_gen is the closed generation (-1 for a final report): the tool
 * takes those elements, read and deleted, and nothing else.
 */
long ks_next_generation(struct ks_run *r);	/* closed one, -1: error */
/* take generation gen's elements; gen < 0: read all, delete nothing */
int ks_map_take(int fd, size_t ksz, size_t vsz, size_t gen_off, long gen,
		void **keys, void **vals, size_t *n);
/* read a hash map into one array of rows, row i holding key i at koff and
 * its value at voff; with gen >= 0, take that generation's elements
 * (key's gen field at gen_off); NULL on no memory (*n = 0) */
void *ks_map_rows(int fd, size_t ksz, size_t vsz, size_t rsz, size_t koff,
		  size_t voff, size_t *n, size_t gen_off, long gen);
/* which: rep->take_gen (the key type has a gen field) */
#define KS_MAP_ROWS(fd, type, kf, vf, n, which)				\
	((type *)ks_map_rows(fd, sizeof(((type *)0)->kf),		\
			     sizeof(((type *)0)->vf), sizeof(type),	\
			     offsetof(type, kf), offsetof(type, vf), n,	\
			     offsetof(type, kf.gen) - offsetof(type, kf),	\
			     which))
/* delete every key */
void ks_map_clear(int fd, size_t ksz);
/* entries of a kernel stack-trace map meant to hold entries stacks: the
 * same, or fewer when the tests ask (KSCOPE_TEST_STACKID_ENTRIES, to make
 * it refuse stacks and exercise the hash map that takes them) */
long ks_stackid_entries(long entries);
/* the raw frames of a stack id into buf (KS_MAX_STACK_DEPTH slots, zeroed
 * past the frames) from fd, the map the id belongs to (common.bpf.h: a
 * stack-trace map for an id with KS_STACKID_MAP, else the hash map);
 * -1: no such stack */
int ks_stack_lookup(int fd, uint64_t stackid, uint64_t *buf);
/* frames a kernel stack walk of r takes: --stack-depth plus room for the
 * tracing frames on top in r's mode, at most KS_MAX_STACK_DEPTH */
int ks_stack_slots(const struct ks_run *r);
/* room a walk of r keeps for the tracing frames on top of its stacks */
int ks_tracing_frames(const struct ks_run *r);
/* a captured kernel stack (raw, slots frames) as people want it: the
 * tracing machinery on top (BPF program, tracepoint glue) stripped, at
 * most --stack-depth and max frames; returns the count */
int ks_kstack_clean(const struct ks_run *r, const uint64_t *raw, int slots,
		    uint64_t *ips, int max);
/*
 * Kernel stack frames of stack id stackid (KS_NO_STACK: none), captured
 * in generation gen
 * (the gen field of the key that holds it: each generation has its own
 * stack map, emptied after its interval was reported, so an id is never
 * read from a map that was cleared under it), without the tracing frames
 * on top, at most --stack-depth of them.  The count, or -1 when the id
 * holds no stack: the caller counts the events it carried with
 * ks_report_lost_stack().
 */
int ks_stack_frames(struct ks_run *r, unsigned int gen, uint64_t stackid,
		    uint64_t *ips, int max);
/* an interval of a takes_counts tool was reported: empty the closed
 * generation's stack map (the library calls this) */
void ks_stacks_done(struct ks_run *r, long gen);

/* ---- formatting helpers ----------------------------------------------------- */
/* printable copy of a kernel comm (escapes control bytes for text) */
const char *ks_comm_text(const char *comm, char *buf, size_t len);
/* human-readable bytes "12.3 KiB" */
const char *ks_fmt_bytes(uint64_t b, char *buf, size_t len);
/* length of the valid UTF-8 sequence at s (1-4), or 0 */
int ks_utf8_len(const unsigned char *s);
/* n bytes of in, gzipped (zlib level 1-9) into *out (malloc'ed): 0, or
 * -1 on no memory */
int ks_gzip(const void *in, size_t n, int level, unsigned char **out,
	    size_t *len);
/* true when /proc/cpuinfo lists this CPU flag (e.g. "hypervisor") */
bool ks_cpu_has_flag(const char *flag);
/* the running kernel's release (uname) is older than major.minor */
bool ks_kernel_before(int major, int minor);

/* ---- errors & diagnostics ------------------------------------------------- */
void ks_set_prog(const char *prog);	/* "kscope kmem" */
const char *ks_prog(void);
/* -o FILE: open (create, truncate, close-on-exec) for writing reports;
 * "-" is stdout; NULL after ks_err() */
FILE *ks_output_open(const char *path);
/* flush f; 0, or the errno of a failed write (EPIPE: the reader left) */
int ks_output_flush(FILE *f);
__attribute__((format(printf, 1, 2))) void ks_err(const char *fmt, ...);
/* getopt_long() returned ':' (a value missing) or '?': the usage error
 * line for argv[optind - 1]; returns KS_EXIT_USAGE */
int ks_opt_error(int c, char *const *argv);
/* the last ks_err() message, without the program name ("" if none) */
const char *ks_err_last(void);
/* prints the error line, returns -1 (usage: caller exits 2) */
__attribute__((format(printf, 1, 2))) int ks_usage_error(const char *fmt, ...);
/* -h's whole-workload cost line (struct ks_tool's macro); nothing if
 * not measured */
void ks_help_macro(FILE *f, const unsigned char macro[3]);
/* the last warning libbpf printed (for one-line errors) */
const char *ks_libbpf_last(void);
void ks_libbpf_setup(bool verbose);
/* many BPF objects to load: keep freed memory for the next BTF parse,
 * then (all attached) give back what is left free (util.c) */
void ks_heap_hold(void);
void ks_heap_release(void);
double ks_now(void);	/* CLOCK_MONOTONIC seconds */
/* wait until deadline (ks_now() seconds) or one of the blocked signals
 * in set; the signal that came, or 0 */
int ks_wait_until(double deadline, const sigset_t *set);

/* ---- tool table ---------------------------------------------------------- */
extern const struct ks_tool *const ks_tools[];
const struct ks_tool *ks_find_tool(const char *name);

/* `kscope report` and `kscope features` */
int ks_report_main(int argc, char **argv);
int ks_features_main(int argc, char **argv);
int ks_flamegraph_main(int argc, char **argv);

#endif
