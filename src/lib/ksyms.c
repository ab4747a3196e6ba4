// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel symbols from /proc/kallsyms: read once into one string arena and
 * one sorted array, then binary search.  Data symbols are kept too so
 * static locks resolve to their names.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kscope.h"
#include "ksym.h"
#include "ksym.skel.h"

struct ks_ksyms {
	struct ks_ksym *syms;
	size_t n, cap;
	char *arena;
	size_t arena_len, arena_cap;
	uint32_t *by_name;		/* name hash table, built lazily */
	size_t by_name_mask;
	size_t hidden;			/* lines with a zero address */
};

static int cmp_addr(const void *a, const void *b)
{
	const struct ks_ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* prefer vmlinux over module, then a stable order */
	if (!x->module != !y->module)
		return x->module ? 1 : -1;
	return strcmp(x->name, y->name);
}

static size_t arena_add(struct ks_ksyms *k, const char *s, size_t len)
{
	size_t off;

	if (k->arena_len + len + 1 > k->arena_cap) {
		size_t cap = k->arena_cap ? k->arena_cap * 2 : 1 << 20;
		char *a;

		while (cap < k->arena_len + len + 1)
			cap *= 2;
		a = realloc(k->arena, cap);
		if (!a)
			return (size_t)-1;
		k->arena = a;
		k->arena_cap = cap;
	}
	off = k->arena_len;
	memcpy(k->arena + off, s, len);
	k->arena[off + len] = '\0';
	k->arena_len += len + 1;
	return off;
}

/* /proc/kallsyms opened before capabilities were dropped: whether it
 * shows addresses was decided at open, with the opener's credentials.
 * Kept open and read from its start each time (seq_file seeks), since the
 * table may be read, let go and read again (syms_get()). */
static FILE *preopened;

static struct ks_ksyms *kernel_syms;
/* report's loader threads ask for the table at once: one loads it, the
 * others wait; the name index is built once under the same lock */
static pthread_mutex_t kernel_syms_lock = PTHREAD_MUTEX_INITIALIZER;

static void close_preopened(void)
{
	if (preopened)
		fclose(preopened);
	preopened = NULL;
}

void ks_kernel_syms_preopen(void)
{
	if (!kernel_syms && !preopened) {
		preopened = fopen("/proc/kallsyms", "re");
		if (preopened)
			atexit(close_preopened);
	}
}

/* one line of kallsyms, "addr type name[\t[module]]", into s (pointing
 * into line); false for a line that is not one */
static bool parse_line(char *line, struct ks_ksym *s)
{
	char *p, *end;

	s->addr = strtoull(line, &end, 16);
	if (end == line || *end != ' ')
		return false;
	s->type = end[1];
	if (!s->type || end[2] != ' ')
		return false;
	s->name = p = end + 3;
	p[strcspn(p, "\n")] = '\0';
	s->module = NULL;
	/* module symbols end with "\t[mod]" */
	p = strchr(p, '\t');
	if (p) {
		*p++ = '\0';
		if (*p == '[') {
			s->module = p + 1;
			p[1 + strcspn(p + 1, "]")] = '\0';
		}
	}
	return true;
}

/* a symbol a table keeps: addresses hidden by kptr_restrict are all zero
 * (useless), absolute and undefined ones are no place in the kernel */
static bool kept(const struct ks_ksym *s)
{
	return s->addr && s->type != 'a' && s->type != 'A' && s->type != 'U';
}

static FILE *open_syms(const char *path)
{
	if (!path && preopened && !fseek(preopened, 0, SEEK_SET))
		return preopened;
	return fopen(path ? path : "/proc/kallsyms", "re");
}

static void close_syms(FILE *f)
{
	if (f && f != preopened)
		fclose(f);
}

struct ks_ksyms *ks_ksyms_load(const char *path)
{
	struct ks_ksyms *k;
	char line[512];
	FILE *f = open_syms(path);

	if (!f)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		struct ks_ksym l;
		size_t off, moff = (size_t)-1;

		if (!parse_line(line, &l))
			continue;
		k->hidden += !l.addr;
		if (!kept(&l))
			continue;
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 65536;
			struct ks_ksym *s = realloc(k->syms, cap * sizeof(*s));

