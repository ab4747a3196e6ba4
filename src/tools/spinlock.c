// SPDX-License-Identifier: GPL-2.0
/* kscope spinlock: which spin locks and rwlocks are contended, how long? */
#include <string.h>
#include <bpf/libbpf.h>
#include "locks_common.h"
#include "locks.skel.h"

enum { OPT_CALLS = 2000 };

static const struct option spinlock_long[] = {
	{ "calls", no_argument, NULL, OPT_CALLS },
	LOCKS_LONG_OPTS,
	{ 0 },
};

static int spinlock_parse(struct ks_run *r, int c, const char *arg)
{
	struct locks_state *st = r->tool_state;

	if (c == OPT_CALLS) {
		st->calls = true;
		return 0;
	}
	return locks_parse_opt(r, c, arg) < 0 ? -1 : 0;
}

#define MEASURES_TP	"contended rwlock waits and queued spin lock " \
			"waits, contention_begin to contention_end"
#define MEASURES_CALLS	"every call to the spin_lock/read_lock/" \
			"write_lock functions, and contended waits"

static void spinlock_probe(const struct ks_run *r, struct ks_probe *p)
{
	const struct locks_state *st = r->tool_state;

	if (st->calls) {
		static const char why[] = "--calls needs kprobes";

		locks_probe_fns(p, locks_spin_fns, "spin lock", MEASURES_CALLS);
		/*
		 * The scheduler and the idle loop take these locks, partly
		 * where RCU is not watching, which a BPF trampoline relies on
		 * to stay alive: in our 6.12 VM tests attaching and detaching
		 * fentry here crashed the kernel (a call to 0 from
		 * __schedule() in the idle task) or hung it, a few runs in
		 * ten.  kprobes ran the same tests cleanly.
		 */
		ks_mode_unsupported(&p->m[KS_MODE_FENTRY],
			    "not offered for --calls: BPF trampolines on the "
			    "spin lock functions crashed or hung a 6.12 kernel "
			    "(scheduler and idle loop); kprobes are used");
		ks_mode_unsupported(&p->m[KS_MODE_TP_BTF], why);
		ks_mode_unsupported(&p->m[KS_MODE_RAW_TP], why);
		ks_mode_unsupported(&p->m[KS_MODE_TRACEPOINT], why);
		return;
	}
	locks_probe_contention(p, MEASURES_TP);
	{
		static const char why[] = "spin lock waits are only seen by "
			"the lock:contention tracepoints (kprobes count calls "
			"with --calls)";

		ks_mode_unsupported(&p->m[KS_MODE_FENTRY], why);
		ks_mode_unsupported(&p->m[KS_MODE_KPROBE], why);
	}
}

static unsigned long long spin_flags(void)
{
	unsigned long long m = 0;

	/* a mutex's optimistic spinning is mlock's, not ours */
	for (unsigned int f = 0; f <= LOCK_F_MASK; f++)
		if ((f & LOCK_F_SPIN) && !(f & LOCK_F_MUTEX))
			m |= 1ULL << f;
	return m;
}

static int spinlock_start(struct ks_run *r)
{
	struct locks_state *st = r->tool_state;
	struct locks_cfg cfg = {
		.accept_flags = spin_flags(),
		.calls = st->calls,
		/* PREEMPT_RT: spin_lock() sleeps (an rtlock), per thread */
		.track_tid = locks_preempt_rt(),
	};
	struct locks_fn *fns = st->fns;
	struct locks_prog progs[3] = { { 0 } };
	struct locks_bpf *skel = locks_open(r, &cfg);
	enum ks_mode cm = r->mode;
	int n = 0;

	if (!skel)
		return -1;
	/*
	 * x86 guests without paravirtual spin locks take spin locks with a
	 * test-and-set loop (virt_spin_lock(), on whenever the CPU says
	 * "hypervisor"), which has no contention tracepoint at all.
	 */
	if (ks_cpu_has_flag("hypervisor"))
		ks_run_note(r, "running under a hypervisor: unless this guest "
			    "has paravirtual spin locks, its spin_lock() waits "
			    "spin in virt_spin_lock() and never reach the "
			    "contention tracepoints; rwlock waits are still "
			    "seen");
	st->calls_cont_mode = KS_MODE_MAX;
	if (st->calls) {
		int nfns = locks_present(locks_spin_fns, fns, 32);

		cm = st->calls_cont_mode = locks_contention_mode();
		progs[n++] = (struct locks_prog){
			skel->progs.spin_call_kprobe, fns, nfns, false };
	}
	if (cm != KS_MODE_MAX) {
		/* end before begin: a begin must never miss its end */
		locks_contention_progs(skel, cm, &progs[n + 1].prog,
				       &progs[n].prog);
		n += 2;
	}
	return locks_load_attach(r, progs, n);
}

static void spinlock_collect(struct ks_run *r, struct ks_report *rep)
{
	struct locks_state *st = r->tool_state;
	int n = 0;

	locks_collect(r, rep, false);
	if (!st->calls)
		return;
	while (locks_spin_fns[n].name)
		n++;
	if (st->calls_cont_mode == KS_MODE_MAX) {
		ks_report_null(rep, "contention_mode");
		if (rep->ntables)
			ks_table_line(rep->tables[0], true, "(no lock:"
				      "contention tracepoints on this kernel: "
				      "waits not timed)");
	} else {
		ks_report_str(rep, "contention_mode",
			      ks_mode_name(st->calls_cont_mode));
	}
	locks_collect_calls(r, rep, locks_spin_fns, n);
}

const struct ks_tool ks_tool_spinlock = {
	.name = "spinlock",
	.summary = "Spin lock and rwlock contention: count, total, maximum "
		   "and log2 histogram of wait time per lock (or stack) and "
		   "task name; --calls also counts lock calls.",
	.hist_help = "text: a histogram of wait times under each row",
	.args_help =
"      --calls            also count calls to the spin_lock, read_lock and\n"
"                         write_lock functions per lock (kprobes)\n"
	LOCKS_ARGS_HELP,
	.examples =
"  kscope spinlock -d 5             contended spin locks over 5 seconds\n"
"  kscope spinlock -H -r 3          the 3 worst, with histograms\n"
"  kscope spinlock --calls -c nginx -d 5\n"
"                                   calls and contention for nginx\n",
	.overhead =
"  About 200 ns per contention tracepoint hit, two hits per wait; 1.1 us\n"
"  per hit with -s (bench/, 2-core VM, 6.18; bpftrace doing the same\n"
"  ~330 ns).  --calls puts a kprobe on the kernel's hottest functions,\n"
"  every spin_lock/read_lock/write_lock call: use it briefly, filtered.\n",
	.macro = { 97, 99, 100 },
	.tracing_what = "spin lock and rwlock contention",
	.takes_counts = true,
	.stacks_help = "also key by the kernel stack of each wait",
	.weight_help = "nanoseconds waited",
	.pprof_help = "contentions/count, delay/nanoseconds",
	.long_opts = spinlock_long,
	.short_opts = LOCKS_SHORT_OPTS,
	.parse_opt = spinlock_parse,
	.probe = spinlock_probe,
	.start = spinlock_start,
	.collect = spinlock_collect,
	.stop = locks_stop,
	.state_size = sizeof(struct locks_state),
	.hold_heap = true,
	.drop_names = locks_drop_names,
	.recursion = locks_recursion,
};
