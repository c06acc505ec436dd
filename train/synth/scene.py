"""Scenes: backgrounds, 0..N hands, distractors, camera effects and labels.

:func:`render_scene` draws everything at ``render_scale`` times the output
size and down-samples (anti-aliasing), then applies the camera effects at the
output resolution. Labels (all at the output resolution, pixel (i, j)
covering [j, j+1) x [i, i+1)):

* ``keypoints`` (N, 21, 3): x, y in pixels and visibility 1 (seen), 0
  (occluded by a hand part or another object by more than the joint's
  radius plus a tolerance, or outside the image);
* ``boxes`` (N, 4): union of the hand-mask box and the visible-keypoint box
  (extras ``boxes_mask`` and ``boxes_keypoints`` hold both);
* extras ``keypoints3d`` (N, 21, 3) camera coordinates in metres (OpenCV
  axes), ``mask`` (H, W) uint8 hand instance ids (0 background, hand n is
  n + 1; the forearm is not part of the hand), ``parts`` (H, W) uint8 part ids
  (:data:`PART_NAMES`), ``skeleton`` (H, W) float32 from
  :func:`handsdk.keypoints.render_skeleton`, ``hand_labels`` / ``hand_label_sets``
  per hand, ``focal`` (pixels).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from handsdk.keypoints import NUM_KEYPOINTS, render_skeleton
from handsdk.train.data.sample import Sample

from .hand import HandPose, HandShape, hand_geometry, random_pose, view_rotation
from .render import Rasterizer, add_hand, random_skin
from .templates import GESTURE_SETS, pose_from_template

SOURCE_NAME = "synthetic"


@dataclass
class SceneConfig:
    """Scene sampling settings; probabilities are per image."""

    size: tuple[int, int] = (128, 128)          # output (height, width)
    render_scale: float = 2.0                   # supersampling factor
    max_hands: int = 2
    p_no_hand: float = 0.1
    p_two_hands: float = 0.25                   # when max_hands >= 2
    gesture_set: str | None = None              # sample only this set's templates
    p_template: float = 0.6                     # gesture_set None: template vs random pose
    template_noise: float = 6.0                 # degrees
    hand_scale: tuple[float, float] = (0.2, 0.75)  # hand length / min(h, w)
    fov: tuple[float, float] = (45.0, 80.0)     # horizontal field of view, degrees
    p_forearm: float = 0.85
    p_sleeve: float = 0.5
    p_natural_bg: float = 0.5
    p_face: float = 0.25
    p_skin_blob: float = 0.2
    p_occluder: float = 0.2
    p_shadow: float = 0.3
    p_motion_blur: float = 0.2
    p_defocus: float = 0.15
    p_lowres: float = 0.15
    p_noise: float = 0.6
    p_jpeg: float = 0.5
    labels: bool = True                         # compute skeleton maps (slower)

    def __post_init__(self):
        if self.gesture_set is not None and self.gesture_set not in GESTURE_SETS:
            raise ValueError(f"gesture_set must be one of {tuple(GESTURE_SETS)} or None")
        self.size = (int(self.size[0]), int(self.size[1]))


# --- backgrounds --------------------------------------------------------------

#: Bundled images with no hands in them (scikit-image, matplotlib).
_SKIMAGE_FILES = ("brick.png", "grass.png", "gravel.png", "coffee.png", "chelsea.png",
                  "rocket.jpg", "motorcycle_left.png", "motorcycle_right.png",
                  "hubble_deep_field.jpg", "coins.png", "page.png", "text.png", "color.png",
                  "clock_motion.png", "chessboard_RGB.png", "ihc.png", "moon.png", "retina.jpg",
                  "horse.png", "logo.png")


@lru_cache(maxsize=1)
def natural_images() -> tuple[np.ndarray, ...]:
    """RGB uint8 images shipped inside installed packages (loaded from disk,
    never downloaded); empty when none is available."""
    import cv2

    paths = []
    try:
        import skimage.data

        d = os.path.dirname(skimage.data.__file__)
        paths += [os.path.join(d, f) for f in _SKIMAGE_FILES]
    except ImportError:
        pass
    try:
        import matplotlib

        paths.append(os.path.join(matplotlib.get_data_path(), "sample_data", "grace_hopper.jpg"))
    except ImportError:
        pass
    out = []
    for p in paths:
        if not os.path.exists(p):
            continue
        im = cv2.imread(p, cv2.IMREAD_COLOR)
        if im is None or min(im.shape[:2]) < 64:
            continue
        out.append(np.ascontiguousarray(im[:, :, ::-1]))
    return tuple(out)


def _rand_color(rng, lo=0, hi=255):
    return rng.integers(lo, hi + 1, 3).astype(np.float32)


def _noise_field(rng, h, w, octaves=3):
    import cv2

    acc = np.zeros((h, w), np.float32)
    amp, tot = 1.0, 0.0
    g = int(rng.integers(2, 6))
    for _ in range(octaves):
        small = rng.random((g, g)).astype(np.float32)
        acc += amp * cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
        tot += amp
        amp *= 0.5
        g *= 3
    acc /= tot
    acc -= acc.min()
    return acc / max(float(acc.max()), 1e-6)


def procedural_background(rng, h, w) -> np.ndarray:
    """Noise, gradients, stripes or random shapes (RGB uint8)."""
    import cv2

    kind = rng.choice(["noise", "gradient", "stripes", "shapes", "flat"], p=[0.3, 0.2, 0.15, 0.3, 0.05])
    c1, c2 = _rand_color(rng), _rand_color(rng)
    if kind == "noise":
        n = _noise_field(rng, h, w)[..., None]
        img = c1 * (1 - n) + c2 * n
    elif kind == "gradient":
        a = rng.uniform(0, 2 * np.pi)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        t = (xs * np.cos(a) + ys * np.sin(a))
        t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
        img = c1 * (1 - t[..., None]) + c2 * t[..., None]
    elif kind == "stripes":
        a = rng.uniform(0, np.pi)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        period = rng.uniform(4, max(h, w) / 3)
        s = np.sin((xs * np.cos(a) + ys * np.sin(a)) * 2 * np.pi / period)
        s = (s > 0).astype(np.float32) if rng.random() < 0.5 else (s + 1) / 2
        img = c1 * (1 - s[..., None]) + c2 * s[..., None]
    elif kind == "flat":
        img = np.broadcast_to(c1, (h, w, 3)).copy()
    else:
        img = (c1 * (1 - _noise_field(rng, h, w, 2)[..., None] * 0.3)).astype(np.float32)
    img = np.ascontiguousarray(img, np.float32)
    if kind == "shapes" or rng.random() < 0.3:
        for _ in range(int(rng.integers(3, 15))):
            col = tuple(float(c) for c in _rand_color(rng))
            k = rng.integers(0, 4)
            p = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            sz = int(rng.integers(2, max(h, w) // 3 + 3))
            if k == 0:
                cv2.rectangle(img, p, (p[0] + sz, p[1] + int(rng.integers(2, sz + 3))), col, -1)
            elif k == 1:
                cv2.circle(img, p, sz // 2, col, -1, cv2.LINE_AA)
            elif k == 2:
                q = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                cv2.line(img, p, q, col, int(rng.integers(1, 6)), cv2.LINE_AA)
            else:
                pts = (np.array(p) + rng.normal(0, sz, (int(rng.integers(3, 7)), 2))).astype(np.int32)
                cv2.fillPoly(img, [pts], col, cv2.LINE_AA)
    return np.clip(img, 0, 255).astype(np.uint8)


def natural_background(rng, h, w) -> np.ndarray | None:
    """A random crop (scaled, flipped, colour-jittered) of a bundled image."""
    import cv2

    imgs = natural_images()
    if not imgs:
        return None
    src = imgs[int(rng.integers(len(imgs)))]
    sh, sw = src.shape[:2]
    k = rng.uniform(0.25, 1.0) * min(sh / h, sw / w)
    ch, cw = max(int(h * k), 8), max(int(w * k), 8)
    y0 = int(rng.integers(0, sh - ch + 1))
    x0 = int(rng.integers(0, sw - cw + 1))
    crop = cv2.resize(src[y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    crop = crop.astype(np.float32) * rng.uniform(0.8, 1.2, 3) + rng.uniform(-20, 20)
    return np.clip(crop, 0, 255).astype(np.uint8)


def random_background(rng, h, w, p_natural=0.5) -> np.ndarray:
    img = natural_background(rng, h, w) if rng.random() < p_natural else None
    return procedural_background(rng, h, w) if img is None else img


# --- hands and distractors ----------------------------------------------------

@dataclass
class HandSpec:
    """One hand of a scene: shape, pose, placement (hand -> camera rotation
    ``R`` and translation ``T``) and looks."""

    shape: HandShape
    pose: HandPose
    R: np.ndarray
    T: np.ndarray
    skin: np.ndarray
    forearm: float = 0.3
    sleeve: np.ndarray | None = None
    sleeve_cut: float = 0.1


_PALM_CENTRE = np.array([0.0, 0.05, 0.0])


def _sample_pose(rng, cfg: SceneConfig) -> HandPose:
    if cfg.gesture_set is not None:
        label = GESTURE_SETS[cfg.gesture_set][int(rng.integers(len(GESTURE_SETS[cfg.gesture_set])))]
        return pose_from_template(cfg.gesture_set, label, rng, cfg.template_noise)
    if rng.random() < cfg.p_template:
        sets = tuple(GESTURE_SETS)
        s = sets[int(rng.integers(len(sets)))]
        label = GESTURE_SETS[s][int(rng.integers(len(GESTURE_SETS[s])))]
        p = pose_from_template(s, label, rng, cfg.template_noise)
        if rng.random() < 0.3:  # templates seen from other sides too
            p.view = p.view + np.radians(rng.normal(0, [50, 25, 40]))
        return p
    return random_pose(rng, relaxed=rng.random() < 0.3)


def place_hand(rng, shape: HandShape, pose: HandPose, f: float, h: int, w: int,
               size_px: float, centre_px, *, skin=None, forearm=0.3, sleeve=None,
               sleeve_cut=0.1) -> HandSpec:
    """Place a hand so that its palm centre projects to ``centre_px`` and its
    (physical) length spans about ``size_px`` pixels."""
    R = view_rotation(pose.view, shape.handedness)
    length = 0.19 * shape.scale
    Z = f * length / max(size_px, 1.0)
    ray = np.array([(centre_px[0] - w / 2) / f, (centre_px[1] - h / 2) / f, 1.0])
    pc = _PALM_CENTRE * [(-1 if shape.handedness == "Left" else 1), 1, 1]
    T = ray * Z - R @ pc
    return HandSpec(shape, pose, R, T, random_skin(rng) if skin is None else skin,
                    forearm, sleeve, sleeve_cut)


def _fit_to_box(spec: HandSpec, f, h, w, box_frac: float, centre=None):
    """Move a hand along the optical axis and sideways so that its keypoint
    box fills ``box_frac`` of the image's shorter side, centred."""
    from .hand import forward_kinematics

    local = forward_kinematics(spec.shape, spec.pose)
    cx, cy = (w / 2, h / 2) if centre is None else centre
    for _ in range(3):
        P = local @ spec.R.T + spec.T
        u = f * P[:, 0] / P[:, 2] + w / 2
        v = f * P[:, 1] / P[:, 2] + h / 2
        side = max(np.ptp(u), np.ptp(v), 1.0)
        zc = float(P[:, 2].mean())
        k = side / (box_frac * min(h, w))
        z_new = zc * k
        bx, by = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
        shift = np.array([(cx - bx) * zc / f, (cy - by) * zc / f, 0.0])
        T = spec.T + shift
        # scale about the camera centre: keeps the projection, changes size
        spec.T = T * (z_new / zc) if np.all(np.isfinite(T)) else T
    return spec


