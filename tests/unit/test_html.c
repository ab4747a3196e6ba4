// SPDX-License-Identifier: GPL-2.0
/*
 * The HTML report's writer (out_html.c): escaping of whatever a task
 * names itself, the log2 bar charts (bar heights proportional to the
 * counts, one bar per slot from the first used to the last), and a page
 * made from a report.  Chromium renders real pages in tests/test_html.py.
 * No root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kscope.h"

static char *capture_escape(const char *s, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ks_html_escape(f, s, n);
	fclose(f);
	return buf;
}

static void test_escape(void **state)
{
	static const char in[] = "<b>&\"q\" 'a'\x01\x7f\xff\xc3\xa9";
	char *out;

	(void)state;
	out = capture_escape(in, sizeof(in) - 1);
	/* é stays, a byte that is not UTF-8 is U+FFFD, controls are '?' */
	assert_string_equal(out, "&lt;b&gt;&amp;&quot;q&quot; &apos;a&apos;"
			    "??\xef\xbf\xbd\xc3\xa9");
	free(out);
	/* n bytes, not up to a NUL: a comm of 16 bytes has none */
	out = capture_escape("abcdef", 3);
	assert_string_equal(out, "abc");
	free(out);
}

struct bar {
	double count, y, height;
};

/* the bars of an SVG chart, in order */
static int bars(const char *svg, struct bar *b, int max)
{
	int n = 0;

	for (const char *p = svg; (p = strstr(p, "<rect class=\"bar\"")); p++) {
		double x, w;

		assert_true(n < max);
		assert_int_equal(sscanf(p, "<rect class=\"bar\" data-count="
					"\"%lf\" x=\"%lf\" y=\"%lf\" width="
					"\"%lf\" height=\"%lf\"", &b[n].count,
					&x, &b[n].y, &w, &b[n].height), 5);
		n++;
	}
	return n;
}

static char *capture_hist(const uint64_t *slots, const char *unit)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ks_html_hist_svg(f, slots, KS_HIST_SLOTS, unit, "waits <&>");
	fclose(f);
	return buf;
}

static void test_hist_chart(void **state)
{
	uint64_t slots[KS_HIST_SLOTS] = { 0 };
	struct bar b[KS_HIST_SLOTS];
	double top = 0;
	char *svg;
	int n;

	(void)state;
	slots[3] = 10;
	slots[5] = 40;		/* the largest: full height */
	slots[6] = 20;
	slots[8] = 1;
	svg = capture_hist(slots, "ns");
	n = bars(svg, b, KS_HIST_SLOTS);
	/* slots 3..8: empty ones inside the range are bars of height 0 */
	assert_int_equal(n, 6);
	for (int i = 0; i < n; i++) {
		assert_true(b[i].count == slots[3 + i]);
		if (b[i].height > top)
			top = b[i].height;
	}
	assert_true(top > 50);
	for (int i = 0; i < n; i++) {
		/* proportional, and all standing on the same baseline */
		assert_true(b[i].height / top - b[i].count / 40.0 < 1e-3 &&
			    b[i].count / 40.0 - b[i].height / top < 1e-3);
		assert_true(b[i].y + b[i].height - (b[0].y + b[0].height) <
			    1e-3 && (b[0].y + b[0].height) - (b[i].y +
			    b[i].height) < 1e-3);
	}
	/* tooltips name the slot's range in the unit */
	assert_non_null(strstr(svg, "<title>[16ns, 31ns]: 40</title>"));
	/* the title is escaped */
	assert_non_null(strstr(svg, "waits &lt;&amp;&gt;"));
	assert_null(strstr(svg, "waits <"));
	free(svg);

	/* nothing counted: no bars, and says so */
	memset(slots, 0, sizeof(slots));
	svg = capture_hist(slots, "us");
	assert_int_equal(bars(svg, b, KS_HIST_SLOTS), 0);
	assert_non_null(strstr(svg, "no events"));
	free(svg);
}

enum { C_COMM, C_LOCK, C_COUNT, C_TOTAL, C_HIST, C_NCOLS };

