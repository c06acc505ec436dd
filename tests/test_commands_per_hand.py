"""Commands per human-labelled hand end to end, beside the same GestureNet on
MediaPipe's keypoints of the same hands (issue 27's gesture target), and
``GestureRecognizer.classify_keypoints`` that gives the second."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.conftest import red_stroke_frame


def _hand_kp(x0, y0, s, ring=False):
    """21 keypoints of a hand in a box at (x0, y0) of size s; ``ring``: the thumb
    tip on the index tip (an ok sign)."""
    rng = np.random.default_rng(int(x0 + y0))
    kp = np.c_[x0 + rng.uniform(0, s, 21), y0 + rng.uniform(0, s, 21), np.ones(21)].astype(np.float32)
    kp[0, :2] = (x0 + s / 2, y0 + s)  # the wrist
    kp[9, :2] = (x0 + s / 2, y0 + s / 2)  # the middle knuckle
    if ring:
        kp[8, :2] = (x0 + s / 2, y0 + s / 4)
        kp[4, :2] = kp[8, :2] + 1.0
    else:
        kp[8, :2] = (x0 + s / 2, y0)
        kp[4, :2] = (x0, y0 + s)
    return kp


class _Rec:
    """A recognizer's two faces the evaluation reads: its commands labels and
    classify_keypoints (here: ``point`` for a hand on the left half, ``fist`` else)."""

    classifiers = {"commands": SimpleNamespace(labels=("none", "fist", "point", "three", "ok"))}

    def classify_keypoints(self, kp, handedness=None):
        name = "point" if float(np.mean(kp[:, 0])) < 100 else "fist"
        return {"commands": (SimpleNamespace(name=name, score=0.9),)}


def _sdk_hand(kp, name):
    return SimpleNamespace(keypoints=kp, gestures={"commands": (SimpleNamespace(name=name, score=0.9),)})


def test_each_human_box_gets_the_sdk_hand_on_it_and_mediapipes():
    from handsdk.train.data.sample import Sample
    from handsdk.train.evaluation import _commands_per_hand, _per_hand_summary

    left, right = _hand_kp(20, 20, 60), _hand_kp(120, 20, 60)
    ok = _hand_kp(20, 120, 60, ring=True)
    lone = np.array([200, 200, 240, 240], np.float32)  # a labelled hand MediaPipe missed
    s = Sample(image=None, keypoints=np.stack([left, right, ok]), handedness=["Right", "Left", "Right"],
               extras={"human_boxes": np.array([[15, 15, 85, 85], [115, 15, 185, 85], [15, 115, 85, 185],
                                                lone, [300, 300, 340, 340]], np.float32),
                       "human_classes": ["1", "0", "3", "0", "3"]})
    table = {"0": "fist", "1": "point", "3": "3?"}
    # the SDK found the left hand (and called it fist) and the lone one, not the right one or the ok
    r = SimpleNamespace(hands=[_sdk_hand(left[:, :2] + 2, "fist"), _sdk_hand(np.c_[np.linspace(202, 238, 21),
                                                                                   np.linspace(202, 238, 21)], "fist")])
    rows = _commands_per_hand(_Rec(), s, r, table, "commands")
    # the last box is "3?" with no MediaPipe hand to tell three from ok: left out
    assert rows == [("point", "fist", "point"), ("fist", None, "fist"), ("ok", None, "point"), ("fist", "fist", None)]
    summ = _per_hand_summary(rows, "commands")
    assert summ["hands"] == 4 and summ["sdk_found"] == 2 and summ["mediapipe_found"] == 3 and summ["both_found"] == 1
    assert summ["sdk_accuracy"] == pytest.approx(0.25) and summ["mediapipe_accuracy"] == pytest.approx(0.5)
    assert summ["sdk_accuracy_both_found"] == 0.0 and summ["mediapipe_accuracy_both_found"] == 1.0
    assert _per_hand_summary([], "commands") == {"set": "commands", "hands": 0}


def test_classify_keypoints_gives_what_the_recognizer_gives_its_own_hands(bundle_path):
    from handsdk import GestureRecognizer, GestureRecognizerOptions

    with GestureRecognizer(GestureRecognizerOptions(bundle=bundle_path, min_presence_score=0.0,
                                                    min_detection_score=0.0, min_gesture_score=0.6,
                                                    color_order="BGR")) as rec:
        r = rec.recognize(red_stroke_frame())
        assert r.hands, "the tiny bundle finds the stroke"
        for h in r.hands:
            got = rec.classify_keypoints(h.keypoints, h.handedness.name)
            assert got == {k: v for k, v in h.gestures.items()}
            mirrored = rec.classify_keypoints(h.keypoints[:, :2], "Left" if h.handedness.name == "Right" else "Right")
            assert set(mirrored) == set(got)
        with pytest.raises(ValueError, match="21 finite"):
            rec.classify_keypoints(np.zeros((20, 2)))
        bad = r.hands[0].keypoints.copy()
        bad[3, 0] = np.nan
        with pytest.raises(ValueError, match="21 finite"):
            rec.classify_keypoints(bad)
        with pytest.raises(ValueError, match="handedness"):
            rec.classify_keypoints(r.hands[0].keypoints, "left")
