// SPDX-License-Identifier: GPL-2.0
/* kscope kpages: who allocates pages (kmem:mm_page_alloc) */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "kpages.h"
#include "kpages.skel.h"

struct kpages_state {
	struct kpages_bpf *skel;
};

static void kpages_probe(const struct ks_run *r, struct ks_probe *p)
{
	struct ks_mode_avail *m;
	static const char *const why = "not offered: mm_page_alloc sees every "
		"page allocation, whichever allocator entry point was used";

	(void)r;
	snprintf(p->m[KS_MODE_FENTRY].why, sizeof(p->m[0].why), "%s", why);
	snprintf(p->m[KS_MODE_KPROBE].why, sizeof(p->m[0].why), "%s", why);
	m = &p->m[KS_MODE_TP_BTF];
	ks_mode_set(m, ks_can_tp_btf("mm_page_alloc", m->why, sizeof(m->why)),
		    "every successful page allocation", m->why);
	m = &p->m[KS_MODE_RAW_TP];
	ks_mode_set(m, ks_can_raw_tp("mm_page_alloc", m->why, sizeof(m->why)),
		    "every successful page allocation", m->why);
	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, ks_can_tracepoint("kmem", "mm_page_alloc", m->why,
					 sizeof(m->why)),
		    "every successful page allocation", m->why);
}

static int kpages_start(struct ks_run *r)
{
	struct bpf_program *keep[2] = { NULL };
	struct kpages_state *st = r->tool_state;
	struct kpages_bpf *skel;

	skel = st->skel = kpages_bpf__open();
	if (!skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return -1;
	}
	if (ks_bpf_prepare(r, skel->obj))
		return -1;
	bpf_map__set_max_entries(skel->maps.counts, r->o.max_entries);
	keep[0] = r->mode == KS_MODE_TP_BTF ? skel->progs.page_alloc_btf :
		  r->mode == KS_MODE_RAW_TP ? skel->progs.page_alloc_raw :
		  skel->progs.page_alloc_tp;
	ks_bpf_only(skel->obj, keep);
	if (ks_bpf_load(r, skel->obj) || ks_bpf_attach(r, keep[0]))
		return -1;
	return 0;
}

/*
 * The frames that belong to the page (and slab) allocator itself, or to
 * the tracepoint; the first frame past them is the call site a user means.
 */
static bool allocator_frame(const char *name)
{
	static const char *const parts[] = {
		"alloc_pages", "alloc_frozen_pages", "folio_alloc",
		"alloc_folio", "get_page_from_freelist", "get_free_page",
		"get_zeroed_page", "rmqueue", "__traceiter", "trace_call_bpf",
		"bpf_trace", "slab_alloc", "allocate_slab", "new_slab",
		"kmem_cache_alloc", "__kmalloc", "kmalloc_", "alloc_slab_page",
		"page_frag_alloc", "__do_kmalloc", "kmalloc_large",
		"___kmalloc", "alloc_pages_bulk", NULL,
	};

	for (int i = 0; parts[i]; i++)
		if (strstr(name, parts[i]))
			return true;
	return false;
}

static uint64_t ks_kpages_site(const uint64_t *ips, int n)
{
	const struct ks_ksyms *ks = ks_kernel_syms();

	for (int i = 0; i < n; i++) {
		const struct ks_ksym *s = ks_ksyms_lookup(ks, ips[i]);

		if (!s || !allocator_frame(s->name))
			return ips[i];
	}
	return n ? ips[n - 1] : 0;
}

struct row {
	uint64_t site;		/* function start address of the site */
	unsigned int gen;
	int stackid;
	char comm[KS_COMM_LEN];
	uint64_t count, pages;
};

static int by_pages(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->pages != y->pages)
		return x->pages < y->pages ? 1 : -1;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* merge rows with the same (site or stack, comm) */
static size_t merge(struct row *rows, size_t n, bool by_stack)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < out; k++) {
			bool same = by_stack ?
				rows[k].stackid == rows[i].stackid &&
				rows[k].gen == rows[i].gen :
				rows[k].site == rows[i].site;

			if (same && !memcmp(rows[k].comm, rows[i].comm,
					    KS_COMM_LEN))
				break;
		}
		if (k == out) {
			rows[out++] = rows[i];
		} else {
			rows[k].count += rows[i].count;
			rows[k].pages += rows[i].pages;
		}
	}
	return out;
}

enum { C_COMM, C_COUNT, C_PAGES, C_BYTES, C_SITE };

/* the columns with the call site or the stack (a macro: clang takes no
 * array element as a constant initializer, and the fuzzers build with it) */
