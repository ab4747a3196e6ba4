# SPDX-License-Identifier: GPL-2.0
"""VM tier: the integration cases on Debian's 6.1 and 6.12 kernels.

The host kernel refuses fentry and has no kprobes, so those attach modes are
tested here, in QEMU/TCG guests booted from an initramfs (tests/vm/).  One
session fixture fetches the kernels, builds the initramfs and boots every
kernel at once; then one pytest test per (kernel, case, mode) checks the
artifacts the guest sent back with the case's own tests/cases/NAME.py.

Every VM is the two-node NUMA configuration: it costs nothing over a one-node
VM, so the cases that need NUMA and those that don't share one boot.

Environment: KSCOPE_SKIP_VM=1 skips the tier visibly (refused when CI=true);
KSCOPE_VM_KERNELS, KSCOPE_VM_ONLY, KSCOPE_VM_TIMEOUT, KSCOPE_VM_CACHE, ...:
see tests/vm/README.md.
"""
import importlib.util
import json
import os
import pathlib
import re
import sys
import time
import traceback

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "vm"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "cases"))
import vmrun  # noqa: E402
import _schema  # noqa: E402

CI = os.environ.get("CI", "").lower() == "true"
SKIP = os.environ.get("KSCOPE_SKIP_VM", "") not in ("", "0")

LABELS = vmrun.selected_labels()
CASES = vmrun.discover_cases()


def _tail(path: pathlib.Path, n=30) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(none)"
    return "\n".join(lines[-n:]) if lines else "(empty)"


