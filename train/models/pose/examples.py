"""Landmarker (pose) examples: runtime-style square hand crops (jittered,
optionally upright), hand-free and mined hard-negative crops (numpy pools),
and the heatmap / presence / handedness targets with the noisy skeleton
input rendered in tf.data."""
from __future__ import annotations

import math

import numpy as np

from handsdk.boxes import cover
from handsdk.image import apply_affine, crop_matrix, warp
from handsdk.keypoints import aligned_box, hand_rotation, has_hand_rotation, keypoints_box
from handsdk.train.data.augment import compose


def _hand_lr(v) -> float:
    return {"Right": 1.0, "Left": 0.0}.get(v, -1.0)


def pose_pool(samples, size: int, cfg, rng, negatives: float = 0.1, jitter: bool = True, hard_negatives=None,
              hard_per_frame: int = 2, detections=None):
    """Runtime-style square crops (``crop_matrix`` with ``cfg.crop_scale``)
    around each hand's box, jittered in centre/scale/rotation; plus hand-free
    crops (presence 0) from frames (``negatives`` of the hands) and, for
    frames in ``hard_negatives`` ({image path: boxes}, see
    :mod:`handsdk.train.data.mining`), up to ``hard_per_frame`` crops of
    boxes where a detector fired on no hand (faces, necks, arms).

    ``detections`` (callable sample -> :class:`handsdk.stages.Detection` or
    None): a detector's output on the frame, whose skeleton map each crop
    also gets, cropped with the crop's matrix (pool keys ``det_skeleton``
    (N,S,S) uint8 and ``has_det_skeleton`` (N,)), as the runtime's first pass.

    Returns dict image (N,S,S,3) uint8, keypoints (N,21,3) crop px, presence
    (N,), handedness (N,) (1 Right, 0 Left, -1 unknown), rotation (N,3) (cos,
    sin of the hand's angle in the crop, :func:`rotation_targets`, and a weight)."""
    imgs, kps, pres, hand = [], [], [], []
    dsk: list = []
    mats: list = []  # each crop's frame -> crop matrix
    for s in samples:
        det = detections(s) if detections is not None and s.image is not None else None
        n0 = len(imgs)
        for j in range(s.num_hands):
            kp = s.keypoints[j] if j < len(s.keypoints) else None
            if kp is None or not (kp[:, 2] >= 0).any():
                continue
            vis = kp[:, 2] >= 0
            aligned = bool(getattr(cfg, "align", False)) and (not jitter or rng.random() < cfg.align_prob)
            if aligned:
                rot = hand_rotation(kp, vis)
                if jitter:
                    rot += math.radians(rng.uniform(-cfg.align_jitter, cfg.align_jitter))
                box = aligned_box(kp, rot, vis)
            else:
                rot = math.radians(rng.uniform(-cfg.rotation, cfg.rotation)) if jitter else 0.0
                box = keypoints_box(kp[:, :2], vis)
            side = max(box[2] - box[0], box[3] - box[1], 4.0)
            if jitter:
                c = rng.normal(0, cfg.box_jitter, 2) * side
                box = box + np.array([c[0], c[1], c[0], c[1]], np.float32)
                f = math.exp(rng.uniform(-cfg.scale_jitter, cfg.scale_jitter))
                cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
                hw, hh = (box[2] - box[0]) / 2 * f, (box[3] - box[1]) / 2 * f
                box = np.array([cx - hw, cy - hh, cx + hw, cy + hh], np.float32)
            m = crop_matrix(box, size, scale=cfg.crop_scale, rotation=rot)
            if jitter:
                m = _squeeze(m, size, cfg, rng)
            imgs.append(warp(s.image, m, (size, size)))
            mats.append(m)
            k = apply_affine(m, kp).astype(np.float32)
            k[:, 2] = kp[:, 2]
            kps.append(k)
            pres.append(1.0)
            hv = s.handedness[j] if j < len(s.handedness) else None
            hand.append(_hand_lr(hv))
            if jitter:  # a draw the removed zoomed-out negatives took: seeded pools stay the ones trained on
                rng.random()
        hard = (hard_negatives or {}).get(s.path) if s.image is not None else None
        for b in (hard or [])[:hard_per_frame]:
            b = np.asarray(b, np.float32)
            rot = math.radians(rng.uniform(-180, 180)) if jitter else 0.0
            if jitter:
                side = max(b[2] - b[0], b[3] - b[1], 4.0)
                c = rng.normal(0, cfg.box_jitter, 2) * side
                b = b + np.array([c[0], c[1], c[0], c[1]], np.float32)
                hs = float(getattr(cfg, "hard_scale_jitter", 0.0) or 0.0)
                if hs > 0:  # (no draw when off)
                    f = math.exp(rng.uniform(-hs, hs))
                    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                    hw, hh = (b[2] - b[0]) / 2 * f, (b[3] - b[1]) / 2 * f
                    b = np.array([cx - hw, cy - hh, cx + hw, cy + hh], np.float32)
            m = crop_matrix(b, size, scale=cfg.crop_scale, rotation=rot)
            m = _squeeze(m, size, cfg, rng) if jitter else m
            imgs.append(warp(s.image, m, (size, size)))
            mats.append(m)
            # the detector fired here, so at runtime the skeleton input shows a hand-like
            # blob: draw the last hand crop's skeleton (its heatmaps weigh 0 since presence is 0)
            fake = next((k for k, p in zip(reversed(kps), reversed(pres)) if p > 0), None)
            kps.append(fake.copy() if fake is not None and rng.random() < 0.7 else np.full((21, 3), -1.0, np.float32))
            pres.append(0.0)
            hand.append(-1.0)
        if s.image is not None and negatives > 0 and rng.random() < negatives * max(s.num_hands, 1):
            m = _negative_matrix(s, size, cfg, rng)
            if m is not None:
                imgs.append(warp(s.image, m, (size, size)))
                mats.append(m)
                kps.append(np.full((21, 3), -1.0, np.float32))
                pres.append(0.0)
                hand.append(-1.0)
        if detections is not None:  # this frame's crops of the detector's map, as the runtime cuts them
            dsk.extend(None if det is None else
                       np.clip(det.skeleton_crop(m, size) * 255.0 + 0.5, 0, 255).astype(np.uint8)
                       for m in mats[n0:])
    n = len(imgs)
    out = {"image": np.array(imgs, np.uint8).reshape(n, size, size, 3),
           "keypoints": np.array(kps, np.float32).reshape(n, 21, 3),
           "presence": np.array(pres, np.float32), "handedness": np.array(hand, np.float32)}
    out["rotation"] = rotation_targets(out["keypoints"], out["presence"])
    if detections is not None:
        out["det_skeleton"] = np.array([np.zeros((size, size), np.uint8) if d is None else d for d in dsk],
                                       np.uint8).reshape(n, size, size)
        out["has_det_skeleton"] = np.array([d is not None for d in dsk], np.float32)
    return out


