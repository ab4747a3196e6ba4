// SPDX-License-Identifier: GPL-2.0
/*
 * The HTML writer of reports (kscope report --html): one page that needs
 * nothing but itself, inline CSS, SVG and one script, so it can be mailed,
 * attached to a ticket or opened offline.  Every tool's section comes from
 * its report the same way (tables of typed cells, values, drops), so a new
 * tool or column shows up here without code of its own.  Everything that
 * came from outside (task names, symbols, cache names) goes through
 * ks_xml_text(), the flame graph's escaper.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "kscope.h"

/* frames shown under a row in a table (the flame graph has them all) */
#define HTML_FRAMES	8
/* rows whose histograms are drawn one by one, after the table's sum */
#define HIST_ROWS	3
/*
 * What a kernel stack walk costs here: docs/bench.md measures a program
 * that only takes a stack id (kstack(20)) at about 1.3 us per event more
 * than an empty one on the same tracepoint (kmem, tp_btf, 2 CPUs).
 */
#define STACK_WALK_NS	1300
#define MAX_SERIES	8
#define MAX_SERIES_COLS	16

struct series {
	const struct ks_tool *tool;
	int ncols;
	const char *keys[MAX_SERIES_COLS];	/* column keys (static) */
	enum ks_unit units[MAX_SERIES_COLS];
	double *v;		/* n * ncols, cumulative */
	double *t;
	int n, cap;
};

struct ks_html {
	char *title;
	char *body, *stacks;	/* sections; the stacks summary's rows */
	size_t body_len, stacks_len;
	FILE *bf, *sf;
	int nstacked;
	char nav[64][48];
	int nnav;
	struct series series[MAX_SERIES];
	int nseries;
	bool oom;
};

void ks_html_escape(FILE *f, const char *s, size_t n)
{
	ks_xml_text(f, s, n, SIZE_MAX);
}

static void esc(FILE *f, const char *s)
{
	ks_html_escape(f, s, strlen(s));
}

struct ks_html *ks_html_new(const char *title)
{
	struct ks_html *h = calloc(1, sizeof(*h));

	if (h) {
		h->title = strdup(title ? title : "kscope report");
		h->bf = open_memstream(&h->body, &h->body_len);
		h->sf = open_memstream(&h->stacks, &h->stacks_len);
	}
	if (!h || !h->title || !h->bf || !h->sf) {
		if (h) {
			if (h->bf)
				fclose(h->bf);
			if (h->sf)
				fclose(h->sf);
			free(h->body);
			free(h->stacks);
			free(h->title);
			free(h);
		}
		ks_err("out of memory for the HTML report");
		return NULL;
	}
	return h;
}

/* ---- charts ------------------------------------------------------------- */

#define CH_W		560
#define CH_H		190
#define CH_LEFT		56
#define CH_RIGHT	10
#define CH_TOP		24
#define CH_BOTTOM	40

/* a value of unit u as people read it: "1.5ms", "12 KiB", "300" */
static const char *fmt_unit(double v, enum ks_unit u, char *buf, size_t len)
{
	switch (u) {
	case KS_UNIT_NS:
		return ks_fmt_ns((uint64_t)v, buf, len);
	case KS_UNIT_US:
		return ks_fmt_ns((uint64_t)(v * 1000), buf, len);
	case KS_UNIT_MS:
		return ks_fmt_ns((uint64_t)(v * 1e6), buf, len);
	case KS_UNIT_BYTES:
		return ks_fmt_bytes((uint64_t)v, buf, len);
	default:
		if (v == (double)(uint64_t)v)
			snprintf(buf, len, "%" PRIu64, (uint64_t)v);
		else
			snprintf(buf, len, "%.3f", v);
		return buf;
	}
}

/*
 * Bars, one per value, heights proportional to the values (0 at the
 * bottom of the plot, the largest at its top); labels under some bars,
 * a tooltip per bar.
 */
