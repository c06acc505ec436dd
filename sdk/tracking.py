"""Hand tracking across frames.

The recognizer (:class:`handsdk.GestureRecognizer`) runs the stages;
:class:`Tracker` owns the tracks of a video: it landmarks each tracked hand
in the crop its last keypoints give (:meth:`handsdk.looking.LookPolicy.next_crop`),
decides when the detector must run (a track lost, keypoints that collapsed,
every ``redetect_interval`` frames), gives detections to the tracks they
belong to (same track id), joins detections the detector split in two,
merges duplicate tracks of one hand (:func:`same_hand`) and re-anchors crops
that shrank on a fresh detection. Where to look is :mod:`handsdk.looking`'s
to say. numpy only: no model, no OpenCV.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .boxes import box_iou, cover, overlap
from .keypoints import keypoints_box
from .looking import LookPolicy

__all__ = ["COLLAPSED", "Found", "Track", "Tracker", "gap", "same_hand", "side", "union"]

#: keypoints that shrank below this fraction of their size when the detector
#: last ran (or of a detection box around them) collapsed onto part of the
#: hand: re-detect, and landmark the hand again from the detection
COLLAPSED = 0.5


# ------------------------------------------------------------- box geometry
def side(box) -> float:
    """The larger side of a box (x0, y0, x1, y1)."""
    return float(max(box[2] - box[0], box[3] - box[1]))


def gap(a, b) -> float:
    """The distance between two boxes (0 when they overlap)."""
    dx = max(0.0, max(a[0], b[0]) - min(a[2], b[2]))
    dy = max(0.0, max(a[1], b[1]) - min(a[3], b[3]))
    return float(np.hypot(dx, dy))


def union(a, b) -> np.ndarray:
    """The box around both boxes."""
    return np.array([min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])], np.float32)


# ------------------------------------------------------------ hand geometry
def same_hand(kp_a, kp_b, box) -> bool:
    """Two keypoint sets on one hand: their boxes overlap a lot, one lies
    inside the other (keypoints that collapsed onto part of the hand), or
    their centres are closer than a quarter of the crop ``box``."""
    ka, kb = keypoints_box(kp_a), keypoints_box(kp_b)
    if box_iou(ka, kb)[0, 0] > 0.5 or overlap(ka, kb) > 0.7:
        return True
    s = max(box[2] - box[0], box[3] - box[1])
    d = np.linalg.norm(np.asarray(kp_a)[:, :2].mean(axis=0) - np.asarray(kp_b)[:, :2].mean(axis=0))
    return bool(d < 0.25 * s)


# ------------------------------------------------------------------ tracks
@dataclass
class Track:
    """One tracked hand: its last raw keypoints and the crop of the next frame
    (and, for motion gesture sets, the history of its keypoints)."""

    id: int
    keypoints: np.ndarray
    box: np.ndarray
    right_votes: list = field(default_factory=list)
    age: int = 0
    filter: object = None  # OneEuroFilter of the keypoints, when smoothing
    rotation: float = 0.0  # crop rotation (upright-crop landmarkers)
    anchor_side: float = 0.0  # size of its keypoints' box when the detector last ran
    history: object = None  # handsdk.motion.MotionHistory of its keypoints, when a motion set runs

    @property
    def right_score(self) -> float:
        """P(Right) over the last frames' votes."""
        return float(np.mean(self.right_votes))


@dataclass
class Found:
    """A hand found in this frame: its landmarks, its track (None for a new
    hand, or in IMAGE mode), the detection score (None when tracked) and the
    crop box it was landmarked in."""

    landmarks: object  # handsdk.stages.Landmarks
    track: Track | None
    score: float | None
    box: np.ndarray


#: ``landmark(box, detection=None, prior_keypoints=None, rotation=None)``:
#: the landmarker on the current frame (``HandLandmarker.landmark_rgb`` with the
#: frame bound)
Landmark = Callable[..., object]


