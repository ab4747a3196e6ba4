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


/* cpu_start.lock while contention_end records: see cont_end() */
#define SLOT_BUSY 1ULL

/* A wait (or a lock function call) in progress. */
struct wait_start {
	u64 lock;
	u64 ts;
	u64 nvcsw;	/* voluntary switches at entry: did the call sleep? */
	u32 kind;
	u32 pad;
};

/* A mutex held since ts (mheld), by the task that took it. */
struct held_start {
	u64 ts;
	s32 stackid;
	u32 kind;
	char comm[KS_COMM_LEN];
	u32 gen;		/* of the stack map stackid is in */
	u32 pad;
};

/* Aggregated waits (or hold times), sized from --max-entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, struct lock_key);
	__type(value, struct lock_val);
} waits SEC(".maps");

/* Sleeping-lock waits and lock function calls in progress, per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u32);
	__type(value, struct wait_start);
} tid_start SEC(".maps");

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

/* Mutexes held now, by lock address: the unlocker may be another task. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, u64);
	__type(value, struct held_start);
} held SEC(".maps");

/* spinlock --calls */
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
static __always_inline void remember(void *map, const void *key,
				     const void *val)
{
	ks_update_or_drop(map, key, val, BPF_ANY, LOCK_DROP_INFLIGHT_FULL,
			  LOCK_DROP_REENTERED);
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

/* Record for the current task; false when a wanted stack was lost. */
static __always_inline void record_current(void *ctx, u64 lock, u32 kind,
					   u64 delta)
{
	struct lock_key key = {};

	key.stackid = -1;
	key.gen = ks_generation();
	if (use_stacks) {
		s64 id = ks_kstack(ctx, key.gen);

		if (id < 0)
			return;		/* counted as a stack drop */
		key.stackid = id;
	}
	key.lock = lock;
	key.kind = kind;
	bpf_get_current_comm(key.comm, sizeof(key.comm));
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
	struct wait_start *s, n = {};
	u32 zero = 0, tid;
	int err;

	flags = rtlock_flags(flags);
	if (!(accept_flags & (1ULL << (flags & LOCK_F_MASK))))
		return 0;
	if (ks_skip_task())
		return 0;
	if ((flags & (LOCK_F_SPIN | LOCK_F_MUTEX | LOCK_F_RT)) == LOCK_F_SPIN) {
		s = bpf_map_lookup_elem(&cpu_start, &zero);
		if (!s || s->lock)
			return 0;	/* nested in an outer spin wait */
		s->ts = bpf_ktime_get_ns();
		s->kind = flags;
		s->lock = lock;
		return 0;
	}
	tid = (u32)bpf_get_current_pid_tgid();
	n.lock = lock;
	n.ts = bpf_ktime_get_ns();
	n.kind = flags | ((flags & (LOCK_F_SPIN | LOCK_F_RT)) == LOCK_F_SPIN ?
			  0 : LOCK_K_SLEPT);
	/* the first begin of a wait, the common case: one map operation */
	err = ks_update_or_drop(&tid_start, &tid, &n, BPF_NOEXIST,
				LOCK_DROP_INFLIGHT_FULL, LOCK_DROP_REENTERED);
	if (err != -KS_EEXIST)
		return 0;
	s = bpf_map_lookup_elem(&tid_start, &tid);
	if (!s)
		return 0;
	if (s->lock == lock) {
		/* the same wait goes on: a mutex done spinning now sleeps
		 * (begin without SPIN) */
		if (!(flags & LOCK_F_SPIN))
			s->kind |= LOCK_K_SLEPT;
		return 0;
	}
	/* sleeping waits never nest: the last end was lost.  Only this
	 * thread touches its entry, so it is rewritten in place. */
	ks_drop(LOCK_DROP_MISSED);
	*s = n;
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
	struct wait_start *c, *s;
	u32 zero = 0, tid, kind;
	u64 delta;

	c = bpf_map_lookup_elem(&cpu_start, &zero);
	if (!c)
		return 0;
	if (c->lock) {
		/* a sleeping wait cannot end while this CPU spins */
		if (c->lock != lock)
			return 0;
		delta = bpf_ktime_get_ns() - c->ts;
		kind = c->kind;
		c->lock = SLOT_BUSY;
		record_current(ctx, lock, kind, delta);
		c->lock = 0;
		return 0;
	}
	if (!track_tid)
		return 0;
	tid = (u32)bpf_get_current_pid_tgid();
	s = bpf_map_lookup_elem(&tid_start, &tid);
	if (!s || s->lock != lock)
		return 0;
	delta = bpf_ktime_get_ns() - s->ts;
	kind = s->kind;
	c->lock = SLOT_BUSY;
	bpf_map_delete_elem(&tid_start, &tid);
	record_current(ctx, lock, kind, delta);
	c->lock = 0;
	return 0;
}

SEC("tp_btf/contention_begin")
int BPF_PROG(cont_begin_btf, void *lock, unsigned int flags)
{
	return cont_begin((u64)lock, flags);
}

SEC("tp_btf/contention_end")
int BPF_PROG(cont_end_btf, void *lock, int ret)
{
	return cont_end(ctx, (u64)lock);
}

SEC("raw_tp/contention_begin")
int cont_begin_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (void *lock, unsigned int flags) */
	return cont_begin(ctx->args[0], (u32)ctx->args[1]);
}

