// SPDX-License-Identifier: GPL-2.0
/*
 * The open -> size -> load -> attach steps every tool shares, and reading
 * maps back.  Filters and map sizes are set here by name so that no tool
 * repeats them for its own skeleton type.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kscope.h"

int ks_bpf_set_rodata(struct bpf_object *obj, const char *var,
		      const void *val, size_t size)
{
	const struct btf *btf = bpf_object__btf(obj);
	struct bpf_map *map;
	const struct btf_type *sec;
	const struct btf_var_secinfo *vs;
	size_t msize;
	char *data = NULL;
	int id, i;

	bpf_object__for_each_map(map, obj) {
		const char *n = bpf_map__name(map);
		size_t l = strlen(n);

		if (bpf_map__is_internal(map) && l >= 7 &&
		    !strcmp(n + l - 7, ".rodata")) {
			data = (char *)bpf_map__initial_value(map, &msize);
			break;
		}
	}
	if (!data || !btf)
		return -ENOENT;
	id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	if (id < 0)
		return -ENOENT;
	sec = btf__type_by_id(btf, id);
	vs = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, vs++) {
		const struct btf_type *t = btf__type_by_id(btf, vs->type);

		if (strcmp(btf__name_by_offset(btf, t->name_off), var))
			continue;
		if (vs->size != size || vs->offset + size > msize)
			return -EINVAL;
		memcpy(data + vs->offset, val, size);
		return 0;
	}
	return -ENOENT;
}

int ks_bpf_size_map(struct bpf_object *obj, const char *name, long entries,
		    long value_size)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	if (!m)
		return -ENOENT;
	if (entries > 0 && bpf_map__set_max_entries(m, entries))
		return -EINVAL;
	if (value_size > 0 && bpf_map__set_value_size(m, value_size))
		return -EINVAL;
	return 0;
}

/* Room for the tracing frames stripped from the top of each stack, so
 * the user still gets --stack-depth frames of their own code: the
 * program and the tracepoint or trampoline glue it runs under.  A
 * classic tracepoint's walk starts at the traced function (the perf glue
 * records its caller's registers): room for one frame, the tracepoint's
 * iterator where a tracepoint has several probes. */
#define KS_TRACING_FRAMES 4
#define KS_TRACING_FRAMES_TP 1

int ks_tracing_frames(const struct ks_run *r)
{
	return r->mode == KS_MODE_TRACEPOINT ? KS_TRACING_FRAMES_TP :
					       KS_TRACING_FRAMES;
}

int ks_stack_slots(const struct ks_run *r)
{
	int n = r->o.stack_depth + ks_tracing_frames(r);

	return n < KS_MAX_STACK_DEPTH ? n : KS_MAX_STACK_DEPTH;
}

long ks_stackid_entries(long entries)
{
	const char *v = getenv("KSCOPE_TEST_STACKID_ENTRIES");
	long n;

	if (entries <= 1 || !v || ks_parse_long(v, 1, entries, &n))
		return entries;
	return n;
}

/* one generation's stack maps (common.bpf.h): the stack-trace map and
 * the hash map that takes the stacks it refuses, as big as each other */
static void size_stack_maps(struct bpf_object *obj, const char *gen,
			    long entries, long bytes)
{
	char name[32];

	snprintf(name, sizeof(name), "ks_stackids%s", gen);
	ks_bpf_size_map(obj, name, ks_stackid_entries(entries), bytes);
	snprintf(name, sizeof(name), "ks_stacks%s", gen);
	ks_bpf_size_map(obj, name, entries, bytes);
}