static void bar_chart(FILE *f, const char *cls, const char *title, int n,
		      const double *v, char (*xlab)[40], char (*tip)[96],
		      const char *ylab)
{
	double max = 0, pw = CH_W - CH_LEFT - CH_RIGHT;
	double ph = CH_H - CH_TOP - CH_BOTTOM, bw = n ? pw / n : pw;
	int every = n > 12 ? (n + 11) / 12 : 1;

	for (int i = 0; i < n; i++)
		if (v[i] > max)
			max = v[i];
	fprintf(f, "<svg class=\"chart %s\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
		"role=\"img\"><title>", cls, CH_W, CH_H, CH_W, CH_H);
	esc(f, title);
	fprintf(f, "</title>\n<rect class=\"bg\" x=\"0\" y=\"0\" width=\"%d\" "
		"height=\"%d\"/>\n<text class=\"ct\" x=\"%d\" y=\"15\">", CH_W,
		CH_H, CH_LEFT);
	esc(f, title);
	fprintf(f, "</text>\n<line class=\"axis\" x1=\"%d\" y1=\"%d\" "
		"x2=\"%d\" y2=\"%d\"/>\n", CH_LEFT, CH_H - CH_BOTTOM,
		CH_W - CH_RIGHT, CH_H - CH_BOTTOM);
	fprintf(f, "<text class=\"yl\" x=\"%d\" y=\"%d\" text-anchor=\"end\">"
		"%.15g</text>\n<text class=\"yl\" x=\"%d\" y=\"%d\" "
		"text-anchor=\"end\">0</text>\n", CH_LEFT - 4, CH_TOP + 4, max,
		CH_LEFT - 4, CH_H - CH_BOTTOM);
	if (ylab) {
		fprintf(f, "<text class=\"yl\" x=\"12\" y=\"%d\" transform="
			"\"rotate(-90 12 %d)\" text-anchor=\"middle\">",
			CH_TOP + (int)ph / 2, CH_TOP + (int)ph / 2);
		esc(f, ylab);
		fputs("</text>\n", f);
	}
	if (!n || max <= 0)
		fprintf(f, "<text class=\"none\" x=\"%d\" y=\"%d\" "
			"text-anchor=\"middle\">no events</text>\n",
			CH_LEFT + (int)pw / 2, CH_TOP + (int)ph / 2);
	/* bars of height 0 too: a time series with nothing in it is one */
	for (int i = 0; i < n; i++) {
		double hgt = max > 0 ? v[i] / max * ph : 0;
		double x = CH_LEFT + i * bw;

		fprintf(f, "<rect class=\"bar\" data-count=\"%.15g\" "
			"x=\"%.2f\" y=\"%.3f\" width=\"%.2f\" height=\"%.3f\">"
			"<title>", v[i], x + bw * 0.1,
			CH_H - CH_BOTTOM - hgt, bw * 0.8, hgt);
		esc(f, tip[i]);
		fputs("</title></rect>\n", f);
		if (i % every == 0) {
			fprintf(f, "<text class=\"xl\" x=\"%.2f\" y=\"%d\" "
				"text-anchor=\"middle\">", x + bw / 2,
				CH_H - CH_BOTTOM + 14);
			esc(f, xlab[i]);
			fputs("</text>\n", f);
		}
	}
	fputs("</svg>\n", f);
}

static enum ks_unit unit_of(const char *unit)
{
	if (!unit)
		return KS_UNIT_NONE;
	if (!strcmp(unit, "ns"))
		return KS_UNIT_NS;
	if (!strcmp(unit, "us"))
		return KS_UNIT_US;
	if (!strcmp(unit, "ms"))
		return KS_UNIT_MS;
	if (!strcmp(unit, "bytes"))
		return KS_UNIT_BYTES;
	return KS_UNIT_NONE;
}

static void hist_chart(FILE *f, const uint64_t *slots, int n,
		       enum ks_unit u, const char *title)
{
	int lo = n, hi = -1, nb;
	double *v;
	char (*xl)[40], (*tip)[96];

