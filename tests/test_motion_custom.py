"""Custom motion gestures (issue 29.4): `handsdk capture --motion` records
takes of a labelled motion, `handsdk train gesture --data` trains a motion
set from them and adds it to a bundle."""
from __future__ import annotations

import json

import numpy as np
import pytest

from handsdk.capture import HISTORY_FILE, capture_motion, is_motion_dataset, read_motion_dataset


def _path(kind, rng):
    """Two custom motions: a knock (two quick down-up taps) and a flick (one
    quick short stroke up and to the right), in hand sizes."""
    from handsdk.train.synth import motion as SM

    if kind == "knock":
        t = SM._grid(0.6)
        y = 0.35 * np.abs(np.sin(2 * np.pi * t / 0.6)) * rng.uniform(0.8, 1.2)
        return SM._path(t, np.stack([0.02 * np.sin(7 * t), y], 1), "knock")
    t = SM._grid(rng.uniform(0.15, 0.25))
    u = SM._minjerk(t / t[-1])
    d = np.array([0.7, -0.7]) * rng.uniform(0.8, 1.2)
    return SM._path(t, u[:, None] * d, "flick")


def _take(kind, rng, n=2):
    """(times_ms, keypoints) of a 3 s take: the hand held, the motion ``n`` times."""
    from handsdk.train.synth import motion as SM

    hands = SM.SynthHands(rng, "Right")
    cur = hands.add("commands", "fist" if kind == "knock" else "point")
    segs = [SM.Segment("hold", rng.uniform(0.3, 0.6))]
    for _ in range(n):
        if kind != "none":
            segs += [SM.Segment("path", path=_path(kind, rng)), SM.Segment("hold", rng.uniform(0.5, 0.8))]
        else:
            segs += [SM.Segment("trans", 0.4, SM._random_shape(hands, rng)), SM.Segment("hold", 0.6)]
    tk = SM.build_take(hands, segs, rng, SM.Camera(fps=30, jitter=0.05, hand_px=120, noise=0.008), start_shape=cur)
    return tk.times_ms, tk.keypoints


class KeypointRecognizer:
    """Stands in for the recognizer (the tiny test landmarker cannot track a
    moving rendered hand): the hand of each frame, tracked as one hand."""

    def __init__(self, keypoints):
        self.kp = list(keypoints)
        self.i = 0

    def recognize(self, frame, timestamp_ms=None):
        from handsdk.results import Category, Hand, RecognitionResult

        kp = np.zeros((21, 3), np.float32)
        kp[:, :2] = self.kp[min(self.i, len(self.kp) - 1)]
        self.i += 1
        hand = Hand(box=np.r_[kp[:, :2].min(0), kp[:, :2].max(0)], keypoints=kp, keypoints_normalized=kp / 640,
                    presence=1.0, handedness=Category("Right", 1.0, 1), track_id=1)
        return RecognitionResult((hand,), (640, 480), timestamp_ms, {})

    def close(self):
        pass


@pytest.fixture(scope="module")
def motion_data(tmp_path_factory):
    rng = np.random.default_rng(3)
    root = tmp_path_factory.mktemp("moves") / "my_moves"
    blank = np.zeros((48, 64, 3), np.uint8)
    for label in ("knock", "flick", "none"):
        for i in range(6):
            t, kp = _take(label, rng)
            frames = [(blank, float(ts)) for ts in t]
            rep = capture_motion(iter(frames), root, label, recognizer=KeypointRecognizer(kp), take_seconds=10.0,
                                 progress=None)
            assert rep.error is None and rep.added == {label: 1}, rep
    return root


def test_capture_motion_writes_takes(motion_data):
    assert is_motion_dataset(motion_data)
    takes = read_motion_dataset(motion_data)
    assert sorted({t.label for t in takes}) == ["flick", "knock", "none"] and len(takes) == 18
    line = json.loads((motion_data / "knock" / HISTORY_FILE).read_text().splitlines()[0])
    assert line["label"] == "knock" and len(line["times_ms"]) == len(line["keypoints"]) > 60
    assert np.all(np.diff(line["times_ms"]) > 0)


def test_capture_motion_splits_takes_and_drops_short_ones(tmp_path):
    rng = np.random.default_rng(0)
    t, kp = _take("knock", rng, n=3)  # ~3.3 s
    frames = [(np.zeros((8, 8, 3), np.uint8), float(ts)) for ts in t]
    rep = capture_motion(iter(frames), tmp_path / "d", "knock", recognizer=KeypointRecognizer(kp), take_seconds=1.0,
                         progress=None)
    takes = read_motion_dataset(tmp_path / "d")
    assert rep.added["knock"] == len(takes) == int(np.ceil((t[-1] - t[0]) / 1033)) >= 3  # a take per second
    assert all(950 <= tk.times_ms[-1] - tk.times_ms[0] <= 1050 for tk in takes[:-1])
    assert sum(len(tk.times_ms) for tk in takes) == len(t)  # every frame in one take
    with pytest.raises(Exception, match="label"):
        capture_motion(iter(frames), tmp_path / "d", "../x", recognizer=KeypointRecognizer(kp))


def test_take_gestures_finds_each_performance():
    from handsdk.train.models.motion.custom import take_gestures

    rng = np.random.default_rng(1)
    t, kp = _take("flick", rng, n=2)
    segs = take_gestures(t, kp)
    assert len(segs) == 2 and all(100 <= b - a <= 500 for a, b in segs)
    t, kp = _take("none", rng, n=1)
    assert len(take_gestures(t, kp)) <= 1  # (a change of hand shape moves the fingers, not the hand)


@pytest.mark.slow
def test_train_a_motion_set_into_a_bundle(motion_data, bundle_path, bundle_bytes, tmp_path):
    pytest.importorskip("tf_keras")
    from handsdk.bundle import load_bundle
    from handsdk.motion import MotionClassifier
    from handsdk.train.custom import CustomTrainingError, train_from_cli

    out = tmp_path / "mine.handsdk"
    lines = []
    rep = train_from_cli(motion_data, bundle_path, out, "moves",
                         {"epochs": 25, "time_budget_s": 60, "synthetic_negatives": 60, "threads": 1},
                         echo=lines.append)
    assert rep["labels"] == ["none", "flick", "knock"] and rep["movements"]["knock"] >= 10
    print("\n".join(lines))
    assert rep["validation"]["macro_f1"] >= 0.7, (rep["validation"], lines)
    new, base = load_bundle(out), load_bundle(bundle_bytes)
    for role in base.models:  # the base's models and sets, byte for byte
        assert new.model_bytes(role) == base.model_bytes(role)
    e = new.gesture_sets["moves"]
    assert e.decoding["kind"] == "motion" and e.quantization == rep["quantization"]
    clf = MotionClassifier(out, "moves")  # the converted model, reloaded and run
    t, kp = _take("knock", np.random.default_rng(9), n=1)
    assert clf.read(t, kp).categories[0].name in clf.labels
    with pytest.raises(CustomTrainingError, match="unknown option for a motion set"):
        train_from_cli(motion_data, bundle_path, out, "moves", {"examples_per_epoch": 5})
