// SPDX-License-Identifier: GPL-2.0
/*
 * workq: work item execution time per work function, and with -Q the
 * time from queue_work to execution, per function and per workqueue.
 *
 * The workqueue tracepoints see every work item, so there is no fentry or
 * kprobe mode: tp_btf, raw_tp and tracepoint differ only in cost.
 * execute_start/execute_end run in the kworker that runs the item, so the
 * running item is keyed by thread; queue_work runs in whoever queues it,
 * so a pending item is keyed by its work_struct address.
 *
 * The workqueue an item runs on is not in the execute events: it is the
 * kworker's current pool_workqueue, reached from current through the
 * kthread's data pointer (struct worker), read with CO-RE.
 */
#include "common.bpf.h"
#include "workq.h"

const volatile bool queue_lat = false;		/* -Q */
const volatile bool wq_filter_on = false;	/* -w NAME */
const volatile char wq_filter[WORKQ_NAME_LEN] = {};

/* report generation of the maxima; user space bumps it (see workq.h) */
unsigned int gen = 0;

struct running {
	u64 start;
	u64 func;
	u64 wq;
};

/* kworker thread id -> the item it is running */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u32);
	__type(value, struct running);
} running SEC(".maps");

/*
 * work_struct address -> queue time (-Q).  LRU: an item cancelled before
 * it ran leaves an entry nobody deletes; the oldest go first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u64);
	__type(value, u64);
} pending SEC(".maps");

/* No preallocation: a value holds two histograms, and a system runs a
 * few hundred work functions, not max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, u64);
	__type(value, struct workq_val);
} funcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, u64);
	__type(value, struct workq_wq_val);
} wqs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct workq_pair_key);
	__type(value, struct workq_stats);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct workq_max_key);
	__type(value, u64);
} maxes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WORKQ_CNT_MAX);
	__type(key, u32);
	__type(value, u64);
} counters SEC(".maps");

/* before commit e32cf5dfbe22 (5.17) a kthread's struct kthread hung off
 * set_child_tid; since, off worker_private */
struct task_struct___old {
	int *set_child_tid;
} __attribute__((preserve_access_index));

static __always_inline struct workqueue_struct *current_wq(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct kthread *k;
	struct worker *w;

	if (bpf_core_field_exists(t->worker_private))
		k = BPF_CORE_READ(t, worker_private);
	else
		k = (void *)BPF_CORE_READ((struct task_struct___old *)t,
					  set_child_tid);
	if (!k)
		return NULL;
	w = BPF_CORE_READ(k, data);
	if (!w)
		return NULL;
	return BPF_CORE_READ(w, current_pwq, wq);
}

static __always_inline bool wq_matches(struct workqueue_struct *wq)
{
	char name[WORKQ_NAME_LEN] = {};
	int i;

	if (!wq)
		return false;
	bpf_probe_read_kernel_str(name, sizeof(name), wq->name);
	for (i = 0; i < WORKQ_NAME_LEN; i++) {
		if (name[i] != wq_filter[i])
			return false;
		if (!name[i])
			break;
	}
	return true;
}

static __always_inline void add(struct workq_stats *s, u64 ns)
{
	u32 slot = ks_log2_slot(ns / 1000);	/* log2 of microseconds */

	__sync_fetch_and_add(&s->count, 1);
	__sync_fetch_and_add(&s->total_ns, ns);
	if (slot < KS_HIST_SLOTS)
		__sync_fetch_and_add(&s->hist[slot], 1);
}

static __always_inline void max_of(u64 id, u32 kind, u64 ns)
{
	static const u64 zero;
	struct workq_max_key k = { .id = id, .gen = gen, .kind = kind };
	u64 *m = ks_lookup_or_init(&maxes, &k, &zero, KS_DROP_MAP_FULL);
	int i;

	if (!m)
		return;
	/* compare-and-swap until ours is not larger; a few tries suffice:
	 * each failure means another CPU raised the maximum meanwhile */
	for (i = 0; i < 8; i++) {
		u64 old = *(volatile u64 *)m;

		if (ns <= old || __sync_val_compare_and_swap(m, old, ns) == old)
			break;
	}
}

static __always_inline struct workq_val *func_val(u64 func)
{
	static const struct workq_val zero;

	return ks_lookup_or_init(&funcs, &func, &zero, KS_DROP_MAP_FULL);
}

static __always_inline struct workq_wq_val *wq_val(u64 wq)
{
	struct workq_wq_val *v = bpf_map_lookup_elem(&wqs, &wq);
	static const struct workq_wq_val zero;

	if (v)
		return v;
	/* the name is read once, when the workqueue is first seen */
	v = ks_lookup_or_init(&wqs, &wq, &zero, KS_DROP_MAP_FULL);
	if (v)
		bpf_probe_read_kernel_str(v->name, sizeof(v->name),
			((struct workqueue_struct *)wq)->name);
	return v;
}