def _add_face(rng, rast: Rasterizer, h, w, zmin):
    """A person-like distractor: face (skin), eyes, mouth, hair, torso."""
    f = rast.f
    Z = rng.uniform(zmin + 0.1, zmin + 1.2)
    u, v = rng.uniform(0, w), rng.uniform(0, h)
    c = np.array([(u - rast.cx) * Z / f, (v - rast.cy) * Z / f, Z])
    skin = random_skin(rng)
    r = rng.uniform(0.07, 0.085)
    m_face = rast.material(skin, shine=0.1)
    m_dark = rast.material(np.array([0.08, 0.06, 0.05]), shine=0.05)
    m_hair = rast.material(np.clip(rng.uniform(0.02, 0.5) * np.array([1.0, 0.8, 0.6]), 0, 1), shine=0.1)
    m_lip = rast.material(np.clip(skin * [0.8, 0.55, 0.55], 0, 1), shine=0.2)
    m_cloth = rast.material(rng.random(3).astype(np.float32), shine=0.05)
    up = np.array([0.0, -1.0, 0.0])
    rast.capsule(c - up * 0.03, c + up * 0.03, r, r * 0.95, m_face)
    rast.capsule(c + up * 0.05 + [0, 0, 0.02], c + up * 0.02 + [0, 0, 0.03], r * 1.1, r * 1.1, m_hair)
    for s in (-1, 1):
        rast.capsule(c + [s * 0.032, -0.02, -r * 0.85], c + [s * 0.032, -0.02, -r * 0.85], 0.008, 0.008, m_dark)
    rast.capsule(c + [-0.02, 0.045, -r * 0.8], c + [0.02, 0.045, -r * 0.8], 0.007, 0.007, m_lip)
    rast.capsule(c + [0, 0.09, 0.03], c + [0, 0.12, 0.03], 0.04, 0.045, m_face)  # neck
    rast.capsule(c + [-0.15, 0.33, 0.08], c + [0.15, 0.33, 0.08], 0.17, 0.17, m_cloth)  # torso


