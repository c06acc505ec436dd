"""The vectorised skeleton renderer and heatmap decoding (one numpy pass over all
bones / keypoints, for the runtime's tracking frames) give the values the
per-bone / per-keypoint loops they replaced gave, on random and degenerate
input: training drew its skeleton inputs and read its heatmaps with the loops."""
import numpy as np
import pytest

from handsdk.decode import heatmaps_to_keypoints
from handsdk.keypoints import HAND_CONNECTIONS, NUM_KEYPOINTS, render_skeleton


def _loop_skeleton(keypoints, size, *, thickness=0.02, visible=None, connections=HAND_CONNECTIONS):
    """The loop the renderer had before (one bone at a time, each in its own window)."""
    h, w = int(size[0]), int(size[1])
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim == 2:
        kp = kp[None]
    out = np.zeros((h, w), np.float32)
    if kp.size == 0:
        return out
    sigma = max(thickness * max(h, w), 0.5)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    px, py = xs + 0.5, ys + 0.5
    vis = None if visible is None else np.asarray(visible).reshape(kp.shape[0], NUM_KEYPOINTS)
    for n in range(kp.shape[0]):
        d2 = np.full((h, w), np.inf, np.float32)
        for a, b in connections:
            if vis is not None and (vis[n, a] < 0 or vis[n, b] < 0):
                continue
            ax, ay = kp[n, a, 0], kp[n, a, 1]
            bx, by = kp[n, b, 0], kp[n, b, 1]
            pad = 4 * sigma
            x0 = int(max(0, np.floor(min(ax, bx) - pad)))
            x1 = int(min(w, np.ceil(max(ax, bx) + pad)))
            y0 = int(max(0, np.floor(min(ay, by) - pad)))
            y1 = int(min(h, np.ceil(max(ay, by) + pad)))
            if x0 >= x1 or y0 >= y1:
                continue
            qx = px[y0:y1, x0:x1] - ax
            qy = py[y0:y1, x0:x1] - ay
            vx, vy = bx - ax, by - ay
            ll = vx * vx + vy * vy
            t = np.clip((qx * vx + qy * vy) / ll, 0.0, 1.0) if ll > 0 else 0.0
            dx, dy = qx - t * vx, qy - t * vy
            np.minimum(d2[y0:y1, x0:x1], dx * dx + dy * dy, out=d2[y0:y1, x0:x1])
        np.maximum(out, np.exp(-d2 / (2 * sigma * sigma)), out=out)
    return out


def _loop_heatmaps(heatmaps):
    """The per-keypoint loop the decoding had before."""
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


def _hand(rng, size, spread=0.35, centre=None):
    h, w = size
    c = np.array(centre if centre is not None else (rng.uniform(0, w), rng.uniform(0, h)), np.float32)
    return (c + rng.normal(0, spread * min(h, w) / 2, (NUM_KEYPOINTS, 2))).astype(np.float32)


@pytest.mark.parametrize("seed", range(12))
def test_the_skeleton_is_the_loops_on_random_hands(seed):
    rng = np.random.default_rng(seed)
    size = [(96, 96), (64, 64), (176, 224), (32, 48)][seed % 4]
    thickness = [0.02, 0.005, 0.05][seed % 3]
    n = 1 + seed % 3
    kp = np.stack([_hand(rng, size) for _ in range(n)])
    vis = None
    if seed % 2:  # some keypoints absent (< 0), some occluded (0)
        vis = rng.choice([-1, 0, 1], size=(n, NUM_KEYPOINTS), p=[0.2, 0.2, 0.6])
    a = render_skeleton(kp, size, thickness=thickness, visible=vis)
    b = _loop_skeleton(kp, size, thickness=thickness, visible=vis)
    assert a.dtype == np.float32 and a.shape == size
    np.testing.assert_array_equal(a, b)
    assert a.max() > 0.5


def test_the_skeleton_is_the_loops_on_degenerate_hands():
    size = (64, 64)
    same = np.full((NUM_KEYPOINTS, 2), 20.0, np.float32)  # every bone of length 0
    off = np.full((NUM_KEYPOINTS, 2), -500.0, np.float32)  # far outside the image
    half = _hand(np.random.default_rng(0), size, centre=(0.0, 32.0))  # cut by the border
    for kp in (same, off, half, np.zeros((0, NUM_KEYPOINTS, 2), np.float32)):
        np.testing.assert_array_equal(render_skeleton(kp, size), _loop_skeleton(kp, size))
    assert render_skeleton(off, size).max() == 0.0
    assert render_skeleton(same, size).max() > 0.8  # a point (20, 20) between four pixel centres
    everything_absent = -np.ones(NUM_KEYPOINTS)
    assert render_skeleton(half, size, visible=everything_absent).max() == 0.0


@pytest.mark.parametrize("seed", range(8))
def test_the_heatmap_decoding_is_the_loops(seed):
    rng = np.random.default_rng(seed)
    h, w, k = [(48, 48, 21), (24, 32, 21), (16, 16, 2), (3, 5, 4)][seed % 4]
    hm = rng.random((h, w, k)).astype(np.float32) * 0.1
    # Gaussian peaks at sub-pixel places, some on the border, one flat map (no refinement)
    yy, xx = np.mgrid[0:h, 0:w]
    for j in range(k):
        cx, cy = rng.uniform(-0.5, w - 0.5), rng.uniform(-0.5, h - 0.5)
        if j % 5 == 0:
            cx = 0.0
        hm[:, :, j] += np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 1.5 ** 2)).astype(np.float32)
    hm[:, :, k - 1] = 0.25
    a, pa = heatmaps_to_keypoints(hm)
    b, pb = _loop_heatmaps(hm)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(pa, pb)
    assert a.dtype == np.float32 and a.shape == (k, 2)


def test_a_keypoint_that_is_not_a_number_draws_no_bone():
    rng = np.random.default_rng(3)
    kp = _hand(rng, (64, 64), centre=(32, 32))
    bad = kp.copy()
    bad[8] = np.nan
    vis = np.ones(NUM_KEYPOINTS)
    vis[8] = -1
    m = render_skeleton(bad, (64, 64))
    assert np.isfinite(m).all()
    np.testing.assert_array_equal(m, render_skeleton(kp, (64, 64), visible=vis))
