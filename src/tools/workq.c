// SPDX-License-Identifier: GPL-2.0
/* kscope workq: how long work items run (and wait, with -Q) */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "workq.h"
#include "workq.skel.h"

/* one map entry: an address key and its cumulative counters */
struct fent {
	uint64_t key;
	struct workq_val v;
};

struct went {
	uint64_t key;
	struct workq_wq_val v;
};

/* a (function, workqueue) pair's queueing latency (-Q) */
struct pent {
	struct workq_pair_key key;
	struct workq_stats v;
};

struct workq_state {
	struct workq_bpf *skel;
	bool opt_queue;		/* -Q */
	const char *opt_wq;	/* -w */
	/* previous and current reads of funcs and wqs, sorted by key */
	struct fent *fprev, *fcur;
	size_t nfprev, nfcur;
	struct went *wprev, *wcur;
	size_t nwprev, nwcur;
	struct pent *pprev, *pcur;
	size_t npprev, npcur;
	uint64_t unmatched_prev, unmatched_cur;
	struct ks_col cols[2][11];	/* workqueues, functions */
};

/* workq_stats in user space's integer types */
struct ustats {
	uint64_t count;
	uint64_t total_ns;
	uint64_t hist[KS_HIST_SLOTS];
};

/* one report's row: this interval's counts for a function or workqueue */
struct row {
	uint64_t key;
	const char *wq_name;		/* workqueue rows */
	struct ustats exec, queue;
	uint64_t exec_max, queue_max;	/* ns */
};

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void workq_probe(const struct ks_run *r, struct ks_probe *p)
{
	static const char *const tps[] = {
		"workqueue_queue_work", "workqueue_execute_start",
		"workqueue_execute_end", NULL,
	};
	const char *measures = "every work item: execute_start to "
			       "execute_end; -Q adds queue_work to "
			       "execute_start";
	struct ks_mode_avail *m;
	bool ok;

	(void)r;
	m = &p->m[KS_MODE_FENTRY];
	snprintf(m->why, sizeof(m->why), "not offered: the workqueue "
		 "tracepoints already see every work item");
	m = &p->m[KS_MODE_KPROBE];
	snprintf(m->why, sizeof(m->why), "not offered: the workqueue "
		 "tracepoints already see every work item");

	m = &p->m[KS_MODE_TP_BTF];
	ok = ks_can_tp_btf(tps[0], m->why, sizeof(m->why));
	for (int i = 1; ok && tps[i]; i++)
		ok = ks_can_tp_btf(tps[i], m->why, sizeof(m->why));
	ks_mode_set(m, ok, measures, m->why);

	m = &p->m[KS_MODE_RAW_TP];
	ok = true;
	for (int i = 0; ok && tps[i]; i++)
		ok = ks_can_raw_tp(tps[i], m->why, sizeof(m->why));
	ks_mode_set(m, ok, measures, m->why);

	m = &p->m[KS_MODE_TRACEPOINT];
	ok = true;
	for (int i = 0; ok && tps[i]; i++)
		ok = ks_can_tracepoint("workqueue", tps[i], m->why,
				       sizeof(m->why));
	ks_mode_set(m, ok, measures, m->why);
}

