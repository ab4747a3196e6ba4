// SPDX-License-Identifier: GPL-2.0
/*
 * slabratetop: slab allocations per cache, counted in the kernel.
 *
 * Pointer modes (fentry, kprobe, tp_btf, raw_tp) see the struct kmem_cache
 * and key the map by its address: one 8-byte hash per event, the name is
 * read only when a cache is first seen, and bytes are allocs * s->size,
 * computed in user space, so an event costs one atomic add.
 *  fentry  - fexit on kmem_cache_alloc{,_lru,_node}[_noprof] and the bulk
 *            variant: successful allocations only, bulk ones included;
 *  kprobe  - kprobes on the same functions (attempts); bulk through a
 *            kretprobe so that only objects handed out are counted;
 *  tp_btf, raw_tp - the kmem_cache_alloc tracepoint's typed
 *            struct kmem_cache * argument (the third one since 6.1),
 *            read with CO-RE.
 * The classic tracepoint record has no cache pointer, and the cache's name
 * (a __data_loc string) only on kernels with "kmem/tracing: Add kmem name
 * to kmem_cache_alloc tracepoint" (2025; not 6.1 or 6.12), so that mode
 * keys by name and exists only there.
 */
#include "common.bpf.h"
#include "slabratetop.h"

/* cache address -> counters (all modes but tracepoint) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u64);
	__type(value, struct slab_val);
} caches SEC(".maps");

/* cache name -> counters (tracepoint mode) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, struct slab_name);
	__type(value, struct slab_val);
} names SEC(".maps");

/* kprobe mode, bulk allocations: the cache between entry and return */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u32);
	__type(value, u64);
} bulk_start SEC(".maps");

KS_CHAIN_MAP(kmem_cache_alloc);

static __always_inline void count_cache(struct kmem_cache *s, u64 n)
{
	struct slab_val *v;
	u64 key = (u64)s;

	if (!s || !n)
		return;
	v = bpf_map_lookup_elem(&caches, &key);
	if (!v) {
		struct slab_val init = {};

		bpf_probe_read_kernel_str(init.name, sizeof(init.name),
					  BPF_CORE_READ(s, name));
		init.size = BPF_CORE_READ(s, size);
		v = ks_lookup_or_init(&caches, &key, &init, KS_DROP_MAP_FULL);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->allocs, n);
}

/* ---- fentry: fexit, so that only successful allocations count ---- */

static __always_inline int fexit_one(unsigned long long *ctx)
{
	u64 s = 0, ret = 0;

	if (ks_skip_task())
		return 0;
	bpf_get_func_arg(ctx, 0, &s);
	bpf_get_func_ret(ctx, &ret);
	if (ret)
		count_cache((struct kmem_cache *)s, 1);
	return 0;
}

/* Three thin programs, each retargeted by user space to whichever of the
 * plain or _noprof name (commit 7bd230a26648, 6.10) the kernel has. */
SEC("fexit/kmem_cache_alloc")
int BPF_PROG(alloc_fexit)
{
	return fexit_one(ctx);
}

SEC("fexit/kmem_cache_alloc_lru")
int BPF_PROG(alloc_lru_fexit)
{
	return fexit_one(ctx);
}

SEC("fexit/kmem_cache_alloc_node")
int BPF_PROG(alloc_node_fexit)
{
	return fexit_one(ctx);
}

/* kmem_cache_alloc_bulk(s, flags, size, p) returns the objects allocated */
SEC("fexit/kmem_cache_alloc_bulk")
int BPF_PROG(alloc_bulk_fexit)
{
	u64 s = 0, ret = 0;

	if (ks_skip_task())
		return 0;
	bpf_get_func_arg(ctx, 0, &s);
	bpf_get_func_ret(ctx, &ret);
	count_cache((struct kmem_cache *)s, (u32)ret);
	return 0;
}

/* ---- kprobe ---- */

static __always_inline int kprobe_one(struct pt_regs *ctx)
{
	if (ks_skip_task())
		return 0;
	count_cache((struct kmem_cache *)PT_REGS_PARM1(ctx), 1);
	return 0;
}

