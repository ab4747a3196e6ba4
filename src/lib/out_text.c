// SPDX-License-Identifier: GPL-2.0
/*
 * The text writer of reports: tables sorted biggest first, stacks and
 * histograms under their rows, the same for every tool.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>
#include "kscope.h"

#define SUB_INDENT	"        "
/* kscope report is one page for every tool: short stacks, no histograms */
#define REPORT_FRAMES	6

static void pad(FILE *f, const char *s, int width)
{
	if (width < 0)
		fprintf(f, "%-*s", -width, s);
	else if (width > 0)
		fprintf(f, "%*s", width, s);
	else
		fputs(s, f);
}

const char *ks_cell_text(const struct ks_col *c, const union ks_cell *v,
			 char *buf, size_t len)
{
	switch (c->type) {
	case KS_CT_STR:
		return v->s;
	case KS_CT_COMM:
		return ks_comm_text(v->s, buf, len);
	case KS_CT_U64:
		snprintf(buf, len, "%" PRIu64, v->u);
		return buf;
	case KS_CT_I64:
		snprintf(buf, len, "%" PRId64, v->i);
		return buf;
	case KS_CT_F64:
		snprintf(buf, len, "%.*f", c->dec, v->d);
		return buf;
	case KS_CT_NS:
		return ks_fmt_ns(v->u, buf, len);
	case KS_CT_HIST:
	case KS_CT_STACK:
		break;
	}
	return "";
}

static bool text_col(const struct ks_col *c)
{
	return c->head && !(c->flags & KS_CF_NOTEXT) &&
	       c->type != KS_CT_HIST;
}

static void header(FILE *f, const struct ks_table *t)
{
	bool first = true;

	for (int c = 0; c < t->ncols; c++) {
		if (!text_col(&t->cols[c]))
			continue;
		if (!first)
			fputc(' ', f);
		first = false;
		pad(f, t->cols[c].head, t->cols[c].width);
	}
	fputc('\n', f);
}

static void row_text(FILE *f, const struct ks_report *rep,
		     const struct ks_table *t, size_t row)
{
	bool first = true, in_report = rep->r->in_report;
	char buf[256];

	for (int c = 0; c < t->ncols; c++) {
		const struct ks_col *col = &t->cols[c];

		if (!text_col(col))
			continue;
		if (!first)
			fputc(' ', f);
		first = false;
		pad(f, ks_cell_text(col, ks_cell(t, row, c), buf, sizeof(buf)),
		    col->type == KS_CT_STACK ? 0 : col->width);
	}
	fputc('\n', f);
	for (int c = 0; c < t->ncols; c++) {
		const struct ks_col *col = &t->cols[c];
		const union ks_cell *v = ks_cell(t, row, c);
		int n;

		if (col->type != KS_CT_STACK || !text_col(col))
			continue;
		n = v->st ? v->st->n : 0;
		if (in_report && n > REPORT_FRAMES)
			n = REPORT_FRAMES;
		if (!n)
			fprintf(f, SUB_INDENT "[stack unavailable]\n");
		for (int i = 0; i < n; i++)
			fprintf(f, SUB_INDENT "%s\n",
				ks_frame_fmt(t, v->st, i, buf, sizeof(buf)));
	}
	for (int c = 0; c < t->ncols && !in_report; c++) {
		const struct ks_col *col = &t->cols[c];
		const union ks_cell *v = ks_cell(t, row, c);

		if (col->type != KS_CT_HIST || !(col->flags & KS_CF_TEXT_HIST) ||
		    !v->hist)
			continue;
		ks_hist_print(f, v->hist, KS_HIST_SLOTS, col->hist_unit,
			      SUB_INDENT);
		fputc('\n', f);
	}
}

static void table_text(FILE *f, const struct ks_report *rep,
		       const struct ks_table *t)
{
	size_t shown = ks_rows_shown(rep->r, t->nrows);
	bool any = t->text_row || t->nbefore || t->nafter;

	/* a table for JSON (and other writers) only */
	for (int c = 0; c < t->ncols && !any; c++)
		any = text_col(&t->cols[c]);
	if (!any)
		return;

	for (int i = 0; i < t->nbefore; i++)
		fprintf(f, "%s\n", t->before[i]);
	if (!t->no_header && !t->text_row)
		header(f, t);
	for (size_t row = 0; row < shown; row++) {
		if (t->text_row)
			t->text_row(f, t, row);
		else
			row_text(f, rep, t, row);
	}
	if (shown < t->nrows)
		fprintf(f, "... %zu more %s (-r to change)\n",
			t->nrows - shown, t->what);
	for (int i = 0; i < t->nafter; i++)
		fprintf(f, "%s\n", t->after[i]);
}

void ks_write_text(const struct ks_report *rep)
{
	const struct ks_run *r = rep->r;
	FILE *f = r->out;

	if (r->in_report) {
		if (r->note)
			fprintf(f, "note: %s\n", r->note);
	} else if (r->o.interval > 0) {
		time_t now = rep->time.tv_sec;
		struct tm tm;
		char hms[16];

		if (r->o.clear)
			fputs("\033[H\033[2J", f);	/* no `clear` spawn */
		localtime_r(&now, &tm);
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
		fprintf(f, "\n%s (%.1f s)\n", hms, rep->interval_s);
	}
	for (int i = 0; i < rep->ntables; i++) {
		if (i)
			fputc('\n', f);
		table_text(f, rep, rep->tables[i]);
	}
	if (rep->drops_total) {
		fprintf(f, "Dropped %" PRIu64 " events:", rep->drops_total);
		for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
			const char *n = ks_drop_name(r->tool, i);

			if (n && rep->drops[i])
				fprintf(f, " %s %" PRIu64, n, rep->drops[i]);
		}
		fputc('\n', f);
	}
}
