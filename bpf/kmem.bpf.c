// SPDX-License-Identifier: GPL-2.0
/*
 * kmem: kmalloc and kmem_cache_alloc counts and bytes per call site (or
 * kernel stack) and comm.  Three attach modes share one body:
 *  tp_btf     - BTF-typed tracepoints (a tracing program: cheapest, but
 *               refused where BPF trampolines are);
 *  raw_tp     - raw tracepoints; bytes for kmem_cache_alloc come from the
 *               typed struct kmem_cache * argument (CO-RE).  Since 6.1
 *               (commit 11e9734bcb6a) it is the third argument; user space
 *               checks that in the tracepoint's BTF prototype and falls
 *               back to the tracepoint mode where it is not;
 *  tracepoint - classic tracepoints, fields read with CO-RE.
 */
#include "common.bpf.h"
#include "kmem.h"

const volatile bool use_stacks = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, struct kmem_key);
	__type(value, struct kmem_val);
} counts SEC(".maps");

KS_CHAIN_MAP(kmalloc);
KS_CHAIN_MAP(kmem_cache_alloc);

static __always_inline int record(void *ctx, u64 site, u64 req, u64 alloc,
				  u32 kind)
{
	static const struct kmem_val zero;
	struct kmem_key key = {};
	struct kmem_val *v;

	if (ks_skip_task())
		return 0;
	key.kind = kind;
	key.gen = ks_generation();
	if (use_stacks) {
		key.stackid = ks_kstack(ctx, key.gen);
		if (key.stackid == KS_NO_STACK)
			return 0;	/* counted as a stack drop */
	} else {
		key.site = site;
	}
	ks_current_comm(key.comm);
	v = ks_lookup_or_init(&counts, &key, &zero, KS_DROP_MAP_FULL);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->bytes, alloc);
	__sync_fetch_and_add(&v->bytes_req, req);
	return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_btf, unsigned long call_site, const void *ptr,
	     size_t bytes_req, size_t bytes_alloc)
{
	if (ptr)	/* NULL: failed; every mode counts successes */
		record(ctx, call_site, bytes_req, bytes_alloc, KMEM_KMALLOC);
	return ks_chain(ctx, kmalloc);
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(cache_alloc_btf, unsigned long call_site, const void *ptr,
	     struct kmem_cache *s)
{
	if (ptr)
		record(ctx, call_site, s->object_size, s->size, KMEM_CACHE);
	return ks_chain(ctx, kmem_cache_alloc);
}

SEC("raw_tp/kmalloc")
int kmalloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node) */
	if (ctx->args[1])	/* else a failed allocation */
		record(ctx, ctx->args[0], ctx->args[2], ctx->args[3],
		       KMEM_KMALLOC);
	return ks_chain(ctx, kmalloc);
}

SEC("raw_tp/kmem_cache_alloc")
int cache_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (call_site, ptr, struct kmem_cache *s, gfp_flags, node) */
	struct kmem_cache *s = (void *)ctx->args[2];

	if (ctx->args[1])	/* else a failed allocation */
		record(ctx, ctx->args[0], BPF_CORE_READ(s, object_size),
		       BPF_CORE_READ(s, size), KMEM_CACHE);
	return ks_chain(ctx, kmem_cache_alloc);
}

SEC("tp/kmem/kmalloc")
int kmalloc_tp(struct trace_event_raw_kmalloc *ctx)
{
	if (BPF_CORE_READ(ctx, ptr))
		record(ctx, BPF_CORE_READ(ctx, call_site),
		       BPF_CORE_READ(ctx, bytes_req),
		       BPF_CORE_READ(ctx, bytes_alloc), KMEM_KMALLOC);
	return ks_chain(ctx, kmalloc);
}

SEC("tp/kmem/kmem_cache_alloc")
int cache_alloc_tp(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	if (BPF_CORE_READ(ctx, ptr))
		record(ctx, BPF_CORE_READ(ctx, call_site),
		       BPF_CORE_READ(ctx, bytes_req),
		       BPF_CORE_READ(ctx, bytes_alloc), KMEM_CACHE);
	return ks_chain(ctx, kmem_cache_alloc);
}
