// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the metric store and its exposition (metrics.c): reports
 * made by hand, with totals known by construction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kscope.h"

static const struct ks_tool tool_a = { .name = "ta" };

enum { C_NAME, C_KIND, C_COMM, C_COUNT, C_BYTES, C_NS, C_US, C_HIST,
       C_USHIST, C_NCOLS };

static const struct ks_col cols[] = {
	[C_NAME] = { "name", "NAME", KS_CT_STR, .flags = KS_CF_KEY },
	[C_KIND] = { "kind", "KIND", KS_CT_STR, .flags = KS_CF_KEY },
	[C_COMM] = { "comm", "COMM", KS_CT_COMM, .flags = KS_CF_KEY },
	[C_COUNT] = { "count", "N", KS_CT_U64, .unit = KS_UNIT_COUNT },
	[C_BYTES] = { "bytes", "B", KS_CT_U64, .unit = KS_UNIT_BYTES },
	[C_NS] = { "total_ns", "T", KS_CT_NS, .unit = KS_UNIT_NS },
	[C_US] = { "total_us", "U", KS_CT_F64, .unit = KS_UNIT_US },
	[C_HIST] = { "hist", NULL, KS_CT_HIST, .unit = KS_UNIT_NS },
	[C_USHIST] = { "ushist", NULL, KS_CT_HIST, .unit = KS_UNIT_US },
};

#define SRC(v, ...) { { "ta", "entries", v, NULL, { __VA_ARGS__ } } }
#define HSRC(v, sum) { { "ta", "entries", v, sum, { NULL } } }

static const struct ks_mfamily fams[] = {
	{ "t_events_total", KS_M_COUNTER, NULL, "Events \\ and\nlines.",
	  { "name", "kind" }, true, SRC("count") },
	{ "t_bytes_total", KS_M_COUNTER, "bytes", "Bytes.", { "name" }, false,
	  SRC("bytes") },
	{ "t_wait_seconds", KS_M_HISTOGRAM, "seconds", "Waits.", { "name" },
	  false, HSRC("hist", "total_ns") },
	{ "t_run_seconds", KS_M_HISTOGRAM, "seconds", "Runs.", { "name" },
	  false, HSRC("ushist", "total_us") },
	{ "t_level_bytes", KS_M_GAUGE, "bytes", "Level.", { "name" }, false,
	  SRC("bytes") },
	{ .name = "t_info", .type = KS_M_INFO, .help = "Info.",
	  .labels = { "version" } },
	{ .name = "kscope_series_folded_total", .type = KS_M_COUNTER,
	  .help = "Folded.", .labels = { "family" } },
	{ NULL },
};

struct row {
	const char *name, *kind, *comm;
	uint64_t count, bytes, ns;
	double us;
	int slot;		/* hist slot that gets `count`, -1: none */
};

/* a report of tool ta with one table of rows */
static void make(struct ks_report *rep, struct ks_run *r,
		 const struct row *rows, int n)
{
	struct ks_table *t;

	memset(r, 0, sizeof(*r));
	r->tool = &tool_a;
	memset(rep, 0, sizeof(*rep));
	rep->r = r;
	t = ks_table_add(rep, "entries", cols, C_NCOLS);
	assert_non_null(t);
	for (int i = 0; i < n; i++) {
		uint64_t h[KS_HIST_SLOTS] = { 0 };
		long row = ks_row_add(t);

		assert_true(row >= 0);
		if (rows[i].slot >= 0)
			h[rows[i].slot] = rows[i].count;
		ks_cell_str(t, row, C_NAME, rows[i].name);
		ks_cell_str(t, row, C_KIND, rows[i].kind ? rows[i].kind : "");
		ks_cell_comm(t, row, C_COMM, rows[i].comm ? rows[i].comm : "",
			     KS_COMM_LEN);
		ks_cell_u64(t, row, C_COUNT, rows[i].count);
		ks_cell_u64(t, row, C_BYTES, rows[i].bytes);
		ks_cell_u64(t, row, C_NS, rows[i].ns);
		ks_cell_f64(t, row, C_US, rows[i].us);
		ks_cell_hist(t, row, C_HIST, h);
		ks_cell_hist(t, row, C_USHIST, h);
	}
}

