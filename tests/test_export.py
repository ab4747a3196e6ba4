# SPDX-License-Identifier: GPL-2.0
"""kscope export on the host, read by the real engine: Debian's Prometheus
scrapes it every second on loopback, and PromQL through Prometheus' HTTP
API must return the ground truth of workloads (work items run, files
opened); promtool checks the exposition; bad input fails cleanly."""
import gzip
import http.client
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error

import pytest

from export_lib import (KSCOPE, PROMTOOL, Exporter, Prometheus, get,
                        online_cpus)

ROOT = pathlib.Path(__file__).resolve().parent.parent
WL = ROOT / "build" / "workloads"
sys.path.insert(0, str(ROOT / "tests" / "cases"))
import _schema  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (BPF)")


@pytest.fixture(scope="module")
def fleet():
    """One exporter with every tool, one Prometheus scraping it."""
    # --label comm multiplies kmem series: room for all of them here
    ex = Exporter("--interval", "0.5", "--label", "comm",
                  "--max-series", "100000")
    try:
        prom = Prometheus({"kscope": {"targets": [ex.target]}})
    except Exception:
        ex.stop()
        raise
    try:
        prom.targets_up(1)
        yield ex, prom
    finally:
        prom.stop()
        took = ex.stop()
        assert "report has no" not in ex.stderr(), ex.stderr()
        assert took < 1.0, f"kscope export took {took:.2f}s to exit on " \
            "SIGTERM"
        assert ex.p.returncode == 0, ex.p.returncode


def settle(prom, q, quiet=2.0, timeout=30):
    """q's value once it held still for `quiet` seconds of scrapes."""
    end = time.monotonic() + timeout
    last, since = prom.value(q, 0.0), time.monotonic()
    while time.monotonic() < end:
        time.sleep(0.5)
        v = prom.value(q, 0.0)
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return v
    raise AssertionError(f"{q} never held still: {last}")


def test_workqueue_executions_exact(fleet):
    """100 writes to stat_refresh run refresh_vm_stats exactly once per
    online CPU each (schedule_on_each_cpu), and nothing else queues it."""
    ex, prom = fleet
    q = 'sum(kscope_workqueue_execution_seconds_count' \
        '{function="refresh_vm_stats"})'
    before = settle(prom, q)
    for _ in range(100):
        try:
            with open("/proc/sys/vm/stat_refresh", "w") as f:
                f.write("1")
        except OSError:
            pass    # EINVAL about a negative counter: it ran anyway
    want = before + 100 * online_cpus()
    prom.wait(q, lambda v: v is not None and v >= want, 30,
              f"refresh_vm_stats executions (want {want})")
    got = settle(prom, q)
    assert got == want, f"{got - before} executions, expected 100 writes " \
        f"x {online_cpus()} CPUs"
    # the histogram's buckets account for every execution
    inf = prom.value('sum(kscope_workqueue_execution_seconds_bucket'
                     '{function="refresh_vm_stats",le="+Inf"})')
    assert inf == got


def label_text(raw: bytes) -> str:
    """A task name as kscope export writes it into a label value: UTF-8
    as is, other bytes and control bytes as the text \\xNN."""
    out, i = [], 0
    while i < len(raw):
        for n in (4, 3, 2, 1):
            try:
                ch = raw[i:i + n].decode("utf-8")
            except UnicodeDecodeError:
                continue
            if len(ch) == 1 and (ord(ch) >= 0x20 and ord(ch) != 0x7f):
                out.append(ch)
                i += n
                break
        else:
            out.append("\\x%02x" % raw[i])
            i += 1
    return "".join(out)


def test_opens_filp_and_comm(fleet):
    """N opens by a task with a hostile name: the filp cache counts at
    least N more allocations, and kmem's series of that comm (--label
    comm) exactly N struct file allocations of filp's size."""
    ex, prom = fleet
    comm = b'k"m\\\xffx\tq'
    q = 'sum(kscope_slab_allocations_total{cache="filp"})'
    before = prom.value(q, 0.0)
    out = subprocess.run([bytes(WL / "opener"), comm, b"5000"],
                         capture_output=True, text=True, check=True)
    t = json.loads(out.stdout)
    assert t["opens"] == 5000
    prom.wait(q, lambda v: v is not None and v - before >= t["opens"], 30,
              f"filp allocations (want >= {t['opens']} more than {before})")
    sel = (f'comm={json.dumps(label_text(comm))},kind="cache",'
           'site=~"(alloc_empty_file|__alloc_file).*"')
    n = prom.wait(f"sum(kscope_kmem_allocations_total{{{sel}}})",
                  lambda v: v is not None and v >= t["opens"], 30,
                  f"kmem filp allocations of {comm!r}")
    time.sleep(2)
    assert prom.value(f"sum(kscope_kmem_allocations_total{{{sel}}})") == \
        t["opens"]
    b = prom.value(f"sum(kscope_kmem_allocated_bytes_total{{{sel}}})")
    assert b == t["opens"] * t["filp_size"], (n, b, t)


