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
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from .bundle import THRESHOLD_DEFAULTS, Bundle, check_thresholds, load_bundle
from .checks import check_bool, check_callable, check_choice, check_fraction, check_int, check_range, is_number
from .decode import check_split_aspect, check_zoom_above
from .image import COLOR_ORDERS, to_rgb
from .keypoints import keypoints_box
from .looking import LookPolicy
from .results import Category, Hand, RecognitionResult
from .stages import GestureClassifier, HandDetector, HandLandmarker, _bundle, hand_box
from .motion import MotionClassifier, MotionHistory, is_motion_entry
from .tracking import Tracker


class RunningMode(enum.Enum):
    IMAGE = "image"
    VIDEO = "video"
    LIVE_STREAM = "live_stream"


#: timestamps are milliseconds in [0, MAX_TIMESTAMP_MS]: time.monotonic() * 1000, a video's
#: position, or epoch milliseconds (time.time() * 1000, about 1.7e12) all fit; epoch
#: microseconds or nanoseconds (1e15 and more) do not, and a timestamp that large would make
#: every later frame's timestamp "not increasing" until reset()
MAX_TIMESTAMP_MS = 10**13


def _timestamp(v) -> int:
    if not is_number(v):
        raise ValueError(f"timestamp_ms must be a finite number of milliseconds, got {v!r}")
    if not 0 <= v <= MAX_TIMESTAMP_MS:  # (a Python int of any size compares exactly)
        raise ValueError(f"timestamp_ms must lie in [0, {MAX_TIMESTAMP_MS:.0e}] milliseconds, got {v!r}: pass "
                         f"milliseconds (time.monotonic() * 1000, a video position, epoch milliseconds), not "
                         f"microseconds or nanoseconds (divide by 1000 or 1e6)")
    return int(v)


