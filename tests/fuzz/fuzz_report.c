// SPDX-License-Identifier: GPL-2.0
/*
 * The report writers (src/lib/out_json.c, out_text.c) on tables of any
 * content: task names and strings of arbitrary bytes (a task names itself;
 * a target's ELF names its functions), every number, histograms, stacks,
 * nested keys, -r.  The JSON line must parse strictly (json-c) and give
 * back each shown row's cells; the text writer must not fail; the pprof
 * writer's profile must inflate (zlib) to well-formed protobuf whose
 * strings are UTF-8 and whose samples' first values add up to the rows'
 * counts.
 */
#include <math.h>
#include "kscope.h"
#include "fuzz.h"
#include "gunzip.h"
#include "json_check.h"

static const struct ks_col cols[] = {
	{ "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY },
	{ "site", "SITE", KS_CT_STR, 0, .flags = KS_CF_KEY },
	{ "count", "COUNT", KS_CT_U64, 10, .unit = KS_UNIT_COUNT,
	  .flags = KS_CF_COUNT | KS_CF_WEIGHT, .sample = "contentions" },
	{ "delta", "DELTA", KS_CT_I64, 8 },
	{ "avg", "AVG", KS_CT_F64, 8, .dec = 1, .jdec = 3 },
	{ "queue.wait_ns", "WAIT", KS_CT_NS, 8 },
	{ "queue.count", "QUEUED", KS_CT_U64, 8 },
	{ "hist", NULL, KS_CT_HIST, 0, .flags = KS_CF_TEXT_HIST,
	  .hist_unit = "ns" },
	{ "stack", NULL, KS_CT_STACK, 0 },
};
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

static const struct ks_tool tool = { .name = "fuzz" };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ks_kernel_syms();	/* once, not per input */
	return 0;
}

struct rowv {
	char comm[KS_COMM_LEN];
	char site[256];
	uint64_t count;
};

static void check_json(const char *out, size_t len, size_t shown,
		       const struct rowv *rows)
{
	struct json_object *o, *entries;

	if (!len || out[len - 1] != '\n' || memchr(out, '\n', len) !=
	    out + len - 1)
		abort();	/* one line */
	o = ks_json_parse(out, len - 1);
	if (!o || !json_object_object_get_ex(o, "entries", &entries) ||
	    json_object_array_length(entries) != shown)
		abort();
	for (size_t i = 0; i < shown; i++) {
		struct json_object *e = json_object_array_get_idx(entries, i);
		struct json_object *c, *q;

		if (!json_object_object_get_ex(e, "comm", &c) ||
		    !ks_json_str_is(c, rows[i].comm, KS_COMM_LEN) ||
		    !json_object_object_get_ex(e, "site", &c) ||
		    !ks_json_str_is(c, rows[i].site, sizeof(rows[i].site)) ||
		    !json_object_object_get_ex(e, "count", &c) ||
		    json_object_get_uint64(c) != rows[i].count ||
		    !json_object_object_get_ex(e, "queue", &q) ||
		    !json_object_object_get_ex(q, "count", &c))
			abort();
	}
	json_object_put(o);
}

/* ---- a protobuf walk (wire format only) ---------------------------- */
struct pbr {
	const uint8_t *p, *end;
};

