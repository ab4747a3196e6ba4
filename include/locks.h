/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plain structs shared by bpf/locks.bpf.c and the user halves of mlock,
 * mheld and spinlock (src/tools/locks_common.c).
 */
#ifndef KS_LOCKS_H
#define KS_LOCKS_H

#include "ks_common.h"

/*
 * The flags argument of the lock:contention_begin tracepoint (LCB_F_* in
 * include/trace/events/lock.h), unchanged since the tracepoints came in
 * 5.19 ("locking: Add lock contention tracepoints", Namhyung Kim).
 */
#define LOCK_F_SPIN	(1U << 0)	/* spinning waiter (preemption off) */
#define LOCK_F_READ	(1U << 1)
#define LOCK_F_WRITE	(1U << 2)
#define LOCK_F_RT	(1U << 3)	/* rt_mutex / PREEMPT_RT lock */
#define LOCK_F_PERCPU	(1U << 4)	/* percpu_rw_semaphore */
#define LOCK_F_MUTEX	(1U << 5)
#define LOCK_F_MASK	0x3fU

/* Our own bits of lock_key.kind, above the tracepoint's flags. */
#define LOCK_K_SLEPT	(1U << 8)	/* the waiter went to sleep */
#define LOCK_K_CALL	(1U << 9)	/* timed a lock function call, not a
					 * contention (fentry/kprobe modes) */
#define LOCK_K_TRYLOCK	(1U << 10)	/* mheld: taken with mutex_trylock */

/* bpf_get_attach_cookie() of a lock function probe: how to read it */
enum lock_fn_how {
	LOCK_FN_VOID = 0,	/* returns nothing: always acquires */
	LOCK_FN_INT = 1,	/* returns 0 when it acquired (-EINTR...) */
	LOCK_FN_TRY = 2,	/* trylock: returns 1 when it acquired */
	LOCK_FN_UNLOCK = 3,
	LOCK_FN_DOWNGRADE = 4,	/* downgrade_write: write hold ends, a read
				 * hold by the same task begins */
	LOCK_FN_HOW = 0xff,	/* the bits above say more about the function */
	/* calls another lock function on the same lock (mutex_lock_io()
	 * calls mutex_lock() unless inlined): an entry found in flight on
	 * the same lock is its outer half, not a lost exit */
	LOCK_FN_OUTER = 0x100,
	/* an rw_semaphore function, reader or writer side (no bit: mutex) */
	LOCK_FN_RWSEM_READ = 0x200,
	LOCK_FN_RWSEM_WRITE = 0x400,
};

/* Events not counted, after the common reasons (map_full, stack,
 * no_memory, recursion: on PREEMPT_RT a program can be preempted by a task
 * that runs it again; a lost end can also be seen as missed at that
 * thread's next one). */
enum lock_drop {
	/* a begin/entry whose end/exit never came (kretprobe maxactive,
	 * a tracepoint lost), seen when the next one replaces it */
	LOCK_DROP_MISSED = KS_DROP_COMMON_MAX,
	/* no room to remember an in-flight wait or a held lock */
	LOCK_DROP_INFLIGHT_FULL,
	/* a probe fired inside kscope's own map update on this CPU (the
	 * map's bucket lock is a spin lock: spinlock --calls sees it) and
	 * the map refused the nested update (-EBUSY) */
	LOCK_DROP_REENTERED,
	LOCK_DROP_MAX,
};
_Static_assert(LOCK_DROP_MAX <= KS_MAX_DROP_REASONS, "ks_drops too small");

/* --by: what a row is keyed by (bits of by_mask); a key field whose bit
 * is clear stays zero */
#define LOCK_BY_LOCK	(1U << 0)
#define LOCK_BY_CALLER	(1U << 1)
#define LOCK_BY_COMM	(1U << 2)
#define LOCK_BY_TID	(1U << 3)
#define LOCK_BY_CGROUP	(1U << 4)
#define LOCK_BY_OWNER	(1U << 5)	/* --owner */

/* Heap locks the BPF side names (lock_key.lclass) */
enum lock_class {
	LOCK_C_NONE = 0,
	LOCK_C_MMAP = 1,	/* a task's mm->mmap_lock */
	LOCK_C_SIGLOCK = 2,	/* a task's sighand->siglock */
	LOCK_C_RQ = 3,		/* a CPU's runqueue lock */
	LOCK_C_MAX,
};

/* frames read to find the caller: enough for tracing frames, the lock
 * slow path and the lock function */
#define LOCK_CALLER_DEPTH	16
/* rq_lock names on at most this many CPUs */
#define LOCK_MAX_CPUS		128
/* --caller / -L filters: at most this many functions, locks */
#define LOCK_MAX_FILTER		8

struct lock_key {
	unsigned long long lock;	/* lock address */
	unsigned long long caller;	/* return address outside lock code */
	unsigned long long cgroup;	/* cgroup id of the waiter */
	unsigned long long stackid;	/* KS_NO_STACK without -s */
	unsigned int kind;		/* LOCK_F_* | LOCK_K_* */
	unsigned int tid;
	unsigned int owner_pid;		/* --owner: holder when the wait began */
	unsigned int lclass;		/* enum lock_class */
	unsigned int gen;		/* interval generation (ks_gen) */
	unsigned int pad;
	char comm[KS_COMM_LEN];		/* waiter, or (mheld) acquirer */
	char owner_comm[KS_COMM_LEN];
};

struct lock_val {
	unsigned long long count;
	unsigned long long total_ns;
	unsigned long long max_ns;
	unsigned long long hist[KS_HIST_SLOTS];	/* log2 of nanoseconds */
};

/* spinlock --calls: calls to one spin/rwlock function on one lock */
struct lock_call_key {
	unsigned long long lock;
	unsigned long long stackid;	/* KS_NO_STACK without -s */
	unsigned int func;		/* index into the tool's function list */
	unsigned int gen;		/* interval generation (ks_gen) */
	unsigned int lclass;		/* enum lock_class */
	unsigned int pad;
	char comm[KS_COMM_LEN];
};

/* bpf/slabname.bpf.c: in the address, out the name of its slab cache */
struct lock_slab_args {
	unsigned long long addr;
	char name[32];
};

#endif
