// SPDX-License-Identifier: GPL-2.0
/*
 * The pprof writer (--pprof FILE, kscope export's /debug/pprof/): a report's
 * stacks as a gzipped profile.proto, the format of github.com/google/pprof
 * (proto/profile.proto) that `go tool pprof`, Grafana Pyroscope and Parca
 * read.  It works from the report model alone, as the folded writer does:
 *
 * - the table is the first with a stack column in use and columns that
 *   name a pprof sample type (struct ks_col's `sample`);
 * - one Sample per row (every row, no -r, so the values add up to the
 *   report's totals), its values those columns': the event count
 *   (KS_CF_COUNT) first, then the rest in column order; the default sample
 *   type is the KS_CF_WEIGHT column's;
 * - the row's other keys (KS_CF_KEY strings: comm, kind, lock...) are
 *   string labels;
 * - kernel frames are Locations under one "[kernel.kallsyms]" Mapping,
 *   each with a Line of its Function (the symbol); user frames are
 *   Locations under a Mapping per object, with source file and line where
 *   the object has debug information;
 * - the report's window is time_nanos and duration_nanos; the table's
 *   text lines (sampling notes) and the drops are comments.
 *
 * The protobuf wire format is written here by hand: varints and
 * length-delimited fields are all a profile needs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "kscope.h"

/* ---- protobuf wire format ---------------------------------------------- */

struct pb {
	unsigned char *p;
	size_t len, cap;
	bool oom;
};

static void pb_put(struct pb *b, const void *d, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		unsigned char *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void pb_varint(struct pb *b, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n] = v & 0x7f;
		v >>= 7;
		if (v)
			buf[n] |= 0x80;
		n++;
	} while (v);
	pb_put(b, buf, n);
}

enum { WT_VARINT = 0, WT_LEN = 2 };

static void pb_key(struct pb *b, int field, int wt)
{
	pb_varint(b, (uint64_t)field << 3 | wt);
}

/* a varint field; proto3 leaves zeros out */
static void pb_u64(struct pb *b, int field, uint64_t v)
{
	if (!v)
		return;
	pb_key(b, field, WT_VARINT);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, int field, const void *d, size_t n)
{
	pb_key(b, field, WT_LEN);
	pb_varint(b, n);
	pb_put(b, d, n);
}

/* an embedded message (or packed varints) built in m, which is emptied */
static void pb_msg(struct pb *b, int field, struct pb *m)
{
	if (m->oom)
		b->oom = true;
	pb_bytes(b, field, m->p, m->len);
	m->len = 0;
}

/* ---- the profile's tables ---------------------------------------------- */

/* open addressing on 64-bit hashes, values are indexes + 1 (0: empty) */
struct index {
	uint64_t *hash;
	size_t *val;
	size_t cap, n;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mix(h);
}

static int index_grow(struct index *x)
{
	struct index n = { .cap = x->cap ? x->cap * 2 : 256 };

	n.hash = calloc(n.cap, sizeof(*n.hash));
	n.val = calloc(n.cap, sizeof(*n.val));
	if (!n.hash || !n.val) {
		free(n.hash);
		free(n.val);
		return -1;
	}
	for (size_t i = 0; i < x->cap; i++) {
		size_t j;

		if (!x->val[i])
			continue;
		for (j = x->hash[i] & (n.cap - 1); n.val[j];
		     j = (j + 1) & (n.cap - 1))
			;
		n.hash[j] = x->hash[i];
		n.val[j] = x->val[i];
	}
	n.n = x->n;
	free(x->hash);
	free(x->val);
	*x = n;
	return 0;
}

/* the slot for hash h where eq(ctx, value) holds, or the empty one to
 * fill; SIZE_MAX on no memory */
static size_t index_find(struct index *x, uint64_t h,
			 bool (*eq)(const void *ctx, size_t v),
			 const void *ctx)
{
	size_t j;

	if ((x->n + 1) * 2 > x->cap && index_grow(x))
		return SIZE_MAX;
	for (j = h & (x->cap - 1); x->val[j]; j = (j + 1) & (x->cap - 1))
		if (x->hash[j] == h && eq(ctx, x->val[j] - 1))
			break;
	return j;
}

static void index_free(struct index *x)
{
	free(x->hash);
	free(x->val);
}

