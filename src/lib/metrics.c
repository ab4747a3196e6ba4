// SPDX-License-Identifier: GPL-2.0
/*
 * Metrics: tools' reports added into monotonic series per label set, and
 * the Prometheus / OpenMetrics text exposition of them (kscope export).
 *
 * A report is read through the columns it declares (struct ks_col: key,
 * type, unit), never through a tool's own structures, so a family only
 * names the table and columns it comes from (metric_table.c).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "kscope.h"

struct series {
	char *key;		/* label values, each NUL-terminated */
	size_t keylen;
	uint64_t hash;
	uint64_t u;		/* integer part, in the family's base unit */
	double d;		/* what is not an integer (gauges, F64 cells) */
	uint64_t *slots;	/* histograms: KS_HIST_SLOTS counts */
	uint64_t sum_u;
	double sum_d;
};

struct fam {
	const struct ks_mfamily *def;
	int nlabels;
	const char *lnames[KS_M_LABELS + 1];
	bool comm;		/* the last label is comm (--label comm) */
	bool own;		/* the exporter's own: bounded, never folded */
	unsigned int warned;	/* sources found wanting (bit per source) */
	/* histograms: ns per unit of the slots (workq slots are us) */
	uint64_t hist_ns;
	struct series **order;	/* insertion order: a stable exposition */
	size_t n, cap;
	size_t *index;		/* open addressing into order; SIZE_MAX: free */
	size_t icap;
};

struct ks_mstore {
	struct fam *fams;
	int nfams;
	long max_series;
	int folded;		/* the family counting folded rows, or -1 */
};

/* ---- label values ---------------------------------------------------- */

/*
 * Prometheus refuses a scrape whose label values are not UTF-8, and task
 * names are bytes: a byte that is not part of valid UTF-8 (and a control
 * byte) becomes the four characters \xNN, whose backslash is escaped.
 */
void ks_metric_label_value(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		int n = ks_utf8_len(p);

		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '"')
			fputs("\\\"", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (!n || *p < 0x20 || *p == 0x7f)
			fprintf(f, "\\\\x%02x", *p);
		else {
			fwrite(p, 1, n, f);
			p += n;
			continue;
		}
		p++;
	}
	fputc('"', f);
}

/* HELP text: backslash and newline escaped (OpenMetrics: quotes too) */
static void help_text(FILE *f, const char *s, bool om)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && om)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* ---- allocation sites ------------------------------------------------- */

/*
 * The kernel's allocation entry points and their internals, as prefixes
 * of symbol names (suffixes like .isra.0, _noprof and _node vary by
 * version and compiler).  A memleak stack is blamed on its first frame
 * outside these, the caller that asked for memory, as kmem's call site is.
 */
static const char *const alloc_prefixes[] = {
	"kmalloc", "__kmalloc", "___kmalloc", "__do_kmalloc",
	"kmem_cache_alloc", "__kmem_cache_alloc", "kvmalloc", "__kvmalloc",
	"kvrealloc", "krealloc", "__krealloc", "kmemdup", "kstrdup",
	"kstrndup", "slab_alloc", "__slab_alloc", "___slab_alloc",
	"slab_pre_alloc_hook", "slab_post_alloc_hook", "alloc_slab_page",
	"allocate_slab", "new_slab", "alloc_pages", "__alloc_pages",
	"alloc_frozen_pages", "__alloc_frozen_pages", "folio_alloc",
	"__folio_alloc", "get_page_from_freelist", "__get_free_pages",
	"get_zeroed_page", "vma_alloc_folio", "rmqueue", "prep_new_page",
	"post_alloc_hook", "pcpu_alloc", "__alloc_percpu",
	"__alloc_reserved_percpu", "mempool_alloc", "vmalloc", "__vmalloc",
	"vzalloc", "vm_area_alloc_pages", NULL,
};

