// SPDX-License-Identifier: GPL-2.0
/* kscope numamove: NUMA-misplaced page migrations and the time they take */
#include <glob.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "numamove.h"
#include "numamove.skel.h"

struct numamove_state {
	struct numamove_bpf *skel;
	/* cumulative counters at the previous report, and now */
	struct numamove_val prev, cur;
};

/* renamed by commit 73eab3ca481e; the body is the same idea */
static const char *const fn_misplaced[] = {
	"migrate_misplaced_folio", "migrate_misplaced_page", NULL };

static const char *const numamove_drops[] = { "unpaired", NULL };


/* /sys/devices/system/node/nodeN directories: the nodes with memory or
 * CPUs the kernel brought online */
static int numa_nodes(void)
{
	glob_t g;
	int n;

	if (glob("/sys/devices/system/node/node[0-9]*", GLOB_NOSORT, NULL,
		 &g))
		return 1;	/* no NUMA support in the kernel: one node */
	n = g.gl_pathc;
	globfree(&g);
	return n;
}

/* kernel.numa_balancing: 0 off, 1 on, 2 memory tiering, 3 both; -1 when
 * the kernel has no NUMA balancing at all */
static int numa_balancing(void)
{
	FILE *f = fopen("/proc/sys/kernel/numa_balancing", "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Why no migrations may be seen, or NULL. */
static const char *numa_note(int nodes, int balancing)
{
	if (nodes < 2)
		return "this machine has one NUMA node: no page can be "
		       "misplaced, so no NUMA migrations will happen";
	if (balancing == 0)
		return "NUMA balancing is off (kernel.numa_balancing = 0): no "
		       "misplaced migrations until it is turned on";
	if (balancing < 0)
		return "this kernel has no NUMA balancing "
		       "(CONFIG_NUMA_BALANCING): no misplaced migrations";
	return NULL;
}

static bool pages_tp(struct ks_mode_avail *m, int *nargs)
{
	*nargs = ks_raw_tp_nargs("mm_migrate_pages");
	if (!ks_can_raw_tp("mm_migrate_pages", m->why, sizeof(m->why)))
		return false;
	/* reason is the last argument: the 7th, or the 8th once
	 * large_folio_split was added */
	if (*nargs != 7 && *nargs != 8) {
		snprintf(m->why, sizeof(m->why), "mm_migrate_pages raw "
			 "tracepoint has %d arguments, expected 7 or 8", *nargs);
		return false;
	}
	return true;
}

static void numamove_probe(const struct ks_run *r, struct ks_probe *p)
{
	const char *fn = ks_first_kfunc(fn_misplaced);
	struct ks_mode_avail *m;
	int nargs;

	(void)r;
	m = &p->m[KS_MODE_FENTRY];
	if (!fn)
		ks_mode_set(m, false, NULL, "no migrate_misplaced_folio or "
			    "migrate_misplaced_page (CONFIG_NUMA_BALANCING "
			    "off?)");
	else
		ks_mode_set(m, ks_can_fentry(fn, m->why, sizeof(m->why)) &&
			       pages_tp(m, &nargs),
			    "every misplaced-folio migration, timed from entry "
			    "to return of migrate_misplaced_*()", m->why);

	m = &p->m[KS_MODE_KPROBE];
	if (!fn)
		ks_mode_set(m, false, NULL, "no migrate_misplaced_folio or "
			    "migrate_misplaced_page (CONFIG_NUMA_BALANCING "
			    "off?)");
	else
		ks_mode_set(m, ks_can_kprobe(fn, m->why, sizeof(m->why)) &&
			       pages_tp(m, &nargs),
			    "every misplaced-folio migration, timed from "
			    "kprobe to kretprobe on migrate_misplaced_*()",
			    m->why);

	/* the tracepoint family times migrate_pages() alone */
	m = &p->m[KS_MODE_TP_BTF];
	ks_mode_set(m, pages_tp(m, &nargs) &&
		       ks_can_tp_btf("mm_migrate_pages_start", m->why,
				     sizeof(m->why)),
		    "NUMA-reason migrate_pages() calls; time is spent inside "
		    "migrate_pages() only, isolation not included", m->why);

	m = &p->m[KS_MODE_RAW_TP];
	ks_mode_set(m, pages_tp(m, &nargs) &&
		       ks_can_raw_tp("mm_migrate_pages_start", m->why,
				     sizeof(m->why)),
		    "NUMA-reason migrate_pages() calls; time is spent inside "
		    "migrate_pages() only, isolation not included", m->why);

	m = &p->m[KS_MODE_TRACEPOINT];
	ks_mode_set(m, ks_can_tracepoint("migrate", "mm_migrate_pages", m->why,
					 sizeof(m->why)) &&
		       ks_can_tracepoint("migrate", "mm_migrate_pages_start",
					 m->why, sizeof(m->why)),
		    "NUMA-reason migrate_pages() calls; time is spent inside "
		    "migrate_pages() only, isolation not included", m->why);
}

static int numamove_start(struct ks_run *r)
{
	struct bpf_program *keep[4] = { NULL }, *pages_raw;
	const char *fn = ks_first_kfunc(fn_misplaced);
	int nargs = ks_raw_tp_nargs("mm_migrate_pages");
	struct numamove_state *st = r->tool_state;
	const char *note;
	struct numamove_bpf *skel;

	skel = st->skel = numamove_bpf__open();
	if (!skel) {
		ks_err("cannot open BPF object: %s", ks_libbpf_last());
		return -1;
	}
	if (ks_bpf_prepare(r, skel->obj))
		return -1;
	bpf_map__set_max_entries(skel->maps.start, r->o.max_entries);
	/* reason is the 7th argument before large_folio_split, the 8th since */
	pages_raw = nargs == 7 ? skel->progs.pages_raw_nosplit :
				 skel->progs.pages_raw;
	skel->rodata->tp_counts = r->mode != KS_MODE_FENTRY &&
				  r->mode != KS_MODE_KPROBE;

	switch (r->mode) {
	case KS_MODE_FENTRY:
		keep[0] = skel->progs.misplaced_fentry;
		keep[1] = skel->progs.misplaced_fexit;
		keep[2] = pages_raw;
		if (bpf_program__set_attach_target(keep[0], 0, fn) ||
		    bpf_program__set_attach_target(keep[1], 0, fn)) {
			ks_err("cannot retarget to %s", fn);
			return -1;
		}
		break;
	case KS_MODE_KPROBE:
		keep[0] = skel->progs.misplaced_kprobe;
		keep[1] = skel->progs.misplaced_kretprobe;
		keep[2] = pages_raw;
		break;
	case KS_MODE_TP_BTF:
		keep[0] = skel->progs.start_btf;
		keep[1] = nargs == 7 ? skel->progs.pages_btf_nosplit :
				       skel->progs.pages_btf;
		break;
	case KS_MODE_RAW_TP:
		keep[0] = skel->progs.start_raw;
		keep[1] = pages_raw;
		break;
	default:
		keep[0] = skel->progs.start_tp;
		keep[1] = skel->progs.pages_tp;
		break;
	}
	ks_bpf_only(skel->obj, keep);
	if (ks_bpf_load(r, skel->obj))
		return -1;
	for (int i = 0; keep[i]; i++) {
		int err;

		if (r->mode == KS_MODE_KPROBE && i < 2)
			err = ks_bpf_attach_kprobe(r, keep[i], fn, i == 1);
		else
			err = ks_bpf_attach(r, keep[i]);
		if (err)
			return -1;
	}
	memset(&st->prev, 0, sizeof(st->prev));
	note = numa_note(numa_nodes(), numa_balancing());
	if (note)
		ks_run_note(r, "%s", note);
	return 0;
}

static bool read_counts(struct numamove_state *st, struct numamove_val *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct numamove_val *v;
	uint32_t zero = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return false;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return false;
	if (bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.counts), &zero, v)) {
		free(v);
		return false;
	}
	for (int i = 0; i < ncpu; i++) {
		out->migrations += v[i].migrations;
		out->pages += v[i].pages;
		out->pages_failed += v[i].pages_failed;
		out->time_ns += v[i].time_ns;
		out->timed += v[i].timed;
	}
	free(v);
	return true;
}