static int workq_start(struct ks_run *r)
{
	struct workq_state *st = r->tool_state;
	struct bpf_program *keep[4] = { NULL };
	bool opt_queue = st->opt_queue;
	const char *opt_wq = st->opt_wq;
	struct workq_bpf *skel;

	skel = st->skel = workq_bpf__open();
	if (!skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return -1;
	}
	if (ks_bpf_prepare(r, skel->obj))
		return -1;
	skel->rodata->queue_lat = opt_queue;
	skel->rodata->wq_filter_on = opt_wq != NULL;
	if (opt_wq)
		strncpy((char *)skel->rodata->wq_filter, opt_wq,
			WORKQ_NAME_LEN - 1);
	bpf_map__set_max_entries(skel->maps.running, r->o.max_entries);
	bpf_map__set_max_entries(skel->maps.funcs, r->o.max_entries);
	bpf_map__set_max_entries(skel->maps.maxes, r->o.max_entries);
	bpf_map__set_max_entries(skel->maps.pending,
				 opt_queue ? r->o.max_entries : 1);
	bpf_map__set_max_entries(skel->maps.wqs,
				 opt_queue ? r->o.max_entries : 1);
	bpf_map__set_max_entries(skel->maps.pairs,
				 opt_queue ? r->o.max_entries : 1);

	if (r->mode == KS_MODE_TP_BTF) {
		keep[0] = skel->progs.start_btf;
		keep[1] = skel->progs.end_btf;
		keep[2] = opt_queue ? skel->progs.queue_btf : NULL;
	} else if (r->mode == KS_MODE_RAW_TP) {
		keep[0] = skel->progs.start_raw;
		keep[1] = skel->progs.end_raw;
		keep[2] = opt_queue ? skel->progs.queue_raw : NULL;
	} else {
		keep[0] = skel->progs.start_tp;
		keep[1] = skel->progs.end_tp;
		keep[2] = opt_queue ? skel->progs.queue_tp : NULL;
	}
	ks_bpf_only(skel->obj, keep);
	if (ks_bpf_load(r, skel->obj))
		return -1;
	/* end before start: an item seen starting is then seen ending */
	for (int i = 1; i >= 0; i--)
		if (ks_bpf_attach(r, keep[i]))
			return -1;
	if (keep[2] && ks_bpf_attach(r, keep[2]))
		return -1;
	return 0;
}

/* Read a map of uint64_t keys into a sorted array of (key, value). */
static void *read_map(struct bpf_map *map, size_t vsz, size_t esz,
		      size_t *n)
{
	uint64_t *keys;
	char *vals, *out;

	*n = 0;
	if (ks_map_dump(bpf_map__fd(map), sizeof(uint64_t), vsz,
			(void **)&keys, (void **)&vals, n))
		return NULL;
	out = calloc(*n ? *n : 1, esz);
	for (size_t i = 0; out && i < *n; i++) {
		memcpy(out + i * esz, &keys[i], sizeof(uint64_t));
		/* the value follows the key, 8-byte aligned in both structs */
		memcpy(out + i * esz + sizeof(uint64_t), vals + i * vsz, vsz);
	}
	free(keys);
	free(vals);
	if (!out)
		*n = 0;
	else
		qsort(out, *n, esz, key_cmp);
	return out;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct workq_pair_key *x = a, *y = b;

	if (x->func != y->func)
		return x->func < y->func ? -1 : 1;
	return x->wq < y->wq ? -1 : x->wq > y->wq;
}

/* the pairs map, sorted by key */
static struct pent *read_pairs(struct bpf_map *map, size_t *n)
{
	struct workq_pair_key *keys;
	struct workq_stats *vals;
	struct pent *out;

	*n = 0;
	if (ks_map_dump(bpf_map__fd(map), sizeof(*keys), sizeof(*vals),
			(void **)&keys, (void **)&vals, n))
		return NULL;
	out = calloc(*n ? *n : 1, sizeof(*out));
	for (size_t i = 0; out && i < *n; i++) {
		out[i].key = keys[i];
		out[i].v = vals[i];
	}
	free(keys);
	free(vals);
	if (!out)
		*n = 0;
	else
		qsort(out, *n, sizeof(*out), pair_cmp);
	return out;
}

static void sub_stats(struct ustats *d, const struct workq_stats *a,
		      const struct workq_stats *b)
{
	d->count = a->count - (b ? b->count : 0);
	d->total_ns = a->total_ns - (b ? b->total_ns : 0);
	for (int i = 0; i < KS_HIST_SLOTS; i++)
		d->hist[i] = a->hist[i] - (b ? b->hist[i] : 0);
}

static struct row *find_row(struct row *rows, size_t n, uint64_t key)
{
	return bsearch(&key, rows, n, sizeof(*rows), key_cmp);
}

/*
 * Maxima of the finished generation: bump the generation the BPF side
 * writes, then take (and delete) every entry of an older one.  An update
 * that raced with the bump lands in the next report, it is not lost.
 */
