// SPDX-License-Identifier: GPL-2.0
/*
 * The floor: what attaching any BPF program at all to a hook costs.  The
 * empty_* programs do nothing, so a tool's overhead minus theirs is what
 * the tool's own work costs.  The count_* programs count one process's
 * events (bench.py divides by the workload's iterations to get events per
 * iteration); they are never used for timing.  The stack_* programs only
 * take a kernel stack id (as bpftrace's kstack and kscope -s do): what a
 * stack capture alone costs on this kernel, sized by floor -s DEPTH.
 * The *_up programs are the same for uprobes in a process's C library.
 *
 * Sections carry no target: bench/floor.c opens this object once per hook
 * and points the one program it keeps at that hook.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "memleak.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid;
__u64 events;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 10240);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, 127 * sizeof(__u64));	/* set by floor -s */
} stacks SEC(".maps");

SEC("tp_btf")
int empty_btf(void *ctx)
{
	return 0;
}

SEC("raw_tp")
int empty_raw(void *ctx)
{
	return 0;
}

SEC("tp")
int empty_tp(void *ctx)
{
	return 0;
}

static __always_inline int count(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&events, 1);
	return 0;
}

SEC("tp_btf")
int count_btf(void *ctx)
{
	return count();
}

SEC("raw_tp")
int count_raw(void *ctx)
{
	return count();
}

SEC("tp")
int count_tp(void *ctx)
{
	return count();
}

SEC("tp_btf")
int stack_btf(void *ctx)
{
	bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

SEC("raw_tp")
int stack_raw(void *ctx)
{
	bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

SEC("tp")
int stack_tp(void *ctx)
{
	bpf_get_stackid(ctx, &stacks, 0);
	return 0;
}

/*
 * A leak tracer's own floor (floor -l DEPTH, on memleak's hooks): what no
 * tool that finds leaks can skip.  An allocation takes its stack id and
 * puts its address in a hash of live blocks (memleak's value, as big as
 * memleak's map); a free deletes its address: the argument (tp_btf,
 * raw_tp) or u64 of the record (tracepoint, after its 8-byte common
 * header) that floor.c puts in addr_at for that hook.  One live map for
 * all hooks (floor.c shares the first one's).
 */
const volatile __u32 addr_at;

/* a constant offset for each: the verifier takes no variable offset into
 * a context, nor an offset added to its pointer before the load, which is
 * what the compiler makes of ctx[addr_at] (the branches not taken are
 * never verified: addr_at is a constant at load) */
#define CTX_U64(ctx, off) ({						\
	__u64 __v;							\
	asm volatile("%0 = *(u64 *)(%1 + " #off ")" : "=r"(__v) : "r"(ctx)); \
	__v;								\
})

static __always_inline __u64 arg_at(__u64 *ctx)
{
	switch (addr_at) {
	case 0: return CTX_U64(ctx, 0);
	case 1: return CTX_U64(ctx, 8);
	case 2: return CTX_U64(ctx, 16);
	case 3: return CTX_U64(ctx, 24);
	default: return CTX_U64(ctx, 56);
	}
}

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);	/* KS_DEFAULT_ENTRIES, as memleak */
	__type(key, __u64);
	__type(value, struct memleak_alloc);
} live SEC(".maps");

static __always_inline int live_alloc(void *ctx, __u64 addr)
{
	struct memleak_alloc a = {};

	a.stack = bpf_get_stackid(ctx, &stacks, 0);
	bpf_map_update_elem(&live, &addr, &a, BPF_ANY);
	return 0;
}

static __always_inline int live_free(__u64 addr)
{
	bpf_map_delete_elem(&live, &addr);
	return 0;
}

/* tp_btf and raw_tp: the arguments; tracepoint: the record, after its
 * 8-byte common header */
SEC("tp_btf")
int live_alloc_btf(__u64 *ctx)
{
	return live_alloc(ctx, arg_at(ctx));
}

SEC("tp_btf")
int live_free_btf(__u64 *ctx)
{
	return live_free(arg_at(ctx));
}

