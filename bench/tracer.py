# SPDX-License-Identifier: GPL-2.0
"""A tracer process under measurement: started, known to be attached once
it prints a line beginning with "Tracing", stopped with SIGINT as a user
stops it (Ctrl-C), reaped with its resource usage.  One launcher for
bench.py (per-event cost), macro.py (whole workloads) and ready.py
(start-up and peak RSS)."""
import os
import select
import signal
import subprocess
import tempfile
import threading
import time


class Failed(Exception):
    pass


class Tracer:
    """cmd started now; returns once it printed its "Tracing" line (kscope
    prints it when every probe is attached; bench.py's bpftrace programs
    print it from BEGIN).  stderr_too: look for that line on stderr as
    well, merged into the output (kscope prints it there when stdout
    carries JSON, -j, or when -o names the output file); otherwise stderr
    is kept apart for error messages.  ready_ms: from exec to that line."""

    def __init__(self, cmd, timeout=60.0, stderr_too=False):
        self.cmd = cmd
        self.err = None if stderr_too else tempfile.TemporaryFile()
        self.maxrss_kb = None
        self.stop_ms = None
        t0 = time.monotonic()
        self.p = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if stderr_too else self.err)
        fd = self.p.stdout.fileno()
        buf = b""
        while True:
            left = t0 + timeout - time.monotonic()
            r = select.select([fd], [], [], max(left, 0))[0]
            if not r:
                self.kill()
                raise Failed("%s: not ready after %.0f s" % (cmd[0], timeout))
            chunk = os.read(fd, 65536)
            if not chunk:
                self._reap(None)
                raise Failed("%s exited %s before attaching: %s" %
                             (" ".join(cmd[:3]), self.p.returncode,
                              self.stderr().strip()[-300:]))
            buf += chunk
            if b"\nTracing" in b"\n" + buf:
                break
        self.ready_ms = (time.monotonic() - t0) * 1000.0
        # keep reading so a big final report never blocks the tracer
        self.out = [buf]
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self):
        for chunk in iter(lambda: self.p.stdout.read1(65536), b""):
            self.out.append(chunk)

    def _reap(self, timeout):
        """Wait up to timeout seconds (None: for ever) for the process to
        end; True once it is reaped.  os.wait4 rather than Popen.wait, for
        the process's own peak RSS (ru_maxrss)."""
        end = None if timeout is None else time.monotonic() + timeout
        while self.p.returncode is None:
            pid, status, ru = os.wait4(self.p.pid,
                                       0 if end is None else os.WNOHANG)
            if pid:
                self.p.returncode = os.waitstatus_to_exitcode(status)
                self.maxrss_kb = ru.ru_maxrss
                break
            if time.monotonic() >= end:
                return False
            time.sleep(0.01)
        return True

    def stderr(self):
        if self.err is None:
            return self.output()
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def kill(self):
        self.p.kill()
        self._reap(None)

    def stop(self, first_wait=15):
        """SIGINT, as a user would; returns (exit status, signals sent).
        bpftrace 0.17 sometimes misses a SIGINT that arrives right after
        it attached, so ask again (after first_wait seconds) before
        resorting to SIGTERM/SIGKILL."""
        sent = []
        t0 = time.monotonic()
        for sig, wait in ((signal.SIGINT, first_wait), (signal.SIGINT, 5),
                          (signal.SIGTERM, 5), (signal.SIGKILL, 30)):
            if self._reap(0):
                break
            self.p.send_signal(sig)
            sent.append(signal.Signals(sig).name)
            self._reap(wait)
        self.stop_ms = (time.monotonic() - t0) * 1000.0
        self.reader.join(5)
        return self.p.returncode, sent

    def output(self):
        return b"".join(self.out).decode(errors="replace")
