# SPDX-License-Identifier: GPL-2.0
"""The systemd unit kscope-export.service that `make install` installs:
systemd-analyze verify and security read it; kscope export runs with
exactly its capability bounding set (and loses something without each
one); every system call and socket family kscope export uses is one its
SystemCallFilter= and RestrictAddressFamilies= allow.

There is no systemd as PID 1 on these machines (containers), so the unit
is not started by systemd itself: its capability set is applied with
capsh, its system call filter checked against what strace sees."""
import os
import pathlib
import re
import shutil
import signal
import subprocess
import time

import pytest

from export_lib import Exporter, get

ROOT = pathlib.Path(__file__).resolve().parent.parent
UNIT_IN = ROOT / "dist" / "systemd" / "kscope-export.service.in"
ANALYZE = shutil.which("systemd-analyze")

root_only = pytest.mark.skipif(os.geteuid() != 0,
                               reason="needs root (BPF)")


def unit_settings():
    """{key: [values]} of the unit's [Service] section."""
    out, sec = {}, None
    for line in UNIT_IN.read_text().splitlines():
        if line.startswith("["):
            sec = line.strip("[]")
        elif sec == "Service" and "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out.setdefault(k, []).append(v)
    return out


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """`make install` into a scratch prefix."""
    prefix = tmp_path_factory.mktemp("prefix")
    subprocess.run(["make", "-s", "-C", str(ROOT), "install",
                    f"PREFIX={prefix}"], check=True, capture_output=True)
    return prefix


@pytest.mark.skipif(not ANALYZE, reason="no systemd-analyze (package "
                    "systemd)")
