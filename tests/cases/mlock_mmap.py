# SPDX-License-Identifier: GPL-2.0
from collections import defaultdict

from _check import final, truth
from _locks import check_lock_entries, final_also, func_of, rows

RW = ("rwsem-read:", "rwsem-write:", "mutex:", "semaphore:",
      "percpu-rwsem", "rtmutex:")


def check(out, env, mode):
    rep = final(out, mode)
    named = final_also(out, "named", mode)
    wr = final_also(out, "wr", mode)
    unmap = final_also(out, "unmap", mode)
    t = truth(out)
    ops = t["ops"]
    assert ops == t["threads"] * t["per_thread"] > 0, t
    for r in (rep, named, wr, unmap):
        check_lock_entries(r, comm="lkmmap", kinds=RW)
    # the busiest rwsem: every map and unmap takes mm->mmap_lock for
    # writing; the threads share one mm, so one address
    rw = defaultdict(int)
    for e in rep["entries"]:
        if e["kind"].startswith("rwsem-"):
            rw[e["addr"]] += e["count"]
    assert rw, f"no rwsem waits in {ops} map/unmap pairs: {rep['entries']}"
    top = max(rw, key=rw.get)
    names = {e["lock"] for e in rep["entries"] if e["addr"] == top}
    assert names == {"mmap_lock"}, f"busiest rwsem {top} named {names}"
    assert all(e["lock_name"] == e["lock"] for e in rep["entries"])
    assert len({e["addr"] for e in rep["entries"]
                if e["lock"] == "mmap_lock"}) == 1, rep["entries"]
    # at most a write lock per mmap and munmap, a read lock per fault
    assert rw[top] <= 3 * ops, (rw[top], ops)
    key = ("addr", "lock", "kind", "comm")
    full = rows(rep, *key)
    want = {k: v for k, v in full.items() if k[1] == "mmap_lock"}
    assert len(want) < len(full), f"no other lock than mmap_lock: {full}"
    assert rows(named, *key) == want, (rows(named, *key), want)
    want = {k: v for k, v in full.items()
            if k[2].startswith("rwsem-write:")}
    assert want, "no rwsem-write waits"
    assert rows(wr, *key) == want, (rows(wr, *key), want)
    # --caller: munmap's function, exactly; the others were there too
    fn = (out / "munmap_fn").read_text().strip()
    key = ("caller", "kind", "comm")
    full = rows(rep, *key)
    want = {k: v for k, v in full.items() if func_of(k[0]) == fn}
    assert want, f"no waits with caller {fn}: {full}"
    assert len(want) < len(full), f"only {fn} called: {full}"
    assert rows(unmap, *key) == want, (rows(unmap, *key), want)
