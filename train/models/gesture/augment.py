"""Keypoint augmentation of GestureNet's training hands (numpy, no TensorFlow).

One home for custom gestures (:mod:`handsdk.train.custom`), the held-out
evaluation (:mod:`handsdk.train.gesture_eval`) and the trainer's
``gestures:`` source (:mod:`handsdk.train.data.gestures`):
:func:`augment_keypoints` (a fresh draw per epoch: turn about the wrist,
anisotropic scale, jitter, mirrored hands, then the feature), the
thumbs flip (:func:`thumbs_flipped`) and the wide turns of the classes whose
meaning does not depend on the hand's direction (:func:`direction_free_half`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from handsdk.checks import check_bool, check_fraction, check_range, is_number
from handsdk.keypoints import batch_keypoint_features

#: classes whose meaning depends on the hand's direction (no wide rotation)
UPRIGHT_CLASSES = ("thumbs_up", "thumbs_down")

_SWAP = {"Left": "Right", "Right": "Left"}


@dataclass(frozen=True)
class KeypointAugment:
    """How :func:`augment_keypoints` draws a hand (defaults: custom gestures)."""

    rotation_deg: float = 15.0  # turn about the wrist, uniform in +-this
    #: with labels: half of the rows of direction-free classes (not UPRIGHT_CLASSES) turn up to this far
    wide_rotation_deg: float = 0.0
    scale: tuple[float, float] = (0.85, 1.15)  # per axis
    jitter: float = 0.015  # std, fraction of the hand's size (max |x|, |y| from the wrist)
    #: the wrist is jittered too (the feature then moves the whole hand by its noise); False keeps it fixed
    jitter_wrist: bool = False
    mirror_prob: float = 0.5  # flips x (and the handedness, when given: a correct mirror keeps the feature)
    handedness_error: float = 0.0  # flips x alone (a wrong handedness estimate)

    def __post_init__(self):
        scale = tuple(self.scale)
        if len(scale) != 2 or not all(is_number(x) for x in scale) or not 0 < scale[0] <= scale[1]:
            raise ValueError(f"scale must be (low, high) with 0 < low <= high, e.g. (0.85, 1.15); got {self.scale!r}")
        object.__setattr__(self, "scale", scale)
        for name in ("rotation_deg", "wide_rotation_deg", "jitter"):
            check_range(name, getattr(self, name), 0, note="0 turns it off")
        check_bool("jitter_wrist", self.jitter_wrist)
        check_fraction("mirror_prob", self.mirror_prob, note="a probability")
        check_fraction("handedness_error", self.handedness_error, note="a probability")


def direction_free_half(labels, rng: np.random.Generator) -> np.ndarray:
    """(N,) bool: a random half of the rows whose class is not one of
    :data:`UPRIGHT_CLASSES` (one draw per row)."""
    labels = np.asarray(labels).astype(str)
    return ~np.isin(labels, UPRIGHT_CLASSES) & (rng.random(len(labels)) < 0.5)


def rotate_keypoints(kp, deg) -> np.ndarray:
    """(N, 21, 2|3) keypoints turned about their wrists by ``deg`` (scalar or
    (N,)) degrees, clockwise on the image (y down); visibility kept."""
    k = np.asarray(kp, np.float32).copy()
    a = np.deg2rad(np.broadcast_to(np.asarray(deg, np.float64), (len(k),)))
    c, s = np.cos(a)[:, None], np.sin(a)[:, None]
    x = k[..., 0] - k[:, :1, 0]
    y = k[..., 1] - k[:, :1, 1]
    k[..., 0] = k[:, :1, 0] + c * x - s * y
    k[..., 1] = k[:, :1, 1] + s * x + c * y
    return k


def thumbs_flipped(keypoints, labels):
    """thumbs_up rows turned by 180 degrees are thumbs_down rows (and back):
    (row mask, the turned keypoints of those rows, their new labels)."""
    labels = np.asarray(labels)
    up, down = labels == "thumbs_up", labels == "thumbs_down"
    m = up | down
    return m, rotate_keypoints(np.asarray(keypoints)[m], 180.0), np.where(up[m], "thumbs_down", "thumbs_up")


def augment_keypoints(kp, rng: np.random.Generator, aug: KeypointAugment, *, handedness=None, labels=None):
    """One random draw of :class:`KeypointAugment` over (N, 21, 2+) keypoints
    (pixels or features: the hand is centred on its wrist first), then
    :func:`handsdk.batch_keypoint_features`. ``handedness``: N values (mirrored
    rows swap theirs) or None; ``labels``: N class names (for the wide turns).
    Returns (features (N, 21, 2), handedness list or None)."""
    xy = np.asarray(kp, np.float32)[:, :, :2].copy()
    n = len(xy)
    xy -= xy[:, :1]
    size = np.abs(xy).reshape(n, -1).max(1).astype(np.float64)
    size[size == 0] = 1.0
    if aug.rotation_deg:
        lim = np.full(n, float(aug.rotation_deg))
        if labels is not None and aug.wide_rotation_deg > aug.rotation_deg:
            lim[direction_free_half(labels, rng)] = aug.wide_rotation_deg
        a = np.deg2rad(rng.uniform(-1, 1, n) * lim)
        c, s = np.cos(a)[:, None], np.sin(a)[:, None]
        x, y = xy[..., 0].copy(), xy[..., 1].copy()
        xy[..., 0] = c * x - s * y
        xy[..., 1] = s * x + c * y
    lo, hi = aug.scale
    if hi > lo:
        xy *= rng.uniform(lo, hi, (n, 1, 2)).astype(np.float32)
    if aug.jitter:
        xy += rng.normal(0.0, (aug.jitter * size)[:, None, None], xy.shape).astype(np.float32)
        if not aug.jitter_wrist:
            xy[:, 0] = 0.0
    hands = None if handedness is None else list(handedness)
    if aug.mirror_prob:
        flip = rng.random(n) < aug.mirror_prob
        xy[flip, :, 0] *= -1
        if hands is not None:
            hands = [_SWAP.get(h, h) if f else h for h, f in zip(hands, flip)]
    if aug.handedness_error:
        wrong = rng.random(n) < aug.handedness_error
        xy[wrong, :, 0] *= -1
    return batch_keypoint_features(xy, hands), hands


__all__ = ["KeypointAugment", "UPRIGHT_CLASSES", "augment_keypoints", "direction_free_half", "rotate_keypoints",
           "thumbs_flipped"]
