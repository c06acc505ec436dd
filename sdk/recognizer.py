"""GestureRecognizer: detect -> crop -> landmarks -> gestures, per frame.

Running modes (as in MediaPipe's Tasks API):

* ``IMAGE``: independent images; every frame runs the detector.
* ``VIDEO``: decoded video frames with increasing timestamps; hands are
  tracked (the next crop comes from this frame's keypoints, the detector only
  runs when a track is lost or every ``redetect_interval`` frames to find new
  hands).
* ``LIVE_STREAM``: camera frames arrive faster than they are processed;
  ``recognize`` returns at once, stale frames are dropped rather than queued,
  and results reach ``result_callback(result, frame, timestamp_ms)``.
"""
from __future__ import annotations

import enum
import os
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .bundle import Bundle, load_bundle
from .image import to_rgb
from .keypoints import aligned_box, hand_rotation, keypoints_box
from .metrics import box_iou
from .results import Category, Hand, RecognitionResult
from .stages import GestureClassifier, HandDetector, HandLandmarker, _bundle, hand_box


class RunningMode(enum.Enum):
    IMAGE = "image"
    VIDEO = "video"
    LIVE_STREAM = "live_stream"


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v) -> bool:
    return (isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
            and bool(np.isfinite(v)))


def _unit(name, v):
    if not (_is_number(v) and 0.0 <= float(v) <= 1.0):
        raise ValueError(f"{name} must be a number in [0, 1], got {v!r}")
    return float(v)


def _int(name, v, lo, hi=None):
    if not _is_int(v) or v < lo or (hi is not None and v > hi):
        rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be an int in {rng}, got {v!r}")
    return int(v)


def _timestamp(v) -> int:
    if not _is_number(v):
        raise ValueError(f"timestamp_ms must be a finite number of milliseconds, got {v!r}")
    return int(v)