def rotation_targets(keypoints, presence) -> np.ndarray:
    """(N, 3): cos, sin of :func:`handsdk.keypoints.hand_rotation` of each
    crop's keypoints (the angle the runtime would turn that crop by to make
    the hand upright) and a weight: 1 for a hand whose wrist and a knuckle
    are labelled, else 0 (and angle 0)."""
    out = np.zeros((len(keypoints), 3), np.float32)
    out[:, 0] = 1.0
    for i, (kp, p) in enumerate(zip(keypoints, presence)):
        v = kp[:, 2] >= 0
        if p > 0.5 and has_hand_rotation(v):
            r = hand_rotation(kp, v)
            out[i] = (math.cos(r), math.sin(r), 1.0)
    return out


def _squeeze(m, size: int, cfg, rng) -> np.ndarray:
    """``m`` (frame -> crop) followed, for ``cfg.aspect_prob`` of the crops,
    by a squeeze along x or y about the crop centre by a factor in
    [1 - ``cfg.aspect_jitter``, 1]."""
    aj = float(getattr(cfg, "aspect_jitter", 0.0) or 0.0)
    if aj <= 0 or rng.random() >= float(getattr(cfg, "aspect_prob", 0.3)):
        return m
    f = rng.uniform(1.0 - aj, 1.0)
    sx, sy = (f, 1.0) if rng.random() < 0.5 else (1.0, f)
    c = size / 2.0
    return compose([[sx, 0.0, c - sx * c], [0.0, sy, c - sy * c]], m)