bool ks_is_alloc_func(const char *name)
{
	for (int i = 0; alloc_prefixes[i]; i++)
		if (!strncmp(name, alloc_prefixes[i],
			     strlen(alloc_prefixes[i])))
			return true;
	return false;
}

int ks_alloc_site_frame(const struct ks_stack *st)
{
	for (int i = 0; i < st->n; i++) {
		const struct ks_ksym *s;

		if (st->user)
			return i;
		s = ks_ksyms_lookup(ks_kernel_syms(), st->ips[i]);
		if (!s || !ks_is_alloc_func(s->name))
			return i;
	}
	return st->n ? st->n - 1 : -1;
}

/* ---- the store ---------------------------------------------------------- */

static uint64_t hash_key(const char *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)k[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static bool is_unit(const struct ks_mfamily *d, const char *u)
{
	return d->unit && !strcmp(d->unit, u);
}

struct ks_mstore *ks_mstore_new(const struct ks_mfamily *fams,
				long max_series, unsigned int extra_labels)
{
	struct ks_mstore *s = calloc(1, sizeof(*s));
	int n = 0;

	while (fams[n].name)
		n++;
	if (s)
		s->fams = calloc(n ? n : 1, sizeof(*s->fams));
	if (!s || !s->fams) {
		free(s);
		ks_err("out of memory");
		return NULL;
	}
	s->nfams = n;
	s->max_series = max_series > 0 ? max_series : 1;
	s->folded = -1;
	for (int i = 0; i < n; i++) {
		struct fam *f = &s->fams[i];

		f->def = &fams[i];
		f->own = !fams[i].src[0].tool;
		while (f->nlabels < KS_M_LABELS && fams[i].labels[f->nlabels])
			f->lnames[f->nlabels] = fams[i].labels[f->nlabels],
			f->nlabels++;
		if ((extra_labels & KS_ML_COMM) && fams[i].by_comm) {
			f->comm = true;
			f->lnames[f->nlabels++] = "comm";
		}
		if (!strcmp(fams[i].name, "kscope_series_folded_total"))
			s->folded = i;
	}
	return s;
}

static void free_series(struct series *x)
{
	free(x->key);
	free(x->slots);
	free(x);
}

static void fam_clear(struct fam *f)
{
	for (size_t i = 0; i < f->n; i++)
		free_series(f->order[i]);
	free(f->order);
	free(f->index);
	f->order = NULL;
	f->index = NULL;
	f->n = f->cap = f->icap = 0;
}

void ks_mstore_free(struct ks_mstore *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nfams; i++)
		fam_clear(&s->fams[i]);
	free(s->fams);
	free(s);
}

static struct fam *find_fam(const struct ks_mstore *s, const char *name)
{
	for (int i = 0; i < s->nfams; i++)
		if (!strcmp(s->fams[i].def->name, name))
			return &s->fams[i];
	return NULL;
}

void ks_mstore_clear(struct ks_mstore *s, const char *family)
{
	struct fam *f = find_fam(s, family);

	if (f)
		fam_clear(f);
}

size_t ks_mstore_series(const struct ks_mstore *s, const char *family)
{
	struct fam *f = find_fam(s, family);

	return f ? f->n : 0;
}

static struct series *lookup(struct fam *f, const char *key, size_t len,
			     uint64_t h)
{
	if (!f->icap)
		return NULL;
	for (size_t i = h & (f->icap - 1);; i = (i + 1) & (f->icap - 1)) {
		struct series *x;

		if (f->index[i] == SIZE_MAX)
			return NULL;
		x = f->order[f->index[i]];
		if (x->hash == h && x->keylen == len &&
		    !memcmp(x->key, key, len))
			return x;
	}
}

static int grow_index(struct fam *f)
{
	size_t ncap = f->icap ? f->icap * 2 : 64;
	size_t *idx = malloc(ncap * sizeof(*idx));

	if (!idx)
		return -1;
	memset(idx, 0xff, ncap * sizeof(*idx));
	for (size_t k = 0; k < f->n; k++) {
		size_t i = f->order[k]->hash & (ncap - 1);

		while (idx[i] != SIZE_MAX)
			i = (i + 1) & (ncap - 1);
		idx[i] = k;
	}
	free(f->index);
	f->index = idx;
	f->icap = ncap;
	return 0;
}