	for (int i = 0; i < n; i++)
		if (slots[i]) {
			if (lo == n)
				lo = i;
			hi = i;
		}
	nb = hi < 0 ? 0 : hi - lo + 1;
	v = calloc(nb ? nb : 1, sizeof(*v));
	xl = calloc(nb ? nb : 1, sizeof(*xl));
	tip = calloc(nb ? nb : 1, sizeof(*tip));
	if (!v || !xl || !tip) {
		free(v);
		free(xl);
		free(tip);
		return;
	}
	for (int i = 0; i < nb; i++) {
		char a[32], b[32];

		v[i] = slots[lo + i];
		fmt_unit(ks_hist_slot_min(lo + i), u, a, sizeof(a));
		fmt_unit(ks_hist_slot_max(lo + i), u, b, sizeof(b));
		snprintf(xl[i], sizeof(xl[i]), "%s", a);
		snprintf(tip[i], sizeof(tip[i]), "[%s, %s]: %" PRIu64, a, b,
			 slots[lo + i]);
	}
	bar_chart(f, "hist", title, nb, v, xl, tip, "count");
	free(v);
	free(xl);
	free(tip);
}

void ks_html_hist_svg(FILE *f, const uint64_t *slots, int n,
		      const char *unit, const char *title)
{
	hist_chart(f, slots, n, unit_of(unit), title);
}

/* ---- series --------------------------------------------------------------- */

static bool series_col(const struct ks_col *c)
{
	return (c->type == KS_CT_U64 || c->type == KS_CT_F64 ||
		c->type == KS_CT_NS) &&
	       ((c->flags & (KS_CF_COUNT | KS_CF_WEIGHT)) ||
		c->unit == KS_UNIT_PAGES || c->unit == KS_UNIT_BYTES);
}

static double num(const struct ks_col *c, const union ks_cell *v)
{
	switch (c->type) {
	case KS_CT_U64:
	case KS_CT_NS:
		return v->u;
	case KS_CT_I64:
		return v->i;
	case KS_CT_F64:
		return v->d;
	default:
		return 0;
	}
}

static struct series *series_of(struct ks_html *h, const struct ks_tool *t,
				bool make)
{
	for (int i = 0; i < h->nseries; i++)
		if (h->series[i].tool == t)
			return &h->series[i];
	if (!make || h->nseries == MAX_SERIES)
		return NULL;
	h->series[h->nseries].tool = t;
	return &h->series[h->nseries++];
}

/* the report's single-row first table, or NULL */
static const struct ks_table *one_row(const struct ks_report *rep)
{
	if (!rep->ntables || rep->tables[0]->nrows != 1)
		return NULL;
	return rep->tables[0];
}

static void series_add(struct ks_html *h, const struct ks_report *rep,
		       double t)
{
	const struct ks_table *tb = one_row(rep);
	struct series *s;
	int k = 0;

	if (!tb || !(s = series_of(h, rep->r->tool, true)))
		return;
	if (s->n == s->cap) {
		int cap = s->cap ? s->cap * 2 : 64;
		double *v = realloc(s->v, cap * MAX_SERIES_COLS * sizeof(*v));
		double *tt;

		if (!v) {
			h->oom = true;
			return;
		}
		s->v = v;
		tt = realloc(s->t, cap * sizeof(*tt));
		if (!tt) {
			h->oom = true;
			return;
		}
		s->t = tt;
		s->cap = cap;
	}
	for (int c = 0; c < tb->ncols && k < MAX_SERIES_COLS; c++) {
		if (!series_col(&tb->cols[c]))
			continue;
		s->keys[k] = tb->cols[c].key;
		s->units[k] = tb->cols[c].unit;
		s->v[s->n * MAX_SERIES_COLS + k++] =
			num(&tb->cols[c], ks_cell(tb, 0, c));
	}
	s->ncols = k;
	s->t[s->n++] = t;
}

void ks_html_sample(struct ks_html *h, const struct ks_report *rep,
		    double t)
{
	series_add(h, rep, t);
}

static void series_charts(FILE *f, struct series *s)
{
	int n = s->n;
	double *v = calloc(n ? n : 1, sizeof(*v));
	char (*xl)[40] = calloc(n ? n : 1, sizeof(*xl));
	char (*tip)[96] = calloc(n ? n : 1, sizeof(*tip));

	fprintf(f, "<div class=\"series\"><p>Per interval during the window "
		"(sampled %d times):</p>\n", n);
	for (int k = 0; v && xl && tip && k < s->ncols; k++) {
		char title[96], a[32];

		for (int i = 0; i < n; i++) {
			double prev = i ? s->v[(i - 1) * MAX_SERIES_COLS + k]
				       : 0;
			double t0 = i ? s->t[i - 1] : 0;

			v[i] = s->v[i * MAX_SERIES_COLS + k] - prev;
			if (v[i] < 0)
				v[i] = 0;
			snprintf(xl[i], sizeof(xl[i]), "%.0fs", s->t[i]);
			snprintf(tip[i], sizeof(tip[i]), "%.1f-%.1f s: %s",
				 t0, s->t[i], fmt_unit(v[i], s->units[k], a,
						       sizeof(a)));
		}
		snprintf(title, sizeof(title), "%s: %s per interval",
			 s->tool->name, s->keys[k]);
		bar_chart(f, "series", title, n, v, xl, tip, s->keys[k]);
	}
	fputs("</div>\n", f);
	free(v);
	free(xl);
	free(tip);
}

