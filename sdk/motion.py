"""Motion gestures from tracked keypoints: swipes, circles, a wave and the
fingerspelled letters J and Z.

In VIDEO and LIVE_STREAM mode every track keeps a short history of its
keypoints with their timestamps (:class:`MotionHistory`, on
``handsdk.tracking.Track.history``). A gesture set of kind ``motion`` in the
bundle (its manifest's ``decoding.input`` is ``keypoint_history``) reads that
history through :func:`motion_features`:

* the history is **resampled to a fixed rate** (``rate_hz``, 20 Hz: one step
  every 50 ms) over a fixed window (``frames`` steps, 1.6 s): frame rates of
  15-60 fps, jittered timestamps and dropped frames give the same feature
  (linear interpolation between the frames there are; the steps before the
  track began repeat its first frame and are marked in a mask channel);
* positions are **normalised for hand size and position**: the selected
  keypoints (:data:`MOTION_POINTS`) relative to the hand's mean position over
  the window, divided by the hand's size (the median over the window of the
  larger side of those points' box), as :func:`handsdk.keypoint_features`
  divides a hand by its own extent; no handedness canonicalisation (a swipe
  to the left stays one whichever hand makes it).

A small 1-D convolutional network (TFLite) classifies the resampled window
(:class:`MotionClassifier`); it runs on a track every 100 ms (every second
step), and the scores in between are the last ones (a few tens of
microseconds per tracking frame). Directions are the **user's**: the frames are those of a camera that
faces the user (a webcam as OpenCV reads it, not mirrored), so
``swipe_left`` is a move to the user's left (to the image's right) and
``circle_cw`` is clockwise as the user sees it, as the letters J and Z are
drawn as the signer sees them; pass ``mirrored=True`` for mirrored (selfie)
frames.

The recognizer reports the set's ranked categories in ``hand.gestures`` like
any set, and a :class:`Motion` per motion set in ``hand.motion`` (the best
label with the span of the movement: ``start_ms`` / ``end_ms``), which
:class:`handsdk.events.GestureEvents` turns into events with start and end
timestamps and :class:`handsdk.spelling.Speller` into the letters J and Z.

numpy and the TFLite interpreter only (no TensorFlow).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .checks import check_fraction, check_range
from .results import Category

__all__ = ["MOTION_LABELS", "MOTION_LETTERS", "MOTION_POINTS", "MIRROR_LABELS", "DEFAULT_RATE_HZ",
           "DEFAULT_FRAMES", "Motion", "MotionHistory", "MotionClassifier", "motion_features",
           "motion_channels", "motion_segment", "is_motion_entry", "check_motion_entry", "mirror_label"]

#: the built-in motion classes (``none``: hands moving without meaning, or still)
MOTION_LABELS = ("none", "swipe_left", "swipe_right", "swipe_up", "swipe_down", "circle_cw", "circle_ccw",
                 "wave", "J", "Z")
#: the fingerspelled letters among them
MOTION_LETTERS = ("J", "Z")
#: a mirror image of each label (a left hand's gesture, or mirrored frames)
MIRROR_LABELS = {"swipe_left": "swipe_right", "swipe_right": "swipe_left", "circle_cw": "circle_ccw",
                 "circle_ccw": "circle_cw"}
#: the keypoints whose paths the feature follows: wrist, thumb MCP and tip, each finger's MCP and tip
MOTION_POINTS = (0, 2, 4, 5, 8, 9, 12, 13, 16, 17, 20)
DEFAULT_RATE_HZ = 20.0
DEFAULT_FRAMES = 32
#: feature values are clipped to this many hand sizes
CLIP = 8.0
FEATURE = "motion_features"
FEATURE_VERSION = 1


def mirror_label(label: str) -> str:
    """The label of the mirror image of a gesture (J, Z, wave, swipes up and
    down and none are their own)."""
    return MIRROR_LABELS.get(label, label)


def motion_channels(points=MOTION_POINTS) -> int:
    """Channels per step of :func:`motion_features`: x, y of each point and the mask."""
    return 2 * len(points) + 1


def motion_features(times_ms, keypoints, *, frames: int = DEFAULT_FRAMES, rate_hz: float = DEFAULT_RATE_HZ,
                    points=MOTION_POINTS, end_ms: float | None = None, mirrored: bool = False,
                    grid_out: list | None = None) -> np.ndarray:
    """The motion feature of one keypoint history: (frames, 2 * len(points) + 1)
    float32.

    ``times_ms`` (N,) increasing timestamps; ``keypoints`` (N, 21, 2|3) in
    any unit (pixels). The window ends at ``end_ms`` (default: the last
    timestamp) and reaches back ``(frames - 1) / rate_hz`` seconds; each step
    is linearly interpolated from the frames around it (steps before the
    first frame repeat it, after the last frame repeat that one). Per step:
    the points' (x, y) relative to their mean position over the covered
    steps, divided by the hand's size (the median over the covered steps of
    the larger side of the points' box), clipped to +-:data:`CLIP`; then 1
    where the history covers the step, else 0. ``mirrored``: the frames are
    mirrored (x is negated, so the feature is the one of the camera's view).
    ``grid_out``: a list that receives the steps' timestamps (ms)."""
    t = np.asarray(times_ms, np.float64).reshape(-1)
    kp = np.asarray(keypoints)
    if kp.ndim != 3 or kp.shape[0] != t.shape[0] or kp.shape[1] != 21 or kp.shape[2] < 2:
        raise ValueError(f"expected times (N,) and keypoints (N, 21, 2|3), got {t.shape} and {kp.shape}")
    n, T, P = t.shape[0], int(frames), len(points)
    out = np.zeros((T, 2 * P + 1), np.float32)
    if n == 0:
        return out
    dt = 1000.0 / float(rate_hz)
    end = float(t[-1] if end_ms is None else end_ms)
    grid = end - dt * _steps(T)
    if grid_out is not None:
        grid_out.append(grid)
    sel = kp[:, points, :2].astype(np.float32, copy=False).reshape(n, 2 * P)
    if n == 1:
        res = np.repeat(sel, T, axis=0)
    else:
        i1 = np.searchsorted(t, grid, side="right")
        np.clip(i1, 1, n - 1, out=i1)
        t0, t1 = t[i1 - 1], t[i1]
        w = ((grid - t0) / np.maximum(t1 - t0, 1e-9)).clip(0.0, 1.0).astype(np.float32)[:, None]
        a = sel[i1 - 1]
        res = a + (sel[i1] - a) * w
    mask = (grid >= t[0] - dt / 2) & (grid <= t[-1] + dt / 2)
    v = res[mask] if mask.any() else res
    xy = v.reshape(len(v), P, 2)
    sides = (xy.max(axis=1) - xy.min(axis=1)).max(axis=1)
    sides.sort()  # (the median; np.median costs more than the rest of this function)
    k = len(sides)
    size = 0.5 * float(sides[(k - 1) // 2] + sides[k // 2])
    centre = xy.reshape(-1, 2).sum(axis=0) / (k * P)
    f = res.reshape(T, P, 2) - centre
    f *= 1.0 / max(size, 1e-6)
    if mirrored:
        f[..., 0] *= -1.0
    np.clip(f, -CLIP, CLIP, out=f)
    out[:, :-1] = f.reshape(T, 2 * P)
    out[:, -1] = mask
    return out


@lru_cache(maxsize=8)
def _steps(T: int) -> np.ndarray:
    return np.arange(T - 1, -1, -1, dtype=np.float64)


def motion_segment(feature: np.ndarray, grid_ms: np.ndarray, *, rate_hz: float = DEFAULT_RATE_HZ,
                   min_speed: float = 0.8, rel_speed: float = 0.2, max_gap: int = 4):
    """(start_ms, end_ms) of the last movement in a window (None, None when
    the hand stayed still): a step moves when its fastest point goes faster
    than ``min_speed`` hand sizes per second and than ``rel_speed`` of the
    window's top speed; the movement is the last run of moving steps (gaps of
    up to ``max_gap`` still steps joined), from the step before it to its end."""
    f = np.asarray(feature, np.float32)
    xy = f[:, :-1].reshape(len(f), -1, 2)
    mask = f[:, -1] > 0.5
    if len(f) < 2:
        return None, None
    d = np.diff(xy, axis=0)
    sp = np.sqrt((d * d).sum(axis=2).max(axis=1)) * float(rate_hz)
    sp[~(mask[1:] & mask[:-1])] = 0.0
    top = float(sp.max()) if sp.size else 0.0
    if top < min_speed:
        return None, None
    moving = (sp >= max(min_speed, rel_speed * top)).tolist()
    end = len(moving) - 1 - moving[::-1].index(True)
    start = end
    gap = 0
    for k in range(end - 1, -1, -1):
        if moving[k]:
            start, gap = k, 0
        else:
            gap += 1
            if gap > max_gap:
                break
    # sp[k] is the move from step k to step k + 1
    return int(round(grid_ms[start])), int(round(grid_ms[end + 1]))


class MotionHistory:
    """The keypoints of one track with their timestamps (the last
    ``span_ms``; older frames are dropped). :meth:`add` one frame, read
    :attr:`times` (ms) and :attr:`keypoints` (N, 21, 2) (views). ``cache``
    keeps each motion set's last :class:`Motion` between classifications."""

    def __init__(self, span_ms: float = 2500.0, capacity: int = 256):
        self.span_ms = float(span_ms)
        self._t = np.zeros(int(capacity), np.float64)
        self._kp = np.zeros((int(capacity), 21, 2), np.float32)
        self._start = 0
        self._end = 0
        self.cache: dict = {}

    def __len__(self) -> int:
        return self._end - self._start

    def add(self, timestamp_ms, keypoints) -> None:
        ts = float(timestamp_ms)
        if self._end > self._start and ts <= self._t[self._end - 1]:
            return  # (timestamps increase; a repeat adds nothing)
        if self._end == len(self._t):  # full: drop what is too old, then move the rest to the front
            keep = int(np.searchsorted(self._t[self._start:self._end], ts - self.span_ms)) + self._start
            keep = max(keep, self._end - len(self._t) // 2)
            m = self._end - keep
            self._t[:m] = self._t[keep:self._end]
            self._kp[:m] = self._kp[keep:self._end]
            self._start, self._end = 0, m
        self._t[self._end] = ts
        self._kp[self._end] = np.asarray(keypoints, np.float32)[:, :2]
        self._end += 1
        lo = ts - self.span_ms
        while self._t[self._start] < lo and self._end - self._start > 2:
            self._start += 1

    @property
    def times(self) -> np.ndarray:
        return self._t[self._start:self._end]

    @property
    def keypoints(self) -> np.ndarray:
        return self._kp[self._start:self._end]

    def clear(self) -> None:
        self._start = self._end = 0
        self.cache.clear()


@dataclass(frozen=True)
class Motion:
    """The motion set ``gesture_set``'s reading of one hand's history: its
    best ``label`` and ``score`` (after the set's ``none`` gate), the span of
    the movement in the window (``start_ms`` / ``end_ms``, None when the hand
    stayed still), ``categories`` (ranked, as in ``hand.gestures``) and
    ``timestamp_ms``: the frame the model last ran on."""

    gesture_set: str
    label: str
    score: float
    start_ms: int | None = None
    end_ms: int | None = None
    categories: tuple = ()
    timestamp_ms: int | None = None

    def to_dict(self) -> dict:
        return {"set": self.gesture_set, "label": self.label, "score": round(float(self.score), 4),
                "start_ms": self.start_ms, "end_ms": self.end_ms, "timestamp_ms": self.timestamp_ms}


def is_motion_entry(entry) -> bool:
    """Whether a bundle's gesture model reads a keypoint history (a motion set)."""
    d = getattr(entry, "decoding", None) or {}
    return d.get("kind") == "motion" or d.get("input") == "keypoint_history"


def motion_decoding(entry) -> dict:
    """The motion set's reading of its history, from the manifest (defaults
    for what it leaves out)."""
    d = dict(getattr(entry, "decoding", None) or {})
    spec = next(iter(entry.inputs.values()))
    return {"frames": int(d.get("frames", spec.shape[1])), "rate_hz": float(d.get("rate_hz", DEFAULT_RATE_HZ)),
            "points": tuple(int(p) for p in d.get("points", MOTION_POINTS))}


def check_motion_entry(entry, need) -> None:
    """The bundle contract of a motion set (``need(cond, message)`` raises)."""
    need(len(entry.inputs) == 1, "a motion model takes one input (the keypoint history)")
    spec = next(iter(entry.inputs.values()))
    need(len(spec.shape) == 3 and spec.shape[0] == 1 and spec.shape[1] >= 2,
         f"a motion model takes one input of shape [1, frames, channels], got {list(spec.shape)}")
    d = entry.decoding or {}
    if "frames" in d:
        need(int(d["frames"]) == spec.shape[1], f"decoding.frames {d['frames']} but the input has {spec.shape[1]} steps")
    pts = d.get("points", MOTION_POINTS)
    need(isinstance(pts, (list, tuple)) and all(isinstance(p, int) and 0 <= p < 21 for p in pts) and pts,
         "decoding.points must be keypoint indices 0-20")
    need(spec.shape[2] == motion_channels(pts),
         f"the input has {spec.shape[2]} channels but decoding.points needs {motion_channels(pts)}")
    rate = d.get("rate_hz", DEFAULT_RATE_HZ)
    need(isinstance(rate, (int, float)) and 1 <= rate <= 240, "decoding.rate_hz must be 1-240")
    need(len(entry.outputs) == 1, f"a motion model has one output (has {sorted(entry.outputs)})")
    out = next(iter(entry.outputs.values()))
    need(out.shape[-1] == len(entry.labels) and int(np.prod(out.shape)) == len(entry.labels),
         f"the model has {out.shape[-1]} outputs but {len(entry.labels)} labels")
    need(len(set(entry.labels)) == len(entry.labels), "duplicate labels")


class MotionClassifier:
    """A motion gesture set of a bundle: ``classify_history(times_ms,
    keypoints)`` ranks its labels for one history; ``update(history,
    timestamp_ms)`` is the per-frame stage the recognizer runs on each track
    (the model runs when ``every_ms`` have passed since its last run on that
    track; otherwise the last :class:`Motion` is returned).

    mirrored: the frames are mirrored (a selfie view): x is negated, so that
    directions stay the user's. min_score: below it, the set's ``none`` label
    comes first (None: the bundle's ``min_gesture_score:<set>``, else the
    manifest's ``decoding.min_score``, else 0.5).
    every_ms: how often the model runs on a track (None: the manifest's
    ``decoding.every_ms``, else 100 ms, every second step of the window)."""

    kind = "motion"

    def __init__(self, bundle=None, gesture_set: str | None = None, *, num_threads: int = 1,
                 backend: str = "auto", mirrored: bool = False, min_score: float | None = None,
                 every_ms: float | None = None):
        from .stages import _bundle

        if min_score is not None:
            min_score = check_fraction("min_score", min_score)
        if every_ms is not None:
            every_ms = check_range("every_ms", every_ms, 0, lo_open=True, note="milliseconds")
        b = _bundle(bundle)
        sets = {n: e for n, e in b.gesture_sets.items() if is_motion_entry(e)}
        if gesture_set is None:
            if not sets:
                raise ValueError(f"the bundle has no motion gesture set (sets: {sorted(b.gesture_sets)})")
            gesture_set = next(iter(sets))
        if gesture_set not in sets:
            raise ValueError(f"{gesture_set!r} is not a motion gesture set of the bundle (motion sets: "
                             f"{sorted(sets)})")
        from .backends import open_model

        self.bundle = b
        self.gesture_set = gesture_set
        self.entry = e = sets[gesture_set]
        self.model = open_model(b.model_bytes(f"gesture:{gesture_set}"), num_threads=num_threads, backend=backend,
                                name=f"gesture:{gesture_set}")
        self.labels = tuple(e.labels)
        self.none_label = e.decoding.get("none_label")
        if self.none_label not in self.labels:
            self.none_label = None
        (self.input_name,) = e.inputs
        dec = motion_decoding(e)
        self.frames, self.rate_hz, self.points = dec["frames"], dec["rate_hz"], dec["points"]
        self.step_ms = 1000.0 / self.rate_hz
        self.every_ms = float(every_ms if every_ms is not None else e.decoding.get("every_ms", 2 * self.step_ms))
        self.window_ms = (self.frames - 1) * self.step_ms
        self.mirrored = bool(mirrored)
        th = b.thresholds
        self.min_score = float(min_score if min_score is not None
                               else th.get(f"min_gesture_score:{gesture_set}", e.decoding.get("min_score", 0.5)))
        self._order = {lab: i for i, lab in enumerate(self.labels)}

    # ------------------------------------------------------------ offline
    def features(self, times_ms, keypoints, end_ms=None, grid_out=None) -> np.ndarray:
        return motion_features(times_ms, keypoints, frames=self.frames, rate_hz=self.rate_hz, points=self.points,
                               end_ms=end_ms, mirrored=self.mirrored, grid_out=grid_out)

    def scores_feature(self, feature: np.ndarray) -> np.ndarray:
        out = self.model(**{self.input_name: np.asarray(feature, np.float32)[None]})
        return next(iter(out.values())).reshape(-1)

    def scores(self, times_ms, keypoints, end_ms=None) -> np.ndarray:
        """The model's scores (one per label) for the window ending at
        ``end_ms`` (default: the last frame)."""
        return self.scores_feature(self.features(times_ms, keypoints, end_ms))

    def rank(self, s: np.ndarray) -> tuple:
        """Categories, best first; below ``min_score`` the ``none`` label leads."""
        order = np.argsort(-s)
        cats = tuple(Category(self.labels[i], float(s[i]), int(i)) for i in order)
        none = self.none_label
        if none is not None and cats and cats[0].name != none and cats[0].score < self.min_score:
            cats = tuple(c for c in cats if c.name == none) + tuple(c for c in cats if c.name != none)
        return cats

    def classify_history(self, times_ms, keypoints, end_ms=None, top_k: int | None = None) -> tuple:
        cats = self.rank(self.scores(times_ms, keypoints, end_ms))
        return cats if top_k is None else cats[:top_k]

    def read(self, times_ms, keypoints, end_ms=None) -> Motion:
        """The :class:`Motion` of one history (the model runs now)."""
        grid: list = []
        f = self.features(times_ms, keypoints, end_ms, grid_out=grid)
        cats = self.rank(self.scores_feature(f))
        top = cats[0]
        start = end = None
        if top.name != self.none_label:
            start, end = motion_segment(f, grid[0], rate_hz=self.rate_hz)
        ts = int(round(float(times_ms[-1] if end_ms is None else end_ms)))
        return Motion(self.gesture_set, top.name, top.score, start, end, cats, ts)

    # ------------------------------------------------------------ per frame
    def update(self, history: MotionHistory, timestamp_ms) -> Motion:
        """This frame's :class:`Motion` of a track whose ``history`` already
        holds this frame."""
        last = history.cache.get(self.gesture_set)
        ts = float(timestamp_ms)
        if last is not None and ts - last.timestamp_ms < self.every_ms - 1e-6 and ts >= last.timestamp_ms:
            return last
        t, kp = history.times, history.keypoints
        if len(t) == 0:
            m = Motion(self.gesture_set, self.none_label or self.labels[0], 1.0, None, None, (), int(ts))
        else:
            lo = int(np.searchsorted(t, t[-1] - self.window_ms - self.step_ms, side="left"))
            m = self.read(t[lo:], kp[lo:])
        history.cache[self.gesture_set] = m
        return m
