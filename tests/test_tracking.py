"""handsdk.tracking and handsdk.looking's crops on synthetic boxes and
keypoints (no model): the next crop, same-hand tests, the upright crop's
collapse guard, and the Tracker's decisions (re-detection, lost tracks
keeping their ids, duplicate merging)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from handsdk.boxes import cover, overlap
from handsdk.looking import LookPolicy, next_box, upright_crop
from handsdk.tracking import COLLAPSED, Found, Track, Tracker, gap, same_hand, side, union


def hand(box):
    """21 keypoints on a 7x3 grid filling ``box``."""
    x0, y0, x1, y1 = box
    g = np.stack(np.meshgrid(np.linspace(x0, x1, 7), np.linspace(y0, y1, 3)), -1).reshape(-1, 2)
    return np.concatenate([g, np.zeros((21, 1))], 1).astype(np.float32)


def test_box_geometry():
    a, b = np.array([0, 0, 10, 10.0]), np.array([5, 0, 25, 10.0])
    assert side(np.array([0, 0, 4, 9.0])) == 9.0
    assert overlap(a, b) == pytest.approx(0.5) and overlap(a, np.array([2, 2, 4, 4.0])) == 1.0
    assert cover(a, b) == pytest.approx(0.5) and cover(b, a) == pytest.approx(0.25)
    assert gap(a, b) == 0.0 and gap(a, np.array([13, 14, 20, 20.0])) == pytest.approx(5.0)
    np.testing.assert_array_equal(union(a, b), [0, 0, 25, 10])
    assert overlap(a, np.array([3, 3, 3, 3.0])) == 0.0  # an empty box overlaps nothing


def test_same_hand():
    box = np.array([100, 100, 200, 200], np.float32)
    kp = hand((100, 100, 200, 200))
    assert same_hand(kp, kp + [5, 5, 0], box)  # boxes overlap a lot
    assert same_hand(kp, hand((120, 120, 150, 150)), box)  # one inside the other (collapsed)
    assert not same_hand(kp, hand((260, 100, 360, 200)), box)  # a hand beside it
    dot = np.tile([[150.0, 150.0, 0.0]], (21, 1)).astype(np.float32)
    assert same_hand(dot, dot + [20, 0, 0], box)  # centres within a quarter of the crop
    assert not same_hand(dot, dot + [30, 0, 0], box)


def test_next_box_shrinks_gradually_and_keeps_rotation():
    prev = np.array([100, 100, 200, 200], np.float32)
    np.testing.assert_allclose(next_box(hand((90, 95, 210, 205)), prev), [90, 95, 210, 205])  # grows at once
    b = next_box(hand((140, 140, 160, 160)), prev)  # 0.2 of the size: collapsed -> previous size about the mean
    assert side(b) == pytest.approx(100) and np.allclose((b[:2] + b[2:]) / 2, 150)
    r = next_box(hand((100, 100, 200, 200)), prev, rotation=np.pi / 2)
    assert side(r) == pytest.approx(100)


def test_upright_crop_guards_collapsed_keypoints():
    box = np.array([0, 0, 100, 100], np.float32)
    ab, rot = upright_crop(hand((10, 10, 90, 90)), box)
    assert side(ab) >= 60 - 1e-3 and np.isfinite(rot)
    ab, _ = upright_crop(hand((48, 48, 52, 52)), box)  # collapsed: grown to 0.6 of the box about its centre
    assert side(ab) == pytest.approx(60, rel=1e-4) and np.allclose((ab[:2] + ab[2:]) / 2, 50, atol=1e-3)


def test_look_policy_is_validated_once_and_read_from_a_bundle():
    for bad in (dict(zoom_above=1.5), dict(split_aspect=0.5), dict(align="yes")):
        with pytest.raises(ValueError, match=next(iter(bad))):
            LookPolicy(**bad)
    entry = lambda dec: SimpleNamespace(decoding=dec)  # noqa: E731
    b = SimpleNamespace(models={"detector": entry({"zoom_above": 0.4, "split_aspect": 1.5}),
                                "landmarker": entry({"align": True})})
    assert LookPolicy.from_bundle(b) == LookPolicy(0.4, 1.5, True)
    assert LookPolicy.from_bundle(b, zoom_above=0, split_aspect=2) == LookPolicy(0.0, 2.0, True)
    assert LookPolicy.from_bundle(SimpleNamespace(models={})) == LookPolicy()  # the defaults: off, axis-aligned


def test_next_crop_is_upright_only_for_an_upright_landmarker():
    from handsdk.keypoints import hand_rotation

    prev = np.array([100, 100, 200, 200], np.float32)
    kp = hand((100, 90, 180, 210))
    box, rot = LookPolicy().next_crop(kp, prev)
    assert rot == 0.0 and np.array_equal(box, next_box(kp, prev))
    box, rot = LookPolicy(align=True).next_crop(kp, prev)
    assert rot == hand_rotation(kp) != 0.0 and np.array_equal(box, next_box(kp, prev, rotation=rot))


def test_a_new_hands_crop_takes_two_passes_on_an_upright_landmarker_unless_the_detector_read_its_angle():
    box = np.array([0, 0, 100, 100], np.float32)
    passes = []

    def run(b, rotation, read=None):
        passes.append((np.asarray(b, np.float32), rotation))
        return SimpleNamespace(keypoints=hand((20, 10, 80, 90)), read_rotation=read)

    LookPolicy().new_hand(box, None, run)
    assert len(passes) == 1 and passes[0][1] == 0.0  # axis-aligned: one pass
    passes.clear()
    LookPolicy(align=True).new_hand(box, SimpleNamespace(anchors=None), run)  # no anchors: two passes
    ab, rot = upright_crop(hand((20, 10, 80, 90)), box)
    assert [p[1] for p in passes] == [0.0, rot] and np.array_equal(passes[1][0], ab)
    passes.clear()
    LookPolicy(align=True).new_hand(box, None, lambda b, r: run(b, r, read=0.7))  # a rotation head's angle
    assert [p[1] for p in passes] == [0.0, 0.7]


def test_a_tracker_crops_as_its_look_says():
    from handsdk.keypoints import hand_rotation

    t = Tracker(max_hands=1, redetect_interval=0)
    step(t, s := Scene([(100, 90, 180, 210)]), look=LookPolicy(align=True))
    tr = t.tracks[0]
    assert tr.rotation == hand_rotation(tr.keypoints) != 0.0
    turns = []
    s.landmark = lambda box, detection=None, prior_keypoints=None, rotation=None: turns.append(rotation) or \
        Scene.landmark(s, box, detection, prior_keypoints, rotation)
    step(t, s, look=LookPolicy(align=True))
    assert turns[0] == tr.rotation  # the tracked crop is turned as the last keypoints said


# ------------------------------------------------------------------ Tracker
class Scene:
    """A fake frame: the landmarker sees the true hand whose box overlaps the
    crop well (IoU > 0.45), with high presence; the detector returns the given
    boxes."""

    def __init__(self, hands, det_boxes=None):
        self.hands = [np.asarray(h, np.float32) for h in hands]
        self.det_boxes = self.hands if det_boxes is None else [np.asarray(b, np.float32) for b in det_boxes]
        self.landmark_calls, self.detect_calls = 0, 0

    def landmark(self, box, detection=None, prior_keypoints=None, rotation=None):
        from handsdk.boxes import box_iou

        self.landmark_calls += 1
        ious = [box_iou(box, h)[0, 0] for h in self.hands]
        best = int(np.argmax(ious)) if ious else None
        ok = best is not None and ious[best] > 0.45
        kp = hand(self.hands[best]) if ok else hand(box)
        return SimpleNamespace(keypoints=kp, presence=0.9 if ok else 0.1, right_score=0.8)

    def detect(self):
        self.detect_calls += 1
        b = np.array(self.det_boxes, np.float32).reshape(-1, 4)
        return SimpleNamespace(boxes=b, scores=np.full(len(b), 0.9, np.float32))


def step(tracker, scene, **kw):
    return tracker.step(scene.landmark, scene.detect, tracking=kw.pop("tracking", True), **kw)


def test_tracker_follows_hands_and_redetects_on_schedule():
    t = Tracker(max_hands=2, redetect_interval=3)
    boxes = [(40, 40, 120, 140), (200, 40, 280, 140)]
    found = step(t, s := Scene(boxes))
    assert s.detect_calls == 1 and [f.track.id for f in found] == [1, 2]
    assert all(isinstance(f, Found) and f.score == pytest.approx(0.9) for f in found)
    detects = []
    for i in range(6):
        s = Scene([np.add(b, 2 * (i + 1)) for b in boxes])
        found = step(t, s)
        detects.append(s.detect_calls)
        assert [f.track.id for f in found] == [1, 2] and all(f.score is None or s.detect_calls for f in found)
    assert detects == [0, 0, 0, 1, 0, 0]  # every redetect_interval frames
    assert [tr.id for tr in t.tracks] == [1, 2] and all(tr.age == 7 for tr in t.tracks)
    assert t.tracks[0].right_score == pytest.approx(0.8)
    t.reset()
    assert t.tracks == [] and step(t, Scene(boxes))[0].track.id == 3  # ids go on counting


def test_a_lost_track_is_redetected_with_its_id_and_a_far_hand_is_new():
    t = Tracker(max_hands=1, redetect_interval=0)
    step(t, Scene([(100, 60, 180, 160)]))
    s = Scene([(130, 70, 210, 170)])  # a jump: the old crop misses it, the detection takes its id
    found = step(t, s)
    assert s.detect_calls == 1 and t.tracks_lost == 1 and [f.track.id for f in found] == [1]
    found = step(t, Scene([(10, 10, 70, 90)]))  # far away: a new hand
    assert t.tracks_lost == 2 and [f.track.id for f in found] == [2]


class Sure(Scene):
    """A Scene whose hand has a given presence (from a detection box, or on the tracked crop)."""

    def __init__(self, hands, detected: float, tracked: float):
        super().__init__(hands)
        self.p = {True: detected, False: tracked}

    def landmark(self, box, detection=None, prior_keypoints=None, rotation=None):
        lm = super().landmark(box, detection, prior_keypoints, rotation)
        if lm.presence > 0.5:
            lm.presence = self.p[detection is not None]
        return lm


def test_a_new_hand_must_be_surer_than_a_tracked_one():
    t = Tracker(max_hands=1, redetect_interval=0, min_presence=0.95, min_tracking_presence=0.7)
    box = (100, 60, 180, 160)
    assert step(t, Sure([box], detected=0.9, tracked=0.9)) == []  # a new hand at 0.9: not sure enough
    assert step(t, Sure([box], detected=0.9, tracked=0.9), tracking=False) == []  # IMAGE mode: every hand is new
    assert [f.track.id for f in step(t, Sure([box], detected=0.97, tracked=0.97))] == [1]
    assert [f.track.id for f in step(t, Sure([box], detected=0.8, tracked=0.8))] == [1]  # tracked at 0.8: kept
    # lost on the tracked crop (0.6), found again by the detector where it was lost at 0.8: same hand, same id
    s = Sure([(110, 60, 190, 160)], detected=0.8, tracked=0.6)
    assert [f.track.id for f in step(t, s)] == [1] and s.detect_calls == 1 and t.tracks_lost == 1
    # a detection far from any lost track is a new hand: 0.8 is not enough
    t.reset()
    assert step(t, Sure([(10, 10, 70, 90)], detected=0.8, tracked=0.8)) == []
    # never above min_presence; None: the same
    assert Tracker(min_presence=0.6, min_tracking_presence=0.9).min_tracking_presence == 0.6
    assert Tracker(min_presence=0.6).min_tracking_presence == 0.6


def test_image_mode_keeps_no_tracks():
    t = Tracker(max_hands=2)
    for _ in range(2):
        s = Scene([(40, 40, 120, 140)])
        found = step(t, s, tracking=False)
        assert s.detect_calls == 1 and [f.track for f in found] == [None]
    assert t.tracks == [] and t.next_id == 1


def test_duplicate_tracks_of_one_hand_merge_under_one_detection():
    t = Tracker(max_hands=2, redetect_interval=1)
    # two tracks on the two halves of one hand (as after a split detection)
    t.tracks = [Track(1, hand((100, 100, 150, 200)), np.array([100, 100, 150, 200], np.float32)),
                Track(2, hand((150, 100, 200, 200)), np.array([150, 100, 200, 200], np.float32))]
    t.next_id, t.frames_since_detect = 3, 5
    s = Scene([(100, 100, 150, 200), (150, 100, 200, 200)], det_boxes=[(95, 95, 205, 205)])
    found = step(t, s)
    assert s.detect_calls == 1 and t.tracks_merged == 1
    assert [f.track.id for f in found] == [1] and [tr.id for tr in t.tracks] == [1]
    # the detection re-anchors the crop that was only half the hand
    assert side(t.tracks[0].box) == pytest.approx(110)


def test_collapsed_keypoints_force_a_redetection():
    t = Tracker(max_hands=1, redetect_interval=0)
    step(t, Scene([(100, 100, 200, 200)]))
    assert t.tracks[0].anchor_side == pytest.approx(100)
    small = (140, 140, 160, 160)  # keypoints collapsed to a fifth of their size

    class Collapsing(Scene):
        def landmark(self, box, detection=None, prior_keypoints=None, rotation=None):
            if detection is None:
                self.landmark_calls += 1
                return SimpleNamespace(keypoints=hand(small), presence=0.9, right_score=0.8)
            return super().landmark(box, detection, prior_keypoints, rotation)

    s = Collapsing([(100, 100, 200, 200)])
    found = step(t, s)
    assert 20 < COLLAPSED * 100
    assert s.detect_calls == 1 and [f.track.id for f in found] == [1]
    assert side(np.r_[found[0].landmarks.keypoints[:, :2].min(0), found[0].landmarks.keypoints[:, :2].max(0)]) == \
        pytest.approx(100)  # landmarked again from the detection, same track
