// SPDX-License-Identifier: GPL-2.0
/* kscope slabratetop: which slab caches allocate fastest right now */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "slabratetop.h"
#include "slabratetop.skel.h"

enum sort_key { SORT_ALLOCS, SORT_BYTES };

/*
 * The allocation functions, newest name first: the _noprof names came
 * with allocation profiling (commit 7bd230a26648, 6.10).  One BPF body
 * per kind, retargeted to whichever name the kernel has.
 */
static const char *const fn_alloc[] = {
	"kmem_cache_alloc_noprof", "kmem_cache_alloc", NULL };
static const char *const fn_lru[] = {
	"kmem_cache_alloc_lru_noprof", "kmem_cache_alloc_lru", NULL };
static const char *const fn_node[] = {
	"kmem_cache_alloc_node_noprof", "kmem_cache_alloc_node", NULL };
static const char *const fn_bulk[] = {
	"kmem_cache_alloc_bulk_noprof", "kmem_cache_alloc_bulk", NULL };

/* One map entry after a read: keys are zero-padded to the longest key. */
struct ent {
	unsigned char key[SLAB_NAME_LEN];
	struct slab_val v;
};

struct slab_state {
	struct slabratetop_bpf *skel;
	enum sort_key sort_by;
	/* cumulative counters as of the previous report and now, sorted
	 * by key */
	struct ent *prev, *cur;
	size_t nprev, ncur;
};

static int ent_cmp(const void *a, const void *b)
{
	return memcmp(((const struct ent *)a)->key,
		      ((const struct ent *)b)->key, SLAB_NAME_LEN);
}

static bool tp_has_name_field(char *why, size_t len)
{
	const char *tfs = ks_tracefs();
	char path[256], line[512];
	bool found = false;
	FILE *f;

	if (!tfs) {
		snprintf(why, len, "tracefs is not mounted");
		return false;
	}
	snprintf(path, sizeof(path), "%s/events/kmem/kmem_cache_alloc/format",
		 tfs);
	f = fopen(path, "re");
	if (!f) {
		snprintf(why, len, "cannot read the kmem_cache_alloc "
			 "tracepoint's format: %s", strerror(errno));
		return false;
	}
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "char[] name;") != NULL;
	fclose(f);
	if (!found)
		snprintf(why, len, "the kmem_cache_alloc tracepoint has no cache "
			 "name field on this kernel (added in 2025)");
	return found;
}

static void slab_probe(const struct ks_run *r, struct ks_probe *p)
{
	const char *alloc = ks_first_kfunc(fn_alloc);
	struct ks_mode_avail *m;
	int idx = ks_raw_tp_arg_index("kmem_cache_alloc", "kmem_cache");

	(void)r;
	m = &p->m[KS_MODE_FENTRY];
	if (!alloc)
		ks_mode_set(m, false, NULL, "no kmem_cache_alloc function in "
			    "the kernel's BTF");
	else
		ks_mode_set(m, ks_can_fentry(alloc, m->why, sizeof(m->why)),
			    "successful kmem_cache_alloc*() calls seen at "
			    "fexit, bulk allocations included", m->why);

	m = &p->m[KS_MODE_KPROBE];
	if (!alloc)
		ks_mode_set(m, false, NULL, "no kmem_cache_alloc function in "
			    "this kernel");
	else
		ks_mode_set(m, ks_can_kprobe(alloc, m->why, sizeof(m->why)),
			    "kmem_cache_alloc*() calls, failed attempts "
			    "included; bulk by objects returned", m->why);

	m = &p->m[KS_MODE_TP_BTF];
	if (idx != 2)
		ks_mode_set(m, false, NULL, "kmem_cache_alloc tracepoint has no "
			    "struct kmem_cache * third argument on this kernel");
	else
		ks_mode_set(m, ks_can_tp_btf("kmem_cache_alloc", m->why,
					     sizeof(m->why)),
			    "successful allocations at the kmem_cache_alloc "
			    "tracepoint; bulk allocations not seen", m->why);

	m = &p->m[KS_MODE_RAW_TP];
	if (!ks_can_raw_tp("kmem_cache_alloc", m->why, sizeof(m->why)))
		ks_mode_set(m, false, NULL, m->why);
	else if (idx != 2)
		ks_mode_set(m, false, NULL, "kmem_cache_alloc raw tracepoint "
			    "has no struct kmem_cache * third argument on this "
			    "kernel");
	else
		ks_mode_set(m, true, "successful allocations at the "
			    "kmem_cache_alloc tracepoint; bulk allocations not "
			    "seen", NULL);

	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, ks_can_tracepoint("kmem", "kmem_cache_alloc", m->why,
					 sizeof(m->why)) &&
		       tp_has_name_field(m->why, sizeof(m->why)),
		    "successful allocations at the kmem_cache_alloc "
		    "tracepoint, by cache name; bulk allocations not seen",
		    m->why);
}

