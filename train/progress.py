"""Progress of long child processes (pip installs, training runs): run a
command with its output going to a log file, and pass the log's new lines
that matter to a callback while it runs, so long work shows where it is."""
from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterable

#: pip's lines worth showing while it installs
PIP_LINES = re.compile(r"^(Collecting|Downloading|Installing collected packages|Successfully installed)\b")
#: a Keras epoch header or an epoch summary line (``N/N - 12s - loss: ...``)
EPOCH_LINES = re.compile(r"^(Epoch \d+/\d+|\d+/\d+ - \d+s .*)$")


def run_logged(cmd: Iterable[str], logfile, *, show: re.Pattern | None = None,
               on_line: Callable[[str], None] | None = None, timeout: float | None = None,
               poll_s: float = 1.0, **popen_kw) -> int:
    """Run ``cmd`` with stdout and stderr into ``logfile``; every new log line
    matching ``show`` goes to ``on_line`` while it runs. Returns the exit code;
    raises ``subprocess.TimeoutExpired`` (the process killed) after ``timeout``."""
    logfile = Path(logfile)
    t0 = time.monotonic()
    with open(logfile, "w", encoding="utf-8") as out, open(logfile, encoding="utf-8", errors="replace") as tail:
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=subprocess.STDOUT, **popen_kw)
        buf = ""

        def pump():
            nonlocal buf
            buf += tail.read()
            *lines, buf = buf.split("\n")
            for ln in lines:
                ln = ln.strip()
                if ln and on_line is not None and (show is None or show.search(ln)):
                    on_line(ln[:200])

        while True:
            try:
                rc = proc.wait(timeout=poll_s)
                break
            except subprocess.TimeoutExpired:
                pump()
                if timeout is not None and time.monotonic() - t0 > timeout:
                    proc.kill()
                    proc.wait()
                    raise subprocess.TimeoutExpired(list(cmd), timeout) from None
        out.flush()
        buf += "\n"
        pump()
    return rc
