// SPDX-License-Identifier: GPL-2.0
/*
 * The stack writers people look at: folded stacks (out_folded.c) and the
 * SVG flame graph (flame.c) against golden files.  The SVG's structure
 * (widths adding up, valid XML) is checked by an XML parser in
 * tests/test_outputs.py; here the exact bytes, so that a layout change is
 * a reviewed change of tests/unit/golden/ (KS_UPDATE_GOLDEN=1 rewrites
 * them).  No root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "kscope.h"

#define GOLDEN FIXTURES "/../golden"

static const int target_line = __LINE__ + 1;
__attribute__((noinline, noclone)) int ks_out_target(int x)
{
	volatile int y = x * 5;

	return y + 2;
}

static char *capture_folded(const struct ks_report *rep, bool by_count)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(ks_folded_write(rep, by_count, f), 0);
	fclose(f);
	return buf;
}

enum { C_COMM, C_KIND, C_COUNT, C_BYTES, C_STACK, C_NCOLS };

static const struct ks_col cols[] = {
	[C_COMM] = { "comm", "COMM", KS_CT_COMM, -16, .flags = KS_CF_KEY },
	[C_KIND] = { "kind", "KIND", KS_CT_STR, -7, .flags = KS_CF_KEY },
	[C_COUNT] = { "count", "COUNT", KS_CT_U64, 6, .unit = KS_UNIT_COUNT,
		      .flags = KS_CF_COUNT, .sample = "alloc_objects" },
	[C_BYTES] = { "bytes", "BYTES", KS_CT_U64, 6, .unit = KS_UNIT_BYTES,
		      .flags = KS_CF_WEIGHT, .sample = "alloc_space" },
	[C_STACK] = { "stack", "STACK", KS_CT_STACK, 0, .flags = KS_CF_KEY },
};

static const struct ks_tool fake_tool = { .name = "fake" };

static void row(struct ks_table *t, const char *comm, const char *kind,
		uint64_t count, uint64_t bytes, const uint64_t *ips, int n,
		bool user)
{
	long r = ks_row_add(t);

	ks_cell_comm(t, r, C_COMM, comm, KS_COMM_LEN);
	ks_cell_str(t, r, C_KIND, kind);
	ks_cell_u64(t, r, C_COUNT, count);
	ks_cell_u64(t, r, C_BYTES, bytes);
	if (ips)
		ks_cell_stack(t, r, C_STACK, ips, n, user);
}

static void fake_report(struct ks_report *rep, struct ks_run *r)
{
	/* innermost first, as the kernel gives them */
	static const uint64_t k1[] = { 0xffffffff81002010ULL,	/* helper_two */
				       0xffffffff81000100ULL };	/* _stext */
	static const uint64_t k2[] = { 0xffffffffc0001004ULL };	/* mod_func */
	static const uint64_t k3[] = { 0x1000 };		/* nothing */
	struct ks_table *t;

	memset(r, 0, sizeof(*r));
	r->tool = &fake_tool;
	r->o.top = 1;		/* -r: the stack writers take every row */
	memset(rep, 0, sizeof(*rep));
	rep->r = r;
	t = ks_table_add(rep, "entries", cols, C_NCOLS);
	row(t, "a;b", "cache", 2, 100, k1, 2, false);
	row(t, "x\ty", "cache", 1, 7, k2, 1, false);
	/* same comm and stack, another kind: one line, weights summed */
	row(t, "a;b", "kmalloc", 1, 50, k1, 2, false);
	row(t, "gone", "cache", 4, 0, NULL, 0, false);	/* weight 0 */
	row(t, "nostack", "cache", 3, 3, k3, 0, false);
	row(t, "odd", "cache", 5, 9, k3, 1, false);
}

static void test_folded(void **state)
{
	struct ks_report rep;
	struct ks_run r;
	char *s;

	(void)state;
	ks_kernel_syms_use(ks_ksyms_load(FIXTURES "/kallsyms"));
	fake_report(&rep, &r);
	s = capture_folded(&rep, false);
	/* sorted; ';' in a comm would split a frame, a tab ends nothing but
	 * is shown as the text writer shows it */
	assert_string_equal(s,
		"a:b;_stext_[k];helper_two_[k] 150\n"
		"nostack;[unknown] 3\n"
		"odd;0x1000_[k] 9\n"
		"x\\x09y;mod_func_[k] 7\n");
	free(s);
	s = capture_folded(&rep, true);
	assert_string_equal(s,
		"a:b;_stext_[k];helper_two_[k] 3\n"
		"gone;[unknown] 4\n"
		"nostack;[unknown] 3\n"
		"odd;0x1000_[k] 5\n"
		"x\\x09y;mod_func_[k] 1\n");
	free(s);
	ks_report_free(&rep);
	ks_kernel_syms_use(NULL);
}

