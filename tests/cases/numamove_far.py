# SPDX-License-Identifier: GPL-2.0
from _check import other_notes, reports, stderr, truth

# Tolerance: kscope counts from attach to stop, /proc/vmstat from just
# after attach to just before stop.  The two gaps hold no workload (it
# starts after the first read and has exited before the second) and the
# rest of the VM (this shell, awk, kscope) runs pinned to node 0 with
# node-0 memory, so nothing should be misplaced then; a stray page of a
# process that began on node 1 may still move.  8 pages (32 KiB) covers
# that and nothing else: the workload moves thousands.
TOLERANCE_PAGES = 8


def check(out, env, mode):
    rc = (out / "kscope.rc").read_text().strip()
    assert rc == "0", f"kscope exited {rc}: {stderr(out)}"
    reps = reports(out)
    vm = truth(out, "vmstat.json")
    wl = truth(out)
    delta = vm["after"] - vm["before"]
    assert wl["pages_moved"] > 100, f"workload saw too few migrations: {wl}"
    assert delta >= wl["pages_moved"], (delta, wl)

    pages = migrations = timed = failed = 0
    time_ms = 0.0
    for r in reps:
        assert r["tool"] == "numamove"
        if mode:
            assert r["mode"] == mode, r["mode"]
        assert len(r["entries"]) == 1, r["entries"]
        e = r["entries"][0]
        for k in ("migrations", "pages", "time_ms"):
            assert k in e, e
        pages += e["pages"]
        migrations += e["migrations"]
        timed += e["timed"]
        failed += e["pages_failed"]
        time_ms += e["time_ms"]
        assert r["numa_nodes"] == vm["nodes"], r
        assert r["numa_balancing"] == 1, r
        assert not other_notes(r), r
        assert r["dropped"]["map_full"] == 0, r["dropped"]
    assert abs(pages - delta) <= TOLERANCE_PAGES, \
        f"kscope {pages} pages, /proc/vmstat numa_pages_migrated +{delta}"
    # every migration is one folio of at least one page, THP is off
    assert migrations >= pages - TOLERANCE_PAGES, (migrations, pages)
    assert timed >= migrations - 2, (timed, migrations)
    # sub-millisecond precision: the total is not a whole number of ms,
    # and a 4 KiB page moves in well under a millisecond each
    assert time_ms > 0, time_ms
    assert time_ms != int(time_ms), time_ms
    assert time_ms / max(timed, 1) < 5.0, (time_ms, timed)
