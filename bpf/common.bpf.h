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

/* Events not counted, per reason; user space sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KS_MAX_DROP_REASONS);
	__type(key, u32);
	__type(value, u64);
} ks_drops SEC(".maps");

/*
 * Stacks, one map per interval generation: user space empties a closed
 * generation's map once its interval was reported, while keys of the open
 * generation hold ids in the other map, so no id is ever read from a map
 * cleared under it.  Sized from --stack-depth and --max-entries before
 * load; ks_stacks1 stays at one entry unless interval reports take stacks.
 */
struct ks_stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(u32));
	__uint(value_size, KS_MAX_STACK_DEPTH * sizeof(u64));
};
struct ks_stack_map ks_stacks SEC(".maps");
struct ks_stack_map ks_stacks1 SEC(".maps");

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

static __always_inline bool ks_comm_matches(void)
{
	char comm[KS_COMM_LEN];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
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

/* Kernel stack id in generation gen's stack map (the gen of the key that
 * will hold it), or -1 with the failure counted. */
static __always_inline s64 ks_kstack(void *ctx, u32 gen)
{
	long id = bpf_get_stackid(ctx, gen & 1 ? (void *)&ks_stacks1 :
				  (void *)&ks_stacks, BPF_F_FAST_STACK_CMP);

	if (id < 0) {
		ks_drop(KS_DROP_STACK);
		return -1;
	}
	return id;
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

#define KS_EBUSY	16
#define KS_EEXIST	17

/*
 * An update whose failure is counted: as busy_reason when the map refused
 * an update nested in another one of it on this CPU (-EBUSY: a probe that
 * fired inside our own insertion), else as full_reason.  Returns the
 * error.
 */
static __always_inline int ks_update_or_drop(void *map, const void *key,
					     const void *val, u64 flags,
					     u32 full_reason, u32 busy_reason)
{
	int err = ks_map_update(map, key, val, flags);

	if (err && err != -KS_EEXIST)
		ks_drop(err == -KS_EBUSY ? busy_reason : full_reason);
	return err;
}

/*
 * Find the value for key, inserting a zeroed one if absent.  No room is
 * counted as map_full, a nested update refused as busy_reason (tools
 * without such a reason pass KS_DROP_MAP_FULL), never a silent loss.
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
		ks_drop(err == -KS_EBUSY ? busy_reason : KS_DROP_MAP_FULL);
	return v;
}

#endif