int ks_bpf_prepare(struct ks_run *r, struct bpf_object *obj)
{
	struct ks_filter f = {
		.tgid = r->o.pid,
		.tid = r->o.tid,
		.comm_on = r->o.has_comm,
		.cgroup_on = r->o.cgroup != NULL,
		/* -p kscope's own pid asks for kscope, as --include-self */
		.self_tgid = r->o.include_self || r->o.pid == getpid() ?
			     0 : (unsigned int)getpid(),
	};
	bool stacks = r->o.stacks || r->tool->needs_stack_map;
	int err;

	r->obj = obj;
	memcpy(f.comm, r->o.comm, sizeof(f.comm));
	err = ks_bpf_set_rodata(obj, "ks_filter", &f, sizeof(f));
	if (err) {
		ks_err("internal: cannot set filters in BPF object (%s)",
		       strerror(-err));
		return -1;
	}
	/* without stacks the maps stay at one entry: no memory wasted; the
	 * second generation's map is needed only by interval reports that
	 * take their counts (and their stacks) out of the kernel */
	if (stacks) {
		uint32_t bytes = ks_stack_slots(r) * sizeof(uint64_t);

		err = ks_bpf_set_rodata(obj, "ks_stack_bytes", &bytes,
					sizeof(bytes));
		if (err) {
			ks_err("internal: cannot set the stack depth in BPF "
			       "object (%s)", strerror(-err));
			return -1;
		}
		size_stack_maps(obj, "", r->o.max_entries, bytes);
	} else
		size_stack_maps(obj, "", 1, sizeof(uint64_t));
	if (stacks && r->tool->takes_counts &&
	    (r->o.interval > 0 || r->in_report))	/* ks_run_restart() */
		size_stack_maps(obj, "1", r->o.max_entries,
				ks_stack_slots(r) * sizeof(uint64_t));
	else
		size_stack_maps(obj, "1", 1, sizeof(uint64_t));
	return 0;
}

void ks_bpf_only(struct bpf_object *obj, struct bpf_program *const *keep)
{
	struct bpf_program *p;

	bpf_object__for_each_program(p, obj) {
		bool on = false;

		for (int i = 0; keep[i]; i++)
			if (keep[i] == p)
				on = true;
		bpf_program__set_autoload(p, on);
	}
}

static const char *load_hint(int err)
{
	switch (-err) {
	case EPERM:
		return " (need root or CAP_BPF+CAP_PERFMON; under lockdown "
		       "some program types are refused)";
	case ENOMEM:
		return " (locked-memory or map size limit; try smaller "
		       "--max-entries)";
	default:
		return "";
	}
}

int ks_bpf_load(struct ks_run *r, struct bpf_object *obj)
{
	int err;

	/*
	 * libbpf parses the vmlinux BTF again for its CO-RE relocations
	 * (libbpf 1.1 takes no parsed copy): drop ours first so that the
	 * two (~11 MB while libbpf reads it) are never held at once.  What
	 * needs it after the load parses it again (ks_kernel_btf()).
	 */
	ks_probe_release();
	err = bpf_object__load(obj);

	if (err) {
		ks_err("cannot load BPF programs in %s mode: %s%s [libbpf: %s]",
		       ks_mode_name(r->mode), strerror(-err), load_hint(err),
		       ks_libbpf_last());
		return -1;
	}
	if (r->o.cgroup) {
		int fd = ks_bpf_map_fd(r, "ks_cgroup");
		int cg = open(r->o.cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		uint32_t zero = 0;

		if (cg < 0 || fd < 0 ||
		    bpf_map_update_elem(fd, &zero, &cg, BPF_ANY)) {
			ks_err("cannot set cgroup filter %s: %s", r->o.cgroup,
			       strerror(errno));
			if (cg >= 0)
				close(cg);
			return -1;
		}
		close(cg);
	}
	return 0;
}

bool ks_bpf_link_ok(struct ks_run *r, struct bpf_link *l, const char *what)
{
	long err = libbpf_get_error(l);

	if (!l || err) {
		ks_err("cannot attach %s in %s mode: %s [libbpf: %s]", what,
		       ks_mode_name(r->mode), strerror(l ? -err : errno),
		       ks_libbpf_last());
		return false;
	}
	return true;
}

static int keep_link(struct ks_run *r, struct bpf_link *l, const char *what)
{
	if (!ks_bpf_link_ok(r, l, what))
		return -1;
	if (r->nlinks >= (int)(sizeof(r->links) / sizeof(r->links[0]))) {
		bpf_link__destroy(l);
		ks_err("internal: too many probes");
		return -1;
	}
	r->links[r->nlinks++] = l;
	return 0;
}

int ks_bpf_keep_link(struct ks_run *r, struct bpf_link *l, const char *what)
{
	return keep_link(r, l, what);
}

int ks_bpf_attach(struct ks_run *r, struct bpf_program *p)
{
	int rc = r->chain ? ks_chain_join(r, p) : 1;

	if (rc <= 0)	/* chained, or an error printed */
		return rc;
	return keep_link(r, bpf_program__attach(p), bpf_program__name(p));
}

int ks_bpf_attach_kprobe(struct ks_run *r, struct bpf_program *p,
			 const char *func, bool ret)
{
	return keep_link(r, bpf_program__attach_kprobe(p, ret, func), func);
}

void ks_bpf_cleanup(struct ks_run *r)
{
	if (r->chain)
		ks_chain_leave(r);
	while (r->nlinks > 0)
		bpf_link__destroy(r->links[--r->nlinks]);
}

int ks_percpu_sum(int fd, uint32_t nkeys, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	memset(out, 0, nkeys * sizeof(*out));
	if (fd < 0 || ncpu <= 0)
		return -EINVAL;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < nkeys; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += v[c];
	}
	free(v);
	return 0;
}

