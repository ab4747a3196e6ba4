// SPDX-License-Identifier: GPL-2.0
/* kscope kpages: who allocates pages (kmem:mm_page_alloc) */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "kpages.h"
#include "kpages.skel.h"

#define OPT_SAMPLE 2000

struct kpages_state {
	struct kpages_bpf *skel;
	unsigned int sample;	/* 0: every allocation's stack */
	/* the short walk (kpages.bpf.c): frames per short stack, buckets of
	 * short_ids (0: off) and which of them were looked at */
	int short_slots;
	uint32_t short_buckets;
	uint8_t *short_seen;
	/* the allocators' text (ks_kranges_kernel()), built at the first
	 * stack looked at: the tick needs no whole symbol table */
	struct ks_kranges *alloc_text;
};

static int kpages_parse_opt(struct ks_run *r, int c, const char *arg)
{
	struct kpages_state *st = r->tool_state;
	long l;

	if (c != OPT_SAMPLE)
		return -1;
	if (ks_parse_long(arg, 1, 1 << 30, &l))
		return ks_usage_error("bad --sample '%s' (1 or more)", arg);
	st->sample = l;
	return 0;
}

static unsigned int kpages_sample(const struct ks_run *r)
{
	const struct kpages_state *st = r->tool_state;

	if (st->sample)
		return st->sample;
	return r->in_report ? KS_REPORT_SAMPLE : 1;
}

/* unsampled, every allocation walks its stack (ks_default_mode()) */
static bool kpages_walks(const struct ks_run *r)
{
	return kpages_sample(r) <= 1;
}

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
	skel->rodata->stack_every = kpages_sample(r);
	if (!r->o.stacks && !r->in_report) {
		/* the short walk, looked at by kpages_tick(): beside other
		 * tools (report, export) nothing looks until a report, and
		 * their sampled walks would pay for both */
		int depth = r->o.stack_depth < KPAGES_SHORT_FRAMES ?
			    r->o.stack_depth : KPAGES_SHORT_FRAMES;

		st->short_slots = depth + ks_tracing_frames(r);
		st->short_buckets = 1;
		/* a stack-trace map's ids are bucket numbers, as many as the
		 * entries rounded up to a power of two */
		while (st->short_buckets < (uint32_t)r->o.max_entries)
			st->short_buckets <<= 1;
		st->short_seen = calloc(st->short_buckets / 8 + 1, 1);
		if (!st->short_seen) {
			ks_err("out of memory");
			return -1;
		}
		skel->rodata->short_walk = 1;
		bpf_map__set_max_entries(skel->maps.short_ids,
					 r->o.max_entries);
		bpf_map__set_value_size(skel->maps.short_ids,
					st->short_slots * sizeof(uint64_t));
		bpf_map__set_max_entries(skel->maps.short_ok,
					 r->o.max_entries);
	}
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

	/* every part has one of these in it, and most names none: the
	 * allocators' ranges classify all ~120,000 kernel symbols at once
	 * (a TCG guest took 2 s over that with the 23 parts alone) */
	if (!strstr(name, "alloc") && !strstr(name, "get_") &&
	    !strstr(name, "rmqueue") && !strstr(name, "trace") &&
	    !strstr(name, "new_slab"))
		return false;
	for (int i = 0; parts[i]; i++)
		if (strstr(name, parts[i]))
			return true;
	return false;
}

/* functions only: a stack's frames are in text */
static unsigned int allocator_class(const struct ks_ksym *s)
{
	return strchr("tTwW", s->type) && allocator_frame(s->name);
}

/* the site of a walk whose every frame is in the allocators (a shallow
 * --stack-depth): never a kernel address, never blamed on an allocator */
#define KPAGES_SITE_BEYOND 1

static uint64_t kpages_site(struct kpages_state *st, const uint64_t *ips,
			    int n)
{
	ks_kranges_kernel(&st->alloc_text, allocator_class);
	for (int i = 0; i < n; i++)
		if (!ks_kranges_class(st->alloc_text, ips[i]))
			return ips[i];
	return KPAGES_SITE_BEYOND;
}

/*
 * The short stacks not looked at yet: those whose site is in their frames
 * go to short_ok, and their allocations stop walking any further; the
 * others keep the whole walk.  Five times a second (the tool's tick) and
 * before each report.
 */
