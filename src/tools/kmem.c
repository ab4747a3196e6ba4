// SPDX-License-Identifier: GPL-2.0
/* kscope kmem: who allocates kernel memory (kmalloc, kmem_cache_alloc) */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "kmem.h"
#include "kmem.skel.h"

struct kmem_state {
	struct kmem_bpf *skel;
};

static void kmem_probe(const struct ks_run *r, struct ks_probe *p)
{
	struct ks_mode_avail *m;
	int idx;

	(void)r;
	m = &p->m[KS_MODE_FENTRY];
	snprintf(m->why, sizeof(m->why), "not offered: the kmem tracepoints "
		 "already see every allocation with its size");
	m = &p->m[KS_MODE_KPROBE];
	snprintf(m->why, sizeof(m->why), "not offered: the kmem tracepoints "
		 "already see every allocation with its size");

	/* both kmem tracepoints are typed with struct kmem_cache * at arg 2
	 * since 6.1; older layouts are left to the tracepoint mode */
	idx = ks_raw_tp_arg_index("kmem_cache_alloc", "kmem_cache");
	m = &p->m[KS_MODE_TP_BTF];
	if (idx != 2)
		ks_mode_set(m, false, NULL, "kmem_cache_alloc tracepoint has no "
			    "struct kmem_cache * third argument on this kernel");
	else
		ks_mode_set(m, ks_can_tp_btf("kmalloc", m->why, sizeof(m->why)) &&
			    ks_tp_btf_reads_arg("kmalloc", 1, m->why,
						sizeof(m->why)) &&
			    ks_tp_btf_reads_arg("kmem_cache_alloc", 1, m->why,
						sizeof(m->why)),
			    "every successful allocation", m->why);

	m = &p->m[KS_MODE_RAW_TP];
	if (ks_can_raw_tp("kmalloc", m->why, sizeof(m->why)) &&
	    ks_can_raw_tp("kmem_cache_alloc", m->why, sizeof(m->why))) {
		if (idx != 2)
			ks_mode_set(m, false, NULL, "kmem_cache_alloc raw "
				    "tracepoint has no struct kmem_cache * "
				    "argument on this kernel");
		else if (ks_raw_tp_nargs("kmalloc") < 4)
			ks_mode_set(m, false, NULL, "kmalloc raw tracepoint "
				    "has an unexpected prototype");
		else
			ks_mode_set(m, true, "every successful allocation",
				    NULL);
	} else {
		ks_mode_set(m, false, NULL, m->why);
	}

	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, ks_can_tracepoint("kmem", "kmalloc", m->why,
					 sizeof(m->why)) &&
		       ks_can_tracepoint("kmem", "kmem_cache_alloc", m->why,
					 sizeof(m->why)),
		    "every successful allocation", m->why);
}

static int kmem_start(struct ks_run *r)
{
	struct bpf_program *keep[3] = { NULL };
	struct kmem_state *st = r->tool_state;
	struct kmem_bpf *skel;

	skel = st->skel = kmem_bpf__open();
	if (!skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return -1;
	}
	if (ks_bpf_prepare(r, skel->obj))
		return -1;
	skel->rodata->use_stacks = r->o.stacks;
	bpf_map__set_max_entries(skel->maps.counts, r->o.max_entries);
	if (r->mode == KS_MODE_TP_BTF) {
		keep[0] = skel->progs.kmalloc_btf;
		keep[1] = skel->progs.cache_alloc_btf;
	} else if (r->mode == KS_MODE_RAW_TP) {
		keep[0] = skel->progs.kmalloc_raw;
		keep[1] = skel->progs.cache_alloc_raw;
	} else {
		keep[0] = skel->progs.kmalloc_tp;
		keep[1] = skel->progs.cache_alloc_tp;
	}
	ks_bpf_only(skel->obj, keep);
	if (ks_bpf_load(r, skel->obj))
		return -1;
	for (int i = 0; keep[i]; i++)
		if (ks_bpf_attach(r, keep[i]))
			return -1;
	return 0;
}

struct row {
	struct kmem_key k;
	struct kmem_val v;
};

static int by_bytes(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->v.bytes != y->v.bytes)
		return x->v.bytes < y->v.bytes ? 1 : -1;
	return x->v.count < y->v.count ? 1 : x->v.count > y->v.count ? -1 : 0;
}

static const char *kind_name(unsigned int kind)
{
	return kind == KMEM_CACHE ? "cache" : "kmalloc";
}

enum { C_COMM, C_KIND, C_COUNT, C_BYTES, C_AVG, C_SITE, C_BYTES_REQ };

/* the columns with the call site or the stack (a macro: clang takes no
 * array element as a constant initializer, and the fuzzers build with it) */
