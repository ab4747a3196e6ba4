# SPDX-License-Identifier: GPL-2.0
from _intervals import compare


def check(out, env, mode):
    ivs, whole = compare(out, keys=("function",),
                         select=lambda e: e["function"] == "refresh_vm_stats")
    assert sum(e["count"] for e in whole["entries"]
               if e["function"] == "refresh_vm_stats") >= 60
