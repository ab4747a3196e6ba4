// SPDX-License-Identifier: GPL-2.0
/* Unit tests of the shared library: JSON, histograms, kallsyms, parsers,
 * option parsing.  No root, no BPF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kscope.h"

static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fn(f, arg);
	fclose(f);
	return buf;
}

static void json_nested(FILE *f, void *arg)
{
	struct ks_json j;

	(void)arg;
	ks_json_init(&j, f);
	ks_json_obj_begin(&j);
	ks_json_kstr(&j, "a", "x");
	ks_json_key(&j, "arr");
	ks_json_arr_begin(&j);
	ks_json_u64(&j, 1);
	ks_json_i64(&j, -2);
	ks_json_obj_begin(&j);
	ks_json_obj_end(&j);
	ks_json_arr_end(&j);
	ks_json_kdouble(&j, "d", 1.25, 2);
	ks_json_key(&j, "t");
	ks_json_bool(&j, true);
	ks_json_key(&j, "n");
	ks_json_null(&j);
	ks_json_obj_end(&j);
}

static void test_json_structure(void **state)
{
	char *s = capture(json_nested, NULL);

	(void)state;
	assert_string_equal(s, "{\"a\":\"x\",\"arr\":[1,-2,{}],\"d\":1.25,"
			       "\"t\":true,\"n\":null}\n");
	free(s);
}

static void test_json_escape(void **state)
{
	char buf[128];
	const char comm[] = "a\"b\\c\td\n\x01\x7f\xe9";

	(void)state;
	ks_json_escape(buf, sizeof(buf), comm, sizeof(comm) - 1);
	assert_string_equal(buf, "a\\\"b\\\\c\\td\\n\\u0001\\u007f\\u00e9");
	/* a comm is not NUL-terminated when it is 16 bytes: n bounds it */
	ks_json_escape(buf, sizeof(buf), "abcdef", 3);
	assert_string_equal(buf, "abc");
	/* truncation still terminates and reports the full need */
	assert_int_equal(ks_json_escape(buf, 4, "\"\"\"", 3), 6);
	assert_int_equal(strlen(buf), 3);
}

static void test_hist_slots(void **state)
{
	(void)state;
	assert_int_equal(ks_hist_slot(0), 0);
	assert_int_equal(ks_hist_slot(1), 1);
	assert_int_equal(ks_hist_slot(2), 2);
	assert_int_equal(ks_hist_slot(3), 2);
	assert_int_equal(ks_hist_slot(4), 3);
	assert_int_equal(ks_hist_slot(1023), 10);
	assert_int_equal(ks_hist_slot(1024), 11);
	assert_int_equal(ks_hist_slot(UINT64_MAX), KS_HIST_SLOTS - 1);
	for (uint64_t v = 0; v < 5000; v += 7) {
		uint32_t s = ks_hist_slot(v);

		assert_true(ks_hist_slot_min(s) <= v);
		assert_true(ks_hist_slot_max(s) >= v);
	}
	assert_int_equal(ks_hist_slot_max(KS_HIST_SLOTS - 1), UINT64_MAX);
}

static void hist_json(FILE *f, void *arg)
{
	struct ks_json j;

	ks_json_init(&j, f);
	ks_json_obj_begin(&j);
	ks_hist_json(&j, "hist", arg, KS_HIST_SLOTS);
	ks_json_obj_end(&j);
}

static void hist_text(FILE *f, void *arg)
{
	ks_hist_print(f, arg, KS_HIST_SLOTS, "ns", "");
}

static void test_hist_render(void **state)
{
	uint64_t slots[KS_HIST_SLOTS] = { 0 };
	char *s;

	(void)state;
	slots[2] = 5;	/* [2,3] */
	slots[4] = 10;	/* [8,15] */
	s = capture(hist_json, slots);
	/* from the first to the last used bucket, empty ones in between */
	assert_string_equal(s, "{\"hist\":[{\"min\":2,\"max\":3,\"count\":5},"
			       "{\"min\":4,\"max\":7,\"count\":0},"
			       "{\"min\":8,\"max\":15,\"count\":10}]}\n");
	free(s);
	s = capture(hist_text, slots);
	assert_non_null(strstr(s, "[2, 4)"));
	assert_non_null(strstr(s, "[8, 16)"));
	/* the fullest bucket gets the full 40-character bar */
	assert_non_null(strstr(s, "|@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|"));
	free(s);
	assert_int_equal(ks_hist_total(slots, KS_HIST_SLOTS), 15);
	memset(slots, 0, sizeof(slots));
	s = capture(hist_json, slots);
	assert_string_equal(s, "{\"hist\":[]}\n");
	free(s);
}

