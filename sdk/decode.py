"""Decoding of model outputs into boxes and keypoints (numpy + OpenCV).

Coordinate convention everywhere: continuous pixel coordinates where pixel
index j covers [j, j+1) (its centre is j + 0.5).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MapBox:
    """A hand found in a skeleton map: box (x0, y0, x1, y1) in map pixels,
    score in [0, 1] and the skeleton pixel mass that decided Hand/NoHand."""

    box: np.ndarray
    score: float
    mass: float


def skeleton_to_boxes(skeleton, *, threshold: float = 0.5, min_mass: float = 20.0,
                      min_size_frac: float = 0.04, max_hands: int = 2,
                      pad: float = 0.15) -> list[MapBox]:
    """Boxes from a predicted skeleton map (seed 000/002).

    Pixels above ``threshold`` are grouped by connected components (8-connected,
    after a small closing so one hand's bones join); components whose skeleton
    mass (sum of probabilities) is below ``min_mass`` or whose size is below
    ``min_size_frac`` of the map's larger side are dropped as outliers (stray
    pixels make boxes shaky); each box is padded by ``pad`` of its size. The
    score is the mean probability over the component, and the highest-mass
    ``max_hands`` components are kept.
    """
    import cv2

    skel = np.asarray(skeleton, np.float32)
    if skel.ndim == 3:
        skel = skel[..., 0]
    h, w = skel.shape
    binary = (skel >= threshold).astype(np.uint8)
    if not binary.any():
        return []
    binary = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    found = []
    min_size = min_size_frac * max(h, w)
    for i in range(1, n):
        x, y, bw, bh, area = stats[i]
        if max(bw, bh) < min_size:
            continue
        m = labels == i
        mass = float(skel[m].sum())
        if mass < min_mass:
            continue
        px, py = pad * bw, pad * bh
        box = np.array([max(0.0, x - px), max(0.0, y - py),
                        min(float(w), x + bw + px), min(float(h), y + bh + py)], np.float32)
        found.append(MapBox(box=box, score=float(skel[m].mean()), mass=mass))
    found.sort(key=lambda b: -b.mass)
    return found[:max_hands]


def heatmaps_to_keypoints(heatmaps) -> tuple[np.ndarray, np.ndarray]:
    """Argmax with quadratic sub-pixel refinement per keypoint.

    ``heatmaps``: (h, w, K). Returns ((K, 2) coordinates in heatmap pixels,
    (K,) peak values)."""
    hm = np.asarray(heatmaps, np.float32)
    h, w, k = hm.shape
    flat = hm.reshape(-1, k)
    idx = flat.argmax(axis=0)
    ys, xs = np.divmod(idx, w)
    peaks = flat[idx, np.arange(k)]
    out = np.empty((k, 2), np.float32)
    for j in range(k):
        x, y = int(xs[j]), int(ys[j])
        dx = dy = 0.0
        if 0 < x < w - 1:
            a, b, c = hm[y, x - 1, j], hm[y, x, j], hm[y, x + 1, j]
            den = a - 2 * b + c
            if den < 0:
                dx = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
        if 0 < y < h - 1:
            a, b, c = hm[y - 1, x, j], hm[y, x, j], hm[y + 1, x, j]
            den = a - 2 * b + c
            if den < 0:
                dy = float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
        out[j] = (x + 0.5 + dx, y + 0.5 + dy)
    return out, peaks
