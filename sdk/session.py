"""The application loop as an SDK object: frames from a source go through the
recognizer, command events, the speller and the action map, and (optionally)
into an annotated video.

``handsdk run`` is this loop with a printer and a window around it; your
application can run the same loop::

    from handsdk.session import Session, SessionOptions

    with Session(SessionOptions(source="clip.mp4", max_frames=300)) as s:
        for step in s:                        # or s.step(frame, timestamp_ms)
            for ev in step.events:
                print(ev.to_json())
            if step.spelling is not None and step.spelling.committed:
                print("text:", step.spelling.text)

Options are checked when :class:`SessionOptions` is built; errors say what to
change. ``close()`` (or leaving the ``with`` block) ends the gestures still
held (their ``end`` events run their actions), waits for shell actions, and
releases the video writer and the recognizer.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .checks import check_fraction, check_int, check_range, is_int
from .recognizer import GestureRecognizer, GestureRecognizerOptions, RunningMode
from .spelling import Speller, SpellingOptions, SpellingState, spelling_set

__all__ = ["FrameError", "MissingSpellingSet", "Session", "SessionError", "SessionOptions", "SessionStep"]


class SessionError(ValueError):
    """A session cannot run as configured; the message says what to change."""


class MissingSpellingSet(SessionError):
    """``require_spelling`` with a bundle that has no spelling gesture set;
    ``sets``: the sets it has."""

    def __init__(self, sets):
        self.sets = sorted(sets)
        super().__init__(f"the bundle has no spelling gesture set (sets: {self.sets})")


class FrameError(RuntimeError):
    """The pipeline failed on one frame (not a problem of the source): the
    message names the frame; ``error`` is what the recognizer raised."""

    def __init__(self, message: str, error: BaseException):
        super().__init__(message)
        self.error = error


@dataclass(frozen=True)
class SessionOptions:
    """What a :class:`Session` runs, checked at construction.

    recognizer: the :class:`~handsdk.GestureRecognizerOptions` (IMAGE or VIDEO
        mode; LIVE_STREAM delivers results by callback, not in a loop).
    source: what :meth:`Session.run` reads by default: a camera index, a video,
        an image, a folder, a stream URL or an iterable of frames (or of
        ``(frame, timestamp_ms)``), see :func:`handsdk.sources.frames`.
    camera_size: (width, height) asked of a camera; reconnect: camera
        reconnect attempts.
    max_frames: stop after this many frames (0: all).
    event_sets: the gesture sets whose events are reported (None: the
        bundle's command sets, i.e. all but spelling).
    start_score, end_score, min_hold_ms, hold_interval_ms: of
        :class:`~handsdk.events.GestureEvents`.
    spelling: the :class:`~handsdk.spelling.SpellingOptions` of the speller
        (on its ``gesture_set``, else the bundle's spelling set when it has
        one); None: no speller.
    require_spelling: fail (:class:`MissingSpellingSet`) when the bundle has
        no spelling set.
    actions: an :class:`~handsdk.actions.ActionMap`, or a path / dict for
        :func:`~handsdk.actions.load_actions` (with ``allow_shell``); None:
        no actions.
    save: write the annotated frames to this video (.mp4: mp4v, .avi: MJPG)
        at ``save_fps`` (None: the source's frame rate).
    monotonic_timestamps: in VIDEO mode, a timestamp that does not increase
        becomes the previous one + 1 ms (instead of an error).
    """

    recognizer: GestureRecognizerOptions = field(default_factory=lambda: GestureRecognizerOptions(
        running_mode=RunningMode.VIDEO))
    source: object = None
    camera_size: tuple | None = None
    reconnect: int = 2
    max_frames: int = 0
    event_sets: tuple | None = None
    start_score: float = 0.6
    end_score: float = 0.4
    min_hold_ms: int = 200
    hold_interval_ms: int = 500
    spelling: SpellingOptions | None = field(default_factory=SpellingOptions)
    require_spelling: bool = False
    actions: object = None
    allow_shell: bool = False
    save: str | os.PathLike | None = None
    save_fps: float | None = None
    monotonic_timestamps: bool = False

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen: normalise in place)
        if not isinstance(self.recognizer, GestureRecognizerOptions):
            raise SessionError(f"recognizer must be a GestureRecognizerOptions, got {type(self.recognizer).__name__}")
        if self.recognizer.running_mode is RunningMode.LIVE_STREAM:
            raise SessionError("a Session runs IMAGE or VIDEO mode; LIVE_STREAM results go to a result_callback "
                               "(see examples/command_app.py)")
        if isinstance(self.source, np.ndarray):
            raise SessionError("source is a single frame: call step(frame), or pass [frame]")
        if self.camera_size is not None:
            cs = tuple(self.camera_size)
            if len(cs) != 2 or not all(is_int(v) and v > 0 for v in cs):
                raise SessionError(f"camera_size must be (width, height) in pixels, got {self.camera_size!r}")
            set_("camera_size", (int(cs[0]), int(cs[1])))
        for n in ("reconnect", "max_frames", "min_hold_ms", "hold_interval_ms"):
            set_(n, check_int(n, getattr(self, n), 0, note="milliseconds" if n.endswith("_ms") else None,
                              error=SessionError))
        for n in ("start_score", "end_score"):
            set_(n, check_fraction(n, getattr(self, n), error=SessionError))
        if self.end_score > self.start_score:
            raise SessionError(f"end_score ({self.end_score}) must not exceed start_score ({self.start_score})")
        if self.event_sets is not None:
            es = (self.event_sets,) if isinstance(self.event_sets, str) else tuple(self.event_sets)
            if not all(isinstance(s, str) and s for s in es):
                raise SessionError(f"event_sets must be gesture set names, got {self.event_sets!r}")
            set_("event_sets", es)
        if self.spelling is not None and not isinstance(self.spelling, SpellingOptions):
            raise SessionError(f"spelling must be SpellingOptions or None, got {type(self.spelling).__name__}")
        if self.require_spelling and self.spelling is None:
            raise SessionError("require_spelling needs spelling options (spelling=SpellingOptions())")
        from .actions import ActionMap

        if not (self.actions is None or isinstance(self.actions, (ActionMap, dict, str, os.PathLike))):
            raise SessionError(f"actions must be an ActionMap, a dict or a path to an action map, got "
                               f"{type(self.actions).__name__}")
        if self.save is not None:
            if not isinstance(self.save, (str, os.PathLike)) or not str(self.save).strip():
                raise SessionError(f"save must be a path of a video file (.mp4 or .avi), got {self.save!r}")
            set_("save", Path(self.save))
        if self.save_fps is not None:
            set_("save_fps", check_range("save_fps", self.save_fps, 0, lo_open=True, note="frames per second",
                                         error=SessionError))


@dataclass(frozen=True)
class SessionStep:
    """One frame of a session: the frame (BGR as read), its timestamp, its
    number (1-based; a folder's file number, skipped files included) and
    where it came from (``info``: ``path``/``count`` for folder images), the
    recognizer's result, the command events and actions it caused, the
    speller's state (None without a speller) and the frame rate so far."""

    frame: np.ndarray
    timestamp_ms: int | None
    index: int
    info: dict
    result: object  # RecognitionResult
    events: tuple = ()
    actions: tuple = ()
    spelling: SpellingState | None = None
    fps: float | None = None


class Session:
    """The application loop: source -> recognizer -> events, speller,
    actions -> annotated video. See the module's docstring.

    options: :class:`SessionOptions` (or its fields as keyword arguments).
    recognizer: an open :class:`~handsdk.GestureRecognizer` to use instead of
        building one from ``options.recognizer`` (the session then leaves it
        open on close); with keyword arguments, GestureRecognizerOptions are
        taken as that field. Any object with the recognizer's
        ``recognize(frame, timestamp_ms)`` works too (a stand-in in tests);
        without ``classifiers`` it has no gesture sets, without ``options``
        its running mode is ``options.recognizer``'s.
    """

    def __init__(self, options: SessionOptions | None = None, *, recognizer: GestureRecognizer | None = None,
                 **kwargs):
        if isinstance(recognizer, GestureRecognizerOptions):  # Session(recognizer=options, source=...)
            kwargs["recognizer"], recognizer = recognizer, None
        if recognizer is not None and not callable(getattr(recognizer, "recognize", None)):
            raise SessionError(f"recognizer must be an open GestureRecognizer or GestureRecognizerOptions, got "
                               f"{type(recognizer).__name__}")
        if options is None:
            options = SessionOptions(**kwargs)
        elif kwargs:
            raise TypeError("pass either options or keyword arguments, not both")
        from .actions import ActionMap, load_actions
        from .events import GestureEvents

        self.options = o = options
        amap = o.actions
        if amap is not None and not isinstance(amap, ActionMap):
            try:
                amap = load_actions(amap, allow_shell=o.allow_shell)
            except FileNotFoundError as e:
                raise SessionError(str(e)) from None
        self.actions: ActionMap | None = amap
        self._owns = recognizer is None
        self.recognizer = GestureRecognizer(o.recognizer) if recognizer is None else recognizer
        rec = self.recognizer
        classifiers = getattr(rec, "classifiers", {})
        try:
            letters = (o.spelling.gesture_set or spelling_set(rec)) if o.spelling is not None else None
            if letters is not None and letters not in classifiers:
                raise SessionError(f"spelling gesture set {letters!r} is not in the bundle ({sorted(classifiers)})")
            self.speller: Speller | None = Speller(o.spelling, gesture_set=letters) if letters else None
            if o.require_spelling and self.speller is None:
                raise MissingSpellingSet(classifiers)
            if o.spelling is not None:
                for spec in (o.spelling.space_gesture, o.spelling.delete_gesture):
                    if spec and spec[0] not in classifiers:
                        raise SessionError(f"gesture set {spec[0]!r} of {spec[0]}:{spec[1]} is not in the bundle "
                                           f"({sorted(classifiers)})")
            #: the gesture sets whose events are reported
            self.command_sets = [n for n, c in classifiers.items() if c.kind != "spelling"]
            sets = list(o.event_sets) if o.event_sets is not None else self.command_sets
            unknown = [s for s in sets if s not in classifiers]
            if unknown:
                raise SessionError(f"event_sets {unknown} are not in the bundle ({sorted(classifiers)})")
            self.events = GestureEvents(sets, start_score=o.start_score, end_score=o.end_score,
                                        min_hold_ms=o.min_hold_ms, hold_interval_ms=o.hold_interval_ms)
        except BaseException:
            if self._owns:
                rec.close()
            raise
        self.frames = 0
        #: per-stage latencies (ms) of every frame: {"detect": [...], ..., "total": [...]}
        self.times: dict[str, list] = {}
        self.fps: float | None = None
        self._t_prev = time.perf_counter()
        self._last_ts = None
        self._writer = None
        self._save_fps = o.save_fps
        self._closed = False
        self._flushed = False

    # ------------------------------------------------------------ lifecycle
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def flush(self) -> list:
        """End the gestures still held (their ``end`` events run their
        actions) and wait for shell actions; returns those events. Once."""
        if self._flushed:
            return []
        self._flushed = True
        out = self.events.flush()
        if self.actions is not None:
            for ev in out:
                self.actions.handle(ev)
            self.actions.wait()
        return out

    def release(self) -> None:
        """Release the video writer and (when the session built it) the
        recognizer; :meth:`flush` still works afterwards (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._owns:
                self.recognizer.close()
        finally:
            if self._writer is not None:
                self._writer.release()
                self._writer = None

    def close(self) -> list:
        """:meth:`flush`, then :meth:`release`; returns the flushed events."""
        try:
            return self.flush()
        finally:
            self.release()

    # -------------------------------------------------------------- running
    @property
    def running_mode(self) -> RunningMode:
        ropts = getattr(self.recognizer, "options", None)
        return ropts.running_mode if isinstance(ropts, GestureRecognizerOptions) else self.options.recognizer.running_mode

    def step(self, frame, timestamp_ms: int | None = None, info: dict | None = None) -> SessionStep:
        """One frame through the loop. ``timestamp_ms`` is needed in VIDEO
        mode (ignored in IMAGE mode). A failure of the recognizer raises
        :class:`FrameError` naming the frame."""
        if self._closed:
            raise RuntimeError("the session is closed; create a new Session")
        info = {} if info is None else info
        video = self.running_mode is not RunningMode.IMAGE
        ts = timestamp_ms
        if video and self.options.monotonic_timestamps and ts is not None:
            if self._last_ts is not None and ts <= self._last_ts:
                ts = self._last_ts + 1
            self._last_ts = ts
        try:
            result = self.recognizer.recognize(frame, ts if video else None)
        except (RuntimeError, ValueError) as e:  # e.g. an interpreter that fails on this frame
            raise FrameError(f"processing frame {info.get('index', self.frames + 1)}"
                             + (f" ({info['path']})" if "path" in info else "")
                             + f" failed: {type(e).__name__}: {e}", e) from e
        self.frames += 1
        now = time.perf_counter()
        dt = now - self._t_prev
        self._t_prev = now
        if dt > 0:
            self.fps = 1.0 / dt if self.fps is None else 0.9 * self.fps + 0.1 / dt
        for k, v in result.timings_ms.items():
            self.times.setdefault(k, []).append(v)
        evs = self.events.update(result)
        state = self.speller.update(result) if self.speller is not None else None
        acted = []
        if self.actions is not None:
            for ev in evs:
                acted += self.actions.handle(ev)
        return SessionStep(frame=frame, timestamp_ms=result.timestamp_ms, index=info.get("index", self.frames),
                           info=info, result=result, events=tuple(evs), actions=tuple(acted), spelling=state,
                           fps=self.fps)

    def run(self, source=None) -> Iterator[SessionStep]:
        """:meth:`step` over every frame of ``source`` (default: the options'
        source), up to ``max_frames``. The source is opened at once (a camera
        that cannot open raises :class:`~handsdk.sources.SourceError` here);
        its later errors are raised while iterating."""
        from .sources import frames

        src = self.options.source if source is None else source
        if src is None:
            raise SessionError("nothing to run on: give a source (a camera index, a video, an image, a folder, "
                               "a stream URL or frames)")
        if self._save_fps is None and self.options.save is not None:
            from .sources import source_fps

            self._save_fps = source_fps(src)
        w, h = self.options.camera_size or (None, None)
        known = getattr(self.recognizer, "_frames_from", None)
        if known is not None:  # (a camera, video, image or URL: OpenCV's BGR, no colour-order warning)
            known(src)
        return self._loop(frames(src, width=w, height=h, reconnect=self.options.reconnect, info=True))

    def _loop(self, it) -> Iterator[SessionStep]:
        n = 0
        for item in it:
            frame, ts, info = item if len(item) == 3 else (*item, {})
            yield self.step(frame, ts, info)
            n += 1
            if self.options.max_frames and n >= self.options.max_frames:
                break

    def __iter__(self) -> Iterator[SessionStep]:
        return self.run()
    # ------------------------------------------------------------- drawing
    def annotate(self, step: SessionStep, *, gesture_sets=None, spelling: bool = True) -> np.ndarray:
        """The frame with the hands, gestures, frame rate, held gestures and
        (with ``spelling``) the spelled text drawn on it; written to the
        ``save`` video when there is one."""
        from .draw import draw_result

        canvas = draw_result(step.frame, step.result, gesture_sets=gesture_sets, fps=step.fps,
                             spelling=step.spelling if spelling else None, active=self.events.active)
        if self.options.save is not None:
            self.write(canvas)
        return canvas

    def write(self, canvas: np.ndarray) -> None:
        """Append a frame to the ``save`` video (opened at the first frame)."""
        if self.options.save is None:
            raise SessionError("this session has no save path (SessionOptions(save=...))")
        if self._writer is None:
            self._writer = _open_writer(self.options.save, canvas.shape, self._save_fps or 30.0)
        self._writer.write(canvas)


def _open_writer(path: Path, shape, fps: float = 30.0):
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
    w = cv2.VideoWriter(str(path), fourcc, float(fps), (shape[1], shape[0]))
    if not w.isOpened():
        raise SessionError(f"cannot write video {path} (use .mp4 or .avi)")
    return w
