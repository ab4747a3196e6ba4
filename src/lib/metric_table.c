// SPDX-License-Identifier: GPL-2.0
/*
 * kscope export's metric families: names, types, labels, and the table and
 * columns of each tool's report they are made from.  Names are fixed here
 * so that dashboards can rely on them; docs/export.md's reference is made
 * from this table (kscope export --metrics-reference).
 */
#include <string.h>
#include "kscope.h"

#define SRC(tool, table, value, ...) \
	{ tool, table, value, NULL, { __VA_ARGS__ } }
/* the exporter's own samples: no source */
#define OWN(n, t, u, h, ...) \
	{ .name = n, .type = t, .unit = u, .help = h, .labels = __VA_ARGS__ }
#define HSRC(tool, table, value, sum, ...) \
	{ tool, table, value, sum, { __VA_ARGS__ } }

const struct ks_mfamily ks_metric_families[] = {
	{ "kscope_kmem_allocations_total", KS_M_COUNTER, NULL,
	  "Kernel memory allocations (kmalloc, kmem_cache_alloc) by kind and "
	  "call site.", { "kind", "site" }, true,
	  { SRC("kmem", "entries", "count") } },
	{ "kscope_kmem_allocated_bytes_total", KS_M_COUNTER, "bytes",
	  "Bytes of kernel memory allocated (kmalloc, kmem_cache_alloc) by "
	  "kind and call site.", { "kind", "site" }, true,
	  { SRC("kmem", "entries", "bytes") } },
	{ "kscope_page_allocations_total", KS_M_COUNTER, NULL,
	  "Page allocations (any order) by call site.", { "site" }, true,
	  { SRC("kpages", "entries", "count") } },
	{ "kscope_page_allocated_bytes_total", KS_M_COUNTER, "bytes",
	  "Bytes of pages allocated by call site.", { "site" }, true,
	  { SRC("kpages", "entries", "bytes") } },
	{ "kscope_slab_allocations_total", KS_M_COUNTER, NULL,
	  "Slab cache allocations by cache.", { "cache" }, false,
	  { SRC("slabratetop", "entries", "allocs") } },
	{ "kscope_slab_allocated_bytes_total", KS_M_COUNTER, "bytes",
	  "Bytes allocated from slab caches by cache.", { "cache" }, false,
	  { SRC("slabratetop", "entries", "bytes") } },
	{ "kscope_lock_wait_seconds", KS_M_HISTOGRAM, "seconds",
	  "Time tasks waited for kernel locks (mutexes: mlock; spin locks "
	  "and rwlocks: spinlock), by lock and kind.", { "lock", "kind" },
	  true,
	  { HSRC("mlock", "entries", "hist", "total_ns"),
	    HSRC("spinlock", "entries", "hist", "total_ns") } },
	{ "kscope_lock_hold_seconds", KS_M_HISTOGRAM, "seconds",
	  "Time kernel mutexes were held (mheld), by lock and kind.",
	  { "lock", "kind" }, true,
	  { HSRC("mheld", "entries", "hist", "total_ns") } },
	{ "kscope_workqueue_execution_seconds", KS_M_HISTOGRAM, "seconds",
	  "Time work items ran, by work function.", { "function" }, false,
	  { HSRC("workq", "entries", "hist", "total_us") } },
	{ "kscope_workqueue_queue_latency_seconds", KS_M_HISTOGRAM, "seconds",
	  "Time work items waited from queue_work to execution, by work "
	  "function and workqueue.", { "function", "workqueue" }, false,
	  { HSRC("workq", "pairs", "queue.hist", "queue.total_us") } },
	{ "kscope_numa_migrations_total", KS_M_COUNTER, NULL,
	  "NUMA-misplaced page migrations (NUMA balancing).", { NULL }, false,
	  { SRC("numamove", "entries", "migrations") } },
	{ "kscope_numa_migrated_pages_total", KS_M_COUNTER, NULL,
	  "Pages migrated by NUMA-misplaced page migrations.", { NULL },
	  false, { SRC("numamove", "entries", "pages") } },
	{ "kscope_numa_migration_seconds_total", KS_M_COUNTER, "seconds",
	  "Time spent migrating NUMA-misplaced pages.", { NULL }, false,
	  { SRC("numamove", "entries", "time_ms") } },
	{ "kscope_memleak_outstanding_bytes", KS_M_GAUGE, "bytes",
	  "Bytes of kernel allocations outstanding (not freed), by site: the "
	  "first stack frame outside the allocators.", { "site" }, false,
	  { SRC("memleak", "entries", "bytes", "stack") } },
	{ "kscope_memleak_outstanding_allocations", KS_M_GAUGE, NULL,
	  "Kernel allocations outstanding (not freed), by site: the first "
	  "stack frame outside the allocators.", { "site" }, false,
	  { SRC("memleak", "entries", "allocs", "stack") } },

	/* kscope itself */
	OWN("kscope_dropped_events_total", KS_M_COUNTER, NULL,
	  "Events a tool could not count, by reason (map full, stack "
	  "capture failed, ...).", { "tool", "reason" }),
	OWN("kscope_bpf_program_runs_total", KS_M_COUNTER, NULL,
	  "Runs of each BPF program, from the kernel's BPF run-time "
	  "statistics.", { "tool", "program" }),
	OWN("kscope_bpf_program_run_seconds_total", KS_M_COUNTER, "seconds",
	  "Time spent in each BPF program, from the kernel's BPF run-time "
	  "statistics.", { "tool", "program" }),
	OWN("kscope_collect_seconds_total", KS_M_COUNTER, "seconds",
	  "Time kscope export spent reading each tool's maps into metrics.",
	  { "tool" }),
	OWN("kscope_tool_up", KS_M_GAUGE, NULL,
	  "1 for a tool running in the attach mode named, 0 for one that "
	  "cannot run here (reason says why).", { "tool", "mode", "reason" }),
	OWN("kscope_series_folded_total", KS_M_COUNTER, NULL,
	  "Report rows accounted under the label set \"other\" of a family "
	  "because it held --max-series label sets.", { "family" }),
	OWN("kscope_build_info", KS_M_INFO, NULL,
	  "kscope's version and the running kernel.", { "version", "kernel" }),
	OWN("process_cpu_seconds_total", KS_M_COUNTER, "seconds",
	  "User and system CPU time of kscope export.", { NULL }),
	OWN("process_resident_memory_bytes", KS_M_GAUGE, "bytes",
	  "Resident memory of kscope export.", { NULL }),
	OWN("process_virtual_memory_bytes", KS_M_GAUGE, "bytes",
	  "Virtual memory of kscope export.", { NULL }),
	OWN("process_open_fds", KS_M_GAUGE, NULL,
	  "Open file descriptors of kscope export.", { NULL }),
	OWN("process_max_fds", KS_M_GAUGE, NULL,
	  "Limit of open file descriptors of kscope export.", { NULL }),
	OWN("process_start_time_seconds", KS_M_GAUGE, "seconds",
	  "Start time of kscope export since the Unix epoch.", { NULL }),
	{ NULL },
};

