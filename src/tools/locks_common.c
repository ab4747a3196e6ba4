// SPDX-License-Identifier: GPL-2.0
/*
 * The user half shared by mlock, mheld and spinlock (see locks_common.h).
 *
 * fentry programs are bound to one kernel function when they are loaded,
 * and a kernel before the multi-attach tracing links needs one loaded
 * program per function.  Rather than writing one BPF program per mutex or
 * spin lock variant (klockstat's ~70), each body is compiled once: libbpf
 * loads it for the first function, and the instructions it loaded are
 * loaded again, unchanged, for every further function (same maps, same
 * CO-RE relocations).  The attach cookie tells the body which kind of
 * function it is on.  Kprobes need no copies: one program, one kprobe
 * per function, each with its cookie.
 */
#include <sys/utsname.h>
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "locks_common.h"
#include "locks.skel.h"
#include "slabname.skel.h"

const char *const locks_drop_names[] = {
	"missed", "inflight_full", "reentered", NULL,
};

/*
 * Mutex lock functions.  Without CONFIG_DEBUG_LOCK_ALLOC the kernel has
 * mutex_lock, _interruptible, _killable and _io; with it those are macros
 * for the *_nested forms and _mutex_lock_nest_lock, and since 6.16
 * mutex_lock_killable_nested is a macro for _mutex_lock_killable (the
 * mutex_lock_killable_nest_lock() change).  All take the mutex as their
 * first argument.
 */
const struct locks_fn locks_mutex_lock_fns[] = {
	{ "mutex_lock", LOCK_FN_VOID },
	{ "mutex_lock_interruptible", LOCK_FN_INT },
	{ "mutex_lock_killable", LOCK_FN_INT },
	{ "mutex_lock_io", LOCK_FN_VOID | LOCK_FN_OUTER },
	{ "mutex_lock_nested", LOCK_FN_VOID },
	{ "_mutex_lock_nest_lock", LOCK_FN_VOID },
	{ "mutex_lock_interruptible_nested", LOCK_FN_INT },
	{ "mutex_lock_killable_nested", LOCK_FN_INT },
	{ "_mutex_lock_killable", LOCK_FN_INT },
	{ "mutex_lock_io_nested", LOCK_FN_VOID },
	{ NULL, 0 },
};

/* mutex_trylock; under lockdep since 6.16 a macro for
 * _mutex_trylock_nest_lock (the mutex_trylock_nest_lock() change) */
const struct locks_fn locks_mutex_trylock_fns[] = {
	{ "mutex_trylock", LOCK_FN_TRY },
	{ "_mutex_trylock_nest_lock", LOCK_FN_TRY },
	{ NULL, 0 },
};

/*
 * rw_semaphore functions (kernel/locking/rwsem.c), all taking the
 * semaphore first; the *_nested forms and _down_write_nest_lock exist
 * only under CONFIG_DEBUG_LOCK_ALLOC.  The _non_owner forms are left out:
 * another task releases what they take.
 */
const struct locks_fn locks_rwsem_lock_fns[] = {
	{ "down_read", LOCK_FN_VOID | LOCK_FN_RWSEM_READ },
	{ "down_read_interruptible", LOCK_FN_INT | LOCK_FN_RWSEM_READ },
	{ "down_read_killable", LOCK_FN_INT | LOCK_FN_RWSEM_READ },
	{ "down_read_nested", LOCK_FN_VOID | LOCK_FN_RWSEM_READ },
	{ "down_read_killable_nested", LOCK_FN_INT | LOCK_FN_RWSEM_READ },
	{ "down_write", LOCK_FN_VOID | LOCK_FN_RWSEM_WRITE },
	{ "down_write_killable", LOCK_FN_INT | LOCK_FN_RWSEM_WRITE },
	{ "down_write_nested", LOCK_FN_VOID | LOCK_FN_RWSEM_WRITE },
	{ "_down_write_nest_lock", LOCK_FN_VOID | LOCK_FN_RWSEM_WRITE },
	{ "down_write_killable_nested", LOCK_FN_INT | LOCK_FN_RWSEM_WRITE },
	{ NULL, 0 },
};

/* each returns 1 when it acquired */
const struct locks_fn locks_rwsem_trylock_fns[] = {
	{ "down_read_trylock", LOCK_FN_TRY | LOCK_FN_RWSEM_READ },
	{ "down_write_trylock", LOCK_FN_TRY | LOCK_FN_RWSEM_WRITE },
	{ NULL, 0 },
};

const struct locks_fn locks_rwsem_unlock_fns[] = {
	{ "up_read", LOCK_FN_UNLOCK | LOCK_FN_RWSEM_READ },
	{ "up_write", LOCK_FN_UNLOCK | LOCK_FN_RWSEM_WRITE },
	{ "downgrade_write", LOCK_FN_DOWNGRADE | LOCK_FN_RWSEM_WRITE },
	{ NULL, 0 },
};

/* The spin_lock family as out-of-line functions (x86 inlines none of
 * them by default); cookie = index, the kind comes from the name. */
const struct locks_fn locks_spin_fns[] = {
	{ "_raw_spin_lock", 0 },
	{ "_raw_spin_lock_bh", 1 },
	{ "_raw_spin_lock_irq", 2 },
	{ "_raw_spin_lock_irqsave", 3 },
	{ "_raw_spin_lock_nested", 4 },
	{ "_raw_spin_lock_irqsave_nested", 5 },
	{ "_raw_spin_lock_nest_lock", 6 },
	{ "_raw_read_lock", 7 },
	{ "_raw_read_lock_bh", 8 },
	{ "_raw_read_lock_irq", 9 },
	{ "_raw_read_lock_irqsave", 10 },
	{ "_raw_write_lock", 11 },
	{ "_raw_write_lock_bh", 12 },
	{ "_raw_write_lock_irq", 13 },
	{ "_raw_write_lock_irqsave", 14 },
	{ "_raw_write_lock_nested", 15 },
	/* PREEMPT_RT: spinlock_t and rwlock_t are rtlocks, taken by these
	 * (spin_lock_irq() too); only raw_spinlock_t uses the ones above */
	{ "rt_spin_lock", 16 },
	{ "rt_read_lock", 17 },
	{ "rt_write_lock", 18 },
	{ NULL, 0 },
};

