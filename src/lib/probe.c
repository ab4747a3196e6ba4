// SPDX-License-Identifier: GPL-2.0
/*
 * What the running kernel allows, found by asking it (BTF, tracefs, a
 * trial fentry load, a trial kprobe) rather than by version numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "kscope.h"

static const char *const mode_names[KS_MODE_MAX] = {
	[KS_MODE_FENTRY] = "fentry",
	[KS_MODE_KPROBE] = "kprobe",
	[KS_MODE_TP_BTF] = "tp_btf",
	[KS_MODE_RAW_TP] = "raw_tp",
	[KS_MODE_TRACEPOINT] = "tracepoint",
	[KS_MODE_UPROBE] = "uprobe",
};

const char *ks_mode_name(enum ks_mode m)
{
	return m < KS_MODE_MAX ? mode_names[m] : "auto";
}

int ks_mode_parse(const char *s, enum ks_mode *m)
{
	for (int i = 0; i < KS_MODE_MAX; i++) {
		if (!strcmp(s, mode_names[i])) {
			*m = i;
			return 0;
		}
	}
	if (!strcmp(s, "auto")) {
		*m = KS_MODE_AUTO;
		return 0;
	}
	return -1;
}

/* CapEff bits (linux/capability.h) */
#define KS_CAP_SYS_ADMIN	21
#define KS_CAP_PERFMON		38
#define KS_CAP_BPF		39

static bool has_cap(uint64_t eff, int cap)
{
	return eff >> cap & 1;
}

bool ks_privileged(void)
{
	static int cached = -1;
	char line[256];
	uint64_t eff = 0;
	FILE *f;

	if (cached >= 0)
		return cached;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &eff) == 1)
			break;
	if (f)
		fclose(f);
	/* loading tracing programs and attaching them to perf events */
	cached = has_cap(eff, KS_CAP_SYS_ADMIN) ||
		 (has_cap(eff, KS_CAP_BPF) && has_cap(eff, KS_CAP_PERFMON));
	return cached;
}

void ks_mode_set(struct ks_mode_avail *m, bool ok, const char *measures,
		 const char *why)
{
	/* whatever a trial load said (or did not try), the reason a mode is
	 * out for an unprivileged user is the privilege */
	if (!ks_privileged()) {
		ok = false;
		why = KS_NEED_PRIV;
	}
	m->supported = true;
	m->available = ok;
	m->measures = measures;
	if (why && why != m->why)
		snprintf(m->why, sizeof(m->why), "%s", why);
}

void ks_mode_unsupported(struct ks_mode_avail *m, const char *why)
{
	m->supported = false;
	m->available = false;
	snprintf(m->why, sizeof(m->why), "%s", why);
}

static struct btf *vmlinux_btf;
static bool vmlinux_btf_tried;
/* report's loader threads share one parse (ks_probe_hold()) */
static pthread_mutex_t btf_lock = PTHREAD_MUTEX_INITIALIZER;
static int btf_holds;

static void free_btf(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
}

static const struct btf *kbtf(void)
{
	const struct btf *b;

	pthread_mutex_lock(&btf_lock);
	if (!vmlinux_btf_tried) {
		vmlinux_btf_tried = true;
		vmlinux_btf = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux_btf))
			vmlinux_btf = NULL;
		else
			atexit(free_btf);
	}
	b = vmlinux_btf;
	pthread_mutex_unlock(&btf_lock);
	return b;
}

void ks_probe_release(void)
{
	/* ~6 MB that a long trace does not need once attached; a later
	 * probe simply loads it again.  Held: kept until ks_probe_unhold() */
	pthread_mutex_lock(&btf_lock);
	if (!btf_holds) {
		btf__free(vmlinux_btf);
		vmlinux_btf = NULL;
		vmlinux_btf_tried = false;
	}
	pthread_mutex_unlock(&btf_lock);
}

void ks_probe_hold(void)
{
	pthread_mutex_lock(&btf_lock);
	btf_holds++;
	pthread_mutex_unlock(&btf_lock);
}

void ks_probe_unhold(void)
{
	pthread_mutex_lock(&btf_lock);
	btf_holds--;
	pthread_mutex_unlock(&btf_lock);
	ks_probe_release();
}

bool ks_kernel_has_btf(void)
{
	return kbtf() != NULL;
}

const struct btf *ks_kernel_btf(void)
{
	return kbtf();
}

const char *ks_tracefs(void)
{
	static const char *path;
	struct stat st;

	if (path)
		return path;
	if (stat("/sys/kernel/tracing/events", &st) == 0)
		return path = "/sys/kernel/tracing";
	if (errno == EACCES)	/* mounted, but not for us */
		return NULL;
	/* not mounted yet: mount it ourselves, as perf does */
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    stat("/sys/kernel/tracing/events", &st) == 0)
		return path = "/sys/kernel/tracing";
	if (stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return path = "/sys/kernel/debug/tracing";
	return NULL;
}

