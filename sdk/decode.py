"""Decoding of model outputs into boxes and keypoints (numpy + OpenCV).

Coordinate convention everywhere: continuous pixel coordinates where pixel
index j covers [j, j+1) (its centre is j + 0.5).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from .checks import check_range


@dataclass(frozen=True)
class MapBox:
    """A hand found in a skeleton map: box (x0, y0, x1, y1) in map pixels,
    score in [0, 1] and the skeleton pixel mass that decided Hand/NoHand."""

    box: np.ndarray
    score: float
    mass: float


@dataclass(frozen=True)
class DetectorDecoding:
    """How a detector's skeleton map becomes boxes (:func:`skeleton_to_boxes`):
    the one home of the defaults. A bundle's ``models.detector.decoding`` (and
    a training config's detector section) override them field by field."""

    threshold: float = 0.5  # skeleton pixels at or above it are hand
    min_mass: float = 20.0  # a hand's skeleton pixel mass at least
    min_size_frac: float = 0.04  # a hand's box side at least this of the map's larger side
    pad: float = 0.15  # box padding, a fraction of its side
    #: a box taller or wider than this fraction of the frame is looked at again
    #: at the model's full resolution (:meth:`handsdk.looking.LookPolicy.detections`):
    #: the map of a person in view can join hands, face and chest in one blob;
    #: 0 turns it off. Not a :func:`skeleton_to_boxes` argument.
    zoom_above: float = 0.0
    #: a box at least this many times as wide as tall may hold two hands side by
    #: side in one blob: when the landmarker rejects it, its halves are tried (the
    #: recognizer keeps what the landmarker's presence prefers); 0 turns it off. Not a
    #: :func:`skeleton_to_boxes` argument either.
    split_aspect: float = 0.0

    @classmethod
    def from_dict(cls, decoding: dict | None) -> "DetectorDecoding":
        """The defaults, with the fields ``decoding`` holds (other keys are
        ignored); values are kept as given."""
        d = decoding or {}
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})

    def as_dict(self) -> dict:
        """Keyword arguments of :func:`skeleton_to_boxes` (``zoom_above`` and
        ``split_aspect``, run-time steps after it, are not)."""
        return {k: v for k, v in asdict(self).items() if k not in ("zoom_above", "split_aspect")}


def check_zoom_above(v, name: str = "zoom_above") -> float:
    """``v`` as :attr:`DetectorDecoding.zoom_above` (a fraction of the frame in
    [0, 1], 0: off), or ValueError naming ``name``."""
    return check_range(name, v, 0.0, 1.0, note="0: off")


def check_split_aspect(v, name: str = "split_aspect") -> float:
    """``v`` as :attr:`DetectorDecoding.split_aspect` (0: off, or a width /
    height ratio in [1, 100]), or ValueError naming ``name``."""
    return check_range(name, v, 1.0, 100.0, off=0.0, note="a width / height ratio")


