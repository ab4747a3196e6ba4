# SPDX-License-Identifier: GPL-2.0
from _check import final, truth

OPEN = ("alloc_empty_file", "__alloc_file")


def filp(rep, comm_pred):
    return sum(e["count"] for e in rep["entries"]
               if e["kind"] == "cache" and e["site"].startswith(OPEN) and
               comm_pred(e["comm"]))


def check(out, env, mode):
    t = truth(out, "pid.truth.json")
    want = t["threads"] * t["opens"]

    # -p: every thread's opens, under its own comm, and nothing else
    rep = final(out, mode, "pid")
    mc = {e["comm"] for e in rep["entries"] if e["comm"].startswith("mc")}
    assert mc == {f"mc{i}" for i in range(t["threads"])}, sorted(mc)
    assert filp(rep, lambda c: c.startswith("mc")) == want, rep["entries"]
    others = {e["comm"] for e in rep["entries"]} - mc - {"many_comms", "sh"}
    assert not others, f"-p let other processes in: {others}"

    # -t: the main thread only: it execs and starts threads, opens nothing
    rep = final(out, mode, "tid")
    comms = {e["comm"] for e in rep["entries"]}
    assert comms and comms <= {"many_comms", "sh"}, comms
    assert rep["total_count"] > 0

    # --cgroup: the cgroup and its child, not the task outside
    rep = final(out, mode)
    parent = truth(out, "cg_parent.json")["opens"]
    child = truth(out, "cg_child.json")["opens"]
    assert filp(rep, lambda c: c == "cg_parent") == parent, rep["entries"]
    assert filp(rep, lambda c: c == "cg_child") == child, rep["entries"]
    assert filp(rep, lambda c: c == "cg_outside") == 0, rep["entries"]