#define KPAGES_COLS(...) {						\
	[C_COMM] = { "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY }, \
	[C_COUNT] = { "count", "COUNT", KS_CT_U64, 10, .unit = KS_UNIT_COUNT, \
		      .flags = KS_CF_COUNT, .sample = "alloc_objects" }, \
	[C_PAGES] = { "pages", "PAGES", KS_CT_U64, 10,			\
		      .unit = KS_UNIT_PAGES },				\
	[C_BYTES] = { "bytes", "BYTES", KS_CT_U64, 12, .unit = KS_UNIT_BYTES, \
		      .flags = KS_CF_WEIGHT, .sample = "alloc_space" }, \
	[C_SITE] = __VA_ARGS__,						\
}

static const struct ks_col site_cols[] =
	KPAGES_COLS({ "site", "SITE", KS_CT_STR, 0, .flags = KS_CF_KEY });
static const struct ks_col stack_cols[] =
	KPAGES_COLS({ "stack", "STACK", KS_CT_STACK, 0, .flags = KS_CF_KEY });

static void kpages_collect(struct ks_run *r, struct ks_report *rep)
{
	struct kpages_state *st = r->tool_state;
	struct kpages_key *keys;
	struct kpages_val *vals;
	struct ks_table *t;
	struct row *rows;
	size_t n = 0, m = 0;
	uint64_t page = sysconf(_SC_PAGESIZE), tot_count = 0, tot_pages = 0;
	uint64_t ips[KS_MAX_STACK_DEPTH];
	char site[256], b1[32];

	/* an interval report takes the counts: the next starts from zero */
	if (ks_map_take(bpf_map__fd(st->skel->maps.counts), sizeof(*keys),
			sizeof(*vals), offsetof(struct kpages_key, gen),
			rep->take_gen, (void **)&keys, (void **)&vals, &n))
		return;
	rows = calloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n; i++) {
		int nf = ks_stack_frames(r, keys[i].gen, keys[i].stackid, ips,
					 KS_MAX_STACK_DEPTH);

		if (nf < 0) {
			ks_report_lost_stack(rep, vals[i].count);
			continue;
		}
		rows[m].site = ks_kpages_site(ips, nf);
		rows[m].gen = keys[i].gen;
		rows[m].stackid = keys[i].stackid;
		memcpy(rows[m].comm, keys[i].comm, KS_COMM_LEN);
		rows[m].count = vals[i].count;
		rows[m].pages = vals[i].pages;
		tot_count += vals[i].count;
		tot_pages += vals[i].pages;
		m++;
	}
	free(keys);
	free(vals);
	t = ks_table_add(rep, "entries", r->o.stacks ? stack_cols : site_cols,
			 sizeof(site_cols) / sizeof(site_cols[0]));
	if (!rows || !t) {
		free(rows);
		return;
	}
	n = merge(rows, m, r->o.stacks);
	qsort(rows, n, sizeof(*rows), by_pages);
	for (size_t i = 0; i < n; i++) {
		const struct row *w = &rows[i];
		long row = ks_row_add(t);

		if (row < 0)
			break;
		ks_cell_comm(t, row, C_COMM, w->comm, KS_COMM_LEN);
		ks_cell_u64(t, row, C_COUNT, w->count);
		ks_cell_u64(t, row, C_PAGES, w->pages);
		ks_cell_u64(t, row, C_BYTES, w->pages * page);
		if (r->o.stacks) {
			int nf = ks_stack_frames(r, w->gen, w->stackid, ips,
						 KS_MAX_STACK_DEPTH);

			ks_cell_stack(t, row, C_SITE, ips, nf > 0 ? nf : 0,
				      false);
		} else {
			ks_cell_str(t, row, C_SITE,
				    ks_ksyms_fmt(ks_kernel_syms(), w->site,
						 site, sizeof(site)));
		}
	}
	free(rows);
	ks_report_u64(rep, "total_count", tot_count);
	ks_report_u64(rep, "total_pages", tot_pages);
	ks_table_line(t, true, "Total: %" PRIu64 " allocations, %" PRIu64
		      " pages, %s", tot_count, tot_pages,
		      ks_fmt_bytes(tot_pages * page, b1, sizeof(b1)));
}

static void kpages_stop(struct ks_run *r)
{
	struct kpages_state *st = r->tool_state;

	kpages_bpf__destroy(st->skel);
	st->skel = NULL;
}

const struct ks_tool ks_tool_kpages = {
	.name = "kpages",
	.summary = "Page allocations (kmem:mm_page_alloc): count, pages and "
		   "bytes per call site (or stack) and task name.  The site "
		   "is the first caller outside the page and slab allocators.",
	.examples =
"  kscope kpages -d 5              top page allocators over 5 seconds\n"
"  kscope kpages -s -p 1234        full stacks for process 1234\n",
	.overhead =
"  mm_page_alloc carries no call site, so every page allocation takes a\n"
"  short kernel stack to find it: about 2 us per allocation (bench/).\n"
"  Page allocations are rarer than slab ones, but a page-fault storm of\n"
"  100k pages/s costs about 20% of a CPU.\n",
	.tracing_what = "page allocations",
	.takes_counts = true,
	.stacks_help = "key by kernel stack instead of call site",
	.weight_help = "bytes",
	.pprof_help = "alloc_objects/count, alloc_space/bytes",
	.needs_stack_map = true,
	.probe = kpages_probe,
	.start = kpages_start,
	.collect = kpages_collect,
	.state_size = sizeof(struct kpages_state),
	.stop = kpages_stop,
};