def _add_skin_blob(rng, rast: Rasterizer, h, w, zmin):
    f = rast.f
    Z = rng.uniform(max(zmin - 0.1, 0.15), zmin + 0.8)
    u, v = rng.uniform(0, w), rng.uniform(0, h)
    a = np.array([(u - rast.cx) * Z / f, (v - rast.cy) * Z / f, Z])
    d = rng.normal(0, 1, 3)
    d /= np.linalg.norm(d)
    m = rast.material(random_skin(rng), shine=0.1)
    r = rng.uniform(0.02, 0.05)
    rast.capsule(a, a + d * rng.uniform(0.05, 0.4), r, r * rng.uniform(0.8, 1.4), m)


def _add_occluder(rng, rast: Rasterizer, joints_px, zfront):
    """A flat object covering part of a hand, in front of it."""
    import cv2

    H, W = rast.h, rast.w
    c = joints_px[int(rng.integers(len(joints_px)))] + rng.normal(0, 10, 2)
    sz = rng.uniform(0.15, 0.5) * np.ptp(joints_px, axis=0).max()
    pts = (c + rng.normal(0, sz, (int(rng.integers(3, 7)), 2))).astype(np.int32)
    mask = np.zeros((H, W), np.uint8)
    if rng.random() < 0.5:
        cv2.fillConvexPoly(mask, cv2.convexHull(pts), 1)
    else:
        q = (c + rng.normal(0, sz * 2, 2)).astype(int)
        cv2.line(mask, tuple(int(x) for x in c), tuple(int(x) for x in q), 1,
                 max(int(sz * rng.uniform(0.2, 0.6)), 2))
    m = rast.material(rng.random(3).astype(np.float32), shine=0.05)
    rast.flat(mask.astype(bool), np.float32(max(zfront - 0.03, rast.near)), m,
              shade=float(rng.uniform(0.3, 0.9)))