class ColorOrderWarning(UserWarning):
    """A frame's colour order was assumed (``color_order`` not given)."""


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
    min_presence_score: a hand the detector finds is reported when the
        landmarker's presence is at least this (every hand in IMAGE mode).
    min_tracking_presence: VIDEO / LIVE_STREAM: a hand already tracked (or
        found again where its track was just lost) is kept while its presence
        stays at least this; never above ``min_presence_score``. None: the
        bundle's ``min_tracking_presence``, else ``min_presence_score``. A new
        hand must be surer than a tracked one (faces close to the camera
        reach 0.9), and a tracked hand is not lost on a blurred frame.
    gesture_sets: which of the bundle's gesture sets to run: a name, a list of
        names, or None for all.
    color_order: the channel order of the frames you pass: "BGR" (OpenCV's:
        cv2.imread, cv2.VideoCapture) or "RGB" (PIL, imageio, matplotlib,
        MediaPipe's mp.Image). Not given: "BGR", and the first colour frame
        passed to :meth:`GestureRecognizer.recognize` warns once
        (:class:`ColorOrderWarning`) that its order was assumed, since an RGB
        frame read as BGR finds far fewer hands; frames that :meth:`GestureRecognizer.stream` reads itself
        (camera, video, image files, stream URLs) are OpenCV's and never warn.
    redetect_interval: in VIDEO/LIVE_STREAM, run the detector at least every
        this many frames to find new hands (0: only when tracking is lost).
    smoothing: in VIDEO/LIVE_STREAM, smooth each track's keypoints over time
        with a One-Euro filter (:mod:`handsdk.filters`) driven by the frame
        timestamps; never in IMAGE mode. The tracker itself crops from the raw
        keypoints, so smoothing adds no tracking lag. Gestures are classified
        from the smoothed keypoints.
    zoom_above: a detector box taller or wider than this fraction of the frame
        is looked at again at the detector's full resolution (a person in view
        can come out as one blob of hands, face and chest); the hands found
        there replace it when the landmarker is surer of one of them than of
        the big box. 0: off; None: the bundle's (``decoding.zoom_above``).
    split_aspect: a detector box at least this many times as wide as tall
        (two hands side by side can come out as one blob) whose landmarks fail
        ``min_presence_score`` is replaced by its left and right halves when
        the landmarker is surer of one of them.
        0: off; None: the bundle's (``decoding.split_aspect``).
    smoothing_min_cutoff (Hz), smoothing_beta (per hand size per second),
    smoothing_d_cutoff (Hz): the filter's parameters; lower min_cutoff is
        smoother when still, higher beta lags less when moving.
    """

    bundle: object = None
    running_mode: RunningMode = RunningMode.IMAGE
    max_hands: int = 2
    min_detection_score: float | None = None
    min_presence_score: float | None = None
    min_tracking_presence: float | None = None
    min_gesture_score: float | None = None
    gesture_sets: tuple | None = None
    num_threads: int = 2
    backend: str = "auto"
    color_order: str | None = None
    redetect_interval: int = 10
    zoom_above: float | None = None
    split_aspect: float | None = None
    result_callback: Callable | None = None
    error_callback: Callable | None = None
    smoothing: bool = True
    smoothing_min_cutoff: float = 1.0
    smoothing_beta: float = 10.0
    smoothing_d_cutoff: float = 1.0

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen: normalise in place)
        mode = self.running_mode
        if isinstance(mode, str):
            mode = RunningMode(check_choice("running_mode", mode.lower(), [m.value for m in RunningMode]))
            set_("running_mode", mode)
        if not isinstance(mode, RunningMode):
            raise ValueError(f"running_mode must be a RunningMode, got {mode!r}")
        set_("max_hands", check_int("max_hands", self.max_hands, 1, 4))
        for n in ("min_detection_score", "min_presence_score", "min_tracking_presence", "min_gesture_score"):
            if getattr(self, n) is not None:
                set_(n, check_fraction(n, getattr(self, n)))
        set_("num_threads", check_int("num_threads", self.num_threads, 1, 64))
        b = self.bundle
        if not (b is None or isinstance(b, (str, os.PathLike, bytes, bytearray, memoryview, Bundle))):
            raise ValueError(f"bundle must be a path to a .handsdk file, its bytes, a loaded Bundle, or None "
                             f"for the shipped default bundle; got {type(b).__name__} {b!r:.40}")
        if isinstance(b, str) and not b.strip():
            raise ValueError("bundle is an empty string: pass a path to a .handsdk file, or None for the default")
        set_("smoothing", check_bool("smoothing", self.smoothing))
        #: color_order was not given: BGR is assumed, and recognize() says so once
        set_("_color_order_assumed", self.color_order is None)
        set_("color_order", check_choice("color_order", "BGR" if self.color_order is None else self.color_order,
                                         COLOR_ORDERS))
        set_("redetect_interval", check_int("redetect_interval", self.redetect_interval, 0))
        if self.zoom_above is not None:
            set_("zoom_above", check_zoom_above(self.zoom_above))
        if self.split_aspect is not None:
            set_("split_aspect", check_split_aspect(self.split_aspect))
        self._check_callbacks(mode)
        for n in ("smoothing_min_cutoff", "smoothing_d_cutoff"):
            set_(n, check_range(n, getattr(self, n), 0, lo_open=True, note="Hz"))
        set_("smoothing_beta", check_range("smoothing_beta", self.smoothing_beta, 0))
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
        from .backends import BACKENDS

        check_choice("backend", self.backend, ("auto",) + BACKENDS)

    def _check_callbacks(self, mode: RunningMode):
        live = mode is RunningMode.LIVE_STREAM
        if live and self.result_callback is None:
            raise ValueError("LIVE_STREAM mode needs a result_callback(result, frame, timestamp_ms)")
        if not live and self.result_callback is not None:
            raise ValueError("result_callback is only used in LIVE_STREAM mode; in IMAGE and VIDEO mode "
                             "recognize() returns the result")
        if self.result_callback is not None:
            check_callable("result_callback", self.result_callback, "result_callback(result, frame, timestamp_ms)")
        if self.error_callback is not None:
            if not live:
                raise ValueError("error_callback is only used in LIVE_STREAM mode; in IMAGE and VIDEO mode "
                                 "recognize() raises")
            check_callable("error_callback", self.error_callback, "error_callback(exception, timestamp_ms)")


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
        check_thresholds(self.bundle.manifest)  # (load_bundle has; a Bundle made by hand may not)
        th = self.bundle.thresholds
        o = options
        self.min_presence = o.min_presence_score if o.min_presence_score is not None else th["min_presence_score"]
        track = (o.min_tracking_presence if o.min_tracking_presence is not None
                 else th.get("min_tracking_presence", self.min_presence))
        self.min_gesture = (o.min_gesture_score if o.min_gesture_score is not None
                            else th.get("min_gesture_score", THRESHOLD_DEFAULTS["min_gesture_score"]))
        #: where to look for hands: zoomed and split boxes, upright new-hand crops, tracked crops
        self.look = LookPolicy.from_bundle(self.bundle, zoom_above=o.zoom_above, split_aspect=o.split_aspect)
        self.detector = HandDetector(self.bundle, num_threads=o.num_threads, backend=o.backend,
                                     max_hands=o.max_hands, min_score=o.min_detection_score,
                                     color_order=o.color_order)
        self.landmarker = HandLandmarker(self.bundle, num_threads=o.num_threads, backend=o.backend,
                                         color_order=o.color_order, look=self.look)
        sets = o.gesture_sets or tuple(self.bundle.gesture_sets)
        unknown = [s for s in sets if s not in self.bundle.gesture_sets]
        if unknown:
            raise ValueError(f"unknown gesture sets {unknown}; the bundle has {sorted(self.bundle.gesture_sets)}")
        self.classifiers = {s: (MotionClassifier if is_motion_entry(self.bundle.gesture_sets[s]) else GestureClassifier)(
            self.bundle, s, num_threads=1, backend=o.backend) for s in sets}
        #: the motion sets among them: in VIDEO / LIVE_STREAM they read each track's keypoint
        #: history (handsdk.motion); IMAGE mode has no history, and reports none of them
        self.motion_classifiers = {s: c for s, c in self.classifiers.items() if c.kind == "motion"}
        #: per gesture set: below this top score, a set with a ``none`` label reports it first
        #: (the option for every set, else the bundle's ``min_gesture_score:<set>``, else
        #: its ``min_gesture_score``)
        self.min_gesture_by_set = {
            s: float(o.min_gesture_score if o.min_gesture_score is not None
                     else th.get(f"min_gesture_score:{s}", self.min_gesture)) for s in sets}
        for s, c in self.motion_classifiers.items():  # (a motion set's own gate, unless one is given)
            if o.min_gesture_score is None and f"min_gesture_score:{s}" not in th:
                self.min_gesture_by_set[s] = c.min_score
            c.min_score = self.min_gesture_by_set[s]
        self._closed = False
        #: color_order was not given and no frame has said so yet (see _warn_color_order)
        self._color_unconfirmed = bool(getattr(o, "_color_order_assumed", False))
        self._last_ts: int | None = None
        #: the hands of the video (VIDEO / LIVE_STREAM): tracks, crops, re-detection
        self._tracker = Tracker(max_hands=o.max_hands, min_presence=self.min_presence,
                                min_tracking_presence=track, redetect_interval=o.redetect_interval)
        #: a tracked hand is kept while its presence is at least this (the tracker keeps it <= min_presence)
        self.min_tracking_presence = self._tracker.min_tracking_presence
        self._lock = threading.Lock()
        self._live: _Live | None = None
        self._worker = None
        self.dropped_frames = 0
        self.frames_processed = 0
        self.detector_runs = 0
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

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
            return
        try:  # an exception already on its way out wins over a frame's error reported by close()
            self.close()
        except Exception as e:
            import warnings

            warnings.warn(f"GestureRecognizer.close(): a live-stream frame had also failed: {e!r}",
                          RuntimeWarning, stacklevel=2)

    def close(self, timeout: float | None = None) -> None:
        """Stop the live-stream worker and release the models (idempotent).

        In LIVE_STREAM mode a frame still waiting is dropped, and close waits
        for the frame being processed (and its ``result_callback``) to finish;
        with a ``timeout`` (seconds) that passes first, it warns that the worker
        is still running and returns (the worker then stops after that frame).
        A frame whose processing failed and whose error no ``error_callback``
        took and no later ``recognize()`` raised is raised here (once; the
        recognizer is closed all the same)."""
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
            with self._live.cond:
                err, self._live.error = self._live.error, None
            if err is not None:
                raise err

    @property
    def closed(self) -> bool:
        return self._closed

    def reset(self):
        """Forget tracks and timestamps (e.g. when switching videos)."""
        with self._lock:
            self._tracker.reset()
            self._last_ts = None

    # -------------------------------------------------------------- running
    def _check_ts(self, timestamp_ms):
        mode = self.options.running_mode
        if mode is RunningMode.IMAGE:
            return None if timestamp_ms is None else _timestamp(timestamp_ms)
        if timestamp_ms is None:
            raise ValueError(f"{mode.name} mode needs timestamp_ms for every frame")
        ts = _timestamp(timestamp_ms)
        if self._last_ts is not None and ts <= self._last_ts:
            raise ValueError(f"timestamps must increase: got {ts} ms after {self._last_ts} ms (each frame's "
                             f"timestamp_ms must be larger than the last one's; call reset() to start a new "
                             f"video or clock)")
        self._last_ts = ts
        return ts

    def recognize(self, image, timestamp_ms: int | None = None):
        """Recognise hands and gestures in one frame.

        ``image``: HxWx3 uint8 in the options' ``color_order``: **BGR** (the
        default: OpenCV's cv2.imread / cv2.VideoCapture) or **RGB** (PIL,
        imageio, MediaPipe; pass ``color_order="RGB"``). An RGB frame read as
        BGR finds far fewer hands, with no error; when ``color_order`` was not
        given, the first colour frame warns once (:class:`ColorOrderWarning`).
        Grayscale, 4-channel, float and other integer frames are converted
        (:func:`handsdk.image.to_rgb`).

        ``timestamp_ms``: milliseconds in [0, 10**13], increasing from frame to
        frame (needed in VIDEO and LIVE_STREAM mode; call :meth:`reset` to
        start a new video).

        IMAGE and VIDEO mode return a :class:`RecognitionResult`. LIVE_STREAM
        mode returns None at once; the result goes to the callback (a frame
        still waiting when a newer one arrives is dropped). The frame is
        copied before this returns, so its buffer may be reused at once (the
        callback's ``frame`` is that copy). When processing an
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
        if self._color_unconfirmed and rgb.ndim == 3 and np.ndim(image) == 3 and np.shape(image)[2] in (3, 4):
            self._warn_color_order()
        if self._live is not None:
            ts = self._check_ts(timestamp_ms)
            # the caller owns `image` and may refill its buffer as soon as this returns (a capture
            # loop does): the worker and the callback get a copy made now, as MediaPipe's Image does
            if isinstance(image, np.ndarray):
                held = image.copy()
                if np.may_share_memory(rgb, image):  # (an RGB uint8 frame is used as it is)
                    rgb = held if rgb.shape == held.shape and rgb.dtype == held.dtype else rgb.copy()
                image = held
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

    def _warn_color_order(self):
        import warnings

        self._color_unconfirmed = False
        warnings.warn("handsdk: color_order was not given, so this frame is read as BGR (OpenCV's order: "
                      "cv2.imread, cv2.VideoCapture). Frames from PIL, imageio, matplotlib or MediaPipe are RGB: "
                      "pass color_order='RGB', or an RGB frame read as BGR finds far fewer hands. Pass "
                      "color_order='BGR' to say these are OpenCV frames (and silence this warning).",
                      ColorOrderWarning, stacklevel=3)

    def _frames_from(self, source) -> None:
        """Frames of ``source`` come from :func:`handsdk.sources.frames`: a
        camera, video, image or stream URL it reads with OpenCV is BGR, so the
        colour order assumed by default is right (no warning)."""
        from .sources import reads_bgr

        if reads_bgr(source):
            self._color_unconfirmed = False

    @property
    def pending_frames(self) -> int:
        """Frames waiting for the LIVE_STREAM worker (0 or 1: stale frames are
        replaced, never queued)."""
        return 0 if self._live is None or self._live.pending is None else 1

    @property
    def tracks(self) -> list[int]:
        """Ids of the hands tracked now (VIDEO / LIVE_STREAM)."""
        return [t.id for t in self._tracker.tracks]

    @property
    def tracks_lost(self) -> int:
        """Tracks lost so far (a detection in the same frame may recover one, same id)."""
        return self._tracker.tracks_lost

    @property
    def tracks_merged(self) -> int:
        """Duplicate tracks of one hand merged into one so far."""
        return self._tracker.tracks_merged

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

    def _stages_on(self, rgb: np.ndarray, timings: dict):
        """``(landmark, detect)``: the landmarker and the detector on this frame,
        timed into ``timings`` (:data:`handsdk.tracking.Landmark`,
        :data:`handsdk.looking.Detect`). A new hand's landmarks in a detection
        box are computed once per frame (the look again and the tracker share them)."""
        seen = {}

        def landmark(box, detection=None, prior_keypoints=None, rotation=None):
            key = None
            if detection is not None and prior_keypoints is None and rotation is None:
                key = (np.asarray(box, np.float32).tobytes(), detection.maps_key)
                if key in seen:
                    return seen[key]
            t = time.perf_counter()
            lm = self.landmarker.landmark_rgb(rgb, box, detection=detection, prior_keypoints=prior_keypoints,
                                              rotation=rotation)
            timings["landmark"] += (time.perf_counter() - t) * 1000
            if key is not None:
                seen[key] = lm
            return lm

        def detect(region=None):
            t = time.perf_counter()
            det = self.detector.detect_rgb(rgb, region=region)
            timings["detect"] += (time.perf_counter() - t) * 1000
            self.detector_runs += 1
            return det

        return landmark, detect

    def _process(self, rgb: np.ndarray, ts) -> RecognitionResult:
        """One frame: the tracker finds the hands (:mod:`handsdk.tracking`),
        then each is smoothed, classified and reported."""
        o = self.options
        tracking = o.running_mode is not RunningMode.IMAGE
        smoothing = tracking and o.smoothing and ts is not None
        timings = {"detect": 0.0, "landmark": 0.0, "gesture": 0.0}
        if self.motion_classifiers and tracking:
            timings["motion"] = 0.0
        t_start = time.perf_counter()
        h, w = rgb.shape[:2]

        landmark, detect = self._stages_on(rgb, timings)
        look = self.look
        found = self._tracker.step(landmark, lambda: look.detections(rgb.shape, detect, landmark, self.min_presence),
                                   tracking=tracking, look=look)
        hands = []
        for f in found:
            lm, track = f.landmarks, f.track
            kp = lm.keypoints
            if tracking:
                right = track.right_score
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
            gestures = self._static_gestures(kp, handed.name)
            timings["gesture"] += (time.perf_counter() - t) * 1000
            motion = {}
            if self.motion_classifiers and tracking:  # the track's keypoint history -> motion gestures
                t = time.perf_counter()
                if track.history is None:
                    track.history = MotionHistory()
                track.history.add(ts, kp)
                for name, mc in self.motion_classifiers.items():
                    motion[name] = m = mc.update(track.history, ts)
                    gestures[name] = m.categories
                gestures = {name: gestures[name] for name in self.classifiers}  # (the bundle's order)
                timings["motion"] += (time.perf_counter() - t) * 1000
            kpn = kp / np.array([w, h, w], np.float32)
            box = np.clip(hand_box(kp, self.landmarker.box_pad), 0, [w, h, w, h]).astype(np.float32)
            hands.append(Hand(box=box, keypoints=kp, keypoints_normalized=kpn,
                              presence=lm.presence, handedness=handed, gestures=gestures,
                              detection_score=f.score, track_id=track.id if tracking else None,
                              motion=motion))
        self.frames_processed += 1
        timings["total"] = (time.perf_counter() - t_start) * 1000
        return RecognitionResult(hands=tuple(hands), image_size=(w, h), timestamp_ms=ts, timings_ms=timings)

    def classify_keypoints(self, keypoints, handedness: str | None = None) -> dict:
        """The static gesture sets' categories for 21 keypoints you give (e.g.
        another hand tracker's, in any pixel units): {set name: categories, best
        first}, gated as the recognizer gates its own hands (below a set's
        ``min_gesture_score`` its ``none`` comes first). ``handedness``: "Left",
        "Right" or None (read as a right hand). Motion sets need a track's
        history and are left out."""
        kp = np.asarray(keypoints, np.float32)
        if kp.shape not in ((21, 2), (21, 3)) or not np.isfinite(kp[:, :2]).all():
            raise ValueError(f"keypoints: expected 21 finite (x, y[, z]) points, got shape {kp.shape}")
        if handedness not in (None, "Left", "Right"):
            raise ValueError(f"handedness must be 'Left', 'Right' or None, got {handedness!r}")
        return self._static_gestures(kp, handedness)

    def _static_gestures(self, kp: np.ndarray, handedness: str | None) -> dict:
        return {name: self._gated(name, clf.classify(kp, handedness))
                for name, clf in self.classifiers.items() if clf.kind != "motion"}

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
        self._frames_from(source)
        last = None
        for frame, ts in frames(source, **kw):
            if self.options.running_mode is RunningMode.VIDEO and last is not None and ts <= last:
                ts = last + 1
            last = ts
            yield frame, self.recognize(frame, ts)