static bool pb_varint(struct pbr *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;

		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* the next field: its number and wire type, a varint's value or a
 * length-delimited field's bytes in sub */
static bool pb_field(struct pbr *r, int *field, int *wt, uint64_t *v,
		     struct pbr *sub)
{
	uint64_t key;

	if (!pb_varint(r, &key))
		abort();
	*field = key >> 3;
	*wt = key & 7;
	if (*field < 1)
		abort();
	if (*wt == 0) {
		if (!pb_varint(r, v))
			abort();
		return true;
	}
	if (*wt != 2 || !pb_varint(r, v) || *v > (uint64_t)(r->end - r->p))
		abort();	/* kscope writes varints and lengths only */
	sub->p = r->p;
	sub->end = r->p + *v;
	r->p += *v;
	return true;
}

/* a Profile: fields 1-14, strings UTF-8; the sum of the samples' first
 * values (location ids and values are packed) */
static uint64_t pb_profile(const uint8_t *buf, size_t len)
{
	struct pbr r = { buf, buf + len }, sub, s2;
	uint64_t sum = 0, v;
	int field, wt, nstrs = 0;

	while (r.p < r.end) {
		pb_field(&r, &field, &wt, &v, &sub);
		if (field > 14)
			abort();
		if (field == 6) {	/* string_table: UTF-8, "" first */
			if (!nstrs++ && sub.p != sub.end)
				abort();
			for (const uint8_t *c = sub.p; c < sub.end;) {
				int n = ks_utf8_len(c);

				if (!n || c + n > sub.end)
					abort();
				c += n;
			}
		}
		if (field != 2)
			continue;
		while (sub.p < sub.end) {	/* a Sample */
			pb_field(&sub, &field, &wt, &v, &s2);
			if (field == 2 && wt == 2 && s2.p < s2.end) {
				if (!pb_varint(&s2, &v))
					abort();
				sum += v;
			}
		}
	}
	return sum;
}

static void check_pprof(const struct ks_report *rep, uint64_t counts)
{
	const struct ks_report *reps[1] = { rep };
	unsigned char *gz, *raw;
	size_t len, rlen;

	if (ks_pprof_encode(reps, 1, &gz, &len) || len < 2 ||
	    gz[0] != 0x1f || gz[1] != 0x8b)
		abort();
	raw = ks_fuzz_gunzip(gz, len, &rlen);
	if (pb_profile(raw, rlen) != counts)
		abort();
	free(raw);
	free(gz);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ks_fuzz_in in = { data, size };
	struct rowv rows[64];
	struct ks_report rep;
	struct ks_table *t;
	struct ks_run r;
	size_t nrows = 0, len = 0;
	char *out = NULL;
	FILE *f;

	if (ks_run_init(&r, &tool))
		abort();
	r.o.top = ks_fuzz_u64(&in, 1) % 70;
	f = open_memstream(&out, &len);
	if (!f)
		abort();
	r.out = f;
	ks_report_begin(&rep, &r, true);
	t = ks_table_add(&rep, "entries", cols, NCOLS);
	if (!t)
		abort();
	while (in.n && nrows < 64) {
		struct rowv *v = &rows[nrows];
		uint64_t hist[KS_HIST_SLOTS] = { 0 }, ips[16];
		long row = ks_row_add(t);
		size_t sl = ks_fuzz_u64(&in, 1), nips;
		double d;

		if (row < 0)
			abort();
		memset(v, 0, sizeof(*v));
		for (int i = 0; i < KS_COMM_LEN && in.n; i++)
			v->comm[i] = ks_fuzz_u64(&in, 1);
		sl = sl < in.n ? sl : in.n;
		sl = sl < sizeof(v->site) - 1 ? sl : sizeof(v->site) - 1;
		memcpy(v->site, in.p, sl);
		in.p += sl;
		in.n -= sl;
		v->count = ks_fuzz_u64(&in, 8);
		ks_cell_comm(t, row, 0, v->comm, KS_COMM_LEN);
		ks_cell_str(t, row, 1, v->site);
		ks_cell_u64(t, row, 2, v->count);
		ks_cell_i64(t, row, 3, ks_fuzz_u64(&in, 8));
		d = (double)(int64_t)ks_fuzz_u64(&in, 8) /
		    (double)(ks_fuzz_u64(&in, 2) + 1);
		if (ks_fuzz_u64(&in, 1) == 0xff)
			d = ks_fuzz_u64(&in, 1) & 1 ? NAN : INFINITY;
		ks_cell_f64(t, row, 4, d);
		ks_cell_u64(t, row, 5, ks_fuzz_u64(&in, 8));
		ks_cell_u64(t, row, 6, ks_fuzz_u64(&in, 4));
		for (int i = ks_fuzz_u64(&in, 1) % 4; i > 0 && in.n; i--)
			hist[ks_fuzz_u64(&in, 1) % KS_HIST_SLOTS] =
				ks_fuzz_u64(&in, 8);
		ks_cell_hist(t, row, 7, hist);
		nips = ks_fuzz_u64(&in, 1) % 17;
		for (size_t i = 0; i < nips; i++)
			ips[i] = ks_fuzz_u64(&in, 8);
		ks_cell_stack(t, row, 8, ips, nips, false);
		nrows++;
	}
	ks_table_line(t, true, "Total: %zu rows", nrows);
	ks_report_u64(&rep, "total_count", nrows);
	ks_report_f64(&rep, "frees.rate", nrows / 3.0, 2);

	r.o.json = true;
	ks_report_write(&rep);
	fclose(f);
	r.out = NULL;	/* closed here: ks_run_free() closes an r->out */
	check_json(out, len, r.o.top && (size_t)r.o.top < nrows ? r.o.top :
		   nrows, rows);
	free(out);

	out = NULL;
	f = open_memstream(&out, &len);
	if (!f)
		abort();
	r.out = f;
	r.o.json = false;
	r.o.hist = true;
	ks_report_write(&rep);
	fclose(f);
	r.out = NULL;
	if (nrows && !len)
		abort();
	free(out);
	{
		uint64_t counts = 0;

		for (size_t i = 0; i < nrows; i++)
			counts += rows[i].count;
		check_pprof(&rep, counts);
	}
	ks_report_free(&rep);
	ks_run_free(&r);
	return 0;
}
