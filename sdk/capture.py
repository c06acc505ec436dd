"""Capture keypoint datasets for custom gestures (``handsdk capture``).

Runs the live pipeline (detector -> landmarker) over a camera, a video, an
image folder or a photo collection and records the keypoints of the hand it
sees, so that ``handsdk train gesture --data <folder> --base <bundle>`` can
train a new gesture set from them. Base install only (numpy, OpenCV, the
TFLite interpreter): capturing works on the device itself.

Dataset folder format
---------------------
::

    my_gestures/
      thumbs_up/
        keypoints.jsonl       # one JSON object per line, one line per sample
        crops/000012.jpg      # optional (--crops): the hand crop of that sample
      peace/
        keypoints.jsonl
      none/                   # negatives: hands doing none of the gestures
        keypoints.jsonl

The folder name is the label (letters, digits, ``_`` and ``-``). Each line of
``keypoints.jsonl`` is::

    {"id": "000012", "label": "thumbs_up",
     "keypoints": [[x, y, z], ... 21 rows],     # frame pixels, MediaPipe order
     "handedness": "Right", "handedness_score": 0.97, "presence": 0.99,
     "image_size": [width, height], "source": "clip.mp4", "frame": 48,
     "timestamp_ms": 1600, "time": 1718000000.1, "crop": "crops/000012.jpg"}

``crop`` is null when no crop was saved. Files are only ever appended to and
flushed after every sample, so a crash or an unplugged camera loses nothing
that was already recorded, and capturing again into the same folder adds to
it. A line that cannot be parsed (e.g. the last one of a killed process) is
skipped with a warning when the dataset is read.

Photo collections with one folder per gesture (folder name = label, a
``none`` folder for negatives) become datasets with
:func:`convert_class_folders` (the pipeline in IMAGE mode; images where no hand
is found are counted and skipped).

Motion gestures (``handsdk capture --motion``, :func:`capture_motion`) are
recorded as *takes*: the keypoint history of a tracked hand, one JSON line
per take in ``<label>/history.jsonl`` (:data:`HISTORY_FILE`); ``handsdk train
gesture --data`` on such a folder trains a motion set
(:mod:`handsdk.train.models.motion.custom`).
"""
from __future__ import annotations

import json
import os
import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .checks import check_int, check_range
from .keypoints import NUM_KEYPOINTS
from .sources import IMAGE_SUFFIXES, SourceError

KEYPOINTS_FILE = "keypoints.jsonl"
CROPS_DIR = "crops"
NONE_LABEL = "none"
_LABEL = re.compile(r"^[A-Za-z0-9_-]+$")


class CaptureError(ValueError):
    """Capturing cannot start (bad label, missing folder or bundle...); the
    message says what to do."""


def check_label(label: str) -> str:
    label = str(label).strip()
    if not _LABEL.match(label):
        raise CaptureError(f"invalid label {label!r}: use letters, digits, '_' and '-' only "
                           f"(it becomes a folder name)")
    return label


def parse_keys(spec: str | None) -> dict[int, str]:
    """``"0=none,1=thumbs_up,2=peace"`` -> {ord('0'): 'none', ...}."""
    out: dict[int, str] = {}
    if not spec:
        return out
    for part in spec.split(","):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise CaptureError(f"--keys expects 'digit=label' pairs separated by commas, got {part!r}")
        k, v = (s.strip() for s in part.split("=", 1))
        if len(k) != 1 or not k.isdigit():
            raise CaptureError(f"--keys: {k!r} is not a single digit key 0-9")
        out[ord(k)] = check_label(v)
    return out


# ------------------------------------------------------------------ writing