struct loc {
	const void *space;	/* the usyms of a user address, NULL: kernel */
	uint64_t ip;
	size_t map;		/* mapping index + 1, 0: none */
	uint64_t func;		/* Function id, 0: none */
	int64_t line;
};

struct map {
	const void *space;
	uint64_t file;		/* string index */
	uint64_t start, limit, offset;
	bool funcs, files, lines;
	bool any;		/* an address was seen */
};

struct func {
	uint64_t name, file;	/* string indexes */
};

struct prof {
	char **strs;
	size_t nstrs, capstrs;
	struct index str_ix;
	struct loc *locs;
	size_t nlocs, caplocs;
	struct index loc_ix;
	struct map *maps;
	size_t nmaps, capmaps;
	struct func *funcs;
	size_t nfuncs, capfuncs;
	struct index func_ix;
	uint64_t unknown;	/* the Location of empty stacks, 0: none */
	bool oom;
};

/* room for element n of the array at *arr (cap elements of size bytes);
 * false, with pf->oom and the array as it was, on no memory */
static bool room(struct prof *pf, void *arr, size_t *cap, size_t n,
		 size_t size)
{
	void **p = arr, *q;

	if (pf->oom)
		return false;
	if (n < *cap)
		return true;
	q = realloc(*p, (*cap ? *cap * 2 : 64) * size);
	if (!q) {
		pf->oom = true;
		return false;
	}
	*p = q;
	*cap = *cap ? *cap * 2 : 64;
	return true;
}

/* the value x holds for hash h (an id), or 0 with *slot where the new
 * one goes; 0 and pf->oom on no memory */
static size_t lookup(struct prof *pf, struct index *x, uint64_t h,
		     bool (*eq)(const void *ctx, size_t v), const void *ctx,
		     size_t *slot)
{
	if (pf->oom)
		return 0;
	*slot = index_find(x, h, eq, ctx);
	if (*slot == SIZE_MAX) {
		pf->oom = true;
		return 0;
	}
	return x->val[*slot];
}

static void insert(struct index *x, size_t slot, uint64_t h, size_t v)
{
	x->hash[slot] = h;
	x->val[slot] = v;
	x->n++;
}

/*
 * Strings are UTF-8 in protobuf (Python's decoder refuses others) but task
 * names and symbols are bytes: a byte that is not part of valid UTF-8, or
 * a control byte, becomes the text \xNN, as the other writers show it.
 */
static char *utf8_copy(const char *s)
{
	size_t n = strlen(s), o = 0;
	char *d = malloc(n * 4 + 1);
	const unsigned char *p = (const unsigned char *)s;

	if (!d)
		return NULL;
	while (*p) {
		int l = ks_utf8_len(p);

		if (!l || *p < 0x20 || *p == 0x7f) {
			o += sprintf(d + o, "\\x%02x", *p++);
			continue;
		}
		memcpy(d + o, p, l);
		o += l;
		p += l;
	}
	d[o] = '\0';
	return d;
}

struct str_ctx {
	const struct prof *pf;
	const char *s;
};

static bool str_eq(const void *ctx, size_t v)
{
	const struct str_ctx *c = ctx;

	return !strcmp(c->pf->strs[v], c->s);
}

/* the string table index of s (0 is ""), 0 on no memory too */
static uint64_t str_id(struct prof *pf, const char *s)
{
	struct str_ctx c = { pf, NULL };
	uint64_t h;
	size_t v, slot;
	char *copy;

	if (!s || !*s || pf->oom)
		return 0;
	copy = utf8_copy(s);
	if (!copy) {
		pf->oom = true;
		return 0;
	}
	c.s = copy;
	h = str_hash(copy);
	v = lookup(pf, &pf->str_ix, h, str_eq, &c, &slot);
	if (v || !room(pf, &pf->strs, &pf->capstrs, pf->nstrs,
		       sizeof(char *))) {
		free(copy);
		return v ? v - 1 : 0;
	}
	pf->strs[pf->nstrs] = copy;
	insert(&pf->str_ix, slot, h, ++pf->nstrs);
	return pf->nstrs - 1;
}

struct func_ctx {
	const struct prof *pf;
	struct func f;
};

