// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel half of mlock, mheld and spinlock.  One object: each tool loads
 * only the programs of its attach mode (user space: locks_common.c).
 *
 *  contention  lock:contention_begin/end as tp_btf, raw_tp or tracepoint.
 *              One wait runs from a thread's FIRST begin to the end on the
 *              same lock: a mutex that spins, then sleeps, emits two
 *              begins (MUTEX|SPIN, then MUTEX) and one end.  Which flag
 *              combinations count is set in accept_flags (mlock: MUTEX;
 *              spinlock: SPIN without MUTEX).
 *  lock_fn     entry/exit of the mutex lock functions (fentry/fexit or
 *              kprobe/kretprobe): every call is timed, contended or not.
 *  held        exit of the lock functions and trylock to mutex_unlock.
 *  spin calls  one counter per spin/rwlock function call and lock (spinlock
 *              --calls), kprobes only: see spinlock.c on fentry there.
 *
 * Each body is written once.  A function-probe program is loaded once per
 * kernel function by user space (fentry) or attached once per function
 * (kprobe); bpf_get_attach_cookie() tells it which kind of function it
 * is on (enum lock_fn_how, or the --calls function index).
 */
#include "common.bpf.h"
#include "locks.h"

/* bit (flags & LOCK_F_MASK) set: count contentions with those flags */
const volatile unsigned long long accept_flags = 0;
const volatile bool use_stacks = false;
/* contention_end looks up per-thread waits (sleeping locks) too */
const volatile bool track_tid = false;

/* --by: LOCK_BY_* bits; fields of other keys stay zero */
const volatile unsigned int by_mask = LOCK_BY_LOCK | LOCK_BY_COMM;
/* find the caller (--by caller, --caller) / name heap locks (--by lock,
 * -L with a heap lock name) */
const volatile bool want_caller = false;
const volatile bool want_class = false;
/* kernel text ranges from kallsyms: the lock code (perf's definition of
 * "inside the locking code": lock and scheduler text), the core kernel
 * text and the kernel image (static locks) */
const volatile unsigned long long lock_text_lo = 0, lock_text_hi = 0;
const volatile unsigned long long sched_text_lo = 0, sched_text_hi = 0;
const volatile unsigned long long core_text_lo = 0, core_text_hi = 0;
const volatile unsigned long long image_lo = 0, image_hi = 0;
/* --type: bit (kind & LOCK_F_MASK) set: keep */
const volatile unsigned long long type_mask = ~0ULL;
/* -L: lock addresses, and heap lock classes (bit per enum lock_class) */
const volatile unsigned int n_lock_filter = 0;
const volatile unsigned long long lock_filter[LOCK_MAX_FILTER] = {};
const volatile unsigned int class_filter = 0;
/* --caller: [lo, hi) of each function */
const volatile unsigned int n_caller_filter = 0;
const volatile unsigned long long caller_lo[LOCK_MAX_FILTER] = {};
const volatile unsigned long long caller_hi[LOCK_MAX_FILTER] = {};
/* CPUs whose runqueue lock is checked (rq_lock names) */
const volatile unsigned int nr_cpus = 0;
/* where another kretprobe sends a function's return (arm64 kprobe mode) */
const volatile unsigned long long kretprobe_tramp = 0, rethook_tramp = 0;


/* cpu_start.lock while contention_end records: see cont_end() */
#define SLOT_BUSY 1ULL

/* A wait (or a lock function call) in progress. */
struct wait_start {
	u64 owner;	/* inflight: the thread's inflight_owner(), 0 free */
	u64 lock;
	u64 ts;
	u64 nvcsw;	/* voluntary switches at entry: did the call sleep? */
	u64 caller;	/* found at entry (function probes), or 0 */
	u32 kind;
	u32 owner_pid;	/* --owner: the holder when the wait began */
	char owner_comm[KS_COMM_LEN];
	u32 outer;	/* entered a LOCK_FN_OUTER function */
	u32 pad;
};

/* A mutex held since ts (mheld): the key of the task that took it, its
 * gen that of the stack map key.stackid is in. */
struct held_start {
	u64 ts;
	struct lock_key key;
};

