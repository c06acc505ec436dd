"""Latency statistics: one summary of per-frame times (ms), used by
``handsdk profile`` (:mod:`handsdk.tools.profiling`), ``handsdk bench``
(:mod:`handsdk.tools.bench_metrics`) and ``handsdk run``'s timing summary."""
from __future__ import annotations

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
