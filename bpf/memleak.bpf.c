// SPDX-License-Identifier: GPL-2.0
/*
 * memleak: allocations that are still outstanding, per stack.
 *
 * Every tracked allocation is one entry of the allocs map (address ->
 * size, time, stack); its free deletes it.  User space groups what is left
 * by stack when it reports, which also gives the oldest allocation of each
 * stack and the -o age filter without keeping a second per-stack counter
 * up to date on every event.
 *
 * Stacks are deduplicated as every tool's are: a kernel stack goes into
 * a BPF stack-trace map first (kstackids) and, where that refuses it (its
 * bucket holds another stack: bcc memleak's silent loss), into a hash map
 * keyed by a 64-bit hash of the frames (ks_kstack_in(), common.bpf.h);
 * user stacks go into that hash map only.  A stack is lost only when the
 * tables are really full, and that is counted.
 *
 * Kernel mode has one thin program per tracepoint and attach mode
 * (tp_btf, raw_tp, tracepoint); user mode has uprobes on the allocator
 * functions of the traced process's libc and one shared return probe.
 */
#include "common.bpf.h"
#include "memleak.h"


const volatile bool user_mode = false;
const volatile __u32 sample_every = 1;	/* track 1 in N allocations */
const volatile __u32 stack_bytes = KS_DEFAULT_STACK_DEPTH * 8;
const volatile __u64 page_size = 4096;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u64);
	__type(value, struct memleak_alloc);
} allocs SEC(".maps");

/* kernel mode's stacks first: stack id -> frames (one entry in user mode) */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 1024);
	__uint(key_size, sizeof(u32));
	__uint(value_size, KS_MAX_STACK_DEPTH * 8);
} kstackids SEC(".maps");

/* hash of the frames -> frames; value size set to stack_bytes at load
 * (kernel mode: what kstackids refuses) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	/* sizes, not BTF types: the value size changes at load time */
	__uint(key_size, sizeof(u64));
	__uint(value_size, KS_MAX_STACK_DEPTH * 8);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, u32);
	__type(value, struct memleak_pending);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ML_ST_MAX);
	__type(key, u32);
	__type(value, u64);
} stats SEC(".maps");

/* the allocation hooks other tools share in kscope report */
KS_CHAIN_MAP(kmalloc);
KS_CHAIN_MAP(kmem_cache_alloc);
KS_CHAIN_MAP(mm_page_alloc);

/*
 * Kernel pages (pfns in the tracepoint mode) and per-CPU pointers are
 * small numbers that could equal each other; a tag in the top bits keeps
 * them apart from each other and from slab addresses (0xffff...).
 */
#define TAG_PFN		0x5000000000000000ULL
#define TAG_PERCPU	0x6000000000000000ULL

static __always_inline void stat_add(u32 idx, u64 n)
{
	u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		*v += n;	/* per-CPU slot */
}

static __always_inline void stat_inc(u32 idx)
{
	stat_add(idx, 1);
}

/* Key of this event's stack in the stacks map, or 0 (counted); user: the
 * task's stack at a uretprobe, else the kernel's (a constant in every
 * caller: the user walk reads registers a tracepoint's context lacks) */
static __always_inline u64 get_stack(void *ctx, bool user)
{
	if (user)
		return ks_stack_store(ctx, &stacks, stack_bytes,
				      BPF_F_USER_STACK, ML_DROP_STACKS_FULL);
	return ks_kstack_in(ctx, &kstackids, &stacks, stack_bytes,
			    ML_DROP_STACKS_FULL);
}

/*
 * Kernel mode's allocation time: the clock read at this CPU's first
 * allocation since the last kernel tick, kept per CPU until jiffies
 * moves on.  A clock read is the dearest thing memleak does per
 * allocation after the stack walk (70 ns on this KVM guest's kvm-clock,
 * docs/bench.md), and ages are reported in milliseconds: a time read at
 * most one tick early (1-10 ms by CONFIG_HZ, plus however long jiffies
 * lags on a tickless CPU) is what the ages may be older by.  User mode
 * keeps the exact clock: realloc tells an address's reuse by its
 * allocation time (old_ts), and the exec cut compares against exec_ns.
 */
struct tick_clock {
	u64 jiffies;
	u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct tick_clock);
} tick_clock SEC(".maps");

