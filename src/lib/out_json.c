// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer of reports: one object per line (docs/json.md), the same
 * for every tool.  A dotted key ("queue.count", "frees.matched") nests an
 * object; keys that share a prefix are adjacent in the tool's columns.
 */
#include <string.h>
#include <time.h>
#include "kscope.h"

/*
 * Open and close the objects between the path now open (cur, depth
 * components) and key's: returns the last component of key, to write.
 */
struct nest {
	char cur[8][48];
	int depth;
};

static const char *nest_to(struct ks_json *j, struct nest *ns,
			   const char *key)
{
	const char *comp[8];
	size_t len[8];
	int n = 0, same = 0;
	const char *p = key;

	for (;;) {
		const char *dot = strchr(p, '.');

		if (!dot || n >= 7)
			break;
		comp[n] = p;
		len[n] = dot - p;
		n++;
		p = dot + 1;
	}
	while (same < n && same < ns->depth &&
	       strlen(ns->cur[same]) == len[same] &&
	       !strncmp(ns->cur[same], comp[same], len[same]))
		same++;
	while (ns->depth > same) {
		ks_json_obj_end(j);
		ns->depth--;
	}
	for (; ns->depth < n; ns->depth++) {
		size_t l = len[ns->depth] < 47 ? len[ns->depth] : 47;

		memcpy(ns->cur[ns->depth], comp[ns->depth], l);
		ns->cur[ns->depth][l] = '\0';
		ks_json_key(j, ns->cur[ns->depth]);
		ks_json_obj_begin(j);
	}
	return p;
}

static void nest_end(struct ks_json *j, struct nest *ns)
{
	while (ns->depth > 0) {
		ks_json_obj_end(j);
		ns->depth--;
	}
}

static void cell_json(struct ks_json *j, const struct ks_table *t,
		      const struct ks_col *c, const union ks_cell *v,
		      const char *key)
{
	char buf[256];

	switch (c->type) {
	case KS_CT_STR:
		ks_json_kstr(j, key, v->s);
		break;
	case KS_CT_COMM:
		ks_json_key(j, key);
		ks_json_strn(j, v->s, KS_COMM_LEN);
		break;
	case KS_CT_U64:
	case KS_CT_NS:
		ks_json_ku64(j, key, v->u);
		break;
	case KS_CT_I64:
		ks_json_key(j, key);
		ks_json_i64(j, v->i);
		break;
	case KS_CT_F64:
		ks_json_kdouble(j, key, v->d, c->jdec);
		break;
	case KS_CT_HIST:
		if (v->hist) {
			ks_hist_json(j, key, v->hist, KS_HIST_SLOTS);
		} else {
			ks_json_key(j, key);
			ks_json_arr_begin(j);
			ks_json_arr_end(j);
		}
		break;
	case KS_CT_STACK:
		ks_json_key(j, key);
		ks_json_arr_begin(j);
		for (int i = 0; v->st && i < v->st->n; i++)
			ks_json_str(j, ks_frame_fmt(t, v->st, i, buf,
						    sizeof(buf)));
		ks_json_arr_end(j);
		break;
	}
}

static void table_json(struct ks_json *j, const struct ks_report *rep,
		       const struct ks_table *t)
{
	size_t shown = ks_rows_shown(rep->r, t->nrows);

	ks_json_key(j, t->name);
	ks_json_arr_begin(j);
	for (size_t row = 0; row < shown; row++) {
		struct nest ns = { .depth = 0 };

		ks_json_obj_begin(j);
		for (int c = 0; c < t->ncols; c++) {
			const struct ks_col *col = &t->cols[c];

			if (!col->key || (col->flags & KS_CF_NOJSON))
				continue;
			cell_json(j, t, col, ks_cell(t, row, c),
				  nest_to(j, &ns, col->key));
		}
		nest_end(j, &ns);
		ks_json_obj_end(j);
	}
	ks_json_arr_end(j);
}

static void value_json(struct ks_json *j, const struct ks_value *v,
		       const char *key)
{
	ks_json_key(j, key);
	switch (v->type) {
	case KS_V_U64:
		ks_json_u64(j, v->v.u);
		break;
	case KS_V_I64:
		ks_json_i64(j, v->v.i);
		break;
	case KS_V_F64:
		ks_json_double(j, v->v.d, v->dec);
		break;
	case KS_V_STR:
		ks_json_str(j, v->v.s);
		break;
	case KS_V_NULL:
		ks_json_null(j);
		break;
	case KS_V_F64S:
		ks_json_arr_begin(j);
		for (int i = 0; i < v->n; i++)
			ks_json_double(j, v->v.ds[i], v->dec);
		ks_json_arr_end(j);
		break;
	}
}

void ks_write_json(const struct ks_report *rep)
{
	const struct ks_run *r = rep->r;
	struct ks_json j;
	struct nest ns = { .depth = 0 };
	char iso[48];

	ks_json_init(&j, r->out);
	ks_json_obj_begin(&j);
	ks_json_kstr(&j, "tool", r->tool->name);
	ks_json_kstr(&j, "time", ks_fmt_time_iso(&rep->time, iso,
						   sizeof(iso)));
	ks_json_kdouble(&j, "interval_s", rep->interval_s, 3);
	ks_json_kstr(&j, "mode", ks_mode_name(r->mode));
	ks_json_key(&j, "dropped");
	ks_json_obj_begin(&j);
	for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
		const char *n = ks_drop_name(r->tool, i);

		if (n)
			ks_json_ku64(&j, n, rep->drops[i]);
	}
	ks_json_obj_end(&j);
	if (r->note)
		ks_json_kstr(&j, "note", r->note);
	for (int i = 0; i < rep->ntables; i++)
		table_json(&j, rep, rep->tables[i]);
	for (int i = 0; i < rep->nvalues; i++)
		value_json(&j, &rep->values[i],
			   nest_to(&j, &ns, rep->values[i].key));
	nest_end(&j, &ns);
	ks_json_obj_end(&j);
}