/* retarget prog to the first existing name, or leave it out */
static struct bpf_program *target(struct bpf_program *p,
				  const char *const *names, const char **fn)
{
	*fn = ks_first_kfunc(names);
	if (!*fn)
		return NULL;
	if (bpf_program__set_attach_target(p, 0, *fn))
		return NULL;
	return p;
}

static int slab_start(struct ks_run *r)
{
	struct bpf_program *keep[8] = { NULL };
	const char *fns[8] = { NULL };
	bool kret[8] = { false };
	int n = 0;
	struct slab_state *st = r->tool_state;
	struct slabratetop_bpf *skel;

	skel = st->skel = slabratetop_bpf__open();
	if (!skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return -1;
	}
	if (ks_bpf_prepare(r, skel->obj))
		return -1;
	/* only the map the mode uses gets real room */
	bpf_map__set_max_entries(skel->maps.caches,
				 r->mode == KS_MODE_TRACEPOINT ? 1 :
				 r->o.max_entries);
	bpf_map__set_max_entries(skel->maps.names,
				 r->mode == KS_MODE_TRACEPOINT ?
				 r->o.max_entries : 1);
	bpf_map__set_max_entries(skel->maps.bulk_start,
				 r->mode == KS_MODE_KPROBE ?
				 r->o.max_entries : 1);

	if (r->mode == KS_MODE_FENTRY) {
		struct bpf_program *p[] = {
			skel->progs.alloc_fexit, skel->progs.alloc_lru_fexit,
			skel->progs.alloc_node_fexit,
			skel->progs.alloc_bulk_fexit,
		};
		const char *const *names[] = { fn_alloc, fn_lru, fn_node,
					       fn_bulk };

		/* variants a kernel lacks are simply not traced */
		for (int i = 0; i < 4; i++)
			if (target(p[i], names[i], &fns[n]))
				keep[n++] = p[i];
	} else if (r->mode == KS_MODE_KPROBE) {
		struct bpf_program *p[] = {
			skel->progs.alloc_kprobe, skel->progs.alloc_lru_kprobe,
			skel->progs.alloc_node_kprobe,
			skel->progs.alloc_bulk_kprobe,
			skel->progs.alloc_bulk_kretprobe,
		};
		const char *const *names[] = { fn_alloc, fn_lru, fn_node,
					       fn_bulk, fn_bulk };

		for (int i = 0; i < 5; i++) {
			fns[n] = ks_first_kfunc(names[i]);
			kret[n] = i == 4;
			if (fns[n])
				keep[n++] = p[i];
		}
	} else if (r->mode == KS_MODE_TP_BTF) {
		keep[n++] = skel->progs.cache_alloc_btf;
	} else if (r->mode == KS_MODE_RAW_TP) {
		keep[n++] = skel->progs.cache_alloc_raw;
	} else {
		keep[n++] = skel->progs.cache_alloc_tp;
	}
	if (!n) {
		ks_err("no kmem_cache_alloc function to attach to");
		return -1;
	}
	ks_bpf_only(skel->obj, keep);
	if (ks_bpf_load(r, skel->obj))
		return -1;
	for (int i = 0; i < n; i++) {
		int err = r->mode == KS_MODE_KPROBE ?
			  ks_bpf_attach_kprobe(r, keep[i], fns[i], kret[i]) :
			  ks_bpf_attach(r, keep[i]);

		if (err)
			return -1;
	}
	return 0;
}

/* Read the active map into cur (sorted); false on failure. */
static bool read_counts(struct ks_run *r)
{
	struct slab_state *st = r->tool_state;
	bool by_name = r->mode == KS_MODE_TRACEPOINT;
	struct bpf_map *map = by_name ? st->skel->maps.names :
			      st->skel->maps.caches;
	size_t ksz = by_name ? sizeof(struct slab_name) : sizeof(uint64_t);
	unsigned char *keys;
	struct slab_val *vals;
	size_t n;

	if (ks_map_dump(bpf_map__fd(map), ksz, sizeof(*vals), (void **)&keys,
			(void **)&vals, &n))
		return false;
	free(st->cur);
	st->cur = calloc(n ? n : 1, sizeof(*st->cur));
	st->ncur = st->cur ? n : 0;
	for (size_t i = 0; i < st->ncur; i++) {
		memcpy(st->cur[i].key, keys + i * ksz, ksz);
		st->cur[i].v = vals[i];
	}
	free(keys);
	free(vals);
	if (!st->cur)
		return false;
	qsort(st->cur, st->ncur, sizeof(*st->cur), ent_cmp);
	return true;
}

