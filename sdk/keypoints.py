"""The one keypoint convention of handsdk (MediaPipe's order) and the helpers
shared by training and runtime so that they cannot drift apart.

Everything here is numpy only.
"""
from __future__ import annotations

import numpy as np

#: The 21 hand keypoints, in MediaPipe's order.
KEYPOINT_NAMES: tuple[str, ...] = (
    "wrist",
    "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_finger_mcp", "index_finger_pip", "index_finger_dip", "index_finger_tip",
    "middle_finger_mcp", "middle_finger_pip", "middle_finger_dip", "middle_finger_tip",
    "ring_finger_mcp", "ring_finger_pip", "ring_finger_dip", "ring_finger_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)
NUM_KEYPOINTS = 21

#: Finger chains (wrist first), thumb .. pinky.
FINGERS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4),
    (0, 5, 6, 7, 8),
    (0, 9, 10, 11, 12),
    (0, 13, 14, 15, 16),
    (0, 17, 18, 19, 20),
)

#: The hand skeleton's bones, as MediaPipe draws them (palm, then fingers).
HAND_CONNECTIONS: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (5, 9), (9, 10), (10, 11), (11, 12),
    (9, 13), (13, 14), (14, 15), (15, 16),
    (13, 17), (0, 17), (17, 18), (18, 19), (19, 20),
)

#: Keypoint index mirrored by a left/right flip: the order is symmetric, so identity.
FLIP_INDEX = tuple(range(NUM_KEYPOINTS))

HANDEDNESS = ("Left", "Right")


def _as_keypoints(keypoints) -> np.ndarray:
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 2 or kp.shape[0] != NUM_KEYPOINTS or kp.shape[1] < 2:
        raise ValueError(
            f"expected keypoints of shape (21, 2) or (21, 3), got {kp.shape}")
    if not np.all(np.isfinite(kp[:, :2])):
        raise ValueError("keypoints contain NaN or infinite values")
    return kp


def keypoint_features(keypoints, handedness: str | None = None) -> np.ndarray:
    """The gesture feature of one hand, shared by training and runtime.

    * wrist-relative: the wrist is moved to the origin;
    * handedness-canonicalised: a ``"Left"`` hand is mirrored (x -> -x) so that
      every hand looks like a right hand; ``None`` leaves it as it is (for data
      without handedness, such as the landmark CSVs);
    * scale-normalised: divided by the largest absolute coordinate, so that the
      values lie in [-1, 1] (the same normalisation as the landmark CSVs).

    ``keypoints`` is (21, 2) or (21, 3) in any unit (pixels or normalised);
    only x and y are used. Returns float32 (21, 2).
    """
    kp = _as_keypoints(keypoints)[:, :2].copy()
    kp -= kp[0]
    if handedness is not None:
        if handedness not in HANDEDNESS:
            raise ValueError(f"handedness must be 'Left', 'Right' or None, got {handedness!r}")
        if handedness == "Left":
            kp[:, 0] = -kp[:, 0]
    scale = float(np.abs(kp).max())
    if scale > 0:
        kp /= scale
    return kp.astype(np.float32)


def batch_keypoint_features(keypoints, handedness=None) -> np.ndarray:
    """Vectorised :func:`keypoint_features` over (N, 21, 2|3); handedness is a
    sequence of N values (or None)."""
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim != 3 or kp.shape[1] != NUM_KEYPOINTS or kp.shape[2] < 2:
        raise ValueError(f"expected keypoints of shape (N, 21, 2|3), got {kp.shape}")
    kp = kp[:, :, :2] - kp[:, :1, :2]
    if handedness is not None:
        left = np.array([h == "Left" for h in handedness], dtype=bool)
        if left.shape[0] != kp.shape[0]:
            raise ValueError("handedness must have one entry per hand")
        kp[left, :, 0] *= -1
    scale = np.abs(kp).reshape(len(kp), -1).max(axis=1)
    scale[scale == 0] = 1.0
    return (kp / scale[:, None, None]).astype(np.float32)