static void add(struct ks_mstore *s, const struct row *rows, int n)
{
	struct ks_report rep;
	struct ks_run r;

	make(&rep, &r, rows, n);
	ks_mstore_add_report(s, &rep);
	ks_report_free(&rep);
}

static char *render(const struct ks_mstore *s, bool om)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ks_mstore_write(s, f, om);
	fclose(f);
	return buf;
}

/* the value of the sample line that starts with prefix ("" if none) */
static const char *sample(const char *text, const char *prefix,
			  char *buf, size_t len)
{
	size_t n = strlen(prefix);

	for (const char *p = text; p && *p;) {
		const char *e = strchr(p, '\n');

		if (!strncmp(p, prefix, n) && p[n] == ' ') {
			snprintf(buf, len, "%.*s", (int)(e - p - n - 1),
				 p + n + 1);
			return buf;
		}
		p = e ? e + 1 : NULL;
	}
	buf[0] = '\0';
	return buf;
}

static void test_counters_add_exactly(void **state)
{
	struct ks_mstore *s = ks_mstore_new(fams, 100, 0);
	const struct row r1[] = {
		{ "a", "x", NULL, 3, 300, 0, 0, -1 },
		{ "b", "x", NULL, 1, 10, 0, 0, -1 },
		{ "a", "y", NULL, 2, 20, 0, 0, -1 },
	};
	const struct row r2[] = { { "a", "x", NULL, 4, 1, 0, 0, -1 } };
	char b[64], *t;

	(void)state;
	add(s, r1, 3);
	add(s, r2, 1);
	t = render(s, false);
	assert_string_equal(sample(t, "t_events_total{name=\"a\",kind=\"x\"}",
				   b, sizeof(b)), "7");
	assert_string_equal(sample(t, "t_events_total{name=\"a\",kind=\"y\"}",
				   b, sizeof(b)), "2");
	/* labels the family does not have are summed over: a = 300+20+1 */
	assert_string_equal(sample(t, "t_bytes_total{name=\"a\"}", b,
				   sizeof(b)), "321");
	/* HELP escapes backslash and newline */
	assert_non_null(strstr(t, "# HELP t_events_total Events \\\\ and\\n"
			       "lines.\n# TYPE t_events_total counter\n"));
	/* the gauge is the last report's */
	assert_string_equal(sample(t, "t_level_bytes{name=\"a\"}", b,
				   sizeof(b)), "1");
	assert_string_equal(sample(t, "t_level_bytes{name=\"b\"}", b,
				   sizeof(b)), "");
	free(t);
	ks_mstore_free(s);
}

