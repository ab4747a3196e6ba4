# SPDX-License-Identifier: GPL-2.0
"""VM tier, fleet: both x86 guests (Debian 6.1 and 6.12) run kscope export
(tests/cases/export_fleet.sh) and the host's Prometheus scrapes both
through QEMU user-mode networking, each guest's port 9961 forwarded to a
port on the host's loopback.  One PromQL query sums both machines; each
instance's numbers must be its own guest's ground truth, which the guest
reads (/proc/vmstat, the writes it made) and sends back on its results
port while it keeps serving.

A boot of its own (ks.fleet=1, ks.only=export_fleet): the networked
initramfs carries the dynamic kscope (export is not in the static build)
and each kernel's virtio-net modules (tests/vm/fetch-netmods.sh).
KSCOPE_SKIP_VM=1 skips it visibly, as the rest of the VM tier."""
import json
import os
import pathlib
import re
import sys
import threading
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "vm"))
import vmrun  # noqa: E402
from export_lib import Prometheus, free_port  # noqa: E402

CI = os.environ.get("CI", "").lower() == "true"
SKIP = os.environ.get("KSCOPE_SKIP_VM", "") not in ("", "0")
FLEET = [k for k in ("6.1", "6.12") if k in vmrun.KERNELS]
# each guest makes a different number of writes: numbers that land on the
# wrong instance cannot pass
WRITES = {"6.1": 100, "6.12": 150}
HOLD = 60       # seconds each guest keeps serving after sending its truth
TOLERANCE_PAGES = 8     # as numamove_far: stray pages between the reads


def truths(resfile: pathlib.Path):
    """{"SERVING": True, "TRUTH": {...}, "ERROR": text} so far."""
    out = {}
    try:
        raw = resfile.read_text(errors="replace")
    except OSError:
        return out
    for m in re.finditer(r"^KSCOPE-FLEET-(\w+) ?(.*)$", raw, re.M):
        kind, rest = m.group(1), m.group(2).strip()
        out[kind] = json.loads(rest) if kind == "TRUTH" else (rest or True)
    return out


@pytest.fixture(scope="module")
def fleet():
    if SKIP:
        if CI:
            pytest.fail("KSCOPE_SKIP_VM is set but CI=true")
        pytest.skip("VM tier skipped by KSCOPE_SKIP_VM="
                    + os.environ["KSCOPE_SKIP_VM"])
    base = vmrun.workdir().with_name("vm-fleet")
    try:
        lock = vmrun.WorkdirLock(base).__enter__()
        vmrun.ensure_host_tools()
        kernels = vmrun.fetch_kernels(FLEET)
        mods = [str(vmrun.fetch_netmods(k)) for k in kernels.values()]
        initrd = base / "initramfs-fleet.cpio"
        vmrun.build_initramfs(initrd, {"KSCOPE_INITRAMFS_EXPORT": "1",
                                       "KSCOPE_INITRAMFS_NETMODS":
                                       " ".join(mods)})
    except vmrun.VMUnavailable as e:
        if CI:
            pytest.fail(f"VM tier cannot run in CI: {e}")
        pytest.skip(f"VM tier cannot run on this machine: {e}")
    except vmrun.VMError as e:
        pytest.fail(f"fleet setup failed: {e}")
    ports = {k: free_port() for k in FLEET}
    # every 2 s: a TCG guest answers in tens of milliseconds, but its
    # vCPUs are one host thread each on a shared machine
    prom = Prometheus({"kscope": {
        "targets": [f"127.0.0.1:{ports[k]}" for k in FLEET]}},
        interval="2s")
    runs, errs, threads = {}, {}, []

    def one(label):
        try:
            runs[label] = vmrun.boot(
                kernels[label], initrd, base / label, only=["export_fleet"],
                hostfwd=[(ports[label], 9961)],
                append_extra=f"ks.fleet=1 ks.fleet_hold={HOLD} "
                f"ks.fleet_writes={WRITES[label]}", timeout=900)
        except Exception as e:
            errs[label] = e
    for k in FLEET:
        t = threading.Thread(target=one, args=(k,))
        t.start()
        threads.append(t)
    st = {"base": base, "ports": ports, "prom": prom, "runs": runs,
          "errs": errs, "threads": threads, "kernels": kernels}
    try:
        yield st
    finally:
        for t in threads:
            t.join()
        prom.stop()
        lock.__exit__(None, None, None)