static struct series *insert(struct fam *f, const char *key, size_t len,
			     uint64_t h)
{
	struct series *x;
	size_t i;

	if ((f->n + 1) * 2 > f->icap && grow_index(f))
		return NULL;
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 16;
		struct series **o = realloc(f->order, nc * sizeof(*o));

		if (!o)
			return NULL;
		f->order = o;
		f->cap = nc;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	x->key = malloc(len ? len : 1);
	if (f->def->type == KS_M_HISTOGRAM)
		x->slots = calloc(KS_HIST_SLOTS, sizeof(*x->slots));
	if (!x->key || (f->def->type == KS_M_HISTOGRAM && !x->slots)) {
		free_series(x);
		return NULL;
	}
	memcpy(x->key, key, len);
	x->keylen = len;
	x->hash = h;
	for (i = h & (f->icap - 1); f->index[i] != SIZE_MAX;
	     i = (i + 1) & (f->icap - 1))
		;
	f->index[i] = f->n;
	f->order[f->n++] = x;
	return x;
}

/* the key whose labels are all "other": where label sets beyond
 * max_series go */
static size_t other_key(const struct fam *f, char *key)
{
	for (int i = 0; i < f->nlabels; i++)
		memcpy(key + 6 * i, "other", 6);
	return 6 * f->nlabels;
}

static struct series *get_series(struct ks_mstore *s, struct fam *f,
				 const char *key, size_t len)
{
	char okey[(KS_M_LABELS + 1) * 6];
	size_t olen = other_key(f, okey);
	uint64_t h = hash_key(key, len);
	struct series *x = lookup(f, key, len, h);
	const char *v[] = { f->def->name };

	if (x)
		return x;
	/* the exporter's own families are bounded by what kscope is */
	if (f->own || (long)f->n < s->max_series - 1)
		return insert(f, key, len, h);
	/* full: the last place is for "other", which sums the rest */
	h = hash_key(okey, olen);
	x = lookup(f, okey, olen, h);
	if (!x)
		x = insert(f, okey, olen, h);
	if (x && (len != olen || memcmp(key, okey, len)) && s->folded >= 0)
		ks_mstore_add(s, s->fams[s->folded].def->name, v, 1);
	return x;
}

static struct series *series_of(struct ks_mstore *s, struct fam *f,
				const char *const *values)
{
	char key[(KS_M_LABELS + 1) * 256];
	size_t len = 0;

	for (int i = 0; i < f->nlabels; i++) {
		size_t n = strnlen(values[i] ? values[i] : "", 255);

		memcpy(key + len, values[i] ? values[i] : "", n);
		key[len + n] = '\0';
		len += n + 1;
	}
	return get_series(s, f, key, len);
}

int ks_mstore_add(struct ks_mstore *s, const char *family,
		  const char *const *values, uint64_t v)
{
	struct fam *f = find_fam(s, family);
	struct series *x = f ? series_of(s, f, values) : NULL;

	if (!x)
		return -1;
	x->u += v;
	return 0;
}

int ks_mstore_set(struct ks_mstore *s, const char *family,
		  const char *const *values, double v)
{
	struct fam *f = find_fam(s, family);
	struct series *x = f ? series_of(s, f, values) : NULL;

	if (!x)
		return -1;
	x->u = 0;
	x->d = v;
	return 0;
}

/* ---- reports into families ---------------------------------------------- */