SEC("raw_tp")
int live_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return live_alloc(ctx, arg_at(ctx->args));
}

SEC("raw_tp")
int live_free_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return live_free(arg_at(ctx->args));
}

SEC("tp")
int live_alloc_tp(__u64 *ctx)
{
	return live_alloc(ctx, arg_at(ctx));
}

SEC("tp")
int live_free_tp(__u64 *ctx)
{
	return live_free(arg_at(ctx));
}

/* uprobes (floor -m uprobe: memleak's user mode, the bare-uprobe floor);
 * the section names no function: floor.c attaches it by hand */
SEC("uprobe")
int empty_up(void *ctx)
{
	return 0;
}

SEC("uprobe")
int count_up(void *ctx)
{
	return count();
}

/*
 * The ladder (bench.py --ladder; tp_btf only): the floor plus one piece of
 * a typical aggregating handler at a time, to see what each piece costs.
 * The key is laid out like kmem's (call site, stack id, kind, comm).
 */
struct lkey {
	__u64 site;
	__s32 stackid;
	__u32 kind;
	char comm[16];
};

struct lval {
	__u64 count;
	__u64 bytes;
	__u64 bytes_req;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lkey);
	__type(value, struct lval);
} lhash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct lkey);
	__type(value, struct lval);
} lpcpu SEC(".maps");

static const struct lval lzero;

static __always_inline struct lval *lget(void *map, struct lkey *k)
{
	struct lval *v = bpf_map_lookup_elem(map, k);

	if (v)
		return v;
	bpf_map_update_elem(map, k, &lzero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, k);
}

SEC("tp_btf")
int ladder_comm(__u64 *ctx)
{
	struct lkey k = {};

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	return k.comm[0] == 1;	/* keep the call */
}

SEC("tp_btf")
int ladder_hash(__u64 *ctx)
{
	struct lkey k = { .site = ctx[0], .stackid = -1 };
	struct lval *v;

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = lget(&lhash, &k);
	if (v)
		v->count++;
	return 0;
}

SEC("tp_btf")
int ladder_atomic(__u64 *ctx)
{
	struct lkey k = { .site = ctx[0], .stackid = -1 };
	struct lval *v;

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = lget(&lhash, &k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->bytes, 64);
		__sync_fetch_and_add(&v->bytes_req, 64);
	}
	return 0;
}

SEC("tp_btf")
int ladder_pcpu(__u64 *ctx)
{
	struct lkey k = { .site = ctx[0], .stackid = -1 };
	struct lval *v;

	bpf_get_current_comm(k.comm, sizeof(k.comm));
	v = lget(&lpcpu, &k);
	if (v) {
		v->count++;
		v->bytes += 64;
		v->bytes_req += 64;
	}
	return 0;
}

/* comm read straight from current->comm (a BTF pointer, tp_btf only)
 * instead of through bpf_get_current_comm(): same bytes, the kernel keeps
 * comm NUL-padded (__set_task_comm() uses strscpy_pad()) */
static __always_inline void direct_comm(char *comm)
{
	struct task_struct *t = bpf_get_current_task_btf();

	__builtin_memcpy(comm, t->comm, 16);
}

SEC("tp_btf")
int ladder_dcomm(__u64 *ctx)
{
	struct lkey k = {};

	direct_comm(k.comm);
	return k.comm[0] == 1;
}

SEC("tp_btf")
int ladder_dcomm_atomic(__u64 *ctx)
{
	struct lkey k = { .site = ctx[0], .stackid = -1 };
	struct lval *v;

	direct_comm(k.comm);
	v = lget(&lhash, &k);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		__sync_fetch_and_add(&v->bytes, 64);
		__sync_fetch_and_add(&v->bytes_req, 64);
	}
	return 0;
}

/* one clock read, as every timing tool takes at each end of an interval */
SEC("tp_btf")
int ladder_ktime(__u64 *ctx)
{
	return bpf_ktime_get_ns() == 1;
}