			if (!s)
				goto fail;
			k->syms = s;
			k->cap = cap;
		}
		off = arena_add(k, l.name, strlen(l.name));
		if (l.module)
			moff = arena_add(k, l.module, strlen(l.module));
		if (off == (size_t)-1)
			goto fail;
		/* arena may move: store offsets now, pointers after load */
		k->syms[k->n].addr = l.addr;
		k->syms[k->n].type = l.type;
		k->syms[k->n].name = (const char *)(uintptr_t)off;
		k->syms[k->n].module = l.module ?
				       (const char *)(uintptr_t)(moff + 1) :
				       NULL;
		k->n++;
	}
	close_syms(f);
	for (size_t i = 0; i < k->n; i++) {
		k->syms[i].name = k->arena + (uintptr_t)k->syms[i].name;
		if (k->syms[i].module)
			k->syms[i].module = k->arena +
				(uintptr_t)k->syms[i].module - 1;
	}
	/* an empty file has no array at all (the fuzzer's first find) */
	if (k->n)
		qsort(k->syms, k->n, sizeof(*k->syms), cmp_addr);
	return k;
fail:
	close_syms(f);
	ks_ksyms_free(k);
	return NULL;
}

void ks_ksyms_free(struct ks_ksyms *k)
{
	if (!k)
		return;
	free(k->syms);
	free(k->arena);
	free(k->by_name);
	free(k);
}

/* the last of n elements (stride bytes apart, each starting with its
 * uint64_t address, sorted by it) whose address is at most addr; the
 * first one's must be */
static size_t last_at_or_below(const void *arr, size_t n, size_t stride,
			       uint64_t addr)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t a;

		memcpy(&a, (const char *)arr + mid * stride, sizeof(a));
		if (a <= addr)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

const struct ks_ksym *ks_ksyms_lookup(const struct ks_ksyms *k, uint64_t addr)
{
	size_t lo;

	if (!k || !k->n || addr < k->syms[0].addr)
		return NULL;
	lo = last_at_or_below(k->syms, k->n, sizeof(k->syms[0]), addr);
	/* skip back over aliases so vmlinux names win (sorted first) */
	while (lo > 0 && k->syms[lo - 1].addr == k->syms[lo].addr)
		lo--;
	return &k->syms[lo];
}

/* section bounds the linker or vmlinux.lds make, data-typed in kallsyms
 * even without CONFIG_KALLSYMS_ALL: no variable is called that */
static bool section_bound(const char *name)
{
	static const char *const pre[] = {
		"__start_", "__stop_", "__end_", "__init_", "__bss_",
		"__brk_", "__per_cpu_", "_sdata", "_edata", "__nosave_",
		"__kprobes_", "__entry_text_", "__irqentry_", "__softirqentry_",
	};

	for (size_t i = 0; i < sizeof(pre) / sizeof(pre[0]); i++)
		if (!strncmp(name, pre[i], strlen(pre[i])))
			return true;
	return false;
}

const struct ks_ksym *ks_ksyms_data_lookup(const struct ks_ksyms *k,
					   uint64_t addr)
{
	const struct ks_ksym *s = ks_ksyms_lookup(k, addr);

	if (!s || !strchr("dDbBrR", s->type) || section_bound(s->name))
		return NULL;
	return s;
}

/*
 * Names to symbols: an open-addressing hash table of indices into syms
 * (1-based, 0 is empty), built on the first lookup.  Sorting the 121,000
 * names of a kallsyms by strcmp took ~30 ms of every lock tool's start;
 * hashing them takes a few.  Symbols are inserted in address order and a
 * name's first one is kept, so a duplicate name (static functions) finds
 * its lowest address, vmlinux before modules.
 */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 29);
}

/* the slot holding name, or the empty slot where it would go */
static size_t name_slot(const struct ks_ksyms *k, const char *name)
{
	size_t j = name_hash(name) & k->by_name_mask;

	while (k->by_name[j] && strcmp(k->syms[k->by_name[j] - 1].name, name))
		j = (j + 1) & k->by_name_mask;
	return j;
}

static int build_by_name(struct ks_ksyms *k)
{
	size_t size = 1;

	while (size < 2 * k->n)
		size <<= 1;
	k->by_name = calloc(size, sizeof(*k->by_name));
	if (!k->by_name)
		return -1;
	k->by_name_mask = size - 1;
	for (size_t i = 0; i < k->n; i++) {
		size_t j = name_slot(k, k->syms[i].name);

		if (!k->by_name[j])
			k->by_name[j] = i + 1;
	}
	return 0;
}