def wait_truths(fleet, timeout=600):
    end = time.monotonic() + timeout
    got = {}
    while time.monotonic() < end:
        for k in FLEET:
            t = truths(fleet["base"] / k / "results.b64")
            if "ERROR" in t:
                pytest.fail(f"guest {k}: {t['ERROR']}", pytrace=False)
            if "TRUTH" in t:
                got[k] = t["TRUTH"]
        if len(got) == len(FLEET):
            return got
        if not any(t.is_alive() for t in fleet["threads"]):
            break
        time.sleep(1)
    detail = "; ".join(f"{k}: {r.error} (console {r.console})"
                       for k, r in fleet["runs"].items())
    pytest.fail(f"no truth from {set(FLEET) - set(got)} "
                f"({fleet['errs'] or detail})", pytrace=False)


def test_fleet_prometheus_scrapes_both_guests(fleet):
    truth = wait_truths(fleet)
    prom = fleet["prom"]
    inst = {k: f"127.0.0.1:{p}" for k, p in fleet["ports"].items()}
    prom.targets_up(len(FLEET), timeout=60)

    # each instance is the guest it claims to be
    for k in FLEET:
        bi = prom.query(f'kscope_build_info{{instance="{inst[k]}"}}')
        assert len(bi) == 1, bi
        assert bi[0][0]["kernel"].startswith(k + "."), (k, bi)

    want_pages = {k: truth[k]["numa_after"] - truth[k]["numa_before"]
                  for k in FLEET}
    want_runs = {k: truth[k]["stat_refresh_writes"] * truth[k]["cpus"]
                 for k in FLEET}
    for k in FLEET:
        assert truth[k]["workload"]["pages_moved"] > 100, truth[k]

    def per_instance(q):
        return {m["instance"]: v for m, v in prom.query(q)}

    # the guests' last collection lands within a few scrapes
    end = time.monotonic() + 60
    while True:
        pages = per_instance("sum by (instance) "
                             "(kscope_numa_migrated_pages_total)")
        runs = per_instance('sum by (instance) (kscope_workqueue_execution_'
                            'seconds_count{function="refresh_vm_stats"})')
        ok = all(abs(pages.get(inst[k], -1e9) - want_pages[k]) <=
                 TOLERANCE_PAGES and runs.get(inst[k]) == want_runs[k]
                 for k in FLEET)
        if ok or time.monotonic() > end:
            break
        time.sleep(1)
    for k in FLEET:
        assert abs(pages.get(inst[k], -1e9) - want_pages[k]) <= \
            TOLERANCE_PAGES, (f"{k}: kscope {pages.get(inst[k])} pages, "
                              f"guest /proc/vmstat +{want_pages[k]}")
        assert runs.get(inst[k]) == want_runs[k], \
            (f"{k}: refresh_vm_stats ran {runs.get(inst[k])} times, "
             f"the guest wrote {truth[k]['stat_refresh_writes']} x "
             f"{truth[k]['cpus']} CPUs")
    # one query over the fleet: the sum of both machines
    total = prom.value('sum(kscope_workqueue_execution_seconds_count'
                       '{function="refresh_vm_stats"})')
    assert total == sum(want_runs.values()), (total, want_runs)
    total = prom.value("sum(kscope_numa_migrated_pages_total)")
    assert abs(total - sum(want_pages.values())) <= \
        TOLERANCE_PAGES * len(FLEET), (total, want_pages)
    fleet["figures"] = {"pages": pages, "want_pages": want_pages,
                        "runs": runs, "want_runs": want_runs}
    print(json.dumps(fleet["figures"]))


def test_fleet_guests_exit_cleanly(fleet):
    """After the hold, kscope export stopped on SIGTERM with status 0 in
    each guest and the VM powered off by itself."""
    for t in fleet["threads"]:
        t.join()
    assert not fleet["errs"], fleet["errs"]
    for k in FLEET:
        r = fleet["runs"][k]
        assert not r.error, f"{k}: {r.error}\n{r.tail()}"
        rc, d = vmrun.result(r, "cases/export_fleet/default")
        err = (d / "out" / "export.err").read_text(errors="replace") \
            if (d / "out" / "export.err").exists() else "(none)"
        assert rc == 0, f"{k}: export_fleet exited {rc}\n{err}\n" \
            + r.case_console("cases/export_fleet/default")
