// SPDX-License-Identifier: GPL-2.0
/*
 * The folded-stack writer (out_folded.c) and the flame graph (flame.c).
 * The first input byte picks one of two harnesses:
 *
 *  - even: the rest is folded text anyone may hand `kscope flamegraph`;
 *    the SVG drawn from it must be well-formed XML (libxml2, strict, no
 *    network), for every option combination the input picks;
 *  - odd: the rest describes a report (task names and kernel stacks of
 *    any bytes and addresses, weights); the folded text written from it
 *    must be lines "FRAMES WEIGHT" whose weights add up to the rows'
 *    (the ground truth: the harness's own sum), which the flame graph's
 *    parser takes back whole (no bad line, the same total), and whose
 *    SVG is well-formed XML.
 */
#include <libxml/parser.h>
#include "kscope.h"
#include "fuzz.h"

static const struct ks_col cols[] = {
	{ "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY },
	{ "count", "COUNT", KS_CT_U64, 10, .unit = KS_UNIT_COUNT,
	  .flags = KS_CF_COUNT },
	{ "bytes", "BYTES", KS_CT_U64, 10, .unit = KS_UNIT_BYTES,
	  .flags = KS_CF_WEIGHT },
	{ "stack", NULL, KS_CT_STACK, 0 },
};
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

static const struct ks_tool tool = { .name = "fuzz" };

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	ks_kernel_syms();	/* once, not per input */
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	return 0;
}

static void svg_well_formed(const struct ks_flame *fl, uint8_t how)
{
	struct ks_flame_opts o = {
		.title = how & 1 ? "t<&>\"'" : NULL,
		.unit = how & 2 ? "bytes" : how & 4 ? "ns" : NULL,
		.icicle = how & 8,
		.width = how & 16 ? 37 : 0,
	};
	char *svg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&svg, &len);
	xmlDocPtr doc;

	if (!f)
		abort();
	if (ks_flame_svg(fl, &o, f))
		abort();
	if (fclose(f))
		abort();
	doc = xmlReadMemory(svg, (int)len, "flame.svg", NULL,
			    XML_PARSE_NONET);
	if (!doc) {
		fprintf(stderr, "not well-formed XML:\n%.*s\n", (int)len, svg);
		abort();
	}
	xmlFreeDoc(doc);
	free(svg);
}

static void from_text(const uint8_t *data, size_t size)
{
	struct ks_flame *fl = ks_flame_new();

	if (!fl || ks_flame_parse(fl, (const char *)data + 1, size - 1))
		abort();
	svg_well_formed(fl, data[0] >> 1);
	ks_flame_free(fl);
}

/* one folded line: FRAMES, one space, a decimal weight, "\n" */
static uint64_t line_weight(const char *p, const char *e)
{
	const char *sp = e;
	uint64_t w = 0;

	while (sp > p && sp[-1] >= '0' && sp[-1] <= '9')
		sp--;
	if (sp == e || sp == p || sp[-1] != ' ' || e - sp > 20)
		abort();
	for (const char *q = p; q < sp; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			abort();	/* control bytes in a frame */
	for (const char *q = sp; q < e; q++)
		w = w * 10 + (uint64_t)(*q - '0');
	return w;
}

static void from_report(const uint8_t *data, size_t size)
{
	struct ks_fuzz_in in = { data + 1, size - 1 };
	struct ks_report rep;
	struct ks_table *t;
	struct ks_flame *fl;
	struct ks_run r;
	uint64_t want = 0, got = 0;
	size_t nrows = 0, len = 0, first;
	char *out = NULL;
	FILE *f;

	if (ks_run_init(&r, &tool))
		abort();
	r.out = stdout;
	ks_report_begin(&rep, &r, true);
	t = ks_table_add(&rep, "entries", cols, NCOLS);
	if (!t)
		abort();
	while (in.n && nrows < 64) {
		char comm[KS_COMM_LEN] = "";
		uint64_t ips[20], w;
		long row = ks_row_add(t);
		size_t nips;

		if (row < 0)
			abort();
		for (int i = 0; i < KS_COMM_LEN && in.n; i++)
			comm[i] = ks_fuzz_u64(&in, 1);
		w = ks_fuzz_u64(&in, 4);	/* no sum can overflow */
		ks_cell_comm(t, row, 0, comm, KS_COMM_LEN);
		ks_cell_u64(t, row, 1, ks_fuzz_u64(&in, 2));
		ks_cell_u64(t, row, 2, w);
		nips = ks_fuzz_u64(&in, 1) % 21;
		for (size_t i = 0; i < nips; i++)
			ips[i] = ks_fuzz_u64(&in, 8);
		ks_cell_stack(t, row, 3, ips, nips, false);
		want += w;
		nrows++;
	}
	f = open_memstream(&out, &len);
	if (!f || ks_folded_write(&rep, false, f) || fclose(f))
		abort();
	for (const char *p = out, *end = out + len; p < end; ) {
		const char *nl = memchr(p, '\n', end - p);

		if (!nl)
			abort();	/* every line ends */
		got += line_weight(p, nl);
		p = nl + 1;
	}
	if (got != want) {
		fprintf(stderr, "folded weights %llu, rows %llu\n%.*s",
			(unsigned long long)got, (unsigned long long)want,
			(int)len, out);
		abort();
	}
	fl = ks_flame_new();
	if (!fl || ks_flame_parse(fl, out, len))
		abort();
	if (ks_flame_bad_lines(fl, &first) || ks_flame_total(fl) != want) {
		fprintf(stderr, "flame total %llu (bad lines %zu) of %llu\n",
			(unsigned long long)ks_flame_total(fl),
			ks_flame_bad_lines(fl, &first),
			(unsigned long long)want);
		abort();
	}
	svg_well_formed(fl, data[0] >> 1);
	ks_flame_free(fl);
	free(out);
	ks_report_free(&rep);
	r.out = NULL;
	ks_run_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		from_report(data, size);
	else
		from_text(data, size);
	return 0;
}