# --- effects ------------------------------------------------------------------

def _effects(rng, img: np.ndarray, cfg: SceneConfig) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    x = img.astype(np.float32)
    # photometric: gamma, contrast, brightness, colour cast
    g = rng.uniform(0.75, 1.35)
    x = 255.0 * (x / 255.0) ** g
    x = (x - 128) * rng.uniform(0.75, 1.2) + 128 + rng.uniform(-25, 25)
    x *= rng.uniform(0.9, 1.1, 3).astype(np.float32)
    if rng.random() < cfg.p_motion_blur:
        k = int(rng.integers(3, max(4, min(h, w) // 14)))
        ker = np.zeros((k, k), np.float32)
        a = rng.uniform(0, np.pi)
        c = (k - 1) / 2
        cv2.line(ker, (int(round(c - c * np.cos(a))), int(round(c - c * np.sin(a)))),
                 (int(round(c + c * np.cos(a))), int(round(c + c * np.sin(a)))), 1.0, 1)
        x = cv2.filter2D(x, -1, ker / max(ker.sum(), 1))
    if rng.random() < cfg.p_defocus:
        x = cv2.GaussianBlur(x, (0, 0), rng.uniform(0.5, 1.5))
    if rng.random() < cfg.p_lowres:
        k = rng.uniform(1.5, 3.0)
        small = cv2.resize(x, (max(int(w / k), 8), max(int(h / k), 8)), interpolation=cv2.INTER_AREA)
        x = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if rng.random() < cfg.p_noise:
        s = rng.uniform(1.5, 9.0)
        x = x + rng.normal(0, s, (h, w, 1 if rng.random() < 0.5 else 3)).astype(np.float32)
    out = np.clip(x, 0, 255).astype(np.uint8)
    if rng.random() < cfg.p_jpeg:
        ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 92))])
        if ok:
            out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[:, :, ::-1])
    return out


