# SPDX-License-Identifier: GPL-2.0
"""The libFuzzer harnesses (tests/fuzz/), briefly: each one replays its
committed regression inputs, then fuzzes for KSCOPE_FUZZ_SECONDS (default
10) from the build's seeds and the corpus kept in build/fuzz/corpus.  Any
crash, sanitizer report or failed check fails the test and leaves the
input in build/fuzz/crash/.  `make fuzz FUZZ_SECONDS=N` runs them long."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
FZ = ROOT / "build" / "fuzz"
SECONDS = int(os.environ.get("KSCOPE_FUZZ_SECONDS", "10"))
HARNESSES = sorted(p.stem[len("fuzz_"):]
                   for p in (ROOT / "tests" / "fuzz").glob("fuzz_*.c"))


@pytest.mark.parametrize("name", HARNESSES)
def test_fuzz(name):
    assert (FZ / f"fuzz_{name}").exists(), \
        "build/fuzz/fuzz_%s missing: run `make fuzz-build`" % name
    p = subprocess.run(["sh", str(ROOT / "tests" / "fuzz" / "run.sh"),
                        str(FZ), str(SECONDS), name],
                       capture_output=True, text=True,
                       timeout=SECONDS * 3 + 120)
    print(p.stdout)
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"fuzz {name}: ok" in p.stdout, p.stdout
