"""Image and keypoint augmentation (numpy + OpenCV) for the training pipelines.

Geometry is one 2x3 affine per example, composed with the letterbox or crop
matrix, so the image is resampled once and keypoints/boxes go through exactly
the same matrix (:func:`handsdk.image.apply_affine`). Horizontal flips swap
handedness. Photometric changes (colour jitter, blur, low resolution, noise)
never touch geometry.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handsdk.image import apply_affine


@dataclass
class AugmentConfig:
    """Ranges of the random image augmentation (set a probability to 0 to turn
    a part off; ``AugmentConfig.none()`` turns everything off)."""

    rotation_deg: float = 20.0          # uniform in [-r, r]
    scale: tuple[float, float] = (0.75, 1.25)  # log-uniform
    translate: float = 0.1              # fraction of the output size
    flip_prob: float = 0.5
    brightness: float = 0.25            # additive, fraction of 255
    contrast: float = 0.3               # multiplicative, 1 +- c
    saturation: float = 0.35
    hue_deg: float = 8.0
    gray_prob: float = 0.05
    blur_prob: float = 0.2
    blur_sigma: tuple[float, float] = (0.4, 1.6)
    lowres_prob: float = 0.2
    lowres_factor: tuple[float, float] = (0.25, 0.6)
    noise_prob: float = 0.3
    noise_std: tuple[float, float] = (2.0, 8.0)  # in 0..255 units

    @classmethod
    def none(cls) -> "AugmentConfig":
        return cls(rotation_deg=0.0, scale=(1.0, 1.0), translate=0.0, flip_prob=0.0, brightness=0.0,
                   contrast=0.0, saturation=0.0, hue_deg=0.0, gray_prob=0.0, blur_prob=0.0,
                   lowres_prob=0.0, noise_prob=0.0)

    @classmethod
    def from_dict(cls, d: dict | None) -> "AugmentConfig":
        if d is None:
            return cls()
        unknown = set(d) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown augmentation option(s) {sorted(unknown)}")
        return cls(**d)


def as_augment_config(augment) -> AugmentConfig:
    if augment is None or augment is False:
        return AugmentConfig.none()
    if augment is True:
        return AugmentConfig()
    if isinstance(augment, AugmentConfig):
        return augment
    if isinstance(augment, dict):
        return AugmentConfig.from_dict(augment)
    raise TypeError(f"augment must be bool, dict or AugmentConfig, not {type(augment).__name__}")


# ---------------------------------------------------------------- geometry


def compose(a, b) -> np.ndarray:
    """``a`` after ``b`` (2x3 affines): apply_affine(compose(a, b), p) ==
    apply_affine(a, apply_affine(b, p))."""
    A = np.vstack([np.asarray(a, np.float64), [0, 0, 1]])
    B = np.vstack([np.asarray(b, np.float64), [0, 0, 1]])
    return (A @ B)[:2]


def flip_matrix(width: float) -> np.ndarray:
    """Horizontal flip of an image of ``width`` pixels (pixel-edge convention:
    x -> width - x)."""
    return np.array([[-1.0, 0.0, float(width)], [0.0, 1.0, 0.0]])


def random_affine(rng: np.random.Generator, out_hw, cfg: AugmentConfig, *, center=None,
                  allow_flip: bool = True) -> tuple[np.ndarray, bool]:
    """Random rotation/scale about ``center`` (default: the output centre),
    translation and flip, all in output pixels. Returns (2x3, flipped)."""
    h, w = out_hw
    cx, cy = (w / 2.0, h / 2.0) if center is None else center
    ang = np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg)) if cfg.rotation_deg else 0.0
    lo, hi = cfg.scale
    s = float(np.exp(rng.uniform(np.log(lo), np.log(hi)))) if hi > lo else float(lo)
    tx, ty = (rng.uniform(-cfg.translate, cfg.translate, 2) * (w, h)) if cfg.translate else (0.0, 0.0)
    c, si = np.cos(ang) * s, np.sin(ang) * s
    # counter-clockwise in the image (y down), like handsdk.image.crop_matrix
    m = np.array([[c, si, 0.0], [-si, c, 0.0]])
    m[:, 2] = [cx + tx - (c * cx + si * cy), cy + ty - (-si * cx + c * cy)]
    flipped = bool(allow_flip and cfg.flip_prob > 0 and rng.random() < cfg.flip_prob)
    if flipped:
        m = compose(flip_matrix(w), m)
    return m, flipped


def transform_keypoints(m, keypoints, out_hw=None) -> np.ndarray:
    """Apply ``m`` to (..., 21, 3) keypoints; absent points (vis < 0) stay
    absent (coordinates zeroed); visible points that leave the
    ``out_hw`` image become 0 (labelled, not visible)."""
    kp = np.asarray(keypoints, np.float32)
    out = apply_affine(m, kp).astype(np.float32)
    if out.size == 0:
        return out
    absent = kp[..., 2] < 0
    if out_hw is not None:
        h, w = out_hw
        outside = (out[..., 0] < 0) | (out[..., 0] >= w) | (out[..., 1] < 0) | (out[..., 1] >= h)
        out[..., 2] = np.where(outside & (kp[..., 2] > 0), 0.0, out[..., 2])
    out[absent] = (0.0, 0.0, -1.0)
    return out


def transform_boxes(m, boxes) -> np.ndarray:
    """Axis-aligned box around each transformed box's corners."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    if len(b) == 0:
        return b
    corners = np.stack([b[:, [0, 1]], b[:, [2, 1]], b[:, [2, 3]], b[:, [0, 3]]], 1)
    t = apply_affine(m, corners)
    return np.concatenate([t.min(1), t.max(1)], 1).astype(np.float32)


