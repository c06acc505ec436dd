"""Training targets rendered inside the tf.data pipeline (so flips and
skeleton noise are fresh every epoch): the analytical skeleton map (the same
formula as :func:`handsdk.keypoints.render_skeleton`) and Gaussian keypoint
heatmaps. Pixel j covers [j, j+1) everywhere."""
from __future__ import annotations

from handsdk.keypoints import HAND_CONNECTIONS
from handsdk.train.tf import tf

_A = [a for a, _ in HAND_CONNECTIONS]
_B = [b for _, b in HAND_CONNECTIONS]


def render_skeleton_tf(keypoints, height: int, width: int, thickness: float = 0.02, bone_mask=None):
    """keypoints (N, 21, 3) pixels (+visibility; a hand whose keypoints are all
    < 0, or a bone with an end < 0, is not drawn) -> (height, width) float32.
    ``thickness`` may be a scalar tensor. ``bone_mask``: optional (N, 20|21)
    bool of bones to draw."""
    kp = tf.convert_to_tensor(keypoints, tf.float32)
    sigma = tf.maximum(tf.cast(thickness, tf.float32) * float(max(height, width)), 0.5)
    pa = tf.gather(kp, _A, axis=1)  # (N, E, 3)
    pb = tf.gather(kp, _B, axis=1)
    ok = (pa[..., 2] >= 0) & (pb[..., 2] >= 0)
    if bone_mask is not None:
        ok = ok & tf.cast(bone_mask, tf.bool)
    ys = tf.range(height, dtype=tf.float32) + 0.5
    xs = tf.range(width, dtype=tf.float32) + 0.5
    px = xs[None, None, None, :]  # (1,1,1,W)
    py = ys[None, None, :, None]  # (1,1,H,1)
    ax, ay = pa[..., 0][..., None, None], pa[..., 1][..., None, None]
    vx = (pb[..., 0] - pa[..., 0])[..., None, None]
    vy = (pb[..., 1] - pa[..., 1])[..., None, None]
    ll = vx * vx + vy * vy
    qx, qy = px - ax, py - ay  # (N,E,H,W)
    t = tf.where(ll > 0, tf.clip_by_value((qx * vx + qy * vy) / tf.maximum(ll, 1e-12), 0.0, 1.0), 0.0)
    dx, dy = qx - t * vx, qy - t * vy
    d2 = dx * dx + dy * dy
    d2 = tf.where(ok[..., None, None], d2, tf.constant(float("inf")))
    d2 = tf.reduce_min(d2, axis=1)  # (N,H,W)
    val = tf.exp(-d2 / (2.0 * sigma * sigma))
    return tf.reduce_max(tf.concat([val, tf.zeros((1, height, width))], axis=0), axis=0)


def gaussian_heatmaps_tf(keypoints, size: int, height: int, width: int, sigma: float):
    """keypoints (21, 3) in pixels of a ``size`` x ``size`` crop -> (height,
    width, 21) Gaussian heatmaps (peak 1) at that resolution with ``sigma``
    in heatmap pixels. Absent keypoints (visibility < 0) give all-zero maps."""
    kp = tf.convert_to_tensor(keypoints, tf.float32)
    sx = width / float(size)
    sy = height / float(size)
    x = kp[:, 0] * sx
    y = kp[:, 1] * sy
    xs = tf.range(width, dtype=tf.float32) + 0.5
    ys = tf.range(height, dtype=tf.float32) + 0.5
    gx = tf.exp(-tf.square(xs[None, :] - x[:, None]) / (2 * sigma * sigma))  # (K, W)
    gy = tf.exp(-tf.square(ys[None, :] - y[:, None]) / (2 * sigma * sigma))  # (K, H)
    hm = gy[:, :, None] * gx[:, None, :]  # (K,H,W)
    hm = hm * tf.cast(kp[:, 2] >= 0, tf.float32)[:, None, None]
    return tf.transpose(hm, [1, 2, 0])


def anchor_targets_tf(keypoints, height: int, width: int, stride: int, sigma: float):
    """The detector's ``anchors`` target: keypoints (N, 21, 3) in model pixels
    (hands whose wrist or palm-top knuckles are all unseen draw nothing) ->
    (height / stride, width / stride, 2): a Gaussian peak of 1 (``sigma`` in
    map pixels) at each hand's wrist (channel 0) and palm top (channel 1: the
    mean of its visible :data:`handsdk.keypoints.PALM_TOP` knuckles, as
    :func:`handsdk.keypoints.palm_top`), the maximum over the hands."""
    from handsdk.keypoints import PALM_TOP

    kp = tf.convert_to_tensor(keypoints, tf.float32)
    vis = kp[..., 2] >= 0
    tv = tf.cast(tf.gather(vis, list(PALM_TOP), axis=1), tf.float32)  # (N, 3)
    tops = tf.gather(kp[..., :2], list(PALM_TOP), axis=1)  # (N, 3, 2)
    n_top = tf.reduce_sum(tv, axis=1)
    top = tf.reduce_sum(tops * tv[..., None], axis=1) / tf.maximum(n_top, 1.0)[:, None]
    ok = tf.cast(vis[:, 0] & (n_top > 0), tf.float32)  # (N,)
    pts = tf.stack([kp[:, 0, :2], top], axis=1) / float(stride)  # (N, 2, 2)
    hs, ws = height // stride, width // stride
    xs = tf.range(ws, dtype=tf.float32) + 0.5
    ys = tf.range(hs, dtype=tf.float32) + 0.5
    dx = tf.square(xs[None, None, None, :] - pts[..., 0][..., None, None])  # (N, 2, 1, W)
    dy = tf.square(ys[None, None, :, None] - pts[..., 1][..., None, None])  # (N, 2, H, 1)
    g = tf.exp(-(dx + dy) / (2.0 * sigma * sigma)) * ok[:, None, None, None]
    return tf.transpose(tf.reduce_max(g, axis=0), [1, 2, 0])


def color_jitter_tf(img):
    """The photometric augmentation of the image models (brightness,
    contrast, saturation) on a float image in [0, 1]."""
    img = tf.image.random_brightness(img, 0.15)
    img = tf.image.random_contrast(img, 0.75, 1.25)
    img = tf.image.random_saturation(img, 0.7, 1.3)
    return tf.clip_by_value(img, 0.0, 1.0)
