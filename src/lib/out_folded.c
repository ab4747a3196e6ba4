// SPDX-License-Identifier: GPL-2.0
/*
 * The folded-stacks writer (--folded): FlameGraph's collapsed format, one
 * line per distinct stack, "comm;outermost;...;innermost WEIGHT", which
 * `kscope flamegraph`, flamegraph.pl, inferno and speedscope read.  Every
 * row is written (no -r) so that the weights add up to the report's
 * totals; rows that differ only in a key the format has no place for
 * (kind, lock) are one line with their weights summed.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "kscope.h"

static bool stack_in_use(const struct ks_col *c)
{
	return c->type == KS_CT_STACK &&
	       (c->flags & (KS_CF_NOTEXT | KS_CF_NOJSON)) !=
	       (KS_CF_NOTEXT | KS_CF_NOJSON);
}

bool ks_stack_view(const struct ks_report *rep, bool by_count,
		   struct ks_stack_view *v)
{
	for (int i = 0; i < rep->ntables; i++) {
		const struct ks_table *t = rep->tables[i];

		*v = (struct ks_stack_view){ t, -1, -1, -1, -1 };
		for (int c = 0; c < t->ncols; c++) {
			const struct ks_col *col = &t->cols[c];

			if (v->stack < 0 && stack_in_use(col))
				v->stack = c;
			if (v->count < 0 && (col->flags & KS_CF_COUNT))
				v->count = c;
			if (v->weight < 0 && (col->flags & KS_CF_WEIGHT))
				v->weight = c;
			if (v->comm < 0 && col->type == KS_CT_COMM &&
			    (col->flags & KS_CF_KEY))
				v->comm = c;
		}
		if (by_count)
			v->weight = v->count;
		if (v->stack >= 0 && v->weight >= 0 &&
		    (t->cols[v->weight].type == KS_CT_U64 ||
		     t->cols[v->weight].type == KS_CT_NS))
			return true;
	}
	return false;
}

/* a frame name fit for the format: ';' separates frames and a line ends
 * at a newline, so neither (nor any other control byte) may be in one */
static const char *clean(char *buf, size_t len, const char *s,
			 const char *suffix)
{
	size_t o = 0;

	for (; *s && o + 1 < len; s++) {
		unsigned char c = *s;

		buf[o++] = c == ';' ? ':' : (c < 0x20 || c == 0x7f) ? '?' : c;
	}
	buf[o] = '\0';
	if (suffix)
		snprintf(buf + o, len - o, "%s", suffix);
	return buf;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

const char *ks_folded_frame(const struct ks_table *t,
			    const struct ks_stack *s, int i, char *buf,
			    size_t len)
{
	uint64_t ip = s->ips[i];
	char tmp[512];

	if (!s->user) {
		const struct ks_ksym *k = ks_ksyms_lookup(ks_kernel_syms(), ip);

		if (!k) {
			snprintf(buf, len, "0x%" PRIx64 "_[k]", ip);
			return buf;
		}
		return clean(buf, len, k->name, "_[k]");
	}
	if (t->usyms) {
		struct ks_usym u;

		if (!ks_usyms_lookup(t->usyms, ip, true, &u)) {
			const char *obj = base_name(u.module ? u.module : "?");

			if (u.func)
				snprintf(tmp, sizeof(tmp), "%s [%s]", u.func,
					 obj);
			else
				snprintf(tmp, sizeof(tmp), "0x%" PRIx64 " [%s]",
					 u.module_offset, obj);
			return clean(buf, len, tmp, NULL);
		}
	}
	snprintf(buf, len, "0x%" PRIx64, ip);
	return buf;
}

struct line {
	char *key;
	uint64_t w;
};

static int by_key(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->key,
		      ((const struct line *)b)->key);
}