static void timed(struct ks_report *rep)
{
	rep->time = (struct timespec){ 1700000002, 500000000 };
	rep->interval_s = 2.25;
}

/* a report whose table resolves user stacks in this process, whose
 * executable is exe */
static struct ks_table *user_report(struct ks_report *rep, struct ks_run *r,
				    struct ks_usyms **u, char *exe, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", exe, len - 1);
	struct ks_table *t;

	assert_true(n > 0);
	exe[n] = '\0';
	*u = ks_usyms_new(getpid());
	assert_non_null(*u);
	memset(r, 0, sizeof(*r));
	r->tool = &fake_tool;
	memset(rep, 0, sizeof(*rep));
	rep->r = r;
	timed(rep);
	t = ks_table_add(rep, "entries", cols, C_NCOLS);
	t->usyms = *u;
	return t;
}

/* user frames: "func [object]", resolved through the table's symbols */
static void test_folded_user(void **state)
{
	uint64_t ips[] = { (uint64_t)(uintptr_t)&ks_out_target + 1 };
	struct ks_usyms *u;
	struct ks_report rep;
	struct ks_run r;
	struct ks_table *t;
	char *s, want[256], exe[4096];

	(void)state;
	t = user_report(&rep, &r, &u, exe, sizeof(exe));
	row(t, "prog", "malloc", 3, 96, ips, 1, true);
	s = capture_folded(&rep, false);
	snprintf(want, sizeof(want), "prog;ks_out_target [%s] 96\n",
		 strrchr(exe, '/') + 1);
	assert_string_equal(s, want);
	free(s);
	ks_report_free(&rep);
	ks_usyms_free(u);
}

/* a report without stacks has nothing to fold, and no profile */
static void test_no_stacks(void **state)
{
	static const struct ks_col plain[] = {
		{ "cache", "CACHE", KS_CT_STR, -8, .flags = KS_CF_KEY },
		{ "bytes", "BYTES", KS_CT_U64, 6, .flags = KS_CF_WEIGHT,
		  .sample = "alloc_space" },
	};
	const struct ks_report *reps[1] = { NULL };
	struct ks_report rep;
	struct ks_run r;
	struct ks_stack_view v;
	struct ks_table *t;
	unsigned char *buf;
	size_t len;
	char *s;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.tool = &fake_tool;
	memset(&rep, 0, sizeof(rep));
	rep.r = &r;
	t = ks_table_add(&rep, "entries", plain, 2);
	ks_cell_u64(t, ks_row_add(t), 1, 5);
	assert_false(ks_stack_view(&rep, false, &v));
	s = capture_folded(&rep, false);
	assert_string_equal(s, "");
	free(s);
	reps[0] = &rep;
	assert_int_equal(ks_pprof_encode(reps, 1, &buf, &len), 1);
	assert_null(buf);
	ks_report_free(&rep);
}

/*
 * pprof (out_pprof.c): the profile decoded by another decoder, Python's
 * protobuf runtime with the message types of pprof's profile.proto
 * (tests/pprof_decode.py), printed in a canonical text form; and protoc
 * --decode_raw, which knows no schema, must read it too.
 */
#define PPROF_DECODE FIXTURES "/../../pprof_decode.py"

static char *run(const char *cmd)
{
	char *buf = NULL;
	size_t len = 0, n;
	char chunk[4096];
	FILE *out = open_memstream(&buf, &len);
	FILE *p = popen(cmd, "r");

	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		fwrite(chunk, 1, n, out);
	assert_int_equal(pclose(p), 0);
	fclose(out);
	return buf;
}

/* the profile of n reports, decoded: the canonical text */
static char *decoded(const struct ks_report *const *reps, int n, bool raw)
{
	char path[] = "/tmp/ks_pprof_XXXXXX", cmd[512];
	unsigned char *buf;
	size_t len;
	int fd = mkstemp(path);
	char *s;

	assert_true(fd >= 0);
	assert_int_equal(ks_pprof_encode(reps, n, &buf, &len), 0);
	assert_memory_equal(buf, "\x1f\x8b", 2);	/* gzip */
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s %s %s", PPROF_DECODE,
		 raw ? "--raw" : "", path);
	s = run(cmd);
	unlink(path);
	return s;
}