int ks_bpf_map_fd(struct ks_run *r, const char *name)
{
	struct bpf_map *m;

	if (!r->obj)
		return -1;
	m = bpf_object__find_map_by_name(r->obj, name);
	return m ? bpf_map__fd(m) : -1;
}

/* how many elements the map can hold: a bound for walks (0: unknown) */
static size_t map_capacity(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

/* grow a zeroed array of *cap elements of sz bytes to at least want */
static int grow(char **a, size_t *cap, size_t want, size_t sz)
{
	size_t nc = *cap;
	char *p;

	while (nc < want)
		nc *= 2;
	if (nc == *cap)
		return 0;
	p = realloc(*a, nc * sz);
	if (!p)
		return -ENOMEM;
	/* zeroed: valgrind cannot see the batch syscall fill it */
	memset(p + *cap * sz, 0, (nc - *cap) * sz);
	*a = p;
	*cap = nc;
	return 0;
}

/*
 * In batches where the kernel has them (hash maps, 5.6+): a batch walk
 * goes bucket by bucket, so an element deleted meanwhile (memleak's frees)
 * cannot send it back to the start.  -EOPNOTSUPP: no batches for this map
 * here, walk it key by key.
 */
static int dump_batch(int fd, size_t ksz, size_t vsz, char **kp, char **vp,
		      size_t *n)
{
	size_t cap = 1024, kcap = 1024, cnt = 0, tsz = ksz < 8 ? 8 : ksz;
	char *k = calloc(cap, ksz), *v = calloc(cap, vsz);
	char *in = calloc(1, tsz), *out = calloc(1, tsz);
	bool first = true;
	int err = 0;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	if (!k || !v || !in || !out) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		uint32_t count;

		if (grow(&k, &kcap, cnt + 256, ksz) ||
		    grow(&v, &cap, cnt + 256, vsz)) {
			err = -ENOMEM;
			break;
		}
		count = cap - cnt;
		if (bpf_map_lookup_batch(fd, first ? NULL : in, out,
					 k + cnt * ksz, v + cnt * vsz, &count,
					 &bo)) {
			err = -errno;
			if (err == -ENOSPC && !count) {
				/* a bucket bigger than our room: more room */
				if (grow(&k, &kcap, kcap * 2, ksz) ||
				    grow(&v, &cap, cap * 2, vsz)) {
					err = -ENOMEM;
					break;
				}
				continue;
			}
			if (err != -ENOENT) {
				if (first)
					err = -EOPNOTSUPP;
				break;
			}
		}
		cnt += count;
		if (err == -ENOENT) {	/* that was the last batch */
			err = 0;
			break;
		}
		memcpy(in, out, tsz);
		first = false;
	}
out:
	free(in);
	free(out);
	if (err) {
		free(k);
		free(v);
		return err;
	}
	*kp = k;
	*vp = v;
	*n = cnt;
	return 0;
}

/* Key by key, with the values unless vsz is 0.  A key deleted under us
 * sends the kernel's walk back to the first key: the walk stops at the
 * map's capacity, and a key whose lookup fails is left out. */