static void collect_maxes(struct workq_state *st, struct row *frows,
			  size_t nf, struct row *wrows, size_t nw)
{
	int fd = bpf_map__fd(st->skel->maps.maxes);
	unsigned int now = ++st->skel->bss->gen;
	struct workq_max_key *keys;
	uint64_t *vals;
	size_t n;

	if (ks_map_dump(fd, sizeof(*keys), sizeof(*vals), (void **)&keys,
			(void **)&vals, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		bool wq = keys[i].kind >= WORKQ_MAX_WQ_EXEC;
		bool queue = keys[i].kind == WORKQ_MAX_FUNC_QUEUE ||
			     keys[i].kind == WORKQ_MAX_WQ_QUEUE;
		struct row *r;
		uint64_t *m;

		if (keys[i].gen == now)
			continue;
		bpf_map_delete_elem(fd, &keys[i]);
		r = wq ? find_row(wrows, nw, keys[i].id) :
			 find_row(frows, nf, keys[i].id);
		if (!r)
			continue;
		m = queue ? &r->queue_max : &r->exec_max;
		if (vals[i] > *m)
			*m = vals[i];
	}
	free(keys);
	free(vals);
}

/* this interval's rows from cur - prev, sorted by key; NULL on failure */
static struct row *func_rows(struct workq_state *st, size_t *n)
{
	const struct fent *fcur = st->fcur, *fprev = st->fprev;
	size_t nfcur = st->nfcur, nfprev = st->nfprev;
	struct row *rows = calloc(nfcur ? nfcur : 1, sizeof(*rows));

	*n = 0;
	for (size_t i = 0; rows && i < nfcur; i++) {
		const struct fent *p = nfprev ?
			bsearch(&fcur[i], fprev, nfprev, sizeof(*fprev),
				key_cmp) : NULL;
		struct row *w = &rows[*n];

		w->key = fcur[i].key;
		sub_stats(&w->exec, &fcur[i].v.exec, p ? &p->v.exec : NULL);
		sub_stats(&w->queue, &fcur[i].v.queue, p ? &p->v.queue : NULL);
		(*n)++;
	}
	return rows;
}

static struct row *wq_rows(struct workq_state *st, size_t *n)
{
	const struct went *wcur = st->wcur, *wprev = st->wprev;
	size_t nwcur = st->nwcur, nwprev = st->nwprev;
	struct row *rows = calloc(nwcur ? nwcur : 1, sizeof(*rows));

	*n = 0;
	for (size_t i = 0; rows && i < nwcur; i++) {
		const struct went *p = nwprev ?
			bsearch(&wcur[i], wprev, nwprev, sizeof(*wprev),
				key_cmp) : NULL;
		struct row *w = &rows[*n];

		w->key = wcur[i].key;
		w->wq_name = wcur[i].v.name;
		sub_stats(&w->exec, &wcur[i].v.v.exec, p ? &p->v.v.exec : NULL);
		sub_stats(&w->queue, &wcur[i].v.v.queue,
			  p ? &p->v.v.queue : NULL);
		(*n)++;
	}
	return rows;
}

static int by_total(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->exec.total_ns != y->exec.total_ns)
		return x->exec.total_ns < y->exec.total_ns ? 1 : -1;
	if (x->queue.total_ns != y->queue.total_ns)
		return x->queue.total_ns < y->queue.total_ns ? 1 : -1;
	return key_cmp(&x->key, &y->key);
}

/* drop rows with nothing in this interval, then sort for display */
static size_t active_sorted(struct row *rows, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (rows[i].exec.count || rows[i].queue.count)
			rows[m++] = rows[i];
	qsort(rows, m, sizeof(*rows), by_total);
	return m;
}

enum { C_NAME, C_COUNT, C_TOTAL, C_AVG, C_MAX, C_HIST, C_QCOUNT, C_QTOTAL,
       C_QAVG, C_QMAX, C_QHIST, C_NCOLS };

/* times in microseconds with three decimals in JSON, one in text */
#define US_COL(k, h, extra)						\
	{ k, h, KS_CT_F64, 10, .dec = 1, .jdec = 3, .unit = KS_UNIT_US,	\
	  extra }