def render_skeleton(keypoints, size, *, thickness: float = 0.02, visible=None,
                    connections=HAND_CONNECTIONS) -> np.ndarray:
    """Analytical skeleton map (Skeleton-aware multi-scale heatmap regression,
    Kourbane & Genc; SenoritaHand skeleton renderer, Wan 2019): for every pixel,
    ``exp(-d^2 / (2 s^2))`` where d is the distance to the nearest bone and
    ``s = thickness * max(h, w)``.

    ``keypoints``: (21, 2+) or (N, 21, 2+) in pixels of an image of ``size`` =
    (height, width). ``visible``: optional (21,) or (N, 21) mask; bones with an
    invisible end point are still drawn (the skeleton is a shape prior), unless
    the keypoint is marked < 0 (absent) or is not a finite number. Returns
    float32 (h, w) in [0, 1].
    """
    h, w = int(size[0]), int(size[1])
    kp = np.asarray(keypoints, dtype=np.float32)
    if kp.ndim == 2:
        kp = kp[None]
    out = np.zeros((h, w), np.float32)
    if kp.size == 0:
        return out
    sigma = max(thickness * max(h, w), 0.5)
    pad = 4 * sigma  # each bone is drawn in its bounding window padded by 4 sigma
    conn = np.asarray(connections, np.intp).reshape(-1, 2)
    vis = None if visible is None else np.asarray(visible).reshape(kp.shape[0], NUM_KEYPOINTS)
    for n in range(kp.shape[0]):
        ok = np.isfinite(kp[n, :, :2]).all(axis=1)  # a keypoint that is not a number draws no bone
        if vis is not None:
            ok &= vis[n] >= 0
        bones = conn[ok[conn[:, 0]] & ok[conn[:, 1]]]
        if not len(bones):
            continue
        # every bone at once, each in its own window (its bounding box padded by 4 sigma;
        # the windows padded to one size, the padding dropped when they are laid down), with
        # the float32 arithmetic of one bone at a time
        a, b = kp[n, bones[:, 0], :2], kp[n, bones[:, 1], :2]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        x0 = np.maximum(0, np.floor(lo[:, 0] - pad)).astype(np.int64)
        x1 = np.minimum(w, np.ceil(hi[:, 0] + pad)).astype(np.int64)
        y0 = np.maximum(0, np.floor(lo[:, 1] - pad)).astype(np.int64)
        y1 = np.minimum(h, np.ceil(hi[:, 1] + pad)).astype(np.int64)
        keep = (x0 < x1) & (y0 < y1)
        if not keep.any():
            continue
        a, b, x0, x1, y0, y1 = a[keep], b[keep], x0[keep], x1[keep], y0[keep], y1[keep]
        wm, hm = int((x1 - x0).max()), int((y1 - y0).max())
        px = ((x0[:, None] + np.arange(wm)).astype(np.float32) + np.float32(0.5))[:, None, :]  # pixel centres
        py = ((y0[:, None] + np.arange(hm)).astype(np.float32) + np.float32(0.5))[:, :, None]
        v = b - a
        vx, vy = v[:, 0, None, None], v[:, 1, None, None]
        qx, qy = px - a[:, 0, None, None], py - a[:, 1, None, None]
        ll = vx * vx + vy * vy
        point = ll == 0  # a bone of length 0: the distance to its point
        t = (qx * vx + qy * vy) / np.where(point, np.float32(1), ll)
        np.clip(t, 0.0, 1.0, out=t)
        t[point[:, 0, 0]] = 0
        dx, dy = qx - t * vx, qy - t * vy
        d2_bones = dx * dx
        d2_bones += dy * dy
        d2 = np.full((h, w), np.inf, np.float32)
        for i, (bx0, bx1, by0, by1) in enumerate(zip(x0.tolist(), x1.tolist(), y0.tolist(), y1.tolist())):
            win = d2[by0:by1, bx0:bx1]
            np.minimum(win, d2_bones[i, :by1 - by0, :bx1 - bx0], out=win)
        np.maximum(out, np.exp(-d2 / (2 * sigma * sigma)), out=out)
    return out
    sigma = max(thickness * max(h, w), 0.5)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    px, py = xs + 0.5, ys + 0.5  # pixel centres
    vis = None if visible is None else np.asarray(visible).reshape(kp.shape[0], NUM_KEYPOINTS)
    for n in range(kp.shape[0]):
        d2 = np.full((h, w), np.inf, np.float32)
        for a, b in connections:
            if vis is not None and (vis[n, a] < 0 or vis[n, b] < 0):
                continue
            ax, ay = kp[n, a, 0], kp[n, a, 1]
            bx, by = kp[n, b, 0], kp[n, b, 1]
            # bounding window of this bone, padded by 4 sigma
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


