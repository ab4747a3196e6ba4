/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What mlock, mheld and spinlock share: one BPF object (bpf/locks.bpf.c),
 * probing of the lock functions and contention tracepoints, attaching one
 * program to many kernel functions, and the lock table printer.
 */
#ifndef KS_LOCKS_COMMON_H
#define KS_LOCKS_COMMON_H

#include "kscope.h"
#include "locks.h"

/* A kernel function a lock tool may probe. */
struct locks_fn {
	const char *name;
	unsigned int cookie;	/* enum lock_fn_how, or --calls index */
};

/* NULL-name terminated candidate lists; absent functions are skipped */
extern const struct locks_fn locks_mutex_lock_fns[];
extern const struct locks_fn locks_mutex_trylock_fns[];
extern const struct locks_fn locks_rwsem_lock_fns[];
extern const struct locks_fn locks_rwsem_trylock_fns[];
extern const struct locks_fn locks_rwsem_unlock_fns[];
extern const struct locks_fn locks_spin_fns[];
bool locks_preempt_rt(void);

/* Copy the candidates the running kernel has into out; returns count. */
int locks_present(const struct locks_fn *cands, struct locks_fn *out,
		  int max);

/* Fill tp_btf, raw_tp and tracepoint for lock:contention_begin/end. */
void locks_probe_contention(struct ks_probe *p, const char *measures);
/* Fill fentry and kprobe for the first present function of fns. */
void locks_probe_fns(struct ks_probe *p, const struct locks_fn *fns,
		     const char *need, const char *measures);
/* Best contention tracepoint flavour to run beside function probes, or
 * KS_MODE_MAX for none. */
enum ks_mode locks_contention_mode(void);

/* One program to attach, in order, to the functions listed (fentry,
 * fexit, kprobe, kretprobe), or as it is (tracepoints: nfns == 0). */
struct locks_prog {
	struct bpf_program *prog;
	const struct locks_fn *fns;
	int nfns;
	bool ret;		/* kretprobe */
};

struct locks_bpf;
struct slabname_bpf;

/* -S/--sort */
enum locks_sort { LOCKS_SORT_TOTAL = 0, LOCKS_SORT_COUNT, LOCKS_SORT_MAX,
		  LOCKS_SORT_AVG };

/* --by, -S, -L, --caller, --type, --owner: shared by the three tools */
struct locks_opts {
	unsigned int by;		/* LOCK_BY_*; 0: lock,comm */
	enum locks_sort sort;
	unsigned long long lock_addr[LOCK_MAX_FILTER];
	unsigned int nlock;
	unsigned int classes;		/* bit per enum lock_class */
	unsigned long long caller_lo[LOCK_MAX_FILTER];
	unsigned long long caller_hi[LOCK_MAX_FILTER];
	unsigned int ncaller;
	unsigned long long type_mask;	/* 0: any type */
	const char *type_arg;
};

enum { LOCKS_OPT_BY = 2100, LOCKS_OPT_CALLER, LOCKS_OPT_TYPE,
       LOCKS_OPT_OWNER };

#define LOCKS_SHORT_OPTS	"S:L:"
#define LOCKS_LONG_OPTS							\
	{ "by", required_argument, NULL, LOCKS_OPT_BY },		\
	{ "sort", required_argument, NULL, 'S' },			\
	{ "lock", required_argument, NULL, 'L' },			\
	{ "caller", required_argument, NULL, LOCKS_OPT_CALLER },	\
	{ "type", required_argument, NULL, LOCKS_OPT_TYPE }
