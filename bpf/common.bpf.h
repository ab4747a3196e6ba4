/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared kernel half: filters, drop counters, log2 histograms, stack
 * capture and map helpers used by every tool's .bpf.c.
 */
#ifndef KS_COMMON_BPF_H
#define KS_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "ks_common.h"

#ifndef BPF_F_NO_PREALLOC
#define BPF_F_NO_PREALLOC (1U << 0)
#endif
#ifndef BPF_NOEXIST
#define BPF_NOEXIST 1
#endif
#ifndef BPF_F_FAST_STACK_CMP
#define BPF_F_FAST_STACK_CMP (1ULL << 9)
#endif

char LICENSE[] SEC("license") = "GPL";

const volatile struct ks_filter ks_filter = {};

/* Holds the --cgroup target; bpf_current_task_under_cgroup() includes
 * descendants, which is what a user filtering on a service's cgroup means. */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} ks_cgroup SEC(".maps");

/*
 * Chains (kscope report; src/lib/chain.c).  Where several tools hook one
 * tracepoint, a tracepoint with more than one program calls each through
 * an indirect-call loop and runs each under its own guard (recursion,
 * RCU, run context): report instead attaches the first tool's program
 * only, and every program on such a hook ends in a tail call through its
 * object's KS_CHAIN_MAP(hook), whose one slot user space points at the
 * next tool's program on the same hook.  A tool alone leaves the slot
 * empty and the tail call falls through (a patched direct jump on x86).
 * One prog array per hook: the kernel (6.11+) lets tracing programs share
 * one only when they attach to the same function prototype.
 */
#define KS_CHAIN_MAP(hook)						\
struct {								\
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);				\
	__uint(max_entries, 1);						\
	__type(key, u32);						\
	__type(value, u32);						\
} ks_next_##hook SEC(".maps")

/* the next tool's program on this hook, if any: every exit of a
 * program on a KS_CHAIN_MAP hook goes through here */
#define ks_chain(ctx, hook)						\
	({ bpf_tail_call(ctx, &ks_next_##hook, 0); 0; })

/* Events not counted, per reason; user space sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_MAX_DROP_REASONS);
	__type(key, u32);
	__type(value, u64);
} ks_drops SEC(".maps");

/*
 * Stacks, two maps per interval generation: user space empties a closed
 * generation's maps once its interval was reported, while keys of the open
 * generation hold ids in the other ones, so no id is ever read from a map
 * cleared under it.  Sized from --stack-depth and --max-entries before
 * load; the generation 1 maps stay at one entry unless interval reports
 * take stacks.
 *
 * A kernel stack goes first into a BPF stack-trace map (ks_stackids):
 * bpf_get_stackid() hashes and compares the frames in the kernel, about
 * 200 ns less per event than copying them out and hashing them here
 * (docs/bench.md, "Stack ids").  But a stack-trace map refuses a new
 * stack whenever its bucket (the stack's 32-bit hash modulo the map size)
 * holds another one, so distinct stacks are refused long before the map
 * is full (birthday collisions: 217,946 of kmem -s's stacks in a
 * 20-minute soak with the map far from full).  A refused stack is walked
 * again and kept in ks_stacks, a hash map keyed by a 64-bit hash of the
 * frames (ks_stack_store()), as big as the stack-trace map: a stack is
 * lost only when both are full.  Preallocated like every map an
 * allocation hook inserts into (an insert that allocated would itself be
 * an allocation, made by whichever task the BPF allocator's refill ran
 * in).
 */
struct ks_stackid_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(u32));
	__uint(value_size, KS_MAX_STACK_DEPTH * sizeof(u64));
};
struct ks_stackid_map ks_stackids SEC(".maps");
struct ks_stackid_map ks_stackids1 SEC(".maps");

struct ks_stack_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(u64));
	__uint(value_size, KS_MAX_STACK_DEPTH * sizeof(u64));
};
struct ks_stack_map ks_stacks SEC(".maps");
struct ks_stack_map ks_stacks1 SEC(".maps");

/* bytes of frames a walk takes: the maps' value size, set before load */
const volatile __u32 ks_stack_bytes = KS_MAX_STACK_DEPTH * sizeof(u64);