static __always_inline void on_queue(u64 work)
{
	u64 ts = bpf_ktime_get_ns();

	if (queue_lat)
		bpf_map_update_elem(&pending, &work, &ts, BPF_ANY);
}

static __always_inline void on_start(u64 work, u64 func)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct running r = { .func = func };
	u64 now = bpf_ktime_get_ns(), qns = 0, *qts;
	bool queued = false;
	struct workqueue_struct *wq = NULL;

	if (queue_lat) {
		/* consumed whatever the filters say: the item left the queue */
		qts = bpf_map_lookup_elem(&pending, &work);
		if (qts) {
			qns = now - *qts;
			queued = true;
			bpf_map_delete_elem(&pending, &work);
		}
	}
	if (ks_skip_task())
		return;
	if (queue_lat || wq_filter_on)
		wq = current_wq();
	if (wq_filter_on && !wq_matches(wq))
		return;
	r.start = now;
	r.wq = (u64)wq;
	if (ks_update_or_drop(&running, &tid, &r, BPF_ANY, KS_DROP_MAP_FULL,
			      KS_DROP_MAP_FULL))
		return;
	if (!queue_lat)
		return;
	if (!queued) {
		u32 k = WORKQ_CNT_QUEUE_UNMATCHED;
		u64 *c = bpf_map_lookup_elem(&counters, &k);

		if (c)
			*c += 1;	/* per-CPU */
		return;
	}
	{
		struct workq_val *v = func_val(func);

		if (v) {
			add(&v->queue, qns);
			max_of(func, WORKQ_MAX_FUNC_QUEUE, qns);
		}
	}
	if (wq) {
		struct workq_pair_key pk = { .func = func, .wq = (u64)wq };
		static const struct workq_stats zero;
		struct workq_wq_val *w = wq_val((u64)wq);
		struct workq_stats *p;

		if (w) {
			add(&w->v.queue, qns);
			max_of((u64)wq, WORKQ_MAX_WQ_QUEUE, qns);
		}
		p = ks_lookup_or_init(&pairs, &pk, &zero, KS_DROP_MAP_FULL);
		if (p)
			add(p, qns);
	}
}

static __always_inline void on_end(void)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct running *r = bpf_map_lookup_elem(&running, &tid);
	struct workq_val *v;
	u64 ns, func, wq;

	/* none: filtered out at start, or started before tracing did */
	if (!r)
		return;
	ns = bpf_ktime_get_ns() - r->start;
	func = r->func;
	wq = r->wq;
	bpf_map_delete_elem(&running, &tid);
	v = func_val(func);
	if (v) {
		add(&v->exec, ns);
		max_of(func, WORKQ_MAX_FUNC_EXEC, ns);
	}
	if (queue_lat && wq) {
		struct workq_wq_val *w = wq_val(wq);

		if (w) {
			add(&w->v.exec, ns);
			max_of(wq, WORKQ_MAX_WQ_EXEC, ns);
		}
	}
}

/* ---- tp_btf ---- */

SEC("tp_btf/workqueue_queue_work")
int BPF_PROG(queue_btf, int req_cpu, struct pool_workqueue *pwq,
	     struct work_struct *work)
{
	on_queue((u64)work);
	return 0;
}

SEC("tp_btf/workqueue_execute_start")
int BPF_PROG(start_btf, struct work_struct *work)
{
	on_start((u64)work, (u64)work->func);
	return 0;
}

SEC("tp_btf/workqueue_execute_end")
int BPF_PROG(end_btf)
{
	on_end();
	return 0;
}

/* ---- raw_tp ---- */

SEC("raw_tp/workqueue_queue_work")
int queue_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (int req_cpu, struct pool_workqueue *pwq, struct work_struct *) */
	on_queue(ctx->args[2]);
	return 0;
}

SEC("raw_tp/workqueue_execute_start")
int start_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct work_struct *work = (void *)ctx->args[0];

	on_start((u64)work, (u64)BPF_CORE_READ(work, func));
	return 0;
}

SEC("raw_tp/workqueue_execute_end")
int end_raw(struct bpf_raw_tracepoint_args *ctx)
{
	on_end();
	return 0;
}

/* ---- tracepoint ---- */

SEC("tp/workqueue/workqueue_queue_work")
int queue_tp(struct trace_event_raw_workqueue_queue_work *ctx)
{
	on_queue((u64)BPF_CORE_READ(ctx, work));
	return 0;
}

SEC("tp/workqueue/workqueue_execute_start")
int start_tp(struct trace_event_raw_workqueue_execute_start *ctx)
{
	on_start((u64)BPF_CORE_READ(ctx, work),
		 (u64)BPF_CORE_READ(ctx, function));
	return 0;
}

SEC("tp/workqueue/workqueue_execute_end")
int end_tp(void *ctx)
{
	on_end();
	return 0;
}