/* factor from a column's unit to the family's base unit, 0: none fits */
static uint64_t unit_factor(const struct ks_mfamily *d, enum ks_unit u)
{
	if (is_unit(d, "seconds"))
		return u == KS_UNIT_NS ? 1 : u == KS_UNIT_US ? 1000 :
		       u == KS_UNIT_MS ? 1000000 : 0;
	if (is_unit(d, "bytes"))
		return u == KS_UNIT_BYTES ? 1 : 0;
	/* unitless: events, or things counted (pages) */
	return u == KS_UNIT_COUNT || u == KS_UNIT_NONE ||
	       u == KS_UNIT_PAGES ? 1 : 0;
}

static int col_of(const struct ks_table *t, const char *key)
{
	for (int c = 0; key && c < t->ncols; c++)
		if (!strcmp(t->cols[c].key, key))
			return c;
	return -1;
}

/* a cell's value into a series' integer and fractional parts */
static void cell_value(const struct ks_table *t, size_t row, int c,
		       uint64_t factor, uint64_t *u, double *d)
{
	const union ks_cell *v = ks_cell(t, row, c);

	switch (t->cols[c].type) {
	case KS_CT_U64:
	case KS_CT_NS:
		*u += v->u * factor;
		break;
	case KS_CT_I64:
		if (v->i > 0)
			*u += (uint64_t)v->i * factor;
		break;
	case KS_CT_F64:
		/* us and ms with decimals from whole ns: whole ns again */
		if (factor > 1 && v->d >= 0)
			*u += (uint64_t)(v->d * factor + 0.5);
		else
			*d += v->d * factor;
		break;
	default:
		break;
	}
}

/* row's label values, joined with NULs into key; its length */
static size_t row_key(const struct fam *f, const struct ks_table *t, size_t row, const int *lc,
		      char *key, size_t size)
{
	size_t len = 0;

	for (int i = 0; i < f->nlabels; i++) {
		const union ks_cell *v = lc[i] >= 0 ? ks_cell(t, row, lc[i]) :
					 NULL;
		char buf[256];
		const char *s = "";

		if (v) {
			switch (t->cols[lc[i]].type) {
			case KS_CT_STR:
			case KS_CT_COMM:
				s = v->s;
				break;
			case KS_CT_STACK: {
				int k = v->st ? ks_alloc_site_frame(v->st) :
					-1;

				s = k < 0 ? "[unknown]" :
				    ks_frame_fmt(t, v->st, k, buf,
						 sizeof(buf));
				break;
			}
			case KS_CT_U64:
			case KS_CT_NS:
				snprintf(buf, sizeof(buf), "%" PRIu64, v->u);
				s = buf;
				break;
			default:
				break;
			}
		}
		/* a label value is at most 255 bytes: no key outgrows key */
		{
			size_t n = strnlen(s, 255);

			if (len + n + 1 > size)
				break;
			memcpy(key + len, s, n);
			key[len + n] = '\0';
			len += n + 1;
		}
	}
	return len;
}

/* a family whose source is not what the report has is a bug of the
 * table in metric_table.c: said once, not hidden */
static void wanting(struct fam *f, const struct ks_msource *src,
		    const char *what)
{
	unsigned int bit = 1u << (src - f->def->src);

	if (f->warned & bit)
		return;
	f->warned |= bit;
	ks_err("metric %s: %s's report has no %s", f->def->name, src->tool,
	       what);
}