class DatasetWriter:
    """Appends samples to a dataset folder (see the module docstring)."""

    def __init__(self, root, *, crops: bool = False, crop_size: int = 128):
        crop_size = check_int("crop_size", crop_size, 16, 1024, note="pixels", error=CaptureError)
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise CaptureError(f"{self.root} exists and is not a folder")
        self.root.mkdir(parents=True, exist_ok=True)
        self.crops = bool(crops)
        self.crop_size = crop_size
        self.counts: dict[str, int] = dict(dataset_counts(self.root))
        self.added: dict[str, int] = {}
        self._files: dict[str, object] = {}

    def _file(self, label: str):
        f = self._files.get(label)
        if f is None:
            d = self.root / label
            d.mkdir(parents=True, exist_ok=True)
            f = open(d / KEYPOINTS_FILE, "a", encoding="utf-8")
            self._files[label] = f
        return f

    def add(self, label: str, hand, *, frame_bgr=None, image_size=None, source: str = "",
            frame: int | None = None, timestamp_ms: int | None = None) -> dict:
        """Record one hand (a :class:`handsdk.results.Hand`) under ``label``."""
        label = check_label(label)
        kp = np.asarray(hand.keypoints, np.float32)
        if kp.shape[0] != NUM_KEYPOINTS:
            raise ValueError(f"expected 21 keypoints, got {kp.shape}")
        n = self.counts.get(label, 0)
        sid = f"{n:06d}"
        # a unique id even when several processes append to the same folder
        while self.crops and (self.root / label / CROPS_DIR / f"{sid}.jpg").exists():
            n += 1
            sid = f"{n:06d}"
        crop_rel = None
        if self.crops and frame_bgr is not None:
            crop = hand_crop(frame_bgr, kp, self.crop_size)
            if crop is not None:
                d = self.root / label / CROPS_DIR
                d.mkdir(parents=True, exist_ok=True)
                import cv2

                if cv2.imwrite(str(d / f"{sid}.jpg"), crop):
                    crop_rel = f"{CROPS_DIR}/{sid}.jpg"
        if image_size is None and frame_bgr is not None:
            image_size = (int(frame_bgr.shape[1]), int(frame_bgr.shape[0]))
        rec = {
            "id": sid, "label": label,
            "keypoints": [[round(float(v), 2) for v in row[:3]] for row in kp],
            "handedness": hand.handedness.name,
            "handedness_score": round(float(hand.handedness.score), 4),
            "presence": round(float(hand.presence), 4),
            "image_size": [int(v) for v in image_size] if image_size is not None else None,
            "source": str(source), "frame": frame, "timestamp_ms": timestamp_ms,
            "time": round(time.time(), 3), "crop": crop_rel,
        }
        f = self._file(label)
        f.write(json.dumps(rec) + "\n")
        f.flush()  # nothing lost on error: every sample is on disk before the next frame
        self.counts[label] = n + 1
        self.added[label] = self.added.get(label, 0) + 1
        return rec

    def close(self):
        for f in self._files.values():
            try:
                f.close()
            except OSError:
                pass
        self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def hand_crop(frame_bgr, keypoints, size: int = 128, scale: float = 1.4):
    """A square crop around the keypoints (``scale`` x their box), resized to
    ``size`` (at least 15% of the frame's short side); None when the
    keypoints are not finite."""
    from .image import crop_matrix, warp
    from .keypoints import keypoints_box

    box = keypoints_box(keypoints)
    h, w = frame_bgr.shape[:2]
    side = max(box[2] - box[0], box[3] - box[1])
    min_side = 0.15 * min(h, w)  # collapsed keypoints: a small crop around them
    if side < min_side:
        c = (box[:2] + box[2:]) / 2
        box = np.array([c[0] - min_side / 2, c[1] - min_side / 2, c[0] + min_side / 2, c[1] + min_side / 2],
                       np.float32)
    if not np.all(np.isfinite(box)):
        return None
    m = crop_matrix(box, size, scale=scale)
    return warp(np.ascontiguousarray(frame_bgr), m, (size, size))


# ------------------------------------------------------------------ reading


def dataset_counts(root) -> dict[str, int]:
    """Samples per label already in a dataset folder (lines of each
    ``keypoints.jsonl``)."""
    root = Path(root)
    out = {}
    if not root.is_dir():
        return out
    for d in sorted(root.iterdir()):
        f = d / KEYPOINTS_FILE
        if d.is_dir() and f.is_file():
            with open(f, "rb") as fh:
                out[d.name] = sum(1 for line in fh if line.strip())
    return out


@dataclass
class KeypointDataset:
    """A dataset folder read into arrays: keypoints (N, 21, 3) pixels,
    handedness (N,) "Left"/"Right", labels (N,), sources (N,), order (N,)
    (frame or timestamp, for temporal splits)."""

    root: Path
    keypoints: np.ndarray
    handedness: list
    labels: list
    sources: list
    order: list
    skipped: int = 0
    records: list = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for lab in self.labels:
            out[lab] = out.get(lab, 0) + 1
        return out

    def __len__(self):
        return len(self.labels)