/*
 * Aggregated waits (or hold times), sized from --max-entries.  Not
 * preallocated (like workq's aggregates): a value holds a 64-slot
 * histogram, so 10,240 preallocated entries took 7 MB of kernel memory
 * (14 of report's 40 MB) and their set-up at every start, for the few
 * hundred locks and tasks a run sees.  An insert happens once per new
 * key; since 6.1 it takes its element from the BPF memory allocator's
 * per-CPU cache, usable in any context (refilled from an irq_work: a
 * kmem or memleak running beside it sees those few allocations, as the
 * kernel's own).  An insert that fails for want of memory (the cache
 * empty, or kscope's memory cgroup at its limit) is counted as
 * no_memory, one that finds no room as map_full.  The per-wait
 * maps (inflight, cpu_start, held) are preallocated.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct lock_key);
	__type(value, struct lock_val);
} waits SEC(".maps");

/*
 * Sleeping-lock waits and lock function calls in progress, one per
 * thread, in a table of --max-entries slots (an array map: its lookups
 * are inlined).  A thread takes a free slot with a compare-and-swap of
 * its owner field, starting at its tid modulo the size and probing the
 * next INFLIGHT_PROBES - 1 after it, and gives it back by swapping 0 in;
 * only the owner touches the rest of the slot.  A hash map keyed by tid
 * did the same with an insert (bucket lock, free list) at a wait's first
 * begin, a failed insert at a mutex's second begin, and a lookup and a
 * delete at its end: mlock cost 278 ns per program run with it, 247 with
 * the table (bench.py's pipe workload, docs/bench.md).  A thread finding
 * no free slot among its probes is counted as inflight_full: with the
 * slots of a default run that takes thousands of waits in flight at once.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u32);
	__type(value, struct wait_start);
} inflight SEC(".maps");

/* the contention tracepoints mlock and spinlock share in kscope report */
KS_CHAIN_MAP(contention_begin);
KS_CHAIN_MAP(contention_end);

/* the table's size (inflight's max_entries, set with it) */
const volatile unsigned int inflight_slots = KS_DEFAULT_ENTRIES;
#define INFLIGHT_PROBES 8

/* never 0, which marks a free slot: tid 0 is every CPU's idle task */
static __always_inline u64 inflight_owner(u32 tid)
{
	return (1ULL << 32) | tid;
}

/*
 * Walks this thread's probe sequence (its tid modulo the size, then the
 * slots after it).  claim false: the slot the thread owns, or NULL.
 * claim true, for a thread that owns none: a free slot, now its own, or
 * NULL when every probe found a taken one (counted).
 */
static __always_inline struct wait_start *inflight_slot(u32 tid, bool claim)
{
	u64 me = inflight_owner(tid);
	u32 i, idx = tid % inflight_slots;

	for (i = 0; i < INFLIGHT_PROBES && i < inflight_slots; i++) {
		struct wait_start *s = bpf_map_lookup_elem(&inflight, &idx);

		if (s && (claim ? !s->owner &&
			  !__sync_val_compare_and_swap(&s->owner, 0, me) :
			  s->owner == me))
			return s;
		if (++idx >= inflight_slots)
			idx = 0;
	}
	if (claim)
		ks_drop(LOCK_DROP_INFLIGHT_FULL);
	return NULL;
}

static __always_inline struct wait_start *inflight_find(u32 tid)
{
	return inflight_slot(tid, false);
}

static __always_inline struct wait_start *inflight_claim(u32 tid)
{
	return inflight_slot(tid, true);
}

/* give the slot back: an atomic swap, ordered after the owner's reads */
static __always_inline void inflight_free(struct wait_start *s)
{
	__sync_lock_test_and_set(&s->owner, 0);
}

/*
 * Spin waits in progress.  A spinning waiter has preemption off, so its
 * wait starts and ends on one CPU, and a slot per CPU replaces a hash
 * update per event; a begin that finds the slot busy is a spin wait
 * nested in another one (an interrupt), which the outer wait includes,
 * exactly as a per-thread "first begin wins" rule would count it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct wait_start);
} cpu_start SEC(".maps");

/*
 * A mutex wait that could not be followed (inflight full), by CPU.  The
 * kernel begins a mutex wait twice, spinning (MUTEX|SPIN) then sleeping
 * (MUTEX), with preemption off between the two: the second begin of a
 * dropped wait comes on the same CPU, finds its thread and lock here, and
 * neither counts the drop again nor starts following the wait half-way
 * (a place freed in between would count it as well as its drop).
 */
struct spin_dropped {
	u64 lock;
	u32 tid;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct spin_dropped);
} mutex_dropped SEC(".maps");

/*
 * Locks held now.  A mutex or a write-held rwsem by lock address alone
 * (tid 0): the unlocker may be another task.  An rwsem has many readers
 * at once: each read hold by lock and reader.
 */
struct held_key {
	u64 lock;
	u32 tid;
	u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct held_key);
	__type(value, struct held_start);
} held SEC(".maps");

/* the caller's stack walk, per CPU */
struct caller_buf {
	u64 ips[LOCK_CALLER_DEPTH];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct caller_buf);
} callbuf SEC(".maps");

