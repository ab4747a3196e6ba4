// SPDX-License-Identifier: GPL-2.0
/*
 * Report data: the tables and values a tool's collect() fills, kept in one
 * arena per report so that a writer never owns anything and a report is
 * freed in one call.  The writers (out_*.c) only read what is here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kscope.h"

struct ks_arena {
	struct ks_arena *next;
	size_t used, size;
	char mem[];
};

#define ARENA_CHUNK	(64 * 1024)

static void *arena_alloc(struct ks_report *rep, size_t n)
{
	struct ks_arena *a = rep->arena;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!a || a->used + n > a->size) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;

		a = malloc(sizeof(*a) + size);
		if (!a)
			return NULL;
		a->next = rep->arena;
		a->used = 0;
		a->size = size;
		rep->arena = a;
	}
	p = a->mem + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

void ks_report_free(struct ks_report *rep)
{
	for (int i = 0; i < rep->ntables; i++)
		free(rep->tables[i]->cells);
	while (rep->arena) {
		struct ks_arena *n = rep->arena->next;

		free(rep->arena);
		rep->arena = n;
	}
	rep->ntables = 0;
	rep->nvalues = 0;
	if (rep->syms_kept)
		ks_kernel_syms_keep(false);
	rep->syms_kept = false;
}

const char *ks_report_strdup(struct ks_report *rep, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(rep, n);

	if (p)
		memcpy(p, s, n);
	return p ? p : "";
}

/* Tables remember their report for their strings; the report is the
 * table's arena owner, found through this header in front of it. */
struct table_box {
	struct ks_report *rep;
	struct ks_table t;
};

static struct ks_report *rep_of(struct ks_table *t)
{
	return ((struct table_box *)((char *)t -
				     offsetof(struct table_box, t)))->rep;
}

struct ks_table *ks_table_add(struct ks_report *rep, const char *name,
			      const struct ks_col *cols, int ncols)
{
	struct table_box *b;

	if (rep->ntables >= KS_MAX_TABLES)
		return NULL;
	b = arena_alloc(rep, sizeof(*b));
	if (!b)
		return NULL;
	b->rep = rep;
	b->t.name = name;
	b->t.what = "rows";
	b->t.cols = cols;
	b->t.ncols = ncols;
	rep->tables[rep->ntables++] = &b->t;
	return &b->t;
}

long ks_row_add(struct ks_table *t)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 64;
		union ks_cell *c = realloc(t->cells,
					   nc * t->ncols * sizeof(*c));

		if (!c)
			return -1;
		t->cells = c;
		t->cap = nc;
	}
	memset(&t->cells[t->nrows * t->ncols], 0,
	       t->ncols * sizeof(*t->cells));
	for (int c = 0; c < t->ncols; c++)
		if (t->cols[c].type == KS_CT_STR ||
		    t->cols[c].type == KS_CT_COMM)
			t->cells[t->nrows * t->ncols + c].s = "";
	return t->nrows++;
}

static union ks_cell *cell(struct ks_table *t, long row, int col)
{
	if (row < 0 || (size_t)row >= t->nrows || col < 0 || col >= t->ncols)
		return NULL;
	return &t->cells[row * t->ncols + col];
}

void ks_cell_str(struct ks_table *t, long row, int col, const char *s)
{
	union ks_cell *c = cell(t, row, col);

	if (c)
		c->s = ks_report_strdup(rep_of(t), s ? s : "");
}

void ks_cell_comm(struct ks_table *t, long row, int col, const char *s,
		  size_t n)
{
	union ks_cell *c = cell(t, row, col);
	char *p;

	if (!c)
		return;
	n = strnlen(s, n);
	p = arena_alloc(rep_of(t), n + 1);
	if (!p)
		return;
	memcpy(p, s, n);
	c->s = p;
}

void ks_cell_u64(struct ks_table *t, long row, int col, uint64_t v)
{
	union ks_cell *c = cell(t, row, col);

	if (c)
		c->u = v;
}

void ks_cell_i64(struct ks_table *t, long row, int col, int64_t v)
{
	union ks_cell *c = cell(t, row, col);

	if (c)
		c->i = v;
}

