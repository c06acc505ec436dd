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
