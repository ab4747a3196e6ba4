# SPDX-License-Identifier: GPL-2.0
import re

from _check import reports

ROW = re.compile(r"^(0x[0-9a-f]+|\S+)\s+(mutex:\S+)\s+(\S+)\s+(\d+)\s")
BUCKET = re.compile(r"^\s+\[[^)]+\)\s+(\d+)\s+\|")


def check(out, env, mode):
    assert (out / "kscope.rc").read_text().strip() == "0"
    assert (out / "json.rc").read_text().strip() == "0"
    text = (out / "hist.txt").read_text().splitlines()
    rows, cur = [], None
    for line in text:
        m = ROW.match(line)
        if m:
            cur = [m.group(1), m.group(2), m.group(3), int(m.group(4)), 0]
            rows.append(cur)
            continue
        b = BUCKET.match(line)
        if b and cur:
            cur[4] += int(b.group(1))
    assert rows, "\n".join(text)
    for lock, kind, comm, count, hist in rows:
        assert hist == count, (lock, kind, count, hist)
    rep = reports(out, "json.json")[0]
    want = sorted((e["kind"], e["comm"], e["count"]) for e in rep["entries"])
    got = sorted((k, c, n) for _, k, c, n, _ in rows)
    assert got == want, (got, want)
    assert sum(n for *_, n, _ in rows) > 0