static void test_pprof(void **state)
{
	const struct ks_report *reps[2];
	struct ks_report rep, rep2;
	struct ks_run r, r2;
	char *s;

	(void)state;
	ks_kernel_syms_use(ks_ksyms_load(FIXTURES "/kallsyms"));
	fake_report(&rep, &r);
	timed(&rep);
	ks_table_line(rep.tables[0], false, "(1 in 3 sampled)");
	reps[0] = &rep;
	s = decoded(reps, 1, false);
	/* every row (no -r), the count first, labels as bytes are shown,
	 * leaf first; rows without a stack weigh under [unknown]; the
	 * window is the report's interval, ending at its time */
	assert_string_equal(s,
		"types alloc_objects/count alloc_space/bytes\n"
		"default alloc_space\n"
		"period alloc_space/bytes 1\n"
		"time 1700000000250000000 duration 2250000000\n"
		"comment kscope fake, mode fentry\n"
		"comment (1 in 3 sampled)\n"
		"mapping [kernel.kallsyms]\n"
		"sample 5 9 comm=odd kind=cache : 0x1000@[kernel.kallsyms]\n"
		"sample 4 0 comm=gone kind=cache : [unknown]@-\n"
		"sample 3 3 comm=nostack kind=cache : [unknown]@-\n"
		"sample 2 100 comm=a;b kind=cache : "
		"helper_two@[kernel.kallsyms] _stext@[kernel.kallsyms]\n"
		"sample 1 50 comm=a;b kind=kmalloc : "
		"helper_two@[kernel.kallsyms] _stext@[kernel.kallsyms]\n"
		"sample 1 7 comm=x\\x09y kind=cache : "
		"mod_func@[kernel.kallsyms]\n");
	free(s);
	s = decoded(reps, 1, true);
	assert_non_null(strstr(s, "6: \"helper_two\""));
	assert_non_null(strstr(s, "6: \"[kernel.kallsyms]\""));
	free(s);

	/* two reports (kscope export's locks): one profile, a tool label */
	fake_report(&rep2, &r2);
	timed(&rep2);
	rep2.time.tv_sec += 1;
	reps[1] = &rep2;
	s = decoded(reps, 2, false);
	assert_non_null(strstr(s, "time 1700000000250000000 "
			       "duration 3250000000\n"));
	/* each row twice, labelled with its tool */
	assert_non_null(strstr(s, "sample 5 9 comm=odd kind=cache tool=fake : "
			       "0x1000@[kernel.kallsyms]\nsample 5 9 comm=odd "
			       "kind=cache tool=fake : "));
	free(s);
	ks_report_free(&rep2);
	ks_report_free(&rep);
	ks_kernel_syms_use(NULL);
}

/* user frames: their object's mapping, the function, file and line */
static void test_pprof_user(void **state)
{
	uint64_t ips[] = { (uint64_t)(uintptr_t)&ks_out_target + 1, 0x10 };
	const struct ks_report *reps[1];
	struct ks_usyms *u;
	struct ks_report rep;
	struct ks_run r;
	struct ks_table *t;
	char *s, want[8400], exe[4096];

	(void)state;
	t = user_report(&rep, &r, &u, exe, sizeof(exe));
	row(t, "prog", "malloc", 3, 96, ips, 2, true);
	reps[0] = &rep;
	s = decoded(reps, 1, false);
	/* 0x10 is in no mapping: an address without a mapping or line;
	 * the function's line is one of its first */
	snprintf(want, sizeof(want), "mapping %s functions lines\n", exe);
	assert_non_null(strstr(s, want));
	snprintf(want, sizeof(want), "sample 3 96 comm=prog kind=malloc : "
		 "ks_out_target(test_outputs.c:%%d)@%s 0x10@-\n",
		 strrchr(exe, '/') + 1);
	{
		const char *l = strstr(s, "sample ");
		int line = 0;

		assert_non_null(l);
		assert_int_equal(sscanf(l, want, &line), 1);
		assert_in_range(line, target_line, target_line + 4);
		snprintf(exe, sizeof(exe), want, line);
		assert_string_equal(l, exe);	/* the whole line */
	}
	free(s);
	ks_report_free(&rep);
	ks_usyms_free(u);
}

