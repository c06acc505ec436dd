"""Latency statistics: one summary of per-frame times (ms), used by
``handsdk profile`` (:mod:`handsdk.tools.profiling`), ``handsdk bench``
(:mod:`handsdk.tools.bench_metrics`) and ``handsdk run``'s timing summary;
and the one protocol of their tracking frames (:func:`tracking_clips`)."""
from __future__ import annotations

import time

import numpy as np


def latency_stats(values, *, ndigits: int | None = None, empty=None) -> dict:
    """{"p50", "p90", "mean", "n"} of ``values`` (ms): p50 is the median, p90
    the 90th percentile (linear interpolation); rounded to ``ndigits`` when
    given. With no values, p50 / p90 / mean are ``empty`` and n is 0."""
    a = np.asarray(values, dtype=float).ravel()
    if a.size == 0:
        return {"p50": empty, "p90": empty, "mean": empty, "n": 0}
    out = {"p50": float(np.median(a)), "p90": float(np.percentile(a, 90)), "mean": float(a.mean())}
    if ndigits is not None:
        out = {k: round(v, ndigits) for k, v in out.items()}
    return dict(out, n=int(a.size))


def median_ms(values) -> float | None:
    """The median of ``values`` (ms), None when there are none."""
    return latency_stats(values)["p50"]


def was_tracked(result) -> bool:
    """A VIDEO-mode frame whose hand came from tracking: a hand was reported
    and the detector did not run."""
    return bool(result.hands) and result.timings_ms.get("detect", 0.0) == 0.0


def tracking_clips(rec, frames, *, clip_len: int = 6, warmup: int = 0, step_ms: int = 33, ts: int = 0):
    """The tracking protocol of ``handsdk bench`` and ``handsdk profile``:
    ``rec`` (a VIDEO-mode recognizer, max_hands=1 so that a tracked hand stops
    the detector) gets ``warmup`` frames of ``frames[0]``, then each frame
    held for ``clip_len`` frames (a clip: the first frame finds the hand, the
    others track it). Yields ``(j, result, ms)`` per timed frame: j its
    place in its clip (0: the first), ms the time ``recognize`` took."""
    clip_len = max(2, int(clip_len))
    for _ in range(warmup):
        ts += step_ms
        rec.recognize(frames[0], ts)
    for a in frames:
        for j in range(clip_len):
            ts += step_ms
            t = time.perf_counter()
            r = rec.recognize(a, ts)
            yield j, r, (time.perf_counter() - t) * 1000