struct row {
	char name[SLAB_NAME_LEN + 1];
	uint64_t allocs;
	uint64_t bytes;
};

static int row_by_name(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->name,
		      ((const struct row *)b)->name);
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;	/* descending */
}

static int row_sorted(const void *a, const void *b, void *arg)
{
	const struct row *x = a, *y = b;
	const enum sort_key *sort_by = arg;
	int c;

	if (*sort_by == SORT_BYTES)
		c = cmp_u64(x->bytes, y->bytes) ?: cmp_u64(x->allocs, y->allocs);
	else
		c = cmp_u64(x->allocs, y->allocs) ?: cmp_u64(x->bytes, y->bytes);
	return c ?: strcmp(x->name, y->name);
}

/*
 * This interval's rows: counters minus the previous read, merged by name
 * (distinct caches may share a name; merged caches report the name of the
 * cache they were merged into, as /proc/slabinfo does).
 */
static struct row *interval_rows(struct slab_state *st, size_t *nrows)
{
	const struct ent *cur = st->cur, *prev = st->prev;
	size_t ncur = st->ncur, nprev = st->nprev;
	struct row *rows = calloc(ncur ? ncur : 1, sizeof(*rows));
	size_t n = 0, m = 0;

	if (!rows)
		return NULL;
	for (size_t i = 0; i < ncur; i++) {
		const struct ent *e = &cur[i], *p;
		uint64_t allocs = e->v.allocs, bytes;

		bytes = e->v.size ? e->v.allocs * e->v.size : e->v.bytes;
		p = nprev ? bsearch(e, prev, nprev, sizeof(*prev), ent_cmp) :
			    NULL;
		if (p) {
			allocs -= p->v.allocs;
			bytes -= p->v.size ? p->v.allocs * p->v.size :
					     p->v.bytes;
		}
		if (!allocs)
			continue;
		memcpy(rows[n].name, e->v.name, SLAB_NAME_LEN);
		if (!rows[n].name[0])
			strcpy(rows[n].name, "?");
		rows[n].allocs = allocs;
		rows[n].bytes = bytes;
		n++;
	}
	qsort(rows, n, sizeof(*rows), row_by_name);
	for (size_t i = 0; i < n; i++) {
		if (m && !strcmp(rows[m - 1].name, rows[i].name)) {
			rows[m - 1].allocs += rows[i].allocs;
			rows[m - 1].bytes += rows[i].bytes;
			continue;
		}
		rows[m++] = rows[i];
	}
	qsort_r(rows, m, sizeof(*rows), row_sorted, &st->sort_by);
	*nrows = m;
	return rows;
}