# --- the scene ----------------------------------------------------------------

def _compose(rng, cfg: SceneConfig, f_out: float, hands: list[HandSpec], bg: np.ndarray,
             light: dict, distractors=None, effects: bool = True, labels=None) -> Sample:
    """Render ``hands`` (placed for a camera of focal ``f_out`` at the output
    size) over ``bg`` and build the labels."""
    import cv2

    h, w = cfg.size
    s = float(cfg.render_scale)
    H, W = int(round(h * s)), int(round(w * s))
    sx, sy = W / w, H / h
    f = f_out * sx
    rast = Rasterizer(H, W, f, light=light["dir"])
    joints_cam = []
    for i, spec in enumerate(hands):
        geom = hand_geometry(spec.shape, spec.pose)
        joints_cam.append(add_hand(rast, spec.shape, geom, spec.R, spec.T, i, spec.skin,
                                   forearm=spec.forearm, sleeve=spec.sleeve,
                                   sleeve_cut=spec.sleeve_cut))
        spec._radius = geom["joint_radius"]
    if distractors is not None:
        distractors(rast, joints_cam)
    rgb, cov = rast.shade(ambient=light["ambient"], diffuse=light["diffuse"],
                          light_color=light["color"])
    # supersampled -> output: premultiplied colour and coverage
    covf = cov.astype(np.float32)
    if (H, W) != (h, w):
        rgb_o = cv2.resize(rgb * 255.0, (w, h), interpolation=cv2.INTER_AREA)
        cov_o = cv2.resize(covf, (w, h), interpolation=cv2.INTER_AREA)
    else:
        rgb_o, cov_o = rgb * 255.0, covf
    bgf = bg.astype(np.float32)
    if light.get("shadow") is not None and len(hands):
        dx, dy, blur, dark = light["shadow"]
        sh = cv2.GaussianBlur(cov_o, (0, 0), blur)
        sh = np.roll(sh, (int(dy), int(dx)), axis=(0, 1))
        bgf = bgf * (1 - dark * sh[..., None])
    img = bgf * (1 - cov_o[..., None]) + rgb_o
    img = np.clip(img, 0, 255).astype(np.uint8)
    if effects:
        img = _effects(rng, img, cfg)

    # labels
    ids = rast.hand_ids()
    parts_r = rast.parts()
    if (H, W) != (h, w):
        ids = cv2.resize(ids, (w, h), interpolation=cv2.INTER_NEAREST)
        parts = cv2.resize(parts_r, (w, h), interpolation=cv2.INTER_NEAREST)
    else:
        parts = parts_r
    mask = (ids + 1).astype(np.uint8)
    kps, kp3, boxes, bm, bk, keep = [], [], [], [], [], []
    for i, (spec, J) in enumerate(zip(hands, joints_cam)):
        u = f * J[:, 0] / J[:, 2] + W / 2
        v = f * J[:, 1] / J[:, 2] + H / 2
        zb = rast.depth_at(u, v, radius=0)
        inside = (u >= 0) & (u < W) & (v >= 0) & (v < H) & (J[:, 2] > rast.near)
        tol = spec._radius * 1.3 + 0.006 * spec.shape.scale
        vis = inside & (J[:, 2] - zb <= tol)
        k = np.stack([u / sx, v / sy, vis.astype(np.float32)], 1)
        m = mask == i + 1
        if m.any():
            ys, xs = np.nonzero(m)
            box_m = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.float32)
        else:
            box_m = None
        if vis.any():
            kv = k[vis]
            box_k = np.array([kv[:, 0].min(), kv[:, 1].min(), kv[:, 0].max(), kv[:, 1].max()], np.float32)
        else:
            box_k = None
        if box_m is None and box_k is None:
            continue  # nothing of this hand is in view
        bb = [b for b in (box_m, box_k) if b is not None]
        box = np.array([min(b[0] for b in bb), min(b[1] for b in bb),
                        max(b[2] for b in bb), max(b[3] for b in bb)], np.float32)
        box = np.clip(box, 0, [w, h, w, h])
        keep.append(i)
        kps.append(k)
        kp3.append(J.astype(np.float32))
        boxes.append(box)
        bm.append(box_m if box_m is not None else np.full(4, np.nan, np.float32))
        bk.append(box_k if box_k is not None else np.full(4, np.nan, np.float32))
    # hands that are not in view leave the mask
    for i in range(len(hands)):
        if i not in keep:
            mask[mask == i + 1] = 0
    remap = np.zeros(256, np.uint8)
    for n, i in enumerate(keep):
        remap[i + 1] = n + 1
    mask = remap[mask]
    kps = np.array(kps, np.float32).reshape(-1, NUM_KEYPOINTS, 3)
    extras = {
        "keypoints3d": np.array(kp3, np.float32).reshape(-1, NUM_KEYPOINTS, 3),
        "mask": mask,
        "parts": parts,
        "boxes_mask": np.array(bm, np.float32).reshape(-1, 4),
        "boxes_keypoints": np.array(bk, np.float32).reshape(-1, 4),
        "hand_labels": [hands[i].pose.label for i in keep],
        "hand_label_sets": [hands[i].pose.label_set for i in keep],
        "focal": float(f_out),
    }
    if cfg.labels:
        extras["skeleton"] = render_skeleton(kps[:, :, :2], (h, w)) if len(kps) else \
            np.zeros((h, w), np.float32)
    label = label_set = None
    if len(keep) == 1:
        label, label_set = hands[keep[0]].pose.label, hands[keep[0]].pose.label_set
    if labels is not None:
        label, label_set = labels
    return Sample(image=img, boxes=np.array(boxes, np.float32).reshape(-1, 4), keypoints=kps,
                  keypoint_source="synthetic", handedness=[hands[i].shape.handedness for i in keep],
                  label=label, label_set=label_set, source=SOURCE_NAME, extras=extras)