/* ---- sections ------------------------------------------------------------- */

static void data_v(FILE *f, const struct ks_col *c, const union ks_cell *v)
{
	switch (c->type) {
	case KS_CT_STR:
		esc(f, v->s ? v->s : "");
		break;
	case KS_CT_COMM:
		ks_html_escape(f, v->s ? v->s : "",
			       v->s ? strnlen(v->s, KS_COMM_LEN) : 0);
		break;
	case KS_CT_U64:
	case KS_CT_NS:
		fprintf(f, "%" PRIu64, v->u);
		break;
	case KS_CT_I64:
		fprintf(f, "%" PRId64, v->i);
		break;
	case KS_CT_F64:
		fprintf(f, "%.*f", c->jdec, v->d);
		break;
	default:
		break;
	}
}

static bool html_col(const struct ks_col *c)
{
	if (c->type == KS_CT_HIST)
		return false;
	/* hidden from both (workq's queue columns without -Q) */
	if ((c->flags & (KS_CF_NOTEXT | KS_CF_NOJSON)) ==
	    (KS_CF_NOTEXT | KS_CF_NOJSON))
		return false;
	return c->head || !(c->flags & KS_CF_NOJSON);
}

static bool numeric(const struct ks_col *c)
{
	return c->type == KS_CT_U64 || c->type == KS_CT_I64 ||
	       c->type == KS_CT_F64 || c->type == KS_CT_NS;
}

static void stack_cell(FILE *f, const struct ks_table *t,
		       const struct ks_stack *st)
{
	char buf[512];
	int n = st ? st->n : 0;

	if (!n) {
		fputs("<span class=\"muted\">[stack unavailable]</span>", f);
		return;
	}
	fputs("<details><summary>", f);
	esc(f, ks_frame_fmt(t, st, 0, buf, sizeof(buf)));
	fprintf(f, " (%d frames)</summary><ol class=\"frames\">", n);
	for (int i = 0; i < n && i < HTML_FRAMES; i++) {
		fputs("<li>", f);
		esc(f, ks_frame_fmt(t, st, i, buf, sizeof(buf)));
		fputs("</li>", f);
	}
	if (n > HTML_FRAMES)
		fprintf(f, "<li class=\"muted\">... %d more</li>",
			n - HTML_FRAMES);
	fputs("</ol></details>", f);
}

static const char *row_name(const struct ks_table *t, size_t row, char *buf,
			    size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int c = 0; c < t->ncols && o + 1 < len; c++) {
		const struct ks_col *col = &t->cols[c];
		char tmp[256];

		if (!(col->flags & KS_CF_KEY) || col->type == KS_CT_STACK ||
		    col->type == KS_CT_HIST || !html_col(col))
			continue;
		o += snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
			      ks_cell_text(col, ks_cell(t, row, c), tmp,
					   sizeof(tmp)));
	}
	if (!o)
		snprintf(buf, len, "row %zu", row + 1);
	return buf;
}

/* the first table with histograms has them drawn (workq's workqueues and
 * pairs hold the same events again); true when it had */