/*
 * A PREEMPT_RT kernel: /sys/kernel/realtime reads 1 (ksysfs), else the
 * version string names it ("... SMP PREEMPT_RT ...").
 */
bool locks_preempt_rt(void)
{
	char buf[8] = "";
	struct utsname u;
	FILE *f = fopen("/sys/kernel/realtime", "r");

	if (f) {
		bool rt = fgets(buf, sizeof(buf), f) && buf[0] == '1';

		fclose(f);
		return rt;
	}
	return uname(&u) == 0 && strstr(u.version, "PREEMPT_RT");
}

int locks_present(const struct locks_fn *cands, struct locks_fn *out,
		  int max)
{
	int n = 0;

	for (int i = 0; cands[i].name && n < max; i++) {
		const char *one[2] = { cands[i].name, NULL };

		if (ks_first_kfunc(one))
			out[n++] = cands[i];
	}
	return n;
}

void locks_probe_contention(struct ks_probe *p, const char *measures)
{
	struct ks_mode_avail *m;

	m = &p->m[KS_MODE_TP_BTF];
	ks_mode_set(m, ks_can_tp_btf("contention_begin", m->why,
				     sizeof(m->why)) &&
		       ks_can_tp_btf("contention_end", m->why, sizeof(m->why)),
		    measures, m->why);
	m = &p->m[KS_MODE_RAW_TP];
	ks_mode_set(m, ks_can_raw_tp("contention_begin", m->why,
				     sizeof(m->why)) &&
		       ks_can_raw_tp("contention_end", m->why, sizeof(m->why)),
		    measures, m->why);
	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, ks_can_tracepoint("lock", "contention_begin", m->why,
					 sizeof(m->why)) &&
		       ks_can_tracepoint("lock", "contention_end", m->why,
					 sizeof(m->why)),
		    measures, m->why);
}

void locks_probe_fns(struct ks_probe *p, const struct locks_fn *fns,
		     const char *need, const char *measures)
{
	struct ks_mode_avail *fe = &p->m[KS_MODE_FENTRY];
	struct ks_mode_avail *kp = &p->m[KS_MODE_KPROBE];
	struct locks_fn first;
	char why[200];

	if (!locks_present(fns, &first, 1)) {
		snprintf(why, sizeof(why), "none of the %s functions is in "
			 "this kernel's BTF or kallsyms (inlined?)", need);
		ks_mode_set(fe, false, NULL, why);
		ks_mode_set(kp, false, NULL, why);
		return;
	}
	ks_mode_set(fe, ks_can_fentry(first.name, fe->why, sizeof(fe->why)),
		    measures, fe->why);
	ks_mode_set(kp, ks_can_kprobe(first.name, kp->why, sizeof(kp->why)),
		    measures, kp->why);
}

enum ks_mode locks_contention_mode(void)
{
	char why[200];

	if (ks_can_tp_btf("contention_begin", why, sizeof(why)))
		return KS_MODE_TP_BTF;
	if (ks_can_raw_tp("contention_begin", why, sizeof(why)) &&
	    ks_can_raw_tp("contention_end", why, sizeof(why)))
		return KS_MODE_RAW_TP;
	if (ks_can_tracepoint("lock", "contention_begin", why, sizeof(why)) &&
	    ks_can_tracepoint("lock", "contention_end", why, sizeof(why)))
		return KS_MODE_TRACEPOINT;
	return KS_MODE_MAX;
}

static struct locks_state *state(struct ks_run *r)
{
	return r->tool_state;
}

/* ---- --by, -S, -L, --caller, --type ---------------------------------- */

static const char *const class_names[LOCK_C_MAX] = {
	[LOCK_C_MMAP] = "mmap_lock",
	[LOCK_C_SIGLOCK] = "siglock",
	[LOCK_C_RQ] = "rq_lock",
};

const char *locks_class_name(unsigned int lclass)
{
	return lclass < LOCK_C_MAX ? class_names[lclass] : NULL;
}

/* the lock type of contention flags f, as --type names it */
static const char *type_base(unsigned int f)
{
	char buf[48];
	static char out[LOCK_F_MASK + 1][48];

	locks_kind_name(f, true, buf, sizeof(buf));
	buf[strcspn(buf, ":")] = '\0';
	snprintf(out[f], sizeof(out[f]), "%s", buf);
	return out[f];
}

static int parse_type(struct locks_opts *lo, const char *arg)
{
	char *dup = strdup(arg), *save = NULL, *t;

	if (!dup)
		return ks_usage_error("out of memory");
	lo->type_arg = arg;
	for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned long long m = 0;
		size_t l = strlen(t);

		for (unsigned int f = 0; f <= LOCK_F_MASK; f++) {
			const char *b = type_base(f);

			/* "rwsem" is rwsem-read and rwsem-write */
			if (!strcmp(b, t) || (!strncmp(b, t, l) && b[l] == '-'))
				m |= 1ULL << f;
		}
		if (!m) {
			int rc = ks_usage_error("--type: unknown lock type "
				"'%s' (mutex, rwsem, rwsem-read, rwsem-write, "
				"spin, rwlock, rwlock-read, rwlock-write, "
				"semaphore, rtmutex, percpu-rwsem)", t);

			free(dup);
			return rc;
		}
		lo->type_mask |= m;
	}
	free(dup);
	return 0;
}