static int dump_walk(int fd, size_t ksz, size_t vsz, char **kp, char **vp,
		     size_t *n)
{
	size_t cap = 256, vcap = 256, cnt = 0, bound = map_capacity(fd);
	char *k = calloc(cap, ksz), *v = vsz ? calloc(vcap, vsz) : NULL;
	long prev = -1;		/* slot of the last key read */

	if (!k || (vsz && !v))
		goto oom;
	for (size_t seen = 0; !bound || seen < bound; seen++) {
		if (grow(&k, &cap, cnt + 1, ksz) ||
		    (vsz && grow(&v, &vcap, cnt + 1, vsz)))
			goto oom;
		if (bpf_map_get_next_key(fd, prev < 0 ? NULL : k + prev * ksz,
					 k + cnt * ksz))
			break;
		prev = cnt;
		if (!vsz || bpf_map_lookup_elem(fd, k + cnt * ksz,
						v + cnt * vsz) == 0)
			cnt++;
	}
	*kp = k;
	if (vp)
		*vp = v;
	else
		free(v);
	*n = cnt;
	return 0;
oom:
	free(k);
	free(v);
	return -ENOMEM;
}

int ks_map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals,
		size_t *n)
{
	int err;

	*n = 0;
	err = dump_batch(fd, ksz, vsz, (char **)keys, (char **)vals, n);
	if (err == -EOPNOTSUPP)
		err = dump_walk(fd, ksz, vsz, (char **)keys, (char **)vals,
				n);
	return err;
}

/*
 * Interval reports take what they print.  ks_next_generation() flipped
 * the generation that the BPF programs put in their keys, and waited for
 * every program that may have read the old one to finish, so the old
 * generation's elements are frozen: read them, then delete them.  Events
 * since the flip are in the new generation's elements, for the next
 * report.
 */
int ks_map_take(int fd, size_t ksz, size_t vsz, size_t gen_off, long gen,
		void **keys, void **vals, size_t *n)
{
	int err = ks_map_dump(fd, ksz, vsz, keys, vals, n);
	size_t cnt = 0;
	char *k, *v;

	if (err || gen < 0)	/* a final report reads it all, as it is */
		return err;
	k = *keys;
	v = *vals;
	for (size_t i = 0; i < *n; i++) {
		uint32_t g;

		memcpy(&g, k + i * ksz + gen_off, sizeof(g));
		if (g != gen)
			continue;	/* the new interval's */
		bpf_map_delete_elem(fd, k + i * ksz);
		memmove(k + cnt * ksz, k + i * ksz, ksz);
		memmove(v + cnt * vsz, v + i * vsz, vsz);
		cnt++;
	}
	*n = cnt;
	return 0;
}

long ks_next_generation(struct ks_run *r)
{
	int fd = ks_bpf_map_fd(r, "ks_gen");
	uint32_t zero = 0, g = 0, next;

	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &g))
		return -1;
	next = g ^ 1;
	if (bpf_map_update_elem(fd, &zero, &next, BPF_ANY))
		return -1;
	/*
	 * Wait out every program that read the old generation: they run
	 * inside RCU read-side sections (tracepoint, raw tracepoint, kprobe
	 * and non-sleepable fentry programs alike), and
	 * MEMBARRIER_CMD_GLOBAL is synchronize_rcu().  It is refused on
	 * nohz_full kernels; a program there is still done within
	 * microseconds, so a 20 ms pause stands in.
	 */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		usleep(20000);
	return g;
}

void *ks_map_rows(int fd, size_t ksz, size_t vsz, size_t rsz, size_t koff,
		  size_t voff, size_t *n, size_t gen_off, long gen)
{
	char *keys, *vals, *rows;
	int err;

	*n = 0;
	err = ks_map_take(fd, ksz, vsz, gen_off, gen, (void **)&keys,
			  (void **)&vals, n);
	if (err)
		return NULL;
	rows = calloc(*n ? *n : 1, rsz);
	for (size_t i = 0; rows && i < *n; i++) {
		memcpy(rows + i * rsz + koff, keys + i * ksz, ksz);
		memcpy(rows + i * rsz + voff, vals + i * vsz, vsz);
	}
	if (!rows)
		*n = 0;
	free(keys);
	free(vals);
	return rows;
}

void ks_map_clear(int fd, size_t ksz)
{
	char *keys = NULL;
	size_t n = 0;

	/*
	 * The keys there now, then delete them.  Deleting while walking
	 * breaks the walk, and restarting from the first key each time never
	 * ends when the programs insert faster than we delete (seen: kmem -s
	 * under valgrind on a busy machine); what arrives meanwhile stays.
	 */
	if (dump_walk(fd, ksz, 0, &keys, NULL, &n))
		return;
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * ksz);
	free(keys);
}