static const struct ks_col cols[] = {
	[C_COMM] = { "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY },
	[C_LOCK] = { "lock", "LOCK", KS_CT_STR, -20, .flags = KS_CF_KEY },
	[C_COUNT] = { "count", "COUNT", KS_CT_U64, 6, .unit = KS_UNIT_COUNT,
		      .flags = KS_CF_COUNT },
	[C_TOTAL] = { "total_ns", "TOTAL", KS_CT_NS, 8, .unit = KS_UNIT_NS,
		      .flags = KS_CF_WEIGHT },
	[C_HIST] = { "hist", NULL, KS_CT_HIST, 0, .unit = KS_UNIT_NS },
};

static const char *const drop_names[] = { "missed", NULL };
static const struct ks_tool fake_tool = {
	.name = "fakelock", .summary = "waits <on> fake & locks",
	.drop_names = drop_names,
};

static void test_page(void **state)
{
	static const char evil[KS_COMM_LEN] = "<script>x&\"'\xff";
	uint64_t h1[KS_HIST_SLOTS] = { 0 }, h2[KS_HIST_SLOTS] = { 0 };
	struct ks_report rep;
	struct ks_run r;
	struct ks_table *t;
	struct ks_html *h;
	char *page = NULL;
	size_t len = 0;
	FILE *f;
	long row;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tool = &fake_tool;
	r.mode = KS_MODE_TRACEPOINT;
	r.note = "a note <b>";
	memset(&rep, 0, sizeof(rep));
	rep.r = &r;
	rep.interval_s = 2;
	rep.drops[1] = 7;
	rep.drops_total = 7;
	t = ks_table_add(&rep, "entries", cols, C_NCOLS);
	h1[4] = 3;
	h2[4] = 1;
	h2[6] = 2;
	row = ks_row_add(t);
	ks_cell_comm(t, row, C_COMM, evil, KS_COMM_LEN);
	ks_cell_str(t, row, C_LOCK, "a&b");
	ks_cell_u64(t, row, C_COUNT, 3);
	ks_cell_u64(t, row, C_TOTAL, 12345);
	ks_cell_hist(t, row, C_HIST, h1);
	row = ks_row_add(t);
	ks_cell_comm(t, row, C_COMM, "plain", KS_COMM_LEN);
	ks_cell_str(t, row, C_LOCK, "m");
	ks_cell_u64(t, row, C_COUNT, 3);
	ks_cell_u64(t, row, C_TOTAL, 99);
	ks_cell_hist(t, row, C_HIST, h2);
	ks_report_u64(&rep, "total.count", 6);

	h = ks_html_new("kscope <test>");
	assert_non_null(h);
	ks_html_report(h, &rep);
	ks_html_failed(h, &fake_tool, "needs <root>");
	f = open_memstream(&page, &len);
	assert_int_equal(ks_html_write(h, f, 2), 0);
	fclose(f);
	ks_report_free(&rep);

	assert_null(strstr(page, "<script>x"));
	assert_null(strstr(page, "<root>"));
	assert_null(strstr(page, "<on>"));
	assert_non_null(strstr(page, "data-v=\"&lt;script&gt;x&amp;&quot;"
			       "&apos;\xef\xbf\xbd\""));
	assert_non_null(strstr(page, "<td data-key=\"count\" class=\"n\" "
			       "data-v=\"3\">3</td>"));
	assert_non_null(strstr(page, "data-v=\"12345\""));
	assert_non_null(strstr(page, "data-reason=\"stack\" data-v=\"7\""));
	assert_non_null(strstr(page, "<dd data-key=\"total.count\" "
			       "data-v=\"6\">6</dd>"));
	assert_non_null(strstr(page, "a note &lt;b&gt;"));
	assert_non_null(strstr(page, "could not run here: needs &lt;root&gt;"));
	/* the sum of every row's histogram, then one per row */
	assert_non_null(strstr(page, "hist, all 2 rows"));
	assert_non_null(strstr(page, "<title>[8ns, 15ns]: 4</title>"));
	assert_non_null(strstr(page, "<title>[32ns, 63ns]: 2</title>"));
	/* self-contained: nothing with a src, no URL but the SVG namespace */
	assert_null(strstr(page, "src="));
	assert_null(strstr(page, "https:"));
	assert_null(strstr(page, "href=\"http"));
	assert_non_null(strstr(page, "No tool took stacks"));
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_hist_chart),
		cmocka_unit_test(test_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
