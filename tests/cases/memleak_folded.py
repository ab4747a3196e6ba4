# SPDX-License-Identifier: GPL-2.0
from _check import folded, stderr, truth


def leak_paths(blocks, func):
    """The folded stacks through the leaker's function func, which is a
    frame "func [leaker]" (a user frame names its object)."""
    assert len(blocks) == 1, f"{len(blocks)} blocks without an interval"
    assert blocks[0]["time"] is None, "a # time line without an interval"
    return [(f, w) for f, w in blocks[0]["stacks"]
            if f"{func} [leaker]" in f]


def check(out, env, mode):
    for name, field, tfile in (("kscope", "bytes", "truth.json"),
                               ("count", "allocs", "truth-count.json")):
        rc = (out / f"{name}.rc").read_text().strip()
        assert rc == "0", f"{name}: kscope exited {rc}: {stderr(out)}"
        blocks = folded(out, f"{name}.folded")
        t = truth(out, tfile)
        for leak in t["leaks"]:
            paths = leak_paths(blocks, leak["func"])
            assert len(paths) == 1, \
                f"{name}: {leak['func']} on {len(paths)} paths: {paths}"
            frames, w = paths[0]
            assert w == leak[field], \
                f"{name}: {leak['func']} weighs {w}, leaked {leak[field]}"
            # root first: the leak function is the innermost frame of
            # the leaker's own (the allocator's are below it, if any)
            own = [f for f in frames if f.endswith(" [leaker]")]
            assert own[-1] == f"{leak['func']} [leaker]", frames
        churn = [f for f, _ in blocks[0]["stacks"]
                 if f"{t['churn']} [leaker]" in f]
        assert not churn, f"{name}: outstanding at churn(): {churn}"
