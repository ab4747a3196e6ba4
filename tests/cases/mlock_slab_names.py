# SPDX-License-Identifier: GPL-2.0
import _schema
from _check import final, truth
from _locks import check_lock_entries, func_of, rt_drops, rt_kernel


def check(out, env, mode):
    rep = final(out, mode)
    t = truth(out)
    writes = t["writes"]
    assert writes == t["threads"] * t["per_thread"] > 0, t
    kfunc = (out / "kfunc").read_text().strip() == "1"
    cache = out / "cache"
    cache = cache.read_text().strip() if cache.exists() else None
    rt = rt_kernel(env)
    check_lock_entries(rep, comm="lkfile",
                       kinds=("rtmutex:", "mutex:") if rt else ("mutex:",),
                       may_drop=rt_drops(rt))
    # f_pos_lock is taken in fdget_pos() (__fdget_pos() before 6.12)
    fpos = [e for e in rep["entries"] if "fdget_pos" in func_of(e["caller"])]
    assert fpos, f"no f_pos_lock rows: {rep['entries']}"
    assert len({e["addr"] for e in fpos}) == 1, fpos
    for e in fpos:
        assert e["lock"] == e["lock_name"], e
        if not kfunc:
            assert e["lock"] == e["addr"], e
        elif cache:
            assert e["lock"] == "&" + cache, e
        else:
            assert e["lock"].startswith("&"), e
    n = sum(e["count"] for e in fpos)
    if mode in ("fentry", "kprobe") and not rt:
        # every write takes it (the descriptor is shared: file_count > 1)
        assert n == writes, (n, writes)
    else:
        assert 0 < n <= writes, (n, writes)
    report = out / "report.json"
    if env == "host" and mode == "tp_btf":
        rc = (out / "report.rc").read_text().strip()
        assert rc == "0", (out / "report.err").read_text()
        ml = [r for r in _schema.report_lines(report.read_text(), "report")
              if r["tool"] == "mlock"]
        assert len(ml) == 1, ml
        rows = [e for e in ml[0]["entries"] if e["comm"] == "lkfile"]
        assert rows, f"report: no lkfile waits in 3 runs: {ml[0]}"
        names = {e["lock"] for e in rows}
        if not kfunc:
            assert all(e["lock"] == e["addr"] for e in rows), rows
        elif cache:
            assert "&" + cache in names, names
        else:
            assert any(n.startswith("&") for n in names), names
