# SPDX-License-Identifier: GPL-2.0
import calendar
import time

from _check import reports, stderr, truth

OPEN_PATH = ("alloc_empty_file+", "__alloc_file+", "init_file+")


def ms(iso):
    """report "time" (ISO 8601 UTC, milliseconds) -> epoch milliseconds"""
    base, frac = iso.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 \
        + int(frac[:3].ljust(3, "0"))


def filp_entries(rep, size):
    """the rows of filp-sized cache objects from the open path"""
    for e in rep["entries"]:
        if e["kind"] != "cache":
            continue
        if not any(f.startswith(OPEN_PATH) for f in e["stack"]):
            continue
        if size > 0 and e["bytes"] != e["allocs"] * size:
            continue        # e.g. an LSM's per-file blob, not a struct file
        yield e


def filp(rep, size):
    """(allocations, bytes) of filp-sized cache objects from the open path"""
    rows = list(filp_entries(rep, size))
    return sum(e["allocs"] for e in rows), sum(e["bytes"] for e in rows)


def windows(reps, t):
    """(reports taken while every file was open, reports taken well after
    the close and before the workload opened its truth file)"""
    hold = t["close_ms"] - t["opened_ms"]
    held = [r for r in reps
            if t["opened_ms"] < ms(r["time"]) < t["close_ms"] - 500]
    after = [r for r in reps
             if t["closed_ms"] + 500 < ms(r["time"])
             < t["closed_ms"] + hold - 250]
    return held, after


def check(out, env, mode, extra=0):
    """extra: struct files the traced task holds beside its M open files
    (a by-process run also sees the files its own exec mapped)"""
    rc = (out / "kscope.rc").read_text().strip()
    assert rc == "0", f"kscope exited {rc}: {stderr(out)}"
    t = truth(out)
    reps = reports(out)
    assert len(reps) >= 3, f"expected half-second reports, got {len(reps)}"
    for r in reps:
        assert r["tool"] == "memleak"
        if mode:
            assert r["mode"] == mode, r["mode"]
        assert r["dropped"]["map_full"] == 0, r["dropped"]
        assert r["dropped"]["stack"] == 0, r["dropped"]
        for e in r["entries"]:
            assert set(e) >= {"stack", "bytes", "allocs", "oldest_ms"}, e
    # reports taken while every file was open (with a margin for the
    # time between a report's timestamp and its map read)
    held, after = windows(reps, t)
    assert held, ("no report while the files were held", t,
                  [r["time"] for r in reps])
    n, b = filp(held[-1], t["filp_size"])
    # -c leaker_files: its own opens only; the files exec and the loader
    # opened were closed (and freed, RCU included) seconds before
    assert n == t["files"] + extra, \
        f"{n} outstanding filp allocations while {t['files']} files open" \
        f" (and {extra} mapped)"
    if t["filp_size"] > 0:
        assert b == n * t["filp_size"]
    # the oldest of them is the first file, opened between open_ms and
    # opened_ms: its age at the report is known to the workload's clock.
    # Kernel mode stamps allocations with a per-tick clock (one tick
    # early at most, 1-10 ms); 250 ms covers the report's timestamp
    # against its map read on a slow VM.  Without extra: the mapped
    # files of a by-process run are older still.
    when = ms(held[-1]["time"])
    oldest = max(e["oldest_ms"] for e in filp_entries(held[-1],
                                                      t["filp_size"]))
    assert oldest >= when - t["opened_ms"] - 250, \
        (oldest, "ms old, but the files were opened by",
         when - t["opened_ms"], "ms before the report")
    if not extra:
        assert oldest <= when - t["open_ms"] + 250, \
            (oldest, "ms old, but the first file was opened",
             when - t["open_ms"], "ms before the report")
    # well after the close (and the RCU callbacks that free them), and
    # before the workload opens its truth file (it waits as long as it
    # held the files, then writes it): that file's struct file is freed
    # after an RCU grace period, which a TCG VM can stretch past the case's
    # last report, an allocation really outstanding then
    assert after, ("no report between the close and the truth file", t,
                   [r["time"] for r in reps])
    # (a by-process run: the mapped files stay held until the exit)
    n, _ = filp(after[-1], t["filp_size"])
    assert n == extra, \
        f"{n} filp allocations still outstanding after close" \
        f" (expected {extra}: the mapped files)"
    if (out / "sampled.json").exists():
        check_sampled(out, t)


def check_sampled(out, t):
    """memleak --sample 2 beside the full run: about half the files
    tracked while held, and none left once closed (every tracked block's
    free matched, through the sampled free path's lookup)"""
    rc = (out / "sampled.rc").read_text().strip()
    assert rc == "0", f"sampled: kscope exited {rc}: {stderr(out, 'sampled')}"
    reps = reports(out, "sampled.json")
    for r in reps:
        assert r["sample"] == 2, r["sample"]
        assert r["dropped"]["map_full"] == 0, r["dropped"]
    held, after = windows(reps, t)
    assert held, ("sampled: no report while the files were held", t)
    n, _ = filp(held[-1], t["filp_size"])
    m = t["files"]
    # binomial(m, 1/2): six standard deviations either way
    sd = (m / 4) ** 0.5
    assert abs(n - m / 2) <= 6 * sd, f"--sample 2: {n} of {m} tracked"
    assert after, ("sampled: no report between the close and the truth "
                   "file", t, [r["time"] for r in reps])
    n, _ = filp(after[-1], t["filp_size"])
    assert n == 0, f"--sample 2: {n} filp allocations outstanding after close"
    fr = after[-1]["frees"]
    assert fr["matched"] >= m / 2 - 6 * sd, fr