static int parse_by(struct locks_opts *lo, const char *arg)
{
	static const char *const names[] = { "lock", "caller", "comm", "tid",
					     "cgroup" };
	char *dup = strdup(arg), *save = NULL, *t;
	unsigned int by = lo->by & LOCK_BY_OWNER;

	if (!dup)
		return ks_usage_error("out of memory");
	for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(t, names[i]))
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			int rc = ks_usage_error("--by: unknown key '%s' (lock, "
						"caller, comm, tid, cgroup)", t);

			free(dup);
			return rc;
		}
		by |= 1U << i;	/* LOCK_BY_* in the order of names[] */
	}
	free(dup);
	if (!(by & ~LOCK_BY_OWNER))
		return ks_usage_error("--by: no key given");
	lo->by = by;
	return 0;
}

/* a kernel symbol, symbol+0xoff or address */
static int parse_addr(const char *s, unsigned long long *addr,
		      const struct ks_ksym **sym)
{
	const struct ks_ksyms *k = ks_kernel_syms();
	char name[256];
	const char *plus = strchr(s, '+');
	unsigned long long off = 0;
	char *end;

	*sym = NULL;
	if (!strncmp(s, "0x", 2)) {
		*addr = strtoull(s, &end, 16);
		return *end || !*addr ? -1 : 0;
	}
	snprintf(name, sizeof(name), "%.*s",
		 plus ? (int)(plus - s) : (int)strlen(s), s);
	if (plus) {
		off = strtoull(plus + 1, &end, 0);
		if (*end)
			return -1;
	}
	*sym = ks_ksyms_by_name(k, name);
	if (!*sym || !(*sym)->addr)
		return -1;
	*addr = (*sym)->addr + off;
	return 0;
}

static int parse_locks(struct locks_opts *lo, const char *arg)
{
	char *dup = strdup(arg), *save = NULL, *t;

	if (!dup)
		return ks_usage_error("out of memory");
	for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct ks_ksym *sym;
		unsigned int c;

		for (c = 1; c < LOCK_C_MAX; c++)
			if (!strcmp(t, class_names[c]))
				break;
		if (c < LOCK_C_MAX) {
			lo->classes |= 1U << c;
			continue;
		}
		if (lo->nlock >= LOCK_MAX_FILTER) {
			free(dup);
			return ks_usage_error("-L: at most %d locks",
					      LOCK_MAX_FILTER);
		}
		if (parse_addr(t, &lo->lock_addr[lo->nlock], &sym)) {
			int rc = ks_usage_error("-L: '%s' is no kernel symbol, "
				"address (0x...), mmap_lock, siglock or "
				"rq_lock", t);

			free(dup);
			return rc;
		}
		lo->nlock++;
	}
	free(dup);
	return 0;
}

static int parse_callers(struct locks_opts *lo, const char *arg)
{
	char *dup = strdup(arg), *save = NULL, *t;

	if (!dup)
		return ks_usage_error("out of memory");
	for (t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		const struct ks_ksym *s;
		unsigned int i = lo->ncaller;

		s = ks_ksyms_by_name(ks_kernel_syms(), t);
		if (i >= LOCK_MAX_FILTER || !s || !s->addr) {
			int rc = i >= LOCK_MAX_FILTER ?
				ks_usage_error("--caller: at most %d functions",
					       LOCK_MAX_FILTER) :
				ks_usage_error("--caller: no kernel function "
					       "'%s' in /proc/kallsyms", t);

			free(dup);
			return rc;
		}
		lo->caller_lo[i] = s->addr;
		lo->caller_hi[i] = ks_ksyms_end(ks_kernel_syms(), s);
		lo->ncaller++;
	}
	free(dup);
	return 0;
}

int locks_parse_opt(struct ks_run *r, int c, const char *arg)
{
	struct locks_opts *lo = &state(r)->lo;

	switch (c) {
	case LOCKS_OPT_BY:
		return parse_by(lo, arg);
	case LOCKS_OPT_OWNER:
		lo->by |= LOCK_BY_OWNER;
		return 0;
	case 'S':
		if (!strcmp(arg, "total"))
			lo->sort = LOCKS_SORT_TOTAL;
		else if (!strcmp(arg, "count"))
			lo->sort = LOCKS_SORT_COUNT;
		else if (!strcmp(arg, "max"))
			lo->sort = LOCKS_SORT_MAX;
		else if (!strcmp(arg, "avg"))
			lo->sort = LOCKS_SORT_AVG;
		else
			return ks_usage_error("-S: sort by count, total, max "
					      "or avg, not '%s'", arg);
		return 0;
	case 'L':
		return parse_locks(lo, arg);
	case LOCKS_OPT_CALLER:
		return parse_callers(lo, arg);
	case LOCKS_OPT_TYPE:
		return parse_type(lo, arg);
	}
	return 1;
}