const struct ks_ksym *ks_ksyms_by_name(const struct ks_ksyms *kc,
				       const char *name)
{
	struct ks_ksyms *k = (struct ks_ksyms *)kc;
	size_t j;
	int err = 0;

	if (!k || !k->n)
		return NULL;
	pthread_mutex_lock(&kernel_syms_lock);
	if (!k->by_name)
		err = build_by_name(k);
	pthread_mutex_unlock(&kernel_syms_lock);
	if (err)
		return NULL;
	j = name_slot(k, name);
	return k->by_name[j] ? &k->syms[k->by_name[j] - 1] : NULL;
}

uint64_t ks_ksyms_end(const struct ks_ksyms *k, const struct ks_ksym *s)
{
	const struct ks_ksym *p, *end = k->syms + k->n;

	if (s < k->syms || s >= end)
		return s->addr + 1;
	for (p = s + 1; p < end && p->addr == s->addr; p++)
		;
	return p < end ? p->addr : s->addr + 1;
}

char *ks_ksyms_fmt(const struct ks_ksyms *k, uint64_t addr, char *buf,
		   size_t len)
{
	const struct ks_ksym *s = ks_ksyms_lookup(k, addr);

	if (!s)
		snprintf(buf, len, "0x%" PRIx64, addr);
	else if (s->module)
		snprintf(buf, len, "%s+0x%" PRIx64 " [%s]", s->name,
			 addr - s->addr, s->module);
	else
		snprintf(buf, len, "%s+0x%" PRIx64, s->name, addr - s->addr);
	return buf;
}

static void free_kernel_syms(void)
{
	ks_ksyms_free(kernel_syms);
	kernel_syms = NULL;
}

/*
 * A table read for one look and let go (syms_get(), syms_put()), shared by
 * the looks that overlap: the 121,000 symbols of a kallsyms take ~8 MB,
 * which a tool that needs a few addresses at its start (the lock tools) or
 * a few ranges while it traces (kpages' short walk) should not keep for
 * the whole run.
 */
static struct ks_ksyms *loan;
static int loans;	/* gets of it not put back yet */
static int keeps;	/* ks_kernel_syms_keep() scopes open */
/* bumped when the process-wide table is replaced: ranges built from the
 * old one are built again (ks_kranges_kernel()) */
static unsigned int syms_gen;

/* set around a report nobody sees (ks_run_restart()): names not read */
static __thread bool syms_paused;

void ks_kernel_syms_pause(bool paused)
{
	syms_paused = paused;
}

const struct ks_ksyms *ks_kernel_syms(void)
{
	struct ks_ksyms *k;

	pthread_mutex_lock(&kernel_syms_lock);
	if (!kernel_syms && !syms_paused) {
		/* a table on loan becomes the process-wide one */
		kernel_syms = loan ? loan : ks_ksyms_load(NULL);
		loan = NULL;
		loans = 0;	/* its puts are of the process-wide table now */
		if (kernel_syms)
			atexit(free_kernel_syms);
	}
	k = kernel_syms;
	pthread_mutex_unlock(&kernel_syms_lock);
	return k;
}

int ks_ksyms_scan_names(const char *path, const char *const *names,
			uint64_t *addrs, int n)
{
	bool *vml = calloc(n > 0 ? n : 1, sizeof(*vml));
	char line[512];
	FILE *f;

	if (!vml)
		return -1;
	f = open_syms(path);
	if (!f) {
		free(vml);
		return -1;
	}
	for (int i = 0; i < n; i++)
		addrs[i] = 0;
	/* what ks_ksyms_by_name() answers: of the symbols of that name, the
	 * lowest address, vmlinux before a module at the same one */
	while (fgets(line, sizeof(line), f)) {
		struct ks_ksym l;

		if (!parse_line(line, &l) || !kept(&l))
			continue;
		for (int i = 0; i < n; i++) {
			if (strcmp(l.name, names[i]))
				continue;
			if (!addrs[i] || l.addr < addrs[i] ||
			    (l.addr == addrs[i] && !l.module && !vml[i])) {
				addrs[i] = l.addr;
				vml[i] = !l.module;
			}
		}
	}
	close_syms(f);
	free(vml);
	return 0;
}