def _negative_crop(s, size, cfg, rng, tries: int = 10):
    """A hand-free crop of ``s`` (beside a hand, or anywhere away from them), or None."""
    m = _negative_matrix(s, size, cfg, rng, tries)
    return None if m is None else warp(s.image, m, (size, size))


def _negative_matrix(s, size, cfg, rng, tries: int = 10):
    """The frame -> crop matrix of a hand-free crop of ``s``, or None."""
    h, w = s.image.shape[:2]
    boxes = [keypoints_box(kp[:, :2], kp[:, 2] >= 0) for kp in s.keypoints if (kp[:, 2] >= 0).any()]
    if boxes and rng.random() < getattr(cfg, "near_negatives", 0.0):
        for _ in range(tries):  # a hand-sized crop right beside a hand
            b = boxes[int(rng.integers(len(boxes)))]
            side = max(b[2] - b[0], b[3] - b[1], 4.0) * cfg.crop_scale * math.exp(rng.uniform(-0.3, 0.3))
            a = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(0.9, 1.6) * side
            cx, cy = (b[0] + b[2]) / 2 + d * math.cos(a), (b[1] + b[3]) / 2 + d * math.sin(a)
            cand = np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)
            inside = cand[0] >= -0.25 * side and cand[1] >= -0.25 * side and cand[2] <= w + 0.25 * side \
                and cand[3] <= h + 0.25 * side
            if inside and all(cover(hb, cand) < 0.15 for hb in boxes):  # (the share of the hand inside)
                return crop_matrix(cand, size, scale=1.0, rotation=math.radians(rng.uniform(-180, 180)))
    for _ in range(tries):
        side = rng.uniform(0.15, 0.5) * min(h, w)
        x0, y0 = rng.uniform(0, max(w - side, 1)), rng.uniform(0, max(h - side, 1))
        cand = np.array([x0, y0, x0 + side, y0 + side], np.float32)
        if all(cover(b, cand) < 0.1 for b in boxes):
            return crop_matrix(cand, size, scale=1.0)
    return None


def frame_size(cfg) -> tuple[int, int]:
    """Generated sources render at twice the crop size."""
    s = cfg.model.input_size
    return (s * 2, s * 2)


def pools(cfg, train_samples, val_samples, rng):
    """(train pool (jittered crops), val pool (plain crops, its own seed),
    labels None); mined hard negatives from ``data.hard_negatives`` /
    ``data.val_hard_negatives``."""
    from handsdk.train.data import mining

    m = cfg.model
    hard = mining.load(cfg.data.hard_negatives) if cfg.data.hard_negatives else None
    vhard = mining.load(cfg.data.val_hard_negatives) if cfg.data.val_hard_negatives else None
    detections = _detector(cfg.data.skeleton_bundle) if getattr(cfg.data, "skeleton_bundle", None) else None
    train = pose_pool(train_samples, m.input_size, m, rng, cfg.data.negatives, jitter=cfg.data.augment,
                      hard_negatives=hard, hard_per_frame=cfg.data.hard_per_frame, detections=detections)
    vr = np.random.default_rng(cfg.data.seed + 1)
    val = pose_pool(val_samples, m.input_size, m, vr, cfg.data.negatives, jitter=False,
                    hard_negatives=vhard, hard_per_frame=cfg.data.hard_per_frame, detections=detections)
    if m.rotation_head:  # + every hand's first-pass crop: axis-aligned, the hand at its own angle
        from dataclasses import replace

        first = pose_pool(val_samples, m.input_size, replace(m, align=False), vr, 0.0, jitter=False,
                          detections=detections)
        n0, n1 = len(val["image"]), len(first["image"])
        val = {k: np.concatenate([val[k], first[k]]) for k in val}
        val["first_pass"] = np.concatenate([np.zeros(n0, bool), np.ones(n1, bool)])
    return train, val, None


def _detector(bundle):
    """sample -> the detector's output on its frame (``data.skeleton_bundle``'s
    detector, exactly as the runtime runs it)."""
    from pathlib import Path

    from handsdk.stages import HandDetector

    if not Path(bundle).is_file():
        raise FileNotFoundError(f"data.skeleton_bundle: no bundle at {bundle} (a .handsdk file whose detector "
                                f"makes the landmarker's skeleton input)")
    det = HandDetector(bundle, color_order="RGB")
    return lambda s: det.detect_rgb(s.image)