class Tracker:
    """The hands of a video across frames.

    max_hands: at most this many hands. min_presence: a detection whose
    landmarks are below it is no hand. min_tracking_presence (None: as
    min_presence; never above it): a tracked hand, or a detection where a
    track was just lost, is kept while its landmarks stay at least this.
    redetect_interval: run the detector at least every this many frames (0:
    only when tracking needs it).

    :meth:`step` finds this frame's hands and updates the tracks;
    :attr:`tracks`, :attr:`tracks_lost` and :attr:`tracks_merged` say how it
    went; :meth:`reset` forgets everything (a new video).
    """

    def __init__(self, *, max_hands: int = 2, min_presence: float = 0.5, redetect_interval: int = 10,
                 min_tracking_presence: float | None = None):
        self.max_hands = int(max_hands)
        self.min_presence = float(min_presence)
        self.min_tracking_presence = min(self.min_presence, float(
            self.min_presence if min_tracking_presence is None else min_tracking_presence))
        self.redetect_interval = int(redetect_interval)
        self.tracks: list[Track] = []
        self.next_id = 1
        self.frames_since_detect = 0
        self.tracks_lost = 0
        self.tracks_merged = 0  # duplicate tracks of one hand merged into one

    def reset(self):
        """Forget the tracks (the ids go on counting)."""
        self.tracks.clear()
        self.frames_since_detect = 0

    def step(self, landmark: Landmark, detect: Callable[[], object], *, tracking: bool = True,
             look: LookPolicy = LookPolicy()) -> list[Found]:
        """This frame's hands, in order. ``landmark``: the landmarker on this
        frame (see :data:`Landmark`); ``detect()``: the detector on this frame
        (a :class:`handsdk.stages.Detection`). Without ``tracking`` (IMAGE
        mode) every frame is detected and no track is kept. ``look``: where
        each track's next crop is (:meth:`~handsdk.looking.LookPolicy.next_crop`;
        the default: axis-aligned)."""
        return _Frame(self, landmark).run(detect, tracking, look)

    def _update(self, found: list[Found], det, detected: bool, look: LookPolicy):
        """Tracks follow this frame's hands (new hands get new ids)."""
        new_tracks = []
        for f in found:
            lm, track, box = f.landmarks, f.track, f.box
            kp = lm.keypoints
            if track is None:
                track = Track(id=self.next_id, keypoints=kp, box=np.asarray(box, np.float32))
                self.next_id += 1
                f.track = track
            track.box, track.rotation = look.next_crop(kp, track.box)  # follows the raw keypoints
            if det is not None and len(det.boxes):
                # a fresh detection of this hand re-anchors a crop that shrank
                j = int(np.argmax(box_iou(track.box, det.boxes)[0]))
                db = det.boxes[j]
                if (box_iou(track.box, db)[0, 0] > 0.2 or overlap(track.box, db) > 0.7) and side(db) > side(track.box):
                    track.box = np.asarray(db, np.float32)
            if detected:
                track.anchor_side = side(keypoints_box(kp))
            track.keypoints = kp
            track.right_votes = (track.right_votes + [lm.right_score])[-15:]
            track.age += 1
            new_tracks.append(track)
        self.tracks = new_tracks