bool ks_can_tracepoint(const char *cat, const char *name, char *why,
		       size_t len)
{
	const char *tfs = ks_tracefs();
	char p[256];
	struct stat st;

	if (!tfs) {
		if (access("/sys/kernel/tracing", X_OK) && errno == EACCES)
			snprintf(why, len, "tracefs (/sys/kernel/tracing) is "
				 "not readable by this user: needs root");
		else
			snprintf(why, len, "tracefs is not mounted and cannot "
				 "be mounted (CONFIG_TRACING off?)");
		return false;
	}
	snprintf(p, sizeof(p), "%s/events/%s/%s/id", tfs, cat, name);
	if (stat(p, &st)) {
		snprintf(why, len, "tracepoint %s:%s does not exist on this "
			 "kernel", cat, name);
		return false;
	}
	return true;
}

static const struct btf_type *raw_tp_proto(const char *tp)
{
	const struct btf *btf = kbtf();
	const struct btf_type *t;
	char name[128];
	int id;

	if (!btf)
		return NULL;
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);		/* pointer */
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);		/* func proto */
	return t && btf_is_func_proto(t) ? t : NULL;
}

bool ks_can_raw_tp(const char *tp, char *why, size_t len)
{
	if (!kbtf()) {
		snprintf(why, len, "kernel has no BTF "
			 "(/sys/kernel/btf/vmlinux, CONFIG_DEBUG_INFO_BTF)");
		return false;
	}
	if (!raw_tp_proto(tp)) {
		snprintf(why, len, "raw tracepoint %s does not exist on this "
			 "kernel", tp);
		return false;
	}
	return true;
}

int ks_raw_tp_nargs(const char *tp)
{
	const struct btf_type *t = raw_tp_proto(tp);

	return t ? btf_vlen(t) - 1 : -1;	/* minus void *__data */
}

int ks_raw_tp_arg_index(const char *tp, const char *struct_name)
{
	const struct btf *btf = kbtf();
	const struct btf_type *t = raw_tp_proto(tp);
	const struct btf_param *p;

	if (!t)
		return -1;
	p = btf_params(t);
	for (int i = 1; i < btf_vlen(t); i++) {
		const struct btf_type *a = btf__type_by_id(btf, p[i].type);

		while (a && (btf_is_mod(a) || btf_is_typedef(a)))
			a = btf__type_by_id(btf, a->type);
		if (!a || !btf_is_ptr(a))
			continue;
		a = btf__type_by_id(btf, a->type);
		while (a && btf_is_mod(a))
			a = btf__type_by_id(btf, a->type);
		if (a && btf_is_struct(a) &&
		    !strcmp(btf__name_by_offset(btf, a->name_off), struct_name))
			return i - 1;
	}
	return -1;
}

const char *ks_first_kfunc(const char *const *names)
{
	const struct btf *btf = kbtf();

	for (int i = 0; names[i]; i++) {
		if (btf && btf__find_by_name_kind(btf, names[i],
						  BTF_KIND_FUNC) >= 0)
			return names[i];
		/* kallsyms (10+ MB parsed) only when there is no BTF */
		if (!btf && ks_kernel_syms() &&
		    ks_ksyms_by_name(ks_kernel_syms(), names[i]))
			return names[i];
	}
	return NULL;
}

/*
 * One "return 0" program is enough to learn whether the kernel lets us
 * attach a BPF tracing program (trampoline) to a function or tracepoint.
 */