static __always_inline u64 alloc_time(void)
{
	struct tick_clock *c;
	u32 zero = 0;
	u64 j;

	if (user_mode)
		return bpf_ktime_get_ns();
	c = bpf_map_lookup_elem(&tick_clock, &zero);
	if (!c)
		return bpf_ktime_get_ns();
	j = bpf_jiffies64();
	if (c->jiffies != j || !c->ns) {
		/* two runs interleaving here (programs are preemptible on
		 * PREEMPT_RT) can pair a tick with an earlier run's time:
		 * that tick's allocations then read older, and the next
		 * tick rewrites the pair */
		c->ns = bpf_ktime_get_ns();
		c->jiffies = j;
	}
	return c->ns;
}

static __always_inline void track(void *ctx, u64 key, u64 size, u32 kind,
				  bool user)
{
	struct memleak_alloc a = {};
	int err;

	a.stack = get_stack(ctx, user);
	if (!a.stack)
		return;
	a.size = size;
	a.kind = kind;
	a.ts_ns = alloc_time();
	a.tid = (u32)bpf_get_current_pid_tgid();
	err = ks_map_update(&allocs, &key, &a, BPF_NOEXIST);
	if (err == -KS_EEXIST) {
		/* a live entry at a fresh allocation's address: we missed
		 * the free of the old block.  Count it; don't keep a false
		 * leak. */
		stat_inc(ML_ST_REUSED);
		/* -EBUSY: the bucket is locked by an update this CPU
		 * interrupted; only -E2BIG means the map is full */
		err = ks_update_or_drop(&allocs, &key, &a, BPF_ANY,
					KS_DROP_MAP_FULL, ML_DROP_BUSY);
	} else if (err) {
		ks_drop(ks_fail_reason(err, KS_DROP_MAP_FULL, ML_DROP_BUSY));
	}
	if (err)
		return;
	stat_inc(ML_ST_ALLOCS);
}

static __always_inline void untrack(u64 key)
{
	/* sampling: most frees are of untracked blocks, and a lookup that
	 * misses is cheaper than a delete that misses (no bucket lock) */
	if (sample_every > 1 && !bpf_map_lookup_elem(&allocs, &key)) {
		stat_inc(ML_ST_FREE_UNKNOWN);
		return;
	}
	if (bpf_map_delete_elem(&allocs, &key) == 0)
		stat_inc(ML_ST_FREES);
	else
		stat_inc(ML_ST_FREE_UNKNOWN);
}

/* ---- kernel mode -------------------------------------------------------- */

static __always_inline int k_alloc(void *ctx, u64 key, u64 size, u32 kind)
{
	if (!key || ks_skip_task())
		return 0;
	/* exact, sampled or not */
	stat_inc(ML_ST_SEEN);
	stat_add(ML_ST_SEEN_BYTES, size);
	if (sample_every > 1 && bpf_get_prandom_u32() % sample_every)
		return 0;
	track(ctx, key, size, kind, false);
	return 0;
}

/* frees are never filtered: RCU callbacks and other tasks free what the
 * filtered task allocated */
static __always_inline int k_free(u64 key)
{
	if (key)
		untrack(key);
	return 0;
}

/*
 * User mode: when the target last exec'd (CLOCK_MONOTONIC, as ts_ns).  An
 * exec throws the old image's address space away with everything it
 * allocated; user space leaves allocations older than this out.  A raw
 * tracepoint: every kernel we run on has it, without tracefs.
 */
__u64 exec_ns = 0;

SEC("raw_tp/sched_process_exec")
int ml_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (ks_skip_task())
		return 0;
	exec_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/kmalloc")
int BPF_PROG(kmalloc_btf, unsigned long call_site, const void *ptr,
	     size_t bytes_req, size_t bytes_alloc)
{
	k_alloc(ctx, (u64)ptr, bytes_alloc, ML_KMALLOC);
	return ks_chain(ctx, kmalloc);
}

SEC("tp_btf/kmem_cache_alloc")
int BPF_PROG(cache_alloc_btf, unsigned long call_site, const void *ptr,
	     struct kmem_cache *s)
{
	if (ptr)
		k_alloc(ctx, (u64)ptr, s->size, ML_CACHE);
	return ks_chain(ctx, kmem_cache_alloc);
}