/*
 * The names looked up by the kernel itself (bpf/ksym.bpf.c: a syscall
 * program run once, ~1.5 ms against ~45 ms for a scan of kallsyms); -1
 * where it cannot answer here: before 5.16, without CAP_BPF, or where
 * kallsyms would show this task zeros (EPERM).  For a name given to more
 * than one symbol the kernel's answer is its own (vmlinux's lowest
 * address, else a module's): the linker's section bounds asked for here
 * are one symbol each.
 */
static int lookup_by_kernel(const char *const *names, uint64_t *addrs, int n)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);
	struct ksym_bpf *skel;
	int err = -1;

	if (n > KSYM_MAX_REQ)
		return -1;
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) >= KSYM_NAME_LEN)
			return -1;
	skel = ksym_bpf__open();
	if (!skel)
		return -1;
	if (ksym_bpf__load(skel))
		goto out;
	for (int i = 0; i < n; i++) {
		memset(skel->bss->reqs[i].name, 0, KSYM_NAME_LEN);
		memcpy(skel->bss->reqs[i].name, names[i], strlen(names[i]));
	}
	skel->bss->nreq = n;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.ksym_lookup),
				   &run) || run.retval)
		goto out;
	for (int i = 0; i < n; i++) {
		long long e = skel->bss->reqs[i].err;

		if (e && e != -ENOENT)
			goto out;	/* EPERM: not for this task */
	}
	for (int i = 0; i < n; i++)
		addrs[i] = skel->bss->reqs[i].err ? 0 : skel->bss->reqs[i].addr;
	err = 0;
out:
	ksym_bpf__destroy(skel);
	return err;
}

int ks_kernel_syms_addrs(const char *const *names, uint64_t *addrs, int n,
			 const char **from)
{
	int err = 0;

	pthread_mutex_lock(&kernel_syms_lock);
	/* the preopened file is read under the lock */
	if (!kernel_syms) {
		*from = "the kernel's lookup (BPF)";
		if (lookup_by_kernel(names, addrs, n)) {
			*from = "a scan of /proc/kallsyms";
			err = ks_ksyms_scan_names(NULL, names, addrs, n);
		}
	}
	pthread_mutex_unlock(&kernel_syms_lock);
	if (err || !kernel_syms)
		return err;
	*from = "the symbol table";
	for (int i = 0; i < n; i++) {
		const struct ks_ksym *s = ks_ksyms_by_name(kernel_syms,
							   names[i]);

		addrs[i] = s ? s->addr : 0;
	}
	return 0;
}

int ks_kernel_text(struct ks_ktext *t)
{
	static const char *const names[] = {
		"_stext", "_etext", "_end", "__lock_text_start",
		"__lock_text_end", "__sched_text_start", "__sched_text_end",
		"__kretprobe_trampoline", "arch_rethook_trampoline",
	};
	/* once per process: report's lock tools ask in their loader threads */
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct ks_ktext known;
	static bool have;
	uint64_t a[sizeof(names) / sizeof(names[0])] = { 0 };
	const char *from = "nowhere";
	int err = 0;

	pthread_mutex_lock(&lock);
	if (!have) {
		err = ks_kernel_syms_addrs(names, a, sizeof(a) / sizeof(a[0]),
					   &from);
		known = (struct ks_ktext){
			.stext = a[0], .etext = a[1], .end = a[2],
			.lock_lo = a[3], .lock_hi = a[4],
			.sched_lo = a[5], .sched_hi = a[6],
			.kretprobe_tramp = a[7], .rethook_tramp = a[8],
			.from = from,
		};
		have = !err;
	}
	*t = known;
	pthread_mutex_unlock(&lock);
	return err;
}

static const struct ks_ksyms *syms_get(void)
{
	struct ks_ksyms *k;

	pthread_mutex_lock(&kernel_syms_lock);
	if (kernel_syms || syms_paused) {
		k = kernel_syms;
	} else {
		if (!loan)
			loan = ks_ksyms_load(NULL);
		loans += loan != NULL;
		k = loan;
	}
	pthread_mutex_unlock(&kernel_syms_lock);
	return k;
}

