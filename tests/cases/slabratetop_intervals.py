# SPDX-License-Identifier: GPL-2.0
from _check import truth
from _intervals import compare


def check(out, env, mode):
    ivs, whole = compare(out, keys=("cache",))
    t = truth(out)
    filp = [e for e in whole["entries"] if e["cache"] == "filp"]
    assert filp and filp[0]["allocs"] == t["opens"] + t["eventfds"], \
        (filp, t)