static bool hist_charts(FILE *f, const struct ks_report *rep,
			const struct ks_table *t, size_t shown)
{
	bool drawn = false;

	for (int c = 0; c < t->ncols; c++) {
		const struct ks_col *col = &t->cols[c];
		uint64_t sum[KS_HIST_SLOTS] = { 0 };
		char title[256], name[160];
		bool any = false;

		if (col->type != KS_CT_HIST ||
		    (col->flags & (KS_CF_NOTEXT | KS_CF_NOJSON)) ==
		    (KS_CF_NOTEXT | KS_CF_NOJSON))
			continue;
		for (size_t row = 0; row < t->nrows; row++) {
			const uint64_t *hs = ks_cell(t, row, c)->hist;

			for (int i = 0; hs && i < KS_HIST_SLOTS; i++)
				sum[i] += hs[i], any = true;
		}
		if (!any)
			continue;
		drawn = true;
		fprintf(f, "<div class=\"hists\" data-table=\"%s\" "
			"data-col=\"%s\">\n", t->name, col->key);
		snprintf(title, sizeof(title), "%s %s: %s, all %zu rows",
			 rep->r->tool->name, t->name, col->key, t->nrows);
		hist_chart(f, sum, KS_HIST_SLOTS, col->unit, title);
		for (size_t row = 0; row < shown && row < HIST_ROWS; row++) {
			const uint64_t *hs = ks_cell(t, row, c)->hist;

			if (!hs)
				continue;
			snprintf(title, sizeof(title), "%s: %s", col->key,
				 row_name(t, row, name, sizeof(name)));
			hist_chart(f, hs, KS_HIST_SLOTS, col->unit, title);
		}
		fputs("</div>\n", f);
	}
	return drawn;
}

static void table_html(FILE *f, const struct ks_report *rep,
		       const struct ks_table *t, bool *hists)
{
	size_t shown = ks_rows_shown(rep->r, t->nrows);
	char buf[256];

	fprintf(f, "<h3>%s</h3>\n", t->name);
	for (int i = 0; i < t->nbefore; i++) {
		fputs("<p class=\"line\">", f);
		esc(f, t->before[i]);
		fputs("</p>\n", f);
	}
	fprintf(f, "<table class=\"top\" data-table=\"%s\" data-rows=\"%zu\">"
		"\n<thead><tr>", t->name, t->nrows);
	for (int c = 0; c < t->ncols; c++)
		if (html_col(&t->cols[c])) {
			fprintf(f, "<th%s title=\"%s\">",
				numeric(&t->cols[c]) ? " class=\"n\"" : "",
				t->cols[c].key);
			esc(f, t->cols[c].head ? t->cols[c].head :
			    t->cols[c].key);
			fputs("</th>", f);
		}
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t row = 0; row < shown; row++) {
		fputs("<tr>", f);
		for (int c = 0; c < t->ncols; c++) {
			const struct ks_col *col = &t->cols[c];
			const union ks_cell *v = ks_cell(t, row, c);

			if (!html_col(col))
				continue;
			fprintf(f, "<td data-key=\"%s\"", col->key);
			if (col->type == KS_CT_STACK) {
				fputs(" class=\"stack\">", f);
				stack_cell(f, t, v->st);
			} else {
				fputs(numeric(col) ? " class=\"n\"" : "", f);
				/* the exact value, as JSON has it */
				if (!(col->flags & KS_CF_NOJSON)) {
					fputs(" data-v=\"", f);
					data_v(f, col, v);
					fputc('"', f);
				}
				fputc('>', f);
				esc(f, ks_cell_text(col, v, buf, sizeof(buf)));
			}
			fputs("</td>", f);
		}
		fputs("</tr>\n", f);
	}
	if (!t->nrows)
		fputs("<tr><td class=\"muted\" colspan=\"99\">no entries"
		      "</td></tr>\n", f);
	fputs("</tbody></table>\n", f);
	if (shown < t->nrows)
		fprintf(f, "<p class=\"muted\">... %zu more %s (-r to "
			"change)</p>\n", t->nrows - shown, t->what ? t->what :
			"rows");
	for (int i = 0; i < t->nafter; i++) {
		fputs("<p class=\"line\">", f);
		esc(f, t->after[i]);
		fputs("</p>\n", f);
	}
	if (!*hists)
		*hists = hist_charts(f, rep, t, shown);
}

