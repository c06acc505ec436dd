"""min_gesture_score per gesture set: below it, a set with a ``none`` label
reports ``none`` first (the bundle's ``min_gesture_score:<set>``, or the
option for every set); a set without one (letters) is left as ranked."""
from __future__ import annotations

import numpy as np

from conftest import red_stroke_frame

from handsdk import GestureRecognizer, GestureRecognizerOptions, load_bundle
from handsdk.bundle import GestureSet, build_bundle
from handsdk.results import Category


def _with_thresholds(bundle_bytes, tmp_path, thresholds):
    b = load_bundle(bundle_bytes)
    gs = {n: GestureSet(b.files[e.file], e.labels, kind=e.decoding.get("kind", "commands"),
                        none_label=e.decoding.get("none_label")) for n, e in b.gesture_sets.items()}
    p = tmp_path / "t.handsdk"
    build_bundle(p, detector=b.model_bytes("detector"), landmarker=b.model_bytes("landmarker"), gestures=gs,
                 detector_decoding=b.detector.decoding, landmarker_decoding=b.landmarker.decoding,
                 thresholds=dict(b.thresholds, **thresholds), name="t")
    return p


def test_per_set_thresholds_from_the_bundle_and_the_option(bundle_bytes, tmp_path):
    p = _with_thresholds(bundle_bytes, tmp_path, {"min_gesture_score:commands": 0.9, "min_gesture_score": 0.3})
    with GestureRecognizer(GestureRecognizerOptions(bundle=str(p))) as rec:
        assert rec.min_gesture_by_set == {"commands": 0.9, "letters": 0.3}
        ranked = (Category("fist", 0.6, 2), Category("none", 0.3, 0), Category("open_palm", 0.1, 1))
        gated = rec._gated("commands", ranked)
        assert [c.name for c in gated] == ["none", "fist", "open_palm"]
        assert [c.score for c in gated] == [0.3, 0.6, 0.1]  # scores unchanged
        sure = (Category("fist", 0.95, 2),) + ranked[1:]
        assert rec._gated("commands", sure) == sure
        letters = (Category("A", 0.2, 0), Category("B", 0.1, 1))
        assert rec._gated("letters", letters) == letters  # no none label: left as ranked
        # end to end: the tiny commands model is never sure (3 classes, random weights)
        res = rec.recognize(red_stroke_frame())
        for h in res.hands:
            top = h.gestures["commands"][0]
            assert top.name == "none" or top.score >= 0.9
    with GestureRecognizer(GestureRecognizerOptions(bundle=str(p), min_gesture_score=0.05)) as rec:
        assert rec.min_gesture_by_set == {"commands": 0.05, "letters": 0.05}
        ranked = (Category("fist", 0.6, 2), Category("none", 0.3, 0))
        assert rec._gated("commands", ranked) == ranked
