# SPDX-License-Identifier: GPL-2.0
from _check import reports, stderr
from memleak_files import filp


def one(out, name, mode):
    rc = (out / f"{name}.rc").read_text().strip()
    assert rc == "0", f"{name}: exit {rc}: {stderr(out)}"
    reps = reports(out, f"{name}.json")
    assert len(reps) == 1 and reps[0]["mode"] == mode, (name, reps)
    return reps[0]


def check(out, env, mode):
    m = int((out / "files").read_text())
    size = int((out / "filp_size").read_text())
    assert size > 0, "no /sys/kernel/slab/filp/slab_size"
    rep = one(out, "plain", mode)
    n, _ = filp(rep, size)
    assert n == m, f"plain: {n} outstanding filp allocations, {m} files"

    rep = one(out, "old", mode)
    assert rep["older_ms"] == 600000
    assert rep["entries"] == [] and rep["total_allocs"] == 0, rep["entries"]

    rep = one(out, "young", mode)
    assert rep["older_ms"] == 500
    n, _ = filp(rep, size)
    assert n == m, f"--older 500: {n} filp allocations, {m} files"

    rep = one(out, "kinds", mode)
    kinds = {e["kind"] for e in rep["entries"]}
    assert kinds and kinds <= {"kmalloc", "page"}, kinds

    rep = one(out, "depth", mode)
    assert rep["entries"]
    assert all(1 <= len(e["stack"]) <= 2 for e in rep["entries"]), \
        [e["stack"] for e in rep["entries"] if len(e["stack"]) > 2][:3]

    rep = one(out, "sample", mode)
    assert rep["sample"] == 4
    n, _ = filp(rep, size)
    # 1 in 4 at random: binomial, sd = sqrt(m * 3/16) (19 for 2000);
    # six of them either way
    sd = (m * 3 / 16) ** 0.5
    assert abs(n - m / 4) <= 6 * sd, f"--sample 4: {n} of {m}"
