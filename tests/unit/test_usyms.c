// SPDX-License-Identifier: GPL-2.0
/*
 * User-space symbolization (src/lib/usyms.c): names and lines in this
 * PIE test program, names in libc, the load-bias arithmetic on a mapping
 * placed by hand, maps text parsing, symbols of a process that exited,
 * and mmaps followed through perf records.  No root needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kscope.h"

static int target_first_line = __LINE__ + 2;
__attribute__((noinline, noclone)) int ks_test_target_fn(int x)
{
	volatile int y = x * 3;

	return y + 1;
}
static int target_last_line = __LINE__ - 1;

static uint64_t target(void)
{
	return (uint64_t)(uintptr_t)&ks_test_target_fn;
}

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

/* basename of this test program, however it was copied or renamed */
static const char *self_name(void)
{
	static char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	return base(buf);
}

static void self_function(void **state)
{
	struct ks_usyms *u = ks_usyms_new(getpid());
	struct ks_usym s;

	(void)state;
	assert_non_null(u);
	assert_int_equal(ks_usyms_lookup(u, target() + 4, false, &s), 0);
	assert_non_null(s.func);
	assert_string_equal(s.func, "ks_test_target_fn");
	assert_int_equal(s.offset, 4);
	/* built with -g: the line is known */
	assert_non_null(s.file);
	assert_string_equal(base(s.file), "test_usyms.c");
	assert_in_range(s.line, target_first_line, target_last_line);
	assert_string_equal(base(s.module), self_name());
	ks_usyms_free(u);
}

static void libc_function(void **state)
{
	struct ks_usyms *u = ks_usyms_new(getpid());
	uint64_t a = (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, "malloc");
	struct ks_usym s;

	(void)state;
	assert_true(a != 0);
	assert_int_equal(ks_usyms_lookup(u, a, false, &s), 0);
	assert_non_null(s.func);
	/* malloc or its alias __libc_malloc */
	assert_non_null(strstr(s.func, "malloc"));
	assert_int_equal(strncmp(base(s.module), "libc", 4), 0);
	ks_usyms_free(u);
}

static void format_return_address(void **state)
{
	struct ks_usyms *u = ks_usyms_new(getpid());
	char mod[4200];
	const char *f, *g;

	(void)state;
	snprintf(mod, sizeof(mod), " [%s]", self_name());
	/* a return address is looked up one byte back, shown as is */
	f = ks_usyms_fmt(u, target() + 1, true);
	assert_int_equal(strncmp(f, "ks_test_target_fn+0x1 (test_usyms.c:",
				 36), 0);
	assert_non_null(strstr(f, mod));
	/* cached: the same string again */
	g = ks_usyms_fmt(u, target() + 1, true);
	assert_ptr_equal(f, g);
	/* the first byte of a function, as a return address, belongs to
	 * whatever precedes it */
	f = ks_usyms_fmt(u, target(), true);
	assert_null(strstr(f, "ks_test_target_fn+0x0 "));
	ks_usyms_free(u);
}

static void unknown_address(void **state)
{
	struct ks_usyms *u = ks_usyms_new(getpid());
	struct ks_usym s;

	(void)state;
	assert_int_equal(ks_usyms_lookup(u, 0x10, false, &s), -1);
	assert_string_equal(ks_usyms_fmt(u, 0x10, false), "0x10");
	assert_string_equal(ks_usyms_fmt(u, 0, false), "0x0");
	ks_usyms_free(u);
}

/* our own executable mapping that holds ks_test_target_fn */
static int own_text(uint64_t *start, uint64_t *end, uint64_t *off,
		    char *path, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4352];
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, o;
		char perms[8], *p;

		if (sscanf(line, "%llx-%llx %7s %llx", &s, &e, perms, &o) != 4 ||
		    perms[2] != 'x' || target() < s || target() >= e)
			continue;
		p = strchr(line, '/');
		if (!p)
			continue;
		p[strcspn(p, "\n")] = '\0';
		snprintf(path, len, "%s", p);
		*start = s;
		*end = e;
		*off = o;
		found = 0;
	}
	fclose(f);
	return found;
}

