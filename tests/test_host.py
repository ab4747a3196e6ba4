# SPDX-License-Identifier: GPL-2.0
"""Host integration tier: every case in tests/cases whose "# where:" names
host, in each declared attach mode, on the running kernel.

A mode the host kernel does not offer (fentry and kprobe here) is a visible
skip naming kscope's own reason; those modes are covered by the VM tier.
The case's NAME.py check compares kscope's JSON with ground truth.
"""
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "cases"
KSCOPE = ROOT / "build" / "kscope"
WL = ROOT / "build" / "workloads"

sys.path.insert(0, str(ROOT / "tests" / "vm"))
sys.path.insert(0, str(ROOT / "tests" / "cases"))
from vmrun import _header, load_check  # noqa: E402
import _schema  # noqa: E402


def _cases():
    for script in sorted(CASES_DIR.glob("*.sh")):
        text = script.read_text()
        tool = _header(text, "tool")
        if script.name.startswith("_") or not tool:
            continue
        where = _header(text, "where").split()
        if where and "host" not in where:
            continue
        # "default" (or no modes line): kscope picks the mode itself
        modes = [m if m != "default" else ""
                 for m in _header(text, "modes").split()] or [""]
        timeout = int(_header(text, "timeout") or 180)
        for mode in modes:
            yield pytest.param(script, tool, mode, timeout,
                               id=f"{script.stem}-{mode or 'default'}")


_features = None


def host_features():
    """kscope features -j, once: which modes each tool has here."""
    global _features
    if _features is None:
        out = subprocess.run([str(KSCOPE), "features", "-j"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        _features = {}
        for o in _schema.feature_lines(out.stdout):
            _features[o["tool"]] = o
    return _features


def test_expected_modes():
    """kscope offers at least the modes tests/expected_modes.py says this
    host's kernel allows (a mode wrongly called unavailable would turn its
    cases into skips)."""
    if os.geteuid() != 0:
        pytest.skip("needs root (BPF)")
    from expected_modes import missing
    lost = missing(host_features().values(), "host")
    assert not lost, "kscope offers less than expected:\n" + "\n".join(lost)


@pytest.mark.parametrize("script,tool,mode,timeout", list(_cases()))
def test_host_case(script, tool, mode, timeout):
    if os.geteuid() != 0:
        pytest.skip("needs root (BPF)")
    if mode:
        feats = host_features()
        assert tool in feats, f"kscope features does not list {tool}"
        m = feats[tool]["modes"].get(mode)
        if m is None:
            pytest.fail(f"{tool} has no mode {mode} in kscope features")
        if not m["available"]:
            pytest.skip(f"{mode} unavailable on the host kernel: {m['why']}")
    out = pathlib.Path(tempfile.mkdtemp(prefix=f"ks-{script.stem}-"))
    env = dict(os.environ, KSCOPE=str(KSCOPE), WL=str(WL), OUT=str(out),
               MODE=mode, KS_ENV="host")
    # its own session: whatever the case leaves behind (a kscope it
    # started, after a failure or a timeout) is killed with it below
    sh = subprocess.Popen(["sh", str(script)], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          start_new_session=True)
    try:
        try:
            stdout, stderr = sh.communicate(timeout=timeout)
        finally:
            try:
                os.killpg(sh.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            sh.wait()
        p = subprocess.CompletedProcess(sh.args, sh.returncode, stdout,
                                        stderr)
        if p.returncode == 77:
            pytest.skip((out / "skip").read_text().strip()
                        if (out / "skip").exists() else "case skipped")
        assert p.returncode == 0, (
            f"case exited {p.returncode}\n--- stdout\n{p.stdout}\n"
            f"--- stderr\n{p.stderr}")
        load_check(script.with_suffix(".py")).check(out, "host", mode)
        # every kscope line the case wrote, read by its check or not
        _schema.sweep(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)