SEC("tp_btf/kfree")
int BPF_PROG(kfree_btf, unsigned long call_site, const void *ptr)
{
	return k_free((u64)ptr);
}

SEC("tp_btf/kmem_cache_free")
int BPF_PROG(cache_free_btf, unsigned long call_site, const void *ptr)
{
	return k_free((u64)ptr);
}

SEC("tp_btf/mm_page_alloc")
int BPF_PROG(page_alloc_btf, struct page *page, unsigned int order)
{
	k_alloc(ctx, (u64)page, page_size << order, ML_PAGE);
	return ks_chain(ctx, mm_page_alloc);
}

SEC("tp_btf/mm_page_free")
int BPF_PROG(page_free_btf, struct page *page, unsigned int order)
{
	return k_free((u64)page);
}

/* (call_site, reserved, is_atomic, size, align, base_addr, off, ptr,
 *  bytes_alloc, gfp_flags) since 6.0; user space checks the count */
SEC("tp_btf/percpu_alloc_percpu")
int BPF_PROG(pcpu_alloc_btf, unsigned long call_site, bool reserved,
	     bool is_atomic, size_t size, size_t align, void *base_addr,
	     int off, void *ptr, size_t bytes_alloc)
{
	if (!ptr)
		return 0;
	return k_alloc(ctx, (u64)ptr ^ TAG_PERCPU, bytes_alloc, ML_PERCPU);
}

SEC("tp_btf/percpu_free_percpu")
int BPF_PROG(pcpu_free_btf, void *base_addr, int off, void *ptr)
{
	if (!ptr)
		return 0;
	return k_free((u64)ptr ^ TAG_PERCPU);
}

SEC("raw_tp/kmalloc")
int kmalloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node) */
	k_alloc(ctx, ctx->args[1], ctx->args[3], ML_KMALLOC);
	return ks_chain(ctx, kmalloc);
}

SEC("raw_tp/kmem_cache_alloc")
int cache_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (call_site, ptr, struct kmem_cache *s, gfp_flags, node) */
	struct kmem_cache *s = (void *)ctx->args[2];

	if (ctx->args[1])
		k_alloc(ctx, ctx->args[1], BPF_CORE_READ(s, size), ML_CACHE);
	return ks_chain(ctx, kmem_cache_alloc);
}

SEC("raw_tp/kfree")
int kfree_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return k_free(ctx->args[1]);
}

SEC("raw_tp/kmem_cache_free")
int cache_free_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return k_free(ctx->args[1]);
}

SEC("raw_tp/mm_page_alloc")
int page_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (struct page *page, order, gfp_flags, migratetype) */
	k_alloc(ctx, ctx->args[0], page_size << ctx->args[1], ML_PAGE);
	return ks_chain(ctx, mm_page_alloc);
}

SEC("raw_tp/mm_page_free")
int page_free_raw(struct bpf_raw_tracepoint_args *ctx)
{
	return k_free(ctx->args[0]);
}

SEC("raw_tp/percpu_alloc_percpu")
int pcpu_alloc_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if (!ctx->args[7])
		return 0;
	return k_alloc(ctx, ctx->args[7] ^ TAG_PERCPU, ctx->args[8],
		       ML_PERCPU);
}

SEC("raw_tp/percpu_free_percpu")
int pcpu_free_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (base_addr, off, ptr) */
	if (!ctx->args[2])
		return 0;
	return k_free(ctx->args[2] ^ TAG_PERCPU);
}

SEC("tp/kmem/kmalloc")
int kmalloc_tp(struct trace_event_raw_kmalloc *ctx)
{
	k_alloc(ctx, (u64)BPF_CORE_READ(ctx, ptr),
		BPF_CORE_READ(ctx, bytes_alloc), ML_KMALLOC);
	return ks_chain(ctx, kmalloc);
}

SEC("tp/kmem/kmem_cache_alloc")
int cache_alloc_tp(struct trace_event_raw_kmem_cache_alloc *ctx)
{
	k_alloc(ctx, (u64)BPF_CORE_READ(ctx, ptr),
		BPF_CORE_READ(ctx, bytes_alloc), ML_CACHE);
	return ks_chain(ctx, kmem_cache_alloc);
}

