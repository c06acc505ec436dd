"""Synthetic motion gestures: keypoint streams of hands moved along drawn
paths (swipes, circles, a wave, the fingerspelled J and Z, and hands moving
without meaning), for training and evaluating the motion set
(:mod:`handsdk.motion`), and rendered clips of them for the demo.

A **take** is one hand on one camera: a list of segments (a held hand shape,
a transition to another, a gesture drawn along a path, a movement without
meaning) realised on a fine time grid (240 Hz), then sampled at a camera's
frame times (15-60 fps, jittered, frames dropped) with tracking noise
(:func:`build_take`). Hands come from the renderer's kinematic hand model
(templates of the built-in sets seen from their views, 3D: the J's wrist
twist turns the hand) or from the real static hands of the keypoint CSVs
(2D, moved and rotated in the image plane).

Paths are drawn in the **user's view** (what a person facing the camera
sees, x to their right, y down) in hand sizes, then mirrored into the
camera's image: a J is drawn by the pinky, down then hooked to the left and
up, with the palm turning; a Z by the index: a stroke to the right, a
diagonal down to the left, a stroke to the right. Three **path generators**
realise every class differently, so that a model can be scored on a
generator it never saw:

* ``param``: analytic strokes (lines, arcs, sinusoids) with a minimum-jerk
  time law per stroke and short dwells at corners;
* ``spline``: jittered control points through a Catmull-Rom spline, timed by
  the two-thirds power law (slower where the path bends);
* ``lognormal``: the sigma-lognormal model of handwriting (Plamondon):
  overlapping strokes with lognormal speed profiles whose direction turns
  along them, so corners round off where strokes overlap.

numpy only (the hand model's forward kinematics), no TensorFlow.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from handsdk.motion import DEFAULT_FRAMES, DEFAULT_RATE_HZ, MOTION_LABELS, mirror_label, motion_features

GENERATORS = ("param", "spline", "lognormal")
FINE_HZ = 240.0
#: a gesture's window label holds this long after the gesture ended (then: none)
MAX_AFTER_S = 0.45
PALM = (0, 5, 9, 13, 17)
#: what traces each gesture (keypoint index; -1: the palm's centre)
TRACER = {"J": 20, "Z": 8, "wave": 0}
#: hand shapes per class: (set, label, weight) of the synthetic templates
SHAPES = {
    "J": (("asl_letters", "I", 1.0),),
    "Z": (("commands", "point", 0.75), ("asl_letters", "D", 0.25)),
    "swipe": (("commands", "open_palm", 0.45), ("asl_letters", "B", 0.2), ("commands", "point", 0.15),
              ("commands", "fist", 0.1), ("asl_letters", "W", 0.1)),
    "circle": (("commands", "point", 0.6), ("commands", "open_palm", 0.3), ("asl_letters", "B", 0.1)),
    "wave": (("commands", "open_palm", 0.8), ("asl_letters", "B", 0.2)),
}
#: the CSV classes (Kazuhito00 / kinivi keypoint.csv) used as real hands per class
REAL_SHAPES = {"Z": ("Pointer",), "swipe": ("Open", "Close", "Pointer"), "circle": ("Pointer", "Open"),
               "wave": ("Open",)}


def _family(label: str) -> str:
    return "swipe" if label.startswith("swipe") else "circle" if label.startswith("circle") else label


# ============================================================ paths

@dataclass
class Path2:
    """A drawn path: ``t`` (M,) seconds from 0 on the fine grid, ``xy``
    (M, 2) the tracer's displacement in hand sizes (user's view, y down),
    ``roll``/``yaw`` (M,) radians added to the hand's view, ``scale`` (M,)
    (the hand nearing the camera), ``tracer`` (keypoint, -1 the palm),
    ``recognisable_s``: from when on the movement is the gesture (None: the
    end), ``label``."""

    t: np.ndarray
    xy: np.ndarray
    roll: np.ndarray
    yaw: np.ndarray
    scale: np.ndarray
    tracer: int = -1
    label: str = "none"
    recognisable_s: float | None = None
    kind: str = ""  # what drew it (a none movement's kind, "prefix:<label>")

    @property
    def duration(self) -> float:
        return float(self.t[-1]) if len(self.t) else 0.0


def _grid(duration: float) -> np.ndarray:
    n = max(2, int(round(duration * FINE_HZ)) + 1)
    return np.linspace(0.0, duration, n)


def _minjerk(u):
    u = np.clip(u, 0, 1)
    return u ** 3 * (10 - 15 * u + 6 * u ** 2)


def _path(t, xy, label, tracer=-1, roll=None, yaw=None, scale=None, rec=None) -> Path2:
    z = np.zeros(len(t))
    xy = np.asarray(xy, np.float64)
    xy = xy - xy[0]
    return Path2(t, xy, z if roll is None else roll, z.copy() if yaw is None else yaw,
                 np.ones(len(t)) if scale is None else scale, tracer, label, rec)


def _polyline_time(points, seg_durations, dwell, law=_minjerk) -> tuple[np.ndarray, np.ndarray]:
    """Points along a polyline, each segment timed by ``law`` over its
    duration, with ``dwell`` seconds still at each inner corner."""
    pts = [np.asarray(points[0], float)[None]]
    for i, d in enumerate(seg_durations):
        a, b = np.asarray(points[i], float), np.asarray(points[i + 1], float)
        n = max(2, int(round(d * FINE_HZ)))
        u = law(np.arange(1, n + 1) / n)
        pts.append(a + (b - a) * u[:, None])
        if i + 1 < len(seg_durations) and dwell[i] > 0:
            pts.append(np.repeat(b[None], int(round(dwell[i] * FINE_HZ)), axis=0))
    xy = np.concatenate(pts)
    return np.arange(len(xy)) / FINE_HZ, xy


def _resample_by_speed(curve: np.ndarray, speed_rel: np.ndarray, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """A dense curve (K, 2) re-timed so that its speed follows ``speed_rel``
    (K,) (any units) and it lasts ``duration``."""
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    v = np.maximum((speed_rel[1:] + speed_rel[:-1]) / 2, 1e-3)
    dt = seg / v
    tc = np.concatenate([[0.0], np.cumsum(dt)])
    tc *= duration / max(tc[-1], 1e-9)
    t = _grid(duration)
    xy = np.stack([np.interp(t, tc, curve[:, 0]), np.interp(t, tc, curve[:, 1])], 1)
    return t, xy


def _catmull_rom(ctrl: np.ndarray, per: int = 40) -> np.ndarray:
    p = np.concatenate([ctrl[:1] * 2 - ctrl[1:2], ctrl, ctrl[-1:] * 2 - ctrl[-2:-1]])
    out = []
    u = np.linspace(0, 1, per, endpoint=False)[:, None]
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * ((2 * p1) + (-p0 + p2) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * u ** 3))
    out.append(ctrl[-1:])
    return np.concatenate(out)


def _power_law_speed(curve: np.ndarray, ramp: float = 0.15) -> np.ndarray:
    """Speed of the two-thirds power law (v ~ curvature^(-1/3)), slowed at
    both ends."""
    d1 = np.gradient(curve, axis=0)
    d2 = np.gradient(d1, axis=0)
    num = np.abs(d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0])
    den = np.maximum(np.linalg.norm(d1, axis=1) ** 3, 1e-12)
    kappa = num / den
    s = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    s /= max(s[-1], 1e-9)
    v = (kappa + 0.3 / max(np.median(np.linalg.norm(np.diff(curve, axis=0), axis=1)) * len(curve), 1e-6)
         + 1e-3) ** (-1 / 3)
    env = np.minimum(1.0, np.minimum(s, 1 - s) / ramp) * 0.85 + 0.15
    return v * env


def _lognormal_strokes(strokes, duration_hint: float) -> tuple[np.ndarray, np.ndarray]:
    """Sigma-lognormal strokes: (t0, mu, sigma, D, theta_start, theta_end)
    each; the path is the integral of their summed velocities."""
    end = max(t0 + np.exp(mu + 3.2 * sg) for t0, mu, sg, *_ in strokes)
    t = _grid(max(end, duration_hint))
    vel = np.zeros((len(t), 2))
    for t0, mu, sg, D, th0, th1 in strokes:
        tt = t - t0
        ok = tt > 1e-6
        v = np.zeros(len(t))
        v[ok] = D / (sg * np.sqrt(2 * np.pi) * tt[ok]) * np.exp(-(np.log(tt[ok]) - mu) ** 2 / (2 * sg * sg))
        frac = np.cumsum(v) / FINE_HZ / max(D, 1e-9)
        th = th0 + (th1 - th0) * np.clip(frac, 0, 1)
        vel += v[:, None] * np.stack([np.cos(th), np.sin(th)], 1)
    xy = np.cumsum(vel, axis=0) / FINE_HZ
    # trim the still tail
    sp = np.linalg.norm(vel, axis=1)
    last = int(np.flatnonzero(sp > 0.02 * sp.max())[-1]) if sp.max() > 0 else len(t) - 1
    return t[: last + 2], xy[: last + 2]


def _stroke(rng, t0, dur, D, th0, th1):
    sg = rng.uniform(0.2, 0.38)
    mu = np.log(dur / (np.exp(2 * sg) - np.exp(-2 * sg)) + 1e-6)
    return (t0, mu, sg, D, th0, th1)


_DIRS = {"swipe_left": np.pi, "swipe_right": 0.0, "swipe_up": -np.pi / 2, "swipe_down": np.pi / 2}


def gesture_path(label: str, generator: str, rng: np.random.Generator) -> Path2:
    """One drawing of ``label`` by ``generator`` (user's view)."""
    fam = _family(label)
    g = generator
    if g not in GENERATORS:
        raise ValueError(f"unknown path generator {g!r}; one of {GENERATORS}")
    if fam == "swipe":
        th = _DIRS[label] + rng.normal(0, 0.12)
        L, dur = rng.uniform(1.5, 4.0), rng.uniform(0.2, 0.55)
        d = np.array([np.cos(th), np.sin(th)])
        n = np.array([-d[1], d[0]])
        bulge = rng.uniform(-0.15, 0.15) * L
        if g == "param":
            t = _grid(dur)
            s = _minjerk(t / dur)
            xy = s[:, None] * L * d + (4 * s * (1 - s) * bulge)[:, None] * n
        elif g == "spline":
            k = int(rng.integers(3, 6))
            u = np.linspace(0, 1, k)
            ctrl = u[:, None] * L * d + ((4 * u * (1 - u) * bulge) + rng.normal(0, 0.06 * L, k) * (u * (1 - u) > 0))[:, None] * n
            c = _catmull_rom(ctrl)
            t, xy = _resample_by_speed(c, _power_law_speed(c, ramp=0.3), dur)
        else:
            strokes = [_stroke(rng, 0.0, dur, L, th + bulge / L, th - bulge / L)]
            if rng.random() < 0.4:  # a small corrective stroke at the end
                strokes.append(_stroke(rng, dur * rng.uniform(0.5, 0.8), dur * 0.5, 0.15 * L,
                                       th + rng.normal(0, 0.8), th + rng.normal(0, 0.8)))
            t, xy = _lognormal_strokes(strokes, dur)
        return _path(t, xy, label)
    if fam == "circle":
        sign = 1.0 if label == "circle_cw" else -1.0  # y down: a growing angle turns clockwise on screen
        # from a fingertip's small circle (a fifth of a hand: drawn by the finger and the wrist, as the
        # real trajectories are) to the whole hand's (an arm's circle)
        r = float(np.exp(rng.uniform(np.log(0.15), np.log(1.3))))
        ecc = rng.uniform(0.75, 1.3)
        tilt = rng.uniform(0, np.pi)
        revs = rng.uniform(1.0, 2.0) if rng.random() < 0.7 else rng.uniform(2.0, 4.0)  # (or circling on)
        per_rev = rng.uniform(0.4, 1.1)
        dur = min(revs * per_rev, 3.0)
        revs = dur / per_rev
        a0 = rng.uniform(0, 2 * np.pi)
        ct, st = np.cos(tilt), np.sin(tilt)

        def ell(a):
            x, y = r * np.cos(a), r * ecc * np.sin(a)
            return np.stack([ct * x - st * y, st * x + ct * y], -1)

        rec = 0.9 * per_rev
        if g == "param":
            t = _grid(dur)
            u = t / dur
            ang = a0 + sign * 2 * np.pi * revs * (u - np.sin(2 * np.pi * u) / (2 * np.pi) * 0.6)
            xy = ell(ang)
        elif g == "spline":
            k = max(6, int(round(8 * revs)) + 1)
            ang = a0 + sign * 2 * np.pi * revs * np.linspace(0, 1, k) + rng.normal(0, 0.12, k)
            ctrl = ell(ang) * rng.uniform(0.88, 1.12, (k, 1))
            c = _catmull_rom(ctrl)
            t, xy = _resample_by_speed(c, _power_law_speed(c, ramp=0.12), dur)
        else:
            n_st = max(4, int(round(4 * revs)))
            step = dur / (n_st + 1.5)
            strokes = []
            th = a0 + sign * np.pi / 2  # tangent direction
            for i in range(n_st):
                strokes.append(_stroke(rng, i * step, 2.6 * step, r * np.pi / 2 * rng.uniform(0.85, 1.15),
                                       th + sign * i * np.pi / 2, th + sign * (i + 1) * np.pi / 2))
            t, xy = _lognormal_strokes(strokes, dur)
        return _path(t, xy, label, tracer=8 if r < 0.5 else -1, rec=rec)
    if fam == "wave":
        f = rng.uniform(1.5, 3.0)
        halves = int(rng.integers(3, 7))
        dur = min(halves / (2 * f), 1.5)
        # a wave swings the hand from side to side (the palm rolling with it); a hand that rolls
        # in place is restless, not waving (none_path's "wiggle")
        A = np.radians(rng.uniform(15, 40))
        B = rng.uniform(0.2, 0.7)
        ph = rng.uniform(0, np.pi)
        rec = min(dur, 2.5 / (2 * f))
        if g == "param":
            t = _grid(dur)
            env = np.minimum(1.0, np.minimum(t, dur - t) / min(0.12, dur / 4))
            roll = A * env * np.sin(2 * np.pi * f * t)
            xy = np.stack([B * env * np.sin(2 * np.pi * f * t + ph), 0.05 * B * np.sin(4 * np.pi * f * t)], 1)
        elif g == "spline":
            k = halves + 1
            xs = B * np.where(np.arange(k) % 2 == 0, -1.0, 1.0) * rng.uniform(0.7, 1.3, k)
            ctrl = np.stack([xs, rng.normal(0, 0.05, k)], 1)
            c = _catmull_rom(ctrl)
            t, xy = _resample_by_speed(c, _power_law_speed(c, ramp=0.1), dur)
            vx = np.gradient(xy[:, 0])
            roll = A * vx / max(np.abs(vx).max(), 1e-9)
            roll = np.convolve(roll, np.ones(9) / 9, mode="same")
        else:
            strokes = []
            step = dur / (halves + 1)
            for i in range(halves):
                th = 0.0 if i % 2 == 0 else np.pi
                strokes.append(_stroke(rng, i * step, 2.2 * step, 2 * B * rng.uniform(0.7, 1.3),
                                       th + rng.normal(0, 0.2), th + rng.normal(0, 0.2)))
            t, xy = _lognormal_strokes(strokes, dur)
            vx = np.gradient(xy[:, 0])
            roll = A * vx / max(np.abs(vx).max(), 1e-9)
        return _path(t, xy, label, tracer=TRACER["wave"], roll=roll, rec=rec)
    if label == "J":
        h, r = rng.uniform(0.5, 1.0), rng.uniform(0.2, 0.45)
        dur = rng.uniform(0.5, 1.1)
        twist = np.radians(rng.uniform(45, 90))
        if g == "param":
            L1, L2 = h, np.pi * r * rng.uniform(0.8, 1.05)
            t = _grid(dur)
            s = _minjerk(t / dur) * (L1 + L2)
            a = np.clip((s - L1) / r, 0, L2 / r)
            xy = np.where((s <= L1)[:, None], np.stack([np.zeros_like(s), s], 1),
                          np.stack([-r + r * np.cos(a), h + r * np.sin(a)], 1))
            hook = np.clip((s - L1) / L2, 0, 1)
        elif g == "spline":
            ctrl = np.array([[0, 0], [0, 0.5 * h], [0, h], [-0.3 * r, h + 0.85 * r], [-r, h + r],
                             [-1.7 * r, h + 0.75 * r], [-2 * r, h + 0.1 * r]])
            ctrl = ctrl + rng.normal(0, 0.06, ctrl.shape) * np.r_[0, 1, 1, 1, 1, 1, 1][:, None]
            c = _catmull_rom(ctrl)
            t, xy = _resample_by_speed(c, _power_law_speed(c, ramp=0.2), dur)
            hook = np.clip((xy[:, 1] - 0.6 * h) / (0.6 * h), 0, 1) * (np.arange(len(t)) / len(t) > 0.3)
            hook = np.maximum.accumulate(hook)
        else:
            d1 = dur * rng.uniform(0.4, 0.55)
            strokes = [_stroke(rng, 0.0, d1 * 1.3, h, np.pi / 2 + rng.normal(0, 0.1), np.pi / 2),
                       _stroke(rng, d1 * rng.uniform(0.55, 0.8), dur - d1 * 0.5, np.pi * r * rng.uniform(0.8, 1.1),
                               np.pi / 2, 1.5 * np.pi + rng.normal(0, 0.15))]
            t, xy = _lognormal_strokes(strokes, dur)
            hook = np.clip((xy[:, 1] - 0.7 * (xy[:, 1].max())) / 0.3 / max(xy[:, 1].max(), 1e-6), 0, 1)
            hook = np.maximum.accumulate(hook)
        yaw = twist * _minjerk(hook)
        roll = np.radians(rng.uniform(-5, 25)) * hook
        return _path(t, xy, "J", tracer=TRACER["J"], roll=roll, yaw=yaw)
    if label == "Z":
        W, H = rng.uniform(0.8, 1.8), rng.uniform(0.6, 1.4)
        slant = rng.uniform(-0.15, 0.15)
        pts = np.array([[0, 0], [W, slant * W], [slant * H, H], [W + slant * H, H + slant * W]])
        dur = rng.uniform(0.7, 1.5)
        lens = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        if g == "param":
            dwell = rng.uniform(0, 0.07, 2)
            segs = (dur - dwell.sum()) * lens / lens.sum()
            t, xy = _polyline_time(pts, segs, dwell)
        elif g == "spline":
            ctrl = []
            for i in range(3):
                a, b = pts[i], pts[i + 1]
                for u in (0.0, 0.5):
                    ctrl.append(a + (b - a) * u + rng.normal(0, 0.04, 2))
            ctrl.append(pts[3])
            c = _catmull_rom(np.array(ctrl), per=30)
            t, xy = _resample_by_speed(c, _power_law_speed(c, ramp=0.1), dur)
        else:
            strokes, t0 = [], 0.0
            for i in range(3):
                d = pts[i + 1] - pts[i]
                th = np.arctan2(d[1], d[0])
                sd = dur * lens[i] / lens.sum()
                strokes.append(_stroke(rng, t0, sd * 1.25, lens[i], th + rng.normal(0, 0.12), th + rng.normal(0, 0.12)))
                t0 += sd * rng.uniform(0.6, 0.85)
            t, xy = _lognormal_strokes(strokes, dur)
        return _path(t, xy, "Z", tracer=TRACER["Z"])
    raise ValueError(f"no path for {label!r}")


NONE_KINDS = ("reach", "turn", "drift", "still", "approach", "wiggle")


def none_path(kind: str, generator: str, rng: np.random.Generator) -> Path2:
    """A movement without meaning: ``reach`` (slow moves between waypoints),
    ``turn`` (the hand rotating), ``drift``, ``still``, ``approach`` (towards
    or away from the camera), ``wiggle`` (a restless hand: quick small
    rotations and shifts, unlike a wave's wide swings); ``generator`` times
    the reach."""
    p = _none_path(kind, generator, rng)
    p.kind = kind
    return p


def _none_path(kind: str, generator: str, rng: np.random.Generator) -> Path2:
    if kind == "reach":
        k = int(rng.integers(2, 4))
        pts = [np.zeros(2)]
        for _ in range(k - 1):
            a = rng.uniform(0, 2 * np.pi)
            pts.append(pts[-1] + rng.uniform(0.3, 1.4) * np.array([np.cos(a), np.sin(a)]))
        pts = np.array(pts)
        lens = np.linalg.norm(np.diff(pts, axis=0), axis=1)
        dur = float(np.sum(lens / rng.uniform(0.5, 1.5, len(lens)))) + 0.2
        if generator == "param":
            t, xy = _polyline_time(pts, dur * lens / lens.sum(), rng.uniform(0, 0.2, len(lens)))
        elif generator == "spline":
            c = _catmull_rom(pts + rng.normal(0, 0.05, pts.shape))
            t, xy = _resample_by_speed(c, _power_law_speed(c, ramp=0.3), dur)
        else:
            strokes, t0 = [], 0.0
            for i in range(len(lens)):
                d = pts[i + 1] - pts[i]
                th = np.arctan2(d[1], d[0])
                sd = dur * lens[i] / lens.sum()
                strokes.append(_stroke(rng, t0, sd * 1.3, lens[i], th + rng.normal(0, 0.3), th + rng.normal(0, 0.3)))
                t0 += sd
            t, xy = _lognormal_strokes(strokes, dur)
        return _path(t, xy, "none", roll=np.radians(rng.normal(0, 10)) * _minjerk(t / max(t[-1], 1e-6)))
    dur = rng.uniform(0.6, 2.0)
    t = _grid(dur)
    u = _minjerk(t / dur)
    if kind == "turn":
        return _path(t, rng.normal(0, 0.1, 2) * u[:, None], "none", roll=np.radians(rng.uniform(-80, 80)) * u,
                     yaw=np.radians(rng.uniform(-70, 70)) * u)
    if kind == "approach":
        return _path(t, rng.normal(0, 0.15, 2) * u[:, None], "none",
                     scale=1 + (rng.uniform(1.2, 1.6) ** rng.choice([-1, 1]) - 1) * u)
    if kind == "wiggle":
        fr = rng.uniform(2.0, 9.0)
        amp = np.radians(rng.uniform(3, 25))
        jit = np.convolve(rng.normal(0, 1, len(t)), np.ones(12) / 12, mode="same")
        roll = amp * (0.7 * np.sin(2 * np.pi * fr * t + rng.uniform(0, 6.3)) + jit)
        xy = rng.uniform(0.01, 0.06) * np.stack([np.sin(2 * np.pi * fr * 0.7 * t), np.cos(2 * np.pi * fr * 1.3 * t)], 1)
        return _path(t, xy, "none", roll=roll, yaw=np.radians(rng.uniform(0, 10)) * np.sin(2 * np.pi * fr * 0.5 * t))
    if kind == "drift":
        ph = rng.uniform(0, 2 * np.pi, 4)
        fr = rng.uniform(0.1, 0.5, 2)
        amp = rng.uniform(0.03, 0.2)
        xy = amp * np.stack([np.sin(2 * np.pi * fr[0] * t + ph[0]), np.sin(2 * np.pi * fr[1] * t + ph[1])], 1)
        return _path(t, xy, "none", roll=np.radians(4) * np.sin(2 * np.pi * fr[0] * t + ph[2]))
    return _path(t, np.zeros((len(t), 2)), "none")


# ============================================================ hands

def _rot_x(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _rot_y(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rot_z(a):
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


_R0 = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])


class SynthHands:
    """Hand shapes on one synthetic hand (the renderer's kinematic model):
    ``add(set, label)`` -> shape id; :meth:`keypoints` projects blends of
    two shapes under view offsets, in hand sizes."""

    real = False

    def __init__(self, rng: np.random.Generator, handedness: str = "Right", noise: float = 5.0):
        from . import HandShape

        self.rng = rng
        self.shape = HandShape.random(rng, handedness)
        self.handedness = handedness
        self.noise = noise
        self.base: list = []
        self.angles: list = []
        self.views: list = []
        self.names: list = []
        self.depth = rng.uniform(0.35, 0.7)
        self._size = None

    def add(self, gesture_set: str, label: str, *, facing: bool = False) -> int:
        """A shape of a template (``random``/``relaxed`` or ``random``/any:
        a random pose); ``facing``: seen from the middle of the template's
        views (a signer facing the camera), not from a random one of them."""
        from . import forward_kinematics, pose_from_template, random_pose
        from .templates import TEMPLATES

        if gesture_set == "random":
            p = random_pose(self.rng, relaxed=label == "relaxed")
        else:
            p = pose_from_template(gesture_set, label, self.rng, self.noise)
            t = TEMPLATES[gesture_set].get(label)
            if facing and t is not None:
                p.view = np.radians([(lo + hi) / 2 for lo, hi in t.view]) + np.radians(self.rng.normal(0, 5, 3))
        self.base.append(forward_kinematics(self.shape, p))
        self.angles.append(np.array(p.angles))
        v = p.view.copy()
        if gesture_set != "random" and not facing:
            v = v + np.radians(self.rng.normal(0, [10, 8, 10]))
        self.views.append(v)
        self.names.append(f"{gesture_set}/{label}")
        return len(self.base) - 1

    def keypoints(self, a, b, w, roll, yaw) -> np.ndarray:
        """(M, 21, 2) image coordinates (x right, y down) in hand sizes."""
        base = np.asarray(self.base)
        views = np.asarray(self.views)
        w = np.asarray(w)[:, None]
        J = base[a] * (1 - w[:, :, None]) + base[b] * w[:, :, None]
        v = views[a] * (1 - w) + views[b] * w
        yw, pt, rl = v[:, 0] + yaw, v[:, 1], v[:, 2] + roll
        if self.handedness == "Left":
            yw, rl = -yw, -rl
        R = _rot_z(rl) @ _R0 @ _rot_y(yw) @ _rot_x(pt)
        C = np.einsum("mij,mkj->mki", R, J)
        z = self.depth + C[:, :, 2:3]
        xy = C[:, :, :2] / np.maximum(z, 0.05)
        if self._size is None:
            self._size = float(np.ptp(xy[0], axis=0).max())
        return xy / max(self._size, 1e-6)


@lru_cache(maxsize=None)
def _csv_rows(path: str):
    """(labels (N,) int, keypoints (N, 21, 2)) of a keypoint CSV (malformed rows skipped)."""
    labs, kps = [], []
    with open(path, encoding="utf-8-sig") as f:
        for line in f:
            parts = line.strip().split(",")
            if len(parts) != 43:
                continue
            try:
                v = [float(x) for x in parts]
            except ValueError:
                continue
            labs.append(int(v[0]))
            kps.append(np.array(v[1:], np.float32).reshape(21, 2))
    return np.array(labs, np.int64), np.asarray(kps, np.float32).reshape(-1, 21, 2)


def real_hand_sets(root) -> dict:
    """{author: (labels, names, keypoints)} of the keypoint CSVs under
    ``<root>/gesture_keypoints_csv`` (keypoints in the image as the camera
    gives it: the CSVs' mirrored view flipped back; wrist-relative, largest
    coordinate 1). Empty when the folder is missing."""
    base = Path(os.fspath(root)) / "gesture_keypoints_csv"
    out = {}
    if not base.is_dir():
        return out
    for d in sorted(base.iterdir()):
        f = d / "keypoint.csv"
        if not f.is_file():
            continue
        labs, kps = _csv_rows(str(f))
        if not len(labs):
            continue
        names_f = d / "keypoint_classifier_label.csv"
        names = [s.strip() for s in names_f.read_text(encoding="utf-8-sig").splitlines()] if names_f.is_file() else []
        kps = kps.copy()
        kps[..., 0] *= -1  # the apps show a mirrored view
        out[d.name] = (labs, names, kps)
    return out


class RealHands:
    """Real static hands (rows of a keypoint CSV, 2D) as shapes: blends and
    in-plane rotation; a yaw squeezes x (no depth)."""

    real = True

    def __init__(self, rows: np.ndarray, rng: np.random.Generator, author: str = ""):
        self.rows = rows
        self.rng = rng
        self.author = author
        self.base: list = []
        self.names: list = []
        self._size = None

    def add_row(self, i: int, name: str = "") -> int:
        kp = self.rows[int(i)].astype(np.float64)
        kp = kp * self.rng.uniform(0.92, 1.08, 2)  # (aspect jitter)
        self.base.append(kp)
        self.names.append(name)
        return len(self.base) - 1

    def keypoints(self, a, b, w, roll, yaw) -> np.ndarray:
        base = np.asarray(self.base)
        w = np.asarray(w)[:, None, None]
        kp = base[a] * (1 - w) + base[b] * w
        kp = kp - kp[:, PALM].mean(axis=1, keepdims=True)
        kp[..., 0] *= np.cos(np.clip(yaw, -1.3, 1.3))[:, None]
        c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
        x, y = kp[..., 0].copy(), kp[..., 1].copy()
        kp[..., 0], kp[..., 1] = c * x - s * y, s * x + c * y
        if self._size is None:
            self._size = float(np.ptp(base[0], axis=0).max())
        return kp / max(self._size, 1e-6)


# ============================================================ takes

@dataclass
class Segment:
    """kind: ``hold`` (shape held), ``trans`` (to ``shape``), ``path``
    (a :class:`Path2`, shape held)."""

    kind: str
    duration: float = 0.0
    shape: int = 0
    path: Path2 | None = None


@dataclass
class Take:
    """One hand's stream: frame ``times_ms`` (N,), ``keypoints`` (N, 21, 2)
    pixels of the camera's image, the gestures in it (label, start_ms,
    end_ms, recognisable_ms), and where it came from."""

    times_ms: np.ndarray
    keypoints: np.ndarray
    gestures: list = field(default_factory=list)
    generator: str = "static"
    hand_source: str = "synthetic"
    trajectory_source: str = "synthetic"
    mirrored: bool = False
    info: dict = field(default_factory=dict)

    @property
    def duration_ms(self) -> float:
        return float(self.times_ms[-1] - self.times_ms[0]) if len(self.times_ms) else 0.0


@dataclass
class Camera:
    """fps, timing jitter (fraction of a frame), dropped-frame rate, hand
    size in pixels, tracking noise (hand sizes), glitches per frame,
    One-Euro smoothing (the recognizer's default)."""

    fps: float = 30.0
    jitter: float = 0.1
    drop: float = 0.0
    hand_px: float = 120.0
    noise: float = 0.01
    glitch: float = 0.0
    smoothing: bool = False

    @classmethod
    def random(cls, rng: np.random.Generator) -> "Camera":
        return cls(fps=float(rng.choice([15, 20, 24, 25, 30, 30, 30, 48, 60])), jitter=rng.uniform(0.0, 0.2),
                   drop=float(rng.choice([0.0, 0.0, rng.uniform(0, 0.25)])), hand_px=rng.uniform(60, 260),
                   noise=rng.uniform(0.004, 0.03), glitch=float(rng.choice([0.0, 0.0, rng.uniform(0, 0.03)])),
                   smoothing=bool(rng.random() < 0.5))


def _frame_times(duration_s: float, cam: Camera, rng) -> np.ndarray:
    n = int(duration_s * cam.fps * 1.3) + 4
    dt = 1.0 / cam.fps * (1 + cam.jitter * rng.uniform(-1, 1, n))
    t = np.concatenate([[0.0], np.cumsum(dt)])
    t = t[t <= duration_s]
    if cam.drop > 0 and len(t) > 4:
        keep = rng.random(len(t)) >= cam.drop
        if rng.random() < 0.3:  # a burst
            i = int(rng.integers(0, len(t)))
            keep[i:i + int(rng.integers(2, 6))] = False
        keep[0] = keep[-1] = True
        t = t[keep]
    return t


def _schedule(segments: list, start_shape: int = 0) -> dict:
    """The pose schedule of ``segments`` on the fine grid (FINE_HZ): per step
    the shapes blended (``a`` -> ``b`` by ``w``), roll and yaw, scale, the
    path's offset ``xy`` (camera image), the keypoint that traces the path
    (``tracer``, -1: the palm) and the segment's index; plus the gestures
    (label, start, end, recognisable, ms) and each segment's span."""
    A, B, W, ROLL, YAW, SC, PXY, TR, SEG = [], [], [], [], [], [], [], [], []
    cur = start_shape
    roll0 = yaw0 = 0.0
    t_off = 0.0
    gestures = []
    spans = []
    for si, seg in enumerate(segments):
        d = seg.path.duration if seg.kind == "path" else seg.duration
        spans.append((seg.path.kind or seg.path.label if seg.kind == "path" else seg.kind, t_off * 1000,
                      (t_off + d) * 1000))
        if seg.kind == "path":
            p = seg.path
            m = len(p.t)
            A.append(np.full(m, cur)), B.append(np.full(m, cur)), W.append(np.zeros(m))
            ROLL.append(roll0 + p.roll), YAW.append(yaw0 + p.yaw), SC.append(p.scale)
            PXY.append(p.xy * [-1.0, 1.0])  # user's view -> camera image
            TR.append(np.full(m, p.tracer)), SEG.append(np.full(m, si))
            if p.label != "none":
                rec = p.recognisable_s if p.recognisable_s is not None else p.duration
                gestures.append([p.label, t_off * 1000, (t_off + p.duration) * 1000, (t_off + rec) * 1000])
            roll0, yaw0 = roll0 + p.roll[-1], yaw0 + p.yaw[-1]
            # (the hand keeps its last view; a later hold drifts back slowly)
            t_off += p.duration
            continue
        m = max(2, int(round(seg.duration * FINE_HZ)))
        u = np.arange(m) / (m - 1)
        if seg.kind == "trans":
            A.append(np.full(m, cur)), B.append(np.full(m, seg.shape)), W.append(_minjerk(u))
            cur = seg.shape
        else:
            A.append(np.full(m, cur)), B.append(np.full(m, cur)), W.append(np.zeros(m))
        back = _minjerk(u) * (1 if seg.kind == "trans" else 0.3)
        ROLL.append(roll0 * (1 - back)), YAW.append(yaw0 * (1 - back))
        roll0, yaw0 = roll0 * (1 - back[-1]), yaw0 * (1 - back[-1])
        SC.append(np.ones(m))
        PXY.append(np.zeros((m, 2))), TR.append(np.full(m, -1)), SEG.append(np.full(m, si))
        t_off += seg.duration
    out = {k: np.concatenate(v) for k, v in (("a", A), ("b", B), ("w", W), ("roll", ROLL), ("yaw", YAW),
                                               ("scale", SC), ("xy", PXY), ("tracer", TR), ("segment", SEG))}
    out.update(gestures=gestures, spans=spans)
    return out


def _translation(rel, pxy, tracer, segment) -> np.ndarray:
    """(M, 2): the hand's translation per fine step, so each segment's tracer
    follows its path and starts where it was at the end of the segment before
    (continuity)."""
    M = len(rel)
    trace = np.where((tracer >= 0)[:, None], rel[np.arange(M), np.maximum(tracer, 0)], rel[:, PALM].mean(axis=1))
    T = np.zeros((M, 2))
    pos = np.zeros(2)  # the hand's translation at the end of the previous segment
    starts = np.flatnonzero(np.r_[True, segment[1:] != segment[:-1]])
    for s0, s1 in zip(starts, np.r_[starts[1:], M]):
        anchor = pos + trace[s0]  # where this segment's tracer is when it starts
        T[s0:s1] = anchor + pxy[s0:s1] - trace[s0:s1]
        pos = T[s1 - 1]
    return T


def build_take(hands, segments: list, rng: np.random.Generator, cam: Camera | None = None, *,
               start_shape: int = 0, mirror: bool = False, generator: str = "static",
               trajectory_source: str = "synthetic") -> Take:
    """Realise ``segments`` on ``hands`` (:class:`SynthHands` or
    :class:`RealHands`) and film them with ``cam``; ``mirror``: the whole take
    mirrored (a left hand's version: gesture labels mirrored too)."""
    cam = cam or Camera.random(rng)
    sch = _schedule(segments, start_shape)
    a, b, w, roll, yaw, sc, pxy, tr, sg = (sch[k] for k in ("a", "b", "w", "roll", "yaw", "scale", "xy", "tracer",
                                                            "segment"))
    gestures, spans = sch["gestures"], sch["spans"]
    M = len(a)
    rel = hands.keypoints(a.astype(int), b.astype(int), w, roll, yaw) * sc[:, None, None]
    # one take's look: hands and cameras differ in proportions (an anisotropic scale and a shear)
    aff = np.diag(rng.uniform(0.88, 1.12, 2)) @ np.array([[1.0, rng.normal(0, 0.06)], [rng.normal(0, 0.06), 1.0]])
    rel = rel @ aff.T
    kp = rel + _translation(rel, pxy, tr, sg)[:, None, :]
    # tremor: slow noise of the whole hand and of each keypoint
    k = np.arange(M) / FINE_HZ
    ph = rng.uniform(0, 2 * np.pi, (2, 3))
    kp += (0.008 * np.stack([np.sin(2 * np.pi * 5.3 * k + ph[0, 0]) + 0.6 * np.sin(2 * np.pi * 8.9 * k + ph[0, 1]),
                             np.sin(2 * np.pi * 4.7 * k + ph[1, 0]) + 0.6 * np.sin(2 * np.pi * 9.7 * k + ph[1, 1])],
                            1))[:, None, :]
    # frames
    ft = _frame_times((M - 1) / FINE_HZ, cam, rng)
    idx = np.clip(np.round(ft * FINE_HZ).astype(int), 0, M - 1)
    px = kp[idx] * cam.hand_px
    n = len(idx)
    drift = np.cumsum(rng.normal(0, 1, (n, 21, 2)), axis=0)
    drift = drift - np.linspace(0, 1, n)[:, None, None] * drift[-1:]  # (a bridge: bounded)
    px += rng.normal(0, cam.noise * cam.hand_px, px.shape) + drift * (0.15 * cam.noise * cam.hand_px)
    if cam.glitch > 0:
        bad = rng.random(n) < cam.glitch
        px[bad] += rng.normal(0, rng.uniform(0.05, 0.25) * cam.hand_px, (int(bad.sum()), 21, 2))
    px += np.array([320.0, 240.0]) + rng.normal(0, 40, 2)
    times = ft * 1000.0
    if cam.smoothing:
        from handsdk.filters import OneEuroFilter

        flt = OneEuroFilter(1.0, 10.0, 1.0)
        out = np.empty_like(px)
        for i in range(n):
            s = float(np.ptp(px[i], axis=0).max())
            out[i] = flt(px[i], times[i] / 1000.0, scale=max(s, 1.0))
        px = out
    labels = [g[0] for g in gestures]
    if mirror:
        px[..., 0] = 640.0 - px[..., 0]
        labels = [mirror_label(x) for x in labels]
    gests = [(lab, g[1], g[2], g[3]) for lab, g in zip(labels, gestures)]
    src = "real" if getattr(hands, "real", False) else "synthetic"
    return Take(times, px.astype(np.float32), gests, generator, src, trajectory_source, mirror,
                {"fps": cam.fps, "drop": cam.drop, "hand_px": cam.hand_px, "shapes": list(hands.names),
                 "segments": spans})


# ============================================================ whole takes of one class

def _pick(rng, options):
    w = np.array([o[-1] for o in options], float)
    return options[int(rng.choice(len(options), p=w / w.sum()))]


def _synth_hand(rng, fam: str, prefix: str | None = None):
    hands = SynthHands(rng, "Right")
    gs, lab, _ = _pick(rng, SHAPES[fam]) if fam in SHAPES else ("commands", "none", 1)
    main = hands.add(gs, lab)
    return hands, main


def _random_shape(hands, rng):
    if hands.real:
        return hands.add_row(int(rng.integers(len(hands.rows))))
    u = rng.random()
    if u < 0.45:
        from . import GESTURE_SETS

        return hands.add("asl_letters", str(rng.choice(GESTURE_SETS["asl_letters"])))
    if u < 0.8:
        from . import GESTURE_SETS

        return hands.add("commands", str(rng.choice(GESTURE_SETS["commands"])))
    return hands.add("random", "relaxed" if rng.random() < 0.5 else "any")


def gesture_take(label: str, generator: str, rng: np.random.Generator, *, real=None, cam: Camera | None = None,
                 mirror: bool | None = None) -> Take:
    """A take of one gesture: a short lead-in (the hand held still, often in
    the gesture's start shape, or moving in from a transition), the
    gesture, then a hold, a drift or a transition to another shape.
    ``real``: (author, labels, names, keypoints) of a CSV to take the hand
    from (classes with real hand shapes only)."""
    fam = _family(label)
    if real is not None and fam in REAL_SHAPES:
        author, labs, names, kps = real
        want = [i for i, n in enumerate(names) if n in REAL_SHAPES[fam]]
        rows = np.flatnonzero(np.isin(labs, want))
        hands = RealHands(kps, rng, author)
        main = hands.add_row(int(rng.choice(rows)) if len(rows) else int(rng.integers(len(kps))))
    else:
        hands, main = _synth_hand(rng, fam)
    segs = []
    start = main
    u = rng.random()
    if u < 0.55:
        segs.append(Segment("hold", rng.uniform(0.15, 0.8)))
    elif u < 0.8:
        start = _random_shape(hands, rng)
        segs += [Segment("hold", rng.uniform(0.1, 0.4)), Segment("trans", rng.uniform(0.2, 0.4), main),
                 Segment("hold", rng.uniform(0.05, 0.3))]
    else:
        segs.append(Segment("path", path=none_path(str(rng.choice(["drift", "still", "reach"])),
                                                   generator, rng)))
    segs.append(Segment("path", path=gesture_path(label, generator, rng)))
    v = rng.random()
    if v < 0.35:
        segs.append(Segment("hold", rng.uniform(0.3, 1.2)))
    elif v < 0.6:
        segs.append(Segment("path", path=none_path("drift", generator, rng)))
    elif v < 0.85:
        segs += [Segment("hold", rng.uniform(0.05, 0.3)), Segment("trans", rng.uniform(0.2, 0.5),
                                                                  _random_shape(hands, rng)),
                 Segment("hold", rng.uniform(0.2, 0.8))]
    else:  # the hand goes back (a return stroke)
        segs.append(Segment("path", path=none_path("reach", generator, rng)))
    if mirror is None:
        mirror = bool(rng.random() < 0.5)
    return build_take(hands, segs, rng, cam, start_shape=start, mirror=mirror, generator=generator)


def none_take(generator: str, rng: np.random.Generator, *, real=None, cam: Camera | None = None,
              duration: float | None = None) -> Take:
    """A take without a motion gesture: static poses held and changed
    (letters, commands), idle drift, turning, reaching, the hand nearing the
    camera; a prefix of a gesture (half a Z, a J's first stroke) now and then."""
    if real is not None:
        author, labs, names, kps = real
        hands = RealHands(kps, rng, author)
        cur = hands.add_row(int(rng.integers(len(kps))))
    else:
        hands = SynthHands(rng, "Right")
        cur = _random_shape(hands, rng)
    segs: list = []
    total = 0.0
    want = duration if duration is not None else rng.uniform(1.5, 3.5)
    while total < want:
        u = rng.random()
        if u < 0.3:
            s = Segment("hold", rng.uniform(0.3, 1.5))
            total += s.duration
        elif u < 0.55:
            s = Segment("trans", rng.uniform(0.15, 0.5), _random_shape(hands, rng))
            total += s.duration
        elif u < 0.9:
            p = none_path(str(rng.choice(NONE_KINDS, p=[0.27, 0.18, 0.25, 0.1, 0.08, 0.12])), generator, rng)
            s = Segment("path", path=p)
            total += p.duration
        else:  # a prefix of a circle: an arc (a Z's or a J's first stroke alone would be a swipe)
            lab = str(rng.choice(["circle_cw", "circle_ccw"]))
            p = gesture_path(lab, generator, rng)
            rec = p.recognisable_s if p.recognisable_s is not None else p.duration
            # (a circle of several turns is recognisable after one: cut before that)
            cut = int(min(len(p.t) * rng.uniform(0.25, 0.5), 0.7 * rec * FINE_HZ))
            p = Path2(p.t[:cut], p.xy[:cut], p.roll[:cut], p.yaw[:cut], p.scale[:cut], p.tracer, "none",
                      kind=f"prefix:{lab}")
            s = Segment("path", path=p)
            total += p.duration
        segs.append(s)
    return build_take(hands, segs, rng, cam, start_shape=cur, mirror=bool(rng.random() < 0.5), generator=generator)


# ============================================================ real trajectories (point_history.csv)

POINT_HISTORY_LABELS = {0: "none", 1: "circle_cw", 2: "circle_ccw", 3: "none"}  # Stop, Clockwise, CCW, Move


def point_history_runs(root) -> list:
    """The recordings of ``gesture_keypoints_csv/Kazuhito00/point_history.csv``
    (kinivi's file is the same bytes): consecutive 16-point rows of one
    recording chain (each row is the previous shifted by one point), so each
    run is one continuous fingertip trajectory. Returns [(label, points (N, 2)
    in pixels of the app's 960x540 mirrored view, run id)]."""
    f = Path(os.fspath(root)) / "gesture_keypoints_csv" / "Kazuhito00" / "point_history.csv"
    if not f.is_file():
        return []
    d = np.loadtxt(f, delimiter=",", encoding="utf-8-sig")
    y = d[:, 0].astype(int)
    P = d[:, 1:].reshape(-1, 16, 2) * [960.0, 540.0]
    runs, cur = [], [P[0]]
    for i in range(len(P) - 1):
        a, b = P[i, 1:] - P[i, 1], P[i + 1, :-1]
        if y[i] == y[i + 1] and np.abs(a - b).max() < 3:
            cur.append(P[i + 1])
            continue
        runs.append((y[i], cur))
        cur = [P[i + 1]]
    runs.append((y[-1], cur))
    out = []
    for k, (lab, rows) in enumerate(runs):
        # row i's points are relative to its own first point; row i + 1 starts one point later,
        # so its origin is row i's second point: chain the origins, add each row's last point
        absolute = list(rows[0])
        offset = np.zeros(2)
        for i in range(1, len(rows)):
            offset = offset + rows[i - 1][1]  # row i's origin = row i-1's point 1 (absolute)
            absolute.append(rows[i][-1] + offset)
        out.append((POINT_HISTORY_LABELS[int(lab)], np.asarray(absolute, np.float64), k))
    return out


def point_history_take(run, rng: np.random.Generator, *, real_pointer=None, fps: float | None = None) -> Take:
    """A take of a real fingertip trajectory: a pointing hand (a real
    Pointer row, else a synthetic one) whose index tip follows it, at a frame
    rate of 15-30 fps (the app's is not recorded); the whole take is labelled
    (a circle run is circles throughout)."""
    label, pts, rid = run
    fps = float(fps or rng.uniform(15, 30))
    if real_pointer is not None:
        hands = RealHands(real_pointer, rng, "Kazuhito00")
        main = hands.add_row(int(rng.integers(len(real_pointer))))
    else:
        hands = SynthHands(rng, "Right")
        main = hands.add("commands", "point")
    hand_px = rng.uniform(110, 240)
    n = len(pts)
    t = np.arange(n) / fps
    # the trajectory in hand sizes, user's view (the app's view is mirrored: what the user sees)
    xy = (pts - pts[0]) / hand_px
    tf = _grid(t[-1])
    path = Path2(tf, np.stack([np.interp(tf, t, xy[:, 0]), np.interp(tf, t, xy[:, 1])], 1), np.zeros(len(tf)),
                 np.zeros(len(tf)), np.ones(len(tf)), 8, label, 0.6 if label != "none" else None)
    segs = []
    if rng.random() < 0.5:
        segs.append(Segment("hold", rng.uniform(0.2, 1.0)))
    segs.append(Segment("path", path=path))
    cam = Camera(fps=fps, jitter=0.05, drop=0.0, hand_px=hand_px, noise=rng.uniform(0.003, 0.012),
                 smoothing=bool(rng.random() < 0.5))
    take = build_take(hands, segs, rng, cam, start_shape=main, mirror=bool(rng.random() < 0.5),
                      generator="point_history", trajectory_source="point_history")
    take.info["run"] = int(rid)
    return take


# ============================================================ windows

def window_label(take: Take, end_ms: float, window_ms: float) -> str:
    """The label of the window of ``take`` ending at ``end_ms``: a gesture
    whose recognisable part lies inside it and that ended at most
    :data:`MAX_AFTER_S` before its end (a repeated gesture, circles or a wave,
    counts from when one turn is done); else ``none``."""
    lo = end_ms - window_ms
    best = "none"
    for lab, gs, ge, rec in take.gestures:
        if take.trajectory_source == "point_history":
            if end_ms >= rec and end_ms - gs >= 600:
                best = lab
            continue
        if end_ms < rec or end_ms - ge > MAX_AFTER_S * 1000:
            continue
        inside = min(ge, end_ms) - max(gs, lo)
        need = 0.85 * (rec - gs) if rec < ge else 0.85 * (ge - gs)
        if inside >= need:
            best = lab
    return best


def take_windows(take: Take, ends_ms, *, frames: int = DEFAULT_FRAMES, rate_hz: float = DEFAULT_RATE_HZ):
    """(features (K, frames, C), labels (K,)) of the windows ending at ``ends_ms``
    (each sees the frames up to its end, as at run time)."""
    window_ms = (frames - 1) * 1000.0 / rate_hz
    feats, labs = [], []
    t, kp = take.times_ms, take.keypoints
    for e in ends_ms:
        hi = int(np.searchsorted(t, e, side="right"))
        if hi < 2:
            continue
        lo = int(np.searchsorted(t, t[hi - 1] - window_ms - 1000.0 / rate_hz, side="left"))
        feats.append(motion_features(t[lo:hi], kp[lo:hi], frames=frames, rate_hz=rate_hz))
        labs.append(window_label(take, t[hi - 1], window_ms))
    C = 2 * 11 + 1
    return (np.asarray(feats, np.float32).reshape(-1, frames, feats[0].shape[1] if feats else C),
            np.array(labs, dtype=object))


def training_ends(take: Take, rng: np.random.Generator, n_pos: int = 3, n_neg: int = 2) -> list:
    """Window ends for training: after each gesture is recognisable (up to
    :data:`MAX_AFTER_S` after it), and negatives before it (a prefix) or
    after (the gesture growing old in the window); anywhere in a take
    without one."""
    t0, t1 = float(take.times_ms[0]), float(take.times_ms[-1])
    ends = []
    if not take.gestures or take.trajectory_source == "point_history":
        lo = t0 + (600 if take.gestures else 200)
        if t1 > lo:
            ends += list(rng.uniform(lo, t1, n_pos + n_neg))
        return ends
    for lab, gs, ge, rec in take.gestures:
        hi = min(ge + MAX_AFTER_S * 1000, t1 + 1)
        if hi > rec:  # (a stream that ends before the gesture is recognisable has no positive)
            ends += list(rng.uniform(rec, hi, n_pos))
        for _ in range(n_neg):
            if rng.random() < 0.5 and rec - gs > 150:
                ends.append(rng.uniform(gs + 0.3 * (rec - gs), rec - 60))
            elif t1 > ge + MAX_AFTER_S * 1000 + 80:
                ends.append(rng.uniform(ge + MAX_AFTER_S * 1000 + 80, min(t1, ge + 1600)))
    return [e for e in ends if t0 < e <= t1 + 1]


def evaluation_ends(take: Take, rng: np.random.Generator, n_pos: int = 2, n_neg: int = 1,
                    margin_ms: float = 120.0) -> list:
    """Window ends for scoring, clear of the label boundaries of
    :func:`window_label` by ``margin_ms`` (a window ending just as a gesture
    becomes recognisable, or just as it grows old, is ambiguous; the stream
    events of :mod:`handsdk.tools.motion_eval` score those moments):
    positives from ``margin_ms`` after the gesture is recognisable to
    ``margin_ms`` before its label lapses, prefixes at most three quarters
    of the way to recognisable, windows that ended more than
    ``2 * margin_ms`` after the label lapsed, anywhere in a take without one."""
    t0, t1 = float(take.times_ms[0]), float(take.times_ms[-1])
    if not take.gestures or take.trajectory_source == "point_history":
        return training_ends(take, rng, n_pos, n_neg)
    ends = []
    for lab, gs, ge, rec in take.gestures:
        lo, hi = rec + margin_ms, min(ge + MAX_AFTER_S * 1000 - margin_ms, t1)
        if hi > lo:
            ends += list(rng.uniform(lo, hi, n_pos))
        for _ in range(n_neg):
            if rng.random() < 0.5 and rec - gs > 200:
                ends.append(rng.uniform(gs + 0.2 * (rec - gs), gs + 0.75 * (rec - gs)))
            elif t1 > ge + MAX_AFTER_S * 1000 + 2 * margin_ms:
                ends.append(rng.uniform(ge + MAX_AFTER_S * 1000 + 2 * margin_ms, min(t1, ge + 1600)))
    return [e for e in ends if t0 < e <= t1 + 1]


# ============================================================ signing and demo sequences

def signing_steps(word: str, rng: np.random.Generator, *, hold_s=(0.5, 0.9)) -> list:
    """The steps of a fingerspelled word with motion letters: [("letter", L,
    hold_s)] for static letters and [("motion", "J"|"Z", lead_s)] for J and
    Z (the start shape, I or a pointing index, held ``lead_s``, then traced);
    a repeated letter gets a small release in between."""
    steps = []
    for i, ch in enumerate(word.upper()):
        if ch in ("J", "Z"):
            steps.append(("motion", ch, float(rng.uniform(0.2, 0.45))))
        else:
            if i and word.upper()[i - 1] == ch:
                steps.append(("release", ch, 0.12))
            steps.append(("letter", ch, float(rng.uniform(*hold_s))))
    return steps


def signing_segments(word: str, rng: np.random.Generator, shape_for, *, generator: str = "param",
                     gap_s: float = 0.25) -> tuple[list, list]:
    """The segments of ``word`` fingerspelled (:func:`signing_steps`): J traced
    by the pinky from I, Z by the index from a pointing hand, a repeated
    static letter released by a small bounce. ``shape_for(kind, letter)`` ->
    the shape id of ``letter`` (kind ``"letter"``, ``"motion"``: the start
    shape of J/Z, ``"release"``: the relaxed hand between a repeated letter;
    None: a bounce with the letter's own shape); returns (segments, held:
    [(segment index, letter)] of the static letters' holds)."""
    segs: list = []
    held: list = []
    first = True
    for kind, ch, dur in signing_steps(word, rng):
        if kind == "release":  # a double letter: the hand relaxes a moment and bounces
            shape = shape_for("release", ch)
            if shape is not None:
                segs.append(Segment("trans", 0.12, shape))
            segs.append(Segment("path", path=_bounce(rng)))
            continue
        shape = shape_for(kind, ch)
        if not first:
            segs.append(Segment("trans", gap_s, shape))
        first = False
        if kind == "motion":
            segs.append(Segment("hold", dur))
            segs.append(Segment("path", path=gesture_path(ch, generator, rng)))
            segs.append(Segment("hold", 0.15))
        else:
            held.append((len(segs), ch))
            segs.append(Segment("hold", dur))
    segs.append(Segment("hold", 0.6))
    return segs, held


def letter_spans(segs: list, held: list) -> list:
    """[(letter, start_ms, end_ms)] of the static letters' holds."""
    bounds = np.cumsum([0.0] + [(sg.path.duration if sg.kind == "path" else sg.duration) for sg in segs]) * 1000
    return [(ch, float(bounds[i]), float(bounds[i + 1])) for i, ch in held]


def signing_take(word: str, rng: np.random.Generator, *, generator: str = "param", cam: Camera | None = None,
                 hands: SynthHands | None = None, gap_s: float = 0.25):
    """A synthetic signer fingerspelling ``word`` (J traced with the pinky
    from I, Z with the index from a pointing hand); returns (take, segments,
    hands) so that the same sequence can be rendered to pixels
    (:func:`render_take`)."""
    hands = hands or SynthHands(rng, "Right", noise=3.0)

    def shape_for(kind, ch):
        if kind == "release":
            return hands.add("commands", "none")
        if kind == "motion":
            return hands.add("asl_letters", "I", facing=True) if ch == "J" else hands.add("commands", "point",
                                                                                           facing=True)
        return hands.add("asl_letters", ch, facing=True)

    segs, held = signing_segments(word, rng, shape_for, generator=generator, gap_s=gap_s)
    cam = cam or Camera(fps=30, jitter=0.05, hand_px=110, noise=0.006, smoothing=False)
    take = build_take(hands, segs, rng, cam, start_shape=0, mirror=False, generator=generator)
    take.info["letters"] = letter_spans(segs, held)
    return take, segs, hands


def _bounce(rng):
    t = _grid(0.2)
    u = np.sin(np.pi * t / 0.2)
    return _path(t, np.stack([0.1 * u, 0.45 * u], 1) * rng.uniform(0.9, 1.2), "none")


def motion_stream(rng: np.random.Generator, labels=MOTION_LABELS[1:], *, generator: str = "param",
                  n: int = 6, real=None, cam: Camera | None = None, gap_s=(0.8, 2.0)) -> Take:
    """A longer stream: ``n`` gestures drawn from ``labels`` with stretches of
    meaningless movement and held poses between them (for event-level
    evaluation)."""
    fam_hand = SynthHands(rng, "Right") if real is None else RealHands(real[3], rng, real[0])
    hands = fam_hand
    cur = _random_shape(hands, rng)
    segs: list = [Segment("hold", rng.uniform(0.3, 0.8))]
    for i in range(n):
        lab = str(rng.choice(list(labels)))
        fam = _family(lab)
        if hands.real:
            shape = _random_shape(hands, rng)
        else:
            gs, lb, _ = _pick(rng, SHAPES[fam])
            shape = hands.add(gs, lb)
        segs += [Segment("trans", rng.uniform(0.2, 0.4), shape), Segment("hold", rng.uniform(0.1, 0.5)),
                 Segment("path", path=gesture_path(lab, generator, rng)), Segment("hold", rng.uniform(0.2, 0.6))]
        gap = rng.uniform(*gap_s)
        while gap > 0:
            if rng.random() < 0.5:
                p = none_path(str(rng.choice(["drift", "still", "turn", "reach"])), generator, rng)
                segs.append(Segment("path", path=p))
                gap -= p.duration
            else:
                s = Segment("trans", rng.uniform(0.2, 0.4), _random_shape(hands, rng))
                segs += [s, Segment("hold", 0.3)]
                gap -= s.duration + 0.3
    return build_take(hands, segs, rng, cam, start_shape=cur, mirror=bool(rng.random() < 0.5), generator=generator)


def static_stream(rng: np.random.Generator, real, *, minutes: float = 1.0, fps: float = 30.0,
                  smoothing: bool = True) -> Take:
    """A stream with no motion gesture from one keypoint CSV (``real`` =
    (author, labels, names, keypoints)): its rows played in order as frames
    (runs of consecutive rows, which are consecutive frames of its author's
    webcam), a blend of 8 frames where the walk jumps to another run, the
    hand drifting idly with tracking noise, smoothed by the recognizer's
    One-Euro filter."""
    author, labs, names, kps = real
    n = int(minutes * 60 * fps)
    rows, i = [], int(rng.integers(len(kps)))
    w = []
    while len(rows) < n:
        run = int(rng.integers(20, 150))
        for _ in range(run):
            rows.append(i)
            w.append(None)
            i = (i + 1) % len(kps)
        if rng.random() < 0.5:  # another recording: blend over a few frames
            j = int(rng.integers(len(kps)))
            for k in range(1, 9):
                rows.append((i, j))
                w.append(k / 9)
            i = j
    base = kps.astype(np.float64)
    kp = np.empty((n, 21, 2))
    for f in range(n):
        r = rows[f]
        kp[f] = base[r] if w[f] is None else base[r[0]] * (1 - _minjerk(w[f])) + base[r[1]] * _minjerk(w[f])
    kp = kp - kp[:, PALM].mean(axis=1, keepdims=True)
    size = float(np.median(np.ptp(kp, axis=1).max(axis=1)))
    hand_px = rng.uniform(90, 200)
    px = kp / size * hand_px
    t = (np.arange(n) / fps + rng.uniform(-0.1, 0.1, n) / fps).clip(0) * 1000.0
    t = np.maximum.accumulate(t + np.arange(n) * 1e-3)
    tt = t / 1000.0
    ph = rng.uniform(0, 2 * np.pi, 4)
    amp = rng.uniform(0.1, 0.5) * hand_px
    drift = amp * np.stack([np.sin(2 * np.pi * 0.11 * tt + ph[0]) + 0.5 * np.sin(2 * np.pi * 0.37 * tt + ph[1]),
                            np.sin(2 * np.pi * 0.07 * tt + ph[2]) + 0.5 * np.sin(2 * np.pi * 0.29 * tt + ph[3])], 1)
    px = px + drift[:, None, :] + np.array([320.0, 240.0]) + rng.normal(0, 0.006 * hand_px, px.shape)
    if smoothing:
        from handsdk.filters import OneEuroFilter

        flt = OneEuroFilter(1.0, 10.0, 1.0)
        for f in range(n):
            px[f] = flt(px[f], tt[f], scale=max(float(np.ptp(px[f], axis=0).max()), 1.0))
    return Take(t, px.astype(np.float32), [], "static", "real", "static_csv", False,
                {"author": author, "fps": fps, "hand_px": hand_px, "source": f"{author}/keypoint.csv rows in order"})


# ============================================================ pixels (demo, landmarker check)

def render_take(hands: SynthHands, segments: list, *, size=(240, 320), fps: float = 15.0, seed: int = 0,
                hand_scale: float = 0.35):
    """Render ``segments`` of a synthetic hand to frames with the project's
    renderer (the same kinematic hand, skinned, in a scene): returns
    (frames (N, H, W, 3) uint8 RGB, times_ms (N,), keypoints (N, 21, 2): the
    renderer's own keypoints of each frame). Joint angles are interpolated
    for transitions (the renderer needs a pose per frame)."""
    out = list(iter_render_take(hands, segments, size=size, fps=fps, seed=seed, hand_scale=hand_scale))
    return (np.stack([o[0] for o in out]), np.array([o[1] for o in out]), np.stack([o[2] for o in out]))


def render_times(fine_steps: int, fps: float) -> np.ndarray:
    """The times (s) of the frames :func:`iter_render_take` yields at ``fps``
    for a pose schedule of ``fine_steps`` steps on the fine grid."""
    return np.arange(0, (fine_steps - 1) / FINE_HZ, 1.0 / fps)


def render_length(segments: list, fps: float) -> int:
    """Number of frames :func:`iter_render_take` yields for ``segments`` at
    ``fps`` (no rendering)."""
    return len(render_times(len(_schedule(segments, 0)["a"]), fps))


def iter_render_take(hands: SynthHands, segments: list, *, size=(240, 320), fps: float = 15.0, seed: int = 0,
                     hand_scale: float = 0.35):
    """:func:`render_take` one frame at a time: yields (frame RGB,
    timestamp_ms, keypoints (21, 2))."""
    from dataclasses import replace as _replace

    from . import HandPose
    from .render import random_skin
    from .scene import SceneConfig, _compose, _random_light, _sleeve, place_hand, random_background

    rng = np.random.default_rng(seed)
    h, w = int(size[0]), int(size[1])
    cfg = _replace(SceneConfig(), size=(h, w))
    fov = np.radians(60.0)
    f = 0.5 * w / np.tan(0.5 * fov)
    bg = random_background(rng, h, w, 0.0)
    light = _random_light(rng, _replace(cfg, p_shadow=0.0), h, w)
    skin = random_skin(rng)
    sleeve, cut = _sleeve(rng)
    # the pose schedule on the fine grid, as build_take realises it
    angles = np.asarray(hands.angles)
    sch = _schedule(segments, 0)
    a, b, wt, roll, yaw, pxy, tr, sg = (sch[k] for k in ("a", "b", "w", "roll", "yaw", "xy", "tracer", "segment"))
    M = len(a)
    rel = hands.keypoints(a.astype(int), b.astype(int), wt, roll, yaw)
    T = _translation(rel, pxy, tr, sg)
    palm = rel[:, PALM].mean(axis=1) + T  # palm centre, hand sizes
    size_px = hand_scale * min(h, w)
    centre = palm * size_px
    span = np.maximum(centre.max(0) - centre.min(0), 1e-6)
    centre = centre * min(1.0, 0.62 * w / span[0], 0.5 * h / span[1])  # (the whole clip in the frame)
    centre = centre - (centre.min(0) + centre.max(0)) / 2 + [w / 2, h / 2 + 0.1 * h]
    ft = render_times(M, fps)
    views = np.asarray(hands.views)
    for tk in ft:
        i = min(int(round(tk * FINE_HZ)), M - 1)
        ang = angles[a[i]] * (1 - wt[i]) + angles[b[i]] * wt[i]
        v = views[a[i]] * (1 - wt[i]) + views[b[i]] * wt[i] + [yaw[i], 0.0, roll[i]]
        pose = HandPose(ang, v, None, None)
        spec = place_hand(rng, hands.shape, pose, f, h, w, size_px, centre[i], skin=skin, forearm=0.4, sleeve=sleeve,
                          sleeve_cut=cut)
        s = _compose(rng, cfg, f, [spec], bg, light, None, effects=False, labels=(None, None))
        img = np.clip(s.image.astype(np.float32) + rng.normal(0, 2.0, s.image.shape), 0, 255).astype(np.uint8)
        yield img, float(tk * 1000.0), np.asarray(s.keypoints[0], np.float32)[:, :2]


def motion_script(gestures, rng: np.random.Generator, *, generator: str = "param", hold_s: float = 0.6):
    """(hands, segments) of a synthetic hand making ``gestures`` in turn
    (motion labels; each from its usual hand shape: I for J, a pointing
    index for Z and circles, an open palm for swipes and the wave), held
    still ``hold_s`` between them."""
    hands = SynthHands(rng, "Right", noise=3.0)
    segs: list = []
    first = True
    for lab in gestures:
        fam = _family(lab)
        gs, lb, _ = {"J": ("asl_letters", "I", 1), "Z": ("commands", "point", 1),
                     "circle": ("commands", "point", 1)}.get(fam, ("commands", "open_palm", 1))
        shape = hands.add(gs, lb, facing=True)
        if not first:
            segs.append(Segment("trans", 0.35, shape))
        first = False
        segs += [Segment("hold", hold_s), Segment("path", path=gesture_path(lab, generator, rng)),
                 Segment("hold", 0.3)]
    segs.append(Segment("hold", hold_s))
    return hands, segs


__all__ = ["GENERATORS", "MAX_AFTER_S", "NONE_KINDS", "Path2", "Segment", "Take", "Camera", "SynthHands",
           "RealHands", "gesture_path", "none_path", "build_take", "gesture_take", "none_take", "motion_stream",
           "static_stream", "real_hand_sets", "point_history_runs", "point_history_take", "window_label",
           "take_windows", "training_ends", "evaluation_ends", "signing_steps", "signing_segments",
           "letter_spans", "signing_take", "render_take",
           "iter_render_take", "render_length", "motion_script"]
