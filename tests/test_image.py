"""Frame handling and the crop rule shared by runtime and training."""
from __future__ import annotations

import numpy as np

from handsdk.image import apply_affine, crop_hand, crop_matrix, invert_affine, letterbox_matrix, warp


def _dot_image(h, w, x, y, sigma=3.0):
    """A Gaussian blob centred on pixel (x, y), which covers [x, x+1) x [y, y+1):
    its centre is the continuous point (x + .5, y + .5)."""
    ys, xs = np.mgrid[0:h, 0:w]
    return np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def _centroid(img):
    ys, xs = np.mgrid[0:img.shape[0], 0:img.shape[1]]
    wsum = img.sum()
    return np.array([(xs * img).sum() / wsum + 0.5, (ys * img).sum() / wsum + 0.5])


def test_warp_keeps_content_where_the_matrix_puts_its_coordinates():
    # a dot at continuous (30.5, 20.5) must land where apply_affine sends that point
    img = _dot_image(64, 80, 30, 20)
    for m, hw in ((crop_matrix((10, 5, 50, 45), 32, scale=1.4, rotation=0.4), (32, 32)),
                  (letterbox_matrix((64, 80), (48, 48)), (48, 48)),
                  (crop_matrix((12, 2, 48, 38), 64, scale=1.0), (64, 64))):
        out = warp(img, m, hw)
        want = apply_affine(m, np.array([[30.5, 20.5]]))[0]
        got = _centroid(out)
        assert np.abs(got - want).max() < 0.15, (got, want)


def test_crop_round_trip():
    m = crop_matrix((100, 50, 140, 110), 64, scale=1.4, rotation=-0.3)
    pts = np.array([[120.0, 80.0], [100.0, 50.0], [140.0, 110.0]])
    back = apply_affine(invert_affine(m), apply_affine(m, pts))
    np.testing.assert_allclose(back, pts, atol=1e-9)
    # the box centre lands on the crop centre, and the crop covers 1.4 x the box's longer side
    np.testing.assert_allclose(apply_affine(m, [[120.0, 80.0]])[0], [32, 32], atol=1e-9)
    crop, _ = crop_hand(np.zeros((200, 200, 3), np.uint8), (100, 50, 140, 110), 64, scale=1.4)
    assert crop.shape == (64, 64, 3)