SEC("tp/kmem/kfree")
int kfree_tp(struct trace_event_raw_kfree *ctx)
{
	return k_free((u64)BPF_CORE_READ(ctx, ptr));
}

SEC("tp/kmem/kmem_cache_free")
int cache_free_tp(struct trace_event_raw_kmem_cache_free *ctx)
{
	return k_free((u64)BPF_CORE_READ(ctx, ptr));
}

/* the tracepoint records a pfn, -1 for a failed allocation */
SEC("tp/kmem/mm_page_alloc")
int page_alloc_tp(struct trace_event_raw_mm_page_alloc *ctx)
{
	u64 pfn = BPF_CORE_READ(ctx, pfn);

	if (pfn != (u64)-1)
		k_alloc(ctx, pfn ^ TAG_PFN,
			page_size << BPF_CORE_READ(ctx, order), ML_PAGE);
	return ks_chain(ctx, mm_page_alloc);
}

SEC("tp/kmem/mm_page_free")
int page_free_tp(struct trace_event_raw_mm_page_free *ctx)
{
	return k_free(BPF_CORE_READ(ctx, pfn) ^ TAG_PFN);
}

SEC("tp/percpu/percpu_alloc_percpu")
int pcpu_alloc_tp(struct trace_event_raw_percpu_alloc_percpu *ctx)
{
	u64 ptr = (u64)BPF_CORE_READ(ctx, ptr);

	if (!ptr)
		return 0;
	return k_alloc(ctx, ptr ^ TAG_PERCPU, BPF_CORE_READ(ctx, bytes_alloc),
		       ML_PERCPU);
}

SEC("tp/percpu/percpu_free_percpu")
int pcpu_free_tp(struct trace_event_raw_percpu_free_percpu *ctx)
{
	u64 ptr = (u64)BPF_CORE_READ(ctx, ptr);

	if (!ptr)
		return 0;
	return k_free(ptr ^ TAG_PERCPU);
}

/*
 * kmem_cache_free_bulk() (and kfree_bulk(), kfree_rcu()'s batches, the
 * maple tree's node frees) fires no free tracepoint.  Where kprobes exist
 * this supplements every tracepoint mode; it has no allocation side:
 * bulk allocations are not tracked, and a free of one is "unknown".
 */
#define MAX_BULK 1024

SEC("kprobe/kmem_cache_free_bulk")
int BPF_KPROBE(free_bulk_kp, void *s, u64 size, void **p)
{
	u64 obj;
	int i;

	for (i = 0; i < MAX_BULK; i++) {
		if (i >= size ||
		    bpf_probe_read_kernel(&obj, sizeof(obj), &p[i]))
			break;
		k_free(obj);
	}
	return 0;
}

/* ---- user mode ---------------------------------------------------------- */

static __always_inline int enter(void *ctx, u32 kind, u64 size, u64 old,
				 u64 memptr)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct memleak_pending n = {}, *p;
	struct memleak_alloc *a;
	u64 sp = PT_REGS_SP((struct pt_regs *)ctx);

	if (ks_skip_task())
		return 0;
	p = bpf_map_lookup_elem(&pending, &tid);
	/*
	 * A call made by the allocator itself (deeper on the stack, or at
	 * the same depth for a tail call such as reallocarray -> realloc)
	 * is not the program's.  An entry higher up the stack than the
	 * call in flight means that call ended without its return probe
	 * (attached mid-call, a thread that died in it): start over.
	 */
	if (p && sp <= p->sp) {
		p->depth++;
		return 0;
	}
	n.kind = kind;
	n.size = size;
	n.old = old;
	n.memptr = memptr;
	n.depth = 1;
	n.sp = sp;
	/*
	 * Unsampled calls still get an in-flight entry: realloc must still
	 * forget the block it frees, and calls nested in an unsampled call
	 * (malloc's own mmap) must still be recognised as nested.
	 */
	n.sampled = sample_every <= 1 ||
		    bpf_get_prandom_u32() % sample_every == 0;
	if (old) {
		a = bpf_map_lookup_elem(&allocs, &old);
		if (a)
			n.old_ts = a->ts_ns;
	}
	if (bpf_map_update_elem(&pending, &tid, &n, BPF_ANY))
		ks_drop(ML_DROP_PENDING);
	return 0;
}

