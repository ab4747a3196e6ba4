# SPDX-License-Identifier: GPL-2.0
from _check import final
from memleak_files import filp


def check(out, env, mode):
    m = int((out / "files").read_text())
    size = int((out / "filp_size").read_text())
    assert size > 0, "no /sys/kernel/slab/filp/slab_size"
    rep = final(out, mode, "plain")
    n, _ = filp(rep, size)
    assert n == m, f"plain: {n} outstanding filp allocations, {m} files"

    rep = final(out, mode, "old")
    assert rep["older_ms"] == 600000
    assert rep["entries"] == [] and rep["total_allocs"] == 0, rep["entries"]

    rep = final(out, mode, "young")
    assert rep["older_ms"] == 500
    n, _ = filp(rep, size)
    assert n == m, f"--older 500: {n} filp allocations, {m} files"

    rep = final(out, mode, "kinds")
    kinds = {e["kind"] for e in rep["entries"]}
    assert kinds and kinds <= {"kmalloc", "page"}, kinds

    rep = final(out, mode, "depth")
    assert rep["entries"]
    assert all(1 <= len(e["stack"]) <= 2 for e in rep["entries"]), \
        [e["stack"] for e in rep["entries"] if len(e["stack"]) > 2][:3]

    rep = final(out, mode, "sample")
    assert rep["sample"] == 4
    n, _ = filp(rep, size)
    # 1 in 4 at random: binomial, sd = sqrt(m * 3/16) (19 for 2000);
    # six of them either way
    sd = (m * 3 / 16) ** 0.5
    assert abs(n - m / 4) <= 6 * sd, f"--sample 4: {n} of {m}"