void ks_cell_f64(struct ks_table *t, long row, int col, double v)
{
	union ks_cell *c = cell(t, row, col);

	if (c)
		c->d = v;
}

void ks_cell_hist(struct ks_table *t, long row, int col,
		  const uint64_t *slots)
{
	union ks_cell *c = cell(t, row, col);
	uint64_t *h;

	if (!c)
		return;
	h = arena_alloc(rep_of(t), KS_HIST_SLOTS * sizeof(*h));
	if (!h)
		return;
	memcpy(h, slots, KS_HIST_SLOTS * sizeof(*h));
	c->hist = h;
}

void ks_cell_stack(struct ks_table *t, long row, int col,
		   const uint64_t *ips, int n, bool user)
{
	union ks_cell *c = cell(t, row, col);
	struct ks_stack *s;

	if (!c || n < 0)
		return;
	s = arena_alloc(rep_of(t), sizeof(*s) + n * sizeof(s->ips[0]));
	if (!s)
		return;
	s->n = n;
	s->user = user;
	memcpy(s->ips, ips, n * sizeof(s->ips[0]));
	c->st = s;
}

void ks_table_line(struct ks_table *t, bool after, const char *fmt, ...)
{
	const char **lines = after ? t->after : t->before;
	int *n = after ? &t->nafter : &t->nbefore;
	char buf[512];
	va_list ap;

	if (*n >= KS_TABLE_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	lines[(*n)++] = ks_report_strdup(rep_of(t), buf);
}

static struct ks_value *value(struct ks_report *rep, const char *key,
			      enum ks_vtype type)
{
	struct ks_value *v;

	if (rep->nvalues >= KS_MAX_VALUES)
		return NULL;
	v = &rep->values[rep->nvalues++];
	memset(v, 0, sizeof(*v));
	v->key = key;
	v->type = type;
	return v;
}

void ks_report_u64(struct ks_report *rep, const char *key, uint64_t x)
{
	struct ks_value *v = value(rep, key, KS_V_U64);

	if (v)
		v->v.u = x;
}

void ks_report_i64(struct ks_report *rep, const char *key, int64_t x)
{
	struct ks_value *v = value(rep, key, KS_V_I64);

	if (v)
		v->v.i = x;
}

void ks_report_f64(struct ks_report *rep, const char *key, double x,
		   int dec)
{
	struct ks_value *v = value(rep, key, KS_V_F64);

	if (v) {
		v->v.d = x;
		v->dec = dec;
	}
}

void ks_report_str(struct ks_report *rep, const char *key, const char *s)
{
	struct ks_value *v = value(rep, key, KS_V_STR);

	if (v)
		v->v.s = ks_report_strdup(rep, s);
}

void ks_report_null(struct ks_report *rep, const char *key)
{
	value(rep, key, KS_V_NULL);
}

void ks_report_f64s(struct ks_report *rep, const char *key,
		    const double *x, int n, int dec)
{
	struct ks_value *v = value(rep, key, KS_V_F64S);
	double *d;

	if (!v)
		return;
	d = arena_alloc(rep, (n ? n : 1) * sizeof(*d));
	if (!d) {
		rep->nvalues--;
		return;
	}
	memcpy(d, x, n * sizeof(*d));
	v->v.ds = d;
	v->n = n;
	v->dec = dec;
}

void ks_report_lost_stack(struct ks_report *rep, uint64_t events)
{
	rep->drops[KS_DROP_STACK] += events;
	rep->drops_total += events;
}

size_t ks_rows_shown(const struct ks_run *r, size_t n)
{
	return r->o.top && (size_t)r->o.top < n ? (size_t)r->o.top : n;
}

const char *ks_frame_fmt(const struct ks_table *t, const struct ks_stack *s,
			 int i, char *buf, size_t len)
{
	if (s->user)
		return t->usyms ? ks_usyms_fmt(t->usyms, s->ips[i], true) :
		       (snprintf(buf, len, "0x%" PRIx64, s->ips[i]), buf);
	return ks_ksyms_fmt(ks_kernel_syms(), s->ips[i], buf, len);
}

const char *ks_fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 10000000)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.1fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

const char *ks_fmt_time_iso(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts->tv_nsec / 1000000);
	return buf;
}