static void test_histogram_edges_exact(void **state)
{
	struct ks_mstore *s = ks_mstore_new(fams, 100, 0);
	/* 5 waits in slot 11 ([1024, 2047] ns); 2 in slot 0 (0 ns) */
	const struct row r1[] = {
		{ "m", NULL, NULL, 5, 0, 5 * 1500, 5 * 1.5, 11 },
		{ "m", NULL, NULL, 2, 0, 0, 0, 0 },
		{ "big", NULL, NULL, 1, 0, 123456789012ULL, 0, KS_HIST_SLOTS - 1 },
	};
	char b[64], *t;

	(void)state;
	add(s, r1, 3);
	t = render(s, false);
	assert_string_equal(sample(t, "t_wait_seconds_bucket{name=\"m\","
				   "le=\"0.0\"}", b, sizeof(b)), "2");
	assert_string_equal(sample(t, "t_wait_seconds_bucket{name=\"m\","
				   "le=\"0.000001023\"}", b, sizeof(b)), "2");
	/* 2047 ns is the largest integer slot 11 holds: inclusive */
	assert_string_equal(sample(t, "t_wait_seconds_bucket{name=\"m\","
				   "le=\"0.000002047\"}", b, sizeof(b)), "7");
	assert_string_equal(sample(t, "t_wait_seconds_bucket{name=\"m\","
				   "le=\"+Inf\"}", b, sizeof(b)), "7");
	assert_string_equal(sample(t, "t_wait_seconds_count{name=\"m\"}", b,
				   sizeof(b)), "7");
	assert_string_equal(sample(t, "t_wait_seconds_sum{name=\"m\"}", b,
				   sizeof(b)), "0.0000075");
	/* no bucket past slot 11 */
	assert_null(strstr(t, "{name=\"m\",le=\"0.000004095\"}"));
	/* the last slot has no upper bound: only +Inf holds it */
	assert_string_equal(sample(t, "t_wait_seconds_bucket{name=\"big\","
				   "le=\"+Inf\"}", b, sizeof(b)), "1");
	assert_string_equal(sample(t, "t_wait_seconds_sum{name=\"big\"}", b,
				   sizeof(b)), "123.456789012");
	/* slots of microseconds (truncated from ns): slot 11 holds
	 * [1024, 2047] us, so every ns up to 2047999 */
	assert_string_equal(sample(t, "t_run_seconds_bucket{name=\"m\","
				   "le=\"0.002047999\"}", b, sizeof(b)), "7");
	assert_string_equal(sample(t, "t_run_seconds_bucket{name=\"m\","
				   "le=\"0.000000999\"}", b, sizeof(b)), "2");
	assert_string_equal(sample(t, "t_run_seconds_sum{name=\"m\"}", b,
				   sizeof(b)), "0.0000075");
	free(t);
	ks_mstore_free(s);
}

static void test_fold_into_other_keeps_totals(void **state)
{
	struct ks_mstore *s = ks_mstore_new(fams, 3, 0);
	const struct row r1[] = {
		{ "a", "x", NULL, 1, 1, 0, 0, -1 },
		{ "b", "x", NULL, 10, 1, 0, 0, -1 },
		{ "c", "x", NULL, 100, 1, 0, 0, -1 },
		{ "d", "x", NULL, 1000, 1, 0, 0, -1 },
	};
	const struct row r2[] = {
		{ "a", "x", NULL, 2, 1, 0, 0, -1 },
		{ "e", "x", NULL, 20000, 1, 0, 0, -1 },
	};
	char b[64], *t;

	(void)state;
	add(s, r1, 4);
	add(s, r2, 2);
	assert_int_equal(ks_mstore_series(s, "t_events_total"), 3);
	t = render(s, false);
	assert_string_equal(sample(t, "t_events_total{name=\"a\",kind=\"x\"}",
				   b, sizeof(b)), "3");
	assert_string_equal(sample(t, "t_events_total{name=\"b\",kind=\"x\"}",
				   b, sizeof(b)), "10");
	/* c, d and e: every label "other", the sum of all three */
	assert_string_equal(sample(t, "t_events_total{name=\"other\","
				   "kind=\"other\"}", b, sizeof(b)), "21100");
	/* three rows folded in this family */
	assert_string_equal(sample(t, "kscope_series_folded_total{family="
				   "\"t_events_total\"}", b, sizeof(b)), "3");
	free(t);
	ks_mstore_free(s);
}

static void test_label_values_escaped(void **state)
{
	struct ks_mstore *s = ks_mstore_new(fams, 100, KS_ML_COMM);
	/* quote, backslash, newline, tab, a byte that is not UTF-8, then
	 * valid UTF-8 (e acute) */
	const struct row r1[] = {
		{ "q\"b\\n\nt\tx\xff\xc3\xa9", "k", "c\xfe", 1, 0, 0, 0, -1 },
	};
	char *t;

	(void)state;
	add(s, r1, 1);
	t = render(s, false);
	assert_non_null(strstr(t, "t_events_total{name=\"q\\\"b\\\\n\\nt"
			       "\\\\x09x\\\\xff\xc3\xa9\",kind=\"k\","
			       "comm=\"c\\\\xfe\"} 1\n"));
	/* families without a comm column stay without */
	assert_non_null(strstr(t, "t_bytes_total{name=\"q"));
	free(t);
	ks_mstore_free(s);
}

