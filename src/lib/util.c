// SPDX-License-Identifier: GPL-2.0
/* Errors, libbpf diagnostics, time and small formatting helpers. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include <zlib.h>
#include "kscope.h"

/*
 * The name errors start with: the process's, and a thread's own where it
 * set one (report's loader threads: ks_run_start_all()).  The last error
 * and libbpf's last warning are kept per thread, so that a failure is
 * explained by its own thread's messages.
 */
static const char *proc_prog = "kscope";
static __thread const char *thread_prog;
static __thread char libbpf_last[512];
/* the last ks_err() message, for callers that report it elsewhere too */
static __thread char err_last[512];
static bool libbpf_verbose;

void ks_set_prog(const char *prog)
{
	if (gettid() == getpid())
		proc_prog = prog;
	else
		thread_prog = prog;
}

const char *ks_prog(void)
{
	return thread_prog ? thread_prog : proc_prog;
}

void ks_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	va_start(ap, fmt);
	vsnprintf(err_last, sizeof(err_last), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", ks_prog(), err_last);
}

FILE *ks_output_open(const char *path)
{
	FILE *f;
	int fd;

	if (!strcmp(path, "-"))
		return stdout;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
		  0666);
	if (fd < 0) {
		ks_err("cannot write %s: %s", path, strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ks_err("cannot write %s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

int ks_output_flush(FILE *f)
{
	errno = 0;
	if (fflush(f) == EOF || ferror(f))
		return errno ? errno : EIO;
	return 0;
}

const char *ks_err_last(void)
{
	return err_last;
}

int ks_usage_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", ks_prog());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s -h')\n", ks_prog());
	return -1;
}

int ks_opt_error(int c, char *const *argv)
{
	if (c == ':')
		ks_usage_error("option '%s' needs a value", argv[optind - 1]);
	/* inside a group ("-Zj") argv[optind - 1] is not the option: name
	 * the letter */
	else if (optopt > 0 && optopt < 256)
		ks_usage_error("unknown option '-%c'", optopt);
	else
		ks_usage_error("unknown option '%s'", argv[optind - 1]);
	return KS_EXIT_USAGE;
}

/*
 * Without -v libbpf stays quiet, but its last warning is kept so a failure
 * can be explained in one line instead of a wall of verifier output.
 */
static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	va_list copy;

	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	va_copy(copy, ap);
	if (level != LIBBPF_DEBUG) {
		char line[512];
		size_t n;

		vsnprintf(line, sizeof(line), fmt, copy);
		n = strcspn(line, "\n");
		line[n] = '\0';
		/* shown as "[libbpf: ...]": its own "libbpf: " once is enough */
		if (n)
			snprintf(libbpf_last, sizeof(libbpf_last), "%s",
				 line + (strncmp(line, "libbpf: ", 8) ? 0 : 8));
	}
	va_end(copy);
	if (libbpf_verbose)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

void ks_libbpf_setup(bool verbose)
{
	libbpf_verbose = verbose;
	libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
	libbpf_set_print(libbpf_print);
}

/*
 * Loading one BPF object parses the kernel's BTF (/sys/kernel/btf/vmlinux,
 * 5.5 MB here, twice that while libbpf copies it) twice, once for probe.c
 * and once inside libbpf (1.1 takes no parsed copy), freeing it in
 * between (bpf.c: never two at once).  glibc serves blocks that big with
 * mmap and unmaps them on free, so every parse touches its ~2,800 pages
 * afresh: 20-40 ms a parse on this VM against 3.6 ms on memory touched
 * before.  `kscope report` and `kscope export` load up to ten objects,
 * eighteen parses: while they load, freed memory stays in the heap for
 * the next parse (ks_heap_hold()), and ks_heap_release() gives it back
 * once everything is attached.  Of the single tools only the lock tools
 * do (struct ks_tool's hold_heap: three parses, the third for their
 * bpf_get_kmem_cache() object): kscope mlock ready 314 -> 220 ms for
 * +1 MB at its peak; kmem (two parses) would gain 18 ms for +4.6 MB
 * (docs/bench.md).  Their few kernel addresses come from the kernel's
 * own lookup, no symbol table (ks_kernel_text()).  Holds nest: a lock
 * tool's start inside report's load leaves report's hold in place.
 *
 * report loads in threads (ks_run_start_all()): one arena for all, or a
 * loader thread's arena keeps what it freed in a top chunk that
 * malloc_trim() does not give back (report settled at 30 MB instead of
 * 20).
 */
static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
static int heap_holds;

void ks_heap_hold(void)
{
	pthread_mutex_lock(&heap_lock);
	if (!heap_holds++) {
		mallopt(M_MMAP_THRESHOLD, 32 << 20);	/* glibc's maximum */
		mallopt(M_TRIM_THRESHOLD, 256 << 20);
		mallopt(M_ARENA_MAX, 1);
	}
	pthread_mutex_unlock(&heap_lock);
}

void ks_heap_release(void)
{
	pthread_mutex_lock(&heap_lock);
	if (heap_holds > 0 && !--heap_holds) {
		/* glibc's defaults (128 KiB each), then what loading left
		 * free */
		mallopt(M_MMAP_THRESHOLD, 128 << 10);
		mallopt(M_TRIM_THRESHOLD, 128 << 10);
		malloc_trim(0);
	}
	pthread_mutex_unlock(&heap_lock);
}

const char *ks_libbpf_last(void)
{
	return libbpf_last[0] ? libbpf_last : "no detail from libbpf";
}

double ks_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int ks_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int ks_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	/* v != v rejects "nan" */
	if (errno || *end || end == s || v != v || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

const char *ks_comm_text(const char *comm, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < KS_COMM_LEN && comm[i] && o + 5 < len; i++) {
		unsigned char c = comm[i];

		if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

const char *ks_fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, len, "%" PRIu64 " B", b);
	else
		snprintf(buf, len, "%.1f %s", v, u[i]);
	return buf;
}

bool ks_cpu_has_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	size_t n = strlen(flag);
	char line[8192];
	bool found = false;

	if (!f)
		return false;
	/* the first CPU's "flags" line: space-separated words */
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line;

		if (strncmp(line, "flags", 5))
			continue;
		while ((p = strstr(p, flag))) {
			if (p[-1] == ' ' && (p[n] == ' ' || p[n] == '\n' ||
					     p[n] == '\0')) {
				found = true;
				break;
			}
			p += n;
		}
		break;
	}
	fclose(f);
	return found;
}

bool ks_kernel_before(int major, int minor)
{
	struct utsname u;
	int ma, mi;

	/* "6.1.0-57-amd64": unreadable counts as new (no claim made) */
	if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
		return false;
	return ma < major || (ma == major && mi < minor);
}

/* length of the valid UTF-8 sequence at s (1-4), or 0 */
int ks_utf8_len(const unsigned char *s)
{
	int n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (int i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong, surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

int ks_gzip(const void *in, size_t n, int level, unsigned char **out,
	    size_t *len)
{
	z_stream z = { 0 };
	size_t cap = compressBound(n) + 32;
	unsigned char *buf = malloc(cap);

	*out = NULL;
	*len = 0;
	if (!buf)
		return -1;
	/* windowBits 15 + 16: a gzip wrapper, not zlib's */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		free(buf);
		return -1;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = n;
	z.next_out = buf;
	z.avail_out = cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(buf);
		return -1;
	}
	*out = buf;
	*len = z.total_out;
	deflateEnd(&z);
	return 0;
}
