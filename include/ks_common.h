/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plain definitions shared by the BPF (kernel) and user halves of every
 * tool.  No kernel or libc headers here: both sides include this file.
 */
#ifndef KS_COMMON_H
#define KS_COMMON_H

#define KS_COMM_LEN		16
/* log2 buckets: slot 0 holds value 0, slot k (k >= 1) holds [2^(k-1), 2^k) */
#define KS_HIST_SLOTS		64
#define KS_MAX_STACK_DEPTH	127
#define KS_DEFAULT_STACK_DEPTH	16
#define KS_DEFAULT_ENTRIES	10240
#define KS_MAX_DROP_REASONS	8

/* stack id (the key of a stack in the tools' stack maps: a hash of its
 * frames) of a key that holds no stack */
#define KS_NO_STACK		0ULL
/* a stack id with this bit is an id of a BPF stack-trace map (in its low
 * 32 bits); without it, a hash of the frames in the fallback hash map */
#define KS_STACKID_MAP		(1ULL << 63)

/*
 * Filters, set once in .rodata before load.  One struct so that user space
 * can find it by name in any tool's object (see ks_bpf_prepare()).
 */
struct ks_filter {
	unsigned int tgid;	/* 0: any process */
	unsigned int tid;	/* 0: any thread */
	unsigned int comm_on;
	unsigned int cgroup_on;	/* ks_cgroup map holds the cgroup */
	unsigned int self_tgid;	/* kscope itself, left out; 0: counted */
	char comm[KS_COMM_LEN];
};

/* Drop reasons every tool may count; tools add their own after these. */
enum ks_drop_common {
	KS_DROP_MAP_FULL = 0,	/* aggregation map had no room for a new key */
	KS_DROP_STACK = 1,	/* kernel/user stack capture failed */
	/* a map not preallocated could not get memory for a new key
	 * (-ENOMEM: a memory cgroup's limit, or the BPF allocator's per-CPU
	 * cache empty and not refilled yet), with room left in it */
	KS_DROP_NO_MEMORY = 2,
	/* runs of the tool's programs the kernel skipped because one was
	 * already running on that CPU (struct bpf_prog_info's
	 * recursion_misses), each an event not counted: read in user space,
	 * never written by a program */
	KS_DROP_RECURSION = 3,
	KS_DROP_COMMON_MAX = 4,
};

#endif