/*
 * Runqueue locks, learned from the tasks: a task's CFS run queue's rq is
 * its CPU's (the per-CPU runqueues variable is no kallsyms symbol on
 * kernels without CONFIG_KALLSYMS_ALL, so a ksym cannot name it).  A
 * CPU's rq lock is known once a spin lock was recorded on that CPU.  A
 * set (hash by address): no loop over the CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LOCK_MAX_CPUS);
	__type(key, u64);
	__type(value, u8);
} rq_locks SEC(".maps");

/*
 * spinlock --calls (one entry unless --calls).  Preallocated, unlike
 * waits: a value is one counter (~1 MB for 10,240 rows), and a thread's
 * first calls add rows in a burst (59 distinct lock/function pairs in a
 * second of eventfd writes), faster than the BPF memory allocator's
 * per-CPU cache (4 elements at start) is refilled.  On PREEMPT_RT the
 * refill runs in the irq_work thread, and a loaded 6.12-rt VM lost 2 to
 * 10 rows a run to -ENOMEM (then counted as map_full; now no_memory).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct lock_call_key);
	__type(value, u64);
} calls SEC(".maps");

static __always_inline void max_update(u64 *p, u64 v)
{
	u64 old = *p;
	int i;

	/* bounded for the verifier; losing four races in a row on one key
	 * would take four CPUs raising the same maximum at once */
	for (i = 0; i < 4 && v > old; i++) {
		u64 seen = __sync_val_compare_and_swap(p, old, v);

		if (seen == old)
			break;
		old = seen;
	}
}

/* Remember an in-flight wait or a held lock; a failure is a drop. */
static __always_inline int remember(void *map, const void *key,
				    const void *val)
{
	return ks_update_or_drop(map, key, val, BPF_ANY,
				 LOCK_DROP_INFLIGHT_FULL, LOCK_DROP_REENTERED);
}

static __always_inline void record(struct lock_key *key, u64 delta)
{
	static const struct lock_val zero;
	struct lock_val *v;
	u32 slot;

	v = ks_lookup_or_init(&waits, key, &zero, LOCK_DROP_REENTERED);
	if (!v)
		return;
	slot = ks_log2_slot(delta);
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->total_ns, delta);
	if (slot < KS_HIST_SLOTS)
		__sync_fetch_and_add(&v->hist[slot], 1);
	max_update(&v->max_ns, delta);
}

static __always_inline bool in_lock_code(u64 ip)
{
	return (ip >= lock_text_lo && ip < lock_text_hi) ||
	       (ip >= sched_text_lo && ip < sched_text_hi);
}

/*
 * The caller of a lock: the first frame outside the lock and scheduler
 * text after one inside it (perf lock contention's definition), read
 * where the stack still holds the lock function (contention
 * tracepoints, function entries).  A stack with no lock frame (an exit:
 * the lock function returned) gives its first core-kernel frame, which
 * skips BPF programs and trampolines.  0 when not found.
 */
static __always_inline u64 lock_caller(void *ctx)
{
	struct caller_buf *b;
	u32 zero = 0;
	bool inside = false;
	u64 first = 0;
	long n;
	int i;

	b = bpf_map_lookup_elem(&callbuf, &zero);
	if (!b)
		return 0;
	n = bpf_get_stack(ctx, b->ips, sizeof(b->ips), 0);
	if (n <= 0)
		return 0;
	n /= sizeof(u64);
#pragma unroll
	for (i = 0; i < LOCK_CALLER_DEPTH; i++) {
		u64 ip;

		if (i >= n)
			break;
		ip = b->ips[i];
		if (in_lock_code(ip)) {
			inside = true;
			continue;
		}
		if (inside)
			return ip;
		if (!first && ip >= core_text_lo && ip < core_text_hi)
			first = ip;
	}
	return inside ? 0 : first;
}

/* --owner: who holds a mutex or a writer-owned rwsem now */
static __always_inline void lock_owner(u64 lock, u32 flags,
				       struct wait_start *w)
{
	struct task_struct *t;
	long owner;

	/* a mutex's first begin has SPIN too: optimistic spinning; on
	 * PREEMPT_RT a mutex wait is an rt_mutex wait (RT alone) */
	if ((flags & LOCK_F_MUTEX) ||
	    (flags & (LOCK_F_RT | LOCK_F_SPIN | LOCK_F_READ | LOCK_F_WRITE)) ==
	    LOCK_F_RT) {
		struct mutex *m = (void *)lock;
		/* PREEMPT_RT's struct mutex, like struct rt_mutex, begins
		 * with its struct rt_mutex_base, whose owner's low bit is
		 * RT_MUTEX_HAS_WAITERS; the contention tracepoints pass
		 * that rt_mutex_base */
		struct rt_mutex_base *rb = (void *)lock;

		if (bpf_core_field_exists(m->owner))
			owner = BPF_CORE_READ(m, owner.counter);
		else if (bpf_core_field_exists(rb->owner))
			owner = (long)BPF_CORE_READ(rb, owner);
		else
			return;
	} else if ((flags & (LOCK_F_READ | LOCK_F_WRITE)) &&
		   !(flags & (LOCK_F_SPIN | LOCK_F_RT | LOCK_F_PERCPU))) {
		struct rw_semaphore *sem = (void *)lock;

		if (!bpf_core_field_exists(sem->owner))
			return;		/* PREEMPT_RT: an rwbase_rt */
		owner = BPF_CORE_READ(sem, owner.counter);
		if (owner & 1)
			return;		/* RWSEM_READER_OWNED: no one task */
	} else {
		return;			/* semaphores have no owner */
	}
	/* the low bits are flags (MUTEX_FLAGS, RWSEM_OWNER_FLAGS_MASK) */
	t = (void *)(owner & ~7L);
	if (!t)
		return;
	w->owner_pid = BPF_CORE_READ(t, pid);
	bpf_probe_read_kernel_str(w->owner_comm, sizeof(w->owner_comm),
				  &t->comm);
}