static bool loadavg(double la[3], char *text, size_t len)
{
	FILE *f = fopen("/proc/loadavg", "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(text, len, f) &&
	     sscanf(text, "%lf %lf %lf", &la[0], &la[1], &la[2]) == 3;
	fclose(f);
	text[strcspn(text, "\n")] = '\0';
	return ok;
}

enum { C_CACHE, C_ALLOCS, C_BYTES };

static const struct ks_col slab_cols[] = {
	[C_CACHE] = { "cache", "CACHE", KS_CT_STR, -32, .flags = KS_CF_KEY },
	[C_ALLOCS] = { "allocs", "ALLOCS", KS_CT_U64, 12,
		       .unit = KS_UNIT_COUNT, .flags = KS_CF_COUNT },
	[C_BYTES] = { "bytes", "BYTES", KS_CT_U64, 14, .unit = KS_UNIT_BYTES,
		      .flags = KS_CF_WEIGHT },
};

static void slab_collect(struct ks_run *r, struct ks_report *rep)
{
	struct slab_state *st = r->tool_state;
	uint64_t tot_allocs = 0, tot_bytes = 0;
	struct ks_table *t;
	struct row *rows;
	size_t n = 0;
	double la[3] = { 0 };
	char latext[128] = "", b1[32];
	bool have_la;

	if (!read_counts(r))
		return;
	rows = interval_rows(st, &n);
	t = ks_table_add(rep, "entries", slab_cols,
			 sizeof(slab_cols) / sizeof(slab_cols[0]));
	if (!rows || !t) {
		free(rows);
		return;
	}
	t->what = "caches";
	have_la = loadavg(la, latext, sizeof(latext));
	/* the report header gave the time; top(1) adds load */
	if (!r->in_report && have_la) {
		ks_table_line(t, false, "loadavg: %s", latext);
		ks_table_line(t, false, "%s", "");
	}
	for (size_t i = 0; i < n; i++) {
		long row = ks_row_add(t);

		if (row < 0)
			break;
		ks_cell_str(t, row, C_CACHE, rows[i].name);
		ks_cell_u64(t, row, C_ALLOCS, rows[i].allocs);
		ks_cell_u64(t, row, C_BYTES, rows[i].bytes);
		tot_allocs += rows[i].allocs;
		tot_bytes += rows[i].bytes;
	}
	free(rows);
	ks_report_str(rep, "sort", st->sort_by == SORT_BYTES ? "bytes" :
		      "allocs");
	ks_report_u64(rep, "caches", n);
	ks_report_u64(rep, "total_allocs", tot_allocs);
	ks_report_u64(rep, "total_bytes", tot_bytes);
	if (have_la)
		ks_report_f64s(rep, "loadavg", la, 3, 2);
	ks_table_line(t, true, "Total: %" PRIu64 " allocations, %s, %zu "
		      "caches", tot_allocs, ks_fmt_bytes(tot_bytes, b1,
							sizeof(b1)), n);
}

/* The counters stay in the kernel; the next interval starts from here. */
static void slab_reset(struct ks_run *r)
{
	struct slab_state *st = r->tool_state;
	struct ent *t = st->prev;

	st->prev = st->cur;
	st->nprev = st->ncur;
	st->cur = t;
	st->ncur = 0;
}

static void slab_stop(struct ks_run *r)
{
	struct slab_state *st = r->tool_state;

	slabratetop_bpf__destroy(st->skel);
	st->skel = NULL;
	free(st->prev);
	free(st->cur);
	st->prev = st->cur = NULL;
	st->nprev = st->ncur = 0;
}

static int slab_parse_opt(struct ks_run *r, int c, const char *arg)
{
	struct slab_state *st = r->tool_state;
	enum sort_key *sort_by = &st->sort_by;

	switch (c) {
	case 's':
		if (!strcmp(arg, "allocs") || !strcmp(arg, "count"))
			*sort_by = SORT_ALLOCS;
		else if (!strcmp(arg, "bytes") || !strcmp(arg, "size"))
			*sort_by = SORT_BYTES;
		else
			return ks_usage_error("bad sort key '%s' (allocs or "
					      "bytes)", arg);
		return 0;
	case 'C':
		r->o.clear = false;
		return 0;
	}
	return ks_usage_error("unknown option");
}

static const struct option slab_long[] = {
	{ "sort", required_argument, NULL, 's' },
	{ "noclear", no_argument, NULL, 'C' },
	{ 0 },
};

const struct ks_tool ks_tool_slabratetop = {
	.name = "slabratetop",
	.summary = "Slab cache allocation rate: allocations and bytes per "
		   "cache name each interval, top-like.",
	.args_help =
"  -s, --sort KEY         sort by allocs (default) or bytes\n"
"  -C, --noclear          do not clear the screen between reports\n",
	.examples =
"  kscope slabratetop                 refresh every second, top caches\n"
"  kscope slabratetop -s bytes -r 10  10 caches allocating most bytes\n"
"  kscope slabratetop -C 5 3          three 5 s reports, no clearing\n"
"  kscope slabratetop -c nginx -j 1   nginx's slab allocations, JSON\n",
	.overhead =
"  Every kmem_cache_alloc runs a small program: one hash lookup and one\n"
"  atomic add, about 90 ns (raw_tp), 120 ns (tp_btf) or 220 ns\n"
"  (tracepoint, which hashes the name) per allocation as measured with\n"
"  kernel.bpf_stats_enabled on a busy 2-core 6.18 VM.  Reports read the\n"
"  map once per interval; nothing is sent per event.\n",
	.macro = { 92, 97, 89 },
	.tracing_what = "slab cache allocations (kmem_cache_alloc)",
	.long_opts = slab_long,
	.short_opts = "s:C",
	.parse_opt = slab_parse_opt,
	.default_interval = 1,
	.probe = slab_probe,
	.start = slab_start,
	.collect = slab_collect,
	.reset = slab_reset,
	.report_prefers_tp = true,
	.stop = slab_stop,
	.state_size = sizeof(struct slab_state),
};
