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

static struct kpages_bpf *skel;

static void kpages_probe(struct ks_probe *p)
{
	struct ks_mode_avail *m;
	static const char *const why = "not offered: mm_page_alloc sees every "
		"page allocation, whichever allocator entry point was used";

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

	skel = kpages_bpf__open();
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
			bool same = by_stack ? rows[k].stackid == rows[i].stackid
					     : rows[k].site == rows[i].site;

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

static void kpages_print(struct ks_run *r, struct ks_report *rep)
{
	struct kpages_key *keys;
	struct kpages_val *vals;
	struct row *rows;
	size_t n = 0, shown;
	uint64_t page = sysconf(_SC_PAGESIZE), tot_count = 0, tot_pages = 0;
	char site[256], comm[80], b1[32];

	/* an interval report takes the counts: the next starts from zero */
	if (ks_map_take(bpf_map__fd(skel->maps.counts), sizeof(*keys),
			sizeof(*vals), offsetof(struct kpages_key, gen),
			rep->take_gen, (void **)&keys, (void **)&vals, &n))
		return;
	rows = calloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n; i++) {
		uint64_t ips[KS_MAX_STACK_DEPTH];
		int nf = ks_stack_frames(r, keys[i].stackid, ips,
					 KS_MAX_STACK_DEPTH);

		rows[i].site = ks_kpages_site(ips, nf);
		rows[i].stackid = keys[i].stackid;
		memcpy(rows[i].comm, keys[i].comm, KS_COMM_LEN);
		rows[i].count = vals[i].count;
		rows[i].pages = vals[i].pages;
		tot_count += vals[i].count;
		tot_pages += vals[i].pages;
	}
	free(keys);
	free(vals);
	if (!rows)
		return;
	n = merge(rows, n, r->o.stacks);
	qsort(rows, n, sizeof(*rows), by_pages);
	shown = ks_rows_shown(r, n);

	ks_report_entries_begin(rep);
	if (!r->o.json)
		fprintf(r->out, "%-16s %10s %10s %12s  %s\n", "COMM", "COUNT",
			"PAGES", "BYTES", r->o.stacks ? "STACK" : "SITE");
	for (size_t i = 0; i < shown; i++) {
		const struct row *w = &rows[i];

		ks_ksyms_fmt(ks_kernel_syms(), w->site, site, sizeof(site));
		if (r->o.json) {
			struct ks_json *j = &rep->j;

			ks_json_obj_begin(j);
			ks_json_key(j, "comm");
			ks_json_strn(j, w->comm, KS_COMM_LEN);
			if (r->o.stacks)
				ks_report_kstack_json(rep, w->stackid);
			else
				ks_json_kstr(j, "site", site);
			ks_json_ku64(j, "count", w->count);
			ks_json_ku64(j, "pages", w->pages);
			ks_json_ku64(j, "bytes", w->pages * page);
			ks_json_obj_end(j);
			continue;
		}
		fprintf(r->out, "%-16s %10" PRIu64 " %10" PRIu64 " %12" PRIu64
			"  %s\n", ks_comm_text(w->comm, comm, sizeof(comm)),
			w->count, w->pages, w->pages * page,
			r->o.stacks ? "" : site);
		if (r->o.stacks)
			ks_report_kstack_text(rep, w->stackid, "        ");
	}
	ks_report_entries_end(rep);
	if (r->o.json) {
		ks_json_ku64(&rep->j, "total_count", tot_count);
		ks_json_ku64(&rep->j, "total_pages", tot_pages);
	} else {
		ks_report_more_rows(rep, shown, n);
		fprintf(r->out, "Total: %" PRIu64 " allocations, %" PRIu64
			" pages, %s\n", tot_count, tot_pages,
			ks_fmt_bytes(tot_pages * page, b1, sizeof(b1)));
	}
	free(rows);
}

static void kpages_reset(struct ks_run *r)
{
	ks_reset_stacks(r);
}

static void kpages_stop(struct ks_run *r)
{
	(void)r;
	kpages_bpf__destroy(skel);
	skel = NULL;
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
	.needs_stack_map = true,
	.probe = kpages_probe,
	.start = kpages_start,
	.print = kpages_print,
	.reset = kpages_reset,
	.stop = kpages_stop,
};
