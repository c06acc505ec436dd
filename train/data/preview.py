"""Preview grids of samples: image with boxes, keypoints (per-finger colours,
MediaPipe connections), skeleton map / part masks when present, and labels.

Shared by ``handsdk data preview`` and usable by the synthetic renderer.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from handsdk import draw as _draw

#: RGB colour per finger (thumb .. pinky); palm bones white (handsdk.draw's, in RGB)
FINGER_COLORS_RGB = _draw.FINGER_COLORS_RGB
HAND_COLORS_RGB = ((255, 255, 0), (0, 255, 255), (255, 0, 255))


def draw_hand(canvas: np.ndarray, keypoints, *, scale: float = 1.0, radius: int = 2, thickness: int = 1,
              dashed_occluded: bool = True) -> np.ndarray:
    """Draw one hand's (21, 2|3) keypoints (pixels of the original image,
    multiplied by ``scale``) on an RGB canvas, in place. Points with
    visibility < 0 are skipped; occluded (0) points are drawn hollow
    (:func:`handsdk.draw.draw_keypoints`)."""
    kp = np.asarray(keypoints, np.float32)
    return _draw.draw_keypoints(canvas, kp, scale=scale, radius=radius, thickness=thickness, fit=False,
                                visibility=kp[:, 2] if kp.shape[1] > 2 else None, colors=FINGER_COLORS_RGB)


def _text(canvas, text, org, color=(255, 255, 255), fs=0.4):
    import cv2

    cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(canvas, text, org, cv2.FONT_HERSHEY_SIMPLEX, fs, color, 1, cv2.LINE_AA)


def _overlay_map(canvas, m, color, alpha=0.5):
    import cv2

    m = np.asarray(m, np.float32)
    if m.ndim == 3:
        m = m.max(-1)
    if m.shape[:2] != canvas.shape[:2]:
        m = cv2.resize(m, (canvas.shape[1], canvas.shape[0]), interpolation=cv2.INTER_NEAREST)
    a = np.clip(m, 0, 1)[..., None] * alpha
    canvas[:] = (canvas * (1 - a) + np.asarray(color, np.float32) * a).astype(np.uint8)


def _part_colors(n):
    rng = np.random.default_rng(7)
    return rng.integers(60, 255, (max(n, 1), 3))


def draw_sample(sample, tile: int = 256, *, title: str | None = None, show_masks: bool = True) -> np.ndarray:
    """One RGB uint8 tile of ``tile`` px (longer side) for a sample."""
    import cv2

    if sample.image is None:
        # keypoint-only sample: draw the normalised keypoints in a box
        canvas = np.full((tile, tile, 3), 40, np.uint8)
        for k in sample.keypoints:
            kk = k.copy()
            kk[:, :2] = (kk[:, :2] * 0.42 + 0.5) * tile
            draw_hand(canvas, kk, radius=3, thickness=2)
        scale = 1.0
    else:
        img = sample.image
        h, w = img.shape[:2]
        scale = tile / max(h, w)
        canvas = np.full((tile, tile, 3), 20, np.uint8)
        small = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                           interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        canvas[: small.shape[0], : small.shape[1]] = small
        ex = sample.extras or {}
        if show_masks:
            view = canvas[: small.shape[0], : small.shape[1]]
            if "part_map" in ex or "parts" in ex:
                pm = np.asarray(ex.get("part_map", ex.get("parts")))
                if pm.ndim == 2:
                    cols = _part_colors(int(pm.max()) + 1)
                    pm_r = cv2.resize(pm.astype(np.int32).astype(np.float32), (view.shape[1], view.shape[0]),
                                      interpolation=cv2.INTER_NEAREST).astype(np.int32)
                    col = cols[pm_r]
                    a = (pm_r > 0)[..., None] * 0.35
                    view[:] = (view * (1 - a) + col * a).astype(np.uint8)
            elif "mask" in ex:
                _overlay_map(view, ex["mask"], (0, 255, 0), 0.3)
            if "skeleton" in ex:
                _overlay_map(view, ex["skeleton"], (255, 255, 255), 0.4)
        human = "box_classes" in ex
        for i, b in enumerate(sample.boxes):
            p0 = (int(round(b[0] * scale)), int(round(b[1] * scale)))
            p1 = (int(round(b[2] * scale)), int(round(b[3] * scale)))
            col = (255, 255, 0) if human else HAND_COLORS_RGB[i % len(HAND_COLORS_RGB)]
            cv2.rectangle(canvas, p0, p1, col, 1)
            hd = sample.handedness[i] if i < len(sample.handedness) else None
            if hd:
                _text(canvas, hd[0], (p0[0] + 2, min(tile - 4, p1[1] - 3)), col, 0.4)
        pk = ex.get("pseudo_keypoints")
        if pk is not None and sample.keypoint_source != "mediapipe":
            for k in np.asarray(pk):  # MediaPipe's hands that are not the labels (grey)
                kk = k.copy()
                kk[:, :2] *= 1.0
                _draw_grey(canvas, kk, scale)
        for k in sample.keypoints:
            draw_hand(canvas, k, scale=scale, radius=max(1, tile // 128), thickness=max(1, tile // 200))
    lines = [title] if title else []
    lab = sample.label if sample.label is not None else "-"
    lines.append(f"{lab} [{sample.label_set or '-'}]")
    lines.append(f"{sample.source} kp:{sample.keypoint_source} n={sample.num_hands}")
    for j, t in enumerate(lines):
        _text(canvas, str(t)[:40], (3, 13 + 13 * j), (255, 255, 255), 0.38)
    return canvas


def _draw_grey(canvas, k, scale):
    grey = (150, 150, 150)
    _draw.draw_keypoints(canvas, k, scale=scale, thickness=1, radius=0, fit=False, colors=(grey,) * 5,
                         palm_color=grey)


def preview_grid(samples: Sequence, path: str | Path | None = None, *, tile: int = 256, cols: int | None = None,
                 titles: Sequence[str] | None = None) -> np.ndarray:
    """Grid of :func:`draw_sample` tiles; written to ``path`` (PNG) when given.
    Returns the RGB grid."""
    import cv2

    samples = list(samples)
    if not samples:
        raise ValueError("no samples to preview")
    cols = cols or int(np.ceil(np.sqrt(len(samples))))
    rows = int(np.ceil(len(samples) / cols))
    grid = np.zeros((rows * tile, cols * tile, 3), np.uint8)
    for i, s in enumerate(samples):
        r, c = divmod(i, cols)
        grid[r * tile:(r + 1) * tile, c * tile:(c + 1) * tile] = draw_sample(
            s, tile, title=None if titles is None else titles[i])
    if path is not None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
            raise OSError(f"could not write {str(path)!r}")
    return grid


def example_to_sample(ex: dict, source: str = "pipeline"):
    """One row of a training pool (a detector frame or a landmarker crop,
    numpy; see :func:`pool_rows`) as a Sample for preview. Images may be
    uint8 or float in [0, 1]; handedness 1 Right, 0 Left, -1 unknown."""
    from .sample import Sample

    img = np.asarray(ex["image"])
    if img.dtype != np.uint8:
        img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    kp = np.asarray(ex["keypoints"], np.float32).reshape(-1, 21, 3)
    hd_idx = np.asarray(ex.get("handedness", -1)).reshape(-1)
    if "num_hands" in ex:
        n = int(ex["num_hands"])
    elif "presence" in ex:
        n = 1 if float(ex["presence"]) > 0 else 0
    else:  # a detector frame: absent hands are all -1, after the hands
        n = int((kp[..., 2] >= 0).any(-1).sum())
    kp = kp[:n]
    boxes = np.asarray(ex["boxes"], np.float32).reshape(-1, 4)[:n] if "boxes" in ex else np.zeros((0, 4))
    hd = [{0: "Left", 1: "Right"}.get(int(round(float(v)))) for v in hd_idx[:n]]
    return Sample(image=img, boxes=boxes, keypoints=kp, keypoint_source="none",
                  handedness=hd, label=None if n else "negative", source=source)


def pool_rows(pool: dict) -> list[dict]:
    """The rows of a training pool (dict of arrays with one leading axis)."""
    n = len(next(iter(pool.values()))) if pool else 0
    return [{k: v[i] for k, v in pool.items()} for i in range(n)]


def training_examples(samples, kind: str, size: int, seed: int = 0) -> list:
    """What the trainer makes of ``samples``, as Samples for preview:
    ``frames`` = the detector's letterboxed frames (half of them zoomed, as
    ``data.zoom``), ``crops`` = the landmarker's jittered hand crops with
    hand-free crops (``data.negatives`` 0.15). Flips and colour are drawn
    later, in tf.data, and are not shown."""
    from handsdk.train.models.detector.examples import detector_pool
    from handsdk.train.models.pose.config import PoseModelConfig
    from handsdk.train.models.pose.examples import pose_pool

    rng = np.random.default_rng(seed)
    samples = [s for s in samples if s.image is not None]
    if kind == "frames":
        pool = detector_pool(samples, size, size, zoom=(0.5, 1.5), zoom_prob=0.5, rng=rng)
    elif kind == "crops":
        pool = pose_pool(samples, size, PoseModelConfig(), rng, negatives=0.15, jitter=True)
    else:
        raise ValueError(f"unknown kind of training example {kind!r} (frames or crops)")
    return [example_to_sample(ex, kind) for ex in pool_rows(pool)]


__all__ = ["draw_hand", "draw_sample", "preview_grid", "example_to_sample", "pool_rows", "training_examples",
           "FINGER_COLORS_RGB"]