/* "comm;outermost;...;innermost" of one row, malloc'ed */
static char *row_key(const struct ks_stack_view *v, size_t row)
{
	const struct ks_table *t = v->t;
	const struct ks_stack *st = ks_cell(t, row, v->stack)->st;
	char *key = NULL, buf[512], cb[80];
	size_t klen = 0;
	bool first = true;
	FILE *f = open_memstream(&key, &klen);

	if (!f)
		return NULL;
	if (v->comm >= 0) {
		fputs(clean(buf, sizeof(buf), ks_comm_text(
			ks_cell(t, row, v->comm)->s, cb, sizeof(cb)), NULL), f);
		first = false;
	}
	if (!st || !st->n)
		fprintf(f, "%s[unknown]", first ? "" : ";");
	for (int i = st ? st->n - 1 : -1; i >= 0; i--) {
		fprintf(f, "%s%s", first ? "" : ";",
			ks_folded_frame(t, st, i, buf, sizeof(buf)));
		first = false;
	}
	if (fclose(f)) {
		free(key);
		return NULL;
	}
	/* a line beginning with '#' is a comment to flame graph readers
	 * (ours included): a task named "#x" must not hide its weight */
	if (key[0] == '#')
		key[0] = '?';
	return key;
}

int ks_folded_write(const struct ks_report *rep, bool by_count, FILE *f)
{
	struct ks_stack_view v;
	struct line *lines;
	size_t n = 0;
	int err = 0;

	if (!ks_stack_view(rep, by_count, &v))
		return 0;
	lines = calloc(v.t->nrows ? v.t->nrows : 1, sizeof(*lines));
	if (!lines)
		return -1;
	for (size_t row = 0; row < v.t->nrows; row++) {
		uint64_t w = ks_cell(v.t, row, v.weight)->u;

		if (!w)
			continue;
		lines[n].key = row_key(&v, row);
		if (!lines[n].key) {
			err = -1;
			break;
		}
		lines[n++].w = w;
	}
	qsort(lines, n, sizeof(*lines), by_key);
	for (size_t i = 0; i < n; i++) {
		uint64_t w = lines[i].w;

		while (i + 1 < n && !strcmp(lines[i].key, lines[i + 1].key)) {
			free(lines[i].key);
			w += lines[++i].w;
		}
		if (!err)
			fprintf(f, "%s %" PRIu64 "\n", lines[i].key, w);
		free(lines[i].key);
	}
	free(lines);
	return err;
}

void ks_write_folded(const struct ks_report *rep)
{
	const struct ks_run *r = rep->r;
	char iso[48];

	if (r->o.interval > 0)
		fprintf(r->out, "# time %s interval_s %.3f\n",
			ks_fmt_time_iso(&rep->time, iso, sizeof(iso)),
			rep->interval_s);
	if (ks_folded_write(rep, r->o.weight_count, r->out))
		ks_err("out of memory writing folded stacks");
	/* stdout is for a program to read: drops are said on stderr */
	if (rep->drops_total) {
		fflush(r->out);
		fprintf(stderr, "kscope %s: dropped %" PRIu64 " events:",
			r->tool->name, rep->drops_total);
		for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
			const char *name = ks_drop_name(r->tool, i);

			if (name && rep->drops[i])
				fprintf(stderr, " %s %" PRIu64, name,
					rep->drops[i]);
		}
		fputc('\n', stderr);
	}
}

struct ks_flame *ks_flame_of_report(const struct ks_report *rep,
				    bool by_count, const char **unit)
{
	struct ks_stack_view v;
	struct ks_flame *fl;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!ks_stack_view(rep, by_count, &v))
		return NULL;
	if (unit) {
		enum ks_unit u = v.t->cols[v.weight].unit;

		*unit = u == KS_UNIT_BYTES ? "bytes" :
			u == KS_UNIT_NS ? "ns" :
			u == KS_UNIT_PAGES ? "pages" : "count";
	}
	/* the same lines as --folded, so the picture and the file agree */
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	if (ks_folded_write(rep, by_count, f) | fclose(f)) {
		free(buf);
		return NULL;
	}
	fl = ks_flame_new();
	if (fl && ks_flame_parse(fl, buf, len)) {
		ks_flame_free(fl);
		fl = NULL;
	}
	free(buf);
	return fl;
}
