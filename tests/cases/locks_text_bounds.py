# SPDX-License-Identifier: GPL-2.0
import re

from _check import final

NAMES = ("_stext", "_etext", "__lock_text_start", "__lock_text_end",
         "__sched_text_start", "__sched_text_end")


def check(out, env, mode):
    final(out, mode)
    truth = {}
    for line in (out / "kallsyms.txt").read_text().splitlines():
        addr, _, name = line.split()[:3]
        truth.setdefault(name, int(addr, 16))
    assert set(truth) == set(NAMES), f"kallsyms lacks some: {truth}"
    assert all(truth.values()), "kallsyms shows zeros: not root?"
    err = (out / "kscope.err").read_text()
    m = re.search(r"kernel text from (.*?): (_stext .*)$", err, re.M)
    assert m, f"no 'kernel text' line in -v output:\n{err}"
    # every kernel the tests run on (6.1 on) has BPF syscall programs and
    # bpf_kallsyms_lookup_name() (5.16): the fast path, not the scan
    assert m.group(1) == "the kernel's lookup (BPF)", m.group(0)
    got = dict(zip(m.group(2).split()[0::2],
                   (int(v, 16) for v in m.group(2).split()[1::2])))
    assert got == truth, f"kscope {got} vs /proc/kallsyms {truth}"