@dataclass(frozen=True)
class GestureRecognizerOptions:
    """Options, validated at construction.

    bundle: path or bytes of a ``.handsdk`` bundle, a loaded Bundle, or None for
        the default bundle shipped with the package.
    running_mode: IMAGE, VIDEO or LIVE_STREAM (needs ``result_callback``).
    error_callback: LIVE_STREAM only: ``error_callback(exception, timestamp_ms)``
        is called when processing a frame fails. Without it, the next
        ``recognize()`` raises that exception. Either way the stream goes on.
    max_hands: 1..4. Scores left None come from the bundle's thresholds.
    gesture_sets: which of the bundle's gesture sets to run: a name, a list of
        names, or None for all.
    color_order: of the frames you pass ("BGR" as OpenCV reads them, or "RGB").
    redetect_interval: in VIDEO/LIVE_STREAM, run the detector at least every
        this many frames to find new hands (0: only when tracking is lost).
    smoothing: in VIDEO/LIVE_STREAM, smooth each track's keypoints over time
        with a One-Euro filter (:mod:`handsdk.filters`) driven by the frame
        timestamps; never in IMAGE mode. The tracker itself crops from the raw
        keypoints, so smoothing adds no tracking lag. Gestures are classified
        from the smoothed keypoints.
    smoothing_min_cutoff (Hz), smoothing_beta (per hand size per second),
    smoothing_d_cutoff (Hz): the filter's parameters; lower min_cutoff is
        smoother when still, higher beta lags less when moving.
    """

    bundle: object = None
    running_mode: RunningMode = RunningMode.IMAGE
    max_hands: int = 2
    min_detection_score: float | None = None
    min_presence_score: float | None = None
    min_gesture_score: float | None = None
    gesture_sets: tuple | None = None
    num_threads: int = 2
    backend: str = "auto"
    color_order: str = "BGR"
    redetect_interval: int = 10
    result_callback: Callable | None = None
    error_callback: Callable | None = None
    smoothing: bool = True
    smoothing_min_cutoff: float = 1.0
    smoothing_beta: float = 10.0
    smoothing_d_cutoff: float = 1.0

    def __post_init__(self):
        mode = self.running_mode
        if isinstance(mode, str):
            try:
                mode = RunningMode(mode.lower())
            except ValueError:
                raise ValueError(f"running_mode must be one of {[m.value for m in RunningMode]}, "
                                 f"got {self.running_mode!r}") from None
            object.__setattr__(self, "running_mode", mode)
        if not isinstance(mode, RunningMode):
            raise ValueError(f"running_mode must be a RunningMode, got {mode!r}")
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen: normalise in place)
        set_("max_hands", _int("max_hands", self.max_hands, 1, 4))
        for n in ("min_detection_score", "min_presence_score", "min_gesture_score"):
            if getattr(self, n) is not None:
                set_(n, _unit(n, getattr(self, n)))
        set_("num_threads", _int("num_threads", self.num_threads, 1, 64))
        b = self.bundle
        if not (b is None or isinstance(b, (str, os.PathLike, bytes, bytearray, memoryview, Bundle))):
            raise ValueError(f"bundle must be a path to a .handsdk file, its bytes, a loaded Bundle, or None "
                             f"for the shipped default bundle; got {type(b).__name__} {b!r:.40}")
        if isinstance(b, str) and not b.strip():
            raise ValueError("bundle is an empty string: pass a path to a .handsdk file, or None for the default")
        if not isinstance(self.smoothing, (bool, np.bool_)):
            raise ValueError(f"smoothing must be True or False, got {self.smoothing!r}")
        set_("smoothing", bool(self.smoothing))
        if self.color_order not in ("BGR", "RGB"):
            raise ValueError(f"color_order must be 'BGR' or 'RGB', got {self.color_order!r}")
        set_("redetect_interval", _int("redetect_interval", self.redetect_interval, 0))
        if mode is RunningMode.LIVE_STREAM and self.result_callback is None:
            raise ValueError("LIVE_STREAM mode needs a result_callback(result, frame, timestamp_ms)")
        if mode is not RunningMode.LIVE_STREAM and self.result_callback is not None:
            raise ValueError("result_callback is only used in LIVE_STREAM mode; in IMAGE and VIDEO mode "
                             "recognize() returns the result")
        if self.result_callback is not None and not callable(self.result_callback):
            raise ValueError("result_callback must be callable")
        if self.error_callback is not None:
            if mode is not RunningMode.LIVE_STREAM:
                raise ValueError("error_callback is only used in LIVE_STREAM mode; in IMAGE and VIDEO mode "
                                 "recognize() raises")
            if not callable(self.error_callback):
                raise ValueError("error_callback must be callable: error_callback(exception, timestamp_ms)")
        for n in ("smoothing_min_cutoff", "smoothing_d_cutoff"):
            v = getattr(self, n)
            if not (_is_number(v) and v > 0):
                raise ValueError(f"{n} must be a number > 0 (Hz), got {v!r}")
            set_(n, float(v))
        if not (_is_number(self.smoothing_beta) and self.smoothing_beta >= 0):
            raise ValueError(f"smoothing_beta must be a number >= 0, got {self.smoothing_beta!r}")
        set_("smoothing_beta", float(self.smoothing_beta))
        gs = self.gesture_sets
        if gs is not None:
            if isinstance(gs, str):
                gs = (gs,)  # one set by name, not its characters
            try:
                gs = tuple(gs)
            except TypeError:
                raise ValueError(f"gesture_sets must be a set name or a list of names, got {gs!r}") from None
            if not gs or not all(isinstance(g, str) and g for g in gs):
                raise ValueError(f"gesture_sets must be a set name or a non-empty list of names (None: all "
                                 f"of the bundle's sets), got {self.gesture_sets!r}")
            set_("gesture_sets", tuple(dict.fromkeys(gs)))
        from .backend import BACKENDS

        if self.backend not in ("auto",) + BACKENDS:
            raise ValueError(f"backend must be 'auto' or one of {BACKENDS}, got {self.backend!r}")


class _Live:
    """What a LIVE_STREAM recognizer shares with its worker thread."""

    def __init__(self):
        self.cond = threading.Condition()
        self.pending = None  # (frame, rgb, timestamp): the newest frame not yet taken
        self.closed = False
        self.error: BaseException | None = None  # a failure not yet reported to the caller

    def stop(self):
        with self.cond:
            self.closed = True
            self.pending = None
            self.cond.notify_all()


