# SPDX-License-Identifier: GPL-2.0
"""The outputs people look at, read by consumers other than kscope: the
SVG flame graph parsed by an XML parser (Python's expat) and its layout
checked against sums computed here from the folded input.  No root.
The exact bytes of small graphs are golden files (tests/unit/)."""
import pathlib
import random
import re
import subprocess
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
KSCOPE = str(ROOT / "build" / "kscope")
SVG = "{http://www.w3.org/2000/svg}"
XPAD = 10


def flamegraph(inp, *args):
    return subprocess.run([KSCOPE, "flamegraph", *args], input=inp,
                          capture_output=True, timeout=60)


def random_folded(seed, n):
    rnd = random.Random(seed)
    comms = ["cc1", "make", "sh", "kworker/0:1", "a;b", "x<y>&"]
    kern = [f"k{i}_[k]" for i in range(12)]
    user = [f"u{i} [libfoo.so]" for i in range(8)]
    lines = {}
    for _ in range(n):
        depth = rnd.randint(1, 14)
        frames = [rnd.choice(comms).replace(";", ":")]
        frames += [rnd.choice(user) for _ in range(rnd.randint(0, 3))]
        frames += [rnd.choice(kern) for _ in range(depth)]
        key = ";".join(frames)
        lines[key] = lines.get(key, 0) + rnd.randint(1, 10 ** 6)
    return "".join(f"{k} {w}\n" for k, w in lines.items()), lines


def frames_of(root):
    """(depth, x, w, name, rect) of every frame, from the SVG alone"""
    out = []
    for g in root.iter(SVG + "g"):
        if g.get("class") != "f":
            continue
        title = g.find(SVG + "title").text
        name = title[:title.rindex(" (")]
        out.append((int(g.get("data-d")), int(g.get("data-x")),
                    int(g.get("data-w")), name, g.find(SVG + "rect")))
    return out


def test_flamegraph_layout():
    text, lines = random_folded(1, 400)
    total = sum(lines.values())
    p = flamegraph(text.encode(), "--unit", "bytes", "--title", "t&<>")
    assert p.returncode == 0, p.stderr
    assert p.stderr == b""
    root = ET.fromstring(p.stdout)
    width = int(root.get("width"))
    assert int(root.get("data-total")) == total
    scale = (width - 2 * XPAD) / total
    # expected weight of every path prefix, computed from the input
    want = {}
    for key, w in lines.items():
        fr = key.split(";")
        for i in range(1, len(fr) + 1):
            want[tuple(fr[:i])] = want.get(tuple(fr[:i]), 0) + w
    frames = frames_of(root)
    by_depth = {}
    for f in frames:
        by_depth.setdefault(f[0], []).append(f)
    assert [f[3] for f in by_depth[0]] == ["all"]
    assert by_depth[0][0][2] == total
    kids_of = {}
    for p_ in want:
        kids_of.setdefault(p_[:-1], []).append(p_)
    # rebuild each frame's path from the geometry: its parent is the frame
    # one level up whose range holds it
    path = {(0, 0): ()}
    drawn = 0
    for d in sorted(by_depth)[1:]:
        kids = sorted(by_depth[d], key=lambda f: f[1])
        for up in by_depth[d - 1]:
            p_up = path[(up[0], up[1])]
            mine = [k for k in kids if up[1] <= k[1] < up[1] + up[2]]
            # merged and sorted by name per level, each child where the
            # weights of the siblings before it (drawn or too narrow to
            # draw) end: the widths of a level add up
            x = up[1]
            expect = {}
            for p_k in sorted(kids_of.get(p_up, []),
                              key=lambda t: t[-1].encode()):
                expect[p_k[-1]] = (x, want[p_k])
                x += want[p_k]
            assert x <= up[1] + up[2]
            for k in mine:
                assert expect[k[3]] == (k[1], k[2]), (p_up, k, expect)
                path[(k[0], k[1])] = p_up + (k[3],)
                drawn += 1
            narrow = [n for n, (x_, w_) in expect.items()
                      if w_ * scale < 0.1]
            assert len(mine) == len(expect) - len(narrow), (p_up, mine)
    for d, x, w, name, rect in frames:
        px = float(rect.get("width"))
        assert abs(px - w * scale) < 0.011, (name, px, w * scale)
        assert abs(float(rect.get("x")) - (XPAD + x * scale)) < 0.011
        assert px >= 0.1
    assert drawn == len(frames) - 1 and drawn > 1000