def test_unit_installed_and_verifies(installed):
    unit = installed / "lib" / "systemd" / "system" / \
        "kscope-export.service"
    text = unit.read_text()
    assert f"ExecStart={installed}/sbin/kscope export" in text, text
    env = dict(os.environ, MANPATH=str(installed / "share" / "man"))
    r = subprocess.run([ANALYZE, "verify", str(unit)], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
    # and verify does look: without the installed man page it fails
    r = subprocess.run([ANALYZE, "verify", str(unit)],
                       env=dict(os.environ, MANPATH="/nonexistent"),
                       capture_output=True, text=True)
    assert r.returncode != 0 and "kscope-export(8)" in r.stderr, r.stderr
    r = subprocess.run([ANALYZE, "security", "--offline=yes", str(unit)],
                       env=env, capture_output=True, text=True)
    m = re.search(r"Overall exposure level for kscope-export.service: "
                  r"([0-9.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    # 0 best .. 10 worst; systemd calls up to 3.9 "OK"
    assert float(m.group(1)) <= 3.5, r.stdout


def test_unit_hardening_options():
    s = unit_settings()
    for k, v in [("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                 ("PrivateTmp", "yes"), ("PrivateDevices", "yes"),
                 ("NoNewPrivileges", "yes"), ("ProtectKernelModules", "yes"),
                 ("ProtectControlGroups", "yes"),
                 ("MemoryDenyWriteExecute", "yes"),
                 ("RestrictNamespaces", "yes"),
                 ("SystemCallArchitectures", "native")]:
        assert s.get(k) == [v], (k, s.get(k))
    # these two break it (documented in the unit): ProtectKernelTunables
    # hides /proc/kallsyms, ProtectKernelLogs drops CAP_SYSLOG
    assert "ProtectKernelTunables" not in s
    assert "ProtectKernelLogs" not in s


def all_caps():
    r = subprocess.run(["capsh", "--print"], capture_output=True,
                       text=True, check=True)
    m = re.search(r"^Bounding set =(.*)$", r.stdout, re.M)
    return [c for c in m.group(1).strip().split(",") if c]


def run_with_caps(keep):
    """kscope export as root with only `keep` in its bounding set (as
    systemd's CapabilityBoundingSet= leaves it): (metrics text, stderr)."""
    keep = {c.lower() for c in keep}
    drop = [c for c in all_caps() if c not in keep]
    wrapper = ROOT / "build" / "caps-wrapper.sh"
    wrapper.write_text("#!/bin/sh\nexec capsh --drop=%s -- -c "
                       "'exec \"$0\" \"$@\"' %s \"$@\"\n" %
                       (",".join(drop), ROOT / "build" / "kscope"))
    wrapper.chmod(0o755)
    ex = Exporter("--interval", "0.5", binary=wrapper)
    try:
        time.sleep(2.5)
        st, _, body = get(ex.url())
        assert st == 200
        status = pathlib.Path(f"/proc/{ex.p.pid}/status").read_text()
    finally:
        ex.stop()
    bnd = int(re.search(r"CapBnd:\s*([0-9a-f]+)", status).group(1), 16)
    return body.decode(), ex.stderr(), bnd


def tools_up(text):
    return {m.group(1) for m in re.finditer(
        r'^kscope_tool_up\{tool="([^"]+)".*\} 1$', text, re.M)}


def hex_sites(text):
    return [ln for ln in text.splitlines()
            if ln.startswith("kscope_kmem_allocations_total{") and
            'site="0x' in ln]


def stats_sysctl():
    return pathlib.Path("/proc/sys/kernel/bpf_stats_enabled").read_text() \
        .strip()


@root_only
def test_unit_capabilities_are_enough_and_each_is_needed():
    caps = unit_settings()["CapabilityBoundingSet"][0].split()
    assert set(caps) == {"CAP_BPF", "CAP_PERFMON", "CAP_SYSLOG"}, caps
    full = Exporter("--interval", "0.5")
    try:
        time.sleep(2.5)
        want = tools_up(get(full.url())[2].decode())
    finally:
        full.stop()
    assert want, "no tool up as root"

    text, err, bnd = run_with_caps(caps)
    assert bin(bnd).count("1") == len(caps), hex(bnd)
    assert tools_up(text) == want, (want, err)
    assert "kscope_kmem_allocations_total{" in text
    assert not hex_sites(text), hex_sites(text)[:3]
    # BPF run-time statistics: it cannot enable them itself (that takes
    # CAP_SYS_ADMIN) and says so; they are there exactly while the
    # kernel counts (kernel.bpf_stats_enabled, 1 also while another
    # process holds a BPF_ENABLE_STATS fd)
    assert "cannot enable BPF run-time statistics" in err, err
    assert ("kscope_bpf_program_runs_total{" in text) == \
        (stats_sysctl() == "1"), stats_sysctl()
    # and with CAP_SYS_ADMIN it enables them
    text, err, _ = run_with_caps(set(caps) | {"CAP_SYS_ADMIN"})
    assert "kscope_bpf_program_runs_total{" in text, err

    # without CAP_SYSLOG: kernel addresses are hidden, sites are hex
    text, err, _ = run_with_caps(set(caps) - {"CAP_SYSLOG"})
    assert hex_sites(text), "sites resolved without CAP_SYSLOG"
    assert tools_up(text) == want
    # without CAP_PERFMON or CAP_BPF no tool attaches: it exits 1
    for cap in ("CAP_PERFMON", "CAP_BPF"):
        with pytest.raises(AssertionError, match="exited 1"):
            run_with_caps(set(caps) - {cap})


def syscall_sets():
    """{"@group": set of syscalls, groups expanded}."""
    r = subprocess.run([ANALYZE, "syscall-filter"], capture_output=True,
                       text=True, check=True)
    groups, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("@"):
            cur = line.split()[0]
            groups[cur] = set()
        elif cur and line.startswith("    ") and \
                not line.strip().startswith("#"):
            groups[cur].add(line.strip())

    def expand(g, seen=()):
        out = set()
        for x in groups.get(g, ()):
            out |= expand(x, seen + (g,)) if x.startswith("@") and \
                x not in seen else {x}
        return out
    return expand


@root_only
@pytest.mark.skipif(not ANALYZE or not shutil.which("strace"),
                    reason="needs systemd-analyze and strace")
def test_unit_syscall_filter_allows_what_it_uses(tmp_path):
    """Every system call kscope export makes (start, every tool attached,
    scrapes in both formats with gzip, a SIGHUP, SIGTERM) is allowed by
    the unit's SystemCallFilter=, and every socket family by
    RestrictAddressFamilies=."""
    s = unit_settings()
    expand = syscall_sets()
    allowed = set()
    for word in s["SystemCallFilter"][0].split():
        allowed |= expand(word) if word.startswith("@") else {word}
    families = set(s["RestrictAddressFamilies"][0].split())
    log = tmp_path / "strace.log"
    wrapper = tmp_path / "kscope"
    wrapper.write_text(f"#!/bin/sh\nexec strace -f -qq -o {log} "
                       f"{ROOT / 'build' / 'kscope'} \"$@\"\n")
    wrapper.chmod(0o755)
    ex = Exporter("--interval", "0.5", binary=wrapper, timeout=120)
    try:
        for hdr in ({}, {"Accept": "application/openmetrics-text;"
                               "version=1.0.0", "Accept-Encoding": "gzip"}):
            assert get(ex.url(), hdr)[0] == 200
        assert get(ex.url("/"))[0] == 200
        # kscope is strace's child: signal it, not strace
        kid = int(pathlib.Path(f"/proc/{ex.p.pid}/task/{ex.p.pid}/"
                               "children").read_text().split()[0])
        os.kill(kid, signal.SIGHUP)     # a reload without a config
        time.sleep(1)
        os.kill(kid, signal.SIGTERM)
        ex.p.wait(30)
    finally:
        ex.stop(timeout=30)
    assert ex.p.returncode == 0, ex.stderr()
    used, fams = set(), set()
    for line in log.read_text(errors="replace").splitlines():
        m = re.match(r"\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if m and m.group(1) not in ("exit", "killed", "resumed"):
            used.add(m.group(1))
        m = re.match(r"\d+\s+socket\((AF_[A-Z0-9]+)", line)
        if m:
            fams.add(m.group(1))
    assert {"bpf", "perf_event_open", "accept4"} & used, sorted(used)
    assert used <= allowed, f"not allowed by the unit: {used - allowed}"
    assert fams <= families, fams