static void syms_put(const struct ks_ksyms *k)
{
	struct ks_ksyms *done = NULL;

	pthread_mutex_lock(&kernel_syms_lock);
	/* the process-wide table (maybe the loan, kept since) stays */
	if (k && k == loan && loans > 0 && !--loans && !keeps) {
		done = loan;
		loan = NULL;
	}
	pthread_mutex_unlock(&kernel_syms_lock);
	ks_ksyms_free(done);
}

void ks_kernel_syms_keep(bool keep)
{
	struct ks_ksyms *done = NULL;

	pthread_mutex_lock(&kernel_syms_lock);
	if (keep) {
		keeps++;
	} else if (keeps > 0 && !--keeps && !loans) {
		done = loan;
		loan = NULL;
	}
	pthread_mutex_unlock(&kernel_syms_lock);
	ks_ksyms_free(done);
}

bool ks_kernel_syms_hidden(void)
{
	return kernel_syms && !kernel_syms->n && kernel_syms->hidden;
}

void ks_kernel_syms_use(struct ks_ksyms *k)
{
	syms_gen++;
	if (!kernel_syms && k)
		atexit(free_kernel_syms);
	else
		ks_ksyms_free(kernel_syms);
	kernel_syms = k;
}

/*
 * Address ranges of kernel text by class: the symbols a classify function
 * gives a non-zero class, each from its address to the next symbol's.  A
 * lookup answers as classify(ks_ksyms_lookup(k, addr)) would (0 where that
 * finds no symbol), from a few hundred ranges instead of the whole table.
 */
struct ks_krange {
	uint64_t lo, last;	/* inclusive: the last one may end at ~0 */
	unsigned int cls;
};

struct ks_kranges {
	struct ks_krange *r;
	size_t n;
	unsigned int gen;
};

struct ks_kranges *ks_kranges_build(const struct ks_ksyms *k,
				    unsigned int (*classify)(const struct ks_ksym *))
{
	struct ks_kranges *kr = calloc(1, sizeof(*kr));
	size_t cap = 0;

	if (!kr)
		return NULL;
	for (size_t i = 0, j; k && i < k->n; i = j) {
		/* a lookup answers with the first of the symbols at one
		 * address (sorted vmlinux first, then by name) */
		unsigned int cls = classify(&k->syms[i]);
		uint64_t last;

		for (j = i + 1; j < k->n && k->syms[j].addr == k->syms[i].addr;
		     j++)
			;
		if (!cls)
			continue;
		last = j < k->n ? k->syms[j].addr - 1 : UINT64_MAX;
		if (kr->n && kr->r[kr->n - 1].last + 1 == k->syms[i].addr &&
		    kr->r[kr->n - 1].cls == cls) {
			kr->r[kr->n - 1].last = last;
			continue;
		}
		if (kr->n == cap) {
			struct ks_krange *r;

			cap = cap ? cap * 2 : 64;
			r = realloc(kr->r, cap * sizeof(*r));
			if (!r) {
				ks_kranges_free(kr);
				return NULL;
			}
			kr->r = r;
		}
		kr->r[kr->n++] = (struct ks_krange){ k->syms[i].addr, last,
						     cls };
	}
	return kr;
}

unsigned int ks_kranges_class(const struct ks_kranges *kr, uint64_t addr)
{
	size_t lo;

	if (!kr || !kr->n || addr < kr->r[0].lo)
		return 0;
	lo = last_at_or_below(kr->r, kr->n, sizeof(kr->r[0]), addr);
	return addr <= kr->r[lo].last ? kr->r[lo].cls : 0;
}

void ks_kranges_free(struct ks_kranges *kr)
{
	if (!kr)
		return;
	free(kr->r);
	free(kr);
}

int ks_kranges_kernel(struct ks_kranges **kr,
		      unsigned int (*classify)(const struct ks_ksym *))
{
	const struct ks_ksyms *k;
	struct ks_kranges *n;

	if (*kr && (*kr)->gen == syms_gen)
		return 0;
	k = syms_get();
	if (!k)
		return -1;
	n = ks_kranges_build(k, classify);
	syms_put(k);
	if (!n)
		return -1;
	n->gen = syms_gen;
	ks_kranges_free(*kr);
	*kr = n;
	return 0;
}