/* this CPU's runqueue lock, once learned into rq_locks */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} rq_known SEC(".maps");

/*
 * Which heap lock this is, for names (enum lock_class).  The task's
 * fields are read with direct loads from its BTF pointer (faults read as
 * 0), not bpf_probe_read_kernel(): the helper calls cost a mutex wait's
 * end ~50 ns (bench.py's pipe workload, docs/bench.md).
 */
static __always_inline u32 lock_class(u64 lock, u32 kind)
{
	struct task_struct *t = bpf_get_current_task_btf();
	u64 p;

	if (lock >= image_lo && lock < image_hi)
		return LOCK_C_NONE;	/* static: kallsyms names it */
	p = (u64)t->mm;
	if (p && lock == p + bpf_core_field_offset(struct mm_struct,
						   mmap_lock))
		return LOCK_C_MMAP;
	p = (u64)t->sighand;
	if (p && lock == p + bpf_core_field_offset(struct sighand_struct,
						   siglock))
		return LOCK_C_SIGLOCK;
	if ((kind & LOCK_F_SPIN) && nr_cpus &&
	    bpf_core_field_exists(t->se.cfs_rq)) {
		struct cfs_rq *cfs = t->se.cfs_rq;
		u32 zero = 0;
		u64 *known;
		u8 one = 1;

		p = cfs ? (u64)cfs->rq : 0;
		if (p) {
			p += bpf_core_field_offset(struct rq, __lock);
			if (lock == p)
				return LOCK_C_RQ;
			known = bpf_map_lookup_elem(&rq_known, &zero);
			if (known && *known != p &&
			    !bpf_map_update_elem(&rq_locks, &p, &one, BPF_ANY))
				*known = p;
		}
		if (bpf_map_lookup_elem(&rq_locks, &lock))
			return LOCK_C_RQ;
	}
	return LOCK_C_NONE;
}

/* -L: the lock is one of the addresses or named classes asked for */
static __always_inline bool lock_passes(u64 lock, u32 lclass)
{
	u32 i;

	if (!n_lock_filter && !class_filter)
		return true;
#pragma unroll
	for (i = 0; i < LOCK_MAX_FILTER; i++) {
		if (i >= n_lock_filter)
			break;
		if (lock == lock_filter[i])
			return true;
	}
	return class_filter & (1U << lclass);
}

/* --caller: the caller lies in one of the functions asked for */
static __always_inline bool caller_passes(u64 caller)
{
	u32 i;

	if (!n_caller_filter)
		return true;
#pragma unroll
	for (i = 0; i < LOCK_MAX_FILTER; i++) {
		if (i >= n_caller_filter)
			break;
		if (caller >= caller_lo[i] && caller < caller_hi[i])
			return true;
	}
	return false;
}

/*
 * The key of a wait (or hold) of the current task, under --by, and
 * whether it passes --type, -L and --caller; false also when a wanted
 * stack was lost (counted).  w: what the start recorded (caller found at
 * entry, owner), or NULL.
 */
static __always_inline bool fill_key(void *ctx, struct lock_key *key,
				     u64 lock, u32 kind,
				     const struct wait_start *w)
{
	u64 caller = 0;
	u32 lclass = LOCK_C_NONE;

	if (!(type_mask & (1ULL << (kind & LOCK_F_MASK))))
		return false;
	if (want_class)
		lclass = lock_class(lock, kind);
	if (!lock_passes(lock, lclass))
		return false;
	if (want_caller) {
		caller = w ? w->caller : 0;
		if (!caller)
			caller = lock_caller(ctx);
		if (!caller_passes(caller))
			return false;
	}
	key->stackid = KS_NO_STACK;
	key->gen = ks_generation();
	if (use_stacks) {
		key->stackid = ks_kstack(ctx, key->gen);
		if (key->stackid == KS_NO_STACK)
			return false;	/* counted as a stack drop */
	}
	key->kind = kind;
	if (by_mask & LOCK_BY_LOCK) {
		key->lock = lock;
		key->lclass = lclass;
	}
	if (by_mask & LOCK_BY_CALLER)
		key->caller = caller;
	if (by_mask & LOCK_BY_COMM)
		ks_current_comm(key->comm);
	if (by_mask & LOCK_BY_TID)
		key->tid = (u32)bpf_get_current_pid_tgid();
	if (by_mask & LOCK_BY_CGROUP)
		key->cgroup = bpf_get_current_cgroup_id();
	if ((by_mask & LOCK_BY_OWNER) && w) {
		key->owner_pid = w->owner_pid;
		__builtin_memcpy(key->owner_comm, w->owner_comm,
				 sizeof(key->owner_comm));
	}
	return true;
}

