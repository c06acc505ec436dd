"""Typed, frozen results. Keypoints are numpy arrays (read-only) in
MediaPipe's order; ``to_dict()`` gives plain JSON-able data."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .keypoints import HAND_CONNECTIONS, KEYPOINT_NAMES

__all__ = ["Category", "Hand", "RecognitionResult", "HAND_CONNECTIONS", "KEYPOINT_NAMES"]


def _frozen_array(a, dtype=np.float32) -> np.ndarray:
    a = np.array(a, dtype=dtype, copy=True)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class Category:
    """A label with its score (a gesture, a letter, a handedness)."""

    name: str
    score: float
    index: int = -1

    def to_dict(self) -> dict:
        return {"name": self.name, "score": round(float(self.score), 4), "index": int(self.index)}


@dataclass(frozen=True)
class Hand:
    """One hand in a frame.

    box: (4,) x0, y0, x1, y1 in pixels of the input frame, clipped to it
        (keypoints of a hand partly outside the frame are not clipped).
    keypoints: (21, 3) x, y in pixels and z (relative depth, scaled like x; 0
        when the landmarker has no depth output).
    keypoints_normalized: (21, 3) x / width, y / height, z / width.
    presence: the landmarker's hand-presence score.
    detection_score: the detector's score for the box (None when tracked).
    handedness: Category "Left" / "Right" (for the image as given).
    gestures: per gesture set, categories sorted by score (best first).
    track_id: stable id across frames in VIDEO / LIVE_STREAM mode.
    motion: per motion gesture set (VIDEO / LIVE_STREAM mode), the
        :class:`handsdk.motion.Motion` of the hand's keypoint history: its
        best label and the span of the movement (``start_ms``, ``end_ms``).
    """

    box: np.ndarray
    keypoints: np.ndarray
    keypoints_normalized: np.ndarray
    presence: float
    handedness: Category
    gestures: dict = field(default_factory=dict)
    detection_score: float | None = None
    track_id: int | None = None
    motion: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "box", _frozen_array(self.box))
        object.__setattr__(self, "keypoints", _frozen_array(self.keypoints))
        object.__setattr__(self, "keypoints_normalized", _frozen_array(self.keypoints_normalized))
        object.__setattr__(self, "gestures", {k: tuple(v) for k, v in self.gestures.items()})
        object.__setattr__(self, "motion", dict(self.motion or {}))

    def gesture(self, gesture_set: str | None = None) -> Category | None:
        """Best category of ``gesture_set`` (default: the first set)."""
        if not self.gestures:
            return None
        key = gesture_set if gesture_set is not None else next(iter(self.gestures))
        cats = self.gestures.get(key)
        return cats[0] if cats else None

    def to_dict(self) -> dict:
        return {
            "box": [round(float(v), 2) for v in self.box],
            # (float64 first: a rounded float32 prints as 123.45000457763672)
            "keypoints": np.round(self.keypoints.astype(np.float64), 2).tolist(),
            "keypoints_normalized": np.round(self.keypoints_normalized.astype(np.float64), 5).tolist(),
            "presence": round(float(self.presence), 4),
            "detection_score": None if self.detection_score is None else round(float(self.detection_score), 4),
            "handedness": self.handedness.to_dict(),
            "gestures": {k: [c.to_dict() for c in v] for k, v in self.gestures.items()},
            "track_id": self.track_id,
            **({"motion": {k: m.to_dict() for k, m in self.motion.items()}} if self.motion else {}),
        }


@dataclass(frozen=True)
class RecognitionResult:
    """Everything found in one frame."""

    hands: tuple
    image_size: tuple  # (width, height)
    timestamp_ms: int | None = None
    timings_ms: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "hands", tuple(self.hands))
        object.__setattr__(self, "timings_ms", dict(self.timings_ms))

    def __len__(self) -> int:
        return len(self.hands)

    def to_dict(self) -> dict:
        return {
            "timestamp_ms": self.timestamp_ms,
            "image_size": list(self.image_size),
            "hands": [h.to_dict() for h in self.hands],
            "timings_ms": {k: round(float(v), 3) for k, v in self.timings_ms.items()},
        }
