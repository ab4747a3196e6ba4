// SPDX-License-Identifier: GPL-2.0
/*
 * User-space symbols for one process: function names, and file:line where
 * debug info exists, with elfutils' libdwfl.  Executables (PIE or not) and
 * shared libraries are placed at their load bias, computed from the
 * process's executable mappings and each file's program headers.
 *
 * The mappings are kept here rather than asked of /proc at lookup time:
 * a process that exited (the usual end of a memleak run) has no maps any
 * more.  They come from /proc/PID/maps while the process lives and, with
 * ks_usyms_follow(), from the kernel's perf mmap records, which also catch
 * a short-lived program's libraries between two polls.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <elfutils/libdwfl.h>
#include <linux/openat2.h>
#include "kscope.h"

struct umap {
	uint64_t start, end, pgoff;
	char *path;
};

struct cached {
	uint64_t key;		/* address << 1 | ret_addr; 0: empty slot */
	char *str;
};

struct ks_usyms {
	pid_t pid;
	struct umap *maps;
	size_t nmaps, cap;
	bool dirty;		/* maps changed since dwfl was built */
	char *proc_text;	/* last /proc/PID/maps seen, to skip re-parsing */
	Dwfl *dwfl;
	struct cached *cache;	/* formatted frames, open addressing */
	size_t ccap, cn;
	int pfd;		/* perf event following mmaps, or -1 */
	void *ring;
	size_t ring_len;
	uint64_t lost;
	int rootfd;		/* the target's root directory, or -1 */
	char *rootpath;		/* where that root is seen from ours, or NULL */
};

#define RING_PAGES 16		/* data pages: room for hundreds of mmaps */

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static void cache_clear(struct ks_usyms *u)
{
	for (size_t i = 0; i < u->ccap; i++)
		free(u->cache[i].str);
	free(u->cache);
	u->cache = NULL;
	u->ccap = u->cn = 0;
}

static void maps_clear(struct ks_usyms *u)
{
	for (size_t i = 0; i < u->nmaps; i++)
		free(u->maps[i].path);
	if (u->nmaps)
		u->dirty = true;
	u->nmaps = 0;
}

/* Replace whatever overlaps [start, end) by this mapping, as mmap does. */
int ks_usyms_add_map(struct ks_usyms *u, uint64_t start, uint64_t end,
		     uint64_t pgoff, const char *path)
{
	size_t o = 0;
	char *p;

	if (end <= start || !path || path[0] != '/')
		return -EINVAL;
	for (size_t i = 0; i < u->nmaps; i++) {
		struct umap *m = &u->maps[i];

		if (m->start == start && m->end == end && m->pgoff == pgoff &&
		    !strcmp(m->path, path))
			return 0;	/* already known: nothing changes */
	}
	for (size_t i = 0; i < u->nmaps; i++) {
		struct umap *m = &u->maps[i];

		if (m->start < end && start < m->end) {
			free(m->path);
			continue;
		}
		u->maps[o++] = *m;
	}
	u->nmaps = o;
	if (u->nmaps == u->cap) {
		size_t nc = u->cap ? u->cap * 2 : 32;
		struct umap *nm = realloc(u->maps, nc * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		u->maps = nm;
		u->cap = nc;
	}
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	u->maps[u->nmaps++] = (struct umap){ start, end, pgoff, p };
	u->dirty = true;
	return 0;
}

static char *slurp(const char *path)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				n = -1;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	if (n < 0 || len == 0) {
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

/* Parse maps text (the /proc/PID/maps format): executable file mappings. */
int ks_usyms_add_maps_text(struct ks_usyms *u, const char *text)
{
	const char *l = text;
	int n = 0;

	while (l && *l) {
		unsigned long long s, e, off;
		char perms[8], path[4096];
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char line[4352];
		int pos = 0;

		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, l, len);
		line[len] = '\0';
		l = nl ? nl + 1 : NULL;
		if (sscanf(line, "%llx-%llx %7s %llx %*s %*s %n", &s, &e, perms,
			   &off, &pos) < 4 || !pos || perms[2] != 'x')
			continue;
		snprintf(path, sizeof(path), "%s", line + pos);
		/* a replaced file still names where its symbols were */
		if (strlen(path) > 10 &&
		    !strcmp(path + strlen(path) - 10, " (deleted)"))
			path[strlen(path) - 10] = '\0';
		if (path[0] == '/' && ks_usyms_add_map(u, s, e, off, path) == 0)
			n++;
	}
	return n;
}

/* Re-read /proc/PID/maps; false once the process (or its mm) is gone. */
static bool read_proc_maps(struct ks_usyms *u)
{
	char p[64], *text;

	snprintf(p, sizeof(p), "/proc/%d/maps", (int)u->pid);
	text = slurp(p);
	if (!text)
		return false;	/* exited, or a zombie: keep what we have */
	if (u->proc_text && !strcmp(text, u->proc_text)) {
		free(text);
		return true;
	}
	/* /proc is the whole truth: start over so unmapped files go */
	maps_clear(u);
	ks_usyms_add_maps_text(u, text);
	free(u->proc_text);
	u->proc_text = text;
	return true;
}

/*
 * The target's files are opened below its own root (/proc/PID/root, held
 * open so it outlives the process) with openat2(RESOLVE_IN_ROOT): a
 * symlink or ".." in a path the target controls resolves inside the
 * target's root, never to kscope's files.  A path /proc/PID/maps shows
 * below that root as seen from ours (a chroot: /jail/usr/lib/libc.so)
 * loses that prefix first; perf mmap records are already relative to it.
 */
int ks_pid_root(pid_t pid, char **rootpath)
{
	char p[64], buf[4096];
	ssize_t n;
	int fd;

	*rootpath = NULL;
	snprintf(p, sizeof(p), "/proc/%d/root", (int)pid);
	fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	n = readlink(p, buf, sizeof(buf) - 1);
	if (fd >= 0 && n > 1) {
		buf[n] = '\0';
		if (buf[0] == '/')
			*rootpath = strdup(buf);
	}
	return fd;
}

int ks_open_in_root(int rootfd, const char *rootpath, const char *path)
{
	static bool warned;
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	size_t rl = rootpath ? strlen(rootpath) : 0;
	int fd;

	if (rootfd < 0)
		return open(path, O_RDONLY | O_CLOEXEC);
	if (rl && !strncmp(path, rootpath, rl) && path[rl] == '/')
		path += rl;
	fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS) {
		/* before 5.6: the target's symlinks are followed as before */
		if (!warned)
			fprintf(stderr, "%s: note: no openat2() on this "
				"kernel: the target's files are opened by the "
				"paths it names, following its symlinks\n",
				ks_prog());
		warned = true;
		return openat(rootfd, path[0] == '/' ? path + 1 : path,
			      O_RDONLY | O_CLOEXEC);
	}
	return fd;
}