SEC("raw_tp/contention_end")
int cont_end_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (void *lock, int ret) */
	return cont_end(ctx, ctx->args[0]);
}

SEC("tp/lock/contention_begin")
int cont_begin_tp(struct trace_event_raw_contention_begin *ctx)
{
	return cont_begin((u64)BPF_CORE_READ(ctx, lock_addr),
			  BPF_CORE_READ(ctx, flags));
}

SEC("tp/lock/contention_end")
int cont_end_tp(struct trace_event_raw_contention_end *ctx)
{
	return cont_end(ctx, (u64)BPF_CORE_READ(ctx, lock_addr));
}

/* ---- mutex lock functions: every call (mlock), acquisitions (mheld) --- */

/*
 * Entry of a lock function.  A call still in flight for this thread is
 * either the outer half of a nested call (mutex_lock_io() calls
 * mutex_lock() unless the compiler inlined it: same lock) or a lost exit
 * (kretprobe out of instances: another lock).  Replacing it is right in
 * both cases; only the second is a drop.
 */
static __always_inline int fn_enter(u64 lock)
{
	struct wait_start *s, n = {};
	u32 tid;

	if (ks_skip_task())
		return 0;
	tid = (u32)bpf_get_current_pid_tgid();
	s = bpf_map_lookup_elem(&tid_start, &tid);
	if (s && s->lock != lock)
		ks_drop(LOCK_DROP_MISSED);
	n.lock = lock;
	n.kind = LOCK_F_MUTEX | LOCK_K_CALL;
	n.nvcsw = current_nvcsw();
	n.ts = bpf_ktime_get_ns();
	remember(&tid_start, &tid, &n);
	return 0;
}

/* mlock: exit of a lock function, acquired or interrupted alike */
static __always_inline int fn_exit_wait(void *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct wait_start *s;
	u64 delta, lock;
	u32 kind;

	s = bpf_map_lookup_elem(&tid_start, &tid);
	if (!s)
		return 0;
	delta = bpf_ktime_get_ns() - s->ts;
	lock = s->lock;
	kind = s->kind;
	/* a voluntary switch inside the call: it slept on the mutex */
	if (current_nvcsw() != s->nvcsw)
		kind |= LOCK_K_SLEPT;
	bpf_map_delete_elem(&tid_start, &tid);
	record_current(ctx, lock, kind, delta);
	return 0;
}

/*
 * mheld: the lock function returned; ret per enum lock_fn_how.  Only the
 * low 32 bits of the return register are the int these functions return.
 */