/* the options above into the object's .rodata */
static int set_lock_opts(struct ks_run *r, struct locks_bpf *skel,
			 const struct locks_cfg *cfg)
{
	const struct locks_opts *lo = &state(r)->lo;
	unsigned int by = lo->by & ~LOCK_BY_OWNER ? lo->by :
			  lo->by | LOCK_BY_LOCK | LOCK_BY_COMM;
	struct ks_ktext kt;
	int ncpu;

	skel->rodata->by_mask = by;
	skel->rodata->want_caller = (by & LOCK_BY_CALLER) || lo->ncaller;
	skel->rodata->want_class = (by & LOCK_BY_LOCK) || lo->classes;
	/* a few addresses, read without keeping the symbol table while
	 * tracing (a report reads it for its names) */
	ks_kernel_text(&kt);
	if (r->o.verbose)
		fprintf(stderr, "kscope %s: kernel text from %s: _stext 0x%"
			PRIx64 " _etext 0x%" PRIx64 " __lock_text_start 0x%"
			PRIx64 " __lock_text_end 0x%" PRIx64
			" __sched_text_start 0x%" PRIx64 " __sched_text_end 0x%"
			PRIx64 "\n", r->tool->name, kt.from, kt.stext, kt.etext,
			kt.lock_lo, kt.lock_hi, kt.sched_lo, kt.sched_hi);
	skel->rodata->kretprobe_tramp = kt.kretprobe_tramp;
	skel->rodata->rethook_tramp = kt.rethook_tramp;
	skel->rodata->lock_text_lo = kt.lock_lo;
	skel->rodata->lock_text_hi = kt.lock_hi;
	skel->rodata->sched_text_lo = kt.sched_lo;
	skel->rodata->sched_text_hi = kt.sched_hi;
	skel->rodata->core_text_lo = kt.stext;
	skel->rodata->core_text_hi = kt.etext;
	skel->rodata->image_lo = kt.stext;
	skel->rodata->image_hi = kt.end;
	if (skel->rodata->want_caller && !skel->rodata->sched_text_hi) {
		ks_err("--by caller/--caller: no __sched_text_start in "
		       "/proc/kallsyms (hidden addresses?)");
		return -1;
	}
	if (lo->type_mask) {
		skel->rodata->type_mask = lo->type_mask;
		if (cfg->accept_flags && !(cfg->accept_flags & lo->type_mask)) {
			ks_err("--type %s: %s sees no waits of that type here "
			       "(mlock: mutexes, other sleeping locks with "
			       "--all-sleeping; spinlock: spin locks, rwlocks)",
			       lo->type_arg, r->tool->name);
			return -1;
		}
		skel->rodata->accept_flags &= lo->type_mask;
	}
	skel->rodata->n_lock_filter = lo->nlock;
	for (unsigned int i = 0; i < lo->nlock; i++)
		skel->rodata->lock_filter[i] = lo->lock_addr[i];
	skel->rodata->class_filter = lo->classes;
	skel->rodata->n_caller_filter = lo->ncaller;
	for (unsigned int i = 0; i < lo->ncaller; i++) {
		skel->rodata->caller_lo[i] = lo->caller_lo[i];
		skel->rodata->caller_hi[i] = lo->caller_hi[i];
	}
	/* rq_lock names: room for every CPU's runqueue lock */
	ncpu = libbpf_num_possible_cpus();
	if (ncpu > 0 && ncpu <= LOCK_MAX_CPUS) {
		skel->rodata->nr_cpus = ncpu;
		bpf_map__set_max_entries(skel->maps.rq_locks, ncpu);
	}
	return 0;
}

struct locks_bpf *locks_open(struct ks_run *r, const struct locks_cfg *cfg)
{
	struct locks_state *st = state(r);
	struct locks_bpf *skel;
	const struct btf *btf;
	long n = r->o.max_entries;

	skel = st->skel = locks_bpf__open();
	if (!skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return NULL;
	}
	if (ks_bpf_prepare(r, skel->obj))
		return NULL;
	skel->rodata->accept_flags = cfg->accept_flags;
	skel->rodata->track_tid = cfg->track_tid;
	skel->rodata->use_stacks = r->o.stacks;
	if (set_lock_opts(r, skel, cfg))
		return NULL;
	/* asked now, while the BTF parsed for the probes is still here */
	btf = ks_kernel_btf();
	st->slab_kfunc = btf && btf__find_by_name_kind(btf,
			"bpf_get_kmem_cache", BTF_KIND_FUNC) >= 0;
	/* maps a tool does not use stay at one entry */
	bpf_map__set_max_entries(skel->maps.waits, n);
	bpf_map__set_max_entries(skel->maps.inflight, n);
	skel->rodata->inflight_slots = n;
	bpf_map__set_max_entries(skel->maps.held, cfg->held ? n : 1);
	bpf_map__set_max_entries(skel->maps.calls, cfg->calls ? n : 1);
	return skel;
}

void locks_contention_progs(struct locks_bpf *skel, enum ks_mode m,
			    struct bpf_program **begin,
			    struct bpf_program **end)
{
	switch (m) {
	case KS_MODE_TP_BTF:
		*begin = skel->progs.cont_begin_btf;
		*end = skel->progs.cont_end_btf;
		break;
	case KS_MODE_RAW_TP:
		*begin = skel->progs.cont_begin_raw;
		*end = skel->progs.cont_end_raw;
		break;
	default:
		*begin = skel->progs.cont_begin_tp;
		*end = skel->progs.cont_end_tp;
		break;
	}
}

static bool is_trace_prog(const struct bpf_program *p)
{
	return bpf_program__type(p) == BPF_PROG_TYPE_TRACING;
}

static int keep_fd(struct locks_state *st, int fd)
{
	if (st->nfds >= LOCKS_MAX_FDS) {
		close(fd);
		ks_err("internal: too many lock function probes");
		return -1;
	}
	st->fds[st->nfds++] = fd;
	return 0;
}

/* Load p's instructions again for func (BTF id: id) and attach that copy. */
static int attach_copy(struct ks_run *r, const struct bpf_program *p,
		       const struct locks_fn *fn, int id)
{
	enum bpf_attach_type at = bpf_program__expected_attach_type(p);
	/* per thread: report may load mlock and spinlock at once */
	static __thread char log[8192];
	int pfd, lfd;

	if (id < 0) {
		ks_err("cannot attach to %s: not in the kernel's BTF", fn->name);
		return -1;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, lo, .expected_attach_type = at,
		    .attach_btf_id = id, .log_buf = log,
		    .log_size = sizeof(log));
	log[0] = '\0';
	pfd = bpf_prog_load(BPF_PROG_TYPE_TRACING, bpf_program__name(p),
			    "GPL", bpf_program__insns(p),
			    bpf_program__insn_cnt(p), &lo);
	if (pfd < 0) {
		int e = errno;

		log[strcspn(log, "\n")] = '\0';
		ks_err("cannot load %s for %s: %s%s%s", bpf_program__name(p),
		       fn->name, strerror(e), log[0] ? ": " : "", log);
		return -1;
	}
	if (keep_fd(state(r), pfd))
		return -1;
	state(r)->prog_fds[state(r)->nprog_fds++] = pfd;
	LIBBPF_OPTS(bpf_link_create_opts, ko, .tracing.cookie = fn->cookie);
	lfd = bpf_link_create(pfd, 0, at, &ko);
	if (lfd < 0) {
		ks_err("cannot attach %s to %s in %s mode: %s",
		       bpf_program__name(p), fn->name, ks_mode_name(r->mode),
		       strerror(errno));
		return -1;
	}
	return keep_fd(state(r), lfd);
}

