"""The One-Euro filter (Casiez, Roussel & Vogel, CHI 2012): a first-order
low-pass filter whose cutoff rises with speed, so that a still hand does not
jitter and a moving hand does not lag.

    cutoff = min_cutoff + beta * |dx/dt| / scale

``scale`` makes ``beta`` independent of the image resolution: the tracker
passes the hand's size in pixels, so ``beta`` is per "hand sizes per second".
Works on scalars and on arrays of any shape (every element filtered alone).
Timestamps are in seconds and must increase; a repeated or older timestamp
returns the last output unchanged.
"""
from __future__ import annotations

import math

import numpy as np

from .checks import check_range

__all__ = ["OneEuroFilter"]


def _alpha(cutoff, dt):
    tau = 1.0 / (2 * math.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """``f = OneEuroFilter(min_cutoff=1.0, beta=1.0, d_cutoff=1.0)``;
    ``y = f(x, t_seconds, scale=1.0)``.

    min_cutoff (Hz): the cutoff when still; lower means smoother and laggier.
    beta: how fast the cutoff rises with speed; higher means less lag.
    d_cutoff (Hz): the cutoff of the speed estimate.
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 1.0, d_cutoff: float = 1.0):
        self.min_cutoff = check_range("min_cutoff", min_cutoff, 0, lo_open=True, note="Hz")
        self.beta = check_range("beta", beta, 0)
        self.d_cutoff = check_range("d_cutoff", d_cutoff, 0, lo_open=True, note="Hz")
        self.reset()

    def reset(self):
        self._x = None
        self._dx = None
        self._t = None

    def __call__(self, x, t: float, scale: float = 1.0):
        x = np.asarray(x, np.float64)
        if self._x is None or self._x.shape != x.shape:
            self._x, self._dx, self._t = x.copy(), np.zeros_like(x), float(t)
            return x.copy()
        dt = float(t) - self._t
        if dt <= 0:
            return self._x.copy()
        self._t = float(t)
        dx = (x - self._x) / dt
        a_d = _alpha(self.d_cutoff, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx) / max(float(scale), 1e-9)
        a = _alpha(cutoff, dt)
        self._x = a * x + (1 - a) * self._x
        return self._x.copy()
