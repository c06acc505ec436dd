"""Long child processes show progress: the log's matching lines reach the
callback while the process runs, everything lands in the log, timeouts kill."""
from __future__ import annotations

import subprocess
import sys

import pytest

from handsdk.train.progress import EPOCH_LINES, PIP_LINES, run_logged

SCRIPT = ("import sys, time\n"
          "for i in range(3):\n"
          "    print(f'Epoch {i + 1}/3', flush=True)\n"
          "    print('noise', flush=True)\n"
          "    time.sleep(0.3)\n"
          "    print(f'10/10 - 1s - loss: 0.{i}', flush=True)\n"
          "sys.exit(3)\n")


def test_matching_lines_arrive_while_the_process_runs(tmp_path):
    seen = []
    rc = run_logged([sys.executable, "-c", SCRIPT], tmp_path / "x.log", show=EPOCH_LINES,
                    on_line=lambda ln: seen.append(ln), poll_s=0.1)
    assert rc == 3
    assert seen == ["Epoch 1/3", "10/10 - 1s - loss: 0.0", "Epoch 2/3", "10/10 - 1s - loss: 0.1",
                    "Epoch 3/3", "10/10 - 1s - loss: 0.2"]
    assert (tmp_path / "x.log").read_text().count("noise") == 3  # the log keeps everything


def test_timeout_kills_and_raises(tmp_path):
    with pytest.raises(subprocess.TimeoutExpired):
        run_logged([sys.executable, "-c", "import time; time.sleep(30)"], tmp_path / "y.log", timeout=0.5,
                   poll_s=0.1)


def test_pip_lines():
    assert PIP_LINES.search("Collecting mediapipe") and PIP_LINES.search("Successfully installed a-1")
    assert not PIP_LINES.search("  Using cached x.whl")