static struct ks_flame *parse(const char *text)
{
	struct ks_flame *f = ks_flame_new();

	assert_non_null(f);
	assert_int_equal(ks_flame_parse(f, text, strlen(text)), 0);
	return f;
}

static void test_flame_parse(void **state)
{
	struct ks_flame *f;
	size_t first;
	char *deep;
	size_t o = 0;

	(void)state;
	f = parse("# time 2026-01-01T00:00:00.000Z interval_s 1.000\n"
		  "a;b;c 10\r\n"
		  "\n"
		  "a;b 5\n"
		  "a;b;c\t1\n"		/* a tab separates the weight too */
		  "no weight\n"
		  "x;y -3\n"
		  "x;y 3.5\n"
		  " 7\n"
		  "z 99999999999999999999999\n"
		  "last 4");		/* no newline at the end */
	assert_int_equal(ks_flame_total(f), 20);
	assert_int_equal(ks_flame_bad_lines(f, &first), 5);
	assert_int_equal(first, 6);
	ks_flame_free(f);

	/* a total that would wrap is refused, not wrapped */
	f = parse("a 18446744073709551615\nb 1\n");
	assert_int_equal(ks_flame_total(f), UINT64_MAX);
	assert_int_equal(ks_flame_bad_lines(f, &first), 1);
	assert_int_equal(first, 2);
	ks_flame_free(f);

	/* deeper than drawn: weight kept, counted */
	deep = malloc(3 * 5000 + 16);
	for (int i = 0; i < 5000; i++)
		o += sprintf(deep + o, "f%d;", i % 10);
	sprintf(deep + o - 1, " 8\n");
	f = parse(deep);
	assert_int_equal(ks_flame_total(f), 8);
	assert_int_equal(ks_flame_truncated(f), 1);
	free(deep);
	ks_flame_free(f);
}

static char *svg_of(const char *text, const struct ks_flame_opts *o)
{
	struct ks_flame *f = parse(text);
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_int_equal(ks_flame_svg(f, o, out), 0);
	fclose(out);
	ks_flame_free(f);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	if (fread(buf, 1, n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void golden(const char *name, const char *got)
{
	char path[512];
	char *want;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN, name);
	if (getenv("KS_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(got, f);
		fclose(f);
	}
	want = slurp(path);
	if (!want)
		fail_msg("no golden file %s (KS_UPDATE_GOLDEN=1 makes it)",
			 path);
	if (strcmp(want, got))
		fail_msg("%s differs from the output (KS_UPDATE_GOLDEN=1 "
			 "rewrites it after a reviewed layout change)", path);
	free(want);
}

/* task names, kernel and user frames, a name that needs XML escaping,
 * bytes that are not UTF-8, a multi-byte name to truncate */
static const char golden_input[] =
	"cc1;entry_SYSCALL_64_[k];do_syscall_64_[k];__x64_sys_openat_[k];"
	"kmem_cache_alloc_[k] 6000\n"
	"cc1;entry_SYSCALL_64_[k];do_syscall_64_[k];__x64_sys_read_[k] 2000\n"
	"cc1;main [cc1];xmalloc [cc1];malloc [libc.so.6] 1500\n"
	"a<b>&\"c\";f\xff\xfe;std::vector<int>::push_back [x] 400\n"
	"\xc3\xa9t\xc3\xa9;\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5"
	"\xe6\x9c\xac\xe8\xaa\x9e_[k] 1100\n";

static void test_flame_golden(void **state)
{
	struct ks_flame_opts o = { .title = "kmem <bytes>", .unit = "bytes",
				   .width = 600 };
	char *s;

	(void)state;
	s = svg_of(golden_input, &o);
	golden("flame.svg", s);
	free(s);
	o = (struct ks_flame_opts){ .unit = "ns", .icicle = true,
				    .embedded = true, .width = 400 };
	s = svg_of(golden_input, &o);
	golden("icicle-embedded.svg", s);
	free(s);
	o = (struct ks_flame_opts){ 0 };
	s = svg_of("", &o);
	golden("empty.svg", s);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded),
		cmocka_unit_test(test_folded_user),
		cmocka_unit_test(test_no_stacks),
		cmocka_unit_test(test_pprof),
		cmocka_unit_test(test_pprof_user),
		cmocka_unit_test(test_flame_parse),
		cmocka_unit_test(test_flame_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
