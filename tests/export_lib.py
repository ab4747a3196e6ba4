# SPDX-License-Identifier: GPL-2.0
"""Helpers for the kscope export tests: start kscope export and Debian's
Prometheus on loopback (ephemeral ports), ask Prometheus PromQL questions
through its HTTP API.  Used on the host (tests/test_export.py) and for the
VM fleet (tests/test_vm.py), and by `make soak`."""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSCOPE = ROOT / "build" / "kscope"
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def free_port() -> int:
    """A port nothing listens on now (Prometheus cannot take port 0 and
    tell us which it got)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Exporter:
    """kscope export on 127.0.0.1, port 0; .port once it serves."""

    def __init__(self, *args, timeout=60, env=None, binary=KSCOPE):
        self.err = tempfile.NamedTemporaryFile(prefix="ks-export-",
                                               suffix=".err", delete=False)
        self.args = [str(binary), "export", "--listen", "127.0.0.1:0",
                     *args]
        self.p = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=self.err, start_new_session=True,
                                  env=env)
        self.port = None
        self.said = None
        self.scheme = "http"
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            m = re.search(r"serving \d+ tools on (https?)://[^ ]*:(\d+)/"
                          r"metrics", self.stderr())
            if m:
                self.scheme, self.port = m.group(1), int(m.group(2))
                return
            if self.p.poll() is not None:
                raise AssertionError(f"kscope export exited "
                                     f"{self.p.returncode}:\n{self.stderr()}")
            time.sleep(0.1)
        self.stop()
        raise AssertionError("kscope export did not serve within "
                             f"{timeout}s:\n{self.stderr()}")

    def stderr(self) -> str:
        """What it said on stderr (until stop(), and after)."""
        if self.said is None:
            return pathlib.Path(self.err.name).read_text(errors="replace")
        return self.said

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path="/metrics") -> str:
        return f"{self.scheme}://{self.target}{path}"

    def stop(self, sig=signal.SIGTERM, timeout=10) -> float:
        """Signal it; seconds it took to exit."""
        t0 = time.monotonic()
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        took = time.monotonic() - t0
        self.said = self.stderr()
        try:
            os.unlink(self.err.name)
        except OSError:
            pass
        return took


def get(url, headers=None, context=None, timeout=30):
    """(status, headers, body bytes) of a GET, HTTP errors included."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout,
                                    context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Prometheus:
    """Debian's Prometheus on loopback, scraping the given jobs every
    second.  jobs: {name: {"targets": [...], plus scrape_config keys}}."""

    def __init__(self, jobs: dict, interval="1s"):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="ks-prom-"))
        self.port = free_port()
        cfg = {"global": {"scrape_interval": interval,
                          "scrape_timeout": interval,
                          "evaluation_interval": interval},
               "scrape_configs": []}
        for name, j in jobs.items():
            sc = {"job_name": name,
                  "static_configs": [{"targets": j["targets"],
                                      "labels": j.get("labels", {})}]}
            sc.update({k: v for k, v in j.items()
                       if k not in ("targets", "labels")})
            cfg["scrape_configs"].append(sc)
        # JSON is YAML: no YAML writer needed
        (self.dir / "prometheus.yml").write_text(json.dumps(cfg, indent=1))
        self.log = open(self.dir / "prometheus.log", "w")
        self.p = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.dir}/prometheus.yml",
             f"--storage.tsdb.path={self.dir}/data",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--log.level=warn"], stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if self.p.poll() is not None:
                raise AssertionError("prometheus exited "
                                     f"{self.p.returncode}:\n{self.logs()}")
            try:
                if get(f"http://127.0.0.1:{self.port}/-/ready",
                       timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("prometheus not ready within 60 s")

    def logs(self) -> str:
        return (self.dir / "prometheus.log").read_text(errors="replace")

    def api(self, path, **params):
        q = urllib.parse.urlencode(params)
        st, _, body = get(f"http://127.0.0.1:{self.port}/api/v1/{path}?{q}")
        d = json.loads(body)
        assert st == 200 and d.get("status") == "success", (path, params,
                                                            st, d)
        return d["data"]

    def query(self, q):
        """Instant vector: [(labels, float value)]."""
        d = self.api("query", query=q)
        assert d["resultType"] in ("vector", "scalar"), d
        if d["resultType"] == "scalar":
            return [({}, float(d["result"][1]))]
        return [(r["metric"], float(r["value"][1])) for r in d["result"]]

    def value(self, q, default=None):
        """The single value of q, default when the vector is empty."""
        r = self.query(q)
        assert len(r) <= 1, (q, r)
        return r[0][1] if r else default

    def wait(self, q, pred, timeout=60, what=""):
        """Poll q until pred(value or None) holds; the last value."""
        end = time.monotonic() + timeout
        v = None
        while time.monotonic() < end:
            v = self.value(q)
            if pred(v):
                return v
            time.sleep(0.5)
        raise AssertionError(f"{what or q}: still {v} after {timeout}s")

    def targets_up(self, n, timeout=60):
        self.wait("count(up == 1)", lambda v: v == n, timeout,
                  f"{n} targets up")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def online_cpus() -> int:
    n = 0
    for part in pathlib.Path("/sys/devices/system/cpu/online").read_text() \
            .strip().split(","):
        a, _, b = part.partition("-")
        n += int(b) - int(a) + 1 if b else 1
    return n
