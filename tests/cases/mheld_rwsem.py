# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final, truth
from _locks import RT_DROPS, final_also, func_of, rt_lossy, rt_lost

# the function that takes mm->mmap_lock for each syscall, by kernel
# (__do_sys_mincore is inlined into __x64_sys_mincore on some builds)
CALLERS = {
    "mincore": ("__do_sys_mincore", "__x64_sys_mincore",
                "__arm64_sys_mincore", "__se_sys_mincore"),
    "mprotect": ("do_mprotect_pkey",),
    "mmap": ("vm_mmap_pgoff",),
    "munmap": ("__vm_munmap",),
}


def by_syscall(rep):
    """{(syscall, kind): count} of the mmap_lock rows whose caller is
    one of CALLERS; other rows (page faults, anon_vma locks) apart."""
    n = defaultdict(int)
    for e in rep["entries"]:
        assert e["comm"] == "lkrwsem", e
        fn = func_of(e["caller"])
        for sc, fns in CALLERS.items():
            if fn in fns:
                assert e["lock"] == "mmap_lock", e
                n[(sc, e["kind"].split(":")[0])] += e["count"]
    return dict(n)


def same(got, want, rep, lossy):
    """exactly, or on PREEMPT_RT with fentry (programs skipped by the
    kernel's recursion guard, counted in dropped.recursion) short by at
    most what was dropped"""
    if not lossy:
        assert all(v == 0 for v in rep["dropped"].values()), rep["dropped"]
        return got == want
    assert all(v == 0 for k, v in rep["dropped"].items()
               if k not in RT_DROPS), rep["dropped"]
    lost = rt_lost(rep)
    return set(got) <= set(want) and all(
        got.get(k, 0) <= v for k, v in want.items()) and \
        sum(want.values()) - sum(got.values()) <= lost


def check(out, env, mode):
    held = final(out, mode)
    wait = final_also(out, "wait", mode)
    t = truth(out)
    lossy = rt_lossy(env, mode)
    want = {("mincore", "rwsem-read"): t["mincore"],
            ("mprotect", "rwsem-write"): t["mprotect"],
            ("mmap", "rwsem-write"): t["mmap"],
            ("munmap", "rwsem-write"): t["munmap"]}
    got = by_syscall(wait)
    assert same(got, want, wait, lossy), \
        f"mlock: {got}, want {want}, dropped {wait['dropped']}"
    # mheld: munmap's write hold is downgraded, then held for reading
    want[("munmap", "rwsem-read")] = t["munmap"]
    got = by_syscall(held)
    assert same(got, want, held, lossy), \
        f"mheld: {got}, want {want}, dropped {held['dropped']}"
    for e in held["entries"]:
        assert e["max_ns"] > 0 and e["total_ns"] >= e["max_ns"], e