/* Functions of the tracing machinery itself (the BPF program, the
 * tracepoint glue), which sit on top of every captured stack: 1, else 0
 * (a class for ks_kranges) */
static unsigned int tracing_class(const struct ks_ksym *s)
{
	static const char *const prefixes[] = {
		"bpf_trace_run", "__bpf_trace_", "perf_trace_", "perf_tp_",
		"trace_event_raw_event_", "__traceiter_", "trace_call_bpf",
		"bpf_prog_", "__bpf_prog_", "bpf_get_stack", "kprobe_",
		"__kprobes_", "bpf_trampoline_", NULL,
	};

	if (s->module && !strcmp(s->module, "bpf"))
		return true;
	for (int i = 0; prefixes[i]; i++)
		if (!strncmp(s->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* by ranges, built at the first stack cleaned (after the programs are
 * loaded, so that their symbols are in), not from the whole symbol table:
 * a tool that cleans stacks while it traces (kpages' tick) keeps none */
static bool tracing_frame(uint64_t ip)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static struct ks_kranges *ranges;
	bool yes;

	pthread_mutex_lock(&lock);
	ks_kranges_kernel(&ranges, tracing_class);
	yes = ks_kranges_class(ranges, ip);
	pthread_mutex_unlock(&lock);
	return yes;
}


static const char *stack_map(unsigned int gen, uint64_t stackid)
{
	if (stackid & KS_STACKID_MAP)
		return gen & 1 ? "ks_stackids1" : "ks_stackids";
	return gen & 1 ? "ks_stacks1" : "ks_stacks";
}

int ks_stack_lookup(int fd, uint64_t stackid, uint64_t *buf)
{
	uint32_t id = (uint32_t)stackid;

	if (fd < 0 || stackid == KS_NO_STACK)
		return -1;
	/* a stack-trace map's keys are 32-bit */
	return bpf_map_lookup_elem(fd, stackid & KS_STACKID_MAP ?
				   (void *)&id : (void *)&stackid, buf) ? -1 : 0;
}

int ks_kstack_clean(const struct ks_run *r, const uint64_t *raw, int slots,
		    uint64_t *ips, int max)
{
	int n = 0, i = 0;

	while (i < slots && raw[i] && tracing_frame(raw[i]))
		i++;
	for (; n < max && n < r->o.stack_depth && i < slots && raw[i]; i++)
		ips[n++] = raw[i];
	return n;
}

int ks_stack_frames(struct ks_run *r, unsigned int gen, uint64_t stackid,
		    uint64_t *ips, int max)
{
	int fd = ks_bpf_map_fd(r, stack_map(gen, stackid));
	uint64_t buf[KS_MAX_STACK_DEPTH] = { 0 };

	if (ks_stack_lookup(fd, stackid, buf))
		return -1;
	return ks_kstack_clean(r, buf, ks_stack_slots(r), ips, max);
}

void ks_stacks_done(struct ks_run *r, long gen)
{
	int ids, hashes;

	if (gen < 0)
		return;
	ids = ks_bpf_map_fd(r, stack_map(gen, KS_STACKID_MAP));
	hashes = ks_bpf_map_fd(r, stack_map(gen, 0));
	if (ids >= 0)
		ks_map_clear(ids, sizeof(uint32_t));
	if (hashes >= 0)
		ks_map_clear(hashes, sizeof(uint64_t));
}

/*
 * Runs of the programs the kernel skipped because one was already running
 * on that CPU (struct bpf_prog_info's recursion_misses: the trampoline's
 * per-program guard for fentry/fexit/tp_btf/raw_tp, bpf_prog_active for
 * kprobes and tracepoints).  Each skipped run is an event not counted.
 * fds: program fds only (a link fd would be read as a link).
 */
uint64_t ks_prog_recursion_misses(const int *fds, int n)
{
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		if (fds[i] < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fds[i], &info, &len))
			sum += info.recursion_misses +
			       ks_chain_misses(info.id);
	}
	return sum;
}

/* the same for every loaded program of obj */
uint64_t ks_obj_recursion_misses(const struct bpf_object *obj)
{
	struct bpf_program *p;
	uint64_t sum = 0;

	bpf_object__for_each_program(p, obj) {
		int fd = bpf_program__fd(p);

		sum += ks_prog_recursion_misses(&fd, 1);
	}
	return sum;
}