def read_dataset(root) -> KeypointDataset:
    """Read a dataset folder (see the module docstring). Malformed lines are
    skipped with a warning; a missing or empty folder is a :class:`CaptureError`."""
    root = Path(root)
    if not root.exists():
        raise CaptureError(f"dataset folder not found: {root}")
    if not root.is_dir():
        raise CaptureError(f"{root} is not a folder (expected one folder per label with {KEYPOINTS_FILE})")
    kps, hands, labels, sources, order, recs = [], [], [], [], [], []
    skipped = 0
    files = sorted(d / KEYPOINTS_FILE for d in root.iterdir() if (d / KEYPOINTS_FILE).is_file())
    if not files:
        raise CaptureError(f"no samples in {root}: expected <label>/{KEYPOINTS_FILE} folders (capture them with "
                           f"`handsdk capture --source ... --label ... -o {root}`)")
    for f, ln, line in json_lines(files):
        label = f.parent.name
        try:
            r = json.loads(line)
            kp = np.asarray(r["keypoints"], np.float32)
            if kp.ndim != 2 or kp.shape[0] != NUM_KEYPOINTS or kp.shape[1] < 2 \
                    or not np.all(np.isfinite(kp[:, :2])):
                raise ValueError(f"keypoints of shape {kp.shape}")
            if kp.shape[1] == 2:
                kp = np.concatenate([kp, np.zeros((NUM_KEYPOINTS, 1), np.float32)], 1)
            h = r.get("handedness")
            if h not in ("Left", "Right"):
                h = None
        except (ValueError, KeyError, TypeError) as e:
            skipped += 1
            warnings.warn(f"{f}:{ln}: skipping a malformed sample ({e})")
            continue
        kps.append(kp[:, :3])
        hands.append(h)
        labels.append(label)
        sources.append(str(r.get("source", "")))
        o = r.get("frame")
        if o is None:
            o = r.get("timestamp_ms")
        order.append(float(o) if isinstance(o, (int, float)) else float(ln))
        recs.append(r)
    return KeypointDataset(root=root, keypoints=np.asarray(kps, np.float32).reshape(-1, NUM_KEYPOINTS, 3),
                           handedness=hands, labels=labels, sources=sources, order=order, skipped=skipped,
                           records=recs)


# ------------------------------------------------------------------ capturing


@dataclass
class CaptureReport:
    """What a capture run did: samples added per label, frames seen, frames
    with a hand, and the dataset's totals afterwards."""

    output: str
    added: dict = field(default_factory=dict)
    totals: dict = field(default_factory=dict)
    frames: int = 0
    frames_with_hand: int = 0
    no_hand: int = 0
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _recognizer_options(bundle, image_mode: bool, check_bundle: bool = True):
    from .recognizer import GestureRecognizerOptions, RunningMode

    if check_bundle and bundle is not None and not isinstance(bundle, (bytes, bytearray)) \
            and not hasattr(bundle, "models"):
        p = Path(os.fspath(bundle))
        if not p.is_file():
            raise CaptureError(f"bundle not found: {p}")
    return GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.IMAGE if image_mode else RunningMode.VIDEO,
                                    max_hands=2, smoothing=False, color_order="BGR")  # (OpenCV reads every source)


def _recognizer(bundle, image_mode: bool, recognizer=None):
    if recognizer is not None:
        return recognizer
    from .recognizer import GestureRecognizer

    return GestureRecognizer(_recognizer_options(bundle, image_mode))


def _main_hand(result):
    """The hand to record: the largest one in the frame."""
    if not result.hands:
        return None
    return max(result.hands, key=lambda h: float((h.box[2] - h.box[0]) * (h.box[3] - h.box[1])))


def _source_name(source) -> str:
    if isinstance(source, (str, os.PathLike, int)):
        return str(source)
    return type(source).__name__