def skeleton_to_boxes(skeleton, *, threshold: float = DetectorDecoding.threshold,
                      min_mass: float = DetectorDecoding.min_mass,
                      min_size_frac: float = DetectorDecoding.min_size_frac, max_hands: int = 2,
                      pad: float = DetectorDecoding.pad, merge_gap: float = 0.15) -> list[MapBox]:
    """Boxes from a predicted skeleton map (Skeleton-aware multi-scale heatmap
    regression, Kourbane & Genc; Hand segmentation and hand pose estimation,
    Boehringer & Hartmann 2019).

    Pixels above ``threshold`` are grouped by connected components (8-connected,
    after a small closing so one hand's bones join). Region growing: a
    component whose box lies within ``merge_gap`` x (the larger box's side) of
    a heavier component is merged into it (a finger cut off from its palm by
    the threshold stays with its hand instead of becoming a second, shaky
    box). Groups whose skeleton mass (sum of probabilities) is below
    ``min_mass`` or whose size is below ``min_size_frac`` of the map's larger
    side are dropped as outliers; each box is padded by ``pad`` of its size.
    The score is the mean probability over the group, and the highest-mass
    ``max_hands`` groups are kept.
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
    if n <= 1:
        return []
    flat_labels = labels.reshape(-1)
    mass = np.bincount(flat_labels, weights=skel.reshape(-1).astype(np.float64), minlength=n)
    count = np.bincount(flat_labels, minlength=n).astype(np.float64)
    groups = []  # [x0, y0, x1, y1, mass, count]
    for i in sorted(range(1, n), key=lambda i: -mass[i]):
        x, y, bw, bh, _ = stats[i]
        box = [float(x), float(y), float(x + bw), float(y + bh)]
        for g in groups:
            gap = merge_gap * max(g[2] - g[0], g[3] - g[1])
            if box[0] <= g[2] + gap and box[2] >= g[0] - gap and box[1] <= g[3] + gap and box[3] >= g[1] - gap:
                g[0], g[1] = min(g[0], box[0]), min(g[1], box[1])
                g[2], g[3] = max(g[2], box[2]), max(g[3], box[3])
                g[4] += mass[i]
                g[5] += count[i]
                break
        else:
            groups.append(box + [float(mass[i]), float(count[i])])
    found = []
    min_size = min_size_frac * max(h, w)
    for x0, y0, x1, y1, m, c in groups:
        bw, bh = x1 - x0, y1 - y0
        if max(bw, bh) < min_size or m < min_mass:
            continue
        px, py = pad * bw, pad * bh
        box = np.array([max(0.0, x0 - px), max(0.0, y0 - py),
                        min(float(w), x1 + px), min(float(h), y1 + py)], np.float32)
        found.append(MapBox(box=box, score=float(m / max(c, 1.0)), mass=float(m)))
    found.sort(key=lambda b: -b.mass)
    return found[:max_hands]


def _parabola_offset(a, b, c, inner) -> np.ndarray:
    """The sub-pixel offset of the vertex of the parabola through (-1, a), (0, b), (1, c),
    in [-0.5, 0.5]; 0 where ``inner`` is false or the parabola does not open downwards."""
    den = a - 2 * b + c
    ok = inner & (den < 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, np.clip(0.5 * (a - c) / np.where(ok, den, -1), -0.5, 0.5), 0).astype(np.float32)


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
    j = np.arange(k)
    # quadratic refinement through the peak and its two neighbours, per axis, where the
    # peak has both neighbours and the parabola opens downwards (float32, as per keypoint)
    dx = _parabola_offset(hm[ys, np.maximum(xs - 1, 0), j], peaks, hm[ys, np.minimum(xs + 1, w - 1), j],
                          (xs > 0) & (xs < w - 1))
    dy = _parabola_offset(hm[np.maximum(ys - 1, 0), xs, j], peaks, hm[np.minimum(ys + 1, h - 1), xs, j],
                          (ys > 0) & (ys < h - 1))
    out = np.stack([xs + 0.5 + dx.astype(np.float64), ys + 0.5 + dy.astype(np.float64)], axis=1).astype(np.float32)
    return out, peaks


#: the channels of a detector's ``anchors`` output (a Gaussian peak of 1 at each
#: hand's wrist, and at its palm's top, :func:`handsdk.keypoints.palm_top`)
ANCHOR_CHANNELS = ("wrist", "palm_top")


def anchor_rotation(anchors, box, *, min_peak: float = 0.3, grow: float = 0.15) -> float | None:
    """The angle of the hand in ``box`` from a detector's anchor maps (the
    rotation that turns it upright, :func:`handsdk.keypoints.hand_rotation`'s
    convention), as MediaPipe's palm detector gives its landmarker an upright
    crop: the peak of each channel (:data:`ANCHOR_CHANNELS`) inside the box
    grown by ``grow`` of its sides, refined as the landmarker's heatmaps are
    (:func:`heatmaps_to_keypoints`). ``anchors`` (h, w, 2); ``box`` (x0, y0,
    x1, y1) in the anchor map's pixels. None when a peak is below
    ``min_peak`` (the caller then finds the angle another way)."""
    from .keypoints import rotation_from_points

    a = np.asarray(anchors, np.float32)
    h, w = a.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    gx, gy = grow * (x1 - x0), grow * (y1 - y0)
    ix0, iy0 = max(0, int(np.floor(x0 - gx))), max(0, int(np.floor(y0 - gy)))
    ix1, iy1 = min(w, int(np.ceil(x1 + gx))), min(h, int(np.ceil(y1 + gy)))
    if ix1 <= ix0 or iy1 <= iy0:
        return None
    xy, peaks = heatmaps_to_keypoints(a[iy0:iy1, ix0:ix1, :2])
    if float(peaks.min()) < min_peak:
        return None
    return rotation_from_points(xy[0] + (ix0, iy0), xy[1] + (ix0, iy0))


#: how a landmarker's output becomes keypoints: ``heatmaps`` (K heatmaps,
#: argmax with sub-pixel refinement) or ``keypoints`` (regressed x, y in [0, 1]
#: of the crop)
LANDMARKER_DECODINGS = ("heatmaps", "keypoints")


def landmarker_keypoints(outputs: dict, size: int, decoding: str | None = None) -> np.ndarray:
    """The keypoints of one landmarker sample, (K, 2) in pixels of its square
    ``size`` x ``size`` input crop: the one decoding of the landmarker's output,
    shared by the runtime (:class:`handsdk.HandLandmarker`), conversion parity
    and training evaluation.

    ``outputs``: the model's outputs by name, with their batch axis (sample 0
    is decoded). ``decoding``: ``"keypoints"`` (``outputs["keypoints"]``, x, y
    in [0, 1] of the crop) or ``"heatmaps"`` (``outputs["heatmaps"]``, (1, h, w,
    K), :func:`heatmaps_to_keypoints` scaled from heatmap to crop pixels);
    None: ``keypoints`` when the outputs have them, else ``heatmaps``."""
    if decoding is None:
        decoding = "keypoints" if "keypoints" in outputs else "heatmaps"
    if decoding not in LANDMARKER_DECODINGS:
        raise ValueError(f"unknown landmarker decoding {decoding!r}: expected one of {LANDMARKER_DECODINGS}")
    if decoding not in outputs:
        raise ValueError(f"landmarker decoding {decoding!r} needs a {decoding!r} output; the model has "
                         f"{sorted(outputs)}")
    if decoding == "keypoints":
        return np.asarray(outputs["keypoints"][0]).reshape(-1, 2) * size
    hm = np.asarray(outputs["heatmaps"][0])
    xy, _ = heatmaps_to_keypoints(hm)
    return xy * (size / hm.shape[1])