static const char *const type_names[] = {
	[KS_M_COUNTER] = "counter", [KS_M_GAUGE] = "gauge",
	[KS_M_HISTOGRAM] = "histogram", [KS_M_INFO] = "info",
};

void ks_metric_reference(FILE *f)
{
	fputs("| metric | type | labels | from |\n"
	      "|---|---|---|---|\n", f);
	for (const struct ks_mfamily *d = ks_metric_families; d->name; d++) {
		fprintf(f, "| `%s` | %s | ", d->name, type_names[d->type]);
		for (int i = 0; i < KS_M_LABELS && d->labels[i]; i++)
			fprintf(f, "%s`%s`", i ? ", " : "", d->labels[i]);
		if (d->by_comm)
			fprintf(f, "%s(`comm`)", d->labels[0] ? ", " : "");
		fputs(" | ", f);
		if (!d->src[0].tool)
			fputs("kscope export", f);
		for (int k = 0; k < KS_M_SOURCES && d->src[k].tool; k++) {
			const struct ks_msource *s = &d->src[k];

			fprintf(f, "%s`kscope %s`: `%s`", k ? "; " : "",
				s->tool, s->value);
			if (s->sum)
				fprintf(f, ", `%s`", s->sum);
			if (strcmp(s->table, "entries"))
				fprintf(f, " of `%s`", s->table);
		}
		fputs(" |\n", f);
	}
	fputs("\nWhat each metric means:\n\n", f);
	for (const struct ks_mfamily *d = ks_metric_families; d->name; d++)
		fprintf(f, "- `%s`%s%s%s: %s\n", d->name, d->unit ? " (" : "",
			d->unit ? d->unit : "", d->unit ? ")" : "", d->help);
}