static bool func_eq(const void *ctx, size_t v)
{
	const struct func_ctx *c = ctx;

	return c->pf->funcs[v].name == c->f.name &&
	       c->pf->funcs[v].file == c->f.file;
}

/* the Function id of name in file (ids are index + 1) */
static uint64_t func_id(struct prof *pf, const char *name, const char *file)
{
	struct func_ctx c = { pf, { str_id(pf, name), str_id(pf, file) } };
	uint64_t h = mix(c.f.name * 0x9e3779b97f4a7c15ULL ^ c.f.file);
	size_t v, slot;

	v = lookup(pf, &pf->func_ix, h, func_eq, &c, &slot);
	if (v || !room(pf, &pf->funcs, &pf->capfuncs, pf->nfuncs,
		       sizeof(*pf->funcs)))
		return v;
	pf->funcs[pf->nfuncs] = c.f;
	insert(&pf->func_ix, slot, h, ++pf->nfuncs);
	return pf->nfuncs;
}

/* the mapping of file in address space space (index + 1) */
static size_t map_of(struct prof *pf, const void *space, const char *file)
{
	uint64_t f = str_id(pf, file);

	for (size_t i = 0; i < pf->nmaps; i++)
		if (pf->maps[i].space == space && pf->maps[i].file == f)
			return i + 1;
	if (!room(pf, &pf->maps, &pf->capmaps, pf->nmaps, sizeof(*pf->maps)))
		return 0;
	/* every frame of it named, until one is not */
	pf->maps[pf->nmaps] = (struct map){ .space = space, .file = f,
					    .funcs = true };
	return ++pf->nmaps;
}

static void map_add(struct map *m, uint64_t ip, uint64_t offset,
		    bool named, bool file, bool line)
{
	if (!m->any || ip < m->start) {
		m->start = ip;
		m->offset = offset;
	}
	if (!m->any || ip >= m->limit)
		m->limit = ip + 1;
	m->any = true;
	m->funcs &= named;
	m->files |= file;
	m->lines |= line;
}

/* fill a new Location for frame ip of a stack */
static void loc_fill(struct prof *pf, const struct ks_table *t, bool user,
		     uint64_t ip, struct loc *l)
{
	*l = (struct loc){ .space = user ? (const void *)t->usyms : NULL,
			   .ip = ip };
	if (!user) {
		const struct ks_ksym *k = ks_ksyms_lookup(ks_kernel_syms(), ip);

		l->map = map_of(pf, NULL, "[kernel.kallsyms]");
		if (k)
			l->func = func_id(pf, k->name, NULL);
		if (l->map)
			map_add(&pf->maps[l->map - 1], ip, 0, k, false, false);
		return;
	}
	if (t->usyms) {
		struct ks_usym u;

		if (!ks_usyms_lookup(t->usyms, ip, true, &u)) {
			l->map = map_of(pf, t->usyms, u.module ? u.module : "?");
			/* no symbol: the address in its mapping says it */
			l->func = u.func ? func_id(pf, u.func, u.file) : 0;
			l->line = u.file ? u.line : 0;
			if (l->map)
				map_add(&pf->maps[l->map - 1], ip,
					u.module_offset, u.func, u.file,
					u.file && u.line > 0);
		}
	}
}

struct loc_ctx {
	const struct prof *pf;
	const void *space;
	uint64_t ip;
};

static bool loc_eq(const void *ctx, size_t v)
{
	const struct loc_ctx *c = ctx;

	return c->pf->locs[v].space == c->space && c->pf->locs[v].ip == c->ip;
}

/* the Location id of frame i of a stack (ids are index + 1) */
static uint64_t loc_id(struct prof *pf, const struct ks_table *t,
		       const struct ks_stack *st, int i)
{
	struct loc_ctx c = { pf, st->user ? (const void *)t->usyms : NULL,
			     st->ips[i] };
	uint64_t h = mix(c.ip ^ (uintptr_t)c.space * 0x9e3779b97f4a7c15ULL);
	size_t v, slot;

	v = lookup(pf, &pf->loc_ix, h, loc_eq, &c, &slot);
	if (v || !room(pf, &pf->locs, &pf->caplocs, pf->nlocs,
		       sizeof(*pf->locs)))
		return v;
	loc_fill(pf, t, st->user, c.ip, &pf->locs[pf->nlocs]);
	insert(&pf->loc_ix, slot, h, ++pf->nlocs);
	return pf->nlocs;
}

