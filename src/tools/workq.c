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

static struct workq_bpf *skel;
static bool opt_queue;
static const char *opt_wq;

/* one map entry: an address key and its cumulative counters */
struct fent {
	uint64_t key;
	struct workq_val v;
};

struct went {
	uint64_t key;
	struct workq_wq_val v;
};

/* previous and current reads of funcs and wqs, sorted by key */
static struct fent *fprev, *fcur;
static size_t nfprev, nfcur;
static struct went *wprev, *wcur;
static size_t nwprev, nwcur;
static uint64_t unmatched_prev, unmatched_cur;

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

static void workq_probe(struct ks_probe *p)
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
	struct bpf_program *keep[4] = { NULL };

	skel = workq_bpf__open();
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
static void collect_maxes(struct row *frows, size_t nf, struct row *wrows,
			  size_t nw)
{
	int fd = bpf_map__fd(skel->maps.maxes);
	unsigned int now = ++skel->bss->gen;
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
static struct row *func_rows(size_t *n)
{
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

static struct row *wq_rows(size_t *n)
{
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

static void stats_json(struct ks_json *j, const struct ustats *s,
		       uint64_t max_ns)
{
	ks_json_ku64(j, "count", s->count);
	ks_json_kdouble(j, "total_us", s->total_ns / 1e3, 3);
	ks_json_kdouble(j, "max_us", max_ns / 1e3, 3);
	ks_json_kdouble(j, "avg_us", s->count ?
			s->total_ns / 1e3 / s->count : 0, 3);
	ks_hist_json(j, s->hist, KS_HIST_SLOTS);
}

static void row_json(struct ks_json *j, const char *key, const char *name,
		     const struct row *w)
{
	ks_json_obj_begin(j);
	ks_json_kstr(j, key, name);
	stats_json(j, &w->exec, w->exec_max);
	if (opt_queue) {
		ks_json_key(j, "queue");
		ks_json_obj_begin(j);
		stats_json(j, &w->queue, w->queue_max);
		ks_json_obj_end(j);
	}
	ks_json_obj_end(j);
}

static void row_text(struct ks_run *r, const char *name, const struct row *w)
{
	const struct ustats *e = &w->exec, *q = &w->queue;

	fprintf(r->out, "%-36s %9" PRIu64 " %12.1f %9.1f %10.1f", name,
		e->count, e->total_ns / 1e3,
		e->count ? e->total_ns / 1e3 / e->count : 0,
		w->exec_max / 1e3);
	if (opt_queue)
		fprintf(r->out, " %9" PRIu64 " %9.1f %10.1f", q->count,
			q->count ? q->total_ns / 1e3 / q->count : 0,
			w->queue_max / 1e3);
	fputc('\n', r->out);
}

static void head_text(struct ks_run *r, const char *what)
{
	fprintf(r->out, "%-36s %9s %12s %9s %10s", what, "COUNT", "TOTAL_us",
		"AVG_us", "MAX_us");
	if (opt_queue)
		fprintf(r->out, " %9s %9s %10s", "Q_COUNT", "Q_AVG_us",
			"Q_MAX_us");
	fputc('\n', r->out);
}

static void workq_print(struct ks_run *r, struct ks_report *rep)
{
	struct row *frows, *wrows = NULL;
	size_t nf = 0, nw = 0, fshown, wshown;
	uint64_t unmatched = 0;
	char name[256];

	free(fcur);
	fcur = read_map(skel->maps.funcs, sizeof(struct workq_val),
			sizeof(struct fent), &nfcur);
	if (opt_queue) {
		free(wcur);
		wcur = read_map(skel->maps.wqs, sizeof(struct workq_wq_val),
				sizeof(struct went), &nwcur);
	}
	frows = func_rows(&nf);
	if (opt_queue)
		wrows = wq_rows(&nw);
	if (!frows || (opt_queue && !wrows))
		goto out;
	collect_maxes(frows, nf, wrows, nw);
	nf = active_sorted(frows, nf);
	nw = opt_queue ? active_sorted(wrows, nw) : 0;
	fshown = r->o.top && (size_t)r->o.top < nf ? (size_t)r->o.top : nf;
	wshown = r->o.top && (size_t)r->o.top < nw ? (size_t)r->o.top : nw;
	if (opt_queue) {
		int ncpu = libbpf_num_possible_cpus();
		uint64_t *c = calloc(ncpu > 0 ? ncpu : 1, sizeof(*c));
		uint32_t k = WORKQ_CNT_QUEUE_UNMATCHED;

		if (c && ncpu > 0 && !bpf_map_lookup_elem(
			bpf_map__fd(skel->maps.counters), &k, c)) {
			unmatched_cur = 0;
			for (int i = 0; i < ncpu; i++)
				unmatched_cur += c[i];
		}
		free(c);
		unmatched = unmatched_cur - unmatched_prev;
	}

	if (r->o.json) {
		struct ks_json *j = &rep->j;

		ks_report_entries_begin(rep);
		for (size_t i = 0; i < fshown; i++)
			row_json(j, "function", func_name(frows[i].key, name,
							  sizeof(name)),
				 &frows[i]);
		ks_report_entries_end(rep);
		if (opt_wq)
			ks_json_kstr(j, "workqueue_filter", opt_wq);
		if (opt_queue) {
			ks_json_key(j, "workqueues");
			ks_json_arr_begin(j);
			for (size_t i = 0; i < wshown; i++)
				row_json(j, "workqueue", wrows[i].wq_name,
					 &wrows[i]);
			ks_json_arr_end(j);
			/* items already queued at attach, and flush
			 * barriers (inserted without queue_work) */
			ks_json_ku64(j, "queue_unmatched", unmatched);
		}
		goto out;
	}
	head_text(r, "FUNCTION");
	for (size_t i = 0; i < fshown; i++) {
		row_text(r, func_name(frows[i].key, name, sizeof(name)),
			 &frows[i]);
		if (r->in_report)
			continue;	/* one page: no histograms */
		ks_hist_print(r->out, frows[i].exec.hist, KS_HIST_SLOTS,
			      "run usecs", "    ");
		if (opt_queue)
			ks_hist_print(r->out, frows[i].queue.hist,
				      KS_HIST_SLOTS, "queued usecs",
				      "    ");
	}
	if (fshown < nf)
		fprintf(r->out, "... %zu more functions (-r to change)\n",
			nf - fshown);
	if (opt_queue) {
		fputc('\n', r->out);
		head_text(r, "WORKQUEUE");
		for (size_t i = 0; i < wshown; i++)
			row_text(r, wrows[i].wq_name, &wrows[i]);
		if (wshown < nw)
			fprintf(r->out, "... %zu more workqueues\n", nw - wshown);
		if (unmatched)
			fprintf(r->out, "(%" PRIu64 " executions had no queue "
				"event: queued before tracing began, or flush "
				"barriers, which are not queued with "
				"queue_work)\n", unmatched);
	}
out:
	free(frows);
	free(wrows);
}

static void workq_reset(struct ks_run *r)
{
	struct fent *f = fprev;
	struct went *w = wprev;

	(void)r;
	unmatched_prev = unmatched_cur;
	fprev = fcur;
	nfprev = nfcur;
	fcur = f;
	nfcur = 0;
	wprev = wcur;
	nwprev = nwcur;
	wcur = w;
	nwcur = 0;
}

static void workq_stop(struct ks_run *r)
{
	(void)r;
	workq_bpf__destroy(skel);
	skel = NULL;
	free(fprev);
	free(fcur);
	free(wprev);
	free(wcur);
	fprev = fcur = NULL;
	wprev = wcur = NULL;
	nfprev = nfcur = nwprev = nwcur = 0;
	unmatched_prev = unmatched_cur = 0;
}

static int workq_parse_opt(struct ks_run *r, int c, const char *arg)
{
	(void)r;
	switch (c) {
	case 'Q':
		opt_queue = true;
		return 0;
	case 'w':
		if (!*arg || strlen(arg) >= WORKQ_NAME_LEN)
			return ks_usage_error("workqueue name '%s' must be 1-%d "
					      "bytes", arg, WORKQ_NAME_LEN - 1);
		opt_wq = arg;
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
	.tracing_what = "work items (workqueue tracepoints)",
	.long_opts = workq_long,
	.short_opts = "Qw:",
	.parse_opt = workq_parse_opt,
	.probe = workq_probe,
	.start = workq_start,
	.print = workq_print,
	.reset = workq_reset,
	.stop = workq_stop,
};