/*
 * Per-CPU room for the frames of a walk being hashed, one buffer per
 * nesting level: a program interrupted on its CPU (an allocation in an
 * interrupt while one in process context is being recorded) must not
 * overwrite the frames under it.  Interrupts nest last-in first-out, so
 * a plain per-CPU depth counter hands each level its own buffer (the
 * kernel's perf callchain buffers work the same way).
 */
#define KS_STACK_NEST	4
struct ks_stack_scratch {
	u32 depth;
	u32 pad;
	u64 ips[KS_STACK_NEST][KS_MAX_STACK_DEPTH];
};
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct ks_stack_scratch);
} ks_stack_scratch SEC(".maps");

/*
 * Interval generation.  Tools whose interval reports start from zero put
 * it in their keys; before such a report user space flips it and waits
 * for every program that may have read the old value to finish (an RCU
 * grace period), then reads and deletes the old generation's elements,
 * which nothing touches any more: no event is lost or counted twice at an
 * interval boundary.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u32);
} ks_gen SEC(".maps");

static __always_inline u32 ks_generation(void)
{
	u32 zero = 0, *g = bpf_map_lookup_elem(&ks_gen, &zero);

	return g ? *g : 0;
}

static __always_inline void ks_drop(u32 reason)
{
	u64 *v = bpf_map_lookup_elem(&ks_drops, &reason);

	if (v)
		*v += 1;	/* per-CPU slot: no atomic needed */
}

/*
 * The current task's name, KS_COMM_LEN bytes NUL-padded, as
 * bpf_get_current_comm() gives it, but read straight from the task:
 * two loads instead of a helper call that copies it byte by byte, about
 * 35 ns less per event here (docs/bench.md, the --ladder rung "comm read
 * directly").  The kernel sets comm with strscpy_pad(), so the bytes
 * after the name are zero either way and keys built from both agree.
 * bpf_get_current_task_btf() (5.11) and loads from the task it returns
 * are allowed in every tracing program type kscope uses.  dst must be
 * 8-byte aligned (the keys' comm fields are): stack stores must be.
 */
static __always_inline void ks_current_comm(char *dst)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const u64 *src = (const u64 *)t->comm;

	((u64 *)dst)[0] = src[0];
	((u64 *)dst)[1] = src[1];
}

