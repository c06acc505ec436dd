"""A short soak (the long one is benchmarks/soak.py): memory must not grow
with the number of frames, and LIVE_STREAM must never queue frames."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _soak_module():
    spec = importlib.util.spec_from_file_location("handsdk_soak", REPO / "benchmarks" / "soak.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_soak_memory_is_flat_and_live_stream_never_queues(bundle_path):
    soak = _soak_module()
    lines = []
    stats = soak.soak(bundle_path, frames=1200, every=200, live_frames=400, out=lines.append)
    rss = [r for _, r, _ in stats["samples"]]
    # after warm-up (interpreters, first allocations) RSS stays flat: < 8 MiB over 1,000 more frames
    assert len(rss) == 7 and rss[-1] - rss[1] < 8.0, rss
    assert stats["detector_runs"] < 1200 / 2  # tracking, not detecting every frame
    assert stats["live_max_pending"] <= 1 and stats["live_in_order"]
    assert stats["live_delivered"] + stats["live_dropped"] == 400 and stats["live_delivered"] >= 1
    assert any("LIVE_STREAM" in x for x in lines)


def test_rss_probe_sees_an_allocation():
    soak = _soak_module()
    import numpy as np

    before = soak.rss_mb()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, touched
    after = soak.rss_mb()
    assert after - before > 40, (before, after)
    del block
