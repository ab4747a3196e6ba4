# SPDX-License-Identifier: GPL-2.0
from _check import reports, truth
from memleak_files import check as check_files


def check(out, env, mode):
    # the ground truth of memleak -c leaker_files, by process: its exec
    # happened inside the filter too, so the files it mapped (program,
    # loader, libraries: one struct file each, held) are outstanding too
    t = truth(out)
    assert t["mapped_files"] >= 1, t
    check_files(out, env, mode, extra=t["mapped_files"])
    assert all(r["mode"] != "uprobe" for r in reports(out))
