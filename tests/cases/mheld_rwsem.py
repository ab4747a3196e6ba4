# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final, truth
from _locks import final_also, func_of

# the function that takes mm->mmap_lock for each syscall, by kernel
# (__do_sys_mincore is inlined into __x64_sys_mincore on some builds)
CALLERS = {
    "mincore": ("__do_sys_mincore", "__x64_sys_mincore",
                "__se_sys_mincore"),
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


def check(out, env, mode):
    held = final(out, mode)
    wait = final_also(out, "wait", mode)
    t = truth(out)
    for r in (held, wait):
        assert all(v == 0 for v in r["dropped"].values()), r["dropped"]
    want = {("mincore", "rwsem-read"): t["mincore"],
            ("mprotect", "rwsem-write"): t["mprotect"],
            ("mmap", "rwsem-write"): t["mmap"],
            ("munmap", "rwsem-write"): t["munmap"]}
    got = by_syscall(wait)
    assert got == want, f"mlock: {got}, want {want}"
    # mheld: munmap's write hold is downgraded, then held for reading
    want[("munmap", "rwsem-read")] = t["munmap"]
    got = by_syscall(held)
    assert got == want, f"mheld: {got}, want {want}"
    for e in held["entries"]:
        assert e["max_ns"] > 0 and e["total_ns"] >= e["max_ns"], e