static void values_html(FILE *f, const struct ks_report *rep)
{
	if (!rep->nvalues)
		return;
	fputs("<dl class=\"values\">\n", f);
	for (int i = 0; i < rep->nvalues; i++) {
		const struct ks_value *v = &rep->values[i];

		fprintf(f, "<dt>%s</dt><dd data-key=\"%s\" data-v=\"",
			v->key, v->key);
		switch (v->type) {
		case KS_V_U64:
			fprintf(f, "%" PRIu64 "\">%" PRIu64, v->v.u, v->v.u);
			break;
		case KS_V_I64:
			fprintf(f, "%" PRId64 "\">%" PRId64, v->v.i, v->v.i);
			break;
		case KS_V_F64:
			fprintf(f, "%.*f\">%.*f", v->dec, v->v.d, v->dec,
				v->v.d);
			break;
		case KS_V_STR:
			esc(f, v->v.s);
			fputs("\">", f);
			esc(f, v->v.s);
			break;
		case KS_V_NULL:
			fputs("\">null", f);
			break;
		case KS_V_F64S:
			fputs("\">", f);
			for (int k = 0; k < v->n; k++)
				fprintf(f, "%s%.*f", k ? " " : "", v->dec,
					v->v.ds[k]);
			break;
		}
		fputs("</dd>\n", f);
	}
	fputs("</dl>\n", f);
}

static void drops_html(FILE *f, const struct ks_report *rep)
{
	const struct ks_tool *t = rep->r->tool;

	fprintf(f, "<p class=\"drops%s\" data-total=\"%" PRIu64 "\">Dropped "
		"(events not counted): %" PRIu64, rep->drops_total ? " warn" :
		"", rep->drops_total, rep->drops_total);
	for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
		const char *n = ks_drop_name(t, i);

		if (n)
			fprintf(f, "%s<span data-reason=\"%s\" data-v=\"%"
				PRIu64 "\">%s %" PRIu64 "</span>", i ? ", " :
				" &mdash; ", n, rep->drops[i], n, rep->drops[i]);
	}
	fputs("</p>\n", f);
}

static void nav_add(struct ks_html *h, const char *name)
{
	if (h->nnav < 64)
		snprintf(h->nav[h->nnav++], sizeof(h->nav[0]), "%s", name);
}

/* which tools took stacks, and what walking them cost: t's rows counted
 * in column count (-1: none) took one each; distinct: stacks shown */
/* walks: events / sample, for a tool whose exact counts are kept apart
 * from its 1-in-N stack walks (kpages --sample); 1 otherwise */
static void stacks_row(struct ks_html *h, const struct ks_report *rep,
		       const struct ks_table *t, int count, bool distinct,
		       uint64_t sample)
{
	uint64_t events = 0;
	int lost = -1;
	char how[48] = "";
	char nst[32] = "-";

	for (size_t row = 0; count >= 0 && row < t->nrows; row++)
		events += ks_cell(t, row, count)->u;
	if (distinct)
		snprintf(nst, sizeof(nst), "%zu", t->nrows);
	for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
		const char *n = ks_drop_name(rep->r->tool, i);

		if (n && !strcmp(n, "stack"))
			lost = i;
	}
	if (sample > 1)
		snprintf(how, sizeof(how), " (1 in %" PRIu64 " walked)", sample);
	h->nstacked++;
	fprintf(h->sf, "<tr data-tool=\"%s\"><td><a href=\"#tool-%s\">%s</a>"
		"</td><td class=\"n\" data-key=\"stacks\">%s</td>"
		"<td class=\"n\" data-key=\"events\">%" PRIu64 "</td>"
		"<td class=\"n\" data-key=\"lost\">%" PRIu64 "</td>"
		"<td class=\"n\">%.1f ms%s</td></tr>\n",
		rep->r->tool->name, rep->r->tool->name, rep->r->tool->name,
		nst, events, lost >= 0 ? rep->drops[lost] : 0,
		(double)(events / sample) * STACK_WALK_NS / 1e6, how);
}