static void test_ksyms(void **state)
{
	struct ks_ksyms *k = ks_ksyms_load(FIXTURES "/kallsyms");
	const struct ks_ksym *s;
	char buf[128];

	(void)state;
	assert_non_null(k);
	s = ks_ksyms_lookup(k, 0xffffffff81001010ULL);
	assert_non_null(s);
	/* aliases at one address: a stable choice, never the wrong one */
	assert_true(!strcmp(s->name, "do_one") ||
		    !strcmp(s->name, "do_one_alias"));
	assert_string_equal(ks_ksyms_fmt(k, 0xffffffff81002004ULL, buf,
					 sizeof(buf)), "helper_two+0x4");
	assert_string_equal(ks_ksyms_fmt(k, 0xffffffff82000000ULL, buf,
					 sizeof(buf)), "some_static_lock+0x0");
	assert_string_equal(ks_ksyms_fmt(k, 0xffffffffc0002008ULL, buf,
					 sizeof(buf)), "mod_other+0x8 [mymod]");
	/* below the first symbol: plain hex */
	assert_string_equal(ks_ksyms_fmt(k, 0x1000, buf, sizeof(buf)),
			    "0x1000");
	s = ks_ksyms_by_name(k, "mod_func");
	assert_non_null(s);
	assert_int_equal(s->addr, 0xffffffffc0001000ULL);
	assert_string_equal(s->module, "mymod");
	assert_null(ks_ksyms_by_name(k, "nope"));
	/* a name twice (a module's static function): the lowest address */
	s = ks_ksyms_by_name(k, "helper_two");
	assert_non_null(s);
	assert_int_equal(s->addr, 0xffffffff81002000ULL);
	assert_null(s->module);
	s = ks_ksyms_by_name(k, "_stext");
	assert_non_null(s);
	assert_int_equal(s->addr, 0xffffffff81000000ULL);
	s = ks_ksyms_by_name(k, "mod_lock");
	assert_non_null(s);
	assert_int_equal(s->addr, 0xffffffffc0003000ULL);
	/* absolute symbols with address 0 are dropped */
	assert_null(ks_ksyms_by_name(k, "fixed_percpu_data"));
	/* data objects: data symbols only, never a section bound (a static
	 * lock without CONFIG_KALLSYMS_ALL was "__start_init_stack+0x76a20") */
	s = ks_ksyms_data_lookup(k, 0xffffffff82000048ULL);
	assert_non_null(s);
	assert_string_equal(s->name, "other_data");
	assert_null(ks_ksyms_data_lookup(k, 0xffffffff83076a20ULL));
	assert_null(ks_ksyms_data_lookup(k, 0xffffffff81002004ULL));
	s = ks_ksyms_data_lookup(k, 0xffffffffc0003010ULL);
	assert_non_null(s);
	assert_string_equal(s->module, "mymod");
	ks_ksyms_free(k);
	assert_null(ks_ksyms_load(FIXTURES "/does-not-exist"));
}

/* a class for every symbol whose name has "helper" or is in a module */
static unsigned int fixture_class(const struct ks_ksym *s)
{
	return (strstr(s->name, "helper") ? 1 : 0) | (s->module ? 2 : 0);
}

static void test_kranges(void **state)
{
	struct ks_ksyms *k = ks_ksyms_load(FIXTURES "/kallsyms");
	struct ks_kranges *kr;
	static const uint64_t probe[] = {
		0, 0xffffffff80ffffffULL, 0xffffffff81000000ULL,
		0xffffffff81001fffULL, 0xffffffff81002000ULL,
		0xffffffff81002fffULL, 0xffffffff81ffffffULL,
		0xffffffff82000000ULL, 0xffffffffc0000fffULL,
		0xffffffffc0001000ULL, 0xffffffffc0002100ULL,
		0xffffffffc0002200ULL, 0xffffffffc0003000ULL, UINT64_MAX,
	};

	(void)state;
	assert_non_null(k);
	kr = ks_kranges_build(k, fixture_class);
	assert_non_null(kr);
	/* as the whole table's lookup answers, everywhere probed */
	for (size_t i = 0; i < sizeof(probe) / sizeof(probe[0]); i++) {
		const struct ks_ksym *s = ks_ksyms_lookup(k, probe[i]);

		assert_int_equal(ks_kranges_class(kr, probe[i]),
				 s ? fixture_class(s) : 0);
	}
	/* helper_two runs up to some_static_lock; the module's last symbol
	 * (mod_lock) to the end of the address space */
	assert_int_equal(ks_kranges_class(kr, 0xffffffff81ffffffULL), 1);
	assert_int_equal(ks_kranges_class(kr, 0xffffffff82000000ULL), 0);
	assert_int_equal(ks_kranges_class(kr, 0xffffffffc0002100ULL), 3);
	assert_int_equal(ks_kranges_class(kr, UINT64_MAX), 2);
	ks_kranges_free(kr);
	ks_ksyms_free(k);
}