def capture_stream(source, output, label: str | None = None, *, bundle=None, every: int = 1,
                   max_samples: int | None = None, crops: bool = False, keys: dict | None = None,
                   image_mode: bool | None = None, show: Callable | None = None,
                   progress: Callable[[str], None] | None = print, progress_every: int = 10,
                   recognizer=None, frames_kw: dict | None = None) -> CaptureReport:
    """Record samples from a camera index, a video file, an image folder or an
    iterable of frames into the dataset folder ``output``.

    label: with it, every ``every``-th frame with a hand is recorded under it
        (until ``max_samples``). keys: {key code: label}; with ``show`` a key
        press records the current hand under that label (GUI mode).
    show: ``show(frame_bgr, result, counts, recording) -> key code or -1``
        (the CLI's window); key ``q``/Esc stops, space pauses/resumes ``label``.
    image_mode: IMAGE mode (independent images) instead of VIDEO tracking;
        default: IMAGE for folders and image files.
    Errors of the source (a camera that stops, a corrupt video) end the run
    with ``report.error`` set; everything recorded stays on disk.
    """
    from .sources import frames, is_camera

    if label is not None:
        label = check_label(label)
    keys = dict(keys or {})
    if label is None and not (keys and show is not None):
        raise CaptureError("nothing to record: give --label (or --keys with a window)")
    every = check_int("--every", every, 1, error=CaptureError)
    if max_samples is not None:
        max_samples = check_int("--max-samples", max_samples, 1, error=CaptureError)
    if image_mode is None:
        image_mode = isinstance(source, (str, os.PathLike)) and not is_camera(source) and (
            Path(source).is_dir() or Path(source).suffix.lower() in IMAGE_SUFFIXES)
    from .session import FrameError, Session, SessionOptions

    # the loop of `handsdk run` (a Session) without events, speller or actions; in VIDEO mode a
    # timestamp that does not increase becomes the previous one + 1 ms
    opts = SessionOptions(recognizer=_recognizer_options(bundle, image_mode, check_bundle=recognizer is None),
                          event_sets=(), spelling=None, monotonic_timestamps=True)
    session = Session(opts, recognizer=recognizer)  # builds (and then closes) the recognizer unless given one
    report = CaptureReport(output=str(output))
    t0 = time.monotonic()
    src_name = _source_name(source)
    say = progress or (lambda s: None)
    recording = label is not None
    try:
        it = frames(source, **(frames_kw or {}))  # SourceError here: nothing was opened
        with DatasetWriter(output, crops=crops) as writer:
            try:
                for i, (frame, ts) in enumerate(it):
                    report.frames += 1
                    try:
                        step = session.step(frame, ts)
                    except FrameError as e:  # the recognizer's own error, as before
                        raise e.error from None
                    result = step.result
                    if not image_mode and step.timestamp_ms is not None:
                        ts = step.timestamp_ms  # made monotonic
                    hand = _main_hand(result)
                    if hand is None:
                        report.no_hand += 1
                    else:
                        report.frames_with_hand += 1
                    todo = []
                    if hand is not None and recording and label is not None \
                            and (report.frames_with_hand - 1) % every == 0:
                        todo.append(label)
                    if show is not None:
                        k = show(frame, result, dict(writer.counts), recording)
                        k = -1 if k is None else int(k) & 0xFF if int(k) >= 0 else -1
                        if k in (ord("q"), 27):
                            break
                        if k == ord(" ") and label is not None:
                            recording = not recording
                        if k in keys and hand is not None:
                            todo.append(keys[k])
                    for lab in todo:
                        writer.add(lab, hand, frame_bgr=frame, source=src_name, frame=i, timestamp_ms=ts)
                        n = sum(writer.added.values())
                        if n % progress_every == 0 or n == 1:
                            say(f"{lab}: {writer.counts[lab]} samples ({n} new, frame {i + 1})")
                    if max_samples is not None and label is not None and writer.added.get(label, 0) >= max_samples:
                        break
            except SourceError as e:
                report.error = str(e)
            except KeyboardInterrupt:
                report.error = "interrupted"
            finally:
                report.added = dict(writer.added)
                report.totals = dict(writer.counts)
    finally:
        session.close()
    report.seconds = time.monotonic() - t0
    return report