enum { C_MIGRATIONS, C_PAGES, C_FAILED, C_TIME, C_TIMED, C_AVG };

static const struct ks_col numa_cols[] = {
	[C_MIGRATIONS] = { "migrations", NULL, KS_CT_U64,
			   .unit = KS_UNIT_COUNT, .flags = KS_CF_COUNT },
	[C_PAGES] = { "pages", NULL, KS_CT_U64, .unit = KS_UNIT_PAGES },
	[C_FAILED] = { "pages_failed", NULL, KS_CT_U64,
		       .unit = KS_UNIT_PAGES },
	[C_TIME] = { "time_ms", NULL, KS_CT_F64, .jdec = 6,
		     .unit = KS_UNIT_MS, .flags = KS_CF_WEIGHT },
	[C_TIMED] = { "timed", NULL, KS_CT_U64, .unit = KS_UNIT_COUNT },
	[C_AVG] = { "avg_us", NULL, KS_CT_F64, .jdec = 3,
		    .unit = KS_UNIT_US },
};

/* one line per interval, a log rather than a table */
static void numa_text_row(FILE *f, const struct ks_table *t, size_t row)
{
	uint64_t pages = ks_cell(t, row, C_PAGES)->u;
	uint64_t failed = ks_cell(t, row, C_FAILED)->u;
	char b1[32];

	fprintf(f, "%" PRIu64 " migrations, %" PRIu64 " pages (%s)",
		ks_cell(t, row, C_MIGRATIONS)->u, pages,
		ks_fmt_bytes(pages * (uint64_t)getpagesize(), b1,
			     sizeof(b1)));
	if (failed)
		fprintf(f, ", %" PRIu64 " failed", failed);
	fprintf(f, ", %.3f ms", ks_cell(t, row, C_TIME)->d);
	if (ks_cell(t, row, C_TIMED)->u)
		fprintf(f, " (%.1f us each)", ks_cell(t, row, C_AVG)->d);
	fputc('\n', f);
}

