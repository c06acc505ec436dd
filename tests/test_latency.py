"""handsdk.tools.latency: the one latency summary (p50 = median, p90, mean,
n) behind `handsdk profile`, `handsdk bench` and `handsdk run`'s timings."""
from __future__ import annotations

import math

import numpy as np

from handsdk.tools.latency import latency_stats, median_ms


def test_latency_stats_values():
    v = [4.0, 1.0, 3.0, 2.0, 10.0]
    s = latency_stats(v)
    assert s == {"p50": 3.0, "p90": float(np.percentile(v, 90)), "mean": 4.0, "n": 5}
    assert latency_stats([1.0, 2.0])["p50"] == 1.5  # even count: the mean of the middle two
    r = latency_stats([1.23456, 2.34567, 3.45678], ndigits=3)
    assert r["p50"] == 2.346 and r["mean"] == round((1.23456 + 2.34567 + 3.45678) / 3, 3) and r["n"] == 3
    assert latency_stats(np.array([[1.0, 2.0], [3.0, 4.0]]))["n"] == 4


def test_latency_stats_empty():
    assert latency_stats([]) == {"p50": None, "p90": None, "mean": None, "n": 0}
    e = latency_stats([], empty=float("nan"))
    assert e["n"] == 0 and all(math.isnan(e[k]) for k in ("p50", "p90", "mean"))
    assert median_ms([]) is None and median_ms([5.0, 1.0, 3.0]) == 3.0


def test_every_caller_uses_it():
    from handsdk.cli.common import stats_ms
    from handsdk.tools import profiling
    from handsdk.tools.bench_metrics import build_report

    v = [5.0, 7.0, 6.0, 30.0]
    assert stats_ms(v) == latency_stats(v)
    assert math.isnan(stats_ms([])["p50"]) and stats_ms([])["n"] == 0
    assert profiling._stats(v) == latency_stats(v, ndigits=3)
    rep = build_report({}, {}, {}, None, sdk_latency={"320x240": {"image_ms": v, "video_ms": []}})
    det = next(r for r in rep["latency"] if r["mode"] == "detection")
    assert det["sdk_ms"] == median_ms(v) == 6.5