#define WORKQ_COLS(key, head)						\
	[C_NAME] = { key, head, KS_CT_STR, -36, .flags = KS_CF_KEY },	\
	[C_COUNT] = { "count", "COUNT", KS_CT_U64, 9,			\
		      .unit = KS_UNIT_COUNT, .flags = KS_CF_COUNT },	\
	[C_TOTAL] = US_COL("total_us", "TOTAL_us", .flags = KS_CF_WEIGHT), \
	[C_AVG] = US_COL("avg_us", "AVG_us", .flags = 0),		\
	[C_MAX] = US_COL("max_us", "MAX_us", .flags = 0),		\
	[C_HIST] = { "hist", NULL, KS_CT_HIST, 0, .unit = KS_UNIT_US,	\
		     .flags = KS_CF_TEXT_HIST, .hist_unit = "run usecs" },	\
	[C_QCOUNT] = { "queue.count", "Q_COUNT", KS_CT_U64, 9,		\
		       .unit = KS_UNIT_COUNT },				\
	[C_QTOTAL] = US_COL("queue.total_us", NULL, .flags = 0),	\
	[C_QAVG] = US_COL("queue.avg_us", "Q_AVG_us", .flags = 0),	\
	[C_QMAX] = US_COL("queue.max_us", "Q_MAX_us", .flags = 0),	\
	[C_QHIST] = { "queue.hist", NULL, KS_CT_HIST, 0,		\
		      .unit = KS_UNIT_US, .flags = KS_CF_TEXT_HIST,	\
		      .hist_unit = "queued usecs" }

static const struct ks_col func_cols[] = { WORKQ_COLS("function",
						      "FUNCTION") };
/* no histograms under workqueue rows: the functions have them */
static const struct ks_col wq_cols[] = { WORKQ_COLS("workqueue",
						    "WORKQUEUE") };

/* "refresh_vm_stats", "func+0x10 [mod]", or the address */
static const char *func_name(uint64_t addr, char *buf, size_t len)
{
	const struct ks_ksym *s = ks_ksyms_lookup(ks_kernel_syms(), addr);

	if (!s || addr != s->addr)
		return ks_ksyms_fmt(ks_kernel_syms(), addr, buf, len);
	if (s->module)
		snprintf(buf, len, "%s [%s]", s->name, s->module);
	else
		snprintf(buf, len, "%s", s->name);
	return buf;
}

static void stats_cells(struct ks_table *t, long row, int c0,
			const struct ustats *s, uint64_t max_ns)
{
	ks_cell_u64(t, row, c0 + C_COUNT - C_COUNT, s->count);
	ks_cell_f64(t, row, c0 + C_TOTAL - C_COUNT, s->total_ns / 1e3);
	ks_cell_f64(t, row, c0 + C_AVG - C_COUNT,
		    s->count ? s->total_ns / 1e3 / s->count : 0);
	ks_cell_f64(t, row, c0 + C_MAX - C_COUNT, max_ns / 1e3);
	ks_cell_hist(t, row, c0 + C_HIST - C_COUNT, s->hist);
}

/* hide the queue columns without -Q; histograms in text only for the
 * functions table */
static struct ks_col *workq_cols(struct workq_state *st, bool funcs)
{
	struct ks_col *c = st->cols[funcs];

	memcpy(c, funcs ? func_cols : wq_cols, sizeof(func_cols));
	for (int i = C_QCOUNT; !st->opt_queue && i < C_NCOLS; i++)
		c[i].flags |= KS_CF_NOTEXT | KS_CF_NOJSON;
	if (!funcs) {
		c[C_HIST].flags &= ~KS_CF_TEXT_HIST;
		c[C_QHIST].flags &= ~KS_CF_TEXT_HIST;
	}
	return c;
}

static void add_rows(struct ks_table *t, const struct row *rows, size_t n,
		     bool funcs)
{
	char name[256];

	for (size_t i = 0; i < n; i++) {
		long row = ks_row_add(t);

		if (row < 0)
			break;
		ks_cell_str(t, row, C_NAME, funcs ?
			    func_name(rows[i].key, name, sizeof(name)) :
			    rows[i].wq_name);
		stats_cells(t, row, C_COUNT, &rows[i].exec, rows[i].exec_max);
		stats_cells(t, row, C_QCOUNT, &rows[i].queue,
			    rows[i].queue_max);
	}
}

enum { P_FUNC, P_WQ, P_COUNT, P_TOTAL, P_HIST, P_NCOLS };

/* JSON only: the text tables already show functions and workqueues */
static const struct ks_col pair_cols[] = {
	[P_FUNC] = { "function", NULL, KS_CT_STR, 0, .flags = KS_CF_KEY },
	[P_WQ] = { "workqueue", NULL, KS_CT_STR, 0, .flags = KS_CF_KEY },
	[P_COUNT] = { "queue.count", NULL, KS_CT_U64, 0,
		      .unit = KS_UNIT_COUNT, .flags = KS_CF_COUNT },
	[P_TOTAL] = { "queue.total_us", NULL, KS_CT_F64, 0, .jdec = 3,
		      .unit = KS_UNIT_US, .flags = KS_CF_WEIGHT },
	[P_HIST] = { "queue.hist", NULL, KS_CT_HIST, 0, .unit = KS_UNIT_US },
};

