# SPDX-License-Identifier: GPL-2.0
"""The attach modes each tool must offer in each test environment.

The cases skip a mode that `kscope features` calls unavailable, so a
regression that makes a mode unavailable would turn tests into skips.
This table is the independent side: what each environment's kernel is
known to allow (and why, where a mode is out).  Offering less fails;
offering more is fine (then update the table).
"""

ALL_TP = ["tp_btf", "raw_tp", "tracepoint"]
# 6.1/6.12: the verifier refuses tp_btf reads of kmalloc's const void *
# ptr argument (kmem, memleak), and kmem_cache_alloc's tracepoint has no
# cache name (slabratetop's tracepoint mode, 2025); fentry and kprobes work
DEBIAN_VM = {
    "kmem": ["raw_tp", "tracepoint"],
    "kpages": ALL_TP,
    "slabratetop": ["fentry", "kprobe", "tp_btf", "raw_tp"],
    "mlock": ["fentry", "kprobe"] + ALL_TP,
    "mheld": ["fentry", "kprobe"],
    "spinlock": ALL_TP,
    "numamove": ["fentry", "kprobe"] + ALL_TP,
    "workq": ALL_TP,
    "memleak": ["raw_tp", "tracepoint", "uprobe"],
}

EXPECTED = {
    # the development and CI host, 6.18: lockdown refuses fentry/fexit,
    # CONFIG_KPROBES is off (so mheld cannot run at all)
    "host": {
        "kmem": ALL_TP,
        "kpages": ALL_TP,
        "slabratetop": ALL_TP,
        "mlock": ALL_TP,
        "mheld": [],
        "spinlock": ALL_TP,
        "numamove": ALL_TP,
        "workq": ALL_TP,
        "memleak": ALL_TP + ["uprobe"],
    },
    "6.1": DEBIAN_VM,
    "6.12": DEBIAN_VM,
    # PREEMPT_RT: as 6.12, but no NUMA balancing (CONFIG_NUMA_BALANCING
    # is off): numamove's functions are not there, its tracepoint is
    "6.12-rt": dict(DEBIAN_VM, numamove=ALL_TP),
    # arm64: fentry (6.0+ there, DYNAMIC_FTRACE_WITH_DIRECT_CALLS) and
    # kprobes like amd64
    "6.12-arm64": DEBIAN_VM,
}


def missing(feature_lines, env):
    """What kscope features -j (its lines, parsed) offers less than the
    table says for env; a message per missing mode."""
    if env not in EXPECTED:
        return [f"tests/expected_modes.py has no row for {env!r}: add the "
                "modes each tool must offer there"]
    want = EXPECTED[env]
    got = {f["tool"]: f for f in feature_lines}
    out = []
    for tool, modes in want.items():
        if tool not in got:
            out.append(f"{tool}: not in kscope features")
            continue
        for m in modes:
            fm = got[tool]["modes"].get(m)
            if not fm or not fm.get("available"):
                out.append(f"{tool}: {m} unavailable "
                           f"({fm.get('why') if fm else 'no such mode'})")
    return out