/* ids: the BTF ids of lp's functions (tracing programs) */
static int attach_prog(struct ks_run *r, const struct locks_prog *lp,
		       const int *ids)
{
	struct bpf_program *p = lp->prog;

	if (!lp->nfns)
		return ks_bpf_attach(r, p);
	for (int i = 0; i < lp->nfns; i++) {
		const struct locks_fn *fn = &lp->fns[i];
		struct bpf_link *l;

		if (is_trace_prog(p)) {
			LIBBPF_OPTS(bpf_trace_opts, to, .cookie = fn->cookie);

			if (i > 0) {
				if (attach_copy(r, p, fn, ids[i]))
					return -1;
				continue;
			}
			l = bpf_program__attach_trace_opts(p, &to);
		} else {
			LIBBPF_OPTS(bpf_kprobe_opts, ko, .bpf_cookie = fn->cookie,
				    .retprobe = lp->ret);

			l = bpf_program__attach_kprobe_opts(p, fn->name, &ko);
		}
		if (ks_bpf_keep_link(r, l, fn->name))
			return -1;
	}
	return 0;
}

/* one object for the process: report runs mlock and spinlock at once,
 * from loader threads (each load parses the kernel's BTF again) */
static pthread_mutex_t slab_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slabname_bpf *slab_shared;
static int slab_users;

/*
 * Heap locks by slab cache: bpf/slabname.bpf.c, where the kernel has the
 * bpf_get_kmem_cache() kfunc (6.13+), loaded now (before capabilities
 * are dropped) and run at report time.  Elsewhere heap locks keep their
 * addresses, as docs/locks.md says; a kernel that has the kfunc and still
 * refuses the program gets a note, not silence.
 */
static void slab_open(struct ks_run *r)
{
	struct locks_state *st = state(r);

	if (!st->slab_kfunc)
		return;
	pthread_mutex_lock(&slab_lock);
	if (!slab_shared)
		slab_shared = slabname_bpf__open_and_load();
	st->slab = slab_shared;
	slab_users += st->slab != NULL;
	pthread_mutex_unlock(&slab_lock);
	/* libbpf's last warning: this thread's own (util.c) */
	if (!st->slab)
		ks_run_note(r, "heap locks are not named by slab cache: the "
			    "kernel refused the bpf_get_kmem_cache() program "
			    "(%s)", ks_libbpf_last());
}

static void slab_close(struct locks_state *st)
{
	if (!st->slab)
		return;
	pthread_mutex_lock(&slab_lock);
	if (!--slab_users) {
		slabname_bpf__destroy(slab_shared);
		slab_shared = NULL;
	}
	pthread_mutex_unlock(&slab_lock);
	st->slab = NULL;
}

/* "&CACHE" for an address in a slab object, or NULL */
static const char *slab_name(const struct locks_state *st,
			     unsigned long long addr, char *buf, size_t len)
{
	struct lock_slab_args a = { .addr = addr };
	/* a syscall program's context is copied back into ctx_in */
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = &a,
		    .ctx_size_in = sizeof(a));

	if (!st->slab ||
	    bpf_prog_test_run_opts(bpf_program__fd(st->slab->progs.slab_of),
				   &o) || o.retval != 0 || !a.name[0])
		return NULL;
	a.name[sizeof(a.name) - 1] = '\0';
	snprintf(buf, len, "&%s", a.name);
	return buf;
}

int locks_load_attach(struct ks_run *r, const struct locks_prog *progs,
		      int n)
{
	struct bpf_program *keep[16] = { NULL };
	struct locks_state *st = state(r);
	const struct btf *btf = ks_kernel_btf();
	static __thread int ids[16][LOCKS_MAX_FDS];

	/*
	 * The copies' BTF ids now, from the BTF parsed for the probes, which
	 * is then dropped before libbpf parses its own (for the attach
	 * targets below and the load: see ks_bpf_load())
	 */
	for (int i = 0; i < n && i < 16; i++)
		for (int j = 0; j < progs[i].nfns && j < LOCKS_MAX_FDS; j++)
			ids[i][j] = btf ? btf__find_by_name_kind(btf,
					progs[i].fns[j].name, BTF_KIND_FUNC) : -1;
	ks_probe_release();
	for (int i = 0; i < n && i < 15; i++) {
		keep[i] = progs[i].prog;
		/* libbpf loads it for the first function; copies do the rest */
		if (is_trace_prog(progs[i].prog) && progs[i].nfns &&
		    bpf_program__set_attach_target(progs[i].prog, 0,
						   progs[i].fns[0].name)) {
			ks_err("cannot target %s: %s", progs[i].fns[0].name,
			       ks_libbpf_last());
			return -1;
		}
	}
	ks_bpf_only(st->skel->obj, keep);
	if (ks_bpf_load(r, st->skel->obj))
		return -1;
	for (int i = 0; i < n; i++)
		if (attach_prog(r, &progs[i], ids[i]))
			return -1;
	slab_open(r);
	return 0;
}

uint64_t locks_recursion(struct ks_run *r)
{
	struct locks_state *st = state(r);

	if (!st || !st->skel)
		return 0;
	return ks_obj_recursion_misses(st->skel->obj) +
	       ks_prog_recursion_misses(st->prog_fds, st->nprog_fds);
}

void locks_stop(struct ks_run *r)
{
	struct locks_state *st = state(r);

	/* links before the programs they hold, newest first */
	while (st->nfds > 0)
		close(st->fds[--st->nfds]);
	st->nprog_fds = 0;
	locks_bpf__destroy(st->skel);
	st->skel = NULL;
	slab_close(st);
}