static void flame_html(struct ks_html *h, FILE *f,
		       const struct ks_report *rep)
{
	struct ks_flame_opts o = { .embedded = true, .width = 1100 };
	struct ks_stack_view v;
	const char *unit = "count";
	struct ks_flame *fl;
	char title[128];

	if (!ks_stack_view(rep, false, &v)) {
		/* a stack per event for its own use (kpages: the call site
		 * is the first frame outside the allocator), none shown */
		if (rep->r->tool->needs_stack_map && rep->ntables) {
			const struct ks_table *t = rep->tables[0];
			int count = -1;

			for (int c = 0; c < t->ncols && count < 0; c++)
				if (t->cols[c].flags & KS_CF_COUNT)
					count = c;
			uint64_t sample = 1;

			/* kpages: exact counts, 1 in "sample" walked */
			for (int i = 0; i < rep->nvalues; i++)
				if (!strcmp(rep->values[i].key, "sample") &&
				    rep->values[i].type == KS_V_U64 &&
				    rep->values[i].v.u > 1)
					sample = rep->values[i].v.u;
			stacks_row(h, rep, t, count, false, sample);
		}
		return;
	}
	/* memleak --sample: the rows are the sampled allocations, each
	 * one walk */
	stacks_row(h, rep, v.t, v.count, true, 1);
	fl = ks_flame_of_report(rep, false, &unit);
	if (!fl) {
		h->oom = true;
		return;
	}
	snprintf(title, sizeof(title), "%s: stacks by %s", rep->r->tool->name,
		 unit);
	o.title = title;
	o.unit = unit;
	fputs("<div class=\"flame\">\n", f);
	if (ks_flame_svg(fl, &o, f))
		h->oom = true;
	fputs("</div>\n", f);
	ks_flame_free(fl);
}

static void section_begin(FILE *f, const struct ks_tool *t, bool ran)
{
	fprintf(f, "<section class=\"tool%s\" id=\"tool-%s\" data-tool=\"%s\">"
		"\n<h2>%s</h2>\n<p class=\"summary\">", ran ? "" : " off",
		t->name, t->name, t->name);
	esc(f, t->summary);
	fputs("</p>\n", f);
}

void ks_html_report(struct ks_html *h, const struct ks_report *rep)
{
	const struct ks_run *r = rep->r;
	const char *measures = r->probe.m[r->mode].measures;
	struct series *s = series_of(h, r->tool, false);
	FILE *f = h->bf;
	bool hists = false;

	nav_add(h, r->tool->name);
	section_begin(f, r->tool, true);
	fprintf(f, "<p class=\"mode\">mode: <b data-key=\"mode\">%s</b>",
		ks_mode_name(r->mode));
	if (measures) {
		fputs(" &mdash; ", f);
		esc(f, measures);
	}
	fprintf(f, "; window %.3f s</p>\n", rep->interval_s);
	if (r->note) {
		fputs("<p class=\"note\">note: ", f);
		esc(f, r->note);
		fputs("</p>\n", f);
	}
	drops_html(f, rep);
	for (int i = 0; i < rep->ntables; i++)
		table_html(f, rep, rep->tables[i], &hists);
	values_html(f, rep);
	if (s) {
		series_add(h, rep, rep->interval_s);
		series_charts(f, s);
	}
	flame_html(h, f, rep);
	fputs("</section>\n", f);
}

void ks_html_failed(struct ks_html *h, const struct ks_tool *t,
		    const char *why)
{
	nav_add(h, t->name);
	section_begin(h->bf, t, false);
	fputs("<p class=\"why\">could not run here: ", h->bf);
	esc(h->bf, why && *why ? why : "unknown reason");
	fputs("</p>\n</section>\n", h->bf);
}