/* a frame for a row whose stack is empty (never captured): it still
 * weighs, under one location without an address */
static uint64_t unknown_loc(struct prof *pf)
{
	uint64_t f = func_id(pf, "[unknown]", NULL);

	if (pf->unknown)
		return pf->unknown;
	if (!room(pf, &pf->locs, &pf->caplocs, pf->nlocs, sizeof(*pf->locs)))
		return 0;
	pf->locs[pf->nlocs] = (struct loc){ .func = f };
	return pf->unknown = ++pf->nlocs;
}

static void prof_free(struct prof *pf)
{
	for (size_t i = 0; i < pf->nstrs; i++)
		free(pf->strs[i]);
	free(pf->strs);
	free(pf->locs);
	free(pf->maps);
	free(pf->funcs);
	index_free(&pf->str_ix);
	index_free(&pf->loc_ix);
	index_free(&pf->func_ix);
}

/* ---- reports into samples ---------------------------------------------- */

#define MAX_SAMPLE_COLS	8

/* what a report gives the profile: its table, the columns of the sample
 * values (in the profile's order), its labels */
struct view {
	const struct ks_table *t;
	int stack;
	int vals[MAX_SAMPLE_COLS], nvals;
	int dflt;		/* index into vals of the default type */
};

static bool stack_in_use(const struct ks_col *c)
{
	return c->type == KS_CT_STACK &&
	       (c->flags & (KS_CF_NOTEXT | KS_CF_NOJSON)) !=
	       (KS_CF_NOTEXT | KS_CF_NOJSON);
}

static bool integer_col(const struct ks_col *c)
{
	return c->type == KS_CT_U64 || c->type == KS_CT_NS;
}

static bool view_of(const struct ks_report *rep, struct view *v)
{
	for (int i = 0; i < rep->ntables; i++) {
		const struct ks_table *t = rep->tables[i];

		*v = (struct view){ .t = t, .stack = -1 };
		for (int c = 0; c < t->ncols; c++)
			if (v->stack < 0 && stack_in_use(&t->cols[c]))
				v->stack = c;
		/* the event count first, as the Go runtime orders them */
		for (int pass = 0; pass < 2; pass++)
			for (int c = 0; c < t->ncols; c++) {
				const struct ks_col *col = &t->cols[c];
				bool count = col->flags & KS_CF_COUNT;

				if (!col->sample || !integer_col(col) ||
				    count != !pass ||
				    v->nvals == MAX_SAMPLE_COLS)
					continue;
				if (col->flags & KS_CF_WEIGHT)
					v->dflt = v->nvals;
				v->vals[v->nvals++] = c;
			}
		if (v->stack >= 0 && v->nvals)
			return true;
	}
	return false;
}

static const char *unit_name(enum ks_unit u)
{
	switch (u) {
	case KS_UNIT_BYTES:
		return "bytes";
	case KS_UNIT_PAGES:
		return "pages";
	case KS_UNIT_NS:
		return "nanoseconds";
	case KS_UNIT_US:
		return "microseconds";
	case KS_UNIT_MS:
		return "milliseconds";
	default:
		return "count";
	}
}

/* the same sample types, in the same order */
static bool same_types(const struct view *a, const struct view *b)
{
	if (a->nvals != b->nvals)
		return false;
	for (int i = 0; i < a->nvals; i++) {
		const struct ks_col *x = &a->t->cols[a->vals[i]];
		const struct ks_col *y = &b->t->cols[b->vals[i]];

		if (strcmp(x->sample, y->sample) || x->unit != y->unit)
			return false;
	}
	return true;
}

static void label(struct pb *s, struct pb *tmp, struct prof *pf,
		  const char *key, const char *val)
{
	uint64_t v = str_id(pf, val);

	if (!v)
		return;
	pb_u64(tmp, 1, str_id(pf, key));
	pb_u64(tmp, 2, v);
	pb_msg(s, 3, tmp);
}

/* the rows of one report's table as Sample messages into out */
static void samples(struct prof *pf, const struct view *v, const char *tool,
		    struct pb *out)
{
	const struct ks_table *t = v->t;
	struct pb s = { 0 }, tmp = { 0 }, lab = { 0 };
	char cb[80];