static void test_openmetrics_names(void **state)
{
	struct ks_mstore *s = ks_mstore_new(fams, 100, 0);
	const struct row r1[] = { { "a", "x", NULL, 1, 8, 9, 0.5, 3 } };
	const char *v[] = { "1.0" };
	char *t;

	(void)state;
	add(s, r1, 1);
	assert_int_equal(ks_mstore_set(s, "t_info", v, 1), 0);
	assert_int_equal(ks_mstore_add(s, "no_such_family", v, 1), -1);
	t = render(s, true);
	assert_non_null(strstr(t, "# TYPE t_events counter\n"
			       "t_events_total{name=\"a\",kind=\"x\"} 1\n"));
	assert_non_null(strstr(t, "# TYPE t_bytes counter\n"
			       "# UNIT t_bytes bytes\n"));
	assert_non_null(strstr(t, "# TYPE t_wait_seconds histogram\n"
			       "# UNIT t_wait_seconds seconds\n"));
	assert_non_null(strstr(t, "# TYPE t info\nt_info{version=\"1.0\"} 1\n"));
	assert_int_equal(strcmp(t + strlen(t) - 6, "# EOF\n"), 0);
	free(t);
	t = render(s, false);
	assert_non_null(strstr(t, "# TYPE t_info gauge\n"));
	assert_null(strstr(t, "# EOF"));
	assert_null(strstr(t, "# UNIT"));
	free(t);
	ks_mstore_free(s);
}

static void test_kscope_families_wellformed(void **state)
{
	static const char *const suffix[] = {
		[KS_M_COUNTER] = "_total", [KS_M_INFO] = "_info",
	};

	(void)state;
	for (const struct ks_mfamily *d = ks_metric_families; d->name; d++) {
		size_t n = strlen(d->name);

		/* counters end in _total, info in _info; units in names */
		if (suffix[d->type]) {
			size_t k = strlen(suffix[d->type]);

			assert_true(n > k);
			assert_string_equal(d->name + n - k, suffix[d->type]);
		}
		if (d->unit)
			assert_non_null(strstr(d->name, d->unit));
		assert_true(d->help && *d->help);
		for (const struct ks_mfamily *e = d + 1; e->name; e++)
			assert_true(strcmp(d->name, e->name));
		if (d->type == KS_M_HISTOGRAM)
			for (int k = 0; d->src[k].tool && k < KS_M_SOURCES;
			     k++)
				assert_non_null(d->src[k].sum);
	}
}

static void test_alloc_functions(void **state)
{
	(void)state;
	assert_true(ks_is_alloc_func("__kmalloc_cache_noprof"));
	assert_true(ks_is_alloc_func("kmem_cache_alloc_lru"));
	assert_true(ks_is_alloc_func("__alloc_pages_noprof"));
	assert_true(ks_is_alloc_func("pcpu_alloc_noprof"));
	assert_true(ks_is_alloc_func("kmalloc_reserve.isra.0"));
	assert_false(ks_is_alloc_func("alloc_empty_file"));
	assert_false(ks_is_alloc_func("__alloc_skb"));
	assert_false(ks_is_alloc_func("getname_flags.part.0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_add_exactly),
		cmocka_unit_test(test_histogram_edges_exact),
		cmocka_unit_test(test_fold_into_other_keeps_totals),
		cmocka_unit_test(test_label_values_escaped),
		cmocka_unit_test(test_openmetrics_names),
		cmocka_unit_test(test_kscope_families_wellformed),
		cmocka_unit_test(test_alloc_functions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