static void add_source(struct ks_mstore *s, struct fam *f,
		       const struct ks_msource *src, const struct ks_table *t)
{
	const struct ks_mfamily *d = f->def;
	int vc = col_of(t, src->value), sc = col_of(t, src->sum);
	int lc[KS_M_LABELS + 1];
	uint64_t vf, sf = 0;
	char key[(KS_M_LABELS + 1) * 256];

	if (vc < 0 || (src->sum && sc < 0)) {
		wanting(f, src, vc < 0 ? src->value : src->sum);
		return;
	}
	for (int i = 0; i < f->nlabels; i++) {
		const char *k = f->comm && i == f->nlabels - 1 ? "comm" :
				src->cols[i] ? src->cols[i] : d->labels[i];

		lc[i] = col_of(t, k);
		if (lc[i] < 0) {
			wanting(f, src, k);
			return;
		}
	}
	if (d->type == KS_M_HISTOGRAM) {
		if (t->cols[vc].type != KS_CT_HIST) {
			wanting(f, src, "histogram column");
			return;
		}
		vf = unit_factor(d, t->cols[vc].unit);
		if (!vf || (f->hist_ns && f->hist_ns != vf)) {
			wanting(f, src, "histogram in the family's unit");
			return;
		}
		f->hist_ns = vf;
		if (sc >= 0)
			sf = unit_factor(d, t->cols[sc].unit);
	} else {
		vf = unit_factor(d, t->cols[vc].unit);
		if (!vf) {
			wanting(f, src, "value in the family's unit");
			return;
		}
	}
	for (size_t row = 0; row < t->nrows; row++) {
		size_t len = row_key(f, t, row, lc, key, sizeof(key));
		struct series *x = get_series(s, f, key, len);

		if (!x)
			return;
		if (d->type != KS_M_HISTOGRAM) {
			cell_value(t, row, vc, vf, &x->u, &x->d);
			continue;
		}
		for (int k = 0; k < KS_HIST_SLOTS; k++)
			x->slots[k] += ks_cell(t, row, vc)->hist ?
				       ks_cell(t, row, vc)->hist[k] : 0;
		if (sc >= 0 && sf)
			cell_value(t, row, sc, sf, &x->sum_u, &x->sum_d);
	}
}

void ks_mstore_add_report(struct ks_mstore *s, const struct ks_report *rep)
{
	const char *tool = rep->r->tool->name;

	for (int i = 0; i < s->nfams; i++) {
		struct fam *f = &s->fams[i];
		bool cleared = false;

		for (int k = 0; k < KS_M_SOURCES && f->def->src[k].tool; k++) {
			const struct ks_msource *src = &f->def->src[k];

			if (strcmp(src->tool, tool))
				continue;
			/* a gauge is what this report says, nothing older */
			if (f->def->type == KS_M_GAUGE && !cleared) {
				fam_clear(f);
				cleared = true;
			}
			int t;

			for (t = 0; t < rep->ntables; t++)
				if (!strcmp(rep->tables[t]->name, src->table))
					break;
			if (t < rep->ntables)
				add_source(s, f, src, rep->tables[t]);
			else if (rep->ntables)
				wanting(f, src, src->table);
		}
	}
}

/* ---- exposition ------------------------------------------------------------ */