#define KMEM_COLS(...) {						\
	[C_COMM] = { "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY }, \
	[C_KIND] = { "kind", "KIND", KS_CT_STR, -7, .flags = KS_CF_KEY }, \
	[C_COUNT] = { "count", "COUNT", KS_CT_U64, 10, .unit = KS_UNIT_COUNT, \
		      .flags = KS_CF_COUNT, .sample = "alloc_objects" }, \
	[C_BYTES] = { "bytes", "BYTES", KS_CT_U64, 12, .unit = KS_UNIT_BYTES, \
		      .flags = KS_CF_WEIGHT, .sample = "alloc_space" }, \
	[C_AVG] = { "avg", "AVG", KS_CT_F64, 8, .dec = 0, .jdec = 1 },	\
	[C_SITE] = __VA_ARGS__,						\
	[C_BYTES_REQ] = { "bytes_req", NULL, KS_CT_U64, 0,		\
			  .unit = KS_UNIT_BYTES },			\
}

static const struct ks_col site_cols[] =
	KMEM_COLS({ "site", "SITE", KS_CT_STR, 0, .flags = KS_CF_KEY });
static const struct ks_col stack_cols[] =
	KMEM_COLS({ "stack", "STACK", KS_CT_STACK, 0, .flags = KS_CF_KEY });

static void kmem_collect(struct ks_run *r, struct ks_report *rep)
{
	struct kmem_state *st = r->tool_state;
	struct ks_table *t;
	struct row *rows;
	size_t n = 0;
	uint64_t tot_count = 0, tot_bytes = 0, ips[KS_MAX_STACK_DEPTH];
	char site[256], b1[32];

	/* an interval report takes the counts: the next starts from zero */
	rows = KS_MAP_ROWS(bpf_map__fd(st->skel->maps.counts), struct row, k,
			   v, &n, rep->take_gen);
	t = ks_table_add(rep, "entries", r->o.stacks ? stack_cols : site_cols,
			 sizeof(site_cols) / sizeof(site_cols[0]));
	if (!rows || !t) {
		free(rows);
		return;
	}
	qsort(rows, n, sizeof(*rows), by_bytes);
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		int nf = 0;
		long row;

		if (r->o.stacks) {
			nf = ks_stack_frames(r, w->k.gen, w->k.stackid, ips,
					     KS_MAX_STACK_DEPTH);
			if (nf < 0) {
				ks_report_lost_stack(rep, w->v.count);
				continue;
			}
		}
		row = ks_row_add(t);
		if (row < 0)
			break;
		ks_cell_comm(t, row, C_COMM, w->k.comm, KS_COMM_LEN);
		ks_cell_str(t, row, C_KIND, kind_name(w->k.kind));
		ks_cell_u64(t, row, C_COUNT, w->v.count);
		ks_cell_u64(t, row, C_BYTES, w->v.bytes);
		ks_cell_u64(t, row, C_BYTES_REQ, w->v.bytes_req);
		ks_cell_f64(t, row, C_AVG, w->v.count ?
			    (double)w->v.bytes / w->v.count : 0);
		if (r->o.stacks)
			ks_cell_stack(t, row, C_SITE, ips, nf, false);
		else
			ks_cell_str(t, row, C_SITE,
				    ks_ksyms_fmt(ks_kernel_syms(), w->k.site,
						 site, sizeof(site)));
		/* an fexit program on the allocator (slabratetop in fentry
		 * mode, or anyone else's) calls it from a BPF trampoline,
		 * which is then all the tracepoint sees as the call site */
		if (!r->o.stacks && !strncmp(site, "bpf_trampoline", 14))
			ks_run_note(r, "some call sites are BPF trampolines: "
				    "another BPF program traces the allocator "
				    "with fexit, which hides its callers");
		tot_count += w->v.count;
		tot_bytes += w->v.bytes;
	}
	free(rows);
	ks_report_u64(rep, "total_count", tot_count);
	ks_report_u64(rep, "total_bytes", tot_bytes);
	ks_table_line(t, true, "Total: %" PRIu64 " allocations, %s",
		      tot_count, ks_fmt_bytes(tot_bytes, b1, sizeof(b1)));
}

/* -s: every allocation walks its stack (ks_default_mode()) */
static bool kmem_walks(const struct ks_run *r)
{
	return r->o.stacks;
}

static void kmem_stop(struct ks_run *r)
{
	struct kmem_state *st = r->tool_state;

	kmem_bpf__destroy(st->skel);
	st->skel = NULL;
}

const struct ks_tool ks_tool_kmem = {
	.name = "kmem",
	.summary = "Kernel memory allocations (kmalloc, kmem_cache_alloc): "
		   "count, bytes and average per call site (or stack) and "
		   "task name.",
	.examples =
"  kscope kmem -d 10               top allocators over 10 seconds\n"
"  kscope kmem -s -r 5 -c nginx    5 biggest kernel stacks for nginx\n"
"  kscope kmem -j 1                JSON report every second\n"
"  kscope kmem --pprof p.gz -d 10  a profile for go tool pprof\n",
	.overhead =
"  Every allocation runs a small in-kernel program: about 100-170 ns per\n"
"  allocation by call site (bench/, 2-core VM, 6.18), 2.3 us with -s\n"
"  (the kernel stack walk dominates; --stack-depth lowers it).  Busy\n"
"  systems allocate 100k-1M objects/s: -s there costs real CPU (below:\n"
"  78% on --fork, 42% on the open/close loop with -s).\n",
	.macro = { 102, 98, 88 },
	.tracing_what = "kmalloc and kmem_cache_alloc",
	.takes_counts = true,
	.stacks_help = "key by kernel stack instead of call site",
	.walks_every_event = kmem_walks,
	.weight_help = "bytes",
	.pprof_help = "alloc_objects/count, alloc_space/bytes",
	.probe = kmem_probe,
	.start = kmem_start,
	.collect = kmem_collect,
	.state_size = sizeof(struct kmem_state),
	.stop = kmem_stop,
};
