"""Box overlap ratios, the one home of them: the runtime's tracking, the
metrics, the training data and the tools use these. Boxes are (x0, y0, x1,
y1) in pixels. numpy only.

* :func:`box_iou` and :func:`box_inside`: pairwise, (N, 4) x (M, 4) -> (N, M);
* :func:`overlap` and :func:`cover`: one box against one box -> float.
"""
from __future__ import annotations

import numpy as np

__all__ = ["box_iou", "box_inside", "overlap", "cover"]


def _pairwise(a, b):
    """``a``, ``b`` as (N, 4), (M, 4) float64 and their pairwise intersection
    areas (N, M) (empty when either is)."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    return a, b, ix * iy


def _areas(a) -> np.ndarray:
    return np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)


def box_iou(a, b) -> np.ndarray:
    """Pairwise IoU of (N, 4) and (M, 4) boxes -> (N, M)."""
    a, b, inter = _pairwise(a, b)
    union = _areas(a)[:, None] + _areas(b)[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def box_inside(a, b) -> np.ndarray:
    """Pairwise fraction of each box of ``a`` (N, 4) that lies inside each box
    of ``b`` (M, 4) -> (N, M)."""
    a, b, inter = _pairwise(a, b)
    area_a = _areas(a)
    return np.where(area_a[:, None] > 0, inter / np.maximum(area_a[:, None], 1e-12), 0.0)


def _intersection(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy


def overlap(a, b) -> float:
    """Intersection over the smaller box (not IoU): 1 when one box lies inside
    the other, 0 when either box is empty."""
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(_intersection(a, b) / small) if small > 0 else 0.0


def cover(a, b) -> float:
    """The fraction of box ``a`` that box ``b`` covers (0 for an empty ``a``)."""
    area = (a[2] - a[0]) * (a[3] - a[1])
    return float(_intersection(a, b) / area) if area > 0 else 0.0
