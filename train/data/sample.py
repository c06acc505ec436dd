"""The one sample record that every data source produces."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Where a sample's keypoints come from.
KEYPOINT_SOURCES = ("human", "mediapipe", "synthetic", "pipeline", "none")


@dataclass
class Sample:
    """One image (or keypoint-only row) with its labels.

    image: HxWx3 uint8 **RGB**, or None for keypoint-only data (landmark CSVs).
    boxes: (N, 4) float32 hand boxes (x0, y0, x1, y1) in pixels.
    keypoints: (N, 21, 3) float32, x and y in pixels (or normalised units for
        keypoint-only data), third column visibility (1 visible, 0 occluded
        but labelled, -1 absent). Order is MediaPipe's.
    keypoint_source: one of KEYPOINT_SOURCES.
    handedness: N values "Left"/"Right"/None (for the image as given).
    label: the gesture/letter/class label of the image (or None).
    label_set: which label set ``label`` belongs to (e.g. "asl_letters",
        "commands", "digits").
    source: dataset name; path: the file it came from.
    extras: anything else (3D keypoints, masks, skeleton map, part map...).
    """

    image: np.ndarray | None
    boxes: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    keypoints: np.ndarray = field(default_factory=lambda: np.zeros((0, 21, 3), np.float32))
    keypoint_source: str = "none"
    handedness: list = field(default_factory=list)
    label: str | None = None
    label_set: str | None = None
    source: str = ""
    path: str = ""
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.keypoint_source not in KEYPOINT_SOURCES:
            raise ValueError(f"keypoint_source must be one of {KEYPOINT_SOURCES}")
        self.boxes = np.asarray(self.boxes, np.float32).reshape(-1, 4)
        self.keypoints = np.asarray(self.keypoints, np.float32).reshape(-1, 21, 3)

    @property
    def num_hands(self) -> int:
        return max(len(self.boxes), len(self.keypoints))


def _moved(sample: Sample, image: np.ndarray, sx: float, sy: float, x0: float, y0: float, tag: str,
           value) -> Sample:
    """``sample`` with ``image`` and every coordinate (boxes, keypoints, human
    and missed boxes, pseudo-label keypoints) mapped by x * sx + x0, y * sy +
    y0; ``extras[tag] = value`` says how it was made."""

    def boxes(b):
        b = np.asarray(b, np.float32).reshape(-1, 4).copy()
        b[:, [0, 2]] = b[:, [0, 2]] * sx + x0
        b[:, [1, 3]] = b[:, [1, 3]] * sy + y0
        return b

    def points(k):
        k = np.asarray(k, np.float32).copy()
        k[..., 0] = k[..., 0] * sx + x0
        k[..., 1] = k[..., 1] * sy + y0
        return k

    extras = dict(sample.extras)
    for key in ("human_boxes", "missed_boxes"):
        if extras.get(key) is not None:
            extras[key] = boxes(extras[key])
    if extras.get("pseudo_keypoints") is not None:
        extras["pseudo_keypoints"] = points(np.asarray(extras["pseudo_keypoints"], np.float32).reshape(-1, 21, 3))
    extras[tag] = value
    return Sample(image=image, boxes=boxes(sample.boxes), keypoints=points(sample.keypoints),
                  keypoint_source=sample.keypoint_source, handedness=list(sample.handedness),
                  label=sample.label, label_set=sample.label_set, source=sample.source, path=sample.path,
                  extras=extras)


def far_view(sample: Sample, factor: float) -> Sample:
    """``sample`` as a camera farther away would see it: its image shrunk by
    ``factor`` (0 < factor <= 1) in the middle of a canvas of the original
    size, filled with the image's mean colour (no mirrored copy of a person:
    that would be an unlabelled hand), with its boxes, keypoints and the
    coordinates in its extras (human and missed boxes, pseudo-label
    keypoints) moved with it. Evaluation only: hands at arm's length are
    small in a webcam frame, and few validation frames show them so."""
    import cv2

    f = float(factor)
    if not 0.0 < f <= 1.0:
        raise ValueError(f"far_view factor must be in (0, 1], got {factor!r}")
    if sample.image is None:
        raise ValueError("far_view needs a sample with an image (keypoint-only rows have no frame)")
    h, w = sample.image.shape[:2]
    nw, nh = max(1, int(round(w * f))), max(1, int(round(h * f)))
    x0, y0 = (w - nw) // 2, (h - nh) // 2
    img = sample.image[..., :3]
    canvas = np.empty((h, w, 3), np.uint8)
    canvas[:] = np.round(img.reshape(-1, 3).mean(0)).astype(np.uint8)
    canvas[y0:y0 + nh, x0:x0 + nw] = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    return _moved(sample, canvas, nw / w, nh / h, x0, y0, "far_view", f)


#: the aspects (width / height) :func:`aspect_view` and ``name~W:H`` accept
ASPECT_RANGE = (0.2, 5.0)


def aspect_view(sample: Sample, aspect: float) -> Sample:
    """``sample`` with its image widened or narrowed (height kept) to
    ``aspect`` = width / height, coordinates moved with it: a set stored
    stretched (asl_signers_studio: 4:3 and 16:9 videos stretched to squares,
    which squeezes faces into hand-like shapes) as its camera saw it.
    Evaluation only."""
    import cv2

    a = float(aspect)
    if not ASPECT_RANGE[0] <= a <= ASPECT_RANGE[1]:
        raise ValueError(f"aspect_view aspect (width / height) must be in {list(ASPECT_RANGE)}, got {aspect!r}")
    if sample.image is None:
        raise ValueError("aspect_view needs a sample with an image (keypoint-only rows have no frame)")
    h, w = sample.image.shape[:2]
    nw = max(1, int(round(h * a)))
    img = cv2.resize(sample.image[..., :3], (nw, h), interpolation=cv2.INTER_AREA if nw < w else cv2.INTER_LINEAR)
    return _moved(sample, img, nw / w, 1.0, 0.0, 0.0, "aspect_view", a)


def split_view(spec: str):
    """A set name with its view: ``"asl_signers_studio~4:3"`` (frames shown
    at aspect 4:3, :func:`aspect_view`), ``"webcam_finger_counts:valid@0.4"``
    (:func:`far_view`), both (``name~4:3@0.4``: widened, then shrunk) or
    neither. Returns ``(name, view)``: view is None or a function of a sample."""
    base, far = split_far(spec)
    aspect = None
    if "~" in base:
        base, a = base.rsplit("~", 1)
        try:
            num, _, den = a.partition(":")
            aspect = float(num) / float(den) if den else float(num)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"{spec!r}: after '~' give the frames' aspect, width:height (e.g. {base}~4:3) "
                             f"or width / height (e.g. {base}~1.333)") from None
        if not ASPECT_RANGE[0] <= aspect <= ASPECT_RANGE[1]:
            raise ValueError(f"{spec!r}: the aspect after '~' must be in {list(ASPECT_RANGE)} (width / height)")
    if far is None and aspect is None:
        return base, None

    def view(sample: Sample) -> Sample:
        if aspect is not None:
            sample = aspect_view(sample, aspect)
        return far_view(sample, far) if far is not None else sample

    return base, view


def split_far(spec: str) -> tuple[str, float | None]:
    """``"webcam_finger_counts:valid@0.4"`` -> ``("webcam_finger_counts:valid",
    0.4)``: a set read through :func:`far_view`; no ``@``: (spec, None)."""
    if "@" not in spec:
        return spec, None
    base, f = spec.rsplit("@", 1)
    try:
        factor = float(f)
    except ValueError:
        raise ValueError(f"{spec!r}: after '@' give the shrink factor in (0, 1], e.g. {base}@0.4") from None
    if not 0.0 < factor <= 1.0:
        raise ValueError(f"{spec!r}: the shrink factor after '@' must be in (0, 1], e.g. {base}@0.4")
    return base, factor
