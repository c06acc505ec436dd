"""Soak test: many frames through the live pipeline, watching memory and queues.

    python benchmarks/soak.py --bundle model.handsdk --frames 10000
    python benchmarks/soak.py --tiny --frames 10000     # the tests' tiny bundle (needs TensorFlow to build)

Phase 1 (VIDEO): ``stream()`` over a generated iterable of frames (a red and
green "hand" moving on a circle, disappearing now and then), with command
events and the speller fed every frame; RSS is printed every ``--every``
frames. Phase 2 (LIVE_STREAM): frames pushed as fast as they come, results
through the callback; the pending slot must never hold more than one frame.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def rss_mb() -> float:
    """Resident set size of this process now (MiB)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource  # peak, not current, where /proc is missing

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / (1024.0 * 1024.0) if sys.platform == "darwin" else r / 1024.0


def moving_hand_frames(n: int, size=(240, 320), seed: int = 0):
    """A thick red cross (what the tiny detector sees as a hand) with a green
    dot (where the tiny landmarker puts keypoints) moving on a circle; every
    400 frames the hand is gone for 20 frames."""
    import cv2

    h, w = size
    rng = np.random.default_rng(seed)
    base = np.full((h, w, 3), 40, np.uint8)
    for i in range(n):
        img = base.copy()
        if i % 400 < 380:
            a = i * 0.05
            cx, cy = w / 2 + 0.25 * w * np.cos(a), h / 2 + 0.2 * h * np.sin(a)
            s = 0.18 * min(h, w)
            x0, y0, x1, y1 = (int(v) for v in (cx - s, cy - s, cx + s, cy + s))
            cv2.line(img, (x0, y0), (x1, y1), (0, 0, 255), 8)
            cv2.line(img, (x0, y1), (x1, y0), (0, 0, 255), 8)
            d = rng.integers(-3, 4, 2)
            cv2.circle(img, (int(cx + d[0]), int(cy + d[1])), 4, (0, 255, 0), -1)
        yield img


def soak(bundle, frames: int = 10000, every: int = 1000, live_frames: int = 2000, size=(240, 320),
         out=print, live_fps: float = 0.0) -> dict:
    """Run both phases; returns the measurements. ``live_fps`` paces the
    LIVE_STREAM pushes like a camera (0: as fast as frames can be made)."""
    from handsdk import GestureRecognizer, RunningMode
    from handsdk.events import GestureEvents
    from handsdk.spelling import Speller

    samples = []
    n_events = 0
    with GestureRecognizer.create(bundle, running_mode=RunningMode.VIDEO) as rec:
        events = GestureEvents()
        speller = Speller.for_recognizer(rec) if any(c.kind == "spelling" for c in rec.classifiers.values()) \
            else None
        t0 = time.perf_counter()
        rss0 = rss_mb()
        out(f"{'frames':>8} {'rss MiB':>9} {'frames/s':>9} {'tracks':>7} {'detector runs':>14}")
        out(f"{0:>8} {rss0:>9.1f} {'':>9} {'':>7} {'':>14}")
        samples.append((0, rss0, 0.0))
        t_last = t0
        for i, (frame, result) in enumerate(rec.stream(moving_hand_frames(frames, size)), 1):
            n_events += len(events.update(result))
            if speller is not None:
                speller.update(result)
            if i % every == 0 or i == frames:
                now = time.perf_counter()
                fps = (every if i % every == 0 else i % every) / max(now - t_last, 1e-9)
                t_last = now
                r = rss_mb()
                samples.append((i, r, fps))
                out(f"{i:>8} {r:>9.1f} {fps:>9.1f} {len(rec.tracks):>7} {rec.detector_runs:>14}")
        video_s = time.perf_counter() - t0
        stats = {"frames": frames, "video_fps": frames / video_s, "events": n_events,
                 "detector_runs": rec.detector_runs, "tracks_lost": rec.tracks_lost}
    # phase 2: LIVE_STREAM
    got = []
    pend = []

    def cb(result, frame, ts):
        got.append(ts)

    with GestureRecognizer.create(bundle, running_mode="live_stream", result_callback=cb) as rec:
        t0 = time.perf_counter()
        for i, frame in enumerate(moving_hand_frames(live_frames, size)):
            if live_fps:
                time.sleep(max(0.0, t0 + i / live_fps - time.perf_counter()))
            rec.recognize(frame, timestamp_ms=i * 33)
            pend.append(rec.pending_frames)
        deadline = time.time() + 10
        while rec.pending_frames and time.time() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)
        live_s = time.perf_counter() - t0
        dropped = rec.dropped_frames
    rss_end = rss_mb()
    stats.update({
        "rss_start_mb": samples[0][1], "rss_after_first_interval_mb": samples[1][1] if len(samples) > 1 else None,
        "rss_end_video_mb": samples[-1][1], "rss_end_mb": rss_end, "samples": samples,
        "live_frames": live_frames, "live_delivered": len(got), "live_dropped": dropped,
        "live_max_pending": max(pend) if pend else 0, "live_in_order": got == sorted(got),
        "live_push_fps": live_frames / live_s,
    })
    out(f"LIVE_STREAM: {live_frames} frames pushed, {len(got)} delivered, {dropped} dropped, "
        f"max pending {stats['live_max_pending']}, in order: {stats['live_in_order']}")
    out(f"RSS start {stats['rss_start_mb']:.1f} MiB, after {every} frames {stats['rss_after_first_interval_mb']:.1f}, "
        f"end {rss_end:.1f} MiB; VIDEO {stats['video_fps']:.0f} frames/s (frame generation included)")
    return stats


def tiny_bundle(path: Path) -> Path:
    """Build the tests' tiny bundle (needs TensorFlow)."""
    repo = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(repo))
    from handsdk.bundle import GestureSet, build_bundle
    from handsdk.convert.tflite import keras_to_tflite
    from tests.conftest import tiny_detector, tiny_gesture, tiny_landmarker

    build_bundle(path, detector=keras_to_tflite(tiny_detector()), landmarker=keras_to_tflite(tiny_landmarker()),
                 gestures={"commands": GestureSet(keras_to_tflite(tiny_gesture(3, seed=1)), ("none", "open_palm", "fist")),
                           "letters": GestureSet(keras_to_tflite(tiny_gesture(4, seed=2)), ("A", "B", "C", "D"),
                                                 kind="spelling", none_label=None)},
                 detector_decoding={"threshold": 0.5, "min_mass": 3.0, "min_size_frac": 0.05, "pad": 0.1},
                 landmarker_decoding={"type": "heatmaps", "crop_scale": 1.4}, name="tiny-test")
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the shipped one)")
    ap.add_argument("--tiny", action="store_true", help="build and use the tests' tiny bundle (needs TensorFlow)")
    ap.add_argument("--frames", type=int, default=10000)
    ap.add_argument("--every", type=int, default=1000)
    ap.add_argument("--live-frames", type=int, default=2000)
    ap.add_argument("--live-fps", type=float, default=0.0, help="pace LIVE_STREAM pushes (0: as fast as possible)")
    ap.add_argument("--json", help="write the measurements here")
    a = ap.parse_args(argv)
    bundle = a.bundle
    if a.tiny:
        import tempfile

        bundle = tiny_bundle(Path(tempfile.mkdtemp()) / "tiny.handsdk")
    stats = soak(bundle, a.frames, a.every, a.live_frames, live_fps=a.live_fps)
    if a.json:
        Path(a.json).write_text(json.dumps(stats, indent=1))
    return stats


if __name__ == "__main__":
    main()
