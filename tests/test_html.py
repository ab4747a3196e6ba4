# SPDX-License-Identifier: GPL-2.0
"""kscope report --html, read by real consumers: headless Chromium (Debian's
chromium, driven over the DevTools protocol on a pipe) loads the page and
must see no console error and make no network request, have every tool's
section and every SVG in its DOM, and paint a screenshot that is not
blank; Python's XML parser reads each SVG.  The numbers on the page are
those of the JSON report of the same run (kscope report -j --html), while
workloads give the tools something to count, one of them under a task
name full of HTML's special characters.  Needs root (BPF)."""
import base64
import fcntl
import html.parser
import json
import os
import pathlib
import shutil
import struct
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
import zlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSCOPE = str(ROOT / "build" / "kscope")
WL = ROOT / "build" / "workloads"
CHROMIUM = shutil.which("chromium")
EVIL = "<b>&\"'"            # many_comms names its thread EVIL + "0"


class Page(html.parser.HTMLParser):
    """sections, table cells (data-key/data-v by row) and chart bars of
    the page, from the file itself"""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections = {}      # tool -> {"tables": {name: [row]}, ...}
        self.cur = None
        self.table = None
        self.row = None
        self.hists = None
        self.cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-tool" in a:
            self.cur = self.sections.setdefault(a["data-tool"], {
                "class": a.get("class", ""), "tables": {}, "hists": {},
                "values": {}, "drops": {}, "series": [], "mode": None,
                "flames": 0})
        if self.cur is None:
            return
        if tag == "table" and "data-table" in a:
            self.table = self.cur["tables"].setdefault(a["data-table"], [])
        elif tag == "tr" and self.table is not None:
            self.row = {}
        elif tag == "td" and self.row is not None and "data-v" in a:
            self.row[a["data-key"]] = a["data-v"]
            self.cell = a["data-key"]
        elif tag == "div" and a.get("class") == "hists":
            self.hists = self.cur["hists"].setdefault(
                (a["data-table"], a["data-col"]), [])
        elif tag == "svg" and "hist" in a.get("class", "").split():
            if self.hists is not None:
                self.hists.append([])
        elif tag == "svg" and "series" in a.get("class", "").split():
            self.cur["series"].append([])
        elif tag == "svg" and "kflame" in a.get("class", "").split():
            self.cur["flames"] += 1
        elif tag == "rect" and a.get("class") == "bar":
            target = (self.hists[-1] if self.hists is not None
                      and self.hists else self.cur["series"][-1])
            target.append((float(a["data-count"]), float(a["height"])))
        elif tag == "dd" and "data-key" in a:
            self.cur["values"][a["data-key"]] = a["data-v"]
        elif tag == "span" and "data-reason" in a:
            self.cur["drops"][a["data-reason"]] = int(a["data-v"])
        elif tag == "b" and a.get("data-key") == "mode":
            self.cell = "mode"

    def handle_data(self, data):
        if self.cell == "mode" and self.cur is not None:
            self.cur["mode"] = data
            self.cell = None
        elif self.cell and self.row is not None:
            self.row["text:" + self.cell] = data

    def handle_endtag(self, tag):
        if tag == "td" or tag == "b":
            self.cell = None
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.table.append(self.row)
            self.row = None
        elif tag == "table":
            self.table = None
        elif tag == "div":
            self.hists = None
        elif tag == "section":
            self.cur = None


class Chromium:
    """the DevTools protocol over --remote-debugging-pipe (fd 3 in, fd 4
    out, NUL-separated JSON messages)"""

    def __init__(self, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # copies above 9, so that putting one at 3 cannot close the other
        hi_r = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
        os.close(to_r)
        os.close(from_w)
        to_r, from_w = hi_r, hi_w

        def fds():
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)
        self.p = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--remote-debugging-pipe", "--hide-scrollbars",
             "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-sync",
             "--disable-component-update", "--disable-default-apps",
             f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=fds, pass_fds=(3, 4),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.id = 0
        self.events = []

    def _read(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.from_r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method, session=None, timeout=60, **params):
        self.id += 1
        msg = {"id": self.id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + timeout
        while True:
            m = self._read(deadline)
            if m.get("id") == self.id:
                assert "error" not in m, (method, m["error"])
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, timeout=60):
        deadline = time.time() + timeout
        for m in self.events:
            if m.get("method") == method:
                return m
        while True:
            m = self._read(deadline)
            self.events.append(m)
            if m.get("method") == method:
                return m

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        os.close(self.to_w)
        os.close(self.from_r)