/* free part of a realloc: only if the entry is still the block we saw at
 * the call (another thread may already own that address again) */
static __always_inline void realloc_release(u64 old, u64 old_ts)
{
	struct memleak_alloc *a;

	if (!old)
		return;
	a = bpf_map_lookup_elem(&allocs, &old);
	if (!a || a->ts_ns != old_ts) {
		stat_inc(ML_ST_FREE_UNKNOWN);
		return;
	}
	untrack(old);
}

SEC("uprobe")
int BPF_KPROBE(malloc_enter, u64 size)
{
	/* malloc, valloc, pvalloc: the cookie says which */
	return enter(ctx, bpf_get_attach_cookie(ctx), size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(calloc_enter, u64 nmemb, u64 size)
{
	/* an overflowing product makes calloc fail: nothing is recorded */
	return enter(ctx, ML_CALLOC, nmemb * size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(realloc_enter, u64 ptr, u64 size)
{
	return enter(ctx, ML_REALLOC, size, ptr, 0);
}

SEC("uprobe")
int BPF_KPROBE(reallocarray_enter, u64 ptr, u64 nmemb, u64 size)
{
	return enter(ctx, ML_REALLOCARRAY, nmemb * size, ptr, 0);
}

SEC("uprobe")
int BPF_KPROBE(posix_memalign_enter, u64 memptr, u64 align, u64 size)
{
	return enter(ctx, ML_POSIX_MEMALIGN, size, 0, memptr);
}

SEC("uprobe")
int BPF_KPROBE(aligned_enter, u64 align, u64 size)
{
	/* aligned_alloc, memalign */
	return enter(ctx, bpf_get_attach_cookie(ctx), size, 0, 0);
}

SEC("uprobe")
int BPF_KPROBE(mmap_enter, u64 addr, u64 len)
{
	return enter(ctx, ML_MMAP, len, 0, 0);
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_ret, u64 ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct memleak_pending *p, n;
	u64 addr = ret;

	p = bpf_map_lookup_elem(&pending, &tid);
	if (!p)
		return 0;
	if (--p->depth > 0)
		return 0;
	n = *p;
	bpf_map_delete_elem(&pending, &tid);

	if (n.kind == ML_POSIX_MEMALIGN) {
		addr = 0;
		if (ret == 0 && n.memptr &&
		    bpf_probe_read_user(&addr, sizeof(addr), (void *)n.memptr))
			addr = 0;
	} else if (n.kind == ML_MMAP && addr == (u64)-1) {
		addr = 0;	/* MAP_FAILED */
	}
	/* realloc frees the old block when it succeeds, and for size 0 */
	if ((n.kind == ML_REALLOC || n.kind == ML_REALLOCARRAY) &&
	    (addr || n.size == 0))
		realloc_release(n.old, n.old_ts);
	if (addr && n.sampled)
		track(ctx, addr, n.size, n.kind, true);
	return 0;
}

static __always_inline bool nested_or_foreign(void *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	u32 tid = (u32)id;
	struct memleak_pending *p;

	/* the uprobe is per process already; this guards against a
	 * kernel that fires it for a forked child */
	if (ks_filter.tgid && (u32)(id >> 32) != ks_filter.tgid)
		return true;
	/* realloc's own free, malloc's own munmap: handled at its return */
	p = bpf_map_lookup_elem(&pending, &tid);
	return p && PT_REGS_SP((struct pt_regs *)ctx) < p->sp;
}

SEC("uprobe")
int BPF_KPROBE(free_enter, u64 ptr)
{
	/* not filtered by -t: any thread may free what the thread made */
	if (!ptr || nested_or_foreign(ctx))
		return 0;
	untrack(ptr);
	return 0;
}

SEC("uprobe")
int BPF_KPROBE(munmap_enter, u64 addr, u64 len)
{
	struct memleak_alloc *a;

	if (!addr || nested_or_foreign(ctx))
		return 0;
	/* only regions we saw mmap()ed count: munmap of library or
	 * thread-stack memory is not a missed free */
	a = bpf_map_lookup_elem(&allocs, &addr);
	if (a && a->kind == ML_MMAP)
		untrack(addr);
	return 0;
}
