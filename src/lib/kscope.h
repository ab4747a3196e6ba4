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
#include <sys/types.h>
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

/* Kernel capability probes, each cached after the first call. */
bool ks_kernel_has_btf(void);
/* drop the cached vmlinux BTF (after attach: it is only needed to probe) */
void ks_probe_release(void);
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
	double duration;	/* -d; 0 = until Ctrl-C or count */
	double interval;	/* 0 = one report at the end */
	long count;		/* reports to print, 0 = unlimited */
	bool json;
	bool stacks;
	int stack_depth;
	enum ks_mode mode;
	bool verbose;
	int top;		/* rows to show, 0 = all */
	long max_entries;
	bool clear;		/* top-like tools clear the screen */
	char **command;		/* after "--" (tools with takes_command) */
};

/* strict parsers: whole string must be a number in range */
int ks_parse_long(const char *s, long min, long max, long *out);
int ks_parse_double(const char *s, double min, double max, double *out);

/* ---- JSON writer ---------------------------------------------------------- */
struct ks_json {
	FILE *f;
	int depth;
	bool need_comma[32];
	bool after_key;
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
/* "hist": [{"min":..,"max":..,"count":..}, ...] from first to last used */
void ks_hist_json(struct ks_json *j, const uint64_t *slots, int n);

/* ---- kernel symbols ------------------------------------------------------- */
struct ks_ksyms;
struct ks_ksym {
	uint64_t addr;
	const char *name;
	const char *module;	/* NULL for vmlinux */
};

struct ks_ksyms *ks_ksyms_load(const char *path); /* NULL: /proc/kallsyms */
void ks_ksyms_free(struct ks_ksyms *k);
const struct ks_ksym *ks_ksyms_lookup(const struct ks_ksyms *k,
				      uint64_t addr);
const struct ks_ksym *ks_ksyms_by_name(const struct ks_ksyms *k,
				       const char *name);
/* "sym+0xoff [mod]" or hex address; returns buf */
char *ks_ksyms_fmt(const struct ks_ksyms *k, uint64_t addr, char *buf,
		   size_t len);
/* the process-wide kallsyms, loaded on first use */
const struct ks_ksyms *ks_kernel_syms(void);

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
/* ret_addr: addr is a return address (stack frames): look up addr - 1.
 * 0, or -1 when no mapping covers addr.  Strings live until the next
 * ks_usyms call that changes the mappings. */
int ks_usyms_lookup(struct ks_usyms *u, uint64_t addr, bool ret_addr,
		    struct ks_usym *s);
/* "func+0xoff (file.c:12) [module]", "0xaddr [module+0xoff]" or "0xaddr";
 * cached, valid until the mappings change */
const char *ks_usyms_fmt(struct ks_usyms *u, uint64_t addr, bool ret_addr);
/* ---- end of user-space symbols -------------------------------------------- */

/* ---- runs: one tool instance ---------------------------------------------- */
struct ks_run;
struct ks_report;

struct ks_tool {
	const char *name;
	const char *summary;
	const char *args_help;	/* tool-specific option lines for -h */
	const char *examples;	/* example lines for -h */
	const char *overhead;	/* what tracing costs, for -h and the man page */
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
	/* interval reports take the counts out of the kernel, by
	 * generation (ks_next_generation), instead of differencing them */
	bool takes_counts;
	double default_interval;	/* top-like tools: 1 s */
	bool needs_stack_map;		/* uses ks_stacks even without -s */
	void (*probe)(struct ks_probe *p);
	/* open/load/attach in r->mode; return 0 or -1 (error printed) */
	int (*start)(struct ks_run *r);
	/* one report (entries only: header/trailer are the library's) */
	void (*print)(struct ks_run *r, struct ks_report *rep);
	/* clear counters after an interval report */
	void (*reset)(struct ks_run *r);
	void (*stop)(struct ks_run *r);
	/* true when the run should end (e.g. traced process exited) */
	bool (*finished)(struct ks_run *r);
	const char *const *drop_names;	/* per drop reason index */
	/* "kscope TOOL [options] -- COMMAND [ARG...]" is allowed */
	bool takes_command;
	long default_max_entries;	/* 0: KS_DEFAULT_ENTRIES */
	/* add drops counted outside the ks_drops map (cumulative), e.g. the
	 * kernel's per-program recursion misses */
	void (*extra_drops)(struct ks_run *r, uint64_t *drops);
};

struct ks_run {
	const struct ks_tool *tool;
	struct ks_opts o;
	enum ks_mode mode;
	struct ks_probe probe;
	struct bpf_object *obj;		/* set by start() for drops/filters */
	void *tool_state;
	uint64_t drops_prev[KS_MAX_DROP_REASONS];
	double started;			/* monotonic s when attached */
	double last_report;		/* monotonic s of previous report */
	bool in_report;			/* part of `kscope report` */
	bool stop_requested;
	/* set by start(): why results may be missing or partial here (one
	 * node, balancing off, a guest's spin locks...); said once on
	 * stderr, as "note" in every JSON report, and in `kscope report` */
	const char *note;
	FILE *out;
	struct bpf_link *links[64];
	int nlinks;
	int reports;			/* reports printed so far */
};

struct ks_report {
	struct ks_run *r;
	struct ks_json j;	/* valid when r->o.json */
	double interval_s;
	uint64_t drops[KS_MAX_DROP_REASONS];
	uint64_t drops_total;
	bool final;
	/* takes_counts tools: the generation to take, -1 to read all */
	long take_gen;
};

/* entry point used by main for a tool: parse argv, run, return exit code */
int ks_tool_main(const struct ks_tool *t, int argc, char **argv);
/* pieces of ks_tool_main that `kscope report` reuses */
void ks_run_init(struct ks_run *r, const struct ks_tool *t); /* defaults */
int ks_run_start(struct ks_run *r);	/* choose mode, start; exit code */
void ks_run_stop(struct ks_run *r);
void ks_print_header(struct ks_run *r);

/* bpf object lifecycle helpers used inside start() */
int ks_bpf_prepare(struct ks_run *r, struct bpf_object *obj);
int ks_bpf_load(struct ks_run *r, struct bpf_object *obj);
int ks_bpf_attach(struct ks_run *r, struct bpf_program *p);
int ks_bpf_attach_kprobe(struct ks_run *r, struct bpf_program *p,
			 const char *func, bool ret);
/* keep a link made with libbpf's *_opts attach calls (cookies, ...):
 * error message on failure, detached by ks_bpf_cleanup() */
int ks_bpf_keep_link(struct ks_run *r, struct bpf_link *l, const char *what);
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
/* empty the stack map (interval reset, after the counts were taken) */
void ks_reset_stacks(struct ks_run *r);
/* ip is in the tracing machinery (BPF program, tracepoint glue) that sits
 * on top of stacks captured in a probe: tools with their own stack
 * storage strip these as ks_stack_frames() does */
bool ks_kernel_tracing_frame(uint64_t ip);
/* kernel stack frames for a stack id; returns count */
int ks_stack_frames(struct ks_run *r, int stackid, uint64_t *ips, int max);

/* ---- report output -------------------------------------------------------- */
void ks_report_begin(struct ks_report *rep, struct ks_run *r, bool final);
void ks_report_end(struct ks_report *rep);
/* "entries": [ ... ] around a tool's entries (no-ops in text mode) */
void ks_report_entries_begin(struct ks_report *rep);
void ks_report_entries_end(struct ks_report *rep);
/* JSON: "stack": [..] of kernel frames; text: indented lines */
void ks_report_kstack_json(struct ks_report *rep, int stackid);
void ks_report_kstack_text(struct ks_report *rep, int stackid,
			   const char *indent);
/* rows to show of n, after -r */
size_t ks_rows_shown(const struct ks_run *r, size_t n);
/* text mode: "... N more rows" when -r cut the table */
void ks_report_more_rows(struct ks_report *rep, size_t shown, size_t n);
/* printable copy of a kernel comm (escapes control bytes for text) */
const char *ks_comm_text(const char *comm, char *buf, size_t len);
/* human-readable bytes "12.3 KiB" */
const char *ks_fmt_bytes(uint64_t b, char *buf, size_t len);
/* true when /proc/cpuinfo lists this CPU flag (e.g. "hypervisor") */
bool ks_cpu_has_flag(const char *flag);

/* ---- errors & diagnostics ------------------------------------------------- */
void ks_set_prog(const char *prog);	/* "kscope kmem" */
__attribute__((format(printf, 1, 2))) void ks_err(const char *fmt, ...);
/* prints the error line, returns -1 (usage: caller exits 2) */
__attribute__((format(printf, 1, 2))) int ks_usage_error(const char *fmt, ...);
/* the last warning libbpf printed (for one-line errors) */
const char *ks_libbpf_last(void);
void ks_libbpf_setup(bool verbose);
double ks_now(void);	/* CLOCK_MONOTONIC seconds */

/* ---- tool table ---------------------------------------------------------- */
extern const struct ks_tool *const ks_tools[];
const struct ks_tool *ks_find_tool(const char *name);

/* `kscope report` and `kscope features` */
int ks_report_main(int argc, char **argv);
int ks_features_main(int argc, char **argv);

#endif