	for (size_t row = 0; row < t->nrows && !pf->oom; row++) {
		const struct ks_stack *st = ks_cell(t, row, v->stack)->st;
		bool any = false;

		for (int i = 0; i < v->nvals; i++)
			any |= ks_cell(t, row, v->vals[i])->u != 0;
		if (!any)
			continue;
		for (int i = 0; st && i < st->n; i++)	/* innermost first */
			pb_varint(&tmp, loc_id(pf, t, st, i));
		if (!st || !st->n)
			pb_varint(&tmp, unknown_loc(pf));
		pb_msg(&s, 1, &tmp);
		for (int i = 0; i < v->nvals; i++)
			pb_varint(&tmp, ks_cell(t, row, v->vals[i])->u);
		pb_msg(&s, 2, &tmp);
		for (int c = 0; c < t->ncols; c++) {
			const struct ks_col *col = &t->cols[c];
			const char *val = ks_cell(t, row, c)->s;

			if (!(col->flags & KS_CF_KEY))
				continue;
			if (col->type == KS_CT_COMM)
				val = ks_comm_text(val, cb, sizeof(cb));
			else if (col->type != KS_CT_STR)
				continue;
			label(&s, &lab, pf, col->key, val);
		}
		if (tool)
			label(&s, &lab, pf, "tool", tool);
		pb_msg(out, 2, &s);
	}
	if (s.oom || tmp.oom || lab.oom)
		pf->oom = true;
	free(s.p);
	free(tmp.p);
	free(lab.p);
}

static void comment(struct pb *b, struct prof *pf, const char *s)
{
	pb_u64(b, 13, str_id(pf, s));
}

/* the table's text lines (sampling, what a run found) and the drops */
static void comments(struct prof *pf, const struct ks_report *rep,
		     const struct view *v, struct pb *out)
{
	const struct ks_run *r = rep->r;
	char buf[512];
	size_t o;

	snprintf(buf, sizeof(buf), "kscope %s, mode %s", r->tool->name,
		 ks_mode_name(r->mode));
	comment(out, pf, buf);
	for (int i = 0; i < v->t->nbefore; i++)
		comment(out, pf, v->t->before[i]);
	for (int i = 0; i < v->t->nafter; i++)
		comment(out, pf, v->t->after[i]);
	if (!rep->drops_total)
		return;
	o = snprintf(buf, sizeof(buf), "kscope %s dropped %" PRIu64
		     " events:", r->tool->name, rep->drops_total);
	for (int i = 0; i < KS_MAX_DROP_REASONS && o < sizeof(buf); i++) {
		const char *name = ks_drop_name(r->tool, i);

		if (name && rep->drops[i])
			o += snprintf(buf + o, sizeof(buf) - o, " %s %" PRIu64,
				      name, rep->drops[i]);
	}
	comment(out, pf, buf);
}

static int64_t ts_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void value_type(struct pb *out, int field, struct prof *pf,
		       const struct ks_col *c)
{
	struct pb m = { 0 };

	pb_u64(&m, 1, str_id(pf, c->sample));
	pb_u64(&m, 2, str_id(pf, unit_name(c->unit)));
	pb_msg(out, field, &m);
	free(m.p);
}

