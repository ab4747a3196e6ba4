# SPDX-License-Identifier: GPL-2.0
from _intervals import compare


def check(out, env, mode):
    ivs, whole = compare(out, keys=("addr", "kind", "comm"))
    assert whole["total_count"] > 0, whole