def test_lock_wait_quantile_finite(fleet):
    """Contended pipe mutexes: histogram_quantile() over the lock wait
    histogram gives a finite number of seconds."""
    ex, prom = fleet
    # writers again and again until the query holds: one round can end
    # (and its waits leave the 10 s rate window) before Prometheus has
    # scraped twice on a fast, quiet machine
    p = subprocess.Popen(["sh", "-c", f"while :; do {WL / 'pipe_writers'} "
                          "ks_exp_lock 4 200000; done"],
                         stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        q = 'histogram_quantile(0.9, sum by (le) ' \
            '(rate(kscope_lock_wait_seconds_bucket[10s])))'
        v = prom.wait(q, lambda v: v is not None and v == v and
                      v not in (float("inf"), float("-inf")), 60,
                      "a finite 0.9 quantile of lock waits")
        assert 0 < v < 10, v
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def test_counters_never_go_backwards(fleet):
    ex, prom = fleet
    time.sleep(3)
    names = [n for n in prom.api("label/__name__/values")
             if n.startswith("kscope_") and
             n.endswith(("_total", "_bucket", "_count", "_sum"))]
    assert len(names) > 10, names
    for n in names:
        # per name: resets() drops the name, so names cannot be mixed
        v = prom.value(f"max(resets({n}[10m]))")
        assert v == 0, f"{n} went backwards {v} times"


def test_exposition_promtool_and_openmetrics(fleet):
    ex, prom = fleet
    st, hdr, body = get(ex.url())
    assert st == 200
    assert hdr["Content-Type"].startswith("text/plain; version=0.0.4")
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=body,
                       capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    text = body.decode()
    for fam in ("kscope_kmem_allocations_total", "kscope_tool_up",
                "kscope_build_info", "kscope_dropped_events_total",
                "kscope_bpf_program_runs_total",
                "kscope_workqueue_queue_latency_seconds_bucket",
                "kscope_memleak_outstanding_bytes",
                "kscope_collect_seconds_total", "process_open_fds",
                "process_resident_memory_bytes", "process_cpu_seconds_total"):
        assert f"\n{fam}" in text, f"{fam} missing"
    # what Prometheus asks for: OpenMetrics, gzipped
    st, hdr, body = get(ex.url(), {
        "Accept": "application/openmetrics-text;version=1.0.0,"
                  "application/openmetrics-text;version=0.0.1;q=0.75,"
                  "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        "Accept-Encoding": "gzip"})
    assert st == 200
    assert hdr["Content-Type"].startswith(
        "application/openmetrics-text; version=1.0.0")
    assert hdr.get("Content-Encoding") == "gzip"
    om = gzip.decompress(body).decode()
    assert om.endswith("# EOF\n")
    assert "# TYPE kscope_kmem_allocations counter" in om
    assert "# TYPE kscope_build info" in om
    # Prometheus scraped it that way and found no problem
    assert prom.value('up{job="kscope"}') == 1
    assert prom.value('scrape_samples_scraped{job="kscope"}') > 100


def test_tool_up_and_build_info(fleet):
    ex, prom = fleet
    up = {m["tool"]: (v, m) for m, v in prom.query("kscope_tool_up")}
    feats = subprocess.run([str(KSCOPE), "features", "-j"],
                           capture_output=True, text=True, check=True)
    for f in _schema.feature_lines(feats.stdout):
        avail = [m for m, d in f["modes"].items()
                 if d.get("available") and m != "uprobe"]
        assert f["tool"] in up, f["tool"]
        v, m = up[f["tool"]]
        assert v == (1 if avail else 0), (f["tool"], v, m, avail)
        if not avail:
            assert m.get("reason"), m
    bi = prom.query("kscope_build_info")
    assert len(bi) == 1 and bi[0][0]["kernel"] == os.uname().release


def go_pprof(url, tmp, *args):
    """go tool pprof (Debian's golang-go) fetching a profile itself: its
    -top text"""
    import shutil
    if not shutil.which("go"):
        pytest.skip("go tool pprof: golang-go is not installed "
                    "(make test-deps)")
    p = subprocess.run(["go", "tool", "pprof", "-top", "-nodefraction=0",
                        "-nodecount=1000000", *args, url],
                       capture_output=True, text=True, timeout=180,
                       env=dict(os.environ, PPROF_TMPDIR=str(tmp)))
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_pprof_endpoints(fleet, tmp_path):
    """go tool pprof reads /debug/pprof/kmem?seconds=N, /debug/pprof/memleak
    and /debug/pprof/locks: N opens by a named task during the kmem window
    are N filp allocations in its labelled samples; memleak's profile is
    the continuous run's outstanding kernel allocations; locks are mlock's
    and spinlock's waits, by tool label."""
    import re
    import sys
    import threading
    sys.path.insert(0, str(ROOT / "tests"))
    from pprof_decode import decode
    ex, _ = fleet
    comm = "ks_pp_export"
    res = {}

    def opens():
        time.sleep(2)
        out = subprocess.run([str(WL / "opener"), comm, "5000"],
                             capture_output=True, text=True, check=True)
        res.update(json.loads(out.stdout))

    th = threading.Thread(target=opens)
    th.start()
    try:
        top = go_pprof(ex.url("/debug/pprof/kmem?seconds=6"), tmp_path,
                       "-sample_index=alloc_objects",
                       f"-tagfocus=comm={comm}")
    finally:
        th.join()
    assert res["opens"] == 5000
    assert "Type: alloc_objects" in top, top
    # the profile pprof fetched (it keeps a copy), by the other decoder:
    # the stacks whose allocator was called from the filp site, in the
    # task's samples, are its opens (less what the report says it dropped)
    saved = list(tmp_path.glob("*.pb.gz"))
    assert len(saved) == 1, saved
    prof = decode(saved[0].read_bytes())
    assert prof["types"] == [("alloc_objects", "count"),
                             ("alloc_space", "bytes")]
    assert prof["duration_nanos"] == pytest.approx(6e9, rel=0.05)
    filp = mine = 0
    for smp in prof["samples"]:
        if smp["labels"]["comm"] != comm:
            continue
        mine += smp["values"][0]
        frames = [ln["function"] for loc in smp["locations"]
                  for ln in loc["lines"]]
        callers = [f for f in frames if not f.startswith("kmem_cache_alloc")]
        if callers and callers[0] in ("alloc_empty_file", "__alloc_file"):
            filp += smp["values"][0]
    m = re.search(r"Showing nodes accounting for (\d+),", top)
    assert m and int(m.group(1)) == mine, (top, mine)
    dropped = sum(int(d) for c in prof["comments"]
                  for d in re.findall(r"dropped (\d+) events", c))
    assert res["opens"] - dropped <= filp <= res["opens"], \
        (filp, res["opens"], dropped)

    top = go_pprof(ex.url("/debug/pprof/memleak"), tmp_path / "ml",
                   "-sample_index=inuse_space", "-unit=B")
    assert "Type: inuse_space" in top, top
    m = re.search(r"Total samples = (\d+)B", top)
    assert m and int(m.group(1)) > 0, top
    st, _, body = get(ex.url("/debug/pprof/memleak"))
    assert st == 200
    prof = decode(body)
    assert prof["types"] == [("inuse_objects", "count"),
                             ("inuse_space", "bytes")]
    assert prof["samples"] and all(
        loc["mapping"] is None or loc["mapping"]["file"] ==
        "[kernel.kallsyms]"
        for s in prof["samples"] for loc in s["locations"])

    st, _, body = get(ex.url("/debug/pprof/locks?seconds=1"))
    assert st == 200, body
    prof = decode(body)
    assert prof["types"] == [("contentions", "count"),
                             ("delay", "nanoseconds")]
    assert {s["labels"]["tool"] for s in prof["samples"]} <= \
        {"mlock", "spinlock"}
    assert prof["duration_nanos"] >= 1e9


def test_bpf_program_stats(fleet):
    """The kernel's run-time statistics of our programs count runs."""
    ex, prom = fleet
    v = prom.wait('sum(rate(kscope_bpf_program_runs_total{tool="kmem"}'
                  '[5s]))', lambda v: v is not None and v > 0, 30)
    assert v > 0
    t = prom.value('sum(kscope_bpf_program_run_seconds_total)')
    assert t is not None and t > 0


def test_max_series_folds_into_other():
    """--max-series bounds every family; the rest counts under "other"."""
    ex = Exporter("--tools", "slabratetop,kmem", "--max-series", "5",
                  "--interval", "0.3")
    try:
        time.sleep(1.5)
        st, _, body = get(ex.url())
        assert st == 200
        text = body.decode()
    finally:
        ex.stop()
    per = {}
    for line in text.splitlines():
        if line.startswith("kscope_slab_allocations_total{") or \
                line.startswith("kscope_kmem_allocations_total{"):
            per.setdefault(line.split("{")[0], []).append(line)
    for fam, lines in per.items():
        assert len(lines) <= 5, (fam, lines)
        assert any('"other"' in ln for ln in lines), (fam, lines)
    assert 'kscope_series_folded_total{family="kscope_slab_allocations_' \
        'total"}' in text


BAD = [
    (["--listen", "nonsense"], 2, "bad --listen"),
    (["--listen", "127.0.0.1:99999"], 2, "bad --listen"),
    (["--max-series", "0"], 2, "bad --max-series"),
    (["--label", "cgroup"], 2, "--label cgroup"),
    (["--label", "pid"], 2, "bad --label"),
    (["--tools", "kmem,nosuch"], 2, "unknown tool 'nosuch'"),
    (["--interval", "0"], 2, "bad --interval"),
    (["--web-config", "/nonexistent/web.yml"], 2, "/nonexistent/web.yml"),
    (["extra"], 2, "unexpected argument"),
]


@pytest.mark.parametrize("args,rc,msg", BAD, ids=[" ".join(b[0])
                                                    for b in BAD])
def test_bad_input(args, rc, msg):
    r = subprocess.run([str(KSCOPE), "export", *args], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == rc, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0], r.stderr


def test_no_http_library():
    """libmicrohttpd is opened by the exporter only (src/export/dl.h): where
    it cannot be loaded (here: its file replaced by an empty one in a
    private mount namespace) export says which library and package, at
    once, before loading any tool; every other command never maps it."""
    lib = os.path.realpath("/usr/lib/x86_64-linux-gnu/libmicrohttpd.so.12"
                           if os.uname().machine == "x86_64" else
                           "/usr/lib/aarch64-linux-gnu/libmicrohttpd.so.12")
    assert os.path.exists(lib), lib
    t0 = time.monotonic()
    r = subprocess.run(["unshare", "-m", "sh", "-c",
                        'mount --bind /dev/null "$0" && exec "$@"', lib,
                        str(KSCOPE), "export", "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "libmicrohttpd.so.12" in lines[0] and \
        "libmicrohttpd12" in lines[0], r.stderr
    assert time.monotonic() - t0 < 2, "failed only after loading tools"
    # the other commands run without it, and do not map it
    maps = subprocess.run(["unshare", "-m", "sh", "-c",
                           'mount --bind /dev/null "$0" && exec "$@"', lib,
                           str(KSCOPE), "features"],
                          capture_output=True, text=True, timeout=60)
    assert maps.returncode == 0, maps.stderr
    ldd = subprocess.run(["ldd", str(KSCOPE)], capture_output=True,
                         text=True).stdout
    assert "microhttpd" not in ldd and "gnutls" not in ldd, ldd


def test_port_in_use():
    ex = Exporter("--tools", "workq")
    try:
        r = subprocess.run([str(KSCOPE), "export", "--tools", "workq",
                            "--listen", ex.target], capture_output=True,
                           text=True, timeout=60)
    finally:
        ex.stop()
    assert r.returncode == 1, r
    assert "Address already in use" in r.stderr, r.stderr


# ---- TLS and basic auth (--web-config) ---------------------------------

# bcrypt (cost 10) of "kscope-test", and of "rotated"
HASH = "$2b$10$k4fPVJG1f/bEu8DQ/3IrT.lE5GnO9Iuu.z1L6gEJLplMpShs0ATvu"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1, a client certificate,
    and a second CA that signed nothing of ours."""
    d = tmp_path_factory.mktemp("pki")
    for ca in ("ca", "otherca"):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                "-subj", f"/CN=kscope test {ca}", "-keyout", f"{ca}.key",
                "-out", f"{ca}.crt", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                      ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                f"/CN=kscope {name}", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
                "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)
    return d


def tls_ctx(pki, ca="ca.crt", client=False, max_tls=None):
    ctx = ssl.create_default_context(cafile=str(pki / ca))
    if client:
        ctx.load_cert_chain(str(pki / "client.crt"), str(pki / "client.key"))
    if max_tls:
        ctx.maximum_version = max_tls
    return ctx


def auth(user, pw):
    import base64
    return {"Authorization": "Basic " +
            base64.b64encode(f"{user}:{pw}".encode()).decode()}


def test_tls_and_basic_auth(pki):
    web = pki / "web.yml"
    # relative file names: from the web config's directory
    web.write_text("tls_server_config:\n  cert_file: server.crt\n"
                   "  key_file: server.key\n"
                   f"basic_auth_users:\n  alice: {HASH}\n")
    ex = Exporter("--tools", "workq,slabratetop", "--web-config", str(web))
    prom = None
    try:
        assert ex.scheme == "https"
        ctx = tls_ctx(pki)
        st, hdr, _ = get(ex.url(), context=ctx)
        assert st == 401 and "Basic" in hdr["WWW-Authenticate"]
        assert get(ex.url(), auth("alice", "wrong"), ctx)[0] == 401
        assert get(ex.url(), auth("mallory", "kscope-test"), ctx)[0] == 401
        st, _, body = get(ex.url(), auth("alice", "kscope-test"), ctx)
        assert st == 200 and b"kscope_tool_up" in body
        # a certificate nobody we trust signed, and plain HTTP: refused
        assert isinstance(refused(ex.url(), auth("alice", "kscope-test"),
                                  tls_ctx(pki, "otherca.crt")),
                          ssl.SSLCertVerificationError)
        assert refused(f"http://{ex.target}/metrics",
                       auth("alice", "kscope-test"))
        # TLS 1.2 and 1.3 by default (exporter-toolkit's min_version)
        assert get(ex.url(), auth("alice", "kscope-test"),
                   tls_ctx(pki, max_tls=ssl.TLSVersion.TLSv1_2))[0] == 200

        # Prometheus with the right and the wrong credentials
        tls = {"ca_file": str(pki / "ca.crt")}
        prom = Prometheus({
            "good": {"targets": [ex.target], "scheme": "https",
                     "tls_config": tls, "basic_auth": {
                         "username": "alice", "password": "kscope-test"}},
            "badpass": {"targets": [ex.target], "scheme": "https",
                        "tls_config": tls, "basic_auth": {
                            "username": "alice", "password": "nope"}},
            "plain": {"targets": [ex.target]},
        })
        prom.wait('up{job="good"}', lambda v: v == 1, 30)
        prom.wait('count(up{job=~"badpass|plain"} == 0)', lambda v: v == 2,
                  30)
        assert prom.value('sum(kscope_tool_up{job="good"})') == 2
        assert prom.value('count(kscope_tool_up{job!="good"})') is None

        # SIGHUP: a broken file keeps the old configuration...
        web.write_text("tls_server_config:\n  cert_file: server.crt\n")
        ex.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the web configuration" in ex.stderr())
        assert "needs both cert_file and key_file" in ex.stderr()
        assert get(ex.url(), auth("alice", "kscope-test"), ctx)[0] == 200
        # ...a good one replaces it, on the same port
        web.write_text("tls_server_config:\n  cert_file: server.crt\n"
                       "  key_file: server.key\n"
                       "basic_auth_users:\n  bob: " + HASH + "\n")
        ex.p.send_signal(signal.SIGHUP)
        wait_for(lambda: "reloaded" in ex.stderr())
        assert get(ex.url(), auth("alice", "kscope-test"), ctx)[0] == 401
        assert get(ex.url(), auth("bob", "kscope-test"), ctx)[0] == 200
    finally:
        if prom:
            prom.stop()
        ex.stop()
    assert ex.p.returncode == 0, ex.stderr()


def test_tls_client_certificates(pki):
    web = pki / "mtls.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {pki}/server.crt\n"
                   f"  key_file: {pki}/server.key\n"
                   f"  client_ca_file: {pki}/ca.crt\n"
                   "  client_auth_type: RequireAndVerifyClientCert\n"
                   "  min_version: TLS13\n")
    ex = Exporter("--tools", "workq", "--web-config", str(web))
    try:
        st, _, body = get(ex.url(), context=tls_ctx(pki, client=True))
        assert st == 200 and b"kscope_tool_up" in body
        st, _, _ = get(ex.url(), context=tls_ctx(pki))
        assert st == 403
        # min_version TLS13: the server refuses a TLS 1.2 client
        assert isinstance(refused(ex.url(), context=tls_ctx(
            pki, client=True, max_tls=ssl.TLSVersion.TLSv1_2)), ssl.SSLError)
    finally:
        ex.stop()


def refused(url, headers=None, context=None):
    """Why a request failed below HTTP (TLS, connection); fails the test
    if it got an HTTP answer."""
    try:
        st, _, _ = get(url, headers, context)
    except urllib.error.URLError as e:
        return e.reason
    except (OSError, http.client.HTTPException) as e:
        return e
    raise AssertionError(f"{url}: HTTP {st}, expected a refused "
                         "connection")


def wait_for(pred, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


WEB_BAD = [
    ("tls_server_config:\n  cert_file: x.crt\n  key_file: x.key\n",
     "x.crt: No such file"),
    ("basic_auth_users:\n  alice: secret\n", "bcrypt"),
    ("tls_server_config: [\n", "YAML"),
]


@pytest.mark.parametrize("yaml,msg", WEB_BAD, ids=[m for _, m in WEB_BAD])
def test_bad_web_config(tmp_path, yaml, msg):
    web = tmp_path / "web.yml"
    web.write_text(yaml)
    r = subprocess.run([str(KSCOPE), "export", "--web-config", str(web)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2, r
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and msg in lines[0] and str(web) in lines[0], \
        r.stderr


def test_warns_beyond_loopback():
    """Every address, no TLS, no auth: a warning (and it still serves)."""
    r = subprocess.run([str(KSCOPE), "export", "--listen", "0.0.0.0:99999"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    ex = Exporter("--tools", "workq", timeout=60)
    ex.stop()
    p = subprocess.Popen([str(KSCOPE), "export", "--tools", "workq",
                          "--listen", "0.0.0.0:0"], stderr=subprocess.PIPE,
                         text=True)
    try:
        line = p.stderr.readline()
        assert "warning: listening on 0.0.0.0:0 beyond loopback" in line, \
            line
    finally:
        p.terminate()
        p.wait(10)


# ---- the names dashboards rely on -------------------------------------------

# issue 14 fixes these names, types and labels ("names fixed here so
# dashboards can rely on them"); (comm) only with --label comm
CONTRACT = {
    "kscope_kmem_allocations_total": ("counter", "kind site (comm)"),
    "kscope_kmem_allocated_bytes_total": ("counter", "kind site (comm)"),
    "kscope_page_allocations_total": ("counter", "site (comm)"),
    "kscope_page_allocated_bytes_total": ("counter", "site (comm)"),
    "kscope_slab_allocations_total": ("counter", "cache"),
    "kscope_slab_allocated_bytes_total": ("counter", "cache"),
    "kscope_lock_wait_seconds": ("histogram", "lock kind (comm)"),
    "kscope_lock_hold_seconds": ("histogram", "lock kind (comm)"),
    "kscope_workqueue_execution_seconds": ("histogram", "function"),
    "kscope_workqueue_queue_latency_seconds": ("histogram",
                                               "function workqueue"),
    "kscope_numa_migrations_total": ("counter", ""),
    "kscope_numa_migrated_pages_total": ("counter", ""),
    "kscope_numa_migration_seconds_total": ("counter", ""),
    "kscope_memleak_outstanding_bytes": ("gauge", "site"),
    "kscope_memleak_outstanding_allocations": ("gauge", "site"),
    "kscope_dropped_events_total": ("counter", "tool reason"),
    "kscope_bpf_program_runs_total": ("counter", "tool program"),
    "kscope_bpf_program_run_seconds_total": ("counter", "tool program"),
    "kscope_tool_up": ("gauge", "tool mode reason"),
    "kscope_build_info": ("info", "version kernel"),
    "kscope_series_folded_total": ("counter", "family"),
}


def test_metric_names_are_the_contract():
    """The code's own table (--metrics-reference) has every family the
    issue names, with that type and exactly those labels."""
    ref = subprocess.run([str(KSCOPE), "export", "--metrics-reference"],
                         capture_output=True, text=True, check=True).stdout
    have = {}
    for line in ref.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            labels = " ".join(x.strip().replace("`", "")
                              for x in cells[2].split(",") if x.strip())
            have[cells[0].strip("`")] = (cells[1], labels)
    for name, want in CONTRACT.items():
        assert have.get(name) == want, (name, have.get(name), want)
    # base units in the names
    for name, (typ, _) in have.items():
        if typ == "counter":
            assert name.endswith("_total"), name
        if "seconds" in name or "bytes" in name:
            assert re.search(r"_(seconds|bytes)(_total)?$", name), name


# ---- docs/export.md ------------------------------------------------------

DOC = ROOT / "docs" / "export.md"


def doc_block(after: str, lang: str) -> str:
    """The first ```lang block after the heading `after`."""
    text = DOC.read_text()
    rest = text[text.index(after):]
    start = rest.index(f"```{lang}\n") + len(lang) + 4
    return rest[start:rest.index("```", start)]


def test_doc_reference_current():
    ref = subprocess.run([str(KSCOPE), "export", "--metrics-reference"],
                         capture_output=True, text=True, check=True).stdout
    text = DOC.read_text()
    b = text.index("<!-- metrics-reference begin -->\n") + 33
    e = text.index("<!-- metrics-reference end -->")
    assert text[b:e] == ref, "docs/export.md's metric reference is out " \
        "of date: run `make export-reference`"


def test_doc_alert_rules(tmp_path):
    rules = tmp_path / "rules.yml"
    rules.write_text(doc_block("## Alerts", "yaml"))
    r = subprocess.run([PROMTOOL, "check", "rules", str(rules)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_doc_promql_runs(fleet):
    """Every PromQL example of the docs evaluates in Prometheus."""
    ex, prom = fleet
    block = doc_block("## PromQL", "promql")
    exprs, cur, depth = [], [], 0
    for line in block.splitlines():
        if not cur and (line.startswith("#") or not line.strip()):
            continue
        # an expression ends where its parentheses close
        cur.append(line.strip())
        depth += line.count("(") - line.count(")")
        if depth == 0:
            exprs.append(" ".join(cur))
            cur = []
    assert len(exprs) >= 8, exprs
    for e in exprs:
        prom.api("query", query=e)


# ---- clients that misbehave ------------------------------------------------

def idle_conns(target, src, n):
    """n connections from address src that send nothing; the open ones."""
    host, port = target.rsplit(":", 1)
    out = []
    for _ in range(n):
        s = socket.socket()
        s.bind((src, 0))
        s.settimeout(2)
        try:
            s.connect((host, int(port)))
        except OSError:
            s.close()
            continue
        out.append(s)
    return out


def timed_scrape(ex):
    t0 = time.monotonic()
    st, _, body = get(ex.url(), timeout=5)
    return st, time.monotonic() - t0, body


def collect_seconds(body: bytes) -> float:
    return sum(float(line.split()[-1]) for line in body.decode().splitlines()
               if line.startswith("kscope_collect_seconds_total{"))


def test_hostile_clients_cannot_stall():
    """Clients that connect and send nothing, send half a request, or ask
    and never read: from 127.0.0.1 scrapes still answer at once, the tools
    are still collected, and SIGTERM still ends it within a second."""
    ex = Exporter("--tools", "workq,slabratetop", "--interval", "0.3")
    socks = []
    try:
        st, fast, body = timed_scrape(ex)
        assert st == 200
        # far beyond the per-address limit from one address, and the
        # per-address limit from three more (more than 32 in all)
        socks += idle_conns(ex.target, "127.0.0.2", 100)
        for src in ("127.0.0.3", "127.0.0.4", "127.0.0.5"):
            socks += idle_conns(ex.target, src, 16)
        # slowloris: half a request line, then silence
        for s in idle_conns(ex.target, "127.0.0.6", 8):
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        # asks for the metrics with a tiny window and never reads
        for s in idle_conns(ex.target, "127.0.0.7", 8):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
            socks.append(s)
        assert len(socks) >= 64, len(socks)
        slowest, seen = 0.0, []
        for _ in range(10):
            st, took, body = timed_scrape(ex)
            assert st == 200, st
            slowest = max(slowest, took)
            seen.append(collect_seconds(body))
            time.sleep(0.3)
        assert slowest < 0.5, f"a scrape took {slowest:.3f}s with " \
            f"{len(socks)} hostile connections open"
        # collection went on: its own time counter grew
        assert seen[-1] > seen[0], seen
    finally:
        took = ex.stop()
        for s in socks:
            s.close()
    assert ex.p.returncode == 0, (ex.p.returncode, ex.stderr())
    assert took < 1.0, f"SIGTERM took {took:.2f}s with hostile " \
        "connections open"


def test_sigterm_within_a_second_every_tool():
    """Every tool attached, a scrape just done: SIGTERM ends it (detached,
    exit 0) within a second."""
    ex = Exporter()
    try:
        assert get(ex.url())[0] == 200
    finally:
        took = ex.stop()
    assert ex.p.returncode == 0, (ex.p.returncode, ex.stderr())
    assert took < 1.0, f"SIGTERM took {took:.2f}s"


def test_histogram_edges_are_log2_slots():
    """Every bucket of every histogram: `le` is the largest value of a log2
    slot, 2^k - 1 ns (lock waits, measured in ns) or 2^k us - 1 ns (work
    items, whose slots are whole microseconds), printed exactly; buckets
    are cumulative and +Inf is _count."""
    ex = Exporter("--tools", "workq,mlock,spinlock", "--interval", "0.3")
    try:
        # work items for sure: refresh_vm_stats on every CPU
        with open("/proc/sys/vm/stat_refresh", "w") as f:
            for _ in range(20):
                f.write("1")
                f.flush()
        time.sleep(1.5)
        text = get(ex.url())[2].decode()
    finally:
        ex.stop()
    series = {}
    for line in text.splitlines():
        if line.startswith("#") or "_bucket{" not in line:
            continue
        name, rest = line.split("{", 1)
        labels, value = rest.rsplit("} ", 1)
        le = labels.rsplit('le="', 1)[1].rstrip('"')
        key = (name, labels.rsplit(',le="', 1)[0])
        series.setdefault(key, []).append((le, int(value)))
    assert any(k[0].startswith("kscope_workqueue_execution") for k in
               series), sorted(series)[:5]
    counts = {}
    for line in text.splitlines():
        if "_count{" in line:
            name, rest = line.split("{", 1)
            labels, value = rest.rsplit("} ", 1)
            counts[(name[:-len("_count")] + "_bucket", labels)] = int(value)
    for (name, labels), buckets in series.items():
        unit = 1000 if name.startswith("kscope_workqueue") else 1
        prev = -1
        for le, v in buckets[:-1]:
            ns = round(float(le) * 1e9)
            # exact decimal: the nanoseconds printed are the nanoseconds
            assert f"{ns / 1e9:.9f}".rstrip("0").rstrip(".") == \
                le.rstrip("0").rstrip(".") or ns == 0, (name, le)
            k = (ns + 1) // unit
            assert ns == 0 or ((ns + 1) % unit == 0 and k & (k - 1) == 0), \
                f"{name}{{{labels}}}: le={le} is no log2 slot edge"
            assert v >= prev, (name, labels, buckets)
            prev = v
        assert buckets[-1][0] == "+Inf", buckets
        assert buckets[-1][1] >= prev
        assert buckets[-1][1] == counts[(name, labels)], (name, labels)


def test_scrape_latency_under_load():
    """Scrapes stay fast: p99 < 50 ms and at most 3 of 600 >= 100 ms
    (none >= 1 s), >= 500 scrapes, as Prometheus asks
    (OpenMetrics, gzip) and plain, while every tool collects every 0.2 s
    and stress-ng keeps both CPUs busy and the kernel forking and
    faulting.  The page is rendered once per collection by the collector
    thread; a scrape copies it (failed on the build that rendered in
    each scrape under the store's lock)."""
    if not shutil.which("stress-ng"):
        pytest.skip("stress-ng is not installed (apt-get install stress-ng)")
    binary = os.environ.get("KSCOPE_EXPORT_BINARY", str(KSCOPE))
    ex = Exporter("--interval", "0.2", binary=binary)
    load = subprocess.Popen(["stress-ng", "--cpu", "2", "--fork", "1",
                             "--vm", "1", "--vm-bytes", "64M",
                             "--timeout", "300"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    om = {"Accept": "application/openmetrics-text;version=1.0.0,"
          "text/plain;version=0.0.4;q=0.5",
          "Accept-Encoding": "gzip"}
    took, lines = [], 0
    try:
        time.sleep(3)          # the load is on, series have appeared
        # one of each variant first: the next collection publishes them
        for h in (om, {}):
            get(ex.url(), headers=h, timeout=5)
        time.sleep(0.5)
        conn = http.client.HTTPConnection("127.0.0.1", ex.port, timeout=5)
        for i in range(600):
            h = om if i % 2 == 0 else {}
            t0 = time.monotonic()
            conn.request("GET", "/metrics", headers=h)
            r = conn.getresponse()
            body = r.read()
            took.append(time.monotonic() - t0)
            assert r.status == 200, r.status
            if h:
                assert r.getheader("Content-Encoding") == "gzip"
                body = gzip.decompress(body)
                assert body.endswith(b"# EOF\n")
            lines = max(lines, body.count(b"\n"))
            time.sleep(0.01)
        conn.close()
    finally:
        os.killpg(load.pid, signal.SIGKILL)
        load.wait()
        ex.stop()
    took.sort()
    p99 = took[int(len(took) * 0.99)]
    print(f"{len(took)} scrapes of up to {lines} lines: median "
          f"{took[len(took) // 2] * 1e3:.1f} ms, p99 "
          f"{p99 * 1e3:.1f} ms, max {took[-1] * 1e3:.1f} ms")
    assert lines > 500, lines
    # the client (this Python process) competes with stress-ng for the
    # two CPUs too: a rare scrape waits out a scheduling stall of its own
    # (one of 600 at 102 ms in a full check, max 7 ms in quiet runs).  A
    # scrape that waits for a collection to render shows in the p99 and
    # in many slow scrapes, not in one.
    slow = [t for t in took if t >= 0.1]
    assert p99 < 0.05, f"p99 {p99 * 1e3:.0f} ms over {len(took)} scrapes"
    assert len(slow) <= 3 and took[-1] < 1.0, \
        f"{len(slow)} of {len(took)} scrapes took >= 100 ms, " \
        f"slowest {took[-1] * 1e3:.0f} ms"
