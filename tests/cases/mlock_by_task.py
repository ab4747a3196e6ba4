# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final, truth
from _locks import check_lock_entries, rt_drops, rt_kernel, rt_lossy


def check(out, env, mode):
    t = truth(out)
    writes, per = t["writes"], t["per_thread"]
    assert per > 0 and writes == t["threads"] * per == len(t["tids"]) * per
    exact = mode in ("fentry", "kprobe")
    # PREEMPT_RT: mutexes are rt_mutexes; fentry loses runs to recursion
    # there, counted (docs/locks.md): exact only with kprobes
    rt = rt_kernel(env)
    kinds = ("rtmutex:", "mutex:") if rt else ("mutex:",)
    may = rt_drops(rt)
    if rt_lossy(env, mode):
        exact = False

    # --by lock,tid: the pipe's mutex (the busiest lock) per thread
    rep = final(out, mode, "tid")
    assert rep["by"] == "lock,tid", rep["by"]
    check_lock_entries(rep, comm=None, kinds=kinds, may_drop=may)
    per_lock = defaultdict(lambda: defaultdict(int))
    for e in rep["entries"]:
        per_lock[e["addr"]][e["tid"]] += e["count"]
    pipe = max(per_lock.values(), key=lambda d: sum(d.values()),
               default={})
    assert set(pipe) <= set(t["tids"]), (sorted(pipe), t["tids"])
    if exact:
        # every call timed: each thread's 5000 writes, one mutex_lock each
        assert dict(pipe) == {tid: per for tid in t["tids"]}, dict(pipe)
    else:
        assert all(n <= per for n in pipe.values()), dict(pipe)
        if env == "host":
            assert pipe, "no contended waits on the host's two CPUs"

    # --by lock,cgroup: every row is the run's cgroup
    rep = final(out, mode)
    assert rep["by"] == "lock,cgroup", rep["by"]
    check_lock_entries(rep, comm=None, kinds=kinds, may_drop=may)
    cgid = int((out / "cgroup_id").read_text())
    # and its path below the cgroup2 mount, as a user would name it
    cgpath = (out / "cgroup_path").read_text().strip()
    locks = defaultdict(int)
    for e in rep["entries"]:
        assert e["cgroup"] == cgid, (e["cgroup"], cgid)
        assert e["cgroup_path"] == cgpath, (e["cgroup_path"], cgpath)
        locks[e["addr"]] += e["count"]     # kinds (sleeping, ...) summed
    top = max(locks.values(), default=0)
    if exact:
        assert top == writes, f"busiest mutex {top} times, {writes} writes"
    else:
        assert top <= writes