/* the shortest text that reads back as the same double */
static void dbl(FILE *f, double v)
{
	char buf[40];

	for (int p = 15; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fputs(buf, f);
}

/* a value in the family's base unit, as the exposition wants it */
static void value(FILE *f, const struct ks_mfamily *d, uint64_t u, double x)
{
	if (is_unit(d, "seconds")) {
		if (x == 0) {	/* whole nanoseconds: exact decimal seconds */
			char frac[16];
			int n;

			n = snprintf(frac, sizeof(frac), "%09" PRIu64,
				     u % 1000000000);
			while (n > 1 && frac[n - 1] == '0')
				frac[--n] = '\0';
			fprintf(f, "%" PRIu64 ".%s", u / 1000000000, frac);
		} else {
			dbl(f, (u + x) / 1e9);
		}
		return;
	}
	if (x == 0)
		fprintf(f, "%" PRIu64, u);
	else
		dbl(f, u + x);
}

static void labels(FILE *f, const struct fam *m, const struct series *x,
		   const char *le)
{
	const char *v = x->key;

	if (!m->nlabels && !le)
		return;
	fputc('{', f);
	for (int i = 0; i < m->nlabels; i++) {
		fprintf(f, "%s%s=", i ? "," : "", m->lnames[i]);
		ks_metric_label_value(f, v);
		v += strlen(v) + 1;
	}
	if (le)
		fprintf(f, "%sle=\"%s\"", m->nlabels ? "," : "", le);
	fputc('}', f);
}

/* the family name without the sample suffix OpenMetrics adds itself */
static int base_len(const struct ks_mfamily *d, bool om)
{
	size_t n = strlen(d->name);
	const char *sfx = d->type == KS_M_COUNTER ? "_total" :
			  d->type == KS_M_INFO ? "_info" : NULL;

	if (om && sfx && n > strlen(sfx) &&
	    !strcmp(d->name + n - strlen(sfx), sfx))
		n -= strlen(sfx);
	return (int)n;
}

static void write_hist(FILE *f, const struct fam *m, const struct series *x)
{
	const struct ks_mfamily *d = m->def;
	uint64_t cum = 0;
	int hi = -1;
	char le[40];

	for (int k = 0; k < KS_HIST_SLOTS; k++)
		if (x->slots[k])
			hi = k;
	/* slot k holds integers up to ks_hist_slot_max(k) of its unit, so
	 * in ns up to (max + 1) * unit - 1: an exact, inclusive bound */
	for (int k = 0; k <= hi && k < KS_HIST_SLOTS - 1; k++) {
		uint64_t ns = (ks_hist_slot_max(k) + 1) * m->hist_ns - 1;
		char frac[16];
		int n;

		cum += x->slots[k];
		n = snprintf(frac, sizeof(frac), "%09" PRIu64,
			     ns % 1000000000);
		while (n > 1 && frac[n - 1] == '0')
			frac[--n] = '\0';
		snprintf(le, sizeof(le), "%" PRIu64 ".%s", ns / 1000000000,
			 frac);
		fprintf(f, "%s_bucket", d->name);
		labels(f, m, x, le);
		fprintf(f, " %" PRIu64 "\n", cum);
	}
	if (hi == KS_HIST_SLOTS - 1)
		cum += x->slots[hi];
	fprintf(f, "%s_bucket", d->name);
	labels(f, m, x, "+Inf");
	fprintf(f, " %" PRIu64 "\n", cum);
	fprintf(f, "%s_sum", d->name);
	labels(f, m, x, NULL);
	fputc(' ', f);
	value(f, d, x->sum_u, x->sum_d);
	fprintf(f, "\n%s_count", d->name);
	labels(f, m, x, NULL);
	fprintf(f, " %" PRIu64 "\n", cum);
}

void ks_mstore_write(const struct ks_mstore *s, FILE *f, bool om)
{
	static const char *const types[] = {
		[KS_M_COUNTER] = "counter", [KS_M_GAUGE] = "gauge",
		[KS_M_HISTOGRAM] = "histogram", [KS_M_INFO] = "info",
	};

	for (int i = 0; i < s->nfams; i++) {
		const struct fam *m = &s->fams[i];
		const struct ks_mfamily *d = m->def;
		int bl = base_len(d, om);

		if (!m->n)
			continue;
		fprintf(f, "# HELP %.*s ", bl, d->name);
		help_text(f, d->help, om);
		fprintf(f, "\n# TYPE %.*s %s\n", bl, d->name,
			d->type == KS_M_INFO && !om ? "gauge" :
			types[d->type]);
		if (om && d->unit && bl > (int)strlen(d->unit) &&
		    !strncmp(d->name + bl - strlen(d->unit), d->unit,
			     strlen(d->unit)))
			fprintf(f, "# UNIT %.*s %s\n", bl, d->name, d->unit);
		for (size_t k = 0; k < m->n; k++) {
			const struct series *x = m->order[k];

			if (d->type == KS_M_HISTOGRAM) {
				write_hist(f, m, x);
				continue;
			}
			fputs(d->name, f);
			labels(f, m, x, NULL);
			fputc(' ', f);
			if (d->type == KS_M_INFO)
				fputs("1", f);
			else
				value(f, d, x->u, x->d);
			fputc('\n', f);
		}
	}
	if (om)
		fputs("# EOF\n", f);
}