def _live_worker(ref, live: _Live):
    """The LIVE_STREAM worker: takes the newest frame, processes it with the
    recognizer (held weakly between frames), repeats until stopped."""
    while True:
        with live.cond:
            while live.pending is None and not live.closed:
                live.cond.wait(timeout=0.5)
            if live.closed:
                return
            image, rgb, ts = live.pending
            live.pending = None
        rec = ref()
        if rec is None:
            return
        try:
            rec._live_frame(image, rgb, ts)
        except BaseException as e:  # (only a bug here could get this far: report, don't die)
            with live.cond:
                live.error = e
        del rec


@dataclass
class _Track:
    id: int
    keypoints: np.ndarray
    box: np.ndarray
    right_votes: list = field(default_factory=list)
    age: int = 0
    filter: object = None  # OneEuroFilter of the keypoints, when smoothing
    rotation: float = 0.0  # crop rotation (upright-crop landmarkers)
    anchor_side: float = 0.0  # size of its keypoints' box when the detector last ran


def _side(box) -> float:
    return float(max(box[2] - box[0], box[3] - box[1]))


def _overlap(a, b) -> float:
    """Intersection over the smaller box: 1 when one box lies inside the other."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(ix * iy / small) if small > 0 else 0.0


def _cover(a, b) -> float:
    """The fraction of box ``a`` that box ``b`` covers."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = (a[2] - a[0]) * (a[3] - a[1])
    return float(ix * iy / area) if area > 0 else 0.0


def _gap(a, b) -> float:
    """The distance between two boxes (0 when they overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return float(np.hypot(dx, dy))


#: keypoints that shrank below this fraction of their size when the detector
#: last ran (or of a detection box around them) collapsed onto part of the
#: hand: re-detect, and landmark the hand again from the detection
COLLAPSED = 0.5


def _same_hand(kp_a, kp_b, box) -> bool:
    """Two keypoint sets on one hand: their boxes overlap a lot, one lies
    inside the other (keypoints that collapsed onto part of the hand), or
    their centres are closer than a quarter of the crop."""
    ka, kb = keypoints_box(kp_a), keypoints_box(kp_b)
    if box_iou(ka, kb)[0, 0] > 0.5 or _overlap(ka, kb) > 0.7:
        return True
    side = max(box[2] - box[0], box[3] - box[1])
    d = np.linalg.norm(np.asarray(kp_a)[:, :2].mean(axis=0) - np.asarray(kp_b)[:, :2].mean(axis=0))
    return bool(d < 0.25 * side)


def _next_box(keypoints, prev_box, max_shrink: float = 0.8, rotation: float = 0.0) -> np.ndarray:
    """The box to crop the next frame from: the keypoints' box, but shrinking
    by at most ``max_shrink`` per frame (keypoints that drift inwards would
    otherwise shrink the crop, which makes them drift further), and never
    below the previous box's size when the keypoints collapsed."""
    kb = aligned_box(keypoints, rotation) if rotation else keypoints_box(keypoints)
    side = max(kb[2] - kb[0], kb[3] - kb[1], 1e-3)
    prev = max(prev_box[2] - prev_box[0], prev_box[3] - prev_box[1])
    if side >= max_shrink * prev:
        return kb
    c = (kb[:2] + kb[2:]) / 2 if side >= 0.3 * prev else keypoints[:, :2].mean(axis=0)
    f = max_shrink * prev / side if side >= 0.3 * prev else None
    if f is None:
        return np.array([c[0] - prev / 2, c[1] - prev / 2, c[0] + prev / 2, c[1] + prev / 2], np.float32)
    half = (kb[2:] - kb[:2]) / 2 * f
    return np.array([c[0] - half[0], c[1] - half[1], c[0] + half[0], c[1] + half[1]], np.float32)


