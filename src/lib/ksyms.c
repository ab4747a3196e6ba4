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
#include "kscope.h"

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
 * shows addresses was decided at open, with the opener's credentials */
static FILE *preopened;

static FILE *take_preopened(void)
{
	FILE *f = preopened;

	preopened = NULL;
	return f;
}

static struct ks_ksyms *kernel_syms;
/* report's loader threads ask for the table at once: one loads it, the
 * others wait; the name index is built once under the same lock */
static pthread_mutex_t kernel_syms_lock = PTHREAD_MUTEX_INITIALIZER;

void ks_kernel_syms_preopen(void)
{
	if (!kernel_syms && !preopened)
		preopened = fopen("/proc/kallsyms", "re");
}

struct ks_ksyms *ks_ksyms_load(const char *path)
{
	struct ks_ksyms *k;
	char line[512];
	FILE *f;

	f = !path ? take_preopened() : NULL;
	if (!f)
		f = fopen(path ? path : "/proc/kallsyms", "re");
	if (!f)
		return NULL;
	k = calloc(1, sizeof(*k));
	if (!k)
		goto fail;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end, *name, *mod = NULL;
		uint64_t addr;
		char type;
		size_t off, moff = (size_t)-1;

		addr = strtoull(p, &end, 16);
		if (end == p || *end != ' ')
			continue;
		type = end[1];
		if (!type || end[2] != ' ')
			continue;
		name = end + 3;
		name[strcspn(name, "\n")] = '\0';
		/* module symbols end with "\t[mod]" */
		p = strchr(name, '\t');
		if (p) {
			*p++ = '\0';
			if (*p == '[') {
				mod = p + 1;
				mod[strcspn(mod, "]")] = '\0';
			}
		}
		/* addresses hidden by kptr_restrict are all zero: useless */
		k->hidden += !addr;
		if (!addr || type == 'a' || type == 'A' || type == 'U')
			continue;
		if (k->n == k->cap) {
			size_t cap = k->cap ? k->cap * 2 : 65536;
			struct ks_ksym *s = realloc(k->syms, cap * sizeof(*s));

			if (!s)
				goto fail;
			k->syms = s;
			k->cap = cap;
		}
		off = arena_add(k, name, strlen(name));
		if (mod)
			moff = arena_add(k, mod, strlen(mod));
		if (off == (size_t)-1)
			goto fail;
		/* arena may move: store offsets now, pointers after load */
		k->syms[k->n].addr = addr;
		k->syms[k->n].type = type;
		k->syms[k->n].name = (const char *)(uintptr_t)off;
		k->syms[k->n].module = mod ? (const char *)(uintptr_t)(moff + 1)
					   : NULL;
		k->n++;
	}
	fclose(f);
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
	if (f)
		fclose(f);
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

const struct ks_ksym *ks_ksyms_lookup(const struct ks_ksyms *k, uint64_t addr)
{
	size_t lo = 0, hi;

	if (!k || !k->n || addr < k->syms[0].addr)
		return NULL;
	hi = k->n;
	/* last symbol with sym.addr <= addr */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
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

const struct ks_ksyms *ks_kernel_syms(void)
{
	struct ks_ksyms *k;

	pthread_mutex_lock(&kernel_syms_lock);
	if (!kernel_syms) {
		kernel_syms = ks_ksyms_load(NULL);
		if (kernel_syms)
			atexit(free_kernel_syms);
	}
	k = kernel_syms;
	pthread_mutex_unlock(&kernel_syms_lock);
	return k;
}

bool ks_kernel_syms_hidden(void)
{
	return kernel_syms && !kernel_syms->n && kernel_syms->hidden;
}

void ks_kernel_syms_use(struct ks_ksyms *k)
{
	if (!kernel_syms && k)
		atexit(free_kernel_syms);
	else
		ks_ksyms_free(kernel_syms);
	kernel_syms = k;
}
