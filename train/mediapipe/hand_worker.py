"""Run Google MediaPipe's hand landmarker on frames given by a JSON job.

Standalone: runs inside the separate MediaPipe virtual environment (``pip
install mediapipe``), imports neither handsdk nor OpenCV, needs only numpy and
mediapipe. ``handsdk bench`` writes the job and reads the result:

    python hand_worker.py job.json

job.json::

    {"model": ".../hand_landmarker_full.task",
     "frames": "frames.npz",            # RGB uint8 arrays, one per key
     "out": "result.json",
     "accuracy": {"keys": [...], "num_hands": 2},           # IMAGE mode, one call per frame
     "latency": {"sizes": {"320x240": [key, ...]},          # frames of each size
                 "warmup": 5, "image_rounds": 3, "clip_len": 6, "num_hands": 1}}

result.json::

    {"mediapipe_version", "model", "num_threads": null,
     "accuracy": {key: [{"keypoints": [[x, y, z] x 21] (pixels, z scaled like x),
                         "handedness": "Left"|"Right", "handedness_score", "score"}]},
     "latency": {"320x240": {"image_ms": [...], "video_ms": [...], "video_first_ms": [...],
                             "image_hands": [...]}}}

IMAGE-mode latency: every frame runs the palm detector (``detect``), warm-up
frames dropped. VIDEO-mode latency (tracking): each frame is played as a clip
of ``clip_len`` frames (``detect_for_video`` with increasing timestamps); the
first frame of each clip (the hand moved: palm detection) goes to
``video_first_ms``, the others (landmarks from the previous frame's hand: the
tracking frames) to ``video_ms``. Times cover building the ``mp.Image`` and the
call. Handedness is the Tasks API's, for the image as given (not mirrored).
MediaPipe Tasks does not expose a thread count.
"""
from __future__ import annotations

import json
import sys
import time
import traceback


def _hands(result, w: int, h: int) -> list[dict]:
    out = []
    for i, lms in enumerate(result.hand_landmarks):
        kp = [[float(p.x) * w, float(p.y) * h, float(p.z) * w] for p in lms]
        cat = result.handedness[i][0] if i < len(result.handedness) and result.handedness[i] else None
        score = float(cat.score) if cat is not None else None
        out.append({"keypoints": kp,
                    "handedness": (cat.category_name if cat is not None else None),
                    "handedness_score": score,
                    # the Tasks API exposes no detection / presence score: the
                    # handedness confidence is the only per-hand score it gives
                    "score": score})
    return out


def _landmarker(vision, BaseOptions, model: str, mode, num_hands: int):
    opts = vision.HandLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=model), running_mode=mode, num_hands=int(num_hands),
        min_hand_detection_confidence=0.5, min_hand_presence_confidence=0.5, min_tracking_confidence=0.5)
    return vision.HandLandmarker.create_from_options(opts)


def run(job: dict) -> dict:
    import numpy as np
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    frames = np.load(job["frames"])
    model = job["model"]
    out: dict = {"mediapipe_version": getattr(mp, "__version__", "?"), "model": model, "num_threads": None,
                 "accuracy": {}, "latency": {}}

    def image(key):
        a = np.ascontiguousarray(frames[key])
        return a, mp.Image(image_format=mp.ImageFormat.SRGB, data=a)

    acc = job.get("accuracy") or {}
    if acc.get("keys"):
        lm = _landmarker(vision, BaseOptions, model, vision.RunningMode.IMAGE, acc.get("num_hands", 2))
        try:
            for key in acc["keys"]:
                a, im = image(key)
                r = lm.detect(im)
                out["accuracy"][key] = _hands(r, a.shape[1], a.shape[0])
        finally:
            lm.close()

    lat = job.get("latency") or {}
    warmup = int(lat.get("warmup", 5))
    rounds = int(lat.get("image_rounds", 3))
    clip = max(2, int(lat.get("clip_len", 6)))
    nh = int(lat.get("num_hands", 1))
    for size, keys in (lat.get("sizes") or {}).items():
        arrays = [np.ascontiguousarray(frames[k]) for k in keys]
        res = {"image_ms": [], "video_ms": [], "video_first_ms": [], "image_hands": []}
        lm = _landmarker(vision, BaseOptions, model, vision.RunningMode.IMAGE, nh)
        try:
            seq = [arrays[i % len(arrays)] for i in range(warmup + rounds * len(arrays))]
            for i, a in enumerate(seq):
                t = time.perf_counter()
                r = lm.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=a))
                dt = (time.perf_counter() - t) * 1000
                if i >= warmup:
                    res["image_ms"].append(dt)
                    res["image_hands"].append(len(r.hand_landmarks))
        finally:
            lm.close()
        lm = _landmarker(vision, BaseOptions, model, vision.RunningMode.VIDEO, nh)
        try:
            ts = 0
            for w in range(warmup):  # warm-up clip on the first frame
                ts += 33
                lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=arrays[0]), ts)
            for a in arrays:
                for j in range(clip):
                    ts += 33
                    t = time.perf_counter()
                    lm.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=a), ts)
                    dt = (time.perf_counter() - t) * 1000
                    res["video_first_ms" if j == 0 else "video_ms"].append(dt)
        finally:
            lm.close()
        out["latency"][size] = res
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: hand_worker.py job.json", file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    try:
        result = run(job)
    except Exception as e:  # report, do not hide: the caller prints it
        result = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
    with open(job["out"], "w", encoding="utf-8") as f:
        json.dump(result, f)
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