/* Record for the current task (filters, --by, -s as fill_key). */
static __always_inline void record_current(void *ctx, u64 lock, u32 kind,
					   const struct wait_start *w,
					   u64 delta)
{
	struct lock_key key = {};

	if (fill_key(ctx, &key, lock, kind, w))
		record(&key, delta);
}

static __always_inline u64 current_nvcsw(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	return BPF_CORE_READ(t, nvcsw);
}

/* ---- contention tracepoints ------------------------------------------- */

/*
 * PREEMPT_RT: spin_lock() on a spinlock_t (and rwlock_t's write lock)
 * waits as an rtlock, sleeping in TASK_RTLOCK_WAIT, with contention flags
 * LCB_F_RT (|WRITE) just like an rt_mutex-based mutex.  Tell them apart by
 * the waiter's state and mark rtlock waits SPIN|RT, which the kernel never
 * emits: spinlock counts them (as sleeping waits, per thread), mlock not.
 */
#define KS_TASK_RTLOCK_WAIT 0x00001000

static __always_inline u32 rtlock_flags(u32 flags)
{
	struct task_struct *t;

	if ((flags & (LOCK_F_RT | LOCK_F_SPIN)) != LOCK_F_RT)
		return flags;
	t = (void *)bpf_get_current_task();
	if (BPF_CORE_READ(t, __state) & KS_TASK_RTLOCK_WAIT)
		flags |= LOCK_F_SPIN;
	return flags;
}

static __always_inline int cont_begin(u64 lock, u32 flags)
{
	struct spin_dropped *d = NULL;
	struct wait_start *s, *found, n = {};
	u32 zero = 0, tid, mflags;

	flags = rtlock_flags(flags);
	if (!(accept_flags & (1ULL << (flags & LOCK_F_MASK))))
		return 0;
	if (ks_skip_task())
		return 0;
	if ((flags & (LOCK_F_SPIN | LOCK_F_MUTEX | LOCK_F_RT)) == LOCK_F_SPIN) {
		s = bpf_map_lookup_elem(&cpu_start, &zero);
		if (!s || s->lock)
			return 0;	/* nested in an outer spin wait */
		s->kind = flags;
		s->lock = lock;
		s->ts = bpf_ktime_get_ns();
		return 0;
	}
	tid = (u32)bpf_get_current_pid_tgid();
	n.lock = lock;
	n.kind = flags | ((flags & (LOCK_F_SPIN | LOCK_F_RT)) == LOCK_F_SPIN ?
			  0 : LOCK_K_SLEPT);
	if (by_mask & LOCK_BY_OWNER)
		lock_owner(lock, flags, &n);
	mflags = flags & (LOCK_F_MUTEX | LOCK_F_SPIN);
	if (mflags) {
		d = bpf_map_lookup_elem(&mutex_dropped, &zero);
		if (!d)
			return 0;
		if (mflags == LOCK_F_MUTEX && d->tid == tid && d->lock == lock) {
			d->tid = 0;	/* the sleeping half of a dropped wait */
			d->lock = 0;
			return 0;
		}
	}
	s = inflight_find(tid);
	found = s;
	if (!found)
		/* the first begin of a wait, the common case */
		s = inflight_claim(tid);
	if (d && mflags == (LOCK_F_MUTEX | LOCK_F_SPIN)) {
		/* a dropped wait is remembered until its sleeping begin */
		d->tid = s ? 0 : tid;
		d->lock = s ? 0 : lock;
	}
	if (!s)
		return 0;
	if (found) {
		if (s->lock == lock) {
			/* the same wait goes on: a mutex done spinning now
			 * sleeps (begin without SPIN) */
			if (!(flags & LOCK_F_SPIN))
				s->kind |= LOCK_K_SLEPT;
			return 0;
		}
		/* sleeping waits never nest: the last end was lost, and the
		 * thread's slot is rewritten in place */
		ks_drop(LOCK_DROP_MISSED);
	}
	n.owner = inflight_owner(tid);
	*s = n;
	s->ts = bpf_ktime_get_ns();	/* last: the wait, not this program */
	return 0;
}

/*
 * Not filtered: only waits that passed the filter at begin are found.
 *
 * Recording may insert into a hash map, whose bucket lock is a spin lock:
 * if that contends, the begin fires inside this program, and its end is
 * then dropped as a recursion of this one (raw_tp and tp_btf programs).
 * A begin alone would hold this CPU's slot forever, so the slot reads
 * "busy" while we record and that begin is ignored like any nested one.
 */