/* ---- names ---------------------------------------------------------- */

const char *locks_kind_name(unsigned int kind, bool hold, char *buf,
			    size_t len)
{
	const char *base, *how;
	bool rd = kind & LOCK_F_READ, wr = kind & LOCK_F_WRITE;

	if (kind & LOCK_F_MUTEX)
		base = "mutex";
	else if (kind & LOCK_F_PERCPU)
		base = wr ? "percpu-rwsem-write" : "percpu-rwsem-read";
	else if ((kind & (LOCK_F_RT | LOCK_F_SPIN)) == LOCK_F_RT)
		base = "rtmutex";	/* on PREEMPT_RT also every mutex */
	else if (kind & LOCK_F_SPIN)
		base = rd ? "rwlock-read" : wr ? "rwlock-write" : "spin";
	else
		base = rd ? "rwsem-read" : wr ? "rwsem-write" : "semaphore";
	if (hold)
		how = kind & LOCK_K_TRYLOCK ? "trylock" : NULL;
	else if (kind & LOCK_K_SLEPT)
		how = "sleeping";
	else if (kind & LOCK_K_CALL)
		how = "no-sleep";	/* uncontended or spun: can't tell */
	else
		how = "spinning";
	snprintf(buf, len, "%s%s%s", base, how ? ":" : "", how ? how : "");
	return buf;
}

/*
 * A static lock lies inside a kernel or module data symbol; heap, stack
 * and per-CPU addresses are below every symbol or far past one.  The
 * distance bound also keeps a kernel without CONFIG_KALLSYMS_ALL (no data
 * symbols) from naming a lock after the last function before .data.
 */
#define LOCK_SYM_MAX_OFF	(1ULL << 20)

const char *locks_lock_name(const struct locks_state *st,
			    unsigned int lclass, unsigned long long addr,
			    char *buf, size_t len)
{
	const struct ks_ksym *s = ks_ksyms_data_lookup(ks_kernel_syms(), addr);
	unsigned long long off;
	int n;

	if (locks_class_name(lclass)) {
		snprintf(buf, len, "%s", locks_class_name(lclass));
		return buf;
	}
	if (!s || addr - s->addr >= LOCK_SYM_MAX_OFF) {
		if (!slab_name(st, addr, buf, len))
			snprintf(buf, len, "0x%llx", addr);
		return buf;
	}
	off = addr - s->addr;
	n = off ? snprintf(buf, len, "%s+0x%llx", s->name, off) :
		  snprintf(buf, len, "%s", s->name);
	if (s->module && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - n, " [%s]", s->module);
	return buf;
}

/* ---- waits / hold times -------------------------------------------- */

struct row {
	struct lock_key k;
	struct lock_val v;
};

static enum locks_sort sort_key;	/* qsort has no argument: set per sort */

static uint64_t sort_val(const struct row *x)
{
	switch (sort_key) {
	case LOCKS_SORT_COUNT:
		return x->v.count;
	case LOCKS_SORT_MAX:
		return x->v.max_ns;
	case LOCKS_SORT_AVG:
		return x->v.count ? x->v.total_ns / x->v.count : 0;
	default:
		return x->v.total_ns;
	}
}

static int by_sort(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	uint64_t vx = sort_val(x), vy = sort_val(y);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	if (x->v.total_ns != y->v.total_ns)
		return x->v.total_ns < y->v.total_ns ? 1 : -1;
	if (x->v.count != y->v.count)
		return x->v.count < y->v.count ? 1 : -1;
	if (x->k.lock != y->k.lock)
		return x->k.lock < y->k.lock ? -1 : 1;
	if (x->k.caller != y->k.caller)
		return x->k.caller < y->k.caller ? -1 : 1;
	return x->k.tid < y->k.tid ? -1 : x->k.tid > y->k.tid;
}

enum { C_LOCK, C_CALLER, C_KIND, C_COMM, C_TID, C_CGROUP, C_CGROUP_PATH,
       C_OWNER,
       C_OWNER_PID, C_COUNT, C_TOTAL, C_AVG, C_MAX, C_ADDR, C_LOCK_NAME,
       C_HIST, C_STACK, C_NCOLS };