static __always_inline bool ks_comm_matches(void)
{
	char comm[KS_COMM_LEN] __attribute__((aligned(8)));
	int i;

	ks_current_comm(comm);
	for (i = 0; i < KS_COMM_LEN; i++) {
		if (comm[i] != ks_filter.comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* True when the current task is excluded by -p/-t/-c/--cgroup, or is
 * kscope itself (its own BPF loading, map reads and output are not what a
 * user asked about, unless --include-self). */
static __always_inline bool ks_skip_task(void)
{
	if (ks_filter.tgid || ks_filter.tid || ks_filter.self_tgid) {
		u64 id = bpf_get_current_pid_tgid();

		if ((u32)(id >> 32) == ks_filter.self_tgid)
			return true;
		if (ks_filter.tgid && (u32)(id >> 32) != ks_filter.tgid)
			return true;
		if (ks_filter.tid && (u32)id != ks_filter.tid)
			return true;
	}
	if (ks_filter.comm_on && !ks_comm_matches())
		return true;
	if (ks_filter.cgroup_on &&
	    bpf_current_task_under_cgroup(&ks_cgroup, 0) != 1)
		return true;
	return false;
}

static __always_inline u32 ks_log2_slot(u64 v)
{
	u32 r = 0;

	/* slot = number of significant bits, capped at the last slot */
	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { v >>= 1; r += 1; }
	r += v;
	return r < KS_HIST_SLOTS ? r : KS_HIST_SLOTS - 1;
}

/*
 * A map update's error as the int it is.  The verifier turns the helper
 * call into a direct call of the map's update operation, which returned
 * int until 6.4 ("bpf: return long from bpf_map_ops funcs"): on 6.1
 * -EBUSY arrives zero-extended, as 0xfffffff0 (seen).
 */
static __always_inline int ks_map_update(void *map, const void *key,
					 const void *val, u64 flags)
{
	return (int)bpf_map_update_elem(map, key, val, flags);
}

#define KS_ENOMEM	12
#define KS_EBUSY	16
#define KS_EEXIST	17

/*
 * Why an insert failed, as the drop reason to count: busy_reason for
 * -EBUSY (the map refused an update nested in another one of it on this
 * CPU), KS_DROP_NO_MEMORY for -ENOMEM (a map that is not preallocated
 * could not allocate the element: its memory cgroup is at its limit, or
 * the BPF allocator's per-CPU cache was empty; the map is not full, and
 * a larger --max-entries would not help), full_reason otherwise (-E2BIG:
 * no room).
 */
static __always_inline u32 ks_fail_reason(int err, u32 full_reason,
					  u32 busy_reason)
{
	if (err == -KS_EBUSY)
		return busy_reason;
	if (err == -KS_ENOMEM)
		return KS_DROP_NO_MEMORY;
	return full_reason;
}

/*
 * An update whose failure is counted (ks_fail_reason(): busy_reason for a
 * probe that fired inside our own insertion, no_memory, else
 * full_reason).  Returns the error.
 */
static __always_inline int ks_update_or_drop(void *map, const void *key,
					     const void *val, u64 flags,
					     u32 full_reason, u32 busy_reason)
{
	int err = ks_map_update(map, key, val, flags);

	if (err && err != -KS_EEXIST)
		ks_drop(ks_fail_reason(err, full_reason, busy_reason));
	return err;
}

#if defined(__TARGET_ARCH_x86)
/*
 * A frame pointer above which a frame may lie, from the stack pointer: a
 * thread's stack is at most this big here (8 MiB by default).
 */
#define KS_USTACK_SPAN	(256ULL << 20)

/*
 * The task's user stack at a uprobe or uretprobe (ctx: its registers), by
 * frame pointers, as the kernel's perf_callchain_user() walks it for
 * bpf_get_stack(BPF_F_USER_STACK): the interrupted ip, then the return
 * address of each frame record {next frame, return address} from the
 * frame pointer on.  The difference: a frame pointer that cannot be one
 * (below the stack pointer, not above the frame before it, misaligned,
 * or further above the stack pointer than a stack reaches) ends the walk
 * before it is read.  Code built without frame pointers (most of a
 * distribution) leaves anything in rbp, and the kernel reads it: an
 * unmapped address costs a page fault and its fixup, 4.5 us of the 5.1
 * a walk took on this VM, for no frame.  Frames, ips zero-filled past
 * them (the stored value is all of bytes); returns the bytes taken.
 */
static __always_inline long ks_user_stack(struct pt_regs *regs, u64 *ips,
					  u32 bytes)
{
	u64 sp = PT_REGS_SP(regs), fp = PT_REGS_FP(regs);
	struct { u64 next, ret; } fr;
	u32 max = bytes / sizeof(u64), i, n;

	if (!max)
		return 0;
	ips[0] = PT_REGS_IP(regs);
	for (n = 1; n < KS_MAX_STACK_DEPTH && n < max; n++) {
		if (fp < sp || (fp & 7) || fp - sp > KS_USTACK_SPAN ||
		    bpf_probe_read_user(&fr, sizeof(fr), (void *)fp))
			break;
		ips[n] = fr.ret;
		if (fr.next <= fp) {
			n++;
			break;
		}
		fp = fr.next;
	}
	/* (the barrier keeps clang from making this a memset, which BPF
	 * cannot call) */
	for (i = n; i < KS_MAX_STACK_DEPTH && i < max; i++) {
		barrier_var(i);
		ips[i] = 0;
	}
	return n * sizeof(u64);
}
#endif

/*
 * Walks the current stack (flags: 0 for the kernel's, BPF_F_USER_STACK for
 * the task's) and stores its frames in map, a hash map keyed by a 64-bit
 * FNV-1a hash of them.  Returns that key, never 0 and never with
 * KS_STACKID_MAP, or 0 when the walk
 * failed (counted as KS_DROP_STACK) or the map had no room for a new stack
 * (counted as full_reason).  Two stacks with one 64-bit hash would share a
 * key; at 2^-64 per pair that is not counted.
 */
static __always_inline u64 ks_stack_store(void *ctx, void *map, u32 bytes,
					  u64 flags, u32 full_reason)
{
	u32 zero = 0, lvl;
	struct ks_stack_scratch *s = bpf_map_lookup_elem(&ks_stack_scratch,
							 &zero);
	u64 h = 0xcbf29ce484222325ULL, *ips;
	long n;
	int i, err;

	if (!s)
		return 0;
	lvl = s->depth;
	if (lvl >= KS_STACK_NEST) {
		ks_drop(KS_DROP_STACK);
		return 0;
	}
	s->depth = lvl + 1;
	ips = s->ips[lvl];
	if (bytes > KS_MAX_STACK_DEPTH * sizeof(u64))
		bytes = KS_MAX_STACK_DEPTH * sizeof(u64);
	/* zero-fills past the frames it took: no stale frames are stored */
#if defined(__TARGET_ARCH_x86)
	if (flags & BPF_F_USER_STACK)
		n = ks_user_stack(ctx, ips, bytes);
	else
#endif
		n = bpf_get_stack(ctx, ips, bytes, flags);
	if (n <= 0) {
		ks_drop(KS_DROP_STACK);
		h = 0;
		goto out;
	}
	n /= 8;
	for (i = 0; i < KS_MAX_STACK_DEPTH; i++) {
		if (i >= n)
			break;
		h ^= ips[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 32;
	h |= 1;			/* 0 means "no stack" */
	h &= ~KS_STACKID_MAP;	/* that bit tags stack-trace map ids */
	if (bpf_map_lookup_elem(map, &h))
		goto out;
	err = ks_map_update(map, &h, ips, BPF_NOEXIST);
	/* -EEXIST: another CPU stored the same stack just now */
	if (err && err != -KS_EEXIST && !bpf_map_lookup_elem(map, &h)) {
		ks_drop(ks_fail_reason(err, full_reason, KS_DROP_STACK));
		h = 0;
	}
out:
	s->depth = lvl;
	return h;
}

/*
 * Kernel stack of this event: its id in idmap, a stack-trace map of
 * bytes / 8 frames, tagged KS_STACKID_MAP, or where idmap refuses it (its
 * bucket holds another stack, or it is full) its hash in hmap
 * (ks_stack_store(), which walks the stack again); 0 with the failure
 * counted.
 */
static __always_inline u64 ks_kstack_in(void *ctx, void *idmap, void *hmap,
					u32 bytes, u32 full_reason)
{
	long id = bpf_get_stackid(ctx, idmap, 0);

	if (id >= 0)
		return KS_STACKID_MAP | (u64)id;
	return ks_stack_store(ctx, hmap, bytes, 0, full_reason);
}

/* Kernel stack of this event in generation gen's stack maps (the gen of
 * the key that will hold it), or 0 with the failure counted. */
static __always_inline u64 ks_kstack(void *ctx, u32 gen)
{
	if (gen & 1)
		return ks_kstack_in(ctx, &ks_stackids1, &ks_stacks1,
				    ks_stack_bytes, KS_DROP_STACK);
	return ks_kstack_in(ctx, &ks_stackids, &ks_stacks, ks_stack_bytes,
			    KS_DROP_STACK);
}

/*
 * Find the value for key, inserting a zeroed one if absent.  No room is
 * counted as map_full, no memory for the element as no_memory, a nested
 * update refused as busy_reason (tools without such a reason pass
 * KS_DROP_MAP_FULL), never a silent loss.
 */
static __always_inline void *ks_lookup_or_init(void *map, const void *key,
					       const void *zero,
					       u32 busy_reason)
{
	void *v = bpf_map_lookup_elem(map, key);
	int err;

	if (v)
		return v;
	/* -EEXIST from a racing CPU is fine: the lookup below finds it */
	err = ks_map_update(map, key, zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(map, key);
	if (!v)
		ks_drop(ks_fail_reason(err, KS_DROP_MAP_FULL, busy_reason));
	return v;
}

#endif
