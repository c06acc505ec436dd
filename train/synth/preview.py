"""Preview grids of labelled samples, and the renderer's benchmark."""
from __future__ import annotations

import time

import numpy as np

from handsdk.draw import draw_keypoints

# one colour per finger (RGB), palm bones grey
FINGER_COLORS = ((255, 80, 80), (255, 200, 0), (60, 220, 60), (0, 190, 255), (200, 90, 255))
PALM_COLOR = (200, 200, 200)
# part-map colours: background, palm, 3 shades per finger, forearm
_PART_COLORS = np.array(
    [(0, 0, 0), (230, 230, 230)]
    + [tuple(int(c * k) for c in col) for col in FINGER_COLORS for k in (1.0, 0.75, 0.5)]
    + [(120, 90, 60)], np.uint8)


def draw_sample(sample, *, scale: float = 1.0, parts_alpha: float = 0.35,
                skeleton_alpha: float = 0.0) -> np.ndarray:
    """An RGB uint8 picture of one sample: image (upscaled by ``scale``),
    part map overlay (if ``extras["parts"]``), boxes, bones coloured per
    finger, keypoints (filled: visible, hollow: occluded), label text.
    Works for any :class:`Sample` (masks and labels are optional)."""
    import cv2

    img = sample.image
    if img is None:
        img = np.full((256, 256, 3), 40, np.uint8)
    img = img.astype(np.float32)
    ex = sample.extras or {}
    parts = ex.get("parts")
    if parts is not None and parts_alpha > 0 and parts.shape == img.shape[:2]:
        col = _PART_COLORS[np.clip(parts, 0, len(_PART_COLORS) - 1)].astype(np.float32)
        m = (parts > 0)[..., None]
        img = np.where(m, img * (1 - parts_alpha) + col * parts_alpha, img)
    sk = ex.get("skeleton")
    if sk is not None and skeleton_alpha > 0 and sk.shape == img.shape[:2]:
        img = img * (1 - skeleton_alpha * sk[..., None]) + 255 * skeleton_alpha * sk[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    img = np.ascontiguousarray(img)
    lw = max(1, int(round(scale)))
    for box in sample.boxes:
        x0, y0, x1, y1 = (box * scale).astype(int)
        cv2.rectangle(img, (x0, y0), (x1, y1), (0, 255, 0), lw)
    kps = sample.keypoints
    if sample.image is not None:
        for n, kp in enumerate(kps):
            draw_keypoints(img, kp, scale=scale, thickness=lw, radius=lw + 1, visibility=kp[:, 2], fit=False,
                           colors=FINGER_COLORS, palm_color=PALM_COLOR)
            if n < len(sample.handedness) and sample.handedness[n]:
                x0, y0 = (sample.boxes[n, :2] * scale).astype(int) if n < len(sample.boxes) else (0, 0)
                cv2.putText(img, sample.handedness[n][0], (x0 + 2, y0 + 12), cv2.FONT_HERSHEY_SIMPLEX,
                            0.4, (0, 255, 0), 1, cv2.LINE_AA)
    if sample.label is not None:
        cv2.putText(img, str(sample.label), (3, img.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(img, str(sample.label), (3, img.shape[0] - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.5,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return img


def preview_grid(samples, path=None, *, cols: int = 4, tile: int = 256, raw: bool = True) -> np.ndarray:
    """Draw ``samples`` (any :class:`Sample`s) into a grid and write it to
    ``path`` (PNG) if given. Each tile is ``tile`` pixels on its longer side;
    with ``raw`` the untouched image is shown next to the annotated one.
    Returns the RGB grid."""
    import cv2

    tiles = []
    for s in samples:
        h, w = (s.image.shape[:2] if s.image is not None else (256, 256))
        k = tile / max(h, w)
        pics = [draw_sample(s, scale=k)]
        if raw and s.image is not None:
            pics.insert(0, cv2.resize(s.image, (pics[0].shape[1], pics[0].shape[0]),
                                      interpolation=cv2.INTER_NEAREST))
        t = np.zeros((tile, tile * len(pics) + 4 * (len(pics) - 1), 3), np.uint8)
        x = 0
        for p in pics:
            t[:p.shape[0], x:x + p.shape[1]] = p
            x += tile + 4
        tiles.append(t)
    if not tiles:
        tiles = [np.zeros((tile, tile, 3), np.uint8)]
    cols = max(1, min(cols, len(tiles)))
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    th, tw = tiles[0].shape[:2]
    pad = 6
    rows = []
    for r in range(0, len(tiles), cols):
        row = np.full((th, cols * (tw + pad) - pad, 3), 255, np.uint8)
        for c, t in enumerate(tiles[r:r + cols]):
            row[:, c * (tw + pad):c * (tw + pad) + tw] = t
        rows.append(row)
    grid = np.full((len(rows) * (th + pad) - pad, rows[0].shape[1], 3), 255, np.uint8)
    for i, row in enumerate(rows):
        grid[i * (th + pad):i * (th + pad) + th] = row
    if path is not None:
        cv2.imwrite(str(path), grid[:, :, ::-1])
    return grid


def benchmark(n: int = 200, size=(128, 128), *, seed: int = 0, config=None, crops: bool = False) -> float:
    """Images per second of :func:`render_scene` (or crops) in this process."""
    from dataclasses import replace

    from .scene import SceneConfig, SyntheticSource

    cfg = replace(config or SceneConfig(), size=tuple(size))
    src = SyntheticSource(cfg, seed, crops=crops)
    from .scene import natural_images
    from .templates import warmup

    warmup()  # one-off: template fits, image cache
    natural_images()
    src.take(3)
    t = time.perf_counter()
    src.take(n)
    return n / (time.perf_counter() - t)
