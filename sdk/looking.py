"""Where to look for a hand: the one home of that policy.

:class:`LookPolicy` decides which crops the models run on; the stages
(:mod:`handsdk.stages`) run them and the tracker (:mod:`handsdk.tracking`)
keeps the tracks:

* a detector box taller or wider than ``zoom_above`` of the frame is looked
  at again at the detector's full resolution, and a box ``split_aspect``
  times as wide as tall is tried as two halves (:meth:`LookPolicy.detections`);
* a new hand's crop is upright for a landmarker trained on upright crops
  (``align``): in one pass where the detector read the hand's angle (its
  anchors), else in two, turned by the first pass's keypoints or rotation
  head (:meth:`LookPolicy.new_hand`);
* a tracked hand's next crop follows its keypoints (:meth:`LookPolicy.next_crop`).

numpy only: no model, no OpenCV.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .checks import check_bool
from .decode import DetectorDecoding, check_split_aspect, check_zoom_above
from .keypoints import aligned_box, hand_rotation, keypoints_box

__all__ = ["LOOK_AGAIN_BELOW", "LookPolicy", "next_box", "upright_crop"]

#: a big or wide detector box (``zoom_above``, ``split_aspect``) whose landmarks
#: have at least this presence is not looked at again: nothing found inside
#: could be surer (an int8 landmarker saturates at 0.996), and close-ups, whose
#: hand fills the frame, pay nothing for it
LOOK_AGAIN_BELOW = 0.99


def next_box(keypoints, prev_box, max_shrink: float = 0.8, rotation: float = 0.0) -> np.ndarray:
    """The box to crop the next frame from: the keypoints' box (aligned with
    ``rotation`` when non-zero), but shrinking by at most ``max_shrink`` per
    frame (keypoints that drift inwards would otherwise shrink the crop, which
    makes them drift further), and never below the previous box's size when
    the keypoints collapsed (below 0.3 of it: a box of the previous size
    around their mean)."""
    kb = aligned_box(keypoints, rotation) if rotation else keypoints_box(keypoints)
    s = max(kb[2] - kb[0], kb[3] - kb[1], 1e-3)
    prev = max(prev_box[2] - prev_box[0], prev_box[3] - prev_box[1])
    if s >= max_shrink * prev:
        return kb
    c = (kb[:2] + kb[2:]) / 2 if s >= 0.3 * prev else keypoints[:, :2].mean(axis=0)
    f = max_shrink * prev / s if s >= 0.3 * prev else None
    if f is None:
        return np.array([c[0] - prev / 2, c[1] - prev / 2, c[0] + prev / 2, c[1] + prev / 2], np.float32)
    half = (kb[2:] - kb[:2]) / 2 * f
    return np.array([c[0] - half[0], c[1] - half[1], c[0] + half[0], c[1] + half[1]], np.float32)


def upright_crop(keypoints, box, min_frac: float = 0.6, rotation: float | None = None) -> tuple[np.ndarray, float]:
    """The crop of an upright-crop landmarker's second pass: ``(box,
    rotation)`` from the first pass's keypoints in ``box`` (``rotation``: the
    angle to turn by when the landmarker read it itself, else the keypoints'
    :func:`~handsdk.keypoints.hand_rotation`). Keypoints that collapsed must
    not shrink the crop below ``min_frac`` of the box's larger side (the crop
    is grown about its centre)."""
    rot = hand_rotation(keypoints) if rotation is None else float(rotation)
    ab = aligned_box(keypoints, rot)
    s, want = max(ab[2] - ab[0], ab[3] - ab[1]), min_frac * max(box[2] - box[0], box[3] - box[1])
    if s < want:
        c, f = (ab[:2] + ab[2:]) / 2, want / max(s, 1e-3)
        half = np.maximum((ab[2:] - ab[:2]) / 2 * f, 1e-3)
        ab = np.concatenate([c - half, c + half]).astype(np.float32)
    return ab, rot


#: ``detect(region=None)``: the detector on this frame, or on ``region`` (x0,
#: y0, x1, y1, frame pixels) at its full resolution (a :class:`handsdk.stages.Detection`)
Detect = Callable[..., object]
#: ``landmark(box, detection=...)``: a new hand's landmarks in ``box`` (a
#: :class:`handsdk.stages.Landmarks`)
LandmarkNew = Callable[..., object]
#: ``run(box, rotation)``: one landmarker pass on the crop of ``box`` turned by ``rotation``
RunCrop = Callable[[np.ndarray, float], object]


@dataclass(frozen=True)
class LookPolicy:
    """Where the models look for a hand, validated at construction.

    zoom_above: a detector box taller or wider than this fraction of the frame
        may be zoomed into (0: off). split_aspect: a box at least this many
        times as wide as tall may be split in two (0: off). align: the
        landmarker was trained on upright crops. :meth:`from_bundle` reads
        them from a bundle's decoding (options override the first two)."""

    zoom_above: float = 0.0
    split_aspect: float = 0.0
    align: bool = False

    def __post_init__(self):
        object.__setattr__(self, "zoom_above", check_zoom_above(self.zoom_above))
        object.__setattr__(self, "split_aspect", check_split_aspect(self.split_aspect))
        object.__setattr__(self, "align", check_bool("align", self.align))

    @classmethod
    def from_bundle(cls, bundle, *, zoom_above: float | None = None, split_aspect: float | None = None) -> "LookPolicy":
        """The policy of a :class:`~handsdk.bundle.Bundle`: its detector's
        ``decoding.zoom_above`` and ``split_aspect`` unless given, its
        landmarker's ``decoding.align``."""
        det, lm = bundle.models.get("detector"), bundle.models.get("landmarker")
        dd = DetectorDecoding.from_dict(det.decoding if det is not None else None)
        align = bool(((lm.decoding if lm is not None else None) or {}).get("align", False))
        return cls(zoom_above=dd.zoom_above if zoom_above is None else zoom_above,
                   split_aspect=dd.split_aspect if split_aspect is None else split_aspect, align=align)

    # ------------------------------------------------------------ detections
    def is_large(self, box, frame_hw) -> bool:
        """Whether ``box`` is taller or wider than ``zoom_above`` of the frame
        (always False when zooming is off)."""
        h, w = frame_hw[:2]
        return self.zoom_above > 0 and (box[3] - box[1] > self.zoom_above * h or box[2] - box[0] > self.zoom_above * w)

    def is_wide(self, box) -> bool:
        """Whether ``box`` is at least ``split_aspect`` times as wide as tall
        (always False when splitting is off)."""
        return self.split_aspect > 0 and box[2] - box[0] >= self.split_aspect * (box[3] - box[1])

    @staticmethod
    def halves(box) -> list:
        """The left and right halves of ``box``: two hands side by side (the
        two-handed signs in front of the chest or the mouth) often come out
        of the skeleton map as one wide blob."""
        x0, y0, x1, y1 = (float(v) for v in box)
        xm = (x0 + x1) / 2
        return [np.array([x0, y0, xm, y1], np.float32), np.array([xm, y0, x1, y1], np.float32)]

    @staticmethod
    def zoom_region(box, frame_hw, grow: float = 1.2) -> tuple:
        """The region to look at again for ``box``: grown by ``grow``, clipped
        to the frame. At a frame's scale the skeleton map of a person in view
        can join two hands, the face and the chest in one blob; seen 2-3x
        larger (``HandDetector.detect_rgb(rgb, region=...)``), they come apart."""
        h, w = frame_hw[:2]
        b = np.asarray(box, np.float64).reshape(-1)
        c, half = (b[:2] + b[2:]) / 2, (b[2:] - b[:2]) * grow / 2
        return (max(0.0, c[0] - half[0]), max(0.0, c[1] - half[1]), min(float(w), c[0] + half[0]),
                min(float(h), c[1] + half[1]))

    def detections(self, frame_hw, detect: Detect, landmark: LandmarkNew, min_presence: float):
        """This frame's detection, big and wide boxes looked at again: unless
        the landmarker is sure of such a box (:data:`LOOK_AGAIN_BELOW`), a big
        one is zoomed into and a wide one whose landmarks fail ``min_presence``
        is split in two; what replaces it is what the landmarker is surer is a
        hand. ``detect`` and ``landmark``: see :data:`Detect`, :data:`LandmarkNew`."""
        det = detect()
        if not any(self.is_large(b, frame_hw) or self.is_wide(b) for b in det.boxes):
            return det
        keep, out = [], det  # (box, score, mass); the maps the landmarker cuts crops from
        for b, s, m in zip(det.boxes, det.scores, det.masses):
            large, wide = self.is_large(b, frame_hw), self.is_wide(b)
            # (the tracker reuses these landmarks when the box stays)
            sure = landmark(b, detection=out).presence if large or wide else 1.0
            if sure < LOOK_AGAIN_BELOW and large:
                sub = detect(self.zoom_region(b, frame_hw))
                if len(sub.boxes):
                    zoomed = out.with_zoomed(sub)
                    if max(landmark(sb, detection=zoomed).presence for sb in sub.boxes) > sure:
                        keep += list(zip(sub.boxes, sub.scores, sub.masses))
                        out = zoomed
                        continue
            if sure < min_presence and wide:  # (one that passes stays whole, as the tracker would join it)
                halves = self.halves(b)
                if max(landmark(h, detection=out).presence for h in halves) > sure:
                    keep += [(h, s, m / 2) for h in halves]
                    continue
            keep.append((b, s, m))
        return replace(out, boxes=np.array([k[0] for k in keep], np.float32).reshape(-1, 4),
                       scores=np.array([k[1] for k in keep], np.float32),
                       masses=np.array([k[2] for k in keep], np.float32))

    # ---------------------------------------------------------------- crops
    @staticmethod
    def detector_crop(detection, box) -> tuple[np.ndarray, float] | None:
        """``(box, rotation)`` of an upright crop of the hand in ``box`` (frame
        pixels) from the detector alone: the angle its anchors read
        (``Detection.box_rotation``) and the box that angle gives the hand's
        skeleton pixels inside ``box`` (:func:`~handsdk.keypoints.aligned_box`,
        as the second pass cuts it from keypoints, so the hand fills the crop
        as in training). None without anchors or where they give no angle."""
        if detection.anchors is None:  # (a detector without anchors pays nothing here)
            return None
        rot = detection.box_rotation(box)
        if rot is None:
            return None
        pts = detection.skeleton_points(box)
        if len(pts) < 3:
            return np.asarray(box, np.float32), rot
        return aligned_box(pts, rot), rot

    def new_hand(self, box, detection, run: RunCrop):
        """A new hand's landmarks in ``box`` (a detection's, or any box; ``run``:
        see :data:`RunCrop`). An upright-crop landmarker (``align``) gets an
        upright crop: in one pass where the ``detection``'s anchors read the
        hand's angle (:meth:`detector_crop`), else in two: axis-aligned, then
        turned by the angle the first pass read (a rotation head,
        ``Landmarks.read_rotation``) or its keypoints give (:func:`upright_crop`)."""
        if not self.align:
            return run(box, 0.0)
        up = self.detector_crop(detection, box) if detection is not None else None
        if up is not None:
            return run(*up)
        first = run(box, 0.0)
        return run(*upright_crop(first.keypoints, box, rotation=first.read_rotation))

    def next_crop(self, keypoints, prev_box) -> tuple[np.ndarray, float]:
        """``(box, rotation)`` of a tracked hand's crop in the next frame, from
        this frame's raw keypoints (:func:`next_box`; upright for an
        upright-crop landmarker: the keypoints' angle)."""
        rot = hand_rotation(keypoints) if self.align else 0.0
        return next_box(keypoints, prev_box, rotation=rot), rot
