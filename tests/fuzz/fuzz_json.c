// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer (src/lib/json.c) under any sequence of calls a printer
 * can make: objects and arrays nested to any depth (deeper than the
 * writer tracks: written as null), keys and strings of arbitrary bytes,
 * every integer, doubles including NaN and infinities.  The input drives a
 * grammar, so every sequence is a legal use; the output must be one line
 * per top-level object that json-c parses strictly into exactly the value
 * the calls described (built alongside as the expectation).
 */
#include <math.h>
#include "kscope.h"
#include "fuzz.h"
#include "json_check.h"

struct gen {
	struct ks_fuzz_in in;
	struct ks_json j;
	int depth;		/* containers open, as the writer counts */
	int budget;		/* values left, so every input ends */
};

static struct json_object *value(struct gen *g);

/* a string of input bytes: length byte, then the bytes */
static const char *bytes(struct gen *g, size_t *n)
{
	size_t want = ks_fuzz_u64(&g->in, 1);
	const char *s = (const char *)g->in.p;

	*n = want < g->in.n ? want : g->in.n;
	g->in.p += *n;
	g->in.n -= *n;
	return s;
}

static struct json_object *string(struct gen *g)
{
	size_t n, len;
	const char *s = bytes(g, &n);
	char *e = ks_json_expect(s, n, &len);
	struct json_object *o = json_object_new_string_len(e, len);

	free(e);
	ks_json_strn(&g->j, s, n);
	return o;
}

static struct json_object *number(struct gen *g, int kind)
{
	uint64_t u = ks_fuzz_u64(&g->in, 8);
	int dec = ks_fuzz_u64(&g->in, 1) % 10;
	char txt[512];
	double d;

	if (kind == 0) {
		ks_json_u64(&g->j, u);
		return u > INT64_MAX ? json_object_new_uint64(u) :
		       json_object_new_int64(u);
	}
	if (kind == 1) {
		ks_json_i64(&g->j, (int64_t)u);
		return json_object_new_int64((int64_t)u);
	}
	memcpy(&d, &u, sizeof(d));
	/* a parser reads "%.0f" as an integer, and json-c keeps integers
	 * in 64 bits: a huge one gets a decimal, so it reads as a double */
	if (dec == 0 && fabs(d) >= 1e15)
		dec = 1;
	ks_json_double(&g->j, d, dec);
	if (!isfinite(d))
		return NULL;	/* JSON has no NaN: written as null */
	snprintf(txt, sizeof(txt), "%.*f", dec, d);
	if (dec == 0)
		return json_object_new_int64(strtoll(txt, NULL, 10));
	return json_object_new_double(strtod(txt, NULL));
}

/* a container: objects get a key before each member */
static struct json_object *container(struct gen *g, bool obj)
{
	bool too_deep = g->depth >= KS_JSON_MAX_DEPTH - 1;
	struct json_object *o = NULL;
	int members = ks_fuzz_u64(&g->in, 1) % 8;

	if (obj)
		ks_json_obj_begin(&g->j);
	else
		ks_json_arr_begin(&g->j);
	g->depth++;
	if (!too_deep)
		o = obj ? json_object_new_object() : json_object_new_array();
	for (int i = 0; i < members && g->budget > 0 && g->in.n; i++) {
		struct json_object *v;

		char key[257] = "";
		size_t n, len;
		char *e = NULL;

		if (obj) {
			const char *k = bytes(g, &n);

			memcpy(key, k, n);	/* a C string: up to a NUL */
			key[n] = '\0';
			e = ks_json_expect(key, n, &len);
			ks_json_key(&g->j, key);
		}
		v = value(g);
		if (o && obj)
			json_object_object_add(o, e, v);
		else if (o)
			json_object_array_add(o, v);
		else
			json_object_put(v);
		free(e);
	}
	g->depth--;
	if (obj)
		ks_json_obj_end(&g->j);
	else
		ks_json_arr_end(&g->j);
	return o;	/* NULL: deeper than the writer goes, written null */
}

static struct json_object *value(struct gen *g)
{
	g->budget--;
	switch (ks_fuzz_u64(&g->in, 1) % 8) {
	case 0: return string(g);
	case 1: case 2: case 3: return number(g, ks_fuzz_u64(&g->in, 1) % 3);
	case 4: {
		bool b = ks_fuzz_u64(&g->in, 1) & 1;

		ks_json_bool(&g->j, b);
		return json_object_new_boolean(b);
	}
	case 5:
		ks_json_null(&g->j);
		return NULL;
	case 6: return g->budget > 0 ? container(g, true) : string(g);
	default: return g->budget > 0 ? container(g, false) : string(g);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen g = { .in = { data, size }, .budget = 2000 };
	char *out = NULL, *line;
	size_t len = 0;
	struct json_object *want[64];
	int nwant = 0, nline = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		abort();
	ks_json_init(&g.j, f);
	/* top level: objects, one per line, as reports are */
	while (g.in.n && g.budget > 0 && nwant < 64)
		want[nwant++] = container(&g, true);
	fclose(f);
	if (g.j.depth != 0 || g.j.skip)
		abort();
	line = out;
	for (; line < out + len; nline++) {
		char *nl = memchr(line, '\n', out + len - line);
		struct json_object *got;

		if (!nl || nline >= nwant)
			abort();	/* every object ends its line */
		got = ks_json_parse(line, nl - line);
		if (!got) {
			fprintf(stderr, "not JSON: %.*s\n", (int)(nl - line),
				line);
			abort();
		}
		if (!json_object_equal(got, want[nline])) {
			fprintf(stderr, "wrote %.*s\nwanted %s\n",
				(int)(nl - line), line,
				json_object_to_json_string(want[nline]));
			abort();
		}
		json_object_put(got);
		line = nl + 1;
	}
	if (nline != nwant)
		abort();
	for (int i = 0; i < nwant; i++)
		json_object_put(want[i]);
	free(out);
	return 0;
}