static __always_inline int cont_end(void *ctx, u64 lock)
{
	u64 now = bpf_ktime_get_ns();
	struct wait_start *c, *s, w;
	u32 zero = 0, tid;
	u64 delta;

	c = bpf_map_lookup_elem(&cpu_start, &zero);
	if (!c)
		return 0;
	if (c->lock) {
		/* a sleeping wait cannot end while this CPU spins */
		if (c->lock != lock)
			return 0;
		delta = now - c->ts;
		w = *c;
		c->lock = SLOT_BUSY;
		record_current(ctx, lock, w.kind, &w, delta);
		c->lock = 0;
		return 0;
	}
	if (!track_tid)
		return 0;
	tid = (u32)bpf_get_current_pid_tgid();
	s = inflight_find(tid);
	if (!s || s->lock != lock)
		return 0;
	w = *s;
	inflight_free(s);
	if (!w.ts)
		return 0;	/* begin interrupted before its time */
	delta = now - w.ts;
	c->lock = SLOT_BUSY;
	record_current(ctx, lock, w.kind, &w, delta);
	c->lock = 0;
	return 0;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(cont_begin_btf, void *lock, unsigned int flags)
{
	cont_begin((u64)lock, flags);
	return ks_chain(ctx, contention_begin);
}

SEC("tp_btf/contention_end")
int BPF_PROG(cont_end_btf, void *lock, int ret)
{
	cont_end(ctx, (u64)lock);
	return ks_chain(ctx, contention_end);
}

SEC("raw_tp/contention_begin")
int cont_begin_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (void *lock, unsigned int flags) */
	cont_begin(ctx->args[0], (u32)ctx->args[1]);
	return ks_chain(ctx, contention_begin);
}

SEC("raw_tp/contention_end")
int cont_end_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (void *lock, int ret) */
	cont_end(ctx, ctx->args[0]);
	return ks_chain(ctx, contention_end);
}

SEC("tp/lock/contention_begin")
int cont_begin_tp(struct trace_event_raw_contention_begin *ctx)
{
	cont_begin((u64)BPF_CORE_READ(ctx, lock_addr),
		   BPF_CORE_READ(ctx, flags));
	return ks_chain(ctx, contention_begin);
}

SEC("tp/lock/contention_end")
int cont_end_tp(struct trace_event_raw_contention_end *ctx)
{
	cont_end(ctx, (u64)BPF_CORE_READ(ctx, lock_addr));
	return ks_chain(ctx, contention_end);
}

/* ---- mutex lock functions: every call (mlock), acquisitions (mheld) --- */

/*
 * Entry of a lock function.  A call still in flight for this thread is
 * either the outer half of a nested call (mutex_lock_io() calls
 * mutex_lock() unless the compiler inlined it: same lock, and the cookie
 * says LOCK_FN_OUTER) or a lost exit (a kretprobe out of instances: 24
 * sleepers in mutex_lock() on a 2-CPU kernel lose some, mostly followed by
 * the next call on the same lock).  Replacing it is right in both cases;
 * only the second is a drop.
 */
/* the lock type of a lock function, from its attach cookie */
static __always_inline u32 fn_kind(u64 cookie)
{
	if (cookie & LOCK_FN_RWSEM_READ)
		return LOCK_F_READ;
	if (cookie & LOCK_FN_RWSEM_WRITE)
		return LOCK_F_WRITE;
	return LOCK_F_MUTEX;
}

/*
 * At a kprobe on a function's first instruction, arm64 has the return
 * address in the link register only: the callee has not pushed its frame
 * record yet, so a stack walk from there goes from the lock function
 * straight to its caller's caller (seen: f_pos_lock's caller shown as
 * ksys_write, not fdget_pos).  The caller is then the link register,
 * with a pointer-authentication code stripped (kernel text lies above
 * 0xffff800000000000 whatever VA_BITS).  x86 pushed it on the stack.
 */
#if defined(__TARGET_ARCH_arm64)
/*
 * Another kretprobe on the same function that ran first (kprobes at one
 * address run newest first: a second kscope's) has replaced the link
 * register with its trampoline and pushed the real return address on
 * the task's list: the newest entry is this call's.  Kernels with
 * kretprobes on rethook keep it in task->rethooks instead.
 */
struct kretprobe_instance___ks {
	struct llist_node llist;
	void *ret_addr;
} __attribute__((preserve_access_index));

struct rethook_node___ks {
	struct llist_node llist;
	unsigned long ret_addr;
} __attribute__((preserve_access_index));

struct task_struct___ks {
	struct llist_head kretprobe_instances;
	struct llist_head rethooks;
} __attribute__((preserve_access_index));