struct prow {
	const struct pent *cur;
	struct ustats q;
};

static int by_pair_total(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;

	if (x->q.total_ns != y->q.total_ns)
		return x->q.total_ns < y->q.total_ns ? 1 : -1;
	return pair_cmp(&x->cur->key, &y->cur->key);
}

/* this interval's queueing latency per (function, workqueue) */
static void add_pairs(struct workq_state *st, struct ks_report *rep)
{
	struct ks_table *t;
	struct prow *rows;
	size_t n = 0;
	char name[256];

	free(st->pcur);
	st->pcur = read_pairs(st->skel->maps.pairs, &st->npcur);
	rows = calloc(st->npcur ? st->npcur : 1, sizeof(*rows));
	t = ks_table_add(rep, "pairs", pair_cols, P_NCOLS);
	if (!rows || !t) {
		free(rows);
		return;
	}
	t->what = "pairs";
	for (size_t i = 0; i < st->npcur; i++) {
		const struct pent *p = st->npprev ?
			bsearch(&st->pcur[i], st->pprev, st->npprev,
				sizeof(*st->pprev), pair_cmp) : NULL;

		rows[n].cur = &st->pcur[i];
		sub_stats(&rows[n].q, &st->pcur[i].v, p ? &p->v : NULL);
		if (rows[n].q.count)
			n++;
	}
	qsort(rows, n, sizeof(*rows), by_pair_total);
	for (size_t i = 0; i < n; i++) {
		uint64_t wq = rows[i].cur->key.wq;
		const struct went *w = bsearch(&wq, st->wcur, st->nwcur,
					       sizeof(*st->wcur), key_cmp);
		long row = ks_row_add(t);

		if (row < 0)
			break;
		ks_cell_str(t, row, P_FUNC, func_name(rows[i].cur->key.func,
						      name, sizeof(name)));
		if (w) {
			ks_cell_str(t, row, P_WQ, w->v.name);
		} else {
			snprintf(name, sizeof(name), "0x%llx",
				 rows[i].cur->key.wq);
			ks_cell_str(t, row, P_WQ, name);
		}
		ks_cell_u64(t, row, P_COUNT, rows[i].q.count);
		ks_cell_f64(t, row, P_TOTAL, rows[i].q.total_ns / 1e3);
		ks_cell_hist(t, row, P_HIST, rows[i].q.hist);
	}
	free(rows);
}

static void workq_collect(struct ks_run *r, struct ks_report *rep)
{
	struct workq_state *st = r->tool_state;
	bool queue = st->opt_queue;
	struct row *frows, *wrows = NULL;
	struct ks_table *ft, *wt = NULL;
	size_t nf = 0, nw = 0;
	uint64_t unmatched = 0;

	free(st->fcur);
	st->fcur = read_map(st->skel->maps.funcs, sizeof(struct workq_val),
			    sizeof(struct fent), &st->nfcur);
	if (queue) {
		free(st->wcur);
		st->wcur = read_map(st->skel->maps.wqs,
				    sizeof(struct workq_wq_val),
				    sizeof(struct went), &st->nwcur);
	}
	frows = func_rows(st, &nf);
	if (queue)
		wrows = wq_rows(st, &nw);
	if (!frows || (queue && !wrows))
		goto out;
	collect_maxes(st, frows, nf, wrows, nw);
	nf = active_sorted(frows, nf);
	nw = queue ? active_sorted(wrows, nw) : 0;
	if (queue) {
		uint64_t c[WORKQ_CNT_MAX];

		if (!ks_percpu_sum(bpf_map__fd(st->skel->maps.counters),
				   WORKQ_CNT_MAX, c))
			st->unmatched_cur = c[WORKQ_CNT_QUEUE_UNMATCHED];
		unmatched = st->unmatched_cur - st->unmatched_prev;
	}
	ft = ks_table_add(rep, "entries", workq_cols(st, true),
			  C_NCOLS);
	if (!ft)
		goto out;
	ft->what = "functions";
	add_rows(ft, frows, nf, true);
	if (st->opt_wq)
		ks_report_str(rep, "workqueue_filter", st->opt_wq);
	if (queue) {
		wt = ks_table_add(rep, "workqueues",
				  workq_cols(st, false), C_NCOLS);
		if (!wt)
			goto out;
		wt->what = "workqueues";
		add_rows(wt, wrows, nw, false);
		/* items already queued at attach, and flush barriers
		 * (inserted without queue_work) */
		ks_report_u64(rep, "queue_unmatched", unmatched);
		if (unmatched)
			ks_table_line(wt, true, "(%" PRIu64 " executions had "
				      "no queue event: queued before tracing "
				      "began, or flush barriers, which are "
				      "not queued with queue_work)",
				      unmatched);
		add_pairs(st, rep);
	}
out:
	free(frows);
	free(wrows);
}