static bool trial_tracing(int btf_id, enum bpf_attach_type type,
			  const char *what, char *why, size_t len)
{
	/* errno once the kernel said no, per attach type: some kernels
	 * refuse fentry yet allow tp_btf */
	static int refused_fentry, refused_tp;
	/*
	 * A tp_btf attach once is enough: the load already checked this
	 * tracepoint's BTF id, and what refuses the attach of one refuses
	 * them all (lockdown, an LSM).  Each trial attach and detach
	 * rewrites the tracepoint's call site in kernel text, with calls
	 * to every CPU, which a VM pays dearly for (kscope report made
	 * twelve: ~40 ms of its start-up here).  fentry keeps one per
	 * function: a function the trampoline cannot patch fails only at
	 * attach.
	 */
	static bool attached_tp;
	int *refused_p = type == BPF_TRACE_RAW_TP ? &refused_tp : &refused_fentry;
	int refused = *refused_p;
	const char *kind = type == BPF_TRACE_RAW_TP ? "tp_btf" : "fentry/fexit";
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type,
		    .attach_btf_id = btf_id);
	int pfd, lfd;

	if (refused)
		goto refused;
	pfd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2,
			    &opts);
	if (pfd < 0) {
		if (errno == EPERM || errno == EACCES || errno == EINVAL ||
		    errno == 524 /* ENOTSUPP */) {
			refused = *refused_p = errno;
			goto refused;
		}
		snprintf(why, len, "cannot load a tracing program for %s: %s",
			 what, strerror(errno));
		return false;
	}
	if (type == BPF_TRACE_RAW_TP && attached_tp) {
		close(pfd);
		return true;
	}
	if (type == BPF_TRACE_RAW_TP)
		lfd = bpf_raw_tracepoint_open(NULL, pfd);
	else
		lfd = bpf_link_create(pfd, 0, type, NULL);
	if (lfd < 0) {
		int e = errno;

		close(pfd);
		snprintf(why, len, "kernel refuses a tracing program on %s: %s",
			 what, strerror(e));
		return false;
	}
	close(lfd);
	close(pfd);
	if (type == BPF_TRACE_RAW_TP)
		attached_tp = true;
	return true;
refused:
	snprintf(why, len, "kernel refuses BPF tracing programs (%s): %s%s",
		 kind, strerror(refused),
		 refused == EPERM ? " (lockdown, an LSM or missing "
		 "CAP_BPF/CAP_PERFMON)" : " (no BPF trampoline support?)");
	return false;
}

bool ks_can_fentry(const char *func, char *why, size_t len)
{
	const struct btf *btf = kbtf();
	int id;

	if (!btf) {
		snprintf(why, len, "kernel has no BTF (CONFIG_DEBUG_INFO_BTF)");
		return false;
	}
	id = btf__find_by_name_kind(btf, func, BTF_KIND_FUNC);
	if (id < 0) {
		snprintf(why, len, "function %s is not in the kernel's BTF",
			 func);
		return false;
	}
	return trial_tracing(id, BPF_TRACE_FENTRY, func, why, len);
}

bool ks_can_tp_btf(const char *tp, char *why, size_t len)
{
	const struct btf *btf = kbtf();
	char name[128];
	int id;

	if (!btf) {
		snprintf(why, len, "kernel has no BTF (CONFIG_DEBUG_INFO_BTF)");
		return false;
	}
	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0) {
		snprintf(why, len, "tracepoint %s does not exist on this "
			 "kernel", tp);
		return false;
	}
	return trial_tracing(id, BPF_TRACE_RAW_TP, tp, why, len);
}

/*
 * Some verifiers (6.1, 6.12) refuse a tp_btf program that reads an
 * untyped pointer argument (const void *ptr): a three-instruction trial
 * load tells before a tool relies on it.
 */
bool ks_tp_btf_reads_arg(const char *tp, int arg, char *why, size_t len)
{
	const struct btf *btf = kbtf();
	const struct bpf_insn insns[] = {
		/* r2 = *(u64 *)(r1 + arg * 8) */
		{ .code = 0x79, .dst_reg = 2, .src_reg = 1, .off = arg * 8 },
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	char name[128];
	int id, fd;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf ? btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) : -1;
	if (id < 0) {
		snprintf(why, len, "tracepoint %s is not in the kernel's BTF", tp);
		return false;
	}
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = id);
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 3, &o);
	if (fd < 0) {
		snprintf(why, len, "this kernel's verifier refuses tp_btf "
			 "reads of %s's pointer argument (invalid context "
			 "access to a const void *)", tp);
		return false;
	}
	close(fd);
	return true;
}

static int kprobe_pmu_type(void)
{
	static int type = -2;
	FILE *f;

	if (type != -2)
		return type;
	type = -1;
	f = fopen("/sys/bus/event_source/devices/kprobe/type", "re");
	if (f) {
		if (fscanf(f, "%d", &type) != 1)
			type = -1;
		fclose(f);
	}
	return type;
}

bool ks_can_kprobe(const char *func, char *why, size_t len)
{
	struct perf_event_attr attr;
	int type = kprobe_pmu_type(), fd;

	if (type < 0) {
		snprintf(why, len, "kernel has no kprobes (CONFIG_KPROBES / "
			 "CONFIG_KPROBE_EVENTS off: no kprobe PMU in "
			 "/sys/bus/event_source/devices)");
		return false;
	}
	/* a trial kprobe tells blacklisted or missing functions apart */
	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = type;
	attr.config1 = (uint64_t)(uintptr_t)func;
	fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		snprintf(why, len, "cannot place a kprobe on %s: %s", func,
			 strerror(errno));
		return false;
	}
	close(fd);
	return true;
}