static void numamove_collect(struct ks_run *r, struct ks_report *rep)
{
	struct numamove_state *st = r->tool_state;
	struct numamove_val d, *prev = &st->prev, *cur = &st->cur;
	int bal = numa_balancing();
	struct ks_table *t;
	long row;

	if (!read_counts(st, cur))
		return;
	/* cumulative in the kernel: this report is the difference */
	d.migrations = cur->migrations - prev->migrations;
	d.pages = cur->pages - prev->pages;
	d.pages_failed = cur->pages_failed - prev->pages_failed;
	d.time_ns = cur->time_ns - prev->time_ns;
	d.timed = cur->timed - prev->timed;
	t = ks_table_add(rep, "entries", numa_cols,
			 sizeof(numa_cols) / sizeof(numa_cols[0]));
	if (!t || (row = ks_row_add(t)) < 0)
		return;
	t->text_row = numa_text_row;
	ks_cell_u64(t, row, C_MIGRATIONS, d.migrations);
	ks_cell_u64(t, row, C_PAGES, d.pages);
	ks_cell_u64(t, row, C_FAILED, d.pages_failed);
	ks_cell_f64(t, row, C_TIME, d.time_ns / 1e6);
	ks_cell_u64(t, row, C_TIMED, d.timed);
	ks_cell_f64(t, row, C_AVG, d.timed ? d.time_ns / 1e3 / d.timed : 0);
	ks_report_u64(rep, "numa_nodes", numa_nodes());
	if (bal >= 0)
		ks_report_i64(rep, "numa_balancing", bal);
	else
		ks_report_null(rep, "numa_balancing");
}

static void numamove_reset(struct ks_run *r)
{
	struct numamove_state *st = r->tool_state;

	st->prev = st->cur;
}

static void numamove_stop(struct ks_run *r)
{
	struct numamove_state *st = r->tool_state;

	numamove_bpf__destroy(st->skel);
	st->skel = NULL;
}

static int numamove_validate(struct ks_run *r)
{
	/* one line per interval: a log, not a screen to redraw */
	r->o.clear = false;
	return 0;
}

const struct ks_tool ks_tool_numamove = {
	.name = "numamove",
	.summary = "NUMA-misplaced page migrations per interval: how many, "
		   "pages moved and milliseconds spent.",
	.examples =
"  kscope numamove                 one line per second\n"
"  kscope numamove 60 1            one total for a minute\n"
"  kscope numamove -p 1234 -j 5    process 1234's migrations, JSON, 5 s\n",
	.overhead =
"  Programs run only on page migrations (and, in the tracepoint modes,\n"
"  on every migrate_pages() call, returning at once for other reasons):\n"
"  a per-CPU counter update and one hash map update per migration, far\n"
"  below the cost of copying the page.\n",
	.macro = { 97, 100, 99 },
	.tracing_what = "NUMA-misplaced page migrations",
	.validate = numamove_validate,
	.default_interval = 1,
	.report_series = true,
	.probe = numamove_probe,
	.start = numamove_start,
	.collect = numamove_collect,
	.reset = numamove_reset,
	.stop = numamove_stop,
	.drop_names = numamove_drops,
	.state_size = sizeof(struct numamove_state),
};
