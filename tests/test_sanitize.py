# SPDX-License-Identifier: GPL-2.0
"""kscope's user-space half under AddressSanitizer + UBSan (build/asan,
`make asan`) and under valgrind: real runs of every tool on the live
kernel, with workloads feeding the lock tools and memleak's user mode, so
that reports, interval takes, stack symbolization and the JSON writer all
run.  A run passes when it exits as expected and the checker found
nothing: no AddressSanitizer/LeakSanitizer report, no UBSan runtime error,
no valgrind error (its own exit code), suppressions aside (only
tests/valgrind.supp's bpf(2) parameter entries, a limit of valgrind's
syscall model inside libbpf)."""
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSCOPE = ROOT / "build" / "kscope"
ASAN_KSCOPE = ROOT / "build" / "asan" / "kscope"
WL = ROOT / "build" / "workloads"
SUPP = ROOT / "tests" / "valgrind.supp"
sys.path.insert(0, str(ROOT / "tests" / "cases"))
import _schema  # noqa: E402

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (BPF)")

# (arguments, expected exit status); {WL} and {TMP} are filled in
RUNS = [
    (["features", "-j"], 0),
    (["kmem", "-d", "1", "-s", "-j"], 0),
    (["kmem", "0.2", "3"], 0),                # interval takes, text
    (["kmem", "--pprof", "{TMP}/k.pb.gz", "0.2", "3"], 0),   # profiles
    (["kpages", "-j", "0.3", "2"], 0),
    (["slabratetop", "-C", "-r", "5", "0.3", "2"], 0),
    (["workq", "-Q", "-d", "1", "-j"], 0),
    (["numamove", "-d", "0.5"], 0),
    (["mlock", "-s", "-H", "0.3", "3"], 0),
    (["spinlock", "-j", "-s", "0.3", "3"], 0),
    (["memleak", "-d", "1"], 0),
    (["memleak", "-j", "--pprof", "{TMP}/m.pb.gz", "--", "{WL}/dyn_leaker",
      "{TMP}/truth.json"], 0),
    (["report", "-d", "1"], 0),
    (["report", "-d", "1", "-j"], 0),
    (["report", "-d", "2.5", "-Q", "--html", "{TMP}/report.html"], 0),
    (["mheld", "-d", "1"], None),             # 1 where no fentry/kprobes
    (["kmem", "-p", "999999999"], 1),
    (["kmem", "-d", "abc"], 2),
]


class Contention:
    """Lock contention while the tools run: writers on one pipe (mutex)
    and on one file's owner (rwlock)."""

    def __enter__(self):
        self.p = [subprocess.Popen([str(WL / w), "lksan", n, "3s"],
                                   stdout=subprocess.DEVNULL)
                  for w, n in (("pipe_writers", "4"), ("lock_fown", "2"))]
        return self

    def __exit__(self, *exc):
        for p in self.p:
            p.kill()
            p.wait()


def expected_ok(rc, want):
    if want is None:        # mheld: runs, or refuses in one line
        return rc in (0, 1)
    return rc == want


def check_json(args, p):
    """What a -j run printed matches its schema, as in every other test."""
    if "-j" not in args or p.returncode != 0:
        return
    where = "kscope " + " ".join(args)
    if args[0] == "features":
        _schema.feature_lines(p.stdout, where)
    else:
        assert _schema.report_lines(p.stdout, where), f"{where}: no line"


def run_checked(cmd, args, env, timeout):
    tmp = tempfile.mkdtemp(prefix="ks-san-")
    argv = [a.replace("{WL}", str(WL)).replace("{TMP}", tmp) for a in args]
    with Contention():
        return subprocess.run(cmd + argv, capture_output=True, text=True,
                              env=env, timeout=timeout)


@needs_root
@pytest.mark.parametrize("args,want", RUNS, ids=[" ".join(a) for a, _ in RUNS])
def test_asan(args, want):
    assert ASAN_KSCOPE.exists(), "build/asan/kscope missing: run `make asan`"
    env = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:exitcode=99:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98")
    p = run_checked([str(ASAN_KSCOPE)], args, env, 120)
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:"):
        assert bad not in p.stderr, p.stderr[-4000:]
    assert expected_ok(p.returncode, want), \
        (p.returncode, p.stderr[-2000:])
    check_json(args, p)


# valgrind is slow (libbpf parses the kernel's BTF under it): a few runs
# that cover the shared paths
VALGRIND_RUNS = [
    (["kmem", "-s", "-j", "0.5", "2"], 0),
    (["mlock", "-s", "-H", "0.5", "2"], 0),
    (["memleak", "-j", "--pprof", "{TMP}/m.pb.gz", "--", "{WL}/dyn_leaker",
      "{TMP}/truth.json"], 0),
]


@needs_root
@pytest.mark.parametrize("args,want", VALGRIND_RUNS,
                         ids=[" ".join(a) for a, _ in VALGRIND_RUNS])
def test_valgrind(args, want):
    cmd = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
           "--errors-for-leak-kinds=definite", f"--suppressions={SUPP}",
           str(KSCOPE)]
    p = run_checked(cmd, args, dict(os.environ), 300)
    errors = [l for l in p.stderr.splitlines()
              if l.startswith("==") and "WARNING" not in l]
    assert p.returncode == want and not errors, \
        (p.returncode, "\n".join(errors[:60]))
    check_json(args, p)


@needs_root
def test_asan_export(tmp_path):
    """kscope export under ASan + UBSan: scrapes in both formats, gzip,
    refused requests, a web-config reload, then SIGTERM."""
    import base64
    import signal
    from export_lib import Exporter, get
    assert ASAN_KSCOPE.exists(), "build/asan/kscope missing: run `make asan`"
    web = tmp_path / "web.yml"
    # bcrypt (cost 4) of "s3cret"
    web.write_text("basic_auth_users:\n  alice: $2b$04$Y0ZWK.Ze/pbReNUkmAHMj"
                   ".Se7uLFsXEkpbf8OPyI5ZFGSMnCPJWUq\n")
    env = dict(os.environ,
               ASAN_OPTIONS="detect_leaks=1:exitcode=99:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:exitcode=98")
    good = {"Authorization": "Basic " +
            base64.b64encode(b"alice:s3cret").decode()}
    with Contention():
        ex = Exporter("--interval", "0.2", "--label", "comm",
                      "--max-series", "50", "--web-config", str(web),
                      binary=ASAN_KSCOPE, env=env, timeout=120)
        try:
            for hdrs in ({}, {"Accept": "application/openmetrics-text"},
                         {"Accept-Encoding": "gzip"}):
                st, _, _ = get(ex.url(), dict(good, **hdrs))
                assert st == 200
                time.sleep(0.3)
            assert get(ex.url())[0] == 401
            assert get(ex.url("/nothing"), good)[0] == 404
            assert get(ex.url("/debug/pprof/kmem?seconds=x"), good)[0] == 400
            ex.p.send_signal(signal.SIGHUP)
            time.sleep(1)
            assert get(ex.url(), good)[0] == 200
        finally:
            ex.stop(timeout=30)
    err = ex.stderr()
    for bad in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                "runtime error:"):
        assert bad not in err, err[-4000:]
    assert ex.p.returncode == 0, (ex.p.returncode, err[-2000:])