#define LOCK_COLS							\
	[C_LOCK] = { "lock", "LOCK", KS_CT_STR, -32, .flags = KS_CF_KEY },	\
	[C_CALLER] = { "caller", "CALLER", KS_CT_STR, -36,		\
		       .flags = KS_CF_KEY },				\
	[C_KIND] = { "kind", "KIND", KS_CT_STR, -20, .flags = KS_CF_KEY },	\
	[C_COMM] = { "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY },	\
	[C_TID] = { "tid", "TID", KS_CT_U64, 8, .flags = KS_CF_KEY },	\
	[C_CGROUP] = { "cgroup", "CGROUP", KS_CT_U64, 10,			\
		       .flags = KS_CF_KEY | KS_CF_NOTEXT },		\
	[C_CGROUP_PATH] = { "cgroup_path", "CGROUP", KS_CT_STR, -30,	\
			    .flags = KS_CF_KEY },			\
	[C_OWNER] = { "owner.comm", "OWNER", KS_CT_COMM, -16,		\
		      .flags = KS_CF_KEY },				\
	[C_OWNER_PID] = { "owner.pid", "OPID", KS_CT_U64, 8,		\
			  .flags = KS_CF_KEY },				\
	[C_COUNT] = { "count", "COUNT", KS_CT_U64, 9,			\
		      .unit = KS_UNIT_COUNT, .flags = KS_CF_COUNT,	\
		      .sample = "contentions" },				\
	[C_TOTAL] = { "total_ns", "TOTAL", KS_CT_NS, 9,			\
		      .unit = KS_UNIT_NS, .flags = KS_CF_WEIGHT,		\
		      .sample = "delay" },					\
	[C_AVG] = { "avg_ns", "AVG", KS_CT_NS, 9, .unit = KS_UNIT_NS },	\
	[C_MAX] = { "max_ns", "MAX", KS_CT_NS, 9, .unit = KS_UNIT_NS },	\
	[C_ADDR] = { "addr", NULL, KS_CT_STR, 0 },				\
	[C_LOCK_NAME] = { "lock_name", NULL, KS_CT_STR, 0 },		\
	[C_HIST] = { "hist", NULL, KS_CT_HIST, 0, .unit = KS_UNIT_NS,	\
		     .hist_unit = "ns" }

static const struct ks_col lock_cols[] = {
	LOCK_COLS,
	[C_STACK] = { "stack", NULL, KS_CT_STACK, 0, .flags = KS_CF_KEY },
};

#define HIDDEN	(KS_CF_NOJSON | KS_CF_NOTEXT)

/* the by_mask the run's BPF keys follow */
static unsigned int run_by(const struct locks_opts *lo)
{
	return lo->by & ~LOCK_BY_OWNER ? lo->by :
	       lo->by | LOCK_BY_LOCK | LOCK_BY_COMM;
}

/* with -s the stack is shown under each row (text) and in JSON; hold
 * times are no contention: their pprof types say what they are; keys
 * not in --by are left out */
static const struct ks_col *cols_for(struct ks_run *r, struct ks_col *buf,
				     bool hold)
{
	unsigned int by = run_by(&state(r)->lo);

	memcpy(buf, lock_cols, sizeof(lock_cols));
	if (hold) {
		buf[C_COUNT].sample = "holds";
		buf[C_TOTAL].sample = "hold_time";
	}
	if (r->o.hist)		/* -H: drawn under each row */
		buf[C_HIST].flags |= KS_CF_TEXT_HIST;
	if (r->o.stacks)
		buf[C_STACK].head = "";
	else
		buf[C_STACK].flags |= HIDDEN;
	if (!(by & LOCK_BY_LOCK)) {
		buf[C_LOCK].flags |= HIDDEN;
		buf[C_ADDR].flags |= HIDDEN;
		buf[C_LOCK_NAME].flags |= HIDDEN;
	}
	if (!(by & LOCK_BY_CALLER))
		buf[C_CALLER].flags |= HIDDEN;
	if (!(by & LOCK_BY_COMM))
		buf[C_COMM].flags |= HIDDEN;
	if (!(by & LOCK_BY_TID))
		buf[C_TID].flags |= HIDDEN;
	if (!(by & LOCK_BY_CGROUP)) {
		buf[C_CGROUP].flags |= HIDDEN;
		buf[C_CGROUP_PATH].flags |= HIDDEN;
	}
	if (!(by & LOCK_BY_OWNER)) {
		buf[C_OWNER].flags |= HIDDEN;
		buf[C_OWNER_PID].flags |= HIDDEN;
	}
	return buf;
}

/* the kernel stack of a key for a row, or false when it is lost */
static bool row_stack(struct ks_run *r, struct ks_table *t, long row,
		      int col, unsigned int gen, uint64_t stackid)
{
	uint64_t ips[KS_MAX_STACK_DEPTH];
	int n = ks_stack_frames(r, gen, stackid, ips, KS_MAX_STACK_DEPTH);

	if (n < 0)
		return false;
	ks_cell_stack(t, row, col, ips, n, false);
	return true;
}

/* "by": the row keys, "sort": the order */
static void report_keys(struct ks_report *rep, const struct locks_opts *lo)
{
	static const char *const names[] = { "lock", "caller", "comm", "tid",
					     "cgroup", "owner" };
	static const char *const sorts[] = {
		[LOCKS_SORT_TOTAL] = "total", [LOCKS_SORT_COUNT] = "count",
		[LOCKS_SORT_MAX] = "max", [LOCKS_SORT_AVG] = "avg" };
	unsigned int by = run_by(lo);
	char buf[64] = "";

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (by & (1U << i))
			snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
				 "%s%s", buf[0] ? "," : "", names[i]);
	ks_report_str(rep, "by", buf);
	ks_report_str(rep, "sort", sorts[lo->sort]);
}