static void kpages_tick(struct ks_run *r)
{
	struct kpages_state *st = r->tool_state;
	uint64_t buf[KS_MAX_STACK_DEPTH], ips[KS_MAX_STACK_DEPTH];
	uint32_t key, next, *prev = NULL;
	const uint8_t one = 1;
	int ids, ok, n;

	if (!st->skel || !st->short_seen)
		return;
	ids = bpf_map__fd(st->skel->maps.short_ids);
	ok = bpf_map__fd(st->skel->maps.short_ok);
	/* the first look builds both its ranges (tracing frames, the
	 * allocators') from one read of the symbols, let go at the end */
	ks_kernel_syms_keep(true);
	for (; !bpf_map_get_next_key(ids, prev, &next); prev = &key) {
		key = next;
		if (key >= st->short_buckets ||
		    st->short_seen[key / 8] & (1u << key % 8))
			continue;
		memset(buf, 0, sizeof(buf));
		if (bpf_map_lookup_elem(ids, &key, buf))
			continue;
		st->short_seen[key / 8] |= 1u << key % 8;
		n = ks_kstack_clean(r, buf, st->short_slots, ips,
				    KS_MAX_STACK_DEPTH);
		if (n > 0 && kpages_site(st, ips, n) != KPAGES_SITE_BEYOND)
			bpf_map_update_elem(ok, &key, &one, BPF_ANY);
	}
	ks_kernel_syms_keep(false);
}

/* the frames of a count's stack: a short one or a whole one */
static int key_frames(struct ks_run *r, const struct kpages_key *k,
		      uint64_t *ips)
{
	struct kpages_state *st = r->tool_state;
	uint64_t buf[KS_MAX_STACK_DEPTH] = { 0 };

	if ((k->stackid & KPAGES_SHORT) != KPAGES_SHORT)
		return ks_stack_frames(r, k->gen, k->stackid, ips,
				       KS_MAX_STACK_DEPTH);
	if (ks_stack_lookup(bpf_map__fd(st->skel->maps.short_ids),
			    k->stackid, buf))
		return -1;
	return ks_kstack_clean(r, buf, st->short_slots, ips,
			       KS_MAX_STACK_DEPTH);
}