static const char page_style[] =
"body { font: 14px/1.4 system-ui, \"DejaVu Sans\", sans-serif; margin: 0 "
"auto; max-width: 1140px; padding: 0 16px 40px; color: #222; "
"background: #fff; }\n"
"h1 { margin: 20px 0 4px; } h2 { margin: 0 0 4px; }\n"
"h3 { margin: 14px 0 4px; font-size: 15px; }\n"
"nav a { margin-right: 10px; }\n"
"section.tool { border-top: 2px solid #345; padding: 12px 0; "
"margin-top: 18px; }\n"
"section.off h2 { color: #888; }\n"
".summary { color: #444; margin: 0 0 6px; }\n"
".note { background: #fff7d6; padding: 4px 8px; border-left: 3px solid "
"#e0b000; }\n"
".why { color: #a33; }\n"
".drops.warn { color: #a33; font-weight: bold; }\n"
".muted { color: #888; }\n"
"table { border-collapse: collapse; margin: 4px 0; font-size: 13px; }\n"
"th, td { padding: 2px 8px; border-bottom: 1px solid #ddd; "
"text-align: left; vertical-align: top; }\n"
"th { background: #eef2f6; }\n"
".n { text-align: right; font-variant-numeric: tabular-nums; }\n"
"td.stack summary { cursor: pointer; font-family: monospace; }\n"
"ol.frames { margin: 2px 0; font-family: monospace; font-size: 12px; }\n"
"dl.values { display: grid; grid-template-columns: max-content auto; "
"gap: 0 12px; font-size: 13px; } dl.values dd { margin: 0; }\n"
"svg.chart { margin: 4px 8px 4px 0; }\n"
"svg.chart .bg { fill: #fafbfc; stroke: #ddd; }\n"
"svg.chart .bar { fill: #4a78b5; } svg.series .bar { fill: #3a9a6a; }\n"
"svg.chart .bar:hover { fill: #e07020; }\n"
"svg.chart .axis { stroke: #555; }\n"
"svg.chart text { font-size: 11px; fill: #333; }\n"
"svg.chart .ct { font-size: 12px; font-weight: bold; }\n"
"div.hists, div.series { display: flex; flex-wrap: wrap; }\n"
"div.series p { width: 100%; margin: 4px 0; }\n"
"div.flame { overflow-x: auto; margin-top: 8px; }\n";

int ks_html_write(struct ks_html *h, FILE *f, double window_s)
{
	struct timespec now;
	struct utsname u;
	char iso[48], host[256] = "?";
	int err;

	err = fclose(h->bf) | fclose(h->sf);
	h->bf = h->sf = NULL;
	if (err || h->oom) {
		ks_err("out of memory for the HTML report");
		err = -1;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gethostname(host, sizeof(host) - 1);
	if (uname(&u))
		strcpy(u.release, "?");
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset="
	      "\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-"
	      "width\">\n<link rel=\"icon\" href=\"data:,\">\n<title>", f);
	esc(f, h->title);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>",
		page_style);
	esc(f, h->title);
	fputs("</h1>\n<p class=\"meta\">host <b>", f);
	esc(f, host);
	fputs("</b>, kernel <b>", f);
	esc(f, u.release);
	fprintf(f, "</b>, %s, window <b data-key=\"window_s\">%.3f</b> s</p>"
		"\n<nav>", ks_fmt_time_iso(&now, iso, sizeof(iso)), window_s);
	for (int i = 0; i < h->nnav; i++)
		fprintf(f, "<a href=\"#tool-%s\">%s</a>", h->nav[i],
			h->nav[i]);
	fputs("</nav>\n<section class=\"stacks\" id=\"stacks\">\n<h2>Stacks"
	      "</h2>\n", f);
	if (!h->nstacked)
		fputs("<p>No tool took stacks in this run.</p>\n", f);
	else
		fprintf(f, "<p>These tools took a kernel stack per event. A "
			"stack walk costs about %.1f &micro;s of kernel CPU "
			"here (docs/bench.md: a program that only takes a "
			"stack id, against an empty one on the same "
			"tracepoint), an estimate of what the stacks cost "
			"in this window; the other tools key by call site, "
			"function or name and walk no stacks.</p>\n<table>"
			"<thead><tr><th>tool</th><th class=\"n\">distinct "
			"stacks</th><th class=\"n\">events with a stack</th>"
			"<th class=\"n\">stacks lost</th><th class=\"n\">"
			"stack walks, estimated CPU</th></tr></thead>\n"
			"<tbody>\n%s</tbody></table>\n", STACK_WALK_NS / 1e3,
			h->stacks ? h->stacks : "");
	fputs("</section>\n", f);
	fwrite(h->body, 1, h->body_len, f);
	fprintf(f, "<script>\n%s"
		"[].forEach.call(document.querySelectorAll('svg.kflame'), "
		"ksFlame);\n</script>\n</body>\n</html>\n", ks_flame_script);
	fflush(f);
	err = ferror(f) ? -1 : 0;
out:
	if (h->bf)
		fclose(h->bf);
	if (h->sf)
		fclose(h->sf);
	for (int i = 0; i < h->nseries; i++) {
		free(h->series[i].v);
		free(h->series[i].t);
	}
	free(h->body);
	free(h->stacks);
	free(h->title);
	free(h);
	return err;
}
