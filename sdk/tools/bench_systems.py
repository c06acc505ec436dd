"""Running both systems on the same frames for ``handsdk bench``: the SDK
in this process (accuracy in IMAGE mode, latency in IMAGE and VIDEO mode),
MediaPipe through its worker (:func:`handsdk.train.mediapipe.env.run_worker`)
with the same protocol, and the bundle gesture set that classifies each
data label set."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from handsdk.train.mediapipe.env import run_worker

from .latency import tracking_clips, was_tracked

#: alternative names of a data label set among a bundle's gesture sets
GESTURE_ALIASES = {"asl_letters": ("asl_letters", "letters", "asl", "fingerspelling", "spelling"),
                   "asl_digits": ("asl_digits", "digits", "numbers", "number_signs"),
                   "commands": ("commands", "command", "gestures")}


# ------------------------------------------------------------------ SDK side


def _gesture_map(bundle_sets: dict, label_set: str | None, data_labels=()) -> str | None:
    """The bundle gesture set that classifies ``label_set``: by name, by alias,
    else the set whose labels cover most of the data's labels (the label set's
    canonical labels and ``data_labels``; at least half of them)."""
    if not label_set or not bundle_sets:
        return None
    if label_set in bundle_sets:
        return label_set
    for alias in GESTURE_ALIASES.get(label_set, ()):
        if alias in bundle_sets:
            return alias
    want = set(data_labels)
    try:
        from handsdk.train.data.catalog import LABEL_SETS

        want |= set(LABEL_SETS.get(label_set, ()))
    except ImportError:  # pragma: no cover - train package absent
        pass
    best, cover = None, 0.0
    for name, labels in bundle_sets.items():
        c = len(want & set(labels)) / len(want) if want else 0.0
        if c > cover:
            best, cover = name, c
    return best if cover >= 0.5 else None


def gesture_classifiers(bundle, chosen: dict) -> dict:
    """{data label set: GestureClassifier} for the label sets of the chosen
    samples that one of the bundle's gesture sets classifies (:func:`_gesture_map`)."""
    from handsdk.stages import GestureClassifier

    classifiers = {}
    bundle_sets = {n: tuple(e.labels or ()) for n, e in bundle.gesture_sets.items()}
    data_labels: dict = {}
    for ss in chosen.values():
        for s in ss:
            if s.label_set and s.label is not None:
                data_labels.setdefault(s.label_set, set()).add(s.label)
    for lset, labs in data_labels.items():
        gs = _gesture_map(bundle_sets, lset, labs)
        if gs:
            classifiers[lset] = GestureClassifier(bundle, gs, num_threads=1)
    return classifiers


def sdk_hands(result) -> list[dict]:
    return [{"keypoints": np.asarray(h.keypoints, np.float32)[:, :3].tolist(), "handedness": h.handedness.name,
             "handedness_score": float(h.handedness.score),
             "score": float(h.presence if h.detection_score is None else h.detection_score),
             "gestures": {k: v[0].name for k, v in h.gestures.items() if v}} for h in result.hands]


def run_sdk_accuracy(bundle, frames: dict, *, threads: int = 2, max_hands: int = 2, gt_boxes: dict | None = None,
                     progress: Callable[[int], None] | None = None) -> tuple[dict, dict]:
    """The SDK end to end (IMAGE mode) on every frame -> ({key: hands},
    {key: [landmarker keypoints on each GT box]})."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode

    out, on_box = {}, {}
    opts = GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.IMAGE, max_hands=max_hands,
                                    num_threads=threads, color_order="RGB")
    with GestureRecognizer(opts) as rec:
        for i, (key, img) in enumerate(frames.items()):
            out[key] = sdk_hands(rec.recognize(img))
            for box in (gt_boxes or {}).get(key, ()):
                lm = rec.landmarker.landmark_rgb(img, np.asarray(box, np.float32))
                on_box.setdefault(key, []).append(lm.keypoints[:, :2].tolist())
            if progress:
                progress(i + 1)
    return out, on_box


def _add_stages(into: dict, result) -> None:
    """Append a result's per-stage times (``timings_ms`` less the total) to
    ``into`` ({stage: [ms, ...]}): detect, landmark, gesture and, in VIDEO
    mode with a motion set, motion."""
    for stage, ms in result.timings_ms.items():
        if stage != "total":
            into.setdefault(stage, []).append(float(ms))


def run_sdk_latency(bundle, sizes: dict, *, threads: int = 2, warmup: int = 5, image_rounds: int = 3,
                    clip_len: int = 6) -> dict:
    """Same protocol as the MediaPipe worker (see its docstring): IMAGE mode
    every frame, VIDEO mode in clips of ``clip_len`` (first frame of a clip
    set apart). Times wrap ``recognize``; max_hands=1 so that a tracked hand
    stops the detector, as MediaPipe with num_hands=1."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode

    res_all = {}
    clip_len = max(2, int(clip_len))
    for size, arrays in sizes.items():
        res = {"image_ms": [], "video_ms": [], "video_first_ms": [], "image_hands": [], "video_tracked": [],
               "image_stage_ms": {}, "video_stage_ms": {}}
        opts = GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.IMAGE, max_hands=1,
                                        num_threads=threads, color_order="RGB")
        with GestureRecognizer(opts) as rec:
            seq = [arrays[i % len(arrays)] for i in range(warmup + image_rounds * len(arrays))]
            for i, a in enumerate(seq):
                t = time.perf_counter()
                r = rec.recognize(a)
                dt = (time.perf_counter() - t) * 1000
                if i >= warmup:
                    res["image_ms"].append(dt)
                    res["image_hands"].append(len(r.hands))
                    _add_stages(res["image_stage_ms"], r)
        opts = GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.VIDEO, max_hands=1,
                                        num_threads=threads, color_order="RGB")
        with GestureRecognizer(opts) as rec:
            for j, r, dt in tracking_clips(rec, arrays, clip_len=clip_len, warmup=warmup):
                if j == 0:
                    res["video_first_ms"].append(dt)
                else:
                    res["video_ms"].append(dt)
                    res["video_tracked"].append(was_tracked(r))
                    _add_stages(res["video_stage_ms"], r)
        res_all[size] = res
    return res_all


def run_mediapipe_accuracy(python, model, frames_npz, keys, workdir, *, num_hands: int = 2, worker=None) -> dict:
    """MediaPipe (IMAGE mode) on the frames ``keys`` of ``frames_npz``: the
    worker's answer ({"accuracy": {key: hands}, "mediapipe_version", ...})."""
    return run_worker(python, {"model": str(model), "frames": str(frames_npz),
                               "accuracy": {"keys": list(keys), "num_hands": num_hands}}, workdir, worker=worker)


def run_mediapipe_latency(python, model, frames_npz, size: str, keys, workdir, *, warmup: int, image_rounds: int,
                          clip_len: int, num_hands: int = 1, worker=None) -> dict:
    """MediaPipe's latency on the frames ``keys`` of one ``size`` (same
    protocol as :func:`run_sdk_latency`): {size: {"image_ms", ...}}."""
    r = run_worker(python, {"model": str(model), "frames": str(frames_npz), "latency": {
        "sizes": {size: list(keys)}, "warmup": warmup, "image_rounds": image_rounds, "clip_len": clip_len,
        "num_hands": num_hands}}, workdir, worker=worker)
    return r["latency"]