static __always_inline void held_acquired(void *ctx, u64 lock, u64 how,
					  int ret)
{
	struct held_start h = {};

	if (how == LOCK_FN_INT && ret != 0)
		return;		/* interrupted or killed: not acquired */
	if (how == LOCK_FN_TRY && ret != 1)
		return;		/* trylock failed */
	h.stackid = -1;
	if (use_stacks) {
		s64 id;

		h.gen = ks_generation();
		id = ks_kstack(ctx, h.gen);
		if (id < 0)
			return;
		h.stackid = id;
	}
	h.kind = LOCK_F_MUTEX | (how == LOCK_FN_TRY ? LOCK_K_TRYLOCK : 0);
	bpf_get_current_comm(h.comm, sizeof(h.comm));
	h.ts = bpf_ktime_get_ns();
	remember(&held, &lock, &h);
}

/*
 * mutex_unlock.  Not filtered: the unlocker may be any task, and only
 * locks whose acquirer passed the filter are in the map.  The entry runs
 * before the release, so a new owner's exit always comes after this.
 */
static __always_inline int held_release(u64 lock)
{
	struct held_start *h = bpf_map_lookup_elem(&held, &lock);
	struct lock_key key = {};
	u64 delta;

	if (!h)
		return 0;	/* taken before we started, or untraced */
	delta = bpf_ktime_get_ns() - h->ts;
	key.lock = lock;
	key.kind = h->kind;
	key.gen = ks_generation();
	key.stackid = h->stackid;
	/*
	 * Held across an interval boundary: the acquirer's stack is in the
	 * closed generation's stack map, emptied once that interval was
	 * reported, and this hold belongs to the new interval.  Counted as a
	 * lost stack rather than shown under a stack that may be gone.
	 */
	if (h->stackid >= 0 && h->gen != key.gen) {
		bpf_map_delete_elem(&held, &lock);
		ks_drop(KS_DROP_STACK);
		return 0;
	}
	__builtin_memcpy(key.comm, h->comm, sizeof(key.comm));
	bpf_map_delete_elem(&held, &lock);
	record(&key, delta);
	return 0;
}

SEC("fentry/mutex_lock")
int BPF_PROG(lock_fentry, void *lock)
{
	return fn_enter((u64)lock);
}

SEC("fexit/mutex_lock")
int BPF_PROG(lock_fexit, void *lock)
{
	return fn_exit_wait(ctx);
}

SEC("kprobe/mutex_lock")
int BPF_KPROBE(lock_kprobe, void *lock)
{
	return fn_enter((u64)lock);
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
	u64 ret = 0;

	if (ks_skip_task())
		return 0;
	/* the value is garbage for void functions: how says to ignore it */
	bpf_get_func_ret(ctx, &ret);
	held_acquired(ctx, ctx[0], bpf_get_attach_cookie(ctx), (int)ret);
	return 0;
}

/* kretprobe: the lock pointer comes from lock_kprobe's entry record */
SEC("kretprobe/mutex_lock")
int BPF_KRETPROBE(held_kretprobe, long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct wait_start *s = bpf_map_lookup_elem(&tid_start, &tid);
	u64 lock;

	if (!s)
		return 0;
	lock = s->lock;
	bpf_map_delete_elem(&tid_start, &tid);
	held_acquired(ctx, lock, bpf_get_attach_cookie(ctx), (int)ret);
	return 0;
}

SEC("fentry/mutex_unlock")
int BPF_PROG(unlock_fentry, void *lock)
{
	return held_release((u64)lock);
}

SEC("kprobe/mutex_unlock")
int BPF_KPROBE(unlock_kprobe, void *lock)
{
	return held_release((u64)lock);
}

/* ---- spinlock --calls -------------------------------------------------- */

static __always_inline int count_call(struct pt_regs *ctx, u64 lock)
{
	struct lock_call_key key = {};
	static const u64 zero;
	u64 *v;

	if (ks_skip_task())
		return 0;
	key.stackid = -1;
	key.gen = ks_generation();
	if (use_stacks) {
		s64 id = ks_kstack(ctx, key.gen);

		if (id < 0)
			return 0;
		key.stackid = id;
	}
	key.lock = lock;
	key.func = bpf_get_attach_cookie(ctx);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
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