#define LOCKS_ARGS_HELP							\
"      --by KEYS          key rows by any of lock, caller, comm, tid,\n"	\
"                         cgroup (comma-separated; default lock,comm);\n"	\
"                         caller: first kernel frame outside the lock\n"	\
"                         and scheduler text (a short stack walk);\n"	\
"                         cgroup: shown as its path below the cgroup2\n"	\
"                         mount\n"	\
"  -S, --sort KEY         sort rows by total (default), count, max, avg\n"	\
"  -L, --lock LOCK[,...]  only these locks: a kernel symbol (+0xoff),\n"	\
"                         an address, mmap_lock, siglock or rq_lock\n"	\
"      --caller FUNC[,...] only waits whose caller is in FUNC\n"	\
"      --type TYPE[,...]  only these lock types: mutex, rwsem(-read,\n"	\
"                         -write), spin, rwlock(-read,-write),\n"	\
"                         semaphore, rtmutex, percpu-rwsem\n"
/* mlock only */
#define LOCKS_OWNER_HELP						\
"      --owner            also key by the task holding the lock when the\n" \
"                         wait began (mutexes, writer-held rwsems)\n"

/* one of the options above: 0 parsed, -1 after a usage error, 1 not
 * one of them */
int locks_parse_opt(struct ks_run *r, int c, const char *arg);

#define LOCKS_MAX_FDS	128

/* r->tool_state of mlock, mheld and spinlock (their state_size) */
struct locks_state {
	struct locks_bpf *skel;
	struct slabname_bpf *slab;	/* heap locks' slab caches, or NULL */
	bool slab_kfunc;	/* the kernel has bpf_get_kmem_cache() */
	int fds[LOCKS_MAX_FDS];	/* copies of programs and their links */
	int nfds;
	int prog_fds[LOCKS_MAX_FDS];	/* the copies among them */
	int nprog_fds;
	bool all_sleeping;	/* mlock, mheld --all-sleeping */
	bool calls;		/* spinlock --calls */
	/* spinlock --calls: contention programs beside it, or KS_MODE_MAX */
	enum ks_mode calls_cont_mode;
	struct locks_fn fns[32];	/* functions probed */
	struct locks_opts lo;
	struct ks_col cols[20], call_cols[8];	/* this run's columns */
};

struct locks_cfg {
	unsigned long long accept_flags;	/* bit (flags & LOCK_F_MASK) */
	bool track_tid;		/* sleeping waits in contention_end */
	bool held;		/* size the held-locks map (mheld) */
	bool calls;		/* size the calls map (spinlock --calls) */
};

/* Open the object into r->tool_state and apply common options and cfg. */
struct locks_bpf *locks_open(struct ks_run *r, const struct locks_cfg *cfg);
/* Load only progs[], then attach them in order. */
int locks_load_attach(struct ks_run *r, const struct locks_prog *progs,
		      int n);
/* The contention begin/end programs of a tracepoint mode. */
void locks_contention_progs(struct locks_bpf *skel, enum ks_mode m,
			    struct bpf_program **begin,
			    struct bpf_program **end);

/* the waits (hold: hold times, kinds without spinning/sleeping) table */
void locks_collect(struct ks_run *r, struct ks_report *rep, bool hold);
/* spinlock --calls: the "calls" table */
void locks_collect_calls(struct ks_run *r, struct ks_report *rep,
			 const struct locks_fn *fns, int nfns);
/* tool->recursion: the skeleton's programs and those loaded beside it */
uint64_t locks_recursion(struct ks_run *r);
void locks_stop(struct ks_run *r);

/* "mutex:sleeping", "rwlock-read:spinning", ... (see docs/locks.md) */
const char *locks_kind_name(unsigned int kind, bool hold, char *buf,
			    size_t len);
/* "mmap_lock", "siglock", "rq_lock" for enum lock_class, else NULL */
const char *locks_class_name(unsigned int lclass);
/* a lock's name: its heap class, the kallsyms name of a static lock,
 * "&CACHE" for one in a slab object (kernels with bpf_get_kmem_cache()),
 * else its hex address */
const char *locks_lock_name(const struct locks_state *st,
			    unsigned int lclass, unsigned long long addr,
			    char *buf, size_t len);

extern const char *const locks_drop_names[];

#endif
