# SPDX-License-Identifier: GPL-2.0
import memleak_files


def check(out, env, mode):
    # the kernel's word that CPU 1 really went away and came back
    assert (out / "online_during").read_text().strip() == "0"
    assert (out / "online_after").read_text().strip() == "0-1"
    memleak_files.check(out, env, mode)