def test_flamegraph_tooltips_and_kinds():
    text = ("sh;main [sh];k_[k] 30\n"
            "sh;main [sh] 10\n"
            "bash;0x1234 [bash] 60\n")
    p = flamegraph(text.encode(), "--unit", "ns")
    assert p.returncode == 0, p.stderr
    root = ET.fromstring(p.stdout)
    t = {f[3]: f for f in frames_of(root)}
    title = {g.find(SVG + "title").text.split(" (")[0]:
             g.find(SVG + "title").text for g in root.iter(SVG + "g")
             if g.get("class") == "f"}
    assert title["main [sh]"] == "main [sh] (40 ns, 40ns, 40.00%)"
    assert title["k_[k]"] == "k_[k] (30 ns, 30ns, 30.00%)"
    fills = {n: f[4].get("fill") for n, f in t.items()}
    # one colour family per kind: task names blue, kernel orange, user red
    rgb = {n: tuple(map(int, re.findall(r"\d+", c))) for n, c in
           fills.items()}
    assert rgb["sh"][2] > rgb["sh"][0] and rgb["bash"][2] > rgb["bash"][0]
    assert rgb["k_[k]"][0] > rgb["k_[k]"][1] > rgb["k_[k]"][2]
    assert rgb["main [sh]"][0] > 200 and rgb["main [sh]"][1] < 160
    assert rgb["0x1234 [bash]"][0] > 200
    # flame: the root at the bottom; icicle: at the top
    y = {n: float(f[4].get("y")) for n, f in t.items()}
    assert y["all"] > y["sh"] > y["main [sh]"] > y["k_[k]"]
    p = flamegraph(text.encode(), "--icicle")
    t = {f[3]: f for f in frames_of(ET.fromstring(p.stdout))}
    y = {n: float(f[4].get("y")) for n, f in t.items()}
    assert y["all"] < y["sh"] < y["main [sh]"] < y["k_[k]"]


def test_flamegraph_hostile_input():
    """Any bytes in, valid XML out: invalid UTF-8, XML's specials,
    control bytes, CRLF, a comment."""
    inp = (b"# a comment\r\n"
           b"\xff\xfe;<script>alert(1)</script> 5\r\n"
           b"a\x01b;]]>;&lt&gt 7\n"
           b"\xed\xa0\x80;\xf4\x90\x80\x80 1\n")
    p = flamegraph(inp, "--title", "\x1b]0;x\x07")
    assert p.returncode == 0, p.stderr
    root = ET.fromstring(p.stdout)
    names = [f[3] for f in frames_of(root)]
    assert "<script>alert(1)</script>" in names
    assert "a?b" in names and "]]>" in names and "&lt&gt" in names
    assert "\ufffd\ufffd" in names        # \xff\xfe
    assert "\ufffd\ufffd\ufffd" in names  # a surrogate's 3 bytes
    assert int(root.get("data-total")) == 13


def test_flamegraph_bad_input(tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("this is not folded\nnor;this\n")
    p = subprocess.run([KSCOPE, "flamegraph", str(bad)], capture_output=True,
                       text=True)
    assert p.returncode == 1 and p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "no folded stacks" in lines[0], p.stderr
    assert "line 1" in lines[0]
    # some good lines: the graph, and one warning naming the first bad one
    p = flamegraph(b"a;b 3\noops\nc 2\n")
    assert p.returncode == 0
    ET.fromstring(p.stdout)
    lines = p.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "ignored 1 lines" in lines[0], p.stderr
    assert "line 2" in lines[0]
    # nothing at all: an empty graph that says so, and a warning
    p = flamegraph(b"")
    assert p.returncode == 0
    assert "no stacks" in p.stdout.decode()
    assert "empty" in p.stderr.decode()