static void test_scan_names(void **state)
{
	static const char *const names[] = {
		"helper_two", "mod_func", "nope", "_stext",
		"fixed_percpu_data", "do_one_alias",
	};
	static const uint64_t want[] = {
		0xffffffff81002000ULL, 0xffffffffc0001000ULL, 0,
		0xffffffff81000000ULL, 0, 0xffffffff81001000ULL,
	};
	uint64_t got[6];

	(void)state;
	assert_int_equal(ks_ksyms_scan_names(FIXTURES "/kallsyms", names,
					     got, 6), 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(got[i], want[i]);
	assert_int_equal(ks_ksyms_scan_names(FIXTURES "/does-not-exist",
					     names, got, 6), -1);
}

static void test_parsers(void **state)
{
	long l;
	double d;

	(void)state;
	assert_int_equal(ks_parse_long("42", 0, 100, &l), 0);
	assert_int_equal(l, 42);
	assert_int_equal(ks_parse_long("42x", 0, 100, &l), -1);
	assert_int_equal(ks_parse_long("", 0, 100, &l), -1);
	assert_int_equal(ks_parse_long("-1", 0, 100, &l), -1);
	assert_int_equal(ks_parse_long("101", 0, 100, &l), -1);
	assert_int_equal(ks_parse_long("99999999999999999999", 0, 100, &l), -1);
	assert_int_equal(ks_parse_double("0.5", 0.001, 10, &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(ks_parse_double("-3", 0.001, 10, &d), -1);
	assert_int_equal(ks_parse_double("nan", 0.001, 10, &d), -1);
	assert_int_equal(ks_parse_double("1e400", 0.001, 1e7, &d), -1);
	assert_int_equal(ks_parse_double("2s", 0.001, 10, &d), -1);
}

static void test_modes(void **state)
{
	enum ks_mode m;

	(void)state;
	for (int i = 0; i < KS_MODE_MAX; i++) {
		assert_int_equal(ks_mode_parse(ks_mode_name(i), &m), 0);
		assert_int_equal(m, i);
	}
	assert_int_equal(ks_mode_parse("auto", &m), 0);
	assert_int_equal(m, KS_MODE_AUTO);
	assert_int_equal(ks_mode_parse("kprobes", &m), -1);
}

static void test_comm_text(void **state)
{
	char buf[80];
	char comm[KS_COMM_LEN] = "a\tb";

	(void)state;
	assert_string_equal(ks_comm_text(comm, buf, sizeof(buf)), "a\\x09b");
	/* a full 16-byte comm has no NUL: never read past it */
	memset(comm, 'z', sizeof(comm));
	assert_int_equal(strlen(ks_comm_text(comm, buf, sizeof(buf))),
			 KS_COMM_LEN);
	assert_string_equal(ks_fmt_bytes(512, buf, sizeof(buf)), "512 B");
	assert_string_equal(ks_fmt_bytes(1536, buf, sizeof(buf)), "1.5 KiB");
}

static void json_deep(FILE *f, void *arg)
{
	struct ks_json j;

	(void)arg;
	ks_json_init(&j, f);
	ks_json_obj_begin(&j);
	ks_json_key(&j, "a");
	for (int i = 0; i < 40; i++)
		ks_json_arr_begin(&j);
	ks_json_u64(&j, 7);
	ks_json_kstr(&j, "k", "v");
	for (int i = 0; i < 40; i++)
		ks_json_arr_end(&j);
	ks_json_ku64(&j, "b", 1);
	ks_json_obj_end(&j);
}

/* deeper than the writer tracks: a null in place of what is too deep,
 * never a malformed line */
static void test_json_depth(void **state)
{
	char *s = capture(json_deep, NULL);
	char want[256] = "{\"a\":";
	int o = strlen(want);

	(void)state;
	for (int i = 0; i < KS_JSON_MAX_DEPTH - 2; i++)
		want[o++] = '[';
	o += sprintf(want + o, "null");
	for (int i = 0; i < KS_JSON_MAX_DEPTH - 2; i++)
		want[o++] = ']';
	sprintf(want + o, ",\"b\":1}\n");
	assert_string_equal(s, want);
	free(s);
}

static const struct ks_tool fake_tool = { .name = "fake" };

enum { F_NAME, F_COMM, F_N, F_QCOUNT, F_QHIST, F_NCOLS };

static const struct ks_col fake_cols[] = {
	[F_NAME] = { "name", "NAME", KS_CT_STR, -6, .flags = KS_CF_KEY },
	[F_COMM] = { "comm", "COMM", KS_CT_COMM, -8, .flags = KS_CF_KEY },
	[F_N] = { "n", "N", KS_CT_U64, 4, .flags = KS_CF_COUNT },
	[F_QCOUNT] = { "q.count", "QN", KS_CT_U64, 3 },
	[F_QHIST] = { "q.hist", NULL, KS_CT_HIST },
};

static void fake_report(struct ks_report *rep, struct ks_run *r, FILE *f,
			bool json)
{
	uint64_t hist[KS_HIST_SLOTS] = { [2] = 1 };
	struct ks_table *t;
	long row;

	memset(r, 0, sizeof(*r));
	r->tool = &fake_tool;
	r->mode = KS_MODE_TP_BTF;
	r->out = f;
	r->o.json = json;
	r->o.top = 1;
	memset(rep, 0, sizeof(*rep));
	rep->r = r;
	rep->interval_s = 1;
	rep->drops[KS_DROP_STACK] = 2;
	rep->drops_total = 2;
	t = ks_table_add(rep, "entries", fake_cols, F_NCOLS);
	row = ks_row_add(t);
	ks_cell_str(t, row, F_NAME, "a\"b");
	ks_cell_comm(t, row, F_COMM, "x\ty", KS_COMM_LEN);
	ks_cell_u64(t, row, F_N, 3);
	ks_cell_u64(t, row, F_QCOUNT, 1);
	ks_cell_hist(t, row, F_QHIST, hist);
	row = ks_row_add(t);
	ks_cell_str(t, row, F_NAME, "second");
	ks_table_line(t, true, "Total: %d", 3);
	ks_report_u64(rep, "total", 3);
	ks_report_u64(rep, "frees.matched", 1);
	ks_report_u64(rep, "frees.unknown", 2);
	ks_report_u64(rep, "last", 4);
}

static void write_fake(FILE *f, void *arg)
{
	struct ks_report rep;
	struct ks_run r;

	fake_report(&rep, &r, f, arg != NULL);
	if (arg)
		ks_write_json(&rep);
	else
		ks_write_text(&rep);
	ks_report_free(&rep);
}

/* one table, both writers: -r, nesting, escaping, text-only lines */
static void test_report_writers(void **state)
{
	char *s = capture(write_fake, "json");

	(void)state;
	assert_string_equal(s, "{\"tool\":\"fake\",\"time\":"
		"\"1970-01-01T00:00:00.000Z\",\"interval_s\":1.000,"
		"\"mode\":\"tp_btf\",\"dropped\":{\"map_full\":0,"
		"\"stack\":2,\"no_memory\":0,\"recursion\":0},"
		"\"entries\":[{\"name\":\"a\\\"b\","
		"\"comm\":\"x\\ty\",\"n\":3,\"q\":{\"count\":1,"
		"\"hist\":[{\"min\":2,\"max\":3,\"count\":1}]}}],"
		"\"total\":3,\"frees\":{\"matched\":1,\"unknown\":2},"
		"\"last\":4}\n");
	free(s);
	s = capture(write_fake, NULL);
	assert_string_equal(s, "NAME   COMM        N  QN\n"
			       "a\"b    x\\x09y      3   1\n"
			       "... 1 more rows (-r to change)\n"
			       "Total: 3\n"
			       "Dropped 2 events: stack 2\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_structure),
		cmocka_unit_test(test_json_escape),
		cmocka_unit_test(test_hist_slots),
		cmocka_unit_test(test_hist_render),
		cmocka_unit_test(test_ksyms),
		cmocka_unit_test(test_kranges),
		cmocka_unit_test(test_scan_names),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_comm_text),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_report_writers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
