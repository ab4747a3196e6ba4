// SPDX-License-Identifier: GPL-2.0
/*
 * numamove: NUMA-misplaced page migrations, pages moved and time spent.
 *
 * Pages always come from the mm_migrate_pages tracepoint, filtered to
 * reason MR_NUMA_MISPLACED: its "succeeded" is the nr_succeeded that the
 * kernel adds to /proc/vmstat numa_pages_migrated, in base pages.
 * Migrations and time depend on the mode:
 *  fentry, kprobe - entry and return of migrate_misplaced_folio (named
 *       migrate_misplaced_page before commit 73eab3ca481e, as on 6.1):
 *       every call, timed from entry to return;
 *  tp_btf, raw_tp, tracepoint - one migration per mm_migrate_pages event
 *       with the NUMA reason, timed from mm_migrate_pages_start: the time
 *       inside migrate_pages() only, without the isolation and accounting
 *       around it.
 * All of it runs in the task that took the NUMA hinting fault, so the
 * -p/-t/-c/--cgroup filters select the task whose memory access moved
 * the pages.
 */
#include "common.bpf.h"
#include "numamove.h"

/* the tracepoints count migrations and time them (tracepoint family) */
const volatile bool tp_counts = true;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct numamove_val);
} counts SEC(".maps");

/* thread id -> start of the migration it is in */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KS_DEFAULT_ENTRIES);
	__type(key, u32);
	__type(value, u64);
} start SEC(".maps");

static __always_inline struct numamove_val *counters(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&counts, &zero);
}

static __always_inline bool numa_reason(long reason)
{
	/* the enum's value on the running kernel, not the header's */
	if (!bpf_core_enum_value_exists(enum migrate_reason,
					MR_NUMA_MISPLACED))
		return false;
	return reason == bpf_core_enum_value(enum migrate_reason,
					     MR_NUMA_MISPLACED);
}

static __always_inline void begin(bool count)
{
	struct numamove_val *c = counters();
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 ts = bpf_ktime_get_ns();
	int err;

	if (!c)
		return;
	if (count)
		c->migrations++;	/* per-CPU slot: no atomic needed */
	err = ks_map_update(&start, &tid, &ts, BPF_NOEXIST);
	if (err == -KS_EEXIST) {
		/* the previous migration of this thread lost its end (a
		 * missed kretprobe): it stays untimed, this one starts */
		ks_drop(NUMAMOVE_DROP_UNPAIRED);
		bpf_map_update_elem(&start, &tid, &ts, BPF_ANY);
	} else if (err) {
		ks_drop(ks_fail_reason(err, KS_DROP_MAP_FULL,
				       KS_DROP_MAP_FULL));
	}
}

static __always_inline void end(void)
{
	struct numamove_val *c = counters();
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 *ts = bpf_map_lookup_elem(&start, &tid);

	if (!c)
		return;
	if (!ts) {
		ks_drop(NUMAMOVE_DROP_UNPAIRED);
		return;
	}
	c->time_ns += bpf_ktime_get_ns() - *ts;
	c->timed++;
	bpf_map_delete_elem(&start, &tid);
}

static __always_inline void migrated(u64 succeeded, u64 failed, long reason)
{
	struct numamove_val *c;

	if (!numa_reason(reason) || ks_skip_task())
		return;
	c = counters();
	if (!c)
		return;
	c->pages += succeeded;
	c->pages_failed += failed;
	if (tp_counts) {
		c->migrations++;
		end();
	}
}

/* ---- fentry / kprobe: the migrate_misplaced_* function ---- */

SEC("fentry/migrate_misplaced_folio")
int BPF_PROG(misplaced_fentry)
{
	if (!ks_skip_task())
		begin(true);
	return 0;
}

SEC("fexit/migrate_misplaced_folio")
int BPF_PROG(misplaced_fexit)
{
	if (!ks_skip_task())
		end();
	return 0;
}

SEC("kprobe/migrate_misplaced_folio")
int misplaced_kprobe(struct pt_regs *ctx)
{
	if (!ks_skip_task())
		begin(true);
	return 0;
}

SEC("kretprobe/migrate_misplaced_folio")
int misplaced_kretprobe(struct pt_regs *ctx)
{
	if (!ks_skip_task())
		end();
	return 0;
}

/* ---- the migrate tracepoints ---- */

SEC("tp_btf/mm_migrate_pages_start")
int BPF_PROG(start_btf, enum migrate_mode mode, int reason)
{
	if (numa_reason(reason) && !ks_skip_task())
		begin(false);
	return 0;
}

SEC("raw_tp/mm_migrate_pages_start")
int start_raw(struct bpf_raw_tracepoint_args *ctx)
{
	/* (enum migrate_mode mode, int reason) */
	if (numa_reason((int)ctx->args[1]) && !ks_skip_task())
		begin(false);
	return 0;
}

SEC("tp/migrate/mm_migrate_pages_start")
int start_tp(struct trace_event_raw_mm_migrate_pages_start *ctx)
{
	if (numa_reason(BPF_CORE_READ(ctx, reason)) && !ks_skip_task())
		begin(false);
	return 0;
}

/*
 * mm_migrate_pages(succeeded, failed, thp_succeeded, thp_failed, thp_split,
 *		    [large_folio_split,] mode, reason): large_folio_split came
 * with "mm/migrate: add nr_split to trace_mm_migrate_pages stats." (late
 * 2023: in 6.12, not in 6.1), moving reason from the 7th argument to the
 * 8th.  User space loads the variant that matches the kernel's BTF
 * prototype; one reading past the arguments would not load.
 */
SEC("tp_btf/mm_migrate_pages")
int BPF_PROG(pages_btf, unsigned long succeeded, unsigned long failed,
	     unsigned long thp_succeeded, unsigned long thp_failed,
	     unsigned long thp_split, unsigned long large_folio_split,
	     enum migrate_mode mode, int reason)
{
	migrated(succeeded, failed, reason);
	return 0;
}

SEC("tp_btf/mm_migrate_pages")
int BPF_PROG(pages_btf_nosplit, unsigned long succeeded,
	     unsigned long failed, unsigned long thp_succeeded,
	     unsigned long thp_failed, unsigned long thp_split,
	     enum migrate_mode mode, int reason)
{
	migrated(succeeded, failed, reason);
	return 0;
}

SEC("raw_tp/mm_migrate_pages")
int pages_raw(struct bpf_raw_tracepoint_args *ctx)
{
	migrated(ctx->args[0], ctx->args[1], (int)ctx->args[7]);
	return 0;
}

SEC("raw_tp/mm_migrate_pages")
int pages_raw_nosplit(struct bpf_raw_tracepoint_args *ctx)
{
	migrated(ctx->args[0], ctx->args[1], (int)ctx->args[6]);
	return 0;
}

/* the record's fields are found by name (CO-RE): no variants needed */
SEC("tp/migrate/mm_migrate_pages")
int pages_tp(struct trace_event_raw_mm_migrate_pages *ctx)
{
	migrated(BPF_CORE_READ(ctx, succeeded), BPF_CORE_READ(ctx, failed),
		 BPF_CORE_READ(ctx, reason));
	return 0;
}