static int open_in_root(const struct ks_usyms *u, const char *path)
{
	return ks_open_in_root(u->rootfd, u->rootpath, path);
}

struct ks_usyms *ks_usyms_new(pid_t pid)
{
	struct ks_usyms *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->pid = pid;
	u->pfd = -1;
	u->rootfd = -1;
	u->dirty = true;
	if (pid > 0) {
		u->rootfd = ks_pid_root(pid, &u->rootpath);
		read_proc_maps(u);
	}
	return u;
}

void ks_usyms_free(struct ks_usyms *u)
{
	if (!u)
		return;
	if (u->ring)
		munmap(u->ring, u->ring_len);
	if (u->pfd >= 0)
		close(u->pfd);
	if (u->dwfl)
		dwfl_end(u->dwfl);
	cache_clear(u);
	maps_clear(u);
	free(u->maps);
	free(u->proc_text);
	free(u->rootpath);
	if (u->rootfd >= 0)
		close(u->rootfd);
	free(u);
}

int ks_usyms_follow(struct ks_usyms *u)
{
	struct perf_event_attr a;
	long pg = sysconf(_SC_PAGESIZE);
	int fd;

	if (u->pfd >= 0)
		return 0;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_DUMMY;
	a.mmap = 1;		/* executable mappings only */
	a.comm = 1;
	a.comm_exec = 1;	/* an exec starts a new address space */
	/* allowed at perf_event_paranoid 2 for one's own processes */
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	/* one task: the main thread maps the program and its libraries;
	 * other threads' dlopen()s are found in /proc while it lives */
	fd = syscall(SYS_perf_event_open, &a, u->pid, -1, -1,
		     PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	u->ring_len = (1 + RING_PAGES) * pg;
	u->ring = mmap(NULL, u->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	if (u->ring == MAP_FAILED) {
		int err = -errno;

		u->ring = NULL;
		close(fd);
		return err;
	}
	u->pfd = fd;
	return 0;
}

static void drain(struct ks_usyms *u)
{
	struct perf_event_mmap_page *mp = u->ring;
	uint8_t *data;
	uint64_t head, tail, size;

	if (!mp)
		return;
	data = (uint8_t *)u->ring + mp->data_offset;
	size = mp->data_size;
	head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	tail = mp->data_tail;
	while (tail < head) {
		struct perf_event_header h;
		uint8_t rec[sizeof(h) + 4200];
		uint64_t off = tail % size;

		if (off + sizeof(h) <= size) {
			memcpy(&h, data + off, sizeof(h));
		} else {
			size_t first = size - off;

			memcpy(&h, data + off, first);
			memcpy((uint8_t *)&h + first, data, sizeof(h) - first);
		}
		if (h.size < sizeof(h))
			break;	/* corrupt: stop rather than spin */
		if (h.size <= sizeof(rec)) {
			size_t first = size - off < h.size ? size - off : h.size;

			memcpy(rec, data + off, first);
			memcpy(rec + first, data, h.size - first);
			if (h.type == PERF_RECORD_MMAP) {
				/* pid, tid, addr, len, pgoff, filename[] */
				uint64_t q[3];

				memcpy(q, rec + sizeof(h) + 8, sizeof(q));
				rec[h.size - 1] = '\0';
				ks_usyms_add_map(u, q[0], q[0] + q[1], q[2],
						 (char *)rec + sizeof(h) + 32);
			} else if (h.type == PERF_RECORD_COMM &&
				   (h.misc & PERF_RECORD_MISC_COMM_EXEC)) {
				maps_clear(u);
			} else if (h.type == PERF_RECORD_LOST) {
				u->lost++;
			}
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
}

void ks_usyms_update(struct ks_usyms *u)
{
	drain(u);
	read_proc_maps(u);
}

size_t ks_usyms_nmaps(const struct ks_usyms *u)
{
	return u->nmaps;
}

bool ks_usyms_has_module(const struct ks_usyms *u, const char *path)
{
	for (size_t i = 0; i < u->nmaps; i++)
		if (!strcmp(u->maps[i].path, path))
			return true;
	return false;
}

/*
 * Load bias of the file mapped at m: the segment holding m's file offset
 * says which p_vaddr m->start stands for.  ET_EXEC is placed where linked.
 */
static int map_bias(const struct ks_usyms *u, const struct umap *m,
		    uint64_t *bias, bool *is_exec)
{
	int fd = open_in_root(u, m->path);
	Elf *e;
	GElf_Ehdr eh;
	size_t n;
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	int ret = -1;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &n))
		goto out;
	*is_exec = eh.e_type == ET_EXEC;
	if (*is_exec) {
		*bias = 0;
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_LOAD)
			continue;
		/* the segment's mapping starts at the page holding p_offset */
		if (m->pgoff < (ph.p_offset & ~(pg - 1)) ||
		    m->pgoff >= ph.p_offset + ph.p_filesz)
			continue;
		*bias = m->start - (ph.p_vaddr - ph.p_offset + m->pgoff);
		ret = 0;
		break;
	}
out:
	if (e)
		elf_end(e);
	close(fd);
	return ret;
}

/* separate debug info only from the system's debug directory: the
 * default path also looks beside the module (.debug/), which is the
 * target's to point anywhere */
static char debug_dir[] = "/usr/lib/debug";
static char *debuginfo_path = debug_dir;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

static void rebuild(struct ks_usyms *u)
{
	uint64_t *bias = calloc(u->nmaps ? u->nmaps : 1, sizeof(*bias));
	bool *ok = calloc(u->nmaps ? u->nmaps : 1, sizeof(*ok));

	if (u->dwfl)
		dwfl_end(u->dwfl);
	cache_clear(u);
	u->dirty = false;
	u->dwfl = dwfl_begin(&callbacks);
	if (!u->dwfl || !bias || !ok)
		goto out;
	dwfl_report_begin(u->dwfl);
	for (size_t i = 0; i < u->nmaps; i++) {
		struct umap *m = &u->maps[i];
		bool dup = false, is_exec = false;
		int fd;

		ok[i] = !map_bias(u, m, &bias[i], &is_exec);
		/* one report per file and place: a file has several
		 * mappings, and may be mapped twice */
		for (size_t j = 0; ok[i] && j < i && !dup; j++)
			dup = ok[j] && bias[j] == bias[i] &&
			      !strcmp(u->maps[j].path, m->path);
		if (!ok[i] || dup)
			continue;
		/* ADD_P_VADDR true: BASE is the bias, right for prelinked
		 * libraries too */
		fd = open_in_root(u, m->path);
		if (fd < 0)
			continue;
		/* the fd is the library's on success */
		if (!dwfl_report_elf(u->dwfl, m->path, m->path, fd, bias[i],
				     true))
			close(fd);
	}
	dwfl_report_end(u->dwfl, NULL, NULL);
out:
	free(bias);
	free(ok);
}

static const struct umap *find_map(const struct ks_usyms *u, uint64_t a)
{
	for (size_t i = 0; i < u->nmaps; i++)
		if (a >= u->maps[i].start && a < u->maps[i].end)
			return &u->maps[i];
	return NULL;
}

int ks_usyms_lookup(struct ks_usyms *u, uint64_t addr, bool ret_addr,
		    struct ks_usym *s)
{
	/* a return address belongs to the call before it: the last
	 * instruction of a noreturn call may end the function */
	uint64_t a = ret_addr && addr ? addr - 1 : addr;
	const struct umap *m;
	Dwfl_Module *mod = NULL;

	memset(s, 0, sizeof(*s));
	if (!find_map(u, a) && u->pid > 0)
		ks_usyms_update(u);	/* mapped since we last looked? */
	m = find_map(u, a);
	if (!m)
		return -1;
	s->module = m->path;
	s->module_offset = a - m->start + m->pgoff + (addr - a);
	if (u->dirty || !u->dwfl)
		rebuild(u);
	if (u->dwfl)
		mod = dwfl_addrmodule(u->dwfl, a);
	if (mod) {
		GElf_Off off = 0;
		GElf_Sym sym;
		Dwfl_Line *l;
		const char *name;

		name = dwfl_module_addrinfo(mod, a, &off, &sym, NULL, NULL,
					    NULL);
		if (name) {
			s->func = name;
			s->offset = off + (addr - a);
		}
		l = dwfl_module_getsrc(mod, a);
		if (l)
			s->file = dwfl_lineinfo(l, NULL, &s->line, NULL, NULL,
						NULL);
	}
	return 0;
}

static char *format(struct ks_usyms *u, uint64_t addr, bool ret_addr)
{
	struct ks_usym s;
	char buf[512];
	size_t o;

	if (ks_usyms_lookup(u, addr, ret_addr, &s)) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, addr);
		return strdup(buf);
	}
	if (!s.func) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64 " [%s+0x%" PRIx64 "]",
			 addr, base_name(s.module), s.module_offset);
		return strdup(buf);
	}
	/* "pthread_create@GLIBC_2.2.5": the version only adds noise */
	o = snprintf(buf, sizeof(buf), "%.*s+0x%" PRIx64,
		     (int)strcspn(s.func, "@"), s.func, s.offset);
	if (s.file && o < sizeof(buf))
		o += snprintf(buf + o, sizeof(buf) - o, " (%s:%d)",
			      base_name(s.file), s.line);
	if (o < sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, " [%s]",
			 base_name(s.module));
	return strdup(buf);
}

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return key & (cap - 1);
}

