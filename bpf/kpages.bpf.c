// SPDX-License-Identifier: GPL-2.0
/*
 * kpages: page allocations (kmem:mm_page_alloc) per kernel stack, order
 * and comm.  The tracepoint carries no call site, so a shallow stack is
 * taken and user space derives the site as the first frame outside the
 * page allocator; -s shows the whole stack.  With stack_every N > 1 (--sample,
 * and `kscope report`) only every Nth allocation on each CPU walks the stack;
 * the others are still counted, exactly, under KS_NO_STACK with their
 * comm and order.
 */
#include "common.bpf.h"
#include "kpages.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, struct kpages_key);
	__type(value, struct kpages_val);
} counts SEC(".maps");

KS_CHAIN_MAP(mm_page_alloc);

const volatile __u32 stack_every = 1;

/* allocations seen on this CPU: which of them walk the stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} nth SEC(".maps");

static __always_inline bool take_stack(void)
{
	u32 zero = 0;
	u64 *c;

	if (stack_every <= 1)
		return true;
	c = bpf_map_lookup_elem(&nth, &zero);
	if (!c)
		return true;
	return (*c)++ % stack_every == 0;
}

/*
 * Site mode (no -s) walks a short stack first: KPAGES_SHORT_FRAMES past
 * the tracing frames, into short_ids.  Where user space has found the
 * site in that short stack (its id is in short_ok: kpages_tick()), the
 * allocation counts under it; where not (a stack not yet looked at, or
 * one whose site lies deeper), the whole stack is walked as with -s.
 * The frames past the site, down to the system call or fault entry, are
 * what a walk pays most for and a site does not need.  Never cleared:
 * an id keeps its stack (no BPF_F_REUSE_STACKID), and a full map only
 * sends new stacks to the whole walk.
 */
const volatile __u32 short_walk;

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1);			/* sized by user space */
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u64));	/* sized by user space */
} short_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);			/* sized by user space */
	__type(key, u32);
	__type(value, u8);
} short_ok SEC(".maps");

static __always_inline u64 short_stack(void *ctx)
{
	long id = bpf_get_stackid(ctx, &short_ids, 0);
	u32 k = (u32)id;

	if (id < 0 || !bpf_map_lookup_elem(&short_ok, &k))
		return KS_NO_STACK;
	return KPAGES_SHORT | k;
}

static __always_inline int record(void *ctx, u64 page, u32 order)
{
	static const struct kpages_val zero;
	struct kpages_key key = {};
	struct kpages_val *v;

	if (!page || ks_skip_task())
		return 0;
	key.gen = ks_generation();
	if (take_stack()) {
		/* a failed walk (counted) loses the allocation unless counts
		 * are kept apart from stacks anyway, as when sampling */
		key.stackid = short_walk ? short_stack(ctx) : KS_NO_STACK;
		if (key.stackid == KS_NO_STACK)
			key.stackid = ks_kstack(ctx, key.gen);
		if (key.stackid == KS_NO_STACK && stack_every <= 1)
			return 0;
	}
	key.order = order;
	ks_current_comm(key.comm);
	v = ks_lookup_or_init(&counts, &key, &zero, KS_DROP_MAP_FULL);
	if (!v)
		return 0;
	__sync_fetch_and_add(&v->count, 1);
	__sync_fetch_and_add(&v->pages, 1ULL << (order & 63));
	return 0;
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc_btf, struct page *page, unsigned int order)
{
	record(ctx, (u64)page, order);
	return ks_chain(ctx, mm_page_alloc);
}

SEC("raw_tp/mm_page_alloc")
int page_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (struct page *page, unsigned int order, gfp_t, int migratetype) */
	record(ctx, ctx->args[0], (u32)ctx->args[1]);
	return ks_chain(ctx, mm_page_alloc);
}

SEC("tp/kmem/mm_page_alloc")
int page_alloc_tp(struct trace_event_raw_mm_page_alloc *ctx)
{
	/* pfn is -1UL when the allocation failed */
	u64 pfn = BPF_CORE_READ(ctx, pfn);

	record(ctx, pfn != (u64)-1, BPF_CORE_READ(ctx, order));
	return ks_chain(ctx, mm_page_alloc);
}