def train_example(cfg, ex, augment):
    """A pool row -> ({"image"[, "skeleton"]}, {"hm_s<stride>"..., "presence",
    "handedness"[, "coords"]}). With ``augment``: random flip (handedness
    swapped), colour, and a noisy skeleton input (jitter, dropped bones,
    blanks)."""
    from handsdk.train.tf import tf

    from ..targets import color_jitter_tf, gaussian_heatmaps_tf, render_skeleton_tf

    m = cfg.model
    s = int(m.input_size)
    img = tf.cast(ex["image"], tf.float32) / 255.0
    kp = ex["keypoints"]
    hand = ex["handedness"]
    pres = ex["presence"]
    if augment:
        flip = tf.random.uniform(()) < 0.5
        img = tf.cond(flip, lambda: img[:, ::-1], lambda: img)
        fx = tf.where(kp[:, 2] >= 0, float(s) - kp[:, 0], kp[:, 0])
        kp = tf.cond(flip, lambda: tf.stack([fx, kp[:, 1], kp[:, 2]], -1), lambda: kp)
        hand = tf.cond(flip & (hand >= 0), lambda: 1.0 - hand, lambda: hand)
        img = color_jitter_tf(img)
    inputs = {"image": img}
    if m.use_skeleton:
        skp = kp
        if augment:
            # per-keypoint noise plus a shift of the whole hand (a skeleton from
            # the previous frame or from a coarse detector map is off as a whole)
            noise = tf.random.normal(tf.shape(kp[:, :2]), stddev=m.skeleton_jitter * s)
            noise += tf.random.normal((1, 2), stddev=m.skeleton_jitter * s)
            skp = tf.concat([kp[:, :2] + noise, kp[:, 2:]], -1)
            bones = tf.random.uniform((1, 21)) >= m.skeleton_dropout
            thick = tf.random.uniform((), 0.6, 2.0) * m.skeleton_thickness
            sk = render_skeleton_tf(skp[None], s, s, thick, bone_mask=bones)
            blank = tf.random.uniform(()) < m.skeleton_blank
            sk = tf.where(blank, tf.zeros_like(sk), sk)
        else:
            sk = render_skeleton_tf(skp[None], s, s, m.skeleton_thickness)
        # a hand-free crop has no skeleton, except a mined hard negative (where a
        # detector fired), which carries a hand-like one (see pose_pool)
        sk = tf.where((pres > 0.5) | tf.reduce_any(kp[:, 2] >= 0), sk, tf.zeros_like(sk))
        if "det_skeleton" in ex:  # the detector's own map, as the first pass on a detection sees it
            dmap = tf.cast(ex["det_skeleton"], tf.float32) / 255.0
            use = ex["has_det_skeleton"] > 0.5
            if augment:
                use = use & (tf.random.uniform(()) < m.detector_skeleton_prob)
                dmap = tf.cond(flip, lambda: dmap[:, ::-1], lambda: dmap)
                dmap = tf.where(blank, tf.zeros_like(dmap), dmap)
            sk = tf.where(use, dmap, sk)
        inputs["skeleton"] = sk[..., None]
    targets = {}
    finest = min(m.scales)
    w = tf.cast(kp[:, 2] >= 0, tf.float32) * pres  # (21,)
    for stride in m.scales:
        r = s // stride
        sigma = max(m.sigma * finest / stride, 1.0)
        hm = gaussian_heatmaps_tf(kp, s, r, r, sigma)
        wm = tf.broadcast_to(w[None, None, :], (r, r, 21))
        targets[f"hm_s{stride}"] = tf.concat([hm, wm], -1)
    if getattr(m, "rotation_head", False):
        rot = tf.cast(ex["rotation"], tf.float32)
        if augment:  # a mirrored hand turns the other way
            rot = tf.cond(flip, lambda: rot * tf.constant([1.0, -1.0, 1.0]), lambda: rot)
        targets["rotation"] = rot
    targets["presence"] = pres[None]
    targets["handedness"] = tf.where(pres > 0.5, hand, -1.0)[None]
    if m.coord_weight > 0:
        targets["coords"] = tf.concat([kp[:, :2] / float(s), w[:, None]], -1)
    return inputs, targets