def _random_light(rng, cfg: SceneConfig, h, w):
    d = np.array([rng.uniform(-1, 1), rng.uniform(-1, 0.5), -rng.uniform(0.3, 1.3)])
    light = {
        "dir": d / np.linalg.norm(d),
        "ambient": float(rng.uniform(0.25, 0.55)),
        "diffuse": float(rng.uniform(0.5, 0.9)),
        "color": np.clip(1 + rng.normal(0, 0.06, 3), 0.8, 1.2).astype(np.float32),
        "shadow": None,
    }
    if rng.random() < cfg.p_shadow:
        light["shadow"] = (rng.normal(0, 0.05 * w), rng.normal(0.03 * h, 0.05 * h),
                           rng.uniform(1, 0.04 * max(h, w) + 1.5), rng.uniform(0.2, 0.5))
    return light


def _sleeve(rng):
    if rng.random() < 0.5:
        return None, 0.1
    return rng.random(3).astype(np.float32) * rng.uniform(0.3, 1.0), float(rng.uniform(0.03, 0.2))


def render_scene(rng: np.random.Generator, config: SceneConfig | None = None) -> Sample:
    """One random scene (see the module docstring for the labels)."""
    cfg = config or SceneConfig()
    h, w = cfg.size
    fov = np.radians(rng.uniform(*cfg.fov))
    f = 0.5 * w / np.tan(0.5 * fov)
    bg = random_background(rng, h, w, cfg.p_natural_bg)
    light = _random_light(rng, cfg, h, w)
    n = 0
    if rng.random() >= cfg.p_no_hand and cfg.max_hands > 0:
        n = 1
        while n < cfg.max_hands and rng.random() < cfg.p_two_hands:
            n += 1
    hands = []
    person_skin = random_skin(rng)
    for i in range(n):
        shape = HandShape.random(rng)
        pose = _sample_pose(rng, cfg)
        size = rng.uniform(*cfg.hand_scale) * min(h, w) * (0.8 if n > 1 else 1.0)
        centre = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h)
        sleeve, cut = _sleeve(rng)
        spec = place_hand(rng, shape, pose, f, h, w, size, centre,
                          skin=person_skin if rng.random() < 0.7 else None,
                          forearm=0.35 if rng.random() < cfg.p_forearm else 0.0,
                          sleeve=sleeve, sleeve_cut=cut)
        hands.append(spec)

    def distractors(rast, joints_cam):
        zmin = min([float(J[:, 2].min()) for J in joints_cam], default=rng.uniform(0.3, 0.8))
        if rng.random() < cfg.p_face:
            _add_face(rng, rast, rast.h, rast.w, zmin)
        if rng.random() < cfg.p_skin_blob:
            _add_skin_blob(rng, rast, rast.h, rast.w, zmin)
        if joints_cam and rng.random() < cfg.p_occluder:
            J = joints_cam[int(rng.integers(len(joints_cam)))]
            px = np.stack([rast.f * J[:, 0] / J[:, 2] + rast.cx, rast.f * J[:, 1] / J[:, 2] + rast.cy], 1)
            _add_occluder(rng, rast, px, float(J[:, 2].min()))

    return _compose(rng, cfg, f, hands, bg, light, distractors)