static __always_inline u64 hijacked_lr(u64 lr)
{
	struct task_struct___ks *t = (void *)bpf_get_current_task();
	struct llist_node *n;
	u64 ret = 0;

	if (lr == kretprobe_tramp &&
	    bpf_core_field_exists(t->kretprobe_instances)) {
		struct kretprobe_instance___ks *ri;

		n = BPF_CORE_READ(t, kretprobe_instances.first);
		if (!n)
			return 0;
		ri = (void *)n - bpf_core_field_offset(
			struct kretprobe_instance___ks, llist);
		ret = (u64)BPF_CORE_READ(ri, ret_addr);
	} else if (lr == rethook_tramp && bpf_core_field_exists(t->rethooks)) {
		struct rethook_node___ks *rn;

		n = BPF_CORE_READ(t, rethooks.first);
		if (!n)
			return 0;
		rn = (void *)n - bpf_core_field_offset(struct rethook_node___ks,
						       llist);
		ret = BPF_CORE_READ(rn, ret_addr);
	}
	return ret ? ret | 0xffff000000000000ULL : 0;
}
#endif

static __always_inline u64 kprobe_entry_caller(struct pt_regs *ctx)
{
#if defined(__TARGET_ARCH_arm64)
	u64 lr = PT_REGS_RET(ctx) | 0xffff000000000000ULL;

	if (lr == kretprobe_tramp || lr == rethook_tramp)
		lr = hijacked_lr(lr);
	return lr;
#else
	(void)ctx;
	return 0;
#endif
}

/* lr: the return address (kprobe_entry_caller), 0 where the stack walk
 * has it */
static __always_inline int fn_enter(void *ctx, u64 lock, u64 lr)
{
	struct wait_start *s, n = {};
	u64 cookie = bpf_get_attach_cookie(ctx);
	u32 tid;

	if (ks_skip_task())
		return 0;
	tid = (u32)bpf_get_current_pid_tgid();
	n.lock = lock;
	n.kind = fn_kind(cookie) | LOCK_K_CALL;
	/* the lock function is on the stack here, not at the exit */
	if (want_caller)
		n.caller = lr && !in_lock_code(lr) ? lr : lock_caller(ctx);
	if (by_mask & LOCK_BY_OWNER)
		lock_owner(lock, n.kind, &n);
	n.nvcsw = current_nvcsw();
	/*
	 * The time is taken last, written into the map's element: the
	 * wait timed is the function's, not kscope's map update.
	 */
	n.outer = !!(cookie & LOCK_FN_OUTER);
	n.owner = inflight_owner(tid);
	s = inflight_find(tid);
	if (s) {
		/* the inner call of mutex_lock_io(), or a lost exit */
		if (s->lock != lock || !s->outer)
			ks_drop(LOCK_DROP_MISSED);
	} else {
		s = inflight_claim(tid);
		if (!s)
			return 0;
	}
	*s = n;
	s->ts = bpf_ktime_get_ns();
	return 0;
}

/* mlock: exit of a lock function, acquired or interrupted alike */
static __always_inline int fn_exit_wait(void *ctx)
{
	u64 now = bpf_ktime_get_ns();	/* first: see fn_enter() */
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct wait_start *s, w;
	u64 delta;

	s = inflight_find(tid);
	if (!s)
		return 0;
	w = *s;
	inflight_free(s);
	if (!w.ts)
		return 0;	/* entry interrupted before its time */
	delta = now - w.ts;
	/* a voluntary switch inside the call: it slept on the mutex */
	if (current_nvcsw() != w.nvcsw)
		w.kind |= LOCK_K_SLEPT;
	record_current(ctx, w.lock, w.kind, &w, delta);
	return 0;
}

/*
 * mheld: the lock function returned; ret per enum lock_fn_how.  Only the
 * low 32 bits of the return register are the int these functions return.
 */
/* where a hold of this kind is remembered: readers each on their own */
static __always_inline struct held_key held_key_of(u64 lock, u32 kind)
{
	struct held_key k = { .lock = lock };

	if (kind & LOCK_F_READ)
		k.tid = (u32)bpf_get_current_pid_tgid();
	return k;
}

static __always_inline void held_acquired(void *ctx, u64 lock, u64 cookie,
					  int ret, u64 now,
					  const struct wait_start *w)
{
	struct held_start h = {};
	struct held_key hk;
	u64 how = cookie & LOCK_FN_HOW;
	u32 kind;

	if (how == LOCK_FN_INT && ret != 0)
		return;		/* interrupted or killed: not acquired */
	if (how == LOCK_FN_TRY && ret != 1)
		return;		/* trylock failed */
	kind = fn_kind(cookie) | (how == LOCK_FN_TRY ? LOCK_K_TRYLOCK : 0);
	/* w: the entry's record (kprobes), with the caller found there;
	 * fexit finds it here, as the first kernel frame */
	if (!fill_key(ctx, &h.key, lock, kind, w))
		return;
	h.ts = now;
	hk = held_key_of(lock, kind);
	remember(&held, &hk, &h);
}

/*
 * mutex_unlock, up_read, up_write, downgrade_write.  Not filtered: the
 * unlocker may be any task (a reader's is the reader), and only locks
 * whose acquirer passed the filter are in the map.  The entry runs
 * before the release, so a new owner's exit always comes after this.
 */