int ks_pprof_encode(const struct ks_report *const *reps, int n,
		    unsigned char **out, size_t *outlen)
{
	struct view first, v;
	struct prof pf = { 0 };
	struct pb body = { 0 }, tail = { 0 }, m = { 0 }, line = { 0 };
	int64_t start = 0, end = 0, have = -1;
	int err = 0;

	*out = NULL;
	*outlen = 0;
	/* the string table begins with "" */
	if (!room(&pf, &pf.strs, &pf.capstrs, 0, sizeof(char *)) ||
	    !(pf.strs[0] = strdup("")))
		goto oom;
	pf.nstrs = 1;
	for (int i = 0; i < n; i++) {
		const struct ks_report *rep = reps[i];
		int64_t t1 = ts_ns(&rep->time);
		int64_t t0 = t1 - (int64_t)(rep->interval_s * 1e9);

		if (!view_of(rep, &v))
			continue;
		if (have < 0) {
			first = v;
			have = i;
			for (int k = 0; k < v.nvals; k++)
				value_type(&body, 1, &pf,
					   &v.t->cols[v.vals[k]]);
		} else if (!same_types(&first, &v)) {
			continue;
		}
		if (!start || t0 < start)
			start = t0;
		if (t1 > end)
			end = t1;
		samples(&pf, &v, n > 1 ? rep->r->tool->name : NULL, &body);
		comments(&pf, rep, &v, &tail);
	}
	if (have < 0) {
		err = 1;
		goto done;
	}
	for (size_t i = 0; i < pf.nmaps; i++) {
		const struct map *mp = &pf.maps[i];

		pb_u64(&m, 1, i + 1);
		pb_u64(&m, 2, mp->start);
		pb_u64(&m, 3, mp->limit);
		pb_u64(&m, 4, mp->offset);
		pb_u64(&m, 5, mp->file);
		pb_u64(&m, 7, mp->funcs);
		pb_u64(&m, 8, mp->files);
		pb_u64(&m, 9, mp->lines);
		pb_msg(&body, 3, &m);
	}
	for (size_t i = 0; i < pf.nlocs; i++) {
		const struct loc *l = &pf.locs[i];

		pb_u64(&m, 1, i + 1);
		pb_u64(&m, 2, l->map);
		pb_u64(&m, 3, l->ip);
		if (l->func) {
			pb_u64(&line, 1, l->func);
			pb_u64(&line, 2, l->line);
			pb_msg(&m, 4, &line);
		}
		pb_msg(&body, 4, &m);
	}
	for (size_t i = 0; i < pf.nfuncs; i++) {
		pb_u64(&m, 1, i + 1);
		pb_u64(&m, 2, pf.funcs[i].name);
		pb_u64(&m, 3, pf.funcs[i].name);
		pb_u64(&m, 4, pf.funcs[i].file);
		pb_msg(&body, 5, &m);
	}
	pb_u64(&body, 9, start);
	pb_u64(&body, 10, end - start);
	/* one event per sample: nothing is sampled by period */
	value_type(&body, 11, &pf, &first.t->cols[first.vals[first.dflt]]);
	pb_u64(&body, 12, 1);
	pb_put(&body, tail.p, tail.len);	/* comments */
	pb_u64(&body, 14, str_id(&pf,
				 first.t->cols[first.vals[first.dflt]].sample));
	/* the strings last: everything above has named its own */
	for (size_t i = 0; i < pf.nstrs; i++)
		pb_bytes(&body, 6, pf.strs[i], strlen(pf.strs[i]));
	if (pf.oom || body.oom || tail.oom || m.oom || line.oom)
		goto oom;
	if (ks_gzip(body.p, body.len, 6, out, outlen))
		goto oom;
	goto done;
oom:
	err = -1;
done:
	free(body.p);
	free(tail.p);
	free(m.p);
	free(line.p);
	prof_free(&pf);
	return err;
}

void ks_write_pprof(const struct ks_report *rep)
{
	const char *path = rep->r->o.pprof;
	unsigned char *buf;
	size_t len;
	char tmp[4096];
	FILE *f;
	int rc;

	rc = ks_pprof_encode(&rep, 1, &buf, &len);
	if (rc < 0) {
		ks_err("out of memory writing the profile %s", path);
		return;
	}
	if (rc > 0) {	/* --pprof is for tools with stacks */
		ks_err("%s: this report has no stacks to profile", path);
		return;
	}
	/* beside it, then renamed: a reader never sees half a profile, and
	 * with an interval the file is always the latest report's */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp)) {
		ks_err("%s: file name too long", path);
		free(buf);
		return;
	}
	f = fopen(tmp, "we");
	if (f && fwrite(buf, 1, len, f) != len) {
		int e = errno;

		fclose(f);
		unlink(tmp);
		f = NULL;
		errno = e;
	}
	if (!f) {
		ks_err("cannot write %s: %s", tmp, strerror(errno));
	} else if (fclose(f)) {
		ks_err("cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
	} else if (rename(tmp, path)) {
		ks_err("cannot rename %s to %s: %s", tmp, path,
		       strerror(errno));
		unlink(tmp);
	}
	free(buf);
}