def render_hand_crop(rng: np.random.Generator, size: int = 128, *, gesture_set: str | None = None,
                     label: str | None = None, fill: tuple[float, float] = (0.5, 0.8),
                     config: SceneConfig | None = None) -> Sample:
    """One hand filling a square crop (its keypoint box spans ``fill`` of the
    side, centred with a little jitter), for pose and gesture training.
    ``label`` picks a template of ``gesture_set`` (random label if None)."""
    cfg = replace(config or SceneConfig(), size=(size, size), max_hands=1, p_no_hand=0.0,
                  gesture_set=gesture_set)
    fov = np.radians(rng.uniform(*cfg.fov))
    f = 0.5 * size / np.tan(0.5 * fov)
    bg = random_background(rng, size, size, cfg.p_natural_bg)
    light = _random_light(rng, cfg, size, size)
    if gesture_set is not None and label is not None:
        pose = pose_from_template(gesture_set, label, rng, cfg.template_noise)
    else:
        pose = _sample_pose(rng, cfg)
    shape = HandShape.random(rng)
    sleeve, cut = _sleeve(rng)
    spec = place_hand(rng, shape, pose, f, size, size, size * 0.5, (size / 2, size / 2),
                      forearm=0.35 if rng.random() < cfg.p_forearm else 0.0, sleeve=sleeve,
                      sleeve_cut=cut)
    jit = rng.normal(0, 0.04 * size, 2)
    _fit_to_box(spec, f, size, size, rng.uniform(*fill), centre=(size / 2 + jit[0], size / 2 + jit[1]))

    def distractors(rast, joints_cam):
        if rng.random() < cfg.p_occluder * 0.5:
            J = joints_cam[0]
            px = np.stack([rast.f * J[:, 0] / J[:, 2] + rast.cx, rast.f * J[:, 1] / J[:, 2] + rast.cy], 1)
            _add_occluder(rng, rast, px, float(J[:, 2].min()))

    return _compose(rng, cfg, f, [spec], bg, light, distractors)


class SyntheticSource:
    """An endless, seeded stream of :class:`Sample`s for training pipelines.

    ``SyntheticSource(config, seed)``: iterate, or ``take(n)``. With
    ``crops=True`` it yields :func:`render_hand_crop` samples of
    ``config.size[0]`` pixels instead of full scenes."""

    def __init__(self, config: SceneConfig | None = None, seed: int = 0, *, crops: bool = False):
        self.config = config or SceneConfig()
        self.seed = seed
        self.crops = crops
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        while True:
            yield self.next()

    def next(self) -> Sample:
        if self.crops:
            return render_hand_crop(self.rng, self.config.size[0], gesture_set=self.config.gesture_set,
                                    config=self.config)
        return render_scene(self.rng, self.config)

    def take(self, n: int) -> list[Sample]:
        return [self.next() for _ in range(n)]