def warp_image(image, m, out_hw, *, border_value=0):
    """Warp ``image`` by the 2x3 ``m`` given in the keypoint convention (pixel
    i spans [i, i+1), as MediaPipe's normalised x * width). OpenCV puts pixel
    centres on integers, so the half-pixel shift is applied here; a keypoint
    drawn on the source lands exactly on ``apply_affine(m, keypoint)``.
    :func:`handsdk.image.warp` (the runtime's) applies that shift, so training
    and runtime crops are the same pixels."""
    from handsdk.image import warp

    return warp(image, m, out_hw, border_value=border_value)


def swap_handedness(h):
    return {"Left": "Right", "Right": "Left"}.get(h, h)


def mirror_keypoints_x(kp, width):
    out = np.array(kp, np.float32, copy=True)
    ok = out[..., 2] >= 0
    out[..., 0] = np.where(ok, width - out[..., 0], out[..., 0])
    return out


# ---------------------------------------------------------------- photometric


def photometric(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    """Colour jitter, grayscale, blur, low resolution and noise on an RGB uint8
    image. Returns uint8 of the same shape."""
    import cv2

    img = image
    if cfg.hue_deg or cfg.saturation:
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).astype(np.float32)
        if cfg.hue_deg:
            hsv[..., 0] = (hsv[..., 0] + rng.uniform(-cfg.hue_deg, cfg.hue_deg) / 2.0) % 180.0
        if cfg.saturation:
            hsv[..., 1] *= 1.0 + rng.uniform(-cfg.saturation, cfg.saturation)
        img = cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB)
    f = img.astype(np.float32)
    if cfg.contrast:
        mean = f.mean()
        f = (f - mean) * (1.0 + rng.uniform(-cfg.contrast, cfg.contrast)) + mean
    if cfg.brightness:
        f = f + rng.uniform(-cfg.brightness, cfg.brightness) * 255.0
    if cfg.gray_prob and rng.random() < cfg.gray_prob:
        f = np.repeat(f.mean(2, keepdims=True), 3, 2)
    img = np.clip(f, 0, 255).astype(np.uint8)
    if cfg.blur_prob and rng.random() < cfg.blur_prob:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(*cfg.blur_sigma))
    if cfg.lowres_prob and rng.random() < cfg.lowres_prob:
        h, w = img.shape[:2]
        fct = rng.uniform(*cfg.lowres_factor)
        small = cv2.resize(img, (max(4, int(w * fct)), max(4, int(h * fct))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if cfg.noise_prob and rng.random() < cfg.noise_prob:
        n = rng.normal(0.0, rng.uniform(*cfg.noise_std), img.shape).astype(np.float32)
        img = np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)
    return img


# ---------------------------------------------------------------- keypoint space


@dataclass
class KeypointAugmentConfig:
    """Augmentation of keypoint-only examples (before :func:`keypoint_features`)."""

    rotation_deg: float = 12.0
    scale: tuple[float, float] = (0.85, 1.15)   # per axis (anisotropic)
    jitter: float = 0.015                       # std, fraction of the hand's size
    mirror_prob: float = 0.5                    # only for hands of unknown handedness
    drop_prob: float = 0.0                      # unused placeholder for occlusion

    @classmethod
    def none(cls) -> "KeypointAugmentConfig":
        return cls(rotation_deg=0.0, scale=(1.0, 1.0), jitter=0.0, mirror_prob=0.0)


def augment_keypoints(kp: np.ndarray, rng: np.random.Generator, cfg: KeypointAugmentConfig,
                      handedness=None) -> tuple[np.ndarray, object]:
    """Random rotation about the wrist, per-axis scale, jitter and (for
    unknown handedness) mirror of (21, 2+) keypoints. Returns (keypoints (21, 2),
    handedness)."""
    xy = np.asarray(kp, np.float32)[:, :2].copy()
    wrist = xy[0].copy()
    xy -= wrist
    size = float(np.abs(xy).max()) or 1.0
    if cfg.rotation_deg:
        a = np.deg2rad(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
        c, s = np.cos(a), np.sin(a)
        xy = xy @ np.array([[c, -s], [s, c]], np.float32).T
    lo, hi = cfg.scale
    if hi > lo:
        xy *= rng.uniform(lo, hi, 2).astype(np.float32)
    if cfg.jitter:
        xy += rng.normal(0, cfg.jitter * size, xy.shape).astype(np.float32)
        xy[0] = 0.0
    if handedness is None and cfg.mirror_prob and rng.random() < cfg.mirror_prob:
        xy[:, 0] = -xy[:, 0]
    return xy + wrist, handedness


__all__ = ["AugmentConfig", "as_augment_config", "compose", "flip_matrix", "random_affine",
           "transform_keypoints", "transform_boxes", "warp_image", "swap_handedness", "photometric",
           "KeypointAugmentConfig", "augment_keypoints", "mirror_keypoints_x"]
