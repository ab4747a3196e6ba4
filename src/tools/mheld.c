// SPDX-License-Identifier: GPL-2.0
/* kscope mheld: how long are kernel mutexes held? */
#include <string.h>
#include <bpf/libbpf.h>
#include "locks_common.h"
#include "locks.skel.h"

static const struct locks_fn unlock_fns[] = {
	{ "mutex_unlock", LOCK_FN_UNLOCK }, { NULL, 0 },
};

enum { OPT_ALL_SLEEPING = 2000 };

static const struct option mheld_long[] = {
	{ "all-sleeping", no_argument, NULL, OPT_ALL_SLEEPING },
	LOCKS_LONG_OPTS,
	{ 0 },
};

static int mheld_parse(struct ks_run *r, int c, const char *arg)
{
	struct locks_state *st = r->tool_state;

	if (c == OPT_ALL_SLEEPING) {
		st->all_sleeping = true;
		return 0;
	}
	return locks_parse_opt(r, c, arg) < 0 ? -1 : 0;
}

static void mheld_probe(const struct ks_run *r, struct ks_probe *p)
{
	static const char why[] = "not offered: no tracepoint marks mutex "
		"acquisition and release; hold time needs fentry or kprobes";
	const struct locks_state *st = r->tool_state;
	struct locks_fn unlock[1];

	/* the tracepoint modes stay unsupported, with the reason shown */
	snprintf(p->m[KS_MODE_TP_BTF].why, sizeof(p->m[0].why), "%s", why);
	snprintf(p->m[KS_MODE_RAW_TP].why, sizeof(p->m[0].why), "%s", why);
	snprintf(p->m[KS_MODE_TRACEPOINT].why, sizeof(p->m[0].why), "%s",
		 why);
	if (!locks_present(unlock_fns, unlock, 1)) {
		static const char none[] = "mutex_unlock is not a traceable "
			"function on this kernel";

		ks_mode_set(&p->m[KS_MODE_FENTRY], false, NULL, none);
		ks_mode_set(&p->m[KS_MODE_KPROBE], false, NULL, none);
		return;
	}
	locks_probe_fns(p, locks_mutex_lock_fns, "mutex lock",
			st->all_sleeping ?
			"every mutex taken by mutex_lock*() or "
			"mutex_trylock(), until mutex_unlock(); every rwsem "
			"taken by down_read*() or down_write*(), until "
			"up_read(), up_write() or downgrade_write()" :
			"every mutex taken by mutex_lock*() or "
			"mutex_trylock(), until mutex_unlock()");
}

static int mheld_start(struct ks_run *r)
{
	struct locks_state *st = r->tool_state;
	struct locks_cfg cfg = { .held = true };
	struct locks_fn fns[32], unlock[4];
	struct locks_prog progs[3] = { { 0 } };
	struct locks_bpf *skel = locks_open(r, &cfg);
	int n, nu;

	if (!skel)
		return -1;
	n = locks_present(locks_mutex_lock_fns, fns, 16);
	n += locks_present(locks_mutex_trylock_fns, fns + n, 2);
	nu = locks_present(unlock_fns, unlock, 1);
	if (st->all_sleeping) {
		n += locks_present(locks_rwsem_lock_fns, fns + n, 10);
		n += locks_present(locks_rwsem_trylock_fns, fns + n, 2);
		nu += locks_present(locks_rwsem_unlock_fns, unlock + nu, 3);
	}
	/* releases first, so that no lock taken under tracing outlives
	 * its unlock unseen */
	if (r->mode == KS_MODE_FENTRY) {
		progs[0] = (struct locks_prog){ skel->progs.unlock_fentry,
						unlock, nu, false };
		progs[1] = (struct locks_prog){ skel->progs.held_fexit,
						fns, n, true };
		return locks_load_attach(r, progs, 2);
	}
	progs[0] = (struct locks_prog){ skel->progs.unlock_kprobe, unlock, nu,
					false };
	progs[1] = (struct locks_prog){ skel->progs.held_kretprobe, fns, n,
					true };
	/* the kretprobe finds the lock pointer the entry probe saved */
	progs[2] = (struct locks_prog){ skel->progs.lock_kprobe, fns, n,
					false };
	return locks_load_attach(r, progs, 3);
}

static void mheld_collect(struct ks_run *r, struct ks_report *rep)
{
	locks_collect(r, rep, true);
}

const struct ks_tool ks_tool_mheld = {
	.name = "mheld",
	.summary = "Kernel mutex hold time, from acquisition to mutex_unlock: "
		   "count, total, maximum and log2 histogram per lock (or "
		   "stack) and the task that took it.",
	.hist_help = "text: a histogram of hold times under each row",
	.examples =
"  kscope mheld -d 10               mutex hold times over 10 seconds\n"
"  kscope mheld -H -r 3             the 3 longest-held, with histograms\n"
"  kscope mheld -s -c postgres -j   JSON, by acquiring kernel stack\n",
	.overhead =
"  Probes every mutex lock function's return and mutex_unlock: two or\n"
"  three probe hits per hold, on every acquisition, contended or not,\n"
"  and a hash map insert and delete per hold.  Measured only in emulated\n"
"  VMs here (see docs/locks.md); plan for more than mlock's cost.\n",
	.tracing_what = "mutex hold times",
	.takes_counts = true,
	.stacks_help = "also key by the kernel stack that took the lock",
	.weight_help = "nanoseconds held",
	.pprof_help = "holds/count, hold_time/nanoseconds",
	.long_opts = mheld_long,
	.short_opts = LOCKS_SHORT_OPTS,
	.parse_opt = mheld_parse,
	.args_help =
"      --all-sleeping     also rwsems: held from down_read*() or\n"
"                         down_write*() (trylocks too) to up_read(),\n"
"                         up_write() or downgrade_write()\n"
	LOCKS_ARGS_HELP,
	.probe = mheld_probe,
	.start = mheld_start,
	.collect = mheld_collect,
	.stop = locks_stop,
	.state_size = sizeof(struct locks_state),
	.hold_heap = true,
	.drop_names = locks_drop_names,
	.recursion = locks_recursion,
};