class GestureRecognizer:
    """The whole pipeline. Use as a context manager or call :meth:`close`.

    >>> with GestureRecognizer.create("model.handsdk") as rec:    # doctest: +SKIP
    ...     result = rec.recognize(frame_bgr)
    """

    def __init__(self, options: GestureRecognizerOptions | None = None, **kwargs):
        if options is None:
            options = GestureRecognizerOptions(**kwargs)
        elif kwargs:
            raise TypeError("pass either options or keyword arguments, not both")
        self.options = options
        self.bundle: Bundle = _bundle(options.bundle)
        th = self.bundle.thresholds
        o = options
        self.min_presence = o.min_presence_score if o.min_presence_score is not None else th.get("min_presence_score", 0.5)
        self.min_gesture = o.min_gesture_score if o.min_gesture_score is not None else th.get("min_gesture_score", 0.5)
        self.detector = HandDetector(self.bundle, num_threads=o.num_threads, backend=o.backend,
                                     max_hands=o.max_hands, min_score=o.min_detection_score,
                                     color_order=o.color_order)
        self.landmarker = HandLandmarker(self.bundle, num_threads=o.num_threads, backend=o.backend,
                                         color_order=o.color_order)
        sets = o.gesture_sets or tuple(self.bundle.gesture_sets)
        unknown = [s for s in sets if s not in self.bundle.gesture_sets]
        if unknown:
            raise ValueError(f"unknown gesture sets {unknown}; the bundle has {sorted(self.bundle.gesture_sets)}")
        self.classifiers = {s: GestureClassifier(self.bundle, s, num_threads=1, backend=o.backend) for s in sets}
        #: per gesture set: below this top score, a set with a ``none`` label reports it first
        #: (the option for every set, else the bundle's ``min_gesture_score:<set>``, else
        #: its ``min_gesture_score``)
        self.min_gesture_by_set = {
            s: float(o.min_gesture_score if o.min_gesture_score is not None
                     else th.get(f"min_gesture_score:{s}", self.min_gesture)) for s in sets}
        self._closed = False
        self._last_ts: int | None = None
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._frames_since_detect = 0
        self._lock = threading.Lock()
        self._live: _Live | None = None
        self._worker = None
        self.dropped_frames = 0
        self.frames_processed = 0
        self.detector_runs = 0
        self.tracks_lost = 0
        self.tracks_merged = 0  # duplicate tracks of one hand merged into one
        self.errors = 0
        if o.running_mode is RunningMode.LIVE_STREAM:
            # the worker holds this recognizer weakly: one that is never closed is still
            # garbage-collected, and the finalizer ends its (daemon) thread
            self._live = _Live()
            self._worker = threading.Thread(target=_live_worker, args=(weakref.ref(self), self._live),
                                            name="handsdk-live", daemon=True)
            self._worker.start()
            weakref.finalize(self, self._live.stop)

    @classmethod
    def create(cls, bundle=None, **kwargs) -> "GestureRecognizer":
        return cls(GestureRecognizerOptions(bundle=bundle, **kwargs))

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self, timeout: float | None = None) -> None:
        """Stop the live-stream worker and release the models (idempotent).

        In LIVE_STREAM mode a frame still waiting is dropped, and close waits
        for the frame being processed (and its ``result_callback``) to finish;
        with a ``timeout`` (seconds) that passes first, it warns that the worker
        is still running and returns (the worker then stops after that frame)."""
        if self._closed:
            return
        self._closed = True
        if self._live is not None:
            self._live.stop()
            if self._worker is not threading.current_thread():  # (close() from inside a callback)
                self._worker.join(timeout)
                if self._worker.is_alive():
                    import warnings

                    warnings.warn(f"GestureRecognizer.close(): the live-stream worker is still busy after "
                                  f"{timeout} s (a slow result_callback?); it stops when that frame is done",
                                  RuntimeWarning, stacklevel=2)

    @property
    def closed(self) -> bool:
        return self._closed

    def reset(self):
        """Forget tracks and timestamps (e.g. when switching videos)."""
        with self._lock:
            self._tracks.clear()
            self._last_ts = None
            self._frames_since_detect = 0

    # -------------------------------------------------------------- running
    def _check_ts(self, timestamp_ms):
        mode = self.options.running_mode
        if mode is RunningMode.IMAGE:
            return None if timestamp_ms is None else _timestamp(timestamp_ms)
        if timestamp_ms is None:
            raise ValueError(f"{mode.name} mode needs timestamp_ms for every frame")
        ts = _timestamp(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            raise ValueError(f"timestamps must increase: got {ts} ms after {self._last_ts} ms "
                             f"(call reset() to start a new video)")
        self._last_ts = ts
        return ts

    def recognize(self, image, timestamp_ms: int | None = None):
        """Recognise hands and gestures in one frame.

        IMAGE and VIDEO mode return a :class:`RecognitionResult`. LIVE_STREAM
        mode returns None at once; the result goes to the callback (a frame
        still waiting when a newer one arrives is dropped). When processing an
        earlier frame failed and no ``error_callback`` took the error, this
        call raises it (the frame passed is not queued; the stream goes on
        with the next call)."""
        if self._closed:
            raise RuntimeError("the recognizer is closed; create a new GestureRecognizer")
        if self._live is not None:
            live = self._live
            with live.cond:
                err, live.error = live.error, None
            if err is not None:
                raise err
            if not self._worker.is_alive():
                raise RuntimeError("the live-stream worker has stopped; close() this recognizer and create "
                                   "a new one")
        rgb = to_rgb(image, self.options.color_order)
        if self._live is not None:
            ts = self._check_ts(timestamp_ms)
            with live.cond:
                if live.pending is not None:
                    self.dropped_frames += 1
                live.pending = (image, rgb, ts)
                live.cond.notify_all()
            return None
        with self._lock:
            ts = self._check_ts(timestamp_ms)
            return self._process(rgb, ts)

    recognize_async = recognize

    @property
    def pending_frames(self) -> int:
        """Frames waiting for the LIVE_STREAM worker (0 or 1: stale frames are
        replaced, never queued)."""
        return 0 if self._live is None or self._live.pending is None else 1

    @property
    def tracks(self) -> list[int]:
        """Ids of the hands tracked now (VIDEO / LIVE_STREAM)."""
        return [t.id for t in self._tracks]

    def recognize_for_video(self, image, timestamp_ms: int):
        if self.options.running_mode is not RunningMode.VIDEO:
            raise ValueError("recognize_for_video needs running_mode=VIDEO")
        return self.recognize(image, timestamp_ms)

    def _live_frame(self, image, rgb, ts):
        """One LIVE_STREAM frame, on the worker thread: errors go to the
        error_callback or to the next recognize(); the worker never dies."""
        import warnings

        try:
            with self._lock:
                result = self._process(rgb, ts)
        except Exception as e:
            self.errors += 1
            cb = self.options.error_callback
            if cb is None:
                with self._live.cond:
                    self._live.error = e
                return
            try:
                cb(e, ts)
            except Exception as e2:
                warnings.warn(f"error_callback raised {e2!r} while reporting {e!r}")
            return
        try:
            self.options.result_callback(result, image, ts)
        except Exception as e:  # a failing callback must not kill the stream
            import traceback

            warnings.warn(f"result_callback raised {e!r}:\n{traceback.format_exc()}")

    def _new_filter(self):
        from .filters import OneEuroFilter

        o = self.options
        return OneEuroFilter(o.smoothing_min_cutoff, o.smoothing_beta, o.smoothing_d_cutoff)

    def _detect(self, rgb, timings):
        t = time.perf_counter()
        det = self.detector.detect_rgb(rgb)
        timings["detect"] += (time.perf_counter() - t) * 1000
        self._frames_since_detect = 0
        self.detector_runs += 1
        return det

    def _process(self, rgb: np.ndarray, ts) -> RecognitionResult:
        o = self.options
        tracking = o.running_mode is not RunningMode.IMAGE
        smoothing = tracking and o.smoothing and ts is not None
        timings = {"detect": 0.0, "landmark": 0.0, "gesture": 0.0}
        t_start = time.perf_counter()
        h, w = rgb.shape[:2]
        found = []  # (Landmarks, track or None, detection score)
        lost: list[_Track] = []
        detected = False

        def landmark(box, det, prior, rotation=None, exclude=None):
            if box[2] - box[0] < 2 or box[3] - box[1] < 2:
                return None
            t = time.perf_counter()
            lm = self.landmarker.landmark_rgb(rgb, box, detection=det, prior_keypoints=prior, rotation=rotation)
            timings["landmark"] += (time.perf_counter() - t) * 1000
            if lm.presence < self.min_presence:
                return None
            if any(_same_hand(lm.keypoints, f[0].keypoints, box) for j, f in enumerate(found) if j != exclude):
                return None  # two tracks (or a track and a detection) on one hand
            return lm

        def owner_of(box):
            """The tracked hand a detection box belongs to: the box overlaps its
            crop, or most of its keypoints' box lies inside the box."""
            for j, f in enumerate(found):
                if f[1] is not None and (box_iou(box, f[3])[0, 0] > 0.3
                                         or _cover(keypoints_box(f[0].keypoints), box) > 0.5):
                    return j
            return None

        def merge_parts(box, det, score) -> bool:
            """A detection next to a hand already found may be another part of
            that hand (the detector split it in two): landmark the union of
            both; when its keypoints cover both, it is one hand (same track)."""
            for j, f in enumerate(found):
                kb = keypoints_box(f[0].keypoints)
                if _gap(box, kb) > 0.25 * max(_side(box), _side(kb)):
                    continue
                u = union(box, kb)
                lm = landmark(u, det, None, exclude=j)
                if lm is None:
                    continue
                ku = keypoints_box(lm.keypoints)
                if _cover(box, ku) > 0.5 and _cover(kb, ku) > 0.5:
                    found[j] = (lm, f[1], float(score) if f[2] is None else max(f[2], float(score)), u)
                    return True
            return False

        def union(a, b):
            return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])], np.float32)

        def joined_boxes(det):
            """The detector may split one hand into two neighbouring boxes: when the
            landmarks of their union cover both, they are one hand."""
            boxes = [(np.asarray(b, np.float32), float(sc)) for b, sc in zip(det.boxes, det.scores)]
            i = 0
            while i < len(boxes):
                j = i + 1
                while j < len(boxes):
                    a, b = boxes[i][0], boxes[j][0]
                    if _gap(a, b) <= 0.25 * max(_side(a), _side(b)):
                        u = union(a, b)
                        t = time.perf_counter()
                        lm = self.landmarker.landmark_rgb(rgb, u, detection=det)
                        timings["landmark"] += (time.perf_counter() - t) * 1000
                        ku = keypoints_box(lm.keypoints)
                        if lm.presence >= self.min_presence and _cover(a, ku) > 0.5 and _cover(b, ku) > 0.5:
                            boxes[i] = (u, max(boxes[i][1], boxes[j][1]))
                            del boxes[j]
                            j = i + 1
                            continue
                    j += 1
                i += 1
            return boxes

        def from_detections(det):
            for box, score in joined_boxes(det) if len(det.boxes) > 1 else zip(det.boxes, det.scores):
                j = owner_of(box)
                if j is not None:
                    # a hand already tracked, not a new one; if its keypoints collapsed onto
                    # part of it, landmark it again from the detection (same track id)
                    lm_j, tr, _, _ = found[j]
                    if _side(keypoints_box(lm_j.keypoints)) < COLLAPSED * _side(box):
                        lm = landmark(box, det, None, exclude=j)
                        if lm is not None and _side(keypoints_box(lm.keypoints)) > _side(keypoints_box(lm_j.keypoints)):
                            found[j] = (lm, tr, float(score), box)
                    # other tracks inside this one detection are parts of the same hand: merge them
                    if _cover(keypoints_box(found[j][0].keypoints), box) > 0.5:
                        for k in reversed(range(len(found))):
                            if k != j and _cover(keypoints_box(found[k][0].keypoints), box) > 0.5:
                                del found[k]
                                self.tracks_merged += 1
                                j -= k < j
                    continue
                if merge_parts(box, det, score):
                    continue
                if len(found) >= o.max_hands:
                    break
                lm = landmark(box, det, None)
                if lm is None:
                    continue
                # a detection where a track was just lost keeps that track's id
                heir = None
                if lost:
                    best = max(lost, key=lambda tr: box_iou(box, tr.box)[0, 0])
                    if box_iou(box, best.box)[0, 0] > 0.2:
                        heir = best
                        lost.remove(best)
                found.append((lm, heir, float(score), box))

        if tracking:
            for tr in list(self._tracks)[: o.max_hands]:
                lm = landmark(tr.box, None, tr.keypoints, tr.rotation)
                if lm is None:
                    lost.append(tr)
                    self.tracks_lost += 1  # (a detection in this frame may recover it, same id)
                else:
                    found.append((lm, tr, None, tr.box))
        # re-detect when tracking lost a hand, to find new hands, and every
        # redetect_interval frames anyway (it also re-anchors the tracks' crops)
        collapsed = any(f[1] is not None and _side(keypoints_box(f[0].keypoints)) < COLLAPSED * f[1].anchor_side
                        for f in found)
        need_detect = not tracking or not found or bool(lost) or collapsed or (
            o.redetect_interval and self._frames_since_detect >= o.redetect_interval)
        det = None
        if need_detect:
            det = self._detect(rgb, timings)
            detected = True
            from_detections(det)
        else:
            self._frames_since_detect += 1
        hands, new_tracks = [], []
        for lm, track, dscore, box in found:
            kp = lm.keypoints
            if tracking:
                if track is None:
                    track = _Track(id=self._next_id, keypoints=kp, box=np.asarray(box, np.float32))
                    self._next_id += 1
                track.rotation = hand_rotation(kp) if self.landmarker.align else 0.0
                track.box = _next_box(kp, track.box, rotation=track.rotation)  # follows the raw keypoints
                if det is not None and len(det.boxes):
                    # a fresh detection of this hand re-anchors a crop that shrank
                    j = int(np.argmax(box_iou(track.box, det.boxes)[0]))
                    db = det.boxes[j]
                    if (box_iou(track.box, db)[0, 0] > 0.2 or _overlap(track.box, db) > 0.7) and _side(db) > _side(track.box):
                        track.box = np.asarray(db, np.float32)
                if detected:
                    track.anchor_side = _side(keypoints_box(kp))
                track.keypoints = kp
                track.right_votes = (track.right_votes + [lm.right_score])[-15:]
                track.age += 1
                new_tracks.append(track)
                right = float(np.mean(track.right_votes))
                if smoothing:
                    if track.filter is None:
                        track.filter = self._new_filter()
                    kb = keypoints_box(kp)
                    size = max(kb[2] - kb[0], kb[3] - kb[1], 1.0)
                    kp = track.filter(kp, ts / 1000.0, scale=size).astype(np.float32)
            else:
                right = lm.right_score
            is_right = right >= 0.5
            handed = Category("Right" if is_right else "Left", right if is_right else 1 - right, int(is_right))
            t = time.perf_counter()
            gestures = {name: self._gated(name, clf.classify(kp, handed.name))
                        for name, clf in self.classifiers.items()}
            timings["gesture"] += (time.perf_counter() - t) * 1000
            kpn = kp / np.array([w, h, w], np.float32)
            box = np.clip(hand_box(kp, self.landmarker.box_pad), 0, [w, h, w, h]).astype(np.float32)
            hands.append(Hand(box=box, keypoints=kp, keypoints_normalized=kpn,
                              presence=lm.presence, handedness=handed, gestures=gestures,
                              detection_score=dscore, track_id=track.id if tracking else None))
        if tracking:
            self._tracks = new_tracks
        self.frames_processed += 1
        timings["total"] = (time.perf_counter() - t_start) * 1000
        return RecognitionResult(hands=tuple(hands), image_size=(w, h), timestamp_ms=ts, timings_ms=timings)

    def _gated(self, name: str, ranked: tuple) -> tuple:
        """``ranked`` categories of one set; when the top score is below the
        set's minimum and the set has a ``none`` label, ``none`` comes first
        (the scores are unchanged): an unknown pose is no command."""
        none = self.classifiers[name].none_label
        if not ranked or none is None or ranked[0].name == none or ranked[0].score >= self.min_gesture_by_set[name]:
            return ranked
        return tuple(c for c in ranked if c.name == none) + tuple(c for c in ranked if c.name != none)

    def stream(self, source, **kw) -> Iterator[tuple[np.ndarray, RecognitionResult]]:
        """Yield ``(frame, result)`` for each frame of ``source`` (a camera index,
        a video file, an image, a folder of images, or an iterable of frames).
        Not for LIVE_STREAM mode (use recognize with a callback)."""
        from .sources import frames

        if self.options.running_mode is RunningMode.LIVE_STREAM:
            raise ValueError("stream() returns results directly; use IMAGE or VIDEO mode, or call "
                             "recognize() in LIVE_STREAM mode")
        last = None
        for frame, ts in frames(source, **kw):
            if self.options.running_mode is RunningMode.VIDEO and last is not None and ts <= last:
                ts = last + 1
            last = ts
            yield frame, self.recognize(frame, ts)