SEC("kprobe/kmem_cache_alloc")
int alloc_kprobe(struct pt_regs *ctx)
{
	return kprobe_one(ctx);
}

SEC("kprobe/kmem_cache_alloc_lru")
int alloc_lru_kprobe(struct pt_regs *ctx)
{
	return kprobe_one(ctx);
}

SEC("kprobe/kmem_cache_alloc_node")
int alloc_node_kprobe(struct pt_regs *ctx)
{
	return kprobe_one(ctx);
}

SEC("kprobe/kmem_cache_alloc_bulk")
int alloc_bulk_kprobe(struct pt_regs *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 s = PT_REGS_PARM1(ctx);

	if (ks_skip_task())
		return 0;
	ks_update_or_drop(&bulk_start, &tid, &s, BPF_ANY, KS_DROP_MAP_FULL,
			  KS_DROP_MAP_FULL);
	return 0;
}

SEC("kretprobe/kmem_cache_alloc_bulk")
int alloc_bulk_kretprobe(struct pt_regs *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 *s = bpf_map_lookup_elem(&bulk_start, &tid);

	if (!s)
		return 0;
	count_cache((struct kmem_cache *)*s, (u32)PT_REGS_RC(ctx));
	bpf_map_delete_elem(&bulk_start, &tid);
	return 0;
}

/* ---- tracepoint family ---- */

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(cache_alloc_btf, unsigned long call_site, const void *ptr,
	     struct kmem_cache *s)
{
	u64 obj = 0;

	/*
	 * The verifiers of 6.1 and 6.12 refuse to load a void * argument
	 * from the context ("arg1 type UNKNOWN is not a struct"); newer ones
	 * allow it.  A copy works on all of them.
	 */
	bpf_probe_read_kernel(&obj, sizeof(obj), &ctx[1]);
	if (obj && !ks_skip_task())	/* !obj: failed allocation */
		count_cache(s, 1);
	return ks_chain(ctx, kmem_cache_alloc);
}

SEC("raw_tp/kmem_cache_alloc")
int cache_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (call_site, ptr, struct kmem_cache *s, gfp_flags, node) */
	if (ctx->args[1] && !ks_skip_task())
		count_cache((struct kmem_cache *)ctx->args[2], 1);
	return ks_chain(ctx, kmem_cache_alloc);
}

/* the record with the cache name (6.x+); a flavour of its own, so this
 * builds against a vmlinux.h whose kernel lacks the field (arm64 6.12) */
struct trace_event_raw_kmem_cache_alloc___name {
	const void *ptr;
	unsigned long bytes_alloc;
	u32 __data_loc_name;
} __attribute__((preserve_access_index));

static __always_inline void
count_record(struct trace_event_raw_kmem_cache_alloc___name *ctx)
{
	struct slab_name key = {};
	struct slab_val *v;
	u32 loc;

	/* user space loads this program only where the field exists */
	if (!bpf_core_field_exists(ctx->__data_loc_name))
		return;
	if (!BPF_CORE_READ(ctx, ptr) || ks_skip_task())
		return;
	loc = BPF_CORE_READ(ctx, __data_loc_name);
	/* __data_loc: offset of the string in the record, low 16 bits */
	bpf_probe_read_kernel_str(key.name, sizeof(key.name),
				  (void *)ctx + (loc & 0xffff));
	v = bpf_map_lookup_elem(&names, &key);
	if (!v) {
		struct slab_val init = {};

		__builtin_memcpy(init.name, key.name, sizeof(init.name));
		v = ks_lookup_or_init(&names, &key, &init, KS_DROP_MAP_FULL);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->allocs, 1);
	__sync_fetch_and_add(&v->bytes, BPF_CORE_READ(ctx, bytes_alloc));
}

SEC("tp/kmem/kmem_cache_alloc")
int cache_alloc_tp(struct trace_event_raw_kmem_cache_alloc___name *ctx)
{
	count_record(ctx);
	return ks_chain(ctx, kmem_cache_alloc);
}
