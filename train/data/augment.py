"""Geometry of the training examples: one 2x3 affine per example, composed
with the letterbox or crop matrix (:func:`compose`), so the image is
resampled once and keypoints go through exactly the same matrix
(:func:`handsdk.image.apply_affine`). The random flips and colour of the
training examples are drawn in tf.data (``handsdk.train.models.<name>.examples``).
"""
from __future__ import annotations

import numpy as np


def compose(a, b) -> np.ndarray:
    """``a`` after ``b`` (2x3 affines): apply_affine(compose(a, b), p) ==
    apply_affine(a, apply_affine(b, p))."""
    A = np.vstack([np.asarray(a, np.float64), [0, 0, 1]])
    B = np.vstack([np.asarray(b, np.float64), [0, 0, 1]])
    return (A @ B)[:2]


__all__ = ["compose"]