static void workq_reset(struct ks_run *r)
{
	struct workq_state *st = r->tool_state;
	struct fent *f = st->fprev;
	struct went *w = st->wprev;

	struct pent *p = st->pprev;

	st->pprev = st->pcur;
	st->npprev = st->npcur;
	st->pcur = p;
	st->npcur = 0;
	st->unmatched_prev = st->unmatched_cur;
	st->fprev = st->fcur;
	st->nfprev = st->nfcur;
	st->fcur = f;
	st->nfcur = 0;
	st->wprev = st->wcur;
	st->nwprev = st->nwcur;
	st->wcur = w;
	st->nwcur = 0;
}

static void workq_stop(struct ks_run *r)
{
	struct workq_state *st = r->tool_state;

	workq_bpf__destroy(st->skel);
	st->skel = NULL;
	free(st->fprev);
	free(st->fcur);
	free(st->wprev);
	free(st->wcur);
	free(st->pprev);
	free(st->pcur);
	st->pprev = st->pcur = NULL;
	st->npprev = st->npcur = 0;
	st->fprev = st->fcur = NULL;
	st->wprev = st->wcur = NULL;
	st->nfprev = st->nfcur = st->nwprev = st->nwcur = 0;
}

static int workq_parse_opt(struct ks_run *r, int c, const char *arg)
{
	struct workq_state *st = r->tool_state;

	switch (c) {
	case 'Q':
		st->opt_queue = true;
		return 0;
	case 'w':
		if (!*arg || strlen(arg) >= WORKQ_NAME_LEN)
			return ks_usage_error("workqueue name '%s' must be 1-%d "
					      "bytes", arg, WORKQ_NAME_LEN - 1);
		st->opt_wq = arg;
		return 0;
	}
	return ks_usage_error("unknown option");
}

static const struct option workq_long[] = {
	{ "queue", no_argument, NULL, 'Q' },
	{ "workqueue", required_argument, NULL, 'w' },
	{ 0 },
};

const struct ks_tool ks_tool_workq = {
	.name = "workq",
	.summary = "Work item run time per work function (count, total, max, "
		   "log2 histogram); -Q adds queueing latency.",
	.args_help =
"  -Q, --queue            also time queue_work -> execution, per function\n"
"                         and per workqueue\n"
"  -w, --workqueue NAME   only items run by workqueue NAME (e.g. events)\n"
"  Filters (-p, -t, -c, --cgroup) select the kworker that runs an item:\n"
"  work runs in kworker threads, not in the task that queued it.\n",
	.examples =
"  kscope workq -d 10              run times over 10 seconds\n"
"  kscope workq -Q -r 10 5         top 10 functions, with queue latency,\n"
"                                  every 5 seconds\n"
"  kscope workq -w events_unbound  the events_unbound workqueue only\n",
	.overhead =
"  Two programs per work item (start, end): a hash update and lookup,\n"
"  three atomic adds and a maximum, about 0.4 us per program run\n"
"  (bench/, 2-core VM, 6.18; bpftrace doing the same ~0.45 us).  -Q adds\n"
"  a program per queue_work and the workqueue lookup: ~0.7 us per run,\n"
"  three runs per item.  Work items are rarely more than a few thousand\n"
"  per second.\n",
	.macro = { 104, 100, 100 },
	.tracing_what = "work items (workqueue tracepoints)",
	.long_opts = workq_long,
	.short_opts = "Qw:",
	.parse_opt = workq_parse_opt,
	.probe = workq_probe,
	.start = workq_start,
	.collect = workq_collect,
	.reset = workq_reset,
	.stop = workq_stop,
	.state_size = sizeof(struct workq_state),
};
