# SPDX-License-Identifier: GPL-2.0
"""Host-side check of the VM NUMA self-test (numa.sh)."""
import pathlib


def _kv(path: pathlib.Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


def check(out_dir: pathlib.Path, env: str, mode: str):
    nodes = int((out_dir / "nodes").read_text())
    assert nodes == 2, f"{env}: expected 2 NUMA nodes, guest has {nodes}"
    touch = _kv(out_dir / "numa_touch.txt")
    pages = int(touch["pages"])
    # the MPOL_BIND allocation must really have landed on node 1, or the
    # migration count below proves nothing
    assert int(touch["pages_on_from_before"]) >= pages * 9 // 10, (
        f"{env}: only {touch['pages_on_from_before']}/{pages} pages on node 1 "
        "after binding the allocation there "
        f"({touch.get('pages_elsewhere_before')} elsewhere, "
        f"{touch.get('pages_absent_before')} absent)")
    migrated = int((out_dir / "numa_pages_migrated").read_text())
    knobs = (out_dir / "knobs.txt").read_text()
    # Touched from node 0 for 12 s with 100 ms scan delays, most of the
    # 32768 pages move; a quarter is a floor that TCG slowness can't miss.
    assert migrated >= pages // 4, (
        f"{env}: numa_pages_migrated grew by {migrated}, expected >= "
        f"{pages // 4} of {pages} misplaced pages; knobs:\n{knobs}")