void locks_collect(struct ks_run *r, struct ks_report *rep, bool hold)
{
	struct locks_state *st = state(r);
	struct ks_col *cols = st->cols;
	struct ks_table *t;
	struct row *rows;
	size_t n;
	uint64_t tot_count = 0, tot_ns = 0;
	char name[256], kind[48], t1[24];

	/* an interval report takes the counts: the next starts from zero */
	rows = KS_MAP_ROWS(ks_bpf_map_fd(r, "waits"), struct row, k, v, &n,
			   rep->take_gen);
	t = ks_table_add(rep, "entries", cols_for(r, cols, hold), C_NCOLS);
	if (!rows || !t) {
		free(rows);
		return;
	}
	bool by_cgroup = run_by(&st->lo) & LOCK_BY_CGROUP;

	sort_key = st->lo.sort;
	qsort(rows, n, sizeof(*rows), by_sort);
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		long row = ks_row_add(t);

		if (row < 0)
			break;
		if (r->o.stacks && !row_stack(r, t, row, C_STACK, w->k.gen,
					      w->k.stackid)) {
			t->nrows--;
			ks_report_lost_stack(rep, w->v.count);
			continue;
		}
		locks_lock_name(st, w->k.lclass, w->k.lock, name,
				sizeof(name));
		ks_cell_str(t, row, C_LOCK, name);
		ks_cell_str(t, row, C_LOCK_NAME, name);
		snprintf(name, sizeof(name), "0x%llx", w->k.lock);
		ks_cell_str(t, row, C_ADDR, name);
		if (w->k.caller)
			ks_ksyms_fmt(ks_kernel_syms(), w->k.caller, name,
				     sizeof(name));
		else
			snprintf(name, sizeof(name), "[unknown]");
		ks_cell_str(t, row, C_CALLER, name);
		ks_cell_str(t, row, C_KIND, locks_kind_name(w->k.kind, hold,
							    kind,
							    sizeof(kind)));
		ks_cell_comm(t, row, C_COMM, w->k.comm, KS_COMM_LEN);
		ks_cell_u64(t, row, C_TID, w->k.tid);
		ks_cell_u64(t, row, C_CGROUP, w->k.cgroup);
		if (by_cgroup) {
			const char *cg = ks_cgroup_path(w->k.cgroup);

			if (!cg) {	/* removed since, or another mount's */
				snprintf(name, sizeof(name), "[id %" PRIu64
					 "]", (uint64_t)w->k.cgroup);
				cg = name;
			}
			ks_cell_str(t, row, C_CGROUP_PATH, cg);
		}
		ks_cell_comm(t, row, C_OWNER, w->k.owner_comm, KS_COMM_LEN);
		ks_cell_u64(t, row, C_OWNER_PID, w->k.owner_pid);
		ks_cell_u64(t, row, C_COUNT, w->v.count);
		ks_cell_u64(t, row, C_TOTAL, w->v.total_ns);
		ks_cell_u64(t, row, C_MAX, w->v.max_ns);
		ks_cell_u64(t, row, C_AVG, w->v.count ?
			    w->v.total_ns / w->v.count : 0);
		/* unsigned long long[] in the shared struct: same layout */
		ks_cell_hist(t, row, C_HIST, (const uint64_t *)w->v.hist);
		tot_count += w->v.count;
		tot_ns += w->v.total_ns;
	}
	free(rows);
	ks_report_u64(rep, "total_count", tot_count);
	ks_report_u64(rep, "total_ns", tot_ns);
	report_keys(rep, &st->lo);
	ks_table_line(t, true, "Total: %" PRIu64 " %s, %s", tot_count,
		      hold ? "holds" : "waits", ks_fmt_ns(tot_ns, t1,
							   sizeof(t1)));
}

/* ---- spinlock --calls ---------------------------------------------- */

struct call_row {
	struct lock_call_key k;
	uint64_t count;
};

static int by_count(const void *a, const void *b)
{
	const struct call_row *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->k.func < y->k.func ? -1 : x->k.func > y->k.func;
}

static const char *call_fn(const struct locks_fn *fns, int nfns,
			   unsigned int idx)
{
	for (int i = 0; i < nfns; i++)
		if (fns[i].cookie == idx)
			return fns[i].name;
	return "?";
}

static unsigned int call_kind(const char *fn)
{
	if (strstr(fn, "_read_"))
		return LOCK_F_SPIN | LOCK_F_READ;
	if (strstr(fn, "_write_"))
		return LOCK_F_SPIN | LOCK_F_WRITE;
	return LOCK_F_SPIN;
}

enum { K_FUNC, K_LOCK, K_COMM, K_COUNT, K_ADDR, K_KIND, K_STACK,
       K_NCOLS };

static const struct ks_col call_cols[] = {
	[K_FUNC] = { "function", "FUNCTION", KS_CT_STR, -24,
		     .flags = KS_CF_KEY },
	[K_LOCK] = { "lock", "LOCK", KS_CT_STR, -32, .flags = KS_CF_KEY },
	[K_COMM] = { "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY },
	[K_COUNT] = { "count", "CALLS", KS_CT_U64, 12, .unit = KS_UNIT_COUNT,
		      .flags = KS_CF_COUNT | KS_CF_WEIGHT },
	[K_ADDR] = { "addr", NULL, KS_CT_STR, 0 },
	[K_KIND] = { "kind", NULL, KS_CT_STR, 0, .flags = KS_CF_KEY },
	[K_STACK] = { "stack", NULL, KS_CT_STACK, 0, .flags = KS_CF_KEY },
};

void locks_collect_calls(struct ks_run *r, struct ks_report *rep,
			 const struct locks_fn *fns, int nfns)
{
	struct locks_state *st = state(r);
	struct ks_col *cols = st->call_cols;
	struct call_row *rows;
	struct ks_table *t;
	uint64_t total = 0;
	size_t n;
	char name[256], kind[48];

	rows = KS_MAP_ROWS(ks_bpf_map_fd(r, "calls"), struct call_row, k,
			   count, &n, rep->take_gen);
	memcpy(cols, call_cols, sizeof(call_cols));
	if (r->o.stacks)
		cols[K_STACK].head = "";
	else
		cols[K_STACK].flags |= KS_CF_NOJSON | KS_CF_NOTEXT;
	t = ks_table_add(rep, "calls", cols, K_NCOLS);
	if (!rows || !t) {
		free(rows);
		return;
	}
	t->what = "rows";
	qsort(rows, n, sizeof(*rows), by_count);
	for (size_t i = 0; i < n; i++) {
		const struct call_row *w = &rows[i];
		const char *fn = call_fn(fns, nfns, w->k.func);
		long row = ks_row_add(t);

		if (row < 0)
			break;
		if (r->o.stacks && !row_stack(r, t, row, K_STACK, w->k.gen,
					      w->k.stackid)) {
			t->nrows--;
			ks_report_lost_stack(rep, w->count);
			continue;
		}
		ks_cell_str(t, row, K_FUNC, fn);
		locks_lock_name(state(r), w->k.lclass, w->k.lock, name,
				sizeof(name));
		ks_cell_str(t, row, K_LOCK, name);
		snprintf(name, sizeof(name), "0x%llx", w->k.lock);
		ks_cell_str(t, row, K_ADDR, name);
		ks_cell_str(t, row, K_KIND, locks_kind_name(call_kind(fn),
				true, kind, sizeof(kind)));
		ks_cell_comm(t, row, K_COMM, w->k.comm, KS_COMM_LEN);
		ks_cell_u64(t, row, K_COUNT, w->count);
		total += w->count;
	}
	free(rows);
	ks_report_u64(rep, "total_calls", total);
	ks_table_line(t, true, "Total: %" PRIu64 " calls", total);
}