struct row {
	uint64_t site;		/* function start address of the site */
	unsigned int gen;
	uint64_t stackid;	/* KS_NO_STACK: not sampled */
	unsigned int order;
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

/*
 * Sampled stacks (--sample N): the exact count of each (task, order) is
 * split among its sampled stacks in the sample's proportions, by
 * cumulative rounding so that the shares add up to the exact count; a
 * (task, order) none of whose allocations was sampled keeps one row
 * without a stack.  Rows are as read from the map, not merged yet.
 */
static size_t apportion(struct row *rows, size_t n)
{
	struct row *res = calloc(n ? n : 1, sizeof(*res));
	bool *done = calloc(n ? n : 1, sizeof(*done));
	size_t out = 0;

	if (!res || !done) {
		free(res);
		free(done);
		return n;	/* the sample as it is */
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t c = 0, sc = 0, cc = 0, prev = 0;
		bool first = true;

		if (done[i])
			continue;
		for (size_t k = i; k < n; k++) {
			if (rows[k].order != rows[i].order ||
			    memcmp(rows[k].comm, rows[i].comm, KS_COMM_LEN))
				continue;
			c += rows[k].count;
			if (rows[k].stackid != KS_NO_STACK)
				sc += rows[k].count;
		}
		for (size_t k = i; k < n; k++) {
			struct row w = rows[k];

			if (done[k] || w.order != rows[i].order ||
			    memcmp(w.comm, rows[i].comm, KS_COMM_LEN))
				continue;
			done[k] = true;
			if (sc ? w.stackid == KS_NO_STACK : !first)
				continue;
			first = false;
			if (sc) {
				uint64_t nc;

				cc += w.count;
				nc = (uint64_t)((double)c * cc / sc + 0.5);
				w.count = nc - prev;
				prev = nc;
			} else {
				w.count = c;
			}
			w.pages = w.count << (w.order & 63);
			res[out++] = w;
		}
	}
	memcpy(rows, res, out * sizeof(*rows));
	free(res);
	free(done);
	return out;
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
	uint64_t beyond = 0, short_walks = 0;
	uint64_t ips[KS_MAX_STACK_DEPTH];
	char site[256], b1[32];
	unsigned int sample = kpages_sample(r);

	kpages_tick(r);
	/* an interval report takes the counts: the next starts from zero */
	if (ks_map_take(bpf_map__fd(st->skel->maps.counts), sizeof(*keys),
			sizeof(*vals), offsetof(struct kpages_key, gen),
			rep->take_gen, (void **)&keys, (void **)&vals, &n))
		return;
	rows = calloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; rows && i < n; i++) {
		bool none = keys[i].stackid == KS_NO_STACK;
		int nf = none ? 0 : key_frames(r, &keys[i], ips);

		if (nf < 0 && sample > 1) {
			/* counts are kept apart from stacks: the count
			 * stays, without its site */
			none = true;
			keys[i].stackid = KS_NO_STACK;
		} else if (nf < 0) {
			ks_report_lost_stack(rep, vals[i].count);
			continue;
		}
		if ((keys[i].stackid & KPAGES_SHORT) == KPAGES_SHORT)
			short_walks += vals[i].count;
		rows[m].site = none ? 0 : kpages_site(st, ips, nf);
		rows[m].gen = keys[i].gen;
		rows[m].stackid = keys[i].stackid;
		rows[m].order = keys[i].order;
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
	if (sample > 1)
		m = apportion(rows, m);
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
		if (w->stackid == KS_NO_STACK) {
			if (r->o.stacks)
				ks_cell_stack(t, row, C_SITE, ips, 0, false);
			else
				ks_cell_str(t, row, C_SITE, "[not sampled]");
		} else if (r->o.stacks) {
			int nf = ks_stack_frames(r, w->gen, w->stackid, ips,
						 KS_MAX_STACK_DEPTH);

			ks_cell_stack(t, row, C_SITE, ips, nf > 0 ? nf : 0,
				      false);
		} else if (w->site == KPAGES_SITE_BEYOND) {
			snprintf(site, sizeof(site), "[beyond the %d frames "
				 "walked]", r->o.stack_depth);
			ks_cell_str(t, row, C_SITE, site);
			beyond += w->count;
		} else {
			ks_cell_str(t, row, C_SITE,
				    ks_ksyms_fmt(ks_kernel_syms(), w->site,
						 site, sizeof(site)));
		}
	}
	free(rows);
	if (beyond)
		ks_table_line(t, false, "(%" PRIu64 " allocations whose %d "
			      "frames walked are all in the allocators: "
			      "--stack-depth walks further)", beyond,
			      r->o.stack_depth);
	if (sample > 1)
		ks_table_line(t, false, "(sites from the stacks of 1 in %u "
			      "allocations per CPU: each task's count and "
			      "pages per order are exact, split among its "
			      "sites as in the sample)", sample);
	ks_report_u64(rep, "sample", sample);
	ks_report_u64(rep, "short_walks", short_walks);
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
	free(st->short_seen);
	st->short_seen = NULL;
	ks_kranges_free(st->alloc_text);
	st->alloc_text = NULL;
}

static const struct option long_opts[] = {
	{ "sample", required_argument, NULL, OPT_SAMPLE },
	{ 0 },
};

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
"  100k pages/s costs about 20% of a CPU.  --sample N walks 1 in N stacks\n"
"  (kscope report: 64) and keeps every count.\n",
	.macro = { 64, 97, 99 },
	.args_help =
"      --sample N         walk the stack of 1 in N page allocations per\n"
"                         CPU: counts and pages per task stay exact, their\n"
"                         split among sites is the sample's (kscope report:\n"
"                         N = 64)\n",
	.long_opts = long_opts,
	.parse_opt = kpages_parse_opt,
	.tracing_what = "page allocations",
	.takes_counts = true,
	.stacks_help = "key by kernel stack instead of call site",
	.walks_every_event = kpages_walks,
	.weight_help = "bytes",
	.pprof_help = "alloc_objects/count, alloc_space/bytes",
	.needs_stack_map = true,
	.probe = kpages_probe,
	.start = kpages_start,
	.collect = kpages_collect,
	.tick = kpages_tick,
	.state_size = sizeof(struct kpages_state),
	.stop = kpages_stop,
};