def png_colours(data):
    """distinct RGB(A) pixels of an 8-bit RGB or RGBA PNG (the filters of
    the PNG spec undone here, no imaging library needed)"""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert depth == 8 and ctype in (2, 6), (depth, ctype)
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return w, h, colours


@pytest.fixture(scope="module")
def run():
    """one kscope report -j --html run while workloads run"""
    if os.geteuid() != 0:
        pytest.skip("needs root (BPF)")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="kscope-html-"))
    page = tmp / "report.html"
    ks = subprocess.Popen([KSCOPE, "report", "-d", "4", "-s", "-Q", "-r", "1000",
                           "-j", "--html", str(page)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # the window opens once every tool is attached (its line on stderr)
    line, early = b"", b""
    while b"Tracing with" not in line:
        line = ks.stderr.readline()
        assert line, "kscope report ended before tracing"
        early += line
    mc = subprocess.run([str(WL / "many_comms"), EVIL, "1", "3000"],
                        input=b"\n", capture_output=True, timeout=60)
    assert mc.returncode == 0, mc.stderr
    pw = subprocess.run([str(WL / "pipe_writers"), "lkpipe", "4", "5000"],
                        capture_output=True, timeout=60)
    assert pw.returncode == 0, pw.stderr
    out, err = ks.communicate(timeout=120)
    assert ks.returncode == 0, err.decode()
    reports = {}
    for ln in out.decode().splitlines():
        rep = json.loads(ln)
        reports[rep["tool"]] = rep
    yield tmp, page, reports, (early + err).decode()
    shutil.rmtree(tmp, ignore_errors=True)


def all_tools():
    h = subprocess.run([KSCOPE, "-h"], capture_output=True, text=True).stdout
    tools, on = [], False
    for ln in h.splitlines():
        if ln.startswith("Commands:"):
            on = True
        elif on and ln.startswith("  ") and ln.split():
            tools.append(ln.split()[0])
    return [t for t in tools if t not in ("features", "report", "help",
                                          "export", "flamegraph")]


def jv(v):
    """a JSON value as data-v writes it"""
    if isinstance(v, float):
        return v
    return str(v)


def test_page_matches_json(run):
    tmp, page, reports, err = run
    p = Page()
    p.feed(page.read_text(encoding="utf-8"))
    # a section for every tool: the ones that ran, and the others say why
    assert set(p.sections) == set(all_tools()), (set(p.sections),
                                                 all_tools())
    assert set(reports) <= set(p.sections)
    for tool, sec in p.sections.items():
        if tool not in reports:
            assert "off" in sec["class"], tool
            assert f"{tool}: cannot run" in err or tool in err
            continue
        rep = reports[tool]
        assert sec["mode"] == rep["mode"], tool
        assert sec["drops"] == rep["dropped"], tool
        for name, rows in sec["tables"].items():
            jrows = rep[name]
            assert len(rows) == len(jrows), (tool, name)
            for hr, jr in zip(rows, jrows):
                for key, v in hr.items():
                    if key.startswith("text:"):
                        continue
                    cur = jr
                    for part in key.split("."):
                        cur = cur[part]
                    if isinstance(cur, float):
                        assert abs(float(v) - cur) <= 1e-6 * max(1, cur)
                    elif isinstance(cur, int):
                        assert int(v) == cur, (tool, name, key)
                    else:
                        assert v == cur, (tool, name, key)
        # histograms: the first chart sums every row's JSON histogram
        for (name, col), charts in sec["hists"].items():
            want = {}
            for jr in rep[name]:
                cur = jr
                for part in col.split("."):
                    cur = cur[part]
                for b in cur:
                    want[b["min"]] = want.get(b["min"], 0) + b["count"]
            counts = [c for c, _ in charts[0]]
            assert sum(counts) == sum(want.values()), (tool, col)
            assert sorted(c for c in counts if c) == \
                sorted(c for c in want.values() if c), (tool, col)
            for chart in charts:
                if not chart:       # a row with none of these ("no events")
                    continue
                top = max(c for c, _ in chart)
                th = max(hh for _, hh in chart)
                for c, hh in chart:
                    assert abs(hh - c / top * th) < 0.01, (tool, col)
    # numamove: the per-second bars add up to the window's numbers
    if "numamove" in reports:
        e = reports["numamove"]["entries"][0]
        series = p.sections["numamove"]["series"]
        assert len(series) >= 3
        assert sum(c for c, _ in series[0]) == e["migrations"]
        assert len(series[0]) >= 3       # a sample a second, 4 s
    # the workloads show: the lock waits of the pipe writers, and the
    # task named with HTML's specials appears as itself, escaped
    if "mlock" in reports:
        comms = {r.get("comm") for r in reports["mlock"]["entries"]}
        assert any(c and c.startswith("lkpipe") for c in comms)
        assert p.sections["mlock"]["hists"]
    kmem = p.sections["kmem"]["tables"]["entries"]
    assert any(r.get("comm") == EVIL + "0" for r in kmem)
    assert any(r.get("text:comm") == EVIL + "0" for r in kmem)
    raw = page.read_bytes()
    assert b"<b>&\"'0" not in raw
    assert b"&lt;b&gt;&amp;&quot;&apos;0" in raw
    # the stacks the tools took are said and drawn
    stacked = [t for t, s in p.sections.items() if s["flames"]]
    assert "memleak" in stacked and "kmem" in stacked
    # kmem's flame graph has the task as a root frame, escaped
    assert "<title>&lt;b&gt;&amp;&quot;&apos;0 (" in page.read_text()
    assert b"took a kernel stack per event" in raw


def test_chromium_renders(run):
    tmp, page, reports, err = run
    if not CHROMIUM:
        pytest.skip("chromium is not installed (make test-deps)")
    b = Chromium(tmp / "profile")
    try:
        t = b.send("Target.createTarget", url="about:blank")
        s = b.send("Target.attachToTarget", targetId=t["targetId"],
                   flatten=True)["sessionId"]
        for dom in ("Page", "Runtime", "Log", "Network"):
            b.send(dom + ".enable", session=s)
        b.send("Emulation.setDeviceMetricsOverride", session=s, width=1200,
               height=2400, deviceScaleFactor=1, mobile=False)
        url = page.as_uri()
        b.send("Page.navigate", session=s, url=url)
        b.wait_event("Page.loadEventFired")
        ev = b.send("Runtime.evaluate", session=s, returnByValue=True,
                    expression="""(function () {
              var ser = new XMLSerializer();
              return {
                tools: [].map.call(document.querySelectorAll(
                    'section[data-tool]'),
                    function (s) { return s.getAttribute('data-tool'); }),
                svgs: [].map.call(document.querySelectorAll('svg'),
                    function (g) { return ser.serializeToString(g); }),
                bars: document.querySelectorAll('rect.bar').length,
                frames: document.querySelectorAll('svg.kflame g.f').length,
                search: [].map.call(document.querySelectorAll(
                    'svg.kflame .search'), function (e) {
                    return e.getAttribute('visibility'); })
              }; })()""")["result"]["value"]
        # the flame graph's script ran: a click zooms
        z = b.send("Runtime.evaluate", session=s, returnByValue=True,
                   expression="""(function () {
              var g = document.querySelector('svg.kflame g.f[data-d="1"]');
              g.dispatchEvent(new MouseEvent('click', {bubbles: true}));
              return g.closest('svg').querySelector('.reset')
                .getAttribute('visibility'); })()""")["result"]["value"]
        shot = b.send("Page.captureScreenshot", session=s, format="png",
                      captureBeyondViewport=False)
        time.sleep(0.5)         # events that come late
        b.send("Runtime.evaluate", session=s, expression="1")
    finally:
        b.close()
    errors = [m for m in b.events
              if m.get("method") == "Runtime.exceptionThrown"
              or (m.get("method") == "Runtime.consoleAPICalled"
                  and m["params"]["type"] in ("error", "assert"))
              or (m.get("method") == "Log.entryAdded"
                  and m["params"]["entry"]["level"] == "error")]
    assert not errors, errors
    requests = [m["params"]["request"]["url"] for m in b.events
                if m.get("method") == "Network.requestWillBeSent"]
    assert requests == [url], requests      # the page itself, nothing else
    assert set(ev["tools"]) == set(all_tools())
    raw = page.read_text(encoding="utf-8")
    assert len(ev["svgs"]) == raw.count("<svg ") > 0
    assert ev["bars"] > 0 and ev["frames"] > 0
    assert all(v == "visible" for v in ev["search"]), ev["search"]
    assert z == "visible"
    for svg in ev["svgs"]:
        ET.fromstring(svg)
    # and as written in the file, before any script touched it
    pos = 0
    n = 0
    while (pos := raw.find("<svg ", pos)) >= 0:
        end = raw.index("</svg>", pos) + 6
        ET.fromstring(raw[pos:end])
        pos = end
        n += 1
    assert n == len(ev["svgs"])
    png = base64.b64decode(shot["data"])
    (tmp / "shot.png").write_bytes(png)
    w, h, colours = png_colours(png)
    assert (w, h) == (1200, 2400)
    # text, tables, bars and a flame graph: far more than a blank page
    assert len(colours) > 50, len(colours)