static int cache_grow(struct ks_usyms *u)
{
	size_t nc = u->ccap ? u->ccap * 2 : 1024;
	struct cached *n = calloc(nc, sizeof(*n));

	if (!n)
		return -1;
	for (size_t i = 0; i < u->ccap; i++) {
		size_t j;

		if (!u->cache[i].key)
			continue;
		j = slot_of(u->cache[i].key, nc);
		while (n[j].key)
			j = (j + 1) & (nc - 1);
		n[j] = u->cache[i];
	}
	free(u->cache);
	u->cache = n;
	u->ccap = nc;
	return 0;
}

const char *ks_usyms_fmt(struct ks_usyms *u, uint64_t addr, bool ret_addr)
{
	uint64_t key = addr << 1 | ret_addr;
	size_t j;
	char *s;

	if (!key)
		return "0x0";
	if (u->dirty)
		rebuild(u);	/* clears the cache of stale names */
	if (u->ccap) {
		for (j = slot_of(key, u->ccap); u->cache[j].key;
		     j = (j + 1) & (u->ccap - 1))
			if (u->cache[j].key == key)
				return u->cache[j].str;
	}
	s = format(u, addr, ret_addr);
	if (!s)
		return "?";
	/* format() may have rebuilt (and emptied) the cache */
	if ((u->cn + 1) * 2 > u->ccap && cache_grow(u)) {
		free(s);
		return "?";
	}
	j = slot_of(key, u->ccap);
	while (u->cache[j].key)
		j = (j + 1) & (u->ccap - 1);
	u->cache[j].key = key;
	u->cache[j].str = s;
	u->cn++;
	return s;
}
