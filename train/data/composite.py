"""Copy-paste composites: real hands cut out of close-ups, pasted into real
camera scenes (a person in view) at a random scale and place, keypoints moved
with them.

The cut-out is the hand's own shape, not its box: a mask drawn from the
keypoints (a filled palm and one capsule per finger bone, about a finger wide)
is refined with GrabCut (sure hand: the thinned skeleton; probable hand: the
capsules grown; probable background: the rest of the padded box), then
feathered. When GrabCut disagrees wildly with the keypoint mask (a cluttered
close-up), the keypoint mask is used as it is.

Where a scene has distractors (boxes where a detector fired on no hand, mostly
faces: :mod:`handsdk.train.data.mining`), a share of the hands is pasted onto
or beside them: hands in front of the face are what camera scenes hold and
close-ups never show.

Source spec (``train.models.data.iter_source``)::

    {name: composite, weight: 0.2, options: {
        hands: ["real:closeup_open_hands/train", ...],     # donors (one hand each)
        backgrounds: ["real:selfie_people", ...],          # scenes
        near: runs/hard_negatives_v01.json,                 # optional distractor boxes
        p_near: 0.5, width: [0.06, 0.35], max_hands: 2, seed: 5}}
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from handsdk.image import apply_affine
from handsdk.keypoints import HAND_CONNECTIONS, keypoints_box
from handsdk.train.data.sample import Sample

#: palm polygon (wrist, thumb CMC, index/middle/ring/pinky MCP)
_PALM = (0, 1, 2, 5, 9, 13, 17)


@dataclass
class Donor:
    """One hand cut out: RGB patch, alpha (float32 0..1), keypoints (21, 3) in
    patch pixels, handedness, where it came from."""
    image: np.ndarray
    alpha: np.ndarray
    keypoints: np.ndarray
    handedness: str | None
    source: str
    path: str


def _palm_size(kp: np.ndarray) -> float:
    """Wrist to middle-finger MCP (the palm's length), at least a tenth of the hand box."""
    box = keypoints_box(kp)
    side = max(box[2] - box[0], box[3] - box[1])
    return max(float(np.linalg.norm(kp[9, :2] - kp[0, :2])), 0.1 * side, 1.0)


def keypoint_mask(shape, kp: np.ndarray, width: float) -> np.ndarray:
    """uint8 mask (0/255) of a hand drawn from its keypoints: filled palm,
    capsules ``width`` px thick along every bone, discs at the joints."""
    import cv2

    h, w = shape[:2]
    m = np.zeros((h, w), np.uint8)
    pts = np.round(kp[:, :2] * 4).astype(np.int32)  # 2 fractional bits (shift=2): points and radii in 1/4 px
    cv2.fillPoly(m, [pts[list(_PALM)]], 255, lineType=cv2.LINE_8, shift=2)
    t = max(int(round(width)), 1)
    for a, b in HAND_CONNECTIONS:
        cv2.line(m, tuple(pts[a]), tuple(pts[b]), 255, t, lineType=cv2.LINE_8, shift=2)
    for i in range(21):
        cv2.circle(m, tuple(pts[i]), int(round(width * 2)), 255, -1, lineType=cv2.LINE_8, shift=2)  # radius width/2
    return m


def hand_alpha(image: np.ndarray, kp: np.ndarray, *, refine: bool = True) -> np.ndarray:
    """float32 alpha (HxW, 0..1) of the hand whose keypoints are ``kp`` in
    ``image`` (RGB uint8)."""
    import cv2

    palm = _palm_size(kp)
    base = keypoint_mask(image.shape, kp, 0.28 * palm)
    mask = base
    if refine:
        sure = keypoint_mask(image.shape, kp, 0.1 * palm)
        k = max(3, int(0.25 * palm)) | 1
        grown = cv2.dilate(base, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
        gc = np.full(image.shape[:2], cv2.GC_BGD, np.uint8)
        gc[grown > 0] = cv2.GC_PR_BGD
        gc[base > 0] = cv2.GC_PR_FGD
        gc[sure > 0] = cv2.GC_FGD
        try:
            bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            cv2.grabCut(np.ascontiguousarray(image), gc, None, bgd, fgd, 3, cv2.GC_INIT_WITH_MASK)
            cut = np.where((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD), 255, 0).astype(np.uint8)
            ratio = (cut > 0).sum() / max((base > 0).sum(), 1)
            if 0.6 <= ratio <= 1.6:
                mask = cut
        except cv2.error:
            pass
    sigma = max(0.6, 0.03 * palm)
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma)


def make_donor(sample: Sample, index: int = 0, *, refine: bool = True, margin: float = 0.02) -> Donor | None:
    """The hand ``index`` of ``sample`` cut out, or None when it is unusable
    (missing keypoints, touching the image border, too small)."""
    if sample.image is None or index >= len(sample.keypoints):
        return None
    kp = np.asarray(sample.keypoints[index], np.float32)
    if (kp[:, 2] < 0).any():
        return None
    h, w = sample.image.shape[:2]
    box = keypoints_box(kp)
    side = max(box[2] - box[0], box[3] - box[1])
    if side < 24 or box[0] < margin * w or box[1] < margin * h or box[2] > (1 - margin) * w \
            or box[3] > (1 - margin) * h:
        return None  # cut by the frame: the pasted hand would end in a straight edge
    pad = 0.25 * side
    x0, y0 = int(max(box[0] - pad, 0)), int(max(box[1] - pad, 0))
    x1, y1 = int(min(box[2] + pad, w)), int(min(box[3] + pad, h))
    patch = np.ascontiguousarray(sample.image[y0:y1, x0:x1])
    k = kp.copy()
    k[:, 0] -= x0
    k[:, 1] -= y0
    alpha = hand_alpha(patch, k, refine=refine)
    hand = sample.handedness[index] if index < len(sample.handedness) else None
    return Donor(patch, alpha, k, hand, sample.source, sample.path)


def _overlap_frac(a, b) -> float:
    """Share of box ``a``'s area inside box ``b``."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return iw * ih / max((a[2] - a[0]) * (a[3] - a[1]), 1e-6)


def paste(bg: Sample, donor: Donor, rng: np.random.Generator, *, width=(0.06, 0.35), near=None,
          p_near: float = 0.5, tries: int = 12) -> Sample | None:
    """``bg`` with ``donor``'s hand pasted in (a new Sample; ``bg`` is not
    changed), or None when no place leaves the scene's hands uncovered."""
    import cv2

    img = bg.image
    h, w = img.shape[:2]
    dk = donor.keypoints
    dbox = keypoints_box(dk)
    dside = max(dbox[2] - dbox[0], dbox[3] - dbox[1], 1.0)
    existing = [keypoints_box(k) for k in bg.keypoints if (k[:, 2] >= 0).any()]
    hb = bg.extras.get("human_boxes")
    existing += [np.asarray(b, np.float32) for b in (np.zeros((0, 4)) if hb is None else hb)]
    flip = rng.random() < 0.5
    for _ in range(tries):
        frac = math.exp(rng.uniform(math.log(width[0]), math.log(width[1])))
        s = frac * w / dside
        ang = math.radians(rng.uniform(-35, 35))
        c = (dbox[:2] + dbox[2:]) / 2
        new_side = dside * s
        if near is not None and len(near) and rng.random() < p_near:
            nb = np.asarray(near[int(rng.integers(len(near)))], np.float64)
            nc = (nb[:2] + nb[2:]) / 2
            nsz = nb[2:] - nb[:2]
            target = nc + rng.uniform(-0.6, 0.6, 2) * (nsz + new_side) / 2
        else:
            target = np.array([rng.uniform(0.05, 0.95) * w, rng.uniform(0.05, 0.95) * h])
        ca, sa = math.cos(ang) * s, math.sin(ang) * s
        fx = -1.0 if flip else 1.0
        # x' = R S F (x - c) + target
        m = np.array([[ca * fx, -sa, 0.0], [sa * fx, ca, 0.0]], np.float64)
        m[:, 2] = target - m[:, :2] @ c
        k = dk.copy()
        k[:, :2] = apply_affine(m, dk[:, :2])
        nbox = keypoints_box(k)
        if nbox[0] < 0 or nbox[1] < 0 or nbox[2] > w or nbox[3] > h:
            continue
        if any(_overlap_frac(e, nbox) > 0.15 or _overlap_frac(nbox, e) > 0.15 for e in existing):
            continue
        patch = cv2.warpAffine(donor.image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        a = cv2.warpAffine(donor.alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        # light and colour of the scene: shift the hand part-way towards the scene's mean, jitter
        region = a > 0.5
        if region.any():
            hand_mean = patch[region].reshape(-1, 3).mean(0)
            scene_mean = img.reshape(-1, 3).mean(0)
            gain = rng.uniform(0.75, 1.25) * (1 + 0.25 * (scene_mean.mean() / max(hand_mean.mean(), 1) - 1))
            patch = np.clip(patch.astype(np.float32) * gain * rng.uniform(0.94, 1.06, 3), 0, 255)
        out = img.astype(np.float32) * (1 - a[..., None]) + patch.astype(np.float32) * a[..., None]
        hand = donor.handedness
        if flip and hand in ("Left", "Right"):
            hand = "Left" if hand == "Right" else "Right"
        extras = {k2: v for k2, v in bg.extras.items() if k2 != "missed_boxes"}
        for key in ("human_classes", "hand_labels"):
            if isinstance(extras.get(key), list):
                extras[key] = extras[key] + [None]
        if extras.get("human_boxes") is not None:
            extras["human_boxes"] = np.concatenate([np.asarray(extras["human_boxes"], np.float32).reshape(-1, 4),
                                                    nbox[None].astype(np.float32)])
        return Sample(image=np.clip(out + 0.5, 0, 255).astype(np.uint8),
                      boxes=np.concatenate([np.asarray(bg.boxes, np.float32).reshape(-1, 4), nbox[None]]),
                      keypoints=np.concatenate([np.asarray(bg.keypoints, np.float32).reshape(-1, 21, 3), k[None]]),
                      keypoint_source="mediapipe", handedness=list(bg.handedness) + [hand],
                      label=None, label_set=None, source=f"composite({bg.source}+{donor.source})",
                      path=f"composite:{bg.path}", extras=extras)
    return None


def composite_samples(donors: list[Donor], backgrounds: list[Sample], count: int, rng: np.random.Generator, *,
                      near: dict | None = None, p_near: float = 0.5, width=(0.06, 0.35), max_hands: int = 2,
                      hands_per_image=(1, 2)) -> list[Sample]:
    """``count`` composites: a random background with one or two donor hands
    pasted in (never more than ``max_hands`` hands in all)."""
    if not donors or not backgrounds:
        raise ValueError("composites need at least one donor hand and one background image "
                         f"(got {len(donors)} donors, {len(backgrounds)} backgrounds)")
    out: list[Sample] = []
    attempts = 0
    while len(out) < count and attempts < count * 5:
        attempts += 1
        bg = backgrounds[int(rng.integers(len(backgrounds)))]
        room = max_hands - bg.num_hands
        if room <= 0:
            continue
        n = min(int(rng.integers(hands_per_image[0], hands_per_image[1] + 1)), room)
        s = bg
        nb = (near or {}).get(bg.path)
        for _ in range(n):
            r = paste(s, donors[int(rng.integers(len(donors)))], rng, width=width, near=nb, p_near=p_near)
            if r is not None:
                s = r
        if s is not bg:
            out.append(s)
    return out