class _Frame:
    """One frame of a :class:`Tracker`: the hands found so far and the tracks
    lost in it."""

    def __init__(self, tracker: Tracker, landmark: Landmark):
        self.t = tracker
        self.raw = landmark
        self.found: list[Found] = []
        self.lost: list[Track] = []

    def landmark(self, box, det, prior, rotation=None, exclude=None, tracked: bool = False):
        """Landmarks in ``box``, or None: too small a box, no hand (below
        ``min_tracking_presence`` for a ``tracked`` hand, else ``min_presence``),
        or a hand already found (two tracks, or a track and a detection, on one hand)."""
        if box[2] - box[0] < 2 or box[3] - box[1] < 2:
            return None
        lm = self.raw(box, detection=det, prior_keypoints=prior, rotation=rotation)
        if lm.presence < (self.t.min_tracking_presence if tracked else self.t.min_presence):
            return None
        if any(same_hand(lm.keypoints, f.landmarks.keypoints, box) for j, f in enumerate(self.found) if j != exclude):
            return None
        return lm

    def owner_of(self, box):
        """The tracked hand a detection box belongs to: the box overlaps its
        crop, or most of its keypoints' box lies inside the box."""
        for j, f in enumerate(self.found):
            if f.track is not None and (box_iou(box, f.box)[0, 0] > 0.3
                                        or cover(keypoints_box(f.landmarks.keypoints), box) > 0.5):
                return j
        return None

    def merge_parts(self, box, det, score) -> bool:
        """A detection next to a hand already found may be another part of
        that hand (the detector split it in two): landmark the union of both;
        when its keypoints cover both, it is one hand (same track)."""
        for j, f in enumerate(self.found):
            kb = keypoints_box(f.landmarks.keypoints)
            if gap(box, kb) > 0.25 * max(side(box), side(kb)):
                continue
            u = union(box, kb)
            lm = self.landmark(u, det, None, exclude=j, tracked=f.track is not None)
            if lm is None:
                continue
            ku = keypoints_box(lm.keypoints)
            if cover(box, ku) > 0.5 and cover(kb, ku) > 0.5:
                self.found[j] = Found(lm, f.track, float(score) if f.score is None else max(f.score, float(score)), u)
                return True
        return False

    def joined_boxes(self, det):
        """The detector may split one hand into two neighbouring boxes: when the
        landmarks of their union cover both, they are one hand."""
        boxes = [(np.asarray(b, np.float32), float(sc)) for b, sc in zip(det.boxes, det.scores)]
        i = 0
        while i < len(boxes):
            j = i + 1
            while j < len(boxes):
                a, b = boxes[i][0], boxes[j][0]
                if gap(a, b) <= 0.25 * max(side(a), side(b)):
                    u = union(a, b)
                    lm = self.raw(u, detection=det, prior_keypoints=None, rotation=None)
                    ku = keypoints_box(lm.keypoints)
                    if lm.presence >= self.t.min_presence and cover(a, ku) > 0.5 and cover(b, ku) > 0.5:
                        boxes[i] = (u, max(boxes[i][1], boxes[j][1]))
                        del boxes[j]
                        j = i + 1
                        continue
                j += 1
            i += 1
        return boxes

    def from_detections(self, det):
        found, lost = self.found, self.lost
        for box, score in self.joined_boxes(det) if len(det.boxes) > 1 else zip(det.boxes, det.scores):
            j = self.owner_of(box)
            if j is not None:
                # a hand already tracked, not a new one; if its keypoints collapsed onto
                # part of it, landmark it again from the detection (same track id)
                lm_j, tr = found[j].landmarks, found[j].track
                if side(keypoints_box(lm_j.keypoints)) < COLLAPSED * side(box):
                    lm = self.landmark(box, det, None, exclude=j, tracked=tr is not None)
                    if lm is not None and side(keypoints_box(lm.keypoints)) > side(keypoints_box(lm_j.keypoints)):
                        found[j] = Found(lm, tr, float(score), box)
                # other tracks inside this one detection are parts of the same hand: merge them
                if cover(keypoints_box(found[j].landmarks.keypoints), box) > 0.5:
                    for k in reversed(range(len(found))):
                        if k != j and cover(keypoints_box(found[k].landmarks.keypoints), box) > 0.5:
                            del found[k]
                            self.t.tracks_merged += 1
                            j -= k < j
                continue
            if self.merge_parts(box, det, score):
                continue
            if len(found) >= self.t.max_hands:
                break
            # a detection where a track was just lost keeps that track's id (and, being
            # that hand found again, needs only the tracking presence)
            heir = None
            if lost:
                best = max(lost, key=lambda tr: box_iou(box, tr.box)[0, 0])
                if box_iou(box, best.box)[0, 0] > 0.2:
                    heir = best
            lm = self.landmark(box, det, None, tracked=heir is not None)
            if lm is None:
                continue
            if heir is not None:
                lost.remove(heir)
            found.append(Found(lm, heir, float(score), box))

    def run(self, detect, tracking: bool, look: LookPolicy) -> list[Found]:
        t = self.t
        if tracking:
            for tr in list(t.tracks)[: t.max_hands]:
                lm = self.landmark(tr.box, None, tr.keypoints, tr.rotation, tracked=True)
                if lm is None:
                    self.lost.append(tr)
                    t.tracks_lost += 1  # (a detection in this frame may recover it, same id)
                else:
                    self.found.append(Found(lm, tr, None, tr.box))
        # re-detect when tracking lost a hand, to find new hands, and every
        # redetect_interval frames anyway (it also re-anchors the tracks' crops)
        collapsed = any(f.track is not None
                        and side(keypoints_box(f.landmarks.keypoints)) < COLLAPSED * f.track.anchor_side
                        for f in self.found)
        need_detect = not tracking or not self.found or bool(self.lost) or collapsed or (
            t.redetect_interval and t.frames_since_detect >= t.redetect_interval)
        det = None
        if need_detect:
            det = detect()
            t.frames_since_detect = 0
            self.from_detections(det)
        else:
            t.frames_since_detect += 1
        if tracking:
            t._update(self.found, det, need_detect, look)
        return self.found
