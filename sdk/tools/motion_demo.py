"""A demo clip of motion gestures, rendered on the fly by the synthetic hand
renderer: a J (traced with the pinky), a Z (with the index) and a swipe,
for ``handsdk run --demo`` on a machine with no camera (numpy and OpenCV
only; the frames come one at a time).

    from handsdk.tools.motion_demo import motion_demo_frames
    for frame_bgr, ts in motion_demo_frames():
        result = rec.recognize(frame_bgr, ts)          # VIDEO mode

The clip's keypoints are known (``motion_demo_keypoints``), so a demo can
also show what the motion set reads from them when the landmarker misses the
rendered hand (see the README: the shipped landmarker reads the renderer's
hands poorly).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

DEMO_MOTIONS = ("J", "Z", "swipe_left")


def _script(seed: int, motions):
    from handsdk.train.synth.motion import motion_script

    return motion_script(tuple(motions), np.random.default_rng(seed))


def motion_demo_frames(seed: int = 0, fps: float = 15.0, size=(240, 320), motions=DEMO_MOTIONS,
                       hand_scale: float = 0.35) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(frame_bgr, timestamp_ms)`` of a hand making ``motions`` (J, Z
    and a swipe to the user's left by default), one frame at a time. Same
    seed, same clip."""
    from handsdk.train.synth.motion import iter_render_take

    hands, segs = _script(seed, motions)
    for rgb, ts, _ in iter_render_take(hands, segs, size=size, fps=fps, seed=seed, hand_scale=hand_scale):
        yield np.ascontiguousarray(rgb[:, :, ::-1]), int(round(ts))


def motion_demo_length(fps: float = 15.0, seed: int = 0, motions=DEMO_MOTIONS) -> int:
    """Number of frames :func:`motion_demo_frames` yields (no rendering)."""
    from handsdk.train.synth.motion import render_length

    return render_length(_script(seed, motions)[1], fps)


def motion_demo_keypoints(seed: int = 0, fps: float = 30.0, motions=DEMO_MOTIONS):
    """(times_ms, keypoints (N, 21, 2), gestures [(label, start_ms, end_ms)])
    of the same hand's motions as a keypoint stream (no pixels: for
    :func:`handsdk.tools.motion_eval.oracle_recognizer`)."""
    from handsdk.train.synth.motion import Camera, build_take

    rng = np.random.default_rng(seed)
    hands, segs = _script(seed, motions)
    take = build_take(hands, segs, rng, Camera(fps=fps, jitter=0.05, hand_px=120, noise=0.006), start_shape=0)
    return take.times_ms, take.keypoints, [(g[0], int(g[1]), int(g[2])) for g in take.gestures]


__all__ = ["DEMO_MOTIONS", "motion_demo_frames", "motion_demo_keypoints", "motion_demo_length"]