/* a PIE placed by hand somewhere else: the bias comes from its headers */
static void mapping_by_hand(void **state)
{
	struct ks_usyms *u = ks_usyms_new(0);
	uint64_t s, e, off, fake = 0x10000000;
	char path[4096];
	struct ks_usym sym;

	(void)state;
	assert_int_equal(own_text(&s, &e, &off, path, sizeof(path)), 0);
	assert_int_equal(ks_usyms_add_map(u, fake, fake + (e - s), off, path),
			 0);
	assert_int_equal(ks_usyms_nmaps(u), 1);
	assert_int_equal(ks_usyms_lookup(u, fake + (target() - s) + 2, false,
					 &sym), 0);
	assert_string_equal(sym.func, "ks_test_target_fn");
	assert_int_equal(sym.offset, 2);
	assert_int_equal(sym.module_offset, off + (target() - s) + 2);
	/* relative paths and empty ranges are refused */
	assert_int_equal(ks_usyms_add_map(u, 1, 2, 0, "rel"), -22);
	assert_int_equal(ks_usyms_add_map(u, 2, 2, 0, "/x"), -22);
	/* a mapping over it replaces it, as mmap does */
	assert_int_equal(ks_usyms_add_map(u, fake, fake + 4096, 0,
					  "/nonexistent"), 0);
	assert_int_equal(ks_usyms_nmaps(u), 1);
	assert_string_equal(ks_usyms_fmt(u, fake + 16, false),
			    "0x10000010 [nonexistent+0x10]");
	ks_usyms_free(u);
}

static void maps_text(void **state)
{
	static const char text[] =
"55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 123 /usr/bin/prog\n"
"55d0c0a02000-55d0c0a08000 r-xp 00002000 08:01 123 /usr/bin/prog\n"
"7f0000000000-7f0000021000 rw-p 00000000 00:00 0 \n"
"7f1000000000-7f1000100000 r-xp 00028000 08:01 456 /lib/libc.so.6\n"
"7f2000000000-7f2000001000 r-xp 00000000 08:01 789 /tmp/x.so (deleted)\n"
"7fff00000000-7fff00002000 r-xp 00000000 00:00 0 [vdso]\n"
"garbage\n";
	struct ks_usyms *u = ks_usyms_new(0);
	struct ks_usym s;

	(void)state;
	/* executable file mappings only */
	assert_int_equal(ks_usyms_add_maps_text(u, text), 3);
	assert_int_equal(ks_usyms_nmaps(u), 3);
	assert_int_equal(ks_usyms_lookup(u, 0x7f2000000010, false, &s), 0);
	assert_string_equal(s.module, "/tmp/x.so");
	assert_int_equal(ks_usyms_lookup(u, 0x7fff00000010, false, &s), -1);
	ks_usyms_free(u);
}

/* A process's symbols still resolve after it exited and was reaped. */
static void exited_process(void **state)
{
	struct ks_usyms *u;
	int p[2], st;
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	u = ks_usyms_new(pid);
	assert_true(ks_usyms_nmaps(u) > 0);
	close(p[1]);		/* let it exit */
	assert_int_equal(waitpid(pid, &st, 0), pid);
	ks_usyms_update(u);	/* nothing to read any more: keeps the maps */
	/* the child was a copy of us: same addresses */
	assert_int_equal(strncmp(ks_usyms_fmt(u, target() + 1, true),
				 "ks_test_target_fn+0x1 ", 22), 0);
	ks_usyms_free(u);
}

/*
 * A mapping made after we looked at /proc, by a process that is gone
 * before we look again: only the perf mmap record knows it.
 */
static void followed_mmap(void **state)
{
	uint64_t s, e, off, addr = 0;
	struct ks_usyms *u;
	char path[4096];
	int go[2], back[2], st;
	pid_t pid;
	char c;

	(void)state;
	assert_int_equal(own_text(&s, &e, &off, path, sizeof(path)), 0);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(back), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		void *m;

		close(go[1]);
		if (read(go[0], &c, 1) != 1 || fd < 0)
			_exit(1);
		m = mmap(NULL, e - s, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd,
			 off);
		addr = (uint64_t)(uintptr_t)m;
		if (m == MAP_FAILED ||
		    write(back[1], &addr, sizeof(addr)) != sizeof(addr))
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	u = ks_usyms_new(pid);
	if (ks_usyms_follow(u)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		ks_usyms_free(u);
		skip();		/* perf events not allowed here */
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	assert_int_equal(read(back[0], &addr, sizeof(addr)), sizeof(addr));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ks_usyms_update(u);
	assert_int_equal(strncmp(ks_usyms_fmt(u, addr + (target() - s) + 1,
					      true),
				 "ks_test_target_fn+0x1 ", 22), 0);
	close(go[1]);
	close(back[0]);
	ks_usyms_free(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(self_function),
		cmocka_unit_test(libc_function),
		cmocka_unit_test(format_return_address),
		cmocka_unit_test(unknown_address),
		cmocka_unit_test(mapping_by_hand),
		cmocka_unit_test(maps_text),
		cmocka_unit_test(exited_process),
		cmocka_unit_test(followed_mmap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