static __always_inline int held_release(u64 lock, u64 cookie)
{
	u64 now = bpf_ktime_get_ns();	/* first: the release is now */
	struct held_key hk = held_key_of(lock, fn_kind(cookie));
	struct held_start *h = bpf_map_lookup_elem(&held, &hk), rd = {};
	struct lock_key key;
	u32 gen;

	if (!h)
		return 0;	/* taken before we started, or untraced */
	key = h->key;
	/*
	 * downgrade_write: the write hold ends here and the same task goes
	 * on holding it for reading, under the key it took it with.
	 */
	if ((cookie & LOCK_FN_HOW) == LOCK_FN_DOWNGRADE) {
		rd = *h;
		rd.key.kind = (rd.key.kind & ~LOCK_F_WRITE) | LOCK_F_READ;
		rd.ts = now;
	}
	now -= h->ts;
	bpf_map_delete_elem(&held, &hk);
	if ((cookie & LOCK_FN_HOW) == LOCK_FN_DOWNGRADE) {
		struct held_key rk = held_key_of(lock, LOCK_F_READ);

		remember(&held, &rk, &rd);
	}
	gen = ks_generation();
	/*
	 * Held across an interval boundary: the acquirer's stack is in the
	 * closed generation's stack map, emptied once that interval was
	 * reported, and this hold belongs to the new interval.  Counted as a
	 * lost stack rather than shown under a stack that may be gone.
	 */
	if (key.stackid != KS_NO_STACK && key.gen != gen) {
		ks_drop(KS_DROP_STACK);
		return 0;
	}
	key.gen = gen;
	record(&key, now);
	return 0;
}

SEC("fentry/mutex_lock")
int BPF_PROG(lock_fentry, void *lock)
{
	return fn_enter(ctx, (u64)lock, 0);
}

SEC("fexit/mutex_lock")
int BPF_PROG(lock_fexit, void *lock)
{
	return fn_exit_wait(ctx);
}

SEC("kprobe/mutex_lock")
int BPF_KPROBE(lock_kprobe, void *lock)
{
	return fn_enter(ctx, (u64)lock, kprobe_entry_caller(ctx));
}

SEC("kretprobe/mutex_lock")
int BPF_KRETPROBE(lock_kretprobe)
{
	return fn_exit_wait(ctx);
}

/* fexit has the arguments: no entry program needed */
SEC("fexit/mutex_lock")
int held_fexit(u64 *ctx)
{
	u64 now = bpf_ktime_get_ns();	/* first: the hold began */
	u64 ret = 0;

	if (ks_skip_task())
		return 0;
	/* the value is garbage for void functions: how says to ignore it */
	bpf_get_func_ret(ctx, &ret);
	held_acquired(ctx, ctx[0], bpf_get_attach_cookie(ctx), (int)ret, now,
		      NULL);
	return 0;
}

/* kretprobe: the lock pointer comes from lock_kprobe's entry record */
SEC("kretprobe/mutex_lock")
int BPF_KRETPROBE(held_kretprobe, long ret)
{
	u64 now = bpf_ktime_get_ns();	/* first: the hold began */
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct wait_start *s = inflight_find(tid), w;

	if (!s)
		return 0;
	w = *s;
	inflight_free(s);
	held_acquired(ctx, w.lock, bpf_get_attach_cookie(ctx), (int)ret, now,
		      &w);
	return 0;
}

SEC("fentry/mutex_unlock")
int BPF_PROG(unlock_fentry, void *lock)
{
	return held_release((u64)lock, bpf_get_attach_cookie(ctx));
}

SEC("kprobe/mutex_unlock")
int BPF_KPROBE(unlock_kprobe, void *lock)
{
	return held_release((u64)lock, bpf_get_attach_cookie(ctx));
}

/* ---- spinlock --calls -------------------------------------------------- */

static __always_inline int count_call(struct pt_regs *ctx, u64 lock)
{
	struct lock_call_key key = {};
	static const u64 zero;
	u64 *v;

	if (ks_skip_task())
		return 0;
	key.stackid = KS_NO_STACK;
	key.gen = ks_generation();
	if (use_stacks) {
		key.stackid = ks_kstack(ctx, key.gen);
		if (key.stackid == KS_NO_STACK)
			return 0;	/* counted as a stack drop */
	}
	key.lock = lock;
	if (want_class)
		key.lclass = lock_class(lock, LOCK_F_SPIN);
	key.func = bpf_get_attach_cookie(ctx);
	ks_current_comm(key.comm);
	v = ks_lookup_or_init(&calls, &key, &zero,
			      LOCK_DROP_REENTERED);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

SEC("kprobe/_raw_spin_lock")
int BPF_KPROBE(spin_call_kprobe, void *lock)
{
	return count_call(ctx, (u64)lock);
}