def class_folders(folder) -> dict[str, list[Path]]:
    """{label: image paths} of a photo collection with one folder per label."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CaptureError(f"folder not found: {folder}")
    out = {}
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        imgs = sorted(p for p in d.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if imgs:
            out[check_label(d.name)] = imgs
    return out


def is_class_folder_collection(folder) -> bool:
    p = Path(folder)
    return p.is_dir() and bool(class_folders(p))


def convert_class_folders(folder, output, *, bundle=None, crops: bool = False,
                          labels: Iterable[str] | None = None,
                          progress: Callable[[str], None] | None = print, recognizer=None) -> CaptureReport:
    """Turn a photo collection (one sub-folder of images per label; ``none``
    for negatives) into a keypoint dataset by running the pipeline in IMAGE
    mode over every image. Images with no hand are counted and skipped."""
    from .sources import read_image

    groups = class_folders(folder)
    if labels is not None:
        want = set(labels)
        groups = {k: v for k, v in groups.items() if k in want}
    if not groups:
        raise CaptureError(f"no class folders with images ({', '.join(IMAGE_SUFFIXES)}) in {folder}: expected "
                           f"{folder}/<label>/*.jpg")
    rec = _recognizer(bundle, True, recognizer)
    owns = recognizer is None
    say = progress or (lambda s: None)
    report = CaptureReport(output=str(output))
    t0 = time.monotonic()
    try:
        with DatasetWriter(output, crops=crops) as writer:
            try:
                for label, paths in groups.items():
                    got = 0
                    for i, p in enumerate(paths):
                        report.frames += 1
                        try:
                            img = read_image(p)
                        except SourceError as e:
                            warnings.warn(f"skipping {p}: {e}")
                            report.no_hand += 1
                            continue
                        hand = _main_hand(rec.recognize(img))
                        if hand is None:
                            report.no_hand += 1
                            continue
                        report.frames_with_hand += 1
                        writer.add(label, hand, frame_bgr=img, source=str(p.relative_to(folder)), frame=i)
                        got += 1
                    say(f"{label}: {got} of {len(paths)} images had a hand (total {writer.counts.get(label, 0)})")
            finally:
                report.added = dict(writer.added)
                report.totals = dict(writer.counts)
    finally:
        if owns:
            rec.close()
    report.seconds = time.monotonic() - t0
    return report


# ------------------------------------------------------------------ motion gestures

#: one take per line: {"label", "source", "times_ms": [...], "keypoints": [[[x, y] x 21] ...],
#: "handedness", "image_size", "track_id"}: the keypoint history of a hand making a motion
HISTORY_FILE = "history.jsonl"


@dataclass
class MotionTake:
    """One recorded take of a motion dataset: timestamps (N,) ms and
    keypoints (N, 21, 2) pixels of one tracked hand."""

    label: str
    times_ms: np.ndarray
    keypoints: np.ndarray
    source: str = ""
    handedness: str | None = None


def is_motion_dataset(root) -> bool:
    """Whether a dataset folder holds motion takes (``<label>/history.jsonl``)."""
    root = Path(root)
    return root.is_dir() and any((d / HISTORY_FILE).is_file() for d in root.iterdir() if d.is_dir())


def json_lines(files):
    """(file, line number, line) of every non-blank line of ``files`` (a capture's
    JSON-lines files; each reader parses and checks its own records)."""
    for f in files:
        with open(f, encoding="utf-8", errors="replace") as fh:
            for ln, line in enumerate(fh, 1):
                if line.strip():
                    yield f, ln, line


def read_motion_dataset(root) -> list[MotionTake]:
    """The takes of a motion dataset folder (malformed lines skipped with a warning)."""
    root = Path(root)
    if not is_motion_dataset(root):
        raise CaptureError(f"no motion takes in {root}: expected <label>/{HISTORY_FILE} (record them with "
                           f"`handsdk capture --motion --label <name> --camera 0 -o {root}`)")
    out = []
    for f, ln, line in json_lines(sorted(d / HISTORY_FILE for d in root.iterdir() if (d / HISTORY_FILE).is_file())):
        try:
            r = json.loads(line)
            t = np.asarray(r["times_ms"], np.float64)
            kp = np.asarray(r["keypoints"], np.float32)[..., :2]
            if kp.ndim != 3 or kp.shape[1:] != (NUM_KEYPOINTS, 2) or len(t) != len(kp) or len(t) < 2 \
                    or not np.all(np.diff(t) > 0) or not np.all(np.isfinite(kp)):
                raise ValueError(f"times {t.shape} / keypoints {kp.shape}")
        except (ValueError, KeyError, TypeError) as e:
            warnings.warn(f"{f}:{ln}: skipping a malformed take ({e})")
            continue
        out.append(MotionTake(f.parent.name, t, kp, str(r.get("source", "")), r.get("handedness")))
    return out


def capture_motion(source, output, label: str, *, bundle=None, take_seconds: float = 3.0, max_takes: int | None = None,
                   min_frames: int = 10, show: Callable | None = None, progress: Callable[[str], None] | None = print,
                   recognizer=None, frames_kw: dict | None = None) -> CaptureReport:
    """Record takes of a motion gesture: the keypoint history of the largest
    tracked hand (VIDEO mode) under ``label``, one take per ``take_seconds``
    (make the motion once or a few times in each), or per run of frames with
    that hand when it is lost sooner; a take of fewer than ``min_frames``
    frames is dropped. ``show(frame, result, counts, recording) -> key``:
    space pauses / resumes, q or Esc stops. Takes are appended to
    ``<output>/<label>/history.jsonl`` as they end (nothing recorded is lost)."""
    from .session import FrameError, Session, SessionOptions
    from .sources import frames

    label = check_label(label)
    take_seconds = check_range("--take-seconds", take_seconds, 0, lo_open=True, note="seconds", error=CaptureError)
    opts = SessionOptions(recognizer=_recognizer_options(bundle, False, check_bundle=recognizer is None),
                          event_sets=(), spelling=None, monotonic_timestamps=True)
    session = Session(opts, recognizer=recognizer)
    root = Path(output)
    (root / label).mkdir(parents=True, exist_ok=True)
    report = CaptureReport(output=str(output))
    say = progress or (lambda s: None)
    t0 = time.monotonic()
    take: dict = {"t": [], "kp": [], "track": None, "hand": None, "size": None}
    n_done = [0]
    fh = open(root / label / HISTORY_FILE, "a", encoding="utf-8")

    def flush():
        if len(take["t"]) >= min_frames:
            rec = {"label": label, "source": _source_name(source), "track_id": take["track"],
                   "handedness": take["hand"], "image_size": take["size"],
                   "times_ms": [int(v) for v in take["t"]],
                   "keypoints": [[[round(float(x), 1), round(float(y), 1)] for x, y in k[:, :2]] for k in take["kp"]]}
            fh.write(json.dumps(rec) + "\n")
            fh.flush()
            n_done[0] += 1
            report.added[label] = report.added.get(label, 0) + 1
            say(f"{label}: take {n_done[0]} ({len(take['t'])} frames, {(take['t'][-1] - take['t'][0]) / 1000:.1f}s)")
        take.update(t=[], kp=[], track=None)

    recording = True
    try:
        for i, (frame, ts) in enumerate(frames(source, **(frames_kw or {}))):
            report.frames += 1
            try:
                step = session.step(frame, ts)
            except FrameError as e:
                raise e.error from None
            ts = step.timestamp_ms
            hand = _main_hand(step.result)
            if hand is None:
                report.no_hand += 1
            else:
                report.frames_with_hand += 1
            if recording and hand is not None:
                if take["track"] is not None and hand.track_id != take["track"]:
                    flush()
                take["track"], take["hand"] = hand.track_id, hand.handedness.name
                take["size"] = list(step.result.image_size)
                take["t"].append(ts)
                take["kp"].append(np.asarray(hand.keypoints, np.float32))
                if take["t"][-1] - take["t"][0] >= take_seconds * 1000:
                    flush()
            elif take["t"] and (hand is None or not recording):
                if hand is None and ts - take["t"][-1] < 300:
                    pass  # (a frame or two without the hand: the take goes on)
                else:
                    flush()
            if show is not None:
                k = show(frame, step.result, {label: n_done[0]}, recording)
                k = -1 if k is None else int(k) & 0xFF if int(k) >= 0 else -1
                if k in (ord("q"), 27):
                    break
                if k == ord(" "):
                    recording = not recording
                    if not recording:
                        flush()
            if max_takes is not None and n_done[0] >= max_takes:
                break
        flush()
    except SourceError as e:
        report.error = str(e)
    except KeyboardInterrupt:
        report.error = "interrupted"
    finally:
        fh.close()
        session.close()
        report.totals = {label: sum(1 for _ in open(root / label / HISTORY_FILE, encoding="utf-8"))}
    report.seconds = time.monotonic() - t0
    return report


__all__ = ["KEYPOINTS_FILE", "NONE_LABEL", "CaptureError", "CaptureReport", "DatasetWriter", "KeypointDataset",
           "capture_stream", "class_folders", "convert_class_folders", "dataset_counts", "hand_crop",
           "is_class_folder_collection", "parse_keys", "read_dataset", "check_label",
           "HISTORY_FILE", "MotionTake", "capture_motion", "is_motion_dataset", "read_motion_dataset"]
