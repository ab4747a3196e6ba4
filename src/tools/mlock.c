// SPDX-License-Identifier: GPL-2.0
/* kscope mlock: how long do tasks wait for kernel mutexes? */
#include <string.h>
#include <bpf/libbpf.h>
#include "locks_common.h"
#include "locks.skel.h"

enum { OPT_ALL_SLEEPING = 2000 };

static const struct option mlock_long[] = {
	{ "all-sleeping", no_argument, NULL, OPT_ALL_SLEEPING },
	{ "owner", no_argument, NULL, LOCKS_OPT_OWNER },
	LOCKS_LONG_OPTS,
	{ 0 },
};

static int mlock_parse(struct ks_run *r, int c, const char *arg)
{
	struct locks_state *st = r->tool_state;

	if (c == OPT_ALL_SLEEPING) {
		st->all_sleeping = true;
		return 0;
	}
	return locks_parse_opt(r, c, arg) < 0 ? -1 : 0;
}

#define MEASURES_FN	"time in every mutex_lock*() call, contended or " \
			"not; ':sleeping' rows slept"
#define MEASURES_FN_ALL	"time in every mutex_lock*(), down_read*() and " \
			"down_write*() call, contended or not; ':sleeping' " \
			"rows slept"
#define MEASURES_TP	"contended mutex waits only, first " \
			"contention_begin to contention_end"
#define MEASURES_TP_ALL	"contended waits of every sleeping lock (mutex, " \
			"rwsem, semaphore, rt_mutex)"

static void mlock_probe(const struct ks_run *r, struct ks_probe *p)
{
	const struct locks_state *st = r->tool_state;

	locks_probe_contention(p, st->all_sleeping ? MEASURES_TP_ALL :
				  MEASURES_TP);
	locks_probe_fns(p, locks_mutex_lock_fns, "mutex lock",
			st->all_sleeping ? MEASURES_FN_ALL : MEASURES_FN);
}

/*
 * Which contention flag combinations are waits for this tool.  On
 * PREEMPT_RT a mutex is an rt_mutex and its waits carry LCB_F_RT alone
 * (so do rt_mutexes proper: PI futexes, RCU boosting); spinlock_t and
 * rwlock_t waits carry it too, but the BPF side marks those SPIN (the
 * waiter is in TASK_RTLOCK_WAIT): they are spinlock's.
 */
static unsigned long long sleeping_flags(bool all_sleeping)
{
	unsigned long long m = 0;
	bool rt = locks_preempt_rt();

	for (unsigned int f = 0; f <= LOCK_F_MASK; f++)
		if ((f & LOCK_F_MUTEX) || (rt && f == LOCK_F_RT) ||
		    (all_sleeping && !(f & LOCK_F_SPIN)))
			m |= 1ULL << f;
	return m;
}

static int mlock_start(struct ks_run *r)
{
	struct locks_state *st = r->tool_state;
	struct locks_cfg cfg = {
		.accept_flags = sleeping_flags(st->all_sleeping),
		.track_tid = true,
	};
	struct locks_fn *fns = st->fns;
	struct locks_prog progs[2] = { { 0 } };
	struct locks_bpf *skel = locks_open(r, &cfg);
	int nfns;

	if (!skel)
		return -1;
	if (r->mode == KS_MODE_FENTRY || r->mode == KS_MODE_KPROBE) {
		bool fe = r->mode == KS_MODE_FENTRY;

		nfns = locks_present(locks_mutex_lock_fns, fns, 16);
		/* --all-sleeping: the rwsems too (semaphores and rt_mutexes
		 * are left to the contention tracepoints) */
		if (st->all_sleeping)
			nfns += locks_present(locks_rwsem_lock_fns,
					      fns + nfns, 16);
		/* exits first: an entry must never miss its exit */
		progs[0] = (struct locks_prog){
			fe ? skel->progs.lock_fexit : skel->progs.lock_kretprobe,
			fns, nfns, true };
		progs[1] = (struct locks_prog){
			fe ? skel->progs.lock_fentry : skel->progs.lock_kprobe,
			fns, nfns, false };
	} else {
		locks_contention_progs(skel, r->mode, &progs[1].prog,
				       &progs[0].prog);
	}
	return locks_load_attach(r, progs, 2);
}

static void mlock_collect(struct ks_run *r, struct ks_report *rep)
{
	locks_collect(r, rep, false);
}

const struct ks_tool ks_tool_mlock = {
	.name = "mlock",
	.summary = "Kernel mutex wait time: count, total, maximum and log2 "
		   "histogram per lock (or stack) and task name.",
	.hist_help = "text: a histogram of wait times under each row",
	.args_help =
"      --all-sleeping     also rwsems, semaphores and rt_mutexes; in\n"
"                         fentry/kprobe modes rwsems (down_read*(),\n"
"                         down_write*() calls timed like mutex_lock*())\n"
	LOCKS_OWNER_HELP LOCKS_ARGS_HELP,
	.examples =
"  kscope mlock -d 10               mutex waits over 10 seconds\n"
"  kscope mlock -H -r 5 -c nginx    5 worst mutexes for nginx, histograms\n"
"  kscope mlock -s -j               JSON, keyed by lock and kernel stack\n"
"  kscope mlock -m tracepoint       only contended waits (any kernel)\n"
"  kscope mlock --pprof m.pb.gz 60  contention profile, renewed each minute\n",
	.overhead =
"  The contention tracepoint modes run only when a mutex is contended:\n"
"  about 220 ns per tracepoint hit, two or three hits per wait; 1.2 us\n"
"  per hit with -s (bench/, 2-core VM, 6.18; bpftrace doing the same\n"
"  ~300 ns).  fentry/kprobe modes time every mutex_lock call,\n"
"  contended or not: far more events on a busy system.\n",
	.macro = { 93, 101, 99 },
	.tracing_what = "mutex waits",
	.takes_counts = true,
	.stacks_help = "also key by the kernel stack of each wait",
	.weight_help = "nanoseconds waited",
	.pprof_help = "contentions/count, delay/nanoseconds",
	.long_opts = mlock_long,
	.short_opts = LOCKS_SHORT_OPTS,
	.parse_opt = mlock_parse,
	.probe = mlock_probe,
	.start = mlock_start,
	.collect = mlock_collect,
	.stop = locks_stop,
	.state_size = sizeof(struct locks_state),
	.hold_heap = true,
	.drop_names = locks_drop_names,
	.recursion = locks_recursion,
};