def keypoints_box(keypoints, visible=None) -> np.ndarray:
    """Tight (x0, y0, x1, y1) box around the (visible) keypoints."""
    kp = _as_keypoints(keypoints)[:, :2]
    if visible is not None:
        m = np.asarray(visible) > 0
        if m.any():
            kp = kp[m]
    return np.array([kp[:, 0].min(), kp[:, 1].min(), kp[:, 0].max(), kp[:, 1].max()], np.float32)


#: the palm's "up": from the wrist to the middle of the index, middle and ring knuckles
_PALM_TOP = (5, 9, 13)
PALM_TOP = _PALM_TOP


def has_hand_rotation(visible) -> bool:
    """Whether :func:`hand_rotation` can tell the hand's direction from
    keypoints with this visibility: the wrist and a knuckle are seen."""
    v = np.asarray(visible) > 0
    return bool(v[0] and v[list(_PALM_TOP)].any())


def hand_rotation(keypoints, visible=None) -> float:
    """The crop rotation (radians, for :func:`handsdk.image.crop_matrix`) that
    turns the hand upright: the wrist -> knuckles direction points up in the
    crop (MediaPipe aligns its landmark crops the same way). 0 when the wrist
    or the knuckles are not visible."""
    kp = _as_keypoints(keypoints)
    if visible is not None and not has_hand_rotation(visible):
        return 0.0
    return rotation_from_points(kp[0, :2], palm_top(kp, visible))


def palm_top(keypoints, visible=None) -> np.ndarray:
    """The palm's "up" point (x, y): the mean of the index, middle and ring
    knuckles that are visible (all of them when ``visible`` is None)."""
    kp = _as_keypoints(keypoints)
    idx = list(_PALM_TOP) if visible is None else [i for i in _PALM_TOP if np.asarray(visible)[i] > 0]
    return kp[idx or list(_PALM_TOP), :2].mean(axis=0)


def rotation_from_points(wrist, top) -> float:
    """The crop rotation (radians, :func:`hand_rotation`'s convention) that
    turns the direction wrist -> ``top`` (the palm's top) upright; 0 when the
    two points coincide."""
    d = np.asarray(top, np.float64)[:2] - np.asarray(wrist, np.float64)[:2]
    if not np.isfinite(d).all() or float(np.hypot(*d)) < 1e-6:
        return 0.0
    return float(np.arctan2(d[1], d[0]) + np.pi / 2)


def rotation_from_output(cos_sin) -> np.ndarray | float:
    """The angle (radians, :func:`hand_rotation`'s convention) of a landmarker's
    ``rotation`` output, (..., 2) = cos, sin (not normalised); a float for one."""
    v = np.asarray(cos_sin, np.float64)
    a = np.arctan2(v[..., 1], v[..., 0])
    return float(a) if a.ndim == 0 else a


def angle_error_deg(a, b) -> np.ndarray | float:
    """|a - b| of angles in radians, wrapped, in degrees (0-180)."""
    d = np.degrees(np.abs((np.asarray(a, np.float64) - np.asarray(b, np.float64) + np.pi) % (2 * np.pi) - np.pi))
    return float(d) if d.ndim == 0 else d


def aligned_box(keypoints, rotation: float, visible=None) -> np.ndarray:
    """A box for :func:`handsdk.image.crop_matrix` with ``rotation``: centred
    on the keypoints' box *in the rotated frame*, with that frame's width and
    height, so the rotated crop fits the hand as tightly as an upright one."""
    kp = np.asarray(keypoints, np.float64)
    if kp.ndim != 2 or kp.shape[1] < 2 or not len(kp):
        raise ValueError(f"expected points of shape (N, 2) or (N, 3), got {kp.shape}")
    kp = kp[:, :2]  # (any points: keypoints, or a hand's skeleton pixels)
    if visible is not None and (np.asarray(visible) > 0).any():
        kp = kp[np.asarray(visible) > 0]
    c, s = np.cos(rotation), np.sin(rotation)
    r = np.array([[c, s], [-s, c]])  # frame -> rotated frame (crop_matrix's convention)
    q = kp @ r.T
    lo, hi = q.min(axis=0), q.max(axis=0)
    centre = ((lo + hi) / 2) @ r  # back to the frame (r is orthonormal)
    half = (hi - lo) / 2
    return np.array([centre[0] - half[0], centre[1] - half[1], centre[0] + half[0], centre[1] + half[1]], np.float32)
