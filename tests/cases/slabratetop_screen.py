# SPDX-License-Identifier: GPL-2.0
import re

CLEAR = "\033[H\033[2J"
TIME = re.compile(r"^\d\d:\d\d:\d\d \(\d+\.\d s\)$", re.M)


def check(out, env, mode):
    for name in ("clear", "noclear"):
        rc = (out / f"{name}.rc").read_text().strip()
        assert rc == "0", (name, rc, (out / f"{name}.err").read_text())
    clear = (out / "clear.txt").read_text()
    noclear = (out / "noclear.txt").read_text()
    # "0.3 3": three reports, each clearing the screen once
    assert clear.count(CLEAR) == 3, clear.count(CLEAR)
    assert "\033" not in noclear, "-C must not emit escapes"
    # the load average the kernel showed at the end of the run, to within
    # what a couple of seconds can change in the 1-minute figure
    truth = float((out / "loadavg").read_text().split()[0])
    for text in (clear, noclear):
        assert text.startswith("Tracing "), text[:80]
        blocks = TIME.split(text)[1:]
        assert len(blocks) == 3, text
        for b in blocks:
            lines = b.strip("\n").splitlines()
            m = re.match(r"^loadavg: (\d+\.\d\d) \d+\.\d\d \d+\.\d\d "
                         r"\d+/\d+ \d+$", lines[0])
            assert m, lines[0]
            assert abs(float(m.group(1)) - truth) < 2.0, (lines[0], truth)
            head = lines.index(next(l for l in lines if l.startswith("CACHE")))
            assert re.match(r"^CACHE +ALLOCS +BYTES$", lines[head])
            rows = []
            for l in lines[head + 1:]:
                if l.startswith(("...", "Total:", CLEAR)) or not l:
                    break
                rows.append(l)
            assert len(rows) <= 5, rows
            assert all(re.match(r"^\S+ +\d+ +\d+$", r) for r in rows), rows
            assert any(l.startswith("Total: ") for l in lines), lines