@pytest.fixture(scope="session")
def vm_runs(request):
    if SKIP:
        if CI:
            pytest.fail("KSCOPE_SKIP_VM is set but CI=true: the VM tier "
                        "may not be skipped in CI")
        pytest.skip("VM tier skipped by KSCOPE_SKIP_VM="
                    + os.environ["KSCOPE_SKIP_VM"])
    tr = request.config.pluginmanager.getplugin("terminalreporter")
    capman = request.config.pluginmanager.getplugin("capturemanager")

    def say(msg):
        # progress of a minute-long fixture belongs on the terminal, not in
        # the captured output of whichever test happened to trigger it
        if tr is None:
            return
        if capman is None:
            tr.write_line(msg)
            return
        with capman.global_and_fixture_disabled():
            tr.write_line(msg)

    t0 = time.monotonic()
    base = vmrun.workdir()
    try:
        # held for the session: later tests read results from the workdir
        lock = vmrun.WorkdirLock(base, log=say).__enter__()
        request.addfinalizer(lambda: lock.__exit__(None, None, None))
        vmrun.ensure_host_tools(log=say)
        kernels = vmrun.fetch_kernels(LABELS)
        initrd = vmrun.build_initramfses(LABELS, base)
        for p in sorted(set(initrd.values())):
            say(f"VM tier: kscope in {p.name}: " + vmrun.initramfs_kscope(p))
        say("VM tier: booting " + ", ".join(
            f"{k.label} ({k.package} {k.version})" for k in kernels.values())
            + " under QEMU/TCG, in parallel")
        runs = vmrun.run_kernels(kernels, initrd, base, cases={
            k: vmrun.cases_for(k, CASES) for k in LABELS})
    except vmrun.VMUnavailable as e:
        if CI:
            pytest.fail(f"VM tier cannot run in CI: {e}")
        pytest.skip(f"VM tier cannot run on this machine: {e}")
    except vmrun.VMError as e:
        pytest.fail(f"VM tier setup failed: {e}")
    wall = round(time.monotonic() - t0, 1)

    summary = {"tier_wall_s": wall, "initramfs_kscope":
               {k: vmrun.initramfs_kscope(p) for k, p in initrd.items()},
               "vms": {k: r.summary() for k, r in runs.items()}}
    (base / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for k, r in runs.items():
        # kept beside the summary for the release/closing notes
        f = r.results / "meta" / "features.txt"
        if f.exists():
            (base / f"features-{k}.txt").write_text(f.read_text())
        say(f"VM {k}: boot to /init "
            + (f"{r.boot_s}s (guest uptime {r.init_uptime}s)"
               if r.booted else "NEVER")
            + f", VM wall {r.wall_s}s, "
            f"{'done' if r.done else 'INCOMPLETE: ' + str(r.error)}")
    say(f"VM tier: setup+boot+cases {wall}s; console logs and results "
        f"under {base}")
    return runs


def _run(vm_runs, label) -> "vmrun.VMRun":
    return vm_runs[label]


@pytest.mark.parametrize("label", LABELS)
def test_vm_boot(vm_runs, label):
    """The VM booted, ran every case and powered off by itself."""
    r = _run(vm_runs, label)
    if r.error:
        pytest.fail(f"{r.error}\nQEMU: {' '.join(r.cmdline)}\n"
                    f"--- console tail ({r.console}) ---\n{r.tail()}",
                    pytrace=False)
    assert r.booted and r.done


def _config(kernel) -> dict:
    out = {}
    try:
        for line in kernel.config.read_text().splitlines():
            k, sep, v = line.partition("=")
            if sep:
                out[k] = v
    except OSError:
        pass
    return out


@pytest.mark.parametrize("label", LABELS)
def test_vm_features(vm_runs, label):
    """kscope ran in the guest, and it agrees with the kernel that fentry and
    kprobe attach modes are there (the reason these VMs exist)."""
    r = _run(vm_runs, label)
    desc = vmrun.initramfs_kscope(vmrun.initramfs_path(vmrun.workdir(),
                                                       label))
    assert not desc.startswith("MISSING"), f"kscope not in the initramfs: {desc}"
    meta = r.results / "meta"
    if not (meta / "features.rc").exists():
        pytest.fail(f"VM {label} sent no features (booted={r.booted}): "
                    f"{r.error}\n--- console tail ---\n{r.tail()}",
                    pytrace=False)
    text = (meta / "features.txt").read_text(errors="replace")
    rc = (meta / "features.rc").read_text().strip()
    assert rc == "0", f"kscope features exited {rc} on {label}:\n{text}"

    # Independent evidence from the kernel itself, so a kscope that wrongly
    # calls fentry/kprobe unavailable can't pass by agreeing with itself.
    cfg = _config(r.kernel)
    for opt in ("CONFIG_DEBUG_INFO_BTF", "CONFIG_KPROBES",
                "CONFIG_BPF_EVENTS", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"):
        assert cfg.get(opt) == "y", f"{label}: {opt} is not y in {r.kernel.config}"
    env = dict(line.split("=", 1) for line in
               (meta / "env.txt").read_text().splitlines() if "=" in line)
    assert env.get("btf") == "yes", f"{label}: no /sys/kernel/btf/vmlinux in guest"
    assert env.get("kprobe_pmu") == "yes", f"{label}: no kprobe PMU in guest"

    lines = [ln for ln in (meta / "features.json").read_text().splitlines()
             if ln.strip()]
    assert lines, f"kscope features --json printed nothing on {label}"
    wrong = []
    for ln in lines:
        try:
            obj = json.loads(ln)
        except ValueError as e:
            pytest.fail(f"features --json line is not JSON ({e}): {ln!r}")
        try:
            _schema.check_features(obj, f"kscope features -j on {label}")
        except AssertionError as e:
            pytest.fail(str(e), pytrace=False)
        for mode in ("fentry", "kprobe"):
            m = obj.get("modes", {}).get(mode)
            # A tool may decline a mode by design ("supported": false, e.g.
            # kmem's tracepoints already see everything); that says nothing
            # about the kernel.  A mode it offers must be available here.
            if m is None or m.get("supported", True) is False:
                continue
            # numamove's functions exist only with NUMA balancing, which
            # PREEMPT_RT kernels lack (checked in the kernel's config)
            if obj.get("tool") == "numamove" and \
                    cfg.get("CONFIG_NUMA_BALANCING") != "y":
                continue
            if not m.get("available"):
                wrong.append(f"{obj.get('tool')}: {mode}: {m.get('why')}")
    assert not wrong, (f"kscope says fentry/kprobe unavailable on {label}, "
                       "which has both:\n" + "\n".join(wrong)
                       + "\n--- kscope features ---\n" + text)


# what a kernel says when something went wrong under it: warnings, bugs,
# oopses, sanitizer reports, RCU stalls and soft lockups
KERNEL_TROUBLE = re.compile(
    r"WARNING:|BUG:|Oops|general protection fault|KASAN|UBSAN|"
    r"rcu: INFO: .*detected stall|detected stalls on CPUs|soft lockup|"
    r"hung_task|Call Trace:|kernel BUG")


@pytest.mark.parametrize("label", LABELS)
def test_vm_kernel_log(vm_runs, label):
    """The guest kernel's log after every case ran: no warning, BUG,
    oops, sanitizer report or RCU stall (a BPF program or the way kscope
    drives the kernel must not provoke one)."""
    r = _run(vm_runs, label)
    f = r.results / "final" / "dmesg.txt"
    if not f.exists():
        pytest.fail(f"VM {label} sent no kernel log (booted={r.booted}): "
                    f"{r.error}\n--- console tail ---\n{r.tail()}",
                    pytrace=False)
    bad = [ln for ln in f.read_text(errors="replace").splitlines()
           if KERNEL_TROUBLE.search(ln)]
    assert not bad, f"kernel log of {label}:\n" + "\n".join(bad[:40])


@pytest.mark.parametrize("label", LABELS)
def test_vm_expected_modes(vm_runs, label):
    """kscope offers at least the modes tests/expected_modes.py says this
    kernel allows (a mode wrongly called unavailable would turn its cases
    into skips)."""
    from expected_modes import missing
    r = _run(vm_runs, label)
    meta = r.results / "meta"
    lines = [json.loads(ln) for ln in
             (meta / "features.json").read_text().splitlines() if ln.strip()]
    lost = missing(lines, label)
    assert not lost, (f"kscope offers less than expected on {label}:\n" +
                      "\n".join(lost))


def _params():
    for label in LABELS:
        for c in vmrun.cases_for(label, CASES):
            for mode in c.modes:
                yield pytest.param(label, c, mode,
                                   id=f"{label}-{c.kind}/{c.name}-{mode}")


@pytest.mark.parametrize("label,case,mode", list(_params()))
def test_vm_case(vm_runs, label, case, mode):
    r = _run(vm_runs, label)
    rel = case.rel(mode)
    rc, d = vmrun.result(r, rel)
    if rc is None:
        # the console tail is in test_vm_boot's failure; don't repeat it
        # for every case the VM never reached
        pytest.fail(f"VM {label} sent no result for {rel}: "
                    + (f"{r.error} (console tail: test_vm_boot[{label}], "
                       f"{r.console})" if r.error else
                       "the guest did not run it (check its header)"),
                    pytrace=False)
    out = d / "out"
    if rc == 77:
        why = (out / "skip").read_text(errors="replace").strip() \
            if (out / "skip").exists() else "(no reason in $OUT/skip)"
        pytest.skip(f"{label} {case.name} {mode}: {why}")

    def context():
        t = "timed out; " if (d / "timeout").exists() else ""
        return (f"\n--- {t}stderr tail ---\n{_tail(d / 'stderr')}"
                f"\n--- stdout tail ---\n{_tail(d / 'stdout', 15)}"
                f"\n--- console while the case ran ---\n"
                f"{r.case_console(rel)}")
    if rc != 0:
        pytest.fail(f"{case.script.name} exited {rc} on {label} in mode "
                    f"{mode or 'default'}" + context(), pytrace=False)
    chk = case.check_module()
    if not chk.exists():
        # the script is then its own check: exit 0 is the verdict
        return
    mod = vmrun.load_check(chk)
    env = f"vm-{label}"
    failure = None
    try:
        mod.check(out, env, "" if mode == "default" else mode)
        # every kscope line the case wrote, read by its check or not
        _schema.sweep(out)
    except AssertionError as e:
        failure = (f"{chk.name} check failed on {env} mode {mode}: {e}\n"
                   + traceback.format_exc(limit=-3))
    # failed outside the except block, so pytest doesn't print the
    # AssertionError a second time as "During handling of ..."
    if failure:
        pytest.fail(failure + context(), pytrace=False)
