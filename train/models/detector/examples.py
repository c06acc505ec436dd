"""Detector examples: letterboxed (optionally zoomed) frames with their
hands' keypoints in model pixels (numpy pools), and the skeleton-map target
rendered in tf.data (flips and colour fresh every epoch)."""
from __future__ import annotations

import math

import numpy as np

from handsdk.image import apply_affine, letterbox_matrix, warp
from handsdk.train.data.augment import compose


def _scaled_about(m, z: float, a, t) -> np.ndarray:
    """``m`` followed by a scale by ``z`` that moves the point ``a`` (model
    pixels) to ``t``."""
    return compose([[z, 0.0, t[0] - z * a[0]], [0.0, z, t[1] - z * a[1]]], m)


def zoom_matrix(m, kps, height: int, width: int, rng, zoom) -> np.ndarray:
    """``m`` (frame -> model) followed by a random zoom in ``zoom`` = (lo, hi)
    (log-uniform) about a random hand (or point) placed at a random spot:
    below 1 the hands shrink (a person at arm's length), above 1 they grow."""
    z = math.exp(rng.uniform(math.log(zoom[0]), math.log(zoom[1])))
    pts = [apply_affine(m, k[k[:, 2] >= 0, :2]) for k in kps if (k[:, 2] >= 0).any()]
    if pts:
        p = pts[int(rng.integers(len(pts)))]
        a = (p.min(0) + p.max(0)) / 2
    else:
        a = np.array([rng.uniform(0, width), rng.uniform(0, height)])
    canvas = np.array([width, height], np.float64)
    rng.random(2)  # unused; drawn so that a seeded pool is the one the shipped detector was trained on
    if z >= 1:  # grown about the hand, which lands at the centre
        t = 0.5 * canvas
    else:  # the shrunken frame stays inside the canvas
        t = a * z + canvas * (1 - z) * rng.random(2)
    return _scaled_about(m, z, a, t)


def detector_pool(samples, height: int, width: int, max_hands: int = 2, *, zoom=None, zoom_prob: float = 0.0,
                  rng=None):
    """Letterboxed frames (N, H, W, 3) uint8 and keypoints (N, max_hands, 21, 3)
    in model pixels (absent hands: all -1). With ``zoom`` = (lo, hi) and
    ``zoom_prob`` > 0, that share of the frames is zoomed (see
    :func:`zoom_matrix`), fixed for the run."""
    n = len(samples)
    imgs = np.zeros((n, height, width, 3), np.uint8)
    kps = np.full((n, max_hands, 21, 3), -1.0, np.float32)
    for i, s in enumerate(samples):
        m = letterbox_matrix(s.image.shape[:2], (height, width))
        if zoom is not None and zoom_prob > 0 and rng is not None and rng.random() < zoom_prob:
            m = zoom_matrix(m, s.keypoints, height, width, rng, zoom)
        imgs[i] = warp(s.image, m, (height, width))
        for j, kp in enumerate(s.keypoints[:max_hands]):
            k = apply_affine(m, kp).astype(np.float32)
            k[:, 2] = np.where(kp[:, 2] < 0, -1.0, np.maximum(kp[:, 2], 0.0))
            kps[i, j] = k
    return {"image": imgs, "keypoints": kps}


def letterboxed_boxes(samples, h, w, max_hands=2):
    """The hands' boxes (N, max_hands, 4) in letterboxed model pixels (rows
    of -1 pad): the boxes people drew where a scene set has them."""
    out = np.full((len(samples), max_hands, 4), -1.0, np.float32)
    for i, s in enumerate(samples):
        m = letterbox_matrix(s.image.shape[:2], (h, w))
        human = s.extras.get("human_boxes")  # scene sets: the boxes people drew
        for j, b in enumerate((s.boxes if human is None else human)[:max_hands]):
            c = apply_affine(m, np.array([[b[0], b[1]], [b[2], b[3]]], np.float64))
            out[i, j] = [c[0, 0], c[0, 1], c[1, 0], c[1, 1]]
    return out


def frame_size(cfg) -> tuple[int, int]:
    """Generated sources render at the model input size."""
    return (cfg.model.input_height, cfg.model.input_width)


def pools(cfg, train_samples, val_samples, rng):
    """(train pool, val pool (with the boxes scored), labels None)."""
    m = cfg.model
    mh = int(cfg.data.max_hands)
    d = cfg.data
    train = detector_pool(train_samples, m.input_height, m.input_width, mh, zoom=d.zoom,
                          zoom_prob=d.zoom_prob, rng=rng)
    val = detector_pool(val_samples, m.input_height, m.input_width, mh)
    val["boxes"] = letterboxed_boxes(val_samples, m.input_height, m.input_width, mh)
    return train, val, None


def train_example(cfg, ex, augment):
    """A pool row -> ({"image"}, {"skeleton"}), random flip + colour when
    ``augment``."""
    from handsdk.train.tf import tf

    from ..targets import anchor_targets_tf, color_jitter_tf, render_skeleton_tf

    m = cfg.model
    img = tf.cast(ex["image"], tf.float32) / 255.0
    kp = ex["keypoints"]
    if augment:
        flip = tf.random.uniform(()) < 0.5
        img = tf.cond(flip, lambda: img[:, ::-1], lambda: img)
        fx = tf.where(kp[..., 2] >= 0, float(m.input_width) - kp[..., 0], kp[..., 0])
        kp = tf.cond(flip, lambda: tf.stack([fx, kp[..., 1], kp[..., 2]], -1), lambda: kp)
        img = color_jitter_tf(img)
    skel = render_skeleton_tf(kp, m.input_height, m.input_width, m.skeleton_thickness)[..., None]
    targets = {"skeleton": skel}
    if getattr(m, "anchors", False):  # the peaks, then the heatmap loss's weights (every pixel counts)
        a = anchor_targets_tf(kp, m.input_height, m.input_width, m.stem_stride, m.anchor_sigma)
        targets["anchors"] = tf.concat([a, tf.ones_like(a)], -1)
    return {"image": img}, targets
