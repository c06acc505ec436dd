"""End-to-end runtime tests on the tiny test bundle."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest

import handsdk
from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
from tests.conftest import red_stroke_frame


def test_detector_finds_the_red_stroke_at_any_frame_shape(bundle_path):
    det = handsdk.HandDetector(bundle_path)
    for h, w, box in [(240, 320, (100, 60, 180, 160)), (480, 640, (300, 100, 460, 300)),
                      (200, 120, (20, 40, 100, 150))]:
        frame = red_stroke_frame(h, w, box)
        d = det.detect(frame)
        assert len(d.boxes) == 1, (h, w, d)
        b = d.boxes[0]
        # the box covers the stroke, to within the map's coarse resolution
        cell = max(h / 48, w / 64) * 2
        assert b[0] <= box[0] + cell and b[1] <= box[1] + cell
        assert b[2] >= box[2] - cell and b[3] >= box[3] - cell
        assert (b[2] - b[0]) < 1.6 * (box[2] - box[0]) + 2 * cell


def test_detector_finds_nothing_in_a_plain_frame(bundle_path):
    det = handsdk.HandDetector(bundle_path)
    d = det.detect(np.full((120, 160, 3), 90, np.uint8))
    assert len(d.boxes) == 0 and d.scores.shape == (0,)


def test_landmarker_maps_heatmap_peaks_back_to_the_frame(bundle_path):
    lm = handsdk.HandLandmarker(bundle_path)
    dot = (150, 100)
    frame = red_stroke_frame(240, 320, green_at=dot)
    res = lm.landmark(frame, (110, 70, 190, 150))
    assert res.keypoints.shape == (21, 3)
    # the crop is 1.4 x 80 px at 32 px: one heatmap cell is 7 px of the frame
    err = np.abs(res.keypoints[:, :2] - np.array(dot)).max()
    assert err < 7.5, res.keypoints[:3]
    assert 0.9 < res.presence <= 1.0
    assert res.handedness.name in ("Left", "Right")


def test_landmarker_rejects_bad_boxes(bundle_path):
    lm = handsdk.HandLandmarker(bundle_path)
    with pytest.raises(ValueError, match="box"):
        lm.landmark(red_stroke_frame(), (10, 10, 5, 50))
    with pytest.raises(ValueError, match="box"):
        lm.landmark(red_stroke_frame(), (0, 0, np.nan, 5))


def test_gesture_classifier_uses_the_shared_features(bundle_path):
    clf = handsdk.GestureClassifier(bundle_path, "commands")
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 100, (21, 2))
    cats = clf.classify(kp, "Right")
    assert [c.name for c in cats] != [] and {c.name for c in cats} == {"none", "open_palm", "fist"}
    assert cats[0].score >= cats[-1].score
    assert abs(sum(c.score for c in cats) - 1.0) < 1e-4
    # the features are translation and scale invariant, and a left hand is the mirror of a right hand
    same = clf.scores(kp * 3 + 17, "Right")
    np.testing.assert_allclose(same, clf.scores(kp, "Right"), atol=1e-5)
    mirrored = kp.copy()
    mirrored[:, 0] = 200 - mirrored[:, 0]
    np.testing.assert_allclose(clf.scores(mirrored, "Left"), clf.scores(kp, "Right"), atol=1e-5)
    with pytest.raises(ValueError, match="unknown gesture set"):
        handsdk.GestureClassifier(bundle_path, "nope")


def test_recognizer_image_mode_end_to_end(bundle_path):
    frame = red_stroke_frame(240, 320, green_at=(140, 110))
    with GestureRecognizer.create(bundle_path) as rec:
        r = rec.recognize(frame)
    assert isinstance(r, handsdk.RecognitionResult)
    assert r.image_size == (320, 240) and r.timestamp_ms is None
    assert len(r.hands) == 1
    hand = r.hands[0]
    assert hand.keypoints.shape == (21, 3) and hand.keypoints_normalized.shape == (21, 3)
    np.testing.assert_allclose(hand.keypoints_normalized[:, 0], hand.keypoints[:, 0] / 320, rtol=1e-5)
    assert set(hand.gestures) == {"commands", "letters"}
    assert hand.gesture("letters").name in ("A", "B", "C", "D")
    assert hand.track_id is None
    for k in ("detect", "landmark", "gesture", "total"):
        assert r.timings_ms[k] >= 0
    assert r.timings_ms["total"] >= r.timings_ms["detect"]
    d = json.loads(json.dumps(r.to_dict()))
    assert len(d["hands"][0]["keypoints"]) == 21
    with pytest.raises(ValueError):
        hand.keypoints[0, 0] = 1.0  # results are frozen, arrays read-only


def test_results_are_frozen(bundle_path):
    with GestureRecognizer.create(bundle_path) as rec:
        r = rec.recognize(red_stroke_frame())
    with pytest.raises(Exception):
        r.hands = ()


@pytest.mark.parametrize("make", [
    lambda f: f,                                  # BGR uint8
    lambda f: f[:, :, ::-1].copy(),               # RGB with color_order RGB below
    lambda f: f[:, :, 2],                         # grayscale (red channel)
    lambda f: np.dstack([f, np.full(f.shape[:2], 255, np.uint8)]),  # BGRA
    lambda f: f.astype(np.float32) / 255.0,       # float in [0, 1]
    lambda f: f[:, :, :, None][:, :, 2],          # HxWx1
])
def test_input_formats(bundle_path, make):
    frame = red_stroke_frame()
    x = make(frame)
    order = "RGB" if x.ndim == 3 and x.shape[2] == 3 and not np.array_equal(x, frame) and x.dtype == np.uint8 else "BGR"
    with GestureRecognizer.create(bundle_path, color_order=order) as rec:
        r = rec.recognize(x)
    if x.ndim == 2 or (x.ndim == 3 and x.shape[2] == 1):
        assert len(r.hands) == 0  # grey has no red: nothing to find
    else:
        assert len(r.hands) == 1


@pytest.mark.parametrize("bad,msg", [
    (None, "None"),
    (np.zeros((0, 10, 3), np.uint8), "empty"),
    (np.zeros((10, 0), np.uint8), "empty"),
    (np.zeros((4, 4, 3), np.uint8), "too small"),
    (np.zeros((20, 20, 5), np.uint8), "not an image"),
    (np.zeros((2, 20, 20, 3), np.uint8), "not an image"),
    ("frame.jpg", "not an image"),
    (np.full((20, 20, 3), np.nan, np.float32), "NaN"),
])
def test_bad_frames_give_value_errors(bundle_path, bad, msg):
    with GestureRecognizer.create(bundle_path) as rec:
        with pytest.raises(ValueError, match=msg):
            rec.recognize(bad)
        assert len(rec.recognize(red_stroke_frame()).hands) == 1  # still works afterwards


def test_options_are_validated():
    with pytest.raises(ValueError, match="max_hands"):
        GestureRecognizerOptions(max_hands=0)
    with pytest.raises(ValueError, match="min_presence_score"):
        GestureRecognizerOptions(min_presence_score=1.5)
    with pytest.raises(ValueError, match="min_tracking_presence"):
        GestureRecognizerOptions(min_tracking_presence=-0.1)
    with pytest.raises(ValueError, match="running_mode"):
        GestureRecognizerOptions(running_mode="fast")
    with pytest.raises(ValueError, match="result_callback"):
        GestureRecognizerOptions(running_mode=RunningMode.LIVE_STREAM)
    with pytest.raises(ValueError, match="LIVE_STREAM"):
        GestureRecognizerOptions(result_callback=lambda *a: None)
    with pytest.raises(ValueError, match="color_order"):
        GestureRecognizerOptions(color_order="BRG")
    with pytest.raises(ValueError, match="backend"):
        GestureRecognizerOptions(backend="cuda")
    assert GestureRecognizerOptions(running_mode="video").running_mode is RunningMode.VIDEO


def test_tracking_presence_defaults_to_the_bundles_and_never_exceeds_the_new_hand_threshold(bundle_path):
    from handsdk.bundle import load_bundle

    th = load_bundle(bundle_path).thresholds
    with GestureRecognizer.create(bundle_path) as rec:  # the bundle names none: as min_presence_score
        assert "min_tracking_presence" not in th and rec.min_tracking_presence == rec.min_presence
    with GestureRecognizer.create(bundle_path, min_presence_score=0.9, min_tracking_presence=0.5) as rec:
        assert (rec.min_presence, rec.min_tracking_presence) == (0.9, 0.5)
        assert rec._tracker.min_tracking_presence == 0.5 and rec._tracker.min_presence == 0.9
    with GestureRecognizer.create(bundle_path, min_presence_score=0.6, min_tracking_presence=0.8) as rec:
        assert rec.min_tracking_presence == 0.6


def test_unknown_gesture_set_and_missing_bundle(bundle_path, tmp_path):
    with pytest.raises(ValueError, match="unknown gesture sets"):
        GestureRecognizer.create(bundle_path, gesture_sets=("nope",))
    with pytest.raises(FileNotFoundError):
        GestureRecognizer.create(tmp_path / "missing.handsdk")


def test_video_mode_tracks_and_checks_timestamps(bundle_path):
    with GestureRecognizer.create(bundle_path, running_mode=RunningMode.VIDEO, redetect_interval=5) as rec:
        with pytest.raises(ValueError, match="timestamp"):
            rec.recognize(red_stroke_frame())
        ids, detect_ms = [], []
        for i in range(8):
            r = rec.recognize(red_stroke_frame(green_at=(140, 110)), timestamp_ms=i * 33)
            assert len(r.hands) == 1
            ids.append(r.hands[0].track_id)
            detect_ms.append(r.timings_ms["detect"])
        assert len(set(ids)) == 1 and ids[0] is not None
        # the detector ran on the first frame only (one hand == max tracked when max_hands=... 2 -> re-detects
        # every 5 frames to look for a second hand)
        assert detect_ms[0] > 0 and detect_ms[1] == 0 and detect_ms[2] == 0
        with pytest.raises(ValueError, match="increase"):
            rec.recognize(red_stroke_frame(), timestamp_ms=10)
        rec.reset()
        assert len(rec.recognize(red_stroke_frame(), timestamp_ms=10).hands) == 1


def test_live_stream_delivers_through_the_callback_and_drops_stale_frames(bundle_path):
    got = []
    done = threading.Event()

    def cb(result, frame, ts):
        got.append(ts)
        time.sleep(0.02)
        if ts == 99:
            done.set()

    with GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=cb) as rec:
        for i in range(100):
            assert rec.recognize(red_stroke_frame(), timestamp_ms=i) is None
        assert done.wait(10)
        dropped = rec.dropped_frames
    assert got == sorted(got) and got[-1] == 99
    assert dropped > 0 and len(got) + dropped == 100


def test_closed_recognizer_refuses_work(bundle_path):
    rec = GestureRecognizer.create(bundle_path)
    rec.close()
    rec.close()
    with pytest.raises(RuntimeError, match="closed"):
        rec.recognize(red_stroke_frame())


def test_stream_over_a_folder_an_iterable_and_a_video(bundle_path, tmp_path):
    import cv2

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"{i}.png"), red_stroke_frame())
    (tmp_path / "notes.txt").write_text("not an image")
    with GestureRecognizer.create(bundle_path) as rec:
        out = list(rec.stream(tmp_path))
        assert len(out) == 3 and all(len(r.hands) == 1 for _, r in out)
        out = list(rec.stream([red_stroke_frame(), np.zeros((64, 64, 3), np.uint8)]))
        assert [len(r.hands) for _, r in out] == [1, 0]
    video = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for i in range(5):
        w.write(red_stroke_frame())
    w.release()
    with GestureRecognizer.create(bundle_path, running_mode="video") as rec:
        out = list(rec.stream(str(video)))
    assert len(out) == 5
    assert [r.timestamp_ms for _, r in out] == sorted({r.timestamp_ms for _, r in out})
    assert len({r.hands[0].track_id for _, r in out if r.hands}) == 1


def test_stream_errors_are_clear(bundle_path, tmp_path):
    from handsdk.sources import SourceError

    with GestureRecognizer.create(bundle_path) as rec:
        with pytest.raises(SourceError, match="not found"):
            list(rec.stream(tmp_path / "nope.mp4"))
        empty = tmp_path / "empty"
        empty.mkdir()
        with pytest.raises(SourceError, match="no images"):
            list(rec.stream(empty))
        bad = tmp_path / "bad.mp4"
        bad.write_bytes(b"\x00" * 100)
        with pytest.raises(SourceError):
            list(rec.stream(str(bad)))
        with pytest.raises(SourceError, match="camera 57"):
            list(rec.stream(57))
